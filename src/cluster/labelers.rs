//! Labelers: what a clustering of scan points becomes on the map (Song et al., Acta Cryst. A75, 876, 2019).
//!
//! * natural: the cluster number k of every point ([`dense_labels`] renumbers any labelling to 0..K);
//! * PCA labeler ([`centroid_rgb`]): each cluster's centroid in the reduced feature space, its first three
//!   principal coordinates scaled channel by channel to [0, 255] over the K centroids — similar clusters get
//!   similar colours;
//! * direct colouring ([`direct_rgb`]): every point's first three principal coordinates, scaled channel by
//!   channel to [0, 255] between the 1st and 99th percentiles of all points (clipped), no clustering;
//! * delegates ([`delegates`], Song's eq. 12): the member of each cluster nearest its centroid in the feature
//!   space the clustering used, with all other members behind it by increasing distance, so that the next
//!   one can be indexed when the delegate cannot;
//! * connected regions ([`connected_regions`]): each cluster split into pieces connected through the 4
//!   neighbours on the scan grid — grain ids (a cluster holds all points of one orientation, also in two
//!   grains far apart).
//!
//! Inputs are the n × p scores the clustering saw (rows in acquisition order) and one label per point.

use super::{MatRef, invalid, sq_dist};
use crate::error::Result;
use crate::scan::ScanGrid;
use crate::scan::grains::DisjointSet;

/// Labels renumbered 0..K in increasing order of the original ids; returns (labels, K).
pub fn dense_labels(labels: &[usize]) -> (Vec<usize>, usize) {
    let (d, k, _) = super::dense_labels(labels);
    (d, k)
}

/// Cluster centroids (K × p, row-major) of the rows of `x` for labels in 0..k; an empty cluster's is zeros.
pub fn centroids(x: MatRef<'_>, labels: &[usize], k: usize) -> Result<Vec<Vec<f64>>> {
    check(x, labels, k)?;
    let p = x.cols();
    let mut c = vec![vec![0.0; p]; k];
    let mut n = vec![0usize; k];
    for (i, &l) in labels.iter().enumerate() {
        n[l] += 1;
        for (a, v) in c[l].iter_mut().zip(x.row(i)) {
            *a += v;
        }
    }
    for (ci, &ni) in c.iter_mut().zip(&n) {
        if ni > 0 {
            ci.iter_mut().for_each(|a| *a /= ni as f64);
        }
    }
    Ok(c)
}

fn check(x: MatRef<'_>, labels: &[usize], k: usize) -> Result<()> {
    if labels.len() != x.rows() {
        return Err(invalid(format!("{} labels for {} points", labels.len(), x.rows())));
    }
    if let Some(l) = labels.iter().find(|&&l| l >= k) {
        return Err(invalid(format!("label {l} with K = {k}")));
    }
    Ok(())
}

/// Channel c of `v` mapped linearly from [lo, hi] to [0, 255], clipped; 128 when the range is empty.
fn to_byte(v: f64, lo: f64, hi: f64) -> u8 {
    if hi.partial_cmp(&lo) != Some(std::cmp::Ordering::Greater) || !v.is_finite() {
        return 128;
    }
    (((v - lo) / (hi - lo)).clamp(0.0, 1.0) * 255.0).round() as u8
}

/// The PCA labeler: one colour per cluster from its centroid's first three coordinates in `x` (the PCA
/// scores, n × p; missing coordinates when p < 3 are grey), each scaled min–max over the K centroids.
pub fn centroid_rgb(x: MatRef<'_>, labels: &[usize], k: usize) -> Result<Vec<[u8; 3]>> {
    let c = centroids(x, labels, k)?;
    let mut out = vec![[128u8; 3]; k];
    for ch in 0..3.min(x.cols()) {
        let lo = c.iter().map(|r| r[ch]).fold(f64::INFINITY, f64::min);
        let hi = c.iter().map(|r| r[ch]).fold(f64::NEG_INFINITY, f64::max);
        for (o, r) in out.iter_mut().zip(&c) {
            o[ch] = to_byte(r[ch], lo, hi);
        }
    }
    Ok(out)
}

