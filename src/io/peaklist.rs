//! LaueTools peak-list files: `.dat` (peak search output) and `.cor` (peaks in 2θ, χ with the calibration).
//! Positions keep LaueTools' convention (x = column, y = row, first pixel centre (1, 1)).

use serde::{Deserialize, Serialize};

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

/// Reads a `.dat` peak list: the `peak_X peak_Y …` header line (any letter case; `#` comment lines and
/// a byte-order mark may come before it), whitespace-separated rows of at least 11 numbers (LaueTools
/// adds `Xfiterr Yfiterr` as a 12th and 13th), `#` comments after them.
pub fn read_dat(text: &str, file: &str) -> Result<Vec<Peak>> {
    let mut peaks = Vec::new();
    let mut lines = crate::io::text::strip_bom(text).lines().enumerate();
    let header =
        lines.by_ref().map(|(n, l)| (n, l.trim())).find(|(_, l)| !l.is_empty() && !l.starts_with('#'));
    match header {
        Some((_, h)) if h.get(..6).is_some_and(|w| w.eq_ignore_ascii_case("peak_x")) => {}
        Some((n, h)) => {
            let shown: String = h.chars().take(60).collect();
            return Err(LaueError::parse(
                file,
                format!(
                    "line {}: expected the 'peak_X peak_Y ...' header of a .dat peak list, found '{shown}'",
                    n + 1
                ),
            ));
        }
        None => return Err(LaueError::parse(file, "empty file: no 'peak_X peak_Y ...' header")),
    }
    for (n, line) in lines {
        let line = line.split('#').next().unwrap_or("").trim();
        if line.is_empty() {
            continue;
        }
        let mut v = Vec::with_capacity(13);
        for t in line.split_whitespace() {
            let x = t.parse::<f64>().map_err(|_| {
                LaueError::parse(file, format!("line {}: '{t}' is not a number (row '{line}')", n + 1))
            })?;
            v.push(x);
        }
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

/// One row of a `.cor` file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CorPeak {
    pub twotheta_deg: f64,
    pub chi_deg: f64,
    /// pixel column, LaueTools' convention
    pub x: f64,
    /// pixel row
    pub y: f64,
    /// intensity (LaueTools writes the background-subtracted peak height, peak_Isub)
    pub intensity: f64,
    /// the columns after I, named in [`CorFile::columns`] (LaueTools adds the `.dat` columns, fit errors…)
    pub extra: Vec<f64>,
}

/// A LaueTools `.cor` file: peaks in 2θ, χ, X, Y, I (and any extra columns) and its `# key : value`
/// trailer (calibration: dd, xcen, ycen, xbet, xgam, pixelsize, and as present ypixelsize, CCDLabel,
/// framedim, detectordiameter, kf_direction…).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CorFile {
    /// column names from the header line (at least `2theta chi X Y I`)
    pub columns: Vec<String>,
    pub peaks: Vec<CorPeak>,
    /// `# key : value` lines in file order (`dd`, `xcen`, …, also `From`)
    pub parameters: Vec<(String, String)>,
    /// the other `#` lines, without the `#`
    pub comments: Vec<String>,
}

/// What to do when a `.cor` trailer lacks part of the detector calibration (older LaueTools files, e.g.
/// `defaultGe0001.cor`, write neither `framedim` nor `CCDLabel`).
pub const CALIB_ELSEWHERE: &str = "give the detector calibration separately (lauekit: --calib FILE.det)";

/// The `.cor` columns every file has, in order.
const COR_COLUMNS: [&str; 5] = ["2theta", "chi", "X", "Y", "I"];

impl CorFile {
    /// Value of a `# key : value` line (the last one if repeated).
    pub fn get(&self, key: &str) -> Option<&str> {
        self.parameters.iter().rev().find(|(k, _)| k == key).map(|(_, v)| v.as_str())
    }

    /// Values of the extra column `name` (e.g. `peak_Itot`), one per peak.
    pub fn column(&self, name: &str) -> Option<Vec<f64>> {
        let i = self.columns.iter().position(|c| c == name)?;
        Some(
            self.peaks
                .iter()
                .map(|p| match i {
                    0 => p.twotheta_deg,
                    1 => p.chi_deg,
                    2 => p.x,
                    3 => p.y,
                    4 => p.intensity,
                    _ => p.extra[i - 5],
                })
                .collect(),
        )
    }

