//! The JSON side of every model lauekit loads, as any bytes: the first byte picks the model, the rest is
//! the text. A LaueNN hkl model's description (class table, materials, histogram settings, layer sizes)
//! with the shipped Ge weights; the shapes recorded in the spot network's and the autoencoder's burnpack
//! metadata, with the shipped weights. Each gives a model or an error, never a panic or an allocation
//! beyond the limits; a LaueNN model loaded then predicts on a few spots.
#![no_main]

use lauekit::cluster::autoencoder::{
    AutoencoderConfig, autoencoder_to_bytes, embedded_autoencoder, load_autoencoder,
};
use lauekit::index::nn::HklModel;
use lauekit::spotnet::infer::spotnet_to_bytes;
use lauekit::spotnet::{SpotNetConfig, embedded_spotnet, load_spotnet};
use libfuzzer_sys::fuzz_target;
use nalgebra::Vector3;

/// The page's Ge model (made by `scripts/train-shipped-models.sh`).
static GE_WEIGHTS: &[u8] = include_bytes!("../../www/models/Ge.bpk");

fuzz_target!(|data: &[u8]| {
    let Some((&kind, rest)) = data.split_first() else { return };
    let text = String::from_utf8_lossy(rest);
    let device = lauekit::device::cpu().device;
    match kind % 3 {
        0 => {
            if let Ok(model) = HklModel::from_bytes(GE_WEIGHTS, &text, &device) {
                let q: Vec<Vector3<f64>> = (0..6)
                    .map(|i| {
                        let a = 0.3 * i as f64;
                        Vector3::new(-0.5, 0.6 * a.cos(), 0.6 * a.sin() + 0.4).normalize()
                    })
                    .collect();
                if let Ok(pred) = model.predict(&q) {
                    for p in pred {
                        assert!(p.spot < q.len());
                        let _ = model.meta.classes.label(p.class);
                    }
                }
            }
        }
        1 => {
            if let Ok(cfg) = serde_json::from_str::<SpotNetConfig>(&text)
                && cfg.validate().is_ok()
                && let Ok(net) = embedded_spotnet(&device)
                && let Ok(bytes) = spotnet_to_bytes(&net, &cfg)
            {
                let _ = load_spotnet(&bytes, &device);
            }
        }
        _ => {
            if let Ok(cfg) = serde_json::from_str::<AutoencoderConfig>(&text)
                && cfg.validate().is_ok()
                && let Ok(net) = embedded_autoencoder(&device)
                && let Ok(bytes) = autoencoder_to_bytes(&net, &cfg, false)
            {
                let _ = load_autoencoder(&bytes, &device);
            }
        }
    }
});
