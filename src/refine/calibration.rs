//! Detector calibration from a reference crystal (LaueTools' `DetectorCalibration`): the five detector
//! parameters refined together with the crystal's orientation on the Laue spots of an unstrained single
//! crystal (Ge, Si…).
//!
//! **Model.** A matched spot is a measured pixel (x, y) and an hkl. Its predicted pixel is where the
//! scattered ray of q = R(ω)·UB₀·B0·hkl meets the detector of calibration (dd, xcen, ycen, xbet, xgam)
//! (LaueTools' geometry, [`crate::geometry::Projector::uf_to_pixel`]; the ray's direction does not depend on
//! the photon energy, so harmonics need no special care). The residuals are the pixel differences
//! (predicted − measured) in x and y of every matched spot; least squares (Levenberg–Marquardt,
//! [`super::lm`]) over at most eight parameters:
//!
//! | parameter | unit | meaning |
//! |---|---|---|
//! | `dd` | mm | distance from the sample to the detector plane along its normal |
//! | `xcen`, `ycen` | px | pixel of the normal's foot (x = column, y = row, LaueTools' convention) |
//! | `xbet` | deg | tilt of the detector normal from the vertical lab axis z |
//! | `xgam` | deg | in-plane rotation of the pixel axes about the normal |
//! | ω₁, ω₂, ω₃ | deg | small rotation of the crystal about the lab axes x, y, z (UB = R(ω)·UB₀) |
//!
//! Any of the five detector parameters can be fixed ([`CalibrationRequest::fixed`]); the orientation is
//! always free. The lattice is not refined (no strain): the reference crystal is taken as unstrained, and
//! a Laue pattern cannot see its lattice parameter anyway. Pixel size and frame are fixed.
//!
//! **Uncertainties.** At the solution, the covariance of the free parameters is (JᵀJ)⁻¹·s² with J the
//! Jacobian of the residuals and s² = Σ r² / (2n − p) (n spots, p free parameters); each reported
//! uncertainty is the square root of its diagonal term (1σ), 0 for a fixed parameter. It measures how well
//! the spots pin the parameters given their scatter, not systematic errors (a wrong pixel size, distortion).
//!
//! **From a rough start** (nominal distance and centre, tilts 0 — off by a few mm, tens of pixels, a degree):
//! 1. *Index* the spots at the start geometry with the look-up-table indexer ([`crate::index::index_spots`])
//!    at wide tolerances ([`CalibrationRequest::index_angle_tol_deg`], 1° by default, for the pair angles
//!    and the first matching tolerance): a wrong distance scales the angles between spots by a few %, which
//!    LaueTools' 0.5° does not always absorb. Orientation only, no strain.
//! 2. *Alternate* matching and refinement: match the simulated pattern of the current orientation and
//!    geometry to the spots (their q̂ recomputed with the current geometry) within a tolerance, fit the
//!    free parameters on those pairs, match again; when the set of pairs no longer changes, go to the next,
//!    tighter tolerance ([`CalibrationRequest::matching_tolerances_deg`], 1° → 0.5° → 0.25° → 0.1° by
//!    default). The first rounds use the spots the rough geometry already places well (near the centre);
//!    each fit brings the outer spots within reach of the next match. The last tolerance decides which
//!    spots count (0.1° keeps spots within ~2–3 px and leaves out the odd spot of another phase or a
//!    mis-fitted peak).
//! 3. *Coarse search*, only when that fails (no grain, or a final matching rate below
//!    [`CalibrationRequest::min_matching_rate`]): steps 1–2 from the start shifted on a small grid
//!    (dd ± 2 mm, xcen and ycen ± 30 px: 26 more starts, nearest first) until one reaches that matching
//!    rate; if none does, the one explaining the most spots is reported, with a warning. From a start within
//!    ±3 mm and ±50 px the grid leaves at most 1 mm and 20 px to the indexer, which tolerates that; tilts
//!    are not searched (1° of tilt moves the pattern about as much as 15 px of centre and is absorbed the
//!    same way). It costs up to 26 more indexings, so it is a fallback, not the rule: on the reference
//!    images (tests/calibrate.rs) step 1 succeeds from every corner of ±3 mm, ±50 px, ±1° but two of
//!    nw1_0000's, where the grid's first or fifth point does.
//!
//! Physical bounds: dd in (0, 1000] mm, the centre within one frame size of the frame, |xbet| < 90°. A
//! start outside them is an error that names the value; the fit never steps outside them.
//!
//! Plain computation (no files, no threads; the peak search's clock, which works in wasm too): runs natively
//! and in wasm.

use nalgebra::{Matrix3, Rotation3, Vector3};
use serde::{Deserialize, Serialize};

