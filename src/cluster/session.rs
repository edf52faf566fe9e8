//! One clustering of a scan from its feature matrix, as `lauekit cluster` runs it, kept so that a front end can
//! change K (or the estimator) without recomputing the features or the PCA — the page's Cluster panel holds one.
//!
//! The chain and its defaults are the CLI's (src/cli/cluster.rs), so the same features give the same labels:
//!
//! ```text
//! FeatureMatrix (n × d, f32)      rows filled one point at a time; unreadable points stay zero and are listed
//!   → fit(pca = 32, pca_fit_points = 2000)    fit rows m = min(n, max(pca_fit_points, 2)),
//!                                             components min(pca, m, d) (≥ 1); features::reduce
//!   → scan_k(2..=20, seed 0)                  K-means (4 restarts) + silhouette / Calinski–Harabasz per K
//!                                             (K < n only); suggested K: scores::suggested_k
//!   → cluster(K, kmeans | bgm, seed 0)        labels made dense, silhouette (sampled on 4000 points when n is
//!                                             larger) and Calinski–Harabasz, PCA and direct colours, delegates
//!                                             (members by distance to the centroid), connected regions
//!   → report(...)                             the JSON of `lauekit cluster`
//! ```
//!
//! Re-clustering at another K costs one K-means (or mixture) fit on the n × p scores plus the labelers; when
//! the K was part of the score scan and K-means found K clusters, its silhouette and Calinski–Harabasz score
//! are taken from the scan (the same K-means run with the same seed gives the same labels, so the numbers
//! are identical) instead of being recomputed.
//!
//! Plain Rust, no threads and no I/O, so it behaves the same natively and in wasm.

use serde::{Deserialize, Serialize};

use super::features::{FeatureMatrix, reduce};
use super::gmm::{BgmSettings, bayesian_gmm};
use super::kmeans::{KMeansSettings, kmeans};
use super::labelers::{centroid_rgb, connected_regions, delegates, dense_labels, direct_rgb};
use super::pca::Pca;
use super::scores::{self, KScore, ScanKSettings};
use super::{Matrix, invalid};
use crate::error::Result;
use crate::scan::ScanGrid;
use crate::scan::maps::{Map, RgbMap, ScalarMap};

/// Principal components kept (`lauekit cluster --pca`).
pub const DEFAULT_PCA: usize = 32;
/// Rows the PCA is fitted on at most (`--pca-fit-points`).
pub const DEFAULT_PCA_FIT_POINTS: usize = 2000;
/// K range scored (`--k-range 2..20`).
pub const DEFAULT_K_RANGE: [usize; 2] = [2, 20];
/// Members tried per cluster when indexing delegates (`--delegate-tries`).
pub const DEFAULT_DELEGATE_TRIES: usize = 5;

/// The clustering method (`--method`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Estimator {
    /// K-means++ with 4 restarts
    #[default]
    Kmeans,
    /// variational Bayesian Gaussian mixture with at most K components
    Bgm,
}

impl Estimator {
    /// `kmeans` or `bgm`, as the CLI names them.
    pub fn name(self) -> &'static str {
        match self {
            Estimator::Kmeans => "kmeans",
            Estimator::Bgm => "bgm",
        }
    }
}

/// The outcome of one clustering at one K.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Clustering {
    pub method: Estimator,
    /// the K asked for (for `bgm`: the largest number of components)
    pub k_requested: usize,
    /// seed of the clustering (and of the silhouette's sample)
    pub seed: u64,
    /// clusters found (labels are 0..k)
    pub k: usize,
    /// one per point, acquisition order
    pub labels: Vec<usize>,
    /// mean silhouette (NaN with fewer than 2 clusters, or not computed yet)
    pub silhouette: f64,
    pub calinski_harabasz: f64,
    /// whether the two scores are known ([`ClusterSession::score`])
    pub scored: bool,
    /// PCA labeler: one colour per cluster
    pub centroid_rgb: Vec<[u8; 3]>,
    /// direct colouring: one colour per point
    pub direct_rgb: Vec<[u8; 3]>,
    /// per cluster, its members by increasing distance to the centroid (element 0: the delegate)
    pub members: Vec<Vec<usize>>,
    /// connected region per point, and their number
    pub regions: Vec<usize>,
    pub n_regions: usize,
}

