//! A scan's results in other formats: the compact JSON of `lauekit scan --format json`, a LaueTools-style
//! summary table (its column names), and an HKL Channel 5 `.ctf` file that MTEX and orix read.
//!
//! Frames: LaueTools' lab frame (x along the beam, z up); the sample frame is the lab frame tilted 40° about
//! lab y (as for the strain, [`crate::index::refine::strain_in_sample_frame`]): v_sample = Tᵀ·v_lab.
//! Orientations in the `.ctf` are Bunge Euler angles (φ1, Φ, φ2; deg) of g = (Tᵀ·U)ᵀ, the passive rotation
//! from the sample frame to the crystal's Cartesian frame (B0's axes), as EBSD software writes them.

use nalgebra::{Matrix3, Rotation3, Vector3};
use serde::Serialize;

use super::ScanResults;
use crate::geometry::orientation::nearest_rotation;
use crate::pipeline::{GrainReport, PointStatus};

/// The rotation T of the sample frame: v_lab = T·v_sample (40° about lab y, LaueTools' tilt).
pub fn sample_tilt() -> Matrix3<f64> {
    Rotation3::from_axis_angle(&Vector3::y_axis(), -40f64.to_radians()).into_inner()
}

/// The crystal orientation in the sample frame: S maps crystal Cartesian (B0's axes) to sample coordinates.
pub fn orientation_in_sample(g: &GrainReport) -> Matrix3<f64> {
    sample_tilt().transpose() * nearest_rotation(&g.ub_matrix())
}

/// Bunge Euler angles (φ1, Φ, φ2; deg, φ1 and φ2 in [0, 360)) of the passive rotation `g`
/// (sample → crystal): g = Rz(φ2)·Rx(Φ)·Rz(φ1).
pub fn bunge_euler_deg(g: &Matrix3<f64>) -> [f64; 3] {
    let c = g[(2, 2)].clamp(-1.0, 1.0);
    let big_phi = c.acos();
    let (phi1, phi2) = if big_phi.sin().abs() > 1e-9 {
        (g[(2, 0)].atan2(-g[(2, 1)]), g[(0, 2)].atan2(g[(1, 2)]))
    } else {
        // Φ = 0 or π: only φ1 ± φ2 is defined; put it all in φ1.
        (g[(0, 1)].atan2(g[(0, 0)]) * c.signum(), 0.0)
    };
    let wrap = |a: f64| a.to_degrees().rem_euclid(360.0);
    [wrap(phi1), big_phi.to_degrees(), wrap(phi2)]
}

#[derive(Serialize)]
struct JsonGrain<'a> {
    material: &'a str,
    ub: [[f64; 3]; 3],
    euler: [f64; 3],
    matching_rate: f64,
    n_indexed: usize,
    rms_px: f64,
    strain_sample: [f64; 6],
}

#[derive(Serialize)]
struct JsonPoint<'a> {
    index: usize,
    ix: usize,
    iy: usize,
    image: &'a str,
    status: PointStatus,
    error: Option<&'a str>,
    n_peaks: usize,
    grains: Vec<JsonGrain<'a>>,
}

#[derive(Serialize)]
struct JsonScan<'a> {
    grid: [usize; 2],
    step_um: Option<[f64; 2]>,
    software: &'a str,
    request: &'a crate::pipeline::PipelineRequest,
    points: Vec<JsonPoint<'a>>,
    seconds: f64,
}

/// The JSON of `lauekit scan --format json`: `{"grid": [nx, ny], "points": [{"index", "ix", "iy", "image",
/// "status", "error", "n_peaks", "grains": [{"material", "ub", "euler", "matching_rate", "n_indexed",
/// "rms_px", "strain_sample"}]}], "seconds"}` (plus `step_um`, `software`, `request`).
pub fn to_json(r: &ScanResults, seconds: f64) -> serde_json::Value {
    let points = r
        .points
        .iter()
        .map(|p| JsonPoint {
            index: p.index,
            ix: p.ix,
            iy: p.iy,
            image: &p.image,
            status: p.status,
            error: p.error.as_deref(),
            n_peaks: p.n_peaks,
            grains: p
                .grains
                .iter()
                .map(|g| JsonGrain {
                    material: &g.material,
                    ub: g.ub,
                    euler: g.euler,
                    matching_rate: g.matching_rate,
                    n_indexed: g.n_indexed,
                    rms_px: g.rms_px,
                    strain_sample: g.strain.sample,
                })
                .collect(),
        })
        .collect();
    serde_json::to_value(JsonScan {
        grid: [r.grid.nx, r.grid.ny],
        step_um: r.grid.step_um,
        software: &r.software,
        request: &r.request,
        points,
        seconds,
    })
    .unwrap_or(serde_json::Value::Null)
}

