//! Detector calibration in LaueTools' conventions and the maps pixel ↔ (2θ, χ) ↔ unit scattered vector.
//!
//! Lab frame ("LT lab"): x along the incident beam, z vertical up towards the detector (top reflection,
//! kf_direction "Z>0"), y = z × x. Pixels: X = column, Y = row, first pixel centre at (1, 1) in LaueTools
//! files; the maps here take the pixel coordinates as given.

use nalgebra::Vector3;
use serde::{Deserialize, Serialize};

use crate::error::{LaueError, Result};

/// LaueTools' five detector parameters plus pixel size and frame.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Calibration {
    /// dd: distance from the scattering point to the detector plane along its normal (mm)
    pub distance_mm: f64,
    /// xcen: pixel column of the normal's foot O (px)
    pub xcen_px: f64,
    /// ycen: pixel row of O (px)
    pub ycen_px: f64,
    /// xbet: tilt of the detector normal from the vertical z axis (deg)
    pub xbet_deg: f64,
    /// xgam: in-plane rotation of the pixel axes about the normal (deg)
    pub xgam_deg: f64,
    /// pixel size (mm)
    pub pixel_size_mm: f64,
    /// frame rows (LaueTools framedim[0])
    pub rows: usize,
    /// frame columns (LaueTools framedim[1])
    pub cols: usize,
}

/// Detector presets from LaueTools' table (name, rows, cols, pixel size mm).
pub const DETECTORS: &[(&str, usize, usize, f64)] = &[
    ("MARCCD165", 2048, 2048, 0.079142),
    ("sCMOS", 2018, 2016, 0.0734),
    ("sCMOS_16M", 4036, 4032, 0.0367),
    ("EIGER_4MCdTe", 2162, 2068, 0.075),
];

impl Calibration {
    /// Checks that every value is usable: finite, positive distance/pixel/frame, |xbet| < 90°.
    pub fn validated(self) -> Result<Self> {
        let c = self;
        let vals = [c.distance_mm, c.xcen_px, c.ycen_px, c.xbet_deg, c.xgam_deg, c.pixel_size_mm];
        if vals.iter().any(|v| !v.is_finite()) {
            return Err(LaueError::InvalidCalibration(format!("non-finite value in {vals:?}")));
        }
        if c.distance_mm <= 0.0 {
            return Err(LaueError::InvalidCalibration(format!(
                "distance dd = {} mm must be > 0",
                c.distance_mm
            )));
        }
        if c.pixel_size_mm <= 0.0 {
            return Err(LaueError::InvalidCalibration(format!(
                "pixel size {} mm must be > 0",
                c.pixel_size_mm
            )));
        }
        if c.xbet_deg.abs() >= 90.0 {
            return Err(LaueError::InvalidCalibration(format!("xbet = {}° must be within ±90°", c.xbet_deg)));
        }
        if c.rows == 0 || c.cols == 0 || c.rows > 100_000 || c.cols > 100_000 {
            return Err(LaueError::InvalidCalibration(format!(
                "frame {}×{} (rows×cols) is not usable",
                c.rows, c.cols
            )));
        }
        Ok(c)
    }

    /// `[dd, xcen, ycen, xbet, xgam]` as LaueTools lists them.
    pub fn params(&self) -> [f64; 5] {
        [self.distance_mm, self.xcen_px, self.ycen_px, self.xbet_deg, self.xgam_deg]
    }

    /// Precomputed trigonometry for fast projections.
    pub fn projector(&self) -> Projector {
        let beta = std::f64::consts::FRAC_PI_2 - self.xbet_deg.to_radians();
        let gam = -self.xgam_deg.to_radians();
        Projector {
            dd: self.distance_mm,
            xcen: self.xcen_px,
            ycen: self.ycen_px,
            pixel: self.pixel_size_mm,
            cos_beta: beta.cos(),
            sin_beta: beta.sin(),
            cos_gam: gam.cos(),
            sin_gam: gam.sin(),
        }
    }

