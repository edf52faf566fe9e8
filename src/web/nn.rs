//! LaueNN in the page: load a ready hkl model (or train one), index a peak list with it.
//!
//! Models live on burn's CPU device (flex): the network is small (≈1 M parameters, a forward pass over an
//! image's spots takes about a millisecond), and training reads the loss back after every mini-batch, which
//! only the CPU device can do synchronously in wasm.

use serde::{Deserialize, Serialize};
use wasm_bindgen::prelude::*;

use super::{err, experimental_spots, from_js, index_options, index_output, to_js};
use crate::crystal::Material;
use crate::geometry::Calibration;
use crate::index::nn::{
    BatchReport, DatasetSettings, EpochReport, FeatureSettings, HklModel, TrainSettings, generate,
    train_with_batches,
};
use crate::index::{Experiment, index_with_model};

/// A trained hkl predictor kept on the wasm side (weights on the CPU device).
#[wasm_bindgen]
pub struct HklModelHandle {
    model: HklModel,
    name: String,
}

#[derive(Serialize)]
struct ModelInfo<'a> {
    name: &'a str,
    materials: Vec<&'a str>,
    n_classes: usize,
    /// class labels, e.g. "Cu 111"
    classes: Vec<String>,
    n_inputs: usize,
    hidden: [usize; 3],
    n_params: usize,
    /// angular histogram radius and bin (deg)
    radius_deg: f64,
    bin_deg: f64,
    emin_kev: f64,
    emax_kev: f64,
    /// best per-spot validation accuracy over the epochs (0–1)
    val_accuracy: f64,
    history: &'a [EpochReport],
}

#[wasm_bindgen]
impl HklModelHandle {
    /// A model from its burnpack weights (f32 or f16) and JSON description (`lauekit train-index` writes
    /// both; the page ships some in `www/models/`). `name` labels it in the page.
    #[wasm_bindgen(constructor)]
    pub fn new(weights: &[u8], meta_json: &str, name: &str) -> Result<HklModelHandle, JsError> {
        let device = crate::device::cpu();
        let model = HklModel::from_bytes(weights, meta_json, &device.device)
            .map_err(|e| JsError::new(&format!("model {name}: {e}")))?;
        Ok(HklModelHandle { model, name: name.to_string() })
    }

    /// `{name, materials, n_classes, classes, n_inputs, hidden, n_params, radius_deg, bin_deg, emin_kev,
    /// emax_kev, val_accuracy, history}`.
    pub fn info(&self) -> Result<JsValue, JsError> {
        let m = &self.model.meta;
        to_js(&ModelInfo {
            name: &self.name,
            materials: m.materials.iter().map(|x| x.name.as_str()).collect(),
            n_classes: m.classes.len(),
            classes: (0..m.classes.len()).map(|i| m.classes.label(i)).collect(),
            n_inputs: m.net.n_in,
            hidden: m.net.hidden,
            n_params: m.net.n_params(),
            radius_deg: m.features.radius_deg,
            bin_deg: m.features.bin_deg,
            emin_kev: m.emin_kev,
            emax_kev: m.emax_kev,
            val_accuracy: m.history.iter().map(|h| h.val_accuracy).fold(f64::NAN, f64::max),
            history: &m.history,
        })
    }

    /// The weights as burnpack bytes (`half`: f16).
    pub fn weights_bytes(&self, half: bool) -> Result<Vec<u8>, JsError> {
        self.model.weights_bytes(half).map_err(err)
    }

    /// The JSON description (classes, materials, settings, training history).
    pub fn meta_json(&self) -> Result<String, JsError> {
        self.model.meta_json().map_err(err)
    }
}

