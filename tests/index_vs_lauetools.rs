#![allow(clippy::unwrap_used)]

//! Classical (look-up-table) indexing of the real peak lists of ../shared/data against LaueTools' own
//! indexing (../shared/data/reference/indexing, ../shared/data/real/Ge_blanc/Ge_blanc_0000_LT_5.fit).
//!
//! | case | reference | tolerance |
//! |---|---|---|
//! | Ge_blanc, LaueTools' .dat and our peak search | 1 grain, 95 spots, UB of Ge_blanc_0000_LT_5.fit | ≥ 95 spots, ≤ 0.01° |
//! | Ge sCMOS .cor (181 peaks) | 4 grains, UBs of img_Ge_sCMOS_0000_181peaks_g{0..3}.fit | each ≤ 0.05° |
//! | GaN/Si nw1_0000.tif, our peaks at threshold 30 | Si substrate ~(001) + GaN grain(s) | Si ≥ 85 spots ≥ 75 %, GaN ≥ 14 spots ≥ 9 %, rms ≤ 0.4 px |

use std::path::PathBuf;
use std::time::Instant;

use lauekit::crystal::Material;
use lauekit::geometry::misorientation_deg;
use lauekit::index::{
    Experiment, ExperimentalSpot, IndexResult, IndexSettings, index_spots, spots_from_cor, spots_from_peaks,
};
use lauekit::io::{
    ReadOptions, det::DetFile, fit::FitFile, peaklist::read_cor, peaklist::read_dat, read_image,
};
use lauekit::peaks::{Peak, PeakSearchParams, peak_search};
use nalgebra::Matrix3;

fn shared(rel: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/data").join(rel)
}

fn text(rel: &str) -> String {
    std::fs::read_to_string(shared(rel)).unwrap_or_else(|e| panic!("{rel}: {e}"))
}

fn fit_ub(rel: &str) -> Matrix3<f64> {
    FitFile::parse(&text(rel), rel).unwrap().ub
}

fn our_peaks(image: &str, params: &str, det: &DetFile) -> Vec<ExperimentalSpot> {
    let bytes = std::fs::read(shared(image)).unwrap();
    let frame = read_image(&bytes, image, &ReadOptions::default()).unwrap();
    let p = PeakSearchParams::from_json(&text(params), params).unwrap();
    spots_from_peaks(&peak_search(&frame, &p).unwrap().peaks, &det.calibration)
}

fn run(
    spots: &[ExperimentalSpot],
    materials: &[&str],
    exp: &Experiment,
    grains: usize,
) -> (IndexResult, f64) {
    run_with(spots, materials, exp, IndexSettings { nbgrainstofind: grains, ..IndexSettings::default() })
}

fn run_with(
    spots: &[ExperimentalSpot],
    materials: &[&str],
    exp: &Experiment,
    settings: IndexSettings,
) -> (IndexResult, f64) {
    let mats: Vec<Material> = materials.iter().map(|m| Material::from_table(m).unwrap()).collect();
    let t0 = Instant::now();
    let r = index_spots(spots, &mats, exp, &settings).unwrap();
    (r, t0.elapsed().as_secs_f64())
}

fn ge_blanc_experiment() -> Experiment {
    let det = DetFile::parse(&text("real/Ge_blanc/calibGe111.det"), "calibGe111.det").unwrap();
    Experiment { calibration: det.calibration, emin_kev: 5.0, emax_kev: 22.0 }
}

