// "Scan" view: a raster scan (nx × ny points, x fastest, one detector image each) analysed in the page as
// `lauekit scan` does it. A pool of module Web Workers (scan-worker.js), each with its own wasm instance and one
// ScanWorker (the pipeline request, the calibration, the grid), takes the points one at a time; every worker reads
// its point's file itself (the page sends File objects, never all the bytes). The maps (the library's scan_maps)
// fill in as points finish; hovering reads a point out, a click opens its image in the "Images & peaks" view,
// where its peaks are found and indexed with the scan's settings. Downloads: the library's HDF5, JSON and .ctf,
// and the shown map's PNG (colour bar / IPF key) and CSV.
//
// Inputs: many files or a folder, ordered by their LaueTools series number (prefix_NNNN.ext, the rule of
// src/scan/series.rs), or one HDF5 stack (frames = points); a .det among them is the calibration, a .json the
// whole pipeline request. "Load example scan" makes the synthetic scan of `lauekit simulate-scan --grid 12x10
// --seed 1 --grains 4` in the page: the workers render each point's TIFF when they take the point.
//
// For tests the view exposes `window.lauekitScan`.

import { $ } from '../../lib/dom.js';
import { loadWasm, spawnWorker } from '../../lib/wasm.js';
import { PALETTES, niceTicks, viridisRgb, withPalette } from '../../lib/colors.js';
import { gridAxes, gridMargins } from '../../lib/plotcanvas.js';
import { showTab } from '../../lib/tabs.js';
import { openScanPoint } from '../peaks/files.js';

/** The example scan's spec (src/scan/simulate.rs SyntheticScanSpec; the rest takes its defaults: Cu, a Σ3 twin
 * band, a 512² detector). The same scan as `lauekit simulate-scan --grid 12x10 --seed 1 --grains 4`. */
export const EXAMPLE_SPEC = { nx: 12, ny: 10, seed: 1, grains: 4 };
/** Map shown first. */
const FIRST_MAP = 'ipf_z';
/** Maps are recomputed at most this often while points come in (ms); more rarely when computing them is slow. */
const MAP_INTERVAL_MS = 200;
/** Extensions of image files (`lauekit scan`'s list); a name ending in digits only is one too. */
const IMAGE_EXTENSIONS = ['tif', 'tiff', 'mccd', 'edf', 'h5', 'hdf5', 'nxs', 'png', 'raw', 'bin', 'img', 'cbf'];
const STACK_EXTENSIONS = ['h5', 'hdf5', 'nxs'];
/** Cells without a colour: analysed but no value (e.g. nothing indexed), not analysed yet, failed. */
const NO_VALUE = '#d5d9e2';
const PENDING = '#f0f1f4';
const FAILED = '#f4c7c3';


// ---------------------------------------------------------------------------------------------------------------
// Series names (as src/scan/series.rs)

/**
 * Splits a file name as LaueTools names a series, `prefix_NUMBER.ext` (the number after the last `_` before the
 * extension; an all-digit "extension" is part of the number's stem, as in `raw_007`). Null when there is no number.
 * @returns {{prefix: string, number: bigint, extension: string} | null}
 */
export function parseSeriesName(name) {
  let stem = name;
  let extension = '';
  const dot = name.lastIndexOf('.');
  if (dot >= 0) {
    const s = name.slice(0, dot);
    const e = name.slice(dot + 1);
    if (s !== '' && e !== '' && !/^[0-9]+$/.test(e)) {
      stem = s;
      extension = e;
    }
  }
  const us = stem.lastIndexOf('_');
  if (us < 0) return null;
  const digits = stem.slice(us + 1);
  if (!/^[0-9]{1,18}$/.test(digits)) return null;
  return { prefix: stem.slice(0, us), number: BigInt(digits), extension };
}

/**
 * Of `names`, those of one series — the (prefix, extension) most names share — sorted by number, as
 * `lauekit scan DIR` takes them. Two files with one number are an error.
 * @returns {{series: string[], prefix: string, extension: string, others: string[]}}
 */
export function selectSeries(names) {
  const parsed = names.map((n) => ({ n, p: parseSeriesName(n) })).filter((x) => x.p);
  if (parsed.length === 0) throw new Error('no file is named as a LaueTools series (prefix_NNNN.ext)');
  const key = (p) => `${p.prefix}\u0000${p.extension.toLowerCase()}`;
  const counts = new Map();
  for (const { p } of parsed) counts.set(key(p), (counts.get(key(p)) ?? 0) + 1);
  // The most common; on a tie the greatest key, as Rust's BTreeMap + max_by_key picks it.
  let best = null;
  for (const k of [...counts.keys()].sort()) if (best === null || counts.get(k) >= counts.get(best)) best = k;
  const chosen = parsed.filter((x) => key(x.p) === best).sort((a, b) => (a.p.number < b.p.number ? -1 : a.p.number > b.p.number ? 1 : 0));
  for (let i = 1; i < chosen.length; i++) {
    if (chosen[i].p.number === chosen[i - 1].p.number) {
      throw new Error(`${chosen[i - 1].n} and ${chosen[i].n} have the same image number ${chosen[i].p.number}`);
    }
  }
  const inSeries = new Set(chosen.map((x) => x.n));
  return {
    series: chosen.map((x) => x.n),
    prefix: chosen[0].p.prefix,
    extension: chosen[0].p.extension,
    others: names.filter((n) => !inSeries.has(n)),
  };
}

function extension(name) {
  const i = name.lastIndexOf('.');
  return i < 0 ? '' : name.slice(i + 1).toLowerCase();
}

function isImageName(name) {
  const e = extension(name);
  return IMAGE_EXTENSIONS.includes(e) || /^[0-9]+$/.test(e);
}

/** (ix, iy) of the point acquired `index`-th (x fastest; odd rows reversed in a snake scan). */
export function gridPosition(grid, index) {
  const iy = Math.floor(index / grid.nx);
  let ix = index % grid.nx;
  if (grid.snake && iy % 2 === 1) ix = grid.nx - 1 - ix;
  return [ix, iy];
}

// ---------------------------------------------------------------------------------------------------------------
// State

const state = {
  /** What the points' images are:
   *  {kind: 'files', files: File[], label} | {kind: 'stack', file: File, frames, label}
   *  | {kind: 'synthetic', spec, handle: SyntheticScanHandle, count, label} */
  source: null,
  /** {calibration, name, text, material} of the .det (or the example's). */
  calibration: null,
  /** The library's complete default request (index included): the fields start from it. */
  defaults: null,
  /** The run in progress (ScanRun) or null. */
  run: null,
  /** Results of the last run: {grid, request, points: (PointResult|undefined)[], done, seconds, label,
   *  detText, source}. */
  results: null,
  maps: [],
  mapName: FIRST_MAP,
  materialsEdited: false,
};
let wasm = null;
let mapTimer = null;
let lastMapAt = 0;
let mapMs = 0;

