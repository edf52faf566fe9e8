//! Maps of a scan: one value (or colour) per grid point, and their PNG and CSV renderings.
//!
//! Layout: nx × ny points, row-major (`iy · nx + ix`): row iy, column ix, drawn with iy = 0 at the top and
//! ix = 0 at the left. Positions are `(ix · step_x, iy · step_y)` µm when the grid's step is known, else grid
//! indices. The scan's motor axes need not coincide with the sample frame below.
//!
//! Maps ([`all_maps`]): number of peaks, intensity sum, peaks intensity, matching rate of the main grain
//! (`grains[0]`), number of grains, phase (material index of the main grain, with the names as categories),
//! IPF colours along sample X, Y and Z ([`super::ipf`]), kernel average misorientation, grain labels and the
//! misorientation to the grain mean ([`super::grains`]), the six deviatoric strain components in the sample
//! frame and the von Mises equivalent strain (both ×10⁻³: the values are stored in units of 10⁻³).
//!
//! Orientations: U = nearest rotation of the main grain's UB, lab frame. The IPF maps look at the crystal
//! direction along a sample axis in LaueTools' sample frame: the lab frame tilted 40° about lab y, the same
//! rotation T = R_y(−40°) as `strain_in_sample_frame` (src/index/refine.rs), so sample X = (cos 40°, 0,
//! sin 40°), Y = lab y, Z = (−sin 40°, 0, cos 40°) in the lab (x along the beam, z up); the crystal direction
//! along sample axis d is Uᵀ·T·d. Colour conventions per Laue class: [`super::ipf`].
//!
//! Points without data (absent, failed, or without grain for the grain-based maps) are NaN in scalar maps
//! (drawn grey) and `None` in colour maps (drawn black); the PNG legends say so.
//!
//! Kernel average misorientation (KAM): at each point, the mean symmetry-aware misorientation to its 4 (or 8)
//! nearest neighbours of the same material whose misorientation is below a threshold (default 5°); NaN when
//! no neighbour qualifies.

use serde::{Deserialize, Serialize};

use super::grains::{
    GrainOptions, ScanOrientations, grid_points, misorientation_to_grain_mean, segment_orientations,
};
use super::ipf::{IpfColouring, IpfKey, SampleAxis, hsv_to_rgb};
use super::{PointResult, ScanResults};
use crate::crystal::{Lattice, LaueGroup};
use crate::error::{LaueError, Result, Stage};
use crate::pipeline::{GrainReport, PointStatus};

/// What the maps are computed with.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MapOptions {
    /// KAM: neighbours misoriented by this much (deg) or more are left out
    pub kam_threshold_deg: f64,
    /// KAM: 4 (edge) or 8 (edge and corner) neighbours
    pub kam_neighbours: usize,
    /// grain segmentation (for the grain and grain-mean maps)
    pub grains: GrainOptions,
    /// which key colours the IPF maps
    pub ipf_colouring: IpfColouring,
}

impl Default for MapOptions {
    fn default() -> Self {
        MapOptions {
            kam_threshold_deg: 5.0,
            kam_neighbours: 4,
            grains: GrainOptions::default(),
            ipf_colouring: IpfColouring::LaueClass,
        }
    }
}

/// How a map is drawn as PNG.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PngOptions {
    /// each point is a k × k block with k the smallest making the map at least this wide (px); k is lowered
    /// (to 1 at least) so that the map stays under 4000 px high
    pub min_width_px: usize,
    /// size of the 5 × 7 font's pixels (px)
    pub text_scale: usize,
}

impl Default for PngOptions {
    fn default() -> Self {
        PngOptions { min_width_px: 400, text_scale: 2 }
    }
}

/// One value per point.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScalarMap {
    /// identifier, usable in file names (`kam`, `strain_xx` …)
    pub name: String,
    /// what the PNG's title says
    pub title: String,
    /// unit of the values (`deg`, `%`, `counts`, `1e-3` …; empty for plain numbers)
    pub unit: String,
    pub nx: usize,
    pub ny: usize,
    /// grid step (µm), when known
    pub step_um: Option<[f64; 2]>,
    /// row-major (`iy · nx + ix`); NaN: no data
    pub values: Vec<f64>,
    /// non-empty for a categorical map: value k (an integer) is `categories[k]`
    pub categories: Vec<String>,
}

/// What an IPF map's key is drawn from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IpfKeySpec {
    pub material: String,
    pub laue_group: LaueGroup,
    pub lattice: Lattice,
    pub colouring: IpfColouring,
}

/// One colour per point.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RgbMap {
    pub name: String,
    pub title: String,
    pub nx: usize,
    pub ny: usize,
    pub step_um: Option<[f64; 2]>,
    /// row-major (`iy · nx + ix`); None: no data
    pub rgb: Vec<Option<[u8; 3]>>,
    /// the keys to draw beside the map (one per material of an IPF map)
    pub keys: Vec<IpfKeySpec>,
}

/// A map of either kind.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Map {
    Scalar(ScalarMap),
    Rgb(RgbMap),
}

impl Map {
    /// The map's identifier.
    pub fn name(&self) -> &str {
        match self {
            Map::Scalar(m) => &m.name,
            Map::Rgb(m) => &m.name,
        }
    }

    /// The map drawn as a PNG (see [`ScalarMap::to_png`], [`RgbMap::to_png`]).
    pub fn to_png(&self, options: &PngOptions) -> Result<Vec<u8>> {
        match self {
            Map::Scalar(m) => m.to_png(options),
            Map::Rgb(m) => m.to_png(options),
        }
    }

    /// The map as CSV (see [`ScalarMap::to_csv`], [`RgbMap::to_csv`]).
    pub fn to_csv(&self) -> String {
        match self {
            Map::Scalar(m) => m.to_csv(),
            Map::Rgb(m) => m.to_csv(),
        }
    }
}

