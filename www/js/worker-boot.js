// Start-up shared by the page's Web Workers: initialise the worker's own wasm instance and say so to the page
// ({type: 'ready'} or {type: 'boot-error', message}).

/** A readable message of anything thrown (Error, JsError, string). */
export function messageOf(e) {
  if (e == null) return 'unknown error';
  if (typeof e === 'string') return e;
  return e.message || String(e);
}

/** Runs the wasm package's `init` and reports the outcome; the promise rejects when the package did not load. */
export function bootWorker(init) {
  return init().then(
    () => { self.postMessage({ type: 'ready' }); },
    (e) => {
      self.postMessage({ type: 'boot-error', message: messageOf(e) });
      throw e;
    },
  );
}
