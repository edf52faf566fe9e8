//! Synthetic detector images of simulated patterns: spot shapes, an intensity model, background, Poisson
//! and read noise, saturation — seeded and deterministic. They feed tests and the training of the networks.
//!
//! Defaults resemble the MarCCD 165 images of BM32 (`Ge_blanc_0000.mccd`): background 40–100 counts with a
//! hump near the beam centre, σ ≈ 0.8 px spots, brightest spots ~30 000 counts, 16-bit saturation, a round
//! active area. Pixel (x, y) in LaueTools' convention lands at array row y − 1, column x − 1.

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, LogNormal, Normal, Poisson};
use serde::{Deserialize, Serialize};

use super::pattern::Spot;
use crate::error::{LaueError, Result, Stage};

/// LaueTools' first pixel centre is (1, 1).
pub const PIXEL_ORIGIN: f64 = 1.0;

/// The profile of every spot.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum SpotShape {
    /// Round 2D Gaussian.
    Gaussian { sigma_px: f64 },
    /// Elliptical Gaussian with its major axis at `angle_deg` from the x (column) axis.
    Elliptical { sigma_major_px: f64, sigma_minor_px: f64, angle_deg: f64 },
    /// Elongated along the radial direction from the beam centre (xcen, ycen), as from mosaicity or a
    /// strain gradient: Gaussian across, flat-topped of `length_px` along.
    Streak { length_px: f64, width_px: f64 },
    /// Two Gaussians `separation_px` apart at `angle_deg`, the second with `ratio` of the first's height.
    Doublet { sigma_px: f64, separation_px: f64, ratio: f64, angle_deg: f64 },
}

/// Everything that makes a synthetic image.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct ImageModel {
    pub shape: SpotShape,
    /// peak height (counts above background) of a fundamental spot at the spectrum maximum
    pub peak_counts: f64,
    /// energy of the spectrum maximum (keV); spectrum S(E) = x² e^{2(1−x)}, x = E/E0
    pub spectrum_peak_kev: f64,
    /// Debye–Waller-like fall-off exp(−B/(4d²)) (Å²)
    pub b_factor: f64,
    /// spread (σ of ln) of per-reflection intensities, standing in for structure factors
    pub intensity_log_sigma: f64,
    /// flat background (counts)
    pub background: f64,
    /// extra background at the beam centre (counts), Gaussian of width `hump_sigma_px`
    pub background_hump: f64,
    pub hump_sigma_px: f64,
    /// electronic offset added to every pixel (ADU)
    pub offset: f64,
    /// ADU per detected photon (Poisson statistics on counts/gain)
    pub gain: f64,
    /// read noise (ADU rms)
    pub read_noise: f64,
    pub poisson: bool,
    /// value at which pixels clip
    pub saturation: u16,
    /// zero outside a circle of diameter `cols` centred on the frame (MarCCD's round taper)
    pub circular_mask: bool,
    pub seed: u64,
    /// beam centre for the background hump and radial streaks (px)
    pub xcen_px: f64,
    pub ycen_px: f64,
}

impl Default for ImageModel {
    fn default() -> Self {
        ImageModel {
            shape: SpotShape::Gaussian { sigma_px: 0.8 },
            peak_counts: 20_000.0,
            spectrum_peak_kev: 10.0,
            b_factor: 0.5,
            intensity_log_sigma: 0.6,
            background: 45.0,
            background_hump: 55.0,
            hump_sigma_px: 500.0,
            offset: 0.0,
            gain: 1.0,
            read_noise: 4.0,
            poisson: true,
            saturation: u16::MAX,
            circular_mask: false,
            seed: 0,
            xcen_px: 1024.0,
            ycen_px: 1024.0,
        }
    }
}

/// A spot as drawn: where, how bright, which shape.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct TrueSpot {
    /// centre in LaueTools pixel convention (px)
    pub x_px: f64,
    pub y_px: f64,
    /// peak height above background before noise and clipping (counts)
    pub amplitude: f64,
    pub h: i32,
    pub k: i32,
    pub l: i32,
    pub energy_kev: f64,
}

/// A rendered 16-bit frame with the truth it was drawn from.
#[derive(Debug, Clone, PartialEq)]
pub struct SyntheticImage {
    pub rows: usize,
    pub cols: usize,
    /// row-major pixels
    pub pixels: Vec<u16>,
    pub truth: Vec<TrueSpot>,
}

