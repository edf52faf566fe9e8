//! Ground truth of a cut-out: our fit of α·g + β to its pixels and the five descriptors it gives.
//!
//! The fit is [`crate::peaks::fit::fit_box`] (a rotated 2D Gaussian plus a constant, Levenberg–Marquardt)
//! on the whole 32 × 32 window, started on the window's centre s (the spot the cut-out is about, not the
//! window's brightest pixel, which on crowded patterns is often a neighbour's), at a tighter tolerance than LaueTools' peak search (xtol 1e-6) and with the
//! analytic θ derivative ([`ThetaDerivative::Analytic`]), so that it runs to the least-squares minimum
//! instead of stopping where LaueTools' peak search stops. Its
//! rotation angle is one parameter more than the paper's axis-aligned g; σ1, σ2 are then the principal
//! widths, which is what Asp and Area describe. Pixels at or above `saturation`, and invalid ones (stored
//! as 0), get no weight.
//!
//! Sim⁰ is the cosine similarity, over the weighted pixels, between the cut-out minus the fitted constant
//! β and the fitted α·g: the background is taken out of both so that a flat noisy window does not look
//! "similar" just because both vectors share a large constant.

use super::cutout::{CUTOUT, Cutout, HALF};
use crate::peaks::fit::{Profile, ThetaDerivative, fit_box_from};

/// Relative tolerance on the fit parameters.
pub const TRUTH_XTOL: f64 = 1e-6;
/// Sim⁰ below this is Sim = 0 (the paper's 0.85).
pub const SIM_FLOOR: f64 = 0.85;
/// Pos* covers μ ∈ [−1.1, 1.1] px.
pub const POS_RANGE: f64 = 1.1;
/// Area* = 1 at Area = 5π px².
pub const AREA_FULL: f64 = 5.0 * std::f64::consts::PI;

/// The fitted spot and its descriptors.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SpotTruth {
    /// raw cosine similarity Sim⁰
    pub sim0: f64,
    /// Sim = 0 if Sim⁰ ≤ 0.85, else (Sim⁰ − 0.85)/0.15
    pub sim: f64,
    /// fitted centre minus s (px): μ_x along columns, μ_y along rows
    pub mu_x: f64,
    pub mu_y: f64,
    /// principal Gaussian widths σ (px), unordered
    pub sigma1: f64,
    pub sigma2: f64,
    /// fitted amplitude α and constant β (counts)
    pub amplitude: f64,
    pub background: f64,
}

/// Sim of a raw cosine similarity.
pub fn sim_of(sim0: f64) -> f64 {
    if sim0.is_finite() && sim0 > SIM_FLOOR { ((sim0 - SIM_FLOOR) / (1.0 - SIM_FLOOR)).min(1.0) } else { 0.0 }
}

/// Pos* of an offset μ (px).
pub fn pos_star(mu: f64) -> f64 {
    ((mu + POS_RANGE) / (2.0 * POS_RANGE)).clamp(0.0, 1.0)
}

impl SpotTruth {
    /// Asp = min σ / max σ.
    pub fn asp(&self) -> f64 {
        let (a, b) = (self.sigma1.abs(), self.sigma2.abs());
        if a.max(b) > 0.0 { a.min(b) / a.max(b) } else { 0.0 }
    }
    /// Area = π σ1 σ2 (px²).
    pub fn area(&self) -> f64 {
        std::f64::consts::PI * self.sigma1.abs() * self.sigma2.abs()
    }
    /// The network's target (Sim, Pos*_x, Pos*_y, Asp, Area*) for offsets (μ_x, μ_y).
    pub fn target_with_offset(&self, mu_x: f64, mu_y: f64) -> [f32; 5] {
        [
            self.sim as f32,
            pos_star(mu_x) as f32,
            pos_star(mu_y) as f32,
            self.asp() as f32,
            (self.area() / AREA_FULL).min(1.0) as f32,
        ]
    }
    /// The network's target.
    pub fn target(&self) -> [f32; 5] {
        self.target_with_offset(self.mu_x, self.mu_y)
    }
}

/// Fits the cut-out and computes its descriptors. `saturation`: counts at and above which a pixel is
/// saturated (LaueTools' Saturation_value).
pub fn fit_truth(cut: &Cutout, saturation: f64) -> SpotTruth {
    fit_window(&cut.counts, &cut.valid, saturation)
}

