//! The Scan view's Cluster panel: indexing-free clustering of a scan (Song et al., Acta Cryst. A75, 876, 2019)
//! over [`crate::cluster`], with the CLI's defaults so that the page's labels are those of `lauekit cluster`.
//!
//! * [`ClusterFeatures`]: one point's feature vector (pixels: crop, 128² binning, log scaling; peaks: the
//!   peak search's spots on a (2θ, χ) grid; `ae`: the pixels as the autoencoder takes them). The scan
//!   workers hold one each and send the rows to the page.
//! * [`ClusterSession`]: the n × d features of a scan and, once fitted, their PCA scores and K scores
//!   ([`crate::cluster::session::ClusterSession`]); changing K re-clusters the scores only. Label maps as
//!   the Scan view draws maps, the orientation map of the clusters' indexed delegates (IPF colours of
//!   `crate::scan::maps`), and `to_json()` in the shape of `lauekit cluster`'s JSON.

use serde::{Deserialize, Serialize};
use wasm_bindgen::prelude::*;

use super::scan::{MapOut, grid_of, map_out};
use super::{DetectorImage, err, from_js, from_js_strict, to_js};
use crate::cluster::features::{FeatureExtractor, PeakFeatures, Preprocess, Roi, Scaling};
use crate::cluster::session::{
    self as core, Clustering, DEFAULT_K_RANGE, DEFAULT_PCA, DEFAULT_PCA_FIT_POINTS, DelegateResult,
    Estimator, Timings,
};
use crate::geometry::Calibration;
use crate::io::{ReadOptions, read_image};
use crate::pipeline::{GrainReport, PipelineRequest, PointStatus};
use crate::scan::grains::ScanOrientations;
use crate::scan::ipf::{IpfColouring, SampleAxis};
use crate::scan::maps::{Map, PngOptions, ipf_map};
use crate::scan::{PointResult, ScanResults, software_version};

/// What a point's features are (every key but `features` optional; unknown keys are errors).
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FeatureSpec {
    /// `pixels`, `peaks` or `ae` (the pre-processed pixels, which the page encodes with the autoencoder)
    features: String,
    /// pixels: `log` (default) or `percentile`
    #[serde(default)]
    scaling: Option<String>,
    /// pixels: a square crop instead of the centred square
    #[serde(default)]
    roi: Option<Roi>,
    /// peaks: the detector calibration
    #[serde(default)]
    calibration: Option<Calibration>,
    /// peaks: LaueTools' PeakSearch settings (missing keys: its defaults)
    #[serde(default)]
    params: Option<crate::peaks::PeakSearchParams>,
}

/// A feature extractor for scan points (one per scan worker).
#[wasm_bindgen]
pub struct ClusterFeatures {
    extractor: FeatureExtractor,
    name: &'static str,
}

#[wasm_bindgen]
impl ClusterFeatures {
    /// `spec`: `{features: "pixels" | "peaks" | "ae", scaling?: "log" | "percentile", roi?: {row0, col0, size},
    /// calibration? (needed by peaks), params? (peak search, for peaks)}` — as `lauekit cluster --features
    /// --scaling --roi --calib --params`.
    #[wasm_bindgen(constructor)]
    pub fn new(spec: JsValue) -> Result<ClusterFeatures, JsError> {
        let s: FeatureSpec = from_js_strict(spec, "feature settings")?;
        let scaling = match s.scaling.as_deref() {
            None | Some("log") => Scaling::Log,
            Some("percentile") => Scaling::percentile(),
            Some(o) => {
                return Err(JsError::new(&format!("feature settings: scaling {o:?}: use log or percentile")));
            }
        };
        let pixel_only = |what: &str| -> Result<(), JsError> {
            if s.calibration.is_some() || s.params.is_some() {
                return Err(JsError::new(&format!(
                    "feature settings: {what} features take no calibration or peak-search settings"
                )));
            }
            Ok(())
        };
        let (extractor, name) = match s.features.as_str() {
            // the autoencoder takes the pre-processed pixels (as `lauekit cluster --features ae`): the page encodes
            // them with `autoencoder_features`
            f @ ("pixels" | "ae") => {
                pixel_only(if f == "ae" { "autoencoder" } else { "pixel" })?;
                let pre = Preprocess { scaling, roi: s.roi, ..Default::default() };
                (FeatureExtractor::Pixels(pre), if f == "ae" { "ae" } else { "pixels" })
            }
            "peaks" => {
                if s.scaling.is_some() || s.roi.is_some() {
                    return Err(JsError::new("feature settings: peak features take no scaling or roi"));
                }
                let cal = s
                    .calibration
                    .ok_or_else(|| JsError::new("feature settings: peak features need the calibration"))?
                    .validated()
                    .map_err(err)?;
                let pf = PeakFeatures::new(cal, s.params.unwrap_or_default()).map_err(err)?;
                (FeatureExtractor::Peaks(Box::new(pf)), "peaks")
            }
            f => {
                return Err(JsError::new(&format!(
                    "feature settings: features {f:?}: use pixels, peaks or ae"
                )));
            }
        };
        Ok(ClusterFeatures { extractor, name })
    }

