//! `lauekit bench`: single-thread throughput of the library stages, printed as machine-readable lines.

use std::time::Instant;

use anyhow::{Result, bail};
use clap::Args;
use lauekit::crystal::Material;
use lauekit::geometry::Calibration;
use lauekit::io::output::{Existing, OutputKind, OutputPlan};
use lauekit::simulate::{DetectorCut, Grain, SimulationSettings, pattern::simulate_into};
use nalgebra::Matrix3;

mod index_sim;

#[derive(Args, Debug)]
pub struct BenchArgs {
    /// What to measure: simulate, peaks (with --image and --params), peak-accuracy (peak positions
    /// on simulated images against the truth, over a sweep of noise levels), index, index-nn, index-grains
    /// (N-grain simulated peak lists, table and --model side by side), index-materials (one grain of every
    /// material on four detectors), characterize,
    /// refine (orientation + strain of one indexed grain) or calibrate (with --peaks .dat and --calib .det).
    what: String,
    /// peaks: the image (read and decoded in every iteration, as LaueTools does).
    #[arg(long)]
    image: Option<std::path::PathBuf>,
    /// peaks: JSON of LaueTools PeakSearch keyword arguments.
    #[arg(long)]
    params: Option<std::path::PathBuf>,
    /// Material from the table.
    #[arg(long, default_value = "Cu")]
    material: String,
    /// Orientation (LaueTools UB, 9 numbers row-major).
    #[arg(long, allow_hyphen_values = true, default_value = "1,0,0,0,1,0,0,0,1")]
    ub: String,
    #[arg(long, default_value_t = lauekit::pipeline::Band::default().emin_kev)]
    emin: f64,
    #[arg(long, default_value_t = lauekit::pipeline::Band::default().emax_kev)]
    emax: f64,
    /// index: the peak list (.dat with --calib, or .cor); characterize: a .dat.
    #[arg(long)]
    peaks: Option<std::path::PathBuf>,
    /// index: the calibration (.det).
    #[arg(long)]
    calib: Option<std::path::PathBuf>,
    /// index-nn: the model of `lauekit train-index` (MODEL.bpk + MODEL.json); characterize: spot-network
    /// weights (default: the shipped ones).
    #[arg(long)]
    model: Option<std::path::PathBuf>,
    /// index-nn: simulated images per grain count.
    #[arg(long, default_value_t = 200)]
    images: usize,
    /// index-nn: grain counts 1..=N; index-grains: --min-grains..=N.
    #[arg(long, default_value_t = 10)]
    max_grains: usize,
    /// index-grains: the smallest grain count.
    #[arg(long, default_value_t = 1)]
    min_grains: usize,
    /// index-materials: print every missed grain (what was found, what the truth explains) to stderr.
    #[arg(long)]
    verbose: bool,
    /// index-materials: grains per simulated image (1 to 10).
    #[arg(long, default_value_t = 1)]
    grains_per_image: usize,
    /// index-materials: also train a small LaueNN model per material and detector and index with it.
    #[arg(long)]
    nn: bool,
    /// index-materials: materials of the table, comma-separated, or all.
    #[arg(long, default_value = "all")]
    materials: String,
    /// index-nn: predict again after each grain (on the spots left) instead of once per image.
    #[arg(long)]
    repredict: bool,
    /// index-nn with --peaks (.dat/.cor) or --image (+ --params): LaueTools' .fit whose UB the grain is
    /// compared with.
    #[arg(long)]
    reference: Option<std::path::PathBuf>,
    /// index-nn: seed of the simulated images.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// refine: rotation (deg) applied to the indexed orientation (strain removed) to make the start.
    #[arg(long, default_value_t = 0.05)]
    perturb_deg: f64,
    /// refine: write the matched pairs (peak, hkl, pixel) and the start UB as JSON to this file, for
    /// scripts/lauetools_refine.py.
    #[arg(long)]
    pairs_out: Option<std::path::PathBuf>,
    /// calibrate: offsets of the second start from --calib: dd (mm), xcen and ycen (px), xbet and xgam (deg).
    #[arg(long, value_delimiter = ',', allow_hyphen_values = true, default_value = "2,30,0.5")]
    offset: Vec<f64>,
    /// Minimum measuring time (s).
    #[arg(long, default_value_t = 2.0)]
    seconds: f64,
}

