// One audit being filled in: every answer is saved on the phone as it is given (a reload
// or a closed tab loses nothing), then the audit goes to the outbox and the summary shows.
import * as store from "./store.js";
import { enqueueAudit, flush, newId } from "./outbox.js";
import { downscale } from "./photo.js";
import { auditRefusal } from "./refusals.js";
import { inPageLanguage } from "./queue-words.js";

const form = document.getElementById("audit-form");
const summary = document.getElementById("summary");
const items = [...form.querySelectorAll("[data-item]")];
const itemById = new Map(items.map((el) => [el.dataset.item, el]));
const draftKey = `${form.dataset.checklist}:${form.dataset.location}`;

// How each kind of widget holds an answer. The page says which kind an item has
// (data-widget), which of its values fail (data-fails), from the server's table of
// item types (services/item_types.py), and what each answer earns (data-max, data-points,
// data-bands), from its scoring (services/scoring.points_table): no rule of an item type
// or of scoring is repeated here.
const widgets = {
  choices: {
    read(el) {
      const radio = el.querySelector("input[type=radio]:checked");
      return radio ? JSON.parse(radio.dataset.value) : undefined;
    },
    write(el, value) {
      const radio = [...el.querySelectorAll("input[type=radio]")].find((r) => r.dataset.value === JSON.stringify(value));
      if (radio) radio.checked = true;
    },
    fails: (el) => el.querySelector("input[type=radio]:checked").hasAttribute("data-fails"),
    points(el) {
      const points = el.querySelector("input[type=radio]:checked").dataset.points;
      return points === undefined ? undefined : Number(points);  // N/A earns none and counts for nothing
    },
  },
  number: {
    read(el) {
      const raw = el.querySelector("input[type=number]").value.trim();
      return raw === "" ? undefined : Number(raw);
    },
    write(el, value) { el.querySelector("input[type=number]").value = String(value); },
    fails: (el, value) => JSON.parse(el.dataset.fails).some(
      ([above, upTo]) => (above === null || value > above) && (upTo === null || value <= upTo)),
    points: (el, value) => JSON.parse(el.dataset.bands).find(
      ([above, upTo]) => (above === null || value > above) && (upTo === null || value <= upTo))?.[2],
  },
  text: {
    read: (el) => el.querySelector("textarea").value.trim() || undefined,
    write(el, value) { el.querySelector("textarea").value = value; },
    fails: () => false,
    points: () => undefined,
  },
};
const widgetOf = (el) => widgets[el.dataset.widget];

/** The answer of an item as the API wants it, or undefined when there is none. */
export function valueOf(itemId) {
  const el = itemById.get(itemId);
  return widgetOf(el).read(el);
}

const applies = (el) => !el.hidden;

function isFailed(el) {
  const value = valueOf(el.dataset.item);
  return value !== undefined && widgetOf(el).fails(el, value);
}

/** The score of the answers given so far, as the server will score them: the points of
 * the answered items that apply (whole numbers on the checklist's scale) over their
 * weights, rounded half up to one decimal like scoring.percent_of; null if none counts. */
function scoreSoFar() {
  let points = 0;
  let max = 0;
  for (const el of items.filter((e) => applies(e) && "max" in e.dataset)) {
    const value = valueOf(el.dataset.item);
    const earned = value === undefined ? undefined : widgetOf(el).points(el, value);
    if (earned === undefined) continue;
    points += earned;
    max += Number(el.dataset.max);
  }
  return max ? Math.floor((2000 * points + max) / (2 * max)) / 10 : null;
}

const percentText = (percent) => (percent === null ? "—" : `${Math.round(percent)} %`);

function updateConditions() {
  for (const el of items) {
    if (!el.dataset.appliesItem) continue;
    const other = itemById.get(el.dataset.appliesItem);
    el.hidden = !(other && applies(other) && valueOf(other.dataset.item) === JSON.parse(el.dataset.appliesEquals));
  }
  for (const el of items.filter((e) => "photo" in e.dataset)) {
    el.querySelector(".photo").hidden = !(applies(el) && isFailed(el));
  }
  for (const guidance of form.querySelectorAll(".guidance")) showGuidance(guidance.closest("[data-item]"), guidance);
}

