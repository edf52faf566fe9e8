//! Matching rate: simulate a grain's spots and count the experimental spots that one of them explains.
//!
//! As LaueTools' indexing: the simulated set is the grain's fundamental reflections on the detector (harmonics
//! land on the same pixel and are not counted twice); a simulated spot is matched when an experimental spot's
//! q̂ lies within an angular tolerance of its q̂; matching rate = 100 · matched / simulated.

use nalgebra::{Matrix3, Vector3};
use serde::{Deserialize, Serialize};

use super::spots::ExperimentalSpot;
use crate::crystal::Material;
use crate::error::{LaueError, Result, Stage};
use crate::geometry::Calibration;
use crate::simulate::{DetectorCut, Grain, SimulationSettings, Spot, pattern::simulate_into};

/// The white beam and detector an indexing runs in.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Experiment {
    pub calibration: Calibration,
    /// lower end of the band (keV)
    pub emin_kev: f64,
    /// upper end of the band (keV)
    pub emax_kev: f64,
}

impl Experiment {
    /// Checks the band (finite, 0 < Emin < Emax ≤ 500 keV) and the calibration.
    pub fn validated(&self) -> Result<()> {
        let (a, b) = (self.emin_kev, self.emax_kev);
        if !(a.is_finite() && b.is_finite() && a > 0.0 && b > a && b <= 500.0) {
            return Err(LaueError::settings(
                Stage::Indexing,
                format!("energy band {a}–{b} keV: need finite 0 < Emin < Emax ≤ 500 keV"),
            ));
        }
        self.calibration.validated()?;
        Ok(())
    }

    pub(crate) fn settings(&self) -> SimulationSettings {
        SimulationSettings {
            emin_kev: self.emin_kev,
            emax_kev: self.emax_kev,
            calibration: self.calibration,
            with_multiplicity: false,
            cut: DetectorCut::Frame,
        }
    }
}

/// One experimental spot explained by a simulated reflection.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct MatchedSpot {
    /// index of the spot in the experimental list (the peak number)
    pub peak: usize,
    pub hkl: [i32; 3],
    /// photon energy of the reflection (keV)
    pub energy_kev: f64,
    /// simulated pixel position (px)
    pub x_theo_px: f64,
    pub y_theo_px: f64,
    /// simulated 2θ, χ (deg)
    pub twotheta_theo_deg: f64,
    pub chi_theo_deg: f64,
    /// angle between measured and simulated q̂ (deg)
    pub angle_deg: f64,
    /// distance between measured and simulated pixel (px)
    pub residual_px: f64,
}

/// Result of matching one orientation against the spots.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Matching {
    /// fundamental reflections simulated on the detector
    pub n_simulated: usize,
    /// matched pairs, one per experimental spot, in peak order
    pub matched: Vec<MatchedSpot>,
}

impl Matching {
    /// 100 · matched / simulated (%).
    pub fn matching_rate(&self) -> f64 {
        if self.n_simulated == 0 { 0.0 } else { 100.0 * self.matched.len() as f64 / self.n_simulated as f64 }
    }
}

/// One spot per reflecting direction of `ub` for `material` on the detector: harmonics n·hkl land on the same
/// pixel, and the lowest order in the band stands for them (e.g. Ge 333 when 111 is below Emin).
pub fn simulate_fundamentals(ub: &Matrix3<f64>, material: &Material, exp: &Experiment) -> Result<Vec<Spot>> {
    let grain = Grain { material: material.clone(), ub: *ub };
    let mut spots = Vec::new();
    simulate_into(&grain, &exp.settings(), &mut spots)?;
    let direction = |s: &Spot| {
        let h = s.hkl();
        let g = gcd(gcd(h[0].unsigned_abs(), h[1].unsigned_abs()), h[2].unsigned_abs()).max(1) as i32;
        ([h[0] / g, h[1] / g, h[2] / g], g)
    };
    spots.sort_by_key(direction);
    spots.dedup_by_key(|s| direction(s).0);
    Ok(spots)
}

fn gcd(mut a: u32, mut b: u32) -> u32 {
    while b != 0 {
        (a, b) = (b, a % b);
    }
    a
}

/// Matches the simulated pattern of `ub` against the experimental spots whose `available[i]` is true (all when
/// `available` is empty), within `tolerance_deg` between q̂'s. Each experimental spot takes the nearest
/// simulated spot, and each simulated spot explains at most one experimental spot (the nearest).
pub fn match_spots(
    ub: &Matrix3<f64>,
    material: &Material,
    exp: &Experiment,
    spots: &[ExperimentalSpot],
    available: &[bool],
    tolerance_deg: f64,
) -> Result<Matching> {
    let sim = simulate_fundamentals(ub, material, exp)?;
    let cos_tol = tolerance_deg.to_radians().cos();
    let sim_q: Vec<Vector3<f64>> =
        sim.iter().map(|s| crate::geometry::angles_to_q_unit(s.twotheta_deg, s.chi_deg)).collect();
    // For each simulated spot, its nearest available experimental spot within the tolerance.
    let mut best_for_exp: Vec<Option<(usize, f64)>> = vec![None; spots.len()];
    for (j, q) in sim_q.iter().enumerate() {
        let mut best: Option<(usize, f64)> = None;
        for (i, e) in spots.iter().enumerate() {
            if !available.is_empty() && !available[i] {
                continue;
            }
            let c = q.dot(&e.q_unit);
            if c >= cos_tol && best.is_none_or(|(_, bc)| c > bc) {
                best = Some((i, c));
            }
        }
        if let Some((i, c)) = best
            && best_for_exp[i].is_none_or(|(_, bc)| c > bc)
        {
            best_for_exp[i] = Some((j, c));
        }
    }
    let matched = best_for_exp
        .iter()
        .enumerate()
        .filter_map(|(i, m)| {
            let (j, _) = (*m)?;
            let s = &sim[j];
            let e = &spots[i];
            Some(MatchedSpot {
                peak: i,
                hkl: s.hkl(),
                energy_kev: s.energy_kev,
                x_theo_px: s.x_px,
                y_theo_px: s.y_px,
                twotheta_theo_deg: s.twotheta_deg,
                chi_theo_deg: s.chi_deg,
                angle_deg: super::spots::angle_deg(&sim_q[j], &e.q_unit),
                residual_px: (s.x_px - e.x_px).hypot(s.y_px - e.y_px),
            })
        })
        .collect();
    Ok(Matching { n_simulated: sim.len(), matched })
}
