//! Training data for the hkl predictor, from the simulator only (as LaueNN).
//!
//! Orientations are drawn uniformly from SO(3) for each material; a share of them (20 % by default) is kept
//! apart for validation, so validation images contain no training orientation. Each image superimposes
//! 1…`max_grains` grains (of any of the materials) in a real detector geometry, with LaueNN's realism:
//! spot positions jittered (σ 0.5 px), only spots inside the band (the simulator never returns spots above
//! its top energy) and on the frame, and the weakest 30 % of the spots dropped. Harmonics land on the pixel of
//! their fundamental, so one spot = one fundamental reflection.
//!
//! **Intensity model** (only used to pick the weakest spots): the one of the synthetic images
//! (`simulate::image`): I = S(E) · exp(−B / (4d²)) · LogNormal(0, 0.6), with the spectrum
//! S(E) = x² e^{2(1−x)}, x = E / 10 keV, and B = 0.5 Å².
//!
//! Every image has its own RNG seeded from (seed, image number), so the data do not depend on the number of
//! threads; natively the images are made in parallel with rayon, in wasm one after the other.

use nalgebra::{Matrix3, Vector3};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, LogNormal, Normal};
use serde::{Deserialize, Serialize};

use super::classes::ClassTable;
use super::features::{FeatureSettings, angular_histograms};
use crate::crystal::Material;
use crate::error::{LaueError, Result, Stage};
use crate::geometry::Calibration;
use crate::geometry::orientation::random_rotation;
use crate::simulate::{DetectorCut, Grain, SimulationSettings, Spot, pattern::simulate_into};

/// How simulated images are made realistic.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Realism {
    /// σ of the Gaussian jitter of spot positions (px); LaueNN: 0.5
    pub jitter_px: f64,
    /// share of the weakest spots removed from each image; LaueNN: 0.3
    pub drop_weakest: f64,
    /// σ of the log-normal intensity spread
    pub intensity_log_sigma: f64,
}

impl Default for Realism {
    fn default() -> Self {
        Realism { jitter_px: 0.5, drop_weakest: 0.3, intensity_log_sigma: 0.6 }
    }
}

/// What training data to make.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DatasetSettings {
    pub calibration: Calibration,
    /// energy band (keV)
    pub emin_kev: f64,
    pub emax_kev: f64,
    /// orientations drawn per material (LaueNN: ≈500 for cubic, more for lower symmetry)
    pub n_orientations: usize,
    /// images hold 1..=max_grains grains
    pub max_grains: usize,
    /// images per grain count; None: as many as there are orientations in the pool (training or validation)
    pub images_per_grain_count: Option<usize>,
    /// share of the orientations kept apart for validation
    pub validation_fraction: f64,
    pub realism: Realism,
    pub features: FeatureSettings,
    /// classes with fewer training spots than this are dropped (LaueNN drops rare classes)
    pub min_class_samples: usize,
    pub seed: u64,
}

impl DatasetSettings {
    /// LaueNN's defaults (500 orientations, 1–5 grains, 20 % validation) for a detector and band.
    pub fn new(calibration: Calibration, emin_kev: f64, emax_kev: f64) -> Self {
        DatasetSettings {
            calibration,
            emin_kev,
            emax_kev,
            n_orientations: 500,
            max_grains: 5,
            images_per_grain_count: None,
            validation_fraction: 0.2,
            realism: Realism::default(),
            features: FeatureSettings::default(),
            min_class_samples: 20,
            seed: 0,
        }
    }

    /// Checks the sizes and the band before anything is simulated.
    pub fn validated(&self) -> Result<()> {
        let bad = |m: String| Err(LaueError::settings(Stage::Training, m));
        let (a, b) = (self.emin_kev, self.emax_kev);
        if !(a.is_finite() && b.is_finite() && a > 0.0 && b > a && b <= 500.0) {
            return bad(format!("energy band {a}–{b} keV: need finite 0 < Emin < Emax ≤ 500 keV"));
        }
        if self.max_grains == 0 {
            return bad("grains per image (--grains) = 0: need at least 1".into());
        }
        crate::limits::GRAINS.check("grains per training image (--grains)", self.max_grains as u64)?;
        crate::limits::ORIENTATIONS.check("orientations (--orientations)", self.n_orientations as u64)?;
        if let Some(n) = self.images_per_grain_count {
            crate::limits::ORIENTATIONS.check("images per grain count (--images-per-count)", n as u64)?;
        }
        Ok(())
    }

