//! One image through every stage: peak search → spot network (optional) → indexing (look-up table or LaueNN)
//! → orientation and deviatoric-strain refinement, from one serde [`PipelineRequest`] to one serde
//! [`PointReport`].
//!
//! Every front end goes through here: the CLI builds a request from its flags, the page's worker from JSON,
//! a scan uses one request for every point. Nothing else assembles the stages or repeats their defaults (the
//! energy band's 5–22 keV lives in [`Band::default`]).
//!
//! Errors come as [`PipelineError`]: [`PipelineError::Point`] means "this image cannot be analysed, skip it"
//! (unreadable, empty, NaN pixels, too many maxima: [`LaueError::is_input_problem`]),
//! [`PipelineError::Job`] means "no image can be analysed with these settings,
//! stop" (bad settings, missing or unusable model). An image that is read but gives no peaks or no grain is
//! not an error: its report says so ([`PointStatus`]).

mod report;

use nalgebra::Matrix3;
use serde::{Deserialize, Serialize};

pub use report::{
    GrainReport, IndexReport, PointReport, PointStatus, SpotReport, StrainReport, StressReport,
};

use crate::crystal::{Material, MaterialCatalog, MaterialSpec};
use crate::error::{LaueError, Stage};
use crate::geometry::Calibration;
use crate::index::nn::HklModel;
use crate::index::{
    Experiment, ExperimentalSpot, IndexSettings, Method, index_spots, index_with_model, spots_from_peaks,
};
use crate::io::Frame;
use crate::peaks::{Peak, PeakSearchParams, peak_search};
use crate::spotnet::{GoodSpotCriteria, PositionReport, PositionSource, SpotNet};

/// LaueTools' default `Saturation_value` (and `Saturation_value_flatpeak`): the top of a 16-bit detector.
pub const SATURATION_16_BIT: f64 = 65535.0;

/// The peak-search settings for `frame`, with the 16-bit saturation default adapted to 32-bit frames.
///
/// LaueTools rejects every fitted peak whose amplitude reaches `Saturation_value`, 65535 by default (its
/// MarCCD and sCMOS are 16-bit). A 32-bit frame (a Pilatus' int32 counts, float images) has no such ceiling:
/// its strongest spots reach 10⁵–10⁶ counts (the ALS BaTiO3 frame: amplitudes up to 5.7 × 10⁵), and the 16-bit
/// default silently dropped all of them — the spots the indexer pairs first — so `lauekit index` without a
/// settings file found a BaTiO3 frame's grains from its weaker spots only (or none). A saturation left at
/// 65535 on a 32-bit frame is therefore read as "the 16-bit default" and raised to the detector's saturation
/// ([`crate::peaks::detector_saturation`]: the header's count cut-off, the preset's level, else none); any other
/// value is the user's and is kept.
pub fn peak_params_for_frame<'a>(
    params: &'a PeakSearchParams,
    frame: &Frame,
) -> std::borrow::Cow<'a, PeakSearchParams> {
    let ceiling = match frame.pixels {
        // The detector's own level (a PILATUS header's count cut-off, the preset's), else no ceiling.
        crate::io::Pixels::I32(_) | crate::io::Pixels::U32(_) | crate::io::Pixels::F32(_) => {
            crate::peaks::detector_saturation(frame) as f64
        }
        crate::io::Pixels::U8(_) | crate::io::Pixels::U16(_) => return std::borrow::Cow::Borrowed(params),
    };
    let default = |v: f64| v == SATURATION_16_BIT;
    if !default(params.saturation_value) && !default(params.saturation_value_flatpeak) {
        return std::borrow::Cow::Borrowed(params);
    }
    let mut p = params.clone();
    if default(p.saturation_value) {
        p.saturation_value = ceiling;
    }
    if default(p.saturation_value_flatpeak) {
        p.saturation_value_flatpeak = ceiling;
    }
    std::borrow::Cow::Owned(p)
}

/// White-beam energy band (keV).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Band {
    /// lower end (keV)
    pub emin_kev: f64,
    /// upper end (keV)
    pub emax_kev: f64,
}

