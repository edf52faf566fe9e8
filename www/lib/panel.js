// The base of the page's panels. A view is a small composition root (views/<view>/main.js) that creates its panels
// — one class each, owning a part of the page (its controls by id, its state) — and wires them together through
// callbacks given to their constructors; panels never import one another.

import { $ } from './dom.js';

export class Panel {
  /**
   * Listens to `type` events of the page's element `id`.
   * @template {keyof HTMLElementEventMap} K
   * @param {string} id
   * @param {K} type
   * @param {(ev: HTMLElementEventMap[K]) => any} handler
   * @param {AddEventListenerOptions} [options]
   */
  on(id, type, handler, options) {
    $(id).addEventListener(type, handler, options);
  }
}

/**
 * The text of a thrown value (an Error's message, a string, else its JSON).
 * @param {unknown} e
 * @returns {string}
 */
export function messageOf(e) {
  if (e == null) return 'unknown error';
  if (typeof e === 'string') return e;
  if (e instanceof Error) return e.message || String(e);
  const m = /** @type {{message?: unknown}} */ (e).message;
  if (typeof m === 'string' && m) return m;
  try {
    return JSON.stringify(e) ?? String(e);
  } catch {
    return String(e);
  }
}

/** A view's error box (role=alert) and status line. */
export class Messages {
  /**
   * @param {string} errorId the error box
   * @param {string} statusId the status line
   */
  constructor(errorId, statusId) {
    this.errorId = errorId;
    this.statusId = statusId;
  }

  /**
   * Shows `message` in the error box; `keep` adds it under the message shown.
   * @param {string} message
   * @param {boolean} [keep]
   */
  showError(message, keep = false) {
    const el = $(this.errorId);
    el.textContent = keep && !el.hidden && el.textContent ? `${el.textContent}\n${message}` : message;
    el.hidden = false;
  }

  /** Empties and hides the error box. */
  clearError() {
    $(this.errorId).hidden = true;
    $(this.errorId).textContent = '';
  }

  /** @param {string} text */
  setStatus(text) {
    $(this.statusId).textContent = text;
  }
}
