//! Feature vectors of detector frames for indexing-free clustering (Song et al., Acta Cryst. A75, 876, 2019).
//!
//! Pre-processing ([`preprocess`]), as Song et al. do before their autoencoder: a square crop (centred on the
//! frame, side min(rows, cols), or a given [`Roi`]), area-averaged to `side × side` (default 128 × 128;
//! output pixel (r, c) is the mean of the valid input pixels of its block, blocks bounded at
//! ⌊r·S/side⌋ … ⌊(r+1)·S/side⌋ for a crop of S px, so S need not be a multiple of side), then scaled to
//! [0, 1] by [`Scaling`]:
//!
//! * [`Scaling::Log`]: v ↦ ln(1 + max(v − m, 0)) / ln(1 + F), m = the binned frame's median (the
//!   background level), F the full scale of the pixel type (255 for u8, 65 535 for u16; the frame's
//!   largest value for 32-bit and float frames), clipped to [0, 1]. Weak spots count nearly as much as
//!   strong ones, and the scale is the same for every frame of a scan: an empty frame (background and noise
//!   only) stays near 0 instead of having its noise stretched to [0, 1].
//! * [`Scaling::Percentile`]: v ↦ clamp((v − p_lo) / (p_hi − p_lo), 0, 1) with the frame's `low` and `high`
//!   percentiles (default 50 and 99.9): linear between the background and the brightest spots, per frame.
//!
//! On the synthetic test scan (tests/cluster.rs) log scaling is the better one and is the default: with the
//! per-frame percentile scaling the few empty points' stretched noise dominates the first principal
//! component (43 % of the variance) and the silhouette then prefers K = 2 (empty / not empty).
//!
//! Three extractors behind [`FeatureExtractor`]:
//!
//! * [`FeatureExtractor::Pixels`]: the `side²` scaled pixels (16 384 values at 128²), to be reduced by PCA.
//! * [`FeatureExtractor::Peaks`]: the peak search's spots drawn as Gaussians (σ = 1 bin by default) on a
//!   coarse (2θ, χ) grid (64 × 64 bins over the detector's angular range, from the calibration), each spot
//!   weighted by √(fitted height above background), the vector scaled to unit Euclidean norm (so the
//!   point-to-point intensity spread and the exposure drop out). An image without peaks gives zeros.
//! * [`FeatureExtractor::Autoencoder`]: the M = 64 latent code of the pre-processed 128 × 128 frame from the
//!   shipped convolutional autoencoder ([`super::autoencoder`]), encoded in batches of 64.
//!
//! Memory: features are `f32` ([`FeatureMatrix`], n × d row-major): 6000 points × 16 384 pixels is 393 MB
//! (786 MB in f64). [`reduce`] fits the PCA on at most `max_fit_rows` rows (evenly spaced, converted to f64:
//! 1000 × 16 384 × 8 B = 131 MB) and projects every row in blocks of 256 rows converted one block at a time,
//! so the f64 copy of the whole matrix is never made. The result is n × k f64 scores for K-means.
//!
//! Plain single-threaded Rust (no files, no threads): the CLI runs [`FeatureExtractor::extract`] on many
//! frames in parallel, the page in its workers.

use serde::{Deserialize, Serialize};

use super::pca::Pca;
use super::{MatRef, Matrix, invalid};
use crate::error::Result;
use crate::geometry::Calibration;
use crate::io::Frame;
use crate::peaks::{PeakSearchParams, peak_search};

/// Side of the binned frame in Song et al. (px).
pub const DEFAULT_SIDE: usize = 128;

/// Intensity scaling of a binned frame to [0, 1] (see the module doc).
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum Scaling {
    /// ln(1 + v − median) / ln(1 + full scale of the pixel type), clipped to [0, 1]
    #[default]
    Log,
    /// linear between the `low` and `high` percentiles (0–100), clipped to [0, 1]
    Percentile { low: f64, high: f64 },
}

impl Scaling {
    /// The percentile scaling with its default bounds (50th and 99.9th percentiles).
    pub fn percentile() -> Self {
        Scaling::Percentile { low: 50.0, high: 99.9 }
    }
}

/// A square region of the frame: rows `row0 .. row0 + size`, columns `col0 .. col0 + size` (0-based px).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Roi {
    pub row0: usize,
    pub col0: usize,
    pub size: usize,
}

/// Crop, binning and scaling of a frame.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Preprocess {
    /// side of the binned square (px of the output)
    pub side: usize,
    /// crop; None: the largest square centred on the frame
    pub roi: Option<Roi>,
    pub scaling: Scaling,
}

