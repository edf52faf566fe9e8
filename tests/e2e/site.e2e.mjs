// End-to-end test of the published site (`make site` → site/) as GitHub Pages serves it: from a sub-path, gzip.
//
//   node tests/e2e/site.e2e.mjs [SITE_DIR]
//
// 1. First visit at 50 Mbit/s with 30 ms latency (Chromium's network emulation): the bytes transferred before the
//    first screen is usable and the time to get there, printed and asserted against LOAD_BUDGET; the wasm package is
//    downloaded once (the workers get the compiled module from the page).
// 2. The single-image flow on the bundled example: peak search (97 peaks, as the native golden) and indexing (Ge).
// 3. Localhost without throttling: time to ready.
// 4. Offline: the service worker controls the page; with the network off, a reload still starts, the example still
//    opens and its peaks are found again.
// 5. A new site version (its sw.js changes) is offered, replaces the old one on reload, and the old caches go.
// Needs site/ (make site) and `npm ci`. Environment: CHROMIUM. The last line is `e2e: N passed, M failed`.

import fs from 'node:fs/promises';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';
import { chromium } from 'playwright-core';
import { ROOT } from './server.mjs';

const SITE = path.resolve(process.argv[2] || path.join(ROOT, 'site'));
const PREFIX = '/lauekit'; // GitHub Pages serves a project site at https://<owner>.github.io/<repo>/
const WAIT_MS = 120_000;
const OVERALL_MS = 8 * 60_000;
// What is asserted, per build profile (build.json). Release (`make site-check`): the issue's targets, sizes exactly,
// times with a 1.5× margin for a loaded CI machine. Dev (the e2e of `make test`: the dev-profile packages, a little
// larger and slower to compile): a bound just above what was measured (3.69 MB, 2.7 s). Figures in BENCHMARKS.md.
const LOAD_BUDGETS = {
  release: { transfer_bytes: 4.0e6, throttled_ms: 4_500, localhost_ms: 3_000 },
  dev: { transfer_bytes: 4.2e6, throttled_ms: 6_000, localhost_ms: 4_000 },
};
let LOAD_BUDGET = LOAD_BUDGETS.release;
const TARGET = { transfer_bytes: 4.0e6, throttled_ms: 3_000, localhost_ms: 2_000 };

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

const MIME = {
  '.html': 'text/html; charset=utf-8', '.js': 'text/javascript; charset=utf-8', '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8', '.wasm': 'application/wasm', '.det': 'text/plain; charset=utf-8',
  '.md': 'text/markdown; charset=utf-8', '.ts': 'text/plain; charset=utf-8',
};
const COMPRESSIBLE = new Set(['.html', '.js', '.css', '.json', '.wasm', '.det', '.md', '.ts', '.bpk', '.mccd']);

/** A static server of `dir` at PREFIX with gzip (as GitHub Pages), counting requests per path. */
function startSiteServer(dir) {
  const requests = new Map();
  const gzCache = new Map();
  const server = http.createServer(async (req, res) => {
    try {
      let rel = decodeURIComponent(new URL(req.url, 'http://x').pathname);
      requests.set(rel, (requests.get(rel) || 0) + 1);
      if (rel === PREFIX) {
        res.writeHead(301, { location: `${PREFIX}/` }).end();
        return;
      }
      if (!rel.startsWith(`${PREFIX}/`)) {
        res.writeHead(404).end('not found');
        return;
      }
      rel = rel.slice(PREFIX.length);
      if (rel.endsWith('/')) rel += 'index.html';
      const file = path.join(dir.path, rel);
      if (!file.startsWith(dir.path + path.sep)) {
        res.writeHead(403).end('forbidden');
        return;
      }
      const stat = await fs.stat(file).catch(() => null);
      if (!stat || !stat.isFile()) {
        res.writeHead(404, { 'content-type': 'text/plain' }).end(`not found: ${rel}`);
        return;
      }
      const ext = path.extname(file).toLowerCase();
      let body = await fs.readFile(file);
      const headers = { 'content-type': MIME[ext] || 'application/octet-stream', 'cache-control': 'max-age=600' };
      if (COMPRESSIBLE.has(ext) && /\bgzip\b/.test(req.headers['accept-encoding'] || '')) {
        const key = `${file}:${stat.mtimeMs}:${stat.size}`;
        if (!gzCache.has(key)) gzCache.set(key, zlib.gzipSync(body, { level: 6 }));
        body = gzCache.get(key);
        headers['content-encoding'] = 'gzip';
      }
      headers['content-length'] = body.length;
      res.writeHead(200, headers);
      res.end(req.method === 'HEAD' ? undefined : body);
    } catch (e) {
      res.writeHead(500).end(String(e));
    }
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve({ server, requests }));
  });
}

