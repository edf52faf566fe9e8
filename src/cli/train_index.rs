//! `lauekit train-index`: train a LaueNN hkl predictor for one or more materials in a detector geometry.

use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{Context, Result, bail};
use clap::Args;
use lauekit::crystal::Material;
use lauekit::index::nn::{
    DatasetSettings, FeatureSettings, HklModel, TrainSettings, accuracy_by_grain_count, generate, train,
};
use lauekit::io::DetFile;
use lauekit::io::output::{Existing, OutputKind, OutputPlan};

#[derive(Args)]
pub struct TrainIndexArgs {
    /// Material(s) of the model: table or --materials names (multi-phase: --material GaN --material Si), or
    /// one defined by --lattice with --spacegroup/--extinction and --name; the model records each lattice and
    /// rule, so `index --model` needs no material flag.
    #[command(flatten)]
    materials: super::pipeline_args::MaterialArgs,
    /// Detector calibration: a LaueTools .det file.
    #[arg(long)]
    calib: PathBuf,
    /// Images hold 1..=N grains.
    #[arg(long, default_value_t = 5)]
    grains: usize,
    /// Orientations drawn per material (20 % kept for validation).
    #[arg(long, default_value_t = 500)]
    orientations: usize,
    /// Images per grain count (default: one per training orientation).
    #[arg(long)]
    images_per_count: Option<usize>,
    /// Largest hkl index of the classes (one value, or one per material: --max-index 5,3).
    #[arg(long, default_value = "5", value_delimiter = ',')]
    max_index: Vec<i32>,
    /// Angular histogram radius (deg): lauetoolsnn's shipped configs use 120° (the paper 20°).
    #[arg(long, default_value_t = 120.0)]
    radius: f64,
    /// Histogram bin (deg).
    #[arg(long, default_value_t = 0.1)]
    bin: f64,
    /// Energy band (keV).
    #[arg(long, default_value_t = lauekit::pipeline::Band::default().emin_kev)]
    emin: f64,
    #[arg(long, default_value_t = lauekit::pipeline::Band::default().emax_kev)]
    emax: f64,
    /// Classes with fewer training spots are dropped.
    #[arg(long, default_value_t = 20)]
    min_class_samples: usize,
    /// At most this many epochs (early stopping on the validation accuracy).
    #[arg(long, default_value_t = 6)]
    epochs: usize,
    #[arg(long, default_value_t = 512)]
    batch_size: usize,
    /// Adam's learning rate.
    #[arg(long, default_value_t = 2e-3)]
    lr: f64,
    /// Stop after this many epochs without a better validation accuracy (0: never).
    #[arg(long, default_value_t = 3)]
    patience: usize,
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// After training, measure the per-spot accuracy on this many fresh images per grain count 1..=10.
    #[arg(long, default_value_t = 0)]
    eval_images: usize,
    /// Store the weights in f16 (half the size; used for the models shipped with the page).
    #[arg(long)]
    half: bool,
    /// Output: MODEL.bpk (weights, burnpack) and MODEL.json (classes, settings, history).
    #[arg(short, long)]
    output: PathBuf,
}