export const api = {
  ready: null,
  state,
  /** Loads the example scan (the Run button then runs it). */
  loadExample: () => loadExample(),
  openFiles: (files) => openFiles(files),
  /** Starts the scan; false (and a message) when it cannot. */
  run: () => run(),
  cancel: () => cancel(),
  /** The points finished so far (PointResult objects, acquisition order, holes for the others). */
  points: () => state.results?.points ?? [],
  /** Finished runs: {points, workers, seconds, rate, bootMs, counts, cancelled}. */
  runs: [],
  /** Map recomputations so far. */
  mapUpdates: 0,
  /** The map drawn: {name, kind, nx, ny} or null. */
  drawn: null,
  /** Canvas CSS px of the centre of cell (ix, iy) of the drawn map. */
  cellCenter: (ix, iy) => mapView.cellCenter(ix, iy),
  /** Last readout: {ix, iy, index, value, image, status} or null. */
  readout: null,
  /** Last file saved: {name, size, text?}. */
  lastSaved: null,
  /** Points opened in "Images & peaks". */
  opened: 0,
  parseSeriesName,
  selectSeries,
};
window.lauekitScan = api;

// ---------------------------------------------------------------------------------------------------------------
// The worker pool

/** One scan run: a pool of workers, points handed out one at a time in acquisition order (the Cluster panel runs
 * its feature and delegate passes with it too). */
export class ScanRun {
  /**
   * @param {object} o
   * @param {number} o.size number of workers (at most the point count)
   * @param {number} o.count points
   * @param {object} o.setup the workers' setup message ({grid, calibration, request, synthetic})
   * @param {(index: number) => object} o.pointMessage the message of point `index`
   * @param {(result: object) => void} o.onPoint a point finished (a PointResult)
   * @param {(message: string) => void} o.onFail the run stopped: no point can be analysed
   * @param {() => void} o.onDone every point finished
   */
  constructor(o) {
    this.size = o.size;
    this.count = o.count;
    this.setup = o.setup;
    this.pointMessage = o.pointMessage;
    this.onPoint = o.onPoint;
    this.onFail = o.onFail;
    this.onDone = o.onDone;
    this.next = 0;
    this.done = 0;
    this.slots = [];
    this.active = false;
    this.t0 = 0;
    this.bootMs = null;
    this.setUp = 0;
  }

  start() {
    this.active = true;
    this.t0 = performance.now();
    for (let k = 0; k < this.size; k++) {
      let worker;
      try {
        worker = spawnWorker(new URL('./scan-worker.js', import.meta.url));
      } catch (e) {
        this.fail(`Could not start a scan worker: ${messageOf(e)}`);
        return;
      }
      const slot = { worker, point: null, closed: false };
      worker.onmessage = (ev) => this.onMessage(slot, ev.data);
      worker.onerror = (ev) => {
        ev.preventDefault();
        this.fail(`A scan worker failed: ${ev.message || 'could not load views/scan/scan-worker.js'}`);
      };
      this.slots.push(slot);
    }
  }

  onMessage(slot, m) {
    if (!this.active) return;
    if (m.type === 'ready') {
      slot.worker.postMessage(this.setup);
    } else if (m.type === 'boot-error') {
      this.fail(`A scan worker could not load the WebAssembly package: ${m.message}`);
    } else if (m.type === 'setup-error') {
      this.fail(`The scan's settings: ${m.message}`);
    } else if (m.type === 'setup-done') {
      this.setUp += 1;
      if (this.setUp === this.size) this.bootMs = performance.now() - this.t0;
      this.feed(slot);
    } else if (m.type === 'point-done' || m.type === 'point-unreadable') {
      slot.point = null;
      const result = m.type === 'point-done' ? m.result : this.failedPoint(m.index, m.name, m.message);
      this.done += 1;
      this.onPoint(result);
      if (this.active) this.feed(slot);
    } else if (m.type === 'job-error') {
      this.fail(`Point ${m.index} (${m.name}): ${m.message}`);
    }
  }

  /** A point whose file could not be read, as the library reports failed points. */
  failedPoint(index, name, message) {
    const [ix, iy] = gridPosition(this.setup.grid, index);
    return { index, ix, iy, image: name, status: 'failed', error: `${name}: cannot read: ${message}`, n_peaks: 0,
      intensity_sum: 0, peaks_intensity: 0, grains: [], elapsed_ms: 0 };
  }

  feed(slot) {
    if (this.next >= this.count) {
      slot.worker.terminate();
      slot.closed = true;
      if (this.done === this.count) this.finish();
      return;
    }
    const index = this.next++;
    slot.point = index;
    slot.worker.postMessage(this.pointMessage(index));
  }

  elapsedMs() {
    return performance.now() - this.t0;
  }

  finish() {
    this.stop();
    this.onDone();
  }

  fail(message) {
    if (!this.active) return;
    this.stop();
    this.onFail(message);
  }

  /** Terminates every worker (points in flight are dropped). */
  stop() {
    this.active = false;
    for (const s of this.slots) {
      if (!s.closed) s.worker.terminate();
      s.closed = true;
    }
  }
}

// ---------------------------------------------------------------------------------------------------------------
// The map canvas

/** Draws one map (the library's `rgb` per point) as blocks scaled by whole pixels, nearest neighbour. */
class MapView {
  constructor(canvas) {
    this.canvas = canvas;
    this.map = null;
    this.grid = null;
    this.box = null; // {x, y, w, h, cw, ch}: map rectangle and cell size (CSS px)
    this.hover = null; // [ix, iy]
    this.cells = null; // per cell (iy·nx + ix): 0 not analysed yet, 1 analysed, 2 failed
  }

  layout() {
    const dpr = window.devicePixelRatio || 1;
    const w = this.canvas.clientWidth || 600;
    const h = this.canvas.clientHeight || 400;
    if (this.canvas.width !== Math.round(w * dpr) || this.canvas.height !== Math.round(h * dpr)) {
      this.canvas.width = Math.round(w * dpr);
      this.canvas.height = Math.round(h * dpr);
    }
    return { w, h, dpr };
  }

  set(map, grid, cells = null) {
    this.map = map;
    this.grid = grid;
    this.cells = cells;
  }

