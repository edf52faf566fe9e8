//! Unit cells: direct and reciprocal metrics and LaueTools' B0 matrix (Busing & Levy, Acta Cryst. 22, 457, 1967).
//!
//! Reciprocal vectors carry no 2π: a·a* = 1, so |q| = 1/d in Å⁻¹.

use nalgebra::{Matrix3, Vector3};
use serde::{Deserialize, Serialize};

use crate::error::{LaueError, Result};

/// Lattice parameters of a unit cell: lengths in Å, angles in degrees.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Lattice {
    /// a, b, c (Å)
    pub a: f64,
    pub b: f64,
    pub c: f64,
    /// α (between b and c), β (between a and c), γ (between a and b), degrees
    pub alpha: f64,
    pub beta: f64,
    pub gamma: f64,
}

/// Reciprocal lattice parameters: a*, b*, c* in Å⁻¹ (no 2π), angles in degrees.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct ReciprocalLattice {
    pub a_star: f64,
    pub b_star: f64,
    pub c_star: f64,
    pub alpha_star: f64,
    pub beta_star: f64,
    pub gamma_star: f64,
}

impl Lattice {
    /// A checked lattice from `[a, b, c, α, β, γ]` (Å, degrees).
    pub fn new(p: [f64; 6]) -> Result<Self> {
        let bad = |reason: &str| LaueError::InvalidLattice { lattice: p, reason: reason.to_string() };
        if p.iter().any(|v| !v.is_finite()) {
            return Err(bad("all six parameters must be finite numbers"));
        }
        if p[..3].iter().any(|&v| v <= 0.0) {
            return Err(bad("lengths a, b, c must be > 0 Å"));
        }
        if p[3..].iter().any(|&v| v <= 0.0 || v >= 180.0) {
            return Err(bad("angles must lie strictly between 0 and 180 degrees"));
        }
        let l = Lattice { a: p[0], b: p[1], c: p[2], alpha: p[3], beta: p[4], gamma: p[5] };
        if l.volume_factor() <= 1e-12 {
            return Err(bad("these angles do not close a cell (α, β, γ violate the triangle inequalities)"));
        }
        Ok(l)
    }

    /// Cubic cell of edge `a` (Å).
    pub fn cubic(a: f64) -> Result<Self> {
        Self::new([a, a, a, 90.0, 90.0, 90.0])
    }

    /// Hexagonal cell (γ = 120°).
    pub fn hexagonal(a: f64, c: f64) -> Result<Self> {
        Self::new([a, a, c, 90.0, 90.0, 120.0])
    }

    /// `[a, b, c, α, β, γ]`.
    pub fn params(&self) -> [f64; 6] {
        [self.a, self.b, self.c, self.alpha, self.beta, self.gamma]
    }

    fn cosines(&self) -> (f64, f64, f64) {
        (self.alpha.to_radians().cos(), self.beta.to_radians().cos(), self.gamma.to_radians().cos())
    }

    /// 1 + 2 cosα cosβ cosγ − cos²α − cos²β − cos²γ (the squared volume of the cell with unit edges).
    fn volume_factor(&self) -> f64 {
        let (ca, cb, cg) = self.cosines();
        1.0 + 2.0 * ca * cb * cg - ca * ca - cb * cb - cg * cg
    }

    /// Cell volume (Å³).
    pub fn volume(&self) -> f64 {
        self.a * self.b * self.c * self.volume_factor().sqrt()
    }

    /// Direct metric tensor G (Å²): G_ij = a_i · a_j.
    pub fn direct_metric(&self) -> Matrix3<f64> {
        let (ca, cb, cg) = self.cosines();
        let (a, b, c) = (self.a, self.b, self.c);
        Matrix3::new(
            a * a,
            a * b * cg,
            a * c * cb,
            a * b * cg,
            b * b,
            b * c * ca,
            a * c * cb,
            b * c * ca,
            c * c,
        )
    }

    /// Reciprocal metric tensor G* = G⁻¹ (Å⁻²); 1/d²(hkl) = hᵀ G* h.
    pub fn reciprocal_metric(&self) -> Matrix3<f64> {
        // The lattice was validated, so G is invertible.
        self.direct_metric().try_inverse().unwrap_or_else(Matrix3::zeros)
    }

