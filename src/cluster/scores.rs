//! How good is a clustering, and which K: internal scores (no ground truth needed) and a scan over K.
//!
//! * **Silhouette** (Rousseeuw 1987): for point i in cluster A, a(i) = mean Euclidean distance to the other
//!   points of A, b(i) = the smallest mean distance to the points of another cluster; s(i) = (b − a) / max(a, b),
//!   0 for a point alone in its cluster. The score is the mean of s over the points, in [−1, 1], higher is
//!   better. Exact: O(n²·d) time; the per-cluster distance sums are kept per point (n × L values for L labels,
//!   each pair of points visited once) when that is at most 4 M values, else per point in turn (O(L) memory,
//!   each pair visited twice) — never an n × n matrix. For large n, [`silhouette_sampled`] computes it on a
//!   seeded random subset (as scikit-learn's `sample_size`).
//! * **Calinski–Harabasz** (1974): between-cluster dispersion / within-cluster dispersion, each divided by its
//!   degrees of freedom: [Σₖ nₖ‖cₖ − c‖² / (L − 1)] / [Σᵢ ‖xᵢ − c(xᵢ)‖² / (n − L)]. Higher is better; 1 when
//!   the within dispersion is zero (scikit-learn's convention).
//! * **Davies–Bouldin** (1979): mean over clusters of maxⱼ (sᵢ + sⱼ) / ‖cᵢ − cⱼ‖, sᵢ the mean distance of
//!   cluster i's points to its centroid. Lower is better, 0 at best.
//!
//! All three need 2 ≤ L ≤ n − 1 distinct labels; label values may be any `usize` (they are renumbered).
//!
//! [`scan_k`] runs K-means for every K of a range and scores each; [`suggested_k`] picks the K with the
//! highest silhouette, silhouettes within [`SILHOUETTE_TIE`] of the best counting as tied and ties going to
//! the highest Calinski–Harabasz score (then to the smaller K).

use std::ops::RangeInclusive;

use rand::SeedableRng;
use rand::seq::index::sample;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use super::kmeans::{KMeansSettings, kmeans};
use super::{MatRef, check_data, column_means, dense_labels, invalid, sq_dist};
use crate::error::Result;

/// Silhouettes closer than this to the best one count as ties in [`suggested_k`].
pub const SILHOUETTE_TIE: f64 = 1e-3;

/// Above this many per-point cluster sums (n × L) the silhouette runs point by point.
const SYMMETRIC_LIMIT: usize = 4 << 20;

/// Dense labels and their counts, checked against `x` and 2 ≤ L ≤ n − 1.
fn prepare(x: MatRef<'_>, labels: &[usize], what: &str) -> Result<(Vec<usize>, usize, Vec<usize>)> {
    check_data(x, what)?;
    if labels.len() != x.rows() {
        return Err(invalid(format!("{what}: {} labels for {} points", labels.len(), x.rows())));
    }
    let (dense, l, counts) = dense_labels(labels);
    if l < 2 || l >= x.rows() {
        return Err(invalid(format!(
            "{what}: {l} distinct labels for {} points, need 2 ≤ L ≤ n − 1",
            x.rows()
        )));
    }
    Ok((dense, l, counts))
}

/// Silhouette of every point (length n); see the module doc.
pub fn silhouette_samples(x: MatRef<'_>, labels: &[usize]) -> Result<Vec<f64>> {
    silhouette_samples_with(x, labels, SYMMETRIC_LIMIT)
}

/// [`silhouette_samples`], pairs visited once when n × L ≤ `limit`.
fn silhouette_samples_with(x: MatRef<'_>, labels: &[usize], limit: usize) -> Result<Vec<f64>> {
    let (lab, l, counts) = prepare(x, labels, "silhouette")?;
    let n = x.rows();
    let finish = |i: usize, sums: &[f64]| -> f64 {
        let own = lab[i];
        if counts[own] <= 1 {
            return 0.0;
        }
        let a = sums[own] / (counts[own] - 1) as f64;
        let b =
            (0..l).filter(|&c| c != own).map(|c| sums[c] / counts[c] as f64).fold(f64::INFINITY, f64::min);
        let m = a.max(b);
        if m > 0.0 { (b - a) / m } else { 0.0 }
    };
    let mut out = vec![0.0; n];
    if n.saturating_mul(l) <= limit {
        // every pair once, its distance added to both points' sums; row i is complete after its turn
        let mut sums = vec![0.0; n * l];
        for i in 0..n {
            let (xi, li) = (x.row(i), lab[i]);
            for j in i + 1..n {
                let dist = sq_dist(xi, x.row(j)).sqrt();
                sums[i * l + lab[j]] += dist;
                sums[j * l + li] += dist;
            }
            out[i] = finish(i, &sums[i * l..(i + 1) * l]);
        }
    } else {
        let mut sums = vec![0.0; l];
        for (i, o) in out.iter_mut().enumerate() {
            sums.iter_mut().for_each(|v| *v = 0.0);
            let xi = x.row(i);
            for (j, &lj) in lab.iter().enumerate() {
                if j != i {
                    sums[lj] += sq_dist(xi, x.row(j)).sqrt();
                }
            }
            *o = finish(i, &sums);
        }
    }
    Ok(out)
}

