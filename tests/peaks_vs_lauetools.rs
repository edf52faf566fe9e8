//! Peak search on the real images of ../shared/data/real with each folder's peaksearch.json, against
//! LaueTools' lists (../shared/data/reference/*_peaks.dat): recall and precision ≥ 97 % (match within
//! 0.5 px), median position difference ≤ 0.05 px, fitted σ within 10 % (median), and the stage counts that
//! LaueTools 3.2.19 gives step by step — the crowded CdTe polycrystal included.
//!
//! Then the synthetic frames of tests/data/peak_cases (tests/lauetools/make_peak_cases.py: touching spots,
//! spots 5–10 px apart, broad weak spots on three backgrounds) against LaueTools' lists for them. On weak
//! spots and noise LaueTools' own fit is chaotic (docs/peak-fit.md: with its pixels changed by 1e-7 counts
//! it agrees with itself at recall 0.77–0.80 on broad_bg100), so there the bar is set on the spots that are
//! real (within 1.5 px of a true one) and, for all peaks, above LaueTools' own reproducibility.
#![allow(clippy::unwrap_used)]

use std::path::PathBuf;

/// Masked frames (PILATUS gaps, --mask): in this binary so that the peak tests link lauekit once.
#[path = "peaks/masked.rs"]
mod masked;

use lauekit::io::{ReadOptions, peaklist::read_dat, read_image};
use lauekit::peaks::{Peak, PeakSearchParams, peak_search};

fn shared(rel: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/data").join(rel)
}

struct Case {
    image: &'static str,
    params: &'static str,
    reference: &'static str,
    /// LaueTools' counts: local maxima, after merging, after the sCMOS band cut, final
    counts: [usize; 4],
}

const CASES: [Case; 4] = [
    Case {
        image: "real/Ge_blanc/Ge_blanc_0000.mccd",
        params: "real/Ge_blanc/peaksearch.json",
        reference: "reference/Ge_blanc_0000_peaks.dat",
        counts: [97, 97, 97, 97],
    },
    Case {
        image: "real/Ge_sCMOS/img_Ge_sCMOS_0000.tif",
        params: "real/Ge_sCMOS/peaksearch.json",
        reference: "reference/img_Ge_sCMOS_0000_peaks.dat",
        counts: [367, 358, 194, 169],
    },
    Case {
        image: "real/GaN_Si/nw1_0000.tif",
        params: "real/GaN_Si/peaksearch.json",
        reference: "reference/nw1_0000_peaks.dat",
        counts: [95, 95, 94, 89],
    },
    Case {
        image: "real/CdTe/CdTe_I999_03Jul06_0200.mccd",
        params: "real/CdTe/peaksearch.json",
        reference: "reference/CdTe_I999_03Jul06_0200_peaks.dat",
        counts: [670, 666, 666, 500],
    },
];

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    if v.is_empty() { f64::NAN } else { v[v.len() / 2] }
}

