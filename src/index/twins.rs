//! The twin and pseudo-symmetric alternatives of an orientation: the orientations whose Laue patterns share
//! many reflections with it, and that an indexer can therefore settle on instead of the truth.
//!
//! The classic case is the Σ3 relation of cubic crystals (60° about ⟨111⟩, the same as 180° about ⟨111⟩
//! under the cubic symmetry): the twin's pattern shares about a third of the parent's reflection
//! directions, so two intense spots of the parent often form a pair the twin explains too, and the twin can
//! win the first ranking when the parent's strongest spots are high-index reflections outside the angle
//! table (small detectors). LaueTools leaves this to the user (comparing grains in its GUI); lauekit scores
//! the alternatives of every grain it accepts and keeps the better ([`super::best_grain_from_candidates`]).
//!
//! **Which alternatives.** For any lattice: the 180° rotations about the low-index direct directions
//! [uvw] and plane normals (hkl) (indices up to 2) and the 60°, 90° and 120° rotations about the same axes,
//! in the crystal frame (U′ = U·R). Kept are those that are not a symmetry of the crystal (more than 1°
//! from every element of the Laue group) and that map at least [`MIN_OVERLAP`] of the low-index
//! reciprocal-lattice directions (indices up to 3) within [`OVERLAP_TOLERANCE_DEG`] onto lattice directions
//! (indices up to 6):
//! the coincidence rotations (Σ3, Σ5 … in cubic crystals; the c/a pseudo-symmetries of hexagonal and
//! tetragonal cells). Two alternatives that differ by a crystal symmetry (R₁ᵀR₂ in the group) are one.
//! The list depends on the material only and is computed once per material and search.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

use nalgebra::{Matrix3, Rotation3, Unit, Vector3};

use crate::crystal::Material;
use crate::error::Result;
use crate::geometry::misorientation_deg;

/// Tolerance (deg) of the overlap. Wider tolerances let every rotation pass (the index-6 directions lie
/// a few degrees apart), so the pseudo-symmetries of strongly distorted cells (monoclinic ZrO2's
/// pseudo-cubic cell, β = 99°) are not among the alternatives; the indexer re-aligns each alternative on
/// the spots before scoring it, which absorbs strain and small offsets.
pub const OVERLAP_TOLERANCE_DEG: f64 = 0.5;

/// Smallest share of low-index reciprocal-lattice directions an alternative must map onto lattice
/// directions (the Σ3 twin of a cubic crystal maps about a third of them).
pub const MIN_OVERLAP: f64 = 0.2;

/// The twin and pseudo-symmetric alternatives R (crystal frame, orthonormal frame of B0) of `material`:
/// an orientation U has the alternatives U·R (module docs). Most overlapping first.
pub fn pseudo_symmetric_rotations(material: &Material) -> Result<Vec<Matrix3<f64>>> {
    let sym = material.laue_group.rotations(&material.lattice)?;
    let b0 = material.lattice.b0();
    let direct = material.lattice.direct_basis();
    let axes = unique_directions(
        primitive_indices(2)
            .into_iter()
            .flat_map(|h| [direct * to_vec(h), b0 * to_vec(h)])
            .filter_map(|v| v.try_normalize(1e-12)),
    );
    // Reciprocal-lattice directions the overlap is measured on, and the ones they may land on.
    let probes: Vec<Vector3<f64>> =
        primitive_indices(3).into_iter().filter_map(|h| (b0 * to_vec(h)).try_normalize(1e-12)).collect();
    let targets = unique_directions(
        primitive_indices(6).into_iter().filter_map(|h| (b0 * to_vec(h)).try_normalize(1e-12)),
    );
    let cos_tol = OVERLAP_TOLERANCE_DEG.to_radians().cos();
    let mut found: Vec<(f64, Matrix3<f64>)> = Vec::new();
    for axis in &axes {
        for angle in [180.0f64, 60.0, 90.0, 120.0] {
            let r = Rotation3::from_axis_angle(&Unit::new_normalize(*axis), angle.to_radians()).into_inner();
            if misorientation_deg(&Matrix3::identity(), &r, &sym) < 1.0 {
                continue;
            }
            if found.iter().any(|(_, f)| misorientation_deg(f, &r, &sym) < 1.0) {
                continue;
            }
            let hits = probes
                .iter()
                .filter(|p| {
                    let q = r * *p;
                    targets.iter().any(|t| q.dot(t).abs() >= cos_tol)
                })
                .count();
            let overlap = hits as f64 / probes.len().max(1) as f64;
            if overlap >= MIN_OVERLAP {
                found.push((overlap, r));
            }
        }
    }
    found.sort_by(|a, b| b.0.total_cmp(&a.0));
    Ok(found.into_iter().map(|(_, r)| r).collect())
}

