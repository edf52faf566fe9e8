//! `lauekit scan`: every image of a raster scan through one pipeline request, on all cores, results
//! appended to a journal as points finish (a killed run resumes with the same command), then one HDF5 file
//! (and JSON, a LaueTools-style summary, a `.ctf`). `scan maps` draws the maps, `scan merge` joins the
//! shards of a job array, `scan sbatch` prints the SLURM script that runs one.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

use anyhow::{Context, Result, bail};
use clap::{Args, Subcommand};
use lauekit::geometry::Calibration;
use lauekit::io::output::{Existing, OutputKind, OutputPlan, write_atomic};
use lauekit::io::{DetFile, ReadOptions, read_image};
use lauekit::pipeline::{Models, PipelineError, Prepared, run_image};
use lauekit::scan::shard::{
    JournalHeader, journal_header_line, journal_point_line, parse_shard, read_journal, shard_range,
};
use lauekit::scan::{PointResult, ScanGrid, ScanResults, software_version};
use rayon::prelude::*;

use super::pipeline_args::{PipelineArgs, load_models};

#[derive(Args, Debug)]
#[command(args_conflicts_with_subcommands = true, subcommand_negates_reqs = true)]
pub struct ScanArgs {
    #[command(subcommand)]
    sub: Option<ScanCommand>,
    #[command(flatten)]
    run: RunArgs,
}

#[derive(Subcommand, Debug)]
enum ScanCommand {
    /// Maps of a scan's results (PNG with colour bars, CSV of the values): peaks, intensity, matching rate,
    /// grains, phase, IPF colours, KAM, misorientation to the grain mean, strain, von Mises; grain table.
    Maps(MapsArgs),
    /// Join the shard files of a job array into the file a single run writes.
    Merge(MergeArgs),
    /// Compare two scans' results point by point (timings aside): exit 0 when equal, 1 with the first
    /// differences otherwise.
    Compare(CompareArgs),
    /// Print a SLURM job-array script that runs this scan in shards and merges them (a dependent job).
    Sbatch(SbatchArgs),
    /// A synthetic scan's results against its truth (`truth.json` of `lauekit simulate-scan`): median,
    /// 95th percentile and largest misorientation of the main grains, fractions within 0.1° and 0.5°, as JSON.
    Truth(TruthArgs),
}

#[derive(Args, Debug)]
struct TruthArgs {
    /// The scan's results (HDF5 of `lauekit scan` or `lauekit cluster --h5`).
    results: PathBuf,
    /// The truth.json written by `lauekit simulate-scan`.
    truth: PathBuf,
}

/// Where the images are and how the grid is laid out.
#[derive(Args, Debug, Clone)]
pub struct RunArgs {
    /// Images: a directory, one file of a LaueTools series (prefix_NNNN.ext: the whole series is taken),
    /// several files, or one HDF5 stack (frames = points).
    pub(crate) inputs: Vec<PathBuf>,
    /// Detector calibration (.det).
    #[arg(long)]
    pub(crate) calib: Option<PathBuf>,
    /// Grid NXxNY (x fastest); default: a square grid when the image count is a square.
    #[arg(long)]
    pub(crate) grid: Option<String>,
    /// Serpentine scan: odd rows run from high x to low x.
    #[arg(long)]
    pub(crate) snake: bool,
    /// Step along x and y (µm), e.g. 1,1.
    #[arg(long, value_name = "X,Y")]
    pub(crate) step_um: Option<String>,
    /// First and last image number of the series (inclusive).
    #[arg(long)]
    pub(crate) first: Option<u64>,
    #[arg(long)]
    pub(crate) last: Option<u64>,
    #[command(flatten)]
    pub(crate) pipeline: PipelineArgs,
    /// Output: the scan's HDF5 file (a shard's with --shard).
    #[arg(short, long)]
    pub(crate) output: Option<PathBuf>,
    /// Also write the JSON of the results here.
    #[arg(long)]
    pub(crate) json: Option<PathBuf>,
    /// Also write a LaueTools-style summary (tab-separated) here.
    #[arg(long)]
    pub(crate) summary: Option<PathBuf>,
    /// Also write an HKL Channel 5 .ctf (MTEX, orix) here.
    #[arg(long)]
    pub(crate) ctf: Option<PathBuf>,
    /// Worker threads (default: all cores).
    #[arg(long)]
    pub(crate) threads: Option<usize>,
    /// Shard I/N of a job array (default: from SLURM_ARRAY_TASK_ID / SLURM_ARRAY_TASK_COUNT when set).
    #[arg(long)]
    pub(crate) shard: Option<String>,
    /// Replace an existing output file (never an input).
    #[arg(long)]
    pub(crate) force: bool,
    /// No progress bar.
    #[arg(long)]
    pub(crate) quiet: bool,
}

