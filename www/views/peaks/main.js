// "Images & peaks" view: open detector images (drop, file input or the bundled example), look at them (contrast,
// colour map, zoom, pan, pixel readout with 2θ, χ from a calibration), run LaueTools' peak search in a Web Worker
// with a progress bar, see the peaks over the image and in a sortable table, and save them as .dat / .cor; index
// the peaks (LaueTools' classical look-up-table method, in the same worker) with materials from the library's
// table, a materials file or a custom crystal, see the grains over the image (hkl labels, simulated pattern) and
// in a table, and save .fit / JSON. Without a .det, calibrate the detector on a reference crystal's peaks
// (calibrate.js, in the same worker).
//
// The worker (peaks-worker.js) owns the decoded images and runs the search; this thread keeps a Float32Array copy
// of the pixels for drawing and uses its own wasm instance (lib/wasm.js) for the small calls: defaults, settings
// files, .det files, pixel → (2θ, χ), .dat/.cor/.fit text. For tests the view exposes `window.lauekitPeaks`.
//
// This module is the view's composition root: the view's state and shared context (state.js), start-up (the wasm
// instance, the worker), the panels — files.js (images, per-image context), display.js (image display, readout),
// search.js (peak-search settings and search), indexing.js (materials, indexing, grains), table.js (peaks table,
// .dat / .cor), and the worker's panels lauenn.js, quality.js, calibrate.js — wired through the callbacks given
// to their constructors, and the worker's messages routed to them.

import { $ } from '../../lib/dom.js';
import { Messages, messageOf } from '../../lib/panel.js';
import { saveText } from '../../lib/download.js';
import { ImageView } from '../../lib/imageview.js';
import { MaterialCatalog, MaterialsInput } from '../../lib/materials.js';
import { loadWasm, spawnWorker } from '../../lib/wasm.js';
import { WorkerRpc } from '../../lib/rpc.js';
import { LaueNN } from './lauenn.js';
import { SpotQuality } from './quality.js';
import { Calibrate } from './calibrate.js';
import { createState } from './state.js';
import { ImagesPanel } from './files.js';
import { DisplayPanel } from './display.js';
import { SearchPanel } from './search.js';
import { IndexPanel } from './indexing.js';
import { PeakTable } from './table.js';

const state = createState();
const view = new ImageView($('image-canvas'));
const materials = new MaterialCatalog();

/** Draws the image canvas on the next animation frame (once, however many ask before it). */
let drawQueued = false;
function requestDraw() {
  if (drawQueued) return;
  drawQueued = true;
  requestAnimationFrame(() => {
    drawQueued = false;
    view.draw();
  });
}

export const api = {
  /** @type {Promise<typeof api> | null} */
  ready: null,
  state,
  view,
  /** @type {{stage: string, done: number, total: number}[]} Progress messages of the last search, in order. */
  progressLog: [],
  /** Completed searches. */
  searches: 0,
  /** Files opened (images added to the list). */
  opened: 0,
  /** @type {{x: number, y: number, value: number, tth: number | null, chi: number | null} | null} Last pixel
   * readout (LaueTools x, y). */
  readout: null,
  /** The image shown: {name, info, rows, cols, search}. */
  current: () => current(),
  /** LaueTools pixel position (x, y) → canvas CSS px. */
  toCanvas: (/** @type {number} */ x, /** @type {number} */ y) => view.pixelToCanvas(x, y),
  openFiles: (/** @type {Iterable<File> | ArrayLike<File>} */ files) => images.openFiles(files),
  loadExample: () => images.loadExample(),
  openScanPoint: (/** @type {Parameters<ImagesPanel['openScanPoint']>[0]} */ p) => images.openScanPoint(p),
  runSearch: () => search.run(),
  /** Starts indexing the current image's peaks; false (and a status message) when it cannot. */
  runIndex: () => indexing.run(),
  /** Completed indexing runs. */
  indexRuns: 0,
  /** Re-reads what indexing needs (calibration, peaks, materials) into the panel. */
  updateIndexPanel: () => updateButtons(),
  /** @type {{name: string, text: string} | null} Text of the last file saved. */
  lastSaved: null,
  /** @type {string} the last "why indexing cannot run" written in the status line */
  lastBlocker: '',
  /** 2θ, χ (deg) of the shown image's peaks with the shown image's calibration (null without one). */
  peakAngles: () => table.withAngles(current()?.search?.peaks ?? []).map((p) => [p.tth, p.chi]),
  /** Materials picked for indexing the shown image. */
  picked: () => indexing.picked(),
  /** The material choices (the library's table, materials files, custom crystals): lib/materials.js. */
  materials,
  /** Shows the image at `index` of the list. */
  select: (/** @type {number} */ index) => images.select(index),
  /** @type {LaueNN | null} The LaueNN panel (method switch, models, training): see lauenn.js. */
  nn: null,
  /** @type {SpotQuality | null} The spot-quality panel (CNN descriptors): see quality.js. */
  quality: null,
  /** @type {Calibrate | null} The detector-calibration panel: see calibrate.js. */
  calib: null,
};
window.lauekitPeaks = api;

