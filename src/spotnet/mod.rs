//! Laue spot characterisation by a small CNN (after Kirstein, Petrich et al., Materials 16, 3397, 2023).
//!
//! For a spot found at pixel s (LaueTools convention: x = column, y = row, first pixel centre (1, 1)),
//! the network looks at the 32 × 32 cut-out A(s) = {s_x − 16 … s_x + 15} × {s_y − 16 … s_y + 15} and
//! predicts five numbers in [0, 1] ([`descriptors`] explains them): how Gaussian the spot is (Sim), where
//! its centre is relative to s (Pos*), its aspect ratio (Asp) and its area (Area*). The ground truth for
//! training is our own fit of α·g + β (a 2D Gaussian g plus a constant) to the cut-out ([`truth`]).
//!
//! Stages, top-down: [`cutout`] (extraction, edge padding, normalisation) → [`model`] (the burn module
//! [`SpotNet`]) → [`infer`] (batched inference over an image's spots, in two layers so the browser can
//! await GPU reads) → [`descriptors`] (output floats → [`Descriptors`]) → [`positions`] (the network's
//! positions for indexing instead of the fit's). [`synth`] renders synthetic
//! spots and [`train`] builds the training set and trains. No file access here: the module compiles for
//! wasm32; the only parallel code is native-only.

pub mod cutout;
pub mod descriptors;
pub mod floor;
pub mod infer;
pub mod model;
pub mod positions;
pub mod synth;
pub mod train;
pub mod truth;

pub use cutout::{CUTOUT, Cutout, extract_cutout};
pub use descriptors::{Descriptors, GoodSpotCriteria, decode_outputs};
pub use infer::{
    characterize, embedded_spotnet, forward, input_batch, load_spotnet, load_spotnet_named, spotnet_bytes,
};
pub use model::{SpotNet, SpotNetConfig};
pub use positions::{PositionReport, PositionSource, use_cnn_positions};
pub use truth::{SpotTruth, fit_truth};