impl Default for Band {
    /// BM32's band, LaueTools' default: 5–22 keV.
    fn default() -> Self {
        Band { emin_kev: 5.0, emax_kev: 22.0 }
    }
}

impl Band {
    /// The band, checked: 0 < emin < emax, both finite.
    pub fn validated(self) -> Result<Self, LaueError> {
        if self.emin_kev.is_finite()
            && self.emax_kev.is_finite()
            && self.emin_kev > 0.0
            && self.emax_kev > self.emin_kev
        {
            Ok(self)
        } else {
            Err(LaueError::settings(
                Stage::Indexing,
                format!(
                    "energy band emin–emax = {}–{} keV: need finite 0 < emin < emax",
                    self.emin_kev, self.emax_kev
                ),
            ))
        }
    }
}

/// The spot-network stage.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, Default)]
#[serde(default, deny_unknown_fields)]
pub struct SpotnetRequest {
    /// characterise every peak (Sim, size, aspect ratio, good/bad) with the spot CNN
    pub enabled: bool,
    /// which spots are "good"
    pub criteria: GoodSpotCriteria,
}

/// The indexing and refinement stage.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct IndexRequest {
    /// `lut` (LaueTools' table of inter-plane angles) or `nn` (a LaueNN model's hkl predictions)
    pub method: Method,
    /// `nn`: the model's name (the page) or path (the CLI); resolved by the front end into [`Models`]
    pub model: Option<String>,
    /// materials: table names (`"Ge"`) or definitions (`{"name", "lattice": [a, b, c (Å), α, β, γ (deg)],
    /// "spacegroup" and/or "extinction"}`, [`MaterialSpec`]); empty with `nn`: the model's
    pub materials: Vec<MaterialSpec>,
    /// LaueTools' `[IndexRefine]` settings (grains to find, tolerances, strain refinement …)
    pub settings: IndexSettings,
    /// energy band of the simulation the grains are matched against
    pub band: Band,
    /// peak positions given to indexing: the Gaussian fit or, for the spots it calls good, the spot network's
    pub positions: PositionSource,
}

impl Default for IndexRequest {
    fn default() -> Self {
        IndexRequest {
            method: Method::Lut,
            model: None,
            materials: Vec::new(),
            settings: IndexSettings::default(),
            band: Band::default(),
            positions: PositionSource::Fit,
        }
    }
}

/// Everything to do with one image, and so with every point of a scan.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(default, deny_unknown_fields)]
pub struct PipelineRequest {
    /// LaueTools' PeakSearch settings (its keyword names)
    pub peaks: PeakSearchParams,
    /// the spot network
    pub spotnet: SpotnetRequest,
    /// indexing and refinement; None: peaks only
    pub index: Option<IndexRequest>,
    /// keep each peak's fitted values and each grain's spots in the report (off in scans: results, not lists)
    pub keep_spots: bool,
    /// use a calibration whose frame size or pixel size differs from the image's (by default refused: a
    /// `.det` of another detector gives wrong angles, and a "grain" from them; [`calibration_mismatch`])
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub allow_calibration_mismatch: bool,
}

/// Why an image could not be analysed.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum PipelineError {
    /// This image cannot be analysed (unreadable, truncated, empty): mark the point failed and go on.
    #[error("{0}")]
    Point(LaueError),
    /// No image can be analysed with these settings (bad settings, missing model): stop the job.
    #[error("{0}")]
    Job(LaueError),
}

impl PipelineError {
    /// True when the job can go on with the next image.
    pub fn is_point_failure(&self) -> bool {
        matches!(self, PipelineError::Point(_))
    }

    /// The underlying error.
    pub fn error(&self) -> &LaueError {
        match self {
            PipelineError::Point(e) | PipelineError::Job(e) => e,
        }
    }

    /// Sorts a library error: problems of the input file are the point's, everything else the job's.
    pub fn classify(e: LaueError) -> Self {
        if e.is_input_problem() { PipelineError::Point(e) } else { PipelineError::Job(e) }
    }
}

/// The networks a request needs, loaded once per job (per worker) and shared by every image.
#[derive(Debug, Default)]
pub struct Models {
    /// the spot CNN with its device (synchronous read-back: a CPU device)
    pub spotnet: Option<(SpotNet, burn::tensor::Device)>,
    /// the LaueNN hkl model (`method = nn`)
    pub hkl: Option<HklModel>,
}

