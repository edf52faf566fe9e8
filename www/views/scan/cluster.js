// The Scan view's "Cluster" panel: indexing-free clustering of the scan's images (Song et al., Acta Cryst. A75, 876,
// 2019) as `lauekit cluster` runs it, with its defaults (PCA 32 fitted on at most 2000 points, seed 0, K-means++ with
// 4 restarts, log scaling), so that the labels are those of a native run on the same images.
//
// Flow: the view's images, grid, calibration and request (scan.js `scanInput()`) → a feature pass over the scan's
// worker pool (scan-worker.js with a `features` setup: each worker reads its points and sends their feature vectors)
// → a ClusterSession in its own worker (cluster-worker.js): PCA, scores over the K range, the suggested K, labels.
// Moving K or switching the estimator re-clusters the PCA scores only. Shown: the explained variance, the scores
// against K, the label map of the chosen labeler (natural, PCA colour, direct colour, connected regions, and once
// the delegates are indexed the clusters' orientations as IPF colours), the delegates ringed, a table of the
// clusters. A click on the map (or Enter on it, arrow keys to move) opens that cluster's delegate in Images & peaks.
// "Index delegates" runs each cluster's delegate through the scan's pipeline (the next nearest member when it gives
// no grain, at most 5 tries, as `lauekit cluster --index-delegates`). Downloads: the JSON of `lauekit cluster`, the
// map shown as PNG (in the colours shown) and CSV.
//
// This module is the panel's composition root: its state, start-up, the clustering flow (features, PCA, K scan,
// re-clustering) and `window.lauekitCluster`. The parts: cluster-session.js (the session's worker, the messages),
// cluster-settings.js (features, PCA, K, estimator, labeler), cluster-plots.js, cluster-map.js (map, readout,
// table, PNG / CSV), cluster-delegates.js (Index delegates).

import { $ } from '../../lib/dom.js';
import { messageOf } from '../../lib/panel.js';
import { loadWasm } from '../../lib/wasm.js';
import { saveBlob } from '../../lib/download.js';
import { ScanRun } from './pool.js';
import { openSourcePoint, retainSource, scanInput } from './scan.js';
import { ClusterMessages, SessionClient } from './cluster-session.js';
import { ClusterSettingsPanel } from './cluster-settings.js';
import { ClusterPlots } from './cluster-plots.js';
import { ClusterMapPanel, IPF_MAPS } from './cluster-map.js';
import { DelegatesPanel } from './cluster-delegates.js';

/** `lauekit cluster`'s defaults. */
const PCA_FIT_POINTS = 2000;
const SEED = 0;

const state = {
  /** @type {ReturnType<typeof scanInput> | null} the scanInput() clustered */
  input: null,
  /** feature settings and name: {spec, name} */
  features: null,
  /** {n, dim} of the session */
  session: null,
  /** @type {number[]} points whose image could not be read */
  failed: [],
  featureSeconds: 0,
  /** ae: {device, ms_per_point} */
  ae: null,
  /** @type {{kind: 'features' | 'delegates', run: ScanRun, resolve: (v: any) => void} | null} the pass in progress */
  run: null,
  fit: null,
  scan: null,
  /** the current clustering (ClusterSession.cluster's result) */
  clustering: null,
  /** @type {any[]} label maps of the current clustering ([{name, kind, nx, ny, rgb, …}]) */
  maps: [],
  /** after "Index delegates": {clusters: [{label, delegate, material, ub, matching_rate, tried}], grains, maps} */
  indexed: null,
  labeler: 'cluster_labels',
  method: 'kmeans',
  /** @type {number | null} */
  k: null,
  /** @type {[number, number] | null} keyboard cursor on the map [ix, iy] */
  cursor: null,
  t0: 0,
};

/** @type {import('../../lib/wasm.js').Wasm | null} */
let wasm = null;
/** a K asked for while a re-clustering runs */
let wantedK = null;
let reclustering = false;

