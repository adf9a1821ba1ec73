// Every page: the service worker, the "waiting to send" line, the warning on signing out
// with audits still on the phone, and keeping the audit pages of the chosen location
// ready for a start with no signal (forgotten on the sign-in page: the next person
// must never get the previous one's pages from the cache).
import { flush, pending } from "./outbox.js";

const PAGES_CACHE = "momento-pages";
const status = document.getElementById("queue-status");
const t = (key, n) => (status?.dataset[key] ?? "").replace("%d", n);

document.addEventListener("momento:queue", ({ detail }) => {
  if (!status) return;
  const waiting = detail.audits + detail.photos;
  const parts = [];
  if (waiting) parts.push(t(waiting === 1 ? "one" : "many", waiting));
  if (detail.refused) parts.push(`${t("refused", detail.refused)} ${detail.reasons[0]}`);
  status.textContent = parts.join(" · ");
  status.classList.toggle("failed", detail.refused > 0);
  status.hidden = parts.length === 0;
});

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
