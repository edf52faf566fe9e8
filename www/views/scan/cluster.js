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
// map shown as PNG and CSV.
//
// For tests the panel exposes `window.lauekitCluster`.

import { $ } from '../../lib/dom.js';
import { loadWasm, spawnWorker } from '../../lib/wasm.js';
import { WorkerRpc } from '../../lib/rpc.js';
import { clearedPlot, gridAxes, gridMargins } from '../../lib/plotcanvas.js';
import { withPalette } from '../../lib/colors.js';
import { ScanRun, gridPosition, openSourcePoint, palette, retainSource, scanInput } from './scan.js';

/** `lauekit cluster`'s defaults. */
const PCA_FIT_POINTS = 2000;
const SEED = 0;
const DELEGATE_TRIES = 5;
const LABEL_MAPS = ['cluster_labels', 'cluster_pca', 'cluster_direct', 'cluster_regions'];
const IPF_MAPS = ['ipf_x', 'ipf_y', 'ipf_z'];


const state = {
  /** the scanInput() clustered: {source, grid, request, calibration, det, count, synthetic, pointMessage, workers} */
  input: null,
  /** feature settings and name: {spec, name} */
  features: null,
  /** {n, dim} of the session */
  session: null,
  failed: [],
  featureSeconds: 0,
  /** ae: {device, ms_per_point} */
  ae: null,
  /** the pass in progress: {kind: 'features' | 'delegates', run: ScanRun} */
  run: null,
  fit: null,
  scan: null,
  /** the current clustering (ClusterSession.cluster's result) */
  clustering: null,
  /** label maps of the current clustering ([{name, kind, nx, ny, rgb, …}]) */
  maps: [],
  /** after "Index delegates": {clusters: [{label, delegate, material, ub, matching_rate, tried}], grains, maps} */
  indexed: null,
  labeler: 'cluster_labels',
  method: 'kmeans',
  k: null,
  /** keyboard cursor on the map [ix, iy] */
  cursor: null,
  t0: 0,
};

let wasm = null;
let worker = null;
/** requests to the session's worker (lib/rpc.js) */
let rpc = null;
let workerReady = null;
/** a K asked for while a re-clustering runs */
let wantedK = null;
let reclustering = false;

export const api = {
  ready: null,
  state,
  /** Clusters the Scan view's current images; resolves to true when done, false (and a message) otherwise. */
  run: () => clusterScan(),
  cancel: () => cancel(),
  /** Re-clusters at K (as moving the slider does); resolves when drawn. */
  setK: (k) => setK(k),
  setMethod: (m) => setMethod(m),
  setLabeler: (name) => setLabeler(name),
  indexDelegates: () => indexDelegates(),
  /** Times re-clustering an n-point session built from this one's features (see cluster-worker.js `bench`). */
  benchmark: (n = 6000, dim = 512, k = [7, 9]) => call('bench', { n, dim, k }),
  /** every re-clustering: {k, method, n, ms (request to drawn), worker_ms, cluster_ms} */
  reclusters: [],
  /** finished feature passes: {kind, features, points, total, seconds, workers, failed, cancelled, ms_per_point (a point
   * in a worker: its image read or rendered, decoded, features), extract_ms_per_point (decoding and features only)} */
  runs: [],
  /** the map drawn: {name, kind, nx, ny} */
  drawn: null,
  /** canvas CSS px of the centre of cell (ix, iy) of the map */
  cellCenter: (ix, iy) => view.cellCenter(ix, iy),
  readout: null,
  lastSaved: null,
  /** delegates opened in Images & peaks: their point indices */
  opened: [],
  aeAvailable: false,
};
window.lauekitCluster = api;

// ---------------------------------------------------------------------------------------------------------------
// The session's worker

function startWorker() {
  if (workerReady) return workerReady;
  workerReady = new Promise((resolve, reject) => {
    try {
      worker = spawnWorker(new URL('./cluster-worker.js', import.meta.url));
    } catch (e) {
      reject(new Error(`Could not start the clustering worker: ${messageOf(e)}`));
      return;
    }
    rpc = new WorkerRpc(worker);
    worker.addEventListener('message', (ev) => {
      const m = ev.data;
      if (m.type === 'ready') {
        resolve();
      } else if (m.type === 'boot-error') {
        const e = new Error(`The clustering worker could not load the WebAssembly package: ${m.message}`);
        reject(e);
        rpc.failAll(e);
      }
    });
    worker.onerror = (ev) => {
      ev.preventDefault();
      const e = new Error(`The clustering worker failed: ${ev.message || 'could not load views/scan/cluster-worker.js'}`);
      reject(e);
      rpc.failAll(e);
    };
  });
  return workerReady;
}

/** A request to the session's worker; resolves to {value, workerMs}. */
async function request(op, args = {}, transfer = []) {
  await startWorker();
  return rpc.request(op, args, { transfer });
}

/** As `request`, the value only. */
async function call(op, args = {}, transfer = []) {
  return (await request(op, args, transfer)).value;
}

