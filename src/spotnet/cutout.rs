//! The 32 × 32 cut-out around a spot and its normalisation for the network.
//!
//! Edge handling: pixels of A(s) that fall outside the frame, or that the frame's mask flags, are not
//! data. They are marked invalid in [`Cutout::valid`] and stored as 0 counts. The Gaussian fit gives them
//! no weight (it ignores pixels ≤ 0) and the similarity skips them ([`crate::spotnet::truth`]); the
//! network sees them at the cut-out's minimum, i.e. 0 after normalisation ([`Cutout::normalised`]), so a
//! spot near the edge looks like a spot next to a flat dark band.
//!
//! **No signal, no spot.** The network min–max scales every cut-out, so a flat, all-zero or pure-noise
//! window reaches it stretched to full contrast and can score a high Sim (an all-zero image scored 0.974).
//! A cut-out is therefore judged on its raw counts first ([`has_signal`]): its brightest valid pixel must
//! stand above the median of the valid pixels by more than [`SIGNAL_SIGMAS`] robust noise σ
//! (1.4826 × the median absolute deviation) and by more than a contrast floor of
//! [`CONTRAST_FLOOR_COUNTS`] plus [`CONTRAST_FLOOR_FRACTION`] of the median, with at least a quarter of
//! the window being data. A cut-out without signal is bad whatever the network says: Sim 0, not good
//! ([`crate::spotnet::characterize`]).

use crate::io::Frame;

/// Side of the cut-out (px).
pub const CUTOUT: usize = 32;
/// Offset of s inside the cut-out: s is at index `HALF` on both axes.
pub const HALF: usize = 16;

/// A 32 × 32 window of raw counts, row-major (row = y, column = x).
#[derive(Debug, Clone, PartialEq)]
pub struct Cutout {
    /// s: the pixel the window is built on (LaueTools convention, x = column, y = row, first pixel (1, 1))
    pub centre: (i64, i64),
    /// counts; 0 where not valid
    pub counts: Vec<f64>,
    /// false outside the frame or on masked pixels
    pub valid: Vec<bool>,
}

/// The pixel s of a peak position (x, y) in LaueTools' convention: the nearest pixel centre.
pub fn spot_pixel(x: f64, y: f64) -> (i64, i64) {
    (x.round() as i64, y.round() as i64)
}

/// Cuts A(s) out of `frame` for the spot at (x, y) (px, LaueTools' convention); s is the nearest pixel.
pub fn extract_cutout(frame: &Frame, x: f64, y: f64) -> Cutout {
    let centre = spot_pixel(x, y);
    let (counts, valid) = read_window(frame, centre, CUTOUT, HALF);
    Cutout { centre, counts, valid }
}

/// The `side` × `side` pixels of `frame` around pixel s (LaueTools' convention), s at index (`half`, `half`),
/// row-major, with a flag per pixel: false (and 0) beyond the frame, on masked pixels and on non-finite values.
pub fn read_window(frame: &Frame, s: (i64, i64), side: usize, half: usize) -> (Vec<f64>, Vec<bool>) {
    let mut counts = vec![0.0; side * side];
    let mut valid = vec![false; side * side];
    // Frame row of window row 0: s_y − 1 (0-based) − half.
    let r0 = s.1 - 1 - half as i64;
    let c0 = s.0 - 1 - half as i64;
    for u in 0..side {
        let r = r0 + u as i64;
        if r < 0 || r >= frame.rows as i64 {
            continue;
        }
        for v in 0..side {
            let c = c0 + v as i64;
            if c < 0 || c >= frame.cols as i64 {
                continue;
            }
            let i = r as usize * frame.cols + c as usize;
            let value = frame.pixels.get(i);
            if value.is_finite() && !frame.is_masked(i) {
                counts[u * side + v] = value;
                valid[u * side + v] = true;
            }
        }
    }
    (counts, valid)
}

impl Cutout {
    /// The network's input: min–max scaled to [0, 1] over the valid pixels, invalid pixels at 0
    /// (a flat window gives all zeros).
    pub fn normalised(&self) -> Vec<f32> {
        min_max(&self.counts, &self.valid)
    }

    /// Share of the window that is data.
    pub fn valid_fraction(&self) -> f64 {
        self.valid.iter().filter(|&&v| v).count() as f64 / self.valid.len() as f64
    }
}

/// How many robust noise σ the brightest pixel of a cut-out must stand above its median.
pub const SIGNAL_SIGMAS: f64 = 5.0;
/// Smallest contrast (counts) of a cut-out with signal, whatever its noise (flat integer backgrounds have
/// a median absolute deviation of 0).
pub const CONTRAST_FLOOR_COUNTS: f64 = 1.0;
/// Share of the median added to the contrast floor.
pub const CONTRAST_FLOOR_FRACTION: f64 = 0.01;