use super::lm::{LmFit, levenberg_marquardt};
use crate::crystal::{Material, MaterialCatalog, MaterialSpec};
use crate::error::{LaueError, Result, Stage};
use crate::geometry::Calibration;
use crate::geometry::orientation::nearest_rotation;
use crate::index::orientation::hkl_vec;
use crate::index::refine::predict_pixel;
use crate::index::{Experiment, ExperimentalSpot, IndexSettings, MatchedSpot, index_spots, match_spots};

/// Fewest matched spots a calibration is fitted on (16 residuals for at most 8 parameters).
pub const MIN_SPOTS: usize = 8;

/// Largest sample–detector distance accepted (mm).
pub const MAX_DISTANCE_MM: f64 = 1000.0;

/// One of LaueTools' five detector parameters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DetectorParam {
    /// distance (mm)
    Dd,
    /// centre column (px)
    Xcen,
    /// centre row (px)
    Ycen,
    /// tilt of the normal (deg)
    Xbet,
    /// in-plane rotation (deg)
    Xgam,
}

impl DetectorParam {
    /// The five, in LaueTools' order.
    pub const ALL: [DetectorParam; 5] = [
        DetectorParam::Dd,
        DetectorParam::Xcen,
        DetectorParam::Ycen,
        DetectorParam::Xbet,
        DetectorParam::Xgam,
    ];

    /// LaueTools' name (`dd`, `xcen`, `ycen`, `xbet`, `xgam`).
    pub fn name(self) -> &'static str {
        match self {
            DetectorParam::Dd => "dd",
            DetectorParam::Xcen => "xcen",
            DetectorParam::Ycen => "ycen",
            DetectorParam::Xbet => "xbet",
            DetectorParam::Xgam => "xgam",
        }
    }

    /// Unit of the parameter (`mm`, `px`, `deg`).
    pub fn unit(self) -> &'static str {
        match self {
            DetectorParam::Dd => "mm",
            DetectorParam::Xcen | DetectorParam::Ycen => "px",
            DetectorParam::Xbet | DetectorParam::Xgam => "deg",
        }
    }

    /// Position in `[dd, xcen, ycen, xbet, xgam]`.
    pub fn index(self) -> usize {
        self as usize
    }

    /// Parses a LaueTools name (case-insensitive).
    pub fn parse(s: &str) -> Result<Self> {
        let t = s.trim().to_ascii_lowercase();
        DetectorParam::ALL.into_iter().find(|p| p.name() == t).ok_or_else(|| {
            LaueError::settings(
                Stage::Calibration,
                format!("unknown detector parameter '{s}' (use dd, xcen, ycen, xbet, xgam)"),
            )
        })
    }

    /// Finite-difference step of the numerical Jacobian (in the parameter's unit).
    fn step(self) -> f64 {
        match self {
            DetectorParam::Dd => 1e-4,
            DetectorParam::Xcen | DetectorParam::Ycen => 1e-3,
            DetectorParam::Xbet | DetectorParam::Xgam => 1e-5,
        }
    }
}

impl std::str::FromStr for DetectorParam {
    type Err = LaueError;
    fn from_str(s: &str) -> Result<Self> {
        DetectorParam::parse(s)
    }
}

/// What to calibrate and how.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CalibrationRequest {
    /// the reference crystal: a name of the materials table (e.g. `Ge`, `Si`) or a definition
    /// ([`MaterialSpec`]: name, lattice, space group and/or rule)
    pub material: MaterialSpec,
    /// starting geometry (the nominal distance and centre, tilts 0, or a previous calibration); its pixel
    /// size and frame are kept
    pub start: Calibration,
    /// detector parameters kept at their start values
    #[serde(default)]
    pub fixed: Vec<DetectorParam>,
    /// lower end of the energy band (keV)
    #[serde(default = "default_emin")]
    pub emin_kev: f64,
    /// upper end of the energy band (keV)
    #[serde(default = "default_emax")]
    pub emax_kev: f64,
    /// tolerance of the look-up table's pair angles when indexing at the start geometry (deg)
    #[serde(default = "default_index_tol")]
    pub index_angle_tol_deg: f64,
    /// largest plane index of the look-up table
    #[serde(default = "default_nlutmax")]
    pub nlutmax: i32,
    /// the successive matching tolerances between measured and simulated q̂ (deg); the last one decides
    /// which spots the final fit uses
    #[serde(default = "default_tolerances")]
    pub matching_tolerances_deg: Vec<f64>,
    /// Levenberg–Marquardt iterations per fit at most
    #[serde(default = "default_max_iterations")]
    pub max_iterations: usize,
    /// match/fit rounds per tolerance at most (a tolerance ends earlier when the matched set is stable)
    #[serde(default = "default_max_rounds")]
    pub max_rounds: usize,
    /// below this final matching rate (%) the start counts as failed and the coarse search is tried
    #[serde(default = "default_min_rate")]
    pub min_matching_rate: f64,
    /// try the coarse grid of starts when the given start fails
    #[serde(default = "default_true")]
    pub grid_search: bool,
}

