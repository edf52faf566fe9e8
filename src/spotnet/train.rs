//! Training data and training of [`SpotNet`].
//!
//! A [`SpotSample`] is a 37 × 37 window of counts around s (from a real image or [`super::synth`]) with
//! the ground truth of its central 32 × 32 cut-out ([`super::truth`]). Each epoch draws the same number of
//! samples from each of 12 Sim bins of width 1/12 (with replacement where a bin is short), so that Sim is
//! uniform, and augments each draw: one of the 8 rotations/reflections about s, then (for half of the draws)
//! a shift of s by up to ±1 px on each axis (±2 px for a fifth of those), with μ (hence Pos*) transformed and
//! shifted alike (Sim, Asp and Area are kept). Loss: mean absolute error; Adam from a learning rate of 1e-3
//! decaying along a half cosine to 1e-5, mini-batches of 32 (the paper's). Test sets are whole images left
//! out of training.

use burn::module::Module;
use burn::optim::{AdamConfig, GradientsParams};
use burn::tensor::{Device, Tensor, TensorData};
use rand::seq::{IndexedRandom, SliceRandom};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use super::cutout::{CUTOUT, HALF, min_max};
use super::descriptors::GoodSpotCriteria;
use super::infer::batch_tensor;
use super::model::{SpotNet, SpotNetConfig};
use super::synth::{SYNTH_SATURATION, WINDOW, WINDOW_HALF, random_kind, render_window};
use super::truth::{AREA_FULL, POS_RANGE, SpotTruth, fit_window, pos_star};
use crate::error::{LaueError, Result, Stage};
use crate::io::Frame;
use crate::peaks::{PeakSearchParams, peak_search};

/// Number of Sim bins the training draws evenly from.
pub const SIM_BINS: usize = 12;

/// A training or test window and its ground truth.
#[derive(Debug, Clone, PartialEq)]
pub struct SpotSample {
    /// WINDOW × WINDOW counts, s at (WINDOW_HALF, WINDOW_HALF), NaN = no data
    pub window: Vec<f32>,
    pub truth: SpotTruth,
}

impl SpotSample {
    /// A sample from a window: fits the central cut-out.
    pub fn from_window(window: Vec<f32>, saturation: f64) -> Self {
        let (counts, valid) = crop(&window, 0, 0);
        let truth = fit_window(&counts, &valid, saturation);
        SpotSample { window, truth }
    }

    /// Sim bin of the sample.
    pub fn bin(&self) -> usize {
        ((self.truth.sim * SIM_BINS as f64) as usize).min(SIM_BINS - 1)
    }

    /// The unaugmented network input.
    pub fn input(&self) -> Vec<f32> {
        let (c, v) = crop(&self.window, 0, 0);
        min_max(&c, &v)
    }
}

/// The 32 × 32 cut-out of a window whose s is shifted by (dx, dy) px, as counts and validity.
fn crop(window: &[f32], dx: i64, dy: i64) -> (Vec<f64>, Vec<bool>) {
    let off = (WINDOW_HALF - HALF) as i64;
    let (r0, c0) = ((off + dy) as usize, (off + dx) as usize);
    let mut counts = Vec::with_capacity(CUTOUT * CUTOUT);
    let mut valid = Vec::with_capacity(CUTOUT * CUTOUT);
    for u in 0..CUTOUT {
        for v in 0..CUTOUT {
            let w = window[(r0 + u) * WINDOW + c0 + v];
            valid.push(w.is_finite());
            counts.push(if w.is_finite() { w as f64 } else { 0.0 });
        }
    }
    (counts, valid)
}

/// Window around the spot at (x, y) (px, LaueTools' convention), NaN beyond the frame or on masked pixels.
pub fn frame_window(frame: &Frame, x: f64, y: f64) -> Vec<f32> {
    let (counts, valid) =
        super::cutout::read_window(frame, super::cutout::spot_pixel(x, y), WINDOW, WINDOW_HALF);
    counts.iter().zip(&valid).map(|(&v, &ok)| if ok { v as f32 } else { f32::NAN }).collect()
}

