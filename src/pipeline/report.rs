//! What the pipeline says about one image: the one JSON shape of an indexing result, for the CLI, the page
//! and scans alike.

use nalgebra::Matrix3;
use serde::{Deserialize, Serialize};

use super::rows;
use crate::crystal::Material;
use crate::index::matching::simulate_fundamentals;
use crate::index::refine::{deviatoric_strain_crystal, strain_in_sample_frame};
use crate::index::{
    Experiment, ExperimentalSpot, IndexResult, IndexSettings, IndexedGrain, MatchedSpot, Method,
};
use crate::peaks::Peak;
use crate::spotnet::{Descriptors, PositionReport};

/// How one image (one scan point) went.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PointStatus {
    /// at least one grain found
    Indexed,
    /// peaks found, no grain explains them
    NotIndexed,
    /// the peak search found nothing
    NoPeaks,
    /// peaks searched, indexing not asked for
    Searched,
    /// the image could not be analysed ([`PointReport`] absent; the scan records the reason)
    Failed,
}

impl PointStatus {
    /// Stable small code for columnar files (0 indexed, 1 not indexed, 2 no peaks, 3 searched, 4 failed).
    pub fn code(self) -> u8 {
        match self {
            PointStatus::Indexed => 0,
            PointStatus::NotIndexed => 1,
            PointStatus::NoPeaks => 2,
            PointStatus::Searched => 3,
            PointStatus::Failed => 4,
        }
    }

    /// Inverse of [`PointStatus::code`].
    pub fn from_code(c: u8) -> Option<Self> {
        Some(match c {
            0 => PointStatus::Indexed,
            1 => PointStatus::NotIndexed,
            2 => PointStatus::NoPeaks,
            3 => PointStatus::Searched,
            4 => PointStatus::Failed,
            _ => return None,
        })
    }

    /// snake_case name, as in JSON
    pub fn name(self) -> &'static str {
        match self {
            PointStatus::Indexed => "indexed",
            PointStatus::NotIndexed => "not_indexed",
            PointStatus::NoPeaks => "no_peaks",
            PointStatus::Searched => "searched",
            PointStatus::Failed => "failed",
        }
    }
}

/// Deviatoric strain of a grain (dimensionless, not ×10⁻³), in the Voigt order of LaueTools' `strain6`
/// columns: xx, yy, zz, yz, xz, xy.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct StrainReport {
    /// in the crystal frame (orthonormal frame of B0's Cartesian axes)
    pub crystal: [f64; 6],
    /// in LaueTools' sample frame (lab frame tilted 40° about y)
    pub sample: [f64; 6],
    /// von Mises equivalent strain √(2/3 ε′:ε′) of the deviatoric tensor
    pub von_mises: f64,
}

impl StrainReport {
    /// The strain of a refined UB over its material's B0.
    pub fn of(ub: &Matrix3<f64>, b0: &Matrix3<f64>) -> Self {
        let c = deviatoric_strain_crystal(ub, b0);
        let s = strain_in_sample_frame(&c, ub, b0);
        StrainReport { crystal: voigt(&c), sample: voigt(&s), von_mises: von_mises(&c) }
    }
}

/// A grain's pattern holds most of the reflections a wider band adds: the band indexed with is likely too
/// narrow (the grain's matching rate, the refinement and the material choice would gain from the wider one).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct WiderBandHint {
    /// the upper energy tried (keV)
    pub emax_kev: f64,
    /// reflections the wider band adds on the detector, and how many of them match a spot
    pub extra_simulated: usize,
    pub extra_matched: usize,
    /// matched spots and matching rate (%) with the wider band
    pub n_matched: usize,
    pub matching_rate: f64,
}

impl WiderBandHint {
    /// Upper energy added to the band for the check (keV).
    pub const STEP_KEV: f64 = 3.0;

    /// Matches the grain's orientation again with the band's upper energy raised by [`Self::STEP_KEV`]: a hint
    /// when it adds at least 5 reflections on the detector and at least half of them match a spot (a wrong band
    /// adds simulated reflections that match nothing). The tolerance is the grain's final one (0.1° default).
    pub fn check(
        g: &IndexedGrain,
        spots: &[ExperimentalSpot],
        material: &Material,
        exp: &Experiment,
    ) -> Option<Self> {
        let wide = Experiment { emax_kev: exp.emax_kev + Self::STEP_KEV, ..*exp };
        let tol = g.spots.iter().map(|m| m.angle_deg).fold(0.1f64, f64::max).min(0.5);
        let available = vec![true; spots.len()];
        let m = crate::index::match_spots(&g.ub, material, &wide, spots, &available, tol).ok()?;
        let extra_simulated = m.n_simulated.saturating_sub(g.n_simulated);
        let extra_matched = m.matched.len().saturating_sub(g.spots.len());
        (extra_simulated >= 5 && 2 * extra_matched >= extra_simulated).then(|| WiderBandHint {
            emax_kev: wide.emax_kev,
            extra_simulated,
            extra_matched,
            n_matched: m.matched.len(),
            matching_rate: m.matching_rate(),
        })
    }
}

