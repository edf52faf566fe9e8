// lauekit live Laue simulator: wires the form and the canvas to the wasm core (pkg/lauekit.js, loaded by lib/wasm.js).
//
// Every input event schedules one simulation on the next animation frame; the wasm `simulate` call is synchronous
// and fast enough (a few ms) to run on the main thread. For tests the page exposes `window.lauekit`.
// This is the page's "Simulator" view; the "Images & peaks" view is views/peaks/main.js.
//
// This module is the view's composition root: start-up, the simulation loop and the form's input events. The
// panels: crystal.js (material, lattice, rule), orientation.js (Euler angles, rotations, drag), detector.js
// (calibration, energy band, .det files), pattern.js (the canvas, hover, drag); fields.js has the form helpers
// and the messages.

import { $ } from '../../lib/dom.js';
import { PatternView } from '../../lib/view.js';
import { messageOf } from '../../lib/panel.js';
import * as m3 from '../../lib/mat3.js';
import { loadWasm } from '../../lib/wasm.js';
import { SimMessages } from './fields.js';
import { CUSTOM, CrystalPanel } from './crystal.js';
import { OrientationPanel } from './orientation.js';
import { DetectorPanel } from './detector.js';
import { PatternPanel } from './pattern.js';

const PKG_URL = '../pkg/lauekit.js';
const DEFAULT_MATERIAL = 'Cu';

const messages = new SimMessages();
const view = new PatternView($('pattern'));
/** @type {import('../../lib/wasm.js').Wasm | null} */
let wasm = null;
const crystal = new CrystalPanel();
/** @type {OrientationPanel | null} */
let orientation = null;
/** @type {DetectorPanel | null} */
let detector = null;
/** @type {PatternPanel | null} */
let pattern = null;

export const api = {
  /** @type {Promise<typeof api> | null} */
  ready: null,
  /** @type {Record<string, any> | null} */
  lastRequest: null,
  /** @type {any} */
  lastResult: null,
  /** The spots drawn: {h, k, l, cx, cy, r, index}, in the order of the result. */
  get drawnSpots() {
    return pattern?.drawn ?? [];
  },
  /** Number of frames drawn so far (tests wait for it to grow). */
  get frame() {
    return pattern?.frames ?? 0;
  },
  /** Detector pixel (x = column, y = row) → canvas [cx, cy] (CSS px of the canvas) in the current view. */
  toCanvas: (/** @type {number} */ x, /** @type {number} */ y) => pattern.toCanvas(x, y),
  /** (2θ, χ) degrees → canvas [cx, cy] in the angles view. */
  anglesToCanvas: (/** @type {number} */ tth, /** @type {number} */ chi) => view.anglesToCanvas(tth, chi),
  /** @type {import('../../lib/wasm.js').Wasm | null} the loaded wasm module (null until ready) */
  wasm: null,
  /** Schedules a simulation + redraw (as any input does). */
  refresh: () => schedule(),
};
window.lauekit = api;

api.ready = start();
// The promise is for callers to await; mark it handled so a failed start is reported once, in the page.
api.ready.catch(() => {});

// ---------------------------------------------------------------------------------------------------------------
// Start-up

async function start() {
  window.addEventListener('error', (e) => messages.setError('runtime', `Unexpected error: ${e.message}`));
  window.addEventListener('unhandledrejection', (e) => messages.setError('runtime', `Unexpected error: ${messageOf(e.reason)}`));
  messages.setStatus('loading the WebAssembly core…');
  try {
    wasm = await loadWasm();
    api.wasm = wasm;
  } catch (e) {
    const msg = `Could not load the lauekit WebAssembly package (${PKG_URL}): ${messageOf(e)}.\n`
      + 'Build it first (wasm-bindgen --target web output in pkg/ at the repository root) and serve the repository root.';
    messages.setError('boot', msg);
    messages.setStatus('not running');
    throw new Error(msg);
  }
  orientation = new OrientationPanel(wasm);
  detector = new DetectorPanel({
    wasm,
    messages,
    useDet: (ub, name, material) => {
      orientation.setBase(ub, name);
      let note = '';
      if (material) {
        if (crystal.has(material)) crystal.select(material);
        else note = ` Material “${material}” is not in the table: keeping the current crystal.`;
      }
      orientation.reset();
      return note;
    },
    changed: () => schedule(),
  });
  pattern = new PatternPanel(view, {
    wasm,
    messages,
    drag: (dx, dy, sx) => orientation.dragBy(dx, dy, sx),
    changed: () => schedule(),
    frame: () => detector.readLoose(),
  });

  let table = [];
  try {
    table = Array.from(wasm.materials());
  } catch (e) {
    messages.setError('boot', `Could not read the materials table: ${messageOf(e)}`);
  }
  crystal.fill(table);
  detector.applyPreset('MARCCD165');
  const initial = table.some((m) => m.name === DEFAULT_MATERIAL) ? DEFAULT_MATERIAL : (table[0]?.name ?? CUSTOM);
  crystal.select(initial);
  if (initial === CUSTOM) {
    crystal.setLattice([3.6149, 3.6149, 3.6149, 90, 90, 90]);
    $('symmetry', 'input').value = 'fcc';
  }

  wireEvents();
  update();
  return api;
}