pub fn run(a: BenchArgs) -> Result<()> {
    match a.what.as_str() {
        "simulate" => {}
        "peaks" => return bench_peaks(&a),
        "peak-accuracy" => return bench_peak_accuracy(),
        "index" => return bench_index(&a),
        "index-nn" => return bench_index_nn(&a),
        "index-grains" => return index_sim::bench_index_grains(&a),
        "index-materials" => return index_sim::bench_index_materials(&a),
        "characterize" => return bench_characterize(&a),
        "refine" => return bench_refine(&a),
        "calibrate" => return bench_calibrate(&a),
        w => bail!(
            "bench {w}: use simulate, peaks, peak-accuracy, index, index-nn, index-grains, index-materials, \
             characterize, refine or calibrate"
        ),
    }
    let v: Vec<f64> = a.ub.split(',').map(|t| t.trim().parse::<f64>()).collect::<Result<_, _>>()?;
    if v.len() != 9 {
        bail!("--ub needs 9 numbers");
    }
    let grain = Grain { material: Material::from_table(&a.material)?, ub: Matrix3::from_row_slice(&v) };
    // The same inputs as the LaueTools side of scripts/bench-simulate.sh.
    let settings = SimulationSettings {
        emin_kev: a.emin,
        emax_kev: a.emax,
        calibration: Calibration {
            distance_mm: 70.0,
            xcen_px: 1024.0,
            ycen_px: 1024.0,
            xbet_deg: 0.0,
            xgam_deg: 0.0,
            pixel_size_mm: 0.079142,
            rows: 2048,
            cols: 2048,
        },
        with_multiplicity: false,
        cut: DetectorCut::Frame,
    };
    let mut out = Vec::with_capacity(4096);
    // Warm-up.
    simulate_into(&grain, &settings, &mut out)?;
    let n_spots = out.len();
    let start = Instant::now();
    let mut n = 0u64;
    while start.elapsed().as_secs_f64() < a.seconds {
        for _ in 0..100 {
            out.clear();
            simulate_into(&grain, &settings, &mut out)?;
            std::hint::black_box(&out);
        }
        n += 100;
    }
    let dt = start.elapsed().as_secs_f64();
    outln!(
        "lauekit simulate material={} spots={} patterns={} seconds={:.3} us_per_pattern={:.2} patterns_per_s={:.0}",
        a.material,
        n_spots,
        n,
        dt,
        dt / n as f64 * 1e6,
        n as f64 / dt
    )?;
    Ok(())
}

/// `bench characterize`: per-spot time of the spot CNN (flex, one batch over all the image's spots,
/// cut-out extraction included; the shipped network and the paper's) against our Gaussian fit of the same 32 × 32 cut-outs, at the ground
/// truth's tolerance (xtol 1e-6) and at LaueTools' (xtol 1e-3). Peaks: --peaks .dat or the search of
/// --params.
fn bench_characterize(a: &BenchArgs) -> Result<()> {
    use lauekit::peaks::fit::{Profile, ThetaDerivative, fit_box};
    use lauekit::spotnet::{GoodSpotCriteria, characterize, extract_cutout, fit_truth};
    let Some(image) = &a.image else {
        bail!("bench characterize needs --image FILE (and --params or --peaks)")
    };
    let frame = super::characterize::read_frame(image, None)?;
    let spots = super::characterize::peak_positions(&frame, a.peaks.as_deref(), a.params.as_deref())?;
    if spots.is_empty() {
        bail!("{}: no peaks to characterise", image.display());
    }
    let device = burn::tensor::Device::flex();
    let net = super::characterize::network(a.model.as_deref(), &device)?;
    let crit = GoodSpotCriteria::default();
    let time = |f: &mut dyn FnMut()| -> f64 {
        f();
        let mut t = Vec::new();
        let start = Instant::now();
        while start.elapsed().as_secs_f64() < a.seconds || t.len() < 3 {
            let s = Instant::now();
            f();
            t.push(s.elapsed().as_secs_f64());
        }
        t.sort_by(f64::total_cmp);
        t[t.len() / 2]
    };
    let cnn = time(&mut || {
        std::hint::black_box(characterize(&frame, &spots, &net, &device, &crit));
    });
    // The paper's network (32/64/128 channels on the 32 × 32 cut-out) on the same batch, for comparison:
    // random weights cost the same as trained ones.
    let paper = lauekit::spotnet::SpotNetConfig::paper().init(&device);
    let cnn_paper = time(&mut || {
        std::hint::black_box(characterize(&frame, &spots, &paper, &device, &crit));
    });
    let fit_truth_s = time(&mut || {
        for &(x, y) in &spots {
            std::hint::black_box(fit_truth(&extract_cutout(&frame, x, y), 65535.0));
        }
    });
    let fit_lt = time(&mut || {
        for &(x, y) in &spots {
            let c = extract_cutout(&frame, x, y);
            std::hint::black_box(fit_box(
                &c.counts,
                32,
                Profile::Gaussian,
                ThetaDerivative::LaueTools,
                1e-3,
                65535.0,
            ));
        }
    });
    let n = spots.len() as f64;
    outln!(
        "lauekit characterize image={} spots={} cnn_ms_per_spot={:.4} paper_cnn_ms_per_spot={:.4} fit_xtol1e-6_ms_per_spot={:.4} fit_xtol1e-3_ms_per_spot={:.4}",
        image.file_name().map(|f| f.to_string_lossy().to_string()).unwrap_or_default(),
        spots.len(),
        cnn / n * 1e3,
        cnn_paper / n * 1e3,
        fit_truth_s / n * 1e3,
        fit_lt / n * 1e3
    )?;
    Ok(())
}