/// Every map of a scan, in the order of the module documentation.
pub fn all_maps(results: &ScanResults, options: &MapOptions) -> Result<Vec<Map>> {
    let points = grid_points(results)?;
    let orientations = ScanOrientations::from_results(results)?;
    let segmentation = segment_orientations(&orientations, &options.grains)?;
    let grid = &results.grid;
    let scalar = |name: &str, title: &str, unit: &str, values: Vec<f64>| ScalarMap {
        name: name.into(),
        title: title.into(),
        unit: unit.into(),
        nx: grid.nx,
        ny: grid.ny,
        step_um: grid.step_um,
        values,
        categories: Vec::new(),
    };
    let per_point = |f: &dyn Fn(&PointResult) -> f64| -> Vec<f64> {
        points
            .iter()
            .map(|p| match p {
                Some(p) if p.status != PointStatus::Failed => f(p),
                _ => f64::NAN,
            })
            .collect()
    };
    let per_grain = |f: &dyn Fn(&GrainReport) -> f64| per_point(&|p| p.main_grain().map_or(f64::NAN, f));

    let mut maps = vec![
        Map::Scalar(scalar("n_peaks", "peaks", "", per_point(&|p| p.n_peaks as f64))),
        Map::Scalar(scalar("intensity_sum", "intensity sum", "counts", per_point(&|p| p.intensity_sum))),
        Map::Scalar(scalar(
            "peaks_intensity",
            "peaks intensity",
            "counts",
            per_point(&|p| p.peaks_intensity),
        )),
        Map::Scalar(scalar("matching_rate", "matching rate", "%", per_grain(&|g| g.matching_rate))),
        Map::Scalar(scalar("n_grains", "grains found", "", per_point(&|p| p.grains.len() as f64))),
    ];
    let mut phase = scalar(
        "phase",
        "phase",
        "",
        orientations.points.iter().map(|p| p.map_or(f64::NAN, |p| p.phase as f64)).collect(),
    );
    phase.categories = orientations.phases.iter().map(|p| p.name.clone()).collect();
    maps.push(Map::Scalar(phase));
    for axis in SampleAxis::ALL {
        maps.push(Map::Rgb(ipf_map(&orientations, axis, options.ipf_colouring)?));
    }
    maps.push(Map::Scalar(scalar(
        "kam",
        "kernel average misorientation",
        "deg",
        kernel_average_misorientation(&orientations, options.kam_threshold_deg, options.kam_neighbours)?,
    )));
    let mut grains = scalar(
        "grain",
        "grains",
        "",
        segmentation.labels.iter().map(|l| l.map_or(f64::NAN, |k| k as f64)).collect(),
    );
    grains.categories =
        segmentation.grains.iter().map(|g| format!("{} {} ({} pts)", g.id, g.material, g.n_points)).collect();
    maps.push(Map::Scalar(grains));
    maps.push(Map::Scalar(scalar(
        "grain_misorientation",
        "misorientation to grain mean",
        "deg",
        misorientation_to_grain_mean(&orientations, &segmentation),
    )));
    for (k, c) in ["xx", "yy", "zz", "yz", "xz", "xy"].iter().enumerate() {
        maps.push(Map::Scalar(scalar(
            &format!("strain_{c}"),
            &format!("deviatoric strain {c} (sample)"),
            "1e-3",
            per_grain(&|g| g.strain.sample[k] * 1e3),
        )));
    }
    maps.push(Map::Scalar(scalar(
        "von_mises",
        "von mises strain",
        "1e-3",
        per_grain(&|g| g.strain.von_mises * 1e3),
    )));
    Ok(maps)
}

/// IPF colours of the main grains along a sample axis, each point with the key of its material's class.
pub fn ipf_map(o: &ScanOrientations, axis: SampleAxis, colouring: IpfColouring) -> Result<RgbMap> {
    let keys: Vec<IpfKey> = o
        .phases
        .iter()
        .map(|p| {
            IpfKey::new(p.laue_group, &p.lattice, colouring)
                .or_else(|_| IpfKey::new(p.laue_group, &p.lattice, IpfColouring::LaueClass))
        })
        .collect::<Result<_>>()?;
    let rgb = o.points.iter().map(|p| p.map(|p| keys[p.phase].colour_of_orientation(&p.u, axis))).collect();
    let specs = o
        .phases
        .iter()
        .map(|p| IpfKeySpec {
            material: p.name.clone(),
            laue_group: p.laue_group,
            lattice: p.lattice,
            colouring,
        })
        .collect();
    let g = &o.grid;
    Ok(RgbMap {
        name: format!("ipf_{}", axis.name()),
        title: format!("IPF sample {}", axis.name()),
        nx: g.nx,
        ny: g.ny,
        step_um: g.step_um,
        rgb,
        keys: specs,
    })
}

/// Kernel average misorientation (deg) per point, row-major: mean misorientation to the `neighbours` (4 or 8)
/// nearest points of the same material misoriented by less than `threshold_deg`; NaN without orientation or
/// without such a neighbour.
pub fn kernel_average_misorientation(
    o: &ScanOrientations,
    threshold_deg: f64,
    neighbours: usize,
) -> Result<Vec<f64>> {
    if !(threshold_deg.is_finite() && threshold_deg > 0.0) {
        return Err(LaueError::settings(
            Stage::Maps,
            format!("KAM threshold {threshold_deg}°: need a positive angle"),
        ));
    }
    let offsets: &[(isize, isize)] = match neighbours {
        4 => &[(-1, 0), (1, 0), (0, -1), (0, 1)],
        8 => &[(-1, 0), (1, 0), (0, -1), (0, 1), (-1, -1), (1, -1), (-1, 1), (1, 1)],
        n => {
            return Err(LaueError::settings(Stage::Maps, format!("KAM over {n} neighbours: use 4 or 8")));
        }
    };
    let (nx, ny) = (o.grid.nx as isize, o.grid.ny as isize);
    let mut out = vec![f64::NAN; o.points.len()];
    for (i, v) in out.iter_mut().enumerate() {
        if o.points[i].is_none() {
            continue;
        }
        let (ix, iy) = ((i as isize) % nx, (i as isize) / nx);
        let (mut sum, mut count) = (0.0, 0usize);
        for (dx, dy) in offsets {
            let (jx, jy) = (ix + dx, iy + dy);
            if jx < 0 || jy < 0 || jx >= nx || jy >= ny {
                continue;
            }
            if let Some(m) = o.misorientation_deg(i, (jy * nx + jx) as usize)
                && m < threshold_deg
            {
                sum += m;
                count += 1;
            }
        }
        if count > 0 {
            *v = sum / count as f64;
        }
    }
    Ok(out)
}

/// CSV position columns of point (ix, iy): `ix,iy,x_um,y_um` (µm empty when the step is unknown).
fn csv_position(ix: usize, iy: usize, step_um: Option<[f64; 2]>) -> String {
    match step_um {
        Some([sx, sy]) => format!("{ix},{iy},{},{}", ix as f64 * sx, iy as f64 * sy),
        None => format!("{ix},{iy},,"),
    }
}

impl ScalarMap {
    /// CSV with a header `ix,iy,x_um,y_um,value` and one row per grid point (row-major); NaN values and
    /// unknown positions are empty fields.
    pub fn to_csv(&self) -> String {
        let mut s = String::from("ix,iy,x_um,y_um,value\n");
        for iy in 0..self.ny {
            for ix in 0..self.nx {
                let v = self.values.get(iy * self.nx + ix).copied().unwrap_or(f64::NAN);
                let v = if v.is_finite() { v.to_string() } else { String::new() };
                s.push_str(&format!("{},{v}\n", csv_position(ix, iy, self.step_um)));
            }
        }
        s
    }

