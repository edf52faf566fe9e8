//! `lauekit cluster`: indexing-free segmentation of a raster scan (Song et al., Acta Cryst. A75, 876, 2019).
//! Every image becomes a feature vector (binned pixels or peaks on a (2θ, χ) grid; in parallel, one frame
//! per worker at a time), PCA reduces them, K-means or the Bayesian mixture clusters them (K given, or the
//! silhouette / Calinski–Harabasz choice over a range), the labelers give the natural, PCA and direct
//! colourings, Song's delegates and the spatially connected regions; `--index-delegates` indexes each
//! cluster's delegate through the pipeline (falling back to the next nearest member).

use std::path::PathBuf;
use std::time::Instant;

use anyhow::{Context, Result, bail};
use clap::Args;
use lauekit::cluster::features::{
    FeatureExtractor, FeatureMatrix, PeakFeatures, Preprocess, Roi, Scaling, reduce,
};
use lauekit::cluster::gmm::{BgmSettings, bayesian_gmm};
use lauekit::cluster::kmeans::{KMeansSettings, kmeans};
use lauekit::cluster::labelers::{centroid_rgb, connected_regions, delegates, dense_labels, direct_rgb};
use lauekit::cluster::scores::{self, ScanKSettings};
use lauekit::geometry::Calibration;
use lauekit::io::{DetFile, Frame, ReadOptions, read_image};
use lauekit::pipeline::{Band, run_image};
use lauekit::scan::maps::{Map, PngOptions, RgbMap, ScalarMap};
use lauekit::spotnet::PositionSource;
use rayon::prelude::*;
use serde::Serialize;

use super::pipeline_args::{PipelineArgs, load_models};
use super::scan::{PointImage, RunArgs, Source, check_output, grid, source, write_atomic};

#[derive(Args, Debug)]
pub struct ClusterArgs {
    /// Images: a directory, one file of a LaueTools series (prefix_NNNN.ext: the whole series is taken),
    /// several files, or one HDF5 stack (frames = points).
    inputs: Vec<PathBuf>,
    /// Grid NXxNY (x fastest); default: a square grid when the image count is a square.
    #[arg(long)]
    grid: Option<String>,
    /// Serpentine scan: odd rows run from high x to low x.
    #[arg(long)]
    snake: bool,
    /// Step along x and y (µm), e.g. 1,1 (axes of the PNG maps).
    #[arg(long, value_name = "X,Y")]
    step_um: Option<String>,
    /// First and last image number of the series (inclusive).
    #[arg(long)]
    first: Option<u64>,
    #[arg(long)]
    last: Option<u64>,
    /// Number of clusters; without it, the K of the range with the best silhouette (ties: Calinski–Harabasz).
    #[arg(long)]
    k: Option<usize>,
    /// Range of K scored when --k is not given (inclusive), e.g. 2..20.
    #[arg(long, default_value = "2..20", conflicts_with = "k")]
    k_range: String,
    /// Estimator: kmeans (k-means++, 4 restarts) or bgm (variational Bayesian Gaussian mixture, K = upper
    /// bound on the components; the labels then hold the effective number of clusters).
    #[arg(long, default_value = "kmeans")]
    method: String,
    /// Features: pixels (crop, 128 × 128 binning, [0, 1] scaling) or peaks (peak search → spots on a 64 × 64
    /// (2θ, χ) grid; needs --calib).
    #[arg(long, default_value = "pixels")]
    features: String,
    /// Pixel scaling to [0, 1]: log or percentile (50th–99.9th).
    #[arg(long, default_value = "log")]
    scaling: String,
    /// Pixel features: square crop ROW0,COL0,SIZE (px, 0-based) instead of the centred square.
    #[arg(long, value_name = "ROW0,COL0,SIZE")]
    roi: Option<String>,
    /// Principal components kept.
    #[arg(long, default_value_t = 32)]
    pca: usize,
    /// The PCA is fitted on at most this many evenly spaced points (then every point is projected).
    #[arg(long, default_value_t = 2000)]
    pca_fit_points: usize,
    /// Seed of K-means / the mixture and of the silhouette subsample.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Detector calibration (.det): needed for peak features and --index-delegates.
    #[arg(long)]
    calib: Option<PathBuf>,
    /// Peak-search settings (JSON of LaueTools PeakSearch keyword arguments) for peak features and delegates.
    #[arg(long)]
    params: Option<PathBuf>,
    /// Index each cluster's delegate (the point nearest its centroid) through the pipeline; when it gives
    /// no grain, the next nearest member is tried (--delegate-tries in all).
    #[arg(long, requires = "material")]
    index_delegates: bool,
    /// Material(s) of --index-delegates, comma-separated.
    #[arg(long)]
    material: Option<String>,
    /// Members tried per cluster by --index-delegates.
    #[arg(long, default_value_t = 5)]
    delegate_tries: usize,
    /// Directory for the PNG maps: natural labels, PCA labeler, direct colouring, connected regions.
    #[arg(long)]
    png: Option<PathBuf>,
    /// Output format (json).
    #[arg(long, default_value = "json")]
    format: String,
    /// Write the JSON here instead of standard output.
    #[arg(short, long)]
    output: Option<PathBuf>,
    /// Worker threads for the features (default: all cores).
    #[arg(long)]
    threads: Option<usize>,
    /// Replace existing output files (never an input).
    #[arg(long)]
    force: bool,
    /// No progress bar.
    #[arg(long)]
    quiet: bool,
}

