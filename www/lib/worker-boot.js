// Start-up shared by the page's Web Workers: initialise the worker's wasm instance from the module the page
// compiled once (lib/wasm.js `spawnWorker` posts it as the worker's first message, so the 40 MB package is
// downloaded and compiled once per page, not once per worker), and say so to the page
// ({type: 'ready', ...extra} or {type: 'boot-error', message}).

/** A readable message of anything thrown (Error, JsError, string). */
export function messageOf(e) {
  if (e == null) return 'unknown error';
  if (typeof e === 'string') return e;
  return e.message || String(e);
}

// The page's first message carries the compiled module. This listener is registered when this file is
// evaluated, i.e. before the worker's own `onmessage`, and hides that message from it.
const compiledModule = new Promise((resolve) => {
  const first = (ev) => {
    if (ev.data && ev.data.type === 'wasm-module') {
      ev.stopImmediatePropagation();
      self.removeEventListener('message', first);
      resolve(ev.data.module ?? null);
    }
  };
  self.addEventListener('message', first);
});

/**
 * Runs the wasm package's `init` on the page's compiled module (or, if the page could not compile it, on
 * the package's own URL) and reports the outcome; `extra()` adds fields to the 'ready' message. The promise
 * rejects when the package did not load.
 */
export function bootWorker(init, extra = () => ({})) {
  return compiledModule
    .then((module) => (module ? init({ module_or_path: module }) : init()))
    .then(
      () => { self.postMessage({ type: 'ready', ...extra() }); },
      (e) => {
        self.postMessage({ type: 'boot-error', message: messageOf(e) });
        throw e;
      },
    );
}