// ---------------------------------------------------------------------------------------------------------------
// Start-up

async function start() {
  wireEvents();
  new ResizeObserver(() => draw()).observe($('cluster-map-canvas'));
  wasm = await loadWasm();
  // The autoencoder is there when the build has it and its shipped weights (a latent length > 0).
  api.aeAvailable = typeof wasm.autoencoder_features === 'function' && typeof wasm.autoencoder_latent_dim === 'function'
    && wasm.autoencoder_latent_dim() > 0;
  const ae = /** @type {HTMLInputElement} */ (document.querySelector('input[name="cluster-features"][value="ae"]'));
  ae.disabled = !api.aeAvailable;
  $('cluster-ae-label').classList.toggle('disabled', !api.aeAvailable);
  if (!api.aeAvailable) $('cluster-ae-label').title = 'the autoencoder (or its weights) is not in this build of the page';
  $('cluster-webgpu', 'input').disabled = !api.aeAvailable;
  setStatus('Load the example scan or drop a scan\u2019s images, then \u201cCluster\u201d.');
  updateButtons();
  return api;
}

// ---------------------------------------------------------------------------------------------------------------
// Clustering a scan

function featureChoice() {
  return /** @type {HTMLInputElement | null} */ (document.querySelector('input[name="cluster-features"]:checked'))?.value ?? 'pixels';
}

function readNumbers() {
  const problems = [];
  const pca = Number($('cluster-pca', 'input').value);
  if (!Number.isInteger(pca) || pca < 1 || pca > 512) problems.push('PCA components: a whole number from 1 to 512');
  const kMin = Number($('cluster-kmin', 'input').value);
  const kMax = Number($('cluster-kmax', 'input').value);
  if (!Number.isInteger(kMin) || !Number.isInteger(kMax) || kMin < 2 || kMax < kMin || kMax > 1000) {
    problems.push('K range: whole numbers with 2 ≤ K from ≤ K to ≤ 1000');
  }
  return { pca, kMin, kMax, problems };
}

async function clusterScan() {
  await api.ready;
  if (state.run) return false;
  clearError();
  let input;
  try {
    // Pixel and autoencoder features need no calibration (indexing the delegates does).
    input = scanInput({ needCalibration: featureChoice() === 'peaks' });
  } catch (e) {
    setStatus(messageOf(e));
    return false;
  }
  const { problems } = readNumbers();
  if (problems.length) {
    showError(`Cluster settings: ${problems.join('; ')}`);
    return false;
  }
  if (input.count < 3) {
    showError(`${input.count} points: clustering needs at least 3.`);
    return false;
  }
  const name = featureChoice();
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
    showError(`Feature settings: ${messageOf(e)}`);
    return false;
  }
  try {
    state.session = await call('new', { grid: input.grid, dim, features: name, webgpu: $('cluster-webgpu', 'input').checked });
  } catch (e) {
    showError(`Clustering: ${messageOf(e)}`);
    return false;
  }
  if (state.input && state.input.source !== input.source) retainSource(state.input.source, false);
  retainSource(input.source, true);
  Object.assign(state, { input, features: { spec, name }, failed: [], fit: null, scan: null, clustering: null, maps: [],
    indexed: null, ae: null, t0: performance.now() });
  resetView();
  const sent = [];
  const t0 = performance.now();
  let workerMs = 0;
  let extractMs = 0;
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
          sent.push(call('failed', { index: p.index }));
        } else {
          sent.push(call('row', { index: p.index, data: p.features }, [p.features.buffer]));
        }
        workerMs += p.elapsed_ms ?? 0;
        extractMs += p.extract_ms ?? 0;
        const k = state.failed.length;
        $('cluster-progress', 'progress').value = r.done / input.count;
        setStatus(`features (${name}): ${r.done} / ${input.count} points${k ? `, ${k} unreadable` : ''} · `
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
    if (done.error) showError(`Features stopped: ${done.error}`);
    setStatus(done.cancelled ? 'Cancelled.' : 'Stopped (see the message).');
    return false;
  }
  try {
    await Promise.all(sent);
    if (state.failed.length === input.count) throw new Error('no image could be read');
    if (name === 'ae') {
      setStatus('autoencoder: encoding the points…');
      state.ae = await call('flush');
    }
    await refit();
  } catch (e) {
    showError(`Clustering: ${messageOf(e)}`);
    setStatus('Stopped (see the message).');
    return false;
  }
  return true;
}