fn check_ge_blanc(spots: &[ExperimentalSpot], label: &str) {
    let exp = ge_blanc_experiment();
    let (r, secs) = run(spots, &["Ge"], &exp, 1);
    assert_eq!(r.grains.len(), 1, "{label}: one grain");
    let g = &r.grains[0];
    let ge = Material::from_table("Ge").unwrap();
    let sym = ge.laue_group.rotations(&ge.lattice).unwrap();
    let reference = fit_ub("real/Ge_blanc/Ge_blanc_0000_LT_5.fit");
    let mis = misorientation_deg(&g.ub, &reference, &sym);
    println!(
        "{label}: {} spots in, {} indexed, matching rate {:.1} % ({} simulated), rms {:.3} px, \
         misorientation to LaueTools {mis:.4}°, {:.1} ms",
        spots.len(),
        g.spots.len(),
        g.matching_rate,
        g.n_simulated,
        g.rms_px,
        secs * 1e3
    );
    // The .fit we write reads back (our parser, LaueTools' layout): same UB, material, calibration.
    let text = lauekit::index::fit_out::fit_text(g, 0, spots, &exp.calibration, label, "MARCCD165");
    let back = FitFile::parse(&text, "written.fit").unwrap();
    assert!((back.ub - g.ub).amax() < 1e-8);
    assert_eq!(back.material.as_deref(), Some("Ge"));
    assert_eq!(back.detector_parameters, Some(exp.calibration.params()));
    // The Euler angles line as LaueTools writes it for this crystal (Ge_blanc_0000_LT_5.fit: 82.528 44.071 175.319).
    let euler_line = text.lines().skip_while(|l| !l.starts_with("#Euler angles")).nth(1).unwrap();
    let euler: Vec<f64> = euler_line
        .trim_matches(|c| c == '#' || c == '[' || c == ']')
        .split_whitespace()
        .map(|t| t.parse().unwrap())
        .collect();
    for (got, want) in euler.iter().zip([82.528, 44.071, 175.319]) {
        assert!((got - want).abs() < 0.02, "{label}: Euler angles {euler:?}");
    }
    assert!(g.spots.len() >= 95, "{label}: {} spots indexed, need ≥ 95", g.spots.len());
    assert!(mis <= 0.01, "{label}: misorientation {mis}° > 0.01°");
}

#[test]
fn ge_blanc_lauetools_peak_list() {
    let det = DetFile::parse(&text("real/Ge_blanc/calibGe111.det"), "calibGe111.det").unwrap();
    let peaks = read_dat(&text("real/Ge_blanc/Ge_blanc_0000_LT_5.dat"), "Ge_blanc_0000_LT_5.dat").unwrap();
    check_ge_blanc(&spots_from_peaks(&peaks, &det.calibration), "Ge_blanc, LaueTools .dat");
}

#[test]
fn ge_blanc_our_peak_search() {
    let det = DetFile::parse(&text("real/Ge_blanc/calibGe111.det"), "calibGe111.det").unwrap();
    let spots = our_peaks("real/Ge_blanc/Ge_blanc_0000.mccd", "real/Ge_blanc/peaksearch.json", &det);
    check_ge_blanc(&spots, "Ge_blanc, lauekit peaks");
}

/// The pipeline with the spot network's positions (issue 5): the good spots of Ge_blanc (the image the shipped
/// network was not trained on) take the CNN's position, the others keep the fit's; the grain is LaueTools' within
/// 0.01° and the pixel residuals are no larger than with the fitted positions.
#[test]
fn ge_blanc_at_the_spot_network_positions() {
    use lauekit::spotnet::{
        GoodSpotCriteria, PositionSource, characterize, embedded_spotnet, use_cnn_positions,
    };
    let det = DetFile::parse(&text("real/Ge_blanc/calibGe111.det"), "calibGe111.det").unwrap();
    let image = "real/Ge_blanc/Ge_blanc_0000.mccd";
    let frame = read_image(&std::fs::read(shared(image)).unwrap(), image, &ReadOptions::default()).unwrap();
    let p = PeakSearchParams::from_json(&text("real/Ge_blanc/peaksearch.json"), "peaksearch.json").unwrap();
    let fitted = peak_search(&frame, &p).unwrap().peaks;
    let device = lauekit::device::cpu().device;
    let net = embedded_spotnet(&device).unwrap();
    let at: Vec<(f64, f64)> = fitted.iter().map(Peak::detected_pixel).collect();
    let d = characterize(&frame, &at, &net, &device, &GoodSpotCriteria::default());
    let mut moved = fitted.clone();
    let report = use_cnn_positions(&mut moved, &d).unwrap();
    println!("{report}");
    assert_eq!(report.source, PositionSource::Cnn);
    assert_eq!(report.from_cnn + report.from_fit, 97);
    assert!(report.from_cnn >= 70, "{report}");
    // Moved peaks stay within 0.2 px of the fit (both estimate the same centre); the others did not move.
    for ((a, b), d) in moved.iter().zip(&fitted).zip(&d) {
        let shift = ((a.x - b.x).powi(2) + (a.y - b.y).powi(2)).sqrt();
        if d.good { assert!(shift < 0.2, "a good spot moved {shift} px") } else { assert_eq!(shift, 0.0) }
    }
    check_ge_blanc(&spots_from_peaks(&moved, &det.calibration), "Ge_blanc, spot-network positions");
    let exp = ge_blanc_experiment();
    let (with_fit, _) = run(&spots_from_peaks(&fitted, &det.calibration), &["Ge"], &exp, 1);
    let (with_cnn, _) = run(&spots_from_peaks(&moved, &det.calibration), &["Ge"], &exp, 1);
    let (rf, rc) = (with_fit.grains[0].rms_px, with_cnn.grains[0].rms_px);
    println!("rms: fitted positions {rf:.4} px, spot-network positions {rc:.4} px");
    assert!(rc <= rf + 0.005, "rms {rc} px at the CNN positions vs {rf} px at the fitted ones");
}