fn bench_peaks(a: &BenchArgs) -> Result<()> {
    let (Some(image), Some(params)) = (&a.image, &a.params) else {
        bail!("bench peaks needs --image FILE and --params FILE.json");
    };
    let p = lauekit::peaks::PeakSearchParams::from_json(
        &std::fs::read_to_string(params)?,
        &params.display().to_string(),
    )?;
    // The path `lauekit peaks` takes for every image: read (into the worker's reused buffer), decode, search.
    let once = || -> Result<usize> { Ok(super::peaks::search_one(image, &p, None)?.0.peaks.len()) };
    let n_peaks = once()?;
    let mut times = Vec::new();
    let start = Instant::now();
    while start.elapsed().as_secs_f64() < a.seconds || times.len() < 5 {
        let t = Instant::now();
        std::hint::black_box(once()?);
        times.push(t.elapsed().as_secs_f64());
    }
    times.sort_by(f64::total_cmp);
    outln!(
        "lauekit peaks image={} peaks={} runs={} median_s={:.4} min_s={:.4}",
        image.file_name().map(|f| f.to_string_lossy().to_string()).unwrap_or_default(),
        n_peaks,
        times.len(),
        times[times.len() / 2],
        times[0]
    )?;
    Ok(())
}

/// `bench peak-accuracy`: Ge patterns rendered with the Ge_blanc calibration on a MarCCD-like 2048 × 2048
/// frame (4 orientations per row, amplitudes spread over two decades), searched with Ge_blanc's
/// peaksearch.json (threshold raised to 8 σ of the background noise), matched to the drawn positions.
/// Errors are measured on isolated spots (no visible neighbour within 30 px) on the active area.
fn bench_peak_accuracy() -> Result<()> {
    use lauekit::simulate::{ImageModel, SpotShape, render_image, simulate_grain};

    // calibGe111.det of ../shared/data/real/Ge_blanc.
    let calibration = Calibration {
        distance_mm: 70.775,
        xcen_px: 941.74,
        ycen_px: 1082.56,
        xbet_deg: 0.63,
        xgam_deg: -0.682,
        pixel_size_mm: 0.079142,
        rows: 2048,
        cols: 2048,
    };
    let material = Material::from_table("Ge")?;
    let settings = SimulationSettings {
        emin_kev: lauekit::pipeline::Band::default().emin_kev,
        emax_kev: lauekit::pipeline::Band::default().emax_kev,
        calibration,
        with_multiplicity: false,
        cut: DetectorCut::Frame,
    };
    let eulers = [[10.0, 20.0, 30.0], [47.0, 61.0, 113.0], [133.0, 37.0, 251.0], [201.0, 83.0, 17.0]];
    // (spot σ px, flat background, peak counts of the brightest fundamental at the spectrum maximum)
    let mut levels: Vec<(f64, f64, f64)> =
        [10.0, 30.0, 100.0, 300.0, 1000.0, 3000.0, 10_000.0].iter().map(|&b| (1.2, b, 5000.0)).collect();
    levels.extend([(0.8, 300.0, 5000.0), (2.0, 300.0, 5000.0), (1.2, 300.0, 1000.0)]);
    outln!(
        "| spot σ px | peak counts | background | noise σ | threshold | isolated spots | found ≤ 1 px | \
         found, SNR ≥ 20 | false pos. | median err px | p90 err px | median err (n) SNR < 20 / 20–100 / ≥ 100 |"
    )?;
    outln!("|---|---|---|---|---|---|---|---|---|---|---|---|")?;
    for (sigma, background, peak_counts) in levels {
        let model_for = |seed: u64| ImageModel {
            shape: SpotShape::Gaussian { sigma_px: sigma },
            peak_counts,
            intensity_log_sigma: 1.0,
            background,
            background_hump: background / 3.0,
            hump_sigma_px: 600.0,
            gain: 1.0,
            read_noise: 4.0,
            poisson: true,
            circular_mask: true,
            seed,
            xcen_px: calibration.xcen_px,
            ycen_px: calibration.ycen_px,
            ..ImageModel::default()
        };
        let m0 = model_for(0);
        let noise = ((m0.background + m0.background_hump) * m0.gain + m0.read_noise * m0.read_noise).sqrt();
        let params = lauekit::peaks::PeakSearchParams {
            intensity_threshold: (8.0 * noise).round().max(50.0),
            pixel_near_radius: 10,
            boxsize: 15,
            xtol: 0.001,
            fit_pixel_dev: 6.0,
            saturation_value: 65534.0,
            saturation_value_flatpeak: 65534.0,
            peak_size_range: (0.4, 3.0),
            ..Default::default()
        };
        let mut total = AccuracyOutcome::default();
        for (k, euler) in eulers.iter().enumerate() {
            let model = model_for(k as u64 + 1);
            let grain = Grain { material: material.clone(), ub: lauekit::geometry::euler_to_matrix(*euler) };
            let spots = simulate_grain(&grain, &settings)?;
            let lattice = material.lattice;
            let img = render_image(&spots, |h| lattice.d_spacing(h), 2048, 2048, &model)?;
            let frame = lauekit::io::Frame {
                rows: img.rows,
                cols: img.cols,
                pixels: lauekit::io::Pixels::U16(img.pixels),
                mask: None,
                detector: Some("MARCCD165".into()),
                pixel_size_mm: Some(calibration.pixel_size_mm),
                metadata: Default::default(),
                source: format!("synthetic Ge {euler:?}"),
            };
            let found = lauekit::peaks::peak_search(&frame, &params)?.peaks;
            let o = accuracy(&found, &img.truth, &model, 2048, 2048, params.boxsize as f64);
            total.evaluated += o.evaluated;
            total.clear += o.clear;
            total.clear_found += o.clear_found;
            total.false_positives += o.false_positives;
            total.errors.extend(o.errors);
        }
        let all: Vec<f64> = total.errors.iter().map(|e| e.0).collect();
        let band = |lo: f64, hi: f64| {
            let v: Vec<f64> = total.errors.iter().filter(|e| e.1 >= lo && e.1 < hi).map(|e| e.0).collect();
            if v.is_empty() { "–".to_string() } else { format!("{:.3} ({})", quantile(&v, 0.5), v.len()) }
        };
        outln!(
            "| {sigma} | {peak_counts} | {background} | {noise:.1} | {} | {} | {} | {}/{} | {} | {} | {} | {} / {} / {} |",
            params.intensity_threshold,
            total.evaluated,
            all.len(),
            total.clear_found,
            total.clear,
            total.false_positives,
            if all.is_empty() { "–".into() } else { format!("{:.4}", quantile(&all, 0.5)) },
            if all.is_empty() { "–".into() } else { format!("{:.4}", quantile(&all, 0.9)) },
            band(0.0, 20.0),
            band(20.0, 100.0),
            band(100.0, f64::INFINITY),
        )?;
    }
    Ok(())
}