fn default_emin() -> f64 {
    5.0
}
fn default_emax() -> f64 {
    22.0
}
fn default_index_tol() -> f64 {
    1.0
}
fn default_nlutmax() -> i32 {
    3
}
fn default_tolerances() -> Vec<f64> {
    vec![1.0, 0.5, 0.25, 0.1]
}
fn default_max_iterations() -> usize {
    50
}
fn default_max_rounds() -> usize {
    8
}
fn default_min_rate() -> f64 {
    25.0
}
fn default_true() -> bool {
    true
}

impl CalibrationRequest {
    /// A request with the defaults: 5–22 keV (BM32), index at 1°, match at 1, 0.5, 0.25, 0.1°.
    pub fn new(material: impl Into<MaterialSpec>, start: Calibration) -> Self {
        CalibrationRequest {
            material: material.into(),
            start,
            fixed: Vec::new(),
            emin_kev: default_emin(),
            emax_kev: default_emax(),
            index_angle_tol_deg: default_index_tol(),
            nlutmax: default_nlutmax(),
            matching_tolerances_deg: default_tolerances(),
            max_iterations: default_max_iterations(),
            max_rounds: default_max_rounds(),
            min_matching_rate: default_min_rate(),
            grid_search: true,
        }
    }

    /// Checks the settings and the start; the errors name the value.
    pub fn validated(&self) -> Result<()> {
        let bad = |m: String| LaueError::settings(Stage::Calibration, m);
        check_physical(&self.start, "start")?;
        let (a, b) = (self.emin_kev, self.emax_kev);
        if !(a.is_finite() && b.is_finite() && a > 0.0 && b > a) {
            return Err(bad(format!(
                "energy band emin_kev–emax_kev = {a}–{b} keV: need finite 0 < emin < emax"
            )));
        }
        if !(self.index_angle_tol_deg > 0.0 && self.index_angle_tol_deg <= 5.0) {
            return Err(bad(format!(
                "index_angle_tol_deg = {}°: need a value in (0, 5]",
                self.index_angle_tol_deg
            )));
        }
        if self.matching_tolerances_deg.is_empty()
            || self.matching_tolerances_deg.iter().any(|t| !(*t > 0.0 && *t <= 5.0))
        {
            return Err(bad(format!(
                "matching_tolerances_deg = {:?}°: need one or more values in (0, 5]",
                self.matching_tolerances_deg
            )));
        }
        if !(1..=10).contains(&self.nlutmax) {
            return Err(bad(format!("nlutmax = {}: need 1..=10", self.nlutmax)));
        }
        if self.max_iterations == 0 || self.max_rounds == 0 {
            return Err(bad(format!(
                "max_iterations = {}, max_rounds = {}: need both ≥ 1",
                self.max_iterations, self.max_rounds
            )));
        }
        if DetectorParam::ALL.iter().all(|p| self.fixed.contains(p)) {
            return Err(bad("all five detector parameters are fixed: nothing to calibrate".into()));
        }
        Ok(())
    }
}

/// 1σ uncertainties of the five detector parameters (0 for a fixed one).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct ParamSigmas {
    pub distance_mm: f64,
    pub xcen_px: f64,
    pub ycen_px: f64,
    pub xbet_deg: f64,
    pub xgam_deg: f64,
}

impl ParamSigmas {
    /// `[dd, xcen, ycen, xbet, xgam]`
    pub fn values(&self) -> [f64; 5] {
        [self.distance_mm, self.xcen_px, self.ycen_px, self.xbet_deg, self.xgam_deg]
    }
}

/// One match-and-fit round.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct CalibrationStep {
    /// index of the start tried (0: the given start; 1…: the coarse grid)
    pub start: usize,
    /// matching tolerance of the round (deg)
    pub tolerance_deg: f64,
    /// spots fitted
    pub n_matched: usize,
    /// RMS pixel distance after the fit (px)
    pub rms_px: f64,
    /// `[dd, xcen, ycen, xbet, xgam]` after the fit
    pub params: [f64; 5],
    /// Levenberg–Marquardt iterations of the fit
    pub iterations: usize,
}

/// One spot of the final fit.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct CalibrationSpot {
    /// index of the spot in the input list
    pub peak: usize,
    pub hkl: [i32; 3],
    /// photon energy of the reflection (keV)
    pub energy_kev: f64,
    /// measured pixel (px)
    pub x_px: f64,
    pub y_px: f64,
    /// predicted pixel with the calibration found (px)
    pub x_theo_px: f64,
    pub y_theo_px: f64,
    /// distance predicted − measured (px)
    pub residual_px: f64,
}

