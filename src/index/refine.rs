//! Orientation and deviatoric-strain refinement of UB on the matched spots (LaueTools' "strain refinement").
//!
//! UB(p) = exp([ω]ₓ) · UB₀ · T: three small rotations ω (rad, lab frame) and, with strain, the five free
//! components of an upper-triangular distortion T = [[1, t01, t02], [0, t11, t12], [0, 0, t22]] (t00 = 1: a
//! Laue pattern does not see an isotropic scale). Least squares (Levenberg–Marquardt, numerical Jacobian) on
//! the pixel residuals (simulated − measured) of the matched spots, calibration fixed.

use nalgebra::{DMatrix, DVector, Matrix3, Rotation3, Vector3};

use super::matching::{Experiment, MatchedSpot};
use super::orientation::hkl_vec;
use super::spots::ExperimentalSpot;
use crate::geometry::Projector;

/// What a refinement gives.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Refined {
    /// refined UB (LaueTools' "UB matrix in q = (UB) B0 G*", strain included)
    pub ub: Matrix3<f64>,
    /// root-mean-square pixel residual over the spots used (px)
    pub rms_px: f64,
}

/// Refines `ub` on the `matched` spots (hkl ↔ measured pixel). `with_strain`: 8 parameters, else the 3
/// rotations only. Returns None with fewer spots than needed (≥ 5 for strain, ≥ 2 for rotation only).
pub fn refine_ub(
    ub: &Matrix3<f64>,
    b0: &Matrix3<f64>,
    exp: &Experiment,
    spots: &[ExperimentalSpot],
    matched: &[MatchedSpot],
    with_strain: bool,
) -> Option<Refined> {
    let n_par = if with_strain { 8 } else { 3 };
    if 2 * matched.len() < n_par + 2 {
        return None;
    }
    let proj = exp.calibration.projector();
    let g: Vec<Vector3<f64>> = matched.iter().map(|m| hkl_vec(m.hkl)).collect();
    let xy: Vec<(f64, f64)> = matched.iter().map(|m| (spots[m.peak].x_px, spots[m.peak].y_px)).collect();
    let residuals = |p: &[f64]| -> DVector<f64> {
        let m = model(ub, p) * b0;
        let mut r = DVector::zeros(2 * g.len());
        for (k, (h, (x, y))) in g.iter().zip(&xy).enumerate() {
            let (px, py) = predict_pixel(&proj, &(m * h)).unwrap_or((x + 1e3, y + 1e3));
            r[2 * k] = px - x;
            r[2 * k + 1] = py - y;
        }
        r
    };
    let mut p = vec![0.0; n_par];
    let mut r = residuals(&p);
    let mut cost = r.norm_squared();
    let mut lambda = 1e-3;
    let step = 1e-7;
    for _ in 0..30 {
        let mut jac = DMatrix::zeros(r.len(), n_par);
        for c in 0..n_par {
            let mut pp = p.clone();
            pp[c] += step;
            jac.set_column(c, &((residuals(&pp) - &r) / step));
        }
        let jtj = jac.transpose() * &jac;
        let jtr = jac.transpose() * &r;
        let mut improved = false;
        for _ in 0..8 {
            let mut a = jtj.clone();
            for d in 0..n_par {
                a[(d, d)] += lambda * jtj[(d, d)].max(1e-12);
            }
            let Some(delta) = a.cholesky().map(|c| c.solve(&(-&jtr))) else {
                lambda *= 10.0;
                continue;
            };
            let trial: Vec<f64> = p.iter().zip(delta.iter()).map(|(a, b)| a + b).collect();
            let rt = residuals(&trial);
            let ct = rt.norm_squared();
            if ct < cost {
                let gain = cost - ct;
                p = trial;
                r = rt;
                cost = ct;
                lambda = (lambda / 10.0).max(1e-9);
                improved = gain > 1e-10 * cost.max(1e-12);
                break;
            }
            lambda *= 10.0;
        }
        if !improved {
            break;
        }
    }
    Some(Refined { ub: model(ub, &p), rms_px: (cost / g.len() as f64).sqrt() })
}

