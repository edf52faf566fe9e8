//! The five spot descriptors, from a fit of α·g + β to the cut-out (the paper's ground truth).
//!
//! The cut-out is scaled to [0, 1] by its valid pixels (see [`Cutout::normalised`]) and fitted with our
//! LaueTools-style Levenberg–Marquardt ([`crate::peaks::fit::fit_box`]): β + α·exp(−½(a²/σ₁² + b²/σ₂²)) with
//! (a, b) the offsets from the centre μ rotated by θ — the paper's axis-aligned Gaussian when θ = 0; σ₁, σ₂
//! (px) are the widths along the fitted axes, so the aspect ratio and area do not depend on the spot's direction.
//! Invalid pixels (beyond the frame, masked, saturated) get no weight.
//!
//! With μ the fitted centre relative to the spot pixel s (px, x = column, y = row) and F the fitted function:
//! - Sim⁰ = cosine similarity of the scaled cut-out and F over the valid pixels, both less the fitted
//!   background β (with β kept, the shared constant makes pure noise look like its fit: Sim⁰ ≈ 0.97); Sim = 0
//!   if Sim⁰ ≤ 0.85, else (Sim⁰ − 0.85)/0.15;
//! - Pos = s + μ; Pos* = clip((μ + 1.1)/2.2, 0, 1) per coordinate;
//! - Asp = min σ / max σ; Area = π σ₁ σ₂ (px²), Area* = min(Area / 5π, 1).

use serde::{Deserialize, Serialize};

use super::cutout::{CENTRE, CUTOUT, Cutout};
use crate::peaks::fit::{Profile, fit_box};

/// Descriptors of one spot.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Descriptors {
    /// similarity to a 2D Gaussian, rescaled to [0, 1] (0: Sim⁰ ≤ 0.85)
    pub sim: f64,
    /// Pos*: the centre's offset from the spot pixel mapped from [−1.1, 1.1] px to [0, 1] (x = column, y = row)
    pub pos_star: [f64; 2],
    /// min σ / max σ
    pub asp: f64,
    /// min(π σ₁ σ₂ / 5π, 1)
    pub area_star: f64,
}

impl Descriptors {
    /// The network's target / output vector (Sim, Pos*₁, Pos*₂, Asp, Area*).
    pub fn to_vector(&self) -> [f32; 5] {
        [
            self.sim as f32,
            self.pos_star[0] as f32,
            self.pos_star[1] as f32,
            self.asp as f32,
            self.area_star as f32,
        ]
    }

    pub fn from_vector(v: [f32; 5]) -> Self {
        Descriptors {
            sim: v[0] as f64,
            pos_star: [v[1] as f64, v[2] as f64],
            asp: v[3] as f64,
            area_star: v[4] as f64,
        }
    }

    /// The centre's offset μ from the spot pixel (px, x = column, y = row): Pos* mapped back (exact inside
    /// ±1.1 px, clipped there beyond).
    pub fn offset_px(&self) -> [f64; 2] {
        [2.2 * self.pos_star[0] - 1.1, 2.2 * self.pos_star[1] - 1.1]
    }

    /// Area (px²) from Area* (exact below 5π px², clipped there above).
    pub fn area_px2(&self) -> f64 {
        self.area_star * 5.0 * std::f64::consts::PI
    }

    /// Position in LaueTools' convention (x = column, first pixel centre (1, 1)) of a spot whose cut-out was
    /// centred on pixel `s` (0-based column, row).
    pub fn position(&self, s: (i64, i64)) -> [f64; 2] {
        let [dx, dy] = self.offset_px();
        [s.0 as f64 + 1.0 + dx, s.1 as f64 + 1.0 + dy]
    }
}

/// The paper's "good spot": Sim > `min_sim` (0.5) and ‖Pos − s‖ ≤ `max_offset_px` (0.9 px).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct GoodSpot {
    pub min_sim: f64,
    pub max_offset_px: f64,
}

impl Default for GoodSpot {
    fn default() -> Self {
        GoodSpot { min_sim: 0.5, max_offset_px: 0.9 }
    }
}

