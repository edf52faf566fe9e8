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
use lauekit::cluster::features::{FeatureExtractor, FeatureMatrix, PeakFeatures, Preprocess, Roi, Scaling};
use lauekit::cluster::session::{
    ClusterSession, DelegateResult, Estimator, Timings, label_maps as session_label_maps, pca_shape,
};
use lauekit::geometry::Calibration;
use lauekit::index::Method;
use lauekit::io::output::{Existing, OutputKind, OutputPlan};
use lauekit::io::{DetFile, Frame, ReadOptions, read_image};
use lauekit::pipeline::{Band, GrainGuess, GrainReport, PointStatus, run_image, run_image_from_guess};
use lauekit::scan::clustering::{ClusterRecord, DelegateGrain, KScore};
use lauekit::scan::maps::PngOptions;
use lauekit::scan::{PointResult, ScanGrid, ScanResults};
use lauekit::spotnet::PositionSource;
use rayon::prelude::*;
use serde::Serialize;

use super::pipeline_args::{PipelineArgs, load_models};
use super::scan::{PointImage, RunArgs, Source, grid, source};

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
    /// Features: pixels (crop, 128 × 128 binning, [0, 1] scaling), peaks (peak search → spots on a 64 × 64
    /// (2θ, χ) grid; needs --calib) or ae (the shipped autoencoder's 64 latent numbers of the binned frame).
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
    #[arg(long)]
    index_delegates: bool,
    /// Material(s) of --index-delegates.
    #[command(flatten)]
    material: super::pipeline_args::MaterialArgs,
    /// Members tried per cluster by --index-delegates.
    #[arg(long, default_value_t = 5)]
    delegate_tries: usize,
    /// With --index-delegates: refine every point from its cluster's indexed orientation on the point's own
    /// spots (peak search + matching + refinement, no candidate search) — an orientation and strain map for
    /// the price of a peak search per point. Written into --h5.
    #[arg(long, requires = "index_delegates")]
    refine_members: bool,
    /// With --refine-members: index in full the points that their cluster's orientation does not match
    /// (boundaries, small grains the clustering merged) and the members of clusters whose delegates gave no
    /// grain.
    #[arg(long, requires = "refine_members")]
    index_unmatched: bool,
    /// A scan's HDF5 results file: an existing one (from `lauekit scan`, same grid) gets the clustering as
    /// its group cluster/ (replaced if present; its points are kept); a new one (or an existing one with
    /// --index-delegates --force) is written with --index-delegates, each point holding its refined grain
    /// (--refine-members) or its delegate's grain, and the clustering.
    #[arg(long, value_name = "FILE.h5")]
    h5: Option<PathBuf>,
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
struct ClusterOut {
    label: usize,
    /// the member that was indexed (or the delegate, when none of the tried members was)
    delegate: usize,
    material: Option<String>,
    ub: Option<[[f64; 3]; 3]>,
    matching_rate: Option<f64>,
    /// members indexed (members without peaks are skipped)
    tried: usize,
    /// the indexed grain (HDF5 output)
    #[serde(skip)]
    grain: Option<GrainReport>,
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
            super::input::with_mask(read_image(&bytes, &name, &ReadOptions::default())?)?
        }
        (PointImage::Frame(k), Some((_, bytes))) => super::input::with_mask(read_image(
            bytes,
            &name,
            &ReadOptions { frame: *k, ..Default::default() },
        )?)?,
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
    if a.index_delegates && a.material.is_empty() {
        bail!(
            "--index-delegates needs the material(s): --material NAME, or --lattice with --spacegroup/--extinction"
        );
    }
    let n = grid.len();
    if n < 3 {
        bail!("{n} points: clustering needs at least 3");
    }
    // Every file read is an input no output may replace; existing outputs only with --force.
    let mut plan = OutputPlan::new(Existing::RefuseUnlessForce(a.force));
    plan.inputs(&a.inputs).inputs([&a.calib, &a.params].into_iter().flatten());
    plan.inputs(a.material.files());
    plan.inputs(src.points.iter().filter_map(|p| match p {
        PointImage::File(f) => Some(f),
        PointImage::Frame(_) => None,
    }));
    if let Some(o) = &a.output {
        plan.output(o, OutputKind::Text)?;
    }
    // --h5: an existing scan file gets the clustering; a new one needs the delegates' orientations.
    let h5_scan = match &a.h5 {
        Some(p) if p.exists() && a.refine_members && !a.force => bail!(
            "{}: exists; --refine-members writes a new scan file with the refined points (--force replaces it)",
            p.display()
        ),
        Some(p) if p.exists() && !(a.index_delegates && a.force) => {
            // Rewritten with its points carried over (never one of the images or settings).
            plan.output_updating(p, OutputKind::Hdf5)?;
            let bytes = std::fs::read(p).with_context(|| format!("{}: cannot read", p.display()))?;
            let (r, shard) = lauekit::scan::h5::from_hdf5(bytes, &p.display().to_string())?;
            if shard.is_some() {
                bail!("{}: a shard of a scan; merge the shards first (lauekit scan merge)", p.display());
            }
            Some(r)
        }
        Some(p) if !p.exists() && !a.index_delegates => bail!(
            "{}: no such scan results file; give one written by `lauekit scan`, or --index-delegates to write a new one",
            p.display()
        ),
        Some(p) => {
            plan.output(p, OutputKind::Hdf5)?;
            None
        }
        None => None,
    };
    let cal = a.calib.as_deref().map(read_calibration).transpose()?;
    let params = match &a.params {
        Some(p) => lauekit::peaks::PeakSearchParams::from_json(
            &std::fs::read_to_string(p).with_context(|| format!("{}: cannot read", p.display()))?,
            &p.display().to_string(),
        )?,
        None => Default::default(),
    };
    let extractor = match a.features.as_str() {
        "pixels" | "ae" => {
            let scaling = match a.scaling.as_str() {
                "log" => Scaling::Log,
                "percentile" => Scaling::percentile(),
                s => bail!("--scaling {s}: use log or percentile"),
            };
            let roi = a.roi.as_deref().map(parse_roi).transpose()?;
            let pre = Preprocess { scaling, roi, ..Default::default() };
            match a.features.as_str() {
                "ae" => FeatureExtractor::Autoencoder(Box::new(
                    lauekit::cluster::autoencoder::AutoencoderFeatures::shipped(pre)?,
                )),
                _ => FeatureExtractor::Pixels(pre),
            }
        }
        "peaks" => {
            let Some(cal) = cal else { bail!("--features peaks needs --calib FILE.det") };
            FeatureExtractor::Peaks(Box::new(PeakFeatures::new(cal, params.clone())?))
        }
        f => bail!("--features {f}: use pixels, peaks or ae"),
    };
    if !matches!(a.method.as_str(), "kmeans" | "bgm") {
        bail!("--method {}: use kmeans or bgm", a.method);
    }
    let threads = lauekit::device::thread_count(a.threads)?;
    let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().context("thread pool")?;
    let bar = progress(n, a.quiet, "features");

    // Features, one frame per worker at a time. An image that cannot be read counts as an empty pattern
    // (zero features) and is listed in "failed"; a frame the extractor refuses stops the run.
    // The autoencoder's frames are pre-processed here and encoded below, in batches.
    let per_frame = extractor.per_frame();
    let tf = Instant::now();
    let rows: Vec<(Vec<f32>, bool)> = pool.install(|| {
        (0..n)
            .into_par_iter()
            .map(|i| -> Result<(Vec<f32>, bool)> {
                let p = &src.points[i];
                let out = match load_frame(&src, p) {
                    Ok(frame) => (per_frame.extract(&frame).with_context(|| src.name(p))?, false),
                    Err(e) => {
                        if !a.quiet {
                            bar.suspend(|| errln!("point {i} failed: {e:#}"));
                        }
                        (vec![0.0; per_frame.dim()], true)
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
    // Autoencoder: batches of 64 frames spread over the workers (burn's CPU backend runs one per thread).
    let rows: Vec<Vec<f32>> = match &extractor {
        FeatureExtractor::Autoencoder(_) => pool
            .install(|| {
                rows.par_chunks(lauekit::cluster::autoencoder::ENCODE_BATCH)
                    .map(|c| extractor.finish_batch(c.to_vec()))
                    .collect::<lauekit::error::Result<Vec<_>>>()
            })?
            .into_iter()
            .flatten()
            .collect(),
        _ => rows,
    };
    let feature_seconds = tf.elapsed().as_secs_f64();
    let x = FeatureMatrix::from_rows(rows)?;

    // PCA, K, clustering and labelers: the session the page drives too (cluster::session), so both agree.
    let (fit_rows, n_pc) = pca_shape(n, x.cols, a.pca, a.pca_fit_points);
    if n_pc != a.pca && !a.quiet {
        errln!("--pca {}: {n_pc} components at most here", a.pca);
    }
    let mut session = ClusterSession::from_features(grid, x, extractor.name(), &failed)?;
    let t_pca = Instant::now();
    session.fit(a.pca, a.pca_fit_points)?;
    let pca_seconds = t_pca.elapsed().as_secs_f64();
    let ks: Vec<usize> = match a.k {
        Some(k) => vec![k],
        None => parse_range(&a.k_range)?,
    };
    let ks: Vec<usize> = ks.into_iter().filter(|&k| k >= 2 && k < n).collect();
    if ks.is_empty() {
        bail!("no K between 2 and {} (the number of points − 1)", n - 1);
    }
    let t_scores = Instant::now();
    session.scan_k(&ks, a.seed)?;
    let scores_seconds = t_scores.elapsed().as_secs_f64();
    let k = match a.k {
        Some(k) => k,
        None => session.suggested_k().context("no K gave a finite silhouette")?,
    };
    let estimator = if a.method == "bgm" { Estimator::Bgm } else { Estimator::Kmeans };
    let t_cluster = Instant::now();
    let clustering = session.cluster(k, estimator, a.seed)?;
    let clustering_seconds = t_cluster.elapsed().as_secs_f64();
    let k_found = clustering.k;
    let labels = clustering.labels.clone();
    let order = clustering.members.clone();

    let mut delegate_request = None;
    let t_delegates = Instant::now();
    let clusters = if a.index_delegates {
        let Some(cal) = cal else { bail!("--index-delegates needs --calib FILE.det") };
        let request = pipeline_args(&a).request(true)?;
        delegate_request = Some(request.clone());
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
                        grain: None,
                    };
                    // Members nearest the centroid first; a member without peaks (an empty pattern in a
                    // mixed cluster) costs a peak search only and does not count as a try; at most 4×
                    // --delegate-tries members are looked at.
                    let mut indexed_tries = 0;
                    for &i in members
                        .iter()
                        .filter(|&&i| !failed_set.contains(&i))
                        .take(4 * a.delegate_tries.max(1))
                    {
                        if indexed_tries >= a.delegate_tries.max(1) {
                            break;
                        }
                        let frame = load_frame(&src, &src.points[i])?;
                        let r = run_image(&frame, &cal, &job, &models).map_err(|e| anyhow::anyhow!("{e}"))?;
                        if r.index.is_some() && r.n_peaks > 0 {
                            indexed_tries += 1;
                            out.tried += 1;
                        }
                        if let Some(g) = r.index.as_ref().and_then(|ix| ix.grains.first()) {
                            out.delegate = i;
                            out.material = Some(g.material.clone());
                            out.ub = Some(g.ub);
                            out.matching_rate = Some(g.matching_rate);
                            out.grain = Some(g.clone());
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
        for map in session_label_maps(&grid, &clustering)? {
            let file = dir.join(format!("{}.png", map.name()));
            plan.output(&file, OutputKind::Image)?;
            plan.stage(&file, &map.to_png(&PngOptions::default())?)?;
        }
    }

    let delegates_seconds = t_delegates.elapsed().as_secs_f64();
    let t_members = Instant::now();
    let members = if a.refine_members {
        let Some(cal) = cal else { bail!("--refine-members needs --calib FILE.det") };
        let (Some(clusters), Some(request)) = (clusters.as_ref(), delegate_request.as_ref()) else {
            bail!("--refine-members needs --index-delegates")
        };
        let models = load_models(request)?;
        let job = request.prepare(&models)?;
        let peaks_only =
            lauekit::pipeline::PipelineRequest { index: None, ..request.clone() }.prepare(&models)?;
        let guesses: Vec<Option<GrainGuess>> = clusters
            .iter()
            .map(|c| c.grain.as_ref().map(|g| GrainGuess { material: g.material.clone(), ub: g.ub }))
            .collect();
        let bar = progress(n, a.quiet, "members");
        let points: Vec<(PointResult, bool)> = pool.install(|| {
            (0..n)
                .into_par_iter()
                .map(|i| -> Result<(PointResult, bool)> {
                    let p = &src.points[i];
                    let name = src.name(p);
                    let frame = match load_frame(&src, p) {
                        Ok(f) => f,
                        Err(e) => {
                            bar.inc(1);
                            return Ok((PointResult::failed(i, &grid, name, format!("{e:#}")), false));
                        }
                    };
                    let mut full = false;
                    let report = match &guesses[labels[i]] {
                        Some(g) => {
                            let r = run_image_from_guess(&frame, &cal, &job, &models, g);
                            match r {
                                Ok(r)
                                    if a.index_unmatched
                                        && r.index.as_ref().is_some_and(|x| x.grains.is_empty()) =>
                                {
                                    full = true;
                                    run_image(&frame, &cal, &job, &models)
                                }
                                r => r,
                            }
                        }
                        None if a.index_unmatched => {
                            full = true;
                            run_image(&frame, &cal, &job, &models)
                        }
                        None => run_image(&frame, &cal, &peaks_only, &models),
                    };
                    bar.inc(1);
                    Ok(match report {
                        Ok(r) => (PointResult::from_report(i, &grid, name, r), full),
                        Err(e) if e.is_point_failure() => {
                            (PointResult::failed(i, &grid, name, e.to_string()), false)
                        }
                        Err(e) => return Err(anyhow::anyhow!("{e}")),
                    })
                })
                .collect::<Result<Vec<_>>>()
        })?;
        bar.finish_and_clear();
        Some(points)
    } else {
        None
    };
    let members_seconds = t_members.elapsed().as_secs_f64();
    let tried: usize = clusters.as_ref().map_or(0, |c| c.iter().map(|c| c.tried).sum());
    let n_full = members.as_ref().map_or(0, |m| m.iter().filter(|p| p.1).count());
    let members_refined = members
        .as_ref()
        .map(|m| m.iter().filter(|p| p.0.grains.first().is_some_and(|g| g.method == Method::Guess)).count());
    let members_unmatched = members
        .as_ref()
        .map(|m| m.iter().filter(|p| p.0.status != PointStatus::Failed && p.0.grains.is_empty()).count());

    let delegate_grains: Vec<Option<GrainReport>> =
        clusters.as_ref().map_or(Vec::new(), |c| c.iter().map(|c| c.grain.clone()).collect());
    let delegate_results: Option<Vec<DelegateResult>> = clusters.map(|c| {
        c.into_iter()
            .map(|c| DelegateResult {
                label: c.label,
                delegate: c.delegate,
                material: c.material,
                ub: c.ub,
                matching_rate: c.matching_rate,
                tried: c.tried,
            })
            .collect()
    });
    let timings = Timings {
        features: feature_seconds,
        pca: pca_seconds,
        scores: scores_seconds,
        clustering: clustering_seconds,
        delegates: delegates_seconds,
        members: members_seconds,
    };
    let mut out = session.report(&clustering, delegate_results, timings, t0.elapsed().as_secs_f64())?;
    out.images_indexed = out.clusters.as_ref().map(|_| tried + n_full);
    out.members_refined = members_refined;
    out.members_unmatched = members_unmatched;
    if let Some(p) = &a.h5 {
        let record = ClusterRecord {
            features: out.features.clone(),
            method: out.method.clone(),
            k: out.k,
            labels: out.labels.clone(),
            regions: out.regions.clone(),
            n_regions: out.n_regions,
            delegates: out.delegates.clone(),
            centroid_rgb: out.centroid_rgb.clone(),
            direct_rgb: out.direct_rgb.clone(),
            delegate_grains: delegate_grains
                .iter()
                .map(|g| {
                    g.as_ref().map(|g| DelegateGrain {
                        material: g.material.clone(),
                        ub: g.ub,
                        matching_rate: g.matching_rate,
                    })
                })
                .collect(),
            silhouette: out.silhouette,
            calinski_harabasz: out.calinski_harabasz,
            scores: out
                .scores
                .iter()
                .map(|s| KScore { k: s.k, silhouette: s.silhouette, calinski_harabasz: s.calinski_harabasz })
                .collect(),
            suggested_k: out.suggested_k,
            explained_variance_ratio: out.explained_variance_ratio.clone(),
            settings: serde_json::json!({
                "pca": n_pc, "pca_fit_points": fit_rows, "seed": a.seed, "scaling": a.scaling,
                "roi": a.roi, "k_range": a.k_range, "k": a.k,
            }),
        };
        let results = match (h5_scan, members, out.clusters.as_ref()) {
            (Some(r), _, _) => {
                if r.grid.nx != grid.nx || r.grid.ny != grid.ny {
                    bail!(
                        "{}: a {}×{} scan, but the images were clustered as {}×{}",
                        p.display(),
                        r.grid.nx,
                        r.grid.ny,
                        grid.nx,
                        grid.ny
                    );
                }
                r
            }
            (None, Some(points), _) => ScanResults {
                grid,
                request: delegate_request.clone().unwrap_or_default(),
                software: lauekit::scan::software_version(),
                points: points.into_iter().map(|p| p.0).collect(),
            },
            (None, None, Some(_)) => ScanResults {
                grid,
                request: delegate_request.clone().unwrap_or_default(),
                software: lauekit::scan::software_version(),
                points: (0..n)
                    .map(|i| {
                        delegate_point(
                            i,
                            &grid,
                            src.name(&src.points[i]),
                            delegate_grains[out.labels[i]].as_ref(),
                        )
                    })
                    .collect(),
            },
            (None, None, None) => bail!("--h5: nothing to write"),
        };
        let bytes = lauekit::scan::h5::to_hdf5_with_cluster(&results, None, Some(&record))?;
        plan.stage(p, &bytes)?;
    }
    let text = serde_json::to_string_pretty(&out)?;
    match &a.output {
        Some(o) => {
            plan.stage(o, text.as_bytes())?;
            plan.commit()?;
            if !a.quiet {
                errln!(
                    "{n} points, {} features, K = {k_found} ({} regions), silhouette {:.3} in {:.1} s → {}",
                    extractor.name(),
                    out.n_regions,
                    out.silhouette,
                    out.seconds,
                    o.display()
                );
            }
        }
        None => {
            plan.commit()?;
            outln!("{text}")?
        }
    }
    Ok(())
}

/// A point that was not analysed: its cluster delegate's grain stands for it (Song's indexing labeler).
/// Its peak columns are zero; status "indexed" with a grain of method `delegate`, "not indexed" without.
fn delegate_point(index: usize, grid: &ScanGrid, image: String, grain: Option<&GrainReport>) -> PointResult {
    let (ix, iy) = grid.position(index);
    let grains: Vec<GrainReport> = grain
        .map(|g| GrainReport {
            method: Method::Delegate,
            spots: Vec::new(),
            simulated: Vec::new(),
            ..g.clone()
        })
        .into_iter()
        .collect();
    PointResult {
        index,
        ix,
        iy,
        image,
        status: if grains.is_empty() { PointStatus::NotIndexed } else { PointStatus::Indexed },
        error: None,
        n_peaks: 0,
        intensity_sum: 0.0,
        peaks_intensity: 0.0,
        grains,
        elapsed_ms: 0.0,
    }
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
        allow_calib_mismatch: false,
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
