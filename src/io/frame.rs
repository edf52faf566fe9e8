//! `Frame`: one detector image in memory, whatever file it came from.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// Pixel values in their native type (row-major).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Pixels {
    U8(Vec<u8>),
    U16(Vec<u16>),
    U32(Vec<u32>),
    I32(Vec<i32>),
    F32(Vec<f32>),
}

impl Pixels {
    pub fn len(&self) -> usize {
        match self {
            Pixels::U8(v) => v.len(),
            Pixels::U16(v) => v.len(),
            Pixels::U32(v) => v.len(),
            Pixels::I32(v) => v.len(),
            Pixels::F32(v) => v.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Value of pixel `i` as f64.
    pub fn get(&self, i: usize) -> f64 {
        match self {
            Pixels::U8(v) => v[i] as f64,
            Pixels::U16(v) => v[i] as f64,
            Pixels::U32(v) => v[i] as f64,
            Pixels::I32(v) => v[i] as f64,
            Pixels::F32(v) => v[i] as f64,
        }
    }

    /// All pixels as f32.
    pub fn to_f32(&self) -> Vec<f32> {
        match self {
            Pixels::U8(v) => v.iter().map(|&x| x as f32).collect(),
            Pixels::U16(v) => v.iter().map(|&x| x as f32).collect(),
            Pixels::U32(v) => v.iter().map(|&x| x as f32).collect(),
            Pixels::I32(v) => v.iter().map(|&x| x as f32).collect(),
            Pixels::F32(v) => v.clone(),
        }
    }

    /// Name of the native type ("u16", "f32", ...).
    pub fn type_name(&self) -> &'static str {
        match self {
            Pixels::U8(_) => "u8",
            Pixels::U16(_) => "u16",
            Pixels::U32(_) => "u32",
            Pixels::I32(_) => "i32",
            Pixels::F32(_) => "f32",
        }
    }
}

/// A detector image: pixels (row r, column c at index r·cols + c), and what the file said about it.
/// Pixel (x, y) in LaueTools' convention (x = column, y = row, first pixel centre (1, 1)) is at
/// row y − 1, column x − 1.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Frame {
    pub rows: usize,
    pub cols: usize,
    pub pixels: Pixels,
    /// pixels to ignore (dead or gap pixels), same layout as `pixels`; None = all valid
    pub mask: Option<Vec<bool>>,
    /// detector preset label (LaueTools' CCDLabel), when known or recognised
    pub detector: Option<String>,
    /// pixel size (mm), when the file or the preset gives it
    pub pixel_size_mm: Option<f64>,
    /// everything else the header held (exposure, motor positions, MarCCD distance, beam centre...)
    pub metadata: BTreeMap<String, String>,
    /// the file this came from (for messages)
    pub source: String,
}

impl Frame {
    /// Value at (row, col) as f64.
    pub fn at(&self, row: usize, col: usize) -> f64 {
        self.pixels.get(row * self.cols + col)
    }
}

impl Frame {
    /// Whether pixel `i` (row-major index) is flagged in `mask`.
    pub fn is_masked(&self, i: usize) -> bool {
        self.mask.as_ref().is_some_and(|m| m.get(i).copied().unwrap_or(false))
    }

    /// Number of pixels flagged in `mask` (0 without a mask).
    pub fn masked_count(&self) -> usize {
        self.mask.as_ref().map_or(0, |m| m.iter().filter(|&&b| b).count())
    }

    /// The frame as f32 pixels that are all finite, for the peak search: NaN and ±Inf become 0 and
    /// are added to the mask (pixels already masked stay masked; other values are unchanged).
    /// The readers keep non-finite values as the file holds them (and mask them); this is the
    /// copy to compute on.
    pub fn finite_f32(&self) -> Frame {
        let mut values = self.pixels.to_f32();
        let mut mask = self.mask.clone().unwrap_or_else(|| vec![false; values.len()]);
        mask.resize(values.len(), false);
        let mut any = false;
        for (v, m) in values.iter_mut().zip(mask.iter_mut()) {
            if !v.is_finite() {
                *v = 0.0;
                *m = true;
            }
            any |= *m;
        }
        Frame {
            rows: self.rows,
            cols: self.cols,
            pixels: Pixels::F32(values),
            mask: if any || self.mask.is_some() { Some(mask) } else { None },
            detector: self.detector.clone(),
            pixel_size_mm: self.pixel_size_mm,
            metadata: self.metadata.clone(),
            source: self.source.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frame(pixels: Pixels, mask: Option<Vec<bool>>) -> Frame {
        Frame {
            rows: 1,
            cols: pixels.len(),
            pixels,
            mask,
            detector: None,
            pixel_size_mm: None,
            metadata: BTreeMap::new(),
            source: "test".into(),
        }
    }

    #[test]
    fn finite_f32_zeroes_and_masks_non_finite_values() {
        let f = frame(Pixels::F32(vec![1.0, f32::NAN, f32::INFINITY, -2.5, f32::NEG_INFINITY]), None);
        let g = f.finite_f32();
        assert_eq!(g.pixels, Pixels::F32(vec![1.0, 0.0, 0.0, -2.5, 0.0]));
        assert_eq!(g.mask, Some(vec![false, true, true, false, true]));
        assert_eq!(g.masked_count(), 3);
        assert!(g.is_masked(1) && !g.is_masked(0) && !g.is_masked(99));
    }

    #[test]
    fn finite_f32_keeps_an_existing_mask_and_integer_values() {
        let f = frame(Pixels::U16(vec![3, 65535, 7]), Some(vec![false, true, false]));
        let g = f.finite_f32();
        assert_eq!(g.pixels, Pixels::F32(vec![3.0, 65535.0, 7.0]));
        assert_eq!(g.mask, Some(vec![false, true, false]));
        let h = frame(Pixels::U8(vec![1, 2]), None).finite_f32();
        assert_eq!(h.mask, None);
    }
}
