// The Scan view's map panel: the maps of the results (the library's scan_maps, recomputed as points come in),
// the map and palette selects, the map canvas (lib/gridmap.js), its legend (colour bar, category swatches, the IPF
// key), the hover readout, a click opening the point in "Images & peaks", and the shown map's PNG and CSV.

import { $ } from '../../lib/dom.js';
import { Panel, messageOf } from '../../lib/panel.js';
import { PALETTES, niceTicks, viridisRgb, withPalette } from '../../lib/colors.js';
import { GridMapView, pointIndex } from '../../lib/gridmap.js';
import { pngInPalette, saveBlob } from '../../lib/download.js';

/** Map shown first. */
export const FIRST_MAP = 'ipf_z';
/** Maps are recomputed at most this often while points come in (ms); more rarely when computing them is slow. */
const MAP_INTERVAL_MS = 200;

/**
 * The categorical palette chosen: 'cvd' (colour-blind safe, the default) or 'library'.
 * @returns {string}
 */
export function palette() {
  const el = /** @type {HTMLSelectElement | null} */ (document.getElementById('scan-palette'));
  return el?.value || 'cvd';
}

/**
 * @param {number} v
 * @returns {string}
 */
export function formatValue(v) {
  if (!Number.isFinite(v)) return String(v);
  const a = Math.abs(v);
  if (a !== 0 && (a >= 1e5 || a < 1e-3)) return v.toExponential(2);
  return Number.isInteger(v) ? String(v) : String(Number(v.toPrecision(4)));
}

export class MapPanel extends Panel {
  /**
   * @param {import('./scan.js').ScanContext} ctx
   * @param {{openPoint: (index: number, ix: number, iy: number) => void}} hooks a click on cell (ix, iy): point `index`
   */
  constructor(ctx, hooks) {
    super();
    this.ctx = ctx;
    this.hooks = hooks;
    this.view = new GridMapView(/** @type {HTMLCanvasElement} */ ($('scan-map-canvas')), 400);
    /** @type {number[] | null} the cell under the pointer */
    this.hover = null;
    /** @type {ReturnType<typeof setTimeout> | null} */
    this.timer = null;
    this.lastAt = 0;
    /** ms the last map computation took */
    this.ms = 0;
    /** @type {string | null} */
    this.keyUrl = null;
    this.keyFor = '';
  }

  /** Wires the map and palette selects, the canvas (hover, click) and the PNG / CSV buttons. */
  wire() {
    this.addPaletteSelect();
    this.on('scan-palette', 'change', () => this.draw());
    this.on('scan-map', 'change', () => {
      this.ctx.state.mapName = $('scan-map', 'select').value;
      this.draw();
    });
    this.on('scan-save-png', 'click', () => this.save('png'));
    this.on('scan-save-csv', 'click', () => this.save('csv'));
    const canvas = this.view.canvas;
    canvas.addEventListener('pointermove', (e) => this.updateReadout(e));
    canvas.addEventListener('pointerleave', () => this.updateReadout(null));
    canvas.addEventListener('click', (e) => {
      const cell = this.view.cellOfEvent(e);
      if (cell) this.openCell(...cell);
    });
    new ResizeObserver(() => this.draw()).observe($('scan-map-box'));
  }

  /** The palette select, next to the map select (made here: it is not in the page's markup). */
  addPaletteSelect() {
    if (document.getElementById('scan-palette')) return;
    const label = document.createElement('label');
    label.className = 'inline-label';
    label.append('Colours ');
    const sel = document.createElement('select');
    sel.id = 'scan-palette';
    sel.setAttribute('aria-label', 'Colours of categorical maps');
    for (const [value, text] of Object.entries(PALETTES)) {
      const o = document.createElement('option');
      o.value = value;
      o.textContent = text;
      sel.append(o);
    }
    label.append(sel);
    $('scan-map').closest('label')?.after(label);
  }

  /** The points finished so far (PointResult objects, acquisition order). */
  finishedPoints() {
    return (this.ctx.state.results?.points ?? []).filter(Boolean);
  }

  /** Recomputes the maps soon (at most every MAP_INTERVAL_MS, more rarely when computing them is slow). */
  schedule() {
    if (this.timer) return;
    const wait = Math.max(0, this.lastAt + Math.max(MAP_INTERVAL_MS, 4 * this.ms) - performance.now());
    this.timer = setTimeout(() => {
      this.timer = null;
      this.update();
    }, wait);
  }

