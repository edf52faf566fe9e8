// End-to-end accessibility test of the page (issue 16 item 5), in headless Chromium:
// 1. axe-core (npm, pinned) run inside the page on each view and state — no serious or critical violation;
// 2. a keyboard-only walk: the tab list (Tab, ←/→), the example, the peak search and the indexing from the keyboard,
//    a visible focus ring, and no setting that changes when the focus only passes through it;
// 3. a 400-px-wide window: no horizontal scrolling, screenshots of every view in target/e2e/ (looked at by hand);
//    with touch: the hkl labels of the indexed example do not overlap, a two-finger pinch zooms, one finger pans.
// The zoom buttons beside the image (+, −, Fit) are walked with the keyboard in 2.
//
//   node tests/e2e/a11y.e2e.mjs          (needs pkg/ and npm ci)

import fs from 'node:fs/promises';
import path from 'node:path';
import { createRequire } from 'node:module';
import { chromium } from 'playwright-core';
import { ROOT, startServer } from './server.mjs';

const OUT_DIR = path.resolve(process.env.LAUEKIT_E2E_OUT || path.join(ROOT, 'target', 'e2e'));
const PAGE = '/www/index.html';
const WAIT_MS = 120_000;
const OVERALL_MS = 8 * 60_000;
const AXE = createRequire(import.meta.url).resolve('axe-core/axe.min.js');

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

/** axe-core's serious and critical violations of the page as it is now. */
async function axeProblems(page) {
  if (!(await page.evaluate(() => typeof window.axe === 'object'))) {
    await page.addScriptTag({ content: await fs.readFile(AXE, 'utf8') });
  }
  const violations = await page.evaluate(async () => (await window.axe.run(document, { resultTypes: ['violations'] }))
    .violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.slice(0, 3).map((n) => n.target.join(' ')) })));
  return violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
}

async function launch() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    headless: true,
    timeout: WAIT_MS,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync'],
  });
}

async function openPage(browser, base, viewport, options = {}) {
  const page = await (await browser.newContext({ viewport, ...options })).newPage();
  page.setDefaultTimeout(WAIT_MS);
  page.on('pageerror', (err) => pageErrors.push(`uncaught: ${err.message}`));
  page.on('console', (msg) => {
    if (msg.type() === 'error') pageErrors.push(`console.error: ${msg.text()}`);
  });
  await page.goto(base + PAGE, { waitUntil: 'load' });
  await page.waitForFunction(() => Boolean(window.lauekitPeaks && window.lauekitPeaks.ready));
  await page.evaluate(() => window.lauekitPeaks.ready);
  return page;
}

/** Presses Tab until the element `selector` has the focus (at most `max` times); the ids passed through. */
async function tabTo(page, selector, max = 400) {
  const seen = [];
  for (let k = 0; k < max; k++) {
    if (await page.evaluate((s) => document.activeElement?.matches(s) ?? false, selector)) return { ok: true, seen };
    await page.keyboard.press('Tab');
    seen.push(await page.evaluate(() => document.activeElement?.id || document.activeElement?.tagName || ''));
  }
  return { ok: false, seen };
}