    /// Reciprocal lattice parameters (no 2π).
    pub fn reciprocal(&self) -> ReciprocalLattice {
        let (ca, cb, cg) = self.cosines();
        let (sa, sb, sg) =
            (self.alpha.to_radians().sin(), self.beta.to_radians().sin(), self.gamma.to_radians().sin());
        let v = self.volume();
        ReciprocalLattice {
            a_star: self.b * self.c * sa / v,
            b_star: self.a * self.c * sb / v,
            c_star: self.a * self.b * sg / v,
            alpha_star: ((cb * cg - ca) / (sb * sg)).clamp(-1.0, 1.0).acos().to_degrees(),
            beta_star: ((ca * cg - cb) / (sa * sg)).clamp(-1.0, 1.0).acos().to_degrees(),
            gamma_star: ((ca * cb - cg) / (sa * sb)).clamp(-1.0, 1.0).acos().to_degrees(),
        }
    }

    /// LaueTools' B0: upper-triangular, columns a*, b*, c* in an orthonormal crystal frame (Å⁻¹),
    /// with a* along x and b* in the xy plane, so q = UB · B0 · (h, k, l).
    pub fn b0(&self) -> Matrix3<f64> {
        let r = self.reciprocal();
        let (bes, gas) = (r.beta_star.to_radians(), r.gamma_star.to_radians());
        let alpha = self.alpha.to_radians();
        Matrix3::new(
            r.a_star,
            r.b_star * gas.cos(),
            r.c_star * bes.cos(),
            0.0,
            r.b_star * gas.sin(),
            -r.c_star * bes.sin() * alpha.cos(),
            0.0,
            0.0,
            r.c_star * bes.sin() * alpha.sin(),
        )
    }

    /// Direct basis as columns a, b, c (Å) in the same orthonormal frame as [`Lattice::b0`]: A = B0⁻ᵀ.
    pub fn direct_basis(&self) -> Matrix3<f64> {
        self.b0().try_inverse().map(|m| m.transpose()).unwrap_or_else(Matrix3::zeros)
    }

    /// Interplanar spacing d(hkl) in Å.
    pub fn d_spacing(&self, hkl: [i32; 3]) -> f64 {
        let h = Vector3::new(hkl[0] as f64, hkl[1] as f64, hkl[2] as f64);
        1.0 / (h.transpose() * self.reciprocal_metric() * h)[(0, 0)].sqrt()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ge_b0_is_diagonal_inverse_a() {
        let l = Lattice::cubic(5.6575).unwrap();
        let b0 = l.b0();
        // LaueTools' .fit for Ge_blanc prints B0 = 0.17675652·I.
        for i in 0..3 {
            for j in 0..3 {
                let want = if i == j { 0.17675652 } else { 0.0 };
                assert!((b0[(i, j)] - want).abs() < 1e-8, "B0[{i},{j}] = {}", b0[(i, j)]);
            }
        }
    }

    #[test]
    fn reciprocal_and_direct_are_dual() {
        let l = Lattice::new([5.1505, 5.2116, 5.3173, 90.0, 99.23, 90.0]).unwrap();
        let prod = l.direct_basis().transpose() * l.b0();
        assert!((prod - Matrix3::identity()).abs().max() < 1e-12);
        // B0ᵀB0 is the reciprocal metric.
        assert!((l.b0().transpose() * l.b0() - l.reciprocal_metric()).abs().max() < 1e-12);
        // Monoclinic volume abc·sinβ.
        assert!((l.volume() - 5.1505 * 5.2116 * 5.3173 * 99.23f64.to_radians().sin()).abs() < 1e-9);
    }

    #[test]
    fn hexagonal_d_spacings() {
        let l = Lattice::hexagonal(3.189, 5.185).unwrap();
        // d(100) = a·√3/2, d(002) = c/2.
        assert!((l.d_spacing([1, 0, 0]) - 3.189 * 3f64.sqrt() / 2.0).abs() < 1e-12);
        assert!((l.d_spacing([0, 0, 2]) - 5.185 / 2.0).abs() < 1e-12);
        let r = l.reciprocal();
        assert!((r.gamma_star - 60.0).abs() < 1e-9);
    }

    #[test]
    fn impossible_cells_are_refused() {
        assert!(Lattice::new([1.0, 1.0, 1.0, 90.0, 90.0, 190.0]).is_err());
        assert!(Lattice::new([0.0, 1.0, 1.0, 90.0, 90.0, 90.0]).is_err());
        assert!(Lattice::new([1.0, 1.0, 1.0, 10.0, 10.0, 100.0]).is_err());
        assert!(Lattice::new([f64::NAN, 1.0, 1.0, 90.0, 90.0, 90.0]).is_err());
    }
}