/** @type {import('./state.js').PeaksContext} */
const ctx = {
  state,
  view,
  wasm: null,
  worker: null,
  rpc: null,
  messages: new Messages('peaks-error', 'search-status'),
  materials,
  api,
  nn: null,
  quality: null,
  calib: null,
  current: () => current(),
  requestDraw,
  updateButtons: () => updateButtons(),
  save: (name, text) => {
    saveText(name, text);
    api.lastSaved = { name, text };
  },
};

/** @returns {import('./state.js').ImageEntry | null} the image shown */
function current() {
  return state.images[state.current] ?? null;
}

const table = new PeakTable(ctx, { showGrains: () => indexing.showGrains() });
const display = new DisplayPanel(ctx, {
  selectPeak: (index, center) => table.select(index, center),
  showPeaks: () => table.showPeaks(),
});
const indexing = new IndexPanel(ctx, {
  showPeaks: () => table.showPeaks(),
  pickedChanged: () => { if (ctx.nn?.method() === 'nn') ctx.nn.autoSelect(); },
});
const search = new SearchPanel(ctx, {
  searched: (img) => afterSearch(img),
  failed: () => ctx.calib?.peaksFound(null),
  analyse: () => runAnalyse(),
});
const images = new ImagesPanel(ctx, {
  show: (img) => {
    display.showImage(img);
    table.showPeaks();
    updateButtons();
  },
  calibrationChanged: () => {
    display.showCalibration();
    ctx.nn?.renderModels();
    table.render();
    updateButtons();
    display.updateReadout(null);
  },
  pickedChanged: () => {
    indexing.renderPicker();
    if (ctx.nn?.method() === 'nn') ctx.nn.autoSelect();
  },
  setParams: (p, source) => search.setParams(p, source),
  captureForm: () => search.capture(),
  restoreForm: (form, source) => search.restore(form, source),
  setIndexStatus: (text) => indexing.setStatus(text),
  applyIndexRequest: (ix) => indexing.applyRequest(ix),
  runSearch: () => search.run(),
  loadMaterials: (files) => indexMaterials.loadFiles(files),
});
/** Materials files and custom crystals of the indexing panel (and LaueNN's training, which trains for its picks). */
const indexMaterials = new MaterialsInput('index-materials-add', materials, {
  wasm: () => ctx.wasm,
  showError: (m) => ctx.messages.showError(m),
});
/** The same for the calibration panel (its reference crystal). */
const calibMaterials = new MaterialsInput('calib-materials-add', materials, {
  wasm: () => ctx.wasm,
  showError: (m) => ctx.calib?.showError(m),
  added: (added) => ctx.calib?.selectMaterial(added[0]?.name),
});
materials.subscribe(() => {
  indexing.renderPicker();
  ctx.calib?.renderMaterials();
  updateButtons();
});