#[test]
fn real_images_match_lauetools() {
    for case in CASES {
        let bytes = std::fs::read(shared(case.image)).unwrap();
        let frame = read_image(&bytes, case.image, &ReadOptions::default()).unwrap();
        let params =
            PeakSearchParams::from_json(&std::fs::read_to_string(shared(case.params)).unwrap(), case.params)
                .unwrap();
        let found = peak_search(&frame, &params).unwrap();
        let reference =
            read_dat(&std::fs::read_to_string(shared(case.reference)).unwrap(), case.reference).unwrap();
        let s = found.stats;
        // Detection is deterministic integer work: the same maxima as LaueTools, stage by stage.
        assert_eq!(
            [s.local_maxima, s.after_merge, s.after_band_cut],
            case.counts[..3],
            "{}: stage counts",
            case.image
        );
        // Fits of weak, noisy spots stopped early by xtol = 1e-3 are path-dependent: allow 2 % on the final count.
        let diff = found.peaks.len().abs_diff(case.counts[3]) as f64;
        assert!(
            diff <= (0.02 * case.counts[3] as f64).ceil(),
            "{}: {} peaks, LaueTools {}",
            case.image,
            found.peaks.len(),
            case.counts[3]
        );
        let nearest = |p: &Peak, list: &[Peak]| {
            list.iter()
                .map(|q| (((p.x - q.x).powi(2) + (p.y - q.y).powi(2)).sqrt(), *q))
                .min_by(|a, b| a.0.total_cmp(&b.0))
        };
        let mut dists = Vec::new();
        let mut sigma_rel = Vec::new();
        let mut matched = 0;
        for r in &reference {
            if let Some((d, q)) = nearest(r, &found.peaks).filter(|(d, _)| *d <= 0.5) {
                matched += 1;
                dists.push(d);
                let rs = r.sigma_major.abs().max(r.sigma_minor.abs());
                let qs = q.sigma_major.abs().max(q.sigma_minor.abs());
                sigma_rel.push((qs - rs).abs() / rs);
            }
        }
        let precise =
            found.peaks.iter().filter(|p| nearest(p, &reference).is_some_and(|(d, _)| d <= 0.5)).count();
        let recall = matched as f64 / reference.len() as f64;
        let precision = precise as f64 / found.peaks.len() as f64;
        let med = median(dists.clone());
        let med_sigma = median(sigma_rel);
        eprintln!(
            "{}: {} peaks (LaueTools {}), recall {:.1}%, precision {:.1}%, median Δ {:.4} px, max Δ {:.4} px, median |Δσ|/σ {:.2}%, detect {:.1} ms, fit {:.1} ms",
            case.image,
            found.peaks.len(),
            reference.len(),
            100.0 * recall,
            100.0 * precision,
            med,
            dists.iter().cloned().fold(0.0, f64::max),
            100.0 * med_sigma,
            1e3 * s.detect_s,
            1e3 * s.fit_s
        );
        assert!(
            recall >= 0.97 && precision >= 0.97,
            "{}: recall {recall}, precision {precision}",
            case.image
        );
        assert!(med <= 0.05, "{}: median position difference {med} px", case.image);
        assert!(med_sigma <= 0.10, "{}: median σ difference {med_sigma}", case.image);
    }
}

/// Recall of `reference` by `found` and precision of `found` against `reference` (match within 0.5 px), and
/// the median distance of the matches.
fn agreement(found: &[(f64, f64)], reference: &[(f64, f64)]) -> (f64, f64, f64) {
    let nearest = |p: (f64, f64), list: &[(f64, f64)]| {
        list.iter().map(|q| ((p.0 - q.0).powi(2) + (p.1 - q.1).powi(2)).sqrt()).fold(f64::INFINITY, f64::min)
    };
    let d: Vec<f64> = reference.iter().map(|&r| nearest(r, found)).filter(|&d| d <= 0.5).collect();
    let precise = found.iter().filter(|&&p| nearest(p, reference) <= 0.5).count();
    let recall = d.len() as f64 / reference.len().max(1) as f64;
    (recall, precise as f64 / found.len().max(1) as f64, median(d))
}

#[test]
fn synthetic_causes_match_lauetools() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data/peak_cases");
    // (case, recall and precision over all of LaueTools' peaks, the same over the real spots)
    let cases = [
        ("touching", 0.97, 0.97),
        ("close", 0.97, 0.97),
        ("broad_bg100", 0.85, 0.97),
        ("broad_bg1000", 0.90, 0.97),
        ("broad_bg5000", 0.90, 0.97),
    ];
    for (name, all_bar, real_bar) in cases {
        let path = root.join(format!("{name}.tif"));
        let bytes = std::fs::read(&path).unwrap();
        let opts = ReadOptions { detector: Some("sCMOS".into()), ..ReadOptions::default() };
        let frame = read_image(&bytes, name, &opts).unwrap();
        let json = std::fs::read_to_string(root.join(format!("{name}.json"))).unwrap();
        let params = PeakSearchParams::from_json(&json, name).unwrap();
        let found: Vec<(f64, f64)> =
            peak_search(&frame, &params).unwrap().peaks.iter().map(|p| (p.x, p.y)).collect();
        let lt_path = root.join(format!("{name}_lauetools.dat"));
        let lt: Vec<(f64, f64)> = read_dat(&std::fs::read_to_string(&lt_path).unwrap(), name)
            .unwrap()
            .iter()
            .map(|p| (p.x, p.y))
            .collect();
        let truth: Vec<(f64, f64)> = std::fs::read_to_string(root.join(format!("{name}_truth.tsv")))
            .unwrap()
            .lines()
            .skip(1)
            .map(|l| {
                let v: Vec<f64> = l.split('\t').map(|x| x.parse().unwrap()).collect();
                (v[0], v[1])
            })
            .collect();
        let on_truth = |p: &(f64, f64)| truth.iter().any(|t| (p.0 - t.0).hypot(p.1 - t.1) < 1.5);
        let (recall, precision, med) = agreement(&found, &lt);
        let lt_real: Vec<_> = lt.iter().copied().filter(on_truth).collect();
        let found_real: Vec<_> = found.iter().copied().filter(on_truth).collect();
        let (recall_real, _, _) = agreement(&found, &lt_real);
        let (_, precision_real, _) = agreement(&found_real, &lt);
        eprintln!(
            "{name}: {} peaks (LaueTools {}, {} true spots): recall {recall:.3}, precision {precision:.3}, median Δ \
             {med:.4} px; on real spots recall {recall_real:.3} ({} of LaueTools'), precision {precision_real:.3}",
            found.len(),
            lt.len(),
            truth.len(),
            lt_real.len()
        );
        assert!(recall >= all_bar && precision >= all_bar, "{name}: recall {recall}, precision {precision}");
        assert!(med <= 0.05, "{name}: median Δ {med} px");
        assert!(
            recall_real >= real_bar && precision_real >= real_bar,
            "{name}: on real spots recall {recall_real}, precision {precision_real}"
        );
    }
}

