#![allow(clippy::unwrap_used)]
//! Simulation against LaueTools 3.2.19 (`SimulateLaue_full_np`) on the same inputs: the same set of hkl
//! rows, x and y within 0.01 px, 2θ and χ within 1e-4°, energy within 1e-4 keV.
//!
//! References: `../shared/data/reference` (shipped with the project brief) and `tests/data/lauetools`
//! (made by `scripts/make-references.sh` with the shared LaueTools recipe).

use std::collections::BTreeMap;
use std::path::PathBuf;

use lauekit::crystal::Material;
use lauekit::geometry::{Calibration, euler_to_matrix};
use lauekit::io::FitFile;
use lauekit::simulate::{DetectorCut, Grain, SimulationSettings, Spot, simulate_grain};
use nalgebra::Matrix3;

const TOL_PX: f64 = 0.01;
const TOL_DEG: f64 = 1e-4;
const TOL_KEV: f64 = 1e-4;

fn shared(rel: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/data").join(rel)
}

fn local(rel: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data").join(rel)
}

fn read(p: &PathBuf) -> String {
    std::fs::read_to_string(p)
        .unwrap_or_else(|e| panic!("{}: {e} (is ../shared beside the repo?)", p.display()))
}

/// hkl → [2θ, χ, x, y, E] rows of a reference TSV (keeps the first 8 columns).
fn reference(text: &str) -> BTreeMap<[i32; 3], [f64; 5]> {
    let mut out = BTreeMap::new();
    for line in text.lines().filter(|l| !l.starts_with('#') && !l.starts_with('h') && !l.trim().is_empty()) {
        let f: Vec<&str> = line.split('\t').collect();
        let hkl = [f[0].parse().unwrap(), f[1].parse().unwrap(), f[2].parse().unwrap()];
        let v: Vec<f64> = f[3..8].iter().map(|s| s.parse().unwrap()).collect();
        assert!(out.insert(hkl, [v[0], v[1], v[2], v[3], v[4]]).is_none(), "duplicate hkl {hkl:?}");
    }
    out
}

/// Header field `key=value` (value up to the next space).
fn header_field<'a>(text: &'a str, key: &str) -> &'a str {
    let first = text.lines().next().unwrap();
    let start =
        first.find(&format!("{key}=")).unwrap_or_else(|| panic!("no {key}= in header")) + key.len() + 1;
    first[start..].split(' ').next().unwrap()
}

fn nums(s: &str) -> Vec<f64> {
    s.trim_matches(|c| c == '[' || c == ']')
        .split([',', ' '])
        .filter(|t| !t.is_empty())
        .map(|t| t.parse().unwrap())
        .collect()
}

fn compare(name: &str, spots: &[Spot], reference: &BTreeMap<[i32; 3], [f64; 5]>) {
    let ours: BTreeMap<[i32; 3], &Spot> = spots.iter().map(|s| (s.hkl(), s)).collect();
    assert_eq!(ours.len(), spots.len(), "{name}: duplicate hkl in our list");
    let missing: Vec<_> = reference.keys().filter(|k| !ours.contains_key(*k)).collect();
    let extra: Vec<_> = ours.keys().filter(|k| !reference.contains_key(*k)).collect();
    assert!(missing.is_empty() && extra.is_empty(), "{name}: missing {missing:?}, extra {extra:?}");
    let mut worst = [0f64; 5];
    for (hkl, r) in reference {
        let s = ours[hkl];
        let d = [
            (s.twotheta_deg - r[0]).abs(),
            (s.chi_deg - r[1]).abs(),
            (s.x_px - r[2]).abs(),
            (s.y_px - r[3]).abs(),
            (s.energy_kev - r[4]).abs(),
        ];
        for i in 0..5 {
            worst[i] = worst[i].max(d[i]);
        }
        assert!(d[0] <= TOL_DEG && d[1] <= TOL_DEG, "{name} {hkl:?}: 2θ/χ off by {:?}", &d[..2]);
        assert!(d[2] <= TOL_PX && d[3] <= TOL_PX, "{name} {hkl:?}: x/y off by {:?}", &d[2..4]);
        assert!(d[4] <= TOL_KEV, "{name} {hkl:?}: energy off by {}", d[4]);
    }
    eprintln!(
        "{name}: {} spots, worst |Δ| 2θ {:.1e}° χ {:.1e}° x {:.1e} px y {:.1e} px E {:.1e} keV",
        spots.len(),
        worst[0],
        worst[1],
        worst[2],
        worst[3],
        worst[4]
    );
}

