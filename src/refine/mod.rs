//! Refinement on matched Laue spots: detector calibration from a reference crystal ([`calibration`]:
//! LaueTools' five detector parameters and the crystal's orientation, least squares on pixel residuals),
//! over one small Levenberg–Marquardt solver ([`lm`]) meant to be shared by every refinement.
//!
//! Orientation + deviatoric strain of an indexed grain is still `index::refine` (it has its own LM loop);
//! it belongs here and can move onto [`lm`] next.

pub mod calibration;
pub mod lm;

pub use calibration::{
    CalibrationReport, CalibrationRequest, CalibrationSpot, CalibrationStep, DetectorParam, ParamSigmas,
    calibrate,
};
pub use lm::{LmFit, levenberg_marquardt};
