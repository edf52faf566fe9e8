// "Images & peaks" view: the image list, the image display (contrast, colour map) and the pixel readout.

import { percentile } from '../../lib/imageview.js';
import { $, api, fmt, messageOf, requestDraw, roundNice, rpc, showError, state, view, wasm } from './state.js';
import { removeImage, restoreContext, saveContext } from './files.js';
import { showPeaks } from './table.js';
import { updateButtons } from './main.js';

// ---------------------------------------------------------------------------------------------------------------
// Image list, display

export function currentImage() {
  return state.images[state.current] ?? null;
}

export function selectImage(index, force = false) {
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
export function requestPixels(img) {
  if (img.decoding) return;
  img.decoding = rpc.call('pixels', { id: img.id }).then((pixels) => {
    img.decoding = null;
    if (currentImage() !== img) return;
    img.pixels = pixels;
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

export function renderImageList() {
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

export function readDisplayForm() {
  const d = state.display;
  d.scale = $('disp-scale', 'select').value;
  d.colormap = $('disp-cmap', 'select').value;
  d.limits = $('disp-limits', 'select').value;
  d.plo = Number($('disp-plo', 'input').value);
  d.phi = Number($('disp-phi', 'input').value);
  d.lo = Number($('disp-lo', 'input').value);
  d.hi = Number($('disp-hi', 'input').value);
}

/** Computes the limits from the mode and re-renders the image. */
export function applyDisplay() {
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
    $('disp-lo', 'input').value = String(roundNice(d.lo));
    $('disp-hi', 'input').value = String(roundNice(d.hi));
  }
  const manual = d.limits === 'manual';
  $('disp-plo', 'input').disabled = d.limits !== 'percentile';
  $('disp-phi', 'input').disabled = d.limits !== 'percentile';
  $('disp-lo').title = manual ? 'lowest value shown (counts)' : 'lowest value shown (counts); typing one switches to manual limits';
  $('disp-hi').title = manual ? 'highest value shown (counts)' : 'highest value shown (counts); typing one switches to manual limits';
  if (img) view.setDisplay({ scale: d.scale, colormap: d.colormap, lo: d.lo, hi: d.hi });
  requestDraw();
}

export function showCalibration() {
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
// Pixel readout

export function updateReadout(ev) {
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
