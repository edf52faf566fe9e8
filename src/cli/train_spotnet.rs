//! `lauekit train-spotnet`: train the spot characteriser on real images (their low-threshold peaks) and
//! synthetic spots, test on a held-out image, optionally cross-validate over the images.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use clap::Args;
use indicatif::{ProgressBar, ProgressStyle};
use lauekit::io::{ReadOptions, read_image};
use lauekit::peaks::{PeakSearchParams, peak_search};
use lauekit::spotnet::train::{
    SpotMetrics, SpotSample, SpotTrainSettings, bin_counts, frame_samples, synthetic_samples, train_spotnet,
};
use lauekit::spotnet::{GoodSpotCriteria, SpotNet, infer::spotnet_to_bytes};

#[derive(Args)]
pub struct TrainSpotnetArgs {
    /// Real images; each uses the `peaksearch.json` of its folder (threshold scaled by --threshold-factor).
    #[arg(required = true)]
    pub images: Vec<PathBuf>,
    /// The image kept out of training and used as the test set (one of IMAGES).
    #[arg(long)]
    pub holdout: Option<PathBuf>,
    /// Train once per image with that image held out and print the metrics of each (no weights saved).
    #[arg(long)]
    pub cross_validate: bool,
    /// Synthetic spots added to the training pool.
    #[arg(long, default_value_t = 30000)]
    pub synthetic: usize,
    /// Peak-search threshold factor for the training/test spots (low, so that bad spots are included).
    #[arg(long, default_value_t = 0.5)]
    pub threshold_factor: f64,
    #[arg(long, default_value_t = 6)]
    pub epochs: usize,
    /// Samples drawn per Sim bin (12 bins) per epoch.
    #[arg(long, default_value_t = 250)]
    pub per_bin: usize,
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Output weights (burnpack).
    #[arg(short, long)]
    pub output: Option<PathBuf>,
    /// Write the per-epoch figures and final metrics as JSON here.
    #[arg(long)]
    pub report: Option<PathBuf>,
}

/// Samples of the peaks of an image at the lowered threshold, with no fit rejection, on their detected
/// pixels.
fn image_samples(image: &Path, factor: f64) -> Result<Vec<SpotSample>> {
    let bytes = std::fs::read(image).with_context(|| format!("{}: cannot read", image.display()))?;
    let frame = read_image(&bytes, &image.display().to_string(), &ReadOptions::default())?;
    let pfile = image.parent().unwrap_or(Path::new(".")).join("peaksearch.json");
    let text =
        std::fs::read_to_string(&pfile).with_context(|| format!("{}: cannot read", pfile.display()))?;
    let mut p = PeakSearchParams::from_json(&text, &pfile.display().to_string())?;
    p.intensity_threshold *= factor;
    p.fit_pixel_dev = 1e3;
    p.peak_size_range = (0.0, 1e3);
    let list = peak_search(&frame, &p).with_context(|| format!("{}: peak search", image.display()))?;
    let spots: Vec<(f64, f64)> = list.peaks.iter().map(|pk| (pk.x - pk.x_dev, pk.y - pk.y_dev)).collect();
    Ok(frame_samples(&frame, &spots, p.saturation_value))
}

pub fn print_metrics(label: &str, m: &SpotMetrics) {
    println!(
        "{label}: spots={} good={} pos_err_px={:.4} R2_pos={:.4} MAE_sim={:.4} MAE_area_px2={:.3} MAE_area*={:.4} \
         MAE_asp={:.4} good->good={} good->bad={} ({:.2} %) bad->good={} ({:.2} %) bad->bad={}",
        m.n_spots,
        m.n_good,
        m.pos_error_px,
        m.r2_pos,
        m.mae_sim,
        m.mae_area_px2,
        m.mae_area_star,
        m.mae_asp,
        m.confusion[0],
        m.confusion[1],
        100.0 * m.good_predicted_bad(),
        m.confusion[2],
        100.0 * m.bad_predicted_good(),
        m.confusion[3]
    );
}

