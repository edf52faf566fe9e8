//! The whole JavaScript surface (wasm32 only): thin functions that turn JS values into library calls.
//! All logic lives in the core modules; errors become JS `Error`s with the library's message.

use serde::{Deserialize, Serialize};
use wasm_bindgen::prelude::*;

use crate::crystal::{LaueGroup, MATERIALS};
use crate::geometry::{Calibration, euler_to_matrix, orientation::rotate_in_lab};
use crate::io::DetFile;
use crate::simulate::SimulationRequest;

mod autoencoder;
mod calibrate;
mod cluster;
mod nn;
mod scan;
mod spotnet;
pub use autoencoder::{autoencoder_features, autoencoder_latent_dim};
pub use calibrate::{calibrate_peaks, calibration_det_text, detector_presets};
pub use cluster::{ClusterFeatures, ClusterSession};
pub use nn::{HklModelHandle, index_peaks_nn, train_hkl_model};
pub use scan::{
    ScanWorker, SyntheticScanHandle, scan_ctf, scan_hdf5, scan_json, scan_map_csv, scan_map_png, scan_maps,
};
pub use spotnet::{SpotCutouts, characterize_cutouts};

#[wasm_bindgen(start)]
fn start() {
    crate::device::run_wasm_constructors();
    console_error_panic_hook::set_once();
}

fn to_js<T: Serialize>(v: &T) -> Result<JsValue, JsError> {
    v.serialize(&serde_wasm_bindgen::Serializer::new().serialize_maps_as_objects(true))
        .map_err(|e| JsError::new(&e.to_string()))
}

fn from_js<T: serde::de::DeserializeOwned>(v: JsValue, what: &str) -> Result<T, JsError> {
    serde_wasm_bindgen::from_value(v).map_err(|e| JsError::new(&format!("{what}: {e}")))
}

/// As [`from_js`] for settings: through JSON, so that `deny_unknown_fields` holds (serde-wasm-bindgen reads
/// only the fields a struct knows and would ignore a misspelt key).
fn from_js_strict<T: serde::de::DeserializeOwned>(v: JsValue, what: &str) -> Result<T, JsError> {
    let json: serde_json::Value = from_js(v, what)?;
    serde_json::from_value(json).map_err(|e| JsError::new(&format!("{what}: {e}")))
}

fn err(e: crate::LaueError) -> JsError {
    JsError::new(&e.to_string())
}

#[derive(Serialize)]
struct MaterialRow {
    name: &'static str,
    lattice: [f64; 6],
    rule: &'static str,
    space_group: u32,
    laue_group: &'static str,
    structure: &'static str,
    source: &'static str,
}

/// One material of a materials file, for the page: the definition to pass back in requests (`index_peaks`'
/// `materials`, a pipeline request's `index.materials`, a training request's `materials`) and what it
/// resolved to.
#[derive(Serialize)]
struct FileMaterial {
    /// `{name, lattice: [a, b, c (Å), α, β, γ (deg)], spacegroup?, extinction?, source?}`
    definition: crate::crystal::MaterialDef,
    name: String,
    lattice: [f64; 6],
    rule: String,
    space_group: Option<u32>,
    laue_group: &'static str,
    source: String,
}

/// Parses the text of a materials file (JSON list or `{"materials": [...]}`, or TOML `[[materials]]` of
/// `{name, lattice: [a, b, c, α, β, γ] (Å, deg), spacegroup and/or extinction, source}`); `file` names it in
/// errors (which also name the entry). Returns `[{definition, name, lattice, rule, space_group, laue_group,
/// source}]`: pass `definition` (or the whole object's `definition` field) wherever a material is taken.
#[wasm_bindgen]
pub fn parse_materials_file(text: &str, file: &str) -> Result<JsValue, JsError> {
    let ms = crate::crystal::parse_materials_file(text, file).map_err(err)?;
    let rows: Vec<FileMaterial> = ms
        .iter()
        .map(|m| FileMaterial {
            definition: crate::crystal::MaterialDef::of(m),
            name: m.name.clone(),
            lattice: m.lattice.params(),
            rule: m.rule.name.clone(),
            space_group: m.space_group,
            laue_group: m.laue_group.symbol(),
            source: m.source.clone(),
        })
        .collect();
    to_js(&rows)
}