impl Clustering {
    /// Each cluster's delegate (its member nearest the centroid; `usize::MAX` for an empty cluster, which
    /// dense labels never have).
    pub fn delegates(&self) -> Vec<usize> {
        self.members.iter().map(|m| m.first().copied().unwrap_or(usize::MAX)).collect()
    }
}

/// A K of the score scan, as the CLI's JSON lists it.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct ScoreOut {
    pub k: usize,
    pub silhouette: f64,
    pub calinski_harabasz: f64,
}

/// One cluster's indexed delegate (`--index-delegates`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DelegateResult {
    pub label: usize,
    /// the member that was indexed (or the delegate, when none of the tried members was)
    pub delegate: usize,
    pub material: Option<String>,
    pub ub: Option<[[f64; 3]; 3]>,
    pub matching_rate: Option<f64>,
    /// members tried
    pub tried: usize,
}

/// Seconds spent in each stage (the JSON's `timings`).
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Timings {
    pub features: f64,
    pub pca: f64,
    pub scores: f64,
    pub clustering: f64,
    pub delegates: f64,
    /// refining every member from its cluster's orientation (the CLI's --refine-members; 0 otherwise)
    pub members: f64,
}

/// The JSON of `lauekit cluster`, field for field.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ClusterReport {
    pub grid: [usize; 2],
    pub k: usize,
    /// one per point in acquisition order, as every per-point array here (`direct_rgb`, `regions`) and the
    /// point indices (`delegates`): x fastest, except that a serpentine scan's odd rows run from high x to low x
    pub labels: Vec<usize>,
    pub silhouette: f64,
    pub calinski_harabasz: f64,
    pub scores: Vec<ScoreOut>,
    pub suggested_k: Option<usize>,
    pub explained_variance: Vec<f64>,
    pub explained_variance_ratio: Vec<f64>,
    pub delegates: Vec<usize>,
    pub centroid_rgb: Vec<[u8; 3]>,
    pub direct_rgb: Vec<[u8; 3]>,
    /// connected region (grain id) per point
    pub regions: Vec<usize>,
    pub n_regions: usize,
    pub features: String,
    pub method: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub clusters: Option<Vec<DelegateResult>>,
    /// images indexed in full (the delegates tried), with `clusters`
    #[serde(skip_serializing_if = "Option::is_none")]
    pub images_indexed: Option<usize>,
    /// with --refine-members: points refined from their cluster's orientation, and points it did not match
    #[serde(skip_serializing_if = "Option::is_none")]
    pub members_refined: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub members_unmatched: Option<usize>,
    /// points whose image could not be read (clustered as zero features)
    pub failed: Vec<usize>,
    pub feature_seconds: f64,
    pub timings: Timings,
    pub seconds: f64,
}

/// PCA fit rows and components as the CLI clamps them: m = min(n, max(`pca_fit_points`, 2)) rows,
/// min(`pca`, m, d) components (at least 1).
pub fn pca_shape(n: usize, d: usize, pca: usize, pca_fit_points: usize) -> (usize, usize) {
    let fit_rows = n.min(pca_fit_points.max(2));
    (fit_rows, pca.min(fit_rows).min(d).max(1))
}

/// A scan's features and, once fitted, their PCA scores and K scores.
#[derive(Debug, Clone)]
pub struct ClusterSession {
    grid: ScanGrid,
    features: FeatureMatrix,
    features_name: String,
    failed: Vec<bool>,
    fit: Option<(Pca, Matrix)>,
    scores: Vec<KScore>,
    /// seed of the score scan
    scan_seed: u64,
}

impl ClusterSession {
    /// A session for `grid` with `dim` features per point, all zero until set; `features_name` is what the
    /// report calls them (`pixels`, `peaks`, …).
    pub fn new(grid: ScanGrid, dim: usize, features_name: &str) -> Result<Self> {
        let n = grid.len();
        if n < 3 {
            return Err(invalid(format!("{n} points: clustering needs at least 3")));
        }
        if dim == 0 {
            return Err(invalid("features of length 0"));
        }
        let len = n
            .checked_mul(dim)
            .filter(|&l| l <= isize::MAX as usize / 4)
            .ok_or_else(|| invalid(format!("{n} points × {dim} features: too many")))?;
        Ok(ClusterSession {
            grid,
            features: FeatureMatrix { rows: n, cols: dim, data: vec![0.0; len] },
            features_name: features_name.to_string(),
            failed: vec![false; n],
            fit: None,
            scores: Vec::new(),
            scan_seed: 0,
        })
    }

