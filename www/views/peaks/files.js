// "Images & peaks" view: the images — opening files (drop, file input, the example, a scan point), the image list
// (select, remove) — and each image's own context: its calibration, peak-search settings, materials and status
// lines, shown in the form while it is the image shown (see state.js ImageContext).

import { $ } from '../../lib/dom.js';
import { Panel, messageOf } from '../../lib/panel.js';
import { imageStats } from '../../lib/imageview.js';
import { EXAMPLE } from './state.js';

/**
 * @param {string} name
 * @returns {string} the extension, lower case, without the dot ('' without one)
 */
export function extension(name) {
  const i = name.lastIndexOf('.');
  return i < 0 ? '' : name.slice(i + 1).toLowerCase();
}

/**
 * What the images panel asks of the others (main.js wires them).
 * @typedef {object} ImagesHooks
 * @property {(img: import('./state.js').ImageEntry | null) => void} show image `img` is now the one shown (null: none)
 * @property {() => void} calibrationChanged the shown context's calibration changed
 * @property {() => void} pickedChanged the shown context's materials changed
 * @property {(params: any, source: string) => void} setParams fills the peak-search form
 * @property {() => {form: Record<string, string | boolean>, paramsSource: string}} captureForm the peak-search form
 * @property {(form: Record<string, string | boolean>, paramsSource: string) => void} restoreForm
 * @property {(text: string) => void} setIndexStatus
 * @property {(index: any) => any} applyIndexRequest a scan request's `index` into the indexing form; the settings
 *   the form does not have
 * @property {() => boolean} runSearch
 * @property {(files: File[]) => Promise<unknown>} loadMaterials materials files (.toml) dropped with the images
 */

export class ImagesPanel extends Panel {
  /**
   * @param {import('./state.js').PeaksContext} ctx
   * @param {ImagesHooks} hooks
   */
  constructor(ctx, hooks) {
    super();
    this.ctx = ctx;
    this.hooks = hooks;
  }

  /** Wires the file input, the example button and the view's drop zone. */
  wire() {
    this.on('image-files', 'change', (e) => {
      const input = /** @type {HTMLInputElement} */ (e.target);
      const files = Array.from(input.files || []);
      input.value = '';
      this.openFiles(files);
    });
    this.on('mask-file', 'change', (e) => {
      const input = /** @type {HTMLInputElement} */ (e.target);
      const file = input.files?.[0];
      input.value = '';
      if (file) this.openMask(file);
    });
    this.on('load-example-image', 'click', () => this.loadExample());
    this.on('view-peaks', 'dragover', (e) => {
      e.preventDefault();
      $('drop-zone').classList.add('over');
    });
    this.on('view-peaks', 'dragleave', (e) => {
      if (!$('view-peaks').contains(/** @type {Node | null} */ (e.relatedTarget))) $('drop-zone').classList.remove('over');
    });
    this.on('view-peaks', 'drop', (e) => {
      e.preventDefault();
      $('drop-zone').classList.remove('over');
      if (e.dataTransfer?.files?.length) this.openFiles(e.dataTransfer.files);
    });
  }

  // -------------------------------------------------------------------------------------------------------------
  // Opening

