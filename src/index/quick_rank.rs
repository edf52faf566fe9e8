//! The cheap test of a candidate orientation: how many of the strongest spots lie, within the tolerance,
//! along an allowed reflection whose energy falls in the band — no simulation.
//!
//! A spot with unit scattering vector q̂ (lab frame) is *explained* by an orientation U when some
//! reflection direction d — a primitive hkl within the index bounds of [`MAX_INDEX`] (
//! [`super::lut::index_bounds`]: 12 along the longest reciprocal axis, as far in |G| along the others), in
//! the crystal's Cartesian frame — lies within the tolerance of U⁻¹q̂, and one of its harmonics k·hkl is allowed by the selection
//! rule with its Bragg energy k·E₁ in the band, E₁ = hc |G| / (2 |Ĝ·x̂|), for the lowest
//! [`HARMONICS_TRIED`] + 1 harmonics in the band.
//!
//! **How it is fast.** The directions (about 13 000) are binned once per material and tolerance
//! ([`ReflectionDirections::cached`], a process-wide cache) on a cube map of the unit sphere: each cell lists
//! every direction within the tolerance of some point of the cell, and the extinction of the first 64
//! harmonics of each direction is one bit mask. A spot is then one rotation, one cell look-up and a test of
//! the one or two directions listed there. The search this replaced (for n = 1…12, the hkl nearest to
//! n·U⁻¹q̂) took 90 % of the indexing time of hard patterns (ZrO2, SiC-6H: 200 000 candidates × 30 spots).

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

use nalgebra::{Matrix3, Vector3};

use super::matching::Experiment;
use crate::crystal::{Material, SelectionRule};
use crate::simulate::HC_KEV_ANGSTROM;

/// Largest |index| of the reflection directions tried along the longest reciprocal axis (more along shorter
/// ones, [`super::lut::index_bounds`]: SiC-6H's l reaches 68, since its spots in the band reach l ≈ 31).
pub const MAX_INDEX: i32 = 12;

/// Harmonics tried above the lowest one in the band.
pub const HARMONICS_TRIED: i32 = 8;

/// Harmonics whose extinction is tabulated per direction (beyond: the rule is asked).
const TABULATED_HARMONICS: i32 = 64;

/// The reflection directions of one material, binned on a cube map for one angular tolerance.
#[derive(Debug)]
pub struct ReflectionDirections {
    /// cells per cube-face side
    res: usize,
    /// CSR offsets into `entries`, one per cell (+1)
    offsets: Vec<u32>,
    /// direction numbers, cell by cell
    entries: Vec<u32>,
    /// unit direction (crystal Cartesian frame, that of B0)
    dir: Vec<Vector3<f64>>,
    /// |B0·hkl| of the primitive hkl (Å⁻¹)
    g_len: Vec<f64>,
    /// the primitive hkl
    hkl: Vec<[i32; 3]>,
    /// bit k − 1 set when k·hkl is allowed (k = 1…64)
    allowed: Vec<u64>,
    rule: SelectionRule,
    cos_tol: f64,
}

impl ReflectionDirections {
    /// The directions of `material` for `tolerance_deg`, computed once per lattice, rule and tolerance
    /// (about 20 ms and under 1 MB each; up to 16 are kept).
    pub fn cached(material: &Material, tolerance_deg: f64) -> Arc<Self> {
        static CACHE: OnceLock<Mutex<HashMap<String, Arc<ReflectionDirections>>>> = OnceLock::new();
        let cache = CACHE.get_or_init(|| Mutex::new(HashMap::new()));
        let key = format!("{:?}|{:?}|{}", material.lattice.params(), material.rule, tolerance_deg.to_bits());
        if let Ok(c) = cache.lock()
            && let Some(r) = c.get(&key)
        {
            return r.clone();
        }
        let r = Arc::new(Self::new(material, tolerance_deg));
        if let Ok(mut c) = cache.lock() {
            if c.len() >= 16 {
                c.clear();
            }
            c.insert(key, r.clone());
        }
        r
    }

