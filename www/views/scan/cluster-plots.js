// The Cluster panel's plots: the PCA's explained variance (bars, and the cumulated curve) and the scores against K
// (silhouette, Calinski–Harabasz; the suggested K dashed, the chosen K marked).

import { $ } from '../../lib/dom.js';
import { clearedPlot } from '../../lib/plotcanvas.js';

/**
 * @param {CanvasRenderingContext2D} g
 * @param {number} w
 * @param {number} h
 * @param {{l: number, r: number, t: number, b: number}} pad
 */
function axes(g, w, h, pad) {
  g.strokeStyle = '#8a93a6';
  g.lineWidth = 1;
  g.beginPath();
  g.moveTo(pad.l, pad.t);
  g.lineTo(pad.l, h - pad.b);
  g.lineTo(w - pad.r, h - pad.b);
  g.stroke();
  g.font = '10px system-ui, "DejaVu Sans", sans-serif';
  g.fillStyle = '#1d2330';
}

export class ClusterPlots {
  /** @param {{fit: any, scan: any, k: number | null}} state the cluster panel's state: the PCA fit, the K scan, K */
  constructor(state) {
    this.state = state;
  }

  /** Both plots. */
  draw() {
    this.drawEv();
    this.drawScores();
  }

  drawEv() {
    const { g, w, h, tick } = clearedPlot($('cluster-ev-plot'), 320, 180);
    const f = this.state.fit;
    if (!f) return;
    /** @type {number[]} */
    const r = f.explained_variance_ratio;
    const pad = { l: 34, r: 10, t: 10, b: 24 };
    axes(g, w, h, pad);
    const pw = w - pad.l - pad.r;
    const ph = h - pad.t - pad.b;
    const bw = pw / r.length;
    /** @param {number} v */
    const y = (v) => pad.t + ph * (1 - v);
    g.fillStyle = '#4a78c2';
    r.forEach((v, i) => g.fillRect(pad.l + i * bw + bw * 0.1, y(v), bw * 0.8, ph * v));
    g.strokeStyle = '#d0652a';
    g.lineWidth = 1.5;
    g.beginPath();
    let c = 0;
    r.forEach((v, i) => {
      c += v;
      const x = pad.l + (i + 0.5) * bw;
      if (i === 0) g.moveTo(x, y(c));
      else g.lineTo(x, y(c));
    });
    g.stroke();
    g.fillStyle = '#1d2330';
    g.textAlign = 'right';
    g.textBaseline = 'middle';
    for (const t of [0, 0.5, 1]) tick('y', `${t * 100}%`, pad.l - 3, y(t));
    g.textAlign = 'center';
    g.textBaseline = 'top';
    const step = Math.max(1, Math.ceil(r.length / 8));
    for (let i = 0; i < r.length; i += step) tick('x', String(i + 1), pad.l + (i + 0.5) * bw, h - pad.b + 3);
    g.fillText('component', pad.l + pw / 2, h - 11);
  }

  drawScores() {
    const { g, w, h, tick } = clearedPlot($('cluster-score-plot'), 320, 180);
    const s = this.state.scan;
    const chosen = this.state.k;
    if (!s) return;
    /** @type {{k: number, silhouette: number, calinski_harabasz: number}[]} */
    const sc = s.scores;
    const pad = { l: 34, r: 40, t: 10, b: 24 };
    axes(g, w, h, pad);
    const pw = w - pad.l - pad.r;
    const ph = h - pad.t - pad.b;
    const ks = sc.map((x) => x.k);
    const k0 = Math.min(...ks);
    const k1 = Math.max(...ks);
    /** @param {number} k */
    const x = (k) => pad.l + (k1 > k0 ? ((k - k0) / (k1 - k0)) * pw : pw / 2);
    /** @param {number[]} a */
    const finite = (a) => a.filter(Number.isFinite);
    /** @param {number[]} a */
    const range = (a) => {
      const f = finite(a);
      if (!f.length) return [0, 1];
      const lo = Math.min(...f);
      const hi = Math.max(...f);
      return hi > lo ? [lo, hi] : [lo - 1, hi + 1];
    };
    /** @type {(vals: number[], range: number[], colour: string) => void} */
    const line = (vals, [lo, hi], colour) => {
      g.strokeStyle = colour;
      g.fillStyle = colour;
      g.lineWidth = 1.5;
      g.beginPath();
      let on = false;
      sc.forEach((p, i) => {
        const v = vals[i];
        if (!Number.isFinite(v)) {
          on = false;
          return;
        }
        const yy = pad.t + ph * (1 - (v - lo) / (hi - lo));
        if (on) g.lineTo(x(p.k), yy);
        else g.moveTo(x(p.k), yy);
        on = true;
      });
      g.stroke();
      sc.forEach((p, i) => {
        const v = vals[i];
        if (Number.isFinite(v)) g.fillRect(x(p.k) - 1.5, pad.t + ph * (1 - (v - lo) / (hi - lo)) - 1.5, 3, 3);
      });
    };
    const sil = sc.map((p) => p.silhouette);
    const ch = sc.map((p) => p.calinski_harabasz);
    const rs = range(sil);
    const rc = range(ch);
    if (s.suggested_k != null) {
      g.strokeStyle = '#555';
      g.setLineDash([4, 3]);
      g.beginPath();
      g.moveTo(x(s.suggested_k), pad.t);
      g.lineTo(x(s.suggested_k), h - pad.b);
      g.stroke();
      g.setLineDash([]);
    }
    line(sil, rs, '#2f6fde');
    line(ch, rc, '#d0652a');
    if (chosen != null && chosen >= k0 && chosen <= k1) {
      const i = ks.indexOf(chosen);
      if (i >= 0 && Number.isFinite(sil[i])) {
        g.fillStyle = '#000';
        g.beginPath();
        g.arc(x(chosen), pad.t + ph * (1 - (sil[i] - rs[0]) / (rs[1] - rs[0])), 4, 0, 2 * Math.PI);
        g.fill();
      }
    }
    g.font = '10px system-ui, "DejaVu Sans", sans-serif';
    g.fillStyle = '#2f6fde';
    g.textAlign = 'right';
    g.textBaseline = 'middle';
    tick('y', rs[1].toFixed(2), pad.l - 3, pad.t);
    tick('y', rs[0].toFixed(2), pad.l - 3, h - pad.b);
    g.fillStyle = '#d0652a';
    g.textAlign = 'left';
    tick('y2', rc[1].toFixed(0), w - pad.r + 3, pad.t);
    tick('y2', rc[0].toFixed(0), w - pad.r + 3, h - pad.b);
    g.fillStyle = '#1d2330';
    g.textAlign = 'center';
    g.textBaseline = 'top';
    const step = Math.max(1, Math.ceil((k1 - k0 + 1) / 10));
    for (let k = k0; k <= k1; k += step) tick('x', String(k), x(k), h - pad.b + 3);
    g.fillText(`K${s.suggested_k != null ? ` (suggested ${s.suggested_k})` : ''}`, pad.l + pw / 2, h - 11);
  }
}