    /// Finite range of the values (a small interval around a constant; [0, 1] without data).
    pub fn range(&self) -> [f64; 2] {
        let (lo, hi) = self
            .values
            .iter()
            .filter(|v| v.is_finite())
            .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), &v| (lo.min(v), hi.max(v)));
        if lo > hi {
            [0.0, 1.0]
        } else if hi - lo <= 1e-12 * lo.abs().max(hi.abs()) {
            let d = if lo == 0.0 { 1.0 } else { lo.abs() * 0.1 };
            [lo - d, hi + d]
        } else {
            [lo, hi]
        }
    }

    /// The map as a PNG: the points as k × k blocks, axes (µm when the step is known, else indices), the
    /// title, and a viridis colour bar with ticks (or, for a categorical map, a legend); NaN points grey.
    pub fn to_png(&self, options: &PngOptions) -> Result<Vec<u8>> {
        self.render(options)?.png()
    }

    fn render(&self, options: &PngOptions) -> Result<Canvas> {
        check_len(&self.name, self.values.len(), self.nx, self.ny)?;
        let s = options.text_scale.max(1);
        let categorical = !self.categories.is_empty();
        let [lo, hi] = self.range();
        let colour = |i: usize| {
            let v = self.values[i];
            if !v.is_finite() {
                NO_DATA_GREY
            } else if categorical {
                category_colour(v.round().max(0.0) as usize)
            } else {
                viridis((v - lo) / (hi - lo))
            }
        };
        let title =
            if self.unit.is_empty() { self.title.clone() } else { format!("{} ({})", self.title, self.unit) };
        let panel = map_panel(self.nx, self.ny, self.step_um, &title, &colour, options);
        let has_nan = self.values.iter().any(|v| !v.is_finite());
        let side = if categorical {
            let mut entries: Vec<([u8; 3], String)> = self
                .categories
                .iter()
                .enumerate()
                .take(LEGEND_MAX)
                .map(|(k, c)| (category_colour(k), c.clone()))
                .collect();
            if self.categories.len() > LEGEND_MAX {
                entries.push(([255, 255, 255], format!("... {} more", self.categories.len() - LEGEND_MAX)));
            }
            if has_nan {
                entries.push((NO_DATA_GREY, "grey: no data".into()));
            }
            legend_panel(&entries, s)
        } else {
            colourbar_panel(lo, hi, panel.map_h.max(60 * s), has_nan, s)
        };
        Ok(hstack(&panel.canvas, &side, panel.map_top, 6 * s))
    }
}

impl RgbMap {
    /// CSV with a header `ix,iy,x_um,y_um,r,g,b` and one row per grid point (row-major); points without data
    /// have empty colour fields.
    pub fn to_csv(&self) -> String {
        let mut s = String::from("ix,iy,x_um,y_um,r,g,b\n");
        for iy in 0..self.ny {
            for ix in 0..self.nx {
                let pos = csv_position(ix, iy, self.step_um);
                match self.rgb.get(iy * self.nx + ix).copied().flatten() {
                    Some([r, g, b]) => s.push_str(&format!("{pos},{r},{g},{b}\n")),
                    None => s.push_str(&format!("{pos},,,\n")),
                }
            }
        }
        s
    }

    /// The map as a PNG: the points as k × k blocks, axes, the title, and beside it the colour key of each
    /// material's Laue class with its corner labels; points without data black.
    pub fn to_png(&self, options: &PngOptions) -> Result<Vec<u8>> {
        self.render(options)?.png()
    }

    fn render(&self, options: &PngOptions) -> Result<Canvas> {
        check_len(&self.name, self.rgb.len(), self.nx, self.ny)?;
        let s = options.text_scale.max(1);
        let colour = |i: usize| self.rgb[i].unwrap_or(NO_GRAIN_BLACK);
        let panel = map_panel(self.nx, self.ny, self.step_um, &self.title, &colour, options);
        let mut parts = Vec::new();
        for spec in &self.keys {
            let key = IpfKey::new(spec.laue_group, &spec.lattice, spec.colouring)?;
            let mut title = format!("{} {}", spec.material, spec.laue_group.symbol());
            if key.group != spec.laue_group {
                title.push_str(&format!(" ({} key)", key.group.symbol()));
            }
            parts.push(key_panel(&key, &title, s));
        }
        if self.rgb.iter().any(Option::is_none) {
            parts.push(legend_panel(&[(NO_GRAIN_BLACK, "black: no grain".into())], s));
        }
        let side = vstack(&parts, 4 * s);
        Ok(hstack(&panel.canvas, &side, panel.map_top, 6 * s))
    }
}

fn check_len(name: &str, len: usize, nx: usize, ny: usize) -> Result<()> {
    if len != nx * ny || len == 0 {
        return Err(LaueError::settings(
            Stage::Maps,
            format!("map '{name}' has {len} values for a {nx}×{ny} grid"),
        ));
    }
    Ok(())
}

const NO_DATA_GREY: [u8; 3] = [150, 150, 150];
const NO_GRAIN_BLACK: [u8; 3] = [0, 0, 0];
const BLACK: [u8; 3] = [0, 0, 0];
const WHITE: [u8; 3] = [255, 255, 255];
const LEGEND_MAX: usize = 16;

/// Viridis-like colour of t ∈ [0, 1] (10 samples of matplotlib's viridis, linearly interpolated).
pub fn viridis(t: f64) -> [u8; 3] {
    const STOPS: [[u8; 3]; 10] = [
        [68, 1, 84],
        [72, 40, 120],
        [62, 74, 137],
        [49, 104, 142],
        [38, 130, 142],
        [31, 158, 137],
        [53, 183, 121],
        [109, 205, 89],
        [180, 222, 44],
        [253, 231, 37],
    ];
    let x = if t.is_finite() { t.clamp(0.0, 1.0) } else { 0.0 } * (STOPS.len() - 1) as f64;
    let i = (x.floor() as usize).min(STOPS.len() - 2);
    let f = x - i as f64;
    [0, 1, 2].map(|c| (STOPS[i][c] as f64 * (1.0 - f) + STOPS[i + 1][c] as f64 * f).round() as u8)
}

/// Colour of category k: hues spaced by the golden angle.
pub fn category_colour(k: usize) -> [u8; 3] {
    hsv_to_rgb((k as f64 * 137.507_764) % 360.0, 0.65, 0.92)
}