    fn simulation(&self) -> SimulationSettings {
        SimulationSettings {
            emin_kev: self.emin_kev,
            emax_kev: self.emax_kev,
            calibration: self.calibration,
            with_multiplicity: false,
            cut: DetectorCut::Frame,
        }
    }
}

/// Labelled spots: feature rows and their class ids.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Dataset {
    pub n_bins: usize,
    /// row-major `len() × n_bins`
    pub features: Vec<f32>,
    pub labels: Vec<u32>,
    /// the image each spot came from
    pub image: Vec<u32>,
    pub n_images: usize,
}

impl Dataset {
    pub fn len(&self) -> usize {
        self.labels.len()
    }

    pub fn is_empty(&self) -> bool {
        self.labels.is_empty()
    }

    pub fn row(&self, i: usize) -> &[f32] {
        &self.features[i * self.n_bins..(i + 1) * self.n_bins]
    }
}

/// Training and validation sets with their classes.
#[derive(Debug, Clone)]
pub struct TrainingData {
    pub classes: ClassTable,
    pub train: Dataset,
    pub validation: Dataset,
    /// spots on the simulated images (after the realism cuts), and how many of them have a class
    pub n_spots: usize,
    pub n_labelled: usize,
    /// classes dropped as too rare
    pub n_dropped_classes: usize,
    /// the histograms' settings and the band of the simulations
    pub features: FeatureSettings,
    pub emin_kev: f64,
    pub emax_kev: f64,
}

/// One spot of a simulated image, with its truth.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SimSpot {
    /// jittered pixel position (px)
    pub x_px: f64,
    pub y_px: f64,
    /// q̂ of the jittered position
    pub q_unit: Vector3<f64>,
    pub intensity: f64,
    /// index into the material list of the grains
    pub material: usize,
    pub grain: usize,
    /// simulated hkl (fundamental)
    pub hkl: [i32; 3],
    pub energy_kev: f64,
}

/// A realistic simulated image of `grains` = (material index, UB): spots in decreasing intensity.
pub fn simulate_image<R: Rng + ?Sized>(
    materials: &[Material],
    grains: &[(usize, Matrix3<f64>)],
    sim: &SimulationSettings,
    realism: &Realism,
    rng: &mut R,
) -> Result<Vec<SimSpot>> {
    let jitter = Normal::new(0.0, realism.jitter_px.max(0.0)).map_err(|e| {
        LaueError::settings(Stage::Training, format!("jitter_px = {}: {e}", realism.jitter_px))
    })?;
    let spread = LogNormal::new(0.0, realism.intensity_log_sigma.max(1e-9)).map_err(|e| {
        LaueError::settings(
            Stage::Training,
            format!("intensity_log_sigma = {}: {e}", realism.intensity_log_sigma),
        )
    })?;
    let cal = &sim.calibration;
    let mut spots: Vec<Spot> = Vec::new();
    let mut out = Vec::new();
    for (g, &(mi, ub)) in grains.iter().enumerate() {
        let mat = materials
            .get(mi)
            .ok_or_else(|| LaueError::settings(Stage::Training, format!("grain {g}: no material {mi}")))?;
        spots.clear();
        let grain = Grain { material: mat.clone(), ub };
        simulate_into(&grain, sim, &mut spots)?;
        // deterministic order (simulate_into's loop order is fixed, but be explicit)
        spots.sort_by(|a, b| a.energy_kev.total_cmp(&b.energy_kev).then(a.hkl().cmp(&b.hkl())));
        for s in spots.iter().filter(|s| s.harmonic_order == 1) {
            let x = s.x_px + jitter.sample(rng);
            let y = s.y_px + jitter.sample(rng);
            let e = s.energy_kev / 10.0;
            let spectrum = e * e * (2.0 * (1.0 - e)).exp();
            let d = mat.lattice.d_spacing(s.hkl());
            let dw = (-0.5 / (4.0 * d * d)).exp();
            out.push(SimSpot {
                x_px: x,
                y_px: y,
                q_unit: cal.pixel_to_q_unit(x, y),
                intensity: spectrum * dw * spread.sample(rng),
                material: mi,
                grain: g,
                hkl: s.hkl(),
                energy_kev: s.energy_kev,
            });
        }
    }
    out.sort_by(|a, b| b.intensity.total_cmp(&a.intensity));
    let keep = out.len() - (out.len() as f64 * realism.drop_weakest.clamp(0.0, 1.0)).floor() as usize;
    out.truncate(keep);
    Ok(out)
}