export const api = {
  /** @type {Promise<typeof api> | null} */
  ready: null,
  state,
  /** Clusters the Scan view's current images; resolves to true when done, false (and a message) otherwise. */
  run: () => clusterScan(),
  cancel: () => cancel(),
  /** Re-clusters at K (as moving the slider does); resolves when drawn. */
  setK: (/** @type {number} */ k) => setK(k),
  setMethod: (/** @type {string} */ m) => setMethod(m),
  setLabeler: (/** @type {string} */ name) => setLabeler(name),
  indexDelegates: () => delegates.run(),
  /** Times re-clustering an n-point session built from this one's features (see cluster-worker.js `bench`). */
  benchmark: (n = 6000, dim = 512, k = [7, 9]) => session.call('bench', { n, dim, k }),
  /** @type {Record<string, any>[]} every re-clustering: {k, method, n, ms (request to drawn), worker_ms, cluster_ms} */
  reclusters: [],
  /** @type {Record<string, any>[]} finished feature passes: {kind, features, points, total, seconds, workers, failed,
   * cancelled, ms_per_point (a point in a worker: its image read or rendered, decoded, features), extract_ms_per_point
   * (decoding and features only)} */
  runs: [],
  /** @type {{name: string, kind: string, nx: number, ny: number} | null} the map drawn */
  drawn: null,
  /** canvas CSS px of the centre of cell (ix, iy) of the map */
  cellCenter: (/** @type {number} */ ix, /** @type {number} */ iy) => map.view.cellCenter(ix, iy),
  /** @type {Record<string, any> | null} */
  readout: null,
  /** @type {{name: string, size: number, text: string | null} | null} */
  lastSaved: null,
  /** @type {number[]} delegates opened in Images & peaks: their point indices */
  opened: [],
  aeAvailable: false,
};
window.lauekitCluster = api;

/**
 * What the cluster panel's parts share.
 * @typedef {object} ClusterContext
 * @property {typeof state} state
 * @property {SessionClient} session the session's worker
 * @property {ClusterMessages} messages
 * @property {typeof api} api `window.lauekitCluster`
 * @property {() => void} updateButtons
 */

const session = new SessionClient();
/** @type {ClusterContext} */
const ctx = { state, session, messages: new ClusterMessages(), api, updateButtons: () => updateButtons() };
const settings = new ClusterSettingsPanel({
  run: () => clusterScan(),
  cancel: () => cancel(),
  refit: async () => {
    if (!state.fit || state.run) return;
    ctx.messages.clearError();
    try {
      await refit();
    } catch (e) {
      ctx.messages.showError(messageOf(e));
    }
  },
  setK: (k) => setK(k),
  setMethod: (m) => setMethod(m),
  setLabeler: (name) => setLabeler(name),
});
const plots = new ClusterPlots(state);
const map = new ClusterMapPanel(ctx, {
  openPoint: (index) => openSourcePoint(state.input.source, index, state.input.det, state.input.request),
});
const delegates = new DelegatesPanel(ctx, {
  indexed: () => {
    state.labeler = 'ipf_z';
    $('cluster-labeler', 'select').value = 'ipf_z';
    showClustering();
  },
});

// ---------------------------------------------------------------------------------------------------------------
// Start-up

async function start() {
  settings.wire();
  map.wire();
  delegates.wire();
  $('cluster-save-json').addEventListener('click', () => saveJson());
  wasm = await loadWasm();
  // The autoencoder is there when the build has it and its shipped weights (a latent length > 0).
  api.aeAvailable = typeof wasm.autoencoder_features === 'function' && typeof wasm.autoencoder_latent_dim === 'function'
    && wasm.autoencoder_latent_dim() > 0;
  settings.setAeAvailable(api.aeAvailable);
  ctx.messages.setStatus('Load the example scan or drop a scan\u2019s images, then \u201cCluster\u201d.');
  updateButtons();
  return api;
}

// ---------------------------------------------------------------------------------------------------------------
// Clustering a scan

