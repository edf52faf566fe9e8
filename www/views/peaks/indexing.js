// "Images & peaks" view: indexing (LaueTools' classical look-up-table method or LaueNN, in the worker) — the
// materials to index with (the library's table, materials files, custom crystals: lib/materials.js), the options,
// the run — and its grains: over the image, in the grain table, saved as .fit and JSON.

import { $ } from '../../lib/dom.js';
import { Panel, messageOf } from '../../lib/panel.js';
import { HELP } from '../../lib/help.js';
import { materialTitle } from '../../lib/materials.js';
import { fileStem } from '../../lib/download.js';
import { grainColor, swatch } from './grains.js';

/**
 * @typedef {object} IndexHooks
 * @property {() => void} showPeaks redraws the peaks (overlay, table) of the image shown
 * @property {() => void} pickedChanged the materials ticked changed (LaueNN's model follows them)
 */

export class IndexPanel extends Panel {
  /**
   * @param {import('./state.js').PeaksContext} ctx
   * @param {IndexHooks} hooks
   */
  constructor(ctx, hooks) {
    super();
    this.ctx = ctx;
    this.hooks = hooks;
  }

  /** Wires the Index button, the overlay toggles, the downloads and the positions choice. */
  wire() {
    this.on('run-index', 'click', () => this.run());
    for (const id of ['show-simulated', 'show-hkl']) {
      this.on(id, 'change', () => { this.showGrains(); this.ctx.requestDraw(); });
    }
    this.on('download-index-json', 'click', () => this.saveJson());
    this.on('index-positions', 'change', () => this.ctx.updateButtons());
    $('grain-table', 'table').tBodies[0].addEventListener('click', (e) => {
      const b = /** @type {HTMLElement | null} */ (/** @type {Element} */ (e.target).closest('button.save-fit'));
      if (b) this.saveFit(Number(b.dataset.grain));
    });
  }

  // -------------------------------------------------------------------------------------------------------------
  // Materials

  /** The material boxes: one per choice of the catalog, ticked when picked for the image shown. */
  renderPicker() {
    const { state, materials } = this.ctx;
    const box = $('index-materials');
    box.textContent = '';
    for (const m of materials.list()) {
      const label = document.createElement('label');
      label.title = materialTitle(m);
      if (m.origin !== 'table') label.classList.add('user');
      const input = document.createElement('input');
      input.type = 'checkbox';
      input.value = m.name;
      input.checked = state.picked.has(m.name);
      input.addEventListener('change', () => {
        if (input.checked) state.picked.add(m.name);
        else state.picked.delete(m.name);
        this.hooks.pickedChanged();
        this.ctx.updateButtons();
      });
      label.append(input, document.createTextNode(m.name));
      box.append(label);
    }
  }

  /** @returns {string[]} the names of the materials picked, in the catalog's order */
  picked() {
    const { state, materials } = this.ctx;
    return materials.names().filter((n) => state.picked.has(n));
  }

  /** @returns {import('../../lib/materials.js').MaterialSpec[]} the picked materials as wasm takes them */
  specs() {
    return this.picked().map((n) => this.ctx.materials.spec(n));
  }

  /**
   * A scan request's `index` ({materials, settings, band}) into the form: its materials picked (definitions join
   * the choices), the look-up table, grains, shared spots, band; returns the settings the form does not have.
   * @param {any} ix
   * @returns {any}
   */
  applyRequest(ix) {
    const { state, materials, nn } = this.ctx;
    state.picked.clear();
    for (const m of ix.materials ?? []) {
      if (m && typeof m === 'object') {
        try {
          const rows = this.ctx.wasm.parse_materials_file(JSON.stringify([m]), 'the scan request');
          for (const r of materials.addDefined(rows, 'request')) state.picked.add(r.name);
        } catch (e) {
          this.ctx.messages.showError(`The scan's material ${m.name ?? '?'}: ${messageOf(e)}`, true);
        }
      } else if (materials.get(m)) {
        state.picked.add(materials.get(m).name);
      }
    }
    this.renderPicker();
    if (nn && nn.method() !== 'lut') nn.setMethod('lut');
    const { nbgrainstofind = 1, share_spots: share = false, ...rest } = ix.settings ?? {};
    $('index-grains', 'input').value = String(nbgrainstofind);
    $('index-share', 'input').checked = Boolean(share);
    if (ix.band) {
      $('index-emin', 'input').value = String(ix.band.emin_kev);
      $('index-emax', 'input').value = String(ix.band.emax_kev);
    }
    $('index-positions', 'select').value = 'fit';
    return rest;
  }

  // -------------------------------------------------------------------------------------------------------------
  // Running

