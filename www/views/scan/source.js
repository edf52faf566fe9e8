// The Scan view's source panel: what the points' images are (files or a folder in series order, one HDF5 stack, or
// the example scan rendered by the workers), the calibration (.det), a request .json dropped with them, and the grid
// (nx × ny, step, snake). An example scan's wasm handle lives while the view or the Cluster panel uses it.

import { $ } from '../../lib/dom.js';
import { Panel, messageOf } from '../../lib/panel.js';
import { STACK_EXTENSIONS, extension, filesOfDrop, isImageName, parseSeriesName, selectSeries, stemOf } from './series.js';

/** The example scan's spec (src/scan/simulate.rs SyntheticScanSpec; the rest takes its defaults: Cu, a Σ3 twin
 * band, a 512² detector). The same scan as `lauekit simulate-scan --grid 12x10 --seed 1 --grains 4`. */
export const EXAMPLE_SPEC = { nx: 12, ny: 10, seed: 1, grains: 4 };

/**
 * @typedef {object} SourceHooks
 * @property {(text: string) => void} useRequest a request .json was dropped: its text
 * @property {(name: string) => void} suggestMaterial the calibration's (or the example's) material
 */

export class SourcePanel extends Panel {
  /**
   * @param {import('./scan.js').ScanContext} ctx
   * @param {SourceHooks} hooks
   */
  constructor(ctx, hooks) {
    super();
    this.ctx = ctx;
    this.hooks = hooks;
    /** Sources the Cluster panel still uses (their example-scan handle stays alive). */
    this.retained = new Set();
  }

  /** Wires the file and folder inputs, the drop zone, the example button and the grid fields. */
  wire() {
    for (const id of ['scan-files', 'scan-folder']) {
      this.on(id, 'change', (e) => {
        const input = /** @type {HTMLInputElement} */ (e.target);
        const files = Array.from(input.files || []);
        input.value = '';
        this.openFiles(files);
      });
    }
    this.on('scan-load-example', 'click', () => this.loadExample());
    const panel = $('view-scan');
    panel.addEventListener('dragover', (e) => {
      e.preventDefault();
      $('scan-drop-zone').classList.add('over');
    });
    panel.addEventListener('dragleave', (e) => {
      if (!panel.contains(/** @type {Node | null} */ (e.relatedTarget))) $('scan-drop-zone').classList.remove('over');
    });
    panel.addEventListener('drop', async (e) => {
      e.preventDefault();
      $('scan-drop-zone').classList.remove('over');
      try {
        const files = await filesOfDrop(e.dataTransfer);
        if (files.length) this.openFiles(files);
      } catch (err) {
        this.ctx.messages.showError(`Could not read the dropped files: ${messageOf(err)}`);
      }
    });
    for (const id of ['scan-nx', 'scan-ny', 'scan-step-x', 'scan-step-y', 'scan-snake']) {
      this.on(id, 'input', () => { this.showGridInfo(); this.ctx.updateButtons(); });
    }
  }

  /**
   * Opens dropped or picked files: a .det, a request .json, the images (a series or a stack).
   * @param {Iterable<File> | ArrayLike<File>} list
   */
  async openFiles(list) {
    const { state, messages } = this.ctx;
    await this.ctx.api.ready;
    if (state.run) return;
    messages.clearError();
    const files = Array.from(list);
    const dets = files.filter((f) => extension(f.name) === 'det');
    const jsons = files.filter((f) => extension(f.name) === 'json');
    const images = files.filter((f) => isImageName(f.name));
    const skipped = files.filter((f) => !dets.includes(f) && !jsons.includes(f) && !images.includes(f));
    try {
      // The example's calibration belongs to the example: new images need their own .det.
      if (images.length && !dets.length && state.calibration?.example) {
        state.calibration = null;
        $('scan-calib-info').textContent = 'No calibration: drop the scan\u2019s LaueTools .det.';
      }
      if (dets.length) await this.loadCalibration(dets[0]);
      if (jsons.length) await this.loadRequestFile(jsons[0]);
      if (images.length) await this.setImages(images, skipped);
      else if (!dets.length && !jsons.length) messages.showError('No image, .det or request .json among the files dropped.');
    } catch (e) {
      messages.showError(messageOf(e), true);
    }
    this.ctx.updateButtons();
  }

