// "Images & peaks" view: open detector images (drop, file input or the bundled example), look at them (contrast,
// colour map, zoom, pan, pixel readout with 2θ, χ from a calibration), run LaueTools' peak search in a Web Worker
// with a progress bar, see the peaks over the image and in a sortable table, and save them as .dat / .cor; index
// the peaks (LaueTools' classical look-up-table method, in the same worker) with materials from the library's
// table, see the grains over the image (hkl labels, simulated pattern) and in a table, and save .fit / JSON.
// Without a .det, calibrate the detector on a reference crystal's peaks (calibrate.js, in the same worker).
//
// The worker (peaks-worker.js) owns the decoded images and runs the search; this thread keeps a Float32Array copy
// of the pixels for drawing and uses its own wasm instance (js/wasm.js) for the small calls: defaults, settings
// files, .det files, pixel → (2θ, χ), .dat/.cor/.fit text. For tests the view exposes `window.lauekitPeaks`.

import { loadWasm, spawnWorker } from './wasm.js';
import { GRAIN_COLORS, ImageView, imageStats, percentile } from './imageview.js';
import { LaueNN } from './lauenn.js';
import { SpotQuality } from './quality.js';
import { Calibrate } from './calibrate.js';
import { HELP, setHelp } from './help.js';

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
  images: [], // {id, name, info, pixels, stats, search: {peaks, stats, elapsed_ms, worker_ms, params} | null,
  //              index: {result, peaks, calibration, materials, worker_ms} | null}
  current: -1,
  shownId: null, // id of the image whose context (calibration, settings, materials, status) the form shows
  calibration: null, // {calibration, name, material, ccd_label}
  materials: [], // the library's table (wasm materials())
  picked: new Set(), // material names to index with
  indexing: null, // {job, id} while the worker indexes
  defaults: null,
  paramKeys: [],
  sort: { key: 'rank', dir: 1 },
  job: 0,
  running: null, // {job, id}
  autoIndex: null, // {id, extra}: index this image once its peaks are found (a scan point)
  analyse: null, // {id}: "Analyse" running on this image: peaks → spot network → indexing
  display: { scale: 'linear', colormap: 'grey', limits: 'percentile', plo: 0.5, phi: 99.5, lo: 0, hi: 1 },
};
let wasm = null;
let worker = null;
let nn = null; // LaueNN panel (lauenn.js), once the worker runs
let quality = null; // spot-quality panel (quality.js), once the worker runs
let calib = null; // detector-calibration panel (calibrate.js), once the worker runs
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
  openScanPoint: (p) => openScanPoint(p),
  runSearch: () => runSearch(),
  /** Starts indexing the current image's peaks; false (and a status message) when it cannot. */
  runIndex: () => runIndex(),
  /** Completed indexing runs. */
  indexRuns: 0,
  /** Re-reads what indexing needs (calibration, peaks, materials) into the panel. */
  updateIndexPanel: () => updateButtons(),
  /** Text of the last file saved: {name, text}. */
  lastSaved: null,
  /** 2θ, χ (deg) of the shown image's peaks with the shown image's calibration (null without one). */
  peakAngles: () => withAngles(currentImage()?.search?.peaks ?? []).map((p) => [p.tth, p.chi]),
  /** Materials picked for indexing the shown image. */
  picked: () => state.materials.map((m) => m.name).filter((n) => state.picked.has(n)),
  /** Shows the image at `index` of the list. */
  select: (index) => selectImage(index),
  /** The LaueNN panel (method switch, models, training): see lauenn.js. */
  nn: null,
  /** The spot-quality panel (CNN descriptors): see quality.js. */
  quality: null,
  /** The detector-calibration panel: see calibrate.js. */
  calib: null,
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
  state.materials = wasm.materials();
  buildMaterialPicker();
  await startWorker();
  nn = new LaueNN({
    $,
    worker,
    calibration: () => state.calibration?.calibration ?? null,
    picked: () => state.materials.map((m) => m.name).filter((n) => state.picked.has(n)),
    band: () => ({ emin_kev: Number($('index-emin').value), emax_kev: Number($('index-emax').value) }),
    changed: () => updateButtons(),
    showError: (m) => showError(m, true),
  });
  api.nn = nn;
  quality = new SpotQuality({
    $,
    worker,
    image: () => currentImage(),
    changed: () => { showPeaks(); updateButtons(); },
    showError: (m) => showError(m, true),
    onDone: () => analyseIndex(),
  });
  api.quality = quality;
  quality.start();
  calib = new Calibrate({
    $,
    worker,
    wasm,
    image: () => currentImage(),
    materials: () => state.materials,
    loaded: () => state.calibration,
    findPeaks: () => runSearch(),
    useCalibration: (text, name) => loadCalibration(text, name),
    save: (name, text) => save(name, text),
  });
  api.calib = calib;
  calib.start();
  // The list of ready models arrives in the background; indexing with the table needs none of it.
  nn.start().catch((e) => showError(`LaueNN panel: ${messageOf(e)}`, true));
  setSearchStatus('Open an image, then “Find peaks”.');
  updateButtons();
  return api;
}

