#![cfg(not(target_arch = "wasm32"))]
#![allow(clippy::unwrap_used)]

//! Indexing-free clustering (issue 14, first slice) on a synthetic scan with known truth: 24 × 16 points of
//! 256² images, Cu grains with a Σ3 twin band and Si particles, orientation gradients, strain, noise, mixed
//! patterns on boundaries, empty points. Features (pixels, peaks) → PCA 32 → K-means or the Bayesian
//! mixture at the true K → connected regions, compared with the truth's connected regions off the
//! boundaries; delegates indexed through the pipeline; and the `lauekit cluster` CLI on the same scan.

use std::sync::OnceLock;
use std::time::Instant;

use lauekit::cluster::features::{
    FeatureExtractor, FeatureMatrix, PeakFeatures, Preprocess, Scaling, reduce,
};
use lauekit::cluster::gmm::{BgmSettings, bayesian_gmm};
use lauekit::cluster::kmeans::{KMeansSettings, kmeans};
use lauekit::cluster::labelers::{connected_regions, delegates, dense_labels};
use lauekit::cluster::{Matrix, scores};
use lauekit::scan::grains::{DisjointSet, adjusted_rand_index};
use lauekit::scan::simulate::{
    SecondPhase, SyntheticScan, SyntheticScanSpec, TwinBand, default_image_model, detector_calibration,
};
use rayon::prelude::*;

struct Fixture {
    scan: SyntheticScan,
    /// truth: connected piece of a region per point (grid order = acquisition order), None on boundaries
    /// and at empty points
    truth: Vec<Option<usize>>,
    /// number of distinct truth pieces off the boundaries
    k_pieces: usize,
    /// number of distinct regions off the boundaries
    k_regions: usize,
    /// features: pixels (log), pixels (percentile), peaks
    features: Vec<(&'static str, FeatureMatrix)>,
    seconds_per_point: Vec<f64>,
    render_seconds_per_point: f64,
}

/// Microstructure seeds of the scans (each a different grain map, twin band and particle set).
const SEEDS: [u64; 3] = [5, 11, 23];

fn spec(seed: u64) -> SyntheticScanSpec {
    let calibration = detector_calibration(256, 256).unwrap();
    SyntheticScanSpec {
        nx: 24,
        ny: 16,
        seed,
        grains: 4,
        twin: Some(TwinBand { width_um: 3.0 }),
        second_phase: Some(SecondPhase {
            material: "Si".into(),
            area_fraction: 0.1,
            particle_radius_um: 2.5,
        }),
        calibration,
        image: default_image_model(&calibration),
        ..Default::default()
    }
}

/// One fixture per seed of [`SEEDS`], built once for all tests.
fn fixtures() -> &'static [Fixture] {
    static F: OnceLock<Vec<Fixture>> = OnceLock::new();
    F.get_or_init(|| SEEDS.iter().map(|&s| build(s)).collect())
}

fn fixture() -> &'static Fixture {
    &fixtures()[0]
}

