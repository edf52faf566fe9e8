//! Grains of a scan: the main grain's orientation at every point, segmentation into grains of connected
//! points with small misorientations, and the adjusted Rand index to compare two labellings.
//!
//! Orientations are rotations in the lab frame: U = nearest rotation of the grain's UB (the strain stripped),
//! so a crystal vector h (crystal frame of B0) appears in the lab as U·h. Misorientations are symmetry-aware:
//! min over the proper rotations S of the Laue group of the angle of Uₐᵀ·U_b·S (deg), and are only taken
//! between points of the same material.
//!
//! Everything here is per grid point, row-major: point (ix, iy) is at `iy · nx + ix` (row iy, column ix), a
//! point absent from the results (a partial scan), failed or without grain has no orientation.
//!
//! Segmentation: 4-neighbours of the same material whose misorientation is below a threshold (default 1°) are
//! joined with a disjoint set (union–find); components smaller than a minimum size (default 1 point) get no
//! label. Grains are numbered in raster order of their first point.

use nalgebra::{Matrix3, Quaternion, Rotation3, UnitQuaternion};
use serde::{Deserialize, Serialize};

use super::{PointResult, ScanGrid, ScanResults};
use crate::crystal::{Lattice, LaueGroup, Material};
use crate::error::{LaueError, Result, Stage};
use crate::geometry::orientation::{lauetools_fit_euler, nearest_rotation, rotation_angle_deg};
use crate::pipeline::GrainReport;

/// The results' points on the grid, row-major (`iy · nx + ix`); `None` where the scan has no point.
pub fn grid_points(results: &ScanResults) -> Result<Vec<Option<&PointResult>>> {
    let g = &results.grid;
    let mut out = vec![None; g.len()];
    for p in &results.points {
        if p.ix >= g.nx || p.iy >= g.ny {
            return Err(LaueError::settings(
                Stage::Maps,
                format!(
                    "scan point {} at ({}, {}) lies outside the {}×{} grid",
                    p.index, p.ix, p.iy, g.nx, g.ny
                ),
            ));
        }
        out[p.iy * g.nx + p.ix] = Some(p);
    }
    Ok(out)
}

/// A material seen in a scan, with its symmetry.
#[derive(Debug, Clone)]
pub struct Phase {
    /// material name as the grains give it
    pub name: String,
    pub laue_group: LaueGroup,
    /// the cell (Å, deg), from the grains' B0
    pub lattice: Lattice,
    /// B0 (Å⁻¹) of the first grain of this material
    pub b0: Matrix3<f64>,
    /// proper rotations of the Laue group in the crystal frame, identity first
    pub rotations: Vec<Matrix3<f64>>,
}

impl Phase {
    /// The phase of a grain: its lattice from B0, its class from the report's symbol, falling back to the
    /// materials table, then to the highest class the metric allows, then to −1.
    pub fn of_grain(g: &GrainReport) -> Self {
        let b0 = g.b0_matrix();
        let table = Material::from_table(&g.material).ok();
        let from_b0 = lattice_from_b0(&b0).ok();
        let symbol = LaueGroup::from_symbol(&g.laue_group).ok();
        let candidates = [
            (from_b0, symbol),
            (table.as_ref().map(|m| m.lattice), symbol),
            (table.as_ref().map(|m| m.lattice), table.as_ref().map(|m| m.laue_group)),
            (from_b0, from_b0.map(|l| LaueGroup::from_metric(&l))),
        ];
        for (lattice, group) in candidates {
            if let (Some(lattice), Some(laue_group)) = (lattice, group)
                && let Ok(rotations) = laue_group.rotations(&lattice)
            {
                return Phase { name: g.material.clone(), laue_group, lattice, b0, rotations };
            }
        }
        let lattice =
            from_b0.unwrap_or(Lattice { a: 1.0, b: 1.0, c: 1.0, alpha: 90.0, beta: 90.0, gamma: 90.0 });
        Phase {
            name: g.material.clone(),
            laue_group: LaueGroup::Triclinic,
            lattice,
            b0,
            rotations: vec![Matrix3::identity()],
        }
    }
}

