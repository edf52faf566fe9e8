//! `lauekit peaks`: LaueTools-compatible peak search on one or many images.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use clap::Args;
use indicatif::{ProgressBar, ProgressStyle};
use lauekit::io::DetFile;
use lauekit::io::output::{Existing, OutputKind, OutputPlan};
use lauekit::io::peaklist::{write_cor, write_dat};
use lauekit::peaks::{PeakList, PeakSearchParams, peak_search};
use rayon::prelude::*;

#[derive(Args, Debug)]
pub struct PeaksArgs {
    /// Detector images (TIFF, MarCCD .mccd, EDF, HDF5, PNG).
    #[arg(required = true)]
    images: Vec<PathBuf>,
    /// LaueTools .psp peak-search settings.
    #[arg(long)]
    psp: Option<PathBuf>,
    /// JSON object of LaueTools PeakSearch keyword arguments (e.g. peaksearch.json).
    #[arg(long)]
    params: Option<PathBuf>,
    /// IntensityThreshold (counts above background).
    #[arg(long)]
    threshold: Option<f64>,
    /// boxsize (half-size of the fit box, px).
    #[arg(long)]
    boxsize: Option<usize>,
    /// FitPixelDev (px).
    #[arg(long)]
    fit_pixel_dev: Option<f64>,
    /// PeakSizeRange min,max (px).
    #[arg(long)]
    peak_size_range: Option<String>,
    /// Detector label (MARCCD165, sCMOS, ...) when the file does not tell.
    #[arg(long)]
    detector: Option<String>,
    /// Calibration (.det) for the .cor output and 2θ/χ in JSON.
    #[arg(long)]
    calib: Option<PathBuf>,
    /// Output .dat (one image) — or a directory when several images are given.
    #[arg(short, long)]
    output: Option<PathBuf>,
    /// Output .cor (needs --calib; one image).
    #[arg(long)]
    cor: Option<PathBuf>,
    /// Print format: json or dat.
    #[arg(long, default_value = "dat")]
    format: String,
    /// Worker threads for many images (default: all cores).
    #[arg(long)]
    threads: Option<usize>,
    #[command(flatten)]
    frame: super::pipeline_args::FrameArg,
}

fn params(a: &PeaksArgs) -> Result<PeakSearchParams> {
    let mut p = match (&a.psp, &a.params) {
        (Some(_), Some(_)) => bail!("give --psp or --params, not both"),
        (Some(f), None) => PeakSearchParams::from_psp(&read(f)?, &f.display().to_string())?,
        (None, Some(f)) => PeakSearchParams::from_json(&read(f)?, &f.display().to_string())?,
        (None, None) => PeakSearchParams::default(),
    };
    if let Some(t) = a.threshold {
        p.intensity_threshold = t;
    }
    if let Some(b) = a.boxsize {
        p.boxsize = b;
    }
    if let Some(d) = a.fit_pixel_dev {
        p.fit_pixel_dev = d;
    }
    if let Some(r) = &a.peak_size_range {
        let v: Vec<f64> = r
            .split(',')
            .map(|t| t.trim().parse::<f64>())
            .collect::<Result<_, _>>()
            .context("--peak-size-range")?;
        if v.len() != 2 {
            bail!("--peak-size-range needs min,max");
        }
        p.peak_size_range = (v[0], v[1]);
    }
    Ok(p.validated()?)
}

fn read(p: &Path) -> Result<String> {
    super::input::read_text(p)
}

