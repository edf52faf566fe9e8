// "Images & peaks" view: open detector images (drop, file input or the bundled example), look at them (contrast,
// colour map, zoom, pan, pixel readout with 2θ, χ from a calibration), run LaueTools' peak search in a Web Worker
// with a progress bar, see the peaks over the image and in a sortable table, and save them as .dat / .cor.
//
// The worker (peaks-worker.js) owns the decoded images and runs the search; this thread keeps a Float32Array copy
// of the pixels for drawing and uses its own wasm instance (js/wasm.js) for the small calls: defaults, settings
// files, .det files, pixel → (2θ, χ), .dat/.cor text. For tests the view exposes `window.lauekitPeaks`.

import { loadWasm } from './wasm.js';
import { ImageView, imageStats, percentile } from './imageview.js';

const EXAMPLE = {
  image: 'examples/Ge_blanc_0000.mccd',
  det: 'examples/calibGe111.det',
  params: 'examples/peaksearch.json',
};
/** The settings shown first; the rest go under "More settings". */
const MAIN_PARAMS = ['local_maxima_search_method', 'IntensityThreshold', 'boxsize', 'PixelNearRadius', 'FitPixelDev',
  'MinIntensity', 'PeakSizeRange', 'fit_peaks_gaussian', 'Data_for_localMaxima', 'formulaexpression'];
const CHOICES = {
  local_maxima_search_method: [['0', '0: threshold + blobs'], ['2', '2: convolution']],
  fit_peaks_gaussian: [['1', '1: 2D Gaussian'], ['2', '2: 2D Lorentzian'], ['0', '0: no fit']],
  position_definition: [['1', '1: LaueTools (first pixel (1, 1))'], ['0', '0: array indices']],
  Data_for_localMaxima: [['auto_background', 'auto_background'], ['', 'raw image (null)']],
};
const HINTS = {
  IntensityThreshold: 'detection threshold on the background-subtracted image (counts)',
  boxsize: 'half-size of the fit box (px)',
  PixelNearRadius: 'method 2: half-size of the amplitude test box (px)',
  FitPixelDev: 'reject fits that moved further than this (px)',
  MinIntensity: 'reject fits with a smaller amplitude (counts)',
  PeakSizeRange: 'accepted range of the larger σ (px)',
  formulaexpression: 'background formula: A-B or A-k*B',
  xtol: 'relative tolerance of the Levenberg–Marquardt fit',
  NumberMaxofFits: 'more local maxima than this is an error',
  Saturation_value: 'reject fits with an amplitude at or above this',
  npixels: 'sCMOS quadrant gaps: band half-width (0: off)',
  thresholdConvolve: 'method 2: threshold on the convolved image',
  paramsHat: 'method 2 kernel: peak value, size, central radius',
};

const $ = (id) => document.getElementById(id);

const state = {
  images: [], // {id, name, info, pixels, stats, search: {peaks, stats, elapsed_ms, worker_ms, params} | null}
  current: -1,
  calibration: null, // {calibration, name}
  defaults: null,
  paramKeys: [],
  sort: { key: 'rank', dir: 1 },
  job: 0,
  running: null, // {job, id}
  display: { scale: 'linear', colormap: 'grey', limits: 'percentile', plo: 0.5, phi: 99.5, lo: 0, hi: 1 },
};
let wasm = null;
let worker = null;
let nextId = 1;
const pending = new Map(); // image id → {resolve, reject}
const view = new ImageView($('image-canvas'));

const api = {
  ready: null,
  state,
  view,
  /** Progress messages of the last search, in order. */
  progressLog: [],
  /** Completed searches. */
  searches: 0,
  /** Files opened (images added to the list). */
  opened: 0,
  /** Last pixel readout: {x, y, value, tth, chi} (LaueTools x, y). */
  readout: null,
  /** The image shown: {name, info, rows, cols, search}. */
  current: () => currentImage(),
  /** LaueTools pixel position (x, y) → canvas CSS px. */
  toCanvas: (x, y) => view.pixelToCanvas(x, y),
  openFiles: (files) => openFiles(files),
  loadExample: () => loadExample(),
  runSearch: () => runSearch(),
  /** Text of the last file saved: {name, text}. */
  lastSaved: null,
};
window.lauekitPeaks = api;