/** Waits until the first screen is usable: the wasm package instantiated and the peak-search worker started. */
async function waitReady(page) {
  await page.waitForFunction(() => Boolean(window.lauekitPeaks && window.lauekitPeaks.ready));
  const ready = await page.evaluate(() => window.lauekitPeaks.ready.then(() => 'ok', (e) => `rejected: ${e && e.message}`));
  if (ready !== 'ok') throw new Error(`the page did not start: ${ready}`);
  await page.waitForFunction(() => document.getElementById('loading').hidden);
}

/** Opens the example and runs the peak search; resolves to the number of peaks. */
async function examplePeaks(page, searchesBefore) {
  const opened = await page.evaluate(() => window.lauekitPeaks.opened);
  await page.click('#load-example-image');
  await page.waitForFunction((n) => window.lauekitPeaks.opened > n && window.lauekitPeaks.current(), opened);
  await page.click('#run-search');
  await page.waitForFunction((n) => window.lauekitPeaks.searches > n || !document.getElementById('peaks-error').hidden,
    searchesBefore);
  return page.evaluate(() => ({
    peaks: window.lauekitPeaks.current().search?.peaks?.length ?? 0,
    error: document.getElementById('peaks-error').hidden ? '' : document.getElementById('peaks-error').textContent,
  }));
}

