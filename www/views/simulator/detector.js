// The Simulator's "Detector" fieldset: the preset detectors, the calibration fields (LaueTools' dd, xcen, ycen,
// xbet, xgam, pixel size, frame), the energy band, and loading a LaueTools .det (its own file or the example's).

import { $ } from '../../lib/dom.js';
import { Panel, messageOf } from '../../lib/panel.js';
import * as m3 from '../../lib/mat3.js';
import { readNumber, roundForInput } from './fields.js';

const EXAMPLE_DET = { url: 'examples/calibGe111.det', name: 'calibGe111.det', material: 'Ge' };

/** @type {Record<string, Record<string, number>>} */
const PRESETS = {
  MARCCD165: { distance_mm: 70, xcen_px: 1024, ycen_px: 1024, xbet_deg: 0, xgam_deg: 0, pixel_size_mm: 0.079142, rows: 2048, cols: 2048 },
  sCMOS: { distance_mm: 77, xcen_px: 1008, ycen_px: 1009, xbet_deg: 0, xgam_deg: 0, pixel_size_mm: 0.0734, rows: 2018, cols: 2016 },
};

/** Calibration field → input id. */
const CALIB_FIELDS = {
  distance_mm: 'dd', xcen_px: 'xcen', ycen_px: 'ycen', xbet_deg: 'xbet', xgam_deg: 'xgam',
  pixel_size_mm: 'pixel', rows: 'rows', cols: 'cols',
};

/**
 * @typedef {object} DetectorHooks
 * @property {import('../../lib/wasm.js').Wasm} wasm
 * @property {import('./fields.js').SimMessages} messages
 * @property {(ub: number[] | null, name: string, material: string | null) => string} useDet a .det was read:
 *   its orientation matrix (or null) and the material it names (or the example's); returns a note for the user
 * @property {() => void} changed the simulation must be redone
 */

export class DetectorPanel extends Panel {
  /** @param {DetectorHooks} hooks */
  constructor(hooks) {
    super();
    this.hooks = hooks;
  }

  /** Wires the .det file input and the example button. */
  wire() {
    this.on('det-file', 'change', async (e) => {
      const input = /** @type {HTMLInputElement} */ (e.target);
      const file = input.files && input.files[0];
      if (!file) return;
      try {
        await this.loadDetText(await file.text(), file.name);
      } catch (err) {
        this.hooks.messages.setError('det', `Could not read ${file.name}: ${messageOf(err)}`);
      }
    });
    this.on('load-example', 'click', () => this.loadExample());
  }

  /** @param {string} name */
  applyPreset(name) {
    const p = PRESETS[name];
    if (!p) return;
    this.fillCalibration(p);
    $('preset', 'select').value = name;
  }

  /** @param {Record<string, any>} c a calibration (the library's field names) */
  fillCalibration(c) {
    for (const [key, id] of Object.entries(CALIB_FIELDS)) {
      if (c[key] != null) $(id, 'input').value = roundForInput(Number(c[key]));
    }
    $('preset', 'select').value = this.matchingPreset(this.readLoose()) ?? 'custom';
  }

  /**
   * The preset with calibration `c`, or null.
   * @param {Record<string, number>} c
   */
  matchingPreset(c) {
    for (const [name, p] of Object.entries(PRESETS)) {
      if (Object.keys(p).every((k) => Math.abs(p[k] - c[k]) < 1e-9)) return name;
    }
    return null;
  }

  /** The calibration fields as numbers, unchecked. @returns {Record<string, number>} */
  readLoose() {
    /** @type {Record<string, number>} */
    const c = {};
    for (const [key, id] of Object.entries(CALIB_FIELDS)) c[key] = Number($(id, 'input').value);
    return c;
  }

  /**
   * An input event of field `id` of the form; true when it is one of this panel's.
   * @param {string} id
   * @param {string} value
   */
  onInput(id, value) {
    if (id === 'preset') this.applyPreset(value);
    else if (Object.values(CALIB_FIELDS).includes(id)) $('preset', 'select').value = this.matchingPreset(this.readLoose()) ?? 'custom';
    else return false;
    return true;
  }

  /**
   * Adds the calibration and the energy band to the `simulate` request.
   * @param {Record<string, any>} request
   * @param {string[]} problems
   */
  read(request, problems) {
    /** @type {Record<string, number>} */
    const calibration = {};
    /** @type {Record<string, [string, ((v: number) => boolean)?, string?]>} */
    const labels = {
      distance_mm: ['Distance dd (mm)', (v) => v > 0, 'a positive number'],
      xcen_px: ['xcen (px)'], ycen_px: ['ycen (px)'], xbet_deg: ['xbet (°)'], xgam_deg: ['xgam (°)'],
      pixel_size_mm: ['Pixel size (mm)', (v) => v > 0, 'a positive number'],
      rows: ['Rows', (v) => Number.isInteger(v) && v > 0, 'a positive whole number'],
      cols: ['Columns', (v) => Number.isInteger(v) && v > 0, 'a positive whole number'],
    };
    for (const [key, id] of Object.entries(CALIB_FIELDS)) {
      const [label, check, what] = labels[key];
      calibration[key] = readNumber(id, label, problems, check, what);
    }
    request.calibration = calibration;

    const emin = readNumber('emin', 'E min (keV)', problems, (v) => v > 0, 'a positive number');
    const emax = readNumber('emax', 'E max (keV)', problems, (v) => v > 0, 'a positive number');
    if (Number.isFinite(emin) && Number.isFinite(emax) && emin > 0 && emax <= emin) {
      $('emax').classList.add('invalid');
      problems.push(`E max (${emax} keV) must be larger than E min (${emin} keV).`);
    }
    request.emin_kev = emin;
    request.emax_kev = emax;
  }

  /**
   * Reads a LaueTools .det: its calibration into the fields, its matrix and material to the other panels.
   * @param {string} text
   * @param {string} name
   * @param {string | null} [forceMaterial] the material to use whatever the file says
   * @returns {Promise<boolean>}
   */
  async loadDetText(text, name, forceMaterial = null) {
    const { wasm, messages } = this.hooks;
    let parsed;
    try {
      parsed = wasm.parse_det(text);
    } catch (e) {
      messages.setError('det', `Could not read the calibration file ${name}: ${messageOf(e)}`);
      return false;
    }
    messages.clearError('det');
    this.fillCalibration(parsed.calibration);
    const note = this.hooks.useDet(parsed.ub ? m3.toArray9(parsed.ub) : null, name, forceMaterial ?? parsed.material ?? null);
    const c = parsed.calibration;
    $('det-info').textContent = `Loaded ${name}: dd ${c.distance_mm} mm, centre (${c.xcen_px}, ${c.ycen_px}) px, `
      + `xbet ${c.xbet_deg}°, xgam ${c.xgam_deg}°, ${c.rows}×${c.cols} px of ${c.pixel_size_mm} mm`
      + `${parsed.ub ? ', with an orientation matrix (used as the base orientation)' : ''}.${note}`;
    this.hooks.changed();
    return true;
  }

  /** Loads the example calibration (Ge, calibGe111.det). */
  async loadExample() {
    try {
      const res = await fetch(EXAMPLE_DET.url);
      if (!res.ok) throw new Error(`HTTP ${res.status} for ${EXAMPLE_DET.url}`);
      await this.loadDetText(await res.text(), EXAMPLE_DET.name, EXAMPLE_DET.material);
    } catch (e) {
      this.hooks.messages.setError('det', `Could not load the example calibration: ${messageOf(e)}`);
    }
  }
}