/// What a calibration gives.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CalibrationReport {
    /// the material of the reference crystal
    pub material: String,
    /// the calibration found (pixel size and frame of the start)
    pub calibration: Calibration,
    /// 1σ of each detector parameter from the fit's covariance (0 when fixed)
    pub uncertainties: ParamSigmas,
    /// 1σ of the crystal's rotation about the lab x, y, z axes (deg)
    pub orientation_sigma_deg: [f64; 3],
    /// parameters that were fixed
    pub fixed: Vec<DetectorParam>,
    /// the start the request gave
    pub start: Calibration,
    /// which start succeeded (0: the given one; k ≥ 1: the k-th point of the coarse grid) and how many were
    /// tried
    pub start_used: usize,
    pub starts_tried: usize,
    /// RMS pixel distance predicted − measured over the spots used (px)
    pub rms_px: f64,
    /// mean pixel distance (LaueTools' "Mean Deviation(pixel)") (px)
    pub mean_residual_px: f64,
    /// spots in the final fit
    pub n_spots_used: usize,
    /// spots given
    pub n_peaks: usize,
    /// reflections of the crystal simulated on the detector with the final calibration
    pub n_simulated: usize,
    /// 100 · matched / simulated at the last tolerance (%)
    pub matching_rate: f64,
    /// orientation of the crystal, UB in q = UB·B0·hkl (rows), a pure rotation
    pub ub: [[f64; 3]; 3],
    /// Levenberg–Marquardt iterations over all fits
    pub iterations: usize,
    /// every match-and-fit round, in order
    pub history: Vec<CalibrationStep>,
    /// the spots of the final fit
    pub spots: Vec<CalibrationSpot>,
    /// what deserves a look (a low matching rate…)
    pub warnings: Vec<String>,
    /// time the calibration took (ms)
    pub elapsed_ms: f64,
}

impl CalibrationReport {
    /// UB as a matrix.
    pub fn ub_matrix(&self) -> Matrix3<f64> {
        Matrix3::from_fn(|r, c| self.ub[r][c])
    }
}

/// Checks that a calibration is physically sensible: finite, dd in (0, 1000] mm, the centre within one
/// frame size of the frame, |xbet| < 90°. `what` names it in the error.
pub fn check_physical(c: &Calibration, what: &str) -> Result<()> {
    let c = c.validated().map_err(|e| match e {
        LaueError::InvalidCalibration(m) => LaueError::InvalidCalibration(format!("{what}: {m}")),
        other => other,
    })?;
    if c.distance_mm > MAX_DISTANCE_MM {
        return Err(LaueError::InvalidCalibration(format!(
            "{what}: dd = {} mm is beyond {MAX_DISTANCE_MM} mm",
            c.distance_mm
        )));
    }
    let (cols, rows) = (c.cols as f64, c.rows as f64);
    if !(-cols..=2.0 * cols).contains(&c.xcen_px) || !(-rows..=2.0 * rows).contains(&c.ycen_px) {
        return Err(LaueError::InvalidCalibration(format!(
            "{what}: centre ({}, {}) px is more than a frame size ({} × {}) away from the frame",
            c.xcen_px, c.ycen_px, c.cols, c.rows
        )));
    }
    Ok(())
}

/// Calibrates the detector on the spots `(x, y, intensity)` (pixels in LaueTools' convention, any order;
/// intensity ranks them for indexing) of a reference crystal, as the module doc describes.
pub fn calibrate(spots: &[(f64, f64, f64)], request: &CalibrationRequest) -> Result<CalibrationReport> {
    let t0 = crate::peaks::now();
    request.validated()?;
    let material = request.material.resolve(&MaterialCatalog::table())?;
    if let Some((i, s)) = spots.iter().enumerate().find(|(_, s)| !(s.0.is_finite() && s.1.is_finite())) {
        return Err(LaueError::settings(
            Stage::Calibration,
            format!("spot {i} has a non-finite position ({}, {})", s.0, s.1),
        ));
    }
    if spots.len() < MIN_SPOTS {
        return Err(LaueError::settings(
            Stage::Calibration,
            format!("{} spots given: a calibration needs at least {MIN_SPOTS}", spots.len()),
        ));
    }
    let fixed: Vec<bool> = DetectorParam::ALL.iter().map(|p| request.fixed.contains(p)).collect();
    let ctx = Context { spots, material: &material, request, fixed: &fixed };

    let starts = grid_starts(&request.start, request.grid_search);
    let mut best: Option<Solution> = None;
    let mut history = Vec::new();
    let mut iterations = 0;
    let mut tried = 0;
    for (k, start) in starts.iter().enumerate() {
        tried += 1;
        let sol = ctx.attempt(start, k, &mut history, &mut iterations)?;
        if let Some(sol) = sol {
            let good = sol.matching_rate >= request.min_matching_rate;
            if best.as_ref().is_none_or(|b| sol.better_than(b)) {
                best = Some(sol);
            }
            if good {
                break;
            }
        }
    }
    let Some(sol) = best else {
        return Err(LaueError::InvalidCalibration(format!(
            "the {} pattern could not be indexed from the start {:?} (tried {tried} start(s)); check the \
             material, the start values and the peak list",
            request.material.name(),
            request.start.params()
        )));
    };
    let mut report = ctx.report(sol, history, iterations, tried);
    report.elapsed_ms = (crate::peaks::now() - t0) * 1e3;
    Ok(report)
}