/// The cell whose LaueTools B0 is `b0` (Å⁻¹, no 2π): G = (B0ᵀ·B0)⁻¹.
pub fn lattice_from_b0(b0: &Matrix3<f64>) -> Result<Lattice> {
    let g = (b0.transpose() * b0).try_inverse().ok_or_else(|| {
        LaueError::InvalidOrientation(format!("B0 is singular: {:?}", crate::pipeline::rows(b0)))
    })?;
    let (a, b, c) = (g[(0, 0)].sqrt(), g[(1, 1)].sqrt(), g[(2, 2)].sqrt());
    let angle = |x: f64| x.clamp(-1.0, 1.0).acos().to_degrees();
    Lattice::new([
        a,
        b,
        c,
        angle(g[(1, 2)] / (b * c)),
        angle(g[(0, 2)] / (a * c)),
        angle(g[(0, 1)] / (a * b)),
    ])
}

/// The main grain's orientation at one grid point.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PointOrientation {
    /// index into [`ScanOrientations::phases`]
    pub phase: usize,
    /// rotation, lab frame (nearest rotation of UB)
    pub u: Matrix3<f64>,
}

/// The main grain (`grains[0]`) of every grid point, with the phases seen.
#[derive(Debug, Clone)]
pub struct ScanOrientations {
    pub grid: ScanGrid,
    /// materials of the main grains: those of the request first, in its order, then others as met
    pub phases: Vec<Phase>,
    /// row-major (`iy · nx + ix`); `None`: no point, failed, or no grain
    pub points: Vec<Option<PointOrientation>>,
}

impl ScanOrientations {
    /// Reads the main grain of every point of `results`.
    pub fn from_results(results: &ScanResults) -> Result<Self> {
        let points = grid_points(results)?;
        let requested: Vec<String> = results
            .request
            .index
            .as_ref()
            .map(|i| i.materials.iter().map(|m| m.name().to_string()).collect())
            .unwrap_or_default();
        let mut firsts: Vec<&GrainReport> = Vec::new();
        for g in points.iter().flatten().filter_map(|p| p.main_grain()) {
            if !firsts.iter().any(|f| same_material(&f.material, &g.material)) {
                firsts.push(g);
            }
        }
        // Stable: materials of the request in its order, then the others in raster order.
        firsts.sort_by_key(|g| {
            requested.iter().position(|r| same_material(r, &g.material)).unwrap_or(usize::MAX)
        });
        let phases: Vec<Phase> = firsts.iter().map(|g| Phase::of_grain(g)).collect();
        let orientations = points
            .iter()
            .map(|p| {
                let g = (*p)?.main_grain()?;
                let ub = g.ub_matrix();
                if ub.iter().any(|v| !v.is_finite()) || ub.determinant().abs() < 1e-12 {
                    return None;
                }
                let phase = phases.iter().position(|ph| same_material(&ph.name, &g.material))?;
                Some(PointOrientation { phase, u: nearest_rotation(&ub) })
            })
            .collect();
        Ok(ScanOrientations { grid: results.grid, phases, points: orientations })
    }

    /// Symmetry-aware misorientation (deg) between grid points `a` and `b`, when both have an orientation of
    /// the same material.
    pub fn misorientation_deg(&self, a: usize, b: usize) -> Option<f64> {
        let (pa, pb) = (self.points.get(a)?.as_ref()?, self.points.get(b)?.as_ref()?);
        if pa.phase != pb.phase {
            return None;
        }
        Some(misorientation_of_rotations(&pa.u, &pb.u, &self.phases[pa.phase].rotations))
    }
}

fn same_material(a: &str, b: &str) -> bool {
    a.trim().eq_ignore_ascii_case(b.trim())
}

/// Misorientation angle (deg) between two rotations `a`, `b` (lab frame) under the proper rotations `sym`
/// (crystal frame): min over S of ∠(aᵀ·b·S). Faster than `geometry::orientation::misorientation_deg` (no
/// polar decomposition: `a` and `b` must already be rotations).
pub fn misorientation_of_rotations(a: &Matrix3<f64>, b: &Matrix3<f64>, sym: &[Matrix3<f64>]) -> f64 {
    let d = a.transpose() * b;
    // The smallest angle has the largest trace.
    sym.iter()
        .map(|s| d * s)
        .max_by(|x, y| x.trace().total_cmp(&y.trace()))
        .map_or_else(|| rotation_angle_deg(&d), |m| rotation_angle_deg(&m))
}

