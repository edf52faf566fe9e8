//! A trained hkl predictor and what it says about experimental spots.
//!
//! [`HklModel::predict`] turns unit scattering vectors q̂ (one per spot, e.g. [`ExperimentalSpot::q_unit`])
//! into one [`SpotPrediction`] per spot: the most probable class, its material and hkl family, and the
//! probability. [`hkl_guesses`] hands the confident ones of one material to the orientation step
//! ([`crate::index::orientations_from_hkl_guesses`]).
//!
//! A model is stored as two byte blobs (no file access here, so it works in wasm): the network's weights in
//! burn's burnpack format ([`HklModel::weights_bytes`]) and a small JSON of everything else
//! ([`ModelMeta`]: class table, materials, histogram settings, layer sizes, training history).

use burn::module::Module;
use burn::store::{BurnpackStore, FloatCastAdapter, HalfPrecisionAdapter, ModuleSnapshot};
use burn::tensor::{Bytes, DType, Device, Tensor, TensorData};
use nalgebra::Vector3;
use serde::{Deserialize, Serialize};

use super::classes::ClassTable;
use super::features::{FeatureSettings, angular_histograms};
use super::model::{HklNet, NetConfig};
use crate::crystal::Material;
use crate::error::{LaueError, Result};
use crate::index::{ExperimentalSpot, HklGuess};

/// Per-epoch figures of a training run.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct EpochReport {
    /// 1-based
    pub epoch: usize,
    pub epochs: usize,
    /// class-weighted cross-entropy, mean over the epoch's batches (dropout on)
    #[serde(deserialize_with = "nan_if_null")]
    pub train_loss: f64,
    /// share of training spots whose argmax was right, during the epoch (dropout on)
    #[serde(deserialize_with = "nan_if_null")]
    pub train_accuracy: f64,
    /// unweighted cross-entropy on the validation spots (NaN without validation spots)
    #[serde(deserialize_with = "nan_if_null")]
    pub val_loss: f64,
    /// share of validation spots predicted right
    #[serde(deserialize_with = "nan_if_null")]
    pub val_accuracy: f64,
    /// since training started (s)
    #[serde(deserialize_with = "nan_if_null")]
    pub seconds: f64,
}

/// A number written by serde_json, which writes NaN as `null`: read back as NaN.
fn nan_if_null<'de, D: serde::Deserializer<'de>>(d: D) -> std::result::Result<f64, D::Error> {
    Ok(Option::<f64>::deserialize(d)?.unwrap_or(f64::NAN))
}

/// Everything about a model except its weights (the JSON side of a saved model).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModelMeta {
    /// format version of this JSON
    pub version: u32,
    pub classes: ClassTable,
    /// the materials of the classes (lattice, rule, Laue group), in class-table order
    pub materials: Vec<Material>,
    pub features: FeatureSettings,
    pub net: NetConfig,
    /// energy band of the training data (keV)
    pub emin_kev: f64,
    pub emax_kev: f64,
    /// how the training data were made and the run went (informative)
    pub training: serde_json::Value,
    pub history: Vec<EpochReport>,
}

/// A trained network with its class table.
#[derive(Debug)]
pub struct HklModel {
    /// the network on an inference (non-autodiff) device
    pub net: HklNet,
    pub meta: ModelMeta,
}

/// What the network says about one spot.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SpotPrediction {
    /// index of the spot in the input list
    pub spot: usize,
    /// class id in the model's class table
    pub class: usize,
    /// index into the model's materials
    pub material: usize,
    pub material_name: String,
    /// representative hkl of the predicted family
    pub hkl: [i32; 3],
    /// softmax probability of the class
    pub confidence: f64,
}

impl HklModel {
    /// Histograms of the spots (the network's input), row-major `q.len() × n_bins`.
    pub fn features(&self, q: &[Vector3<f64>]) -> Vec<f32> {
        angular_histograms(q, &self.meta.features)
    }

    /// Class probabilities of each spot, row-major `q.len() × n_classes` (synchronous read-back: CPU devices;
    /// on WebGPU use [`Self::probabilities_async`]).
    pub fn probabilities(&self, q: &[Vector3<f64>]) -> Result<Vec<f32>> {
        let Some(t) = self.probability_tensor(q) else { return Ok(Vec::new()) };
        Ok(t.into_data().iter::<f32>().collect())
    }