    /// Pixel (x = column, y = row) → scattering angles (2θ, χ) in degrees, as LaueGeometry.calc_uflab.
    pub fn pixel_to_angles(&self, x: f64, y: f64) -> (f64, f64) {
        let uf = self.projector().pixel_to_uf(x, y);
        uf_to_angles(&uf)
    }

    /// Scattering angles (deg) → pixel, as LaueGeometry.calc_xycam_from2thetachi. None when the ray does not
    /// meet the detector plane in front of the sample.
    pub fn angles_to_pixel(&self, twotheta_deg: f64, chi_deg: f64) -> Option<(f64, f64)> {
        self.projector().uf_to_pixel(&angles_to_uf(twotheta_deg, chi_deg))
    }

    /// Unit scattered vector kf/|kf| in the lab frame for a pixel.
    pub fn pixel_to_uf(&self, x: f64, y: f64) -> Vector3<f64> {
        self.projector().pixel_to_uf(x, y)
    }

    /// Unit scattering vector q/|q| (lab frame) for a pixel: q ∝ kf − ki.
    pub fn pixel_to_q_unit(&self, x: f64, y: f64) -> Vector3<f64> {
        let uf = self.pixel_to_uf(x, y);
        (uf - Vector3::x()).normalize()
    }
}

/// Calibration with its trigonometry precomputed.
#[derive(Debug, Clone, Copy)]
pub struct Projector {
    dd: f64,
    xcen: f64,
    ycen: f64,
    pixel: f64,
    cos_beta: f64,
    sin_beta: f64,
    cos_gam: f64,
    sin_gam: f64,
}

impl Projector {
    /// Unit scattered vector (lab frame) of the ray hitting pixel (x, y).
    pub fn pixel_to_uf(&self, x: f64, y: f64) -> Vector3<f64> {
        let x1 = (x - self.xcen) * self.pixel;
        let y1 = (y - self.ycen) * self.pixel;
        let xca0 = self.cos_gam * x1 - self.sin_gam * y1;
        let yca0 = self.sin_gam * x1 + self.cos_gam * y1;
        // LaueTools' geometry frame has its second axis along the beam: (x2, y2, z2) = (−y, x, z) of the lab.
        let m2 = Vector3::new(
            xca0,
            self.dd * self.cos_beta + yca0 * self.sin_beta,
            self.dd * self.sin_beta - yca0 * self.cos_beta,
        );
        let u2 = m2 / m2.norm();
        Vector3::new(u2.y, -u2.x, u2.z)
    }

    /// Pixel hit by a ray of unit direction `uf` (lab frame); None if it points away from the detector plane.
    #[inline]
    pub fn uf_to_pixel(&self, uf: &Vector3<f64>) -> Option<(f64, f64)> {
        // Geometry frame components of uf.
        let (ux, uy, uz) = (-uf.y, uf.x, uf.z);
        let scal = uy * self.cos_beta + uz * self.sin_beta;
        if scal <= 0.0 || !scal.is_finite() {
            return None;
        }
        let t = self.dd / scal;
        // OM = IM − IO.
        let omx = ux * t;
        let omy = uy * t - self.dd * self.cos_beta;
        let omz = uz * t - self.dd * self.sin_beta;
        let xca0 = omx;
        let yca0 = if self.sin_beta != 0.0 { omy / self.sin_beta } else { -omz / self.cos_beta };
        let x1 = self.cos_gam * xca0 + self.sin_gam * yca0;
        let y1 = -self.sin_gam * xca0 + self.cos_gam * yca0;
        Some((self.xcen + x1 / self.pixel, self.ycen + y1 / self.pixel))
    }
}

/// (2θ, χ) in degrees of a unit scattered vector (lab frame), LaueTools' convention
/// (χ = arctan(−uf_x/uf_z) in its geometry frame, i.e. arctan(uf_y/uf_z) in the lab frame).
pub fn uf_to_angles(uf: &Vector3<f64>) -> (f64, f64) {
    let twotheta = uf.x.clamp(-1.0, 1.0).acos().to_degrees();
    let chi = (uf.y / (uf.z + 1e-17)).atan().to_degrees();
    (twotheta, chi)
}