fn build(seed: u64) -> Fixture {
    {
        let scan = SyntheticScan::new(&spec(seed)).unwrap();
        let (nx, ny) = (scan.grid.nx, scan.grid.ny);
        // truth pieces, as tests/scan.rs
        let mut region = vec![None; nx * ny];
        for t in &scan.points {
            region[t.iy * nx + t.ix] = t.region;
        }
        let mut pieces = DisjointSet::new(nx * ny);
        for iy in 0..ny {
            for ix in 0..nx {
                let k = iy * nx + ix;
                if region[k].is_some() && ix + 1 < nx && region[k + 1] == region[k] {
                    pieces.union(k, k + 1);
                }
                if region[k].is_some() && iy + 1 < ny && region[k + nx] == region[k] {
                    pieces.union(k, k + nx);
                }
            }
        }
        let mut truth = vec![None; nx * ny];
        let mut regions = std::collections::BTreeSet::new();
        for t in &scan.points {
            if let (false, Some(r)) = (t.boundary, t.region) {
                truth[t.index] = Some(pieces.find(t.iy * nx + t.ix));
                regions.insert(r);
            }
        }
        let k_pieces = truth.iter().flatten().collect::<std::collections::BTreeSet<_>>().len();
        let cal = scan.spec.calibration;
        let extractors = [
            (
                "pixels-log",
                FeatureExtractor::Pixels(Preprocess { scaling: Scaling::Log, ..Default::default() }),
            ),
            (
                "pixels-percentile",
                FeatureExtractor::Pixels(Preprocess { scaling: Scaling::percentile(), ..Default::default() }),
            ),
            ("peaks", FeatureExtractor::Peaks(Box::new(PeakFeatures::new(cal, Default::default()).unwrap()))),
        ];
        // per point: render time, and (features, seconds) per extractor
        type Row = (f64, Vec<(Vec<f32>, f64)>);
        let rows: Vec<Row> = (0..scan.len())
            .into_par_iter()
            .map(|i| {
                let t = Instant::now();
                let frame = scan.point_frame(i).unwrap();
                let render = t.elapsed().as_secs_f64();
                let f = extractors
                    .iter()
                    .map(|(_, e)| {
                        let t = Instant::now();
                        let v = e.extract(&frame).unwrap();
                        (v, t.elapsed().as_secs_f64())
                    })
                    .collect();
                (render, f)
            })
            .collect();
        let n = rows.len() as f64;
        let render_seconds_per_point = rows.iter().map(|r| r.0).sum::<f64>() / n;
        let mut features = Vec::new();
        let mut seconds_per_point = Vec::new();
        for (e, (name, _)) in extractors.iter().enumerate() {
            let m = FeatureMatrix::from_rows(rows.iter().map(|r| r.1[e].0.clone()).collect()).unwrap();
            seconds_per_point.push(rows.iter().map(|r| r.1[e].1).sum::<f64>() / n);
            features.push((*name, m));
        }
        Fixture {
            scan,
            truth,
            k_pieces,
            k_regions: regions.len(),
            features,
            seconds_per_point,
            render_seconds_per_point,
        }
    }
}

/// ARI of the connected regions of `labels` against the truth's pieces, off the boundaries.
fn region_ari(f: &Fixture, labels: &[usize]) -> f64 {
    let (regions, _) = connected_regions(&f.scan.grid, labels).unwrap();
    let found: Vec<Option<usize>> = regions.iter().map(|&r| Some(r)).collect();
    adjusted_rand_index(&f.truth, &found)
}

fn scores_of(f: &Fixture, name: &str) -> Matrix {
    let x = &f.features.iter().find(|(n, _)| *n == name).unwrap().1;
    reduce(x, 32, 1000).unwrap().1
}

#[test]
fn clusters_match_the_truth_regions() {
    for (f, seed) in fixtures().iter().zip(SEEDS) {
        println!("\n## seed {seed}");
        clusters_match_the_truth_regions_of(f);
    }
}

