// The pattern canvas: the detector → canvas transform, drawing, and hit testing.
//
// Canvas coordinates are CSS pixels of the canvas element, origin at its top-left corner; the backing store is scaled
// by devicePixelRatio so drawing stays sharp. Two views:
//  - "pixels": detector frame as in the image, X (column) to the right, Y (row) down, origin top-left;
//  - "angles": χ horizontal (increasing to the right), 2θ vertical (increasing upwards), same scale on both axes.

import { energyColor, niceTicks, formatTick } from './colors.js';

const PLOT_BG = '#0e1320';
const FRAME_FILL = '#161e31';
const FRAME_LINE = '#9aa6bf';
const AXIS_INK = '#aeb8cc';
const GRID = 'rgba(170, 184, 210, 0.13)';
const FONT = '11px system-ui, "DejaVu Sans", sans-serif';
const MARGIN = { left: 54, right: 16, top: 30, bottom: 34 };

export class PatternView {
  constructor(canvas) {
    this.canvas = canvas;
    this.ctx = canvas.getContext('2d');
    this.cssW = 0;
    this.cssH = 0;
    this.mode = 'pixels';
    this.frame = { rows: 2048, cols: 2048 };
    this.angleBox = null; // {chiMin, chiMax, tthMin, tthMax, outline: [[tth, chi], ...]}
    this.scale = 1;
    this.ox = 0;
    this.oy = 0;
  }

  /** Sets what is shown; call before draw(). */
  configure({ mode, rows, cols, angleBox }) {
    this.mode = mode;
    this.frame = { rows, cols };
    this.angleBox = angleBox;
    this.layout();
  }

  /** Matches the backing store to the element's size and recomputes the transform. */
  layout() {
    const width = Math.max(200, Math.round(this.canvas.clientWidth || 600));
    const maxH = Math.max(320, Math.round(window.innerHeight - 190));
    const [dataW, dataH] = this.dataExtent();
    const plotW = width - MARGIN.left - MARGIN.right;
    const wanted = MARGIN.top + MARGIN.bottom + (plotW * dataH) / dataW;
    const height = Math.round(Math.min(maxH, Math.max(240, wanted)));
    if (height !== this.cssH) this.canvas.style.height = `${height}px`;
    const dpr = window.devicePixelRatio || 1;
    if (this.canvas.width !== Math.round(width * dpr) || this.canvas.height !== Math.round(height * dpr)) {
      this.canvas.width = Math.round(width * dpr);
      this.canvas.height = Math.round(height * dpr);
    }
    this.cssW = width;
    this.cssH = height;
    this.dpr = dpr;
    const plotH = height - MARGIN.top - MARGIN.bottom;
    this.scale = Math.min(plotW / dataW, plotH / dataH);
    this.ox = MARGIN.left + (plotW - this.scale * dataW) / 2;
    this.oy = MARGIN.top + (plotH - this.scale * dataH) / 2;
  }

  dataExtent() {
    if (this.mode === 'angles' && this.angleBox) {
      const b = this.angleBox;
      return [Math.max(1e-6, b.chiMax - b.chiMin), Math.max(1e-6, b.tthMax - b.tthMin)];
    }
    return [Math.max(1, this.frame.cols), Math.max(1, this.frame.rows)];
  }

  /** Detector pixel (x = column, y = row) → canvas [cx, cy], pixels view. */
  pixelToCanvas(x, y) {
    return [this.ox + x * this.scale, this.oy + y * this.scale];
  }

  /** (2θ, χ) in degrees → canvas [cx, cy], angles view. */
  anglesToCanvas(tth, chi) {
    const b = this.angleBox;
    return [this.ox + (chi - b.chiMin) * this.scale, this.oy + (b.tthMax - tth) * this.scale];
  }

  /** Canvas position of a simulated spot in the current view. */
  spotToCanvas(s) {
    return this.mode === 'angles' && this.angleBox
      ? this.anglesToCanvas(s.twotheta_deg, s.chi_deg)
      : this.pixelToCanvas(s.x_px, s.y_px);
  }

