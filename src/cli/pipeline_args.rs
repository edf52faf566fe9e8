//! The pipeline's flags, shared by `index` (on an image) and `scan`: they become one
//! [`PipelineRequest`] and the [`Models`] it needs. Defaults come from the library's types.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use clap::Args;
use lauekit::index::Method;
use lauekit::index::nn::HklModel;
use lauekit::pipeline::{Band, IndexRequest, Models, PipelineRequest, SpotnetRequest};
use lauekit::spotnet::PositionSource;

/// `--frame N`: which frame of a multi-frame image to read (commands that read one image).
#[derive(Args, Debug, Clone, Copy, Default)]
pub struct FrameArg {
    /// Frame of a multi-frame image (HDF5 stack, multi-page TIFF, multi-block EDF), from 0. Without it a
    /// stack's frame 0 is read and a warning gives the frame count.
    #[arg(long = "frame", value_name = "N")]
    pub frame: Option<usize>,
}

/// Flags of the pipeline (peak search → spot network → indexing → refinement).
#[derive(Args, Debug, Clone)]
pub struct PipelineArgs {
    /// The whole request as JSON (the page's and `scan`'s format); the flags below then must not be given.
    #[arg(long, value_name = "FILE.json")]
    pub request: Option<PathBuf>,
    /// Peak-search settings: LaueTools .psp file.
    #[arg(long)]
    pub psp: Option<PathBuf>,
    /// Peak-search settings: JSON of LaueTools PeakSearch keyword arguments.
    #[arg(long)]
    pub params: Option<PathBuf>,
    /// Material(s) from the table, comma-separated (e.g. GaN,Si); with --method nn, default: the model's.
    #[arg(long)]
    pub material: Option<String>,
    /// Grains to look for at most (LaueTools' nbgrainstofind).
    #[arg(long, default_value_t = 1)]
    pub grains: usize,
    /// Indexing method: lut (angles between spot pairs vs inter-plane angles) or nn (hkl families predicted
    /// by the --model network). Ranking rule: between candidate grains (refined candidates, a grain and its
    /// Σ3/pseudo-symmetric alternatives, materials, network and table) the larger matched spots × matching
    /// rate wins, then the smaller pixel residual; with nn, a network grain under 50 % matching rate
    /// competes with the table's candidates under that rule. When no grain passes, the table widens by
    /// itself: more pair spots (to 3× --pair-spots, then to 50), then plane indices up to nlutmax + 2.
    /// Every grain is checked against the matching rate random peaks reach (chance level, printed).
    #[arg(long, default_value = "lut")]
    pub method: String,
    /// --method nn: the model of `lauekit train-index` (MODEL.bpk + MODEL.json; either name, or no extension).
    #[arg(long)]
    pub model: Option<PathBuf>,
    /// --method nn: predictions below this probability are not paired.
    #[arg(long, default_value_t = 0.5)]
    pub min_confidence: f64,
    /// Energy band, lower end (keV).
    #[arg(long, default_value_t = Band::default().emin_kev)]
    pub emin: f64,
    /// Energy band, upper end (keV).
    #[arg(long, default_value_t = Band::default().emax_kev)]
    pub emax: f64,
    /// Spots of the grains found stay available to the next (twins share reflections).
    #[arg(long)]
    pub share_spots: bool,
    /// Most intense spots whose pairs are looked up first (widened automatically while no grain passes).
    #[arg(long, default_value_t = 10)]
    pub pair_spots: usize,
    /// Refine the orientation only, not the deviatoric strain.
    #[arg(long)]
    pub no_strain: bool,
    /// Peak positions given to indexing: fit (the peak search's Gaussian fit) or cnn (the spot network's, for
    /// the spots it calls good; the others keep the fit).
    #[arg(long, default_value = "fit")]
    pub positions: PositionSource,
    /// Characterise every peak with the spot network (counts of good spots in the report).
    #[arg(long)]
    pub spotnet: bool,
    /// Use a calibration (.det) whose frame or pixel size differs from the image's (refused by default:
    /// a .det of another detector gives wrong angles).
    #[arg(long)]
    pub allow_calib_mismatch: bool,
}