/// Deviatoric stress of a grain (MPa), Voigt order xx, yy, zz, yz, xz, xy:
/// dev(C : ε′) with the material's stiffness ([`crate::crystal::elastic`]).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct StressReport {
    /// in the crystal frame (LaueTools' direct crystal frame, as the strain)
    pub crystal: [f64; 6],
    /// in LaueTools' sample frame
    pub sample: [f64; 6],
    /// von Mises equivalent stress √(3/2 s′:s′) (MPa)
    pub von_mises: f64,
}

impl StressReport {
    /// The stress of a refined UB of `material` (None without stiffness constants).
    pub fn of(material: &str, ub: &Matrix3<f64>, b0: &Matrix3<f64>) -> Option<Self> {
        let stiffness = crate::crystal::elastic::Stiffness::of(material)?;
        let c = stiffness.deviatoric_stress(&deviatoric_strain_crystal(ub, b0)) * 1e3;
        let s = strain_in_sample_frame(&c, ub, b0);
        Some(StressReport {
            crystal: voigt(&c),
            sample: voigt(&s),
            von_mises: crate::crystal::elastic::von_mises_stress(&c),
        })
    }
}

/// xx, yy, zz, yz, xz, xy of a symmetric tensor.
pub fn voigt(e: &Matrix3<f64>) -> [f64; 6] {
    [e[(0, 0)], e[(1, 1)], e[(2, 2)], e[(1, 2)], e[(0, 2)], e[(0, 1)]]
}

/// √(2/3 ε′:ε′) of the deviatoric part of `e`.
pub fn von_mises(e: &Matrix3<f64>) -> f64 {
    let d = e - Matrix3::identity() * (e.trace() / 3.0);
    (2.0 / 3.0 * d.component_mul(&d).sum()).sqrt()
}

/// One indexed spot: the matching's values and the measured position.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct SpotReport {
    /// peak number, hkl, energy, predicted position, residual
    #[serde(flatten)]
    pub matched: MatchedSpot,
    /// measured position (px, LaueTools' convention)
    pub x: f64,
    pub y: f64,
}

/// A simulated reflection of an indexed grain (the page draws them).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct SimulatedSpotReport {
    pub x: f64,
    pub y: f64,
    pub hkl: [i32; 3],
    pub energy_kev: f64,
    /// an experimental spot was matched to this reflection
    pub matched: bool,
}

/// One grain found in an image.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GrainReport {
    pub material: String,
    /// the material's reference lattice a, b, c (Å), α, β, γ (deg) (custom materials included; None when
    /// read from files that do not record it)
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lattice: Option<[f64; 6]>,
    /// the material's space group number, when known
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub space_group: Option<u32>,
    /// Laue class symbol of the material (m-3m, 6/mmm …), for symmetry-aware maps
    pub laue_group: String,
    /// `lut` or `nn`: which method's candidates gave the grain
    pub method: Method,
    /// LaueTools' "UB matrix in q = (UB) B0 G*", rows
    pub ub: [[f64; 3]; 3],
    /// B0 of the material (Å⁻¹), rows
    pub b0: [[f64; 3]; 3],
    /// Euler angles (deg) as LaueTools writes them in `.fit` files
    pub euler: [f64; 3],
    /// 100 · matched / simulated (%)
    pub matching_rate: f64,
    pub n_indexed: usize,
    pub n_simulated: usize,
    /// RMS pixel residual of the refinement (px)
    pub rms_px: f64,
    /// deviatoric strain (meaningful when the settings refine it)
    pub strain: StrainReport,
    /// deviatoric stress from the strain and the material's stiffness constants (None: the table has no
    /// constants for the material)
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stress: Option<StressReport>,
    /// Set when the pattern looks recorded with a wider band than the one indexed with: most of the
    /// reflections a band 3 keV higher adds are there too (checked for single images, not in scans).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub wider_band: Option<WiderBandHint>,
    /// the matching rate and matched count uniformly random peaks reach with the same search, and the
    /// thresholds (≈ 99th percentile of chance) this grain exceeds ([`crate::index::chance`])
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub chance: Option<crate::index::chance::ChanceLevel>,
    /// Symmetry-aware misorientation (deg) to the first grain of the same material in this image (None for
    /// that grain itself, and for a material found once).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub misorientation_deg: Option<f64>,
    /// How the orientation is defined when spot positions cannot (or hardly) decide between choices: quartz's
    /// Dauphiné twin, the a/c exchange of a near-cubic tetragonal cell ([`crate::index::twins::ambiguity_note`]);
    /// None for most materials.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub orientation_note: Option<String>,
    /// the indexed spots (when the request keeps spots)
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub spots: Vec<SpotReport>,
    /// the grain's simulated pattern (when the request keeps spots)
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub simulated: Vec<SimulatedSpotReport>,
}

