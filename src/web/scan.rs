//! Scans in the page: a worker holds a [`ScanWorker`] (one pipeline request, calibration and grid) and
//! analyses the points it is given, one image at a time (frames are dropped after each point); the page
//! gathers the [`crate::scan::PointResult`]s and asks for maps and files with the functions below. The
//! example scan is made here by the same code as `lauekit simulate-scan` ([`SyntheticScanHandle`]).

use serde::{Deserialize, Serialize};
use wasm_bindgen::prelude::*;

use super::{err, from_js, from_js_strict, to_js};
use crate::geometry::Calibration;
use crate::io::{ReadOptions, read_image};
use crate::pipeline::{Models, PipelineError, PipelineRequest, Prepared, run_image};
use crate::scan::maps::{Map, MapOptions, PngOptions, all_maps};
use crate::scan::simulate::{SyntheticScan, SyntheticScanSpec};
use crate::scan::{PointResult, ScanGrid, ScanResults, software_version};

/// Grid of a scan as the page gives it.
#[derive(Deserialize)]
struct GridIn {
    nx: usize,
    ny: usize,
    #[serde(default)]
    step_um: Option<[f64; 2]>,
    #[serde(default)]
    snake: bool,
}

pub(super) fn grid_of(v: JsValue) -> Result<ScanGrid, JsError> {
    let g: GridIn = from_js(v, "grid")?;
    ScanGrid::new(g.nx, g.ny, g.step_um, g.snake).map_err(err)
}

/// One worker's share of a scan: the request prepared once, the networks loaded once.
#[wasm_bindgen]
pub struct ScanWorker {
    job: Prepared,
    models: Models,
    calibration: Calibration,
    grid: ScanGrid,
}

#[wasm_bindgen]
impl ScanWorker {
    /// `grid`: `{nx, ny, step_um?, snake?}`; `calibration` as for `simulate`; `request`: the pipeline
    /// request (`{peaks, spotnet, index: {method, materials, settings, band, positions}}`, every key
    /// optional). The table method only (a LaueNN model is not loaded in scan workers yet).
    #[wasm_bindgen(constructor)]
    pub fn new(grid: JsValue, calibration: JsValue, request: JsValue) -> Result<ScanWorker, JsError> {
        let grid = grid_of(grid)?;
        let c: Calibration = from_js(calibration, "calibration")?;
        let calibration = c.validated().map_err(err)?;
        let request: PipelineRequest = from_js_strict(request, "pipeline request")?;
        let models = Models::for_request(&request).map_err(err)?;
        let job = request.prepare(&models).map_err(err)?;
        Ok(ScanWorker { job, models, calibration, grid })
    }

    /// Analyses point `index` from its image file's bytes (`name` for messages; `frame` of a stack).
    /// Returns the point's result (`{index, ix, iy, image, status, error, n_peaks, intensity_sum,
    /// peaks_intensity, grains, elapsed_ms}`); an unreadable image gives a failed point, bad settings throw.
    pub fn run_point(
        &self,
        index: usize,
        bytes: &[u8],
        name: &str,
        frame: usize,
    ) -> Result<JsValue, JsError> {
        if index >= self.grid.len() {
            return Err(JsError::new(&format!("point {index}: the grid has {} points", self.grid.len())));
        }
        let t0 = js_sys::Date::now();
        let point = match read_image(bytes, name, &ReadOptions { frame, ..Default::default() })
            .map_err(PipelineError::Point)
            .and_then(|f| run_image(&f, &self.calibration, &self.job, &self.models))
        {
            Ok(r) => PointResult::from_report(index, &self.grid, name.to_string(), r),
            Err(PipelineError::Point(e)) => {
                PointResult::failed(index, &self.grid, name.to_string(), e.to_string())
            }
            Err(PipelineError::Job(e)) => return Err(err(e)),
        };
        let mut point = point;
        point.elapsed_ms = js_sys::Date::now() - t0;
        to_js(&point)
    }
}