/// Sum of the squared pixel residuals (px²) of `ub` on the `matched` spots (their hkl ↔ measured pixel); a
/// reflection that does not reach the detector counts 10⁶ px².
pub fn residual_sum_px2(
    ub: &Matrix3<f64>,
    b0: &Matrix3<f64>,
    exp: &Experiment,
    spots: &[ExperimentalSpot],
    matched: &[MatchedSpot],
) -> f64 {
    let proj = exp.calibration.projector();
    let m = ub * b0;
    matched
        .iter()
        .map(|s| {
            let (x, y) = (spots[s.peak].x_px, spots[s.peak].y_px);
            match predict_pixel(&proj, &(m * hkl_vec(s.hkl))) {
                Some((px, py)) => (px - x).powi(2) + (py - y).powi(2),
                None => 1e6,
            }
        })
        .sum()
}

/// Probability with which a strain fitted to position noise alone passes [`strain_is_significant`].
pub const STRAIN_TEST_ALPHA: f64 = 1e-3;

/// Whether the deviatoric strain explains the spot positions better than position noise would: the F-test
/// of the two nested least-squares fits on the same n = 2 × spots pixel residuals, the rotation (3 parameters)
/// inside rotation + strain (8),
/// F = ((RSS_rotation − RSS_strain) / 5) / (RSS_strain / (n − 8)) above the F(5, n − 8) quantile at
/// 1 − [`STRAIN_TEST_ALPHA`]. A strain fitted only to the noise is kept with probability 10⁻³ whatever the
/// number of spots. (The likelihood-ratio form n·ln(RSS_rotation / RSS_strain) > χ²₅ used before is the same
/// test for many spots but not for few: it let noise through 6× too often at 16 spots, 2× at 36. On a simulated
/// PILATUS SiC-3C grain of 16 spots, 0.5 px of noise, it kept a strain that halved the RSS (F = 5.1 against
/// F(5, 24) = 6.0 at 10⁻³); the grain came out 0.16° off.) The RSS must drop by 55 % at 16 spots, 27 % at 36
/// and 5 % at 200. With fewer than 5 spots (no strain fit) the smaller residual wins.
pub fn strain_is_significant(rss_rotation: f64, rss_strain: f64, n_spots: usize) -> bool {
    if n_spots < 5 || rss_strain.is_nan() || rss_strain <= 0.0 || !rss_rotation.is_finite() {
        return rss_strain < rss_rotation;
    }
    let dof = 2.0 * n_spots as f64 - 8.0;
    let f = ((rss_rotation - rss_strain) / 5.0) / (rss_strain / dof);
    match statrs::distribution::FisherSnedecor::new(5.0, dof) {
        Ok(d) => f > statrs::distribution::ContinuousCDF::inverse_cdf(&d, 1.0 - STRAIN_TEST_ALPHA),
        Err(_) => rss_strain < rss_rotation,
    }
}

/// UB(p) = exp([ω]ₓ) · UB₀ · T(p).
fn model(ub0: &Matrix3<f64>, p: &[f64]) -> Matrix3<f64> {
    let rot = Rotation3::new(Vector3::new(p[0], p[1], p[2])).into_inner();
    let t = if p.len() == 8 {
        Matrix3::new(1.0, p[3], p[4], 0.0, 1.0 + p[5], p[6], 0.0, 0.0, 1.0 + p[7])
    } else {
        Matrix3::identity()
    };
    rot * ub0 * t
}

/// Pixel of the reflection with scattering vector `q` (lab frame, Å⁻¹), wherever its energy: None if it does not
/// scatter towards the detector.
pub fn predict_pixel(proj: &Projector, q: &Vector3<f64>) -> Option<(f64, f64)> {
    if q.x >= 0.0 {
        return None;
    }
    // Ewald radius R = 1/λ = |q|²/(−2 q_x); kf = q + (R, 0, 0).
    let radius = q.norm_squared() / (-2.0 * q.x);
    let uf = Vector3::new(q.x + radius, q.y, q.z) / radius;
    proj.uf_to_pixel(&uf)
}

