//! Every input the fuzz targets (`fuzz/fuzz_targets/*.rs`) crashed on, replayed natively through the same
//! library call: each must give a result or an error, never a panic. The inputs live in
//! `tests/data/fuzz_regressions/<target>/` (one file per crash, minimised with `cargo fuzz tmin`); a new
//! crash is added by copying its file there. The calls below mirror the targets' bodies. The first stored
//! inputs are libFuzzer timeouts (> 10 s under the sanitizer), not panics: a simulation of a 4 × 5 × 6 Å
//! monoclinic cell up to 404 keV (≈ 17 M reflections, under the 20 M limit: 10 s natively) and a look-up
//! table indexing with nlutmax 6 and the chance-level check (2.6 s natively on the 128 × 128 frame).

use std::collections::BTreeMap;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};

use lauekit::geometry::Calibration;
use lauekit::index::nn::{FeatureSettings, HklModel};
use lauekit::index::{IndexSettings, Method};
use lauekit::io::peaklist::{read_cor, read_dat, write_dat};
use lauekit::io::{DetFile, FitFile, Frame, Pixels, ReadOptions};
use lauekit::peaks::PeakSearchParams;
use lauekit::pipeline::{Models, PipelineRequest, run_image};
use lauekit::refine::calibration::{CalibrationRequest, check_physical};
use lauekit::scan::clustering::ClusterRecord;
use lauekit::scan::shard::read_journal;
use lauekit::scan::simulate::{SyntheticScan, SyntheticScanSpec};
use lauekit::simulate::SimulationRequest;
use lauekit::spotnet::GoodSpotCriteria;

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// The files of `tests/data/fuzz_regressions/<target>/`, sorted.
fn cases(target: &str) -> Vec<PathBuf> {
    let dir = root().join("tests/data/fuzz_regressions").join(target);
    let mut v: Vec<PathBuf> = match std::fs::read_dir(&dir) {
        Ok(d) => d.filter_map(|e| e.ok().map(|e| e.path())).filter(|p| p.is_file()).collect(),
        Err(_) => Vec::new(),
    };
    v.sort();
    v
}

/// Replays every case of `target` through `call`; fails listing every case that panicked.
fn replay(target: &str, call: impl Fn(&[u8])) -> usize {
    let files = cases(target);
    let mut panicked = Vec::new();
    for f in &files {
        let bytes = std::fs::read(f).unwrap_or_else(|e| panic!("{}: {e}", f.display()));
        if catch_unwind(AssertUnwindSafe(|| call(&bytes))).is_err() {
            panicked.push(f.display().to_string());
        }
    }
    assert!(panicked.is_empty(), "{target}: panicked on {panicked:#?}");
    files.len()
}

/// As the targets: the CLI's decoding, or the bytes as lossy UTF-8 when it refuses them.
fn text(data: &[u8]) -> String {
    lauekit::io::text::decode(data, "fuzz").unwrap_or_else(|_| String::from_utf8_lossy(data).into_owned())
}

fn det(data: &[u8]) {
    let t = text(data);
    if let Ok(d) = DetFile::parse(&t, "fuzz.det") {
        let _ = DetFile::parse(&d.to_text(), "fuzz-rewritten.det");
    }
    let _ = lauekit::io::det::parse_matrix(&t);
}

fn cor(data: &[u8]) {
    if let Ok(c) = read_cor(&text(data), "fuzz.cor") {
        let _ = c.framedim();
        for name in ["2theta", "chi", "XCCD", "YCCD", "intensity"] {
            let _ = c.column(name);
        }
        let _ = c.calibration("fuzz.cor");
    }
}

fn dat(data: &[u8]) {
    if let Ok(p) = read_dat(&text(data), "fuzz.dat") {
        let _ = read_dat(&write_dat(&p, "fuzz.dat", "fuzz"), "fuzz-rewritten.dat");
    }
}

