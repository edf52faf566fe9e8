//! The peak fit: a rotated 2D Gaussian (or Lorentzian) plus a constant, fitted to the raw pixels of a
//! 2b × 2b box by MINPACK's Levenberg–Marquardt with LaueTools' starting values, weights and tolerances.
//!
//! Parameters p = (H, A, u_c, v_c, s1, s2, θ): background, amplitude, centre (u = box row, v = box column),
//! widths σ (px; signed, |s| + 1e-6 used in the model) and rotation θ (deg). With t = θ·π/180,
//! a = (u_c − u)cos t − (v_c − v)sin t, b = (u_c − u)sin t + (v_c − v)cos t,
//! Gaussian: H + A·exp(−½(a²/S1² + b²/S2²)); Lorentzian: H + A / (1 + 4a²/s1) / (1 + 4b²/s2).

/// Profile of the fitted model.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Profile {
    Gaussian,
    Lorentzian,
}

/// Result of one box fit, in box coordinates.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BoxFit {
    /// fitted (H, A, u_c, v_c, s1, s2, θ)
    pub params: [f64; 7],
    /// starting background (box minimum)
    pub start_background: f64,
    /// residual evaluations, counted as MINPACK's lmdif does (7 per Jacobian)
    pub nfev: usize,
    /// largest raw pixel of the box
    pub box_max: f64,
}

struct BoxProblem<'a> {
    data: &'a [f64],
    /// 1 for pixels that count, 0 for those LaueTools weights out (saturated or ≤ 0), row-major
    mask: Vec<f64>,
    /// side of the box (px)
    n: usize,
    profile: Profile,
    evaluations: usize,
}

/// Per-parameter-set constants of the model, computed once per pass.
#[derive(Clone, Copy)]
struct Consts {
    h: f64,
    amp: f64,
    uc: f64,
    vc: f64,
    s1: f64,
    s2: f64,
    st: f64,
    ct: f64,
}

impl Consts {
    fn of(p: &[f64; 7]) -> Self {
        let (st, ct) = p[6].to_radians().sin_cos();
        Consts { h: p[0], amp: p[1], uc: p[2], vc: p[3], s1: p[4], s2: p[5], st, ct }
    }
}

/// The model over the whole box for one parameter set: the profile value (exp(…) or the Lorentzian
/// product) and the masked residual, kept so that the normal equations at an accepted point need no second
/// exp per pixel.
#[derive(Clone, Default)]
struct Evaluation {
    shape: Vec<f64>,
    r: Vec<f64>,
    /// Σ r²
    f: f64,
}

