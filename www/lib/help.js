// Help of the page (issue 16 item 4, "Explained"): one dictionary of short texts — the unit and one line, in the
// field's words, LaueTools' names where they apply — for every setting (input, select, textarea) and every table
// column header, applied at start-up by id (or key) as `data-help`, `title` and `aria-description`, and one
// tooltip element that shows the same text on hover and on keyboard focus (the native `title` is held back while
// it shows, so there is one tooltip, not two). Elements added later (tables re-rendered, panels built) get theirs
// from a MutationObserver; the builders may also set `data-help-key`.
//
// Keys: an element's id; `ps:<LaueTools name>` for the peak-search settings (ids ps-<name>[-i]); `<radio
// name>:<value>` for radio buttons; `th:<table id or first class>:<key>` for column headers, the key being the
// header's `data-key` or its text (sort arrows dropped).
//
// Conventions stated once here and repeated where they matter: LaueTools' pixel positions (X = column, Y = row,
// the first pixel's centre at (1, 1)); 2θ and χ in degrees from the .det calibration (dd mm, xcen/ycen px,
// xbet/xgam °, pixel mm); energies in keV; strain dimensionless, shown ×10⁻³.

const PX = "LaueTools' pixel convention: X = column, Y = row, the first pixel's centre at (1, 1)";

