// Maps of a scan's grid of points (the Scan view's maps, the Cluster panel's label maps): the points' colours as
// nearest-neighbour blocks keeping the grid's aspect, the axes (lib/plotcanvas.js gridAxes), marks over cells
// (failed points crossed, delegates ringed, the hovered or keyboard cell framed), and the cell under the pointer.

import { gridAxes, gridMargins } from './plotcanvas.js';

/** Colours of cells without one (CSS hex): analysed but no value (e.g. nothing indexed), not analysed yet, failed. */
export const NO_VALUE = '#d5d9e2';
export const PENDING = '#f0f1f4';
export const FAILED = '#f4c7c3';

/**
 * A scan's grid: nx × ny points, x fastest, odd rows reversed in a snake scan; the step (µm) when known.
 * @typedef {{nx: number, ny: number, step_um?: number[] | null, snake?: boolean}} Grid
 */

/**
 * A map as the library's scan_maps / label_maps give it: one `rgb` per cell (row-major iy·nx + ix; [-1, -1, -1]
 * for none), `values` and `categories` for scalar and categorical maps.
 * @typedef {{name: string, title?: string, kind: string, nx: number, ny: number, rgb: number[][], values?: number[],
 *   categories?: string[], unit?: string, range?: number[]}} GridMap
 */

/**
 * (ix, iy) of the point acquired `index`-th (x fastest; odd rows reversed in a snake scan).
 * @param {Grid} grid
 * @param {number} index
 * @returns {[number, number]}
 */
export function gridPosition(grid, index) {
  const iy = Math.floor(index / grid.nx);
  let ix = index % grid.nx;
  if (grid.snake && iy % 2 === 1) ix = grid.nx - 1 - ix;
  return [ix, iy];
}

/**
 * Acquisition index of the point at cell (ix, iy): the inverse of `gridPosition`.
 * @param {Grid} grid
 * @param {number} ix
 * @param {number} iy
 */
export function pointIndex(grid, ix, iy) {
  const x = grid.snake && iy % 2 === 1 ? grid.nx - 1 - ix : ix;
  return iy * grid.nx + x;
}

/** @param {string} hex '#rrggbb' */
function rgbOf(hex) {
  return [1, 3, 5].map((i) => parseInt(hex.slice(i, i + 2), 16));
}

/**
 * @typedef {object} GridMapMarks
 * @property {Uint8Array | null} [cells] per cell: 0 not analysed yet, 1 analysed, 2 failed (crossed); null: every
 *   cell analysed
 * @property {number[][]} [rings] cells [ix, iy] ringed (black and white)
 * @property {number[] | null} [frame] the cell [ix, iy] framed (hover, keyboard cursor)
 */

/** Draws one grid map on a canvas, as blocks scaled by whole pixels (nearest neighbour), and hit-tests it. */
export class GridMapView {
  /**
   * @param {HTMLCanvasElement & {ticks?: Record<string, string[]>}} canvas
   * @param {number} fallbackH the canvas's CSS height before it is laid out
   */
  constructor(canvas, fallbackH) {
    this.canvas = canvas;
    this.fallbackH = fallbackH;
    /** @type {GridMap | null} */
    this.map = null;
    /** @type {{x: number, y: number, w: number, h: number, cw: number, ch: number} | null} map rectangle, cell size (CSS px) */
    this.box = null;
  }

  /** Matches the backing store to the element's CSS size. */
  layout() {
    const dpr = window.devicePixelRatio || 1;
    const w = this.canvas.clientWidth || 600;
    const h = this.canvas.clientHeight || this.fallbackH;
    if (this.canvas.width !== Math.round(w * dpr) || this.canvas.height !== Math.round(h * dpr)) {
      this.canvas.width = Math.round(w * dpr);
      this.canvas.height = Math.round(h * dpr);
    }
    return { w, h, dpr };
  }