/// Mean silhouette over all points (exact, O(n²·d)).
pub fn silhouette(x: MatRef<'_>, labels: &[usize]) -> Result<f64> {
    let s = silhouette_samples(x, labels)?;
    Ok(s.iter().sum::<f64>() / s.len() as f64)
}

/// Mean silhouette over a seeded random subset of `sample_size` points (all points if `sample_size ≥ n`),
/// the distances taken within the subset as scikit-learn's `silhouette_score(sample_size=…)`.
pub fn silhouette_sampled(x: MatRef<'_>, labels: &[usize], sample_size: usize, seed: u64) -> Result<f64> {
    if labels.len() != x.rows() {
        return Err(invalid(format!("silhouette: {} labels for {} points", labels.len(), x.rows())));
    }
    if sample_size >= x.rows() {
        return silhouette(x, labels);
    }
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let idx = sample(&mut rng, x.rows(), sample_size).into_vec();
    let sub = x.select_rows(&idx);
    let sub_labels: Vec<usize> = idx.iter().map(|&i| labels[i]).collect();
    silhouette(sub.view(), &sub_labels)
}

/// Centroids (L × d, row-major) of the dense labels.
fn centroids(x: MatRef<'_>, lab: &[usize], l: usize, counts: &[usize]) -> Vec<f64> {
    let d = x.cols();
    let mut c = vec![0.0; l * d];
    for (i, &li) in lab.iter().enumerate() {
        for (s, v) in c[li * d..(li + 1) * d].iter_mut().zip(x.row(i)) {
            *s += v;
        }
    }
    for k in 0..l {
        c[k * d..(k + 1) * d].iter_mut().for_each(|v| *v /= counts[k] as f64);
    }
    c
}

/// Calinski–Harabasz score (variance ratio criterion); see the module doc.
pub fn calinski_harabasz(x: MatRef<'_>, labels: &[usize]) -> Result<f64> {
    let (lab, l, counts) = prepare(x, labels, "Calinski–Harabasz")?;
    let (n, d) = (x.rows(), x.cols());
    let c = centroids(x, &lab, l, &counts);
    let mean = column_means(x);
    let between: f64 = (0..l).map(|k| counts[k] as f64 * sq_dist(&c[k * d..(k + 1) * d], &mean)).sum();
    let within: f64 = (0..n).map(|i| sq_dist(x.row(i), &c[lab[i] * d..(lab[i] + 1) * d])).sum();
    Ok(if within == 0.0 { 1.0 } else { between * (n - l) as f64 / (within * (l - 1) as f64) })
}

/// Davies–Bouldin index; see the module doc.
pub fn davies_bouldin(x: MatRef<'_>, labels: &[usize]) -> Result<f64> {
    let (lab, l, counts) = prepare(x, labels, "Davies–Bouldin")?;
    let d = x.cols();
    let c = centroids(x, &lab, l, &counts);
    let mut spread = vec![0.0; l];
    for (i, &li) in lab.iter().enumerate() {
        spread[li] += sq_dist(x.row(i), &c[li * d..(li + 1) * d]).sqrt();
    }
    for k in 0..l {
        spread[k] /= counts[k] as f64;
    }
    let mut total = 0.0;
    let mut any_separation = false;
    for a in 0..l {
        let mut worst = 0.0f64;
        for b in 0..l {
            let sep = sq_dist(&c[a * d..(a + 1) * d], &c[b * d..(b + 1) * d]).sqrt();
            if b != a && sep > 0.0 {
                any_separation = true;
                worst = worst.max((spread[a] + spread[b]) / sep);
            }
        }
        total += worst;
    }
    if !any_separation || spread.iter().all(|&s| s == 0.0) {
        return Ok(0.0);
    }
    Ok(total / l as f64)
}

/// K-means and its scores for one K.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct KScore {
    pub k: usize,
    /// mean silhouette (exact, or on a subsample; see [`ScanKSettings::silhouette_sample`]); NaN if K-means
    /// found fewer than 2 distinct clusters
    pub silhouette: f64,
    pub calinski_harabasz: f64,
    pub davies_bouldin: f64,
    /// K-means inertia (feature units squared)
    pub inertia: f64,
    /// K-means iterations of the kept restart
    pub iterations: usize,
}

