//! The autoencoder's training set, generated on the fly: every sample is a pre-processed 128 × 128 frame
//! ([`crate::cluster::features::preprocess`]), drawn either from the simulator or from a real image.
//!
//! A synthetic sample ([`synthetic_input`]) is a function of (seed, index) alone, so a batch can be made on
//! any thread in any order and still be the same. What is drawn (uniform unless said otherwise):
//!
//! * the detector: a frame of 160–512 px (square for 70 % of the draws, otherwise the rows 85–115 % of the
//!   columns), 120–180 mm wide (so the pixel size follows), at dd = 55–100 mm, the normal's foot (xcen,
//!   ycen) within ±15 % of the frame from its centre, xbet within ±1.5°, xgam within ±2° (15 % of the draws
//!   turned by ±90°, as the ALS Pilatus camera is);
//! * the crystals: 0 grains for 4 % of the draws, else 1–5 (probabilities 40, 20, 15, 12, 9 %), random
//!   orientations (uniform on SO(3)), materials from the whole built-in table (every Laue class in it), a
//!   second material for 30 % of the multi-grain draws; every grain after the first with 20–100 % of the
//!   first's spot heights; the band 4–6 to 18–25 keV;
//! * the image: spot shape Gaussian (50 %), elliptical (20 %), radial streak (20 %) or doublet (10 %) with
//!   σ = 0.5–1.6 px; fundamental peak heights 10³–10^4.7 counts (log-uniform), spectrum maximum 8–14 keV,
//!   intensity spread σ_ln 0.3–1.0, background 10–300 counts with a hump of 0–200 counts over 15–35 % of the
//!   frame, offset 0–100 ADU (half of the draws), gain 0.5–2, read noise 1–10 ADU, Poisson statistics,
//!   16-bit saturation, a round mask for 15 % of the draws;
//! * the pre-processing: the default (centred square, log scaling) for 80 % of the draws, a random square
//!   crop of 60–100 % of the short side for 10 %, the percentile scaling for 10 %.
//!
//! A real sample ([`real_input`]) is a random square crop (50–100 % of the short side) of a real frame,
//! log-scaled (85 %) or percentile-scaled (15 %), turned by one of the 8 rotations/reflections of the square.

use std::collections::HashMap;

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use super::model::INPUT_SIDE;
use crate::cluster::features::{Preprocess, Roi, Scaling, preprocess};
use crate::crystal::{MATERIALS, Material};
use crate::error::{LaueError, Result};
use crate::geometry::{Calibration, random_rotation};
use crate::io::{Frame, Pixels};
use crate::simulate::{
    DetectorCut, Grain, ImageModel, SimulationSettings, Spot, SpotShape, render_image, simulate_grains,
};

/// Pixels of one input (128²).
pub const INPUT_LEN: usize = INPUT_SIDE * INPUT_SIDE;

/// The rng of sample `index` of stream `seed` (independent of every other sample).
fn sample_rng(seed: u64, index: u64) -> ChaCha8Rng {
    let mut rng = ChaCha8Rng::seed_from_u64(seed ^ 0xAE0C_0DE5_0000_0000);
    rng.set_stream(index);
    rng
}

/// A random detector (see the module doc).
fn random_calibration(rng: &mut impl Rng) -> Result<Calibration> {
    const SIZES: [usize; 7] = [160, 192, 256, 320, 384, 448, 512];
    let cols = SIZES[rng.random_range(0..SIZES.len())];
    let rows = if rng.random_bool(0.7) {
        cols
    } else {
        ((cols as f64) * rng.random_range(0.85..1.15)).round().max(64.0) as usize
    };
    let width_mm = rng.random_range(120.0..180.0);
    let xgam_deg = if rng.random_bool(0.15) {
        (if rng.random_bool(0.5) { 90.0 } else { -90.0 }) + rng.random_range(-1.0..1.0)
    } else {
        rng.random_range(-2.0..2.0)
    };
    Calibration {
        distance_mm: rng.random_range(55.0..100.0),
        xcen_px: (cols as f64 + 1.0) / 2.0 + rng.random_range(-0.15..0.15) * cols as f64,
        ycen_px: (rows as f64 + 1.0) / 2.0 + rng.random_range(-0.15..0.15) * rows as f64,
        xbet_deg: rng.random_range(-1.5..1.5),
        xgam_deg,
        pixel_size_mm: width_mm / rows.max(cols) as f64,
        rows,
        cols,
    }
    .validated()
}

