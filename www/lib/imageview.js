// Detector image on a canvas: contrast (linear / log, percentile or manual limits), colour maps, zoom (wheel, a
// two-finger pinch, buttons) and pan (drag, one finger), peak overlay with hkl labels placed so that they do not
// overlap, and hit testing.
//
// Coordinates:
//  - image coordinates (u, v): continuous, u along columns, v along rows, (0, 0) the top-left corner of the first
//    pixel, so pixel (row r, col c) covers [c, c+1) × [r, r+1);
//  - LaueTools pixel positions (x, y): x = column, y = row, first pixel centre at (1, 1): x = u + 0.5, y = v + 0.5;
//  - canvas coordinates: CSS pixels of the canvas element, origin top-left: cx = u·scale + tx, cy = v·scale + ty.

/** Colour maps: name → function t ∈ [0, 1] → [r, g, b]. */
const VIRIDIS_STOPS = [
  [68, 1, 84], [72, 40, 120], [62, 74, 137], [49, 104, 142], [38, 130, 142],
  [31, 158, 137], [53, 183, 121], [110, 206, 88], [181, 222, 43], [253, 231, 37],
];
function viridis(t) {
  const x = t * (VIRIDIS_STOPS.length - 1);
  const i = Math.min(VIRIDIS_STOPS.length - 2, Math.floor(x));
  const f = x - i;
  const a = VIRIDIS_STOPS[i];
  const b = VIRIDIS_STOPS[i + 1];
  return [0, 1, 2].map((k) => Math.round(a[k] + f * (b[k] - a[k])));
}
export const COLORMAPS = {
  grey: (t) => { const g = Math.round(255 * t); return [g, g, g]; },
  'inverted grey': (t) => { const g = Math.round(255 * (1 - t)); return [g, g, g]; },
  viridis,
};
/** Overlay colours that stand out on each map. */
const OVERLAY = {
  grey: { peak: '#ff5a36', selected: '#ffe01a' },
  'inverted grey': { peak: '#e0201b', selected: '#1a7bff' },
  viridis: { peak: '#ff3df2', selected: '#ffffff' },
};
/** Colours of indexed grains (grain k takes GRAIN_COLORS[k % n]); drawn over a dark outline on every map. */
export const GRAIN_COLORS = ['#00d5ff', '#6dff3a', '#ff3ddb', '#b38bff', '#ffb020', '#ffffff'];
const LUT_SIZE = 1024;
const HIST_BINS = 65536;

/**
 * Statistics of an image for the contrast: finite min/max and a fine histogram to read percentiles from
 * (exact for integer data up to 65536 levels).
 */
export function imageStats(pixels) {
  let min = Infinity;
  let max = -Infinity;
  let integer = true;
  for (let i = 0; i < pixels.length; i++) {
    const v = pixels[i];
    if (!Number.isFinite(v)) continue;
    if (v < min) min = v;
    if (v > max) max = v;
    if (integer && v !== Math.round(v)) integer = false;
  }
  if (!(min <= max)) return { min: 0, max: 0, hist: null, lo0: 0, width: 1, count: 0 };
  // Integer data: one bin per value when the range allows; otherwise HIST_BINS equal bins.
  const span = max - min;
  const width = integer && span < HIST_BINS ? 1 : (span > 0 ? span / (HIST_BINS - 1) : 1);
  const nb = Math.min(HIST_BINS, Math.floor(span / width) + 1);
  const hist = new Uint32Array(nb);
  let count = 0;
  for (let i = 0; i < pixels.length; i++) {
    const v = pixels[i];
    if (!Number.isFinite(v)) continue;
    hist[Math.min(nb - 1, Math.floor((v - min) / width))] += 1;
    count += 1;
  }
  return { min, max, hist, lo0: min, width, count };
}

/** Value below which `pct` % of the finite pixels lie (bin resolution). */
export function percentile(stats, pct) {
  if (!stats.hist || stats.count === 0) return stats.min;
  const target = Math.min(stats.count - 1, Math.max(0, Math.floor((pct / 100) * stats.count)));
  let acc = 0;
  for (let i = 0; i < stats.hist.length; i++) {
    acc += stats.hist[i];
    if (acc > target) return stats.lo0 + i * stats.width;
  }
  return stats.max;
}

