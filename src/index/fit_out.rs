//! LaueTools `.fit` text for indexed grains (the layout of `IndexingSpotsSet.py`'s files): header, one row per
//! indexed spot, then UB, B0, UB·B0, Euler angles, deviatoric strain (crystal and sample frames), calibration.

use std::fmt::Write;

use nalgebra::Matrix3;

use super::IndexedGrain;
use super::orientation::hkl_vec;
use super::refine::{deviatoric_strain_crystal, strain_in_sample_frame};
use super::spots::ExperimentalSpot;
use crate::geometry::Calibration;

/// The `.fit` text of one grain (`grain_index` is its rank); `source` names the peak list, `ccd_label` the
/// detector (e.g. MARCCD165, sCMOS).
pub fn fit_text(
    grain: &IndexedGrain,
    grain_index: usize,
    spots: &[ExperimentalSpot],
    calibration: &Calibration,
    source: &str,
    ccd_label: &str,
) -> String {
    let mut s = String::new();
    let rms = if grain.spots.is_empty() {
        0.0
    } else {
        (grain.spots.iter().map(|m| m.residual_px * m.residual_px).sum::<f64>() / grain.spots.len() as f64)
            .sqrt()
    };
    let mean = if grain.spots.is_empty() {
        0.0
    } else {
        grain.spots.iter().map(|m| m.residual_px).sum::<f64>() / grain.spots.len() as f64
    };
    let _ = writeln!(s, "#Strain and Orientation Refinement from experimental file: {source}");
    let _ = writeln!(s, "#File created with lauekit {} (index, method lut)", env!("CARGO_PKG_VERSION"));
    let _ = writeln!(s, "#Number of indexed spots: {}", grain.spots.len());
    let _ = writeln!(s, "#Element\n#{}", grain.material);
    let _ = writeln!(s, "#grainIndex\n#G_{grain_index}");
    let _ = writeln!(s, "#Mean Deviation(pixel): {mean:.3}");
    let _ = writeln!(s, "#RMS Deviation(pixel): {rms:.3}");
    let _ = writeln!(s, "#Matching rate (%): {:.2}", grain.matching_rate);
    let _ = writeln!(
        s,
        "##spot_index Intensity h k l pixDev energy(keV) Xexp Yexp 2theta_exp chi_exp Xtheo Ytheo 2theta_theo \
         chi_theo Qx Qy Qz grainindex"
    );
    let ubb0 = grain.ub * grain.b0;
    for m in &grain.spots {
        let e = &spots[m.peak];
        let q = ubb0 * hkl_vec(m.hkl);
        let row = [
            m.peak as f64,
            e.intensity,
            m.hkl[0] as f64,
            m.hkl[1] as f64,
            m.hkl[2] as f64,
            m.residual_px,
            m.energy_kev,
            e.x_px,
            e.y_px,
            e.twotheta_deg,
            e.chi_deg,
            m.x_theo_px,
            m.y_theo_px,
            m.twotheta_theo_deg,
            m.chi_theo_deg,
            q.x,
            q.y,
            q.z,
            grain_index as f64,
        ];
        let cells: Vec<String> = row.iter().map(|v| format!("{v:.6}")).collect();
        let _ = writeln!(s, "{}", cells.join(" "));
    }
    let eps = deviatoric_strain_crystal(&grain.ub, &grain.b0);
    let eps_sample = strain_in_sample_frame(&eps, &grain.ub, &grain.b0);
    matrix(&mut s, "#UB matrix in q= (UB) B0 G* ", &grain.ub, 9);
    matrix(&mut s, "#B0 matrix in q= UB (B0) G*", &grain.b0, 8);
    matrix(
        &mut s,
        "#UBB0 matrix in q= (UB B0) G* i.e. recip. basis vectors are columns in LT frame: astar = UBB0[:,0], \
         bstar = UBB0[:,1], cstar = UBB0[:,2]. (abcstar as columns on xyzlab1, xlab1 = ui, ui = unit vector \
         along incident beam)",
        &ubb0,
        8,
    );
    let e = crate::geometry::orientation::lauetools_fit_euler(&ubb0);
    let _ = writeln!(s, "#Euler angles phi theta psi (deg)\n#[{:.3} {:.3} {:.3}]", e[0], e[1], e[2]);
    matrix(&mut s, "#deviatoric strain in direct crystal frame (10-3 unit)", &(eps * 1e3), 2);
    matrix(&mut s, "#deviatoric strain in sample2 frame (10-3 unit)", &(eps_sample * 1e3), 2);
    if let Some(p) = refined_lattice_parameters(&grain.ub, &grain.b0) {
        let _ = writeln!(
            s,
            "#new lattice parameters\n#[{:.7} {:.7} {:.7} {:.7} {:.7} {:.7}]",
            p[0], p[1], p[2], p[3], p[4], p[5]
        );
    }
    let _ = writeln!(s, "#CCDLabel\n#{ccd_label}");
    let c = calibration;
    let _ = writeln!(
        s,
        "#DetectorParameters\n#[{}, {}, {}, {}, {}]",
        c.distance_mm, c.xcen_px, c.ycen_px, c.xbet_deg, c.xgam_deg
    );
    let _ = writeln!(s, "#pixelsize\n#{}", c.pixel_size_mm);
    let _ = writeln!(s, "#Frame dimensions\n#({}, {})\n#", c.rows, c.cols);
    s
}

/// The `.fit` text of all the grains of one peak list, one block per grain in rank order, as LaueTools writes
/// them into one file.
pub fn fit_text_all(
    grains: &[IndexedGrain],
    spots: &[ExperimentalSpot],
    calibration: &Calibration,
    source: &str,
    ccd_label: &str,
) -> String {
    grains.iter().enumerate().map(|(k, g)| fit_text(g, k, spots, calibration, source, ccd_label)).collect()
}

/// Direct lattice parameters [a, b, c (Å), α, β, γ (deg)] of a refined UB with `a` kept at the reference's
/// (LaueTools' "new lattice parameters", `constantlength = "a"`: Laue patterns fix the shape of the cell,
/// not its size). None for a singular UB.
pub fn refined_lattice_parameters(ub: &Matrix3<f64>, b0: &Matrix3<f64>) -> Option<[f64; 6]> {
    let params = |bstar: &Matrix3<f64>| -> Option<[f64; 6]> {
        let d = bstar.try_inverse()?.transpose();
        let (a, b, c) = (d.column(0), d.column(1), d.column(2));
        let angle = |x: &nalgebra::VectorView3<f64>, y: &nalgebra::VectorView3<f64>| {
            (x.dot(y) / (x.norm() * y.norm())).clamp(-1.0, 1.0).acos().to_degrees()
        };
        Some([a.norm(), b.norm(), c.norm(), angle(&b, &c), angle(&c, &a), angle(&a, &b)])
    };
    let strained = params(&(ub * b0))?;
    let reference = params(b0)?;
    let scale = reference[0] / strained[0];
    Some([reference[0], strained[1] * scale, strained[2] * scale, strained[3], strained[4], strained[5]])
}

fn matrix(s: &mut String, title: &str, m: &Matrix3<f64>, digits: usize) {
    let _ = writeln!(s, "{title}");
    for r in 0..3 {
        let open = if r == 0 { "#[[" } else { "# [" };
        let close = if r == 2 { "]]" } else { "]" };
        let _ = writeln!(s, "{open}{:.d$} {:.d$} {:.d$}{close}", m[(r, 0)], m[(r, 1)], m[(r, 2)], d = digits);
    }
}