/// The start, then (with `grid`) the coarse grid around it, nearest first.
/// One least-squares fit, on fixed spot–reflection pairs (`pairs`: index into `spots`, hkl), of the free
/// detector parameters of `request` (its start, fixed list and iteration limit) and the crystal's rotation,
/// from the orientation `ub`: the step [`calibrate`] repeats while the matching tightens, without indexing or
/// re-matching (e.g. to compare with LaueTools' `FitOrient.fit_on_demand_calibration` on the same pairs).
/// Returns the fit, the calibration and the refined UB; None when the fit fails (a spot leaves the detector).
pub fn fit_on_pairs(
    spots: &[(f64, f64, f64)],
    pairs: &[(usize, [i32; 3])],
    ub: &Matrix3<f64>,
    request: &CalibrationRequest,
) -> Result<Option<(LmFit, Calibration, Matrix3<f64>)>> {
    request.validated()?;
    let material = request.material.resolve(&MaterialCatalog::table())?;
    if let Some(&(peak, _)) = pairs.iter().find(|(p, _)| *p >= spots.len()) {
        return Err(LaueError::settings(
            Stage::Calibration,
            format!("a pair names spot {peak}, but there are {} spots", spots.len()),
        ));
    }
    let fixed: Vec<bool> = DetectorParam::ALL.iter().map(|p| request.fixed.contains(p)).collect();
    let ctx = Context { spots, material: &material, request, fixed: &fixed };
    let matched: Vec<MatchedSpot> = pairs
        .iter()
        .map(|&(peak, hkl)| MatchedSpot {
            peak,
            hkl,
            energy_kev: f64::NAN,
            x_theo_px: f64::NAN,
            y_theo_px: f64::NAN,
            twotheta_theo_deg: f64::NAN,
            chi_theo_deg: f64::NAN,
            angle_deg: f64::NAN,
            residual_px: f64::NAN,
        })
        .collect();
    Ok(ctx.fit(&request.start, ub, &matched))
}

fn grid_starts(start: &Calibration, grid: bool) -> Vec<Calibration> {
    let mut out = vec![*start];
    if !grid {
        return out;
    }
    let mut offsets = Vec::new();
    for dd in [0.0, -2.0, 2.0] {
        for dx in [0.0, -30.0, 30.0] {
            for dy in [0.0, -30.0, 30.0] {
                if (dd, dx, dy) != (0.0, 0.0, 0.0) {
                    offsets.push((dd, dx, dy));
                }
            }
        }
    }
    // Nearest first (2 mm of distance weighs like 30 px of centre).
    let key = |o: &(f64, f64, f64)| (o.0 / 2.0).abs() + (o.1 / 30.0).abs() + (o.2 / 30.0).abs();
    offsets.sort_by(|a, b| key(a).total_cmp(&key(b)));
    for (dd, dx, dy) in offsets {
        let c = Calibration {
            distance_mm: start.distance_mm + dd,
            xcen_px: start.xcen_px + dx,
            ycen_px: start.ycen_px + dy,
            ..*start
        };
        if check_physical(&c, "grid").is_ok() {
            out.push(c);
        }
    }
    out
}

/// A calibration found from one start.
struct Solution {
    start: usize,
    calibration: Calibration,
    ub: Matrix3<f64>,
    /// the spots of the last fit
    matched: Vec<MatchedSpot>,
    fit: LmFit,
    n_simulated: usize,
    matching_rate: f64,
}

impl Solution {
    fn rms(&self) -> f64 {
        (self.fit.cost / self.matched.len().max(1) as f64).sqrt()
    }

    /// More spots explained wins, then the lower rms.
    fn better_than(&self, other: &Solution) -> bool {
        (self.matched.len(), -self.rms()) > (other.matched.len(), -other.rms())
    }
}

/// What every start shares.
struct Context<'a> {
    spots: &'a [(f64, f64, f64)],
    material: &'a Material,
    request: &'a CalibrationRequest,
    /// per detector parameter, in LaueTools' order
    fixed: &'a [bool],
}

