//! Detector calibration in the page (the Calibrate panel of "Images & peaks"): [`crate::refine::calibrate`]
//! on a peak list, and the LaueTools `.det` of its result ([`crate::io::det_text`], as `lauekit calibrate -o`
//! writes it). Thin: requests in, reports out.

use serde::{Deserialize, Serialize};
use wasm_bindgen::prelude::*;

use super::{PeakIn, err, from_js, from_js_strict, to_js};
use crate::io::image::PRESETS;
use crate::io::{DetRecord, det_text, utc_string};
use crate::refine::{CalibrationRequest, calibrate};

/// Calibrates the detector on a peak list of a reference crystal. `peaks`: `[{x, y, intensity}]` (as
/// `peak_search` returns them; other fields are ignored), `request`: a `CalibrationRequest` (`{material,
/// start: {distance_mm, xcen_px, ycen_px, xbet_deg, xgam_deg, pixel_size_mm, rows, cols}, fixed: ["xbet", …],
/// emin_kev, emax_kev, matching_tolerances_deg, …}`; keys other than its fields are errors). Returns the
/// `CalibrationReport` (`lauekit calibrate --format json`): `{calibration, uncertainties, rms_px,
/// mean_residual_px, n_spots_used, n_peaks, matching_rate, ub, history, spots: [{peak, hkl, energy_kev, x_px,
/// y_px, x_theo_px, y_theo_px, residual_px}], warnings, elapsed_ms, …}`.
#[wasm_bindgen]
pub fn calibrate_peaks(peaks: JsValue, request: JsValue) -> Result<JsValue, JsError> {
    let p: Vec<PeakIn> = from_js(peaks, "peaks")?;
    let request: CalibrationRequest = from_js_strict(request, "calibration request")?;
    let spots: Vec<(f64, f64, f64)> = p.iter().map(|p| (p.x, p.y, p.intensity)).collect();
    let report = calibrate(&spots, &request).map_err(err)?;
    to_js(&report)
}

/// The fields of a report `calibration_det_text` writes (the whole report object may be passed).
#[derive(Deserialize)]
struct ReportIn {
    material: String,
    calibration: crate::geometry::Calibration,
    ub: [[f64; 3]; 3],
    n_spots_used: usize,
    rms_px: f64,
}

/// LaueTools `.det` text of a calibration `report` (the object `calibrate_peaks` returned), dated now (UTC);
/// `ccd_label`: the detector's LaueTools name (e.g. MARCCD165; empty: the first preset of the same frame and
/// pixel size, if any), `source`: the image or peak list calibrated on.
#[wasm_bindgen]
pub fn calibration_det_text(report: JsValue, ccd_label: &str, source: &str) -> Result<String, JsError> {
    let r: ReportIn = from_js(report, "calibration report")?;
    let c = r.calibration.validated().map_err(err)?;
    let ub = nalgebra::Matrix3::from_fn(|i, j| r.ub[i][j]);
    if ub.iter().any(|v| !v.is_finite()) {
        return Err(JsError::new("calibration report: the orientation matrix ub has a non-finite value"));
    }
    let label = Some(ccd_label.trim()).filter(|l| !l.is_empty()).or_else(|| {
        PRESETS
            .iter()
            .find(|p| {
                p.rows == c.rows && p.cols == c.cols && (p.pixel_size_mm - c.pixel_size_mm).abs() < 1e-9
            })
            .map(|p| p.label)
    });
    let when = utc_string((js_sys::Date::now() / 1000.0).floor() as i64);
    let record = DetRecord {
        material: &r.material,
        ub: &ub,
        n_spots: r.n_spots_used,
        rms_px: r.rms_px,
        ccd_label: label,
        source,
        when: &when,
    };
    Ok(det_text(&c, &record))
}

#[derive(Serialize)]
struct DetectorPreset {
    name: &'static str,
    rows: usize,
    cols: usize,
    pixel_size_mm: f64,
    description: &'static str,
}

/// LaueTools' detector presets (its `dict_CCD`, as the image readers know them): `[{name, rows, cols,
/// pixel_size_mm, description}]`, the common set-ups first (MARCCD165, sCMOS, …).
#[wasm_bindgen]
pub fn detector_presets() -> Result<JsValue, JsError> {
    let rows: Vec<DetectorPreset> = PRESETS
        .iter()
        .map(|p| DetectorPreset {
            name: p.label,
            rows: p.rows,
            cols: p.cols,
            pixel_size_mm: p.pixel_size_mm,
            description: p.description,
        })
        .collect();
    to_js(&rows)
}
