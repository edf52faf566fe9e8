// Detector calibration in the "Images & peaks" view (the library's `refine::calibrate`, as `lauekit calibrate`):
// the reference material, the detector (preset or pixel size and frame), start values (nominal with the image's
// centre, or the loaded .det) with fixed-parameter boxes; the calibration runs in the peak-search worker on the
// current image's peaks (found first when there are none); then the refined values ± 1σ, the fit's figures, a
// residual plot (vectors on the detector, distance against 2θ), "Save .det" (the library's writer) and "Use this
// calibration" (the view's calibration for 2θ, χ, .cor and indexing).

import { clearedPlot, niceTicks, formatTick } from '../../lib/plotcanvas.js';
import { materialTitle } from '../../lib/materials.js';

/** The five parameters: key in the request's `fixed`, field of a calibration, label, unit, digits shown. */
export const PARAMS = [
  { key: 'dd', field: 'distance_mm', sigma: 'distance_mm', label: 'dd', unit: 'mm', digits: 4 },
  { key: 'xcen', field: 'xcen_px', sigma: 'xcen_px', label: 'xcen', unit: 'px', digits: 3 },
  { key: 'ycen', field: 'ycen_px', sigma: 'ycen_px', label: 'ycen', unit: 'px', digits: 3 },
  { key: 'xbet', field: 'xbet_deg', sigma: 'xbet_deg', label: 'xbet', unit: '°', digits: 5 },
  { key: 'xgam', field: 'xgam_deg', sigma: 'xgam_deg', label: 'xgam', unit: '°', digits: 5 },
];
/** Nominal sample–detector distance when none is typed (mm; BM32's MarCCD setting). */
const NOMINAL_DD_MM = 70;

export class Calibrate {
  /**
   * @param {object} o
   * @param {typeof import('../../lib/dom.js').$} o.$
   * @param {Worker} o.worker the peak-search worker (runs `calibrate_peaks`)
   * @param {typeof import('../../../pkg/lauekit.js')} o.wasm the page's wasm module (detector presets, .det text, pixel → 2θ)
   * @param {() => object|null} o.image the current image entry ({id, name, info, search})
   * @param {() => import('../../lib/materials.js').Material[]} o.materials the material choices (the library's
   *   table, materials files, custom crystals)
   * @param {(name: string) => import('../../lib/materials.js').MaterialSpec} o.spec a choice as wasm takes it
   * @param {() => object|null} o.loaded the view's calibration ({calibration, name, material, ccd_label}) or null
   * @param {() => boolean} o.findPeaks starts the view's peak search on the current image (false if it cannot)
   * @param {(text: string, name: string) => void} o.useCalibration makes a .det text the view's calibration
   * @param {(name: string, text: string) => void} o.save downloads a text file
   */
  constructor(o) {
    this.$ = o.$;
    this.worker = o.worker;
    this.wasm = o.wasm;
    this.image = o.image;
    this.materials = o.materials;
    this.spec = o.spec;
    this.loaded = o.loaded;
    this.findPeaks = o.findPeaks;
    this.useCalibration = o.useCalibration;
    this.save = o.save;
    this.job = 0;
    this.running = null; // {job, id, peaks, request, t0}
    this.waiting = null; // {id}: calibrate once the peak search of this image ends
    this.result = null; // {report, image, peaks, worker_ms, twotheta}
    this.presets = [];
    this.startEdited = false; // the user typed a start value: do not overwrite it on image change
    this.autoStatus = ''; // the status line last written by refresh() (replaced when the state changes)
    /** For tests: completed calibrations. */
    this.runs = 0;
  }

  start() {
    const $ = this.$;
    this.presets = this.wasm.detector_presets();
    const sel = $('calib-preset', 'select');
    sel.textContent = '';
    for (const p of this.presets) {
      sel.append(new Option(`${p.name} (${p.cols} × ${p.rows}, ${p.pixel_size_mm} mm)`, p.name));
    }
    sel.append(new Option('custom', 'custom'));
    sel.addEventListener('change', () => this.applyPreset());
    for (const id of ['calib-pixel', 'calib-rows', 'calib-cols']) {
      $(id).addEventListener('input', () => { $('calib-preset', 'select').value = this.presetOf(this.frameForm()) ?? 'custom'; });
    }
    for (const p of PARAMS) $(`calib-${p.key}`).addEventListener('input', () => { this.startEdited = true; });
    $('calib-nominal').addEventListener('click', () => { this.clearError(); this.nominalStart(true); });
    $('calib-from-det').addEventListener('click', () => { this.clearError(); this.startFromLoaded(); });
    $('calib-run').addEventListener('click', () => this.run());
    $('calib-save').addEventListener('click', () => this.saveDet());
    $('calib-use').addEventListener('click', () => this.use());
    this.renderMaterials();
    this.refresh();
  }

