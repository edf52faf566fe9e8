// Downloads of the page's results: a Blob saved under a name (an <a download> click), and the library's map PNGs in
// the colours the page shows (`pngInPalette`).

import { categoryRgb, libraryCategoryRgb } from './colors.js';

/** What a download holds: text, bytes (wasm-bindgen's Uint8Array) or a Blob.
 * @typedef {BlobPart | Uint8Array} Data */

/**
 * Saves `data` as file `name` (a download); returns what was saved: {name, size, text (strings only)}.
 * @param {string} name
 * @param {Data} data
 * @param {string} type MIME type
 * @returns {{name: string, size: number, text: string | null}}
 */
export function saveBlob(name, data, type) {
  const blob = new Blob([/** @type {BlobPart} */ (data)], { type });
  const a = document.createElement('a');
  a.href = URL.createObjectURL(blob);
  a.download = name;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(a.href), 10_000);
  return { name, size: blob.size, text: typeof data === 'string' ? data : null };
}

/**
 * The library's PNG of a map (`scan_map_png`, `label_map_png`: blocks of flat colour, a legend of swatches, 5 × 7
 * pixel text, no anti-aliasing) in the page's colours: for a categorical map (`map.kind === 'categorical'`) with
 * `palette` other than 'library', every pixel in the library's colour of category k (cells and legend swatches)
 * takes the page's colour of category k (lib/colors.js `categoryRgb`, as `withPalette` colours the map on screen).
 * Other maps (viridis scalars, IPF and PCA colours) are drawn by the library as the page draws them and come back
 * as they are.
 * @param {Data} png
 * @param {{kind: string, categories?: string[]} | null} map the map the PNG draws
 * @param {string} palette 'cvd' or 'library' (lib/colors.js PALETTES)
 * @returns {Promise<Data>}
 */
export async function pngInPalette(png, map, palette) {
  const n = map?.categories?.length ?? 0;
  if (!map || map.kind !== 'categorical' || palette === 'library' || n === 0) return png;
  /** @type {Map<number, number[]>} library colour (0xRRGGBB) → the page's */
  const swap = new Map();
  for (let k = 0; k < n; k++) {
    const [r, g, b] = libraryCategoryRgb(k);
    swap.set((r << 16) | (g << 8) | b, categoryRgb(k, n));
  }
  const bitmap = await createImageBitmap(new Blob([/** @type {BlobPart} */ (png)], { type: 'image/png' }),
    { colorSpaceConversion: 'none', premultiplyAlpha: 'none' });
  const canvas = document.createElement('canvas');
  canvas.width = bitmap.width;
  canvas.height = bitmap.height;
  const g = canvas.getContext('2d');
  g.drawImage(bitmap, 0, 0);
  bitmap.close();
  const img = g.getImageData(0, 0, canvas.width, canvas.height);
  const d = img.data;
  for (let i = 0; i < d.length; i += 4) {
    const to = swap.get((d[i] << 16) | (d[i + 1] << 8) | d[i + 2]);
    if (to) {
      d[i] = to[0];
      d[i + 1] = to[1];
      d[i + 2] = to[2];
    }
  }
  g.putImageData(img, 0, 0);
  return new Promise((resolve, reject) => {
    canvas.toBlob((blob) => (blob ? resolve(blob) : reject(new Error('the PNG could not be encoded'))), 'image/png');
  });
}

/**
 * Saves a text file (a download); returns {name, size, text}.
 * @param {string} name
 * @param {string} text
 */
export function saveText(name, text) {
  return saveBlob(name, text, 'text/plain');
}

/**
 * A file name without its folder and extension ('a/b/Ge_0001.mccd' → 'Ge_0001').
 * @param {string} name
 */
export function fileStem(name) {
  const base = name.replace(/^.*[\\/]/, '');
  const i = base.lastIndexOf('.');
  return i > 0 ? base.slice(0, i) : base;
}