/** PCA, K scan and clustering at the suggested K (after the features, or when the PCA components change). */
async function refit() {
  const { pca, kMin, kMax, problems } = readNumbers();
  if (problems.length) throw new Error(`Cluster settings: ${problems.join('; ')}`);
  setStatus('PCA…');
  state.indexed = null;
  state.fit = await call('fit', { pca, pca_fit_points: PCA_FIT_POINTS });
  setStatus('scores over K…');
  state.scan = await call('scan', { k_min: kMin, k_max: Math.min(kMax, state.session.n - 1), seed: SEED });
  const ks = state.scan.scores.map((s) => s.k);
  const slider = $('cluster-k', 'input');
  slider.min = String(Math.min(...ks));
  slider.max = String(Math.max(...ks));
  const k = state.scan.suggested_k ?? ks[0];
  slider.value = String(k);
  drawPlots();
  await recluster(k);
  const n = state.session.n;
  const ae = state.ae ? `, autoencoder on ${state.ae.device} ${state.ae.ms_per_point?.toFixed(1)} ms/point` : '';
  setStatus(`${n} points, ${state.features.name} features in ${state.featureSeconds.toFixed(1)} s${ae}; PCA `
    + `${state.fit.n_components} components (${(100 * sum(state.fit.explained_variance_ratio)).toFixed(1)} % of the `
    + `variance); suggested K = ${state.scan.suggested_k ?? '—'}.`);
}

/** Re-clusters at K with the current estimator; K asked for meanwhile is done next. */
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
      const { value: c, workerMs } = await request('cluster', { k: kk, method: state.method, seed: SEED, defer_scores: true });
      const maps = await call('label_maps');
      state.clustering = c;
      state.maps = maps;
      state.k = kk;
      state.indexed = null;
      if (IPF_MAPS.includes(state.labeler)) state.labeler = 'cluster_labels';
      showClustering();
      const record = { k: kk, found: c.k, method: state.method, n: c.labels.length, ms: performance.now() - t0,
        worker_ms: workerMs, cluster_ms: c.elapsed_ms, score_ms: 0 };
      if (!c.scored && wantedK === null) {
        const sc = await call('score');
        if (state.clustering === c) Object.assign(c, { silhouette: sc.silhouette, calinski_harabasz: sc.calinski_harabasz, scored: true });
        record.score_ms = sc.elapsed_ms;
      }
      api.reclusters.push(record);
      showScores();
    }
  } catch (e) {
    showError(`Clustering: ${messageOf(e)}`);
  } finally {
    reclustering = false;
    updateButtons();
  }
}

async function setK(k) {
  if (!state.scan) return;
  $('cluster-k', 'input').value = String(k);
  $('cluster-k-out').textContent = String(k);
  await recluster(Number(k));
}

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
  const f = (v, d) => (Number.isFinite(v) ? v.toFixed(d) : '—');
  el.textContent = `K = ${state.k}${c.k !== state.k ? ` (${c.k} clusters found)` : ''}, ${c.method === 'bgm' ? 'Bayesian mixture' : 'K-means'}: `
    + `silhouette ${c.scored ? f(c.silhouette, 3) : '…'}, Calinski–Harabasz ${c.scored ? f(c.calinski_harabasz, 1) : '…'}, `
    + `${c.n_regions} connected regions. Moving K re-clusters at once.`;
}

function setLabeler(name) {
  $('cluster-labeler', 'select').value = name;
  state.labeler = name;
  draw();
  updateButtons();
}

function cancel() {
  const r = state.run;
  if (!r) return;
  r.run.stop();
  r.resolve({ cancelled: true });
}

// ---------------------------------------------------------------------------------------------------------------
// Delegates

/** Analyses points `indices` of the clustered source with the scan's request; resolves to their PointResults. */
function analysePoints(indices) {
  const input = state.input;
  const results = new Map();
  return new Promise((resolve, reject) => {
    const r = new ScanRun({
      size: Math.max(1, Math.min(indices.length, input.workers)),
      count: indices.length,
      setup: { type: 'setup', grid: input.grid, request: input.request, calibration: input.calibration,
        synthetic: input.synthetic },
      pointMessage: (j) => input.pointMessage(indices[j]),
      onPoint: (p) => results.set(p.index, p),
      onFail: (m) => reject(new Error(m)),
      onDone: () => resolve(results),
    });
    state.run = { kind: 'delegates', run: r, resolve: () => reject(new Error('cancelled')) };
    updateButtons();
    r.start();
  });
}

/** Indexes every cluster's delegate (then the next nearest members, at most 5 tries) and colours the clusters by the
 * orientation found, as `lauekit cluster --index-delegates`. */
