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
    let eps_sample = strain_in_sample_frame(&eps, &grain.ub);
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

fn matrix(s: &mut String, title: &str, m: &Matrix3<f64>, digits: usize) {
    let _ = writeln!(s, "{title}");
    for r in 0..3 {
        let open = if r == 0 { "#[[" } else { "# [" };
        let close = if r == 2 { "]]" } else { "]" };
        let _ = writeln!(s, "{open}{:.d$} {:.d$} {:.d$}{close}", m[(r, 0)], m[(r, 1)], m[(r, 2)], d = digits);
    }
}