  /**
   * Draws the background, axes and spots. Returns the drawn spots as
   * {h, k, l, cx, cy, r, index} (index into `spots`), in the order of `spots`.
   */
  draw(spots, { emin, emax, sizeBy, highlight = -1, calibration = null, message = null }) {
    const ctx = this.ctx;
    ctx.setTransform(this.dpr, 0, 0, this.dpr, 0, 0);
    ctx.fillStyle = PLOT_BG;
    ctx.fillRect(0, 0, this.cssW, this.cssH);
    if (this.mode === 'angles' && this.angleBox) this.drawAngleAxes();
    else this.drawPixelAxes(calibration);

    const drawn = [];
    const k = Math.min(1.5, Math.max(0.7, Math.min(this.cssW, this.cssH) / 620));
    for (let i = 0; i < spots.length; i++) {
      const s = spots[i];
      const [cx, cy] = this.spotToCanvas(s);
      const r = spotRadius(s, sizeBy, emin, emax) * k;
      drawn.push({ h: s.h, k: s.k, l: s.l, cx, cy, r, index: i });
    }
    // Large discs first so that small ones on top of them stay visible.
    const order = drawn.map((_, i) => i).sort((a, b) => drawn[b].r - drawn[a].r);
    ctx.lineWidth = 1;
    ctx.strokeStyle = 'rgba(0, 0, 0, 0.55)';
    for (const i of order) {
      const d = drawn[i];
      ctx.beginPath();
      ctx.arc(d.cx, d.cy, d.r, 0, 2 * Math.PI);
      ctx.fillStyle = energyColor(spots[i].energy_kev, emin, emax);
      ctx.fill();
      ctx.stroke();
    }
    if (highlight >= 0 && highlight < drawn.length) {
      const d = drawn[highlight];
      ctx.beginPath();
      ctx.arc(d.cx, d.cy, d.r + 3, 0, 2 * Math.PI);
      ctx.strokeStyle = '#ffffff';
      ctx.lineWidth = 2;
      ctx.stroke();
    }
    if (message) {
      ctx.fillStyle = 'rgba(14, 19, 32, 0.75)';
      ctx.fillRect(0, this.cssH / 2 - 22, this.cssW, 44);
      ctx.fillStyle = '#ffb4b4';
      ctx.font = '14px system-ui, "DejaVu Sans", sans-serif';
      ctx.textAlign = 'center';
      ctx.textBaseline = 'middle';
      ctx.fillText(message, this.cssW / 2, this.cssH / 2);
    }
    return drawn;
  }

  drawPixelAxes(calibration) {
    const ctx = this.ctx;
    const { rows, cols } = this.frame;
    const [x0, y0] = this.pixelToCanvas(0, 0);
    const [x1, y1] = this.pixelToCanvas(cols, rows);
    ctx.fillStyle = FRAME_FILL;
    ctx.fillRect(x0, y0, x1 - x0, y1 - y0);

    ctx.font = FONT;
    ctx.fillStyle = AXIS_INK;
    ctx.strokeStyle = GRID;
    ctx.lineWidth = 1;
    ctx.textBaseline = 'bottom';
    ctx.textAlign = 'center';
    this.canvas.ticks = { x: niceTicks(0, cols, 8).map((t) => `${formatTick(t)} px`),
      y: niceTicks(0, rows, 8).map((t) => `${formatTick(t)} px`) };
    for (const t of niceTicks(0, cols, 8)) {
      const [cx] = this.pixelToCanvas(t, 0);
      line(ctx, cx, y0, cx, y1);
      ctx.fillText(formatTick(t), cx, y0 - 4);
    }
    ctx.textBaseline = 'middle';
    ctx.textAlign = 'right';
    for (const t of niceTicks(0, rows, 8)) {
      const [, cy] = this.pixelToCanvas(0, t);
      line(ctx, x0, cy, x1, cy);
      ctx.fillText(formatTick(t), x0 - 5, cy);
    }
    ctx.textAlign = 'left';
    ctx.textBaseline = 'top';
    ctx.fillText('X (column) →', x0, y1 + 6);
    ctx.save();
    ctx.translate(12, y0);
    ctx.rotate(Math.PI / 2);
    ctx.fillText('Y (row) →', 0, 0);
    ctx.restore();

    ctx.strokeStyle = FRAME_LINE;
    ctx.lineWidth = 1.5;
    ctx.strokeRect(x0, y0, x1 - x0, y1 - y0);

    if (calibration && Number.isFinite(calibration.xcen_px) && Number.isFinite(calibration.ycen_px)) {
      // Foot of the detector normal: 2θ = 90°, χ = 0 when the detector is not tilted.
      const [cx, cy] = this.pixelToCanvas(calibration.xcen_px, calibration.ycen_px);
      ctx.strokeStyle = 'rgba(255, 255, 255, 0.5)';
      ctx.lineWidth = 1;
      line(ctx, cx - 7, cy, cx + 7, cy);
      line(ctx, cx, cy - 7, cx, cy + 7);
    }
  }

