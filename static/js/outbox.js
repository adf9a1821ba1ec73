// What waits to be sent: audits (POST /api/v1/audits) and then their photos. Every
// entry keeps its client UUID, so a retry after a lost answer never makes a duplicate.
// Only the signed-in person's own queue is read (store.js), and every request names that
// person: the server refuses it under anyone else's session (a tab left open by someone
// who has signed out since).
//
// What each answer means (verdict): 2xx sent; an answer that the same request will always
// get again (400, 403, 404, 405, 409, 410, 413, 415, 422) refuses it for good: it stays
// on the phone, with the answer (its status, the server's message and fields; refusals.js
// words it for the person), until the person corrects it (an audit), takes it again or
// lets it go (a photo); anything else (no network, 401 signed out, a stale CSRF token,
// 408, 429, 5xx) is tried again later, with growing pauses, never before the server's
// Retry-After.
import * as store from "./store.js";

const FIRST_DELAY = 2000;
const MAX_DELAY = 5 * 60 * 1000;
const MAX_RETRY_AFTER = 60 * 60 * 1000;
const FINAL = new Set([400, 403, 404, 405, 409, 410, 413, 415, 422]);
let timer = null;
let flushing = null;

const csrfToken = () => document.querySelector('meta[name="csrf-token"]')?.content ?? "";
const announce = (name, detail) => document.dispatchEvent(new CustomEvent(name, { detail }));