export const HELP = {
  // ---------------------------------------------------------------------------------------------- Images & peaks
  'image-files': 'Detector images (MarCCD .mccd, TIFF, sCMOS, EDF, HDF5, PNG), a LaueTools calibration .det, or peak-search settings (.json, .psp); several files at once.',
  'disp-scale': 'How counts map to grey levels: linear, or log (shows weak spots next to strong ones).',
  'disp-cmap': 'Colour map of the image: grey, inverted grey (dark spots on white), viridis.',
  'disp-limits': 'Which counts are black and white: percentiles of the image, its min–max, or the values typed below.',
  'disp-plo': 'Low limit as a percentile of the pixel values (%, 0–100): pixels below it are black.',
  'disp-phi': 'High limit as a percentile of the pixel values (%, 0–100): pixels above it are white.',
  'disp-lo': 'Lowest value shown (counts); typing one switches to manual limits.',
  'disp-hi': 'Highest value shown (counts); typing one switches to manual limits.',
  'zoom-in': 'Zoom in on the detector image by 1.5×, about the centre of the view (also: wheel, two-finger pinch).',
  'zoom-out': 'Zoom out by 1.5×, about the centre of the view (also: wheel, two-finger pinch).',
  'disp-fit': 'Fit the whole detector image in the view, centred.',

  'ps:local_maxima_search_method': 'LaueTools local_maxima_search_method: 0 = threshold on the background-subtracted image, then connected blobs; 2 = convolution with a peak-shaped kernel.',
  'ps:IntensityThreshold': 'LaueTools IntensityThreshold (counts): a pixel is a peak candidate when the background-subtracted image exceeds it.',
  'ps:PixelNearRadius': 'LaueTools PixelNearRadius (px): method 2 only, half-size of the box of the amplitude test.',
  'ps:removeedge': 'LaueTools removeedge (px): accepted for compatibility; method 0 does not use it (as in LaueTools).',
  'ps:boxsize': 'LaueTools boxsize (px): half-size of the box around each local maximum in which the 2D peak shape is fitted.',
  'ps:position_definition': `LaueTools position_definition: 1 = ${PX}; 0 = array indices from 0.`,
  'ps:fit_peaks_gaussian': 'LaueTools fit_peaks_gaussian: 1 = rotated 2D Gaussian + constant background, 2 = 2D Lorentzian, 0 = no fit (the local maximum pixel).',
  'ps:xtol': 'LaueTools xtol (dimensionless): relative parameter tolerance of the Levenberg–Marquardt fit.',
  'ps:FitPixelDev': 'LaueTools FitPixelDev (px): reject a fit whose centre moved further than this from its local maximum.',
  'ps:MinIntensity': 'LaueTools MinIntensity (counts): reject a fit whose amplitude above background is at most this.',
  'ps:PeakSizeRange': 'LaueTools PeakSizeRange (px, min and max): reject a fit whose larger σ is outside this range (too sharp: a hot pixel; too wide: diffuse).',
  'ps:Data_for_localMaxima': 'LaueTools Data_for_localMaxima: the image the maxima are searched in — auto_background (background removed) or the raw image.',
  'ps:formulaexpression': 'LaueTools formulaexpression: background removal, A-B or A-k*B (A the image, B its background estimate; ignored for MarCCD-type detectors, as in LaueTools).',
  'ps:NumberMaxofFits': 'LaueTools NumberMaxofFits (count): more local maxima than this is an error (raise the threshold instead).',
  'ps:Saturation_value': 'LaueTools Saturation_value (counts): reject fits with an amplitude at or above this (saturated spots).',
  'ps:Saturation_value_flatpeak': 'LaueTools Saturation_value_flatpeak (counts): accepted for compatibility; used by LaueTools\' method 1 only.',
  'ps:npixels': 'LaueTools npixels (px): sCMOS quadrant gaps — drop maxima within this band around the gaps (0: off).',
  'ps:thresholdConvolve': 'LaueTools thresholdConvolve (convolved counts): method 2, threshold on the convolved image.',
  'ps:paramsHat': 'LaueTools paramsHat: method 2 kernel — peak value, size (px), central radius (px).',
  'ps:reject_negative_baseline': 'LaueTools reject_negative_baseline: reject fits whose background is below the box minimum.',
  'ps:purgeDuplicates': 'LaueTools purgeDuplicates: of two peaks closer than boxsize, keep only the stronger.',

  'calib-material': 'Reference crystal on the image (Ge, Si…): its lattice gives the spots the geometry is fitted on.',
  'calib-preset': 'Detector model: sets the pixel size (mm) and frame (rows × cols).',
  'calib-pixel': 'Pixel size (mm), LaueTools pixelsize.',
  'calib-rows': 'Detector frame height (px).',
  'calib-cols': 'Detector frame width (px).',
  'calib-dd': 'dd (mm): start value of the sample–detector distance along the detector normal (LaueTools .det first number).',
  'calib-xcen': 'xcen (px): start value of the column where the detector normal through the sample meets the detector.',
  'calib-ycen': 'ycen (px): start value of the row where the detector normal through the sample meets the detector.',
  'calib-xbet': 'xbet (°): start value of the detector tilt about the lab x axis (LaueTools .det).',
  'calib-xgam': 'xgam (°): start value of the detector rotation about its normal (LaueTools .det).',
  'calib-fix-dd': 'Keep dd at its start value in the fit.',
  'calib-fix-xcen': 'Keep xcen at its start value in the fit.',
  'calib-fix-ycen': 'Keep ycen at its start value in the fit.',
  'calib-fix-xbet': 'Keep xbet at its start value in the fit.',
  'calib-fix-xgam': 'Keep xgam at its start value in the fit.',
  'calib-emin': 'E min (keV): lowest X-ray energy of the white beam used to simulate the reference pattern.',
  'calib-emax': 'E max (keV): highest X-ray energy of the white beam used to simulate the reference pattern.',
  'th:calib-start:parameter': 'Detector parameter of the LaueTools .det calibration.',
  'th:calib-start:start': 'Value the fit starts from (nominal, or the loaded calibration).',
  'th:calib-start:fix': 'Ticked: the parameter keeps its start value.',
  'th:calib-start:dd (mm)': 'dd (mm): sample–detector distance along the detector normal.',
  'th:calib-start:xcen (px)': 'xcen (px): column of the foot of the detector normal.',
  'th:calib-start:ycen (px)': 'ycen (px): row of the foot of the detector normal.',
  'th:calib-start:xbet (°)': 'xbet (°): detector tilt about the lab x axis.',
  'th:calib-start:xgam (°)': 'xgam (°): detector rotation about its normal.',
  'th:calib-table:parameter': 'Detector parameter (unit in brackets).',
  'th:calib-table:start': 'Start value of the fit.',
  'th:calib-table:refined ± 1σ': 'Refined value ± one standard deviation from the fit\'s covariance (same unit).',
  'th:calib-table:dd (mm)': 'dd (mm): sample–detector distance.',
  'th:calib-table:xcen (px)': 'xcen (px): column of the foot of the detector normal.',
  'th:calib-table:ycen (px)': 'ycen (px): row of the foot of the detector normal.',
  'th:calib-table:xbet (°)': 'xbet (°): detector tilt about the lab x axis.',
  'th:calib-table:xgam (°)': 'xgam (°): detector rotation about its normal.',

  'quality-device': 'Where the spot network runs: the CPU, or the GPU through WebGPU (falls back to the CPU when the browser has none).',
  'quality-min-sim': 'min Sim (0–1): a good spot has Sim, the network\'s similarity to a 2D Gaussian, above this (default 0.55: the paper\'s 0.5 plus one held-out Sim error, so that fewer bad spots pass).',
  'quality-max-offset': 'max offset (px): a good spot\'s centre is at most this far from its peak-search pixel.',
  'quality-sim-colours': 'Colour scale of the spot circles by Sim (0–1): colour-blind safe vermillion → yellow → blue (default), or the former red → amber → green.',

  'index-method:lut': 'Look-up table (LaueTools\' classical method): angles between intense spot pairs looked up among the inter-plane angles of the material.',
  'index-method:nn': 'LaueNN: a neural network predicts each spot\'s hkl family from its histogram of angular distances to the other spots.',
  'nn-model': 'LaueNN model: trained for given materials, energy band and detector geometry (a warning shows when it differs from the calibration).',
  'train-orientations': 'orientations (count, 10–5000): random orientations simulated for training (20 % kept for validation).',
  'train-grains': 'grains / image (1–10): simulated patterns hold 1 … N grains, as real multi-grain images do.',
  'train-epochs': 'epochs (1–50): passes over the training set.',
  'train-maxhkl': 'max hkl (1–8): largest Miller index of the hkl families the network learns.',
  'index-material': 'Tick to index with this material (each grain is the best over the ticked ones).',
  'materials-file': 'A materials file (JSON or TOML, as lauekit --materials-file reads): each entry {name, lattice [a, b, c Å, α, β, γ °], spacegroup or extinction} joins the choices under its name.',
  'crystal-name': 'Name of the custom crystal (text): how it is listed, and what grains and .fit files call it.',
  'crystal-a': 'a (Å): first lattice parameter of the custom crystal.',
  'crystal-b': 'b (Å): second lattice parameter (= a for cubic and tetragonal crystals).',
  'crystal-c': 'c (Å): third lattice parameter (= a for cubic crystals).',
  'crystal-alpha': 'α (°): angle between b and c (90 unless triclinic or rhombohedral).',
  'crystal-beta': 'β (°): angle between a and c (90 unless monoclinic, triclinic or rhombohedral).',
  'crystal-gamma': 'γ (°): angle between a and b (120 for hexagonal crystals).',
  'crystal-sg': 'Space group number (1–230): gives the Laue group and the reflection conditions.',
  'crystal-rule': 'Extinction rule (text), instead of or overriding the space group\'s: fcc, bcc, dia, hcp, or conditions such as hkl: h+k=2n.',
  'index-grains': 'grains (count, LaueTools nbgrainstofind): how many grains to look for at most; fewer are reported when no more are found (the status says why).',
  'index-emin': 'E min (keV): lowest energy of the white beam; simulated reflections below it are not expected.',
  'index-emax': 'E max (keV): highest energy of the white beam.',
  'index-share': 'Spots of the grains found stay available to the next ones (twins share reflections).',
  'index-positions': 'Peak positions given to indexing: the peak search\'s 2D Gaussian fit, or the spot network\'s positions for the spots it calls good.',
  'show-simulated': 'Draw each grain\'s simulated pattern: + where a simulated spot matched a peak, an open square where it found none.',
  'show-hkl': 'Label each indexed peak with its Miller indices h k l.',

  'th:peak-table:rank': 'Peak number (1 = the most intense), as in LaueTools\' .dat.',
  'th:peak-table:x': `X (px): fitted position along the columns, ${PX}.`,
  'th:peak-table:y': `Y (px): fitted position along the rows, ${PX}.`,
  'th:peak-table:intensity_sub': 'I − bkg (counts): fitted amplitude above the background, LaueTools peak_Isub.',
  'th:peak-table:intensity': 'I total (counts): amplitude + background, LaueTools peak_Itot.',
  'th:peak-table:sigma_major': 'σ maj (px): width of the fitted 2D Gaussian along its first axis, LaueTools peak_fwaxmaj.',
  'th:peak-table:sigma_minor': 'σ min (px): width of the fitted 2D Gaussian along its second axis, LaueTools peak_fwaxmin.',
  'th:peak-table:background': 'bkg (counts): fitted constant background under the peak, LaueTools peak_bkg.',
  'th:peak-table:tth': '2θ (°): scattering angle of the peak from the .det calibration (angle between the incident beam and the diffracted ray).',
  'th:peak-table:chi': 'χ (°): azimuth of the diffracted ray around the beam, from the .det calibration (LaueTools convention).',
  'th:peak-table:grain': 'Grain (number in the grain table) that explains this peak; — when none does.',
  'th:peak-table:hkl': 'Miller indices h k l of the reflection this peak is, in its grain.',
  'th:peak-table:energy': 'E (keV): X-ray energy this reflection picks from the white beam (Bragg\'s law with the grain\'s orientation).',
  'th:peak-table:sim': 'Sim (0–1): the spot network\'s similarity of the spot to a 2D Gaussian; low = streaked, split or noise.',
  'th:peak-table:asp': 'Asp (0–1): aspect ratio of the spot, minor over major axis (1 = round).',
  'th:peak-table:area': 'area (px²): area of the spot the network sees.',
  'th:peak-table:good': 'good: Sim above min Sim and the centre within max offset of the peak-search pixel.',

  'th:grain-table:grain': 'Grain number, in the order found (its colour on the image).',
  'th:grain-table:material': 'Material of the grain (the best of the ticked ones).',
  'th:grain-table:spots indexed': 'Peaks explained by the grain, of its simulated reflections on the detector.',
  'th:grain-table:matching rate': 'Matching rate (%): percentage of the grain\'s simulated spots (in the band, on the detector) that matched a peak.',
  'th:grain-table:RMS (px)': 'RMS residual (px): root mean square distance between measured and predicted positions after refinement.',
  'th:grain-table:Euler φ θ ψ (°)': 'Euler angles (°) of the orientation in LaueTools\' convention, as in its .fit files.',
  'th:grain-table:UB (q = UB·B0·G*)': 'Orientation matrix UB (rows, dimensionless) in LaueTools\' q = UB·B0·G*: turns a reciprocal-lattice vector G* = (h k l) of the crystal into the lab frame.',
  'th:grain-table:strain': 'Deviatoric strain ε′ (×10⁻³): von Mises equivalent √(2/3 ε′:ε′); open “tensors” for xx yy zz yz xz xy in the crystal and sample frames.',
  'th:grain-table:stress': 'Deviatoric stress σ′ (MPa) from the strain and the material\'s stiffness constants: von Mises equivalent √(3/2 σ′:σ′); tensors in the details.',
  'th:grain-table:misorientation': 'Misorientation (°): rotation angle from grain 1 of the same material (crystal symmetry taken into account).',
  'th:grain-table:export': 'Save the grain as a LaueTools .fit file.',
  'th:strain-tensor:frame': 'Frame of the tensor: crystal = orthonormal frame of B0\'s axes; sample = LaueTools\' sample frame (lab frame tilted 40° about y).',
  'th:strain-tensor:crystal': 'In the crystal frame (orthonormal frame of B0\'s Cartesian axes).',
  'th:strain-tensor:sample': 'In LaueTools\' sample frame (lab frame tilted 40° about y).',
  'th:strain-tensor:xx': 'Normal component xx (Voigt order of LaueTools\' strain6: xx yy zz yz xz xy).',
  'th:strain-tensor:yy': 'Normal component yy.',
  'th:strain-tensor:zz': 'Normal component zz.',
  'th:strain-tensor:yz': 'Shear component yz.',
  'th:strain-tensor:xz': 'Shear component xz.',
  'th:strain-tensor:xy': 'Shear component xy.',

  // ------------------------------------------------------------------------------------------------------ Scan
  'scan-files': 'The images of a raster scan, one per point (LaueTools series prefix_NNNN.ext), or one HDF5 stack, with the .det.',
  'scan-folder': 'A folder holding the scan\'s images (and its .det).',
  'scan-nx': 'nx (points): points along x, the fast axis.',
  'scan-ny': 'ny (points): points along y, the slow axis.',
  'scan-step-x': 'step x (µm): distance between points along x (for the maps\' scale; optional).',
  'scan-step-y': 'step y (µm): distance between points along y (optional).',
  'scan-snake': 'Serpentine scan: odd rows were acquired from high x to low x.',
  'scan-materials': 'Materials to index every point with, comma-separated names from the table or of materials added below (e.g. Cu or GaN, Si).',
  'scan-grains': 'grains / point (count, LaueTools nbgrainstofind): grains to look for in each image.',
  'scan-emin': 'E min (keV): lowest energy of the white beam.',
  'scan-emax': 'E max (keV): highest energy of the white beam.',
  'scan-threshold': 'LaueTools PeakSearch IntensityThreshold (counts): detection threshold on the background-subtracted image.',
  'scan-boxsize': 'LaueTools PeakSearch boxsize (px): half-size of the fit box.',
  'scan-request-json': 'The whole pipeline request of every point (lauekit scan --request): peaks (LaueTools PeakSearch names), spotnet, index; unknown keys are refused.',
  'scan-use-json': 'Use the JSON above instead of the fields.',
  'scan-workers': 'workers (count): Web Workers analysing points in parallel, each with its own WebAssembly instance.',
  'cluster-features:pixels': 'Features = the pixels: each image cropped to its centred square, binned to 128 × 128, log-scaled.',
  'cluster-features:peaks': 'Features = the peaks: the peak search\'s spots on a 64 × 64 (2θ, χ) grid; needs the calibration.',
  'cluster-features:ae': 'Features = the autoencoder\'s code of the 128 × 128 binned pixels.',
  'cluster-pca': 'PCA components (count, lauekit cluster --pca): principal components kept before clustering.',
  'cluster-kmin': 'K from (count): smallest number of clusters of the score scan.',
  'cluster-kmax': 'K to (count): largest number of clusters of the score scan (below the number of points).',
  'cluster-webgpu': 'Run the autoencoder on the GPU through WebGPU when the browser has it, else on the CPU.',
  'cluster-k': 'K (count): number of clusters shown; moving it re-clusters at once.',
  'cluster-method': 'Estimator: K-means (4 restarts, hard assignment) or a Bayesian Gaussian mixture.',
  'cluster-labeler': 'How the map is coloured: cluster number, PCA colour of the centroids, direct colour of each point, connected regions, or (after “Index delegates”) IPF orientation colours.',
  'scan-map': 'Map shown: one value per scan point (unit in its title and colour bar).',
  'scan-palette': 'Colours of categorical maps (grains, phases, cluster labels, regions): colour-blind safe (Okabe–Ito for up to 8 classes, then viridis steps; default), or the library\'s golden-angle hues (as `lauekit scan maps` draws them). The PNG downloads use the colours chosen here.',
  'th:cluster-table:cluster': 'Cluster number (natural labeler\'s colour).',
  'th:cluster-table:colours': 'The cluster\'s colours: natural and PCA.',
  'th:cluster-table:points': 'Points of the scan in the cluster (count).',
  'th:cluster-table:delegate (ix, iy)': 'Delegate: the member nearest the centroid (ringed on the map), as grid indices ix, iy.',
  'th:cluster-table:grain': 'Once indexed: the delegate\'s grain (material).',
  'th:cluster-table:matching rate': 'Matching rate (%) of the delegate\'s grain: simulated spots matched.',
  'th:cluster-table:open': 'Open the delegate\'s image in Images & peaks.',

  // ------------------------------------------------------------------------------------------------- Simulator
  material: 'Crystal from the library\'s table (lattice and LaueTools extinction rule), or custom.',
  'lat-a': 'Lattice parameter a (Å).',
  'lat-b': 'Lattice parameter b (Å).',
  'lat-c': 'Lattice parameter c (Å).',
  'lat-alpha': 'Lattice angle α between b and c (°).',
  'lat-beta': 'Lattice angle β between a and c (°).',
  'lat-gamma': 'Lattice angle γ between a and b (°).',
  symmetry: 'Space group number (1–230) or a LaueTools extinction rule (fcc, bcc, dia, wurtzite, hcp, no): which hkl reflect.',
  'euler-1': 'Euler angle 1 (°), LaueTools\' convention: base orientation of the crystal.',
  'euler-2': 'Euler angle 2 (°), LaueTools\' convention.',
  'euler-3': 'Euler angle 3 (°), LaueTools\' convention.',
  'rot-x': 'Rotation (°) about the lab x axis (along the beam), applied after the base orientation.',
  'rot-y': 'Rotation (°) about the lab y axis.',
  'rot-z': 'Rotation (°) about the lab z axis (up, towards the detector).',
  preset: 'Detector model: pixel size (mm) and frame (rows × cols) of MarCCD 165 or sCMOS.',
  dd: 'dd (mm): sample–detector distance along the detector normal (LaueTools .det).',
  xcen: 'xcen (px): column where the detector normal through the sample meets the detector.',
  ycen: 'ycen (px): row where the detector normal through the sample meets the detector.',
  xbet: 'xbet (°): detector tilt about the lab x axis.',
  xgam: 'xgam (°): detector rotation about its normal.',
  pixel: 'Pixel size (mm).',
  rows: 'Detector frame height (px).',
  cols: 'Detector frame width (px).',
  emin: 'E min (keV): lowest energy of the white beam; planes needing a lower energy give no spot.',
  emax: 'E max (keV): highest energy of the white beam.',
  'det-file': 'A LaueTools calibration (.det): detector geometry, and its orientation matrix as the base orientation.',
  'view:pixels': `Draw the pattern on the detector in pixels (${PX}).`,
  'view:angles': 'Draw the pattern in angles: 2θ (°) against χ (°).',
  'size:energy': 'Disc size by the X-ray energy (keV) of the reflection.',
  'size:multiplicity': 'Disc size by the multiplicity of the hkl family.',
};