#[derive(Default)]
struct AccuracyOutcome {
    /// isolated true spots on the active area, below saturation
    evaluated: usize,
    /// of those, SNR ≥ 20, and how many were found within 1 px
    clear: usize,
    clear_found: usize,
    /// found peaks farther than 1.5 px from every true spot
    false_positives: usize,
    /// (distance to the nearest found peak ≤ 1 px, SNR) of the matched spots
    errors: Vec<(f64, f64)>,
}

/// Matches found peaks to the drawn spots (harmonics on one ray merged); SNR = amplitude / background
/// noise at the spot. Both lists are in LaueTools' pixel convention.
fn accuracy(
    found: &[lauekit::peaks::Peak],
    truth: &[lauekit::simulate::image::TrueSpot],
    m: &lauekit::simulate::ImageModel,
    rows: usize,
    cols: usize,
    boxsize: f64,
) -> AccuracyOutcome {
    let mut merged: Vec<(f64, f64, f64)> = Vec::new();
    for t in truth {
        match merged.iter_mut().find(|u| (u.0 - t.x_px).hypot(u.1 - t.y_px) < 0.01) {
            Some(u) => u.2 += t.amplitude,
            None => merged.push((t.x_px, t.y_px, t.amplitude)),
        }
    }
    let background = |x: f64, y: f64| {
        let d2 = (x - m.xcen_px).powi(2) + (y - m.ycen_px).powi(2);
        let bg = m.background + m.background_hump * (-d2 / (2.0 * m.hump_sigma_px.powi(2))).exp();
        (bg, (bg * m.gain + m.read_noise * m.read_noise).sqrt())
    };
    let visible = 3.0 * background(m.xcen_px, m.ycen_px).1;
    let origin = lauekit::simulate::image::PIXEL_ORIGIN;
    let disc = rows.min(cols) as f64 / 2.0 - 15.0;
    let mut out = AccuracyOutcome::default();
    for (i, &(x, y, amp)) in merged.iter().enumerate() {
        let (r, c) = (y - origin, x - origin);
        let edge = boxsize + 1.0;
        let inside = r >= edge
            && c >= edge
            && r <= rows as f64 - edge - 1.0
            && c <= cols as f64 - edge - 1.0
            && (r - rows as f64 / 2.0).hypot(c - cols as f64 / 2.0) < disc - 3.0;
        let isolated = merged
            .iter()
            .enumerate()
            .all(|(j, u)| j == i || u.2 < visible || (u.0 - x).hypot(u.1 - y) > 2.0 * boxsize);
        let (bg, noise) = background(x, y);
        if !inside || !isolated || amp + bg >= 60_000.0 {
            continue;
        }
        out.evaluated += 1;
        let snr = amp / noise;
        let nearest =
            found.iter().map(|p| (p.x - x).hypot(p.y - y)).min_by(f64::total_cmp).unwrap_or(f64::INFINITY);
        if nearest <= 1.0 {
            out.errors.push((nearest, snr));
        }
        if snr >= 20.0 {
            out.clear += 1;
            out.clear_found += usize::from(nearest <= 1.0);
        }
    }
    out.false_positives =
        found.iter().filter(|p| merged.iter().all(|t| (p.x - t.0).hypot(p.y - t.1) > 1.5)).count();
    out
}

fn quantile(v: &[f64], q: f64) -> f64 {
    let mut s = v.to_vec();
    s.sort_by(f64::total_cmp);
    s[((s.len() - 1) as f64 * q).round() as usize]
}

