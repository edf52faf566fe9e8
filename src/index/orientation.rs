//! Orientations from spot ↔ hkl correspondences.
//!
//! Two measured scattering directions q̂₁, q̂₂ (lab frame) assigned to two lattice planes h₁, h₂ fix the
//! rotation U with q̂ᵢ ∥ U·B0·hᵢ (TRIAD: an orthonormal frame built on each pair, the first vector exact). In
//! LaueTools' convention q_lab = UB·B0·hkl, so the unstrained UB is this U.

use nalgebra::{Matrix3, Vector3};
use serde::{Deserialize, Serialize};

use super::spots::{ExperimentalSpot, angle_deg};
use crate::crystal::{LaueGroup, Material};

/// The rotation U (lab ← crystal) with U·(B0·h1) ∥ q1 exactly and U·(B0·h2) in the plane (q1, q2).
/// `q1`, `q2`: measured directions (lab frame); `c1`, `c2`: plane normals B0·hkl (crystal frame, Å⁻¹).
/// None when either pair is (anti)parallel.
pub fn orientation_from_two_pairs(
    q1: &Vector3<f64>,
    q2: &Vector3<f64>,
    c1: &Vector3<f64>,
    c2: &Vector3<f64>,
) -> Option<Matrix3<f64>> {
    let triad = |a: &Vector3<f64>, b: &Vector3<f64>| -> Option<Matrix3<f64>> {
        let t1 = a.try_normalize(1e-12)?;
        let t2 = a.cross(b).try_normalize(1e-9)?;
        let t3 = t1.cross(&t2);
        Some(Matrix3::from_columns(&[t1, t2, t3]))
    };
    Some(triad(q1, q2)? * triad(c1, c2)?.transpose())
}

/// "Spot `spot` is the hkl (family) `hkl` with confidence `confidence`": what a predictor (the LUT pairs, or the
/// neural network of `--method nn`) says about one spot.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct HklGuess {
    /// index into the experimental spot list
    pub spot: usize,
    /// any member of the family (the class representative is fine)
    pub hkl: [i32; 3],
    /// in [0, 1]; guesses are paired strongest first
    pub confidence: f64,
}

/// A candidate orientation and the two correspondences it came from.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Candidate {
    /// rotation U (lab ← crystal); UB = U for an unstrained crystal
    pub u: Matrix3<f64>,
    /// the two spots and the hkl assigned to each
    pub spots: [usize; 2],
    pub hkls: [[i32; 3]; 2],
    /// product of the two guesses' confidences (1 for LUT pairs)
    pub confidence: f64,
}

/// All orientations consistent with pairs of hkl guesses: for each pair of guessed spots (i, j), the first
/// keeps its hkl, and every member m of the second's family whose angle to it (through B0) is within
/// `angle_tolerance_deg` of the measured angle between q̂ᵢ and q̂ⱼ gives one candidate. Symmetry makes the first
/// choice free. Guesses below `min_confidence` are ignored; at most `max_pairs` pairs, most confident first.
/// This is the entry point for any hkl predictor (e.g. `--method nn`); the LUT indexer produces the same
/// candidates from its table.
pub fn orientations_from_hkl_guesses(
    spots: &[ExperimentalSpot],
    guesses: &[HklGuess],
    material: &Material,
    angle_tolerance_deg: f64,
    min_confidence: f64,
    max_pairs: usize,
) -> Vec<Candidate> {
    let b0 = material.lattice.b0();
    let mut g: Vec<&HklGuess> =
        guesses.iter().filter(|g| g.confidence >= min_confidence && g.spot < spots.len()).collect();
    g.sort_by(|a, b| b.confidence.total_cmp(&a.confidence));
    let mut pairs: Vec<(usize, usize)> = Vec::new();
    for a in 0..g.len() {
        for b in a + 1..g.len() {
            if g[a].spot != g[b].spot {
                pairs.push((a, b));
            }
        }
    }
    pairs.sort_by(|x, y| {
        (g[y.0].confidence * g[y.1].confidence).total_cmp(&(g[x.0].confidence * g[x.1].confidence))
    });
    pairs.truncate(max_pairs);
    let mut out = Vec::new();
    for (a, b) in pairs {
        let (ga, gb) = (g[a], g[b]);
        let (qa, qb) = (&spots[ga.spot].q_unit, &spots[gb.spot].q_unit);
        let measured = angle_deg(qa, qb);
        let ca = b0 * hkl_vec(ga.hkl);
        for m in LaueGroup::equivalent_hkls(&material.hkl_operators, gb.hkl) {
            let cm = b0 * hkl_vec(m);
            if (angle_deg(&ca, &cm) - measured).abs() > angle_tolerance_deg {
                continue;
            }
            if let Some(u) = orientation_from_two_pairs(qa, qb, &ca, &cm) {
                out.push(Candidate {
                    u,
                    spots: [ga.spot, gb.spot],
                    hkls: [ga.hkl, m],
                    confidence: ga.confidence * gb.confidence,
                });
            }
        }
    }
    out
}

pub(crate) fn hkl_vec(h: [i32; 3]) -> Vector3<f64> {
    Vector3::new(h[0] as f64, h[1] as f64, h[2] as f64)
}
