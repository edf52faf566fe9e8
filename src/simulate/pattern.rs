//! Laue patterns: every reflection hkl of a grain that the white beam excites and that reaches the detector.
//!
//! Same physics and the same cut-offs as LaueTools' `lauecore.SimulateLaue_full_np` (kf_direction "Z>0"):
//! q = UB·B0·hkl must lie between the Ewald spheres of λmin = 12.398/Emax and λmax = 12.398/Emin,
//! with q_x < 0 and q_z > 0; E = 12.398·|q|²/(2|q_x|). Harmonics (n·hkl) are listed as their own spots.
//! The frame cut is 0 ≤ x < cols, 0 ≤ y < rows.

use nalgebra::{Matrix3, Vector3};
use serde::{Deserialize, Serialize};

use crate::crystal::Material;
use crate::error::{LaueError, Result, Stage};
use crate::geometry::Calibration;
use crate::geometry::orientation::validate_ub;

/// hc in keV·Å, the value LaueTools uses (E = 12.398 / λ).
pub const HC_KEV_ANGSTROM: f64 = 12.398;

/// One crystal: a material and its orientation matrix.
#[derive(Debug, Clone, PartialEq)]
pub struct Grain {
    pub material: Material,
    /// UB in q_lab = UB · B0 · hkl (LaueTools' "UB matrix in q = (UB) B0 G*"); may include strain.
    pub ub: Matrix3<f64>,
}

/// What to simulate: energy band and detector.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct SimulationSettings {
    /// lower end of the white beam (keV)
    pub emin_kev: f64,
    /// upper end of the white beam (keV)
    pub emax_kev: f64,
    pub calibration: Calibration,
    /// compute each spot's hkl-family multiplicity (costs ~1 µs a spot)
    pub with_multiplicity: bool,
    /// which spots count as "on the detector"
    pub cut: DetectorCut,
}

/// Which spots are kept.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum DetectorCut {
    /// 0 ≤ x < cols and 0 ≤ y < rows.
    #[default]
    Frame,
    /// LaueTools' on-camera disc (`filterLaueSpots_full_np` with `shiftcentercamera = xbet`): spots within
    /// `diameter_mm` / 2 of the detector centre, whether or not they fall on the pixel frame.
    LaueToolsDisc { diameter_mm: f64 },
}

/// One simulated Laue spot.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Spot {
    pub h: i32,
    pub k: i32,
    pub l: i32,
    /// scattering angle 2θ (deg)
    pub twotheta_deg: f64,
    /// azimuth χ (deg), LaueTools' convention
    pub chi_deg: f64,
    /// pixel column
    pub x_px: f64,
    /// pixel row
    pub y_px: f64,
    /// photon energy (keV)
    pub energy_kev: f64,
    /// n when hkl = n × the lowest allowed reflection on the same ray (1 = fundamental)
    pub harmonic_order: u32,
    /// size of the hkl family under the Laue group (0 if not computed)
    pub multiplicity: u32,
    /// index of the grain in the simulated list
    pub grain: u32,
}

impl Spot {
    pub fn hkl(&self) -> [i32; 3] {
        [self.h, self.k, self.l]
    }
}

impl SimulationSettings {
    fn validated(&self) -> Result<()> {
        let (a, b) = (self.emin_kev, self.emax_kev);
        if !(a.is_finite() && b.is_finite() && a > 0.0 && b > a) {
            return Err(LaueError::settings(
                Stage::Simulation,
                format!("energy band Emin–Emax = {a}–{b} keV: need finite 0 < Emin < Emax"),
            ));
        }
        if b > 500.0 {
            return Err(LaueError::settings(
                Stage::Simulation,
                format!("Emax = {b} keV is beyond any Laue beamline (need ≤ 500 keV)"),
            ));
        }
        self.calibration.validated()?;
        Ok(())
    }
}

/// Spots of several grains, each spot tagged with its grain index, sorted by energy.
pub fn simulate_grains(grains: &[Grain], settings: &SimulationSettings) -> Result<Vec<Spot>> {
    let mut all = Vec::new();
    for (i, g) in grains.iter().enumerate() {
        let mut spots = simulate_grain(g, settings)?;
        for s in &mut spots {
            s.grain = i as u32;
        }
        all.extend(spots);
    }
    sort_by_energy(&mut all);
    Ok(all)
}

