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

    /// Sets pixel `i` to `v`, rounded and clamped to the native type.
    pub fn set(&mut self, i: usize, v: f64) {
        match self {
            Pixels::U8(p) => p[i] = v.round().clamp(0.0, u8::MAX as f64) as u8,
            Pixels::U16(p) => p[i] = v.round().clamp(0.0, u16::MAX as f64) as u16,
            Pixels::U32(p) => p[i] = v.round().clamp(0.0, u32::MAX as f64) as u32,
            Pixels::I32(p) => p[i] = v.round().clamp(i32::MIN as f64, i32::MAX as f64) as i32,
            Pixels::F32(p) => p[i] = v as f32,
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

/// Masked pixels and what the peak search does with them.
///
/// A frame's mask ([`Frame::mask`], one `bool` per pixel, `true` = ignore) holds what the file marks as
/// dead (Eiger's 2³²−1, PILATUS' negative values, an HDF5 `pixel_mask`), every NaN or ±Inf float pixel and a
/// mask file's pixels. The peak search keeps masked pixels out of detection and fits (see `crate::peaks`);
/// where it needs a value there (method 2's convolution, the page's display), [`Frame::with_masked_filled`]
/// replaces each masked pixel by a local estimate:
///
/// - the median of the unmasked pixels of the 5×5 window around it when it has at least
///   [`FILL_MIN_NEIGHBOURS`] of them (a lone dead pixel, inside a spot as on the background, takes its
///   neighbours' level: a median is never above their maximum, so it is never a new local maximum);
/// - else, in a masked area (module gaps, a dead column), the median of the unmasked pixels of its
///   [`FILL_TILE`]×[`FILL_TILE`] tile (the local background), or of the nearest tile that has enough,
///   or of the whole frame; 0 when no pixel is unmasked.
///
/// The mask itself is kept, so a caller can still tell which values were filled.
pub const FILL_MIN_NEIGHBOURS: usize = 8;

/// Side of the tiles whose median fills masked areas (px); see [`FILL_MIN_NEIGHBOURS`].
pub const FILL_TILE: usize = 32;

impl Frame {
    /// Whether a pixel is unusable: masked, or a non-finite float.
    fn is_unusable(&self, i: usize) -> bool {
        self.is_masked(i) || !self.pixels.get(i).is_finite()
    }

    /// One flag per pixel, true where the peak search must not look (masked, or a non-finite float); None
    /// when every pixel is usable.
    pub fn unusable_mask(&self) -> Option<Vec<bool>> {
        if self.unusable_count() == 0 {
            return None;
        }
        Some((0..self.pixels.len()).map(|i| self.is_unusable(i)).collect())
    }

    /// Number of pixels the peak search must not use: masked ones and non-finite floats.
    pub fn unusable_count(&self) -> usize {
        match (&self.pixels, &self.mask) {
            (Pixels::F32(v), Some(m)) => v.iter().zip(m).filter(|(x, m)| **m || !x.is_finite()).count(),
            (Pixels::F32(v), None) => v.iter().filter(|x| !x.is_finite()).count(),
            (_, _) => self.masked_count(),
        }
    }

    /// The frame with every masked or non-finite pixel replaced by a local estimate (see
    /// [`FILL_MIN_NEIGHBOURS`] for how), in the native pixel type; the mask is kept and gains the
    /// non-finite pixels. A frame with nothing to fill comes back unchanged.
    pub fn with_masked_filled(&self) -> Frame {
        let mut out = self.clone();
        let n = self.rows.saturating_mul(self.cols);
        if self.unusable_count() == 0 || self.pixels.len() != n {
            return out;
        }
        let bad: Vec<bool> = (0..n).map(|i| self.is_unusable(i)).collect();
        let (rows, cols) = (self.rows, self.cols);
        let median = |v: &mut Vec<f64>| -> Option<f64> {
            if v.is_empty() {
                return None;
            }
            let k = v.len() / 2;
            let (_, m, _) = v.select_nth_unstable_by(k, f64::total_cmp);
            Some(*m)
        };
        // Tile medians, computed when first needed.
        let (trows, tcols) = (rows.div_ceil(FILL_TILE), cols.div_ceil(FILL_TILE));
        let mut tiles: Vec<Option<Option<f64>>> = vec![None; trows * tcols];
        let tile_median = |t: usize, tiles: &mut Vec<Option<Option<f64>>>| -> Option<f64> {
            if let Some(m) = tiles[t] {
                return m;
            }
            let (tr, tc) = (t / tcols, t % tcols);
            let mut v = Vec::new();
            for r in tr * FILL_TILE..((tr + 1) * FILL_TILE).min(rows) {
                for c in tc * FILL_TILE..((tc + 1) * FILL_TILE).min(cols) {
                    if !bad[r * cols + c] {
                        v.push(self.pixels.get(r * cols + c));
                    }
                }
            }
            let m = if v.len() >= FILL_MIN_NEIGHBOURS { median(&mut v) } else { None };
            tiles[t] = Some(m);
            m
        };
        let mut global: Option<Option<f64>> = None;
        let mut window = Vec::with_capacity(25);
        for i in (0..n).filter(|&i| bad[i]) {
            let (r, c) = (i / cols, i % cols);
            window.clear();
            for rr in r.saturating_sub(2)..(r + 3).min(rows) {
                for cc in c.saturating_sub(2)..(c + 3).min(cols) {
                    if !bad[rr * cols + cc] {
                        window.push(self.pixels.get(rr * cols + cc));
                    }
                }
            }
            let mut value = if window.len() >= FILL_MIN_NEIGHBOURS { median(&mut window) } else { None };
            // The pixel's tile, then rings of tiles around it.
            let (tr, tc) = (r / FILL_TILE, c / FILL_TILE);
            let mut ring = 0usize;
            while value.is_none() && ring <= trows.max(tcols) {
                for ur in tr.saturating_sub(ring)..=(tr + ring).min(trows - 1) {
                    for uc in tc.saturating_sub(ring)..=(tc + ring).min(tcols - 1) {
                        let on_ring = ur.abs_diff(tr) == ring || uc.abs_diff(tc) == ring;
                        if value.is_none() && on_ring {
                            value = tile_median(ur * tcols + uc, &mut tiles);
                        }
                    }
                }
                ring += 1;
                if ring > 4 {
                    break;
                }
            }
            let value = value.unwrap_or_else(|| {
                *global
                    .get_or_insert_with(|| {
                        let mut all: Vec<f64> =
                            (0..n).filter(|&j| !bad[j]).map(|j| self.pixels.get(j)).collect();
                        median(&mut all)
                    })
                    .as_ref()
                    .unwrap_or(&0.0)
            });
            out.pixels.set(i, value);
        }
        let mut mask = self.mask.clone().unwrap_or_else(|| vec![false; n]);
        mask.resize(n, false);
        for (m, b) in mask.iter_mut().zip(&bad) {
            *m |= *b;
        }
        out.mask = Some(mask);
        out
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

    fn grid(rows: usize, cols: usize, pixels: Pixels, mask: Option<Vec<bool>>) -> Frame {
        Frame { rows, cols, ..frame(pixels, mask) }
    }

    #[test]
    fn masked_pixels_are_filled_from_their_neighbours_or_their_tile() {
        // A 40×40 background of 100 (with ±1 texture), a spot of 1000 at (10, 10), NaN at its centre and
        // at a background pixel, and a 3-pixel wide dead band (masked) across rows 30..33.
        let (rows, cols) = (40, 40);
        let mut v: Vec<f32> = (0..rows * cols).map(|i| 100.0 + (i % 3) as f32 - 1.0).collect();
        for (dr, dc) in [(0i32, 0i32), (0, 1), (1, 0), (0, -1), (-1, 0)] {
            v[((10 + dr) * 40 + 10 + dc) as usize] = 1000.0;
        }
        v[10 * 40 + 10] = f32::NAN;
        v[5 * 40 + 30] = f32::INFINITY;
        let mut mask = vec![false; rows * cols];
        for r in 30..33 {
            for c in 0..cols {
                mask[r * cols + c] = true;
            }
        }
        let f = grid(rows, cols, Pixels::F32(v), Some(mask));
        assert_eq!(f.unusable_count(), 3 * 40 + 2);
        let g = f.with_masked_filled();
        assert!((0..rows * cols).all(|i| g.pixels.get(i).is_finite()));
        // The spot centre takes its 5×5 neighbourhood's median (background: 20 of its 24 are background).
        assert!((g.at(10, 10) - 100.0).abs() <= 1.0, "{}", g.at(10, 10));
        assert!((g.at(5, 30) - 100.0).abs() <= 1.0);
        // The band's middle row has 10 usable pixels in its 5×5 window (rows 29 and 33 … only 2 rows): filled.
        for c in 0..cols {
            assert!((g.at(31, c) - 100.0).abs() <= 1.0, "({}, {c}) = {}", 31, g.at(31, c));
        }
        assert_eq!(g.masked_count(), 3 * 40 + 2);
        assert_eq!(g.at(0, 0), f.at(0, 0));
        // Integer frames keep their type; a frame with nothing masked comes back unchanged.
        let h = grid(
            2,
            5,
            Pixels::U16(vec![10, 10, 65535, 10, 10, 12, 12, 12, 12, 12]),
            Some(vec![false, false, true, false, false, false, false, false, false, false]),
        );
        assert_eq!(h.with_masked_filled().pixels.get(2), 12.0);
        let k = grid(1, 3, Pixels::U16(vec![1, 2, 3]), None);
        assert_eq!(k.with_masked_filled(), k);
        // Everything masked: zeros.
        let z = grid(1, 2, Pixels::F32(vec![f32::NAN, f32::NAN]), None).with_masked_filled();
        assert_eq!(z.pixels, Pixels::F32(vec![0.0, 0.0]));
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