export class ImageView {
  constructor(canvas) {
    this.canvas = canvas;
    this.ctx = canvas.getContext('2d');
    this.image = null; // {rows, cols, pixels}
    this.bitmap = document.createElement('canvas'); // the image rendered at 1 canvas px per pixel
    this.display = { scale: 'linear', colormap: 'grey', lo: 0, hi: 1 };
    this.peaks = [];
    this.selected = -1;
    this.scale = 1;
    this.tx = 0;
    this.ty = 0;
    this.cssW = 0;
    this.cssH = 0;
    this.renders = 0; // bitmap renders (contrast changes)
    this.draws = 0; // canvas draws
    this.drawnPeaks = [];
    // Indexed grains: [{color, spots: [{x, y, hkl}], simulated: [{x, y, hkl, matched}]}] (LaueTools x, y).
    this.grains = [];
    this.grainOptions = { simulated: true, labels: true };
    this.drawnGrainSpots = 0; // indexed-spot circles drawn in the last draw
    this.drawnSimulated = { matched: 0, missed: 0 }; // simulated-spot markers drawn in the last draw
    // hkl labels drawn in the last draw, as boxes {x, y, w, h} in canvas CSS px (pairwise disjoint), and how many
    // labels of spots in view found no free place and were left out.
    this.drawnLabels = [];
    this.labelsHidden = 0;
    this.pinches = 0; // two-pointer gestures started
    this.onchange = null; // called after each draw
    this.layout();
    this.attachPinch();
  }

  /**
   * Two-pointer pinch from Pointer Events: the image scales about the pointers' midpoint and follows it. One pointer
   * (mouse drag, one-finger pan, click on a peak) is left to the page's own handlers; while two pointers are down
   * their events stop here (capture listeners, which run before the page's), and the page's drag of the first
   * pointer is ended by a pointercancel when the second lands, so a pinch neither pans twice nor selects a peak.
   */
  attachPinch() {
    const c = this.canvas;
    /** @type {Map<number, number[]>} active pointers → canvas position */
    const pointers = new Map();
    this.pointers = pointers;
    /** @type {{mid: number[], dist: number} | null} */
    let pinch = null;
    let cancelling = false;
    const pos = (e) => {
      const r = c.getBoundingClientRect();
      return [e.clientX - r.left, e.clientY - r.top];
    };
    const pair = () => {
      const [a, b] = pointers.values();
      return { mid: [(a[0] + b[0]) / 2, (a[1] + b[1]) / 2], dist: Math.hypot(a[0] - b[0], a[1] - b[1]) };
    };
    const opts = { capture: true };
    c.addEventListener('pointerdown', (e) => {
      if (e.isPrimary) { pointers.clear(); pinch = null; } // a primary pointer: no other is down (stale entries go)
      pointers.set(e.pointerId, pos(e));
      if (pointers.size < 2) return;
      e.stopImmediatePropagation();
      try { c.setPointerCapture(e.pointerId); } catch { /* synthetic events have no capture */ }
      if (pinch) return; // a third pointer joins: the first two keep leading
      pinch = pair();
      this.pinches += 1;
      const first = pointers.keys().next().value;
      cancelling = true;
      c.dispatchEvent(new PointerEvent('pointercancel', { pointerId: first, pointerType: e.pointerType, isPrimary: true }));
      cancelling = false;
    }, opts);
    c.addEventListener('pointermove', (e) => {
      if (!pointers.has(e.pointerId)) return;
      pointers.set(e.pointerId, pos(e));
      if (!pinch) return;
      e.stopImmediatePropagation();
      const now = pair();
      if (pinch.dist > 0 && now.dist > 0) this.zoomAt(pinch.mid[0], pinch.mid[1], now.dist / pinch.dist);
      this.panBy(now.mid[0] - pinch.mid[0], now.mid[1] - pinch.mid[1]);
      pinch = now;
      this.scheduleDraw();
    }, opts);
    const end = (e) => {
      if (cancelling || !pointers.delete(e.pointerId)) return;
      if (!pinch) return;
      e.stopImmediatePropagation();
      pinch = pointers.size >= 2 ? pair() : null; // the finger left behind does not pan until lifted
    };
    c.addEventListener('pointerup', end, opts);
    c.addEventListener('pointercancel', end, opts);
  }