/// Spots of one grain on the detector frame, sorted by energy.
pub fn simulate_grain(grain: &Grain, settings: &SimulationSettings) -> Result<Vec<Spot>> {
    let mut spots = Vec::new();
    simulate_into(grain, settings, &mut spots)?;
    sort_by_energy(&mut spots);
    Ok(spots)
}

fn sort_by_energy(spots: &mut [Spot]) {
    spots.sort_by(|a, b| a.energy_kev.total_cmp(&b.energy_kev).then(a.hkl().cmp(&b.hkl())));
}

/// Appends the spots of `grain` to `out` (unsorted): the hot loop, allocation-free apart from `out`.
pub fn simulate_into(grain: &Grain, settings: &SimulationSettings, out: &mut Vec<Spot>) -> Result<()> {
    settings.validated()?;
    validate_ub(&grain.ub)?;
    let m = grain.ub * grain.material.lattice.b0();
    let m_inv = m.try_inverse().ok_or_else(|| LaueError::InvalidOrientation("UB·B0 is singular".into()))?;
    check_reflection_count(&m, settings.emax_kev)?;
    let inv_lmin = settings.emax_kev / HC_KEV_ANGSTROM; // 1/λmin (Å⁻¹): radius of the largest Ewald sphere
    let inv_lmax = settings.emin_kev / HC_KEV_ANGSTROM;
    let centre = Vector3::new(-inv_lmin, 0.0, 0.0);
    let r2 = inv_lmin * inv_lmin;
    let cal = &settings.calibration;
    let proj = cal.projector();
    let (cols, rows) = (cal.cols as f64, cal.rows as f64);
    let rule = &grain.material.rule;

    // hkl = M⁻¹ q; over the sphere |q − centre| ≤ r each index spans its centre value ± r·|row of M⁻¹|.
    let hc = m_inv * centre;
    let span = |i: usize| inv_lmin * m_inv.row(i).norm();
    let h_range = (hc[0] - span(0)).floor() as i32..=(hc[0] + span(0)).ceil() as i32;
    let k_lo = (hc[1] - span(1)).floor() as i32;
    let k_hi = (hc[1] + span(1)).ceil() as i32;
    let (c0, c1, c2) = (m.column(0).into_owned(), m.column(1).into_owned(), m.column(2).into_owned());
    let a_l = c2.norm_squared();

    for h in h_range {
        let ph = c0 * h as f64 - centre;
        for k in k_lo..=k_hi {
            let p = ph + c1 * k as f64;
            // |p + l·c2|² ≤ r²: the l interval inside the largest sphere.
            let b = p.dot(&c2);
            let disc = b * b - a_l * (p.norm_squared() - r2);
            if disc < 0.0 {
                continue;
            }
            let s = disc.sqrt();
            let l_lo = ((-b - s) / a_l).ceil() as i32;
            let l_hi = ((-b + s) / a_l).floor() as i32;
            for l in l_lo..=l_hi {
                let q = m * Vector3::new(h as f64, k as f64, l as f64);
                let q2 = q.norm_squared();
                // Same strictness as LaueTools: q_x < 0, q_z > 0, inside (≤) the λmin sphere, outside (>) λmax's.
                if q.x >= 0.0
                    || q.z <= 0.0
                    || q.x * 2.0 * inv_lmin + q2 > 0.0
                    || q.x * 2.0 * inv_lmax + q2 <= 0.0
                {
                    continue;
                }
                let hkl = [h, k, l];
                if !rule.allows(hkl) {
                    continue;
                }
                // Ewald radius R = 1/λ; kf = q + ki with ki = (R, 0, 0) and |kf| = R.
                let radius = q2 / (-2.0 * q.x);
                let uf = Vector3::new(q.x + radius, q.y, q.z) / radius;
                let Some((x, y)) = proj.uf_to_pixel(&uf) else { continue };
                let kept = match settings.cut {
                    DetectorCut::Frame => x >= 0.0 && x < cols && y >= 0.0 && y < rows,
                    DetectorCut::LaueToolsDisc { diameter_mm } => {
                        let xcam = cal.distance_mm / q.z * q.y;
                        let tilt = std::f64::consts::FRAC_PI_2 + 2.0 * (q.x / q.z).atan();
                        let ycam = -cal.distance_mm * (cal.xbet_deg.to_radians() - tilt).tan();
                        xcam * xcam + ycam * ycam <= diameter_mm * diameter_mm / 4.0
                    }
                };
                if !kept {
                    continue;
                }
                let twotheta = uf.x.clamp(-1.0, 1.0).acos().to_degrees();
                let chi = q.y.atan2(q.z).to_degrees();
                out.push(Spot {
                    h,
                    k,
                    l,
                    twotheta_deg: twotheta,
                    chi_deg: chi,
                    x_px: x,
                    y_px: y,
                    energy_kev: radius * HC_KEV_ANGSTROM,
                    harmonic_order: harmonic_order(hkl, |g| rule.allows(g)),
                    multiplicity: if settings.with_multiplicity {
                        grain.material.multiplicity(hkl) as u32
                    } else {
                        0
                    },
                    grain: 0,
                });
            }
        }
    }
    Ok(())
}

