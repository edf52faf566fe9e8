//! Resource limits and validation (issue 18, items 3 and 5): sizes that would take the machine's memory or
//! time are refused before anything is allocated, with the setting, the value, the limit and the override
//! named; settings that are not finite, out of range or inconsistent are refused under their stage; and
//! results that chance explains (blank cut-outs, random peaks) are not reported as spots or grains.

use std::path::{Path, PathBuf};

use crate::common::{Snapshot, lauekit, scratch, shared_data};

fn ge_blanc() -> PathBuf {
    shared_data().join("real/Ge_blanc")
}

fn s(p: &Path) -> String {
    p.display().to_string()
}

/// Writes `text` to `dir/name` and returns the path.
fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, text).expect("write case file");
    p
}

/// A LaueTools `.dat` of `n` uniformly random peaks on a 2048 × 2048 frame (deterministic).
fn random_dat(dir: &Path, n: usize) -> PathBuf {
    let mut state: u64 = 0x2545_F491_4F6C_DD1D;
    let mut next = || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        (state >> 11) as f64 / (1u64 << 53) as f64
    };
    let mut text = String::from(
        "peak_X peak_Y peak_Itot peak_Isub peak_fwaxmaj peak_fwaxmin peak_inclination Xdev Ydev peak_bkg Ipixmax\n",
    );
    for _ in 0..n {
        let (x, y, i) = (1.0 + 2047.0 * next(), 1.0 + 2047.0 * next(), 100.0 + 9900.0 * next());
        text.push_str(&format!("{x:.2} {y:.2} {i:.1} {i:.1} 1.0 1.0 0.0 0.0 0.0 50.0 {i:.0}\n"));
    }
    write(dir, "random.dat", &text)
}

/// One refusal: the arguments (files made in the case's scratch folder) and the words its message must hold.
struct Refusal {
    name: &'static str,
    args: fn(&Path) -> Vec<String>,
    words: &'static [&'static str],
}

fn peaks_with_params(dir: &Path, json: &str) -> Vec<String> {
    let params = write(dir, "params.json", json);
    vec!["peaks".into(), s(&ge_blanc().join("Ge_blanc_0000.mccd")), "--params".into(), s(&params)]
}

fn peaks_with_psp(dir: &Path, psp: &str) -> Vec<String> {
    let p = write(dir, "settings.psp", psp);
    vec!["peaks".into(), s(&ge_blanc().join("Ge_blanc_0000.mccd")), "--psp".into(), s(&p)]
}

fn index_ge(extra: &[&str]) -> Vec<String> {
    let mut a = vec![
        "index".to_string(),
        s(&ge_blanc().join("Ge_blanc_0000_LT_5.dat")),
        "--calib".into(),
        s(&ge_blanc().join("calibGe111.det")),
        "--material".into(),
        "Ge".into(),
    ];
    a.extend(extra.iter().map(|x| x.to_string()));
    a
}

fn train_ge(extra: &[&str]) -> Vec<String> {
    let mut a = vec![
        "train-index".to_string(),
        "--material".into(),
        "Ge".into(),
        "--calib".into(),
        s(&ge_blanc().join("calibGe111.det")),
        "-o".into(),
        "model".into(),
    ];
    a.extend(extra.iter().map(|x| x.to_string()));
    a
}