#[derive(Serialize)]
struct ScoreOut {
    k: usize,
    silhouette: f64,
    calinski_harabasz: f64,
}

#[derive(Serialize)]
struct ClusterOut {
    label: usize,
    /// the member that was indexed (or the delegate, when none of the tried members was)
    delegate: usize,
    material: Option<String>,
    ub: Option<[[f64; 3]; 3]>,
    matching_rate: Option<f64>,
    /// members tried
    tried: usize,
}

#[derive(Serialize)]
struct Output {
    grid: [usize; 2],
    k: usize,
    labels: Vec<usize>,
    silhouette: f64,
    calinski_harabasz: f64,
    scores: Vec<ScoreOut>,
    suggested_k: Option<usize>,
    explained_variance: Vec<f64>,
    explained_variance_ratio: Vec<f64>,
    delegates: Vec<usize>,
    centroid_rgb: Vec<[u8; 3]>,
    direct_rgb: Vec<[u8; 3]>,
    /// connected region (grain id) per point
    regions: Vec<usize>,
    n_regions: usize,
    features: String,
    method: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    clusters: Option<Vec<ClusterOut>>,
    /// points whose image could not be read (clustered as zero features)
    failed: Vec<usize>,
    feature_seconds: f64,
    seconds: f64,
}

fn parse_range(s: &str) -> Result<Vec<usize>> {
    let bad = || anyhow::anyhow!("--k-range {s}: write A..B, e.g. 2..20");
    let (a, b) = s.split_once("..").ok_or_else(bad)?;
    let b = b.trim_start_matches('=');
    let (a, b): (usize, usize) = (a.trim().parse().map_err(|_| bad())?, b.trim().parse().map_err(|_| bad())?);
    if a < 2 || b < a {
        bail!("--k-range {s}: need 2 ≤ A ≤ B");
    }
    Ok((a..=b).collect())
}

fn load_frame(src: &Source, p: &PointImage) -> Result<Frame> {
    let name = src.name(p);
    Ok(match (p, &src.stack) {
        (PointImage::File(f), _) => {
            let bytes = std::fs::read(f).with_context(|| format!("{name}: cannot read"))?;
            read_image(&bytes, &name, &ReadOptions::default())?
        }
        (PointImage::Frame(k), Some((_, bytes))) => {
            read_image(bytes, &name, &ReadOptions { frame: *k, ..Default::default() })?
        }
        (PointImage::Frame(_), None) => bail!("{name}: no stack"),
    })
}

fn read_calibration(p: &std::path::Path) -> Result<Calibration> {
    let det = DetFile::parse(
        &std::fs::read_to_string(p).with_context(|| format!("{}: cannot read", p.display()))?,
        &p.display().to_string(),
    )?;
    Ok(det.calibration)
}

