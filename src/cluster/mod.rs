//! Indexing-free clustering of raster scans: group scan points whose Laue patterns look alike, without
//! indexing them first (Song, Tamura, Zhang, Karami & Chen, "Data-driven approach for synchrotron X-ray Laue
//! microdiffraction scan analysis", Acta Cryst. A75, 876–888, 2019).
//!
//! What it is for: a scan of thousands of points often holds a handful of grains, phases or deformation states.
//! Points of the same grain give nearly the same pattern, so clusters of patterns are grains (or twins, or
//! phases) on the map — found in seconds, also where indexing fails (unknown phase, overlapping patterns,
//! strongly deformed regions), and a cheap check of, or a start for, the indexed maps.
//!
//! Data flow, every step a plain function over an n × d matrix (rows = scan points, row-major `f64`):
//!
//! ```text
//! features (n × d: pixels of a binned frame, d up to 128² = 16 384; peak descriptors; autoencoder codes)
//!   → pca::Pca::fit(x, k)                 centring + the k leading principal axes → n × k scores
//!   → kmeans::kmeans(scores, settings)    hard labels, K fixed        (or kmeans::minibatch_kmeans, large n)
//!   → gmm::bayesian_gmm(scores, settings) soft labels, K found: the effective number of components
//!   → labels (one per scan point)         → maps in `scan`
//!   → scores::{silhouette, calinski_harabasz, davies_bouldin, scan_k, suggested_k}  how good, which K
//! ```
//!
//! Frames become features in [`features`] (crop, 128 × 128 binning, [0, 1] scaling; pixels, or peaks on a
//! (2θ, χ) grid through `peaks` and the calibration; f32 storage and PCA in blocks), clusters become maps in
//! [`labelers`] (natural, PCA and direct colours, Song's delegates, regions connected on the `scan` grid);
//! `lauekit cluster` runs the whole chain.
//!
//! Apart from those two, nothing here knows about Laue patterns: the matrices come from elsewhere
//! ([`Matrix`] owns one, [`MatRef`] borrows one from a slice). Everything is deterministic for a given seed
//! (ChaCha8) and runs on one thread, so it behaves the same natively and in wasm. Bad input (empty matrices,
//! NaN or infinite values, K larger than the number of points, mismatched shapes) is refused with
//! [`LaueError::Settings`] of the clustering stage.
//!
//! PCA, K-means and the scores are written here rather than taken from linfa (which the issue suggested): one
//! matrix type (nalgebra's, already a dependency, plus the row-major [`Matrix`]) and no ndarray/linfa tree in
//! the wasm build, f32 feature blocks with a PCA fitted on a subset, and the variational mixture linfa lacks
//! anyway. Their correctness is pinned to scikit-learn instead:
//!
//! The numbers match scikit-learn's `PCA`, `KMeans`, `BayesianGaussianMixture`, `silhouette_score`,
//! `calinski_harabasz_score` and `davies_bouldin_score` on the fixtures in `tests/data/cluster/` (made by
//! `tests/data/cluster/make_reference.py`).
//!
//! A whole pass, from a matrix of features to labels and a suggested K:
//!
//! ```
//! use lauekit::cluster::{Matrix, pca::Pca, kmeans::{kmeans, KMeansSettings}, scores};
//! // 6 points in 3-D, two obvious groups
//! let x = Matrix::new(6, 3, vec![0.0, 0.1, 0.0, 0.1, 0.0, 0.0, 0.0, 0.0, 0.1,
//!                                5.0, 5.1, 5.0, 5.1, 5.0, 5.0, 5.0, 5.0, 5.1]).unwrap();
//! let pca = Pca::fit(x.view(), 2).unwrap();
//! let y = pca.transform(x.view()).unwrap(); // 6 × 2
//! let km = kmeans(y.view(), &KMeansSettings::new(2)).unwrap();
//! assert_eq!(km.labels[0], km.labels[2]);
//! assert_ne!(km.labels[0], km.labels[3]);
//! let ks = scores::scan_k(y.view(), 2..=4, 0).unwrap();
//! assert_eq!(scores::suggested_k(&ks), Some(2));
//! ```

pub mod autoencoder;
pub mod features;
pub mod gmm;
pub mod kmeans;
pub mod labelers;
pub mod pca;
pub mod scores;
pub mod session;

use serde::{Deserialize, Serialize};

use crate::error::{LaueError, Result, Stage};

/// An owned row-major matrix: `rows × cols` values, row `i` at `data[i·cols .. (i+1)·cols]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Matrix {
    pub rows: usize,
    pub cols: usize,
    /// `rows · cols` values, row-major
    pub data: Vec<f64>,
}