  /** Draws at the next animation frame (once however often asked). */
  scheduleDraw() {
    if (this.drawQueued) return;
    this.drawQueued = true;
    requestAnimationFrame(() => {
      this.drawQueued = false;
      this.draw();
    });
  }

  /** Matches the backing store to the element's size (keeps the image point at the centre in place). */
  layout() {
    const w = Math.max(200, Math.round(this.canvas.clientWidth || 600));
    const h = Math.max(240, Math.round(this.canvas.clientHeight || w));
    const dpr = window.devicePixelRatio || 1;
    if (this.canvas.width !== Math.round(w * dpr) || this.canvas.height !== Math.round(h * dpr)) {
      this.canvas.width = Math.round(w * dpr);
      this.canvas.height = Math.round(h * dpr);
    }
    if (this.cssW && this.image) {
      // Keep the same image point at the centre.
      const [u, v] = this.toImage(this.cssW / 2, this.cssH / 2);
      this.cssW = w;
      this.cssH = h;
      this.tx = w / 2 - u * this.scale;
      this.ty = h / 2 - v * this.scale;
    } else {
      this.cssW = w;
      this.cssH = h;
    }
    this.dpr = dpr;
  }

  /** Shows a new image (fits it in the view unless `keepView` and the size is the same). */
  setImage(image, keepView = false) {
    const same = this.image && image && this.image.rows === image.rows && this.image.cols === image.cols;
    this.image = image;
    this.peaks = [];
    this.selected = -1;
    if (!image) {
      this.draw();
      return;
    }
    this.bitmap.width = image.cols;
    this.bitmap.height = image.rows;
    if (!(keepView && same)) this.fit();
  }

  /** Whole image in view, centred. */
  fit() {
    if (!this.image) return;
    const { rows, cols } = this.image;
    this.scale = Math.min(this.cssW / cols, this.cssH / rows);
    this.tx = (this.cssW - cols * this.scale) / 2;
    this.ty = (this.cssH - rows * this.scale) / 2;
  }

  /** Contrast and colour map: {scale: 'linear'|'log', colormap, lo, hi}; re-renders the bitmap. */
  setDisplay(display) {
    this.display = { ...this.display, ...display };
    this.render();
  }

  /** Renders the pixels through the contrast and the colour map into the 1:1 bitmap. */
  render() {
    const img = this.image;
    if (!img) return;
    const { scale, colormap } = this.display;
    let { lo, hi } = this.display;
    if (!(hi > lo)) hi = lo + 1;
    const map = COLORMAPS[colormap] || COLORMAPS.grey;
    const lut = new Uint32Array(LUT_SIZE);
    for (let i = 0; i < LUT_SIZE; i++) {
      const [r, g, b] = map(i / (LUT_SIZE - 1));
      lut[i] = (255 << 24) | (b << 16) | (g << 8) | r; // little-endian RGBA
    }
    // Masked pixels (sent as NaN by the peaks worker) and non-finite values: dark red (the legend's .mask-swatch).
    const nanColor = (255 << 24) | (40 << 16) | (0 << 8) | 140;
    const ctx = this.bitmap.getContext('2d');
    const data = ctx.createImageData(img.cols, img.rows);
    const out = new Uint32Array(data.data.buffer);
    const px = img.pixels;
    const n = px.length;
    const top = LUT_SIZE - 1;
    if (scale === 'log') {
      const k = top / Math.log1p(hi - lo);
      for (let i = 0; i < n; i++) {
        const v = px[i];
        if (v !== v) { out[i] = nanColor; continue; }
        const d = v - lo;
        const j = d <= 0 ? 0 : Math.log1p(d) * k;
        out[i] = lut[j >= top ? top : j | 0];
      }
    } else {
      const k = top / (hi - lo);
      for (let i = 0; i < n; i++) {
        const v = px[i];
        if (v !== v) { out[i] = nanColor; continue; }
        const j = (v - lo) * k;
        out[i] = lut[j <= 0 ? 0 : (j >= top ? top : j | 0)];
      }
    }
    ctx.putImageData(data, 0, 0);
    this.renders += 1;
  }

