// LaueNN in the "Images & peaks" view: the indexing method switch, the model picker (ready models shipped in
// ../models/, listed by models/index.json, and models trained in this session), and training a model in the page
// (its own Web Worker, train-worker.js) with a progress bar and a live loss curve.
//
// Models are loaded into the peak-search worker (peaks-worker.js, message 'load-model') which indexes with them;
// this module only keeps their bytes (to save trained ones) and what they are (info from the wasm side).

import { clearedPlot } from '../../lib/plotcanvas.js';
import { spawnWorker } from '../../lib/wasm.js';

const MODELS_URL = new URL('../../models/', import.meta.url);
/**
 * Detector-geometry fields a model's metadata and a calibration share: [field, name, unit, tolerance, digits].
 * Beyond these differences the angular-distance histograms a model learnt shift (frame and pixel are compared too).
 */
/** @type {[string, string, string, number, number][]} */
const GEOMETRY_FIELDS = [
  ['distance_mm', 'dd', 'mm', 1, 2],
  ['xcen_px', 'xcen', 'px', 20, 1],
  ['ycen_px', 'ycen', 'px', 20, 1],
  ['xbet_deg', 'xbet', '°', 0.5, 3],
  ['xgam_deg', 'xgam', '°', 0.5, 3],
];

export class LaueNN {
  /**
   * @param {object} o
   * @param {typeof import('../../lib/dom.js').$} o.$
   * @param {Worker} o.worker the peak-search worker (indexes)
   * @param {() => object|null} o.calibration the current LaueTools calibration object, or null
   * @param {() => string[]} o.picked material names picked in the panel
   * @param {() => import('../../lib/materials.js').MaterialSpec[]} o.specs the picked materials as wasm takes them
   *   (names of the table, definitions of a materials file or a custom crystal): what a model is trained for
   * @param {() => {emin_kev: number, emax_kev: number}} o.band the energy band of the panel
   * @param {() => void} o.changed called when what indexing needs has changed (re-check the buttons)
   * @param {(msg: string) => void} o.showError
   */
  constructor(o) {
    this.$ = o.$;
    this.worker = o.worker;
    this.calibration = o.calibration;
    this.picked = o.picked;
    this.specs = o.specs;
    this.band = o.band;
    this.changed = o.changed;
    this.showError = o.showError;
    this.catalog = []; // entries of models/index.json
    this.catalogError = '';
    this.models = new Map(); // key → {key, name, source: 'ready'|'trained', status, info, weights, meta, error, ms}
    this.loading = new Map(); // key → {resolve, reject}
    this.trainWorker = null;
    this.training = null; // {job, t0, points: [{x, loss}], epochs: [{epoch, val_accuracy, val_loss}], batches}
    this.trainJob = 0;
    this.trainedCount = 0;
    /** For tests: figures of the last completed training run. */
    this.lastTrain = null;
    this.progressLog = [];
  }

  /** Wires the panel and reads the list of ready models. */
  async start() {
    const $ = this.$;
    for (const r of document.querySelectorAll('input[name="index-method"]')) {
      r.addEventListener('change', () => this.onMethodChange());
    }
    $('nn-model').addEventListener('change', () => this.select($('nn-model', 'select').value));
    $('run-train').addEventListener('click', () => this.train());
    $('save-model').addEventListener('click', () => this.saveModel());
    try {
      const res = await fetch(new URL('index.json', MODELS_URL));
      if (!res.ok) throw new Error(`HTTP ${res.status}`);
      const list = await res.json();
      this.catalog = Array.isArray(list.models) ? list.models : [];
    } catch (e) {
      this.catalogError = `the list of ready models (models/index.json) did not load: ${e.message || e}`;
    }
    for (const m of this.catalog) {
      this.models.set(`ready:${m.name}`, { key: `ready:${m.name}`, name: m.name, source: 'ready', status: 'not loaded',
        entry: m, materials: m.materials || [] });
    }
    this.renderModels();
    this.onMethodChange();
  }

