// Every page: the service worker, the "waiting to send" line, the photos the server did
// not accept (each with its item and the reason, to take again or let go), the warning on
// signing out with audits still on the phone, and keeping the audit pages of the chosen
// location ready for a start with no signal (forgotten on the sign-in page: the next
// person must never get the previous one's pages from the cache).
import { flush, letPhotoGo, pending, retakePhoto } from "./outbox.js";
import { downscale } from "./photo.js";

const PAGES_CACHE = "momento-pages";
const status = document.getElementById("queue-status");
const t = (key, n) => (status?.dataset[key] ?? "").replace("%d", n);

document.addEventListener("momento:queue", ({ detail }) => {
  if (!status) return;
  const waiting = detail.audits + detail.photos;
  const parts = [];
  if (waiting) parts.push(t(waiting === 1 ? "one" : "many", waiting));
  if (detail.reasons.length) parts.push(`${t("refused", detail.reasons.length)} ${detail.reasons[0]}`);
  status.textContent = parts.join(" · ");
  status.classList.toggle("failed", detail.reasons.length > 0);
  status.hidden = parts.length === 0;
  showRefusedPhotos(detail.refusedPhotos);
});

const refusedPanel = document.getElementById("refused-photos");
const shownPhotos = new Map(); // photo id -> object URL of its picture

const REASONS = { 403: "reasonForbidden", 404: "reasonNotFound", 409: "reasonTaken", 413: "reasonTooLarge",
  415: "reasonNotAnImage", 422: "reasonUnusable" };

/** Why the server refused a photo, in the page's language. */
function reasonFor(refusal) {
  const texts = refusedPanel.dataset;
  if (refusal.status === 422 && refusal.fields?.length && !refusal.fields.includes("photo")) {
    return texts.reasonUnusableDetails;
  }
  return texts[REASONS[refusal.status]] ?? texts.reasonOther.replace("%d", refusal.status ?? "?");
}

/** A checklist text ({"es": ..., "en": ...}, or one string) in the page's language. */
function inPageLanguage(text) {
  if (!text || typeof text === "string") return text;
  return text[document.documentElement.lang] ?? text.en ?? Object.values(text)[0];
}

function refusedPhotoRow(photo) {
  const row = refusedPanel.querySelector("template").content.firstElementChild.cloneNode(true);
  if (!shownPhotos.has(photo.id)) shownPhotos.set(photo.id, URL.createObjectURL(photo.blob));
  row.querySelector("img").src = shownPhotos.get(photo.id);
  const taken = photo.takenAt ? new Date(photo.takenAt).toLocaleString(document.documentElement.lang) : "";
  const item = refusedPanel.dataset.for.replace("%s", inPageLanguage(photo.itemLabel) ?? photo.itemId);
  row.querySelector(".refused-photo-item").textContent = [item, inPageLanguage(photo.checklistTitle),
    photo.locationName, taken].filter(Boolean).join(" · ");
  // Entries refused before reasons were kept by status held the server's message alone.
  const refusal = typeof photo.refused === "string" ? { message: photo.refused } : photo.refused;
  row.querySelector(".refused-photo-reason").textContent = reasonFor(refusal);
  const input = row.querySelector("input[type=file]");
  input.id = `retake-${photo.id}`;
  row.querySelector("label").htmlFor = input.id;
  input.addEventListener("change", async () => {
    if (!input.files[0]) return;
    row.querySelector(".refused-photo-reason").textContent = refusedPanel.dataset.sending;
    await retakePhoto(photo.id, await downscale(input.files[0]));
  });
  row.querySelector("[data-let-go]").addEventListener("click", () => letPhotoGo(photo.id));
  return row;
}

function showRefusedPhotos(photos) {
  if (!refusedPanel) return;
  for (const [id, url] of shownPhotos) {
    if (!photos.some((p) => p.id === id)) {
      URL.revokeObjectURL(url);
      shownPhotos.delete(id);
    }
  }
  refusedPanel.querySelector("ul").replaceChildren(...photos.map(refusedPhotoRow));
  refusedPanel.hidden = photos.length === 0;
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
}

if (status) flush(true);
