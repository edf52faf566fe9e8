// The Cluster panel's settings: the features (pixels, peaks, autoencoder; WebGPU), the PCA components, the K
// range, and after a clustering the K slider, the estimator and the labeler of the map.

import { $ } from '../../lib/dom.js';
import { Panel } from '../../lib/panel.js';

/**
 * @typedef {object} ClusterSettingsHooks
 * @property {() => void} run the Cluster button
 * @property {() => void} cancel the Cancel button
 * @property {() => void} refit the PCA components or the K range changed (after a clustering)
 * @property {(k: number) => void} setK the slider moved
 * @property {(method: string) => void} setMethod
 * @property {(name: string) => void} setLabeler
 */

export class ClusterSettingsPanel extends Panel {
  /** @param {ClusterSettingsHooks} hooks */
  constructor(hooks) {
    super();
    this.hooks = hooks;
  }

  wire() {
    const h = this.hooks;
    this.on('cluster-run', 'click', () => h.run());
    this.on('cluster-cancel', 'click', () => h.cancel());
    this.on('cluster-k', 'input', () => h.setK(Number($('cluster-k', 'input').value)));
    this.on('cluster-method', 'change', () => h.setMethod($('cluster-method', 'select').value));
    this.on('cluster-labeler', 'change', () => h.setLabeler($('cluster-labeler', 'select').value));
    for (const id of ['cluster-pca', 'cluster-kmin', 'cluster-kmax']) this.on(id, 'change', () => h.refit());
  }

  /**
   * Enables the autoencoder features when the build has them.
   * @param {boolean} available
   */
  setAeAvailable(available) {
    const ae = /** @type {HTMLInputElement} */ (document.querySelector('input[name="cluster-features"][value="ae"]'));
    ae.disabled = !available;
    $('cluster-ae-label').classList.toggle('disabled', !available);
    if (!available) $('cluster-ae-label').title = 'the autoencoder (or its weights) is not in this build of the page';
    $('cluster-webgpu', 'input').disabled = !available;
  }

  /** The features chosen: 'pixels', 'peaks' or 'ae'. */
  featureChoice() {
    return /** @type {HTMLInputElement | null} */ (document.querySelector('input[name="cluster-features"]:checked'))?.value ?? 'pixels';
  }

  /** Whether the autoencoder may run on WebGPU. */
  webgpu() {
    return $('cluster-webgpu', 'input').checked;
  }

  /** The PCA components and the K range, and what is wrong with them. */
  readNumbers() {
    const problems = [];
    const pca = Number($('cluster-pca', 'input').value);
    if (!Number.isInteger(pca) || pca < 1 || pca > 512) problems.push('PCA components: a whole number from 1 to 512');
    const kMin = Number($('cluster-kmin', 'input').value);
    const kMax = Number($('cluster-kmax', 'input').value);
    if (!Number.isInteger(kMin) || !Number.isInteger(kMax) || kMin < 2 || kMax < kMin || kMax > 1000) {
      problems.push('K range: whole numbers with 2 ≤ K from ≤ K to ≤ 1000');
    }
    return { pca, kMin, kMax, problems };
  }

  /**
   * The slider over the K scanned, at `k`.
   * @param {number[]} ks
   * @param {number} k
   */
  setKRange(ks, k) {
    const slider = $('cluster-k', 'input');
    slider.min = String(Math.min(...ks));
    slider.max = String(Math.max(...ks));
    slider.value = String(k);
  }

  /**
   * Enables the controls for the panel's state.
   * @param {{running: boolean, ready: boolean, scanned: boolean, clustered: boolean, aeAvailable: boolean}} s
   */
  update({ running, ready, scanned, clustered, aeAvailable }) {
    $('cluster-run', 'button').disabled = running || !ready;
    $('cluster-cancel', 'button').disabled = !running;
    $('cluster-k', 'input').disabled = running || !scanned;
    $('cluster-method', 'select').disabled = running || !scanned;
    $('cluster-labeler', 'select').disabled = !clustered;
    $('cluster-index', 'button').disabled = running || !clustered;
    for (const id of ['cluster-save-json', 'cluster-save-png', 'cluster-save-csv']) $(id, 'button').disabled = !clustered || running;
    for (const id of ['cluster-pca', 'cluster-kmin', 'cluster-kmax']) $(id, 'input').disabled = running;
    for (const r of /** @type {NodeListOf<HTMLInputElement>} */ (document.querySelectorAll('input[name="cluster-features"]'))) {
      r.disabled = running || (r.value === 'ae' && !aeAvailable);
    }
  }
}