impl Models {
    /// The networks of `request` that ship with lauekit: the embedded spot network on the CPU when the
    /// request characterises spots or indexes at the network's positions. A LaueNN model (`method = nn`)
    /// comes from a file or the page and is set by the front end in [`Models::hkl`].
    pub fn for_request(request: &PipelineRequest) -> Result<Models, LaueError> {
        let mut models = Models::default();
        if request.needs_spotnet() {
            let device = crate::device::cpu().device;
            models.spotnet = Some((crate::spotnet::embedded_spotnet(&device)?, device));
        }
        Ok(models)
    }
}

impl PipelineRequest {
    /// Whether the spot network runs: to characterise spots, or to give indexing its positions.
    pub fn needs_spotnet(&self) -> bool {
        self.spotnet.enabled || self.index.as_ref().is_some_and(|i| i.positions == PositionSource::Cnn)
    }
}

/// A request checked and resolved once per job: materials looked up, band and settings validated, the
/// networks it needs present.
#[derive(Debug, Clone)]
pub struct Prepared {
    pub request: PipelineRequest,
    /// resolved materials of the indexing stage
    pub materials: Vec<Material>,
}

impl PipelineRequest {
    /// Checks the request against the `models` at hand and resolves its materials; every error here is the
    /// job's.
    pub fn prepare(&self, models: &Models) -> Result<Prepared, LaueError> {
        self.peaks.clone().validated()?;
        let mut materials = Vec::new();
        if let Some(ix) = &self.index {
            ix.band.validated()?;
            ix.settings.validated()?;
            if !ix.method.is_searching() {
                return Err(LaueError::settings(
                    Stage::Indexing,
                    format!(
                        "indexing method '{}' is a result, not a method to ask for: use lut or nn",
                        ix.method.name()
                    ),
                ));
            }
            if ix.settings.nbgrainstofind == 0 {
                return Err(LaueError::settings(
                    Stage::Indexing,
                    "nbgrainstofind (grains to find) = 0: need at least 1",
                ));
            }
            if ix.positions == PositionSource::Cnn && models.spotnet.is_none() {
                return Err(LaueError::settings(
                    Stage::Indexing,
                    "positions = cnn needs the spot network, and none was loaded",
                ));
            }
            match ix.method {
                Method::Nn => {
                    let Some(m) = &models.hkl else {
                        return Err(LaueError::settings(
                            Stage::Indexing,
                            "method nn needs a LaueNN model (from lauekit train-index), and none was loaded",
                        ));
                    };
                    if ix.materials.is_empty() {
                        materials = m.meta.materials.clone();
                    }
                }
                Method::Lut | Method::Guess | Method::Delegate => {
                    if ix.materials.is_empty() {
                        return Err(LaueError::settings(
                            Stage::Indexing,
                            "no material: indexing with the look-up table needs at least one",
                        ));
                    }
                }
            }
            if materials.is_empty() {
                let table = MaterialCatalog::table();
                materials = ix.materials.iter().map(|m| m.resolve(&table)).collect::<Result<_, _>>()?;
            }
        }
        if self.spotnet.enabled && models.spotnet.is_none() {
            return Err(LaueError::settings(
                Stage::SpotNetwork,
                "the spot network stage is on but no network was loaded",
            ));
        }
        Ok(Prepared { request: self.clone(), materials })
    }
}

/// Runs the whole pipeline on one frame with the detector `calibration`.
pub fn run_image(
    frame: &Frame,
    calibration: &Calibration,
    job: &Prepared,
    models: &Models,
) -> Result<PointReport, PipelineError> {
    run_image_with(frame, calibration, job, models, None)
}

/// A starting orientation for an image: a grain of a material already indexed nearby (a cluster's
/// delegate, a neighbouring scan point).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GrainGuess {
    /// material name (of the request's materials, or of the materials table)
    pub material: String,
    /// LaueTools' UB (rows)
    pub ub: [[f64; 3]; 3],
}

