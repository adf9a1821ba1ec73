// One audit being filled in: every answer is saved on the phone as it is given (a reload
// or a closed tab loses nothing), then the audit goes to the outbox and the summary shows.
import * as store from "./store.js";
import { enqueueAudit, flush, newId } from "./outbox.js";
import { downscale } from "./photo.js";
import { auditRefusal } from "./refusals.js";

const form = document.getElementById("audit-form");
const summary = document.getElementById("summary");
const items = [...form.querySelectorAll("[data-item]")];
const itemById = new Map(items.map((el) => [el.dataset.item, el]));
const draftKey = `${form.dataset.checklist}:${form.dataset.location}`;

// How each kind of widget holds an answer. The page says which kind an item has
// (data-widget) and which of its values fail (data-fails), from the server's table of
// item types (services/item_types.py): no rule of an item type is repeated here.
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
  },
  number: {
    read(el) {
      const raw = el.querySelector("input[type=number]").value.trim();
      return raw === "" ? undefined : Number(raw);
    },
    write(el, value) { el.querySelector("input[type=number]").value = String(value); },
    fails: (el, value) => JSON.parse(el.dataset.fails).some(
      ([above, upTo]) => (above === null || value > above) && (upTo === null || value <= upTo)),
  },
  text: {
    read: (el) => el.querySelector("textarea").value.trim() || undefined,
    write(el, value) { el.querySelector("textarea").value = value; },
    fails: () => false,
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

async function showSent(audit) {
  const score = audit.score;
  const field = (name) => summary.querySelector(`[data-field="${name}"]`);
  field("percent").textContent = score.percent === null ? "—" : `${Math.round(score.percent)} %`;
  field("critical").hidden = !score.critical_failed;
  listInto(field("failed"), score.failed_items);
  field("failed").hidden = score.failed_items.length === 0;
  field("none-failed").hidden = score.failed_items.length > 0;
  // A photo the server refused is missing too (the list of refused photos says why).
  const photos = (await store.all("photos")).filter((p) => p.auditId === audit.id && !p.refused);
  const missing = score.failed_items.filter((itemId) => "photo" in (itemById.get(itemId)?.dataset ?? {})
    && !photos.some((p) => p.itemId === itemId));
  field("photos-missing").hidden = missing.length === 0;
  listInto(field("photos-missing").querySelector("ul"), missing);
  summary.dataset.state = "sent";
}

function showSummary(state, message) {
  for (const el of [form, ...document.querySelectorAll("[data-before-summary]")]) el.hidden = true;
  summary.hidden = false;
  summary.dataset.state = state;
  if (message) summary.querySelector('[data-field="refusal"]').textContent = message;
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
  const failing = new Set(items.filter((el) => applies(el) && isFailed(el)).map((el) => el.dataset.item));
  for (const photo of (await store.all("photos")).filter((p) => p.auditId === draft.id && !failing.has(p.itemId))) {
    await store.remove("photos", photo.id);
  }
  await store.remove("drafts", draftKey);
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
      if (event.target.files[0]) takePhoto(el, event.target.files[0]);
    });
  }
  form.addEventListener("change", () => { updateConditions(); save(); });
  form.addEventListener("input", save);
  form.addEventListener("submit", submit);
  const refused = await refusedHere();
  if (refused) showSummary("refused", auditRefusal(refused.refused));
  return draft;
}

export function setStage(stage) {
  draft.stage = stage;
  save();
}
