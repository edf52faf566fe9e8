//! The orientation and calibration parts of LaueTools `.fit` indexing results.

use nalgebra::Matrix3;

use super::det::parse_matrix;
use crate::error::{LaueError, Result};

/// What lauekit reads from a `.fit` file so far: the refined UB, the calibration it used, and the material.
#[derive(Debug, Clone, PartialEq)]
pub struct FitFile {
    /// "UB matrix in q= (UB) B0 G*"
    pub ub: Matrix3<f64>,
    /// `[dd, xcen, ycen, xbet, xgam]`
    pub detector_parameters: Option<[f64; 5]>,
    pub pixel_size_mm: Option<f64>,
    /// (rows, cols)
    pub frame: Option<(usize, usize)>,
    pub material: Option<String>,
}

impl FitFile {
    /// Every grain of a `.fit` text: LaueTools writes one block per grain, each starting with
    /// "#Strain and Orientation Refinement"; a text without that header is one block. `file` names the
    /// source in errors.
    pub fn parse_all(text: &str, file: &str) -> Result<Vec<Self>> {
        const HEAD: &str = "#Strain and Orientation Refinement";
        let text = crate::io::text::strip_bom(text);
        let starts: Vec<usize> = text.match_indices(HEAD).map(|(i, _)| i).collect();
        if starts.len() <= 1 {
            return Ok(vec![Self::parse(text, file)?]);
        }
        let mut ends: Vec<usize> = starts[1..].to_vec();
        ends.push(text.len());
        starts
            .iter()
            .zip(ends)
            .enumerate()
            .map(|(k, (&a, b))| Self::parse(&text[a..b], &format!("{file} (grain block {k})")))
            .collect()
    }

    /// Parses `.fit` text (its first grain); `file` names the source in errors.
    pub fn parse(text: &str, file: &str) -> Result<Self> {
        let lines: Vec<&str> = crate::io::text::strip_bom(text).lines().map(str::trim).collect();
        let after = |marker: &str, n: usize| -> Option<String> {
            let i = lines.iter().position(|l| l.starts_with(marker))?;
            Some(
                lines
                    .get(i + 1..i + 1 + n)?
                    .iter()
                    .map(|l| l.trim_start_matches('#'))
                    .collect::<Vec<_>>()
                    .join(" "),
            )
        };
        let ub_txt = after("#UB matrix in q= (UB) B0 G*", 3)
            .ok_or_else(|| LaueError::parse(file, "no '#UB matrix in q= (UB) B0 G*' block"))?;
        let ub = parse_matrix(&ub_txt)
            .ok_or_else(|| LaueError::parse(file, format!("UB block '{ub_txt}' is not 3×3")))?;
        let detector_parameters = after("#DetectorParameters", 1).and_then(|s| {
            let v: Vec<f64> = s
                .split(|c: char| c == '[' || c == ']' || c == ',' || c.is_whitespace())
                .filter(|t| !t.is_empty())
                .filter_map(|t| t.parse().ok())
                .collect();
            (v.len() == 5).then(|| [v[0], v[1], v[2], v[3], v[4]])
        });
        let pixel_size_mm = after("#pixelsize", 1).and_then(|s| s.trim().parse().ok());
        let frame = after("#Frame dimensions", 1).and_then(|s| {
            let n: Vec<usize> = s
                .split(|c: char| c == '(' || c == ')' || c == ',' || c.is_whitespace())
                .filter_map(|t| t.parse().ok())
                .collect();
            (n.len() == 2).then(|| (n[0], n[1]))
        });
        let material = after("#Element", 1).map(|s| s.trim().to_string()).filter(|s| !s.is_empty());
        Ok(FitFile { ub, detector_parameters, pixel_size_mm, frame, material })
    }
}