  /** Recomputes the maps now (a scheduled update is dropped). */
  update() {
    clearTimeout(this.timer);
    this.timer = null;
    const { state, wasm, api } = this.ctx;
    this.lastAt = performance.now();
    const res = state.results;
    const pts = this.finishedPoints();
    if (!res || !pts.length) {
      state.maps = [];
    } else {
      try {
        state.maps = wasm.scan_maps(res.grid, res.request, pts);
      } catch (e) {
        this.ctx.messages.showError(`Maps: ${messageOf(e)}`, true);
        state.maps = [];
      }
    }
    this.ms = performance.now() - this.lastAt;
    api.mapUpdates += 1;
    this.renderSelect();
    this.draw();
  }

  /** No maps (a new run starts). */
  clear() {
    this.ctx.state.maps = [];
    this.ctx.api.drawn = null;
    this.draw();
  }

  renderSelect() {
    const state = this.ctx.state;
    const sel = $('scan-map', 'select');
    const names = state.maps.map((/** @type {{name: string}} */ m) => m.name);
    if (names.join() !== Array.from(sel.options, (o) => o.value).join()) {
      sel.textContent = '';
      for (const m of state.maps) {
        const o = document.createElement('option');
        o.value = m.name;
        o.textContent = m.unit ? `${m.title} (${m.unit})` : m.title;
        sel.append(o);
      }
      if (!state.maps.length) {
        const o = document.createElement('option');
        o.value = '';
        o.textContent = 'no results yet';
        sel.append(o);
      }
    }
    if (names.includes(state.mapName)) sel.value = state.mapName;
    sel.disabled = !state.maps.length;
  }

  /** The map shown, categorical maps in the chosen palette (`scan-palette`). */
  current() {
    const state = this.ctx.state;
    return withPalette(state.maps.find((/** @type {{name: string}} */ m) => m.name === state.mapName) ?? null, palette());
  }

  /** Per cell of the grid: 0 not analysed yet, 1 analysed, 2 failed. */
  cellStates() {
    const res = this.ctx.state.results;
    if (!res) return null;
    const cells = new Uint8Array(res.grid.nx * res.grid.ny);
    for (const p of res.points) if (p) cells[p.iy * res.grid.nx + p.ix] = p.status === 'failed' ? 2 : 1;
    return cells;
  }

  /** Draws the map shown, its legend, and updates the buttons. */
  draw() {
    const m = this.current();
    this.view.draw(m, this.ctx.state.results?.grid ?? null, { cells: this.cellStates(), frame: this.hover });
    $('scan-map-empty').hidden = Boolean(m);
    this.ctx.api.drawn = m ? { name: m.name, kind: m.kind, nx: m.nx, ny: m.ny } : null;
    this.drawLegend(m);
    this.ctx.updateButtons();
  }

  /**
   * IPF maps: the library's PNG of the map (its IPF keys) under the map, once no run is going on.
   * @param {any} m
   */
  showKey(m) {
    const { state, wasm, api } = this.ctx;
    const res = state.results;
    const id = `${m.name}:${api.mapUpdates}`;
    if (!res || state.run || !m.rgb.some((/** @type {number[]} */ c) => c[0] >= 0)) return;
    $('scan-key').hidden = false;
    if (this.keyFor === id) return;
    try {
      const png = wasm.scan_map_png(res.grid, res.request, this.finishedPoints(), m.name);
      if (this.keyUrl) URL.revokeObjectURL(this.keyUrl);
      this.keyUrl = URL.createObjectURL(new Blob([/** @type {BlobPart} */ (png)], { type: 'image/png' }));
      $('scan-key-img', 'img').src = this.keyUrl;
      this.keyFor = id;
    } catch (e) {
      $('scan-key').hidden = true;
      this.ctx.messages.showError(`The IPF key: ${messageOf(e)}`, true);
    }
  }

