//! `lauekit simulate`: LaueTools-compatible pattern simulation.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use clap::Args;
use lauekit::crystal::Material;
use lauekit::geometry::{Calibration, euler_to_matrix};
use lauekit::io::output::{Existing, OutputKind, OutputPlan};
use lauekit::io::{DetFile, FitFile};
use lauekit::simulate::{
    DetectorCut, Grain, ImageModel, SimulationSettings, Spot, SpotShape, render_image, simulate_grains,
};
use nalgebra::Matrix3;

#[derive(Args, Debug)]
pub struct SimulateArgs {
    /// The crystal: a table or --materials name, or --lattice with --spacegroup/--extinction (default: the
    /// --fit file's material).
    #[command(flatten)]
    material: super::pipeline_args::MaterialArgs,
    /// Detector calibration: dd,xcen,ycen,xbet,xgam (mm, px, px, deg, deg) or a LaueTools .det file.
    #[arg(long, allow_hyphen_values = true)]
    calib: Option<String>,
    /// Pixel size (mm); taken from the .det file when --calib is one.
    #[arg(long)]
    pixel_size: Option<f64>,
    /// Frame ROWSxCOLS (LaueTools framedim), e.g. 2048x2048 or 2018x2016.
    #[arg(long)]
    frame: Option<String>,
    /// Orientation as LaueTools' "UB matrix in q = (UB) B0 G*": 9 numbers, row-major. Repeat for more grains.
    #[arg(long, allow_hyphen_values = true)]
    ub: Vec<String>,
    /// Orientation as LaueTools Euler angles phi,theta,psi (deg). Repeat for more grains.
    #[arg(long, allow_hyphen_values = true)]
    euler: Vec<String>,
    /// Take UB (and calibration, material, unless given) from a LaueTools .fit file.
    #[arg(long)]
    fit: Option<PathBuf>,
    /// Lowest photon energy (keV).
    #[arg(long, default_value_t = lauekit::pipeline::Band::default().emin_kev)]
    emin: f64,
    /// Highest photon energy (keV).
    #[arg(long, default_value_t = lauekit::pipeline::Band::default().emax_kev)]
    emax: f64,
    /// Keep spots on LaueTools' on-camera disc of this diameter (mm) instead of the pixel frame.
    #[arg(long)]
    detector_diameter: Option<f64>,
    /// Output format: tsv or json.
    #[arg(long, default_value = "tsv")]
    format: String,
    /// Also render a synthetic 16-bit TIFF of the pattern here.
    #[arg(long)]
    image: Option<PathBuf>,
    /// Seed of the synthetic image's noise and intensities.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Spot shape of the synthetic image: gaussian, elliptical, streak or doublet.
    #[arg(long, default_value = "gaussian")]
    shape: String,
}

pub fn run(a: SimulateArgs) -> Result<()> {
    let mut plan = OutputPlan::new(Existing::Replace);
    plan.inputs(a.fit.iter());
    plan.inputs(a.material.files());
    if let Some(c) = a.calib.as_deref().filter(|c| Path::new(c).exists()) {
        plan.input(c);
    }
    if let Some(path) = &a.image {
        plan.output(path, OutputKind::Image)?;
    }
    let fit = match &a.fit {
        Some(p) => Some(FitFile::parse(&read_text(p)?, &p.display().to_string())?),
        None => None,
    };
    let material = material(&a, fit.as_ref())?;
    let calibration = calibration(&a, fit.as_ref())?;
    let mut ubs: Vec<Matrix3<f64>> = Vec::new();
    for s in &a.ub {
        let v = numbers(s, 9, "--ub")?;
        ubs.push(Matrix3::from_row_slice(&v));
    }
    for s in &a.euler {
        let v = numbers(s, 3, "--euler")?;
        ubs.push(euler_to_matrix([v[0], v[1], v[2]]));
    }
    if ubs.is_empty() {
        match &fit {
            Some(f) => ubs.push(f.ub),
            None => bail!("give an orientation: --ub=9 numbers, --euler phi,theta,psi, or --fit FILE.fit"),
        }
    }
    let grains: Vec<Grain> = ubs.into_iter().map(|ub| Grain { material: material.clone(), ub }).collect();
    let cut = match a.detector_diameter {
        Some(d) if d > 0.0 && d.is_finite() => DetectorCut::LaueToolsDisc { diameter_mm: d },
        Some(d) => bail!("--detector-diameter {d}: must be a positive length in mm"),
        None => DetectorCut::Frame,
    };
    let settings =
        SimulationSettings { emin_kev: a.emin, emax_kev: a.emax, calibration, with_multiplicity: true, cut };
    let spots = simulate_grains(&grains, &settings)?;
    match a.format.as_str() {
        "tsv" => print_tsv(&spots, grains.len() > 1)?,
        "json" => {
            let out = serde_json::json!({
                "material": material.name,
                "lattice": material.lattice.params(),
                "space_group": material.space_group,
                "rule": material.rule.name,
                "laue_group": material.laue_group.symbol(),
                "calibration": calibration,
                "emin_kev": a.emin,
                "emax_kev": a.emax,
                "n_spots": spots.len(),
                "spots": spots,
            });
            outln!("{}", serde_json::to_string_pretty(&out)?)?;
        }
        f => bail!("--format {f}: use tsv or json"),
    }
    if let Some(path) = &a.image {
        let shape = match a.shape.as_str() {
            "gaussian" => SpotShape::Gaussian { sigma_px: 0.8 },
            "elliptical" => {
                SpotShape::Elliptical { sigma_major_px: 1.4, sigma_minor_px: 0.7, angle_deg: 30.0 }
            }
            "streak" => SpotShape::Streak { length_px: 6.0, width_px: 0.8 },
            "doublet" => {
                SpotShape::Doublet { sigma_px: 0.8, separation_px: 3.0, ratio: 0.6, angle_deg: 45.0 }
            }
            s => bail!("--shape {s}: use gaussian, elliptical, streak or doublet"),
        };
        let model = ImageModel {
            shape,
            seed: a.seed,
            xcen_px: calibration.xcen_px,
            ycen_px: calibration.ycen_px,
            ..ImageModel::default()
        };
        let lattice = material.lattice;
        let img = render_image(&spots, |h| lattice.d_spacing(h), calibration.rows, calibration.cols, &model)?;
        plan.stage_with(path, |w| {
            lauekit::io::write_tiff_u16(w, img.rows, img.cols, &img.pixels, &path.display().to_string())
        })?;
        plan.commit()?;
        errln!("wrote {} ({}×{} px, {} spots)", path.display(), img.rows, img.cols, img.truth.len());
    }
    Ok(())
}

