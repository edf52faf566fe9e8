// Energy colour scale and its colour bar.

// Hand-picked stops, violet (low energy) → red (high energy), bright enough on the dark plot background.
/** @type {[number, number[]][]} */
const STOPS = [
  [0.0, [124, 82, 230]],
  [0.2, [62, 120, 240]],
  [0.4, [38, 190, 214]],
  [0.6, [96, 208, 104]],
  [0.8, [240, 208, 60]],
  [1.0, [238, 80, 48]],
];

/** RGB triple for t in [0, 1] (clamped). */
export function rampRgb(t) {
  const u = Math.min(1, Math.max(0, Number.isFinite(t) ? t : 0));
  for (let i = 1; i < STOPS.length; i++) {
    const [t1, c1] = STOPS[i];
    if (u <= t1) {
      const [t0, c0] = STOPS[i - 1];
      const f = (u - t0) / (t1 - t0);
      return c0.map((v, j) => Math.round(v + f * (c1[j] - v)));
    }
  }
  return STOPS[STOPS.length - 1][1].slice();
}

/** CSS colour of an energy (keV) within the band [emin, emax]. */
export function energyColor(energy, emin, emax) {
  const span = emax - emin;
  const [r, g, b] = rampRgb(span > 0 ? (energy - emin) / span : 0.5);
  return `rgb(${r},${g},${b})`;
}

/** Draws the horizontal colour bar with ticks (keV) on a small canvas. */
export function drawColorbar(canvas, emin, emax) {
  const dpr = window.devicePixelRatio || 1;
  const cssW = canvas.clientWidth || 360;
  const cssH = canvas.clientHeight || 44;
  if (canvas.width !== Math.round(cssW * dpr) || canvas.height !== Math.round(cssH * dpr)) {
    canvas.width = Math.round(cssW * dpr);
    canvas.height = Math.round(cssH * dpr);
  }
  const ctx = canvas.getContext('2d');
  ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
  ctx.clearRect(0, 0, cssW, cssH);
  const x0 = 10, x1 = cssW - 10, y0 = 4, barH = 14;
  const grad = ctx.createLinearGradient(x0, 0, x1, 0);
  for (let i = 0; i <= 20; i++) {
    const [r, g, b] = rampRgb(i / 20);
    grad.addColorStop(i / 20, `rgb(${r},${g},${b})`);
  }
  ctx.fillStyle = grad;
  ctx.fillRect(x0, y0, x1 - x0, barH);
  ctx.strokeStyle = '#8a93a6';
  ctx.lineWidth = 1;
  ctx.strokeRect(x0 + 0.5, y0 + 0.5, x1 - x0 - 1, barH - 1);

  ctx.fillStyle = '#1d2330';
  ctx.font = '11px system-ui, "DejaVu Sans", sans-serif';
  ctx.textBaseline = 'top';
  const valid = Number.isFinite(emin) && Number.isFinite(emax) && emax > emin;
  const ticks = valid ? niceTicks(emin, emax, 6) : [];
  canvas.ticks = { x: ticks.map((e) => `${formatTick(e)} keV`) };
  for (const e of ticks) {
    const x = x0 + ((e - emin) / (emax - emin)) * (x1 - x0);
    ctx.fillRect(Math.round(x), y0 + barH, 1, 4);
    ctx.textAlign = 'center';
    ctx.fillText(formatTick(e), x, y0 + barH + 5);
  }
  ctx.textAlign = 'right';
  ctx.fillText('keV', x1, y0 + barH + 17);
}

/** About `count` round tick values covering [lo, hi]. */
export function niceTicks(lo, hi, count) {
  if (!(hi > lo)) return [lo];
  const raw = (hi - lo) / Math.max(1, count);
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * mag).find((s) => s >= raw) || raw;
  const out = [];
  for (let v = Math.ceil(lo / step - 1e-9) * step; v <= hi + step * 1e-9; v += step) {
    out.push(Math.abs(v) < step * 1e-9 ? 0 : v);
  }
  return out;
}

export function formatTick(v) {
  return Number.isInteger(Math.round(v * 1000) / 1000) ? String(Math.round(v)) : v.toFixed(1);
}
