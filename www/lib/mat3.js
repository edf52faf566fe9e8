// 3×3 matrices stored row-major in plain arrays of 9 numbers.

export const IDENTITY = Object.freeze([1, 0, 0, 0, 1, 0, 0, 0, 1]);

/** Matrix product a·b. */
export function mul(a, b) {
  const out = new Array(9);
  for (let i = 0; i < 3; i++) {
    for (let j = 0; j < 3; j++) {
      out[3 * i + j] = a[3 * i] * b[j] + a[3 * i + 1] * b[3 + j] + a[3 * i + 2] * b[6 + j];
    }
  }
  return out;
}

/** Plain Array copy of anything array-like of length 9 (wasm may hand back typed arrays). */
export function toArray9(m) {
  const out = Array.from(m, Number);
  if (out.length !== 9 || !out.every(Number.isFinite)) {
    throw new Error(`expected a 3×3 matrix (9 finite numbers), got ${JSON.stringify(out)}`);
  }
  return out;
}

/** Three text rows, fixed width, for display. */
export function format(m) {
  const cell = (v) => (v >= 0 ? ' ' : '') + v.toFixed(5);
  return [0, 1, 2].map((i) => `[${cell(m[3 * i])} ${cell(m[3 * i + 1])} ${cell(m[3 * i + 2])}]`).join('\n');
}
