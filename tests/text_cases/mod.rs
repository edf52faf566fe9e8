//! Hostile and dialect input for the text parsers and settings the page takes (issue 18), shared by the native
//! test (tests/text_parsers.rs) and the browser test (tests/web_readers.rs): LaueTools calibrations (.det), peak
//! lists (.dat, .cor), peak-search settings (JSON, .psp), LaueNN model descriptions and indexing settings — with a
//! byte-order mark, Latin-1 comments, LaueTools-written dialects, and values that are not finite, out of range or
//! inconsistent. Each case must give its value (checked) or an error whose message holds given words — never a
//! panic. Inputs are embedded, so the same cases run without a file system.
#![allow(clippy::unwrap_used, dead_code)]

use lauekit::LaueError;
use lauekit::index::IndexSettings;
use lauekit::index::nn::predict::ModelMeta;
use lauekit::io::det::DetFile;
use lauekit::io::peaklist::{read_cor, read_dat};
use lauekit::io::text::decode;
use lauekit::peaks::PeakSearchParams;

const DET: &str = include_str!("../../www/examples/calibGe111.det");
const PEAKS_JSON: &str = include_str!("../../www/examples/peaksearch.json");
const GE_MODEL: &str = include_str!("../../www/models/Ge.json");
const LT_PSP: &str = include_str!("../data/lauetools/dialects/lt_saved.psp");
const LT_DAT: &str = include_str!("../data/lauetools/dialects/lt_writepeaklist.dat");
const LT_DAT2: &str = include_str!("../data/lauetools/dialects/lt_writefile_peaklist.dat");
const LT_COR: &str = include_str!("../data/lauetools/dialects/lt_cor_props.cor");
const LT_COR2: &str = include_str!("../data/lauetools/dialects/lt_cor_ccddict.cor");
const LT_COR3: &str = include_str!("../data/lauetools/dialects/lt_cor_calibonly.cor");

/// What a case must give.
enum Expect {
    /// Ok, and this check of the value passes
    Value(fn(&Outcome) -> Result<(), String>),
    /// an error whose message holds every one of these (case-insensitive)
    Error(&'static [&'static str]),
}

/// The parsed value of a case, whatever its type.
enum Outcome {
    Det(DetFile),
    Peaks(usize, f64),
    Params(Box<PeakSearchParams>),
    Model(Box<ModelMeta>),
    Unit,
}

struct Case {
    label: &'static str,
    run: Box<dyn Fn() -> Result<Outcome, LaueError>>,
    expect: Expect,
}

fn bom(s: &str) -> String {
    format!("\u{feff}{s}")
}

/// `text` with one Latin-1 byte (é, 0xE9) in a comment line, decoded as the readers decode files.
fn latin1_comment(text: &str, comment: &str) -> Result<String, LaueError> {
    let mut bytes = text.as_bytes().to_vec();
    bytes.extend_from_slice(comment.as_bytes());
    bytes.extend_from_slice(&[b' ', 0xE9, b'\n']);
    decode(&bytes, "latin1")
}

fn det(text: String) -> Box<dyn Fn() -> Result<Outcome, LaueError>> {
    Box::new(move || DetFile::parse(&text, "calib.det").map(Outcome::Det))
}

fn params_json(text: String) -> Box<dyn Fn() -> Result<Outcome, LaueError>> {
    Box::new(move || {
        PeakSearchParams::from_json(&text, "settings.json").map(|p| Outcome::Params(Box::new(p)))
    })
}

fn params_psp(text: String) -> Box<dyn Fn() -> Result<Outcome, LaueError>> {
    Box::new(move || PeakSearchParams::from_psp(&text, "settings.psp").map(|p| Outcome::Params(Box::new(p))))
}

fn model(text: String) -> Box<dyn Fn() -> Result<Outcome, LaueError>> {
    Box::new(move || ModelMeta::from_json(&text, "model.json").map(|m| Outcome::Model(Box::new(m))))
}

fn ge_det(o: &Outcome) -> Result<(), String> {
    match o {
        Outcome::Det(d)
            if (d.calibration.distance_mm - 70.775).abs() < 1e-9 && d.calibration.rows == 2048 =>
        {
            Ok(())
        }
        Outcome::Det(d) => Err(format!("dd {} rows {}", d.calibration.distance_mm, d.calibration.rows)),
        _ => Err("not a calibration".into()),
    }
}

fn example_params(o: &Outcome) -> Result<(), String> {
    match o {
        Outcome::Params(p) if p.intensity_threshold == 50.0 => Ok(()),
        Outcome::Params(p) => Err(format!("IntensityThreshold {}", p.intensity_threshold)),
        _ => Err("not settings".into()),
    }
}

