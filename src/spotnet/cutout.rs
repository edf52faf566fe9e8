//! 32 × 32 cut-outs around spots.
//!
//! For a spot whose peak-search pixel is s = (s_x, s_y) (0-based column and row), the cut-out covers
//! A(s) = {s_x − 16 … s_x + 15} × {s_y − 16 … s_y + 15}: s sits at (16, 16) of the cut-out. Positions in
//! LaueTools' convention (first pixel centre (1, 1), x = column) map to s = round(x) − 1, round(y) − 1.
//!
//! Edge handling: pixels beyond the frame, masked detector pixels (gaps, dead pixels) and pixels at or above the
//! saturation level are *invalid*. They keep a flag in [`Cutout::valid`] — the Gaussian fit gives them no
//! weight — and, in [`Cutout::pixels`], the median of the valid pixels of the cut-out (a neutral background,
//! so that a network sees no artificial edge).

use crate::io::Frame;

/// Side of a cut-out (px).
pub const CUTOUT: usize = 32;
/// Offset of the spot pixel s inside a cut-out.
pub const CENTRE: usize = CUTOUT / 2;

/// One cut-out, row-major (`pixels[r * 32 + c]`), raw detector counts.
#[derive(Debug, Clone, PartialEq)]
pub struct Cutout {
    /// the spot pixel s (0-based column, row) the cut-out is centred on
    pub s: (i64, i64),
    pub pixels: Vec<f64>,
    pub valid: Vec<bool>,
    /// number of invalid pixels
    pub n_invalid: usize,
}

impl Cutout {
    /// The cut-out scaled to [0, 1] by its valid pixels' minimum and maximum (invalid pixels take their
    /// neutral value scaled the same way); all zeros when the valid pixels are flat.
    pub fn normalised(&self) -> Vec<f64> {
        let (mut lo, mut hi) = (f64::INFINITY, f64::NEG_INFINITY);
        for (v, ok) in self.pixels.iter().zip(&self.valid) {
            if *ok {
                lo = lo.min(*v);
                hi = hi.max(*v);
            }
        }
        if hi.partial_cmp(&lo) != Some(std::cmp::Ordering::Greater) {
            return vec![0.0; self.pixels.len()];
        }
        self.pixels.iter().map(|v| ((v - lo) / (hi - lo)).clamp(0.0, 1.0)).collect()
    }
}

/// The spot pixel s of a LaueTools position (x, y): 0-based (column, row).
pub fn spot_pixel(x_px: f64, y_px: f64) -> (i64, i64) {
    ((x_px.round() as i64) - 1, (y_px.round() as i64) - 1)
}

/// The cut-out of `frame` around the spot at LaueTools position (x, y); `saturation` (counts) marks saturated
/// pixels invalid (use `f64::INFINITY` for none).
pub fn cutout(frame: &Frame, x_px: f64, y_px: f64, saturation: f64) -> Cutout {
    let s = spot_pixel(x_px, y_px);
    let mut pixels = vec![0.0; CUTOUT * CUTOUT];
    let mut valid = vec![false; CUTOUT * CUTOUT];
    let mut inside = Vec::with_capacity(CUTOUT * CUTOUT);
    for r in 0..CUTOUT {
        let row = s.1 + r as i64 - CENTRE as i64;
        for c in 0..CUTOUT {
            let col = s.0 + c as i64 - CENTRE as i64;
            if row < 0 || col < 0 || row >= frame.rows as i64 || col >= frame.cols as i64 {
                continue;
            }
            let i = row as usize * frame.cols + col as usize;
            let v = frame.pixels.get(i);
            if frame.is_masked(i) || !v.is_finite() || v >= saturation {
                continue;
            }
            pixels[r * CUTOUT + c] = v;
            valid[r * CUTOUT + c] = true;
            inside.push(v);
        }
    }
    let fill = median(&mut inside);
    let mut n_invalid = 0;
    for (p, ok) in pixels.iter_mut().zip(&valid) {
        if !ok {
            *p = fill;
            n_invalid += 1;
        }
    }
    Cutout { s, pixels, valid, n_invalid }
}

fn median(v: &mut [f64]) -> f64 {
    if v.is_empty() {
        return 0.0;
    }
    let mid = v.len() / 2;
    let (_, m, _) = v.select_nth_unstable_by(mid, f64::total_cmp);
    *m
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::io::{Frame, Pixels};
    use std::collections::BTreeMap;

    fn ramp(rows: usize, cols: usize) -> Frame {
        let px: Vec<f32> = (0..rows * cols).map(|i| i as f32).collect();
        Frame {
            rows,
            cols,
            pixels: Pixels::F32(px),
            mask: None,
            detector: None,
            pixel_size_mm: None,
            metadata: BTreeMap::new(),
            source: "ramp".into(),
        }
    }

    #[test]
    fn spot_pixel_sits_at_16_16() {
        let f = ramp(100, 80);
        // LaueTools (x, y) = (41.2, 51.7) → s = (40, 51): row 51, column 40.
        let c = cutout(&f, 41.2, 51.7, f64::INFINITY);
        assert_eq!(c.s, (40, 51));
        assert_eq!(c.pixels[CENTRE * CUTOUT + CENTRE], (51 * 80 + 40) as f64);
        assert_eq!(c.pixels[0], ((51 - 16) * 80 + 40 - 16) as f64);
        assert_eq!(c.pixels[CUTOUT * CUTOUT - 1], ((51 + 15) * 80 + 40 + 15) as f64);
        assert_eq!(c.n_invalid, 0);
    }

    #[test]
    fn edges_masks_and_saturation_are_invalid_and_neutral() {
        let mut f = ramp(40, 40);
        f.mask = Some((0..1600).map(|i| i == 5 * 40 + 6).collect());
        // Spot at the top-left corner pixel (x, y) = (1, 1): s = (0, 0); 16 rows and columns lie outside.
        let c = cutout(&f, 1.0, 1.0, 1500.0);
        let outside = CUTOUT * CUTOUT - 16 * 16;
        // Inside: rows 0..16, columns 0..16; the masked pixel (5, 6) and none saturated (max 15*40+15 = 615).
        assert_eq!(c.n_invalid, outside + 1);
        assert!(!c.valid[0] && c.valid[CENTRE * CUTOUT + CENTRE]);
        assert!(!c.valid[(CENTRE + 5) * CUTOUT + CENTRE + 6]);
        // The fill is the median of the 255 valid pixels.
        let mut inside: Vec<f64> =
            (0..16).flat_map(|r| (0..16).map(move |c| (r * 40 + c) as f64)).filter(|&v| v != 206.0).collect();
        inside.sort_by(f64::total_cmp);
        assert_eq!(c.pixels[0], inside[inside.len() / 2]);
        // Saturation: at 300 counts every pixel ≥ 300 becomes invalid.
        let c = cutout(&f, 1.0, 1.0, 300.0);
        let saturated = (0..16).flat_map(|r| (0..16).map(move |c| r * 40 + c)).filter(|&v| v >= 300).count();
        assert_eq!(c.n_invalid, outside + 1 + saturated);
        let n = c.normalised();
        assert!(n.iter().all(|v| (0.0..=1.0).contains(v)));
    }
}