#[derive(Args, Debug)]
struct MapsArgs {
    /// The scan's HDF5 file.
    input: PathBuf,
    /// Directory for the PNG and CSV files.
    #[arg(long)]
    png: PathBuf,
    /// Grain segmentation: largest misorientation between neighbours of one grain (deg).
    #[arg(long, default_value_t = 1.0)]
    grain_threshold_deg: f64,
    /// Grain segmentation: smallest grain (points).
    #[arg(long, default_value_t = 1)]
    min_grain_points: usize,
}

#[derive(Args, Debug)]
struct MergeArgs {
    /// Shard files (any order).
    shards: Vec<PathBuf>,
    /// The merged HDF5 file.
    #[arg(short, long)]
    output: PathBuf,
    #[arg(long)]
    force: bool,
}

#[derive(Args, Debug)]
struct CompareArgs {
    a: PathBuf,
    b: PathBuf,
}

#[derive(Args, Debug)]
struct SbatchArgs {
    /// Number of array tasks (shards).
    #[arg(long)]
    tasks: usize,
    /// At most this many tasks at once (%M).
    #[arg(long)]
    max_running: Option<usize>,
    /// Cores per task.
    #[arg(long, default_value_t = 4)]
    cpus: usize,
    /// Job name.
    #[arg(long, default_value = "lauekit-scan")]
    name: String,
    /// The `lauekit scan` arguments of the run (everything after --), with -o OUT.h5.
    #[arg(last = true)]
    scan_args: Vec<String>,
}

/// Some points of a scan failed (exit code 3): the scan itself finished and was written.
#[derive(Debug)]
pub struct PointsFailed {
    pub failed: usize,
    pub total: usize,
}

impl std::fmt::Display for PointsFailed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} of {} points failed (see their error in the results)", self.failed, self.total)
    }
}

impl std::error::Error for PointsFailed {}

pub fn run(a: ScanArgs) -> Result<()> {
    match a.sub {
        Some(ScanCommand::Maps(m)) => maps(m),
        Some(ScanCommand::Merge(m)) => merge(m),
        Some(ScanCommand::Sbatch(s)) => sbatch(s),
        Some(ScanCommand::Compare(c)) => compare(c),
        Some(ScanCommand::Truth(t)) => truth(t),
        None => run_scan(a.run),
    }
}

/// Where one point's image comes from.
#[derive(Debug, Clone)]
pub(crate) enum PointImage {
    File(PathBuf),
    /// frame k of an HDF5 stack held in memory
    Frame(usize),
}

pub(crate) struct Source {
    pub(crate) points: Vec<PointImage>,
    /// the HDF5 stack's bytes, when the input is one
    pub(crate) stack: Option<(PathBuf, Vec<u8>)>,
}

impl Source {
    pub(crate) fn name(&self, p: &PointImage) -> String {
        match (p, &self.stack) {
            (PointImage::File(f), _) => f.display().to_string(),
            (PointImage::Frame(k), Some((f, _))) => format!("{}#{k}", f.display()),
            (PointImage::Frame(k), None) => format!("#{k}"),
        }
    }
}

