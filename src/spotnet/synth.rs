//! Synthetic spots for training: round, elongated, streaked, doublets, near the frame edge, saturated,
//! noise only and hot pixels, on a flat background with Poisson shot noise and Gaussian read noise.
//!
//! Each is rendered on a [`WINDOW`] × [`WINDOW`] window of counts (s at the centre index [`WINDOW_HALF`];
//! NaN = no data), the window that [`super::train`] augments and crops the 32 × 32 cut-outs from.

use rand::Rng;
use rand_distr::{Distribution, Poisson, StandardNormal};

/// Side of a training window (px): the cut-out plus 2 px each side for shifts, odd so that rotations and
/// reflections about s map it onto itself.
pub const WINDOW: usize = 37;
/// Index of s in a window.
pub const WINDOW_HALF: usize = 18;
/// Counts at and above which synthetic pixels are saturated.
pub const SYNTH_SATURATION: f64 = 65535.0;

/// The kinds of synthetic spots.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SpotKind {
    Round,
    Elongated,
    Streak,
    Doublet,
    Saturated,
    NoiseOnly,
    HotPixel,
}

struct Blob {
    x: f64,
    y: f64,
    s1: f64,
    s2: f64,
    theta: f64,
    amp: f64,
}

fn log_uniform(rng: &mut impl Rng, lo: f64, hi: f64) -> f64 {
    (rng.random_range(lo.ln()..hi.ln())).exp()
}

/// Draws a spot kind with the training mix.
pub fn random_kind(rng: &mut impl Rng) -> SpotKind {
    match rng.random_range(0..100) {
        0..30 => SpotKind::Round,
        30..50 => SpotKind::Elongated,
        50..60 => SpotKind::Streak,
        60..78 => SpotKind::Doublet,
        78..85 => SpotKind::Saturated,
        85..95 => SpotKind::NoiseOnly,
        _ => SpotKind::HotPixel,
    }
}

/// Renders one synthetic window of `kind` (counts, NaN = beyond the frame edge). One in eight windows
/// is cut by a frame edge 2–16 px from s.
pub fn render_window(kind: SpotKind, rng: &mut impl Rng) -> Vec<f32> {
    let background = log_uniform(rng, 20.0, 3000.0);
    let read_noise = rng.random_range(1.0..10.0);
    // Amplitude from a signal-to-noise ratio against the background's shot noise.
    // Up to the brightest spots of a reference crystal (Ge_blanc: peak / √background ≈ 3000).
    let snr = log_uniform(rng, 0.5, 3000.0);
    let amp = snr * (background + read_noise * read_noise).sqrt();
    let c = WINDOW_HALF as f64;
    let mut blobs = Vec::new();
    // Three in four spots have their centre within ±0.6 px of s, as a peak search's brightest pixel
    // does; the others up to ±1.5 px off.
    let reach = if rng.random_bool(0.75) { 0.6 } else { 1.5 };
    let (x, y) = (c + rng.random_range(-reach..reach), c + rng.random_range(-reach..reach));
    let theta = rng.random_range(0.0..std::f64::consts::PI);
    match kind {
        SpotKind::Round | SpotKind::Doublet | SpotKind::Saturated => {
            // Log-uniform: sharp spots (σ ≈ 0.6–0.9 px, as a good crystal on a MarCCD gives) are as frequent as
            // broad ones.
            let s = log_uniform(rng, 0.5, 2.5);
            let amp =
                if kind == SpotKind::Saturated { SYNTH_SATURATION * rng.random_range(1.1..4.0) } else { amp };
            blobs.push(Blob { x, y, s1: s * rng.random_range(0.85..1.15), s2: s, theta, amp });
            if kind == SpotKind::Doublet {
                let d = rng.random_range(1.2..6.0);
                let phi = rng.random_range(0.0..std::f64::consts::TAU);
                let s = rng.random_range(0.5..2.5);
                blobs.push(Blob {
                    x: x + d * phi.cos(),
                    y: y + d * phi.sin(),
                    s1: s,
                    s2: s * rng.random_range(0.7..1.3),
                    theta,
                    amp: amp * rng.random_range(0.2..1.0),
                });
            }
        }
        SpotKind::Elongated => {
            let s = log_uniform(rng, 0.5, 2.0);
            blobs.push(Blob { x, y, s1: s, s2: s * rng.random_range(1.3..4.0), theta, amp });
        }
        SpotKind::Streak => {
            let s = rng.random_range(0.5..1.5);
            blobs.push(Blob { x, y, s1: s, s2: rng.random_range(4.0..10.0), theta, amp });
        }
        SpotKind::HotPixel => {
            let (dx, dy) = (rng.random_range(-1..=1) as f64, rng.random_range(-1..=1) as f64);
            blobs.push(Blob { x: c + dx, y: c + dy, s1: 0.15, s2: 0.15, theta: 0.0, amp: amp * 3.0 });
        }
        SpotKind::NoiseOnly => {}
    }
    // N(0, read_noise) as rand_distr's Normal draws it (mean + σ·z), without its fallible constructor.
    let read_sd = read_noise;
    let edge = if rng.random_range(0..8) == 0 {
        Some((rng.random_range(0..4), rng.random_range(2..=16) as i64))
    } else {
        None
    };
    let mut out = Vec::with_capacity(WINDOW * WINDOW);
    for r in 0..WINDOW {
        for col in 0..WINDOW {
            if let Some((side, dist)) = edge {
                let (dr, dc) = (r as i64 - WINDOW_HALF as i64, col as i64 - WINDOW_HALF as i64);
                let outside = match side {
                    0 => dc > dist,
                    1 => dc < -dist,
                    2 => dr > dist,
                    _ => dr < -dist,
                };
                if outside {
                    out.push(f32::NAN);
                    continue;
                }
            }
            let mut lambda = background;
            for b in &blobs {
                let (dx, dy) = (col as f64 - b.x, r as f64 - b.y);
                let (st, ct) = b.theta.sin_cos();
                let p = dx * ct + dy * st;
                let q = -dx * st + dy * ct;
                lambda += b.amp * (-0.5 * (p * p / (b.s1 * b.s1) + q * q / (b.s2 * b.s2))).exp();
            }
            let shot = Poisson::new(lambda.max(1e-3)).map(|p| p.sample(rng)).unwrap_or(lambda);
            let z: f64 = rng.sample(StandardNormal);
            let v = (shot + read_sd * z).round().clamp(0.0, SYNTH_SATURATION);
            out.push(v as f32);
        }
    }
    out
}
