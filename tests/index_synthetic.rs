#![allow(clippy::unwrap_used)]

//! The indexer's building blocks on simulated patterns, where the truth is known exactly.

use lauekit::crystal::Material;
use lauekit::geometry::{Calibration, misorientation_deg, random_rotation};
use lauekit::index::matching::simulate_fundamentals;
use lauekit::index::refine::refine_ub;
use lauekit::index::{
    Experiment, ExperimentalSpot, IndexSettings, Method, index_spots, match_spots,
    orientation_from_two_pairs, refine_from_guess,
};
use nalgebra::{Matrix3, Vector3};
use rand::SeedableRng;

fn experiment() -> Experiment {
    Experiment {
        calibration: Calibration {
            distance_mm: 70.775,
            xcen_px: 941.736,
            ycen_px: 1082.562,
            xbet_deg: 0.63,
            xgam_deg: -0.682,
            pixel_size_mm: 0.079142,
            rows: 2048,
            cols: 2048,
        },
        emin_kev: 5.0,
        emax_kev: 22.0,
    }
}

/// Experimental spots at the simulated pixels of `ub`, low-index reflections the most intense (as in Laue
/// patterns).
fn pattern(ub: &Matrix3<f64>, material: &Material, exp: &Experiment) -> Vec<ExperimentalSpot> {
    let sim = simulate_fundamentals(ub, material, exp).unwrap();
    sim.iter()
        .map(|s| {
            let n2 = (s.h * s.h + s.k * s.k + s.l * s.l) as f64;
            ExperimentalSpot::from_pixel(s.x_px, s.y_px, 1e5 / n2, &exp.calibration)
        })
        .collect()
}

#[test]
fn orientation_from_two_pairs_recovers_a_random_rotation() {
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(4);
    let b0 = Material::from_table("GaN").unwrap().lattice.b0();
    for _ in 0..100 {
        let u = random_rotation(&mut rng);
        let (h1, h2) = (Vector3::new(1.0, 0.0, 2.0), Vector3::new(-1.0, 3.0, 1.0));
        let (c1, c2) = (b0 * h1, b0 * h2);
        let (q1, q2) = ((u * c1).normalize(), (u * c2).normalize());
        let found = orientation_from_two_pairs(&q1, &q2, &c1, &c2).unwrap();
        assert!((found - u).amax() < 1e-12, "{found} vs {u}");
    }
}

#[test]
fn matching_rate_is_100_percent_on_the_grains_own_pattern() {
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(7);
    let exp = experiment();
    for name in ["Ge", "Cu", "GaN"] {
        let m = Material::from_table(name).unwrap();
        let u = random_rotation(&mut rng);
        let spots = pattern(&u, &m, &exp);
        let matching = match_spots(&u, &m, &exp, &spots, &[], 0.1).unwrap();
        assert_eq!(matching.matched.len(), spots.len(), "{name}");
        assert!((matching.matching_rate() - 100.0).abs() < 1e-12, "{name}: {}", matching.matching_rate());
        // And the whole indexer finds the orientation back.
        let r = index_spots(&spots, std::slice::from_ref(&m), &exp, &IndexSettings::default()).unwrap();
        assert_eq!(r.grains.len(), 1, "{name}: no grain");
        let sym = m.laue_group.rotations(&m.lattice).unwrap();
        let mis = misorientation_deg(&r.grains[0].ub, &u, &sym);
        println!(
            "{name}: {} spots, indexed {}, misorientation {mis:.2e}°",
            spots.len(),
            r.grains[0].spots.len()
        );
        assert!(mis < 1e-4, "{name}: {mis}°");
    }
}

