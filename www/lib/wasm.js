// The wasm package (../pkg/lauekit.js, wasm-bindgen --target web): downloaded and compiled ONCE per page, then
// instantiated on the main thread (shared by every view) and handed, compiled, to every Web Worker
// (`spawnWorker`), so a worker costs neither a second download nor a second compile.
//
// Loading reports its stages to the page as `lauekit-load` events on `window`
// ({stage: 'download' | 'compile' | 'start' | 'ready' | 'error', loaded, total, message}); the site build
// (`make site`) writes `build.json` beside index.html with the package's raw size, which gives the total.

export const PKG_URL = new URL('../../pkg/lauekit.js', import.meta.url).href;
export const WASM_URL = new URL('../../pkg/lauekit_bg.wasm', import.meta.url).href;

/** The package's module as wasm-bindgen declares it (pkg/lauekit.d.ts): what `loadWasm()` resolves to.
 * @typedef {typeof import('../../pkg/lauekit.js')} Wasm */

let compiling = null;
let loading = null;

function report(detail) {
  if (typeof window !== 'undefined') window.dispatchEvent(new CustomEvent('lauekit-load', { detail }));
}

/** The site's build.json ({version, wasm_bytes}), or undefined when serving the repository. */
async function siteBuild() {
  if (typeof document === 'undefined' || !document.querySelector('meta[name="lauekit-site"]')) return undefined;
  try {
    const r = await fetch(new URL('../../build.json', import.meta.url), { cache: 'no-cache' });
    if (!r.ok) return undefined;
    return await r.json();
  } catch {
    return undefined;
  }
}

/** The response's body as a stream that reports the bytes going through it. */
function counted(response, total) {
  let loaded = 0;
  let last = 0;
  return response.body.pipeThrough(new TransformStream({
    transform(chunk, controller) {
      loaded += chunk.length;
      const now = performance.now();
      if (now - last > 50) {
        last = now;
        report({ stage: 'download', loaded, total });
      }
      controller.enqueue(chunk);
    },
    flush() {
      // Downloaded: what remains is the end of the compile (it ran while the bytes arrived).
      report({ stage: 'compile', loaded, total: loaded });
    },
  }));
}

/**
 * Puts the package just downloaded into the service worker's shell cache of this version (sw.js does not
 * download it a second time at install). Best effort: without it the worker caches it on the next visit.
 */
async function keepForOffline(version, bytes) {
  try {
    if (typeof caches === 'undefined') return;
    const cache = await caches.open(`lauekit-shell-${version}`);
    const headers = { 'content-type': 'application/wasm' };
    await cache.put(WASM_URL, new Response(bytes, { status: 200, headers }));
  } catch {
    // no Cache API (private mode without storage): nothing to keep
  }
}

/** The compiled `WebAssembly.Module` of the package (one download and one compile per page). */
export function compiledModule() {
  if (!compiling) {
    compiling = (async () => {
      const build = await siteBuild();
      const total = build?.wasm_bytes;
      report({ stage: 'download', loaded: 0, total });
      const response = await fetch(WASM_URL);
      if (!response.ok) throw new Error(`${WASM_URL}: HTTP ${response.status}`);
      if (!response.body) return WebAssembly.compile(await response.arrayBuffer());
      // Compiled while it downloads; on the published site a copy of the bytes goes to the offline cache.
      let stream = counted(response, total);
      let copy = null;
      if (build?.version) {
        let forCache;
        [stream, forCache] = stream.tee();
        copy = new Response(forCache).arrayBuffer();
      }
      const module = await WebAssembly.compileStreaming(new Response(stream, { headers: { 'content-type': 'application/wasm' } }));
      if (copy) copy.then((bytes) => keepForOffline(build.version, bytes), () => {});
      return module;
    })();
    compiling.catch((e) => report({ stage: 'error', message: String(e && e.message ? e.message : e) }));
  }
  return compiling;
}

/**
 * The initialised wasm module on the main thread (one instance, however many callers).
 * @returns {Promise<Wasm>}
 */
export function loadWasm() {
  if (!loading) {
    loading = (async () => {
      const [mod, module] = await Promise.all([import(PKG_URL), compiledModule()]);
      report({ stage: 'start' });
      await mod.default({ module_or_path: module });
      report({ stage: 'ready' });
      return mod;
    })();
  }
  return loading;
}

/**
 * A module Web Worker at `url` (one of the views' *-worker.js, which boot through worker-boot.js) given the page's
 * compiled package as its first message. If the page cannot compile it the worker is told so and loads the
 * package itself.
 */
export function spawnWorker(url) {
  const worker = new Worker(url, { type: 'module' });
  compiledModule().then(
    (module) => worker.postMessage({ type: 'wasm-module', module }),
    () => worker.postMessage({ type: 'wasm-module', module: null }),
  );
  return worker;
}
