//! `lauekit train-autoencoder`: train the clustering autoencoder (Song et al. 2019) on frames simulated on
//! the fly (materials table, random detectors, 0–5 grains, spot shapes, noise) and random crops of real
//! images, then write its weights (burnpack). The mini-batches are made on a second thread (in parallel)
//! while the network trains, each a function of (seed, step), so a run with `--steps` alone repeats.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{Context, Result, bail};
use clap::Args;
use indicatif::{ProgressBar, ProgressStyle};
use lauekit::cluster::autoencoder::data::{INPUT_LEN, mixed_batch};
use lauekit::cluster::autoencoder::train::{AeTrainSettings, evaluate, train_autoencoder};
use lauekit::cluster::autoencoder::{AutoencoderConfig, autoencoder_to_bytes, encode, load_autoencoder};
use lauekit::io::output::{Existing, OutputKind, OutputPlan};
use lauekit::io::{Frame, ReadOptions, read_image};

#[derive(Args)]
pub struct TrainAutoencoderArgs {
    /// Real detector images, or directories searched recursively for them (.mccd, .tif, .tiff, .edf, .h5,
    /// .png); random crops of them make --real-share of the mini-batches.
    #[arg(long)]
    pub real: Vec<PathBuf>,
    /// Share of the training frames taken from the real images (the others are simulated).
    #[arg(long, default_value_t = 0.1)]
    pub real_share: f64,
    /// Mini-batches to train on.
    #[arg(long, default_value_t = 3000)]
    pub steps: usize,
    /// Wall-clock budget of the training loop (minutes): the run stops there, the learning rate following
    /// the time spent (not repeatable: give --steps alone for that).
    #[arg(long)]
    pub minutes: Option<f64>,
    #[arg(long, default_value_t = 32)]
    pub batch: usize,
    /// Learning rate of the first mini-batch (Adam); it decays along a half cosine to --final-lr.
    #[arg(long, default_value_t = 1e-3)]
    pub lr: f64,
    #[arg(long, default_value_t = 1e-5)]
    pub final_lr: f64,
    /// Loss weight of a pixel of value 1 (0 counts 1): 1 is the paper's plain binary cross-entropy.
    #[arg(long, default_value_t = 5.0)]
    pub spot_weight: f64,
    /// Seeds the weights, the dropout and the training frames.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Channels of the five encoder stages.
    #[arg(long, value_delimiter = ',', default_values_t = [8, 16, 32, 32, 64])]
    pub channels: Vec<usize>,
    /// Latent dimension M (the feature length).
    #[arg(long, default_value_t = 64)]
    pub latent: usize,
    #[arg(long, default_value_t = 0.2)]
    pub dropout: f64,
    /// Held-out frames (another seed) on which the final loss is reported.
    #[arg(long, default_value_t = 256)]
    pub validation: usize,
    /// Store the weights in f16 (half the bytes).
    #[arg(long)]
    pub half: bool,
    /// Output weights (burnpack).
    #[arg(long, short)]
    pub out: PathBuf,
    /// Write the settings, the loss curve and the final figures as JSON here.
    #[arg(long)]
    pub report: Option<PathBuf>,
}

const IMAGE_EXTENSIONS: [&str; 6] = ["mccd", "tif", "tiff", "edf", "h5", "png"];

fn collect_images(p: &Path, out: &mut Vec<PathBuf>) -> Result<()> {
    if p.is_dir() {
        let mut entries: Vec<PathBuf> = std::fs::read_dir(p)
            .with_context(|| format!("{}: cannot list", p.display()))?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .collect();
        entries.sort();
        for e in entries {
            if e.is_dir() {
                collect_images(&e, out)?;
            } else if e
                .extension()
                .and_then(|x| x.to_str())
                .is_some_and(|x| IMAGE_EXTENSIONS.contains(&x.to_ascii_lowercase().as_str()))
            {
                out.push(e);
            }
        }
    } else {
        out.push(p.to_path_buf());
    }
    Ok(())
}