// ---------------------------------------------------------------------------------------------------------------
// Start-up

async function start() {
  wireEvents();
  new ResizeObserver(() => { view.layout(); requestDraw(); }).observe($('image-box'));
  view.layout();
  requestDraw();
  setSearchStatus('loading the WebAssembly core…');
  try {
    wasm = await loadWasm();
  } catch (e) {
    setSearchStatus('not running: the WebAssembly package did not load (see the message above)');
    throw e;
  }
  state.defaults = wasm.default_peak_params();
  buildParamForm(state.defaults);
  setParams(state.defaults, "LaueTools' defaults.");
  await startWorker();
  setSearchStatus('Open an image, then “Find peaks”.');
  updateButtons();
  return api;
}

function startWorker() {
  return new Promise((resolve, reject) => {
    try {
      worker = new Worker(new URL('./peaks-worker.js', import.meta.url), { type: 'module' });
    } catch (e) {
      showError(`Could not start the peak-search worker: ${messageOf(e)}`);
      reject(e);
      return;
    }
    worker.onmessage = (ev) => {
      const m = ev.data;
      if (m.type === 'ready') resolve();
      else if (m.type === 'boot-error') {
        showError(`The peak-search worker could not load the WebAssembly package: ${m.message}`);
        reject(new Error(m.message));
      } else onWorkerMessage(m);
    };
    worker.onerror = (ev) => {
      ev.preventDefault();
      const msg = `The peak-search worker failed: ${ev.message || 'could not load js/peaks-worker.js'}`;
      showError(msg);
      failRunning(msg);
      reject(new Error(msg));
    };
  });
}