/**
 * Opens one point of a scan in this view (the Scan view's click on a map point): see ImagesPanel.openScanPoint.
 * @param {Parameters<ImagesPanel['openScanPoint']>[0]} p
 */
export function openScanPoint(p) {
  return images.openScanPoint(p);
}

// ---------------------------------------------------------------------------------------------------------------
// Start-up

async function start() {
  images.wire();
  display.wire();
  search.wire();
  indexing.wire();
  table.wire();
  ctx.messages.setStatus('loading the WebAssembly core…');
  let wasm;
  try {
    wasm = await loadWasm();
  } catch (e) {
    ctx.messages.setStatus('not running: the WebAssembly package did not load (see the message above)');
    throw e;
  }
  ctx.wasm = wasm;
  search.buildForm(wasm.default_peak_params());
  search.setParams(state.defaults, "LaueTools' defaults.");
  materials.setTable(wasm.materials());
  await startWorker();
  const worker = ctx.worker;
  const nn = new LaueNN({
    $,
    worker,
    calibration: () => state.calibration?.calibration ?? null,
    picked: () => indexing.picked(),
    specs: () => indexing.specs(),
    band: () => ({ emin_kev: Number($('index-emin', 'input').value), emax_kev: Number($('index-emax', 'input').value) }),
    changed: () => updateButtons(),
    showError: (m) => ctx.messages.showError(m, true),
  });
  ctx.nn = nn;
  api.nn = nn;
  const quality = new SpotQuality({
    $,
    worker,
    image: () => current(),
    changed: () => { table.showPeaks(); updateButtons(); },
    showError: (m) => ctx.messages.showError(m, true),
    onDone: () => analyseIndex(),
  });
  ctx.quality = quality;
  api.quality = quality;
  quality.start();
  const calib = new Calibrate({
    $,
    worker,
    wasm,
    image: () => current(),
    materials: () => materials.list(),
    spec: (name) => materials.spec(name),
    loaded: () => state.calibration,
    findPeaks: () => search.run(),
    useCalibration: (text, name) => images.loadCalibration(text, name),
    save: (name, text) => ctx.save(name, text),
  });
  ctx.calib = calib;
  api.calib = calib;
  calib.start();
  // The list of ready models arrives in the background; indexing with the table needs none of it.
  nn.start().catch((e) => ctx.messages.showError(`LaueNN panel: ${messageOf(e)}`, true));
  ctx.messages.setStatus('Open an image, then “Find peaks”.');
  updateButtons();
  return api;
}

/** @returns {Promise<void>} the peak-search worker started (its wasm loaded) */
function startWorker() {
  return new Promise((resolve, reject) => {
    let worker;
    try {
      worker = spawnWorker(new URL('./peaks-worker.js', import.meta.url));
      ctx.worker = worker;
      ctx.rpc = new WorkerRpc(worker);
    } catch (e) {
      ctx.messages.showError(`Could not start the peak-search worker: ${messageOf(e)}`);
      reject(e);
      return;
    }
    worker.onmessage = (ev) => {
      const m = ev.data;
      if (m.type === 'ready') resolve();
      else if (m.type === 'boot-error') {
        ctx.messages.showError(`The peak-search worker could not load the WebAssembly package: ${m.message}`);
        ctx.rpc.failAll(new Error(m.message));
        reject(new Error(m.message));
      } else onWorkerMessage(m);
    };
    worker.onerror = (ev) => {
      ev.preventDefault();
      const msg = `The peak-search worker failed: ${ev.message || 'could not load views/peaks/peaks-worker.js'}`;
      ctx.messages.showError(msg);
      search.fail(msg);
      ctx.rpc.failAll(new Error(msg));
      reject(new Error(msg));
    };
  });
}

/**
 * Routes a message of the peak-search worker to the panel it is for.
 * @param {any} m
 */
