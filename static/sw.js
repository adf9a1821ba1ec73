// Momento's service worker: the app shell and the audit pages work with no signal.
// Pages (and checklists) are network-first with the cache as fallback (also when the
// network takes longer than NETWORK_PATIENCE_MS); the static
// files are cache-first, and a new shell version (a hash of them all) replaces them.
const SHELL_VERSION = "__SHELL_VERSION__";
const SHELL_CACHE = `momento-shell-${SHELL_VERSION}`;
const PAGES_CACHE = "momento-pages";
const SHELL_FILES = __SHELL_FILES__;

self.addEventListener("install", (event) => {
  event.waitUntil(caches.open(SHELL_CACHE).then((cache) => cache.addAll(SHELL_FILES)).then(() => self.skipWaiting()));
});

self.addEventListener("activate", (event) => {
  event.waitUntil((async () => {
    for (const name of await caches.keys()) {
      if (name.startsWith("momento-shell-") && name !== SHELL_CACHE) await caches.delete(name);
    }
    await self.clients.claim();
  })());
});

// How long a page may take on a bad network before the phone's copy is shown instead.
const NETWORK_PATIENCE_MS = 4000;

async function networkFirst(request) {
  const cache = await caches.open(PAGES_CACHE);
  // ignoreVary: the page was cached with the session cookie of that moment, and the
  // cookie is re-signed as the session changes (Vary: Cookie would miss it).
  const cachedCopy = () => cache.match(request, { ignoreVary: true });
  const network = fetch(request).then(async (response) => {
    if (response.ok && !response.redirected) await cache.put(request, response.clone());
    return response;
  });
  const patience = new Promise((resolve) => setTimeout(resolve, NETWORK_PATIENCE_MS));
  try {
    const first = await Promise.race([network, patience]);
    if (first) return first;
    return (await cachedCopy()) || (await network);  // slow: the copy if there is one
  } catch (error) {
    const cached = await cachedCopy();
    if (cached) return cached;
    throw error;
  }
}

async function cacheFirst(request) {
  const cached = await caches.match(request, { cacheName: SHELL_CACHE });
  if (cached) return cached;
  const response = await fetch(request);
  if (response.ok) (await caches.open(SHELL_CACHE)).put(request, response.clone());
  return response;
}

self.addEventListener("fetch", (event) => {
  const { request } = event;
  const url = new URL(request.url);
  if (request.method !== "GET" || url.origin !== self.location.origin) return;
  if (url.pathname.startsWith("/static/")) {
    event.respondWith(cacheFirst(request));
  } else if (request.mode === "navigate" || url.pathname.startsWith("/api/v1/checklists")) {
    event.respondWith(networkFirst(request));
  }
});
