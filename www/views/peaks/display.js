// "Images & peaks" view: the image display — the image shown on the canvas (its pixels asked of the worker again
// when they were released), contrast and colour map, zoom and pan, the pixel readout with 2θ, χ, the calibration
// line.

import { $ } from '../../lib/dom.js';
import { Panel, messageOf } from '../../lib/panel.js';
import { percentile } from '../../lib/imageview.js';
import { fmt, roundNice } from './state.js';

/**
 * @typedef {object} DisplayHooks
 * @property {(index: number, center: boolean) => void} selectPeak a click on the canvas selected peak `index` (-1: none)
 * @property {() => void} showPeaks the image's pixels came back: draw its peaks again
 */

export class DisplayPanel extends Panel {
  /**
   * @param {import('./state.js').PeaksContext} ctx
   * @param {DisplayHooks} hooks
   */
  constructor(ctx, hooks) {
    super();
    this.ctx = ctx;
    this.hooks = hooks;
  }

  /** Wires the display form, the zoom buttons and the canvas (pan, zoom, click, readout). */
  wire() {
    const { view } = this.ctx;
    const draw = () => this.ctx.requestDraw();
    new ResizeObserver(() => { view.layout(); draw(); }).observe($('image-box'));
    for (const id of ['disp-scale', 'disp-cmap', 'disp-limits', 'disp-plo', 'disp-phi']) {
      this.on(id, 'input', () => { this.readForm(); this.apply(); });
    }
    for (const id of ['disp-lo', 'disp-hi']) {
      // Typing a value switches to manual limits; moving the focus through the field (Tab) does not.
      this.on(id, 'input', () => {
        if ($('disp-limits', 'select').value !== 'manual') $('disp-limits', 'select').value = 'manual';
        this.readForm();
        this.apply();
      });
    }
    this.on('disp-fit', 'click', () => { view.fit(); draw(); });
    this.on('zoom-in', 'click', () => { view.zoomBy(1.5); draw(); });
    this.on('zoom-out', 'click', () => { view.zoomBy(1 / 1.5); draw(); });

    const canvas = view.canvas;
    /** @type {{x: number, y: number, moved: boolean} | null} */
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
          draw();
        }
      }
      this.updateReadout(e);
    });
    canvas.addEventListener('pointerup', (e) => {
      if (drag && !drag.moved) {
        const rect = canvas.getBoundingClientRect();
        this.hooks.selectPeak(view.peakAt(e.clientX - rect.left, e.clientY - rect.top), false);
      }
      drag = null;
      canvas.classList.remove('dragging');
    });
    canvas.addEventListener('pointercancel', () => { drag = null; canvas.classList.remove('dragging'); });
    canvas.addEventListener('pointerleave', () => { if (!drag) this.updateReadout(null); });
    canvas.addEventListener('wheel', (e) => {
      e.preventDefault();
      const rect = canvas.getBoundingClientRect();
      const dy = e.deltaMode === 1 ? e.deltaY * 16 : e.deltaY;
      view.zoomAt(e.clientX - rect.left, e.clientY - rect.top, Math.exp(-dy * 0.0015));
      draw();
      this.updateReadout(e);
    }, { passive: false });
    view.layout();
    draw();
  }

  /**
   * Shows image `img` (null: none): its pixels (asked of the worker again when released), info line, limits and
   * calibration line.
   * @param {import('./state.js').ImageEntry | null} img
   */
  showImage(img) {
    const { view } = this.ctx;
    $('image-empty').hidden = Boolean(img);
    if (!img) {
      view.setImage(null);
      $('image-info').textContent = '';
      $('mask-legend').hidden = true;
      return;
    }
    // Everything of the image shows at once; its pixels, when they were released, come back from the worker.
    if (img.pixels) view.setImage({ rows: img.info.rows, cols: img.info.cols, pixels: img.pixels });
    else this.requestPixels(img);
    const i = img.info;
    const parts = [`${i.cols} × ${i.rows} px`, i.dtype];
    if (i.format) parts.push(i.format);
    if (i.detector) parts.push(i.detector);
    if (i.pixel_size_mm) parts.push(`${i.pixel_size_mm} mm/px`);
    if (i.masked_pixels) parts.push(`${i.masked_pixels} masked`);
    // The legend of the masked colour (module gaps, dead pixels, a mask file's pixels: never in a peak or a fit).
    $('mask-legend').hidden = !i.masked_pixels;
    $('mask-count').textContent = i.masked_pixels ? `masked (${i.masked_pixels} px)` : '';
    $('mask-legend').title = i.masked_pixels
      ? `${i.masked_pixels} pixels masked${i.metadata?.mask_file ? ` (with ${i.metadata.mask_file})` : ''}: `
        + 'they never seed a peak nor enter a fit'
      : '';
    parts.push(`values ${fmt(img.stats.min)} … ${fmt(img.stats.max)}`);
    $('image-info').textContent = parts.join(' · ');
    this.apply();
    this.showCalibration();
  }

  /**
   * Asks the worker for an image's pixels again, then draws them (if the image is still the one shown).
   * @param {import('./state.js').ImageEntry} img
   */
  requestPixels(img) {
    if (img.decoding) return;
    const { view } = this.ctx;
    img.decoding = this.ctx.rpc.call('pixels', { id: img.id }).then((pixels) => {
      img.decoding = null;
      if (this.ctx.current() !== img) return;
      img.pixels = pixels;
      const selected = view.selected;
      view.setImage({ rows: img.info.rows, cols: img.info.cols, pixels: img.pixels });
      this.apply();
      this.hooks.showPeaks();
      if (selected >= 0) view.selected = selected;
      this.ctx.requestDraw();
    }, (e) => {
      img.decoding = null;
      this.ctx.messages.showError(`Could not decode ${img.name} again: ${messageOf(e)}`, true);
    });
  }

  /** The display form into the view state. */
  readForm() {
    const d = this.ctx.state.display;
    d.scale = $('disp-scale', 'select').value;
    d.colormap = $('disp-cmap', 'select').value;
    d.limits = $('disp-limits', 'select').value;
    d.plo = Number($('disp-plo', 'input').value);
    d.phi = Number($('disp-phi', 'input').value);
    d.lo = Number($('disp-lo', 'input').value);
    d.hi = Number($('disp-hi', 'input').value);
  }

  /** Computes the limits from the mode and re-renders the image. */
  apply() {
    const img = this.ctx.current();
    const d = this.ctx.state.display;
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
    if (img) this.ctx.view.setDisplay({ scale: d.scale, colormap: d.colormap, lo: d.lo, hi: d.hi });
    this.ctx.requestDraw();
  }

  /** The calibration line (the shown context's calibration, and whether its frame fits the image). */
  showCalibration() {
    const el = $('calib-info');
    const c = this.ctx.state.calibration;
    if (!c) {
      el.innerHTML = 'No calibration: drop a <code>.det</code> to read 2θ, χ and save <code>.cor</code>.';
      return;
    }
    const k = c.calibration;
    let text = `Calibration ${c.name}: dd ${k.distance_mm} mm, xcen ${k.xcen_px}, ycen ${k.ycen_px}, `
      + `xbet ${k.xbet_deg}°, xgam ${k.xgam_deg}°, pixel ${k.pixel_size_mm} mm`;
    const img = this.ctx.current();
    if (img && (img.info.rows !== k.rows || img.info.cols !== k.cols)) {
      text += ` — made for a ${k.cols} × ${k.rows} frame, this image is ${img.info.cols} × ${img.info.rows}`;
    }
    el.textContent = text;
  }

  /**
   * The pixel readout under the pointer (null: none): x, y (LaueTools' convention), value, 2θ, χ.
   * @param {MouseEvent | null} ev
   */
  updateReadout(ev) {
    const { api, view, state } = this.ctx;
    const img = this.ctx.current();
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
        [tth, chi] = this.ctx.wasm.pixel_to_angles(state.calibration.calibration, x, y);
      } catch {
        // An unusable calibration was refused when loaded; nothing to show here.
      }
    }
    api.readout = { x, y, value, tth, chi };
    // Masked pixels come from the worker as NaN (see peaks-worker.js `shownPixels`).
    const shown = Number.isNaN(value) && img.info.masked_pixels ? 'masked' : fmt(value);
    let text = `x ${x}  y ${y}  value ${shown}`;
    if (tth != null) text += `  2θ ${tth.toFixed(3)}°  χ ${chi.toFixed(3)}°`;
    el.textContent = text;
  }
}