pub fn run(a: ClusterArgs) -> Result<()> {
    let t0 = Instant::now();
    if a.format != "json" {
        bail!("--format {}: only json", a.format);
    }
    let run_args = RunArgs {
        inputs: a.inputs.clone(),
        calib: a.calib.clone(),
        grid: a.grid.clone(),
        snake: a.snake,
        step_um: a.step_um.clone(),
        first: a.first,
        last: a.last,
        pipeline: pipeline_args(&a),
        output: None,
        json: None,
        summary: None,
        ctf: None,
        threads: a.threads,
        shard: None,
        force: a.force,
        quiet: a.quiet,
    };
    let src = source(&run_args)?;
    let grid = grid(&run_args, src.points.len())?;
    let n = grid.len();
    if n < 3 {
        bail!("{n} points: clustering needs at least 3");
    }
    let mut inputs: Vec<PathBuf> = a.inputs.clone();
    inputs.extend([&a.calib, &a.params].into_iter().flatten().cloned());
    inputs.extend(src.points.iter().filter_map(|p| match p {
        PointImage::File(f) => Some(f.clone()),
        PointImage::Frame(_) => None,
    }));
    if let Some(o) = &a.output {
        check_output(o, &inputs, a.force)?;
    }
    let cal = a.calib.as_deref().map(read_calibration).transpose()?;
    let params = match &a.params {
        Some(p) => lauekit::peaks::PeakSearchParams::from_json(
            &std::fs::read_to_string(p).with_context(|| format!("{}: cannot read", p.display()))?,
            &p.display().to_string(),
        )?,
        None => Default::default(),
    };
    let extractor = match a.features.as_str() {
        "pixels" => {
            let scaling = match a.scaling.as_str() {
                "log" => Scaling::Log,
                "percentile" => Scaling::percentile(),
                s => bail!("--scaling {s}: use log or percentile"),
            };
            let roi = a.roi.as_deref().map(parse_roi).transpose()?;
            FeatureExtractor::Pixels(Preprocess { scaling, roi, ..Default::default() })
        }
        "peaks" => {
            let Some(cal) = cal else { bail!("--features peaks needs --calib FILE.det") };
            FeatureExtractor::Peaks(Box::new(PeakFeatures::new(cal, params.clone())?))
        }
        f => bail!("--features {f}: use pixels or peaks"),
    };
    if !matches!(a.method.as_str(), "kmeans" | "bgm") {
        bail!("--method {}: use kmeans or bgm", a.method);
    }
    let threads = a.threads.unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()));
    if threads == 0 || threads > 1024 {
        bail!("--threads {threads}: use 1 to 1024");
    }
    let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().context("thread pool")?;
    let bar = progress(n, a.quiet, "features");

    // Features, one frame per worker at a time. An image that cannot be read counts as an empty pattern
    // (zero features) and is listed in "failed"; a frame the extractor refuses stops the run.
    let tf = Instant::now();
    let rows: Vec<(Vec<f32>, bool)> = pool.install(|| {
        (0..n)
            .into_par_iter()
            .map(|i| -> Result<(Vec<f32>, bool)> {
                let p = &src.points[i];
                let out = match load_frame(&src, p) {
                    Ok(frame) => (extractor.extract(&frame).with_context(|| src.name(p))?, false),
                    Err(e) => {
                        if !a.quiet {
                            bar.suspend(|| eprintln!("point {i} failed: {e:#}"));
                        }
                        (vec![0.0; extractor.dim()], true)
                    }
                };
                bar.inc(1);
                Ok(out)
            })
            .collect::<Result<Vec<_>>>()
    })?;
    bar.finish_and_clear();
    let failed: Vec<usize> = rows.iter().enumerate().filter(|(_, r)| r.1).map(|(i, _)| i).collect();
    if failed.len() == n {
        bail!("no image could be read");
    }
    let rows: Vec<Vec<f32>> = rows.into_iter().map(|r| r.0).collect();
    let feature_seconds = tf.elapsed().as_secs_f64();
    let x = FeatureMatrix::from_rows(rows)?;

    // PCA, K, clustering.
    let fit_rows = n.min(a.pca_fit_points.max(2));
    let n_pc = a.pca.min(fit_rows).min(x.cols).max(1);
    if n_pc != a.pca && !a.quiet {
        eprintln!("--pca {}: {n_pc} components at most here", a.pca);
    }
    let (pca, y) = reduce(&x, n_pc, fit_rows)?;
    drop(x);
    let ks: Vec<usize> = match a.k {
        Some(k) => vec![k],
        None => parse_range(&a.k_range)?,
    };
    let ks: Vec<usize> = ks.into_iter().filter(|&k| k >= 2 && k < n).collect();
    if ks.is_empty() {
        bail!("no K between 2 and {} (the number of points − 1)", n - 1);
    }
    let scan_settings = ScanKSettings { seed: a.seed, ..Default::default() };
    let k_scores = scores::scan_k_with(y.view(), &ks, &scan_settings)?;
    let suggested_k = scores::suggested_k(&k_scores);
    let k = match a.k {
        Some(k) => k,
        None => suggested_k.context("no K gave a finite silhouette")?,
    };
    let labels = match a.method.as_str() {
        "bgm" => bayesian_gmm(y.view(), &BgmSettings { seed: a.seed, ..BgmSettings::new(k) })?.labels,
        _ => kmeans(y.view(), &KMeansSettings { k, seed: a.seed, ..KMeansSettings::new(k) })?.labels,
    };
    let (labels, k_found) = dense_labels(&labels);
    let (silhouette, calinski_harabasz) = if k_found >= 2 && k_found < n {
        let sil = match scan_settings.silhouette_sample {
            Some(m) if m < n => scores::silhouette_sampled(y.view(), &labels, m, a.seed)?,
            _ => scores::silhouette(y.view(), &labels)?,
        };
        (sil, scores::calinski_harabasz(y.view(), &labels)?)
    } else {
        (f64::NAN, f64::NAN)
    };

    // Labelers.
    let centroid_rgb = centroid_rgb(y.view(), &labels, k_found)?;
    let direct_rgb = direct_rgb(y.view());
    let order = delegates(y.view(), &labels, k_found)?;
    let (regions, n_regions) = connected_regions(&grid, &labels)?;

    let clusters = if a.index_delegates {
        let Some(cal) = cal else { bail!("--index-delegates needs --calib FILE.det") };
        let request = pipeline_args(&a).request(true)?;
        let models = load_models(&request)?;
        let job = request.prepare(&models)?;
        let bar = progress(k_found, a.quiet, "delegates");
        let failed_set: std::collections::HashSet<usize> = failed.iter().copied().collect();
        let out: Vec<ClusterOut> = pool.install(|| {
            order
                .par_iter()
                .enumerate()
                .map(|(label, members)| -> Result<ClusterOut> {
                    let mut out = ClusterOut {
                        label,
                        delegate: members[0],
                        material: None,
                        ub: None,
                        matching_rate: None,
                        tried: 0,
                    };
                    for &i in
                        members.iter().filter(|&&i| !failed_set.contains(&i)).take(a.delegate_tries.max(1))
                    {
                        out.tried += 1;
                        let frame = load_frame(&src, &src.points[i])?;
                        let r = run_image(&frame, &cal, &job, &models).map_err(|e| anyhow::anyhow!("{e}"))?;
                        if let Some(g) = r.index.as_ref().and_then(|ix| ix.grains.first()) {
                            out.delegate = i;
                            out.material = Some(g.material.clone());
                            out.ub = Some(g.ub);
                            out.matching_rate = Some(g.matching_rate);
                            break;
                        }
                    }
                    bar.inc(1);
                    Ok(out)
                })
                .collect::<Result<Vec<_>>>()
        })?;
        bar.finish_and_clear();
        Some(out)
    } else {
        None
    };

    if let Some(dir) = &a.png {
        std::fs::create_dir_all(dir).with_context(|| format!("{}: cannot create", dir.display()))?;
        for map in label_maps(&grid, &labels, k_found, &regions, n_regions, &centroid_rgb, &direct_rgb) {
            write_atomic(&dir.join(format!("{}.png", map.name())), &map.to_png(&PngOptions::default())?)?;
        }
    }

    let out = Output {
        grid: [grid.nx, grid.ny],
        k: k_found,
        labels,
        silhouette,
        calinski_harabasz,
        scores: k_scores
            .iter()
            .map(|s| ScoreOut { k: s.k, silhouette: s.silhouette, calinski_harabasz: s.calinski_harabasz })
            .collect(),
        suggested_k,
        explained_variance: pca.explained_variance.clone(),
        explained_variance_ratio: pca.explained_variance_ratio.clone(),
        delegates: order.iter().map(|m| m[0]).collect(),
        centroid_rgb,
        direct_rgb,
        regions,
        n_regions,
        features: extractor.name().into(),
        method: a.method.clone(),
        clusters,
        failed,
        feature_seconds,
        seconds: t0.elapsed().as_secs_f64(),
    };
    let text = serde_json::to_string_pretty(&out)?;
    match &a.output {
        Some(o) => {
            write_atomic(o, text.as_bytes())?;
            if !a.quiet {
                eprintln!(
                    "{n} points, {} features, K = {k_found} ({} regions), silhouette {silhouette:.3} in {:.1} s → {}",
                    extractor.name(),
                    n_regions,
                    out.seconds,
                    o.display()
                );
            }
        }
        None => println!("{text}"),
    }
    Ok(())
}