    /// The frame (rows, cols): `framedim`, else the `CCDLabel`'s preset.
    pub fn framedim(&self) -> Option<(usize, usize)> {
        if let Some(v) = self.get("framedim") {
            let n: Vec<usize> = v
                .trim_matches(|c| c == '(' || c == ')' || c == '[' || c == ']')
                .split(',')
                .filter_map(|t| t.trim().parse::<f64>().ok())
                .filter(|v| *v >= 1.0 && v.fract() == 0.0)
                .map(|v| v as usize)
                .collect();
            if let [r, c] = n[..] {
                return Some((r, c));
            }
        }
        let p = crate::io::image::presets::preset(self.get("CCDLabel")?)?;
        Some((p.rows, p.cols))
    }

    /// The detector calibration of the trailer. The frame comes from `framedim` or `CCDLabel`; LaueTools
    /// often writes neither, and then the one automatically chosen detector preset with this pixel size
    /// gives it (0.079142 mm: MARCCD165, 0.0734 mm: sCMOS). `file` names the source in errors.
    pub fn calibration(&self, file: &str) -> Result<Calibration> {
        let num = |key: &str| -> Result<f64> {
            let v = self.get(key).ok_or_else(|| {
                LaueError::parse(
                    file,
                    format!("no '# {key} : …' line in the calibration trailer; {CALIB_ELSEWHERE}"),
                )
            })?;
            v.trim()
                .parse::<f64>()
                .map_err(|_| LaueError::parse(file, format!("calibration '{key}' = '{v}' is not a number")))
        };
        let pixel = num("pixelsize")?;
        let (rows, cols) = match self.framedim() {
            Some(d) => d,
            None => {
                let mut dims: Vec<(usize, usize)> = crate::io::image::presets::PRESETS
                    .iter()
                    .filter(|p| p.auto && (p.pixel_size_mm - pixel).abs() < 1e-9)
                    .map(|p| (p.rows, p.cols))
                    .collect();
                dims.dedup();
                match dims[..] {
                    [d] => d,
                    _ => {
                        return Err(LaueError::parse(
                            file,
                            format!(
                                "no framedim or CCDLabel in the trailer, and pixel size {pixel} mm is not one \
                                 detector's, so the frame is unknown; {CALIB_ELSEWHERE}"
                            ),
                        ));
                    }
                }
            }
        };
        Calibration {
            distance_mm: num("dd")?,
            xcen_px: num("xcen")?,
            ycen_px: num("ycen")?,
            xbet_deg: num("xbet")?,
            xgam_deg: num("xgam")?,
            pixel_size_mm: pixel,
            rows,
            cols,
        }
        .validated()
        .map_err(|e| LaueError::parse(file, e.to_string()))
    }
}

