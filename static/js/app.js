// Every page: the service worker, the "waiting to send" line, and keeping the audit
// pages of the chosen location ready for a start with no signal.
import { flush } from "./outbox.js";

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

if ("serviceWorker" in navigator) {
  navigator.serviceWorker.register("/sw.js", { scope: "/" }).catch(() => {});
}

if (document.querySelector("[data-signed-out]") && "caches" in window) {
  caches.delete(PAGES_CACHE);
} else if ("caches" in window && navigator.onLine) {
  const links = [...document.querySelectorAll("a[data-offline]")].map((a) => a.href);
  if (links.length) caches.open(PAGES_CACHE).then((cache) => cache.addAll(links)).catch(() => {});
}

if (status) flush(true);