/** The help key of an element (see the header), or ''. */
export function helpKey(el) {
  if (el.dataset.helpKey) return el.dataset.helpKey;
  if (el.tagName === 'TH') {
    const table = el.closest('table');
    const t = table?.id || table?.classList[0] || '';
    const key = el.dataset.key || el.textContent.replace(/[▲▼]/g, '').trim();
    return `th:${t}:${key}`;
  }
  if (el.type === 'radio') return `${el.name}:${el.value}`;
  if (el.closest('#index-materials')) return 'index-material';
  const ps = /^ps-(.+?)(-\d+)?$/.exec(el.id || '');
  if (ps) return `ps:${ps[1]}`;
  return el.id || '';
}

/** The help text of an element ('' when the dictionary has none). */
export function helpText(el) {
  const text = HELP[helpKey(el)] || '';
  if (text && el.closest('#index-materials') && el.title) return `${text} ${el.title}`;
  return text;
}

/** Sets an element's help: `data-help`, `title` and `aria-description`. */
export function setHelp(el, text) {
  if (!text) return;
  el.dataset.help = text;
  el.setAttribute('aria-description', text);
  if (el.dataset.helpTitle == null) el.title = text;
}

const SELECTOR = 'input, select, textarea, th, .image-zoom button';

/**
 * Applies the dictionary to `root`'s settings and column headers (and `root` itself).
 * @param {Document | Element} [root]
 */
