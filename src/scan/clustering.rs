//! A scan's clustering (`lauekit cluster`, [`crate::cluster`]) as it is kept next to the scan's results: in
//! memory a [`ClusterRecord`], in a scan's HDF5 file the group `cluster/`, written by
//! [`super::h5::to_hdf5_with_cluster`] and read by [`super::h5::cluster_from_hdf5`]:
//!
//! - attributes: `features` (pixels, peaks, ae), `method` (kmeans, bgm), `k`, `n_regions`, `silhouette`,
//!   `calinski_harabasz` (NaN when K = 1), `suggested_k` (−1: none), `settings` (JSON of the settings)
//! - per point, in acquisition order (index = iy·nx + ix, as `points/index`): `labels`, `regions` (u64),
//!   `direct_rgb` (n × 3, u8)
//! - per cluster: `delegates` (point index), `centroid_rgb` (k × 3, u8), and when the delegates were indexed
//!   `delegate_material` (string, empty: none), `delegate_ub` (k × 3 × 3, rows; NaN: none),
//!   `delegate_matching_rate` (%, NaN: none)
//! - per K scored: `scores_k`, `scores_silhouette`, `scores_calinski_harabasz`
//! - `explained_variance_ratio`: of the principal components kept

use serde::{Deserialize, Serialize};

use crate::error::{LaueError, Result, Stage};

/// One cluster's indexed delegate.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DelegateGrain {
    pub material: String,
    /// LaueTools' UB (rows)
    pub ub: [[f64; 3]; 3],
    /// matching rate (%)
    pub matching_rate: f64,
}

/// The silhouette and Calinski–Harabasz scores of one K.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct KScore {
    pub k: usize,
    pub silhouette: f64,
    pub calinski_harabasz: f64,
}

/// A clustering of a scan's points.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ClusterRecord {
    /// feature extractor: pixels, peaks or ae
    pub features: String,
    /// estimator: kmeans or bgm
    pub method: String,
    /// number of clusters
    pub k: usize,
    /// cluster of each point (acquisition order), 0..k
    pub labels: Vec<usize>,
    /// spatially connected region of each point, 0..n_regions
    pub regions: Vec<usize>,
    pub n_regions: usize,
    /// the delegate (point index) of each cluster
    pub delegates: Vec<usize>,
    /// colour of each cluster (its centroid's first three principal components)
    pub centroid_rgb: Vec<[u8; 3]>,
    /// colour of each point (its own first three principal components)
    pub direct_rgb: Vec<[u8; 3]>,
    /// the indexed delegate of each cluster (empty when the delegates were not indexed)
    pub delegate_grains: Vec<Option<DelegateGrain>>,
    pub silhouette: f64,
    pub calinski_harabasz: f64,
    pub scores: Vec<KScore>,
    pub suggested_k: Option<usize>,
    pub explained_variance_ratio: Vec<f64>,
    /// the settings of the run (JSON object)
    pub settings: serde_json::Value,
}

impl ClusterRecord {
    /// Checks the record against a scan of `n_points` points.
    pub fn validate(&self, n_points: usize) -> Result<()> {
        let bad = |m: String| Err(LaueError::settings(Stage::Clustering, format!("cluster record: {m}")));
        if self.labels.len() != n_points
            || self.regions.len() != n_points
            || self.direct_rgb.len() != n_points
        {
            return bad(format!(
                "{} labels, {} regions, {} colours for {n_points} points",
                self.labels.len(),
                self.regions.len(),
                self.direct_rgb.len()
            ));
        }
        if self.labels.iter().any(|&l| l >= self.k) {
            return bad(format!("a label is not below K = {}", self.k));
        }
        if self.regions.iter().any(|&r| r >= self.n_regions) {
            return bad(format!("a region is not below {}", self.n_regions));
        }
        if self.delegates.len() != self.k || self.centroid_rgb.len() != self.k {
            return bad(format!(
                "{} delegates and {} cluster colours for K = {}",
                self.delegates.len(),
                self.centroid_rgb.len(),
                self.k
            ));
        }
        if self.delegates.iter().any(|&d| d >= n_points) {
            return bad("a delegate is not a point of the scan".into());
        }
        if !self.delegate_grains.is_empty() && self.delegate_grains.len() != self.k {
            return bad(format!("{} delegate grains for K = {}", self.delegate_grains.len(), self.k));
        }
        Ok(())
    }
}
