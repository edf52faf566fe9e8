//! LaueTools `.det` calibration files.
//!
//! Line 1: `dd, xcen, ycen, xbet, xgam, pixelsize, dim1, dim2` (dim1 × dim2 = rows × cols, LaueTools'
//! framedim); then free text, an optional `Orientation Matrix:` followed by `[[..],[..],[..]]`, and
//! `# key : value` lines (CCDLabel, framedim, detectordiameter, kf_direction, Material...).

use nalgebra::Matrix3;
use serde::{Deserialize, Serialize};

use crate::error::{LaueError, Result};
use crate::geometry::Calibration;

/// Everything a `.det` file holds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DetFile {
    pub calibration: Calibration,
    /// Orientation matrix of the calibrant crystal (UB), when present.
    pub ub: Option<Matrix3<f64>>,
    /// `# key : value` lines in file order.
    pub metadata: Vec<(String, String)>,
    /// Free comment lines (calibration date, data file...).
    pub comments: Vec<String>,
}

impl DetFile {
    /// Value of a `# key : value` line.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.metadata.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str())
    }

    /// Parses `.det` text; `file` names the source in errors.
    pub fn parse(text: &str, file: &str) -> Result<Self> {
        let mut lines = crate::io::text::strip_bom(text).lines();
        // `#` lines before the parameters (a hand-edited file) are read with the others below.
        let mut leading = Vec::new();
        let first = loop {
            match lines.next().map(str::trim) {
                None => {
                    return Err(LaueError::parse(
                        file,
                        "empty file: no 'dd, xcen, ycen, xbet, xgam, …' line",
                    ));
                }
                Some("") => {}
                Some(l) if l.starts_with('#') => leading.push(l),
                Some(l) => break l,
            }
        };
        let nums: Vec<&str> =
            first.split(|c: char| c == ',' || c.is_whitespace()).filter(|s| !s.is_empty()).collect();
        if nums.len() < 5 {
            return Err(LaueError::parse(
                file,
                format!(
                    "first line must hold at least dd, xcen, ycen, xbet, xgam; found '{}'",
                    first.chars().take(80).collect::<String>()
                ),
            ));
        }
        let num = |i: usize, what: &str| -> Result<f64> {
            nums[i]
                .parse::<f64>()
                .map_err(|_| LaueError::parse(file, format!("{what} '{}' is not a number", nums[i])))
        };
        let vals = [num(0, "dd")?, num(1, "xcen")?, num(2, "ycen")?, num(3, "xbet")?, num(4, "xgam")?];
        let mut pixel = if nums.len() > 5 { Some(num(5, "pixelsize")?) } else { None };
        let mut dims = if nums.len() > 7 {
            let d = |i: usize| {
                nums[i]
                    .parse::<f64>()
                    .ok()
                    .filter(|v| *v >= 1.0 && v.fract() == 0.0)
                    .map(|v| v as usize)
                    .ok_or_else(|| {
                        LaueError::parse(
                            file,
                            format!("frame dimension '{}' is not a positive integer", nums[i]),
                        )
                    })
            };
            Some((d(6)?, d(7)?))
        } else {
            None
        };
        let mut metadata = Vec::new();
        let mut comments = Vec::new();
        let mut ub = None;
        let rest: Vec<&str> = leading.into_iter().chain(lines).collect();
        let mut i = 0;
        while i < rest.len() {
            let l = rest[i].trim();
            i += 1;
            if l.is_empty() {
                continue;
            }
            if let Some(kv) = l.strip_prefix('#') {
                if let Some((k, v)) = kv.split_once(':') {
                    metadata.push((k.trim().to_string(), v.trim().to_string()));
                }
                continue;
            }
            if l.starts_with("Orientation Matrix") {
                // The matrix may span one or several lines until the brackets close.
                let mut buf = String::new();
                while i < rest.len() {
                    buf.push_str(rest[i].trim());
                    i += 1;
                    if buf.matches('[').count() > 0 && buf.matches('[').count() == buf.matches(']').count() {
                        break;
                    }
                }
                ub = Some(parse_matrix(&buf).ok_or_else(|| {
                    LaueError::parse(file, format!("orientation matrix '{buf}' is not 3×3 numbers"))
                })?);
                continue;
            }
            comments.push(l.to_string());
        }
        // Metadata completes what line 1 lacks.
        let meta = |k: &str| metadata.iter().find(|(key, _)| key == k).map(|(_, v)| v.clone());
        if pixel.is_none() {
            pixel = meta("pixelsize").and_then(|v| v.parse().ok());
        }
        if dims.is_none() {
            dims = meta("framedim").and_then(|v| {
                let n: Vec<usize> = v
                    .trim_matches(|c| c == '(' || c == ')')
                    .split(',')
                    .filter_map(|s| s.trim().parse().ok())
                    .collect();
                (n.len() == 2).then(|| (n[0], n[1]))
            });
        }
        let pixel =
            pixel.ok_or_else(|| LaueError::parse(file, "no pixel size (line 1 field 6 or '# pixelsize')"))?;
        let (rows, cols) = dims.ok_or_else(|| {
            LaueError::parse(file, "no frame dimensions (line 1 fields 7–8 or '# framedim')")
        })?;
        let calibration = Calibration {
            distance_mm: vals[0],
            xcen_px: vals[1],
            ycen_px: vals[2],
            xbet_deg: vals[3],
            xgam_deg: vals[4],
            pixel_size_mm: pixel,
            rows,
            cols,
        }
        .validated()
        .map_err(|e| LaueError::parse(file, e.to_string()))?;
        Ok(DetFile { calibration, ub, metadata, comments })
    }

    /// `.det` text in LaueTools' layout.
    pub fn to_text(&self) -> String {
        let c = &self.calibration;
        let mut s = format!(
            "{:.5}, {:.4}, {:.4}, {:.7}, {:.7}, {:.8}, {}, {}\n",
            c.distance_mm, c.xcen_px, c.ycen_px, c.xbet_deg, c.xgam_deg, c.pixel_size_mm, c.rows, c.cols
        );
        s.push_str("Sample-Detector distance(IM), xO, yO, angle1, angle2, pixelsize, dim1, dim2\n");
        for l in &self.comments {
            if !l.starts_with("Sample-Detector distance") {
                s.push_str(l);
                s.push('\n');
            }
        }
        if let Some(m) = &self.ub {
            s.push_str("Orientation Matrix:\n");
            let row = |r: usize| format!("[{:.7},{:.7},{:.7}]", m[(r, 0)], m[(r, 1)], m[(r, 2)]);
            s.push_str(&format!("[{},{},{}]\n", row(0), row(1), row(2)));
        }
        for (k, v) in &self.metadata {
            s.push_str(&format!("# {k} : {v}\n"));
        }
        s
    }
}

