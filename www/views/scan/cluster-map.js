// The Cluster panel's map: the label map of the chosen labeler (lib/gridmap.js) with the clusters' delegates
// ringed, the IPF key once the delegates are indexed, the readout of the cell under the pointer or the keyboard
// cursor (arrow keys; Enter or a click opens the cell's cluster delegate in "Images & peaks"), the table of the
// clusters, and the map's PNG (in the colours shown) and CSV.

import { $ } from '../../lib/dom.js';
import { Panel, messageOf } from '../../lib/panel.js';
import { withPalette } from '../../lib/colors.js';
import { GridMapView, gridPosition, pointIndex } from '../../lib/gridmap.js';
import { pngInPalette, saveBlob } from '../../lib/download.js';
import { palette } from './maps.js';

export const IPF_MAPS = ['ipf_x', 'ipf_y', 'ipf_z'];

/**
 * @param {number[]} rgb
 * @param {string} title
 */
function swatch(rgb, title) {
  const s = document.createElement('span');
  s.className = 'cluster-swatch';
  s.style.background = `rgb(${rgb.join(',')})`;
  s.title = title;
  return s;
}

export class ClusterMapPanel extends Panel {
  /**
   * @param {import('./cluster.js').ClusterContext} ctx
   * @param {{openPoint: (index: number) => Promise<void>}} hooks opens point `index` of the clustered source
   */
  constructor(ctx, hooks) {
    super();
    this.ctx = ctx;
    this.hooks = hooks;
    this.view = new GridMapView(/** @type {HTMLCanvasElement} */ ($('cluster-map-canvas')), 320);
    /** @type {number[] | null} the cell under the pointer */
    this.hover = null;
    /** @type {string | null} */
    this.keyUrl = null;
    /** @type {string | null} */
    this.keyFor = null;
  }

  /** Wires the canvas (pointer, keyboard), the palette select's changes and the PNG / CSV buttons. */
  wire() {
    const state = this.ctx.state;
    // The Scan view's categorical palette colours the label maps too.
    document.addEventListener('change', (e) => {
      if (/** @type {Element} */ (e.target)?.id !== 'scan-palette') return;
      this.draw();
      this.fillTable();
    });
    this.on('cluster-save-png', 'click', () => this.save('png'));
    this.on('cluster-save-csv', 'click', () => this.save('csv'));
    const canvas = this.view.canvas;
    canvas.addEventListener('pointermove', (e) => {
      const cell = this.view.cellOfEvent(e);
      if ((cell?.join() ?? '') !== (this.hover?.join() ?? '')) {
        this.hover = cell;
        this.draw();
      }
      this.readout(cell);
    });
    canvas.addEventListener('pointerleave', () => {
      this.hover = null;
      this.draw();
      this.readout(state.cursor);
    });
    canvas.addEventListener('click', (e) => {
      const cell = this.view.cellOfEvent(e);
      if (cell && state.clustering) this.openDelegate(state.clustering.labels[this.pointAt(...cell)]);
    });
    canvas.addEventListener('keydown', (e) => {
      const m = this.view.map;
      if (!m || !state.clustering) return;
      const [ix, iy] = state.cursor ?? [0, 0];
      /** @type {Record<string, number[]>} */
      const moves = { ArrowLeft: [-1, 0], ArrowRight: [1, 0], ArrowUp: [0, -1], ArrowDown: [0, 1] };
      if (moves[e.key]) {
        e.preventDefault();
        const [dx, dy] = moves[e.key];
        state.cursor = [Math.min(m.nx - 1, Math.max(0, ix + dx)), Math.min(m.ny - 1, Math.max(0, iy + dy))];
        this.draw();
        this.readout(state.cursor);
      } else if (e.key === 'Enter' || e.key === ' ') {
        e.preventDefault();
        state.cursor ??= [0, 0];
        this.openDelegate(state.clustering.labels[this.pointAt(...state.cursor)]);
      }
    });
    canvas.addEventListener('focus', () => {
      state.cursor ??= [0, 0];
      this.draw();
      this.readout(state.cursor);
    });
    new ResizeObserver(() => this.draw()).observe(canvas);
  }

  /**
   * The delegate of each cluster: the indexed member once indexed, else the member nearest the centroid.
   * @param {number} label
   * @returns {number | undefined}
   */
  delegateOf(label) {
    const state = this.ctx.state;
    const x = state.indexed?.clusters[label];
    return x ? x.delegate : state.clustering?.members[label]?.[0];
  }

  /** The map of the chosen labeler (categorical maps in the chosen palette), or null. */
  current() {
    const state = this.ctx.state;
    if (IPF_MAPS.includes(state.labeler)) return state.indexed?.maps.find((/** @type {{name: string}} */ m) => m.name === state.labeler) ?? null;
    return withPalette(state.maps.find((/** @type {{name: string}} */ m) => m.name === state.labeler) ?? null, palette());
  }

  /** Draws the map, the delegates ringed and the hovered or keyboard cell framed. */
  draw() {
    const { state, api } = this.ctx;
    const m = this.current();
    const c = state.clustering;
    const grid = state.input?.grid ?? null;
    const rings = c && grid ? c.members.map((/** @type {number[]} */ _, /** @type {number} */ l) => gridPosition(grid, this.delegateOf(l))) : [];
    this.view.draw(m, grid, { rings, frame: this.hover ?? state.cursor });
    api.drawn = m ? { name: m.name, kind: m.kind, nx: m.nx, ny: m.ny } : null;
    this.showKey(m);
  }

