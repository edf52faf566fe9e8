#![allow(clippy::unwrap_used)]

//! The look-up-table indexer's candidate ranking (issue 17 item 3) on simulated peak lists with known truth:
//! a Σ3 twin offered as the only candidate gives way to the true orientation, and multi-grain Cu images in
//! the Ge_blanc geometry come out grain by grain within 0.1°.

use lauekit::crystal::Material;
use lauekit::geometry::{Calibration, misorientation_deg, random_rotation};
use lauekit::index::nn::{Realism, simulate_image};
use lauekit::index::{
    Candidate, Experiment, ExperimentalSpot, IndexSettings, best_grain_from_candidates, index_spots,
    match_spots,
};
use lauekit::simulate::{DetectorCut, SimulationSettings};
use nalgebra::{Matrix3, Rotation3, Unit, Vector3};
use rand::SeedableRng;

const GE_BLANC: Calibration = Calibration {
    distance_mm: 70.775,
    xcen_px: 941.74,
    ycen_px: 1082.56,
    xbet_deg: 0.63,
    xgam_deg: -0.682,
    pixel_size_mm: 0.079142,
    rows: 2048,
    cols: 2048,
};

fn sim(cal: Calibration) -> SimulationSettings {
    SimulationSettings {
        emin_kev: 5.0,
        emax_kev: 22.0,
        calibration: cal,
        with_multiplicity: false,
        cut: DetectorCut::Frame,
    }
}

#[test]
fn a_sigma3_twin_candidate_gives_way_to_the_true_orientation_on_a_512_detector() {
    let si = Material::from_table("Si").unwrap();
    let sym = si.laue_group.rotations(&si.lattice).unwrap();
    let cal = lauekit::scan::simulate::detector_calibration(512, 512).unwrap();
    let exp = Experiment { calibration: cal, emin_kev: 5.0, emax_kev: 22.0 };
    let settings = IndexSettings::default();
    let axis = Unit::new_normalize(Vector3::new(1.0, 1.0, 1.0));
    let sigma3 = Rotation3::from_axis_angle(&axis, 60f64.to_radians()).into_inner();
    for seed in [3u64, 11, 17] {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
        let u = random_rotation(&mut rng);
        let spots: Vec<ExperimentalSpot> =
            simulate_image(std::slice::from_ref(&si), &[(0, u)], &sim(cal), &Realism::default(), &mut rng)
                .unwrap()
                .iter()
                .map(|s| ExperimentalSpot::from_pixel(s.x_px, s.y_px, s.intensity, &cal))
                .collect();
        let twin = u * sigma3;
        assert!((misorientation_deg(&u, &twin, &sym) - 60.0).abs() < 1e-6);
        // The twin explains a part of the pattern (the shared reflections), the truth nearly all of it.
        let all = vec![true; spots.len()];
        let by_twin = match_spots(&twin, &si, &exp, &spots, &all, 0.2).unwrap().matched.len();
        let by_truth = match_spots(&u, &si, &exp, &spots, &all, 0.2).unwrap().matched.len();
        println!("seed {seed}: {} spots, the twin explains {by_twin}, the truth {by_truth}", spots.len());
        assert!(by_twin < by_truth, "seed {seed}");
        let only_twin = [Candidate { u: twin, spots: [0, 1], hkls: [[1, 1, 1], [0, 0, 4]], confidence: 1.0 }];
        let g = best_grain_from_candidates(&only_twin, &spots, &all, &si, &exp, &settings).unwrap().unwrap();
        let mis = misorientation_deg(&g.ub, &u, &sym);
        assert!(mis < 0.1, "seed {seed}: kept {mis:.2}° from the truth ({} spots)", g.spots.len());
        // At the final tolerance (0.1°; the 0.5 px jitter is 0.13° on these 0.32 mm pixels) the refined grain
        // explains about as many spots as the truth does.
        let at_last = match_spots(&u, &si, &exp, &spots, &all, 0.1).unwrap().matched.len();
        assert!(
            g.spots.len() as f64 >= 0.9 * at_last as f64,
            "seed {seed}: {} spots of {at_last}",
            g.spots.len()
        );
        // And the whole search finds it.
        let r = index_spots(&spots, std::slice::from_ref(&si), &exp, &settings).unwrap();
        let mis = misorientation_deg(&r.grains[0].ub, &u, &sym);
        assert!(mis < 0.1, "seed {seed}: index_spots {mis:.2}° from the truth");
    }
}

