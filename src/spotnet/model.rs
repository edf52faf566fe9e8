//! The spot network after Kirstein, Petrich et al. (2023): three blocks of two 3 × 3 convolutions (each
//! followed by batch norm and ReLU) and a 2 × 2 max-pool, then dense layers of 112, 56 and 22 ReLU neurons
//! and 5 sigmoid outputs. The paper's widths are 32 → 64 → 128 channels on the 32 × 32 cut-out
//! ([`SpotNetConfig::paper`], ≈ 38 M multiply–adds); the shipped network ([`SpotNetConfig::default`]) first
//! regroups the cut-out into 16 channels of 8 × 8 px (space-to-depth, no information lost) and uses 16 → 32
//! → 64 channels: ≈ 0.75 M multiply–adds, which is what makes it faster than a Gaussian fit on one CPU core.

use burn::module::Module;
use burn::nn::conv::{Conv2d, Conv2dConfig};
use burn::nn::{BatchNorm, BatchNormConfig, Linear, LinearConfig, PaddingConfig2d};
use burn::tensor::activation::{relu, sigmoid};
use burn::tensor::{Device, Tensor};
use serde::{Deserialize, Serialize};

use super::cutout::CUTOUT;
use crate::error::{LaueError, Result, Stage};

/// The network's shape: an optional space-to-depth stem, three convolution blocks, three dense layers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct SpotNetConfig {
    /// space-to-depth factor f of the stem: the 32 × 32 cut-out is regrouped, losslessly, into f² channels
    /// of (32/f) × (32/f) px before the first convolution (1 = none, the paper's network)
    pub stem: usize,
    /// output channels of the three convolution blocks
    pub channels: [usize; 3],
    /// widths of the three hidden dense layers
    pub dense: [usize; 3],
}

impl Default for SpotNetConfig {
    /// The shipped network: a 4 × 4 space-to-depth stem (16 channels of 8 × 8 px) and blocks of 16, 32 and
    /// 64 channels — ≈ 0.75 M multiply–adds per cut-out, 50× fewer than the paper's; on burn's CPU backend
    /// ≈ 25× faster (BENCHMARKS.md).
    fn default() -> Self {
        SpotNetConfig { stem: 4, channels: [16, 32, 64], dense: [112, 56, 22] }
    }
}

impl SpotNetConfig {
    /// The paper's network: no stem, 32 / 64 / 128 channels (≈ 38 M multiply–adds per cut-out).
    pub fn paper() -> Self {
        SpotNetConfig { stem: 1, channels: [32, 64, 128], dense: [112, 56, 22] }
    }

    /// Checks that the shape is buildable: a stem dividing 32 into a side that three 2 × 2 pools can
    /// halve, widths from 1 to [`Self::MAX_CHANNELS`] / [`Self::MAX_DENSE`] (bounded so that a shape read
    /// from a file cannot ask for gigabytes of weights).
    pub fn validate(&self) -> Result<()> {
        let bad = |m: String| Err(LaueError::settings(Stage::SpotNetwork, format!("network shape: {m}")));
        if ![1, 2, 4].contains(&self.stem) {
            return bad(format!("stem {}: use 1, 2 or 4", self.stem));
        }
        if let Some(c) = self.channels.iter().find(|&&c| c == 0 || c > Self::MAX_CHANNELS) {
            return bad(format!(
                "channels {} (of {:?}): every block needs 1 to {} channels",
                c,
                self.channels,
                Self::MAX_CHANNELS
            ));
        }
        if let Some(d) = self.dense.iter().find(|&&d| d == 0 || d > Self::MAX_DENSE) {
            return bad(format!(
                "dense width {} (of {:?}): every dense layer needs 1 to {} neurons",
                d,
                self.dense,
                Self::MAX_DENSE
            ));
        }
        if self.n_params() > Self::MAX_PARAMS {
            return bad(format!(
                "channels {:?}, dense {:?} with stem {} make {} weights: at most {}",
                self.channels,
                self.dense,
                self.stem,
                self.n_params(),
                Self::MAX_PARAMS
            ));
        }
        Ok(())
    }