/// The built-in materials table.
#[wasm_bindgen]
pub fn materials() -> Result<JsValue, JsError> {
    let rows: Vec<MaterialRow> = MATERIALS
        .iter()
        .map(|m| MaterialRow {
            name: m.name,
            lattice: m.lattice,
            rule: m.rule,
            space_group: m.space_group,
            laue_group: LaueGroup::of_space_group(m.space_group).map(|g| g.symbol()).unwrap_or("?"),
            structure: m.structure,
            source: m.source,
        })
        .collect();
    to_js(&rows)
}

#[derive(Serialize)]
struct SimulateOutput<'a> {
    #[serde(flatten)]
    result: &'a crate::simulate::SimulationResult,
    elapsed_ms: f64,
}

/// Simulates a pattern: `request` as `SimulationRequest` (see the README's API section).
#[wasm_bindgen]
pub fn simulate(request: JsValue) -> Result<JsValue, JsError> {
    let req: SimulationRequest = from_js(request, "simulation request")?;
    let t0 = js_sys::Date::now();
    let result = req.run().map_err(err)?;
    to_js(&SimulateOutput { result: &result, elapsed_ms: js_sys::Date::now() - t0 })
}

#[derive(Serialize)]
struct DetOutput {
    calibration: Calibration,
    ub: Option<[f64; 9]>,
    material: Option<String>,
    /// the detector's name as LaueTools labels it (e.g. MARCCD165)
    ccd_label: Option<String>,
}

/// Parses the text of a LaueTools `.det` file.
#[wasm_bindgen]
pub fn parse_det(text: &str) -> Result<JsValue, JsError> {
    let d = DetFile::parse(text, ".det file").map_err(err)?;
    let ub = d.ub.map(|m| {
        let mut a = [0.0; 9];
        for r in 0..3 {
            for c in 0..3 {
                a[r * 3 + c] = m[(r, c)];
            }
        }
        a
    });
    to_js(&DetOutput {
        calibration: d.calibration,
        ub,
        material: d.get("Material").map(str::to_string),
        ccd_label: d.get("CCDLabel").map(str::to_string),
    })
}

/// Pixel → [2θ, χ] (deg).
#[wasm_bindgen]
pub fn pixel_to_angles(calibration: JsValue, x_px: f64, y_px: f64) -> Result<JsValue, JsError> {
    let c: Calibration = from_js(calibration, "calibration")?;
    let (t, chi) = c.validated().map_err(err)?.pixel_to_angles(x_px, y_px);
    to_js(&[t, chi])
}

/// [2θ, χ] (deg) → pixel [x, y].
#[wasm_bindgen]
pub fn angles_to_pixel(calibration: JsValue, twotheta_deg: f64, chi_deg: f64) -> Result<JsValue, JsError> {
    let c: Calibration = from_js(calibration, "calibration")?;
    let p = c
        .validated()
        .map_err(err)?
        .angles_to_pixel(twotheta_deg, chi_deg)
        .ok_or_else(|| JsError::new("this direction does not meet the detector plane"))?;
    to_js(&[p.0, p.1])
}

fn flat(m: &nalgebra::Matrix3<f64>) -> [f64; 9] {
    let mut a = [0.0; 9];
    for r in 0..3 {
        for c in 0..3 {
            a[r * 3 + c] = m[(r, c)];
        }
    }
    a
}

/// LaueTools Euler angles (deg) → UB (9 numbers, row-major).
#[wasm_bindgen]
pub fn euler_to_ub(euler_deg: JsValue) -> Result<JsValue, JsError> {
    let e: [f64; 3] = from_js(euler_deg, "Euler angles")?;
    to_js(&flat(&euler_to_matrix(e)))
}

/// UB' = R(axis, angle) · UB: turns the crystal about a lab axis.
#[wasm_bindgen]
pub fn rotate_ub(ub: JsValue, axis: JsValue, angle_deg: f64) -> Result<JsValue, JsError> {
    let u: [f64; 9] = from_js(ub, "UB")?;
    let a: [f64; 3] = from_js(axis, "axis")?;
    let r = rotate_in_lab(&nalgebra::Matrix3::from_row_slice(&u), a, angle_deg).map_err(err)?;
    to_js(&flat(&r))
}

