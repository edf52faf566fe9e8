//! The pipeline's flags, shared by `index` (on an image) and `scan`: they become one
//! [`PipelineRequest`] and the [`Models`] it needs. Defaults come from the library's types.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use clap::Args;
use lauekit::crystal::{Material, MaterialCatalog, MaterialQuery, MaterialSpec};
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

/// The material flags of every verb that takes a crystal (`simulate`, `index`, `scan`, `cluster`,
/// `calibrate`, `train-index`), resolved by [`MaterialArgs::resolve`] through [`MaterialQuery`].
#[derive(Args, Debug, Clone, Default)]
pub struct MaterialArgs {
    /// Material by name: the built-in table (`lauekit materials`) or a --materials file. Several phases:
    /// comma-separated or repeated (--material GaN --material Si).
    #[arg(long = "material", value_name = "NAME", value_delimiter = ',')]
    pub material: Vec<String>,
    /// Lattice a,b,c,alpha,beta,gamma (Å, deg): defines a material with --spacegroup and/or --extinction, or
    /// replaces the lattice of the one --material names.
    #[arg(long, allow_hyphen_values = true, value_name = "a,b,c,α,β,γ")]
    pub lattice: Option<String>,
    /// Space group number (1–230): the Laue group and the reflection conditions of the International Tables.
    #[arg(long, value_name = "N")]
    pub spacegroup: Option<u32>,
    /// Selection rule: a LaueTools name (fcc, bcc, dia, wurtzite, VO2_mono...), hcp, a centring letter, or
    /// conditions like 'hkl: h+k=2n; h0l: l=2n'. With --spacegroup it replaces the group's conditions (the
    /// group still gives the Laue group), e.g. --spacegroup 227 --extinction dia for diamond.
    #[arg(long, value_name = "RULE")]
    pub extinction: Option<String>,
    /// Name of the material --lattice/--spacegroup/--extinction define or change, carried by the reports,
    /// .fit files and models [default: custom].
    #[arg(long = "name", value_name = "NAME")]
    pub name: Option<String>,
    /// Materials file: JSON list (or TOML [[materials]]) of {name, lattice: [a, b, c, α, β, γ] (Å, deg),
    /// spacegroup and/or extinction, source}; its names join the table's for --material. Repeatable.
    #[arg(long = "materials", value_name = "FILE")]
    pub materials_file: Vec<PathBuf>,
}

impl MaterialArgs {
    /// True when no material flag was given.
    pub fn is_empty(&self) -> bool {
        self.material.is_empty()
            && self.lattice.is_none()
            && self.spacegroup.is_none()
            && self.extinction.is_none()
            && self.name.is_none()
            && self.materials_file.is_empty()
    }

    fn query(&self) -> Result<MaterialQuery> {
        let lattice = match &self.lattice {
            Some(s) => Some(lattice_flag(s)?),
            None => None,
        };
        Ok(MaterialQuery {
            materials: self.material.clone(),
            lattice,
            spacegroup: self.spacegroup,
            extinction: self.extinction.clone(),
            name: self.name.clone(),
        })
    }

    /// The table plus the materials of the --materials files.
    pub fn catalog(&self) -> Result<MaterialCatalog> {
        let mut c = MaterialCatalog::table();
        for f in &self.materials_file {
            c.add_file(&read(f)?, &f.display().to_string())?;
        }
        Ok(c)
    }

    /// The materials the flags give (empty when none), notes (e.g. untabulated glide conditions) on stderr.
    pub fn resolve(&self) -> Result<Vec<Material>> {
        let (ms, notes) = self.query()?.resolve(&self.catalog()?)?;
        for n in notes {
            errln!("note: {n}");
        }
        Ok(ms)
    }

    /// As [`Self::resolve`], for verbs that need exactly one material (`what` names the verb's use of it).
    pub fn resolve_one(&self, what: &str) -> Result<Material> {
        let mut ms = self.resolve()?;
        match ms.len() {
            1 => Ok(ms.remove(0)),
            0 => bail!(
                "{what}: give --material NAME (see `lauekit materials`, or a --materials file) or --lattice                  a,b,c,alpha,beta,gamma with --spacegroup N or --extinction RULE"
            ),
            n => bail!("{what}: one material, not {n}"),
        }
    }

    /// The files these flags read (for the output plan's input check).
    pub fn files(&self) -> impl Iterator<Item = &PathBuf> {
        self.materials_file.iter()
    }
}

/// "a,b,c,alpha,beta,gamma": six finite numbers (Å, deg).
pub fn lattice_flag(s: &str) -> Result<[f64; 6]> {
    let v: Vec<f64> = s
        .split(|c: char| c == ',' || c.is_whitespace())
        .filter(|t| !t.is_empty())
        .map(|t| t.parse::<f64>().with_context(|| format!("--lattice {s}: '{t}' is not a number")))
        .collect::<Result<_>>()?;
    match v[..] {
        [a, b, c, al, be, ga] if v.iter().all(|x| x.is_finite()) => Ok([a, b, c, al, be, ga]),
        _ => bail!("--lattice {s}: give six finite numbers a,b,c,alpha,beta,gamma (Å, deg)"),
    }
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
    /// The material(s) to index with (with --method nn, default: the model's).
    #[command(flatten)]
    pub material: MaterialArgs,
    /// Grains to look for at most (LaueTools' nbgrainstofind).
    #[arg(long, default_value_t = 1)]
    pub grains: usize,
    /// Indexing method: lut (angles between spot pairs vs inter-plane angles) or nn (hkl families predicted
    /// by the --model network). Ranking rule: between candidate grains (refined candidates, a grain and its
    /// Σ3/pseudo-symmetric alternatives, materials, network and table) the larger matched spots × matching
    /// rate wins, then the smaller pixel residual; with nn, a network grain under 50 % matching rate
    /// competes with the table's candidates under that rule. When no grain passes or the best is poor
    /// (under half of the spots at < 50 %), the table widens by itself: more pair spots (to 3× --pair-spots,
    /// then to 50), then plane indices up to nlutmax + 2. (Plane indices count along the longest
    /// reciprocal axis: a long c axis gets as many more l as reach the same |G|, l ≤ 17 for SiC-6H.)
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
        let materials: Vec<MaterialSpec> = self.material.resolve()?.iter().map(MaterialSpec::from).collect();
        if method == Method::Lut && index && materials.is_empty() {
            bail!(
                "--method lut needs a material: --material NAME (`lauekit materials`, or a --materials file) or \
                 --lattice a,b,c,alpha,beta,gamma with --spacegroup N or --extinction RULE"
            );
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
