//! Errors that say what is wrong: broken model files (class table, weights, shapes, sizes), settings refused
//! under their own stage's name, devices. Each case runs the real CLI and checks the exit code, the words of
//! the message (the file named, the setting, the value) and words that must not appear (Rust Debug text,
//! absurd numbers, another stage's name).

use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::common::{Snapshot, copy_in, lauekit, scratch, shared_data};

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).to_path_buf()
}

fn ge_blanc() -> PathBuf {
    shared_data().join("real/Ge_blanc")
}

/// The shipped Ge model copied into `dir` as `name.bpk` + `name.json`, the JSON changed by `edit`.
fn ge_model(dir: &Path, name: &str, edit: impl FnOnce(&mut Value)) -> PathBuf {
    let models = repo().join("www/models");
    copy_in(&models.join("Ge.bpk"), dir, &format!("{name}.bpk"));
    let text = std::fs::read_to_string(models.join("Ge.json")).expect("Ge.json");
    let mut j: Value = serde_json::from_str(&text).expect("Ge.json is JSON");
    edit(&mut j);
    std::fs::write(dir.join(format!("{name}.json")), serde_json::to_string_pretty(&j).expect("json"))
        .expect("write model json");
    dir.join(name)
}

/// The weights of `bpk` with the first value of every float tensor set to NaN (f32 or f16), metadata kept.
fn nan_weights(bpk: &Path) -> Vec<u8> {
    let bytes = std::fs::read(bpk).expect("read bpk");
    let reader =
        burn_pack::Reader::from_bytes(burn::tensor::Bytes::from_bytes_vec(bytes)).expect("a burnpack file");
    let metadata = reader.metadata().clone();
    let tensors: Vec<burn_pack::Tensor> = reader
        .into_tensors()
        .expect("tensors")
        .into_iter()
        .map(|t| {
            let (name, dtype, shape, id, data) = t.into_parts().expect("tensor bytes");
            let mut v = data.to_vec();
            match dtype {
                burn::tensor::DType::F32 => v[..4].copy_from_slice(&f32::NAN.to_le_bytes()),
                burn::tensor::DType::F16 => v[..2].copy_from_slice(&0x7E00u16.to_le_bytes()),
                other => panic!("unexpected dtype {other:?} in {name}"),
            }
            burn_pack::Tensor::new(name, dtype, shape, id, burn::tensor::Bytes::from_bytes_vec(v))
        })
        .collect();
    let mut writer = burn_pack::Writer::new(tensors);
    for (k, v) in &metadata {
        writer = writer.with_metadata(k, v);
    }
    writer.into_bytes().expect("write burnpack").to_vec()
}

/// `lauekit index` of the Ge_blanc peak list with `--method nn --model model`.
fn index_nn(dir: &Path, model: &Path) -> crate::common::Outcome {
    let dat = ge_blanc().join("Ge_blanc_0000_LT_5.dat");
    let det = ge_blanc().join("calibGe111.det");
    lauekit(
        dir,
        &[
            "index",
            dat.to_str().expect("utf-8 path"),
            "--calib",
            det.to_str().expect("utf-8 path"),
            "--method",
            "nn",
            "--model",
            model.to_str().expect("utf-8 path"),
        ],
    )
}

/// Words no message may hold: Rust Debug text of library types, usize::MAX, a panic.
const NEVER: &[&str] = &["ShapeMismatch", "ApplyError", "Some(", "18446744073709551615", "panicked", "{ "];

fn assert_never(case: &str, stderr: &str) {
    for w in NEVER {
        assert!(!stderr.contains(w), "{case}: stderr holds '{w}': {stderr}");
    }
}

type Edit = fn(&mut Value);

