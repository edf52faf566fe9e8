// The Simulator's pattern panel: the detector canvas (lib/view.js PatternView) in pixels or (2θ, χ), the disc-size
// choice, the energy colour bar, the tooltip of the spot under the pointer, and dragging on the pattern to turn
// the crystal.

import { $ } from '../../lib/dom.js';
import { Panel, messageOf } from '../../lib/panel.js';
import { PatternView } from '../../lib/view.js';
import { drawColorbar } from '../../lib/colors.js';

const HOVER_RADIUS_PX = 8;

/**
 * What a frame shows: the simulated spots (the library's objects), the calibration and the energy band.
 * @typedef {{spots: any[], calibration: Record<string, number>, emin: number, emax: number}} Shown
 */

/**
 * @typedef {object} PatternHooks
 * @property {import('../../lib/wasm.js').Wasm} wasm
 * @property {import('./fields.js').SimMessages} messages
 * @property {(dx: number, dy: number, sx: number) => void} drag a drag of (dx, dy) CSS px; sx −1 in the angles view
 * @property {() => void} changed the simulation must be redone (after a drag)
 * @property {() => Record<string, number>} frame the calibration fields (rows, cols: the frame of an empty pattern)
 */

export class PatternPanel extends Panel {
  /**
   * @param {PatternView} view
   * @param {PatternHooks} hooks
   */
  constructor(view, hooks) {
    super();
    this.view = view;
    this.hooks = hooks;
    /** 'pixels' or 'angles' */
    this.mode = 'pixels';
    /** 'energy' or 'multiplicity' */
    this.sizeBy = 'energy';
    /** index (into `drawn`) of the spot under the pointer, or −1 */
    this.hover = -1;
    /** @type {Shown | null} what the last successful frame showed, for redraws without a new simulation */
    this.shown = null;
    /** @type {ReturnType<PatternView['draw']>} the spots drawn, in the order of the result */
    this.drawn = [];
    /** frames drawn so far (tests wait for it to grow) */
    this.frames = 0;
    this.angleBoxCache = { key: '', box: null };
  }

  /** Wires the view and size radios, the canvas (drag, hover) and window resizes. */
  wire() {
    for (const radio of document.querySelectorAll('input[name=view], input[name=size]')) {
      radio.addEventListener('change', () => {
        this.mode = /** @type {HTMLInputElement} */ (document.querySelector('input[name=view]:checked')).value;
        this.sizeBy = /** @type {HTMLInputElement} */ (document.querySelector('input[name=size]:checked')).value;
        this.hover = -1;
        this.hideTooltip();
        this.redraw();
      });
    }
    this.wireCanvas();
    window.addEventListener('resize', () => {
      this.hover = -1;
      this.hideTooltip();
      this.redraw();
    });
  }

  /**
   * Shows a new frame (the spots of a simulation).
   * @param {Shown} shown
   */
  show(shown) {
    this.shown = shown;
    this.hover = -1;
    this.hideTooltip();
    this.redraw();
  }

  /** Draws `shown` in the current view (no new simulation). */
  redraw() {
    const shown = this.shown;
    if (!shown) return;
    const angleBox = this.mode === 'angles' ? this.angleBoxFor(shown.calibration) : null;
    this.view.configure({
      mode: angleBox ? 'angles' : 'pixels',
      rows: shown.calibration.rows,
      cols: shown.calibration.cols,
      angleBox,
    });
    this.drawn = this.view.draw(shown.spots, {
      emin: shown.emin,
      emax: shown.emax,
      sizeBy: this.sizeBy,
      highlight: this.hover,
      calibration: shown.calibration,
    });
    drawColorbar($('colorbar'), shown.emin, shown.emax);
    $('size-legend').textContent = this.sizeBy === 'multiplicity'
      ? 'Disc area ∝ number of symmetry-equivalent (h k l) in the family.'
      : 'Larger disc = lower energy; colour = energy.';
    this.frames += 1;
  }

  /**
   * An empty frame with `message` over it (bad inputs, a failed simulation).
   * @param {string} message
   */
  showNothing(message) {
    this.drawn = [];
    this.shown = null;
    this.hideTooltip();
    const c = this.hooks.frame();
    const rows = Number.isInteger(c.rows) && c.rows > 0 ? c.rows : 2048;
    const cols = Number.isInteger(c.cols) && c.cols > 0 ? c.cols : 2048;
    this.view.configure({ mode: 'pixels', rows, cols, angleBox: null });
    this.view.draw([], { emin: 0, emax: 1, sizeBy: this.sizeBy, message });
    this.frames += 1;
  }

