// Colours of map cells for the scan and cluster e2e tests: in a map PNG the library drew (k × k blocks of flat colour
// inside a 1-px black outline, the first black run across the image that long) and on the page's map canvas.

/**
 * RGB at the centre of cells `cells` ([ix, iy]) of an nx-wide map in PNG `bytes` (decoded by the page's browser).
 * Null when no map outline is found.
 */
export async function pngCellColours(page, bytes, nx, cells) {
  return page.evaluate(async ([b64, nx, cells]) => {
    const blob = await (await fetch(`data:image/png;base64,${b64}`)).blob();
    const bmp = await createImageBitmap(blob, { colorSpaceConversion: 'none', premultiplyAlpha: 'none' });
    const c = new OffscreenCanvas(bmp.width, bmp.height);
    const g = c.getContext('2d');
    g.drawImage(bmp, 0, 0);
    const W = bmp.width;
    const d = g.getImageData(0, 0, W, bmp.height).data;
    const black = (x, y) => { const i = 4 * (y * W + x); return d[i] === 0 && d[i + 1] === 0 && d[i + 2] === 0; };
    // The map's top outline: the first row with a black run of nx·k + 2 px (k ≥ 1 px per cell, the map ≥ 100 px wide).
    for (let y = 0; y < bmp.height; y++) {
      for (let x = 0; x < W; x++) {
        if (!black(x, y)) continue;
        let e = x;
        while (e < W && black(e, y)) e++;
        const run = e - x;
        if (run >= 100 && (run - 2) % nx === 0) {
          const k = (run - 2) / nx;
          return cells.map(([ix, iy]) => {
            const px = x + 1 + ix * k + Math.floor(k / 2);
            const py = y + 1 + iy * k + Math.floor(k / 2);
            const i = 4 * (py * W + px);
            return [d[i], d[i + 1], d[i + 2]];
          });
        }
        x = e;
      }
    }
    return null;
  }, [Buffer.from(bytes).toString('base64'), nx, cells]);
}

/**
 * RGB of the page's map canvas `canvasId` at the centre of cells `cells` ([ix, iy]), the centres from
 * `window[apiName].cellCenter`.
 */
export async function canvasCellColours(page, canvasId, apiName, cells) {
  return page.evaluate(([id, name, cells]) => {
    const c = document.getElementById(id);
    const dpr = c.width / c.clientWidth;
    const g = c.getContext('2d');
    return cells.map(([ix, iy]) => {
      const [x, y] = window[name].cellCenter(ix, iy);
      const p = g.getImageData(Math.floor(x * dpr), Math.floor(y * dpr), 1, 1).data;
      return [p[0], p[1], p[2]];
    });
  }, [canvasId, apiName, cells]);
}
