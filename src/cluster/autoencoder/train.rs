//! Training of the [`Autoencoder`] on batches the caller supplies (the CLI makes them with [`super::data`]
//! on another thread while the network trains).
//!
//! Loss: binary cross-entropy of the reconstruction against the input (both in [0, 1]), computed from the
//! logits (−t·log σ(z) − (1 − t)·log σ(−z) = (1 − t)·z − log σ(z), stable for any z), each pixel weighted by
//! 1 + (w_s − 1)·t with t its input value (w_s = `spot_weight`, 1 = the paper's plain BCE). The frames are
//! sparse (spots cover ≈ 1 % of the pixels), so a mild weight on bright pixels makes the spots, which tell
//! grains apart, count more than the smooth background. Adam (β 0.9, 0.999, ε 1e-8); the learning rate
//! decays along a half cosine from `learning_rate` to `final_learning_rate` over the run, whose progress is
//! steps done / `steps` or, with a time budget, the larger of that and time spent / budget.

use burn::module::Module;
use burn::optim::{AdamConfig, GradientsParams};
use burn::tensor::activation::log_sigmoid;
use burn::tensor::{Device, Tensor};
use serde::{Deserialize, Serialize};

use super::infer::input_tensor;
use super::model::{Autoencoder, AutoencoderConfig};
use crate::error::{LaueError, Result, Stage};

/// Optimisation settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AeTrainSettings {
    /// mini-batches to train on (the run ends earlier when `minutes` runs out)
    pub steps: usize,
    /// wall-clock budget of the training loop (minutes); None: `steps` alone decides
    pub minutes: Option<f64>,
    pub batch_size: usize,
    pub learning_rate: f64,
    pub final_learning_rate: f64,
    /// weight of a pixel of input value 1 in the loss (0 counts 1, linear between)
    pub spot_weight: f64,
    /// seeds the weights and the dropout masks (the data have their own seed)
    pub seed: u64,
    pub network: AutoencoderConfig,
}

impl Default for AeTrainSettings {
    fn default() -> Self {
        AeTrainSettings {
            steps: 2000,
            minutes: None,
            batch_size: 32,
            learning_rate: 1e-3,
            final_learning_rate: 1e-5,
            spot_weight: 5.0,
            seed: 1,
            network: AutoencoderConfig::default(),
        }
    }
}

/// Progress of a run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AeProgress {
    /// mini-batches done
    pub step: usize,
    /// the weighted loss of the last mini-batch
    pub loss: f64,
    /// the mean weighted loss over the last 100 mini-batches
    pub loss_mean_100: f64,
    pub learning_rate: f64,
    /// seconds since the start (0 where there is no clock)
    pub seconds: f64,
}

/// The weighted binary cross-entropy (see the module doc) of reconstruction logits against targets, both
/// `[n, 1, 128, 128]`: a one-element tensor.
pub fn weighted_bce(logits: Tensor<4>, target: Tensor<4>, spot_weight: f64) -> Tensor<1> {
    let bce = (target.clone().neg() + 1.0) * logits.clone() - log_sigmoid(logits);
    let w = target * (spot_weight - 1.0) + 1.0;
    (bce * w).mean()
}

/// A monotonic clock that also exists in wasm (where `Instant` panics): None there.
#[cfg(not(target_arch = "wasm32"))]
fn now() -> Option<std::time::Instant> {
    Some(std::time::Instant::now())
}
#[cfg(target_arch = "wasm32")]
fn now() -> Option<std::time::Instant> {
    None
}

impl AeTrainSettings {
    /// Refuses settings that cannot train: zero steps or batch, a time limit or spot weight that is not a
    /// positive number, learning rates that are not finite numbers in (0, 1] (a NaN rate trains NaN weights),
    /// a network shape that cannot be made.
    pub fn validate(&self) -> Result<()> {
        let bad = |m: String| Err(LaueError::settings(Stage::Training, format!("autoencoder: {m}")));
        self.network.validate()?;
        if self.steps == 0 {
            return bad("steps = 0: need at least 1".into());
        }
        if self.batch_size == 0 {
            return bad("batch_size = 0: need at least 1".into());
        }
        if let Some(m) = self.minutes
            && !(m.is_finite() && m > 0.0)
        {
            return bad(format!("minutes = {m}: need a positive number"));
        }
        if !(self.spot_weight.is_finite() && self.spot_weight > 0.0) {
            return bad(format!("spot_weight = {}: need a positive number", self.spot_weight));
        }
        for (name, v) in
            [("learning_rate", self.learning_rate), ("final_learning_rate", self.final_learning_rate)]
        {
            if !(v.is_finite() && v > 0.0 && v <= 1.0) {
                return bad(format!("{name} = {v}: need a number in (0, 1]"));
            }
        }
        Ok(())
    }
}

