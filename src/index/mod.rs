//! Indexing: which grains (orientation matrix UB, material) explain the spots of a Laue pattern, and which hkl
//! each spot is.
//!
//! The classical method ([`index_spots`] with [`Method::Lut`]) is LaueTools' `indexingSpotsSet`: the angles
//! between the q̂'s of the most intense spot pairs are looked up in a table of inter-plane angles
//! ([`lut::AngleLut`], planes with indices up to `nlutmax` — along the longest reciprocal axis; along the
//! others as far in |G| ([`lut::index_bounds`]: l ≤ 17 for SiC-6H, whose strong spots are (h k l) with
//! l = 7…31) — tolerance `angletollut`); each consistent
//! assignment gives a candidate orientation ([`orientation::orientation_from_two_pairs`]); candidates are ranked
//! cheaply (how many of the strongest spots lie on an allowed hkl direction in the band), the best few get the
//! full matching rate ([`matching::match_spots`], tolerance `matchingrate_angle_tol`), and — unlike
//! LaueTools, which refines the first candidate that passes — the best [`REFINED_CANDIDATES`] of them
//! (those matching at least half as many spots as the best) are all refined (orientation + deviatoric
//! strain, [`refine::refine_ub`]) while the matching tolerance tightens through `list_matching_tol_angles`.
//! The grain kept is then compared with its twin and pseudo-symmetric alternatives ([`twins`]: the Σ3
//! relation, 60° about ⟨111⟩, for cubic crystals; the coincidence rotations of the lattice in general): each
//! alternative is re-aligned on the spots it matches within [`ALIGN_TOLERANCE_DEG`], and one that matches
//! more spots than the grain is refined and competes. The exchanges of near-equal cell vectors
//! ([`twins::swap_rotations`]: ZrO2's a ↔ c, whose axis is no lattice direction) and the coincidence
//! rotations are also re-aligned on the grain's own spots with their indices carried over
//! ([`aligned_by_indices`]; on dense patterns the 1.5° match picks up hundreds of spots and goes astray). A
//! winning alternative's own alternatives are scored in turn ([`ALTERNATIVE_ROUNDS`]). The accepted grain's
//! spots are removed and the search repeats for the next grain.
//!
//! **The ranking rule** (one rule for every comparison: between the refined candidates of a material,
//! between a grain and its alternatives, between materials, and between the network's and the table's
//! grains): the grain with the larger *matched spots × matching rate* wins (= matched² / simulated: more
//! spots explained, fewer simulated reflections unexplained); equal scores, the smaller RMS pixel residual
//! ([`better`]). With `--method nn` the network's candidates are scored first; a network grain whose
//! matching rate is at least [`NN_ALONE_MATCHING_RATE`] (50 %) is accepted as it is (the network's speed is
//! kept on the patterns it knows), otherwise the table's candidates are searched too and the better of the
//! two grains under the rule is kept (a crowded frame where the network's best is a 6 % GaN grain and the
//! table's a 95 % Si substrate keeps the Si).
//!
//! **Automatic widening** (per grain, bounded by [`crate::limits`]): (1) the pairs of the `nbspots_pairs`
//! most intense available spots; (2) while no grain explains half of the available spots, the pairs that
//! involve the next `nbspots_pairs` spots, then the next, up to 3 × `nbspots_pairs` spots (lower-intensity
//! seeds: the strongest spots can all be high-index reflections outside the table); (3) beyond that, in steps
//! of `nbspots_pairs`, up to the pair-spot limit ([`limits::PAIR_SPOTS`], 50 spots) while the best grain is
//! poor (less than half of the spots at a matching rate below [`POOR_MATCHING_RATE`]) or no grain passes
//! (none reaches `minimumnumbermatches` and `min_matching_rate`, or none is above chance); (4) when the best
//! grain is still poor or none passes, a table with plane indices up to `nlutmax + 2` over the pairs of the
//! 3 × `nbspots_pairs` strongest spots (within [`limits::LUT_ENTRIES`]). Only then does the search say "no
//! grain". Every candidate set stays within [`limits::CANDIDATES`]; candidates are ranked by the cheap
//! [`quick_rank`] (a cube-map look-up per spot) before any is matched.
//!
//! **Chance.** Before a grain is reported its matching rate and matched count are compared with what
//! uniformly random peaks reach for that material, geometry and spot count ([`chance`]); a grain not clearly
//! above ends the search, and each reported grain carries its chance level (`chance` in the JSON output,
//! "above chance" in `lauekit index`'s text).
//!
//! **Other hkl predictors** (the neural network of `--method nn`, in `index::nn`) plug in before the ranking:
//! they say "spot i is family/hkl c with confidence p" as [`orientation::HklGuess`]es and call
//! [`orientation::orientations_from_hkl_guesses`], which returns the same [`orientation::Candidate`]s as the
//! table; [`best_grain_from_candidates`] then ranks, matches and refines them exactly as for the LUT.
//! [`index_with_model`] is that path for a LaueNN model, in the same multi-grain loop as [`index_spots`]:
//! per grain the network predicts the families of the spots still available, confident pairs give the
//! candidates, and the look-up table competes for a grain the network gives none or a weak one for (the
//! ranking rule above; [`IndexedGrain::method`] says which found it).
//!
//! Everything here is plain computation (no files, no threads): it runs natively and in wasm.

pub mod chance;
pub mod fit_out;
pub mod lut;
pub mod matching;
pub mod nn;
pub mod orientation;
pub mod quick_rank;
pub mod refine;
pub mod spots;
pub mod twins;

use nalgebra::{Matrix3, Vector3};
use serde::{Deserialize, Serialize};

use crate::crystal::{LaueGroup, Material};
use crate::error::{LaueError, Result, Stage};
use crate::limits;
pub use matching::{Experiment, MatchedSpot, Matching, match_spots};
pub use orientation::{Candidate, HklGuess, orientation_from_two_pairs, orientations_from_hkl_guesses};
pub use spots::{ExperimentalSpot, spots_from_cor, spots_from_peaks};

/// How candidate orientations are produced.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Method {
    /// angles between spot pairs against the table of inter-plane angles
    #[default]
    Lut,
    /// hkl families predicted per spot by a LaueNN network ([`nn::HklModel`]), pairs of confident
    /// predictions → candidate orientations ([`index_with_model`])
    Nn,
    /// no candidates searched: refined on this image's spots from a given starting orientation (a
    /// cluster's indexed delegate, `lauekit cluster --refine-members`). A result, never a request's method.
    Guess,
    /// not indexed at all: the orientation of the point's cluster delegate stands for the point (Song's
    /// indexing labeler). A result, never a request's method.
    Delegate,
}

