//! The peak fit: a rotated 2D Gaussian (or Lorentzian) plus a constant, fitted to the raw pixels of a
//! 2b × 2b box by MINPACK's Levenberg–Marquardt with LaueTools' starting values, weights and tolerances.
//!
//! Parameters p = (H, A, u_c, v_c, s1, s2, θ): background, amplitude, centre (u = box row, v = box column),
//! widths σ (px; signed, |s| + 1e-6 used in the model) and rotation θ (deg). With t = θ·π/180,
//! a = (u_c − u)cos t − (v_c − v)sin t, b = (u_c − u)sin t + (v_c − v)cos t,
//! Gaussian: H + A·exp(−½(a²/S1² + b²/S2²)); Lorentzian: H + A / (1 + 4a²/s1) / (1 + 4b²/s2).

use std::cell::Cell;

use levenberg_marquardt::{LeastSquaresProblem, LevenbergMarquardt};
use nalgebra::{Owned, SMatrix, SVector, U7, U8};

type Vector7<T> = SVector<T, 7>;

/// How the θ column of the Jacobian is taken, which decides where a fit ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ThetaDerivative {
    /// By forward difference while σ1 = σ2, as MINPACK's `lmdif` takes it in LaueTools: LaueTools' end
    /// points (early, near the starting maximum; see `BoxProblem::theta_by_forward_difference`). The peak
    /// search uses this.
    LaueTools,
    /// Analytic everywhere: the fit runs to the least-squares minimum (within `xtol`). The spot network's
    /// training truth uses this.
    Analytic,
}

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

/// One box as a least-squares problem for MINPACK's Levenberg–Marquardt, handed to it in reduced form.
///
/// MINPACK only uses the Jacobian J (m × 7, m = box pixels) through the R of its QR factorisation, the
/// projection Qᵀr of the residuals and ‖r‖. So each parameter set is evaluated once here into an 8-row
/// system with the same R (Cholesky of JᵀJ), Jᵀ-projection and norm: Jc = [R; 0], rc = [R⁻ᵀJᵀr; ‖r⊥‖],
/// ‖rc‖ = ‖r‖. The minimiser's steps, scalings and tests are then those of the full problem, while its
/// pivoted QR runs on 8 × 7 instead of (2b)² × 7 (which took 60 % of the time).
struct BoxProblem<'a> {
    data: &'a [f64],
    /// 1 for pixels that count, 0 for those LaueTools weights out (saturated or ≤ 0), row-major
    mask: Vec<f64>,
    /// side of the box (px)
    n: usize,
    profile: Profile,
    theta: ThetaDerivative,
    /// current parameters (H, A, u_c, v_c, s1, s2, θ) and their reduced system
    x: Vector7<f64>,
    reduced: Reduced,
    /// the previous parameter set and its system (MINPACK returns to it after a rejected step)
    previous: Option<(Vector7<f64>, Reduced)>,
    /// scratch: the profile over the box, and the θ column by forward differences
    shape: Vec<f64>,
    theta_column: Vec<f64>,
    /// function evaluations as `lmdif` counts them: one per residual vector, 7 per Jacobian (its
    /// forward differences)
    nfev: Cell<usize>,
}

/// The reduced least-squares system of one parameter set (see [`BoxProblem`]).
#[derive(Clone, Copy)]
struct Reduced {
    jc: SMatrix<f64, 8, 7>,
    rc: SVector<f64, 8>,
}

/// Per-parameter-set constants of the model, computed once per pass.
#[derive(Clone, Copy)]
struct Consts {
    uc: f64,
    vc: f64,
    s1: f64,
    s2: f64,
    st: f64,
    ct: f64,
}

impl Consts {
    fn of(p: &Vector7<f64>) -> Self {
        let t = p[6] * (std::f64::consts::PI / 180.0);
        let (st, ct) = (libm::sin(t), libm::cos(t));
        Consts { uc: p[2], vc: p[3], s1: p[4], s2: p[5], st, ct }
    }
}

