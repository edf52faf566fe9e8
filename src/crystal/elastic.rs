//! Single-crystal elastic stiffness constants, and stress from the deviatoric strain a Laue pattern gives.
//!
//! A Laue pattern fixes the shape of the unit cell, not its size: only the deviatoric strain ε′ is measured.
//! For a cubic crystal the hydrostatic part of the strain only makes a hydrostatic stress, so the deviatoric
//! stress is exactly dev(C : ε′); for other classes it is the usual approximation (the hydrostatic strain's
//! deviatoric stress, of order (C₁₃ − C₁₂)·tr ε/3, is left out). Stresses are in the crystal's Cartesian frame
//! of the constants — for every class here LaueTools' direct crystal frame (x ∥ a, z ∥ c*) — and rotate to the
//! sample frame as the strain does.
//!
//! Values (GPa, room temperature, Voigt notation):
//! - cubic metals and semiconductors: C. Kittel, *Introduction to Solid State Physics*, 8th ed. (Wiley, 2005),
//!   ch. 3, table of adiabatic elastic stiffness constants of cubic crystals (10¹¹ N/m² × 100);
//! - GaN (wurtzite): A. Polian, M. Grimsditch, I. Grzegory, J. Appl. Phys. 79, 3343 (1996), Brillouin scattering;
//! - α-Ti: E. S. Fisher, C. J. Renken, Phys. Rev. 135, A482 (1964).

use nalgebra::{Matrix3, Matrix6, Vector6};

/// A 6 × 6 stiffness matrix in Voigt order (xx, yy, zz, yz, xz, xy), GPa, with where the numbers come from.
#[derive(Debug, Clone, PartialEq)]
pub struct Stiffness {
    pub c: Matrix6<f64>,
    pub source: &'static str,
}

const KITTEL: &str = "Kittel, Introduction to Solid State Physics, 8th ed., ch. 3 (room temperature)";

impl Stiffness {
    /// Cubic: C11, C12, C44 (GPa).
    pub fn cubic(c11: f64, c12: f64, c44: f64, source: &'static str) -> Self {
        let mut c = Matrix6::zeros();
        for i in 0..3 {
            for j in 0..3 {
                c[(i, j)] = if i == j { c11 } else { c12 };
            }
            c[(i + 3, i + 3)] = c44;
        }
        Stiffness { c, source }
    }

    /// Hexagonal (z ∥ c): C11, C12, C13, C33, C44 (GPa); C66 = (C11 − C12)/2.
    pub fn hexagonal(c11: f64, c12: f64, c13: f64, c33: f64, c44: f64, source: &'static str) -> Self {
        let mut c = Matrix6::zeros();
        c[(0, 0)] = c11;
        c[(1, 1)] = c11;
        c[(2, 2)] = c33;
        c[(0, 1)] = c12;
        c[(1, 0)] = c12;
        c[(0, 2)] = c13;
        c[(2, 0)] = c13;
        c[(1, 2)] = c13;
        c[(2, 1)] = c13;
        c[(3, 3)] = c44;
        c[(4, 4)] = c44;
        c[(5, 5)] = (c11 - c12) / 2.0;
        Stiffness { c, source }
    }

    /// The stiffness of a material of the table, by name; None when the table has no constants for it.
    pub fn of(material: &str) -> Option<Self> {
        Some(match material {
            "Cu" => Self::cubic(168.4, 121.4, 75.4, KITTEL),
            "Si" => Self::cubic(165.7, 63.9, 79.6, KITTEL),
            "Ge" => Self::cubic(128.5, 48.3, 68.0, KITTEL),
            "W" => Self::cubic(523.3, 204.5, 160.7, KITTEL),
            "Al" => Self::cubic(106.8, 60.7, 28.2, KITTEL),
            "Ni" => Self::cubic(250.8, 150.0, 123.5, KITTEL),
            "Fe" => Self::cubic(237.0, 141.0, 116.0, KITTEL),
            "Au" => Self::cubic(192.3, 163.1, 42.0, KITTEL),
            "Ag" => Self::cubic(124.0, 93.7, 46.1, KITTEL),
            "GaN" => Self::hexagonal(
                390.0,
                145.0,
                106.0,
                398.0,
                105.0,
                "Polian et al., J. Appl. Phys. 79, 3343 (1996)",
            ),
            "Ti" => Self::hexagonal(
                162.4,
                92.0,
                69.0,
                180.7,
                46.7,
                "Fisher & Renken, Phys. Rev. 135, A482 (1964)",
            ),
            _ => return None,
        })
    }