    /// The directions of `material` binned for `tolerance_deg` (not cached).
    pub fn new(material: &Material, tolerance_deg: f64) -> Self {
        let tol = tolerance_deg.abs().max(1e-6).to_radians();
        // Cells of about 2 × the tolerance (at least 1°): 1–2 directions per cell at 0.5°.
        let res = (90.0 / (2.0 * tol.to_degrees()).max(1.0)).ceil().clamp(8.0, 180.0) as usize;
        let b0 = material.lattice.b0();
        let (mut dir, mut g_len, mut hkl, mut allowed) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
        let [nh, nk, nl] = super::lut::index_bounds(material, MAX_INDEX);
        for h in -nh..=nh {
            for k in -nk..=nk {
                for l in -nl..=nl {
                    if gcd3(h, k, l) != 1 {
                        continue;
                    }
                    let g = b0 * Vector3::new(h as f64, k as f64, l as f64);
                    let len = g.norm();
                    if len <= 0.0 || !len.is_finite() {
                        continue;
                    }
                    let mut mask = 0u64;
                    for m in 1..=TABULATED_HARMONICS {
                        if material.rule.allows([m * h, m * k, m * l]) {
                            mask |= 1 << (m - 1);
                        }
                    }
                    if mask == 0 {
                        continue;
                    }
                    dir.push(g / len);
                    g_len.push(len);
                    hkl.push([h, k, l]);
                    allowed.push(mask);
                }
            }
        }
        let n_cells = 6 * res * res;
        let centre: Vec<Vector3<f64>> = (0..n_cells).map(|c| cell_centre(c, res)).collect();
        // A direction belongs to every cell one of whose points lies within the tolerance: the cell's
        // centre within the tolerance + the cell's radius (centre to farthest corner).
        let cos_reach: Vec<f64> = (0..n_cells)
            .map(|c| {
                let (f, i, j) = (c / (res * res), (c / res) % res, c % res);
                let radius = [(0.0, 0.0), (1.0, 0.0), (0.0, 1.0), (1.0, 1.0)]
                    .iter()
                    .map(|&(di, dj)| {
                        let corner =
                            face_direction(f, cell_coord(i as f64 + di, res), cell_coord(j as f64 + dj, res));
                        corner.dot(&centre[c]).clamp(-1.0, 1.0).acos()
                    })
                    .fold(0.0, f64::max);
                (radius + tol).min(std::f64::consts::PI).cos()
            })
            .collect();
        let mut pairs: Vec<(u32, u32)> = Vec::new();
        let mut stamp = vec![u32::MAX; n_cells];
        let mut stack = Vec::new();
        for (d, v) in dir.iter().enumerate() {
            let start = cell_of(v, res);
            stamp[start] = d as u32;
            stack.push(start);
            // Flood fill from the direction's own cell through the cells it reaches.
            while let Some(c) = stack.pop() {
                if v.dot(&centre[c]) < cos_reach[c] {
                    continue;
                }
                pairs.push((c as u32, d as u32));
                for nb in neighbours(c, res) {
                    if stamp[nb] != d as u32 {
                        stamp[nb] = d as u32;
                        stack.push(nb);
                    }
                }
            }
        }
        let mut offsets = vec![0u32; n_cells + 1];
        for &(c, _) in &pairs {
            offsets[c as usize + 1] += 1;
        }
        for c in 0..n_cells {
            offsets[c + 1] += offsets[c];
        }
        let mut fill = offsets.clone();
        let mut entries = vec![0u32; pairs.len()];
        for &(c, d) in &pairs {
            entries[fill[c as usize] as usize] = d;
            fill[c as usize] += 1;
        }
        ReflectionDirections {
            res,
            offsets,
            entries,
            dir,
            g_len,
            hkl,
            allowed,
            rule: material.rule.clone(),
            cos_tol: tol.cos(),
        }
    }

    /// Number of reflection directions.
    pub fn len(&self) -> usize {
        self.dir.len()
    }

    pub fn is_empty(&self) -> bool {
        self.dir.is_empty()
    }

