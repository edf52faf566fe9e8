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

/// Adds what crowded and gapped detectors put around a spot to a rendered window (in place): 1–3 neighbouring
/// spots 6–16 px from the centre (σ 0.5–2.5 px, 0.1–3× the window's peak height above its median, with their
/// own Poisson noise), a linear background gradient (up to ±50 % of the median across the window) in half of
/// the windows, and in a quarter a masked stripe (NaN) 7 or 17 px wide — a PILATUS module gap — 4–14 px from
/// the centre. Counts stay within [0, [`SYNTH_SATURATION`]].
pub fn add_surroundings(window: &mut [f32], rng: &mut impl Rng) {
    let mut finite: Vec<f32> = window.iter().copied().filter(|v| v.is_finite()).collect();
    if finite.is_empty() {
        return;
    }
    finite.sort_by(f32::total_cmp);
    let median = finite[finite.len() / 2] as f64;
    let height = (finite[finite.len() - 1] as f64 - median).max(10.0);
    let c = WINDOW_HALF as f64;
    let n = rng.random_range(1..=3);
    let mut extra = vec![0.0f64; WINDOW * WINDOW];
    for _ in 0..n {
        let d = rng.random_range(6.0..16.0);
        let phi = rng.random_range(0.0..std::f64::consts::TAU);
        let (bx, by) = (c + d * phi.cos(), c + d * phi.sin());
        let s1 = log_uniform(rng, 0.5, 2.5);
        let s2 = s1 * rng.random_range(0.7..1.5);
        let theta = rng.random_range(0.0..std::f64::consts::PI);
        let amp = height * log_uniform(rng, 0.1, 3.0);
        let (st, ct) = theta.sin_cos();
        for (i, e) in extra.iter_mut().enumerate() {
            let (dx, dy) = ((i % WINDOW) as f64 - bx, (i / WINDOW) as f64 - by);
            let p = dx * ct + dy * st;
            let q = -dx * st + dy * ct;
            *e += amp * (-0.5 * (p * p / (s1 * s1) + q * q / (s2 * s2))).exp();
        }
    }
    if rng.random_bool(0.5) {
        let (gx, gy) = (rng.random_range(-0.5..0.5), rng.random_range(-0.5..0.5));
        for (i, e) in extra.iter_mut().enumerate() {
            let (dx, dy) = (((i % WINDOW) as f64 - c) / c, ((i / WINDOW) as f64 - c) / c);
            *e += (median * (gx * dx + gy * dy)).max(-median);
        }
    }
    let stripe = rng.random_bool(0.25).then(|| {
        let width = if rng.random_bool(0.5) { 7 } else { 17 };
        let offset = rng.random_range(4..=14) as i64 * if rng.random_bool(0.5) { 1 } else { -1 };
        (rng.random_bool(0.5), offset, width as i64)
    });
    for (i, v) in window.iter_mut().enumerate() {
        if !v.is_finite() {
            continue;
        }
        let (r, col) = ((i / WINDOW) as i64 - WINDOW_HALF as i64, (i % WINDOW) as i64 - WINDOW_HALF as i64);
        if let Some((rows, offset, width)) = stripe {
            let t = if rows { r } else { col };
            let (lo, hi) = if offset > 0 { (offset, offset + width) } else { (offset - width, offset) };
            if (lo..hi).contains(&t) {
                *v = f32::NAN;
                continue;
            }
        }
        let e = extra[i];
        let add = if e > 0.0 { Poisson::new(e).map(|p| p.sample(rng)).unwrap_or(e) } else { e };
        *v = (*v as f64 + add).round().clamp(0.0, SYNTH_SATURATION) as f32;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;

    /// Surroundings never touch the spot's own middle (the centre 3 px stay finite and keep their counts up to
    /// the neighbours' tails), add counts 6–16 px out, and keep every count within [0, saturation].
    #[test]
    fn surroundings_leave_the_centre_and_add_neighbours() {
        let mut rng = ChaCha8Rng::seed_from_u64(7);
        let (mut stripes, mut added_far) = (0, 0.0);
        for _ in 0..200 {
            let base = vec![100.0f32; WINDOW * WINDOW];
            let mut w = base.clone();
            add_surroundings(&mut w, &mut rng);
            let at = |r: usize, c: usize| w[r * WINDOW + c];
            for r in WINDOW_HALF - 3..=WINDOW_HALF + 3 {
                for c in WINDOW_HALF - 3..=WINDOW_HALF + 3 {
                    assert!(at(r, c).is_finite(), "a stripe reached the centre");
                }
            }
            assert!(
                w.iter().filter(|v| v.is_finite()).all(|&v| (0.0..=SYNTH_SATURATION as f32).contains(&v))
            );
            stripes += usize::from(w.iter().any(|v| v.is_nan()));
            added_far += w
                .iter()
                .enumerate()
                .filter(|(i, v)| {
                    let (r, c) =
                        ((i / WINDOW) as f64 - WINDOW_HALF as f64, (i % WINDOW) as f64 - WINDOW_HALF as f64);
                    v.is_finite() && r.hypot(c) > 5.0
                })
                .map(|(_, &v)| (v - 100.0) as f64)
                .sum::<f64>();
        }
        // A quarter of the windows get a stripe (binomial, 200 draws: 50 ± 6).
        assert!((32..=68).contains(&stripes), "{stripes} stripes in 200");
        assert!(added_far > 0.0, "neighbours add counts away from the centre");
    }
}
