// lauekit live Laue simulator: wires the form and the canvas to the wasm core (pkg/lauekit.js, loaded by lib/wasm.js).
//
// Every input event schedules one simulation on the next animation frame; the wasm `simulate` call is synchronous
// and fast enough (a few ms) to run on the main thread. For tests the page exposes `window.lauekit`.
// This is the page's "Simulator" view; the "Images & peaks" view is views/peaks/main.js.

import { $ } from '../../lib/dom.js';
import { PatternView } from '../../lib/view.js';
import { drawColorbar } from '../../lib/colors.js';
import * as m3 from '../../lib/mat3.js';
import { loadWasm } from '../../lib/wasm.js';

const PKG_URL = '../pkg/lauekit.js';
const CUSTOM = '__custom__';
const DEFAULT_MATERIAL = 'Cu';
const EXAMPLE_DET = { url: 'examples/calibGe111.det', name: 'calibGe111.det', material: 'Ge' };
/** Degrees of rotation per CSS pixel of drag. */
const DRAG_DEG_PER_PX = 0.25;
const HOVER_RADIUS_PX = 8;

const PRESETS = {
  MARCCD165: { distance_mm: 70, xcen_px: 1024, ycen_px: 1024, xbet_deg: 0, xgam_deg: 0, pixel_size_mm: 0.079142, rows: 2048, cols: 2048 },
  sCMOS: { distance_mm: 77, xcen_px: 1008, ycen_px: 1009, xbet_deg: 0, xgam_deg: 0, pixel_size_mm: 0.0734, rows: 2018, cols: 2016 },
};

/** Calibration field → input id. */
const CALIB_FIELDS = {
  distance_mm: 'dd', xcen_px: 'xcen', ycen_px: 'ycen', xbet_deg: 'xbet', xgam_deg: 'xgam',
  pixel_size_mm: 'pixel', rows: 'rows', cols: 'cols',
};
const LATTICE_IDS = ['lat-a', 'lat-b', 'lat-c', 'lat-alpha', 'lat-beta', 'lat-gamma'];
const EULER_IDS = ['euler-1', 'euler-2', 'euler-3'];
const ROT_IDS = ['rot-x', 'rot-y', 'rot-z'];
const LAB_AXES = { 'rot-x': [1, 0, 0], 'rot-y': [0, 1, 0], 'rot-z': [0, 0, 1] };


// ---------------------------------------------------------------------------------------------------------------
// State

let wasm = null;
let materialTable = [];
const state = {
  /** Base orientation from a .det file (row-major 9), or null: then it comes from the Euler inputs. */
  detUb: null,
  detUbSource: '',
  /** Accumulated drag rotation (lab frame), applied last: UB = drag · Rz · Ry · Rx · base. */
  drag: m3.IDENTITY.slice(),
  /** Which crystal inputs the user changed since picking a table material (they then override its values). */
  edited: { lattice: false, symmetry: false },
  view: 'pixels',
  sizeBy: 'energy',
  hover: -1,
  /** What the last successful frame showed, for redraws without a new simulation (hover, resize). */
  shown: null,
  angleBoxCache: { key: '', box: null },
  eulerCache: { key: '', ub: null },
};
const errors = new Map(); // source → message

export const api = {
  ready: null,
  lastRequest: null,
  lastResult: null,
  drawnSpots: [],
  /** Number of frames drawn so far (tests wait for it to grow). */
  frame: 0,
  /** Detector pixel (x = column, y = row) → canvas [cx, cy] (CSS px of the canvas) in the current view. */
  toCanvas: (x, y) => toCanvas(x, y),
  /** (2θ, χ) degrees → canvas [cx, cy] in the angles view. */
  anglesToCanvas: (tth, chi) => view.anglesToCanvas(tth, chi),
  /** The loaded wasm module (null until ready). */
  wasm: null,
  /** Schedules a simulation + redraw (as any input does). */
  refresh: () => schedule(),
};
window.lauekit = api;

const view = new PatternView($('pattern'));

