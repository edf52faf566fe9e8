//! The hkl predictor network: dense, three hidden layers with ReLU and 30 % dropout, softmax output (LaueNN).
//!
//! lauetoolsnn's `model_arch_general` uses hidden layers (n_in, (15p + n_in)/2, 15p) with p = 2·n_out —
//! millions of parameters for 1200 inputs (2.66 M for its Cu model). Here the hidden sizes scale the same
//! way (first layer follows the input, the last the output) but capped so that a Cu model trains in
//! seconds on two CPU cores: [`NetConfig::for_sizes`] gives h1 = min(n_in, 512), h3 = clamp(4·n_out, 64, 512),
//! h2 = (h1 + h3)/2. The forward pass returns logits; the softmax is applied in prediction and, as
//! log-softmax, in the loss.

use burn::module::Module;
use burn::nn::{Dropout, DropoutConfig, Linear, LinearConfig};
use burn::tensor::activation::{relu, softmax};
use burn::tensor::{Device, Tensor};
use serde::{Deserialize, Serialize};

use crate::error::{LaueError, Result, Stage};

/// Layer sizes and dropout.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct NetConfig {
    pub n_in: usize,
    pub hidden: [usize; 3],
    pub n_out: usize,
    /// dropout probability after each hidden layer (LaueNN: 0.3)
    pub dropout: f64,
}

impl NetConfig {
    /// The default sizes for `n_in` histogram bins and `n_out` classes.
    pub fn for_sizes(n_in: usize, n_out: usize) -> Self {
        let h1 = n_in.clamp(16, 512);
        let h3 = (4 * n_out).clamp(64, 512);
        NetConfig { n_in, hidden: [h1, (h1 + h3) / 2, h3], n_out, dropout: 0.3 }
    }

    /// Largest width of any layer (the input is bounded by the histogram's bins, the output by the classes).
    pub const MAX_WIDTH: usize = 32_768;
    /// Largest number of weights and biases (≈ 400 MB in f32).
    pub const MAX_PARAMS: usize = 100_000_000;

    /// Checks that the network can be made: every width from 1 to [`Self::MAX_WIDTH`], at most
    /// [`Self::MAX_PARAMS`] weights (so a size read from a file cannot ask for gigabytes), dropout in [0, 1).
    pub fn validate(&self) -> Result<()> {
        let bad = |m: String| Err(LaueError::settings(Stage::Training, format!("network layers: {m}")));
        let widths = [("n_in", self.n_in), ("hidden[0]", self.hidden[0]), ("hidden[1]", self.hidden[1])]
            .into_iter()
            .chain([("hidden[2]", self.hidden[2]), ("n_out", self.n_out)]);
        for (name, w) in widths {
            if w == 0 || w > Self::MAX_WIDTH {
                return bad(format!("{name} = {w}: need 1 to {}", Self::MAX_WIDTH));
            }
        }
        // Widths ≤ 2¹⁵ keep every product below 2³¹: no overflow.
        if self.n_params() > Self::MAX_PARAMS {
            return bad(format!(
                "{} → {:?} → {} makes {} weights: at most {}",
                self.n_in,
                self.hidden,
                self.n_out,
                self.n_params(),
                Self::MAX_PARAMS
            ));
        }
        if !(self.dropout.is_finite() && (0.0..1.0).contains(&self.dropout)) {
            return bad(format!("dropout = {}: need a probability in [0, 1)", self.dropout));
        }
        Ok(())
    }

    /// The network, with random weights (check the sizes with [`Self::validate`] first).
    pub fn init(&self, device: &Device) -> HklNet {
        let [a, b, c] = self.hidden;
        // burn panics on a dropout outside [0, 1); validate() refuses one, this keeps init panic-free.
        let dropout = if (0.0..1.0).contains(&self.dropout) { self.dropout } else { 0.0 };
        HklNet {
            l1: LinearConfig::new(self.n_in, a).init(device),
            l2: LinearConfig::new(a, b).init(device),
            l3: LinearConfig::new(b, c).init(device),
            out: LinearConfig::new(c, self.n_out).init(device),
            dropout: DropoutConfig::new(dropout).init(),
        }
    }

    /// Number of weights and biases.
    pub fn n_params(&self) -> usize {
        let [a, b, c] = self.hidden;
        (self.n_in + 1) * a + (a + 1) * b + (b + 1) * c + (c + 1) * self.n_out
    }
}

/// The network (a burn module: plain struct, backend chosen by the device of its tensors).
#[derive(Module, Debug)]
pub struct HklNet {
    l1: Linear,
    l2: Linear,
    l3: Linear,
    out: Linear,
    dropout: Dropout,
}

impl HklNet {
    /// Logits `[batch, n_out]` of histograms `[batch, n_in]` (dropout is active only while training on an
    /// autodiff device).
    pub fn forward(&self, x: Tensor<2>) -> Tensor<2> {
        let x = self.dropout.forward(relu(self.l1.forward(x)));
        let x = self.dropout.forward(relu(self.l2.forward(x)));
        let x = self.dropout.forward(relu(self.l3.forward(x)));
        self.out.forward(x)
    }

    /// Class probabilities (softmax over the logits).
    pub fn probabilities(&self, x: Tensor<2>) -> Tensor<2> {
        softmax(self.forward(x), 1)
    }
}
