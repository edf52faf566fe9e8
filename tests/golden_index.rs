#![allow(clippy::unwrap_used)]
//! Golden indexing: `tests/data/golden/index/Ge_blanc.json` holds the native classical indexing of the page's
//! bundled example (`www/examples/Ge_blanc_0000.mccd`, peak search with `www/examples/peaksearch.json`, calibration
//! `www/examples/calibGe111.det`, material Ge, default settings, 5–22 keV), and LaueTools' UB for the same image
//! (`../shared/data/real/Ge_blanc/Ge_blanc_0000_LT_5.fit`) so that the browser tests need no file outside the
//! repository. The native build must reproduce it; the browser test (tests/web.rs) and the page's end-to-end test
//! (tests/e2e/peaks.e2e.mjs) compare their wasm results with it.
//! `tests/data/golden/index/Ge_blanc_nn.json` is the same with LaueNN: the ready Ge model the page ships
//! (`www/models/Ge.bpk` + `.json`, f16 weights).
//! `UPDATE_GOLDEN=1 cargo test --test golden_index` rewrites them.

use std::path::Path;

use lauekit::crystal::Material;
use lauekit::geometry::misorientation_deg;
use lauekit::index::nn::HklModel;
use lauekit::index::{Experiment, IndexSettings, Method, index_spots, index_with_model, spots_from_peaks};
use lauekit::io::{DetFile, ReadOptions, fit::FitFile, read_image};
use lauekit::peaks::{PeakSearchParams, peak_search};
use nalgebra::Matrix3;

#[derive(serde::Serialize, serde::Deserialize)]
struct GoldenSpot {
    peak: usize,
    hkl: [i32; 3],
}

#[derive(serde::Serialize, serde::Deserialize)]
struct GoldenGrain {
    material: String,
    /// rows of LaueTools' "UB matrix in q = (UB) B0 G*"
    ub: [[f64; 3]; 3],
    matching_rate: f64,
    n_indexed: usize,
    spots: Vec<GoldenSpot>,
}

#[derive(serde::Serialize, serde::Deserialize)]
struct Golden {
    image: String,
    params: String,
    calibration: String,
    materials: Vec<String>,
    emin_kev: f64,
    emax_kev: f64,
    note: String,
    grains: Vec<GoldenGrain>,
    /// LaueTools' fitted UB of this image (rows) and the file it comes from
    lauetools_ub: [[f64; 3]; 3],
    lauetools_fit: String,
    /// LaueNN model (path without extension: MODEL.bpk + MODEL.json); none for the look-up table
    #[serde(default, skip_serializing_if = "Option::is_none")]
    model: Option<String>,
}

fn rows(m: &Matrix3<f64>) -> [[f64; 3]; 3] {
    [0, 1, 2].map(|r| [m[(r, 0)], m[(r, 1)], m[(r, 2)]])
}

fn matrix(a: &[[f64; 3]; 3]) -> Matrix3<f64> {
    Matrix3::from_fn(|r, c| a[r][c])
}

#[test]
fn native_indexing_matches_the_golden_file() {
    check_golden("tests/data/golden/index/Ge_blanc.json");
}

#[test]
fn native_lauenn_indexing_matches_the_golden_file() {
    check_golden("tests/data/golden/index/Ge_blanc_nn.json");
}