thread_local! {
    /// Each worker reads its images into one buffer that keeps its capacity: a fresh 8 MB buffer per image
    /// costs thousands of page faults (the allocator hands big blocks back to the system).
    static READ_BUFFER: std::cell::RefCell<Vec<u8>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// Reads, decodes and searches one image; returns the peaks and the seconds it took in all.
pub fn search_one(path: &Path, p: &PeakSearchParams, detector: Option<&str>) -> Result<(PeakList, f64)> {
    search_frame(path, p, detector, None)
}

/// [`search_one`] on frame `frame` of a multi-frame image (None: frame 0, with a warning for a stack).
pub fn search_frame(
    path: &Path,
    p: &PeakSearchParams,
    detector: Option<&str>,
    frame: Option<usize>,
) -> Result<(PeakList, f64)> {
    let t0 = std::time::Instant::now();
    READ_BUFFER.with_borrow_mut(|bytes| {
        super::input::read_image_into(path, bytes)?;
        let frame = super::input::decode_frame(bytes, path, detector, frame)?;
        let p = lauekit::pipeline::peak_params_for_frame(p, &frame);
        let list = peak_search(&frame, &p).with_context(|| format!("{}: peak search", path.display()))?;
        Ok((list, t0.elapsed().as_secs_f64()))
    })
}

pub fn run(a: PeaksArgs) -> Result<()> {
    let p = params(&a)?;
    let calib = match &a.calib {
        Some(f) => Some(DetFile::parse(&read(f)?, &f.display().to_string())?.calibration),
        None => None,
    };
    if a.cor.is_some() && calib.is_none() {
        bail!("--cor needs --calib FILE.det");
    }
    let many = a.images.len() > 1;
    if many && a.cor.is_some() {
        bail!("--cor takes one image; use --output DIR for many");
    }
    // Every output is checked before any search: none may be an input, and no two the same file.
    let mut plan = OutputPlan::new(Existing::Replace);
    plan.inputs(&a.images).inputs(a.psp.iter()).inputs(a.params.iter()).inputs(a.calib.iter());
    let outputs: Vec<Option<PathBuf>> = a.images.iter().map(|img| dat_path(&a, img, many)).collect();
    for (img, out) in a.images.iter().zip(&outputs) {
        if let Some(out) = out {
            plan.output_from(out, OutputKind::Text, img)?;
        }
    }
    if let Some(c) = &a.cor {
        plan.output(c, OutputKind::Text)?;
    }
    if let (Some(dir), true) = (&a.output, many) {
        std::fs::create_dir_all(dir)
            .with_context(|| format!("{}: cannot create the folder", dir.display()))?;
    }
    if let Some(t) = a.threads {
        let t = lauekit::device::thread_count(Some(t))?;
        rayon::ThreadPoolBuilder::new().num_threads(t).build_global().ok();
    }
    let bar = ProgressBar::new(a.images.len() as u64);
    bar.set_style(
        ProgressStyle::with_template("{bar:40} {pos}/{len} images, {elapsed} elapsed, ETA {eta}")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    if !many {
        bar.set_draw_target(indicatif::ProgressDrawTarget::hidden());
    }
    let results: Vec<(PathBuf, Result<(PeakList, f64)>)> = a
        .images
        .par_iter()
        .map(|img| {
            let r = search_frame(img, &p, a.detector.as_deref(), a.frame.frame);
            bar.inc(1);
            (img.clone(), r)
        })
        .collect();
    bar.finish_and_clear();
    let mut failures = 0;
    let mut json = Vec::new();
    for ((img, r), out) in results.into_iter().zip(&outputs) {
        let (list, secs) = match r {
            Ok(x) => x,
            Err(e) => {
                errln!("lauekit: {e:#}");
                failures += 1;
                // An older .dat of this image must not pass for this run's.
                if let Some(out) = out {
                    plan.stale(out)?;
                }
                continue;
            }
        };
        let name = img.display().to_string();
        let dat = write_dat(&list.peaks, &name, &format!("lauekit peaks {}", serde_json::to_string(&p)?));
        if let Some(out) = out {
            plan.stage(out, dat.as_bytes())?;
        }
        if let (Some(out), Some(c)) = (&a.cor, &calib) {
            plan.stage(out, write_cor(&list.peaks, c, &name).as_bytes())?;
        }
        match a.format.as_str() {
            "json" => {
                let peaks: Vec<serde_json::Value> = list
                    .peaks
                    .iter()
                    .map(|pk| {
                        let mut v = serde_json::to_value(pk).unwrap_or_default();
                        if let (Some(c), Some(o)) = (&calib, v.as_object_mut()) {
                            let (t, chi) = c.pixel_to_angles(pk.x, pk.y);
                            o.insert("twotheta_deg".into(), t.into());
                            o.insert("chi_deg".into(), chi.into());
                        }
                        v
                    })
                    .collect();
                json.push(serde_json::json!({"image": name, "n_peaks": list.peaks.len(), "peaks": peaks, "stats": list.stats, "seconds": secs}));
            }
            "dat" => {
                if a.output.is_none() {
                    out!("{dat}")?;
                }
            }
            f => bail!("--format {f}: use json or dat"),
        }
        errln!("{name}: {} peaks in {:.1} ms", list.peaks.len(), secs * 1e3);
    }
    if a.format == "json" {
        let out = if many { serde_json::Value::Array(json) } else { json.pop().unwrap_or_default() };
        outln!("{}", serde_json::to_string_pretty(&out)?)?;
    }
    // One image: its outputs are complete or absent. Several: those of the images that worked are
    // written, the older ones of the images that failed removed.
    if failures > 0 && !many {
        bail!("{failures} of {} images failed (nothing was written)", a.images.len());
    }
    for f in plan.commit()?.removed {
        errln!("removed {} (its image failed in this run)", f.display());
    }
    if failures > 0 {
        bail!("{failures} of {} images failed", a.images.len());
    }
    Ok(())
}

/// The .dat written for `img`: `-o` itself for one image, `-o DIR/STEM.dat` for several.
fn dat_path(a: &PeaksArgs, img: &Path, many: bool) -> Option<PathBuf> {
    let out = a.output.as_ref()?;
    if !many {
        return Some(out.clone());
    }
    let stem = img.file_stem().map(|s| s.to_string_lossy().to_string()).unwrap_or_else(|| "image".into());
    Some(out.join(format!("{stem}.dat")))
}