impl Method {
    /// "lut", "nn", "guess" or "delegate"
    pub fn name(self) -> &'static str {
        match self {
            Method::Lut => "lut",
            Method::Nn => "nn",
            Method::Guess => "guess",
            Method::Delegate => "delegate",
        }
    }

    /// The code of the method in a scan's HDF5 file (`grains/method`).
    pub fn code(self) -> u8 {
        match self {
            Method::Lut => 0,
            Method::Nn => 1,
            Method::Guess => 2,
            Method::Delegate => 3,
        }
    }

    /// The method of an HDF5 code ([`Method::code`]).
    pub fn from_code(code: u8) -> Option<Method> {
        [Method::Lut, Method::Nn, Method::Guess, Method::Delegate].into_iter().find(|m| m.code() == code)
    }

    /// Whether a pipeline request may ask for this method (the look-up table or the network).
    pub fn is_searching(self) -> bool {
        matches!(self, Method::Lut | Method::Nn)
    }
}

/// Indexing settings, named as in LaueTools' `.irp` files (`[IndexRefine]`); keys left out of a JSON take
/// the defaults, unknown keys are errors.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct IndexSettings {
    /// nbgrainstofind: grains to look for at most
    pub nbgrainstofind: usize,
    /// angletollut: tolerance between a measured pair angle and a table angle (deg)
    pub angletollut: f64,
    /// matchingrate angle tol: tolerance between q̂'s for the matching rate of candidates (deg)
    pub matchingrate_angle_tol: f64,
    /// list matching tol angles: the tolerances (deg) of the successive refinements; the last one gives the
    /// final spots and matching rate
    pub list_matching_tol_angles: Vec<f64>,
    /// nlutmax: largest plane index in the angle table along the longest reciprocal axis (cubic: every axis;
    /// long axes get as many more as reach the same |G|, [`lut::index_bounds`])
    pub nlutmax: i32,
    /// how many of the most intense remaining spots form the pairs looked up in the table
    pub nbspots_pairs: usize,
    /// how many of the most intense remaining spots rank the candidates
    pub nbspots_ranking: usize,
    /// how many of the best-ranked distinct candidates get the full matching rate
    pub nbcandidates_matched: usize,
    /// minimumnumbermatches: a grain needs at least this many matched spots (a peak list shorter than this,
    /// of at least [`SMALL_LIST_MIN_MATCHES`] spots, needs a grain explaining every spot:
    /// [`small_list_minimum`])
    pub minimumnumbermatches: usize,
    /// a grain needs at least this matching rate (%) after refinement
    pub min_matching_rate: f64,
    /// refine the 5 deviatoric strain components with the orientation
    pub refine_strain: bool,
    /// spots of the grains already found stay available to the next ones (twins and overlapping grains share
    /// reflections); a new grain must then be more than 1° away from every grain found of its material
    pub share_spots: bool,
    /// `--method nn`: predictions below this softmax probability are not paired
    #[serde(default = "default_nn_min_confidence")]
    pub nn_min_confidence: f64,
    /// `--method nn`: at most this many pairs of predictions (most confident first) give candidates
    #[serde(default = "default_nn_max_pairs")]
    pub nn_max_pairs: usize,
    /// `--method nn`: predict again on the spots left after each grain (histograms of fewer grains) instead of
    /// once on the whole image (default: once — as accurate on 1–10-grain Cu images and faster)
    #[serde(default = "default_nn_repredict")]
    pub nn_repredict: bool,
}

fn default_nn_min_confidence() -> f64 {
    0.5
}
fn default_nn_max_pairs() -> usize {
    300
}
fn default_nn_repredict() -> bool {
    false
}

impl Default for IndexSettings {
    /// LaueTools' settings of `dat_Ge_blanc_0000_LT_5_0.irp`, with one grain.
    fn default() -> Self {
        IndexSettings {
            nbgrainstofind: 1,
            angletollut: 0.5,
            matchingrate_angle_tol: 0.2,
            list_matching_tol_angles: vec![0.5, 0.2, 0.1],
            nlutmax: 3,
            nbspots_pairs: 10,
            nbspots_ranking: 30,
            nbcandidates_matched: 6,
            minimumnumbermatches: 6,
            min_matching_rate: 5.0,
            refine_strain: true,
            share_spots: false,
            nn_min_confidence: default_nn_min_confidence(),
            nn_max_pairs: default_nn_max_pairs(),
            nn_repredict: default_nn_repredict(),
        }
    }
}

impl IndexSettings {
    /// Checks every setting: finite, in range, within the resource limits ([`crate::limits`]). Called by
    /// every indexer and by the pipeline's request check.
    pub fn validated(&self) -> Result<()> {
        let bad = |m: String| Err(LaueError::settings(Stage::Indexing, m));
        if self.nbgrainstofind == 0 {
            return bad("nbgrainstofind (--grains) = 0: need at least 1 grain to look for".into());
        }
        limits::GRAINS.check("grains to find (nbgrainstofind, --grains)", self.nbgrainstofind as u64)?;
        let tol = |name: &str, v: f64| -> Result<()> {
            if v.is_finite() && v > 0.0 && v <= MAX_TOLERANCE_DEG {
                Ok(())
            } else {
                Err(LaueError::settings(
                    Stage::Indexing,
                    format!("{name} = {v}°: need a tolerance > 0 and ≤ {MAX_TOLERANCE_DEG}°"),
                ))
            }
        };
        tol("angletollut", self.angletollut)?;
        tol("matchingrate_angle_tol", self.matchingrate_angle_tol)?;
        if self.list_matching_tol_angles.len() > 100 {
            return bad(format!(
                "list_matching_tol_angles has {} tolerances: at most 100",
                self.list_matching_tol_angles.len()
            ));
        }
        for &t in &self.list_matching_tol_angles {
            tol("list_matching_tol_angles", t)?;
        }
        if !(1..=MAX_NLUT).contains(&self.nlutmax) {
            return bad(format!("nlutmax = {}: need 1 to {MAX_NLUT}", self.nlutmax));
        }
        if self.nbspots_pairs < 2 {
            return bad(format!(
                "nbspots_pairs (--pair-spots) = {}: need at least 2 spots",
                self.nbspots_pairs
            ));
        }
        limits::PAIR_SPOTS.check_with(
            "spots paired (nbspots_pairs, --pair-spots)",
            self.nbspots_pairs as u64,
            "LaueTools uses 10 to 30",
        )?;
        if self.nbspots_ranking == 0 || self.nbspots_ranking > 10_000 {
            return bad(format!("nbspots_ranking = {}: need 1 to 10000", self.nbspots_ranking));
        }
        if self.nbcandidates_matched == 0 || self.nbcandidates_matched > 10_000 {
            return bad(format!("nbcandidates_matched = {}: need 1 to 10000", self.nbcandidates_matched));
        }
        if !(self.min_matching_rate.is_finite() && (0.0..=100.0).contains(&self.min_matching_rate)) {
            return bad(format!("min_matching_rate = {} %: need 0 to 100", self.min_matching_rate));
        }
        if !(self.nn_min_confidence.is_finite() && (0.0..=1.0).contains(&self.nn_min_confidence)) {
            return bad(format!(
                "nn_min_confidence (--min-confidence) = {}: need a probability in [0, 1]",
                self.nn_min_confidence
            ));
        }
        if self.nn_max_pairs == 0 {
            return bad("nn_max_pairs = 0: need at least 1 pair".into());
        }
        limits::NN_PAIRS.check("pairs of network predictions (nn_max_pairs)", self.nn_max_pairs as u64)?;
        Ok(())
    }
}

