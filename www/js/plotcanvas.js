// A cleared 2D context on a canvas sized to its CSS box at the device pixel ratio, drawing in CSS px (for the
// small plots of the page: the training curve, the spot-quality histograms).

/** @returns {{g: CanvasRenderingContext2D, w: number, h: number}} */
export function clearedPlot(canvas, fallbackW, fallbackH) {
  const dpr = window.devicePixelRatio || 1;
  const w = canvas.clientWidth || fallbackW;
  const h = canvas.clientHeight || fallbackH;
  canvas.width = Math.round(w * dpr);
  canvas.height = Math.round(h * dpr);
  const g = canvas.getContext('2d');
  g.setTransform(dpr, 0, 0, dpr, 0, 0);
  g.clearRect(0, 0, w, h);
  return { g, w, h };
}