/// Segmentation settings.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct GrainOptions {
    /// neighbours closer than this misorientation (deg) belong to the same grain
    pub threshold_deg: f64,
    /// components with fewer points get no label
    pub min_size: usize,
}

impl Default for GrainOptions {
    fn default() -> Self {
        GrainOptions { threshold_deg: 1.0, min_size: 1 }
    }
}

/// One grain of a segmentation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SegmentedGrain {
    /// its label (index in [`GrainSegmentation::grains`])
    pub id: usize,
    pub material: String,
    pub n_points: usize,
    /// mean orientation: a rotation in the lab frame (crystal vector h → U·h), rows
    pub mean_orientation: [[f64; 3]; 3],
    /// Euler angles (deg) of the mean orientation as LaueTools writes them in `.fit` files (of U·B0)
    pub mean_euler_deg: [f64; 3],
    /// grain orientation spread: mean misorientation of its points to the mean orientation (deg)
    pub gos_deg: f64,
    /// mean (ix, iy) of its points (grid indices)
    pub centroid_index: [f64; 2],
    /// mean position (x, y) of its points (µm), when the grid step is known
    pub centroid_um: Option<[f64; 2]>,
}

/// Grains of a scan.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GrainSegmentation {
    pub nx: usize,
    pub ny: usize,
    /// per grid point, row-major (`iy · nx + ix`): the grain id, `None` without orientation or in a grain
    /// smaller than the minimum size
    pub labels: Vec<Option<usize>>,
    pub grains: Vec<SegmentedGrain>,
}

/// Segments the main grains of a scan (see the module documentation).
pub fn segment_grains(results: &ScanResults, options: &GrainOptions) -> Result<GrainSegmentation> {
    segment_orientations(&ScanOrientations::from_results(results)?, options)
}

/// Segments orientations already read from a scan.
pub fn segment_orientations(o: &ScanOrientations, options: &GrainOptions) -> Result<GrainSegmentation> {
    if !(options.threshold_deg.is_finite() && options.threshold_deg > 0.0) {
        return Err(LaueError::settings(
            Stage::Maps,
            format!("grain threshold {}°: need a positive angle", options.threshold_deg),
        ));
    }
    let (nx, ny) = (o.grid.nx, o.grid.ny);
    let n = nx * ny;
    let mut sets = DisjointSet::new(n);
    let joined = |a: usize, b: usize| o.misorientation_deg(a, b).is_some_and(|m| m < options.threshold_deg);
    for iy in 0..ny {
        for ix in 0..nx {
            let i = iy * nx + ix;
            if ix + 1 < nx && joined(i, i + 1) {
                sets.union(i, i + 1);
            }
            if iy + 1 < ny && joined(i, i + nx) {
                sets.union(i, i + nx);
            }
        }
    }
    let mut id_of_root: Vec<Option<usize>> = vec![None; n];
    let mut members: Vec<Vec<usize>> = Vec::new();
    let mut labels = vec![None; n];
    for (i, label) in labels.iter_mut().enumerate() {
        if o.points[i].is_none() {
            continue;
        }
        let root = sets.find(i);
        if sets.size_of(root) < options.min_size.max(1) {
            continue;
        }
        let id = *id_of_root[root].get_or_insert_with(|| {
            members.push(Vec::new());
            members.len() - 1
        });
        members[id].push(i);
        *label = Some(id);
    }
    let grains = members.iter().enumerate().map(|(id, m)| describe_grain(o, id, m)).collect();
    Ok(GrainSegmentation { nx, ny, labels, grains })
}