/// Samples of the spots at `peaks` of a real frame.
pub fn frame_samples(frame: &Frame, peaks: &[(f64, f64)], saturation: f64) -> Vec<SpotSample> {
    let windows: Vec<Vec<f32>> = peaks.iter().map(|&(x, y)| frame_window(frame, x, y)).collect();
    fit_all(windows, saturation)
}

/// Samples of a real frame's spots for training and testing: its peaks found with `params`, and those found at
/// `factor` × their IntensityThreshold with no fit rejection (FitPixelDev and PeakSizeRange opened) so that bad
/// spots are included, on their detected pixels, each pixel once. (The second search alone misses many of the
/// first's spots: with the rejection opened, fits of weak neighbours wander onto a bright spot and the
/// duplicate removal keeps theirs.)
pub fn search_samples(frame: &Frame, params: &PeakSearchParams, factor: f64) -> Result<Vec<SpotSample>> {
    let spots = search_spots(frame, params, factor)?;
    Ok(frame_samples(frame, &spots, params.saturation_value))
}

/// The detected pixels (px, the peak list's convention) of the spots [`search_samples`] takes, in its order.
pub fn search_spots(frame: &Frame, params: &PeakSearchParams, factor: f64) -> Result<Vec<(f64, f64)>> {
    let mut low = params.clone();
    low.fit_pixel_dev = 1e3;
    low.peak_size_range = (0.0, 1e3);
    // A noisy frame can hold more maxima at the lowered threshold than NumberMaxofFits allows: the factor is
    // then moved half-way to 1 (at most four times) rather than fitting thousands of noise maxima.
    let mut f = factor;
    let low_peaks = loop {
        low.intensity_threshold = params.intensity_threshold * f;
        match peak_search(frame, &low) {
            Ok(l) => break l.peaks,
            Err(_) if f < 1.0 && (1.0 - f) > (1.0 - factor) / 16.0 => f = 0.5 * (1.0 + f),
            Err(e) => return Err(e),
        }
    };
    let mut pixels = std::collections::HashSet::new();
    let mut spots: Vec<(f64, f64)> = Vec::new();
    for list in [peak_search(frame, params)?.peaks, low_peaks] {
        for pk in list {
            let at = pk.detected_pixel();
            if pixels.insert(super::cutout::spot_pixel(at.0, at.1)) {
                spots.push(at);
            }
        }
    }
    Ok(spots)
}

/// The network's positions against another program's fits (LaueTools' peak list) on the truly good spots.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct ReferenceAgreement {
    /// truly good spots (by the cut-out's fit and `criteria`)
    pub good: usize,
    /// of those, the ones with a reference peak within `radius` of the cut-out fit's position
    pub matched: usize,
    /// mean distance (px) from the network's position to that reference peak
    pub network_px: f64,
    /// mean distance (px) from the cut-out fit's position (the training truth) to that reference peak
    pub fit_px: f64,
}

/// Compares the network's positions (`outputs`, in the order of `samples`, whose spots were cut out on the
/// pixels `spots`) with `reference` peak positions (same convention as `spots`): each truly good spot is paired
/// with the reference peak nearest to its fitted position, if within `radius` px (the pairing does not look at
/// the network's answer, so it cannot favour it).
pub fn reference_agreement(
    samples: &[SpotSample],
    spots: &[(f64, f64)],
    outputs: &[f32],
    reference: &[(f64, f64)],
    criteria: &GoodSpotCriteria,
    radius: f64,
) -> ReferenceAgreement {
    let (mut good, mut matched, mut net, mut fit) = (0, 0, 0.0, 0.0);
    for ((s, &(x, y)), o) in samples.iter().zip(spots).zip(outputs.chunks_exact(5)) {
        let t = &s.truth;
        if !criteria.is_good(t.sim, t.mu_x, t.mu_y) {
            continue;
        }
        good += 1;
        let (sx, sy) = super::cutout::spot_pixel(x, y);
        let (fx, fy) = (sx as f64 + t.mu_x, sy as f64 + t.mu_y);
        let nearest = reference
            .iter()
            .map(|&(rx, ry)| ((rx - fx).hypot(ry - fy), (rx, ry)))
            .min_by(|a, b| a.0.total_cmp(&b.0));
        let Some((d, (rx, ry))) = nearest.filter(|(d, _)| *d <= radius) else { continue };
        let px = sx as f64 + (o[1] as f64 * 2.0 * POS_RANGE - POS_RANGE);
        let py = sy as f64 + (o[2] as f64 * 2.0 * POS_RANGE - POS_RANGE);
        matched += 1;
        net += (px - rx).hypot(py - ry);
        fit += d;
    }
    let n = matched.max(1) as f64;
    ReferenceAgreement { good, matched, network_px: net / n, fit_px: fit / n }
}

