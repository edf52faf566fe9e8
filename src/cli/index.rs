//! `lauekit index`: indexing of a peak list or an image, classical (look-up table) or with a LaueNN model —
//! the pipeline's request built from the flags, run by [`lauekit::pipeline`].

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use clap::Args;
use lauekit::geometry::Calibration;
use lauekit::index::{ExperimentalSpot, fit_out::fit_text_all, spots_from_cor, spots_from_peaks};
use lauekit::io::DetFile;
use lauekit::io::output::{Existing, OutputKind, OutputPlan};
use lauekit::io::peaklist::{read_cor, read_dat};
use lauekit::pipeline::{IndexReport, index_experimental_spots, run_image};
use lauekit::spotnet::{PositionReport, PositionSource};

use super::pipeline_args::{PipelineArgs, load_models};

#[derive(Args, Debug)]
pub struct IndexArgs {
    /// Peak list (.dat with --calib, .cor with its own calibration) or a detector image (peak search first).
    input: PathBuf,
    /// Calibration (.det); required for .dat and images, overrides a .cor's trailer.
    #[arg(long)]
    calib: Option<PathBuf>,
    #[command(flatten)]
    pipeline: PipelineArgs,
    #[command(flatten)]
    frame: super::pipeline_args::FrameArg,
    /// Output .fit: every grain in this one file, one block per grain (G_0, G_1, …), as LaueTools writes it.
    #[arg(short, long)]
    output: Option<PathBuf>,
    /// Print format: json or text.
    #[arg(long, default_value = "text")]
    format: String,
}

fn read(p: &Path) -> Result<String> {
    super::input::read_text(p)
}

/// What an input gives indexing: the spots, the calibration, the detector label, which positions.
struct Indexed {
    report: IndexReport,
    spots: Vec<ExperimentalSpot>,
    calibration: Calibration,
    ccd_label: String,
    positions: PositionReport,
}

fn run_input(a: &IndexArgs) -> Result<Indexed> {
    let name = a.input.display().to_string();
    let mut request = a.pipeline.request(true)?;
    request.keep_spots = true;
    let models = load_models(&request)?;
    let job = request.prepare(&models)?;
    let Some(ix) = request.index.clone() else { bail!("{name}: the request has no indexing stage") };
    let det = match &a.calib {
        Some(p) => Some(DetFile::parse(&read(p)?, &p.display().to_string())?),
        None => None,
    };
    let ext = a.input.extension().and_then(|e| e.to_str()).unwrap_or("").to_ascii_lowercase();
    if ix.positions == PositionSource::Cnn && (ext == "cor" || ext == "dat") {
        bail!("{name}: --positions cnn needs the image (the network looks at the pixels), not a peak list");
    }
    let (spots, calibration, ccd_label) = match ext.as_str() {
        "cor" => {
            let cor = read_cor(&read(&a.input)?, &name)?;
            match det {
                // A new calibration: recompute 2θ, χ from the pixels.
                Some(d) => {
                    let s = cor
                        .peaks
                        .iter()
                        .map(|p| ExperimentalSpot::from_pixel(p.x, p.y, p.intensity, &d.calibration))
                        .collect();
                    (s, d.calibration, ccd(&d))
                }
                None => {
                    let cal = cor.calibration(&name)?;
                    let label = cor.get("CCDLabel").unwrap_or("").to_string();
                    (spots_from_cor(&cor), cal, label)
                }
            }
        }
        "dat" => {
            let d = det.context("a .dat peak list needs --calib FILE.det")?;
            let peaks = read_dat(&read(&a.input)?, &name)?;
            (spots_from_peaks(&peaks, &d.calibration), d.calibration, ccd(&d))
        }
        _ => {
            let d = det.context("an image needs --calib FILE.det")?;
            let frame = super::input::read_frame(&a.input, None, a.frame.frame)?;
            let r = run_image(&frame, &d.calibration, &job, &models)
                .map_err(|e| anyhow::anyhow!("{name}: {e}"))?;
            let report = r.index.context("no indexing report")?;
            let spots = spots_from_peaks(&r.peaks, &d.calibration);
            return Ok(Indexed {
                report,
                spots,
                calibration: d.calibration,
                ccd_label: ccd(&d),
                positions: r.positions,
            });
        }
    };
    let report = index_experimental_spots(&spots, &calibration, &ix, &job, &models)
        .map_err(|e| anyhow::anyhow!("{name}: {e}"))?;
    let positions = PositionReport::fit(spots.len());
    Ok(Indexed { report, spots, calibration, ccd_label, positions })
}

fn ccd(d: &DetFile) -> String {
    d.get("CCDLabel").unwrap_or("").to_string()
}