/// Settings of [`scan_k_with`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct ScanKSettings {
    /// K-means restarts per K
    pub n_init: usize,
    pub max_iter: usize,
    pub tol: f64,
    /// silhouette on a random subset of this many points when n is larger (`None`: always exact)
    pub silhouette_sample: Option<usize>,
    pub seed: u64,
}

impl Default for ScanKSettings {
    fn default() -> Self {
        ScanKSettings { n_init: 4, max_iter: 300, tol: 1e-4, silhouette_sample: Some(4000), seed: 0 }
    }
}

/// K-means for every K in `k_range` (each 2 ≤ K ≤ n − 1) with default settings (4 restarts, silhouette on
/// 4000 points at most), scored.
pub fn scan_k(x: MatRef<'_>, k_range: RangeInclusive<usize>, seed: u64) -> Result<Vec<KScore>> {
    let ks: Vec<usize> = k_range.collect();
    scan_k_with(x, &ks, &ScanKSettings { seed, ..Default::default() })
}

/// K-means for every K of `ks` (each 2 ≤ K ≤ n − 1), scored. Each K uses the same seed.
pub fn scan_k_with(x: MatRef<'_>, ks: &[usize], s: &ScanKSettings) -> Result<Vec<KScore>> {
    check_data(x, "K scan input")?;
    if ks.is_empty() {
        return Err(invalid("K scan: no K to try"));
    }
    if let Some(&k) = ks.iter().find(|&&k| k < 2 || k >= x.rows()) {
        return Err(invalid(format!("K scan: K = {k} for {} points, need 2 ≤ K ≤ n − 1", x.rows())));
    }
    let mut out = Vec::with_capacity(ks.len());
    for &k in ks {
        let km = kmeans(
            x,
            &KMeansSettings { k, n_init: s.n_init, max_iter: s.max_iter, tol: s.tol, seed: s.seed },
        )?;
        let distinct = dense_labels(&km.labels).1;
        let (sil, ch, db) = if distinct < 2 || distinct >= x.rows() {
            (f64::NAN, f64::NAN, f64::NAN)
        } else {
            let sil = match s.silhouette_sample {
                Some(m) if m < x.rows() => silhouette_sampled(x, &km.labels, m, s.seed)?,
                _ => silhouette(x, &km.labels)?,
            };
            (sil, calinski_harabasz(x, &km.labels)?, davies_bouldin(x, &km.labels)?)
        };
        out.push(KScore {
            k,
            silhouette: sil,
            calinski_harabasz: ch,
            davies_bouldin: db,
            inertia: km.inertia,
            iterations: km.iterations,
        });
    }
    Ok(out)
}

