//! The 11 Laue groups (with both settings of −3m): their proper rotations in the crystal frame of B0,
//! as integer matrices on hkl, and the symmetry-equivalent hkl families they generate.
//!
//! Orientation work uses the proper rotations (the centrosymmetric Laue group adds only −1, which every
//! diffraction pattern has through Friedel's law).

use nalgebra::{Matrix3, Rotation3, Unit, Vector3};
use serde::{Deserialize, Serialize};

use super::lattice::Lattice;
use crate::error::{LaueError, Result};

/// A Laue class. The trigonal −3m class has two settings on hexagonal axes: 2-fold axes along a (−3m1)
/// or along a − b (−31m).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum LaueGroup {
    Triclinic,
    Monoclinic,
    Orthorhombic,
    Tetragonal4m,
    Tetragonal4mmm,
    Trigonal3,
    Trigonal3m1,
    Trigonal31m,
    Hexagonal6m,
    Hexagonal6mmm,
    CubicM3,
    CubicM3m,
}

impl LaueGroup {
    /// All classes, lowest symmetry first.
    pub const ALL: [LaueGroup; 12] = [
        LaueGroup::Triclinic,
        LaueGroup::Monoclinic,
        LaueGroup::Orthorhombic,
        LaueGroup::Tetragonal4m,
        LaueGroup::Tetragonal4mmm,
        LaueGroup::Trigonal3,
        LaueGroup::Trigonal3m1,
        LaueGroup::Trigonal31m,
        LaueGroup::Hexagonal6m,
        LaueGroup::Hexagonal6mmm,
        LaueGroup::CubicM3,
        LaueGroup::CubicM3m,
    ];