/// An RGB raster, white by default.
struct Canvas {
    w: usize,
    h: usize,
    px: Vec<[u8; 3]>,
}

impl Canvas {
    fn new(w: usize, h: usize) -> Self {
        Canvas { w: w.max(1), h: h.max(1), px: vec![WHITE; w.max(1) * h.max(1)] }
    }

    fn set(&mut self, x: isize, y: isize, c: [u8; 3]) {
        if x >= 0 && y >= 0 && (x as usize) < self.w && (y as usize) < self.h {
            self.px[y as usize * self.w + x as usize] = c;
        }
    }

    fn fill(&mut self, x: isize, y: isize, w: usize, h: usize, c: [u8; 3]) {
        for dy in 0..h as isize {
            for dx in 0..w as isize {
                self.set(x + dx, y + dy, c);
            }
        }
    }

    fn outline(&mut self, x: isize, y: isize, w: usize, h: usize, c: [u8; 3]) {
        let (w, h) = (w as isize, h as isize);
        for d in 0..w {
            self.set(x + d, y, c);
            self.set(x + d, y + h - 1, c);
        }
        for d in 0..h {
            self.set(x, y + d, c);
            self.set(x + w - 1, y + d, c);
        }
    }

    /// Draws `text` with its top-left corner at (x, y).
    fn text(&mut self, x: isize, y: isize, text: &str, scale: usize, c: [u8; 3]) {
        let sc = scale as isize;
        let chars: Vec<char> = text.chars().collect();
        for (n, &ch) in chars.iter().enumerate() {
            // "µm" keeps its lower-case m (upper case would read as micromolar).
            let rows = if ch == 'm' && n > 0 && chars[n - 1] == 'µ' { LOWER_M } else { glyph(ch) };
            let x0 = x + n as isize * 6 * sc;
            for (r, bits) in rows.iter().enumerate() {
                for col in 0..5 {
                    if bits & (0b10000 >> col) != 0 {
                        for dy in 0..sc {
                            for dx in 0..sc {
                                self.set(x0 + col * sc + dx, y + r as isize * sc + dy, c);
                            }
                        }
                    }
                }
            }
        }
    }

    fn blit(&mut self, other: &Canvas, x: usize, y: usize) {
        for oy in 0..other.h {
            for ox in 0..other.w {
                self.set((x + ox) as isize, (y + oy) as isize, other.px[oy * other.w + ox]);
            }
        }
    }

    fn png(&self) -> Result<Vec<u8>> {
        let err = |e: png::EncodingError| LaueError::Write { file: "map.png".into(), reason: e.to_string() };
        let mut out = Vec::new();
        {
            let mut enc = png::Encoder::new(&mut out, self.w as u32, self.h as u32);
            enc.set_color(png::ColorType::Rgb);
            enc.set_depth(png::BitDepth::Eight);
            let mut writer = enc.write_header().map_err(err)?;
            let data: Vec<u8> = self.px.iter().flatten().copied().collect();
            writer.write_image_data(&data).map_err(err)?;
            writer.finish().map_err(err)?;
        }
        Ok(out)
    }
}

/// Width (px) of `text` in the 5 × 7 font at `scale`.
fn text_width(text: &str, scale: usize) -> usize {
    let n = text.chars().count();
    if n == 0 { 0 } else { (6 * n - 1) * scale }
}

/// `a` with `b` to its right, `b`'s top at `b_top` of `a`.
fn hstack(a: &Canvas, b: &Canvas, b_top: usize, gap: usize) -> Canvas {
    let mut c = Canvas::new(a.w + gap + b.w + gap, a.h.max(b_top + b.h + gap));
    c.blit(a, 0, 0);
    c.blit(b, a.w + gap, b_top);
    c
}

/// Canvases one above the other.
fn vstack(parts: &[Canvas], gap: usize) -> Canvas {
    let w = parts.iter().map(|p| p.w).max().unwrap_or(1);
    let h = parts.iter().map(|p| p.h + gap).sum::<usize>();
    let mut c = Canvas::new(w, h);
    let mut y = 0;
    for p in parts {
        c.blit(p, 0, y);
        y += p.h + gap;
    }
    c
}

struct MapPanel {
    canvas: Canvas,
    /// row of the map's first pixel
    map_top: usize,
    /// map height (px)
    map_h: usize,
}

/// The map with its title and axes.
fn map_panel(
    nx: usize,
    ny: usize,
    step_um: Option<[f64; 2]>,
    title: &str,
    colour: &dyn Fn(usize) -> [u8; 3],
    options: &PngOptions,
) -> MapPanel {
    let s = options.text_scale.max(1);
    let (ch, pad, tick) = (7 * s, 4 * s, 3 * s);
    let k = options.min_width_px.div_ceil(nx).clamp(1, (4000 / ny).max(1));
    let (w, h) = (nx * k, ny * k);
    let ([sx, sy], min_step, x_name, y_name) = match step_um {
        Some(st) => (st, 0.0, "x (µm)", "y (µm)"),
        None => ([1.0, 1.0], 1.0, "ix", "iy"),
    };
    let label_w = text_width("00000", s) + pad;
    let (xt, xstep) = nice_ticks(0.0, (nx - 1) as f64 * sx, (w / label_w).max(1), min_step * sx);
    let (yt, ystep) = nice_ticks(0.0, (ny - 1) as f64 * sy, (h / (3 * ch)).max(1), min_step * sy);
    let xl: Vec<String> = xt.iter().map(|&v| fmt_tick(v, xstep)).collect();
    let yl: Vec<String> = yt.iter().map(|&v| fmt_tick(v, ystep)).collect();
    let yl_w = yl.iter().map(|l| text_width(l, s)).max().unwrap_or(0).max(text_width(y_name, s));
    let last_x_half = xl.last().map_or(0, |l| text_width(l, s) / 2);
    let ml = pad + yl_w + s + tick;
    let mt = pad + ch + pad + ch + s;
    let width =
        (ml + w + pad + last_x_half).max(ml + text_width(title, s) + pad).max(text_width(title, s) + 2 * pad);
    let height = mt + h + tick + s + ch + pad + ch + pad;
    let mut c = Canvas::new(width, height);
    c.text(pad as isize, pad as isize, title, s, BLACK);
    c.text((ml - tick - s - text_width(y_name, s)) as isize, (pad + ch + pad) as isize, y_name, s, BLACK);
    for iy in 0..ny {
        for ix in 0..nx {
            c.fill((ml + ix * k) as isize, (mt + iy * k) as isize, k, k, colour(iy * nx + ix));
        }
    }
    c.outline(ml as isize - 1, mt as isize - 1, w + 2, h + 2, BLACK);
    for (v, l) in xt.iter().zip(&xl) {
        let x = ml as isize + ((v / sx + 0.5) * k as f64) as isize;
        c.fill(x, (mt + h + 1) as isize, s, tick, BLACK);
        c.text(x - (text_width(l, s) / 2) as isize, (mt + h + tick + s) as isize, l, s, BLACK);
    }
    for (v, l) in yt.iter().zip(&yl) {
        let y = mt as isize + ((v / sy + 0.5) * k as f64) as isize;
        c.fill((ml - tick - 1) as isize, y, tick, s, BLACK);
        let lx = ml as isize - (tick + s + text_width(l, s)) as isize - 1;
        c.text(lx, y - (ch / 2) as isize, l, s, BLACK);
    }
    let xn = ml as isize + (w / 2) as isize - (text_width(x_name, s) / 2) as isize;
    c.text(xn, (mt + h + tick + s + ch + pad) as isize, x_name, s, BLACK);
    MapPanel { canvas: c, map_top: mt, map_h: h }
}

