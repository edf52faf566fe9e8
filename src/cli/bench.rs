//! `lauekit bench`: single-thread throughput of the library stages, printed as machine-readable lines.

use std::time::Instant;

use anyhow::{Result, bail};
use clap::Args;
use lauekit::crystal::Material;
use lauekit::geometry::Calibration;
use lauekit::simulate::{DetectorCut, Grain, SimulationSettings, pattern::simulate_into};
use nalgebra::Matrix3;

#[derive(Args, Debug)]
pub struct BenchArgs {
    /// What to measure: simulate, or peaks (with --image and --params).
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
    #[arg(long, default_value_t = 5.0)]
    emin: f64,
    #[arg(long, default_value_t = 22.0)]
    emax: f64,
    /// Minimum measuring time (s).
    #[arg(long, default_value_t = 2.0)]
    seconds: f64,
}

pub fn run(a: BenchArgs) -> Result<()> {
    match a.what.as_str() {
        "simulate" => {}
        "peaks" => return bench_peaks(&a),
        w => bail!("bench {w}: use simulate or peaks"),
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
    println!(
        "lauekit simulate material={} spots={} patterns={} seconds={:.3} us_per_pattern={:.2} patterns_per_s={:.0}",
        a.material,
        n_spots,
        n,
        dt,
        dt / n as f64 * 1e6,
        n as f64 / dt
    );
    Ok(())
}

fn bench_peaks(a: &BenchArgs) -> Result<()> {
    let (Some(image), Some(params)) = (&a.image, &a.params) else {
        bail!("bench peaks needs --image FILE and --params FILE.json");
    };
    let name = image.display().to_string();
    let p = lauekit::peaks::PeakSearchParams::from_json(
        &std::fs::read_to_string(params)?,
        &params.display().to_string(),
    )?;
    let once = || -> Result<usize> {
        let bytes = std::fs::read(image)?;
        let frame = lauekit::io::read_image(&bytes, &name, &Default::default())?;
        Ok(lauekit::peaks::peak_search(&frame, &p)?.peaks.len())
    };
    let n_peaks = once()?;
    let mut times = Vec::new();
    let start = Instant::now();
    while start.elapsed().as_secs_f64() < a.seconds || times.len() < 5 {
        let t = Instant::now();
        std::hint::black_box(once()?);
        times.push(t.elapsed().as_secs_f64());
    }
    times.sort_by(f64::total_cmp);
    println!(
        "lauekit peaks image={} peaks={} runs={} median_s={:.4} min_s={:.4}",
        image.file_name().map(|f| f.to_string_lossy().to_string()).unwrap_or_default(),
        n_peaks,
        times.len(),
        times[times.len() / 2],
        times[0]
    );
    Ok(())
}