/// LaueTools-style summary: one row per (point, grain), or one row with NaNs for a point without grain;
/// tab-separated with LaueTools' column names: `img gnumloc npeaks pixdev intensity dxymicrons_0
/// dxymicrons_1 matstarlab_0..8 strain6_crystal_0..5 euler3_0..2 strain6_sample_0..5 rgb_x_sample_0..2
/// rgb_y_sample_0..2 rgb_z_sample_0..2 von_mises` and lauekit's `ix iy status matching_rate material`.
/// `matstarlab` here is UB·B0 in LaueTools' lab frame (rows, a* normalised to 1); strains in 10⁻³ as in
/// LaueTools' summaries; `rgb_*` the IPF colour (0–1) of the sample axis, from `ipf_rgb`.
pub fn lauetools_summary(r: &ScanResults, ipf_rgb: &dyn Fn(&GrainReport, usize) -> [f64; 3]) -> String {
    let mut cols: Vec<String> =
        ["img", "gnumloc", "npeaks", "pixdev", "intensity", "dxymicrons_0", "dxymicrons_1"]
            .iter()
            .map(|s| s.to_string())
            .collect();
    cols.extend((0..9).map(|i| format!("matstarlab_{i}")));
    cols.extend((0..6).map(|i| format!("strain6_crystal_{i}")));
    cols.extend((0..3).map(|i| format!("euler3_{i}")));
    cols.extend((0..6).map(|i| format!("strain6_sample_{i}")));
    for axis in ["x", "y", "z"] {
        cols.extend((0..3).map(|i| format!("rgb_{axis}_sample_{i}")));
    }
    for c in ["von_mises", "ix", "iy", "status", "matching_rate", "material"] {
        cols.push(c.to_string());
    }
    let mut out = cols.join("\t");
    out.push('\n');
    let nan = f64::NAN;
    for p in &r.points {
        let [dx, dy] = r.grid.position_um(p.ix, p.iy).unwrap_or([p.ix as f64, p.iy as f64]);
        let head = |g: i64, pixdev: f64| {
            format!("{}\t{g}\t{}\t{}\t{}\t{dx}\t{dy}", p.index, p.n_peaks, fmt(pixdev), fmt(p.intensity_sum))
        };
        if p.grains.is_empty() {
            let mut row = head(-1, nan);
            for _ in 0..(9 + 6 + 3 + 6 + 9 + 1) {
                row.push_str("\tnan");
            }
            row.push_str(&format!("\t{}\t{}\t{}\tnan\t-\n", p.ix, p.iy, p.status.name()));
            out.push_str(&row);
            continue;
        }
        for (k, g) in p.grains.iter().enumerate() {
            let mut row = head(k as i64, g.rms_px);
            let m = g.ub_matrix() * g.b0_matrix();
            let norm = m.column(0).norm();
            for rr in 0..3 {
                for c in 0..3 {
                    row.push_str(&format!("\t{}", fmt(m[(rr, c)] / norm)));
                }
            }
            for v in g.strain.crystal {
                row.push_str(&format!("\t{}", fmt(v * 1e3)));
            }
            for v in g.euler {
                row.push_str(&format!("\t{}", fmt(v)));
            }
            for v in g.strain.sample {
                row.push_str(&format!("\t{}", fmt(v * 1e3)));
            }
            for axis in 0..3 {
                for v in ipf_rgb(g, axis) {
                    row.push_str(&format!("\t{}", fmt(v)));
                }
            }
            row.push_str(&format!(
                "\t{}\t{}\t{}\t{}\t{}\t{}\n",
                fmt(g.strain.von_mises * 1e3),
                p.ix,
                p.iy,
                p.status.name(),
                fmt(g.matching_rate),
                g.material
            ));
            out.push_str(&row);
        }
    }
    out
}

fn fmt(v: f64) -> String {
    if v.is_finite() { format!("{v:.6}") } else { "nan".into() }
}

/// Channel 5's Laue group number of a Laue class symbol (1 = −1 … 11 = m−3m).
fn channel5_laue_group(symbol: &str) -> u32 {
    match symbol {
        "-1" => 1,
        "2/m" => 2,
        "mmm" => 3,
        "4/m" => 4,
        "4/mmm" => 5,
        "-3" => 6,
        "-3m1" | "-31m" | "-3m" => 7,
        "6/m" => 8,
        "6/mmm" => 9,
        "m-3" => 10,
        _ => 11,
    }
}

