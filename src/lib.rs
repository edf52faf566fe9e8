//! lauekit — Laue microdiffraction analysis natively and in the browser.
//!
//! Data flows through plain-Rust stages: [`crystal`] (lattices, symmetry, selection rules, materials) →
//! [`geometry`] (detector calibration, orientations) → [`simulate`] (Laue patterns and synthetic images).
//! [`io`] reads and writes LaueTools' text formats; [`device`] picks burn's compute device for the neural
//! stages; [`pipeline`] runs one image through every stage from one request, [`scan`] runs raster scans of
//! them and makes maps; [`cluster`] groups scan points by pattern similarity without indexing (PCA, K-means,
//! Bayesian mixtures, scores); `web` is the wasm-bindgen surface (wasm32 only).
//! [`refine`] calibrates the detector on the spots of a reference crystal.
//!
//! No `unwrap`/`expect` outside tests: every failure is a [`LaueError`] (tests may unwrap; `clippy.toml`).
#![deny(clippy::unwrap_used, clippy::expect_used)]

pub mod cluster;
pub mod crystal;
pub mod device;
pub mod error;
pub mod geometry;
pub mod index;
pub mod io;
pub mod limits;
pub mod peaks;
pub mod pipeline;
pub mod refine;
pub mod scan;
pub mod simulate;
pub mod spotnet;
#[cfg(target_arch = "wasm32")]
pub mod web;

pub use error::LaueError;
