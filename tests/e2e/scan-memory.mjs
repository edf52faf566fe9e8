// Page memory of a long scan in headless Chromium (a benchmark, not part of `make test`):
//
//   node tests/e2e/scan-memory.mjs [NXxNY] [SIZE]      (default 40x30 points of 2048² images)
//
// Loads the page's example scan with a larger grid and a 2048 × 2048 detector (Ge_blanc's MarCCD geometry; the
// workers render each point's TIFF, read it, run the pipeline and drop the frame), runs it with the default pool,
// and samples the resident memory of all Chromium processes (page, workers, GPU and utility processes) every
// second with ps. Prints the RSS at the start, at 10 %, 50 % and the end of the scan, and its maximum: a scan
// whose memory does not grow with the points keeps the page within bounds whatever its length.

import { execFileSync } from 'node:child_process';
import { chromium } from 'playwright-core';
import { startServer } from './server.mjs';

const [grid = '40x30', size = '2048'] = process.argv.slice(2);
const [nx, ny] = grid.split('x').map(Number);
const n = Number(size);

/** Sum of the RSS (MB) of the processes of this Chromium (children of the browser process, and itself). */
function chromiumRssMb(rootPid) {
  const out = execFileSync('ps', ['-eo', 'pid=,ppid=,rss=']).toString().trim().split('\n')
    .map((l) => l.trim().split(/\s+/).map(Number));
  const kids = new Map();
  for (const [pid, ppid] of out) kids.set(ppid, [...(kids.get(ppid) ?? []), pid]);
  const rss = new Map(out.map(([pid, , r]) => [pid, r]));
  let sum = 0;
  const stack = [rootPid];
  while (stack.length) {
    const p = stack.pop();
    sum += rss.get(p) ?? 0;
    stack.push(...(kids.get(p) ?? []));
  }
  return sum / 1024;
}

const server = await startServer();
const base = `http://127.0.0.1:${server.address().port}`;
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  headless: true,
  args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
    '--disable-component-update', '--disable-sync'],
});
const rootPid = browser.process?.()?.pid ?? Number(execFileSync('pgrep', ['-o', '-f', 'chromium.*--headless']).toString());
const page = await browser.newPage();
page.setDefaultTimeout(3_600_000);
await page.goto(`${base}/www/index.html#scan`, { waitUntil: 'load' });
await page.waitForFunction(() => Boolean(window.lauekitScan?.ready));
await page.evaluate(async ([nx, ny, n]) => {
  const { EXAMPLE_SPEC } = await import('/www/views/scan/scan.js');
  EXAMPLE_SPEC.nx = nx;
  EXAMPLE_SPEC.ny = ny;
  // Ge_blanc's MarCCD 165 geometry scaled to n × n pixels (same solid angle).
  const s = 2048 / n;
  EXAMPLE_SPEC.calibration = { distance_mm: 70.775, xcen_px: 941.736 / s, ycen_px: 1082.562 / s, xbet_deg: 0.63,
    xgam_deg: -0.682, pixel_size_mm: 0.079142 * s, rows: n, cols: n };
}, [nx, ny, n]);
await page.click('#scan-load-example');
const start = chromiumRssMb(rootPid);
const t0 = Date.now();
await page.click('#scan-run');
const samples = [];
const total = nx * ny;
for (;;) {
  await new Promise((r) => setTimeout(r, 1000));
  const done = await page.evaluate(() => window.lauekitScan.runs.length);
  const progress = await page.evaluate(() => document.getElementById('scan-progress')?.value ?? 0);
  samples.push({ t: (Date.now() - t0) / 1000, progress: Number(progress), rss: chromiumRssMb(rootPid) });
  if (done > 0) break;
}
const run = await page.evaluate(() => window.lauekitScan.runs.at(-1));
const at = (f) => samples.find((s) => s.progress >= f) ?? samples.at(-1);
const max = Math.max(...samples.map((s) => s.rss));
console.log(`scan ${nx}×${ny} = ${total} points of ${n}² images in ${samples.at(-1).t.toFixed(0)} s `
  + `(${run.points} points analysed, ${run.workers} workers)`);
console.log(`Chromium RSS (all processes, MB): before run ${start.toFixed(0)}, at 10 % ${at(0.1).rss.toFixed(0)}, `
  + `50 % ${at(0.5).rss.toFixed(0)}, end ${samples.at(-1).rss.toFixed(0)}, max ${max.toFixed(0)}`);
await browser.close();
server.close();