    /// As [`Self::probabilities`], read back asynchronously (any device, the browser's WebGPU included).
    pub async fn probabilities_async(&self, q: &[Vector3<f64>]) -> Result<Vec<f32>> {
        let Some(t) = self.probability_tensor(q) else { return Ok(Vec::new()) };
        let data = t.into_data_async().await.map_err(|e| {
            LaueError::Device(format!(
                "reading the class probabilities back: {}",
                crate::device::one_line(&e.to_string())
            ))
        })?;
        Ok(data.iter::<f32>().collect())
    }

    fn probability_tensor(&self, q: &[Vector3<f64>]) -> Option<Tensor<2>> {
        if q.is_empty() {
            return None;
        }
        let x = self.features(q);
        let device = self.device();
        let x = Tensor::<2>::from_data(TensorData::new(x, [q.len(), self.meta.net.n_in]), &device);
        Some(self.net.probabilities(x))
    }

    /// The device the weights live on.
    pub fn device(&self) -> Device {
        self.net.devices().into_iter().next().unwrap_or_else(Device::flex)
    }

    /// Per spot: the most probable class, its material, hkl family and probability.
    pub fn predict(&self, q: &[Vector3<f64>]) -> Result<Vec<SpotPrediction>> {
        let p = self.probabilities(q)?;
        Ok(self.decode(&p, q.len()))
    }

    /// As [`Self::predict`], asynchronous (WebGPU).
    pub async fn predict_async(&self, q: &[Vector3<f64>]) -> Result<Vec<SpotPrediction>> {
        let p = self.probabilities_async(q).await?;
        Ok(self.decode(&p, q.len()))
    }

    /// Predictions for experimental spots.
    pub fn predict_spots(&self, spots: &[ExperimentalSpot]) -> Result<Vec<SpotPrediction>> {
        let q: Vec<Vector3<f64>> = spots.iter().map(|s| s.q_unit).collect();
        self.predict(&q)
    }

    fn decode(&self, p: &[f32], n: usize) -> Vec<SpotPrediction> {
        let nc = self.meta.classes.len();
        (0..n)
            .map(|i| {
                let row = &p[i * nc..(i + 1) * nc];
                let (class, &conf) =
                    row.iter().enumerate().max_by(|a, b| a.1.total_cmp(b.1)).unwrap_or((0, &0.0));
                let c = &self.meta.classes.classes[class];
                SpotPrediction {
                    spot: i,
                    class,
                    material: c.material,
                    material_name: self.meta.classes.materials[c.material].clone(),
                    hkl: c.hkl,
                    confidence: conf as f64,
                }
            })
            .collect()
    }

    /// The weights in burnpack format, f32 (`half = false`) or f16 (`half = true`: half the size, for the
    /// models shipped to the page; the predictions change by ~1e-3 in probability, see the tests).
    pub fn weights_bytes(&self, half: bool) -> Result<Vec<u8>> {
        let err = |e: String| {
            LaueError::model("LaueNN model (saving)", format!("could not serialise the weights: {e}"))
        };
        let mut store = BurnpackStore::from_bytes(None);
        if half {
            store = store.with_to_adapter(HalfPrecisionAdapter::new());
        }
        self.net.save_into(&mut store).map_err(|e| err(e.to_string()))?;
        let bytes = store.get_bytes().map_err(|e| err(e.to_string()))?;
        Ok(bytes.to_vec())
    }

    /// The JSON side of the model.
    pub fn meta_json(&self) -> Result<String> {
        serde_json::to_string_pretty(&self.meta).map_err(|e| {
            LaueError::model("LaueNN model (saving)", format!("could not serialise the description: {e}"))
        })
    }

    /// A model from its two blobs, with its weights on `device`.
    pub fn from_bytes(weights: &[u8], meta_json: &str, device: &Device) -> Result<Self> {
        Self::from_named_bytes(weights, "model weights", meta_json, "model description", device)
    }