  /**
   * Draws `map` (or clears the canvas for null) on grid `grid` with `marks`.
   * @param {GridMap | null} map
   * @param {Grid | null} grid
   * @param {GridMapMarks} [marks]
   */
  draw(map, grid, { cells = null, rings = [], frame = null } = {}) {
    this.map = map;
    const { w, h, dpr } = this.layout();
    const g = this.canvas.getContext('2d');
    g.setTransform(dpr, 0, 0, dpr, 0, 0);
    g.clearRect(0, 0, w, h);
    if (!map) {
      this.box = null;
      this.canvas.ticks = {};
      return;
    }
    // Cells keep the grid's aspect (step y / step x); whole CSS pixels when they are large enough.
    // Margins for the axes (ix, iy; x, y in µm when the grid has a step).
    const step = grid?.step_um ?? null;
    const [sx, sy] = step ?? [1, 1];
    const aspect = sy / sx;
    const mg = gridMargins(step);
    let cw = Math.max(0.5, Math.min((w - mg.l - mg.r) / map.nx, (h - mg.t - mg.b) / (map.ny * aspect)));
    if (cw >= 4) cw = Math.floor(cw);
    const ch = cw * aspect;
    const bw = cw * map.nx;
    const bh = ch * map.ny;
    const x0 = Math.round(mg.l + (w - mg.l - mg.r - bw) / 2);
    const y0 = Math.round(mg.t + (h - mg.t - mg.b - bh) / 2);
    this.box = { x: x0, y: y0, w: bw, h: bh, cw, ch };

    const img = new ImageData(map.nx, map.ny);
    const fill = [rgbOf(PENDING), rgbOf(NO_VALUE), rgbOf(FAILED)];
    map.rgb.forEach((c, k) => {
      const [r, gg, b] = c[0] >= 0 ? c : fill[cells ? cells[k] : 1];
      img.data.set([r, gg, b, 255], 4 * k);
    });
    const off = document.createElement('canvas');
    off.width = map.nx;
    off.height = map.ny;
    off.getContext('2d').putImageData(img, 0, 0);
    g.imageSmoothingEnabled = false;
    g.drawImage(off, x0, y0, bw, bh);
    // Failed points: a red cross over their cell.
    if (cells && cw >= 6) {
      g.strokeStyle = '#c0392b';
      g.lineWidth = Math.max(1, Math.min(2, cw / 12));
      g.beginPath();
      cells.forEach((st, k) => {
        if (st !== 2) return;
        const cx = x0 + (k % map.nx) * cw;
        const cy = y0 + Math.floor(k / map.nx) * ch;
        const d = Math.min(cw, ch) * 0.25;
        g.moveTo(cx + d, cy + d);
        g.lineTo(cx + cw - d, cy + ch - d);
        g.moveTo(cx + cw - d, cy + d);
        g.lineTo(cx + d, cy + ch - d);
      });
      g.stroke();
    }
    g.strokeStyle = '#8a93a6';
    g.lineWidth = 1;
    g.strokeRect(x0 - 0.5, y0 - 0.5, bw + 1, bh + 1);
    gridAxes(this.canvas, g, this.box, map.nx, map.ny, step);
    // Rings (the clusters' delegates): black and white.
    const rr = Math.max(2.5, Math.min(cw, ch) * 0.32);
    for (const [ix, iy] of rings) {
      const cx = x0 + (ix + 0.5) * cw;
      const cy = y0 + (iy + 0.5) * ch;
      g.lineWidth = 3;
      g.strokeStyle = '#000';
      g.beginPath();
      g.arc(cx, cy, rr, 0, 2 * Math.PI);
      g.stroke();
      g.lineWidth = 1.5;
      g.strokeStyle = '#fff';
      g.stroke();
    }
    if (frame) {
      const [ix, iy] = frame;
      g.strokeStyle = '#000';
      g.lineWidth = 2;
      g.strokeRect(x0 + ix * cw, y0 + iy * ch, cw, ch);
      g.strokeStyle = '#fff';
      g.lineWidth = 1;
      g.strokeRect(x0 + ix * cw + 1.5, y0 + iy * ch + 1.5, cw - 3, ch - 3);
    }
  }

  /**
   * The cell [ix, iy] under canvas CSS px (x, y), or null.
   * @param {number} x
   * @param {number} y
   * @returns {[number, number] | null}
   */
  cellAt(x, y) {
    const b = this.box;
    if (!b || !this.map) return null;
    const ix = Math.floor((x - b.x) / b.cw);
    const iy = Math.floor((y - b.y) / b.ch);
    if (ix < 0 || iy < 0 || ix >= this.map.nx || iy >= this.map.ny) return null;
    return [ix, iy];
  }

  /**
   * The cell under a pointer event, or null.
   * @param {MouseEvent} ev
   */
  cellOfEvent(ev) {
    const r = this.canvas.getBoundingClientRect();
    return this.cellAt(ev.clientX - r.left, ev.clientY - r.top);
  }

  /**
   * Canvas CSS px of the centre of cell (ix, iy), or null before a map is drawn.
   * @param {number} ix
   * @param {number} iy
   */
  cellCenter(ix, iy) {
    const b = this.box;
    if (!b) return null;
    return [b.x + (ix + 0.5) * b.cw, b.y + (iy + 0.5) * b.ch];
  }
}