#[derive(Serialize)]
struct DeviceReport {
    label: String,
    fallback_reason: Option<String>,
    product: [f32; 2],
}

/// Initialises the compute device (WebGPU if `prefer_gpu` and available, else the CPU) and checks it
/// with a small matrix product (expected [17, 39]).
#[wasm_bindgen]
pub async fn device_check(prefer_gpu: bool) -> Result<JsValue, JsError> {
    let d = crate::device::browser(prefer_gpu).await;
    let product = crate::device::self_check(&d.device).await.map_err(err)?;
    to_js(&DeviceReport { label: d.label, fallback_reason: d.fallback_reason, product })
}

// ---------------------------------------------------------------------------------------------------------------
// Detector images and the peak search (the page's "Images & peaks" view runs these in a Web Worker).

/// One decoded detector image, kept on the wasm side so that a file is decoded once and searched many
/// times. Pixels follow [`crate::io::Frame`]: row-major, x = column, y = row.
#[wasm_bindgen]
pub struct DetectorImage {
    frame: crate::io::Frame,
}

#[derive(Serialize)]
struct ImageInfo<'a> {
    name: &'a str,
    rows: usize,
    cols: usize,
    /// native pixel type ("u16", "f32", ...)
    dtype: &'static str,
    format: Option<&'a str>,
    detector: Option<&'a str>,
    pixel_size_mm: Option<f64>,
    masked_pixels: usize,
    metadata: &'a std::collections::BTreeMap<String, String>,
}

#[derive(Serialize)]
struct ProgressReport {
    /// "detected" (then `total` = candidates to fit, `done` = 0) or "fitting"
    stage: &'static str,
    done: usize,
    total: usize,
}

#[derive(Serialize)]
struct PeakSearchOutput<'a> {
    #[serde(flatten)]
    list: &'a crate::peaks::PeakList,
    elapsed_ms: f64,
}

#[wasm_bindgen]
impl DetectorImage {
    /// Decodes the bytes of an image file called `name` (TIFF, MarCCD, EDF, HDF5, PNG, raw);
    /// `options` is a `ReadOptions` object or undefined.
    #[wasm_bindgen(constructor)]
    pub fn new(bytes: &[u8], name: &str, options: JsValue) -> Result<DetectorImage, JsError> {
        let opts: crate::io::ReadOptions = if options.is_undefined() || options.is_null() {
            Default::default()
        } else {
            from_js(options, "read options")?
        };
        let frame = crate::io::read_image(bytes, name, &opts).map_err(err)?;
        Ok(DetectorImage { frame })
    }

    /// `{name, rows, cols, dtype, format, detector, pixel_size_mm, masked_pixels, metadata}`.
    pub fn info(&self) -> Result<JsValue, JsError> {
        let f = &self.frame;
        to_js(&ImageInfo {
            name: &f.source,
            rows: f.rows,
            cols: f.cols,
            dtype: f.pixels.type_name(),
            format: f.metadata.get("format").map(String::as_str),
            detector: f.detector.as_deref(),
            pixel_size_mm: f.pixel_size_mm,
            masked_pixels: f.masked_count(),
            metadata: &f.metadata,
        })
    }

    /// Adds a mask file (a grey PNG, or HDF5 as `name` or `name:/path/to/dataset`; non-zero = masked) to
    /// the image's own mask; it must be the image's size. Returns the number of masked pixels.
    pub fn apply_mask(&mut self, bytes: &[u8], name: &str) -> Result<usize, JsError> {
        let (file, dataset) = match name.find(":/") {
            Some(i) if i > 0 => (&name[..i], Some(&name[i + 1..])),
            _ => (name, None),
        };
        let mask = crate::io::read_mask(bytes, file, dataset).map_err(err)?;
        crate::io::apply_mask(&mut self.frame, &mask).map_err(err)?;
        Ok(self.frame.masked_count())
    }

    /// The mask, one byte per pixel (1 = masked), row-major; empty when no pixel is masked.
    pub fn mask(&self) -> js_sys::Uint8Array {
        let bytes: Vec<u8> =
            self.frame.mask.as_ref().map_or_else(Vec::new, |m| m.iter().map(|&b| b as u8).collect());
        js_sys::Uint8Array::from(bytes.as_slice())
    }