  /**
   * Opens dropped or chosen files: images, a .det, peak-search settings (.json, .psp), materials files (.toml).
   * @param {Iterable<File> | ArrayLike<File>} files
   */
  async openFiles(files) {
    const { api, messages, state } = this.ctx;
    await api.ready;
    messages.clearError();
    const all = Array.from(files);
    const toml = all.filter((f) => extension(f.name) === 'toml');
    if (toml.length) await this.hooks.loadMaterials(toml);
    // A PNG or HDF5 file named like a mask ("mask.png", "pixel_mask.h5") is a mask for the images (below).
    /** @param {File} f */
    const isMask = (f) => /mask/i.test(f.name) && ['png', 'h5', 'hdf5'].includes(extension(f.name));
    const masks = all.filter(isMask);
    const list = all.filter((f) => extension(f.name) !== 'toml' && !isMask(f));
    /** @param {File} f */
    const isSettings = (f) => ['det', 'json', 'psp'].includes(extension(f.name));
    // A drop's .det and settings belong to the drop's images (each image keeps its own, see `saveContext`); dropped
    // alone, they are the shown image's. The shown image keeps what it had either way.
    const hasImages = list.some((f) => !isSettings(f));
    const before = this.detachContext(hasImages);
    let firstNew = -1;
    for (const f of [...list.filter(isSettings), ...list.filter((f) => !isSettings(f))]) {
      const ext = extension(f.name);
      try {
        if (ext === 'det') {
          this.loadCalibration(await f.text(), f.name);
        } else if (ext === 'json' || ext === 'psp') {
          this.loadParams(await f.text(), f.name);
        } else {
          // The File itself goes to the worker (a reference to the file, decoded again when needed); the page
          // keeps the pixels of the image it shows only.
          const index = await this.openImage(f.name, f);
          if (firstNew < 0) firstNew = index;
          else state.images[index].pixels = null;
        }
      } catch (e) {
        // The library's messages start with the file name already.
        const m = messageOf(e);
        messages.showError(m.startsWith(f.name) ? `Could not open ${m}` : `Could not open ${f.name}: ${m}`, true);
        messages.setStatus(`${f.name} not opened (see the message above).`);
      }
    }
    if (firstNew >= 0) this.select(firstNew);
    else this.reattachContext(before);
    for (const m of masks) await this.openMask(m);
  }

  /**
   * Adds a mask file (grey PNG or HDF5, non-zero = masked, the image's size) to the shown image's own mask; the
   * display then shows its pixels in the masked colour and the peak search leaves them out.
   * @param {File} file
   */
  async openMask(file) {
    const { messages, rpc } = this.ctx;
    const img = this.ctx.current();
    if (!img) {
      messages.showError(`${file.name}: open an image first, then its mask.`, true);
      return;
    }
    try {
      const bytes = await file.arrayBuffer();
      const reply = await rpc.call('mask', { id: img.id, name: file.name, bytes }, { transfer: [bytes] });
      img.info = reply.info;
      img.pixels = reply.pixels;
      img.stats = imageStats(reply.pixels);
      // Peaks found without the mask no longer hold.
      img.search = null;
      img.index = null;
      messages.setStatus(`${file.name}: ${img.info.masked_pixels} pixels of ${img.name} masked; press “Find peaks”.`);
      this.select(this.ctx.state.current, true);
    } catch (e) {
      const m = messageOf(e);
      messages.showError(m.startsWith(file.name) ? `Could not use mask ${m}` : `Could not use mask ${file.name}: ${m}`, true);
    }
  }

  /**
   * Decodes an image (frame `frame` of a stack; `source` a File or the file's bytes) in the worker and adds it to
   * the list; returns its index.
   * @param {string} name
   * @param {Blob | ArrayBuffer} source
   * @param {number} [frame]
   * @returns {Promise<number>}
   */
  async openImage(name, source, frame = 0) {
    const { api, messages, rpc, state } = this.ctx;
    const id = state.nextId++;
    messages.setStatus(`reading ${name}…`);
    const reply = source instanceof Blob
      ? await rpc.call('open', { id, name, file: source, frame })
      : await rpc.call('open', { id, name, bytes: source, frame }, { transfer: [source] });
    const pixels = reply.pixels;
    /** @type {import('./state.js').ImageEntry} */
    const entry = { id, name, info: reply.info, pixels, stats: imageStats(pixels), search: null, index: null,
      context: { ...this.captureContext(), searchStatus: '', indexStatus: '' } };
    state.images.push(entry);
    api.opened += 1;
    this.renderList();
    messages.setStatus(`${name}: ${entry.info.cols} × ${entry.info.rows}; press “Find peaks”.`);
    return state.images.length - 1;
  }

