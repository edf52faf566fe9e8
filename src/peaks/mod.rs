//! Laue peak search as LaueTools' `readmccd.PeakSearch` does it (method 0: background, threshold, blobs,
//! Gaussian fits, rejections; method 2: convolution), giving the same peaks on the same images.
//!
//! Positions follow LaueTools' convention with `position_definition = 1`: x = column, y = row, the first
//! pixel's centre at (1, 1).

pub mod detect;
pub mod fit;
pub mod params;

use serde::{Deserialize, Serialize};

pub use params::{LocalMaximaData, PeakSearchParams};

use crate::error::{LaueError, Result};
use crate::io::Frame;
use detect::{BackgroundPath, LocalMaximum};
use fit::{Profile, ThetaDerivative, fit_box};

/// One fitted peak, with LaueTools' `.dat` columns.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Peak {
    /// column position (px, LaueTools convention)
    pub x: f64,
    /// row position (px)
    pub y: f64,
    /// peak_Itot = amplitude + background (counts)
    pub intensity: f64,
    /// peak_Isub: fitted amplitude above background (counts, a height)
    pub intensity_sub: f64,
    /// peak_fwaxmaj: σ (px) across the direction of `inclination` (signed, not ordered, as LaueTools)
    pub sigma_major: f64,
    /// peak_fwaxmin: σ (px) along the direction at `inclination` from +x towards +y
    pub sigma_minor: f64,
    /// peak_inclination (deg, [0, 360))
    pub inclination: f64,
    /// fitted minus detected position (px)
    pub x_dev: f64,
    pub y_dev: f64,
    /// fitted background (counts)
    pub background: f64,
    /// largest raw pixel in the fit box (counts)
    pub max_pixel: f64,
}

impl Peak {
    /// The detected pixel (x, y; px, LaueTools' convention): the fitted position minus `x_dev`, `y_dev`.
    /// The spot network's cut-outs are centred here, as in its training.
    pub fn detected_pixel(&self) -> (f64, f64) {
        (self.x - self.x_dev, self.y - self.y_dev)
    }
}

/// The peaks of one image, strongest first, and how the search went.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PeakList {
    pub peaks: Vec<Peak>,
    pub stats: SearchStats,
}

/// Counts at each stage (to compare with LaueTools step by step) and timings.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
pub struct SearchStats {
    pub local_maxima: usize,
    pub after_merge: usize,
    pub after_band_cut: usize,
    pub fitted: usize,
    pub rejected: usize,
    pub duplicates: usize,
    /// seconds spent on background + detection, and on fitting
    pub detect_s: f64,
    pub fit_s: f64,
}

/// Runs the peak search on a frame.
pub fn peak_search(frame: &Frame, params: &PeakSearchParams) -> Result<PeakList> {
    peak_search_with_progress(frame, params, &mut |_| {})
}

/// Where a running peak search is, for progress bars.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub enum Progress {
    /// background, threshold and blobs done: `candidates` local maxima to fit
    Detected { candidates: usize },
    /// `done` of `total` candidates fitted
    Fitting { done: usize, total: usize },
}