    /// A model from the contents of its two files (`weights_file`, `meta_file` name them in errors), with
    /// its weights on `device`. The description is checked ([`ModelMeta::from_json`]) before any weight
    /// is made; then every tensor of the network must be in the weights, with its shape and finite values.
    pub fn from_named_bytes(
        weights: &[u8],
        weights_file: &str,
        meta_json: &str,
        meta_file: &str,
        device: &Device,
    ) -> Result<Self> {
        let meta = ModelMeta::from_json(meta_json, meta_file)?;
        let mut net = meta.net.init(device);
        crate::device::check_weights(weights, weights_file, &net.collect(None, None, false))?;
        // The adapter turns f16 weights back into f32 and leaves f32 ones as they are.
        let mut store = BurnpackStore::from_bytes(Some(Bytes::from_bytes_vec(weights.to_vec())))
            .with_from_adapter(FloatCastAdapter::to(DType::F32));
        let applied = net.load_from(&mut store).map_err(|e| {
            LaueError::model(
                weights_file,
                format!("unreadable weights ({})", crate::device::one_line(&e.to_string())),
            )
        })?;
        if let Some(e) = applied.errors.first() {
            return Err(LaueError::model(
                weights_file,
                format!(
                    "the weights do not fit the network of {meta_file} ({} tensors refused, first: {})",
                    applied.errors.len(),
                    crate::device::apply_error(e)
                ),
            ));
        }
        if let Some((path, _)) = applied.missing.first() {
            return Err(LaueError::model(
                weights_file,
                format!(
                    "the weights lack {} tensors of the network (first: '{path}')",
                    applied.missing.len()
                ),
            ));
        }
        Ok(HklModel { net, meta })
    }
}

impl ModelMeta {
    /// The description of a model from its JSON (`file` names it in errors), checked so that a model
    /// cannot make lauekit panic or allocate without bound: format version, materials (valid lattices,
    /// Laue groups), class table (material indices in range, hkl bounded), histogram settings, layer sizes
    /// matching the bins and classes, energy band, and the detector of the training data when recorded.
    pub fn from_json(json: &str, file: &str) -> Result<Self> {
        let bad = |m: String| LaueError::model(file, m);
        let mut meta: ModelMeta = serde_json::from_str(crate::io::text::strip_bom(json))
            .map_err(|e| bad(format!("not a LaueNN model description: {e}")))?;
        if meta.version != 1 {
            return Err(bad(format!("format version {} (this build reads 1)", meta.version)));
        }
        if meta.materials.is_empty() {
            return Err(bad("no material".into()));
        }
        for (i, m) in meta.materials.iter_mut().enumerate() {
            if m.name.trim().is_empty() {
                return Err(bad(format!("material {i} has no name")));
            }
            // Lattice checked, Laue-group operators and the rule rebuilt (a space group's conditions are
            // applied over its equivalents again; a custom material's rule is parsed from its text).
            m.restore().map_err(|e| bad(format!("material {i} '{}': {e}", m.name)))?;
        }
        let mats = meta.materials.clone();
        meta.classes.attach(&mats).map_err(|e| bad(e.reason()))?;
        if meta.classes.is_empty() {
            return Err(bad("the class table has no class".into()));
        }
        meta.features.validated().map_err(|e| bad(e.reason()))?;
        meta.net.validate().map_err(|e| bad(e.reason()))?;
        if meta.net.n_in != meta.features.n_bins() {
            return Err(bad(format!(
                "net.n_in = {} but the histogram (radius_deg {}°, bin_deg {}°) has {} bins",
                meta.net.n_in,
                meta.features.radius_deg,
                meta.features.bin_deg,
                meta.features.n_bins()
            )));
        }
        if meta.net.n_out != meta.classes.len() {
            return Err(bad(format!(
                "net.n_out = {} but the class table has {} classes",
                meta.net.n_out,
                meta.classes.len()
            )));
        }
        let (a, b) = (meta.emin_kev, meta.emax_kev);
        if !(a.is_finite() && b.is_finite() && a > 0.0 && b > a && b <= 500.0) {
            return Err(bad(format!(
                "energy band emin_kev–emax_kev = {a}–{b} keV: need 0 < emin < emax ≤ 500"
            )));
        }
        // The detector of the training data (informative, but a model trained on a broken geometry is too).
        if let Some(c) = meta.training.get("dataset").and_then(|d| d.get("calibration")) {
            let Some(obj) = c.as_object() else {
                return Err(bad(format!("training.dataset.calibration = {c}: need an object")));
            };
            for key in ["distance_mm", "xcen_px", "ycen_px", "xbet_deg", "xgam_deg", "pixel_size_mm"] {
                let Some(v) = obj.get(key) else { continue };
                let positive = matches!(key, "distance_mm" | "pixel_size_mm");
                let ok = v.as_f64().is_some_and(|x| x.is_finite() && (!positive || x > 0.0));
                if !ok {
                    let need = if positive { "a finite number > 0" } else { "a finite number" };
                    return Err(bad(format!("training.dataset.calibration.{key} = {v}: need {need}")));
                }
            }
        }
        Ok(meta)
    }
}