    /// Number of weights and biases (batch-norm statistics included); the widths are those
    /// [`Self::validate`] bounds, so nothing overflows.
    pub fn n_params(&self) -> usize {
        let [c1, c2, c3] = self.channels;
        let [d1, d2, d3] = self.dense;
        let conv = |a: usize, b: usize| 9 * a * b + b;
        let block = |a: usize, b: usize| conv(a, b) + conv(b, b) + 2 * 4 * b;
        let side = CUTOUT / self.stem.max(1) / 8;
        let flat = c3 * side * side;
        block(self.input_channels(), c1)
            + block(c1, c2)
            + block(c2, c3)
            + (flat + 1) * d1
            + (d1 + 1) * d2
            + (d2 + 1) * d3
            + (d3 + 1) * 5
    }

    /// Largest number of weights (≈ 200 MB in f32; the paper's network has ≈ 0.4 M).
    pub const MAX_PARAMS: usize = 50_000_000;

    /// Largest channel count of a convolution block (the paper's widest is 128).
    pub const MAX_CHANNELS: usize = 1024;
    /// Largest width of a dense layer (the paper's widest is 112).
    pub const MAX_DENSE: usize = 4096;

    pub fn init(&self, device: &Device) -> SpotNet {
        let [c1, c2, c3] = self.channels;
        let [d1, d2, d3] = self.dense;
        let side = CUTOUT / self.stem / 8;
        SpotNet {
            stem: self.stem,
            block1: ConvBlock::new(self.input_channels(), c1, device),
            block2: ConvBlock::new(c1, c2, device),
            block3: ConvBlock::new(c2, c3, device),
            dense1: LinearConfig::new(c3 * side * side, d1).init(device),
            dense2: LinearConfig::new(d1, d2).init(device),
            dense3: LinearConfig::new(d2, d3).init(device),
            out: LinearConfig::new(d3, 5).init(device),
        }
    }

    /// Channels the first convolution sees.
    pub fn input_channels(&self) -> usize {
        self.stem * self.stem
    }

    /// Multiply–adds of one forward pass (one cut-out).
    pub fn multiply_adds(&self) -> usize {
        let mut side = CUTOUT / self.stem;
        let mut c_in = self.input_channels();
        let mut macs = 0;
        for &c in &self.channels {
            macs += 9 * side * side * (c_in * c + c * c);
            c_in = c;
            side /= 2;
        }
        let mut f = c_in * side * side;
        for &d in self.dense.iter().chain(&[5]) {
            macs += f * d;
            f = d;
        }
        macs
    }
}

/// Two (conv 3 × 3, same padding → batch norm → ReLU) then a 2 × 2 max-pool.
#[derive(Module, Debug)]
pub struct ConvBlock {
    conv1: Conv2d,
    norm1: BatchNorm,
    conv2: Conv2d,
    norm2: BatchNorm,
}

impl ConvBlock {
    fn new(c_in: usize, c_out: usize, device: &Device) -> Self {
        let conv = |a, b| Conv2dConfig::new([a, b], [3, 3]).with_padding(PaddingConfig2d::Same).init(device);
        ConvBlock {
            conv1: conv(c_in, c_out),
            norm1: BatchNormConfig::new(c_out).init(device),
            conv2: conv(c_out, c_out),
            norm2: BatchNormConfig::new(c_out).init(device),
        }
    }

    fn forward(&self, x: Tensor<4>) -> Tensor<4> {
        let x = relu(self.norm1.forward(self.conv1.forward(x)));
        let x = relu(self.norm2.forward(self.conv2.forward(x)));
        max_pool_2x2(x)
    }
}