export function applyHelp(root = document) {
  /** @type {HTMLInputElement[]} */
  const els = [];
  if (root instanceof Element && root.matches(SELECTOR)) els.push(/** @type {HTMLInputElement} */ (root));
  if (root.querySelectorAll) els.push(...root.querySelectorAll(/** @type {'input'} */ (SELECTOR)));
  for (const el of els) {
    if (el.type === 'hidden' || el.dataset.help) continue;
    // The dictionary's text, else a title the element or its label already has.
    const text = helpText(el) || el.title || el.closest('label')?.title || '';
    if (text) setHelp(el, text);
  }
}

// ---------------------------------------------------------------------------------------------- the tooltip

let tip = null;
let shownFor = null;

function ensureTip() {
  if (tip) return tip;
  tip = document.createElement('div');
  tip.id = 'help-tip';
  tip.className = 'help-tip';
  tip.setAttribute('aria-hidden', 'true'); // the element's aria-description says it already
  tip.hidden = true;
  document.body.append(tip);
  return tip;
}

/** The element whose help a hover over `target` shows: itself, or the setting its label wraps. */
function helpTarget(target) {
  if (!(target instanceof Element)) return null;
  const direct = target.closest('[data-help]');
  if (direct) return direct;
  const label = target.closest('label');
  const control = label?.control;
  return control?.dataset?.help ? control : null;
}