/// As [`fit_truth`] on a bare 32 × 32 window of counts and its validity.
pub fn fit_window(counts: &[f64], valid: &[bool], saturation: f64) -> SpotTruth {
    let data: Vec<f64> = counts.iter().zip(valid).map(|(&c, &ok)| if ok { c } else { 0.0 }).collect();
    let centre = Some(HALF * CUTOUT + HALF);
    let fit = fit_box_from(
        &data,
        None,
        centre,
        CUTOUT,
        Profile::Gaussian,
        ThetaDerivative::Analytic,
        TRUTH_XTOL,
        saturation,
    );
    let [h, a, uc, vc, s1, s2, theta] = fit.params;
    let (w1, w2) = (s1.abs() + 1e-6, s2.abs() + 1e-6);
    let (st, ct) = theta.to_radians().sin_cos();
    let (mut dot, mut nd, mut nf) = (0.0, 0.0, 0.0);
    for (i, (&d, &ok)) in data.iter().zip(valid).enumerate() {
        if !ok || d <= 0.0 || d >= saturation {
            continue;
        }
        let (du, dv) = (uc - (i / CUTOUT) as f64, vc - (i % CUTOUT) as f64);
        let p = du * ct - dv * st;
        let q = du * st + dv * ct;
        let f = a * (-0.5 * (p * p / (w1 * w1) + q * q / (w2 * w2))).exp();
        let r = d - h;
        dot += r * f;
        nd += r * r;
        nf += f * f;
    }
    let finite = fit.params.iter().all(|p| p.is_finite());
    let sim0 = if finite && a > 0.0 && nd > 0.0 && nf > 0.0 { dot / (nd * nf).sqrt() } else { 0.0 };
    SpotTruth {
        sim0,
        sim: sim_of(sim0),
        mu_x: if finite { vc - HALF as f64 } else { 0.0 },
        mu_y: if finite { uc - HALF as f64 } else { 0.0 },
        sigma1: if finite { w1 } else { 0.0 },
        sigma2: if finite { w2 } else { 0.0 },
        amplitude: a,
        background: h,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn gaussian_window(mx: f64, my: f64, s1: f64, s2: f64) -> Vec<f64> {
        (0..CUTOUT * CUTOUT)
            .map(|i| {
                let (u, v) = ((i / CUTOUT) as f64, (i % CUTOUT) as f64);
                let (dy, dx) = (u - HALF as f64 - my, v - HALF as f64 - mx);
                100.0 + 2000.0 * (-0.5 * (dx * dx / (s1 * s1) + dy * dy / (s2 * s2))).exp()
            })
            .collect()
    }

    #[test]
    fn a_clean_gaussian_has_sim_one_and_its_own_widths() {
        let w = gaussian_window(0.3, -0.45, 1.2, 2.0);
        let t = fit_window(&w, &vec![true; CUTOUT * CUTOUT], 65535.0);
        assert!((t.sim0 - 1.0).abs() < 1e-9 && (t.sim - 1.0).abs() < 1e-7, "{t:?}");
        assert!((t.mu_x - 0.3).abs() < 1e-5 && (t.mu_y + 0.45).abs() < 1e-5, "{t:?}");
        assert!((t.asp() - 0.6).abs() < 1e-5, "{}", t.asp());
        assert!((t.area() - std::f64::consts::PI * 2.4).abs() < 1e-4);
        let y = t.target();
        assert!((y[1] - (0.3 + 1.1) / 2.2).abs() < 1e-5 && (y[4] - 2.4 / 5.0).abs() < 1e-5, "{y:?}");
    }

    #[test]
    fn the_centre_spot_is_fitted_not_a_brighter_neighbour() {
        // The spot at s (offset 0.2, −0.3 px, σ 1.1) and a neighbour 3× brighter 9 px to its right: the truth
        // is the centre spot's position and widths, and Sim falls below 1 because the neighbour is not modelled.
        let mut w = gaussian_window(0.2, -0.3, 1.1, 1.1);
        let n = gaussian_window(9.0, 0.5, 1.0, 1.0);
        for (a, b) in w.iter_mut().zip(&n) {
            *a += 3.0 * (b - 100.0);
        }
        let t = fit_window(&w, &vec![true; CUTOUT * CUTOUT], 65535.0);
        assert!((t.mu_x - 0.2).abs() < 0.02 && (t.mu_y + 0.3).abs() < 0.02, "{t:?}");
        assert!((t.sigma1 - 1.1).abs() < 0.05 && (t.sigma2 - 1.1).abs() < 0.05, "{t:?}");
        assert!(t.sim0 < 0.6, "{t:?}");
    }

    #[test]
    fn sim_mapping_follows_the_paper() {
        assert_eq!(sim_of(0.85), 0.0);
        assert!((sim_of(0.925) - 0.5).abs() < 1e-12);
        assert_eq!(pos_star(-2.0), 0.0);
        assert!((pos_star(0.0) - 0.5).abs() < 1e-12);
    }
}
