//! Errors are values: each says what was wrong with the input and what was expected.

use thiserror::Error;

/// Everything lauekit can refuse, with the input it refused.
#[derive(Debug, Error, Clone, PartialEq)]
pub enum LaueError {
    /// A lattice that cannot exist (non-positive length, impossible angles).
    #[error("invalid lattice {lattice:?}: {reason}")]
    InvalidLattice { lattice: [f64; 6], reason: String },
    /// A material name that is not in the table.
    #[error("unknown material '{0}' (known: {1})")]
    UnknownMaterial(String, String),
    /// A reflection-condition rule that could not be understood.
    #[error("invalid reflection rule '{rule}': {reason}")]
    InvalidRule { rule: String, reason: String },
    /// A space group number outside 1..=230 or one without tabulated conditions.
    #[error("space group {number}: {reason}")]
    SpaceGroup { number: u32, reason: String },
    /// A detector calibration that cannot be used.
    #[error("invalid calibration: {0}")]
    InvalidCalibration(String),
    /// An orientation (UB) matrix that cannot be used.
    #[error("invalid orientation matrix: {0}")]
    InvalidOrientation(String),
    /// Bad simulation settings (energy band, frame...).
    #[error("invalid simulation settings: {0}")]
    InvalidSettings(String),
    /// A detector label that is not in the preset table.
    #[error("unknown detector '{0}' (known: {1})")]
    UnknownDetector(String, String),
    /// A file whose content is not what its format requires.
    #[error("{file}: {reason}")]
    Parse { file: String, reason: String },
    /// Writing an output failed.
    #[error("{file}: could not write: {reason}")]
    Write { file: String, reason: String },
}

impl LaueError {
    /// Shorthand for a parse error in `file`.
    pub fn parse(file: impl Into<String>, reason: impl Into<String>) -> Self {
        LaueError::Parse { file: file.into(), reason: reason.into() }
    }
}

/// Result with [`LaueError`].
pub type Result<T> = std::result::Result<T, LaueError>;