/// Regroups `[n, c, h, w]` into `[n, c·f², h/f, w/f]`: channel (k·f + a)·f + b holds the pixels (i·f + a,
/// j·f + b) of input channel k.
pub fn space_to_depth(x: Tensor<4>, f: usize) -> Tensor<4> {
    if f == 1 {
        return x;
    }
    let [n, c, h, w] = x.dims();
    let x: Tensor<6> = x.reshape([n, c, h / f, f, w / f, f]);
    x.permute([0, 1, 3, 5, 2, 4]).reshape([n, c * f * f, h / f, w / f])
}

/// 2 × 2 max-pool with stride 2 of `[n, c, h, w]` (h, w even), as two pairwise maxima over reshaped
/// axes: the same values as burn's `MaxPool2d`, twice as fast on flex (whose pooling kernel is general).
pub fn max_pool_2x2(x: Tensor<4>) -> Tensor<4> {
    let [n, c, h, w] = x.dims();
    let x: Tensor<5> = x.reshape([n, c, h, w / 2, 2]).max_dim(4);
    let x: Tensor<5> = x.reshape([n, c, h / 2, 2, w / 2]).max_dim(3);
    x.reshape([n, c, h / 2, w / 2])
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::nn::pool::MaxPool2dConfig;
    use burn::tensor::Distribution;

    #[test]
    fn pooling_equals_burns_max_pool() {
        let device = Device::flex();
        let x = Tensor::<4>::random([3, 5, 8, 6], Distribution::Default, &device);
        let want: Vec<f32> =
            MaxPool2dConfig::new([2, 2]).init().forward(x.clone()).into_data().iter::<f32>().collect();
        let got: Vec<f32> = max_pool_2x2(x).into_data().iter::<f32>().collect();
        assert_eq!(got, want);
    }

    #[test]
    fn space_to_depth_regroups_pixels() {
        let device = Device::flex();
        let x = Tensor::<1, burn::tensor::Int>::arange(0..64, &device).float().reshape([1, 1, 8, 8]);
        let y: Vec<f32> = space_to_depth(x, 4).into_data().iter::<f32>().collect();
        // channel a·4 + b, position (i, j) = pixel (4i + a, 4j + b) = 8·(4i + a) + 4j + b
        for a in 0..4 {
            for b in 0..4 {
                for i in 0..2 {
                    for j in 0..2 {
                        let want = (8 * (4 * i + a) + 4 * j + b) as f32;
                        assert_eq!(y[((a * 4 + b) * 2 + i) * 2 + j], want);
                    }
                }
            }
        }
    }

    #[test]
    fn shapes_give_five_outputs_and_their_cost() {
        let device = Device::flex();
        let others = [SpotNetConfig { stem: 2, ..SpotNetConfig::default() }];
        for cfg in [SpotNetConfig::default(), SpotNetConfig::paper()].into_iter().chain(others) {
            cfg.validate().expect("valid");
            let y = cfg.init(&device).forward(Tensor::<4>::zeros([2, 1, 32, 32], &device));
            assert_eq!(y.dims(), [2, 5]);
        }
        // The paper's ≈ 38 M multiply–adds; ours ≈ 0.75 M.
        assert!((SpotNetConfig::paper().multiply_adds() as f64 - 38.0e6).abs() < 1.0e6);
        assert_eq!(SpotNetConfig::default().multiply_adds(), 752_062);
        assert!(SpotNetConfig { stem: 3, ..SpotNetConfig::default() }.validate().is_err());
    }
}

/// The spot characteriser (a burn module: plain struct, backend chosen by the device of its tensors).
#[derive(Module, Debug)]
pub struct SpotNet {
    /// space-to-depth factor (see [`SpotNetConfig::stem`])
    stem: usize,
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
        let x = space_to_depth(x, self.stem);
        let x = self.block3.forward(self.block2.forward(self.block1.forward(x)));
        let x: Tensor<2> = x.flatten(1, 3);
        let x = relu(self.dense1.forward(x));
        let x = relu(self.dense2.forward(x));
        let x = relu(self.dense3.forward(x));
        sigmoid(self.out.forward(x))
    }
}