  method() {
    return /** @type {HTMLInputElement | null} */ (document.querySelector('input[name="index-method"]:checked'))?.value || 'lut';
  }

  setMethod(m) {
    const r = /** @type {HTMLInputElement | null} */ (document.querySelector(`input[name="index-method"][value="${m}"]`));
    if (!r) throw new Error(`no indexing method ${m}`);
    r.checked = true;
    this.onMethodChange();
  }

  onMethodChange() {
    const nn = this.method() === 'nn';
    this.$('nn-box').hidden = !nn;
    if (nn) this.autoSelect();
    this.changed();
  }

  /** The model key indexing uses (null with the look-up table). */
  modelKey() {
    return this.method() === 'nn' ? this.$('nn-model', 'select').value || null : null;
  }

  /** When the picked materials change: keep a model that knows them all, else pick one that does. */
  autoSelect() {
    const picked = this.picked();
    const current = this.models.get(this.$('nn-model', 'select').value);
    const covers = (m) => picked.length > 0 && picked.every((p) => m.materials.includes(p));
    if (current && (covers(current) || picked.length === 0)) {
      if (current.status === 'not loaded') this.select(current.key);
      return;
    }
    const all = [...this.models.values()];
    const best = all.find((m) => covers(m) && m.materials.length === picked.length) || all.find(covers);
    if (best) this.select(best.key);
    else this.renderModels();
  }

  /** Why NN indexing cannot run now, or ''. */
  blocker() {
    if (this.method() !== 'nn') return '';
    const key = this.$('nn-model', 'select').value;
    const m = this.models.get(key);
    const picked = this.picked();
    if (!m) {
      return this.catalogError
        ? `No model: ${this.catalogError}; train one below.`
        : 'Pick a LaueNN model, or train one below for the picked materials.';
    }
    if (m.status === 'loading') return `Loading the model ${m.name}…`;
    if (m.status === 'failed') return `The model ${m.name} could not be loaded: ${m.error}`;
    if (m.status !== 'loaded') return `The model ${m.name} is not loaded yet.`;
    const unknown = picked.filter((p) => !m.materials.includes(p));
    if (unknown.length) {
      return `The model ${m.name} knows ${m.materials.join(', ')}, not ${unknown.join(', ')}: untick them, `
        + 'pick another model, or train one below.';
    }
    return '';
  }

  /** Selects a model and loads it into the peak-search worker if needed (resolves when loaded). */
  select(key) {
    const m = this.models.get(key);
    this.renderModels(key);
    if (!m) return Promise.reject(new Error(`no model ${key}`));
    if (m.status === 'loaded') return Promise.resolve(m);
    if (m.status === 'loading') return m.promise;
    m.status = 'loading';
    m.promise = (async () => {
      try {
        let weights = m.weights;
        let meta = m.meta;
        if (m.source === 'ready') {
          const t0 = performance.now();
          const [w, j] = await Promise.all([
            fetchOk(new URL(m.entry.weights || `${m.name}.bpk`, MODELS_URL)).then((r) => r.arrayBuffer()),
            fetchOk(new URL(m.entry.meta || `${m.name}.json`, MODELS_URL)).then((r) => r.text()),
          ]);
          m.fetch_ms = performance.now() - t0;
          m.bytes = w.byteLength + j.length;
          weights = w;
          meta = j;
          m.metaText = j;
        }
        const loaded = new Promise((resolve, reject) => this.loading.set(key, { resolve, reject }));
        this.worker.postMessage({ type: 'load-model', key, name: m.name, weights: weights.slice(0), meta });
        const reply = await loaded;
        m.info = reply.info;
        m.materials = reply.info.materials;
        m.load_ms = reply.worker_ms;
        m.status = 'loaded';
      } catch (e) {
        m.status = 'failed';
        m.error = e.message || String(e);
        this.showError(`LaueNN model ${m.name}: ${m.error}`);
      }
      this.renderModels();
      this.changed();
      return m;
    })();
    this.renderModels();
    this.changed();
    return m.promise;
  }

