//! Training the hkl predictor: mini-batch Adam on the class-weighted cross-entropy, per-epoch loss and
//! accuracy on the training and validation spots, a progress callback, early stopping on the validation
//! accuracy (the best epoch's weights are kept).
//!
//! Runs on any burn device: training uses `device.autodiff()`; the returned model lives on the plain device.
//! Class weights are scikit-learn's "balanced" ones that lauetoolsnn uses: w_c = N / (C · n_c), here clipped
//! to [0.05, 20] so that a class seen a handful of times cannot dominate; burn's weighted cross-entropy
//! divides by the sum of the batch's weights.

use burn::module::Module;
use burn::nn::loss::CrossEntropyLossConfig;
use burn::optim::{AdamConfig, GradientsParams};
use burn::tensor::{Device, Int, Tensor, TensorData};
use rand::SeedableRng;
use rand::seq::SliceRandom;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use super::dataset::{Dataset, TrainingData};
use super::model::{HklNet, NetConfig};
use super::predict::{EpochReport, HklModel, ModelMeta};
use crate::crystal::Material;
use crate::error::{LaueError, Result, Stage};

/// Optimisation settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrainSettings {
    /// at most this many passes over the training spots
    pub epochs: usize,
    pub batch_size: usize,
    /// Adam's learning rate
    pub learning_rate: f64,
    /// stop when the validation accuracy has not improved for this many epochs (0: never stop early)
    pub patience: usize,
    /// weight the loss against class imbalance
    pub class_weights: bool,
    /// layer sizes; None: [`NetConfig::for_sizes`]
    pub net: Option<NetConfig>,
    /// seeds the weights, dropout and batch order
    pub seed: u64,
}

impl Default for TrainSettings {
    fn default() -> Self {
        TrainSettings {
            epochs: 20,
            batch_size: 256,
            learning_rate: 1e-3,
            patience: 4,
            class_weights: true,
            net: None,
            seed: 0,
        }
    }
}

impl TrainSettings {
    /// Checks the optimisation settings before any data is made: a finite learning rate > 0 (a NaN one
    /// trains a model of NaN weights that no one can use), ≥ 1 epoch, a batch of ≥ 1 within the limits.
    pub fn validated(&self) -> Result<()> {
        let bad = |m: String| Err(LaueError::settings(Stage::Training, m));
        if !(self.learning_rate.is_finite() && self.learning_rate > 0.0 && self.learning_rate <= 10.0) {
            return bad(format!(
                "learning rate (--lr) = {}: need a finite number > 0 and ≤ 10",
                self.learning_rate
            ));
        }
        if self.epochs == 0 {
            return bad("epochs (--epochs) = 0: need at least 1".into());
        }
        if self.batch_size == 0 {
            return bad("batch size (--batch-size) = 0: need at least 1".into());
        }
        crate::limits::EPOCHS.check("epochs (--epochs)", self.epochs as u64)?;
        crate::limits::BATCH_SIZE.check("batch size (--batch-size)", self.batch_size as u64)?;
        Ok(())
    }
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

fn batch_tensors(d: &Dataset, idx: &[usize], device: &Device) -> (Tensor<2>, Tensor<1, Int>) {
    let nb = d.n_bins;
    let mut x = Vec::with_capacity(idx.len() * nb);
    let mut y = Vec::with_capacity(idx.len());
    for &i in idx {
        x.extend_from_slice(d.row(i));
        y.push(d.labels[i] as i64);
    }
    (
        Tensor::<2>::from_data(TensorData::new(x, [idx.len(), nb]), device),
        Tensor::<1, Int>::from_data(TensorData::new(y, [idx.len()]), device),
    )
}

fn scalar(t: Tensor<1>) -> f64 {
    t.into_data().iter::<f64>().next().unwrap_or(f64::NAN)
}

fn count_right(logits: Tensor<2>, y: Tensor<1, Int>) -> usize {
    let n = y.dims()[0];
    let pred = logits.argmax(1).reshape([n]);
    pred.equal(y).int().sum().into_data().iter::<i64>().next().unwrap_or(0) as usize
}

/// Loss and accuracy of `net` (inference mode) on `d`.
pub fn evaluate(net: &HklNet, d: &Dataset, device: &Device) -> (f64, f64) {
    if d.is_empty() {
        return (f64::NAN, f64::NAN);
    }
    let loss_fn = CrossEntropyLossConfig::new().init(device);
    let idx: Vec<usize> = (0..d.len()).collect();
    let (mut loss_sum, mut right) = (0.0, 0usize);
    for chunk in idx.chunks(4096) {
        let (x, y) = batch_tensors(d, chunk, device);
        let logits = net.forward(x);
        loss_sum += scalar(loss_fn.forward(logits.clone(), y.clone())) * chunk.len() as f64;
        right += count_right(logits, y);
    }
    (loss_sum / d.len() as f64, right as f64 / d.len() as f64)
}

/// The figures of one mini-batch (for progress bars and live loss curves).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct BatchReport {
    /// 1-based
    pub epoch: usize,
    pub epochs: usize,
    /// 1-based, within the epoch
    pub batch: usize,
    pub batches: usize,
    /// class-weighted cross-entropy of this batch (dropout on)
    pub loss: f64,
    /// share of this batch's spots whose argmax was right
    pub accuracy: f64,
}