/// A vertical viridis bar from `lo` (bottom) to `hi` (top) with tick labels, and the no-data swatch.
fn colourbar_panel(lo: f64, hi: f64, bar_h: usize, has_nan: bool, s: usize) -> Canvas {
    let (ch, bar_w, tick) = (7 * s, 8 * s, 3 * s);
    let (ticks, step) = nice_ticks(lo, hi, (bar_h / (3 * ch)).max(2), 0.0);
    let labels: Vec<String> = ticks.iter().map(|&v| fmt_tick(v, step)).collect();
    let lw = labels.iter().map(|l| text_width(l, s)).max().unwrap_or(0);
    let nan_text = "grey: no data";
    let mut width = bar_w + tick + s + lw + s;
    let mut height = ch / 2 + bar_h + ch;
    if has_nan {
        width = width.max(ch + s * 2 + text_width(nan_text, s));
        height += 2 * ch;
    }
    let mut c = Canvas::new(width, height);
    let top = ch / 2;
    for r in 0..bar_h {
        let t = 1.0 - (r as f64 + 0.5) / bar_h as f64;
        c.fill(0, (top + r) as isize, bar_w, 1, viridis(t));
    }
    c.outline(0, top as isize, bar_w, bar_h, BLACK);
    for (v, l) in ticks.iter().zip(&labels) {
        let y = top as isize + ((1.0 - (v - lo) / (hi - lo)) * (bar_h - 1) as f64).round() as isize;
        c.fill(bar_w as isize, y, tick, s.min(2), BLACK);
        c.text((bar_w + tick + s) as isize, y - (ch / 2) as isize, l, s, BLACK);
    }
    if has_nan {
        let y = (top + bar_h + ch) as isize;
        c.fill(0, y, ch, ch, NO_DATA_GREY);
        c.text((ch + 2 * s) as isize, y, nan_text, s, BLACK);
    }
    c
}

/// Colour swatches with their names, one per row.
fn legend_panel(entries: &[([u8; 3], String)], s: usize) -> Canvas {
    let ch = 7 * s;
    let row = ch + 3 * s;
    let w = ch + 2 * s + entries.iter().map(|(_, t)| text_width(t, s)).max().unwrap_or(0);
    let mut c = Canvas::new(w, row * entries.len().max(1));
    for (i, (colour, text)) in entries.iter().enumerate() {
        let y = (i * row) as isize;
        c.fill(0, y, ch, ch, *colour);
        c.outline(0, y, ch, ch, BLACK);
        c.text((ch + 2 * s) as isize, y, text, s, BLACK);
    }
    c
}

/// The key of one Laue class: its fundamental sector in stereographic projection, coloured, outlined, with
/// labelled directions, under a title.
fn key_panel(key: &IpfKey, title: &str, s: usize) -> Canvas {
    let ch = 7 * s;
    let size = 90 * s;
    // Bounding box of the sector's projection, from a coarse sampling of the unit disc and the labels.
    let (mut x0, mut x1, mut y0, mut y1) =
        (f64::INFINITY, f64::NEG_INFINITY, f64::INFINITY, f64::NEG_INFINITY);
    let mut include = |p: [f64; 2]| {
        x0 = x0.min(p[0]);
        x1 = x1.max(p[0]);
        y0 = y0.min(p[1]);
        y1 = y1.max(p[1]);
    };
    let n = 160;
    for i in 0..=n {
        for j in 0..=n {
            let p = [2.0 * i as f64 / n as f64 - 1.0, 2.0 * j as f64 / n as f64 - 1.0];
            if p[0] * p[0] + p[1] * p[1] <= 1.0 && key.in_sector(&key.unproject(p), 1e-9) {
                include(p);
            }
        }
    }
    for (v, _) in key.labels() {
        include(key.project(v));
    }
    let span = (x1 - x0).max(y1 - y0).max(1e-6);
    let scale = size as f64 / span;
    let (kw, kh) = (((x1 - x0) * scale).ceil() as usize + 1, ((y1 - y0) * scale).ceil() as usize + 1);
    let lw = key.labels().iter().map(|(_, t)| text_width(t, s)).max().unwrap_or(0) + 2 * s;
    let (ox, oy) = (lw, ch + 2 * s + ch);
    let mut c = Canvas::new((2 * lw + kw).max(text_width(title, s)), oy + kh + ch + 2 * s);
    c.text(0, 0, title, s, BLACK);
    let mut inside = vec![false; kw * kh];
    for r in 0..kh {
        for q in 0..kw {
            let p = [x0 + (q as f64 + 0.5) / scale, y1 - (r as f64 + 0.5) / scale];
            if p[0] * p[0] + p[1] * p[1] > 1.0 + 1e-9 {
                continue;
            }
            let h = key.unproject(p);
            if key.in_sector(&h, 1e-9) {
                inside[r * kw + q] = true;
                c.set((ox + q) as isize, (oy + r) as isize, key.colour_in_sector(&h));
            }
        }
    }
    let is_in = |q: isize, r: isize| {
        q >= 0 && r >= 0 && (q as usize) < kw && (r as usize) < kh && inside[r as usize * kw + q as usize]
    };
    for r in 0..kh as isize {
        for q in 0..kw as isize {
            if is_in(q, r) && !(is_in(q - 1, r) && is_in(q + 1, r) && is_in(q, r - 1) && is_in(q, r + 1)) {
                c.set(ox as isize + q, oy as isize + r, BLACK);
            }
        }
    }
    let (cx, cy) = (kw as f64 / 2.0, kh as f64 / 2.0);
    for (v, text) in key.labels() {
        let p = key.project(v);
        let (q, r) = ((p[0] - x0) * scale, (y1 - p[1]) * scale);
        let tw = text_width(text, s) as isize;
        let x = if q < cx - 1.0 {
            ox as isize + q as isize - tw - s as isize
        } else {
            (ox as f64 + q) as isize + s as isize
        };
        let y = if r < cy {
            oy as isize + r as isize - ch as isize - s as isize
        } else {
            oy as isize + r as isize + s as isize
        };
        c.text(x, y.max(ch as isize + s as isize), text, s, BLACK);
    }
    c
}