    /// Length of a point's feature vector (for `ae`: the 128² pixels the autoencoder takes).
    pub fn dim(&self) -> usize {
        self.extractor.dim()
    }

    /// `pixels`, `peaks` or `ae`.
    pub fn name(&self) -> String {
        self.name.to_string()
    }

    /// The features of a decoded image.
    pub fn extract_image(&self, image: &DetectorImage) -> Result<Vec<f32>, JsError> {
        self.extractor.extract(&image.frame).map_err(err)
    }

    /// The features of an image file's bytes (`name` for messages; `frame` of a stack). An unreadable file
    /// is an error with the reader's message.
    pub fn extract(&self, bytes: &[u8], name: &str, frame: usize) -> Result<Vec<f32>, JsError> {
        let f = read_image(bytes, name, &ReadOptions { frame, ..Default::default() }).map_err(err)?;
        self.extractor.extract(&f).map_err(err)
    }
}

#[derive(Deserialize)]
#[serde(default, deny_unknown_fields)]
struct FitOptions {
    pca: usize,
    pca_fit_points: usize,
}

impl Default for FitOptions {
    fn default() -> Self {
        FitOptions { pca: DEFAULT_PCA, pca_fit_points: DEFAULT_PCA_FIT_POINTS }
    }
}

#[derive(Deserialize)]
#[serde(default, deny_unknown_fields)]
struct ScanOptions {
    k_min: usize,
    k_max: usize,
    seed: u64,
}

impl Default for ScanOptions {
    fn default() -> Self {
        ScanOptions { k_min: DEFAULT_K_RANGE[0], k_max: DEFAULT_K_RANGE[1], seed: 0 }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ClusterOptions {
    k: usize,
    #[serde(default)]
    method: Estimator,
    #[serde(default)]
    seed: u64,
    /// leave the silhouette and Calinski–Harabasz score for `score()` when the K scan does not have them
    #[serde(default)]
    defer_scores: bool,
}

#[derive(Serialize)]
struct FitOut<'a> {
    n_components: usize,
    fit_rows: usize,
    explained_variance: &'a [f64],
    explained_variance_ratio: &'a [f64],
    total_variance: f64,
    elapsed_ms: f64,
}

#[derive(Serialize)]
struct ScanOut<'a> {
    scores: &'a [crate::cluster::scores::KScore],
    suggested_k: Option<usize>,
    elapsed_ms: f64,
}

#[derive(Serialize)]
struct ClusterOut<'a> {
    #[serde(flatten)]
    clustering: &'a Clustering,
    method: &'static str,
    delegates: Vec<usize>,
    elapsed_ms: f64,
}

fn options<T: serde::de::DeserializeOwned + Default>(v: JsValue, what: &str) -> Result<T, JsError> {
    if v.is_undefined() || v.is_null() { Ok(T::default()) } else { from_js_strict(v, what) }
}

/// A scan's features, PCA and clustering (the page's Cluster panel holds one, in a worker).
#[wasm_bindgen]
pub struct ClusterSession {
    s: core::ClusterSession,
    clustering: Option<Clustering>,
    delegates: Option<Vec<DelegateResult>>,
    /// seconds of the last fit, scan and clustering (the JSON's timings)
    timings: Timings,
}

#[wasm_bindgen]
impl ClusterSession {
    /// `grid`: `{nx, ny, step_um?, snake?}` (points in acquisition order); `dim`: features per point;
    /// `features`: their name in the report (`pixels`, `peaks`, `ae`). Every point starts with zero features.
    #[wasm_bindgen(constructor)]
    pub fn new(grid: JsValue, dim: usize, features: &str) -> Result<ClusterSession, JsError> {
        let grid = grid_of(grid)?;
        let s = core::ClusterSession::new(grid, dim, features).map_err(err)?;
        Ok(ClusterSession { s, clustering: None, delegates: None, timings: Timings::default() })
    }