/// Largest angular tolerance (deg) of any indexing setting: beyond it every table angle matches every pair.
pub const MAX_TOLERANCE_DEG: f64 = 10.0;
/// Largest plane index of the table of inter-plane angles.
pub const MAX_NLUT: i32 = 20;

/// Refuses a table of inter-plane angles that would not fit in memory: ≈ P²/|G| entries for the P
/// primitive planes within the index bounds of `nlutmax` ([`lut::index_bounds`]) and the |G| operators of
/// the Laue group.
fn check_lut_size(material: &Material, nlutmax: i32) -> Result<()> {
    let planes =
        0.83 * lut::index_bounds(material, nlutmax).iter().map(|&b| (2 * b + 1) as f64).product::<f64>();
    let ops = material.hkl_operators.len().max(1) as f64;
    limits::LUT_ENTRIES.check_estimate(
        &format!("angle-table entries for {} with nlutmax {nlutmax}", material.name),
        planes * planes / ops,
        "use a smaller nlutmax",
    )
}

/// Keeps the `keep` best candidates by the quick rank (how many of the strongest available spots they
/// explain), in their original order among equals: bounds the memory and time of pair look-ups on
/// many spots ([`limits::CANDIDATES`]).
fn prune_candidates(
    candidates: &mut Vec<Candidate>,
    spots: &[ExperimentalSpot],
    available: &[bool],
    material: &Material,
    exp: &Experiment,
    settings: &IndexSettings,
    keep: usize,
) {
    if candidates.len() <= keep {
        return;
    }
    let ranked = ranked_available(spots, available);
    let ranking_q: Vec<Vector3<f64>> =
        ranked.iter().take(settings.nbspots_ranking).map(|&i| spots[i].q_unit).collect();
    let ranker = quick_rank::QuickRanker::new(material, exp, settings.angletollut);
    let mut scored: Vec<(usize, usize)> =
        candidates.iter().enumerate().map(|(k, c)| (ranker.count(&c.u, &ranking_q), k)).collect();
    scored.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
    let mut kept: Vec<usize> = scored.into_iter().take(keep).map(|(_, k)| k).collect();
    kept.sort_unstable();
    let mut next = kept.into_iter().peekable();
    let mut k = 0;
    candidates.retain(|_| {
        let keep_this = next.peek() == Some(&k);
        if keep_this {
            next.next();
        }
        k += 1;
        keep_this
    });
}

/// One indexed grain.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IndexedGrain {
    /// name of the material
    pub material: String,
    /// LaueTools' "UB matrix in q = (UB) B0 G*" (refined, strain included)
    pub ub: Matrix3<f64>,
    /// B0 of the material (Å⁻¹)
    pub b0: Matrix3<f64>,
    /// 100 · matched / simulated at the final tolerance (%)
    pub matching_rate: f64,
    /// fundamental reflections simulated on the detector
    pub n_simulated: usize,
    /// matched spots, in peak order
    pub spots: Vec<MatchedSpot>,
    /// RMS pixel residual of the last refinement (px)
    pub rms_px: f64,
    /// which method's candidates gave this grain (`nn`, or `lut` when the network gave none)
    #[serde(default)]
    pub method: Method,
    /// what uniformly random peaks reach with the same search ([`chance`]); the grain is above its
    /// thresholds. None when not compared (a grain refined from a given orientation).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub chance: Option<chance::ChanceLevel>,
}

/// All grains found and the spots left over.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IndexResult {
    pub grains: Vec<IndexedGrain>,
    /// peaks no grain explains
    pub unindexed: Vec<usize>,
}

/// Indexes `spots` (any order; peak numbers are their positions) with the candidate `materials`: up to
/// `settings.nbgrainstofind` grains, each the best over all materials (LaueTools' look-up-table method).
pub fn index_spots(
    spots: &[ExperimentalSpot],
    materials: &[Material],
    exp: &Experiment,
    settings: &IndexSettings,
) -> Result<IndexResult> {
    search(spots, materials, exp, settings, None, true, None)
}

/// As [`index_spots`], with the candidate orientations of each grain from the hkl families `model` predicts
/// (LaueNN): per material of `materials` that the model knows (by name), the confident predictions
/// (`nn_min_confidence`) of the spots still available are paired (`nn_max_pairs`, most confident first) into
/// orientations ([`orientations_from_hkl_guesses`]) that [`best_grain_from_candidates`] ranks, matches and
/// refines as for the LUT. When the network gives no grain, or one below [`NN_ALONE_MATCHING_RATE`], the
/// look-up table's candidates are searched too and the better grain under the ranking rule ([`better`],
/// module docs) is kept; each grain says which method found it ([`IndexedGrain::method`]). The network runs on the model's device
/// (synchronous read-back: a CPU device).
pub fn index_with_model(
    spots: &[ExperimentalSpot],
    materials: &[Material],
    model: &nn::HklModel,
    exp: &Experiment,
    settings: &IndexSettings,
) -> Result<IndexResult> {
    search(spots, materials, exp, settings, Some(model), true, None)
}

/// One grain refined from a starting orientation `ub` of `material` (LaueTools' UB; e.g. the indexed
/// delegate of the image's cluster), without searching candidates: the simulated spots of `ub` are matched
/// to `spots` and the orientation (and strain, `settings.refine_strain`) refined while the tolerance tightens,
/// as for a candidate of the look-up table ([`best_grain_from_candidates`]). Orders of magnitude cheaper
/// than indexing, and right as long as the start is within the widest tolerance of
/// `list_matching_tol_angles` (0.5° by default) of the truth; no grain
/// when fewer than `minimumnumbermatches` spots or `min_matching_rate` match. The grain's method is
/// [`Method::Guess`].
pub fn refine_from_guess(
    spots: &[ExperimentalSpot],
    material: &Material,
    ub: &Matrix3<f64>,
    exp: &Experiment,
    settings: &IndexSettings,
) -> Result<IndexResult> {
    settings.validated()?;
    exp.validated()?;
    if !ub.iter().all(|v| v.is_finite()) || ub.determinant().abs() < 1e-9 {
        return Err(LaueError::settings(
            Stage::Indexing,
            "starting orientation: UB is singular or not finite",
        ));
    }
    let candidate = Candidate { u: *ub, spots: [0, 0], hkls: [[0; 3]; 2], confidence: 1.0 };
    let available = vec![true; spots.len()];
    // The start may lie a few tenths of a degree off (a gradient across the cluster): the first match is
    // made at the widest tolerance of the refinement's schedule, the schedule then tightens as usual.
    let widest =
        settings.list_matching_tol_angles.iter().copied().fold(settings.matchingrate_angle_tol, f64::max);
    let first = IndexSettings { matchingrate_angle_tol: widest, ..settings.clone() };
    let grain = best_grain(&[candidate], spots, &available, material, exp, &first, Alternatives::None)?;
    let grains: Vec<IndexedGrain> =
        grain.into_iter().map(|g| IndexedGrain { method: Method::Guess, ..g }).collect();
    let mut indexed = vec![false; spots.len()];
    for g in &grains {
        for m in &g.spots {
            if let Some(x) = indexed.get_mut(m.peak) {
                *x = true;
            }
        }
    }
    let unindexed = (0..spots.len()).filter(|&i| !indexed[i]).collect();
    Ok(IndexResult { grains, unindexed })
}