/// "Nice" ticks (1, 2, 5 × 10ⁿ apart, at least `min_step`) in [lo, hi], about `max_n` of them, and the step.
fn nice_ticks(lo: f64, hi: f64, max_n: usize, min_step: f64) -> (Vec<f64>, f64) {
    let span = hi - lo;
    if !(span > 0.0 && span.is_finite()) {
        return (vec![lo], 1.0);
    }
    let raw = (span / max_n.max(1) as f64).max(min_step);
    let mag = 10f64.powf(raw.log10().floor());
    let step = [1.0, 2.0, 5.0, 10.0]
        .iter()
        .map(|m| m * mag)
        .find(|st| *st >= raw * (1.0 - 1e-9))
        .unwrap_or(10.0 * mag);
    let mut ticks = Vec::new();
    let mut k = (lo / step - 1e-9).ceil();
    while k * step <= hi + step * 1e-9 && ticks.len() < 100 {
        ticks.push(k * step);
        k += 1.0;
    }
    (ticks, step)
}

/// A tick label with as many decimals as the step needs; exponent notation for large or tiny values.
fn fmt_tick(v: f64, step: f64) -> String {
    if v.abs() < step * 1e-6 {
        return "0".into();
    }
    if v.abs() >= 1e5 || step < 1e-4 {
        let digits = (v.abs().log10().floor() - step.log10().floor()).clamp(1.0, 6.0) as usize;
        return format!("{v:.digits$e}");
    }
    let decimals = (-step.log10().floor()).clamp(0.0, 6.0) as usize;
    format!("{v:.decimals$}")
}

/// The 5 × 7 glyph of `c` (rows top to bottom, bit 4 = left column); lower case drawn as upper case (but
/// the m of µm), unknown characters as `?`.
fn glyph(c: char) -> [u8; 7] {
    let c = c.to_ascii_uppercase();
    FONT.iter().find(|(k, _)| *k == c).map_or(QUESTION, |(_, g)| *g)
}

const LOWER_M: [u8; 7] = [0b00000, 0b00000, 0b11010, 0b10101, 0b10101, 0b10101, 0b10101];
const QUESTION: [u8; 7] = [0b01110, 0b10001, 0b00001, 0b00010, 0b00100, 0b00000, 0b00100];

#[rustfmt::skip]
const FONT: &[(char, [u8; 7])] = &[
    (' ', [0, 0, 0, 0, 0, 0, 0]),
    ('0', [0b01110, 0b10001, 0b10011, 0b10101, 0b11001, 0b10001, 0b01110]),
    ('1', [0b00100, 0b01100, 0b00100, 0b00100, 0b00100, 0b00100, 0b01110]),
    ('2', [0b01110, 0b10001, 0b00001, 0b00010, 0b00100, 0b01000, 0b11111]),
    ('3', [0b11111, 0b00010, 0b00100, 0b00010, 0b00001, 0b10001, 0b01110]),
    ('4', [0b00010, 0b00110, 0b01010, 0b10010, 0b11111, 0b00010, 0b00010]),
    ('5', [0b11111, 0b10000, 0b11110, 0b00001, 0b00001, 0b10001, 0b01110]),
    ('6', [0b00110, 0b01000, 0b10000, 0b11110, 0b10001, 0b10001, 0b01110]),
    ('7', [0b11111, 0b00001, 0b00010, 0b00100, 0b01000, 0b01000, 0b01000]),
    ('8', [0b01110, 0b10001, 0b10001, 0b01110, 0b10001, 0b10001, 0b01110]),
    ('9', [0b01110, 0b10001, 0b10001, 0b01111, 0b00001, 0b00010, 0b01100]),
    ('A', [0b01110, 0b10001, 0b10001, 0b11111, 0b10001, 0b10001, 0b10001]),
    ('B', [0b11110, 0b10001, 0b10001, 0b11110, 0b10001, 0b10001, 0b11110]),
    ('C', [0b01110, 0b10001, 0b10000, 0b10000, 0b10000, 0b10001, 0b01110]),
    ('D', [0b11100, 0b10010, 0b10001, 0b10001, 0b10001, 0b10010, 0b11100]),
    ('E', [0b11111, 0b10000, 0b10000, 0b11110, 0b10000, 0b10000, 0b11111]),
    ('F', [0b11111, 0b10000, 0b10000, 0b11110, 0b10000, 0b10000, 0b10000]),
    ('G', [0b01110, 0b10001, 0b10000, 0b10111, 0b10001, 0b10001, 0b01111]),
    ('H', [0b10001, 0b10001, 0b10001, 0b11111, 0b10001, 0b10001, 0b10001]),
    ('I', [0b01110, 0b00100, 0b00100, 0b00100, 0b00100, 0b00100, 0b01110]),
    ('J', [0b00111, 0b00010, 0b00010, 0b00010, 0b00010, 0b10010, 0b01100]),
    ('K', [0b10001, 0b10010, 0b10100, 0b11000, 0b10100, 0b10010, 0b10001]),
    ('L', [0b10000, 0b10000, 0b10000, 0b10000, 0b10000, 0b10000, 0b11111]),
    ('M', [0b10001, 0b11011, 0b10101, 0b10101, 0b10001, 0b10001, 0b10001]),
    ('N', [0b10001, 0b10001, 0b11001, 0b10101, 0b10011, 0b10001, 0b10001]),
    ('O', [0b01110, 0b10001, 0b10001, 0b10001, 0b10001, 0b10001, 0b01110]),
    ('P', [0b11110, 0b10001, 0b10001, 0b11110, 0b10000, 0b10000, 0b10000]),
    ('Q', [0b01110, 0b10001, 0b10001, 0b10001, 0b10101, 0b10010, 0b01101]),
    ('R', [0b11110, 0b10001, 0b10001, 0b11110, 0b10100, 0b10010, 0b10001]),
    ('S', [0b01111, 0b10000, 0b10000, 0b01110, 0b00001, 0b00001, 0b11110]),
    ('T', [0b11111, 0b00100, 0b00100, 0b00100, 0b00100, 0b00100, 0b00100]),
    ('U', [0b10001, 0b10001, 0b10001, 0b10001, 0b10001, 0b10001, 0b01110]),
    ('V', [0b10001, 0b10001, 0b10001, 0b10001, 0b10001, 0b01010, 0b00100]),
    ('W', [0b10001, 0b10001, 0b10001, 0b10101, 0b10101, 0b10101, 0b01010]),
    ('X', [0b10001, 0b10001, 0b01010, 0b00100, 0b01010, 0b10001, 0b10001]),
    ('Y', [0b10001, 0b10001, 0b10001, 0b01010, 0b00100, 0b00100, 0b00100]),
    ('Z', [0b11111, 0b00001, 0b00010, 0b00100, 0b01000, 0b10000, 0b11111]),
    ('-', [0b00000, 0b00000, 0b00000, 0b11111, 0b00000, 0b00000, 0b00000]),
    ('+', [0b00000, 0b00100, 0b00100, 0b11111, 0b00100, 0b00100, 0b00000]),
    ('.', [0b00000, 0b00000, 0b00000, 0b00000, 0b00000, 0b01100, 0b01100]),
    (',', [0b00000, 0b00000, 0b00000, 0b00000, 0b01100, 0b00100, 0b01000]),
    (':', [0b00000, 0b01100, 0b01100, 0b00000, 0b01100, 0b01100, 0b00000]),
    ('/', [0b00000, 0b00001, 0b00010, 0b00100, 0b01000, 0b10000, 0b00000]),
    ('%', [0b11000, 0b11001, 0b00010, 0b00100, 0b01000, 0b10011, 0b00011]),
    ('(', [0b00010, 0b00100, 0b01000, 0b01000, 0b01000, 0b00100, 0b00010]),
    (')', [0b01000, 0b00100, 0b00010, 0b00010, 0b00010, 0b00100, 0b01000]),
    ('[', [0b01110, 0b01000, 0b01000, 0b01000, 0b01000, 0b01000, 0b01110]),
    (']', [0b01110, 0b00010, 0b00010, 0b00010, 0b00010, 0b00010, 0b01110]),
    ('=', [0b00000, 0b00000, 0b11111, 0b00000, 0b11111, 0b00000, 0b00000]),
    ('_', [0b00000, 0b00000, 0b00000, 0b00000, 0b00000, 0b00000, 0b11111]),
    ('µ', [0b00000, 0b10001, 0b10001, 0b10001, 0b10011, 0b11101, 0b10000]),
    ('°', [0b01100, 0b10010, 0b10010, 0b01100, 0b00000, 0b00000, 0b00000]),
];