/// A shared list of alternatives (crystal-frame rotations).
pub type Rotations = Arc<Vec<Matrix3<f64>>>;

/// [`pseudo_symmetric_rotations`] of `material`, computed once per lattice and Laue group (process-wide
/// cache: about 10 ms per material).
pub fn cached_rotations(material: &Material) -> Result<Rotations> {
    static CACHE: OnceLock<Mutex<HashMap<String, Rotations>>> = OnceLock::new();
    let cache = CACHE.get_or_init(|| Mutex::new(HashMap::new()));
    let key = format!("{:?}|{:?}", material.lattice.params(), material.laue_group);
    if let Ok(c) = cache.lock()
        && let Some(r) = c.get(&key)
    {
        return Ok(r.clone());
    }
    let r = Arc::new(pseudo_symmetric_rotations(material)?);
    if let Ok(mut c) = cache.lock() {
        if c.len() >= 256 {
            c.clear();
        }
        c.insert(key, r.clone());
    }
    Ok(r)
}

/// Primitive integer triples (gcd 1) with every |index| ≤ n, one of each ± pair.
fn primitive_indices(n: i32) -> Vec<[i32; 3]> {
    let mut v = Vec::new();
    for h in -n..=n {
        for k in -n..=n {
            for l in -n..=n {
                let first_nonzero = [h, k, l].into_iter().find(|&x| x != 0);
                if first_nonzero.is_some_and(|x| x > 0) && gcd(gcd(h, k), l) == 1 {
                    v.push([h, k, l]);
                }
            }
        }
    }
    v
}

/// Unit vectors with ±v counted once (within 0.01°).
fn unique_directions(v: impl Iterator<Item = Vector3<f64>>) -> Vec<Vector3<f64>> {
    let cos_same = 0.01f64.to_radians().cos();
    let mut out: Vec<Vector3<f64>> = Vec::new();
    for d in v {
        if !out.iter().any(|o| o.dot(&d).abs() >= cos_same) {
            out.push(d);
        }
    }
    out
}

fn to_vec(h: [i32; 3]) -> Vector3<f64> {
    Vector3::new(h[0] as f64, h[1] as f64, h[2] as f64)
}

fn gcd(a: i32, b: i32) -> i32 {
    let (mut a, mut b) = (a.abs(), b.abs());
    while b != 0 {
        (a, b) = (b, a % b);
    }
    a
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::geometry::orientation::rotation_angle_deg;

    #[test]
    fn cubic_alternatives_start_with_the_four_sigma3_twins() {
        let m = Material::from_table("Si").unwrap();
        let sym = m.laue_group.rotations(&m.lattice).unwrap();
        let alts = pseudo_symmetric_rotations(&m).unwrap();
        // Σ3: 60° about each of the four ⟨111⟩ (the most overlapping coincidence rotation).
        let sigma3: Vec<Matrix3<f64>> =
            [[1.0, 1.0, 1.0], [-1.0, 1.0, 1.0], [1.0, -1.0, 1.0], [1.0, 1.0, -1.0]]
                .iter()
                .map(|a| {
                    Rotation3::from_axis_angle(&Unit::new_normalize(Vector3::from(*a)), 60f64.to_radians())
                        .into_inner()
                })
                .collect();
        for (k, s) in sigma3.iter().enumerate() {
            assert!(
                alts[..4].iter().any(|a| misorientation_deg(a, s, &sym) < 1e-6),
                "Σ3 variant {k} missing"
            );
        }
        // Σ3 is 60° away from the parent under the symmetry; no alternative is a symmetry.
        assert!((misorientation_deg(&Matrix3::identity(), &alts[0], &sym) - 60.0).abs() < 1e-6);
        assert!(alts.iter().all(|a| rotation_angle_deg(a) > 1.0));
        assert!(alts.len() < 40, "{} alternatives", alts.len());
        for name in ["Cu", "GaN", "Ti", "Sn", "Al2O3", "ZrO2"] {
            let m = Material::from_table(name).unwrap();
            let n = pseudo_symmetric_rotations(&m).unwrap().len();
            println!("{name}: {n} alternatives");
            assert!(n < 60, "{name}: {n} alternatives");
        }
    }
}