/// Unit scattered vector (lab frame) for (2θ, χ) in degrees.
pub fn angles_to_uf(twotheta_deg: f64, chi_deg: f64) -> Vector3<f64> {
    let (s2t, c2t) = twotheta_deg.to_radians().sin_cos();
    let (sc, cc) = chi_deg.to_radians().sin_cos();
    Vector3::new(c2t, s2t * sc, s2t * cc)
}

/// Unit scattering vector q/|q| (lab frame) for (2θ, χ) in degrees: (−sin θ, cos θ sin χ, cos θ cos χ).
pub fn angles_to_q_unit(twotheta_deg: f64, chi_deg: f64) -> Vector3<f64> {
    let (st, ct) = (twotheta_deg / 2.0).to_radians().sin_cos();
    let (sc, cc) = chi_deg.to_radians().sin_cos();
    Vector3::new(-st, ct * sc, ct * cc)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn flat() -> Calibration {
        Calibration {
            distance_mm: 70.0,
            xcen_px: 1024.0,
            ycen_px: 1024.0,
            xbet_deg: 0.0,
            xgam_deg: 0.0,
            pixel_size_mm: 0.079142,
            rows: 2048,
            cols: 2048,
        }
    }

    #[test]
    fn flat_detector_formulas() {
        let c = flat();
        let (tth, chi) = c.pixel_to_angles(1024.0, 1024.0);
        assert!((tth - 90.0).abs() < 1e-12 && chi.abs() < 1e-12);
        // cos 2θ = Y/√(X²+Y²+dd²), χ = atan(−X/dd), X = (x−xcen)p, Y = (y−ycen)p.
        let (x, y) = (1500.0, 300.0);
        let (xm, ym) = ((x - 1024.0) * 0.079142, (y - 1024.0) * 0.079142);
        let (tth, chi) = c.pixel_to_angles(x, y);
        let want_tth = (ym / (xm * xm + ym * ym + 70.0 * 70.0).sqrt()).acos().to_degrees();
        let want_chi = (-xm / 70.0f64).atan().to_degrees();
        assert!((tth - want_tth).abs() < 1e-10, "{tth} {want_tth}");
        assert!((chi - want_chi).abs() < 1e-10, "{chi} {want_chi}");
        // Larger y → smaller 2θ; larger x → negative χ.
        assert!(c.pixel_to_angles(1024.0, 1500.0).0 < 90.0);
        assert!(c.pixel_to_angles(1500.0, 1024.0).1 < 0.0);
    }

    #[test]
    fn round_trip_over_the_frame_with_tilts() {
        for (xbet, xgam) in [(0.63, -0.682), (0.3456, 0.3607), (5.0, 3.0), (-12.0, 45.0)] {
            let c = Calibration { xbet_deg: xbet, xgam_deg: xgam, xcen_px: 941.7, ycen_px: 1082.6, ..flat() };
            let mut worst: f64 = 0.0;
            for i in 0..=64 {
                for j in 0..=64 {
                    let (x, y) = (i as f64 * 2047.0 / 64.0, j as f64 * 2047.0 / 64.0);
                    let (tth, chi) = c.pixel_to_angles(x, y);
                    let (x2, y2) = c.angles_to_pixel(tth, chi).unwrap();
                    worst = worst.max((x2 - x).abs()).max((y2 - y).abs());
                }
            }
            assert!(worst < 1e-9, "xbet {xbet} xgam {xgam}: worst round trip {worst} px");
        }
    }

    #[test]
    fn bad_calibrations_are_refused() {
        assert!(Calibration { distance_mm: -1.0, ..flat() }.validated().is_err());
        assert!(Calibration { pixel_size_mm: 0.0, ..flat() }.validated().is_err());
        assert!(Calibration { xcen_px: f64::NAN, ..flat() }.validated().is_err());
        assert!(Calibration { rows: 0, ..flat() }.validated().is_err());
        assert!(flat().validated().is_ok());
    }

    #[test]
    fn q_unit_is_bisector() {
        let q = angles_to_q_unit(80.0, 20.0);
        let uf = angles_to_uf(80.0, 20.0);
        let q2 = (uf - Vector3::x()).normalize();
        assert!((q - q2).norm() < 1e-12);
    }
}