async function indexDelegates() {
  const c = state.clustering;
  if (!c || state.run) return false;
  clearError();
  if (!state.input.calibration) {
    showError('Index delegates: the scan has no calibration; drop its LaueTools .det and cluster again.');
    return false;
  }
  const failed = new Set(state.failed);
  const clusters = c.members.map((m, label) => ({
    label, delegate: m[0], material: null, ub: null, matching_rate: null, tried: 0,
    // as the CLI: members nearest the centroid first, at most 4 × DELEGATE_TRIES looked at; a member without peaks
    // (an empty pattern in a mixed cluster) does not count as a try
    queue: m.filter((i) => !failed.has(i)).slice(0, 4 * DELEGATE_TRIES), grain: null,
  }));
  const t0 = performance.now();
  let images = 0;
  try {
    for (;;) {
      const todo = clusters.filter((x) => !x.grain && x.queue.length && x.tried < DELEGATE_TRIES);
      if (!todo.length) break;
      const jobs = todo.map((x) => ({ x, index: x.queue.shift() }));
      setIndexStatus(`indexing ${jobs.length} delegate${jobs.length > 1 ? 's' : ''}${images ? ' (next members)' : ''}…`);
      const results = await analysePoints(jobs.map((j) => j.index));
      images += jobs.length;
      for (const { x, index } of jobs) {
        if ((results.get(index)?.n_peaks ?? 0) > 0) x.tried += 1;
        const g = results.get(index)?.grains?.[0];
        if (g) Object.assign(x, { grain: g, delegate: index, material: g.material, ub: g.ub, matching_rate: g.matching_rate });
      }
    }
  } catch (e) {
    state.run = null;
    updateButtons();
    showError(`Index delegates: ${messageOf(e)}`);
    setIndexStatus('');
    return false;
  }
  state.run = null;
  const out = clusters.map(({ label, delegate, material, ub, matching_rate, tried }) => ({ label, delegate, material, ub,
    matching_rate, tried }));
  const grains = clusters.map((x) => x.grain);
  try {
    await call('delegates', { clusters: out });
    const maps = await call('orientation_maps', { grains, request: input().request });
    state.indexed = { clusters: out, grains, maps, seconds: (performance.now() - t0) / 1000, images };
  } catch (e) {
    showError(`Index delegates: ${messageOf(e)}`);
    updateButtons();
    return false;
  }
  const found = out.filter((x) => x.material).length;
  setIndexStatus(`${found} of ${out.length} clusters indexed (${images} image${images > 1 ? 's' : ''} analysed, `
    + `${state.indexed.seconds.toFixed(1)} s); the labeler shows their orientations.`);
  state.labeler = 'ipf_z';
  $('cluster-labeler', 'select').value = 'ipf_z';
  showClustering();
  return true;
}

function input() {
  return state.input;
}

// ---------------------------------------------------------------------------------------------------------------
// Drawing

function resetView() {
  state.maps = [];
  state.clustering = null;
  $('cluster-view').hidden = false;
  $('cluster-key').hidden = true;
  $('cluster-table', 'table').tBodies[0].textContent = '';
  $('cluster-progress', 'progress').value = 0;
  drawPlots();
  draw();
}

function showClustering() {
  const c = state.clustering;
  $('cluster-k-out').textContent = c ? `${state.k}${c.k !== state.k ? ` (${c.k} found)` : ''}` : '—';
  for (const o of $('cluster-labeler', 'select').options) if (IPF_MAPS.includes(o.value)) o.disabled = !state.indexed;
  $('cluster-labeler', 'select').value = state.labeler;
  drawPlots();
  draw();
  fillTable();
  updateButtons();
}

function currentMap() {
  if (IPF_MAPS.includes(state.labeler)) return state.indexed?.maps.find((m) => m.name === state.labeler) ?? null;
  return withPalette(state.maps.find((m) => m.name === state.labeler) ?? null, palette());
}

function sum(a) {
  return a.reduce((s, v) => s + v, 0);
}

/** The explained-variance and score plots. */
function drawPlots() {
  drawEv();
  drawScores();
}

function axes(g, w, h, pad) {
  g.strokeStyle = '#8a93a6';
  g.lineWidth = 1;
  g.beginPath();
  g.moveTo(pad.l, pad.t);
  g.lineTo(pad.l, h - pad.b);
  g.lineTo(w - pad.r, h - pad.b);
  g.stroke();
  g.font = '10px system-ui, "DejaVu Sans", sans-serif';
  g.fillStyle = '#1d2330';
}

function drawEv() {
  const { g, w, h, tick } = clearedPlot($('cluster-ev-plot'), 320, 180);
  const f = state.fit;
  if (!f) return;
  const r = f.explained_variance_ratio;
  const pad = { l: 34, r: 10, t: 10, b: 24 };
  axes(g, w, h, pad);
  const pw = w - pad.l - pad.r;
  const ph = h - pad.t - pad.b;
  const bw = pw / r.length;
  const y = (v) => pad.t + ph * (1 - v);
  g.fillStyle = '#4a78c2';
  r.forEach((v, i) => g.fillRect(pad.l + i * bw + bw * 0.1, y(v), bw * 0.8, ph * v));
  g.strokeStyle = '#d0652a';
  g.lineWidth = 1.5;
  g.beginPath();
  let c = 0;
  r.forEach((v, i) => {
    c += v;
    const x = pad.l + (i + 0.5) * bw;
    if (i === 0) g.moveTo(x, y(c));
    else g.lineTo(x, y(c));
  });
  g.stroke();
  g.fillStyle = '#1d2330';
  g.textAlign = 'right';
  g.textBaseline = 'middle';
  for (const t of [0, 0.5, 1]) tick('y', `${t * 100}%`, pad.l - 3, y(t));
  g.textAlign = 'center';
  g.textBaseline = 'top';
  const step = Math.max(1, Math.ceil(r.length / 8));
  for (let i = 0; i < r.length; i += step) tick('x', String(i + 1), pad.l + (i + 0.5) * bw, h - pad.b + 3);
  g.fillText('component', pad.l + pw / 2, h - 11);
}

