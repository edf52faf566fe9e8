// The Cluster panel's "Index delegates": each cluster's delegate analysed through the scan's pipeline on the
// scan's worker pool (the next nearest member when it gives no grain, at most 5 tries, as
// `lauekit cluster --index-delegates`), then the clusters coloured by the orientation found.

import { Panel, messageOf } from '../../lib/panel.js';
import { ScanRun } from './pool.js';

const DELEGATE_TRIES = 5;

export class DelegatesPanel extends Panel {
  /**
   * @param {import('./cluster.js').ClusterContext} ctx
   * @param {{indexed: () => void}} hooks the clusters are indexed: show them (labeler IPF Z)
   */
  constructor(ctx, hooks) {
    super();
    this.ctx = ctx;
    this.hooks = hooks;
  }

  /** Wires the "Index delegates" button. */
  wire() {
    this.on('cluster-index', 'click', () => this.run());
  }

  /**
   * Analyses points `indices` of the clustered source with the scan's request; resolves to their PointResults.
   * @param {number[]} indices
   * @returns {Promise<Map<number, any>>}
   */
  analysePoints(indices) {
    const { state } = this.ctx;
    const input = state.input;
    const results = new Map();
    return new Promise((resolve, reject) => {
      const r = new ScanRun({
        size: Math.max(1, Math.min(indices.length, input.workers)),
        count: indices.length,
        setup: { type: 'setup', grid: input.grid, request: input.request, calibration: input.calibration,
          synthetic: input.synthetic },
        pointMessage: (j) => input.pointMessage(indices[j]),
        onPoint: (p) => results.set(p.index, p),
        onFail: (m) => reject(new Error(m)),
        onDone: () => resolve(results),
      });
      state.run = { kind: 'delegates', run: r, resolve: () => reject(new Error('cancelled')) };
      this.ctx.updateButtons();
      r.start();
    });
  }

  /**
   * Indexes every cluster's delegate (then the next nearest members, at most 5 tries) and colours the clusters by
   * the orientation found; false (and a message) when it cannot.
   * @returns {Promise<boolean>}
   */
  async run() {
    const { state, session, messages } = this.ctx;
    const c = state.clustering;
    if (!c || state.run) return false;
    messages.clearError();
    if (!state.input.calibration) {
      messages.showError('Index delegates: the scan has no calibration; drop its LaueTools .det and cluster again.');
      return false;
    }
    const failed = new Set(state.failed);
    const clusters = c.members.map((/** @type {number[]} */ m, /** @type {number} */ label) => ({
      label, delegate: m[0], material: null, ub: null, matching_rate: null, tried: 0,
      // as the CLI: members nearest the centroid first, at most 4 × DELEGATE_TRIES looked at; a member without peaks
      // (an empty pattern in a mixed cluster) does not count as a try
      queue: m.filter((i) => !failed.has(i)).slice(0, 4 * DELEGATE_TRIES), grain: null,
    }));
    const t0 = performance.now();
    let images = 0;
    try {
      for (;;) {
        const todo = clusters.filter((/** @type {any} */ x) => !x.grain && x.queue.length && x.tried < DELEGATE_TRIES);
        if (!todo.length) break;
        const jobs = todo.map((/** @type {any} */ x) => ({ x, index: x.queue.shift() }));
        messages.setIndexStatus(`indexing ${jobs.length} delegate${jobs.length > 1 ? 's' : ''}${images ? ' (next members)' : ''}…`);
        const results = await this.analysePoints(jobs.map((/** @type {{index: number}} */ j) => j.index));
        images += jobs.length;
        for (const { x, index } of jobs) {
          if ((results.get(index)?.n_peaks ?? 0) > 0) x.tried += 1;
          const g = results.get(index)?.grains?.[0];
          if (g) Object.assign(x, { grain: g, delegate: index, material: g.material, ub: g.ub, matching_rate: g.matching_rate });
        }
      }
    } catch (e) {
      state.run = null;
      this.ctx.updateButtons();
      messages.showError(`Index delegates: ${messageOf(e)}`);
      messages.setIndexStatus('');
      return false;
    }
    state.run = null;
    const out = clusters.map(({ label, delegate, material, ub, matching_rate, tried }) => ({ label, delegate, material, ub,
      matching_rate, tried }));
    const grains = clusters.map((/** @type {any} */ x) => x.grain);
    try {
      await session.call('delegates', { clusters: out });
      const maps = await session.call('orientation_maps', { grains, request: state.input.request });
      state.indexed = { clusters: out, grains, maps, seconds: (performance.now() - t0) / 1000, images };
    } catch (e) {
      messages.showError(`Index delegates: ${messageOf(e)}`);
      this.ctx.updateButtons();
      return false;
    }
    const found = out.filter((x) => x.material).length;
    messages.setIndexStatus(`${found} of ${out.length} clusters indexed (${images} image${images > 1 ? 's' : ''} analysed, `
      + `${state.indexed.seconds.toFixed(1)} s); the labeler shows their orientations.`);
    this.hooks.indexed();
    return true;
  }
}
