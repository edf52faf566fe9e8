//! Crystal orientations: UB matrices (q_lab = UB · B0 · hkl), LaueTools' Euler angles, quaternions,
//! misorientation under a Laue group, uniform sampling of SO(3) and reduction to the fundamental zone.

use nalgebra::{Matrix3, Rotation3, UnitQuaternion, Vector3};
use rand::Rng;

use crate::error::{LaueError, Result};

/// LaueTools' Euler angles (φ, θ, ψ in degrees: z, then x, then z) → orientation matrix
/// (generaltools.fromEULERangles_toMatrix).
pub fn euler_to_matrix(euler_deg: [f64; 3]) -> Matrix3<f64> {
    let (b, a) = euler_deg[0].to_radians().sin_cos();
    let (d, c) = euler_deg[1].to_radians().sin_cos();
    let (f, e) = euler_deg[2].to_radians().sin_cos();
    Matrix3::new(
        e * a - c * b * f,
        e * b + c * a * f,
        f * d,
        -a * f - b * c * e,
        -f * b + c * a * e,
        e * d,
        d * b,
        -a * d,
        c,
    )
}

/// Inverse of [`euler_to_matrix`] for a rotation matrix: (φ, θ, ψ) in degrees, θ in [0, 180].
pub fn matrix_to_euler(m: &Matrix3<f64>) -> [f64; 3] {
    // m[2][2] = cos θ, m[2][0] = sin θ sin φ, m[2][1] = −sin θ cos φ, m[0][2] = sin ψ sin θ, m[1][2] = cos ψ sin θ.
    let theta = m[(2, 2)].clamp(-1.0, 1.0).acos();
    if theta.sin().abs() > 1e-9 {
        let phi = m[(2, 0)].atan2(-m[(2, 1)]);
        let psi = m[(0, 2)].atan2(m[(1, 2)]);
        [phi.to_degrees(), theta.to_degrees(), psi.to_degrees()]
    } else {
        // Gimbal lock: only φ ± ψ is defined; put it all in φ.
        let phi = m[(0, 1)].atan2(m[(0, 0)]);
        [phi.to_degrees(), theta.to_degrees(), 0.0]
    }
}

/// The Euler angles (φ, θ, ψ, degrees) LaueTools writes in `.fit` files (`orientations.calc_Euler_angles` of
/// UB·B0): the reciprocal basis a*, b*, c* (columns of UB·B0) orthonormalised (a* kept, c* ⟂ a*, b*), then
/// θ = acos m₂₂, ψ = acos(m₁₂ / sin θ) ∈ [0, 180], φ = acos(−m₂₁ / sin θ), φ → 360 − φ when m₂₀ < 0; at θ = 0 or
/// 180 (|m₂₂| within 1e-5 of 1): ψ = 0, φ = ±acos m₀₀ (sign of m₀₁). A display convention: ψ loses its sign, so
/// these angles do not always give the matrix back through [`euler_to_matrix`] — use [`matrix_to_euler`] for that.
pub fn lauetools_fit_euler(ubb0: &Matrix3<f64>) -> [f64; 3] {
    let a = ubb0.column(0).normalize();
    let c = a.cross(&ubb0.column(1)).normalize();
    let b = c.cross(&a);
    let m = Matrix3::from_columns(&[a, b, c]);
    let acos_deg = |x: f64| x.clamp(-1.0, 1.0).acos().to_degrees();
    let theta = acos_deg(m[(2, 2)]);
    if (m[(2, 2)].abs() - 1.0).abs() < 1e-5 {
        let phi = acos_deg(m[(0, 0)]);
        [if m[(0, 1)] < 0.0 { -phi } else { phi }, theta, 0.0]
    } else {
        let st = (1.0 - m[(2, 2)] * m[(2, 2)]).sqrt();
        let psi = acos_deg(m[(1, 2)] / st);
        let phi = acos_deg(-m[(2, 1)] / st);
        [if m[(2, 0)] < 0.0 { 360.0 - phi } else { phi }, theta, psi]
    }
}