/// Fewest spots a grain may have when the whole peak list is shorter than `minimumnumbermatches`: 10
/// measured coordinates for the 3 angles of the orientation.
pub const SMALL_LIST_MIN_MATCHES: usize = 5;

/// The minimum number of matches for a peak list of `n_spots` spots when it is shorter than
/// `minimumnumbermatches` (and at least [`SMALL_LIST_MIN_MATCHES`] long): a grain must then explain every
/// spot of the list, and, as every grain of the search, be clearly above what random peaks reach
/// ([`chance`]). A grain of a sparse material on a small detector can put 5 spots on it (a PILATUS 1M with
/// its gaps: Ni, diamond, Ni-gamma at 5–22 keV), and the default minimum of 6 would report nothing for a
/// pattern that one orientation explains whole. None: the usual minimum holds.
pub fn small_list_minimum(n_spots: usize, minimumnumbermatches: usize) -> Option<usize> {
    (n_spots < minimumnumbermatches && n_spots >= SMALL_LIST_MIN_MATCHES).then_some(n_spots)
}

/// The multi-grain loop shared by both methods; with `check_chance`, a grain not clearly above the
/// matching that random peaks reach ([`chance`]) ends the search (and is not reported). A grain found by
/// the larger table of the last widening step is compared with the chance of a search with that table (more
/// candidates reach more random peaks).
fn search(
    spots: &[ExperimentalSpot],
    materials: &[Material],
    exp: &Experiment,
    settings: &IndexSettings,
    model: Option<&nn::HklModel>,
    check_chance: bool,
    max_pair_spots: Option<usize>,
) -> Result<IndexResult> {
    if materials.is_empty() {
        return Err(LaueError::settings(Stage::Indexing, "indexing needs at least one material"));
    }
    settings.validated()?;
    exp.validated()?;
    for m in materials {
        check_lut_size(m, settings.nlutmax)?;
    }
    let whole_list;
    let settings = match small_list_minimum(spots.len(), settings.minimumnumbermatches) {
        Some(n) => {
            whole_list = IndexSettings { minimumnumbermatches: n, ..settings.clone() };
            &whole_list
        }
        None => settings,
    };
    let max_candidates = limits::CANDIDATES.value() as usize;
    // Model material of each requested material (by name).
    let in_model: Vec<Option<usize>> = materials
        .iter()
        .map(|m| model.and_then(|md| md.meta.materials.iter().position(|x| x.name == m.name)))
        .collect();
    if model.is_some() && in_model.iter().all(Option::is_none) {
        let names: Vec<&str> =
            model.map_or(Vec::new(), |md| md.meta.materials.iter().map(|m| m.name.as_str()).collect());
        return Err(LaueError::settings(
            Stage::Indexing,
            format!("the model knows {} — none of the materials to index", names.join(", ")),
        ));
    }
    let mut luts: Vec<Option<lut::AngleLut>> = materials.iter().map(|_| None).collect();
    let mut larger_luts: Vec<Option<lut::AngleLut>> = materials.iter().map(|_| None).collect();
    let mut available = vec![true; spots.len()];
    let mut indexed = vec![false; spots.len()];
    let mut grains: Vec<IndexedGrain> = Vec::new();
    let mut candidates = Vec::new();
    let mut predictions: Option<Vec<nn::SpotPrediction>> = None;
    let step = settings.nbspots_pairs.max(2);
    // The widest pair set of the automatic widening (module docs): 3× the requested spots while the best
    // grain is weak, up to the pair-spot limit while no grain passes.
    let widest = (3 * step).max(limits::PAIR_SPOTS.value() as usize);
    // The chance trials search random peaks as widely as the reported search had when it asked.
    let widest = max_pair_spots.map_or(widest, |w| w.clamp(step, widest));
    while grains.len() < settings.nbgrainstofind {
        let ranked = ranked_available(spots, &available);
        if ranked.len() < settings.minimumnumbermatches.max(2) {
            break;
        }
        let n_available = ranked.len();
        let mut best: Option<IndexedGrain> = None;
        if let Some(md) = model {
            if predictions.is_none() || settings.nn_repredict {
                predictions = Some(predict_available(md, spots, &available)?);
            }
            let preds = predictions.as_deref().unwrap_or(&[]);
            for (material, k) in materials.iter().zip(&in_model) {
                let Some(k) = *k else { continue };
                let guesses = nn::hkl_guesses(preds, k, settings.nn_min_confidence, Some(&available));
                candidates = orientations_from_hkl_guesses(
                    spots,
                    &guesses,
                    &md.meta.materials[k],
                    settings.angletollut,
                    settings.nn_min_confidence,
                    settings.nn_max_pairs,
                );
                if let Some(mut g) =
                    grain_of_material(&mut candidates, spots, &available, material, exp, settings, &grains)?
                    && best.as_ref().is_none_or(|b| better(&g, b))
                {
                    g.method = Method::Nn;
                    best = Some(g);
                }
            }
        }
        // The table's pairs, widened step by step (module docs): the most intense `nbspots_pairs` spots
        // first, then the pairs that involve the next `nbspots_pairs`, … Each step adds only the new pairs;
        // its best grain competes with the best so far under the one ranking rule ([`better`]).
        let convincing_nn = best.as_ref().is_some_and(|g| g.matching_rate >= NN_ALONE_MATCHING_RATE);
        let strong = |b: &Option<IndexedGrain>| b.as_ref().is_some_and(|g| 2 * g.spots.len() >= n_available);
        let mut passes: Option<bool> = None; // whether `best` is above chance, once asked
        let mut tried = 0;
        let mut n_pairs = step;
        while !convincing_nn && !strong(&best) && tried < ranked.len().min(n_pairs) {
            let pair_spots = &ranked[..ranked.len().min(n_pairs)];
            for (material, table) in materials.iter().zip(luts.iter_mut()) {
                let table = table.get_or_insert_with(|| lut::AngleLut::new(material, settings.nlutmax));
                candidates.clear();
                for (a, &i) in pair_spots.iter().enumerate() {
                    for &j in &pair_spots[(a + 1).max(tried)..] {
                        table.candidates(spots, i, j, settings.angletollut, &mut candidates);
                        if candidates.len() >= 2 * max_candidates {
                            let (c, e) = (&mut candidates, exp);
                            prune_candidates(c, spots, &available, material, e, settings, max_candidates);
                        }
                    }
                }
                if let Some(g) =
                    grain_of_material(&mut candidates, spots, &available, material, exp, settings, &grains)?
                    && best.as_ref().is_none_or(|b| better(&g, b))
                {
                    best = Some(g);
                    passes = None;
                }
            }
            tried = pair_spots.len();
            if n_pairs >= widest {
                break;
            }
            if n_pairs >= 3 * step {
                // Beyond 3× only while the best grain is poor (module docs) or none passes (none found, or
                // none above chance).
                let poor = best.as_ref().is_none_or(|g| is_poor(g, n_available));
                let ok = match (&mut best, passes) {
                    _ if poor => false,
                    (None, _) => false,
                    (Some(_), Some(p)) => p,
                    (Some(g), None) => {
                        let p =
                            !check_chance || above_chance(g, materials, exp, n_available, settings, n_pairs)?;
                        passes = Some(p);
                        p
                    }
                };
                if ok {
                    break;
                }
            }
            n_pairs += step;
        }
        // Last widening step while the best grain is poor or none passes: a table with plane indices up to
        // nlutmax + 2, for patterns whose intense spots are all beyond the table (long c axes, small
        // detectors; a GaN grain whose intense spots are all (0 1 l), l = 3…9, behind a poor Si orientation
        // explaining 20 of its 109 spots). Poor grains take this step in the reported search only: the chance
        // trials (random peaks always give a poor grain) take it only when nothing passes, as before, so a
        // grain of the normal table is compared with the normal search's chance and one of the larger table
        // with a search that uses the larger table throughout (a superset of what found it).
        let larger_nlut = settings.nlutmax + 2;
        let mut from_larger_table = false;
        if !convincing_nn && larger_nlut <= MAX_NLUT {
            let poor = check_chance && best.as_ref().is_none_or(|g| is_poor(g, n_available));
            let ok = !poor
                && match (&mut best, passes) {
                    (None, _) => false,
                    (Some(_), Some(p)) => p,
                    (Some(g), None) => {
                        let p =
                            !check_chance || above_chance(g, materials, exp, n_available, settings, tried)?;
                        passes = Some(p);
                        p
                    }
                };
            if !ok {
                let pair_spots = &ranked[..ranked.len().min(3 * step)];
                for (material, table) in materials.iter().zip(larger_luts.iter_mut()) {
                    if check_lut_size(material, larger_nlut).is_err() {
                        continue;
                    }
                    let table = table.get_or_insert_with(|| lut::AngleLut::new(material, larger_nlut));
                    candidates.clear();
                    for (a, &i) in pair_spots.iter().enumerate() {
                        for &j in &pair_spots[a + 1..] {
                            table.candidates(spots, i, j, settings.angletollut, &mut candidates);
                            if candidates.len() >= 2 * max_candidates {
                                let (c, e) = (&mut candidates, exp);
                                prune_candidates(c, spots, &available, material, e, settings, max_candidates);
                            }
                        }
                    }
                    if let Some(g) = grain_of_material(
                        &mut candidates,
                        spots,
                        &available,
                        material,
                        exp,
                        settings,
                        &grains,
                    )? && best
                        .as_ref()
                        .is_none_or(|b| better(&g, b) && !same_grain_no_more_spots(&g, b, material))
                    {
                        best = Some(g);
                        passes = None;
                        from_larger_table = true;
                    }
                }
            }
        }
        let Some(mut grain) = best else { break };
        if check_chance {
            let larger = IndexSettings { nlutmax: larger_nlut, ..settings.clone() };
            let chance_settings = if from_larger_table { &larger } else { settings };
            let ok = match passes {
                Some(p) => p,
                None => {
                    let extent = if from_larger_table { 3 * step } else { tried };
                    above_chance(&mut grain, materials, exp, n_available, chance_settings, extent)?
                }
            };
            if !ok {
                break;
            }
        }
        // With shared spots the same spots are searched again: a grain that repeats one already found (within
        // 1° under its Laue group — e.g. reached through an alternative that the candidates' filter did not
        // see) means nothing new is left, and the search ends.
        if settings.share_spots
            && let Some(material) = materials.iter().find(|m| m.name == grain.material)
        {
            let sym = material.laue_group.rotations(&material.lattice)?;
            if grains.iter().any(|g| {
                g.material == grain.material
                    && crate::geometry::misorientation_deg(&g.ub, &grain.ub, &sym) < 1.0
            }) {
                break;
            }
        }
        for s in &grain.spots {
            indexed[s.peak] = true;
            if !settings.share_spots {
                available[s.peak] = false;
            }
        }
        grains.push(grain);
    }
    let unindexed = (0..spots.len()).filter(|&i| !indexed[i]).collect();
    Ok(IndexResult { grains, unindexed })
}