/// Classical indexing of one peak list, single thread, reading the files in every run as LaueTools' side does:
/// median seconds over ≥ 5 runs and `--seconds`.
fn bench_index(a: &BenchArgs) -> Result<()> {
    use lauekit::index::{Experiment, IndexSettings, index_spots, spots_from_cor, spots_from_peaks};
    let Some(peaks) = &a.peaks else { bail!("bench index needs --peaks FILE.dat|FILE.cor") };
    let materials: Vec<Material> =
        a.material.split(',').map(|m| Material::from_table(m.trim())).collect::<Result<_, _>>()?;
    let once = || -> Result<(usize, usize, f64)> {
        let name = peaks.display().to_string();
        let text = std::fs::read_to_string(peaks)?;
        let (spots, calibration) = if name.ends_with(".cor") {
            let cor = lauekit::io::peaklist::read_cor(&text, &name)?;
            (spots_from_cor(&cor), cor.calibration(&name)?)
        } else {
            let Some(c) = &a.calib else { bail!("a .dat needs --calib FILE.det") };
            let det = lauekit::io::DetFile::parse(&std::fs::read_to_string(c)?, &c.display().to_string())?;
            (
                spots_from_peaks(&lauekit::io::peaklist::read_dat(&text, &name)?, &det.calibration),
                det.calibration,
            )
        };
        let exp = Experiment { calibration, emin_kev: a.emin, emax_kev: a.emax };
        let r = index_spots(&spots, &materials, &exp, &IndexSettings::default())?;
        let g = r.grains.first().map_or((0, 0.0), |g| (g.spots.len(), g.matching_rate));
        Ok((spots.len(), g.0, g.1))
    };
    once()?;
    let start = Instant::now();
    let mut times = Vec::new();
    let mut last = (0, 0, 0.0);
    while times.len() < 5 || start.elapsed().as_secs_f64() < a.seconds {
        let t = Instant::now();
        last = once()?;
        times.push(t.elapsed().as_secs_f64());
    }
    times.sort_by(f64::total_cmp);
    outln!(
        "lauekit index peaks={} spots={} indexed={} matching_rate={:.1} runs={} median_s={:.6}",
        peaks.display(),
        last.0,
        last.1,
        last.2,
        times.len(),
        times[times.len() / 2]
    )?;
    Ok(())
}

/// `bench index-nn`: LaueNN indexing of simulated multi-grain images (new random orientations of the model's
/// materials, the training realism): per grain count, the share of grains recovered within 0.1° (and by
/// which method), the share of their matched spots with the true hkl, and the time per image (prediction +
/// orientations + refinement, on this thread; the network's forward pass alone timed apart).
fn bench_index_nn(a: &BenchArgs) -> Result<()> {
    use lauekit::geometry::misorientation_deg;
    use lauekit::index::nn::{HklModel, Realism, simulate_image};
    use lauekit::index::{Experiment, ExperimentalSpot, IndexSettings, Method, index_with_model};
    use rand::{Rng, SeedableRng};
    let Some(mp) = &a.model else { bail!("bench index-nn needs --model MODEL") };
    let Some(c) = &a.calib else { bail!("bench index-nn needs --calib FILE.det") };
    let calibration =
        lauekit::io::DetFile::parse(&std::fs::read_to_string(c)?, &c.display().to_string())?.calibration;
    let (w, j) = (mp.with_extension("bpk"), mp.with_extension("json"));
    let model = HklModel::from_named_bytes(
        &std::fs::read(&w)?,
        &w.display().to_string(),
        &std::fs::read_to_string(&j)?,
        &j.display().to_string(),
        &lauekit::device::cpu().device,
    )?;
    let mats = model.meta.materials.clone();
    if a.peaks.is_some() || a.image.is_some() {
        return bench_index_nn_real(a, &model, &calibration);
    }
    let syms: Vec<Vec<Matrix3<f64>>> =
        mats.iter().map(|m| m.laue_group.rotations(&m.lattice)).collect::<lauekit::error::Result<_>>()?;
    let exp = Experiment { calibration, emin_kev: model.meta.emin_kev, emax_kev: model.meta.emax_kev };
    let sim = SimulationSettings {
        emin_kev: exp.emin_kev,
        emax_kev: exp.emax_kev,
        calibration,
        with_multiplicity: false,
        cut: DetectorCut::Frame,
    };
    let realism = Realism::default();
    outln!(
        "| grains | images | grains recovered ≤ 0.1° | by nn / lut | matched spots with the true hkl | \
         false grains | median ms / image | p90 ms | of which network (median ms) |"
    )?;
    outln!("|---|---|---|---|---|---|---|---|---|")?;
    for k in 1..=a.max_grains {
        let settings =
            IndexSettings { nbgrainstofind: k, nn_repredict: a.repredict, ..IndexSettings::default() };
        let (mut recovered, mut by_nn, mut by_lut, mut false_grains) = (0usize, 0usize, 0usize, 0usize);
        let (mut spots_right, mut spots_matched) = (0usize, 0usize);
        let (mut times, mut predict_times) = (Vec::new(), Vec::new());
        for i in 0..a.images {
            let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(a.seed ^ ((k as u64) << 32) ^ i as u64);
            let truth: Vec<(usize, Matrix3<f64>)> = (0..k)
                .map(|_| {
                    (
                        rng.random_range(0..mats.len()),
                        lauekit::geometry::orientation::random_rotation(&mut rng),
                    )
                })
                .collect();
            let sims = simulate_image(&mats, &truth, &sim, &realism, &mut rng)?;
            let spots: Vec<ExperimentalSpot> = sims
                .iter()
                .map(|s| ExperimentalSpot::from_pixel(s.x_px, s.y_px, s.intensity, &calibration))
                .collect();
            let t = Instant::now();
            model.predict_spots(&spots)?;
            predict_times.push(t.elapsed().as_secs_f64());
            let t = Instant::now();
            let r = index_with_model(&spots, &mats, &model, &exp, &settings)?;
            times.push(t.elapsed().as_secs_f64());
            let mut used = vec![false; truth.len()];
            for g in &r.grains {
                let mi = mats.iter().position(|m| m.name == g.material).unwrap_or(0);
                let hit = truth.iter().enumerate().find(|(t, (tm, u))| {
                    !used[*t] && *tm == mi && misorientation_deg(u, &g.ub, &syms[mi]) <= 0.1
                });
                let Some((t, (_, u))) = hit else {
                    false_grains += 1;
                    continue;
                };
                used[t] = true;
                recovered += 1;
                match g.method {
                    Method::Nn => by_nn += 1,
                    Method::Lut | Method::Guess | Method::Delegate => by_lut += 1,
                }
                let (r_, m_) = hkl_agreement(g, u, &sims, t);
                spots_right += r_;
                spots_matched += m_;
            }
        }
        times.sort_by(f64::total_cmp);
        predict_times.sort_by(f64::total_cmp);
        let n = k * a.images;
        outln!(
            "| {k} | {} | {:.1} % ({recovered}/{n}) | {by_nn} / {by_lut} | {:.2} % ({spots_right}/{spots_matched}) | {false_grains} | {:.1} | {:.1} | {:.1} |",
            a.images,
            100.0 * recovered as f64 / n as f64,
            100.0 * spots_right as f64 / spots_matched.max(1) as f64,
            1e3 * times[times.len() / 2],
            1e3 * times[(times.len() * 9) / 10],
            1e3 * predict_times[predict_times.len() / 2],
        )?;
    }
    Ok(())
}