/// Whether the valid pixels of a window hold a signal above their noise (the rule of the module docs):
/// brightest − median > [`SIGNAL_SIGMAS`] · 1.4826 · MAD and > [`CONTRAST_FLOOR_COUNTS`] +
/// [`CONTRAST_FLOOR_FRACTION`] · |median|, with ≥ ¼ of the window valid.
pub fn has_signal(counts: &[f64], valid: &[bool]) -> bool {
    let mut v: Vec<f64> =
        counts.iter().zip(valid).filter(|&(c, &ok)| ok && c.is_finite()).map(|(&c, _)| c).collect();
    if v.is_empty() || 4 * v.len() < counts.len() {
        return false;
    }
    v.sort_by(f64::total_cmp);
    let median = v[v.len() / 2];
    let max = v[v.len() - 1];
    let mut dev: Vec<f64> = v.iter().map(|x| (x - median).abs()).collect();
    dev.sort_by(f64::total_cmp);
    let sigma = 1.4826 * dev[dev.len() / 2];
    let contrast = max - median;
    contrast > SIGNAL_SIGMAS * sigma
        && contrast > CONTRAST_FLOOR_COUNTS + CONTRAST_FLOOR_FRACTION * median.abs()
}

impl Cutout {
    /// Whether this cut-out holds a signal above its noise ([`has_signal`]).
    pub fn has_signal(&self) -> bool {
        has_signal(&self.counts, &self.valid)
    }
}

/// Min–max scaling to [0, 1] over the `valid` entries; the others become 0.
pub fn min_max(counts: &[f64], valid: &[bool]) -> Vec<f32> {
    let (mut lo, mut hi) = (f64::INFINITY, f64::NEG_INFINITY);
    for (&c, &ok) in counts.iter().zip(valid) {
        if ok {
            lo = lo.min(c);
            hi = hi.max(c);
        }
    }
    let span = hi - lo;
    counts
        .iter()
        .zip(valid)
        .map(|(&c, &ok)| if ok && span > 0.0 { ((c - lo) / span) as f32 } else { 0.0 })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::io::frame::Pixels;

    fn ramp_frame(rows: usize, cols: usize) -> Frame {
        let px: Vec<u16> = (0..rows * cols).map(|i| (i % 60000) as u16 + 1).collect();
        Frame {
            rows,
            cols,
            pixels: Pixels::U16(px),
            mask: None,
            detector: None,
            pixel_size_mm: None,
            metadata: Default::default(),
            source: "ramp".into(),
        }
    }

    #[test]
    fn flat_and_noise_windows_have_no_signal() {
        let n = CUTOUT * CUTOUT;
        let valid = vec![true; n];
        assert!(!has_signal(&vec![0.0; n], &valid), "all zero");
        assert!(!has_signal(&vec![100.0; n], &valid), "flat");
        // Deterministic noise of σ ≈ 10 around 100: no pixel 5σ above the median.
        let noise: Vec<f64> = (0..n).map(|i| 100.0 + 10.0 * ((i as f64 * 12.9898).sin() * 1.7)).collect();
        assert!(!has_signal(&noise, &valid), "noise");
        // A Gaussian spot of 500 counts on that noise has signal.
        let spot: Vec<f64> = noise
            .iter()
            .enumerate()
            .map(|(i, b)| {
                let (r, c) = ((i / CUTOUT) as f64 - 16.0, (i % CUTOUT) as f64 - 16.0);
                b + 500.0 * (-(r * r + c * c) / 2.0).exp()
            })
            .collect();
        assert!(has_signal(&spot, &valid), "spot");
        assert!(!has_signal(&spot, &vec![false; n]), "no valid pixel");
    }

    #[test]
    fn window_is_centred_on_the_nearest_pixel() {
        let f = ramp_frame(100, 80);
        // x = 40.4 → s_x = 40 (column 39 0-based); y = 50.6 → s_y = 51 (row 50).
        let c = extract_cutout(&f, 40.4, 50.6);
        assert_eq!(c.centre, (40, 51));
        assert_eq!(c.counts[HALF * CUTOUT + HALF], (50 * 80 + 39 + 1) as f64);
        assert_eq!(c.counts[0], ((50 - 16) * 80 + 39 - 16 + 1) as f64);
        assert!(c.valid.iter().all(|&v| v));
    }

    #[test]
    fn pixels_beyond_the_frame_are_invalid_and_zero() {
        let f = ramp_frame(100, 80);
        let c = extract_cutout(&f, 3.0, 2.0);
        // columns −14 … 17 (1-based): 14 columns before the first pixel; rows −15 … 16: 15 rows before.
        assert!((c.valid_fraction() - (18.0 * 17.0) / 1024.0).abs() < 1e-12);
        assert_eq!(c.counts[0], 0.0);
        let n = c.normalised();
        assert_eq!(n[0], 0.0);
        let mx = n.iter().cloned().fold(0.0f32, f32::max);
        assert!((mx - 1.0).abs() < 1e-6);
    }
}
