// "Images & peaks" view: opening files (drop, file input, the example, a scan point) and each image's own context.

import { imageStats } from '../../lib/imageview.js';
import { $, EXAMPLE, api, clearError, messageOf, nextImageId, nn, rpc, setSearchStatus, showError, state, wasm, worker } from './state.js';
import { currentImage, renderImageList, selectImage, showCalibration, updateReadout } from './display.js';
import { runSearch, setParams } from './search.js';
import { buildMaterialPicker, setIndexStatus } from './indexing.js';
import { renderTable } from './table.js';
import { updateButtons } from './main.js';

// ---------------------------------------------------------------------------------------------------------------
// Files

export function extension(name) {
  const i = name.lastIndexOf('.');
  return i < 0 ? '' : name.slice(i + 1).toLowerCase();
}

export async function openFiles(files) {
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
export async function openImage(name, source, frame = 0) {
  const id = nextImageId();
  setSearchStatus(`reading ${name}…`);
  const reply = source instanceof Blob
    ? await rpc.call('open', { id, name, file: source, frame })
    : await rpc.call('open', { id, name, bytes: source, frame }, { transfer: [source] });
  const pixels = reply.pixels;
  const entry = { id, name, info: reply.info, pixels, stats: imageStats(pixels), search: null, index: null };
  entry.context = { ...captureContext(), searchStatus: '', indexStatus: '' };
  state.images.push(entry);
  api.opened += 1;
  renderImageList();
  setSearchStatus(`${name}: ${entry.info.cols} × ${entry.info.rows}; press “Find peaks”.`);
  return state.images.length - 1;
}

export function loadCalibration(text, name) {
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

export function loadParams(text, name) {
  const p = wasm.parse_peak_params(text, name);
  setParams(p, `Settings from ${name}.`);
}

export async function loadExample() {
  await api.ready;
  clearError();
  setSearchStatus('downloading the example…');
  const get = async (url) => {
    const r = await fetch(new URL(`../../${url}`, import.meta.url));
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
    $('index-grains', 'input').value = String(nbgrainstofind);
    $('index-share', 'input').checked = Boolean(share);
    if (ix.band) {
      $('index-emin', 'input').value = String(ix.band.emin_kev);
      $('index-emax', 'input').value = String(ix.band.emax_kev);
    }
    $('index-positions', 'select').value = 'fit';
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

export function removeImage(index) {
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
export function captureContext() {
  const form = {};
  for (const el of /** @type {NodeListOf<HTMLInputElement>} */ (document.querySelectorAll('#peak-params [id^="ps-"], #peak-params-more [id^="ps-"]'))) {
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
export function saveContext() {
  const img = state.images.find((i) => i.id === state.shownId);
  if (img) img.context = captureContext();
}

/**
 * Before settings that belong to images about to be opened are applied (a drop with images, the example, a scan
 * point): stores the shown image's context and detaches the form from it. Returns what `reattachContext` needs if
 * no image gets opened after all.
 */
export function detachContext(detach = true) {
  if (!detach) return null;
  saveContext();
  const shown = state.images.find((i) => i.id === state.shownId) ?? null;
  state.shownId = null;
  return shown;
}

/** No new image was opened: the form goes back to the image it showed. */
export function reattachContext(shown) {
  if (!shown || state.shownId !== null) return;
  restoreContext(shown.context);
  state.shownId = shown.id;
}

/** Shows an image's context in the form. */
export function restoreContext(ctx) {
  state.calibration = ctx.calibration;
  for (const [id, v] of Object.entries(ctx.form)) {
    const el = $(id, 'input');
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