pub fn run(a: TrainAutoencoderArgs) -> Result<()> {
    if a.channels.len() != 5 {
        bail!("--channels {:?}: five widths are needed, e.g. 8,16,32,32,64", a.channels);
    }
    if !(0.0..=1.0).contains(&a.real_share) {
        bail!("--real-share {}: use 0 to 1", a.real_share);
    }
    let network = AutoencoderConfig {
        channels: [a.channels[0], a.channels[1], a.channels[2], a.channels[3], a.channels[4]],
        latent: a.latent,
        dropout: a.dropout,
    };
    network.validate()?;
    let settings = AeTrainSettings {
        steps: a.steps,
        minutes: a.minutes,
        batch_size: a.batch,
        learning_rate: a.lr,
        final_learning_rate: a.final_lr,
        spot_weight: a.spot_weight,
        seed: a.seed,
        network,
    };
    let t0 = std::time::Instant::now();
    let mut files = Vec::new();
    for p in &a.real {
        collect_images(p, &mut files)?;
    }
    // The outputs checked before the training.
    let mut plan = OutputPlan::new(Existing::Replace);
    plan.inputs(&a.real).inputs(&files);
    plan.output(&a.out, OutputKind::Binary)?;
    if let Some(r) = &a.report {
        plan.output(r, OutputKind::Text)?;
    }
    let mut real: Vec<Frame> = Vec::new();
    for f in &files {
        let name = f.display().to_string();
        match std::fs::read(f)
            .map_err(anyhow::Error::from)
            .and_then(|b| read_image(&b, &name, &ReadOptions::default()).map_err(anyhow::Error::from))
        {
            Ok(frame) if frame.rows < 256 || frame.cols < 256 => {
                errln!("skipped {name}: {} × {} is no detector frame", frame.rows, frame.cols)
            }
            Ok(frame) => {
                errln!("real image {name}: {} × {}", frame.rows, frame.cols);
                real.push(frame);
            }
            Err(e) => errln!("skipped {name}: {e:#}"),
        }
    }
    if !a.real.is_empty() && real.is_empty() {
        bail!("--real: no readable image");
    }
    let real = Arc::new(real);
    errln!(
        "training: {} steps of {} frames ({} real images, {:.0} % of the draws), seed {}, {:?}",
        a.steps,
        a.batch,
        real.len(),
        if real.is_empty() { 0.0 } else { 100.0 * a.real_share },
        a.seed,
        network
    );

    // The mini-batches, made ahead on another thread (in parallel) in step order.
    let (tx, rx) = std::sync::mpsc::sync_channel::<lauekit::error::Result<Vec<f32>>>(3);
    let gen_real = Arc::clone(&real);
    let (share, seed, batch, steps) = (a.real_share, a.seed, a.batch, a.steps);
    let generator = std::thread::spawn(move || {
        for step in 0..steps {
            let b = mixed_batch(&gen_real, share, seed, (step * batch) as u64, batch);
            if tx.send(b).is_err() {
                break;
            }
        }
    });
    let bar = ProgressBar::new(a.steps as u64);
    bar.set_style(
        ProgressStyle::with_template("{bar:30} {pos}/{len} steps, {elapsed}, ETA {eta} {msg}")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    let mut curve: Vec<serde_json::Value> = Vec::new();
    let device = burn::tensor::Device::flex();
    let mut waited = 0f64;
    let (net, last) = train_autoencoder(
        &settings,
        &device,
        |step| {
            let t = std::time::Instant::now();
            let b = rx.recv().map_err(|_| {
                lauekit::error::LaueError::settings(
                    lauekit::error::Stage::Training,
                    format!("autoencoder: the batch generator stopped at step {step}"),
                )
            });
            waited += t.elapsed().as_secs_f64();
            b?
        },
        |p| {
            bar.set_position(p.step as u64);
            bar.set_message(format!("loss {:.5} (mean of 100: {:.5})", p.loss, p.loss_mean_100));
            if p.step % 100 == 0 || p.step == 1 {
                bar.suspend(|| {
                    errln!(
                        "step {}: loss {:.5}, mean of the last 100 {:.5}, lr {:.2e}, {:.0} s",
                        p.step,
                        p.loss,
                        p.loss_mean_100,
                        p.learning_rate,
                        p.seconds
                    )
                });
                curve.push(serde_json::to_value(p).unwrap_or_default());
            }
            true
        },
    )?;
    bar.finish_and_clear();
    drop(rx);
    let _ = generator.join();
    let train_seconds = last.seconds;
    errln!(
        "trained {} steps in {:.0} s ({waited:.0} s of it waiting for batches): last loss {:.5}, mean of the last \
         100 {:.5}",
        last.step,
        train_seconds,
        last.loss,
        last.loss_mean_100
    );

    // Held-out frames: weighted and plain BCE; and how much f16 storage moves the codes.
    let val_seed = a.seed ^ 0x7A11_D000;
    let n_val = a.validation.max(1);
    let val = mixed_batch(&real, a.real_share, val_seed, 0, n_val)?;
    let (val_weighted, val_bce) = evaluate(&net, &val, n_val, a.spot_weight, &device)?;
    errln!(
        "validation ({n_val} frames, seed {val_seed}): weighted BCE {val_weighted:.5}, plain BCE {val_bce:.5}"
    );
    let bytes32 = autoencoder_to_bytes(&net, &network, false)?;
    let bytes16 = autoencoder_to_bytes(&net, &network, true)?;
    let z32 = encode(&load_autoencoder(&bytes32, &device)?, &val, n_val, &device)?;
    let z16 = encode(&load_autoencoder(&bytes16, &device)?, &val, n_val, &device)?;
    let f16_shift = z32.iter().zip(&z16).map(|(x, y)| (x - y).abs()).fold(0f32, f32::max);
    errln!(
        "latents: f16 weights move them by up to {f16_shift:.2e} (f32 file {} B, f16 file {} B)",
        bytes32.len(),
        bytes16.len()
    );
    debug_assert_eq!(val.len(), n_val * INPUT_LEN);
    let bytes = if a.half { &bytes16 } else { &bytes32 };
    plan.stage(&a.out, bytes)?;
    errln!(
        "weights written to {} ({} B), total {:.0} s",
        a.out.display(),
        bytes.len(),
        t0.elapsed().as_secs_f64()
    );
    if let Some(r) = &a.report {
        let j = serde_json::json!({
            "settings": settings,
            "real_images": files,
            "real_share": a.real_share,
            "steps_done": last.step,
            "train_seconds": train_seconds,
            "seconds_waiting_for_batches": waited,
            "final_loss": last.loss,
            "final_loss_mean_100": last.loss_mean_100,
            "validation": {"frames": n_val, "seed": val_seed, "weighted_bce": val_weighted, "bce": val_bce},
            "f16_max_latent_shift": f16_shift,
            "bytes": bytes.len(),
            "curve": curve,
            "seconds": t0.elapsed().as_secs_f64(),
        });
        plan.stage(r, serde_json::to_string_pretty(&j)?.as_bytes())?;
    }
    plan.commit()?;
    Ok(())
}