impl Default for Preprocess {
    fn default() -> Self {
        Preprocess { side: DEFAULT_SIDE, roi: None, scaling: Scaling::default() }
    }
}

/// The frame cropped, area-averaged to `side × side` and scaled to [0, 1]: `side²` values, row-major.
/// Masked and non-finite pixels are left out of the block means (a block without valid pixel is 0).
pub fn preprocess(frame: &Frame, p: &Preprocess) -> Result<Vec<f32>> {
    let side = p.side;
    if side == 0 || side > 4096 {
        return Err(invalid(format!("binned side {side} px: use 1 to 4096")));
    }
    if frame.rows == 0 || frame.cols == 0 || frame.pixels.len() != frame.rows * frame.cols {
        return Err(invalid(format!(
            "{}: frame {}×{} with {} pixels",
            frame.source,
            frame.rows,
            frame.cols,
            frame.pixels.len()
        )));
    }
    let roi = match p.roi {
        Some(r) => {
            if r.size == 0 || r.row0 + r.size > frame.rows || r.col0 + r.size > frame.cols {
                return Err(invalid(format!(
                    "ROI rows {}+{} cols {}+{} outside the {}×{} frame",
                    r.row0, r.size, r.col0, r.size, frame.rows, frame.cols
                )));
            }
            r
        }
        None => {
            let size = frame.rows.min(frame.cols);
            Roi { row0: (frame.rows - size) / 2, col0: (frame.cols - size) / 2, size }
        }
    };
    let s = roi.size;
    // block bounds along one axis (each block at least one pixel wide)
    let bounds: Vec<(usize, usize)> = (0..side)
        .map(|i| {
            let a = (i * s / side).min(s - 1);
            let b = ((i + 1) * s / side).max(a + 1).min(s);
            (a, b)
        })
        .collect();
    let mut sum = vec![0f64; side * side];
    let mut cnt = vec![0u32; side * side];
    // column → block index, for one pass over each row
    let mut col_block = vec![0usize; s];
    for (j, &(a, b)) in bounds.iter().enumerate() {
        for cb in col_block.iter_mut().take(b).skip(a) {
            *cb = j;
        }
    }
    for (i, &(a, b)) in bounds.iter().enumerate() {
        for r in a..b {
            let base = (roi.row0 + r) * frame.cols + roi.col0;
            for (c, &j) in col_block.iter().enumerate() {
                let k = base + c;
                let v = frame.pixels.get(k);
                if v.is_finite() && !frame.is_masked(k) {
                    sum[i * side + j] += v;
                    cnt[i * side + j] += 1;
                }
            }
        }
    }
    let binned: Vec<f64> =
        sum.iter().zip(&cnt).map(|(&s, &n)| if n > 0 { s / f64::from(n) } else { 0.0 }).collect();
    let full_scale = match &frame.pixels {
        crate::io::Pixels::U8(_) => Some(255.0),
        crate::io::Pixels::U16(_) => Some(65_535.0),
        _ => None,
    };
    Ok(scale(&binned, p.scaling, full_scale))
}

/// The `q`-th percentile (0–100) of `sorted` (ascending), linear between ranks.
fn percentile(sorted: &[f64], q: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let pos = (q.clamp(0.0, 100.0) / 100.0) * (sorted.len() - 1) as f64;
    let i = pos.floor() as usize;
    let f = pos - i as f64;
    let j = (i + 1).min(sorted.len() - 1);
    sorted[i] * (1.0 - f) + sorted[j] * f
}

/// `v` scaled to [0, 1]; `full_scale`: the pixel type's largest value (None: the largest of `v`).
fn scale(v: &[f64], scaling: Scaling, full_scale: Option<f64>) -> Vec<f32> {
    let mut sorted = v.to_vec();
    sorted.sort_unstable_by(f64::total_cmp);
    match scaling {
        Scaling::Log => {
            let m = percentile(&sorted, 50.0);
            let top = full_scale.unwrap_or_else(|| sorted.last().copied().unwrap_or(0.0) - m);
            let den = top.max(0.0).ln_1p();
            if den <= 0.0 {
                return vec![0.0; v.len()];
            }
            v.iter().map(|&x| ((x - m).max(0.0).ln_1p() / den).min(1.0) as f32).collect()
        }
        Scaling::Percentile { low, high } => {
            let (lo, hi) = (percentile(&sorted, low), percentile(&sorted, high));
            if hi <= lo {
                return vec![0.0; v.len()];
            }
            v.iter().map(|&x| ((x - lo) / (hi - lo)).clamp(0.0, 1.0) as f32).collect()
        }
    }
}

