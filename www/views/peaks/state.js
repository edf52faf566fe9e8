// "Images & peaks" view: the state every part of the view shares — the constants, the view state object, the
// image canvas, `window.lauekitPeaks`, the worker and panels (set by main.js at start-up) — and the messages.

import { $ } from '../../lib/dom.js';
import { ImageView } from '../../lib/imageview.js';
import { loadExample, openFiles, openScanPoint } from './files.js';
import { currentImage, selectImage } from './display.js';
import { runSearch } from './search.js';
import { runIndex } from './indexing.js';
import { withAngles } from './table.js';
import { updateButtons } from './main.js';

export const EXAMPLE = {
  image: 'examples/Ge_blanc_0000.mccd',
  det: 'examples/calibGe111.det',
  params: 'examples/peaksearch.json',
};
/** The settings shown first; the rest go under "More settings". */
export const MAIN_PARAMS = ['local_maxima_search_method', 'IntensityThreshold', 'boxsize', 'PixelNearRadius', 'FitPixelDev',
  'MinIntensity', 'PeakSizeRange', 'fit_peaks_gaussian', 'Data_for_localMaxima', 'formulaexpression'];
export const CHOICES = {
  local_maxima_search_method: [['0', '0: threshold + blobs'], ['2', '2: convolution']],
  fit_peaks_gaussian: [['1', '1: 2D Gaussian'], ['2', '2: 2D Lorentzian'], ['0', '0: no fit']],
  position_definition: [['1', '1: LaueTools (first pixel (1, 1))'], ['0', '0: array indices']],
  Data_for_localMaxima: [['auto_background', 'auto_background'], ['', 'raw image (null)']],
};
export const HINTS = {
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

export { $ };

export const state = {
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
export let wasm = null;
export let worker = null;
export let nn = null; // LaueNN panel (lauenn.js), once the worker runs
export let quality = null; // spot-quality panel (quality.js), once the worker runs
export let calib = null; // detector-calibration panel (calibrate.js), once the worker runs
export let rpc = null; // requests to the worker (lib/rpc.js): open, pixels
let nextId = 1; // ids of the images (the worker knows an image by it)
/** A new image id (the worker knows an image by it). */
export function nextImageId() {
  return nextId++;
}
// The view's parts, set once at start-up (main.js); other modules read them as live bindings.
export function setWasm(v) {
  wasm = v;
}
export function setWorker(v) {
  worker = v;
}
export function setNn(v) {
  nn = v;
}
export function setQuality(v) {
  quality = v;
}
export function setCalib(v) {
  calib = v;
}
export function setRpc(v) {
  rpc = v;
}
export const view = new ImageView($('image-canvas'));

export const api = {
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

/** Draws the image canvas on the next animation frame (once, however many ask before it). */
let drawQueued = false;
export function requestDraw() {
  if (drawQueued) return;
  drawQueued = true;
  requestAnimationFrame(() => {
    drawQueued = false;
    view.draw();
  });
}

// ---------------------------------------------------------------------------------------------------------------
// Messages

export function showError(message, keep = false) {
  const el = $('peaks-error');
  el.textContent = keep && !el.hidden && el.textContent ? `${el.textContent}\n${message}` : message;
  el.hidden = false;
}

export function clearError() {
  $('peaks-error').hidden = true;
  $('peaks-error').textContent = '';
}

export function setSearchStatus(text) {
  $('search-status').textContent = text;
}

export function messageOf(e) {
  if (e == null) return 'unknown error';
  if (typeof e === 'string') return e;
  return e.message || String(e);
}

export function fmt(v) {
  if (v == null || !Number.isFinite(v)) return String(v);
  return Number.isInteger(v) ? String(v) : v.toPrecision(6);
}

export function roundNice(v) {
  return Number.isInteger(v) ? v : Number(v.toPrecision(6));
}