  draw() {
    const { w, h, dpr } = this.layout();
    const g = this.canvas.getContext('2d');
    g.setTransform(dpr, 0, 0, dpr, 0, 0);
    g.clearRect(0, 0, w, h);
    const m = this.map;
    if (!m) {
      this.box = null;
      return;
    }
    // Cells keep the grid's aspect (step y / step x); whole CSS pixels when they are large enough.
    // Margins for the axes (ix, iy; x, y in µm when the grid has a step).
    const step = this.grid?.step_um ?? null;
    const [sx, sy] = step ?? [1, 1];
    const aspect = sy / sx;
    const mg = gridMargins(step);
    let cw = Math.max(0.5, Math.min((w - mg.l - mg.r) / m.nx, (h - mg.t - mg.b) / (m.ny * aspect)));
    if (cw >= 4) cw = Math.floor(cw);
    const ch = cw * aspect;
    const bw = cw * m.nx;
    const bh = ch * m.ny;
    const x0 = Math.round(mg.l + (w - mg.l - mg.r - bw) / 2);
    const y0 = Math.round(mg.t + (h - mg.t - mg.b - bh) / 2);
    this.box = { x: x0, y: y0, w: bw, h: bh, cw, ch };

    const img = new ImageData(m.nx, m.ny);
    const rgbOf = (hex) => [1, 3, 5].map((i) => parseInt(hex.slice(i, i + 2), 16));
    const fill = [rgbOf(PENDING), rgbOf(NO_VALUE), rgbOf(FAILED)];
    m.rgb.forEach((c, k) => {
      const [r, gg, b] = c[0] >= 0 ? c : fill[this.cells ? this.cells[k] : 1];
      img.data[4 * k] = r;
      img.data[4 * k + 1] = gg;
      img.data[4 * k + 2] = b;
      img.data[4 * k + 3] = 255;
    });
    const off = document.createElement('canvas');
    off.width = m.nx;
    off.height = m.ny;
    off.getContext('2d').putImageData(img, 0, 0);
    g.imageSmoothingEnabled = false;
    g.drawImage(off, x0, y0, bw, bh);
    // Failed points: a red cross over their cell.
    if (this.cells && cw >= 6) {
      g.strokeStyle = '#c0392b';
      g.lineWidth = Math.max(1, Math.min(2, cw / 12));
      g.beginPath();
      this.cells.forEach((st, k) => {
        if (st !== 2) return;
        const cx = x0 + (k % m.nx) * cw;
        const cy = y0 + Math.floor(k / m.nx) * ch;
        const d = Math.min(cw, ch) * 0.25;
        g.moveTo(cx + d, cy + d);
        g.lineTo(cx + cw - d, cy + ch - d);
        g.moveTo(cx + cw - d, cy + d);
        g.lineTo(cx + d, cy + ch - d);
      });
      g.stroke();
    }
    g.strokeStyle = '#8a93a6';
    g.lineWidth = 1;
    g.strokeRect(x0 - 0.5, y0 - 0.5, bw + 1, bh + 1);
    gridAxes(this.canvas, g, this.box, m.nx, m.ny, step);
    if (this.hover) {
      const [ix, iy] = this.hover;
      g.strokeStyle = '#000';
      g.lineWidth = 2;
      g.strokeRect(x0 + ix * cw, y0 + iy * ch, cw, ch);
      g.strokeStyle = '#fff';
      g.lineWidth = 1;
      g.strokeRect(x0 + ix * cw + 1.5, y0 + iy * ch + 1.5, cw - 3, ch - 3);
    }
  }

