// End-to-end test of the Scan view's "Cluster" panel (www/views/scan/cluster.js and cluster-worker.js, the features
// pass in www/views/scan/scan-worker.js) in headless Chromium.
//
//   node tests/e2e/cluster.e2e.mjs
//
// Loads the example scan (the synthetic Cu scan of `lauekit simulate-scan --grid 12x10 --seed 1 --grains 4`, made in
// the page; its 120 TIFFs are checked byte for byte against the native ones by their SHA-256), clusters it with the
// panel's defaults (pixel features, PCA 32, K-means, K = the suggested one) and compares with the native run
// committed in tests/data/golden/cluster/example.json (`lauekit cluster DIR --grid 12x10 --calib DIR/calib.det
// --material Cu --index-delegates`; remade by tests/data/golden/cluster/make-example.sh): labels, K, suggested K,
// scores over K, explained variance, delegates, regions, colours. Then: the explained-variance and score plots, the
// three label maps (natural, PCA colour, direct colour) and the regions, K moved with the keyboard (the re-cluster time
// is printed: a figure, not an assertion), the Bayesian mixture, "Index delegates" (each cluster's grain = the native
// one, UB within 1e-9) and the orientation map, the JSON download (the CLI's fields in the CLI's order), PNG and CSV,
// a click on the map opening the cluster's delegate in Images & peaks, the library's messages for bad settings, peak
// features, the autoencoder features when the build has them, a 6000-point session re-clustered at a new K (times
// printed), and unreadable images.
// Needs the wasm package in pkg/ and `npm ci` for playwright-core. Environment: CHROMIUM, LAUEKIT_PKG_DIR,
// LAUEKIT_E2E_OUT (screenshots; default target/e2e). The last line is `e2e: N passed, M failed`.

import fs from 'node:fs/promises';
import path from 'node:path';
import { chromium } from 'playwright-core';
import { PKG_DIR, ROOT, startServer, benignAbort } from './server.mjs';
import { canvasCellColours, pngCellColours } from './mapcolours.mjs';

const OUT_DIR = path.resolve(process.env.LAUEKIT_E2E_OUT || path.join(ROOT, 'target', 'e2e'));
const GOLDEN_DIR = path.join(ROOT, 'tests', 'data', 'golden', 'cluster');
const PAGE = '/www/index.html';
const WAIT_MS = 300_000;
const OVERALL_MS = 15 * 60_000;
const REL_TOL = 1e-6; // wasm vs native scores and variances (libm's last-ulp differences only)
const UB_TOL = 1e-9;

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
  const el = document.getElementById('cluster-error');
  return el.hidden ? '' : el.textContent;
});

/** Pixels of a canvas that are neither transparent nor the background, and their distinct colours. */
const canvasStats = (page, id, background = [247, 248, 250]) => page.evaluate(([cid, bg]) => {
  const c = document.getElementById(cid);
  const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
  let coloured = 0;
  const colours = new Set();
  for (let i = 0; i < d.length; i += 4) {
    if (d[i + 3] === 0 || (d[i] === bg[0] && d[i + 1] === bg[1] && d[i + 2] === bg[2])) continue;
    coloured += 1;
    colours.add((d[i] << 16) | (d[i + 1] << 8) | d[i + 2]);
  }
  return { coloured, colours: colours.size };
}, [id, background]);

async function download(page, selector) {
  const [dl] = await Promise.all([page.waitForEvent('download', { timeout: WAIT_MS }), page.click(selector)]);
  return { name: dl.suggestedFilename(), bytes: await fs.readFile(await dl.path()) };
}

const relDiff = (a, b) => (a === b ? 0 : Math.abs(a - b) / Math.max(Math.abs(a), Math.abs(b), 1e-300));

/** Largest relative difference of two equally long number lists (Infinity when the lengths differ or one is not finite). */
function maxRel(a, b) {
  if (!Array.isArray(a) || !Array.isArray(b) || a.length !== b.length) return Infinity;
  let m = 0;
  for (let i = 0; i < a.length; i++) {
    if (a[i] === null && b[i] === null) continue;
    const d = relDiff(a[i], b[i]);
    m = Math.max(m, Number.isFinite(d) ? d : Infinity);
  }
  return m;
}