    /// The stress (GPa) of a strain tensor (dimensionless, symmetric): σ = C : ε with engineering shears.
    pub fn stress(&self, eps: &Matrix3<f64>) -> Matrix3<f64> {
        let e = Vector6::new(
            eps[(0, 0)],
            eps[(1, 1)],
            eps[(2, 2)],
            2.0 * eps[(1, 2)],
            2.0 * eps[(0, 2)],
            2.0 * eps[(0, 1)],
        );
        let s = self.c * e;
        Matrix3::new(s[0], s[5], s[4], s[5], s[1], s[3], s[4], s[3], s[2])
    }

    /// The deviatoric stress (GPa) of a deviatoric strain: dev(C : ε′).
    pub fn deviatoric_stress(&self, eps_dev: &Matrix3<f64>) -> Matrix3<f64> {
        let s = self.stress(eps_dev);
        s - Matrix3::identity() * (s.trace() / 3.0)
    }
}

/// The von Mises equivalent of a stress tensor (same unit): √(3/2 · s′ : s′).
pub fn von_mises_stress(s: &Matrix3<f64>) -> f64 {
    let d = s - Matrix3::identity() * (s.trace() / 3.0);
    (1.5 * d.component_mul(&d).sum()).sqrt()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cubic_stress_of_uniaxial_and_shear_strain() {
        let cu = Stiffness::of("Cu").expect("Cu");
        // ε_xx = 1e-3 alone: σ_xx = C11 ε, σ_yy = σ_zz = C12 ε
        let s = cu.stress(&Matrix3::new(1e-3, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0));
        assert!((s[(0, 0)] - 0.1684).abs() < 1e-12 && (s[(1, 1)] - 0.1214).abs() < 1e-12);
        // ε_xy = 1e-3: σ_xy = 2 C44 ε
        let s = cu.stress(&Matrix3::new(0.0, 1e-3, 0.0, 1e-3, 0.0, 0.0, 0.0, 0.0, 0.0));
        assert!((s[(0, 1)] - 0.1508).abs() < 1e-12 && (s[(1, 0)] - 0.1508).abs() < 1e-12);
        // hydrostatic strain gives a hydrostatic stress in a cubic crystal: no deviatoric part
        let d = cu.deviatoric_stress(&(Matrix3::identity() * 1e-3));
        assert!(d.amax() < 1e-12);
        // von Mises of a pure shear τ: √3 τ
        let tau = Matrix3::new(0.0, 1.0, 0.0, 1.0, 0.0, 0.0, 0.0, 0.0, 0.0);
        assert!((von_mises_stress(&tau) - 3f64.sqrt()).abs() < 1e-12);
    }

    #[test]
    fn hexagonal_is_transversely_isotropic() {
        let gan = Stiffness::of("GaN").expect("GaN");
        // a strain along x and the same along y give stresses that map onto each other
        let sx = gan.stress(&Matrix3::new(1e-3, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0));
        let sy = gan.stress(&Matrix3::new(0.0, 0.0, 0.0, 0.0, 1e-3, 0.0, 0.0, 0.0, 0.0));
        assert!((sx[(0, 0)] - sy[(1, 1)]).abs() < 1e-12 && (sx[(2, 2)] - sy[(2, 2)]).abs() < 1e-12);
        assert!(Stiffness::of("unobtainium").is_none());
    }
}