fn check_golden(rel: &str) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let path = root.join(rel);
    let mut g: Golden = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    let read = |rel: &str| std::fs::read_to_string(root.join(rel)).unwrap();
    let bytes = std::fs::read(root.join(&g.image)).unwrap();
    let frame = read_image(&bytes, &g.image, &ReadOptions::default()).unwrap();
    let params = PeakSearchParams::from_json(&read(&g.params), &g.params).unwrap();
    let peaks = peak_search(&frame, &params).unwrap().peaks;
    let det = DetFile::parse(&read(&g.calibration), &g.calibration).unwrap();
    let spots = spots_from_peaks(&peaks, &det.calibration);
    let materials: Vec<Material> = g.materials.iter().map(|m| Material::from_table(m).unwrap()).collect();
    let exp = Experiment { calibration: det.calibration, emin_kev: g.emin_kev, emax_kev: g.emax_kev };
    let result = match &g.model {
        None => index_spots(&spots, &materials, &exp, &IndexSettings::default()).unwrap(),
        Some(m) => {
            let weights = std::fs::read(root.join(format!("{m}.bpk"))).unwrap();
            let meta = read(&format!("{m}.json"));
            let model = HklModel::from_bytes(&weights, &meta, &lauekit::device::cpu().device).unwrap();
            let r = index_with_model(&spots, &materials, &model, &exp, &IndexSettings::default()).unwrap();
            assert!(r.grains.iter().all(|g| g.method == Method::Nn), "every grain found by the network");
            r
        }
    };
    let ours: Vec<GoldenGrain> = result
        .grains
        .iter()
        .map(|gr| GoldenGrain {
            material: gr.material.clone(),
            ub: rows(&gr.ub),
            matching_rate: gr.matching_rate,
            n_indexed: gr.spots.len(),
            spots: gr.spots.iter().map(|s| GoldenSpot { peak: s.peak, hkl: s.hkl }).collect(),
        })
        .collect();
    let lt_path = root.join(&g.lauetools_fit);
    if std::env::var("UPDATE_GOLDEN").is_ok_and(|v| v == "1") {
        g.grains = ours;
        let fit = std::fs::read_to_string(&lt_path).unwrap();
        g.lauetools_ub = rows(&FitFile::parse(&fit, &g.lauetools_fit).unwrap().ub);
        std::fs::write(&path, serde_json::to_string_pretty(&g).unwrap() + "\n").unwrap();
        return;
    }
    // LaueTools' UB copied into the golden file is the one of its .fit (when ../shared is there).
    if let Ok(fit) = std::fs::read_to_string(&lt_path) {
        let lt = FitFile::parse(&fit, &g.lauetools_fit).unwrap().ub;
        assert!(
            (lt - matrix(&g.lauetools_ub)).amax() < 1e-12,
            "lauetools_ub differs from {}",
            g.lauetools_fit
        );
    }
    assert_eq!(ours.len(), 1, "Ge_blanc: one grain");
    assert_eq!(g.grains.len(), 1);
    let (a, b) = (&ours[0], &g.grains[0]);
    assert_eq!(a.material, "Ge");
    let d = (matrix(&a.ub) - matrix(&b.ub)).amax();
    assert!(d < 1e-9, "UB differs from the golden file by {d}");
    assert_eq!(a.n_indexed, b.n_indexed);
    assert!(a.n_indexed >= 95, "{} spots indexed", a.n_indexed);
    let same: Vec<(usize, [i32; 3])> = a.spots.iter().map(|s| (s.peak, s.hkl)).collect();
    let want: Vec<(usize, [i32; 3])> = b.spots.iter().map(|s| (s.peak, s.hkl)).collect();
    assert_eq!(same, want, "indexed peaks and hkl");
    let ge = Material::from_table("Ge").unwrap();
    let sym = ge.laue_group.rotations(&ge.lattice).unwrap();
    let mis = misorientation_deg(&matrix(&a.ub), &matrix(&g.lauetools_ub), &sym);
    assert!(mis <= 0.01, "misorientation to LaueTools {mis}°");
    // the same representative of the 24 cubic equivalents as LaueTools' indexing (IndexSpotsSet 3.2.19 on
    // Ge_blanc_0000_LT_5.dat; the .fit of lauetools_ub comes from its calibration dialog, which keeps another):
    // the matrices themselves agree
    let lt_index = [
        [0.99581017, -0.07147355, -0.05675924],
        [0.01222639, 0.72060658, -0.69318494],
        [0.09046037, 0.6896343, 0.7184879],
    ];
    let d = (matrix(&a.ub) - matrix(&lt_index)).amax();
    assert!(d < 5e-4, "UB differs from LaueTools' indexing by {d} (another cubic equivalent?)");
}