  /** Handles the peak-search worker's model messages; true when it was one. */
  onWorkerMessage(msg) {
    if (msg.type === 'model-loaded' || msg.type === 'model-error') {
      const p = this.loading.get(msg.key);
      this.loading.delete(msg.key);
      if (p) {
        if (msg.type === 'model-loaded') p.resolve(msg);
        else p.reject(new Error(msg.message));
      }
      return true;
    }
    return false;
  }

  renderModels(selectKey = null) {
    const sel = this.$('nn-model', 'select');
    const keep = selectKey ?? sel.value;
    sel.textContent = '';
    if (this.models.size === 0) {
      const o = document.createElement('option');
      o.value = '';
      o.textContent = this.catalogError ? '(no ready models)' : '(loading the list…)';
      sel.append(o);
    }
    const groups = [['ready', 'ready models'], ['trained', 'trained in this session']];
    for (const [source, label] of groups) {
      const list = [...this.models.values()].filter((m) => m.source === source);
      if (!list.length) continue;
      const g = document.createElement('optgroup');
      g.label = label;
      for (const m of list) {
        const o = document.createElement('option');
        o.value = m.key;
        const acc = m.info?.val_accuracy ?? m.entry?.val_accuracy;
        o.textContent = `${m.name} — ${m.materials.join(' + ')}${Number.isFinite(acc) ? `, ${(100 * acc).toFixed(1)} %` : ''}`;
        g.append(o);
      }
      sel.append(g);
    }
    if ([...sel.options].some((o) => o.value === keep)) sel.value = keep;
    const m = this.models.get(sel.value);
    let text = '';
    if (m) {
      const i = m.info;
      const size = m.bytes ? `${(m.bytes / 1e6).toFixed(2)} MB` : m.entry?.bytes ? `${(m.entry.bytes / 1e6).toFixed(2)} MB` : '';
      if (m.status === 'loaded' && i) {
        text = `${i.n_classes} hkl classes of ${i.materials.join(' + ')}, ${i.n_inputs} → ${i.hidden.join(' → ')} → `
          + `${i.n_classes} (${(i.n_params / 1e6).toFixed(2)} M parameters${size ? `, ${size}` : ''}), `
          + `${i.emin_kev}–${i.emax_kev} keV, validation accuracy ${(100 * i.val_accuracy).toFixed(2)} %`
          + (m.entry?.calibration ? `; trained in the geometry of ${m.entry.calibration}` : '')
          + (Number.isFinite(m.load_ms) ? `; loaded in ${Math.round((m.fetch_ms || 0) + m.load_ms)} ms.` : '.');
      } else if (m.status === 'loading') text = `loading ${m.name}${size ? ` (${size})` : ''}…`;
      else if (m.status === 'failed') text = `${m.name} failed to load: ${m.error}`;
    }
    this.$('nn-model-info').textContent = text;
    this.renderGeometryWarning();
    this.$('save-model', 'button').disabled = !(m && m.source === 'trained' && m.weights);
    this.$('run-train', 'button').disabled = Boolean(this.training) || Boolean(this.trainBlocker());
    this.$('run-train').title = this.trainBlocker();
  }

  /** The detector geometry a model was trained in (its metadata's training.dataset.calibration), or null. */
  modelGeometry(m) {
    if (!m) return null;
    if (m.geometry !== undefined) return m.geometry;
    const text = m.metaText ?? (typeof m.meta === 'string' ? m.meta : null);
    if (!text) return null; // not loaded yet
    try {
      const meta = JSON.parse(text);
      m.geometry = meta?.training?.dataset?.calibration ?? meta?.calibration ?? null;
    } catch {
      m.geometry = null;
    }
    return m.geometry;
  }

