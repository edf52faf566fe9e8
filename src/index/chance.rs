//! The chance level of indexing: the matching rate that peaks with no crystal behind them reach.
//!
//! The indexer always finds *some* orientation that explains a few spots: with many peaks on the detector
//! and a tolerance of a tenth of a degree, a search over thousands of candidate orientations followed by a
//! refinement that pulls in nearby spots makes random peaks look like a grain (2000 uniformly random
//! peaks were reported as a Ge grain at 5.1 %). So every grain is compared with chance:
//!
//! - **Chance is simulated**, for the grain's material, the detector geometry and band, the number of
//!   spots the search had, and the request's tolerances: [`TRIALS`] sets of uniformly random peaks on the
//!   detector frame (random intensities, so random pairs lead the search) are indexed by the same search
//!   (same pairs, candidates, matching and refinement, one grain, no minimum rate), widened to as many pair
//!   spots as the reported search had reached when it asked (random peaks always look poor, and searched
//!   to the 50-spot limit a SiC-6H trial cost 7 s with its long-c angle table, for a grain found at 30). Each trial gives its best
//!   matching rate and matched count. Seeds are fixed: the same request gives the same chance level.
//! - **The threshold** is the 99 % upper prediction bound of one more random trial, estimated from the
//!   [`TRIALS`] trials: mean + t₀.₉₉,₇ · s · √(1 + 1/8) = mean + 3.18 s (Student's t with 7 degrees of
//!   freedom, s the trials' standard deviation), and at least the largest trial, for both the rate and the
//!   matched count. The plain normal quantile (mean + 2.33 s) ignores that s itself comes from 8 trials: in
//!   a crowded two-phase list (1 100 random peaks, `tests/index_nn_pipeline.rs`) it let an 11-spot Si
//!   "grain" of random peaks through at 10.0 % against a threshold of 9.8 %.
//! - **A grain is reported only when clearly above chance**: its matching rate and its matched count both
//!   exceed their thresholds; otherwise the search stops there (no grain). Each reported grain carries its
//!   chance level ([`ChanceLevel`], JSON field `chance`).
//! - **Cached** per (material, geometry, band, settings, spot count rounded up to within 6 %), process-wide,
//!   so a scan computes it once per spot-count bucket; rounding up makes the threshold a little stricter.
//! - **A bound first** ([`chance_bound`]): before simulating, an upper bound of what chance can reach is
//!   computed in microseconds. A grain above the bound is reported with it (`trials: 0`); only a grain below
//!   it pays for the trials (about 0.5 s the first time for a pattern of 100 spots). The bound: where the
//!   detector packs random peaks most densely, a simulated spot finds a random peak within the widest
//!   matching tolerance with probability p = 1 − exp(−λ), λ the expected random peaks in that tolerance cone;
//!   the best of C candidate orientations, each with n simulated spots, matches at most a fraction
//!   p + √(ln(100 C) / 2n) of them but with probability 1 % (Hoeffding's inequality and a union bound over
//!   the candidates, C = 10⁶ to cover any search), and at most that many spots.

use std::collections::HashMap;
use std::sync::Mutex;

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use super::{Experiment, ExperimentalSpot, IndexSettings};
use crate::crystal::Material;
use crate::error::Result;

/// Sets of random peaks indexed to estimate chance.
pub const TRIALS: usize = 8;
/// The 99 % one-sided upper prediction bound of one more trial from [`TRIALS`] = 8 trials, in units of
/// their standard deviation: t₀.₉₉ with 7 degrees of freedom (2.998) × √(1 + 1/8).
const PREDICTION_99: f64 = 2.998 * 1.060_660_171_779_821_2;
const _: () = assert!(TRIALS == 8, "PREDICTION_99 is the bound for 8 trials");
/// Entries kept in the process-wide cache before it is emptied.
const CACHE_ENTRIES: usize = 4096;

/// What random peaks give: the matching rate and matched count of the best grain the search finds in
/// uniformly random peaks, and the thresholds a real grain must exceed. With `trials: 0` the values are the
/// analytic bound of [`chance_bound`] (the expected rate where random peaks are densest, and the bound as
/// thresholds), not simulated.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct ChanceLevel {
    /// spots in each random set (the spots the search had, rounded up to within 6 %)
    pub n_spots: usize,
    /// random sets indexed
    pub trials: usize,
    /// mean matching rate of the best grain in random peaks (%)
    pub matching_rate: f64,
    /// 99 % upper prediction bound of that rate (%): a grain must exceed it
    pub matching_rate_threshold: f64,
    /// mean matched count of the best grain in random peaks
    pub matched: f64,
    /// 99 % upper prediction bound of that count: a grain must exceed it
    pub matched_threshold: f64,
}

