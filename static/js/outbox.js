// What waits to be sent: audits (POST /api/v1/audits) and then their photos. Every
// entry keeps its client UUID, so a retry after a lost answer never makes a duplicate.
// Only the signed-in person's own queue is read (store.js), and every request names that
// person: the server refuses it under anyone else's session (a tab left open by someone
// who has signed out since).
import * as store from "./store.js";

const FIRST_DELAY = 2000;
const MAX_DELAY = 5 * 60 * 1000;
let timer = null;
let flushing = null;

const csrfToken = () => document.querySelector('meta[name="csrf-token"]')?.content ?? "";
const announce = (name, detail) => document.dispatchEvent(new CustomEvent(name, { detail }));

function later(entry, reason) {
  entry.attempts = (entry.attempts ?? 0) + 1;
  const delay = Math.min(MAX_DELAY, FIRST_DELAY * 2 ** (entry.attempts - 1));
  entry.nextAttemptAt = Date.now() + delay * (0.75 + Math.random() / 2);
  entry.lastProblem = reason;
  return entry;
}

async function errorMessage(response) {
  try {
    const body = await response.json();
    const fields = Object.entries(body.error?.fields ?? {}).map(([k, v]) => `${k}: ${v.join(" ")}`);
    return [body.error?.message, ...fields].filter(Boolean).join(" ");
  } catch {
    return `HTTP ${response.status}`;
  }
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
  if (response.ok) {
    const audit = await response.json();
    await store.remove("outbox", entry.body.id);
    return announce("momento:audit-sent", { audit });
  }
  if (response.status === 409 || response.status === 422) {
    entry.refused = await errorMessage(response);
    await store.put("outbox", entry.body.id, entry);
    return announce("momento:audit-refused", { id: entry.body.id, message: entry.refused });
  }
  return store.put("outbox", entry.body.id, later(entry, response.status === 401 ? "signed-out" : "server"));
}

async function sendPhoto(entry, audits) {
  if (audits.has(entry.auditId)) return; // its audit first
  const form = new FormData();
  form.append("photo", entry.blob, `${entry.id}.jpg`);
  form.append("id", entry.id);
  form.append("item_id", entry.itemId);
  if (entry.caption) form.append("caption", entry.caption);
  let response;
  try {
    response = await send(`/api/v1/audits/${entry.auditId}/photos`, { method: "POST", body: form });
  } catch {
    return store.put("photos", entry.id, later(entry, "offline"));
  }
  if (response.ok || response.status === 409) {
    await store.remove("photos", entry.id);
    return announce("momento:photo-sent", { id: entry.id });
  }
  if ([413, 415, 422].includes(response.status)) {
    entry.refused = await errorMessage(response);
    return store.put("photos", entry.id, entry);
  }
  // 404/405: the server cannot take photos yet (or the audit is not there yet): keep it.
  return store.put("photos", entry.id, later(entry, "server"));
}

export async function pending() {
  const [audits, photos] = await Promise.all([store.all("outbox"), store.all("photos")]);
  const queued = photos.filter((p) => p.ready);
  return {
    audits: audits.filter((a) => !a.refused).length,
    photos: queued.filter((p) => !p.refused).length,
    refused: audits.filter((a) => a.refused).length + queued.filter((p) => p.refused).length,
    reasons: [...audits, ...queued].map((e) => e.refused).filter(Boolean),
    all: [...audits, ...queued],
  };
}

async function flushOnce(force) {
  const now = Date.now();
  const due = (entry) => !entry.refused && (force || !entry.nextAttemptAt || entry.nextAttemptAt <= now);
  for (const entry of (await store.all("outbox")).filter(due)) await sendAudit(entry);
  const waiting = new Set((await store.all("outbox")).map((a) => a.body.id));
  for (const photo of (await store.all("photos")).filter((p) => p.ready && due(p))) {
    await sendPhoto(photo, waiting);
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

window.addEventListener("online", () => flush(true));
