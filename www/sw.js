// lauekit's service worker (the published site only: `make site` copies it to the site's root, stamps its
// version and writes precache.json). It makes the page reload and work without a network:
// - install: the app shell (index.html, scripts, styles, the wasm package) of this version into one cache;
// - fetch: shell files from that cache; models, examples and the WebGPU package from the network the first time
//   they are used,
//   then from a second cache; anything else from the network, falling back to the caches when offline;
// - update: a new site build changes this file (its version), so the browser installs the new worker beside the
//   old one. The new one waits until the page asks it to take over (the page offers a reload), then deletes
//   every cache of older versions: a page never mixes the files of two versions.

/** This worker's global scope (`self`), typed as the service worker's it is. */
const sw = /** @type {ServiceWorkerGlobalScope} */ (/** @type {unknown} */ (self));

const VERSION = '__LAUEKIT_VERSION__';
const SHELL = `lauekit-shell-${VERSION}`;
const RUNTIME = `lauekit-runtime-${VERSION}`;

sw.addEventListener('install', (event) => {
  event.waitUntil((async () => {
    const list = await (await fetch('precache.json', { cache: 'no-store' })).json();
    const cache = await caches.open(SHELL);
    // The wasm package is not fetched here: the page that installs this worker is downloading it already, and
    // puts it into this cache itself (lib/wasm.js); a page that did not is served it through `fetch` below, which
    // caches it then.
    await cache.addAll(list.files.filter((f) => !f.endsWith('.wasm')).map((f) => new Request(f, { cache: 'reload' })));
    // The first version takes control at once; later ones wait for the page's go-ahead.
    if (!(await sw.registration.active)) await sw.skipWaiting();
  })());
});

sw.addEventListener('message', (event) => {
  if (event.data && event.data.type === 'skip-waiting') sw.skipWaiting();
});

sw.addEventListener('activate', (event) => {
  event.waitUntil((async () => {
    for (const key of await caches.keys()) {
      if (key.startsWith('lauekit-') && key !== SHELL && key !== RUNTIME) await caches.delete(key);
    }
    await sw.clients.claim();
  })());
});

/** Models, examples and the WebGPU package: cached when first used. */
function isRuntimeAsset(url) {
  return /\/www\/(models|examples)\//.test(url.pathname) || /\/pkg\/gpu\//.test(url.pathname);
}

/** The (CPU) wasm package every view starts with: part of the shell, cached when first fetched. */
function isPackage(url) {
  return /\/pkg\/lauekit_bg\.wasm$/.test(url.pathname);
}

sw.addEventListener('fetch', (event) => {
  const request = event.request;
  if (request.method !== 'GET') return;
  const url = new URL(request.url);
  if (url.origin !== sw.location.origin) return;
  event.respondWith((async () => {
    const shell = await caches.open(SHELL);
    const key = request.mode === 'navigate' ? new URL('./', sw.registration.scope).href : request;
    const hit = await shell.match(key, { ignoreSearch: true });
    if (hit) return hit;
    if (isPackage(url)) {
      const response = await fetch(request);
      if (response.ok) await shell.put(request, response.clone());
      return response;
    }
    const runtime = await caches.open(RUNTIME);
    if (isRuntimeAsset(url)) {
      const cached = await runtime.match(request);
      if (cached) return cached;
      const response = await fetch(request);
      if (response.ok) await runtime.put(request, response.clone());
      return response;
    }
    try {
      return await fetch(request);
    } catch (e) {
      const cached = await runtime.match(request, { ignoreSearch: true });
      if (cached) return cached;
      throw e;
    }
  })());
});