  setPeaks(peaks) {
    this.peaks = peaks || [];
    this.selected = -1;
    this.peakStyles = null;
  }

  /** Per-peak circle styles ({color, dashed}), in peak order (spot quality); null: the colour map's default. */
  setPeakStyles(styles) {
    this.peakStyles = styles && styles.length === this.peaks.length ? styles : null;
  }

  /** Indexed grains to draw over the peaks, and what to show of them ({simulated, labels}). */
  setGrains(grains, options = {}) {
    this.grains = grains || [];
    this.grainOptions = { ...this.grainOptions, ...options };
  }

  /** Image coordinates → canvas. */
  toCanvas(u, v) {
    return [u * this.scale + this.tx, v * this.scale + this.ty];
  }

  /** Canvas → image coordinates. */
  toImage(cx, cy) {
    return [(cx - this.tx) / this.scale, (cy - this.ty) / this.scale];
  }

  /** LaueTools position (x, y) → canvas. */
  pixelToCanvas(x, y) {
    return this.toCanvas(x - 0.5, y - 0.5);
  }

  /** Zooms by `factor` keeping canvas point (cx, cy) fixed. */
  zoomAt(cx, cy, factor) {
    if (!this.image) return;
    const fitScale = Math.min(this.cssW / this.image.cols, this.cssH / this.image.rows);
    const s = Math.min(64, Math.max(fitScale / 4, this.scale * factor));
    const [u, v] = this.toImage(cx, cy);
    this.scale = s;
    this.tx = cx - u * s;
    this.ty = cy - v * s;
  }

  /** Zooms by `factor` about the centre of the canvas (the zoom buttons). */
  zoomBy(factor) {
    this.zoomAt(this.cssW / 2, this.cssH / 2, factor);
  }

  panBy(dx, dy) {
    this.tx += dx;
    this.ty += dy;
  }

  /** Puts LaueTools position (x, y) at the centre, zooming in to at least `minScale`. */
  centerOn(x, y, minScale = 0) {
    this.scale = Math.max(this.scale, minScale);
    const [u, v] = [x - 0.5, y - 0.5];
    this.tx = this.cssW / 2 - u * this.scale;
    this.ty = this.cssH / 2 - v * this.scale;
  }

  /** Index of the drawn peak nearest to canvas (cx, cy) within `radius` CSS px, or -1. */
  peakAt(cx, cy, radius = 8) {
    let best = -1;
    let bestD = Infinity;
    for (const d of this.drawnPeaks) {
      const dist = Math.hypot(d.cx - cx, d.cy - cy);
      if (dist <= Math.max(radius, d.r) && dist < bestD) {
        best = d.index;
        bestD = dist;
      }
    }
    return best;
  }