pub fn run(a: IndexArgs) -> Result<()> {
    let mut plan = OutputPlan::new(Existing::Replace);
    plan.input(&a.input).inputs(a.calib.iter());
    let p = &a.pipeline;
    plan.inputs([&p.request, &p.psp, &p.params].into_iter().flatten());
    plan.inputs(p.material.files());
    if let Some(m) = &p.model {
        let (w, j) = super::train_index::model_paths(m);
        plan.input(w).input(j);
    }
    if let Some(out) = &a.output {
        plan.output(out, OutputKind::Text)?;
        // What older versions wrote beside it, one file per grain: never this run's result.
        for f in per_grain_fits(out) {
            plan.stale(f)?;
        }
    }
    let r = run_input(&a)?;
    if let Some(out) = &a.output {
        if r.report.grains.is_empty() {
            // No grain, no .fit: an older one must not pass for this run's result.
            plan.stale(out)?;
        } else {
            let grains: Vec<_> = r.report.grains.iter().map(|g| g.to_indexed_grain()).collect();
            let source = a.input.display().to_string();
            let text = fit_text_all(&grains, &r.spots, &r.calibration, &source, &r.ccd_label);
            plan.stage(out, text.as_bytes())?;
        }
    }
    let done = plan.commit()?;
    for f in &done.removed {
        errln!("removed {} (an older result: this run found {} grains)", f.display(), r.report.grains.len());
    }
    if let (Some(out), true) = (&a.output, r.report.grains.is_empty()) {
        errln!("no grain found: {} not written", out.display());
    }
    if a.format == "json" {
        let mut j = serde_json::to_value(&r.report)?;
        j["positions"] = serde_json::to_value(r.positions)?;
        outln!("{}", serde_json::to_string_pretty(&j)?)?;
    } else {
        for (k, g) in r.report.grains.iter().enumerate() {
            outln!(
                "grain {k}: {} ({}) — {} spots indexed, matching rate {:.1} % ({} simulated), rms {:.3} px",
                g.material,
                g.method.name(),
                g.n_indexed,
                g.matching_rate,
                g.n_simulated,
                g.rms_px
            )?;
            if let Some(c) = &g.chance {
                let how = if c.trials == 0 {
                    "an upper bound of chance".to_string()
                } else {
                    format!("{} sets of random peaks", c.trials)
                };
                outln!(
                    "  above chance: random peaks ({} spots, {how}) reach {:.1} % and {:.0} spots at most; \
                     this grain {:.1} % and {} spots",
                    c.n_spots,
                    c.matching_rate_threshold,
                    c.matched_threshold,
                    g.matching_rate,
                    g.n_indexed
                )?;
            }
            for row in &g.ub {
                outln!("  [{:12.9} {:12.9} {:12.9}]", row[0], row[1], row[2])?;
            }
            let e = g.euler;
            let v = |a: [f64; 6]| a.map(|x| format!("{:.3}", x * 1e3)).join(" ");
            outln!(
                "  Euler {:.3} {:.3} {:.3}°; deviatoric strain ×10⁻³ (xx yy zz yz xz xy)",
                e[0],
                e[1],
                e[2]
            )?;
            outln!("    crystal {}", v(g.strain.crystal))?;
            outln!("    sample  {}   von Mises {:.3}", v(g.strain.sample), g.strain.von_mises * 1e3)?;
            if let Some(st) = &g.stress {
                let m = |a: [f64; 6]| a.map(|x| format!("{x:.1}")).join(" ");
                outln!("  deviatoric stress, MPa: sample {}   von Mises {:.1}", m(st.sample), st.von_mises)?;
            }
            if let Some(n) = &g.orientation_note {
                outln!("  note: {n}")?;
            }
            if let Some(w) = &g.wider_band {
                outln!(
                    "  note: {} of the {} reflections a band up to {:.1} keV adds are in the pattern too \
                     (matching rate {:.1} % there): try --emax {:.0}",
                    w.extra_matched,
                    w.extra_simulated,
                    w.emax_kev,
                    w.matching_rate,
                    w.emax_kev
                )?;
            }
        }
        outln!(
            "band {:.1}–{:.1} keV; {} of {} spots unindexed; {:.1} ms",
            r.report.emin_kev,
            r.report.emax_kev,
            r.report.unindexed.len(),
            r.spots.len(),
            r.report.elapsed_ms
        )?;
        outln!("{}", r.positions)?;
    }
    Ok(())
}

/// `STEM_g<k>.EXT` beside `out` (STEM.EXT): the per-grain files older versions of `index -o` wrote.
fn per_grain_fits(out: &Path) -> Vec<PathBuf> {
    let (Some(stem), Some(dir)) = (out.file_stem().and_then(|s| s.to_str()), out.parent()) else {
        return Vec::new();
    };
    let ext = out.extension().and_then(|e| e.to_str()).unwrap_or("");
    let dir = if dir.as_os_str().is_empty() { Path::new(".") } else { dir };
    let prefix = format!("{stem}_g");
    let suffix = if ext.is_empty() { String::new() } else { format!(".{ext}") };
    let Ok(entries) = std::fs::read_dir(dir) else { return Vec::new() };
    let mut found: Vec<PathBuf> = entries
        .filter_map(|e| e.ok())
        .filter(|e| e.file_type().is_ok_and(|t| t.is_file()))
        .filter_map(|e| {
            let name = e.file_name().to_str()?.to_string();
            let k = name.strip_prefix(&prefix)?.strip_suffix(&suffix)?;
            (!k.is_empty() && k.chars().all(|c| c.is_ascii_digit())).then(|| out.with_file_name(&name))
        })
        .collect();
    found.sort();
    found
}
