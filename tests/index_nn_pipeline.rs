//! `--method nn` end to end on simulated Cu: a small LaueNN model trained here (seconds in release) indexes
//! held-out multi-grain images (1–5 grains, new random orientations) through `index_with_model`; the grains
//! must come back within 0.1° of the truth, found by the network, with the true hkl on their spots.
#![allow(clippy::unwrap_used)]

use lauekit::crystal::Material;
use lauekit::geometry::{Calibration, misorientation_deg, orientation::random_rotation};
use lauekit::index::nn::{
    DatasetSettings, FeatureSettings, HklModel, Realism, TrainSettings, generate, simulate_image, train,
};
use lauekit::index::{Experiment, ExperimentalSpot, IndexSettings, Method, index_spots, index_with_model};
use lauekit::simulate::{DetectorCut, SimulationSettings};
use nalgebra::{Matrix3, Vector3};
use rand::SeedableRng;

/// calibGe111.det of ../shared/data/real/Ge_blanc (MarCCD 165), as bundled with the page.
fn ge_blanc() -> Calibration {
    lauekit::io::DetFile::parse(include_str!("../www/examples/calibGe111.det"), "calibGe111.det")
        .unwrap()
        .calibration
}

/// A small Cu model: 100 orientations, images of 1–3 grains, histograms over 60°.
fn small_cu_model(cu: &Material) -> HklModel {
    let mut ds = DatasetSettings::new(ge_blanc(), 5.0, 22.0);
    ds.n_orientations = 100;
    ds.max_grains = 3;
    ds.images_per_grain_count = Some(60);
    ds.features = FeatureSettings { radius_deg: 60.0, bin_deg: 0.1 };
    ds.min_class_samples = 5;
    ds.seed = 21;
    let data = generate(std::slice::from_ref(cu), &[5], &ds).unwrap();
    let ts = TrainSettings {
        epochs: 8,
        batch_size: 128,
        learning_rate: 2e-3,
        patience: 0,
        seed: 3,
        ..Default::default()
    };
    let device = lauekit::device::cpu().device;
    train(&data, std::slice::from_ref(cu), &ts, &device, serde_json::Value::Null, |_| true).unwrap()
}

#[test]
fn nn_indexes_held_out_multi_grain_cu_images() {
    let t0 = std::time::Instant::now();
    let cu = Material::from_table("Cu").unwrap();
    let model = small_cu_model(&cu);
    let best = model.meta.history.iter().map(|h| h.val_accuracy).fold(0.0, f64::max);
    eprintln!("small Cu model: validation {:.2} % in {:.1} s", 100.0 * best, t0.elapsed().as_secs_f64());

    let cal = ge_blanc();
    let exp = Experiment { calibration: cal, emin_kev: 5.0, emax_kev: 22.0 };
    let sim = SimulationSettings {
        emin_kev: 5.0,
        emax_kev: 22.0,
        calibration: cal,
        with_multiplicity: false,
        cut: DetectorCut::Frame,
    };
    let sym = cu.laue_group.rotations(&cu.lattice).unwrap();
    let realism = Realism::default();
    let (mut n_true, mut recovered, mut by_nn, mut false_grains) = (0, 0, 0, 0);
    let (mut hkl_right, mut hkl_total) = (0, 0);
    let t1 = std::time::Instant::now();
    for k in 1..=5usize {
        for i in 0..6u64 {
            // Seeds far from the training ones: new orientations.
            let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(1000 + 17 * k as u64 + i);
            let truth: Vec<(usize, Matrix3<f64>)> = (0..k).map(|_| (0, random_rotation(&mut rng))).collect();
            let sims = simulate_image(std::slice::from_ref(&cu), &truth, &sim, &realism, &mut rng).unwrap();
            let spots: Vec<ExperimentalSpot> = sims
                .iter()
                .map(|s| ExperimentalSpot::from_pixel(s.x_px, s.y_px, s.intensity, &cal))
                .collect();
            let settings = IndexSettings { nbgrainstofind: k, ..IndexSettings::default() };
            let r = index_with_model(&spots, std::slice::from_ref(&cu), &model, &exp, &settings).unwrap();
            n_true += k;
            let mut used = vec![false; k];
            for g in &r.grains {
                let hit = (0..k).find(|&t| !used[t] && misorientation_deg(&truth[t].1, &g.ub, &sym) <= 0.1);
                let Some(t) = hit else {
                    false_grains += 1;
                    continue;
                };
                used[t] = true;
                recovered += 1;
                by_nn += usize::from(g.method == Method::Nn);
                // The found hkl, carried into the true grain's setting (symmetry-equivalent settings agree).
                let to_true = g.b0.try_inverse().unwrap() * truth[t].1.transpose() * g.ub * g.b0;
                for s in &g.spots {
                    let h = to_true * Vector3::new(s.hkl[0] as f64, s.hkl[1] as f64, s.hkl[2] as f64);
                    let h = [h.x.round() as i32, h.y.round() as i32, h.z.round() as i32];
                    hkl_total += 1;
                    hkl_right += usize::from(sims[s.peak].grain == t && sims[s.peak].hkl == h);
                }
            }
        }
    }
    let share = recovered as f64 / n_true as f64;
    let hkl_share = hkl_right as f64 / hkl_total as f64;
    eprintln!(
        "nn: {recovered}/{n_true} grains within 0.1° ({by_nn} by the network), {false_grains} false; \
         {hkl_right}/{hkl_total} matched spots with the true hkl; {:.2} s for 30 images",
        t1.elapsed().as_secs_f64()
    );
    // Measured: 90/90 grains, all by the network, 0 false, 2736/2736 hkl right (seeds above, release, model
    // in 3.4 s at 99.87 % validation accuracy).
    assert!(share >= 0.95, "grains recovered {share}");
    assert!(by_nn as f64 >= 0.9 * recovered as f64, "{by_nn} of {recovered} by the network");
    assert!(false_grains <= 2, "{false_grains} false grains");
    assert!(hkl_share >= 0.99, "hkl right {hkl_share}");
}