/// As [`run_image`], but the indexing stage refines `guess` on the image's spots
/// ([`crate::index::refine_from_guess`]) instead of searching candidates: the cheap path for every member
/// of a cluster whose delegate was indexed. The request must have an indexing stage (its band, settings
/// and positions are used; its method is not). No grain when the guess does not match the image.
pub fn run_image_from_guess(
    frame: &Frame,
    calibration: &Calibration,
    job: &Prepared,
    models: &Models,
    guess: &GrainGuess,
) -> Result<PointReport, PipelineError> {
    if job.request.index.is_none() {
        return Err(PipelineError::Job(LaueError::settings(
            Stage::Pipeline,
            "refining from a starting orientation needs the request's indexing stage",
        )));
    }
    run_image_with(frame, calibration, job, models, Some(guess))
}

fn run_image_with(
    frame: &Frame,
    calibration: &Calibration,
    job: &Prepared,
    models: &Models,
    guess: Option<&GrainGuess>,
) -> Result<PointReport, PipelineError> {
    // (std::time::Instant panics in wasm: the peak search's clock works in both.)
    let t0 = crate::peaks::now();
    let req = &job.request;
    if !req.allow_calibration_mismatch
        && let Some(why) = calibration_mismatch(frame, calibration)
    {
        return Err(PipelineError::Job(LaueError::settings(
            Stage::Calibration,
            format!(
                "{why}: a calibration of another detector? Calibrate on this detector, or pass \
                 --allow-calib-mismatch (request: \"allow_calibration_mismatch\": true) to use it anyway"
            ),
        )));
    }
    let intensity_sum = frame_intensity(frame);
    let params = peak_params_for_frame(&req.peaks, frame);
    let list = peak_search(frame, &params).map_err(PipelineError::classify)?;
    let mut peaks = list.peaks;
    let n_peaks = peaks.len();
    let peaks_intensity: f64 = peaks.iter().map(|p| p.intensity_sub.max(0.0)).sum();

    let descriptors = match (
        &models.spotnet,
        req.spotnet.enabled || req.index.as_ref().is_some_and(|i| i.positions == PositionSource::Cnn),
    ) {
        (Some((net, device)), true) if !peaks.is_empty() => {
            let at: Vec<(f64, f64)> = peaks.iter().map(Peak::detected_pixel).collect();
            Some(crate::spotnet::characterize(frame, &at, net, device, &req.spotnet.criteria))
        }
        _ => None,
    };
    let n_good = descriptors.as_ref().map(|d| d.iter().filter(|d| d.good).count());

    let mut positions = PositionReport::fit(n_peaks);
    let mut index = None;
    if let Some(ix) = &req.index {
        if ix.positions == PositionSource::Cnn
            && let Some(d) = &descriptors
        {
            positions = crate::spotnet::use_cnn_positions(&mut peaks, d).map_err(PipelineError::Job)?;
        }
        let spots = spots_from_peaks(&peaks, calibration);
        index = Some(match guess {
            None => index_experimental_spots(&spots, calibration, ix, job, models)?,
            Some(g) => refine_experimental_spots(&spots, calibration, ix, job, g)?,
        });
    }

    let status = if n_peaks == 0 {
        PointStatus::NoPeaks
    } else {
        match &index {
            Some(r) if r.grains.is_empty() => PointStatus::NotIndexed,
            Some(_) => PointStatus::Indexed,
            None => PointStatus::Searched,
        }
    };
    Ok(PointReport {
        status,
        n_peaks,
        intensity_sum,
        peaks_intensity,
        n_good_spots: n_good,
        positions,
        peaks: if req.keep_spots { peaks } else { Vec::new() },
        descriptors: if req.keep_spots { descriptors.unwrap_or_default() } else { Vec::new() },
        index,
        elapsed_ms: (crate::peaks::now() - t0) * 1e3,
    })
}

