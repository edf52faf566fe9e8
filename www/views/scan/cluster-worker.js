// Web Worker (module) of the Scan view's Cluster panel: owns one ClusterSession (the scan's feature matrix, its PCA
// and the current clustering) so that the PCA, the K scan and re-clustering never block the page. The feature
// vectors themselves are computed by the scan workers (scan-worker.js with a `features` setup) and forwarded here.
//
// Requests through lib/rpc.js (`serveRpc`): op and args below; replies: the value and the time in the worker. Besides:
// {type: 'ready', ae: bool} | {type: 'boot-error', message} once the wasm package is loaded (ae: the build has the
// autoencoder, `autoencoder_features`).
//
//   new {grid, dim, features, webgpu}  a session; `features: 'ae'` takes 128² pre-processed pixels per point and
//                                      encodes them in batches of 64 (`dim` is then the pixels' length), on WebGPU
//                                      when `webgpu` and the browser offers it
//   row {index, data: Float32Array}    a point's features          failed {index}   its image could not be read
//   flush                              (ae) encodes the pixels still waiting → {device, fallback_reason, encoded,
//                                      ms_per_point}
//   fit {pca, pca_fit_points}          → ClusterSession.fit        scan {k_min, k_max, seed} → .scan_k
//   cluster {k, method, seed, defer_scores} → .cluster;  score → .score;  delegates {clusters} → .set_delegates
//   json {feature_seconds, delegate_seconds, seconds} → .to_json;  label_maps → .label_maps
//   label_png / label_csv {name}       orientation_maps / orientation_png / orientation_csv {grains, request, name?}
//   bench {n, dim, k: [k1, k2]}        a session of n points made from the current one's rows (tiled, jittered,
//                                      cut to `dim` features), fitted and scored over k1..k2; times re-clustering at
//                                      each K of k1..k2 (scores known from the scan, as when the slider moves) and at
//                                      k2 + 1 (outside the scan: silhouette and CH computed after the labels).

import init, * as lk from '../../../pkg/lauekit.js';
import { bootWorker } from '../../lib/worker-boot.js';
import { serveRpc } from '../../lib/rpc.js';
import { gpuPackage } from '../../lib/gpu.js';

/** Pixels encoded per call of the autoencoder. */
const AE_BATCH = 64;

let session = null; // ClusterSession
let ae = null; // {pixels: number, pending: [{index, data}], encoded, ms}

/** Whether the build has the autoencoder and its weights. */
const aeAvailable = () => typeof lk.autoencoder_features === 'function' && typeof lk.autoencoder_latent_dim === 'function'
  && lk.autoencoder_latent_dim() > 0;

const booted = bootWorker(init, () => ({ ae: aeAvailable() }));

function need() {
  if (!session) throw new Error('no clustering session: compute the features first');
  return session;
}

/** Encodes the waiting pixel rows with the autoencoder and stores their codes. */
async function encodePending(webgpu) {
  while (ae.pending.length) {
    const batch = ae.pending.splice(0, AE_BATCH);
    const flat = new Float32Array(batch.length * ae.pixels);
    batch.forEach((r, k) => flat.set(r.data, k * ae.pixels));
    const t0 = performance.now();
    // On WebGPU: the WebGPU package (loaded on first use); on the CPU: this worker's package.
    const codes = webgpu ? await (await gpuPackage()).autoencoder_features(flat, true) : await lk.autoencoder_features(flat, false);
    ae.ms += performance.now() - t0;
    const m = codes.length / batch.length;
    batch.forEach((r, k) => session.set_row(r.index, codes.subarray(k * m, (k + 1) * m)));
    ae.encoded += batch.length;
  }
}

