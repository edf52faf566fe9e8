// The wasm package (../pkg/lauekit.js, wasm-bindgen --target web) loaded once on the main thread and shared by
// both views; the peak search loads its own instance in a Web Worker (peaks-worker.js).

export const PKG_URL = new URL('../../pkg/lauekit.js', import.meta.url).href;

let loading = null;

/** The initialised wasm module (one instance, however many callers). */
export function loadWasm() {
  if (!loading) {
    loading = (async () => {
      const mod = await import(PKG_URL);
      await mod.default();
      return mod;
    })();
  }
  return loading;
}