/// The calibration run a `.det` written after a calibration records besides the five parameters: the
/// reference crystal, its orientation and the fit's figures, and where and when it was made.
#[derive(Debug, Clone, PartialEq)]
pub struct DetRecord<'a> {
    /// the reference crystal (`# Material`)
    pub material: &'a str,
    /// its orientation matrix UB (q = UB·B0·hkl), written after `Orientation Matrix:`
    pub ub: &'a Matrix3<f64>,
    /// spots in the final fit
    pub n_spots: usize,
    /// RMS pixel distance predicted − measured over them (px)
    pub rms_px: f64,
    /// the detector as LaueTools labels it (`# CCDLabel`, e.g. MARCCD165), when known
    pub ccd_label: Option<&'a str>,
    /// the image or peak list calibrated on (`Experimental Data file`)
    pub source: &'a str,
    /// when the calibration was made (e.g. [`utc_string`])
    pub when: &'a str,
}

/// The `.det` text of a calibration in LaueTools' layout (as `calibGe111.det`): line 1 the parameters,
/// lines 3–4 comments, line 5 `Orientation Matrix:`, line 6 the matrix (LaueTools reads it there), then the
/// `# key : value` lines (LaueTools takes dd … xgam from these when present, so they carry the same values
/// as line 1). `lauekit calibrate -o` and the page's Calibrate panel both write it.
pub fn det_text(c: &Calibration, r: &DetRecord) -> String {
    let mut metadata = vec![
        ("Material".to_string(), r.material.to_string()),
        ("dd".into(), format!("{:.5}", c.distance_mm)),
        ("xcen".into(), format!("{:.4}", c.xcen_px)),
        ("ycen".into(), format!("{:.4}", c.ycen_px)),
        ("xbet".into(), format!("{:.7}", c.xbet_deg)),
        ("xgam".into(), format!("{:.7}", c.xgam_deg)),
        ("pixelsize".into(), format!("{}", c.pixel_size_mm)),
        ("xpixelsize".into(), format!("{}", c.pixel_size_mm)),
        ("ypixelsize".into(), format!("{}", c.pixel_size_mm)),
    ];
    if let Some(l) = r.ccd_label {
        metadata.push(("CCDLabel".into(), l.to_string()));
    }
    metadata.push(("framedim".into(), format!("({}, {})", c.rows, c.cols)));
    metadata
        .push(("detectordiameter".into(), format!("{}", c.rows.max(c.cols) as f64 * c.pixel_size_mm * 1.1)));
    metadata.push(("kf_direction".into(), "Z>0".into()));
    let one_line = |s: &str| s.replace(['\n', '\r'], " ");
    let det = DetFile {
        calibration: *c,
        ub: Some(*r.ub),
        metadata: metadata.into_iter().map(|(k, v)| (k, one_line(&v))).collect(),
        comments: vec![
            one_line(&format!(
                "Calibration done with {} at {} with lauekit {}: {} spots, rms {:.3} px",
                r.material,
                r.when,
                env!("CARGO_PKG_VERSION"),
                r.n_spots,
                r.rms_px
            )),
            one_line(&format!("Experimental Data file: {}", r.source)),
        ],
    };
    det.to_text()
}

