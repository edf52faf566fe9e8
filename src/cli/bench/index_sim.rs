//! `bench index-grains` and `bench index-materials`: the indexers on simulated peak lists where the truth is
//! known (issue 17 item 3).
//!
//! - **index-grains**: N-grain Cu images (default 6–10 grains) in the Ge_blanc geometry (BM32's MarCCD,
//!   `calibGe111.det`), spots simulated in 5–22 keV with LaueNN's training realism (0.5 px jitter, log-normal
//!   intensities, the 30 % weakest dropped) plus 5 % spurious peaks (uniformly random on the frame, with the
//!   intensity of one of the weaker real spots). Per grain count: the share of grains found within 0.1° of a
//!   true grain, the share of the real peaks assigned to the found grain of their true grain, false grains
//!   and the time per image (indexing only, this thread). The table (`index_spots`) and, with `--model`,
//!   LaueNN (`index_with_model`) side by side on the same images.
//! - **index-materials**: `--grains-per-image` grains (1 by default) of every material of the table (or
//!   `--materials a,b`) at random orientations on four detectors (MarCCD 2048², sCMOS 2018×2016, a Pilatus 1M
//!   981×1043 in the ALS geometry of `calib_xmmlas.det` whose spots in the module gaps are removed,
//!   [`in_pilatus_gap`], and a 512² detector seeing the MarCCD's solid angle with 0.32 mm pixels), same realism: grains found within 0.1° (modulo the orientation ambiguities of
//!   [`lauekit::index::twins`]) per material and detector, false grains and the time per image, by the table
//!   and, with `--nn`, by a small LaueNN model trained here for each material and detector ([`small_model`]).

use std::time::Instant;

use anyhow::{Result, bail};
use lauekit::crystal::Material;
use lauekit::geometry::{Calibration, misorientation_deg, random_rotation};
use lauekit::index::nn::{HklModel, Realism, SimSpot, simulate_image};
use lauekit::index::{
    Experiment, ExperimentalSpot, IndexResult, IndexSettings, index_spots, index_with_model,
};
use lauekit::simulate::{DetectorCut, SimulationSettings};
use nalgebra::Matrix3;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use super::BenchArgs;

/// BM32's MarCCD 165 in its Ge_blanc calibration (`calibGe111.det`).
const MARCCD: Calibration = Calibration {
    distance_mm: 70.775,
    xcen_px: 941.74,
    ycen_px: 1082.56,
    xbet_deg: 0.63,
    xgam_deg: -0.682,
    pixel_size_mm: 0.079142,
    rows: 2048,
    cols: 2048,
};

/// BM32's sCMOS (2018 rows × 2016 columns, 0.0734 mm) at a typical distance, normal near the frame centre.
const SCMOS: Calibration = Calibration {
    distance_mm: 77.0,
    xcen_px: 1000.0,
    ycen_px: 1050.0,
    xbet_deg: 0.4,
    xgam_deg: 0.3,
    pixel_size_mm: 0.0734,
    rows: 2018,
    cols: 2016,
};

/// The ALS 12.3.2 Pilatus 1M of `calib_xmmlas.det` (981 rows × 1043 columns, 0.171634 mm).
const PILATUS: Calibration = Calibration {
    distance_mm: 150.90285,
    xcen_px: 204.6874,
    ycen_px: 515.1391,
    xbet_deg: 0.22401,
    xgam_deg: -89.40622,
    pixel_size_mm: 0.171634,
    rows: 981,
    cols: 1043,
};

const BAND: (f64, f64) = (5.0, 22.0);
/// Spurious peaks added to every list, as a share of the real ones.
const SPURIOUS: f64 = 0.05;
/// A grain counts as found when within this misorientation of a true one (deg).
const FOUND_DEG: f64 = 0.1;

/// A simulated peak list: spots (real ones first, in decreasing intensity, then the spurious ones) and
/// the truth of each real one.
struct Image {
    spots: Vec<ExperimentalSpot>,
    truth: Vec<SimSpot>,
}

fn image(
    mats: &[Material],
    grains: &[(usize, Matrix3<f64>)],
    cal: &Calibration,
    rng: &mut ChaCha8Rng,
) -> Result<Image> {
    image_masked(mats, grains, cal, false, rng)
}