/// Reciprocal-lattice nodes inside the Ewald sphere of Emax (radius 1/λmin), which the enumeration visits:
/// the sphere's volume (4π/3)·(Emax/hc)³ times the node density, the cell volume 1/|det(UB·B0)|. Cu in
/// 5–22 keV: ≈ 1 100; a 300 Å cubic cell: 6·10⁸.
pub fn estimated_reflections(ub_b0: &Matrix3<f64>, emax_kev: f64) -> f64 {
    let r = emax_kev / HC_KEV_ANGSTROM;
    4.0 / 3.0 * std::f64::consts::PI * r * r * r / ub_b0.determinant().abs()
}

/// Refuses, before anything is enumerated, a cell and band whose reflections would not fit in memory or
/// time ([`crate::limits::REFLECTIONS`]).
fn check_reflection_count(ub_b0: &Matrix3<f64>, emax_kev: f64) -> Result<()> {
    let n = estimated_reflections(ub_b0, emax_kev);
    let cell_volume = 1.0 / ub_b0.determinant().abs();
    crate::limits::REFLECTIONS.check_estimate(
        &format!("reflections to enumerate (cell volume {cell_volume:.4e} Å³, Emax {emax_kev} keV)"),
        n,
        "use a smaller cell or a lower Emax",
    )
}

/// n such that hkl = n × (the lowest allowed multiple of its primitive direction).
pub fn harmonic_order(hkl: [i32; 3], allows: impl Fn([i32; 3]) -> bool) -> u32 {
    let g = gcd(gcd(hkl[0].unsigned_abs(), hkl[1].unsigned_abs()), hkl[2].unsigned_abs());
    if g <= 1 {
        return 1;
    }
    let prim = [hkl[0] / g as i32, hkl[1] / g as i32, hkl[2] / g as i32];
    let m0 = (1..=g).find(|&m| {
        let mi = m as i32;
        g.is_multiple_of(m) && allows([prim[0] * mi, prim[1] * mi, prim[2] * mi])
    });
    m0.map_or(1, |m0| g / m0)
}

fn gcd(mut a: u32, mut b: u32) -> u32 {
    while b != 0 {
        (a, b) = (b, a % b);
    }
    a
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crystal::SelectionRule;

    #[test]
    fn harmonic_orders() {
        let fcc = SelectionRule::named("fcc").unwrap();
        let dia = SelectionRule::named("dia").unwrap();
        assert_eq!(harmonic_order([1, 1, 1], |g| fcc.allows(g)), 1);
        assert_eq!(harmonic_order([2, 2, 2], |g| fcc.allows(g)), 2);
        assert_eq!(harmonic_order([2, 0, 0], |g| fcc.allows(g)), 1);
        assert_eq!(harmonic_order([-4, 0, 0], |g| fcc.allows(g)), 2);
        assert_eq!(harmonic_order([4, 0, 0], |g| dia.allows(g)), 1);
        assert_eq!(harmonic_order([8, 0, 0], |g| dia.allows(g)), 2);
        assert_eq!(harmonic_order([12, 0, 0], |g| dia.allows(g)), 3);
        assert_eq!(harmonic_order([3, 3, 3], |g| dia.allows(g)), 3);
    }
}