/** What good looks like shows under an item while it fails, and describes its controls meanwhile. */
function showGuidance(el, guidance) {
  guidance.hidden = !(applies(el) && isFailed(el));
  for (const control of controlsOf(el)) {
    const ids = new Set(control.getAttribute("aria-describedby")?.split(" ").filter(Boolean));
    ids[guidance.hidden ? "delete" : "add"](guidance.id);
    if (ids.size) control.setAttribute("aria-describedby", [...ids].join(" "));
    else control.removeAttribute("aria-describedby");
  }
}

let draft;
let saving;

// A draft keeps the controls as the person left them (a radio's value, a field's text),
// whatever their widget, and puts them back the same way.
const controlsOf = (el) => el.querySelectorAll("input[type=radio], input[type=number], textarea");
const rawValue = (el) => [...controlsOf(el)].find((c) => c.type !== "radio" || c.checked)?.value ?? "";
const rawValues = () => Object.fromEntries(items.map((el) => [el.dataset.item, rawValue(el)]));

function save() {
  clearTimeout(saving);
  saving = setTimeout(() => {
    draft.raw = rawValues();
    store.put("drafts", draftKey, draft);
  }, 150);
}

/** Keep `extra` (e.g. the stopwatch) with the draft. */
export function saveExtra(key, value) {
  draft.extra[key] = value;
  save();
}

/** Fill in an item from a control (stopwatch buttons); the person can still edit it. */
export function setValue(itemId, value) {
  const el = itemById.get(itemId);
  if (!el) return;
  widgetOf(el).write(el, value);
  updateConditions();
  save();
  updateReview();
}

function restore(raw) {
  for (const [itemId, value] of Object.entries(raw ?? {})) {
    const el = itemById.get(itemId);
    if (!el || value === "") continue;
    for (const control of controlsOf(el)) {
      if (control.type === "radio") control.checked = control.value === value;
      else control.value = value;
    }
  }
}

async function photoFor(itemId) {
  return (await store.all("photos")).find((p) => p.auditId === draft.id && p.itemId === itemId);
}

// The photo taken, as a thumbnail under its camera button; its object URL is let go
// as soon as another photo (or none) takes its place.
const previews = new Map();

async function showPhotoStatus(el) {
  const status = el.querySelector(".photo-status");
  const photo = await photoFor(el.dataset.item);
  status.textContent = photo ? form.dataset.photoSaved : "";
  let preview = el.querySelector(".photo-preview");
  if (previews.has(el)) URL.revokeObjectURL(previews.get(el));
  previews.delete(el);
  if (!photo) {
    preview?.remove();
    return;
  }
  if (!preview) {
    preview = Object.assign(document.createElement("img"), { className: "photo-preview", alt: form.dataset.photoPreview });
    status.before(preview);
  }
  previews.set(el, URL.createObjectURL(photo.blob));
  preview.src = previews.get(el);
}

async function takePhoto(el, file) {
  const status = el.querySelector(".photo-status");
  status.textContent = form.dataset.photoWorking;
  const previous = await photoFor(el.dataset.item);
  if (previous) await store.remove("photos", previous.id);
  const id = newId();
  const blob = await downscale(file);
  // What it shows (in every language of the checklist), should the server refuse it later.
  const context = { itemLabel: JSON.parse(el.querySelector(".photo").dataset.label), takenAt: new Date().toISOString(),
    checklistTitle: JSON.parse(form.dataset.title), locationName: form.dataset.locationName };
  await store.put("photos", id, { id, auditId: draft.id, itemId: el.dataset.item, blob, ready: false, ...context });
  await showPhotoStatus(el);
}

/** Of the failed `itemIds`, those that ask for a photo and have none on the phone for the
 * audit `auditId` (a photo the server refused is missing too: the list of refused photos
 * says why). */