/// The suggested K: the highest silhouette; silhouettes within [`SILHOUETTE_TIE`] of it are ties, won by the
/// highest Calinski–Harabasz score, then by the smaller K. `None` if no silhouette is finite.
pub fn suggested_k(scores: &[KScore]) -> Option<usize> {
    let best =
        scores.iter().filter(|s| s.silhouette.is_finite()).map(|s| s.silhouette).fold(f64::NAN, f64::max);
    if !best.is_finite() {
        return None;
    }
    scores
        .iter()
        .filter(|s| s.silhouette.is_finite() && s.silhouette >= best - SILHOUETTE_TIE)
        .max_by(|a, b| {
            let ch = |s: &KScore| {
                if s.calinski_harabasz.is_finite() { s.calinski_harabasz } else { f64::NEG_INFINITY }
            };
            ch(a).total_cmp(&ch(b)).then(b.k.cmp(&a.k))
        })
        .map(|s| s.k)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cluster::Matrix;
    use crate::cluster::tests::{blobs, matrix, reference, usizes};

    #[test]
    fn scores_match_scikit_learn() {
        let r = reference();
        let x = matrix(&r["blobs"]["x"]);
        for key in ["scores_blobs_k3", "scores_blobs_k5", "scores_blobs_truth"] {
            let sk = &r[key];
            let labels = usizes(&sk["labels"]);
            let sil = silhouette(x.view(), &labels).unwrap();
            let ch = calinski_harabasz(x.view(), &labels).unwrap();
            let db = davies_bouldin(x.view(), &labels).unwrap();
            let (s0, c0, d0) = (
                sk["silhouette"].as_f64().unwrap(),
                sk["calinski_harabasz"].as_f64().unwrap(),
                sk["davies_bouldin"].as_f64().unwrap(),
            );
            assert!((sil - s0).abs() < 1e-12, "{key}: silhouette {sil} vs {s0}");
            assert!((ch - c0).abs() < 1e-12 * c0, "{key}: CH {ch} vs {c0}");
            assert!((db - d0).abs() < 1e-12, "{key}: DB {db} vs {d0}");
            // label values are arbitrary
            let shifted: Vec<usize> = labels.iter().map(|l| 100 - 7 * l).collect();
            assert_eq!(silhouette(x.view(), &shifted).unwrap(), sil);
        }
    }

    #[test]
    fn both_silhouette_paths_agree_and_sampling_is_close() {
        let (x, truth) = blobs(500, 4, 5, 3.0, 3);
        let sym = silhouette_samples(x.view(), &truth).unwrap();
        let per_point = silhouette_samples_with(x.view(), &truth, 0).unwrap();
        assert!(sym.iter().zip(&per_point).all(|(a, b)| (a - b).abs() < 1e-12));
        let exact = silhouette(x.view(), &truth).unwrap();
        assert_eq!(silhouette_sampled(x.view(), &truth, 500, 1).unwrap(), exact);
        let sub = silhouette_sampled(x.view(), &truth, 200, 1).unwrap();
        assert!((sub - exact).abs() < 0.05, "{sub} vs {exact}");
    }

    #[test]
    fn scan_suggests_the_number_of_blobs() {
        let r = reference();
        let x = matrix(&r["blobs"]["x"]);
        let scores = scan_k(x.view(), 2..=6, 0).unwrap();
        assert_eq!(scores.iter().map(|s| s.k).collect::<Vec<_>>(), vec![2, 3, 4, 5, 6]);
        let k3 = &scores[1];
        assert!((k3.silhouette - r["scores_blobs_k3"]["silhouette"].as_f64().unwrap()).abs() < 1e-12);
        assert!((k3.inertia - r["kmeans_blobs"]["3"]["inertia"].as_f64().unwrap()).abs() < 1e-9 * k3.inertia);
        assert!(scores.windows(2).all(|w| w[1].inertia < w[0].inertia));
        // two of the three blobs are close: the silhouette prefers merging them (scikit-learn: 0.782 at K = 2,
        // 0.761 at K = 3), Calinski–Harabasz would take 3
        assert!((scores[0].silhouette - 0.782_468_651_415_525_5).abs() < 1e-12);
        assert_eq!(suggested_k(&scores), Some(2));
        // well-separated blobs
        let (y, _) = blobs(400, 3, 4, 0.5, 2);
        assert_eq!(suggested_k(&scan_k(y.view(), 2..=7, 1).unwrap()), Some(4));
    }

    #[test]
    fn ties_go_to_calinski_harabasz() {
        let s = |k, silhouette, calinski_harabasz| KScore {
            k,
            silhouette,
            calinski_harabasz,
            davies_bouldin: 0.0,
            inertia: 0.0,
            iterations: 1,
        };
        assert_eq!(suggested_k(&[s(2, 0.5, 10.0), s(3, 0.6, 5.0)]), Some(3));
        assert_eq!(suggested_k(&[s(2, 0.6, 10.0), s(3, 0.6005, 5.0)]), Some(2));
        assert_eq!(suggested_k(&[s(2, f64::NAN, 10.0)]), None);
        assert_eq!(suggested_k(&[]), None);
    }

    #[test]
    fn bad_input_is_refused() {
        let x = Matrix::new(4, 1, vec![0.0, 1.0, 2.0, 3.0]).unwrap();
        assert!(silhouette(x.view(), &[0, 0, 0, 0]).is_err());
        assert!(silhouette(x.view(), &[0, 1, 2, 3]).is_err());
        assert!(silhouette(x.view(), &[0, 1]).is_err());
        assert!(calinski_harabasz(x.view(), &[0, 0, 1]).is_err());
        assert!(scan_k(x.view(), 1..=2, 0).is_err());
        assert!(scan_k(x.view(), 2..=4, 0).is_err());
        // identical points in each cluster: CH = 1 (no within dispersion), DB = 0, silhouette = 1
        let y = Matrix::new(4, 1, vec![0.0, 0.0, 5.0, 5.0]).unwrap();
        assert_eq!(calinski_harabasz(y.view(), &[0, 0, 1, 1]).unwrap(), 1.0);
        assert_eq!(davies_bouldin(y.view(), &[0, 0, 1, 1]).unwrap(), 0.0);
        assert_eq!(silhouette(y.view(), &[0, 0, 1, 1]).unwrap(), 1.0);
    }

    #[test]
    #[ignore = "timing printout; run with cargo test --release -- --ignored"]
    fn timing_silhouette_6000() {
        let (x, truth) = blobs(6000, 32, 64, 2.0, 7);
        let t = std::time::Instant::now();
        let s = silhouette(x.view(), &truth).unwrap();
        println!("silhouette 6000×32, 64 labels: {:.1} ms ({s:.4})", t.elapsed().as_secs_f64() * 1e3);
        let t = std::time::Instant::now();
        let s = silhouette_sampled(x.view(), &truth, 2000, 0).unwrap();
        println!("silhouette on 2000 of 6000: {:.1} ms ({s:.4})", t.elapsed().as_secs_f64() * 1e3);
    }
}
