// "Images & peaks" view: the peak-search settings form (built from the library's defaults, LaueTools names) and
// the peak search in the worker, with its progress bar.

import { $ } from '../../lib/dom.js';
import { Panel } from '../../lib/panel.js';
import { CHOICES, HINTS, MAIN_PARAMS } from './state.js';

/**
 * @typedef {object} SearchHooks
 * @property {(img: import('./state.js').ImageEntry | null) => void} searched a search ended with peaks (the image,
 *   null when it was closed meanwhile)
 * @property {() => void} failed a search failed (what waited for it stops)
 * @property {() => void} analyse "Analyse" pressed
 */

export class SearchPanel extends Panel {
  /**
   * @param {import('./state.js').PeaksContext} ctx
   * @param {SearchHooks} hooks
   */
  constructor(ctx, hooks) {
    super();
    this.ctx = ctx;
    this.hooks = hooks;
  }

  /** Wires the buttons: Find peaks, Analyse, LaueTools defaults. */
  wire() {
    this.on('run-search', 'click', () => this.run());
    this.on('run-analyse', 'click', () => this.hooks.analyse());
    this.on('reset-params', 'click', () => {
      if (this.ctx.state.defaults) this.setParams(this.ctx.state.defaults, "LaueTools' defaults.");
    });
  }

  // -------------------------------------------------------------------------------------------------------------
  // Settings form

  /**
   * Builds the form from the library's default settings (one field per LaueTools name).
   * @param {Record<string, any>} defaults
   */
  buildForm(defaults) {
    const { state } = this.ctx;
    state.defaults = defaults;
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

  /**
   * Fills the form with settings `p` (LaueTools names); `source` says where they come from.
   * @param {Record<string, any>} p
   * @param {string} source
   */
  setParams(p, source) {
    for (const key of this.ctx.state.paramKeys) {
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

  /**
   * The form as a settings object (LaueTools names); numbers that do not parse are reported.
   * @returns {{params: Record<string, any>, problems: string[]}}
   */
  readParams() {
    const { state } = this.ctx;
    /** @type {Record<string, any>} */
    const out = {};
    /** @type {string[]} */
    const problems = [];
    /** @param {HTMLInputElement} el @param {string} key */
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

  /** @returns {{form: Record<string, string | boolean>, paramsSource: string}} the form's values (by input id) */
  capture() {
    /** @type {Record<string, string | boolean>} */
    const form = {};
    for (const el of /** @type {NodeListOf<HTMLInputElement>} */ (document.querySelectorAll('#peak-params [id^="ps-"], #peak-params-more [id^="ps-"]'))) {
      form[el.id] = el.type === 'checkbox' ? el.checked : el.value;
    }
    return { form, paramsSource: $('params-source').textContent };
  }

  /**
   * Puts values of `capture()` back into the form.
   * @param {Record<string, string | boolean>} form
   * @param {string} paramsSource
   */
  restore(form, paramsSource) {
    for (const [id, v] of Object.entries(form)) {
      const el = $(id, 'input');
      if (!el) continue;
      if (el.type === 'checkbox') el.checked = Boolean(v);
      else el.value = String(v);
    }
    $('params-source').textContent = paramsSource;
  }

  // -------------------------------------------------------------------------------------------------------------
  // Peak search

  /** Starts the peak search on the image shown; false when it cannot (nothing shown, one running, bad settings). */
  run() {
    const { api, messages, state } = this.ctx;
    const img = this.ctx.current();
    if (!img || state.running) return false;
    const { params, problems } = this.readParams();
    if (problems.length) {
      messages.showError(`Peak-search settings: ${problems.join('; ')}`);
      return false;
    }
    messages.clearError();
    const job = ++state.job;
    state.running = { job, id: img.id, params };
    api.progressLog = [];
    $('peak-progress', 'progress').value = 0;
    $('peak-progress').classList.add('running');
    messages.setStatus(`searching ${img.name}…`);
    this.ctx.updateButtons();
    this.ctx.worker.postMessage({ type: 'search', id: img.id, job, params: JSON.stringify(params) });
    return true;
  }

  /**
   * The worker's 'progress' message of the running search.
   * @param {{job: number, stage: string, done: number, total: number}} m
   */
  onProgress(m) {
    const { api, messages, state } = this.ctx;
    if (!state.running || m.job !== state.running.job) return;
    api.progressLog.push({ stage: m.stage, done: m.done, total: m.total });
    const bar = $('peak-progress', 'progress');
    if (m.stage === 'detected') {
      bar.value = 0.3;
      messages.setStatus(`${m.total} local maxima found; fitting…`);
    } else {
      bar.value = 0.3 + 0.7 * (m.total > 0 ? m.done / m.total : 1);
      messages.setStatus(`fitting ${m.done} / ${m.total}…`);
    }
  }

  /**
   * The worker's 'peaks' message: the image's peaks (its indexing, of the previous list, is dropped).
   * @param {any} m
   */
  onPeaks(m) {
    const { api, messages, state } = this.ctx;
    if (!state.running || m.job !== state.running.job) return;
    const img = state.images.find((i) => i.id === m.id) ?? null;
    const params = state.running.params;
    state.running = null;
    $('peak-progress', 'progress').value = 1;
    $('peak-progress').classList.remove('running');
    if (img) {
      const peaks = Array.from(m.peaks, (/** @type {any} */ p, i) => ({ ...p, rank: i + 1 }));
      img.search = { peaks, stats: m.stats, elapsed_ms: m.elapsed_ms, worker_ms: m.worker_ms, params };
      img.index = null; // indexed a previous peak list
      const s = m.stats;
      messages.setStatus(`${img.name}: ${peaks.length} peaks in ${Math.round(m.elapsed_ms)} ms `
        + `(${s.local_maxima} local maxima, ${s.fitted} fitted, ${s.rejected} rejected`
        + `${s.duplicates ? `, ${s.duplicates} duplicates removed` : ''}).`);
      api.searches += 1;
    }
    this.hooks.searched(img);
  }

  /**
   * The running search failed: `message` in the error box.
   * @param {string} message
   */
  fail(message) {
    const { messages, state } = this.ctx;
    if (!state.running) return;
    state.running = null;
    state.autoIndex = null;
    state.analyse = null;
    $('peak-progress', 'progress').value = 0;
    $('peak-progress').classList.remove('running');
    messages.showError(message);
    this.hooks.failed();
    messages.setStatus('peak search failed (see the message above)');
    this.ctx.updateButtons();
  }
}
