//! A scan's results against the truth of a synthetic scan (`truth.json` of `lauekit simulate-scan`): how far
//! each point's main grain lies from the orientation drawn there, over the points that show one crystal
//! (off the boundaries, not empty). The measure of the indexing labeler (cluster delegates standing for
//! their members) against indexing every point.

use serde::Serialize;

use super::ScanResults;
use super::simulate::ScanTruth;
use crate::crystal::Material;
use crate::error::{LaueError, Result, Stage};
use crate::geometry::misorientation_deg;
use crate::pipeline::from_rows;

/// Misorientations (deg) of the results' main grains to the truth.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TruthComparison {
    /// points of the truth with one crystal under the beam (off the boundaries, not empty)
    pub n_points: usize,
    /// of those, the points whose result has a grain
    pub n_with_grain: usize,
    /// of those, grains of the wrong material (counted as not within any tolerance)
    pub n_wrong_material: usize,
    /// per grain method (`lut`, `nn`, `guess`, `delegate`): how many of the compared points it gave
    pub by_method: Vec<(String, usize)>,
    /// median misorientation over `n_points` (a point with no grain or the wrong material counts as 180°)
    pub median_deg: f64,
    /// 95th percentile, same convention
    pub p95_deg: f64,
    /// largest misorientation over the points with a grain of the right material
    pub max_deg: f64,
    /// fraction of `n_points` within 0.1°
    pub within_0_1: f64,
    /// fraction of `n_points` within 0.5°
    pub within_0_5: f64,
}

/// Compares `results` with `truth` point by point (by acquisition index); the grids must agree.
pub fn compare_with_truth(results: &ScanResults, truth: &ScanTruth) -> Result<TruthComparison> {
    if results.grid.nx != truth.grid.nx || results.grid.ny != truth.grid.ny {
        return Err(LaueError::settings(
            Stage::Scan,
            format!(
                "results grid {}×{} but truth grid {}×{}",
                results.grid.nx, results.grid.ny, truth.grid.nx, truth.grid.ny
            ),
        ));
    }
    let mut syms: Vec<(String, Vec<nalgebra::Matrix3<f64>>)> = Vec::new();
    let mut sym_of = |name: &str| -> Result<Vec<nalgebra::Matrix3<f64>>> {
        if let Some((_, s)) = syms.iter().find(|(n, _)| n == name) {
            return Ok(s.clone());
        }
        let m = Material::from_table(name)?;
        let s = m.laue_group.rotations(&m.lattice)?;
        syms.push((name.to_string(), s.clone()));
        Ok(s)
    };
    let by_index: std::collections::HashMap<usize, usize> =
        results.points.iter().enumerate().map(|(k, p)| (p.index, k)).collect();
    let mut mis = Vec::new();
    let (mut n_with_grain, mut n_wrong) = (0, 0);
    let mut max_deg = 0f64;
    let mut by_method: Vec<(String, usize)> = Vec::new();
    for t in &truth.points {
        let (false, Some(ub), Some(material)) = (t.boundary, t.ub, t.material.as_ref()) else { continue };
        let g = by_index.get(&t.index).and_then(|&k| results.points[k].grains.first());
        let Some(g) = g else {
            mis.push(180.0);
            continue;
        };
        n_with_grain += 1;
        let name = g.method.name();
        match by_method.iter_mut().find(|(n, _)| n == name) {
            Some(e) => e.1 += 1,
            None => by_method.push((name.to_string(), 1)),
        }
        if &g.material != material {
            n_wrong += 1;
            mis.push(180.0);
            continue;
        }
        let m = misorientation_deg(&from_rows(&ub), &from_rows(&g.ub), &sym_of(material)?);
        max_deg = max_deg.max(m);
        mis.push(m);
    }
    if mis.is_empty() {
        return Err(LaueError::settings(Stage::Scan, "the truth has no point with one crystal"));
    }
    let n = mis.len();
    let within = |tol: f64| mis.iter().filter(|&&m| m <= tol).count() as f64 / n as f64;
    let (within_0_1, within_0_5) = (within(0.1), within(0.5));
    mis.sort_by(f64::total_cmp);
    let quantile = |q: f64| mis[((q * (n - 1) as f64).round() as usize).min(n - 1)];
    by_method.sort();
    Ok(TruthComparison {
        n_points: n,
        n_with_grain,
        n_wrong_material: n_wrong,
        by_method,
        median_deg: quantile(0.5),
        p95_deg: quantile(0.95),
        max_deg,
        within_0_1,
        within_0_5,
    })
}
