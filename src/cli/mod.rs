//! Command-line verbs. Each parses its arguments into library settings, calls the library, prints.
//! Every file a verb writes goes through [`lauekit::io::output::OutputPlan`]; everything it prints goes
//! through `outln!`/`out!` (fallible) and `errln!` (never panics): see that module for the policy.

/// `println!` to standard output that returns an error (pass it on with `?`) instead of panicking.
macro_rules! outln {
    () => {
        $crate::cli::out::write_out(format_args!("\n"))
    };
    ($($t:tt)*) => {
        $crate::cli::out::write_out(format_args!("{}\n", format_args!($($t)*)))
    };
}

/// `print!` to standard output that returns an error instead of panicking.
macro_rules! out {
    ($($t:tt)*) => {
        $crate::cli::out::write_out(format_args!($($t)*))
    };
}

/// `eprintln!` that never panics (a failure makes the run end with code 1).
macro_rules! errln {
    ($($t:tt)*) => {
        $crate::cli::out::write_err(format_args!("{}\n", format_args!($($t)*)))
    };
}

mod bench;
mod calibrate;
mod characterize;
mod cluster;
pub mod index;
mod input;
mod out;
mod peaks;
mod pipeline_args;
mod scan;
mod simulate;
mod simulate_scan;
mod train_autoencoder;
mod train_index;
mod train_spotnet;

use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(name = "lauekit", version, about = "Laue microdiffraction analysis (LaueTools-compatible)")]
struct Cli {
    #[command(subcommand)]
    command: Command,
    /// Mask file for every image read (any command): a grey PNG or an HDF5 dataset (FILE.h5, or
    /// FILE.h5:/path/to/dataset) the size of the images, non-zero = masked; added to the images' own masks
    /// (PILATUS gaps, Eiger's 2³²−1, ...). Masked pixels never seed a peak nor enter a fit.
    #[arg(long, global = true, value_name = "FILE")]
    mask: Option<std::path::PathBuf>,
}

#[derive(Subcommand)]
enum Command {
    /// Simulate the Laue pattern of one or more grains (spots list, optional synthetic image).
    Simulate(simulate::SimulateArgs),
    /// Find and fit Laue peaks in detector images (LaueTools PeakSearch), write .dat/.cor or JSON.
    Peaks(peaks::PeaksArgs),
    /// Index a peak list or an image: grains (UB, hkl of each spot, matching rate), LaueTools .fit or JSON.
    Index(index::IndexArgs),
    /// Calibrate the detector (dd, xcen, ycen, xbet, xgam) on a reference crystal's pattern; write a .det.
    Calibrate(calibrate::CalibrateArgs),
    /// Characterise each peak of an image with the spot CNN (Sim, position, aspect ratio, area, good/bad).
    Characterize(characterize::CharacterizeArgs),
    /// Cluster a raster scan's patterns without indexing (Song et al. 2019): features, PCA, K-means or a
    /// Bayesian mixture, label maps, delegates (optionally indexed).
    Cluster(cluster::ClusterArgs),
    /// Raster scans: every image of a scan through the pipeline, results to HDF5/JSON/CSV/.ctf; maps; shards.
    Scan(scan::ScanArgs),
    /// Make a synthetic raster scan (Voronoi grains, a twin band, a second phase) with its truth.
    SimulateScan(simulate_scan::SimulateScanArgs),
    /// List the materials: the built-in table (lattice, rule, space group, source) and those of --materials files.
    Materials(MaterialsArgs),
    /// Benchmarks (single thread): patterns per second and per-pattern time.
    Bench(bench::BenchArgs),
    /// Train a LaueNN hkl predictor (neural indexing) for materials in a detector geometry.
    TrainIndex(train_index::TrainIndexArgs),
    /// Train the spot-characterisation CNN (real images at a low threshold + synthetic spots).
    TrainSpotnet(train_spotnet::TrainSpotnetArgs),
    /// Train the clustering autoencoder (simulated frames generated on the fly + crops of real images).
    TrainAutoencoder(train_autoencoder::TrainAutoencoderArgs),
}

