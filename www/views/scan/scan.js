// "Scan" view: a raster scan (nx × ny points, x fastest, one detector image each) analysed in the page as
// `lauekit scan` does it. A pool of module Web Workers (scan-worker.js), each with its own wasm instance and one
// ScanWorker (the pipeline request, the calibration, the grid), takes the points one at a time; every worker reads
// its point's file itself (the page sends File objects, never all the bytes). The maps (the library's scan_maps)
// fill in as points finish; hovering reads a point out, a click opens its image in the "Images & peaks" view,
// where its peaks are found and indexed with the scan's settings. Downloads: the library's HDF5, JSON and .ctf,
// and the shown map's PNG (colour bar / IPF key, in the colours shown) and CSV.
//
// Inputs: many files or a folder, ordered by their LaueTools series number (prefix_NNNN.ext, the rule of
// src/scan/series.rs), or one HDF5 stack (frames = points); a .det among them is the calibration, a .json the
// whole pipeline request. "Load example scan" makes the synthetic scan of `lauekit simulate-scan --grid 12x10
// --seed 1 --grains 4` in the page: the workers render each point's TIFF when they take the point.
//
// This module is the scan panel's composition root: its state, start-up, `window.lauekitScan`, and what the
// Cluster panel (cluster.js) reads from it. The panels: source.js (images, calibration, grid), settings.js (the
// pipeline request, workers), progress.js (running, progress, counts; pool.js is the worker pool), maps.js (maps,
// legend, readout, PNG / CSV); series.js has the file-name rules.

import { $ } from '../../lib/dom.js';
import { Messages, messageOf } from '../../lib/panel.js';
import { loadWasm } from '../../lib/wasm.js';
import { saveBlob } from '../../lib/download.js';
import { gridPosition } from '../../lib/gridmap.js';
import { showTab } from '../../lib/tabs.js';
import { MaterialCatalog, MaterialsInput } from '../../lib/materials.js';
import { openScanPoint } from '../peaks/main.js';
import { parseSeriesName, selectSeries } from './series.js';
import { EXAMPLE_SPEC, SourcePanel } from './source.js';
import { SettingsPanel, defaultWorkers } from './settings.js';
import { RunPanel } from './progress.js';
import { FIRST_MAP, MapPanel, palette } from './maps.js';
import { ScanRun } from './pool.js';

export { EXAMPLE_SPEC, ScanRun, gridPosition, palette, parseSeriesName, selectSeries };

const NO_CALIBRATION = 'The scan needs the detector calibration: drop its LaueTools .det.';

const state = {
  /** What the points' images are:
   *  {kind: 'files', files: File[], label} | {kind: 'stack', file: File, frames, label}
   *  | {kind: 'synthetic', spec, handle: SyntheticScanHandle, count, label} */
  source: null,
  /** {calibration, name, text, material} of the .det (or the example's). */
  calibration: null,
  /** The library's complete default request (index included): the fields start from it. */
  defaults: null,
  /** @type {ScanRun | null} the run in progress */
  run: null,
  /** Results of the last run: {grid, request, points: (PointResult|undefined)[], done, seconds, label,
   *  det, source}. */
  results: null,
  /** @type {any[]} the maps of the results (the library's scan_maps) */
  maps: [],
  mapName: FIRST_MAP,
};

export const api = {
  /** @type {Promise<typeof api> | null} */
  ready: null,
  state,
  /** Loads the example scan (the Run button then runs it). */
  loadExample: () => source.loadExample(),
  openFiles: (/** @type {Iterable<File> | ArrayLike<File>} */ files) => source.openFiles(files),
  /** Starts the scan; false (and a message) when it cannot. */
  run: () => progress.run(),
  cancel: () => progress.cancel(),
  /** The points finished so far (PointResult objects, acquisition order, holes for the others). */
  points: () => state.results?.points ?? [],
  /** @type {Record<string, any>[]} finished runs: {points, workers, seconds, rate, bootMs, counts, cancelled} */
  runs: [],
  /** Map recomputations so far. */
  mapUpdates: 0,
  /** @type {{name: string, kind: string, nx: number, ny: number} | null} the map drawn */
  drawn: null,
  /** Canvas CSS px of the centre of cell (ix, iy) of the drawn map. */
  cellCenter: (/** @type {number} */ ix, /** @type {number} */ iy) => maps.view.cellCenter(ix, iy),
  /** @type {Record<string, any> | null} last readout: {ix, iy, index, value, image, status} */
  readout: null,
  /** @type {{name: string, size: number, text: string | null} | null} last file saved */
  lastSaved: null,
  /** Points opened in "Images & peaks". */
  opened: 0,
  parseSeriesName,
  selectSeries,
};
window.lauekitScan = api;

