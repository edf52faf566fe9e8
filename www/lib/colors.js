// Colour scales of the page: the energy scale and its colour bar, the categorical palettes of the scan and
// cluster maps, the spot-quality (Sim) scale. The defaults are readable with colour-vision deficiencies (issue 16
// item 5): no scale tells values apart by red against green alone.

// Energy: blue (low) → violet → pink → orange → yellow (high), lightness rising throughout (a lightened "plasma",
// so every part stays bright enough on the dark plot background and the order reads in grey too).
/** @type {[number, number[]][]} */
const STOPS = [
  [0.0, [92, 118, 246]],
  [0.25, [152, 96, 236]],
  [0.5, [214, 92, 170]],
  [0.75, [246, 140, 78]],
  [1.0, [250, 222, 60]],
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

/** RGB of t ∈ [0, 1] on piecewise-linear `stops` ([t, [r, g, b]], t rising). */
export function rampStops(stops, t) {
  const u = Math.min(1, Math.max(0, Number.isFinite(t) ? t : 0));
  for (let i = 1; i < stops.length; i++) {
    if (u <= stops[i][0]) {
      const [t0, c0] = stops[i - 1];
      const [t1, c1] = stops[i];
      const f = t1 > t0 ? (u - t0) / (t1 - t0) : 1;
      return c0.map((v, j) => Math.round(v + f * (c1[j] - v)));
    }
  }
  return stops[stops.length - 1][1].slice();
}

/** 10 samples of matplotlib's viridis (the library's `scan::maps::viridis`). */
export const VIRIDIS = [
  [68, 1, 84], [72, 40, 120], [62, 74, 137], [49, 104, 142], [38, 130, 142],
  [31, 158, 137], [53, 183, 121], [109, 205, 89], [180, 222, 44], [253, 231, 37],
];

/** Viridis RGB of t ∈ [0, 1]. */
export function viridisRgb(t) {
  return rampStops(VIRIDIS.map((c, i) => [i / (VIRIDIS.length - 1), c]), t);
}

/** Okabe & Ito's palette for colour-vision deficiency (Color Universal Design, 2002; Wong, Nat. Methods 8, 441,
 * 2011): orange, sky blue, bluish green, yellow, blue, vermillion, reddish purple, black. */
export const OKABE_ITO = [
  [230, 159, 0], [86, 180, 233], [0, 158, 115], [240, 228, 66],
  [0, 114, 178], [213, 94, 0], [204, 121, 167], [0, 0, 0],
];

/** Categorical palettes of the scan and cluster maps: the page's default, and the library's own colours. */
export const PALETTES = {
  cvd: 'colour-blind safe (Okabe–Ito)',
  library: 'library hues (golden angle)',
};

/**
 * Colour of category k of n with the colour-blind-safe palette: Okabe–Ito for n ≤ 8; beyond, viridis sampled along
 * the golden ratio (neighbouring labels far apart on the scale; lightness tells them apart without hue).
 */
export function categoryRgb(k, n) {
  if (n <= OKABE_ITO.length) return OKABE_ITO[((k % OKABE_ITO.length) + OKABE_ITO.length) % OKABE_ITO.length].slice();
  return viridisRgb((k * 0.618033988749895) % 1);
}

/**
 * Colour of category k as the library draws it (its `scan::maps::category_colour`: hues spaced by the golden angle,
 * saturation 0.65, value 0.92) — the colours of its maps' `rgb` and of its PNGs, which `pngInPalette` recolours.
 * @param {number} k
 * @returns {number[]}
 */
export function libraryCategoryRgb(k) {
  const h = (((k * 137.507764) % 360) + 360) % 360 / 60;
  const s = 0.65;
  const v = 0.92;
  const c = v * s;
  const x = c * (1 - Math.abs((h % 2) - 1));
  const rgb = [[c, x, 0], [x, c, 0], [0, c, x], [0, x, c], [x, 0, c], [c, 0, x]][Math.min(5, Math.floor(h))];
  const m = v - c;
  return rgb.map((t) => Math.min(255, Math.max(0, Math.round(255 * (t + m)))));
}

/**
 * A categorical map ({kind: 'categorical', values, categories, rgb}) with its colours from `palette` ('cvd': the
 * colour-blind-safe palette; 'library': as the library coloured it). Other maps are returned as they are.
 * @template {{kind: string, values?: number[], categories?: string[], rgb: number[][]}} M
 * @param {M} m
 * @param {string} palette
 * @returns {M}
 */
export function withPalette(m, palette) {
  if (!m || m.kind !== 'categorical' || palette === 'library' || !m.values) return m;
  const n = m.categories?.length ?? 0;
  const rgb = m.values.map((v, k) => (Number.isFinite(v) && m.rgb[k][0] >= 0 ? categoryRgb(Math.round(v), n) : m.rgb[k]));
  return { ...m, rgb };
}

/** Spot-quality scales of Sim ∈ [0, 1]: the default, colour-blind safe, vermillion (poor) → yellow → sky blue (good);
 * and the former red → amber → green (not safe for red–green colour blindness). */
export const SIM_SCALES = {
  cvd: /** @type {[number, number[]][]} */ ([[0, [213, 94, 0]], [0.5, [240, 228, 66]], [1, [86, 180, 233]]]),
  redgreen: /** @type {[number, number[]][]} */ ([[0, [220, 38, 38]], [0.5, [245, 158, 11]], [1, [22, 163, 74]]]),
};
