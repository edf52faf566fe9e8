//! `lauekit train-spotnet`: train the spot characteriser on real images (their low-threshold peaks) and
//! synthetic spots, test on a held-out image, optionally cross-validate over the images.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use clap::Args;
use indicatif::{ProgressBar, ProgressStyle};
use lauekit::io::output::{Existing, OutputKind, OutputPlan};
use lauekit::io::{ReadOptions, read_image};
use lauekit::peaks::PeakSearchParams;
use lauekit::spotnet::floor::{FLOOR_RUNS, LaueToolsFloor, lauetools_floor};
use lauekit::spotnet::train::{
    SpotMetrics, SpotSample, SpotTrainSettings, bin_counts, frame_samples, reference_agreement, search_spots,
    synthetic_samples, synthetic_samples_with, train_spotnet,
};
use lauekit::spotnet::{GoodSpotCriteria, SpotNet, SpotNetConfig, infer::spotnet_to_bytes};

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
    /// Share of the synthetic spots given neighbours 6–16 px away, a background gradient or a masked stripe
    /// (crowded patterns, PILATUS gaps); 0 = the shipped network's pool.
    #[arg(long, default_value_t = 0.0)]
    pub crowded: f64,
    /// Peak-search threshold factor for the training/test spots (low, so that bad spots are included).
    #[arg(long, default_value_t = 0.5)]
    pub threshold_factor: f64,
    #[arg(long, default_value_t = 30)]
    pub epochs: usize,
    /// Samples drawn per Sim bin (12 bins) per epoch (the paper's 2000).
    #[arg(long, default_value_t = 2000)]
    pub per_bin: usize,
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Learning rate of the first batch (Adam); it decays along a half cosine to --final-lr.
    #[arg(long, default_value_t = 1e-3)]
    pub lr: f64,
    #[arg(long, default_value_t = 1e-5)]
    pub final_lr: f64,
    /// Channel widths of the three convolution blocks (shipped: 16,32,64; the paper's: 32,64,128).
    #[arg(long, value_delimiter = ',', default_values_t = [16, 32, 64])]
    pub channels: Vec<usize>,
    /// Space-to-depth factor of the stem: 4 (shipped: 16 channels of 8 × 8 px), 2, or 1 (none, the paper's).
    #[arg(long, default_value_t = 4)]
    pub stem: usize,
    /// Weight of the two position outputs in the loss (1 = plain mean absolute error).
    #[arg(long, default_value_t = 1.0)]
    pub pos_weight: f64,
    /// Share of training draws shifted by up to ±2 px (the others by up to ±1 px).
    #[arg(long, default_value_t = 0.2)]
    pub wide_shift_share: f64,
    /// Share of training draws not shifted at all (the shifts above apply to the others).
    #[arg(long, default_value_t = 0.5)]
    pub unshifted_share: f64,
    /// Output weights (burnpack).
    #[arg(short, long)]
    pub output: Option<PathBuf>,
    /// Write the per-epoch figures and final metrics as JSON here.
    #[arg(long)]
    pub report: Option<PathBuf>,
    /// IMAGE=SETTINGS: the peak-search settings (JSON) of an image whose folder has no `peaksearch.json`
    /// (repeat for each such image).
    #[arg(long, value_name = "IMAGE=JSON")]
    pub settings: Vec<String>,
    /// IMAGE=LIST: LaueTools' peak list (.dat) of an image: when it is held out, the network's positions of its
    /// good spots are also compared with LaueTools' fits (each good spot paired with the LaueTools peak within
    /// 0.5 px of its cut-out fit).
    #[arg(long, value_name = "IMAGE=DAT")]
    pub lauetools: Vec<String>,
}

/// The FILE given for `image` in IMAGE=FILE pairs (`flag` names the option in messages).
fn paired(pairs: &[String], image: &Path, flag: &str) -> Result<Option<PathBuf>> {
    for p in pairs {
        let Some((i, f)) = p.split_once('=') else {
            bail!("{flag} {p}: expected IMAGE=FILE");
        };
        if Path::new(i) == image {
            return Ok(Some(PathBuf::from(f)));
        }
    }
    Ok(None)
}