/// LaueTools' representative of a cubic orientation among its 24 equivalents (`findorient.
/// find_lowest_Euler_Angles_matrix`, applied by its indexer to every refined cubic grain): of the six
/// vectors ±a*, ±b*, ±c* (the columns of UB) the one with the largest lab z becomes c*, of the four left the
/// one with the largest lab x becomes a*, and b* completes a right-handed triad. Returns the relabelled UB
/// and the signed permutation `t` that takes the old Miller indices to the new ones (hkl′ = t · hkl, so
/// UB · hkl = UB′ · hkl′; B0 of a cubic crystal is a multiple of the identity and commutes with `t`). Ties
/// keep the first candidate, in LaueTools' order (a, b, c, −a, −b, −c). `ub` must have a positive
/// determinant.
pub fn lauetools_cubic_representative(ub: &Matrix3<f64>) -> (Matrix3<f64>, Matrix3<i32>) {
    let six: Vec<(Vector3<f64>, usize, i32)> = (0..6)
        .map(|i| {
            let sign = if i < 3 { 1 } else { -1 };
            (ub.column(i % 3) * f64::from(sign), i % 3, sign)
        })
        .collect();
    let first_max = |v: &[&(Vector3<f64>, usize, i32)], row: usize| {
        let mut best = 0;
        for (k, x) in v.iter().enumerate() {
            if x.0[row] > v[best].0[row] {
                best = k;
            }
        }
        best
    };
    let all: Vec<&(Vector3<f64>, usize, i32)> = six.iter().collect();
    let c = all[first_max(&all, 2)];
    let four: Vec<&(Vector3<f64>, usize, i32)> = six.iter().filter(|x| x.1 != c.1).collect();
    let a = four[first_max(&four, 0)];
    let two: Vec<&(Vector3<f64>, usize, i32)> = six.iter().filter(|x| x.1 != c.1 && x.1 != a.1).collect();
    let b = if c.0.cross(&a.0).dot(&two[0].0) > 0.0 { two[0] } else { two[1] };
    let new = Matrix3::from_columns(&[a.0, b.0, c.0]);
    // new column j = sign_j · old column axis_j, so hkl′_j = sign_j · hkl_{axis_j}
    let mut t = Matrix3::<i32>::zeros();
    for (j, x) in [a, b, c].iter().enumerate() {
        t[(j, x.1)] = x.2;
    }
    (new, t)
}

/// Checks a UB matrix: finite and invertible (it may contain strain, so it need not be orthogonal).
pub fn validate_ub(ub: &Matrix3<f64>) -> Result<()> {
    if ub.iter().any(|v| !v.is_finite()) {
        return Err(LaueError::InvalidOrientation("UB contains non-finite numbers".into()));
    }
    let det = ub.determinant();
    if det.abs() < 1e-6 {
        return Err(LaueError::InvalidOrientation(format!("UB is singular (determinant {det:.3e})")));
    }
    if det < 0.0 {
        return Err(LaueError::InvalidOrientation(format!(
            "UB has a negative determinant ({det:.4}): it is not a rotation (left-handed frame?)"
        )));
    }
    Ok(())
}

/// The rotation nearest to `m` (polar decomposition): strips the strain from a UB matrix.
pub fn nearest_rotation(m: &Matrix3<f64>) -> Matrix3<f64> {
    let svd = m.svd(true, true);
    match (svd.u, svd.v_t) {
        (Some(u), Some(v_t)) => {
            let mut r = u * v_t;
            if r.determinant() < 0.0 {
                let mut u2 = u;
                u2.column_mut(2).neg_mut();
                r = u2 * v_t;
            }
            r
        }
        _ => Matrix3::identity(),
    }
}

/// Rotation angle (deg) of a rotation matrix, accurate near 0 (atan2 of the axial and trace parts).
pub fn rotation_angle_deg(r: &Matrix3<f64>) -> f64 {
    let axial =
        Vector3::new(r[(2, 1)] - r[(1, 2)], r[(0, 2)] - r[(2, 0)], r[(1, 0)] - r[(0, 1)]).norm() / 2.0;
    axial.atan2((r.trace() - 1.0) / 2.0).to_degrees()
}

/// Misorientation angle (deg) between orientations `a` and `b` (rotations, q_lab = U · B0 · hkl) under the
/// crystal's proper rotations `sym` (in the B0 frame, from `LaueGroup::rotations`): min over S of ∠(aᵀ b S).
pub fn misorientation_deg(a: &Matrix3<f64>, b: &Matrix3<f64>, sym: &[Matrix3<f64>]) -> f64 {
    let d = nearest_rotation(a).transpose() * nearest_rotation(b);
    sym.iter().map(|s| rotation_angle_deg(&(d * s))).fold(f64::INFINITY, f64::min)
}

