//! Browser tests (wasm-bindgen-test in headless Chromium, see `webdriver.json`): the simulation compiled to
//! wasm reproduces the native golden results, through the library and through the JS surface; the compute
//! device works on WebGPU when the browser offers it and on the CPU fallback.
#![cfg(target_arch = "wasm32")]
#![allow(clippy::unwrap_used)]

use lauekit::simulate::{SimulationRequest, SimulationResult};
use wasm_bindgen::JsValue;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_dedicated_worker);

#[derive(serde::Deserialize)]
struct Golden {
    request: SimulationRequest,
    result: SimulationResult,
}

const GOLDEN: [(&str, &str); 3] = [
    ("cu_identity", include_str!("data/golden/cu_identity.json")),
    ("gan_scmos", include_str!("data/golden/gan_scmos.json")),
    ("zro2_sg14_tilted", include_str!("data/golden/zro2_sg14_tilted.json")),
];

/// Largest |Δ| over every number of every spot; hkl lists must be identical and in the same order.
fn max_difference(name: &str, ours: &SimulationResult, native: &SimulationResult) -> f64 {
    assert_eq!(ours.spots.len(), native.spots.len(), "{name}: spot count");
    let mut worst: f64 = 0.0;
    for (a, b) in ours.spots.iter().zip(&native.spots) {
        assert_eq!(
            (a.hkl(), a.harmonic_order, a.multiplicity),
            (b.hkl(), b.harmonic_order, b.multiplicity),
            "{name}: spot order/hkl"
        );
        for (x, y) in [
            (a.twotheta_deg, b.twotheta_deg),
            (a.chi_deg, b.chi_deg),
            (a.x_px, b.x_px),
            (a.y_px, b.y_px),
            (a.energy_kev, b.energy_kev),
        ] {
            worst = worst.max((x - y).abs());
        }
    }
    worst
}

#[wasm_bindgen_test]
fn wasm_simulation_equals_native() {
    for (name, text) in GOLDEN {
        let g: Golden = serde_json::from_str(text).unwrap();
        let ours = g.request.run().unwrap();
        let worst = max_difference(name, &ours, &g.result);
        // Same IEEE arithmetic; only libm's last-ulp differences in acos/atan2 may remain.
        assert!(worst < 1e-9, "{name}: wasm differs from native by {worst}");
        web_sys::console::log_1(
            &format!("{name}: {} spots, max |wasm − native| = {worst:e}", ours.spots.len()).into(),
        );
    }
}

#[wasm_bindgen_test]
fn js_surface_simulate_equals_native() {
    let (name, text) = GOLDEN[1];
    let g: Golden = serde_json::from_str(text).unwrap();
    let req = serde_wasm_bindgen::to_value(&g.request).unwrap();
    let out = lauekit::web::simulate(req).map_err(JsValue::from).unwrap();
    let ours: SimulationResult = serde_wasm_bindgen::from_value(out).unwrap();
    assert!(max_difference(name, &ours, &g.result) < 1e-9);
    // Bad input is an Error, not a panic.
    let bad = serde_wasm_bindgen::to_value(&serde_json::json!({"material": "Nope", "calibration": g.request.calibration, "emin_kev": 5, "emax_kev": 22})).unwrap();
    assert!(lauekit::web::simulate(bad).is_err());
}

#[wasm_bindgen_test]
async fn cpu_device_computes() {
    let d = lauekit::device::browser(false).await;
    assert_eq!(d.label, "cpu (flex)");
    assert_eq!(lauekit::device::self_check(&d.device).await.unwrap(), [17.0, 39.0]);
}

#[wasm_bindgen_test]
async fn webgpu_device_or_explained_fallback() {
    let d = lauekit::device::browser(true).await;
    let product = lauekit::device::self_check(&d.device).await.unwrap();
    assert_eq!(product, [17.0, 39.0], "device {}", d.label);
    // `make test` runs this suite twice: Chromium with WebGPU enabled (webdriver.json) and without
    // (tests/webdriver-no-webgpu.json), telling the build which outcome to demand.
    match option_env!("LAUEKIT_EXPECT_WEBGPU") {
        Some("1") => assert_eq!(d.label, "webgpu", "WebGPU expected; fell back: {:?}", d.fallback_reason),
        Some("0") => assert!(
            d.label != "webgpu" && d.fallback_reason.is_some(),
            "CPU fallback expected, got {}",
            d.label
        ),
        _ => match d.label.as_str() {
            "webgpu" => assert!(d.fallback_reason.is_none()),
            _ => assert!(d.fallback_reason.is_some(), "fell back to {} without a reason", d.label),
        },
    }
    web_sys::console::log_1(&format!("device: {} {:?}", d.label, d.fallback_reason).into());
}
