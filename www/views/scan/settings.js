// The Scan view's settings panel: the pipeline request — the main fields (materials, grains per point, energy
// band, peak threshold and box size) over the library's complete default request, or the request JSON itself
// (Advanced) — and the number of workers.

import { $ } from '../../lib/dom.js';
import { Panel, messageOf } from '../../lib/panel.js';

/** @returns {number} the default number of workers: the logical processors, 1 to 64 */
export function defaultWorkers() {
  return Math.max(1, Math.min(64, navigator.hardwareConcurrency || 2));
}

export class SettingsPanel extends Panel {
  /**
   * @param {import('../../lib/materials.js').MaterialCatalog} materials the material choices (the library's table,
   *   materials files, custom crystals): names in the materials field resolve through it
   */
  constructor(materials) {
    super();
    this.materials = materials;
    /** @type {any} the library's complete default request (index included): the fields start from it */
    this.defaults = null;
    /** whether the user typed in the materials field (a calibration's material no longer replaces it) */
    this.materialsEdited = false;
    /** Whether the user typed in the request JSON since it was last filled from the fields (opening the panel must
     * not overwrite it: its toggle event comes after the click, possibly after the first keystrokes). */
    this.jsonEdited = false;
  }

  /** Wires the fields, the JSON editor and the workers field. */
  wire() {
    this.on('scan-materials', 'input', () => { this.materialsEdited = true; });
    this.on('scan-fill-json', 'click', () => this.fillJson());
    this.on('scan-request-json', 'input', () => { this.jsonEdited = true; });
    this.on('scan-advanced', 'toggle', () => {
      if ($('scan-advanced', 'details').open && !$('scan-use-json', 'input').checked && !this.jsonEdited) this.fillJson();
    });
    this.on('scan-workers', 'change', () => {
      const n = Math.floor(Number($('scan-workers', 'input').value));
      if (!(n >= 1 && n <= 64)) $('scan-workers', 'input').value = String(defaultWorkers());
    });
  }

  /**
   * The fields from the library's complete default request.
   * @param {any} defaults
   */
  setDefaults(defaults) {
    this.defaults = defaults;
    const p = defaults.peaks;
    $('scan-threshold', 'input').value = String(p.IntensityThreshold);
    $('scan-boxsize', 'input').value = String(p.boxsize);
    const ix = defaults.index;
    $('scan-emin', 'input').value = String(ix.band.emin_kev);
    $('scan-emax', 'input').value = String(ix.band.emax_kev);
    $('scan-grains', 'input').value = String(ix.settings.nbgrainstofind);
    this.fillJson();
  }

  /**
   * A material for the materials field (a calibration's, the example's), unless the user typed one.
   * @param {string} name
   */
  suggestMaterial(name) {
    if (!this.materialsEdited) $('scan-materials', 'input').value = name;
  }

  /**
   * A request .json dropped: into the JSON editor, which is used.
   * @param {string} text
   */
  useRequest(text) {
    $('scan-request-json', 'textarea').value = text;
    $('scan-use-json', 'input').checked = true;
    $('scan-advanced', 'details').open = true;
  }

  /**
   * Materials just added (a materials file, a custom crystal): the materials field lists them.
   * @param {string[]} names
   */
  useMaterials(names) {
    if (!names.length) return;
    $('scan-materials', 'input').value = names.join(', ');
    this.materialsEdited = true;
  }

  /** The number of workers asked for (1 at least; the default when the field is not a number). */
  workers() {
    return Math.max(1, Math.floor(Number($('scan-workers', 'input').value)) || defaultWorkers());
  }

  /**
   * The request of the fields: the library's defaults with the fields' values.
   * @returns {{request: any, problems: string[]}}
   */
  requestFromFields() {
    const r = structuredClone(this.defaults);
    const problems = [];
    const materials = $('scan-materials', 'input').value.split(',').map((m) => m.trim()).filter(Boolean);
    if (!materials.length) problems.push('materials: give at least one (e.g. Cu)');
    const grains = Number($('scan-grains', 'input').value);
    if (!Number.isInteger(grains) || grains < 1 || grains > 20) problems.push('grains / point: a whole number from 1 to 20');
    const emin = Number($('scan-emin', 'input').value);
    const emax = Number($('scan-emax', 'input').value);
    if (!(emin > 0 && emax > emin)) problems.push(`energy band: need 0 < E min < E max (got ${$('scan-emin', 'input').value}–${$('scan-emax', 'input').value} keV)`);
    const thr = Number($('scan-threshold', 'input').value);
    if ($('scan-threshold', 'input').value.trim() === '' || !Number.isFinite(thr)) problems.push('threshold: a number');
    const box = Number($('scan-boxsize', 'input').value);
    if (!Number.isInteger(box) || box < 1) problems.push('boxsize: a whole number ≥ 1');
    r.peaks.IntensityThreshold = thr;
    r.peaks.boxsize = box;
    // A material the user defined goes as its definition (the workers' wasm knows the table's names only).
    r.index.materials = materials.map((m) => this.materials.spec(m));
    r.index.settings.nbgrainstofind = grains;
    r.index.band.emin_kev = emin;
    r.index.band.emax_kev = emax;
    return { request: r, problems };
  }

  /**
   * The request to run: the JSON editor's when "use the JSON" is ticked, else the fields'.
   * @returns {{request: any, problems: string[]}}
   */
  readRequest() {
    if (!$('scan-use-json', 'input').checked) return this.requestFromFields();
    let r;
    try {
      r = JSON.parse($('scan-request-json', 'textarea').value);
    } catch (e) {
      return { request: null, problems: [`request JSON: ${messageOf(e)}`] };
    }
    if (!r || typeof r !== 'object' || Array.isArray(r)) return { request: null, problems: ['request JSON: an object'] };
    // The wasm API reads objects field by field and would pass over a misspelt key: refuse what the library's
    // complete default request does not have.
    const unknown = unknownKeys(r, this.defaults, 'request');
    if (unknown.length) {
      return { request: null, problems: [`request JSON: unknown key${unknown.length > 1 ? 's' : ''} ${unknown.join(', ')}`] };
    }
    return { request: r, problems: [] };
  }

  /** The JSON editor from the fields. */
  fillJson() {
    const { request } = this.requestFromFields();
    $('scan-request-json', 'textarea').value = JSON.stringify(request, null, 2);
    this.jsonEdited = false;
  }
}

/**
 * Paths of the keys of object `r` that object `d` (the library's defaults) does not have, at any depth.
 * @param {any} r
 * @param {any} d
 * @param {string} where
 * @returns {string[]}
 */
function unknownKeys(r, d, where) {
  /** @param {any} v */
  const isObject = (v) => v && typeof v === 'object' && !Array.isArray(v);
  if (!isObject(r) || !isObject(d)) return [];
  return Object.keys(r).flatMap((k) => (k in d ? unknownKeys(r[k], d[k], `${where}.${k}`) : [`${where}.${k}`]));
}
