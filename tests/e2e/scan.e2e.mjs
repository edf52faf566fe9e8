// End-to-end test of the page's "Scan" view (www/index.html, www/views/scan/scan.js, www/views/scan/scan-worker.js) in
// headless Chromium.
//
//   node tests/e2e/scan.e2e.mjs
//
// Reaches the Scan tab by keyboard, loads the example scan (the synthetic Cu scan of `lauekit simulate-scan --grid
// 12x10 --seed 1 --grains 4`, made in the page), runs it with the default worker pool and compares every point with
// the native run committed in tests/data/golden/scan/example.json (made by tests/data/golden/scan/make-example.sh:
// status, peaks, main grain's material and UB within 1e-9). Also: the maps while points come in and at the end
// (ipf_z, grain, matching rate), the hover readout, the downloads (HDF5, JSON, .ctf, PNG, CSV), a click on a map
// point opening its image in "Images & peaks" with its grains, the same scan with one worker (the two speeds are
// printed, and a `BENCH scan-example …` line), the request as JSON (unknown keys and values refused), a cancelled
// run, unreadable images counted as failed points, a dropped .det, and an HDF5 stack (frames = points).
// Needs the wasm package in pkg/ and `npm ci` for playwright-core. Environment: CHROMIUM, LAUEKIT_PKG_DIR,
// LAUEKIT_E2E_OUT (screenshots; default target/e2e). The last line is `e2e: N passed, M failed`.

import fs from 'node:fs/promises';
import path from 'node:path';
import { chromium } from 'playwright-core';
import { PKG_DIR, ROOT, startServer, benignAbort } from './server.mjs';
import { canvasCellColours, pngCellColours } from './mapcolours.mjs';

const OUT_DIR = path.resolve(process.env.LAUEKIT_E2E_OUT || path.join(ROOT, 'target', 'e2e'));
const GOLDEN = path.join(ROOT, 'tests', 'data', 'golden', 'scan', 'example.json');
const PAGE = '/www/index.html';
const WAIT_MS = 300_000; // upper bound of every single wait (the dev wasm build is slower than release)
const OVERALL_MS = 15 * 60_000;
const UB_TOL = 1e-9; // wasm vs native UB elements (the golden is rounded to 1e-9)

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

const errorText = (page) => page.evaluate(() => {
  const el = document.getElementById('scan-error');
  return el.hidden ? '' : el.textContent;
});

/** The drawn map's pixels inside its box: how many are not the no-value grey / background, and distinct colours. */
const mapStats = (page) => page.evaluate(() => {
  const c = document.getElementById('scan-map-canvas');
  const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
  let coloured = 0;
  const colours = new Set();
  for (let i = 0; i < d.length; i += 4) {
    const [r, g, b, a] = [d[i], d[i + 1], d[i + 2], d[i + 3]];
    if (a === 0) continue;
    if ((r === 0xd5 && g === 0xd9 && b === 0xe2)) continue; // no value
    coloured += 1;
    colours.add((r << 16) | (g << 8) | b);
  }
  return { coloured, colours: colours.size, total: d.length / 4 };
});

async function download(page, selector) {
  const [dl] = await Promise.all([page.waitForEvent('download', { timeout: WAIT_MS }), page.click(selector)]);
  const file = await dl.path();
  return { name: dl.suggestedFilename(), bytes: await fs.readFile(file) };
}

/** Moves the pointer to (click: clicks) the centre of map cell (ix, iy). */
async function atCell(page, ix, iy, click) {
  const [x, y] = await page.evaluate(([i, j]) => window.lauekitScan.cellCenter(i, j), [ix, iy]);
  const canvas = page.locator('#scan-map-canvas');
  if (click) await canvas.click({ position: { x, y } });
  else await canvas.hover({ position: { x, y } });
}

/** Runs the loaded scan with `workers` workers (empty: the default) and waits for its end; returns the run record. */
async function runScan(page, workers) {
  const before = await page.evaluate(() => window.lauekitScan.runs.length);
  if (workers != null) await page.fill('#scan-workers', String(workers));
  await page.click('#scan-run');
  await page.waitForFunction((n) => window.lauekitScan.runs.length > n, before, { timeout: WAIT_MS });
  return page.evaluate(() => window.lauekitScan.runs[window.lauekitScan.runs.length - 1]);
}