/// The symmetry-equivalent of `u` (u·S) with the smallest rotation angle: the orientation reduced to the
/// fundamental zone of the crystal symmetry.
pub fn reduce_to_fundamental_zone(u: &Matrix3<f64>, sym: &[Matrix3<f64>]) -> Matrix3<f64> {
    let r = nearest_rotation(u);
    sym.iter()
        .map(|s| r * s)
        .min_by(|x, y| rotation_angle_deg(x).total_cmp(&rotation_angle_deg(y)))
        .unwrap_or(r)
}

/// A rotation drawn uniformly from SO(3) (Haar measure) with Shoemake's method.
pub fn random_rotation<R: Rng + ?Sized>(rng: &mut R) -> Matrix3<f64> {
    let (u1, u2, u3): (f64, f64, f64) = (rng.random(), rng.random(), rng.random());
    let (s1, s2) = ((1.0 - u1).sqrt(), u1.sqrt());
    let (t2, t3) = (std::f64::consts::TAU * u2, std::f64::consts::TAU * u3);
    let q = nalgebra::Quaternion::new(s2 * t3.cos(), s1 * t2.sin(), s1 * t2.cos(), s2 * t3.sin());
    UnitQuaternion::from_quaternion(q).to_rotation_matrix().into_inner()
}

/// Rotation matrix → unit quaternion (w, x, y, z) with w ≥ 0.
pub fn matrix_to_quaternion(r: &Matrix3<f64>) -> [f64; 4] {
    let q = UnitQuaternion::from_rotation_matrix(&Rotation3::from_matrix_unchecked(nearest_rotation(r)));
    let s = if q.w < 0.0 { -1.0 } else { 1.0 };
    [s * q.w, s * q.i, s * q.j, s * q.k]
}

/// Unit quaternion (w, x, y, z) → rotation matrix.
pub fn quaternion_to_matrix(q: [f64; 4]) -> Matrix3<f64> {
    UnitQuaternion::from_quaternion(nalgebra::Quaternion::new(q[0], q[1], q[2], q[3]))
        .to_rotation_matrix()
        .into_inner()
}

