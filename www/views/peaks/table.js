// "Images & peaks" view: the peaks of the image shown — over the image and in the sortable table (2θ, χ with the
// shown calibration; grain, hkl, energy once indexed; the spot network's descriptors) — and saving them as .dat
// and .cor.

import { $ } from '../../lib/dom.js';
import { Panel, messageOf } from '../../lib/panel.js';
import { HELP, setHelp } from '../../lib/help.js';
import { fileStem } from '../../lib/download.js';
import { swatch, withHkl } from './grains.js';

/** The table's columns: `calib` ones need a calibration, `indexed` an indexing, `quality` the spot network. */
export const COLUMNS = [
  { key: 'rank', label: '#', digits: 0 },
  { key: 'x', label: 'x', digits: 2 },
  { key: 'y', label: 'y', digits: 2 },
  { key: 'intensity_sub', label: 'I − bkg', digits: 1 },
  { key: 'intensity', label: 'I total', digits: 1 },
  { key: 'sigma_major', label: 'σ maj', digits: 2 },
  { key: 'sigma_minor', label: 'σ min', digits: 2 },
  { key: 'background', label: 'bkg', digits: 1 },
  { key: 'tth', label: '2θ (°)', digits: 3, calib: true },
  { key: 'chi', label: 'χ (°)', digits: 3, calib: true },
  { key: 'grain', label: 'grain', digits: 0, indexed: true },
  { key: 'hkl', label: 'h k l', indexed: true },
  { key: 'energy', label: 'E (keV)', digits: 3, indexed: true },
  { key: 'sim', label: 'Sim', digits: 3, quality: true },
  { key: 'asp', label: 'Asp', digits: 2, quality: true },
  { key: 'area', label: 'area (px²)', digits: 2, quality: true },
  { key: 'good', label: 'good', quality: true },
];

/**
 * @typedef {object} TableHooks
 * @property {() => void} showGrains draws the grains of the image shown (overlay, grain table)
 */

export class PeakTable extends Panel {
  /**
   * @param {import('./state.js').PeaksContext} ctx
   * @param {TableHooks} hooks
   */
  constructor(ctx, hooks) {
    super();
    this.ctx = ctx;
    this.hooks = hooks;
  }

  /** Wires the table (sort by a header: click, Enter; select a row) and the .dat / .cor buttons. */
  wire() {
    const { state } = this.ctx;
    const table = $('peak-table', 'table');
    /** @param {string} key */
    const sortBy = (key) => {
      state.sort = { key, dir: state.sort.key === key ? -state.sort.dir : 1 };
      this.render();
    };
    table.tHead.addEventListener('keydown', (e) => {
      const th = /** @type {Element} */ (e.target).closest('th');
      if ((e.key === 'Enter' || e.key === ' ') && th) {
        e.preventDefault();
        const key = /** @type {HTMLElement} */ (th).dataset.key;
        sortBy(key);
        /** @type {HTMLElement | null} */ (table.tHead.querySelector(`th[data-key="${key}"]`))?.focus();
      }
    });
    table.tHead.addEventListener('click', (e) => {
      const th = /** @type {HTMLElement | null} */ (/** @type {Element} */ (e.target).closest('th'));
      if (th) sortBy(th.dataset.key);
    });
    table.tBodies[0].addEventListener('click', (e) => {
      const tr = /** @type {HTMLElement | null} */ (/** @type {Element} */ (e.target).closest('tr'));
      if (tr) this.select(Number(tr.dataset.index), true);
    });
    this.on('download-dat', 'click', () => this.saveDat());
    this.on('download-cor', 'click', () => this.saveCor());
  }

  /**
   * Peaks with their 2θ, χ (deg) from the shown calibration (null without one).
   * @param {any[]} peaks
   * @returns {any[]}
   */
  withAngles(peaks) {
    const c = this.ctx.state.calibration;
    if (!c) return peaks.map((p) => ({ ...p, tth: null, chi: null }));
    return peaks.map((p) => {
      try {
        const [tth, chi] = this.ctx.wasm.pixel_to_angles(c.calibration, p.x, p.y);
        return { ...p, tth, chi };
      } catch {
        return { ...p, tth: null, chi: null };
      }
    });
  }

  /** The peaks (and grains) of the image shown: overlay, spot-network styles, count, table. */
  showPeaks() {
    const { view, quality } = this.ctx;
    const img = this.ctx.current();
    const peaks = img?.search?.peaks ?? [];
    view.setPeaks(peaks);
    view.setPeakStyles(quality?.styles() ?? null);
    quality?.render();
    this.hooks.showGrains();
    $('peak-count').textContent = img?.search
      ? `${peaks.length} peaks${img.search.elapsed_ms != null ? ` · ${Math.round(img.search.elapsed_ms)} ms` : ''}`
      : 'No peaks yet';
    this.render();
    this.ctx.requestDraw();
  }