/// The direct-lattice basis of a reciprocal basis `bstar` (columns a*, b*, c*, Å⁻¹, any orientation) in
/// LaueTools' direct crystal frame (x ∥ a, z ∥ c*; `CrystalParameters.calc_B_RR(…, directspace=0)`):
/// columns a, b, c (Å) = [[a, b cos γ, c cos β], [0, b sin γ, −c sin β cos α*], [0, 0, 1/c*]].
pub fn direct_frame_basis(bstar: &Matrix3<f64>) -> Option<Matrix3<f64>> {
    let direct = bstar.try_inverse()?.transpose();
    let (a, b, c) = (direct.column(0), direct.column(1), direct.column(2));
    let (la, lb, lc) = (a.norm(), b.norm(), c.norm());
    let cos = |x: &nalgebra::VectorView3<f64>, y: &nalgebra::VectorView3<f64>, lx: f64, ly: f64| {
        x.dot(y) / (lx * ly)
    };
    let (cos_beta, cos_gamma) = (cos(&c, &a, lc, la), cos(&a, &b, la, lb));
    let (bs, cs) = (bstar.column(1), bstar.column(2));
    let cos_alpha_star = bs.dot(&cs) / (bs.norm() * cs.norm());
    let sin = |x: f64| (1.0 - x * x).max(0.0).sqrt();
    Some(Matrix3::new(
        la,
        lb * cos_gamma,
        lc * cos_beta,
        0.0,
        lb * sin(cos_gamma),
        -lc * sin(cos_beta) * cos_alpha_star,
        0.0,
        0.0,
        1.0 / cs.norm(),
    ))
}

/// Deviatoric strain (dimensionless) of a UB in LaueTools' direct crystal frame (x ∥ a, z ∥ c*), as its
/// `CrystalParameters.compute_deviatoricstrain`: the strained and reference direct bases in that frame
/// ([`direct_frame_basis`] of UB·B0 and of B0), T = A·A₀⁻¹, ε = (T + Tᵀ)/2 − I, minus its trace/3. Depends on
/// the lattice parameters only (not on the orientation); for a cubic crystal the frame is the crystal axes.
pub fn deviatoric_strain_crystal(ub: &Matrix3<f64>, b0: &Matrix3<f64>) -> Matrix3<f64> {
    let (Some(a), Some(a0)) = (direct_frame_basis(&(ub * b0)), direct_frame_basis(b0)) else {
        return Matrix3::zeros();
    };
    let Some(a0_inv) = a0.try_inverse() else { return Matrix3::zeros() };
    let t = a * a0_inv;
    let eps = (t + t.transpose()) / 2.0 - Matrix3::identity();
    eps - Matrix3::identity() * (eps.trace() / 3.0)
}

/// The crystal-frame strain tensor ([`deviatoric_strain_crystal`]) in LaueTools' sample frame, as its
/// `strain_from_crystal_to_sample_frame2`: from the direct crystal frame to B0's frame (Q = B0⁻ᵀ·A₀⁻¹, the
/// identity for cubic, tetragonal and orthorhombic cells), to the lab through the rotation part of UB (polar
/// decomposition), then the 40° tilt of the sample surface about the lab y axis.
pub fn strain_in_sample_frame(
    eps_crystal: &Matrix3<f64>,
    ub: &Matrix3<f64>,
    b0: &Matrix3<f64>,
) -> Matrix3<f64> {
    let q = match (b0.try_inverse(), direct_frame_basis(b0).and_then(|a0| a0.try_inverse())) {
        (Some(b0_inv), Some(a0_inv)) => b0_inv.transpose() * a0_inv,
        _ => Matrix3::identity(),
    };
    let u = crate::geometry::orientation::nearest_rotation(ub);
    let lab = u * q * eps_crystal * q.transpose() * u.transpose();
    let tilt = Rotation3::from_axis_angle(&Vector3::y_axis(), -40f64.to_radians()).into_inner();
    tilt.transpose() * lab * tilt
}