/// Direct colouring: one colour per point from its first three coordinates in `x` (n × p), each scaled
/// between its 1st and 99th percentile over the points (clipped).
pub fn direct_rgb(x: MatRef<'_>) -> Vec<[u8; 3]> {
    let n = x.rows();
    let mut out = vec![[128u8; 3]; n];
    for ch in 0..3.min(x.cols()) {
        let mut v: Vec<f64> = (0..n).map(|i| x.row(i)[ch]).collect();
        v.sort_unstable_by(f64::total_cmp);
        let q = |f: f64| v[((n - 1) as f64 * f).round() as usize];
        let (lo, hi) = if n > 0 { (q(0.01), q(0.99)) } else { (0.0, 0.0) };
        for (i, o) in out.iter_mut().enumerate() {
            o[ch] = to_byte(x.row(i)[ch], lo, hi);
        }
    }
    out
}

/// Song's delegates: for every cluster 0..k, its members ordered by increasing distance to the cluster's
/// centroid in `x` (ties by index). Element 0 is the delegate; the rest are the fall-backs, in order. An
/// empty cluster gets an empty list.
pub fn delegates(x: MatRef<'_>, labels: &[usize], k: usize) -> Result<Vec<Vec<usize>>> {
    let c = centroids(x, labels, k)?;
    let mut members: Vec<Vec<(f64, usize)>> = vec![Vec::new(); k];
    for (i, &l) in labels.iter().enumerate() {
        members[l].push((sq_dist(x.row(i), &c[l]), i));
    }
    Ok(members
        .into_iter()
        .map(|mut m| {
            m.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
            m.into_iter().map(|(_, i)| i).collect()
        })
        .collect())
}

/// Each cluster split into its pieces connected through the 4 neighbours on `grid`: one region id per point
/// (acquisition order, as `labels`), ids 0.. in order of each region's first point. Returns (ids, count).
pub fn connected_regions(grid: &ScanGrid, labels: &[usize]) -> Result<(Vec<usize>, usize)> {
    let n = grid.len();
    if labels.len() != n {
        return Err(invalid(format!("{} labels for a {}×{} grid", labels.len(), grid.nx, grid.ny)));
    }
    let (nx, ny) = (grid.nx, grid.ny);
    let at = |ix: usize, iy: usize| grid.index(ix, iy);
    let mut set = DisjointSet::new(n);
    for iy in 0..ny {
        for ix in 0..nx {
            let i = at(ix, iy);
            if ix + 1 < nx && labels[at(ix + 1, iy)] == labels[i] {
                set.union(i, at(ix + 1, iy));
            }
            if iy + 1 < ny && labels[at(ix, iy + 1)] == labels[i] {
                set.union(i, at(ix, iy + 1));
            }
        }
    }
    let mut id = vec![usize::MAX; n];
    let mut out = vec![0usize; n];
    let mut count = 0;
    for (i, o) in out.iter_mut().enumerate() {
        let r = set.find(i);
        if id[r] == usize::MAX {
            id[r] = count;
            count += 1;
        }
        *o = id[r];
    }
    Ok((out, count))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cluster::Matrix;

    #[test]
    fn delegates_are_nearest_the_centroid_and_regions_split_clusters() {
        // 4 × 2 grid, cluster 0 on columns 0 and 3, cluster 1 on columns 1–2
        let grid = ScanGrid::new(4, 2, None, false).unwrap();
        let labels = vec![0, 1, 1, 0, 0, 1, 1, 0];
        let x = Matrix::new(8, 1, vec![0.0, 5.0, 6.0, 1.0, 0.4, 5.4, 7.0, 0.6]).unwrap();
        let d = delegates(x.view(), &labels, 2).unwrap();
        // centroid 0 = 0.5: points 4 (0.4) and 7 (0.6) tie at 0.1 → lower index first
        assert_eq!(d[0], vec![4, 7, 0, 3]);
        assert_eq!(d[1][0], 2); // centroid 5.85: point 2 (6.0) is nearest
        let (r, n) = connected_regions(&grid, &labels).unwrap();
        assert_eq!(n, 3);
        assert_eq!(r, vec![0, 1, 1, 2, 0, 1, 1, 2]);
        let rgb = centroid_rgb(x.view(), &labels, 2).unwrap();
        assert_eq!(rgb[0][0], 0);
        assert_eq!(rgb[1][0], 255);
        assert_eq!(direct_rgb(x.view()).len(), 8);
        assert_eq!(dense_labels(&[7, 3, 7]), (vec![1, 0, 1], 2));
    }
}
