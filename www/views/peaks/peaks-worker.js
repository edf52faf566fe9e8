// Web Worker (module) of the "Images & peaks" view: owns its own instance of the wasm package, decodes each image
// once into a DetectorImage handle kept here, and runs the peak search and the indexing off the main thread,
// posting progress.
//
// Requests (lib/rpc.js, `serveRpc`):
//               open {id, name, file: File | bytes: ArrayBuffer, frame?: frame of a stack}
//                 → {info, pixels: Float32Array (transferred)}
//               pixels {id} → the decoded pixels again, Float32Array (transferred; the page keeps only the shown
//                 image's)
// Messages in:  {type: 'search', id, job, params: JSON text}
//               {type: 'index', id, job, peaks, calibration, materials, options, model?: key,
//                descriptors?: spot-network descriptors per peak (index at the network's positions)}
//               {type: 'load-model', key, name, weights: ArrayBuffer, meta: JSON text}
//               {type: 'characterize', id, job, peaks: [{x, y}], criteria, prefer_gpu}
//               {type: 'calibrate', id, job, peaks: [{x, y, intensity}], request: CalibrationRequest}
//               {type: 'close', id}
// Messages out: {type: 'ready'} | {type: 'boot-error', message}
//               {type: 'progress', id, job, stage, done, total}
//               {type: 'peaks', id, job, peaks, stats, elapsed_ms, worker_ms}
//               {type: 'index-start', id, job}
//               {type: 'indexed', id, job, result: index_peaks(...) or index_peaks_nn(...), positions, worker_ms}
//               {type: 'model-loaded', key, info, worker_ms} | {type: 'model-error', key, message}
//               {type: 'characterized', id, job, result: characterize_cutouts(...), worker_ms}
//               {type: 'calibrated', id, job, report: calibrate_peaks(...), worker_ms}
//               {type: 'error', id, job?, message}

import init, {
  DetectorImage, HklModelHandle, calibrate_peaks, characterize_cutouts, cnn_positions, index_peaks, index_peaks_nn,
} from '../../../pkg/lauekit.js';
import { bootWorker, messageOf } from '../../lib/worker-boot.js';
import { gpuPackage } from '../../lib/gpu.js';
import { serveRpc } from '../../lib/rpc.js';

// Memory: 250 open 2048² images would be 4 GB decoded. The worker keeps each image's source (a dropped File is a
// reference to the file on disk; fetched bytes stay as they came) and at most KEEP_DECODED images decoded, the most
// recently used; an image not decoded is decoded again from its source when a request needs it.
const KEEP_DECODED = 2;
const sources = new Map(); // id → {source: Blob | ArrayBuffer, name, frame}
const images = new Map(); // id → DetectorImage, least recently used first
const models = new Map(); // key → HklModelHandle (LaueNN models, ready or trained in the page)
const booted = bootWorker(init);

/** The decoded image `id`, decoded again from its source if it was evicted. */
async function imageOf(id) {
  const kept = images.get(id);
  if (kept) {
    images.delete(id);
    images.set(id, kept);
    return kept;
  }
  const src = sources.get(id);
  if (!src) throw new Error(`image ${id} is not open in the worker`);
  const bytes = src.source instanceof Blob ? new Uint8Array(await src.source.arrayBuffer()) : new Uint8Array(src.source);
  const img = new DetectorImage(bytes, src.name, src.frame ? { frame: src.frame } : undefined);
  if (src.mask) {
    try {
      img.apply_mask(src.mask.bytes, src.mask.name);
    } catch (e) {
      img.free();
      throw e;
    }
  }
  images.set(id, img);
  while (images.size > KEEP_DECODED) {
    const [oldest, handle] = images.entries().next().value;
    handle.free();
    images.delete(oldest);
  }
  return img;
}

/**
 * The pixels the page shows: masked pixels (module gaps, dead pixels, a mask file's) as NaN, so that the display
 * draws them in its masked colour and leaves them out of the contrast limits.
 * @param {any} img a DetectorImage
 * @returns {Float32Array}
 */
function shownPixels(img) {
  const pixels = img.pixels();
  const mask = img.mask();
  for (let i = 0; i < mask.length; i++) if (mask[i]) pixels[i] = NaN;
  return pixels;
}

// One request at a time, in order: a request awaiting a decode must not see its image evicted by the next one.
let queue = Promise.resolve();
self.onmessage = (ev) => {
  if (typeof ev.data?.rpc === 'number') return; // a request of serveRpc below
  queue = queue.then(() => handle(ev.data));
};