/** JSON with object keys sorted (to compare requests whatever their key order). */
function canonical(v) {
  if (Array.isArray(v)) return `[${v.map(canonical).join(',')}]`;
  if (v && typeof v === 'object') return `{${Object.keys(v).sort().map((k) => `${JSON.stringify(k)}:${canonical(v[k])}`).join(',')}}`;
  return JSON.stringify(v);
}

/** The page's points against the golden: first difference, or null. */
function comparePoints(points, golden) {
  if (points.length !== golden.points.length) return `${points.length} points, native ${golden.points.length}`;
  let maxUb = 0;
  for (const g of golden.points) {
    const p = points[g.index];
    if (!p) return `point ${g.index} missing`;
    const where = `point ${g.index} (${g.image})`;
    if (p.image !== g.image) return `${where}: image ${p.image}`;
    if (p.status !== g.status) return `${where}: status ${p.status}, native ${g.status}`;
    if (p.n_peaks !== g.n_peaks) return `${where}: ${p.n_peaks} peaks, native ${g.n_peaks}`;
    if (p.grains.length !== g.n_grains) return `${where}: ${p.grains.length} grains, native ${g.n_grains}`;
    if (g.material == null) continue;
    const m = p.grains[0];
    if (m.material !== g.material) return `${where}: ${m.material}, native ${g.material}`;
    for (let i = 0; i < 3; i++) {
      for (let j = 0; j < 3; j++) {
        const d = Math.abs(m.ub[i][j] - g.ub[i][j]);
        maxUb = Math.max(maxUb, d);
        if (!(d <= UB_TOL)) return `${where}: UB[${i}][${j}] = ${m.ub[i][j]}, native ${g.ub[i][j]} (|Δ| = ${d})`;
      }
    }
  }
  console.log(`     max |UB(wasm) − UB(native, rounded to 1e-9)| = ${maxUb.toExponential(2)}`);
  return null;
}