impl BoxProblem<'_> {
    /// Masked residuals (model − data)·mask at `p` into `e`.
    fn evaluate(&mut self, p: &[f64; 7], e: &mut Evaluation) {
        self.evaluations += 1;
        let k = Consts::of(p);
        let n = self.n;
        e.shape.resize(n * n, 0.0);
        e.r.resize(n * n, 0.0);
        match self.profile {
            Profile::Gaussian => gaussian_box(&k, n, &mut e.shape),
            Profile::Lorentzian => {
                for (i, s) in e.shape.iter_mut().enumerate() {
                    let (du, dv) = (k.uc - (i / n) as f64, k.vc - (i % n) as f64);
                    let a = du * k.ct - dv * k.st;
                    let b = du * k.st + dv * k.ct;
                    *s = 1.0 / ((1.0 + 4.0 * a * a / k.s1) * (1.0 + 4.0 * b * b / k.s2));
                }
            }
        }
        // Element-wise (vectorises); Σ r² in four partial sums.
        for (((r, &s), &d), &m) in e.r.iter_mut().zip(&e.shape).zip(self.data).zip(&self.mask) {
            *r = (k.h + k.amp * s - d) * m;
        }
        let mut acc = [0f64; 4];
        let chunks = e.r.chunks_exact(4);
        let tail: f64 = chunks.remainder().iter().map(|r| r * r).sum();
        for c in chunks {
            for (a, r) in acc.iter_mut().zip(c) {
                *a += r * r;
            }
        }
        e.f = (acc[0] + acc[1]) + (acc[2] + acc[3]) + tail;
    }

    /// Normal equations JᵀJ (upper triangle) and Jᵀr of the masked residuals at the point of `e` (analytic
    /// Jacobian, never stored).
    fn normal_equations(&mut self, p: &[f64; 7], e: &Evaluation) -> ([[f64; 7]; 7], [f64; 7]) {
        // lmdif would spend 7 evaluations on finite differences: count them the same way.
        self.evaluations += 7;
        let k = Consts::of(p);
        let n = self.n;
        let mut ata = [[0f64; 7]; 7];
        let mut atr = [0f64; 7];
        let (st, ct) = (k.st, k.ct);
        let deg = std::f64::consts::PI / 180.0;
        // Gaussian constants: g2 = −A·s·(a·c2a + b·c2b), g3 = −A·s·(a·c3a + b·c3b), g4 = A·s·a²·c4,
        // g5 = A·s·b²·c5, g6 = −A·s·a·b·c6.
        let (w1, w2) = (k.s1.abs() + 1e-6, k.s2.abs() + 1e-6);
        let (i1, i2) = (1.0 / (w1 * w1), 1.0 / (w2 * w2));
        let (c2a, c2b, c3a, c3b) = (i1 * ct, i2 * st, -i1 * st, i2 * ct);
        let (c4, c5, c6) = (i1 / w1 * k.s1.signum(), i2 / w2 * k.s2.signum(), (i2 - i1) * deg);
        // Background-only pixels (far tail): their count and Σ r.
        let (mut n_far, mut r_far) = (0f64, 0f64);
        for i in 0..n * n {
            if self.mask[i] == 0.0 {
                continue;
            }
            let (s, ri) = (e.shape[i], e.r[i]);
            if self.profile == Profile::Gaussian && s < 1e-20 {
                // Far in the tail (s < 1e-20, beyond ~9.6 σ) every derivative but ∂/∂H is below the sums'
                // rounding: only the background terms count.
                n_far += 1.0;
                r_far += ri;
                continue;
            }
            let (du, dv) = (k.uc - (i / n) as f64, k.vc - (i % n) as f64);
            let a = du * ct - dv * st;
            let b = du * st + dv * ct;
            let mut g = [0f64; 7];
            match self.profile {
                Profile::Gaussian => {
                    let ag = k.amp * s;
                    g[0] = 1.0;
                    g[1] = s;
                    g[2] = -ag * (a * c2a + b * c2b);
                    g[3] = -ag * (a * c3a + b * c3b);
                    g[4] = ag * a * a * c4;
                    g[5] = ag * b * b * c5;
                    g[6] = -ag * a * b * c6;
                }
                Profile::Lorentzian => {
                    let d1 = 1.0 + 4.0 * a * a / k.s1;
                    let d2 = 1.0 + 4.0 * b * b / k.s2;
                    let al = k.amp * s;
                    // ∂l/∂a = −l·(8a/s1)/d1, ∂l/∂b = −l·(8b/s2)/d2
                    let la = -al * 8.0 * a / k.s1 / d1;
                    let lb = -al * 8.0 * b / k.s2 / d2;
                    g[0] = 1.0;
                    g[1] = s;
                    g[2] = la * ct + lb * st;
                    g[3] = -la * st + lb * ct;
                    g[4] = al * 4.0 * a * a / (k.s1 * k.s1) / d1;
                    g[5] = al * 4.0 * b * b / (k.s2 * k.s2) / d2;
                    g[6] = (la * (-b) + lb * a) * deg;
                }
            }
            for p in 0..7 {
                let jp = g[p];
                atr[p] += jp * ri;
                for q in p..7 {
                    ata[p][q] += jp * g[q];
                }
            }
        }
        ata[0][0] += n_far;
        atr[0] += r_far;
        (ata, atr)
    }
}

