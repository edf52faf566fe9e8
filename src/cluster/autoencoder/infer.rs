//! Loading, saving and batched encoding, in two layers so that the browser can await GPU reads:
//! [`input_tensor`] + [`Autoencoder::encode`] give a `[n, M]` tensor to read back (`into_data_async` on
//! WebGPU); [`encode`] chains them synchronously in batches of [`ENCODE_BATCH`] (CPU and CUDA devices).

use burn::store::{BurnpackStore, FloatCastAdapter, ModuleSnapshot};
use burn::tensor::{Bytes, DType, Device, Tensor, TensorData};

use super::data::INPUT_LEN;
use super::model::{Autoencoder, AutoencoderConfig, INPUT_SIDE};
use crate::error::{LaueError, Result, Stage};

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

/// Name of the shipped weights in error messages.
pub const EMBEDDED_NAME: &str = "embedded autoencoder";

/// The shape recorded in burnpack bytes.
pub fn autoencoder_config(bytes: &[u8]) -> Result<AutoencoderConfig> {
    autoencoder_config_of(bytes, "autoencoder weights")
}

/// [`autoencoder_config`] with errors naming `file`.
pub fn autoencoder_config_of(bytes: &[u8], file: &str) -> Result<AutoencoderConfig> {
    let err = |m: String| LaueError::model(file, m);
    let reader = burn_pack::Reader::from_bytes(Bytes::from_bytes_vec(bytes.to_vec())).map_err(|e| {
        err(format!(
            "not autoencoder weights: not a burnpack file ({})",
            crate::device::one_line(&e.to_string())
        ))
    })?;
    let json = reader
        .metadata()
        .get(CONFIG_KEY)
        .ok_or_else(|| err(format!("no '{CONFIG_KEY}' entry: not an autoencoder's weights")))?;
    let cfg: AutoencoderConfig = serde_json::from_str(json)
        .map_err(|e| err(format!("network shape {CONFIG_KEY} '{json}' is not readable: {e}")))?;
    cfg.validate().map_err(|e| err(e.reason()))?;
    Ok(cfg)
}

/// A network from burnpack bytes (f32 or f16 weights; computed in f32), on `device`.
pub fn load_autoencoder(bytes: &[u8], device: &Device) -> Result<Autoencoder> {
    load_autoencoder_named(bytes, "autoencoder weights", device)
}

/// [`load_autoencoder`] of the weights read from `file` (named in every error): the shape is checked, every
/// tensor must be present with its shape and finite values.
pub fn load_autoencoder_named(bytes: &[u8], file: &str, device: &Device) -> Result<Autoencoder> {
    let cfg = autoencoder_config_of(bytes, file)?;
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
pub fn embedded_autoencoder(device: &Device) -> Result<Autoencoder> {
    load_autoencoder_named(AUTOENCODER_BPK, EMBEDDED_NAME, device)
}

/// The network's weights as burnpack bytes (f32, or f16 with `half`), with its shape in the metadata.
pub fn autoencoder_to_bytes(net: &Autoencoder, config: &AutoencoderConfig, half: bool) -> Result<Vec<u8>> {
    let err = |e: String| LaueError::model("autoencoder (saving)", format!("could not serialise: {e}"));
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
    if n == 0 || Some(pixels.len()) != n.checked_mul(INPUT_LEN) {
        return Err(LaueError::settings(
            Stage::Clustering,
            format!(
                "autoencoder input: {} values for {n} frames of {INPUT_SIDE} × {INPUT_SIDE} (need {})",
                pixels.len(),
                n.saturating_mul(INPUT_LEN)
            ),
        ));
    }
    if let Some(i) = pixels.iter().position(|v| !v.is_finite()) {
        return Err(LaueError::image(
            format!("autoencoder input frame {}", i / INPUT_LEN),
            format!("value {} at {} is not finite", pixels[i], i % INPUT_LEN),
        ));
    }
    Ok(Tensor::<4>::from_data(TensorData::new(pixels, [n, 1, INPUT_SIDE, INPUT_SIDE]), device))
}

/// Latent codes of `n` pre-processed frames (`pixels`: `n · 128²` values in [0, 1] from
/// [`crate::cluster::features::preprocess`]), `n · M` values row-major, computed in batches of
/// [`ENCODE_BATCH`] on `device` (synchronous read-back: CPU and CUDA; in the browser use [`input_tensor`],
/// [`Autoencoder::encode`] and an `_async` read).
pub fn encode(net: &Autoencoder, pixels: &[f32], n: usize, device: &Device) -> Result<Vec<f32>> {
    if n == 0 || Some(pixels.len()) != n.checked_mul(INPUT_LEN) {
        return Err(LaueError::settings(
            Stage::Clustering,
            format!(
                "autoencoder input: {} values for {n} frames of {INPUT_SIDE} × {INPUT_SIDE} (need {})",
                pixels.len(),
                n.saturating_mul(INPUT_LEN)
            ),
        ));
    }
    let mut out = Vec::with_capacity(n * net.latent_dim());
    for chunk in pixels.chunks(ENCODE_BATCH * INPUT_LEN) {
        let m = chunk.len() / INPUT_LEN;
        let z = net.encode(input_tensor(chunk.to_vec(), m, device)?);
        let data = z.into_data();
        let v: Vec<f32> = data.try_to_vec::<f32>().map_err(|e| {
            LaueError::Device(format!(
                "reading the latent codes back: {}",
                crate::device::one_line(&e.to_string())
            ))
        })?;
        out.extend(v);
    }
    Ok(out)
}