fn is_image_name(name: &str) -> bool {
    let ext = name.rsplit_once('.').map(|(_, e)| e.to_ascii_lowercase()).unwrap_or_default();
    matches!(
        ext.as_str(),
        "tif" | "tiff" | "mccd" | "edf" | "h5" | "hdf5" | "nxs" | "png" | "raw" | "bin" | "img" | "cbf"
    ) || ext.chars().all(|c| c.is_ascii_digit())
}

fn list_series(dir: &Path, prefix: Option<&str>, ext: Option<&str>, a: &RunArgs) -> Result<Vec<PathBuf>> {
    let names: Vec<String> = std::fs::read_dir(dir)
        .with_context(|| format!("{}: cannot list", dir.display()))?
        .filter_map(|e| e.ok())
        .filter(|e| e.path().is_file())
        .filter_map(|e| e.file_name().to_str().map(String::from))
        .filter(|n| is_image_name(n))
        .collect();
    let series = lauekit::scan::series::select_series(&names, prefix, ext, a.first, a.last)
        .with_context(|| format!("{}", dir.display()))?;
    Ok(series.into_iter().map(|(_, n)| dir.join(n)).collect())
}

pub(crate) fn source(a: &RunArgs) -> Result<Source> {
    if a.inputs.is_empty() {
        bail!("give the images: a directory, a file of the series, several files or an HDF5 stack");
    }
    if a.inputs.len() == 1 {
        let p = &a.inputs[0];
        if p.is_dir() {
            return Ok(Source {
                points: list_series(p, None, None, a)?.into_iter().map(PointImage::File).collect(),
                stack: None,
            });
        }
        let name = p.file_name().and_then(|n| n.to_str()).unwrap_or("");
        let lower = name.to_ascii_lowercase();
        if lower.ends_with(".h5") || lower.ends_with(".hdf5") || lower.ends_with(".nxs") {
            let bytes = std::fs::read(p).with_context(|| format!("{}: cannot read", p.display()))?;
            let f0 = read_image(&bytes, &p.display().to_string(), &ReadOptions::default())?;
            let count: usize = f0.metadata.get("frame_count").and_then(|c| c.parse().ok()).unwrap_or(1);
            let (first, last) =
                (a.first.unwrap_or(0) as usize, a.last.map_or(count.saturating_sub(1), |l| l as usize));
            if first > last || last >= count {
                bail!("{}: {count} frames, --first {first} --last {last} is outside", p.display());
            }
            return Ok(Source {
                points: (first..=last).map(PointImage::Frame).collect(),
                stack: Some((p.clone(), bytes)),
            });
        }
        if let Some(s) = lauekit::scan::series::parse_series_name(name) {
            let dir = p.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new("."));
            return Ok(Source {
                points: list_series(dir, Some(&s.prefix), Some(&s.extension), a)?
                    .into_iter()
                    .map(PointImage::File)
                    .collect(),
                stack: None,
            });
        }
        bail!(
            "{}: not a directory, an HDF5 stack or a file named as a series (prefix_NNNN.ext)",
            p.display()
        );
    }
    // Several files: sorted by their series number when they have one, else as given.
    let mut files: Vec<(Option<u64>, PathBuf)> = a
        .inputs
        .iter()
        .map(|p| {
            let n = p.file_name().and_then(|n| n.to_str()).and_then(lauekit::scan::series::parse_series_name);
            (n.map(|s| s.number), p.clone())
        })
        .collect();
    if files.iter().all(|f| f.0.is_some()) {
        files.sort_by_key(|f| f.0);
        files
            .retain(|f| f.0.is_some_and(|n| a.first.is_none_or(|x| n >= x) && a.last.is_none_or(|x| n <= x)));
    }
    Ok(Source { points: files.into_iter().map(|f| PointImage::File(f.1)).collect(), stack: None })
}