/// The PILATUS3 1M's module gaps (981 × 1043 px: 2 × 5 modules of 487 × 195 px, 7 px between the two columns
/// of modules, 17 px between the rows — the −1 pixels of the ALS frames, 73 533 of them): whether the pixel
/// under a LaueTools position (first centre at 1) is in a gap.
pub fn in_pilatus_gap(x_px: f64, y_px: f64) -> bool {
    let (col, row) = ((x_px - 1.0).round(), (y_px - 1.0).round());
    let gap_col = (487.0..494.0).contains(&col);
    let gap_row = row >= 0.0 && (row as i64 % 212) >= 195;
    gap_col || gap_row
}

/// [`image`], with the spots (real and spurious) that fall in the Pilatus module gaps removed when `gaps`.
/// `--verbose`: what a missed image gave (each reported grain: spots, matching rate, angle to the nearest
/// true grain) and what each true grain explains at the last matching tolerance.
fn explain_miss(
    r: &IndexResult,
    truth: &[(usize, Matrix3<f64>)],
    img: &Image,
    m: &Material,
    exp: &Experiment,
    settings: &IndexSettings,
    sym: &[Matrix3<f64>],
) -> Result<()> {
    for g in &r.grains {
        let nearest =
            truth.iter().map(|t| misorientation_deg(&t.1, &g.ub, sym)).fold(f64::INFINITY, f64::min);
        errln!(
            "  reported: {} spots, {:.1} % ({} simulated), {:.2}° from the nearest true grain",
            g.spots.len(),
            g.matching_rate,
            g.n_simulated,
            nearest
        );
        // The rotation from the nearest true grain (smallest of its symmetric equivalents): pseudo-symmetric
        // mistakes show up as one axis and angle (SiC-6H: 70.5° about the direct [0 1 0]).
        let ug = lauekit::geometry::orientation::nearest_rotation(&g.ub);
        let angle = lauekit::geometry::orientation::rotation_angle_deg;
        let closest = truth
            .iter()
            .flat_map(|t| sym.iter().map(move |s| (t.1 * s).transpose() * ug))
            .min_by(|a, b| angle(a).total_cmp(&angle(b)));
        if let Some((axis, ang)) =
            closest.and_then(|r| nalgebra::Rotation3::from_matrix_unchecked(r).axis_angle())
        {
            let to_uvw = m.lattice.direct_basis().try_inverse().unwrap_or_default();
            let uvw = to_uvw * axis.into_inner();
            let uvw = uvw / uvw.amax();
            errln!(
                "    = the true grain rotated {:.2}° about the direct [{:.2} {:.2} {:.2}]",
                ang.to_degrees(),
                uvw.x,
                uvw.y,
                uvw.z
            );
        }
    }
    let all = vec![true; img.spots.len()];
    let tol = settings.list_matching_tol_angles.last().copied().unwrap_or(settings.matchingrate_angle_tol);
    for (t, (_, u)) in truth.iter().enumerate() {
        let mm = lauekit::index::match_spots(u, m, exp, &img.spots, &all, tol)?;
        let own = img.truth.iter().filter(|x| x.grain == t).count();
        errln!(
            "  true grain {t}: {own} spots in the list; the true orientation matches {} at {tol}° ({:.1} %)",
            mm.matched.len(),
            mm.matching_rate()
        );
        // The hkl of its most intense spots (the seeds of the table's pairs): a pattern whose strongest
        // reflections are all beyond the angle table's indices cannot be seeded from them.
        let mut own: Vec<&SimSpot> = img.truth.iter().filter(|x| x.grain == t).collect();
        own.sort_by(|a, b| b.intensity.total_cmp(&a.intensity));
        let hkls: Vec<String> =
            own.iter().take(12).map(|x| format!("{} {} {}", x.hkl[0], x.hkl[1], x.hkl[2])).collect();
        errln!("    its most intense spots: ({})", hkls.join(") ("));
    }
    Ok(())
}

fn image_masked(
    mats: &[Material],
    grains: &[(usize, Matrix3<f64>)],
    cal: &Calibration,
    gaps: bool,
    rng: &mut ChaCha8Rng,
) -> Result<Image> {
    let sim = SimulationSettings {
        emin_kev: BAND.0,
        emax_kev: BAND.1,
        calibration: *cal,
        with_multiplicity: false,
        cut: DetectorCut::Frame,
    };
    let mut truth = simulate_image(mats, grains, &sim, &Realism::default(), rng)?;
    if gaps {
        truth.retain(|s| !in_pilatus_gap(s.x_px, s.y_px));
    }
    let mut spots: Vec<ExperimentalSpot> =
        truth.iter().map(|s| ExperimentalSpot::from_pixel(s.x_px, s.y_px, s.intensity, cal)).collect();
    let n_spurious = (SPURIOUS * truth.len() as f64).round() as usize;
    for _ in 0..n_spurious {
        let x = 0.5 + rng.random::<f64>() * cal.cols as f64;
        let y = 0.5 + rng.random::<f64>() * cal.rows as f64;
        let weak = if truth.is_empty() {
            1.0
        } else {
            truth[rng.random_range(truth.len() / 2..truth.len())].intensity
        };
        if !(gaps && in_pilatus_gap(x, y)) {
            spots.push(ExperimentalSpot::from_pixel(x, y, weak, cal));
        }
    }
    Ok(Image { spots, truth })
}

