// Every page: the service worker, the line that says what waits to be sent ("1 audit and 1
// photo to send"; once it has all gone, "Everything sent", once), the photos the server did
// not accept (each with its item and the reason, to take again or let go, after a
// confirmation), the warning on signing out with audits still on the phone, and keeping
// the audit pages of the chosen location (and home itself) ready for a start with no signal
// (forgotten on the sign-in page: the next person must never get the previous one's pages
// from the cache).
import { flush, letPhotoGo, pending, retakePhoto } from "./outbox.js";
import { downscale } from "./photo.js";
import { counted, inPageLanguage, waitingWords } from "./queue-words.js";
import { auditRefusal, refusalSentence } from "./refusals.js";
import { userId } from "./store.js";

const PAGES_CACHE = "momento-pages";
const SENT_SHOWN_MS = 10000;
const status = document.getElementById("queue-status");
const sent = document.getElementById("queue-sent");
// Set while something waits to be sent (for this person, in any tab, across reloads), so
// that the moment it has all gone by itself is confirmed once, on whichever page sees it. A
// refusal ends it unconfirmed: the person acts on it, and sees what comes of it.
const WAITED = `momento:queue-waited:${userId}`;
let sentTimer;

function confirmAllSent(state) {
  const waiting = state.audits + state.photos;
  try {
    if (state.refusedAudits.length || state.refusedPhotos.length) return localStorage.removeItem(WAITED);
    if (waiting) return localStorage.setItem(WAITED, "1");
    if (!localStorage.getItem(WAITED)) return;
    localStorage.removeItem(WAITED);
  } catch {  // no storage (a private window): no confirmation either
    return;
  }
  if (!sent) return;
  sent.hidden = false;
  clearTimeout(sentTimer);
  sentTimer = setTimeout(() => { sent.hidden = true; }, SENT_SHOWN_MS);
}

function showQueue(state) {
  if (!status) return;
  const refused = state.refusedAudits;
  const parts = [waitingWords(state)].filter(Boolean);
  if (refused.length) parts.push(`${counted("refused", refused.length)} ${auditRefusal(refused[0])}`);
  status.textContent = parts.join(" · ");
  status.classList.toggle("failed", refused.length > 0);
  status.hidden = parts.length === 0;
  if (parts.length && sent) sent.hidden = true;
  confirmAllSent(state);
  showRefusedPhotos(state.refusedPhotos);
}

let announced = false;
document.addEventListener("momento:queue", ({ detail }) => {
  announced = true;
  showQueue(detail);
});

const refusedPanel = document.getElementById("refused-photos");
const shownPhotos = new Map(); // photo id -> its row, and the object URL of its picture

/** Why the server refused a photo, in the page's language. */
function reasonFor(refusal) {
  const texts = refusedPanel.dataset;
  if (refusal.status === 422 && refusal.fields?.length && !refusal.fields.includes("photo")) {
    return texts.reasonUnusableDetails;
  }
  return refusalSentence(refusal, texts);
}

const letGoWarning = document.getElementById("let-go-warning");

/** Ask before a refused photo is deleted from the phone: it is evidence, and it goes for good. */
function askToLetGo(photo, description) {
  if (!letGoWarning?.showModal) {
    if (window.confirm(letGoWarning?.querySelector("#let-go-title")?.textContent ?? "")) letPhotoGo(photo.id);
    return;
  }
  letGoWarning.dataset.photo = photo.id;
  letGoWarning.querySelector("#let-go-photo").textContent = description;
  letGoWarning.showModal();
}
letGoWarning?.addEventListener("close", () => {
  if (letGoWarning.returnValue === "let-go") letPhotoGo(letGoWarning.dataset.photo);
  letGoWarning.returnValue = "";
});