    /// Number of points.
    pub fn len(&self) -> usize {
        self.s.len()
    }

    /// Never true (a session has at least 3 points).
    pub fn is_empty(&self) -> bool {
        self.s.is_empty()
    }

    /// Features per point.
    pub fn dim(&self) -> usize {
        self.s.dim()
    }

    fn changed(&mut self) {
        self.clustering = None;
        self.delegates = None;
    }

    /// Sets point `index`'s features (length `dim`, finite).
    pub fn set_row(&mut self, index: usize, row: &[f32]) -> Result<(), JsError> {
        self.s.set_row(index, row).map_err(err)?;
        self.changed();
        Ok(())
    }

    /// Sets `count = rows.length / dim` consecutive points from `start` (row-major).
    pub fn set_rows(&mut self, start: usize, rows: &[f32]) -> Result<(), JsError> {
        let d = self.s.dim();
        if !rows.len().is_multiple_of(d) {
            return Err(JsError::new(&format!("{} values are not whole rows of {d} features", rows.len())));
        }
        for (k, r) in rows.chunks_exact(d).enumerate() {
            self.changed();
            self.s.set_row(start + k, r).map_err(err)?;
        }
        Ok(())
    }

    /// Point `index`'s image could not be read: zero features, listed in the JSON's `failed`.
    pub fn mark_failed(&mut self, index: usize) -> Result<(), JsError> {
        self.s.mark_failed(index).map_err(err)?;
        self.changed();
        Ok(())
    }

    /// Point `index`'s features (a copy).
    pub fn row(&self, index: usize) -> Result<Vec<f32>, JsError> {
        if index >= self.s.len() {
            return Err(JsError::new(&format!("point {index}: the scan has {} points", self.s.len())));
        }
        Ok(self.s.features().row(index).to_vec())
    }

    /// Fits the PCA: `options` `{pca?: 32, pca_fit_points?: 2000}`. Returns `{n_components, fit_rows,
    /// explained_variance, explained_variance_ratio, total_variance, elapsed_ms}`.
    pub fn fit(&mut self, options: JsValue) -> Result<JsValue, JsError> {
        let o: FitOptions = self::options(options, "PCA options")?;
        let t0 = js_sys::Date::now();
        self.changed();
        let n = self.s.len();
        let (fit_rows, _) = core::pca_shape(n, self.s.dim(), o.pca, o.pca_fit_points);
        let p = self.s.fit(o.pca, o.pca_fit_points).map_err(err)?;
        self.timings.pca = (js_sys::Date::now() - t0) / 1e3;
        to_js(&FitOut {
            n_components: p.k(),
            fit_rows,
            explained_variance: &p.explained_variance,
            explained_variance_ratio: &p.explained_variance_ratio,
            total_variance: p.total_variance,
            elapsed_ms: js_sys::Date::now() - t0,
        })
    }

    /// Scores K-means for K = k_min..=k_max (K < n): `options` `{k_min?: 2, k_max?: 20, seed?: 0}`. Returns
    /// `{scores: [{k, silhouette, calinski_harabasz, davies_bouldin, inertia, iterations}], suggested_k,
    /// elapsed_ms}`.
    pub fn scan_k(&mut self, options: JsValue) -> Result<JsValue, JsError> {
        let o: ScanOptions = self::options(options, "K scan options")?;
        if o.k_min < 2 || o.k_max < o.k_min || o.k_max > 1000 {
            return Err(JsError::new(&format!(
                "K scan options: K from {} to {}: need 2 ≤ k_min ≤ k_max ≤ 1000",
                o.k_min, o.k_max
            )));
        }
        let t0 = js_sys::Date::now();
        let ks: Vec<usize> = (o.k_min..=o.k_max).collect();
        self.s.scan_k(&ks, o.seed).map_err(err)?;
        self.timings.scores = (js_sys::Date::now() - t0) / 1e3;
        to_js(&ScanOut {
            scores: self.s.scores(),
            suggested_k: self.s.suggested_k(),
            elapsed_ms: js_sys::Date::now() - t0,
        })
    }

