//! `lauekit simulate-scan`: a synthetic raster scan (Voronoi grains, a Σ3 twin band, a second phase, empty
//! points) written as LaueTools-named 16-bit TIFFs with `calib.det` and `truth.json`.
//!
//! The output directory is never cleaned: the verb refuses a directory holding anything a previous
//! simulate-scan did not write (it recognises those by the previous `truth.json`), and overwrites that
//! run's files only with `--force`.

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{Context, Result, bail};
use clap::Args;
use indicatif::{ProgressBar, ProgressStyle};
use lauekit::io::output::{Existing, OutputKind, OutputPlan, is_temporary_name};
use lauekit::io::{DetFile, write_tiff_u16};
use lauekit::scan::ScanGrid;
use lauekit::scan::simulate::{
    RegionKind, ScanTruth, SecondPhase, SyntheticScan, SyntheticScanSpec, TwinBand, default_image_model,
    detector_calibration, point_file_name,
};
use lauekit::simulate::{ImageModel, SpotShape};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

/// Marks a `truth.json` as ours, so that a later run may overwrite the directory's files.
const GENERATOR: &str = "lauekit simulate-scan";
const TRUTH_FILE: &str = "truth.json";
const CALIB_FILE: &str = "calib.det";

#[derive(Args, Debug)]
pub struct SimulateScanArgs {
    /// Output directory: created if missing; refused if it holds files that no previous simulate-scan wrote.
    #[arg(short, long)]
    output: PathBuf,
    /// The whole spec as JSON (the "spec" object of a truth.json; missing fields take their defaults).
    /// Flags given as well override its fields.
    #[arg(long)]
    spec: Option<PathBuf>,
    /// Scan grid NXxNY, x the fast axis [default: 40x30].
    #[arg(long)]
    grid: Option<String>,
    /// Step along x,y (µm), or one number for both [default: 1,1].
    #[arg(long)]
    step_um: Option<String>,
    /// Serpentine scan: odd rows run from high x to low x.
    #[arg(long)]
    snake: bool,
    /// Primary phase from the materials table (`lauekit materials`) [default: Cu].
    #[arg(long)]
    material: Option<String>,
    /// Second phase as round particles: NAME:AREA_FRACTION[:RADIUS_UM], e.g. Si:0.2 (radius 2 µm); `none`
    /// removes one given by --spec.
    #[arg(long)]
    second_phase: Option<String>,
    /// Number of grains of the primary phase (Voronoi cells) [default: 6].
    #[arg(long)]
    grains: Option<usize>,
    /// A Σ3 twin band (60° about ⟨111⟩) through the largest grain; on by default, cubic phases only.
    #[arg(long, overrides_with = "no_twin")]
    twin: bool,
    /// No twin band.
    #[arg(long, overrides_with = "twin")]
    no_twin: bool,
    /// Width of the twin band (µm) [default: 3].
    #[arg(long)]
    twin_width_um: Option<f64>,
    /// Orientation gradient inside each region (deg/µm) [default: 0.02].
    #[arg(long)]
    gradient_deg_per_um: Option<f64>,
    /// Deviatoric strain of each region, von Mises equivalent (dimensionless) [default: 0.001].
    #[arg(long)]
    strain: Option<f64>,
    /// Points closer than this to a boundary (µm) show both crystals [default: 0.5].
    #[arg(long)]
    boundary_width_um: Option<f64>,
    /// Fraction of points with no crystal (background only) [default: 0.02].
    #[arg(long)]
    empty_fraction: Option<f64>,
    /// Square detector of SIZE×SIZE pixels seeing the solid angle of BM32's MarCCD [default: 512].
    #[arg(long, conflicts_with_all = ["rows", "cols", "calib"])]
    size: Option<usize>,
    /// Detector rows (with --cols), same solid angle as --size.
    #[arg(long, requires = "cols", conflicts_with = "calib")]
    rows: Option<usize>,
    /// Detector columns (with --rows).
    #[arg(long, requires = "rows", conflicts_with = "calib")]
    cols: Option<usize>,
    /// Detector calibration, frame and pixel size from a LaueTools .det file instead.
    #[arg(long)]
    calib: Option<PathBuf>,
    /// Lowest photon energy (keV) [default: 5].
    #[arg(long)]
    emin: Option<f64>,
    /// Highest photon energy (keV) [default: 22].
    #[arg(long)]
    emax: Option<f64>,
    /// Spot width, Gaussian σ (px) [default: 0.8].
    #[arg(long)]
    spot_sigma_px: Option<f64>,
    /// Seed of the microstructure [default: 0].
    #[arg(long)]
    seed: Option<u64>,
    /// Seed of the image intensities and noise [default: 0].
    #[arg(long)]
    noise_seed: Option<u64>,
    /// Image file prefix: images are PREFIX_NNNN.tif.
    #[arg(long, default_value = "scan")]
    prefix: String,
    /// Overwrite the files of a previous simulate-scan in the output directory.
    #[arg(long)]
    force: bool,
    /// Worker threads (default: all cores).
    #[arg(long)]
    threads: Option<usize>,
}