function refusedPhotoRow(photo) {
  const row = refusedPanel.querySelector("template").content.firstElementChild.cloneNode(true);
  const url = URL.createObjectURL(photo.blob);
  row.querySelector("img").src = url;
  const taken = photo.takenAt ? new Date(photo.takenAt).toLocaleString(document.documentElement.lang) : "";
  const item = refusedPanel.dataset.for.replace("%s", inPageLanguage(photo.itemLabel) ?? photo.itemId);
  const description = [item, inPageLanguage(photo.checklistTitle), photo.locationName, taken].filter(Boolean).join(" · ");
  row.querySelector(".refused-photo-item").textContent = description;
  row.querySelector(".refused-photo-reason").textContent = reasonFor(photo.refused);
  const input = row.querySelector("input[type=file]");
  input.id = `retake-${photo.id}`;
  row.querySelector("label").htmlFor = input.id;
  input.addEventListener("change", async () => {
    if (!input.files[0]) return;
    row.querySelector(".refused-photo-reason").textContent = refusedPanel.dataset.sending;
    await retakePhoto(photo.id, await downscale(input.files[0]));
  });
  row.querySelector("[data-let-go]").addEventListener("click", () => askToLetGo(photo, description));
  return { row, url };
}

/** The rows of the refused photos: a row stays as it is while its photo is refused (the
 * person may be taking it again from there); rows come and go with their photos. */
function showRefusedPhotos(photos) {
  if (!refusedPanel) return;
  const refused = new Set(photos.map((photo) => photo.id));
  for (const [id, { row, url }] of shownPhotos) {
    if (refused.has(id)) continue;
    row.remove();
    URL.revokeObjectURL(url);
    shownPhotos.delete(id);
  }
  for (const photo of photos.filter((p) => !shownPhotos.has(p.id))) {
    const shown = refusedPhotoRow(photo);
    shownPhotos.set(photo.id, shown);
    refusedPanel.querySelector("ul").append(shown.row);
  }
  refusedPanel.hidden = shownPhotos.size === 0;
}

const signOut = document.querySelector("form.logout");
const warning = document.getElementById("sign-out-warning");

signOut?.addEventListener("submit", async (event) => {
  event.preventDefault();
  const waiting = (await pending().catch(() => ({ all: [] }))).all;
  const audits = waiting.filter((entry) => entry.body).length;
  const [count, kind] = audits ? [audits, "audits"] : [waiting.length, "photos"];
  if (!count || !warning?.showModal) return signOut.submit();
  const text = warning.dataset[`${kind}${count === 1 ? "One" : "Many"}`];
  warning.querySelector("#sign-out-waiting").textContent = text.replace("%d", count);
  warning.showModal();
});
warning?.addEventListener("close", () => {
  if (warning.returnValue === "sign-out") signOut.submit();
  warning.returnValue = "";
});

if ("serviceWorker" in navigator) {
  navigator.serviceWorker.register("/sw.js", { scope: "/" }).catch(() => {});
}

const signIn = document.querySelector("form[data-signed-out]");
if (signIn && "caches" in window) {
  // The previous person's pages are forgotten, and the sign-in waits for that: the next
  // home page fills the cache again, which a late deletion would undo.
  const forgotten = caches.delete(PAGES_CACHE).catch(() => {});
  signIn.addEventListener("submit", async (event) => {
    event.preventDefault();
    await forgotten;
    signIn.submit();
  }, { once: true });
} else if ("caches" in window && navigator.onLine) {
  const links = [...document.querySelectorAll("a[data-offline]")].map((a) => a.href);
  if (links.length) caches.open(PAGES_CACHE).then((cache) => cache.addAll(links)).catch(() => {});
  // Home itself, which says what waits on the phone. The service worker keeps a copy of the
  // pages it serves, but not of one it did not see (the first after signing in: the answer
  // to the sign-in's POST): that one is fetched once.
  if (document.getElementById("on-this-phone")) {
    caches.open(PAGES_CACHE).then(async (cache) => {
      if (!(await cache.match(location.href, { ignoreVary: true }))) await cache.add(location.href);
    }).catch(() => {});
  }
}

if (status) {
  // At once, before any answer from the network (unless the outbox has spoken already).
  pending().then((state) => announced || showQueue(state)).catch(() => {});
  flush(true);
}