    /// Hermann–Mauguin symbol.
    pub fn symbol(self) -> &'static str {
        match self {
            LaueGroup::Triclinic => "-1",
            LaueGroup::Monoclinic => "2/m",
            LaueGroup::Orthorhombic => "mmm",
            LaueGroup::Tetragonal4m => "4/m",
            LaueGroup::Tetragonal4mmm => "4/mmm",
            LaueGroup::Trigonal3 => "-3",
            LaueGroup::Trigonal3m1 => "-3m1",
            LaueGroup::Trigonal31m => "-31m",
            LaueGroup::Hexagonal6m => "6/m",
            LaueGroup::Hexagonal6mmm => "6/mmm",
            LaueGroup::CubicM3 => "m-3",
            LaueGroup::CubicM3m => "m-3m",
        }
    }

    /// Parses a symbol such as `m-3m`, `6/mmm`, `-3m` (taken as −3m1), `2/m`.
    pub fn from_symbol(s: &str) -> Result<Self> {
        let t = s.trim();
        if t == "-3m" {
            return Ok(LaueGroup::Trigonal3m1);
        }
        LaueGroup::ALL.into_iter().find(|g| g.symbol() == t).ok_or_else(|| LaueError::InvalidRule {
            rule: s.to_string(),
            reason:
                "not a Laue group symbol (-1, 2/m, mmm, 4/m, 4/mmm, -3, -3m1, -31m, 6/m, 6/mmm, m-3, m-3m)"
                    .into(),
        })
    }

    /// The Laue class of a space group (1..=230).
    pub fn of_space_group(n: u32) -> Result<Self> {
        Ok(match n {
            1..=2 => LaueGroup::Triclinic,
            3..=15 => LaueGroup::Monoclinic,
            16..=74 => LaueGroup::Orthorhombic,
            75..=88 => LaueGroup::Tetragonal4m,
            89..=142 => LaueGroup::Tetragonal4mmm,
            143..=148 => LaueGroup::Trigonal3,
            149 | 151 | 153 | 157 | 159 | 162 | 163 => LaueGroup::Trigonal31m,
            150..=167 => LaueGroup::Trigonal3m1,
            168..=176 => LaueGroup::Hexagonal6m,
            177..=194 => LaueGroup::Hexagonal6mmm,
            195..=206 => LaueGroup::CubicM3,
            207..=230 => LaueGroup::CubicM3m,
            _ => {
                return Err(LaueError::SpaceGroup {
                    number: n,
                    reason: "space groups are numbered 1 to 230".into(),
                });
            }
        })
    }

    /// The highest Laue class the cell metric allows (used when a material gives no space group).
    pub fn from_metric(l: &Lattice) -> Self {
        let eq = |x: f64, y: f64| (x - y).abs() < 1e-6 * x.abs().max(1.0);
        let right = |x: f64| eq(x, 90.0);
        let (a, b, c) = (l.a, l.b, l.c);
        let (al, be, ga) = (l.alpha, l.beta, l.gamma);
        if eq(a, b) && eq(b, c) && right(al) && right(be) && right(ga) {
            LaueGroup::CubicM3m
        } else if eq(a, b) && right(al) && right(be) && eq(ga, 120.0) {
            LaueGroup::Hexagonal6mmm
        } else if eq(a, b) && right(al) && right(be) && right(ga) {
            LaueGroup::Tetragonal4mmm
        } else if right(al) && right(be) && right(ga) {
            LaueGroup::Orthorhombic
        } else if [right(al), right(be), right(ga)].iter().filter(|&&r| r).count() == 2 {
            LaueGroup::Monoclinic
        } else {
            LaueGroup::Triclinic
        }
    }

    /// Number of proper rotations (the order of the rotation subgroup).
    pub fn order(self) -> usize {
        match self {
            LaueGroup::Triclinic => 1,
            LaueGroup::Monoclinic => 2,
            LaueGroup::Orthorhombic => 4,
            LaueGroup::Tetragonal4m => 4,
            LaueGroup::Tetragonal4mmm => 8,
            LaueGroup::Trigonal3 => 3,
            LaueGroup::Trigonal3m1 | LaueGroup::Trigonal31m => 6,
            LaueGroup::Hexagonal6m => 6,
            LaueGroup::Hexagonal6mmm => 12,
            LaueGroup::CubicM3 => 12,
            LaueGroup::CubicM3m => 24,
        }
    }

    /// Generators: (axis as direct-lattice direction [uvw], n-fold).
    fn generators(self, l: &Lattice) -> Vec<([f64; 3], u32)> {
        match self {
            LaueGroup::Triclinic => vec![],
            LaueGroup::Monoclinic => vec![(monoclinic_unique_axis(l), 2)],
            LaueGroup::Orthorhombic => vec![([1., 0., 0.], 2), ([0., 1., 0.], 2)],
            LaueGroup::Tetragonal4m => vec![([0., 0., 1.], 4)],
            LaueGroup::Tetragonal4mmm => vec![([0., 0., 1.], 4), ([1., 0., 0.], 2)],
            LaueGroup::Trigonal3 => vec![([0., 0., 1.], 3)],
            LaueGroup::Trigonal3m1 => vec![([0., 0., 1.], 3), ([1., 0., 0.], 2)],
            LaueGroup::Trigonal31m => vec![([0., 0., 1.], 3), ([1., -1., 0.], 2)],
            LaueGroup::Hexagonal6m => vec![([0., 0., 1.], 6)],
            LaueGroup::Hexagonal6mmm => vec![([0., 0., 1.], 6), ([1., 0., 0.], 2)],
            LaueGroup::CubicM3 => vec![([0., 0., 1.], 2), ([1., 1., 1.], 3)],
            LaueGroup::CubicM3m => vec![([0., 0., 1.], 4), ([1., 1., 1.], 3)],
        }
    }

    /// The proper rotations of this class as matrices in the orthonormal crystal frame of `lattice.b0()`,
    /// identity first. Fails when the cell metric does not have this symmetry.
    pub fn rotations(self, lattice: &Lattice) -> Result<Vec<Matrix3<f64>>> {
        let direct = lattice.direct_basis();
        let gens: Vec<Matrix3<f64>> = self
            .generators(lattice)
            .into_iter()
            .map(|(uvw, n)| {
                let axis = direct * Vector3::from(uvw);
                Rotation3::from_axis_angle(&Unit::new_normalize(axis), std::f64::consts::TAU / n as f64)
                    .into_inner()
            })
            .collect();
        let mut group = vec![Matrix3::identity()];
        // Closure: multiply until no new element appears (groups here have at most 24 elements).
        let mut i = 0;
        while i < group.len() {
            for g in &gens {
                let p = g * group[i];
                if !group.iter().any(|e| (e - p).abs().max() < 1e-9) {
                    group.push(p);
                }
            }
            i += 1;
            if group.len() > 48 {
                break;
            }
        }
        if group.len() != self.order() {
            return Err(incompatible(self, lattice));
        }
        // Each rotation must map the lattice onto itself: B0⁻¹ R B0 integer.
        for m in hkl_matrices_f64(&group, lattice) {
            if m.iter().any(|v| (v - v.round()).abs() > 1e-6) {
                return Err(incompatible(self, lattice));
            }
        }
        Ok(group)
    }

    /// The rotations as integer matrices acting on Miller indices: h' = M h with M = B0⁻¹ R B0.
    pub fn hkl_operators(self, lattice: &Lattice) -> Result<Vec<[[i32; 3]; 3]>> {
        let rots = self.rotations(lattice)?;
        Ok(hkl_matrices_f64(&rots, lattice)
            .into_iter()
            .map(|m| {
                let mut out = [[0i32; 3]; 3];
                for (r, row) in out.iter_mut().enumerate() {
                    for (c, v) in row.iter_mut().enumerate() {
                        *v = m[(r, c)].round() as i32;
                    }
                }
                out
            })
            .collect())
    }

    /// The hkl family {g·h, −g·h} of `hkl` under this Laue group (Friedel pairs included), sorted, unique.
    pub fn equivalent_hkls(ops: &[[[i32; 3]; 3]], hkl: [i32; 3]) -> Vec<[i32; 3]> {
        let mut out: Vec<[i32; 3]> = Vec::with_capacity(ops.len() * 2);
        for m in ops {
            let g = apply(m, hkl);
            out.push(g);
            out.push([-g[0], -g[1], -g[2]]);
        }
        out.sort_unstable();
        out.dedup();
        out
    }
}

impl std::fmt::Display for LaueGroup {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.symbol())
    }
}