#[test]
fn refinement_recovers_an_imposed_strain() {
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(11);
    let exp = experiment();
    let m = Material::from_table("Ge").unwrap();
    let b0 = m.lattice.b0();
    let u = random_rotation(&mut rng);
    // 1e-3 deviatoric distortion (upper triangular, t00 = 1) and a 0.05° rotation away from the start.
    let t = Matrix3::new(1.0, 8e-4, -5e-4, 0.0, 1.0 + 1.2e-3, 6e-4, 0.0, 0.0, 1.0 - 7e-4);
    let truth = u * t;
    let spots = pattern(&truth, &m, &exp);
    let start = nalgebra::Rotation3::new(Vector3::new(5e-4, -6e-4, 4e-4)).into_inner() * u;
    let matched = match_spots(&start, &m, &exp, &spots, &[], 0.5).unwrap().matched;
    assert!(matched.len() > 30);
    let r = refine_ub(&start, &b0, &exp, &spots, &matched, true).unwrap();
    println!("{} spots, rms {:.2e} px, |ΔUB| {:.2e}", matched.len(), r.rms_px, (r.ub - truth).amax());
    assert!((r.ub - truth).amax() < 1e-7, "refined {} vs truth {}", r.ub, truth);
    assert!(r.rms_px < 1e-4);
}

#[test]
fn refining_from_a_nearby_guess_recovers_the_orientation_without_a_search() {
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(11);
    let exp = experiment();
    let cu = Material::from_table("Cu").unwrap();
    let sym = cu.laue_group.rotations(&cu.lattice).unwrap();
    let settings = IndexSettings::default();
    for _ in 0..5 {
        let u = random_rotation(&mut rng);
        let spots = pattern(&u, &cu, &exp);
        // a start 0.3° off (a neighbour in the same grain, a cluster's delegate)
        let off = nalgebra::Rotation3::from_axis_angle(&Vector3::z_axis(), 0.3f64.to_radians()).into_inner()
            * nalgebra::Rotation3::from_axis_angle(&Vector3::x_axis(), 0.2f64.to_radians()).into_inner();
        let r = refine_from_guess(&spots, &cu, &(off * u), &exp, &settings).unwrap();
        assert_eq!(r.grains.len(), 1);
        let g = &r.grains[0];
        assert_eq!(g.method, Method::Guess);
        let mis = misorientation_deg(&u, &g.ub, &sym);
        assert!(mis < 0.005, "{mis}°");
        assert!(g.matching_rate > 95.0, "{}", g.matching_rate);
        // a start far away (another grain) matches nothing: no grain, not a wrong one
        let far = nalgebra::Rotation3::from_axis_angle(&Vector3::y_axis(), 17f64.to_radians()).into_inner();
        let r = refine_from_guess(&spots, &cu, &(far * u), &exp, &settings).unwrap();
        assert!(r.grains.is_empty(), "a grain from a start 17° off: {:?}", r.grains[0].matching_rate);
    }
    assert!(refine_from_guess(&[], &cu, &Matrix3::zeros(), &exp, &settings).is_err());
}

/// The strain definitions against LaueTools 3.2.19's own functions on the same UB (values printed by
/// `CrystalParameters.compute_deviatoricstrain` and `strain_from_crystal_to_sample_frame2(…, latticeparams)`
/// in the venv of ../shared/tools/lauetools, for UB = R(axis [1 2 3], 37°)·(I + E)⁻ᵀ with E a 10⁻³ strain):
/// a cubic, a hexagonal and a monoclinic cell, crystal frame x ∥ a, z ∥ c*.
#[test]
fn deviatoric_strain_is_lauetools_in_crystal_and_sample_frames() {
    use lauekit::index::refine::{deviatoric_strain_crystal, strain_in_sample_frame};
    let ub = Matrix3::new(
        0.8115816417495104,
        -0.45370853044576115,
        0.3638805253388585,
        0.5113083402139104,
        0.8573201796532155,
        -0.07484730341938291,
        -0.2783976974955921,
        0.24689036762471733,
        0.9261764321922832,
    );
    #[rustfmt::skip]
    let cases: [(&str, [f64; 9], [f64; 9]); 3] = [
        ("Cu",
         [0.00040057099847464383, -0.0006992057261591625, 0.00040007478039499693, -0.0006992057261591625, -0.0017004420090297825, 0.0003008704596865516, 0.00040007478039499693, 0.0003008704596865516, 0.001299871010555139],
         [0.0013445892135672689, 0.00047846162755897263, 0.0002460853292326172, 0.0004784616275589727, -0.0018155820928262665, -0.00039718257693171653, 0.00024608532923261724, -0.00039718257693171653, 0.00047099287925899845]),
        ("GaN",
         [0.00048158076681389017, 0.0005587397630473347, 0.0001966188595297093, 0.0005587397630473347, -0.001781392886686032, 0.00046035191701296834, 0.0001966188595297093, 0.00046035191701296834, 0.0012998121198721422],
         [0.0013450905779471083, 0.00047752324836990205, 0.000245459977966524, 0.0004775232483699021, -0.0018162588673908517, -0.00039605275586633554, 0.000245459977966524, -0.00039605275586633554, 0.0004711682894437435]),
        ("ZrO2",
         [0.0002970103082016914, -0.0007382971700190232, 0.00023699190909071257, -0.0007382971700190232, -0.0017005891832537015, 0.00018438540411848565, 0.00023699190909071257, 0.00018438540411848565, 0.0014035788750520104],
         [0.0013448019560702257, 0.00047809396299647024, 0.0002460990742601835, 0.00047809396299647013, -0.0018156004569761057, -0.00039744076687643875, 0.00024609907426018367, -0.0003974407668764389, 0.00047079850090588104]),
    ];
    for (name, crystal, sample) in cases {
        let b0 = Material::from_table(name).unwrap().lattice.b0();
        let eps = deviatoric_strain_crystal(&ub, &b0);
        let eps_s = strain_in_sample_frame(&eps, &ub, &b0);
        for i in 0..9 {
            let (r, c) = (i / 3, i % 3);
            assert!(
                (eps[(r, c)] - crystal[i]).abs() < 1e-9,
                "{name} crystal ({r},{c}): {} vs {}",
                eps[(r, c)],
                crystal[i]
            );
            assert!(
                (eps_s[(r, c)] - sample[i]).abs() < 1e-9,
                "{name} sample ({r},{c}): {} vs {}",
                eps_s[(r, c)],
                sample[i]
            );
        }
    }
}