/// A network grain at or above this matching rate (%) is accepted without the table's candidates (module
/// docs: the ranking rule); below it the table's candidates compete with it.
pub const NN_ALONE_MATCHING_RATE: f64 = 50.0;

/// A grain is poor when it explains less than half of the available spots with a matching rate below this
/// (%): the widening then goes on (module docs). Multi-grain images give grains with a small share of the
/// spots but a high rate; pseudo-symmetric mistakes explain a third of a grain's spots at a low rate.
pub const POOR_MATCHING_RATE: f64 = 50.0;

/// Whether `g` is the grain `b` again (same material, within 1° under its Laue group and the orientation
/// ambiguities of [`twins::rotations_modulo_ambiguities`]) explaining no more
/// spots: the larger table's refinement of a grain the normal table had found differs only in its strain and
/// the reflections that strain puts on the detector (an ALS quartz grain: the same 23 spots, 132 instead of 134
/// simulated, a rate higher by 0.2 % but 0.3 px more rms), and such a grain does not replace it.
fn same_grain_no_more_spots(g: &IndexedGrain, b: &IndexedGrain, material: &Material) -> bool {
    if g.material != b.material || g.spots.len() > b.spots.len() {
        return false;
    }
    // Modulo the choices spot positions cannot decide (quartz's Dauphiné twin, BaTiO3's a/c exchange).
    let sym = twins::rotations_modulo_ambiguities(material).unwrap_or_default();
    crate::geometry::misorientation_deg(&g.ub, &b.ub, &sym) < 1.0
}

fn is_poor(g: &IndexedGrain, n_available: usize) -> bool {
    2 * g.spots.len() < n_available && g.matching_rate < POOR_MATCHING_RATE
}

/// Whether `grain` is clearly above what random peaks reach ([`chance`]): the analytic bound first, the
/// random trials only when the grain is below it; the level is stored in the grain.
fn above_chance(
    grain: &mut IndexedGrain,
    materials: &[Material],
    exp: &Experiment,
    n_available: usize,
    settings: &IndexSettings,
    pair_spots: usize,
) -> Result<bool> {
    let Some(material) = materials.iter().find(|m| m.name == grain.material) else { return Ok(true) };
    let level = match chance::chance_bound(exp, n_available, grain.n_simulated, settings) {
        Some(bound) if bound.is_exceeded_by(grain.matching_rate, grain.spots.len()) => bound,
        _ => chance::chance_level(material, exp, n_available, settings, pair_spots)?,
    };
    let ok = level.is_exceeded_by(grain.matching_rate, grain.spots.len());
    if ok {
        grain.chance = Some(level);
    }
    Ok(ok)
}