fn clusters_match_the_truth_regions_of(f: &Fixture) {
    let n_regions = f.scan.regions.len();
    let n_empty = f.scan.points.iter().filter(|t| t.region.is_none()).count();
    println!(
        "scan 24×16 of 256² images: {n_regions} regions, {} distinct off the boundaries, {} connected pieces, \
         {n_empty} empty points",
        f.k_regions, f.k_pieces
    );
    println!("render {:.1} ms/point (not counted in the features)", 1e3 * f.render_seconds_per_point);
    for ((name, _), s) in f.features.iter().zip(&f.seconds_per_point) {
        println!("features {name}: {:.2} ms/point", 1e3 * s);
    }
    assert!(n_regions >= 6, "{n_regions} regions");
    assert!(f.scan.regions.iter().any(|r| r.parent.is_some()), "no twin band");
    assert!(f.scan.regions.iter().any(|r| r.material == "Si"), "no second phase");
    // Two "true" K: the connected pieces off the boundaries (a region cut in two by the twin band or a
    // particle counts twice), and the distinct regions (the distinct patterns, what clustering can see).
    let ks: Vec<usize> = (2..=20).collect();
    println!(
        "| features | estimator | K | ARI (connected regions, off boundaries) | silhouette | suggested K (2..20) |"
    );
    let (mut best_pieces, mut best_regions) = (0f64, 0f64);
    for (name, _) in &f.features {
        let t = Instant::now();
        let y = scores_of(f, name);
        let t_pca = t.elapsed().as_secs_f64();
        let t = Instant::now();
        let sc = scores::scan_k_with(y.view(), &ks, &scores::ScanKSettings { seed: 1, ..Default::default() })
            .unwrap();
        let t_scan = t.elapsed().as_secs_f64();
        let sug = scores::suggested_k(&sc).unwrap_or(0);
        if *name == "peaks" {
            assert!(sug.abs_diff(f.k_regions) <= 1, "peaks: suggested K {sug}, {} regions", f.k_regions);
        }
        for (k, what) in [(f.k_pieces, "pieces"), (f.k_regions, "regions")] {
            let t = Instant::now();
            let km = kmeans(y.view(), &KMeansSettings { k, seed: 1, ..KMeansSettings::new(k) }).unwrap();
            let t_km = t.elapsed().as_secs_f64();
            let sil = scores::silhouette(y.view(), &km.labels).unwrap();
            let ari = region_ari(f, &km.labels);
            // At the number of distinct regions (the distinct patterns), the default features (log pixels)
            // and the peak features each find the truth.
            if what == "regions" && matches!(*name, "pixels-log" | "peaks") {
                assert!(ari >= 0.95, "{name}, K-means at K = {k} regions: ARI {ari}");
            }
            let best = if what == "pieces" { &mut best_pieces } else { &mut best_regions };
            *best = best.max(ari);
            println!(
                "| {name} | kmeans | {k} ({what}) | {ari:.4} | {sil:.3} | {sug} | PCA {t_pca:.3} s, K-means {t_km:.4} s, \
                 K 2..20 {t_scan:.3} s"
            );
            let t = Instant::now();
            match bayesian_gmm(y.view(), &BgmSettings { seed: 1, ..BgmSettings::new(k) }) {
                Ok(g) => {
                    let (labels, kk) = dense_labels(&g.labels);
                    let sil = if kk > 1 { scores::silhouette(y.view(), &labels).unwrap() } else { f64::NAN };
                    let ari = region_ari(f, &labels);
                    println!(
                        "| {name} | bgm | ≤ {k} ({what}; effective {}) | {ari:.4} | {sil:.3} | — | {:.3} s",
                        g.effective_components,
                        t.elapsed().as_secs_f64()
                    );
                }
                Err(e) => println!("| {name} | bgm | {k} | failed: {e} | | |"),
            }
        }
    }
    assert!(best_pieces >= 0.95, "best ARI at K = pieces: {best_pieces}");
    assert!(best_regions >= 0.95, "best ARI at K = regions: {best_regions}");
}

#[test]
fn twin_band_is_separated_from_its_parent_and_seeded_runs_repeat() {
    for f in fixtures() {
        twin_band_is_separated_from_its_parent_of(f);
    }
}

fn twin_band_is_separated_from_its_parent_of(f: &Fixture) {
    let twin = f.scan.regions.iter().find(|r| r.parent.is_some()).unwrap();
    let parent = twin.parent.unwrap();
    for name in ["pixels-log", "peaks"] {
        let y = scores_of(f, name);
        for k in [f.k_regions, f.k_pieces] {
            let s = KMeansSettings { k, seed: 7, ..KMeansSettings::new(k) };
            let a = kmeans(y.view(), &s).unwrap();
            let b = kmeans(y.view(), &s).unwrap();
            assert_eq!(a.labels, b.labels, "{name}: seeded runs differ");
            let majority = |region: usize| {
                let mut c = vec![0usize; k];
                for t in &f.scan.points {
                    if t.region == Some(region) && !t.boundary {
                        c[a.labels[t.index]] += 1;
                    }
                }
                (0..k).max_by_key(|&l| c[l]).unwrap()
            };
            assert_ne!(
                majority(twin.id),
                majority(parent),
                "{name}, K = {k}: twin band clustered with its parent"
            );
            // delegates are members of their own cluster
            let d = delegates(y.view(), &a.labels, k).unwrap();
            for (l, list) in d.iter().enumerate() {
                assert!(!list.is_empty());
                assert!(list.iter().all(|&i| a.labels[i] == l));
            }
        }
    }
}