/// Renders `spots` (from the simulator, with d-spacings given by `d_spacing(hkl)` in Å) on a rows × cols frame.
pub fn render_image(
    spots: &[Spot],
    d_spacing: impl Fn([i32; 3]) -> f64,
    rows: usize,
    cols: usize,
    model: &ImageModel,
) -> Result<SyntheticImage> {
    if rows == 0 || cols == 0 {
        return Err(LaueError::settings(
            Stage::Simulation,
            format!("image size {rows}×{cols} px: need ≥ 1 px"),
        ));
    }
    crate::limits::SIMULATED_PIXELS.check_with(
        &format!("simulated image pixels ({rows}×{cols})"),
        (rows as u64).saturating_mul(cols as u64),
        "use a smaller --frame",
    )?;
    check_model(model)?;
    let mut rng = ChaCha8Rng::seed_from_u64(model.seed);
    let mut signal = vec![0f32; rows * cols];
    let spread = LogNormal::new(0.0, model.intensity_log_sigma.max(1e-9)).map_err(|e| {
        LaueError::settings(
            Stage::Simulation,
            format!("intensity_log_sigma {}: {e}", model.intensity_log_sigma),
        )
    })?;
    let mut truth = Vec::with_capacity(spots.len());
    for s in spots {
        let x = s.energy_kev / model.spectrum_peak_kev;
        let spectrum = x * x * (2.0 * (1.0 - x)).exp();
        let d = d_spacing(s.hkl());
        let dw = (-model.b_factor / (4.0 * d * d)).exp();
        let amplitude =
            model.peak_counts * spectrum * dw * spread.sample(&mut rng) / (s.harmonic_order as f64).powi(2);
        draw_spot(&mut signal, rows, cols, s.x_px - PIXEL_ORIGIN, s.y_px - PIXEL_ORIGIN, amplitude, model);
        truth.push(TrueSpot {
            x_px: s.x_px,
            y_px: s.y_px,
            amplitude,
            h: s.h,
            k: s.k,
            l: s.l,
            energy_kev: s.energy_kev,
        });
    }
    let read = Normal::new(0.0, model.read_noise.max(0.0)).map_err(|e| {
        LaueError::settings(Stage::Simulation, format!("read_noise {}: {e}", model.read_noise))
    })?;
    let (cx, cy) = (model.xcen_px - PIXEL_ORIGIN, model.ycen_px - PIXEL_ORIGIN);
    let inv_two_s2 = 1.0 / (2.0 * model.hump_sigma_px * model.hump_sigma_px);
    let radius2 = (cols as f64 / 2.0).powi(2);
    let mut pixels = vec![0u16; rows * cols];
    for r in 0..rows {
        for c in 0..cols {
            let i = r * cols + c;
            if model.circular_mask {
                let (dx, dy) = (c as f64 - (cols as f64 - 1.0) / 2.0, r as f64 - (rows as f64 - 1.0) / 2.0);
                if dx * dx + dy * dy > radius2 {
                    continue;
                }
            }
            let (dx, dy) = (c as f64 - cx, r as f64 - cy);
            let bg = model.background + model.background_hump * (-(dx * dx + dy * dy) * inv_two_s2).exp();
            let mean = (bg + signal[i] as f64).max(0.0);
            let counts = if model.poisson && mean > 0.0 {
                let photons = mean / model.gain;
                let n: f64 = Poisson::new(photons).map(|p| p.sample(&mut rng)).unwrap_or(photons);
                n * model.gain
            } else {
                mean
            };
            let v = counts + model.offset + if model.read_noise > 0.0 { read.sample(&mut rng) } else { 0.0 };
            pixels[i] = v.round().clamp(0.0, model.saturation as f64) as u16;
        }
    }
    Ok(SyntheticImage { rows, cols, pixels, truth })
}

/// Most Gaussians one streak is drawn with (length / half-width).
const MAX_STREAK_STEPS: f64 = 10_000.0;
/// Largest spot width, length or separation (px).
const MAX_SPOT_PX: f64 = 4096.0;

