//! `lauekit calibrate`: the detector calibration (dd, xcen, ycen, xbet, xgam) from the Laue pattern of a
//! reference crystal — [`lauekit::refine::calibrate`] on the peaks of an image or a peak list, written as a
//! LaueTools `.det`.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use clap::Args;
use lauekit::crystal::MaterialSpec;
use lauekit::geometry::{Calibration, DETECTORS};
use lauekit::io::output::{Existing, OutputKind, OutputPlan};
use lauekit::io::peaklist::{read_cor, read_dat};
use lauekit::io::{DetFile, DetRecord, det_text, utc_string};
use lauekit::peaks::{PeakSearchParams, peak_search};
use lauekit::refine::{CalibrationReport, CalibrationRequest, DetectorParam, calibrate};

#[derive(Args, Debug)]
pub struct CalibrateArgs {
    /// Detector image of the reference crystal (peak search first) or its peak list (.dat, .cor).
    input: PathBuf,
    /// Reference crystal: a table name (e.g. Ge, Si), a --materials name, or --lattice with
    /// --spacegroup/--extinction.
    #[command(flatten)]
    material: super::pipeline_args::MaterialArgs,
    /// Starting geometry: a .det file, or five numbers "dd,xcen,ycen,xbet,xgam" (mm, px, px, deg, deg) —
    /// then the pixel size and frame come from --pixel-size/--frame, else from the image or --detector.
    #[arg(long, allow_hyphen_values = true)]
    calib: String,
    /// Pixel size (mm), with five numbers.
    #[arg(long)]
    pixel_size: Option<f64>,
    /// Frame ROWSxCOLS (e.g. 2048x2048), with five numbers.
    #[arg(long)]
    frame: Option<String>,
    /// Detector preset (MARCCD165, sCMOS, …): pixel size and frame with five numbers, CCDLabel of the .det.
    #[arg(long)]
    detector: Option<String>,
    /// Peak-search settings for an image: LaueTools .psp file.
    #[arg(long)]
    psp: Option<PathBuf>,
    /// Peak-search settings for an image: JSON of LaueTools PeakSearch keyword arguments.
    #[arg(long)]
    params: Option<PathBuf>,
    /// Peak search: IntensityThreshold (counts above background), overriding the settings'.
    #[arg(long)]
    threshold: Option<f64>,
    /// Detector parameters to keep at their start values, comma-separated (dd,xcen,ycen,xbet,xgam).
    #[arg(long, value_delimiter = ',')]
    fix: Vec<String>,
    /// Energy band, lower end (keV).
    #[arg(long, default_value_t = 5.0)]
    emin: f64,
    /// Energy band, upper end (keV).
    #[arg(long, default_value_t = 22.0)]
    emax: f64,
    /// Successive matching tolerances (deg), comma-separated; the last decides which spots count.
    #[arg(long, value_delimiter = ',')]
    tolerances: Vec<f64>,
    /// Do not try the coarse grid of starts when the given start fails.
    #[arg(long)]
    no_grid: bool,
    /// Output calibration (.det, LaueTools' layout).
    #[arg(short, long)]
    output: Option<PathBuf>,
    /// Overwrite an existing output file.
    #[arg(long)]
    force: bool,
    /// Print format: text or json (the report).
    #[arg(long, default_value = "text")]
    format: String,
    /// Frame of a multi-frame image (HDF5 stack, multi-page TIFF, multi-block EDF), from 0 (--frame is the
    /// frame size here). Without it a stack's frame 0 is read and a warning gives the frame count.
    #[arg(long, value_name = "N")]
    frame_index: Option<usize>,
}

fn read(p: &Path) -> Result<String> {
    super::input::read_text(p)
}