// ---------------------------------------------------------------------------------------------------------------
// Simulation

/** Builds the `simulate` request from the panels, or returns the list of problems with the inputs. */
function buildRequest() {
  /** @type {string[]} */
  const problems = [];
  /** @type {Record<string, any>} */
  const request = {};
  crystal.read(request, problems);
  detector.read(request, problems);
  const euler = orientation.readEuler(problems);
  if (problems.length) return { problems };
  request.ub = orientation.currentUb(euler);
  return { request, problems };
}

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
  /** @type {{request?: Record<string, any>, problems: string[]}} */
  let built;
  try {
    built = buildRequest();
  } catch (e) {
    built = { problems: [messageOf(e)] };
  }
  if (built.problems.length) {
    messages.setError('input', built.problems.join('\n'));
    messages.clearError('simulate');
    showNothing('Fix the highlighted inputs');
    return;
  }
  messages.clearError('input');
  const request = built.request;
  $('ub-display').textContent = m3.format(request.ub);

  let result;
  try {
    result = wasm.simulate(request);
  } catch (e) {
    api.lastRequest = request;
    api.lastResult = null;
    messages.setError('simulate', `Simulation failed: ${messageOf(e)}`);
    showNothing('No pattern: see the message above');
    return;
  }
  messages.clearError('simulate');
  api.lastRequest = request;
  api.lastResult = result;
  const spots = Array.from(result.spots ?? []);
  const tSim = performance.now() - t0;

  pattern.show({ spots, calibration: request.calibration, emin: request.emin_kev, emax: request.emax_kev });
  const wasmMs = Number(result.elapsed_ms);
  // The result also says what was simulated (material, rule, Laue group) and may carry a note about the rule.
  const what = [result.material ?? request.material ?? 'custom lattice'];
  if (result.rule) what.push(`rule ${result.rule}`);
  if (result.laue_group) what.push(`Laue group ${result.laue_group}`);
  const wasmText = !Number.isFinite(wasmMs) ? '?' : wasmMs < 1 ? '< 1' : wasmMs.toFixed(wasmMs < 10 ? 1 : 0);
  messages.setStatus(`${spots.length} spots · simulate ${wasmText} ms in wasm`
    + ` · ${tSim.toFixed(1)} ms in all · ${what.join(', ')} · ${request.emin_kev}–${request.emax_kev} keV`
    + (result.note ? ` · note: ${result.note}` : ''));
}

/** @param {string} message */
function showNothing(message) {
  pattern.showNothing(message);
  messages.setStatus('0 spots');
}

// ---------------------------------------------------------------------------------------------------------------
// Events

function wireEvents() {
  // Selects and radios also fire `change`; `input` is enough for them, except for the file input (detector.js).
  $('controls').addEventListener('input', (e) => {
    const target = /** @type {HTMLInputElement} */ (e.target);
    const id = target.id;
    if (id === 'det-file' || target.name === 'view' || target.name === 'size') return;
    // Each panel takes the events of its own fields.
    crystal.onInput(id, target.value) || detector.onInput(id, target.value) || orientation.onInput(id);
    schedule();
  });
  detector.wire();
  $('reset').addEventListener('click', () => {
    orientation.reset();
    schedule();
  });
  pattern.wire();
}