    /// A session over a complete feature matrix (one row per grid point).
    pub fn from_features(
        grid: ScanGrid,
        features: FeatureMatrix,
        features_name: &str,
        failed: &[usize],
    ) -> Result<Self> {
        let mut s = Self::new(grid, features.cols.max(1), features_name)?;
        if features.rows != grid.len() || features.data.len() != features.rows * features.cols {
            return Err(invalid(format!(
                "{}×{} features for a {}×{} grid",
                features.rows, features.cols, grid.nx, grid.ny
            )));
        }
        s.features = features;
        for &i in failed {
            s.mark_failed(i)?;
        }
        Ok(s)
    }

    pub fn grid(&self) -> &ScanGrid {
        &self.grid
    }

    /// Number of points n.
    pub fn len(&self) -> usize {
        self.features.rows
    }

    /// Never true (a session has at least 3 points).
    pub fn is_empty(&self) -> bool {
        self.features.rows == 0
    }

    /// Features per point d.
    pub fn dim(&self) -> usize {
        self.features.cols
    }

    pub fn features(&self) -> &FeatureMatrix {
        &self.features
    }

    pub fn features_name(&self) -> &str {
        &self.features_name
    }

    fn check_index(&self, index: usize) -> Result<()> {
        if index >= self.len() {
            return Err(invalid(format!("point {index}: the scan has {} points", self.len())));
        }
        Ok(())
    }

    /// Sets point `index`'s features (a fitted PCA is dropped). Non-finite values are refused.
    pub fn set_row(&mut self, index: usize, row: &[f32]) -> Result<()> {
        self.check_index(index)?;
        let d = self.dim();
        if row.len() != d {
            return Err(invalid(format!("point {index}: {} features, the session has {d}", row.len())));
        }
        if let Some(j) = row.iter().position(|v| !v.is_finite()) {
            return Err(invalid(format!("point {index}: feature {j} is {}", row[j])));
        }
        self.features.data[index * d..(index + 1) * d].copy_from_slice(row);
        self.failed[index] = false;
        self.fit = None;
        self.scores.clear();
        Ok(())
    }

    /// Point `index`'s image could not be read: zero features, listed in the report's `failed`.
    pub fn mark_failed(&mut self, index: usize) -> Result<()> {
        self.check_index(index)?;
        let d = self.dim();
        self.features.data[index * d..(index + 1) * d].fill(0.0);
        self.failed[index] = true;
        self.fit = None;
        self.scores.clear();
        Ok(())
    }

    /// Points marked failed, in order.
    pub fn failed(&self) -> Vec<usize> {
        self.failed.iter().enumerate().filter(|(_, f)| **f).map(|(i, _)| i).collect()
    }

    /// Fits the PCA (clamped as [`pca_shape`]) and projects every point; clears the K scores.
    pub fn fit(&mut self, pca: usize, pca_fit_points: usize) -> Result<&Pca> {
        let n = self.len();
        if self.failed.iter().all(|f| *f) {
            return Err(invalid("no image could be read"));
        }
        let (fit_rows, n_pc) = pca_shape(n, self.dim(), pca, pca_fit_points);
        let (p, y) = reduce(&self.features, n_pc, fit_rows)?;
        self.scores.clear();
        Ok(&self.fit.insert((p, y)).0)
    }

    fn fitted(&self) -> Result<&(Pca, Matrix)> {
        self.fit.as_ref().ok_or_else(|| invalid("clustering: fit the PCA first"))
    }

    /// The fitted PCA, if any.
    pub fn pca(&self) -> Option<&Pca> {
        self.fit.as_ref().map(|f| &f.0)
    }

    /// The n × p PCA scores, if fitted.
    pub fn reduced(&self) -> Option<&Matrix> {
        self.fit.as_ref().map(|f| &f.1)
    }