const same = (a, b) => JSON.stringify(a) === JSON.stringify(b);

/** The page's clustering (its JSON) against the native one: the first difference, or null. */
function compareClustering(ours, golden, { scores = true } = {}) {
  for (const key of ['grid', 'k', 'labels', 'suggested_k', 'delegates', 'regions', 'n_regions', 'features', 'method', 'failed']) {
    if (!same(ours[key], golden[key])) return `${key}: ${JSON.stringify(ours[key]).slice(0, 200)}, native ${JSON.stringify(golden[key]).slice(0, 200)}`;
  }
  const ev = maxRel(ours.explained_variance, golden.explained_variance);
  if (!(ev <= REL_TOL)) return `explained_variance differs (max rel. ${ev})`;
  const evr = maxRel(ours.explained_variance_ratio, golden.explained_variance_ratio);
  if (!(evr <= REL_TOL)) return `explained_variance_ratio differs (max rel. ${evr})`;
  for (const key of ['silhouette', 'calinski_harabasz']) {
    if (!(relDiff(ours[key], golden[key]) <= REL_TOL)) return `${key}: ${ours[key]}, native ${golden[key]}`;
  }
  if (scores) {
    if (!same(ours.scores.map((s) => s.k), golden.scores.map((s) => s.k))) return 'scores: other K';
    // The page's features are bit-identical to the native ones, but the PCA scores agree to ~1e-15 only (the
    // matrix products run other kernels natively — SIMD with FMA — than in wasm): a K whose K-means restarts end in
    // nearly equal minima may settle in the other one (seen at K = 15 of this scan: silhouette 0.2645 against
    // 0.2628). One such K of the 19 is allowed, within 2 % and not the K shown; every other K's scores must agree
    // within 1e-6, and the clustering itself (at the suggested K) exactly.
    const off = ours.scores.map((s, i) => ({ k: s.k, sil: relDiff(s.silhouette, golden.scores[i].silhouette),
      ch: relDiff(s.calinski_harabasz, golden.scores[i].calinski_harabasz) })).filter((d) => !(d.sil <= REL_TOL && d.ch <= REL_TOL));
    if (off.length > 1 || off.some((d) => !(d.sil <= 0.02 && d.ch <= 0.02) || d.k === golden.k)) {
      return `scores differ at K = ${off.map((d) => `${d.k} (rel. silhouette ${d.sil.toExponential(1)}, CH ${d.ch.toExponential(1)})`).join(', ')}`;
    }
    for (const d of off) console.log(`     K = ${d.k}: K-means settled in another local minimum than natively (rel. silhouette ${d.sil.toExponential(1)}, CH ${d.ch.toExponential(1)})`);
  }
  for (const key of ['centroid_rgb', 'direct_rgb']) {
    const a = ours[key].flat();
    const b = golden[key].flat();
    if (a.length !== b.length || a.some((v, i) => Math.abs(v - b[i]) > 1)) return `${key} differs by more than 1`;
  }
  console.log(`     max rel. |wasm − native|: explained variance ${maxRel(ours.explained_variance, golden.explained_variance).toExponential(2)}, `
    + `silhouette ${relDiff(ours.silhouette, golden.silhouette).toExponential(2)}`);
  return null;
}