const ops = {
  new({ grid, dim, features, webgpu }) {
    session?.free();
    session = null;
    ae = null;
    if (features === 'ae') {
      if (!aeAvailable()) throw new Error('this build has no autoencoder (or no weights for it)');
      ae = { pixels: dim, pending: [], encoded: 0, ms: 0, webgpu: Boolean(webgpu) };
      session = new lk.ClusterSession(grid, lk.autoencoder_latent_dim(), 'ae');
    } else {
      session = new lk.ClusterSession(grid, dim, features);
    }
    return { n: session.len(), dim: session.dim() };
  },
  async row({ index, data }) {
    if (ae) {
      if (data.length !== ae.pixels) throw new Error(`point ${index}: ${data.length} pixels, the autoencoder takes ${ae.pixels}`);
      ae.pending.push({ index, data });
      // encoded a batch at a time, so that the pixels of a large scan are never all held
      if (ae.pending.length >= AE_BATCH) await encodePending(ae.webgpu);
      return null;
    }
    need().set_row(index, data);
    return null;
  },
  failed({ index }) {
    need().mark_failed(index);
    return null;
  },
  async flush() {
    need();
    if (!ae) return null;
    await encodePending(ae.webgpu);
    // The device the autoencoder ran on (WebGPU when asked and offered, else the CPU), as the library says it.
    const d = ae.webgpu ? await (await gpuPackage()).device_check(true) : await lk.device_check(false);
    return { device: d.label, fallback_reason: d.fallback_reason ?? null, encoded: ae.encoded,
      ms_per_point: ae.encoded ? ae.ms / ae.encoded : null };
  },
  fit(o) {
    return need().fit(o);
  },
  scan(o) {
    return need().scan_k(o);
  },
  cluster(o) {
    return need().cluster(o);
  },
  score() {
    return need().score();
  },
  delegates({ clusters }) {
    need().set_delegates(clusters);
    return null;
  },
  json({ feature_seconds, delegate_seconds, seconds }) {
    return need().to_json(feature_seconds, delegate_seconds, seconds);
  },
  label_maps() {
    return need().label_maps();
  },
  label_png({ name }) {
    return need().label_map_png(name);
  },
  label_csv({ name }) {
    return need().label_map_csv(name);
  },
  orientation_maps({ grains, request }) {
    return need().orientation_maps(grains, request);
  },
  orientation_png({ grains, request, name }) {
    return need().orientation_map_png(grains, request, name);
  },
  orientation_csv({ grains, request, name }) {
    return need().orientation_map_csv(grains, request, name);
  },
  bench({ n, dim, k }) {
    const base = need();
    const n0 = base.len();
    const d = Math.min(dim, base.dim());
    const nx = Math.ceil(Math.sqrt(n * 1.6));
    const ny = Math.ceil(n / nx);
    const big = new lk.ClusterSession({ nx, ny }, d, 'bench');
    try {
      const rows = [];
      for (let i = 0; i < n0; i++) rows.push(base.row(i));
      let seed = 12345;
      const rnd = () => {
        seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
        return seed / 4294967296 - 0.5;
      };
      const row = new Float32Array(d);
      const stride = Math.max(1, Math.floor(base.dim() / d));
      for (let i = 0; i < nx * ny; i++) {
        const src = rows[(i * 7) % n0];
        for (let j = 0; j < d; j++) row[j] = src[j * stride] + 0.02 * rnd();
        big.set_row(i, row);
      }
      let t0 = performance.now();
      const fit = big.fit({});
      const fitMs = performance.now() - t0;
      t0 = performance.now();
      big.scan_k({ k_min: k[0], k_max: k[1] });
      const scanMs = performance.now() - t0;
      const times = [];
      for (let kk = k[0]; kk <= k[1] + 1; kk++) {
        // as the panel does it: labels and labelers first, the maps drawn, then the scores if the scan lacks them
        t0 = performance.now();
        const c = big.cluster({ k: kk, defer_scores: true });
        const clusterMs = performance.now() - t0;
        t0 = performance.now();
        big.label_maps();
        const mapsMs = performance.now() - t0;
        t0 = performance.now();
        big.score();
        times.push({ k: kk, found: c.k, scanned: kk <= k[1], cluster_ms: clusterMs, label_maps_ms: mapsMs,
          score_ms: c.scored ? 0 : performance.now() - t0 });
      }
      return { n: nx * ny, dim: d, n_components: fit.n_components, fit_ms: fitMs, scan_ms: scanMs, times };
    } finally {
      big.free();
    }
  },
};

// One request at a time, in the order sent (the autoencoder's pass awaits the GPU: rows sent meanwhile wait).
serveRpc(ops, { ready: booted, transferOf: (value) => (value instanceof Uint8Array ? [value.buffer] : []) });