/// Indexes a peak list with a LaueNN model: the network predicts each spot's hkl family, confident pairs give
/// orientations, which are matched and refined as in `index_peaks` (whose table method is the fallback when
/// the network gives no grain). Arguments and result as `index_peaks` (each grain says its `method`), but
/// the materials are the model's unless `materials` (names) picks some of them.
#[wasm_bindgen]
pub fn index_peaks_nn(
    peaks: JsValue,
    calibration: JsValue,
    model: &HklModelHandle,
    materials: JsValue,
    options: JsValue,
) -> Result<JsValue, JsError> {
    let (spots, calibration) = experimental_spots(peaks, calibration)?;
    let all = &model.model.meta.materials;
    let mats: Vec<Material> = if materials.is_undefined() || materials.is_null() {
        all.clone()
    } else {
        let names: Vec<String> = from_js(materials, "materials")?;
        let mut picked = Vec::new();
        for n in &names {
            let Some(m) = all.iter().find(|m| &m.name == n) else {
                let known: Vec<&str> = all.iter().map(|m| m.name.as_str()).collect();
                return Err(JsError::new(&format!(
                    "model {} knows {} but not {n}",
                    model.name,
                    known.join(", ")
                )));
            };
            picked.push(m.clone());
        }
        picked
    };
    if mats.is_empty() {
        return Err(JsError::new("pick at least one material to index with"));
    }
    let (settings, emin_kev, emax_kev) = index_options(options)?;
    let exp = Experiment { calibration, emin_kev, emax_kev };
    let t0 = js_sys::Date::now();
    let result = index_with_model(&spots, &mats, &model.model, &exp, &settings).map_err(err)?;
    let elapsed_ms = js_sys::Date::now() - t0;
    index_output(&result, &spots, &mats, &exp, &settings, elapsed_ms)
}

/// What to train (`train_hkl_model`); LaueNN's defaults as in `lauekit train-index`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TrainRequest {
    /// table names or definitions (`parse_materials_file`'s `definition`)
    materials: Vec<crate::crystal::MaterialSpec>,
    calibration: Calibration,
    /// largest hkl index of the classes: one value, or one per material
    #[serde(default = "default_max_index")]
    max_index: Vec<i32>,
    #[serde(default = "default_orientations")]
    orientations: usize,
    /// images hold 1..=grains grains
    #[serde(default = "default_grains")]
    grains: usize,
    #[serde(default = "default_epochs")]
    epochs: usize,
    #[serde(default = "default_batch")]
    batch_size: usize,
    #[serde(default = "default_lr")]
    learning_rate: f64,
    #[serde(default = "default_emin")]
    emin_kev: f64,
    #[serde(default = "default_emax")]
    emax_kev: f64,
    #[serde(default = "default_radius")]
    radius_deg: f64,
    #[serde(default = "default_bin")]
    bin_deg: f64,
    #[serde(default)]
    seed: u64,
}

fn default_max_index() -> Vec<i32> {
    vec![5]
}
fn default_orientations() -> usize {
    500
}
fn default_grains() -> usize {
    5
}
fn default_epochs() -> usize {
    6
}
fn default_batch() -> usize {
    512
}
fn default_lr() -> f64 {
    2e-3
}
fn default_emin() -> f64 {
    crate::pipeline::Band::default().emin_kev
}
fn default_emax() -> f64 {
    crate::pipeline::Band::default().emax_kev
}
fn default_radius() -> f64 {
    120.0
}
fn default_bin() -> f64 {
    0.1
}

/// Progress messages of `train_hkl_model`.
#[derive(Serialize)]
#[serde(tag = "stage", rename_all = "kebab-case")]
enum TrainProgress<'a> {
    /// simulating the training images
    Data,
    DataDone {
        train_spots: usize,
        validation_spots: usize,
        train_images: usize,
        validation_images: usize,
        classes: usize,
        dropped_classes: usize,
        elapsed_ms: f64,
    },
    Batch {
        #[serde(flatten)]
        report: &'a BatchReport,
        elapsed_ms: f64,
    },
    Epoch {
        #[serde(flatten)]
        report: &'a EpochReport,
        elapsed_ms: f64,
    },
}