/// The grains of every image: for each grain count k in 1..=max_grains, `per_count` images whose first grain
/// runs through the pool (every orientation used) and whose other grains are drawn at random.
fn image_plans(
    pools: &[Vec<Matrix3<f64>>],
    max_grains: usize,
    per_count: usize,
    rng: &mut ChaCha8Rng,
) -> Vec<Vec<(usize, Matrix3<f64>)>> {
    let all: Vec<(usize, usize)> =
        pools.iter().enumerate().flat_map(|(m, p)| (0..p.len()).map(move |i| (m, i))).collect();
    let mut plans = Vec::new();
    if all.is_empty() {
        return plans;
    }
    for k in 1..=max_grains {
        for i in 0..per_count {
            let mut g = Vec::with_capacity(k);
            let (m, o) = all[i % all.len()];
            g.push((m, pools[m][o]));
            for _ in 1..k {
                let (m, o) = all[rng.random_range(0..all.len())];
                g.push((m, pools[m][o]));
            }
            plans.push(g);
        }
    }
    plans
}

/// Feature rows of an image's labelled spots, their labels, and the image's number of spots.
type ImageRows = (Vec<f32>, Vec<u32>, usize);

fn image_rows(
    materials: &[Material],
    classes: &ClassTable,
    plan: &[(usize, Matrix3<f64>)],
    settings: &DatasetSettings,
    sim: &SimulationSettings,
    seed: u64,
) -> Result<ImageRows> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let spots = simulate_image(materials, plan, sim, &settings.realism, &mut rng)?;
    let q: Vec<Vector3<f64>> = spots.iter().map(|s| s.q_unit).collect();
    let h = angular_histograms(&q, &settings.features);
    let nb = settings.features.n_bins();
    let mut rows = Vec::new();
    let mut labels = Vec::new();
    for (i, s) in spots.iter().enumerate() {
        if let Some(c) = classes.class_of(s.material, s.hkl) {
            rows.extend_from_slice(&h[i * nb..(i + 1) * nb]);
            labels.push(c as u32);
        }
    }
    Ok((rows, labels, spots.len()))
}

fn build(
    materials: &[Material],
    classes: &ClassTable,
    plans: &[Vec<(usize, Matrix3<f64>)>],
    settings: &DatasetSettings,
    seed_base: u64,
) -> Result<(Dataset, usize)> {
    let sim = settings.simulation();
    let job = |(i, plan): (usize, &Vec<(usize, Matrix3<f64>)>)| {
        let seed = settings.seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ (seed_base + i as u64);
        image_rows(materials, classes, plan, settings, &sim, seed)
    };
    #[cfg(not(target_arch = "wasm32"))]
    let results: Vec<Result<ImageRows>> = {
        use rayon::prelude::*;
        plans.par_iter().enumerate().map(job).collect()
    };
    #[cfg(target_arch = "wasm32")]
    let results: Vec<Result<ImageRows>> = plans.iter().enumerate().map(job).collect();
    let mut d = Dataset { n_bins: settings.features.n_bins(), n_images: plans.len(), ..Default::default() };
    let mut n_spots = 0;
    for (img, r) in results.into_iter().enumerate() {
        let (rows, labels, n) = r?;
        n_spots += n;
        d.features.extend_from_slice(&rows);
        d.image.extend(std::iter::repeat_n(img as u32, labels.len()));
        d.labels.extend(labels);
    }
    Ok((d, n_spots))
}