/// Trains an autoencoder. `next_batch(step)` gives mini-batch `step` (`batch_size · 128²` pre-processed
/// values); `on_step` sees the progress after each step and returns false to stop. Returns the network
/// (inference mode, on `device`) and the last progress.
pub fn train_autoencoder(
    settings: &AeTrainSettings,
    device: &Device,
    mut next_batch: impl FnMut(usize) -> Result<Vec<f32>>,
    mut on_step: impl FnMut(&AeProgress) -> bool,
) -> Result<(Autoencoder, AeProgress)> {
    settings.validate()?;
    let start = now();
    let ad = device.clone().autodiff();
    ad.seed(settings.seed);
    let mut net = settings.network.init(&ad);
    let mut optim = AdamConfig::new().init();
    let mut recent: Vec<f64> = Vec::with_capacity(100);
    let mut last =
        AeProgress { step: 0, loss: f64::NAN, loss_mean_100: f64::NAN, learning_rate: 0.0, seconds: 0.0 };
    for step in 0..settings.steps {
        let seconds = start.map_or(0.0, |s| s.elapsed().as_secs_f64());
        let mut progress = step as f64 / settings.steps as f64;
        if let Some(m) = settings.minutes {
            let by_time = seconds / (60.0 * m);
            if by_time >= 1.0 {
                break;
            }
            progress = progress.max(by_time);
        }
        let lr = settings.final_learning_rate
            + 0.5
                * (settings.learning_rate - settings.final_learning_rate)
                * (1.0 + (std::f64::consts::PI * progress).cos());
        let x = input_tensor(next_batch(step)?, settings.batch_size, &ad)?;
        let loss = weighted_bce(net.forward_logits(x.clone()), x, settings.spot_weight);
        let value = loss.clone().detach().into_data().iter::<f64>().next().unwrap_or(f64::NAN);
        if !value.is_finite() {
            return Err(LaueError::settings(
                Stage::Training,
                format!(
                    "autoencoder training diverged at step {step} (loss {value}); try a lower learning rate"
                ),
            ));
        }
        let grads = GradientsParams::from_grads(loss.backward(), &net);
        net = optim.step(lr, net, grads);
        if recent.len() == 100 {
            recent.remove(0);
        }
        recent.push(value);
        last = AeProgress {
            step: step + 1,
            loss: value,
            loss_mean_100: recent.iter().sum::<f64>() / recent.len() as f64,
            learning_rate: lr,
            seconds: start.map_or(0.0, |s| s.elapsed().as_secs_f64()),
        };
        if !on_step(&last) {
            break;
        }
    }
    Ok((net.valid(), last))
}

/// The weighted loss (see [`weighted_bce`]) and the plain BCE (`spot_weight` 1) of a trained network on
/// `n` inputs (no dropout), in batches of 64.
pub fn evaluate(
    net: &Autoencoder,
    pixels: &[f32],
    n: usize,
    spot_weight: f64,
    device: &Device,
) -> Result<(f64, f64)> {
    let len = super::data::INPUT_LEN;
    if n == 0 || Some(pixels.len()) != n.checked_mul(len) {
        return Err(LaueError::settings(
            Stage::Training,
            format!("autoencoder validation: {} values for {n} inputs of 128²", pixels.len()),
        ));
    }
    let (mut w, mut p) = (0.0, 0.0);
    for chunk in pixels.chunks(64 * len) {
        let m = chunk.len() / len;
        let x = input_tensor(chunk.to_vec(), m, device)?;
        let logits = net.forward_logits(x.clone());
        let read = |t: Tensor<1>| t.into_data().iter::<f64>().next().unwrap_or(f64::NAN);
        w += read(weighted_bce(logits.clone(), x.clone(), spot_weight)) * m as f64;
        p += read(weighted_bce(logits, x, 1.0)) * m as f64;
    }
    Ok((w / n as f64, p / n as f64))
}