    /// Clusters at `options` `{k, method?: "kmeans" | "bgm", seed?: 0, defer_scores?: false}` and keeps the
    /// result for the maps and the JSON. Returns `{method, k_requested, seed, k, labels, silhouette,
    /// calinski_harabasz, scored, centroid_rgb, direct_rgb, members, delegates, regions, n_regions, elapsed_ms}`
    /// (`members`: each cluster's points by distance to its centroid, the delegate first). With `defer_scores`
    /// the two scores are NaN (`scored` false) unless the K scan had them: `score()` computes them.
    pub fn cluster(&mut self, options: JsValue) -> Result<JsValue, JsError> {
        let o: ClusterOptions = from_js_strict(options, "clustering options")?;
        let t0 = js_sys::Date::now();
        let c = if o.defer_scores {
            self.s.cluster_unscored(o.k, o.method, o.seed)
        } else {
            self.s.cluster(o.k, o.method, o.seed)
        }
        .map_err(err)?;
        self.delegates = None;
        self.timings.clustering = (js_sys::Date::now() - t0) / 1e3;
        let c = self.clustering.insert(c);
        to_js(&ClusterOut {
            method: c.method.name(),
            delegates: c.delegates(),
            clustering: c,
            elapsed_ms: js_sys::Date::now() - t0,
        })
    }

    /// The silhouette and Calinski–Harabasz score of the current clustering (computed now if `cluster()` deferred
    /// them): `{silhouette, calinski_harabasz, elapsed_ms}`.
    pub fn score(&mut self) -> Result<JsValue, JsError> {
        #[derive(Serialize)]
        struct ScoreOut {
            silhouette: f64,
            calinski_harabasz: f64,
            elapsed_ms: f64,
        }
        let t0 = js_sys::Date::now();
        let c = self
            .clustering
            .as_mut()
            .ok_or_else(|| JsError::new("no clustering yet: call cluster() first"))?;
        let fresh = !c.scored;
        self.s.score(c).map_err(err)?;
        let (silhouette, calinski_harabasz) = (c.silhouette, c.calinski_harabasz);
        if fresh {
            self.timings.clustering += (js_sys::Date::now() - t0) / 1e3;
        }
        to_js(&ScoreOut { silhouette, calinski_harabasz, elapsed_ms: js_sys::Date::now() - t0 })
    }

    fn current(&self) -> Result<&Clustering, JsError> {
        self.clustering.as_ref().ok_or_else(|| JsError::new("no clustering yet: call cluster() first"))
    }

    /// The delegates' indexing results for the JSON (`[{label, delegate, material, ub, matching_rate,
    /// tried}]`, one per cluster of the current clustering, in label order).
    pub fn set_delegates(&mut self, clusters: JsValue) -> Result<(), JsError> {
        let d: Vec<DelegateResult> = from_js_strict(clusters, "delegates")?;
        let c = self.current()?;
        if d.len() != c.k || d.iter().enumerate().any(|(l, r)| r.label != l) {
            return Err(JsError::new(&format!(
                "delegates: {} results for {} clusters (one per cluster, labels 0..{} in order)",
                d.len(),
                c.k,
                c.k
            )));
        }
        if let Some(r) = d.iter().find(|r| r.delegate >= self.s.len() || c.labels[r.delegate] != r.label) {
            return Err(JsError::new(&format!(
                "delegates: point {} is not a member of cluster {}",
                r.delegate, r.label
            )));
        }
        self.delegates = Some(d);
        Ok(())
    }

    /// The JSON of `lauekit cluster` (same fields, same order) for the current clustering; `feature_seconds`,
    /// `delegate_seconds` (indexing the delegates) and `seconds` (all) as measured by the page, the PCA's,
    /// the K scan's and the clustering's from this session.
    /// (The scores are computed first if `cluster()` deferred them.)
    pub fn to_json(
        &mut self,
        feature_seconds: f64,
        delegate_seconds: f64,
        seconds: f64,
    ) -> Result<String, JsError> {
        if !self.current()?.scored {
            self.score()?;
        }
        let timings = Timings { features: feature_seconds, delegates: delegate_seconds, ..self.timings };
        let r = self.s.report(self.current()?, self.delegates.clone(), timings, seconds).map_err(err)?;
        serde_json::to_string_pretty(&r).map_err(|e| JsError::new(&e.to_string()))
    }