/// What one method gave on a set of images.
#[derive(Default)]
struct Tally {
    grains: usize,
    found: usize,
    false_grains: usize,
    peaks: usize,
    peaks_right: usize,
    times: Vec<f64>,
}

impl Tally {
    /// Scores `r` against the truth: grains within [`FOUND_DEG`] (each true grain once), peaks assigned to
    /// the found grain of their own true grain.
    fn add(
        &mut self,
        r: &IndexResult,
        truth: &[(usize, Matrix3<f64>)],
        img: &Image,
        mats: &[Material],
        syms: &[Vec<Matrix3<f64>>],
        seconds: f64,
    ) {
        self.grains += truth.len();
        self.peaks += img.truth.len();
        self.times.push(seconds);
        let mut used = vec![false; truth.len()];
        for g in &r.grains {
            let Some(mi) = mats.iter().position(|m| m.name == g.material) else {
                self.false_grains += 1;
                continue;
            };
            let hit = (0..truth.len()).find(|&t| {
                !used[t] && truth[t].0 == mi && misorientation_deg(&truth[t].1, &g.ub, &syms[mi]) <= FOUND_DEG
            });
            let Some(t) = hit else {
                self.false_grains += 1;
                continue;
            };
            used[t] = true;
            self.found += 1;
            self.peaks_right +=
                g.spots.iter().filter(|s| img.truth.get(s.peak).is_some_and(|x| x.grain == t)).count();
        }
    }

    fn found_pct(&self) -> f64 {
        100.0 * self.found as f64 / self.grains.max(1) as f64
    }

    fn peaks_pct(&self) -> f64 {
        100.0 * self.peaks_right as f64 / self.peaks.max(1) as f64
    }

    fn median_ms(&self) -> f64 {
        if self.times.is_empty() {
            return f64::NAN;
        }
        let mut t = self.times.clone();
        t.sort_by(f64::total_cmp);
        1e3 * t[t.len() / 2]
    }

    fn mean_ms(&self) -> f64 {
        1e3 * self.times.iter().sum::<f64>() / self.times.len().max(1) as f64
    }
}

fn timed(f: impl FnOnce() -> lauekit::error::Result<IndexResult>) -> Result<(IndexResult, f64)> {
    let t = Instant::now();
    let r = f()?;
    Ok((r, t.elapsed().as_secs_f64()))
}

fn calibration(a: &BenchArgs) -> Result<Calibration> {
    match &a.calib {
        Some(c) => {
            Ok(lauekit::io::DetFile::parse(&std::fs::read_to_string(c)?, &c.display().to_string())?
                .calibration)
        }
        None => Ok(MARCCD),
    }
}