#[test]
fn eight_cu_grains_in_the_ge_blanc_geometry_within_a_tenth_of_a_degree() {
    let cu = Material::from_table("Cu").unwrap();
    let sym = cu.laue_group.rotations(&cu.lattice).unwrap();
    let exp = Experiment { calibration: GE_BLANC, emin_kev: 5.0, emax_kev: 22.0 };
    let settings = IndexSettings { nbgrainstofind: 8, ..IndexSettings::default() };
    let (mut found, mut right, mut peaks) = (0, 0, 0);
    for seed in [1u64, 2] {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
        let truth: Vec<(usize, Matrix3<f64>)> = (0..8).map(|_| (0, random_rotation(&mut rng))).collect();
        let sims =
            simulate_image(std::slice::from_ref(&cu), &truth, &sim(GE_BLANC), &Realism::default(), &mut rng)
                .unwrap();
        let spots: Vec<ExperimentalSpot> = sims
            .iter()
            .map(|s| ExperimentalSpot::from_pixel(s.x_px, s.y_px, s.intensity, &GE_BLANC))
            .collect();
        peaks += spots.len();
        let r = index_spots(&spots, std::slice::from_ref(&cu), &exp, &settings).unwrap();
        let mut used = [false; 8];
        for g in &r.grains {
            if let Some(t) = (0..8).find(|&t| !used[t] && misorientation_deg(&truth[t].1, &g.ub, &sym) <= 0.1)
            {
                used[t] = true;
                found += 1;
                right += g.spots.iter().filter(|s| sims[s.peak].grain == t).count();
            }
        }
    }
    println!("{found}/16 grains within 0.1°, {right}/{peaks} peaks to the right grain");
    assert!(found >= 16, "{found}/16 grains within 0.1°");
    assert!(right as f64 >= 0.97 * peaks as f64, "{right}/{peaks} peaks to the right grain");
}

// ---- issue 19: the ALS Pilatus frames against XMMLAS' results ----------------------------------------------

use lauekit::pipeline::{IndexRequest, Models, PipelineRequest, PointReport, run_image};
use std::path::PathBuf;

fn als(file: &str) -> PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/data/real/ALS_Pilatus").join(file)
}

/// XMMLAS' grains of a `*_results.h5`: (group, rotation — LaueTools' UB convention, q = R·B0·G* —, distinct
/// indexed peaks).
fn xmmlas_grains(file: &str) -> Vec<(String, Matrix3<f64>, usize)> {
    let f = hdf5_pure::File::from_bytes(std::fs::read(als(file)).unwrap()).unwrap();
    let mut out = Vec::new();
    for k in 0.. {
        let g = format!("result_{k}");
        let Ok(ds) = f.dataset(&format!("{g}/rotation_matrix")) else { break };
        let r = ds.read_f64().unwrap();
        let pts = f.dataset(&format!("{g}/indexed_points")).unwrap().read_f64().unwrap();
        // indexed_points are (2θ, χ) pairs; a peak matched to two simulated spots is listed twice.
        let mut distinct: Vec<[i64; 2]> =
            pts.chunks(2).map(|p| [(p[0] * 1e4).round() as i64, (p[1] * 1e4).round() as i64]).collect();
        distinct.sort_unstable();
        distinct.dedup();
        out.push((g, Matrix3::from_row_slice(&r), distinct.len()));
    }
    out
}

fn group_modulo_ambiguities(m: &Material) -> Vec<Matrix3<f64>> {
    lauekit::index::twins::rotations_modulo_ambiguities(m).unwrap()
}