api.ready = start();
// The promise is for callers to await; mark it handled so a failed start is reported once, in the page.
api.ready.catch(() => {});

// ---------------------------------------------------------------------------------------------------------------
// Start-up

async function start() {
  window.addEventListener('error', (e) => setError('runtime', `Unexpected error: ${e.message}`));
  window.addEventListener('unhandledrejection', (e) => setError('runtime', `Unexpected error: ${messageOf(e.reason)}`));
  setStatus('loading the WebAssembly core…');
  try {
    const mod = await loadWasm();
    wasm = mod;
    api.wasm = mod;
  } catch (e) {
    const msg = `Could not load the lauekit WebAssembly package (${PKG_URL}): ${messageOf(e)}.\n`
      + 'Build it first (wasm-bindgen --target web output in pkg/ at the repository root) and serve the repository root.';
    setError('boot', msg);
    setStatus('not running');
    throw new Error(msg);
  }

  try {
    materialTable = Array.from(wasm.materials());
  } catch (e) {
    setError('boot', `Could not read the materials table: ${messageOf(e)}`);
    materialTable = [];
  }
  fillMaterialSelect();
  applyPreset('MARCCD165');
  const initial = materialTable.some((m) => m.name === DEFAULT_MATERIAL) ? DEFAULT_MATERIAL : (materialTable[0]?.name ?? CUSTOM);
  selectMaterial(initial);
  if (initial === CUSTOM) {
    setLattice([3.6149, 3.6149, 3.6149, 90, 90, 90]);
    $('symmetry', 'input').value = 'fcc';
  }

  wireEvents();
  update();
  return api;
}