  // -------------------------------------------------------------------------------------------------------------
  // Form

  renderMaterials() {
    const sel = this.$('calib-material', 'select');
    const keep = sel.value;
    sel.textContent = '';
    for (const m of this.materials()) {
      const o = new Option(m.name, m.name);
      o.title = materialTitle(m);
      sel.append(o);
    }
    const want = keep || this.loaded()?.material || 'Ge';
    const hit = this.materials().find((m) => m.name.toLowerCase() === String(want).toLowerCase());
    if (hit) sel.value = hit.name;
  }

  /**
   * Makes `name` the reference material (a material just added in the panel).
   * @param {string | undefined} name
   */
  selectMaterial(name) {
    const hit = this.materials().find((m) => m.name === name);
    if (hit) this.$('calib-material', 'select').value = hit.name;
  }

  presetOf(f) {
    return this.presets.find((p) => p.rows === f.rows && p.cols === f.cols && Math.abs(p.pixel_size_mm - f.pixel) < 1e-9)
      ?.name ?? null;
  }

  applyPreset() {
    const p = this.presets.find((d) => d.name === this.$('calib-preset', 'select').value);
    if (!p) return;
    this.$('calib-pixel', 'input').value = String(p.pixel_size_mm);
    this.$('calib-rows', 'input').value = String(p.rows);
    this.$('calib-cols', 'input').value = String(p.cols);
  }

  frameForm() {
    return {
      pixel: Number(this.$('calib-pixel', 'input').value),
      rows: Number(this.$('calib-rows', 'input').value),
      cols: Number(this.$('calib-cols', 'input').value),
    };
  }

  setFrame(pixel, rows, cols) {
    this.$('calib-pixel', 'input').value = pixel == null ? '' : String(pixel);
    this.$('calib-rows', 'input').value = String(rows);
    this.$('calib-cols', 'input').value = String(cols);
    this.$('calib-preset', 'select').value = this.presetOf({ pixel, rows, cols }) ?? 'custom';
  }

  /** The image's frame and pixel size (from the file, else its detector's preset, else the form's). */
  frameOfImage(img) {
    const info = img.info;
    const preset = this.presets.find((p) => p.name.toLowerCase() === String(info.detector ?? '').toLowerCase())
      ?? this.presets.find((p) => p.rows === info.rows && p.cols === info.cols);
    const typed = Number(this.$('calib-pixel', 'input').value);
    const pixel = info.pixel_size_mm ?? preset?.pixel_size_mm ?? (typed > 0 ? typed : null);
    return { pixel, rows: info.rows, cols: info.cols };
  }

  /** Nominal start: the frame of the image, dd as typed (70 mm if none), the image's centre, tilts 0. */
  nominalStart(byUser = false) {
    const img = this.image();
    const $ = this.$;
    if (img) {
      const f = this.frameOfImage(img);
      this.setFrame(f.pixel, f.rows, f.cols);
    } else if (!$('calib-rows', 'input').value) {
      this.applyPreset();
    }
    const { rows, cols } = this.frameForm();
    const dd = Number($('calib-dd', 'input').value);
    $('calib-dd', 'input').value = String(byUser && dd > 0 ? dd : NOMINAL_DD_MM);
    $('calib-xcen', 'input').value = String(cols > 0 ? cols / 2 : '');
    $('calib-ycen', 'input').value = String(rows > 0 ? rows / 2 : '');
    $('calib-xbet', 'input').value = '0';
    $('calib-xgam', 'input').value = '0';
    this.startEdited = byUser;
  }