pub(crate) fn grid(a: &RunArgs, n: usize) -> Result<ScanGrid> {
    let (nx, ny) = match &a.grid {
        Some(g) => ScanGrid::parse_size(g)?,
        None => {
            let s = (n as f64).sqrt().round() as usize;
            if s * s != n {
                bail!("{n} images is not a square number: give --grid NXxNY");
            }
            (s, s)
        }
    };
    if nx * ny != n {
        bail!("--grid {nx}x{ny} is {} points but {n} images were found", nx * ny);
    }
    let step = match &a.step_um {
        Some(s) => {
            let v: Vec<f64> = s
                .split(',')
                .map(|x| x.trim().parse::<f64>())
                .collect::<Result<_, _>>()
                .map_err(|_| anyhow::anyhow!("--step-um {s}: write X,Y in µm"))?;
            match v[..] {
                [x, y] => Some([x, y]),
                [x] => Some([x, x]),
                _ => bail!("--step-um {s}: write X,Y in µm"),
            }
        }
        None => None,
    };
    Ok(ScanGrid::new(nx, ny, step, a.snake)?)
}

fn shard(a: &RunArgs) -> Result<Option<(usize, usize)>> {
    if let Some(s) = &a.shard {
        return Ok(Some(parse_shard(s)?));
    }
    match (std::env::var("SLURM_ARRAY_TASK_ID"), std::env::var("SLURM_ARRAY_TASK_COUNT")) {
        (Ok(i), Ok(n)) => Ok(Some(parse_shard(&format!("{i}/{n}"))?)),
        _ => Ok(None),
    }
}

/// The plan of a scan run: every file it reads (images, calibration, settings, model) is an input that
/// no output may replace; existing outputs are replaced only with --force.
fn scan_plan(a: &RunArgs, src: &Source) -> OutputPlan {
    let mut plan = OutputPlan::new(Existing::RefuseUnlessForce(a.force));
    plan.inputs(&a.inputs).inputs(a.calib.iter());
    plan.inputs(src.points.iter().filter_map(|p| match p {
        PointImage::File(f) => Some(f),
        PointImage::Frame(_) => None,
    }));
    let p = &a.pipeline;
    plan.inputs([&p.params, &p.psp, &p.request].into_iter().flatten());
    plan.inputs(p.material.files());
    if let Some(m) = &p.model {
        let (w, j) = super::train_index::model_paths(m);
        plan.input(w).input(j);
    }
    plan
}

fn journal_path(out: &Path) -> PathBuf {
    let name = out.file_name().and_then(|n| n.to_str()).unwrap_or("scan.h5");
    out.with_file_name(format!("{name}.journal"))
}

fn analyse(
    src: &Source,
    p: &PointImage,
    cal: &Calibration,
    job: &Prepared,
    models: &Models,
) -> std::result::Result<lauekit::pipeline::PointReport, PipelineError> {
    let name = src.name(p);
    let frame = match (p, &src.stack) {
        (PointImage::File(f), _) => {
            let bytes = std::fs::read(f).map_err(|e| {
                PipelineError::Point(lauekit::LaueError::Read { file: name.clone(), reason: e.to_string() })
            })?;
            read_image(&bytes, &name, &ReadOptions::default()).and_then(super::input::with_mask)
        }
        (PointImage::Frame(k), Some((_, bytes))) => {
            read_image(bytes, &name, &ReadOptions { frame: *k, ..Default::default() })
                .and_then(super::input::with_mask)
        }
        (PointImage::Frame(_), None) => {
            return Err(PipelineError::Job(lauekit::LaueError::settings(
                lauekit::error::Stage::Scan,
                format!("{name}: a frame of a stack, but no stack file is open"),
            )));
        }
    }
    .map_err(PipelineError::Point)?;
    run_image(&frame, cal, job, models)
}

