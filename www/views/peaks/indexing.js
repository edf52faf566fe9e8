// "Images & peaks" view: indexing (LaueTools' classical look-up-table method or LaueNN, in the worker), the grains.

import { GRAIN_COLORS } from '../../lib/imageview.js';
import { HELP } from '../../lib/help.js';
import { $, api, clearError, messageOf, nn, quality, showError, state, view, wasm, worker } from './state.js';
import { currentImage } from './display.js';
import { save, showPeaks, stem } from './table.js';
import { updateButtons } from './main.js';

// ---------------------------------------------------------------------------------------------------------------
// Indexing (LaueTools' classical look-up-table method, in the worker)

export function grainColor(k) {
  return GRAIN_COLORS[k % GRAIN_COLORS.length];
}

export function swatch(k) {
  const s = document.createElement('span');
  s.className = 'swatch';
  s.style.background = grainColor(k);
  return s;
}

export function buildMaterialPicker() {
  const box = $('index-materials');
  box.textContent = '';
  for (const m of state.materials) {
    const label = document.createElement('label');
    label.title = `${m.name}: ${m.structure}, a b c = ${m.lattice.slice(0, 3).join(' ')} Å, `
      + `α β γ = ${m.lattice.slice(3).join(' ')}°, space group ${m.space_group} (${m.laue_group}), rule ${m.rule}`;
    const box1 = document.createElement('input');
    box1.type = 'checkbox';
    box1.value = m.name;
    box1.checked = state.picked.has(m.name);
    box1.addEventListener('change', () => {
      if (box1.checked) state.picked.add(m.name);
      else state.picked.delete(m.name);
      if (nn?.method() === 'nn') nn.autoSelect();
      updateButtons();
    });
    label.append(box1, document.createTextNode(m.name));
    box.append(label);
  }
}

/** Why indexing cannot run now (a sentence), or '' when it can. */
export function indexBlocker() {
  const img = currentImage();
  if (!img) return 'Open an image and find its peaks, then index them.';
  if (!img.search) return 'Find the peaks first (“Find peaks”), then index them.';
  if (!state.calibration) {
    return 'Indexing needs the detector calibration: drop a LaueTools .det file (the example comes with calibGe111.det).';
  }
  if (img.search.peaks.length < 2) return 'Indexing needs at least two peaks.';
  if (state.picked.size === 0) return 'Pick at least one material to index with.';
  if ($('index-positions', 'select').value === 'cnn' && !quality?.row(0)) {
    return 'Indexing at the spot network\'s positions needs its descriptors: press “Characterise spots” first.';
  }
  return nn ? nn.blocker() : '';
}

export function readIndexOptions() {
  const grains = Number($('index-grains', 'input').value);
  const emin = Number($('index-emin', 'input').value);
  const emax = Number($('index-emax', 'input').value);
  const problems = [];
  if (!Number.isInteger(grains) || grains < 1 || grains > 20) problems.push('grains: a whole number from 1 to 20');
  if (!(Number.isFinite(emin) && Number.isFinite(emax) && emin > 0 && emax > emin)) {
    problems.push(`energy band: need 0 < E min < E max (got ${$('index-emin', 'input').value}–${$('index-emax', 'input').value} keV)`);
  }
  return {
    options: { grains, emin_kev: emin, emax_kev: emax, share_spots: $('index-share', 'input').checked },
    problems,
  };
}

