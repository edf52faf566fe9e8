//! How close *any* position can come to LaueTools' peak list: the spread of LaueTools' own fit end points.
//!
//! LaueTools' peak fit stops early (MINPACK `lmdif`, `xtol` from the settings; `docs/peak-fit.md`): on
//! isolated spots its end point is the least-squares minimum within ~0.005 px, on crowded, broad or weak
//! ones it is wherever the second iteration lands, and that depends on rounding (the forward difference of
//! the θ column at θ = 0). [`lauetools_floor`] re-runs that fit ([`crate::peaks::fit`] with
//! [`ThetaDerivative::LaueTools`], the image's own `boxsize` and `xtol`) on each truly good spot's box,
//! unperturbed and with every pixel moved by ~1e-7 of its value (far below any detector noise), and
//! reports how far the end points scatter around their median. A position computed without LaueTools'
//! rounding (a network, or LaueTools on another machine) cannot be closer to the list, on average, than
//! that scatter: it is the floor under the spot network's "distance to LaueTools' fits".

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use super::cutout::spot_pixel;
use super::descriptors::GoodSpotCriteria;
use super::train::SpotSample;
use crate::io::Frame;
use crate::peaks::PeakSearchParams;
use crate::peaks::fit::{Profile, ThetaDerivative, fit_box};

/// Perturbed re-runs per spot.
pub const FLOOR_RUNS: usize = 32;
/// Relative size of the perturbation of each pixel.
pub const FLOOR_PERTURBATION: f64 = 1e-7;

/// Mean distances (px) over the truly good spots that have a reference peak within `radius` of their fit.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct LaueToolsFloor {
    /// truly good spots paired with a reference peak (and whose LaueTools box lies inside the frame)
    pub matched: usize,
    /// the converged fit of the 32 × 32 cut-out (the network's training truth) to the reference peak
    pub converged_px: f64,
    /// LaueTools' fit re-run on its own box, unperturbed, to the reference peak
    pub rerun_px: f64,
    /// the median of the perturbed end points to the reference peak (the best a position can do on average
    /// if the end points are LaueTools' up to rounding)
    pub median_end_px: f64,
    /// scatter of the perturbed end points around their median: the floor itself
    pub scatter_px: f64,
}

