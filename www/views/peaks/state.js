// "Images & peaks" view: its constants, the shapes of its state (the view's, each image's) and what its panels
// share (`PeaksContext`, made by main.js). No panel imports another; this module imports none of them.

export const EXAMPLE = {
  image: 'examples/Ge_blanc_0000.mccd',
  det: 'examples/calibGe111.det',
  params: 'examples/peaksearch.json',
};
/** The settings shown first; the rest go under "More settings". */
export const MAIN_PARAMS = ['local_maxima_search_method', 'IntensityThreshold', 'boxsize', 'PixelNearRadius', 'FitPixelDev',
  'MinIntensity', 'PeakSizeRange', 'fit_peaks_gaussian', 'Data_for_localMaxima', 'formulaexpression'];
/** @type {Record<string, string[][]>} */
export const CHOICES = {
  local_maxima_search_method: [['0', '0: threshold + blobs'], ['2', '2: convolution']],
  fit_peaks_gaussian: [['1', '1: 2D Gaussian'], ['2', '2: 2D Lorentzian'], ['0', '0: no fit']],
  position_definition: [['1', '1: LaueTools (first pixel (1, 1))'], ['0', '0: array indices']],
  Data_for_localMaxima: [['auto_background', 'auto_background'], ['', 'raw image (null)']],
};
/** @type {Record<string, string>} */
export const HINTS = {
  IntensityThreshold: 'detection threshold on the background-subtracted image (counts)',
  boxsize: 'half-size of the fit box (px)',
  PixelNearRadius: 'method 2: half-size of the amplitude test box (px)',
  FitPixelDev: 'reject fits that moved further than this (px)',
  MinIntensity: 'reject fits with a smaller amplitude (counts)',
  PeakSizeRange: 'accepted range of the larger σ (px)',
  formulaexpression: 'background formula: A-B or A-k*B',
  xtol: 'relative tolerance of the Levenberg–Marquardt fit',
  NumberMaxofFits: 'more local maxima than this is an error',
  Saturation_value: 'reject fits with an amplitude at or above this',
  npixels: 'sCMOS quadrant gaps: band half-width (0: off)',
  thresholdConvolve: 'method 2: threshold on the convolved image',
  paramsHat: 'method 2 kernel: peak value, size, central radius',
};

/**
 * A LaueTools calibration loaded in the view (a .det, or the Calibrate panel's result).
 * @typedef {{calibration: any, name: string, material: string | null, ccd_label: string | null}} LoadedCalibration
 */

/**
 * What each open image keeps of its own, shown in the form while it is the image shown (and stored back when
 * another is shown): its calibration, peak-search settings (the form's values by input id and where they came
 * from), the materials picked to index it and its two status lines. Its results (search, index) are on the image.
 * @typedef {object} ImageContext
 * @property {LoadedCalibration | null} calibration
 * @property {Record<string, string | boolean>} form the peak-search form (values by input id)
 * @property {string} paramsSource
 * @property {Set<string>} picked names of the materials to index with
 * @property {string} searchStatus
 * @property {string} indexStatus
 */

/**
 * An open image: decoded by the worker (which knows it by `id`), its pixels kept here while it is shown, its
 * results and its context.
 * @typedef {object} ImageEntry
 * @property {number} id
 * @property {string} name
 * @property {any} info the worker's image info (rows, cols, dtype, format, detector, pixel_size_mm, masked_pixels)
 * @property {Float32Array | null} pixels
 * @property {any} stats lib/imageview.js imageStats
 * @property {{peaks: any[], stats: any, elapsed_ms: number, worker_ms: number, params: any} | null} search
 * @property {any} index {result, peaks, calibration, materials, options, worker_ms, model, positions, reason} or null
 * @property {any} [quality] the spot network's descriptors (quality.js)
 * @property {ImageContext} context
 * @property {Promise<void> | null} [decoding] pixels asked of the worker again
 */

/**
 * The view's state: the images, the one shown and the context the form shows, runs in progress, the display.
 * `calibration` and `picked` are the shown context's (the form's); each image's `context` keeps its own.
 * @typedef {ReturnType<typeof createState>} ViewState
 */

/** A new view state. */
export function createState() {
  return {
    /** @type {ImageEntry[]} */
    images: [],
    current: -1,
    /** @type {number | null} id of the image whose context (calibration, settings, materials, status) the form shows */
    shownId: null,
    /** @type {LoadedCalibration | null} */
    calibration: null,
    /** @type {Set<string>} material names to index with */
    picked: new Set(),
    /** @type {{job: number, id: number, peaks: any[], calibration: any, materials: string[], options: any,
     *   model: string | null, modelName: string | null} | null} while the worker indexes */
    indexing: null,
    /** @type {any} LaueTools' default peak-search settings (the library's) */
    defaults: null,
    /** @type {string[]} */
    paramKeys: [],
    sort: { key: 'rank', dir: 1 },
    job: 0,
    /** @type {{job: number, id: number, params: any} | null} the peak search running */
    running: null,
    /** @type {{id: number, extra: any} | null} index this image once its peaks are found (a scan point) */
    autoIndex: null,
    /** @type {{id: number} | null} "Analyse" running on this image: peaks → spot network → indexing */
    analyse: null,
    display: { scale: 'linear', colormap: 'grey', limits: 'percentile', plo: 0.5, phi: 99.5, lo: 0, hi: 1 },
    /** the next image id (the worker knows an image by it) */
    nextId: 1,
  };
}

/**
 * What the view's panels share (made by main.js; `wasm`, `worker`, `rpc` and the worker panels set at start-up).
 * @typedef {object} PeaksContext
 * @property {ViewState} state
 * @property {import('../../lib/imageview.js').ImageView} view the image canvas
 * @property {import('../../lib/wasm.js').Wasm | null} wasm the page's wasm module (small calls)
 * @property {Worker | null} worker the peak-search worker
 * @property {import('../../lib/rpc.js').WorkerRpc | null} rpc requests to the worker: open, pixels
 * @property {import('../../lib/panel.js').Messages} messages the view's error box and the search status line
 * @property {import('../../lib/materials.js').MaterialCatalog} materials the material choices
 * @property {any} api `window.lauekitPeaks`
 * @property {import('./lauenn.js').LaueNN | null} nn
 * @property {import('./quality.js').SpotQuality | null} quality
 * @property {import('./calibrate.js').Calibrate | null} calib
 * @property {() => ImageEntry | null} current the image shown
 * @property {() => void} requestDraw draws the canvas on the next frame
 * @property {() => void} updateButtons re-checks what can run
 * @property {(name: string, text: string) => void} save downloads a text file
 */

/**
 * A number as the page shows a value read from an image.
 * @param {number} v
 */
export function fmt(v) {
  if (v == null || !Number.isFinite(v)) return String(v);
  return Number.isInteger(v) ? String(v) : v.toPrecision(6);
}

/** @param {number} v */
export function roundNice(v) {
  return Number.isInteger(v) ? v : Number(v.toPrecision(6));
}