/// The CLI on the same scan written as TIFFs: JSON shape, PNG maps, seeded repeat, delegates in their own
/// cluster, and each delegate's indexed orientation within 0.1° of the truth at that point (off boundaries).
#[test]
fn cli_clusters_and_indexes_the_delegates() {
    let f = fixture();
    let dir = std::env::temp_dir().join(format!("lauekit-cluster-test-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let spec_path = dir.join("spec.json");
    std::fs::write(&spec_path, serde_json::to_string(&spec(SEEDS[0])).unwrap()).unwrap();
    let syn = dir.join("syn");
    let lauekit = || std::process::Command::new(env!("CARGO_BIN_EXE_lauekit"));
    let o =
        lauekit().arg("simulate-scan").arg("--spec").arg(&spec_path).arg("-o").arg(&syn).output().unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let run = |out: &str, extra: &[&str]| -> serde_json::Value {
        let out = dir.join(out);
        let o = lauekit()
            .arg("cluster")
            .arg(&syn)
            .args(["--grid", "24x16", "--quiet", "--seed", "3", "--calib"])
            .arg(syn.join("calib.det"))
            .args(extra)
            .arg("-o")
            .arg(&out)
            .output()
            .unwrap();
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        serde_json::from_str(&std::fs::read_to_string(&out).unwrap()).unwrap()
    };
    let k = f.k_pieces.to_string();
    let png = dir.join("png");
    let t = Instant::now();
    let a = run(
        "a.json",
        &[
            "--features",
            "peaks",
            "--k",
            &k,
            "--index-delegates",
            "--material",
            "Cu,Si",
            "--png",
            png.to_str().unwrap(),
        ],
    );
    println!("cluster CLI (peaks, K = {k}, delegates indexed): {:.1} s", t.elapsed().as_secs_f64());
    for key in [
        "grid",
        "k",
        "labels",
        "silhouette",
        "calinski_harabasz",
        "scores",
        "suggested_k",
        "explained_variance",
        "delegates",
        "centroid_rgb",
        "direct_rgb",
        "clusters",
        "seconds",
    ] {
        assert!(a.get(key).is_some(), "no {key}");
    }
    for m in ["cluster_labels", "cluster_pca", "cluster_direct", "cluster_regions"] {
        assert!(png.join(format!("{m}.png")).is_file(), "{m}.png");
    }
    let labels: Vec<usize> = serde_json::from_value(a["labels"].clone()).unwrap();
    assert_eq!(labels.len(), 384);
    let b = run("b.json", &["--features", "peaks", "--k", &k]);
    assert_eq!(a["labels"], b["labels"], "seeded runs differ");
    let delegates: Vec<usize> = serde_json::from_value(a["delegates"].clone()).unwrap();
    for (l, &d) in delegates.iter().enumerate() {
        assert_eq!(labels[d], l, "delegate {d} of cluster {l}");
    }
    let mut checked = 0;
    for c in a["clusters"].as_array().unwrap() {
        let d = c["delegate"].as_u64().unwrap() as usize;
        let t = &f.scan.points[d];
        let (Some(ub), Some(material), false) = (t.ub, t.material.as_deref(), t.boundary) else { continue };
        assert_eq!(c["material"].as_str(), Some(material), "cluster {}: {c}", c["label"]);
        let found: [[f64; 3]; 3] = serde_json::from_value(c["ub"].clone()).unwrap();
        let m = lauekit::crystal::Material::from_table(material).unwrap();
        let sym = m.laue_group.rotations(&m.lattice).unwrap();
        let mis = lauekit::geometry::misorientation_deg(
            &lauekit::pipeline::from_rows(&ub),
            &lauekit::pipeline::from_rows(&found),
            &sym,
        );
        println!("cluster {} delegate {d} ({material}): {mis:.4}° from the truth", c["label"]);
        assert!(mis < 0.1, "cluster {}: {mis}°", c["label"]);
        checked += 1;
    }
    assert!(checked >= 4, "{checked} delegates off the boundaries");

    // Every member refined from its cluster's orientation, into a new scan file with the clustering.
    let h5 = dir.join("refined.h5");
    let t = Instant::now();
    let r = run(
        "r.json",
        &[
            "--features",
            "peaks",
            "--k",
            &k,
            "--index-delegates",
            "--material",
            "Cu,Si",
            "--refine-members",
            "--h5",
            h5.to_str().unwrap(),
        ],
    );
    println!("cluster CLI, members refined: {:.1} s", t.elapsed().as_secs_f64());
    assert_eq!(r["labels"], a["labels"]);
    let bytes = std::fs::read(&h5).unwrap();
    let (results, shard) = lauekit::scan::h5::from_hdf5(bytes.clone(), "refined.h5").unwrap();
    assert_eq!(shard, None);
    assert_eq!(results.points.len(), 384);
    let record = lauekit::scan::h5::cluster_from_hdf5(bytes, "refined.h5").unwrap().expect("cluster/ group");
    assert_eq!(serde_json::to_value(&record.labels).unwrap(), a["labels"]);
    assert_eq!(record.k, f.k_pieces);
    assert_eq!(record.delegate_grains.len(), f.k_pieces);
    let cmp = lauekit::scan::truth::compare_with_truth(&results, &f.scan.truth()).unwrap();
    println!("members refined from their cluster's orientation vs the truth: {cmp:?}");
    assert!(cmp.by_method.iter().any(|(m, c)| m == "guess" && *c > 200), "{:?}", cmp.by_method);
    assert!(cmp.median_deg < 0.01, "median {}°", cmp.median_deg);
    assert!(cmp.within_0_1 >= 0.9, "{} within 0.1°", cmp.within_0_1);
    assert!(cmp.n_wrong_material == 0);
    let images_indexed = r["images_indexed"].as_u64().unwrap();
    assert!(images_indexed as usize <= 5 * f.k_pieces, "{images_indexed} images indexed");

    // An existing scan file gets (or has replaced) its clustering; its points stay as they were.
    let before = results;
    let o = lauekit()
        .arg("cluster")
        .arg(&syn)
        .args(["--grid", "24x16", "--quiet", "--k", "3", "--h5"])
        .arg(&h5)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let bytes = std::fs::read(&h5).unwrap();
    assert_eq!(lauekit::scan::h5::from_hdf5(bytes.clone(), "x").unwrap().0, before);
    let record = lauekit::scan::h5::cluster_from_hdf5(bytes, "x").unwrap().unwrap();
    assert_eq!((record.k, record.features.as_str(), record.delegate_grains.len()), (3, "pixels", 0));
    // ... but a missing file without delegates to index is an error naming it, and a grid that differs too
    let o = lauekit()
        .arg("cluster")
        .arg(&syn)
        .args(["--grid", "24x16", "--quiet", "--k", "3", "--h5"])
        .arg(dir.join("missing.h5"))
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(!o.status.success() && err.contains("missing.h5"), "{err}");
    let o = lauekit()
        .arg("cluster")
        .arg(&syn)
        .args(["--grid", "16x24", "--quiet", "--k", "3", "--h5"])
        .arg(&h5)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(!o.status.success() && err.contains("24×16"), "{err}");
    // the same frames as one HDF5 stack (frames = points) give the same labels
    let mut pixels = Vec::new();
    for i in 0..f.scan.len() {
        match f.scan.point_frame(i).unwrap().pixels {
            lauekit::io::Pixels::U16(p) => pixels.extend(p),
            _ => panic!("16-bit frames expected"),
        }
    }
    let (rows, cols) = (f.scan.spec.calibration.rows as u64, f.scan.spec.calibration.cols as u64);
    let mut h5 = hdf5_pure::FileBuilder::new();
    let mut entry = h5.create_group("entry");
    let mut data = entry.create_group("data");
    data.create_dataset("data").with_u16_data(&pixels).with_shape(&[f.scan.len() as u64, rows, cols]);
    entry.add_group(data.finish());
    h5.add_group(entry.finish());
    let stack = dir.join("stack.h5");
    std::fs::write(&stack, h5.finish().unwrap()).unwrap();
    let o = lauekit()
        .arg("cluster")
        .arg(&stack)
        .args(["--grid", "24x16", "--quiet", "--seed", "3", "--features", "peaks", "--k", &k, "--calib"])
        .arg(syn.join("calib.det"))
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let c: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(c["labels"], a["labels"], "HDF5 stack and TIFF series differ");
    // the pixel features and the K range through the CLI too
    let p = run("p.json", &["--k-range", "2..12"]);
    let sug = p["suggested_k"].as_u64().unwrap() as usize;
    println!("pixels, K 2..12: suggested K {sug} (true {})", f.k_pieces);
    assert_eq!(p["scores"].as_array().unwrap().len(), 11);
    let _ = std::fs::remove_dir_all(&dir);
}
