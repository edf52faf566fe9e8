// End-to-end test of the live Laue simulator page (www/index.html) in headless Chromium.
//
//   node tests/e2e/simulator.e2e.mjs
//
// Needs the wasm package built into pkg/ (wasm-bindgen --target web) and `npm ci` for playwright-core.
// Environment: CHROMIUM (browser binary, default /usr/bin/chromium), LAUEKIT_PKG_DIR (directory served at /pkg/,
// default <repo>/pkg). Screenshots go to target/e2e/. The last line is `e2e: N passed, M failed`.

import fs from 'node:fs/promises';
import path from 'node:path';
import { chromium } from 'playwright-core';
import { PKG_DIR, ROOT, startServer, benignAbort } from './server.mjs';

const OUT_DIR = path.join(ROOT, 'target', 'e2e');
// The simulator is the page's second view (tab); #simulator opens it.
const PAGE = '/www/index.html#simulator';
const WAIT_MS = 60_000; // upper bound of every single wait
const OVERALL_MS = 5 * 60_000; // the whole run
const POS_TOL = 0.5; // canvas px


// ---------------------------------------------------------------------------------------------------------------
// Checks

let passed = 0;
let failed = 0;
const pageErrors = []; // uncaught errors and console errors of the page
function check(name, ok, detail = '') {
  if (ok) {
    passed += 1;
    console.log(`ok   ${name}`);
  } else {
    failed += 1;
    console.log(`FAIL ${name}${detail ? `\n     ${detail.replace(/\n/g, '\n     ')}` : ''}`);
  }
  return ok;
}

/** Drawn spots vs. a result: same count and order, hkl equal, canvas centre = toCanvas(x_px, y_px). */
function compareDrawn(snapshot) {
  const { drawn, spots, mapped } = snapshot;
  if (!Array.isArray(drawn) || !Array.isArray(spots)) return 'drawnSpots or lastResult.spots is not an array';
  if (drawn.length !== spots.length) return `${drawn.length} spots drawn but the result has ${spots.length}`;
  for (let i = 0; i < spots.length; i++) {
    const d = drawn[i];
    const s = spots[i];
    if (d.h !== s.h || d.k !== s.k || d.l !== s.l) {
      return `spot ${i}: drawn (${d.h} ${d.k} ${d.l}) but the result has (${s.h} ${s.k} ${s.l})`;
    }
    const [ex, ey] = mapped[i];
    const err = Math.hypot(d.cx - ex, d.cy - ey);
    if (!(err <= POS_TOL)) {
      return `spot ${i} (${s.h} ${s.k} ${s.l}): drawn at (${d.cx.toFixed(2)}, ${d.cy.toFixed(2)}), `
        + `expected (${ex.toFixed(2)}, ${ey.toFixed(2)}) from x_px=${s.x_px}, y_px=${s.y_px}`;
    }
  }
  return null;
}

/** Two spot lists are equal: same hkl in the same order, positions within 1e-6 px, energies within 1e-9 keV. */
function compareResults(a, b) {
  if (a.length !== b.length) return `${a.length} vs ${b.length} spots`;
  for (let i = 0; i < a.length; i++) {
    const p = a[i];
    const q = b[i];
    if (p.h !== q.h || p.k !== q.k || p.l !== q.l) return `spot ${i}: (${p.h} ${p.k} ${p.l}) vs (${q.h} ${q.k} ${q.l})`;
    if (Math.abs(p.x_px - q.x_px) > 1e-6 || Math.abs(p.y_px - q.y_px) > 1e-6) {
      return `spot ${i} (${p.h} ${p.k} ${p.l}): (${p.x_px}, ${p.y_px}) vs (${q.x_px}, ${q.y_px})`;
    }
    if (Math.abs(p.energy_kev - q.energy_kev) > 1e-9) return `spot ${i}: energy ${p.energy_kev} vs ${q.energy_kev}`;
  }
  return null;
}