export function newId() {
  if (crypto.randomUUID) return crypto.randomUUID();
  const b = crypto.getRandomValues(new Uint8Array(16));
  b[6] = (b[6] & 0x0f) | 0x40;
  b[8] = (b[8] & 0x3f) | 0x80;
  const hex = [...b].map((x) => x.toString(16).padStart(2, "0")).join("");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/** Milliseconds the server asks us to wait (Retry-After: seconds or an HTTP date), or 0. */
function retryAfter(response) {
  const value = response?.headers.get("Retry-After")?.trim();
  if (!value) return 0;
  const ms = /^\d+$/.test(value) ? Number(value) * 1000 : Date.parse(value) - Date.now();
  return Number.isFinite(ms) ? Math.min(MAX_RETRY_AFTER, Math.max(0, ms)) : 0;
}

function later(entry, reason, response) {
  entry.attempts = (entry.attempts ?? 0) + 1;
  const backoff = Math.min(MAX_DELAY, FIRST_DELAY * 2 ** (entry.attempts - 1)) * (0.75 + Math.random() / 2);
  entry.nextAttemptAt = Date.now() + Math.max(backoff, retryAfter(response));
  entry.lastProblem = reason;
  return entry;
}

async function errorOf(response) {
  try {
    const { error } = await response.json();
    const fields = Object.entries(error?.fields ?? {}).map(([k, v]) => `${k}: ${[v].flat().join(" ")}`);
    return { code: error?.code ?? "", message: [error?.message, ...fields].filter(Boolean).join(" "),
             fields: Object.keys(error?.fields ?? {}) };
  } catch {  // not our answer (a proxy's page, say): its status is all we know
    return { code: "", message: "", fields: [] };
  }
}

/** "sent", "refused" (for good, with its reason) or "later" (with why) for an answer. */
async function verdict(response) {
  if (response.ok) return { outcome: "sent" };
  const error = await errorOf(response);
  if (FINAL.has(response.status) && error.code !== "csrf_failed") {
    return { outcome: "refused", refusal: { status: response.status, ...error } };
  }
  const why = response.status === 401 ? "signed-out" : error.code === "csrf_failed" ? "stale-page" : "server";
  return { outcome: "later", why };
}

async function send(url, init) {
  init.headers = { ...init.headers, "X-CSRFToken": csrfToken(), "X-Momento-User": store.userId };
  return fetch(url, { ...init, credentials: "same-origin" });
}

async function sendAudit(entry) {
  let response;
  try {
    response = await send(entry.url, {
      method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(entry.body),
    });
  } catch {
    return store.put("outbox", entry.body.id, later(entry, "offline"));
  }
  const { outcome, refusal, why } = await verdict(response);
  if (outcome === "sent") {
    const audit = await response.json();
    await store.remove("outbox", entry.body.id);
    return announce("momento:audit-sent", { audit });
  }
  if (outcome === "refused") {
    entry.refused = refusal;
    await store.put("outbox", entry.body.id, entry);
    return announce("momento:audit-refused", { id: entry.body.id, refusal });
  }
  return store.put("outbox", entry.body.id, later(entry, why, response));
}

async function sendPhoto(entry, audits) {
  if (audits.has(entry.auditId)) return; // its audit first
  const form = new FormData();
  form.append("photo", entry.blob, `${entry.id}.jpg`);
  form.append("id", entry.id);
  if (entry.itemId) form.append("item_id", entry.itemId);
  if (entry.caption) form.append("caption", entry.caption);
  let response;
  try {
    response = await send(`/api/v1/audits/${entry.auditId}/photos`, { method: "POST", body: form });
  } catch {
    return store.put("photos", entry.id, later(entry, "offline"));
  }
  const { outcome, refusal, why } = await verdict(response);
  if (outcome === "sent") {
    await store.remove("photos", entry.id);
    return announce("momento:photo-sent", { id: entry.id });
  }
  if (outcome === "refused") {
    entry.refused = refusal;
    await store.put("photos", entry.id, entry);
    return announce("momento:photo-refused", { id: entry.id, auditId: entry.auditId, refusal });
  }
  return store.put("photos", entry.id, later(entry, why, response));
}

/** What waits on the phone: how many audits and photos are still to send; the refusals of
 * the refused audits and the refused photos; the entries of the audits (waiting or refused,
 * oldest first: {url, body, queuedAt, refused?}) and of the photos to send; and all of them. */
export async function pending() {
  const [audits, photos] = await Promise.all([store.all("outbox"), store.all("photos")]);
  const queued = photos.filter((p) => p.ready);
  return {
    audits: audits.filter((a) => !a.refused).length,
    photos: queued.filter((p) => !p.refused).length,
    refusedAudits: audits.map((a) => a.refused).filter(Boolean),
    refusedPhotos: queued.filter((p) => p.refused),
    auditEntries: [...audits].sort((a, b) => (a.queuedAt ?? 0) - (b.queuedAt ?? 0)),
    photosToSend: queued.filter((p) => !p.refused),
    all: [...audits, ...queued],
  };
}

async function flushOnce(force) {
  const now = Date.now();
  const due = (entry) => !entry.refused && (force || !entry.nextAttemptAt || entry.nextAttemptAt <= now);
  // The phone knows it has no network at all: nothing is tried until the "online" event
  // (below) or the next timer. (A phone on a bad network still says it is online, and tries.)
  if (navigator.onLine !== false) {
    for (const entry of (await store.all("outbox")).filter(due)) await sendAudit(entry);
    const waiting = new Set((await store.all("outbox")).map((a) => a.body.id));
    for (const photo of (await store.all("photos")).filter((p) => p.ready && due(p))) {
      await sendPhoto(photo, waiting);
    }
  }
  const state = await pending();
  announce("momento:queue", state);
  clearTimeout(timer);
  const next = Math.min(...state.all.filter((e) => !e.refused && e.nextAttemptAt).map((e) => e.nextAttemptAt));
  if (Number.isFinite(next)) timer = setTimeout(() => flush(), Math.max(500, next - Date.now()));
}

/** Send what is due now (everything if `force`, e.g. when the signal comes back). */
export function flush(force = false) {
  if (!store.userId) return Promise.resolve();
  flushing = (flushing ?? Promise.resolve()).then(() => flushOnce(force)).catch(() => {});
  return flushing;
}

export async function enqueueAudit(url, body) {
  await store.put("outbox", body.id, { url, body, attempts: 0, queuedAt: Date.now() });
  const photos = (await store.all("photos")).filter((p) => p.auditId === body.id);
  for (const photo of photos) await store.put("photos", photo.id, { ...photo, ready: true });
  return flush(true);
}

/** A refused photo taken again: a new photo (its own id, taken now) of the same item, which
 * goes in the old one's place and is sent. */
export async function retakePhoto(id, blob) {
  const refused = await store.get("photos", id);
  if (!refused) return;
  const photo = { ...refused, id: newId(), blob, takenAt: new Date().toISOString(), refused: undefined,
    attempts: 0, nextAttemptAt: undefined };
  await store.put("photos", photo.id, photo);
  await store.remove("photos", id);
  return flush(true);
}

/** A refused photo the person lets go: deleted from the phone, never sent. */
export async function letPhotoGo(id) {
  await store.remove("photos", id);
  return flush();
}

window.addEventListener("online", () => flush(true));
