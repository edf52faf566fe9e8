// End-to-end test of the Simulator from the keyboard alone (issue 16 item 5), in headless Chromium: from the start of
// the page, Tab to the tab list, → to the Simulator, Tab through its controls (every focused control shows a focus
// ring), change the material (arrow key on the select) and an Euler angle (typed, then ↑) — each change redraws a
// different pattern (`window.lauekit`: the request simulated and the spots drawn). Then the axes of the scan maps
// (issue 16 item 4): the example scan run and clustered, the scan map and the cluster label map carry ix / iy tick
// labels and, the example having a step, the positions in µm (`canvas.ticks`).
//
//   node tests/e2e/keyboard-sim.e2e.mjs          (needs pkg/ and npm ci)

import { chromium } from 'playwright-core';
import { startServer } from './server.mjs';

const PAGE = '/www/index.html';
const WAIT_MS = 120_000;
const OVERALL_MS = 10 * 60_000;

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

/** The focused element: its id (or tag) and whether it shows a focus ring (an outline or a box shadow). */
function focused(page) {
  return page.evaluate(() => {
    const el = document.activeElement;
    if (!el || el === document.body) return { id: '', ring: false, style: null };
    const cs = getComputedStyle(el);
    const outline = cs.outlineStyle !== 'none' && parseFloat(cs.outlineWidth) > 0;
    const shadow = cs.boxShadow && cs.boxShadow !== 'none';
    return { id: el.id || el.tagName.toLowerCase(), ring: Boolean(outline || shadow),
      style: { outline: `${cs.outlineStyle} ${cs.outlineWidth}`, shadow: cs.boxShadow } };
  });
}

/** Presses Tab until `selector` has the focus (at most `max` times); every element passed through, with its ring. */
async function tabTo(page, selector, max = 300) {
  const seen = [];
  for (let k = 0; k < max; k++) {
    if (await page.evaluate((s) => document.activeElement?.matches(s) ?? false, selector)) return { ok: true, seen };
    await page.keyboard.press('Tab');
    seen.push(await focused(page));
  }
  return { ok: false, seen };
}

/** What the Simulator drew last: frame, material, Euler angles, number of spots, a digest of their positions. */
function pattern(page) {
  return page.evaluate(() => {
    const lk = window.lauekit;
    const spots = lk.drawnSpots ?? [];
    const r = lk.lastRequest ?? {};
    return { frame: lk.frame, material: r.material ?? null, euler: r.euler_deg ?? r.euler ?? null, n: spots.length,
      digest: JSON.stringify(spots.slice(0, 12)) };
  });
}

