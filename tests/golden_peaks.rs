#![allow(clippy::unwrap_used)]
//! Golden peak list: `tests/data/golden/peaks/Ge_blanc.json` holds the native peak search of the page's bundled
//! example (`www/examples/Ge_blanc_0000.mccd` with `www/examples/peaksearch.json`). The native build must
//! reproduce it; the browser test (tests/web.rs) and the page's end-to-end test (tests/e2e/peaks.e2e.mjs)
//! compare their wasm results with the same file. `UPDATE_GOLDEN=1 cargo test --test golden_peaks` rewrites it.

use lauekit::io::{ReadOptions, read_image};
use lauekit::peaks::{Peak, PeakSearchParams, peak_search};

#[derive(serde::Serialize, serde::Deserialize)]
struct Golden {
    image: String,
    params: serde_json::Value,
    note: String,
    peaks: Vec<Peak>,
}

#[test]
fn native_peak_search_matches_the_golden_file() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let path = root.join("tests/data/golden/peaks/Ge_blanc.json");
    let mut g: Golden = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    let bytes = std::fs::read(root.join(&g.image)).unwrap();
    let frame = read_image(&bytes, &g.image, &ReadOptions::default()).unwrap();
    let params = PeakSearchParams::from_json(&g.params.to_string(), "golden params").unwrap();
    let ours = peak_search(&frame, &params).unwrap().peaks;
    if std::env::var("UPDATE_GOLDEN").is_ok_and(|v| v == "1") {
        g.peaks = ours;
        std::fs::write(&path, serde_json::to_string_pretty(&g).unwrap() + "\n").unwrap();
        return;
    }
    assert_eq!(ours.len(), g.peaks.len(), "peak count");
    assert_eq!(ours.len(), 97);
    for (i, (a, b)) in ours.iter().zip(&g.peaks).enumerate() {
        let d = (a.x - b.x).abs().max((a.y - b.y).abs());
        assert!(d < 1e-6, "peak {i}: ({}, {}) vs golden ({}, {})", a.x, a.y, b.x, b.y);
        assert!(
            (a.intensity_sub - b.intensity_sub).abs() < 1e-3 * b.intensity_sub.abs().max(1.0),
            "peak {i}"
        );
    }
}