/**
 * What the scan panel's parts share.
 * @typedef {object} ScanContext
 * @property {typeof state} state
 * @property {import('../../lib/wasm.js').Wasm | null} wasm the wasm module, once loaded
 * @property {Messages} messages the panel's error box and status line
 * @property {typeof api} api `window.lauekitScan`
 * @property {() => void} updateButtons
 */

/** @type {ScanContext} */
const ctx = { state, wasm: null, messages: new Messages('scan-error', 'scan-status'), api, updateButtons: () => updateButtons() };
const materials = new MaterialCatalog();
const settings = new SettingsPanel(materials);
/** Materials files and custom crystals for the request's `index.materials`. */
const materialsInput = new MaterialsInput('scan-materials-add', materials, {
  wasm: () => ctx.wasm,
  showError: (m) => ctx.messages.showError(m),
  added: (added) => settings.useMaterials(added.map((m) => m.name)),
});
const source = new SourcePanel(ctx, {
  useRequest: (text) => settings.useRequest(text),
  suggestMaterial: (name) => settings.suggestMaterial(name),
});
const maps = new MapPanel(ctx, {
  openPoint: async (index, ix, iy) => {
    const res = state.results;
    try {
      await openSourcePoint(res.source, index, res.det, res.request);
    } catch (e) {
      ctx.messages.showError(`Could not open point ${index} (ix ${ix}, iy ${iy}): ${messageOf(e)}`);
    }
  },
});
const progress = new RunPanel(ctx, { source, settings, maps, blocker: () => blocker() });

// ---------------------------------------------------------------------------------------------------------------
// Start-up

async function start() {
  maps.wire();
  source.wire();
  settings.wire();
  progress.wire();
  $('scan-save-h5').addEventListener('click', () => save('h5'));
  $('scan-save-json').addEventListener('click', () => save('json'));
  $('scan-save-ctf').addEventListener('click', () => save('ctf'));
  $('scan-workers', 'input').value = String(defaultWorkers());
  try {
    ctx.wasm = await loadWasm();
    materials.setTable(ctx.wasm.materials());
  } catch (e) {
    ctx.messages.setStatus('not running: the WebAssembly package did not load');
    throw e;
  }
  // The library's complete default request (an empty scan's JSON carries it): the fields start from it.
  const base = JSON.parse(ctx.wasm.scan_json({ nx: 1, ny: 1 }, { index: {} }, [], 0));
  state.defaults = base.request;
  settings.setDefaults(base.request);
  ctx.messages.setStatus('Load the example scan or drop a scan\u2019s images.');
  updateButtons();
  return api;
}

/** Why the scan cannot run now (a sentence), or ''. */
function blocker() {
  const n = source.pointCount();
  if (!n) return 'Load the example scan or drop a scan\u2019s images.';
  if (!state.calibration) return NO_CALIBRATION;
  const { grid, problems } = source.readGrid();
  if (problems.length) return `Grid: ${problems.join('; ')}.`;
  if (grid.nx * grid.ny !== n) return `The grid has ${grid.nx * grid.ny} points but there are ${n} images.`;
  return '';
}

function updateButtons() {
  const running = Boolean(state.run);
  const why = ctx.wasm ? blocker() : 'loading…';
  $('scan-run', 'button').disabled = running || Boolean(why);
  $('scan-run').title = why;
  $('scan-cancel', 'button').disabled = !running;
  $('scan-load-example', 'button').disabled = running;
  $('scan-files', 'input').disabled = running;
  $('scan-folder', 'input').disabled = running;
  const have = maps.finishedPoints().length > 0;
  for (const id of ['scan-save-h5', 'scan-save-json', 'scan-save-ctf']) $(id, 'button').disabled = !have || running;
  for (const id of ['scan-save-png', 'scan-save-csv']) $(id, 'button').disabled = !have || running || !maps.current();
  if (!running && !state.results && why && ctx.wasm) ctx.messages.setStatus(why);
}