async function clusterScan() {
  const { messages } = ctx;
  await api.ready;
  if (state.run) return false;
  messages.clearError();
  let input;
  try {
    // Pixel and autoencoder features need no calibration (indexing the delegates does).
    input = scanInput({ needCalibration: settings.featureChoice() === 'peaks' });
  } catch (e) {
    messages.setStatus(messageOf(e));
    return false;
  }
  const { problems } = settings.readNumbers();
  if (problems.length) {
    messages.showError(`Cluster settings: ${problems.join('; ')}`);
    return false;
  }
  if (input.count < 3) {
    messages.showError(`${input.count} points: clustering needs at least 3.`);
    return false;
  }
  const name = settings.featureChoice();
  /** @type {Record<string, any>} */
  const spec = { features: name };
  if (name === 'peaks') {
    spec.calibration = input.calibration;
    spec.params = input.request.peaks;
  }
  // The library checks the settings here, with its own message, before any worker starts.
  let dim;
  try {
    const f = new wasm.ClusterFeatures(spec);
    dim = f.dim();
    f.free();
  } catch (e) {
    messages.showError(`Feature settings: ${messageOf(e)}`);
    return false;
  }
  try {
    state.session = await session.call('new', { grid: input.grid, dim, features: name, webgpu: settings.webgpu() });
  } catch (e) {
    messages.showError(`Clustering: ${messageOf(e)}`);
    return false;
  }
  if (state.input && state.input.source !== input.source) retainSource(state.input.source, false);
  retainSource(input.source, true);
  Object.assign(state, { input, features: { spec, name }, failed: [], fit: null, scan: null, clustering: null, maps: [],
    indexed: null, ae: null, t0: performance.now() });
  resetView();
  /** @type {Promise<any>[]} */
  const sent = [];
  const t0 = performance.now();
  let workerMs = 0;
  let extractMs = 0;
  /** @type {{ok?: boolean, error?: string, cancelled?: boolean}} */
  const done = await new Promise((resolve) => {
    const size = Math.max(1, Math.min(input.count, input.workers));
    const r = new ScanRun({
      size,
      count: input.count,
      setup: { type: 'setup', grid: input.grid, request: input.request, calibration: input.calibration,
        synthetic: input.synthetic, features: spec },
      pointMessage: input.pointMessage,
      onPoint: (p) => {
        if (p.status === 'failed') {
          state.failed.push(p.index);
          sent.push(session.call('failed', { index: p.index }));
        } else {
          sent.push(session.call('row', { index: p.index, data: p.features }, [p.features.buffer]));
        }
        workerMs += p.elapsed_ms ?? 0;
        extractMs += p.extract_ms ?? 0;
        const k = state.failed.length;
        $('cluster-progress', 'progress').value = r.done / input.count;
        messages.setStatus(`features (${name}): ${r.done} / ${input.count} points${k ? `, ${k} unreadable` : ''} · `
          + `${(r.done / Math.max(1e-9, r.elapsedMs() / 1000)).toFixed(1)} points/s`);
      },
      onFail: (m) => resolve({ error: m }),
      onDone: () => resolve({ ok: true }),
    });
    state.run = { kind: 'features', run: r, resolve };
    updateButtons();
    r.start();
  });
  const pass = state.run?.run;
  state.run = null;
  state.featureSeconds = (performance.now() - t0) / 1000;
  api.runs.push({ kind: 'features', features: name, points: pass?.done ?? 0, total: input.count, workers: pass?.size ?? 0,
    seconds: state.featureSeconds, failed: state.failed.length, cancelled: Boolean(done.cancelled),
    ms_per_point: workerMs / Math.max(1, (pass?.done ?? 0) - state.failed.length),
    extract_ms_per_point: extractMs / Math.max(1, (pass?.done ?? 0) - state.failed.length) });
  updateButtons();
  if (!done.ok) {
    if (done.error) messages.showError(`Features stopped: ${done.error}`);
    messages.setStatus(done.cancelled ? 'Cancelled.' : 'Stopped (see the message).');
    return false;
  }
  try {
    await Promise.all(sent);
    if (state.failed.length === input.count) throw new Error('no image could be read');
    if (name === 'ae') {
      messages.setStatus('autoencoder: encoding the points…');
      state.ae = await session.call('flush');
    }
    await refit();
  } catch (e) {
    messages.showError(`Clustering: ${messageOf(e)}`);
    messages.setStatus('Stopped (see the message).');
    return false;
  }
  return true;
}

/** PCA, K scan and clustering at the suggested K (after the features, or when the PCA components change). */
async function refit() {
  const { pca, kMin, kMax, problems } = settings.readNumbers();
  if (problems.length) throw new Error(`Cluster settings: ${problems.join('; ')}`);
  ctx.messages.setStatus('PCA…');
  state.indexed = null;
  state.fit = await session.call('fit', { pca, pca_fit_points: PCA_FIT_POINTS });
  ctx.messages.setStatus('scores over K…');
  state.scan = await session.call('scan', { k_min: kMin, k_max: Math.min(kMax, state.session.n - 1), seed: SEED });
  const ks = state.scan.scores.map((/** @type {{k: number}} */ s) => s.k);
  const k = state.scan.suggested_k ?? ks[0];
  settings.setKRange(ks, k);
  plots.draw();
  await recluster(k);
  const n = state.session.n;
  const ae = state.ae ? `, autoencoder on ${state.ae.device} ${state.ae.ms_per_point?.toFixed(1)} ms/point` : '';
  const explained = state.fit.explained_variance_ratio.reduce((/** @type {number} */ s, /** @type {number} */ v) => s + v, 0);
  ctx.messages.setStatus(`${n} points, ${state.features.name} features in ${state.featureSeconds.toFixed(1)} s${ae}; PCA `
    + `${state.fit.n_components} components (${(100 * explained).toFixed(1)} % of the `
    + `variance); suggested K = ${state.scan.suggested_k ?? '—'}.`);
}

/**
 * Re-clusters at K with the current estimator; K asked for meanwhile is done next.
 * @param {number} k
 */