#[test]
fn broken_lauenn_models_are_refused_with_the_file_named() {
    // (case, edit of Ge.json, words of the message)
    let cases: &[(&str, Edit, &[&str])] = &[
        (
            "class_material_out_of_range",
            |j| j["classes"]["classes"][3]["material"] = 7.into(),
            &["bad.json", "class 3 names material 7, but the materials are [Ge]"],
        ),
        (
            "class_hkl_zero",
            |j| j["classes"]["classes"][0]["hkl"] = serde_json::json!([0, 0, 0]),
            &["bad.json", "class 0", "hkl (0 0 0)"],
        ),
        (
            "class_hkl_huge",
            |j| j["classes"]["classes"][0]["hkl"] = serde_json::json!([2147483647, 1, 0]),
            &["bad.json", "2147483647"],
        ),
        ("bin_zero", |j| j["features"]["bin_deg"] = 0.0.into(), &["bad.json", "bin_deg = 0"]),
        (
            "radius_too_wide",
            |j| j["features"]["radius_deg"] = 400.0.into(),
            &["bad.json", "radius_deg = 400"],
        ),
        ("too_many_bins", |j| j["features"]["bin_deg"] = 1e-9.into(), &["bad.json", "bins", "at most 20000"]),
        ("n_in_mismatch", |j| j["net"]["n_in"] = 1000.into(), &["bad.json", "n_in = 1000", "1200 bins"]),
        ("n_out_mismatch", |j| j["net"]["n_out"] = 11.into(), &["bad.json", "n_out = 11", "10 classes"]),
        (
            "huge_hidden",
            |j| j["net"]["hidden"][0] = 1_000_000_000u64.into(),
            &["bad.json", "hidden[0] = 1000000000"],
        ),
        ("dropout_two", |j| j["net"]["dropout"] = 2.0.into(), &["bad.json", "dropout = 2"]),
        ("version_two", |j| j["version"] = 2.into(), &["bad.json", "format version 2"]),
        ("no_material", |j| j["materials"] = serde_json::json!([]), &["bad.json", "no material"]),
        (
            "bad_lattice",
            |j| j["materials"][0]["lattice"]["a"] = (-1.0).into(),
            &["bad.json", "material 0 'Ge'"],
        ),
        ("band_reversed", |j| j["emin_kev"] = 30.0.into(), &["bad.json", "emin_kev", "30"]),
        (
            "detector_distance_null",
            |j| j["training"]["dataset"]["calibration"]["distance_mm"] = Value::Null,
            &["bad.json", "calibration.distance_mm"],
        ),
        ("not_a_model", |j| *j = serde_json::json!({"hello": 1}), &["bad.json", "not a LaueNN model"]),
        // The description is consistent, the weights are of another shape: the weights file is named.
        (
            "hidden_other_than_weights",
            |j| j["net"]["hidden"][1] = 300.into(),
            &["bad.bpk", "tensor 'l2.", "288", "300"],
        ),
    ];
    for (case, edit, words) in cases {
        let dir = scratch(&format!("errors_model_{case}"));
        let model = ge_model(&dir, "bad", edit);
        let inputs = [model.with_extension("json"), model.with_extension("bpk")];
        let snap = Snapshot::of(&[&inputs[0], &inputs[1]]);
        let o = index_nn(&dir, &model);
        o.assert_refused(case, words);
        assert_eq!(o.code, Some(1), "{case}: {o:#?}");
        assert!(o.stderr.contains("model "), "{case}: not a model error: {}", o.stderr);
        assert_never(case, &o.stderr);
        snap.assert_unchanged(case);
    }
}

#[test]
fn lauenn_model_with_nan_weights_is_refused() {
    let dir = scratch("errors_model_nan_weights");
    let model = ge_model(&dir, "nan", |_| {});
    let bpk = model.with_extension("bpk");
    std::fs::write(&bpk, nan_weights(&bpk)).expect("write NaN weights");
    let o = index_nn(&dir, &model);
    o.assert_refused("nan weights", &["nan.bpk", "NaN or infinite", "retrain"]);
    assert_eq!(o.code, Some(1));
    assert_never("nan weights", &o.stderr);
}

#[test]
fn lauenn_model_with_truncated_weights_is_refused() {
    let dir = scratch("errors_model_truncated");
    let model = ge_model(&dir, "cut", |_| {});
    let bpk = model.with_extension("bpk");
    let bytes = std::fs::read(&bpk).expect("read");
    std::fs::write(&bpk, &bytes[..bytes.len() / 2]).expect("write");
    let o = index_nn(&dir, &model);
    o.assert_refused("truncated weights", &["cut.bpk"]);
    assert_never("truncated weights", &o.stderr);
}