/// `bench index-grains` (module docs).
pub fn bench_index_grains(a: &BenchArgs) -> Result<()> {
    let cal = calibration(a)?;
    let mats = vec![Material::from_table(&a.material)?];
    let syms: Vec<Vec<Matrix3<f64>>> =
        mats.iter().map(|m| m.laue_group.rotations(&m.lattice)).collect::<lauekit::error::Result<_>>()?;
    let model = match &a.model {
        Some(mp) => {
            let (w, j) = (mp.with_extension("bpk"), mp.with_extension("json"));
            Some(HklModel::from_named_bytes(
                &std::fs::read(&w)?,
                &w.display().to_string(),
                &std::fs::read_to_string(&j)?,
                &j.display().to_string(),
                &lauekit::device::cpu().device,
            )?)
        }
        None => None,
    };
    if a.min_grains == 0 || a.min_grains > a.max_grains {
        bail!("--min-grains {} --max-grains {}: need 1 ≤ min ≤ max", a.min_grains, a.max_grains);
    }
    let exp = Experiment { calibration: cal, emin_kev: BAND.0, emax_kev: BAND.1 };
    outln!(
        "{} images per grain count, {} in {}×{} px, {:.0}–{:.0} keV, jitter 0.5 px, 30 % weakest dropped, \
         5 % spurious peaks, seed {}",
        a.images,
        a.material,
        cal.cols,
        cal.rows,
        BAND.0,
        BAND.1,
        a.seed
    )?;
    outln!(
        "| grains | method | grains ≤ 0.1° | peaks to the right grain | false grains | median ms / image | \
         mean ms |"
    )?;
    outln!("|---|---|---|---|---|---|---|")?;
    for k in a.min_grains..=a.max_grains {
        let settings = IndexSettings { nbgrainstofind: k, ..IndexSettings::default() };
        let (mut lut, mut nn) = (Tally::default(), Tally::default());
        for i in 0..a.images {
            let mut rng = ChaCha8Rng::seed_from_u64(a.seed ^ ((k as u64) << 32) ^ i as u64);
            let truth: Vec<(usize, Matrix3<f64>)> = (0..k).map(|_| (0, random_rotation(&mut rng))).collect();
            let img = image(&mats, &truth, &cal, &mut rng)?;
            let (r, s) = timed(|| index_spots(&img.spots, &mats, &exp, &settings))?;
            lut.add(&r, &truth, &img, &mats, &syms, s);
            if let Some(m) = &model {
                let (r, s) = timed(|| index_with_model(&img.spots, &mats, m, &exp, &settings))?;
                nn.add(&r, &truth, &img, &mats, &syms, s);
            }
        }
        let mut rows = vec![("table", lut)];
        if model.is_some() {
            rows.push(("nn", nn));
        }
        for (name, t) in rows {
            outln!(
                "| {k} | {name} | {:.1} % ({}/{}) | {:.1} % ({}/{}) | {} | {:.1} | {:.1} |",
                t.found_pct(),
                t.found,
                t.grains,
                t.peaks_pct(),
                t.peaks_right,
                t.peaks,
                t.false_grains,
                t.median_ms(),
                t.mean_ms()
            )?;
        }
    }
    Ok(())
}

/// The small LaueNN model `bench index-materials --nn` trains for one material and detector: 80 random
/// orientations, images of 1–3 grains (50 per grain count), hkl families up to index 4, histograms over 60° in
/// 0.2° bins, 5 epochs (Adam, lr 2·10⁻³, batches of 256), seed 0; spots simulated without the Pilatus gaps.
fn small_model(m: &Material, cal: &Calibration) -> Result<HklModel> {
    let mut ds = lauekit::index::nn::DatasetSettings::new(*cal, BAND.0, BAND.1);
    ds.n_orientations = 80;
    ds.max_grains = 3;
    ds.images_per_grain_count = Some(50);
    ds.features = lauekit::index::nn::FeatureSettings { radius_deg: 60.0, bin_deg: 0.2 };
    ds.min_class_samples = 5;
    ds.seed = 0;
    let data = lauekit::index::nn::generate(std::slice::from_ref(m), &[4], &ds)?;
    let ts = lauekit::index::nn::TrainSettings {
        epochs: 5,
        batch_size: 256,
        learning_rate: 2e-3,
        patience: 0,
        seed: 0,
        ..Default::default()
    };
    let device = lauekit::device::cpu().device;
    Ok(lauekit::index::nn::train(
        &data,
        std::slice::from_ref(m),
        &ts,
        &device,
        serde_json::Value::Null,
        |_| true,
    )?)
}

