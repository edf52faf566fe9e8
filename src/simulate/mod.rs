//! Simulation: Laue spot patterns of grains, and synthetic detector images of them.

pub mod image;
pub mod pattern;
pub mod request;

pub use image::{ImageModel, SpotShape, SyntheticImage, render_image};
pub use pattern::{
    DetectorCut, Grain, HC_KEV_ANGSTROM, SimulationSettings, Spot, simulate_grain, simulate_grains,
};
pub use request::{SimulationRequest, SimulationResult};
