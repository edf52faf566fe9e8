// End-to-end test of the page's "Images & peaks" view (www/index.html, www/views/peaks/) in headless Chromium.
//
//   node tests/e2e/peaks.e2e.mjs
//
// Loads the bundled example (Ge_blanc_0000.mccd, calibGe111.det, peaksearch.json), runs the peak search in the page's
// Web Worker and compares the peaks with the native result committed in tests/data/golden/peaks/Ge_blanc.json
// (checked against the native build by tests/golden_peaks.rs). Also: sorting, contrast, colour map, zoom on a peak,
// the pixel readout against wasm pixel_to_angles, the .dat/.cor downloads, indexing the peaks as Ge against the
// native golden grain (tests/data/golden/index/Ge_blanc.json, checked by tests/golden_index.rs) with its table row,
// overlay, .fit and JSON downloads, several images, a bad file, a PILATUS-like frame's masked pixels and a mask file.
// Needs the wasm package in pkg/ and `npm ci` for playwright-core. Environment: CHROMIUM, LAUEKIT_PKG_DIR,
// LAUEKIT_E2E_OUT (screenshots; default target/e2e). The last line is `e2e: N passed, M failed`.

import fs from 'node:fs/promises';
import path from 'node:path';
import zlib from 'node:zlib';
import { chromium } from 'playwright-core';
import { PKG_DIR, ROOT, startServer, benignAbort } from './server.mjs';

const OUT_DIR = path.resolve(process.env.LAUEKIT_E2E_OUT || path.join(ROOT, 'target', 'e2e'));
const GOLDEN = path.join(ROOT, 'tests', 'data', 'golden', 'peaks', 'Ge_blanc.json');
const GOLDEN_INDEX = path.join(ROOT, 'tests', 'data', 'golden', 'index', 'Ge_blanc.json');
const UB_TOL = 1e-6; // wasm vs native UB elements
const PAGE = '/www/index.html';
const WAIT_MS = 120_000; // upper bound of every single wait (the dev wasm build is slower than release)
const OVERALL_MS = 8 * 60_000;
const POS_TOL_PX = 1e-4; // wasm vs native peak positions (detector px)


let passed = 0;
let failed = 0;
const pageErrors = [];
function check(name, ok, detail = '') {
  if (ok) {
    passed += 1;
    console.log(`ok   ${name}`);
  } else {
    failed += 1;
    console.log(`FAIL ${name}${detail ? `\n     ${String(detail).replace(/\n/g, '\n     ')}` : ''}`);
  }
  return ok;
}

/** Peaks vs the golden list: same count, positions within POS_TOL_PX in the same order. */
function comparePeaks(ours, golden) {
  if (ours.length !== golden.length) return `${ours.length} peaks, native ${golden.length}`;
  for (let i = 0; i < golden.length; i++) {
    const d = Math.max(Math.abs(ours[i].x - golden[i].x), Math.abs(ours[i].y - golden[i].y));
    if (!(d <= POS_TOL_PX)) {
      return `peak ${i}: (${ours[i].x}, ${ours[i].y}) vs native (${golden[i].x}, ${golden[i].y}), |Δ| = ${d}`;
    }
  }
  return null;
}

const errorText = (page) => page.evaluate(() => {
  const el = document.getElementById('peaks-error');
  return el.hidden ? '' : el.textContent;
});

/** Mean grey level of the image canvas (0–255). */
const canvasMean = (page) => page.evaluate(() => {
  const c = document.getElementById('image-canvas');
  const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
  let s = 0;
  for (let i = 0; i < d.length; i += 4) s += (d[i] + d[i + 1] + d[i + 2]) / 3;
  return s / (d.length / 4);
});

async function tableColumn(page, key) {
  return page.evaluate((k) => {
    const ths = Array.from(document.querySelectorAll('#peak-table thead th'));
    const col = ths.findIndex((th) => th.dataset.key === k);
    return Array.from(document.querySelectorAll('#peak-table tbody tr'), (tr) => Number(tr.cells[col].textContent));
  }, key);
}

/** A little-endian, uncompressed, one-strip TIFF of signed 32-bit pixels (as PILATUS frames are). */
function int32Tiff(pixels, rows, cols) {
  const tags = [[256, 4, cols], [257, 4, rows], [258, 3, 32], [259, 3, 1], [262, 3, 1], [273, 4, 0], [277, 3, 1],
    [278, 4, rows], [279, 4, rows * cols * 4], [339, 3, 2]];
  const ifdSize = 2 + tags.length * 12 + 4;
  const dataAt = 8 + ifdSize;
  const buf = Buffer.alloc(dataAt + rows * cols * 4);
  buf.write('II', 0, 'latin1');
  buf.writeUInt16LE(42, 2);
  buf.writeUInt32LE(8, 4);
  buf.writeUInt16LE(tags.length, 8);
  tags.forEach(([tag, type, value], k) => {
    const o = 10 + 12 * k;
    buf.writeUInt16LE(tag, o);
    buf.writeUInt16LE(type, o + 2);
    buf.writeUInt32LE(1, o + 4);
    if (type === 3) buf.writeUInt16LE(value, o + 8);
    else buf.writeUInt32LE(tag === 273 ? dataAt : value, o + 8);
  });
  for (let i = 0; i < pixels.length; i++) buf.writeInt32LE(pixels[i], dataAt + 4 * i);
  return buf;
}

/** An 8-bit grey PNG. */
function grayPng(values, rows, cols) {
  const crcTable = Array.from({ length: 256 }, (_, n) => {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    return c >>> 0;
  });
  const crc = (b) => {
    let c = 0xffffffff;
    for (const x of b) c = crcTable[(c ^ x) & 0xff] ^ (c >>> 8);
    return (c ^ 0xffffffff) >>> 0;
  };
  const chunk = (type, data) => {
    const body = Buffer.concat([Buffer.from(type, 'latin1'), data]);
    const out = Buffer.alloc(body.length + 8);
    out.writeUInt32BE(data.length, 0);
    body.copy(out, 4);
    out.writeUInt32BE(crc(body), body.length + 4);
    return out;
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(cols, 0);
  ihdr.writeUInt32BE(rows, 4);
  ihdr[8] = 8; // bit depth; colour type 0 (grey), deflate, no filter, no interlace
  const raw = Buffer.alloc(rows * (cols + 1));
  for (let r = 0; r < rows; r++) Buffer.from(values.subarray(r * cols, (r + 1) * cols)).copy(raw, r * (cols + 1) + 1);
  return Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), chunk('IHDR', ihdr),
    chunk('IDAT', zlib.deflateSync(raw)), chunk('IEND', Buffer.alloc(0))]);
}