export function showTip(el) {
  const text = el?.dataset?.help;
  if (!text) return;
  const t = ensureTip();
  if (shownFor && shownFor !== el) hideTip();
  shownFor = el;
  // Hold the native title back while ours shows.
  if (el.title) {
    el.dataset.helpTitle = el.title;
    el.removeAttribute('title');
  }
  t.textContent = text;
  t.hidden = false;
  const r = el.getBoundingClientRect();
  const vw = document.documentElement.clientWidth;
  const w = t.offsetWidth;
  const h = t.offsetHeight;
  const left = Math.max(4, Math.min(r.left, vw - w - 4));
  let top = r.bottom + 6;
  if (top + h > window.innerHeight - 4 && r.top - h - 6 > 4) top = r.top - h - 6;
  t.style.left = `${left}px`;
  t.style.top = `${top}px`;
}

export function hideTip() {
  if (shownFor && shownFor.dataset.helpTitle != null) {
    shownFor.title = shownFor.dataset.helpTitle;
    delete shownFor.dataset.helpTitle;
  }
  shownFor = null;
  if (tip) tip.hidden = true;
}

/** Applies the help now and to everything added later; wires the tooltip. */
export function initHelp() {
  applyHelp(document);
  new MutationObserver((records) => {
    for (const r of records) {
      for (const n of r.addedNodes) if (n.nodeType === 1) applyHelp(/** @type {Element} */ (n));
    }
  }).observe(document.body, { childList: true, subtree: true });
  document.addEventListener('mouseover', (e) => {
    const el = helpTarget(e.target);
    if (el) {
      if (el !== shownFor) showTip(el);
    } else if (shownFor && document.activeElement !== shownFor) hideTip();
  });
  document.addEventListener('focusin', (e) => {
    const el = /** @type {Element} */ (e.target).closest?.('[data-help]');
    if (el && el.matches(':focus-visible')) showTip(el);
    else hideTip();
  });
  document.addEventListener('focusout', () => hideTip());
  document.addEventListener('keydown', (e) => {
    if (e.key === 'Escape' && shownFor) hideTip();
  });
  // Scrolling moves the element: the tooltip follows it (or goes when it left the window).
  window.addEventListener('scroll', () => {
    if (!shownFor) return;
    const r = shownFor.getBoundingClientRect();
    if (r.bottom < 0 || r.top > window.innerHeight) hideTip();
    else showTip(shownFor);
  }, { passive: true, capture: true });
}