    /// Whether rotation `u` (crystal Cartesian → lab; `u_inv` its inverse, Uᵀ) explains the spot of unit
    /// scattering vector `q` (lab) in the band `emin_kev`…`emax_kev` (module docs). The angle is measured
    /// in the crystal frame, with U⁻¹q̂ taken as unit (for a strained UB, within its strain).
    pub fn explains(
        &self,
        u: &Matrix3<f64>,
        u_inv: &Matrix3<f64>,
        q: &Vector3<f64>,
        emin_kev: f64,
        emax_kev: f64,
    ) -> bool {
        let qc = u_inv * q;
        let c = cell_of(&qc, self.res);
        let (a, b) = (self.offsets[c] as usize, self.offsets[c + 1] as usize);
        for &d in &self.entries[a..b] {
            let d = d as usize;
            let dir = &self.dir[d];
            if dir.dot(&qc) < self.cos_tol {
                continue;
            }
            let g = u * dir;
            if g.x >= 0.0 {
                continue;
            }
            // G = g_len·g: E₁ = hc |G|² / (−2 G·x̂); harmonics k·E₁ for k_lo ≤ k ≤ k_hi are in the band.
            let e1 = HC_KEV_ANGSTROM * self.g_len[d] * g.norm_squared() / (-2.0 * g.x);
            let (lo, hi) = (emin_kev / e1, emax_kev / e1);
            if !(hi >= 1.0 && lo < 1e6) {
                continue;
            }
            // ceil and floor of positive values without libm (no rounding instruction in baseline x86-64)
            let k_lo = (lo as i32 + i32::from((lo as i32 as f64) < lo)).max(1);
            let k_hi = (hi as i32).min(k_lo + HARMONICS_TRIED);
            if k_hi < k_lo {
                continue;
            }
            if k_hi <= TABULATED_HARMONICS {
                let width = (k_hi - k_lo + 1) as u32;
                let range = ((1u64 << width) - 1) << (k_lo - 1);
                if self.allowed[d] & range != 0 {
                    return true;
                }
            } else {
                let h = self.hkl[d];
                if (k_lo..=k_hi).any(|k| self.rule.allows([k * h[0], k * h[1], k * h[2]])) {
                    return true;
                }
            }
        }
        false
    }
}

/// [`ReflectionDirections`] with the energy band of one experiment: the quick rank of candidates.
pub struct QuickRanker {
    directions: Arc<ReflectionDirections>,
    emin: f64,
    emax: f64,
}

impl QuickRanker {
    pub fn new(material: &Material, exp: &Experiment, tolerance_deg: f64) -> Self {
        QuickRanker {
            directions: ReflectionDirections::cached(material, tolerance_deg),
            emin: exp.emin_kev,
            emax: exp.emax_kev,
        }
    }

    /// How many of `qs` (unit scattering vectors, lab) orientation `u` (a rotation) explains.
    pub fn count(&self, u: &Matrix3<f64>, qs: &[Vector3<f64>]) -> usize {
        let u_inv = u.transpose();
        qs.iter().filter(|q| self.directions.explains(u, &u_inv, q, self.emin, self.emax)).count()
    }
}

/// Face coordinate of cell edge `i` (0…res) in −1…1.
fn cell_coord(i: f64, res: usize) -> f64 {
    2.0 * i / res as f64 - 1.0
}

/// The direction (unit) of face `f` (0/1: ±x, 2/3: ±y, 4/5: ±z) at face coordinates (u, w); coordinates
/// beyond ±1 continue onto the neighbouring faces.
fn face_direction(f: usize, u: f64, w: f64) -> Vector3<f64> {
    let s = if f.is_multiple_of(2) { 1.0 } else { -1.0 };
    let v = match f / 2 {
        0 => Vector3::new(s, u, w),
        1 => Vector3::new(w, s, u),
        _ => Vector3::new(u, w, s),
    };
    v.normalize()
}

/// Face and coordinates (−1…1) of a non-zero vector (any length).
fn face_coords(v: &Vector3<f64>) -> (usize, f64, f64) {
    let (ax, ay, az) = (v.x.abs(), v.y.abs(), v.z.abs());
    if ax >= ay && ax >= az {
        let r = 1.0 / ax;
        (usize::from(v.x < 0.0), v.y * r, v.z * r)
    } else if ay >= az {
        let r = 1.0 / ay;
        (2 + usize::from(v.y < 0.0), v.z * r, v.x * r)
    } else {
        let r = 1.0 / az;
        (4 + usize::from(v.z < 0.0), v.x * r, v.y * r)
    }
}

fn cell_of(v: &Vector3<f64>, res: usize) -> usize {
    let (f, u, w) = face_coords(v);
    let half = 0.5 * res as f64;
    let idx = |x: f64| {
        let i = ((x + 1.0) * half) as isize; // NaN (zero vector) → 0
        i.clamp(0, res as isize - 1) as usize
    };
    (f * res + idx(u)) * res + idx(w)
}

fn cell_centre(c: usize, res: usize) -> Vector3<f64> {
    let (f, i, j) = (c / (res * res), (c / res) % res, c % res);
    face_direction(f, cell_coord(i as f64 + 0.5, res), cell_coord(j as f64 + 0.5, res))
}

