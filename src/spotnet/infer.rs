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

/// The shape recorded in burnpack bytes; weights without the key are the paper's network (the format of
/// the first shipped weights).
pub fn spotnet_config(bytes: &[u8]) -> Result<SpotNetConfig> {
    let err = |e: String| LaueError::InvalidSettings(format!("spot network weights: {e}"));
    let reader = burn_pack::Reader::from_bytes(Bytes::from_bytes_vec(bytes.to_vec()))
        .map_err(|e| err(format!("not a burnpack file ({e})")))?;
    let cfg = match reader.metadata().get(CONFIG_KEY) {
        Some(json) => serde_json::from_str::<SpotNetConfig>(json)
            .map_err(|e| err(format!("{CONFIG_KEY} '{json}': {e}")))?,
        None => SpotNetConfig::paper(),
    };
    cfg.validate()?;
    Ok(cfg)
}

/// A network from burnpack bytes (any float width; computed in f32), on `device`.
pub fn load_spotnet(bytes: &[u8], device: &Device) -> Result<SpotNet> {
    let cfg = spotnet_config(bytes)?;
    let mut store = BurnpackStore::from_bytes(Some(Bytes::from_bytes_vec(bytes.to_vec())))
        .with_from_adapter(FloatCastAdapter::to(DType::F32));
    let mut net = cfg.init(device);
    let applied = net
        .load_from(&mut store)
        .map_err(|e| LaueError::InvalidSettings(format!("spot network weights: {e}")))?;
    if !applied.errors.is_empty() || !applied.missing.is_empty() {
        return Err(LaueError::InvalidSettings(format!(
            "spot network weights do not fit the {cfg:?} network ({} errors, {} missing tensors)",
            applied.errors.len(),
            applied.missing.len()
        )));
    }
    Ok(net)
}

/// The shipped network on `device`.
pub fn embedded_spotnet(device: &Device) -> Result<SpotNet> {
    load_spotnet(SPOTNET_BPK, device)
}

/// The network's weights as burnpack bytes (f32), with its shape in the metadata.
pub fn spotnet_to_bytes(net: &SpotNet, config: &SpotNetConfig) -> Result<Vec<u8>> {
    let err = |e: String| LaueError::InvalidSettings(format!("saving the spot network: {e}"));
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
    decode_outputs(&out, &centres, criteria)
}