/** Everything the checks need, read in one go so that the page cannot redraw in between. */
function snapshot(page) {
  return page.evaluate(() => {
    const lk = window.lauekit;
    const spots = lk.lastResult ? Array.from(lk.lastResult.spots) : null;
    return {
      frame: lk.frame,
      request: JSON.parse(JSON.stringify(lk.lastRequest)),
      spots: spots && spots.map((s) => ({ ...s })),
      drawn: lk.drawnSpots.map(({ h, k, l, cx, cy }) => ({ h, k, l, cx, cy })),
      mapped: spots ? spots.map((s) => Array.from(lk.toCanvas(s.x_px, s.y_px))) : [],
      error: document.getElementById('error').hidden ? '' : document.getElementById('error').textContent,
      status: document.getElementById('status').textContent,
    };
  });
}

/** Calls the wasm `simulate` directly (same module instance as the page's) with the page's last request. */
function directSimulate(page) {
  return page.evaluate(async () => {
    const mod = await import('/pkg/lauekit.js');
    await mod.default(); // already initialised by the page: returns the same instance
    const res = mod.simulate(window.lauekit.lastRequest);
    return Array.from(res.spots).map((s) => ({ ...s }));
  });
}

async function waitForFrameAfter(page, frame) {
  await page.waitForFunction((f) => window.lauekit.frame > f, frame, { timeout: WAIT_MS, polling: 50 });
}

/** Sets an input's value and dispatches `input` as a user edit would. */
async function setInput(page, id, value) {
  await page.evaluate(([i, v]) => {
    const el = document.getElementById(i);
    el.value = String(v);
    el.dispatchEvent(new Event('input', { bubbles: true }));
  }, [id, value]);
}

// ---------------------------------------------------------------------------------------------------------------

