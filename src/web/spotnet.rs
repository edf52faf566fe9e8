//! The spot-characterisation CNN in the page: the shipped weights on the CPU device (flex) or on WebGPU.
//!
//! The cut-outs are made synchronously from a [`DetectorImage`] ([`DetectorImage::spot_cutouts`]); the network
//! then runs in an async function that owns them ([`characterize_cutouts`]), since WebGPU results can only be
//! read back asynchronously. The network is loaded once per device and kept.

use std::cell::RefCell;

use serde::Serialize;
use wasm_bindgen::prelude::*;

use super::{DetectorImage, err, from_js, to_js};
use crate::spotnet::{CUTOUT, Descriptors, GoodSpotCriteria, SpotNet, decode_outputs, embedded_spotnet};

/// The cut-outs of an image's spots, ready for the network (normalised, `[n, 1, 32, 32]` row-major) with the
/// pixels s they are centred on.
#[wasm_bindgen]
pub struct SpotCutouts {
    pixels: Vec<f32>,
    centres: Vec<(i64, i64)>,
    /// whether each cut-out holds a signal above its noise (a spot without one is judged bad whatever the
    /// network says: `spotnet::infer::reject_without_signal`)
    signal: Vec<bool>,
}

#[wasm_bindgen]
impl SpotCutouts {
    /// Number of spots.
    #[wasm_bindgen(getter)]
    pub fn len(&self) -> usize {
        self.centres.len()
    }

    pub fn is_empty(&self) -> bool {
        self.centres.is_empty()
    }

    /// The normalised pixels, `[n, 1, 32, 32]` row-major (to hand the cut-outs to another wasm instance: the
    /// page's WebGPU module is a second package, loaded on demand).
    pub fn pixels(&self) -> Vec<f32> {
        self.pixels.clone()
    }

    /// The pixel (column, row) each cut-out is centred on, flattened `[c0, r0, c1, r1, …]`.
    pub fn centres(&self) -> Vec<f64> {
        self.centres.iter().flat_map(|&(c, r)| [c as f64, r as f64]).collect()
    }

    /// Whether each cut-out holds a signal above its noise, 1 or 0.
    pub fn signal(&self) -> Vec<u8> {
        self.signal.iter().map(|&s| u8::from(s)).collect()
    }

    /// Cut-outs back from [`SpotCutouts::pixels`], [`SpotCutouts::centres`] and [`SpotCutouts::signal`] (of this
    /// or another instance).
    #[wasm_bindgen(js_name = fromParts)]
    pub fn from_parts(pixels: Vec<f32>, centres: Vec<f64>, signal: Vec<u8>) -> Result<SpotCutouts, JsError> {
        let n = centres.len() / 2;
        if !centres.len().is_multiple_of(2) || pixels.len() != n * CUTOUT * CUTOUT || signal.len() != n {
            return Err(JsError::new(&format!(
                "cut-outs: {} pixels, {} centre coordinates and {} signal flags do not make whole {CUTOUT} × {CUTOUT} \
                 cut-outs",
                pixels.len(),
                centres.len(),
                signal.len()
            )));
        }
        if let Some(v) = centres.iter().find(|v| !(v.is_finite() && v.fract() == 0.0 && v.abs() < 1e9)) {
            return Err(JsError::new(&format!("cut-outs: centre coordinate {v} is not a pixel index")));
        }
        let centres = centres.chunks_exact(2).map(|c| (c[0] as i64, c[1] as i64)).collect();
        Ok(SpotCutouts { pixels, centres, signal: signal.into_iter().map(|s| s != 0).collect() })
    }
}

#[derive(serde::Deserialize)]
struct XY {
    x: f64,
    y: f64,
}

#[wasm_bindgen]
impl DetectorImage {
    /// The 32 × 32 cut-outs of the spots at `peaks` (`[{x, y}]`, LaueTools' convention, e.g. `peak_search`'s
    /// peaks), for [`characterize_cutouts`].
    pub fn spot_cutouts(&self, peaks: JsValue) -> Result<SpotCutouts, JsError> {
        let p: Vec<XY> = from_js(peaks, "peaks")?;
        let mut pixels = Vec::with_capacity(p.len() * CUTOUT * CUTOUT);
        let mut centres = Vec::with_capacity(p.len());
        let mut signal = Vec::with_capacity(p.len());
        for q in &p {
            if !(q.x.is_finite() && q.y.is_finite()) {
                return Err(JsError::new(&format!("peaks: position ({}, {}) is not finite", q.x, q.y)));
            }
            let c = crate::spotnet::extract_cutout(&self.frame, q.x, q.y);
            pixels.extend(c.normalised());
            centres.push(c.centre);
            signal.push(c.has_signal());
        }
        Ok(SpotCutouts { pixels, centres, signal })
    }
}

