//! Splitting a scan over the tasks of a job array, and joining the pieces; the journal of a running scan.
//!
//! Shard i of n holds the contiguous points `⌊i·N/n⌋ .. ⌊(i+1)·N/n⌋` (acquisition order). [`merge`] joins
//! shard results (any order) into the results a single run gives: same grid, same request, every point
//! exactly once.
//!
//! The journal is what makes a scan resumable: a header line (the grid, the request, the images) then one
//! JSON line per finished point, appended as points finish. A run killed at any moment leaves at worst a
//! torn last line, which [`read_journal`] drops; the points before it are kept, and a restart does only
//! the others.

use std::ops::Range;

use serde::{Deserialize, Serialize};

use super::{PointResult, ScanGrid, ScanResults};
use crate::error::{LaueError, Result, Stage};
use crate::pipeline::PipelineRequest;

/// Parses `I/N` (shard I of N, from 0).
pub fn parse_shard(s: &str) -> Result<(usize, usize)> {
    let bad =
        || LaueError::settings(Stage::Scan, format!("shard '{s}': write I/N with 0 ≤ I < N, e.g. 3/16"));
    let (a, b) = s.trim().split_once('/').ok_or_else(bad)?;
    let (i, n): (usize, usize) = (a.trim().parse().map_err(|_| bad())?, b.trim().parse().map_err(|_| bad())?);
    if n == 0 || i >= n {
        return Err(bad());
    }
    Ok((i, n))
}

/// The points of shard `i` of `n` of a scan of `n_points`.
pub fn shard_range(n_points: usize, i: usize, n: usize) -> Range<usize> {
    let at = |k: usize| ((k as u128 * n_points as u128) / n as u128) as usize;
    at(i)..at(i + 1)
}

/// Joins shard results into one scan. Every part must have the same grid and request; together they
/// must hold every point of the grid exactly once.
pub fn merge(parts: Vec<ScanResults>) -> Result<ScanResults> {
    let mut it = parts.into_iter();
    let Some(mut first) = it.next() else {
        return Err(LaueError::settings(Stage::Scan, "nothing to merge"));
    };
    for p in it {
        if p.grid != first.grid {
            return Err(LaueError::settings(
                Stage::Scan,
                format!("shards of different scans: grid {:?} and {:?}", first.grid, p.grid),
            ));
        }
        if p.request != first.request {
            return Err(LaueError::settings(Stage::Scan, "shards made with different pipeline requests"));
        }
        first.points.extend(p.points);
    }
    first.points.sort_by_key(|p| p.index);
    let n = first.grid.len();
    let mut missing = Vec::new();
    let mut k = 0;
    for want in 0..n {
        match first.points.get(k) {
            Some(p) if p.index == want => {
                k += 1;
                if first.points.get(k).is_some_and(|q| q.index == want) {
                    return Err(LaueError::settings(Stage::Scan, format!("point {want} is in two shards")));
                }
            }
            _ => missing.push(want),
        }
    }
    if k != first.points.len() {
        return Err(LaueError::settings(
            Stage::Scan,
            format!("a shard holds points beyond the grid's {n} (index ≥ {n})"),
        ));
    }
    if !missing.is_empty() {
        let shown: Vec<String> = missing.iter().take(10).map(|m| m.to_string()).collect();
        return Err(LaueError::settings(
            Stage::Scan,
            format!(
                "{} of {n} points are in no shard (first: {}{})",
                missing.len(),
                shown.join(", "),
                if missing.len() > 10 { ", …" } else { "" }
            ),
        ));
    }
    Ok(first)
}

/// The first line of a journal: what the scan is, so that a restart can check it resumes the same one.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct JournalHeader {
    pub journal: String,
    pub grid: ScanGrid,
    pub request: PipelineRequest,
    /// the image of each point of this run (in point order), as given
    pub images: Vec<String>,
    /// the points this run does
    pub points: Range<usize>,
    pub software: String,
}

impl JournalHeader {
    /// Marker in the `journal` field.
    pub const KIND: &'static str = "lauekit-scan-journal-1";
}

/// The header line (with its newline).
pub fn journal_header_line(h: &JournalHeader) -> Result<String> {
    let mut s = serde_json::to_string(h)
        .map_err(|e| LaueError::Write { file: "journal".into(), reason: e.to_string() })?;
    s.push('\n');
    Ok(s)
}