pub fn run(a: TrainIndexArgs) -> Result<()> {
    let t0 = Instant::now();
    // MODEL.bpk and MODEL.json checked before the training.
    let mut plan = OutputPlan::new(Existing::Replace);
    plan.input(&a.calib);
    let (w, j) = model_paths(&a.output);
    plan.output(&w, OutputKind::Binary)?;
    plan.output(&j, OutputKind::Text)?;
    plan.inputs(a.materials.files());
    let materials: Vec<Material> = a.materials.resolve()?;
    if materials.is_empty() {
        bail!(
            "give the model's material(s): --material NAME (repeat for several phases) or --lattice \
             a,b,c,alpha,beta,gamma with --spacegroup N or --extinction RULE (and --name)"
        );
    }
    let text = std::fs::read_to_string(&a.calib).with_context(|| format!("reading {}", a.calib.display()))?;
    let calibration = DetFile::parse(&text, &a.calib.display().to_string())?.calibration;
    if a.grains == 0 {
        bail!("--grains must be at least 1");
    }
    let mut ds = DatasetSettings::new(calibration, a.emin, a.emax);
    ds.n_orientations = a.orientations;
    ds.max_grains = a.grains;
    ds.images_per_grain_count = a.images_per_count;
    ds.features = FeatureSettings { radius_deg: a.radius, bin_deg: a.bin }.validated()?;
    ds.min_class_samples = a.min_class_samples;
    ds.seed = a.seed;
    let ts = TrainSettings {
        epochs: a.epochs,
        batch_size: a.batch_size,
        learning_rate: a.lr,
        patience: a.patience,
        seed: a.seed,
        ..Default::default()
    };
    // Refused before the (long) data generation.
    ts.validated()?;
    ds.validated()?;
    let data = generate(&materials, &a.max_index, &ds)?;
    let t_data = t0.elapsed().as_secs_f64();
    errln!(
        "data: {} + {} images, {} training / {} validation spots with a class ({} of {} spots), {} classes \
         ({} rare ones dropped), {} bins — {:.1} s",
        data.train.n_images,
        data.validation.n_images,
        data.train.len(),
        data.validation.len(),
        data.n_labelled,
        data.n_spots,
        data.classes.len(),
        data.n_dropped_classes,
        ds.features.n_bins(),
        t_data
    );
    let info = serde_json::json!({ "dataset": ds, "train": ts, "data_seconds": t_data });
    let device = lauekit::device::cpu();
    let t1 = Instant::now();
    let model = train(&data, &materials, &ts, &device.device, info, |r| {
        errln!(
            "epoch {:>3}/{}  loss {:.4}  acc {:.2} %  |  val loss {:.4}  val acc {:.2} %  ({:.1} s)",
            r.epoch,
            r.epochs,
            r.train_loss,
            100.0 * r.train_accuracy,
            r.val_loss,
            100.0 * r.val_accuracy,
            r.seconds
        );
        true
    })?;
    let t_train = t1.elapsed().as_secs_f64();
    let best = model.meta.history.iter().map(|h| h.val_accuracy).fold(f64::NAN, f64::max);
    errln!(
        "trained {} parameters in {:.1} s; best validation accuracy {:.2} %; total {:.1} s",
        model.meta.net.n_params(),
        t_train,
        100.0 * best,
        t0.elapsed().as_secs_f64()
    );
    save(plan, &model, &a.output, a.half)?;
    if a.eval_images > 0 {
        let counts: Vec<usize> = (1..=10).collect();
        let rows = accuracy_by_grain_count(
            &model,
            &calibration,
            &ds.realism,
            &counts,
            a.eval_images,
            a.seed ^ 0xE7A1,
        )?;
        outln!("grains\timages\tspots\tlabelled\taccuracy_pct")?;
        for r in rows {
            outln!(
                "{}\t{}\t{}\t{}\t{:.2}",
                r.n_grains,
                r.n_images,
                r.n_spots,
                r.n_labelled,
                100.0 * r.accuracy()
            )?;
        }
    }
    Ok(())
}

/// MODEL.bpk and MODEL.json next to each other (an extension on `out` is replaced).
pub fn model_paths(out: &Path) -> (PathBuf, PathBuf) {
    (out.with_extension("bpk"), out.with_extension("json"))
}

fn save(plan: OutputPlan, model: &HklModel, out: &Path, half: bool) -> Result<()> {
    let (w, j) = model_paths(out);
    plan.stage(&w, &model.weights_bytes(half)?)?;
    plan.stage(&j, model.meta_json()?.as_bytes())?;
    plan.commit()?;
    errln!("wrote {} and {}", w.display(), j.display());
    Ok(())
}