/// The peak-search settings file of `image`: the one given with --settings, else its folder's `peaksearch.json`.
fn settings_file(a: &TrainSpotnetArgs, image: &Path) -> Result<PathBuf> {
    Ok(paired(&a.settings, image, "--settings")?
        .unwrap_or_else(|| image.parent().unwrap_or(Path::new(".")).join("peaksearch.json")))
}

/// An image's samples, the detected pixels (px) they were cut out on (same order), and with a reference list,
/// how far LaueTools' own end points scatter on its good spots (`lauekit::spotnet::floor`).
type ImageSamples = (Vec<SpotSample>, Vec<(f64, f64)>, Option<LaueToolsFloor>);

/// Samples of the peaks of an image at the lowered threshold (bad ones included) and their detected pixels.
fn image_samples(
    image: &Path,
    pfile: &Path,
    factor: f64,
    reference: Option<&[(f64, f64)]>,
) -> Result<ImageSamples> {
    let bytes = std::fs::read(image).with_context(|| format!("{}: cannot read", image.display()))?;
    let frame = read_image(&bytes, &image.display().to_string(), &ReadOptions::default())?;
    let text = std::fs::read_to_string(pfile).with_context(|| format!("{}: cannot read", pfile.display()))?;
    let p = PeakSearchParams::from_json(&text, &pfile.display().to_string())?;
    let spots =
        search_spots(&frame, &p, factor).with_context(|| format!("{}: peak search", image.display()))?;
    let samples = frame_samples(&frame, &spots, p.saturation_value);
    let floor =
        reference.map(|r| lauetools_floor(&frame, &p, &samples, &spots, r, &GoodSpotCriteria::truth(), 0.5));
    Ok((samples, spots, floor))
}