fn train_once(
    train: &[SpotSample],
    test: &[SpotSample],
    s: &SpotTrainSettings,
    label: &str,
    history: &mut Vec<serde_json::Value>,
) -> Result<SpotNet> {
    let device = burn::tensor::Device::flex();
    let criteria = GoodSpotCriteria::default();
    let bar = ProgressBar::new(0);
    bar.set_style(
        ProgressStyle::with_template("{msg} {bar:30} {pos}/{len} batches, {elapsed}, ETA {eta}")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    let epoch_msg = std::cell::Cell::new(1usize);
    let net = train_spotnet(
        train,
        test,
        s,
        &device,
        &criteria,
        |e| {
            bar.suspend(|| {
                eprintln!(
                    "{label} epoch {}/{}: train MAE {:.4}, {:.0} s",
                    e.epoch, s.epochs, e.train_mae, e.seconds
                );
                if let Some(m) = &e.test {
                    print_metrics(&format!("{label} epoch {} test", e.epoch), m);
                }
            });
            history.push(serde_json::to_value(e).unwrap_or_default());
            epoch_msg.set(e.epoch + 1);
        },
        |done, total| {
            bar.set_length(total as u64);
            bar.set_position(done as u64);
            bar.set_message(format!("{label} epoch {}", epoch_msg.get()));
        },
    )?;
    bar.finish_and_clear();
    Ok(net)
}

pub fn run(a: TrainSpotnetArgs) -> Result<()> {
    let settings = SpotTrainSettings {
        epochs: a.epochs,
        per_bin: a.per_bin,
        seed: a.seed,
        ..SpotTrainSettings::default()
    };
    let t0 = std::time::Instant::now();
    let mut per_image = Vec::new();
    for img in &a.images {
        let s = image_samples(img, a.threshold_factor)?;
        eprintln!("{}: {} spots, per Sim bin {:?}", img.display(), s.len(), bin_counts(&s));
        per_image.push(s);
    }
    let synth = synthetic_samples(a.synthetic, a.seed.wrapping_mul(0x9E37_79B9) ^ 0xA5);
    eprintln!(
        "synthetic: {} spots, per Sim bin {:?} ({:.1} s so far)",
        synth.len(),
        bin_counts(&synth),
        t0.elapsed().as_secs_f64()
    );
    let mut history = Vec::new();
    let mut results = Vec::new();
    let holdouts: Vec<usize> = if a.cross_validate {
        (0..a.images.len()).collect()
    } else if let Some(h) = &a.holdout {
        let Some(i) = a.images.iter().position(|p| p == h) else {
            bail!("--holdout {}: not one of the images", h.display());
        };
        vec![i]
    } else {
        vec![usize::MAX]
    };
    for &h in &holdouts {
        let mut train: Vec<SpotSample> = synth.clone();
        let mut test = Vec::new();
        for (i, s) in per_image.iter().enumerate() {
            if i == h { test.extend(s.iter().cloned()) } else { train.extend(s.iter().cloned()) }
        }
        let label = a
            .images
            .get(h)
            .and_then(|p| p.file_name())
            .map_or("all".into(), |n| n.to_string_lossy().to_string());
        let net = train_once(&train, &test, &settings, &label, &mut history)?;
        if !test.is_empty() {
            let out = lauekit::spotnet::train::predict_samples(&net, &test, &burn::tensor::Device::flex());
            let m = lauekit::spotnet::train::metrics(&test, &out, &GoodSpotCriteria::default());
            print_metrics(&format!("held out {label}"), &m);
            results.push(serde_json::json!({"holdout": label, "metrics": m}));
        }
        // Fresh synthetic spots (another seed): how the network does on the kind of data it was fitted to.
        let fresh = synthetic_samples(3000, a.seed ^ 0xF7E5);
        let out = lauekit::spotnet::train::predict_samples(&net, &fresh, &burn::tensor::Device::flex());
        let m = lauekit::spotnet::train::metrics(&fresh, &out, &GoodSpotCriteria::default());
        print_metrics(&format!("fresh synthetic ({label} run)"), &m);
        if !a.cross_validate
            && let Some(o) = &a.output
        {
            std::fs::write(o, spotnet_to_bytes(&net)?)
                .with_context(|| format!("{}: cannot write", o.display()))?;
            eprintln!("weights written to {}", o.display());
        }
    }
    eprintln!("total {:.0} s", t0.elapsed().as_secs_f64());
    if let Some(r) = &a.report {
        let j = serde_json::json!({"settings": settings, "synthetic": a.synthetic, "threshold_factor": a.threshold_factor,
            "images": a.images, "history": history, "results": results, "seconds": t0.elapsed().as_secs_f64()});
        std::fs::write(r, serde_json::to_string_pretty(&j)?)
            .with_context(|| format!("{}: cannot write", r.display()))?;
    }
    Ok(())
}