  /**
   * Makes a LaueTools .det text the shown context's calibration; its material is picked for indexing.
   * @param {string} text
   * @param {string} name
   */
  loadCalibration(text, name) {
    const { state, materials } = this.ctx;
    let parsed;
    try {
      parsed = this.ctx.wasm.parse_det(text);
    } catch (e) {
      throw new Error(`not a LaueTools calibration: ${messageOf(e)}`);
    }
    state.calibration = { calibration: parsed.calibration, name, material: parsed.material ?? null,
      ccd_label: parsed.ccd_label ?? null };
    // The calibration's material (LaueTools writes it in the .det) is what this image is indexed with, replacing
    // the previous image's choice (a .det of Si must not leave Ge picked); the user can still change it.
    const known = materials.get(parsed.material);
    if (known) {
      state.picked.clear();
      state.picked.add(known.name);
      this.hooks.pickedChanged();
    }
    this.hooks.calibrationChanged();
  }

  /**
   * Peak-search settings of a .json / .psp file into the form.
   * @param {string} text
   * @param {string} name
   */
  loadParams(text, name) {
    const p = this.ctx.wasm.parse_peak_params(text, name);
    this.hooks.setParams(p, `Settings from ${name}.`);
  }

  /** Opens the bundled example: the Ge image with its calibration and peak-search settings. */
  async loadExample() {
    const { api, messages } = this.ctx;
    await api.ready;
    messages.clearError();
    messages.setStatus('downloading the example…');
    /** @param {string} url */
    const get = async (url) => {
      const r = await fetch(new URL(`../../${url}`, import.meta.url));
      if (!r.ok) throw new Error(`${url}: HTTP ${r.status}`);
      return r;
    };
    let before = null;
    try {
      const [img, det, params] = await Promise.all([get(EXAMPLE.image), get(EXAMPLE.det), get(EXAMPLE.params)]);
      before = this.detachContext();
      this.loadCalibration(await det.text(), 'calibGe111.det');
      this.loadParams(await params.text(), 'peaksearch.json');
      const index = await this.openImage('Ge_blanc_0000.mccd', await img.arrayBuffer());
      this.select(index);
    } catch (e) {
      this.reattachContext(before);
      messages.showError(`Could not load the example: ${messageOf(e)}`, true);
    }
  }

  /**
   * Opens one point of a scan here (the Scan view's click on a map point): its image with the scan's calibration,
   * peak-search settings and indexing options, then finds its peaks and indexes them as the scan did.
   * @param {object} p
   * @param {string} p.name image name (the scan's)
   * @param {ArrayBuffer} p.bytes the image file (transferred to the worker)
   * @param {number} [p.frame] frame of an HDF5 stack
   * @param {{text: string, name: string} | null} [p.det] the scan's LaueTools calibration
   * @param {any} [p.request] the scan's pipeline request ({peaks, index: {materials, settings, band}})
   */
  async openScanPoint(p) {
    const { api, messages, state } = this.ctx;
    await api.ready;
    messages.clearError();
    const before = this.detachContext();
    if (p.det) this.loadCalibration(p.det.text, p.det.name);
    const req = p.request ?? {};
    if (req.peaks) this.hooks.setParams({ ...state.defaults, ...req.peaks }, 'Settings of the scan.');
    const ix = req.index;
    let extra = null;
    if (ix) extra = this.hooks.applyIndexRequest(ix);
    let index;
    try {
      index = await this.openImage(p.name, p.bytes, p.frame ?? 0);
    } catch (e) {
      this.reattachContext(before);
      throw e;
    }
    this.select(index);
    state.autoIndex = ix ? { id: this.ctx.current().id, extra } : null;
    if (!this.hooks.runSearch()) state.autoIndex = null;
  }

  // -------------------------------------------------------------------------------------------------------------
  // The list