/// The best grain of one material from its candidates; with shared spots, candidates within 1° of a grain
/// already found of that material are left out.
fn grain_of_material(
    candidates: &mut Vec<Candidate>,
    spots: &[ExperimentalSpot],
    available: &[bool],
    material: &Material,
    exp: &Experiment,
    settings: &IndexSettings,
    grains: &[IndexedGrain],
) -> Result<Option<IndexedGrain>> {
    let mut found: Vec<Matrix3<f64>> = Vec::new();
    if settings.share_spots {
        let sym = material.laue_group.rotations(&material.lattice)?;
        found = grains.iter().filter(|g| g.material == material.name).map(|g| g.ub).collect();
        candidates
            .retain(|c| found.iter().all(|ub| crate::geometry::misorientation_deg(ub, &c.u, &sym) > 1.0));
    }
    best_grain(candidates, spots, available, material, exp, settings, Alternatives::Except(&found))
}

/// The network's predictions for the available spots (histograms over those spots only), numbered as in
/// `spots`.
fn predict_available(
    model: &nn::HklModel,
    spots: &[ExperimentalSpot],
    available: &[bool],
) -> Result<Vec<nn::SpotPrediction>> {
    let idx: Vec<usize> = (0..spots.len()).filter(|&i| available[i]).collect();
    let q: Vec<Vector3<f64>> = idx.iter().map(|&i| spots[i].q_unit).collect();
    let mut p = model.predict(&q)?;
    for x in &mut p {
        x.spot = idx[x.spot];
    }
    Ok(p)
}

/// Between two candidate grains (two materials, or two pair sets of one): the one that explains the pattern
/// best, whatever the order the materials were given in. The score is matched × matching rate
/// (= matched² / simulated): more spots explained, and fewer simulated reflections left unmatched. Spots alone
/// let a wrong orientation of a material with many reflections collect another grain's spots (LaueTools'
/// CuSi example: its strained Cu grain explained by Cu at 94.6 % with 35 spots — score 33 — and by a wrong
/// Si orientation at 45.5 % with 46 — score 21); the rate alone lets a material with few reflections win on a
/// part of a richer pattern (a Si grain of 100 spots at 80 % — score 80 — against a Cu orientation matching
/// 36 of them at 88 % — score 32). Equal scores: the smaller pixel residual.
fn better(a: &IndexedGrain, b: &IndexedGrain) -> bool {
    let score = |g: &IndexedGrain| g.spots.len() as f64 * g.matching_rate;
    let (sa, sb) = (score(a), score(b));
    if (sa - sb).abs() > 1e-9 * sa.max(sb) {
        return sa > sb;
    }
    a.rms_px < b.rms_px
}

/// Available spot indices, most intense first.
fn ranked_available(spots: &[ExperimentalSpot], available: &[bool]) -> Vec<usize> {
    let mut r: Vec<usize> = (0..spots.len()).filter(|&i| available[i]).collect();
    r.sort_by(|&a, &b| spots[b].intensity.total_cmp(&spots[a].intensity).then(a.cmp(&b)));
    r
}

/// From candidate orientations (LUT pairs or any hkl predictor) to one refined grain of `material`, or None
/// when none reaches `minimumnumbermatches` and `min_matching_rate`. Only the `available` spots count.
pub fn best_grain_from_candidates(
    candidates: &[Candidate],
    spots: &[ExperimentalSpot],
    available: &[bool],
    material: &Material,
    exp: &Experiment,
    settings: &IndexSettings,
) -> Result<Option<IndexedGrain>> {
    best_grain(candidates, spots, available, material, exp, settings, Alternatives::Except(&[]))
}

/// Whether [`best_grain`] scores the grain's twin and pseudo-symmetric alternatives.
#[derive(Clone, Copy)]
enum Alternatives<'a> {
    /// no (a refinement from a given orientation)
    None,
    /// yes, except those within 1° of these orientations (grains already found, when spots are shared)
    Except(&'a [Matrix3<f64>]),
}

