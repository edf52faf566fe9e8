//! Laue peak search as LaueTools' `readmccd.PeakSearch` does it (method 0: background, threshold, blobs,
//! Gaussian fits, rejections; method 2: convolution), giving the same peaks on the same images.
//!
//! Positions follow LaueTools' convention with `position_definition = 1`: x = column, y = row, the first
//! pixel's centre at (1, 1).
//!
//! # Masked pixels
//!
//! A frame's mask (module gaps and dead pixels the file marks, a `--mask` file, non-finite floats; see
//! [`crate::io::image`]) never seeds a peak and never enters a fit:
//!
//! - **Detection** (method 0 on the background-subtracted image): the 10×10 minimum filter that estimates
//!   the background skips masked pixels (a pixel next to a gap gets the minimum of its usable neighbours),
//!   and a masked pixel's detection value is 0, so it is never a local maximum and a blob does not run
//!   across a gap. Method 0 on raw data sets masked pixels to 0; method 2 convolves the frame with masked
//!   pixels filled from their surroundings ([`crate::io::Frame::with_masked_filled`]) and drops candidates
//!   on masked pixels.
//! - **Fit**: the box holds the raw pixels; masked ones get weight 0, as saturated ones do, and the starting
//!   values (box minimum, maximum and its place) come from the usable pixels only ([`fit::fit_box_masked`]).
//! - **Rules for boxes that touch the mask** (ours; LaueTools has none, see below): a box with more masked
//!   than usable pixels is not fitted, and a fit is refused when its centre lies more than 2 px inside the
//!   mask (the spot's middle was not observed: an extrapolation) or when it is a line along a mask edge
//!   (narrow width < 1 px, long one > 3× that: on PILATUS modules the edge pixels count higher than their
//!   neighbours, and LaueTools fits them as streaks). [`SearchStats::masked_boxes`] counts these.
//!
//! What LaueTools 3.2 does: its `dict_CCD` has no PILATUS. Its Gaussian fit (`fit2Dintensity.gaussfit`,
//! called by `readmccd.fitPeakMultiROIs` on raw crops) gives weight 0 to pixels ≤ 0 and ≥ saturation, so on
//! raw PILATUS data the gaps (−1, −2) are already out of the fit, but its starting background is the box
//! minimum, the sentinel −1. Its background subtraction (`imageprocessing.computefilteredimage`) has no mask
//! for these detectors (its `np.clip(A, 0, None)` discards the result), so the minimum filter takes −1 along
//! the gaps and A − 1.1·B rises along every gap edge: on the ALS frames that run ("raw" in
//! `tests/peaks_masked.rs`) gives 19 and 6 peaks within 2 px of a gap, most of them streaks along it.
//! For its masked detectors LaueTools masks values ≤ 0 (`MaxiPIXCdTe`, `EIGER_4MCdTe`) or < 0 (`EIGER_4M`,
//! via `np.ma`) in the background step, and MarCCD frames are cut to the round active area
//! ([`detect::BackgroundPath::MaskedIntegers`]); none has a rule for fit boxes that overlap a mask.

pub mod detect;
pub mod fit;
pub mod params;

use serde::{Deserialize, Serialize};

pub use params::{LocalMaximaData, PeakSearchParams};