/// `lmdif`'s default budget for 7 parameters: maxfev = 200·(n + 1).
const MAXFEV: usize = 1600;

impl BoxProblem<'_> {
    /// Residuals, Jacobian and their reduction at `x`.
    fn reduce(&mut self, x: &Vector7<f64>) -> Reduced {
        let k = Consts::of(x);
        let n = self.n;
        self.shape.resize(n * n, 0.0);
        match self.profile {
            Profile::Gaussian => gaussian_box(&k, n, &mut self.shape),
            Profile::Lorentzian => {
                for (i, s) in self.shape.iter_mut().enumerate() {
                    let (du, dv) = (k.uc - (i / n) as f64, k.vc - (i % n) as f64);
                    let a = du * k.ct - dv * k.st;
                    let b = du * k.st + dv * k.ct;
                    *s = 1.0 / ((1.0 + 4.0 * a * a / k.s1) * (1.0 + 4.0 * b * b / k.s2));
                }
            }
        }
        // For a round Gaussian ∂/∂θ is exactly zero; MINPACK's forward difference is not (see
        // `theta_by_forward_difference`), and that is what shapes LaueTools' fits. Elsewhere the two agree
        // to ~1e-8 and the analytic one is used.
        let fd_theta = self.theta == ThetaDerivative::LaueTools
            && self.profile == Profile::Gaussian
            && x[4].abs() == x[5].abs();
        if fd_theta {
            self.theta_by_forward_difference(x);
        }
        let (st, ct) = (k.st, k.ct);
        let deg = std::f64::consts::PI / 180.0;
        // Gaussian: ∂/∂u_c = −A·s·(a·c2a + b·c2b), ∂/∂v_c = −A·s·(a·c3a + b·c3b), ∂/∂s1 = A·s·a²·c4,
        // ∂/∂s2 = A·s·b²·c5, ∂/∂θ = −A·s·a·b·c6 (θ in degrees).
        let (w1, w2) = (k.s1.abs() + 1e-6, k.s2.abs() + 1e-6);
        let (i1, i2) = (1.0 / (w1 * w1), 1.0 / (w2 * w2));
        let (c2a, c2b, c3a, c3b) = (i1 * ct, i2 * st, -i1 * st, i2 * ct);
        let (c4, c5, c6) = (i1 / w1 * k.s1.signum(), i2 / w2 * k.s2.signum(), (i2 - i1) * deg);
        let (h, amp) = (x[0], x[1]);
        let mut ata = [[0f64; 7]; 7];
        let mut atr = [0f64; 7];
        let mut rr = 0f64;
        // Background-only pixels (far tail): their count and Σ r.
        let (mut n_far, mut r_far) = (0f64, 0f64);
        for u in 0..n {
            let du = k.uc - u as f64;
            for v in 0..n {
                let i = u * n + v;
                let dv = k.vc - v as f64;
                let w = self.mask[i];
                if w == 0.0 {
                    continue;
                }
                let s = self.shape[i];
                let r = h + amp * s - self.data[i];
                rr += r * r;
                if !fd_theta && self.profile == Profile::Gaussian && s < 1e-20 {
                    // Beyond ~9.6 σ every derivative but ∂/∂H is below the sums' rounding.
                    n_far += 1.0;
                    r_far += r;
                    continue;
                }
                let a = du * ct - dv * st;
                let b = du * st + dv * ct;
                let mut g: [f64; 7] = match self.profile {
                    Profile::Gaussian => {
                        let ag = amp * s;
                        [
                            1.0,
                            s,
                            -ag * (a * c2a + b * c2b),
                            -ag * (a * c3a + b * c3b),
                            ag * a * a * c4,
                            ag * b * b * c5,
                            -ag * a * b * c6,
                        ]
                    }
                    Profile::Lorentzian => {
                        let d1 = 1.0 + 4.0 * a * a / k.s1;
                        let d2 = 1.0 + 4.0 * b * b / k.s2;
                        let al = amp * s;
                        // ∂l/∂a = −l·(8a/s1)/d1, ∂l/∂b = −l·(8b/s2)/d2
                        let la = -al * 8.0 * a / k.s1 / d1;
                        let lb = -al * 8.0 * b / k.s2 / d2;
                        [
                            1.0,
                            s,
                            la * ct + lb * st,
                            -la * st + lb * ct,
                            al * 4.0 * a * a / (k.s1 * k.s1) / d1,
                            al * 4.0 * b * b / (k.s2 * k.s2) / d2,
                            (la * (-b) + lb * a) * deg,
                        ]
                    }
                };
                if fd_theta {
                    g[6] = self.theta_column[i];
                }
                for p in 0..7 {
                    let gp = g[p];
                    atr[p] += gp * r;
                    for q in p..7 {
                        ata[p][q] += gp * g[q];
                    }
                }
            }
        }
        ata[0][0] += n_far;
        atr[0] += r_far;
        let jtj = SMatrix::<f64, 7, 7>::from_fn(|p, q| ata[p.min(q)][p.max(q)]);
        let jtr = SVector::<f64, 7>::from(atr);
        let mut jc = SMatrix::<f64, 8, 7>::zeros();
        let mut rc = SVector::<f64, 8>::zeros();
        match jtj.cholesky() {
            Some(chol) => {
                // JᵀJ = L·Lᵀ, R = Lᵀ; Qᵀr = R⁻ᵀ·Jᵀr = L⁻¹·Jᵀr.
                let l = chol.l();
                let qtr = l.solve_lower_triangular(&jtr).unwrap_or_else(SVector::zeros);
                jc.fixed_view_mut::<7, 7>(0, 0).copy_from(&l.transpose());
                rc.fixed_rows_mut::<7>(0).copy_from(&qtr);
                rc[7] = (rr - qtr.norm_squared()).max(0.0).sqrt();
            }
            None => {
                // Rank-deficient (a flat box, a dead column): the reduction by the symmetric square root
                // keeps JcᵀJc = JᵀJ and Jcᵀrc = Jᵀr through the pseudo-inverse.
                let eig = jtj.symmetric_eigen();
                let tol = eig.eigenvalues.amax() * 1e-14;
                for (j, &lambda) in eig.eigenvalues.iter().enumerate() {
                    if lambda > tol {
                        let v = eig.eigenvectors.column(j);
                        let sq = lambda.sqrt();
                        for q in 0..7 {
                            jc[(j, q)] = sq * v[q];
                        }
                        rc[j] = v.dot(&jtr) / sq;
                    }
                }
                let proj = rc.fixed_rows::<7>(0).norm_squared();
                rc[7] = (rr - proj).max(0.0).sqrt();
            }
        }
        Reduced { jc, rc }
    }

    /// The θ column of the Jacobian as MINPACK's `fdjac2` takes it: a forward difference of the residuals
    /// with step h = √ε·|θ| (√ε if θ = 0), the model evaluated pixel by pixel as LaueTools' `twodgaussian`
    /// writes it (rotated pixel and centre coordinates, widths |s| + 1e-6).
    ///
    /// This is where LaueTools' fits take their shape. At the start (s1 = s2 = 1) the Gaussian is round and
    /// ∂/∂θ is exactly zero, but the difference quotient is rounding noise of ~1e-7·A; the Gauss–Newton step
    /// then sends θ to a huge angle (10⁵–10⁶°), ‖D·x‖ becomes dominated by θ, and the relative-step test
    /// ‖D·δ‖ ≤ xtol·‖D·x‖ ends the fit one or two iterations later — typically after 17 evaluations, near the
    /// starting maximum. On an isolated spot that end point is the converged one within ~0.005 px; on
    /// crowded or broad spots it is not, and it is LaueTools' answer. The noise is computed with `libm`'s
    /// exp/sin/cos (pure Rust, the same bits natively and in wasm), so the page and the CLI agree exactly;
    /// it cannot equal numpy's bit for bit, so on chaotic boxes our end point is another draw of the same
    /// process (see `docs/peak-fit.md`).
    fn theta_by_forward_difference(&mut self, x: &Vector7<f64>) {
        const SQRT_EPS: f64 = 1.4901161193847656e-8;
        let theta = x[6];
        let h = if theta == 0.0 { SQRT_EPS } else { SQRT_EPS * theta.abs() };
        let n = self.n;
        let mut shifted = *x;
        shifted[6] = theta + h;
        // fdjac2 divides by the step as computed, h (not (θ + h) − θ).
        let (data, mask) = (self.data, &self.mask);
        let col = &mut self.theta_column;
        col.resize(n * n, 0.0);
        twodgaussian(x, n, |i, g| col[i] = (g - data[i]) * mask[i]);
        twodgaussian(&shifted, n, |i, g| col[i] = ((g - data[i]) * mask[i] - col[i]) / h);
    }

    /// Counts `k` evaluations; `false` once `lmdif`'s budget (200·(7 + 1) = 1600) is spent, which ends
    /// the minimisation there as `lmdif` ends it.
    fn spend(&self, k: usize) -> bool {
        let used = self.nfev.get() + k;
        self.nfev.set(used);
        used <= MAXFEV
    }
}