  /** Start values, pixel size, frame (and material, when the .det names one) from the view's calibration. */
  startFromLoaded() {
    const l = this.loaded();
    if (!l) return;
    this.setStart(l.calibration);
    const hit = this.materials().find((m) => m.name.toLowerCase() === String(l.material ?? '').toLowerCase());
    if (hit) this.$('calib-material', 'select').value = hit.name;
    this.startEdited = true;
  }

  /** Fills the form with a calibration object (`{distance_mm, xcen_px, …, pixel_size_mm, rows, cols}`). */
  setStart(c) {
    for (const p of PARAMS) this.$(`calib-${p.key}`, 'input').value = String(c[p.field]);
    this.setFrame(c.pixel_size_mm, c.rows, c.cols);
  }

  /** The request from the form, or {problems} naming what does not parse. */
  readRequest() {
    const $ = this.$;
    const problems = [];
    const num = (id, what) => {
      const el = $(id, 'input');
      const v = Number(el.value);
      const ok = el.value.trim() !== '' && Number.isFinite(v);
      el.classList.toggle('invalid', !ok);
      if (!ok) problems.push(`${what}: “${el.value}” is not a number`);
      return v;
    };
    const start = {};
    for (const p of PARAMS) start[p.field] = num(`calib-${p.key}`, `start ${p.label} (${p.unit})`);
    start.pixel_size_mm = num('calib-pixel', 'pixel size (mm)');
    start.rows = num('calib-rows', 'rows');
    start.cols = num('calib-cols', 'cols');
    for (const k of ['rows', 'cols']) {
      if (Number.isFinite(start[k]) && !(Number.isInteger(start[k]) && start[k] >= 1)) {
        problems.push(`${k}: ${start[k]} is not a whole number ≥ 1`);
      }
    }
    const emin = num('calib-emin', 'E min (keV)');
    const emax = num('calib-emax', 'E max (keV)');
    const material = $('calib-material', 'select').value;
    if (!material) problems.push('pick the reference material');
    const fixed = PARAMS.filter((p) => $(`calib-fix-${p.key}`, 'input').checked).map((p) => p.key);
    return { request: { material: material ? this.spec(material) : material, start, fixed, emin_kev: emin, emax_kev: emax }, problems };
  }

  // -------------------------------------------------------------------------------------------------------------
  // Running

  /** Why "Calibrate" cannot run now, or ''. */
  blocker() {
    const img = this.image();
    if (!img) return 'Open an image of a reference crystal (or load the example) to calibrate on its peaks.';
    if (img.search && img.search.peaks.length < 8) {
      return `Calibration needs at least 8 peaks; this image has ${img.search.peaks.length} (lower IntensityThreshold?).`;
    }
    return '';
  }

  /** Starts a calibration on the current image (its peak search first when it has no peaks); false if it cannot. */
  run() {
    if (this.running || this.waiting) return false;
    this.clearError();
    const blocker = this.blocker();
    if (blocker) {
      this.showError(blocker);
      return false;
    }
    const { request, problems } = this.readRequest();
    if (problems.length) {
      this.showError(`Calibration settings: ${problems.join('; ')}.`);
      return false;
    }
    const img = this.image();
    if (request.start.rows !== img.info.rows || request.start.cols !== img.info.cols) {
      this.showError(`The start's frame is ${request.start.cols} × ${request.start.rows} (cols × rows) but `
        + `${img.name} is ${img.info.cols} × ${img.info.rows}: set rows and cols to the image's (or “Nominal start”).`);
      return false;
    }
    if (!img.search) {
      this.waiting = { id: img.id };
      this.setStatus(`finding the peaks of ${img.name} first…`);
      this.$('calib-progress').removeAttribute('value');
      this.refresh();
      if (!this.findPeaks()) {
        this.waiting = null;
        this.$('calib-progress', 'progress').value = 0;
        this.showError('The peak search could not start (see the peak-search panel).');
        this.refresh();
        return false;
      }
      return true;
    }
    this.post(img, request);
    return true;
  }

