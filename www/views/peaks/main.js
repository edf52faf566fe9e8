// "Images & peaks" view: open detector images (drop, file input or the bundled example), look at them (contrast,
// colour map, zoom, pan, pixel readout with 2θ, χ from a calibration), run LaueTools' peak search in a Web Worker
// with a progress bar, see the peaks over the image and in a sortable table, and save them as .dat / .cor; index
// the peaks (LaueTools' classical look-up-table method, in the same worker) with materials from the library's
// table, see the grains over the image (hkl labels, simulated pattern) and in a table, and save .fit / JSON.
// Without a .det, calibrate the detector on a reference crystal's peaks (calibrate.js, in the same worker).
//
// The worker (peaks-worker.js) owns the decoded images and runs the search; this thread keeps a Float32Array copy
// of the pixels for drawing and uses its own wasm instance (lib/wasm.js) for the small calls: defaults, settings
// files, .det files, pixel → (2θ, χ), .dat/.cor/.fit text. For tests the view exposes `window.lauekitPeaks`.
//
// This is the view's composition root: start-up (the wasm instance, the worker, the panels: LaueNN, spot quality,
// calibration), the events of its controls; the parts are state.js, files.js (opening images, per-image context),
// display.js (image list, display, pixel readout), search.js (peak-search settings and search), indexing.js,
// table.js (peak overlay, table, saving).

import { loadWasm, spawnWorker } from '../../lib/wasm.js';
import { WorkerRpc } from '../../lib/rpc.js';
import { LaueNN } from './lauenn.js';
import { SpotQuality } from './quality.js';
import { Calibrate } from './calibrate.js';
import { $, api, calib, messageOf, nn, quality, requestDraw, rpc, setCalib, setNn, setQuality, setRpc, setSearchStatus, setWasm, setWorker, showError, state, view, wasm, worker } from './state.js';
import { loadCalibration, loadExample, openFiles } from './files.js';
import { applyDisplay, currentImage, readDisplayForm, updateReadout } from './display.js';
import { analyseIndex, buildParamForm, failRunning, onPeaks, runAnalyse, runSearch, setParams } from './search.js';
import { buildMaterialPicker, failIndexing, indexBlocker, onIndexed, runIndex, saveFit, saveIndexJson, setIndexStatus, showGrains } from './indexing.js';
import { renderTable, save, saveCor, saveDat, selectPeak, showPeaks } from './table.js';

// ---------------------------------------------------------------------------------------------------------------
// Start-up

export async function start() {
  wireEvents();
  new ResizeObserver(() => { view.layout(); requestDraw(); }).observe($('image-box'));
  view.layout();
  requestDraw();
  setSearchStatus('loading the WebAssembly core…');
  try {
    setWasm(await loadWasm());
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
  setNn(new LaueNN({
    $,
    worker,
    calibration: () => state.calibration?.calibration ?? null,
    picked: () => state.materials.map((m) => m.name).filter((n) => state.picked.has(n)),
    band: () => ({ emin_kev: Number($('index-emin', 'input').value), emax_kev: Number($('index-emax', 'input').value) }),
    changed: () => updateButtons(),
    showError: (m) => showError(m, true),
  }));
  api.nn = nn;
  setQuality(new SpotQuality({
    $,
    worker,
    image: () => currentImage(),
    changed: () => { showPeaks(); updateButtons(); },
    showError: (m) => showError(m, true),
    onDone: () => analyseIndex(),
  }));
  api.quality = quality;
  quality.start();
  setCalib(new Calibrate({
    $,
    worker,
    wasm,
    image: () => currentImage(),
    materials: () => state.materials,
    loaded: () => state.calibration,
    findPeaks: () => runSearch(),
    useCalibration: (text, name) => loadCalibration(text, name),
    save: (name, text) => save(name, text),
  }));
  api.calib = calib;
  calib.start();
  // The list of ready models arrives in the background; indexing with the table needs none of it.
  nn.start().catch((e) => showError(`LaueNN panel: ${messageOf(e)}`, true));
  setSearchStatus('Open an image, then “Find peaks”.');
  updateButtons();
  return api;
}

export function startWorker() {
  return new Promise((resolve, reject) => {
    try {
      setWorker(spawnWorker(new URL('./peaks-worker.js', import.meta.url)));
      setRpc(new WorkerRpc(worker));
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
        rpc.failAll(new Error(m.message));
        reject(new Error(m.message));
      } else onWorkerMessage(m);
    };
    worker.onerror = (ev) => {
      ev.preventDefault();
      const msg = `The peak-search worker failed: ${ev.message || 'could not load views/peaks/peaks-worker.js'}`;
      showError(msg);
      failRunning(msg);
      rpc.failAll(new Error(msg));
      reject(new Error(msg));
    };
  });
}