async function main() {
  await fs.mkdir(OUT_DIR, { recursive: true });
  const server = await startServer();
  const base = `http://127.0.0.1:${server.address().port}`;
  let browser;
  const watchdog = setTimeout(() => {
    console.log(`FAIL a11y e2e still running after ${OVERALL_MS / 1000} s`);
    console.log(`e2e: ${passed} passed, ${failed + 1} failed`);
    process.exit(1);
  }, OVERALL_MS);
  watchdog.unref();
  try {
    browser = await launch();

    // 1. axe-core on every view and state.
    const page = await openPage(browser, base, { width: 1400, height: 1000 });
    let problems = await axeProblems(page);
    check('axe: Images & peaks, empty — no serious/critical violation', problems.length === 0, JSON.stringify(problems));
    await page.click('#load-example-image');
    await page.waitForFunction(() => window.lauekitPeaks.current());
    await page.click('#run-search');
    await page.waitForFunction(() => window.lauekitPeaks.searches >= 1);
    await page.click('#run-index');
    await page.waitForFunction(() => window.lauekitPeaks.indexRuns >= 1);
    problems = await axeProblems(page);
    check('axe: Images & peaks with peaks and a grain — none', problems.length === 0, JSON.stringify(problems));
    await page.click('#tab-simulator');
    problems = await axeProblems(page);
    check('axe: Simulator — none', problems.length === 0, JSON.stringify(problems));
    await page.click('#tab-scan');
    problems = await axeProblems(page);
    check('axe: Scan — none', problems.length === 0, JSON.stringify(problems));

    // 2. Keyboard only, on a fresh page.
    const kb = await openPage(browser, base, { width: 1400, height: 1000 });
    await kb.evaluate(() => document.activeElement?.blur());
    let walk = await tabTo(kb, '#tab-peaks');
    check('Tab reaches the selected view tab', walk.ok, walk.seen.slice(0, 12).join(' → '));
    await kb.keyboard.press('ArrowRight');
    const afterArrow = await kb.evaluate(() => ({ focus: document.activeElement?.id,
      shown: !document.getElementById('view-simulator').hidden }));
    check('→ on the tab list moves to the Simulator tab and shows it', afterArrow.focus === 'tab-simulator' && afterArrow.shown,
      JSON.stringify(afterArrow));
    const ring = await kb.evaluate(() => {
      const cs = getComputedStyle(document.activeElement);
      return { style: cs.outlineStyle, width: cs.outlineWidth, shadow: cs.boxShadow };
    });
    check('the focused tab shows a focus ring', (ring.style !== 'none' && ring.width !== '0px') || ring.shadow !== 'none',
      JSON.stringify(ring));
    await kb.keyboard.press('ArrowLeft');
    walk = await tabTo(kb, '#load-example-image');
    check('Tab reaches "Load example"', walk.ok, walk.seen.slice(-8).join(' → '));
    await kb.keyboard.press('Enter');
    await kb.waitForFunction(() => window.lauekitPeaks.current());
    check('Enter on "Load example" opens it', true);
    const limitsBefore = await kb.evaluate(() => document.getElementById('disp-limits').value);
    walk = await tabTo(kb, '#disp-hi');
    const limitsAfter = await kb.evaluate(() => document.getElementById('disp-limits').value);
    check('tabbing through the display limits does not switch their mode', walk.ok && limitsAfter === limitsBefore,
      `${limitsBefore} → ${limitsAfter}`);
    walk = await tabTo(kb, '#run-search');
    check('Tab reaches "Find peaks"', walk.ok);
    await kb.keyboard.press('Enter');
    await kb.waitForFunction(() => window.lauekitPeaks.searches >= 1);
    const n = await kb.evaluate(() => window.lauekitPeaks.current().search.peaks.length);
    check('Enter on "Find peaks": the example\'s 97 peaks', n === 97, `${n}`);
    walk = await tabTo(kb, '#run-index');
    check('Tab reaches "Index"', walk.ok);
    await kb.keyboard.press('Enter');
    await kb.waitForFunction(() => window.lauekitPeaks.indexRuns >= 1);
    const g = await kb.evaluate(() => window.lauekitPeaks.current().index.result.grains.map((x) => x.material).join());
    check('Enter on "Index": a Ge grain', g === 'Ge', g);
    // The zoom buttons beside the image, from the keyboard.
    const scale = () => kb.evaluate(() => window.lauekitPeaks.view.scale);
    const fitScale = await scale();
    const names = await kb.evaluate(() => ['zoom-in', 'zoom-out', 'disp-fit'].map((id) => {
      const b = document.getElementById(id);
      return b && b.tagName === 'BUTTON' && !b.closest('[hidden]') ? b.getAttribute('aria-label') : null;
    }));
    check('zoom buttons +, −, Fit beside the image, each with an aria-label', names.every(Boolean), JSON.stringify(names));
    walk = await tabTo(kb, '#zoom-in');
    check('Tab reaches the zoom-in button', walk.ok, walk.seen.slice(-8).join(' → '));
    await kb.keyboard.press('Enter');
    const zIn = await scale();
    await kb.keyboard.press('Enter');
    const zIn2 = await scale();
    check('Enter on + zooms in (view.scale grows)', zIn > fitScale * 1.2 && zIn2 > zIn * 1.2, `${fitScale} → ${zIn} → ${zIn2}`);
    walk = await tabTo(kb, '#zoom-out', 5);
    await kb.keyboard.press('Enter');
    const zOut = await scale();
    check('Tab, Enter on − zooms out (view.scale shrinks)', walk.ok && zOut < zIn2 / 1.2, `${zIn2} → ${zOut}`);
    walk = await tabTo(kb, '#disp-fit', 5);
    await kb.keyboard.press('Space');
    const zFit = await scale();
    check('Tab, Space on Fit restores the fitted scale', walk.ok && Math.abs(zFit - fitScale) < 1e-9 * fitScale,
      `${zOut} → ${zFit} (fit ${fitScale})`);

    const unlabeled = await kb.evaluate(() => Array.from(document.querySelectorAll('input, select, textarea'))
      .filter((el) => el.type !== 'hidden' && !el.closest('[hidden]'))
      .filter((el) => !(el.labels?.length || el.getAttribute('aria-label') || el.getAttribute('aria-labelledby') || el.title))
      .map((el) => el.id || el.name || el.outerHTML.slice(0, 60)));
    check('every visible input has a label', unlabeled.length === 0, unlabeled.join(', '));

    // 3. 400 px wide.
    const narrow = await openPage(browser, base, { width: 400, height: 800 }, { hasTouch: true });
    await narrow.click('#load-example-image');
    await narrow.waitForFunction(() => window.lauekitPeaks.current());
    await narrow.click('#run-search');
    await narrow.waitForFunction(() => window.lauekitPeaks.searches >= 1);
    await narrow.click('#run-index');
    await narrow.waitForFunction(() => window.lauekitPeaks.indexRuns >= 1);
    await narrow.waitForFunction(() => window.lauekitPeaks.view.drawnLabels.length > 0);
    const lab = await narrow.evaluate(() => {
      const v = window.lauekitPeaks.view;
      const boxes = v.drawnLabels;
      const overlaps = [];
      for (let i = 0; i < boxes.length; i++) {
        for (let j = i + 1; j < boxes.length; j++) {
          const a = boxes[i];
          const b = boxes[j];
          if (a.x < b.x + b.w && b.x < a.x + a.w && a.y < b.y + b.h && b.y < a.y + a.h) overlaps.push([a, b]);
        }
      }
      return { drawn: boxes.length, hidden: v.labelsHidden, spots: v.drawnGrainSpots, width: v.cssW,
        overlaps: overlaps.slice(0, 3) };
    });
    check('400 px, indexed example: no two hkl labels overlap', lab.drawn > 0 && lab.overlaps.length === 0,
      JSON.stringify(lab));
    check('400 px: most hkl labels still drawn (> 50 %; 95 spots on a 343-px image)',
      lab.drawn > 0.5 * (lab.drawn + lab.hidden), JSON.stringify(lab));
    await narrow.uncheck('#show-hkl');
    await narrow.waitForFunction(() => window.lauekitPeaks.view.drawnLabels.length === 0);
    await narrow.check('#show-hkl');
    await narrow.waitForFunction(() => window.lauekitPeaks.view.drawnLabels.length > 0);
    check('the hkl-label toggle still hides and shows the labels', true);

    // Touch (CDP touch events → Pointer Events): two fingers spread apart zoom in about their midpoint; one pans.
    await narrow.evaluate(() => document.getElementById('image-canvas').scrollIntoView({ block: 'center' }));
    const box = await narrow.evaluate(() => {
      const r = document.getElementById('image-canvas').getBoundingClientRect();
      return { x: r.left + r.width / 2, y: r.top + r.height / 2 };
    });
    const cdp = await narrow.context().newCDPSession(narrow);
    const touch = (type, pts) => cdp.send('Input.dispatchTouchEvent', { type,
      touchPoints: pts.map(([x, y], id) => ({ x: box.x + x, y: box.y + y, id })) });
    const before = await narrow.evaluate(() => ({ s: window.lauekitPeaks.view.scale,
      mid: window.lauekitPeaks.view.toImage(window.lauekitPeaks.view.cssW / 2, window.lauekitPeaks.view.cssH / 2) }));
    await touch('touchStart', [[-30, 0], [30, 0]]);
    for (const d of [45, 60, 75, 90]) await touch('touchMove', [[-d, 0], [d, 0]]);
    await touch('touchEnd', []);
    const after = await narrow.evaluate(() => ({ s: window.lauekitPeaks.view.scale, pinches: window.lauekitPeaks.view.pinches,
      mid: window.lauekitPeaks.view.toImage(window.lauekitPeaks.view.cssW / 2, window.lauekitPeaks.view.cssH / 2) }));
    const ratio = after.s / before.s;
    check('two-finger pinch (60 → 180 px apart) zooms in ×3 about the fingers\' midpoint',
      after.pinches === 1 && Math.abs(ratio - 3) < 0.05 && Math.hypot(after.mid[0] - before.mid[0], after.mid[1] - before.mid[1]) < 2,
      JSON.stringify({ before, after, ratio }));
    const tx0 = await narrow.evaluate(() => [window.lauekitPeaks.view.tx, window.lauekitPeaks.view.ty]);
    await touch('touchStart', [[0, 0]]);
    for (const d of [10, 25, 40]) await touch('touchMove', [[d, d / 2]]);
    await touch('touchEnd', []);
    const tx1 = await narrow.evaluate(() => [window.lauekitPeaks.view.tx, window.lauekitPeaks.view.ty,
      window.lauekitPeaks.view.scale]);
    check('one-finger drag pans the image (scale unchanged)',
      Math.abs(tx1[0] - tx0[0] - 40) < 1.5 && Math.abs(tx1[1] - tx0[1] - 20) < 1.5 && tx1[2] === after.s,
      JSON.stringify({ tx0, tx1 }));
    await narrow.click('#disp-fit');
    const narrowFit = await narrow.evaluate(() => window.lauekitPeaks.view.scale);
    check('Fit after the pinch restores the fitted scale', Math.abs(narrowFit - before.s) < 1e-9 * before.s,
      `${narrowFit} vs ${before.s}`);
    for (const view of ['peaks', 'simulator', 'scan']) {
      await narrow.click(`#tab-${view}`);
      await narrow.waitForTimeout(300);
      const overflow = await narrow.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
      await narrow.screenshot({ path: path.join(OUT_DIR, `narrow-400-${view}.png`), fullPage: true });
      check(`400 px: ${view} view has no horizontal scrolling`, overflow <= 1, `${overflow} px too wide`);
    }
    check('no page error or console error', pageErrors.length === 0, pageErrors.join('\n'));
  } catch (e) {
    check('a11y e2e ran to the end', false, e && e.stack ? e.stack : e);
  } finally {
    if (browser) await browser.close();
    server.close();
  }
  console.log(`e2e: ${passed} passed, ${failed} failed`);
  process.exit(failed ? 1 : 0);
}

main();