/// The deviatoric strain is reported only when the spot positions ask for it (`refine::strain_is_significant`).
/// On a small detector (the ALS PILATUS 1M geometry, 1 px = 0.065°) an unstrained grain with 0.5 px of
/// position noise used to come out 0.10–0.14° off with a strain fitted to that noise; it must now come out
/// with no strain and within 0.03°. The same grain with a 5 × 10⁻³ deviatoric strain keeps its strain.
#[test]
fn strain_is_kept_only_when_significant_on_a_small_detector() {
    use lauekit::index::refine::{deviatoric_strain_crystal, strain_in_sample_frame};
    use rand_distr::{Distribution, Normal};
    let exp = Experiment {
        calibration: Calibration {
            distance_mm: 150.90285,
            xcen_px: 204.6874,
            ycen_px: 515.1391,
            xbet_deg: 0.22401,
            xgam_deg: -89.40622,
            pixel_size_mm: 0.171634,
            rows: 981,
            cols: 1043,
        },
        emin_kev: 5.0,
        emax_kev: 22.0,
    };
    let si = Material::from_table("Si").unwrap();
    let b0 = si.lattice.b0();
    let sym = si.laue_group.rotations(&si.lattice).unwrap();
    let noise = Normal::new(0.0, 0.5).unwrap();
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(21);
    let (mut tried, mut worst_plain) = (0, 0.0f64);
    while tried < 6 {
        let u = random_rotation(&mut rng);
        let plain = pattern(&u, &si, &exp);
        if plain.len() < 25 {
            continue; // too few spots on this detector to refine a strain at all
        }
        tried += 1;
        let jitter =
            |spots: Vec<ExperimentalSpot>, rng: &mut rand_chacha::ChaCha8Rng| -> Vec<ExperimentalSpot> {
                spots
                    .iter()
                    .map(|s| {
                        let (x, y) = (s.x_px + noise.sample(rng), s.y_px + noise.sample(rng));
                        ExperimentalSpot::from_pixel(x, y, s.intensity, &exp.calibration)
                    })
                    .collect()
            };
        let spots = jitter(plain, &mut rng);
        let r = index_spots(&spots, std::slice::from_ref(&si), &exp, &IndexSettings::default()).unwrap();
        assert_eq!(r.grains.len(), 1, "unstrained: no grain");
        let g = &r.grains[0];
        let mis = misorientation_deg(&g.ub, &u, &sym);
        let strain = deviatoric_strain_crystal(&g.ub, &b0).amax();
        println!("unstrained: {} spots, {mis:.4}° off, strain {strain:.1e}", g.spots.len());
        assert!(
            strain < 1e-9,
            "a strain of {strain:.1e} fitted to 0.5 px of noise ({} spots)",
            g.spots.len()
        );
        assert!(mis < 0.03, "{mis}° off with {} spots", g.spots.len());
        worst_plain = worst_plain.max(mis);

        // 5 × 10⁻³ of deviatoric distortion (a deformed grain; the ALS BaTiO3 domains carry 7–11 × 10⁻³): it
        // must be kept and recovered. (At 2 × 10⁻³ this geometry and noise leave the RSS only ~25 % above the
        // strained fit's: at the edge of what 36 spots can tell from noise.)
        let t = Matrix3::new(1.0, 4e-3, -2.5e-3, 0.0, 1.0 + 5e-3, 2.5e-3, 0.0, 0.0, 1.0 - 5e-3);
        let truth = u * t;
        let spots = jitter(pattern(&truth, &si, &exp), &mut rng);
        let r = index_spots(&spots, std::slice::from_ref(&si), &exp, &IndexSettings::default()).unwrap();
        assert_eq!(r.grains.len(), 1, "strained: no grain");
        let g = &r.grains[0];
        // In the sample frame: the indexer writes cubic grains in LaueTools' representative axes.
        let want = strain_in_sample_frame(&deviatoric_strain_crystal(&truth, &b0), &truth, &b0);
        let got = strain_in_sample_frame(&deviatoric_strain_crystal(&g.ub, &b0), &g.ub, &b0);
        println!(
            "strained: {} spots, {:.1} %, rms {:.3} px, |Δε| {:.1e} of |ε| {:.1e}",
            g.spots.len(),
            g.matching_rate,
            g.rms_px,
            (got - want).amax(),
            want.amax()
        );
        assert!((got - want).amax() < 1.5e-3, "strain {got} vs {want}");
    }
    println!("worst unstrained misorientation {worst_plain:.4}°");
}