async function recluster(k) {
  wantedK = k;
  if (reclustering) return;
  reclustering = true;
  try {
    while (wantedK !== null) {
      const kk = wantedK;
      wantedK = null;
      const t0 = performance.now();
      // The labels and maps first; the silhouette and CH (known from the K scan for K-means in its range) after.
      const { value: c, workerMs } = await session.request('cluster', { k: kk, method: state.method, seed: SEED, defer_scores: true });
      const maps = await session.call('label_maps');
      state.clustering = c;
      state.maps = maps;
      state.k = kk;
      state.indexed = null;
      if (IPF_MAPS.includes(state.labeler)) state.labeler = 'cluster_labels';
      showClustering();
      const record = { k: kk, found: c.k, method: state.method, n: c.labels.length, ms: performance.now() - t0,
        worker_ms: workerMs, cluster_ms: c.elapsed_ms, score_ms: 0 };
      if (!c.scored && wantedK === null) {
        const sc = await session.call('score');
        if (state.clustering === c) Object.assign(c, { silhouette: sc.silhouette, calinski_harabasz: sc.calinski_harabasz, scored: true });
        record.score_ms = sc.elapsed_ms;
      }
      api.reclusters.push(record);
      showScores();
    }
  } catch (e) {
    ctx.messages.showError(`Clustering: ${messageOf(e)}`);
  } finally {
    reclustering = false;
    updateButtons();
  }
}

/** @param {number} k */
async function setK(k) {
  if (!state.scan) return;
  $('cluster-k', 'input').value = String(k);
  $('cluster-k-out').textContent = String(k);
  await recluster(Number(k));
}

/** @param {string} m 'kmeans' or 'bgm' */
async function setMethod(m) {
  $('cluster-method', 'select').value = m;
  state.method = m;
  if (state.scan) await recluster(state.k ?? Number($('cluster-k', 'input').value));
}

/** The clustering's scores under the slider. */
function showScores() {
  const c = state.clustering;
  const el = $('cluster-k-note');
  if (!c) return;
  /** @type {(v: number, d: number) => string} */
  const f = (v, d) => (Number.isFinite(v) ? v.toFixed(d) : '—');
  el.textContent = `K = ${state.k}${c.k !== state.k ? ` (${c.k} clusters found)` : ''}, ${c.method === 'bgm' ? 'Bayesian mixture' : 'K-means'}: `
    + `silhouette ${c.scored ? f(c.silhouette, 3) : '…'}, Calinski–Harabasz ${c.scored ? f(c.calinski_harabasz, 1) : '…'}, `
    + `${c.n_regions} connected regions. Moving K re-clusters at once.`;
}

/** @param {string} name a label map's or (once indexed) an IPF map's name */
function setLabeler(name) {
  $('cluster-labeler', 'select').value = name;
  state.labeler = name;
  map.draw();
  updateButtons();
}

function cancel() {
  const r = state.run;
  if (!r) return;
  r.run.stop();
  r.resolve({ cancelled: true });
}

// ---------------------------------------------------------------------------------------------------------------
// Showing it

function resetView() {
  state.maps = [];
  state.clustering = null;
  $('cluster-view').hidden = false;
  $('cluster-key').hidden = true;
  $('cluster-table', 'table').tBodies[0].textContent = '';
  $('cluster-progress', 'progress').value = 0;
  plots.draw();
  map.draw();
}

function showClustering() {
  const c = state.clustering;
  $('cluster-k-out').textContent = c ? `${state.k}${c.k !== state.k ? ` (${c.k} found)` : ''}` : '—';
  for (const o of $('cluster-labeler', 'select').options) if (IPF_MAPS.includes(o.value)) o.disabled = !state.indexed;
  $('cluster-labeler', 'select').value = state.labeler;
  plots.draw();
  map.draw();
  map.fillTable();
  updateButtons();
}

/** The JSON of `lauekit cluster`. */
async function saveJson() {
  if (!state.clustering) return;
  const stem = `${state.input.source.label || 'scan'}_cluster`;
  try {
    const seconds = (performance.now() - state.t0) / 1000;
    const text = await session.call('json', { feature_seconds: state.featureSeconds,
      delegate_seconds: state.indexed?.seconds ?? 0, seconds });
    api.lastSaved = saveBlob(`${stem}.json`, text, 'application/json');
  } catch (e) {
    ctx.messages.showError(`Could not write the JSON file: ${messageOf(e)}`);
  }
}

function updateButtons() {
  settings.update({ running: Boolean(state.run), ready: Boolean(wasm), scanned: Boolean(state.scan),
    clustered: Boolean(state.clustering), aeAvailable: api.aeAvailable });
}

api.ready = start();
api.ready.catch((e) => ctx.messages.showError(`The Cluster panel did not start: ${messageOf(e)}`));
