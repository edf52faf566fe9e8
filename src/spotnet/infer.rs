//! Batched inference over the spots of an image, in two layers so that the browser can await GPU reads:
//! [`input_batch`] (frame + peak positions → input tensor and the pixels s), [`forward`] (→ output
//! tensor), then [`decode_outputs`] on the floats read back (`into_data_async` on WebGPU). [`characterize`]
//! chains them synchronously (CPU devices).

use burn::store::{BurnpackStore, FloatCastAdapter, ModuleSnapshot};
use burn::tensor::{Bytes, DType, Device, Tensor, TensorData};

use super::cutout::{CUTOUT, extract_cutout};
use super::descriptors::{Descriptors, GoodSpotCriteria, decode_outputs};
use super::model::{SpotNet, SpotNetConfig};
use crate::error::{LaueError, Result};
use crate::io::Frame;

/// The shipped weights (burnpack, f32), trained by `lauekit train-spotnet` (see README.md).
static SPOTNET_BPK: &[u8] = include_bytes!("spotnet.bpk");

/// The shipped weights' bytes (burnpack).
pub fn spotnet_bytes() -> &'static [u8] {
    SPOTNET_BPK
}

/// Burnpack metadata key holding the network's shape ([`SpotNetConfig`] as JSON).
pub const CONFIG_KEY: &str = "lauekit.spotnet.config";

/// Name of the shipped weights in error messages.
pub const EMBEDDED_NAME: &str = "embedded spot network";

/// The shape recorded in burnpack bytes; weights without the key are the paper's network (the format of
/// the first shipped weights).
pub fn spotnet_config(bytes: &[u8]) -> Result<SpotNetConfig> {
    spotnet_config_of(bytes, "spot network weights")
}

/// [`spotnet_config`] with errors naming `file`.
pub fn spotnet_config_of(bytes: &[u8], file: &str) -> Result<SpotNetConfig> {
    let err = |e: String| LaueError::model(file, e);
    let reader = burn_pack::Reader::from_bytes(Bytes::from_bytes_vec(bytes.to_vec())).map_err(|e| {
        err(format!(
            "not spot-network weights: not a burnpack file ({})",
            crate::device::one_line(&e.to_string())
        ))
    })?;
    let cfg = match reader.metadata().get(CONFIG_KEY) {
        Some(json) => serde_json::from_str::<SpotNetConfig>(json)
            .map_err(|e| err(format!("network shape {CONFIG_KEY} '{json}' is not readable: {e}")))?,
        None => SpotNetConfig::paper(),
    };
    cfg.validate().map_err(|e| err(e.reason()))?;
    Ok(cfg)
}

/// A network from burnpack bytes (any float width; computed in f32), on `device`.
pub fn load_spotnet(bytes: &[u8], device: &Device) -> Result<SpotNet> {
    load_spotnet_named(bytes, "spot network weights", device)
}

/// [`load_spotnet`] of the weights read from `file` (named in every error): the shape is checked, every
/// tensor must be present with its shape and finite values.
pub fn load_spotnet_named(bytes: &[u8], file: &str, device: &Device) -> Result<SpotNet> {
    let cfg = spotnet_config_of(bytes, file)?;
    let mut net = cfg.init(device);
    crate::device::check_weights(bytes, file, &net.collect(None, None, false))?;
    let mut store = BurnpackStore::from_bytes(Some(Bytes::from_bytes_vec(bytes.to_vec())))
        .with_from_adapter(FloatCastAdapter::to(DType::F32));
    let applied = net.load_from(&mut store).map_err(|e| {
        LaueError::model(file, format!("unreadable weights ({})", crate::device::one_line(&e.to_string())))
    })?;
    if let Some(e) = applied.errors.first() {
        return Err(LaueError::model(
            file,
            format!(
                "the weights do not fit the network ({} tensors refused, first: {})",
                applied.errors.len(),
                crate::device::apply_error(e)
            ),
        ));
    }
    if let Some((path, _)) = applied.missing.first() {
        return Err(LaueError::model(
            file,
            format!("the weights lack {} tensors of the network (first: '{path}')", applied.missing.len()),
        ));
    }
    Ok(net)
}

/// The shipped network on `device`.
pub fn embedded_spotnet(device: &Device) -> Result<SpotNet> {
    load_spotnet_named(SPOTNET_BPK, EMBEDDED_NAME, device)
}

/// The network's weights as burnpack bytes (f32), with its shape in the metadata.
pub fn spotnet_to_bytes(net: &SpotNet, config: &SpotNetConfig) -> Result<Vec<u8>> {
    let err = |e: String| LaueError::model("spot network (saving)", format!("could not serialise: {e}"));
    let json = serde_json::to_string(config).map_err(|e| err(e.to_string()))?;
    let mut store = BurnpackStore::from_bytes(None).metadata(CONFIG_KEY, json);
    net.save_into(&mut store).map_err(|e| err(e.to_string()))?;
    Ok(store.get_bytes().map_err(|e| err(e.to_string()))?.to_vec())
}

/// Input batch `[n, 1, 32, 32]` of the spots at `peaks` (x, y in px, LaueTools' convention) and the
/// pixels s their cut-outs are built on. None when there is no peak.
pub fn input_batch(
    frame: &Frame,
    peaks: &[(f64, f64)],
    device: &Device,
) -> Option<(Tensor<4>, Vec<(i64, i64)>)> {
    if peaks.is_empty() {
        return None;
    }
    let mut x = Vec::with_capacity(peaks.len() * CUTOUT * CUTOUT);
    let mut centres = Vec::with_capacity(peaks.len());
    for &(px, py) in peaks {
        let c = extract_cutout(frame, px, py);
        x.extend(c.normalised());
        centres.push(c.centre);
    }
    Some((batch_tensor(x, peaks.len(), device), centres))
}

/// A `[n, 1, 32, 32]` tensor of `n` normalised cut-outs laid end to end.
pub fn batch_tensor(x: Vec<f32>, n: usize, device: &Device) -> Tensor<4> {
    Tensor::<4>::from_data(TensorData::new(x, [n, 1, CUTOUT, CUTOUT]), device)
}

/// The network's outputs `[n, 5]` for an input batch.
pub fn forward(net: &SpotNet, batch: Tensor<4>) -> Tensor<2> {
    net.forward(batch)
}

/// Descriptors of the spots at `peaks` (x, y in px, LaueTools' convention), one per peak, in order
/// (synchronous read-back: CPU devices).
pub fn characterize(
    frame: &Frame,
    peaks: &[(f64, f64)],
    net: &SpotNet,
    device: &Device,
    criteria: &GoodSpotCriteria,
) -> Vec<Descriptors> {
    let Some((x, centres)) = input_batch(frame, peaks, device) else { return Vec::new() };
    let out: Vec<f32> = forward(net, x).into_data().iter::<f32>().collect();
    let mut d = decode_outputs(&out, &centres, criteria);
    reject_without_signal(frame, peaks, &mut d);
    d
}

/// A cut-out with no signal above its noise is bad whatever the network says (Sim 0, not good): the rule
/// of [`crate::spotnet::cutout`]'s docs, on the raw counts the network never sees.
pub fn reject_without_signal(frame: &Frame, peaks: &[(f64, f64)], descriptors: &mut [Descriptors]) {
    for (&(x, y), d) in peaks.iter().zip(descriptors.iter_mut()) {
        if !extract_cutout(frame, x, y).has_signal() {
            d.sim = 0.0;
            d.good = false;
        }
    }
}