fn fit(data: &[u8]) {
    let t = text(data);
    let _ = FitFile::parse_all(&t, "fuzz.fit");
    let _ = FitFile::parse(&t, "fuzz.fit");
}

fn psp(data: &[u8]) {
    if let Ok(p) = PeakSearchParams::from_psp(&text(data), "fuzz.psp") {
        assert!(p.clone().validated().is_ok());
        let _ = p.background_factor();
    }
}

/// As the JSON targets: the bytes as lossy UTF-8.
fn lossy(data: &[u8]) -> String {
    String::from_utf8_lossy(data).into_owned()
}

fn parse<T: serde::de::DeserializeOwned>(t: &str) -> Option<T> {
    serde_json::from_str(t).ok()
}

fn json_settings(data: &[u8]) {
    let Some((&kind, rest)) = data.split_first() else { return };
    let t = lossy(rest);
    match kind % 11 {
        0 => {
            if let Ok(p) = PeakSearchParams::from_json(&t, "fuzz.json") {
                assert!(p.validated().is_ok());
            }
        }
        1 => {
            if let Some(r) = parse::<PipelineRequest>(&t) {
                let _ = r.prepare(&Models::default());
            }
        }
        2 => {
            if let Some(r) = parse::<SimulationRequest>(&t) {
                let _ = r.run();
            }
        }
        3 => {
            if let Some(r) = parse::<CalibrationRequest>(&t) {
                let _ = r.validated();
            }
        }
        4 => {
            if let Some(c) = parse::<Calibration>(&t) {
                let _ = check_physical(&c, "fuzz");
                let _ = c.validated();
            }
        }
        5 => {
            if let Some(s) = parse::<SyntheticScanSpec>(&t)
                && let Ok(scan) = SyntheticScan::new(&s)
            {
                let _ = scan.truth();
                let _ = scan.point_spots(0);
            }
        }
        6 => {
            let _ = read_journal(&t, "fuzz.journal");
        }
        7 => {
            if let Some(c) = parse::<ClusterRecord>(&t) {
                let _ = c.validate(c.labels.len());
            }
        }
        8 => {
            if let Some(f) = parse::<FeatureSettings>(&t)
                && let Ok(f) = f.validated()
            {
                let _ = f.n_bins();
            }
        }
        9 => {
            let _ = parse::<ReadOptions>(&t);
            let _ = parse::<IndexSettings>(&t);
        }
        _ => {
            let _ = parse::<GoodSpotCriteria>(&t);
        }
    }
}

fn model_json(data: &[u8]) {
    use lauekit::cluster::autoencoder::{
        AutoencoderConfig, autoencoder_to_bytes, embedded_autoencoder, load_autoencoder,
    };
    use lauekit::spotnet::infer::spotnet_to_bytes;
    use lauekit::spotnet::{SpotNetConfig, embedded_spotnet, load_spotnet};
    let Some((&kind, rest)) = data.split_first() else { return };
    let t = lossy(rest);
    let device = lauekit::device::cpu().device;
    match kind % 3 {
        0 => {
            let weights = std::fs::read(root().join("www/models/Ge.bpk")).expect("www/models/Ge.bpk");
            if let Ok(model) = HklModel::from_bytes(&weights, &t, &device) {
                let q: Vec<nalgebra::Vector3<f64>> = (0..6)
                    .map(|i| {
                        let a = 0.3 * i as f64;
                        nalgebra::Vector3::new(-0.5, 0.6 * a.cos(), 0.6 * a.sin() + 0.4).normalize()
                    })
                    .collect();
                if let Ok(pred) = model.predict(&q) {
                    for p in pred {
                        let _ = model.meta.classes.label(p.class);
                    }
                }
            }
        }
        1 => {
            if let Ok(cfg) = serde_json::from_str::<SpotNetConfig>(&t)
                && cfg.validate().is_ok()
                && let Ok(net) = embedded_spotnet(&device)
                && let Ok(bytes) = spotnet_to_bytes(&net, &cfg)
            {
                let _ = load_spotnet(&bytes, &device);
            }
        }
        _ => {
            if let Ok(cfg) = serde_json::from_str::<AutoencoderConfig>(&t)
                && cfg.validate().is_ok()
                && let Ok(net) = embedded_autoencoder(&device)
                && let Ok(bytes) = autoencoder_to_bytes(&net, &cfg, false)
            {
                let _ = load_autoencoder(&bytes, &device);
            }
        }
    }
}