/** Indexes the current image's peaks; `extra`: more indexing settings (LaueTools' names), e.g. a scan's. */
export function runIndex(extra = null) {
  const img = currentImage();
  const blocker = indexBlocker();
  if (blocker || state.indexing || !worker) {
    if (blocker) setIndexStatus(blocker);
    return false;
  }
  const { options: fromForm, problems } = readIndexOptions();
  if (problems.length) {
    showError(`Indexing settings: ${problems.join('; ')}`);
    return false;
  }
  const options = extra ? { ...extra, ...fromForm } : fromForm;
  clearError();
  const job = ++state.job;
  const materials = state.materials.map((m) => m.name).filter((n) => state.picked.has(n));
  const useCnn = $('index-positions', 'select').value === 'cnn';
  const peaks = useCnn ? img.search.peaks : img.search.peaks.map(({ x, y, intensity }) => ({ x, y, intensity }));
  // `good` as the thresholds now set judge it: only those spots take the network's position.
  const descriptors = useCnn
    ? img.quality.descriptors.map((d, i) => ({ ...d, good: quality.isGood(img.search.peaks[i], d) }))
    : undefined;
  const calibration = state.calibration.calibration;
  const model = nn?.modelKey() ?? null;
  const modelName = model ? nn.models.get(model)?.name : null;
  state.indexing = { job, id: img.id, peaks: img.search.peaks, calibration, materials, options, model, modelName };
  const bar = $('index-progress');
  bar.removeAttribute('value'); // indeterminate until the worker starts
  setIndexStatus(`indexing ${peaks.length} peaks of ${img.name} as ${materials.join(', ')}`
    + `${modelName ? ` with the LaueNN model ${modelName}` : ' (look-up table)'}…`);
  updateButtons();
  worker.postMessage({ type: 'index', id: img.id, job, peaks, calibration, materials, options, model, descriptors });
  return true;
}

export function onIndexed(m) {
  const run = state.indexing;
  if (!run || m.job !== run.job) return;
  state.indexing = null;
  $('index-progress', 'progress').value = 1;
  const img = state.images.find((i) => i.id === m.id);
  // The peaks may have been searched again meanwhile: the result belongs to the list it was computed from.
  if (img && img.search && img.search.peaks === run.peaks) {
    img.index = { result: m.result, peaks: run.peaks, calibration: run.calibration, materials: run.materials,
      options: run.options, worker_ms: m.worker_ms, model: run.modelName, positions: m.positions };
    const r = m.result;
    const explained = r.n_peaks - r.unindexed.length;
    const what = r.grains.length === 0
      ? `no grain of ${run.materials.join(', ')} found`
      : `${r.grains.length} grain${r.grains.length > 1 ? 's' : ''} (${r.grains.map((g) => `${g.material} ${g.n_indexed} spots, `
        + `${g.matching_rate.toFixed(1)} %, by ${g.method === 'nn' ? 'the network' : 'the table'}`).join('; ')}), `
        + `${explained} of ${r.n_peaks} peaks explained`;
    const p = m.positions;
    const where = p.source === 'cnn'
      ? ` Positions: the spot network's for ${p.from_cnn} peaks, the Gaussian fit's for the ${p.from_fit} it calls bad.`
      : ' Positions: Gaussian fit.';
    const reason = notFoundReason(r, run.options.grains, run.materials);
    img.index.reason = reason;
    setIndexStatus(`${img.name}: ${what} in ${Math.round(r.elapsed_ms)} ms.${where}${reason ? ` ${reason}` : ''}`);
    api.indexRuns += 1;
    if (img === currentImage()) showPeaks();
  } else {
    setIndexStatus('Indexing finished for a peak list that has changed since; index again.');
  }
  updateButtons();
}

/**
 * Why indexing returned fewer grains than asked, in plain words, from what the result says (its settings, the
 * peaks left unexplained, the grains' chance levels when they carry them); '' when all were found.
 */
export function notFoundReason(r, asked, materials) {
  const found = r.grains.length;
  if (!(asked > found)) return '';
  const s = r.settings || {};
  const minMatches = s.minimumnumbermatches ?? 6;
  const minRate = s.min_matching_rate ?? 5;
  const free = s.share_spots ? r.n_peaks : r.unindexed.length;
  const head = `${asked} grain${asked > 1 ? 's' : ''} asked, ${found} found:`;
  const left = found ? `the ${free} peak${free === 1 ? '' : 's'} no grain explains` : `the ${free} peaks`;
  if (free < Math.max(minMatches, 2)) {
    return `${head} only ${free} peak${free === 1 ? ' was' : 's were'} left unexplained, fewer than the ${minMatches} `
      + 'matched spots a grain needs (minimumnumbermatches).';
  }
  let why = `${head} no candidate orientation of ${materials.join(', ')} from ${left} matched at least ${minMatches} `
    + `spots (minimumnumbermatches) with a matching rate of at least ${minRate} % (min_matching_rate)`;
  const k = r.grains.map((g) => Boolean(g.chance)).lastIndexOf(true);
  if (k >= 0) {
    const c = r.grains[k].chance;
    why += ` and above the chance level of random peaks (for grain ${k + 1}: more than `
      + `${c.matching_rate_threshold.toFixed(1)} % and ${Math.ceil(c.matched_threshold)} spots, from ${c.trials} sets of `
      + `${c.n_spots} random peaks)`;
  }
  return `${why}.`;
}