fn read(p: &Path) -> Result<String> {
    super::input::read_text(p)
}

impl PipelineArgs {
    /// The request these flags describe; `index`: whether to index (scan: yes; peaks only otherwise).
    pub fn request(&self, index: bool) -> Result<PipelineRequest> {
        if let Some(f) = &self.request {
            let name = f.display().to_string();
            let mut r: PipelineRequest =
                serde_json::from_str(&read(f)?).with_context(|| format!("{name}: not a pipeline request"))?;
            r.allow_calibration_mismatch |= self.allow_calib_mismatch;
            return Ok(r);
        }
        let peaks = match (&self.psp, &self.params) {
            (Some(_), Some(_)) => bail!("give --psp or --params, not both"),
            (Some(f), None) => {
                lauekit::peaks::PeakSearchParams::from_psp(&read(f)?, &f.display().to_string())?
            }
            (None, Some(f)) => {
                lauekit::peaks::PeakSearchParams::from_json(&read(f)?, &f.display().to_string())?
            }
            (None, None) => Default::default(),
        };
        let method = match self.method.as_str() {
            "lut" => Method::Lut,
            "nn" => Method::Nn,
            m => bail!("--method {m}: use lut or nn"),
        };
        if method == Method::Nn && self.model.is_none() {
            bail!("--method nn needs --model MODEL (from lauekit train-index)");
        }
        let materials: Vec<String> = self
            .material
            .as_deref()
            .map(|l| l.split(',').map(|m| m.trim().to_string()).filter(|m| !m.is_empty()).collect())
            .unwrap_or_default();
        if method == Method::Lut && index && materials.is_empty() {
            bail!("--material is required with --method lut");
        }
        let mut settings = lauekit::index::IndexSettings {
            nbgrainstofind: self.grains,
            share_spots: self.share_spots,
            nbspots_pairs: self.pair_spots,
            nn_min_confidence: self.min_confidence,
            ..Default::default()
        };
        settings.refine_strain = !self.no_strain;
        let index = index.then(|| IndexRequest {
            method,
            model: self.model.as_ref().map(|p| p.display().to_string()),
            materials,
            settings,
            band: Band { emin_kev: self.emin, emax_kev: self.emax },
            positions: self.positions,
        });
        Ok(PipelineRequest {
            peaks,
            spotnet: SpotnetRequest { enabled: self.spotnet, ..Default::default() },
            index,
            keep_spots: false,
            allow_calibration_mismatch: self.allow_calib_mismatch,
        })
    }
}

/// Loads the networks `request` needs (CPU device): the spot network when it characterises spots or gives
/// positions, the LaueNN model of `method = nn` from its path.
pub fn load_models(request: &PipelineRequest) -> Result<Models> {
    let mut models = Models::for_request(request)?;
    if let Some(IndexRequest { method: Method::Nn, model, .. }) = request.index.as_ref() {
        let Some(p) = model else { bail!("method nn needs a model (from lauekit train-index)") };
        models.hkl = Some(load_hkl_model(Path::new(p), &lauekit::device::cpu().device)?);
    }
    Ok(models)
}

/// A LaueNN model from MODEL.bpk + MODEL.json (either name, or no extension).
pub fn load_hkl_model(p: &Path, device: &burn::tensor::Device) -> Result<HklModel> {
    let (w, j) = super::train_index::model_paths(p);
    let weights = std::fs::read(&w).with_context(|| format!("{}: cannot read", w.display()))?;
    let meta = read(&j)?;
    Ok(HklModel::from_named_bytes(
        &weights,
        &w.display().to_string(),
        &meta,
        &j.display().to_string(),
        device,
    )?)
}