function onWorkerMessage(m) {
  if (typeof m.rpc === 'number') return; // answered through `rpc`
  if (ctx.nn && ctx.nn.onWorkerMessage(m)) return;
  if (ctx.quality && ctx.quality.onWorkerMessage(m)) return;
  if (ctx.calib && ctx.calib.onWorkerMessage(m)) return;
  if (m.type === 'progress') {
    search.onProgress(m);
  } else if (m.type === 'peaks') {
    search.onPeaks(m);
  } else if (m.type === 'index-start') {
    indexing.onStart(m);
  } else if (m.type === 'indexed') {
    indexing.onIndexed(m);
  } else if (m.type === 'error') {
    if (state.indexing && m.job === state.indexing.job) {
      indexing.fail(`Indexing failed: ${m.message}`);
    } else if (state.running && m.job === state.running.job) {
      const img = state.images.find((i) => i.id === m.id);
      search.fail(`Peak search failed${img ? ` on ${img.name}` : ''}: ${m.message}`);
    } else {
      ctx.messages.showError(m.message);
    }
  }
}

// ---------------------------------------------------------------------------------------------------------------
// What follows a search: the list, the peaks, a scan point's indexing, "Analyse", a calibration waiting for peaks

/**
 * A peak search ended with peaks on `img` (null: closed meanwhile).
 * @param {import('./state.js').ImageEntry | null} img
 */
function afterSearch(img) {
  if (img) {
    images.renderList();
    if (img === current()) table.showPeaks();
  }
  updateButtons();
  // A scan point opened from the Scan view is indexed as the scan did.
  if (img && state.autoIndex?.id === img.id) {
    const { extra } = state.autoIndex;
    state.autoIndex = null;
    indexing.run(extra);
  }
  // "Analyse": the spot network next, then indexing (analyseIndex, when the network is done).
  if (img && state.analyse?.id === img.id && !ctx.quality?.run()) analyseIndex();
  // "Calibrate" pressed before the image had peaks.
  ctx.calib?.peaksFound(img ?? null);
}

/** "Analyse": the whole pipeline on the current image with the current settings — peak search, the spot network
 * (its descriptors; the indexing uses its positions when "peak positions" says so), indexing and refinement. */
function runAnalyse() {
  const img = current();
  if (!img) return;
  state.analyse = { id: img.id };
  if (!search.run()) state.analyse = null;
}

/** The last step of "Analyse": indexing, once the spot network has run (or could not). */
function analyseIndex() {
  if (!state.analyse) return;
  const { id } = state.analyse;
  state.analyse = null;
  if (current()?.id === id) indexing.run();
}

/** Enables what can run, and says in the indexing status line what indexing still needs. */
function updateButtons() {
  const img = current();
  $('run-search', 'button').disabled = !img || !ctx.worker || Boolean(state.running);
  $('run-analyse', 'button').disabled = $('run-search', 'button').disabled;
  $('download-dat', 'button').disabled = !img?.search;
  $('download-cor', 'button').disabled = !img?.search || !state.calibration;
  $('download-cor').title = state.calibration ? 'LaueTools .cor (2θ, χ, x, y, I)' : 'needs a calibration (.det)';
  const blocker = indexing.blocker();
  $('run-index', 'button').disabled = Boolean(blocker) || !ctx.worker || Boolean(state.indexing);
  $('run-index').title = blocker;
  $('download-index-json', 'button').disabled = !img?.index;
  ctx.calib?.refresh();
  ctx.nn?.renderGeometryWarning();
  if (!state.indexing) {
    // Say what is missing; keep the last result's line otherwise.
    const status = $('index-status').textContent;
    if (blocker) indexing.setStatus(blocker);
    else if (!status || status === api.lastBlocker) indexing.setStatus('Ready: press “Index”.');
    api.lastBlocker = blocker;
  }
}

// Last, once every declaration above is initialised.
api.ready = start();
api.ready.catch(() => {});