/// A random image model for a detector (see the module doc).
fn random_image_model(rng: &mut impl Rng, cal: &Calibration) -> ImageModel {
    let sigma = rng.random_range(0.5..1.6);
    let u: f64 = rng.random();
    let shape = if u < 0.5 {
        SpotShape::Gaussian { sigma_px: sigma }
    } else if u < 0.7 {
        SpotShape::Elliptical {
            sigma_major_px: sigma * rng.random_range(1.0..2.5),
            sigma_minor_px: sigma,
            angle_deg: rng.random_range(0.0..180.0),
        }
    } else if u < 0.9 {
        SpotShape::Streak { length_px: rng.random_range(2.0..8.0), width_px: sigma }
    } else {
        SpotShape::Doublet {
            sigma_px: sigma,
            separation_px: rng.random_range(1.0..3.0),
            ratio: rng.random_range(0.3..1.0),
            angle_deg: rng.random_range(0.0..180.0),
        }
    };
    let side = cal.rows.max(cal.cols) as f64;
    ImageModel {
        shape,
        peak_counts: 10f64.powf(rng.random_range(3.0..4.7)),
        spectrum_peak_kev: rng.random_range(8.0..14.0),
        b_factor: rng.random_range(0.0..1.0),
        intensity_log_sigma: rng.random_range(0.3..1.0),
        background: rng.random_range(10.0..300.0),
        background_hump: rng.random_range(0.0..200.0),
        hump_sigma_px: side * rng.random_range(0.15..0.35),
        offset: if rng.random_bool(0.5) { rng.random_range(0.0..100.0) } else { 0.0 },
        gain: rng.random_range(0.5..2.0),
        read_noise: rng.random_range(1.0..10.0),
        poisson: true,
        saturation: u16::MAX,
        circular_mask: rng.random_bool(0.15),
        seed: rng.random(),
        xcen_px: cal.xcen_px,
        ycen_px: cal.ycen_px,
    }
}

/// d-spacings (Å) of the spots from their own energy and 2θ (Bragg's law), for the Debye–Waller factor.
fn d_spacings(spots: &[Spot]) -> HashMap<[i32; 3], f64> {
    spots
        .iter()
        .map(|s| {
            let lambda = crate::simulate::pattern::HC_KEV_ANGSTROM / s.energy_kev;
            (s.hkl(), lambda / (2.0 * (0.5 * s.twotheta_deg).to_radians().sin()).max(1e-6))
        })
        .collect()
}

/// The synthetic detector frame of sample `index` of stream `seed` (16-bit, see the module doc), with the
/// pre-processing drawn for it.
pub fn synthetic_frame(seed: u64, index: u64) -> Result<(Frame, Preprocess)> {
    let mut rng = sample_rng(seed, index);
    let cal = random_calibration(&mut rng)?;
    let model = random_image_model(&mut rng, &cal);
    let u: f64 = rng.random();
    let n_grains = if u < 0.04 {
        0
    } else {
        let v: f64 = rng.random();
        [0.4, 0.6, 0.75, 0.87].iter().position(|&c| v < c).map_or(5, |i| i + 1)
    };
    let pick =
        |rng: &mut ChaCha8Rng| Material::from_table(MATERIALS[rng.random_range(0..MATERIALS.len())].name);
    let first = pick(&mut rng)?;
    let second = if n_grains > 1 && rng.random_bool(0.3) { Some(pick(&mut rng)?) } else { None };
    let settings = SimulationSettings {
        emin_kev: rng.random_range(4.0..6.0),
        emax_kev: rng.random_range(18.0..25.0),
        calibration: cal,
        with_multiplicity: false,
        cut: DetectorCut::Frame,
    };
    let mut pixels: Option<Vec<u16>> = None;
    for g in 0..n_grains {
        let material = match (&second, g % 2) {
            (Some(m), 1) => m.clone(),
            _ => first.clone(),
        };
        let grain = Grain { material, ub: random_rotation(&mut rng) };
        let weight = if g == 0 { 1.0 } else { rng.random_range(0.2..1.0) };
        let spots = simulate_grains(std::slice::from_ref(&grain), &settings)?;
        let d = d_spacings(&spots);
        let dsp = |h: [i32; 3]| d.get(&h).copied().unwrap_or(1.0);
        let m = ImageModel { peak_counts: model.peak_counts * weight, seed: model.seed ^ g as u64, ..model };
        match pixels.as_mut() {
            None => pixels = Some(render_image(&spots, dsp, cal.rows, cal.cols, &m)?.pixels),
            Some(px) => {
                // Only this crystal's signal with its own Poisson noise: background and read noise are in.
                let signal_only =
                    ImageModel { background: 0.0, background_hump: 0.0, offset: 0.0, read_noise: 0.0, ..m };
                let extra = render_image(&spots, dsp, cal.rows, cal.cols, &signal_only)?;
                for (p, e) in px.iter_mut().zip(&extra.pixels) {
                    *p = p.saturating_add(*e);
                }
            }
        }
    }
    let pixels = match pixels {
        Some(p) => p,
        None => render_image(&[], |_| 1.0, cal.rows, cal.cols, &model)?.pixels,
    };
    let u: f64 = rng.random();
    let pre = if u < 0.8 {
        Preprocess::default()
    } else if u < 0.9 {
        Preprocess { roi: Some(random_roi(&mut rng, cal.rows, cal.cols, 0.6)), ..Preprocess::default() }
    } else {
        Preprocess { scaling: Scaling::percentile(), ..Preprocess::default() }
    };
    let frame = Frame {
        rows: cal.rows,
        cols: cal.cols,
        pixels: Pixels::U16(pixels),
        mask: None,
        detector: None,
        pixel_size_mm: Some(cal.pixel_size_mm),
        metadata: Default::default(),
        source: format!("synthetic autoencoder sample {seed}/{index}"),
    };
    Ok((frame, pre))
}