fn run_scan(a: RunArgs) -> Result<()> {
    let t0 = Instant::now();
    let Some(out) = a.output.clone() else { bail!("give the output file: -o SCAN.h5") };
    let calib = a.calib.as_ref().context("give the detector calibration: --calib FILE.det")?;
    let det = DetFile::parse(&super::input::read_text(calib)?, &calib.display().to_string())?;
    let cal = det.calibration;
    let src = source(&a)?;
    let grid = grid(&a, src.points.len())?;
    let shard = shard(&a)?;
    let range = match shard {
        Some((i, n)) => shard_range(grid.len(), i, n),
        None => 0..grid.len(),
    };
    let request = a.pipeline.request(true)?;
    let models = load_models(&request)?;
    let job = request.prepare(&models)?;

    // Every file read is an input that no output may replace.
    let mut plan = scan_plan(&a, &src);
    let journal = journal_path(&out);
    plan.output(&out, OutputKind::Hdf5)?;
    // The journal of a killed run is resumed, not refused.
    plan.output_updating(&journal, OutputKind::Text)?;
    for extra in [&a.json, &a.summary, &a.ctf].into_iter().flatten() {
        plan.output(extra, OutputKind::Text)?;
    }
    let header = JournalHeader {
        journal: JournalHeader::KIND.into(),
        grid,
        request: request.clone(),
        images: src.points[range.clone()].iter().map(|p| src.name(p)).collect(),
        points: range.clone(),
        software: software_version(),
    };
    // Resume from the journal of the same scan, or start one.
    let mut done: Vec<PointResult> = Vec::new();
    if journal.exists() {
        let text = std::fs::read_to_string(&journal)
            .with_context(|| format!("{}: cannot read", journal.display()))?;
        let (h, pts) = read_journal(&text, &journal.display().to_string())?;
        if h != header {
            bail!(
                "{}: the journal of a different scan (images, grid or settings differ); remove it to start again",
                journal.display()
            );
        }
        // Rewrite it without a torn last line.
        let mut clean = journal_header_line(&header)?;
        for p in &pts {
            clean.push_str(&journal_point_line(p)?);
        }
        write_atomic(&journal, clean.as_bytes())?;
        done = pts;
        if !a.quiet {
            errln!("resuming: {} of {} points already done ({})", done.len(), range.len(), journal.display());
        }
    } else {
        write_atomic(&journal, journal_header_line(&header)?.as_bytes())?;
    }
    let done_set: std::collections::HashSet<usize> = done.iter().map(|p| p.index).collect();
    let todo: Vec<usize> = range.clone().filter(|i| !done_set.contains(i)).collect();

    let threads = lauekit::device::thread_count(a.threads)?;
    let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().context("thread pool")?;
    let bar = if a.quiet {
        indicatif::ProgressBar::hidden()
    } else {
        let b = indicatif::ProgressBar::new(range.len() as u64);
        b.set_style(
            indicatif::ProgressStyle::with_template(
                "{bar:40} {pos}/{len} points · {per_sec} · ETA {eta} · {msg}",
            )
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
        );
        b.set_position(done.len() as u64);
        b
    };
    let mut jfile = std::fs::OpenOptions::new()
        .append(true)
        .open(&journal)
        .with_context(|| format!("{}: cannot append", journal.display()))?;
    let (tx, rx) = std::sync::mpsc::sync_channel::<std::result::Result<PointResult, String>>(4 * threads);
    let stop = AtomicBool::new(false);
    let mut failed = done.iter().filter(|p| p.status == lauekit::pipeline::PointStatus::Failed).count();
    let mut job_error: Option<String> = None;
    std::thread::scope(|s| -> Result<()> {
        let (src, job, models, stop, pool) = (&src, &job, &models, &stop, &pool);
        let todo = &todo;
        s.spawn(move || {
            pool.install(|| {
                todo.par_iter().for_each_with(tx, |tx, &i| {
                    if stop.load(Ordering::Relaxed) {
                        return;
                    }
                    let p = &src.points[i];
                    let name = src.name(p);
                    let msg = match analyse(src, p, &cal, job, models) {
                        Ok(r) => Ok(PointResult::from_report(i, &grid, name, r)),
                        Err(PipelineError::Point(e)) => {
                            Ok(PointResult::failed(i, &grid, name, e.to_string()))
                        }
                        Err(PipelineError::Job(e)) => {
                            stop.store(true, Ordering::Relaxed);
                            Err(format!("{name}: {e}"))
                        }
                    };
                    let _ = tx.send(msg);
                });
            });
        });
        for msg in rx {
            match msg {
                Ok(p) => {
                    if p.status == lauekit::pipeline::PointStatus::Failed {
                        failed += 1;
                        if !a.quiet {
                            bar.suspend(|| {
                                errln!("point {} failed: {}", p.index, p.error.as_deref().unwrap_or(""))
                            });
                        }
                    }
                    jfile
                        .write_all(journal_point_line(&p)?.as_bytes())
                        .with_context(|| format!("{}: cannot append", journal.display()))?;
                    bar.set_message(format!("{failed} failed"));
                    bar.inc(1);
                    done.push(p);
                }
                Err(e) => {
                    stop.store(true, Ordering::Relaxed);
                    job_error.get_or_insert(e);
                }
            }
        }
        Ok(())
    })?;
    bar.finish_and_clear();
    jfile.sync_all().ok();
    if let Some(e) = job_error {
        bail!("scan stopped: {e} (the {} points done are kept in {})", done.len(), journal.display());
    }
    done.sort_by_key(|p| p.index);
    let results = ScanResults { grid, request, software: software_version(), points: done };
    let seconds = t0.elapsed().as_secs_f64();
    plan.stage(&out, &lauekit::scan::h5::to_hdf5(&results, shard)?)?;
    stage_extras(&plan, &results, &a, seconds)?;
    plan.commit()?;
    std::fs::remove_file(&journal).with_context(|| format!("{}: cannot remove", journal.display()))?;
    let n = results.points.len();
    let indexed = results.points.iter().filter(|p| !p.grains.is_empty()).count();
    let pts_s = todo.len() as f64 / seconds.max(1e-9);
    outln!(
        "{n} points ({indexed} indexed, {failed} failed) in {seconds:.1} s ({pts_s:.1} points/s, {threads} threads) → {}",
        out.display()
    )?;
    if failed > 0 {
        return Err(PointsFailed { failed, total: n }.into());
    }
    Ok(())
}

