//! Loading, saving and batched encoding, in two layers so that the browser can await GPU reads:
//! [`input_tensor`] + [`Autoencoder::encode`] give a `[n, M]` tensor to read back (`into_data_async` on
//! WebGPU); [`encode`] chains them synchronously in batches of [`ENCODE_BATCH`] (CPU and CUDA devices).

use burn::store::{BurnpackStore, FloatCastAdapter, ModuleSnapshot};
use burn::tensor::{Bytes, DType, Device, Tensor, TensorData};

use super::data::INPUT_LEN;
use super::model::{Autoencoder, AutoencoderConfig, INPUT_SIDE};
use crate::error::{LaueError, Result};

/// The shipped weights (burnpack, f32), trained by `lauekit train-autoencoder` (command in the module doc).
static AUTOENCODER_BPK: &[u8] = include_bytes!("autoencoder.bpk");

/// Frames per forward pass in [`encode`] (bounds the activations: ≈ 8 MB per frame-batch of 64 on the
/// first stage).
pub const ENCODE_BATCH: usize = 64;

/// Burnpack metadata key holding the network's shape ([`AutoencoderConfig`] as JSON).
pub const CONFIG_KEY: &str = "lauekit.autoencoder.config";

/// The shipped weights' bytes (burnpack).
pub fn autoencoder_bytes() -> &'static [u8] {
    AUTOENCODER_BPK
}

fn weights_error(e: impl std::fmt::Display) -> LaueError {
    LaueError::InvalidSettings(format!("autoencoder weights: {e}"))
}

/// The shape recorded in burnpack bytes.
pub fn autoencoder_config(bytes: &[u8]) -> Result<AutoencoderConfig> {
    let reader = burn_pack::Reader::from_bytes(Bytes::from_bytes_vec(bytes.to_vec()))
        .map_err(|e| weights_error(format!("not a burnpack file ({e})")))?;
    let json = reader
        .metadata()
        .get(CONFIG_KEY)
        .ok_or_else(|| weights_error(format!("no '{CONFIG_KEY}' entry: not an autoencoder's weights")))?;
    let cfg: AutoencoderConfig =
        serde_json::from_str(json).map_err(|e| weights_error(format!("{CONFIG_KEY} '{json}': {e}")))?;
    cfg.validate()?;
    Ok(cfg)
}

/// A network from burnpack bytes (f32 or f16 weights; computed in f32), on `device`.
pub fn load_autoencoder(bytes: &[u8], device: &Device) -> Result<Autoencoder> {
    let cfg = autoencoder_config(bytes)?;
    let mut store = BurnpackStore::from_bytes(Some(Bytes::from_bytes_vec(bytes.to_vec())))
        .with_from_adapter(FloatCastAdapter::to(DType::F32));
    let mut net = cfg.init(device);
    let applied = net.load_from(&mut store).map_err(weights_error)?;
    if !applied.errors.is_empty() || !applied.missing.is_empty() {
        return Err(weights_error(format!(
            "they do not fit the {cfg:?} network ({} errors, {} missing tensors)",
            applied.errors.len(),
            applied.missing.len()
        )));
    }
    Ok(net)
}

/// The shipped network on `device`.
pub fn embedded_autoencoder(device: &Device) -> Result<Autoencoder> {
    load_autoencoder(AUTOENCODER_BPK, device)
}

/// The network's weights as burnpack bytes (f32, or f16 with `half`), with its shape in the metadata.
pub fn autoencoder_to_bytes(net: &Autoencoder, config: &AutoencoderConfig, half: bool) -> Result<Vec<u8>> {
    let err = |e: String| LaueError::InvalidSettings(format!("saving the autoencoder: {e}"));
    let json = serde_json::to_string(config).map_err(|e| err(e.to_string()))?;
    let mut store = BurnpackStore::from_bytes(None).metadata(CONFIG_KEY, json);
    if half {
        store = store.with_to_adapter(FloatCastAdapter::to(DType::F16));
    }
    net.save_into(&mut store).map_err(|e| err(e.to_string()))?;
    Ok(store.get_bytes().map_err(|e| err(e.to_string()))?.to_vec())
}

/// `n` pre-processed frames (`n · 128²` values, row-major, frame after frame) as a `[n, 1, 128, 128]`
/// tensor; refuses a wrong length and non-finite values.
pub fn input_tensor(pixels: Vec<f32>, n: usize, device: &Device) -> Result<Tensor<4>> {
    if n == 0 || pixels.len() != n * INPUT_LEN {
        return Err(LaueError::InvalidSettings(format!(
            "autoencoder input: {} values for {n} frames of {INPUT_SIDE} × {INPUT_SIDE} (need {})",
            pixels.len(),
            n * INPUT_LEN
        )));
    }
    if let Some(i) = pixels.iter().position(|v| !v.is_finite()) {
        return Err(LaueError::InvalidSettings(format!(
            "autoencoder input: value {} of frame {} is not finite",
            pixels[i],
            i / INPUT_LEN
        )));
    }
    Ok(Tensor::<4>::from_data(TensorData::new(pixels, [n, 1, INPUT_SIDE, INPUT_SIDE]), device))
}

/// Latent codes of `n` pre-processed frames (`pixels`: `n · 128²` values in [0, 1] from
/// [`crate::cluster::features::preprocess`]), `n · M` values row-major, computed in batches of
/// [`ENCODE_BATCH`] on `device` (synchronous read-back: CPU and CUDA; in the browser use [`input_tensor`],
/// [`Autoencoder::encode`] and an `_async` read).
pub fn encode(net: &Autoencoder, pixels: &[f32], n: usize, device: &Device) -> Result<Vec<f32>> {
    if n == 0 || pixels.len() != n * INPUT_LEN {
        return Err(LaueError::InvalidSettings(format!(
            "autoencoder input: {} values for {n} frames of {INPUT_SIDE} × {INPUT_SIDE} (need {})",
            pixels.len(),
            n * INPUT_LEN
        )));
    }
    let mut out = Vec::with_capacity(n * net.latent_dim());
    for chunk in pixels.chunks(ENCODE_BATCH * INPUT_LEN) {
        let m = chunk.len() / INPUT_LEN;
        let z = net.encode(input_tensor(chunk.to_vec(), m, device)?);
        let data = z.into_data();
        let v: Vec<f32> = data
            .try_to_vec::<f32>()
            .map_err(|e| LaueError::InvalidSettings(format!("reading the latent codes: {e:?}")))?;
        out.extend(v);
    }
    Ok(out)
}