/// Of a found grain's matched spots: how many are spots of the true grain `t` with the true hkl (the found
/// hkl carried into the true grain's frame through the found and true orientations, so symmetry-equivalent
/// settings count as right), and how many were matched.
pub fn hkl_agreement(
    g: &lauekit::index::IndexedGrain,
    u_true: &Matrix3<f64>,
    sims: &[lauekit::index::nn::SimSpot],
    t: usize,
) -> (usize, usize) {
    let Some(b0_inv) = g.b0.try_inverse() else { return (0, g.spots.len()) };
    let to_true = b0_inv * u_true.transpose() * g.ub * g.b0;
    let right = g
        .spots
        .iter()
        .filter(|s| {
            let sp = &sims[s.peak];
            let h = to_true * nalgebra::Vector3::new(s.hkl[0] as f64, s.hkl[1] as f64, s.hkl[2] as f64);
            let h = [h.x.round() as i32, h.y.round() as i32, h.z.round() as i32];
            sp.grain == t && h == sp.hkl
        })
        .count();
    (right, g.spots.len())
}

/// `bench index-nn` on a real peak list or image: the grains, spots indexed, the misorientation to a
/// LaueTools `.fit` (`--reference`) and the median time of `index_with_model` (prediction + orientations +
/// refinement; the peak search not included).
fn bench_index_nn_real(
    a: &BenchArgs,
    model: &lauekit::index::nn::HklModel,
    calibration: &Calibration,
) -> Result<()> {
    use lauekit::index::{
        Experiment, IndexSettings, index_spots, index_with_model, spots_from_cor, spots_from_peaks,
    };
    let (spots, calibration, source) = if let Some(p) = &a.peaks {
        let name = p.display().to_string();
        let text = std::fs::read_to_string(p)?;
        if name.ends_with(".cor") {
            let cor = lauekit::io::peaklist::read_cor(&text, &name)?;
            (spots_from_cor(&cor), cor.calibration(&name)?, name)
        } else {
            (
                spots_from_peaks(&lauekit::io::peaklist::read_dat(&text, &name)?, calibration),
                *calibration,
                name,
            )
        }
    } else {
        let Some(img) = &a.image else { bail!("--peaks or --image") };
        let name = img.display().to_string();
        let params = match &a.params {
            Some(p) => lauekit::peaks::PeakSearchParams::from_json(
                &std::fs::read_to_string(p)?,
                &p.display().to_string(),
            )?,
            None => lauekit::peaks::PeakSearchParams::default(),
        };
        let frame =
            lauekit::io::read_image(&std::fs::read(img)?, &name, &lauekit::io::ReadOptions::default())?;
        let list = lauekit::peaks::peak_search(&frame, &params)?;
        (spots_from_peaks(&list.peaks, calibration), *calibration, name)
    };
    let materials = model.meta.materials.clone();
    let exp = Experiment { calibration, emin_kev: a.emin, emax_kev: a.emax };
    let settings = IndexSettings::default();
    let reference = match &a.reference {
        Some(f) => {
            Some(lauekit::io::fit::FitFile::parse(&std::fs::read_to_string(f)?, &f.display().to_string())?.ub)
        }
        None => None,
    };
    let time =
        |f: &dyn Fn() -> Result<lauekit::index::IndexResult>| -> Result<(lauekit::index::IndexResult, f64)> {
            let r = f()?;
            let start = Instant::now();
            let mut times = Vec::new();
            while times.len() < 5 || start.elapsed().as_secs_f64() < a.seconds {
                let t = Instant::now();
                f()?;
                times.push(t.elapsed().as_secs_f64());
            }
            times.sort_by(f64::total_cmp);
            Ok((r, times[times.len() / 2]))
        };
    let (nn, t_nn) = time(&|| Ok(index_with_model(&spots, &materials, model, &exp, &settings)?))?;
    let (_, t_lut) = time(&|| Ok(index_spots(&spots, &materials, &exp, &settings)?))?;
    for g in &nn.grains {
        let mi = materials.iter().position(|m| m.name == g.material).unwrap_or(0);
        let sym = materials[mi].laue_group.rotations(&materials[mi].lattice)?;
        let mis = reference.map(|r| lauekit::geometry::misorientation_deg(&g.ub, &r, &sym));
        outln!(
            "lauekit index-nn source={source} spots={} material={} method={} indexed={} matching_rate={:.1} \
             misorientation_deg={} median_s={t_nn:.6} lut_median_s={t_lut:.6}",
            spots.len(),
            g.material,
            g.method.name(),
            g.spots.len(),
            g.matching_rate,
            mis.map_or("-".into(), |m| format!("{m:.5}")),
        )?;
    }
    if nn.grains.is_empty() {
        outln!("lauekit index-nn source={source} spots={} no grain", spots.len())?;
    }
    Ok(())
}