/// Rotation about a lab axis by `angle_deg` applied on the left of `ub` (turns the crystal in the lab).
pub fn rotate_in_lab(ub: &Matrix3<f64>, axis: [f64; 3], angle_deg: f64) -> Result<Matrix3<f64>> {
    let v = Vector3::from(axis);
    if v.norm().partial_cmp(&0.0) != Some(std::cmp::Ordering::Greater) || !angle_deg.is_finite() {
        return Err(LaueError::InvalidOrientation(format!(
            "rotation axis {axis:?} / angle {angle_deg} not usable"
        )));
    }
    let r = Rotation3::from_axis_angle(&nalgebra::Unit::new_normalize(v), angle_deg.to_radians());
    Ok(r.into_inner() * ub)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crystal::{Lattice, LaueGroup};
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;

    fn cubic_sym() -> Vec<Matrix3<f64>> {
        LaueGroup::CubicM3m.rotations(&Lattice::cubic(3.6).unwrap()).unwrap()
    }

    #[test]
    fn euler_inverts() {
        // Agreement with LaueTools' fromEULERangles_toMatrix is checked on its own outputs in
        // tests/simulate_vs_lauetools.rs.
        let m = euler_to_matrix([82.528, 44.071, 175.319]);
        let e = matrix_to_euler(&m);
        assert!((euler_to_matrix(e) - m).abs().max() < 1e-12);
        assert!((m.determinant() - 1.0).abs() < 1e-12);
    }

    #[test]
    fn misorientation_properties() {
        let sym = cubic_sym();
        let mut rng = ChaCha8Rng::seed_from_u64(7);
        for _ in 0..200 {
            let a = random_rotation(&mut rng);
            let b = random_rotation(&mut rng);
            let ab = misorientation_deg(&a, &b, &sym);
            let ba = misorientation_deg(&b, &a, &sym);
            assert!((ab - ba).abs() < 1e-9, "not symmetric: {ab} {ba}");
            // Cubic misorientations never exceed 62.8°.
            assert!(ab <= 62.81, "{ab}");
            for s in &sym {
                assert!(misorientation_deg(&a, &(a * s), &sym) < 1e-6);
            }
            // Brute force with quaternions: min over all S of 2·acos|⟨q_a, q_b·q_S⟩|.
            let qa = UnitQuaternion::from_matrix(&a);
            let qb = UnitQuaternion::from_matrix(&b);
            let brute = sym
                .iter()
                .map(|s| {
                    let qs = UnitQuaternion::from_matrix(s);
                    let dot = (qa.coords.dot(&(qb * qs).coords)).abs().min(1.0);
                    2.0 * dot.acos().to_degrees()
                })
                .fold(f64::INFINITY, f64::min);
            assert!((ab - brute).abs() < 1e-6, "{ab} vs brute {brute}");
            // Reduction keeps the orientation and lands within the zone.
            let r = reduce_to_fundamental_zone(&a, &sym);
            assert!(misorientation_deg(&a, &r, &sym) < 1e-6);
            assert!(rotation_angle_deg(&r) <= 62.81);
        }
    }

    #[test]
    fn uniform_sampling_passes_ks_test() {
        // For Haar-uniform rotations the angle ω has CDF (ω − sin ω)/π.
        let mut rng = ChaCha8Rng::seed_from_u64(2024);
        let n = 20_000;
        let mut angles: Vec<f64> =
            (0..n).map(|_| rotation_angle_deg(&random_rotation(&mut rng)).to_radians()).collect();
        angles.sort_by(f64::total_cmp);
        let d = angles
            .iter()
            .enumerate()
            .map(|(i, &w)| {
                let f = (w - w.sin()) / std::f64::consts::PI;
                (f - i as f64 / n as f64).abs().max((f - (i + 1) as f64 / n as f64).abs())
            })
            .fold(0.0, f64::max);
        // 1 % critical value of the Kolmogorov–Smirnov statistic.
        assert!(d < 1.63 / (n as f64).sqrt(), "KS D = {d}");
        // The rotated z axis is uniform on the sphere: its z component is uniform on [−1, 1].
        let mut zs: Vec<f64> = (0..n).map(|_| (random_rotation(&mut rng) * Vector3::z()).z).collect();
        zs.sort_by(f64::total_cmp);
        let dz = zs
            .iter()
            .enumerate()
            .map(|(i, &z)| ((z + 1.0) / 2.0 - (i as f64 + 0.5) / n as f64).abs())
            .fold(0.0, f64::max);
        assert!(dz < 1.63 / (n as f64).sqrt() + 0.5 / n as f64, "KS D(z) = {dz}");
    }

    #[test]
    fn quaternion_round_trip_and_nearest_rotation() {
        let m = euler_to_matrix([10.0, 20.0, 30.0]);
        let q = matrix_to_quaternion(&m);
        assert!((quaternion_to_matrix(q) - m).abs().max() < 1e-12);
        let strained = m * Matrix3::new(1.001, 0.0005, 0.0, 0.0, 0.999, 0.0, 0.0, 0.0, 1.0);
        assert!((nearest_rotation(&strained) - m).abs().max() < 2e-3);
        assert!(validate_ub(&Matrix3::zeros()).is_err());
        assert!(validate_ub(&(-Matrix3::<f64>::identity())).is_err());
        let r = rotate_in_lab(&Matrix3::identity(), [0.0, 0.0, 1.0], 90.0).unwrap();
        assert!((r * Vector3::x() - Vector3::y()).norm() < 1e-12);
    }

    #[test]
    fn fit_file_euler_angles_as_lauetools_writes_them() {
        // Ge_blanc_0000_LT_5.fit: UBB0 and LaueTools' "Euler angles phi theta psi": [82.528 44.071 175.319].
        let ubb0 = Matrix3::new(
            -0.01263397,
            -0.17601872,
            -0.01003286,
            0.12737402,
            -0.00215826,
            -0.12253191,
            0.12189795,
            -0.01598804,
            0.12699661,
        );
        let e = lauetools_fit_euler(&ubb0);
        for (got, want) in e.iter().zip([82.528, 44.071, 175.319]) {
            assert!((got - want).abs() < 6e-4, "{e:?}");
        }
    }
}
