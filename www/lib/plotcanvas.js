// A cleared 2D context on a canvas sized to its CSS box at the device pixel ratio, drawing in CSS px (for the
// small plots of the page: the training curve, the spot-quality histograms, the calibration residuals, the
// cluster plots), and the tick labels of their axes: `tick(axis, label, x, y)` draws a label and records it in
// `canvas.ticks[axis]` ('x', 'y', 'y2' …), so what a plot shows on its axes can be read back (tests, issue 16).

import { formatTick, niceTicks } from './colors.js';

export { formatTick, niceTicks };

/**
 * @returns {{g: CanvasRenderingContext2D, w: number, h: number,
 *   tick: (axis: string, label: string, x: number, y: number) => void}}
 */
export function clearedPlot(canvas, fallbackW, fallbackH) {
  const dpr = window.devicePixelRatio || 1;
  const w = canvas.clientWidth || fallbackW;
  const h = canvas.clientHeight || fallbackH;
  canvas.width = Math.round(w * dpr);
  canvas.height = Math.round(h * dpr);
  const g = canvas.getContext('2d');
  g.setTransform(dpr, 0, 0, dpr, 0, 0);
  g.clearRect(0, 0, w, h);
  canvas.ticks = {};
  const tick = (axis, label, x, y) => recordTick(canvas, axis, label, g, x, y);
  return { g, w, h, tick };
}

/** Draws `label` at (x, y) with the context's current style (when `g` is given) and records it as a tick label. */
export function recordTick(canvas, axis, label, g = null, x = 0, y = 0) {
  if (g) g.fillText(label, x, y);
  if (!canvas.ticks) canvas.ticks = {};
  (canvas.ticks[axis] ??= []).push(label);
}

/** Round whole-number steps (1, 2, 5, 10, 20, 50 …) at least `raw` apart. */
function integerStep(raw) {
  let mag = 1;
  for (;;) {
    for (const m of [1, 2, 5]) if (m * mag >= raw) return m * mag;
    mag *= 10;
  }
}

/** Margins (CSS px) a grid map leaves for its axes (`gridAxes`): with a step, room for the µm labels too. */
export function gridMargins(stepUm) {
  return stepUm ? { l: 30, t: 18, r: 48, b: 32 } : { l: 30, t: 18, r: 8, b: 8 };
}

/**
 * The axes of a map of an nx × ny grid of points drawn in `box` ({x, y, cw, ch}: top-left corner and cell size,
 * CSS px): ix (columns) along the top and iy (rows) along the left at round steps, at the cells' centres, and when
 * the grid has a step (µm) the position along the bottom (x, µm) and the right (y, µm), the first point at 0.
 * Recorded in `canvas.ticks` as x (ix), y (iy), x2 (x µm), y2 (y µm); the axis titles in `canvas.axisTitles`.
 * @param {HTMLCanvasElement & {ticks?: Record<string, string[]>, axisTitles?: Record<string, string>}} canvas
 * @param {CanvasRenderingContext2D} g
 * @param {{x: number, y: number, cw: number, ch: number}} box
 * @param {number} nx
 * @param {number} ny
 * @param {number[] | null | undefined} stepUm
 */
export function gridAxes(canvas, g, box, nx, ny, stepUm) {
  canvas.ticks = {};
  canvas.axisTitles = { x: 'ix', y: 'iy' };
  const bw = box.cw * nx;
  const bh = box.ch * ny;
  g.save();
  g.font = '11px system-ui, "DejaVu Sans", sans-serif';
  g.fillStyle = '#1d2330';
  g.strokeStyle = '#8a93a6';
  g.lineWidth = 1;
  const mark = (x0, y0, x1, y1) => {
    g.beginPath();
    g.moveTo(x0, y0);
    g.lineTo(x1, y1);
    g.stroke();
  };
  // ix along the top, iy along the left.
  const sx = integerStep(Math.max(1, 34 / Math.max(1e-9, box.cw)));
  g.textAlign = 'center';
  g.textBaseline = 'bottom';
  for (let ix = 0; ix < nx; ix += sx) {
    const x = box.x + (ix + 0.5) * box.cw;
    mark(x, box.y - 3, x, box.y - 0.5);
    recordTick(canvas, 'x', String(ix), g, x, box.y - 4);
  }
  const sy = integerStep(Math.max(1, 16 / Math.max(1e-9, box.ch)));
  g.textAlign = 'right';
  g.textBaseline = 'middle';
  for (let iy = 0; iy < ny; iy += sy) {
    const y = box.y + (iy + 0.5) * box.ch;
    mark(box.x - 3, y, box.x - 0.5, y);
    recordTick(canvas, 'y', String(iy), g, box.x - 5, y);
  }
  g.textAlign = 'right';
  g.textBaseline = 'bottom';
  g.font = '10px system-ui, "DejaVu Sans", sans-serif';
  g.fillText('iy\\ix', box.x - 3, box.y - 4);
  g.font = '11px system-ui, "DejaVu Sans", sans-serif';
  if (stepUm && stepUm[0] > 0 && stepUm[1] > 0) {
    const [ux, uy] = stepUm;
    canvas.axisTitles.x2 = 'x (µm)';
    canvas.axisTitles.y2 = 'y (µm)';
    // Position (µm) of the points' centres: ix·step x, iy·step y.
    const xMax = (nx - 1) * ux;
    const yMax = (ny - 1) * uy;
    g.textAlign = 'center';
    g.textBaseline = 'top';
    const xTicks = xMax > 0 ? niceTicks(0, xMax, Math.max(1, Math.min(nx - 1, Math.floor(bw / 48)))) : [0];
    for (const v of xTicks) {
      const x = box.x + (v / ux + 0.5) * box.cw;
      mark(x, box.y + bh + 0.5, x, box.y + bh + 3);
      recordTick(canvas, 'x2', formatTick(v), g, x, box.y + bh + 4);
    }
    g.fillText('x (µm)', box.x + bw / 2, box.y + bh + 18);
    g.textAlign = 'left';
    g.textBaseline = 'middle';
    const yTicks = yMax > 0 ? niceTicks(0, yMax, Math.max(1, Math.min(ny - 1, Math.floor(bh / 22)))) : [0];
    for (const v of yTicks) {
      const y = box.y + (v / uy + 0.5) * box.ch;
      mark(box.x + bw + 0.5, y, box.x + bw + 3, y);
      recordTick(canvas, 'y2', formatTick(v), g, box.x + bw + 5, y);
    }
    g.translate(box.x + bw + 40, box.y + bh / 2);
    g.rotate(Math.PI / 2);
    g.textAlign = 'center';
    g.textBaseline = 'middle';
    g.fillText('y (µm)', 0, 0);
  }
  g.restore();
}