    fn label_map(&self, name: &str) -> Result<Map, JsError> {
        let maps = core::label_maps(self.s.grid(), self.current()?).map_err(err)?;
        maps.into_iter().find(|m| m.name() == name).ok_or_else(|| {
            JsError::new(&format!(
                "no label map {name:?} (cluster_labels, cluster_pca, cluster_direct, cluster_regions)"
            ))
        })
    }

    /// The label maps of the current clustering, as `scan_maps` gives maps: `cluster_labels` (natural),
    /// `cluster_pca` (PCA labeler), `cluster_direct` (direct colouring), `cluster_regions`.
    pub fn label_maps(&self) -> Result<JsValue, JsError> {
        let maps = core::label_maps(self.s.grid(), self.current()?).map_err(err)?;
        to_js(&maps.iter().map(map_out).collect::<Vec<MapOut>>())
    }

    /// One label map as the PNG `lauekit cluster --png` writes.
    pub fn label_map_png(&self, name: &str) -> Result<Vec<u8>, JsError> {
        self.label_map(name)?.to_png(&PngOptions::default()).map_err(err)
    }

    /// One label map's values as CSV.
    pub fn label_map_csv(&self, name: &str) -> Result<String, JsError> {
        Ok(self.label_map(name)?.to_csv())
    }

    fn orientation(&self, grains: JsValue, request: JsValue) -> Result<Vec<Map>, JsError> {
        let c = self.current()?;
        let grains: Vec<Option<GrainReport>> = from_js(grains, "cluster grains")?;
        if grains.len() != c.k {
            return Err(JsError::new(&format!("cluster grains: {} for {} clusters", grains.len(), c.k)));
        }
        let request: PipelineRequest = options(request, "pipeline request")?;
        let grid = *self.s.grid();
        let points = c
            .labels
            .iter()
            .enumerate()
            .map(|(i, &l)| {
                let (ix, iy) = grid.position(i);
                let g = grains[l].clone();
                PointResult {
                    index: i,
                    ix,
                    iy,
                    image: String::new(),
                    status: if g.is_some() { PointStatus::Indexed } else { PointStatus::NotIndexed },
                    error: None,
                    n_peaks: 0,
                    intensity_sum: 0.0,
                    peaks_intensity: 0.0,
                    grains: g.into_iter().collect(),
                    elapsed_ms: 0.0,
                }
            })
            .collect();
        let results = ScanResults { grid, request, software: software_version(), points };
        let o = ScanOrientations::from_results(&results).map_err(err)?;
        SampleAxis::ALL
            .iter()
            .map(|&a| {
                let mut m = ipf_map(&o, a, IpfColouring::LaueClass).map_err(err)?;
                m.title = format!("cluster delegates: {}", m.title);
                Ok(Map::Rgb(m))
            })
            .collect()
    }

    /// The orientation maps of the clusters: every point gets its cluster's grain (`grains`: one per cluster
    /// in label order, a grain as `run_point`/`analyse` report it, or null), drawn as the IPF maps `ipf_x`,
    /// `ipf_y`, `ipf_z` of `scan_maps` (`request`: the scan's, for the order of the phases; may be undefined).
    pub fn orientation_maps(&self, grains: JsValue, request: JsValue) -> Result<JsValue, JsError> {
        to_js(&self.orientation(grains, request)?.iter().map(map_out).collect::<Vec<MapOut>>())
    }

    /// One orientation map (`ipf_x`, `ipf_y`, `ipf_z`) as PNG, with the IPF key of each material.
    pub fn orientation_map_png(
        &self,
        grains: JsValue,
        request: JsValue,
        name: &str,
    ) -> Result<Vec<u8>, JsError> {
        self.orientation_map(grains, request, name)?.to_png(&PngOptions::default()).map_err(err)
    }

    /// One orientation map's colours as CSV.
    pub fn orientation_map_csv(
        &self,
        grains: JsValue,
        request: JsValue,
        name: &str,
    ) -> Result<String, JsError> {
        Ok(self.orientation_map(grains, request, name)?.to_csv())
    }
}

impl ClusterSession {
    fn orientation_map(&self, grains: JsValue, request: JsValue, name: &str) -> Result<Map, JsError> {
        self.orientation(grains, request)?
            .into_iter()
            .find(|m| m.name() == name)
            .ok_or_else(|| JsError::new(&format!("no orientation map {name:?} (ipf_x, ipf_y, ipf_z)")))
    }
}
