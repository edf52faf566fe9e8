// End-to-end test of materials files and custom crystals in the page (issue 19 item 1, page side), in headless
// Chromium:
// - "Images & peaks": a small materials file (TOML; Ge's lattice, a = 5.6575 Å, space group 227, under another
//   name) loaded in the indexing panel joins the material choices (its source in the tooltip); indexing the bundled
//   Ge example with it gives the orientation and the indexed spots of the built-in Ge (and of the native golden
//   tests/data/golden/index/Ge_blanc.json); the definition, not the name, reaches wasm (the grain carries the
//   file's name, which the library's table does not know). A bad file's error names the file and the entry.
// - a custom crystal typed in the form (Ge's lattice, rule dia) indexes the same way; it is a choice of the
//   calibration panel too, and a materials file dropped on the calibration panel's box joins its choices.
// - Scan: a custom crystal goes into the request's index.materials as its definition.
//
//   node tests/e2e/materials.e2e.mjs        (needs pkg/ with parse_materials_file, and `npm ci`)
// Environment: CHROMIUM, LAUEKIT_E2E_OUT (screenshots; default target/e2e). The last line is `e2e: N passed, M failed`.

import fs from 'node:fs/promises';
import path from 'node:path';
import { chromium } from 'playwright-core';
import { ROOT, startServer, benignAbort } from './server.mjs';

const OUT_DIR = path.resolve(process.env.LAUEKIT_E2E_OUT || path.join(ROOT, 'target', 'e2e'));
const GOLDEN_INDEX = path.join(ROOT, 'tests', 'data', 'golden', 'index', 'Ge_blanc.json');
const PAGE = '/www/index.html';
const WAIT_MS = 120_000;
const OVERALL_MS = 8 * 60_000;
const UB_TOL = 1e-6;

const GOOD_TOML = `# Ge under another name (test of the page's materials files)
[[materials]]
name = "GermaniumFile"
lattice = [5.6575, 5.6575, 5.6575, 90, 90, 90]
spacegroup = 227
# Fd-3m's conditions allow 222-type reflections; the diamond structure's atoms on 8a remove them, as Ge's row does.
extinction = "dia"
source = "e2e test file, Ge lattice"
`;
const BAD_JSON = JSON.stringify([
  { name: 'Fine', lattice: [4, 4, 4, 90, 90, 90], spacegroup: 225 },
  { name: 'Broken', lattice: [4, 4], spacegroup: 225 },
]);

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

const errorText = (page, id = 'peaks-error') => page.evaluate((i) => {
  const el = document.getElementById(i);
  return el.hidden ? '' : el.textContent;
}, id);

/** Ticks exactly the materials `names` in the indexing panel. */
async function pick(page, names) {
  await page.evaluate((want) => {
    for (const box of document.querySelectorAll('#index-materials input')) {
      if (box.checked !== want.includes(box.value)) box.click();
    }
  }, names);
}

/** Indexes the shown image; its grains. */
async function index(page) {
  const n = await page.evaluate(() => window.lauekitPeaks.indexRuns);
  await page.click('#run-index');
  await page.waitForFunction((k) => window.lauekitPeaks.indexRuns > k || !document.getElementById('peaks-error').hidden, n);
  const err = await errorText(page);
  if (err) throw new Error(`indexing failed: ${err}`);
  return page.evaluate(() => {
    const ix = window.lauekitPeaks.current().index;
    return {
      materials: ix.materials,
      grains: ix.result.grains.map((g) => ({ material: g.material, ub: g.ub, n: g.n_indexed, rate: g.matching_rate,
        nsim: g.n_simulated, spots: g.spots.map((s) => `${s.peak}:${s.hkl.join(' ')}`).join() })),
    };
  });
}

const maxDiff = (a, b) => Math.max(...a.flatMap((row, r) => row.map((v, c) => Math.abs(v - b[r][c]))));

