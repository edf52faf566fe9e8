// The Simulator's form helpers: reading a numeric field (marking it invalid) and showing a number in one, and the
// view's error list (one message per source: boot, input, simulate, det, runtime).

import { $ } from '../../lib/dom.js';

/**
 * Reads one numeric input; records a problem (and marks the field) if it is not a finite number meeting `check`.
 * @param {string} id
 * @param {string} label
 * @param {string[]} problems
 * @param {((v: number) => boolean) | null} [check]
 * @param {string} [what]
 * @returns {number}
 */
export function readNumber(id, label, problems, check = null, what = 'a number') {
  const el = $(id, 'input');
  const v = el.value.trim() === '' ? NaN : Number(el.value);
  const ok = Number.isFinite(v) && (!check || check(v));
  el.classList.toggle('invalid', !ok);
  if (!ok) problems.push(`${label} must be ${what} (got “${el.value}”).`);
  return v;
}

/**
 * A number as an input's value (10 significant digits; '' when not finite).
 * @param {number} v
 * @returns {string}
 */
export function roundForInput(v) {
  return Number.isFinite(v) ? String(Number(v.toPrecision(10))) : '';
}

/** The view's error box (one message per source, in the order they came) and status line. */
export class SimMessages {
  constructor() {
    /** @type {Map<string, string>} source → message */
    this.errors = new Map();
  }

  /**
   * @param {string} source
   * @param {string} message
   */
  setError(source, message) {
    this.errors.set(source, message);
    this.render();
  }

  /** @param {string} source */
  clearError(source) {
    if (this.errors.delete(source)) this.render();
  }

  render() {
    const el = $('error');
    const text = Array.from(this.errors.values()).join('\n');
    el.textContent = text;
    el.hidden = text === '';
  }

  /** @param {string} text */
  setStatus(text) {
    $('status').textContent = text;
  }
}
