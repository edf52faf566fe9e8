// The Simulator's "Orientation" fieldset: the base orientation (Euler angles, or the matrix of a loaded .det), the
// rotation sliders about the lab axes and the rotation dragged on the pattern: UB = drag · Rz · Ry · Rx · base.

import { $ } from '../../lib/dom.js';
import { Panel } from '../../lib/panel.js';
import * as m3 from '../../lib/mat3.js';
import { readNumber } from './fields.js';

export const EULER_IDS = ['euler-1', 'euler-2', 'euler-3'];
export const ROT_IDS = ['rot-x', 'rot-y', 'rot-z'];
/** @type {Record<string, number[]>} */
const LAB_AXES = { 'rot-x': [1, 0, 0], 'rot-y': [0, 1, 0], 'rot-z': [0, 0, 1] };
/** Degrees of rotation per CSS pixel of drag. */
const DRAG_DEG_PER_PX = 0.25;

export class OrientationPanel extends Panel {
  /** @param {import('../../lib/wasm.js').Wasm} wasm */
  constructor(wasm) {
    super();
    this.wasm = wasm;
    /** @type {number[] | null} base orientation from a .det file (row-major 9), or null: then from the Euler inputs */
    this.detUb = null;
    this.detUbSource = '';
    /** Accumulated drag rotation (lab frame), applied last. */
    this.drag = m3.IDENTITY.slice();
    this.eulerCache = { key: '', ub: /** @type {number[] | null} */ (null) };
  }

  /** Sliders back to 0 and no drag rotation. */
  reset() {
    for (const id of ROT_IDS) $(id, 'input').value = '0';
    this.drag = m3.IDENTITY.slice();
    this.showSliderValues();
  }

  showSliderValues() {
    for (const id of ROT_IDS) $(`${id}-val`).textContent = `${Number($(id, 'input').value).toFixed(1)}°`;
  }

  showBaseSource() {
    $('base-source').textContent = this.detUb ? `matrix from ${this.detUbSource}` : 'Euler angles';
  }

  /**
   * The base orientation: a .det's matrix (from file `source`), or null for the Euler angles.
   * @param {number[] | null} ub
   * @param {string} [source]
   */
  setBase(ub, source = '') {
    this.detUb = ub;
    if (ub) this.detUbSource = source;
    this.showBaseSource();
  }

  /**
   * An input event of field `id` of the form; true when it is one of this panel's.
   * @param {string} id
   */
  onInput(id) {
    if (EULER_IDS.includes(id)) {
      if (this.detUb) {
        this.detUb = null;
        this.showBaseSource();
      }
    } else if (ROT_IDS.includes(id)) {
      this.showSliderValues();
    } else {
      return false;
    }
    return true;
  }

  /**
   * The Euler angles (°), problems recorded.
   * @param {string[]} problems
   */
  readEuler(problems) {
    return EULER_IDS.map((id, i) => readNumber(id, `Euler angle ${i + 1} (°)`, problems));
  }

  /**
   * UB = drag · Rz(rot-z) · Ry(rot-y) · Rx(rot-x) · base, rotations about lab axes.
   * @param {number[]} euler
   * @returns {number[]}
   */
  currentUb(euler) {
    let ub = this.detUb ? this.detUb.slice() : this.eulerUb(euler);
    for (const id of ROT_IDS) {
      const angle = Number($(id, 'input').value);
      if (angle !== 0) ub = m3.toArray9(this.wasm.rotate_ub(ub, LAB_AXES[id], angle));
    }
    return m3.mul(this.drag, ub);
  }

  /** @param {number[]} euler */
  eulerUb(euler) {
    const key = euler.join(',');
    if (this.eulerCache.key !== key) this.eulerCache = { key, ub: m3.toArray9(this.wasm.euler_to_ub(euler)) };
    return this.eulerCache.ub.slice();
  }

  /**
   * Adds a drag of (dx, dy) CSS px on the pattern to the drag rotation (about lab z, then lab y); `sx` −1 turns
   * the horizontal sense round (χ runs the other way in the angles view). Throws what the library throws.
   * @param {number} dx
   * @param {number} dy
   * @param {number} sx
   */
  dragBy(dx, dy, sx) {
    let r = this.drag;
    if (dx !== 0) r = m3.toArray9(this.wasm.rotate_ub(r, [0, 0, 1], sx * dx * DRAG_DEG_PER_PX));
    if (dy !== 0) r = m3.toArray9(this.wasm.rotate_ub(r, [0, 1, 0], dy * DRAG_DEG_PER_PX));
    this.drag = r;
  }
}