/// Spots on a (2θ, χ) grid (see the module doc).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PeakFeatures {
    pub calibration: Calibration,
    /// the peak search's settings
    pub params: PeakSearchParams,
    /// bins along 2θ
    pub n_2theta: usize,
    /// bins along χ
    pub n_chi: usize,
    /// 2θ range covered (deg), from the frame's border pixels
    pub range_2theta_deg: [f64; 2],
    /// χ range covered (deg)
    pub range_chi_deg: [f64; 2],
    /// Gaussian σ of a drawn spot (bins)
    pub sigma_bins: f64,
}

impl PeakFeatures {
    /// A 64 × 64 grid over the detector's angular range (every 4th border pixel mapped through
    /// `calibration`), spots drawn with σ = 1 bin.
    pub fn new(calibration: Calibration, params: PeakSearchParams) -> Result<Self> {
        let cal = calibration.validated()?;
        let (mut t, mut c) = ([f64::INFINITY, f64::NEG_INFINITY], [f64::INFINITY, f64::NEG_INFINITY]);
        let (w, h) = (cal.cols as f64, cal.rows as f64);
        let mut visit = |x: f64, y: f64| {
            let (tt, ch) = cal.pixel_to_angles(x, y);
            if tt.is_finite() && ch.is_finite() {
                t = [t[0].min(tt), t[1].max(tt)];
                c = [c[0].min(ch), c[1].max(ch)];
            }
        };
        let step = 4usize;
        for i in (0..=cal.cols).step_by(step) {
            let x = (i as f64).clamp(1.0, w);
            visit(x, 1.0);
            visit(x, h);
        }
        for i in (0..=cal.rows).step_by(step) {
            let y = (i as f64).clamp(1.0, h);
            visit(1.0, y);
            visit(w, y);
        }
        // the centre too (a detector around the beam has its extreme 2θ inside)
        visit(cal.xcen_px, cal.ycen_px);
        if !(t[0] < t[1] && c[0] < c[1]) {
            return Err(invalid("peak features: the calibration maps the frame to no angular range"));
        }
        Ok(PeakFeatures {
            calibration: cal,
            params,
            n_2theta: 64,
            n_chi: 64,
            range_2theta_deg: t,
            range_chi_deg: c,
            sigma_bins: 1.0,
        })
    }

    /// Feature length `n_2theta · n_chi` (row-major: χ bins of one 2θ row together).
    pub fn dim(&self) -> usize {
        self.n_2theta * self.n_chi
    }

    /// Spots at pixel positions (x = column, y = row, LaueTools' convention) with heights (counts) drawn on
    /// the grid; unit-norm vector (zeros without spots).
    pub fn draw(&self, spots: &[(f64, f64, f64)]) -> Vec<f32> {
        let (nt, nc) = (self.n_2theta, self.n_chi);
        let mut out = vec![0f64; nt * nc];
        let [t0, t1] = self.range_2theta_deg;
        let [c0, c1] = self.range_chi_deg;
        let sig = self.sigma_bins.max(1e-3);
        let reach = (3.0 * sig).ceil() as i64;
        for &(x, y, height) in spots {
            let (tt, ch) = self.calibration.pixel_to_angles(x, y);
            let w = height.max(0.0).sqrt();
            if !(tt.is_finite() && ch.is_finite() && w > 0.0) {
                continue;
            }
            // bin coordinates (bin centres at integers)
            let u = (tt - t0) / (t1 - t0) * nt as f64 - 0.5;
            let v = (ch - c0) / (c1 - c0) * nc as f64 - 0.5;
            let (ui, vi) = (u.round() as i64, v.round() as i64);
            for a in (ui - reach)..=(ui + reach) {
                if a < 0 || a >= nt as i64 {
                    continue;
                }
                for b in (vi - reach)..=(vi + reach) {
                    if b < 0 || b >= nc as i64 {
                        continue;
                    }
                    let d2 = (a as f64 - u).powi(2) + (b as f64 - v).powi(2);
                    out[a as usize * nc + b as usize] += w * (-0.5 * d2 / (sig * sig)).exp();
                }
            }
        }
        let norm = out.iter().map(|v| v * v).sum::<f64>().sqrt();
        if norm > 0.0 {
            out.iter_mut().for_each(|v| *v /= norm);
        }
        out.into_iter().map(|v| v as f32).collect()
    }
}

