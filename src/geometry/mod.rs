//! Detector geometry (LaueTools' calibration conventions) and crystal orientations.

pub mod calibration;
pub mod orientation;

pub use calibration::{Calibration, DETECTORS, Projector, angles_to_q_unit, angles_to_uf, uf_to_angles};
pub use orientation::{euler_to_matrix, matrix_to_euler, misorientation_deg, random_rotation};
