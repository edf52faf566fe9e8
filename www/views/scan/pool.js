// The Scan view's worker pool: one run of scan-worker.js workers, each with its own wasm instance, taking a scan's
// points one at a time in acquisition order (the scan itself; the Cluster panel's feature and delegate passes).

import { spawnWorker } from '../../lib/wasm.js';
import { messageOf } from '../../lib/panel.js';
import { gridPosition } from '../../lib/gridmap.js';

/**
 * @typedef {object} ScanRunOptions
 * @property {number} size number of workers (at most the point count)
 * @property {number} count points
 * @property {{type: 'setup', grid: import('../../lib/gridmap.js').Grid} & Record<string, any>} setup the workers'
 *   setup message ({grid, calibration, request, synthetic, features?})
 * @property {(index: number) => object} pointMessage the message of point `index`
 * @property {(result: any) => void} onPoint a point finished (a PointResult)
 * @property {(message: string) => void} onFail the run stopped: no point can be analysed
 * @property {() => void} onDone every point finished
 */

/** One scan run: a pool of workers, points handed out one at a time in acquisition order. */
export class ScanRun {
  /** @param {ScanRunOptions} o */
  constructor(o) {
    this.size = o.size;
    this.count = o.count;
    this.setup = o.setup;
    this.pointMessage = o.pointMessage;
    this.onPoint = o.onPoint;
    this.onFail = o.onFail;
    this.onDone = o.onDone;
    this.next = 0;
    this.done = 0;
    /** @type {{worker: Worker, point: number | null, closed: boolean}[]} */
    this.slots = [];
    this.active = false;
    this.t0 = 0;
    /** @type {number | null} ms until every worker was set up */
    this.bootMs = null;
    this.setUp = 0;
  }

  /** Starts the workers; they take points as soon as they are set up. */
  start() {
    this.active = true;
    this.t0 = performance.now();
    for (let k = 0; k < this.size; k++) {
      let worker;
      try {
        worker = spawnWorker(new URL('./scan-worker.js', import.meta.url));
      } catch (e) {
        this.fail(`Could not start a scan worker: ${messageOf(e)}`);
        return;
      }
      const slot = { worker, point: null, closed: false };
      worker.onmessage = (ev) => this.onMessage(slot, ev.data);
      worker.onerror = (ev) => {
        ev.preventDefault();
        this.fail(`A scan worker failed: ${ev.message || 'could not load views/scan/scan-worker.js'}`);
      };
      this.slots.push(slot);
    }
  }

  /**
   * @param {{worker: Worker, point: number | null, closed: boolean}} slot
   * @param {any} m
   */
  onMessage(slot, m) {
    if (!this.active) return;
    if (m.type === 'ready') {
      slot.worker.postMessage(this.setup);
    } else if (m.type === 'boot-error') {
      this.fail(`A scan worker could not load the WebAssembly package: ${m.message}`);
    } else if (m.type === 'setup-error') {
      this.fail(`The scan's settings: ${m.message}`);
    } else if (m.type === 'setup-done') {
      this.setUp += 1;
      if (this.setUp === this.size) this.bootMs = performance.now() - this.t0;
      this.feed(slot);
    } else if (m.type === 'point-done' || m.type === 'point-unreadable') {
      slot.point = null;
      const result = m.type === 'point-done' ? m.result : this.failedPoint(m.index, m.name, m.message);
      this.done += 1;
      this.onPoint(result);
      if (this.active) this.feed(slot);
    } else if (m.type === 'job-error') {
      this.fail(`Point ${m.index} (${m.name}): ${m.message}`);
    }
  }

  /**
   * A point whose file could not be read, as the library reports failed points.
   * @param {number} index
   * @param {string} name
   * @param {string} message
   */
  failedPoint(index, name, message) {
    const [ix, iy] = gridPosition(this.setup.grid, index);
    return { index, ix, iy, image: name, status: 'failed', error: `${name}: cannot read: ${message}`, n_peaks: 0,
      intensity_sum: 0, peaks_intensity: 0, grains: [], elapsed_ms: 0 };
  }

  /** @param {{worker: Worker, point: number | null, closed: boolean}} slot */
  feed(slot) {
    if (this.next >= this.count) {
      slot.worker.terminate();
      slot.closed = true;
      if (this.done === this.count) this.finish();
      return;
    }
    const index = this.next++;
    slot.point = index;
    slot.worker.postMessage(this.pointMessage(index));
  }

  elapsedMs() {
    return performance.now() - this.t0;
  }

  finish() {
    this.stop();
    this.onDone();
  }

  /** @param {string} message */
  fail(message) {
    if (!this.active) return;
    this.stop();
    this.onFail(message);
  }

  /** Terminates every worker (points in flight are dropped). */
  stop() {
    this.active = false;
    for (const s of this.slots) {
      if (!s.closed) s.worker.terminate();
      s.closed = true;
    }
  }
}