/// The start: a .det, or five numbers completed by pixel size and frame. Also the .det's CCDLabel.
fn start_calibration(
    a: &CalibrateArgs,
    image: Option<&lauekit::io::Frame>,
) -> Result<(Calibration, Option<String>)> {
    let as_path = Path::new(&a.calib);
    if as_path.is_file() {
        if a.pixel_size.is_some() || a.frame.is_some() {
            bail!("--pixel-size and --frame go with five numbers; {} has its own", a.calib);
        }
        let d = DetFile::parse(&read(as_path)?, &a.calib)?;
        return Ok((d.calibration, d.get("CCDLabel").map(str::to_string)));
    }
    let v: Vec<f64> =
        a.calib.split(',').map(|t| t.trim().parse::<f64>()).collect::<Result<_, _>>().map_err(|_| {
            anyhow::anyhow!("--calib {}: neither a file nor five numbers dd,xcen,ycen,xbet,xgam", a.calib)
        })?;
    let [dd, xcen, ycen, xbet, xgam] = v[..] else {
        bail!("--calib {}: give five numbers dd,xcen,ycen,xbet,xgam (found {})", a.calib, v.len());
    };
    let preset = match &a.detector {
        Some(name) => Some(
            DETECTORS
                .iter()
                .find(|d| d.0.eq_ignore_ascii_case(name))
                .with_context(|| format!("--detector {name}: not a known detector"))?,
        ),
        None => None,
    };
    let frame = match &a.frame {
        Some(f) => {
            let n: Vec<usize> = f
                .split(['x', 'X', ','])
                .map(|t| t.trim().parse::<usize>())
                .collect::<Result<_, _>>()
                .with_context(|| format!("--frame {f}: use ROWSxCOLS, e.g. 2048x2048"))?;
            let [r, c] = n[..] else { bail!("--frame {f}: use ROWSxCOLS, e.g. 2048x2048") };
            Some((r, c))
        }
        None => image.map(|f| (f.rows, f.cols)).or(preset.map(|d| (d.1, d.2))),
    };
    let pixel = a.pixel_size.or(image.and_then(|f| f.pixel_size_mm)).or(preset.map(|d| d.3));
    let (Some((rows, cols)), Some(pixel)) = (frame, pixel) else {
        bail!(
            "five numbers in --calib need --pixel-size and --frame ROWSxCOLS (or --detector, or an image that \
             tells them)"
        );
    };
    let c = Calibration {
        distance_mm: dd,
        xcen_px: xcen,
        ycen_px: ycen,
        xbet_deg: xbet,
        xgam_deg: xgam,
        pixel_size_mm: pixel,
        rows,
        cols,
    };
    Ok((c, None))
}

/// Peaks (x, y, intensity).
type Spots = Vec<(f64, f64, f64)>;

/// Peaks of the input, and the image when it is one.
fn input_spots(a: &CalibrateArgs) -> Result<(Spots, Option<lauekit::io::Frame>)> {
    let name = a.input.display().to_string();
    let ext = a.input.extension().and_then(|e| e.to_str()).unwrap_or("").to_ascii_lowercase();
    let peak_flags = a.psp.is_some() || a.params.is_some() || a.threshold.is_some();
    match ext.as_str() {
        "dat" | "cor" => {
            if peak_flags {
                bail!("{name}: --psp/--params/--threshold are for images, not peak lists");
            }
            let spots = if ext == "dat" {
                read_dat(&read(&a.input)?, &name)?.iter().map(|p| (p.x, p.y, p.intensity)).collect()
            } else {
                read_cor(&read(&a.input)?, &name)?.peaks.iter().map(|p| (p.x, p.y, p.intensity)).collect()
            };
            Ok((spots, None))
        }
        _ => {
            let mut p = match (&a.psp, &a.params) {
                (Some(_), Some(_)) => bail!("give --psp or --params, not both"),
                (Some(f), None) => PeakSearchParams::from_psp(&read(f)?, &f.display().to_string())?,
                (None, Some(f)) => PeakSearchParams::from_json(&read(f)?, &f.display().to_string())?,
                (None, None) => PeakSearchParams::default(),
            };
            if let Some(t) = a.threshold {
                p.intensity_threshold = t;
            }
            let p = p.validated()?;
            let frame = super::input::read_frame_flag(
                &a.input,
                a.detector.as_deref(),
                a.frame_index,
                "--frame-index",
            )?;
            let list = peak_search(&frame, &p).with_context(|| format!("{name}: peak search"))?;
            let spots = list.peaks.iter().map(|p| (p.x, p.y, p.intensity)).collect();
            Ok((spots, Some(frame)))
        }
    }
}

/// The run's files: inputs, and the .det it writes (refused over an input, over an existing file without
/// --force).
fn output_plan(a: &CalibrateArgs) -> Result<OutputPlan> {
    let mut plan = OutputPlan::new(Existing::RefuseUnlessForce(a.force));
    plan.input(&a.input).inputs(a.psp.iter()).inputs(a.params.iter());
    plan.inputs(a.material.files());
    if Path::new(&a.calib).exists() {
        plan.input(&a.calib);
    }
    if let Some(out) = &a.output {
        plan.output(out, OutputKind::Text)?;
    }
    Ok(plan)
}

/// UTC date and time "YYYY-MM-DD HH:MM:SS UTC" of now.
fn utc_now() -> String {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0);
    utc_string(secs)
}

