//! The spot network's positions in the pipeline: indexing can use them instead of the peak search's
//! Gaussian fit, and says which it used.
//!
//! Only spots the network calls good take its position: its Pos is trained for Gaussian-like spots within
//! ±1.1 px of the detected pixel, so a bad spot (Sim ≤ threshold or far off) keeps the fitted position
//! rather than a clipped or meaningless one. No peak is dropped.

use serde::{Deserialize, Serialize};

use super::descriptors::Descriptors;
use crate::error::{LaueError, Result, Stage};
use crate::peaks::Peak;

/// Where the peak positions given to indexing come from.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PositionSource {
    /// the peak search's 2D Gaussian fit (LaueTools' positions)
    #[default]
    Fit,
    /// the spot network's Pos for the spots it calls good, the fit for the others
    Cnn,
}

impl std::str::FromStr for PositionSource {
    type Err = LaueError;
    fn from_str(s: &str) -> Result<Self> {
        match s.to_ascii_lowercase().as_str() {
            "fit" => Ok(PositionSource::Fit),
            "cnn" => Ok(PositionSource::Cnn),
            _ => Err(LaueError::settings(Stage::Indexing, format!("positions '{s}': use fit or cnn"))),
        }
    }
}

/// Which positions the peaks ended up with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct PositionReport {
    pub source: PositionSource,
    /// peaks at the network's position
    pub from_cnn: usize,
    /// peaks at the fitted position (all of them with [`PositionSource::Fit`])
    pub from_fit: usize,
}

impl PositionReport {
    /// All `n` peaks at their fitted positions.
    pub fn fit(n: usize) -> Self {
        PositionReport { source: PositionSource::Fit, from_cnn: 0, from_fit: n }
    }
}

impl std::fmt::Display for PositionReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.source {
            PositionSource::Fit => write!(f, "positions: Gaussian fit ({} peaks)", self.from_fit),
            PositionSource::Cnn => write!(
                f,
                "positions: spot network for {} of {} peaks (the {} it calls bad keep the Gaussian fit)",
                self.from_cnn,
                self.from_cnn + self.from_fit,
                self.from_fit
            ),
        }
    }
}

/// Moves each peak the network calls good to the network's position (px, LaueTools' convention), keeping
/// `x_dev`, `y_dev` as the offsets from the detected pixel. `descriptors` are in the order of `peaks`.
pub fn use_cnn_positions(peaks: &mut [Peak], descriptors: &[Descriptors]) -> Result<PositionReport> {
    if peaks.len() != descriptors.len() {
        return Err(LaueError::settings(
            Stage::SpotNetwork,
            format!(
                "{} peaks but {} spot descriptors: they must be of the same list",
                peaks.len(),
                descriptors.len()
            ),
        ));
    }
    let mut from_cnn = 0;
    for (p, d) in peaks.iter_mut().zip(descriptors) {
        if !d.good || !d.pos_x.is_finite() || !d.pos_y.is_finite() {
            continue;
        }
        let (detected_x, detected_y) = p.detected_pixel();
        p.x = d.pos_x;
        p.y = d.pos_y;
        p.x_dev = d.pos_x - detected_x;
        p.y_dev = d.pos_y - detected_y;
        from_cnn += 1;
    }
    Ok(PositionReport { source: PositionSource::Cnn, from_cnn, from_fit: peaks.len() - from_cnn })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn peak(x: f64, y: f64, dx: f64, dy: f64) -> Peak {
        Peak {
            x,
            y,
            intensity: 1000.0,
            intensity_sub: 900.0,
            sigma_major: 1.0,
            sigma_minor: 1.0,
            inclination: 0.0,
            x_dev: dx,
            y_dev: dy,
            background: 100.0,
            max_pixel: 1000.0,
        }
    }

    fn desc(x: f64, y: f64, good: bool) -> Descriptors {
        Descriptors { sim: if good { 0.9 } else { 0.1 }, pos_x: x, pos_y: y, asp: 1.0, area: 3.0, good }
    }

    #[test]
    fn good_spots_take_the_network_position_bad_ones_keep_the_fit() {
        let mut peaks = vec![peak(100.3, 200.2, 0.3, 0.2), peak(50.9, 60.1, -0.1, 0.1)];
        let d = vec![desc(100.25, 200.4, true), desc(51.5, 59.0, false)];
        let r = use_cnn_positions(&mut peaks, &d).expect("same lengths");
        assert_eq!(r, PositionReport { source: PositionSource::Cnn, from_cnn: 1, from_fit: 1 });
        assert_eq!((peaks[0].x, peaks[0].y), (100.25, 200.4));
        // detected pixel (100, 200) unchanged: the offsets follow the new position
        assert!((peaks[0].x_dev - 0.25).abs() < 1e-12 && (peaks[0].y_dev - 0.4).abs() < 1e-12);
        assert_eq!((peaks[1].x, peaks[1].y), (50.9, 60.1));
        assert!(r.to_string().contains("1 of 2"));
    }

    #[test]
    fn lists_of_different_lengths_are_an_error() {
        let mut peaks = vec![peak(1.0, 1.0, 0.0, 0.0)];
        assert!(use_cnn_positions(&mut peaks, &[]).is_err());
        assert_eq!("CNN".parse::<PositionSource>().ok(), Some(PositionSource::Cnn));
        assert!("gauss".parse::<PositionSource>().is_err());
    }
}
