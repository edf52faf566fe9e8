// "Images & peaks" view: the peaks over the image and in the sortable table; saving .dat / .cor.

import { HELP, setHelp } from '../../lib/help.js';
import { $, api, calib, messageOf, quality, requestDraw, showError, state, view, wasm } from './state.js';
import { currentImage } from './display.js';
import { showGrains, swatch, withHkl } from './indexing.js';

// ---------------------------------------------------------------------------------------------------------------
// Peaks: overlay and table

export function withAngles(peaks) {
  const c = state.calibration;
  if (!c) return peaks.map((p) => ({ ...p, tth: null, chi: null }));
  return peaks.map((p) => {
    try {
      const [tth, chi] = wasm.pixel_to_angles(c.calibration, p.x, p.y);
      return { ...p, tth, chi };
    } catch {
      return { ...p, tth: null, chi: null };
    }
  });
}

export function showPeaks() {
  const img = currentImage();
  const peaks = img?.search?.peaks ?? [];
  view.setPeaks(peaks);
  view.setPeakStyles(quality?.styles() ?? null);
  quality?.render();
  showGrains();
  $('peak-count').textContent = img?.search
    ? `${peaks.length} peaks${img.search.elapsed_ms != null ? ` · ${Math.round(img.search.elapsed_ms)} ms` : ''}`
    : 'No peaks yet';
  renderTable();
  requestDraw();
}

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

export function renderTable() {
  const table = $('peak-table', 'table');
  const indexed = currentImage()?.index;
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
  const img = currentImage();
  const rows = withHkl(withAngles(img?.search?.peaks ?? []), indexed)
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

export function selectPeak(index, center) {
  const img = currentImage();
  const p = img?.search?.peaks?.[index];
  view.selected = p ? index : -1;
  if (p && center) view.centerOn(p.x, p.y, 2);
  for (const tr of $('peak-table', 'table').tBodies[0].rows) {
    const on = Number(tr.dataset.index) === view.selected;
    tr.classList.toggle('selected', on);
    if (on && !center) tr.scrollIntoView({ block: 'nearest' });
  }
  requestDraw();
}

// ---------------------------------------------------------------------------------------------------------------
// Saving

export function save(name, text) {
  const blob = new Blob([text], { type: 'text/plain' });
  const a = document.createElement('a');
  a.href = URL.createObjectURL(blob);
  a.download = name;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(a.href), 10_000);
  api.lastSaved = { name, text };
}

export function stem(name) {
  const base = name.replace(/^.*[\\/]/, '');
  const i = base.lastIndexOf('.');
  return i > 0 ? base.slice(0, i) : base;
}

export function saveDat() {
  const img = currentImage();
  if (!img?.search) return;
  try {
    const peaks = img.search.peaks.map(({ rank, ...p }) => p);
    const text = wasm.peaks_dat(peaks, img.name, `lauekit page, PeakSearch settings ${JSON.stringify(img.search.params)}`);
    save(`${stem(img.name)}.dat`, text);
  } catch (e) {
    showError(`Could not write the .dat file: ${messageOf(e)}`);
  }
}

export function saveCor() {
  const img = currentImage();
  if (!img?.search || !state.calibration) return;
  try {
    const peaks = img.search.peaks.map(({ rank, ...p }) => p);
    save(`${stem(img.name)}.cor`, wasm.peaks_cor(peaks, state.calibration.calibration, img.name));
  } catch (e) {
    showError(`Could not write the .cor file: ${messageOf(e)}`);
  }
}