/// Median seconds of `f` over ≥ 5 runs and at least `seconds` (one warm-up run first), and the run count.
fn median_time(seconds: f64, f: &mut dyn FnMut() -> Result<()>) -> Result<(f64, usize)> {
    f()?;
    let start = Instant::now();
    let mut times = Vec::new();
    while times.len() < 5 || start.elapsed().as_secs_f64() < seconds {
        let t = Instant::now();
        f()?;
        times.push(t.elapsed().as_secs_f64());
    }
    times.sort_by(f64::total_cmp);
    Ok((times[times.len() / 2], times.len()))
}

/// The peak list (.dat) and calibration (.det) of `bench refine` / `bench calibrate`.
fn dat_and_det(a: &BenchArgs, what: &str) -> Result<(Vec<lauekit::peaks::Peak>, lauekit::io::DetFile)> {
    let (Some(p), Some(c)) = (&a.peaks, &a.calib) else {
        bail!("bench {what} needs --peaks FILE.dat and --calib FILE.det")
    };
    let name = p.display().to_string();
    let peaks = lauekit::io::peaklist::read_dat(&std::fs::read_to_string(p)?, &name)?;
    let det = lauekit::io::DetFile::parse(&std::fs::read_to_string(c)?, &c.display().to_string())?;
    Ok((peaks, det))
}

fn joined(v: impl IntoIterator<Item = f64>, decimals: usize) -> String {
    v.into_iter().map(|x| format!("{x:.decimals$}")).collect::<Vec<_>>().join(",")
}