export function failIndexing(message) {
  if (!state.indexing) return;
  state.indexing = null;
  $('index-progress', 'progress').value = 0;
  showError(message);
  setIndexStatus('indexing failed (see the message above)');
  updateButtons();
}

/** Peak rows with their grain (1-based), hkl and energy when indexed. */
export function withHkl(rows, index) {
  if (!index) return rows;
  const byPeak = new Map();
  index.result.grains.forEach((g, k) => {
    for (const s of g.spots) if (!byPeak.has(s.peak)) byPeak.set(s.peak, { k, s });
  });
  return rows.map((p) => {
    const hit = byPeak.get(p.rank - 1);
    if (!hit) return { ...p, grain: null, hkl: null, hklKey: null, energy: null };
    const h = hit.s.hkl;
    return { ...p, grain: hit.k + 1, hkl: h.join(' '), hklKey: h.map((v) => String(v + 500).padStart(4, '0')).join(''),
      energy: hit.s.energy_kev };
  });
}

export function showGrains() {
  const img = currentImage();
  const index = img?.index;
  const peaks = img?.search?.peaks ?? [];
  const grains = (index?.result.grains ?? []).map((g, k) => ({
    color: grainColor(k),
    spots: g.spots.map((s) => {
      const p = peaks[s.peak];
      return { x: s.x, y: s.y, hkl: s.hkl, sigma: p ? Math.max(Math.abs(p.sigma_major), Math.abs(p.sigma_minor)) : 0 };
    }),
    simulated: g.simulated,
  }));
  view.setGrains(grains, { simulated: $('show-simulated', 'input').checked, labels: $('show-hkl', 'input').checked });
  renderGrainTable();
}

export function renderGrainTable() {
  const img = currentImage();
  const index = img?.index;
  const body = $('grain-table', 'table').tBodies[0];
  body.textContent = '';
  if (!index) {
    $('grain-count').textContent = img?.search ? 'Not indexed' : 'Not indexed (find peaks first)';
    return;
  }
  const r = index.result;
  $('grain-count').textContent = `${r.grains.length} grain${r.grains.length === 1 ? '' : 's'} · `
    + `${r.n_peaks - r.unindexed.length} of ${r.n_peaks} peaks indexed · ${Math.round(r.elapsed_ms)} ms`;
  // Misorientation to grain 1 of the same material: shown when the library reports it (field misorientation_deg).
  const withMis = r.grains.some((g) => Number.isFinite(g.misorientation_deg));
  /** @type {HTMLElement} */ ($('grain-table').querySelector('th[data-key="misorientation"]')).hidden = !withMis;
  r.grains.forEach((g, k) => {
    const tr = document.createElement('tr');
    tr.dataset.grain = String(k);
    const cell = (text, cls) => {
      const td = document.createElement('td');
      if (cls) td.className = cls;
      td.textContent = text;
      tr.append(td);
      return td;
    };
    cell(String(k + 1)).prepend(swatch(k));
    cell(g.material).title = g.method === 'nn' ? 'found from the network\'s hkl predictions' : 'found by the look-up table';
    cell(`${g.n_indexed} (of ${g.n_simulated} simulated)`);
    cell(`${g.matching_rate.toFixed(2)} %`);
    cell(Number.isFinite(g.rms_px) ? g.rms_px.toFixed(3) : '—');
    cell(g.euler.map((v) => v.toFixed(3)).join('  '), 'ub');
    cell(g.ub.map((row) => row.map((v) => (v < 0 ? '' : ' ') + v.toFixed(6)).join(' ')).join('\n'), 'ub');
    tensorCell(cell('', 'tensor'), g.strain, 1e3, 3, 'strain ε′ (×10⁻³)');
    tensorCell(cell('', 'tensor'), g.stress, 1, 1, 'stress σ′ (MPa)');
    const mis = cell(Number.isFinite(g.misorientation_deg) ? g.misorientation_deg.toFixed(3) : '—');
    mis.hidden = !withMis;
    const td = cell('');
    const b = document.createElement('button');
    b.type = 'button';
    b.className = 'save-fit';
    b.dataset.grain = String(k);
    b.textContent = 'Save .fit';
    b.title = `LaueTools .fit of grain ${k + 1}`;
    td.append(b);
    body.append(tr);
  });
  if (r.grains.length === 0) {
    const tr = document.createElement('tr');
    const td = document.createElement('td');
    td.colSpan = 11;
    td.textContent = `No grain of ${index.materials.join(', ')} explains these peaks.`;
    tr.append(td);
    body.append(tr);
  }
}

