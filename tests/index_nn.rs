//! LaueNN hkl predictor: a small Cu training run reaches a stated validation accuracy; a saved model loads
//! back with identical predictions; the predictions feed the orientation step.
#![allow(clippy::unwrap_used)]

use lauekit::crystal::Material;
use lauekit::geometry::Calibration;
use lauekit::index::nn::{
    DatasetSettings, FeatureSettings, HklModel, Realism, TrainSettings, accuracy_by_grain_count, generate,
    hkl_guesses, simulate_image, train,
};
use lauekit::simulate::{DetectorCut, SimulationSettings};
use nalgebra::Vector3;
use rand::SeedableRng;

/// calibGe111.det of ../shared/data/real/Ge_blanc (MarCCD 165), as bundled with the page.
fn ge_blanc() -> Calibration {
    lauekit::io::DetFile::parse(include_str!("../www/examples/calibGe111.det"), "calibGe111.det")
        .unwrap()
        .calibration
}

fn small_cu_model() -> (HklModel, Material) {
    let cu = Material::from_table("Cu").unwrap();
    let mut ds = DatasetSettings::new(ge_blanc(), 5.0, 22.0);
    ds.n_orientations = 60;
    ds.max_grains = 1;
    ds.features = FeatureSettings { radius_deg: 60.0, bin_deg: 0.1 };
    ds.min_class_samples = 5;
    ds.seed = 11;
    let data = generate(std::slice::from_ref(&cu), &[5], &ds).unwrap();
    assert_eq!(data.train.n_images, 48);
    assert_eq!(data.validation.n_images, 12);
    let ts = TrainSettings {
        epochs: 12,
        batch_size: 64,
        learning_rate: 2e-3,
        patience: 0,
        seed: 5,
        ..Default::default()
    };
    let device = lauekit::device::cpu().device;
    let mut epochs = 0;
    let model = train(&data, std::slice::from_ref(&cu), &ts, &device, serde_json::Value::Null, |r| {
        epochs = r.epoch;
        assert!(r.train_loss.is_finite() && r.val_loss.is_finite());
        true
    })
    .unwrap();
    assert_eq!(epochs, 12);
    (model, cu)
}

#[test]
fn small_cu_training_learns_and_round_trips() {
    let t = std::time::Instant::now();
    let (model, cu) = small_cu_model();
    let best = model.meta.history.iter().map(|h| h.val_accuracy).fold(0.0, f64::max);
    eprintln!(
        "small Cu model: best validation accuracy {:.2} % in {:.1} s",
        100.0 * best,
        t.elapsed().as_secs_f64()
    );
    // Measured 100.00 % (seeds 11/5, release, < 1 s); the margin covers platform and float differences.
    assert!(best >= 0.98, "validation accuracy {best}");

    // Fresh single-grain images: per-spot accuracy close to the validation one.
    let realism = Realism::default();
    let acc = accuracy_by_grain_count(&model, &ge_blanc(), &realism, &[1], 20, 99).unwrap();
    eprintln!("fresh 1-grain images: {:.2} %", 100.0 * acc[0].accuracy());
    assert!(acc[0].n_labelled > 150);
    assert!(acc[0].accuracy() >= 0.97, "fresh images {}", acc[0].accuracy());

    // save → load: identical predictions
    let sim = SimulationSettings {
        emin_kev: 5.0,
        emax_kev: 22.0,
        calibration: ge_blanc(),
        with_multiplicity: false,
        cut: DetectorCut::Frame,
    };
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(4);
    let u = lauekit::geometry::orientation::random_rotation(&mut rng);
    let spots = simulate_image(std::slice::from_ref(&cu), &[(0, u)], &sim, &realism, &mut rng).unwrap();
    let q: Vec<Vector3<f64>> = spots.iter().map(|s| s.q_unit).collect();
    let before = model.predict(&q).unwrap();
    let weights = model.weights_bytes(false).unwrap();
    let json = model.meta_json().unwrap();
    let loaded = HklModel::from_bytes(&weights, &json, &lauekit::device::cpu().device).unwrap();
    let after = loaded.predict(&q).unwrap();
    assert_eq!(before, after);
    assert_eq!(loaded.probabilities(&q).unwrap(), model.probabilities(&q).unwrap());

    // Half-precision weights (the page's shipped models): half the bytes, same classes, probabilities
    // within 1e-2 of the f32 model's.
    let half = model.weights_bytes(true).unwrap();
    assert!(
        (half.len() as f64) < 0.6 * weights.len() as f64,
        "f16 {} vs f32 {} bytes",
        half.len(),
        weights.len()
    );
    let loaded16 = HklModel::from_bytes(&half, &json, &lauekit::device::cpu().device).unwrap();
    let p32 = model.probabilities(&q).unwrap();
    let p16 = loaded16.probabilities(&q).unwrap();
    let worst = p32.iter().zip(&p16).map(|(a, b)| (a - b).abs()).fold(0.0f32, f32::max);
    assert!(worst < 1e-2, "f16 changes a probability by {worst}");
    let classes = |p: &[lauekit::index::nn::SpotPrediction]| p.iter().map(|s| s.class).collect::<Vec<_>>();
    assert_eq!(classes(&loaded16.predict(&q).unwrap()), classes(&before));

    // The confident predictions become guesses for the orientation step; the right ones give back U.
    let guesses = hkl_guesses(&before, 0, 0.9, None);
    assert!(guesses.len() >= 5, "{} confident guesses", guesses.len());
    let exp_spots: Vec<lauekit::index::ExperimentalSpot> = spots
        .iter()
        .map(|s| lauekit::index::ExperimentalSpot::from_pixel(s.x_px, s.y_px, s.intensity, &ge_blanc()))
        .collect();
    let cands = lauekit::index::orientations_from_hkl_guesses(&exp_spots, &guesses, &cu, 0.5, 0.9, 20);
    let sym = cu.laue_group.rotations(&cu.lattice).unwrap();
    let best_mis = cands
        .iter()
        .map(|c| lauekit::geometry::misorientation_deg(&c.u, &u, &sym))
        .fold(f64::INFINITY, f64::min);
    assert!(best_mis < 0.5, "closest candidate {best_mis}°");

    // A broken model description is an error, not a panic.
    assert!(HklModel::from_bytes(&weights, "{}", &lauekit::device::cpu().device).is_err());
    assert!(HklModel::from_bytes(&weights[..10], &json, &lauekit::device::cpu().device).is_err());
}