  /** @param {File} file a LaueTools .det */
  async loadCalibration(file) {
    const wasm = this.ctx.wasm;
    const text = await file.text();
    let parsed;
    try {
      parsed = wasm.parse_det(text);
    } catch (e) {
      throw new Error(`${file.name}: not a LaueTools calibration: ${messageOf(e)}`);
    }
    this.ctx.state.calibration = { calibration: parsed.calibration, name: file.name, text, material: parsed.material ?? null };
    const known = wasm.materials().find((/** @type {{name: string}} */ m) => m.name.toLowerCase() === String(parsed.material ?? '').toLowerCase());
    if (known) this.hooks.suggestMaterial(known.name);
    this.showCalibration();
  }

  /** @param {File} file a pipeline request .json */
  async loadRequestFile(file) {
    const text = await file.text();
    try {
      JSON.parse(text);
    } catch (e) {
      throw new Error(`${file.name}: not JSON: ${messageOf(e)}`);
    }
    this.hooks.useRequest(text);
  }

  /**
   * @param {File[]} images
   * @param {File[]} skipped the other files dropped with them
   */
  async setImages(images, skipped) {
    const { state, wasm } = this.ctx;
    this.freeSource();
    const names = images.map((f) => f.name);
    const byName = new Map(images.map((f) => [f.name, f]));
    let note = skipped.length ? ` (${skipped.length} other file${skipped.length > 1 ? 's' : ''} left out)` : '';
    if (images.length === 1 && STACK_EXTENSIONS.includes(extension(images[0].name))) {
      // One HDF5 stack: its frames are the points.
      const file = images[0];
      const img = new wasm.DetectorImage(new Uint8Array(await file.arrayBuffer()), file.name, undefined);
      let info;
      try {
        info = img.info();
      } finally {
        img.free();
      }
      const frames = Number(info.metadata?.frame_count ?? 1) || 1;
      state.source = { kind: 'stack', file, frames, label: stemOf(file.name) };
      $('scan-source-info').textContent = `${file.name}: HDF5 stack of ${frames} frame${frames > 1 ? 's' : ''} `
        + `(${info.cols} × ${info.rows} px), one point each${note}.`;
      this.guessGrid(frames);
      return;
    }
    let ordered;
    let label;
    const bySeries = names.some((n) => parseSeriesName(n));
    if (bySeries) {
      const s = selectSeries(names);
      ordered = s.series;
      label = s.prefix;
      if (s.others.length) note += `; not of the series ${s.prefix}_NNNN.${s.extension}: ${s.others.slice(0, 3).join(', ')}${s.others.length > 3 ? ' …' : ''}`;
    } else {
      ordered = names.slice().sort((a, b) => a.localeCompare(b, 'en', { numeric: true }));
      label = 'scan';
    }
    const files = ordered.map((n) => byName.get(n));
    state.source = { kind: 'files', files, label };
    $('scan-source-info').textContent = `${files.length} image${files.length > 1 ? 's' : ''}: ${files[0].name} … `
      + `${files[files.length - 1].name}, ${bySeries ? 'in series-number order' : 'in name order (no series numbers)'}${note}.`;
    this.guessGrid(files.length);
  }

  /**
   * A square grid when the count is a square; else the grid shown if it fits, else one row.
   * @param {number} n
   */
  guessGrid(n) {
    const s = Math.round(Math.sqrt(n));
    const nx = Number($('scan-nx', 'input').value);
    const ny = Number($('scan-ny', 'input').value);
    if (s * s === n) {
      $('scan-nx', 'input').value = String(s);
      $('scan-ny', 'input').value = String(s);
    } else if (!(nx * ny === n)) {
      $('scan-nx', 'input').value = String(n);
      $('scan-ny', 'input').value = '1';
    }
    this.showGridInfo();
  }

  /** The number of points (images, frames) of the source; 0 without one. */
  pointCount() {
    const s = this.ctx.state.source;
    if (!s) return 0;
    return s.kind === 'files' ? s.files.length : s.kind === 'stack' ? s.frames : s.count;
  }

  /** Forgets the current source; an example scan's wasm handle is freed once no results use it either. */
  freeSource() {
    const old = this.ctx.state.source;
    this.ctx.state.source = null;
    this.release(old);
  }

  /**
   * Keeps `src` (a source of `scanInput()`) usable after the view moves on to another; `false` lets it go.
   * @param {any} src
   * @param {boolean} keep
   */
  retain(src, keep) {
    if (keep) {
      this.retained.add(src);
    } else {
      this.retained.delete(src);
      this.release(src);
    }
  }