#[cfg(test)]
mod tests {
    use super::super::ScanGrid;
    use super::super::grains::tests::{cu_grain, orientation_b, rot, scan, two_grains_and_twin};
    use super::*;
    use crate::geometry::orientation::euler_to_matrix;
    use crate::scan::ipf::sample_to_lab;
    use nalgebra::{Matrix3, Rotation3, Vector3};

    fn decode(bytes: &[u8]) -> (u32, u32) {
        let r = png::Decoder::new(std::io::Cursor::new(bytes)).read_info().unwrap();
        (r.info().width, r.info().height)
    }

    fn scalar<'a>(maps: &'a [Map], name: &str) -> &'a ScalarMap {
        match maps.iter().find(|m| m.name() == name) {
            Some(Map::Scalar(m)) => m,
            _ => panic!("no scalar map {name}"),
        }
    }

    fn rgb<'a>(maps: &'a [Map], name: &str) -> &'a RgbMap {
        match maps.iter().find(|m| m.name() == name) {
            Some(Map::Rgb(m)) => m,
            _ => panic!("no rgb map {name}"),
        }
    }

    /// Orientation (lab frame) putting the unit crystal direction `h` along sample axis `axis`.
    fn along(h: Vector3<f64>, axis: SampleAxis, spin_deg: f64) -> Matrix3<f64> {
        let to_axis = Rotation3::rotation_between(&h, &axis.sample_vector()).unwrap().into_inner();
        let spin =
            Rotation3::from_axis_angle(&nalgebra::Unit::new_normalize(h), spin_deg.to_radians()).into_inner();
        sample_to_lab() * to_axis * spin
    }

    fn close(a: Option<[u8; 3]>, b: [u8; 3]) -> bool {
        a.is_some_and(|a| a.iter().zip(b).all(|(x, y)| (*x as i32 - y as i32).abs() <= 1))
    }

    #[test]
    fn maps_of_two_grains_and_a_twin() {
        let r = two_grains_and_twin();
        let maps = all_maps(&r, &MapOptions::default()).unwrap();
        assert_eq!(maps.len(), 19);
        let at = |ix: usize, iy: usize| iy * 12 + ix;
        let peaks = scalar(&maps, "n_peaks");
        assert_eq!(peaks.values[at(3, 1)], 43.0);
        assert!(peaks.values[at(11, 7)].is_nan());
        assert_eq!(scalar(&maps, "matching_rate").values[at(0, 0)], 50.0);
        let phase = scalar(&maps, "phase");
        assert_eq!(phase.categories, ["Cu"]);
        assert_eq!(phase.values[at(4, 4)], 0.0);
        // KAM: 0 inside the uniform grain B; 0.05° inside A (0.1° to the two x neighbours, 0 to the y ones);
        // 0.1/3 at A's edge next to B (B is > 5° away and left out).
        let kam = scalar(&maps, "kam");
        assert!(kam.values[at(7, 0)].abs() < 1e-6);
        assert!((kam.values[at(2, 3)] - 0.05).abs() < 1e-6);
        assert!((kam.values[at(5, 3)] - 0.1 / 3.0).abs() < 1e-6);
        assert!(kam.values[at(11, 7)].is_nan());
        let gm = scalar(&maps, "grain_misorientation");
        assert!((gm.values[at(0, 6)] - 0.25).abs() < 1e-6);
        let grain = scalar(&maps, "grain");
        assert_eq!(grain.categories.len(), 3);
        assert_eq!(grain.values[at(9, 5)], 2.0);
        assert!(rgb(&maps, "ipf_x").rgb[at(11, 7)].is_none());
        assert!(scalar(&maps, "von_mises").values[at(1, 1)].abs() < 1e-9);

        for m in &maps {
            let csv = m.to_csv();
            assert_eq!(csv.lines().count(), 12 * 8 + 1, "{}", m.name());
            let png = m.to_png(&PngOptions::default()).unwrap();
            let (w, h) = decode(&png);
            let canvas = match m {
                Map::Scalar(s) => s.render(&PngOptions::default()).unwrap(),
                Map::Rgb(s) => s.render(&PngOptions::default()).unwrap(),
            };
            assert_eq!((w as usize, h as usize), (canvas.w, canvas.h));
            // 12 columns of 34 px blocks (the smallest k with 12·k ≥ 400), plus axes and legend.
            assert!(w >= 408 + 40 && h >= 8 * 34, "{} {w}×{h}", m.name());
        }
        let csv = scalar(&maps, "n_peaks").to_csv();
        assert_eq!(csv.lines().nth(1), Some("0,0,0,0,40"));
        assert!(csv.lines().any(|l| l == "11,7,11,14,"));
    }

    #[test]
    fn kam_at_a_low_angle_boundary() {
        // 4 × 2: columns 0–1 orientation B, columns 2–3 B turned 2° about lab x.
        let grid = ScanGrid::new(4, 2, None, false).unwrap();
        let turned = rot([1.0, 0.0, 0.0], 2.0) * orientation_b();
        let r = scan(grid, |ix, _| Some(vec![cu_grain(if ix < 2 { orientation_b() } else { turned })]));
        let o = ScanOrientations::from_results(&r).unwrap();
        let k4 = kernel_average_misorientation(&o, 5.0, 4).unwrap();
        // Point (1, 0): neighbours (0,0) 0°, (2,0) 2°, (1,1) 0° → 2/3°.
        assert!((k4[1] - 2.0 / 3.0).abs() < 1e-9, "{}", k4[1]);
        assert!(k4[0].abs() < 1e-9);
        // 8 neighbours: (0,0) 0, (2,0) 2, (1,1) 0, (0,1) 0, (2,1) 2 → 0.8°.
        let k8 = kernel_average_misorientation(&o, 5.0, 8).unwrap();
        assert!((k8[1] - 0.8).abs() < 1e-9);
        // Below a 1.5° threshold the boundary is ignored.
        let k = kernel_average_misorientation(&o, 1.5, 4).unwrap();
        assert!(k[1].abs() < 1e-9);
        assert!(kernel_average_misorientation(&o, 5.0, 6).is_err());
    }

    #[test]
    fn ipf_colours_of_cubic_corners() {
        let d001 = Vector3::new(0.0, 0.0, 1.0);
        let d101 = Vector3::new(1.0, 0.0, 1.0).normalize();
        let d111 = Vector3::new(1.0, 1.0, 1.0).normalize();
        let sym = LaueGroup::CubicM3m.rotations(&Lattice::cubic(3.6).unwrap()).unwrap();
        for axis in SampleAxis::ALL {
            let us = [along(d001, axis, 17.0), along(d101, axis, 17.0), along(d111, axis, 17.0)];
            let grid = ScanGrid::new(3, 1, None, false).unwrap();
            let r = scan(grid, |ix, _| Some(vec![cu_grain(us[ix])]));
            let o = ScanOrientations::from_results(&r).unwrap();
            let m = ipf_map(&o, axis, IpfColouring::LaueClass).unwrap();
            assert!(close(m.rgb[0], [255, 0, 0]), "{axis:?} {:?}", m.rgb[0]);
            assert!(close(m.rgb[1], [0, 255, 0]), "{axis:?} {:?}", m.rgb[1]);
            assert!(close(m.rgb[2], [0, 0, 255]), "{axis:?} {:?}", m.rgb[2]);
            // Symmetry-equivalent descriptions U·S of a generic orientation give one colour.
            let u = euler_to_matrix([23.0, 41.0, 67.0]);
            let grid = ScanGrid::new(sym.len(), 1, None, false).unwrap();
            let r = scan(grid, |ix, _| Some(vec![cu_grain(u * sym[ix])]));
            let m =
                ipf_map(&ScanOrientations::from_results(&r).unwrap(), axis, IpfColouring::LaueClass).unwrap();
            let first = m.rgb[0].unwrap();
            assert!(m.rgb.iter().all(|c| close(*c, first)), "{axis:?}");
        }
    }

    #[test]
    fn ipf_of_a_hexagonal_grain_and_its_png() {
        let hex = Lattice::hexagonal(3.189, 5.185).unwrap();
        let b0 = hex.b0();
        let gan = |u: Matrix3<f64>| {
            let mut g = cu_grain(u);
            g.material = "GaN".into();
            g.laue_group = "6/mmm".into();
            g.b0 = crate::pipeline::rows(&b0);
            g
        };
        let dir = |uvw: [f64; 3]| (hex.direct_basis() * Vector3::from(uvw)).normalize();
        // [0001], [2-1-10] = [100], [10-10] = [210] along sample Z.
        let us =
            [dir([0., 0., 1.]), dir([1., 0., 0.]), dir([2., 1., 0.])].map(|h| along(h, SampleAxis::Z, 5.0));
        let grid = ScanGrid::new(4, 1, Some([0.5, 0.5]), false).unwrap();
        let r = scan(grid, |ix, _| if ix < 3 { Some(vec![gan(us[ix])]) } else { Some(Vec::new()) });
        let o = ScanOrientations::from_results(&r).unwrap();
        assert_eq!(o.phases[0].laue_group, LaueGroup::Hexagonal6mmm);
        let m = ipf_map(&o, SampleAxis::Z, IpfColouring::LaueClass).unwrap();
        assert!(close(m.rgb[0], [255, 0, 0]) && close(m.rgb[1], [0, 255, 0]) && close(m.rgb[2], [0, 0, 255]));
        assert!(m.rgb[3].is_none());
        let png = m.to_png(&PngOptions::default()).unwrap();
        let canvas = m.render(&PngOptions::default()).unwrap();
        assert_eq!(decode(&png), (canvas.w as u32, canvas.h as u32));
        assert!(canvas.w >= 400 + 90 * 2, "{}", canvas.w);
        assert_eq!(m.to_csv().lines().nth(1), Some("0,0,0,0,255,0,0"));
        assert_eq!(m.to_csv().lines().nth(4), Some("3,0,1.5,0,,,"));
    }

    #[test]
    fn ticks_and_labels() {
        let (t, step) = nice_ticks(0.0, 11.0, 5, 1.0);
        assert_eq!(step, 5.0);
        assert_eq!(t, [0.0, 5.0, 10.0]);
        let (t, step) = nice_ticks(-0.013, 0.021, 4, 0.0);
        assert_eq!(step, 0.01);
        assert_eq!(t.iter().map(|&v| fmt_tick(v, step)).collect::<Vec<_>>(), ["-0.01", "0", "0.01", "0.02"]);
        assert_eq!(fmt_tick(2.5e6, 5e5), "2.5e6");
        assert_eq!(viridis(0.0), [68, 1, 84]);
        assert_eq!(viridis(1.0), [253, 231, 37]);
        assert_eq!(text_width("[001]", 2), 58);
    }
}
