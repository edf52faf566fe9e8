// The page's WebGPU package (pkg/gpu/: the same crate built with burn's WebGPU backend), loaded on demand inside
// the worker that needs it. The package every view starts with (pkg/) is the CPU build: the WebGPU backend (its
// shader compiler) is two thirds of the code, so it is downloaded only when a user asks for the GPU — the spot
// network or the autoencoder on WebGPU.

export const GPU_PKG_URL = new URL('../../pkg/gpu/lauekit.js', import.meta.url).href;

let loading = null;

/** The initialised WebGPU package (one instance per worker, on first use). */
export function gpuPackage() {
  if (!loading) {
    loading = (async () => {
      const mod = await import(GPU_PKG_URL);
      await mod.default();
      return mod;
    })();
    loading.catch(() => { loading = null; });
  }
  return loading;
}