/// exp(−½ q) over an n × n box, q = a²/S1² + b²/S2² the Gaussian's quadratic form at (du, dv) =
/// (u_c − u, v_c − v). Along a row q is a parabola in v, so consecutive values differ by a factor that
/// itself changes by the constant factor exp(−P) (P the dv² coefficient): each row takes three exp calls
/// instead of n, walking out from the pixel nearest the row's maximum so the values only shrink (an
/// underflow to 0 is then the true value's). Relative error ≤ ~n ulp.
fn gaussian_box(k: &Consts, n: usize, out: &mut [f64]) {
    let (w1, w2) = (k.s1.abs() + 1e-6, k.s2.abs() + 1e-6);
    let (i1, i2) = (1.0 / (w1 * w1), 1.0 / (w2 * w2));
    let (st, ct) = (k.st, k.ct);
    // q = P·dv² + 2R·du·dv + (terms without dv)
    let pp = i1 * st * st + i2 * ct * ct;
    let rr = (i2 - i1) * st * ct;
    let shrink = (-pp).exp();
    let q = |du: f64, dv: f64| {
        let a = du * ct - dv * st;
        let b = du * st + dv * ct;
        a * a * i1 + b * b * i2
    };
    for u in 0..n {
        let du = k.uc - u as f64;
        let row = &mut out[u * n..(u + 1) * n];
        // The row's maximum is at dv* = −R·du/P, i.e. v* = v_c − dv*.
        let v_star = k.vc + rr * du / pp;
        let v0 = if v_star.is_finite() { v_star.round().clamp(0.0, (n - 1) as f64) as usize } else { 0 };
        let dv0 = k.vc - v0 as f64;
        let e0 = (-0.5 * q(du, dv0)).exp();
        row[v0] = e0;
        // Forward, v → v+1 (dv → dv − 1): factor exp(−½(P(1 − 2dv) − 2R·du)), times exp(−P) per step.
        let mut e = e0;
        let mut t = (-0.5 * (pp * (1.0 - 2.0 * dv0) - 2.0 * rr * du)).exp();
        for x in row[v0 + 1..].iter_mut() {
            e *= t;
            t *= shrink;
            *x = e;
        }
        // Backward, v → v−1 (dv → dv + 1): factor exp(−½(P(1 + 2dv) + 2R·du)), times exp(−P) per step.
        let mut e = e0;
        let mut t = (-0.5 * (pp * (1.0 + 2.0 * dv0) + 2.0 * rr * du)).exp();
        for x in row[..v0].iter_mut().rev() {
            e *= t;
            t *= shrink;
            *x = e;
        }
    }
}