  post(img, request) {
    const job = `calib-${++this.job}`;
    const peaks = img.search.peaks.map(({ x, y, intensity }) => ({ x, y, intensity }));
    this.running = { job, id: img.id, name: img.name, peaks: img.search.peaks, request, t0: performance.now() };
    this.$('calib-progress').removeAttribute('value'); // indeterminate: the worker reports no steps
    const fixed = request.fixed.length ? `, ${request.fixed.join(', ')} fixed` : '';
    this.setStatus(`calibrating on ${peaks.length} peaks of ${img.name} as ${typeof request.material === 'string' ? request.material : request.material.name}${fixed}…`);
    this.refresh();
    this.worker.postMessage({ type: 'calibrate', id: img.id, job, peaks, request });
  }

  /** The view's peak search ended on image `img` (or failed: `img` null): go on if a calibration waits for it. */
  peaksFound(img) {
    const w = this.waiting;
    if (!w) return;
    this.waiting = null;
    this.$('calib-progress', 'progress').value = 0;
    if (!img || img.id !== w.id || !img.search) {
      this.setStatus('');
      this.showError('Calibration not run: the peak search did not give peaks (see the peak-search panel).');
      this.refresh();
      return;
    }
    if (img !== this.image()) {
      this.setStatus('The image changed during the peak search; press “Calibrate” again.');
      this.refresh();
      return;
    }
    if (img.search.peaks.length < 8) {
      this.showError(this.blocker());
      this.refresh();
      return;
    }
    const { request, problems } = this.readRequest();
    if (problems.length) {
      this.showError(`Calibration settings: ${problems.join('; ')}.`);
      this.refresh();
      return;
    }
    this.post(img, request);
  }