  draw() {
    const ctx = this.ctx;
    const dpr = this.dpr || 1;
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    ctx.fillStyle = '#0e1320';
    ctx.fillRect(0, 0, this.cssW, this.cssH);
    this.drawnPeaks = [];
    if (this.image) {
      ctx.imageSmoothingEnabled = this.scale < 1;
      ctx.imageSmoothingQuality = 'high';
      ctx.drawImage(this.bitmap, this.tx, this.ty, this.image.cols * this.scale, this.image.rows * this.scale);
      const colors = OVERLAY[this.display.colormap] || OVERLAY.grey;
      ctx.lineWidth = 1.5;
      ctx.strokeStyle = colors.peak;
      // One path per style (all peaks share one without quality styles).
      const paths = new Map();
      this.peaks.forEach((p, index) => {
        const [cx, cy] = this.pixelToCanvas(p.x, p.y);
        const sigma = Math.max(Math.abs(p.sigma_major || 0), Math.abs(p.sigma_minor || 0));
        const r = Math.max(6, 3 * sigma * this.scale);
        this.drawnPeaks.push({ index, cx, cy, r });
        if (index === this.selected) return;
        if (cx < -r || cy < -r || cx > this.cssW + r || cy > this.cssH + r) return;
        const st = this.peakStyles ? this.peakStyles[index] : null;
        const key = st ? `${st.color}|${st.dashed ? 1 : 0}` : '';
        if (!paths.has(key)) paths.set(key, { st, path: new Path2D() });
        const path = paths.get(key).path;
        path.moveTo(cx + r, cy);
        path.arc(cx, cy, r, 0, 2 * Math.PI);
      });
      this.drawnStyled = 0;
      for (const { st, path } of paths.values()) {
        ctx.strokeStyle = st ? st.color : colors.peak;
        ctx.setLineDash(st && st.dashed ? [4, 3] : []);
        ctx.stroke(path);
        if (st) this.drawnStyled += 1;
      }
      ctx.setLineDash([]);
      this.drawGrains(ctx);
      const sel = this.drawnPeaks[this.selected];
      if (sel) {
        ctx.strokeStyle = colors.selected;
        ctx.lineWidth = 2.5;
        ctx.beginPath();
        ctx.arc(sel.cx, sel.cy, sel.r + 2, 0, 2 * Math.PI);
        const a = sel.r + 6;
        const b = sel.r + 14;
        ctx.moveTo(sel.cx - b, sel.cy); ctx.lineTo(sel.cx - a, sel.cy);
        ctx.moveTo(sel.cx + a, sel.cy); ctx.lineTo(sel.cx + b, sel.cy);
        ctx.moveTo(sel.cx, sel.cy - b); ctx.lineTo(sel.cx, sel.cy - a);
        ctx.moveTo(sel.cx, sel.cy + a); ctx.lineTo(sel.cx, sel.cy + b);
        ctx.stroke();
      }
    }
    this.drawAxes(ctx);
    this.draws += 1;
    if (this.onchange) this.onchange();
  }

  /**
   * Axis values over the image: LaueTools pixel positions (x = column along the top, y = row along the left,
   * first pixel centre (1, 1)) at round steps for the visible part, ~6 per side; recorded in `this.ticks`.
   */
  drawAxes(ctx) {
    this.ticks = { x: [], y: [] };
    if (!this.image || !(this.scale > 0)) return;
    const niceStep = (span) => {
      const raw = span / 6;
      const p = 10 ** Math.floor(Math.log10(raw));
      return [1, 2, 5, 10].map((m) => m * p).find((s) => s >= raw) ?? 10 * p;
    };
    const [xa] = this.toImage(0, 0);
    const [xb] = this.toImage(this.cssW, 0);
    const [, ya] = this.toImage(0, 0);
    const [, yb] = this.toImage(0, this.cssH);
    const lo = (a) => Math.max(1, a + 0.5);
    const xLo = lo(xa);
    const xHi = Math.min(this.image.cols, xb + 0.5);
    const yLo = lo(ya);
    const yHi = Math.min(this.image.rows, yb + 0.5);
    ctx.save();
    ctx.font = '11px system-ui, "DejaVu Sans", sans-serif';
    ctx.lineWidth = 3;
    ctx.lineJoin = 'round';
    ctx.strokeStyle = 'rgba(0, 0, 0, 0.8)';
    ctx.fillStyle = '#e8ecf4';
    const label = (t, x, y) => { ctx.strokeText(t, x, y); ctx.fillText(t, x, y); };
    if (xHi > xLo) {
      const step = niceStep(xHi - xLo);
      ctx.textAlign = 'center';
      ctx.textBaseline = 'top';
      for (let v = Math.ceil(xLo / step) * step; v <= xHi; v += step) {
        const [cx] = this.pixelToCanvas(v, 1);
        if (cx < 24 || cx > this.cssW - 12) continue;
        label(String(v), cx, 2);
        this.ticks.x.push(v);
      }
      ctx.textAlign = 'right';
      label('x (px) →', this.cssW - 4, 16);
    }
    if (yHi > yLo) {
      const step = niceStep(yHi - yLo);
      ctx.textAlign = 'left';
      ctx.textBaseline = 'middle';
      for (let v = Math.ceil(yLo / step) * step; v <= yHi; v += step) {
        const [, cy] = this.pixelToCanvas(1, v);
        if (cy < 28 || cy > this.cssH - 20) continue;
        label(String(v), 3, cy);
        this.ticks.y.push(v);
      }
      ctx.textBaseline = 'bottom';
      label('y (px) ↓', 3, this.cssH - 3);
    }
    ctx.restore();
  }