const SIDE: usize = 128;

fn small_calibration() -> Calibration {
    Calibration {
        distance_mm: 20.0,
        xcen_px: 64.0,
        ycen_px: 64.0,
        xbet_deg: 0.0,
        xgam_deg: 0.0,
        pixel_size_mm: 0.25,
        rows: SIDE,
        cols: SIDE,
    }
}

/// The settings_to_run target's frame: a Ge pattern on 128 × 128 px, column 100 dead (NaN, masked).
fn small_frame() -> Frame {
    let request = SimulationRequest {
        material: Some("Ge".into()),
        lattice: None,
        space_group: None,
        extinction: None,
        ub: None,
        euler_deg: Some([10.0, 20.0, 30.0]),
        calibration: small_calibration(),
        emin_kev: 5.0,
        emax_kev: 22.0,
    };
    let spots = request.run().map(|r| r.spots).unwrap_or_default();
    let mut pixels = vec![100f32; SIDE * SIDE];
    for s in &spots {
        let (cx, cy) = (s.x_px - 1.0, s.y_px - 1.0);
        for r in 0..SIDE {
            for c in 0..SIDE {
                let d2 = (c as f64 - cx).powi(2) + (r as f64 - cy).powi(2);
                if d2 < 36.0 {
                    pixels[r * SIDE + c] += (3000.0 * (-d2 / 2.88).exp()) as f32;
                }
            }
        }
    }
    let mut mask = vec![false; SIDE * SIDE];
    for r in 0..SIDE {
        pixels[r * SIDE + 100] = f32::NAN;
        mask[r * SIDE + 100] = true;
    }
    Frame {
        rows: SIDE,
        cols: SIDE,
        pixels: Pixels::F32(pixels),
        mask: Some(mask),
        detector: None,
        pixel_size_mm: Some(0.25),
        metadata: BTreeMap::new(),
        source: "fuzz".into(),
    }
}

fn settings_to_run(data: &[u8]) {
    let Ok(request) = serde_json::from_slice::<PipelineRequest>(data) else { return };
    let device = lauekit::device::cpu().device;
    let mut models = Models::default();
    if request.needs_spotnet() {
        models.spotnet = lauekit::spotnet::embedded_spotnet(&device).ok().map(|n| (n, device.clone()));
    }
    if request.index.as_ref().is_some_and(|i| i.method == Method::Nn) {
        let weights = std::fs::read(root().join("www/models/Ge.bpk")).expect("www/models/Ge.bpk");
        let meta = std::fs::read_to_string(root().join("www/models/Ge.json")).expect("www/models/Ge.json");
        models.hkl = HklModel::from_bytes(&weights, &meta, &device).ok();
    }
    if let Ok(job) = request.prepare(&models) {
        let _ = run_image(&small_frame(), &small_calibration(), &job, &models);
    }
}

#[test]
fn fuzz_regressions_replay_without_panic() {
    type Replay = fn(&[u8]);
    let targets: [(&str, Replay); 8] = [
        ("det", det),
        ("cor", cor),
        ("dat", dat),
        ("fit", fit),
        ("psp", psp),
        ("json_settings", json_settings),
        ("model_json", model_json),
        ("settings_to_run", settings_to_run),
    ];
    let mut total = 0;
    for (name, call) in targets {
        total += replay(name, call);
    }
    // The image readers' crashes have their own replay (src/io/image/mod.rs, tests/data/images/fuzz).
    assert!(total > 0, "no case found under tests/data/fuzz_regressions");
}