/// `n` synthetic samples from `seed`.
pub fn synthetic_samples(n: usize, seed: u64) -> Vec<SpotSample> {
    synthetic_samples_with(n, seed, 0.0)
}

/// `n` synthetic samples from `seed`, a share `crowded` of them with neighbours, a background gradient or a
/// masked stripe added ([`super::synth::add_surroundings`]; 0 gives exactly [`synthetic_samples`]'s).
pub fn synthetic_samples_with(n: usize, seed: u64, crowded: f64) -> Vec<SpotSample> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut extra = ChaCha8Rng::seed_from_u64(seed ^ 0xC0_0DED);
    let windows: Vec<Vec<f32>> = (0..n)
        .map(|_| {
            let k = random_kind(&mut rng);
            let mut w = render_window(k, &mut rng);
            if crowded > 0.0 && extra.random_bool(crowded.min(1.0)) {
                super::synth::add_surroundings(&mut w, &mut extra);
            }
            w
        })
        .collect();
    fit_all(windows, SYNTH_SATURATION)
}

#[cfg(not(target_arch = "wasm32"))]
fn fit_all(windows: Vec<Vec<f32>>, saturation: f64) -> Vec<SpotSample> {
    use rayon::prelude::*;
    windows.into_par_iter().map(|w| SpotSample::from_window(w, saturation)).collect()
}
#[cfg(target_arch = "wasm32")]
fn fit_all(windows: Vec<Vec<f32>>, saturation: f64) -> Vec<SpotSample> {
    windows.into_iter().map(|w| SpotSample::from_window(w, saturation)).collect()
}

/// Applies dihedral transform `k` (0–7) to a vector (row, col) about s (pixel offsets or sub-pixel ones).
fn dihedral<T: Copy + std::ops::Neg<Output = T>>(k: u8, a: T, b: T) -> (T, T) {
    match k {
        0 => (a, b),
        1 => (b, -a),
        2 => (-a, -b),
        3 => (-b, a),
        4 => (a, -b),
        5 => (-a, b),
        6 => (b, a),
        _ => (-b, -a),
    }
}

/// Augmented input and target of a sample: transform `k`, then s shifted by (dx, dy) ∈ [−2, 2]².
pub fn augment(s: &SpotSample, k: u8, dx: i64, dy: i64) -> (Vec<f32>, [f32; 5]) {
    let h = WINDOW_HALF as i64;
    let mut w = vec![f32::NAN; WINDOW * WINDOW];
    for r in 0..WINDOW as i64 {
        for c in 0..WINDOW as i64 {
            let (a, b) = dihedral(k, r - h, c - h);
            w[((a + h) * WINDOW as i64 + b + h) as usize] = s.window[(r * WINDOW as i64 + c) as usize];
        }
    }
    let (muy, mux) = dihedral(k, s.truth.mu_y, s.truth.mu_x);
    let (counts, valid) = crop(&w, dx, dy);
    (min_max(&counts, &valid), s.truth.target_with_offset(mux - dx as f64, muy - dy as f64))
}

/// Optimisation settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SpotTrainSettings {
    pub epochs: usize,
    /// samples drawn per Sim bin per epoch (the paper: 2000)
    pub per_bin: usize,
    pub batch_size: usize,
    /// learning rate of the first batch; it decays along a half cosine to `final_learning_rate` at the
    /// last batch (a constant rate left the position outputs swinging from epoch to epoch)
    pub learning_rate: f64,
    pub final_learning_rate: f64,
    /// seeds the weights, the draws and the augmentation
    pub seed: u64,
    /// the network's shape (the shipped one by default; [`SpotNetConfig::paper`] for the paper's)
    pub network: SpotNetConfig,
    /// weight of the two Pos* outputs in the (otherwise mean absolute) loss: the position is wanted to
    /// 0.02 in Pos* units (0.044 px), finer than the other outputs
    pub pos_weight: f64,
    /// share of draws shifted by up to ±2 px per axis; the others by up to ±1 px (real spots' s is their
    /// brightest pixel, so their centres are within about ±0.7 px of it)
    pub wide_shift_share: f64,
    /// share of draws not shifted at all (drawn before the two above): the real test spots sit within ±0.6 px
    /// of s, and training mostly on shifted copies left the position 30 % less precise there
    pub unshifted_share: f64,
}

