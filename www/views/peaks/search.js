// "Images & peaks" view: the peak-search settings form and the peak search (in the worker).

import { $, CHOICES, HINTS, MAIN_PARAMS, api, calib, clearError, quality, setSearchStatus, showError, state, worker } from './state.js';
import { currentImage, renderImageList } from './display.js';
import { runIndex } from './indexing.js';
import { showPeaks } from './table.js';
import { updateButtons } from './main.js';

// ---------------------------------------------------------------------------------------------------------------
// Peak-search settings form (built from the library's defaults, LaueTools names)

export function buildParamForm(defaults) {
  state.paramKeys = Object.keys(defaults);
  const main = $('peak-params');
  const more = $('peak-params-more');
  main.textContent = '';
  more.textContent = '';
  for (const key of state.paramKeys) {
    const v = defaults[key];
    const label = document.createElement('label');
    label.textContent = key;
    if (HINTS[key]) label.title = HINTS[key];
    if (CHOICES[key]) {
      const sel = document.createElement('select');
      sel.id = `ps-${key}`;
      for (const [value, text] of CHOICES[key]) {
        const o = document.createElement('option');
        o.value = value;
        o.textContent = text;
        sel.append(o);
      }
      label.append(sel);
    } else if (typeof v === 'boolean') {
      label.className = 'check';
      const box = document.createElement('input');
      box.type = 'checkbox';
      box.id = `ps-${key}`;
      label.prepend(box);
    } else if (Array.isArray(v)) {
      const row = document.createElement('span');
      row.className = 'pair';
      v.forEach((_, i) => {
        const inp = document.createElement('input');
        inp.type = 'number';
        inp.step = 'any';
        inp.id = `ps-${key}-${i}`;
        inp.setAttribute('aria-label', `${key}, value ${i + 1} of ${v.length}`);
        row.append(inp);
      });
      label.append(row);
    } else {
      const inp = document.createElement('input');
      inp.type = typeof v === 'number' ? 'number' : 'text';
      if (inp.type === 'number') inp.step = 'any';
      inp.id = `ps-${key}`;
      inp.spellcheck = false;
      label.append(inp);
    }
    (MAIN_PARAMS.includes(key) ? main : more).append(label);
  }
}

export function setParams(p, source) {
  for (const key of state.paramKeys) {
    const v = p[key];
    if (Array.isArray(v)) {
      v.forEach((x, i) => { const el = $(`ps-${key}-${i}`, 'input'); if (el) el.value = String(x); });
    } else {
      const el = $(`ps-${key}`, 'input');
      if (!el) continue;
      if (el.type === 'checkbox') el.checked = Boolean(v);
      else el.value = v == null ? '' : String(v);
    }
  }
  $('params-source').textContent = source;
}

/** The form as a settings object (LaueTools names); numbers that do not parse are reported. */
export function readParams() {
  const out = {};
  const problems = [];
  const num = (el, key) => {
    const x = Number(el.value);
    if (el.value.trim() === '' || !Number.isFinite(x)) problems.push(`${key}: “${el.value}” is not a number`);
    return x;
  };
  for (const key of state.paramKeys) {
    const d = state.defaults[key];
    if (Array.isArray(d)) {
      out[key] = d.map((_, i) => num($(`ps-${key}-${i}`, 'input'), key));
    } else {
      const el = $(`ps-${key}`, 'input');
      if (el.type === 'checkbox') out[key] = el.checked;
      else if (key === 'Data_for_localMaxima') out[key] = el.value === '' ? null : el.value;
      else if (CHOICES[key] || typeof d === 'number') out[key] = num(el, key);
      else out[key] = el.value;
    }
  }
  return { params: out, problems };
}

// ---------------------------------------------------------------------------------------------------------------
// Peak search

export function runSearch() {
  const img = currentImage();
  if (!img || state.running) return false;
  const { params, problems } = readParams();
  if (problems.length) {
    showError(`Peak-search settings: ${problems.join('; ')}`);
    return false;
  }
  clearError();
  const job = ++state.job;
  state.running = { job, id: img.id, params };
  api.progressLog = [];
  $('peak-progress', 'progress').value = 0;
  $('peak-progress').classList.add('running');
  setSearchStatus(`searching ${img.name}…`);
  updateButtons();
  worker.postMessage({ type: 'search', id: img.id, job, params: JSON.stringify(params) });
  return true;
}

export function onPeaks(m) {
  if (!state.running || m.job !== state.running.job) return;
  const img = state.images.find((i) => i.id === m.id);
  const params = state.running.params;
  state.running = null;
  $('peak-progress', 'progress').value = 1;
  $('peak-progress').classList.remove('running');
  if (img) {
    const peaks = Array.from(m.peaks, (p, i) => ({ ...p, rank: i + 1 }));
    img.search = { peaks, stats: m.stats, elapsed_ms: m.elapsed_ms, worker_ms: m.worker_ms, params };
    img.index = null; // indexed a previous peak list
    const s = m.stats;
    setSearchStatus(`${img.name}: ${peaks.length} peaks in ${Math.round(m.elapsed_ms)} ms `
      + `(${s.local_maxima} local maxima, ${s.fitted} fitted, ${s.rejected} rejected`
      + `${s.duplicates ? `, ${s.duplicates} duplicates removed` : ''}).`);
    api.searches += 1;
    renderImageList();
    if (img === currentImage()) showPeaks();
  }
  updateButtons();
  // A scan point opened from the Scan view is indexed as the scan did.
  if (img && state.autoIndex?.id === img.id) {
    const { extra } = state.autoIndex;
    state.autoIndex = null;
    runIndex(extra);
  }
  // "Analyse": the spot network next, then indexing (analyseIndex, when the network is done).
  if (img && state.analyse?.id === img.id && !quality?.run()) analyseIndex();
  // "Calibrate" pressed before the image had peaks.
  calib?.peaksFound(img ?? null);
}

/** "Analyse": the whole pipeline on the current image with the current settings — peak search, the spot network
 * (its descriptors; the indexing uses its positions when "peak positions" says so), indexing and refinement. */
export function runAnalyse() {
  const img = currentImage();
  if (!img) return;
  state.analyse = { id: img.id };
  if (!runSearch()) state.analyse = null;
}

/** The last step of "Analyse": indexing, once the spot network has run (or could not). */
export function analyseIndex() {
  if (!state.analyse) return;
  const { id } = state.analyse;
  state.analyse = null;
  if (currentImage()?.id === id) runIndex();
}

export function failRunning(message) {
  if (!state.running) return;
  state.running = null;
  state.autoIndex = null;
  state.analyse = null;
  $('peak-progress', 'progress').value = 0;
  $('peak-progress').classList.remove('running');
  showError(message);
  calib?.peaksFound(null);
  setSearchStatus('peak search failed (see the message above)');
  updateButtons();
}