/// Reads a LaueTools `.cor` file: the header line (`2theta chi X Y I` and any further column names), one
/// whitespace-separated row of numbers per peak, then `#` lines (`# key : value` parameters and comments).
/// Every problem is an error naming `file` and the line.
pub fn read_cor(text: &str, file: &str) -> Result<CorFile> {
    let all: Vec<(usize, &str)> = crate::io::text::strip_bom(text).lines().enumerate().collect();
    let Some(first) = all.iter().position(|(_, l)| !l.trim().is_empty()) else {
        return Err(LaueError::parse(file, "empty file: no '2theta chi X Y I' header"));
    };
    let (n0, h0) = all[first];
    // The columns as the file writes them, where the rows start, and the `#` lines of a commented header.
    let (source_columns, body, mut header_lines): (Vec<String>, usize, Vec<&str>) = if h0
        .trim_start()
        .starts_with("2theta")
    {
        (h0.split_whitespace().map(str::to_string).collect(), first + 1, Vec::new())
    } else if h0.trim_start().starts_with('#') {
        // LaueTools' lists of unindexed spots (`NAME_unindexed_.cor` of IndexSpotsSet): a `#` header block
        // (comments, `#key` lines followed by a value line such as `None`), the columns on a `#spot_index
        // intensity 2theta Chi Xexp Yexp` line, then the rows and the calibration as `# key : value` lines.
        let rows_at = all[first..]
            .iter()
            .position(|(_, l)| l.split_whitespace().next().is_some_and(|t| t.parse::<f64>().is_ok()))
            .map_or(all.len(), |k| first + k);
        let names = all[first..rows_at].iter().rev().find_map(|(_, l)| {
            let c = l.trim().strip_prefix('#')?;
            let cols: Vec<String> = c.split_whitespace().map(str::to_string).collect();
            let has = |w: &str| cols.iter().any(|x| x.eq_ignore_ascii_case(w));
            (has("2theta") && has("chi")).then_some(cols)
        });
        let Some(names) = names else {
            return Err(LaueError::parse(
                file,
                format!(
                    "line {}: no '2theta chi X Y I' header, nor a '#' line naming the columns (2theta, chi) \
                     before the rows",
                    n0 + 1
                ),
            ));
        };
        let comments = all[first..rows_at].iter().filter_map(|(_, l)| l.trim().strip_prefix('#')).collect();
        (names, rows_at, comments)
    } else {
        return Err(LaueError::parse(
            file,
            format!(
                "line {}: first line must be the '2theta chi X Y I' header, found '{}'",
                n0 + 1,
                h0.trim()
            ),
        ));
    };
    // Where 2theta, chi, X, Y, I are among the file's columns (aliases of the commented header: Xexp, Yexp,
    // intensity); the other columns follow as extras, in file order.
    let find =
        |names: &[&str]| source_columns.iter().position(|c| names.iter().any(|n| c.eq_ignore_ascii_case(n)));
    let canonical = [
        find(&["2theta"]),
        find(&["chi"]),
        find(&["X", "Xexp"]),
        find(&["Y", "Yexp"]),
        find(&["I", "intensity"]),
    ];
    let order: Vec<usize> = match canonical {
        [Some(a), Some(b), Some(c), Some(d), Some(e)] => vec![a, b, c, d, e],
        _ => {
            return Err(LaueError::parse(
                file,
                format!("header '{}' must start with '2theta chi X Y I'", source_columns.join(" ")),
            ));
        }
    };
    // A plain header keeps LaueTools' order strictly (older files write the pixel columns in lower case).
    if header_lines.is_empty() && order != [0, 1, 2, 3, 4] {
        return Err(LaueError::parse(
            file,
            format!("header '{}' must start with '2theta chi X Y I'", source_columns.join(" ")),
        ));
    }
    let extras: Vec<usize> = (0..source_columns.len()).filter(|k| !order.contains(k)).collect();
    let mut columns: Vec<String> = COR_COLUMNS.iter().map(|c| c.to_string()).collect();
    if header_lines.is_empty() {
        columns = source_columns.clone();
    } else {
        columns.extend(extras.iter().map(|&k| source_columns[k].clone()));
    }
    let permutation: Vec<usize> = order.iter().chain(&extras).copied().collect();
    let lines = all[body..].iter().copied();
    let mut cor = CorFile { columns, peaks: Vec::new(), parameters: Vec::new(), comments: Vec::new() };
    for c in header_lines.drain(..) {
        cor.comments.push(c.trim().to_string());
    }
    for (n, raw) in lines {
        let line = raw.trim();
        if line.is_empty() {
            continue;
        }
        if let Some(c) = line.strip_prefix('#') {
            let c = c.trim();
            match c.split_once(':') {
                Some((k, v)) if !k.trim().is_empty() && !k.trim().contains(char::is_whitespace) => {
                    cor.parameters.push((k.trim().to_string(), v.trim().to_string()));
                }
                _ => cor.comments.push(c.to_string()),
            }
            continue;
        }
        let at = |what: String| LaueError::parse(file, format!("line {}: {what}", n + 1));
        let tokens: Vec<&str> = line.split_whitespace().collect();
        if tokens.len() != source_columns.len() {
            return Err(at(format!(
                "{} values, expected {} ({}); truncated or not a .cor row: '{line}'",
                tokens.len(),
                source_columns.len(),
                source_columns.join(" ")
            )));
        }
        let mut v = Vec::with_capacity(tokens.len());
        for (t, name) in permutation.iter().map(|&k| (tokens[k], &source_columns[k])) {
            let x = t.parse::<f64>().map_err(|_| at(format!("{name} = '{t}' is not a number")))?;
            if v.len() < 5 && !x.is_finite() {
                return Err(at(format!("{name} = '{t}' is not finite")));
            }
            v.push(x);
        }
        cor.peaks.push(CorPeak {
            twotheta_deg: v[0],
            chi_deg: v[1],
            x: v[2],
            y: v[3],
            intensity: v[4],
            extra: v[5..].to_vec(),
        });
    }
    Ok(cor)
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
        // A byte-order mark, comment lines before the header, a lower-case header: the same peaks.
        let variant = format!(
            "\u{feff}# exported\n\n# by hand\n{}",
            text.replacen("peak_X peak_Y", "peak_x peak_y", 1)
        );
        assert_eq!(read_dat(&variant, "v.dat").unwrap(), back);
        let e = read_dat(&text.replacen("623.13", "623.1\u{e9}", 1), "n.dat").unwrap_err().to_string();
        assert!(e.contains("line 2: '623.1\u{e9}' is not a number"), "{e}");
        assert!(read_dat("# only a comment\n", "c.dat").unwrap_err().to_string().contains("empty file"));
    }

    fn shared(rel: &str) -> String {
        let p = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/data/real").join(rel);
        std::fs::read_to_string(&p)
            .unwrap_or_else(|e| panic!("{}: {e} (is ../shared beside the repo?)", p.display()))
    }

    /// Every row's 2θ, χ equal our pixel_to_angles of its X, Y with the trailer's calibration: checks the
    /// reader and the geometry against LaueTools at once.
    fn angles_agree(cor: &CorFile, calibration: &Calibration, tol_deg: f64) {
        for (i, p) in cor.peaks.iter().enumerate() {
            let (tth, chi) = calibration.pixel_to_angles(p.x, p.y);
            assert!(
                (tth - p.twotheta_deg).abs() < tol_deg && (chi - p.chi_deg).abs() < tol_deg,
                "row {i}: ({}, {}) → ({tth}, {chi}), file ({}, {})",
                p.x,
                p.y,
                p.twotheta_deg,
                p.chi_deg
            );
        }
    }

    #[test]
    fn lauetools_cor_ge_blanc() {
        let cor = read_cor(&shared("Ge_blanc/Ge_blanc_0000_LT_5.cor"), "Ge_blanc_0000_LT_5.cor").unwrap();
        assert_eq!(cor.columns, ["2theta", "chi", "X", "Y", "I"]);
        assert_eq!(cor.peaks.len(), 97);
        assert_eq!(
            cor.peaks[0],
            CorPeak {
                twotheta_deg: 58.4292,
                chi_deg: 20.128222,
                x: 623.12,
                y: 1657.73,
                intensity: 29239.3,
                extra: vec![]
            }
        );
        let last = cor.peaks.last().unwrap();
        assert_eq!((last.x, last.y, last.intensity), (651.17, 1033.19, 42.39));
        assert_eq!(cor.get("dd"), Some("70.77466664577443"));
        assert_eq!(cor.get("ypixelsize"), Some("0.079142"));
        assert_eq!(
            cor.get("From"),
            Some("/home/micha/lauetoolsgithub/LaueTools/LaueImages/Ge_blanc_0000_LT_5.dat")
        );
        assert!(
            cor.comments.iter().any(|c| c.starts_with("File created at Thu Mar 30")),
            "{:?}",
            cor.comments
        );
        assert!(cor.comments.contains(&"Calibration parameters".to_string()));
        // The calibration is the .det's (which rounds it to 3–4 decimals), on MARCCD165's frame.
        let c = cor.calibration("Ge_blanc_0000_LT_5.cor").unwrap();
        let det = crate::io::DetFile::parse(&shared("Ge_blanc/calibGe111.det"), "calibGe111.det").unwrap();
        let d = det.calibration;
        for (a, b) in c.params().iter().zip(d.params()) {
            assert!((a - b).abs() < 5e-3, "{:?} vs {:?}", c.params(), d.params());
        }
        assert_eq!((c.pixel_size_mm, c.rows, c.cols), (d.pixel_size_mm, d.rows, d.cols));
        angles_agree(&cor, &c, 1e-4);
    }

    #[test]
    fn lauetools_cor_scmos_with_extra_columns() {
        let cor = read_cor(&shared("Ge_sCMOS/img_Ge_sCMOS_0000_181peaks.cor"), "img.cor").unwrap();
        assert_eq!(cor.peaks.len(), 181);
        assert_eq!(cor.columns.len(), 15);
        assert_eq!(&cor.columns[5..7], ["peak_Itot", "peak_fwaxmaj"]);
        assert_eq!(cor.columns[14], "Yfiterr");
        let p = &cor.peaks[0];
        assert_eq!(
            (p.twotheta_deg, p.chi_deg, p.x, p.y, p.intensity),
            (54.73819, -14.76156, 1294.65, 1880.57, 44329.41)
        );
        assert_eq!(p.extra, [45700.88, 1.28, 1.27, 147.977, -0.35, -0.43, 1371.48, 42637.0, 0.01, 0.009]);
        assert_eq!(cor.column("Ipixmax").unwrap()[2], 34074.0);
        assert_eq!(cor.column("X").unwrap()[1], 760.75);
        assert_eq!(cor.column("nope"), None);
        let c = cor.calibration("img.cor").unwrap();
        assert_eq!(
            c.params(),
            [
                76.30541896689752,
                1026.6550911317042,
                1128.3350674380447,
                0.3456285811359702,
                0.36074874124984074
            ]
        );
        assert_eq!((c.pixel_size_mm, c.rows, c.cols), (0.0734, 2018, 2016), "sCMOS from the pixel size");
        angles_agree(&cor, &c, 1e-4);
    }

    #[test]
    fn cor_round_trip() {
        let peaks: Vec<Peak> = [(623.13, 1657.72, 29315.22), (933.04, 1215.44, 21725.72), (1.0, 1.0, 5.5)]
            .iter()
            .map(|&(x, y, i)| Peak {
                x,
                y,
                intensity: i + 90.0,
                intensity_sub: i,
                sigma_major: 0.8,
                sigma_minor: 0.8,
                inclination: 0.0,
                x_dev: 0.0,
                y_dev: 0.0,
                background: 90.0,
                max_pixel: i,
            })
            .collect();
        let det = crate::io::DetFile::parse(&shared("Ge_blanc/calibGe111.det"), "calibGe111.det").unwrap();
        let text = write_cor(&peaks, &det.calibration, "ge.mccd");
        let cor = read_cor(&text, "ours.cor").unwrap();
        assert_eq!(cor.peaks.len(), 3);
        for (p, q) in peaks.iter().zip(&cor.peaks) {
            assert!(
                (p.x - q.x).abs() < 1e-5
                    && (p.y - q.y).abs() < 1e-5
                    && (p.intensity_sub - q.intensity).abs() < 0.01
            );
        }
        let c = cor.calibration("ours.cor").unwrap();
        assert_eq!(c, det.calibration);
        assert_eq!(cor.get("From"), Some("ge.mccd"));
        angles_agree(&cor, &c, 1e-5);
        // And with no trailer the file is still a peak list, only without a calibration.
        let bare: String = text.lines().filter(|l| !l.starts_with('#')).map(|l| format!("{l}\n")).collect();
        let cor = read_cor(&bare, "bare.cor").unwrap();
        assert_eq!(cor.peaks.len(), 3);
        let e = cor.calibration("bare.cor").unwrap_err().to_string();
        assert!(e.contains("bare.cor") && e.contains("'# pixelsize"), "{e}");
    }

    #[test]
    fn bad_cor_files_are_errors_naming_file_and_line() {
        let good = shared("Ge_blanc/Ge_blanc_0000_LT_5.cor");
        let err = |text: &str| read_cor(text, "bad.cor").unwrap_err().to_string();
        // Truncated in the middle of a row (every cut of the first rows).
        for cut in 1..200 {
            match read_cor(&good[..cut], "cut.cor") {
                Ok(c) => assert!(c.peaks.len() <= 3),
                Err(e) => assert!(e.to_string().starts_with("cut.cor: "), "{e}"),
            }
        }
        let e = err(&good[..good.find("80.926191").unwrap() + 30]);
        assert!(e.starts_with("bad.cor: line 3: 3 values, expected 5"), "{e}");
        // Non-numeric and non-finite values.
        let e = err(&good.replacen("20.128222", "20.12x", 1));
        assert!(e.contains("line 2: chi = '20.12x' is not a number"), "{e}");
        let e = err(&good.replacen("623.120000", "nan", 1));
        assert!(e.contains("line 2: X = 'nan' is not finite"), "{e}");
        // Wrong column count.
        let e = err(&good.replacen("29239.300", "29239.300 7", 1));
        assert!(e.contains("line 2: 6 values, expected 5"), "{e}");
        // Not a .cor at all, and an empty file.
        assert!(
            err("peak_X peak_Y\n1 2\n").contains("line 1: first line must be the '2theta chi X Y I' header")
        );
        assert!(err("2theta chi I X Y\n").contains("must start with '2theta chi X Y I'"));
        // LaueTools' own CuSi example writes `x y` in lower case; it reads the same.
        let lower = good.replacen("2theta chi X Y I", "2theta   chi    x    y  I", 1);
        assert_eq!(read_cor(&lower, "lower.cor").unwrap().peaks, read_cor(&good, "good.cor").unwrap().peaks);
        assert!(err("\n  \n").contains("empty file"));
        assert_eq!(read_cor(&format!("\u{feff}{good}"), "bom.cor").unwrap().peaks.len(), 97);
        assert!(err("\u{0}\u{1}binary").starts_with("bad.cor: line 1"));
        // A bad calibration value.
        let cor = read_cor(&good.replace("# dd     :   70.77466664577443", "# dd : far"), "x.cor").unwrap();
        assert!(cor.calibration("x.cor").unwrap_err().to_string().contains("'dd' = 'far' is not a number"));
        let cor =
            read_cor(&good.replace("# pixelsize     :   0.079142", "# pixelsize : 0.05"), "y.cor").unwrap();
        assert!(cor.calibration("y.cor").unwrap_err().to_string().contains("not one detector's"));
    }
}