impl Matrix {
    /// A matrix from row-major values; `data.len()` must be `rows · cols`.
    pub fn new(rows: usize, cols: usize, data: Vec<f64>) -> Result<Self> {
        if rows.checked_mul(cols) != Some(data.len()) {
            return Err(invalid(format!(
                "matrix {rows}×{cols} needs {} values, got {}",
                rows * cols,
                data.len()
            )));
        }
        Ok(Matrix { rows, cols, data })
    }

    /// A `rows × cols` matrix of zeros.
    pub fn zeros(rows: usize, cols: usize) -> Self {
        Matrix { rows, cols, data: vec![0.0; rows * cols] }
    }

    /// A matrix from equally long rows.
    pub fn from_rows(rows: &[Vec<f64>]) -> Result<Self> {
        let cols = rows.first().map_or(0, Vec::len);
        if let Some((i, r)) = rows.iter().enumerate().find(|(_, r)| r.len() != cols) {
            return Err(invalid(format!("row {i} has {} values, row 0 has {cols}", r.len())));
        }
        Ok(Matrix { rows: rows.len(), cols, data: rows.concat() })
    }

    /// Row `i` (panics if `i ≥ rows`, as slice indexing does).
    pub fn row(&self, i: usize) -> &[f64] {
        &self.data[i * self.cols..(i + 1) * self.cols]
    }

    /// A borrowed view.
    pub fn view(&self) -> MatRef<'_> {
        MatRef { rows: self.rows, cols: self.cols, data: &self.data }
    }
}

/// A borrowed row-major `rows × cols` matrix (see [`Matrix`]).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MatRef<'a> {
    rows: usize,
    cols: usize,
    data: &'a [f64],
}

impl<'a> MatRef<'a> {
    /// A view of row-major values; `data.len()` must be `rows · cols`.
    pub fn new(data: &'a [f64], rows: usize, cols: usize) -> Result<Self> {
        if rows.checked_mul(cols) != Some(data.len()) {
            return Err(invalid(format!(
                "matrix {rows}×{cols} needs {} values, got {}",
                rows * cols,
                data.len()
            )));
        }
        Ok(MatRef { rows, cols, data })
    }

    pub fn rows(&self) -> usize {
        self.rows
    }

    pub fn cols(&self) -> usize {
        self.cols
    }

    /// All values, row-major.
    pub fn data(&self) -> &'a [f64] {
        self.data
    }

    /// Row `i` (panics if `i ≥ rows`, as slice indexing does).
    #[inline]
    pub fn row(&self, i: usize) -> &'a [f64] {
        &self.data[i * self.cols..(i + 1) * self.cols]
    }

    /// An owned copy.
    pub fn to_matrix(&self) -> Matrix {
        Matrix { rows: self.rows, cols: self.cols, data: self.data.to_vec() }
    }

    /// The rows `idx` (in that order) as a new matrix.
    pub fn select_rows(&self, idx: &[usize]) -> Matrix {
        let mut data = Vec::with_capacity(idx.len() * self.cols);
        for &i in idx {
            data.extend_from_slice(self.row(i));
        }
        Matrix { rows: idx.len(), cols: self.cols, data }
    }
}

impl<'a> From<&'a Matrix> for MatRef<'a> {
    fn from(m: &'a Matrix) -> Self {
        m.view()
    }
}

/// A refused clustering setting or input matrix ([`LaueError::Settings`] of [`Stage::Clustering`]).
pub(crate) fn invalid(msg: impl Into<String>) -> LaueError {
    LaueError::settings(Stage::Clustering, msg)
}

/// Refuse empty matrices and non-finite values; `what` names the matrix in the message.
pub(crate) fn check_data(x: MatRef<'_>, what: &str) -> Result<()> {
    if x.rows == 0 || x.cols == 0 {
        return Err(invalid(format!("{what}: empty matrix ({}×{})", x.rows, x.cols)));
    }
    if let Some(p) = x.data.iter().position(|v| !v.is_finite()) {
        return Err(invalid(format!(
            "{what}: row {} column {} is {} (clustering needs finite values)",
            p / x.cols,
            p % x.cols,
            x.data[p]
        )));
    }
    Ok(())
}

/// Squared Euclidean distance of two equally long vectors. Four independent accumulators let the compiler use
/// SIMD lanes (a single running sum would pin the order of the additions).
#[inline]
pub(crate) fn sq_dist(a: &[f64], b: &[f64]) -> f64 {
    let n = a.len().min(b.len());
    let (a, b) = (&a[..n], &b[..n]);
    let mut acc = [0.0f64; 4];
    let mut ca = a.chunks_exact(4);
    let mut cb = b.chunks_exact(4);
    for (x, y) in (&mut ca).zip(&mut cb) {
        for l in 0..4 {
            let t = x[l] - y[l];
            acc[l] += t * t;
        }
    }
    let mut tail = 0.0;
    for (x, y) in ca.remainder().iter().zip(cb.remainder()) {
        let t = x - y;
        tail += t * t;
    }
    (acc[0] + acc[1]) + (acc[2] + acc[3]) + tail
}