/// Fits a square box of raw pixels (row-major, side `n`) with LaueTools' starting values: background =
/// box minimum, amplitude = max − min, centre = first maximum, σ = 1, θ = 0. Pixels ≥ `saturation` or ≤ 0
/// get zero weight.
///
/// The minimiser is Levenberg–Marquardt on the 7 × 7 normal equations with MINPACK's scaling (D = running
/// maximum of the Jacobian column norms) and MINPACK's stopping tests — relative step ‖D·δ‖ ≤ xtol·‖D·x‖,
/// relative reduction ≤ ftol = 1.49012e-8, at most 1600 evaluations — so that LaueTools' early stop at
/// xtol = 1e-3 is reproduced; it avoids MINPACK's QR of the (2b)² × 7 Jacobian, which dominated the time.
pub fn fit_box(data: &[f64], n: usize, profile: Profile, xtol: f64, saturation: f64) -> BoxFit {
    let (mut lo, mut hi, mut at) = (f64::INFINITY, f64::NEG_INFINITY, 0usize);
    for (i, &v) in data.iter().enumerate() {
        lo = lo.min(v);
        if v > hi {
            hi = v;
            at = i;
        }
    }
    let mut x = [lo, hi - lo, (at / n) as f64, (at % n) as f64, 1.0, 1.0, 0.0];
    let mask = match profile {
        Profile::Gaussian => {
            data.iter().map(|&v| if v >= saturation || v <= 0.0 { 0.0 } else { 1.0 }).collect()
        }
        // LaueTools' Lorentzian fit has no weights.
        Profile::Lorentzian => vec![1.0; data.len()],
    };
    let mut prob = BoxProblem { data, mask, n, profile, evaluations: 0 };
    const FTOL: f64 = 1.49012e-8;
    const MAXFEV: usize = 1600;
    let mut cur = Evaluation::default();
    let mut trial = Evaluation::default();
    prob.evaluate(&x, &mut cur);
    let mut diag = [0f64; 7];
    let mut lambda = 0.0f64;
    'outer: while prob.evaluations < MAXFEV {
        let (ata, atr) = prob.normal_equations(&x, &cur);
        let a = nalgebra::SMatrix::<f64, 7, 7>::from_fn(|p, q| ata[p.min(q)][p.max(q)]);
        let g = nalgebra::SVector::<f64, 7>::from_column_slice(&atr);
        for p in 0..7 {
            // MINPACK: a zero column norm on the first iteration scales by 1.
            let norm = a[(p, p)].sqrt();
            diag[p] = if diag[p] == 0.0 && norm == 0.0 { 1.0 } else { diag[p].max(norm) };
        }
        if lambda == 0.0 {
            lambda = 1e-3 * (0..7).map(|p| a[(p, p)] / (diag[p] * diag[p])).fold(0.0, f64::max);
        }
        loop {
            let mut m = a;
            for p in 0..7 {
                m[(p, p)] += lambda * diag[p] * diag[p];
            }
            let Some(chol) = m.cholesky() else {
                lambda = lambda.max(1e-12) * 10.0;
                if lambda > 1e30 {
                    break 'outer;
                }
                continue;
            };
            let step = chol.solve(&(-g));
            let x_new: [f64; 7] = std::array::from_fn(|p| x[p] + step[p]);
            prob.evaluate(&x_new, &mut trial);
            let dx: f64 = (0..7).map(|p| (diag[p] * step[p]).powi(2)).sum::<f64>().sqrt();
            let xn: f64 = (0..7).map(|p| (diag[p] * x[p]).powi(2)).sum::<f64>().sqrt();
            if trial.f < cur.f {
                let reduction = (cur.f - trial.f) / cur.f.max(f64::MIN_POSITIVE);
                std::mem::swap(&mut cur, &mut trial);
                x = x_new;
                lambda = (lambda / 3.0).max(1e-15);
                if dx <= xtol * xn || reduction <= FTOL || cur.f == 0.0 {
                    break 'outer;
                }
                break;
            }
            lambda *= 4.0;
            if dx <= xtol * xn || prob.evaluations >= MAXFEV {
                break 'outer;
            }
        }
    }
    BoxFit { params: x, start_background: lo, nfev: prob.evaluations, box_max: hi }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn synthetic(n: usize, uc: f64, vc: f64, s1: f64, s2: f64, theta: f64) -> Vec<f64> {
        let (st, ct) = theta.to_radians().sin_cos();
        let mut d = vec![0f64; n * n];
        for u in 0..n {
            for v in 0..n {
                let (du, dv) = (uc - u as f64, vc - v as f64);
                let a = du * ct - dv * st;
                let b = du * st + dv * ct;
                d[u * n + v] = 50.0 + 1000.0 * (-0.5 * (a * a / (s1 * s1) + b * b / (s2 * s2))).exp();
            }
        }
        d
    }

    #[test]
    fn recovers_an_elongated_rotated_gaussian() {
        let d = synthetic(30, 14.3, 15.6, 1.2, 2.5, 30.0);
        let f = fit_box(&d, 30, Profile::Gaussian, 1e-10, 65535.0);
        let p = f.params;
        assert!((p[2] - 14.3).abs() < 1e-6 && (p[3] - 15.6).abs() < 1e-6, "{p:?}");
        assert!((p[0] - 50.0).abs() < 1e-6 && (p[1] - 1000.0).abs() < 1e-5);
        // (s1, s2, θ) is defined up to swapping the axes with θ ± 90° and θ mod 180°.
        let (a, b) = (p[4].abs(), p[5].abs());
        let t = p[6].rem_euclid(180.0);
        let ok = ((a - 1.2).abs() < 1e-5 && (b - 2.5).abs() < 1e-5 && (t - 30.0).abs() < 1e-4)
            || ((a - 2.5).abs() < 1e-5 && (b - 1.2).abs() < 1e-5 && (t - 120.0).abs() < 1e-4);
        assert!(ok, "{p:?}");
        assert_eq!(f.start_background, 50.0);
    }

    #[test]
    fn saturated_pixels_are_ignored() {
        let mut d = synthetic(20, 9.2, 10.4, 1.0, 1.0, 0.0);
        for v in d.iter_mut() {
            *v = v.min(700.0);
        }
        let f = fit_box(&d, 20, Profile::Gaussian, 1e-10, 700.0);
        assert!((f.params[2] - 9.2).abs() < 1e-3 && (f.params[3] - 10.4).abs() < 1e-3, "{:?}", f.params);
        assert!(f.params[1] > 900.0, "amplitude from the unsaturated wings: {}", f.params[1]);
    }
}