fn print_tsv(spots: &[Spot], with_grain: bool) -> Result<()> {
    let mut out = String::from("h\tk\tl\ttwotheta_deg\tchi_deg\tx_px\ty_px\tenergy_keV");
    if with_grain {
        out.push_str("\tgrain");
    }
    out.push('\n');
    for s in spots {
        out.push_str(&format!(
            "{}\t{}\t{}\t{:.6}\t{:.6}\t{:.4}\t{:.4}\t{:.5}",
            s.h, s.k, s.l, s.twotheta_deg, s.chi_deg, s.x_px, s.y_px, s.energy_kev
        ));
        if with_grain {
            out.push_str(&format!("\t{}", s.grain));
        }
        out.push('\n');
    }
    out!("{out}")
}

fn read_text(p: &Path) -> Result<String> {
    super::input::read_text(p)
}

/// "a,b,c" with exactly `n` finite numbers.
fn numbers(s: &str, n: usize, what: &str) -> Result<Vec<f64>> {
    let v: Vec<f64> = s
        .split(|c: char| c == ',' || c.is_whitespace())
        .filter(|t| !t.is_empty())
        .map(|t| t.parse::<f64>().with_context(|| format!("{what}: '{t}' is not a number")))
        .collect::<Result<_>>()?;
    if v.len() != n || v.iter().any(|x| !x.is_finite()) {
        bail!("{what} needs {n} comma-separated finite numbers, got '{s}'");
    }
    Ok(v)
}

/// The material of the flags; without --material, the --fit file's (when it is known, or no lattice is given).
fn material(a: &SimulateArgs, fit: Option<&FitFile>) -> Result<Material> {
    let mut flags = a.material.clone();
    if flags.material.is_empty()
        && let Some(name) = fit.and_then(|f| f.material.clone())
        && (flags.lattice.is_none() || flags.catalog()?.get(&name).is_ok())
    {
        flags.material = vec![name];
    }
    flags.resolve_one("simulate")
}

fn calibration(a: &SimulateArgs, fit: Option<&FitFile>) -> Result<Calibration> {
    let frame = match &a.frame {
        Some(f) => {
            let (r, c) = f
                .split_once(['x', 'X', '×'])
                .ok_or_else(|| anyhow::anyhow!("--frame {f}: expected ROWSxCOLS, e.g. 2048x2048"))?;
            let parse = |t: &str| {
                t.trim().parse::<usize>().with_context(|| format!("--frame {f}: '{t}' is not a size"))
            };
            Some((parse(r)?, parse(c)?))
        }
        None => None,
    };
    let (params, pixel, dims) = match &a.calib {
        Some(s) if Path::new(s).is_file() || s.ends_with(".det") => {
            let p = Path::new(s);
            let d = DetFile::parse(&read_text(p)?, s)?;
            (
                d.calibration.params(),
                Some(d.calibration.pixel_size_mm),
                Some((d.calibration.rows, d.calibration.cols)),
            )
        }
        Some(s) => {
            let v = numbers(s, 5, "--calib")?;
            ([v[0], v[1], v[2], v[3], v[4]], None, None)
        }
        None => match fit.and_then(|f| f.detector_parameters) {
            Some(p) => (p, fit.and_then(|f| f.pixel_size_mm), fit.and_then(|f| f.frame)),
            None => bail!("give --calib dd,xcen,ycen,xbet,xgam or --calib FILE.det"),
        },
    };
    let pixel_size_mm = a.pixel_size.or(pixel).ok_or_else(|| anyhow::anyhow!("give --pixel-size (mm)"))?;
    let (rows, cols) = frame.or(dims).ok_or_else(|| anyhow::anyhow!("give --frame ROWSxCOLS"))?;
    Ok(Calibration {
        distance_mm: params[0],
        xcen_px: params[1],
        ycen_px: params[2],
        xbet_deg: params[3],
        xgam_deg: params[4],
        pixel_size_mm,
        rows,
        cols,
    }
    .validated()?)
}