    #[wasm_bindgen(getter)]
    pub fn rows(&self) -> usize {
        self.frame.rows
    }

    #[wasm_bindgen(getter)]
    pub fn cols(&self) -> usize {
        self.frame.cols
    }

    /// The pixels as f32 (a copy; non-finite values as the file holds them).
    pub fn pixels(&self) -> js_sys::Float32Array {
        js_sys::Float32Array::from(self.frame.pixels.to_f32().as_slice())
    }

    /// Runs LaueTools' peak search. `params_json`: a JSON object of `PeakSearch` keyword arguments
    /// (LaueTools names; missing keys take LaueTools' defaults). `progress`, if given, is called with
    /// `{stage: "detected" | "fitting", done, total}`. Returns `{peaks, stats, elapsed_ms}`, strongest first.
    pub fn peak_search(
        &self,
        params_json: &str,
        progress: Option<js_sys::Function>,
    ) -> Result<JsValue, JsError> {
        let params =
            crate::peaks::PeakSearchParams::from_json(params_json, "peak-search settings").map_err(err)?;
        let t0 = js_sys::Date::now();
        let mut report = |p: crate::peaks::Progress| {
            let Some(f) = &progress else { return };
            let r = match p {
                crate::peaks::Progress::Detected { candidates } => {
                    ProgressReport { stage: "detected", done: 0, total: candidates }
                }
                crate::peaks::Progress::Fitting { done, total } => {
                    ProgressReport { stage: "fitting", done, total }
                }
            };
            if let Ok(v) = to_js(&r) {
                // A throwing callback must not stop the search.
                let _ = f.call1(&JsValue::NULL, &v);
            }
        };
        let params = crate::pipeline::peak_params_for_frame(&params, &self.frame);
        let list = crate::peaks::peak_search_with_progress(&self.frame, &params, &mut report).map_err(err)?;
        to_js(&PeakSearchOutput { list: &list, elapsed_ms: js_sys::Date::now() - t0 })
    }

    /// The whole pipeline on this image in one call — peak search → spot network (CPU) → indexing →
    /// orientation and strain refinement — from a pipeline `request` (the JSON of `lauekit index --request`
    /// and of scans: `{peaks, spotnet: {enabled}, index: {method: "lut", materials, settings, band,
    /// positions}}`, keys optional) with the detector `calibration`. Returns the pipeline's report: `{status,
    /// n_peaks, intensity_sum, peaks_intensity, n_good_spots, positions, peaks, descriptors, index: {grains,
    /// unindexed, n_peaks, emin_kev, emax_kev, settings, elapsed_ms}, elapsed_ms}` with the peaks and each
    /// grain's spots and simulated pattern kept.
    pub fn analyse(&self, calibration: JsValue, request: JsValue) -> Result<JsValue, JsError> {
        let c: Calibration = from_js(calibration, "calibration")?;
        let calibration = c.validated().map_err(err)?;
        let mut request: crate::pipeline::PipelineRequest = from_js_strict(request, "pipeline request")?;
        request.keep_spots = true;
        let models = crate::pipeline::Models::for_request(&request).map_err(err)?;
        let job = request.prepare(&models).map_err(err)?;
        let report = crate::pipeline::run_image(&self.frame, &calibration, &job, &models)
            .map_err(|e| JsError::new(&e.to_string()))?;
        to_js(&report)
    }
}

/// LaueTools' `PeakSearch` defaults, with its keyword names.
#[wasm_bindgen]
pub fn default_peak_params() -> Result<JsValue, JsError> {
    to_js(&crate::peaks::PeakSearchParams::default())
}

/// Reads peak-search settings from a file called `name`: a LaueTools `.psp` file, else a JSON object of
/// `PeakSearch` keyword arguments (e.g. `peaksearch.json`). Returns the complete settings (defaults filled
/// in); unknown keys and unusable values are errors naming the file.
#[wasm_bindgen]
pub fn parse_peak_params(text: &str, name: &str) -> Result<JsValue, JsError> {
    use crate::peaks::PeakSearchParams;
    let p = if name.to_ascii_lowercase().ends_with(".psp") {
        PeakSearchParams::from_psp(text, name)
    } else {
        PeakSearchParams::from_json(text, name)
    };
    to_js(&p.map_err(err)?)
}