/// `truth.json`: the library's truth plus what names the files.
#[derive(Serialize)]
struct TruthFile<'a> {
    generator: &'static str,
    /// image file of each point, in acquisition order
    images: &'a [String],
    calibration_file: &'static str,
    #[serde(flatten)]
    truth: &'a ScanTruth,
}

/// What a previous run's `truth.json` says about the files it wrote.
#[derive(Deserialize)]
struct PreviousRun {
    generator: String,
    #[serde(default)]
    images: Vec<String>,
}

pub fn run(a: SimulateScanArgs) -> Result<()> {
    let spec = spec(&a)?;
    check_prefix(&a.prefix)?;
    let t0 = Instant::now();
    let scan = SyntheticScan::new(&spec)?;
    let n = scan.len();
    let images: Vec<String> = (0..n).map(|i| point_file_name(&a.prefix, i, n)).collect();
    let dir = &a.output;
    prepare_output(dir, &images, a.force)?;
    // Every file is written to a temporary beside it and renamed when all are done: the directory holds
    // a whole scan or the previous one, never a mix.
    let mut plan = OutputPlan::new(Existing::Replace).without_sync();
    plan.inputs(a.spec.iter()).inputs(a.calib.iter());
    let truth_path = dir.join(TRUTH_FILE);
    let det_path = dir.join(CALIB_FILE);
    plan.output(&truth_path, OutputKind::Text)?;
    plan.output(&det_path, OutputKind::Text)?;
    for name in &images {
        plan.output(dir.join(name), OutputKind::Image)?;
    }
    if let Some(t) = a.threads {
        let t = lauekit::device::thread_count(Some(t))?;
        rayon::ThreadPoolBuilder::new().num_threads(t).build_global().ok();
    }

    // Truth and calibration renamed first: a run stopped half-way through the renames still leaves a
    // directory a later run recognises.
    let truth = scan.truth();
    let truth_json = serde_json::to_vec(&TruthFile {
        generator: GENERATOR,
        images: &images,
        calibration_file: CALIB_FILE,
        truth: &truth,
    })?;
    plan.stage(&truth_path, &truth_json)?;
    let det = DetFile {
        calibration: spec.calibration,
        ub: None,
        metadata: det_metadata(&spec),
        comments: vec![format!(
            "Synthetic detector of {GENERATOR} ({}, seed {})",
            lauekit::scan::software_version(),
            spec.seed
        )],
    };
    plan.stage(&det_path, det.to_text().as_bytes())?;

    let bar = ProgressBar::new(n as u64);
    bar.set_style(
        ProgressStyle::with_template("{bar:40} {pos}/{len} images, {elapsed} elapsed, ETA {eta}")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    (0..n).into_par_iter().try_for_each(|i| -> Result<()> {
        let img = scan.render_point(i).with_context(|| format!("point {i}"))?;
        let path = dir.join(&images[i]);
        let name = path.display().to_string();
        plan.stage_with(&path, |w| write_tiff_u16(w, img.rows, img.cols, &img.pixels, &name))?;
        bar.inc(1);
        Ok(())
    })?;
    bar.finish_and_clear();
    plan.commit()?;

    let count = |k: RegionKind| scan.regions.iter().filter(|r| r.kind == k).count();
    let empty = scan.points.iter().filter(|p| p.region.is_none()).count();
    let boundary = scan.points.iter().filter(|p| p.boundary).count();
    let c = spec.calibration;
    let phase = match &spec.second_phase {
        Some(p) => format!(", {} {} particles", count(RegionKind::Phase), p.material),
        None => String::new(),
    };
    outln!(
        "wrote {n} images ({}×{} points, {}×{} px) + {TRUTH_FILE} + {CALIB_FILE} to {}: \
         {} {} grains{}{phase}, {empty} empty and {boundary} boundary points, {:.1} s",
        spec.nx,
        spec.ny,
        c.rows,
        c.cols,
        dir.display(),
        count(RegionKind::Grain),
        spec.material,
        if count(RegionKind::Twin) > 0 { " with a Σ3 twin band" } else { "" },
        t0.elapsed().as_secs_f64()
    )?;
    Ok(())
}

/// The spec: defaults, or the --spec file, then every flag given.
fn spec(a: &SimulateScanArgs) -> Result<SyntheticScanSpec> {
    let (mut s, image_given) = match &a.spec {
        Some(p) => {
            let text = std::fs::read_to_string(p).with_context(|| format!("{}: cannot read", p.display()))?;
            let value: serde_json::Value = serde_json::from_str(&text)
                .with_context(|| format!("{}: not a simulate-scan spec", p.display()))?;
            let image_given = value.get("image").is_some();
            let spec = serde_json::from_value::<SyntheticScanSpec>(value)
                .with_context(|| format!("{}: not a simulate-scan spec", p.display()))?;
            (spec, image_given)
        }
        None => (SyntheticScanSpec::default(), false),
    };
    if let Some(g) = &a.grid {
        (s.nx, s.ny) = ScanGrid::parse_size(g)?;
    }
    if let Some(st) = &a.step_um {
        let v = numbers(st, "--step-um")?;
        s.step_um = match v.as_slice() {
            [d] => [*d, *d],
            [x, y] => [*x, *y],
            _ => bail!("--step-um {st}: give X,Y or one step (µm)"),
        };
    }
    s.snake |= a.snake;
    if let Some(m) = &a.material {
        s.material = m.clone();
    }
    if let Some(p) = &a.second_phase {
        s.second_phase = second_phase(p)?;
    }
    if let Some(g) = a.grains {
        s.grains = g;
    }
    if a.twin && s.twin.is_none() {
        s.twin = Some(TwinBand::default());
    }
    if a.no_twin {
        s.twin = None;
    }
    if let Some(w) = a.twin_width_um {
        match &mut s.twin {
            Some(t) => t.width_um = w,
            None => bail!("--twin-width-um with no twin band (drop --no-twin)"),
        }
    }
    if let Some(v) = a.gradient_deg_per_um {
        s.gradient_deg_per_um = v;
    }
    if let Some(v) = a.strain {
        s.strain = v;
    }
    if let Some(v) = a.boundary_width_um {
        s.boundary_width_um = v;
    }
    if let Some(v) = a.empty_fraction {
        s.empty_fraction = v;
    }
    let detector = match (&a.calib, a.size, a.rows, a.cols) {
        (Some(p), ..) => {
            let text = std::fs::read_to_string(p).with_context(|| format!("{}: cannot read", p.display()))?;
            Some(DetFile::parse(&text, &p.display().to_string())?.calibration)
        }
        (None, Some(n), _, _) => Some(detector_calibration(n, n)?),
        (None, None, Some(r), Some(c)) => Some(detector_calibration(r, c)?),
        _ => None,
    };
    if let Some(c) = detector {
        s.calibration = c;
    }
    if !image_given {
        // The background hump scales with the frame.
        s.image = ImageModel { seed: s.image.seed, ..default_image_model(&s.calibration) };
    }
    if let Some(v) = a.emin {
        s.emin_kev = v;
    }
    if let Some(v) = a.emax {
        s.emax_kev = v;
    }
    if let Some(v) = a.spot_sigma_px {
        s.image.shape = SpotShape::Gaussian { sigma_px: v };
    }
    if let Some(v) = a.seed {
        s.seed = v;
    }
    if let Some(v) = a.noise_seed {
        s.image.seed = v;
    }
    Ok(s)
}

/// `Si:0.2` or `Si:0.2:1.5` (radius µm); `none` for no second phase.
fn second_phase(s: &str) -> Result<Option<SecondPhase>> {
    if s.trim().eq_ignore_ascii_case("none") {
        return Ok(None);
    }
    let parts: Vec<&str> = s.split(':').map(str::trim).collect();
    let num = |t: &str, what: &str| -> Result<f64> {
        t.parse::<f64>().with_context(|| format!("--second-phase {s}: {what} '{t}' is not a number"))
    };
    let d = SecondPhase::default();
    match parts.as_slice() {
        [m, f] => {
            Ok(Some(SecondPhase { material: m.to_string(), area_fraction: num(f, "area fraction")?, ..d }))
        }
        [m, f, r] => Ok(Some(SecondPhase {
            material: m.to_string(),
            area_fraction: num(f, "area fraction")?,
            particle_radius_um: num(r, "radius")?,
        })),
        _ => bail!("--second-phase {s}: write NAME:AREA_FRACTION[:RADIUS_UM], e.g. Si:0.2"),
    }
}

fn numbers(s: &str, what: &str) -> Result<Vec<f64>> {
    s.split(',')
        .map(|t| t.trim().parse::<f64>().with_context(|| format!("{what} {s}: '{t}' is not a number")))
        .collect()
}

/// A prefix is a plain file-name stem: no separators, so that every image lands in the output directory.
fn check_prefix(p: &str) -> Result<()> {
    if p.is_empty() || !p.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.')) {
        bail!("--prefix '{p}': use letters, digits, '_', '-' or '.'");
    }
    Ok(())
}