#[test]
fn nn_falls_back_to_the_lut_and_says_so() {
    // A model that knows Cu only, asked for Cu and GaN on a GaN pattern: the network gives no GaN candidates,
    // the table finds the grain, labelled lut; with only a material the model does not know, it is an error.
    let cu = Material::from_table("Cu").unwrap();
    let ge = Material::from_table("GaN").unwrap();
    let mut ds = DatasetSettings::new(ge_blanc(), 5.0, 22.0);
    ds.n_orientations = 20;
    ds.max_grains = 1;
    ds.features = FeatureSettings { radius_deg: 40.0, bin_deg: 0.2 };
    ds.min_class_samples = 1;
    let data = generate(std::slice::from_ref(&cu), &[3], &ds).unwrap();
    let ts = TrainSettings { epochs: 1, batch_size: 64, patience: 0, ..Default::default() };
    let model = train(
        &data,
        std::slice::from_ref(&cu),
        &ts,
        &lauekit::device::cpu().device,
        serde_json::Value::Null,
        |_| true,
    )
    .unwrap();
    let cal = ge_blanc();
    let exp = Experiment { calibration: cal, emin_kev: 5.0, emax_kev: 22.0 };
    let sim = SimulationSettings {
        emin_kev: 5.0,
        emax_kev: 22.0,
        calibration: cal,
        with_multiplicity: false,
        cut: DetectorCut::Frame,
    };
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(77);
    let u = random_rotation(&mut rng);
    let realism = Realism { jitter_px: 0.1, ..Realism::default() };
    let sims = simulate_image(std::slice::from_ref(&ge), &[(0, u)], &sim, &realism, &mut rng).unwrap();
    let spots: Vec<ExperimentalSpot> =
        sims.iter().map(|s| ExperimentalSpot::from_pixel(s.x_px, s.y_px, s.intensity, &cal)).collect();
    let settings = IndexSettings::default();
    let r = index_with_model(&spots, &[cu.clone(), ge.clone()], &model, &exp, &settings).unwrap();
    let lut = index_spots(&spots, &[cu, ge.clone()], &exp, &settings).unwrap();
    assert_eq!(r.grains.len(), 1);
    let g = &r.grains[0];
    assert_eq!(g.method, Method::Lut);
    assert_eq!(lut.grains[0].method, Method::Lut);
    assert_eq!(g.material, "GaN");
    assert_eq!(g.ub, lut.grains[0].ub);
    let sym = ge.laue_group.rotations(&ge.lattice).unwrap();
    assert!(misorientation_deg(&g.ub, &u, &sym) < 0.1);
    assert!(index_with_model(&spots, std::slice::from_ref(&ge), &model, &exp, &settings).is_err());
}

