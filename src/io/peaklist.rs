//! LaueTools peak-list files: `.dat` (peak search output) and `.cor` (peaks in 2θ, χ with the calibration).
//! Positions keep LaueTools' convention (x = column, y = row, first pixel centre (1, 1)).

use crate::error::{LaueError, Result};
use crate::geometry::Calibration;
use crate::peaks::Peak;

/// The `.dat` header line.
pub const DAT_HEADER: &str =
    "peak_X peak_Y peak_Itot peak_Isub peak_fwaxmaj peak_fwaxmin peak_inclination Xdev Ydev peak_bkg Ipixmax";

/// `.dat` text as LaueTools writes it (values rounded to 2 decimals, Ipixmax as an integer).
pub fn write_dat(peaks: &[Peak], source: &str, comment: &str) -> String {
    let mut s = String::from(DAT_HEADER);
    for p in peaks {
        s.push_str(&format!(
            "\n{:.2}   {:.2}   {:.2}   {:.2}   {:.2}   {:.2}    {:.3}   {:.2}   {:.2}   {:.2}   {}",
            p.x,
            p.y,
            p.intensity_sub + p.background,
            p.intensity_sub,
            p.sigma_major,
            p.sigma_minor,
            (p.inclination * 100.0).round() / 100.0,
            p.x_dev,
            p.y_dev,
            p.background,
            p.max_pixel.trunc() as i64
        ));
    }
    s.push_str(&format!("\n# File created with lauekit {}", env!("CARGO_PKG_VERSION")));
    if !source.is_empty() {
        s.push_str(&format!("\n# From: {source}"));
    }
    s.push_str(&format!("\n# Comments: nb of peaks {}", peaks.len()));
    if !comment.is_empty() {
        s.push_str(&format!("\n# {comment}"));
    }
    s.push('\n');
    s
}

/// Reads a `.dat` peak list (header line, whitespace-separated columns, `#` comments).
pub fn read_dat(text: &str, file: &str) -> Result<Vec<Peak>> {
    let mut peaks = Vec::new();
    let mut lines = text.lines().enumerate();
    let header = lines.by_ref().map(|(_, l)| l.trim()).find(|l| !l.is_empty());
    match header {
        Some(h) if h.starts_with("peak_X") => {}
        _ => return Err(LaueError::parse(file, "first line must be the 'peak_X peak_Y ...' header")),
    }
    for (n, line) in lines {
        let line = line.split('#').next().unwrap_or("").trim();
        if line.is_empty() {
            continue;
        }
        let v: Vec<f64> = line
            .split_whitespace()
            .map(|t| t.parse::<f64>())
            .collect::<std::result::Result<_, _>>()
            .map_err(|_| LaueError::parse(file, format!("line {}: not all numbers: '{line}'", n + 1)))?;
        if v.len() < 11 {
            return Err(LaueError::parse(file, format!("line {}: {} columns, expected 11", n + 1, v.len())));
        }
        peaks.push(Peak {
            x: v[0],
            y: v[1],
            intensity: v[2],
            intensity_sub: v[3],
            sigma_major: v[4],
            sigma_minor: v[5],
            inclination: v[6],
            x_dev: v[7],
            y_dev: v[8],
            background: v[9],
            max_pixel: v[10],
        });
    }
    Ok(peaks)
}

/// `.cor` text: 2θ, χ, X, Y, I (= Isub), strongest first, then the calibration trailer.
pub fn write_cor(peaks: &[Peak], calibration: &Calibration, source: &str) -> String {
    let mut sorted: Vec<&Peak> = peaks.iter().collect();
    sorted.sort_by(|a, b| b.intensity_sub.total_cmp(&a.intensity_sub));
    let mut s = String::from("2theta       chi         X           Y           I       \n");
    for p in sorted {
        let (tth, chi) = calibration.pixel_to_angles(p.x, p.y);
        s.push_str(&format!("{:.5}   {:.5}   {:.5}   {:.5}   {:.2}\n", tth, chi, p.x, p.y, p.intensity_sub));
    }
    s.push_str(&format!("# File created with lauekit {}\n", env!("CARGO_PKG_VERSION")));
    if !source.is_empty() {
        s.push_str(&format!("# From: {source}\n"));
    }
    s.push_str("# Calibration parameters\n");
    let c = calibration;
    for (k, v) in [
        ("dd", c.distance_mm),
        ("xcen", c.xcen_px),
        ("ycen", c.ycen_px),
        ("xbet", c.xbet_deg),
        ("xgam", c.xgam_deg),
        ("pixelsize", c.pixel_size_mm),
    ] {
        s.push_str(&format!("# {k}     :   {v}\n"));
    }
    s.push_str(&format!("# framedim     :   ({}, {})\n# kf_direction     :   Z>0\n", c.rows, c.cols));
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dat_round_trip() {
        let p = Peak {
            x: 623.13,
            y: 1657.72,
            intensity: 29405.11,
            intensity_sub: 29315.22,
            sigma_major: 0.83,
            sigma_minor: 0.80,
            inclination: 189.64,
            x_dev: 0.13,
            y_dev: -0.28,
            background: 89.89,
            max_pixel: 28899.0,
        };
        let text = write_dat(&[p], "img.mccd", "");
        assert!(text.contains("623.13   1657.72   29405.11   29315.22   0.83   0.80    189.640   0.13   -0.28   89.89   28899"), "{text}");
        let back = read_dat(&text, "x.dat").unwrap();
        assert_eq!(back.len(), 1);
        assert!((back[0].x - 623.13).abs() < 1e-9 && (back[0].max_pixel - 28899.0).abs() < 1e-9);
        assert!(read_dat("nonsense", "bad.dat").unwrap_err().to_string().contains("bad.dat"));
    }
}