/**
 * A grain table cell for a deviatoric tensor report ({crystal: [6], sample: [6], von_mises}, Voigt order xx yy zz
 * yz xz xy): the von Mises value (× `scale`), and the two frames' tensors in a <details>; '—' without one.
 */
export function tensorCell(td, t, scale, digits, what) {
  if (!t || !Number.isFinite(t.von_mises)) {
    td.textContent = '—';
    return;
  }
  const f = (v) => (Number.isFinite(v) ? (v * scale).toFixed(digits) : '—');
  const vm = document.createElement('span');
  vm.className = 'vm';
  vm.textContent = f(t.von_mises);
  const d = document.createElement('details');
  const sum = document.createElement('summary');
  sum.textContent = 'tensors';
  sum.title = `${what}, xx yy zz yz xz xy, in the crystal and sample frames`;
  // An ARIA table of divs (a nested <table> would add rows to the grain table's).
  const table = document.createElement('div');
  table.className = 'strain-tensor';
  table.setAttribute('role', 'table');
  table.setAttribute('aria-label', `${what}, Voigt order xx yy zz yz xz xy`);
  const row = (cells, headRole) => {
    const r = document.createElement('div');
    r.setAttribute('role', 'row');
    cells.forEach((text, i) => {
      const c = document.createElement('span');
      c.setAttribute('role', headRole && i > 0 ? 'columnheader' : i === 0 ? 'rowheader' : 'cell');
      c.textContent = text;
      const help = HELP[`th:strain-tensor:${headRole && i === 0 ? 'frame' : text}`];
      if (help && (headRole || i === 0)) c.title = help;
      r.append(c);
    });
    table.append(r);
  };
  row([what, 'xx', 'yy', 'zz', 'yz', 'xz', 'xy'], true);
  for (const frame of ['crystal', 'sample']) row([frame, ...(t[frame] ?? []).map(f)], false);
  d.append(sum, table);
  td.append(vm, d);
}

export function saveFit(k) {
  const img = currentImage();
  const index = img?.index;
  const g = index?.result.grains[k];
  if (!g) return;
  try {
    const peaks = index.peaks.map(({ x, y, intensity }) => ({ x, y, intensity }));
    const ccd = state.calibration?.ccd_label || img.info.detector || '';
    const text = wasm.grain_fit_text(g, peaks, index.calibration, k, img.name, ccd);
    save(`${stem(img.name)}_g${k}.fit`, text);
  } catch (e) {
    showError(`Could not write the .fit file: ${messageOf(e)}`);
  }
}

/** The JSON of `lauekit index --format json` (grains, unindexed, seconds), with the page's extras. */
export function saveIndexJson() {
  const img = currentImage();
  const index = img?.index;
  if (!index) return;
  const r = index.result;
  const out = {
    image: img.name,
    calibration: index.calibration,
    materials: index.materials,
    method: index.model ? 'nn' : 'lut',
    model: index.model ?? null,
    emin_kev: r.emin_kev,
    emax_kev: r.emax_kev,
    settings: r.settings,
    grains: r.grains.map((g) => ({
      material: g.material,
      method: g.method,
      ub: g.ub,
      euler: g.euler,
      matching_rate: g.matching_rate,
      n_indexed: g.n_indexed,
      n_simulated: g.n_simulated,
      rms_px: g.rms_px,
      spots: g.spots.map((s) => ({ peak: s.peak, hkl: s.hkl, energy_kev: s.energy_kev, residual_px: s.residual_px,
        x: s.x, y: s.y })),
    })),
    unindexed: r.unindexed,
    positions: index.positions,
    seconds: r.elapsed_ms / 1000,
  };
  save(`${stem(img.name)}_index.json`, `${JSON.stringify(out, null, 2)}\n`);
}

export function setIndexStatus(text) {
  $('index-status').textContent = text;
}