/// Issue 19: a crowded two-phase list in the nw1 geometry (the GaN_Si sCMOS, `calib.det`) — a simulated Si
/// substrate and two GaN grains (5–23 keV, LaueNN's realism) drowned in 1100 random weak peaks (about 1400 in
/// all) — indexed by the shipped GaN_Si model (`www/models/GaN_Si`): the Si and both GaN grains come back
/// within 0.1°, as by the table, and no grain beyond them (every reported grain is above the random-peak level).
#[test]
fn nn_finds_si_and_two_gan_grains_in_a_crowded_two_phase_list() {
    let t0 = std::time::Instant::now();
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let det = std::fs::read_to_string(root.join("../shared/data/real/GaN_Si/calib.det")).unwrap();
    let cal = lauekit::io::DetFile::parse(&det, "calib.det").unwrap().calibration;
    let model = HklModel::from_named_bytes(
        &std::fs::read(root.join("www/models/GaN_Si.bpk")).unwrap(),
        "GaN_Si.bpk",
        &std::fs::read_to_string(root.join("www/models/GaN_Si.json")).unwrap(),
        "GaN_Si.json",
        &lauekit::device::cpu().device,
    )
    .unwrap();
    let mats = [Material::from_table("Si").unwrap(), Material::from_table("GaN").unwrap()];
    let syms: Vec<Vec<Matrix3<f64>>> =
        mats.iter().map(|m| m.laue_group.rotations(&m.lattice).unwrap()).collect();
    let (emin, emax) = (5.0, 23.0);
    let exp = Experiment { calibration: cal, emin_kev: emin, emax_kev: emax };
    let sim = SimulationSettings {
        emin_kev: emin,
        emax_kev: emax,
        calibration: cal,
        with_multiplicity: false,
        cut: DetectorCut::Frame,
    };
    // Five grains asked for: the search must stop after the three real ones (chance ends it).
    let settings = IndexSettings { nbgrainstofind: 5, ..IndexSettings::default() };
    // In CI the three seeds that used to fail and are fixed (seed 3: an 11-spot Si "grain" of random peaks at
    // 10.0 % passed the old chance threshold of 9.8 %; seed 5: a GaN grain whose intense spots are all (0 1 l),
    // l = 3…9, beyond nlutmax 3, hidden behind a poor Si orientation until the nlutmax + 2 table also ran for
    // poor grains; seed 8: the network's GaN grain refined with its strain 0.20° off, 16 of its spots left over
    // as a false grain). Seeds 1–14 pass by both methods. LAUEKIT_CROWDED_SEEDS=1,2,3… for others.
    let seeds: Vec<u64> = std::env::var("LAUEKIT_CROWDED_SEEDS")
        .map(|v| v.split(',').filter_map(|s| s.trim().parse().ok()).collect())
        .unwrap_or_else(|_| vec![3, 5, 8]);
    for seed in seeds {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(4000 + seed);
        let truth: Vec<(usize, Matrix3<f64>)> = vec![
            (0, random_rotation(&mut rng)),
            (1, random_rotation(&mut rng)),
            (1, random_rotation(&mut rng)),
        ];
        let sims = simulate_image(&mats, &truth, &sim, &Realism::default(), &mut rng).unwrap();
        let mut spots: Vec<ExperimentalSpot> =
            sims.iter().map(|s| ExperimentalSpot::from_pixel(s.x_px, s.y_px, s.intensity, &cal)).collect();
        let mut weak: Vec<f64> = sims.iter().map(|s| s.intensity).collect();
        weak.sort_by(f64::total_cmp);
        use rand::Rng;
        for _ in 0..1100 {
            let x = 0.5 + rng.random::<f64>() * cal.cols as f64;
            let y = 0.5 + rng.random::<f64>() * cal.rows as f64;
            // as weak as the weaker half of the real spots
            let i = weak[rng.random_range(0..weak.len() / 2)];
            spots.push(ExperimentalSpot::from_pixel(x, y, i, &cal));
        }
        for (name, r) in [
            ("nn", index_with_model(&spots, &mats, &model, &exp, &settings).unwrap()),
            ("table", index_spots(&spots, &mats, &exp, &settings).unwrap()),
        ] {
            let mut found = [false; 3];
            let mut false_grains = Vec::new();
            for g in &r.grains {
                let mi = mats.iter().position(|m| m.name == g.material).unwrap();
                match (0..3).find(|&t| {
                    !found[t] && truth[t].0 == mi && misorientation_deg(&truth[t].1, &g.ub, &syms[mi]) <= 0.1
                }) {
                    Some(t) => found[t] = true,
                    None => false_grains.push(format!("{} {:.1} %", g.material, g.matching_rate)),
                }
                assert!(g.chance.is_some(), "seed {seed} {name}: a grain without its chance level");
            }
            println!(
                "seed {seed}, {} spots ({} real), {name}: Si {} GaN {} {}; grains {:?}; false {false_grains:?}",
                spots.len(),
                sims.len(),
                found[0],
                found[1],
                found[2],
                r.grains
                    .iter()
                    .map(|g| (g.material.as_str(), g.spots.len(), g.method.name()))
                    .collect::<Vec<_>>()
            );
            assert!(found.iter().all(|&f| f), "seed {seed} {name}: found {found:?}");
            assert!(false_grains.is_empty(), "seed {seed} {name}: false grains {false_grains:?}");
        }
    }
    println!("{:.1} s", t0.elapsed().as_secs_f64());
}