fn describe_grain(o: &ScanOrientations, id: usize, members: &[usize]) -> SegmentedGrain {
    let us: Vec<Matrix3<f64>> = members.iter().filter_map(|&i| o.points[i].map(|p| p.u)).collect();
    let phase = o.points[members[0]].map_or(0, |p| p.phase);
    let ph = &o.phases[phase];
    let mean = mean_orientation(&us, &ph.rotations);
    let gos = us.iter().map(|u| misorientation_of_rotations(u, &mean, &ph.rotations)).sum::<f64>()
        / us.len().max(1) as f64;
    let nx = o.grid.nx;
    let count = members.len() as f64;
    let cx = members.iter().map(|&i| (i % nx) as f64).sum::<f64>() / count;
    let cy = members.iter().map(|&i| (i / nx) as f64).sum::<f64>() / count;
    SegmentedGrain {
        id,
        material: ph.name.clone(),
        n_points: members.len(),
        mean_orientation: crate::pipeline::rows(&mean),
        mean_euler_deg: lauetools_fit_euler(&(mean * ph.b0)),
        gos_deg: gos,
        centroid_index: [cx, cy],
        centroid_um: o.grid.step_um.map(|[sx, sy]| [cx * sx, cy * sy]),
    }
}

/// Mean of rotations `us` (lab frame) under the crystal symmetry `sym`: quaternions averaged after bringing
/// each to its symmetry variant (U·S) nearest the first rotation (the grain's seed), then once more nearest
/// that first mean.
pub fn mean_orientation(us: &[Matrix3<f64>], sym: &[Matrix3<f64>]) -> Matrix3<f64> {
    let quat = |m: &Matrix3<f64>| UnitQuaternion::from_rotation_matrix(&Rotation3::from_matrix_unchecked(*m));
    let Some(first) = us.first() else { return Matrix3::identity() };
    let qs: Vec<UnitQuaternion<f64>> = us.iter().map(quat).collect();
    let sym_q: Vec<UnitQuaternion<f64>> = sym.iter().map(quat).collect();
    let mut reference = quat(first);
    for _ in 0..2 {
        let mut sum = Quaternion::new(0.0, 0.0, 0.0, 0.0);
        for q in &qs {
            let mut best = *q.quaternion();
            let mut best_dot = f64::NEG_INFINITY;
            for s in &sym_q {
                let v = (q * s).into_inner();
                let dot = reference.coords.dot(&v.coords);
                if dot.abs() > best_dot {
                    best_dot = dot.abs();
                    best = if dot < 0.0 { -v } else { v };
                }
            }
            sum += best;
        }
        reference = UnitQuaternion::new_normalize(sum);
    }
    reference.to_rotation_matrix().into_inner()
}

/// Misorientation (deg) of every labelled point to its grain's mean orientation, row-major; NaN elsewhere.
pub fn misorientation_to_grain_mean(o: &ScanOrientations, seg: &GrainSegmentation) -> Vec<f64> {
    let means: Vec<Matrix3<f64>> =
        seg.grains.iter().map(|g| crate::pipeline::from_rows(&g.mean_orientation)).collect();
    o.points
        .iter()
        .zip(&seg.labels)
        .map(|(p, l)| match (p, l) {
            (Some(p), Some(id)) => {
                misorientation_of_rotations(&p.u, &means[*id], &o.phases[p.phase].rotations)
            }
            _ => f64::NAN,
        })
        .collect()
}

/// A disjoint-set forest (union by size, path halving) over `0..n`.
#[derive(Debug, Clone)]
pub struct DisjointSet {
    parent: Vec<usize>,
    size: Vec<usize>,
}

impl DisjointSet {
    /// `n` singletons.
    pub fn new(n: usize) -> Self {
        DisjointSet { parent: (0..n).collect(), size: vec![1; n] }
    }

    /// The representative of `i`'s set.
    pub fn find(&mut self, mut i: usize) -> usize {
        while self.parent[i] != i {
            self.parent[i] = self.parent[self.parent[i]];
            i = self.parent[i];
        }
        i
    }

    /// Joins the sets of `a` and `b`; false when they were already one.
    pub fn union(&mut self, a: usize, b: usize) -> bool {
        let (mut ra, mut rb) = (self.find(a), self.find(b));
        if ra == rb {
            return false;
        }
        if self.size[ra] < self.size[rb] {
            std::mem::swap(&mut ra, &mut rb);
        }
        self.parent[rb] = ra;
        self.size[ra] += self.size[rb];
        true
    }

    /// Number of elements in the set of `i`.
    pub fn size_of(&mut self, i: usize) -> usize {
        let r = self.find(i);
        self.size[r]
    }
}