async function photosMissing(itemIds, auditId) {
  const photos = (await store.all("photos")).filter((p) => p.auditId === auditId && !p.refused);
  return itemIds.filter((itemId) => "photo" in (itemById.get(itemId)?.dataset ?? {})
    && !photos.some((p) => p.itemId === itemId));
}

const review = document.getElementById("review");
const backToReview = document.getElementById("back-to-review");

function reviewList(name, itemIds) {
  const block = review.querySelector(`[data-list="${name}"]`);
  block.hidden = itemIds.length === 0;
  block.querySelector("ul").replaceChildren(...itemIds.map((itemId) => {
    const link = Object.assign(document.createElement("a"), { href: `#item-${itemId}`, textContent: labelOf(itemId) });
    link.dataset.goTo = itemId;
    const entry = document.createElement("li");
    entry.append(link);
    return entry;
  }));
}

/** The review before sending: the score so far, what is still to answer, what failed and
 * which of those still want a photo (read from the phone's photos, so it comes last); each
 * entry a link back to its item. */
let reviewed = 0;
async function updateReview() {
  const run = ++reviewed;
  const failed = items.filter((el) => applies(el) && isFailed(el)).map((el) => el.dataset.item);
  const unanswered = unfinishedItems().map((el) => el.dataset.item);
  const percent = scoreSoFar();
  const field = (name) => review.querySelector(`[data-review="${name}"]`);
  field("percent").textContent = percentText(percent);
  field("percent").dataset.percent = percent ?? "";
  field("critical").hidden = !failed.some((itemId) => "critical" in itemById.get(itemId).dataset);
  reviewList("unanswered", unanswered);
  reviewList("failed", failed);
  field("nothing-failed").hidden = failed.length > 0 || percent === null;
  field("hint").hidden = failed.length === 0 && unanswered.length === 0;
  const missing = await photosMissing(failed, draft.id);
  if (run === reviewed) reviewList("photos", missing);  // unless a later change was reviewed since
}

/** Back to an item from the review: it comes into view with its answer focused, and a
 * button under it returns to the review. */
function goTo(itemId) {
  const el = itemById.get(itemId);
  el.append(backToReview);
  backToReview.hidden = false;
  el.scrollIntoView({ block: "start" });
  const control = el.querySelector("input[type=radio]:checked") ?? el.querySelector("input:not([type=file]), textarea");
  control.focus({ preventScroll: true });
}

review.addEventListener("click", (event) => {
  const link = event.target.closest("a[data-go-to]");
  if (!link) return;
  event.preventDefault();
  goTo(link.dataset.goTo);
});
backToReview.addEventListener("click", () => {
  backToReview.hidden = true;
  review.append(backToReview);
  review.scrollIntoView({ block: "start" });
  review.focus({ preventScroll: true });
});

/** Items that need an answer, or whose number is out of range, before the audit can go. */
function unfinishedItems() {
  return items.filter((el) => applies(el) && (
    ("required" in el.dataset && valueOf(el.dataset.item) === undefined)
    || [...el.querySelectorAll("input[type=number]")].some((field) => !field.checkValidity())));
}

function submission() {
  const answers = {};
  for (const el of items.filter(applies)) {
    const value = valueOf(el.dataset.item);
    if (value !== undefined) answers[el.dataset.item] = { value };
  }
  return {
    id: draft.id,
    location_id: Number(form.dataset.location),
    checklist_id: form.dataset.checklist,
    checklist_version: form.dataset.version,
    started_at: draft.startedAt,
    submitted_at: new Date().toISOString(),
    answers,
    notes: "",
  };
}

const labelOf = (itemId) => itemById.get(itemId)?.querySelector("legend, label")?.textContent.trim() ?? itemId;

function listInto(list, itemIds) {
  list.replaceChildren(...itemIds.map((itemId) => Object.assign(document.createElement("li"), { textContent: labelOf(itemId) })));
}