/// M·hkl for an integer 3×3 matrix.
pub fn apply(m: &[[i32; 3]; 3], h: [i32; 3]) -> [i32; 3] {
    [
        m[0][0] * h[0] + m[0][1] * h[1] + m[0][2] * h[2],
        m[1][0] * h[0] + m[1][1] * h[1] + m[1][2] * h[2],
        m[2][0] * h[0] + m[2][1] * h[1] + m[2][2] * h[2],
    ]
}

fn hkl_matrices_f64(rots: &[Matrix3<f64>], lattice: &Lattice) -> Vec<Matrix3<f64>> {
    let b0 = lattice.b0();
    let b0_inv = b0.try_inverse().unwrap_or_else(Matrix3::zeros);
    rots.iter().map(|r| b0_inv * r * b0).collect()
}

fn incompatible(g: LaueGroup, l: &Lattice) -> LaueError {
    LaueError::InvalidLattice {
        lattice: l.params(),
        reason: format!("this cell does not have the symmetry of Laue group {}", g.symbol()),
    }
}

/// Unique axis of a monoclinic cell: the one whose two neighbouring angles are 90° (b by default).
fn monoclinic_unique_axis(l: &Lattice) -> [f64; 3] {
    let right = |x: f64| (x - 90.0).abs() < 1e-6;
    if right(l.alpha) && right(l.gamma) {
        [0., 1., 0.]
    } else if right(l.alpha) && right(l.beta) {
        [0., 0., 1.]
    } else {
        [1., 0., 0.]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn group_orders_and_lattice_compatibility() {
        let cubic = Lattice::cubic(3.6).unwrap();
        let hex = Lattice::hexagonal(3.189, 5.185).unwrap();
        let mono = Lattice::new([5.1505, 5.2116, 5.3173, 90.0, 99.23, 90.0]).unwrap();
        assert_eq!(LaueGroup::CubicM3m.rotations(&cubic).unwrap().len(), 24);
        assert_eq!(LaueGroup::CubicM3.rotations(&cubic).unwrap().len(), 12);
        assert_eq!(LaueGroup::Hexagonal6mmm.rotations(&hex).unwrap().len(), 12);
        assert_eq!(LaueGroup::Trigonal31m.rotations(&hex).unwrap().len(), 6);
        assert_eq!(LaueGroup::Monoclinic.rotations(&mono).unwrap().len(), 2);
        assert!(LaueGroup::CubicM3m.rotations(&hex).is_err());
        assert!(LaueGroup::Hexagonal6m.rotations(&cubic).is_err());
        for g in LaueGroup::ALL {
            assert_eq!(LaueGroup::from_symbol(g.symbol()).unwrap(), g);
        }
    }

    #[test]
    fn family_multiplicities() {
        let cubic = Lattice::cubic(3.6).unwrap();
        let ops = LaueGroup::CubicM3m.hkl_operators(&cubic).unwrap();
        assert_eq!(LaueGroup::equivalent_hkls(&ops, [1, 0, 0]).len(), 6);
        assert_eq!(LaueGroup::equivalent_hkls(&ops, [1, 1, 1]).len(), 8);
        assert_eq!(LaueGroup::equivalent_hkls(&ops, [1, 1, 0]).len(), 12);
        assert_eq!(LaueGroup::equivalent_hkls(&ops, [3, 2, 1]).len(), 48);
        let m3 = LaueGroup::CubicM3.hkl_operators(&cubic).unwrap();
        assert_eq!(LaueGroup::equivalent_hkls(&m3, [3, 2, 1]).len(), 24);
        let hex = Lattice::hexagonal(3.189, 5.185).unwrap();
        let h6 = LaueGroup::Hexagonal6mmm.hkl_operators(&hex).unwrap();
        assert_eq!(LaueGroup::equivalent_hkls(&h6, [1, 0, 0]).len(), 6);
        assert_eq!(LaueGroup::equivalent_hkls(&h6, [0, 0, 1]).len(), 2);
        assert_eq!(LaueGroup::equivalent_hkls(&h6, [2, 1, 3]).len(), 24);
        // Equivalent reflections share their d-spacing.
        for g in LaueGroup::equivalent_hkls(&h6, [2, 1, 3]) {
            assert!((hex.d_spacing(g) - hex.d_spacing([2, 1, 3])).abs() < 1e-12);
        }
    }

    #[test]
    fn space_group_classes() {
        assert_eq!(LaueGroup::of_space_group(225).unwrap(), LaueGroup::CubicM3m);
        assert_eq!(LaueGroup::of_space_group(186).unwrap(), LaueGroup::Hexagonal6mmm);
        assert_eq!(LaueGroup::of_space_group(167).unwrap(), LaueGroup::Trigonal3m1);
        assert_eq!(LaueGroup::of_space_group(162).unwrap(), LaueGroup::Trigonal31m);
        assert_eq!(LaueGroup::of_space_group(14).unwrap(), LaueGroup::Monoclinic);
        assert!(LaueGroup::of_space_group(0).is_err());
        assert!(LaueGroup::of_space_group(231).is_err());
    }
}