  /** @returns {string} why indexing cannot run now (a sentence), or '' when it can */
  blocker() {
    const { state, quality, nn } = this.ctx;
    const img = this.ctx.current();
    if (!img) return 'Open an image and find its peaks, then index them.';
    if (!img.search) return 'Find the peaks first (“Find peaks”), then index them.';
    if (!state.calibration) {
      return 'Indexing needs the detector calibration: drop a LaueTools .det file (the example comes with calibGe111.det).';
    }
    if (img.search.peaks.length < 2) return 'Indexing needs at least two peaks.';
    if (this.picked().length === 0) return 'Pick at least one material to index with.';
    if ($('index-positions', 'select').value === 'cnn' && !quality?.row(0)) {
      return 'Indexing at the spot network\'s positions needs its descriptors: press “Characterise spots” first.';
    }
    return nn ? nn.blocker() : '';
  }

  /** @returns {{options: {grains: number, emin_kev: number, emax_kev: number, share_spots: boolean}, problems: string[]}} */
  readOptions() {
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

  /**
   * Indexes the current image's peaks; `extra`: more indexing settings (LaueTools' names), e.g. a scan's. False
   * (and a status line) when it cannot.
   * @param {any} [extra]
   * @returns {boolean}
   */
  run(extra = null) {
    const { state, quality, nn, worker, messages } = this.ctx;
    const img = this.ctx.current();
    const blocker = this.blocker();
    if (blocker || state.indexing || !worker) {
      if (blocker) this.setStatus(blocker);
      return false;
    }
    const { options: fromForm, problems } = this.readOptions();
    if (problems.length) {
      messages.showError(`Indexing settings: ${problems.join('; ')}`);
      return false;
    }
    const options = extra ? { ...extra, ...fromForm } : fromForm;
    messages.clearError();
    const job = ++state.job;
    const names = this.picked();
    const useCnn = $('index-positions', 'select').value === 'cnn';
    const peaks = useCnn ? img.search.peaks : img.search.peaks.map(({ x, y, intensity }) => ({ x, y, intensity }));
    // `good` as the thresholds now set judge it: only those spots take the network's position.
    const descriptors = useCnn
      ? img.quality.descriptors.map((/** @type {any} */ d, /** @type {number} */ i) => ({ ...d, good: quality.isGood(img.search.peaks[i], d) }))
      : undefined;
    const calibration = state.calibration.calibration;
    const model = nn?.modelKey() ?? null;
    const modelName = model ? nn.models.get(model)?.name : null;
    // The table method takes definitions (a material of a file, a custom crystal); a LaueNN model its own names.
    const materials = model ? names : this.specs();
    state.indexing = { job, id: img.id, peaks: img.search.peaks, calibration, materials: names, options, model, modelName };
    const bar = $('index-progress');
    bar.removeAttribute('value'); // indeterminate until the worker starts
    this.setStatus(`indexing ${peaks.length} peaks of ${img.name} as ${names.join(', ')}`
      + `${modelName ? ` with the LaueNN model ${modelName}` : ' (look-up table)'}…`);
    this.ctx.updateButtons();
    worker.postMessage({ type: 'index', id: img.id, job, peaks, calibration, materials, options, model, descriptors });
    return true;
  }

  /**
   * The worker's 'index-start' message.
   * @param {{job: number}} m
   */
  onStart(m) {
    const { state } = this.ctx;
    if (state.indexing && m.job === state.indexing.job) $('index-progress', 'progress').value = 0.5;
  }

  /**
   * The worker's 'indexed' message: the image's grains (if its peaks are still those indexed).
   * @param {any} m
   */
  onIndexed(m) {
    const { api, state } = this.ctx;
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
        : `${r.grains.length} grain${r.grains.length > 1 ? 's' : ''} (${r.grains.map((/** @type {any} */ g) => `${g.material} ${g.n_indexed} spots, `
          + `${g.matching_rate.toFixed(1)} %, by ${g.method === 'nn' ? 'the network' : 'the table'}`).join('; ')}), `
          + `${explained} of ${r.n_peaks} peaks explained`;
      const p = m.positions;
      const where = p.source === 'cnn'
        ? ` Positions: the spot network's for ${p.from_cnn} peaks, the Gaussian fit's for the ${p.from_fit} it calls bad.`
        : ' Positions: Gaussian fit.';
      const reason = notFoundReason(r, run.options.grains, run.materials);
      img.index.reason = reason;
      this.setStatus(`${img.name}: ${what} in ${Math.round(r.elapsed_ms)} ms.${where}${reason ? ` ${reason}` : ''}`);
      api.indexRuns += 1;
      if (img === this.ctx.current()) this.hooks.showPeaks();
    } else {
      this.setStatus('Indexing finished for a peak list that has changed since; index again.');
    }
    this.ctx.updateButtons();
  }