/// LaueTools `.dat` text of a peak list (as `peak_search` returned it).
#[wasm_bindgen]
pub fn peaks_dat(peaks: JsValue, source: &str, comment: &str) -> Result<String, JsError> {
    let p: Vec<crate::peaks::Peak> = from_js(peaks, "peaks")?;
    Ok(crate::io::peaklist::write_dat(&p, source, comment))
}

/// LaueTools `.cor` text (2θ, χ, X, Y, I and the calibration) of a peak list.
#[wasm_bindgen]
pub fn peaks_cor(peaks: JsValue, calibration: JsValue, source: &str) -> Result<String, JsError> {
    let p: Vec<crate::peaks::Peak> = from_js(peaks, "peaks")?;
    let c: Calibration = from_js(calibration, "calibration")?;
    let c = c.validated().map_err(err)?;
    Ok(crate::io::peaklist::write_cor(&p, &c, source))
}

// ---------------------------------------------------------------------------------------------------------------
// Indexing (the classical look-up-table method of `crate::index`) of a peak list, and the `.fit` of a grain.

/// The fields of a peak the indexer uses (a `peak_search` peak, or any `{x, y, intensity}`).
#[derive(Deserialize)]
struct PeakIn {
    x: f64,
    y: f64,
    intensity: f64,
}

fn experimental_spots(
    peaks: JsValue,
    calibration: JsValue,
) -> Result<(Vec<crate::index::ExperimentalSpot>, Calibration), JsError> {
    let p: Vec<PeakIn> = from_js(peaks, "peaks")?;
    let c: Calibration = from_js(calibration, "calibration")?;
    let c = c.validated().map_err(err)?;
    let spots =
        p.iter().map(|p| crate::index::ExperimentalSpot::from_pixel(p.x, p.y, p.intensity, &c)).collect();
    Ok((spots, c))
}

/// Indexing options: `emin_kev`, `emax_kev` (default 5–22), `grains` (= `nbgrainstofind`) and any
/// `IndexSettings` key with LaueTools' names; unknown keys are errors.
fn index_options(options: JsValue) -> Result<(crate::index::IndexSettings, f64, f64), JsError> {
    use crate::index::IndexSettings;
    let bad = |e: serde_json::Error| JsError::new(&format!("indexing options: {e}"));
    let mut settings = serde_json::to_value(IndexSettings::default()).map_err(bad)?;
    let band = crate::pipeline::Band::default();
    let (mut emin, mut emax) = (band.emin_kev, band.emax_kev);
    if !(options.is_undefined() || options.is_null()) {
        let given: serde_json::Map<String, serde_json::Value> = from_js(options, "indexing options")?;
        for (key, value) in given {
            let number = || {
                value
                    .as_f64()
                    .ok_or_else(|| JsError::new(&format!("indexing options: {key} must be a number")))
            };
            match key.as_str() {
                "emin_kev" => emin = number()?,
                "emax_kev" => emax = number()?,
                "grains" => settings["nbgrainstofind"] = value,
                k if settings.get(k).is_some() => settings[k] = value,
                k => {
                    let known: Vec<&str> =
                        settings.as_object().map_or(Vec::new(), |o| o.keys().map(String::as_str).collect());
                    return Err(JsError::new(&format!(
                        "indexing options: unknown key {k:?} (known: emin_kev, emax_kev, grains, {})",
                        known.join(", ")
                    )));
                }
            }
        }
    }
    let settings: IndexSettings = serde_json::from_value(settings).map_err(bad)?;
    crate::pipeline::Band { emin_kev: emin, emax_kev: emax }
        .validated()
        .map_err(|e| JsError::new(&format!("indexing options: {e}")))?;
    if settings.nbgrainstofind == 0 {
        return Err(JsError::new("indexing options: grains must be at least 1"));
    }
    Ok((settings, emin, emax))
}