const lang = document.documentElement.lang;
/** A moment as the location's clock has it, in the page's language. */
const onLocationClock = (iso, parts) => new Intl.DateTimeFormat(lang, { timeZone: form.dataset.timezone, ...parts })
  .format(new Date(iso));
const DAY = { day: "numeric", month: "short" };
const TIME = { hour: "2-digit", minute: "2-digit" };
const field = (name) => summary.querySelector(`[data-field="${name}"]`);

/** What failed, each with its item's guidance (what good looks like) when it has one. */
function listFailed(itemIds) {
  field("failed").replaceChildren(...itemIds.map((itemId) => {
    const entry = document.createElement("li");
    entry.append(Object.assign(document.createElement("strong"), { textContent: labelOf(itemId) }));
    const guidance = itemById.get(itemId)?.querySelector(".guidance")?.textContent.trim();
    if (guidance) entry.append(Object.assign(document.createElement("p"), { className: "guidance", textContent: guidance }));
    return entry;
  }));
}

/** The score, what failed and the photos still missing: read from the page's answers while
 * the audit waits on the phone, then from the server's answer once it is sent. */
async function showResult(auditId, { percent, critical, failedItems }) {
  field("percent").textContent = percentText(percent);
  field("percent").dataset.percent = percent ?? "";
  field("critical").hidden = !critical;
  listFailed(failedItems);
  field("failed").hidden = failedItems.length === 0;
  field("none-failed").hidden = failedItems.length > 0;
  const missing = await photosMissing(failedItems, auditId);
  field("photos-missing").hidden = missing.length === 0;
  listInto(field("photos-missing").querySelector("ul"), missing);
}

/** The score beside the last audit of this checklist here, with up or down. */
function comparison(audit) {
  const compare = field("compare");
  const previous = audit.previous;
  compare.className = "summary-compare";
  if (!previous) return summary.dataset.first;
  const date = onLocationClock(previous.submitted_at, DAY);
  const [now, before] = [audit.score.percent, previous.score_percent];
  if (now === null || before === null) return summary.dataset.last.replace("%s", date);
  if (Math.round(now) === Math.round(before)) return summary.dataset.same.replace("%s", date);
  const direction = now > before ? "up" : "down";
  compare.classList.add(direction);
  return summary.dataset[direction].replace("%p", percentText(before)).replace("%s", date);
}

function actionEntry(action) {
  const entry = document.createElement("li");
  entry.append(Object.assign(document.createElement("a"), { href: action.url, textContent: inPageLanguage(action.title) }));
  const meta = summary.dataset.ownerDue.replace("%o", action.owner.name || action.owner.email)
    .replace("%s", onLocationClock(action.due_at, { weekday: "short", ...DAY, ...TIME }));
  entry.append(Object.assign(document.createElement("span"), { className: "action-meta", textContent: meta }));
  if (action.link === "linked") {
    entry.append(Object.assign(document.createElement("span"), { className: "action-meta", textContent: summary.dataset.linked }));
  }
  return entry;
}

async function showSent(audit) {
  field("sent").textContent = summary.dataset.sent.replace("%s", onLocationClock(audit.received_at, TIME));
  field("compare").textContent = comparison(audit);
  field("actions").hidden = audit.actions.length === 0;
  field("actions").querySelector("ul").replaceChildren(...audit.actions.map(actionEntry));
  field("audit-link").href = audit.url;
  await showResult(audit.id, { percent: audit.score.percent, critical: audit.score.critical_failed,
    failedItems: audit.score.failed_items });
  summary.dataset.state = "sent";
}

function showSummary(state, message) {
  for (const el of [form, ...document.querySelectorAll("[data-before-summary]")]) el.hidden = true;
  summary.hidden = false;
  summary.dataset.state = state;
  if (message) field("refusal").textContent = message;
  summary.focus();
}