fn stage_extras(plan: &OutputPlan, r: &ScanResults, a: &RunArgs, seconds: f64) -> Result<()> {
    if let Some(p) = &a.json {
        plan.stage(p, serde_json::to_string_pretty(&lauekit::scan::export::to_json(r, seconds))?.as_bytes())?;
    }
    if let Some(p) = &a.summary {
        plan.stage(p, lauekit::scan::export::lauetools_summary(r, &ipf_rgb).as_bytes())?;
    }
    if let Some(p) = &a.ctf {
        plan.stage(p, lauekit::scan::export::to_ctf(r).as_bytes())?;
    }
    Ok(())
}

/// The IPF colour (0–1) of sample axis `axis` (0 x, 1 y, 2 z) for a grain, in its Laue class's key.
fn ipf_rgb(g: &lauekit::pipeline::GrainReport, axis: usize) -> [f64; 3] {
    use lauekit::scan::ipf::{IpfColouring, IpfKey, SampleAxis};
    let phase = lauekit::scan::grains::Phase::of_grain(g);
    let Ok(key) = IpfKey::new(phase.laue_group, &phase.lattice, IpfColouring::default()) else {
        return [f64::NAN; 3];
    };
    let axis = [SampleAxis::X, SampleAxis::Y, SampleAxis::Z][axis.min(2)];
    let u = lauekit::geometry::orientation::nearest_rotation(&g.ub_matrix());
    key.colour_of_orientation(&u, axis).map(|c| f64::from(c) / 255.0)
}

fn read_results(p: &Path) -> Result<(ScanResults, Option<(usize, usize)>)> {
    let bytes = std::fs::read(p).with_context(|| format!("{}: cannot read", p.display()))?;
    Ok(lauekit::scan::h5::from_hdf5(bytes, &p.display().to_string())?)
}

fn truth(t: TruthArgs) -> Result<()> {
    let (r, _) = read_results(&t.results)?;
    let text =
        std::fs::read_to_string(&t.truth).with_context(|| format!("{}: cannot read", t.truth.display()))?;
    let truth: lauekit::scan::simulate::ScanTruth = serde_json::from_str(&text)
        .with_context(|| format!("{}: not a truth.json of lauekit simulate-scan", t.truth.display()))?;
    let c = lauekit::scan::truth::compare_with_truth(&r, &truth)?;
    outln!("{}", serde_json::to_string_pretty(&c)?)?;
    Ok(())
}

