// End-to-end test: each open image keeps its own calibration, peak-search settings, materials, results and status
// (issue 16 item 3). Two defects it covers:
// - opening a second image with its own .det must not recompute the first image's 2θ with the second's geometry
//   (Ge_blanc's first peak: 2θ 58.43° with calibGe111.det; 56.96° with the GaN/Si calib.det), nor write it in .cor;
// - a dropped .det sets that image's material: the GaN/Si image's .det says Si, so it is indexed as Si even when
//   Ge was picked for the image before.
//
//   node tests/e2e/perimage.e2e.mjs          (needs pkg/, npm ci, and ../shared/data/real/GaN_Si)

import path from 'node:path';
import { chromium } from 'playwright-core';
import { ROOT, startServer } from './server.mjs';

const PAGE = '/www/index.html';
const WAIT_MS = 180_000;
const OVERALL_MS = 8 * 60_000;
const GAN_SI = path.resolve(ROOT, '..', 'shared', 'data', 'real', 'GaN_Si');

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
  const el = document.getElementById('peaks-error');
  return el.hidden ? '' : el.textContent;
});

async function search(page) {
  const n = await page.evaluate(() => window.lauekitPeaks.searches);
  await page.click('#run-search');
  await page.waitForFunction((k) => window.lauekitPeaks.searches > k || !document.getElementById('peaks-error').hidden, n);
  const err = await errorText(page);
  if (err) throw new Error(`peak search failed: ${err}`);
}

async function index(page) {
  const n = await page.evaluate(() => window.lauekitPeaks.indexRuns);
  await page.click('#run-index');
  await page.waitForFunction((k) => window.lauekitPeaks.indexRuns > k || !document.getElementById('peaks-error').hidden, n);
  const err = await errorText(page);
  if (err) throw new Error(`indexing failed: ${err}`);
  return page.evaluate(() => window.lauekitPeaks.current().index.result.grains.map((g) => ({
    material: g.material, n: g.n_indexed, rate: g.matching_rate })));
}

const shown = (page) => page.evaluate(() => {
  const lk = window.lauekitPeaks;
  return {
    name: lk.current()?.name,
    calib: document.getElementById('calib-info').textContent,
    threshold: document.getElementById('ps-IntensityThreshold').value,
    picked: lk.picked(),
    tth0: lk.peakAngles()[0]?.[0] ?? null,
    searchStatus: document.getElementById('search-status').textContent,
    indexStatus: document.getElementById('index-status').textContent,
  };
});

async function main() {
  const server = await startServer();
  const base = `http://127.0.0.1:${server.address().port}`;
  let browser;
  const watchdog = setTimeout(() => {
    console.log(`FAIL per-image e2e still running after ${OVERALL_MS / 1000} s`);
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
    const page = await context.newPage();
    page.setDefaultTimeout(WAIT_MS);
    page.on('pageerror', (err) => pageErrors.push(`uncaught: ${err.message}`));
    page.on('console', (msg) => {
      if (msg.type() === 'error') pageErrors.push(`console.error: ${msg.text()}`);
    });
    await page.goto(base + PAGE, { waitUntil: 'load' });
    await page.waitForFunction(() => Boolean(window.lauekitPeaks && window.lauekitPeaks.ready));
    await page.evaluate(() => window.lauekitPeaks.ready);

    // Image 1: the example (Ge, calibGe111.det), a threshold of its own, its peaks.
    await page.click('#load-example-image');
    await page.waitForFunction(() => window.lauekitPeaks.opened >= 1 && window.lauekitPeaks.current());
    await page.fill('#ps-IntensityThreshold', '450');
    await search(page);
    const first = await shown(page);
    check('image 1: Ge picked from calibGe111.det, 2θ of its first peak ≈ 58.43°',
      first.picked.join() === 'Ge' && Math.abs(first.tth0 - 58.429) < 0.01 && /calibGe111/.test(first.calib),
      JSON.stringify(first));

    // Image 2: the GaN/Si frame with its own calib.det (material Si) and peaksearch.json, dropped together.
    await page.setInputFiles('#image-files', ['nw1_0000.tif', 'calib.det', 'peaksearch.json'].map((f) => path.join(GAN_SI, f)));
    await page.waitForFunction(() => window.lauekitPeaks.opened >= 2 && window.lauekitPeaks.current()?.name === 'nw1_0000.tif');
    const second = await shown(page);
    check('image 2: its own calibration, settings (threshold 70) and material (Si, from its .det)',
      /calib\.det/.test(second.calib) && second.threshold === '70' && second.picked.join() === 'Si', JSON.stringify(second));
    await search(page);
    const grains = await index(page);
    check('image 2 indexed as Si (not with image 1\'s Ge)', grains.length >= 1 && grains[0].material === 'Si',
      JSON.stringify(grains));
    const secondDone = await shown(page);

    // Back to image 1: everything of its own, unchanged.
    await page.evaluate(() => window.lauekitPeaks.select(0));
    const back = await shown(page);
    check('image 1 again: calibGe111.det, threshold 450, Ge, the same 2θ (58.43°, not 56.96°)',
      /calibGe111/.test(back.calib) && back.threshold === '450' && back.picked.join() === 'Ge'
        && Math.abs(back.tth0 - first.tth0) < 1e-9, JSON.stringify(back));
    check('image 1 again: its own status line', back.searchStatus === first.searchStatus,
      `${back.searchStatus} vs ${first.searchStatus}`);
    const [dl] = await Promise.all([page.waitForEvent('download'), page.click('#download-cor')]);
    void dl;
    const cor = await page.evaluate(() => window.lauekitPeaks.lastSaved);
    const line = cor.text.split('\n').find((l) => /^\s*-?[0-9.]+(\s+-?[0-9.eE+-]+){4,}\s*$/.test(l)) ?? '';
    const tthCor = Number(line.trim().split(/\s+/)[0]);
    check('image 1 .cor: 2θ of its own geometry', cor.name.startsWith('Ge_blanc') && Number.isFinite(tthCor)
      && first.tth0 !== null && Math.abs(tthCor - 58.429) < 0.5, `${cor.name}: ${line}`);

    // And image 2 once more.
    await page.evaluate(() => window.lauekitPeaks.select(1));
    const again = await shown(page);
    check('image 2 again: calib.det, threshold 70, Si, its index status',
      /calib\.det/.test(again.calib) && again.threshold === '70' && again.picked.join() === 'Si'
        && again.indexStatus === secondDone.indexStatus, JSON.stringify(again));

    // A .det dropped alone applies to the shown image only.
    await page.setInputFiles('#image-files', [path.join(ROOT, 'www', 'examples', 'calibGe111.det')]);
    await page.waitForFunction(() => /calibGe111/.test(document.getElementById('calib-info').textContent));
    await page.evaluate(() => window.lauekitPeaks.select(0));
    const still = await shown(page);
    check('a .det dropped alone changes the shown image only (image 1 keeps its own)',
      /calibGe111/.test(still.calib) && Math.abs(still.tth0 - first.tth0) < 1e-9, JSON.stringify(still));
    check('no page error or console error', pageErrors.length === 0, pageErrors.join('\n'));
  } catch (e) {
    check('per-image e2e ran to the end', false, e && e.stack ? e.stack : e);
  } finally {
    if (browser) await browser.close();
    server.close();
  }
  console.log(`e2e: ${passed} passed, ${failed} failed`);
  process.exit(failed ? 1 : 0);
}

main();