/// The pre-processed synthetic sample `index` of stream `seed`: 128² values in [0, 1], row-major.
pub fn synthetic_input(seed: u64, index: u64) -> Result<Vec<f32>> {
    let (frame, pre) = synthetic_frame(seed, index)?;
    preprocess(&frame, &pre)
}

/// A square crop of `min_share`–100 % of the short side, anywhere on a rows × cols frame.
fn random_roi(rng: &mut impl Rng, rows: usize, cols: usize, min_share: f64) -> Roi {
    let short = rows.min(cols);
    let size = ((short as f64 * rng.random_range(min_share..=1.0)).round() as usize).clamp(1, short);
    Roi { row0: rng.random_range(0..=rows - size), col0: rng.random_range(0..=cols - size), size }
}

/// Applies transform `k` (0–7) of the square's symmetry group to a 128² image.
fn dihedral(x: &[f32], k: u8) -> Vec<f32> {
    let n = INPUT_SIDE;
    let mut out = vec![0f32; x.len()];
    for r in 0..n {
        for c in 0..n {
            let (a, b) = match k {
                0 => (r, c),
                1 => (c, n - 1 - r),
                2 => (n - 1 - r, n - 1 - c),
                3 => (n - 1 - c, r),
                4 => (r, n - 1 - c),
                5 => (n - 1 - r, c),
                6 => (c, r),
                _ => (n - 1 - c, n - 1 - r),
            };
            out[a * n + b] = x[r * n + c];
        }
    }
    out
}

/// Sample `index` of stream `seed` from a real frame: a random crop and scaling, a random turn or reflection.
pub fn real_input(frame: &Frame, seed: u64, index: u64) -> Result<Vec<f32>> {
    if frame.rows == 0 || frame.cols == 0 {
        return Err(LaueError::image(&frame.source, format!("empty frame ({}×{})", frame.rows, frame.cols)));
    }
    let mut rng = sample_rng(seed ^ 0x0EA1, index);
    let roi = random_roi(&mut rng, frame.rows, frame.cols, 0.5);
    let scaling = if rng.random_bool(0.85) { Scaling::Log } else { Scaling::percentile() };
    let x = preprocess(frame, &Preprocess { side: INPUT_SIDE, roi: Some(roi), scaling })?;
    Ok(dihedral(&x, rng.random_range(0..8u8)))
}

/// Sample `index` of stream `seed` of the training mixture: from `real` frames (chosen at random) for a
/// share `real_share` of the draws (when there are any), synthetic otherwise.
pub fn mixed_input(real: &[Frame], real_share: f64, seed: u64, index: u64) -> Result<Vec<f32>> {
    let mut rng = sample_rng(seed ^ 0x3A1C, index);
    if !real.is_empty() && rng.random_bool(real_share.clamp(0.0, 1.0)) {
        let f = &real[rng.random_range(0..real.len())];
        real_input(f, seed, index)
    } else {
        synthetic_input(seed, index)
    }
}

/// Samples `first .. first + n` of the mixture, laid end to end (`n · 128²` values); in parallel natively.
pub fn mixed_batch(real: &[Frame], real_share: f64, seed: u64, first: u64, n: usize) -> Result<Vec<f32>> {
    let idx: Vec<u64> = (first..first + n as u64).collect();
    #[cfg(not(target_arch = "wasm32"))]
    let parts: Vec<Result<Vec<f32>>> = {
        use rayon::prelude::*;
        idx.par_iter().map(|&i| mixed_input(real, real_share, seed, i)).collect()
    };
    #[cfg(target_arch = "wasm32")]
    let parts: Vec<Result<Vec<f32>>> = idx.iter().map(|&i| mixed_input(real, real_share, seed, i)).collect();
    let mut out = Vec::with_capacity(n * INPUT_LEN);
    for p in parts {
        out.extend(p?);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn samples_are_deterministic_inputs_in_the_unit_range() {
        for i in 0..6 {
            let a = synthetic_input(3, i).unwrap_or_else(|e| panic!("{e}"));
            let b = synthetic_input(3, i).unwrap_or_else(|e| panic!("{e}"));
            assert_eq!(a.len(), INPUT_LEN);
            assert_eq!(a, b);
            assert!(a.iter().all(|v| (0.0..=1.0).contains(v)));
        }
        assert_ne!(synthetic_input(3, 0).ok(), synthetic_input(3, 1).ok());
    }

    #[test]
    fn dihedral_transforms_are_permutations() {
        let x: Vec<f32> = (0..INPUT_LEN).map(|i| i as f32).collect();
        for k in 0..8 {
            let mut y = dihedral(&x, k);
            y.sort_by(f32::total_cmp);
            assert_eq!(y, x);
        }
        assert_eq!(dihedral(&dihedral(&x, 1), 3), x);
    }
}