/// "YYYY-MM-DD HH:MM:SS UTC" of a time in seconds since 1970-01-01 UTC (no date library: days → civil
/// date, Howard Hinnant's `civil_from_days`).
pub fn utc_string(unix_seconds: i64) -> String {
    let (days, rem) = (unix_seconds.div_euclid(86_400), unix_seconds.rem_euclid(86_400));
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!("{y:04}-{m:02}-{d:02} {:02}:{:02}:{:02} UTC", rem / 3600, rem / 60 % 60, rem % 60)
}

/// "[[a,b,c],[d,e,f],[g,h,i]]" (commas or spaces) → matrix.
pub fn parse_matrix(s: &str) -> Option<Matrix3<f64>> {
    let v: Vec<f64> = s
        .split(|c: char| c == '[' || c == ']' || c == ',' || c.is_whitespace() || c == '#')
        .filter(|t| !t.is_empty())
        .map(|t| t.parse::<f64>())
        .collect::<std::result::Result<_, _>>()
        .ok()?;
    (v.len() == 9).then(|| Matrix3::from_row_slice(&v))
}

#[cfg(test)]
mod tests {
    use super::*;

    const GE: &str = "70.77500, 941.7400, 1082.5600, 0.6300000, -0.6820000, 0.07914200, 2048, 2048
Sample-Detector distance(IM), xO, yO, angle1, angle2, pixelsize, dim1, dim2
Calibration done with Ge at Thu Mar 30 15:22:37 2023 with LaueToolsGUI.py
Orientation Matrix:
[[-0.0714767,-0.9958259,-0.0567609],[0.7206185,-0.0122104,-0.6932243],[0.6896376,-0.0904523,0.7184833]]
# Material : Ge
# CCDLabel : MARCCD165
# framedim : (2048, 2048)
";