  drawAngleAxes() {
    const ctx = this.ctx;
    const b = this.angleBox;
    const [x0, y0] = this.anglesToCanvas(b.tthMax, b.chiMin);
    const [x1, y1] = this.anglesToCanvas(b.tthMin, b.chiMax);

    if (b.outline && b.outline.length > 2) {
      ctx.beginPath();
      b.outline.forEach(([tth, chi], i) => {
        const [cx, cy] = this.anglesToCanvas(tth, chi);
        if (i === 0) ctx.moveTo(cx, cy);
        else ctx.lineTo(cx, cy);
      });
      ctx.closePath();
      ctx.fillStyle = FRAME_FILL;
      ctx.fill();
      ctx.strokeStyle = FRAME_LINE;
      ctx.lineWidth = 1.5;
      ctx.stroke();
    }

    ctx.font = FONT;
    ctx.fillStyle = AXIS_INK;
    ctx.strokeStyle = GRID;
    ctx.lineWidth = 1;
    ctx.textAlign = 'center';
    ctx.textBaseline = 'top';
    this.canvas.ticks = { x: niceTicks(b.chiMin, b.chiMax, 8).map((t) => `${formatTick(t)}°`),
      y: niceTicks(b.tthMin, b.tthMax, 8).map((t) => `${formatTick(t)}°`) };
    for (const t of niceTicks(b.chiMin, b.chiMax, 8)) {
      const [cx] = this.anglesToCanvas(b.tthMin, t);
      line(ctx, cx, y0, cx, y1);
      ctx.fillText(`${formatTick(t)}°`, cx, y1 + 4);
    }
    ctx.textAlign = 'right';
    ctx.textBaseline = 'middle';
    for (const t of niceTicks(b.tthMin, b.tthMax, 8)) {
      const [, cy] = this.anglesToCanvas(t, b.chiMin);
      line(ctx, x0, cy, x1, cy);
      ctx.fillText(`${formatTick(t)}°`, x0 - 5, cy);
    }
    ctx.textAlign = 'right';
    ctx.textBaseline = 'top';
    ctx.fillText('χ →', x1, y1 + 18);
    ctx.textAlign = 'left';
    ctx.textBaseline = 'bottom';
    ctx.fillText('2θ ↑', 6, y0 - 8);
  }

  /** Index (into the drawn list) of the spot nearest to (cx, cy) within maxDist canvas px, or -1. */
  static nearest(drawn, cx, cy, maxDist = 8) {
    let best = -1;
    let bestD2 = maxDist * maxDist;
    for (let i = 0; i < drawn.length; i++) {
      const dx = drawn[i].cx - cx;
      const dy = drawn[i].cy - cy;
      const d2 = dx * dx + dy * dy;
      if (d2 <= bestD2) {
        bestD2 = d2;
        best = i;
      }
    }
    return best;
  }
}

/** Disc radius (canvas px before scaling): low energy → large disc, or √multiplicity. */
export function spotRadius(s, sizeBy, emin, emax) {
  if (sizeBy === 'multiplicity') {
    const m = Number.isFinite(s.multiplicity) && s.multiplicity > 0 ? s.multiplicity : 1;
    return 1.3 + 0.85 * Math.sqrt(m);
  }
  const span = emax - emin;
  const t = span > 0 ? Math.min(1, Math.max(0, (emax - s.energy_kev) / span)) : 0.5;
  return 2.2 + 5.3 * t;
}

function line(ctx, xa, ya, xb, yb) {
  ctx.beginPath();
  ctx.moveTo(xa, ya);
  ctx.lineTo(xb, yb);
  ctx.stroke();
}