  /** Handles the worker's replies; true when the message was one of this panel's. */
  onWorkerMessage(m) {
    const mine = m.type === 'calibrated' || (m.type === 'error' && typeof m.job === 'string' && m.job.startsWith('calib-'));
    if (!mine) return false;
    const run = this.running;
    if (!run || m.job !== run.job) return true;
    this.running = null;
    if (m.type === 'error') {
      this.$('calib-progress', 'progress').value = 0;
      this.showError(`Calibration failed: ${m.message}`);
      this.setStatus('calibration failed (see the message above)');
      this.refresh();
      return true;
    }
    this.$('calib-progress', 'progress').value = 1;
    const r = m.report;
    const twotheta = r.spots.map((s) => {
      try {
        return this.wasm.pixel_to_angles(r.calibration, s.x_px, s.y_px)[0];
      } catch {
        return null;
      }
    });
    this.result = { report: r, image: run.name, imageId: run.id, peaks: run.peaks, worker_ms: m.worker_ms, twotheta };
    this.runs += 1;
    this.setStatus(`${run.name}: ${r.n_spots_used} of ${r.n_peaks} peaks fitted, RMS ${r.rms_px.toFixed(3)} px, `
      + `in ${Math.round(r.elapsed_ms)} ms${r.start_used ? ` (from the coarse grid's start ${r.start_used})` : ''}.`);
    if (r.warnings.length) this.showError(`Calibration warning: ${r.warnings.join('; ')}`, true);
    this.render();
    this.refresh();
    return true;
  }

  // -------------------------------------------------------------------------------------------------------------
  // Result

  render() {
    const $ = this.$;
    const res = this.result;
    $('calib-result').hidden = !res;
    if (!res) return;
    const r = res.report;
    const body = $('calib-table', 'table').tBodies[0];
    body.textContent = '';
    for (const p of PARAMS) {
      const tr = document.createElement('tr');
      tr.dataset.param = p.key;
      const th = document.createElement('th');
      th.scope = 'row';
      th.textContent = `${p.label} (${p.unit})`;
      const start = document.createElement('td');
      start.textContent = String(r.start[p.field]);
      const got = document.createElement('td');
      const fixed = r.fixed.includes(p.key);
      got.textContent = fixed
        ? `${r.calibration[p.field].toFixed(p.digits)} (fixed)`
        : `${r.calibration[p.field].toFixed(p.digits)} ± ${r.uncertainties[p.sigma].toPrecision(2)}`;
      got.dataset.value = String(r.calibration[p.field]);
      tr.append(th, start, got);
      body.append(tr);
    }
    $('calib-summary').textContent = `${r.material}: ${r.n_spots_used} spots used of ${r.n_peaks} peaks `
      + `(${r.n_simulated} reflections simulated, matching rate ${r.matching_rate.toFixed(1)} %), RMS ${r.rms_px.toFixed(3)} px, `
      + `mean ${r.mean_residual_px.toFixed(3)} px; ${r.history.length} match/fit rounds, start ${r.start_used + 1} of `
      + `${r.starts_tried} tried; ${Math.round(r.elapsed_ms)} ms in the worker. Pixel ${r.calibration.pixel_size_mm} mm, `
      + `frame ${r.calibration.cols} × ${r.calibration.rows}.`;
    this.draw();
  }

  /** Residual vectors on the detector (magnified) and the residual distance against 2θ. */
  draw() {
    const res = this.result;
    const { g, w, h, tick } = clearedPlot(this.$('calib-plot'), 320, 200);
    if (!res) return;
    const r = res.report;
    const spots = r.spots;
    const c = r.calibration;
    const maxRes = Math.max(...spots.map((s) => s.residual_px), 1e-6);
    const colour = (v) => (v <= r.rms_px ? '#15803d' : v <= 2 * r.rms_px ? '#d97706' : '#b91c1c');
    g.font = '10px system-ui, sans-serif';
    // Left: the detector frame with each spot's residual vector.
    const pad = 14;
    const side = Math.min(w / 2 - 2 * pad, h - 2 * pad - 10);
    const scale = side / Math.max(c.rows, c.cols);
    const x0 = pad;
    const y0 = pad;
    g.strokeStyle = '#888';
    g.strokeRect(x0 + 0.5, y0 + 0.5, c.cols * scale, c.rows * scale);
    // Magnification: the largest residual drawn as a tenth of the frame, rounded to 1, 2 or 5 × 10^n.
    const raw = (0.1 * Math.max(c.rows, c.cols)) / maxRes;
    const p10 = 10 ** Math.floor(Math.log10(raw));
    const mag = [5, 2, 1].map((k) => k * p10).find((v) => v <= raw) ?? p10;
    for (const s of spots) {
      const px = x0 + (s.x_px - 1) * scale;
      const py = y0 + (s.y_px - 1) * scale;
      const qx = px + (s.x_theo_px - s.x_px) * mag * scale;
      const qy = py + (s.y_theo_px - s.y_px) * mag * scale;
      g.strokeStyle = colour(s.residual_px);
      g.fillStyle = g.strokeStyle;
      g.beginPath();
      g.arc(px, py, 1.6, 0, 2 * Math.PI);
      g.fill();
      g.beginPath();
      g.moveTo(px, py);
      g.lineTo(qx, qy);
      g.stroke();
    }
    g.fillStyle = '#444';
    g.textAlign = 'left';
    g.fillText(`residuals × ${mag} (measured → predicted)`, x0, y0 + c.rows * scale + 11);
    // The frame's extent (px, LaueTools' X = column, Y = row).
    g.font = '9px system-ui, sans-serif';
    g.textAlign = 'left';
    tick('fx', 'X 1', x0, y0 - 3);
    g.textAlign = 'right';
    tick('fx', `${c.cols} px`, x0 + c.cols * scale, y0 - 3);
    g.save();
    g.translate(x0 - 3, y0);
    g.rotate(-Math.PI / 2);
    g.textAlign = 'right';
    tick('fy', 'Y 1', 0, 0);
    g.textAlign = 'left';
    tick('fy', `${c.rows} px`, -c.rows * scale, 0);
    g.restore();
    g.font = '10px system-ui, sans-serif';
    // Right: |predicted − measured| against 2θ, the RMS as a line.
    const pts = spots.map((s, i) => [res.twotheta[i], s.residual_px]).filter(([t]) => t != null);
    const L = w / 2 + pad + 14;
    const R = w - pad;
    const T = pad;
    const B = h - pad - 10;
    g.strokeStyle = '#888';
    g.beginPath();
    g.moveTo(L, T);
    g.lineTo(L, B);
    g.lineTo(R, B);
    g.stroke();
    if (pts.length) {
      const tmin = Math.floor(Math.min(...pts.map((p) => p[0])) / 10) * 10;
      const tmax = Math.ceil(Math.max(...pts.map((p) => p[0])) / 10) * 10;
      const ymax = maxRes * 1.1;
      const X = (t) => L + ((t - tmin) / Math.max(tmax - tmin, 1e-9)) * (R - L);
      const Y = (v) => B - (v / ymax) * (B - T);
      for (const [t, v] of pts) {
        g.fillStyle = colour(v);
        g.beginPath();
        g.arc(X(t), Y(v), 2, 0, 2 * Math.PI);
        g.fill();
      }
      g.strokeStyle = '#2f6fd6';
      g.setLineDash([4, 3]);
      g.beginPath();
      g.moveTo(L, Y(r.rms_px));
      g.lineTo(R, Y(r.rms_px));
      g.stroke();
      g.setLineDash([]);
      g.fillStyle = '#444';
      g.textAlign = 'center';
      for (const t of niceTicks(tmin, tmax, 4)) {
        g.fillRect(Math.round(X(t)), B, 1, 3);
        tick('x', `${formatTick(t)}°`, X(t), B + 11);
      }
      g.fillText('2θ (°)', (L + R) / 2, h - 1);
      g.textAlign = 'right';
      for (const v of niceTicks(0, ymax, 3)) {
        g.fillRect(L - 3, Math.round(Y(v)), 3, 1);
        tick('y', v === 0 ? '0' : v.toFixed(v < 1 ? 2 : 1), L - 4, Y(v) + 3);
      }
      g.textAlign = 'left';
      g.fillText(`|Δ| (px)`, L + 3, T + 8);
      g.fillStyle = '#2f6fd6';
      g.fillText(`RMS ${r.rms_px.toFixed(3)} px`, L + 3, Y(r.rms_px) - 3);
    }
  }

  /** The .det text of the result (the library's writer). */
  detText() {
    const res = this.result;
    if (!res) return null;
    const img = this.image();
    const ccd = (img && img.id === res.imageId ? img.info.detector : null) || this.$('calib-preset', 'select').value;
    return this.wasm.calibration_det_text(res.report, ccd === 'custom' ? '' : ccd, res.image);
  }

  detName() {
    const base = this.result.image.replace(/^.*[\\/]/, '');
    const i = base.lastIndexOf('.');
    return `calib_${i > 0 ? base.slice(0, i) : base}.det`;
  }

  saveDet() {
    try {
      this.save(this.detName(), this.detText());
    } catch (e) {
      this.showError(`Could not write the .det file: ${e.message || e}`);
    }
  }

  use() {
    try {
      this.useCalibration(this.detText(), `${this.detName()} (calibrated here)`);
      this.setStatus(`${this.detName()} is now this view's calibration (2θ, χ, .cor, indexing).`);
    } catch (e) {
      this.showError(`Could not use the calibration: ${e.message || e}`);
    }
  }

  // -------------------------------------------------------------------------------------------------------------
  // State

  /** Re-reads the image and the loaded calibration: buttons, default start values. */
  refresh() {
    const $ = this.$;
    const img = this.image();
    if (img && !this.startEdited) {
      const f = this.frameOfImage(img);
      const { rows, cols } = this.frameForm();
      if (rows !== f.rows || cols !== f.cols || !$('calib-dd', 'input').value) this.nominalStart(false);
    }
    const busy = Boolean(this.running || this.waiting);
    $('calib-run', 'button').disabled = !img || busy;
    $('calib-run').title = this.blocker();
    $('calib-from-det', 'button').disabled = !this.loaded() || busy;
    const l = this.loaded();
    $('calib-from-det').textContent = l ? `Start from ${l.name}` : 'Start from the loaded .det';
    // Say what is missing or that it is ready, unless the line tells of a run.
    const status = $('calib-status').textContent;
    if (!busy && (!status || status === this.autoStatus)) {
      this.autoStatus = this.blocker() || 'Ready: check the start values, then “Calibrate” (peaks are found first if needed).';
      $('calib-status').textContent = this.autoStatus;
    }
  }

  setStatus(text) {
    this.$('calib-status').textContent = text;
  }

  /** Shows a message in the panel; unless `keepStatus`, the status line says nothing was calibrated. */
  showError(message, keepStatus = false) {
    // The status line must not tell of an earlier run next to this message.
    if (!keepStatus && !this.running && !this.waiting) this.setStatus('Not calibrated: see the message above.');
    const el = this.$('calib-error');
    el.textContent = message;
    el.hidden = false;
  }

  clearError() {
    const el = this.$('calib-error');
    el.hidden = true;
    el.textContent = '';
  }
}