/// [`best_grain_from_candidates`], with or without the alternatives.
fn best_grain(
    candidates: &[Candidate],
    spots: &[ExperimentalSpot],
    available: &[bool],
    material: &Material,
    exp: &Experiment,
    settings: &IndexSettings,
    alternatives: Alternatives,
) -> Result<Option<IndexedGrain>> {
    if candidates.is_empty() {
        return Ok(None);
    }
    let ranked = ranked_available(spots, available);
    let ranking_q: Vec<Vector3<f64>> =
        ranked.iter().take(settings.nbspots_ranking).map(|&i| spots[i].q_unit).collect();
    let ranker = quick_rank::QuickRanker::new(material, exp, settings.angletollut);
    let mut scored: Vec<(usize, usize)> =
        candidates.iter().enumerate().map(|(k, c)| (ranker.count(&c.u, &ranking_q), k)).collect();
    scored.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));

    // The best few distinct orientations get the full matching rate.
    let sym = material.laue_group.rotations(&material.lattice)?;
    let mut kept: Vec<Matrix3<f64>> = Vec::new();
    let mut matched: Vec<(Matching, Matrix3<f64>)> = Vec::new();
    // The quick rank saturates on dense patterns (with indices up to 12 most directions lie near some
    // reflection), so a wrong orientation that shares a third of the reflections (a Σ3 twin of the true
    // one) can outrank the true one. While the best match explains less than half of the available spots,
    // more candidates get the full matching rate (up to 5× as many; a match costs one simulation).
    let n_available = available.iter().filter(|&&a| a).count();
    let mut most = 0;
    for &(_, k) in &scored {
        if kept.len() >= settings.nbcandidates_matched
            && (kept.len() >= 5 * settings.nbcandidates_matched || 2 * most >= n_available)
        {
            break;
        }
        let u = candidates[k].u;
        if kept.iter().any(|v| crate::geometry::misorientation_deg(v, &u, &sym) < 2.0 * settings.angletollut)
        {
            continue;
        }
        kept.push(u);
        let m = match_spots(&u, material, exp, spots, available, settings.matchingrate_angle_tol)?;
        most = most.max(m.matched.len());
        matched.push((m, u));
    }
    // Never the first that passes: the candidates matching at least half as many spots as the best one
    // (up to REFINED_CANDIDATES of them, most spots first) are all refined, and the best refined grain by
    // the ranking rule ([`better`]) is kept.
    // None reaches `minimumnumbermatches` at the candidates' tolerance: they are matched again at the first
    // refinement tolerance, from which they would be refined anyway. On few spots the candidates from pairs of
    // jittered spots can all be a few tenths of a degree off (a PILATUS Ni grain of 8 spots: the six best
    // matched 5, 5, 5, 4, 2 and 1 spots at 0.2°, and no grain was reported; it is now found within 0.1°).
    let wide_tol =
        settings.list_matching_tol_angles.first().copied().unwrap_or(settings.matchingrate_angle_tol);
    if most < settings.minimumnumbermatches && wide_tol > settings.matchingrate_angle_tol {
        for (m, u) in matched.iter_mut() {
            *m = match_spots(u, material, exp, spots, available, wide_tol)?;
        }
        most = matched.iter().map(|m| m.0.matched.len()).max().unwrap_or(0);
    }
    matched.sort_by_key(|m| std::cmp::Reverse(m.0.matched.len()));
    let floor = settings.minimumnumbermatches.max(most.div_ceil(2));
    let mut best: Option<IndexedGrain> = None;
    for (m, u) in matched.into_iter().filter(|(m, _)| m.matched.len() >= floor).take(REFINED_CANDIDATES) {
        if let Some(g) = refined_grain(&u, m, spots, available, material, exp, settings)?
            && best.as_ref().is_none_or(|b| better(&g, b))
        {
            best = Some(g);
        }
    }
    let Some(mut best) = best else { return Ok(None) };
    // The twin and pseudo-symmetric alternatives of the grain (Σ3 for cubic crystals, [`twins`]) and the
    // exchanges of near-equal cell vectors ([`twins::swap_rotations`]): any that matches more spots than the
    // grain is refined and competes under the same rule. A winner's own alternatives are scored in turn (the
    // alternative of a poor first grain can be the pseudo-symmetric partner of the truth), up to
    // ALTERNATIVE_ROUNDS times.
    let (twin_set, swap_set, found) = match alternatives {
        Alternatives::Except(found) => {
            (twins::cached_rotations(material)?, twins::cached_swaps(material)?, found)
        }
        Alternatives::None => (Default::default(), Default::default(), &[][..]),
    };
    let b0 = material.lattice.b0();
    for _ in 0..ALTERNATIVE_ROUNDS {
        let mut aligned: Vec<Matrix3<f64>> = Vec::new();
        for r in twin_set.iter() {
            // An alternative may be a few degrees off (pseudo-symmetry): re-aligned (rotation only) on the spots
            // it matches within ALIGN_TOLERANCE_DEG, which finds the spots of a parent the grain does not explain.
            let u0 = best.ub * r;
            let wide = match_spots(&u0, material, exp, spots, available, ALIGN_TOLERANCE_DEG)?;
            if 2 * wide.matched.len() > best.spots.len() {
                aligned
                    .push(refine::refine_ub(&u0, &b0, exp, spots, &wide.matched, false).map_or(u0, |x| x.ub));
            }
        }
        // And every alternative re-aligned on the grain's own spots, their indices carried over: on dense
        // patterns (ZrO2: 220–330 spots within 1.5° of any orientation) the wide match goes astray.
        for r in twin_set.iter().chain(swap_set.iter()) {
            if let Some(u) = aligned_by_indices(&best, r, &b0, exp, spots) {
                aligned.push(u);
            }
        }
        let mut challengers = Vec::new();
        for u in aligned {
            if found.iter().any(|f| crate::geometry::misorientation_deg(f, &u, &sym) < 1.0)
                || crate::geometry::misorientation_deg(&best.ub, &u, &sym) < 2.0 * settings.angletollut
                || challengers.iter().any(|(_, v)| crate::geometry::misorientation_deg(v, &u, &sym) < 0.2)
            {
                continue;
            }
            let m = match_spots(&u, material, exp, spots, available, settings.matchingrate_angle_tol)?;
            if m.matched.len() > best.spots.len() {
                challengers.push((m, u));
            }
        }
        challengers.sort_by_key(|m| std::cmp::Reverse(m.0.matched.len()));
        let mut changed = false;
        for (m, u) in challengers.into_iter().take(REFINED_CANDIDATES) {
            if let Some(g) = refined_grain(&u, m, spots, available, material, exp, settings)?
                && better(&g, &best)
            {
                best = g;
                changed = true;
            }
        }
        if !changed {
            break;
        }
    }
    if settings.refine_strain {
        best = strain_checked(best, spots, available, material, exp, settings)?;
    }
    // Cubic grains are written with LaueTools' representative of the 24 equivalent UBs (so Euler angles,
    // crystal-frame strain and hkl read as in its .fit files); the pattern and the fit are unchanged.
    if matches!(material.laue_group, LaueGroup::CubicM3 | LaueGroup::CubicM3m) && best.ub.determinant() > 0.0
    {
        let (rep, t) = crate::geometry::orientation::lauetools_cubic_representative(&best.ub);
        best.ub = rep;
        for m in &mut best.spots {
            let h = nalgebra::Vector3::new(m.hkl[0], m.hkl[1], m.hkl[2]);
            let h = t * h;
            m.hkl = [h[0], h[1], h[2]];
        }
    }
    Ok(Some(best))
}

/// Fewest matched spots with which the deviatoric strain is refined with the orientation (8 parameters on
/// 2 pixel residuals per spot): below it only the orientation is (on a Pilatus 1M a Cu grain puts 7–13 spots
/// on the detector, and the strain then absorbs 0.1–0.3° of orientation error from 0.5 px of noise).
pub const MIN_SPOTS_FOR_STRAIN: usize = 16;

/// Tolerance (deg) of the first match of a twin or pseudo-symmetric alternative, on which it is re-aligned.
pub const ALIGN_TOLERANCE_DEG: f64 = 1.5;

/// Rounds of alternatives: a winning alternative's own alternatives are scored again, at most this many times.
pub const ALTERNATIVE_ROUNDS: usize = 3;

/// The alternative orientation U·R of `grain` (R in the crystal frame, [`twins`]) aligned on the grain's own
/// matched spots: each spot's indices h are carried to the alternative's, h′ = round(B0⁻¹ Rᵀ B0 h) (the
/// reflection of U·R along the same direction), kept when B0 h′ lies within [`ALIGN_TOLERANCE_DEG`] of
/// Rᵀ B0 h, and the rotation is fitted to the spots with those indices. None when fewer than half of the
/// spots carry over (the alternative is not a pseudo-symmetry of this grain) or the fit fails.
fn aligned_by_indices(
    grain: &IndexedGrain,
    r: &Matrix3<f64>,
    b0: &Matrix3<f64>,
    exp: &Experiment,
    spots: &[ExperimentalSpot],
) -> Option<Matrix3<f64>> {
    let b0_inv = b0.try_inverse()?;
    let cos_tol = ALIGN_TOLERANCE_DEG.to_radians().cos();
    let carried: Vec<MatchedSpot> = grain
        .spots
        .iter()
        .filter_map(|m| {
            let target = r.transpose() * b0 * Vector3::new(m.hkl[0] as f64, m.hkl[1] as f64, m.hkl[2] as f64);
            let x = b0_inv * target;
            let h = [x[0].round() as i32, x[1].round() as i32, x[2].round() as i32];
            let g = b0 * Vector3::new(h[0] as f64, h[1] as f64, h[2] as f64);
            let cos = g.dot(&target) / (g.norm() * target.norm());
            (h != [0, 0, 0] && cos >= cos_tol).then_some(MatchedSpot { hkl: h, ..*m })
        })
        .collect();
    if 2 * carried.len() <= grain.spots.len() {
        return None;
    }
    // From the grain's rotation alone: a strain refined on the wrong choice (a ↔ c swapped) is not carried.
    let u0 = crate::geometry::orientation::nearest_rotation(&grain.ub) * r;
    refine::refine_ub(&u0, b0, exp, spots, &carried, false).map(|x| x.ub)
}

