// Training a LaueNN model in the page, timed: the bundled example's calibration (Ge_blanc MarCCD), the material(s)
// given (default Cu), the page's default training settings (500 orientations, 1–5 grains, 6 epochs, hkl ≤ 5), in the
// page's training Web Worker in headless Chromium. Prints the time, the batches and the validation accuracy.
//
//   node tests/e2e/train-bench.mjs [Cu]
//
// Not part of `make test` (it takes minutes); `make bench-page-train` runs it. Needs the wasm package in pkg/.

import { chromium } from 'playwright-core';
import { startServer } from './server.mjs';

const materials = process.argv.slice(2).length ? process.argv.slice(2) : ['Cu'];
const server = await startServer();
const browser = await chromium.launch({ executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  args: ['--enable-unsafe-webgpu'] });
try {
  const page = await browser.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto(`http://127.0.0.1:${server.address().port}/www/index.html`);
  await page.waitForFunction(() => window.lauekitPeaks && window.lauekitPeaks.nn, null, { timeout: 120_000 });
  await page.evaluate(() => window.lauekitPeaks.loadExample());
  await page.waitForFunction(() => window.lauekitPeaks.state.calibration, null, { timeout: 120_000 });
  await page.evaluate((mats) => {
    const lk = window.lauekitPeaks;
    lk.state.picked.clear();
    for (const m of mats) lk.state.picked.add(m);
    document.getElementById('nn-train').open = true;
    lk.nn.setMethod('nn');
  }, materials);
  const started = await page.evaluate(() => window.lauekitPeaks.nn.train());
  if (!started) throw new Error(await page.evaluate(() => document.getElementById('train-status').textContent));
  await page.waitForFunction(() => window.lauekitPeaks.nn.lastTrain || !document.getElementById('peaks-error').hidden,
    null, { timeout: 60 * 60_000, polling: 1000 });
  const r = await page.evaluate(() => ({ last: window.lauekitPeaks.nn.lastTrain,
    error: document.getElementById('peaks-error').hidden ? '' : document.getElementById('peaks-error').textContent }));
  if (r.error) throw new Error(r.error);
  const l = r.last;
  console.log(`page training ${materials.join('+')}: ${l.seconds.toFixed(1)} s in all (data ${(l.data.elapsed_ms / 1000).toFixed(1)} s: `
    + `${l.data.train_images} + ${l.data.validation_images} images, ${l.data.train_spots} training spots, ${l.data.classes} classes), `
    + `${l.epochs} epochs, ${l.batches} batches, validation accuracy ${(100 * l.val_accuracy).toFixed(2)} %`);
  if (errors.length) console.log(`page errors: ${errors.join('; ')}`);
} finally {
  await browser.close();
  server.close();
}