/// [`peak_search`] that reports its progress: once after detection, then every 32 fits and at the end.
pub fn peak_search_with_progress(
    frame: &Frame,
    params: &PeakSearchParams,
    progress: &mut dyn FnMut(Progress),
) -> Result<PeakList> {
    let p = params.clone().validated()?;
    let (rows, cols) = (frame.rows, frame.cols);
    if rows == 0 || cols == 0 || frame.pixels.len() != rows * cols {
        return Err(LaueError::image(
            &frame.source,
            format!("frame {rows}×{cols} with {} pixels has no usable pixels", frame.pixels.len()),
        ));
    }
    if p.local_maxima_search_method == 2 {
        check_kernel(&p, rows, cols)?;
    }
    let t0 = now();
    // Masked pixels (dead, gaps, NaN/±Inf floats) are replaced by a local estimate so that they neither
    // seed a peak nor pull a fit (see `io::frame::FILL_MIN_NEIGHBOURS`).
    let filled;
    let frame = if frame.unusable_count() > 0 {
        filled = frame.with_masked_filled();
        &filled
    } else {
        frame
    };
    let saturation = detector_saturation(frame);
    let maxima = match &frame.pixels {
        crate::io::Pixels::U8(v) => local_maxima(v, rows, cols, frame, &p, saturation),
        crate::io::Pixels::U16(v) => local_maxima(v, rows, cols, frame, &p, saturation),
        crate::io::Pixels::U32(v) => local_maxima(v, rows, cols, frame, &p, saturation),
        crate::io::Pixels::I32(v) => local_maxima(v, rows, cols, frame, &p, saturation),
        crate::io::Pixels::F32(v) => local_maxima(v, rows, cols, frame, &p, saturation),
    }?;
    let mut stats = SearchStats { local_maxima: maxima.len(), ..SearchStats::default() };
    if maxima.len() >= 2 && maxima.len() >= p.number_max_of_fits {
        return Err(LaueError::image(
            &frame.source,
            format!(
                "{} local maxima above IntensityThreshold {} reach NumberMaxofFits = {}: raise IntensityThreshold \
                 (or NumberMaxofFits)",
                maxima.len(),
                p.intensity_threshold,
                p.number_max_of_fits
            ),
        ));
    }
    let merged = detect::merge_close(&maxima);
    stats.after_merge = merged.len();
    let to_fit: Vec<LocalMaximum> = if frame.detector.as_deref() == Some("sCMOS") && p.npixels > 0 {
        let (lo, hi) = (1007usize.saturating_sub(p.npixels), 1009 + p.npixels);
        merged.into_iter().filter(|m| !(lo..=hi).contains(&m.col) && !(lo..=hi).contains(&m.row)).collect()
    } else {
        merged
    };
    stats.after_band_cut = to_fit.len();
    stats.detect_s = now() - t0;
    progress(Progress::Detected { candidates: to_fit.len() });
    let t1 = now();
    let mut peaks = Vec::with_capacity(to_fit.len());
    let b = p.boxsize;
    let n = 2 * b;
    let mut data = vec![0f64; n * n];
    for (i, m) in to_fit.iter().enumerate() {
        if i % 32 == 0 && i > 0 {
            progress(Progress::Fitting { done: i, total: to_fit.len() });
        }
        stats.fitted += 1;
        // A box that does not fit in the frame is LaueTools' all-zero box: always rejected.
        if m.row < b || m.col < b || m.row + b > rows || m.col + b > cols {
            stats.rejected += 1;
            continue;
        }
        for u in 0..n {
            let r = m.row - b + u;
            for v in 0..n {
                data[u * n + v] = frame.pixels.get(r * cols + (m.col - b + v));
            }
        }
        let peak = match p.fit_peaks_gaussian {
            0 => Some(Peak {
                x: m.col as f64,
                y: m.row as f64,
                intensity: m.value as f64,
                intensity_sub: m.value as f64,
                sigma_major: 0.0,
                sigma_minor: 0.0,
                inclination: 0.0,
                x_dev: 0.0,
                y_dev: 0.0,
                background: 0.0,
                max_pixel: m.value as f64,
            }),
            k => {
                let profile = if k == 1 { Profile::Gaussian } else { Profile::Lorentzian };
                let f = fit_box(&data, n, profile, ThetaDerivative::LaueTools, p.xtol, saturation as f64);
                let [h, a, uc, vc, s1, s2, theta] = f.params;
                let x = vc - b as f64 + m.col as f64;
                let y = uc - b as f64 + m.row as f64;
                let (xd, yd) = (x - m.col as f64, y - m.row as f64);
                let smax = s1.max(s2);
                let rejected = f.nfev > 1550
                    || (p.reject_negative_baseline && h - f.start_background < 0.0)
                    || (xd * xd + yd * yd).sqrt() > p.fit_pixel_dev
                    || a >= p.saturation_value
                    || a <= p.min_intensity
                    || smax <= p.peak_size_range.0
                    || smax >= p.peak_size_range.1
                    // LaueTools keeps NaN fits (every comparison is false); a demanding user does not.
                    || f.params.iter().any(|v| !v.is_finite());
                (!rejected).then_some(Peak {
                    x,
                    y,
                    intensity: a + h,
                    intensity_sub: a,
                    sigma_major: s1,
                    sigma_minor: s2,
                    inclination: theta.rem_euclid(360.0),
                    x_dev: xd,
                    y_dev: yd,
                    background: h,
                    max_pixel: f.box_max,
                })
            }
        };
        match peak {
            Some(pk) => peaks.push(pk),
            None => stats.rejected += 1,
        }
    }
    progress(Progress::Fitting { done: to_fit.len(), total: to_fit.len() });
    peaks.sort_by(|a, b| b.intensity_sub.total_cmp(&a.intensity_sub));
    if p.position_definition == 1 {
        for pk in &mut peaks {
            pk.x += 1.0;
            pk.y += 1.0;
        }
    }
    if p.purge_duplicates && peaks.len() > 2 {
        let before = peaks.len();
        peaks = detect::purge_close(&peaks, b as f64, |pk| (pk.x, pk.y));
        stats.duplicates = before - peaks.len();
    }
    stats.fit_s = now() - t1;
    Ok(PeakList { peaks, stats })
}