    /// K-means scores for every K of `ks` below the number of points (others are left out, as the CLI
    /// does); an error if none is left.
    pub fn scan_k(&mut self, ks: &[usize], seed: u64) -> Result<&[KScore]> {
        let n = self.len();
        let ks: Vec<usize> = ks.iter().copied().filter(|&k| k >= 2 && k < n).collect();
        if ks.is_empty() {
            return Err(invalid(format!("no K between 2 and {} (the number of points − 1)", n - 1)));
        }
        let (_, y) = self.fitted()?;
        let s = ScanKSettings { seed, ..Default::default() };
        let scores = scores::scan_k_with(y.view(), &ks, &s)?;
        self.scores = scores;
        self.scan_seed = seed;
        Ok(&self.scores)
    }

    /// The scores of the last scan (empty before one).
    pub fn scores(&self) -> &[KScore] {
        &self.scores
    }

    /// The suggested K of the last scan ([`scores::suggested_k`]).
    pub fn suggested_k(&self) -> Option<usize> {
        scores::suggested_k(&self.scores)
    }

    /// Clusters the PCA scores into `k` clusters (at most `k` components for `bgm`) with `seed`, then the
    /// scores and labelers of the CLI.
    pub fn cluster(&self, k: usize, method: Estimator, seed: u64) -> Result<Clustering> {
        let mut c = self.cluster_unscored(k, method, seed)?;
        self.score(&mut c)?;
        Ok(c)
    }

    /// As [`ClusterSession::cluster`] without the silhouette and Calinski–Harabasz score unless the score scan
    /// had them (else NaN and `scored` false: [`ClusterSession::score`] computes them), so that a front end can
    /// draw the labels first.
    pub fn cluster_unscored(&self, k: usize, method: Estimator, seed: u64) -> Result<Clustering> {
        let (_, y) = self.fitted()?;
        let n = self.len();
        if k < 1 || k > n {
            return Err(invalid(format!("K = {k}: need 1 ≤ K ≤ {n} (the number of points)")));
        }
        let raw = match method {
            Estimator::Bgm => bayesian_gmm(y.view(), &BgmSettings { seed, ..BgmSettings::new(k) })?.labels,
            Estimator::Kmeans => {
                kmeans(y.view(), &KMeansSettings { k, seed, ..KMeansSettings::new(k) })?.labels
            }
        };
        let (labels, k_found) = dense_labels(&raw);
        let known = self.scores.iter().find(|s| s.k == k).filter(|_| {
            // The scan's K-means at this K is this very run when the seed is the same and every cluster is
            // non-empty (then the dense labels are K-means' own).
            method == Estimator::Kmeans && seed == self.scan_seed && k_found == k
        });
        let (silhouette, calinski_harabasz, scored) = match known {
            Some(s) => (s.silhouette, s.calinski_harabasz, true),
            // fewer than 2 clusters (or one per point): no score, as the CLI
            None if k_found < 2 || k_found >= n => (f64::NAN, f64::NAN, true),
            None => (f64::NAN, f64::NAN, false),
        };
        let centroid_rgb = centroid_rgb(y.view(), &labels, k_found)?;
        let direct_rgb = direct_rgb(y.view());
        let members = delegates(y.view(), &labels, k_found)?;
        let (regions, n_regions) = connected_regions(&self.grid, &labels)?;
        Ok(Clustering {
            method,
            k_requested: k,
            seed,
            k: k_found,
            labels,
            silhouette,
            calinski_harabasz,
            scored,
            centroid_rgb,
            direct_rgb,
            members,
            regions,
            n_regions,
        })
    }

    /// Computes the silhouette (on 4000 sampled points when n is larger, seeded with the clustering's seed) and
    /// the Calinski–Harabasz score of `c` if it has none yet, as `lauekit cluster` does.
    pub fn score(&self, c: &mut Clustering) -> Result<()> {
        if c.scored {
            return Ok(());
        }
        let (_, y) = self.fitted()?;
        let n = self.len();
        if c.labels.len() != n {
            return Err(invalid(format!("a clustering of {} points for {n}", c.labels.len())));
        }
        c.silhouette = match ScanKSettings::default().silhouette_sample {
            Some(m) if m < n => scores::silhouette_sampled(y.view(), &c.labels, m, c.seed)?,
            _ => scores::silhouette(y.view(), &c.labels)?,
        };
        c.calinski_harabasz = scores::calinski_harabasz(y.view(), &c.labels)?;
        c.scored = true;
        Ok(())
    }

