//! The clustering autoencoder in the page: the shipped weights on the CPU device (flex) or on WebGPU, loaded
//! once per device and kept. The Cluster panel sends pre-processed frames (`preprocess()`'s 128 × 128 output,
//! e.g. from `ClusterFeatures` with `features: "ae"`) and gets their latent codes back.

use std::cell::RefCell;

use wasm_bindgen::prelude::*;

use super::err;
use crate::cluster::autoencoder::{
    Autoencoder, ENCODE_BATCH, INPUT_SIDE, autoencoder_bytes, embedded_autoencoder, input_tensor,
};

/// The shipped network on a device.
#[derive(Clone)]
struct LoadedNet {
    prefer_gpu: bool,
    device: burn::tensor::Device,
    net: Autoencoder,
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
    let net = embedded_autoencoder(&d.device).map_err(err)?;
    let l = LoadedNet { prefer_gpu, device: d.device, net };
    NETS.with(|n| n.borrow_mut().push(l.clone()));
    Ok(l)
}

/// Latent dimension M of the shipped autoencoder (the length of each frame's feature vector).
#[wasm_bindgen]
pub fn autoencoder_latent_dim() -> usize {
    crate::cluster::autoencoder::infer::autoencoder_config(autoencoder_bytes()).map_or(0, |c| c.latent)
}

/// Latent codes of `n` pre-processed frames: `pixels` holds n × 128 × 128 values in [0, 1] (`preprocess()`'s
/// output, frame after frame, row-major); returns n × M values, row-major. Runs on WebGPU when `webgpu` and
/// the browser offers it, else on the CPU (flex); batches of 64 frames. A length that is not a multiple of
/// 128² or a non-finite value is an Error.
#[wasm_bindgen]
pub async fn autoencoder_features(pixels: Vec<f32>, webgpu: bool) -> Result<Vec<f32>, JsError> {
    let len = INPUT_SIDE * INPUT_SIDE;
    if pixels.is_empty() || !pixels.len().is_multiple_of(len) {
        return Err(JsError::new(&format!(
            "autoencoder_features: {} values is not a whole number of {INPUT_SIDE} × {INPUT_SIDE} frames",
            pixels.len()
        )));
    }
    let LoadedNet { device, net, .. } = loaded_net(webgpu).await?;
    let n = pixels.len() / len;
    let mut out = Vec::with_capacity(n * net.latent_dim());
    for chunk in pixels.chunks(ENCODE_BATCH * len) {
        let x = input_tensor(chunk.to_vec(), chunk.len() / len, &device).map_err(err)?;
        let data = net
            .encode(x)
            .into_data_async()
            .await
            .map_err(|e| JsError::new(&format!("reading the autoencoder's outputs: {e:?}")))?;
        let v: Vec<f32> = data
            .try_to_vec::<f32>()
            .map_err(|e| JsError::new(&format!("reading the autoencoder's outputs: {e:?}")))?;
        out.extend(v);
    }
    Ok(out)
}