function onWorkerMessage(m) {
  if (m.type === 'opened') {
    pending.get(m.id)?.resolve(m);
    pending.delete(m.id);
  } else if (m.type === 'progress') {
    if (!state.running || m.job !== state.running.job) return;
    api.progressLog.push({ stage: m.stage, done: m.done, total: m.total });
    const bar = $('peak-progress');
    if (m.stage === 'detected') {
      bar.value = 0.3;
      setSearchStatus(`${m.total} local maxima found; fitting…`);
    } else {
      bar.value = 0.3 + 0.7 * (m.total > 0 ? m.done / m.total : 1);
      setSearchStatus(`fitting ${m.done} / ${m.total}…`);
    }
  } else if (m.type === 'peaks') {
    onPeaks(m);
  } else if (m.type === 'error') {
    if (pending.has(m.id)) {
      pending.get(m.id).reject(new Error(m.message));
      pending.delete(m.id);
    } else if (state.running && m.job === state.running.job) {
      const img = state.images.find((i) => i.id === m.id);
      failRunning(`Peak search failed${img ? ` on ${img.name}` : ''}: ${m.message}`);
    } else {
      showError(m.message);
    }
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Files

function extension(name) {
  const i = name.lastIndexOf('.');
  return i < 0 ? '' : name.slice(i + 1).toLowerCase();
}

async function openFiles(files) {
  await api.ready;
  clearError();
  let firstNew = -1;
  for (const f of Array.from(files)) {
    const ext = extension(f.name);
    try {
      if (ext === 'det') {
        loadCalibration(await f.text(), f.name);
      } else if (ext === 'json' || ext === 'psp') {
        loadParams(await f.text(), f.name);
      } else {
        const index = await openImage(f.name, await f.arrayBuffer());
        if (firstNew < 0) firstNew = index;
      }
    } catch (e) {
      // The library's messages start with the file name already.
      const m = messageOf(e);
      showError(m.startsWith(f.name) ? `Could not open ${m}` : `Could not open ${f.name}: ${m}`, true);
      setSearchStatus(`${f.name} not opened (see the message above).`);
    }
  }
  if (firstNew >= 0) selectImage(firstNew);
}

/** Decodes an image in the worker and adds it to the list; returns its index. */
async function openImage(name, bytes) {
  const id = nextId++;
  setSearchStatus(`reading ${name}…`);
  const reply = await new Promise((resolve, reject) => {
    pending.set(id, { resolve, reject });
    worker.postMessage({ type: 'open', id, name, bytes }, [bytes]);
  });
  const pixels = reply.pixels;
  const entry = { id, name, info: reply.info, pixels, stats: imageStats(pixels), search: null };
  state.images.push(entry);
  api.opened += 1;
  renderImageList();
  setSearchStatus(`${name}: ${entry.info.cols} × ${entry.info.rows}; press “Find peaks”.`);
  return state.images.length - 1;
}

function loadCalibration(text, name) {
  let parsed;
  try {
    parsed = wasm.parse_det(text);
  } catch (e) {
    throw new Error(`not a LaueTools calibration: ${messageOf(e)}`);
  }
  state.calibration = { calibration: parsed.calibration, name };
  showCalibration();
  renderTable();
  updateButtons();
  updateReadout(null);
}

function loadParams(text, name) {
  const p = wasm.parse_peak_params(text, name);
  setParams(p, `Settings from ${name}.`);
}

async function loadExample() {
  await api.ready;
  clearError();
  setSearchStatus('downloading the example…');
  const get = async (url) => {
    const r = await fetch(new URL(`../${url}`, import.meta.url));
    if (!r.ok) throw new Error(`${url}: HTTP ${r.status}`);
    return r;
  };
  try {
    const [img, det, params] = await Promise.all([get(EXAMPLE.image), get(EXAMPLE.det), get(EXAMPLE.params)]);
    loadCalibration(await det.text(), 'calibGe111.det');
    loadParams(await params.text(), 'peaksearch.json');
    const index = await openImage('Ge_blanc_0000.mccd', await img.arrayBuffer());
    selectImage(index);
  } catch (e) {
    showError(`Could not load the example: ${messageOf(e)}`, true);
  }
}

function removeImage(index) {
  const [gone] = state.images.splice(index, 1);
  if (!gone) return;
  worker.postMessage({ type: 'close', id: gone.id });
  if (state.current >= state.images.length) state.current = state.images.length - 1;
  else if (index < state.current) state.current -= 1;
  selectImage(state.current, true);
}

// ---------------------------------------------------------------------------------------------------------------
// Image list, display

function currentImage() {
  return state.images[state.current] ?? null;
}

function selectImage(index, force = false) {
  if (index === state.current && !force && currentImage()) return;
  state.current = index;
  const img = currentImage();
  renderImageList();
  $('image-empty').hidden = Boolean(img);
  if (!img) {
    view.setImage(null);
    $('image-info').textContent = '';
    showPeaks();
    updateButtons();
    return;
  }
  view.setImage({ rows: img.info.rows, cols: img.info.cols, pixels: img.pixels });
  const i = img.info;
  const parts = [`${i.cols} × ${i.rows} px`, i.dtype];
  if (i.format) parts.push(i.format);
  if (i.detector) parts.push(i.detector);
  if (i.pixel_size_mm) parts.push(`${i.pixel_size_mm} mm/px`);
  if (i.masked_pixels) parts.push(`${i.masked_pixels} masked`);
  parts.push(`values ${fmt(img.stats.min)} … ${fmt(img.stats.max)}`);
  $('image-info').textContent = parts.join(' · ');
  applyDisplay();
  showCalibration();
  showPeaks();
  updateButtons();
}

function renderImageList() {
  const ul = $('image-list');
  ul.textContent = '';
  state.images.forEach((img, index) => {
    const li = document.createElement('li');
    li.className = index === state.current ? 'current' : '';
    const b = document.createElement('button');
    b.type = 'button';
    b.className = 'image-name';
    b.textContent = img.name;
    b.title = `${img.info.cols} × ${img.info.rows}`;
    b.addEventListener('click', () => selectImage(index));
    const n = document.createElement('span');
    n.className = 'hint';
    n.textContent = img.search ? `${img.search.peaks.length} peaks` : '';
    const x = document.createElement('button');
    x.type = 'button';
    x.className = 'remove';
    x.textContent = '×';
    x.title = `Remove ${img.name}`;
    x.addEventListener('click', () => removeImage(index));
    li.append(b, n, x);
    ul.append(li);
  });
}

function readDisplayForm() {
  const d = state.display;
  d.scale = $('disp-scale').value;
  d.colormap = $('disp-cmap').value;
  d.limits = $('disp-limits').value;
  d.plo = Number($('disp-plo').value);
  d.phi = Number($('disp-phi').value);
  d.lo = Number($('disp-lo').value);
  d.hi = Number($('disp-hi').value);
}

/** Computes the limits from the mode and re-renders the image. */
function applyDisplay() {
  const img = currentImage();
  const d = state.display;
  if (img) {
    if (d.limits === 'percentile') {
      const plo = Number.isFinite(d.plo) ? Math.min(100, Math.max(0, d.plo)) : 0.5;
      const phi = Number.isFinite(d.phi) ? Math.min(100, Math.max(0, d.phi)) : 99.5;
      d.lo = percentile(img.stats, Math.min(plo, phi));
      d.hi = percentile(img.stats, Math.max(plo, phi));
    } else if (d.limits === 'minmax') {
      d.lo = img.stats.min;
      d.hi = img.stats.max;
    }
    if (!(d.hi > d.lo)) d.hi = d.lo + 1;
    $('disp-lo').value = String(roundNice(d.lo));
    $('disp-hi').value = String(roundNice(d.hi));
  }
  const manual = d.limits === 'manual';
  $('disp-plo').disabled = d.limits !== 'percentile';
  $('disp-phi').disabled = d.limits !== 'percentile';
  $('disp-lo').readOnly = !manual;
  $('disp-hi').readOnly = !manual;
  if (img) view.setDisplay({ scale: d.scale, colormap: d.colormap, lo: d.lo, hi: d.hi });
  requestDraw();
}

function showCalibration() {
  const el = $('calib-info');
  const c = state.calibration;
  if (!c) {
    el.innerHTML = 'No calibration: drop a <code>.det</code> to read 2θ, χ and save <code>.cor</code>.';
    return;
  }
  const k = c.calibration;
  let text = `Calibration ${c.name}: dd ${k.distance_mm} mm, xcen ${k.xcen_px}, ycen ${k.ycen_px}, `
    + `xbet ${k.xbet_deg}°, xgam ${k.xgam_deg}°, pixel ${k.pixel_size_mm} mm`;
  const img = currentImage();
  if (img && (img.info.rows !== k.rows || img.info.cols !== k.cols)) {
    text += ` — made for a ${k.cols} × ${k.rows} frame, this image is ${img.info.cols} × ${img.info.rows}`;
  }
  el.textContent = text;
}

// ---------------------------------------------------------------------------------------------------------------
// Peak-search settings form (built from the library's defaults, LaueTools names)

function buildParamForm(defaults) {
  state.paramKeys = Object.keys(defaults);
  const main = $('peak-params');
  const more = $('peak-params-more');
  main.textContent = '';
  more.textContent = '';
  for (const key of state.paramKeys) {
    const v = defaults[key];
    const label = document.createElement('label');
    label.textContent = key;
    if (HINTS[key]) label.title = HINTS[key];
    if (CHOICES[key]) {
      const sel = document.createElement('select');
      sel.id = `ps-${key}`;
      for (const [value, text] of CHOICES[key]) {
        const o = document.createElement('option');
        o.value = value;
        o.textContent = text;
        sel.append(o);
      }
      label.append(sel);
    } else if (typeof v === 'boolean') {
      label.className = 'check';
      const box = document.createElement('input');
      box.type = 'checkbox';
      box.id = `ps-${key}`;
      label.prepend(box);
    } else if (Array.isArray(v)) {
      const row = document.createElement('span');
      row.className = 'pair';
      v.forEach((_, i) => {
        const inp = document.createElement('input');
        inp.type = 'number';
        inp.step = 'any';
        inp.id = `ps-${key}-${i}`;
        row.append(inp);
      });
      label.append(row);
    } else {
      const inp = document.createElement('input');
      inp.type = typeof v === 'number' ? 'number' : 'text';
      if (inp.type === 'number') inp.step = 'any';
      inp.id = `ps-${key}`;
      inp.spellcheck = false;
      label.append(inp);
    }
    (MAIN_PARAMS.includes(key) ? main : more).append(label);
  }
}

function setParams(p, source) {
  for (const key of state.paramKeys) {
    const v = p[key];
    if (Array.isArray(v)) {
      v.forEach((x, i) => { const el = $(`ps-${key}-${i}`); if (el) el.value = String(x); });
    } else {
      const el = $(`ps-${key}`);
      if (!el) continue;
      if (el.type === 'checkbox') el.checked = Boolean(v);
      else el.value = v == null ? '' : String(v);
    }
  }
  $('params-source').textContent = source;
}

/** The form as a settings object (LaueTools names); numbers that do not parse are reported. */
function readParams() {
  const out = {};
  const problems = [];
  const num = (el, key) => {
    const x = Number(el.value);
    if (el.value.trim() === '' || !Number.isFinite(x)) problems.push(`${key}: “${el.value}” is not a number`);
    return x;
  };
  for (const key of state.paramKeys) {
    const d = state.defaults[key];
    if (Array.isArray(d)) {
      out[key] = d.map((_, i) => num($(`ps-${key}-${i}`), key));
    } else {
      const el = $(`ps-${key}`);
      if (el.type === 'checkbox') out[key] = el.checked;
      else if (key === 'Data_for_localMaxima') out[key] = el.value === '' ? null : el.value;
      else if (CHOICES[key] || typeof d === 'number') out[key] = num(el, key);
      else out[key] = el.value;
    }
  }
  return { params: out, problems };
}

// ---------------------------------------------------------------------------------------------------------------
// Peak search

function runSearch() {
  const img = currentImage();
  if (!img || state.running) return false;
  const { params, problems } = readParams();
  if (problems.length) {
    showError(`Peak-search settings: ${problems.join('; ')}`);
    return false;
  }
  clearError();
  const job = ++state.job;
  state.running = { job, id: img.id, params };
  api.progressLog = [];
  $('peak-progress').value = 0;
  $('peak-progress').classList.add('running');
  setSearchStatus(`searching ${img.name}…`);
  updateButtons();
  worker.postMessage({ type: 'search', id: img.id, job, params: JSON.stringify(params) });
  return true;
}

function onPeaks(m) {
  if (!state.running || m.job !== state.running.job) return;
  const img = state.images.find((i) => i.id === m.id);
  const params = state.running.params;
  state.running = null;
  $('peak-progress').value = 1;
  $('peak-progress').classList.remove('running');
  if (img) {
    const peaks = Array.from(m.peaks, (p, i) => ({ ...p, rank: i + 1 }));
    img.search = { peaks, stats: m.stats, elapsed_ms: m.elapsed_ms, worker_ms: m.worker_ms, params };
    const s = m.stats;
    setSearchStatus(`${img.name}: ${peaks.length} peaks in ${Math.round(m.elapsed_ms)} ms `
      + `(${s.local_maxima} local maxima, ${s.fitted} fitted, ${s.rejected} rejected`
      + `${s.duplicates ? `, ${s.duplicates} duplicates removed` : ''}).`);
    api.searches += 1;
    renderImageList();
    if (img === currentImage()) showPeaks();
  }
  updateButtons();
}

function failRunning(message) {
  if (!state.running) return;
  state.running = null;
  $('peak-progress').value = 0;
  $('peak-progress').classList.remove('running');
  showError(message);
  setSearchStatus('peak search failed (see the message above)');
  updateButtons();
}

// ---------------------------------------------------------------------------------------------------------------
// Peaks: overlay and table

function withAngles(peaks) {
  const c = state.calibration;
  if (!c) return peaks.map((p) => ({ ...p, tth: null, chi: null }));
  return peaks.map((p) => {
    try {
      const [tth, chi] = wasm.pixel_to_angles(c.calibration, p.x, p.y);
      return { ...p, tth, chi };
    } catch {
      return { ...p, tth: null, chi: null };
    }
  });
}

function showPeaks() {
  const img = currentImage();
  const peaks = img?.search?.peaks ?? [];
  view.setPeaks(peaks);
  $('peak-count').textContent = img?.search
    ? `${peaks.length} peaks${img.search.elapsed_ms != null ? ` · ${Math.round(img.search.elapsed_ms)} ms` : ''}`
    : 'No peaks yet';
  renderTable();
  requestDraw();
}

const COLUMNS = [
  { key: 'rank', label: '#', digits: 0 },
  { key: 'x', label: 'x', digits: 2 },
  { key: 'y', label: 'y', digits: 2 },
  { key: 'intensity_sub', label: 'I − bkg', digits: 1 },
  { key: 'intensity', label: 'I total', digits: 1 },
  { key: 'sigma_major', label: 'σ maj', digits: 2 },
  { key: 'sigma_minor', label: 'σ min', digits: 2 },
  { key: 'background', label: 'bkg', digits: 1 },
  { key: 'tth', label: '2θ (°)', digits: 3, calib: true },
  { key: 'chi', label: 'χ (°)', digits: 3, calib: true },
];

function renderTable() {
  const table = $('peak-table');
  const cols = COLUMNS.filter((c) => !c.calib || state.calibration);
  const head = table.tHead.rows[0];
  head.textContent = '';
  for (const c of cols) {
    const th = document.createElement('th');
    th.dataset.key = c.key;
    th.scope = 'col';
    const sorted = state.sort.key === c.key;
    th.textContent = c.label + (sorted ? (state.sort.dir > 0 ? ' ▲' : ' ▼') : '');
    th.setAttribute('aria-sort', sorted ? (state.sort.dir > 0 ? 'ascending' : 'descending') : 'none');
    th.title = 'Sort by this column';
    head.append(th);
  }
  const img = currentImage();
  const rows = withAngles(img?.search?.peaks ?? []);
  const { key, dir } = state.sort;
  rows.sort((a, b) => {
    const u = a[key];
    const v = b[key];
    if (u == null || v == null) return (u == null) - (v == null);
    return dir * (u - v) || a.rank - b.rank;
  });
  const body = table.tBodies[0];
  body.textContent = '';
  const frag = document.createDocumentFragment();
  for (const p of rows) {
    const tr = document.createElement('tr');
    tr.dataset.index = String(p.rank - 1);
    if (p.rank - 1 === view.selected) tr.className = 'selected';
    for (const c of cols) {
      const td = document.createElement('td');
      const v = p[c.key];
      td.textContent = v == null ? '—' : v.toFixed(c.digits);
      tr.append(td);
    }
    frag.append(tr);
  }
  body.append(frag);
}

function selectPeak(index, center) {
  const img = currentImage();
  const p = img?.search?.peaks?.[index];
  view.selected = p ? index : -1;
  if (p && center) view.centerOn(p.x, p.y, 2);
  for (const tr of $('peak-table').tBodies[0].rows) {
    const on = Number(tr.dataset.index) === view.selected;
    tr.classList.toggle('selected', on);
    if (on && !center) tr.scrollIntoView({ block: 'nearest' });
  }
  requestDraw();
}

// ---------------------------------------------------------------------------------------------------------------
// Pixel readout

function updateReadout(ev) {
  const img = currentImage();
  const el = $('readout');
  if (!img || !ev) {
    api.readout = null;
    el.textContent = img ? 'x —  y —  value —' : '';
    return;
  }
  const rect = view.canvas.getBoundingClientRect();
  const [u, v] = view.toImage(ev.clientX - rect.left, ev.clientY - rect.top);
  const col = Math.floor(u);
  const row = Math.floor(v);
  if (col < 0 || row < 0 || col >= img.info.cols || row >= img.info.rows) {
    api.readout = null;
    el.textContent = 'x —  y —  value —  (outside the image)';
    return;
  }
  // LaueTools' convention: the first pixel's centre is (1, 1); the calibration takes positions in it.
  const x = col + 1;
  const y = row + 1;
  const value = img.pixels[row * img.info.cols + col];
  let tth = null;
  let chi = null;
  if (state.calibration) {
    try {
      [tth, chi] = wasm.pixel_to_angles(state.calibration.calibration, x, y);
    } catch {
      // An unusable calibration was refused when loaded; nothing to show here.
    }
  }
  api.readout = { x, y, value, tth, chi };
  let text = `x ${x}  y ${y}  value ${fmt(value)}`;
  if (tth != null) text += `  2θ ${tth.toFixed(3)}°  χ ${chi.toFixed(3)}°`;
  el.textContent = text;
}

// ---------------------------------------------------------------------------------------------------------------
// Saving

function save(name, text) {
  const blob = new Blob([text], { type: 'text/plain' });
  const a = document.createElement('a');
  a.href = URL.createObjectURL(blob);
  a.download = name;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(a.href), 10_000);
  api.lastSaved = { name, text };
}

function stem(name) {
  const base = name.replace(/^.*[\\/]/, '');
  const i = base.lastIndexOf('.');
  return i > 0 ? base.slice(0, i) : base;
}

function saveDat() {
  const img = currentImage();
  if (!img?.search) return;
  try {
    const peaks = img.search.peaks.map(({ rank, ...p }) => p);
    const text = wasm.peaks_dat(peaks, img.name, `lauekit page, PeakSearch settings ${JSON.stringify(img.search.params)}`);
    save(`${stem(img.name)}.dat`, text);
  } catch (e) {
    showError(`Could not write the .dat file: ${messageOf(e)}`);
  }
}

function saveCor() {
  const img = currentImage();
  if (!img?.search || !state.calibration) return;
  try {
    const peaks = img.search.peaks.map(({ rank, ...p }) => p);
    save(`${stem(img.name)}.cor`, wasm.peaks_cor(peaks, state.calibration.calibration, img.name));
  } catch (e) {
    showError(`Could not write the .cor file: ${messageOf(e)}`);
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Events

function wireEvents() {
  $('image-files').addEventListener('change', (e) => {
    const files = Array.from(e.target.files || []);
    e.target.value = '';
    openFiles(files);
  });
  $('load-example-image').addEventListener('click', () => loadExample());
  const panel = $('view-peaks');
  panel.addEventListener('dragover', (e) => {
    e.preventDefault();
    $('drop-zone').classList.add('over');
  });
  panel.addEventListener('dragleave', (e) => {
    if (!panel.contains(e.relatedTarget)) $('drop-zone').classList.remove('over');
  });
  panel.addEventListener('drop', (e) => {
    e.preventDefault();
    $('drop-zone').classList.remove('over');
    if (e.dataTransfer?.files?.length) openFiles(e.dataTransfer.files);
  });

  for (const id of ['disp-scale', 'disp-cmap', 'disp-limits', 'disp-plo', 'disp-phi']) {
    $(id).addEventListener('input', () => { readDisplayForm(); applyDisplay(); });
  }
  for (const id of ['disp-lo', 'disp-hi']) {
    $(id).addEventListener('input', () => {
      if ($('disp-limits').value !== 'manual') return;
      readDisplayForm();
      applyDisplay();
    });
    // Typing a value switches to manual limits.
    $(id).addEventListener('focus', () => {
      if ($('disp-limits').value === 'manual') return;
      $('disp-limits').value = 'manual';
      readDisplayForm();
      applyDisplay();
    });
  }
  $('disp-fit').addEventListener('click', () => { view.fit(); requestDraw(); });

  $('run-search').addEventListener('click', () => runSearch());
  $('reset-params').addEventListener('click', () => {
    if (state.defaults) setParams(state.defaults, "LaueTools' defaults.");
  });
  $('download-dat').addEventListener('click', saveDat);
  $('download-cor').addEventListener('click', saveCor);

  $('peak-table').tHead.addEventListener('click', (e) => {
    const th = e.target.closest('th');
    if (!th) return;
    const key = th.dataset.key;
    state.sort = { key, dir: state.sort.key === key ? -state.sort.dir : 1 };
    renderTable();
  });
  $('peak-table').tBodies[0].addEventListener('click', (e) => {
    const tr = e.target.closest('tr');
    if (tr) selectPeak(Number(tr.dataset.index), true);
  });

  const canvas = view.canvas;
  let drag = null;
  canvas.addEventListener('pointerdown', (e) => {
    if (e.button !== 0) return;
    drag = { x: e.clientX, y: e.clientY, moved: false };
    canvas.setPointerCapture(e.pointerId);
    canvas.classList.add('dragging');
  });
  canvas.addEventListener('pointermove', (e) => {
    if (drag) {
      const dx = e.clientX - drag.x;
      const dy = e.clientY - drag.y;
      if (drag.moved || Math.hypot(dx, dy) > 3) {
        drag.moved = true;
        view.panBy(dx, dy);
        drag.x = e.clientX;
        drag.y = e.clientY;
        requestDraw();
      }
    }
    updateReadout(e);
  });
  canvas.addEventListener('pointerup', (e) => {
    if (drag && !drag.moved) {
      const rect = canvas.getBoundingClientRect();
      selectPeak(view.peakAt(e.clientX - rect.left, e.clientY - rect.top), false);
    }
    drag = null;
    canvas.classList.remove('dragging');
  });
  canvas.addEventListener('pointercancel', () => { drag = null; canvas.classList.remove('dragging'); });
  canvas.addEventListener('pointerleave', () => { if (!drag) updateReadout(null); });
  canvas.addEventListener('wheel', (e) => {
    e.preventDefault();
    const rect = canvas.getBoundingClientRect();
    const dy = e.deltaMode === 1 ? e.deltaY * 16 : e.deltaY;
    view.zoomAt(e.clientX - rect.left, e.clientY - rect.top, Math.exp(-dy * 0.0015));
    requestDraw();
    updateReadout(e);
  }, { passive: false });
}

function updateButtons() {
  const img = currentImage();
  $('run-search').disabled = !img || !worker || Boolean(state.running);
  $('download-dat').disabled = !img?.search;
  $('download-cor').disabled = !img?.search || !state.calibration;
  $('download-cor').title = state.calibration ? 'LaueTools .cor (2θ, χ, x, y, I)' : 'needs a calibration (.det)';
}

let drawQueued = false;
function requestDraw() {
  if (drawQueued) return;
  drawQueued = true;
  requestAnimationFrame(() => {
    drawQueued = false;
    view.draw();
  });
}

// ---------------------------------------------------------------------------------------------------------------
// Messages

function showError(message, keep = false) {
  const el = $('peaks-error');
  el.textContent = keep && !el.hidden && el.textContent ? `${el.textContent}\n${message}` : message;
  el.hidden = false;
}

function clearError() {
  $('peaks-error').hidden = true;
  $('peaks-error').textContent = '';
}

function setSearchStatus(text) {
  $('search-status').textContent = text;
}

function messageOf(e) {
  if (e == null) return 'unknown error';
  if (typeof e === 'string') return e;
  return e.message || String(e);
}

function fmt(v) {
  if (v == null || !Number.isFinite(v)) return String(v);
  return Number.isInteger(v) ? String(v) : v.toPrecision(6);
}

function roundNice(v) {
  return Number.isInteger(v) ? v : Number(v.toPrecision(6));
}

// Last, once every declaration above is initialised.
api.ready = start();
api.ready.catch(() => {});