impl Default for SpotTrainSettings {
    fn default() -> Self {
        SpotTrainSettings {
            epochs: 30,
            per_bin: 2000,
            batch_size: 32,
            learning_rate: 1e-3,
            final_learning_rate: 1e-5,
            seed: 1,
            network: SpotNetConfig::default(),
            pos_weight: 1.0,
            wide_shift_share: 0.2,
            unshifted_share: 0.5,
        }
    }
}

impl SpotTrainSettings {
    /// Refuses settings that cannot train: zero counts, a learning rate that is not a positive finite
    /// number (a NaN rate makes NaN weights), shares outside [0, 1].
    pub fn validate(&self) -> Result<()> {
        let bad = |m: String| Err(LaueError::settings(Stage::Training, format!("spot network: {m}")));
        for (name, v) in [("epochs", self.epochs), ("per_bin", self.per_bin), ("batch_size", self.batch_size)]
        {
            if v == 0 {
                return bad(format!("{name} = 0: need at least 1"));
            }
        }
        for (name, v) in
            [("learning_rate", self.learning_rate), ("final_learning_rate", self.final_learning_rate)]
        {
            if !(v.is_finite() && v > 0.0 && v <= 1.0) {
                return bad(format!("{name} = {v}: need a number in (0, 1]"));
            }
        }
        if !(self.pos_weight.is_finite() && self.pos_weight > 0.0) {
            return bad(format!("pos_weight = {}: need a positive number", self.pos_weight));
        }
        for (name, v) in
            [("wide_shift_share", self.wide_shift_share), ("unshifted_share", self.unshifted_share)]
        {
            if !(0.0..=1.0).contains(&v) {
                return bad(format!("{name} = {v}: need a share in [0, 1]"));
            }
        }
        self.network.validate()
    }
}

/// Figures of one epoch.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SpotEpoch {
    pub epoch: usize,
    /// mean absolute error over the epoch's batches (all five outputs)
    pub train_mae: f64,
    /// metrics on the test samples, when there are any
    pub test: Option<SpotMetrics>,
    pub seconds: f64,
}

/// The paper's Table 1–3 figures on a test set.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SpotMetrics {
    pub n_spots: usize,
    /// spots good by the ground truth
    pub n_good: usize,
    /// over good spots: mean ‖Pos_pred − Pos_true‖ (px)
    pub pos_error_px: f64,
    /// over good spots: R² of Pos* (x and y pooled)
    pub r2_pos: f64,
    pub mae_sim: f64,
    /// px²
    pub mae_area_px2: f64,
    /// in Area* units (Area / 5π)
    pub mae_area_star: f64,
    pub mae_asp: f64,
    /// confusion matrix, counts: [true good & predicted good, true good & predicted bad,
    /// true bad & predicted good, true bad & predicted bad]
    pub confusion: [usize; 4],
}

impl SpotMetrics {
    /// Bad spots predicted good, share of all spots.
    pub fn bad_predicted_good(&self) -> f64 {
        self.confusion[2] as f64 / self.n_spots.max(1) as f64
    }
    /// Good spots predicted bad, share of all spots.
    pub fn good_predicted_bad(&self) -> f64 {
        self.confusion[1] as f64 / self.n_spots.max(1) as f64
    }
}

/// Network outputs `[n × 5]` for samples (unaugmented), in chunks.
pub fn predict_samples(net: &SpotNet, samples: &[SpotSample], device: &Device) -> Vec<f32> {
    let mut out = Vec::with_capacity(samples.len() * 5);
    for chunk in samples.chunks(256) {
        let x: Vec<f32> = chunk.iter().flat_map(|s| s.input()).collect();
        let y = net.forward(batch_tensor(x, chunk.len(), device));
        out.extend(y.into_data().iter::<f32>());
    }
    out
}