/// The ALS PILATUS3 1M frames (int32, module gaps −1, bad pixels −2) against LaueTools 3.2.19's lists for them
/// (`tests/lauetools/pilatus_peaksearch.py`: LaueTools has no PILATUS label, so the frame goes through its
/// counting-detector path, whole frame, A − k·B). LaueTools does not mask the gaps, so its peaks whose fit box
/// holds a masked pixel are gap artefacts or fits pulled by −1 counts: both lists are compared on the peaks whose
/// box (±boxsize) is clear of masked pixels. The bar is LaueTools' own reproducibility there: rerun with every
/// fit box changed by 1e-7 counts (seeds 1–4), it agrees with its list at recall 0.94–0.95 / precision 0.91–0.95
/// on BaTiO3 and 0.48–0.67 / 0.48–0.67 on the quartz's broad spots (σ 3–10 px in a 20 px box); the bars are
/// 0.03 under its worst (0.91 on BaTiO3, 0.45 on quartz).
#[test]
fn pilatus_frames_match_lauetools_away_from_the_gaps() {
    // (image, settings, LaueTools' list, recall and precision bar)
    let cases = [
        ("S27_25C_001", "peaksearch_BaTiO3.json", 0.91),
        ("Ko1202-12_2_00001", "peaksearch_quartz.json", 0.45),
    ];
    for (name, settings, bar) in cases {
        let image = shared(&format!("real/ALS_Pilatus/{name}.tif"));
        let frame = read_image(&std::fs::read(&image).unwrap(), name, &ReadOptions::default()).unwrap();
        let pfile = shared(&format!("real/ALS_Pilatus/{settings}"));
        let params =
            PeakSearchParams::from_json(&std::fs::read_to_string(&pfile).unwrap(), settings).unwrap();
        let found = peak_search(&frame, &params).unwrap().peaks;
        let lt_file = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join(format!("tests/data/lauetools/pilatus/{name}_lauetools.dat"));
        let reference = read_dat(&std::fs::read_to_string(&lt_file).unwrap(), name).unwrap();
        let mask = frame.mask.as_ref().expect("the gaps are masked");
        let b = params.boxsize as i64;
        let clear = |p: &Peak| {
            let (r, c) = ((p.y - 1.0).round() as i64, (p.x - 1.0).round() as i64);
            (r - b..=r + b).all(|rr| {
                (c - b..=c + b).all(|cc| {
                    rr >= 0
                        && cc >= 0
                        && (rr as usize) < frame.rows
                        && (cc as usize) < frame.cols
                        && !mask[rr as usize * frame.cols + cc as usize]
                })
            })
        };
        let ours: Vec<(f64, f64)> = found.iter().filter(|p| clear(p)).map(|p| (p.x, p.y)).collect();
        let theirs: Vec<(f64, f64)> = reference.iter().filter(|p| clear(p)).map(|p| (p.x, p.y)).collect();
        let (recall, precision, med) = agreement(&ours, &theirs);
        eprintln!(
            "{name}: {} peaks ({} clear of the gaps), LaueTools {} ({} clear): recall {recall:.3}, precision \
             {precision:.3}, median Δ {med:.4} px",
            found.len(),
            ours.len(),
            reference.len(),
            theirs.len()
        );
        assert!(recall >= bar && precision >= bar, "{name}: recall {recall}, precision {precision}");
        assert!(med <= 0.05, "{name}: median Δ {med} px");
    }
}