/// `lauekit index` on an ALS frame: the shipped .det, the folder's peak-search settings (or the defaults), the
/// material from the table, as many grains as XMMLAS reported, the table or a LaueNN model.
fn index_als(
    image: &str,
    settings_file: Option<&str>,
    material: &str,
    grains: usize,
    model: Option<lauekit::index::nn::HklModel>,
    local_maxima: bool,
) -> (PointReport, lauekit::io::Frame) {
    let det = lauekit::io::DetFile::parse(&std::fs::read_to_string(als("calib_xmmlas.det")).unwrap(), "det")
        .unwrap();
    let frame =
        lauekit::io::read_image(&std::fs::read(als(image)).unwrap(), image, &Default::default()).unwrap();
    let peaks = match settings_file {
        Some(f) => {
            lauekit::peaks::PeakSearchParams::from_json(&std::fs::read_to_string(als(f)).unwrap(), f).unwrap()
        }
        None => Default::default(),
    };
    // Peak positions at the local maxima (no fit), as XMMLAS positions its peaks.
    let peaks = lauekit::peaks::PeakSearchParams {
        fit_peaks_gaussian: if local_maxima { 0 } else { peaks.fit_peaks_gaussian },
        ..peaks
    };
    let request = PipelineRequest {
        peaks,
        index: Some(IndexRequest {
            method: if model.is_some() { lauekit::index::Method::Nn } else { lauekit::index::Method::Lut },
            materials: vec![serde_json::from_value(serde_json::json!(material)).unwrap()],
            settings: IndexSettings { nbgrainstofind: grains, ..IndexSettings::default() },
            ..IndexRequest::default()
        }),
        keep_spots: true,
        ..PipelineRequest::default()
    };
    let mut models = Models::for_request(&request).unwrap();
    models.hkl = model;
    let job = request.prepare(&models).unwrap();
    (run_image(&frame, &det.calibration, &job, &models).unwrap(), frame)
}

/// For each XMMLAS grain, the smallest misorientation (deg, modulo the ambiguities) to a grain of the report.
fn misorientations_to_xmmlas(
    r: &PointReport,
    xm: &[(String, Matrix3<f64>, usize)],
    m: &Material,
) -> Vec<f64> {
    let g = group_modulo_ambiguities(m);
    let grains = &r.index.as_ref().unwrap().grains;
    xm.iter()
        .map(|(_, u, _)| {
            grains.iter().map(|x| misorientation_deg(u, &x.ub_matrix(), &g)).fold(f64::INFINITY, f64::min)
        })
        .collect()
}

/// One of XMMLAS' indexed points: its hkl and (2θ, χ) in degrees.
type XmmlasPoint = ([f64; 3], [f64; 2]);

/// XMMLAS' indexed points of `result_k` (distinct (2θ, χ)) with their hkl, and its rotation.
fn xmmlas_points(file: &str, k: usize) -> (Vec<XmmlasPoint>, Matrix3<f64>) {
    let f = hdf5_pure::File::from_bytes(std::fs::read(als(file)).unwrap()).unwrap();
    let read = |name: &str| f.dataset(&format!("result_{k}/{name}")).unwrap().read_f64().unwrap();
    let (pts, hkls, r) = (read("indexed_points"), read("indexed_hkls"), read("rotation_matrix"));
    let mut out: Vec<XmmlasPoint> = Vec::new();
    for (p, h) in pts.chunks(2).zip(hkls.chunks(3)) {
        if !out.iter().any(|(_, q)| (q[0] - p[0]).abs() < 1e-4 && (q[1] - p[1]).abs() < 1e-4) {
            out.push(([h[0], h[1], h[2]], [p[0], p[1]]));
        }
    }
    (out, Matrix3::from_row_slice(&r))
}