/// A point's line (with its newline).
pub fn journal_point_line(p: &PointResult) -> Result<String> {
    let mut s = serde_json::to_string(p)
        .map_err(|e| LaueError::Write { file: "journal".into(), reason: e.to_string() })?;
    s.push('\n');
    Ok(s)
}

/// Reads a journal: its header and the points it holds (a torn last line, from a run killed while
/// writing it, is dropped; a damaged line before the last is an error). A point listed twice keeps its
/// first line.
pub fn read_journal(text: &str, name: &str) -> Result<(JournalHeader, Vec<PointResult>)> {
    let mut lines = text.split_inclusive('\n');
    let head = lines.next().ok_or_else(|| LaueError::parse(name, "empty journal"))?;
    let header: JournalHeader = serde_json::from_str(head.trim_end())
        .map_err(|e| LaueError::parse(name, format!("journal header: {e}")))?;
    if header.journal != JournalHeader::KIND {
        return Err(LaueError::parse(name, "not a lauekit scan journal"));
    }
    let rest: Vec<&str> = lines.collect();
    let mut points: Vec<PointResult> = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for (k, line) in rest.iter().enumerate() {
        let complete = line.ends_with('\n');
        match serde_json::from_str::<PointResult>(line.trim_end()) {
            Ok(p) if complete => {
                if seen.insert(p.index) {
                    points.push(p);
                }
            }
            // The last line, cut by a kill: that point is done again.
            _ if k + 1 == rest.len() => {}
            Err(e) => return Err(LaueError::parse(name, format!("journal line {}: {e}", k + 2))),
            Ok(_) => {}
        }
    }
    Ok((header, points))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pipeline::PointStatus;

    fn results(grid: ScanGrid, idx: Range<usize>) -> ScanResults {
        ScanResults {
            grid,
            request: PipelineRequest::default(),
            software: "t".into(),
            points: idx
                .map(|i| PointResult::failed(i, &grid, format!("img_{i:04}.tif"), "x".into()))
                .collect(),
        }
    }

    #[test]
    fn shards_cover_every_point_once() {
        for n_points in [1, 7, 100, 1201] {
            for n in 1..=9 {
                let mut next = 0;
                for i in 0..n {
                    let r = shard_range(n_points, i, n);
                    assert_eq!(r.start, next);
                    next = r.end;
                }
                assert_eq!(next, n_points);
            }
        }
        assert_eq!(parse_shard("3/16").unwrap(), (3, 16));
        assert!(parse_shard("16/16").is_err());
        assert!(parse_shard("a/2").is_err());
    }

    #[test]
    fn merge_in_any_order_equals_the_whole() {
        let grid = ScanGrid::new(5, 4, None, true).unwrap();
        let whole = results(grid, 0..20);
        let parts: Vec<ScanResults> =
            [2, 0, 3, 1].iter().map(|&i| results(grid, shard_range(20, i, 4))).collect();
        assert_eq!(merge(parts).unwrap(), whole);
        let gap = vec![results(grid, 0..10), results(grid, 11..20)];
        assert!(merge(gap).unwrap_err().to_string().contains("1 of 20 points are in no shard"));
        let dup = vec![results(grid, 0..11), results(grid, 10..20)];
        assert!(merge(dup).unwrap_err().to_string().contains("two shards"));
    }

    #[test]
    fn journal_drops_a_torn_last_line_only() {
        let grid = ScanGrid::new(3, 1, None, false).unwrap();
        let h = JournalHeader {
            journal: JournalHeader::KIND.into(),
            grid,
            request: PipelineRequest::default(),
            images: vec!["a".into(), "b".into(), "c".into()],
            points: 0..3,
            software: "t".into(),
        };
        let mut text = journal_header_line(&h).unwrap();
        for i in 0..2 {
            text.push_str(
                &journal_point_line(&PointResult::failed(i, &grid, "a".into(), "e".into())).unwrap(),
            );
        }
        let full = journal_point_line(&PointResult::failed(2, &grid, "c".into(), "e".into())).unwrap();
        let torn = format!("{text}{}", &full[..full.len() / 2]);
        let (hh, pts) = read_journal(&torn, "j").unwrap();
        assert_eq!(hh, h);
        assert_eq!(pts.len(), 2);
        assert!(pts.iter().all(|p| p.status == PointStatus::Failed));
        let damaged = format!("{}garbage\n{}", journal_header_line(&h).unwrap(), full);
        assert!(read_journal(&damaged, "j").is_err());
    }
}
