// The Cluster panel's session worker (cluster-worker.js: a ClusterSession holding the features, PCA, clusterings
// and label maps), started on first use and reached through lib/rpc.js requests; the panel's messages.

import { spawnWorker } from '../../lib/wasm.js';
import { WorkerRpc } from '../../lib/rpc.js';
import { $ } from '../../lib/dom.js';
import { Messages, messageOf } from '../../lib/panel.js';

export class SessionClient {
  constructor() {
    /** @type {Worker | null} */
    this.worker = null;
    /** @type {WorkerRpc | null} requests to the session's worker */
    this.rpc = null;
    /** @type {Promise<void> | null} */
    this.ready = null;
  }

  /** Starts the worker once; resolves when it has loaded the package. */
  start() {
    if (this.ready) return this.ready;
    this.ready = new Promise((resolve, reject) => {
      try {
        this.worker = spawnWorker(new URL('./cluster-worker.js', import.meta.url));
      } catch (e) {
        reject(new Error(`Could not start the clustering worker: ${messageOf(e)}`));
        return;
      }
      const worker = this.worker;
      const rpc = new WorkerRpc(worker);
      this.rpc = rpc;
      worker.addEventListener('message', (ev) => {
        const m = ev.data;
        if (m.type === 'ready') {
          resolve();
        } else if (m.type === 'boot-error') {
          const e = new Error(`The clustering worker could not load the WebAssembly package: ${m.message}`);
          reject(e);
          rpc.failAll(e);
        }
      });
      worker.onerror = (ev) => {
        ev.preventDefault();
        const e = new Error(`The clustering worker failed: ${ev.message || 'could not load views/scan/cluster-worker.js'}`);
        reject(e);
        rpc.failAll(e);
      };
    });
    return this.ready;
  }

  /**
   * A request to the session's worker; resolves to {value, workerMs}.
   * @param {string} op
   * @param {Record<string, any>} [args]
   * @param {Transferable[]} [transfer]
   * @returns {Promise<{value: any, workerMs: number}>}
   */
  async request(op, args = {}, transfer = []) {
    await this.start();
    return this.rpc.request(op, args, { transfer });
  }

  /**
   * As `request`, the value only.
   * @param {string} op
   * @param {Record<string, any>} [args]
   * @param {Transferable[]} [transfer]
   * @returns {Promise<any>}
   */
  async call(op, args = {}, transfer = []) {
    return (await this.request(op, args, transfer)).value;
  }
}

/** The Cluster panel's error box (which shows the panel's results area too), status and delegate status lines. */
export class ClusterMessages extends Messages {
  constructor() {
    super('cluster-error', 'cluster-status');
  }

  /** @param {string} message */
  showError(message) {
    $('cluster-view').hidden = false;
    super.showError(message);
  }

  /** @param {string} text */
  setIndexStatus(text) {
    $('cluster-index-status').textContent = text;
  }
}