function fillMaterialSelect() {
  const sel = $('material', 'select');
  sel.textContent = '';
  for (const m of materialTable) {
    const opt = document.createElement('option');
    opt.value = m.name;
    opt.textContent = m.name;
    sel.append(opt);
  }
  const custom = document.createElement('option');
  custom.value = CUSTOM;
  custom.textContent = 'custom (lattice below)';
  sel.append(custom);

  // Offer the rule names the table uses as well as the usual ones.
  const list = $('rules', 'datalist');
  const known = new Set(Array.from(list.options, (o) => o.value));
  for (const m of materialTable) {
    if (m.rule && !known.has(m.rule)) {
      known.add(m.rule);
      const opt = document.createElement('option');
      opt.value = m.rule;
      list.append(opt);
    }
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Form ↔ state

function selectMaterial(name) {
  const sel = $('material', 'select');
  sel.value = name;
  const m = materialTable.find((x) => x.name === name);
  if (m) {
    setLattice(Array.from(m.lattice));
    // The table simulates with the material's own (LaueTools) rule, so show that rather than the space group.
    $('symmetry', 'input').value = m.rule ?? (m.space_group != null ? String(m.space_group) : '');
  }
  state.edited = { lattice: false, symmetry: false };
  for (const id of [...LATTICE_IDS, 'symmetry']) $(id).classList.remove('invalid');
  showMaterialInfo();
}

function showMaterialInfo() {
  const m = materialTable.find((x) => x.name === $('material', 'select').value);
  const info = $('material-info');
  if (!m) {
    info.textContent = 'Custom crystal: lattice parameters and a space group number or extinction rule.';
    return;
  }
  const parts = [];
  if (m.structure) parts.push(m.structure);
  parts.push(`rule ${m.rule}`);
  if (m.space_group != null) parts.push(`space group ${m.space_group}`);
  if (m.laue_group) parts.push(`Laue group ${m.laue_group}`);
  if (m.source) parts.push(`values: ${m.source}`);
  const edited = [state.edited.lattice && 'lattice', state.edited.symmetry && 'rule'].filter(Boolean);
  info.textContent = parts.join(' · ') + (edited.length ? ` — your ${edited.join(' and ')} override the table's.` : '');
}

function setLattice(values) {
  LATTICE_IDS.forEach((id, i) => { $(id, 'input').value = roundForInput(values[i]); });
}

function applyPreset(name) {
  const p = PRESETS[name];
  if (!p) return;
  fillCalibration(p);
  $('preset', 'select').value = name;
}

function fillCalibration(c) {
  for (const [key, id] of Object.entries(CALIB_FIELDS)) {
    if (c[key] != null) $(id, 'input').value = roundForInput(Number(c[key]));
  }
  $('preset', 'select').value = matchingPreset(readCalibrationLoose()) ?? 'custom';
}

function matchingPreset(c) {
  for (const [name, p] of Object.entries(PRESETS)) {
    if (Object.keys(p).every((k) => Math.abs(p[k] - c[k]) < 1e-9)) return name;
  }
  return null;
}

function readCalibrationLoose() {
  const c = {};
  for (const [key, id] of Object.entries(CALIB_FIELDS)) c[key] = Number($(id, 'input').value);
  return c;
}

function roundForInput(v) {
  return Number.isFinite(v) ? String(Number(v.toPrecision(10))) : '';
}

function resetRotation() {
  for (const id of ROT_IDS) $(id, 'input').value = '0';
  state.drag = m3.IDENTITY.slice();
  showSliderValues();
}

function showSliderValues() {
  for (const id of ROT_IDS) $(`${id}-val`).textContent = `${Number($(id, 'input').value).toFixed(1)}°`;
}

function showBaseSource() {
  $('base-source').textContent = state.detUb ? `matrix from ${state.detUbSource}` : 'Euler angles';
}

/** Reads one numeric input; records a problem (and marks the field) if it is not a finite number meeting `check`. */
function readNumber(id, label, problems, check = null, what = 'a number') {
  const el = $(id, 'input');
  const v = el.value.trim() === '' ? NaN : Number(el.value);
  const ok = Number.isFinite(v) && (!check || check(v));
  el.classList.toggle('invalid', !ok);
  if (!ok) problems.push(`${label} must be ${what} (got “${el.value}”).`);
  return v;
}

/** Builds the `simulate` request from the form, or returns the list of problems with the inputs. */
function buildRequest() {
  const problems = [];
  const request = {};
  const matName = $('material', 'select').value;
  const custom = !matName || matName === CUSTOM;
  if (!custom) request.material = matName;
  // A table material is sent by name; lattice and rule only when the user changed them (or for a custom crystal).
  if (custom || state.edited.lattice) {
    const labels = ['a', 'b', 'c', 'α', 'β', 'γ'];
    request.lattice = LATTICE_IDS.map((id, i) => (i < 3
      ? readNumber(id, `Lattice ${labels[i]} (Å)`, problems, (v) => v > 0, 'a positive number')
      : readNumber(id, `Lattice ${labels[i]} (°)`, problems, (v) => v > 0 && v < 180, 'an angle between 0 and 180°')));
  }
  if (custom || state.edited.symmetry) {
    const sym = $('symmetry', 'input').value.trim();
    $('symmetry').classList.remove('invalid');
    if (sym === '') {
      $('symmetry').classList.add('invalid');
      problems.push('Give a space group number (1–230) or an extinction rule name (fcc, bcc, dia, wurtzite, hcp, no, …).');
    } else if (/^\d+$/.test(sym)) {
      const sg = Number(sym);
      if (sg < 1 || sg > 230) {
        $('symmetry').classList.add('invalid');
        problems.push(`Space group must be between 1 and 230 (got ${sym}).`);
      }
      request.space_group = sg;
    } else {
      request.extinction = sym;
    }
  }

  const calibration = {};
  const labels = {
    distance_mm: ['Distance dd (mm)', (v) => v > 0, 'a positive number'],
    xcen_px: ['xcen (px)'], ycen_px: ['ycen (px)'], xbet_deg: ['xbet (°)'], xgam_deg: ['xgam (°)'],
    pixel_size_mm: ['Pixel size (mm)', (v) => v > 0, 'a positive number'],
    rows: ['Rows', (v) => Number.isInteger(v) && v > 0, 'a positive whole number'],
    cols: ['Columns', (v) => Number.isInteger(v) && v > 0, 'a positive whole number'],
  };
  for (const [key, id] of Object.entries(CALIB_FIELDS)) {
    const [label, check, what] = labels[key];
    calibration[key] = readNumber(id, label, problems, check, what);
  }
  request.calibration = calibration;

  const emin = readNumber('emin', 'E min (keV)', problems, (v) => v > 0, 'a positive number');
  const emax = readNumber('emax', 'E max (keV)', problems, (v) => v > 0, 'a positive number');
  if (Number.isFinite(emin) && Number.isFinite(emax) && emin > 0 && emax <= emin) {
    $('emax').classList.add('invalid');
    problems.push(`E max (${emax} keV) must be larger than E min (${emin} keV).`);
  }
  request.emin_kev = emin;
  request.emax_kev = emax;

  const euler = EULER_IDS.map((id, i) => readNumber(id, `Euler angle ${i + 1} (°)`, problems));
  if (problems.length) return { problems };

  request.ub = currentUb(euler);
  return { request, problems };
}

/** UB = drag · Rz(rot-z) · Ry(rot-y) · Rx(rot-x) · base, rotations about lab axes. */
function currentUb(euler) {
  let ub = state.detUb ? state.detUb.slice() : eulerUb(euler);
  for (const id of ROT_IDS) {
    const angle = Number($(id, 'input').value);
    if (angle !== 0) ub = m3.toArray9(wasm.rotate_ub(ub, LAB_AXES[id], angle));
  }
  return m3.mul(state.drag, ub);
}

function eulerUb(euler) {
  const key = euler.join(',');
  if (state.eulerCache.key !== key) state.eulerCache = { key, ub: m3.toArray9(wasm.euler_to_ub(euler)) };
  return state.eulerCache.ub.slice();
}

// ---------------------------------------------------------------------------------------------------------------
// Simulation and drawing

let scheduled = false;
function schedule() {
  if (scheduled) return;
  scheduled = true;
  requestAnimationFrame(() => {
    scheduled = false;
    update();
  });
}

function update() {
  if (!wasm) return;
  const t0 = performance.now();
  let built;
  try {
    built = buildRequest();
  } catch (e) {
    built = { problems: [messageOf(e)] };
  }
  if (built.problems.length) {
    setError('input', built.problems.join('\n'));
    clearError('simulate');
    showNothing('Fix the highlighted inputs');
    return;
  }
  clearError('input');
  const request = built.request;
  $('ub-display').textContent = m3.format(request.ub);

  let result;
  try {
    result = wasm.simulate(request);
  } catch (e) {
    api.lastRequest = request;
    api.lastResult = null;
    setError('simulate', `Simulation failed: ${messageOf(e)}`);
    showNothing('No pattern: see the message above');
    return;
  }
  clearError('simulate');
  api.lastRequest = request;
  api.lastResult = result;
  const spots = Array.from(result.spots ?? []);
  const tSim = performance.now() - t0;

  state.shown = {
    spots,
    calibration: request.calibration,
    emin: request.emin_kev,
    emax: request.emax_kev,
  };
  state.hover = -1;
  hideTooltip();
  redraw();
  const wasmMs = Number(result.elapsed_ms);
  // The result also says what was simulated (material, rule, Laue group) and may carry a note about the rule.
  const what = [result.material ?? request.material ?? 'custom lattice'];
  if (result.rule) what.push(`rule ${result.rule}`);
  if (result.laue_group) what.push(`Laue group ${result.laue_group}`);
  const wasmText = !Number.isFinite(wasmMs) ? '?' : wasmMs < 1 ? '< 1' : wasmMs.toFixed(wasmMs < 10 ? 1 : 0);
  setStatus(`${spots.length} spots · simulate ${wasmText} ms in wasm`
    + ` · ${tSim.toFixed(1)} ms in all · ${what.join(', ')} · ${request.emin_kev}–${request.emax_kev} keV`
    + (result.note ? ` · note: ${result.note}` : ''));
}

/** Draws state.shown in the current view (no new simulation). */
function redraw() {
  const shown = state.shown;
  if (!shown) return;
  const angleBox = state.view === 'angles' ? angleBoxFor(shown.calibration) : null;
  view.configure({
    mode: angleBox ? 'angles' : 'pixels',
    rows: shown.calibration.rows,
    cols: shown.calibration.cols,
    angleBox,
  });
  api.drawnSpots = view.draw(shown.spots, {
    emin: shown.emin,
    emax: shown.emax,
    sizeBy: state.sizeBy,
    highlight: state.hover,
    calibration: shown.calibration,
  });
  drawColorbar($('colorbar'), shown.emin, shown.emax);
  $('size-legend').textContent = state.sizeBy === 'multiplicity'
    ? 'Disc area ∝ number of symmetry-equivalent (h k l) in the family.'
    : 'Larger disc = lower energy; colour = energy.';
  api.frame += 1;
}

function showNothing(message) {
  api.drawnSpots = [];
  state.shown = null;
  hideTooltip();
  const c = readCalibrationLoose();
  const rows = Number.isInteger(c.rows) && c.rows > 0 ? c.rows : 2048;
  const cols = Number.isInteger(c.cols) && c.cols > 0 ? c.cols : 2048;
  view.configure({ mode: 'pixels', rows, cols, angleBox: null });
  view.draw([], { emin: 0, emax: 1, sizeBy: state.sizeBy, message });
  setStatus('0 spots');
  api.frame += 1;
}

/** χ and 2θ ranges covered by the detector frame, and its outline, from the wasm pixel → angles map. */
function angleBoxFor(calibration) {
  const key = JSON.stringify(calibration);
  if (state.angleBoxCache.key === key) return state.angleBoxCache.box;
  let box = null;
  try {
    const { rows, cols } = calibration;
    const n = 48;
    const border = [];
    for (let i = 0; i < n; i++) border.push([(cols * i) / n, 0]);
    for (let i = 0; i < n; i++) border.push([cols, (rows * i) / n]);
    for (let i = 0; i < n; i++) border.push([cols - (cols * i) / n, rows]);
    for (let i = 0; i < n; i++) border.push([0, rows - (rows * i) / n]);
    const outline = border.map(([x, y]) => Array.from(wasm.pixel_to_angles(calibration, x, y), Number));
    if (outline.every(([t, c]) => Number.isFinite(t) && Number.isFinite(c))) {
      const tth = outline.map((p) => p[0]);
      const chi = outline.map((p) => p[1]);
      const pad = 2;
      box = {
        tthMin: Math.min(...tth) - pad, tthMax: Math.max(...tth) + pad,
        chiMin: Math.min(...chi) - pad, chiMax: Math.max(...chi) + pad,
        outline,
      };
    }
  } catch (e) {
    setError('simulate', `Could not map the detector frame to angles: ${messageOf(e)}`);
  }
  state.angleBoxCache = { key, box };
  return box;
}

function toCanvas(x, y) {
  if (view.mode === 'angles' && view.angleBox) {
    const [tth, chi] = Array.from(wasm.pixel_to_angles(state.shown.calibration, x, y), Number);
    return view.anglesToCanvas(tth, chi);
  }
  return view.pixelToCanvas(x, y);
}

// ---------------------------------------------------------------------------------------------------------------
// .det files

async function loadDetText(text, name, forceMaterial = null) {
  let parsed;
  try {
    parsed = wasm.parse_det(text);
  } catch (e) {
    setError('det', `Could not read the calibration file ${name}: ${messageOf(e)}`);
    return false;
  }
  clearError('det');
  fillCalibration(parsed.calibration);
  if (parsed.ub) {
    state.detUb = m3.toArray9(parsed.ub);
    state.detUbSource = name;
  } else {
    state.detUb = null;
  }
  showBaseSource();
  const wanted = forceMaterial ?? parsed.material;
  let note = '';
  if (wanted) {
    if (materialTable.some((m) => m.name === wanted)) selectMaterial(wanted);
    else note = ` Material “${wanted}” is not in the table: keeping the current crystal.`;
  }
  resetRotation();
  const c = parsed.calibration;
  $('det-info').textContent = `Loaded ${name}: dd ${c.distance_mm} mm, centre (${c.xcen_px}, ${c.ycen_px}) px, `
    + `xbet ${c.xbet_deg}°, xgam ${c.xgam_deg}°, ${c.rows}×${c.cols} px of ${c.pixel_size_mm} mm`
    + `${parsed.ub ? ', with an orientation matrix (used as the base orientation)' : ''}.${note}`;
  schedule();
  return true;
}

async function loadExample() {
  try {
    const res = await fetch(EXAMPLE_DET.url);
    if (!res.ok) throw new Error(`HTTP ${res.status} for ${EXAMPLE_DET.url}`);
    await loadDetText(await res.text(), EXAMPLE_DET.name, EXAMPLE_DET.material);
  } catch (e) {
    setError('det', `Could not load the example calibration: ${messageOf(e)}`);
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Events

function wireEvents() {
  const form = $('controls');
  form.addEventListener('input', onFormInput);
  // Selects and radios also fire `change`; `input` is enough for them, except for the file input.
  $('det-file').addEventListener('change', async (e) => {
    const input = /** @type {HTMLInputElement} */ (e.target);
    const file = input.files && input.files[0];
    if (!file) return;
    try {
      await loadDetText(await file.text(), file.name);
    } catch (err) {
      setError('det', `Could not read ${file.name}: ${messageOf(err)}`);
    }
  });
  $('load-example').addEventListener('click', loadExample);
  $('reset').addEventListener('click', () => {
    resetRotation();
    schedule();
  });
  for (const radio of document.querySelectorAll('input[name=view], input[name=size]')) {
    radio.addEventListener('change', () => {
      state.view = /** @type {HTMLInputElement} */ (document.querySelector('input[name=view]:checked')).value;
      state.sizeBy = /** @type {HTMLInputElement} */ (document.querySelector('input[name=size]:checked')).value;
      state.hover = -1;
      hideTooltip();
      redraw();
    });
  }
  wireCanvas();
  window.addEventListener('resize', () => {
    state.hover = -1;
    hideTooltip();
    redraw();
  });
}

function onFormInput(e) {
  const id = e.target.id;
  if (id === 'det-file' || e.target.name === 'view' || e.target.name === 'size') return;
  if (id === 'material') {
    selectMaterial(e.target.value);
  } else if (LATTICE_IDS.includes(id) || id === 'symmetry') {
    if (id === 'symmetry') state.edited.symmetry = true;
    else state.edited.lattice = true;
    showMaterialInfo();
  } else if (id === 'preset') {
    applyPreset(e.target.value);
  } else if (Object.values(CALIB_FIELDS).includes(id)) {
    $('preset', 'select').value = matchingPreset(readCalibrationLoose()) ?? 'custom';
  } else if (EULER_IDS.includes(id)) {
    if (state.detUb) {
      state.detUb = null;
      showBaseSource();
    }
  } else if (ROT_IDS.includes(id)) {
    showSliderValues();
  }
  schedule();
}

function wireCanvas() {
  const canvas = $('pattern');
  let dragging = null; // {x, y, id}

  canvas.addEventListener('pointerdown', (e) => {
    if (e.button !== 0) return;
    dragging = { x: e.offsetX, y: e.offsetY, id: e.pointerId };
    canvas.setPointerCapture(e.pointerId);
    canvas.classList.add('dragging');
    hideTooltip();
  });
  const endDrag = (e) => {
    if (!dragging || e.pointerId !== dragging.id) return;
    dragging = null;
    canvas.classList.remove('dragging');
  };
  canvas.addEventListener('pointerup', endDrag);
  canvas.addEventListener('pointercancel', endDrag);
  canvas.addEventListener('pointermove', (e) => {
    if (dragging) {
      const dx = e.offsetX - dragging.x;
      const dy = e.offsetY - dragging.y;
      dragging.x = e.offsetX;
      dragging.y = e.offsetY;
      if ((dx !== 0 || dy !== 0) && wasm) {
        // Signs chosen so that spots near the detector centre follow the pointer; χ runs the other way in the
        // angles view.
        const sx = view.mode === 'angles' ? -1 : 1;
        try {
          let r = state.drag;
          if (dx !== 0) r = m3.toArray9(wasm.rotate_ub(r, [0, 0, 1], sx * dx * DRAG_DEG_PER_PX));
          if (dy !== 0) r = m3.toArray9(wasm.rotate_ub(r, [0, 1, 0], dy * DRAG_DEG_PER_PX));
          state.drag = r;
        } catch (err) {
          setError('simulate', `Rotation failed: ${messageOf(err)}`);
        }
        schedule();
      }
      return;
    }
    onHover(e.offsetX, e.offsetY);
  });
  canvas.addEventListener('pointerleave', () => {
    if (dragging) return;
    if (state.hover !== -1) {
      state.hover = -1;
      redraw();
    }
    hideTooltip();
  });
}

function onHover(x, y) {
  const drawn = api.drawnSpots;
  const i = PatternView.nearest(drawn, x, y, HOVER_RADIUS_PX);
  if (i !== state.hover) {
    state.hover = i;
    redraw();
  }
  if (i < 0 || !state.shown) {
    hideTooltip();
    return;
  }
  // Harmonics (n·h n·k n·l) land on the same pixel: list every spot drawn at this place, fundamental first.
  const here = drawn
    .filter((d) => Math.hypot(d.cx - drawn[i].cx, d.cy - drawn[i].cy) < 0.75)
    .map((d) => state.shown.spots[d.index])
    .sort((a, b) => (a.harmonic_order ?? 1) - (b.harmonic_order ?? 1) || a.energy_kev - b.energy_kev);
  const s = here[0];
  const tip = $('tooltip');
  const f = (v, d) => (Number.isFinite(Number(v)) ? Number(v).toFixed(d) : '?');
  tip.textContent = '';
  const rows = [
    ['hkl', `(${s.h} ${s.k} ${s.l})`],
    ['', `E = ${f(s.energy_kev, 3)} keV`],
    ['', `2θ = ${f(s.twotheta_deg, 3)}°, χ = ${f(s.chi_deg, 3)}°`],
    ['', `x = ${f(s.x_px, 2)} px, y = ${f(s.y_px, 2)} px`],
    ['', `harmonic order ${s.harmonic_order ?? '?'}, multiplicity ${s.multiplicity ?? '?'}`],
  ];
  for (const o of here.slice(1)) {
    rows.push(['more', `+ (${o.h} ${o.k} ${o.l}) at ${f(o.energy_kev, 3)} keV, harmonic order ${o.harmonic_order ?? '?'}`]);
  }
  for (const [cls, text] of rows) {
    const div = document.createElement('div');
    if (cls) div.className = cls;
    div.textContent = text;
    tip.append(div);
  }
  tip.hidden = false;
  // Keep the tooltip inside the canvas box.
  const box = $('canvas-box');
  const d = drawn[i];
  let left = d.cx + 12;
  let top = d.cy + 12;
  if (left + tip.offsetWidth > box.clientWidth) left = d.cx - 12 - tip.offsetWidth;
  if (top + tip.offsetHeight > box.clientHeight) top = d.cy - 12 - tip.offsetHeight;
  tip.style.left = `${Math.max(0, left)}px`;
  tip.style.top = `${Math.max(0, top)}px`;
}

function hideTooltip() {
  $('tooltip').hidden = true;
}

// ---------------------------------------------------------------------------------------------------------------
// Messages

function setError(source, message) {
  errors.set(source, message);
  renderErrors();
}

function clearError(source) {
  if (errors.delete(source)) renderErrors();
}

function renderErrors() {
  const el = $('error');
  const text = Array.from(errors.values()).join('\n');
  el.textContent = text;
  el.hidden = text === '';
}

function setStatus(text) {
  $('status').textContent = text;
}

function messageOf(e) {
  if (e instanceof Error) return e.message;
  if (typeof e === 'string') return e;
  try {
    return JSON.stringify(e);
  } catch {
    return String(e);
  }
}