async function main() {
  await fs.mkdir(OUT_DIR, { recursive: true });
  await fs.access(path.join(PKG_DIR, 'lauekit.js')).catch(() => {
    throw new Error(`${path.join(PKG_DIR, 'lauekit.js')} not found: build the wasm package into pkg/ first`);
  });
  const golden = JSON.parse(await fs.readFile(GOLDEN, 'utf8'));
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

    // 1. The page starts; both views this test uses are ready.
    await page.goto(base + PAGE, { waitUntil: 'load' });
    await page.waitForFunction(() => Boolean(window.lauekitScan?.ready && window.lauekitPeaks?.ready));
    const ready = await page.evaluate(() => Promise.all([window.lauekitScan.ready, window.lauekitPeaks.ready])
      .then(() => 'ok', (e) => `rejected: ${e && e.message}`));
    if (ready !== 'ok') throw new Error(`the page did not start: ${ready}\n${await errorText(page)}`);
    check('scan view is ready (wasm loaded)', true);

    // 2. The Scan tab by keyboard: Tab reaches the selected tab, → moves along the tabs.
    await page.keyboard.press('Tab');
    const focused = await page.evaluate(() => document.activeElement?.id);
    check('Tab focuses the selected tab (Images & peaks)', focused === 'tab-peaks', focused);
    await page.keyboard.press('ArrowRight');
    await page.keyboard.press('ArrowRight');
    const tabs = await page.evaluate(() => ({
      focus: document.activeElement?.id,
      selected: document.getElementById('tab-scan').getAttribute('aria-selected'),
      tabindex: document.getElementById('tab-scan').tabIndex,
      scan: !document.getElementById('view-scan').hidden,
      peaks: !document.getElementById('view-peaks').hidden,
      hash: location.hash,
    }));
    check('→ → selects the Scan tab and shows its panel (only)',
      tabs.focus === 'tab-scan' && tabs.selected === 'true' && tabs.tabindex === 0 && tabs.scan && !tabs.peaks && tabs.hash === '#scan',
      JSON.stringify(tabs));
    await page.keyboard.press('ArrowRight');
    const wrapped = await page.evaluate(() => document.activeElement?.id);
    await page.keyboard.press('End');
    check('→ wraps to the first tab, End goes to the last (Scan)',
      wrapped === 'tab-peaks' && (await page.evaluate(() => document.activeElement?.id)) === 'tab-scan', wrapped);

    // 3. Defaults: the library's request, one worker per core; the series rule of src/scan/series.rs.
    const defaults = await page.evaluate(() => ({
      workers: Number(document.getElementById('scan-workers').value),
      cores: navigator.hardwareConcurrency,
      thr: document.getElementById('scan-threshold').value,
      box: document.getElementById('scan-boxsize').value,
      band: [document.getElementById('scan-emin').value, document.getElementById('scan-emax').value],
      grains: document.getElementById('scan-grains').value,
      run: document.getElementById('scan-run').disabled,
    }));
    check('defaults: workers = hardwareConcurrency, threshold 400, boxsize 15, 5–22 keV, 1 grain, Run disabled',
      defaults.workers === Math.min(64, defaults.cores) && defaults.thr === '400' && defaults.box === '15'
      && defaults.band.join() === '5,22' && defaults.grains === '1' && defaults.run, JSON.stringify(defaults));
    const series = await page.evaluate(() => {
      const s = window.lauekitScan;
      const out = {};
      out.sorted = s.selectSeries(['s_0010.tif', 's_0002.tif', 's_0001.tif', 'calib.det', 'other_0001.mccd', 's_0003.tif']).series;
      out.ge = s.parseSeriesName('Ge_blanc_0000.mccd');
      out.ge = out.ge && [out.ge.prefix, String(out.ge.number), out.ge.extension];
      out.raw = s.parseSeriesName('raw_007');
      out.raw = out.raw && [out.raw.prefix, String(out.raw.number), out.raw.extension];
      out.none = [s.parseSeriesName('calib.det'), s.parseSeriesName('img_12a.tif')];
      try {
        s.selectSeries(['a_1.tif', 'a_0001.tif']);
        out.dup = 'no error';
      } catch (e) {
        out.dup = e.message;
      }
      return out;
    });
    check('series names split and sorted as src/scan/series.rs',
      series.sorted.join() === 's_0001.tif,s_0002.tif,s_0003.tif,s_0010.tif' && series.ge.join() === 'Ge_blanc,0,mccd'
      && series.raw.join() === 'raw,7,' && series.none.every((x) => x === null) && /same image number/.test(series.dup),
      JSON.stringify(series));

    // 4. The example scan.
    await page.click('#scan-load-example');
    await page.waitForFunction(() => window.lauekitScan.state.source?.kind === 'synthetic');
    const ex = await page.evaluate(() => ({
      nx: document.getElementById('scan-nx').value,
      ny: document.getElementById('scan-ny').value,
      info: document.getElementById('scan-source-info').textContent,
      calib: document.getElementById('scan-calib-info').textContent,
      run: document.getElementById('scan-run').disabled,
    }));
    check('example loaded: 12 × 10 grid, its calibration, Run enabled',
      ex.nx === '12' && ex.ny === '10' && /scan_0000\.tif/.test(ex.info) && /512 × 512/.test(ex.calib) && !ex.run,
      JSON.stringify(ex));

    // 5. Run with the default pool; maps fill in while it runs.
    await page.click('#scan-run');
    await page.waitForFunction(() => {
      const s = window.lauekitScan;
      return s.runs.length > 0 || (s.drawn && s.points().filter(Boolean).length >= 20);
    }, null, { timeout: WAIT_MS });
    const mid = await page.evaluate(() => ({
      done: window.lauekitScan.points().filter(Boolean).length,
      finished: window.lauekitScan.runs.length,
      drawn: window.lauekitScan.drawn,
      updates: window.lauekitScan.mapUpdates,
      status: document.getElementById('scan-status').textContent,
      cancel: document.getElementById('scan-cancel').disabled,
    }));
    await page.screenshot({ path: path.join(OUT_DIR, 'scan-running.png') });
    check('while running: a map drawn from the first points, progress with points/s and ETA, Cancel enabled',
      mid.finished > 0 || (mid.drawn?.name === 'ipf_z' && mid.done < 120 && /points\/s/.test(mid.status) && /ETA/.test(mid.status) && !mid.cancel),
      JSON.stringify(mid));
    await page.waitForFunction(() => window.lauekitScan.runs.length >= 1, null, { timeout: WAIT_MS });
    const run1 = await page.evaluate(() => window.lauekitScan.runs[0]);
    const err1 = await errorText(page);
    if (err1) throw new Error(`scan failed: ${err1}`);
    const points = await page.evaluate(() => window.lauekitScan.points());
    check(`every point finished (${run1.points} of ${run1.total}, ${run1.workers} workers)`,
      run1.points === 120 && run1.total === 120 && !run1.cancelled && !run1.failed
      && points.length === 120 && points.every((p, i) => p && p.index === i), JSON.stringify(run1));
    const g = golden.counts;
    check(`status counts = native (${g.indexed} indexed, ${g.no_peaks} without peaks, ${g.not_indexed} not indexed, ${g.failed} failed)`,
      ['indexed', 'not_indexed', 'no_peaks', 'failed'].every((k) => (run1.counts[k] ?? 0) === (g[k] ?? 0)),
      `${JSON.stringify(run1.counts)} vs ${JSON.stringify(g)}`);
    const lines = await page.evaluate(() => ({
      status: document.getElementById('scan-status').textContent,
      counts: document.getElementById('scan-counts').textContent,
      bar: document.getElementById('scan-progress').value,
    }));
    check('status line: done, points/s; counts line with 0 failed; progress full',
      /^Done: 120 points/.test(lines.status) && /points\/s/.test(lines.status)
      && new RegExp(`120 of 120 points: ${g.indexed} indexed.* 0 failed`).test(lines.counts) && lines.bar === 1,
      JSON.stringify(lines));
    const cmp = comparePoints(points, golden);
    check('every point = the native run (status, peaks, grains, main grain material, UB within 1e-9)', cmp === null, cmp ?? '');

    // 6. Maps: ipf_z (shown first) and grain, drawn and not blank.
    const ipf = await mapStats(page);
    const drawn1 = await page.evaluate(() => window.lauekitScan.drawn);
    check('ipf_z map drawn: coloured cells, several colours',
      drawn1?.name === 'ipf_z' && drawn1.kind === 'rgb' && ipf.coloured > 0.05 * ipf.total && ipf.colours >= 4,
      JSON.stringify({ drawn1, ipf }));
    const mapNames = await page.$$eval('#scan-map option', (os) => os.map((o) => o.value));
    check('map selector lists the library\'s maps',
      ['n_peaks', 'intensity_sum', 'matching_rate', 'phase', 'ipf_x', 'ipf_z', 'kam', 'grain', 'strain_xx', 'von_mises']
        .every((n) => mapNames.includes(n)), mapNames.join(', '));
    await page.locator('#view-scan .viewer').screenshot({ path: path.join(OUT_DIR, 'scan-ipf_z.png') });
    await page.selectOption('#scan-map', 'grain');
    const grainStats = await mapStats(page);
    const grainLegend = await page.evaluate(() => {
      const m = window.lauekitScan.state.maps.find((x) => x.name === 'grain');
      const c = document.getElementById('scan-legend');
      return { drawn: window.lauekitScan.drawn?.name, kind: m.kind, categories: m.categories, legendHidden: c.hidden, legendH: c.height };
    });
    check('grain map drawn: coloured cells, a legend swatch per grain',
      grainLegend.drawn === 'grain' && grainLegend.kind === 'categorical' && grainStats.coloured > 0.05 * grainStats.total
      && grainStats.colours >= 3 && grainLegend.categories.length >= 4 && !grainLegend.legendHidden && grainLegend.legendH > 0,
      JSON.stringify({ grainStats, grainLegend }));
    console.log(`     grains segmented: ${grainLegend.categories.join('; ')}`);
    await page.locator('#view-scan .viewer').screenshot({ path: path.join(OUT_DIR, 'scan-grain.png') });
    await page.selectOption('#scan-map', 'matching_rate');
    const mr = await page.evaluate(() => ({ drawn: window.lauekitScan.drawn?.name, note: document.getElementById('scan-legend-note').textContent }));
    check('scalar map (matching rate) with its colour bar and range', mr.drawn === 'matching_rate' && /matching rate: .* %/.test(mr.note), JSON.stringify(mr));
    await page.locator('#view-scan .viewer').screenshot({ path: path.join(OUT_DIR, 'scan-matching_rate.png') });
    await page.screenshot({ path: path.join(OUT_DIR, 'scan-overview.png') });
    await page.selectOption('#scan-map', 'ipf_z');

    // 7. Hover readout.
    const target = golden.points.find((p) => p.status === 'indexed' && p.index > 13);
    await atCell(page, target.ix, target.iy, false);
    const ro = await page.evaluate(() => ({ r: window.lauekitScan.readout, text: document.getElementById('scan-readout').textContent }));
    check(`hover readout: ix ${target.ix}, iy ${target.iy}, its image and status`,
      ro.r && ro.r.ix === target.ix && ro.r.iy === target.iy && ro.r.image === target.image && ro.r.status === 'indexed'
      && ro.text.includes(target.image), JSON.stringify(ro));

    // 8. Downloads.
    const h5 = await download(page, '#scan-save-h5');
    check('HDF5 download: an HDF5 file', h5.name === 'example_scan.h5' && h5.bytes.subarray(0, 8).toString('latin1') === '\x89HDF\r\n\x1a\n',
      `${h5.name} ${h5.bytes.length} bytes`);
    const js = await download(page, '#scan-save-json');
    let parsed = null;
    try {
      parsed = JSON.parse(js.bytes.toString('utf8'));
    } catch { /* reported below */ }
    check('JSON download: 120 points, the request, grid 12 × 10',
      parsed && parsed.points.length === 120 && parsed.grid.join() === '12,10' && parsed.request.index.materials.join() === 'Cu',
      js.bytes.toString('utf8').slice(0, 200));
    check('JSON download\'s request = the native run\'s', parsed && JSON.stringify(parsed.request) === JSON.stringify(golden.request),
      parsed ? `${JSON.stringify(parsed.request)}\nvs ${JSON.stringify(golden.request)}` : '');
    const ctf = await download(page, '#scan-save-ctf');
    check('.ctf download: Channel Text File with 120 rows', /^Channel Text File/.test(ctf.bytes.toString('utf8'))
      && ctf.bytes.toString('utf8').trim().split('\n').length >= 120, ctf.bytes.toString('utf8').slice(0, 120));
    const png = await download(page, '#scan-save-png');
    await fs.writeFile(path.join(OUT_DIR, 'scan-download-ipf_z.png'), png.bytes);
    check('PNG download of the map shown', png.name === 'example_scan_ipf_z.png' && png.bytes.subarray(1, 4).toString('latin1') === 'PNG',
      `${png.name} ${png.bytes.length} bytes`);
    // A categorical map's PNG in the colours the page shows (Okabe–Ito by default; the library's hues when chosen):
    // one cell of each grain sampled in the downloaded PNG and on the map canvas.
    await page.selectOption('#scan-map', 'grain');
    const grainCells = await page.evaluate(async () => {
      const m = window.lauekitScan.state.maps.find((x) => x.name === 'grain');
      const first = new Map();
      m.values.forEach((v, k) => { if (Number.isFinite(v) && !first.has(v)) first.set(v, k); });
      const { libraryCategoryRgb } = await import('/www/lib/colors.js');
      return { nx: m.nx, cells: [...first.values()].map((k) => [k % m.nx, Math.floor(k / m.nx)]),
        library: [...first.values()].map((k) => m.rgb[k]), ported: [...first.keys()].map((v) => libraryCategoryRgb(v)) };
    });
    check('the page\'s copy of the library\'s category colours = the library\'s', grainCells.cells.length >= 3
      && JSON.stringify(grainCells.ported) === JSON.stringify(grainCells.library), JSON.stringify(grainCells));
    for (const pal of ['cvd', 'library']) {
      await page.selectOption('#scan-palette', pal);
      const shown = await canvasCellColours(page, 'scan-map-canvas', 'lauekitScan', grainCells.cells);
      const grainPng = await download(page, '#scan-save-png');
      await fs.writeFile(path.join(OUT_DIR, `scan-download-grain-${pal}.png`), grainPng.bytes);
      const inPng = await pngCellColours(page, grainPng.bytes, grainCells.nx, grainCells.cells);
      const same = (a, b) => JSON.stringify(a) === JSON.stringify(b);
      check(`grain map PNG (${pal} colours): each grain's cell has the colour shown on the page`,
        grainPng.name === 'example_scan_grain.png' && inPng && same(inPng, shown)
        && (pal === 'library' ? same(shown, grainCells.library) : !same(shown, grainCells.library)),
        JSON.stringify({ cells: grainCells.cells, png: inPng, shown, library: grainCells.library }));
    }
    await page.selectOption('#scan-palette', 'cvd');
    await page.selectOption('#scan-map', 'n_peaks');
    const csv = await download(page, '#scan-save-csv');
    const csvText = csv.bytes.toString('utf8');
    check('CSV download of the map shown', csv.name === 'example_scan_n_peaks.csv' && csvText.trim().split('\n').length >= 10,
      `${csv.name}: ${csvText.slice(0, 120)}`);
    await page.selectOption('#scan-map', 'ipf_z');

    // 9. A click on a map point opens its image in "Images & peaks", found and indexed with the scan's settings.
    const runsBefore = await page.evaluate(() => window.lauekitPeaks.indexRuns);
    await atCell(page, target.ix, target.iy, true);
    await page.waitForFunction((n) => window.lauekitPeaks.indexRuns > n || !document.getElementById('peaks-error').hidden,
      runsBefore, { timeout: WAIT_MS });
    const opened = await page.evaluate(() => {
      const lk = window.lauekitPeaks;
      const c = lk.current();
      return {
        peaksShown: !document.getElementById('view-peaks').hidden,
        selected: document.getElementById('tab-peaks').getAttribute('aria-selected'),
        name: c?.name,
        rows: c?.info.rows,
        peaks: c?.search?.peaks.length,
        grains: c?.index?.result.grains.map((g) => ({ material: g.material, ub: g.ub, n: g.n_indexed })) ?? [],
        calib: document.getElementById('calib-info').textContent,
        table: document.querySelectorAll('#grain-table tbody tr').length,
        error: document.getElementById('peaks-error').hidden ? '' : document.getElementById('peaks-error').textContent,
      };
    });
    check(`click on (${target.ix}, ${target.iy}): Images & peaks shows ${target.image} with ≥ 1 grain`,
      opened.peaksShown && opened.selected === 'true' && opened.name === target.image && opened.grains.length >= 1
      && opened.table >= 1 && /calib\.det/.test(opened.calib), JSON.stringify({ ...opened, grains: opened.grains.length }));
    const ubPeaks = opened.grains[0]?.ub;
    const dView = ubPeaks ? Math.max(...ubPeaks.flat().map((v, k) => Math.abs(v - target.ub.flat()[k]))) : Infinity;
    console.log(`     the point in Images & peaks: ${opened.peaks} peaks (scan: ${target.n_peaks}), main grain ${opened.grains[0]?.material} `
      + `${opened.grains[0]?.n} spots, max |UB − scan's UB| ${dView.toExponential(2)}`);
    check('the view\'s peaks and main grain = the scan\'s for that point (UB within 1e-6)',
      opened.peaks === target.n_peaks && opened.grains[0]?.material === target.material && dView <= 1e-6,
      `${opened.peaks} peaks, UB diff ${dView}`);
    await page.screenshot({ path: path.join(OUT_DIR, 'scan-point-in-peaks.png') });

    // 10. The same scan with one worker: the same results; both speeds printed.
    await page.click('#tab-scan');
    const run2 = await runScan(page, 1);
    const points2 = await page.evaluate(() => window.lauekitScan.points());
    check('one worker: every point finished, results identical to the pool\'s',
      run2.points === 120 && run2.workers === 1 && !run2.failed
      && JSON.stringify(points2.map(({ elapsed_ms: _, ...p }) => p)) === JSON.stringify(points.map(({ elapsed_ms: _, ...p }) => p)),
      JSON.stringify(run2));
    const analysisMs = (pts) => pts.reduce((s, p) => s + p.elapsed_ms, 0);
    console.log(`     example scan (120 points, 512² images, dev wasm build): pool of ${run1.workers} workers `
      + `${run1.rate.toFixed(2)} points/s (${run1.seconds.toFixed(1)} s, workers ready after ${Math.round(run1.bootMs)} ms); `
      + `1 worker ${run2.rate.toFixed(2)} points/s (${run2.seconds.toFixed(1)} s, ready after ${Math.round(run2.bootMs)} ms); `
      + `analysis alone ${(120_000 / analysisMs(points2)).toFixed(2)} points/s per worker (image rendering excluded)`);
    console.log(`BENCH scan-example points_per_s pool=${run1.workers} ${run1.rate.toFixed(2)} workers=1 ${run2.rate.toFixed(2)}`);

    // 11. The whole request as JSON: filled from the fields (= the native run's), unknown keys refused by the library.
    await page.click('#scan-advanced summary');
    // (the panel's toggle event, which fills the JSON, comes after the click: fill explicitly, then read)
    await page.click('#scan-fill-json');
    const filled = await page.evaluate(() => JSON.parse(document.getElementById('scan-request-json').value));
    check('request JSON filled from the fields = the native run\'s request', canonical(filled) === canonical(golden.request),
      `${canonical(filled)}\nvs ${canonical(golden.request)}`);
    await page.fill('#scan-request-json', JSON.stringify({ ...filled, bogus: 1, index: { ...filled.index, materals: ['Cu'] } }));
    await page.check('#scan-use-json');
    await page.click('#scan-run');
    await page.waitForFunction(() => !document.getElementById('scan-error').hidden);
    const badRequest = await errorText(page);
    const stillIdle = await page.evaluate(() => !window.lauekitScan.state.run && window.lauekitScan.runs.length === 2);
    check('unknown request keys (request.bogus, request.index.materals) refused in the error region, no run',
      /request\.bogus/.test(badRequest) && /request\.index\.materals/.test(badRequest) && stillIdle, badRequest);
    // A bad value is the library's message.
    await page.fill('#scan-request-json', JSON.stringify({ ...filled, index: { ...filled.index, materials: ['Unobtainium'] } }));
    await page.click('#scan-run');
    await page.waitForFunction(() => /Unobtainium/.test(document.getElementById('scan-error').textContent));
    check('a request the library refuses (unknown material): its message, no run',
      await page.evaluate(() => !window.lauekitScan.state.run && window.lauekitScan.runs.length === 2), await errorText(page));
    await page.uncheck('#scan-use-json');
    await page.click('#scan-advanced summary');

    // 12. Cancel: the run stops, its workers go, the partial maps stay.
    await page.fill('#scan-workers', '');
    await page.click('#scan-run');
    await page.waitForFunction(() => window.lauekitScan.points().filter(Boolean).length >= 3);
    await page.click('#scan-cancel');
    await page.waitForFunction(() => window.lauekitScan.runs.length >= 3);
    const cancelled = await page.evaluate(() => ({
      run: window.lauekitScan.runs[2],
      status: document.getElementById('scan-status').textContent,
      runEnabled: !document.getElementById('scan-run').disabled,
      cancelEnabled: !document.getElementById('scan-cancel').disabled,
    }));
    check('cancel: the run stops part-way, the status says so, Run is available again',
      cancelled.run.cancelled && cancelled.run.points < 120 && /^Cancelled after/.test(cancelled.status)
      && cancelled.runEnabled && !cancelled.cancelEnabled, JSON.stringify(cancelled));

    // 13. Unreadable images: failed points, counted; the scan goes on; nothing uncaught.
    const detText = await page.evaluate(() => window.lauekitScan.state.calibration.text);
    const drop = (files) => page.evaluate((fs) => {
      const dt = new DataTransfer();
      for (const [n, text] of fs) dt.items.add(new File([text ?? new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8, 9])], n));
      document.getElementById('scan-drop-zone').dispatchEvent(new DragEvent('drop', { dataTransfer: dt, bubbles: true, cancelable: true }));
    }, files);
    await drop(['bad_0002.tif', 'bad_0000.tif', 'bad_0001.tif', 'bad_0003.tif'].map((n) => [n, null]));
    await page.waitForFunction(() => window.lauekitScan.state.source?.kind === 'files');
    const bad = await page.evaluate(() => ({
      info: document.getElementById('scan-source-info').textContent,
      order: window.lauekitScan.state.source.files.map((f) => f.name),
      grid: [document.getElementById('scan-nx').value, document.getElementById('scan-ny').value],
      run: document.getElementById('scan-run').disabled,
      calib: document.getElementById('scan-calib-info').textContent,
    }));
    check('dropped series sorted by number, square grid guessed (2 × 2); no .det: the example\'s calibration is dropped, Run disabled',
      bad.order.join() === 'bad_0000.tif,bad_0001.tif,bad_0002.tif,bad_0003.tif' && bad.grid.join() === '2,2'
      && bad.run && /No calibration/.test(bad.calib), JSON.stringify(bad));
    await drop([['calib.det', detText]]);
    await page.waitForFunction(() => /^Calibration calib\.det/.test(document.getElementById('scan-calib-info').textContent)
      && !document.getElementById('scan-run').disabled);
    check('a dropped .det is the calibration; Run enabled', true);
    const run4 = await runScan(page, null);
    const badLines = await page.evaluate(() => ({
      counts: document.getElementById('scan-counts').textContent,
      points: window.lauekitScan.points().map((p) => [p.status, p.error]),
    }));
    check('unreadable images: 4 failed points with the reader\'s message, counted on the status line',
      run4.points === 4 && run4.counts.failed === 4 && /4 failed/.test(badLines.counts)
      && badLines.points.every(([s, e]) => s === 'failed' && /bad_000\d\.tif/.test(e)), JSON.stringify(badLines));
    await page.screenshot({ path: path.join(OUT_DIR, 'scan-failed-points.png') });

    // 14. One HDF5 stack: its frames are the points, and a point opens its frame in "Images & peaks". Its frames are
    // 37 × 53 (rows × cols) of 75 µm pixels (its header says so): the calibration given with it says so too (a .det of
    // another detector is refused).
    const stackDet = detText.replace(/^(.*?)(,\s*[0-9.]+){3}\s*$/m, '$1, 0.075, 37, 53');
    const stackBytes = Array.from(await fs.readFile(path.join(ROOT, 'tests', 'data', 'images', 'eiger_stack.h5')));
    await page.evaluate(([bytes, det]) => {
      const dt = new DataTransfer();
      dt.items.add(new File([new Uint8Array(bytes)], 'eiger_stack.h5'));
      dt.items.add(new File([det], 'calib.det'));
      document.getElementById('scan-drop-zone').dispatchEvent(new DragEvent('drop', { dataTransfer: dt, bubbles: true, cancelable: true }));
    }, [stackBytes, stackDet]);
    await page.waitForFunction(() => window.lauekitScan.state.source?.kind === 'stack');
    const stack = await page.evaluate(() => ({
      frames: window.lauekitScan.state.source.frames,
      info: document.getElementById('scan-source-info').textContent,
      grid: [document.getElementById('scan-nx').value, document.getElementById('scan-ny').value],
    }));
    check('HDF5 stack: its frames are the points, grid guessed', stack.frames >= 2
      && Number(stack.grid[0]) * Number(stack.grid[1]) === stack.frames && /HDF5 stack/.test(stack.info), JSON.stringify(stack));
    const run5 = await runScan(page, null);
    const stackPoints = await page.evaluate(() => window.lauekitScan.points().map((p) => ({ image: p.image, status: p.status, error: p.error })));
    check('HDF5 stack: every frame analysed (none failed), named file#frame',
      run5.points === stack.frames && !run5.failed && run5.counts.failed === 0
      && stackPoints.every((p, k) => p.image === `eiger_stack.h5#${k}`),
    `${JSON.stringify(stackPoints)} ${await page.evaluate(() => document.getElementById('scan-error')?.textContent ?? '')}`);
    const lastFrame = stack.frames - 1;
    const openedBefore = await page.evaluate(() => window.lauekitPeaks.opened);
    await atCell(page, lastFrame % Number(stack.grid[0]), Math.floor(lastFrame / Number(stack.grid[0])), true);
    await page.waitForFunction((n) => window.lauekitPeaks.opened > n && window.lauekitPeaks.current()?.name.startsWith('eiger_stack.h5'),
      openedBefore);
    const frameShown = await page.evaluate(() => window.lauekitPeaks.current().name);
    check(`a stack point opens its frame in Images & peaks (${frameShown})`, frameShown === `eiger_stack.h5#${lastFrame}`, frameShown);
    await page.click('#tab-scan');

    check('no uncaught errors or console errors in the page', pageErrors.length === 0, pageErrors.join('\n'));
  } catch (e) {
    if (page) {
      const shot = path.join(OUT_DIR, 'scan-failure.png');
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
