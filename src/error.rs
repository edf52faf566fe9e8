//! Errors are values: each says what was wrong with the input and what was expected.
//!
//! The variants are split by domain so that a message names the file, the setting or the model it is
//! about, and so that a scan can tell "skip this point" ([`LaueError::is_input_problem`]) from "stop
//! the job" (every other variant): a bad setting, model or device fails every image alike.

use thiserror::Error;

/// The stage whose settings were refused: it starts the message ("invalid peak-search settings: …").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stage {
    /// Pattern and image simulation (energy band, detector frame, spot shapes).
    Simulation,
    /// LaueTools-style peak search (thresholds, box sizes, background kernels).
    PeakSearch,
    /// The spot-characterisation CNN (cut-outs, positions).
    SpotNetwork,
    /// Indexing (pairs, tolerances, grains to find, methods).
    Indexing,
    /// Refinement of orientation and strain.
    Refinement,
    /// Detector calibration.
    Calibration,
    /// Training of any network (learning rate, steps, batch sizes).
    Training,
    /// Raster scans (grid, file series, shards).
    Scan,
    /// Maps drawn from scan results.
    Maps,
    /// Clustering of scans (features, PCA, K).
    Clustering,
    /// The per-image pipeline's request as a whole.
    Pipeline,
}

impl std::fmt::Display for Stage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Stage::Simulation => "simulation",
            Stage::PeakSearch => "peak-search",
            Stage::SpotNetwork => "spot-network",
            Stage::Indexing => "indexing",
            Stage::Refinement => "refinement",
            Stage::Calibration => "calibration",
            Stage::Training => "training",
            Stage::Scan => "scan",
            Stage::Maps => "map",
            Stage::Clustering => "clustering",
            Stage::Pipeline => "pipeline",
        })
    }
}

/// Everything lauekit can refuse, with the input it refused.
#[derive(Debug, Error, Clone, PartialEq)]
pub enum LaueError {
    /// A lattice that cannot exist (non-positive length, impossible angles).
    #[error("invalid lattice {lattice:?}: {reason}")]
    InvalidLattice { lattice: [f64; 6], reason: String },
    /// A material name that is not in the table.
    #[error("unknown material '{0}' (known: {1})")]
    UnknownMaterial(String, String),
    /// A material definition that cannot be used (no rule, conflicting flags, a name missing); `material`
    /// names it as given.
    #[error("material '{material}': {reason}")]
    InvalidMaterial { material: String, reason: String },
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
    /// A setting of one stage that is not finite, out of range or inconsistent with another; the
    /// reason names the setting, the value given and what is expected.
    #[error("invalid {stage} settings: {reason}")]
    Settings { stage: Stage, reason: String },
    /// A request that would exceed a resource limit (memory, time, threads), refused before any
    /// allocation; `hint` says how to go beyond it when a real use may need to.
    #[error("{what} = {value} is over the limit of {limit}{}", if hint.is_empty() { String::new() } else { format!(" ({hint})") })]
    Limit { what: String, value: String, limit: String, hint: String },
    /// An image that was read but cannot be analysed (frame size, masked or non-finite content).
    #[error("{file}: {reason}")]
    Image { file: String, reason: String },
    /// A network model (weights, class table, metadata) that cannot be used; `file` names where it
    /// came from ("embedded spot network" for the shipped ones).
    #[error("model {file}: {reason}")]
    Model { file: String, reason: String },
    /// The compute device (CPU threads, WebGPU, CUDA) could not be used.
    #[error("device: {0}")]
    Device(String),
    /// A detector label that is not in the preset table.
    #[error("unknown detector '{0}' (known: {1})")]
    UnknownDetector(String, String),
    /// A file whose content is not what its format requires.
    #[error("{file}: {reason}")]
    Parse { file: String, reason: String },
    /// Reading a file failed (not found, permission, I/O).
    #[error("{file}: could not read: {reason}")]
    Read { file: String, reason: String },
    /// Writing an output failed.
    #[error("{file}: could not write: {reason}")]
    Write { file: String, reason: String },
}

impl LaueError {
    /// Shorthand for a parse error in `file`.
    pub fn parse(file: impl Into<String>, reason: impl Into<String>) -> Self {
        LaueError::Parse { file: file.into(), reason: reason.into() }
    }

    /// Shorthand for refused settings of `stage`.
    pub fn settings(stage: Stage, reason: impl Into<String>) -> Self {
        LaueError::Settings { stage, reason: reason.into() }
    }

    /// Shorthand for a model that cannot be used.
    pub fn model(file: impl Into<String>, reason: impl Into<String>) -> Self {
        LaueError::Model { file: file.into(), reason: reason.into() }
    }

    /// Shorthand for an image that cannot be analysed.
    pub fn image(file: impl Into<String>, reason: impl Into<String>) -> Self {
        LaueError::Image { file: file.into(), reason: reason.into() }
    }

    /// Shorthand for a resource limit (`hint` may be empty).
    pub fn limit(
        what: impl Into<String>,
        value: impl std::fmt::Display,
        limit: impl std::fmt::Display,
        hint: impl Into<String>,
    ) -> Self {
        LaueError::Limit {
            what: what.into(),
            value: value.to_string(),
            limit: limit.to_string(),
            hint: hint.into(),
        }
    }

    /// The message without its prefix (stage, file, "model …"): for wrapping an error into another one that
    /// names its own context (a setting refused inside a model file becomes that model's reason).
    pub fn reason(&self) -> String {
        match self {
            LaueError::Settings { reason, .. }
            | LaueError::Image { reason, .. }
            | LaueError::Model { reason, .. }
            | LaueError::Parse { reason, .. } => reason.clone(),
            other => other.to_string(),
        }
    }

    /// True when the error is about one input (its file cannot be read, parsed or analysed) rather
    /// than the settings, a model or the device: a scan marks that point failed and goes on; every
    /// other error would fail every point alike, so the job stops.
    pub fn is_input_problem(&self) -> bool {
        matches!(self, LaueError::Parse { .. } | LaueError::Read { .. } | LaueError::Image { .. })
    }
}

/// Result with [`LaueError`].
pub type Result<T> = std::result::Result<T, LaueError>;
