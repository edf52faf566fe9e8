// Spot quality in the "Images & peaks" view: the spot-characterisation CNN (src/spotnet) run in the peak-search
// worker on the current image's peaks (CPU, or WebGPU when the browser has it), the spots coloured by their
// similarity to a Gaussian (dashed: not "good"), editable good-spot thresholds, histograms of the descriptors.

import { clearedPlot } from '../../lib/plotcanvas.js';
import { SIM_SCALES, rampStops } from '../../lib/colors.js';

/** Sim → colour on a scale of SIM_SCALES: by default (colour-blind safe) vermillion (0) → yellow (0.5) → sky blue
 * (1); 'redgreen' the former red → amber → green. */
export function simColor(sim, scale = 'cvd') {
  const c = rampStops(SIM_SCALES[scale] ?? SIM_SCALES.cvd, Math.max(0, Math.min(1, sim)));
  return `rgb(${c[0]}, ${c[1]}, ${c[2]})`;
}

/** Words for the legend of each Sim scale. */
const SIM_SCALE_WORDS = {
  cvd: 'vermillion (Sim 0) → yellow → sky blue (Sim 1)',
  redgreen: 'red (Sim 0) → amber → green (Sim 1)',
};

/** Offset of the CNN's position from the spot pixel s (the detected pixel the cut-out is built on) (px). */
export function offsetPx(peak, d) {
  return Math.hypot(d.pos_x - Math.round(peak.x - (peak.x_dev ?? 0)), d.pos_y - Math.round(peak.y - (peak.y_dev ?? 0)));
}

export class SpotQuality {
  /**
   * @param {object} o
   * @param {typeof import('../../lib/dom.js').$} o.$
   * @param {Worker} o.worker
   * @param {() => object|null} o.image the current image entry ({id, name, search, quality})
   * @param {() => void} o.changed redraw the overlay and the table
   * @param {(msg: string) => void} o.showError
   * @param {(ok: boolean) => void} [o.onDone] called when a run ends (the page's "Analyse" goes on to indexing)
   */
  constructor(o) {
    this.$ = o.$;
    this.worker = o.worker;
    this.image = o.image;
    this.changed = o.changed;
    this.showError = o.showError;
    this.onDone = o.onDone;
    this.job = 0;
    this.running = null;
    /** For tests: completed runs. */
    this.runs = 0;
  }

  start() {
    const $ = this.$;
    $('run-quality').addEventListener('click', () => this.run());
    // The colour scale of the circles (made here: the panel's markup has no place for it).
    if (!document.getElementById('quality-sim-colours')) {
      const label = document.createElement('label');
      label.append('Sim colours');
      const sel = document.createElement('select');
      sel.id = 'quality-sim-colours';
      for (const [value, text] of [['cvd', 'colour-blind safe: vermillion → yellow → blue'],
        ['redgreen', 'red → amber → green']]) {
        const o = document.createElement('option');
        o.value = value;
        o.textContent = text;
        sel.append(o);
      }
      label.append(sel);
      const grid = $('quality-panel').querySelector('.grid3');
      if (grid) grid.after(label);
      else $('quality-panel').append(label);
    }
    $('quality-sim-colours').addEventListener('change', () => { this.render(); this.changed(); });
    for (const id of ['quality-min-sim', 'quality-max-offset']) {
      $(id).addEventListener('input', () => { this.render(); this.changed(); });
    }
    this.render();
  }

  criteria() {
    const minSim = Number(this.$('quality-min-sim', 'input').value);
    const maxOffset = Number(this.$('quality-max-offset', 'input').value);
    return {
      min_sim: Number.isFinite(minSim) ? minSim : 0.55,
      max_offset_px: Number.isFinite(maxOffset) ? maxOffset : 0.9,
    };
  }

  /** The Sim colour scale chosen ('cvd' by default). */
  simScale() {
    const el = /** @type {HTMLSelectElement | null} */ (document.getElementById('quality-sim-colours'));
    return el?.value || 'cvd';
  }

  /** Whether a spot passes the thresholds now set (the worker's `good` used the ones of its run). */
  isGood(peak, d) {
    const c = this.criteria();
    return d.sim > c.min_sim && offsetPx(peak, d) <= c.max_offset_px;
  }

  /** Starts characterising the current image's peaks; false when there are none or a run is going. */
  run() {
    const img = this.image();
    if (!img?.search || img.search.peaks.length === 0 || this.running) {
      if (!img?.search) this.setStatus('Find the peaks first, then characterise them.');
      return false;
    }
    const job = ++this.job;
    const device = this.$('quality-device', 'select').value;
    this.running = { job, id: img.id, peaks: img.search.peaks, device };
    this.$('quality-progress').removeAttribute('value');
    this.setStatus(`characterising ${img.search.peaks.length} spots on ${device === 'gpu' ? 'WebGPU' : 'the CPU'}…`);
    this.render();
    // Cut-outs on the detected pixels (fitted position minus the fit's offset), as the network was trained and
    // as `lauekit characterize` does.
    const peaks = img.search.peaks.map((p) => ({ x: p.x - (p.x_dev ?? 0), y: p.y - (p.y_dev ?? 0) }));
    this.worker.postMessage({ type: 'characterize', id: img.id, job, peaks, criteria: this.criteria(),
      prefer_gpu: device === 'gpu' });
    return true;
  }