/// The detector's saturation level (counts), LaueTools' `dict_CCD[CCDLabel][2]`: the detection image is clipped
/// to it and the fit gives pixels at or above it zero weight. The frame's preset gives it (65535 for the MarCCD
/// and sCMOS, 2³²−1 for the Eiger, the counter's cut-off for the Pilatus); without a preset, 65535 for 8- and
/// 16-bit data and no level at all (the type's largest value) for 32-bit and float data, whose counts are not
/// bounded by 16 bits.
pub fn detector_saturation(frame: &Frame) -> f32 {
    let preset = frame.detector.as_deref().and_then(crate::io::image::preset).map(|p| p.saturation as f32);
    preset.unwrap_or(match frame.pixels {
        crate::io::Pixels::U8(_) | crate::io::Pixels::U16(_) => 65535.0,
        crate::io::Pixels::U32(_) | crate::io::Pixels::I32(_) | crate::io::Pixels::F32(_) => f32::MAX,
    })
}

/// Method 2's kernel against the frame, before the convolution is allocated: it must fit in the frame,
/// and the convolution (pixels × side² multiply-adds) must stay within [`crate::limits::CONVOLUTION_OPS`].
fn check_kernel(p: &PeakSearchParams, rows: usize, cols: usize) -> Result<()> {
    let n = p.params_hat.1;
    if n > rows.min(cols) {
        return Err(LaueError::settings(
            crate::error::Stage::PeakSearch,
            format!("paramsHat kernel size {n} px is larger than the {rows}×{cols} frame"),
        ));
    }
    let ops = (rows as u64 * cols as u64).saturating_mul((n as u64).saturating_mul(n as u64));
    crate::limits::CONVOLUTION_OPS.check_with(
        &format!("method-2 convolution multiply-adds ({rows}×{cols} px × kernel {n}²)"),
        ops,
        "use a smaller paramsHat kernel size",
    )
}

/// Local maxima by the chosen method, on the frame's own pixel type.
fn local_maxima<T: detect::Sample>(
    a: &[T],
    rows: usize,
    cols: usize,
    frame: &Frame,
    p: &PeakSearchParams,
    saturation: f32,
) -> Result<Vec<LocalMaximum>> {
    let path = BackgroundPath::for_detector(frame.detector.as_deref());
    let k = p.background_factor()?;
    let sat = saturation;
    let thr = p.intensity_threshold as f32;
    Ok(match (p.local_maxima_search_method, &p.data_for_local_maxima) {
        (0, LocalMaximaData::AutoBackground) => {
            detect::local_maxima_method0(a, rows, cols, path, k, sat, thr)
        }
        (0, LocalMaximaData::Raw) => {
            let raw: Vec<f32> = a.iter().map(|v| v.to_f32()).collect();
            detect::blobs_hottest(&raw, rows, cols, thr)
        }
        (_, data) => {
            let detection = match data {
                LocalMaximaData::AutoBackground => detect::detection_image(a, rows, cols, path, k, sat),
                LocalMaximaData::Raw => a.iter().map(|v| v.to_f32()).collect(),
            };
            detect::convolution_candidates(
                &detection,
                rows,
                cols,
                p.params_hat,
                p.threshold_convolve as f32,
                p.intensity_threshold as f32,
                p.pixel_near_radius,
            )
        }
    })
}

/// Seconds on a monotonic clock that also works in wasm (where `std::time::Instant` panics).
#[cfg(not(target_arch = "wasm32"))]
pub(crate) fn now() -> f64 {
    use std::sync::OnceLock;
    static START: OnceLock<std::time::Instant> = OnceLock::new();
    START.get_or_init(std::time::Instant::now).elapsed().as_secs_f64()
}

#[cfg(target_arch = "wasm32")]
pub(crate) fn now() -> f64 {
    js_sys::Date::now() / 1000.0
}