  /**
   * How the selected model's detector geometry differs from the calibration's beyond the tolerances
   * (GEOMETRY_TOLERANCE): a list of sentences, empty when it matches (or when either is unknown).
   */
  geometryMismatch(key = this.$('nn-model', 'select').value) {
    const c = this.calibration();
    const g = this.modelGeometry(this.models.get(key));
    if (!c || !g) return [];
    const out = [];
    for (const [field, name, unit, tol, digits] of GEOMETRY_FIELDS) {
      const a = Number(g[field]);
      const b = Number(c[field]);
      if (!Number.isFinite(a) || !Number.isFinite(b)) continue;
      if (Math.abs(a - b) > tol) {
        out.push(`${name} ${a.toFixed(digits)} ${unit} (model) vs ${b.toFixed(digits)} ${unit} (calibration), `
          + `|Δ| ${Math.abs(a - b).toFixed(digits)} > ${tol} ${unit}`);
      }
    }
    const frame = (x) => `${x.cols} × ${x.rows} px`;
    if ((Number.isFinite(g.rows) && g.rows !== c.rows) || (Number.isFinite(g.cols) && g.cols !== c.cols)) {
      out.push(`frame ${frame(g)} (model) vs ${frame(c)} (calibration)`);
    }
    if (Number.isFinite(g.pixel_size_mm) && Math.abs(g.pixel_size_mm - c.pixel_size_mm) > 1e-4) {
      out.push(`pixel ${g.pixel_size_mm} mm (model) vs ${c.pixel_size_mm} mm (calibration)`);
    }
    return out;
  }

  /** Shows (or hides) the warning under the model picker when its geometry differs from the calibration's. */
  renderGeometryWarning() {
    const box = this.$('nn-geometry-warning');
    if (!box) return;
    const m = this.models.get(this.$('nn-model', 'select').value);
    const diff = this.method() === 'nn' ? this.geometryMismatch() : [];
    box.hidden = diff.length === 0;
    box.textContent = diff.length
      ? `Warning: the model ${m?.name ?? ''} was trained in another detector geometry than this calibration's — `
        + `${diff.join('; ')}. Its hkl predictions may be wrong here (indexing falls back to the look-up table `
        + 'when they give no grain); train a model in this geometry below for reliable results.'
      : '';
    this.lastGeometryWarning = diff;
  }

  // -------------------------------------------------------------------------------------------------------------
  // Training in the page

  trainBlocker() {
    if (!this.calibration()) return 'Training needs the detector calibration (.det): the model learns its geometry.';
    if (this.picked().length === 0) return 'Pick the materials to train for.';
    return '';
  }

  readTrainSettings() {
    const $ = this.$;
    const num = (id) => Number($(id, 'input').value);
    const s = {
      orientations: num('train-orientations'),
      grains: num('train-grains'),
      epochs: num('train-epochs'),
      max_index: [num('train-maxhkl')],
    };
    const problems = [];
    if (!Number.isInteger(s.orientations) || s.orientations < 10 || s.orientations > 5000) problems.push('orientations: 10–5000');
    if (!Number.isInteger(s.grains) || s.grains < 1 || s.grains > 10) problems.push('grains per image: 1–10');
    if (!Number.isInteger(s.epochs) || s.epochs < 1 || s.epochs > 50) problems.push('epochs: 1–50');
    if (!Number.isInteger(s.max_index[0]) || s.max_index[0] < 1 || s.max_index[0] > 8) problems.push('max hkl: 1–8');
    return { s, problems };
  }

  /** Starts training a model for the picked materials; false (with a status line) when it cannot. */
  train(overrides = {}) {
    const blocker = this.trainBlocker();
    if (blocker || this.training) {
      if (blocker) this.setTrainStatus(blocker);
      return false;
    }
    const { s, problems } = this.readTrainSettings();
    if (problems.length) {
      this.showError(`Training settings: ${problems.join('; ')}`);
      return false;
    }
    const materials = this.picked();
    const request = { materials: this.specs(), calibration: this.calibration(), ...this.band(), ...s, ...overrides };
    if (!this.trainWorker) {
      this.trainWorker = spawnWorker(new URL('./train-worker.js', import.meta.url));
      this.trainWorker.onmessage = (ev) => this.onTrainMessage(ev.data);
      this.trainWorker.onerror = (ev) => {
        ev.preventDefault();
        this.failTraining(`The training worker failed: ${ev.message || 'could not load views/peaks/train-worker.js'}`);
      };
    }
    const job = ++this.trainJob;
    const name = `${materials.join('+')} #${this.trainedCount + 1}`;
    this.training = { job, name, request, t0: performance.now(), points: [], epochs: [], batches: 0, data: null };
    this.progressLog = [];
    const bar = this.$('train-progress', 'progress');
    bar.removeAttribute('value');
    this.setTrainStatus(`simulating ${request.orientations} orientations of ${materials.join(', ')}…`);
    this.renderModels();
    this.drawCurve();
    this.trainWorker.postMessage({ type: 'train', job, name, request });
    return true;
  }