/// An HKL Channel 5 `.ctf` of the main grain of each point: phases from the materials found, X/Y in µm
/// (point indices when the step is unknown), Euler angles of [`bunge_euler_deg`] in the sample frame.
/// Columns: Phase (0 = not indexed), X, Y, Bands (spots indexed), Error (0 indexed, 3 not indexed, 4 no
/// peaks or failed), Euler1–3, MAD (the refinement's pixel RMS, px — not an angle), BC (matching rate, %),
/// BS (peaks, at most 255).
pub fn to_ctf(r: &ScanResults) -> String {
    let mut phases: Vec<(String, String, [f64; 6], u32)> = Vec::new();
    for g in r.points.iter().filter_map(|p| p.grains.first()) {
        if !phases.iter().any(|(n, _, _, _)| *n == g.material) {
            // The cell from the grain's B0 (custom materials too); the space group from the request's
            // definition of the material, else from the table, when known.
            let defined = r.request.index.iter().flat_map(|i| &i.materials).find_map(|m| match m {
                crate::crystal::MaterialSpec::Defined(d) if d.name == g.material => d.spacegroup,
                _ => None,
            });
            let table = crate::crystal::Material::from_table(&g.material).ok();
            let lat = crate::scan::grains::lattice_from_b0(&g.b0_matrix())
                .map(|l| l.params())
                .or_else(|_| table.as_ref().map(|m| m.lattice.params()).ok_or(()))
                .unwrap_or([f64::NAN; 6]);
            let sg = defined.or(table.and_then(|m| m.space_group)).unwrap_or(0);
            phases.push((g.material.clone(), g.laue_group.clone(), lat, sg));
        }
    }
    let [sx, sy] = r.grid.step_um.unwrap_or([1.0, 1.0]);
    let mut s = String::from("Channel Text File\n");
    s.push_str("Prj\tlauekit Laue microdiffraction scan\n");
    s.push_str(&format!("Author\t{}\n", r.software));
    s.push_str("JobMode\tGrid\n");
    s.push_str(&format!("XCells\t{}\nYCells\t{}\nXStep\t{sx}\nYStep\t{sy}\n", r.grid.nx, r.grid.ny));
    s.push_str("AcqE1\t0\nAcqE2\t0\nAcqE3\t0\n");
    s.push_str(
        "Euler angles refer to Sample Coordinate system (CS0)!\tMag\t0\tCoverage\t100\tDevice\t0\tKV\t0\tTiltAngle\t40\tTiltAxis\t0\n",
    );
    s.push_str(&format!("Phases\t{}\n", phases.len()));
    for (name, lg, l, sg) in &phases {
        s.push_str(&format!(
            "{:.4};{:.4};{:.4}\t{:.3};{:.3};{:.3}\t{name}\t{}\t{sg}\t\t\tlauekit\n",
            l[0],
            l[1],
            l[2],
            l[3],
            l[4],
            l[5],
            channel5_laue_group(lg)
        ));
    }
    s.push_str("Phase\tX\tY\tBands\tError\tEuler1\tEuler2\tEuler3\tMAD\tBC\tBS\n");
    // Rows in raster order (y slow, x fast) whatever the acquisition order.
    let mut order: Vec<&super::PointResult> = r.points.iter().collect();
    order.sort_by_key(|p| (p.iy, p.ix));
    for p in order {
        let (x, y) = (p.ix as f64 * sx, p.iy as f64 * sy);
        let bs = p.n_peaks.min(255);
        match p.grains.first() {
            Some(g) => {
                let phase = phases.iter().position(|(n, _, _, _)| *n == g.material).map_or(0, |k| k + 1);
                let e = bunge_euler_deg(&orientation_in_sample(g).transpose());
                s.push_str(&format!(
                    "{phase}\t{x:.4}\t{y:.4}\t{}\t0\t{:.4}\t{:.4}\t{:.4}\t{:.4}\t{}\t{bs}\n",
                    g.n_indexed.min(255),
                    e[0],
                    e[1],
                    e[2],
                    if g.rms_px.is_finite() { g.rms_px } else { 0.0 },
                    g.matching_rate.round().clamp(0.0, 255.0) as u32
                ));
            }
            None => {
                let err = if p.status == PointStatus::NotIndexed { 3 } else { 4 };
                s.push_str(&format!(
                    "0\t{x:.4}\t{y:.4}\t0\t{err}\t0.0000\t0.0000\t0.0000\t0.0000\t0\t{bs}\n"
                ));
            }
        }
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::geometry::orientation::euler_to_matrix;

    #[test]
    fn bunge_angles_round_trip() {
        for e in [[10.0, 20.0, 30.0], [250.0, 80.0, 100.0], [0.0, 135.0, 359.0]] {
            let [a, b, c] = [e[0], e[1], e[2]].map(|d: f64| d.to_radians());
            let rz = |t: f64| Matrix3::new(t.cos(), t.sin(), 0.0, -t.sin(), t.cos(), 0.0, 0.0, 0.0, 1.0);
            let rx = |t: f64| Matrix3::new(1.0, 0.0, 0.0, 0.0, t.cos(), t.sin(), 0.0, -t.sin(), t.cos());
            let g = rz(c) * rx(b) * rz(a);
            let got = bunge_euler_deg(&g);
            for k in 0..3 {
                assert!((got[k] - e[k]).abs() < 1e-9, "{got:?} vs {e:?}");
            }
        }
        let _ = euler_to_matrix([0.0, 0.0, 0.0]);
    }
}