const REFUSALS: &[Refusal] = &[
    // Item 3: unbounded memory and time.
    Refusal {
        name: "simulate_huge_cell",
        args: |_| {
            [
                "simulate",
                "--lattice",
                "300,300,300,90,90,90",
                "--spacegroup",
                "1",
                "--calib",
                "70,1024,1024,0,0",
                "--pixel-size",
                "0.079142",
                "--frame",
                "2048x2048",
                "--euler",
                "0,0,0",
            ]
            .map(String::from)
            .to_vec()
        },
        words: &["reflections", "over the limit", "LAUEKIT_MAX_REFLECTIONS", "cell volume 2.7000e7"],
    },
    Refusal {
        name: "pair_spots_2000_on_2000_peaks",
        args: |dir| {
            let dat = random_dat(dir, 2000);
            let det = ge_blanc().join("calibGe111.det");
            ["index", &s(&dat), "--calib", &s(&det), "--material", "Ge", "--pair-spots", "2000"]
                .map(String::from)
                .to_vec()
        },
        words: &["--pair-spots", "2000", "over the limit of 50", "LAUEKIT_MAX_PAIR_SPOTS"],
    },
    Refusal {
        name: "params_hat_kernel_100000",
        args: |dir| {
            peaks_with_params(dir, r#"{"local_maxima_search_method": 2, "paramsHat": [4, 100000, 2]}"#)
        },
        words: &["paramsHat kernel size", "100000", "over the limit", "LAUEKIT_MAX_KERNEL_PX"],
    },
    Refusal {
        name: "params_hat_kernel_201",
        args: |dir| peaks_with_params(dir, r#"{"local_maxima_search_method": 2, "paramsHat": [4, 201, 2]}"#),
        words: &["paramsHat kernel size", "201", "LAUEKIT_MAX_KERNEL_PX"],
    },
    Refusal {
        name: "threads_10000",
        args: |_| {
            ["peaks", &s(&ge_blanc().join("Ge_blanc_0000.mccd")), "--threads", "10000"]
                .map(String::from)
                .to_vec()
        },
        words: &["--threads", "10000", "per core", "LAUEKIT_MAX_THREADS_PER_CORE"],
    },
    Refusal { name: "threads_0", args: |_| index_threads0(), words: &["--threads 0", "at least 1"] },
    // Item 5: settings accepted silently.
    Refusal {
        name: "grains_0",
        args: |_| index_ge(&["--grains", "0"]),
        words: &["invalid indexing settings", "--grains", "= 0"],
    },
    Refusal {
        name: "negative_fit_pixel_dev",
        args: |dir| peaks_with_params(dir, r#"{"FitPixelDev": -3}"#),
        words: &["params.json", "FitPixelDev = -3", "≥ 0"],
    },
    Refusal {
        name: "reversed_peak_size_range",
        args: |dir| peaks_with_params(dir, r#"{"PeakSizeRange": [3.0, 0.65]}"#),
        words: &["PeakSizeRange = [3, 0.65]", "min < max"],
    },
    Refusal {
        name: "nan_intensity_threshold",
        args: |dir| peaks_with_psp(dir, "[PeakSearch]\nintensitythreshold = nan\n"),
        words: &["settings.psp", "IntensityThreshold = NaN", "finite"],
    },
    Refusal {
        name: "infinite_fit_pixel_dev",
        args: |dir| peaks_with_psp(dir, "[PeakSearch]\nfitpixeldev = inf\n"),
        words: &["FitPixelDev = inf", "finite"],
    },
    Refusal { name: "nan_energy", args: |_| index_ge(&["--emin", "NaN"]), words: &["energy band", "NaN"] },
    Refusal {
        name: "zero_tolerance",
        args: |dir| {
            let r = write(
                dir,
                "request.json",
                r#"{"index": {"materials": ["Ge"], "settings": {"angletollut": 0}}}"#,
            );
            index_ge(&[])[..4].iter().cloned().chain(["--request".into(), s(&r)]).collect()
        },
        words: &["invalid indexing settings", "angletollut = 0", "> 0"],
    },
    Refusal {
        name: "negative_matching_tolerance",
        args: |dir| {
            let r = write(
                dir,
                "request.json",
                r#"{"index": {"materials": ["Ge"], "settings": {"list_matching_tol_angles": [0.5, -0.1]}}}"#,
            );
            index_ge(&[])[..4].iter().cloned().chain(["--request".into(), s(&r)]).collect()
        },
        words: &["list_matching_tol_angles = -0.1", "> 0"],
    },
    Refusal {
        name: "train_lr_nan",
        args: |_| train_ge(&["--lr", "NaN"]),
        words: &["invalid training settings", "learning rate", "NaN"],
    },
    Refusal {
        name: "train_lr_zero",
        args: |_| train_ge(&["--lr", "0"]),
        words: &["learning rate", "= 0", "> 0"],
    },
    Refusal {
        name: "train_lr_negative",
        args: |_| train_ge(&["--lr=-0.001"]),
        words: &["learning rate", "-0.001"],
    },
    Refusal { name: "train_epochs_zero", args: |_| train_ge(&["--epochs", "0"]), words: &["epochs", "= 0"] },
    Refusal {
        name: "det_of_another_detector",
        args: |_| {
            let mut a = index_ge(&["--params", &s(&ge_blanc().join("peaksearch.json"))]);
            a[1] = s(&ge_blanc().join("Ge_blanc_0000.mccd"));
            a[3] = s(&shared_data().join("real/GaN_Si/calib.det"));
            a
        },
        words: &["Ge_blanc_0000.mccd", "2018×2016", "2048×2048", "--allow-calib-mismatch"],
    },
];

fn index_threads0() -> Vec<String> {
    ["peaks", &s(&ge_blanc().join("Ge_blanc_0000.mccd")), "--threads", "0"].map(String::from).to_vec()
}

#[test]
fn limits_and_settings_are_refused_with_their_names() {
    let inputs = [
        ge_blanc().join("Ge_blanc_0000.mccd"),
        ge_blanc().join("Ge_blanc_0000_LT_5.dat"),
        ge_blanc().join("calibGe111.det"),
    ];
    let snapshot = Snapshot::of(&inputs.iter().map(PathBuf::as_path).collect::<Vec<_>>());
    for case in REFUSALS {
        let dir = scratch(&format!("limits_{}", case.name));
        let args = (case.args)(&dir);
        let refs: Vec<&str> = args.iter().map(String::as_str).collect();
        let out = lauekit(&dir, &refs);
        out.assert_refused(case.name, case.words);
        assert!(!out.stderr.contains("InvalidSettings"), "{}: {}", case.name, out.stderr);
        if case.name.starts_with("train") {
            assert!(!dir.join("model.json").exists(), "{}: a model was written", case.name);
        }
    }
    snapshot.assert_unchanged("limits");
}

#[test]
fn limits_can_be_raised_by_their_variable() {
    // The kernel limit read from its variable: 201 px then passes the setting check and meets the frame's
    // convolution budget instead (refused all the same, by the other limit, before any allocation).
    let dir = scratch("limits_override");
    let args = peaks_with_params(&dir, r#"{"local_maxima_search_method": 2, "paramsHat": [4, 201, 2]}"#);
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_lauekit"));
    let out = cmd.args(&args).current_dir(&dir).env("LAUEKIT_MAX_KERNEL_PX", "500").output().expect("run");
    let err = String::from_utf8_lossy(&out.stderr);
    assert_ne!(out.status.code(), Some(0), "{err}");
    assert!(err.contains("convolution") && err.contains("LAUEKIT_MAX_CONVOLUTION_OPS"), "{err}");
}

#[test]
fn an_all_zero_image_has_no_good_spot() {
    let dir = scratch("limits_zero_image");
    let (rows, cols) = (256usize, 256usize);
    let tiff = lauekit::io::tiff_out::tiff_u16_bytes(rows, cols, &vec![0u16; rows * cols]).expect("tiff");
    let img = dir.join("zero.tif");
    std::fs::write(&img, tiff).expect("write tiff");
    let dat = write(
        &dir,
        "spots.dat",
        "peak_X peak_Y peak_Itot peak_Isub peak_fwaxmaj peak_fwaxmin peak_inclination Xdev Ydev peak_bkg Ipixmax\n\
         64.00 64.00 1000 1000 1 1 0 0 0 0 1000\n128.00 100.00 1000 1000 1 1 0 0 0 0 1000\n\
         200.00 180.00 1000 1000 1 1 0 0 0 0 1000\n",
    );
    let out = lauekit(&dir, &["characterize", &s(&img), "--peaks", &s(&dat), "--format", "json"]);
    out.assert_clean("zero image");
    assert_eq!(out.code, Some(0), "{out:#?}");
    let j: serde_json::Value = serde_json::from_str(&out.stdout).expect("json");
    assert_eq!(j["n_peaks"], 3);
    assert_eq!(j["n_good"], 0, "{}", out.stdout);
    for p in j["peaks"].as_array().expect("peaks") {
        assert_eq!(p["sim"], 0.0, "a blank cut-out has no Gaussian-likeness: {p}");
        assert_eq!(p["good"], false);
    }
}

#[test]
fn random_peaks_give_no_grain_and_real_grains_carry_their_chance_level() {
    let dir = scratch("limits_random_peaks");
    let dat = random_dat(&dir, 2000);
    let det = ge_blanc().join("calibGe111.det");
    let out =
        lauekit(&dir, &["index", &s(&dat), "--calib", &s(&det), "--material", "Ge", "--format", "json"]);
    out.assert_clean("random peaks");
    assert_eq!(out.code, Some(0), "{out:#?}");
    let j: serde_json::Value = serde_json::from_str(&out.stdout).expect("json");
    assert_eq!(j["grains"].as_array().map(Vec::len), Some(0), "random peaks indexed: {}", out.stdout);
    assert_eq!(j["unindexed"].as_array().map(Vec::len), Some(2000));

    // The real pattern is far above chance, and says where chance lies: above the analytic bound, so no random
    // trial was needed (trials 0; src/index/chance.rs), the bound being the expected rate where random peaks are
    // densest and the rate the best of 10⁶ random candidates reaches but with probability 1 %.
    let out = lauekit(&dir, &index_ge(&["--format", "json"]).iter().map(String::as_str).collect::<Vec<_>>());
    assert_eq!(out.code, Some(0), "{out:#?}");
    let j: serde_json::Value = serde_json::from_str(&out.stdout).expect("json");
    let g = &j["grains"][0];
    assert_eq!(g["n_indexed"], 95);
    let c = &g["chance"];
    let rate = c["matching_rate"].as_f64().expect("chance rate");
    let thr = c["matching_rate_threshold"].as_f64().expect("chance threshold");
    assert!(rate > 0.5 && rate < 20.0 && thr > rate && thr < 50.0, "{c}");
    assert!(g["matching_rate"].as_f64().expect("rate") > thr + 20.0, "{g}");
    assert_eq!(c["n_spots"], 97, "{c}");
    assert_eq!(c["trials"], 0, "{c}");
}