/// How a frame becomes a feature vector. A variant per extractor, so that the autoencoder joins as one more.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum FeatureExtractor {
    /// the pre-processed pixels (`side²` values in [0, 1])
    Pixels(Preprocess),
    /// the peak search's spots on a (2θ, χ) grid
    Peaks(Box<PeakFeatures>),
    /// the autoencoder's latent code of the pre-processed frame ([`super::autoencoder`])
    Autoencoder(Box<super::autoencoder::AutoencoderFeatures>),
}

impl FeatureExtractor {
    /// Length of the feature vector.
    pub fn dim(&self) -> usize {
        match self {
            FeatureExtractor::Pixels(p) => p.side * p.side,
            FeatureExtractor::Peaks(p) => p.dim(),
            FeatureExtractor::Autoencoder(a) => a.dim(),
        }
    }

    /// Short name (`pixels`, `peaks`, `ae`).
    pub fn name(&self) -> &'static str {
        match self {
            FeatureExtractor::Pixels(_) => "pixels",
            FeatureExtractor::Peaks(_) => "peaks",
            FeatureExtractor::Autoencoder(_) => "ae",
        }
    }

    /// The feature vector of one frame (length [`FeatureExtractor::dim`]).
    pub fn extract(&self, frame: &Frame) -> Result<Vec<f32>> {
        match self {
            FeatureExtractor::Pixels(p) => preprocess(frame, p),
            FeatureExtractor::Peaks(p) => {
                let list = peak_search(frame, &p.params)?;
                let spots: Vec<(f64, f64, f64)> =
                    list.peaks.iter().map(|k| (k.x, k.y, k.intensity_sub)).collect();
                Ok(p.draw(&spots))
            }
            FeatureExtractor::Autoencoder(a) => a.extract(frame),
        }
    }

    /// What to compute per frame when frames are processed in parallel and then finished together by
    /// [`FeatureExtractor::finish_batch`]: the pre-processed pixels for the autoencoder (encoded later in
    /// batches), the extractor itself otherwise.
    pub fn per_frame(&self) -> FeatureExtractor {
        match self {
            FeatureExtractor::Autoencoder(a) => FeatureExtractor::Pixels(a.preprocess),
            other => other.clone(),
        }
    }

    /// Turns rows of [`FeatureExtractor::per_frame`] into this extractor's features: the autoencoder encodes
    /// them (one batched pass); other extractors return them unchanged.
    pub fn finish_batch(&self, rows: Vec<Vec<f32>>) -> Result<Vec<Vec<f32>>> {
        match self {
            FeatureExtractor::Autoencoder(a) => {
                let n = rows.len();
                if n == 0 {
                    return Ok(rows);
                }
                let flat: Vec<f32> = rows.into_iter().flatten().collect();
                let z = a.encode(&flat, n)?;
                Ok(z.chunks(a.dim()).map(<[f32]>::to_vec).collect())
            }
            _ => Ok(rows),
        }
    }
}

/// An n × d matrix of features in `f32` (row-major), one row per scan point.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FeatureMatrix {
    pub rows: usize,
    pub cols: usize,
    /// `rows · cols` values, row-major
    pub data: Vec<f32>,
}

impl FeatureMatrix {
    /// Stacks equally long rows.
    pub fn from_rows(rows: Vec<Vec<f32>>) -> Result<Self> {
        let cols = rows.first().map_or(0, Vec::len);
        if let Some(i) = rows.iter().position(|r| r.len() != cols) {
            return Err(invalid(format!("feature row {i} has {} values, row 0 has {cols}", rows[i].len())));
        }
        let n = rows.len();
        let mut data = Vec::with_capacity(n * cols);
        for r in rows {
            data.extend_from_slice(&r);
        }
        Ok(FeatureMatrix { rows: n, cols, data })
    }

    /// Row `i`.
    pub fn row(&self, i: usize) -> &[f32] {
        &self.data[i * self.cols..(i + 1) * self.cols]
    }

    /// Rows `idx` as an f64 [`Matrix`].
    pub fn to_f64_rows(&self, idx: &[usize]) -> Matrix {
        let mut data = Vec::with_capacity(idx.len() * self.cols);
        for &i in idx {
            data.extend(self.row(i).iter().map(|&v| f64::from(v)));
        }
        Matrix { rows: idx.len(), cols: self.cols, data }
    }
}

/// Rows per block when projecting f32 features (bounds the f64 copy to 256 × d).
const PROJECT_BLOCK: usize = 256;

