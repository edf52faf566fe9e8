//! Image series in LaueTools' naming: `prefix_NNNN.ext`, the number being the point's acquisition index
//! (zero-padded or not). Pure name handling; listing a directory is the front end's job.

use crate::error::{LaueError, Result, Stage};

/// One file name of a series, split.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SeriesName {
    /// everything before the last `_` preceding the number
    pub prefix: String,
    /// the image number
    pub number: u64,
    /// extension without the dot (may be empty)
    pub extension: String,
}

/// Splits `name` (a file name, no directory) as `prefix_NUMBER.ext`; None when it has no such number.
pub fn parse_series_name(name: &str) -> Option<SeriesName> {
    let (stem, ext) = match name.rsplit_once('.') {
        Some((s, e)) if !s.is_empty() && !e.is_empty() && !e.chars().all(|c| c.is_ascii_digit()) => (s, e),
        _ => (name, ""),
    };
    let (prefix, digits) = stem.rsplit_once('_')?;
    if digits.is_empty() || !digits.chars().all(|c| c.is_ascii_digit()) || digits.len() > 18 {
        return None;
    }
    Some(SeriesName { prefix: prefix.to_string(), number: digits.parse().ok()?, extension: ext.to_string() })
}

/// Of the file `names`, those of one series (the prefix and extension shared by most names, or the given
/// ones), sorted by number, restricted to `first..=last`. Returns (number, name) pairs. A number that
/// appears twice is an error (two files would claim one point).
pub fn select_series(
    names: &[String],
    prefix: Option<&str>,
    extension: Option<&str>,
    first: Option<u64>,
    last: Option<u64>,
) -> Result<Vec<(u64, String)>> {
    let parsed: Vec<(SeriesName, &String)> =
        names.iter().filter_map(|n| parse_series_name(n).map(|p| (p, n))).collect();
    if parsed.is_empty() {
        return Err(LaueError::settings(
            Stage::Scan,
            "no file named as a LaueTools series (prefix_NNNN.ext) was found",
        ));
    }
    // The most common (prefix, extension) unless given.
    let key = |p: &SeriesName| (p.prefix.clone(), p.extension.to_ascii_lowercase());
    let chosen = match (prefix, extension) {
        (Some(pf), Some(e)) => (pf.to_string(), e.to_ascii_lowercase()),
        _ => {
            let mut counts: std::collections::BTreeMap<(String, String), usize> = Default::default();
            for (p, _) in &parsed {
                if prefix.is_none_or(|pf| pf == p.prefix)
                    && extension.is_none_or(|e| e.eq_ignore_ascii_case(&p.extension))
                {
                    *counts.entry(key(p)).or_default() += 1;
                }
            }
            counts.into_iter().max_by_key(|(_, n)| *n).map(|(k, _)| k).ok_or_else(|| {
                LaueError::settings(
                    Stage::Scan,
                    format!(
                        "no file of the series {}_NNNN.{}",
                        prefix.unwrap_or("*"),
                        extension.unwrap_or("*")
                    ),
                )
            })?
        }
    };
    let mut out: Vec<(u64, String)> = parsed
        .into_iter()
        .filter(|(p, _)| key(p) == chosen)
        .filter(|(p, _)| first.is_none_or(|f| p.number >= f) && last.is_none_or(|l| p.number <= l))
        .map(|(p, n)| (p.number, n.clone()))
        .collect();
    out.sort();
    for w in out.windows(2) {
        if w[0].0 == w[1].0 {
            return Err(LaueError::settings(
                Stage::Scan,
                format!("{} and {} have the same image number {}", w[0].1, w[1].1, w[0].0),
            ));
        }
    }
    if out.is_empty() {
        return Err(LaueError::settings(
            Stage::Scan,
            format!("no image of the series {}_NNNN.{} between --first and --last", chosen.0, chosen.1),
        ));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_split_as_lauetools_writes_them() {
        let p = parse_series_name("Ge_blanc_0000.mccd").unwrap();
        assert_eq!((p.prefix.as_str(), p.number, p.extension.as_str()), ("Ge_blanc", 0, "mccd"));
        let p = parse_series_name("scan_12345.tif").unwrap();
        assert_eq!(p.number, 12345);
        assert!(parse_series_name("calib.det").is_none());
        assert!(parse_series_name("img_12a.tif").is_none());
        let p = parse_series_name("raw_007").unwrap();
        assert_eq!((p.number, p.extension.as_str()), (7, ""));
    }

    #[test]
    fn series_sorted_by_number_and_cut() {
        let names: Vec<String> =
            ["s_0010.tif", "s_0002.tif", "s_0001.tif", "calib.det", "other_0001.mccd", "s_0003.tif"]
                .iter()
                .map(|s| s.to_string())
                .collect();
        let s = select_series(&names, None, None, None, None).unwrap();
        assert_eq!(s.iter().map(|x| x.0).collect::<Vec<_>>(), vec![1, 2, 3, 10]);
        let s = select_series(&names, None, None, Some(2), Some(3)).unwrap();
        assert_eq!(s.len(), 2);
        let s = select_series(&names, Some("other"), None, None, None).unwrap();
        assert_eq!(s, vec![(1, "other_0001.mccd".to_string())]);
        let dup: Vec<String> = ["a_1.tif", "a_0001.tif"].iter().map(|s| s.to_string()).collect();
        assert!(
            select_series(&dup, None, None, None, None)
                .unwrap_err()
                .to_string()
                .contains("same image number")
        );
    }
}
