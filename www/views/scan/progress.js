// The Scan view's run panel: starting a scan over the worker pool (pool.js), its progress bar, status and counts
// of point statuses, cancelling it, and the record of finished runs (`lauekitScan.runs`).

import { $ } from '../../lib/dom.js';
import { Panel, messageOf } from '../../lib/panel.js';
import { ScanRun } from './pool.js';
import { SourcePanel } from './source.js';

/**
 * @param {number} s seconds
 * @returns {string}
 */
function formatSeconds(s) {
  if (!Number.isFinite(s)) return '—';
  if (s < 60) return `${Math.ceil(s)} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min ${Math.round(s % 60)} s`;
  return `${Math.floor(s / 3600)} h ${Math.round((s % 3600) / 60)} min`;
}

/**
 * Points per status.
 * @param {any[]} points PointResults (holes for points not analysed)
 * @returns {Record<string, number>}
 */
export function countStatuses(points) {
  /** @type {Record<string, number>} */
  const c = { indexed: 0, not_indexed: 0, no_peaks: 0, searched: 0, failed: 0 };
  for (const p of points) if (p) c[p.status] = (c[p.status] ?? 0) + 1;
  return c;
}

/**
 * @typedef {object} RunParts
 * @property {import('./source.js').SourcePanel} source
 * @property {import('./settings.js').SettingsPanel} settings
 * @property {import('./maps.js').MapPanel} maps
 * @property {() => string} blocker why the scan cannot run now, or ''
 */

export class RunPanel extends Panel {
  /**
   * @param {import('./scan.js').ScanContext} ctx
   * @param {RunParts} parts
   */
  constructor(ctx, parts) {
    super();
    this.ctx = ctx;
    this.parts = parts;
  }

  /** Wires the Run and Cancel buttons. */
  wire() {
    this.on('scan-run', 'click', () => this.run());
    this.on('scan-cancel', 'click', () => this.cancel());
  }

  /** Starts the scan; false (and a message) when it cannot. */
  run() {
    const { state, wasm, messages } = this.ctx;
    const { source, settings, maps } = this.parts;
    if (!wasm || state.run) return false;
    messages.clearError();
    const why = this.parts.blocker();
    if (why) {
      messages.setStatus(why);
      return false;
    }
    const { grid } = source.readGrid();
    const { request, problems } = settings.readRequest();
    if (problems.length) {
      messages.showError(`Scan settings: ${problems.join('; ')}`);
      return false;
    }
    const calibration = state.calibration.calibration;
    // The library checks the settings once here, with its own message, before any worker starts.
    try {
      new wasm.ScanWorker(grid, calibration, request).free();
    } catch (e) {
      messages.showError(`Scan settings: ${messageOf(e)}`);
      return false;
    }
    const src = state.source;
    const count = source.pointCount();
    const size = Math.max(1, Math.min(count, settings.workers()));
    const previous = state.results?.source;
    state.results = { grid, request, points: new Array(count), done: 0, seconds: 0, label: src.label,
      det: { text: state.calibration.text, name: state.calibration.name }, source: src };
    source.release(previous);
    maps.clear();
    const setup = { type: /** @type {const} */ ('setup'), grid, request, calibration,
      synthetic: src.kind === 'synthetic' ? src.spec : undefined };
    const r = new ScanRun({
      size, count, setup,
      pointMessage: (index) => SourcePanel.pointMessage(src, index),
      onPoint: (p) => this.onPoint(p),
      onFail: (m) => this.end(`Scan stopped: ${m}`, true),
      onDone: () => this.end(null, false),
    });
    state.run = r;
    $('scan-progress', 'progress').value = 0;
    $('scan-progress').classList.add('running');
    messages.setStatus(`starting ${size} worker${size > 1 ? 's' : ''}…`);
    $('scan-counts').textContent = '';
    this.ctx.updateButtons();
    r.start();
    return true;
  }

  /** @param {any} p a finished point's PointResult */
  onPoint(p) {
    const { state, messages } = this.ctx;
    const res = state.results;
    const r = state.run;
    if (!res || !r) return;
    res.points[p.index] = p;
    res.done += 1;
    res.seconds = r.elapsedMs() / 1000;
    $('scan-progress', 'progress').value = res.done / res.points.length;
    const rate = res.done / Math.max(1e-9, res.seconds);
    const left = res.points.length - res.done;
    messages.setStatus(`${res.done} / ${res.points.length} points · ${rate.toFixed(1)} points/s · ETA ${formatSeconds(left / rate)}`
      + ` · ${r.size} worker${r.size > 1 ? 's' : ''}`);
    this.showCounts();
    this.parts.maps.schedule();
  }

  /** Stops the run in progress (points in flight are dropped). */
  cancel() {
    const r = this.ctx.state.run;
    if (!r) return;
    r.stop();
    this.end(null, false, true);
  }

  /**
   * The run ended: finished, failed (`message`) or cancelled.
   * @param {string | null} message
   * @param {boolean} failed
   * @param {boolean} [cancelled]
   */
  end(message, failed, cancelled = false) {
    const { state, messages, api } = this.ctx;
    const r = state.run;
    state.run = null;
    const res = state.results;
    $('scan-progress').classList.remove('running');
    if (r && res) {
      res.seconds = r.elapsedMs() / 1000;
      const rate = res.done / Math.max(1e-9, res.seconds);
      const counts = countStatuses(res.points);
      api.runs.push({ points: res.done, total: res.points.length, workers: r.size, seconds: res.seconds, rate,
        bootMs: r.bootMs, counts, cancelled, failed });
      if (failed) {
        messages.showError(message);
        messages.setStatus(`Stopped after ${res.done} of ${res.points.length} points (see the message).`);
      } else if (cancelled) {
        messages.setStatus(`Cancelled after ${res.done} of ${res.points.length} points (${res.seconds.toFixed(1)} s).`);
      } else {
        messages.setStatus(`Done: ${res.done} points in ${res.seconds.toFixed(1)} s (${rate.toFixed(1)} points/s, `
          + `${r.size} worker${r.size > 1 ? 's' : ''}).`);
      }
      this.showCounts();
    }
    this.parts.maps.update();
    this.ctx.updateButtons();
  }

  showCounts() {
    const res = this.ctx.state.results;
    if (!res) return;
    const c = countStatuses(res.points);
    const parts = [`${c.indexed} indexed`, `${c.not_indexed} not indexed`, `${c.no_peaks} without peaks`];
    if (c.searched) parts.push(`${c.searched} searched only`);
    parts.push(`${c.failed} failed`);
    $('scan-counts').textContent = `${res.done} of ${res.points.length} points: ${parts.join(', ')}.`;
    $('scan-counts').classList.toggle('warn', c.failed > 0);
  }
}
