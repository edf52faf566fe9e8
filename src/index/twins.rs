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

/// Largest relative difference of length between two direct-lattice vectors whose exchange is listed by
/// [`swap_rotations`] (ZrO2's a and c: 5.15 and 5.32 Å, 3.2 %).
pub const SWAP_LENGTH_TOLERANCE: f64 = 0.05;

/// Smallest share of low-index reciprocal-lattice directions a swap must carry within
/// [`super::ALIGN_TOLERANCE_DEG`] of a lattice direction (ZrO2's a ↔ c swap: 78 %).
pub const SWAP_MIN_OVERLAP: f64 = 0.5;

/// Largest difference (deg) between the angle of two direct-lattice vectors and the angle of the pair they
/// are carried onto by [`swap_rotations`] (ZrO2's a → b → c cycle carries β = 99° onto γ = 90°).
pub const SWAP_ANGLE_TOLERANCE_DEG: f64 = 10.0;

/// The metric pseudo-symmetries of the lattice: the rotations that carry the two shortest non-parallel
/// direct-lattice vectors v₁, v₂ onto two lattice vectors of indices up to 1 with lengths within
/// [`SWAP_LENGTH_TOLERANCE`] and an angle within [`SWAP_ANGLE_TOLERANCE_DEG`] of theirs (v̂₁ exactly, v₂
/// within its plane), in the crystal frame (U′ = U·R); kept when they are not a symmetry of the crystal, not
/// already among [`pseudo_symmetric_rotations`], and carry at least [`SWAP_MIN_OVERLAP`] of the low-index
/// reciprocal-lattice directions within [`super::ALIGN_TOLERANCE_DEG`] of lattice directions. These are the
/// pseudo-symmetries of distorted cells that the 0.5° overlap of [`pseudo_symmetric_rotations`] misses
/// because their axis is not a lattice direction: monoclinic ZrO2's pseudo-cubic cell (a, b, c = 5.15,
/// 5.21, 5.32 Å, β = 99°) has the a ↔ c exchange, 180° about ∝ [1 0 0.97], whose pattern shares about 90 % of
/// the true one's spots within the indexer's first tolerance, and the a → b → c cycle (120° in a cubic
/// cell; 114.8° as built here, where v̂₁ is carried exactly and the indexer's alignment on the spots takes
/// up the rest). Most overlapping first.
pub fn swap_rotations(material: &Material) -> Result<Vec<Matrix3<f64>>> {
    let sym = material.laue_group.rotations(&material.lattice)?;
    let b0 = material.lattice.b0();
    let direct = material.lattice.direct_basis();
    let twins = cached_rotations(material)?;
    let mut vectors: Vec<Vector3<f64>> =
        primitive_indices(1).into_iter().map(|h| direct * to_vec(h)).flat_map(|v| [v, -v]).collect();
    vectors.sort_by(|x, y| x.norm().total_cmp(&y.norm()));
    let v1 = vectors[0];
    let Some(v2) = vectors.iter().find(|v| v.cross(&v1).norm() > 1e-6 * v.norm() * v1.norm()).copied() else {
        return Ok(Vec::new());
    };
    let frame = |x: &Vector3<f64>, y: &Vector3<f64>| -> Option<Matrix3<f64>> {
        let e1 = x.try_normalize(1e-12)?;
        let e2 = (y - e1 * y.dot(&e1)).try_normalize(1e-12)?;
        Some(Matrix3::from_columns(&[e1, e2, e1.cross(&e2)]))
    };
    let Some(from) = frame(&v1, &v2) else { return Ok(Vec::new()) };
    let angle =
        |x: &Vector3<f64>, y: &Vector3<f64>| (x.dot(y) / (x.norm() * y.norm())).clamp(-1.0, 1.0).acos();
    let (l1, l2, a12) = (v1.norm(), v2.norm(), angle(&v1, &v2));
    let near = |l: f64, m: f64| (l - m).abs() <= SWAP_LENGTH_TOLERANCE * l.max(m);
    let probes: Vec<Vector3<f64>> =
        primitive_indices(3).into_iter().filter_map(|h| (b0 * to_vec(h)).try_normalize(1e-12)).collect();
    let targets = unique_directions(
        primitive_indices(6).into_iter().filter_map(|h| (b0 * to_vec(h)).try_normalize(1e-12)),
    );
    let cos_tol = super::ALIGN_TOLERANCE_DEG.to_radians().cos();
    let mut found: Vec<(f64, Matrix3<f64>)> = Vec::new();
    for w1 in vectors.iter().filter(|w| near(w.norm(), l1)) {
        for w2 in vectors.iter().filter(|w| near(w.norm(), l2)) {
            if (angle(w1, w2) - a12).abs() > SWAP_ANGLE_TOLERANCE_DEG.to_radians() {
                continue;
            }
            let Some(to) = frame(w1, w2) else { continue };
            let r = to * from.transpose();
            if misorientation_deg(&Matrix3::identity(), &r, &sym) < 1.0
                || twins.iter().any(|t| misorientation_deg(t, &r, &sym) < 1.0)
                || found.iter().any(|(_, f)| misorientation_deg(f, &r, &sym) < 1.0)
            {
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
            if overlap >= SWAP_MIN_OVERLAP {
                found.push((overlap, r));
            }
        }
    }
    found.sort_by(|a, b| b.0.total_cmp(&a.0));
    Ok(found.into_iter().map(|(_, r)| r).collect())
}

/// [`swap_rotations`] of `material`, computed once per lattice and Laue group (process-wide cache).
pub fn cached_swaps(material: &Material) -> Result<Rotations> {
    static CACHE: OnceLock<Mutex<HashMap<String, Rotations>>> = OnceLock::new();
    let cache = CACHE.get_or_init(|| Mutex::new(HashMap::new()));
    let key = format!("{:?}|{:?}", material.lattice.params(), material.laue_group);
    if let Ok(c) = cache.lock()
        && let Some(r) = c.get(&key)
    {
        return Ok(r.clone());
    }
    let r = Arc::new(swap_rotations(material)?);
    if let Ok(mut c) = cache.lock() {
        if c.len() >= 256 {
            c.clear();
        }
        c.insert(key, r.clone());
    }
    Ok(r)
}

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

/// Largest angle (deg) by which an orientation choice may move the low-index reflections and still count as
/// one that spot positions hardly decide ([`orientation_ambiguities`]): a cell within about 1.5 % of a higher
/// symmetry (BaTiO3's c/a = 1.011 moves spots by 0.63° at most under the a/c exchange, within the indexer's
/// first refinement tolerance of 0.5° for most of them, and its deviatoric strain refinement absorbs the rest).
pub const AMBIGUITY_DEVIATION_DEG: f64 = 1.0;

/// An orientation choice that Laue spot positions cannot decide, or barely: U and U·R put every low-index
/// reflection direction within `max_deviation_deg` of a reflection direction of the other (merohedral twins
/// such as quartz's Dauphiné twin: 0°; pseudo-merohedral ones such as the a/c exchange of a near-cubic
/// tetragonal cell: about |c/a − 1| rad).
#[derive(Debug, Clone, PartialEq)]
pub struct Ambiguity {
    /// the rotation R (crystal frame, B0's orthonormal frame), of the smallest angle among its equivalents
    pub rotation: Matrix3<f64>,
    /// its angle (deg)
    pub angle_deg: f64,
    /// its axis as a direct-lattice direction [uvw], largest |index| 1
    pub axis_uvw: [f64; 3],
    /// largest angle (deg) between an allowed reflection (the first of each row with indices ≤ 3) moved by R
    /// and the nearest reciprocal-lattice node, which must be an allowed reflection too
    pub max_deviation_deg: f64,
}

impl Ambiguity {
    /// Whether spot positions cannot tell the two choices apart at all (a twin by merohedry).
    pub fn is_exact(&self) -> bool {
        self.max_deviation_deg < 0.01
    }
}

/// The orientation choices of `material` that spot positions cannot decide (within
/// [`AMBIGUITY_DEVIATION_DEG`]), smallest deviation first: the alternatives of [`cached_rotations`] that map
/// every low-index allowed reflection onto an allowed one, not just a part of them. Empty for most materials (a
/// crystal whose Laue group is its lattice's holohedry and whose cell is not pseudo-symmetric).
pub fn orientation_ambiguities(material: &Material) -> Result<Vec<Ambiguity>> {
    let sym = material.laue_group.rotations(&material.lattice)?;
    let b0 = material.lattice.b0();
    let Some(b0_inv) = b0.try_inverse() else { return Ok(Vec::new()) };
    // Each low-index row's first allowed reflection (the spot it gives), with the selection rule: a rotation
    // that maps an allowed node onto a forbidden one (the obverse/reverse twin of a rhombohedral lattice) moves
    // spots and is no ambiguity.
    let probes: Vec<Vector3<f64>> = primitive_indices(3)
        .into_iter()
        .filter_map(|h| {
            (1..=6).map(|n| [n * h[0], n * h[1], n * h[2]]).find(|x| material.rule.allows(*x)).map(to_vec)
        })
        .map(|h| b0 * h)
        .collect();
    let cos_limit = AMBIGUITY_DEVIATION_DEG.to_radians().cos();
    let direct_inv = material.lattice.direct_basis().try_inverse();
    let mut out = Vec::new();
    for r in cached_rotations(material)?.iter() {
        let mut worst_cos = 1.0f64;
        for g in &probes {
            let q = r * g;
            let h = b0_inv * q;
            let hr = [h.x.round() as i32, h.y.round() as i32, h.z.round() as i32];
            let target = b0 * to_vec(hr);
            let c = if material.rule.allows(hr) && target.norm() > 0.0 {
                q.dot(&target) / (q.norm() * target.norm())
            } else {
                -1.0
            };
            worst_cos = worst_cos.min(c);
            if worst_cos < cos_limit {
                break;
            }
        }
        if worst_cos < cos_limit {
            continue;
        }
        let rep = sym
            .iter()
            .map(|s| r * s)
            .min_by(|a, b| rotation_angle(a).total_cmp(&rotation_angle(b)))
            .unwrap_or(*r);
        let axis = rotation_axis(&rep);
        let uvw = direct_inv.map_or(axis, |m| m * axis);
        let uvw = uvw / uvw.amax().max(1e-12);
        let uvw =
            if uvw.iter().copied().find(|x| x.abs() > 1e-6).is_some_and(|x| x < 0.0) { -uvw } else { uvw };
        out.push(Ambiguity {
            rotation: rep,
            angle_deg: rotation_angle(&rep),
            axis_uvw: [uvw.x, uvw.y, uvw.z],
            max_deviation_deg: worst_cos.clamp(-1.0, 1.0).acos().to_degrees(),
        });
    }
    out.sort_by(|a, b| a.max_deviation_deg.total_cmp(&b.max_deviation_deg));
    Ok(out)
}

/// The crystal's proper rotations (B0 frame) together with its orientation ambiguities
/// ([`orientation_ambiguities`]), closed into one set: misorientations computed with it
/// ([`crate::geometry::misorientation_deg`]) are modulo the choices spot positions cannot decide (quartz: 32
/// and the Dauphiné twin, i.e. 622; BaTiO3: 4/mmm and the a/c exchange, i.e. the cubic rotations).
pub fn rotations_modulo_ambiguities(material: &Material) -> Result<Vec<Matrix3<f64>>> {
    let mut g = material.laue_group.rotations(&material.lattice)?;
    let gens: Vec<Matrix3<f64>> =
        g.iter().cloned().chain(orientation_ambiguities(material)?.into_iter().map(|a| a.rotation)).collect();
    let mut i = 0;
    while i < g.len() && g.len() <= 48 {
        for s in &gens {
            let p = s * g[i];
            if !g.iter().any(|e| (e - p).abs().max() < 1e-6) {
                g.push(p);
            }
        }
        i += 1;
    }
    Ok(g)
}

/// What a report says about the orientation choices of `material` spot positions cannot decide (None when
/// there are none): how a grain's orientation is to be read and compared.
pub fn ambiguity_note(material: &Material) -> Result<Option<String>> {
    let list = orientation_ambiguities(material)?;
    if list.is_empty() {
        return Ok(None);
    }
    let trigonal = matches!(
        material.laue_group,
        crate::crystal::LaueGroup::Trigonal3
            | crate::crystal::LaueGroup::Trigonal3m1
            | crate::crystal::LaueGroup::Trigonal31m
    );
    let tetragonal = matches!(
        material.laue_group,
        crate::crystal::LaueGroup::Tetragonal4m | crate::crystal::LaueGroup::Tetragonal4mmm
    );
    let about_c = |a: &Ambiguity| a.axis_uvw[0].abs() < 1e-6 && a.axis_uvw[1].abs() < 1e-6;
    let parts: Vec<String> = list
        .iter()
        .map(|a| {
            let axis = a.axis_uvw.map(|x| format!("{}", (x * 100.0).round() / 100.0 + 0.0)).join(" ");
            if a.is_exact() && trigonal && about_c(a) && (a.angle_deg - 60.0).abs() < 0.5 {
                "orientation defined up to the Dauphiné twin (60° about c): both give the same spot positions, \
                     only intensities could decide; compare orientations modulo it"
                    .to_string()
            } else if a.is_exact() {
                format!(
                    "orientation defined up to a {:.0}° rotation about [{axis}] (twin by merohedry: the same spot \
                     positions, only intensities could decide); compare orientations modulo it",
                    a.angle_deg
                )
            } else if tetragonal && !about_c(a) && (a.angle_deg - 90.0).abs() < 0.5 {
                format!(
                    "a/c ambiguity: the near-cubic cell (c/a = {:.4}) exchanges a and c under 90° about [{axis}] \
                     with spots moved by {:.2}° at most; the indexer keeps the choice that explains more spots, \
                     and 90° domains (c along another cube axis) may be explained by one grain: compare \
                     orientations modulo the a/c exchange",
                    material.lattice.params()[2] / material.lattice.params()[0],
                    a.max_deviation_deg
                )
            } else {
                format!(
                    "pseudo-symmetric cell: a {:.0}° rotation about [{axis}] moves the spots by {:.2}° at most; \
                     the indexer keeps the choice that explains more spots",
                    a.angle_deg, a.max_deviation_deg
                )
            }
        })
        .collect();
    Ok(Some(parts.join("; ")))
}

fn rotation_angle(r: &Matrix3<f64>) -> f64 {
    crate::geometry::orientation::rotation_angle_deg(r)
}

/// Unit axis of a rotation (any axis for the identity); 180° rotations from R + I.
fn rotation_axis(r: &Matrix3<f64>) -> Vector3<f64> {
    let v = Vector3::new(r[(2, 1)] - r[(1, 2)], r[(0, 2)] - r[(2, 0)], r[(1, 0)] - r[(0, 1)]);
    if v.norm() > 1e-6 {
        return v.normalize();
    }
    let p = r + Matrix3::identity();
    let c = (0..3).max_by(|&a, &b| p.column(a).norm().total_cmp(&p.column(b).norm())).unwrap_or(0);
    p.column(c).into_owned().try_normalize(1e-12).unwrap_or_else(Vector3::z)
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
    fn zro2_swaps_hold_the_a_c_exchange_and_the_abc_cycle_cubic_none() {
        let m = Material::from_table("ZrO2").unwrap();
        let sym = m.laue_group.rotations(&m.lattice).unwrap();
        let swaps = swap_rotations(&m).unwrap();
        let d = m.lattice.direct_basis();
        let (a, c) = (d.column(0).normalize(), d.column(2).normalize());
        // a ↔ c: 180° about the bisector of â and ĉ, ∝ [1 0 0.97] (not a lattice direction).
        let ac = Rotation3::from_axis_angle(&Unit::new_normalize(a + c), std::f64::consts::PI).into_inner();
        assert!(swaps.iter().any(|r| misorientation_deg(r, &ac, &sym) < 0.5), "a ↔ c missing");
        // The a → b → c cycle of the pseudo-cubic cell: 120° in a cubic cell, 114.8° here (â is carried
        // exactly, the 9° of β are left to the alignment on the spots).
        assert!(
            swaps.iter().any(|r| (misorientation_deg(&Matrix3::identity(), r, &sym) - 117.0).abs() < 3.0),
            "no 120° cycle among {} swaps",
            swaps.len()
        );
        // None is a symmetry or one of the coincidence alternatives, and they are few.
        let twins = pseudo_symmetric_rotations(&m).unwrap();
        for r in &swaps {
            assert!(misorientation_deg(&Matrix3::identity(), r, &sym) > 1.0);
            assert!(twins.iter().all(|t| misorientation_deg(t, r, &sym) > 1.0));
        }
        assert!(swaps.len() <= 12, "{} swaps", swaps.len());
        // A cubic lattice's exchanges of equal vectors are all symmetries.
        assert!(swap_rotations(&Material::from_table("Si").unwrap()).unwrap().is_empty());
    }

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

    #[test]
    fn ambiguities_dauphine_for_quartz_a_c_for_batio3_none_for_cubic_and_wurtzite() {
        let q = Material::from_table("quartz").unwrap();
        let a = orientation_ambiguities(&q).unwrap();
        assert_eq!(a.len(), 1, "{a:?}");
        assert!(a[0].is_exact() && (a[0].angle_deg - 60.0).abs() < 1e-6, "{a:?}");
        assert!(a[0].axis_uvw[0].abs() < 1e-9 && a[0].axis_uvw[1].abs() < 1e-9);
        assert!(ambiguity_note(&q).unwrap().unwrap().contains("Dauphiné twin (60° about c)"));
        let bto = Material::from_table("BaTiO3").unwrap();
        let a = orientation_ambiguities(&bto).unwrap();
        // 90° about a (and about b, its equivalent under 4/mmm): c exchanged with b, spots moved ≤ |c/a − 1| rad.
        assert_eq!(a.len(), 1, "{a:?}");
        assert!((a[0].angle_deg - 90.0).abs() < 1e-6 && !a[0].is_exact(), "{a:?}");
        let dev = (4.036f64 / 3.992 - 1.0).to_degrees();
        assert!(a[0].max_deviation_deg > 0.3 * dev && a[0].max_deviation_deg < 1.01 * dev, "{a:?} vs {dev}");
        assert!(ambiguity_note(&bto).unwrap().unwrap().starts_with("a/c ambiguity"));
        assert_eq!(rotations_modulo_ambiguities(&q).unwrap().len(), 12);
        assert_eq!(rotations_modulo_ambiguities(&bto).unwrap().len(), 24);
        for name in ["Si", "Cu", "GaN", "Ti", "Al2O3"] {
            let m = Material::from_table(name).unwrap();
            assert!(orientation_ambiguities(&m).unwrap().is_empty(), "{name}");
        }
        for m in crate::crystal::MATERIALS {
            let m = Material::from_table(m.name).unwrap();
            if let Some(n) = ambiguity_note(&m).unwrap() {
                println!("{}: {n}", m.name);
            }
        }
    }
}