  /**
   * Colour bar (scalar maps), swatches (categorical maps) or a note and the IPF key (IPF colours).
   * @param {any} m
   */
  drawLegend(m) {
    $('scan-key').hidden = true;
    const canvas = /** @type {HTMLCanvasElement & {ticks?: {x?: string[]}}} */ ($('scan-legend', 'canvas'));
    const note = $('scan-legend-note');
    note.textContent = '';
    const dpr = window.devicePixelRatio || 1;
    const w = canvas.clientWidth || 420;
    let h = 0;
    /** @type {{name: string, rgb: number[] | null}[]} */
    let categories = [];
    const hasValues = Boolean(m?.values.some(Number.isFinite));
    if (m?.kind === 'scalar' && hasValues) h = 46;
    if (m?.kind === 'categorical') {
      // Each category's colour as the map draws it (from a point that has it).
      const colour = new Map();
      m.values.forEach((/** @type {number} */ v, /** @type {number} */ k) => {
        if (Number.isFinite(v) && !colour.has(v) && m.rgb[k][0] >= 0) colour.set(v, m.rgb[k]);
      });
      categories = m.categories.map((/** @type {string} */ name, /** @type {number} */ k) => ({ name, rgb: colour.get(k) ?? null }));
      const perRow = Math.max(1, Math.floor(w / 150));
      h = Math.ceil(Math.max(1, categories.length) / perRow) * 18 + 6;
    }
    canvas.hidden = h === 0;
    canvas.style.height = `${h}px`;
    canvas.width = Math.round(w * dpr);
    canvas.height = Math.round(h * dpr);
    const g = canvas.getContext('2d');
    g.setTransform(dpr, 0, 0, dpr, 0, 0);
    g.clearRect(0, 0, w, h);
    g.font = '11px system-ui, "DejaVu Sans", sans-serif';
    g.fillStyle = '#1d2330';
    canvas.ticks = {};
    if (!m) return;
    if (m.kind === 'rgb') {
      this.showKey(m);
      note.textContent = `${m.title}: inverse-pole-figure colour of the crystal direction along that sample axis (main `
        + 'grain; m-3m: red [001], green [101], blue [111], white in between).'
        + `${this.ctx.state.run ? ' The IPF key of each material appears below when the run ends (and in the PNG).' : ''}`;
      return;
    }
    if (m.kind === 'scalar') {
      if (!hasValues) {
        note.textContent = `${m.title}: no value yet.`;
        return;
      }
      const [lo, hi] = m.range;
      const x0 = 10;
      const x1 = w - 40;
      const grad = g.createLinearGradient(x0, 0, x1, 0);
      for (let i = 0; i <= 20; i++) {
        const [r, gg, b] = viridisRgb(i / 20);
        grad.addColorStop(i / 20, `rgb(${r},${gg},${b})`);
      }
      g.fillStyle = grad;
      g.fillRect(x0, 4, x1 - x0, 14);
      g.strokeStyle = '#8a93a6';
      g.strokeRect(x0 + 0.5, 4.5, x1 - x0 - 1, 13);
      g.fillStyle = '#1d2330';
      g.textBaseline = 'top';
      g.textAlign = 'center';
      for (const v of niceTicks(lo, hi, 6)) {
        const x = x0 + ((v - lo) / (hi - lo)) * (x1 - x0);
        if (x < x0 - 0.5 || x > x1 + 0.5) continue;
        g.fillRect(Math.round(x), 18, 1, 4);
        g.fillText(formatValue(v), x, 24);
        (canvas.ticks.x ??= []).push(`${formatValue(v)}${m.unit ? ` ${m.unit}` : ''}`);
      }
      g.textAlign = 'left';
      g.fillText(m.unit, x1 + 6, 6);
      note.textContent = `${m.title}: ${formatValue(lo)} … ${formatValue(hi)}${m.unit ? ` ${m.unit}` : ''}.`;
      return;
    }
    // Categorical.
    const perRow = Math.max(1, Math.floor(w / 150));
    g.textBaseline = 'middle';
    g.textAlign = 'left';
    categories.forEach((c, k) => {
      const x = 6 + (k % perRow) * 150;
      const y = 4 + Math.floor(k / perRow) * 18;
      if (c.rgb) {
        g.fillStyle = `rgb(${c.rgb[0]},${c.rgb[1]},${c.rgb[2]})`;
        g.fillRect(x, y + 2, 12, 12);
      }
      g.strokeStyle = '#555';
      g.strokeRect(x + 0.5, y + 2.5, 11, 11);
      g.fillStyle = '#1d2330';
      g.fillText(c.name, x + 17, y + 8);
    });
    if (!categories.length) note.textContent = `${m.title}: no value yet.`;
  }