fn calib(p: [f64; 5], pixel: f64, rows: usize, cols: usize) -> Calibration {
    Calibration {
        distance_mm: p[0],
        xcen_px: p[1],
        ycen_px: p[2],
        xbet_deg: p[3],
        xgam_deg: p[4],
        pixel_size_mm: pixel,
        rows,
        cols,
    }
}

fn run(material: &str, ub: Matrix3<f64>, c: Calibration, emin: f64, emax: f64) -> Vec<Spot> {
    run_cut(material, ub, c, emin, emax, DetectorCut::Frame)
}

fn run_cut(
    material: &str,
    ub: Matrix3<f64>,
    c: Calibration,
    emin: f64,
    emax: f64,
    cut: DetectorCut,
) -> Vec<Spot> {
    let grain = Grain { material: Material::from_table(material).unwrap(), ub };
    let settings =
        SimulationSettings { emin_kev: emin, emax_kev: emax, calibration: c, with_multiplicity: false, cut };
    simulate_grain(&grain, &settings).unwrap()
}

#[test]
fn cu_and_ge_full_frame_identity_ub() {
    let c = calib([70.0, 1024.0, 1024.0, 0.0, 0.0], 0.079142, 2048, 2048);
    for (mat, file) in [("Cu", "reference/sim_Cu_fullframe.tsv"), ("Ge", "reference/sim_Ge_fullframe.tsv")] {
        let spots = run(mat, Matrix3::identity(), c, 5.0, 22.0);
        compare(file, &spots, &reference(&read(&shared(file))));
    }
}

#[test]
fn ge_blanc_with_the_fit_ub_and_calibration() {
    let fit_path = shared("real/Ge_blanc/Ge_blanc_0000_LT_5.fit");
    let fit = FitFile::parse(&read(&fit_path), "Ge_blanc_0000_LT_5.fit").unwrap();
    let p = fit.detector_parameters.expect("DetectorParameters in .fit");
    assert_eq!(p, [70.775, 941.736, 1082.562, 0.63, -0.682]);
    assert_eq!(fit.material.as_deref(), Some("Ge"));
    let (rows, cols) = fit.frame.unwrap();
    let pixel = fit.pixel_size_mm.unwrap();
    // This reference keeps LaueTools' on-camera disc of diameter pixelsize × dim[0], not the frame.
    let cut = DetectorCut::LaueToolsDisc { diameter_mm: pixel * rows as f64 };
    let spots = run_cut("Ge", fit.ub, calib(p, pixel, rows, cols), 5.0, 22.0, cut);
    let file = "reference/sim_Ge_blanc_0000_fitUB.tsv";
    compare(file, &spots, &reference(&read(&shared(file))));
}

/// W, GaN, Si, UO2 on the sCMOS frame (2018 × 2016) with the GaN_Si tilted calibration; ZrO2 (monoclinic),
/// Al2O3 (trigonal, hexagonal axes) and Ti (hcp, no rule) on a MarCCD frame with larger tilts.
#[test]
fn other_materials_orientations_and_tilted_calibrations() {
    let cases = [
        ("W", "W_sCMOS", [10.0, 20.0, 30.0]),
        ("GaN", "GaN_sCMOS", [35.0, 50.0, -20.0]),
        ("Si", "Si_sCMOS", [82.5, 44.1, 175.3]),
        ("UO2", "UO2_sCMOS", [-60.0, 125.0, 15.0]),
        ("ZrO2", "ZrO2_tilted", [15.0, 40.0, 70.0]),
        ("Al2O3", "Al2O3_tilted", [100.0, 30.0, -45.0]),
        ("Ti", "Ti_tilted", [5.0, 60.0, 10.0]),
    ];
    for (mat, tag, euler) in cases {
        let file = local(&format!("lauetools/sim_{tag}.tsv"));
        let text = read(&file);
        let ub = Matrix3::from_row_slice(&nums(header_field(&text, "ub")));
        // The reference UB was made by LaueTools' fromEULERangles_toMatrix: ours must agree.
        assert!((euler_to_matrix(euler) - ub).abs().max() < 1e-11, "{tag}: Euler convention differs");
        let p = nums(
            &text
                .lines()
                .next()
                .unwrap()
                .split("calib=")
                .nth(1)
                .unwrap()
                .split(']')
                .next()
                .unwrap()
                .replace('[', ""),
        );
        let pixel: f64 = header_field(&text, "pixelsize").parse().unwrap();
        let frame: Vec<usize> = header_field(&text, "frame").split('x').map(|v| v.parse().unwrap()).collect();
        let emin: f64 = header_field(&text, "emin").parse().unwrap();
        let emax: f64 = header_field(&text, "emax").parse().unwrap();
        let spots =
            run(mat, ub, calib([p[0], p[1], p[2], p[3], p[4]], pixel, frame[0], frame[1]), emin, emax);
        compare(tag, &spots, &reference(&text));
    }
}

