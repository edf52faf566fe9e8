//! Laue-spot characterisation (Kirstein, Petrich et al., Materials 16, 3397, 2023): for every spot, a 32 × 32
//! cut-out around the peak search's pixel and five descriptors in [0, 1] — similarity to a Gaussian (the quality
//! score), sub-pixel position (two), aspect ratio and area.
//!
//! [`cutout`] — the cut-outs, with the frame edge handled · [`descriptors`] — the descriptors from our own fit
//! of α·g + β (the ground truth a network learns, and the reference it is checked against).
//!
//! Plain Rust over plain data: no file access, no threads, so it runs in wasm as natively.

pub mod cutout;
pub mod descriptors;

pub use cutout::{CUTOUT, Cutout, cutout};
pub use descriptors::{Descriptors, GoodSpot, fit_descriptors};