  onTrainMessage(m) {
    const t = this.training;
    if (m.type === 'ready' || !t || m.job !== t.job) {
      if (m.type === 'boot-error') this.failTraining(`The training worker could not load the WebAssembly package: ${m.message}`);
      return;
    }
    if (m.type === 'train-progress') {
      const p = m.p;
      this.progressLog.push(p.stage);
      const bar = this.$('train-progress', 'progress');
      if (p.stage === 'data-done') {
        t.data = p;
        bar.value = 0.05;
        this.setTrainStatus(`${p.train_images} + ${p.validation_images} simulated images (${p.train_spots} training spots, `
          + `${p.classes} classes) in ${(p.elapsed_ms / 1000).toFixed(1)} s; training…`);
      } else if (p.stage === 'batch') {
        t.batches += 1;
        t.points.push({ x: (p.epoch - 1) + p.batch / p.batches, loss: p.loss });
        bar.value = 0.05 + 0.95 * ((p.epoch - 1) + p.batch / p.batches) / p.epochs;
        if (p.batch % 4 === 0 || p.batch === p.batches) {
          this.setTrainStatus(`epoch ${p.epoch}/${p.epochs}, batch ${p.batch}/${p.batches}: loss ${p.loss.toFixed(4)}, `
            + `accuracy ${(100 * p.accuracy).toFixed(1)} % — ${(p.elapsed_ms / 1000).toFixed(0)} s`);
          this.drawCurve();
        }
      } else if (p.stage === 'epoch') {
        t.epochs.push({ epoch: p.epoch, val_accuracy: p.val_accuracy, val_loss: p.val_loss, train_loss: p.train_loss });
        this.drawCurve();
      }
    } else if (m.type === 'trained') {
      this.training = null;
      this.trainedCount += 1;
      const key = `trained:${this.trainedCount}`;
      const seconds = (performance.now() - t.t0) / 1000;
      const entry = { key, name: t.name, source: 'trained', status: 'not loaded', materials: m.info.materials,
        weights: m.weights, meta: m.meta, info: m.info, bytes: m.weights.byteLength + m.meta.length };
      this.models.set(key, entry);
      this.lastTrain = { seconds, worker_ms: m.worker_ms, val_accuracy: m.info.val_accuracy, batches: t.batches,
        epochs: t.epochs.length, data: t.data, request: t.request, key };
      this.$('train-progress', 'progress').value = 1;
      this.setTrainStatus(`Trained ${t.name}: validation accuracy ${(100 * m.info.val_accuracy).toFixed(2)} % after `
        + `${t.epochs.length} epochs, ${seconds.toFixed(1)} s in all. Selected for indexing (kept for this session).`);
      this.drawCurve(t);
      this.setMethod('nn');
      this.select(key);
    } else if (m.type === 'train-error') {
      this.failTraining(`Training failed: ${m.message}`);
    }
  }

  failTraining(message) {
    this.training = null;
    this.$('train-progress', 'progress').value = 0;
    this.showError(message);
    this.setTrainStatus('training failed (see the message above)');
    this.renderModels();
  }

  setTrainStatus(text) {
    this.$('train-status').textContent = text;
  }