impl GrainReport {
    /// The report of an indexed grain; `spots` are the experimental spots it was indexed from.
    pub fn new(
        g: &IndexedGrain,
        spots: &[ExperimentalSpot],
        material: Option<&Material>,
        exp: &Experiment,
        keep_spots: bool,
    ) -> Self {
        let laue_group = material.map_or_else(String::new, |m| m.laue_group.symbol().to_string());
        let simulated = match (keep_spots, material) {
            (true, Some(m)) => simulate_fundamentals(&g.ub, m, exp)
                .map(|sim| {
                    sim.iter()
                        .map(|s| SimulatedSpotReport {
                            x: s.x_px,
                            y: s.y_px,
                            hkl: s.hkl(),
                            energy_kev: s.energy_kev,
                            matched: g.spots.iter().any(|m| m.hkl == s.hkl()),
                        })
                        .collect()
                })
                .unwrap_or_default(),
            _ => Vec::new(),
        };
        GrainReport {
            material: g.material.clone(),
            lattice: material.map(|m| m.lattice.params()),
            space_group: material.and_then(|m| m.space_group),
            laue_group,
            method: g.method,
            ub: rows(&g.ub),
            b0: rows(&g.b0),
            euler: crate::geometry::orientation::lauetools_fit_euler(&(g.ub * g.b0)),
            matching_rate: g.matching_rate,
            n_indexed: g.spots.len(),
            n_simulated: g.n_simulated,
            rms_px: g.rms_px,
            strain: StrainReport::of(&g.ub, &g.b0),
            stress: StressReport::of(&g.material, &g.ub, &g.b0),
            wider_band: match (keep_spots, material) {
                (true, Some(m)) => WiderBandHint::check(g, spots, m, exp),
                _ => None,
            },
            chance: g.chance,
            misorientation_deg: None,
            orientation_note: material.and_then(|m| crate::index::twins::ambiguity_note(m).ok().flatten()),
            spots: if keep_spots {
                g.spots
                    .iter()
                    .map(|m| SpotReport {
                        matched: *m,
                        x: spots.get(m.peak).map_or(f64::NAN, |s| s.x_px),
                        y: spots.get(m.peak).map_or(f64::NAN, |s| s.y_px),
                    })
                    .collect()
            } else {
                Vec::new()
            },
            simulated,
        }
    }

    /// UB as a matrix.
    pub fn ub_matrix(&self) -> Matrix3<f64> {
        super::from_rows(&self.ub)
    }

    /// B0 as a matrix.
    pub fn b0_matrix(&self) -> Matrix3<f64> {
        super::from_rows(&self.b0)
    }

    /// The grain back as the indexer's value (spots without their matching details), for `.fit` writing.
    pub fn to_indexed_grain(&self) -> IndexedGrain {
        IndexedGrain {
            material: self.material.clone(),
            ub: self.ub_matrix(),
            b0: self.b0_matrix(),
            matching_rate: self.matching_rate,
            n_simulated: self.n_simulated,
            spots: self.spots.iter().map(|s| s.matched).collect(),
            rms_px: self.rms_px,
            method: self.method,
            chance: self.chance,
        }
    }
}

/// The indexing result of one image — the one JSON shape the CLI (`index --format json`), the page and
/// scans give.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IndexReport {
    pub grains: Vec<GrainReport>,
    /// peaks no grain explains
    pub unindexed: Vec<usize>,
    pub n_peaks: usize,
    /// energy band (keV)
    pub emin_kev: f64,
    pub emax_kev: f64,
    /// the indexing settings used
    pub settings: IndexSettings,
    /// time spent indexing (ms)
    pub elapsed_ms: f64,
}

