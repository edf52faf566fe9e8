//! Raster scans: nx × ny points, one detector image each, every point through the same
//! [`crate::pipeline`] request; results per point, maps, grains.
//!
//! Layout: [`ScanGrid`] maps a point's acquisition index to its (ix, iy) position (x fastest, optionally
//! serpentine) and to µm. [`PointResult`] is what a scan keeps of each point (no frames, no peak lists);
//! [`ScanResults`] the whole scan with the request used.

pub mod clustering;
pub mod export;
pub mod grains;
pub mod h5;
pub mod ipf;
pub mod maps;
pub mod series;
pub mod shard;
pub mod simulate;
pub mod truth;

use serde::{Deserialize, Serialize};

use crate::error::{LaueError, Result, Stage};
use crate::pipeline::{GrainReport, PipelineRequest, PointReport, PointStatus};

/// The scan's raster.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct ScanGrid {
    /// points along x (the fast axis)
    pub nx: usize,
    /// points along y
    pub ny: usize,
    /// step along x and y (µm), when known
    pub step_um: Option<[f64; 2]>,
    /// serpentine: odd rows run from high x to low x
    pub snake: bool,
}

impl ScanGrid {
    /// A grid of nx × ny points, checked (both ≥ 1, at most 100 million points).
    pub fn new(nx: usize, ny: usize, step_um: Option<[f64; 2]>, snake: bool) -> Result<Self> {
        if nx == 0 || ny == 0 || nx.saturating_mul(ny) > 100_000_000 {
            return Err(LaueError::settings(
                Stage::Scan,
                format!("scan grid {nx}×{ny}: need 1 to 10⁸ points"),
            ));
        }
        if let Some([sx, sy]) = step_um
            && !(sx.is_finite() && sy.is_finite() && sx > 0.0 && sy > 0.0)
        {
            return Err(LaueError::settings(
                Stage::Scan,
                format!("scan step {sx},{sy} µm: need two positive numbers"),
            ));
        }
        Ok(ScanGrid { nx, ny, step_um, snake })
    }

    /// Parses `NXxNY` (e.g. `40x30`).
    pub fn parse_size(s: &str) -> Result<(usize, usize)> {
        let bad = || LaueError::settings(Stage::Scan, format!("grid '{s}': write NXxNY, e.g. 40x30"));
        let (a, b) = s.trim().split_once(['x', 'X', '×']).ok_or_else(bad)?;
        Ok((a.trim().parse().map_err(|_| bad())?, b.trim().parse().map_err(|_| bad())?))
    }

    /// Number of points.
    pub fn len(&self) -> usize {
        self.nx * self.ny
    }

    /// Whether the grid has no point (never, for a checked grid).
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// (ix, iy) of the point acquired `index`-th.
    pub fn position(&self, index: usize) -> (usize, usize) {
        let iy = index / self.nx;
        let mut ix = index % self.nx;
        if self.snake && iy % 2 == 1 {
            ix = self.nx - 1 - ix;
        }
        (ix, iy)
    }

    /// Acquisition index of the point at (ix, iy).
    pub fn index(&self, ix: usize, iy: usize) -> usize {
        let x = if self.snake && iy % 2 == 1 { self.nx - 1 - ix } else { ix };
        iy * self.nx + x
    }

    /// Position of (ix, iy) in µm (x, y), when the step is known.
    pub fn position_um(&self, ix: usize, iy: usize) -> Option<[f64; 2]> {
        self.step_um.map(|[sx, sy]| [ix as f64 * sx, iy as f64 * sy])
    }
}

/// What a scan keeps of one point.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PointResult {
    /// acquisition index
    pub index: usize,
    pub ix: usize,
    pub iy: usize,
    /// the image (file name, with `#frame` for a frame of a stack)
    pub image: String,
    pub status: PointStatus,
    /// why the point failed
    pub error: Option<String>,
    pub n_peaks: usize,
    /// sum of the valid pixels (counts)
    pub intensity_sum: f64,
    /// sum of the peaks' fitted heights above background (counts)
    pub peaks_intensity: f64,
    /// grains found (without their spot lists)
    pub grains: Vec<GrainReport>,
    /// time the point took (ms); not part of equality between runs
    pub elapsed_ms: f64,
}

impl PointResult {
    /// A point the pipeline analysed.
    pub fn from_report(index: usize, grid: &ScanGrid, image: String, r: PointReport) -> Self {
        let (ix, iy) = grid.position(index);
        let mut grains = r.index.map(|i| i.grains).unwrap_or_default();
        for g in &mut grains {
            g.spots.clear();
            g.simulated.clear();
        }
        PointResult {
            index,
            ix,
            iy,
            image,
            status: r.status,
            error: None,
            n_peaks: r.n_peaks,
            intensity_sum: r.intensity_sum,
            peaks_intensity: r.peaks_intensity,
            grains,
            elapsed_ms: r.elapsed_ms,
        }
    }

    /// A point that could not be analysed, with the reason.
    pub fn failed(index: usize, grid: &ScanGrid, image: String, reason: String) -> Self {
        let (ix, iy) = grid.position(index);
        PointResult {
            index,
            ix,
            iy,
            image,
            status: PointStatus::Failed,
            error: Some(reason),
            n_peaks: 0,
            intensity_sum: 0.0,
            peaks_intensity: 0.0,
            grains: Vec::new(),
            elapsed_ms: 0.0,
        }
    }

    /// The best grain (first found: most spots), if any.
    pub fn main_grain(&self) -> Option<&GrainReport> {
        self.grains.first()
    }
}

/// A whole scan: the grid, the request every point went through, the points (in acquisition order).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScanResults {
    pub grid: ScanGrid,
    pub request: PipelineRequest,
    /// `lauekit X.Y.Z`
    pub software: String,
    /// one per point, sorted by index; a partial scan (a shard) holds a contiguous range
    pub points: Vec<PointResult>,
}

/// `lauekit` and its version, as written into result files.
pub fn software_version() -> String {
    format!("lauekit {}", env!("CARGO_PKG_VERSION"))
}