/// The 8 cells around cell `c`, across face edges too (through the direction of the would-be cell's
/// centre beyond the edge).
fn neighbours(c: usize, res: usize) -> impl Iterator<Item = usize> {
    let (f, i, j) = (c / (res * res), (c / res) % res, c % res);
    (-1..=1).flat_map(move |di: isize| {
        (-1..=1).filter_map(move |dj: isize| {
            if di == 0 && dj == 0 {
                return None;
            }
            let (ni, nj) = (i as isize + di, j as isize + dj);
            if (0..res as isize).contains(&ni) && (0..res as isize).contains(&nj) {
                return Some((f * res + ni as usize) * res + nj as usize);
            }
            let v = face_direction(f, cell_coord(ni as f64 + 0.5, res), cell_coord(nj as f64 + 0.5, res));
            let nb = cell_of(&v, res);
            (nb != c).then_some(nb)
        })
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
    use crate::crystal::Material;

    /// Every direction within the tolerance of a query is found through the query's cell: checked against
    /// a scan of all directions for random queries (the cube map loses nothing at face edges and corners).
    #[test]
    fn cell_lists_hold_every_direction_within_the_tolerance() {
        let m = Material::from_table("ZrO2").expect("ZrO2 in the table");
        for tol in [0.2, 0.5, 1.5] {
            let rd = ReflectionDirections::new(&m, tol);
            let cos_tol = tol.to_radians().cos();
            let mut state = 12345u64;
            let mut rnd = || {
                state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
                ((state >> 11) as f64 / (1u64 << 53) as f64) * 2.0 - 1.0
            };
            let mut found = 0;
            for t in 0..4000 {
                // a quarter of the queries on face edges and corners
                let q = match t % 4 {
                    0 => Vector3::new(1.0, rnd(), 1.0 + 1e-3 * rnd()),
                    1 => Vector3::new(-1.0 + 1e-3 * rnd(), 1.0, -1.0),
                    _ => Vector3::new(rnd(), rnd(), rnd()),
                }
                .normalize();
                let c = cell_of(&q, rd.res);
                let listed = &rd.entries[rd.offsets[c] as usize..rd.offsets[c + 1] as usize];
                for (d, v) in rd.dir.iter().enumerate() {
                    if v.dot(&q) >= cos_tol {
                        found += 1;
                        assert!(listed.contains(&(d as u32)), "tol {tol}: {:?} missing for {q:?}", rd.hkl[d]);
                    }
                }
            }
            assert!(found > 100, "tol {tol}: only {found} directions near the queries");
            // A cell lists few directions on average (the point of the map): 1.5 at 0.5°, cells of 3° at 1.5°.
            let mean = rd.entries.len() as f64 / (rd.offsets.len() - 1) as f64;
            let most = if tol <= 0.5 { 3.0 } else { 20.0 };
            assert!(mean < most, "tol {tol}: {mean:.1} directions per cell");
        }
    }

    /// The true orientation explains every allowed reflection in the band, and an orientation 3° off
    /// explains few of them: for a cubic cell, and for long-period cells whose reflections in the band reach
    /// l ≈ 30 (SiC-6H, sapphire in hexagonal axes).
    #[test]
    fn true_orientation_explains_its_reflections() {
        for (name, l_max) in [("Cu", 5), ("SiC-6H", 30), ("sapphire", 30)] {
            true_orientation_explains(name, l_max);
        }
    }

    fn true_orientation_explains(name: &str, l_max: i32) {
        use crate::geometry::orientation::euler_to_matrix;
        let m = Material::from_table(name).expect("in the table");
        let b0 = m.lattice.b0();
        let u = euler_to_matrix([30.0, 40.0, 50.0]);
        let mut qs = Vec::new();
        for h in -5..=5 {
            for k in -5..=5 {
                for l in -l_max..=l_max {
                    if !m.rule.allows([h, k, l]) {
                        continue;
                    }
                    let g = u * b0 * Vector3::new(h as f64, k as f64, l as f64);
                    let e = HC_KEV_ANGSTROM * g.norm_squared() / (-2.0 * g.x);
                    if g.x < 0.0 && (5.0..=22.0).contains(&e) {
                        qs.push(g.normalize());
                    }
                }
            }
        }
        assert!(qs.len() > 50, "{} reflections", qs.len());
        let rd = ReflectionDirections::new(&m, 0.5);
        let u_inv = u.transpose();
        let right = qs.iter().filter(|q| rd.explains(&u, &u_inv, q, 5.0, 22.0)).count();
        assert_eq!(right, qs.len(), "{name}: the true orientation explains {right} of {}", qs.len());
        let off = euler_to_matrix([3.0, 0.0, 0.0]) * u;
        let wrong = qs.iter().filter(|q| rd.explains(&off, &off.transpose(), q, 5.0, 22.0)).count();
        assert!(wrong * 3 < qs.len(), "{name}: 3° off explains {wrong} of {}", qs.len());
    }
}
