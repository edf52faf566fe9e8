//! The convolutional autoencoder (see the module doc of [`super`] for the architecture and why it is sized so).
//!
//! Shapes: input `[n, 1, 128, 128]` (pre-processed frames in [0, 1]) → five stages (3 × 3 convolution, same
//! padding, ReLU, 2 × 2 max-pool, dropout) → `[n, c₅, 4, 4]` → a 4 × 4 valid convolution and tanh →
//! latent `[n, M, 1, 1]` → a 4 × 4 transposed convolution (ReLU) → `[n, c₅, 4, 4]` → five transposed
//! convolutions (kernel 4, stride 2, padding 1: each doubles the side; ReLU between them, dropout before
//! each) → logits `[n, 1, 128, 128]`; the reconstruction is their sigmoid.

use burn::module::Module;
use burn::nn::conv::{Conv2d, Conv2dConfig, ConvTranspose2d, ConvTranspose2dConfig};
use burn::nn::{Dropout, DropoutConfig, PaddingConfig2d};
use burn::tensor::activation::{relu, sigmoid, tanh};
use burn::tensor::{Device, Tensor};
use serde::{Deserialize, Serialize};

use crate::error::{LaueError, Result, Stage};
use crate::spotnet::model::max_pool_2x2;

/// Side of the input (and of the reconstruction), px of the binned frame.
pub const INPUT_SIDE: usize = 128;
/// Side of the last feature map before the bottleneck: 128 / 2⁵.
const BOTTOM_SIDE: usize = INPUT_SIDE >> 5;

/// The network's shape.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct AutoencoderConfig {
    /// output channels of the five encoder stages (the decoder mirrors them)
    pub channels: [usize; 5],
    /// latent dimension M (the feature length)
    pub latent: usize,
    /// dropout probability (after each max-pool, before each transposed convolution and the output)
    pub dropout: f64,
}

impl Default for AutoencoderConfig {
    /// The shipped network: 8, 16, 32, 32, 64 channels, M = 64, dropout 0.2 (≈ 14 M multiply–adds to
    /// encode a frame, ≈ 0.23 M weights).
    fn default() -> Self {
        AutoencoderConfig { channels: [8, 16, 32, 32, 64], latent: 64, dropout: 0.2 }
    }
}

impl AutoencoderConfig {
    /// Checks that every width is positive and the dropout probability in [0, 1).
    pub fn validate(&self) -> Result<()> {
        let bad = |m: String| Err(LaueError::settings(Stage::Training, format!("autoencoder shape: {m}")));
        if let Some(c) = self.channels.iter().find(|&&c| c == 0 || c > 4096) {
            return bad(format!("channels {c} (of {:?}): every stage needs 1 to 4096", self.channels));
        }
        if self.latent == 0 || self.latent > 4096 {
            return bad(format!("latent = {}: need 1 to 4096", self.latent));
        }
        if !(self.dropout.is_finite() && (0.0..1.0).contains(&self.dropout)) {
            return bad(format!("dropout = {}: need a probability in [0, 1)", self.dropout));
        }
        if self.n_params() > Self::MAX_PARAMS {
            return bad(format!(
                "channels {:?}, latent {} make {} weights: at most {}",
                self.channels,
                self.latent,
                self.n_params(),
                Self::MAX_PARAMS
            ));
        }
        Ok(())
    }

    /// A network with fresh weights on `device` (call [`AutoencoderConfig::validate`] first).
    pub fn init(&self, device: &Device) -> Autoencoder {
        let c = self.channels;
        let conv = |a: usize, b: usize| {
            Conv2dConfig::new([a, b], [3, 3]).with_padding(PaddingConfig2d::Same).init(device)
        };
        let up = |a: usize, b: usize| {
            ConvTranspose2dConfig::new([a, b], [4, 4]).with_stride([2, 2]).with_padding([1, 1]).init(device)
        };
        Autoencoder {
            enc1: conv(1, c[0]),
            enc2: conv(c[0], c[1]),
            enc3: conv(c[1], c[2]),
            enc4: conv(c[2], c[3]),
            enc5: conv(c[3], c[4]),
            bottleneck: Conv2dConfig::new([c[4], self.latent], [BOTTOM_SIDE, BOTTOM_SIDE]).init(device),
            unbottleneck: ConvTranspose2dConfig::new([self.latent, c[4]], [BOTTOM_SIDE, BOTTOM_SIDE])
                .init(device),
            dec5: up(c[4], c[3]),
            dec4: up(c[3], c[2]),
            dec3: up(c[2], c[1]),
            dec2: up(c[1], c[0]),
            dec1: up(c[0], 1),
            dropout: DropoutConfig::new(self.dropout).init(),
            latent: self.latent,
        }
    }