  /**
   * Frees an example scan's handle once neither the view, its results nor the Cluster panel use it.
   * @param {any} src
   */
  release(src) {
    const state = this.ctx.state;
    if (src?.kind === 'synthetic' && !src.freed && state.source !== src && state.results?.source !== src
      && !this.retained.has(src)) {
      src.handle.free();
      src.freed = true;
    }
  }

  /** Makes the example scan (its calibration, grid and material); false when it cannot. */
  async loadExample() {
    const { state, messages } = this.ctx;
    await this.ctx.api.ready;
    if (state.run) return false;
    messages.clearError();
    try {
      this.freeSource();
      const handle = new this.ctx.wasm.SyntheticScanHandle(EXAMPLE_SPEC);
      const grid = handle.grid();
      const count = handle.len();
      state.source = { kind: 'synthetic', spec: EXAMPLE_SPEC, handle, count, label: 'example_scan' };
      state.calibration = { calibration: handle.calibration(), name: 'calib.det (example)', text: handle.calibration_det(),
        material: null, example: true };
      $('scan-nx', 'input').value = String(grid.nx);
      $('scan-ny', 'input').value = String(grid.ny);
      $('scan-step-x', 'input').value = String(grid.step_um[0]);
      $('scan-step-y', 'input').value = String(grid.step_um[1]);
      $('scan-snake', 'input').checked = Boolean(grid.snake);
      this.hooks.suggestMaterial('Cu');
      const c = state.calibration.calibration;
      $('scan-source-info').textContent = `Example: a synthetic Cu scan of ${grid.nx} × ${grid.ny} points (4 grains and `
        + `a Σ3 twin band, seed 1), ${c.cols} × ${c.rows} px images rendered by the workers as they take each point `
        + `(${handle.image_name(0)} … ${handle.image_name(count - 1)}).`;
      this.showCalibration();
      this.showGridInfo();
      messages.setStatus('Example loaded: press \u201cRun scan\u201d.');
    } catch (e) {
      messages.showError(`Could not make the example scan: ${messageOf(e)}`);
      return false;
    } finally {
      this.ctx.updateButtons();
    }
    return true;
  }

  showCalibration() {
    const c = this.ctx.state.calibration;
    if (!c) return;
    const k = c.calibration;
    $('scan-calib-info').textContent = `Calibration ${c.name}: dd ${k.distance_mm} mm, xcen ${k.xcen_px}, ycen ${k.ycen_px}, `
      + `xbet ${k.xbet_deg}°, xgam ${k.xgam_deg}°, pixel ${k.pixel_size_mm} mm, ${k.cols} × ${k.rows} px`;
  }

  /**
   * The grid of the fields, and what is wrong with them.
   * @returns {{grid: import('../../lib/gridmap.js').Grid, problems: string[]}}
   */
  readGrid() {
    const nx = Number($('scan-nx', 'input').value);
    const ny = Number($('scan-ny', 'input').value);
    const sxText = $('scan-step-x', 'input').value.trim();
    const syText = $('scan-step-y', 'input').value.trim();
    const problems = [];
    if (!Number.isInteger(nx) || nx < 1 || !Number.isInteger(ny) || ny < 1) problems.push('nx and ny: whole numbers ≥ 1');
    let step = null;
    if (sxText !== '' || syText !== '') {
      const sx = Number(sxText || syText);
      const sy = Number(syText || sxText);
      if (!(sx > 0 && sy > 0)) problems.push('step: positive numbers (µm), or leave both empty');
      step = [sx, sy];
    }
    return { grid: { nx, ny, step_um: step, snake: $('scan-snake', 'input').checked }, problems };
  }

  showGridInfo() {
    const { grid } = this.readGrid();
    const n = this.pointCount();
    const el = $('scan-grid-info');
    if (n && grid.nx * grid.ny !== n) {
      el.textContent = `The grid has ${grid.nx * grid.ny} points but there are ${n} images: set nx × ny = ${n}.`;
      el.classList.add('warn');
    } else {
      el.textContent = 'x is the fast axis: point k is at ix = k mod nx, iy = k div nx'
        + `${grid.snake ? ' (odd rows from high x to low x)' : ''}.`;
      el.classList.remove('warn');
    }
  }

  /**
   * The scan worker's message for point `index` of source `src`.
   * @param {any} src
   * @param {number} index
   */
  static pointMessage(src, index) {
    if (src.kind === 'synthetic') return { type: 'point', index };
    if (src.kind === 'stack') {
      return { type: 'point', index, file: src.file, name: `${src.file.name}#${index}`, frame: index, stack: true };
    }
    const f = src.files[index];
    return { type: 'point', index, file: f, name: f.name, frame: 0 };
  }
}
