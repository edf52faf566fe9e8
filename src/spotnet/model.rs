//! The network of Kirstein, Petrich et al. (2023): three blocks of two 3 × 3 convolutions (each followed
//! by batch norm and ReLU) and a 2 × 2 max-pool, 32 → 64 → 128 channels (32 × 32 × 1 → 4 × 4 × 128), then
//! dense layers of 112, 56 and 22 ReLU neurons and 5 sigmoid outputs. ≈ 0.52 M parameters, ≈ 38 M
//! multiply–adds per cut-out.

use burn::module::Module;
use burn::nn::conv::{Conv2d, Conv2dConfig};
use burn::nn::pool::{MaxPool2d, MaxPool2dConfig};
use burn::nn::{BatchNorm, BatchNormConfig, Linear, LinearConfig, PaddingConfig2d};
use burn::tensor::activation::{relu, sigmoid};
use burn::tensor::{Device, Tensor};

use super::cutout::CUTOUT;

/// Channel and dense-layer sizes (the paper's by default).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SpotNetConfig {
    pub channels: [usize; 3],
    pub dense: [usize; 3],
}

impl Default for SpotNetConfig {
    fn default() -> Self {
        SpotNetConfig { channels: [32, 64, 128], dense: [112, 56, 22] }
    }
}

impl SpotNetConfig {
    pub fn init(&self, device: &Device) -> SpotNet {
        let [c1, c2, c3] = self.channels;
        let [d1, d2, d3] = self.dense;
        let side = CUTOUT / 8;
        SpotNet {
            block1: ConvBlock::new(1, c1, device),
            block2: ConvBlock::new(c1, c2, device),
            block3: ConvBlock::new(c2, c3, device),
            dense1: LinearConfig::new(c3 * side * side, d1).init(device),
            dense2: LinearConfig::new(d1, d2).init(device),
            dense3: LinearConfig::new(d2, d3).init(device),
            out: LinearConfig::new(d3, 5).init(device),
        }
    }
}

/// Two (conv 3 × 3, same padding → batch norm → ReLU) then 2 × 2 max-pool.
#[derive(Module, Debug)]
pub struct ConvBlock {
    conv1: Conv2d,
    norm1: BatchNorm,
    conv2: Conv2d,
    norm2: BatchNorm,
    pool: MaxPool2d,
}

impl ConvBlock {
    fn new(c_in: usize, c_out: usize, device: &Device) -> Self {
        let conv = |a, b| Conv2dConfig::new([a, b], [3, 3]).with_padding(PaddingConfig2d::Same).init(device);
        ConvBlock {
            conv1: conv(c_in, c_out),
            norm1: BatchNormConfig::new(c_out).init(device),
            conv2: conv(c_out, c_out),
            norm2: BatchNormConfig::new(c_out).init(device),
            pool: MaxPool2dConfig::new([2, 2]).init(),
        }
    }

    fn forward(&self, x: Tensor<4>) -> Tensor<4> {
        let x = relu(self.norm1.forward(self.conv1.forward(x)));
        let x = relu(self.norm2.forward(self.conv2.forward(x)));
        self.pool.forward(x)
    }
}

/// The spot characteriser (a burn module: plain struct, backend chosen by the device of its tensors).
#[derive(Module, Debug)]
pub struct SpotNet {
    block1: ConvBlock,
    block2: ConvBlock,
    block3: ConvBlock,
    dense1: Linear,
    dense2: Linear,
    dense3: Linear,
    out: Linear,
}

impl SpotNet {
    /// Outputs `[batch, 5]` in [0, 1] — (Sim, Pos*_x, Pos*_y, Asp, Area*) — of normalised cut-outs
    /// `[batch, 1, 32, 32]`. Batch norm uses batch statistics only on an autodiff device.
    pub fn forward(&self, x: Tensor<4>) -> Tensor<2> {
        let x = self.block3.forward(self.block2.forward(self.block1.forward(x)));
        let x: Tensor<2> = x.flatten(1, 3);
        let x = relu(self.dense1.forward(x));
        let x = relu(self.dense2.forward(x));
        let x = relu(self.dense3.forward(x));
        sigmoid(self.out.forward(x))
    }
}