/// Indexes and refines a list of experimental spots (from an image's peaks, a `.dat` or a `.cor`) as the
/// request's indexing stage says: the one place where the indexers are called.
pub fn index_experimental_spots(
    spots: &[ExperimentalSpot],
    calibration: &Calibration,
    ix: &IndexRequest,
    job: &Prepared,
    models: &Models,
) -> Result<IndexReport, PipelineError> {
    let exp =
        Experiment { calibration: *calibration, emin_kev: ix.band.emin_kev, emax_kev: ix.band.emax_kev };
    let t = crate::peaks::now();
    let result = match (ix.method, &models.hkl) {
        (Method::Nn, Some(m)) => index_with_model(spots, &job.materials, m, &exp, &ix.settings),
        _ => index_spots(spots, &job.materials, &exp, &ix.settings),
    }
    .map_err(PipelineError::Job)?;
    let elapsed_ms = (crate::peaks::now() - t) * 1e3;
    Ok(IndexReport::new(
        &result,
        spots,
        &job.materials,
        &exp,
        &ix.settings,
        elapsed_ms,
        job.request.keep_spots,
    ))
}

/// Refines a starting orientation on experimental spots (the guess's material from the request's
/// materials when it is one of them, else from the table).
pub fn refine_experimental_spots(
    spots: &[ExperimentalSpot],
    calibration: &Calibration,
    ix: &IndexRequest,
    job: &Prepared,
    guess: &GrainGuess,
) -> Result<IndexReport, PipelineError> {
    let exp =
        Experiment { calibration: *calibration, emin_kev: ix.band.emin_kev, emax_kev: ix.band.emax_kev };
    let material = match job.materials.iter().find(|m| m.name == guess.material) {
        Some(m) => m.clone(),
        None => Material::from_table(&guess.material).map_err(PipelineError::Job)?,
    };
    let t = crate::peaks::now();
    let result = crate::index::refine_from_guess(spots, &material, &from_rows(&guess.ub), &exp, &ix.settings)
        .map_err(PipelineError::Job)?;
    let elapsed_ms = (crate::peaks::now() - t) * 1e3;
    Ok(IndexReport::new(
        &result,
        spots,
        std::slice::from_ref(&material),
        &exp,
        &ix.settings,
        elapsed_ms,
        job.request.keep_spots,
    ))
}

/// Why `calibration` does not belong to `frame`'s detector, if it does not: its frame size (rows × cols)
/// differs from the image's, or the pixel size the file itself records differs by more than 1 % from the
/// calibration's. Only headers that state the detector's pixel are compared (MarCCD, EDF, HDF5): TIFF and
/// PNG resolution tags are often a 72-dpi default, and a pixel size guessed from a detector preset is no
/// evidence.
pub fn calibration_mismatch(frame: &Frame, calibration: &Calibration) -> Option<String> {
    if (calibration.rows, calibration.cols) != (frame.rows, frame.cols) {
        return Some(format!(
            "the calibration's frame is {}×{} (rows×cols) but the image is {}×{}",
            calibration.rows, calibration.cols, frame.rows, frame.cols
        ));
    }
    let reliable = matches!(frame.metadata.get("format").map(String::as_str), Some("mccd" | "edf" | "hdf5"));
    let recorded = frame.metadata.get("pixel_size_file_mm").and_then(|v| v.parse::<f64>().ok());
    match recorded {
        Some(p)
            if reliable && p.is_finite() && p > 0.0 && (p - calibration.pixel_size_mm).abs() > 0.01 * p =>
        {
            Some(format!(
                "the calibration's pixel size is {} mm but the image records {p} mm",
                calibration.pixel_size_mm
            ))
        }
        _ => None,
    }
}

/// Sum of the valid, finite pixel values (counts): the "total intensity" of a map.
pub fn frame_intensity(frame: &Frame) -> f64 {
    let mut s = 0.0;
    for i in 0..frame.pixels.len() {
        let v = frame.pixels.get(i);
        if v.is_finite() && !frame.is_masked(i) {
            s += v;
        }
    }
    s
}

/// Rows of a 3 × 3 matrix.
pub fn rows(m: &Matrix3<f64>) -> [[f64; 3]; 3] {
    [0, 1, 2].map(|r| [m[(r, 0)], m[(r, 1)], m[(r, 2)]])
}

/// The matrix of rows.
pub fn from_rows(a: &[[f64; 3]; 3]) -> Matrix3<f64> {
    Matrix3::from_fn(|r, c| a[r][c])
}