  /**
   * χ and 2θ ranges covered by the detector frame, and its outline, from the wasm pixel → angles map.
   * @param {Record<string, number>} calibration
   */
  angleBoxFor(calibration) {
    const key = JSON.stringify(calibration);
    if (this.angleBoxCache.key === key) return this.angleBoxCache.box;
    let box = null;
    try {
      const { rows, cols } = calibration;
      const n = 48;
      const border = [];
      for (let i = 0; i < n; i++) border.push([(cols * i) / n, 0]);
      for (let i = 0; i < n; i++) border.push([cols, (rows * i) / n]);
      for (let i = 0; i < n; i++) border.push([cols - (cols * i) / n, rows]);
      for (let i = 0; i < n; i++) border.push([0, rows - (rows * i) / n]);
      const outline = border.map(([x, y]) => Array.from(this.hooks.wasm.pixel_to_angles(calibration, x, y), Number));
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
      this.hooks.messages.setError('simulate', `Could not map the detector frame to angles: ${messageOf(e)}`);
    }
    this.angleBoxCache = { key, box };
    return box;
  }

  /**
   * Detector pixel (x = column, y = row) → canvas [cx, cy] (CSS px of the canvas) in the current view.
   * @param {number} x
   * @param {number} y
   * @returns {number[]}
   */
  toCanvas(x, y) {
    const view = this.view;
    if (view.mode === 'angles' && view.angleBox) {
      const [tth, chi] = Array.from(this.hooks.wasm.pixel_to_angles(this.shown.calibration, x, y), Number);
      return view.anglesToCanvas(tth, chi);
    }
    return view.pixelToCanvas(x, y);
  }

  wireCanvas() {
    const canvas = $('pattern');
    /** @type {{x: number, y: number, id: number} | null} */
    let dragging = null;

    canvas.addEventListener('pointerdown', (e) => {
      if (e.button !== 0) return;
      dragging = { x: e.offsetX, y: e.offsetY, id: e.pointerId };
      canvas.setPointerCapture(e.pointerId);
      canvas.classList.add('dragging');
      this.hideTooltip();
    });
    /** @param {PointerEvent} e */
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
        if (dx !== 0 || dy !== 0) {
          // Signs chosen so that spots near the detector centre follow the pointer; χ runs the other way in the
          // angles view.
          const sx = this.view.mode === 'angles' ? -1 : 1;
          try {
            this.hooks.drag(dx, dy, sx);
          } catch (err) {
            this.hooks.messages.setError('simulate', `Rotation failed: ${messageOf(err)}`);
          }
          this.hooks.changed();
        }
        return;
      }
      this.onHover(e.offsetX, e.offsetY);
    });
    canvas.addEventListener('pointerleave', () => {
      if (dragging) return;
      if (this.hover !== -1) {
        this.hover = -1;
        this.redraw();
      }
      this.hideTooltip();
    });
  }

  /**
   * The spot under canvas CSS px (x, y): ringed, and its tooltip.
   * @param {number} x
   * @param {number} y
   */
  onHover(x, y) {
    const drawn = this.drawn;
    const i = PatternView.nearest(drawn, x, y, HOVER_RADIUS_PX);
    if (i !== this.hover) {
      this.hover = i;
      this.redraw();
    }
    if (i < 0 || !this.shown) {
      this.hideTooltip();
      return;
    }
    // Harmonics (n·h n·k n·l) land on the same pixel: list every spot drawn at this place, fundamental first.
    const here = drawn
      .filter((d) => Math.hypot(d.cx - drawn[i].cx, d.cy - drawn[i].cy) < 0.75)
      .map((d) => this.shown.spots[d.index])
      .sort((a, b) => (a.harmonic_order ?? 1) - (b.harmonic_order ?? 1) || a.energy_kev - b.energy_kev);
    const s = here[0];
    const tip = $('tooltip');
    /** @type {(v: unknown, d: number) => string} */
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

  hideTooltip() {
    $('tooltip').hidden = true;
  }
}