/// `bench refine`: orientation + deviatoric-strain refinement (8 parameters, `index::refine::refine_ub`) of
/// one grain on its matched spots, calibration fixed. The grain is indexed once, outside the timing; the
/// start is its orientation with the strain removed (nearest rotation) turned by `--perturb-deg` about the
/// fixed axis (1, 2, 3)/√14, so that every run refines the same 8 parameters from the same start.
fn bench_refine(a: &BenchArgs) -> Result<()> {
    use lauekit::index::refine::{deviatoric_strain_crystal, refine_ub};
    use lauekit::index::{Experiment, IndexSettings, index_spots, spots_from_peaks};
    use nalgebra::{Rotation3, Unit, Vector3};
    let (peaks, det) = dat_and_det(a, "refine")?;
    let material = Material::from_table(&a.material)?;
    let exp = Experiment { calibration: det.calibration, emin_kev: a.emin, emax_kev: a.emax };
    let spots = spots_from_peaks(&peaks, &exp.calibration);
    let r = index_spots(&spots, std::slice::from_ref(&material), &exp, &IndexSettings::default())?;
    let Some(grain) = r.grains.first() else { bail!("bench refine: the peak list was not indexed") };
    let axis = Unit::new_normalize(Vector3::new(1.0, 2.0, 3.0));
    let turn = Rotation3::from_axis_angle(&axis, a.perturb_deg.to_radians()).into_inner();
    let start = turn * lauekit::geometry::orientation::nearest_rotation(&grain.ub);
    let b0 = material.lattice.b0();
    let once = || refine_ub(&start, &b0, &exp, &spots, &grain.spots, true);
    let Some(refined) = once() else { bail!("bench refine: too few matched spots ({})", grain.spots.len()) };
    let (median, runs) = median_time(a.seconds, &mut || {
        std::hint::black_box(once());
        Ok(())
    })?;
    let eps = deviatoric_strain_crystal(&refined.ub, &b0) * 1e3;
    let row = |m: &Matrix3<f64>| -> Vec<f64> { m.transpose().iter().copied().collect() };
    if let Some(out) = &a.pairs_out {
        let pairs: Vec<serde_json::Value> = grain
            .spots
            .iter()
            .map(|m| {
                serde_json::json!({"peak": m.peak, "hkl": m.hkl, "x": spots[m.peak].x_px, "y": spots[m.peak].y_px})
            })
            .collect();
        let j = serde_json::json!({"start_ub": row(&start), "pairs": pairs});
        let mut plan = OutputPlan::new(Existing::Replace);
        plan.inputs([&a.peaks, &a.calib, &a.image, &a.params, &a.reference].into_iter().flatten());
        plan.output(out, OutputKind::Text)?;
        plan.stage(out, serde_json::to_string(&j)?.as_bytes())?;
        plan.commit()?;
    }
    outln!(
        "lauekit refine peaks={} spots={} pairs={} start=indexed_rotation_turned_{}deg runs={runs} median_s={median:.7} \
         rms_px={:.7} devstrain_1e3_xx_yy_zz_xy_xz_yz={} ub={} start_ub={}",
        a.peaks.as_ref().map(|p| p.display().to_string()).unwrap_or_default(),
        spots.len(),
        grain.spots.len(),
        a.perturb_deg,
        refined.rms_px,
        joined([eps[(0, 0)], eps[(1, 1)], eps[(2, 2)], eps[(0, 1)], eps[(0, 2)], eps[(1, 2)]], 5),
        joined(row(&refined.ub), 9),
        joined(row(&start), 12),
    )?;
    Ok(())
}

/// `bench calibrate`: `refine::calibrate` (index at the start geometry, then match/fit rounds through the
/// tolerances) on the peak list, from the `--calib` calibration and from it shifted by `--offset`.
fn bench_calibrate(a: &BenchArgs) -> Result<()> {
    use lauekit::refine::{CalibrationRequest, calibrate};
    let (peaks, det) = dat_and_det(a, "calibrate")?;
    let [dd, dx, db] = match a.offset.as_slice() {
        [dd, dx, db] => [*dd, *dx, *db],
        _ => bail!("--offset needs 3 numbers: mm, px, deg"),
    };
    let spots: Vec<(f64, f64, f64)> = peaks.iter().map(|p| (p.x, p.y, p.intensity)).collect();
    let c = det.calibration;
    let shifted = Calibration {
        distance_mm: c.distance_mm + dd,
        xcen_px: c.xcen_px + dx,
        ycen_px: c.ycen_px + dx,
        xbet_deg: c.xbet_deg + db,
        xgam_deg: c.xgam_deg + db,
        ..c
    };
    for (name, start) in [("det", c), ("offset", shifted)] {
        let request = CalibrationRequest {
            emin_kev: a.emin,
            emax_kev: a.emax,
            ..CalibrationRequest::new(&a.material, start)
        };
        let report = calibrate(&spots, &request)?;
        let (median, runs) = median_time(a.seconds, &mut || {
            std::hint::black_box(calibrate(&spots, &request)?);
            Ok(())
        })?;
        // The fit alone, as LaueTools' fit_on_demand_calibration does it: one least-squares fit of the 5
        // detector parameters + 3 rotations from the start, on fixed pairs (those of the report), the crystal
        // at the orientation found.
        let ub = report.ub_matrix();
        let pairs: Vec<(usize, [i32; 3])> = report.spots.iter().map(|m| (m.peak, m.hkl)).collect();
        let fit = || lauekit::refine::calibration::fit_on_pairs(&spots, &pairs, &ub, &request);
        let Some((f, _, _)) = fit()? else { bail!("bench calibrate: the fit on fixed pairs failed") };
        let (fit_median, fit_runs) = median_time(a.seconds, &mut || {
            std::hint::black_box(fit()?);
            Ok(())
        })?;
        outln!(
            "lauekit calibrate start={name} start_params={} peaks={} spots_used={} starts_tried={} \
             iterations={} runs={runs} median_s={median:.6} rms_px={:.6} params={} fit_runs={fit_runs} \
             fit_median_s={fit_median:.7} fit_iterations={} fit_rms_px={:.6} fit_params={}",
            joined(start.params(), 4),
            spots.len(),
            report.n_spots_used,
            report.starts_tried,
            report.iterations,
            report.rms_px,
            joined(report.calibration.params(), 5),
            f.iterations,
            (f.cost / report.spots.len().max(1) as f64).sqrt(),
            joined(f.params[..5].iter().copied(), 5),
        )?;
    }
    Ok(())
}