/// The shipped network on a device, loaded on first use.
#[derive(Clone)]
struct LoadedNet {
    prefer_gpu: bool,
    label: String,
    fallback_reason: Option<String>,
    device: burn::tensor::Device,
    net: SpotNet,
}

thread_local! {
    /// One per preference (CPU, or WebGPU when asked): the device is made and the weights uploaded once.
    static NETS: RefCell<Vec<LoadedNet>> = const { RefCell::new(Vec::new()) };
}

async fn loaded_net(prefer_gpu: bool) -> Result<LoadedNet, JsError> {
    if let Some(l) = NETS.with(|n| n.borrow().iter().find(|l| l.prefer_gpu == prefer_gpu).cloned()) {
        return Ok(l);
    }
    let d = crate::device::browser(prefer_gpu).await;
    let net = embedded_spotnet(&d.device).map_err(err)?;
    let l =
        LoadedNet { prefer_gpu, label: d.label, fallback_reason: d.fallback_reason, device: d.device, net };
    NETS.with(|n| n.borrow_mut().push(l.clone()));
    Ok(l)
}

#[derive(Serialize)]
struct CharacterizeOutput {
    descriptors: Vec<Descriptors>,
    /// the device that ran the network
    device: String,
    /// why WebGPU was not used when it was asked for
    fallback_reason: Option<String>,
    /// network time (upload, forward pass, read-back), ms
    elapsed_ms: f64,
}

/// Runs the shipped spot network on `cutouts` (consumed) on WebGPU when `prefer_gpu` and the browser offers it,
/// else on the CPU. `criteria`: `{min_sim, max_offset_px}` of a good spot (undefined: Sim > 0.55 and
/// ≤ 0.9 px, `GoodSpotCriteria::default`). Returns `{descriptors: [{sim, pos_x, pos_y, asp, area, good}], device, fallback_reason,
/// elapsed_ms}`, one descriptor per spot in order (positions in LaueTools' convention, area in px²).
#[wasm_bindgen]
pub async fn characterize_cutouts(
    cutouts: SpotCutouts,
    criteria: JsValue,
    prefer_gpu: bool,
) -> Result<JsValue, JsError> {
    let criteria: GoodSpotCriteria = if criteria.is_undefined() || criteria.is_null() {
        GoodSpotCriteria::default()
    } else {
        from_js(criteria, "good-spot criteria")?
    };
    let LoadedNet { label, fallback_reason, device, net, .. } = loaded_net(prefer_gpu).await?;
    let n = cutouts.centres.len();
    if n == 0 {
        return to_js(&CharacterizeOutput {
            descriptors: Vec::new(),
            device: label,
            fallback_reason,
            elapsed_ms: 0.0,
        });
    }
    let t0 = js_sys::Date::now();
    let x = crate::spotnet::infer::batch_tensor(cutouts.pixels, n, &device);
    let out = crate::spotnet::forward(&net, x)
        .into_data_async()
        .await
        .map_err(|e| JsError::new(&format!("reading the spot network's outputs: {e:?}")))?;
    let floats: Vec<f32> = out
        .try_to_vec::<f32>()
        .map_err(|e| JsError::new(&format!("reading the spot network's outputs: {e:?}")))?;
    let mut descriptors = decode_outputs(&floats, &cutouts.centres, &criteria);
    // As natively: a cut-out without signal is not a spot, whatever the network says.
    for (d, &signal) in descriptors.iter_mut().zip(&cutouts.signal) {
        if !signal {
            d.sim = 0.0;
            d.good = false;
        }
    }
    to_js(&CharacterizeOutput {
        descriptors,
        device: label,
        fallback_reason,
        elapsed_ms: js_sys::Date::now() - t0,
    })
}

#[derive(Serialize)]
struct PositionsOutput {
    peaks: Vec<crate::peaks::Peak>,
    positions: crate::spotnet::PositionReport,
}

/// The peaks (`peak_search`'s objects) moved to the spot network's positions where `descriptors` (one per peak,
/// in order, `good` as the page judges it now) call them good; the others keep the fitted position. Returns
/// `{peaks, positions: {source: "cnn", from_cnn, from_fit}}`, for indexing with the network's positions.
#[wasm_bindgen]
pub fn cnn_positions(peaks: JsValue, descriptors: JsValue) -> Result<JsValue, JsError> {
    let mut peaks: Vec<crate::peaks::Peak> = from_js(peaks, "peaks")?;
    let descriptors: Vec<Descriptors> = from_js(descriptors, "spot descriptors")?;
    let positions = crate::spotnet::use_cnn_positions(&mut peaks, &descriptors).map_err(err)?;
    to_js(&PositionsOutput { peaks, positions })
}
