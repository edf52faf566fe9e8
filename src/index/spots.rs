//! Experimental spots: a peak list (pixel positions + calibration, or a `.cor` with 2θ, χ) turned into unit
//! scattering vectors q̂ in the lab frame (LaueTools' "LT lab": x along the beam, z up), the indexer's input.

use nalgebra::Vector3;
use serde::{Deserialize, Serialize};

use crate::geometry::{Calibration, angles_to_q_unit};
use crate::io::peaklist::CorFile;
use crate::peaks::Peak;

/// One measured Laue spot.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct ExperimentalSpot {
    /// pixel column (px, LaueTools' convention: first pixel centre at 1)
    pub x_px: f64,
    /// pixel row (px)
    pub y_px: f64,
    /// scattering angle 2θ (deg)
    pub twotheta_deg: f64,
    /// azimuth χ (deg)
    pub chi_deg: f64,
    /// intensity used to rank spots (counts; the peak list's own column)
    pub intensity: f64,
    /// unit scattering vector q/|q| in the lab frame
    pub q_unit: Vector3<f64>,
}

impl ExperimentalSpot {
    /// A spot from its pixel position and the detector calibration.
    pub fn from_pixel(x_px: f64, y_px: f64, intensity: f64, calibration: &Calibration) -> Self {
        let (twotheta_deg, chi_deg) = calibration.pixel_to_angles(x_px, y_px);
        ExperimentalSpot {
            x_px,
            y_px,
            twotheta_deg,
            chi_deg,
            intensity,
            q_unit: angles_to_q_unit(twotheta_deg, chi_deg),
        }
    }
}

/// Spots of a `.dat`-style peak list (ranked by `intensity`, peak_Itot, as LaueTools' `.cor` does), in the
/// list's order: spot i is peak i.
pub fn spots_from_peaks(peaks: &[Peak], calibration: &Calibration) -> Vec<ExperimentalSpot> {
    peaks.iter().map(|p| ExperimentalSpot::from_pixel(p.x, p.y, p.intensity, calibration)).collect()
}

/// Spots of a `.cor` file, taking its own 2θ, χ (as LaueTools does), in the file's order.
pub fn spots_from_cor(cor: &CorFile) -> Vec<ExperimentalSpot> {
    cor.peaks
        .iter()
        .map(|p| ExperimentalSpot {
            x_px: p.x,
            y_px: p.y,
            twotheta_deg: p.twotheta_deg,
            chi_deg: p.chi_deg,
            intensity: p.intensity,
            q_unit: angles_to_q_unit(p.twotheta_deg, p.chi_deg),
        })
        .collect()
}

/// Angle (deg) between two unit vectors, accurate for small angles.
pub fn angle_deg(a: &Vector3<f64>, b: &Vector3<f64>) -> f64 {
    a.cross(b).norm().atan2(a.dot(b)).to_degrees()
}