    /// The JSON report of `lauekit cluster` for clustering `c` (of this session), with the delegates'
    /// indexing results if any; `timings` as measured by the caller (no clock here: wasm has none in std).
    pub fn report(
        &self,
        c: &Clustering,
        clusters: Option<Vec<DelegateResult>>,
        timings: Timings,
        seconds: f64,
    ) -> Result<ClusterReport> {
        let (pca, _) = self.fitted()?;
        if c.labels.len() != self.len() {
            return Err(invalid(format!("a clustering of {} points for {}", c.labels.len(), self.len())));
        }
        if !c.scored {
            return Err(invalid("the clustering's scores are not computed yet (ClusterSession::score)"));
        }
        Ok(ClusterReport {
            grid: [self.grid.nx, self.grid.ny],
            k: c.k,
            labels: c.labels.clone(),
            silhouette: c.silhouette,
            calinski_harabasz: c.calinski_harabasz,
            scores: self
                .scores
                .iter()
                .map(|s| ScoreOut {
                    k: s.k,
                    silhouette: s.silhouette,
                    calinski_harabasz: s.calinski_harabasz,
                })
                .collect(),
            suggested_k: self.suggested_k(),
            explained_variance: pca.explained_variance.clone(),
            explained_variance_ratio: pca.explained_variance_ratio.clone(),
            delegates: c.delegates(),
            centroid_rgb: c.centroid_rgb.clone(),
            direct_rgb: c.direct_rgb.clone(),
            regions: c.regions.clone(),
            n_regions: c.n_regions,
            features: self.features_name.clone(),
            method: c.method.name().to_string(),
            images_indexed: clusters.as_ref().map(|c| c.iter().map(|c| c.tried).sum()),
            members_refined: None,
            members_unmatched: None,
            clusters,
            failed: self.failed(),
            feature_seconds: timings.features,
            timings,
            seconds,
        })
    }
}

