//! The look-up table of angles between lattice planes (LaueTools' classical indexing).
//!
//! Families: the primitive plane normals hkl with every |index| ≤ n, grouped under the Laue group. For each
//! ordered pair of families (A, B), the table lists the angle between A's representative and each member of
//! B. A measured angle between two spots' q̂ then names the (A, member of B) assignments it can be, each
//! giving one orientation (the first spot may take A's representative: symmetry makes that choice free).

use nalgebra::Vector3;

use super::orientation::{Candidate, hkl_vec, orientation_from_two_pairs};
use super::spots::{ExperimentalSpot, angle_deg};
use crate::crystal::{LaueGroup, Material};

/// Inter-plane angles of one material, sorted for range look-ups.
#[derive(Debug, Clone)]
pub struct AngleLut {
    /// one representative per family
    pub families: Vec<[i32; 3]>,
    /// sorted by angle: (angle deg, family of the first plane, the second plane's hkl)
    entries: Vec<(f64, u32, [i32; 3])>,
    /// B0 (crystal frame, Å⁻¹), to turn hkl into plane normals
    b0: nalgebra::Matrix3<f64>,
}

impl AngleLut {
    /// The table for `material` with plane indices up to `max_index` (LaueTools' nLUT) along its longest
    /// reciprocal axis and as far in |G| along the others ([`index_bounds`]).
    pub fn new(material: &Material, max_index: i32) -> Self {
        let [nh, nk, nl] = index_bounds(material, max_index);
        let ops = &material.hkl_operators;
        let mut seen = std::collections::HashSet::new();
        let mut families: Vec<[i32; 3]> = Vec::new();
        let mut members: Vec<Vec<[i32; 3]>> = Vec::new();
        // Lowest indices first, so the representatives are the familiar ones (1 1 1 rather than −1 1 −1).
        let mut all: Vec<[i32; 3]> = Vec::new();
        for h in -nh..=nh {
            for k in -nk..=nk {
                for l in -nl..=nl {
                    if gcd3(h, k, l) == 1 {
                        all.push([h, k, l]);
                    }
                }
            }
        }
        all.sort_by_key(|h| (h.iter().map(|v| v.abs()).sum::<i32>(), std::cmp::Reverse(*h)));
        for h in all {
            if seen.contains(&h) {
                continue;
            }
            let eq = LaueGroup::equivalent_hkls(ops, h);
            for m in &eq {
                seen.insert(*m);
            }
            families.push(h);
            members.push(eq);
        }
        let b0 = material.lattice.b0();
        let mut entries = Vec::new();
        for (a, rep) in families.iter().enumerate() {
            let ca = b0 * hkl_vec(*rep);
            for ms in &members {
                for m in ms {
                    let ang = angle_deg(&ca, &(b0 * hkl_vec(*m)));
                    if ang > 0.5 && ang < 179.5 {
                        entries.push((ang, a as u32, *m));
                    }
                }
            }
        }
        entries.sort_by(|x, y| x.0.total_cmp(&y.0));
        AngleLut { families, entries, b0 }
    }

    /// Number of (family, plane) angle entries.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Orientations for spots `i`, `j` from every table angle within `tolerance_deg` of the measured one.
    pub fn candidates(
        &self,
        spots: &[ExperimentalSpot],
        i: usize,
        j: usize,
        tolerance_deg: f64,
        out: &mut Vec<Candidate>,
    ) {
        let (qi, qj) = (&spots[i].q_unit, &spots[j].q_unit);
        let measured = angle_deg(qi, qj);
        let lo = self.entries.partition_point(|e| e.0 < measured - tolerance_deg);
        for &(ang, a, m) in &self.entries[lo..] {
            if ang > measured + tolerance_deg {
                break;
            }
            let rep = self.families[a as usize];
            let (ca, cm): (Vector3<f64>, Vector3<f64>) = (self.b0 * hkl_vec(rep), self.b0 * hkl_vec(m));
            if let Some(u) = orientation_from_two_pairs(qi, qj, &ca, &cm) {
                out.push(Candidate { u, spots: [i, j], hkls: [rep, m], confidence: 1.0 });
            }
        }
    }
}

/// The largest |h|, |k|, |l| of a table "with indices up to `n`": `n` along the longest reciprocal axis,
/// and along each other axis as many multiples as reach the same |G| (n·|a*|max / |a*ᵢ|, rounded; never
/// below n). A cube of indices would leave out most of the intense reflections of long-period cells: the
/// twelve strongest spots of a SiC-6H pattern (c = 15.1 Å, |c*| = |a*| / 5.7) are (h k l) with l = 7…31, as
/// low in |G| as (2 1 0), and a sapphire pattern's reach l = 14–34. Cubic cells keep LaueTools' cube.
pub fn index_bounds(material: &Material, n: i32) -> [i32; 3] {
    let n = n.max(1);
    let b0 = material.lattice.b0();
    let len = [b0.column(0).norm(), b0.column(1).norm(), b0.column(2).norm()];
    let longest = len.iter().copied().fold(0.0, f64::max);
    len.map(|g| {
        let reach = (n as f64 * longest / g).round();
        if reach.is_finite() { (reach as i32).max(n) } else { n }
    })
}

fn gcd3(h: i32, k: i32, l: i32) -> u32 {
    fn gcd(mut a: u32, mut b: u32) -> u32 {
        while b != 0 {
            (a, b) = (b, a % b);
        }
        a
    }
    gcd(gcd(h.unsigned_abs(), k.unsigned_abs()), l.unsigned_abs())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Cubic cells keep the cube of indices; long-period cells reach as far in |G| along c (SiC-6H:
    /// |a*| / |c*| = 2c / (√3 a) = 5.67, so l ≤ 17 for n = 3), and the table then holds their intense
    /// high-l planes.
    #[test]
    fn index_bounds_reach_the_same_g_along_every_axis() {
        let bounds = |name: &str, n| index_bounds(&Material::from_table(name).expect("in the table"), n);
        assert_eq!(bounds("Cu", 3), [3, 3, 3]);
        assert_eq!(bounds("BaTiO3", 3), [3, 3, 3]);
        assert_eq!(bounds("GaN", 3), [3, 3, 6]);
        assert_eq!(bounds("SiC-6H", 3), [3, 3, 17]);
        assert_eq!(bounds("SiC-6H", 12), [12, 12, 68]);
        assert_eq!(bounds("sapphire", 3), [3, 3, 9]);
        let sic = Material::from_table("SiC-6H").expect("in the table");
        let lut = AngleLut::new(&sic, 3);
        for hkl in [[1, 0, 11], [-1, 1, 16], [2, -2, 7]] {
            let eq = LaueGroup::equivalent_hkls(&sic.hkl_operators, hkl);
            assert!(lut.families.iter().any(|f| eq.contains(f)), "{hkl:?} not in the SiC-6H table");
        }
    }
}