/// See the module documentation. `spots` are the detected pixels the `samples` were cut out on (as returned
/// by [`super::train::search_spots`]); `reference` LaueTools' positions (same convention).
pub fn lauetools_floor(
    frame: &Frame,
    params: &PeakSearchParams,
    samples: &[SpotSample],
    spots: &[(f64, f64)],
    reference: &[(f64, f64)],
    criteria: &GoodSpotCriteria,
    radius: f64,
) -> LaueToolsFloor {
    let saturation = crate::peaks::detector_saturation(frame) as f64;
    let b = params.boxsize;
    let n = 2 * b;
    let (rows, cols) = (frame.rows as i64, frame.cols as i64);
    let mut rng = ChaCha8Rng::seed_from_u64(0x5EED);
    let (mut matched, mut conv, mut rerun, mut median, mut scatter) = (0usize, 0.0, 0.0, 0.0, 0.0);
    let mut data = vec![0f64; n * n];
    for (s, &(x, y)) in samples.iter().zip(spots) {
        let t = &s.truth;
        if !criteria.is_good(t.sim, t.mu_x, t.mu_y) {
            continue;
        }
        let (sx, sy) = spot_pixel(x, y);
        let (fx, fy) = (sx as f64 + t.mu_x, sy as f64 + t.mu_y);
        let Some((d, (rx, ry))) = reference
            .iter()
            .map(|&(rx, ry)| ((rx - fx).hypot(ry - fy), (rx, ry)))
            .min_by(|a, b| a.0.total_cmp(&b.0))
            .filter(|(d, _)| *d <= radius)
        else {
            continue;
        };
        // LaueTools' box: 2b × 2b from (s − 1 − b) (0-based), as the peak search cuts it.
        let (r0, c0) = (sy - 1 - b as i64, sx - 1 - b as i64);
        if r0 < 0 || c0 < 0 || r0 + n as i64 > rows || c0 + n as i64 > cols {
            continue;
        }
        for u in 0..n {
            for v in 0..n {
                data[u * n + v] = frame.pixels.get((r0 as usize + u) * cols as usize + c0 as usize + v);
            }
        }
        let mut ends: Vec<(f64, f64)> = Vec::with_capacity(FLOOR_RUNS + 1);
        for k in 0..=FLOOR_RUNS {
            let box_data: Vec<f64> = if k == 0 {
                data.clone()
            } else {
                data.iter()
                    .map(|&v| v + FLOOR_PERTURBATION * v.abs().max(1.0) * rng.random_range(-1.0..1.0))
                    .collect()
            };
            let f =
                fit_box(&box_data, n, Profile::Gaussian, ThetaDerivative::LaueTools, params.xtol, saturation);
            // Box (row u, column v) → LaueTools' convention (first pixel centre (1, 1)).
            let (px, py) = (c0 as f64 + f.params[3] + 1.0, r0 as f64 + f.params[2] + 1.0);
            if px.is_finite() && py.is_finite() {
                ends.push((px, py));
            }
        }
        if ends.len() < 2 {
            continue;
        }
        let mid = |mut v: Vec<f64>| {
            v.sort_by(f64::total_cmp);
            v[v.len() / 2]
        };
        let m = (mid(ends.iter().map(|e| e.0).collect()), mid(ends.iter().map(|e| e.1).collect()));
        matched += 1;
        conv += d;
        rerun += (ends[0].0 - rx).hypot(ends[0].1 - ry);
        median += (m.0 - rx).hypot(m.1 - ry);
        scatter +=
            ends[1..].iter().map(|e| (e.0 - m.0).hypot(e.1 - m.1)).sum::<f64>() / (ends.len() - 1) as f64;
    }
    let k = matched.max(1) as f64;
    LaueToolsFloor {
        matched,
        converged_px: conv / k,
        rerun_px: rerun / k,
        median_end_px: median / k,
        scatter_px: scatter / k,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::io::{Frame, Pixels};
    use crate::peaks::peak_search;
    use crate::spotnet::train::frame_samples;

    /// Isolated round spots on a flat background: LaueTools' early stop lands on the minimum, so its end
    /// points do not scatter and the converged cut-out fit agrees; the unperturbed re-run is exactly the
    /// peak search's own fit (same box, same convention).
    #[test]
    fn isolated_spots_have_no_floor_and_the_rerun_is_the_peak_search() {
        let (rows, cols) = (160usize, 160usize);
        let spots = [(40.3, 50.6, 1.2), (110.8, 45.2, 1.0), (80.45, 118.7, 1.5)];
        let mut px = vec![0u16; rows * cols];
        for (i, v) in px.iter_mut().enumerate() {
            let (r, c) = ((i / cols) as f64, (i % cols) as f64);
            let mut s = 100.0;
            for &(x, y, sig) in &spots {
                // LaueTools' convention: pixel (x, y) is column x − 1, row y − 1.
                let (dx, dy) = (c + 1.0 - x, r + 1.0 - y);
                s += 8000.0 * (-0.5 * (dx * dx + dy * dy) / (sig * sig)).exp();
            }
            *v = s.round() as u16;
        }
        let frame = Frame {
            rows,
            cols,
            pixels: Pixels::U16(px),
            mask: None,
            detector: None,
            pixel_size_mm: None,
            metadata: Default::default(),
            source: "test".into(),
        };
        let p = PeakSearchParams {
            xtol: 1e-3,
            data_for_local_maxima: crate::peaks::LocalMaximaData::Raw,
            intensity_threshold: 1000.0,
            reject_negative_baseline: false,
            ..PeakSearchParams::default()
        };
        let found = peak_search(&frame, &p).unwrap();
        assert_eq!(found.peaks.len(), 3, "{:?}", found.stats);
        let reference: Vec<(f64, f64)> = found.peaks.iter().map(|k| (k.x, k.y)).collect();
        let at: Vec<(f64, f64)> = found.peaks.iter().map(|k| k.detected_pixel()).collect();
        let samples = frame_samples(&frame, &at, 65535.0);
        let f = lauetools_floor(&frame, &p, &samples, &at, &reference, &GoodSpotCriteria::truth(), 0.5);
        assert_eq!(f.matched, 3, "{f:?}");
        assert!(f.rerun_px < 1e-9, "{f:?}");
        assert!(f.scatter_px < 0.01 && f.median_end_px < 0.01 && f.converged_px < 0.01, "{f:?}");
    }
}