  /** The table of the image shown, sorted as asked. */
  render() {
    const { state, quality, view } = this.ctx;
    const table = $('peak-table', 'table');
    const img = this.ctx.current();
    const indexed = img?.index;
    const rated = Boolean(quality?.row(0));
    const cols = COLUMNS.filter((c) => (!c.calib || state.calibration) && (!c.indexed || indexed) && (!c.quality || rated));
    const head = table.tHead.rows[0];
    head.textContent = '';
    for (const c of cols) {
      const th = document.createElement('th');
      th.dataset.key = c.key;
      th.scope = 'col';
      const sorted = state.sort.key === c.key;
      th.textContent = c.label + (sorted ? (state.sort.dir > 0 ? ' ▲' : ' ▼') : '');
      th.setAttribute('aria-sort', sorted ? (state.sort.dir > 0 ? 'ascending' : 'descending') : 'none');
      th.tabIndex = 0;
      setHelp(th, `${HELP[`th:peak-table:${c.key}`] ?? c.label} Click (or Enter) to sort by it.`);
      head.append(th);
    }
    const rows = withHkl(this.withAngles(img?.search?.peaks ?? []), indexed)
      .map((p) => (rated ? { ...p, ...quality.row(p.rank - 1) } : p));
    const { key, dir } = state.sort;
    rows.sort((a, b) => {
      const u = key === 'hkl' ? a.hklKey : a[key];
      const v = key === 'hkl' ? b.hklKey : b[key];
      if (u == null || v == null) return Number(u == null) - Number(v == null);
      return dir * (u < v ? -1 : u > v ? 1 : 0) || a.rank - b.rank;
    });
    const body = table.tBodies[0];
    body.textContent = '';
    const frag = document.createDocumentFragment();
    for (const p of rows) {
      const tr = document.createElement('tr');
      tr.dataset.index = String(p.rank - 1);
      if (p.rank - 1 === view.selected) tr.className = 'selected';
      for (const c of cols) {
        const td = document.createElement('td');
        const v = p[c.key];
        td.textContent = v == null ? '—' : (typeof v === 'number' ? v.toFixed(c.digits) : v);
        if (c.key === 'grain' && v != null) td.prepend(swatch(v - 1));
        tr.append(td);
      }
      frag.append(tr);
    }
    body.append(frag);
  }

  /**
   * Selects peak `index` (-1: none) on the image and in the table; `center` centres the view on it, else the
   * table scrolls to it.
   * @param {number} index
   * @param {boolean} center
   */
  select(index, center) {
    const { view } = this.ctx;
    const p = this.ctx.current()?.search?.peaks?.[index];
    view.selected = p ? index : -1;
    if (p && center) view.centerOn(p.x, p.y, 2);
    for (const tr of $('peak-table', 'table').tBodies[0].rows) {
      const on = Number(tr.dataset.index) === view.selected;
      tr.classList.toggle('selected', on);
      if (on && !center) tr.scrollIntoView({ block: 'nearest' });
    }
    this.ctx.requestDraw();
  }

  /** Saves the peaks of the image shown as a LaueTools .dat. */
  saveDat() {
    const img = this.ctx.current();
    if (!img?.search) return;
    try {
      const peaks = img.search.peaks.map(({ rank, ...p }) => p);
      const text = this.ctx.wasm.peaks_dat(peaks, img.name, `lauekit page, PeakSearch settings ${JSON.stringify(img.search.params)}`);
      this.ctx.save(`${fileStem(img.name)}.dat`, text);
    } catch (e) {
      this.ctx.messages.showError(`Could not write the .dat file: ${messageOf(e)}`);
    }
  }

  /** Saves the peaks of the image shown as a LaueTools .cor (2θ, χ from the shown calibration). */
  saveCor() {
    const { state } = this.ctx;
    const img = this.ctx.current();
    if (!img?.search || !state.calibration) return;
    try {
      const peaks = img.search.peaks.map(({ rank, ...p }) => p);
      this.ctx.save(`${fileStem(img.name)}.cor`, this.ctx.wasm.peaks_cor(peaks, state.calibration.calibration, img.name));
    } catch (e) {
      this.ctx.messages.showError(`Could not write the .cor file: ${messageOf(e)}`);
    }
  }
}