  /** The cell under canvas CSS px (x, y), or null. */
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

const mapView = new MapView($('scan-map-canvas'));

// ---------------------------------------------------------------------------------------------------------------
// Start-up

async function start() {
  wireEvents();
  new ResizeObserver(() => drawMap()).observe($('scan-map-box'));
  $('scan-workers', 'input').value = String(defaultWorkers());
  try {
    wasm = await loadWasm();
  } catch (e) {
    setStatus('not running: the WebAssembly package did not load');
    throw e;
  }
  // The library's complete default request (an empty scan's JSON carries it): the fields start from it.
  const base = JSON.parse(wasm.scan_json({ nx: 1, ny: 1 }, { index: {} }, [], 0));
  state.defaults = base.request;
  const p = state.defaults.peaks;
  $('scan-threshold', 'input').value = String(p.IntensityThreshold);
  $('scan-boxsize', 'input').value = String(p.boxsize);
  const ix = state.defaults.index;
  $('scan-emin', 'input').value = String(ix.band.emin_kev);
  $('scan-emax', 'input').value = String(ix.band.emax_kev);
  $('scan-grains', 'input').value = String(ix.settings.nbgrainstofind);
  fillJson();
  setStatus('Load the example scan or drop a scan\u2019s images.');
  updateButtons();
  return api;
}

function defaultWorkers() {
  return Math.max(1, Math.min(64, navigator.hardwareConcurrency || 2));
}

// ---------------------------------------------------------------------------------------------------------------
// Inputs

/** Every File of a drop, folders walked (webkitGetAsEntry), else the plain file list. */
async function filesOfDrop(dt) {
  const entries = Array.from(dt.items ?? []).map((it) => it.webkitGetAsEntry?.()).filter(Boolean);
  if (!entries.length || !entries.some((e) => e.isDirectory)) return Array.from(dt.files ?? []);
  const out = [];
  const walk = async (entry) => {
    if (entry.isFile) {
      out.push(await new Promise((resolve, reject) => entry.file(resolve, reject)));
    } else if (entry.isDirectory) {
      const reader = entry.createReader();
      for (;;) {
        const batch = await new Promise((resolve, reject) => reader.readEntries(resolve, reject));
        if (!batch.length) break;
        for (const e of batch) await walk(e);
      }
    }
  };
  for (const e of entries) await walk(e);
  return out;
}

async function openFiles(list) {
  await api.ready;
  if (state.run) return;
  clearError();
  const files = Array.from(list);
  const dets = files.filter((f) => extension(f.name) === 'det');
  const jsons = files.filter((f) => extension(f.name) === 'json');
  const images = files.filter((f) => isImageName(f.name));
  const skipped = files.filter((f) => !dets.includes(f) && !jsons.includes(f) && !images.includes(f));
  try {
    // The example's calibration belongs to the example: new images need their own .det.
    if (images.length && !dets.length && state.calibration?.example) {
      state.calibration = null;
      $('scan-calib-info').textContent = 'No calibration: drop the scan\u2019s LaueTools .det.';
    }
    if (dets.length) await loadCalibration(dets[0]);
    if (jsons.length) await loadRequestFile(jsons[0]);
    if (images.length) await setImages(images, skipped);
    else if (!dets.length && !jsons.length) showError('No image, .det or request .json among the files dropped.');
  } catch (e) {
    showError(messageOf(e), true);
  }
  updateButtons();
}

async function loadCalibration(file) {
  const text = await file.text();
  let parsed;
  try {
    parsed = wasm.parse_det(text);
  } catch (e) {
    throw new Error(`${file.name}: not a LaueTools calibration: ${messageOf(e)}`);
  }
  state.calibration = { calibration: parsed.calibration, name: file.name, text, material: parsed.material ?? null };
  const known = wasm.materials().find((m) => m.name.toLowerCase() === String(parsed.material ?? '').toLowerCase());
  if (known && !state.materialsEdited) $('scan-materials', 'input').value = known.name;
  showCalibration();
}

async function loadRequestFile(file) {
  const text = await file.text();
  try {
    JSON.parse(text);
  } catch (e) {
    throw new Error(`${file.name}: not JSON: ${messageOf(e)}`);
  }
  $('scan-request-json', 'textarea').value = text;
  $('scan-use-json', 'input').checked = true;
  $('scan-advanced', 'details').open = true;
}

async function setImages(images, skipped) {
  freeSource();
  const names = images.map((f) => f.name);
  const byName = new Map(images.map((f) => [f.name, f]));
  let note = skipped.length ? ` (${skipped.length} other file${skipped.length > 1 ? 's' : ''} left out)` : '';
  if (images.length === 1 && STACK_EXTENSIONS.includes(extension(images[0].name))) {
    // One HDF5 stack: its frames are the points.
    const file = images[0];
    const img = new wasm.DetectorImage(new Uint8Array(await file.arrayBuffer()), file.name, undefined);
    let info;
    try {
      info = img.info();
    } finally {
      img.free();
    }
    const frames = Number(info.metadata?.frame_count ?? 1) || 1;
    state.source = { kind: 'stack', file, frames, label: stemOf(file.name) };
    $('scan-source-info').textContent = `${file.name}: HDF5 stack of ${frames} frame${frames > 1 ? 's' : ''} `
      + `(${info.cols} × ${info.rows} px), one point each${note}.`;
    guessGrid(frames);
    return;
  }
  let ordered;
  let label;
  const bySeries = names.some((n) => parseSeriesName(n));
  if (bySeries) {
    const s = selectSeries(names);
    ordered = s.series;
    label = s.prefix;
    if (s.others.length) note += `; not of the series ${s.prefix}_NNNN.${s.extension}: ${s.others.slice(0, 3).join(', ')}${s.others.length > 3 ? ' …' : ''}`;
  } else {
    ordered = names.slice().sort((a, b) => a.localeCompare(b, 'en', { numeric: true }));
    label = 'scan';
  }
  const files = ordered.map((n) => byName.get(n));
  state.source = { kind: 'files', files, label };
  $('scan-source-info').textContent = `${files.length} image${files.length > 1 ? 's' : ''}: ${files[0].name} … `
    + `${files[files.length - 1].name}, ${bySeries ? 'in series-number order' : 'in name order (no series numbers)'}${note}.`;
  guessGrid(files.length);
}

/** A square grid when the count is a square; else the grid shown if it fits, else one row. */
function guessGrid(n) {
  const s = Math.round(Math.sqrt(n));
  const nx = Number($('scan-nx', 'input').value);
  const ny = Number($('scan-ny', 'input').value);
  if (s * s === n) {
    $('scan-nx', 'input').value = String(s);
    $('scan-ny', 'input').value = String(s);
  } else if (!(nx * ny === n)) {
    $('scan-nx', 'input').value = String(n);
    $('scan-ny', 'input').value = '1';
  }
  showGridInfo();
}

function pointCount() {
  const s = state.source;
  if (!s) return 0;
  return s.kind === 'files' ? s.files.length : s.kind === 'stack' ? s.frames : s.count;
}

/** Forgets the current source; an example scan's wasm handle is freed once no results use it either. */
function freeSource() {
  const old = state.source;
  state.source = null;
  release(old);
}

/** Sources the Cluster panel still uses (their example-scan handle stays alive). */
const retained = new Set();

/** Keeps `src` (a source of `scanInput()`) usable after the view moves on to another; `false` lets it go. */
export function retainSource(src, keep) {
  if (keep) {
    retained.add(src);
  } else {
    retained.delete(src);
    release(src);
  }
}

function release(src) {
  if (src?.kind === 'synthetic' && !src.freed && state.source !== src && state.results?.source !== src
    && !retained.has(src)) {
    src.handle.free();
    src.freed = true;
  }
}

async function loadExample() {
  await api.ready;
  if (state.run) return false;
  clearError();
  try {
    freeSource();
    const handle = new wasm.SyntheticScanHandle(EXAMPLE_SPEC);
    const grid = handle.grid();
    const count = handle.len();
    state.source = { kind: 'synthetic', spec: EXAMPLE_SPEC, handle, count, label: 'example_scan' };
    state.calibration = { calibration: handle.calibration(), name: 'calib.det (example)', text: handle.calibration_det(),
      material: null, example: true };
    $('scan-nx', 'input').value = String(grid.nx);
    $('scan-ny', 'input').value = String(grid.ny);
    $('scan-step-x', 'input').value = String(grid.step_um[0]);
    $('scan-step-y', 'input').value = String(grid.step_um[1]);
    $('scan-snake', 'input').checked = Boolean(grid.snake);
    if (!state.materialsEdited) $('scan-materials', 'input').value = 'Cu';
    const c = state.calibration.calibration;
    $('scan-source-info').textContent = `Example: a synthetic Cu scan of ${grid.nx} × ${grid.ny} points (4 grains and `
      + `a Σ3 twin band, seed 1), ${c.cols} × ${c.rows} px images rendered by the workers as they take each point `
      + `(${handle.image_name(0)} … ${handle.image_name(count - 1)}).`;
    showCalibration();
    showGridInfo();
    setStatus('Example loaded: press \u201cRun scan\u201d.');
  } catch (e) {
    showError(`Could not make the example scan: ${messageOf(e)}`);
    return false;
  } finally {
    updateButtons();
  }
  return true;
}

function showCalibration() {
  const c = state.calibration;
  if (!c) return;
  const k = c.calibration;
  $('scan-calib-info').textContent = `Calibration ${c.name}: dd ${k.distance_mm} mm, xcen ${k.xcen_px}, ycen ${k.ycen_px}, `
    + `xbet ${k.xbet_deg}°, xgam ${k.xgam_deg}°, pixel ${k.pixel_size_mm} mm, ${k.cols} × ${k.rows} px`;
}

function readGrid() {
  const nx = Number($('scan-nx', 'input').value);
  const ny = Number($('scan-ny', 'input').value);
  const sxText = $('scan-step-x', 'input').value.trim();
  const syText = $('scan-step-y', 'input').value.trim();
  const problems = [];
  if (!Number.isInteger(nx) || nx < 1 || !Number.isInteger(ny) || ny < 1) problems.push('nx and ny: whole numbers ≥ 1');
  let step = null;
  if (sxText !== '' || syText !== '') {
    const sx = Number(sxText || syText);
    const sy = Number(syText || sxText);
    if (!(sx > 0 && sy > 0)) problems.push('step: positive numbers (µm), or leave both empty');
    step = [sx, sy];
  }
  return { grid: { nx, ny, step_um: step, snake: $('scan-snake', 'input').checked }, problems };
}

function showGridInfo() {
  const { grid } = readGrid();
  const n = pointCount();
  const el = $('scan-grid-info');
  if (n && grid.nx * grid.ny !== n) {
    el.textContent = `The grid has ${grid.nx * grid.ny} points but there are ${n} images: set nx × ny = ${n}.`;
    el.classList.add('warn');
  } else {
    el.textContent = 'x is the fast axis: point k is at ix = k mod nx, iy = k div nx'
      + `${grid.snake ? ' (odd rows from high x to low x)' : ''}.`;
    el.classList.remove('warn');
  }
}

/** The request of the fields: the library's defaults with the fields' values. */
function requestFromFields() {
  const r = structuredClone(state.defaults);
  const problems = [];
  const materials = $('scan-materials', 'input').value.split(',').map((m) => m.trim()).filter(Boolean);
  if (!materials.length) problems.push('materials: give at least one (e.g. Cu)');
  const grains = Number($('scan-grains', 'input').value);
  if (!Number.isInteger(grains) || grains < 1 || grains > 20) problems.push('grains / point: a whole number from 1 to 20');
  const emin = Number($('scan-emin', 'input').value);
  const emax = Number($('scan-emax', 'input').value);
  if (!(emin > 0 && emax > emin)) problems.push(`energy band: need 0 < E min < E max (got ${$('scan-emin', 'input').value}–${$('scan-emax', 'input').value} keV)`);
  const thr = Number($('scan-threshold', 'input').value);
  if ($('scan-threshold', 'input').value.trim() === '' || !Number.isFinite(thr)) problems.push('threshold: a number');
  const box = Number($('scan-boxsize', 'input').value);
  if (!Number.isInteger(box) || box < 1) problems.push('boxsize: a whole number ≥ 1');
  r.peaks.IntensityThreshold = thr;
  r.peaks.boxsize = box;
  r.index.materials = materials;
  r.index.settings.nbgrainstofind = grains;
  r.index.band.emin_kev = emin;
  r.index.band.emax_kev = emax;
  return { request: r, problems };
}

function readRequest() {
  if (!$('scan-use-json', 'input').checked) return requestFromFields();
  let r;
  try {
    r = JSON.parse($('scan-request-json', 'textarea').value);
  } catch (e) {
    return { request: null, problems: [`request JSON: ${messageOf(e)}`] };
  }
  if (!r || typeof r !== 'object' || Array.isArray(r)) return { request: null, problems: ['request JSON: an object'] };
  // The wasm API reads objects field by field and would pass over a misspelt key: refuse what the library's
  // complete default request does not have.
  const unknown = unknownKeys(r, state.defaults, 'request');
  if (unknown.length) {
    return { request: null, problems: [`request JSON: unknown key${unknown.length > 1 ? 's' : ''} ${unknown.join(', ')}`] };
  }
  return { request: r, problems: [] };
}

/** Paths of the keys of object `r` that object `d` (the library's defaults) does not have, at any depth. */
function unknownKeys(r, d, where) {
  const isObject = (v) => v && typeof v === 'object' && !Array.isArray(v);
  if (!isObject(r) || !isObject(d)) return [];
  return Object.keys(r).flatMap((k) => (k in d ? unknownKeys(r[k], d[k], `${where}.${k}`) : [`${where}.${k}`]));
}

function fillJson() {
  const { request } = requestFromFields();
  $('scan-request-json', 'textarea').value = JSON.stringify(request, null, 2);
  jsonEdited = false;
}

/** Whether the user typed in the request JSON since it was last filled from the fields (opening the panel must not
 * overwrite it: its toggle event comes after the click, possibly after the first keystrokes). */
let jsonEdited = false;

// ---------------------------------------------------------------------------------------------------------------
// Running

const NO_CALIBRATION = 'The scan needs the detector calibration: drop its LaueTools .det.';

/** Why the scan cannot run now (a sentence), or ''. */
function blocker() {
  const n = pointCount();
  if (!n) return 'Load the example scan or drop a scan\u2019s images.';
  if (!state.calibration) return NO_CALIBRATION;
  const { grid, problems } = readGrid();
  if (problems.length) return `Grid: ${problems.join('; ')}.`;
  if (grid.nx * grid.ny !== n) return `The grid has ${grid.nx * grid.ny} points but there are ${n} images.`;
  return '';
}

function run() {
  if (!wasm || state.run) return false;
  clearError();
  const why = blocker();
  if (why) {
    setStatus(why);
    return false;
  }
  const { grid } = readGrid();
  const { request, problems } = readRequest();
  if (problems.length) {
    showError(`Scan settings: ${problems.join('; ')}`);
    return false;
  }
  const calibration = state.calibration.calibration;
  // The library checks the settings once here, with its own message, before any worker starts.
  try {
    new wasm.ScanWorker(grid, calibration, request).free();
  } catch (e) {
    showError(`Scan settings: ${messageOf(e)}`);
    return false;
  }
  const src = state.source;
  const count = pointCount();
  const size = Math.max(1, Math.min(count, Math.floor(Number($('scan-workers', 'input').value)) || defaultWorkers()));
  const previous = state.results?.source;
  state.results = { grid, request, points: new Array(count), done: 0, seconds: 0, label: src.label,
    det: { text: state.calibration.text, name: state.calibration.name }, source: src };
  release(previous);
  state.maps = [];
  api.drawn = null;
  mapView.set(null, null);
  drawMap();
  const setup = { type: 'setup', grid, request, calibration,
    synthetic: src.kind === 'synthetic' ? src.spec : undefined };
  const pointMessage = (index) => pointMessageOf(src, index);
  const r = new ScanRun({
    size, count, setup, pointMessage,
    onPoint: (p) => onPoint(p),
    onFail: (m) => endRun(`Scan stopped: ${m}`, true),
    onDone: () => endRun(null, false),
  });
  state.run = r;
  $('scan-progress', 'progress').value = 0;
  $('scan-progress').classList.add('running');
  setStatus(`starting ${size} worker${size > 1 ? 's' : ''}…`);
  $('scan-counts').textContent = '';
  updateButtons();
  r.start();
  return true;
}

/** The scan worker's message for point `index` of source `src`. */
function pointMessageOf(src, index) {
  if (src.kind === 'synthetic') return { type: 'point', index };
  if (src.kind === 'stack') {
    return { type: 'point', index, file: src.file, name: `${src.file.name}#${index}`, frame: index, stack: true };
  }
  const f = src.files[index];
  return { type: 'point', index, file: f, name: f.name, frame: 0 };
}

/**
 * What the Cluster panel works on: the view's images, grid, calibration (null when not needed and not given) and
 * request as they are set now (`source` may be retained with `retainSource`). Throws an Error saying what is missing.
 */
export function scanInput({ needCalibration = true } = {}) {
  if (!wasm) throw new Error('The page is still loading.');
  let why = blocker();
  if (why === NO_CALIBRATION && !needCalibration) {
    const { grid, problems } = readGrid();
    const n = pointCount();
    why = problems.length ? `Grid: ${problems.join('; ')}.`
      : grid.nx * grid.ny !== n ? `The grid has ${grid.nx * grid.ny} points but there are ${n} images.` : '';
  }
  if (why) throw new Error(why);
  const { grid } = readGrid();
  const { request, problems } = readRequest();
  if (problems.length) throw new Error(`Scan settings: ${problems.join('; ')}`);
  const src = state.source;
  return {
    source: src,
    grid,
    request,
    calibration: state.calibration?.calibration ?? null,
    det: state.calibration ? { text: state.calibration.text, name: state.calibration.name } : null,
    count: pointCount(),
    synthetic: src.kind === 'synthetic' ? src.spec : undefined,
    pointMessage: (index) => pointMessageOf(src, index),
    workers: Math.max(1, Math.floor(Number($('scan-workers', 'input').value)) || defaultWorkers()),
  };
}

function onPoint(p) {
  const res = state.results;
  const r = state.run;
  if (!res || !r) return;
  res.points[p.index] = p;
  res.done += 1;
  res.seconds = r.elapsedMs() / 1000;
  $('scan-progress', 'progress').value = res.done / res.points.length;
  const rate = res.done / Math.max(1e-9, res.seconds);
  const left = res.points.length - res.done;
  setStatus(`${res.done} / ${res.points.length} points · ${rate.toFixed(1)} points/s · ETA ${formatSeconds(left / rate)}`
    + ` · ${r.size} worker${r.size > 1 ? 's' : ''}`);
  showCounts();
  scheduleMaps();
}

function cancel() {
  const r = state.run;
  if (!r) return;
  r.stop();
  endRun(null, false, true);
}

/** The run ended: finished, failed (`message`) or cancelled. */
function endRun(message, failed, cancelled = false) {
  const r = state.run;
  state.run = null;
  const res = state.results;
  $('scan-progress').classList.remove('running');
  if (r && res) {
    res.seconds = r.elapsedMs() / 1000;
    const rate = res.done / Math.max(1e-9, res.seconds);
    const counts = countStatuses(res.points);
    api.runs.push({ points: res.done, total: res.points.length, workers: r.size, seconds: res.seconds, rate,
      bootMs: r.bootMs, counts, cancelled, failed });
    if (failed) {
      showError(message);
      setStatus(`Stopped after ${res.done} of ${res.points.length} points (see the message).`);
    } else if (cancelled) {
      setStatus(`Cancelled after ${res.done} of ${res.points.length} points (${res.seconds.toFixed(1)} s).`);
    } else {
      setStatus(`Done: ${res.done} points in ${res.seconds.toFixed(1)} s (${rate.toFixed(1)} points/s, `
        + `${r.size} worker${r.size > 1 ? 's' : ''}).`);
    }
    showCounts();
  }
  clearTimeout(mapTimer);
  mapTimer = null;
  updateMaps();
  updateButtons();
}

function countStatuses(points) {
  const c = { indexed: 0, not_indexed: 0, no_peaks: 0, searched: 0, failed: 0 };
  for (const p of points) if (p) c[p.status] = (c[p.status] ?? 0) + 1;
  return c;
}

function showCounts() {
  const res = state.results;
  if (!res) return;
  const c = countStatuses(res.points);
  const parts = [`${c.indexed} indexed`, `${c.not_indexed} not indexed`, `${c.no_peaks} without peaks`];
  if (c.searched) parts.push(`${c.searched} searched only`);
  parts.push(`${c.failed} failed`);
  $('scan-counts').textContent = `${res.done} of ${res.points.length} points: ${parts.join(', ')}.`;
  $('scan-counts').classList.toggle('warn', c.failed > 0);
}

// ---------------------------------------------------------------------------------------------------------------
// Maps

function finishedPoints() {
  return (state.results?.points ?? []).filter(Boolean);
}

function scheduleMaps() {
  if (mapTimer) return;
  const wait = Math.max(0, lastMapAt + Math.max(MAP_INTERVAL_MS, 4 * mapMs) - performance.now());
  mapTimer = setTimeout(() => {
    mapTimer = null;
    updateMaps();
  }, wait);
}

function updateMaps() {
  lastMapAt = performance.now();
  const res = state.results;
  const pts = finishedPoints();
  if (!res || !pts.length) {
    state.maps = [];
  } else {
    try {
      state.maps = wasm.scan_maps(res.grid, res.request, pts);
    } catch (e) {
      showError(`Maps: ${messageOf(e)}`, true);
      state.maps = [];
    }
  }
  mapMs = performance.now() - lastMapAt;
  api.mapUpdates += 1;
  renderMapSelect();
  drawMap();
}

function renderMapSelect() {
  const sel = $('scan-map', 'select');
  const names = state.maps.map((m) => m.name);
  if (names.join() !== Array.from(sel.options, (o) => o.value).join()) {
    sel.textContent = '';
    for (const m of state.maps) {
      const o = document.createElement('option');
      o.value = m.name;
      o.textContent = m.unit ? `${m.title} (${m.unit})` : m.title;
      sel.append(o);
    }
    if (!state.maps.length) {
      const o = document.createElement('option');
      o.value = '';
      o.textContent = 'no results yet';
      sel.append(o);
    }
  }
  if (names.includes(state.mapName)) sel.value = state.mapName;
  sel.disabled = !state.maps.length;
}

/** The map shown, categorical maps in the chosen palette (`scan-palette`). */
function currentMap() {
  return withPalette(state.maps.find((m) => m.name === state.mapName) ?? null, palette());
}

/** The categorical palette chosen: 'cvd' (colour-blind safe, the default) or 'library'. */
export function palette() {
  const el = /** @type {HTMLSelectElement | null} */ (document.getElementById('scan-palette'));
  return el?.value || 'cvd';
}

/** The palette select, next to the map select (made here: it is not in the page's markup). */
function addPaletteSelect() {
  if (document.getElementById('scan-palette')) return;
  const label = document.createElement('label');
  label.className = 'inline-label';
  label.append('Colours ');
  const sel = document.createElement('select');
  sel.id = 'scan-palette';
  sel.setAttribute('aria-label', 'Colours of categorical maps');
  for (const [value, text] of Object.entries(PALETTES)) {
    const o = document.createElement('option');
    o.value = value;
    o.textContent = text;
    sel.append(o);
  }
  label.append(sel);
  $('scan-map').closest('label')?.after(label);
}

/** Per cell of the grid: 0 not analysed yet, 1 analysed, 2 failed. */
function cellStates() {
  const res = state.results;
  if (!res) return null;
  const cells = new Uint8Array(res.grid.nx * res.grid.ny);
  for (const p of res.points) if (p) cells[p.iy * res.grid.nx + p.ix] = p.status === 'failed' ? 2 : 1;
  return cells;
}

function drawMap() {
  const m = currentMap();
  mapView.set(m, state.results?.grid ?? null, cellStates());
  mapView.draw();
  $('scan-map-empty').hidden = Boolean(m);
  api.drawn = m ? { name: m.name, kind: m.kind, nx: m.nx, ny: m.ny } : null;
  drawLegend(m);
  updateButtons();
}


let keyUrl = null;
let keyFor = '';

/** IPF maps: the library's PNG of the map (its IPF keys) under the map, once no run is going on. */
function showKey(m) {
  const res = state.results;
  const id = `${m.name}:${api.mapUpdates}`;
  if (!res || state.run || !m.rgb.some((c) => c[0] >= 0)) return;
  $('scan-key').hidden = false;
  if (keyFor === id) return;
  try {
    const png = wasm.scan_map_png(res.grid, res.request, finishedPoints(), m.name);
    if (keyUrl) URL.revokeObjectURL(keyUrl);
    keyUrl = URL.createObjectURL(new Blob([png], { type: 'image/png' }));
    $('scan-key-img', 'img').src = keyUrl;
    keyFor = id;
  } catch (e) {
    $('scan-key').hidden = true;
    showError(`The IPF key: ${messageOf(e)}`, true);
  }
}

/** Colour bar (scalar maps), swatches (categorical maps) or a note and the IPF key (IPF colours). */
function drawLegend(m) {
  $('scan-key').hidden = true;
  const canvas = /** @type {HTMLCanvasElement & {ticks?: {x?: string[]}}} */ ($('scan-legend', 'canvas'));
  const note = $('scan-legend-note');
  note.textContent = '';
  const dpr = window.devicePixelRatio || 1;
  const w = canvas.clientWidth || 420;
  let h = 0;
  let categories = [];
  const hasValues = Boolean(m?.values.some(Number.isFinite));
  if (m?.kind === 'scalar' && hasValues) h = 46;
  if (m?.kind === 'categorical') {
    // Each category's colour as the map draws it (from a point that has it).
    const colour = new Map();
    m.values.forEach((v, k) => {
      if (Number.isFinite(v) && !colour.has(v) && m.rgb[k][0] >= 0) colour.set(v, m.rgb[k]);
    });
    categories = m.categories.map((name, k) => ({ name, rgb: colour.get(k) ?? null }));
    const perRow = Math.max(1, Math.floor(w / 150));
    h = Math.ceil(Math.max(1, categories.length) / perRow) * 18 + 6;
  }
  canvas.hidden = h === 0;
  canvas.style.height = `${h}px`;
  canvas.width = Math.round(w * dpr);
  canvas.height = Math.round(h * dpr);
  const g = canvas.getContext('2d');
  g.setTransform(dpr, 0, 0, dpr, 0, 0);
  g.clearRect(0, 0, w, h);
  g.font = '11px system-ui, "DejaVu Sans", sans-serif';
  g.fillStyle = '#1d2330';
  canvas.ticks = {};
  if (!m) return;
  if (m.kind === 'rgb') {
    showKey(m);
    note.textContent = `${m.title}: inverse-pole-figure colour of the crystal direction along that sample axis (main `
      + 'grain; m-3m: red [001], green [101], blue [111], white in between).'
      + `${state.run ? ' The IPF key of each material appears below when the run ends (and in the PNG).' : ''}`;
    return;
  }
  if (m.kind === 'scalar') {
    if (!hasValues) {
      note.textContent = `${m.title}: no value yet.`;
      return;
    }
    const [lo, hi] = m.range;
    const x0 = 10;
    const x1 = w - 40;
    const grad = g.createLinearGradient(x0, 0, x1, 0);
    for (let i = 0; i <= 20; i++) {
      const [r, gg, b] = viridisRgb(i / 20);
      grad.addColorStop(i / 20, `rgb(${r},${gg},${b})`);
    }
    g.fillStyle = grad;
    g.fillRect(x0, 4, x1 - x0, 14);
    g.strokeStyle = '#8a93a6';
    g.strokeRect(x0 + 0.5, 4.5, x1 - x0 - 1, 13);
    g.fillStyle = '#1d2330';
    g.textBaseline = 'top';
    g.textAlign = 'center';
    for (const v of niceTicks(lo, hi, 6)) {
      const x = x0 + ((v - lo) / (hi - lo)) * (x1 - x0);
      if (x < x0 - 0.5 || x > x1 + 0.5) continue;
      g.fillRect(Math.round(x), 18, 1, 4);
      g.fillText(formatValue(v), x, 24);
      (canvas.ticks.x ??= []).push(`${formatValue(v)}${m.unit ? ` ${m.unit}` : ''}`);
    }
    g.textAlign = 'left';
    g.fillText(m.unit, x1 + 6, 6);
    note.textContent = `${m.title}: ${formatValue(lo)} … ${formatValue(hi)}${m.unit ? ` ${m.unit}` : ''}.`;
    return;
  }
  // Categorical.
  const perRow = Math.max(1, Math.floor(w / 150));
  g.textBaseline = 'middle';
  g.textAlign = 'left';
  categories.forEach((c, k) => {
    const x = 6 + (k % perRow) * 150;
    const y = 4 + Math.floor(k / perRow) * 18;
    if (c.rgb) {
      g.fillStyle = `rgb(${c.rgb[0]},${c.rgb[1]},${c.rgb[2]})`;
      g.fillRect(x, y + 2, 12, 12);
    }
    g.strokeStyle = '#555';
    g.strokeRect(x + 0.5, y + 2.5, 11, 11);
    g.fillStyle = '#1d2330';
    g.fillText(c.name, x + 17, y + 8);
  });
  if (!categories.length) note.textContent = `${m.title}: no value yet.`;
}

// ---------------------------------------------------------------------------------------------------------------
// Readout and opening a point

function pointAtCell(ix, iy) {
  const res = state.results;
  if (!res) return { index: -1, point: null };
  const { nx } = res.grid;
  const x = res.grid.snake && iy % 2 === 1 ? nx - 1 - ix : ix;
  const index = iy * nx + x;
  return { index, point: res.points[index] ?? null };
}

function imageNameOf(index) {
  const s = state.results?.source;
  if (!s) return '';
  if (s.kind === 'synthetic') return s.handle.image_name(index);
  if (s.kind === 'stack') return `${s.file.name}#${index}`;
  return s.files[index]?.name ?? '';
}

function updateReadout(ev) {
  const el = $('scan-readout');
  const m = currentMap();
  const cell = ev && m ? mapView.cellAt(...canvasXY(ev)) : null;
  const prev = mapView.hover;
  mapView.hover = cell;
  if ((prev?.join() ?? '') !== (cell?.join() ?? '')) mapView.draw();
  if (!cell) {
    api.readout = null;
    el.textContent = m ? 'ix —  iy —' : '';
    return;
  }
  const [ix, iy] = cell;
  const { index, point } = pointAtCell(ix, iy);
  const k = iy * m.nx + ix;
  let value;
  if (m.kind === 'rgb') value = m.rgb[k][0] < 0 ? '—' : `rgb(${m.rgb[k].join(', ')})`;
  else if (m.kind === 'categorical') value = Number.isFinite(m.values[k]) ? m.categories[m.values[k]] ?? String(m.values[k]) : '—';
  else value = Number.isFinite(m.values[k]) ? `${formatValue(m.values[k])}${m.unit ? ` ${m.unit}` : ''}` : '—';
  const image = point?.image ?? imageNameOf(index);
  const status = point ? point.status.replace('_', ' ') : 'not analysed yet';
  const grains = point?.grains?.length ? `, ${point.grains.length} grain${point.grains.length > 1 ? 's' : ''} (${point.grains[0].material}, ${point.grains[0].matching_rate.toFixed(1)} %)` : '';
  api.readout = { ix, iy, index, value, image, status: point?.status ?? null };
  el.textContent = `ix ${ix}  iy ${iy}  ${m.title}: ${value}  · ${image} · ${status}${grains}`
    + `${point?.error ? ` · ${point.error}` : ''}`;
}

function canvasXY(ev) {
  const rect = mapView.canvas.getBoundingClientRect();
  return [ev.clientX - rect.left, ev.clientY - rect.top];
}

/** Opens point (ix, iy) in "Images & peaks": its bytes, the scan's calibration and settings. */
async function openCell(ix, iy) {
  const res = state.results;
  if (!res) return;
  const { index } = pointAtCell(ix, iy);
  if (index < 0 || index >= res.points.length) return;
  try {
    await openSourcePoint(res.source, index, res.det, res.request);
  } catch (e) {
    showError(`Could not open point ${index} (ix ${ix}, iy ${iy}): ${messageOf(e)}`);
  }
}

/** Opens point `index` of source `s` in "Images & peaks" with the calibration `det` ({text, name}) and the
 * pipeline `request` (the Cluster panel opens delegates with it). */
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

function save(kind) {
  const res = state.results;
  const pts = finishedPoints();
  if (!res || !pts.length) return;
  const stem = res.label || 'scan';
  try {
    if (kind === 'h5') {
      saveBlob(`${stem}.h5`, wasm.scan_hdf5(res.grid, res.request, pts), 'application/x-hdf5');
    } else if (kind === 'json') {
      saveBlob(`${stem}.json`, wasm.scan_json(res.grid, res.request, pts, res.seconds), 'application/json');
    } else if (kind === 'ctf') {
      saveBlob(`${stem}.ctf`, wasm.scan_ctf(res.grid, res.request, pts), 'text/plain');
    } else if (kind === 'png') {
      saveBlob(`${stem}_${state.mapName}.png`, wasm.scan_map_png(res.grid, res.request, pts, state.mapName), 'image/png');
    } else if (kind === 'csv') {
      saveBlob(`${stem}_${state.mapName}.csv`, wasm.scan_map_csv(res.grid, res.request, pts, state.mapName), 'text/csv');
    }
  } catch (e) {
    showError(`Could not write the ${kind.toUpperCase()} file: ${messageOf(e)}`);
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Events

function wireEvents() {
  addPaletteSelect();
  $('scan-palette').addEventListener('change', () => drawMap());
  for (const id of ['scan-files', 'scan-folder']) {
    $(id).addEventListener('change', (e) => {
      const input = /** @type {HTMLInputElement} */ (e.target);
      const files = Array.from(input.files || []);
      input.value = '';
      openFiles(files);
    });
  }
  $('scan-load-example').addEventListener('click', () => loadExample());
  const panel = $('view-scan');
  panel.addEventListener('dragover', (e) => {
    e.preventDefault();
    $('scan-drop-zone').classList.add('over');
  });
  panel.addEventListener('dragleave', (e) => {
    if (!panel.contains(/** @type {Node | null} */ (e.relatedTarget))) $('scan-drop-zone').classList.remove('over');
  });
  panel.addEventListener('drop', async (e) => {
    e.preventDefault();
    $('scan-drop-zone').classList.remove('over');
    try {
      const files = await filesOfDrop(e.dataTransfer);
      if (files.length) openFiles(files);
    } catch (err) {
      showError(`Could not read the dropped files: ${messageOf(err)}`);
    }
  });
  for (const id of ['scan-nx', 'scan-ny', 'scan-step-x', 'scan-step-y', 'scan-snake']) {
    $(id).addEventListener('input', () => { showGridInfo(); updateButtons(); });
  }
  $('scan-materials').addEventListener('input', () => { state.materialsEdited = true; });
  $('scan-fill-json').addEventListener('click', () => fillJson());
  $('scan-request-json').addEventListener('input', () => { jsonEdited = true; });
  $('scan-advanced').addEventListener('toggle', () => {
    if ($('scan-advanced', 'details').open && !$('scan-use-json', 'input').checked && !jsonEdited) fillJson();
  });
  $('scan-workers').addEventListener('change', () => {
    const n = Math.floor(Number($('scan-workers', 'input').value));
    if (!(n >= 1 && n <= 64)) $('scan-workers', 'input').value = String(defaultWorkers());
  });
  $('scan-run').addEventListener('click', () => run());
  $('scan-cancel').addEventListener('click', () => cancel());
  $('scan-map').addEventListener('change', () => {
    state.mapName = $('scan-map', 'select').value;
    drawMap();
  });
  $('scan-save-h5').addEventListener('click', () => save('h5'));
  $('scan-save-json').addEventListener('click', () => save('json'));
  $('scan-save-ctf').addEventListener('click', () => save('ctf'));
  $('scan-save-png').addEventListener('click', () => save('png'));
  $('scan-save-csv').addEventListener('click', () => save('csv'));
  const canvas = mapView.canvas;
  canvas.addEventListener('pointermove', (e) => updateReadout(e));
  canvas.addEventListener('pointerleave', () => updateReadout(null));
  canvas.addEventListener('click', (e) => {
    const cell = mapView.cellAt(...canvasXY(e));
    if (cell) openCell(...cell);
  });
}

function updateButtons() {
  const running = Boolean(state.run);
  const why = wasm ? blocker() : 'loading…';
  $('scan-run', 'button').disabled = running || Boolean(why);
  $('scan-run').title = why;
  $('scan-cancel', 'button').disabled = !running;
  $('scan-load-example', 'button').disabled = running;
  $('scan-files', 'input').disabled = running;
  $('scan-folder', 'input').disabled = running;
  const have = finishedPoints().length > 0;
  for (const id of ['scan-save-h5', 'scan-save-json', 'scan-save-ctf']) $(id, 'button').disabled = !have || running;
  for (const id of ['scan-save-png', 'scan-save-csv']) $(id, 'button').disabled = !have || running || !currentMap();
  if (!running && !state.results && why && wasm) setStatus(why);
}

// ---------------------------------------------------------------------------------------------------------------
// Messages

function showError(message, keep = false) {
  const el = $('scan-error');
  el.textContent = keep && !el.hidden && el.textContent ? `${el.textContent}\n${message}` : message;
  el.hidden = false;
}

function clearError() {
  $('scan-error').hidden = true;
  $('scan-error').textContent = '';
}

function setStatus(text) {
  $('scan-status').textContent = text;
}

function messageOf(e) {
  if (e == null) return 'unknown error';
  if (typeof e === 'string') return e;
  return e.message || String(e);
}

function formatValue(v) {
  if (!Number.isFinite(v)) return String(v);
  const a = Math.abs(v);
  if (a !== 0 && (a >= 1e5 || a < 1e-3)) return v.toExponential(2);
  return Number.isInteger(v) ? String(v) : String(Number(v.toPrecision(4)));
}

function formatSeconds(s) {
  if (!Number.isFinite(s)) return '—';
  if (s < 60) return `${Math.ceil(s)} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min ${Math.round(s % 60)} s`;
  return `${Math.floor(s / 3600)} h ${Math.round((s % 3600) / 60)} min`;
}

function stemOf(name) {
  const i = name.lastIndexOf('.');
  return i > 0 ? name.slice(0, i) : name;
}

// Last, once every declaration above is initialised.
api.ready = start();
api.ready.catch((e) => showError(`The Scan view did not start: ${messageOf(e)}`));