impl Context<'_> {
    fn experiment(&self, calibration: Calibration) -> Experiment {
        Experiment { calibration, emin_kev: self.request.emin_kev, emax_kev: self.request.emax_kev }
    }

    fn spots_at(&self, c: &Calibration) -> Vec<ExperimentalSpot> {
        self.spots.iter().map(|&(x, y, i)| ExperimentalSpot::from_pixel(x, y, i, c)).collect()
    }

    /// Index at `start`, then alternate matching and fitting through the tolerances. None when the pattern
    /// is not indexed or the matches drop below [`MIN_SPOTS`].
    fn attempt(
        &self,
        start: &Calibration,
        k: usize,
        history: &mut Vec<CalibrationStep>,
        iterations: &mut usize,
    ) -> Result<Option<Solution>> {
        let tols = &self.request.matching_tolerances_deg;
        let first_tol = tols[0];
        let settings = IndexSettings {
            nbgrainstofind: 1,
            angletollut: self.request.index_angle_tol_deg,
            matchingrate_angle_tol: first_tol,
            list_matching_tol_angles: vec![first_tol],
            nlutmax: self.request.nlutmax,
            minimumnumbermatches: MIN_SPOTS,
            min_matching_rate: 0.0,
            refine_strain: false,
            ..IndexSettings::default()
        };
        let indexed = index_spots(
            &self.spots_at(start),
            std::slice::from_ref(self.material),
            &self.experiment(*start),
            &settings,
        )?;
        let Some(grain) = indexed.grains.first() else { return Ok(None) };
        let mut ub = nearest_rotation(&grain.ub);
        let mut cal = *start;
        let mut last: Option<(Vec<MatchedSpot>, LmFit)> = None;
        for &tol in tols {
            let mut fitted_keys: Vec<(usize, [i32; 3])> = Vec::new();
            for _ in 0..self.request.max_rounds {
                let m =
                    match_spots(&ub, self.material, &self.experiment(cal), &self.spots_at(&cal), &[], tol)?;
                let keys: Vec<(usize, [i32; 3])> = m.matched.iter().map(|s| (s.peak, s.hkl)).collect();
                if keys == fitted_keys {
                    break;
                }
                if m.matched.len() < MIN_SPOTS {
                    return Ok(None);
                }
                let Some((fit, new_cal, new_ub)) = self.fit(&cal, &ub, &m.matched) else { return Ok(None) };
                *iterations += fit.iterations;
                history.push(CalibrationStep {
                    start: k,
                    tolerance_deg: tol,
                    n_matched: m.matched.len(),
                    rms_px: (fit.cost / m.matched.len() as f64).sqrt(),
                    params: new_cal.params(),
                    iterations: fit.iterations,
                });
                cal = new_cal;
                ub = new_ub;
                fitted_keys = keys;
                last = Some((m.matched, fit));
            }
        }
        let Some((matched, fit)) = last else { return Ok(None) };
        let last_tol = tols[tols.len() - 1];
        let fin =
            match_spots(&ub, self.material, &self.experiment(cal), &self.spots_at(&cal), &[], last_tol)?;
        Ok(Some(Solution {
            start: k,
            calibration: cal,
            ub,
            matched,
            fit,
            n_simulated: fin.n_simulated,
            matching_rate: fin.matching_rate(),
        }))
    }

    /// The free parameters: the unfixed detector parameters, then ω (deg).
    fn free(&self) -> Vec<DetectorParam> {
        DetectorParam::ALL.into_iter().filter(|p| !self.fixed[p.index()]).collect()
    }

    /// Calibration and crystal rotation (deg) of a parameter vector.
    fn unpack(&self, base: &Calibration, free: &[DetectorParam], p: &[f64]) -> (Calibration, Vector3<f64>) {
        let mut v = base.params();
        for (k, d) in free.iter().enumerate() {
            v[d.index()] = p[k];
        }
        let n = free.len();
        let c = Calibration {
            distance_mm: v[0],
            xcen_px: v[1],
            ycen_px: v[2],
            xbet_deg: v[3],
            xgam_deg: v[4],
            ..*base
        };
        (c, Vector3::new(p[n], p[n + 1], p[n + 2]))
    }

    /// One least-squares fit of the free parameters on `matched` from (`cal`, `ub`).
    fn fit(
        &self,
        cal: &Calibration,
        ub: &Matrix3<f64>,
        matched: &[MatchedSpot],
    ) -> Option<(LmFit, Calibration, Matrix3<f64>)> {
        let free = self.free();
        let b0 = self.material.lattice.b0();
        let g: Vec<Vector3<f64>> = matched.iter().map(|m| b0 * hkl_vec(m.hkl)).collect();
        let xy: Vec<(f64, f64)> =
            matched.iter().map(|m| (self.spots[m.peak].0, self.spots[m.peak].1)).collect();
        let residuals = |p: &[f64]| -> Option<nalgebra::DVector<f64>> {
            let (c, w) = self.unpack(cal, &free, p);
            check_physical(&c, "fit").ok()?;
            let proj = c.projector();
            let m = rotation_deg(&w) * ub;
            let mut r = nalgebra::DVector::zeros(2 * g.len());
            for (k, (h, (x, y))) in g.iter().zip(&xy).enumerate() {
                let (px, py) = predict_pixel(&proj, &(m * h))?;
                r[2 * k] = px - x;
                r[2 * k + 1] = py - y;
            }
            Some(r)
        };
        let mut p0: Vec<f64> = free.iter().map(|d| cal.params()[d.index()]).collect();
        p0.extend([0.0; 3]);
        let mut steps: Vec<f64> = free.iter().map(|d| d.step()).collect();
        steps.extend([1e-5; 3]);
        let fit = levenberg_marquardt(residuals, &p0, &steps, self.request.max_iterations)?;
        let (c, w) = self.unpack(cal, &free, &fit.params);
        Some((fit, c, rotation_deg(&w) * ub))
    }

    fn report(
        &self,
        sol: Solution,
        history: Vec<CalibrationStep>,
        iterations: usize,
        tried: usize,
    ) -> CalibrationReport {
        let free = self.free();
        let sig = sol.fit.sigmas().unwrap_or_else(|| vec![f64::NAN; free.len() + 3]);
        let mut s5 = [0.0; 5];
        for (k, d) in free.iter().enumerate() {
            s5[d.index()] = sig[k];
        }
        let n = free.len();
        let cal = sol.calibration;
        let proj = cal.projector();
        let b0 = self.material.lattice.b0();
        let spots: Vec<CalibrationSpot> = sol
            .matched
            .iter()
            .map(|m| {
                let (x, y, _) = self.spots[m.peak];
                let (xt, yt) =
                    predict_pixel(&proj, &(sol.ub * b0 * hkl_vec(m.hkl))).unwrap_or((f64::NAN, f64::NAN));
                CalibrationSpot {
                    peak: m.peak,
                    hkl: m.hkl,
                    energy_kev: m.energy_kev,
                    x_px: x,
                    y_px: y,
                    x_theo_px: xt,
                    y_theo_px: yt,
                    residual_px: (xt - x).hypot(yt - y),
                }
            })
            .collect();
        let mean = spots.iter().map(|s| s.residual_px).sum::<f64>() / spots.len().max(1) as f64;
        let mut warnings = Vec::new();
        if sol.matching_rate < self.request.min_matching_rate {
            warnings.push(format!(
                "matching rate {:.1} % is below {:.1} %: the calibration may be wrong (check the material and \
                 the start)",
                sol.matching_rate, self.request.min_matching_rate
            ));
        }
        if sig.iter().any(|s| !s.is_finite()) {
            warnings.push("the fit's covariance is singular: uncertainties are unknown".into());
        }
        CalibrationReport {
            material: self.material.name.clone(),
            calibration: cal,
            uncertainties: ParamSigmas {
                distance_mm: s5[0],
                xcen_px: s5[1],
                ycen_px: s5[2],
                xbet_deg: s5[3],
                xgam_deg: s5[4],
            },
            orientation_sigma_deg: [sig[n], sig[n + 1], sig[n + 2]],
            fixed: free_complement(&free),
            start: self.request.start,
            start_used: sol.start,
            starts_tried: tried,
            rms_px: sol.rms(),
            mean_residual_px: mean,
            n_spots_used: sol.matched.len(),
            n_peaks: self.spots.len(),
            n_simulated: sol.n_simulated,
            matching_rate: sol.matching_rate,
            ub: [0, 1, 2].map(|r| [sol.ub[(r, 0)], sol.ub[(r, 1)], sol.ub[(r, 2)]]),
            iterations,
            history,
            spots,
            warnings,
            elapsed_ms: 0.0,
        }
    }
}