fn any_params(o: &Outcome) -> Result<(), String> {
    match o {
        Outcome::Params(_) => Ok(()),
        _ => Err("not settings".into()),
    }
}

fn ge_model(o: &Outcome) -> Result<(), String> {
    match o {
        Outcome::Model(_) => Ok(()),
        _ => Err("not a model".into()),
    }
}

/// A peak list of `n` rows whose first x is `x0`.
fn peaks(n: usize, x0: f64) -> fn(&Outcome) -> Result<(), String> {
    // (fn pointers cannot capture: the expected counts are matched here)
    match (n, x0 as i64) {
        (0, _) => |_| Ok(()),
        _ => |o| match o {
            Outcome::Peaks(n, _) if *n > 0 => Ok(()),
            _ => Err("no peaks".into()),
        },
    }
}

/// The Ge model description with `f` applied to its JSON value.
fn ge_model_with(f: fn(&mut serde_json::Value)) -> String {
    let mut v: serde_json::Value = serde_json::from_str(GE_MODEL).unwrap();
    f(&mut v);
    v.to_string()
}

fn cases() -> Vec<Case> {
    let mut v = vec![
        // .det
        Case { label: ".det: calibGe111", run: det(DET.into()), expect: Expect::Value(ge_det) },
        Case { label: ".det: with a BOM", run: det(bom(DET)), expect: Expect::Value(ge_det) },
        Case {
            label: ".det: Latin-1 byte in a comment",
            run: Box::new(|| {
                let text = latin1_comment(DET, "# calibrated by Jérôme")?;
                DetFile::parse(&text, "calib.det").map(Outcome::Det)
            }),
            expect: Expect::Value(ge_det),
        },
        Case {
            label: ".det: a JSON file",
            run: det(PEAKS_JSON.into()),
            expect: Expect::Error(&["calib.det"]),
        },
        Case { label: ".det: empty", run: det(String::new()), expect: Expect::Error(&["calib.det"]) },
        Case {
            label: ".det: NaN distance",
            run: det(DET.replacen("70.77500", "NaN", 1)),
            expect: Expect::Error(&["calib.det"]),
        },
        // peak-search settings
        Case {
            label: "peak settings: the example JSON",
            run: params_json(PEAKS_JSON.into()),
            expect: Expect::Value(example_params),
        },
        Case {
            label: "peak settings: JSON with a BOM",
            run: params_json(bom(PEAKS_JSON)),
            expect: Expect::Value(example_params),
        },
        Case {
            label: "peak settings: negative FitPixelDev",
            run: params_json(r#"{"FitPixelDev": -2}"#.into()),
            expect: Expect::Error(&["settings.json", "FitPixelDev"]),
        },
        Case {
            label: "peak settings: reversed PeakSizeRange",
            run: params_json(r#"{"PeakSizeRange": [3, 0.5]}"#.into()),
            expect: Expect::Error(&["settings.json", "PeakSizeRange"]),
        },
        Case {
            label: "peak settings: an unknown key",
            run: params_json(r#"{"IntensityTreshold": 100}"#.into()),
            expect: Expect::Error(&["settings.json", "IntensityTreshold"]),
        },
        Case {
            label: "peak settings: method-2 kernel of 100000 px",
            run: params_json(r#"{"local_maxima_search_method": 2, "paramsHat": [4, 100000, 2]}"#.into()),
            expect: Expect::Error(&["settings.json", "paramsHat"]),
        },
        Case {
            label: ".psp: LaueTools-written",
            run: params_psp(LT_PSP.into()),
            expect: Expect::Value(any_params),
        },
        Case { label: ".psp: with a BOM", run: params_psp(bom(LT_PSP)), expect: Expect::Value(any_params) },
        Case {
            label: ".psp: a JSON file (no [PeakSearch] section)",
            run: params_psp(PEAKS_JSON.into()),
            expect: Expect::Error(&["settings.psp", "PeakSearch"]),
        },
        Case {
            label: ".psp: NaN threshold",
            run: params_psp("[PeakSearch]\nIntensityThreshold = nan\n".into()),
            expect: Expect::Error(&["settings.psp", "IntensityThreshold"]),
        },
        Case {
            label: ".psp: fit_peaks_gaussian 258 (not wrapped to 2)",
            run: params_psp("[PeakSearch]\nfit_peaks_gaussian = 258\n".into()),
            expect: Expect::Error(&["settings.psp", "fit_peaks_gaussian"]),
        },
        // LaueNN model descriptions
        Case { label: "model: Ge", run: model(GE_MODEL.into()), expect: Expect::Value(ge_model) },
        Case { label: "model: with a BOM", run: model(bom(GE_MODEL)), expect: Expect::Value(ge_model) },
        Case {
            label: "model: class table names material 7 of 1",
            run: model(ge_model_with(|v| {
                if let Some(c) = v.pointer_mut("/classes/classes/0/material") {
                    *c = serde_json::json!(7);
                }
            })),
            expect: Expect::Error(&["model model.json"]),
        },
        Case {
            label: "model: histogram bins of 0°",
            run: model(ge_model_with(|v| {
                if let Some(h) = v.pointer_mut("/features/bin_deg") {
                    *h = serde_json::json!(0.0);
                }
            })),
            expect: Expect::Error(&["model model.json"]),
        },
        Case {
            label: "model: not JSON",
            run: model("PK\u{3}\u{4}".into()),
            expect: Expect::Error(&["model model.json"]),
        },
        // indexing settings
        Case {
            label: "index settings: 0 grains",
            run: Box::new(|| {
                IndexSettings { nbgrainstofind: 0, ..IndexSettings::default() }
                    .validated()
                    .map(|_| Outcome::Unit)
            }),
            expect: Expect::Error(&["nbgrainstofind"]),
        },
        Case {
            label: "index settings: NaN tolerance",
            run: Box::new(|| {
                IndexSettings { angletollut: f64::NAN, ..IndexSettings::default() }
                    .validated()
                    .map(|_| Outcome::Unit)
            }),
            expect: Expect::Error(&["angletollut"]),
        },
    ];
    // Peak lists LaueTools wrote, as written and with a BOM.
    for (label, text) in
        [(".dat: LaueTools writepeaklist", LT_DAT), (".dat: LaueTools writefile_peaklist", LT_DAT2)]
    {
        for with_bom in [false, true] {
            let text = if with_bom { bom(text) } else { text.to_string() };
            v.push(Case {
                label: if with_bom { "  … with a BOM" } else { label },
                run: Box::new(move || read_dat(&text, "peaks.dat").map(|p| Outcome::Peaks(p.len(), p[0].x))),
                expect: Expect::Value(peaks(1, 0.0)),
            });
        }
    }
    for (label, text) in [
        (".cor: LaueTools, props", LT_COR),
        (".cor: LaueTools, CCD dict", LT_COR2),
        (".cor: LaueTools, calibration only", LT_COR3),
    ] {
        for with_bom in [false, true] {
            let text = if with_bom { bom(text) } else { text.to_string() };
            v.push(Case {
                label: if with_bom { "  … with a BOM" } else { label },
                run: Box::new(move || {
                    let c = read_cor(&text, "peaks.cor")?;
                    let n = c.column("2theta").map_or(0, |x| x.len());
                    Ok(Outcome::Peaks(n, 0.0))
                }),
                expect: Expect::Value(peaks(1, 0.0)),
            });
        }
    }
    v.push(Case {
        label: ".dat: a number with a Latin-1 byte",
        run: Box::new(|| {
            let mut bytes = LT_DAT.lines().take(2).collect::<Vec<_>>().join("\n").into_bytes();
            bytes.extend_from_slice(b"\n1.5\xE9 2 3 4 5 6 7 8 9 10 11\n");
            let text = decode(&bytes, "peaks.dat")?;
            read_dat(&text, "peaks.dat").map(|p| Outcome::Peaks(p.len(), 0.0))
        }),
        expect: Expect::Error(&["peaks.dat"]),
    });
    v
}

/// Runs every case; `report(label, Ok | Err(what was wrong))`. Returns the number of cases.
pub fn run_all(report: &mut dyn FnMut(&str, Result<(), String>)) -> usize {
    let cases = cases();
    for c in &cases {
        let got = (c.run)();
        let r = match (&c.expect, got) {
            (Expect::Value(check), Ok(o)) => check(&o),
            (Expect::Value(_), Err(e)) => Err(format!("refused: {e}")),
            (Expect::Error(_), Ok(_)) => Err("accepted, expected a refusal".into()),
            (Expect::Error(words), Err(e)) => {
                let m = e.to_string().to_lowercase();
                match words.iter().find(|w| !m.contains(&w.to_lowercase())) {
                    None => Ok(()),
                    Some(w) => Err(format!("message lacks '{w}': {e}")),
                }
            }
        };
        report(c.label, r);
    }
    cases.len()
}