fn check_model(m: &ImageModel) -> Result<()> {
    let bad = |what: String| Err(LaueError::settings(Stage::Simulation, format!("image model: {what}")));
    let finite = [
        ("peak_counts", m.peak_counts),
        ("spectrum_peak_kev", m.spectrum_peak_kev),
        ("b_factor", m.b_factor),
        ("intensity_log_sigma", m.intensity_log_sigma),
        ("background", m.background),
        ("background_hump", m.background_hump),
        ("hump_sigma_px", m.hump_sigma_px),
        ("offset", m.offset),
        ("gain", m.gain),
        ("read_noise", m.read_noise),
        ("xcen_px", m.xcen_px),
        ("ycen_px", m.ycen_px),
    ];
    if let Some((name, v)) = finite.iter().find(|(_, v)| !v.is_finite()) {
        return bad(format!("{name} = {v}: need a finite number"));
    }
    for (name, v) in
        [("gain", m.gain), ("spectrum_peak_kev", m.spectrum_peak_kev), ("hump_sigma_px", m.hump_sigma_px)]
    {
        if v <= 0.0 {
            return bad(format!("{name} = {v}: need > 0"));
        }
    }
    // (name, value, must be > 0 rather than ≥ 0)
    let widths: &[(&str, f64, bool)] = match &m.shape {
        SpotShape::Gaussian { sigma_px } => &[("gaussian sigma_px", *sigma_px, true)],
        SpotShape::Elliptical { sigma_major_px, sigma_minor_px, angle_deg } => &[
            ("elliptical sigma_major_px", *sigma_major_px, true),
            ("elliptical sigma_minor_px", *sigma_minor_px, true),
            ("elliptical angle_deg", angle_deg.abs(), false),
        ],
        SpotShape::Streak { length_px, width_px } => {
            &[("streak length_px", *length_px, false), ("streak width_px", *width_px, true)]
        }
        SpotShape::Doublet { sigma_px, separation_px, ratio, angle_deg } => &[
            ("doublet sigma_px", *sigma_px, true),
            ("doublet separation_px", *separation_px, false),
            ("doublet ratio", *ratio, false),
            ("doublet angle_deg", angle_deg.abs(), false),
        ],
    };
    for &(name, v, strict) in widths {
        let ok = v.is_finite() && if strict { v > 0.0 } else { v >= 0.0 };
        if !ok {
            let need = if strict { "a finite number > 0" } else { "a finite number ≥ 0" };
            return bad(format!("spot shape {name} = {v}: need {need}"));
        }
    }
    // A streak is drawn as length / (width / 2) Gaussians: bound their number (and so the time).
    if let SpotShape::Streak { length_px, width_px } = m.shape
        && length_px / (0.5 * width_px) > MAX_STREAK_STEPS
    {
        return bad(format!(
            "streak length_px = {length_px} for width_px = {width_px}: at most {} widths long",
            MAX_STREAK_STEPS / 2.0
        ));
    }
    // Spot widths beyond the largest detector only cost time (every spot touches every pixel).
    if let Some(&(name, v, _)) =
        widths.iter().find(|(n, v, _)| !n.ends_with("angle_deg") && !n.ends_with("ratio") && *v > MAX_SPOT_PX)
    {
        return bad(format!("spot shape {name} = {v} px: at most {MAX_SPOT_PX} px"));
    }
    Ok(())
}

/// Adds one spot centred at array coordinates (col, row) = (x0, y0).
fn draw_spot(buf: &mut [f32], rows: usize, cols: usize, x0: f64, y0: f64, amp: f64, m: &ImageModel) {
    match m.shape {
        SpotShape::Gaussian { sigma_px } => gaussian(buf, rows, cols, x0, y0, amp, sigma_px, sigma_px, 0.0),
        SpotShape::Elliptical { sigma_major_px, sigma_minor_px, angle_deg } => {
            gaussian(buf, rows, cols, x0, y0, amp, sigma_major_px, sigma_minor_px, angle_deg.to_radians())
        }
        SpotShape::Streak { length_px, width_px } => {
            let ang = (y0 - (m.ycen_px - PIXEL_ORIGIN)).atan2(x0 - (m.xcen_px - PIXEL_ORIGIN));
            // A flat-topped line convolved with the width: sum of Gaussians along the streak.
            let n = (length_px / (0.5 * width_px)).ceil().max(1.0) as usize;
            for i in 0..=n {
                let t = if n == 0 { 0.0 } else { (i as f64 / n as f64 - 0.5) * length_px };
                let a = amp * 0.5 * width_px / (length_px + 0.5 * width_px).max(0.5 * width_px);
                gaussian(buf, rows, cols, x0 + t * ang.cos(), y0 + t * ang.sin(), a, width_px, width_px, 0.0);
            }
        }
        SpotShape::Doublet { sigma_px, separation_px, ratio, angle_deg } => {
            let (s, c) = angle_deg.to_radians().sin_cos();
            let h = separation_px / 2.0;
            gaussian(buf, rows, cols, x0 - h * c, y0 - h * s, amp, sigma_px, sigma_px, 0.0);
            gaussian(buf, rows, cols, x0 + h * c, y0 + h * s, amp * ratio, sigma_px, sigma_px, 0.0);
        }
    }
}

