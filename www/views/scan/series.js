// The Scan view's file names: LaueTools series names (prefix_NNNN.ext, the rule of src/scan/series.rs), image and
// stack extensions, and the files of a drop (folders walked).

/** Extensions of image files (`lauekit scan`'s list); a name ending in digits only is one too. */
const IMAGE_EXTENSIONS = ['tif', 'tiff', 'mccd', 'edf', 'h5', 'hdf5', 'nxs', 'png', 'raw', 'bin', 'img', 'cbf'];
export const STACK_EXTENSIONS = ['h5', 'hdf5', 'nxs'];

/**
 * Splits a file name as LaueTools names a series, `prefix_NUMBER.ext` (the number after the last `_` before the
 * extension; an all-digit "extension" is part of the number's stem, as in `raw_007`). Null when there is no number.
 * @param {string} name
 * @returns {{prefix: string, number: bigint, extension: string} | null}
 */
export function parseSeriesName(name) {
  let stem = name;
  let extension = '';
  const dot = name.lastIndexOf('.');
  if (dot >= 0) {
    const s = name.slice(0, dot);
    const e = name.slice(dot + 1);
    if (s !== '' && e !== '' && !/^[0-9]+$/.test(e)) {
      stem = s;
      extension = e;
    }
  }
  const us = stem.lastIndexOf('_');
  if (us < 0) return null;
  const digits = stem.slice(us + 1);
  if (!/^[0-9]{1,18}$/.test(digits)) return null;
  return { prefix: stem.slice(0, us), number: BigInt(digits), extension };
}

/**
 * Of `names`, those of one series — the (prefix, extension) most names share — sorted by number, as
 * `lauekit scan DIR` takes them. Two files with one number are an error.
 * @param {string[]} names
 * @returns {{series: string[], prefix: string, extension: string, others: string[]}}
 */
export function selectSeries(names) {
  const parsed = names.map((n) => ({ n, p: parseSeriesName(n) })).filter((x) => x.p);
  if (parsed.length === 0) throw new Error('no file is named as a LaueTools series (prefix_NNNN.ext)');
  /** @param {{prefix: string, extension: string}} p */
  const key = (p) => `${p.prefix}\u0000${p.extension.toLowerCase()}`;
  const counts = new Map();
  for (const { p } of parsed) counts.set(key(p), (counts.get(key(p)) ?? 0) + 1);
  // The most common; on a tie the greatest key, as Rust's BTreeMap + max_by_key picks it.
  let best = null;
  for (const k of [...counts.keys()].sort()) if (best === null || counts.get(k) >= counts.get(best)) best = k;
  const chosen = parsed.filter((x) => key(x.p) === best).sort((a, b) => (a.p.number < b.p.number ? -1 : a.p.number > b.p.number ? 1 : 0));
  for (let i = 1; i < chosen.length; i++) {
    if (chosen[i].p.number === chosen[i - 1].p.number) {
      throw new Error(`${chosen[i - 1].n} and ${chosen[i].n} have the same image number ${chosen[i].p.number}`);
    }
  }
  const inSeries = new Set(chosen.map((x) => x.n));
  return {
    series: chosen.map((x) => x.n),
    prefix: chosen[0].p.prefix,
    extension: chosen[0].p.extension,
    others: names.filter((n) => !inSeries.has(n)),
  };
}

/** @param {string} name @returns {string} the extension, lower case ('' without one) */
export function extension(name) {
  const i = name.lastIndexOf('.');
  return i < 0 ? '' : name.slice(i + 1).toLowerCase();
}

/** @param {string} name */
export function isImageName(name) {
  const e = extension(name);
  return IMAGE_EXTENSIONS.includes(e) || /^[0-9]+$/.test(e);
}

/** @param {string} name @returns {string} the name without its extension */
export function stemOf(name) {
  const i = name.lastIndexOf('.');
  return i > 0 ? name.slice(0, i) : name;
}

/**
 * Every File of a drop, folders walked (webkitGetAsEntry), else the plain file list.
 * @param {DataTransfer} dt
 * @returns {Promise<File[]>}
 */
export async function filesOfDrop(dt) {
  const entries = Array.from(dt.items ?? []).map((it) => it.webkitGetAsEntry?.()).filter(Boolean);
  if (!entries.length || !entries.some((e) => e.isDirectory)) return Array.from(dt.files ?? []);
  /** @type {File[]} */
  const out = [];
  /** @param {any} entry a FileSystemEntry */
  const walk = async (entry) => {
    if (entry.isFile) {
      out.push(await new Promise((resolve, reject) => entry.file(resolve, reject)));
    } else if (entry.isDirectory) {
      const reader = entry.createReader();
      for (;;) {
        /** @type {any[]} */
        const batch = await new Promise((resolve, reject) => reader.readEntries(resolve, reject));
        if (!batch.length) break;
        for (const e of batch) await walk(e);
      }
    }
  };
  for (const e of entries) await walk(e);
  return out;
}