#[test]
fn ge_scmos_four_grains() {
    let rel = "real/Ge_sCMOS/img_Ge_sCMOS_0000_181peaks.cor";
    let cor = read_cor(&text(rel), rel).unwrap();
    let exp = Experiment { calibration: cor.calibration(rel).unwrap(), emin_kev: 5.0, emax_kev: 22.0 };
    let spots = spots_from_cor(&cor);
    // LaueTools' g0, g1, g2 are Σ3 twins (60° about <111>) of its g3, which explains 120 of the 181 spots at a
    // 97.6 % matching rate; all but 2 of each twin's spots are g3's too. With the spots removed after each grain
    // only g3 is found; LaueTools' four need the spots shared between grains.
    let (alone, _) = run(&spots, &["Ge"], &exp, 4);
    println!("Ge sCMOS, spots removed after each grain: {} grain(s)", alone.grains.len());
    let settings = IndexSettings {
        nbgrainstofind: 4,
        share_spots: true,
        nbspots_pairs: 30,
        nbcandidates_matched: 30,
        nbspots_ranking: 60,
        ..IndexSettings::default()
    };
    let (r, secs) = run_with(&spots, &["Ge"], &exp, settings);
    let ge = Material::from_table("Ge").unwrap();
    let sym = ge.laue_group.rotations(&ge.lattice).unwrap();
    println!("Ge sCMOS: {} grains in {:.1} ms, {} unindexed", r.grains.len(), secs * 1e3, r.unindexed.len());
    let refs: Vec<Matrix3<f64>> =
        (0..4).map(|k| fit_ub(&format!("reference/indexing/img_Ge_sCMOS_0000_181peaks_g{k}.fit"))).collect();
    for (i, g) in r.grains.iter().enumerate() {
        let d: Vec<String> =
            refs.iter().map(|u| format!("{:.3}", misorientation_deg(&g.ub, u, &sym))).collect();
        println!(
            "  our grain {i}: {} spots, {:.1} %, to LaueTools g0..g3: {}°",
            g.spots.len(),
            g.matching_rate,
            d.join(" ")
        );
    }
    for k in 0..4 {
        let reference = fit_ub(&format!("reference/indexing/img_Ge_sCMOS_0000_181peaks_g{k}.fit"));
        let (best, mis) = r
            .grains
            .iter()
            .enumerate()
            .map(|(i, g)| (i, misorientation_deg(&g.ub, &reference, &sym)))
            .min_by(|a, b| a.1.total_cmp(&b.1))
            .expect("grains");
        let g = &r.grains[best];
        println!(
            "  LaueTools g{k} ↔ our grain {best}: {mis:.4}°, {} spots, matching rate {:.1} %",
            g.spots.len(),
            g.matching_rate
        );
        assert!(mis <= 0.05, "g{k}: nearest grain {mis}° away");
    }
}

