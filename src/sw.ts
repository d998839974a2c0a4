/**
 * The service worker: the lab works offline once it has loaded, so a classroom with bad Wi-Fi still runs it.
 *
 * Built only by `vite build` (the `serviceWorker` plugin in vite.config.ts emits it as `sw.js` beside index.html and
 * prepends `STREAMLAB_PRECACHE`: the build's version and every file the app needs — index.html, the hashed scripts,
 * the worker, the styles, the lazily loaded chunks), and registered by src/main.ts only in production over http(s).
 *
 * - install: precache every file of this build into a cache named after the build's version, then take over at once
 *   (the files are content-hashed, so a page of the previous build keeps working from its own cache until reloaded).
 * - activate: delete every other streamlab cache (older builds), then claim the open pages.
 * - fetch: navigations go to the network first, so an online reload gets a new deploy, and fall back to the cached
 *   index.html when the network fails or takes longer than `NAVIGATION_TIMEOUT_MS` (bad Wi-Fi hangs rather than
 *   failing); other same-origin GETs come from the cache first (hashed names never change content) and are cached
 *   when fetched. Cross-origin requests and source maps are left to the browser.
 */

interface Precache {
  version: string;
  files: string[];
}

declare const STREAMLAB_PRECACHE: Precache;

const sw = globalThis as unknown as ServiceWorkerGlobalScope;
const PREFIX = 'streamlab-';
const CACHE = `${PREFIX}${STREAMLAB_PRECACHE.version}`;
const NAVIGATION_TIMEOUT_MS = 4_000;
/** The shell a navigation falls back to, resolved against the worker's own URL (the app may live under a path). */
const SHELL = new URL('index.html', sw.location.href).href;

sw.addEventListener('install', (event) => {
  event.waitUntil(
    (async () => {
      const cache = await caches.open(CACHE);
      // `cache: 'reload'` skips the HTTP cache, so the precache never stores a stale copy of a file.
      await cache.addAll(STREAMLAB_PRECACHE.files.map((f) => new Request(new URL(f, sw.location.href), { cache: 'reload' })));
      await sw.skipWaiting();
    })(),
  );
});

sw.addEventListener('activate', (event) => {
  event.waitUntil(
    (async () => {
      const names = await caches.keys();
      await Promise.all(names.filter((n) => n.startsWith(PREFIX) && n !== CACHE).map((n) => caches.delete(n)));
      await sw.clients.claim();
    })(),
  );
});

sw.addEventListener('fetch', (event) => {
  const request = event.request;
  if (request.method !== 'GET') return;
  const url = new URL(request.url);
  if (url.origin !== sw.location.origin || url.pathname.endsWith('.map')) return;
  event.respondWith(request.mode === 'navigate' ? navigation(request) : cacheFirst(request));
});

async function navigation(request: Request): Promise<Response> {
  const network = fetch(request);
  // When the timeout wins, a later failure of the network request is expected, not an error to report.
  network.catch(() => undefined);
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<null>((resolve) => (timer = setTimeout(() => resolve(null), NAVIGATION_TIMEOUT_MS)));
  try {
    const response = await Promise.race([network, timeout]);
    if (response && response.ok) return response;
  } catch {
    // Offline or the server is down: the cached shell below.
  } finally {
    clearTimeout(timer);
  }
  const cached = await caches.match(SHELL, { cacheName: CACHE });
  if (cached) return cached;
  // Nothing cached (the first visit was cut short): wait for the network after all, and let its failure show.
  return network;
}

async function cacheFirst(request: Request): Promise<Response> {
  const cached = await caches.match(request, { cacheName: CACHE });
  if (cached) return cached;
  const response = await fetch(request);
  if (response.ok && response.type === 'basic') {
    const copy = response.clone();
    void caches.open(CACHE).then((cache) => cache.put(request, copy));
  }
  return response;
}