  /**
   * Shows the image at `index` of the list (its context in the form); `force` even when it is shown already.
   * @param {number} index
   * @param {boolean} [force]
   */
  select(index, force = false) {
    const { state } = this.ctx;
    if (index === state.current && !force && this.ctx.current()) return;
    const previous = this.ctx.current();
    state.current = index;
    const img = this.ctx.current();
    // The page keeps the decoded pixels of the shown image only (memory: see peaks-worker.js).
    if (previous && previous !== img) previous.pixels = null;
    if (img?.id !== state.shownId) {
      this.saveContext();
      if (img?.context) this.restoreContext(img.context);
      state.shownId = img?.id ?? null;
    }
    this.renderList();
    this.hooks.show(img);
  }

  /**
   * Closes the image at `index` of the list (the worker drops it).
   * @param {number} index
   */
  remove(index) {
    const { state } = this.ctx;
    const [gone] = state.images.splice(index, 1);
    if (!gone) return;
    this.ctx.worker.postMessage({ type: 'close', id: gone.id });
    if (state.current >= state.images.length) state.current = state.images.length - 1;
    else if (index < state.current) state.current -= 1;
    this.select(state.current, true);
  }

  /** The list of images (name, peaks found, remove button). */
  renderList() {
    const { state } = this.ctx;
    const ul = $('image-list');
    ul.textContent = '';
    state.images.forEach((img, index) => {
      const li = document.createElement('li');
      li.className = index === state.current ? 'current' : '';
      const b = document.createElement('button');
      b.type = 'button';
      b.className = 'image-name';
      b.textContent = img.name;
      b.title = `${img.info.cols} × ${img.info.rows}`;
      b.addEventListener('click', () => this.select(index));
      const n = document.createElement('span');
      n.className = 'hint';
      n.textContent = img.search ? `${img.search.peaks.length} peaks` : '';
      const x = document.createElement('button');
      x.type = 'button';
      x.className = 'remove';
      x.textContent = '×';
      x.title = `Remove ${img.name}`;
      x.addEventListener('click', () => this.remove(index));
      li.append(b, n, x);
      ul.append(li);
    });
  }

  // -------------------------------------------------------------------------------------------------------------
  // Per-image context: each open image keeps its own calibration, peak-search settings, materials and status lines;
  // the form shows the current image's. Results (search, index) live on the image entry itself.

  /** @returns {import('./state.js').ImageContext} the form's per-image part as it is now */
  captureContext() {
    const { state } = this.ctx;
    const { form, paramsSource } = this.hooks.captureForm();
    return {
      calibration: state.calibration,
      form,
      paramsSource,
      picked: new Set(state.picked),
      searchStatus: $('search-status').textContent,
      indexStatus: $('index-status').textContent,
    };
  }

  /** Stores the form into the context of the image it shows (before another image is shown). */
  saveContext() {
    const { state } = this.ctx;
    const img = state.images.find((i) => i.id === state.shownId);
    if (img) img.context = this.captureContext();
  }

  /**
   * Before settings that belong to images about to be opened are applied (a drop with images, the example, a scan
   * point): stores the shown image's context and detaches the form from it. Returns what `reattachContext` needs if
   * no image gets opened after all.
   * @param {boolean} [detach]
   * @returns {import('./state.js').ImageEntry | null}
   */
  detachContext(detach = true) {
    if (!detach) return null;
    const { state } = this.ctx;
    this.saveContext();
    const shown = state.images.find((i) => i.id === state.shownId) ?? null;
    state.shownId = null;
    return shown;
  }

  /**
   * No new image was opened: the form goes back to the image it showed.
   * @param {import('./state.js').ImageEntry | null} shown
   */
  reattachContext(shown) {
    const { state } = this.ctx;
    if (!shown || state.shownId !== null) return;
    this.restoreContext(shown.context);
    state.shownId = shown.id;
  }

  /**
   * Shows an image's context in the form.
   * @param {import('./state.js').ImageContext} c
   */
  restoreContext(c) {
    const { state } = this.ctx;
    state.calibration = c.calibration;
    this.hooks.restoreForm(c.form, c.paramsSource);
    state.picked = new Set(c.picked);
    this.hooks.pickedChanged();
    this.ctx.messages.setStatus(c.searchStatus);
    this.hooks.setIndexStatus(c.indexStatus);
    this.hooks.calibrationChanged();
  }
}