fn report(progress: &js_sys::Function, p: &TrainProgress) -> Result<(), JsError> {
    progress.call1(&JsValue::NULL, &to_js(p)?).map(drop).map_err(|e| {
        JsError::new(&format!("training progress callback failed: {}", e.as_string().unwrap_or_default()))
    })
}

/// Trains an hkl model in the page (blocking: run it in a Web Worker): simulated images of the `materials`
/// in this `calibration`'s detector, then Adam on the CPU device. `request`: `{materials, calibration,
/// max_index?, orientations?, grains?, epochs?, batch_size?, learning_rate?, emin_kev?, emax_kev?,
/// radius_deg?, bin_deg?, seed?}`; `progress` gets `{stage: "data"}`, `{stage: "data-done", …}`, then
/// `{stage: "batch", epoch, epochs, batch, batches, loss, accuracy, elapsed_ms}` after every mini-batch and
/// `{stage: "epoch", epoch, epochs, train_loss, train_accuracy, val_loss, val_accuracy, elapsed_ms}`.
#[wasm_bindgen]
pub fn train_hkl_model(
    request: JsValue,
    name: &str,
    progress: &js_sys::Function,
) -> Result<HklModelHandle, JsError> {
    let r: TrainRequest = from_js(request, "training request")?;
    let table = crate::crystal::MaterialCatalog::table();
    let materials: Vec<Material> =
        r.materials.iter().map(|m| m.resolve(&table)).collect::<Result<_, _>>().map_err(err)?;
    if materials.is_empty() {
        return Err(JsError::new("training request: pick at least one material"));
    }
    if r.grains == 0 || r.epochs == 0 || r.batch_size == 0 {
        return Err(JsError::new("training request: grains, epochs and batch_size must be at least 1"));
    }
    let calibration = r.calibration.validated().map_err(err)?;
    let mut ds = DatasetSettings::new(calibration, r.emin_kev, r.emax_kev);
    ds.n_orientations = r.orientations;
    ds.max_grains = r.grains;
    ds.features =
        FeatureSettings { radius_deg: r.radius_deg, bin_deg: r.bin_deg }.validated().map_err(err)?;
    ds.seed = r.seed;
    let t0 = js_sys::Date::now();
    report(progress, &TrainProgress::Data)?;
    let data = generate(&materials, &r.max_index, &ds).map_err(err)?;
    let data_ms = js_sys::Date::now() - t0;
    report(
        progress,
        &TrainProgress::DataDone {
            train_spots: data.train.len(),
            validation_spots: data.validation.len(),
            train_images: data.train.n_images,
            validation_images: data.validation.n_images,
            classes: data.classes.len(),
            dropped_classes: data.n_dropped_classes,
            elapsed_ms: data_ms,
        },
    )?;
    let ts = TrainSettings {
        epochs: r.epochs,
        batch_size: r.batch_size,
        learning_rate: r.learning_rate,
        patience: 3,
        seed: r.seed,
        ..Default::default()
    };
    let info = serde_json::json!({
        "dataset": ds, "train": ts, "data_seconds": data_ms / 1e3, "trained_in": "browser (wasm, cpu)"
    });
    let device = crate::device::cpu();
    // A failing callback stops the training and is reported after it.
    let mut callback_error: Option<JsError> = None;
    let mut epoch_error: Option<JsError> = None;
    let model = train_with_batches(
        &data,
        &materials,
        &ts,
        &device.device,
        info,
        |b| match report(progress, &TrainProgress::Batch { report: b, elapsed_ms: js_sys::Date::now() - t0 })
        {
            Ok(()) => true,
            Err(e) => {
                callback_error = Some(e);
                false
            }
        },
        |e| match report(progress, &TrainProgress::Epoch { report: e, elapsed_ms: js_sys::Date::now() - t0 })
        {
            Ok(()) => true,
            Err(e) => {
                epoch_error = Some(e);
                false
            }
        },
    )
    .map_err(err)?;
    if let Some(e) = callback_error.or(epoch_error) {
        return Err(e);
    }
    Ok(HklModelHandle { model, name: name.to_string() })
}