pub fn print_metrics(label: &str, m: &SpotMetrics) -> Result<()> {
    outln!(
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
    )
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
    // stdout failing inside the epoch callback: kept and returned after training.
    let mut print_error = None;
    let net = train_spotnet(
        train,
        test,
        s,
        &device,
        &criteria,
        |e| {
            bar.suspend(|| {
                errln!(
                    "{label} epoch {}/{}: train MAE {:.4}, {:.0} s",
                    e.epoch,
                    s.epochs,
                    e.train_mae,
                    e.seconds
                );
                if let Some(m) = &e.test
                    && let Err(err) = print_metrics(&format!("{label} epoch {} test", e.epoch), m)
                {
                    print_error.get_or_insert(err);
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
    if let Some(e) = print_error {
        return Err(e);
    }
    Ok(net)
}

pub fn run(a: TrainSpotnetArgs) -> Result<()> {
    if !(0.0..=1.0).contains(&a.crowded) {
        bail!("--crowded {}: a share between 0 and 1 is needed", a.crowded);
    }
    if a.channels.len() != 3 || a.channels.contains(&0) {
        bail!("--channels {:?}: three positive widths are needed, e.g. 32,64,128", a.channels);
    }
    let settings = SpotTrainSettings {
        epochs: a.epochs,
        per_bin: a.per_bin,
        seed: a.seed,
        learning_rate: a.lr,
        final_learning_rate: a.final_lr,
        network: SpotNetConfig {
            stem: a.stem,
            channels: [a.channels[0], a.channels[1], a.channels[2]],
            ..SpotNetConfig::default()
        },
        pos_weight: a.pos_weight,
        wide_shift_share: a.wide_shift_share,
        unshifted_share: a.unshifted_share,
        ..SpotTrainSettings::default()
    };
    settings.validate()?;
    // Every output checked before hours of training.
    let mut plan = OutputPlan::new(Existing::Replace);
    for img in &a.images {
        plan.input(img).input(settings_file(&a, img)?);
        if let Some(l) = paired(&a.lauetools, img, "--lauetools")? {
            plan.input(l);
        }
    }
    if let Some(o) = a.output.as_ref().filter(|_| !a.cross_validate) {
        plan.output(o, OutputKind::Binary)?;
    }
    if let Some(r) = &a.report {
        plan.output(r, OutputKind::Text)?;
    }
    let t0 = std::time::Instant::now();
    let mut per_image = Vec::new();
    let mut spots_of = Vec::new();
    let mut lauetools_of = Vec::new();
    let mut floor_of = Vec::new();
    for img in &a.images {
        let reference = match paired(&a.lauetools, img, "--lauetools")? {
            Some(l) => {
                let text =
                    std::fs::read_to_string(&l).with_context(|| format!("{}: cannot read", l.display()))?;
                let peaks = lauekit::io::peaklist::read_dat(&text, &l.display().to_string())?;
                Some(peaks.iter().map(|p| (p.x, p.y)).collect::<Vec<_>>())
            }
            None => None,
        };
        let (s, spots, floor) =
            image_samples(img, &settings_file(&a, img)?, a.threshold_factor, reference.as_deref())?;
        errln!("{}: {} spots, per Sim bin {:?}", img.display(), s.len(), bin_counts(&s));
        if let Some(f) = &floor {
            errln!(
                "{}: LaueTools' own end points on {} good spots: re-run {:.4} px from its list, median of {} \
                 perturbed re-runs {:.4} px, their scatter {:.4} px (the floor); converged cut-out fit {:.4} px",
                img.display(),
                f.matched,
                f.rerun_px,
                FLOOR_RUNS,
                f.median_end_px,
                f.scatter_px,
                f.converged_px
            );
        }
        per_image.push(s);
        spots_of.push(spots);
        lauetools_of.push(reference);
        floor_of.push(floor);
    }
    let synth = synthetic_samples_with(a.synthetic, a.seed.wrapping_mul(0x9E37_79B9) ^ 0xA5, a.crowded);
    errln!(
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
            print_metrics(&format!("held out {label}"), &m)?;
            let agreement = lauetools_of[h].as_ref().map(|reference| {
                reference_agreement(&test, &spots_of[h], &out, reference, &GoodSpotCriteria::truth(), 0.5)
            });
            if let Some(r) = &agreement {
                outln!(
                    "held out {label} against LaueTools: good={} matched={} network_to_lauetools_px={:.4} \
                     fit_to_lauetools_px={:.4}",
                    r.good,
                    r.matched,
                    r.network_px,
                    r.fit_px
                )?;
            }
            if let Some(f) = &floor_of[h] {
                outln!(
                    "held out {label}: LaueTools' end points scatter {:.4} px around their median (the floor), \
                     median end point {:.4} px from its list",
                    f.scatter_px,
                    f.median_end_px
                )?;
            }
            results.push(serde_json::json!({
                "holdout": label, "metrics": m, "lauetools": agreement, "lauetools_floor": floor_of[h]
            }));
        }
        // Fresh synthetic spots (another seed): how the network does on the kind of data it was fitted to.
        let fresh = synthetic_samples(3000, a.seed ^ 0xF7E5);
        let out = lauekit::spotnet::train::predict_samples(&net, &fresh, &burn::tensor::Device::flex());
        let m = lauekit::spotnet::train::metrics(&fresh, &out, &GoodSpotCriteria::default());
        print_metrics(&format!("fresh synthetic ({label} run)"), &m)?;
        if !a.cross_validate
            && let Some(o) = &a.output
        {
            plan.stage(o, &spotnet_to_bytes(&net, &settings.network)?)?;
        }
    }
    errln!("total {:.0} s", t0.elapsed().as_secs_f64());
    if let Some(r) = &a.report {
        let j = serde_json::json!({"settings": settings, "synthetic": a.synthetic, "crowded": a.crowded, "threshold_factor": a.threshold_factor,
            "images": a.images, "history": history, "results": results, "seconds": t0.elapsed().as_secs_f64()});
        plan.stage(r, serde_json::to_string_pretty(&j)?.as_bytes())?;
    }
    for f in plan.commit()?.written {
        errln!("wrote {}", f.display());
    }
    Ok(())
}