fn merge(m: MergeArgs) -> Result<()> {
    if m.shards.is_empty() {
        bail!("give the shard files");
    }
    let mut plan = OutputPlan::new(Existing::RefuseUnlessForce(m.force));
    plan.inputs(&m.shards);
    plan.output(&m.output, OutputKind::Hdf5)?;
    let mut parts = Vec::new();
    let mut counts = std::collections::BTreeSet::new();
    for s in &m.shards {
        let (r, sh) = read_results(s)?;
        if let Some((_, n)) = sh {
            counts.insert(n);
        }
        parts.push(r);
    }
    if counts.len() > 1 {
        bail!("shards of different splits ({counts:?} shards)");
    }
    let merged = lauekit::scan::shard::merge(parts)?;
    plan.stage(&m.output, &lauekit::scan::h5::to_hdf5(&merged, None)?)?;
    plan.commit()?;
    let failed = merged.points.iter().filter(|p| p.status == lauekit::pipeline::PointStatus::Failed).count();
    outln!(
        "{} shards → {} points ({failed} failed) → {}",
        m.shards.len(),
        merged.points.len(),
        m.output.display()
    )?;
    Ok(())
}

fn compare(c: CompareArgs) -> Result<()> {
    let untimed = |p: &Path| -> Result<ScanResults> {
        let mut r = read_results(p)?.0;
        r.points.iter_mut().for_each(|p| p.elapsed_ms = 0.0);
        Ok(r)
    };
    let (a, b) = (untimed(&c.a)?, untimed(&c.b)?);
    let mut diffs = Vec::new();
    if a.grid != b.grid {
        diffs.push(format!("grid {:?} vs {:?}", a.grid, b.grid));
    }
    if a.request != b.request {
        diffs.push("pipeline requests differ".to_string());
    }
    if a.points.len() != b.points.len() {
        diffs.push(format!("{} vs {} points", a.points.len(), b.points.len()));
    }
    for (p, q) in a.points.iter().zip(&b.points) {
        if p != q {
            diffs.push(format!(
                "point {} ({}) differs from point {} ({})",
                p.index, p.image, q.index, q.image
            ));
        }
    }
    if diffs.is_empty() {
        outln!("{} and {}: the same {} points", c.a.display(), c.b.display(), a.points.len())?;
        return Ok(());
    }
    for d in diffs.iter().take(20) {
        errln!("{d}");
    }
    bail!("{} and {} differ ({} differences)", c.a.display(), c.b.display(), diffs.len())
}

fn maps(m: MapsArgs) -> Result<()> {
    use lauekit::scan::grains::{GrainOptions, segment_grains};
    use lauekit::scan::maps::{MapOptions, PngOptions, all_maps};
    let mut plan = OutputPlan::new(Existing::Replace);
    plan.input(&m.input);
    let (r, _) = read_results(&m.input)?;
    std::fs::create_dir_all(&m.png).with_context(|| format!("{}: cannot create", m.png.display()))?;
    let grains = GrainOptions { threshold_deg: m.grain_threshold_deg, min_size: m.min_grain_points };
    let options = MapOptions { grains, ..Default::default() };
    let maps = all_maps(&r, &options)?;
    let png = PngOptions::default();
    for map in &maps {
        let name = map.name();
        let (png_file, csv_file) = (m.png.join(format!("{name}.png")), m.png.join(format!("{name}.csv")));
        plan.output(&png_file, OutputKind::Image)?;
        plan.output(&csv_file, OutputKind::Text)?;
        plan.stage(&png_file, &map.to_png(&png)?)?;
        plan.stage(&csv_file, map.to_csv().as_bytes())?;
    }
    let seg = segment_grains(&r, &grains)?;
    let mut table = String::from(
        "grain\tmaterial\tn_points\teuler_0\teuler_1\teuler_2\tgos_deg\tcentroid_ix\tcentroid_iy\tcentroid_x_um\tcentroid_y_um\n",
    );
    for g in &seg.grains {
        let [cx, cy] = g.centroid_um.unwrap_or([f64::NAN; 2]);
        table.push_str(&format!(
            "{}\t{}\t{}\t{:.4}\t{:.4}\t{:.4}\t{:.4}\t{:.2}\t{:.2}\t{cx:.3}\t{cy:.3}\n",
            g.id,
            g.material,
            g.n_points,
            g.mean_euler_deg[0],
            g.mean_euler_deg[1],
            g.mean_euler_deg[2],
            g.gos_deg,
            g.centroid_index[0],
            g.centroid_index[1]
        ));
    }
    let table_file = m.png.join("grains.tsv");
    plan.output(&table_file, OutputKind::Text)?;
    plan.stage(&table_file, table.as_bytes())?;
    plan.commit()?;
    outln!(
        "{} maps (PNG + CSV) and {} grains (grains.tsv, threshold {}°, at least {} points) → {}",
        maps.len(),
        seg.grains.len(),
        grains.threshold_deg,
        grains.min_size,
        m.png.display()
    )?;
    Ok(())
}

