// Web Worker (module) of the "Scan" view: one of the pool that analyses a raster scan. It owns its own instance of
// the wasm package and one ScanWorker (the pipeline request prepared once, the calibration, the grid), and runs the
// points the page hands it one at a time. It reads each point's image itself (a File, or the example scan's TIFF
// rendered here by a SyntheticScanHandle) and drops the bytes after the point; an HDF5 stack's bytes are kept for
// the next frames.
//
// Messages in:  {type: 'setup', grid, calibration?, request, synthetic?: SyntheticScanSpec, features?}
//                 (calibration: as for `simulate`; with `synthetic`, the example scan's own when not given;
//                 with `features` (a ClusterFeatures spec, for the Cluster panel) the worker computes each point's
//                 feature vector instead of analysing it: point-done's result is {index, features: Float32Array,
//                 elapsed_ms, extract_ms})
//               {type: 'point', index, file?: File, name?, frame?, stack?: bool}
//                 (no file with `synthetic`: the worker renders the point's image)
// Messages out: {type: 'ready'} | {type: 'boot-error', message}
//               {type: 'setup-done'} | {type: 'setup-error', message}
//               {type: 'point-done', index, result: PointResult, worker_ms}
//               {type: 'point-unreadable', index, name, message}   (the file could not be read: a failed point)
//               {type: 'job-error', index, name, message}          (bad settings: no point can be analysed)

import init, { ClusterFeatures, DetectorImage, ScanWorker, SyntheticScanHandle } from '../../../pkg/lauekit.js';
import { bootWorker, messageOf } from '../../lib/worker-boot.js';

let scan = null; // ScanWorker
let features = null; // ClusterFeatures (a feature pass of the Cluster panel)
let synthetic = null; // SyntheticScanHandle of the example scan
let stack = null; // {key, bytes: Uint8Array} of an HDF5 stack
const booted = bootWorker(init);

function fileKey(f) {
  return `${f.name}\u0000${f.size}\u0000${f.lastModified}`;
}

async function bytesOf(msg) {
  if (synthetic) return { bytes: synthetic.image_tiff(msg.index), name: synthetic.image_name(msg.index), frame: 0 };
  if (!msg.file) throw new Error('no file for this point');
  if (msg.stack) {
    const key = fileKey(msg.file);
    if (!stack || stack.key !== key) stack = { key, bytes: new Uint8Array(await msg.file.arrayBuffer()) };
    return { bytes: stack.bytes, name: msg.name, frame: msg.frame ?? 0 };
  }
  return { bytes: new Uint8Array(await msg.file.arrayBuffer()), name: msg.name, frame: msg.frame ?? 0 };
}

self.onmessage = async (ev) => {
  const msg = ev.data;
  try {
    await booted;
  } catch {
    return; // boot-error already reported
  }
  if (msg.type === 'setup') {
    try {
      scan?.free();
      features?.free();
      synthetic?.free();
      scan = null;
      features = null;
      synthetic = msg.synthetic ? new SyntheticScanHandle(msg.synthetic) : null;
      const calibration = msg.calibration ?? synthetic?.calibration();
      if (msg.features) features = new ClusterFeatures(msg.features);
      else scan = new ScanWorker(msg.grid, calibration, msg.request);
      self.postMessage({ type: 'setup-done' });
    } catch (e) {
      self.postMessage({ type: 'setup-error', message: messageOf(e) });
    }
  } else if (msg.type === 'point') {
    const t0 = performance.now();
    let input;
    try {
      if (!scan && !features) throw new Error('the worker has no scan set up');
      input = await bytesOf(msg);
    } catch (e) {
      self.postMessage({ type: 'point-unreadable', index: msg.index, name: msg.name ?? '', message: messageOf(e) });
      return;
    }
    if (features) {
      // As `lauekit cluster`: a file that cannot be read is a failed point; a frame the extractor refuses stops
      // the pass.
      const t1 = performance.now();
      let image;
      try {
        image = new DetectorImage(input.bytes, input.name, { frame: input.frame });
      } catch (e) {
        self.postMessage({ type: 'point-unreadable', index: msg.index, name: input.name, message: messageOf(e) });
        return;
      }
      let row;
      try {
        row = features.extract_image(image);
      } catch (e) {
        self.postMessage({ type: 'job-error', index: msg.index, name: input.name, message: messageOf(e) });
        return;
      } finally {
        image.free();
      }
      // elapsed_ms: the whole point (rendering an example image included); extract_ms: decoding and features only
      const result = { index: msg.index, features: row, elapsed_ms: performance.now() - t0, extract_ms: performance.now() - t1 };
      self.postMessage({ type: 'point-done', index: msg.index, result, worker_ms: result.elapsed_ms }, [row.buffer]);
      input = null;
      return;
    }
    try {
      const result = scan.run_point(msg.index, input.bytes, input.name, input.frame);
      self.postMessage({ type: 'point-done', index: msg.index, result, worker_ms: performance.now() - t0 });
    } catch (e) {
      self.postMessage({ type: 'job-error', index: msg.index, name: input.name, message: messageOf(e) });
    }
    input = null; // the point's bytes go with it (a stack's stay in `stack`)
  }
};