async function main() {
  const timer = setTimeout(() => {
    console.log('FAIL keyboard-sim e2e: overall timeout');
    console.log(`e2e: ${passed} passed, ${failed + 1} failed`);
    process.exit(1);
  }, OVERALL_MS);
  timer.unref();
  const server = await startServer();
  const base = `http://127.0.0.1:${server.address().port}`;
  let browser;
  try {
    browser = await chromium.launch({
      executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
      headless: true,
      timeout: WAIT_MS,
      args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
        '--disable-component-update', '--disable-sync'],
    });
    const page = await (await browser.newContext({ viewport: { width: 1280, height: 900 } })).newPage();
    page.setDefaultTimeout(WAIT_MS);
    page.on('pageerror', (err) => pageErrors.push(`uncaught: ${err.message}`));
    page.on('console', (msg) => {
      if (msg.type() === 'error') pageErrors.push(`console.error: ${msg.text()}`);
    });
    await page.goto(base + PAGE, { waitUntil: 'load' });
    await page.waitForFunction(() => Boolean(window.lauekit?.ready && window.lauekitPeaks?.ready));
    await page.evaluate(() => Promise.all([window.lauekit.ready, window.lauekitPeaks.ready]));
    await page.waitForFunction(() => window.lauekit.frame > 0);

    // 1. The tab list, then → to the Simulator.
    let walk = await tabTo(page, '[role="tab"][aria-selected="true"]');
    check('Tab from the start of the page reaches the selected view tab', walk.ok, walk.seen.slice(0, 12).map((s) => s.id).join(' → '));
    check('every element focused on the way shows a focus ring', walk.seen.every((s) => s.ring),
      JSON.stringify(walk.seen.filter((s) => !s.ring).slice(0, 5)));
    await page.keyboard.press('ArrowRight');
    const tab = await page.evaluate(() => ({ focus: document.activeElement?.id,
      shown: !document.getElementById('view-simulator').hidden }));
    check('→ on the tab list moves to the Simulator tab and shows it', tab.focus === 'tab-simulator' && tab.shown,
      JSON.stringify(tab));
    check('the focused tab shows a focus ring', (await focused(page)).ring, JSON.stringify(await focused(page)));

    // 2. Tab into the Simulator's controls: the material select.
    walk = await tabTo(page, '#material', 60);
    check('Tab from the Simulator tab reaches the material select', walk.ok, walk.seen.map((s) => s.id).join(' → '));
    check('every Simulator control focused on the way shows a focus ring', walk.seen.every((s) => s.ring),
      JSON.stringify(walk.seen.filter((s) => !s.ring).slice(0, 5)));
    const p0 = await pattern(page);
    const m0 = await page.$eval('#material', (el) => /** @type {HTMLSelectElement} */ (el).value);
    await page.keyboard.press('ArrowDown');
    await page.waitForFunction((f) => window.lauekit.frame > f, p0.frame);
    await page.waitForTimeout(200);
    const p1 = await pattern(page);
    const m1 = await page.$eval('#material', (el) => /** @type {HTMLSelectElement} */ (el).value);
    check(`↓ on the material select changes the material (${m0} → ${m1}) and the pattern`,
      m1 !== m0 && p1.material === m1 && (p1.n !== p0.n || p1.digest !== p0.digest),
      JSON.stringify({ m0, m1, p0: { ...p0, digest: undefined }, p1: { ...p1, digest: undefined } }));

    // 3. On to Euler 1: type an angle, then ↑.
    walk = await tabTo(page, '#euler-1', 40);
    check('Tab reaches Euler 1, every control on the way with a focus ring', walk.ok && walk.seen.every((s) => s.ring),
      JSON.stringify(walk.seen.map((s) => `${s.id}${s.ring ? '' : ' (no ring)'}`)));
    check('Euler 1 shows a focus ring', (await focused(page)).ring, JSON.stringify(await focused(page)));
    const e0 = await page.$eval('#euler-1', (el) => /** @type {HTMLInputElement} */ (el).value);
    await page.keyboard.press('Control+A');
    await page.keyboard.type('30');
    await page.waitForFunction((f) => window.lauekit.frame > f, p1.frame);
    await page.waitForTimeout(300);
    const p2 = await pattern(page);
    check(`typing 30 into Euler 1 (was ${e0}) changes the pattern`,
      (await page.$eval('#euler-1', (el) => /** @type {HTMLInputElement} */ (el).value)) === '30'
      && (p2.n !== p1.n || p2.digest !== p1.digest), JSON.stringify({ p1: p1.n, p2: p2.n, euler: p2.euler }));
    await page.keyboard.press('ArrowUp');
    await page.waitForFunction((f) => window.lauekit.frame > f, p2.frame);
    await page.waitForTimeout(300);
    const p3 = await pattern(page);
    check('↑ on Euler 1 steps it to 31 and changes the pattern',
      (await page.$eval('#euler-1', (el) => /** @type {HTMLInputElement} */ (el).value)) === '31' && p3.digest !== p2.digest,
      JSON.stringify({ n2: p2.n, n3: p3.n, euler: p3.euler }));

    // 4. Tab on through the rest of the Simulator's controls: each with a focus ring.
    const rest = [];
    for (let k = 0; k < 30; k++) {
      await page.keyboard.press('Tab');
      const f = await focused(page);
      const inSim = await page.evaluate(() => document.getElementById('view-simulator').contains(document.activeElement));
      if (!inSim) break;
      rest.push(f);
    }
    check(`the next ${rest.length} Simulator controls each show a focus ring`, rest.length > 5 && rest.every((s) => s.ring),
      JSON.stringify(rest.map((s) => `${s.id}${s.ring ? '' : ' (no ring)'}`)));

    // 5. Axes of the scan map and the cluster label map: the example scan, run and clustered.
    await page.click('#tab-scan');
    await page.waitForFunction(() => Boolean(window.lauekitScan?.ready && window.lauekitCluster?.ready));
    await page.evaluate(() => Promise.all([window.lauekitScan.ready, window.lauekitCluster.ready]));
    await page.click('#scan-load-example');
    await page.waitForFunction(() => window.lauekitScan.state.source?.kind === 'synthetic');
    const runs = await page.evaluate(() => window.lauekitScan.runs.length);
    await page.click('#scan-run');
    await page.waitForFunction((n) => window.lauekitScan.runs.length > n, runs, { timeout: 5 * 60_000 });
    await page.waitForFunction(() => window.lauekitScan.drawn !== null);
    const scanAxes = await page.evaluate(() => {
      const c = document.getElementById('scan-map-canvas');
      return { ticks: c.ticks, titles: c.axisTitles, drawn: window.lauekitScan.drawn,
        step: [document.getElementById('scan-step-x').value, document.getElementById('scan-step-y').value] };
    });
    const t = scanAxes.ticks ?? {};
    check('scan map: ix tick labels along the top (from 0, round steps) and iy along the left',
      t.x?.[0] === '0' && t.x.length >= 3 && t.y?.[0] === '0' && t.y.length >= 3
      && t.x.every((v) => /^\d+$/.test(v) && Number(v) < scanAxes.drawn.nx), JSON.stringify(scanAxes));
    check(`scan map: positions in µm (step ${scanAxes.step.join(' × ')} µm) on the second axes`,
      t.x2?.length >= 2 && t.y2?.length >= 2 && scanAxes.titles?.x2 === 'x (µm)' && scanAxes.titles?.y2 === 'y (µm)',
      JSON.stringify(scanAxes));
    const legend = await page.evaluate(() => document.getElementById('scan-palette')?.value);
    check('categorical maps default to the colour-blind-safe palette', legend === 'cvd', String(legend));

    const nr = await page.evaluate(() => window.lauekitCluster.reclusters.length);
    await page.click('#cluster-run');
    await page.waitForFunction((n) => window.lauekitCluster.reclusters.length > n
      || !document.getElementById('cluster-error').hidden, nr, { timeout: 5 * 60_000 });
    const clusterAxes = await page.evaluate(() => {
      const c = document.getElementById('cluster-map-canvas');
      return { ticks: c.ticks, titles: c.axisTitles, drawn: window.lauekitCluster.drawn,
        error: document.getElementById('cluster-error').hidden ? '' : document.getElementById('cluster-error').textContent };
    });
    const u = clusterAxes.ticks ?? {};
    check('cluster label map: ix and iy tick labels, and x, y in µm',
      !clusterAxes.error && u.x?.[0] === '0' && u.x.length >= 3 && u.y?.[0] === '0' && u.y.length >= 3
      && u.x2?.length >= 2 && u.y2?.length >= 2, JSON.stringify(clusterAxes));
    check('no page error or console error', pageErrors.length === 0, pageErrors.join('\n'));
  } catch (e) {
    check('keyboard-sim e2e ran to the end', false, e && e.stack ? e.stack : e);
  } finally {
    if (browser) await browser.close();
    server.close();
  }
  console.log(`e2e: ${passed} passed, ${failed} failed`);
  process.exit(failed ? 1 : 0);
}

main();