impl GoodSpot {
    pub fn is_good(&self, d: &Descriptors) -> bool {
        let [dx, dy] = d.offset_px();
        d.sim > self.min_sim && dx.hypot(dy) <= self.max_offset_px
    }
}

/// The fitted ground truth of one cut-out: its descriptors and the unclipped values behind them.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct FitDescriptors {
    pub descriptors: Descriptors,
    /// cosine similarity before rescaling
    pub sim0: f64,
    /// fitted centre minus the spot pixel (px, x = column, y = row), unclipped
    pub offset_px: [f64; 2],
    /// fitted widths (px), larger first
    pub sigma_px: [f64; 2],
    /// π σ₁ σ₂ (px²), unclipped
    pub area_px2: f64,
    /// fitted amplitude α and background β (scaled cut-out units)
    pub amplitude: f64,
    pub background: f64,
}

/// Fits α·g + β to a cut-out and derives the descriptors. `xtol`: relative step tolerance of the fit (1e-6
/// for ground truth; LaueTools' peak search uses 1e-3).
pub fn fit_descriptors(c: &Cutout, xtol: f64) -> FitDescriptors {
    let scaled = c.normalised();
    // fit_box gives no weight to values ≤ 0: lift the valid pixels to [1, 2] and put invalid ones at 0.
    let lifted: Vec<f64> =
        scaled.iter().zip(&c.valid).map(|(v, ok)| if *ok { v + 1.0 } else { 0.0 }).collect();
    let fit = fit_box(&lifted, CUTOUT, Profile::Gaussian, xtol, f64::INFINITY);
    let [h, amp, uc, vc, s1, s2, theta] = fit.params;
    let (sa, sb) = (s1.abs() + 1e-6, s2.abs() + 1e-6);
    let (st, ct) = theta.to_radians().sin_cos();
    // Cosine similarity over the valid pixels between the scaled cut-out and the fitted function (both back in
    // [0, 1] units: the lift of 1 removed from the background).
    let (mut dot, mut nn, mut ff) = (0.0, 0.0, 0.0);
    for r in 0..CUTOUT {
        for col in 0..CUTOUT {
            let i = r * CUTOUT + col;
            if !c.valid[i] {
                continue;
            }
            let (du, dv) = (uc - r as f64, vc - col as f64);
            let a = du * ct - dv * st;
            let b = du * st + dv * ct;
            // Both without the fitted background β: a constant shared by cut-out and fit would make any
            // cut-out (pure noise included) look similar to its fit.
            let f = amp * (-0.5 * (a * a / (sa * sa) + b * b / (sb * sb))).exp();
            let v = scaled[i] - (h - 1.0);
            dot += v * f;
            nn += v * v;
            ff += f * f;
        }
    }
    let sim0 = if nn > 0.0 && ff > 0.0 { dot / (nn.sqrt() * ff.sqrt()) } else { 0.0 };
    let sim = if sim0 <= 0.85 { 0.0 } else { ((sim0 - 0.85) / 0.15).min(1.0) };
    let offset = [vc - CENTRE as f64, uc - CENTRE as f64];
    let pos_star = offset.map(|m| ((m + 1.1) / 2.2).clamp(0.0, 1.0));
    let (big, small) = if sa >= sb { (sa, sb) } else { (sb, sa) };
    let area = std::f64::consts::PI * sa * sb;
    FitDescriptors {
        descriptors: Descriptors {
            sim,
            pos_star,
            asp: small / big,
            area_star: (area / (5.0 * std::f64::consts::PI)).min(1.0),
        },
        sim0,
        offset_px: offset,
        sigma_px: [big, small],
        area_px2: area,
        amplitude: amp,
        background: h - 1.0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spotnet::cutout::CUTOUT;
    use rand::SeedableRng;
    use rand_distr::{Distribution, Normal};

    /// A cut-out of a rotated Gaussian spot (centre offset (dx, dy) px from s, widths σ₁ ≥ σ₂, angle θ) on a
    /// background, with Gaussian noise of `noise` counts.
    #[allow(clippy::too_many_arguments)]
    fn spot(dx: f64, dy: f64, s1: f64, s2: f64, theta_deg: f64, peak: f64, noise: f64, seed: u64) -> Cutout {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
        let n = Normal::new(0.0, noise.max(1e-12)).unwrap();
        let (st, ct) = theta_deg.to_radians().sin_cos();
        let mut pixels = Vec::with_capacity(CUTOUT * CUTOUT);
        for r in 0..CUTOUT {
            for c in 0..CUTOUT {
                let (x, y) = (c as f64 - 16.0 - dx, r as f64 - 16.0 - dy);
                let a = x * ct + y * st;
                let b = -x * st + y * ct;
                let g = (-0.5 * (a * a / (s1 * s1) + b * b / (s2 * s2))).exp();
                pixels.push(100.0 + peak * g + if noise > 0.0 { n.sample(&mut rng) } else { 0.0 });
            }
        }
        Cutout { s: (500, 600), valid: vec![true; pixels.len()], pixels, n_invalid: 0 }
    }

    #[test]
    fn a_clean_gaussian_gives_its_own_descriptors() {
        let c = spot(0.3, -0.45, 2.0, 1.0, 30.0, 1000.0, 0.0, 0);
        let f = fit_descriptors(&c, 1e-8);
        let d = f.descriptors;
        assert!(
            (f.offset_px[0] - 0.3).abs() < 1e-4 && (f.offset_px[1] + 0.45).abs() < 1e-4,
            "{:?}",
            f.offset_px
        );
        assert!((f.sigma_px[0] - 2.0).abs() < 1e-4 && (f.sigma_px[1] - 1.0).abs() < 1e-4, "{:?}", f.sigma_px);
        assert!((d.asp - 0.5).abs() < 1e-4);
        assert!((f.area_px2 - 2.0 * std::f64::consts::PI).abs() < 1e-3);
        assert!((d.area_star - 0.4).abs() < 1e-4);
        assert!((d.pos_star[0] - 1.4 / 2.2).abs() < 1e-4 && (d.pos_star[1] - 0.65 / 2.2).abs() < 1e-4);
        assert!(f.sim0 > 0.9999 && d.sim > 0.999, "sim0 {}", f.sim0);
        // Back to LaueTools' convention: s = (500, 600) 0-based → (501.3, 600.55).
        let [x, y] = d.position(c.s);
        assert!((x - 501.3).abs() < 1e-4 && (y - 600.55).abs() < 1e-4);
        assert!(GoodSpot::default().is_good(&d));
    }

    #[test]
    fn noise_lowers_the_similarity_and_a_flat_cutout_is_bad() {
        let clean = fit_descriptors(&spot(0.0, 0.0, 1.5, 1.5, 0.0, 1000.0, 5.0, 1), 1e-6).descriptors;
        let weak = fit_descriptors(&spot(0.0, 0.0, 1.5, 1.5, 0.0, 60.0, 10.0, 2), 1e-6).descriptors;
        let flat = fit_descriptors(&spot(0.0, 0.0, 1.5, 1.5, 0.0, 0.0, 10.0, 3), 1e-6).descriptors;
        assert!(clean.sim > 0.9, "clean {}", clean.sim);
        assert!(weak.sim < clean.sim, "weak {} vs clean {}", weak.sim, clean.sim);
        assert!(flat.sim < 0.2, "noise only {}", flat.sim);
        assert!(!GoodSpot::default().is_good(&flat));
    }

    #[test]
    fn a_doublet_is_less_gaussian_than_a_single_spot() {
        let one = spot(0.0, 0.0, 1.2, 1.2, 0.0, 1000.0, 3.0, 4);
        let mut two = spot(-2.5, 0.0, 1.2, 1.2, 0.0, 1000.0, 3.0, 5);
        let other = spot(2.5, 0.0, 1.2, 1.2, 0.0, 900.0, 0.0, 6);
        for (a, b) in two.pixels.iter_mut().zip(&other.pixels) {
            *a += b - 100.0;
        }
        let d1 = fit_descriptors(&one, 1e-6).descriptors;
        let d2 = fit_descriptors(&two, 1e-6).descriptors;
        assert!(d1.sim > 0.95 && d2.sim < d1.sim - 0.2, "single {} doublet {}", d1.sim, d2.sim);
    }
}