  /**
   * The point at cell (ix, iy) of the results: its acquisition index and PointResult (null: not analysed yet).
   * @param {number} ix
   * @param {number} iy
   */
  pointAtCell(ix, iy) {
    const res = this.ctx.state.results;
    if (!res) return { index: -1, point: null };
    const index = pointIndex(res.grid, ix, iy);
    return { index, point: res.points[index] ?? null };
  }

  /**
   * The image name of point `index` of the results' source.
   * @param {number} index
   */
  imageNameOf(index) {
    const s = this.ctx.state.results?.source;
    if (!s) return '';
    if (s.kind === 'synthetic') return s.handle.image_name(index);
    if (s.kind === 'stack') return `${s.file.name}#${index}`;
    return s.files[index]?.name ?? '';
  }

  /**
   * The readout of the cell under the pointer (null: the pointer left the map).
   * @param {PointerEvent | null} ev
   */
  updateReadout(ev) {
    const api = this.ctx.api;
    const el = $('scan-readout');
    const m = this.current();
    const cell = ev && m ? this.view.cellOfEvent(ev) : null;
    const prev = this.hover;
    this.hover = cell;
    if ((prev?.join() ?? '') !== (cell?.join() ?? '')) this.view.draw(m, this.ctx.state.results?.grid ?? null, { cells: this.cellStates(), frame: cell });
    if (!cell) {
      api.readout = null;
      el.textContent = m ? 'ix —  iy —' : '';
      return;
    }
    const [ix, iy] = cell;
    const { index, point } = this.pointAtCell(ix, iy);
    const k = iy * m.nx + ix;
    let value;
    if (m.kind === 'rgb') value = m.rgb[k][0] < 0 ? '—' : `rgb(${m.rgb[k].join(', ')})`;
    else if (m.kind === 'categorical') value = Number.isFinite(m.values[k]) ? m.categories[m.values[k]] ?? String(m.values[k]) : '—';
    else value = Number.isFinite(m.values[k]) ? `${formatValue(m.values[k])}${m.unit ? ` ${m.unit}` : ''}` : '—';
    const image = point?.image ?? this.imageNameOf(index);
    const status = point ? point.status.replace('_', ' ') : 'not analysed yet';
    const grains = point?.grains?.length ? `, ${point.grains.length} grain${point.grains.length > 1 ? 's' : ''} (${point.grains[0].material}, ${point.grains[0].matching_rate.toFixed(1)} %)` : '';
    api.readout = { ix, iy, index, value, image, status: point?.status ?? null };
    el.textContent = `ix ${ix}  iy ${iy}  ${m.title}: ${value}  · ${image} · ${status}${grains}`
      + `${point?.error ? ` · ${point.error}` : ''}`;
  }

  /**
   * Opens point (ix, iy) in "Images & peaks".
   * @param {number} ix
   * @param {number} iy
   */
  openCell(ix, iy) {
    const res = this.ctx.state.results;
    if (!res) return;
    const { index } = this.pointAtCell(ix, iy);
    if (index < 0 || index >= res.points.length) return;
    this.hooks.openPoint(index, ix, iy);
  }

  /**
   * Saves the shown map as PNG (in the colours shown) or CSV.
   * @param {'png' | 'csv'} kind
   */
  async save(kind) {
    const { state, wasm, api } = this.ctx;
    const res = state.results;
    const pts = this.finishedPoints();
    if (!res || !pts.length) return;
    const stem = res.label || 'scan';
    try {
      if (kind === 'png') {
        const png = wasm.scan_map_png(res.grid, res.request, pts, state.mapName);
        const m = state.maps.find((/** @type {{name: string}} */ x) => x.name === state.mapName) ?? null;
        api.lastSaved = saveBlob(`${stem}_${state.mapName}.png`, await pngInPalette(png, m, palette()), 'image/png');
      } else {
        api.lastSaved = saveBlob(`${stem}_${state.mapName}.csv`, wasm.scan_map_csv(res.grid, res.request, pts, state.mapName), 'text/csv');
      }
    } catch (e) {
      this.ctx.messages.showError(`Could not write the ${kind.toUpperCase()} file: ${messageOf(e)}`);
    }
  }
}