pub fn run() -> std::process::ExitCode {
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            // --help and --version go to stdout, usage errors to stderr: neither may panic.
            if let Err(io) = e.print().and_then(|()| std::io::Write::flush(&mut std::io::stdout())) {
                return if e.use_stderr() {
                    std::process::ExitCode::from(2)
                } else {
                    failure(&anyhow::Error::new(out::StdoutFailed(io)))
                };
            }
            return std::process::ExitCode::from(u8::try_from(e.exit_code()).unwrap_or(2));
        }
    };
    if let Some(m) = &cli.mask
        && let Err(e) = input::load_mask(m)
    {
        return failure(&e);
    }
    let result = match cli.command {
        Command::Simulate(a) => simulate::run(a),
        Command::Peaks(a) => peaks::run(a),
        Command::Index(a) => index::run(a),
        Command::Calibrate(a) => calibrate::run(a),
        Command::Characterize(a) => characterize::run(a),
        Command::Cluster(a) => cluster::run(a),
        Command::Scan(a) => scan::run(a),
        Command::SimulateScan(a) => simulate_scan::run(a),
        Command::Materials(a) => print_materials(a),
        Command::Bench(a) => bench::run(a),
        Command::TrainIndex(a) => train_index::run(a),
        Command::TrainSpotnet(a) => train_spotnet::run(a),
        Command::TrainAutoencoder(a) => train_autoencoder::run(a),
    };
    match result.and_then(|()| out::flush_out()) {
        Ok(()) if out::stderr_failed() => std::process::ExitCode::FAILURE,
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => failure(&e),
    }
}

/// The exit code of a failed run, its message on stderr: 141 without a message when stdout's reader went
/// away, 3 for a scan finished with failed points, 1 otherwise.
fn failure(e: &anyhow::Error) -> std::process::ExitCode {
    if let Some(s) = e.chain().find_map(|c| c.downcast_ref::<out::StdoutFailed>()) {
        if s.is_broken_pipe() {
            return std::process::ExitCode::from(141);
        }
        errln!("lauekit: {s}");
        return std::process::ExitCode::FAILURE;
    }
    errln!("lauekit: {e:#}");
    // A scan that finished with some points failed says so with its own code.
    if e.downcast_ref::<scan::PointsFailed>().is_some() {
        std::process::ExitCode::from(3)
    } else {
        std::process::ExitCode::FAILURE
    }
}

#[derive(clap::Args)]
struct MaterialsArgs {
    /// Materials file(s) to list after the table (JSON list or TOML [[materials]]; see `--materials` of
    /// `index`).
    #[arg(long = "materials", value_name = "FILE")]
    files: Vec<std::path::PathBuf>,
    /// Output format: tsv or json.
    #[arg(long, default_value = "tsv")]
    format: String,
}

/// One row of `lauekit materials`.
#[derive(serde::Serialize)]
struct MaterialRow {
    name: String,
    /// a, b, c (Å), α, β, γ (deg)
    lattice: [f64; 6],
    rule: String,
    space_group: Option<u32>,
    laue_group: String,
    structure: String,
    source: String,
}

fn print_materials(a: MaterialsArgs) -> anyhow::Result<()> {
    let mut rows: Vec<MaterialRow> = Vec::new();
    for m in lauekit::crystal::MATERIALS {
        let g = lauekit::crystal::LaueGroup::of_space_group(m.space_group).map(|g| g.symbol()).unwrap_or("?");
        rows.push(MaterialRow {
            name: m.name.into(),
            lattice: m.lattice,
            rule: if m.rule == "sg" { format!("SG {}", m.space_group) } else { m.rule.into() },
            space_group: Some(m.space_group),
            laue_group: g.into(),
            structure: m.structure.into(),
            source: m.source.into(),
        });
    }
    for f in &a.files {
        let text = input::read_text(f)?;
        for m in lauekit::crystal::parse_materials_file(&text, &f.display().to_string())? {
            rows.push(MaterialRow {
                name: m.name,
                lattice: m.lattice.params(),
                rule: m.rule.name,
                space_group: m.space_group,
                laue_group: m.laue_group.symbol().into(),
                structure: format!("from {}", f.display()),
                source: m.source,
            });
        }
    }
    match a.format.as_str() {
        "json" => outln!("{}", serde_json::to_string_pretty(&rows)?)?,
        "tsv" => {
            outln!(
                "name\ta_A\tb_A\tc_A\talpha_deg\tbeta_deg\tgamma_deg\trule\tspace_group\tlaue_group\tstructure\tsource"
            )?;
            for r in &rows {
                let l = r.lattice;
                outln!(
                    "{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}",
                    r.name,
                    l[0],
                    l[1],
                    l[2],
                    l[3],
                    l[4],
                    l[5],
                    r.rule,
                    r.space_group.map_or_else(|| "-".to_string(), |n| n.to_string()),
                    r.laue_group,
                    r.structure,
                    r.source
                )?;
            }
        }
        f => anyhow::bail!("--format {f}: use tsv or json"),
    }
    Ok(())
}
