// "Images & peaks" view: the grains' colours and the indexed peaks' hkl (shared by the peak and grain tables).

import { GRAIN_COLORS } from '../../lib/imageview.js';

/**
 * Colour of grain `k` (0-based) on the image and in the tables.
 * @param {number} k
 */
export function grainColor(k) {
  return GRAIN_COLORS[k % GRAIN_COLORS.length];
}

/**
 * A swatch of grain `k`'s colour.
 * @param {number} k
 * @returns {HTMLSpanElement}
 */
export function swatch(k) {
  const s = document.createElement('span');
  s.className = 'swatch';
  s.style.background = grainColor(k);
  return s;
}

/**
 * Peak rows with their grain (1-based), hkl and energy when indexed.
 * @param {any[]} rows peaks with their `rank`
 * @param {any} index the image's indexing ({result}) or null
 * @returns {any[]}
 */
export function withHkl(rows, index) {
  if (!index) return rows;
  const byPeak = new Map();
  index.result.grains.forEach((g, k) => {
    for (const s of g.spots) if (!byPeak.has(s.peak)) byPeak.set(s.peak, { k, s });
  });
  return rows.map((p) => {
    const hit = byPeak.get(p.rank - 1);
    if (!hit) return { ...p, grain: null, hkl: null, hklKey: null, energy: null };
    const h = hit.s.hkl;
    return { ...p, grain: hit.k + 1, hkl: h.join(' '), hklKey: h.map((v) => String(v + 500).padStart(4, '0')).join(''),
      energy: hit.s.energy_kev };
  });
}