/**
 * Saves the results as the library writes them.
 * @param {'h5' | 'json' | 'ctf'} kind
 */
function save(kind) {
  const res = state.results;
  const pts = maps.finishedPoints();
  const wasm = ctx.wasm;
  if (!res || !pts.length) return;
  const stem = res.label || 'scan';
  try {
    if (kind === 'h5') {
      api.lastSaved = saveBlob(`${stem}.h5`, wasm.scan_hdf5(res.grid, res.request, pts), 'application/x-hdf5');
    } else if (kind === 'json') {
      api.lastSaved = saveBlob(`${stem}.json`, wasm.scan_json(res.grid, res.request, pts, res.seconds), 'application/json');
    } else if (kind === 'ctf') {
      api.lastSaved = saveBlob(`${stem}.ctf`, wasm.scan_ctf(res.grid, res.request, pts), 'text/plain');
    }
  } catch (e) {
    ctx.messages.showError(`Could not write the ${kind.toUpperCase()} file: ${messageOf(e)}`);
  }
}

// ---------------------------------------------------------------------------------------------------------------
// What the Cluster panel uses

/**
 * Keeps `src` (a source of `scanInput()`) usable after the view moves on to another; `false` lets it go.
 * @param {any} src
 * @param {boolean} keep
 */
export function retainSource(src, keep) {
  source.retain(src, keep);
}

/**
 * What the Cluster panel works on: the view's images, grid, calibration (null when not needed and not given) and
 * request as they are set now (`source` may be retained with `retainSource`). Throws an Error saying what is missing.
 * @param {{needCalibration?: boolean}} [options]
 */
export function scanInput({ needCalibration = true } = {}) {
  if (!ctx.wasm) throw new Error('The page is still loading.');
  let why = blocker();
  if (why === NO_CALIBRATION && !needCalibration) {
    const { grid, problems } = source.readGrid();
    const n = source.pointCount();
    why = problems.length ? `Grid: ${problems.join('; ')}.`
      : grid.nx * grid.ny !== n ? `The grid has ${grid.nx * grid.ny} points but there are ${n} images.` : '';
  }
  if (why) throw new Error(why);
  const { grid } = source.readGrid();
  const { request, problems } = settings.readRequest();
  if (problems.length) throw new Error(`Scan settings: ${problems.join('; ')}`);
  const src = state.source;
  return {
    source: src,
    grid,
    request,
    calibration: state.calibration?.calibration ?? null,
    det: state.calibration ? { text: state.calibration.text, name: state.calibration.name } : null,
    count: source.pointCount(),
    synthetic: src.kind === 'synthetic' ? src.spec : undefined,
    pointMessage: (/** @type {number} */ index) => SourcePanel.pointMessage(src, index),
    workers: settings.workers(),
  };
}

/**
 * Opens point `index` of source `s` in "Images & peaks" with the calibration `det` ({text, name}) and the
 * pipeline `request` (the Cluster panel opens delegates with it).
 * @param {any} s
 * @param {number} index
 * @param {{text: string, name: string} | null} det
 * @param {any} request
 */
export async function openSourcePoint(s, index, det, request) {
  let bytes;
  let name;
  let frame = 0;
  if (s.kind === 'synthetic') {
    bytes = s.handle.image_tiff(index).buffer;
    name = s.handle.image_name(index);
  } else if (s.kind === 'stack') {
    bytes = await s.file.arrayBuffer();
    name = `${s.file.name}#${index}`;
    frame = index;
  } else {
    bytes = await s.files[index].arrayBuffer();
    name = s.files[index].name;
  }
  showTab('peaks');
  api.opened += 1;
  await openScanPoint({ name, bytes, frame, det, request });
}

// Last, once every declaration above is initialised.
api.ready = start();
api.ready.catch((e) => ctx.messages.showError(`The Scan view did not start: ${messageOf(e)}`));
