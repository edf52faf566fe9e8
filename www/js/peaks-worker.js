// Web Worker (module) of the "Images & peaks" view: owns its own instance of the wasm package, decodes each image
// once into a DetectorImage handle kept here, and runs the peak search and the indexing off the main thread,
// posting progress.
//
// Messages in:  {type: 'open', id, name, bytes: ArrayBuffer}
//               {type: 'search', id, job, params: JSON text}
//               {type: 'index', id, job, peaks, calibration, materials, options}
//               {type: 'close', id}
// Messages out: {type: 'ready'} | {type: 'boot-error', message}
//               {type: 'opened', id, info, pixels: Float32Array (transferred)}
//               {type: 'progress', id, job, stage, done, total}
//               {type: 'peaks', id, job, peaks, stats, elapsed_ms, worker_ms}
//               {type: 'index-start', id, job}
//               {type: 'indexed', id, job, result: index_peaks(...), worker_ms}
//               {type: 'error', id, job?, message}

import init, { DetectorImage, index_peaks } from '../../pkg/lauekit.js';

const images = new Map(); // id → DetectorImage
const booted = init().then(
  () => { self.postMessage({ type: 'ready' }); },
  (e) => {
    self.postMessage({ type: 'boot-error', message: messageOf(e) });
    throw e;
  },
);

function messageOf(e) {
  if (e == null) return 'unknown error';
  if (typeof e === 'string') return e;
  return e.message || String(e);
}

self.onmessage = async (ev) => {
  const msg = ev.data;
  try {
    await booted;
  } catch {
    return; // boot-error already reported
  }
  try {
    if (msg.type === 'open') {
      const img = new DetectorImage(new Uint8Array(msg.bytes), msg.name, undefined);
      images.get(msg.id)?.free();
      images.set(msg.id, img);
      const pixels = img.pixels();
      self.postMessage({ type: 'opened', id: msg.id, info: img.info(), pixels }, [pixels.buffer]);
    } else if (msg.type === 'search') {
      const img = images.get(msg.id);
      if (!img) throw new Error(`image ${msg.id} is not open in the worker`);
      const t0 = performance.now();
      const out = img.peak_search(msg.params, (p) => {
        self.postMessage({ type: 'progress', id: msg.id, job: msg.job, ...p });
      });
      self.postMessage({
        type: 'peaks', id: msg.id, job: msg.job, peaks: out.peaks, stats: out.stats,
        elapsed_ms: out.elapsed_ms, worker_ms: performance.now() - t0,
      });
    } else if (msg.type === 'index') {
      self.postMessage({ type: 'index-start', id: msg.id, job: msg.job });
      const t0 = performance.now();
      const result = index_peaks(msg.peaks, msg.calibration, msg.materials, msg.options);
      self.postMessage({ type: 'indexed', id: msg.id, job: msg.job, result, worker_ms: performance.now() - t0 });
    } else if (msg.type === 'close') {
      images.get(msg.id)?.free();
      images.delete(msg.id);
    }
  } catch (e) {
    self.postMessage({ type: 'error', id: msg.id, job: msg.job, name: msg.name, message: messageOf(e) });
  }
};
