//! One self-contained simulation request (material by name or lattice, orientation, detector, band), the
//! shape in which the page, the CLI's JSON and tests ask for a pattern.

use nalgebra::Matrix3;
use serde::{Deserialize, Serialize};

use super::pattern::{DetectorCut, Grain, SimulationSettings, Spot, simulate_grain};
use crate::crystal::{Lattice, Material, RuleSpec};
use crate::error::{LaueError, Result, Stage};
use crate::geometry::{Calibration, euler_to_matrix};

/// A pattern to simulate. Orientation: `ub` (LaueTools UB, row-major) or `euler_deg`; identity if neither.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SimulationRequest {
    /// table material; with `lattice` its lattice is overridden
    #[serde(default)]
    pub material: Option<String>,
    /// a, b, c (Å), α, β, γ (deg)
    #[serde(default)]
    pub lattice: Option<[f64; 6]>,
    #[serde(default)]
    pub space_group: Option<u32>,
    /// LaueTools rule name, ours, or reflection conditions
    #[serde(default)]
    pub extinction: Option<String>,
    #[serde(default)]
    pub ub: Option<[f64; 9]>,
    #[serde(default)]
    pub euler_deg: Option<[f64; 3]>,
    pub calibration: Calibration,
    pub emin_kev: f64,
    pub emax_kev: f64,
}

/// The spots and what they were computed for.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SimulationResult {
    pub material: String,
    pub lattice: [f64; 6],
    pub rule: String,
    pub laue_group: String,
    /// a note about the rule (e.g. conditions not tabulated for this space group)
    pub note: Option<String>,
    pub spots: Vec<Spot>,
}

impl SimulationRequest {
    /// The material this request describes.
    pub fn material(&self) -> Result<(Material, Option<String>)> {
        let lattice = self.lattice.map(Lattice::new).transpose()?;
        let rule = match (self.space_group, &self.extinction) {
            (Some(n), _) => Some(RuleSpec::SpaceGroup(n)),
            (None, Some(r)) if !r.trim().is_empty() => Some(RuleSpec::parse(r)),
            _ => None,
        };
        let (mut m, mut note) = match (&self.material, lattice) {
            (Some(name), lat) if !name.trim().is_empty() => {
                let m = Material::from_table(name)?;
                (if let Some(l) = lat { m.with_lattice(l)? } else { m }, None)
            }
            (_, Some(l)) => {
                let r = rule.clone().ok_or_else(|| {
                    LaueError::settings(
                        Stage::Simulation,
                        "a custom lattice needs a space group or an extinction rule",
                    )
                })?;
                return Material::custom("custom", l, r);
            }
            _ => {
                return Err(LaueError::settings(
                    Stage::Simulation,
                    "no material: give a material name or a lattice",
                ));
            }
        };
        if let Some(r) = rule {
            let (m2, n2) = m.with_rule(r)?;
            m = m2;
            note = n2;
        }
        Ok((m, note))
    }

    /// UB of the request.
    pub fn ub(&self) -> Matrix3<f64> {
        match (self.ub, self.euler_deg) {
            (Some(u), _) => Matrix3::from_row_slice(&u),
            (None, Some(e)) => euler_to_matrix(e),
            (None, None) => Matrix3::identity(),
        }
    }

    /// Simulates the pattern (frame cut, multiplicities included).
    pub fn run(&self) -> Result<SimulationResult> {
        let (material, note) = self.material()?;
        let settings = SimulationSettings {
            emin_kev: self.emin_kev,
            emax_kev: self.emax_kev,
            calibration: self.calibration,
            with_multiplicity: true,
            cut: DetectorCut::Frame,
        };
        let grain = Grain { material, ub: self.ub() };
        let spots = simulate_grain(&grain, &settings)?;
        let m = grain.material;
        Ok(SimulationResult {
            material: m.name.clone(),
            lattice: m.lattice.params(),
            rule: m.rule.name.clone(),
            laue_group: m.laue_group.symbol().to_string(),
            note,
            spots,
        })
    }
}