async function main() {
  await fs.mkdir(OUT_DIR, { recursive: true });
  try {
    await fs.access(path.join(PKG_DIR, 'lauekit.js'));
  } catch {
    throw new Error(`${path.join(PKG_DIR, 'lauekit.js')} not found: build the wasm package into pkg/ first`);
  }

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
        '--disable-component-update', '--disable-sync', '--enable-unsafe-webgpu'],
    });
    page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    page.setDefaultTimeout(WAIT_MS);
    page.on('pageerror', (err) => pageErrors.push(`uncaught: ${err.message}`));
    page.on('console', (msg) => {
      if (msg.type() === 'error') pageErrors.push(`console.error: ${msg.text()}`);
    });
    page.on('requestfailed', (req) => { if (!benignAbort(req)) pageErrors.push(`request failed: ${req.url()} ${req.failure()?.errorText ?? ''}`); });

    // 1. The page starts and draws the default crystal.
    await page.goto(base + PAGE, { waitUntil: 'load', timeout: WAIT_MS });
    await page.waitForFunction(() => Boolean(window.lauekit && window.lauekit.ready), null, { timeout: WAIT_MS });
    const ready = await page.evaluate((ms) => Promise.race([
      window.lauekit.ready.then(() => 'ok', (e) => `rejected: ${e && e.message}`),
      new Promise((r) => setTimeout(() => r(`not ready after ${ms} ms`), ms)),
    ]), WAIT_MS);
    if (ready !== 'ok') {
      const err = await page.evaluate(() => document.getElementById('error').textContent);
      throw new Error(`page did not start: ${ready}\nmessage on the page: ${err || '(none)'}`);
    }
    check('page is ready (wasm loaded, first pattern drawn)', true);
    const material = await page.$eval('#material', (el) => el.value);
    check('default material is Cu', material === 'Cu', `material select shows "${material}"`);

    const before = await snapshot(page);
    check('no error message shown at start', before.error === '', before.error);
    check('more than 20 spots for the default Cu crystal', before.spots && before.spots.length > 20,
      `${before.spots && before.spots.length} spots`);
    const d1 = compareDrawn(before);
    check('drawn spots = wasm result mapped through toCanvas (±0.5 px)', d1 === null, d1 ?? '');
    const direct1 = await directSimulate(page);
    const r1 = compareResults(direct1, before.spots);
    check('direct wasm simulate(lastRequest) reproduces lastResult', r1 === null, r1 ?? '');
    check('status line shows the spot count', before.status.includes(`${before.spots.length} spots`), before.status);
    await page.screenshot({ path: path.join(OUT_DIR, 'simulator-before.png') });

    // 2. Turning the crystal with the rot-z slider redraws a different pattern, still equal to the wasm result.
    await setInput(page, 'rot-z', 30);
    await waitForFrameAfter(page, before.frame);
    const after = await snapshot(page);
    check('slider moved the crystal (lastRequest.ub changed)',
      JSON.stringify(after.request.ub) !== JSON.stringify(before.request.ub));
    const moved = after.drawn.length !== before.drawn.length || after.drawn.some((d, i) => {
      const b = before.drawn[i];
      return d.h !== b.h || d.k !== b.k || d.l !== b.l || Math.hypot(d.cx - b.cx, d.cy - b.cy) > POS_TOL;
    });
    check('spot list changed after rot-z = 30°', moved, `${after.drawn.length} spots, same positions as before`);
    check('still more than 20 spots after the rotation', after.spots && after.spots.length > 20,
      `${after.spots && after.spots.length} spots`);
    const d2 = compareDrawn(after);
    check('after rotation: drawn spots = wasm result mapped through toCanvas', d2 === null, d2 ?? '');
    const direct2 = await directSimulate(page);
    const r2 = compareResults(direct2, after.spots);
    check('after rotation: direct wasm simulate(lastRequest) = lastResult', r2 === null, r2 ?? '');
    // Hovering a drawn spot shows its indices.
    const box = await page.locator('#pattern').boundingBox();
    // Prefer a place where harmonics (n·h n·k n·l) share a pixel: the tooltip must list them all.
    const together = (d) => after.drawn.filter((o) => Math.hypot(o.cx - d.cx, o.cy - d.cy) < 0.75);
    const target = after.drawn.find((d) => together(d).length > 1) ?? after.drawn[Math.floor(after.drawn.length / 2)];
    await page.mouse.move(box.x + target.cx, box.y + target.cy);
    await page.waitForFunction(() => !document.getElementById('tooltip').hidden, null, { timeout: WAIT_MS });
    const tip = await page.$eval('#tooltip', (el) => el.textContent);
    const hovered = await page.evaluate(() => {
      const lk = window.lauekit;
      return lk.drawnSpots.map(({ h, k, l, cx, cy }) => ({ h, k, l, cx, cy }));
    });
    const nearest = hovered.reduce((best, d) => (Math.hypot(d.cx - target.cx, d.cy - target.cy)
      < Math.hypot(best.cx - target.cx, best.cy - target.cy) ? d : best), hovered[0]);
    check('hover shows a tooltip with h k l and energy',
      tip.includes(`(${nearest.h} ${nearest.k} ${nearest.l})`) && /keV/.test(tip) && /harmonic/.test(tip), tip);
    const missing = together(target).filter((d) => !tip.includes(`(${d.h} ${d.k} ${d.l})`));
    check('tooltip lists every spot at that place (harmonics)', missing.length === 0,
      `${tip}\nmissing: ${missing.map((d) => `(${d.h} ${d.k} ${d.l})`).join(' ')}`);
    await page.screenshot({ path: path.join(OUT_DIR, 'simulator-after.png') });

    // Dragging on the canvas turns the crystal (rotate_ub about lab z for a horizontal drag).
    const f3 = await page.evaluate(() => window.lauekit.frame);
    await page.mouse.move(box.x + 40, box.y + box.height / 2);
    await page.mouse.down();
    await page.mouse.move(box.x + 100, box.y + box.height / 2, { steps: 4 });
    await page.mouse.up();
    await waitForFrameAfter(page, f3);
    const dragged = await snapshot(page);
    check('dragging on the canvas changes the orientation',
      JSON.stringify(dragged.request.ub) !== JSON.stringify(after.request.ub) && compareDrawn(dragged) === null);
    await page.click('#reset');
    await page.waitForFunction(() => document.getElementById('rot-z').value === '0', null, { timeout: WAIT_MS });
    await page.waitForFunction((ub) => JSON.stringify(window.lauekit.lastRequest.ub) === ub,
      JSON.stringify(before.request.ub), { timeout: WAIT_MS });
    check('reset returns to the base orientation', true);

    // 3. The angles view draws the same spots at their (χ, 2θ).
    await page.check('input[name=view][value=angles]');
    const angles = await snapshot(page);
    const d3 = compareDrawn(angles);
    check('angles view: drawn spots = result mapped through toCanvas', d3 === null, d3 ?? '');
    await page.screenshot({ path: path.join(OUT_DIR, 'simulator-angles.png') });
    await page.check('input[name=view][value=pixels]');

    // 4. A bad lattice shows a visible message, and the page recovers.
    await page.selectOption('#material', '__custom__');
    const f4 = await page.evaluate(() => window.lauekit.frame);
    await setInput(page, 'lat-a', -1);
    await waitForFrameAfter(page, f4);
    // (selecting "custom" may itself render a frame first: wait for the bad lattice's own outcome)
    await page.waitForFunction(() => !document.getElementById('error').hidden, null, { timeout: WAIT_MS, polling: 50 })
      .catch(() => {});
    const bad = await snapshot(page);
    check('bad lattice input: visible error message', bad.error.length > 0 && /lattice|a \(Å\)/i.test(bad.error), bad.error || '(none)');
    const f5 = await page.evaluate(() => window.lauekit.frame);
    await setInput(page, 'lat-a', 3.6149);
    await waitForFrameAfter(page, f5);
    const fixed = await snapshot(page);
    check('error clears once the input is fixed', fixed.error === '' && fixed.spots && fixed.spots.length > 20,
      fixed.error || `${fixed.spots && fixed.spots.length} spots`);

    // 5. A malformed .det file chosen in the file input is reported, not fatal.
    await page.setInputFiles('#det-file', {
      name: 'broken.det', mimeType: 'text/plain', buffer: Buffer.from('this is not a calibration file\n'),
    });
    await page.waitForFunction(() => !document.getElementById('error').hidden, null, { timeout: WAIT_MS })
      .catch(() => {});
    const badDet = await snapshot(page);
    check('malformed .det: visible error naming the file', badDet.error.includes('broken.det'), badDet.error || '(none)');

    // 6. The bundled .det example fills the calibration and uses Ge.
    const f6 = await page.evaluate(() => window.lauekit.frame);
    await page.click('#load-example');
    await waitForFrameAfter(page, f6);
    const det = await page.evaluate(() => Object.fromEntries(
      ['dd', 'xcen', 'ycen', 'xbet', 'xgam', 'pixel', 'rows', 'cols', 'material']
        .map((id) => [id, document.getElementById(id).value]),
    ));
    const expected = { dd: 70.775, xcen: 941.74, ycen: 1082.56, xbet: 0.63, xgam: -0.682, pixel: 0.079142, rows: 2048, cols: 2048 };
    const wrong = Object.entries(expected).filter(([k, v]) => Math.abs(Number(det[k]) - v) > 1e-9);
    check('example .det: calibration fields hold the file values (dd 70.775 …)', wrong.length === 0,
      wrong.map(([k, v]) => `${k} = ${det[k]}, expected ${v}`).join('; '));
    check('example .det: material Ge selected', det.material === 'Ge', `material = ${det.material}`);
    const detSnap = await snapshot(page);
    check('example .det: no error, spots drawn', detSnap.error === '' && detSnap.spots && detSnap.spots.length > 0,
      detSnap.error || `${detSnap.spots && detSnap.spots.length} spots`);
    check('example .det: request uses the file calibration',
      Math.abs(detSnap.request.calibration.distance_mm - 70.775) < 1e-9 && detSnap.request.material === 'Ge');
    const d5 = compareDrawn(detSnap);
    check('example .det: drawn spots = wasm result', d5 === null, d5 ?? '');
    await page.evaluate(() => window.scrollTo(0, 0));
    await page.screenshot({ path: path.join(OUT_DIR, 'simulator-ge-det.png') });

    // 7. Nothing uncaught on the way.
    check('no uncaught errors or console errors in the page', pageErrors.length === 0, pageErrors.join('\n'));
  } catch (e) {
    if (page) {
      const shot = path.join(OUT_DIR, 'simulator-failure.png');
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