impl LeastSquaresProblem<f64, U8, U7> for BoxProblem<'_> {
    type ResidualStorage = Owned<f64, U8>;
    type JacobianStorage = Owned<f64, U8, U7>;
    type ParameterStorage = Owned<f64, U7>;

    fn set_params(&mut self, x: &Vector7<f64>) {
        if *x == self.x {
            return;
        }
        let back = matches!(&self.previous, Some((px, _)) if px == x);
        let reduced = match self.previous.take() {
            Some((_, red)) if back => red,
            _ => self.reduce(x),
        };
        self.previous = Some((self.x, self.reduced));
        self.x = *x;
        self.reduced = reduced;
    }

    fn params(&self) -> Vector7<f64> {
        self.x
    }

    fn residuals(&self) -> Option<SVector<f64, 8>> {
        self.spend(1).then_some(self.reduced.rc)
    }

    fn jacobian(&self) -> Option<SMatrix<f64, 8, 7>> {
        self.spend(7).then_some(self.reduced.jc)
    }
}

/// LaueTools' `twodgaussian` over the box, operation for operation: each pixel (u, v) (box row, column)
/// and the centre rotated by θ, H + A·exp(−(((rcx − u′)/(|s1| + 1e-6))² + ((rcy − v′)/(|s2| + 1e-6))²)/2).
fn twodgaussian(p: &Vector7<f64>, n: usize, mut each: impl FnMut(usize, f64)) {
    let rota = std::f64::consts::PI / 180.0 * p[6];
    let (s, c) = (libm::sin(rota), libm::cos(rota));
    let (rcx, rcy) = (p[2] * c - p[3] * s, p[2] * s + p[3] * c);
    let (w1, w2) = (p[4].abs() + 0.000001, p[5].abs() + 0.000001);
    for row in 0..n {
        let u = row as f64;
        for col in 0..n {
            let v = col as f64;
            let (up, vp) = (u * c - v * s, u * s + v * c);
            let a = (rcx - up) / w1;
            let b = (rcy - vp) / w2;
            each(row * n + col, p[0] + p[1] * libm::exp(-(a * a + b * b) / 2.0));
        }
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
    let shrink = libm::exp(-pp);
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
        let e0 = libm::exp(-0.5 * q(du, dv0));
        row[v0] = e0;
        // Forward, v → v+1 (dv → dv − 1): factor exp(−½(P(1 − 2dv) − 2R·du)), times exp(−P) per step.
        let mut e = e0;
        let mut t = libm::exp(-0.5 * (pp * (1.0 - 2.0 * dv0) - 2.0 * rr * du));
        for x in row[v0 + 1..].iter_mut() {
            e *= t;
            t *= shrink;
            *x = e;
        }
        // Backward, v → v−1 (dv → dv + 1): factor exp(−½(P(1 + 2dv) + 2R·du)), times exp(−P) per step.
        let mut e = e0;
        let mut t = libm::exp(-0.5 * (pp * (1.0 + 2.0 * dv0) + 2.0 * rr * du));
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
/// The minimiser is MINPACK's Levenberg–Marquardt (the `levenberg-marquardt` crate in its MINPACK-compatible
/// mode: trust region with `lmpar`, scaling by the running maximum of the Jacobian's column norms, initial
/// step bound 100·‖D·x‖, ftol = 1.49012e-8, gtol = 0, at most 1600 evaluations), which is what LaueTools'
/// `scipy.optimize.leastsq` runs. The trajectory matters, not only the minimum: at LaueTools' xtol = 1e-3
/// the fit usually stops after two iterations (17 evaluations), because of the θ column's forward
/// difference (see `BoxProblem::theta_by_forward_difference`); on crowded, broad or weak spots that early end
/// point is LaueTools' answer, where a fit run to convergence drifts onto neighbouring spots or noise. The
/// Jacobian is analytic except for that column; `nfev` counts evaluations as `lmdif` does.
pub fn fit_box(
    data: &[f64],
    n: usize,
    profile: Profile,
    theta: ThetaDerivative,
    xtol: f64,
    saturation: f64,
) -> BoxFit {
    fit_box_masked(data, None, n, profile, theta, xtol, saturation)
}

/// [`fit_box`] on a box that may hold masked pixels (`usable[i]` false: a module gap, a dead pixel, a mask
/// file's pixel). A masked pixel is out of the fit whatever value `data` holds there (it must be finite): its
/// weight is 0, as a saturated pixel's, in both profiles, and the starting values (minimum, maximum and its
/// place) are taken over the usable pixels only, so a sentinel (−1, 2³²−1) is never the starting background
/// or amplitude. With `usable` = None or all true this is exactly [`fit_box`].
pub fn fit_box_masked(
    data: &[f64],
    usable: Option<&[bool]>,
    n: usize,
    profile: Profile,
    theta: ThetaDerivative,
    xtol: f64,
    saturation: f64,
) -> BoxFit {
    fit_box_from(data, usable, None, n, profile, theta, xtol, saturation)
}

/// [`fit_box_masked`] started on the pixel `start` (row-major index) instead of the box's maximum: centre
/// there, amplitude = its value − the box minimum (σ = 1, θ = 0 as always). The spot network's truth fits its
/// cut-out from the cut-out's centre, the spot it is about, so that a brighter neighbour inside the 32 × 32
/// window does not become the fitted spot. `start` = None (or a masked or out-of-box pixel) is the maximum.
#[allow(clippy::too_many_arguments)]
pub fn fit_box_from(
    data: &[f64],
    usable: Option<&[bool]>,
    start: Option<usize>,
    n: usize,
    profile: Profile,
    theta: ThetaDerivative,
    xtol: f64,
    saturation: f64,
) -> BoxFit {
    let ok = |i: usize| usable.is_none_or(|u| u.get(i).copied().unwrap_or(false));
    let (mut lo, mut hi, mut at) = (f64::INFINITY, f64::NEG_INFINITY, 0usize);
    for (i, &v) in data.iter().enumerate() {
        if !ok(i) {
            continue;
        }
        lo = lo.min(v);
        if v > hi {
            hi = v;
            at = i;
        }
    }
    if !lo.is_finite() {
        // Nothing usable: a flat start that the fit leaves where it is (the caller refuses such boxes).
        (lo, hi) = (0.0, 0.0);
    }
    let (mut top, mut at) = (hi, at);
    if let Some(i) = start.filter(|&i| i < data.len() && ok(i) && lo.is_finite()) {
        (top, at) = (data[i], i);
    }
    let x0 = Vector7::from([lo, top - lo, (at / n) as f64, (at % n) as f64, 1.0, 1.0, 0.0]);
    let mask = match profile {
        Profile::Gaussian => data
            .iter()
            .enumerate()
            .map(|(i, &v)| if !ok(i) || v >= saturation || v <= 0.0 { 0.0 } else { 1.0 })
            .collect(),
        // LaueTools' Lorentzian fit has no weights; masked pixels still get none.
        Profile::Lorentzian => (0..data.len()).map(|i| if ok(i) { 1.0 } else { 0.0 }).collect(),
    };
    let mut problem = BoxProblem {
        data,
        mask,
        n,
        profile,
        theta,
        x: x0,
        reduced: Reduced { jc: SMatrix::zeros(), rc: SVector::zeros() },
        previous: None,
        shape: Vec::with_capacity(n * n),
        theta_column: Vec::new(),
        nfev: Cell::new(0),
    };
    problem.reduced = problem.reduce(&x0);
    let (problem, _report) = LevenbergMarquardt::new()
        .with_xtol(xtol)
        // The crate's own budget counts residual vectors only; ours (`BoxProblem::spend`) ends first.
        .with_patience(MAXFEV)
        .minimize(problem);
    BoxFit { params: problem.x.into(), start_background: lo, nfev: problem.nfev.get(), box_max: hi }
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
        let f = fit_box(&d, 30, Profile::Gaussian, ThetaDerivative::Analytic, 1e-10, 65535.0);
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
    fn masked_pixels_are_out_of_the_fit() {
        // A spot at (9.2, 10.4) next to a 5-row gap (rows 13..18) holding the PILATUS sentinel −1 and, in a
        // second variant, absurd values: with the gap masked both fits are the same and find the spot; the
        // starting background is the usable minimum (50), not −1.
        let n = 20;
        let clean = synthetic(n, 9.2, 10.4, 1.3, 1.1, 0.0);
        let usable: Vec<bool> = (0..n * n).map(|i| !(13..18).contains(&(i / n))).collect();
        let with = |fill: f64| -> Vec<f64> {
            clean.iter().enumerate().map(|(i, &v)| if usable[i] { v } else { fill }).collect()
        };
        let a = fit_box_masked(
            &with(-1.0),
            Some(&usable),
            n,
            Profile::Gaussian,
            ThetaDerivative::Analytic,
            1e-10,
            65535.0,
        );
        let b = fit_box_masked(
            &with(9.0e5),
            Some(&usable),
            n,
            Profile::Gaussian,
            ThetaDerivative::Analytic,
            1e-10,
            65535.0,
        );
        assert_eq!(a.params, b.params);
        assert!((a.params[2] - 9.2).abs() < 1e-6 && (a.params[3] - 10.4).abs() < 1e-6, "{:?}", a.params);
        assert!((a.params[1] - 1000.0).abs() < 1e-4 && (a.params[0] - 50.0).abs() < 1e-6, "{:?}", a.params);
        assert!((a.start_background - 50.0).abs() < 1e-9 && a.box_max < 1051.0);
        // Unmasked, the 9e5 band is a huge "spot" the fit goes to.
        let c = fit_box(&with(9.0e5), n, Profile::Gaussian, ThetaDerivative::Analytic, 1e-10, 1e7);
        assert!((c.params[2] - 9.2).abs() > 1.0, "{:?}", c.params);
        // All usable = the plain fit, bit for bit.
        let all = vec![true; n * n];
        let d = fit_box_masked(
            &clean,
            Some(&all),
            n,
            Profile::Gaussian,
            ThetaDerivative::LaueTools,
            1e-3,
            65535.0,
        );
        assert_eq!(d, fit_box(&clean, n, Profile::Gaussian, ThetaDerivative::LaueTools, 1e-3, 65535.0));
    }

    #[test]
    fn saturated_pixels_are_ignored() {
        let mut d = synthetic(20, 9.2, 10.4, 1.0, 1.0, 0.0);
        for v in d.iter_mut() {
            *v = v.min(700.0);
        }
        let f = fit_box(&d, 20, Profile::Gaussian, ThetaDerivative::Analytic, 1e-10, 700.0);
        assert!((f.params[2] - 9.2).abs() < 1e-3 && (f.params[3] - 10.4).abs() < 1e-3, "{:?}", f.params);
        assert!(f.params[1] > 900.0, "amplitude from the unsaturated wings: {}", f.params[1]);
    }
}