/// Trains a network on `data` (materials in class-table order). `progress` gets every epoch's figures and
/// returns false to stop.
pub fn train(
    data: &TrainingData,
    materials: &[Material],
    settings: &TrainSettings,
    device: &Device,
    training_info: serde_json::Value,
    progress: impl FnMut(&EpochReport) -> bool,
) -> Result<HklModel> {
    train_with_batches(data, materials, settings, device, training_info, |_| true, progress)
}

/// [`train`] that also reports every mini-batch to `on_batch` (which returns false to stop after it).
pub fn train_with_batches(
    data: &TrainingData,
    materials: &[Material],
    settings: &TrainSettings,
    device: &Device,
    training_info: serde_json::Value,
    mut on_batch: impl FnMut(&BatchReport) -> bool,
    mut progress: impl FnMut(&EpochReport) -> bool,
) -> Result<HklModel> {
    settings.validated()?;
    settings.validated()?;
    let n_in = data.train.n_bins;
    let n_out = data.classes.len();
    if data.train.is_empty() || n_out == 0 {
        return Err(LaueError::settings(
            Stage::Training,
            format!("nothing to train on ({} training spots, {n_out} classes)", data.train.len()),
        ));
    }
    let cfg = settings.net.unwrap_or_else(|| NetConfig::for_sizes(n_in, n_out));
    if cfg.n_in != n_in || cfg.n_out != n_out {
        return Err(LaueError::settings(
            Stage::Training,
            format!("network {}→{} does not fit {n_in} bins and {n_out} classes", cfg.n_in, cfg.n_out),
        ));
    }
    cfg.validate()?;
    let start = now();
    let ad = device.clone().autodiff();
    ad.seed(settings.seed);
    let mut net = cfg.init(&ad);
    let mut optim = AdamConfig::new().with_epsilon(1e-7).init();

    let mut counts = vec![0usize; n_out];
    for &l in &data.train.labels {
        counts[l as usize] += 1;
    }
    let weights: Vec<f32> = counts
        .iter()
        .map(|&c| {
            if !settings.class_weights || c == 0 {
                1.0
            } else {
                (data.train.len() as f64 / (n_out as f64 * c as f64)).clamp(0.05, 20.0) as f32
            }
        })
        .collect();
    let loss_fn = CrossEntropyLossConfig::new().with_weights(Some(weights)).init(&ad);

    let mut rng = ChaCha8Rng::seed_from_u64(settings.seed ^ 0x5EED);
    let mut order: Vec<usize> = (0..data.train.len()).collect();
    let mut history = Vec::new();
    let mut best: Option<(f64, f64, HklNet)> = None;
    let mut since_best = 0;
    for epoch in 1..=settings.epochs {
        order.shuffle(&mut rng);
        let (mut loss_sum, mut right, mut seen) = (0.0, 0usize, 0usize);
        let batches = order.len().div_ceil(settings.batch_size);
        let mut stop = false;
        for (b, chunk) in order.chunks(settings.batch_size).enumerate() {
            let (x, y) = batch_tensors(&data.train, chunk, &ad);
            let logits = net.forward(x);
            let loss = loss_fn.forward(logits.clone(), y.clone());
            let batch_right = count_right(logits.detach(), y);
            let batch_loss = scalar(loss.clone().detach());
            right += batch_right;
            seen += chunk.len();
            loss_sum += batch_loss * chunk.len() as f64;
            let grads = GradientsParams::from_grads(loss.backward(), &net);
            net = optim.step(settings.learning_rate, net, grads);
            let report = BatchReport {
                epoch,
                epochs: settings.epochs,
                batch: b + 1,
                batches,
                loss: batch_loss,
                accuracy: batch_right as f64 / chunk.len() as f64,
            };
            if !on_batch(&report) {
                stop = true;
                break;
            }
        }
        let valid = net.valid();
        let (val_loss, val_accuracy) = if data.validation.is_empty() {
            (f64::NAN, right as f64 / seen.max(1) as f64)
        } else {
            evaluate(&valid, &data.validation, device)
        };
        let report = EpochReport {
            epoch,
            epochs: settings.epochs,
            train_loss: loss_sum / seen.max(1) as f64,
            train_accuracy: right as f64 / seen.max(1) as f64,
            val_loss,
            val_accuracy,
            seconds: start.map_or(0.0, |s| s.elapsed().as_secs_f64()),
        };
        if !report.train_loss.is_finite() {
            return Err(LaueError::settings(
                Stage::Training,
                format!(
                    "training diverged at epoch {epoch} (loss {}) with learning_rate {}: use a lower rate",
                    report.train_loss, settings.learning_rate
                ),
            ));
        }
        history.push(report);
        let improved = best
            .as_ref()
            .is_none_or(|(acc, loss, _)| val_accuracy > *acc || (val_accuracy == *acc && val_loss < *loss));
        if improved {
            best = Some((val_accuracy, val_loss, valid));
            since_best = 0;
        } else {
            since_best += 1;
        }
        if !progress(&report) || stop || (settings.patience > 0 && since_best >= settings.patience) {
            break;
        }
    }
    let Some((_, _, net)) = best else {
        return Err(LaueError::settings(Stage::Training, "training ran no epoch"));
    };
    let meta = ModelMeta {
        version: 1,
        classes: data.classes.clone(),
        materials: materials.to_vec(),
        features: data.features,
        net: cfg,
        emin_kev: data.emin_kev,
        emax_kev: data.emax_kev,
        training: training_info,
        history,
    };
    Ok(HklModel { net, meta })
}