impl IndexReport {
    /// The report of an indexing result on `spots`.
    pub fn new(
        r: &IndexResult,
        spots: &[ExperimentalSpot],
        materials: &[Material],
        exp: &Experiment,
        settings: &IndexSettings,
        elapsed_ms: f64,
        keep_spots: bool,
    ) -> Self {
        let mut grains: Vec<GrainReport> = r
            .grains
            .iter()
            .map(|g| {
                let m = materials.iter().find(|m| m.name == g.material);
                GrainReport::new(g, spots, m, exp, keep_spots)
            })
            .collect();
        // Each grain's misorientation to the first grain of its material (crystal symmetry taken into account).
        for (k, g) in r.grains.iter().enumerate() {
            let first = r.grains.iter().position(|f| f.material == g.material);
            let material = materials.iter().find(|m| m.name == g.material);
            if let (Some(first), Some(material)) = (first, material)
                && first < k
                && let Ok(sym) = material.laue_group.rotations(&material.lattice)
            {
                let angle =
                    crate::geometry::orientation::misorientation_deg(&r.grains[first].ub, &g.ub, &sym);
                if let Some(report) = grains.get_mut(k) {
                    report.misorientation_deg = Some(angle);
                }
            }
        }
        IndexReport {
            grains,
            unindexed: r.unindexed.clone(),
            n_peaks: spots.len(),
            emin_kev: exp.emin_kev,
            emax_kev: exp.emax_kev,
            settings: settings.clone(),
            elapsed_ms,
        }
    }
}

/// Everything the pipeline says about one image.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PointReport {
    pub status: PointStatus,
    pub n_peaks: usize,
    /// sum of the valid pixels (counts)
    pub intensity_sum: f64,
    /// sum of the peaks' fitted heights above background (counts)
    pub peaks_intensity: f64,
    /// spots the network calls good (when it ran)
    pub n_good_spots: Option<usize>,
    /// which positions indexing used
    pub positions: PositionReport,
    /// the peaks (when the request keeps spots)
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub peaks: Vec<Peak>,
    /// the spot network's descriptors, in peak order (when it ran and the request keeps spots)
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub descriptors: Vec<Descriptors>,
    /// indexing (when asked for)
    pub index: Option<IndexReport>,
    /// wall time for the image (ms)
    pub elapsed_ms: f64,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::geometry::orientation::euler_to_matrix;
    use crate::index::{IndexedGrain, Method};

    fn grain(material: &Material, u: Matrix3<f64>) -> IndexedGrain {
        IndexedGrain {
            material: material.name.clone(),
            ub: u,
            b0: material.lattice.b0(),
            matching_rate: 50.0,
            n_simulated: 10,
            spots: Vec::new(),
            rms_px: 0.1,
            method: Method::Lut,
            chance: None,
        }
    }

    /// Two Cu grains 10° apart about [001] (the second written as a cubic equivalent turned by a further 90°)
    /// and a Si grain: the second Cu grain is 10° from the first, the first and the Si grain have none.
    #[test]
    fn misorientation_to_the_first_grain_of_the_same_material() {
        let cu = Material::from_table("Cu").expect("Cu");
        let si = Material::from_table("Si").expect("Si");
        let u1 = euler_to_matrix([20.0, 30.0, 40.0]);
        let rz = |deg: f64| {
            nalgebra::Rotation3::from_axis_angle(&nalgebra::Vector3::z_axis(), deg.to_radians()).into_inner()
        };
        let u2 = u1 * rz(100.0); // 10° + a 4-fold turn about the crystal's c axis
        let result = IndexResult {
            grains: vec![grain(&cu, u1), grain(&si, u1), grain(&cu, u2)],
            unindexed: Vec::new(),
        };
        let exp = Experiment {
            calibration: crate::geometry::Calibration {
                distance_mm: 70.0,
                xcen_px: 1024.0,
                ycen_px: 1024.0,
                xbet_deg: 0.0,
                xgam_deg: 0.0,
                pixel_size_mm: 0.08,
                rows: 2048,
                cols: 2048,
            },
            emin_kev: 5.0,
            emax_kev: 22.0,
        };
        let report = IndexReport::new(&result, &[], &[cu, si], &exp, &IndexSettings::default(), 0.0, false);
        assert_eq!(report.grains[0].misorientation_deg, None);
        assert_eq!(report.grains[1].misorientation_deg, None);
        let m = report.grains[2].misorientation_deg.expect("Cu grain 3 has a misorientation");
        assert!((m - 10.0).abs() < 1e-9, "{m}");
    }
}