use crate::error::{LaueError, Result};
use crate::io::Frame;
use detect::{BackgroundPath, LocalMaximum};
use fit::{Profile, ThetaDerivative, fit_box, fit_box_masked};

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
    /// of `rejected`: refused for the mask (boxes more masked than not, not fitted; fits that are artefacts
    /// of the mask, see [`masked_artefact`])
    #[serde(default)]
    pub masked_boxes: usize,
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
    // Masked pixels (dead, gaps, mask files, NaN/±Inf floats) never seed a peak and never enter a fit (see
    // "Masked pixels" above).
    let unusable = frame.unusable_mask();
    let method0_background =
        p.local_maxima_search_method == 0 && p.data_for_local_maxima == LocalMaximaData::AutoBackground;
    let prepared;
    let detect_frame = match &unusable {
        None => frame,
        Some(m) if method0_background => {
            // The minimum filter skips masked pixels: they hold the type's largest value.
            let mut f = frame.clone();
            for i in (0..m.len()).filter(|&i| m[i]) {
                f.pixels.set(i, f32::MAX as f64);
            }
            prepared = f;
            &prepared
        }
        Some(_) => {
            prepared = frame.with_masked_filled();
            &prepared
        }
    };
    let saturation = detector_saturation(frame);
    let m = unusable.as_deref();
    let mut maxima = match &detect_frame.pixels {
        crate::io::Pixels::U8(v) => local_maxima(v, m, rows, cols, frame, &p, saturation),
        crate::io::Pixels::U16(v) => local_maxima(v, m, rows, cols, frame, &p, saturation),
        crate::io::Pixels::U32(v) => local_maxima(v, m, rows, cols, frame, &p, saturation),
        crate::io::Pixels::I32(v) => local_maxima(v, m, rows, cols, frame, &p, saturation),
        crate::io::Pixels::F32(v) => local_maxima(v, m, rows, cols, frame, &p, saturation),
    }?;
    if let Some(m) = m {
        // Method 2 searches the filled frame: a candidate on a masked pixel is dropped.
        maxima.retain(|x| !m[x.row * cols + x.col]);
    }
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
    let mut usable = vec![true; n * n];
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
        // The raw pixels; a masked one holds 0 and is out of the fit (`fit_box_masked`).
        let mut good = 0;
        for u in 0..n {
            let r = m.row - b + u;
            for v in 0..n {
                let j = r * cols + (m.col - b + v);
                let ok = unusable.as_ref().is_none_or(|bad| !bad[j]);
                usable[u * n + v] = ok;
                data[u * n + v] = if ok { frame.pixels.get(j) } else { 0.0 };
                good += ok as usize;
            }
        }
        if 2 * good < n * n {
            // More masked than usable pixels: no fit (see "Masked pixels").
            stats.rejected += 1;
            stats.masked_boxes += 1;
            continue;
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
                let f = match &unusable {
                    None => fit_box(&data, n, profile, ThetaDerivative::LaueTools, p.xtol, saturation as f64),
                    Some(_) => fit_box_masked(
                        &data,
                        Some(&usable),
                        n,
                        profile,
                        ThetaDerivative::LaueTools,
                        p.xtol,
                        saturation as f64,
                    ),
                };
                let [h, a, uc, vc, s1, s2, theta] = f.params;
                let x = vc - b as f64 + m.col as f64;
                let y = uc - b as f64 + m.row as f64;
                let (xd, yd) = (x - m.col as f64, y - m.row as f64);
                let smax = s1.max(s2);
                let rejected = unusable.as_ref().is_some_and(|bad| {
                    let off = masked_artefact(bad, rows, cols, y, x, s1, s2);
                    stats.masked_boxes += off as usize;
                    off
                }) || f.nfev > 1550
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
/// to it and the fit gives pixels at or above it zero weight. The file's header (a PILATUS count cut-off) or
/// the frame's preset, when of the frame's pixel type, gives it (65535 for the MarCCD
/// and sCMOS, 2³²−1 for the Eiger, the counter's cut-off for the Pilatus); without a preset, 65535 for 8- and
/// 16-bit data and no level at all (the type's largest value) for 32-bit and float data, whose counts are not
/// bounded by 16 bits.
pub fn detector_saturation(frame: &Frame) -> f32 {
    // The file's own level (a PILATUS header's count cut-off), else the preset's — only when the preset is of the
    // frame's pixel type: a preset chosen by the frame size alone (a 512² u16 stack taken for the 8-bit RXO)
    // says nothing about the counts.
    let stated =
        frame.metadata.get("dectris.count_cutoff").and_then(|v| v.parse::<f32>().ok()).filter(|v| *v > 0.0);
    let preset = frame
        .detector
        .as_deref()
        .and_then(crate::io::image::preset)
        .filter(|p| p.pixel_type == frame.pixels.type_name())
        .map(|p| p.saturation as f32);
    stated.or(preset).unwrap_or(match frame.pixels {
        crate::io::Pixels::U8(_) | crate::io::Pixels::U16(_) => 65535.0,
        crate::io::Pixels::U32(_) | crate::io::Pixels::I32(_) | crate::io::Pixels::F32(_) => f32::MAX,
    })
}

/// Distance (px) within which a fit counts as touching the mask, for [`masked_artefact`].
pub const MASK_NEAR_PX: f64 = 2.0;

/// Whether a fit next to masked pixels is an artefact of the mask rather than a spot (see "Masked pixels"):
/// its centre (`row`, `col`: 0-based, fractional) lies more than [`MASK_NEAR_PX`] inside the mask (an
/// extrapolation: the spot's middle is not observed), or it is a line along a mask edge (within
/// [`MASK_NEAR_PX`] of a masked pixel, its narrow width under 1 px and its long one over 3 times that: the
/// brighter edge pixels of a PILATUS module, fitted as a streak).
pub fn masked_artefact(bad: &[bool], rows: usize, cols: usize, row: f64, col: f64, s1: f64, s2: f64) -> bool {
    if !(row.is_finite() && col.is_finite()) {
        return false;
    }
    let (r0, c0) = (row.round(), col.round());
    let reach = MASK_NEAR_PX.ceil() as i64 + 1;
    let (mut near_masked, mut near_usable, mut centre_masked) = (false, false, false);
    for dr in -reach..=reach {
        for dc in -reach..=reach {
            let (r, c) = (r0 as i64 + dr, c0 as i64 + dc);
            if r < 0 || c < 0 || r >= rows as i64 || c >= cols as i64 {
                continue;
            }
            let masked = bad[r as usize * cols + c as usize];
            let d = ((r as f64 - row).powi(2) + (c as f64 - col).powi(2)).sqrt();
            if d <= MASK_NEAR_PX {
                if masked {
                    near_masked = true;
                } else {
                    near_usable = true;
                }
            }
            if dr == 0 && dc == 0 {
                centre_masked = masked;
            }
        }
    }
    let (narrow, long) = (s1.abs().min(s2.abs()), s1.abs().max(s2.abs()));
    (centre_masked && !near_usable) || (near_masked && narrow < 1.0 && long > 3.0 * narrow)
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
#[allow(clippy::too_many_arguments)]
fn local_maxima<T: detect::Sample>(
    a: &[T],
    masked: Option<&[bool]>,
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
            detect::local_maxima_method0(a, masked, rows, cols, path, k, sat, thr)
        }
        (0, LocalMaximaData::Raw) => {
            // Masked pixels at 0: below any threshold, they neither seed nor join a blob.
            let raw: Vec<f32> = match masked {
                None => a.iter().map(|v| v.to_f32()).collect(),
                Some(m) => a.iter().zip(m).map(|(v, &m)| if m { 0.0 } else { v.to_f32() }).collect(),
            };
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::io::Pixels;

    fn frame(pixels: Pixels, detector: Option<&str>, cutoff: Option<&str>) -> Frame {
        let mut metadata = std::collections::BTreeMap::new();
        if let Some(c) = cutoff {
            metadata.insert("dectris.count_cutoff".to_string(), c.to_string());
        }
        Frame {
            rows: 1,
            cols: 2,
            pixels,
            mask: None,
            detector: detector.map(str::to_string),
            pixel_size_mm: None,
            metadata,
            source: "t".into(),
        }
    }

    /// The header's count cut-off first, then a preset of the frame's own pixel type, then the type's rule.
    #[test]
    fn saturation_follows_the_header_then_a_matching_preset_then_the_type() {
        let cases = [
            (frame(Pixels::I32(vec![0, 1]), Some("PILATUS_1M"), Some("1409688")), 1_409_688.0),
            (frame(Pixels::I32(vec![0, 1]), Some("PILATUS_1M"), None), 1_048_575.0),
            (frame(Pixels::U32(vec![0, 1]), Some("EIGER_4M"), None), 4_294_967_295.0),
            (frame(Pixels::U16(vec![0, 1]), Some("MARCCD165"), None), 65535.0),
            // A 512² u16 frame taken for the 8-bit RXO by its size: the preset's 255 is not this data's.
            (frame(Pixels::U16(vec![0, 1]), Some("RXO"), None), 65535.0),
            (frame(Pixels::F32(vec![0.0, 1.0]), None, None), f32::MAX),
        ];
        for (f, want) in cases {
            assert_eq!(detector_saturation(&f), want, "{:?} {:?}", f.detector, f.pixels.type_name());
        }
    }
}