const sortedAsc = (a) => a.every((v, i) => i === 0 || a[i - 1] <= v);
const sortedDesc = (a) => a.every((v, i) => i === 0 || a[i - 1] >= v);

async function download(page, selector) {
  const [dl] = await Promise.all([page.waitForEvent('download', { timeout: WAIT_MS }), page.click(selector)]);
  const file = await dl.path();
  return { name: dl.suggestedFilename(), text: await fs.readFile(file, 'utf8') };
}

async function main() {
  await fs.mkdir(OUT_DIR, { recursive: true });
  await fs.access(path.join(PKG_DIR, 'lauekit.js')).catch(() => {
    throw new Error(`${path.join(PKG_DIR, 'lauekit.js')} not found: build the wasm package into pkg/ first`);
  });
  const golden = JSON.parse(await fs.readFile(GOLDEN, 'utf8'));
  const goldenIndex = JSON.parse(await fs.readFile(GOLDEN_INDEX, 'utf8'));
  const server = await startServer();
  const base = `http://127.0.0.1:${server.address().port}`;
  let browser = null;
  let page = null;
  const watchdog = setTimeout(() => {
    console.log(`FAIL the run took longer than ${OVERALL_MS / 1000} s`);
    console.log(`e2e: ${passed} passed, ${failed + 1} failed`);
    process.exit(1);
  }, OVERALL_MS);
  watchdog.unref();

  try {
    browser = await chromium.launch({
      executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
      headless: true,
      timeout: WAIT_MS,
      args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
        '--disable-component-update', '--disable-sync'],
    });
    const context = await browser.newContext({ viewport: { width: 1400, height: 1000 }, acceptDownloads: true });
    page = await context.newPage();
    page.setDefaultTimeout(WAIT_MS);
    page.on('pageerror', (err) => pageErrors.push(`uncaught: ${err.message}`));
    page.on('console', (msg) => {
      if (msg.type() === 'error') pageErrors.push(`console.error: ${msg.text()}`);
    });
    page.on('requestfailed', (req) => { if (!benignAbort(req)) pageErrors.push(`request failed: ${req.url()} ${req.failure()?.errorText ?? ''}`); });

    // 1. The page opens on the "Images & peaks" view and its worker starts.
    await page.goto(base + PAGE, { waitUntil: 'load' });
    await page.waitForFunction(() => Boolean(window.lauekitPeaks && window.lauekitPeaks.ready));
    const ready = await page.evaluate(() => window.lauekitPeaks.ready.then(() => 'ok', (e) => `rejected: ${e && e.message}`));
    if (ready !== 'ok') throw new Error(`peaks view did not start: ${ready}\n${await errorText(page)}`);
    check('peaks view is ready (wasm + worker)', true);
    const tabs = await page.evaluate(() => ({
      peaks: !document.getElementById('view-peaks').hidden,
      simulator: !document.getElementById('view-simulator').hidden,
    }));
    check('"Images & peaks" is the default view', tabs.peaks && !tabs.simulator, JSON.stringify(tabs));
    const defaults = await page.evaluate(() => document.getElementById('ps-IntensityThreshold').value);
    check("settings start at LaueTools' defaults (IntensityThreshold 400)", defaults === '400', defaults);

    // 2. The bundled example: image, calibration and settings.
    await page.click('#load-example-image');
    await page.waitForFunction(() => window.lauekitPeaks.opened >= 1 && window.lauekitPeaks.current());
    const info = await page.evaluate(() => window.lauekitPeaks.current().info);
    check('example image decoded: 2048 × 2048 MarCCD', info.rows === 2048 && info.cols === 2048 && info.format === 'mccd',
      JSON.stringify({ rows: info.rows, cols: info.cols, format: info.format, detector: info.detector }));
    const form = await page.evaluate(() => ({
      thr: document.getElementById('ps-IntensityThreshold').value,
      size: [document.getElementById('ps-PeakSizeRange-0').value, document.getElementById('ps-PeakSizeRange-1').value],
      calib: document.getElementById('calib-info').textContent,
    }));
    check('example settings from peaksearch.json (IntensityThreshold 50, PeakSizeRange 0.4–3)',
      form.thr === '50' && form.size[0] === '0.4' && form.size[1] === '3', JSON.stringify(form));
    check('example calibration loaded (calibGe111.det, dd 70.775)', /calibGe111\.det/.test(form.calib) && /70\.775/.test(form.calib), form.calib);

    // 3. Percentile contrast: limits equal the exact 0.5 % / 99.5 % pixel values.
    const pct = await page.evaluate(() => {
      const lk = window.lauekitPeaks;
      const px = Float32Array.from(lk.current().pixels ?? lk.state.images[lk.state.current].pixels).sort();
      const at = (p) => px[Math.floor((p / 100) * px.length)];
      return { lo: lk.view.display.lo, hi: lk.view.display.hi, wantLo: at(0.5), wantHi: at(99.5) };
    });
    check('percentile limits = exact 0.5 % / 99.5 % values', pct.lo === pct.wantLo && pct.hi === pct.wantHi, JSON.stringify(pct));

    // 4. Peak search in the worker, with progress.
    await page.click('#run-search');
    await page.waitForFunction(() => window.lauekitPeaks.searches >= 1 || !document.getElementById('peaks-error').hidden);
    const err1 = await errorText(page);
    if (err1) throw new Error(`peak search failed: ${err1}`);
    const run = await page.evaluate(() => {
      const lk = window.lauekitPeaks;
      const s = lk.current().search;
      return {
        peaks: s.peaks.map(({ x, y, intensity_sub: isub }) => ({ x, y, isub })),
        elapsed: s.elapsed_ms,
        progress: lk.progressLog,
        bar: document.getElementById('peak-progress').value,
        status: document.getElementById('search-status').textContent,
        count: document.getElementById('peak-count').textContent,
      };
    });
    console.log(`     wasm peak search (dev build, in the page's worker): ${run.elapsed.toFixed(0)} ms`);
    check('97 peaks found, as natively', run.peaks.length === 97, `${run.peaks.length} peaks`);
    const cmp = comparePeaks(run.peaks, golden.peaks);
    check(`every peak position = native result (±${POS_TOL_PX} px, same order)`, cmp === null, cmp ?? '');
    // LaueTools 3.2.19: (623.13, 1657.72) (../shared/data/reference/Ge_blanc_0000_peaks.dat).
    check('strongest peak at (623.13, 1657.73)',
      Math.abs(run.peaks[0]?.x - 623.1282) < 1e-3 && Math.abs(run.peaks[0]?.y - 1657.7257) < 1e-3,
      JSON.stringify(run.peaks[0]));
    const detected = run.progress.find((p) => p.stage === 'detected');
    const last = run.progress[run.progress.length - 1];
    check('progress: detection reported, then fitting up to the end',
      detected && detected.total === 97 && last && last.stage === 'fitting' && last.done === last.total && run.bar === 1,
      JSON.stringify(run.progress));
    check('status and header show the count', /97 peaks/.test(run.status) && /97 peaks/.test(run.count), `${run.status} | ${run.count}`);

    // 5. Overlay: one circle per peak at its position.
    await page.waitForFunction(() => window.lauekitPeaks.view.drawnPeaks.length === 97);
    const overlay = await page.evaluate(() => {
      const lk = window.lauekitPeaks;
      const peaks = lk.current().search.peaks;
      return lk.view.drawnPeaks.map((d) => {
        const [ex, ey] = lk.toCanvas(peaks[d.index].x, peaks[d.index].y);
        return Math.hypot(d.cx - ex, d.cy - ey);
      });
    });
    check('97 circles drawn at the peak positions', overlay.length === 97 && overlay.every((d) => d < 1e-6));
    await page.screenshot({ path: path.join(OUT_DIR, 'peaks-overview.png') });

    // 6. Sortable table.
    check('table: one row per peak, strongest first', (await tableColumn(page, 'rank')).join() === Array.from({ length: 97 }, (_, i) => i + 1).join());
    await page.click('#peak-table th[data-key=x]');
    const xsUp = await tableColumn(page, 'x');
    check('click "x": ascending x', xsUp.length === 97 && sortedAsc(xsUp), xsUp.slice(0, 5).join(' '));
    await page.click('#peak-table th[data-key=x]');
    const xsDown = await tableColumn(page, 'x');
    check('click "x" again: descending x', sortedDesc(xsDown), xsDown.slice(0, 5).join(' '));
    await page.click('#peak-table th[data-key=tth]');
    const tths = await tableColumn(page, 'tth');
    check('click "2θ": ascending 2θ, values shown', sortedAsc(tths) && tths.every(Number.isFinite), tths.slice(0, 5).join(' '));
    await page.click('#peak-table th[data-key=rank]');

    // 7. Clicking a row centres the view on that peak (zoomed in) and highlights it.
    const pick = 5;
    await page.click(`#peak-table tbody tr[data-index="${pick}"]`);
    await page.waitForFunction((i) => window.lauekitPeaks.view.selected === i, pick);
    await page.waitForTimeout(100);
    const centred = await page.evaluate((i) => {
      const lk = window.lauekitPeaks;
      const p = lk.current().search.peaks[i];
      const [cx, cy] = lk.toCanvas(p.x, p.y);
      return { cx, cy, w: lk.view.cssW, h: lk.view.cssH, scale: lk.view.scale,
        row: document.querySelector('#peak-table tbody tr.selected')?.dataset.index };
    }, pick);
    check('row click: peak centred and zoomed in (≥ 2 screen px per pixel)',
      Math.abs(centred.cx - centred.w / 2) < 1 && Math.abs(centred.cy - centred.h / 2) < 1 && centred.scale >= 2
      && centred.row === String(pick), JSON.stringify(centred));
    await page.screenshot({ path: path.join(OUT_DIR, 'peaks-zoom.png') });

    // 8. Pixel readout at the selected peak: LaueTools x, y (first pixel (1, 1)), value, 2θ, χ = wasm pixel_to_angles.
    const box = await page.locator('#image-canvas').boundingBox();
    await page.mouse.move(box.x + centred.cx, box.y + centred.cy);
    await page.waitForFunction(() => window.lauekitPeaks.readout !== null);
    const ro = await page.evaluate(async (i) => {
      const lk = window.lauekitPeaks;
      const p = lk.current().search.peaks[i];
      const mod = await import('/pkg/lauekit.js');
      await mod.default();
      const r = lk.readout;
      const img = lk.state.images[lk.state.current];
      const [tth, chi] = mod.pixel_to_angles(lk.state.calibration.calibration, r.x, r.y);
      return { r, p: { x: p.x, y: p.y, max: p.max_pixel }, tth, chi,
        value: img.pixels[(r.y - 1) * img.info.cols + (r.x - 1)],
        text: document.getElementById('readout').textContent };
    }, pick);
    check('readout: pixel under the pointer in LaueTools convention (x = floor(peak x − 0.5) + 1)',
      ro.r.x === Math.floor(ro.p.x - 0.5) + 1 && ro.r.y === Math.floor(ro.p.y - 0.5) + 1, JSON.stringify(ro));
    check('readout: value of that pixel, bright (≥ half the peak maximum)', ro.r.value === ro.value && ro.value >= 0.5 * ro.p.max,
      JSON.stringify(ro));
    check('readout: 2θ, χ = wasm pixel_to_angles(calibration, x, y)',
      Math.abs(ro.r.tth - ro.tth) < 1e-12 && Math.abs(ro.r.chi - ro.chi) < 1e-12
      && ro.text.includes(`2θ ${ro.tth.toFixed(3)}°`) && ro.text.includes(`χ ${ro.chi.toFixed(3)}°`), ro.text);

    // 9. Contrast and colour maps.
    await page.click('#disp-fit');
    await page.waitForTimeout(100);
    const meanLinear = await canvasMean(page);
    const renders = await page.evaluate(() => window.lauekitPeaks.view.renders);
    await page.selectOption('#disp-scale', 'log');
    await page.waitForFunction((n) => window.lauekitPeaks.view.renders > n, renders);
    await page.waitForTimeout(100);
    const meanLog = await canvasMean(page);
    check('log scale brightens the background', meanLog > meanLinear + 5, `mean grey ${meanLinear.toFixed(1)} → ${meanLog.toFixed(1)}`);
    await page.selectOption('#disp-cmap', 'viridis');
    await page.waitForTimeout(150);
    const colour = await page.evaluate(() => {
      const c = document.getElementById('image-canvas');
      const d = c.getContext('2d').getImageData(Math.round(c.width / 2), Math.round(c.height / 2), 1, 1).data;
      return Array.from(d.slice(0, 3));
    });
    check('viridis colour map: coloured pixels', !(colour[0] === colour[1] && colour[1] === colour[2]), colour.join(','));
    await page.screenshot({ path: path.join(OUT_DIR, 'peaks-log-viridis.png') });
    await page.selectOption('#disp-limits', 'manual');
    await page.fill('#disp-lo', '0');
    await page.fill('#disp-hi', '1000');
    await page.waitForFunction(() => window.lauekitPeaks.view.display.hi === 1000);
    check('manual limits (0–1000) applied', true);
    await page.selectOption('#disp-scale', 'linear');
    await page.selectOption('#disp-cmap', 'grey');
    await page.selectOption('#disp-limits', 'percentile');

    // 10. Downloads: .dat (LaueTools columns, native positions) and .cor (2θ, χ).
    const dat = await download(page, '#download-dat');
    const lines = dat.text.split('\n').filter((l) => l && !l.startsWith('#'));
    const first = lines[1]?.trim().split(/\s+/).map(Number) ?? [];
    check('.dat download: Ge_blanc_0000.dat, header + 97 rows', dat.name === 'Ge_blanc_0000.dat'
      && lines[0].startsWith('peak_X peak_Y peak_Itot peak_Isub') && lines.length === 98, `${dat.name}, ${lines.length} lines`);
    check('.dat first row = native strongest peak (2 decimals)',
      first[0] === Number(golden.peaks[0].x.toFixed(2)) && first[1] === Number(golden.peaks[0].y.toFixed(2))
      && first[3] === Number(golden.peaks[0].intensity_sub.toFixed(2)), lines[1]);
    const allRows = lines.slice(1).every((l, i) => {
      const v = l.trim().split(/\s+/).map(Number);
      return v.length === 11 && Math.abs(v[0] - golden.peaks[i].x) <= 0.0051 && Math.abs(v[1] - golden.peaks[i].y) <= 0.0051;
    });
    check('.dat: every row at the native position', allRows);
    const cor = await download(page, '#download-cor');
    const corRows = cor.text.split('\n').filter((l) => l && !l.startsWith('#'));
    check('.cor download: 2θ χ X Y I header, 97 rows, calibration trailer',
      cor.name === 'Ge_blanc_0000.cor' && /^2theta\s+chi\s+X\s+Y\s+I/.test(corRows[0]) && corRows.length === 98
      && /# dd\s+:\s+70\.775/.test(cor.text), `${cor.name}, ${corRows.length} lines`);

    // The same 2θ, χ as LaueTools' own .cor of this image (its positions differ by ~0.01 px): the calibration
    // takes positions in LaueTools' convention, as the page passes them.
    const ltCor = await fs.readFile(path.join(ROOT, '..', 'shared', 'data', 'real', 'Ge_blanc', 'Ge_blanc_0000_LT_5.cor'), 'utf8')
      .catch(() => null);
    if (ltCor) {
      const lt = ltCor.split('\n')[1].trim().split(/\s+/).map(Number);
      const ours = corRows[1].trim().split(/\s+/).map(Number);
      check('.cor first row: 2θ, χ as in LaueTools\' Ge_blanc_0000_LT_5.cor (±0.005°)',
        Math.abs(ours[0] - lt[0]) < 0.005 && Math.abs(ours[1] - lt[1]) < 0.005, `${corRows[1]} vs ${ltCor.split('\n')[1]}`);
    }

    // 10b. Indexing the peaks as Ge (the calibration's material is picked already) in the worker.
    const before = await page.evaluate(() => ({
      picked: Array.from(document.querySelectorAll('#index-materials input:checked'), (e) => e.value),
      n: document.querySelectorAll('#index-materials input').length,
      disabled: document.getElementById('run-index').disabled,
      status: document.getElementById('index-status').textContent,
    }));
    check('index panel: materials from the library table, Ge picked from calibGe111.det, ready',
      before.n >= 20 && before.picked.join() === 'Ge' && !before.disabled && /Index/.test(before.status), JSON.stringify(before));
    // Without a calibration the panel says what is missing (and the button is off).
    const noCal = await page.evaluate(() => {
      const lk = window.lauekitPeaks;
      const saved = lk.state.calibration;
      lk.state.calibration = null;
      lk.updateIndexPanel();
      const out = { status: document.getElementById('index-status').textContent, disabled: document.getElementById('run-index').disabled,
        ran: lk.runIndex() };
      lk.state.calibration = saved;
      lk.updateIndexPanel();
      return out;
    });
    check('no calibration: clear message, Index disabled', noCal.disabled && !noCal.ran && /calibration/.test(noCal.status)
      && /\.det/.test(noCal.status), JSON.stringify(noCal));
    await page.click('#run-index');
    await page.waitForFunction(() => window.lauekitPeaks.indexRuns >= 1 || !document.getElementById('peaks-error').hidden);
    const err2 = await errorText(page);
    if (err2) throw new Error(`indexing failed: ${err2}`);
    const idx = await page.evaluate(() => {
      const lk = window.lauekitPeaks;
      const r = lk.current().index.result;
      return {
        grains: r.grains.map((g) => ({ material: g.material, ub: g.ub, n: g.n_indexed, rate: g.matching_rate, euler: g.euler,
          spots: g.spots.map((s) => [s.peak, s.hkl.join(' ')]), nsim: g.simulated.length,
          matched: g.simulated.filter((p) => p.matched).length })),
        unindexed: r.unindexed,
        elapsed: r.elapsed_ms,
        worker: lk.current().index.worker_ms,
        status: document.getElementById('index-status').textContent,
        count: document.getElementById('grain-count').textContent,
        rows: Array.from(document.querySelectorAll('#grain-table tbody tr'), (tr) => Array.from(tr.cells, (c) => c.textContent)),
        drawn: lk.view.drawnGrainSpots,
        sim: lk.view.drawnSimulated,
      };
    });
    console.log(`     wasm indexing (dev build, in the page's worker): ${idx.elapsed.toFixed(0)} ms (worker ${idx.worker.toFixed(0)} ms)`);
    const gold = goldenIndex.grains[0];
    const g0 = idx.grains[0];
    check('indexing: one Ge grain', idx.grains.length === 1 && g0.material === 'Ge', JSON.stringify(idx.grains.map((g) => g.material)));
    const dUb = g0 ? Math.max(...g0.ub.flatMap((row, r) => row.map((v, c) => Math.abs(v - gold.ub[r][c])))) : Infinity;
    check(`indexing: UB = native golden UB (±${UB_TOL})`, dUb <= UB_TOL, `max |Δ| = ${dUb}`);
    check('indexing: 95 spots indexed with the native hkl, as natively (≥ 95)',
      g0?.n === gold.n_indexed && g0.n >= 95
      && g0.spots.map((s) => s.join(':')).join() === gold.spots.map((s) => `${s.peak}:${s.hkl.join(' ')}`).join(),
      `${g0?.n} vs ${gold.n_indexed}`);
    check('indexing: unindexed peaks listed (97 − 95)', idx.unindexed.length === 97 - gold.n_indexed, JSON.stringify(idx.unindexed));
    check('indexing: status and header report the grain', /1 grain/.test(idx.status) && /Ge 95 spots/.test(idx.status)
      && /95 of 97 peaks indexed/.test(idx.count), `${idx.status} | ${idx.count}`);
    const row = idx.rows[0] ?? [];
    check('grain table row: material, spots, matching rate, Euler angles, UB',
      idx.rows.length === 1 && row[1] === 'Ge' && row[2].startsWith('95 ') && row[3] === `${gold.matching_rate.toFixed(2)} %`
      && row[5] === g0.euler.map((v) => v.toFixed(3)).join('  ') && row[6].includes(gold.ub[0][0].toFixed(6)),
      JSON.stringify(row));
    // LaueTools' indexing (IndexSpotsSet 3.2.19 on Ge_blanc_0000_LT_5.dat, its lowest-Euler-angles cubic
    // representative): Euler angles 172.527 44.071 175.320
    check('Euler angles as LaueTools\' indexing writes them (172.53 44.07 175.32)',
      [172.527, 44.071, 175.320].every((v, i) => Math.abs(g0.euler[i] - v) < 0.02), JSON.stringify(g0.euler));
    check('overlay: 95 indexed spots circled; simulated pattern with matched (+) and missed (□) spots',
      idx.drawn === 95 && idx.sim.matched === 95 && idx.sim.missed === g0.nsim - 95 && g0.matched === 95 && idx.sim.missed > 0,
      JSON.stringify({ drawn: idx.drawn, sim: idx.sim, nsim: g0.nsim }));
    const hklCol = await page.evaluate(() => {
      const ths = Array.from(document.querySelectorAll('#peak-table thead th'));
      const col = ths.findIndex((th) => th.dataset.key === 'hkl');
      return col < 0 ? null : document.querySelector('#peak-table tbody tr').cells[col].textContent;
    });
    check('peak table: hkl column (strongest peak 4 2 2)', hklCol === gold.spots.find((s) => s.peak === 0)?.hkl.join(' '), hklCol);
    await page.screenshot({ path: path.join(OUT_DIR, 'index-overview.png') });
    await page.locator('#image-canvas').screenshot({ path: path.join(OUT_DIR, 'index-image.png') });
    // Zoomed on the strongest peak: labels and markers readable.
    await page.click('#peak-table tbody tr[data-index="0"]');
    await page.evaluate(() => { const v = window.lauekitPeaks.view; v.scale = 0.9; v.centerOn(1000, 1200, 0.9); });
    await page.evaluate(() => new Promise((r) => requestAnimationFrame(() => { window.lauekitPeaks.view.draw(); r(); })));
    await page.locator('#image-canvas').screenshot({ path: path.join(OUT_DIR, 'index-zoom.png') });
    await page.click('#disp-fit');

    const fit = await download(page, '#grain-table button.save-fit');
    const fitUb = (() => {
      const lines = fit.text.split('\n');
      const i = lines.findIndex((l) => l.startsWith('#UB matrix'));
      return lines.slice(i + 1, i + 4).map((l) => l.replace(/[#[\]]/g, ' ').trim().split(/\s+/).map(Number));
    })();
    const fitRows = fit.text.split('\n').filter((l) => l && !l.startsWith('#'));
    const dFit = Math.max(...fitUb.flatMap((r, i) => r.map((v, j) => Math.abs(v - gold.ub[i][j]))));
    check('.fit download: Ge_blanc_0000_g0.fit, 95 spot rows, Ge, UB (9 decimals) = golden, calibration',
      fit.name === 'Ge_blanc_0000_g0.fit' && fitRows.length === 95 && /#Element\n#Ge/.test(fit.text)
      && /#Number of indexed spots: 95/.test(fit.text) && dFit < 1e-8 && /#CCDLabel\n#MARCCD165/.test(fit.text)
      && /#DetectorParameters\n#\[70\.775, 941\.74, 1082\.56, 0\.63, -0\.682\]/.test(fit.text),
      `${fit.name}, ${fitRows.length} rows, |ΔUB| ${dFit}\n${fit.text.slice(0, 400)}`);
    const json = await download(page, '#download-index-json');
    const parsed = JSON.parse(json.text);
    check('JSON download: grains (material, ub, matching rate, spots), unindexed, seconds',
      json.name === 'Ge_blanc_0000_index.json' && parsed.grains.length === 1 && parsed.grains[0].material === 'Ge'
      && parsed.grains[0].n_indexed === 95 && parsed.grains[0].spots.length === 95 && parsed.unindexed.length === 2
      && Math.abs(parsed.grains[0].ub[2][2] - gold.ub[2][2]) < UB_TOL && typeof parsed.seconds === 'number',
      json.text.slice(0, 300));
    // Overlay toggles.
    await page.uncheck('#show-simulated');
    await page.uncheck('#show-hkl');
    await page.waitForFunction(() => window.lauekitPeaks.view.drawnSimulated.matched === 0);
    check('simulated pattern can be hidden', true);
    await page.check('#show-simulated');
    await page.check('#show-hkl');

    // 10a. Spot quality: the CNN on the CPU in the page's worker gives the native descriptors of the 97 peaks
    // (tests/data/golden/spotnet/Ge_blanc.json, checked natively by tests/golden_spotnet.rs).
    const goldenSpots = JSON.parse(await fs.readFile(path.join(ROOT, 'tests', 'data', 'golden', 'spotnet', 'Ge_blanc.json'), 'utf8'));
    await page.selectOption('#quality-device', 'cpu');
    await page.click('#run-quality');
    await page.waitForFunction(() => window.lauekitPeaks.quality.runs >= 1 || !document.getElementById('peaks-error').hidden,
      null, { timeout: WAIT_MS });
    const errQ = await errorText(page);
    if (errQ) throw new Error(`spot characterisation failed: ${errQ}`);
    const q = await page.evaluate(() => {
      const lk = window.lauekitPeaks;
      const ths = Array.from(document.querySelectorAll('#peak-table thead th'), (th) => th.dataset.key);
      return { d: lk.current().quality.descriptors, device: lk.current().quality.device, ms: lk.current().quality.elapsed_ms,
        cols: ths, styled: lk.view.drawnStyled, summary: document.getElementById('quality-summary').textContent };
    });
    let dq = 0;
    q.d.forEach((d, i) => {
      const g = goldenSpots.descriptors[i];
      for (const k of ['sim', 'pos_x', 'pos_y', 'asp', 'area']) dq = Math.max(dq, Math.abs(d[k] - g[k]));
    });
    const nGood = goldenSpots.descriptors.filter((d) => d.good).length;
    console.log(`     spot CNN in the page's worker (${q.device}): ${q.ms.toFixed(0)} ms for ${q.d.length} spots, max |Δ| to native ${dq.toExponential(2)}`);
    check('spot quality: 97 descriptors = native within 1e-4; Sim/Asp/area/good columns; circles styled; summary',
      q.d.length === 97 && dq < 1e-4 && ['sim', 'asp', 'area', 'good'].every((k) => q.cols.includes(k)) && q.styled >= 1
      && q.summary.startsWith(`${nGood} of 97 spots good`), JSON.stringify({ dq, cols: q.cols, styled: q.styled, summary: q.summary }));
    const defaultMinSim = await page.inputValue('#quality-min-sim');
    await page.fill('#quality-min-sim', '0.95');
    const strict = await page.evaluate(() => document.getElementById('quality-summary').textContent);
    const nStrict = goldenSpots.descriptors.filter((d, i) => d.sim > 0.95 && Math.hypot(d.pos_x - Math.round(goldenSpots.peaks[i][0]),
      d.pos_y - Math.round(goldenSpots.peaks[i][1])) <= 0.9).length;
    check('spot quality: a stricter Sim threshold (0.95) re-counts the good spots',
      strict.startsWith(`${nStrict} of 97 spots good`) && nStrict <= nGood, `${strict} (expected ${nStrict})`);
    await page.fill('#quality-min-sim', defaultMinSim);
    await page.locator('#quality-panel').screenshot({ path: path.join(OUT_DIR, 'quality-panel.png') });
    await page.locator('#image-canvas').screenshot({ path: path.join(OUT_DIR, 'quality-image.png') });

    // 10a'. Indexing at the spot network's positions: the good spots take the CNN's position, the others keep
    // the fit's; the status says which were used and the grain is the same Ge grain.
    await page.selectOption('#index-positions', 'cnn');
    const runsCnn = await page.evaluate(() => window.lauekitPeaks.indexRuns);
    await page.click('#run-index');
    await page.waitForFunction((n) => window.lauekitPeaks.indexRuns > n || !document.getElementById('peaks-error').hidden,
      runsCnn, { timeout: WAIT_MS });
    const errCnn = await errorText(page);
    if (errCnn) throw new Error(`indexing at the CNN positions failed: ${errCnn}`);
    const cnnIdx = await page.evaluate(() => {
      const ix = window.lauekitPeaks.current().index;
      return { positions: ix.positions, grains: ix.result.grains.map((g) => ({ material: g.material, ub: g.ub, n: g.n_indexed,
        rms: g.rms_px })), status: document.getElementById('index-status').textContent };
    });
    const c0 = cnnIdx.grains[0];
    const dCnn = c0 ? Math.max(...c0.ub.flatMap((r, i) => r.map((v, j) => Math.abs(v - gold.ub[i][j])))) : Infinity;
    console.log(`     indexing at the CNN positions: ${JSON.stringify(cnnIdx.positions)}, rms ${c0?.rms.toFixed(3)} px, `
      + `max |UB − fit-position golden| ${dCnn.toExponential(2)}`);
    check('indexing at the spot network\'s positions: the good spots moved, the status says so, the same Ge grain',
      cnnIdx.positions.source === 'cnn' && cnnIdx.positions.from_cnn === nGood && cnnIdx.positions.from_fit === 97 - nGood
      && /spot network's for/.test(cnnIdx.status) && cnnIdx.grains.length === 1 && c0.material === 'Ge'
      && Math.abs(c0.n - gold.n_indexed) <= 2 && dCnn < 2e-3, JSON.stringify({ ...cnnIdx, dCnn }));
    // 10a''. "Analyse": one button runs peaks → spot network → indexing (at the CNN positions still chosen) →
    // refinement, with the same results as the steps one by one.
    const analyseFrom = await page.evaluate(() => ({ s: window.lauekitPeaks.searches, q: window.lauekitPeaks.quality.runs,
      i: window.lauekitPeaks.indexRuns }));
    await page.click('#run-analyse');
    await page.waitForFunction((b) => window.lauekitPeaks.indexRuns > b.i || !document.getElementById('peaks-error').hidden,
      analyseFrom, { timeout: WAIT_MS });
    const errAnalyse = await errorText(page);
    if (errAnalyse) throw new Error(`Analyse failed: ${errAnalyse}`);
    const analysed = await page.evaluate(() => {
      const img = window.lauekitPeaks.current();
      return { s: window.lauekitPeaks.searches, q: window.lauekitPeaks.quality.runs, i: window.lauekitPeaks.indexRuns,
        peaks: img.search.peaks.length, positions: img.index.positions,
        grains: img.index.result.grains.map((g) => ({ material: g.material, ub: g.ub })) };
    });
    const a0 = analysed.grains[0];
    const dAnalyse = a0 ? Math.max(...a0.ub.flatMap((r, i) => r.map((v, j) => Math.abs(v - c0.ub[i][j])))) : Infinity;
    check('Analyse: peak search, spot network and indexing ran once each, the same 97 peaks and the same grain',
      analysed.s === analyseFrom.s + 1 && analysed.q === analyseFrom.q + 1 && analysed.i === analyseFrom.i + 1 && analysed.peaks === 97
      && analysed.positions.source === 'cnn' && analysed.grains.length === 1 && a0.material === 'Ge' && dAnalyse < 1e-9,
      JSON.stringify({ analyseFrom, ...analysed, dAnalyse }));
    await page.selectOption('#index-positions', 'fit');

    // 10b. LaueNN: the ready Ge model (www/models/) indexes the same peaks to the same grain.
    await page.check('input[name="index-method"][value="nn"]');
    await page.waitForFunction(() => {
      const nn = window.lauekitPeaks.nn;
      const m = nn.models.get(nn.modelKey());
      return (m && (m.status === 'loaded' || m.status === 'failed')) || nn.catalogError;
    }, null, { timeout: WAIT_MS });
    const model = await page.evaluate(() => {
      const nn = window.lauekitPeaks.nn;
      const m = nn.models.get(nn.modelKey());
      return { key: nn.modelKey(), status: m?.status, error: m?.error ?? nn.catalogError, bytes: m?.bytes,
        fetch: m?.fetch_ms, load: m?.load_ms, info: document.getElementById('nn-model-info').textContent,
        disabled: document.getElementById('run-index').disabled };
    });
    console.log(`     LaueNN Ge model: ${(model.bytes / 1e6).toFixed(2)} MB, fetched in ${model.fetch?.toFixed(0)} ms, `
      + `loaded in the worker in ${model.load?.toFixed(0)} ms`);
    check('LaueNN: the ready Ge model is picked for Ge and loads; its description is shown',
      model.key === 'ready:Ge' && model.status === 'loaded' && /hkl classes of Ge/.test(model.info) && !model.disabled,
      JSON.stringify(model));
    const runsBefore = await page.evaluate(() => window.lauekitPeaks.indexRuns);
    await page.click('#run-index');
    await page.waitForFunction((n) => window.lauekitPeaks.indexRuns > n || !document.getElementById('peaks-error').hidden,
      runsBefore, { timeout: WAIT_MS });
    const errNn = await errorText(page);
    if (errNn) throw new Error(`LaueNN indexing failed: ${errNn}`);
    const nnIdx = await page.evaluate(() => {
      const ix = window.lauekitPeaks.current().index;
      return { model: ix.model, grains: ix.result.grains.map((g) => ({ material: g.material, method: g.method, ub: g.ub,
        n: g.n_indexed })), elapsed: ix.result.elapsed_ms, status: document.getElementById('index-status').textContent };
    });
    const n0 = nnIdx.grains[0];
    const dNn = n0 ? Math.max(...n0.ub.flatMap((r, i) => r.map((v, j) => Math.abs(v - gold.ub[i][j])))) : Infinity;
    console.log(`     LaueNN indexing in the page's worker: ${nnIdx.elapsed.toFixed(0)} ms, max |UB − table golden| ${dNn.toExponential(2)}`);
    check('LaueNN: one Ge grain found by the network, 95 spots, UB = the table\'s within 1e-4',
      nnIdx.grains.length === 1 && n0.material === 'Ge' && n0.method === 'nn' && n0.n === gold.n_indexed && dNn < 1e-4
      && /by the network/.test(nnIdx.status), JSON.stringify({ ...nnIdx, dNn }));

    // 10c. Training a model in the page: a small Ge model (60 orientations, 2 epochs) with progress and a loss curve.
    await page.evaluate(() => { document.getElementById('nn-train').open = true; });
    await page.fill('#train-orientations', '60');
    await page.fill('#train-grains', '2');
    await page.fill('#train-epochs', '2');
    await page.click('#run-train');
    await page.waitForFunction(() => window.lauekitPeaks.nn.lastTrain || !document.getElementById('peaks-error').hidden,
      null, { timeout: 4 * WAIT_MS });
    const errTrain = await errorText(page);
    if (errTrain) throw new Error(`training failed: ${errTrain}`);
    await page.waitForFunction(() => {
      const nn = window.lauekitPeaks.nn;
      return nn.models.get(nn.modelKey())?.status === 'loaded';
    }, null, { timeout: WAIT_MS });
    const tr = await page.evaluate(() => {
      const nn = window.lauekitPeaks.nn;
      const c = document.getElementById('train-curve');
      const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
      let blue = 0;
      for (let i = 0; i < d.length; i += 4) if (d[i + 2] > 150 && d[i] < 80) blue += 1;
      const stages = [...new Set(nn.progressLog)];
      return { last: nn.lastTrain, key: nn.modelKey(), stages, blue, bar: document.getElementById('train-progress').value,
        status: document.getElementById('train-status').textContent, saveDisabled: document.getElementById('save-model').disabled };
    });
    console.log(`     LaueNN training in the page (Ge, 60 orientations, 1–2 grains, 2 epochs): ${tr.last.seconds.toFixed(1)} s, `
      + `${tr.last.batches} batches, validation accuracy ${(100 * tr.last.val_accuracy).toFixed(1)} %`);
    check('training: data, per-batch and per-epoch progress; bar full; loss curve drawn; model selected and savable',
      ['data', 'data-done', 'batch', 'epoch'].every((s) => tr.stages.includes(s)) && tr.last.epochs === 2 && tr.bar === 1
      && tr.blue > 20 && tr.key === tr.last.key && !tr.saveDisabled && /Trained Ge/.test(tr.status),
      JSON.stringify(tr));
    check('training: the small model learnt (validation accuracy > 60 %)', tr.last.val_accuracy > 0.6, tr.last.val_accuracy);
    await page.locator('#index-panel').screenshot({ path: path.join(OUT_DIR, 'index-panel-nn.png') });
    await page.check('input[name="index-method"][value="lut"]');

    // 11. A second image makes a list to switch between; each keeps its peaks.
    const bytes = await fs.readFile(path.join(ROOT, 'www', 'examples', 'Ge_blanc_0000.mccd'));
    await page.setInputFiles('#image-files', { name: 'second.mccd', mimeType: 'application/octet-stream', buffer: bytes });
    await page.waitForFunction(() => window.lauekitPeaks.opened >= 2 && window.lauekitPeaks.current().name === 'second.mccd');
    const list = await page.$$eval('#image-list li .image-name', (els) => els.map((e) => e.textContent));
    check('two images listed; the new one shown without peaks',
      list.join() === 'Ge_blanc_0000.mccd,second.mccd'
      && (await page.evaluate(() => window.lauekitPeaks.current().search === null)), list.join());
    await page.click('#image-list li:first-child .image-name');
    await page.waitForFunction(() => window.lauekitPeaks.current().name === 'Ge_blanc_0000.mccd');
    const back = await page.evaluate(() => window.lauekitPeaks.view.peaks.length);
    check('switching back shows the first image with its 97 peaks', back === 97, `${back} peaks`);

    // 12. A bad file dropped on the view: a clear message naming it, and the view keeps working.
    await page.evaluate(() => {
      const dt = new DataTransfer();
      dt.items.add(new File([new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8, 9])], 'broken.mccd'));
      document.getElementById('drop-zone').dispatchEvent(new DragEvent('drop', { dataTransfer: dt, bubbles: true, cancelable: true }));
    });
    await page.waitForFunction(() => !document.getElementById('peaks-error').hidden);
    const bad = await errorText(page);
    check('bad file: visible error naming the file and the problem', /broken\.mccd/.test(bad) && bad.length > 30, bad);
    const still = await page.evaluate(() => ({ n: window.lauekitPeaks.state.images.length, name: window.lauekitPeaks.current().name }));
    check('bad file: not added, current image unchanged', still.n === 2 && still.name === 'Ge_blanc_0000.mccd', JSON.stringify(still));
    await page.screenshot({ path: path.join(OUT_DIR, 'peaks-bad-file.png') });
    // A bad setting is reported by the library, not silently used.
    await page.fill('#ps-formulaexpression', 'log(A)');
    await page.click('#run-search');
    await page.waitForFunction(() => /log\(A\)/.test(document.getElementById('peaks-error').textContent));
    check('bad setting (formulaexpression log(A)): the library\'s message is shown', true);
    await page.fill('#ps-formulaexpression', 'A-1.1*B');

    // 12b. A PILATUS-like int32 frame (module gap −1, bad pixels −2): its masked pixels are counted in the legend and
    // drawn in the masked colour (NaN in the shown pixels); a mask PNG chosen beside it adds its pixels.
    const [mr, mc] = [40, 30];
    const frame = new Int32Array(mr * mc).map((_, i) => 100 + (i % 7));
    for (let i = 15 * mc; i < 18 * mc; i++) frame[i] = -1; // a 3-row gap: 90 px
    frame[5 * mc + 20] = -2;
    frame[30 * mc + 3] = -2;
    await page.setInputFiles('#image-files', { name: 'pilatus-like.tif', mimeType: 'image/tiff', buffer: int32Tiff(frame, mr, mc) });
    await page.waitForFunction(() => window.lauekitPeaks.current()?.name === 'pilatus-like.tif' && window.lauekitPeaks.current().pixels);
    const maskShown = () => page.evaluate(() => {
      const img = window.lauekitPeaks.current();
      return { legend: document.getElementById('mask-count').textContent, hidden: document.getElementById('mask-legend').hidden,
        nan: img.pixels.reduce((n, v) => n + (Number.isNaN(v) ? 1 : 0), 0), info: img.info.masked_pixels };
    });
    const m1 = await maskShown();
    check('PILATUS-like frame: "masked (92 px)" shown, the 92 gap and bad pixels drawn as masked',
      !m1.hidden && m1.legend === 'masked (92 px)' && m1.nan === 92 && m1.info === 92, JSON.stringify(m1));
    const column = new Uint8Array(mr * mc).map((_, i) => (i % mc === 5 ? 255 : 0)); // column 6: 40 px, 3 in the gap
    await page.setInputFiles('#mask-file', { name: 'mask.png', mimeType: 'image/png', buffer: grayPng(column, mr, mc) });
    await page.waitForFunction(() => window.lauekitPeaks.current()?.info.masked_pixels === 129, null, { timeout: WAIT_MS });
    const m2 = await maskShown();
    check('mask file: its 40 pixels added (129 masked), shown in the legend and the display',
      m2.legend === 'masked (129 px)' && m2.nan === 129, JSON.stringify(m2));
    await page.click('#image-list li:first-child .image-name');
    await page.waitForFunction(() => window.lauekitPeaks.current().name === 'Ge_blanc_0000.mccd');
    check('an image without masked pixels hides the legend', await page.evaluate(() => document.getElementById('mask-legend').hidden));

    // 13. The simulator is one tab away.
    await page.click('#tab-simulator');
    await page.waitForFunction(() => !document.getElementById('view-simulator').hidden && document.getElementById('view-peaks').hidden);
    check('Simulator tab shows the simulator', true);
    await page.click('#tab-peaks');

    check('no uncaught errors or console errors in the page', pageErrors.length === 0, pageErrors.join('\n'));
  } catch (e) {
    if (page) {
      const shot = path.join(OUT_DIR, 'peaks-failure.png');
      await page.screenshot({ path: shot, timeout: 10_000 }).then(() => console.log(`     screenshot: ${shot}`), () => {});
    }
    throw e;
  } finally {
    clearTimeout(watchdog);
    if (browser) await browser.close().catch(() => {});
    server.closeAllConnections?.();
    await new Promise((r) => server.close(r));
  }
}

try {
  await main();
} catch (e) {
  failed += 1;
  console.log(`FAIL ${e && e.message ? e.message : e}`);
  if (pageErrors.length) console.log(`     page errors:\n     ${pageErrors.join('\n     ')}`);
}
console.log(`e2e: ${passed} passed, ${failed} failed`);
process.exit(failed === 0 ? 0 : 1);