serveRpc({
  async open({ id, name, file, bytes, frame }, { transfer }) {
    images.get(id)?.free();
    images.delete(id);
    sources.set(id, { source: file ?? bytes, name, frame: frame ?? 0 });
    let img;
    try {
      img = await imageOf(id);
    } catch (e) {
      sources.delete(id);
      throw e;
    }
    const pixels = shownPixels(img);
    transfer.push(pixels.buffer);
    return { info: img.info(), pixels };
  },
  async pixels({ id }, { transfer }) {
    const pixels = shownPixels(await imageOf(id));
    transfer.push(pixels.buffer);
    return pixels;
  },
  // A mask file (grey PNG or HDF5, non-zero = masked; `name` may end in `:/dataset/path`) added to image `id`'s own
  // mask, kept with its source so that a decode again applies it too. Replies like `open`.
  async mask({ id, name, bytes }, { transfer }) {
    const src = sources.get(id);
    if (!src) throw new Error(`image ${id} is not open in the worker`);
    const before = src.mask;
    src.mask = { name, bytes: new Uint8Array(bytes) };
    images.get(id)?.free();
    images.delete(id);
    let img;
    try {
      img = await imageOf(id);
    } catch (e) {
      src.mask = before;
      throw e;
    }
    const pixels = shownPixels(img);
    transfer.push(pixels.buffer);
    return { info: img.info(), pixels };
  },
}, { ready: booted, schedule: (run) => { queue = queue.then(run); } });

async function handle(msg) {
  try {
    await booted;
  } catch {
    return; // boot-error already reported
  }
  try {
    if (msg.type === 'search') {
      const img = await imageOf(msg.id);
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
      let peaks = msg.peaks;
      let positions = { source: 'fit', from_cnn: 0, from_fit: peaks.length };
      if (msg.descriptors) ({ peaks, positions } = cnn_positions(msg.peaks, msg.descriptors));
      let result;
      if (msg.model) {
        const model = models.get(msg.model);
        if (!model) throw new Error(`model ${msg.model} is not loaded in the worker`);
        result = index_peaks_nn(peaks, msg.calibration, model, msg.materials, msg.options);
      } else {
        result = index_peaks(peaks, msg.calibration, msg.materials, msg.options);
      }
      self.postMessage({ type: 'indexed', id: msg.id, job: msg.job, result, positions, worker_ms: performance.now() - t0 });
    } else if (msg.type === 'characterize') {
      const img = await imageOf(msg.id);
      const t0 = performance.now();
      const cutouts = img.spot_cutouts(msg.peaks);
      let result;
      if (msg.prefer_gpu) {
        // The network on WebGPU runs in the WebGPU package, loaded now if it was not yet; the cut-outs cross over
        // as plain arrays.
        const gpu = await gpuPackage();
        const moved = gpu.SpotCutouts.fromParts(cutouts.pixels(), cutouts.centres(), cutouts.signal());
        cutouts.free();
        result = await gpu.characterize_cutouts(moved, msg.criteria, true);
      } else {
        result = await characterize_cutouts(cutouts, msg.criteria, false);
      }
      self.postMessage({ type: 'characterized', id: msg.id, job: msg.job, result, worker_ms: performance.now() - t0 });
    } else if (msg.type === 'calibrate') {
      const t0 = performance.now();
      const report = calibrate_peaks(msg.peaks, msg.request);
      self.postMessage({ type: 'calibrated', id: msg.id, job: msg.job, report, worker_ms: performance.now() - t0 });
    } else if (msg.type === 'load-model') {
      const t0 = performance.now();
      let model;
      try {
        model = new HklModelHandle(new Uint8Array(msg.weights), msg.meta, msg.name);
      } catch (e) {
        self.postMessage({ type: 'model-error', key: msg.key, message: messageOf(e) });
        return;
      }
      models.get(msg.key)?.free();
      models.set(msg.key, model);
      self.postMessage({ type: 'model-loaded', key: msg.key, info: model.info(), worker_ms: performance.now() - t0 });
    } else if (msg.type === 'close') {
      images.get(msg.id)?.free();
      images.delete(msg.id);
      sources.delete(msg.id);
    }
  } catch (e) {
    self.postMessage({ type: 'error', id: msg.id, job: msg.job, name: msg.name, message: messageOf(e) });
  }
};