fn det_metadata(spec: &SyntheticScanSpec) -> Vec<(String, String)> {
    let c = spec.calibration;
    vec![
        ("pixelsize".into(), format!("{}", c.pixel_size_mm)),
        ("framedim".into(), format!("({}, {})", c.rows, c.cols)),
        ("detectordiameter".into(), format!("{}", c.rows.max(c.cols) as f64 * c.pixel_size_mm)),
        ("kf_direction".into(), "Z>0".into()),
    ]
}

/// Makes sure writing `images`, `truth.json` and `calib.det` into `dir` destroys nothing but a previous
/// simulate-scan's files, and those only with `force`. Creates `dir` if missing.
fn prepare_output(dir: &Path, images: &[String], force: bool) -> Result<()> {
    if !dir.exists() {
        return std::fs::create_dir_all(dir).with_context(|| format!("{}: cannot create", dir.display()));
    }
    if !dir.is_dir() {
        bail!("{}: exists and is not a directory", dir.display());
    }
    let previous = previous_run(dir)?;
    let previous_files: HashSet<&str> = match &previous {
        Some(p) => p.images.iter().map(String::as_str).chain([TRUTH_FILE, CALIB_FILE]).collect(),
        None => HashSet::new(),
    };
    let ours: HashSet<&str> = images.iter().map(String::as_str).chain([TRUTH_FILE, CALIB_FILE]).collect();
    let mut existing = Vec::new();
    let mut stale = Vec::new();
    for entry in std::fs::read_dir(dir).with_context(|| format!("{}: cannot list", dir.display()))? {
        let entry = entry.with_context(|| format!("{}: cannot list", dir.display()))?;
        let name = entry.file_name().to_string_lossy().to_string();
        if is_temporary_name(&name) {
            // A temporary of a run that was killed: never part of a scan.
            continue;
        }
        let is_file = entry.file_type().map(|t| t.is_file()).unwrap_or(false);
        if !is_file || !previous_files.contains(name.as_str()) {
            bail!(
                "{}: holds '{name}', which no previous `lauekit simulate-scan` wrote there; \
                 give a new or empty directory (nothing was written)",
                dir.display()
            );
        }
        if ours.contains(name.as_str()) {
            existing.push(name);
        } else {
            stale.push(name);
        }
    }
    existing.sort();
    stale.sort();
    if !existing.is_empty() && !force {
        bail!(
            "{}: {} output files exist already (e.g. {}); add --force to overwrite them",
            dir.display(),
            existing.len(),
            existing[0]
        );
    }
    if let Some(first) = stale.first() {
        bail!(
            "{}: holds {} files of a previous simulate-scan that this run would not replace (e.g. {first}), \
             so the directory would mix two scans; give a new directory",
            dir.display(),
            stale.len()
        );
    }
    Ok(())
}

/// The previous run's record in `dir`, if its truth.json is one of ours.
fn previous_run(dir: &Path) -> Result<Option<PreviousRun>> {
    let path = dir.join(TRUTH_FILE);
    if !path.is_file() {
        return Ok(None);
    }
    let text = std::fs::read_to_string(&path).with_context(|| format!("{}: cannot read", path.display()))?;
    Ok(serde_json::from_str::<PreviousRun>(&text).ok().filter(|p| p.generator == GENERATOR))
}