#[allow(clippy::too_many_arguments)]
fn gaussian(
    buf: &mut [f32],
    rows: usize,
    cols: usize,
    x0: f64,
    y0: f64,
    amp: f64,
    sa: f64,
    sb: f64,
    ang: f64,
) {
    let reach = 5.0 * sa.max(sb);
    let (c_lo, c_hi) = ((x0 - reach).floor().max(0.0), (x0 + reach).ceil().min(cols as f64 - 1.0));
    let (r_lo, r_hi) = ((y0 - reach).floor().max(0.0), (y0 + reach).ceil().min(rows as f64 - 1.0));
    if c_lo > c_hi || r_lo > r_hi {
        return;
    }
    let (sn, cs) = ang.sin_cos();
    let (ia, ib) = (1.0 / (2.0 * sa * sa), 1.0 / (2.0 * sb * sb));
    for r in r_lo as usize..=r_hi as usize {
        for c in c_lo as usize..=c_hi as usize {
            let (dx, dy) = (c as f64 - x0, r as f64 - y0);
            let (u, v) = (dx * cs + dy * sn, -dx * sn + dy * cs);
            buf[r * cols + c] += (amp * (-(u * u * ia + v * v * ib)).exp()) as f32;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spot(x: f64, y: f64) -> Spot {
        Spot {
            h: 1,
            k: 1,
            l: 1,
            twotheta_deg: 90.0,
            chi_deg: 0.0,
            x_px: x,
            y_px: y,
            energy_kev: 10.0,
            harmonic_order: 1,
            multiplicity: 0,
            grain: 0,
        }
    }

    #[test]
    fn noiseless_spot_is_where_it_should_be() {
        let model = ImageModel {
            poisson: false,
            read_noise: 0.0,
            background_hump: 0.0,
            intensity_log_sigma: 1e-12,
            b_factor: 0.0,
            ..ImageModel::default()
        };
        let img = render_image(&[spot(101.3, 51.7)], |_| 2.0, 128, 256, &model).unwrap();
        // Intensity-weighted centroid above background, back in LaueTools' convention.
        let (mut sx, mut sy, mut sw) = (0.0, 0.0, 0.0);
        for r in 0..img.rows {
            for c in 0..img.cols {
                let w = img.pixels[r * img.cols + c] as f64 - 45.0;
                if w > 0.5 {
                    sx += w * (c as f64 + PIXEL_ORIGIN);
                    sy += w * (r as f64 + PIXEL_ORIGIN);
                    sw += w;
                }
            }
        }
        assert!((sx / sw - 101.3).abs() < 0.02 && (sy / sw - 51.7).abs() < 0.02, "{} {}", sx / sw, sy / sw);
        assert!((img.truth[0].amplitude - 20_000.0).abs() < 1e-3, "{}", img.truth[0].amplitude);
        let peak = *img.pixels.iter().max().unwrap() as f64;
        assert!(peak > 45.0 + 0.5 * 20_000.0 && peak <= 45.0 + 20_000.0 + 1.0, "{peak}");
    }

    #[test]
    fn seeded_and_noisy_like_a_detector() {
        let model = ImageModel { seed: 5, xcen_px: 61.0, ycen_px: 61.0, ..ImageModel::default() };
        let a = render_image(&[spot(60.0, 60.0)], |_| 2.0, 120, 120, &model).unwrap();
        let b = render_image(&[spot(60.0, 60.0)], |_| 2.0, 120, 120, &model).unwrap();
        assert_eq!(a, b);
        let c =
            render_image(&[spot(60.0, 60.0)], |_| 2.0, 120, 120, &ImageModel { seed: 6, ..model }).unwrap();
        assert_ne!(a.pixels, c.pixels);
        // Background noise: Poisson on ~100 counts plus 4 ADU read noise → σ ≈ √(100 + 16) ≈ 10.8.
        let corner: Vec<f64> = (0..20)
            .flat_map(|r| (0..20).map(move |c| (r, c)))
            .map(|(r, c)| a.pixels[r * 120 + c] as f64)
            .collect();
        let mean = corner.iter().sum::<f64>() / corner.len() as f64;
        let sd = (corner.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (corner.len() - 1) as f64).sqrt();
        assert!((mean - 100.0).abs() < 3.0, "mean {mean}");
        assert!((sd - 10.8).abs() < 1.5, "sd {sd}");
    }

    #[test]
    fn saturation_and_bad_models() {
        let model = ImageModel { peak_counts: 1e7, intensity_log_sigma: 1e-12, ..ImageModel::default() };
        let img = render_image(&[spot(30.0, 30.0)], |_| 2.0, 64, 64, &model).unwrap();
        assert_eq!(*img.pixels.iter().max().unwrap(), u16::MAX);
        assert!(render_image(&[], |_| 2.0, 0, 64, &model).is_err());
        let bad = ImageModel { shape: SpotShape::Gaussian { sigma_px: 0.0 }, ..model };
        assert!(render_image(&[], |_| 2.0, 8, 8, &bad).is_err());
    }
}