function drawScores() {
  const { g, w, h, tick } = clearedPlot($('cluster-score-plot'), 320, 180);
  const s = state.scan;
  if (!s) return;
  const sc = s.scores;
  const pad = { l: 34, r: 40, t: 10, b: 24 };
  axes(g, w, h, pad);
  const pw = w - pad.l - pad.r;
  const ph = h - pad.t - pad.b;
  const ks = sc.map((x) => x.k);
  const k0 = Math.min(...ks);
  const k1 = Math.max(...ks);
  const x = (k) => pad.l + (k1 > k0 ? ((k - k0) / (k1 - k0)) * pw : pw / 2);
  const finite = (a) => a.filter(Number.isFinite);
  const range = (a) => {
    const f = finite(a);
    if (!f.length) return [0, 1];
    const lo = Math.min(...f);
    const hi = Math.max(...f);
    return hi > lo ? [lo, hi] : [lo - 1, hi + 1];
  };
  /** @type {(vals: number[], range: number[], colour: string) => void} */
  const line = (vals, [lo, hi], colour) => {
    g.strokeStyle = colour;
    g.fillStyle = colour;
    g.lineWidth = 1.5;
    g.beginPath();
    let on = false;
    sc.forEach((p, i) => {
      const v = vals[i];
      if (!Number.isFinite(v)) {
        on = false;
        return;
      }
      const yy = pad.t + ph * (1 - (v - lo) / (hi - lo));
      if (on) g.lineTo(x(p.k), yy);
      else g.moveTo(x(p.k), yy);
      on = true;
    });
    g.stroke();
    sc.forEach((p, i) => {
      const v = vals[i];
      if (Number.isFinite(v)) g.fillRect(x(p.k) - 1.5, pad.t + ph * (1 - (v - lo) / (hi - lo)) - 1.5, 3, 3);
    });
  };
  const sil = sc.map((p) => p.silhouette);
  const ch = sc.map((p) => p.calinski_harabasz);
  const rs = range(sil);
  const rc = range(ch);
  if (s.suggested_k != null) {
    g.strokeStyle = '#555';
    g.setLineDash([4, 3]);
    g.beginPath();
    g.moveTo(x(s.suggested_k), pad.t);
    g.lineTo(x(s.suggested_k), h - pad.b);
    g.stroke();
    g.setLineDash([]);
  }
  line(sil, rs, '#2f6fde');
  line(ch, rc, '#d0652a');
  if (state.k != null && state.k >= k0 && state.k <= k1) {
    const i = ks.indexOf(state.k);
    if (i >= 0 && Number.isFinite(sil[i])) {
      g.fillStyle = '#000';
      g.beginPath();
      g.arc(x(state.k), pad.t + ph * (1 - (sil[i] - rs[0]) / (rs[1] - rs[0])), 4, 0, 2 * Math.PI);
      g.fill();
    }
  }
  g.font = '10px system-ui, "DejaVu Sans", sans-serif';
  g.fillStyle = '#2f6fde';
  g.textAlign = 'right';
  g.textBaseline = 'middle';
  tick('y', rs[1].toFixed(2), pad.l - 3, pad.t);
  tick('y', rs[0].toFixed(2), pad.l - 3, h - pad.b);
  g.fillStyle = '#d0652a';
  g.textAlign = 'left';
  tick('y2', rc[1].toFixed(0), w - pad.r + 3, pad.t);
  tick('y2', rc[0].toFixed(0), w - pad.r + 3, h - pad.b);
  g.fillStyle = '#1d2330';
  g.textAlign = 'center';
  g.textBaseline = 'top';
  const step = Math.max(1, Math.ceil((k1 - k0 + 1) / 10));
  for (let k = k0; k <= k1; k += step) tick('x', String(k), x(k), h - pad.b + 3);
  g.fillText(`K${s.suggested_k != null ? ` (suggested ${s.suggested_k})` : ''}`, pad.l + pw / 2, h - 11);
}

/** The label map (nearest-neighbour blocks of its `rgb`), the delegates ringed, the hover / keyboard cell framed. */
class ClusterMapView {
  constructor(canvas) {
    this.canvas = canvas;
    this.box = null;
    this.map = null;
  }

