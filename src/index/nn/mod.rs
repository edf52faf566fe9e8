//! LaueNN: which hkl family each spot is, predicted by a dense neural network from the histogram of its
//! angular distances to the other spots (Purushottam Raj Purohit et al., J. Appl. Cryst. 55, 737, 2022).
//!
//! [`classes`] — output classes (hkl families of one or more materials) · [`features`] — angular-distance
//! histograms · [`dataset`] — simulated training data · [`model`] — the network (burn) · [`train`] —
//! training with progress and early stopping · [`predict`] — per-spot class, hkl family and confidence, and
//! their hand-over to the orientation step ([`predict::hkl_guesses`] →
//! [`crate::index::orientations_from_hkl_guesses`]).
//!
//! No file access and no threads are needed here (rayon is used natively only), so it all runs in wasm.

pub mod classes;
pub mod dataset;
pub mod features;
pub mod model;
pub mod predict;
pub mod train;

pub use classes::{ClassTable, HklClass};
pub use dataset::{Dataset, DatasetSettings, Realism, SimSpot, TrainingData, generate, simulate_image};
pub use features::{FeatureSettings, angular_histograms};
pub use model::{HklNet, NetConfig};
pub use predict::{
    EpochReport, GrainCountAccuracy, HklModel, ModelMeta, SpotPrediction, accuracy_by_grain_count,
    hkl_guesses,
};
pub use train::{BatchReport, TrainSettings, evaluate, train, train_with_batches};
