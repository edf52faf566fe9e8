//! `lauekit index`: indexing of a peak list or an image, classical (look-up table) or with a LaueNN model.

use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{Context, Result, bail};
use clap::Args;
use lauekit::crystal::Material;
use lauekit::geometry::Calibration;
use lauekit::index::nn::HklModel;
use lauekit::index::{
    Experiment, ExperimentalSpot, IndexResult, IndexSettings, fit_out::fit_text, index_spots,
    index_with_model, spots_from_cor, spots_from_peaks,
};
use lauekit::io::peaklist::{read_cor, read_dat};
use lauekit::io::{DetFile, ReadOptions, read_image};
use lauekit::peaks::{Peak, PeakSearchParams, peak_search};
use lauekit::spotnet::{
    GoodSpotCriteria, PositionReport, PositionSource, characterize, embedded_spotnet, use_cnn_positions,
};
use serde_json::json;

#[derive(Args, Debug)]
pub struct IndexArgs {
    /// Peak list (.dat with --calib, .cor with its own calibration) or a detector image (peak search first).
    input: PathBuf,
    /// Calibration (.det); required for .dat and images, overrides a .cor's trailer.
    #[arg(long)]
    calib: Option<PathBuf>,
    /// Material(s) from the table, comma-separated (e.g. GaN,Si); with --method nn, default: the model's.
    #[arg(long)]
    material: Option<String>,
    /// Grains to look for at most (LaueTools' nbgrainstofind).
    #[arg(long, default_value_t = 1)]
    grains: usize,
    /// Indexing method: lut (angles between spot pairs vs inter-plane angles) or nn (hkl families predicted
    /// by the --model network; the look-up table for a grain the network gives none for).
    #[arg(long, default_value = "lut")]
    method: String,
    /// --method nn: the model of `lauekit train-index` (MODEL.bpk + MODEL.json; either name, or no extension).
    #[arg(long)]
    model: Option<PathBuf>,
    /// --method nn: predictions below this probability are not paired.
    #[arg(long, default_value_t = 0.5)]
    min_confidence: f64,
    /// Energy band (keV).
    #[arg(long, default_value_t = 5.0)]
    emin: f64,
    #[arg(long, default_value_t = 22.0)]
    emax: f64,
    /// Spots of the grains found stay available to the next (twins share reflections).
    #[arg(long)]
    share_spots: bool,
    /// Most intense spots whose pairs are looked up.
    #[arg(long, default_value_t = 10)]
    pair_spots: usize,
    /// Image input: peak-search settings (JSON of LaueTools PeakSearch keyword arguments).
    #[arg(long)]
    params: Option<PathBuf>,
    /// Image input: peak positions given to indexing — fit (the peak search's Gaussian fit) or cnn (the spot
    /// network's, for the spots it calls good; the others keep the fit).
    #[arg(long, default_value = "fit")]
    positions: PositionSource,
    /// Output .fit (grain k > 0 goes to NAME_g<k>.fit).
    #[arg(short, long)]
    output: Option<PathBuf>,
    /// Print format: json or text.
    #[arg(long, default_value = "text")]
    format: String,
}

fn read(p: &Path) -> Result<String> {
    std::fs::read_to_string(p).with_context(|| format!("{}: cannot read", p.display()))
}

/// The spots, the calibration of the input and where the positions came from.
fn load(a: &IndexArgs) -> Result<(Vec<ExperimentalSpot>, Calibration, String, PositionReport)> {
    let name = a.input.display().to_string();
    let det = match &a.calib {
        Some(p) => Some(DetFile::parse(&read(p)?, &p.display().to_string())?),
        None => None,
    };
    let ext = a.input.extension().and_then(|e| e.to_str()).unwrap_or("").to_ascii_lowercase();
    if a.positions == PositionSource::Cnn && (ext == "cor" || ext == "dat") {
        bail!("{name}: --positions cnn needs the image (the network looks at the pixels), not a peak list");
    }
    match ext.as_str() {
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
                    let n = cor.peaks.len();
                    Ok((s, d.calibration, ccd(&d), PositionReport::fit(n)))
                }
                None => {
                    let cal = cor.calibration(&name)?;
                    let label = cor.get("CCDLabel").unwrap_or("").to_string();
                    Ok((spots_from_cor(&cor), cal, label, PositionReport::fit(cor.peaks.len())))
                }
            }
        }
        "dat" => {
            let d = det.context("a .dat peak list needs --calib FILE.det")?;
            let peaks = read_dat(&read(&a.input)?, &name)?;
            let report = PositionReport::fit(peaks.len());
            Ok((spots_from_peaks(&peaks, &d.calibration), d.calibration, ccd(&d), report))
        }
        _ => {
            let d = det.context("an image needs --calib FILE.det")?;
            let params = match &a.params {
                Some(p) => PeakSearchParams::from_json(&read(p)?, &p.display().to_string())?,
                None => PeakSearchParams::default(),
            };
            let bytes = std::fs::read(&a.input).with_context(|| format!("{name}: cannot read"))?;
            let frame = read_image(&bytes, &name, &ReadOptions::default())?;
            let mut peaks =
                peak_search(&frame, &params).with_context(|| format!("{name}: peak search"))?.peaks;
            let report = match a.positions {
                PositionSource::Fit => PositionReport::fit(peaks.len()),
                PositionSource::Cnn => {
                    // Cut-outs on the detected pixels, as the network was trained.
                    let device = lauekit::device::cpu().device;
                    let net = embedded_spotnet(&device)?;
                    let at: Vec<(f64, f64)> = peaks.iter().map(Peak::detected_pixel).collect();
                    let d = characterize(&frame, &at, &net, &device, &GoodSpotCriteria::default());
                    use_cnn_positions(&mut peaks, &d)?
                }
            };
            Ok((spots_from_peaks(&peaks, &d.calibration), d.calibration, ccd(&d), report))
        }
    }
}