#[test]
fn gan_on_si_two_phases() {
    let det = DetFile::parse(&text("real/GaN_Si/calib.det"), "calib.det").unwrap();
    // The shipped settings (IntensityThreshold 70) find the substrate's 89 spots and leave 5 to the nanowires;
    // their spots are weak: at 30 counts the list has 235 peaks, enough for the GaN grain.
    let bytes = std::fs::read(shared("real/GaN_Si/nw1_0000.tif")).unwrap();
    let frame = read_image(&bytes, "nw1_0000.tif", &ReadOptions::default()).unwrap();
    let mut p = PeakSearchParams::from_json(&text("real/GaN_Si/peaksearch.json"), "peaksearch.json").unwrap();
    p.intensity_threshold = 30.0;
    let spots = spots_from_peaks(&peak_search(&frame, &p).unwrap().peaks, &det.calibration);
    let exp = Experiment { calibration: det.calibration, emin_kev: 5.0, emax_kev: 23.0 };
    let (r, secs) = run(&spots, &["GaN", "Si"], &exp, 4);
    println!(
        "GaN/Si: {} spots, {} grains in {:.1} ms, {} unindexed",
        spots.len(),
        r.grains.len(),
        secs * 1e3,
        r.unindexed.len()
    );
    for (i, g) in r.grains.iter().enumerate() {
        let u = lauekit::geometry::orientation::nearest_rotation(&g.ub);
        // The crystal axis closest to the lab z of the sample normal (surface tilted 40° about y).
        let normal = nalgebra::Vector3::new(-40f64.to_radians().sin(), 0.0, 40f64.to_radians().cos());
        let c = u.transpose() * normal;
        println!(
            "  grain {i}: {} — {} spots, matching rate {:.1} %, sample normal in crystal frame [{:.3} {:.3} {:.3}]",
            g.material,
            g.spots.len(),
            g.matching_rate,
            c.x,
            c.y,
            c.z
        );
    }
    // The substrate: Si with a <100> axis along the sample normal (the data README: Si (001)).
    let si = r.grains.iter().find(|g| g.material == "Si").expect("a Si grain");
    let u = lauekit::geometry::orientation::nearest_rotation(&si.ub);
    let normal = nalgebra::Vector3::new(-40f64.to_radians().sin(), 0.0, 40f64.to_radians().cos());
    let c = u.transpose() * normal;
    assert!(c.amax() > 0.99, "Si normal {c:?} is not <100>");
    assert!(
        si.spots.len() >= 85 && si.matching_rate >= 75.0,
        "Si: {} spots, {:.1} %",
        si.spots.len(),
        si.matching_rate
    );
    assert_eq!(r.grains[0].material, "Si", "the substrate is the first (strongest) grain");
    // The nanowires: a GaN grain whose spots fit to a fraction of a pixel. By chance, 0.06 of its ~144 simulated
    // spots would meet one of the ~140 peaks left within the final 0.1°: 17 is a grain, not a coincidence.
    let gan = r.grains.iter().find(|g| g.material == "GaN").expect("a GaN grain");
    println!("  GaN: {} spots, {:.1} %, rms {:.3} px", gan.spots.len(), gan.matching_rate, gan.rms_px);
    assert!(gan.spots.len() >= 14, "GaN: {} spots", gan.spots.len());
    assert!(gan.matching_rate >= 9.0, "GaN matching rate {:.1} %", gan.matching_rate);
    assert!(gan.rms_px <= 0.4, "GaN rms {:.3} px", gan.rms_px);
    // Each phase labelled right: GaN's spots are not Si reflections of the substrate's orientation.
    let si_peaks: std::collections::HashSet<usize> = si.spots.iter().map(|m| m.peak).collect();
    assert!(gan.spots.iter().all(|m| !si_peaks.contains(&m.peak)));
}

/// LaueTools' CuSi example (`lauetools_examples/CuSi/corfiles/SiCustrain0–5.cor`, its `.cor` header in lower
/// case): a strained Cu grain on Si. Both grains come out with their own material whatever the order of the
/// materials (LaueTools' .fit: Si with 155 spots, Cu with 55 at 25 keV): the grain explaining the pattern best
/// — by matching rate first — wins, not the one that collects the most spots.
#[test]
fn cu_on_si_materials_in_either_order() {
    for k in 0..6 {
        let rel = format!("lauetools_examples/CuSi/corfiles/SiCustrain{k}.cor");
        let cor = read_cor(&text(&rel), &rel).unwrap();
        let exp = Experiment { calibration: cor.calibration(&rel).unwrap(), emin_kev: 5.0, emax_kev: 22.0 };
        let spots = spots_from_cor(&cor);
        for order in [["Cu", "Si"], ["Si", "Cu"]] {
            let (r, _) = run(&spots, &order, &exp, 2);
            let mut found: Vec<(&str, usize, f64)> =
                r.grains.iter().map(|g| (g.material.as_str(), g.spots.len(), g.matching_rate)).collect();
            found.sort_by(|a, b| a.0.cmp(b.0));
            assert_eq!(found.len(), 2, "{rel} {order:?}: {found:?}");
            let (cu, si) = (found[0], found[1]);
            assert_eq!((cu.0, si.0), ("Cu", "Si"), "{rel} {order:?}: {found:?}");
            assert!(cu.1 >= 30 && cu.2 > 90.0, "{rel} {order:?}: Cu {cu:?}");
            assert!(si.1 >= 95 && si.2 > 90.0, "{rel} {order:?}: Si {si:?}");
        }
    }
}