  draw(map, grid, delegates, mark) {
    this.map = map;
    const dpr = window.devicePixelRatio || 1;
    const w = this.canvas.clientWidth || 600;
    const h = this.canvas.clientHeight || 320;
    this.canvas.width = Math.round(w * dpr);
    this.canvas.height = Math.round(h * dpr);
    const g = this.canvas.getContext('2d');
    g.setTransform(dpr, 0, 0, dpr, 0, 0);
    g.clearRect(0, 0, w, h);
    if (!map) {
      this.box = null;
      this.canvas.ticks = {};
      return;
    }
    // Margins for the axes (ix, iy; x, y in µm when the grid has a step).
    const step = grid?.step_um ?? null;
    const [sx, sy] = step ?? [1, 1];
    const aspect = sy / sx;
    const mg = gridMargins(step);
    let cw = Math.max(0.5, Math.min((w - mg.l - mg.r) / map.nx, (h - mg.t - mg.b) / (map.ny * aspect)));
    if (cw >= 4) cw = Math.floor(cw);
    const ch = cw * aspect;
    const bw = cw * map.nx;
    const bh = ch * map.ny;
    const x0 = Math.round(mg.l + (w - mg.l - mg.r - bw) / 2);
    const y0 = Math.round(mg.t + (h - mg.t - mg.b - bh) / 2);
    this.box = { x: x0, y: y0, w: bw, h: bh, cw, ch };
    const img = new ImageData(map.nx, map.ny);
    map.rgb.forEach((c, k) => {
      const [r, gg, b] = c[0] >= 0 ? c : [213, 217, 226];
      img.data.set([r, gg, b, 255], 4 * k);
    });
    const off = document.createElement('canvas');
    off.width = map.nx;
    off.height = map.ny;
    off.getContext('2d').putImageData(img, 0, 0);
    g.imageSmoothingEnabled = false;
    g.drawImage(off, x0, y0, bw, bh);
    g.strokeStyle = '#8a93a6';
    g.lineWidth = 1;
    g.strokeRect(x0 - 0.5, y0 - 0.5, bw + 1, bh + 1);
    gridAxes(this.canvas, g, this.box, map.nx, map.ny, step);
    // Delegates: a black and white ring.
    const rr = Math.max(2.5, Math.min(cw, ch) * 0.32);
    for (const [ix, iy] of delegates) {
      const cx = x0 + (ix + 0.5) * cw;
      const cy = y0 + (iy + 0.5) * ch;
      g.lineWidth = 3;
      g.strokeStyle = '#000';
      g.beginPath();
      g.arc(cx, cy, rr, 0, 2 * Math.PI);
      g.stroke();
      g.lineWidth = 1.5;
      g.strokeStyle = '#fff';
      g.stroke();
    }
    if (mark) {
      const [ix, iy] = mark;
      g.strokeStyle = '#000';
      g.lineWidth = 2;
      g.strokeRect(x0 + ix * cw, y0 + iy * ch, cw, ch);
      g.strokeStyle = '#fff';
      g.lineWidth = 1;
      g.strokeRect(x0 + ix * cw + 1.5, y0 + iy * ch + 1.5, cw - 3, ch - 3);
    }
  }

  cellAt(x, y) {
    const b = this.box;
    if (!b || !this.map) return null;
    const ix = Math.floor((x - b.x) / b.cw);
    const iy = Math.floor((y - b.y) / b.ch);
    if (ix < 0 || iy < 0 || ix >= this.map.nx || iy >= this.map.ny) return null;
    return [ix, iy];
  }

  cellCenter(ix, iy) {
    const b = this.box;
    if (!b) return null;
    return [b.x + (ix + 0.5) * b.cw, b.y + (iy + 0.5) * b.ch];
  }
}

const view = new ClusterMapView($('cluster-map-canvas'));
let hover = null;

/** The delegate of each cluster: the indexed member once indexed, else the member nearest the centroid. */
function delegateOf(label) {
  const x = state.indexed?.clusters[label];
  return x ? x.delegate : state.clustering?.members[label]?.[0];
}

function draw() {
  const m = currentMap();
  const c = state.clustering;
  const grid = state.input?.grid ?? null;
  const delegates = c && grid ? c.members.map((_, l) => gridPosition(grid, delegateOf(l))) : [];
  view.draw(m, grid, delegates, hover ?? state.cursor);
  api.drawn = m ? { name: m.name, kind: m.kind, nx: m.nx, ny: m.ny } : null;
  showKey(m);
}

let keyUrl = null;
let keyFor = null;

/** IPF maps: the library's PNG (with the IPF key) under the map. */
async function showKey(m) {
  const el = $('cluster-key');
  if (!m || !IPF_MAPS.includes(m.name) || !state.indexed) {
    el.hidden = true;
    return;
  }
  const id = `${m.name}:${state.indexed.seconds}`;
  el.hidden = false;
  if (keyFor === id) return;
  keyFor = id;
  try {
    const png = await call('orientation_png', { grains: state.indexed.grains, request: state.input.request, name: m.name });
    if (keyUrl) URL.revokeObjectURL(keyUrl);
    keyUrl = URL.createObjectURL(new Blob([png], { type: 'image/png' }));
    $('cluster-key-img', 'img').src = keyUrl;
  } catch (e) {
    el.hidden = true;
    showError(`The IPF key: ${messageOf(e)}`);
  }
}