/// The pipeline flags of the delegates' indexing (look-up table, defaults otherwise).
fn pipeline_args(a: &ClusterArgs) -> PipelineArgs {
    PipelineArgs {
        request: None,
        psp: None,
        params: a.params.clone(),
        material: a.material.clone(),
        grains: 1,
        method: "lut".into(),
        model: None,
        min_confidence: 0.5,
        emin: Band::default().emin_kev,
        emax: Band::default().emax_kev,
        share_spots: false,
        pair_spots: 10,
        no_strain: false,
        positions: PositionSource::Fit,
        spotnet: false,
    }
}

fn parse_roi(s: &str) -> Result<Roi> {
    let v: Vec<usize> = s
        .split(',')
        .map(|x| x.trim().parse())
        .collect::<Result<_, _>>()
        .map_err(|_| anyhow::anyhow!("--roi {s}: write ROW0,COL0,SIZE in px"))?;
    match v[..] {
        [row0, col0, size] => Ok(Roi { row0, col0, size }),
        _ => bail!("--roi {s}: write ROW0,COL0,SIZE in px"),
    }
}

fn progress(n: usize, quiet: bool, what: &str) -> indicatif::ProgressBar {
    if quiet {
        return indicatif::ProgressBar::hidden();
    }
    let b = indicatif::ProgressBar::new(n as u64);
    b.set_style(
        indicatif::ProgressStyle::with_template(&format!(
            "{{bar:40}} {{pos}}/{{len}} {what} · {{per_sec}} · ETA {{eta}}"
        ))
        .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    b
}

/// The label maps (row-major on the grid): natural labels, PCA labeler, direct colouring, connected regions.
fn label_maps(
    grid: &lauekit::scan::ScanGrid,
    labels: &[usize],
    k: usize,
    regions: &[usize],
    n_regions: usize,
    centroid_rgb: &[[u8; 3]],
    direct_rgb: &[[u8; 3]],
) -> Vec<Map> {
    let (nx, ny) = (grid.nx, grid.ny);
    let per_cell = |f: &dyn Fn(usize) -> f64| -> Vec<f64> {
        let mut v = vec![f64::NAN; nx * ny];
        for i in 0..grid.len() {
            let (ix, iy) = grid.position(i);
            v[iy * nx + ix] = f(i);
        }
        v
    };
    let rgb_cells = |f: &dyn Fn(usize) -> [u8; 3]| -> Vec<Option<[u8; 3]>> {
        let mut v = vec![None; nx * ny];
        for i in 0..grid.len() {
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
    vec![
        scalar(
            "cluster_labels",
            format!("Clusters (K = {k})"),
            per_cell(&|i| labels[i] as f64),
            (0..k).map(|l| format!("cluster {l}")).collect(),
        ),
        rgb(
            "cluster_pca",
            "PCA labeler (PC1-3 of the cluster centroids)",
            rgb_cells(&|i| centroid_rgb[labels[i]]),
        ),
        rgb("cluster_direct", "Direct colouring (PC1-3)", rgb_cells(&|i| direct_rgb[i])),
        scalar(
            "cluster_regions",
            format!("Connected regions ({n_regions})"),
            per_cell(&|i| regions[i] as f64),
            (0..n_regions).map(|r| format!("region {r}")).collect(),
        ),
    ]
}