/// The command in the issue, run as a user would, reproduces the Cu reference.
#[test]
fn cli_simulate_prints_the_reference_table() {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_lauekit"))
        .args([
            "simulate",
            "--material",
            "Cu",
            "--calib",
            "70,1024,1024,0,0",
            "--pixel-size",
            "0.079142",
            "--frame",
            "2048x2048",
            "--ub=1,0,0,0,1,0,0,0,1",
            "--emin",
            "5",
            "--emax",
            "22",
            "--format",
            "tsv",
        ])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let text = String::from_utf8(out.stdout).unwrap();
    assert_eq!(text.lines().next().unwrap(), "h\tk\tl\ttwotheta_deg\tchi_deg\tx_px\ty_px\tenergy_keV");
    let ours = reference(&text);
    let theirs = reference(&read(&shared("reference/sim_Cu_fullframe.tsv")));
    assert_eq!(ours.keys().collect::<Vec<_>>(), theirs.keys().collect::<Vec<_>>());
    for (k, r) in &theirs {
        let o = ours[k];
        assert!(
            (o[2] - r[2]).abs() <= TOL_PX && (o[3] - r[3]).abs() <= TOL_PX && (o[4] - r[4]).abs() <= TOL_KEV,
            "{k:?}"
        );
    }
    // Negative numbers after --ub= and a .det path for --calib.
    let det = shared("real/Ge_blanc/calibGe111.det");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_lauekit"))
        .args([
            "simulate",
            "--material",
            "Ge",
            "--calib",
            det.to_str().unwrap(),
            "--euler",
            "-10,20,-30",
            "--format",
            "json",
        ])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(v["n_spots"].as_u64().unwrap() > 50);
    assert_eq!(v["calibration"]["rows"], 2048);
}

#[test]
fn cli_rejects_bad_input_clearly() {
    let run = |args: &[&str]| {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_lauekit")).args(args).output().unwrap();
        assert!(!out.status.success());
        String::from_utf8_lossy(&out.stderr).to_string()
    };
    let e = run(&[
        "simulate",
        "--material",
        "Kryptonite",
        "--calib",
        "70,1024,1024,0,0",
        "--pixel-size",
        "0.08",
        "--frame",
        "2048x2048",
        "--ub=1,0,0,0,1,0,0,0,1",
    ]);
    assert!(e.contains("Kryptonite"), "{e}");
    let e = run(&["simulate", "--material", "Cu", "--calib", "/nonexistent/x.det", "--ub=1,0,0,0,1,0,0,0,1"]);
    assert!(e.contains("/nonexistent/x.det"), "{e}");
    let e = run(&[
        "simulate",
        "--material",
        "Cu",
        "--calib",
        "70,1024,1024,0,0",
        "--pixel-size",
        "0.08",
        "--frame",
        "2048x2048",
        "--ub=1,0,0,0,1,0,0,0",
    ]);
    assert!(e.contains("--ub") && e.contains("9"), "{e}");
    let e = run(&[
        "simulate",
        "--material",
        "Cu",
        "--calib",
        "70,1024,1024,0,0",
        "--pixel-size",
        "0.08",
        "--frame",
        "2048x2048",
        "--ub=0,0,0,0,0,0,0,0,0",
    ]);
    assert!(e.contains("singular"), "{e}");
    let e = run(&[
        "simulate",
        "--material",
        "Cu",
        "--calib",
        "70,1024,1024,0,0",
        "--pixel-size",
        "0.08",
        "--frame",
        "2048x2048",
        "--euler",
        "0,0,0",
        "--emin",
        "22",
        "--emax",
        "5",
    ]);
    assert!(e.contains("Emin"), "{e}");
}
