// DOM helpers of the page: the element lookup every view uses, typed for the type check (tsconfig.json).

/**
 * @overload
 * @param {string} id
 * @returns {HTMLElement}
 */
/**
 * @template {keyof HTMLElementTagNameMap} K
 * @overload
 * @param {string} id
 * @param {K} tag the element's tag name: types the result (not checked at run time, the ids are the page's own)
 * @returns {HTMLElementTagNameMap[K]}
 */
/**
 * The page's element with id `id`; `$(id, 'input')` is the same element typed as an HTMLInputElement.
 * @param {string} id
 * @param {string} [tag]
 * @returns {HTMLElement}
 */
// eslint-disable-next-line no-unused-vars
export function $(id, tag) {
  return /** @type {HTMLElement} */ (document.getElementById(id));
}