fn sbatch(s: SbatchArgs) -> Result<()> {
    if s.tasks == 0 {
        bail!("--tasks must be at least 1");
    }
    let out_pos = s.scan_args.iter().position(|x| x == "-o" || x == "--output");
    let Some(out) = out_pos.and_then(|k| s.scan_args.get(k + 1)) else {
        bail!("the scan arguments after -- need -o OUT.h5");
    };
    let exe = std::env::current_exe().map(|p| p.display().to_string()).unwrap_or_else(|_| "lauekit".into());
    let quote = |x: &str| {
        if x.chars().all(|c| c.is_ascii_alphanumeric() || "-_./=,:%+".contains(c)) {
            x.to_string()
        } else {
            format!("'{}'", x.replace('\'', "'\\''"))
        }
    };
    let mut args: Vec<String> = s.scan_args.iter().map(|x| quote(x)).collect();
    let shard_out = format!("{out}.shard-${{SLURM_ARRAY_TASK_ID}}-of-{}.h5", s.tasks);
    if let Some(k) = out_pos {
        args[k + 1] = shard_out.clone();
    }
    let limit = s.max_running.map(|m| format!("%{m}")).unwrap_or_default();
    let shards: Vec<String> =
        (0..s.tasks).map(|i| quote(&format!("{out}.shard-{i}-of-{}.h5", s.tasks))).collect();
    outln!("#!/bin/bash")?;
    outln!(
        "# lauekit scan as a SLURM job array: submit with `sbatch THIS_FILE`; the merge runs when all tasks ended."
    )?;
    outln!("#SBATCH --job-name={}", s.name)?;
    outln!("#SBATCH --array=0-{}{limit}", s.tasks - 1)?;
    outln!("#SBATCH --cpus-per-task={}", s.cpus)?;
    outln!("#SBATCH --output={}-%A_%a.log", s.name)?;
    outln!("set -euo pipefail")?;
    outln!("if [ \"${{SLURM_ARRAY_TASK_ID:-0}}\" = 0 ] && [ -z \"${{LAUEKIT_MERGE_SUBMITTED:-}}\" ]; then")?;
    outln!(
        "  sbatch --dependency=afterany:${{SLURM_ARRAY_JOB_ID}} --job-name={}-merge --output={}-merge-%j.log --wrap \"{} scan merge {} -o {}\"",
        s.name,
        s.name,
        quote(&exe),
        shards.join(" "),
        quote(out)
    )?;
    outln!("fi")?;
    outln!(
        "{} scan {} --shard ${{SLURM_ARRAY_TASK_ID}}/{} --threads ${{SLURM_CPUS_PER_TASK:-{}}} --quiet || [ $? -eq 3 ]",
        quote(&exe),
        args.join(" "),
        s.tasks,
        s.cpus
    )?;
    Ok(())
}