async function main() {
  await fs.mkdir(OUT_DIR, { recursive: true });
  await fs.access(path.join(PKG_DIR, 'lauekit.js')).catch(() => {
    throw new Error(`${path.join(PKG_DIR, 'lauekit.js')} not found: build the wasm package into pkg/ first`);
  });
  const golden = JSON.parse(await fs.readFile(path.join(GOLDEN_DIR, 'example.json'), 'utf8'));
  const hashes = (await fs.readFile(path.join(GOLDEN_DIR, 'example-images.sha256'), 'utf8')).trim().split('\n')
    .map((l) => l.split(/\s+/)).map(([h, n]) => ({ hash: h, name: n.replace(/^\*/, '') }));
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
      args: ['--no-sandbox', '--disable-quic', '--no-first-run', '--disable-background-networking',
        '--disable-component-update', '--disable-sync', '--enable-unsafe-webgpu'],
    });
    const context = await browser.newContext({ viewport: { width: 1400, height: 1100 }, acceptDownloads: true });
    page = await context.newPage();
    page.setDefaultTimeout(WAIT_MS);
    page.on('pageerror', (err) => pageErrors.push(`uncaught: ${err.message}`));
    page.on('console', (msg) => {
      if (msg.type() === 'error') pageErrors.push(`console.error: ${msg.text()}`);
    });
    page.on('requestfailed', (req) => { if (!benignAbort(req)) pageErrors.push(`request failed: ${req.url()} ${req.failure()?.errorText ?? ''}`); });

    // 1. The page starts with the panel.
    await page.goto(`${base}${PAGE}#scan`, { waitUntil: 'load' });
    await page.waitForFunction(() => Boolean(window.lauekitScan?.ready && window.lauekitCluster?.ready && window.lauekitPeaks?.ready));
    const ready = await page.evaluate(() => Promise.all([window.lauekitScan.ready, window.lauekitCluster.ready, window.lauekitPeaks.ready])
      .then(() => 'ok', (e) => `rejected: ${e && e.message}`));
    if (ready !== 'ok') throw new Error(`the page did not start: ${ready}\n${await errorText(page)}`);
    const controls = await page.evaluate(() => ({
      legend: document.querySelector('#cluster-panel legend')?.textContent,
      radios: Array.from(document.querySelectorAll('input[name="cluster-features"]')).map((r) => r.value),
      kLabel: document.querySelector('label[for="cluster-k"]')?.textContent ?? '',
      slider: document.getElementById('cluster-k').disabled,
      run: document.getElementById('cluster-run').disabled,
      status: document.getElementById('cluster-status').textContent,
    }));
    check('Cluster panel: features pixels/peaks/ae, a labelled K slider (disabled until clustered), Cluster button',
      /Cluster/.test(controls.legend) && controls.radios.join() === 'pixels,peaks,ae' && /K/.test(controls.kLabel)
      && controls.slider && !controls.run, JSON.stringify(controls));
    // Without images the panel says what is missing.
    await page.click('#cluster-run');
    await page.waitForFunction(() => /example scan|images/.test(document.getElementById('cluster-status').textContent));
    check('without images: the status says what to do', true);

    // 2. The example scan; its images are the native ones, byte for byte.
    await page.click('#scan-load-example');
    await page.waitForFunction(() => window.lauekitScan.state.source?.kind === 'synthetic');
    const pageHashes = await page.evaluate(async () => {
      const h = window.lauekitScan.state.source.handle;
      const out = [];
      for (let i = 0; i < h.len(); i++) {
        const d = await crypto.subtle.digest('SHA-256', h.image_tiff(i));
        out.push({ name: h.image_name(i), hash: Array.from(new Uint8Array(d), (b) => b.toString(16).padStart(2, '0')).join('') });
      }
      return out;
    });
    const key = (l) => l.map((x) => `${x.name} ${x.hash}`).join('\n');
    check(`the example's ${pageHashes.length} images = the native simulate-scan's (SHA-256)`, key(pageHashes) === key(hashes),
      `${JSON.stringify(pageHashes.slice(0, 2))} vs ${JSON.stringify(hashes.slice(0, 2))}`);

    // 3. Cluster with the defaults: the native result.
    await page.click('#cluster-run');
    await page.waitForFunction(() => window.lauekitCluster.reclusters.length >= 1 || !document.getElementById('cluster-error').hidden,
      null, { timeout: WAIT_MS });
    const err1 = await errorText(page);
    if (err1) throw new Error(`clustering failed: ${err1}`);
    const run1 = await page.evaluate(() => window.lauekitCluster.runs[0]);
    check(`features of every point (${run1.points}/${run1.total}, ${run1.workers} workers, none unreadable)`,
      run1.points === 120 && run1.total === 120 && run1.failed === 0 && !run1.cancelled, JSON.stringify(run1));
    console.log(`     pixel features: ${run1.extract_ms_per_point.toFixed(1)} ms/point (TIFF decoding + crop, binning, scaling; `
      + `${run1.ms_per_point.toFixed(1)} ms with the example's image rendering), ${run1.seconds.toFixed(1)} s for 120 points `
      + `on ${run1.workers} workers (dev build)`);
    const json1 = await download(page, '#cluster-save-json');
    await fs.writeFile(path.join(OUT_DIR, 'cluster-example.json'), json1.bytes);
    const out1 = JSON.parse(json1.bytes.toString('utf8'));
    const cmp1 = compareClustering(out1, golden);
    check(`labels and scores = the native run (K = ${golden.k}, suggested ${golden.suggested_k}, ${golden.n_regions} regions)`,
      cmp1 === null, cmp1 ?? '');
    const status1 = await page.evaluate(() => ({
      status: document.getElementById('cluster-status').textContent,
      k: document.getElementById('cluster-k').value,
      out: document.getElementById('cluster-k-out').textContent,
      min: document.getElementById('cluster-k').min,
      max: document.getElementById('cluster-k').max,
      rows: document.querySelectorAll('#cluster-table tbody tr').length,
    }));
    check('status line (points, PCA, suggested K); slider at the suggested K over 2..20; one table row per cluster',
      /120 points/.test(status1.status) && new RegExp(`suggested K = ${golden.suggested_k}`).test(status1.status)
      && status1.k === String(golden.suggested_k) && status1.min === '2' && status1.max === '20' && status1.rows === golden.k,
      JSON.stringify(status1));

    await page.screenshot({ path: path.join(OUT_DIR, 'cluster-page.png'), fullPage: true });

    // 4. The plots and the label maps.
    const ev = await canvasStats(page, 'cluster-ev-plot', [255, 255, 255]);
    const sc = await canvasStats(page, 'cluster-score-plot', [255, 255, 255]);
    check('explained-variance and score plots drawn', ev.coloured > 200 && sc.coloured > 200 && sc.colours >= 3,
      `${JSON.stringify(ev)} ${JSON.stringify(sc)}`);
    await page.locator('.cluster-plots').screenshot({ path: path.join(OUT_DIR, 'cluster-plots.png') });
    for (const [name, minColours] of [['cluster_labels', golden.k], ['cluster_pca', golden.k], ['cluster_direct', 20], ['cluster_regions', golden.n_regions]]) {
      await page.selectOption('#cluster-labeler', name);
      const drawn = await page.evaluate(() => window.lauekitCluster.drawn);
      const st = await canvasStats(page, 'cluster-map-canvas');
      check(`label map ${name} drawn (${st.colours} colours)`, drawn?.name === name && drawn.nx === 12 && drawn.ny === 10
        && st.coloured > 5000 && st.colours >= minColours, `${JSON.stringify(drawn)} ${JSON.stringify(st)}`);
      await page.locator('#cluster-map-canvas').screenshot({ path: path.join(OUT_DIR, `cluster-${name}.png`) });
    }
    await page.selectOption('#cluster-labeler', 'cluster_labels');

    // 5. K moved with the keyboard re-clusters at once (time printed); back to the suggested K gives the native labels.
    const before = await page.evaluate(() => window.lauekitCluster.reclusters.length);
    await page.focus('#cluster-k');
    await page.keyboard.press('ArrowRight');
    await page.waitForFunction((n) => window.lauekitCluster.reclusters.length > n, before);
    const moved = await page.evaluate(() => ({ r: window.lauekitCluster.reclusters.at(-1), k: window.lauekitCluster.state.clustering.k,
      out: document.getElementById('cluster-k-out').textContent }));
    check(`→ on the slider: re-clustered at K = ${golden.k + 1}`, moved.r.k === golden.k + 1 && moved.k === golden.k + 1
      && moved.out.startsWith(String(golden.k + 1)), JSON.stringify(moved));
    console.log(`     K change ${golden.k} → ${golden.k + 1} (120 points): ${moved.r.ms.toFixed(1)} ms from the slider to the maps `
      + `(clustering ${moved.r.cluster_ms.toFixed(1)} ms in the worker)`);
    await page.keyboard.press('ArrowLeft');
    await page.waitForFunction((n) => window.lauekitCluster.reclusters.length > n + 1, before);
    const back = await page.evaluate(() => window.lauekitCluster.state.clustering.labels);
    check('← back to the suggested K: the native labels again', same(back, golden.labels));

    // 6. The Bayesian mixture, then K-means again.
    const nb = await page.evaluate(() => window.lauekitCluster.reclusters.length);
    await page.selectOption('#cluster-method', 'bgm');
    await page.waitForFunction((n) => window.lauekitCluster.reclusters.length > n, nb);
    const bgm = await page.evaluate(() => ({ r: window.lauekitCluster.reclusters.at(-1), c: window.lauekitCluster.state.clustering }));
    check(`Bayesian mixture: ${bgm.c.k} effective clusters (at most ${golden.k})`, bgm.r.method === 'bgm' && bgm.c.k >= 1
      && bgm.c.k <= golden.k && bgm.c.labels.length === 120, JSON.stringify(bgm.r));
    await page.selectOption('#cluster-method', 'kmeans');
    await page.waitForFunction((n) => window.lauekitCluster.reclusters.length > n + 1, nb);
    check('K-means again: the native labels', same(await page.evaluate(() => window.lauekitCluster.state.clustering.labels), golden.labels));

    // 7. Index delegates: each cluster's grain = the native one; the orientation map.
    await page.click('#cluster-index');
    await page.waitForFunction(() => window.lauekitCluster.state.indexed || !document.getElementById('cluster-error').hidden);
    const err2 = await errorText(page);
    if (err2) throw new Error(`indexing the delegates failed: ${err2}`);
    const indexed = await page.evaluate(() => window.lauekitCluster.state.indexed.clusters);
    let ubDiff = 0;
    let cmpIdx = null;
    for (const g of golden.clusters) {
      const p = indexed[g.label];
      if (!p || p.delegate !== g.delegate || p.material !== g.material || p.tried !== g.tried) {
        cmpIdx = `cluster ${g.label}: ${JSON.stringify(p)}, native ${JSON.stringify(g)}`;
        break;
      }
      if (g.ub) {
        for (let i = 0; i < 3; i++) for (let j = 0; j < 3; j++) ubDiff = Math.max(ubDiff, Math.abs(p.ub[i][j] - g.ub[i][j]));
        if (!(relDiff(p.matching_rate, g.matching_rate) <= 1e-12)) cmpIdx = `cluster ${g.label}: matching rate ${p.matching_rate}`;
      }
    }
    if (!cmpIdx && !(ubDiff <= UB_TOL)) cmpIdx = `UB differs by ${ubDiff}`;
    console.log(`     delegates: max |UB(wasm) − UB(native)| = ${ubDiff.toExponential(2)}`);
    check(`Index delegates: every cluster's delegate, material, tries and UB (within 1e-9) = the native --index-delegates`,
      cmpIdx === null && indexed.length === golden.clusters.length, cmpIdx ?? '');
    await page.waitForFunction(() => !document.getElementById('cluster-key').hidden && document.getElementById('cluster-key-img').complete
      && document.getElementById('cluster-key-img').naturalWidth > 0);
    const ipf = await page.evaluate(() => ({ drawn: window.lauekitCluster.drawn, labeler: document.getElementById('cluster-labeler').value,
      status: document.getElementById('cluster-index-status').textContent,
      rows: Array.from(document.querySelectorAll('#cluster-table tbody tr'), (tr) => tr.cells[4].textContent) }));
    const ipfStats = await canvasStats(page, 'cluster-map-canvas');
    check('orientation map (IPF Z of each cluster\'s grain) drawn with its key; the table lists the grains',
      ipf.drawn?.name === 'ipf_z' && ipf.labeler === 'ipf_z' && ipfStats.colours >= golden.k && /clusters indexed/.test(ipf.status)
      && ipf.rows.every((t) => t === 'Cu'), JSON.stringify({ ...ipf, ipfStats }));
    await page.locator('#cluster-view').screenshot({ path: path.join(OUT_DIR, 'cluster-orientation.png') });

    // 8. Downloads: the JSON in the CLI's shape (its fields, its order), the map PNG and CSV.
    const json2 = await download(page, '#cluster-save-json');
    const out2 = JSON.parse(json2.bytes.toString('utf8'));
    check('JSON download: lauekit cluster\'s fields in its order, with the indexed clusters',
      json2.name === 'example_scan_cluster.json' && same(Object.keys(out2), Object.keys(golden))
      && same(out2.clusters.map((c) => Object.keys(c)), golden.clusters.map((c) => Object.keys(c)))
      && out2.images_indexed === golden.images_indexed && compareClustering(out2, golden) === null,
      `${Object.keys(out2).join(',')}\nvs ${Object.keys(golden).join(',')}`);
    const png = await download(page, '#cluster-save-png');
    await fs.writeFile(path.join(OUT_DIR, `cluster-download-${png.name}`), png.bytes);
    check('PNG download of the map shown (IPF Z)', png.name === 'example_scan_cluster_ipf_z.png'
      && png.bytes.subarray(1, 4).toString('latin1') === 'PNG', `${png.name} ${png.bytes.length} bytes`);
    await page.selectOption('#cluster-labeler', 'cluster_labels');
    const csv = await download(page, '#cluster-save-csv');
    const csvText = csv.bytes.toString('utf8');
    check('CSV download of the natural labels', csv.name === 'example_scan_cluster_cluster_labels.csv'
      && csvText.trim().split('\n').length >= 10, `${csv.name}: ${csvText.slice(0, 120)}`);
    const png2 = await download(page, '#cluster-save-png');
    check('PNG download of the natural labels', png2.name === 'example_scan_cluster_cluster_labels.png'
      && png2.bytes.subarray(1, 4).toString('latin1') === 'PNG', png2.name);

    // The label map's PNG in the colours the page shows (Okabe–Ito by default; the library's hues when chosen): one
    // cell of each cluster sampled in the downloaded PNG and on the map canvas.
    const labelCells = await page.evaluate(() => {
      const m = window.lauekitCluster.state.maps.find((x) => x.name === 'cluster_labels');
      const first = new Map();
      m.values.forEach((v, k) => { if (Number.isFinite(v) && !first.has(v)) first.set(v, k); });
      return { kind: m.kind, nx: m.nx, cells: [...first.values()].map((k) => [k % m.nx, Math.floor(k / m.nx)]),
        library: [...first.values()].map((k) => m.rgb[k]) };
    });
    for (const pal of ['cvd', 'library']) {
      await page.selectOption('#scan-palette', pal);
      const shown = await canvasCellColours(page, 'cluster-map-canvas', 'lauekitCluster', labelCells.cells);
      const labelPng = await download(page, '#cluster-save-png');
      await fs.writeFile(path.join(OUT_DIR, `cluster-download-labels-${pal}.png`), labelPng.bytes);
      const inPng = await pngCellColours(page, labelPng.bytes, labelCells.nx, labelCells.cells);
      const eq = (a, b) => JSON.stringify(a) === JSON.stringify(b);
      check(`label map PNG (${pal} colours): each cluster's cell has the colour shown on the page`,
        labelCells.kind === 'categorical' && labelCells.cells.length >= 2 && inPng && eq(inPng, shown)
        && (pal === 'library' ? eq(shown, labelCells.library) : !eq(shown, labelCells.library)),
        JSON.stringify({ cells: labelCells.cells, png: inPng, shown, library: labelCells.library }));
    }
    await page.selectOption('#scan-palette', 'cvd');

    // 9. A click on the map opens the cluster's delegate in Images & peaks.
    const label0 = golden.labels[0]; // point 0 is at (0, 0)
    const delegate0 = golden.clusters[label0].delegate;
    const [cx, cy] = await page.evaluate(() => window.lauekitCluster.cellCenter(0, 0));
    await page.locator('#cluster-map-canvas').click({ position: { x: cx, y: cy } });
    const name0 = `scan_${String(delegate0).padStart(4, '0')}.tif`;
    await page.waitForFunction((n) => window.lauekitPeaks.current()?.name === n || !document.getElementById('peaks-error').hidden,
      name0);
    const opened = await page.evaluate(() => ({ name: window.lauekitPeaks.current()?.name, peaks: !document.getElementById('view-peaks').hidden,
      opened: window.lauekitCluster.opened }));
    check(`click on point (0, 0) (cluster ${label0}): its delegate ${name0} opens in Images & peaks`,
      opened.name === name0 && opened.peaks && opened.opened.at(-1) === delegate0, JSON.stringify(opened));
    await page.click('#tab-scan');
    // The keyboard: focus the map, Enter opens the cluster under the cursor (0, 0).
    await page.focus('#cluster-map-canvas');
    const nOpened = opened.opened.length;
    await page.keyboard.press('Enter');
    await page.waitForFunction((n) => window.lauekitCluster.opened.length > n, nOpened);
    check('Enter on the focused map opens the delegate too', await page.evaluate(() => window.lauekitCluster.opened.at(-1)) === delegate0);
    await page.click('#tab-scan');

    // 10. Bad settings: the library's messages.
    const bad = await page.evaluate(async () => {
      const m = await import('/pkg/lauekit.js');
      const msg = (f) => {
        try {
          f();
          return 'no error';
        } catch (e) {
          return e.message;
        }
      };
      const s = new m.ClusterSession({ nx: 3, ny: 2 }, 2, 'test');
      const out = {
        unknownKey: msg(() => new m.ClusterFeatures({ features: 'pixels', bogus: 1 })),
        badKind: msg(() => new m.ClusterFeatures({ features: 'hog' })),
        peaksNoCal: msg(() => new m.ClusterFeatures({ features: 'peaks' })),
        row: msg(() => s.set_row(0, new Float32Array(3))),
        notFitted: msg(() => s.cluster({ k: 2 })),
        clusterKey: msg(() => s.cluster({ k: 2, kk: 3 })),
        fitKey: msg(() => s.fit({ pcaa: 3 })),
        tooSmall: msg(() => new m.ClusterSession({ nx: 2, ny: 1 }, 2, 'test')),
      };
      s.free();
      return out;
    });
    check('bad settings are errors naming what was wrong', /bogus/.test(bad.unknownKey) && /hog/.test(bad.badKind)
      && /calibration/.test(bad.peaksNoCal) && /3 features/.test(bad.row) && /fit the PCA/.test(bad.notFitted)
      && /kk/.test(bad.clusterKey) && /pcaa/.test(bad.fitKey) && /at least 3/.test(bad.tooSmall), JSON.stringify(bad, null, 1));
    await page.fill('#cluster-pca', '0');
    await page.dispatchEvent('#cluster-pca', 'change');
    await page.waitForFunction(() => !document.getElementById('cluster-error').hidden);
    check('PCA components 0: refused in the panel', /PCA components/.test(await errorText(page)), await errorText(page));
    await page.fill('#cluster-pca', '8');
    await page.dispatchEvent('#cluster-pca', 'change');
    await page.waitForFunction(() => window.lauekitCluster.state.fit?.n_components === 8);
    check('PCA components 8: refitted (8 components, scores and K anew)',
      await page.evaluate(() => window.lauekitCluster.state.fit.explained_variance.length === 8 && window.lauekitCluster.state.clustering !== null));
    await page.fill('#cluster-pca', '32');

    // 11. Peak features (the scan's peak-search settings and calibration).
    await page.check('input[name="cluster-features"][value="peaks"]');
    const nr = await page.evaluate(() => window.lauekitCluster.runs.length);
    await page.click('#cluster-run');
    await page.waitForFunction((n) => (window.lauekitCluster.runs.length > n && window.lauekitCluster.state.clustering
      && !window.lauekitCluster.state.run) || !document.getElementById('cluster-error').hidden, nr);
    const peaksRun = await page.evaluate(() => ({ run: window.lauekitCluster.runs.at(-1), k: window.lauekitCluster.state.clustering?.k,
      err: document.getElementById('cluster-error').hidden ? '' : document.getElementById('cluster-error').textContent }));
    check(`peak features: clustered (K = ${peaksRun.k})`, !peaksRun.err && peaksRun.run.features === 'peaks' && peaksRun.k >= 2,
      JSON.stringify(peaksRun));
    console.log(`     peak features: ${peaksRun.run.extract_ms_per_point.toFixed(1)} ms/point (TIFF decoding + peak search + grid)`);

    // 12. The autoencoder's features, when the build has them (CPU, then WebGPU when the browser offers it).
    const aeAvailable = await page.evaluate(() => window.lauekitCluster.aeAvailable);
    if (aeAvailable) {
      for (const webgpu of [false, true]) {
        await page.check('input[name="cluster-features"][value="ae"]');
        await page.setChecked('#cluster-webgpu', webgpu);
        const n0 = await page.evaluate(() => window.lauekitCluster.runs.length);
        await page.click('#cluster-run');
        await page.waitForFunction((n) => (window.lauekitCluster.runs.length > n && window.lauekitCluster.state.clustering
          && !window.lauekitCluster.state.run && window.lauekitCluster.state.ae) || !document.getElementById('cluster-error').hidden, n0);
        const aeRun = await page.evaluate(() => ({ ae: window.lauekitCluster.state.ae, k: window.lauekitCluster.state.clustering?.k,
          err: document.getElementById('cluster-error').hidden ? '' : document.getElementById('cluster-error').textContent }));
        check(`autoencoder features (${webgpu ? 'WebGPU asked' : 'CPU'}): clustered (K = ${aeRun.k})`, !aeRun.err && aeRun.k >= 2,
          JSON.stringify(aeRun));
        if (aeRun.ae) console.log(`     autoencoder on ${aeRun.ae.device}: ${aeRun.ae.ms_per_point?.toFixed(2)} ms/point (encoding only)`);
      }
    } else {
      console.log('     autoencoder: not in this build (no autoencoder_features, or autoencoder_latent_dim() is 0): skipped');
    }

    // 13. A 6000-point session re-clustered at a new K (a figure, not an assertion).
    await page.check('input[name="cluster-features"][value="pixels"]');
    const nr2 = await page.evaluate(() => window.lauekitCluster.runs.length);
    await page.click('#cluster-run');
    await page.waitForFunction((n) => window.lauekitCluster.runs.length > n && window.lauekitCluster.state.clustering
      && !window.lauekitCluster.state.run, nr2);
    const bench = await page.evaluate(() => window.lauekitCluster.benchmark(6000, 512, [7, 9]));
    await fs.writeFile(path.join(OUT_DIR, 'cluster-bench-6000.json'), JSON.stringify(bench, null, 1));
    check(`6000-point session (${bench.n} points × ${bench.dim} features, PCA ${bench.n_components}) re-clustered at new K`,
      bench.n >= 6000 && bench.times.length === 4 && bench.times.every((t) => t.found >= 2), JSON.stringify(bench));
    console.log(`     ${bench.n} points: PCA ${bench.fit_ms.toFixed(0)} ms, scores over K = 7..9 ${bench.scan_ms.toFixed(0)} ms`);
    for (const t of bench.times) {
      console.log(`     ${bench.n} points: re-cluster at K = ${t.k}: ${t.cluster_ms.toFixed(0)} ms (K-means and labelers), label maps `
        + `${t.label_maps_ms.toFixed(0)} ms; ${t.scanned ? 'scores known from the K scan' : `then the scores (silhouette on 4000 points, CH) ${t.score_ms.toFixed(0)} ms`}`);
    }
    console.log(`BENCH cluster-recluster-6000 ms ${bench.times.map((t) => `k${t.k}${t.scanned ? '' : '-unscanned'}=${(t.cluster_ms + t.label_maps_ms).toFixed(0)}`).join(' ')}`);

    // 14. Images that cannot be read, no calibration (pixel features need none): failed points, then the library's
    // message when none could be read.
    await page.evaluate(() => {
      const dt = new DataTransfer();
      for (const n of ['bad_0002.tif', 'bad_0000.tif', 'bad_0001.tif', 'bad_0003.tif']) dt.items.add(new File([new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8, 9])], n));
      document.getElementById('scan-drop-zone').dispatchEvent(new DragEvent('drop', { dataTransfer: dt, bubbles: true, cancelable: true }));
    });
    await page.waitForFunction(() => window.lauekitScan.state.source?.kind === 'files' && !window.lauekitScan.state.calibration);
    const nr3 = await page.evaluate(() => window.lauekitCluster.runs.length);
    await page.click('#cluster-run');
    await page.waitForFunction((n) => window.lauekitCluster.runs.length > n && !document.getElementById('cluster-error').hidden, nr3);
    const badRun = await page.evaluate(() => ({ run: window.lauekitCluster.runs.at(-1), err: document.getElementById('cluster-error').textContent }));
    check('unreadable images without a calibration: 4 failed points, then "no image could be read"',
      badRun.run.points === 4 && badRun.run.failed === 4 && /no image could be read/.test(badRun.err), JSON.stringify(badRun));

    check('no uncaught errors or console errors in the page', pageErrors.length === 0, pageErrors.join('\n'));
  } catch (e) {
    if (page) {
      const shot = path.join(OUT_DIR, 'cluster-failure.png');
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