/// A synthetic scan made in the page (the example scan): the same microstructure, truth and images as
/// `lauekit simulate-scan` with the same spec.
#[wasm_bindgen]
pub struct SyntheticScanHandle {
    scan: SyntheticScan,
}

#[wasm_bindgen]
impl SyntheticScanHandle {
    /// `spec`: a `SyntheticScanSpec` (every key optional: `{nx, ny, step_um, material, second_phase, grains,
    /// twin, seed, calibration, image, …}`).
    #[wasm_bindgen(constructor)]
    pub fn new(spec: JsValue) -> Result<SyntheticScanHandle, JsError> {
        let spec: SyntheticScanSpec = if spec.is_undefined() || spec.is_null() {
            SyntheticScanSpec::default()
        } else {
            from_js(spec, "synthetic scan spec")?
        };
        Ok(SyntheticScanHandle { scan: SyntheticScan::new(&spec).map_err(err)? })
    }

    /// Number of points.
    pub fn len(&self) -> usize {
        self.scan.len()
    }

    /// Whether the scan has no point.
    pub fn is_empty(&self) -> bool {
        self.scan.is_empty()
    }

    /// `{nx, ny, step_um, snake}`.
    pub fn grid(&self) -> Result<JsValue, JsError> {
        to_js(&self.scan.grid)
    }

    /// The detector calibration of the scan's images.
    pub fn calibration(&self) -> Result<JsValue, JsError> {
        to_js(&self.scan.spec.calibration)
    }

    /// The calibration as LaueTools `.det` text.
    pub fn calibration_det(&self) -> String {
        crate::io::DetFile {
            calibration: self.scan.spec.calibration,
            ub: None,
            metadata: Vec::new(),
            comments: vec![format!("synthetic scan detector ({})", software_version())],
        }
        .to_text()
    }

    /// The 16-bit TIFF bytes of point `index` (what `lauekit simulate-scan` writes as `scan_NNNN.tif`).
    pub fn image_tiff(&self, index: usize) -> Result<Vec<u8>, JsError> {
        let img = self.scan.render_point(index).map_err(err)?;
        crate::io::tiff_u16_bytes(img.rows, img.cols, &img.pixels).map_err(err)
    }

    /// File name of point `index` (`scan_NNNN.tif`).
    pub fn image_name(&self, index: usize) -> String {
        crate::scan::simulate::point_file_name("scan", index, self.scan.len())
    }

    /// The truth (regions and per-point region, material, UB).
    pub fn truth(&self) -> Result<JsValue, JsError> {
        to_js(&self.scan.truth())
    }
}

fn results_of(grid: JsValue, request: JsValue, points: JsValue) -> Result<ScanResults, JsError> {
    let grid = grid_of(grid)?;
    let request: PipelineRequest = from_js_strict(request, "pipeline request")?;
    let mut points: Vec<PointResult> = from_js(points, "scan points")?;
    points.sort_by_key(|p| p.index);
    Ok(ScanResults { grid, request, software: software_version(), points })
}

#[derive(Serialize)]
pub(super) struct MapOut {
    name: String,
    title: String,
    /// "scalar", "categorical" or "rgb"
    kind: &'static str,
    unit: String,
    nx: usize,
    ny: usize,
    /// per grid point (row iy, column ix at iy·nx + ix): the value (NaN: none)
    values: Vec<f64>,
    /// per grid point: r, g, b (0–255) as the PNG draws it; [-1, -1, -1] where there is nothing
    rgb: Vec<[i16; 3]>,
    /// names of the categories (categorical maps)
    categories: Vec<String>,
    /// [min, max] of the colour scale (scalar maps; [0, 1] without data)
    range: Option<[f64; 2]>,
}

