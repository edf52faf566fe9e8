//! The whole JavaScript surface (wasm32 only): thin functions that turn JS values into library calls.
//! All logic lives in the core modules; errors become JS `Error`s with the library's message.

use serde::Serialize;
use wasm_bindgen::prelude::*;

use crate::crystal::{LaueGroup, MATERIALS};
use crate::geometry::{Calibration, euler_to_matrix, orientation::rotate_in_lab};
use crate::io::DetFile;
use crate::simulate::SimulationRequest;

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
    to_js(&DetOutput { calibration: d.calibration, ub, material: d.get("Material").map(str::to_string) })
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