function swatch(rgb, title) {
  const s = document.createElement('span');
  s.className = 'cluster-swatch';
  s.style.background = `rgb(${rgb.join(',')})`;
  s.title = title;
  return s;
}

function fillTable() {
  const body = $('cluster-table', 'table').tBodies[0];
  body.textContent = '';
  const c = state.clustering;
  if (!c) return;
  const natural = withPalette(state.maps.find((m) => m.name === 'cluster_labels'), palette());
  const grid = state.input.grid;
  const counts = new Array(c.k).fill(0);
  for (const l of c.labels) counts[l] += 1;
  c.members.forEach((_, l) => {
    const tr = document.createElement('tr');
    const d = delegateOf(l);
    const [ix, iy] = gridPosition(grid, d);
    const nat = natural ? natural.rgb[iy * grid.nx + ix] : [128, 128, 128];
    const x = state.indexed?.clusters[l];
    const cells = [String(l), null, String(counts[l]), `${d} (${ix}, ${iy})`,
      x ? (x.material ?? `none (${x.tried} tried)`) : '—', x?.matching_rate != null ? `${x.matching_rate.toFixed(1)} %` : '—'];
    cells.forEach((t, j) => {
      const td = document.createElement('td');
      if (j === 1) td.append(swatch(nat, 'natural colour'), swatch(c.centroid_rgb[l], 'PCA colour'));
      else td.textContent = t;
      tr.append(td);
    });
    const td = document.createElement('td');
    const b = document.createElement('button');
    b.type = 'button';
    b.textContent = 'open';
    b.setAttribute('aria-label', `Open the delegate of cluster ${l} (point ${d}) in Images & peaks`);
    b.addEventListener('click', () => openDelegate(l));
    td.append(b);
    tr.append(td);
    body.append(tr);
  });
}

// ---------------------------------------------------------------------------------------------------------------
// Readout, opening a delegate

function pointAt(ix, iy) {
  const g = state.input?.grid;
  if (!g) return -1;
  const x = g.snake && iy % 2 === 1 ? g.nx - 1 - ix : ix;
  return iy * g.nx + x;
}

function readout(cell) {
  const el = $('cluster-readout');
  const c = state.clustering;
  if (!cell || !c) {
    api.readout = null;
    el.textContent = c ? 'ix —  iy —' : '';
    return;
  }
  const [ix, iy] = cell;
  const i = pointAt(ix, iy);
  const l = c.labels[i];
  const d = delegateOf(l);
  const x = state.indexed?.clusters[l];
  const n = c.labels.filter((v) => v === l).length;
  api.readout = { ix, iy, index: i, label: l, delegate: d, region: c.regions[i] };
  el.textContent = `ix ${ix}  iy ${iy} · point ${i} · cluster ${l} (${n} points, region ${c.regions[i]}) · delegate `
    + `point ${d}${x?.material ? ` · ${x.material}, ${x.matching_rate.toFixed(1)} %` : ''}`
    + `${state.failed.includes(i) ? ' · image unreadable' : ''} — click or Enter: open the delegate`;
}

async function openDelegate(label) {
  const d = delegateOf(label);
  if (d == null || !state.input) return;
  try {
    api.opened.push(d);
    await openSourcePoint(state.input.source, d, state.input.det, state.input.request);
  } catch (e) {
    showError(`Could not open point ${d}: ${messageOf(e)}`);
  }
}

function canvasXY(ev) {
  const r = view.canvas.getBoundingClientRect();
  return [ev.clientX - r.left, ev.clientY - r.top];
}

// ---------------------------------------------------------------------------------------------------------------
// Downloads

function saveBlob(name, data, type) {
  const blob = new Blob([data], { type });
  const a = document.createElement('a');
  a.href = URL.createObjectURL(blob);
  a.download = name;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(a.href), 10_000);
  api.lastSaved = { name, size: blob.size, text: typeof data === 'string' ? data : null };
}