  /**
   * Indexed grains: each indexed spot circled in the grain's colour with its hkl; the grain's simulated pattern
   * as small markers — a cross where a simulated spot found its peak, an open square where it found none.
   * Labels separate the indices by an en space so that "6 10 8" does not read as "6108".
   */
  drawGrains(ctx) {
    this.drawnGrainSpots = 0;
    this.drawnSimulated = { matched: 0, missed: 0 };
    this.drawnLabels = [];
    this.labelsHidden = 0;
    if (!this.grains.length) return;
    const W = this.cssW;
    const H = this.cssH;
    const inside = (cx, cy, m) => cx >= -m && cy >= -m && cx <= W + m && cy <= H + m;
    const outlined = (color, width, path) => {
      ctx.lineWidth = width + 2;
      ctx.strokeStyle = 'rgba(0, 0, 0, 0.75)';
      ctx.stroke(path);
      ctx.lineWidth = width;
      ctx.strokeStyle = color;
      ctx.stroke(path);
    };
    const { simulated, labels } = this.grainOptions;
    const intensityOf = labels ? this.spotIntensity() : null;
    /** @type {{text: string, cx: number, cy: number, r: number, color: string, prio: number, order: number}[]} */
    const wanted = [];
    for (const g of this.grains) {
      if (simulated) {
        const s = 3.5; // half-size of the cross
        const q = 4.5; // half-size of the square
        const hits = new Path2D();
        const misses = new Path2D();
        for (const p of g.simulated || []) {
          const [cx, cy] = this.pixelToCanvas(p.x, p.y);
          if (!inside(cx, cy, 8)) continue;
          if (p.matched) {
            hits.moveTo(cx - s, cy); hits.lineTo(cx + s, cy);
            hits.moveTo(cx, cy - s); hits.lineTo(cx, cy + s);
            this.drawnSimulated.matched += 1;
          } else {
            misses.rect(cx - q, cy - q, 2 * q, 2 * q);
            this.drawnSimulated.missed += 1;
          }
        }
        outlined(g.color, 1.2, hits);
        outlined(g.color, 1.5, misses);
      }
      const rings = new Path2D();
      for (const p of g.spots || []) {
        const [cx, cy] = this.pixelToCanvas(p.x, p.y);
        const r = Math.max(9, 3 * (p.sigma || 0) * this.scale + 3);
        if (!inside(cx, cy, r + 40)) continue;
        rings.moveTo(cx + r, cy);
        rings.arc(cx, cy, r, 0, 2 * Math.PI);
        this.drawnGrainSpots += 1;
        // Labels only for spots whose centre is in view (a label of a spot out of view would float alone).
        if (labels && inside(cx, cy, 0)) {
          wanted.push({ text: p.hkl.join('\u2002'), cx, cy, r, color: g.color, prio: intensityOf(p), order: wanted.length });
        }
      }
      outlined(g.color, 2, rings);
    }
    if (wanted.length) this.placeLabels(ctx, wanted);
  }