/// Test metrics of network outputs against the samples' truth: a sample is truly good by
/// [`GoodSpotCriteria::truth`] (the paper's definition), predicted good by `criteria` (the network's call,
/// [`GoodSpotCriteria::default`] in the product).
pub fn metrics(samples: &[SpotSample], outputs: &[f32], criteria: &GoodSpotCriteria) -> SpotMetrics {
    let truth = GoodSpotCriteria::truth();
    let mut confusion = [0usize; 4];
    let (mut n_good, mut pos, mut sim, mut area, mut area_s, mut asp) = (0usize, 0.0, 0.0, 0.0, 0.0, 0.0);
    let mut pairs: Vec<(f64, f64)> = Vec::new();
    for (s, o) in samples.iter().zip(outputs.chunks_exact(5)) {
        let t = &s.truth;
        let truly = truth.is_good(t.sim, t.mu_x, t.mu_y);
        let (px, py) = (o[1] as f64 * 2.0 * POS_RANGE - POS_RANGE, o[2] as f64 * 2.0 * POS_RANGE - POS_RANGE);
        let pred = criteria.is_good(o[0] as f64, px, py);
        confusion[match (truly, pred) {
            (true, true) => 0,
            (true, false) => 1,
            (false, true) => 2,
            (false, false) => 3,
        }] += 1;
        if truly {
            n_good += 1;
            pos += ((px - t.mu_x).powi(2) + (py - t.mu_y).powi(2)).sqrt();
            sim += (o[0] as f64 - t.sim).abs();
            let a_true = t.area().min(AREA_FULL);
            area += (o[4] as f64 * AREA_FULL - a_true).abs();
            area_s += (o[4] as f64 - a_true / AREA_FULL).abs();
            asp += (o[3] as f64 - t.asp()).abs();
            pairs.push((o[1] as f64, pos_star(t.mu_x)));
            pairs.push((o[2] as f64, pos_star(t.mu_y)));
        }
    }
    let n = n_good.max(1) as f64;
    let mean = pairs.iter().map(|p| p.1).sum::<f64>() / pairs.len().max(1) as f64;
    let ss_res: f64 = pairs.iter().map(|(p, t)| (p - t).powi(2)).sum();
    let ss_tot: f64 = pairs.iter().map(|(_, t)| (t - mean).powi(2)).sum();
    SpotMetrics {
        n_spots: samples.len(),
        n_good,
        pos_error_px: pos / n,
        r2_pos: if ss_tot > 0.0 { 1.0 - ss_res / ss_tot } else { f64::NAN },
        mae_sim: sim / n,
        mae_area_px2: area / n,
        mae_area_star: area_s / n,
        mae_asp: asp / n,
        confusion,
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

/// Trains a [`SpotNet`] on `train` (drawn evenly over the Sim bins each epoch), reporting every epoch
/// (with metrics on `test` when not empty). `progress` also gets (batches done, batches per epoch) and
/// returns false to stop. Returns the network of the last epoch on `device` (inference mode).
pub fn train_spotnet(
    train: &[SpotSample],
    test: &[SpotSample],
    settings: &SpotTrainSettings,
    device: &Device,
    criteria: &GoodSpotCriteria,
    mut on_epoch: impl FnMut(&SpotEpoch),
    mut on_batch: impl FnMut(usize, usize),
) -> Result<SpotNet> {
    settings.validate()?;
    if train.is_empty() {
        return Err(LaueError::settings(Stage::Training, "spot network: no training sample"));
    }
    let mut bins: Vec<Vec<usize>> = vec![Vec::new(); SIM_BINS];
    for (i, s) in train.iter().enumerate() {
        bins[s.bin()].push(i);
    }
    let start = now();
    let ad = device.clone().autodiff();
    ad.seed(settings.seed);
    settings.network.validate()?;
    let mut net = settings.network.init(&ad);
    let mut optim = AdamConfig::new().with_epsilon(1e-7).init();
    let mut rng = ChaCha8Rng::seed_from_u64(settings.seed ^ 0x5107);
    let active_bins = bins.iter().filter(|b| !b.is_empty()).count();
    let total_steps = settings.epochs * (active_bins * settings.per_bin).div_ceil(settings.batch_size);
    let mut step = 0usize;
    // Normalised so that the loss stays a mean absolute error when all weights are 1.
    let pw = settings.pos_weight as f32;
    let norm = 5.0 / (3.0 + 2.0 * pw);
    let loss_weights = [norm, pw * norm, pw * norm, norm, norm];
    for epoch in 1..=settings.epochs {
        let mut draw: Vec<usize> = Vec::with_capacity(SIM_BINS * settings.per_bin);
        for b in bins.iter().filter(|b| !b.is_empty()) {
            if b.len() >= settings.per_bin {
                draw.extend(b.choose_multiple(&mut rng, settings.per_bin));
            } else {
                draw.extend((0..settings.per_bin).map(|_| b[rng.random_range(0..b.len())]));
            }
        }
        draw.shuffle(&mut rng);
        let n_batches = draw.len().div_ceil(settings.batch_size);
        let mut loss_sum = 0.0;
        for (bi, chunk) in draw.chunks(settings.batch_size).enumerate() {
            let mut x = Vec::with_capacity(chunk.len() * CUTOUT * CUTOUT);
            let mut y = Vec::with_capacity(chunk.len() * 5);
            for &i in chunk {
                let k = rng.random_range(0..8u8);
                let r = if rng.random_bool(settings.unshifted_share.clamp(0.0, 1.0)) {
                    0
                } else if rng.random_bool(settings.wide_shift_share.clamp(0.0, 1.0)) {
                    2
                } else {
                    1
                };
                let (dx, dy) = (rng.random_range(-r..=r), rng.random_range(-r..=r));
                let (input, target) = augment(&train[i], k, dx, dy);
                x.extend(input);
                y.extend(target);
            }
            let xt = batch_tensor(x, chunk.len(), &ad);
            let yt = Tensor::<2>::from_data(TensorData::new(y, [chunk.len(), 5]), &ad);
            let w = Tensor::<2>::from_data(TensorData::new(loss_weights.to_vec(), [1, 5]), &ad);
            let loss = ((net.forward(xt) - yt).abs() * w).mean();
            loss_sum += loss.clone().detach().into_data().iter::<f64>().next().unwrap_or(f64::NAN)
                * chunk.len() as f64;
            let grads = GradientsParams::from_grads(loss.backward(), &net);
            let lr = cosine_rate(settings.learning_rate, settings.final_learning_rate, step, total_steps);
            net = optim.step(lr, net, grads);
            step += 1;
            on_batch(bi + 1, n_batches);
        }
        let test_metrics = if test.is_empty() {
            None
        } else {
            let valid = net.valid();
            Some(metrics(test, &predict_samples(&valid, test, device), criteria))
        };
        on_epoch(&SpotEpoch {
            epoch,
            train_mae: loss_sum / draw.len() as f64,
            test: test_metrics,
            seconds: start.map_or(0.0, |s| s.elapsed().as_secs_f64()),
        });
    }
    Ok(net.valid())
}

/// Learning rate at `step` of `total`: half a cosine from `first` down to `last`.
pub fn cosine_rate(first: f64, last: f64, step: usize, total: usize) -> f64 {
    let t = if total > 1 { step.min(total - 1) as f64 / (total - 1) as f64 } else { 1.0 };
    last + 0.5 * (first - last) * (1.0 + (std::f64::consts::PI * t).cos())
}

/// Counts of samples per Sim bin.
pub fn bin_counts(samples: &[SpotSample]) -> [usize; SIM_BINS] {
    let mut c = [0usize; SIM_BINS];
    for s in samples {
        c[s.bin()] += 1;
    }
    c
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Good spots are paired with the reference peak nearest their fitted position (not the network's), and the
    /// network's and the fit's mean distances to it are reported; bad spots and unpaired ones do not count.
    #[test]
    fn reference_agreement_pairs_by_the_fit_and_measures_the_network() {
        let truth = |sim: f64, mu_x: f64, mu_y: f64| SpotTruth {
            sim0: 0.0,
            sim,
            mu_x,
            mu_y,
            sigma1: 1.0,
            sigma2: 1.0,
            amplitude: 1000.0,
            background: 10.0,
        };
        let s = |t| SpotSample { window: Vec::new(), truth: t };
        let samples = [
            s(truth(0.9, 0.2, 0.0)),
            s(truth(0.9, -0.1, 0.3)),
            s(truth(0.1, 0.0, 0.0)),
            s(truth(0.9, 0.0, 0.0)),
        ];
        let spots = [(100.0, 50.0), (200.0, 80.0), (300.0, 90.0), (400.0, 10.0)];
        // The network's offsets (Pos* = (μ + 1.1) / 2.2): (0.3, 0.0), (−0.1, 0.3), anything, anything.
        let pos = |mu: f64| ((mu + POS_RANGE) / (2.0 * POS_RANGE)) as f32;
        let outputs = [
            [0.9, pos(0.3), pos(0.0), 0.5, 0.2],
            [0.9, pos(-0.1), pos(0.3), 0.5, 0.2],
            [0.1, 0.5, 0.5, 0.5, 0.2],
            [0.9, 0.5, 0.5, 0.5, 0.2],
        ]
        .concat();
        // LaueTools' peaks: 0.1 px from the first fit, on the second, one by the bad spot, none near the fourth.
        let reference = [(100.3, 50.0), (199.9, 80.3), (300.0, 90.0), (401.0, 10.0)];
        let r = reference_agreement(&samples, &spots, &outputs, &reference, &GoodSpotCriteria::truth(), 0.5);
        assert_eq!((r.good, r.matched), (3, 2), "{r:?}");
        assert!((r.fit_px - 0.05).abs() < 1e-9, "{r:?}");
        assert!((r.network_px - 0.0).abs() < 1e-6, "{r:?}");
    }

    /// A clean elongated Gaussian at (μ_x, μ_y) = (0.6, −0.3) from s on a 37 × 37 window.
    fn sample() -> SpotSample {
        let h = WINDOW_HALF as f64;
        let w: Vec<f32> = (0..WINDOW * WINDOW)
            .map(|i| {
                let (dy, dx) = ((i / WINDOW) as f64 - h + 0.3, (i % WINDOW) as f64 - h - 0.6);
                (50.0 + 3000.0 * (-0.5 * (dx * dx / 1.0 + dy * dy / 4.0)).exp()) as f32
            })
            .collect();
        SpotSample::from_window(w, 65535.0)
    }

    #[test]
    fn augmented_targets_follow_the_spot() {
        let s = sample();
        assert!((s.truth.mu_x - 0.6).abs() < 1e-3 && (s.truth.mu_y + 0.3).abs() < 1e-3, "{:?}", s.truth);
        for k in 0..8u8 {
            for (dx, dy) in [(0, 0), (1, -2), (-2, 1)] {
                let (input, target) = augment(&s, k, dx, dy);
                // Refit the augmented (normalised) cut-out, lifted off zero so that no pixel is masked.
                let counts: Vec<f64> = input.iter().map(|&v| 10.0 + 1000.0 * v as f64).collect();
                let t = fit_window(&counts, &[true; CUTOUT * CUTOUT], 1e9);
                let want = t.target();
                for j in 1..5 {
                    assert!(
                        (target[j] - want[j]).abs() < 2e-3,
                        "k={k} shift=({dx},{dy}) {target:?} vs {want:?}"
                    );
                }
            }
        }
    }

    #[test]
    fn learning_rate_decays_from_first_to_last() {
        assert!((cosine_rate(1e-3, 1e-5, 0, 101) - 1e-3).abs() < 1e-15);
        assert!((cosine_rate(1e-3, 1e-5, 50, 101) - 5.05e-4).abs() < 1e-12);
        assert!((cosine_rate(1e-3, 1e-5, 100, 101) - 1e-5).abs() < 1e-15);
    }

    #[test]
    fn metrics_of_perfect_outputs_are_zero_errors() {
        let s = vec![sample()];
        let out = s[0].truth.target();
        let m = metrics(&s, &out, &GoodSpotCriteria::default());
        assert_eq!(m.n_good, 1);
        assert_eq!(m.confusion, [1, 0, 0, 0]);
        assert!(m.pos_error_px < 1e-5 && m.mae_sim < 1e-6 && m.mae_asp < 1e-6, "{m:?}");
    }
}