  /**
   * IPF maps: the library's PNG (with the IPF key) under the map.
   * @param {any} m
   */
  async showKey(m) {
    const state = this.ctx.state;
    const el = $('cluster-key');
    if (!m || !IPF_MAPS.includes(m.name) || !state.indexed) {
      el.hidden = true;
      return;
    }
    const id = `${m.name}:${state.indexed.seconds}`;
    el.hidden = false;
    if (this.keyFor === id) return;
    this.keyFor = id;
    try {
      const png = await this.ctx.session.call('orientation_png', { grains: state.indexed.grains, request: state.input.request, name: m.name });
      if (this.keyUrl) URL.revokeObjectURL(this.keyUrl);
      this.keyUrl = URL.createObjectURL(new Blob([png], { type: 'image/png' }));
      $('cluster-key-img', 'img').src = this.keyUrl;
    } catch (e) {
      el.hidden = true;
      this.ctx.messages.showError(`The IPF key: ${messageOf(e)}`);
    }
  }

  /** The table of the clusters: label, colours, size, delegate, its indexing, an "open" button. */
  fillTable() {
    const state = this.ctx.state;
    const body = $('cluster-table', 'table').tBodies[0];
    body.textContent = '';
    const c = state.clustering;
    if (!c) return;
    const natural = withPalette(state.maps.find((/** @type {{name: string}} */ m) => m.name === 'cluster_labels'), palette());
    const grid = state.input.grid;
    const counts = new Array(c.k).fill(0);
    for (const l of c.labels) counts[l] += 1;
    c.members.forEach((/** @type {number[]} */ _, /** @type {number} */ l) => {
      const tr = document.createElement('tr');
      const d = this.delegateOf(l);
      const [ix, iy] = gridPosition(grid, d);
      const nat = natural ? natural.rgb[iy * grid.nx + ix] : [128, 128, 128];
      const x = state.indexed?.clusters[l];
      const cells = [String(l), null, String(counts[l]), `${d} (${ix}, ${iy})`,
        x ? (x.material ?? `none (${x.tried} tried)`) : '—', x?.matching_rate != null ? `${x.matching_rate.toFixed(1)} %` : '—'];
      cells.forEach((t, j) => {
        const td = document.createElement('td');
        if (j === 1) td.append(swatch(nat, 'natural colour'), swatch(c.centroid_rgb[l], 'PCA colour'));
        else td.textContent = t;
        tr.append(td);
      });
      const td = document.createElement('td');
      const b = document.createElement('button');
      b.type = 'button';
      b.textContent = 'open';
      b.setAttribute('aria-label', `Open the delegate of cluster ${l} (point ${d}) in Images & peaks`);
      b.addEventListener('click', () => this.openDelegate(l));
      td.append(b);
      tr.append(td);
      body.append(tr);
    });
  }

  /**
   * Acquisition index of the point at cell (ix, iy), or −1 before a clustering.
   * @param {number} ix
   * @param {number} iy
   */
  pointAt(ix, iy) {
    const g = this.ctx.state.input?.grid;
    if (!g) return -1;
    return pointIndex(g, ix, iy);
  }

  /**
   * The readout of cell `cell` (null: none).
   * @param {number[] | null} cell
   */
  readout(cell) {
    const { state, api } = this.ctx;
    const el = $('cluster-readout');
    const c = state.clustering;
    if (!cell || !c) {
      api.readout = null;
      el.textContent = c ? 'ix —  iy —' : '';
      return;
    }
    const [ix, iy] = cell;
    const i = this.pointAt(ix, iy);
    const l = c.labels[i];
    const d = this.delegateOf(l);
    const x = state.indexed?.clusters[l];
    const n = c.labels.filter((/** @type {number} */ v) => v === l).length;
    api.readout = { ix, iy, index: i, label: l, delegate: d, region: c.regions[i] };
    el.textContent = `ix ${ix}  iy ${iy} · point ${i} · cluster ${l} (${n} points, region ${c.regions[i]}) · delegate `
      + `point ${d}${x?.material ? ` · ${x.material}, ${x.matching_rate.toFixed(1)} %` : ''}`
      + `${state.failed.includes(i) ? ' · image unreadable' : ''} — click or Enter: open the delegate`;
  }

  /**
   * Opens the delegate of cluster `label` in "Images & peaks".
   * @param {number} label
   */
  async openDelegate(label) {
    const d = this.delegateOf(label);
    if (d == null || !this.ctx.state.input) return;
    try {
      this.ctx.api.opened.push(d);
      await this.hooks.openPoint(d);
    } catch (e) {
      this.ctx.messages.showError(`Could not open point ${d}: ${messageOf(e)}`);
    }
  }

  /**
   * Saves the map shown as PNG (in the colours shown) or CSV.
   * @param {'png' | 'csv'} kind
   */
  async save(kind) {
    const { state, session, api } = this.ctx;
    if (!state.clustering) return;
    const stem = `${state.input.source.label || 'scan'}_cluster`;
    const name = state.labeler;
    const ipf = IPF_MAPS.includes(name);
    try {
      if (kind === 'png') {
        const png = ipf
          ? await session.call('orientation_png', { grains: state.indexed.grains, request: state.input.request, name })
          : await pngInPalette(await session.call('label_png', { name }),
            state.maps.find((/** @type {{name: string}} */ m) => m.name === name) ?? null, palette());
        api.lastSaved = saveBlob(`${stem}_${name}.png`, png, 'image/png');
      } else {
        const csv = ipf
          ? await session.call('orientation_csv', { grains: state.indexed.grains, request: state.input.request, name })
          : await session.call('label_csv', { name });
        api.lastSaved = saveBlob(`${stem}_${name}.csv`, csv, 'text/csv');
      }
    } catch (e) {
      this.ctx.messages.showError(`Could not write the ${kind.toUpperCase()} file: ${messageOf(e)}`);
    }
  }
}