async function submit(event) {
  event.preventDefault();
  const error = document.getElementById("form-error");
  for (const el of items) el.classList.toggle("missing", false);
  const missing = unfinishedItems();
  if (missing.length) {
    for (const el of missing) el.classList.add("missing");
    error.textContent = `${form.dataset.missingMessage} ${missing.map((el) => labelOf(el.dataset.item)).join(" · ")}`;
    error.hidden = false;
    missing[0].querySelector("input, textarea").focus();
    return;
  }
  error.hidden = true;
  const body = submission();
  clearTimeout(saving);
  const failed = items.filter((el) => applies(el) && isFailed(el));
  const failedItems = failed.map((el) => el.dataset.item);
  for (const photo of (await store.all("photos")).filter((p) => p.auditId === draft.id && !failedItems.includes(p.itemId))) {
    await store.remove("photos", photo.id);
  }
  await store.remove("drafts", draftKey);
  await showResult(body.id, { percent: scoreSoFar(), critical: failed.some((el) => "critical" in el.dataset), failedItems });
  showSummary("queued");
  sessionStorage.setItem("momento:shown-audit", body.id);
  await enqueueAudit(form.dataset.api, body);
}

const refusedHere = async () => (await store.all("outbox")).find((entry) => entry.refused
  && entry.body.checklist_id === form.dataset.checklist && entry.body.location_id === Number(form.dataset.location));

/** Take a refused audit back into the form, under a new id, to be corrected and sent again. */
async function correctRefused() {
  const entry = await refusedHere();
  if (!entry) return;
  const old = entry.body;
  form.reset();
  for (const [itemId, { value }] of Object.entries(old.answers)) {
    const el = itemById.get(itemId);
    if (el) widgetOf(el).write(el, value);
  }
  draft = { id: newId(), startedAt: old.started_at, stage: "checklist", raw: rawValues(), extra: {} };
  for (const photo of (await store.all("photos")).filter((p) => p.auditId === old.id)) {
    await store.put("photos", photo.id, { ...photo, auditId: draft.id, ready: false, attempts: 0 });
  }
  await store.put("drafts", draftKey, draft);
  await store.remove("outbox", old.id);
  updateConditions();
  updateReview();
  summary.hidden = true;
  form.hidden = false;
  document.dispatchEvent(new CustomEvent("momento:correcting"));
  form.querySelector("input, textarea").focus();
  flush();
}

summary.querySelector('[data-action="correct"]').addEventListener("click", correctRefused);

let sentAudit;
document.addEventListener("momento:audit-sent", (event) => {
  const { audit } = event.detail;
  if (audit.id === draft?.id) {
    sentAudit = audit;
    showSent(audit);
  }
});
document.addEventListener("momento:photo-refused", (event) => {
  if (event.detail.auditId === sentAudit?.id) showSent(sentAudit);
});
document.addEventListener("momento:audit-refused", (event) => {
  if (event.detail.id === draft?.id) showSummary("refused", auditRefusal(event.detail.refusal));
});

/** Open (or restore) the draft of this page's audit. Returns it; `draft.stage` says where it was. */
export async function openAudit() {
  draft = await store.get("drafts", draftKey).catch(() => undefined);
  if (!draft) {
    draft = { id: newId(), startedAt: new Date().toISOString(), stage: "start", raw: {}, extra: {} };
    await store.put("drafts", draftKey, draft);
  }
  restore(draft.raw);
  updateConditions();
  for (const el of items.filter((e) => "photo" in e.dataset)) {
    showPhotoStatus(el);
    el.querySelector("input[type=file]").addEventListener("change", (event) => {
      if (event.target.files[0]) takePhoto(el, event.target.files[0]).then(updateReview);
    });
  }
  form.addEventListener("change", () => { updateConditions(); save(); updateReview(); });
  form.addEventListener("input", () => { save(); updateReview(); });
  updateReview();
  form.addEventListener("submit", submit);
  const refused = await refusedHere();
  if (refused) showSummary("refused", auditRefusal(refused.refused));
  return draft;
}

export function setStage(stage) {
  draft.stage = stage;
  save();
}