/// The predictions of material `material` with at least `min_confidence`, as guesses for
/// [`crate::index::orientations_from_hkl_guesses`] (spots that are `available` only, if given).
pub fn hkl_guesses(
    predictions: &[SpotPrediction],
    material: usize,
    min_confidence: f64,
    available: Option<&[bool]>,
) -> Vec<HklGuess> {
    predictions
        .iter()
        .filter(|p| p.material == material && p.confidence >= min_confidence)
        .filter(|p| available.is_none_or(|a| a.get(p.spot).copied().unwrap_or(false)))
        .map(|p| HklGuess { spot: p.spot, hkl: p.hkl, confidence: p.confidence })
        .collect()
}

/// Per-spot accuracy on fresh simulated images of `n_grains` grains (orientations drawn anew, so none is a
/// training one): the figures of LaueNN's Table 2.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct GrainCountAccuracy {
    pub n_grains: usize,
    pub n_images: usize,
    /// spots on the images (after the realism cuts)
    pub n_spots: usize,
    /// spots whose family is one of the model's classes
    pub n_labelled: usize,
    /// labelled spots predicted right
    pub n_right: usize,
}

impl GrainCountAccuracy {
    /// share of the labelled spots predicted right
    pub fn accuracy(&self) -> f64 {
        if self.n_labelled == 0 { f64::NAN } else { self.n_right as f64 / self.n_labelled as f64 }
    }
}

/// Simulates `n_images` images for each grain count in `grain_counts` (grains of the model's materials drawn
/// at random, realism as in training) and measures the model's per-spot accuracy.
pub fn accuracy_by_grain_count(
    model: &HklModel,
    calibration: &crate::geometry::Calibration,
    realism: &super::dataset::Realism,
    grain_counts: &[usize],
    n_images: usize,
    seed: u64,
) -> Result<Vec<GrainCountAccuracy>> {
    use rand::{Rng, SeedableRng};
    let sim = crate::simulate::SimulationSettings {
        emin_kev: model.meta.emin_kev,
        emax_kev: model.meta.emax_kev,
        calibration: *calibration,
        with_multiplicity: false,
        cut: crate::simulate::DetectorCut::Frame,
    };
    let mats = &model.meta.materials;
    let mut out = Vec::new();
    for &k in grain_counts {
        let mut acc = GrainCountAccuracy { n_grains: k, n_images, n_spots: 0, n_labelled: 0, n_right: 0 };
        for i in 0..n_images {
            let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed ^ ((k as u64) << 32) ^ i as u64);
            let grains: Vec<(usize, nalgebra::Matrix3<f64>)> = (0..k)
                .map(|_| {
                    (rng.random_range(0..mats.len()), crate::geometry::orientation::random_rotation(&mut rng))
                })
                .collect();
            let spots = super::dataset::simulate_image(mats, &grains, &sim, realism, &mut rng)?;
            let q: Vec<Vector3<f64>> = spots.iter().map(|s| s.q_unit).collect();
            let pred = model.predict(&q)?;
            acc.n_spots += spots.len();
            for (s, p) in spots.iter().zip(&pred) {
                if let Some(c) = model.meta.classes.class_of(s.material, s.hkl) {
                    acc.n_labelled += 1;
                    acc.n_right += usize::from(c == p.class);
                }
            }
        }
        out.push(acc);
    }
    Ok(out)
}