async function save(kind) {
  if (!state.clustering) return;
  const stem = `${state.input.source.label || 'scan'}_cluster`;
  const name = state.labeler;
  const ipf = IPF_MAPS.includes(name);
  try {
    if (kind === 'json') {
      const seconds = (performance.now() - state.t0) / 1000;
      const text = await call('json', { feature_seconds: state.featureSeconds,
        delegate_seconds: state.indexed?.seconds ?? 0, seconds });
      saveBlob(`${stem}.json`, text, 'application/json');
    } else if (kind === 'png') {
      const png = ipf
        ? await call('orientation_png', { grains: state.indexed.grains, request: state.input.request, name })
        : await call('label_png', { name });
      saveBlob(`${stem}_${name}.png`, png, 'image/png');
    } else if (kind === 'csv') {
      const csv = ipf
        ? await call('orientation_csv', { grains: state.indexed.grains, request: state.input.request, name })
        : await call('label_csv', { name });
      saveBlob(`${stem}_${name}.csv`, csv, 'text/csv');
    }
  } catch (e) {
    showError(`Could not write the ${kind.toUpperCase()} file: ${messageOf(e)}`);
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Events

function wireEvents() {
  $('cluster-run').addEventListener('click', () => clusterScan());
  $('cluster-cancel').addEventListener('click', () => cancel());
  $('cluster-k').addEventListener('input', () => setK(Number($('cluster-k', 'input').value)));
  $('cluster-method').addEventListener('change', () => setMethod($('cluster-method', 'select').value));
  $('cluster-labeler').addEventListener('change', () => setLabeler($('cluster-labeler', 'select').value));
  // The Scan view's categorical palette colours the label maps too.
  document.addEventListener('change', (e) => {
    if (/** @type {Element} */ (e.target)?.id !== 'scan-palette') return;
    draw();
    fillTable();
  });
  $('cluster-pca').addEventListener('change', async () => {
    if (!state.fit || state.run) return;
    clearError();
    try {
      await refit();
    } catch (e) {
      showError(messageOf(e));
    }
  });
  for (const id of ['cluster-kmin', 'cluster-kmax']) {
    $(id).addEventListener('change', async () => {
      if (!state.fit || state.run) return;
      clearError();
      try {
        await refit();
      } catch (e) {
        showError(messageOf(e));
      }
    });
  }
  $('cluster-index').addEventListener('click', () => indexDelegates());
  $('cluster-save-json').addEventListener('click', () => save('json'));
  $('cluster-save-png').addEventListener('click', () => save('png'));
  $('cluster-save-csv').addEventListener('click', () => save('csv'));
  const canvas = view.canvas;
  canvas.addEventListener('pointermove', (e) => {
    const cell = view.cellAt(...canvasXY(e));
    if ((cell?.join() ?? '') !== (hover?.join() ?? '')) {
      hover = cell;
      draw();
    }
    readout(cell);
  });
  canvas.addEventListener('pointerleave', () => {
    hover = null;
    draw();
    readout(state.cursor);
  });
  canvas.addEventListener('click', (e) => {
    const cell = view.cellAt(...canvasXY(e));
    if (cell && state.clustering) openDelegate(state.clustering.labels[pointAt(...cell)]);
  });
  canvas.addEventListener('keydown', (e) => {
    const m = view.map;
    if (!m || !state.clustering) return;
    const [ix, iy] = state.cursor ?? [0, 0];
    const moves = { ArrowLeft: [-1, 0], ArrowRight: [1, 0], ArrowUp: [0, -1], ArrowDown: [0, 1] };
    if (moves[e.key]) {
      e.preventDefault();
      const [dx, dy] = moves[e.key];
      state.cursor = [Math.min(m.nx - 1, Math.max(0, ix + dx)), Math.min(m.ny - 1, Math.max(0, iy + dy))];
      draw();
      readout(state.cursor);
    } else if (e.key === 'Enter' || e.key === ' ') {
      e.preventDefault();
      state.cursor ??= [0, 0];
      openDelegate(state.clustering.labels[pointAt(...state.cursor)]);
    }
  });
  canvas.addEventListener('focus', () => {
    state.cursor ??= [0, 0];
    draw();
    readout(state.cursor);
  });
}

function updateButtons() {
  const running = Boolean(state.run);
  const have = Boolean(state.clustering);
  $('cluster-run', 'button').disabled = running || !wasm;
  $('cluster-cancel', 'button').disabled = !running;
  $('cluster-k', 'input').disabled = running || !state.scan;
  $('cluster-method', 'select').disabled = running || !state.scan;
  $('cluster-labeler', 'select').disabled = !have;
  $('cluster-index', 'button').disabled = running || !have;
  for (const id of ['cluster-save-json', 'cluster-save-png', 'cluster-save-csv']) $(id, 'button').disabled = !have || running;
  for (const id of ['cluster-pca', 'cluster-kmin', 'cluster-kmax']) $(id, 'input').disabled = running;
  for (const r of /** @type {NodeListOf<HTMLInputElement>} */ (document.querySelectorAll('input[name="cluster-features"]'))) {
    r.disabled = running || (r.value === 'ae' && !api.aeAvailable);
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Messages

function showError(message) {
  const el = $('cluster-error');
  $('cluster-view').hidden = false;
  el.textContent = message;
  el.hidden = false;
}

function clearError() {
  $('cluster-error').hidden = true;
  $('cluster-error').textContent = '';
}

function setStatus(text) {
  $('cluster-status').textContent = text;
}

function setIndexStatus(text) {
  $('cluster-index-status').textContent = text;
}

function messageOf(e) {
  if (e == null) return 'unknown error';
  if (typeof e === 'string') return e;
  return e.message || String(e);
}

api.ready = start();
api.ready.catch((e) => showError(`The Cluster panel did not start: ${messageOf(e)}`));