export function onWorkerMessage(m) {
  if (typeof m.rpc === 'number') return; // answered through `rpc`
  if (nn && nn.onWorkerMessage(m)) return;
  if (quality && quality.onWorkerMessage(m)) return;
  if (calib && calib.onWorkerMessage(m)) return;
  if (m.type === 'progress') {
    if (!state.running || m.job !== state.running.job) return;
    api.progressLog.push({ stage: m.stage, done: m.done, total: m.total });
    const bar = $('peak-progress', 'progress');
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
    if (state.indexing && m.job === state.indexing.job) $('index-progress', 'progress').value = 0.5;
  } else if (m.type === 'indexed') {
    onIndexed(m);
  } else if (m.type === 'error') {
    if (state.indexing && m.job === state.indexing.job) {
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
// Events

export function wireEvents() {
  $('image-files').addEventListener('change', (e) => {
    const input = /** @type {HTMLInputElement} */ (e.target);
    const files = Array.from(input.files || []);
    input.value = '';
    openFiles(files);
  });
  $('load-example-image').addEventListener('click', () => loadExample());
  const panel = $('view-peaks');
  panel.addEventListener('dragover', (e) => {
    e.preventDefault();
    $('drop-zone').classList.add('over');
  });
  panel.addEventListener('dragleave', (e) => {
    if (!panel.contains(/** @type {Node | null} */ (e.relatedTarget))) $('drop-zone').classList.remove('over');
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
      if ($('disp-limits', 'select').value !== 'manual') $('disp-limits', 'select').value = 'manual';
      readDisplayForm();
      applyDisplay();
    });
  }
  $('disp-fit').addEventListener('click', () => { view.fit(); requestDraw(); });
  $('zoom-in').addEventListener('click', () => { view.zoomBy(1.5); requestDraw(); });
  $('zoom-out').addEventListener('click', () => { view.zoomBy(1 / 1.5); requestDraw(); });

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
  $('grain-table', 'table').tBodies[0].addEventListener('click', (e) => {
    const b = /** @type {HTMLElement | null} */ (/** @type {Element} */ (e.target).closest('button.save-fit'));
    if (b) saveFit(Number(b.dataset.grain));
  });
  $('download-cor').addEventListener('click', saveCor);

  $('peak-table', 'table').tHead.addEventListener('keydown', (e) => {
    if ((e.key === 'Enter' || e.key === ' ') && /** @type {Element} */ (e.target).closest('th')) {
      e.preventDefault();
      const key = /** @type {Element} */ (e.target).closest('th').dataset.key;
      state.sort = { key, dir: state.sort.key === key ? -state.sort.dir : 1 };
      renderTable();
      /** @type {HTMLElement | null} */ ($('peak-table', 'table').tHead.querySelector(`th[data-key="${key}"]`))?.focus();
    }
  });
  $('peak-table', 'table').tHead.addEventListener('click', (e) => {
    const th = /** @type {Element} */ (e.target).closest('th');
    if (!th) return;
    const key = th.dataset.key;
    state.sort = { key, dir: state.sort.key === key ? -state.sort.dir : 1 };
    renderTable();
  });
  $('peak-table', 'table').tBodies[0].addEventListener('click', (e) => {
    const tr = /** @type {Element} */ (e.target).closest('tr');
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

export function updateButtons() {
  const img = currentImage();
  $('run-search', 'button').disabled = !img || !worker || Boolean(state.running);
  $('run-analyse', 'button').disabled = $('run-search', 'button').disabled;
  $('download-dat', 'button').disabled = !img?.search;
  $('download-cor', 'button').disabled = !img?.search || !state.calibration;
  $('download-cor').title = state.calibration ? 'LaueTools .cor (2θ, χ, x, y, I)' : 'needs a calibration (.det)';
  const blocker = indexBlocker();
  $('run-index', 'button').disabled = Boolean(blocker) || !worker || Boolean(state.indexing);
  $('run-index').title = blocker;
  $('download-index-json', 'button').disabled = !img?.index;
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

// Last, once every declaration above is initialised.
api.ready = start();
api.ready.catch(() => {});