/// PCA of the features to `k` components: fitted on at most `max_fit_rows` evenly spaced rows (all when n is
/// smaller), then every row projected block by block. Returns the fit and the n × k scores (feature units).
/// Deterministic (no random draw in the row choice; the PCA solver's own seed is fixed).
pub fn reduce(x: &FeatureMatrix, k: usize, max_fit_rows: usize) -> Result<(Pca, Matrix)> {
    let n = x.rows;
    if n < 2 || x.cols == 0 {
        return Err(invalid(format!("PCA of {n}×{} features: need at least 2 rows", x.cols)));
    }
    let m = n.min(max_fit_rows.max(2));
    let idx: Vec<usize> = (0..m).map(|i| i * n / m).collect();
    let fit = x.to_f64_rows(&idx);
    let pca = Pca::fit(fit.view(), k)?;
    drop(fit);
    let mut data = Vec::with_capacity(n * k);
    let mut r0 = 0;
    while r0 < n {
        let r1 = (r0 + PROJECT_BLOCK).min(n);
        let block = x.to_f64_rows(&(r0..r1).collect::<Vec<_>>());
        let y = pca.transform(MatRef::new(&block.data, block.rows, block.cols)?)?;
        data.extend_from_slice(&y.data);
        r0 = r1;
    }
    Ok((pca, Matrix { rows: n, cols: k, data }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::io::Pixels;

    fn frame(rows: usize, cols: usize, f: impl Fn(usize, usize) -> u16) -> Frame {
        let mut px = Vec::with_capacity(rows * cols);
        for r in 0..rows {
            for c in 0..cols {
                px.push(f(r, c));
            }
        }
        Frame {
            rows,
            cols,
            pixels: Pixels::U16(px),
            mask: None,
            detector: None,
            pixel_size_mm: None,
            metadata: Default::default(),
            source: "test".into(),
        }
    }

    #[test]
    fn binning_averages_blocks_of_the_centred_square() {
        // 8 rows × 12 cols: the centred square is columns 2..10; a bright pixel at (0, 2) is its corner
        let f = frame(8, 12, |r, c| if (r, c) == (0, 2) { 400 } else { 0 });
        let p = Preprocess { side: 4, roi: None, scaling: Scaling::Percentile { low: 0.0, high: 100.0 } };
        let v = preprocess(&f, &p).unwrap();
        assert_eq!(v.len(), 16);
        assert_eq!(v[0], 1.0);
        assert!(v[1..].iter().all(|&x| x == 0.0));
        // Log scaling maps the median to 0 and the u16 full scale to 1: the block mean 100 → ln(101)/ln(65536)
        let v = preprocess(&f, &Preprocess { scaling: Scaling::Log, ..p }).unwrap();
        assert!((f64::from(v[0]) - 101f64.ln() / 65_536f64.ln()).abs() < 1e-6);
        assert!(v[1..].iter().all(|&x| x == 0.0));
        // a ROI outside the frame is refused
        let bad = Preprocess { roi: Some(Roi { row0: 4, col0: 0, size: 8 }), ..p };
        assert!(preprocess(&f, &bad).is_err());
    }

    #[test]
    fn peak_features_are_unit_norm_and_local() {
        let cal = crate::scan::simulate::detector_calibration(256, 256).unwrap();
        let pf = PeakFeatures::new(cal, PeakSearchParams::default()).unwrap();
        let a = pf.draw(&[(100.0, 120.0, 400.0)]);
        let norm: f32 = a.iter().map(|v| v * v).sum::<f32>().sqrt();
        assert!((norm - 1.0).abs() < 1e-5);
        // one spot covers at most the 7 × 7 bins within 3σ
        let lit = a.iter().filter(|&&v| v > 0.0).count();
        assert!((1..=49).contains(&lit), "{lit}");
        assert!(pf.draw(&[]).iter().all(|&v| v == 0.0));
    }

    #[test]
    fn reduce_projects_every_row() {
        let rows: Vec<Vec<f32>> = (0..300).map(|i| vec![(i % 3) as f32, (i % 5) as f32, 1.0]).collect();
        let x = FeatureMatrix::from_rows(rows).unwrap();
        let (pca, y) = reduce(&x, 2, 100).unwrap();
        assert_eq!((y.rows, y.cols, pca.n_samples), (300, 2, 100));
        let direct = pca.transform(x.to_f64_rows(&(0..300).collect::<Vec<_>>()).view()).unwrap();
        assert_eq!(direct, y);
    }
}
