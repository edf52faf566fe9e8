// End-to-end test of the page's memory with many images open (issue 16 item 6): 250 dropped 2048² MarCCD images
// (symbolic links to the bundled example, so the test costs no disk) must add less than 500 MB to Chromium's
// resident memory (all its processes: page, workers, browser), sampled every 250 ms while they open; each image
// must still show when picked (decoded again from its file).
//
//   node tests/e2e/memory.e2e.mjs [N]          (default 250; needs pkg/ and npm ci)

import { execFileSync } from 'node:child_process';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { chromium } from 'playwright-core';
import { ROOT, startServer } from './server.mjs';

const N = Number(process.argv[2] || 250);
const LIMIT_MB = 500;
const WAIT_MS = 300_000;

let passed = 0;
let failed = 0;
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

/** Sum of the RSS (MB) of a process and all its descendants. */
function treeRssMb(rootPid) {
  const rows = execFileSync('ps', ['-eo', 'pid=,ppid=,rss=']).toString().trim().split('\n')
    .map((l) => l.trim().split(/\s+/).map(Number));
  const kids = new Map();
  for (const [pid, ppid] of rows) kids.set(ppid, [...(kids.get(ppid) ?? []), pid]);
  const rss = new Map(rows.map(([pid, , r]) => [pid, r]));
  let sum = 0;
  const stack = [rootPid];
  while (stack.length) {
    const p = stack.pop();
    sum += rss.get(p) ?? 0;
    stack.push(...(kids.get(p) ?? []));
  }
  return sum / 1024;
}

async function main() {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'lauekit-many-'));
  const example = path.join(ROOT, 'www', 'examples', 'Ge_blanc_0000.mccd');
  const files = [];
  for (let i = 0; i < N; i++) {
    const f = path.join(dir, `frame_${String(i).padStart(4, '0')}.mccd`);
    await fs.symlink(example, f);
    files.push(f);
  }
  const server = await startServer();
  const base = `http://127.0.0.1:${server.address().port}`;
  let browser;
  try {
    browser = await chromium.launch({
      executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
      headless: true,
      args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
        '--disable-component-update', '--disable-sync', `--lauekit-memory-test=${process.pid}`],
    });
    // The browser process: the oldest process carrying this run's marker flag (its children do not repeat it all).
    const rootPid = Number(execFileSync('pgrep', ['-o', '-f', `lauekit-memory-test=${process.pid}`]).toString().trim());
    if (!rootPid) throw new Error('no browser process id');
    const page = await browser.newPage();
    page.setDefaultTimeout(WAIT_MS);
    const errors = [];
    page.on('pageerror', (err) => errors.push(`uncaught: ${err.message}`));
    page.on('console', (msg) => { if (msg.type() === 'error') errors.push(`console.error: ${msg.text()}`); });
    await page.goto(`${base}/www/index.html`, { waitUntil: 'load' });
    await page.waitForFunction(() => Boolean(window.lauekitPeaks && window.lauekitPeaks.ready));
    await page.evaluate(() => window.lauekitPeaks.ready);
    await new Promise((r) => setTimeout(r, 1000));
    const before = treeRssMb(rootPid);
    let peak = before;
    const sampler = setInterval(() => { peak = Math.max(peak, treeRssMb(rootPid)); }, 250);
    const t0 = Date.now();
    await page.setInputFiles('#image-files', files);
    await page.waitForFunction((n) => window.lauekitPeaks.opened >= n, N);
    const openSeconds = (Date.now() - t0) / 1000;
    await new Promise((r) => setTimeout(r, 1000));
    clearInterval(sampler);
    const after = treeRssMb(rootPid);
    peak = Math.max(peak, after);
    console.log(`     ${N} images opened in ${openSeconds.toFixed(1)} s; Chromium RSS (MB): before ${before.toFixed(0)}, `
      + `after ${after.toFixed(0)}, peak ${peak.toFixed(0)}; added at peak ${(peak - before).toFixed(0)} MB`);
    check(`${N} images open`, await page.evaluate(() => window.lauekitPeaks.state.images.length) === N);
    check(`memory added by ${N} images at its peak ${(peak - before).toFixed(0)} MB < ${LIMIT_MB} MB`, peak - before < LIMIT_MB);
    const held = await page.evaluate(() => window.lauekitPeaks.state.images.filter((i) => i.pixels).length);
    check('the page holds the pixels of the shown image only', held === 1, `${held} images with pixels`);
    for (const k of [N - 1, Math.floor(N / 2), 0]) {
      await page.evaluate((i) => window.lauekitPeaks.select(i), k);
      await page.waitForFunction((i) => window.lauekitPeaks.state.current === i && Boolean(window.lauekitPeaks.current().pixels)
        && window.lauekitPeaks.view.image?.rows === 2048, k);
      check(`image ${k} shows when picked (decoded again from its file)`, true);
    }
    const searched = await page.evaluate(async () => {
      const lk = window.lauekitPeaks;
      const n = lk.searches;
      lk.runSearch();
      const t = Date.now();
      while (lk.searches === n && Date.now() - t < 120000) await new Promise((r) => setTimeout(r, 100));
      return lk.current().search?.peaks?.length ?? 0;
    });
    check('peak search on a re-decoded image works', searched > 10, `${searched} peaks`);
    check('no page error or console error', errors.length === 0, errors.join('\n'));
  } catch (e) {
    check('memory e2e ran to the end', false, e && e.stack ? e.stack : e);
  } finally {
    if (browser) await browser.close();
    server.close();
    await fs.rm(dir, { recursive: true, force: true });
  }
  console.log(`e2e: ${passed} passed, ${failed} failed`);
  process.exit(failed ? 1 : 0);
}

main();