pub(super) fn map_out(m: &Map) -> MapOut {
    match m {
        Map::Scalar(s) => {
            let range = s.range();
            let [lo, hi] = range;
            let categorical = !s.categories.is_empty();
            let rgb = s
                .values
                .iter()
                .map(|&v| {
                    if !v.is_finite() {
                        return [-1; 3];
                    }
                    let t = if categorical {
                        crate::scan::maps::category_colour(v as usize)
                    } else {
                        crate::scan::maps::viridis(if hi > lo { (v - lo) / (hi - lo) } else { 0.5 })
                    };
                    t.map(i16::from)
                })
                .collect();
            MapOut {
                name: s.name.clone(),
                title: s.title.clone(),
                kind: if categorical { "categorical" } else { "scalar" },
                unit: s.unit.clone(),
                nx: s.nx,
                ny: s.ny,
                values: s.values.clone(),
                rgb,
                categories: s.categories.clone(),
                range: Some(range),
            }
        }
        Map::Rgb(r) => MapOut {
            name: r.name.clone(),
            title: r.title.clone(),
            kind: "rgb",
            unit: String::new(),
            nx: r.nx,
            ny: r.ny,
            values: Vec::new(),
            rgb: r.rgb.iter().map(|c| c.map_or([-1; 3], |c| c.map(i16::from))).collect(),
            categories: Vec::new(),
            range: None,
        },
    }
}

/// The maps of a scan's results (`points`: the results gathered so far, any order; missing points are
/// blank): `[{name, title, kind, unit, nx, ny, values, rgb, categories, range}]`, the same maps as
/// `lauekit scan maps`.
#[wasm_bindgen]
pub fn scan_maps(grid: JsValue, request: JsValue, points: JsValue) -> Result<JsValue, JsError> {
    let r = results_of(grid, request, points)?;
    let maps = all_maps(&r, &MapOptions::default()).map_err(err)?;
    to_js(&maps.iter().map(map_out).collect::<Vec<_>>())
}

/// One map of the results as PNG bytes (colour bar, axes, IPF key), as `lauekit scan maps` writes it.
#[wasm_bindgen]
pub fn scan_map_png(
    grid: JsValue,
    request: JsValue,
    points: JsValue,
    name: &str,
) -> Result<Vec<u8>, JsError> {
    let r = results_of(grid, request, points)?;
    let maps = all_maps(&r, &MapOptions::default()).map_err(err)?;
    let m = maps.iter().find(|m| m.name() == name).ok_or_else(|| JsError::new(&format!("no map {name}")))?;
    m.to_png(&PngOptions::default()).map_err(err)
}

/// One map's values as CSV.
#[wasm_bindgen]
pub fn scan_map_csv(grid: JsValue, request: JsValue, points: JsValue, name: &str) -> Result<String, JsError> {
    let r = results_of(grid, request, points)?;
    let maps = all_maps(&r, &MapOptions::default()).map_err(err)?;
    let m = maps.iter().find(|m| m.name() == name).ok_or_else(|| JsError::new(&format!("no map {name}")))?;
    Ok(m.to_csv())
}

/// The results as the HDF5 file `lauekit scan` writes.
#[wasm_bindgen]
pub fn scan_hdf5(grid: JsValue, request: JsValue, points: JsValue) -> Result<Vec<u8>, JsError> {
    crate::scan::h5::to_hdf5(&results_of(grid, request, points)?, None).map_err(err)
}

/// The results as an HKL Channel 5 `.ctf` (MTEX, orix).
#[wasm_bindgen]
pub fn scan_ctf(grid: JsValue, request: JsValue, points: JsValue) -> Result<String, JsError> {
    Ok(crate::scan::export::to_ctf(&results_of(grid, request, points)?))
}

/// The results as the JSON of `lauekit scan --json`.
#[wasm_bindgen]
pub fn scan_json(grid: JsValue, request: JsValue, points: JsValue, seconds: f64) -> Result<String, JsError> {
    let v = crate::scan::export::to_json(&results_of(grid, request, points)?, seconds);
    serde_json::to_string_pretty(&v).map_err(|e| JsError::new(&e.to_string()))
}