  /**
   * A function spot → intensity for the labels' priority: the spot's own `intensity`, else that of the peak found
   * within 2 px of it (indexed spots sit on peaks), else 0.
   */
  spotIntensity() {
    const cells = new Map();
    for (const p of this.peaks) {
      const key = `${Math.round(p.x)},${Math.round(p.y)}`;
      if (!cells.has(key)) cells.set(key, []);
      cells.get(key).push(p);
    }
    return (s) => {
      if (Number.isFinite(s.intensity)) return s.intensity;
      const i = Math.round(s.x);
      const j = Math.round(s.y);
      let best = null;
      let bestD = 2;
      for (let di = -2; di <= 2; di++) {
        for (let dj = -2; dj <= 2; dj++) {
          for (const p of cells.get(`${i + di},${j + dj}`) || []) {
            const d = Math.hypot(p.x - s.x, p.y - s.y);
            if (d <= bestD) { best = p; bestD = d; }
          }
        }
      }
      const v = best ? (best.intensity ?? best.peak_amplitude ?? 0) : 0;
      return Number.isFinite(v) ? v : 0;
    };
  }

  /**
   * hkl labels without overlap: the most intense spots first (then grain and spot order), each label in the first
   * free place of: upper right of its ring (the usual place), right, left, above, below, then the other three
   * diagonals; inside the canvas, off the axis values and overlaid controls, and clear of every label already
   * placed. A label with no free place is left out
   * and counted in `labelsHidden`; the boxes drawn are in `drawnLabels`.
   */
  placeLabels(ctx, wanted) {
    ctx.save();
    ctx.font = '600 11px system-ui, "DejaVu Sans", sans-serif';
    ctx.textBaseline = 'middle';
    ctx.textAlign = 'left';
    ctx.lineJoin = 'round';
    ctx.lineWidth = 3;
    ctx.strokeStyle = 'rgba(0, 0, 0, 0.85)';
    const h = 13; // box height: the 11-px text and its outline
    const pad = 1.5; // outline half-width on each side
    const placed = this.drawnLabels;
    const W = this.cssW;
    const H = this.cssH;
    // Kept clear: the axis values (top and left strips, the axis names) and the controls laid over the canvas
    // (elements of its box marked data-keep-clear, e.g. the zoom buttons).
    const keepOut = [{ x: 0, y: 0, w: W, h: 15 }, { x: 0, y: 0, w: 30, h: H }, { x: W - 56, y: 15, w: 56, h: 15 },
      { x: 0, y: H - 17, w: 58, h: 17 }];
    const parent = this.canvas.parentElement;
    if (parent) {
      const c = this.canvas.getBoundingClientRect();
      for (const el of parent.querySelectorAll('[data-keep-clear]')) {
        const r = el.getBoundingClientRect();
        if (r.width > 0 && r.height > 0) keepOut.push({ x: r.left - c.left, y: r.top - c.top, w: r.width, h: r.height });
      }
    }
    const clear = (b, list) => list.every((o) => b.x >= o.x + o.w || o.x >= b.x + b.w || b.y >= o.y + o.h || o.y >= b.y + b.h);
    const free = (b) => b.x >= 0 && b.y >= 0 && b.x + b.w <= W && b.y + b.h <= H && clear(b, keepOut) && clear(b, placed);
    wanted.sort((a, b) => b.prio - a.prio || a.order - b.order);
    for (const l of wanted) {
      const w = ctx.measureText(l.text).width + 2 * pad;
      const { cx, cy, r } = l;
      const d = r * 0.75;
      const candidates = [
        [cx + d + 1, cy - d - h], // upper right
        [cx + r + 2, cy - h / 2], // right
        [cx - r - 2 - w, cy - h / 2], // left
        [cx - w / 2, cy - r - 2 - h], // above
        [cx - w / 2, cy + r + 2], // below
        [cx - d - 1 - w, cy - d - h], // upper left
        [cx + d + 1, cy + d], // lower right
        [cx - d - 1 - w, cy + d], // lower left
      ];
      let box = null;
      for (const [x, y] of candidates) {
        const b = { x, y, w, h };
        if (free(b)) { box = b; break; }
      }
      if (!box) {
        this.labelsHidden += 1;
        continue;
      }
      placed.push(box);
      ctx.fillStyle = l.color;
      ctx.strokeText(l.text, box.x + pad, box.y + h / 2);
      ctx.fillText(l.text, box.x + pad, box.y + h / 2);
    }
    ctx.restore();
  }
}