function startWorker() {
  return new Promise((resolve, reject) => {
    try {
      worker = spawnWorker(new URL('./peaks-worker.js', import.meta.url));
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
  if (nn && nn.onWorkerMessage(m)) return;
  if (quality && quality.onWorkerMessage(m)) return;
  if (calib && calib.onWorkerMessage(m)) return;
  if (m.type === 'opened' || m.type === 'pixels') {
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
  } else if (m.type === 'index-start') {
    if (state.indexing && m.job === state.indexing.job) $('index-progress').value = 0.5;
  } else if (m.type === 'indexed') {
    onIndexed(m);
  } else if (m.type === 'error') {
    if (pending.has(m.id)) {
      pending.get(m.id).reject(new Error(m.message));
      pending.delete(m.id);
    } else if (state.indexing && m.job === state.indexing.job) {
      failIndexing(`Indexing failed: ${m.message}`);
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
  const list = Array.from(files);
  const isSettings = (f) => ['det', 'json', 'psp'].includes(extension(f.name));
  // A drop's .det and settings belong to the drop's images (each image keeps its own, see `saveContext`); dropped
  // alone, they are the shown image's. The shown image keeps what it had either way.
  const hasImages = list.some((f) => !isSettings(f));
  const before = detachContext(hasImages);
  let firstNew = -1;
  for (const f of [...list.filter(isSettings), ...list.filter((f) => !isSettings(f))]) {
    const ext = extension(f.name);
    try {
      if (ext === 'det') {
        loadCalibration(await f.text(), f.name);
      } else if (ext === 'json' || ext === 'psp') {
        loadParams(await f.text(), f.name);
      } else {
        // The File itself goes to the worker (a reference to the file, decoded again when needed); the page
        // keeps the pixels of the image it shows only.
        const index = await openImage(f.name, f);
        if (firstNew < 0) firstNew = index;
        else state.images[index].pixels = null;
      }
    } catch (e) {
      // The library's messages start with the file name already.
      const m = messageOf(e);
      showError(m.startsWith(f.name) ? `Could not open ${m}` : `Could not open ${f.name}: ${m}`, true);
      setSearchStatus(`${f.name} not opened (see the message above).`);
    }
  }
  if (firstNew >= 0) selectImage(firstNew);
  else reattachContext(before);
}

/**
 * Decodes an image (frame `frame` of a stack; `source` a File or the file's bytes) in the worker and adds it to
 * the list; returns its index.
 */
async function openImage(name, source, frame = 0) {
  const id = nextId++;
  setSearchStatus(`reading ${name}…`);
  const reply = await new Promise((resolve, reject) => {
    pending.set(id, { resolve, reject });
    if (source instanceof Blob) worker.postMessage({ type: 'open', id, name, file: source, frame });
    else worker.postMessage({ type: 'open', id, name, bytes: source, frame }, [source]);
  });
  const pixels = reply.pixels;
  const entry = { id, name, info: reply.info, pixels, stats: imageStats(pixels), search: null, index: null };
  entry.context = { ...captureContext(), searchStatus: '', indexStatus: '' };
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
  state.calibration = { calibration: parsed.calibration, name, material: parsed.material ?? null,
    ccd_label: parsed.ccd_label ?? null };
  // The calibration's material (LaueTools writes it in the .det) is what this image is indexed with, replacing
  // the previous image's choice (a .det of Si must not leave Ge picked); the user can still change it.
  const known = state.materials.find((m) => m.name.toLowerCase() === String(parsed.material ?? '').toLowerCase());
  if (known) {
    state.picked.clear();
    state.picked.add(known.name);
    buildMaterialPicker();
    if (nn?.method() === 'nn') nn.autoSelect();
  }
  showCalibration();
  nn?.renderModels();
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
  let before = null;
  try {
    const [img, det, params] = await Promise.all([get(EXAMPLE.image), get(EXAMPLE.det), get(EXAMPLE.params)]);
    before = detachContext();
    loadCalibration(await det.text(), 'calibGe111.det');
    loadParams(await params.text(), 'peaksearch.json');
    const index = await openImage('Ge_blanc_0000.mccd', await img.arrayBuffer());
    selectImage(index);
  } catch (e) {
    reattachContext(before);
    showError(`Could not load the example: ${messageOf(e)}`, true);
  }
}

/**
 * Opens one point of a scan here (the Scan view's click on a map point): its image with the scan's calibration,
 * peak-search settings and indexing options, then finds its peaks and indexes them as the scan did.
 * @param {object} p
 * @param {string} p.name image name (the scan's)
 * @param {ArrayBuffer} p.bytes the image file (transferred to the worker)
 * @param {number} [p.frame] frame of an HDF5 stack
 * @param {{text: string, name: string}} [p.det] the scan's LaueTools calibration
 * @param {object} [p.request] the scan's pipeline request ({peaks, index: {materials, settings, band}})
 */
export async function openScanPoint(p) {
  await api.ready;
  clearError();
  const before = detachContext();
  if (p.det) loadCalibration(p.det.text, p.det.name);
  const req = p.request ?? {};
  if (req.peaks) setParams({ ...state.defaults, ...req.peaks }, 'Settings of the scan.');
  const ix = req.index;
  let extra = null;
  if (ix) {
    state.picked.clear();
    for (const m of ix.materials ?? []) if (state.materials.some((t) => t.name === m)) state.picked.add(m);
    buildMaterialPicker();
    if (nn?.method() !== 'lut') nn?.setMethod('lut');
    const { nbgrainstofind = 1, share_spots: share = false, ...rest } = ix.settings ?? {};
    $('index-grains').value = String(nbgrainstofind);
    $('index-share').checked = Boolean(share);
    if (ix.band) {
      $('index-emin').value = String(ix.band.emin_kev);
      $('index-emax').value = String(ix.band.emax_kev);
    }
    $('index-positions').value = 'fit';
    extra = rest;
  }
  let index;
  try {
    index = await openImage(p.name, p.bytes, p.frame ?? 0);
  } catch (e) {
    reattachContext(before);
    throw e;
  }
  selectImage(index);
  state.autoIndex = ix ? { id: currentImage().id, extra } : null;
  if (!runSearch()) state.autoIndex = null;
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
// Per-image context: each open image keeps its own calibration, peak-search settings, materials and status lines;
// the form shows the current image's. Results (search, index) live on the image entry itself.

/** The form's per-image part as it is now. */
function captureContext() {
  const form = {};
  for (const el of document.querySelectorAll('#peak-params [id^="ps-"], #peak-params-more [id^="ps-"]')) {
    form[el.id] = el.type === 'checkbox' ? el.checked : el.value;
  }
  return {
    calibration: state.calibration,
    form,
    paramsSource: $('params-source').textContent,
    picked: new Set(state.picked),
    searchStatus: $('search-status').textContent,
    indexStatus: $('index-status').textContent,
  };
}

/** Stores the form into the context of the image it shows (before another image is shown). */
function saveContext() {
  const img = state.images.find((i) => i.id === state.shownId);
  if (img) img.context = captureContext();
}

/**
 * Before settings that belong to images about to be opened are applied (a drop with images, the example, a scan
 * point): stores the shown image's context and detaches the form from it. Returns what `reattachContext` needs if
 * no image gets opened after all.
 */
function detachContext(detach = true) {
  if (!detach) return null;
  saveContext();
  const shown = state.images.find((i) => i.id === state.shownId) ?? null;
  state.shownId = null;
  return shown;
}

/** No new image was opened: the form goes back to the image it showed. */
function reattachContext(shown) {
  if (!shown || state.shownId !== null) return;
  restoreContext(shown.context);
  state.shownId = shown.id;
}

/** Shows an image's context in the form. */
function restoreContext(ctx) {
  state.calibration = ctx.calibration;
  for (const [id, v] of Object.entries(ctx.form)) {
    const el = $(id);
    if (!el) continue;
    if (el.type === 'checkbox') el.checked = Boolean(v);
    else el.value = v;
  }
  $('params-source').textContent = ctx.paramsSource;
  state.picked = new Set(ctx.picked);
  buildMaterialPicker();
  if (nn?.method() === 'nn') nn.autoSelect();
  nn?.renderModels();
  setSearchStatus(ctx.searchStatus);
  setIndexStatus(ctx.indexStatus);
  updateReadout(null);
}

// ---------------------------------------------------------------------------------------------------------------
// Image list, display

function currentImage() {
  return state.images[state.current] ?? null;
}

function selectImage(index, force = false) {
  if (index === state.current && !force && currentImage()) return;
  const previous = currentImage();
  state.current = index;
  const img = currentImage();
  // The page keeps the decoded pixels of the shown image only (memory: see peaks-worker.js).
  if (previous && previous !== img) previous.pixels = null;
  if (img?.id !== state.shownId) {
    saveContext();
    if (img?.context) restoreContext(img.context);
    state.shownId = img?.id ?? null;
  }
  renderImageList();
  $('image-empty').hidden = Boolean(img);
  if (!img) {
    view.setImage(null);
    $('image-info').textContent = '';
    showPeaks();
    updateButtons();
    return;
  }
  // Everything of the image shows at once; its pixels, when they were released, come back from the worker.
  if (img.pixels) view.setImage({ rows: img.info.rows, cols: img.info.cols, pixels: img.pixels });
  else requestPixels(img);
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

/** Asks the worker for an image's pixels again, then draws them (if the image is still the one shown). */
function requestPixels(img) {
  if (img.decoding) return;
  img.decoding = new Promise((resolve, reject) => {
    pending.set(img.id, { resolve, reject });
    worker.postMessage({ type: 'pixels', id: img.id });
  }).then((reply) => {
    img.decoding = null;
    if (currentImage() !== img) return;
    img.pixels = reply.pixels;
    const selected = view.selected;
    view.setImage({ rows: img.info.rows, cols: img.info.cols, pixels: img.pixels });
    applyDisplay();
    showPeaks();
    if (selected >= 0) view.selected = selected;
    requestDraw();
  }, (e) => {
    img.decoding = null;
    showError(`Could not decode ${img.name} again: ${messageOf(e)}`, true);
  });
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
  $('disp-lo').title = manual ? 'lowest value shown (counts)' : 'lowest value shown (counts); typing one switches to manual limits';
  $('disp-hi').title = manual ? 'highest value shown (counts)' : 'highest value shown (counts); typing one switches to manual limits';
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
        inp.setAttribute('aria-label', `${key}, value ${i + 1} of ${v.length}`);
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
    img.index = null; // indexed a previous peak list
    const s = m.stats;
    setSearchStatus(`${img.name}: ${peaks.length} peaks in ${Math.round(m.elapsed_ms)} ms `
      + `(${s.local_maxima} local maxima, ${s.fitted} fitted, ${s.rejected} rejected`
      + `${s.duplicates ? `, ${s.duplicates} duplicates removed` : ''}).`);
    api.searches += 1;
    renderImageList();
    if (img === currentImage()) showPeaks();
  }
  updateButtons();
  // A scan point opened from the Scan view is indexed as the scan did.
  if (img && state.autoIndex?.id === img.id) {
    const { extra } = state.autoIndex;
    state.autoIndex = null;
    runIndex(extra);
  }
  // "Analyse": the spot network next, then indexing (analyseIndex, when the network is done).
  if (img && state.analyse?.id === img.id && !quality?.run()) analyseIndex();
  // "Calibrate" pressed before the image had peaks.
  calib?.peaksFound(img ?? null);
}

/** "Analyse": the whole pipeline on the current image with the current settings — peak search, the spot network
 * (its descriptors; the indexing uses its positions when "peak positions" says so), indexing and refinement. */
function runAnalyse() {
  const img = currentImage();
  if (!img) return;
  state.analyse = { id: img.id };
  if (!runSearch()) state.analyse = null;
}

/** The last step of "Analyse": indexing, once the spot network has run (or could not). */
function analyseIndex() {
  if (!state.analyse) return;
  const { id } = state.analyse;
  state.analyse = null;
  if (currentImage()?.id === id) runIndex();
}

function failRunning(message) {
  if (!state.running) return;
  state.running = null;
  state.autoIndex = null;
  state.analyse = null;
  $('peak-progress').value = 0;
  $('peak-progress').classList.remove('running');
  showError(message);
  calib?.peaksFound(null);
  setSearchStatus('peak search failed (see the message above)');
  updateButtons();
}

// ---------------------------------------------------------------------------------------------------------------
// Indexing (LaueTools' classical look-up-table method, in the worker)

function grainColor(k) {
  return GRAIN_COLORS[k % GRAIN_COLORS.length];
}

function swatch(k) {
  const s = document.createElement('span');
  s.className = 'swatch';
  s.style.background = grainColor(k);
  return s;
}

function buildMaterialPicker() {
  const box = $('index-materials');
  box.textContent = '';
  for (const m of state.materials) {
    const label = document.createElement('label');
    label.title = `${m.name}: ${m.structure}, a b c = ${m.lattice.slice(0, 3).join(' ')} Å, `
      + `α β γ = ${m.lattice.slice(3).join(' ')}°, space group ${m.space_group} (${m.laue_group}), rule ${m.rule}`;
    const box1 = document.createElement('input');
    box1.type = 'checkbox';
    box1.value = m.name;
    box1.checked = state.picked.has(m.name);
    box1.addEventListener('change', () => {
      if (box1.checked) state.picked.add(m.name);
      else state.picked.delete(m.name);
      if (nn?.method() === 'nn') nn.autoSelect();
      updateButtons();
    });
    label.append(box1, document.createTextNode(m.name));
    box.append(label);
  }
}

/** Why indexing cannot run now (a sentence), or '' when it can. */
function indexBlocker() {
  const img = currentImage();
  if (!img) return 'Open an image and find its peaks, then index them.';
  if (!img.search) return 'Find the peaks first (“Find peaks”), then index them.';
  if (!state.calibration) {
    return 'Indexing needs the detector calibration: drop a LaueTools .det file (the example comes with calibGe111.det).';
  }
  if (img.search.peaks.length < 2) return 'Indexing needs at least two peaks.';
  if (state.picked.size === 0) return 'Pick at least one material to index with.';
  if ($('index-positions').value === 'cnn' && !quality?.row(0)) {
    return 'Indexing at the spot network\'s positions needs its descriptors: press “Characterise spots” first.';
  }
  return nn ? nn.blocker() : '';
}

function readIndexOptions() {
  const grains = Number($('index-grains').value);
  const emin = Number($('index-emin').value);
  const emax = Number($('index-emax').value);
  const problems = [];
  if (!Number.isInteger(grains) || grains < 1 || grains > 20) problems.push('grains: a whole number from 1 to 20');
  if (!(Number.isFinite(emin) && Number.isFinite(emax) && emin > 0 && emax > emin)) {
    problems.push(`energy band: need 0 < E min < E max (got ${$('index-emin').value}–${$('index-emax').value} keV)`);
  }
  return {
    options: { grains, emin_kev: emin, emax_kev: emax, share_spots: $('index-share').checked },
    problems,
  };
}

/** Indexes the current image's peaks; `extra`: more indexing settings (LaueTools' names), e.g. a scan's. */
function runIndex(extra = null) {
  const img = currentImage();
  const blocker = indexBlocker();
  if (blocker || state.indexing || !worker) {
    if (blocker) setIndexStatus(blocker);
    return false;
  }
  const { options: fromForm, problems } = readIndexOptions();
  if (problems.length) {
    showError(`Indexing settings: ${problems.join('; ')}`);
    return false;
  }
  const options = extra ? { ...extra, ...fromForm } : fromForm;
  clearError();
  const job = ++state.job;
  const materials = state.materials.map((m) => m.name).filter((n) => state.picked.has(n));
  const useCnn = $('index-positions').value === 'cnn';
  const peaks = useCnn ? img.search.peaks : img.search.peaks.map(({ x, y, intensity }) => ({ x, y, intensity }));
  // `good` as the thresholds now set judge it: only those spots take the network's position.
  const descriptors = useCnn
    ? img.quality.descriptors.map((d, i) => ({ ...d, good: quality.isGood(img.search.peaks[i], d) }))
    : undefined;
  const calibration = state.calibration.calibration;
  const model = nn?.modelKey() ?? null;
  const modelName = model ? nn.models.get(model)?.name : null;
  state.indexing = { job, id: img.id, peaks: img.search.peaks, calibration, materials, options, model, modelName };
  const bar = $('index-progress');
  bar.removeAttribute('value'); // indeterminate until the worker starts
  setIndexStatus(`indexing ${peaks.length} peaks of ${img.name} as ${materials.join(', ')}`
    + `${modelName ? ` with the LaueNN model ${modelName}` : ' (look-up table)'}…`);
  updateButtons();
  worker.postMessage({ type: 'index', id: img.id, job, peaks, calibration, materials, options, model, descriptors });
  return true;
}

function onIndexed(m) {
  const run = state.indexing;
  if (!run || m.job !== run.job) return;
  state.indexing = null;
  $('index-progress').value = 1;
  const img = state.images.find((i) => i.id === m.id);
  // The peaks may have been searched again meanwhile: the result belongs to the list it was computed from.
  if (img && img.search && img.search.peaks === run.peaks) {
    img.index = { result: m.result, peaks: run.peaks, calibration: run.calibration, materials: run.materials,
      options: run.options, worker_ms: m.worker_ms, model: run.modelName, positions: m.positions };
    const r = m.result;
    const explained = r.n_peaks - r.unindexed.length;
    const what = r.grains.length === 0
      ? `no grain of ${run.materials.join(', ')} found`
      : `${r.grains.length} grain${r.grains.length > 1 ? 's' : ''} (${r.grains.map((g) => `${g.material} ${g.n_indexed} spots, `
        + `${g.matching_rate.toFixed(1)} %, by ${g.method === 'nn' ? 'the network' : 'the table'}`).join('; ')}), `
        + `${explained} of ${r.n_peaks} peaks explained`;
    const p = m.positions;
    const where = p.source === 'cnn'
      ? ` Positions: the spot network's for ${p.from_cnn} peaks, the Gaussian fit's for the ${p.from_fit} it calls bad.`
      : ' Positions: Gaussian fit.';
    const reason = notFoundReason(r, run.options.grains, run.materials);
    img.index.reason = reason;
    setIndexStatus(`${img.name}: ${what} in ${Math.round(r.elapsed_ms)} ms.${where}${reason ? ` ${reason}` : ''}`);
    api.indexRuns += 1;
    if (img === currentImage()) showPeaks();
  } else {
    setIndexStatus('Indexing finished for a peak list that has changed since; index again.');
  }
  updateButtons();
}

/**
 * Why indexing returned fewer grains than asked, in plain words, from what the result says (its settings, the
 * peaks left unexplained, the grains' chance levels when they carry them); '' when all were found.
 */
export function notFoundReason(r, asked, materials) {
  const found = r.grains.length;
  if (!(asked > found)) return '';
  const s = r.settings || {};
  const minMatches = s.minimumnumbermatches ?? 6;
  const minRate = s.min_matching_rate ?? 5;
  const free = s.share_spots ? r.n_peaks : r.unindexed.length;
  const head = `${asked} grain${asked > 1 ? 's' : ''} asked, ${found} found:`;
  const left = found ? `the ${free} peak${free === 1 ? '' : 's'} no grain explains` : `the ${free} peaks`;
  if (free < Math.max(minMatches, 2)) {
    return `${head} only ${free} peak${free === 1 ? ' was' : 's were'} left unexplained, fewer than the ${minMatches} `
      + 'matched spots a grain needs (minimumnumbermatches).';
  }
  let why = `${head} no candidate orientation of ${materials.join(', ')} from ${left} matched at least ${minMatches} `
    + `spots (minimumnumbermatches) with a matching rate of at least ${minRate} % (min_matching_rate)`;
  const k = r.grains.map((g) => Boolean(g.chance)).lastIndexOf(true);
  if (k >= 0) {
    const c = r.grains[k].chance;
    why += ` and above the chance level of random peaks (for grain ${k + 1}: more than `
      + `${c.matching_rate_threshold.toFixed(1)} % and ${Math.ceil(c.matched_threshold)} spots, from ${c.trials} sets of `
      + `${c.n_spots} random peaks)`;
  }
  return `${why}.`;
}

function failIndexing(message) {
  if (!state.indexing) return;
  state.indexing = null;
  $('index-progress').value = 0;
  showError(message);
  setIndexStatus('indexing failed (see the message above)');
  updateButtons();
}

/** Peak rows with their grain (1-based), hkl and energy when indexed. */
function withHkl(rows, index) {
  if (!index) return rows;
  const byPeak = new Map();
  index.result.grains.forEach((g, k) => {
    for (const s of g.spots) if (!byPeak.has(s.peak)) byPeak.set(s.peak, { k, s });
  });
  return rows.map((p) => {
    const hit = byPeak.get(p.rank - 1);
    if (!hit) return { ...p, grain: null, hkl: null, hklKey: null, energy: null };
    const h = hit.s.hkl;
    return { ...p, grain: hit.k + 1, hkl: h.join(' '), hklKey: h.map((v) => String(v + 500).padStart(4, '0')).join(''),
      energy: hit.s.energy_kev };
  });
}

function showGrains() {
  const img = currentImage();
  const index = img?.index;
  const peaks = img?.search?.peaks ?? [];
  const grains = (index?.result.grains ?? []).map((g, k) => ({
    color: grainColor(k),
    spots: g.spots.map((s) => {
      const p = peaks[s.peak];
      return { x: s.x, y: s.y, hkl: s.hkl, sigma: p ? Math.max(Math.abs(p.sigma_major), Math.abs(p.sigma_minor)) : 0 };
    }),
    simulated: g.simulated,
  }));
  view.setGrains(grains, { simulated: $('show-simulated').checked, labels: $('show-hkl').checked });
  renderGrainTable();
}

function renderGrainTable() {
  const img = currentImage();
  const index = img?.index;
  const body = $('grain-table').tBodies[0];
  body.textContent = '';
  if (!index) {
    $('grain-count').textContent = img?.search ? 'Not indexed' : 'Not indexed (find peaks first)';
    return;
  }
  const r = index.result;
  $('grain-count').textContent = `${r.grains.length} grain${r.grains.length === 1 ? '' : 's'} · `
    + `${r.n_peaks - r.unindexed.length} of ${r.n_peaks} peaks indexed · ${Math.round(r.elapsed_ms)} ms`;
  // Misorientation to grain 1 of the same material: shown when the library reports it (field misorientation_deg).
  const withMis = r.grains.some((g) => Number.isFinite(g.misorientation_deg));
  $('grain-table').querySelector('th[data-key="misorientation"]').hidden = !withMis;
  r.grains.forEach((g, k) => {
    const tr = document.createElement('tr');
    tr.dataset.grain = String(k);
    const cell = (text, cls) => {
      const td = document.createElement('td');
      if (cls) td.className = cls;
      td.textContent = text;
      tr.append(td);
      return td;
    };
    cell(String(k + 1)).prepend(swatch(k));
    cell(g.material).title = g.method === 'nn' ? 'found from the network\'s hkl predictions' : 'found by the look-up table';
    cell(`${g.n_indexed} (of ${g.n_simulated} simulated)`);
    cell(`${g.matching_rate.toFixed(2)} %`);
    cell(Number.isFinite(g.rms_px) ? g.rms_px.toFixed(3) : '—');
    cell(g.euler.map((v) => v.toFixed(3)).join('  '), 'ub');
    cell(g.ub.map((row) => row.map((v) => (v < 0 ? '' : ' ') + v.toFixed(6)).join(' ')).join('\n'), 'ub');
    tensorCell(cell('', 'tensor'), g.strain, 1e3, 3, 'strain ε′ (×10⁻³)');
    tensorCell(cell('', 'tensor'), g.stress, 1, 1, 'stress σ′ (MPa)');
    const mis = cell(Number.isFinite(g.misorientation_deg) ? g.misorientation_deg.toFixed(3) : '—');
    mis.hidden = !withMis;
    const td = cell('');
    const b = document.createElement('button');
    b.type = 'button';
    b.className = 'save-fit';
    b.dataset.grain = String(k);
    b.textContent = 'Save .fit';
    b.title = `LaueTools .fit of grain ${k + 1}`;
    td.append(b);
    body.append(tr);
  });
  if (r.grains.length === 0) {
    const tr = document.createElement('tr');
    const td = document.createElement('td');
    td.colSpan = 11;
    td.textContent = `No grain of ${index.materials.join(', ')} explains these peaks.`;
    tr.append(td);
    body.append(tr);
  }
}

/**
 * A grain table cell for a deviatoric tensor report ({crystal: [6], sample: [6], von_mises}, Voigt order xx yy zz
 * yz xz xy): the von Mises value (× `scale`), and the two frames' tensors in a <details>; '—' without one.
 */
function tensorCell(td, t, scale, digits, what) {
  if (!t || !Number.isFinite(t.von_mises)) {
    td.textContent = '—';
    return;
  }
  const f = (v) => (Number.isFinite(v) ? (v * scale).toFixed(digits) : '—');
  const vm = document.createElement('span');
  vm.className = 'vm';
  vm.textContent = f(t.von_mises);
  const d = document.createElement('details');
  const sum = document.createElement('summary');
  sum.textContent = 'tensors';
  sum.title = `${what}, xx yy zz yz xz xy, in the crystal and sample frames`;
  // An ARIA table of divs (a nested <table> would add rows to the grain table's).
  const table = document.createElement('div');
  table.className = 'strain-tensor';
  table.setAttribute('role', 'table');
  table.setAttribute('aria-label', `${what}, Voigt order xx yy zz yz xz xy`);
  const row = (cells, headRole) => {
    const r = document.createElement('div');
    r.setAttribute('role', 'row');
    cells.forEach((text, i) => {
      const c = document.createElement('span');
      c.setAttribute('role', headRole && i > 0 ? 'columnheader' : i === 0 ? 'rowheader' : 'cell');
      c.textContent = text;
      const help = HELP[`th:strain-tensor:${headRole && i === 0 ? 'frame' : text}`];
      if (help && (headRole || i === 0)) c.title = help;
      r.append(c);
    });
    table.append(r);
  };
  row([what, 'xx', 'yy', 'zz', 'yz', 'xz', 'xy'], true);
  for (const frame of ['crystal', 'sample']) row([frame, ...(t[frame] ?? []).map(f)], false);
  d.append(sum, table);
  td.append(vm, d);
}

function saveFit(k) {
  const img = currentImage();
  const index = img?.index;
  const g = index?.result.grains[k];
  if (!g) return;
  try {
    const peaks = index.peaks.map(({ x, y, intensity }) => ({ x, y, intensity }));
    const ccd = state.calibration?.ccd_label || img.info.detector || '';
    const text = wasm.grain_fit_text(g, peaks, index.calibration, k, img.name, ccd);
    save(`${stem(img.name)}_g${k}.fit`, text);
  } catch (e) {
    showError(`Could not write the .fit file: ${messageOf(e)}`);
  }
}

/** The JSON of `lauekit index --format json` (grains, unindexed, seconds), with the page's extras. */
function saveIndexJson() {
  const img = currentImage();
  const index = img?.index;
  if (!index) return;
  const r = index.result;
  const out = {
    image: img.name,
    calibration: index.calibration,
    materials: index.materials,
    method: index.model ? 'nn' : 'lut',
    model: index.model ?? null,
    emin_kev: r.emin_kev,
    emax_kev: r.emax_kev,
    settings: r.settings,
    grains: r.grains.map((g) => ({
      material: g.material,
      method: g.method,
      ub: g.ub,
      euler: g.euler,
      matching_rate: g.matching_rate,
      n_indexed: g.n_indexed,
      n_simulated: g.n_simulated,
      rms_px: g.rms_px,
      spots: g.spots.map((s) => ({ peak: s.peak, hkl: s.hkl, energy_kev: s.energy_kev, residual_px: s.residual_px,
        x: s.x, y: s.y })),
    })),
    unindexed: r.unindexed,
    positions: index.positions,
    seconds: r.elapsed_ms / 1000,
  };
  save(`${stem(img.name)}_index.json`, `${JSON.stringify(out, null, 2)}\n`);
}

function setIndexStatus(text) {
  $('index-status').textContent = text;
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
  view.setPeakStyles(quality?.styles() ?? null);
  quality?.render();
  showGrains();
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
  { key: 'grain', label: 'grain', digits: 0, indexed: true },
  { key: 'hkl', label: 'h k l', indexed: true },
  { key: 'energy', label: 'E (keV)', digits: 3, indexed: true },
  { key: 'sim', label: 'Sim', digits: 3, quality: true },
  { key: 'asp', label: 'Asp', digits: 2, quality: true },
  { key: 'area', label: 'area (px²)', digits: 2, quality: true },
  { key: 'good', label: 'good', quality: true },
];

function renderTable() {
  const table = $('peak-table');
  const indexed = currentImage()?.index;
  const rated = Boolean(quality?.row(0));
  const cols = COLUMNS.filter((c) => (!c.calib || state.calibration) && (!c.indexed || indexed) && (!c.quality || rated));
  const head = table.tHead.rows[0];
  head.textContent = '';
  for (const c of cols) {
    const th = document.createElement('th');
    th.dataset.key = c.key;
    th.scope = 'col';
    const sorted = state.sort.key === c.key;
    th.textContent = c.label + (sorted ? (state.sort.dir > 0 ? ' ▲' : ' ▼') : '');
    th.setAttribute('aria-sort', sorted ? (state.sort.dir > 0 ? 'ascending' : 'descending') : 'none');
    th.tabIndex = 0;
    setHelp(th, `${HELP[`th:peak-table:${c.key}`] ?? c.label} Click (or Enter) to sort by it.`);
    head.append(th);
  }
  const img = currentImage();
  const rows = withHkl(withAngles(img?.search?.peaks ?? []), indexed)
    .map((p) => (rated ? { ...p, ...quality.row(p.rank - 1) } : p));
  const { key, dir } = state.sort;
  rows.sort((a, b) => {
    const u = key === 'hkl' ? a.hklKey : a[key];
    const v = key === 'hkl' ? b.hklKey : b[key];
    if (u == null || v == null) return (u == null) - (v == null);
    return dir * (u < v ? -1 : u > v ? 1 : 0) || a.rank - b.rank;
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
      td.textContent = v == null ? '—' : (typeof v === 'number' ? v.toFixed(c.digits) : v);
      if (c.key === 'grain' && v != null) td.prepend(swatch(v - 1));
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
  const value = img.pixels ? img.pixels[row * img.info.cols + col] : NaN;
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
    // Typing a value switches to manual limits; moving the focus through the field (Tab) does not.
    $(id).addEventListener('input', () => {
      if ($('disp-limits').value !== 'manual') $('disp-limits').value = 'manual';
      readDisplayForm();
      applyDisplay();
    });
  }
  $('disp-fit').addEventListener('click', () => { view.fit(); requestDraw(); });

  $('run-search').addEventListener('click', () => runSearch());
  $('run-analyse').addEventListener('click', () => runAnalyse());
  $('reset-params').addEventListener('click', () => {
    if (state.defaults) setParams(state.defaults, "LaueTools' defaults.");
  });
  $('download-dat').addEventListener('click', saveDat);
  $('run-index').addEventListener('click', () => runIndex());
  for (const id of ['show-simulated', 'show-hkl']) {
    $(id).addEventListener('change', () => { showGrains(); requestDraw(); });
  }
  $('download-index-json').addEventListener('click', saveIndexJson);
  $('index-positions').addEventListener('change', () => updateButtons());
  $('grain-table').tBodies[0].addEventListener('click', (e) => {
    const b = e.target.closest('button.save-fit');
    if (b) saveFit(Number(b.dataset.grain));
  });
  $('download-cor').addEventListener('click', saveCor);

  $('peak-table').tHead.addEventListener('keydown', (e) => {
    if ((e.key === 'Enter' || e.key === ' ') && e.target.closest('th')) {
      e.preventDefault();
      const key = e.target.closest('th').dataset.key;
      state.sort = { key, dir: state.sort.key === key ? -state.sort.dir : 1 };
      renderTable();
      $('peak-table').tHead.querySelector(`th[data-key="${key}"]`)?.focus();
    }
  });
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
  $('run-analyse').disabled = $('run-search').disabled;
  $('download-dat').disabled = !img?.search;
  $('download-cor').disabled = !img?.search || !state.calibration;
  $('download-cor').title = state.calibration ? 'LaueTools .cor (2θ, χ, x, y, I)' : 'needs a calibration (.det)';
  const blocker = indexBlocker();
  $('run-index').disabled = Boolean(blocker) || !worker || Boolean(state.indexing);
  $('run-index').title = blocker;
  $('download-index-json').disabled = !img?.index;
  calib?.refresh();
  nn?.renderGeometryWarning();
  if (!state.indexing) {
    // Say what is missing; keep the last result's line otherwise.
    const status = $('index-status').textContent;
    if (blocker) setIndexStatus(blocker);
    else if (!status || status === api.lastBlocker) setIndexStatus('Ready: press “Index”.');
    api.lastBlocker = blocker;
  }
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