  /**
   * The running indexing failed: `message` in the error box.
   * @param {string} message
   */
  fail(message) {
    const { state } = this.ctx;
    if (!state.indexing) return;
    state.indexing = null;
    $('index-progress', 'progress').value = 0;
    this.ctx.messages.showError(message);
    this.setStatus('indexing failed (see the message above)');
    this.ctx.updateButtons();
  }

  /** @param {string} text the indexing status line */
  setStatus(text) {
    $('index-status').textContent = text;
  }

  // -------------------------------------------------------------------------------------------------------------
  // Grains

  /** The grains of the image shown over the image (and in the grain table). */
  showGrains() {
    const img = this.ctx.current();
    const index = img?.index;
    const peaks = img?.search?.peaks ?? [];
    const grains = (index?.result.grains ?? []).map((/** @type {any} */ g, /** @type {number} */ k) => ({
      color: grainColor(k),
      spots: g.spots.map((/** @type {any} */ s) => {
        const p = peaks[s.peak];
        return { x: s.x, y: s.y, hkl: s.hkl, sigma: p ? Math.max(Math.abs(p.sigma_major), Math.abs(p.sigma_minor)) : 0 };
      }),
      simulated: g.simulated,
    }));
    this.ctx.view.setGrains(grains, { simulated: $('show-simulated', 'input').checked, labels: $('show-hkl', 'input').checked });
    this.renderTable();
  }

  /** The grain table of the image shown. */
  renderTable() {
    const img = this.ctx.current();
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
    const withMis = r.grains.some((/** @type {any} */ g) => Number.isFinite(g.misorientation_deg));
    /** @type {HTMLElement} */ ($('grain-table').querySelector('th[data-key="misorientation"]')).hidden = !withMis;
    r.grains.forEach((/** @type {any} */ g, /** @type {number} */ k) => {
      const tr = document.createElement('tr');
      tr.dataset.grain = String(k);
      /** @param {string} text @param {string} [cls] */
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
      cell(g.euler.map((/** @type {number} */ v) => v.toFixed(3)).join('  '), 'ub');
      cell(g.ub.map((/** @type {number[]} */ row) => row.map((v) => (v < 0 ? '' : ' ') + v.toFixed(6)).join(' ')).join('\n'), 'ub');
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
   * Saves grain `k` of the image shown as a LaueTools .fit.
   * @param {number} k
   */
  saveFit(k) {
    const { state } = this.ctx;
    const img = this.ctx.current();
    const index = img?.index;
    const g = index?.result.grains[k];
    if (!g) return;
    try {
      const peaks = index.peaks.map(({ x, y, intensity }) => ({ x, y, intensity }));
      const ccd = state.calibration?.ccd_label || img.info.detector || '';
      const text = this.ctx.wasm.grain_fit_text(g, peaks, index.calibration, k, img.name, ccd);
      this.ctx.save(`${fileStem(img.name)}_g${k}.fit`, text);
    } catch (e) {
      this.ctx.messages.showError(`Could not write the .fit file: ${messageOf(e)}`);
    }
  }

  /** Saves the JSON of `lauekit index --format json` (grains, unindexed, seconds), with the page's extras. */
  saveJson() {
    const img = this.ctx.current();
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
      grains: r.grains.map((/** @type {any} */ g) => ({
        material: g.material,
        method: g.method,
        ub: g.ub,
        euler: g.euler,
        matching_rate: g.matching_rate,
        n_indexed: g.n_indexed,
        n_simulated: g.n_simulated,
        rms_px: g.rms_px,
        spots: g.spots.map((/** @type {any} */ s) => ({ peak: s.peak, hkl: s.hkl, energy_kev: s.energy_kev,
          residual_px: s.residual_px, x: s.x, y: s.y })),
      })),
      unindexed: r.unindexed,
      positions: index.positions,
      seconds: r.elapsed_ms / 1000,
    };
    this.ctx.save(`${fileStem(img.name)}_index.json`, `${JSON.stringify(out, null, 2)}\n`);
  }
}

/**
 * Why indexing returned fewer grains than asked, in plain words, from what the result says (its settings, the
 * peaks left unexplained, the grains' chance levels when they carry them); '' when all were found.
 * @param {any} r the indexing result
 * @param {number} asked grains asked for
 * @param {string[]} materials
 * @returns {string}
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

/**
 * A grain table cell for a deviatoric tensor report ({crystal: [6], sample: [6], von_mises}, Voigt order xx yy zz
 * yz xz xy): the von Mises value (× `scale`), and the two frames' tensors in a <details>; '—' without one.
 * @param {HTMLElement} td
 * @param {any} t the tensor report, or null
 * @param {number} scale
 * @param {number} digits
 * @param {string} what
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