    /// Largest number of weights (≈ 200 MB in f32; the shipped network has ≈ 0.23 M).
    pub const MAX_PARAMS: usize = 50_000_000;

    /// Number of weights and biases of encoder and decoder (widths of at most 4096, as
    /// [`Self::validate`] checks first, keep every product far from overflowing).
    pub fn n_params(&self) -> usize {
        let c = self.channels;
        let conv = |a: usize, b: usize| 9 * a * b + b;
        let up = |a: usize, b: usize| 16 * a * b + b;
        let bottom = BOTTOM_SIDE * BOTTOM_SIDE;
        conv(1, c[0])
            + conv(c[0], c[1])
            + conv(c[1], c[2])
            + conv(c[2], c[3])
            + conv(c[3], c[4])
            + (bottom * c[4] * self.latent + self.latent)
            + (bottom * self.latent * c[4] + c[4])
            + up(c[4], c[3])
            + up(c[3], c[2])
            + up(c[2], c[1])
            + up(c[1], c[0])
            + up(c[0], 1)
    }

    /// Multiply–adds of encoding one frame.
    pub fn encoder_multiply_adds(&self) -> usize {
        let mut side = INPUT_SIDE;
        let mut c_in = 1;
        let mut macs = 0;
        for &c in &self.channels {
            macs += 9 * side * side * c_in * c;
            c_in = c;
            side /= 2;
        }
        macs + BOTTOM_SIDE * BOTTOM_SIDE * c_in * self.latent
    }
}

/// The autoencoder (a burn module: plain struct, backend chosen by the device of its tensors).
#[derive(Module, Debug)]
pub struct Autoencoder {
    enc1: Conv2d,
    enc2: Conv2d,
    enc3: Conv2d,
    enc4: Conv2d,
    enc5: Conv2d,
    bottleneck: Conv2d,
    unbottleneck: ConvTranspose2d,
    dec5: ConvTranspose2d,
    dec4: ConvTranspose2d,
    dec3: ConvTranspose2d,
    dec2: ConvTranspose2d,
    dec1: ConvTranspose2d,
    dropout: Dropout,
    /// M
    latent: usize,
}

impl Autoencoder {
    /// Latent dimension M.
    pub fn latent_dim(&self) -> usize {
        self.latent
    }

    /// Latent codes `[n, M]` (tanh, in (−1, 1)) of frames `[n, 1, 128, 128]`. Dropout acts only on an
    /// autodiff device.
    pub fn encode(&self, x: Tensor<4>) -> Tensor<2> {
        let n = x.dims()[0];
        let mut x = x;
        for conv in [&self.enc1, &self.enc2, &self.enc3, &self.enc4, &self.enc5] {
            x = self.dropout.forward(max_pool_2x2(relu(conv.forward(x))));
        }
        tanh(self.bottleneck.forward(x)).reshape([n, self.latent])
    }

    /// Reconstruction logits `[n, 1, 128, 128]` of latent codes `[n, M]` (sigmoid them for the image).
    pub fn decode_logits(&self, z: Tensor<2>) -> Tensor<4> {
        let n = z.dims()[0];
        let z: Tensor<4> = z.reshape([n, self.latent, 1, 1]);
        let mut x = relu(self.unbottleneck.forward(self.dropout.forward(z)));
        for up in [&self.dec5, &self.dec4, &self.dec3, &self.dec2] {
            x = relu(up.forward(self.dropout.forward(x)));
        }
        self.dec1.forward(self.dropout.forward(x))
    }

    /// Reconstruction logits of frames `[n, 1, 128, 128]` (what training compares with the input).
    pub fn forward_logits(&self, x: Tensor<4>) -> Tensor<4> {
        self.decode_logits(self.encode(x))
    }

    /// Reconstructions `[n, 1, 128, 128]` in (0, 1).
    pub fn reconstruct(&self, x: Tensor<4>) -> Tensor<4> {
        sigmoid(self.forward_logits(x))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shapes_and_cost() {
        let device = Device::flex();
        let cfg = AutoencoderConfig { channels: [2, 2, 4, 4, 4], latent: 3, dropout: 0.2 };
        cfg.validate().unwrap_or_else(|e| panic!("{e}"));
        let net = cfg.init(&device);
        let x = Tensor::<4>::zeros([2, 1, INPUT_SIDE, INPUT_SIDE], &device);
        assert_eq!(net.encode(x.clone()).dims(), [2, 3]);
        assert_eq!(net.reconstruct(x).dims(), [2, 1, INPUT_SIDE, INPUT_SIDE]);
        assert!(AutoencoderConfig { latent: 0, ..cfg }.validate().is_err());
        assert!(AutoencoderConfig { dropout: 1.0, ..cfg }.validate().is_err());
        let m = AutoencoderConfig::default().encoder_multiply_adds();
        assert!((13_000_000..16_000_000).contains(&m), "{m}");
    }
}