/// Indexes a peak list with LaueTools' look-up-table method. `peaks`: `[{x, y, intensity}]` (as `peak_search`
/// returns them; peak i is position i), `calibration` as for `simulate`, `materials`: names from `materials()` or
/// definitions from `parse_materials_file` (`{name, lattice, spacegroup, extinction}`),
/// `options`: see the README. Returns `{grains: [{material, ub, b0, euler, matching_rate, n_indexed, n_simulated,
/// rms_px, spots: [{peak, hkl, energy_kev, residual_px, x, y, x_theo_px, y_theo_px, ...}], simulated: [{x, y, hkl,
/// energy_kev, matched}]}], unindexed, n_peaks, settings, emin_kev, emax_kev, elapsed_ms}`.
#[wasm_bindgen]
pub fn index_peaks(
    peaks: JsValue,
    calibration: JsValue,
    materials: JsValue,
    options: JsValue,
) -> Result<JsValue, JsError> {
    use crate::index::{Experiment, index_spots};
    let (spots, calibration) = experimental_spots(peaks, calibration)?;
    let specs: Vec<crate::crystal::MaterialSpec> = from_js(materials, "materials")?;
    let table = crate::crystal::MaterialCatalog::table();
    let mats: Vec<crate::crystal::Material> =
        specs.iter().map(|m| m.resolve(&table)).collect::<Result<_, _>>().map_err(err)?;
    let (settings, emin_kev, emax_kev) = index_options(options)?;
    let exp = Experiment { calibration, emin_kev, emax_kev };
    let t0 = js_sys::Date::now();
    let result = index_spots(&spots, &mats, &exp, &settings).map_err(err)?;
    let elapsed_ms = js_sys::Date::now() - t0;
    index_output(&result, &spots, &mats, &exp, &settings, elapsed_ms)
}

/// The JS object of an indexing result (shared by both methods): the pipeline's [`IndexReport`], the same
/// shape as `lauekit index --format json`, with spots and simulated patterns.
fn index_output(
    result: &crate::index::IndexResult,
    spots: &[crate::index::ExperimentalSpot],
    mats: &[crate::crystal::Material],
    exp: &crate::index::Experiment,
    settings: &crate::index::IndexSettings,
    elapsed_ms: f64,
) -> Result<JsValue, JsError> {
    to_js(&crate::pipeline::IndexReport::new(result, spots, mats, exp, settings, elapsed_ms, true))
}

/// What `grain_fit_text` reads back from a grain of `index_peaks` (other fields are ignored).
#[derive(Deserialize)]
struct GrainIn {
    material: String,
    ub: [[f64; 3]; 3],
    b0: [[f64; 3]; 3],
    matching_rate: f64,
    n_simulated: usize,
    rms_px: Option<f64>,
    spots: Vec<crate::index::MatchedSpot>,
}

/// LaueTools `.fit` text of one grain of `index_peaks` (`grain`: the object it returned, `grain_index`: its
/// rank), with the same `peaks` and `calibration`; `source` names the image or peak list, `ccd_label` the
/// detector (e.g. MARCCD165).
#[wasm_bindgen]
pub fn grain_fit_text(
    grain: JsValue,
    peaks: JsValue,
    calibration: JsValue,
    grain_index: usize,
    source: &str,
    ccd_label: &str,
) -> Result<String, JsError> {
    let g: GrainIn = from_js(grain, "grain")?;
    let (spots, calibration) = experimental_spots(peaks, calibration)?;
    if let Some(m) = g.spots.iter().find(|m| m.peak >= spots.len()) {
        return Err(JsError::new(&format!(
            "grain: spot of peak {} but the peak list has {} peaks",
            m.peak,
            spots.len()
        )));
    }
    let m = |a: [[f64; 3]; 3]| nalgebra::Matrix3::from_fn(|r, c| a[r][c]);
    // Through serde so that fields the grain gains later (with their defaults) need no change here.
    let grain: crate::index::IndexedGrain = serde_json::from_value(serde_json::json!({
        "material": g.material,
        "ub": m(g.ub),
        "b0": m(g.b0),
        "matching_rate": g.matching_rate,
        "n_simulated": g.n_simulated,
        "spots": g.spots,
        // not written to the .fit (its RMS comes from the spots)
        "rms_px": g.rms_px.filter(|v| v.is_finite()).unwrap_or(0.0),
    }))
    .map_err(|e| JsError::new(&format!("grain: {e}")))?;
    Ok(crate::index::fit_out::fit_text(&grain, grain_index, &spots, &calibration, source, ccd_label))
}