/// Angles (deg) between measured scattering directions (2θ, χ) and the nearest of the directions `ub`·`b0`·hkl.
fn nearest_angles(points: &[[f64; 2]], ub: &Matrix3<f64>, b0: &Matrix3<f64>, hkls: &[[f64; 3]]) -> Vec<f64> {
    let predicted: Vec<_> =
        hkls.iter().map(|h| (ub * b0 * nalgebra::Vector3::from(*h)).normalize()).collect();
    points
        .iter()
        .map(|p| {
            let q = lauekit::geometry::calibration::angles_to_q_unit(p[0], p[1]);
            predicted
                .iter()
                .map(|v| q.dot(v).clamp(-1.0, 1.0).acos().to_degrees())
                .fold(f64::INFINITY, f64::min)
        })
        .collect()
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

/// The peaks on a masked pixel (module gaps −1, bad pixels −2) or within 1 px of one, whichever pixel convention
/// (first centre at 0 or at 1) the positions are read in.
fn peaks_at_the_mask(r: &PointReport, frame: &lauekit::io::Frame) -> Vec<(f64, f64)> {
    assert!(frame.masked_count() > 70_000, "the gaps are masked ({})", frame.masked_count());
    r.peaks
        .iter()
        .filter(|p| {
            // 0-based pixel indices within 1 px of the position read either way: [x − 2, x + 1].
            let (c0, c1) =
                ((p.x - 2.0).ceil().max(0.0) as usize, ((p.x + 1.0).floor() as usize).min(frame.cols - 1));
            let (r0, r1) =
                ((p.y - 2.0).ceil().max(0.0) as usize, ((p.y + 1.0).floor() as usize).min(frame.rows - 1));
            (r0..=r1).any(|row| (c0..=c1).any(|col| frame.is_masked(row * frame.cols + col)))
        })
        .map(|p| (p.x, p.y))
        .collect()
}

#[test]
fn als_batio3_every_xmmlas_grain_within_0_3_deg_by_the_table_and_a_small_lauenn_model() {
    let t0 = std::time::Instant::now();
    let bto = Material::from_table("BaTiO3").unwrap();
    let xm = xmmlas_grains("S27_25C_001_results.h5");
    assert_eq!(xm.len(), 4);
    // A LaueNN model for BaTiO3 in this geometry (commit's tests/data/models/BaTiO3_als_small.json says how).
    let model = || {
        lauekit::index::nn::HklModel::from_named_bytes(
            include_bytes!("data/models/BaTiO3_als_small.bpk"),
            "BaTiO3_als_small.bpk",
            include_str!("data/models/BaTiO3_als_small.json"),
            "BaTiO3_als_small.json",
            &lauekit::device::cpu().device,
        )
        .unwrap()
    };
    for (settings, nn) in [
        (Some("peaksearch_BaTiO3.json"), false),
        (None, false),
        (Some("peaksearch_BaTiO3.json"), true),
        (None, true),
    ] {
        let what =
            format!("{} with {}", settings.unwrap_or("default settings"), if nn { "nn" } else { "lut" });
        let (r, frame) = index_als("S27_25C_001.tif", settings, "BaTiO3", xm.len(), nn.then(model), false);
        let at_mask = peaks_at_the_mask(&r, &frame);
        println!("BaTiO3, {what}: {} peaks within 1 px of a masked pixel: {at_mask:.1?}", at_mask.len());
        let mis = misorientations_to_xmmlas(&r, &xm, &bto);
        let ix = r.index.as_ref().unwrap();
        if settings.is_some() && !nn {
            // Spot by spot: XMMLAS' indexed points (its local maxima, in 2θ/χ) against the directions that each
            // of our grains predicts for the hkl of its spots. result_0 and result_1 are explained by one grain,
            // better than by XMMLAS' own two rotations.
            let b0 = bto.lattice.b0();
            let mut best_of = Vec::new();
            for k in 0..xm.len() {
                let (pts, rot) = xmmlas_points("S27_25C_001_results.h5", k);
                let points: Vec<[f64; 2]> = pts.iter().map(|p| p.1).collect();
                let own =
                    median(nearest_angles(&points, &rot, &b0, &pts.iter().map(|p| p.0).collect::<Vec<_>>()));
                let (g, within, med) = ix
                    .grains
                    .iter()
                    .enumerate()
                    .map(|(i, g)| {
                        let hkls: Vec<[f64; 3]> = g.simulated.iter().map(|s| s.hkl.map(f64::from)).collect();
                        let a = nearest_angles(&points, &g.ub_matrix(), &b0, &hkls);
                        (i, a.iter().filter(|&&x| x <= 0.15).count(), median(a))
                    })
                    .max_by_key(|x| x.1)
                    .unwrap();
                println!(
                    "XMMLAS result_{k}: {} points; our grain {g} explains {within} within 0.15° (median {med:.3}°; \
                     XMMLAS' own rotation: median {own:.3}°)",
                    points.len()
                );
                assert!(10 * within >= 9 * points.len(), "result_{k}: {within} of {} points", points.len());
                assert!(med <= 0.03 && med < own, "result_{k}: median {med:.3}° (XMMLAS {own:.3}°)");
                best_of.push(g);
            }
            assert_eq!(best_of[0], best_of[1], "XMMLAS result_0 and result_1 are one strained grain");
        }
        println!(
            "BaTiO3, {what}: {} peaks, grains {:?} (spots, method); XMMLAS result_0..3 at {:.3?}° (a/c modulo)",
            r.n_peaks,
            ix.grains.iter().map(|g| (g.n_indexed, g.method.name())).collect::<Vec<_>>(),
            mis
        );
        // result_0 and result_1 (0.38° apart, no shared peak) are one grain for us: its strained cell (c/a ≈ 1
        // after the deviatoric strain, 8 × 10⁻³) predicts 49 of their 50 points within 0.15° at a median of
        // 0.015°, where XMMLAS' two rigid rotations leave 0.061° and 0.043° (checked above). Its orientation (polar
        // decomposition) is 0.31° from result_0 and 0.21° from result_1: the rotation such a strain trades with
        // on this detector. Two rotation-only grains do not explain these spots (1.5–1.6 px rms against 0.26 px),
        // so the indexer does not split them; this bar (0.35°) keeps the measured state from getting worse. The
        // other two within the 0.3°.
        for (k, m) in mis.iter().enumerate() {
            let bar = if k < 2 { 0.35 } else { 0.3 };
            assert!(*m <= bar, "{what}: XMMLAS result_{k} at {m:.3}°");
        }
        assert!(
            ix.grains
                .iter()
                .all(|g| g.orientation_note.as_deref().is_some_and(|n| n.starts_with("a/c ambiguity")))
        );
        if nn && settings.is_some() {
            // Measured: the network gives 3 of the 4 grains at the folder's settings, the table the 4th.
            let by_nn = ix.grains.iter().filter(|g| g.method == lauekit::index::Method::Nn).count();
            assert!(by_nn >= 3, "{what}: {by_nn} grains by the network");
        }
    }
    println!("{:.1} s", t0.elapsed().as_secs_f64());
}

#[test]
fn als_quartz_xmmlas_grains_by_the_table_up_to_the_dauphine_twin() {
    let quartz = Material::from_table("quartz").unwrap();
    let xm = xmmlas_grains("Ko1202-12_2_00001_results.h5");
    assert_eq!(xm.iter().map(|x| x.2).collect::<Vec<_>>(), [33, 30, 18]);
    // XMMLAS' three results are subgrains of one deformed crystal: 0.56°, 0.77° and 0.92° apart, no peak shared.
    let g = group_modulo_ambiguities(&quartz);
    assert!((misorientation_deg(&xm[0].1, &xm[1].1, &g) - 0.56).abs() < 0.01);
    assert!((misorientation_deg(&xm[0].1, &xm[2].1, &g) - 0.77).abs() < 0.01);
    for settings in [Some("peaksearch_quartz.json"), None] {
        let what = settings.unwrap_or("default settings");
        let (r, frame) = index_als("Ko1202-12_2_00001.tif", settings, "quartz", xm.len(), None, false);
        let at_mask = peaks_at_the_mask(&r, &frame);
        println!("quartz, {what}: {} peaks within 1 px of a masked pixel: {at_mask:.1?}", at_mask.len());
        let mis = misorientations_to_xmmlas(&r, &xm, &quartz);
        let ix = r.index.as_ref().unwrap();
        println!(
            "quartz, {what}: {} peaks, grains {:?}; XMMLAS result_0..2 at {:.3?}° (Dauphiné modulo)",
            r.n_peaks,
            ix.grains.iter().map(|g| g.n_indexed).collect::<Vec<_>>(),
            mis
        );
        assert!(
            ix.grains.iter().all(|g| g.orientation_note.as_deref().is_some_and(|n| n.contains("Dauphiné")))
        );
        // Measured: folder settings 0.155°, 0.140°, 0.82° (the 18-peak subgrain is not found: a 3rd grain does
        // not pass); defaults (17 peaks at the 400-count threshold) one grain, 0.173° from result_0.
        assert!(mis[0] <= 0.3, "{what}: result_0 at {:.3}°", mis[0]);
        if settings.is_some() {
            assert!(mis[1] <= 0.3, "{what}: result_1 at {:.3}°", mis[1]);
        }
    }
    // XMMLAS positions its peaks at the local maxima, without a fit. The quartz's spots are broad and split by
    // the subgrains (σ 3–10 px); a Gaussian fit puts one peak at the centre of a split spot, so the fitted list
    // (LaueTools' as well as ours) holds few of result_2's 18 points. From the local maxima all three subgrains
    // are found (measured: 0.234°, 0.134°, 0.128°).
    let (r, _) =
        index_als("Ko1202-12_2_00001.tif", Some("peaksearch_quartz.json"), "quartz", xm.len(), None, true);
    let mis = misorientations_to_xmmlas(&r, &xm, &quartz);
    println!(
        "quartz, folder settings at the local maxima: {} peaks, grains {:?}; XMMLAS result_0..2 at {:.3?}°",
        r.n_peaks,
        r.index.as_ref().unwrap().grains.iter().map(|g| g.n_indexed).collect::<Vec<_>>(),
        mis
    );
    for (k, m) in mis.iter().enumerate() {
        assert!(*m <= 0.3, "local maxima: XMMLAS result_{k} at {m:.3}°");
    }
}