fn ccd(d: &DetFile) -> String {
    d.get("CCDLabel").unwrap_or("").to_string()
}

pub fn run(a: IndexArgs) -> Result<()> {
    let model = match a.method.as_str() {
        "lut" => None,
        "nn" => {
            let Some(p) = &a.model else {
                bail!("--method nn needs --model MODEL (from lauekit train-index)")
            };
            let (w, j) = super::train_index::model_paths(p);
            let weights = std::fs::read(&w).with_context(|| format!("{}: cannot read", w.display()))?;
            let meta = read(&j)?;
            Some(HklModel::from_bytes(&weights, &meta, &lauekit::device::cpu().device)?)
        }
        m => bail!("--method {m}: use lut or nn"),
    };
    let materials: Vec<Material> = match (&a.material, &model) {
        (Some(list), _) => {
            list.split(',').map(|m| Material::from_table(m.trim())).collect::<Result<_, _>>()?
        }
        (None, Some(m)) => m.meta.materials.clone(),
        (None, None) => bail!("--material is required with --method lut"),
    };
    let (spots, calibration, ccd_label, positions) = load(&a)?;
    let exp = Experiment { calibration, emin_kev: a.emin, emax_kev: a.emax };
    let settings = IndexSettings {
        nbgrainstofind: a.grains,
        share_spots: a.share_spots,
        nbspots_pairs: a.pair_spots,
        nn_min_confidence: a.min_confidence,
        ..IndexSettings::default()
    };
    let t0 = Instant::now();
    let result = match &model {
        Some(m) => index_with_model(&spots, &materials, m, &exp, &settings)?,
        None => index_spots(&spots, &materials, &exp, &settings)?,
    };
    let seconds = t0.elapsed().as_secs_f64();
    if let Some(out) = &a.output {
        write_fits(out, &result, &spots, &calibration, &a.input.display().to_string(), &ccd_label)?;
    }
    if a.format == "json" {
        let mut j = to_json(&result, seconds);
        j["positions"] = serde_json::to_value(positions)?;
        println!("{}", serde_json::to_string_pretty(&j)?);
    } else {
        for (k, g) in result.grains.iter().enumerate() {
            println!(
                "grain {k}: {} ({}) — {} spots indexed, matching rate {:.1} % ({} simulated), rms {:.3} px",
                g.material,
                g.method.name(),
                g.spots.len(),
                g.matching_rate,
                g.n_simulated,
                g.rms_px
            );
            for r in 0..3 {
                println!("  [{:12.9} {:12.9} {:12.9}]", g.ub[(r, 0)], g.ub[(r, 1)], g.ub[(r, 2)]);
            }
        }
        println!("{} of {} spots unindexed; {:.1} ms", result.unindexed.len(), spots.len(), seconds * 1e3);
        println!("{positions}");
    }
    Ok(())
}

/// The JSON of issue 4: grains (material, method, UB, matching rate, spots), unindexed peaks, seconds.
pub fn to_json(r: &IndexResult, seconds: f64) -> serde_json::Value {
    let grains: Vec<_> = r
        .grains
        .iter()
        .map(|g| {
            let ub: Vec<[f64; 3]> = (0..3).map(|i| [g.ub[(i, 0)], g.ub[(i, 1)], g.ub[(i, 2)]]).collect();
            let spots: Vec<_> = g
                .spots
                .iter()
                .map(|s| json!({"peak": s.peak, "hkl": s.hkl, "energy_kev": s.energy_kev, "residual_px": s.residual_px}))
                .collect();
            json!({"material": g.material, "method": g.method.name(), "ub": ub, "matching_rate": g.matching_rate, "n_indexed": g.spots.len(), "spots": spots})
        })
        .collect();
    json!({"grains": grains, "unindexed": r.unindexed, "seconds": seconds})
}

fn write_fits(
    out: &Path,
    r: &IndexResult,
    spots: &[ExperimentalSpot],
    cal: &Calibration,
    source: &str,
    ccd: &str,
) -> Result<()> {
    for (k, g) in r.grains.iter().enumerate() {
        let path: PathBuf = if k == 0 {
            out.to_path_buf()
        } else {
            let stem = out.file_stem().and_then(|s| s.to_str()).unwrap_or("index");
            out.with_file_name(format!("{stem}_g{k}.fit"))
        };
        std::fs::write(&path, fit_text(g, k, spots, cal, source, ccd))
            .with_context(|| format!("{}: cannot write", path.display()))?;
    }
    Ok(())
}