  /** Handles the worker's replies; true when the message was one. */
  onWorkerMessage(m) {
    if (m.type !== 'characterized' && !(m.type === 'error' && this.running && m.job === this.running.job)) return false;
    const run = this.running;
    if (!run || m.job !== run.job) return true;
    this.running = null;
    this.$('quality-progress', 'progress').value = m.type === 'characterized' ? 1 : 0;
    if (m.type === 'error') {
      this.showError(`Spot characterisation failed: ${m.message}`);
      this.setStatus('characterisation failed (see the message above)');
      this.render();
      this.onDone?.(false);
      return true;
    }
    const img = this.image();
    if (img && img.id === run.id && img.search && img.search.peaks === run.peaks) {
      img.quality = { descriptors: m.result.descriptors, device: m.result.device, fallback: m.result.fallback_reason,
        elapsed_ms: m.result.elapsed_ms, worker_ms: m.worker_ms, peaks: run.peaks };
      this.runs += 1;
      const n = m.result.descriptors.length;
      this.setStatus(`${n} spots characterised on ${m.result.device} in ${Math.round(m.result.elapsed_ms)} ms `
        + `(${(m.result.elapsed_ms / Math.max(n, 1)).toFixed(2)} ms per spot)`
        + `${m.result.fallback_reason ? `; ${m.result.fallback_reason}` : ''}.`);
    } else {
      this.setStatus('Characterised a peak list that has changed since; run again.');
    }
    this.render();
    this.changed();
    this.onDone?.(true);
    return true;
  }

  /** Per-peak styles for the overlay (null when the current image has no descriptors for its peaks). */
  styles() {
    const img = this.image();
    const q = img?.quality;
    if (!q || !img.search || q.peaks !== img.search.peaks) return null;
    return img.search.peaks.map((p, i) => {
      const d = q.descriptors[i];
      return { color: simColor(d.sim, this.simScale()), dashed: !this.isGood(p, d) };
    });
  }

  /** The descriptors of peak i of the current image (for the table), or null. */
  row(i) {
    const img = this.image();
    const q = img?.quality;
    if (!q || !img.search || q.peaks !== img.search.peaks) return null;
    const p = img.search.peaks[i];
    const d = q.descriptors[i];
    return { sim: d.sim, asp: d.asp, area: d.area, offset: offsetPx(p, d), good: this.isGood(p, d) ? 'yes' : 'no' };
  }

  render() {
    const img = this.image();
    const q = img?.quality && img.search && img.quality.peaks === img.search.peaks ? img.quality : null;
    this.$('run-quality', 'button').disabled = !img?.search || Boolean(this.running);
    const summary = this.$('quality-summary');
    if (!q) {
      summary.textContent = img?.search ? 'Not characterised yet.' : '';
      this.drawHistograms(null);
      return;
    }
    const peaks = img.search.peaks;
    const good = peaks.filter((p, i) => this.isGood(p, q.descriptors[i])).length;
    summary.textContent = `${good} of ${peaks.length} spots good (Sim > ${this.criteria().min_sim}, `
      + `offset ≤ ${this.criteria().max_offset_px} px); circles coloured by Sim, ${SIM_SCALE_WORDS[this.simScale()] ?? ''}, dashed when not good.`;
    this.drawHistograms(peaks.map((p, i) => ({ d: q.descriptors[i], off: offsetPx(p, q.descriptors[i]) })));
  }

  drawHistograms(rows) {
    const { g, w, h, tick } = clearedPlot(this.$('quality-hist'), 300, 120);
    if (!rows || rows.length === 0) return;
    const panels = [
      { label: 'Sim', lo: 0, hi: 1, get: (r) => r.d.sim, mark: this.criteria().min_sim, fmt: (v) => String(v) },
      { label: 'Asp', lo: 0, hi: 1, get: (r) => r.d.asp, fmt: (v) => String(v) },
      { label: 'Area (px²)', lo: 0, hi: 5 * Math.PI, get: (r) => r.d.area, fmt: (v) => v.toFixed(0) },
      { label: '|Pos − s| (px)', lo: 0, hi: 1.6, get: (r) => r.off, mark: this.criteria().max_offset_px, fmt: (v) => String(v) },
    ];
    const bins = 12;
    const pw = w / panels.length;
    g.font = '10px system-ui, sans-serif';
    g.textAlign = 'center';
    panels.forEach((p, k) => {
      const counts = new Array(bins).fill(0);
      for (const r of rows) {
        const v = p.get(r);
        const b = Math.min(bins - 1, Math.max(0, Math.floor(((v - p.lo) / (p.hi - p.lo)) * bins)));
        counts[b] += 1;
      }
      const top = Math.max(...counts, 1);
      const x0 = k * pw + 6;
      const bw = (pw - 12) / bins;
      const y0 = h - 26;
      const ph = h - 40;
      g.fillStyle = '#4b6cb7';
      counts.forEach((n, b) => g.fillRect(x0 + b * bw, y0 - (ph * n) / top, Math.max(1, bw - 1), (ph * n) / top));
      g.strokeStyle = '#999';
      g.beginPath();
      g.moveTo(x0, y0 + 0.5);
      g.lineTo(x0 + bins * bw, y0 + 0.5);
      g.stroke();
      if (p.mark != null) {
        const xm = x0 + ((p.mark - p.lo) / (p.hi - p.lo)) * bins * bw;
        g.strokeStyle = '#c2410c';
        g.beginPath();
        g.moveTo(xm, y0);
        g.lineTo(xm, y0 - ph - 4);
        g.stroke();
      }
      g.fillStyle = '#444';
      g.fillText(p.label, x0 + (bins * bw) / 2, h - 3);
      // Axis values: the range of the values (x) and the count of the tallest bin (y, spots).
      g.textAlign = 'left';
      tick('x', p.fmt(p.lo), x0, y0 + 11);
      g.textAlign = 'right';
      tick('x', p.fmt(p.hi), x0 + bins * bw, y0 + 11);
      g.textAlign = 'left';
      tick('y', `${top}`, x0, 10);
      g.textAlign = 'center';
    });
  }

  setStatus(text) {
    this.$('quality-status').textContent = text;
  }
}