#[test]
fn spot_network_weights_are_checked() {
    let image = ge_blanc().join("Ge_blanc_0000.mccd");
    let image = image.to_str().expect("utf-8 path");
    // NaN weights of the shipped network.
    let dir = scratch("errors_spotnet_nan");
    let shipped = repo().join("src/spotnet/spotnet.bpk");
    let bpk = dir.join("nan_spotnet.bpk");
    std::fs::write(&bpk, nan_weights(&shipped)).expect("write");
    let o = lauekit(&dir, &["characterize", image, "--weights", bpk.to_str().expect("utf-8")]);
    o.assert_refused("spotnet nan", &["nan_spotnet.bpk", "NaN or infinite"]);
    assert_never("spotnet nan", &o.stderr);
    // The autoencoder's weights given as the spot network's: another shape, said in words.
    let dir = scratch("errors_spotnet_other");
    let ae = copy_in(&repo().join("src/cluster/autoencoder/autoencoder.bpk"), &dir, "ae.bpk");
    let o = lauekit(&dir, &["characterize", image, "--weights", ae.to_str().expect("utf-8")]);
    o.assert_refused("spotnet other weights", &["ae.bpk", "model"]);
    assert_never("spotnet other weights", &o.stderr);
    // A shape in the metadata that would take gigabytes: refused before any weight is made.
    let dir = scratch("errors_spotnet_huge");
    let bytes = std::fs::read(&shipped).expect("read");
    let reader = burn_pack::Reader::from_bytes(burn::tensor::Bytes::from_bytes_vec(bytes)).expect("burnpack");
    let tensors = reader.into_tensors().expect("tensors");
    let huge = burn_pack::Writer::new(tensors)
        .with_metadata(
            "lauekit.spotnet.config",
            r#"{"stem":1,"channels":[1024,1024,1024],"dense":[4096,4096,4096]}"#,
        )
        .into_bytes()
        .expect("write")
        .to_vec();
    let bpk = dir.join("huge.bpk");
    std::fs::write(&bpk, huge).expect("write");
    let o = lauekit(&dir, &["characterize", image, "--weights", bpk.to_str().expect("utf-8")]);
    o.assert_refused("spotnet huge", &["huge.bpk", "weights: at most 50000000"]);
    assert_never("spotnet huge", &o.stderr);
    // Not a burnpack file at all.
    let dir = scratch("errors_spotnet_text");
    let txt = dir.join("notes.bpk");
    std::fs::write(&txt, "not weights").expect("write");
    let o = lauekit(&dir, &["characterize", image, "--weights", txt.to_str().expect("utf-8")]);
    o.assert_refused("spotnet text", &["notes.bpk", "not spot-network weights"]);
    assert_never("spotnet text", &o.stderr);
}

#[test]
fn train_index_refuses_a_nan_or_negative_learning_rate() {
    let det = ge_blanc().join("calibGe111.det");
    for lr in ["NaN", "-0.001", "0", "inf"] {
        let dir = scratch(&format!("errors_train_lr_{lr}"));
        let o = lauekit(
            &dir,
            &[
                "train-index",
                "--material",
                "Ge",
                "--calib",
                det.to_str().expect("utf-8"),
                &format!("--lr={lr}"),
                "-o",
                "m",
            ],
        );
        o.assert_refused(lr, &["--lr", "learning rate"]);
        assert!(o.elapsed.as_secs() < 10, "{lr}: refused only after {:?}", o.elapsed);
        assert!(!dir.join("m.bpk").exists() && !dir.join("m.json").exists(), "{lr}: a model was written");
    }
}

#[test]
fn settings_errors_name_their_own_stage() {
    let image = ge_blanc().join("Ge_blanc_0000.mccd");
    // (case, .psp text, words)
    let cases: &[(&str, &str, &[&str])] = &[
        (
            "psp_fit_kind",
            "[PeakSearch]\nintensitythreshold = 50\nfit_peaks_gaussian = 7\n",
            &["bad.psp", "peak-search", "fit_peaks_gaussian"],
        ),
        (
            "psp_search_method",
            "[PeakSearch]\nlocal_maxima_search_method = 5\n",
            &["bad.psp", "peak-search", "local_maxima_search_method"],
        ),
    ];
    for (case, text, words) in cases {
        let dir = scratch(&format!("errors_{case}"));
        let psp = dir.join("bad.psp");
        std::fs::write(&psp, text).expect("write psp");
        let snap = Snapshot::of(&[&psp]);
        let o =
            lauekit(&dir, &["peaks", image.to_str().expect("utf-8"), "--psp", "bad.psp", "-o", "out.dat"]);
        o.assert_refused(case, words);
        assert_eq!(o.code, Some(1), "{case}: {o:#?}");
        assert!(!o.stderr.contains("simulation"), "{case}: says simulation: {}", o.stderr);
        assert!(!o.stderr.contains("invalid settings"), "{case}: the old catch-all: {}", o.stderr);
        assert!(!dir.join("out.dat").exists(), "{case}: wrote an output");
        snap.assert_unchanged(case);
    }
}

#[test]
fn device_errors_say_device() {
    let image = ge_blanc().join("Ge_blanc_0000.mccd");
    let image = image.to_str().expect("utf-8");
    let dir = scratch("errors_device");
    // An unknown device is a usage error (exit 2) that lists the known ones.
    let o = lauekit(&dir, &["characterize", image, "--device", "tpu"]);
    o.assert_refused("device tpu", &["device: unknown 'tpu'", "cpu, wgpu or cuda"]);
    assert_eq!(o.code, Some(2), "{o:#?}");
    // A device this build lacks (the default build has neither wgpu nor CUDA).
    if !cfg!(feature = "cuda") {
        let o = lauekit(&dir, &["characterize", image, "--device", "cuda"]);
        o.assert_refused("device cuda", &["device: cuda", "--features cuda"]);
        assert_eq!(o.code, Some(1), "{o:#?}");
        assert!(!o.stderr.contains("settings"), "{}", o.stderr);
    }
}