impl ChanceLevel {
    /// Whether a grain of `matching_rate` (%) with `matched` spots is clearly above chance.
    pub fn is_exceeded_by(&self, matching_rate: f64, matched: usize) -> bool {
        matching_rate > self.matching_rate_threshold && matched as f64 > self.matched_threshold
    }
}

fn cache() -> &'static Mutex<HashMap<String, ChanceLevel>> {
    static CACHE: std::sync::OnceLock<Mutex<HashMap<String, ChanceLevel>>> = std::sync::OnceLock::new();
    CACHE.get_or_init(|| Mutex::new(HashMap::new()))
}

/// `n` rounded up to within 6 % (exact up to 32), so nearby spot counts share a chance level.
pub fn bucket(n: usize) -> usize {
    if n <= 32 {
        return n;
    }
    let step = 1usize << (usize::BITS - 1 - n.leading_zeros()).saturating_sub(4);
    n.div_ceil(step) * step
}

/// The chance level for `material` with `n_spots` spots in `exp` under `settings` (cached).
pub fn chance_level(
    material: &Material,
    exp: &Experiment,
    n_spots: usize,
    settings: &IndexSettings,
    pair_spots: usize,
) -> Result<ChanceLevel> {
    let n = bucket(n_spots);
    let key = format!(
        "{}|{:?}|{:?}|{:?}|{:?}|{n}|{pair_spots}",
        material.name,
        material.lattice.params(),
        material.rule.name,
        exp,
        settings
    );
    if let Ok(c) = cache().lock()
        && let Some(level) = c.get(&key)
    {
        return Ok(*level);
    }
    let level = simulate_chance(material, exp, n, settings, pair_spots)?;
    if let Ok(mut c) = cache().lock() {
        if c.len() >= CACHE_ENTRIES {
            c.clear();
        }
        c.insert(key, level);
    }
    Ok(level)
}

/// Candidate orientations the bound allows for (more than any search examines).
const BOUND_CANDIDATES: f64 = 1.0e6;
/// Grid of detector cells on which the densest packing of random peaks is looked for.
const BOUND_GRID: usize = 32;

/// An upper bound of the matching that `n_spots` uniformly random peaks reach in `exp` under `settings`, for a
/// grain with `n_simulated` simulated spots (module docs): a [`ChanceLevel`] with `trials: 0`, whose thresholds
/// are the bound. `None` when the geometry gives no bound (a degenerate calibration).
pub fn chance_bound(
    exp: &Experiment,
    n_spots: usize,
    n_simulated: usize,
    settings: &IndexSettings,
) -> Option<ChanceLevel> {
    let cal = &exp.calibration;
    let tol_deg = settings
        .list_matching_tol_angles
        .iter()
        .copied()
        .chain([settings.matchingrate_angle_tol])
        .filter(|t| t.is_finite())
        .fold(0.0f64, f64::max);
    if n_simulated == 0 || tol_deg <= 0.0 || cal.rows == 0 || cal.cols == 0 {
        return None;
    }
    let cap = std::f64::consts::PI * tol_deg.to_radians().powi(2); // solid angle of the tolerance cone (sr)
    let q = |x: f64, y: f64| ExperimentalSpot::from_pixel(x, y, 1.0, cal).q_unit;
    let (cw, ch) = (cal.cols as f64 / BOUND_GRID as f64, cal.rows as f64 / BOUND_GRID as f64);
    let cell_pixels = cw * ch;
    let total_pixels = cal.cols as f64 * cal.rows as f64;
    let mut lambda_max = 0.0f64;
    for i in 0..BOUND_GRID {
        for j in 0..BOUND_GRID {
            let (x0, y0) = (0.5 + i as f64 * cw, 0.5 + j as f64 * ch);
            let (a, b, c, d) = (q(x0, y0), q(x0 + cw, y0), q(x0 + cw, y0 + ch), q(x0, y0 + ch));
            // the cell's solid angle in q̂ directions: two spherical triangles, ≈ half the cross products
            let area = 0.5 * ((b - a).cross(&(c - a)).norm() + (c - a).cross(&(d - a)).norm());
            if !(area.is_finite() && area > 0.0) {
                return None;
            }
            let density = n_spots as f64 * (cell_pixels / total_pixels) / area; // random peaks per sr
            lambda_max = lambda_max.max(density * cap);
        }
    }
    let p = 1.0 - (-lambda_max).exp();
    let n = n_simulated as f64;
    let t = ((100.0 * BOUND_CANDIDATES).ln() / (2.0 * n)).sqrt();
    let fraction = (p + t).min(1.0);
    Some(ChanceLevel {
        n_spots,
        trials: 0,
        matching_rate: 100.0 * p,
        matching_rate_threshold: 100.0 * fraction,
        matched: n * p,
        matched_threshold: (n * fraction).min(n_spots as f64),
    })
}