  /** The training loss per mini-batch (left axis, log scale) and the validation accuracy per epoch (right axis). */
  drawCurve(done = null) {
    const t = this.training || done;
    const { g, w, h, tick } = clearedPlot(this.$('train-curve'), 320, 140);
    if (!t) return;
    const pad = { l: 40, r: 38, t: 8, b: 28 };
    const pw = w - pad.l - pad.r;
    const ph = h - pad.t - pad.b;
    const epochs = t.request.epochs;
    const X = (x) => pad.l + (pw * x) / epochs;
    g.strokeStyle = '#999';
    g.lineWidth = 1;
    g.strokeRect(pad.l, pad.t, pw, ph);
    g.fillStyle = '#666';
    g.font = '10px system-ui, sans-serif';
    g.textAlign = 'center';
    for (let e = 0; e <= epochs; e += Math.max(1, Math.round(epochs / 6))) tick('x', String(e), X(e), h - 15);
    g.fillText('epoch', pad.l + pw / 2, h - 3);
    const losses = t.points.map((p) => p.loss).filter((v) => v > 0 && Number.isFinite(v));
    if (losses.length) {
      const lo = Math.log10(Math.min(...losses));
      const hi = Math.log10(Math.max(...losses));
      const span = Math.max(hi - lo, 0.3);
      const Y = (v) => pad.t + ph * (1 - (Math.log10(v) - lo) / span);
      g.strokeStyle = '#1f6fb5';
      g.beginPath();
      t.points.forEach((p, i) => {
        if (!(p.loss > 0)) return;
        if (i === 0) g.moveTo(X(p.x), Y(p.loss));
        else g.lineTo(X(p.x), Y(p.loss));
      });
      g.stroke();
      g.fillStyle = '#1f6fb5';
      g.textAlign = 'right';
      tick('y', Math.max(...losses).toPrecision(2), pad.l - 3, pad.t + 8);
      tick('y', Math.min(...losses).toPrecision(2), pad.l - 3, pad.t + ph);
      g.save();
      g.translate(9, pad.t + ph / 2);
      g.rotate(-Math.PI / 2);
      g.textAlign = 'center';
      g.fillText('loss', 0, 0);
      g.restore();
    }
    if (t.epochs.length) {
      const accs = t.epochs.map((e) => e.val_accuracy);
      const lo = Math.min(0.9, ...accs);
      const Y = (a) => pad.t + ph * (1 - (a - lo) / (1 - lo));
      g.strokeStyle = '#c2410c';
      g.fillStyle = '#c2410c';
      g.beginPath();
      t.epochs.forEach((e, i) => {
        if (i === 0) g.moveTo(X(e.epoch), Y(e.val_accuracy));
        else g.lineTo(X(e.epoch), Y(e.val_accuracy));
      });
      g.stroke();
      for (const e of t.epochs) g.fillRect(X(e.epoch) - 2, Y(e.val_accuracy) - 2, 4, 4);
      g.textAlign = 'left';
      tick('y2', '100 %', w - pad.r + 3, pad.t + 8);
      tick('y2', `${(100 * lo).toFixed(0)} %`, w - pad.r + 3, pad.t + ph);
      g.fillText('val', w - pad.r + 3, pad.t + ph / 2);
    }
  }

  /** Downloads the selected trained model (MODEL.bpk + MODEL.json, readable by `lauekit index --model`). */
  saveModel() {
    const m = this.models.get(this.$('nn-model', 'select').value);
    if (!m || !m.weights) return;
    const stem = m.name.replace(/[^A-Za-z0-9_+-]+/g, '_');
    download(`${stem}.bpk`, new Blob([m.weights], { type: 'application/octet-stream' }));
    download(`${stem}.json`, new Blob([m.meta], { type: 'application/json' }));
  }
}

async function fetchOk(url) {
  const r = await fetch(url);
  if (!r.ok) throw new Error(`${url.pathname}: HTTP ${r.status}`);
  return r;
}

function download(name, blob) {
  const a = document.createElement('a');
  a.href = URL.createObjectURL(blob);
  a.download = name;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(a.href), 1000);
}
