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
