// Requests to a Web Worker as promises: the page's side (`WorkerRpc`) and the worker's side (`serveRpc`).
//
//   page:    const rpc = new WorkerRpc(worker);
//            const value = await rpc.call('fit', { pca: 32 }, { onProgress, transfer, signal });
//   worker:  serveRpc({ fit(args, { progress, signal, transfer }) { …; return value; } }, { ready: booted });
//
// Messages (structured clones; other messages of the worker — its 'ready' and 'boot-error', a view's own
// message types — carry no `rpc` field and are left to the worker's other listeners):
//   page → worker   {rpc: id, op, args}                   a request (id: a number, unique per WorkerRpc)
//                   {rpc: id, cancel: true}               the caller gave up (its AbortSignal fired)
//   worker → page   {rpc: id, progress}                   progress of request id, given to its `onProgress`
//                   {rpc: id, ok: true, value, worker_ms} the handler's value, the time it took in the worker
//                   {rpc: id, ok: false, message}         what the handler threw
//
// Cancelling rejects the caller's promise at once (with the signal's reason, an AbortError by default) and tells
// the worker, whose handler sees its `signal` aborted (a request still waiting its turn is not run at all). A
// handler busy in synchronous code only sees it once it returns or awaits: its late answer is dropped.

/** @typedef {{resolve: (r: {value: any, workerMs: number}) => void, reject: (e: any) => void,
 *    onProgress?: (p: any) => void, done: () => void}} Pending */

/**
 * @typedef {object} CallOptions
 * @property {(progress: any) => void} [onProgress] receives the handler's `progress(…)` values
 * @property {Transferable[]} [transfer] the args' buffers to transfer rather than copy
 * @property {AbortSignal} [signal] cancels the request
 */

/** The reason an aborted signal gives (its `reason`, or an AbortError). */
function abortReason(/** @type {AbortSignal} */ signal) {
  return signal.reason ?? new DOMException('The request was cancelled', 'AbortError');
}

export class WorkerRpc {
  /** @param {Worker} worker a worker that runs `serveRpc` */
  constructor(worker) {
    this.worker = worker;
    this.nextId = 1;
    /** @type {Map<number, Pending>} */
    this.pending = new Map();
    /** @type {Error | null} set by `failAll`: later calls reject with it */
    this.failure = null;
    this.onMessage = (/** @type {MessageEvent} */ ev) => this.receive(ev.data);
    worker.addEventListener('message', this.onMessage);
  }

  /**
   * Sends request `op` with `args`; resolves to the handler's value.
   * @param {string} op
   * @param {object} [args]
   * @param {CallOptions} [options]
   * @returns {Promise<any>}
   */
  async call(op, args = {}, options = {}) {
    return (await this.request(op, args, options)).value;
  }

  /**
   * As `call`, with the time the handler took in the worker: resolves to {value, workerMs}.
   * @param {string} op
   * @param {object} [args]
   * @param {CallOptions} [options]
   * @returns {Promise<{value: any, workerMs: number}>}
   */
  request(op, args = {}, { onProgress, transfer = [], signal } = {}) {
    if (this.failure) return Promise.reject(this.failure);
    if (signal?.aborted) return Promise.reject(abortReason(signal));
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      const onAbort = () => {
        if (!this.pending.has(id)) return;
        this.pending.delete(id);
        this.worker.postMessage({ rpc: id, cancel: true });
        reject(abortReason(/** @type {AbortSignal} */ (signal)));
      };
      const done = () => signal?.removeEventListener('abort', onAbort);
      this.pending.set(id, { resolve, reject, onProgress, done });
      signal?.addEventListener('abort', onAbort, { once: true });
      this.worker.postMessage({ rpc: id, op, args }, transfer);
    });
  }

  /** Rejects every request waiting for an answer, and every later one, with `error` (the worker is gone). */
  failAll(/** @type {Error} */ error) {
    this.failure = error;
    for (const p of this.pending.values()) {
      p.done();
      p.reject(error);
    }
    this.pending.clear();
  }

  /** Stops listening to the worker (whose requests then never settle: call `failAll` first). */
  dispose() {
    this.worker.removeEventListener('message', this.onMessage);
  }

  /** @param {any} m a message of the worker */
  receive(m) {
    if (!m || typeof m.rpc !== 'number') return;
    const p = this.pending.get(m.rpc);
    if (!p) return; // cancelled meanwhile
    if ('progress' in m) {
      p.onProgress?.(m.progress);
      return;
    }
    this.pending.delete(m.rpc);
    p.done();
    if (m.ok) p.resolve({ value: m.value, workerMs: m.worker_ms });
    else p.reject(new Error(m.message));
  }
}

/** A readable message of anything thrown (Error, wasm-bindgen's JsError, string). */
function messageOf(/** @type {any} */ e) {
  if (e == null) return 'unknown error';
  if (typeof e === 'string') return e;
  return e.message || String(e);
}

/**
 * @typedef {object} RequestContext
 * @property {(progress: any) => void} progress sends a progress value to the caller's `onProgress`
 * @property {AbortSignal} signal aborted when the caller cancels
 * @property {Transferable[]} transfer buffers of the value to transfer (the handler pushes them)
 */

/**
 * @typedef {object} ServeOptions
 * @property {Promise<unknown>} [ready] awaited before the first request (e.g. the worker's wasm boot); when it
 *   rejects, requests get no answer (the boot error is reported otherwise)
 * @property {(run: () => Promise<void>) => void} [schedule] runs a request: by default one at a time in the order
 *   received; a worker with its own queue for other messages passes a function that appends to that queue
 * @property {(value: any) => Transferable[]} [transferOf] buffers of a value to transfer when the handler named none
 */

/**
 * Serves `handlers` (op → (args, context) → value or promise) to the page's `WorkerRpc` (inside a worker).
 * @param {Record<string, (args: any, context: RequestContext) => any>} handlers
 * @param {ServeOptions} [options]
 */
export function serveRpc(handlers, { ready = Promise.resolve(), schedule, transferOf = () => [] } = {}) {
  /** @type {Map<number, AbortController>} */
  const controllers = new Map();
  let queue = Promise.resolve();
  const run = schedule ?? ((/** @type {() => Promise<void>} */ job) => { queue = queue.then(job); });
  const post = (/** @type {any} */ m, /** @type {Transferable[]} */ transfer = []) => self.postMessage(m, { transfer });

  self.addEventListener('message', (ev) => {
    const m = /** @type {MessageEvent} */ (ev).data;
    if (!m || typeof m.rpc !== 'number') return;
    const id = m.rpc;
    if (m.cancel) {
      controllers.get(id)?.abort();
      return;
    }
    const controller = new AbortController();
    controllers.set(id, controller);
    run(async () => {
      try {
        await ready;
      } catch {
        controllers.delete(id);
        return; // boot-error already reported
      }
      const signal = controller.signal;
      if (signal.aborted) {
        controllers.delete(id);
        return;
      }
      const t0 = performance.now();
      /** @type {Transferable[]} */
      const transfer = [];
      const context = { progress: (/** @type {any} */ progress) => post({ rpc: id, progress }), signal, transfer };
      try {
        if (!Object.hasOwn(handlers, m.op)) throw new Error(`unknown request ${m.op}`);
        const value = await handlers[m.op](m.args ?? {}, context);
        if (signal.aborted) return;
        post({ rpc: id, ok: true, value, worker_ms: performance.now() - t0 }, transfer.length ? transfer : transferOf(value));
      } catch (e) {
        if (!signal.aborted) post({ rpc: id, ok: false, message: messageOf(e) });
      } finally {
        controllers.delete(id);
      }
    });
  });
}
