//! `lauekit characterize`: the spot CNN's descriptors (Sim, position, aspect ratio, area, good/bad) for
//! each peak of an image.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use clap::Args;
use lauekit::io::Frame;
use lauekit::io::peaklist::read_dat;
use lauekit::peaks::{Peak, PeakSearchParams, peak_search};
use lauekit::spotnet::{
    Descriptors, GoodSpotCriteria, SpotNet, characterize, embedded_spotnet, load_spotnet_named,
};

#[derive(Args, Debug)]
pub struct CharacterizeArgs {
    /// Detector image (TIFF, MarCCD .mccd, EDF, HDF5, PNG).
    image: PathBuf,
    /// LaueTools .dat peak list of the image (else the peaks are searched).
    #[arg(long, conflicts_with = "params")]
    peaks: Option<PathBuf>,
    /// JSON of LaueTools PeakSearch keyword arguments for the peak search (default: LaueTools' defaults).
    #[arg(long)]
    params: Option<PathBuf>,
    /// Detector label (MARCCD165, sCMOS, ...) when the file does not tell.
    #[arg(long)]
    detector: Option<String>,
    /// Weights (burnpack) instead of the shipped ones.
    #[arg(long)]
    weights: Option<PathBuf>,
    /// A spot is good when the network's Sim > this (the truth's threshold is the paper's 0.5; the network
    /// is held to 0.55, one held-out Sim error above it) ...
    #[arg(long, default_value_t = lauekit::spotnet::descriptors::NETWORK_MIN_SIM)]
    min_sim: f64,
    /// ... and its predicted centre is within this distance (px) of the pixel s.
    #[arg(long, default_value_t = 0.9)]
    max_offset: f64,
    /// Output format: json or text (a table).
    #[arg(long, default_value = "text")]
    format: String,
    /// Where the network runs: cpu (burn's flex), wgpu (Vulkan/Metal/DX12; build with --features wgpu) or cuda
    /// (NVIDIA; build with --features cuda).
    #[arg(long, default_value = "cpu")]
    device: lauekit::device::DeviceChoice,
    #[command(flatten)]
    frame: super::pipeline_args::FrameArg,
}

/// The image as a frame (frame 0 of a stack), errors naming the file.
pub fn read_frame(path: &Path, detector: Option<&str>) -> Result<Frame> {
    super::input::read_frame(path, detector, None)
}

/// Peak positions (x, y; px, LaueTools' convention) where the cut-outs are built: the peak search's
/// detected pixel (fitted position minus Xdev, Ydev), as in training.
pub fn peak_positions(frame: &Frame, peaks: Option<&Path>, params: Option<&Path>) -> Result<Vec<(f64, f64)>> {
    Ok(peak_list(frame, peaks, params)?.iter().map(Peak::detected_pixel).collect())
}

/// The peaks of `--peaks` or of the search with `--params`.
fn peak_list(frame: &Frame, peaks: Option<&Path>, params: Option<&Path>) -> Result<Vec<Peak>> {
    let list = match (peaks, params) {
        (Some(f), _) => {
            let text = super::input::read_text(f)?;
            read_dat(&text, &f.display().to_string())?
        }
        (None, p) => {
            let p = match p {
                Some(f) => {
                    let t = super::input::read_text(f)?;
                    PeakSearchParams::from_json(&t, &f.display().to_string())?
                }
                None => PeakSearchParams::default(),
            };
            peak_search(frame, &p).with_context(|| format!("{}: peak search", frame.source))?.peaks
        }
    };
    Ok(list)
}

/// The network from `--weights` or the shipped one, on `device`.
pub fn network(weights: Option<&Path>, device: &burn::tensor::Device) -> Result<SpotNet> {
    Ok(match weights {
        Some(w) => {
            let b = std::fs::read(w).with_context(|| format!("{}: cannot read", w.display()))?;
            load_spotnet_named(&b, &w.display().to_string(), device)?
        }
        None => embedded_spotnet(device)?,
    })
}

pub fn run(a: CharacterizeArgs) -> Result<()> {
    if a.format != "json" && a.format != "text" {
        bail!("--format {}: use json or text", a.format);
    }
    let frame = super::input::read_frame(&a.image, a.detector.as_deref(), a.frame.frame)?;
    let list = peak_list(&frame, a.peaks.as_deref(), a.params.as_deref())?;
    // Cut-outs on the detected pixels; the output keeps the list's own positions.
    let spots: Vec<(f64, f64)> = list.iter().map(Peak::detected_pixel).collect();
    let listed: Vec<(f64, f64)> = list.iter().map(|pk| (pk.x, pk.y)).collect();
    let device = lauekit::device::native(a.device)?.device;
    let net = network(a.weights.as_deref(), &device)?;
    let criteria = GoodSpotCriteria { min_sim: a.min_sim, max_offset_px: a.max_offset };
    let t0 = std::time::Instant::now();
    let d = characterize(&frame, &spots, &net, &device, &criteria);
    let secs = t0.elapsed().as_secs_f64();
    let n_good = d.iter().filter(|x| x.good).count();
    if a.format == "json" {
        let peaks: Vec<serde_json::Value> = listed
            .iter()
            .zip(&d)
            .map(|(&(x, y), d): (&(f64, f64), &Descriptors)| {
                serde_json::json!({"x": x, "y": y, "sim": d.sim, "pos_x": d.pos_x, "pos_y": d.pos_y,
                    "asp": d.asp, "area": d.area, "good": d.good})
            })
            .collect();
        let out = serde_json::json!({"image": a.image.display().to_string(), "n_peaks": d.len(), "n_good": n_good,
            "criteria": criteria, "seconds": secs, "peaks": peaks});
        outln!("{}", serde_json::to_string_pretty(&out)?)?;
    } else {
        outln!(
            "{:>9} {:>9} {:>6} {:>9} {:>9} {:>6} {:>8} good",
            "x",
            "y",
            "sim",
            "pos_x",
            "pos_y",
            "asp",
            "area_px2"
        )?;
        for (&(x, y), d) in listed.iter().zip(&d) {
            outln!(
                "{x:>9.2} {y:>9.2} {:>6.3} {:>9.3} {:>9.3} {:>6.3} {:>8.3} {}",
                d.sim,
                d.pos_x,
                d.pos_y,
                d.asp,
                d.area,
                if d.good { "yes" } else { "no" }
            )?;
        }
    }
    errln!(
        "{}: {} peaks, {} good, characterised in {:.1} ms",
        a.image.display(),
        d.len(),
        n_good,
        secs * 1e3
    );
    Ok(())
}