async function main() {
  await fs.access(path.join(SITE, 'index.html')).catch(() => {
    throw new Error(`${SITE}/index.html is missing: run make site first`);
  });
  // A private copy, so that step 5 can publish a "new version" without touching site/.
  const build = JSON.parse(await fs.readFile(path.join(SITE, 'build.json'), 'utf8'));
  LOAD_BUDGET = LOAD_BUDGETS[build.profile] || LOAD_BUDGETS.release;
  console.log(`     site ${SITE}: ${build.profile} build, version ${build.version}, wasm ${(build.wasm_bytes / 1e6).toFixed(1)} MB raw`);
  const copy = await fs.mkdtemp(path.join(os.tmpdir(), 'lauekit-site-'));
  await fs.cp(SITE, copy, { recursive: true });
  const dir = { path: copy };
  const { server, requests } = await startSiteServer(dir);
  const url = `http://127.0.0.1:${server.address().port}${PREFIX}/`;
  let browser;
  const watchdog = setTimeout(() => {
    console.log(`FAIL site e2e still running after ${OVERALL_MS / 1000} s`);
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
    page.on('console', (msg) => {
      if (msg.type() === 'error') pageErrors.push(`console.error: ${msg.text()}`);
    });

    // 1. First visit, throttled.
    const cdp = await context.newCDPSession(page);
    await cdp.send('Network.enable');
    await cdp.send('Network.emulateNetworkConditions', {
      offline: false, latency: 30, downloadThroughput: 50e6 / 8, uploadThroughput: 50e6 / 8,
    });
    let transfer = 0;
    let counting = true;
    const byUrl = new Map();
    const urls = new Map();
    cdp.on('Network.responseReceived', (e) => urls.set(e.requestId, e.response.url));
    cdp.on('Network.loadingFinished', (e) => {
      if (!counting) return;
      transfer += e.encodedDataLength;
      const u = urls.get(e.requestId) || '?';
      byUrl.set(u, (byUrl.get(u) || 0) + e.encodedDataLength);
    });
    const t0 = Date.now();
    await page.goto(url, { waitUntil: 'load' });
    await waitReady(page);
    const throttledMs = Date.now() - t0;
    counting = false;
    const biggest = [...byUrl.entries()].sort((a, b) => b[1] - a[1]).slice(0, 4)
      .map(([u, n]) => `${u.replace(/^.*\/lauekit\//, '')} ${(n / 1e6).toFixed(2)} MB`).join(', ');
    console.log(`     first visit at 50 Mbit/s, 30 ms: ${(transfer / 1e6).toFixed(2)} MB transferred (target ${TARGET.transfer_bytes / 1e6} MB), `
      + `ready in ${throttledMs} ms (target ${TARGET.throttled_ms} ms); largest: ${biggest}`);
    check(`first-load transfer ${(transfer / 1e6).toFixed(2)} MB ≤ ${LOAD_BUDGET.transfer_bytes / 1e6} MB`,
      transfer <= LOAD_BUDGET.transfer_bytes && transfer > 1e6, transfer);
    check(`ready at 50 Mbit/s in ${throttledMs} ms ≤ ${LOAD_BUDGET.throttled_ms} ms`, throttledMs <= LOAD_BUDGET.throttled_ms);
    const wasmFetches = requests.get(`${PREFIX}/pkg/lauekit_bg.wasm`) || 0;
    check('the wasm package is downloaded once (page and worker share the compiled module)', wasmFetches === 1,
      `${wasmFetches} requests`);
    const loadingText = await page.evaluate(() => document.getElementById('loading-text').textContent);
    check('the loading indicator went through its stages', /Starting|Compiling|Downloading/.test(loadingText), loadingText);
    await cdp.send('Network.emulateNetworkConditions', { offline: false, latency: 0, downloadThroughput: -1, uploadThroughput: -1 });

    // 2. The single-image flow.
    const first = await examplePeaks(page, 0);
    check('example: 97 peaks (as the native golden)', first.peaks === 97 && !first.error, JSON.stringify(first));
    await page.click('#run-index');
    await page.waitForFunction(() => window.lauekitPeaks.indexRuns >= 1 || !document.getElementById('peaks-error').hidden);
    const grains = await page.evaluate(() => (window.lauekitPeaks.current().index?.result?.grains || [])
      .map((g) => ({ material: g.material, n: g.n_indexed })));
    check('example indexed: one Ge grain', grains.length === 1 && grains[0].material === 'Ge' && grains[0].n > 60,
      JSON.stringify(grains));

    // 2b. The spot network on the CPU (first package), then "WebGPU": the WebGPU package is downloaded then, once,
    // and gives the same descriptors (this headless browser has no WebGPU: that package falls back to its CPU).
    check('the WebGPU package is not part of the first load', !requests.get(`${PREFIX}/pkg/gpu/lauekit_bg.wasm`));
    const characterise = async (device) => {
      const runs = await page.evaluate(() => window.lauekitPeaks.quality.runs);
      await page.selectOption('#quality-device', device);
      await page.click('#run-quality');
      await page.waitForFunction((n) => window.lauekitPeaks.quality.runs > n || !document.getElementById('peaks-error').hidden,
        runs);
      return page.evaluate(() => {
        const q = window.lauekitPeaks.current().quality;
        return { sims: q ? q.descriptors.map((d) => d.sim) : [], device: q?.device, fallback: q?.fallback ?? null,
          error: document.getElementById('peaks-error').hidden ? '' : document.getElementById('peaks-error').textContent };
      });
    };
    const onCpu = await characterise('cpu');
    const onGpu = await characterise('gpu');
    const gpuFetches = requests.get(`${PREFIX}/pkg/gpu/lauekit_bg.wasm`) || 0;
    const maxDiff = Math.max(...onCpu.sims.map((v, i) => Math.abs(v - (onGpu.sims[i] ?? NaN))));
    console.log(`     spot network: CPU package on ${onCpu.device}; WebGPU package on ${onGpu.device}`
      + `${onGpu.fallback ? ` (${onGpu.fallback})` : ''}, max |ΔSim| ${maxDiff.toExponential(2)}`);
    check('"WebGPU" loads the WebGPU package on demand, once', gpuFetches === 1, `${gpuFetches} requests`);
    check('both packages give the same 97 descriptors (|ΔSim| ≤ 1e-5)', onCpu.sims.length === 97
      && onGpu.sims.length === 97 && maxDiff <= 1e-5 && !onGpu.error, JSON.stringify({ maxDiff, error: onGpu.error }));

    // 3. Localhost, not throttled (the HTTP cache may hold the files: a second visit).
    await page.evaluate(() => navigator.serviceWorker.ready);
    await page.waitForFunction(() => Boolean(navigator.serviceWorker.controller));
    check('the service worker controls the page', true);
    const t1 = Date.now();
    await page.reload({ waitUntil: 'load' });
    await waitReady(page);
    const localMs = Date.now() - t1;
    console.log(`     reload on localhost: ready in ${localMs} ms (target ${TARGET.localhost_ms} ms)`);
    check(`ready on localhost in ${localMs} ms ≤ ${LOAD_BUDGET.localhost_ms} ms`, localMs <= LOAD_BUDGET.localhost_ms);
    const again = await examplePeaks(page, 0); // online: the example goes into the service worker's runtime cache
    check('after reload: example 97 peaks', again.peaks === 97, JSON.stringify(again));

    // 4. Offline.
    await context.setOffline(true);
    await page.reload({ waitUntil: 'load' });
    await waitReady(page);
    check('offline: the page reloads and starts', true);
    const offline = await examplePeaks(page, 0);
    check('offline: the example opens and gives its 97 peaks', offline.peaks === 97 && !offline.error, JSON.stringify(offline));
    await page.waitForFunction(() => Boolean(window.lauekitOffline && window.lauekitOffline.registration));
    check('offline: the page knows its service worker registration', true);
    await context.setOffline(false);

    // 5. A new version: sw.js changes on the server; the page offers it; a click replaces the old one.
    const swPath = path.join(copy, 'sw.js');
    const oldVersion = (await fs.readFile(swPath, 'utf8')).match(/const VERSION = '([^']+)'/)[1];
    const newVersion = `${oldVersion}-next`;
    await fs.writeFile(swPath, (await fs.readFile(swPath, 'utf8')).replace(oldVersion, newVersion));
    const buildPath = path.join(copy, 'build.json');
    await fs.writeFile(buildPath, (await fs.readFile(buildPath, 'utf8')).replace(oldVersion, newVersion));
    await page.evaluate(() => window.lauekitOffline.registration.update());
    await page.waitForSelector('.update-bar button');
    check('a new version is offered in the page', true);
    await Promise.all([page.waitForEvent('load'), page.click('.update-bar button')]);
    await waitReady(page);
    const caches = await page.evaluate(async () => (await caches.keys()).filter((k) => k.startsWith('lauekit-')));
    check('after the update: only the new version\'s caches remain',
      caches.length > 0 && caches.every((k) => k.endsWith(newVersion)), caches.join(', '));
    const afterUpdate = await examplePeaks(page, 0);
    check('after the update: example 97 peaks', afterUpdate.peaks === 97, JSON.stringify(afterUpdate));

    const errors = pageErrors.filter((e) => !/ERR_INTERNET_DISCONNECTED/.test(e));
    check('no page error or console error', errors.length === 0, errors.join('\n'));
  } catch (e) {
    check('site e2e ran to the end', false, e && e.stack ? e.stack : e);
  } finally {
    if (browser) await browser.close();
    server.close();
    await fs.rm(copy, { recursive: true, force: true });
  }
  console.log(`e2e: ${passed} passed, ${failed} failed`);
  process.exit(failed ? 1 : 0);
}

main();