/// Candidates of one material refined before the best is chosen (those matching at least half as many spots
/// as the best candidate, most spots first).
pub const REFINED_CANDIDATES: usize = 3;

/// One candidate `u` with its first `matching` refined while the tolerance tightens
/// (`list_matching_tol_angles`); None when the final match has fewer than `minimumnumbermatches` spots or a
/// matching rate below `min_matching_rate`.
fn refined_grain(
    u: &Matrix3<f64>,
    first: Matching,
    spots: &[ExperimentalSpot],
    available: &[bool],
    material: &Material,
    exp: &Experiment,
    settings: &IndexSettings,
) -> Result<Option<IndexedGrain>> {
    if first.matched.len() < settings.minimumnumbermatches {
        return Ok(None);
    }
    let b0 = material.lattice.b0();
    let mut ub = *u;
    // Refine while the tolerance tightens; the first round at the widest tolerance picks up the spots the
    // two-spot orientation was slightly off for.
    let mut rms = f64::NAN;
    let mut tols = settings.list_matching_tol_angles.clone();
    if tols.is_empty() {
        tols.push(settings.matchingrate_angle_tol);
    }
    let first_again = first.clone();
    let mut matching = first;
    for (round, &tol) in tols.iter().enumerate() {
        let m = match_spots(&ub, material, exp, spots, available, tol)?;
        // Rotation first on the rough orientation, strain once the match is clean and over-determined.
        let strain = settings.refine_strain && round > 0 && m.matched.len() >= MIN_SPOTS_FOR_STRAIN;
        if let Some(r) = refine::refine_ub(&ub, &b0, exp, spots, &m.matched, strain) {
            ub = r.ub;
            rms = r.rms_px;
        }
        matching = m;
    }
    let last = *tols.last().unwrap_or(&settings.matchingrate_angle_tol);
    matching = match_spots(&ub, material, exp, spots, available, last).unwrap_or(matching);
    // Strain refined on a wider tolerance's spots (≥ MIN_SPOTS_FOR_STRAIN) but too few spots left at the
    // last one: the strain was fitted on spots that do not belong to the grain, and it carries the orientation
    // with it (an ALS quartz subgrain of 13 spots came out with 1.3 × 10⁻² of strain, 0.55° from XMMLAS'
    // rotation-only fit of the same spots, 0.15° when refined without strain). Such a grain is refined again
    // from the candidate with the orientation only, as MIN_SPOTS_FOR_STRAIN says for small grains.
    if settings.refine_strain
        && matching.matched.len() < MIN_SPOTS_FOR_STRAIN
        && refine::deviatoric_strain_crystal(&ub, &b0).amax() > 1e-9
    {
        let rotation_only = IndexSettings { refine_strain: false, ..settings.clone() };
        return refined_grain(u, first_again, spots, available, material, exp, &rotation_only);
    }
    if matching.matched.len() < settings.minimumnumbermatches
        || matching.matching_rate() < settings.min_matching_rate
    {
        return Ok(None);
    }
    Ok(Some(IndexedGrain {
        material: material.name.clone(),
        ub,
        b0,
        matching_rate: matching.matching_rate(),
        n_simulated: matching.n_simulated,
        spots: matching.matched,
        rms_px: rms,
        method: Method::Lut,
        chance: None,
    }))
}

/// The strain of a grain is kept only when the spot positions ask for it.
///
/// The winner of [`best_grain`] is refined again from its nearest rotation with the orientation only (the
/// nested model), and, when that explains more spots, with the strain again from there. The strained and
/// the rotation-only grain are then compared on the union of the spots they explain: the strain is kept only
/// when it lowers the residuals there significantly ([`refine::strain_is_significant`], an F-test of the
/// nested fits at 10⁻³). Two failures this prevents:
/// - a strain that locks in away from the grain: refined from a rough candidate (a network's guess, a pair
///   0.3° off), the strain can carry the orientation away while the tolerance tightens — in a crowded GaN/Si
///   list a 107-spot GaN grain came out 0.20° off with 91 spots and 2.0 px rms, its 16 other spots left over
///   as a "second grain"; on the union those spots' residuals condemn it;
/// - a strain fitted to position noise: its 5 components take the orientation with them on a small detector
///   (simulated PILATUS 1M grains of 23–34 spots with 0.5 px of noise came out 0.10–0.14° off).
///
/// A strained grain that misses a few spots the rotation alone reaches within the tolerance (a 5 × 10⁻³
/// strain, 33 spots at 0.59 px rms against 35 at 1.18 px) keeps its strain. Only the winner pays (two or
/// three refinements).
fn strain_checked(
    grain: IndexedGrain,
    spots: &[ExperimentalSpot],
    available: &[bool],
    material: &Material,
    exp: &Experiment,
    settings: &IndexSettings,
) -> Result<IndexedGrain> {
    let b0 = material.lattice.b0();
    if refine::deviatoric_strain_crystal(&grain.ub, &b0).amax() <= 1e-9 {
        return Ok(grain);
    }
    let widest =
        settings.list_matching_tol_angles.iter().copied().fold(settings.matchingrate_angle_tol, f64::max);
    let u0 = crate::geometry::orientation::nearest_rotation(&grain.ub);
    let first = match_spots(&u0, material, exp, spots, available, widest)?;
    let rotation_only = IndexSettings { refine_strain: false, ..settings.clone() };
    let Some(rot) = refined_grain(&u0, first, spots, available, material, exp, &rotation_only)? else {
        return Ok(grain);
    };
    let method = grain.method;
    let mut strained = grain;
    if rot.spots.len() > strained.spots.len() {
        // From the rotation-only orientation the strain may find the spots it had missed.
        let again = match_spots(&rot.ub, material, exp, spots, available, widest)?;
        if let Some(g) = refined_grain(&rot.ub.clone(), again, spots, available, material, exp, settings)?
            && g.spots.len() > strained.spots.len()
        {
            strained = g;
        }
    }
    // Both models on the union of the spots they explain (a spot that they index differently is left out):
    // the strain is kept only when it is significant there. A strain that locked in away from the grain leaves
    // the spots it lost with large residuals and loses; one fitted to position noise does not pass the test.
    let mut union: Vec<MatchedSpot> = strained.spots.clone();
    for m in &rot.spots {
        match union.iter().position(|x| x.peak == m.peak) {
            None => union.push(*m),
            Some(k) if union[k].hkl != m.hkl => {
                union.swap_remove(k);
            }
            Some(_) => {}
        }
    }
    let rss_strain = refine::residual_sum_px2(&strained.ub, &b0, exp, spots, &union);
    let rss_rot = refine::residual_sum_px2(&rot.ub, &b0, exp, spots, &union);
    let mut kept =
        if refine::strain_is_significant(rss_rot, rss_strain, union.len()) { strained } else { rot };
    kept.method = method;
    Ok(kept)
}