/// Column means (length `cols`).
pub(crate) fn column_means(x: MatRef<'_>) -> Vec<f64> {
    let mut mean = vec![0.0; x.cols];
    for i in 0..x.rows {
        for (m, v) in mean.iter_mut().zip(x.row(i)) {
            *m += v;
        }
    }
    let n = x.rows.max(1) as f64;
    mean.iter_mut().for_each(|m| *m /= n);
    mean
}

/// Labels renumbered 0..L in increasing order of value; returns (dense labels, L, counts per label).
pub(crate) fn dense_labels(labels: &[usize]) -> (Vec<usize>, usize, Vec<usize>) {
    let mut ids: Vec<usize> = labels.to_vec();
    ids.sort_unstable();
    ids.dedup();
    let dense: Vec<usize> = labels.iter().map(|l| ids.binary_search(l).unwrap_or(0)).collect();
    let mut counts = vec![0usize; ids.len()];
    for &l in &dense {
        counts[l] += 1;
    }
    (dense, ids.len(), counts)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use serde_json::Value;

    /// The scikit-learn reference (tests/data/cluster/reference.json), parsed once per test.
    pub(crate) fn reference() -> Value {
        serde_json::from_str(include_str!("../../tests/data/cluster/reference.json")).expect("fixture parses")
    }

    /// A matrix from a JSON array of rows.
    pub(crate) fn matrix(v: &Value) -> Matrix {
        let rows: Vec<Vec<f64>> = serde_json::from_value(v.clone()).expect("rows of numbers");
        Matrix::from_rows(&rows).expect("equal rows")
    }

    pub(crate) fn floats(v: &Value) -> Vec<f64> {
        serde_json::from_value(v.clone()).expect("numbers")
    }

    pub(crate) fn usizes(v: &Value) -> Vec<usize> {
        serde_json::from_value(v.clone()).expect("integers")
    }

    /// `n` points around `k` well-separated centres in `d` dimensions (seeded), with their true labels.
    pub(crate) fn blobs(n: usize, d: usize, k: usize, spread: f64, seed: u64) -> (Matrix, Vec<usize>) {
        use rand::{Rng, SeedableRng};
        use rand_distr::{Distribution, StandardNormal};
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
        let centres: Vec<f64> = (0..k * d).map(|_| rng.random_range(-10.0..10.0)).collect();
        let mut data = Vec::with_capacity(n * d);
        let mut truth = Vec::with_capacity(n);
        for i in 0..n {
            let c = i % k;
            truth.push(c);
            for j in 0..d {
                let z: f64 = StandardNormal.sample(&mut rng);
                data.push(centres[c * d + j] + spread * z);
            }
        }
        (Matrix { rows: n, cols: d, data }, truth)
    }

    /// Adjusted Rand index of two complete labellings.
    pub(crate) fn ari(a: &[usize], b: &[usize]) -> f64 {
        let a: Vec<Option<usize>> = a.iter().map(|&v| Some(v)).collect();
        let b: Vec<Option<usize>> = b.iter().map(|&v| Some(v)).collect();
        crate::scan::grains::adjusted_rand_index(&a, &b)
    }

    #[test]
    fn shapes_and_bad_values_are_refused() {
        assert!(Matrix::new(2, 3, vec![0.0; 5]).is_err());
        assert!(MatRef::new(&[0.0; 6], 3, 2).is_ok());
        assert!(Matrix::from_rows(&[vec![1.0, 2.0], vec![3.0]]).is_err());
        let m = Matrix::new(2, 2, vec![1.0, f64::NAN, 0.0, 1.0]).unwrap();
        let e = check_data(m.view(), "features").unwrap_err().to_string();
        assert!(e.contains("row 0 column 1"), "{e}");
        assert!(check_data(Matrix::zeros(0, 3).view(), "x").is_err());
    }

    #[test]
    fn squared_distance_matches_the_plain_sum() {
        let a: Vec<f64> = (0..11).map(|i| i as f64 * 0.3).collect();
        let b: Vec<f64> = (0..11).map(|i| (i * i) as f64 * 0.1).collect();
        let plain: f64 = a.iter().zip(&b).map(|(x, y)| (x - y) * (x - y)).sum();
        assert!((sq_dist(&a, &b) - plain).abs() < 1e-12 * plain);
    }

    #[test]
    fn labels_are_made_dense() {
        let (d, l, c) = dense_labels(&[7, 3, 7, 9]);
        assert_eq!((d, l, c), (vec![1, 0, 1, 2], 3, vec![1, 2, 1]));
    }
}