/// The label maps of a clustering on `grid` (row-major cells), as `lauekit cluster --png` draws them:
/// `cluster_labels` (natural, categorical), `cluster_pca` (PCA labeler), `cluster_direct` (direct colouring),
/// `cluster_regions` (connected regions, categorical).
pub fn label_maps(grid: &ScanGrid, c: &Clustering) -> Result<Vec<Map>> {
    let n = grid.len();
    if c.labels.len() != n || c.direct_rgb.len() != n || c.regions.len() != n {
        return Err(invalid(format!(
            "a clustering of {} points for a {}×{} grid",
            c.labels.len(),
            grid.nx,
            grid.ny
        )));
    }
    if let Some(l) = c.labels.iter().find(|&&l| l >= c.centroid_rgb.len()) {
        return Err(invalid(format!("label {l} without a colour ({} clusters)", c.centroid_rgb.len())));
    }
    let (nx, ny) = (grid.nx, grid.ny);
    let per_cell = |f: &dyn Fn(usize) -> f64| -> Vec<f64> {
        let mut v = vec![f64::NAN; nx * ny];
        for i in 0..n {
            let (ix, iy) = grid.position(i);
            v[iy * nx + ix] = f(i);
        }
        v
    };
    let rgb_cells = |f: &dyn Fn(usize) -> [u8; 3]| -> Vec<Option<[u8; 3]>> {
        let mut v = vec![None; nx * ny];
        for i in 0..n {
            let (ix, iy) = grid.position(i);
            v[iy * nx + ix] = Some(f(i));
        }
        v
    };
    let scalar = |name: &str, title: String, values: Vec<f64>, categories: Vec<String>| {
        Map::Scalar(ScalarMap {
            name: name.into(),
            title,
            unit: String::new(),
            nx,
            ny,
            step_um: grid.step_um,
            values,
            categories,
        })
    };
    let rgb = |name: &str, title: &str, rgb: Vec<Option<[u8; 3]>>| {
        Map::Rgb(RgbMap {
            name: name.into(),
            title: title.into(),
            nx,
            ny,
            step_um: grid.step_um,
            rgb,
            keys: vec![],
        })
    };
    Ok(vec![
        scalar(
            "cluster_labels",
            format!("Clusters (K = {})", c.k),
            per_cell(&|i| c.labels[i] as f64),
            (0..c.k).map(|l| format!("cluster {l}")).collect(),
        ),
        rgb(
            "cluster_pca",
            "PCA labeler (PC1-3 of the cluster centroids)",
            rgb_cells(&|i| c.centroid_rgb[c.labels[i]]),
        ),
        rgb("cluster_direct", "Direct colouring (PC1-3)", rgb_cells(&|i| c.direct_rgb[i])),
        scalar(
            "cluster_regions",
            format!("Connected regions ({})", c.n_regions),
            per_cell(&|i| c.regions[i] as f64),
            (0..c.n_regions).map(|r| format!("region {r}")).collect(),
        ),
    ])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cluster::tests::blobs;

    #[test]
    fn a_session_gives_the_chain_of_the_functions() {
        let (x, _) = blobs(60, 6, 3, 0.3, 4);
        let grid = ScanGrid::new(10, 6, None, false).unwrap();
        let rows: Vec<Vec<f32>> = (0..60).map(|i| x.row(i).iter().map(|&v| v as f32).collect()).collect();
        let fm = FeatureMatrix::from_rows(rows.clone()).unwrap();
        let mut s = ClusterSession::new(grid, 6, "test").unwrap();
        for (i, r) in rows.iter().enumerate() {
            s.set_row(i, r).unwrap();
        }
        assert!(s.cluster(3, Estimator::Kmeans, 0).is_err(), "not fitted yet");
        s.fit(DEFAULT_PCA, DEFAULT_PCA_FIT_POINTS).unwrap();
        let ks: Vec<usize> = (2..=20).collect();
        s.scan_k(&ks, 0).unwrap();
        assert_eq!(s.suggested_k(), Some(3));
        let c = s.cluster(3, Estimator::Kmeans, 0).unwrap();

        // the same by hand, as src/cli/cluster.rs runs it
        let (pca, y) = reduce(&fm, 6, 60).unwrap();
        assert_eq!(s.pca().unwrap(), &pca);
        let km = kmeans(y.view(), &KMeansSettings { k: 3, seed: 0, ..KMeansSettings::new(3) }).unwrap();
        let (labels, k) = dense_labels(&km.labels);
        assert_eq!((c.labels.clone(), c.k), (labels.clone(), k));
        assert_eq!(c.silhouette, scores::silhouette(y.view(), &labels).unwrap());
        assert_eq!(c.calinski_harabasz, scores::calinski_harabasz(y.view(), &labels).unwrap());
        assert_eq!(c.members, delegates(y.view(), &labels, 3).unwrap());
        let r = s.report(&c, None, Timings::default(), 0.0).unwrap();
        assert_eq!((r.k, r.scores.len(), r.suggested_k, r.delegates.len()), (3, 19, Some(3), 3));
        let maps = label_maps(&grid, &c).unwrap();
        assert_eq!(
            maps.iter().map(Map::name).collect::<Vec<_>>().join(","),
            "cluster_labels,cluster_pca,cluster_direct,cluster_regions"
        );

        // bad input
        assert!(s.clone().set_row(60, &[0.0; 6]).is_err());
        assert!(s.clone().set_row(0, &[0.0; 5]).is_err());
        assert!(s.clone().set_row(0, &[f32::NAN; 6]).is_err());
        assert!(s.cluster(0, Estimator::Kmeans, 0).is_err());
        assert!(ClusterSession::new(ScanGrid::new(2, 1, None, false).unwrap(), 3, "x").is_err());
        let mut u = s.cluster_unscored(4, Estimator::Kmeans, 1).unwrap();
        assert!(!u.scored && u.silhouette.is_nan());
        assert!(s.report(&u, None, Timings::default(), 0.0).is_err());
        s.score(&mut u).unwrap();
        assert_eq!(u, s.cluster(4, Estimator::Kmeans, 1).unwrap());
        let bgm = s.cluster(5, Estimator::Bgm, 0).unwrap();
        assert!(bgm.k >= 1 && bgm.k <= 5);
    }
}