/// `bench index-materials` (module docs).
pub fn bench_index_materials(a: &BenchArgs) -> Result<()> {
    let names: Vec<String> = if a.materials == "all" {
        lauekit::crystal::MATERIALS.iter().map(|m| m.name.to_string()).collect()
    } else {
        a.materials.split(',').map(|s| s.trim().to_string()).collect()
    };
    let mats: Vec<Material> = names.iter().map(|n| Material::from_table(n)).collect::<Result<_, _>>()?;
    let k = a.grains_per_image;
    if !(1..=10).contains(&k) {
        bail!("--grains-per-image {k}: need 1 to 10");
    }
    // (name, calibration, module gaps)
    let detectors: [(&str, Calibration, bool); 4] = [
        ("MarCCD 2048²", MARCCD, false),
        ("sCMOS 2018×2016", SCMOS, false),
        ("Pilatus 1M (gaps)", PILATUS, true),
        // The MarCCD's solid angle on 512 × 512 pixels of 0.32 mm (0.5 px of jitter ≈ 0.13° per spot).
        ("512²", lauekit::scan::simulate::detector_calibration(512, 512)?, false),
    ];
    let settings = IndexSettings { nbgrainstofind: k, ..IndexSettings::default() };
    let t_start = Instant::now();
    outln!(
        "{} images per material and detector ({} materials), {k} grain(s) per image, {:.0}–{:.0} keV, jitter 0.5 px, \
         30 % weakest dropped, 5 % spurious peaks, Pilatus spots in the module gaps removed, seed {}{}",
        a.images,
        mats.len(),
        BAND.0,
        BAND.1,
        a.seed,
        if a.nn { "; nn: a small model per material and detector (small_model), trained here" } else { "" }
    )?;
    let methods: &[&str] = if a.nn { &["table", "nn"] } else { &["table"] };
    let mut header = String::from("| material |");
    let mut rule = String::from("|---|");
    for (d, _, _) in &detectors {
        for m in methods {
            header.push_str(&format!(" {d} {m} |"));
            rule.push_str("---|");
        }
    }
    outln!("{header}")?;
    outln!("{rule}")?;
    let n_cols = detectors.len() * methods.len();
    let mut totals: Vec<Tally> = (0..n_cols).map(|_| Tally::default()).collect();
    let mut train_s = 0.0;
    for (mi, m) in mats.iter().enumerate() {
        let one = std::slice::from_ref(m);
        // Found = within 0.1° modulo the choices spot positions cannot decide (quartz's Dauphiné twin, the a/c
        // exchange of BaTiO3: the grain reports' orientation_note).
        let sym = vec![lauekit::index::twins::rotations_modulo_ambiguities(m)?];
        let mut cells = Vec::new();
        for (d, (dname, cal, gaps)) in detectors.iter().enumerate() {
            let exp = Experiment { calibration: *cal, emin_kev: BAND.0, emax_kev: BAND.1 };
            let model = if a.nn {
                let t = Instant::now();
                let model = small_model(m, cal)?;
                train_s += t.elapsed().as_secs_f64();
                Some(model)
            } else {
                None
            };
            let (mut lut, mut nn) = (Tally::default(), Tally::default());
            for i in 0..a.images {
                let seed = a.seed ^ ((d as u64) << 40) ^ ((mi as u64) << 32) ^ ((k as u64) << 24) ^ i as u64;
                let mut rng = ChaCha8Rng::seed_from_u64(seed);
                let truth: Vec<(usize, Matrix3<f64>)> =
                    (0..k).map(|_| (0, random_rotation(&mut rng))).collect();
                let img = image_masked(one, &truth, cal, *gaps, &mut rng)?;
                let (r, s) = timed(|| index_spots(&img.spots, one, &exp, &settings))?;
                let before = lut.found;
                lut.add(&r, &truth, &img, one, &sym, s);
                if a.verbose && lut.found < before + k {
                    errln!(
                        "table missed: {dname} {} image {i} seed {seed}: {}/{k} found",
                        m.name,
                        lut.found - before
                    );
                    explain_miss(&r, &truth, &img, m, &exp, &settings, &sym[0])?;
                }
                if let Some(model) = &model {
                    let (r, s) = timed(|| index_with_model(&img.spots, one, model, &exp, &settings))?;
                    let before = nn.found;
                    nn.add(&r, &truth, &img, one, &sym, s);
                    if a.verbose && nn.found < before + k {
                        errln!(
                            "nn missed: {dname} {} image {i} seed {seed}: {}/{k} found",
                            m.name,
                            nn.found - before
                        );
                        explain_miss(&r, &truth, &img, m, &exp, &settings, &sym[0])?;
                    }
                }
            }
            cells.push(lut);
            if a.nn {
                cells.push(nn);
            }
        }
        let row: Vec<String> = cells
            .iter()
            .map(|t| {
                let false_grains =
                    if t.false_grains > 0 { format!(", {} false", t.false_grains) } else { String::new() };
                format!("{}/{}{false_grains}", t.found, t.grains)
            })
            .collect();
        outln!("| {} | {} |", m.name, row.join(" | "))?;
        for (c, t) in cells.into_iter().enumerate() {
            totals[c].grains += t.grains;
            totals[c].found += t.found;
            totals[c].false_grains += t.false_grains;
            totals[c].times.extend(t.times);
        }
    }
    let row: Vec<String> = totals
        .iter()
        .map(|t| format!("**{:.1} %** ({} false, {:.0} ms/img)", t.found_pct(), t.false_grains, t.mean_ms()))
        .collect();
    outln!("| all | {} |", row.join(" | "))?;
    outln!(
        "wall time {:.1} s{}",
        t_start.elapsed().as_secs_f64(),
        if a.nn { format!(" (model training {train_s:.1} s)") } else { String::new() }
    )?;
    Ok(())
}