/// Simulated training and validation data for `materials` with class families up to `max_index`.
pub fn generate(
    materials: &[Material],
    max_index: &[i32],
    settings: &DatasetSettings,
) -> Result<TrainingData> {
    settings.features.validated()?;
    settings.validated()?;
    if settings.n_orientations < 2 || settings.max_grains == 0 {
        return Err(LaueError::settings(
            Stage::Training,
            format!(
                "orientations = {}, grains = {}: training data need ≥ 2 orientations and ≥ 1 grain",
                settings.n_orientations, settings.max_grains
            ),
        ));
    }
    if !(0.0..1.0).contains(&settings.validation_fraction) {
        return Err(LaueError::settings(
            Stage::Training,
            format!("validation_fraction = {}: need a share in [0, 1)", settings.validation_fraction),
        ));
    }
    let mut classes = ClassTable::new(materials, max_index)?;
    let mut rng = ChaCha8Rng::seed_from_u64(settings.seed);
    let n_val = ((settings.n_orientations as f64 * settings.validation_fraction).round() as usize)
        .clamp(usize::from(settings.validation_fraction > 0.0), settings.n_orientations - 1);
    let mut train_pools = Vec::new();
    let mut val_pools = Vec::new();
    for _ in materials {
        let all: Vec<Matrix3<f64>> =
            (0..settings.n_orientations).map(|_| random_rotation(&mut rng)).collect();
        val_pools.push(all[..n_val].to_vec());
        train_pools.push(all[n_val..].to_vec());
    }
    let per_train = settings.images_per_grain_count.unwrap_or(train_pools.iter().map(Vec::len).sum());
    let per_val = settings
        .images_per_grain_count
        .map(|n| {
            ((n as f64 * settings.validation_fraction / (1.0 - settings.validation_fraction)).ceil() as usize)
                .max(1)
        })
        .unwrap_or(val_pools.iter().map(Vec::len).sum());
    let train_plans = image_plans(&train_pools, settings.max_grains, per_train, &mut rng);
    let val_plans = image_plans(&val_pools, settings.max_grains, per_val, &mut rng);
    let (mut train, s1) = build(materials, &classes, &train_plans, settings, 0)?;
    let (mut validation, s2) = build(materials, &classes, &val_plans, settings, 1 << 40)?;
    let n_labelled = train.len() + validation.len();

    // Drop the rare classes and relabel.
    let mut counts = vec![0usize; classes.len()];
    for &l in &train.labels {
        counts[l as usize] += 1;
    }
    let keep: Vec<bool> = counts.iter().map(|&c| c >= settings.min_class_samples.max(1)).collect();
    let n_dropped = keep.iter().filter(|k| !**k).count();
    if n_dropped > 0 {
        let map = classes.retain(&keep);
        relabel(&mut train, &map);
        relabel(&mut validation, &map);
    }
    if classes.is_empty() || train.is_empty() {
        return Err(LaueError::settings(
            Stage::Training,
            "no training spot has a class: more orientations, a wider band or a larger hkl limit",
        ));
    }
    Ok(TrainingData {
        classes,
        train,
        validation,
        n_spots: s1 + s2,
        n_labelled,
        n_dropped_classes: n_dropped,
        features: settings.features,
        emin_kev: settings.emin_kev,
        emax_kev: settings.emax_kev,
    })
}

fn relabel(d: &mut Dataset, map: &[Option<usize>]) {
    let nb = d.n_bins;
    let mut w = 0;
    for r in 0..d.labels.len() {
        if let Some(new) = map[d.labels[r] as usize] {
            if w != r {
                d.features.copy_within(r * nb..(r + 1) * nb, w * nb);
            }
            d.labels[w] = new as u32;
            d.image[w] = d.image[r];
            w += 1;
        }
    }
    d.labels.truncate(w);
    d.image.truncate(w);
    d.features.truncate(w * nb);
}

#[cfg(test)]
mod tests {
    use super::*;

    /// calibGe111.det of ../shared/data/real/Ge_blanc
    pub(crate) fn ge_blanc_calibration() -> Calibration {
        Calibration {
            distance_mm: 70.775,
            xcen_px: 941.74,
            ycen_px: 1082.56,
            xbet_deg: 0.63,
            xgam_deg: -0.682,
            pixel_size_mm: 0.079142,
            rows: 2048,
            cols: 2048,
        }
    }

    #[test]
    fn small_dataset_is_deterministic_and_split() {
        let cu = Material::from_table("Cu").unwrap();
        let mut s = DatasetSettings::new(ge_blanc_calibration(), 5.0, 22.0);
        s.n_orientations = 10;
        s.max_grains = 2;
        s.min_class_samples = 1;
        s.seed = 3;
        let a = generate(std::slice::from_ref(&cu), &[5], &s).unwrap();
        let b = generate(std::slice::from_ref(&cu), &[5], &s).unwrap();
        assert_eq!(a.train, b.train);
        assert_eq!(a.validation, b.validation);
        // 8 training orientations × 2 grain counts, 2 validation orientations × 2
        assert_eq!(a.train.n_images, 16);
        assert_eq!(a.validation.n_images, 4);
        assert!(a.train.len() > 16 * 20, "{} training spots", a.train.len());
        assert_eq!(a.train.features.len(), a.train.len() * 200);
        assert!(a.train.labels.iter().all(|&l| (l as usize) < a.classes.len()));
        assert!(a.n_labelled <= a.n_spots);
    }
}