/// Adjusted Rand index (Hubert & Arabie 1985) between two labellings of the same points, over the points
/// labelled in both (`Some` in `a` and `b`; the shorter length bounds the points): 1 for identical partitions
/// up to renaming, ≈ 0 for independent ones, negative below chance. 1 when both partitions are trivial in the
/// same way (one cluster each, or all singletons); NaN with fewer than 2 common points.
pub fn adjusted_rand_index(a: &[Option<usize>], b: &[Option<usize>]) -> f64 {
    let pairs: Vec<(usize, usize)> = a.iter().zip(b).filter_map(|(x, y)| Some(((*x)?, (*y)?))).collect();
    let n = pairs.len();
    if n < 2 {
        return f64::NAN;
    }
    let c2 = |k: usize| (k * k.saturating_sub(1)) as f64 / 2.0;
    let mut cells: std::collections::HashMap<(usize, usize), usize> = std::collections::HashMap::new();
    let mut rows: std::collections::HashMap<usize, usize> = std::collections::HashMap::new();
    let mut cols: std::collections::HashMap<usize, usize> = std::collections::HashMap::new();
    for &(x, y) in &pairs {
        *cells.entry((x, y)).or_default() += 1;
        *rows.entry(x).or_default() += 1;
        *cols.entry(y).or_default() += 1;
    }
    let index: f64 = cells.values().map(|&k| c2(k)).sum();
    let sum_a: f64 = rows.values().map(|&k| c2(k)).sum();
    let sum_b: f64 = cols.values().map(|&k| c2(k)).sum();
    let expected = sum_a * sum_b / c2(n);
    let max = (sum_a + sum_b) / 2.0;
    if (max - expected).abs() < 1e-12 {
        return 1.0;
    }
    (index - expected) / (max - expected)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::geometry::orientation::{euler_to_matrix, misorientation_deg};
    use crate::index::Method;
    use crate::pipeline::{IndexRequest, PipelineRequest, PointStatus, StrainReport};
    use crate::scan::software_version;
    use nalgebra::{Unit, Vector3};

    /// Rotation about a lab axis by `deg`.
    pub(crate) fn rot(axis: [f64; 3], deg: f64) -> Matrix3<f64> {
        Rotation3::from_axis_angle(&Unit::new_normalize(Vector3::from(axis)), deg.to_radians()).into_inner()
    }

    /// A Cu grain report of orientation `u` (UB = U: no strain).
    pub(crate) fn cu_grain(u: Matrix3<f64>) -> GrainReport {
        let b0 = Lattice::cubic(3.6).unwrap().b0();
        GrainReport {
            material: "Cu".into(),
            lattice: None,
            space_group: None,
            laue_group: "m-3m".into(),
            method: Method::Lut,
            ub: crate::pipeline::rows(&u),
            b0: crate::pipeline::rows(&b0),
            euler: lauetools_fit_euler(&(u * b0)),
            matching_rate: 50.0,
            n_indexed: 20,
            n_simulated: 40,
            rms_px: 0.2,
            strain: StrainReport::of(&u, &b0),
            stress: None,
            wider_band: None,
            chance: None,
            misorientation_deg: None,
            orientation_note: None,
            spots: Vec::new(),
            simulated: Vec::new(),
        }
    }

    /// A scan on `grid` whose point (ix, iy) has the grains `grains(ix, iy)` (None: failed).
    pub(crate) fn scan(
        grid: ScanGrid,
        grains: impl Fn(usize, usize) -> Option<Vec<GrainReport>>,
    ) -> ScanResults {
        let points = (0..grid.len())
            .map(|index| {
                let (ix, iy) = grid.position(index);
                match grains(ix, iy) {
                    None => PointResult::failed(index, &grid, format!("img_{index}"), "unreadable".into()),
                    Some(g) => PointResult {
                        index,
                        ix,
                        iy,
                        image: format!("img_{index}"),
                        status: if g.is_empty() { PointStatus::NotIndexed } else { PointStatus::Indexed },
                        error: None,
                        n_peaks: 40 + ix,
                        intensity_sum: 1e6 + iy as f64,
                        peaks_intensity: 1e4,
                        grains: g,
                        elapsed_ms: 0.0,
                    },
                }
            })
            .collect();
        let request = PipelineRequest {
            index: Some(IndexRequest { materials: vec!["Cu".into()], ..Default::default() }),
            ..Default::default()
        };
        ScanResults { grid, request, software: software_version(), points }
    }

    pub(crate) const GRADIENT_DEG: f64 = 0.1;

    pub(crate) fn orientation_a(ix: usize) -> Matrix3<f64> {
        rot([0.0, 0.0, 1.0], (ix as f64 - 2.5) * GRADIENT_DEG) * euler_to_matrix([10.0, 20.0, 30.0])
    }

    pub(crate) fn orientation_b() -> Matrix3<f64> {
        euler_to_matrix([60.0, 45.0, 0.0])
    }

    /// 12 × 8 points (1 × 2 µm): grain A (columns 0–5) with a 0.1°/column rotation about lab z, grain B
    /// (columns 6–11, uniform) holding a 60°⟨111⟩ twin (columns 8–9, rows 2–5) and a failed point at (11, 7).
    pub(crate) fn two_grains_and_twin() -> ScanResults {
        let grid = ScanGrid::new(12, 8, Some([1.0, 2.0]), true).unwrap();
        let twin = orientation_b() * rot([1.0, 1.0, 1.0], 60.0);
        scan(grid, |ix, iy| match (ix, iy) {
            (11, 7) => None,
            (0..=5, _) => Some(vec![cu_grain(orientation_a(ix))]),
            (8..=9, 2..=5) => Some(vec![cu_grain(twin)]),
            _ => Some(vec![cu_grain(orientation_b())]),
        })
    }

    #[test]
    fn segmentation_finds_two_grains_and_the_twin() {
        let r = two_grains_and_twin();
        let sym = LaueGroup::CubicM3m.rotations(&Lattice::cubic(3.6).unwrap()).unwrap();
        assert!(misorientation_deg(&orientation_a(5), &orientation_b(), &sym) > 5.0);
        let twin = orientation_b() * rot([1.0, 1.0, 1.0], 60.0);
        assert!((misorientation_deg(&twin, &orientation_b(), &sym) - 60.0).abs() < 1e-9);

        let seg = segment_grains(&r, &GrainOptions::default()).unwrap();
        let sizes: Vec<usize> = seg.grains.iter().map(|g| g.n_points).collect();
        assert_eq!(sizes, [48, 39, 8]);
        assert_eq!(seg.labels[7 * 12 + 11], None);
        assert_eq!(seg.labels[0], Some(0));
        assert_eq!(seg.labels[3 * 12 + 8], Some(2));
        // Gradient of 0.1°/column over 6 columns symmetric about the mean: GOS = 0.1 · (2.5 + 1.5 + 0.5)/3.
        assert!((seg.grains[0].gos_deg - 0.15).abs() < 1e-6, "{}", seg.grains[0].gos_deg);
        assert!(seg.grains[1].gos_deg < 1e-6 && seg.grains[2].gos_deg < 1e-6);
        // The mean of A is the column-2.5 orientation; its Euler angles are the report's convention.
        let mean_a = crate::pipeline::from_rows(&seg.grains[0].mean_orientation);
        assert!((mean_a - euler_to_matrix([10.0, 20.0, 30.0])).abs().max() < 1e-12);
        let b = cu_grain(orientation_b());
        for (got, want) in seg.grains[1].mean_euler_deg.iter().zip(b.euler) {
            assert!((got - want).abs() < 1e-6);
        }
        assert_eq!(seg.grains[0].centroid_index, [2.5, 3.5]);
        assert_eq!(seg.grains[0].centroid_um, Some([2.5, 7.0]));
        assert_eq!(seg.grains[2].centroid_um, Some([8.5, 7.0]));

        let o = ScanOrientations::from_results(&r).unwrap();
        let mis = misorientation_to_grain_mean(&o, &seg);
        assert!((mis[0] - 0.25).abs() < 1e-6 && (mis[5] - 0.25).abs() < 1e-6 && mis[2] < 0.05 + 1e-6);
        assert!(mis[7 * 12 + 11].is_nan() && mis[20] < 1e-6);

        // Minimum size 10: the twin is left without a label.
        let seg10 = segment_grains(&r, &GrainOptions { threshold_deg: 1.0, min_size: 10 }).unwrap();
        assert_eq!(seg10.grains.len(), 2);
        assert_eq!(seg10.labels[3 * 12 + 8], None);
        // A relabelled truth agrees perfectly.
        let truth: Vec<Option<usize>> = seg.labels.iter().map(|l| l.map(|k| 7 - k)).collect();
        assert_eq!(adjusted_rand_index(&seg.labels, &truth), 1.0);
        // Symmetry-equivalent descriptions of B (U·S) change nothing.
        let sym_r = two_grains_and_twin_with_variants(&sym);
        let seg_v = segment_grains(&sym_r, &GrainOptions::default()).unwrap();
        assert_eq!(seg_v.labels, seg.labels);
        assert!(segment_grains(&r, &GrainOptions { threshold_deg: -1.0, min_size: 1 }).is_err());
    }

    fn two_grains_and_twin_with_variants(sym: &[Matrix3<f64>]) -> ScanResults {
        let mut r = two_grains_and_twin();
        for p in &mut r.points {
            if let Some(g) = p.grains.first_mut() {
                let s = sym[(p.ix * 7 + p.iy * 3) % sym.len()];
                let u = g.ub_matrix() * s;
                *g = cu_grain(u);
            }
        }
        r
    }

    #[test]
    fn lattice_round_trips_through_b0() {
        for p in [
            [3.6, 3.6, 3.6, 90.0, 90.0, 90.0],
            [5.1505, 5.2116, 5.3173, 90.0, 99.23, 90.0],
            [3.189, 3.189, 5.185, 90.0, 90.0, 120.0],
        ] {
            let l = Lattice::new(p).unwrap();
            let back = lattice_from_b0(&l.b0()).unwrap();
            for (x, y) in back.params().iter().zip(p) {
                assert!((x - y).abs() < 1e-9, "{p:?} → {:?}", back.params());
            }
        }
    }

    #[test]
    fn adjusted_rand_index_on_textbook_cases() {
        let s = |v: &[usize]| v.iter().map(|&x| Some(x)).collect::<Vec<_>>();
        assert_eq!(adjusted_rand_index(&s(&[0, 0, 1, 1, 2]), &s(&[0, 0, 1, 1, 2])), 1.0);
        assert_eq!(adjusted_rand_index(&s(&[0, 0, 1, 1, 2]), &s(&[5, 5, 3, 3, 9])), 1.0);
        // Contingency [[2,0],[1,1]]: index 1, row pairs 2, column pairs 1, C(4,2) = 6 →
        // (1 − 2·1/6) / ((2 + 1)/2 − 2·1/6) = 4/7.
        assert!((adjusted_rand_index(&s(&[0, 0, 1, 1]), &s(&[0, 0, 1, 2])) - 4.0 / 7.0).abs() < 1e-12);
        // [[2,1,0],[0,1,2]]: index 2, rows 6, columns 3, C(6,2) = 15 → (2 − 1.2)/(4.5 − 1.2) = 8/33.
        let ari = adjusted_rand_index(&s(&[0, 0, 0, 1, 1, 1]), &s(&[0, 0, 1, 1, 2, 2]));
        assert!((ari - 8.0 / 33.0).abs() < 1e-12);
        // Anti-correlated: −1/2.
        assert!((adjusted_rand_index(&s(&[0, 0, 1, 1]), &s(&[0, 1, 0, 1])) + 0.5).abs() < 1e-12);
        // Points unlabelled in either are left out.
        let a = vec![Some(0), Some(0), None, Some(1), Some(1)];
        let b = vec![Some(4), Some(4), Some(4), Some(2), Some(2)];
        assert_eq!(adjusted_rand_index(&a, &b), 1.0);
        assert!(adjusted_rand_index(&[Some(1)], &[Some(1)]).is_nan());
    }

    #[test]
    fn disjoint_set_joins() {
        let mut d = DisjointSet::new(5);
        assert!(d.union(0, 1));
        assert!(d.union(3, 4));
        assert!(!d.union(1, 0));
        assert!(d.union(1, 4));
        assert_eq!(d.find(0), d.find(3));
        assert_eq!(d.size_of(4), 4);
        assert_eq!(d.size_of(2), 1);
    }
}