/// Indexes [`TRIALS`] sets of `n` uniformly random peaks on the frame with the same search.
fn simulate_chance(
    material: &Material,
    exp: &Experiment,
    n: usize,
    settings: &IndexSettings,
    pair_spots: usize,
) -> Result<ChanceLevel> {
    let trial_settings = IndexSettings {
        nbgrainstofind: 1,
        minimumnumbermatches: 0,
        min_matching_rate: 0.0,
        share_spots: false,
        ..settings.clone()
    };
    let cal = &exp.calibration;
    let (cols, rows) = (cal.cols as f64, cal.rows as f64);
    let mut rates = Vec::with_capacity(TRIALS);
    let mut counts = Vec::with_capacity(TRIALS);
    for trial in 0..TRIALS {
        let mut rng = ChaCha8Rng::seed_from_u64(0x4c41_5545 ^ ((n as u64) << 8) ^ trial as u64);
        let spots: Vec<ExperimentalSpot> = (0..n)
            .map(|_| {
                // LaueTools' pixel convention: the first pixel centre is (1, 1).
                let x = 0.5 + rng.random::<f64>() * cols;
                let y = 0.5 + rng.random::<f64>() * rows;
                ExperimentalSpot::from_pixel(x, y, 1.0 + 1000.0 * rng.random::<f64>(), cal)
            })
            .collect();
        let r = super::search(
            &spots,
            std::slice::from_ref(material),
            exp,
            &trial_settings,
            None,
            false,
            Some(pair_spots),
        )?;
        let (rate, count) = r.grains.first().map_or((0.0, 0.0), |g| (g.matching_rate, g.spots.len() as f64));
        rates.push(rate);
        counts.push(count);
    }
    let (rate_mean, rate_threshold) = mean_and_p99(&rates);
    let (count_mean, count_threshold) = mean_and_p99(&counts);
    Ok(ChanceLevel {
        n_spots: n,
        trials: TRIALS,
        matching_rate: rate_mean,
        matching_rate_threshold: rate_threshold,
        matched: count_mean,
        matched_threshold: count_threshold,
    })
}

/// Mean and the 99 % upper prediction bound max(mean + 3.18 s, largest value) of [`TRIALS`] values.
fn mean_and_p99(v: &[f64]) -> (f64, f64) {
    if v.is_empty() {
        return (0.0, 0.0);
    }
    let n = v.len() as f64;
    let mean = v.iter().sum::<f64>() / n;
    let var = if v.len() > 1 { v.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1.0) } else { 0.0 };
    let max = v.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    (mean, (mean + PREDICTION_99 * var.sqrt()).max(max))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_round_up_within_six_percent() {
        assert_eq!(bucket(7), 7);
        assert_eq!(bucket(32), 32);
        for n in [33usize, 97, 181, 1000, 2000, 20_000] {
            let b = bucket(n);
            assert!(b >= n && (b - n) as f64 <= 0.0625 * n as f64, "{n} → {b}");
        }
        assert_eq!(mean_and_p99(&[1.0, 1.0, 1.0]), (1.0, 1.0));
        let (m, t) = mean_and_p99(&[1.0, 2.0, 3.0]);
        assert!((m - 2.0).abs() < 1e-12 && (t - (2.0 + PREDICTION_99)).abs() < 1e-12);
    }
}