async function main() {
  await fs.mkdir(OUT_DIR, { recursive: true });
  const goldenIndex = JSON.parse(await fs.readFile(GOLDEN_INDEX, 'utf8'));
  const gold = goldenIndex.grains[0];
  const goldSpots = gold.spots.map((s) => `${s.peak}:${s.hkl.join(' ')}`).join();
  const server = await startServer();
  const base = `http://127.0.0.1:${server.address().port}`;
  let browser = null;
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
    const context = await browser.newContext({ viewport: { width: 1400, height: 1000 } });
    const page = await context.newPage();
    page.setDefaultTimeout(WAIT_MS);
    page.on('pageerror', (err) => pageErrors.push(`uncaught: ${err.message}`));
    page.on('console', (msg) => { if (msg.type() === 'error') pageErrors.push(`console.error: ${msg.text()}`); });
    page.on('requestfailed', (req) => { if (!benignAbort(req)) pageErrors.push(`request failed: ${req.url()} ${req.failure()?.errorText ?? ''}`); });

    await page.goto(base + PAGE, { waitUntil: 'load' });
    await page.waitForFunction(() => Boolean(window.lauekitPeaks && window.lauekitPeaks.ready));
    const ready = await page.evaluate(() => window.lauekitPeaks.ready.then(() => 'ok', (e) => `rejected: ${e && e.message}`));
    if (ready !== 'ok') throw new Error(`peaks view did not start: ${ready}\n${await errorText(page)}`);
    check('peaks view is ready', true);

    // 1. The example, its peaks, indexed with the built-in Ge.
    await page.click('#load-example-image');
    await page.waitForFunction(() => window.lauekitPeaks.opened >= 1 && window.lauekitPeaks.current());
    await page.click('#run-search');
    await page.waitForFunction(() => window.lauekitPeaks.searches >= 1 || !document.getElementById('peaks-error').hidden);
    const err0 = await errorText(page);
    if (err0) throw new Error(`peak search failed: ${err0}`);
    const builtin = await index(page);
    const b0 = builtin.grains[0];
    check('built-in Ge: one grain, UB and spots of the native golden', builtin.grains.length === 1 && b0.material === 'Ge'
      && maxDiff(b0.ub, gold.ub) <= UB_TOL && b0.n === gold.n_indexed && b0.spots === goldSpots,
      JSON.stringify({ n: b0?.n, material: b0?.material }));

    // 2. A materials file (TOML) in the indexing panel: its material joins the choices, with its source.
    await page.click('#index-materials-add summary');
    const help = await page.evaluate(() => Array.from(document.querySelectorAll('#index-materials-add input'), (el) => ({
      id: el.id, help: el.dataset.help ?? '', label: Boolean(el.closest('label')) })));
    check('materials file and custom crystal inputs: a label and a help text each (units)',
      help.length === 10 && help.every((h) => h.label && h.help) && /Å/.test(help.find((h) => h.id.endsWith('-a')).help),
      JSON.stringify(help.filter((h) => !h.label || !h.help)));
    await page.setInputFiles('#index-materials-add-file', { name: 'ge_renamed.toml', mimeType: 'application/toml',
      buffer: Buffer.from(GOOD_TOML) });
    await page.waitForFunction(() => Boolean(document.querySelector('#index-materials input[value="GermaniumFile"]')));
    const choice = await page.evaluate(() => {
      const box = document.querySelector('#index-materials input[value="GermaniumFile"]');
      return { title: box.closest('label').title, help: box.dataset.help ?? '', status: document.getElementById('index-materials-add-status').textContent,
        calib: Array.from(document.getElementById('calib-material').options, (o) => o.value).includes('GermaniumFile') };
    });
    check('materials file: its material is a choice named as in the file, the source in its tooltip',
      /e2e test file, Ge lattice/.test(choice.title) && /5\.6575/.test(choice.title) && /227/.test(choice.title)
      && /ge_renamed\.toml/.test(choice.status), JSON.stringify(choice));
    check('materials file: a choice of the calibration panel too', choice.calib, JSON.stringify(choice));
    await pick(page, ['GermaniumFile']);
    const fromFile = await index(page);
    const f0 = fromFile.grains[0];
    check('indexed with the file\'s material: one grain, named as in the file (the definition reached wasm)',
      fromFile.grains.length === 1 && f0.material === 'GermaniumFile' && fromFile.materials.join() === 'GermaniumFile',
      JSON.stringify({ materials: fromFile.materials, grains: fromFile.grains.map((g) => g.material) }));
    check('indexed with the file\'s material: the orientation (UB) of the built-in Ge and of the golden (±1e-6)',
      f0 && maxDiff(f0.ub, b0.ub) <= UB_TOL && maxDiff(f0.ub, gold.ub) <= UB_TOL, f0 ? `|ΔUB| ${maxDiff(f0.ub, gold.ub)}` : 'no grain');
    check(`indexed with the file's material: the same ${gold.n_indexed} spots and hkl as the built-in Ge`,
      f0 && f0.n === b0.n && f0.n === gold.n_indexed && f0.spots === b0.spots, `${f0?.n} vs ${b0.n}`);
    console.log(`     matching rate: file ${f0?.rate.toFixed(2)} % of ${f0?.nsim} simulated, built-in ${b0.rate.toFixed(2)} % of ${b0.nsim}`);
    const shown = await page.evaluate(() => Array.from(document.querySelectorAll('#grain-table tbody tr')[0].cells, (c) => c.textContent));
    check('grain table: the file\'s material name', shown[1] === 'GermaniumFile', JSON.stringify(shown.slice(0, 3)));

    // 3. A bad file: the error names the file and the entry; nothing of it joins the choices.
    await page.setInputFiles('#index-materials-add-file', { name: 'bad_materials.json', mimeType: 'application/json',
      buffer: Buffer.from(BAD_JSON) });
    await page.waitForFunction(() => !document.getElementById('peaks-error').hidden);
    const bad = await errorText(page);
    const badJoined = await page.evaluate(() => Boolean(document.querySelector('#index-materials input[value="Fine"]')));
    check('bad materials file: the error box names the file and the entry', /bad_materials\.json/.test(bad) && /Broken/.test(bad), bad);
    console.log(`     error shown: ${bad}`);
    check('bad materials file: none of its materials joins the choices', !badJoined);

    // 4. A custom crystal: Ge's lattice, rule dia.
    await page.fill('#index-materials-add-name', 'GeCustom');
    for (const k of ['a', 'b', 'c']) await page.fill(`#index-materials-add-${k}`, '5.6575');
    await page.fill('#index-materials-add-rule', 'dia');
    await page.fill('#index-materials-add-sg', '227');
    await page.click('#index-materials-add-add');
    await page.waitForFunction(() => Boolean(document.querySelector('#index-materials input[value="GeCustom"]')));
    await page.screenshot({ path: path.join(OUT_DIR, 'materials-index-panel.png') });
    await pick(page, ['GeCustom']);
    const custom = await index(page);
    const c0 = custom.grains[0];
    check('custom crystal (Ge lattice, SG 227, dia): the built-in Ge\'s grain (UB, spots, matching rate)',
      custom.grains.length === 1 && c0.material === 'GeCustom' && maxDiff(c0.ub, b0.ub) <= UB_TOL && c0.n === b0.n
      && c0.spots === b0.spots && Math.abs(c0.rate - b0.rate) < 1e-9, JSON.stringify({ material: c0?.material, n: c0?.n, rate: c0?.rate }));
    // An incomplete form: a message, no choice.
    await page.fill('#index-materials-add-name', 'Half');
    await page.fill('#index-materials-add-a', '');
    await page.click('#index-materials-add-add');
    const half = await errorText(page);
    check('custom crystal without a: the error says which field', /Custom crystal/.test(half) && /\ba\b/.test(half), half);

    // 5. The calibration panel: the custom crystal is a reference choice; a file dropped on its box joins.
    const calibOpts = await page.evaluate(() => Array.from(document.getElementById('calib-material').options, (o) => o.value));
    check('calibration panel: the custom crystal is a reference choice', calibOpts.includes('GeCustom'), calibOpts.join());
    await page.evaluate((text) => {
      const dt = new DataTransfer();
      dt.items.add(new File([text], 'si_like.toml'));
      const box = document.getElementById('calib-materials-add');
      box.dispatchEvent(new DragEvent('drop', { dataTransfer: dt, bubbles: true, cancelable: true }));
    }, GOOD_TOML.replace('GermaniumFile', 'DroppedGe'));
    await page.waitForFunction(() => Array.from(document.getElementById('calib-material').options, (o) => o.value).includes('DroppedGe'));
    const dropped = await page.evaluate(() => ({ sel: document.getElementById('calib-material').value,
      images: window.lauekitPeaks.state.images.length }));
    check('calibration panel: a materials file dropped on its box joins (and is selected), no image opened',
      dropped.sel === 'DroppedGe' && dropped.images === 1, JSON.stringify(dropped));
    // The calibration's request carries the definition.
    const spec = await page.evaluate(() => window.lauekitPeaks.calib.readRequest().request.material);
    check('calibration request: the material as its definition', spec && typeof spec === 'object' && spec.name === 'DroppedGe'
      && spec.lattice[0] === 5.6575 && spec.spacegroup === 227, JSON.stringify(spec));
    // LaueNN training would be given the definitions of the picked materials.
    const nnSpecs = await page.evaluate(() => window.lauekitPeaks.nn.specs());
    check('LaueNN training: the picked custom crystal as its definition', nnSpecs.length === 1 && nnSpecs[0].name === 'GeCustom'
      && nnSpecs[0].extinction === 'dia', JSON.stringify(nnSpecs));

    // 6. Scan: a custom crystal goes into the request as its definition.
    await page.click('#tab-scan');
    await page.waitForFunction(() => window.lauekitScan?.ready);
    await page.evaluate(() => window.lauekitScan.ready);
    await page.click('#scan-materials-add summary');
    await page.fill('#scan-materials-add-name', 'ScanGe');
    for (const k of ['a', 'b', 'c']) await page.fill(`#scan-materials-add-${k}`, '5.6575');
    await page.fill('#scan-materials-add-sg', '227');
    await page.click('#scan-materials-add-add');
    const field = await page.evaluate(() => document.getElementById('scan-materials').value);
    check('scan: the custom crystal fills the materials field', field === 'ScanGe', field);
    await page.fill('#scan-materials', 'ScanGe, Si');
    await page.click('#scan-advanced summary');
    await page.click('#scan-fill-json');
    const req = await page.evaluate(() => JSON.parse(document.getElementById('scan-request-json').value).index.materials);
    check('scan request: index.materials = [the custom definition, "Si"]', req.length === 2 && req[0].name === 'ScanGe'
      && req[0].spacegroup === 227 && req[0].lattice.join() === '5.6575,5.6575,5.6575,90,90,90' && req[1] === 'Si', JSON.stringify(req));
    await page.setViewportSize({ width: 400, height: 900 });
    await page.screenshot({ path: path.join(OUT_DIR, 'materials-scan-400.png'), fullPage: false });

    check('no page errors', pageErrors.length === 0, pageErrors.join('\n'));
  } catch (e) {
    check('run', false, e.stack || String(e));
  } finally {
    await browser?.close();
    server.close();
  }
  console.log(`e2e: ${passed} passed, ${failed} failed`);
  process.exit(failed ? 1 : 0);
}

main();