fn ccd_label(
    start_label: Option<String>,
    a: &CalibrateArgs,
    frame: Option<&lauekit::io::Frame>,
    c: &Calibration,
) -> Option<String> {
    start_label.or_else(|| a.detector.clone()).or_else(|| frame.and_then(|f| f.detector.clone())).or_else(
        || {
            DETECTORS
                .iter()
                .find(|d| d.1 == c.rows && d.2 == c.cols && (d.3 - c.pixel_size_mm).abs() < 1e-9)
                .map(|d| d.0.to_string())
        },
    )
}

pub fn run(a: CalibrateArgs) -> Result<()> {
    if a.format != "text" && a.format != "json" {
        bail!("--format {}: use text or json", a.format);
    }
    let plan = output_plan(&a)?;
    let fixed: Vec<DetectorParam> = a
        .fix
        .iter()
        .filter(|s| !s.trim().is_empty())
        .map(|s| {
            DetectorParam::parse(s).map_err(|_| anyhow::anyhow!("--fix {s}: use dd, xcen, ycen, xbet, xgam"))
        })
        .collect::<Result<_>>()?;
    let (spots, frame) = input_spots(&a)?;
    let (start, start_label) = start_calibration(&a, frame.as_ref())?;
    if let Some(f) = &frame
        && (f.rows, f.cols) != (start.rows, start.cols)
    {
        bail!(
            "{}: the image is {}×{} (rows×cols) but the calibration's frame is {}×{}",
            a.input.display(),
            f.rows,
            f.cols,
            start.rows,
            start.cols
        );
    }
    let material = a.material.resolve_one("calibrate")?;
    let mut request = CalibrationRequest::new(MaterialSpec::from(&material), start);
    request.fixed = fixed;
    request.emin_kev = a.emin;
    request.emax_kev = a.emax;
    request.grid_search = !a.no_grid;
    if !a.tolerances.is_empty() {
        request.matching_tolerances_deg = a.tolerances.clone();
    }
    let report =
        calibrate(&spots, &request).with_context(|| format!("{}: calibration", a.input.display()))?;
    if let Some(out) = &a.output {
        let label = ccd_label(start_label, &a, frame.as_ref(), &report.calibration);
        let ub = report.ub_matrix();
        let record = DetRecord {
            material: &report.material,
            ub: &ub,
            n_spots: report.n_spots_used,
            rms_px: report.rms_px,
            ccd_label: label.as_deref(),
            source: &a.input.display().to_string(),
            when: &utc_now(),
        };
        let text = det_text(&report.calibration, &record);
        plan.stage(out, text.as_bytes())?;
    }
    plan.commit()?;
    if a.format == "json" {
        outln!("{}", serde_json::to_string_pretty(&report)?)?;
    } else {
        print_text(&report)?;
        if let Some(out) = &a.output {
            outln!("wrote {}", out.display())?;
        }
    }
    for w in &report.warnings {
        errln!("lauekit: warning: {w}");
    }
    Ok(())
}

fn print_text(r: &CalibrationReport) -> Result<()> {
    outln!(
        "{} calibration on {} peaks: {} spots used, rms {:.3} px (mean {:.3} px), matching rate {:.1} % \
         ({} simulated)",
        r.material,
        r.n_peaks,
        r.n_spots_used,
        r.rms_px,
        r.mean_residual_px,
        r.matching_rate,
        r.n_simulated
    )?;
    let got = r.calibration.params();
    let start = r.start.params();
    let sig = r.uncertainties.values();
    for p in DetectorParam::ALL {
        let i = p.index();
        let note =
            if r.fixed.contains(&p) { "  (fixed)".to_string() } else { format!("  (start {})", start[i]) };
        outln!("  {:<4} = {:>12.5} ± {:<9.5} {:<3}{note}", p.name(), got[i], sig[i], p.unit())?;
    }
    outln!(
        "  pixel size {} mm, frame {}×{} (rows×cols)",
        r.calibration.pixel_size_mm,
        r.calibration.rows,
        r.calibration.cols
    )?;
    outln!("orientation matrix UB (q = UB·B0·hkl):")?;
    for row in &r.ub {
        outln!("  [{:12.9} {:12.9} {:12.9}]", row[0], row[1], row[2])?;
    }
    outln!(
        "{} match/fit rounds, {} LM iterations, start {} of {} tried, {:.1} ms",
        r.history.len(),
        r.iterations,
        r.start_used,
        r.starts_tried,
        r.elapsed_ms
    )?;
    Ok(())
}