/// The fixed parameters, in LaueTools' order.
fn free_complement(free: &[DetectorParam]) -> Vec<DetectorParam> {
    DetectorParam::ALL.into_iter().filter(|p| !free.contains(p)).collect()
}

/// Rotation by the vector `w` (deg) in the lab frame.
fn rotation_deg(w: &Vector3<f64>) -> Matrix3<f64> {
    Rotation3::new(w.map(f64::to_radians)).into_inner()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn marccd(dd: f64, xcen: f64, ycen: f64, xbet: f64, xgam: f64) -> Calibration {
        Calibration {
            distance_mm: dd,
            xcen_px: xcen,
            ycen_px: ycen,
            xbet_deg: xbet,
            xgam_deg: xgam,
            pixel_size_mm: 0.079142,
            rows: 2048,
            cols: 2048,
        }
    }

    #[test]
    fn parameter_names_round_trip() {
        for p in DetectorParam::ALL {
            assert_eq!(DetectorParam::parse(p.name()).unwrap(), p);
            assert_eq!(serde_json::to_string(&p).unwrap(), format!("\"{}\"", p.name()));
        }
        assert_eq!("XBET".parse::<DetectorParam>().unwrap(), DetectorParam::Xbet);
        assert!(DetectorParam::parse("tilt").unwrap_err().to_string().contains("tilt"));
    }

    #[test]
    fn request_defaults_from_json_and_bad_values() {
        let start = marccd(70.0, 1024.0, 1024.0, 0.0, 0.0);
        let j = serde_json::json!({"material": "Ge", "start": start, "fixed": ["xbet"]});
        let r: CalibrationRequest = serde_json::from_value(j).unwrap();
        assert_eq!(
            r,
            CalibrationRequest { fixed: vec![DetectorParam::Xbet], ..CalibrationRequest::new("Ge", start) }
        );
        // The band's default is the pipeline's.
        let band = crate::pipeline::Band::default();
        assert_eq!((r.emin_kev, r.emax_kev), (band.emin_kev, band.emax_kev));
        let bad = CalibrationRequest::new("Ge", marccd(-3.0, 1024.0, 1024.0, 0.0, 0.0));
        assert!(bad.validated().unwrap_err().to_string().contains("dd"));
        let far = CalibrationRequest::new("Ge", marccd(70.0, 9000.0, 1024.0, 0.0, 0.0));
        assert!(far.validated().unwrap_err().to_string().contains("centre"));
        let all =
            CalibrationRequest { fixed: DetectorParam::ALL.to_vec(), ..CalibrationRequest::new("Ge", start) };
        assert!(all.validated().unwrap_err().to_string().contains("nothing to calibrate"));
        let few = calibrate(&[(1.0, 1.0, 1.0); 3], &CalibrationRequest::new("Ge", start)).unwrap_err();
        assert!(few.to_string().contains("at least"), "{few}");
        let unknown = calibrate(&[(1.0, 1.0, 1.0); 10], &CalibrationRequest::new("Unobtainium", start));
        assert!(unknown.is_err());
    }

    /// A simulated Ge pattern, exact positions: from a start off by 2 mm, 30 px and 0.5° the fit lands on the
    /// truth to numerical precision, and with xbet, xgam fixed at the truth the other three still do.
    #[test]
    fn recovers_a_simulated_geometry() {
        let truth = marccd(70.8, 941.7, 1082.6, 0.63, -0.68);
        let ge = Material::from_table("Ge").unwrap();
        let ub = crate::geometry::euler_to_matrix([82.5, 44.1, 175.3]);
        let exp = Experiment { calibration: truth, emin_kev: 5.0, emax_kev: 22.0 };
        let sim = crate::index::matching::simulate_fundamentals(&ub, &ge, &exp).unwrap();
        let spots: Vec<(f64, f64, f64)> =
            sim.iter().map(|s| (s.x_px, s.y_px, 1e4 / (s.h * s.h + s.k * s.k + s.l * s.l) as f64)).collect();
        assert!(spots.len() > 50);
        let start = marccd(68.8, 971.7, 1052.6, 0.13, -0.18);
        let r = calibrate(&spots, &CalibrationRequest::new("Ge", start)).unwrap();
        let got = r.calibration.params();
        for (g, t) in got.iter().zip(truth.params()) {
            assert!((g - t).abs() < 1e-5, "{got:?} vs {:?}", truth.params());
        }
        assert!(
            r.rms_px < 1e-4 && r.n_spots_used == spots.len(),
            "{} px, {} spots",
            r.rms_px,
            r.n_spots_used
        );
        let fixed = CalibrationRequest {
            fixed: vec![DetectorParam::Xbet, DetectorParam::Xgam],
            ..CalibrationRequest::new("Ge", Calibration { xbet_deg: 0.63, xgam_deg: -0.68, ..start })
        };
        let r = calibrate(&spots, &fixed).unwrap();
        assert_eq!(r.fixed, vec![DetectorParam::Xbet, DetectorParam::Xgam]);
        assert_eq!((r.uncertainties.xbet_deg, r.uncertainties.xgam_deg), (0.0, 0.0));
        assert!(
            (r.calibration.distance_mm - 70.8).abs() < 1e-5 && (r.calibration.ycen_px - 1082.6).abs() < 1e-4
        );
    }
}