    #[test]
    fn parses_and_writes_back_the_same_meaning() {
        let d = DetFile::parse(GE, "calibGe111.det").unwrap();
        assert_eq!(d.calibration.params(), [70.775, 941.74, 1082.56, 0.63, -0.682]);
        assert_eq!(
            (d.calibration.rows, d.calibration.cols, d.calibration.pixel_size_mm),
            (2048, 2048, 0.079142)
        );
        assert!((d.ub.unwrap()[(0, 1)] + 0.9958259).abs() < 1e-12);
        assert_eq!(d.get("CCDLabel"), Some("MARCCD165"));
        let again = DetFile::parse(&d.to_text(), "rewritten").unwrap();
        assert_eq!(again, d);
    }

    #[test]
    fn calibration_det_reads_back() {
        let d = DetFile::parse(GE, "calibGe111.det").unwrap();
        let ub = d.ub.unwrap();
        let r = DetRecord {
            material: "Ge",
            ub: &ub,
            n_spots: 95,
            rms_px: 0.2345,
            ccd_label: Some("MARCCD165"),
            source: "a\nb.mccd",
            when: &utc_string(0),
        };
        let text = det_text(&d.calibration, &r);
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines[4], "Orientation Matrix:", "{text}");
        assert!(lines[2].contains("1970-01-01 00:00:00 UTC") && lines[2].contains("95 spots"), "{text}");
        assert_eq!(lines[3], "Experimental Data file: a b.mccd");
        let back = DetFile::parse(&text, "written").unwrap();
        assert_eq!(back.calibration, d.calibration);
        assert!((back.ub.unwrap() - ub).amax() < 1e-7);
        assert_eq!((back.get("Material"), back.get("CCDLabel")), (Some("Ge"), Some("MARCCD165")));
        assert_eq!(back.get("framedim"), Some("(2048, 2048)"));
        assert_eq!(back.get("xbet"), Some("0.6300000"));
    }

    #[test]
    fn utc_strings() {
        assert_eq!(utc_string(0), "1970-01-01 00:00:00 UTC");
        assert_eq!(utc_string(951_782_400), "2000-02-29 00:00:00 UTC");
        assert_eq!(utc_string(1_796_537_453), "2026-12-06 06:10:53 UTC");
        assert_eq!(utc_string(-1), "1969-12-31 23:59:59 UTC");
    }

    #[test]
    fn malformed_files_name_the_problem() {
        let bom = format!("\u{feff}# a comment first\n{GE}");
        assert_eq!(
            DetFile::parse(&bom, "bom.det").unwrap().calibration,
            DetFile::parse(GE, "g").unwrap().calibration
        );
        let e = DetFile::parse("", "empty.det").unwrap_err().to_string();
        assert!(e.contains("empty.det") && e.contains("empty"), "{e}");
        let e = DetFile::parse("70, abc, 1, 0, 0, 0.08, 10, 10", "x.det").unwrap_err().to_string();
        assert!(e.contains("xcen") && e.contains("abc"), "{e}");
        let e = DetFile::parse("70, 1, 1, 0, 0", "nopix.det").unwrap_err().to_string();
        assert!(e.contains("pixel"), "{e}");
        let e = DetFile::parse("-70, 1, 1, 0, 0, 0.08, 10, 10", "neg.det").unwrap_err().to_string();
        assert!(e.contains("neg.det") && e.contains("dd"), "{e}");
        let e = DetFile::parse("70, 1, 1, 0, 0, 0.08, 10, 10\nOrientation Matrix:\n[[1,2],[3]]", "m.det")
            .unwrap_err();
        assert!(e.to_string().contains("3×3"), "{e}");
    }
}
