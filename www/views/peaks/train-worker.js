// Web Worker (module) that trains LaueNN hkl models in the page, in its own wasm instance so that the peak search
// and indexing worker stays free meanwhile. Training is blocking wasm (simulated images, then Adam on burn's CPU
// device); progress is posted after every mini-batch.
//
// Messages in:  {type: 'train', job, name, request}   (request: see train_hkl_model in src/web/nn.rs)
// Messages out: {type: 'ready'} | {type: 'boot-error', message}
//               {type: 'train-progress', job, p: {stage: 'data' | 'data-done' | 'batch' | 'epoch', ...}}
//               {type: 'trained', job, info, weights: ArrayBuffer (f32 burnpack, transferred), meta: JSON text,
//                worker_ms}
//               {type: 'train-error', job, message}

import init, { train_hkl_model } from '../../../pkg/lauekit.js';
import { bootWorker, messageOf } from '../../lib/worker-boot.js';

const booted = bootWorker(init);

self.onmessage = async (ev) => {
  const msg = ev.data;
  try {
    await booted;
  } catch {
    return;
  }
  if (msg.type !== 'train') return;
  const t0 = performance.now();
  try {
    const model = train_hkl_model(msg.request, msg.name, (p) => {
      self.postMessage({ type: 'train-progress', job: msg.job, p });
    });
    const info = model.info();
    const weights = model.weights_bytes(false);
    const meta = model.meta_json();
    model.free();
    self.postMessage({ type: 'trained', job: msg.job, info, weights: weights.buffer, meta,
      worker_ms: performance.now() - t0 }, [weights.buffer]);
  } catch (e) {
    self.postMessage({ type: 'train-error', job: msg.job, message: messageOf(e) });
  }
};