/// A peak list shorter than `minimumnumbermatches` (6) is indexed when one orientation explains every spot
/// and is above chance; five random peaks are not.
#[test]
fn a_five_spot_list_is_indexed_whole_and_five_random_peaks_are_not() {
    use rand::Rng;
    let exp = experiment();
    let ni = Material::from_table("Ni").unwrap();
    let sym = ni.laue_group.rotations(&ni.lattice).unwrap();
    let settings = IndexSettings::default();
    assert_eq!(settings.minimumnumbermatches, 6);
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(29);
    for trial in 0..3 {
        let u = random_rotation(&mut rng);
        let mut spots = pattern(&u, &ni, &exp);
        spots.sort_by(|a, b| b.intensity.total_cmp(&a.intensity));
        // The five most intense, moved by up to 0.3 px.
        let spots: Vec<ExperimentalSpot> = spots
            .iter()
            .take(5)
            .map(|s| {
                let (dx, dy) = (rng.random_range(-0.3..0.3), rng.random_range(-0.3..0.3));
                ExperimentalSpot::from_pixel(s.x_px + dx, s.y_px + dy, s.intensity, &exp.calibration)
            })
            .collect();
        let r = index_spots(&spots, std::slice::from_ref(&ni), &exp, &settings).unwrap();
        assert_eq!(r.grains.len(), 1, "trial {trial}: no grain on 5 spots");
        let g = &r.grains[0];
        assert_eq!(g.spots.len(), 5, "trial {trial}");
        let d = misorientation_deg(&g.ub, &u, &sym);
        assert!(d < 0.1, "trial {trial}: {d}° from the truth");
        assert!(g.chance.is_some(), "trial {trial}: no chance level");
    }
    for trial in 0..3 {
        let spots: Vec<ExperimentalSpot> = (0..5)
            .map(|_| {
                let x = 1.0 + rng.random::<f64>() * 2046.0;
                let y = 1.0 + rng.random::<f64>() * 2046.0;
                ExperimentalSpot::from_pixel(x, y, 1.0 + 1000.0 * rng.random::<f64>(), &exp.calibration)
            })
            .collect();
        let r = index_spots(&spots, std::slice::from_ref(&ni), &exp, &settings).unwrap();
        assert!(r.grains.is_empty(), "random trial {trial}: {} grains", r.grains.len());
    }
}
