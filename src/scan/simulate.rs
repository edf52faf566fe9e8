//! Synthetic raster scans with their truth: a microstructure (Voronoi grains of a primary phase, a Σ3 twin
//! band inside one grain, round particles of a second phase), an orientation gradient and a deviatoric strain
//! in every region, mixed patterns where the beam straddles a boundary, empty points — and one detector image
//! per point, drawn with the pattern simulator ([`simulate_grains`]) and [`render_image`].
//!
//! Frames and conventions:
//! - Map: point (ix, iy) sits at (ix·step_x, iy·step_y) µm; its acquisition index comes from
//!   [`ScanGrid::position`] (x fastest, serpentine if asked). Distances, boundaries and gradients live in
//!   this plane; how it sits in the lab frame does not enter the images.
//! - Orientations: UB as everywhere in lauekit, q_lab = UB·B0·hkl (LaueTools' lab frame). A region's rotation
//!   at map position p is U(p) = R(a, g·(p − c)·d)·U_c: U_c at the region's centroid c, a rotation about a
//!   lab-frame axis a by g (deg/µm) times the distance along an in-plane direction d.
//! - Strain: UB = U·T with T upper triangular and T₀₀ = 1, the distortion lauekit's strain refinement fits
//!   (`index::refine`), so a refinement can recover it; the truth gives its deviatoric part as
//!   [`deviatoric_strain_crystal`] computes it.
//! - Σ3 twin: the parent's orientation field turned by 60° about a ⟨111⟩ of the crystal, U_twin(p) =
//!   U_parent(p)·R⟨111⟩(60°), so the misorientation (as [`crate::geometry::misorientation_deg`] computes it
//!   under m-3m) is 60° at every point of the band.
//!
//! Plain computation (no files, no threads): the page renders points lazily one by one, the CLI in
//! parallel. Everything is deterministic: the microstructure for `seed`, each point's image for
//! (`seed`, `image.seed`, point index) alone.

use nalgebra::{Matrix3, Rotation3, Unit, Vector3};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::StandardNormal;
use serde::{Deserialize, Serialize};

use super::ScanGrid;
use crate::crystal::{LaueGroup, Material};
use crate::error::{LaueError, Result, Stage};
use crate::geometry::{Calibration, random_rotation};
use crate::index::refine::deviatoric_strain_crystal;
use crate::simulate::{
    DetectorCut, Grain, ImageModel, SimulationSettings, Spot, SyntheticImage, render_image, simulate_grains,
};

/// The MarCCD 165 calibration of BM32's Ge_blanc reference that [`detector_calibration`] scales.
const REFERENCE_CALIBRATION: Calibration = Calibration {
    distance_mm: 70.775,
    xcen_px: 941.736,
    ycen_px: 1082.562,
    xbet_deg: 0.63,
    xgam_deg: -0.682,
    pixel_size_mm: 0.079142,
    rows: 2048,
    cols: 2048,
};

/// Everything that defines a synthetic scan. Fields missing from a JSON spec take their defaults.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct SyntheticScanSpec {
    /// points along x, the fast axis
    pub nx: usize,
    /// points along y
    pub ny: usize,
    /// step along x and y (µm)
    pub step_um: [f64; 2],
    /// serpentine acquisition: odd rows run from high x to low x
    pub snake: bool,
    /// primary phase, a name from the materials table (e.g. "Cu")
    pub material: String,
    /// a second phase as round particles, if any
    pub second_phase: Option<SecondPhase>,
    /// number of grains of the primary phase (Voronoi cells)
    pub grains: usize,
    /// a Σ3 twin band through the largest grain (cubic primary phase only)
    pub twin: Option<TwinBand>,
    /// orientation gradient inside every region (deg per µm along the region's gradient direction)
    pub gradient_deg_per_um: f64,
    /// deviatoric strain of every region: its von Mises equivalent √(2/3 ε:ε) (dimensionless)
    pub strain: f64,
    /// a point closer than this to a boundary (µm) also gets the neighbour's spots, with a weight falling
    /// linearly from 0.5 at the boundary to 0 at this distance
    pub boundary_width_um: f64,
    /// fraction of the points with no crystal (background only), drawn at random
    pub empty_fraction: f64,
    /// seed of the microstructure: grain seeds, orientations, gradients, strains, particles, empty points
    pub seed: u64,
    /// detector: LaueTools' five parameters, pixel size (mm) and frame (rows × cols)
    pub calibration: Calibration,
    /// lower end of the white beam (keV)
    pub emin_kev: f64,
    /// upper end of the white beam (keV)
    pub emax_kev: f64,
    /// how images are drawn; its beam centre is taken from `calibration`, its `seed` (with `seed` and the
    /// point index) seeds each point's intensities and noise. The default suits the default detector; for
    /// another frame, [`default_image_model`] scales the background hump to it
    pub image: ImageModel,
}

/// A second phase: round particles dropped at random until they cover `area_fraction` of the points.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct SecondPhase {
    /// a name from the materials table (e.g. "Si")
    pub material: String,
    /// fraction of the map's points inside particles (0–1)
    pub area_fraction: f64,
    /// mean particle radius (µm); each particle's radius is drawn within ±30 % of it
    pub particle_radius_um: f64,
}

/// A straight Σ3 twin band through the centroid of the largest grain, in a random in-plane direction.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct TwinBand {
    /// band width (µm)
    pub width_um: f64,
}

impl Default for SyntheticScanSpec {
    fn default() -> Self {
        let calibration = REFERENCE_CALIBRATION_512;
        SyntheticScanSpec {
            nx: 40,
            ny: 30,
            step_um: [1.0, 1.0],
            snake: false,
            material: "Cu".into(),
            second_phase: None,
            grains: 6,
            twin: Some(TwinBand::default()),
            gradient_deg_per_um: 0.02,
            strain: 1e-3,
            boundary_width_um: 0.5,
            empty_fraction: 0.02,
            seed: 0,
            calibration,
            emin_kev: 5.0,
            emax_kev: 22.0,
            image: default_image_model(&calibration),
        }
    }
}

impl Default for SecondPhase {
    fn default() -> Self {
        SecondPhase { material: "Si".into(), area_fraction: 0.2, particle_radius_um: 2.0 }
    }
}

impl Default for TwinBand {
    fn default() -> Self {
        TwinBand { width_um: 3.0 }
    }
}

/// The default detector: [`detector_calibration`]`(512, 512)`, written out so that it is a constant.
const REFERENCE_CALIBRATION_512: Calibration = Calibration {
    distance_mm: 70.775,
    xcen_px: 235.809,
    ycen_px: 271.0155,
    xbet_deg: 0.63,
    xgam_deg: -0.682,
    pixel_size_mm: 0.316568,
    rows: 512,
    cols: 512,
};

/// A rows × cols detector seeing the same solid angle as BM32's MarCCD 165 (2048², 0.079142 mm pixels) in
/// its Ge_blanc calibration (dd 70.775 mm, xbet 0.63°, xgam −0.682°): the pixels grow by
/// 2048 / max(rows, cols) and the normal's foot O keeps its place (mm) relative to the frame's centre.
/// A Cu crystal (5–22 keV) puts about 50 spots on it (45–56 over random orientations, harmonics included).
pub fn detector_calibration(rows: usize, cols: usize) -> Result<Calibration> {
    let r = REFERENCE_CALIBRATION;
    if rows == 0 || cols == 0 {
        return Err(LaueError::InvalidCalibration(format!("detector {rows}×{cols} px has no pixel")));
    }
    let pixel_size_mm = r.pixel_size_mm * r.rows.max(r.cols) as f64 / rows.max(cols) as f64;
    // Offsets (mm) of O from the frame centre; pixel centres are at 1, 2, … so the centre is at (n + 1)/2.
    let dx_mm = (r.xcen_px - (r.cols as f64 + 1.0) / 2.0) * r.pixel_size_mm;
    let dy_mm = (r.ycen_px - (r.rows as f64 + 1.0) / 2.0) * r.pixel_size_mm;
    Calibration {
        xcen_px: (cols as f64 + 1.0) / 2.0 + dx_mm / pixel_size_mm,
        ycen_px: (rows as f64 + 1.0) / 2.0 + dy_mm / pixel_size_mm,
        pixel_size_mm,
        rows,
        cols,
        ..r
    }
    .validated()
}

/// The image model suited to a detector: [`ImageModel::default`] with its background hump scaled to the
/// frame (500 px on 2048²) and centred on the calibration's beam centre.
pub fn default_image_model(calibration: &Calibration) -> ImageModel {
    let scale = calibration.rows.max(calibration.cols) as f64 / 2048.0;
    let d = ImageModel::default();
    ImageModel {
        hump_sigma_px: d.hump_sigma_px * scale,
        xcen_px: calibration.xcen_px,
        ycen_px: calibration.ycen_px,
        ..d
    }
}

/// What a region of the map is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RegionKind {
    /// a Voronoi grain of the primary phase
    Grain,
    /// the Σ3 twin band inside a grain (`RegionTruth::parent`)
    Twin,
    /// a particle of the second phase
    Phase,
}

/// The truth of one region.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RegionTruth {
    /// index in [`SyntheticScan::regions`]: grains first, then the twin, then the particles
    pub id: usize,
    pub kind: RegionKind,
    /// the twinned grain, for the twin
    pub parent: Option<usize>,
    pub material: String,
    /// mean of the UBs (rows, strain included) of the region's non-empty points; U_c·T if it has none
    pub ub_mean: [[f64; 3]; 3],
    /// rotation U_c (rows, no strain) at the centroid: the orientation to compare misorientations with
    pub orientation: [[f64; 3]; 3],
    /// distortion T (rows): UB = U·T, upper triangular, T₀₀ = 1
    pub distortion: [[f64; 3]; 3],
    /// deviatoric strain in the crystal frame (dimensionless), `deviatoric_strain_crystal(U·T, B0)`
    pub deviatoric_strain_crystal: [[f64; 3]; 3],
    /// centroid of the map points inside the region, empty ones included (µm)
    pub centroid_um: [f64; 2],
    /// lab-frame axis of the orientation gradient (unit vector)
    pub gradient_axis_lab: [f64; 3],
    /// in-plane direction of the orientation gradient on the map (unit vector)
    pub gradient_direction: [f64; 2],
    /// rotation per µm along `gradient_direction` (deg/µm)
    pub gradient_deg_per_um: f64,
    /// number of non-empty points whose main region this is
    pub n_points: usize,
}

/// The truth of one scan point.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PointTruth {
    /// acquisition index
    pub index: usize,
    pub ix: usize,
    pub iy: usize,
    /// map position (µm)
    pub x_um: f64,
    pub y_um: f64,
    /// the region under the beam centre; None at an empty point
    pub region: Option<usize>,
    /// its material
    pub material: Option<String>,
    /// the exact UB drawn (rows, strain included)
    pub ub: Option<[[f64; 3]; 3]>,
    /// whether the point lies within `boundary_width_um` of a boundary
    pub boundary: bool,
    /// the region across the nearest boundary and the weight of its spots (the main region's is 1 − weight)
    pub second: Option<(usize, f64)>,
    /// the UB drawn for `second` (rows, strain included)
    pub second_ub: Option<[[f64; 3]; 3]>,
}

/// The whole truth of a scan, as `truth.json` holds it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScanTruth {
    /// `lauekit X.Y.Z`
    pub software: String,
    pub spec: SyntheticScanSpec,
    pub grid: ScanGrid,
    pub regions: Vec<RegionTruth>,
    /// one per point, in acquisition order
    pub points: Vec<PointTruth>,
}

/// A synthetic scan: the microstructure, the truth of every point and region, and images on demand.
#[derive(Debug, Clone)]
pub struct SyntheticScan {
    pub spec: SyntheticScanSpec,
    pub grid: ScanGrid,
    pub regions: Vec<RegionTruth>,
    /// one per point, in acquisition order
    pub points: Vec<PointTruth>,
    fields: Vec<OrientationField>,
    materials: Vec<Material>,
}

impl SyntheticScan {
    /// Builds the microstructure of `spec` and the truth of every point.
    pub fn new(spec: &SyntheticScanSpec) -> Result<SyntheticScan> {
        let grid = ScanGrid::new(spec.nx, spec.ny, Some(spec.step_um), spec.snake)?;
        check_spec(spec)?;
        let mut materials = vec![Material::from_table(&spec.material)?];
        if let Some(p) = &spec.second_phase {
            materials.push(Material::from_table(&p.material)?);
        }
        let twin_axis = match &spec.twin {
            Some(_) => Some(twin_axis(&materials[0])?),
            None => None,
        };
        let n = grid.len();
        let positions: Vec<[f64; 2]> = (0..n)
            .map(|i| {
                let (ix, iy) = grid.position(i);
                [ix as f64 * spec.step_um[0], iy as f64 * spec.step_um[1]]
            })
            .collect();

        // Layout: grain seeds, then the band through the largest grain, then the particles.
        let domain = Domain::of(spec);
        let seeds = grain_seeds(spec, &domain);
        let mut layout = Layout { seeds, band: None, discs: Vec::new() };
        if let Some(t) = &spec.twin {
            let mut count = vec![0usize; spec.grains];
            let mut sum = vec![[0.0; 2]; spec.grains];
            for p in &positions {
                let g = layout.voronoi(*p).region;
                count[g] += 1;
                sum[g] = [sum[g][0] + p[0], sum[g][1] + p[1]];
            }
            let largest = (0..spec.grains).max_by_key(|&g| (count[g], std::cmp::Reverse(g))).unwrap_or(0);
            let c = count[largest].max(1) as f64;
            let mut rng = stream(spec.seed, STREAM_TWIN, 0);
            let angle = rng.random::<f64>() * std::f64::consts::PI;
            layout.band = Some(Band {
                grain: largest,
                region: spec.grains,
                centre: [sum[largest][0] / c, sum[largest][1] / c],
                normal: [-angle.sin(), angle.cos()],
                half_width: t.width_um / 2.0,
            });
        }
        if let Some(p) = &spec.second_phase {
            let first = spec.grains + usize::from(layout.band.is_some());
            layout.discs = particles(p, spec.seed, &domain, &positions, first);
        }
        let n_regions = spec.grains + usize::from(layout.band.is_some()) + layout.discs.len();

        // Where each point is, and the centroids of the regions.
        let sites: Vec<Site> = positions.iter().map(|p| layout.locate(*p)).collect();
        let mut centroid = vec![[0.0; 2]; n_regions];
        let mut count = vec![0usize; n_regions];
        for (s, p) in sites.iter().zip(&positions) {
            count[s.region] += 1;
            centroid[s.region] = [centroid[s.region][0] + p[0], centroid[s.region][1] + p[1]];
        }
        for r in 0..n_regions {
            centroid[r] = if count[r] > 0 {
                [centroid[r][0] / count[r] as f64, centroid[r][1] / count[r] as f64]
            } else {
                layout.anchor(r)
            };
        }

        // Orientation fields: grains and particles draw theirs; the twin follows its parent's.
        let rate = spec.gradient_deg_per_um.to_radians();
        let mut fields = Vec::with_capacity(n_regions);
        let mut kinds = Vec::with_capacity(n_regions);
        for (g, c) in centroid.iter().enumerate().take(spec.grains) {
            let mut rng = stream(spec.seed, STREAM_GRAIN, g as u64);
            fields.push(OrientationField::random(&mut rng, 0, &materials[0], *c, rate, spec.strain));
            kinds.push((RegionKind::Grain, None));
        }
        if let (Some(band), Some(axis)) = (&layout.band, twin_axis) {
            let parent = &fields[band.grain];
            let c = centroid[band.region];
            let mut rng = stream(spec.seed, STREAM_TWIN, 1);
            let t = distortion_for(&random_deviatoric(&mut rng, spec.strain), &materials[0].lattice.b0());
            let u_c = parent.orientation_at(c) * twin_rotation(axis);
            fields.push(OrientationField { u_c, centre: c, t, ..parent.clone() });
            kinds.push((RegionKind::Twin, Some(band.grain)));
        }
        for (k, d) in layout.discs.iter().enumerate() {
            let mut rng = stream(spec.seed, STREAM_PARTICLE, k as u64);
            let c = centroid[d.region];
            fields.push(OrientationField::random(&mut rng, 1, &materials[1], c, rate, spec.strain));
            kinds.push((RegionKind::Phase, None));
        }

        // Empty points: exactly round(fraction·n) of them, a partial Fisher–Yates shuffle.
        let n_empty = ((spec.empty_fraction * n as f64).round() as usize).min(n);
        let mut order: Vec<usize> = (0..n).collect();
        let mut rng = stream(spec.seed, STREAM_EMPTY, 0);
        for i in 0..n_empty {
            let j = rng.random_range(i..n);
            order.swap(i, j);
        }
        let mut empty = vec![false; n];
        for &i in &order[..n_empty] {
            empty[i] = true;
        }

        let mut points = Vec::with_capacity(n);
        let mut ub_sum = vec![Matrix3::zeros(); n_regions];
        let mut n_points = vec![0usize; n_regions];
        for (i, (site, p)) in sites.iter().zip(&positions).enumerate() {
            let (ix, iy) = grid.position(i);
            let mut truth = PointTruth {
                index: i,
                ix,
                iy,
                x_um: p[0],
                y_um: p[1],
                region: None,
                material: None,
                ub: None,
                boundary: false,
                second: None,
                second_ub: None,
            };
            if !empty[i] {
                let f = &fields[site.region];
                let ub = f.ub_at(*p);
                ub_sum[site.region] += ub;
                n_points[site.region] += 1;
                truth.region = Some(site.region);
                truth.material = Some(materials[f.material].name.clone());
                truth.ub = Some(rows(&ub));
                if let Some(nb) = site.neighbour
                    && site.distance_um < spec.boundary_width_um
                {
                    let weight = 0.5 * (1.0 - site.distance_um.max(0.0) / spec.boundary_width_um);
                    truth.boundary = true;
                    truth.second = Some((nb, weight));
                    truth.second_ub = Some(rows(&fields[nb].ub_at(*p)));
                }
            }
            points.push(truth);
        }

        let regions = (0..n_regions)
            .map(|r| {
                let f = &fields[r];
                let material = &materials[f.material];
                let ub_mean = if n_points[r] > 0 { ub_sum[r] / n_points[r] as f64 } else { f.u_c * f.t };
                RegionTruth {
                    id: r,
                    kind: kinds[r].0,
                    parent: kinds[r].1,
                    material: material.name.clone(),
                    ub_mean: rows(&ub_mean),
                    orientation: rows(&f.u_c),
                    distortion: rows(&f.t),
                    deviatoric_strain_crystal: rows(&deviatoric_strain_crystal(
                        &(f.u_c * f.t),
                        &material.lattice.b0(),
                    )),
                    centroid_um: f.centre,
                    gradient_axis_lab: [f.axis.x, f.axis.y, f.axis.z],
                    gradient_direction: f.direction,
                    gradient_deg_per_um: f.rate_rad_per_um.to_degrees(),
                    n_points: n_points[r],
                }
            })
            .collect();
        Ok(SyntheticScan { spec: spec.clone(), grid, regions, points, fields, materials })
    }

    /// Number of points.
    pub fn len(&self) -> usize {
        self.points.len()
    }

    /// Whether the scan has no point (never: a grid has at least one).
    pub fn is_empty(&self) -> bool {
        self.points.is_empty()
    }

    /// The truth as `truth.json` holds it (a copy).
    pub fn truth(&self) -> ScanTruth {
        ScanTruth {
            software: super::software_version(),
            spec: self.spec.clone(),
            grid: self.grid,
            regions: self.regions.clone(),
            points: self.points.clone(),
        }
    }

    /// Rotation (no strain) of `region`'s orientation field at map position `x_um`, `y_um` — also outside
    /// the region, where a mixed pattern needs it.
    pub fn orientation_at(&self, region: usize, x_um: f64, y_um: f64) -> Result<Matrix3<f64>> {
        let f = self.fields.get(region).ok_or_else(|| {
            LaueError::settings(
                Stage::Scan,
                format!("region {region}: the scan has {} regions", self.fields.len()),
            )
        })?;
        Ok(f.orientation_at([x_um, y_um]))
    }

    /// The crystals under the beam at point `index` with the weights of their spots: none at an empty point,
    /// one inside a region, two near a boundary (main region first).
    pub fn point_grains(&self, index: usize) -> Result<Vec<(Grain, f64)>> {
        let p = self.point(index)?;
        let mut out = Vec::with_capacity(2);
        let (Some(region), Some(ub)) = (p.region, p.ub) else { return Ok(out) };
        let w2 = p.second.map_or(0.0, |s| s.1);
        out.push((self.grain(region, &ub), 1.0 - w2));
        if let (Some((r2, w2)), Some(ub2)) = (p.second, p.second_ub) {
            out.push((self.grain(r2, &ub2), w2));
        }
        Ok(out)
    }

    /// The simulated spots at point `index` ([`Spot::grain`] 0 = main region, 1 = the one across the
    /// boundary), sorted by energy.
    pub fn point_spots(&self, index: usize) -> Result<Vec<Spot>> {
        let grains: Vec<Grain> = self.point_grains(index)?.into_iter().map(|(g, _)| g).collect();
        simulate_grains(&grains, &self.simulation_settings())
    }

    /// The detector image of point `index` (16-bit, rows × cols of the calibration) with the spots drawn.
    /// A mixed point adds the second crystal's spots, their heights scaled by its weight and the main ones
    /// by 1 − weight; an empty point is background and noise only. The per-reflection intensity spread of
    /// the image model is drawn per point, so a grain's spot intensities vary from point to point.
    pub fn render_point(&self, index: usize) -> Result<SyntheticImage> {
        let grains = self.point_grains(index)?;
        let spots = self.point_spots(index)?;
        let cal = self.spec.calibration;
        let model = ImageModel {
            seed: point_seed(self.spec.seed, self.spec.image.seed, index),
            xcen_px: cal.xcen_px,
            ycen_px: cal.ycen_px,
            ..self.spec.image
        };
        let Some((main, w1)) = grains.first() else {
            return render_image(&[], |_| 1.0, cal.rows, cal.cols, &model);
        };
        let of = |g: u32| spots.iter().filter(|s| s.grain == g).copied().collect::<Vec<Spot>>();
        let lattice = main.material.lattice;
        let main_model = ImageModel { peak_counts: model.peak_counts * w1, ..model };
        let mut image = render_image(&of(0), |h| lattice.d_spacing(h), cal.rows, cal.cols, &main_model)?;
        if let Some((second, w2)) = grains.get(1) {
            // Only the second crystal's signal, with its own Poisson noise; background and read noise are
            // already in the main image.
            let signal_only = ImageModel {
                peak_counts: model.peak_counts * w2,
                background: 0.0,
                background_hump: 0.0,
                offset: 0.0,
                read_noise: 0.0,
                seed: model.seed ^ 0x5EC0_9D00_0000_0001,
                ..model
            };
            let lattice = second.material.lattice;
            let extra = render_image(&of(1), |h| lattice.d_spacing(h), cal.rows, cal.cols, &signal_only)?;
            for (p, e) in image.pixels.iter_mut().zip(&extra.pixels) {
                *p = p.saturating_add(*e).min(model.saturation);
            }
            image.truth.extend(extra.truth);
        }
        Ok(image)
    }

    /// The image of point `index` as a detector [`crate::io::Frame`] (what a reader gives for its TIFF file),
    /// named as the CLI writes it (`scan_NNNN.tif`).
    pub fn point_frame(&self, index: usize) -> Result<crate::io::Frame> {
        let img = self.render_point(index)?;
        Ok(crate::io::Frame {
            rows: img.rows,
            cols: img.cols,
            pixels: crate::io::frame::Pixels::U16(img.pixels),
            mask: None,
            detector: None,
            pixel_size_mm: Some(self.spec.calibration.pixel_size_mm),
            metadata: Default::default(),
            source: point_file_name("scan", index, self.len()),
        })
    }

    /// Pattern simulation settings of the scan: its band and detector, spots on the frame.
    pub fn simulation_settings(&self) -> SimulationSettings {
        SimulationSettings {
            emin_kev: self.spec.emin_kev,
            emax_kev: self.spec.emax_kev,
            calibration: self.spec.calibration,
            with_multiplicity: false,
            cut: DetectorCut::Frame,
        }
    }

    fn point(&self, index: usize) -> Result<&PointTruth> {
        self.points.get(index).ok_or_else(|| {
            LaueError::settings(
                Stage::Scan,
                format!("point {index}: the scan has {} points", self.points.len()),
            )
        })
    }

    fn grain(&self, region: usize, ub: &[[f64; 3]; 3]) -> Grain {
        let m = self.fields.get(region).map_or(0, |f| f.material);
        Grain { material: self.materials[m].clone(), ub: from_rows(ub) }
    }
}

/// LaueTools' image file name of a scan point: `prefix_NNNN.tif`, the index zero-padded to 4 digits, or more
/// when the scan has more than 10 000 points.
pub fn point_file_name(prefix: &str, index: usize, n_points: usize) -> String {
    let digits = n_points.saturating_sub(1).max(1).to_string().len().max(4);
    format!("{prefix}_{index:0digits$}.tif")
}

fn check_spec(s: &SyntheticScanSpec) -> Result<()> {
    let bad = |what: String| Err(LaueError::settings(Stage::Scan, what));
    let finite_in = |v: f64, lo: f64, hi: f64| v.is_finite() && v >= lo && v <= hi;
    if s.grains == 0 || s.grains > 10_000 {
        return bad(format!("{} grains: need 1 to 10 000", s.grains));
    }
    if !finite_in(s.gradient_deg_per_um, 0.0, 10.0) {
        return bad(format!("orientation gradient {} deg/µm: need 0 to 10", s.gradient_deg_per_um));
    }
    if !finite_in(s.strain, 0.0, 0.05) {
        return bad(format!("strain {}: need 0 to 0.05 (a deviatoric strain, not a percentage)", s.strain));
    }
    if !finite_in(s.boundary_width_um, 0.0, f64::MAX) {
        return bad(format!("boundary width {} µm: need ≥ 0", s.boundary_width_um));
    }
    if !finite_in(s.empty_fraction, 0.0, 1.0) {
        return bad(format!("empty fraction {}: need 0 to 1", s.empty_fraction));
    }
    if let Some(p) = &s.second_phase {
        if !finite_in(p.area_fraction, 0.0, 1.0) {
            return bad(format!("second-phase area fraction {}: need 0 to 1", p.area_fraction));
        }
        if !(p.particle_radius_um.is_finite() && p.particle_radius_um > 0.0) {
            return bad(format!("particle radius {} µm: need > 0", p.particle_radius_um));
        }
    }
    if let Some(t) = &s.twin
        && !(t.width_um.is_finite() && t.width_um > 0.0)
    {
        return bad(format!("twin band width {} µm: need > 0", t.width_um));
    }
    let (a, b) = (s.emin_kev, s.emax_kev);
    if !(a.is_finite() && b.is_finite() && a > 0.0 && b > a && b <= 500.0) {
        return bad(format!("energy band {a}–{b} keV: need 0 < Emin < Emax ≤ 500"));
    }
    s.calibration.validated()?;
    // The image model is checked by drawing one background pixel.
    render_image(&[], |_| 1.0, 1, 1, &s.image)?;
    Ok(())
}

/// The ⟨111⟩ of a cubic crystal, in the orthonormal frame of its B0, that its Σ3 twins turn about.
fn twin_axis(material: &Material) -> Result<Vector3<f64>> {
    if !matches!(material.laue_group, LaueGroup::CubicM3m | LaueGroup::CubicM3) {
        return Err(LaueError::settings(
            Stage::Scan,
            format!(
                "a Σ3 twin (60° about ⟨111⟩) needs a cubic primary phase; {} is {} (drop the twin: --no-twin)",
                material.name,
                material.laue_group.symbol()
            ),
        ));
    }
    Ok((material.lattice.direct_basis() * Vector3::new(1.0, 1.0, 1.0)).normalize())
}

/// The Σ3 relation: 60° about the crystal's ⟨111⟩ (applied on the right of U, in the crystal frame).
fn twin_rotation(axis_crystal: Vector3<f64>) -> Matrix3<f64> {
    Rotation3::from_axis_angle(&Unit::new_normalize(axis_crystal), 60f64.to_radians()).into_inner()
}

/// A region's orientation field U(p) = R(axis, rate·(p − centre)·direction)·U_c and its distortion T.
#[derive(Debug, Clone)]
struct OrientationField {
    /// index into `SyntheticScan::materials`
    material: usize,
    /// rotation at `centre`
    u_c: Matrix3<f64>,
    /// map position (µm)
    centre: [f64; 2],
    /// lab-frame rotation axis
    axis: Unit<Vector3<f64>>,
    /// in-plane unit direction of the gradient
    direction: [f64; 2],
    rate_rad_per_um: f64,
    /// upper-triangular distortion, UB = U·T
    t: Matrix3<f64>,
}

impl OrientationField {
    fn random(
        rng: &mut ChaCha8Rng,
        material: usize,
        m: &Material,
        centre: [f64; 2],
        rate_rad_per_um: f64,
        strain: f64,
    ) -> Self {
        let u_c = random_rotation(rng);
        let axis = Unit::new_normalize(random_rotation(rng) * Vector3::z());
        let phi = rng.random::<f64>() * std::f64::consts::TAU;
        let t = distortion_for(&random_deviatoric(rng, strain), &m.lattice.b0());
        OrientationField {
            material,
            u_c,
            centre,
            axis,
            direction: [phi.cos(), phi.sin()],
            rate_rad_per_um,
            t,
        }
    }

    fn orientation_at(&self, p: [f64; 2]) -> Matrix3<f64> {
        let s = (p[0] - self.centre[0]) * self.direction[0] + (p[1] - self.centre[1]) * self.direction[1];
        Rotation3::from_axis_angle(&self.axis, self.rate_rad_per_um * s).into_inner() * self.u_c
    }

    fn ub_at(&self, p: [f64; 2]) -> Matrix3<f64> {
        self.orientation_at(p) * self.t
    }
}

/// A random deviatoric (symmetric, traceless) strain with von Mises equivalent √(2/3 ε:ε) = `equivalent`.
fn random_deviatoric(rng: &mut ChaCha8Rng, equivalent: f64) -> Matrix3<f64> {
    let mut g = || rng.sample::<f64, _>(StandardNormal);
    let (a, b, c, d, e, f) = (g(), g(), g(), g(), g(), g());
    let s = Matrix3::new(a, d, e, d, b, f, e, f, c);
    let dev = s - Matrix3::identity() * (s.trace() / 3.0);
    let norm = (2.0 / 3.0 * dev.norm_squared()).sqrt();
    if equivalent == 0.0 || norm == 0.0 { Matrix3::zeros() } else { dev * (equivalent / norm) }
}

/// The upper-triangular T (T₀₀ = 1) whose deviatoric strain, as `deviatoric_strain_crystal(T, B0)` measures
/// it, is `target`. To first order, sym(T − I) = −ε + ε₀₀·I (T₀₀ = 1 fixes the free isotropic part);
/// a few fixed-point steps remove the higher orders.
fn distortion_for(target: &Matrix3<f64>, b0: &Matrix3<f64>) -> Matrix3<f64> {
    let mut t = Matrix3::identity();
    for _ in 0..8 {
        let e = target - deviatoric_strain_crystal(&t, b0);
        if e.abs().max() < 1e-15 {
            break;
        }
        t += Matrix3::new(
            0.0,
            -2.0 * e[(0, 1)],
            -2.0 * e[(0, 2)],
            0.0,
            e[(0, 0)] - e[(1, 1)],
            -2.0 * e[(1, 2)],
            0.0,
            0.0,
            e[(0, 0)] - e[(2, 2)],
        );
    }
    t
}

/// The rectangle the points sample (µm): half a step beyond the outer points.
struct Domain {
    x0: f64,
    y0: f64,
    width: f64,
    height: f64,
}

impl Domain {
    fn of(s: &SyntheticScanSpec) -> Self {
        let [sx, sy] = s.step_um;
        Domain { x0: -sx / 2.0, y0: -sy / 2.0, width: s.nx as f64 * sx, height: s.ny as f64 * sy }
    }

    fn random_point(&self, rng: &mut ChaCha8Rng) -> [f64; 2] {
        [self.x0 + rng.random::<f64>() * self.width, self.y0 + rng.random::<f64>() * self.height]
    }
}

/// Voronoi seeds spread by dart throwing: no two closer than 0.6·√(area / grains) (relaxed when the darts
/// keep missing), so that no grain is a sliver.
fn grain_seeds(s: &SyntheticScanSpec, domain: &Domain) -> Vec<[f64; 2]> {
    let mut rng = stream(s.seed, STREAM_SEEDS, 0);
    let mut min_d = 0.6 * (domain.width * domain.height / s.grains as f64).sqrt();
    let mut seeds: Vec<[f64; 2]> = Vec::with_capacity(s.grains);
    let mut misses = 0;
    while seeds.len() < s.grains {
        let p = domain.random_point(&mut rng);
        if seeds.iter().all(|q| dist2(p, *q) >= min_d * min_d) {
            seeds.push(p);
            misses = 0;
        } else {
            misses += 1;
            if misses > 200 {
                min_d *= 0.9;
                misses = 0;
            }
        }
    }
    seeds
}

/// Particles dropped at random until they hold `area_fraction` of the points; a particle holding no new
/// point is dropped.
fn particles(p: &SecondPhase, seed: u64, domain: &Domain, positions: &[[f64; 2]], first: usize) -> Vec<Disc> {
    let target = (p.area_fraction * positions.len() as f64).round() as usize;
    let mut inside = vec![false; positions.len()];
    let mut covered = 0;
    let mut discs = Vec::new();
    let mut rng = stream(seed, STREAM_PARTICLES, 0);
    let mut tries = 0;
    while covered < target && tries < 100_000 {
        tries += 1;
        let centre = domain.random_point(&mut rng);
        let radius = p.particle_radius_um * (0.7 + 0.6 * rng.random::<f64>());
        let mut new = 0;
        for (q, f) in positions.iter().zip(inside.iter_mut()) {
            if !*f && dist2(*q, centre) < radius * radius {
                *f = true;
                new += 1;
            }
        }
        if new > 0 {
            covered += new;
            discs.push(Disc { centre, radius, region: first + discs.len() });
        }
    }
    discs
}

/// The map's geometry: Voronoi seeds of the grains, the twin band, the particles (later ones under earlier).
struct Layout {
    seeds: Vec<[f64; 2]>,
    band: Option<Band>,
    discs: Vec<Disc>,
}

struct Band {
    /// the twinned grain
    grain: usize,
    /// the twin's region id
    region: usize,
    centre: [f64; 2],
    /// unit normal of the band on the map
    normal: [f64; 2],
    half_width: f64,
}

struct Disc {
    centre: [f64; 2],
    radius: f64,
    region: usize,
}

/// Where a map position falls: its region, the distance to the nearest boundary (µm) and the region
/// across it.
#[derive(Debug, Clone, Copy)]
struct Site {
    region: usize,
    distance_um: f64,
    neighbour: Option<usize>,
}

impl Layout {
    /// Nearest seed, and the nearest cell wall: the bisector distance
    /// (|p − s_j|² − |p − s_i|²) / (2|s_j − s_i|).
    fn voronoi(&self, p: [f64; 2]) -> Site {
        let mut i = 0;
        for (k, s) in self.seeds.iter().enumerate() {
            if dist2(p, *s) < dist2(p, self.seeds[i]) {
                i = k;
            }
        }
        let si = self.seeds[i];
        let mut site = Site { region: i, distance_um: f64::INFINITY, neighbour: None };
        for (j, sj) in self.seeds.iter().enumerate() {
            let len = dist2(si, *sj).sqrt();
            if j == i || len == 0.0 {
                continue;
            }
            let d = (dist2(p, *sj) - dist2(p, si)) / (2.0 * len);
            if d < site.distance_um {
                site = Site { region: i, distance_um: d, neighbour: Some(j) };
            }
        }
        site
    }

    fn locate(&self, p: [f64; 2]) -> Site {
        let mut site = self.voronoi(p);
        if let Some(b) = &self.band {
            let s = |q: [f64; 2]| (q[0] - b.centre[0]) * b.normal[0] + (q[1] - b.centre[1]) * b.normal[1];
            if site.region == b.grain {
                let d = s(p).abs() - b.half_width;
                if d < 0.0 {
                    // In the band: its edges lead back to the parent, the cell walls to the neighbours.
                    site.region = b.region;
                    if -d < site.distance_um {
                        site.distance_um = -d;
                        site.neighbour = Some(b.grain);
                    }
                } else if d < site.distance_um {
                    site.distance_um = d;
                    site.neighbour = Some(b.region);
                }
            } else if site.neighbour == Some(b.grain) && site.distance_um.is_finite() {
                // Across the wall lies the parent grain, or its twin where the band meets the wall.
                let (si, sj) = (self.seeds[site.region], self.seeds[b.grain]);
                let len = dist2(si, sj).sqrt();
                let foot = [
                    p[0] + site.distance_um * (sj[0] - si[0]) / len,
                    p[1] + site.distance_um * (sj[1] - si[1]) / len,
                ];
                if s(foot).abs() < b.half_width {
                    site.neighbour = Some(b.region);
                }
            }
        }
        let mut nearest_outside = f64::INFINITY;
        let mut nearest_disc = None;
        for d in &self.discs {
            let r = dist2(p, d.centre).sqrt();
            if r < d.radius {
                return Site { region: d.region, distance_um: d.radius - r, neighbour: Some(site.region) };
            }
            if r - d.radius < nearest_outside {
                nearest_outside = r - d.radius;
                nearest_disc = Some(d.region);
            }
        }
        if nearest_outside < site.distance_um {
            site.distance_um = nearest_outside;
            site.neighbour = nearest_disc;
        }
        site
    }

    /// A point of region `r` for regions that hold no map point.
    fn anchor(&self, r: usize) -> [f64; 2] {
        if let Some(s) = self.seeds.get(r) {
            return *s;
        }
        if let Some(b) = self.band.as_ref().filter(|b| b.region == r) {
            return b.centre;
        }
        self.discs.iter().find(|d| d.region == r).map_or([0.0, 0.0], |d| d.centre)
    }
}

fn dist2(a: [f64; 2], b: [f64; 2]) -> f64 {
    (a[0] - b[0]).powi(2) + (a[1] - b[1]).powi(2)
}

fn rows(m: &Matrix3<f64>) -> [[f64; 3]; 3] {
    let row = |i: usize| [m[(i, 0)], m[(i, 1)], m[(i, 2)]];
    [row(0), row(1), row(2)]
}

fn from_rows(r: &[[f64; 3]; 3]) -> Matrix3<f64> {
    Matrix3::from_fn(|i, j| r[i][j])
}

// Independent random streams, so that e.g. adding a twin leaves the grains as they were.
const STREAM_SEEDS: u64 = 1;
const STREAM_GRAIN: u64 = 2;
const STREAM_TWIN: u64 = 3;
const STREAM_PARTICLES: u64 = 4;
const STREAM_PARTICLE: u64 = 5;
const STREAM_EMPTY: u64 = 6;

fn stream(seed: u64, what: u64, i: u64) -> ChaCha8Rng {
    ChaCha8Rng::seed_from_u64(splitmix64(splitmix64(seed ^ what.wrapping_mul(0x9E37_79B9_7F4A_7C15)) ^ i))
}

/// The image seed of a point: its intensities and noise depend on the scan's seeds and its index only.
fn point_seed(seed: u64, image_seed: u64, index: usize) -> u64 {
    splitmix64(splitmix64(seed ^ splitmix64(image_seed)) ^ index as u64)
}

fn splitmix64(x: u64) -> u64 {
    let mut z = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::geometry::misorientation_deg;

    /// An 8 × 6 scan on a 128² detector (same solid angle as the default 512²).
    fn small(seed: u64) -> SyntheticScanSpec {
        let calibration = detector_calibration(128, 128).unwrap();
        SyntheticScanSpec {
            nx: 8,
            ny: 6,
            grains: 3,
            twin: Some(TwinBand { width_um: 2.0 }),
            seed,
            calibration,
            image: default_image_model(&calibration),
            ..SyntheticScanSpec::default()
        }
    }

    fn cubic_sym() -> Vec<Matrix3<f64>> {
        let cu = Material::from_table("Cu").unwrap();
        cu.laue_group.rotations(&cu.lattice).unwrap()
    }

    #[test]
    fn default_detector_is_the_marccd_scaled_down() {
        let c = detector_calibration(512, 512).unwrap();
        let d = REFERENCE_CALIBRATION_512;
        assert!((c.xcen_px - d.xcen_px).abs() < 1e-9 && (c.ycen_px - d.ycen_px).abs() < 1e-9, "{c:?}");
        assert!((c.pixel_size_mm - d.pixel_size_mm).abs() < 1e-12 && (c.rows, c.cols) == (d.rows, d.cols));
        // Same ray through the same physical point: the 2048² pixel (941.736 + 4·dx) is 512² (235.809 + dx).
        let r = REFERENCE_CALIBRATION;
        for (dx, dy) in [(40.0, -30.0), (-100.0, 120.0)] {
            let (t1, c1) = r.pixel_to_angles(941.736 + 4.0 * dx, 1082.562 + 4.0 * dy);
            let (t2, c2) = c.pixel_to_angles(c.xcen_px + dx, c.ycen_px + dy);
            assert!((t1 - t2).abs() < 1e-9 && (c1 - c2).abs() < 1e-9);
        }
    }

    #[test]
    fn default_detector_sees_40_to_100_cu_spots() {
        // 5–22 keV, random orientations: a realistic Laue pattern has ~40–100 spots on the frame.
        let spec = SyntheticScanSpec::default();
        let cu = Material::from_table("Cu").unwrap();
        let settings = SimulationSettings {
            emin_kev: spec.emin_kev,
            emax_kev: spec.emax_kev,
            calibration: spec.calibration,
            with_multiplicity: false,
            cut: DetectorCut::Frame,
        };
        let mut rng = ChaCha8Rng::seed_from_u64(11);
        let counts: Vec<usize> = (0..50)
            .map(|_| {
                let g = Grain { material: cu.clone(), ub: random_rotation(&mut rng) };
                simulate_grains(&[g], &settings).unwrap().len()
            })
            .collect();
        let mean = counts.iter().sum::<usize>() as f64 / counts.len() as f64;
        let mut sorted = counts.clone();
        sorted.sort_unstable();
        eprintln!("Cu spots on 512²: mean {mean:.1}, min {}, max {}", sorted[0], sorted[49]);
        assert!((40.0..=100.0).contains(&mean), "mean {mean} spots, {counts:?}");
    }

    #[test]
    fn truth_is_deterministic_and_seeded() {
        let a = SyntheticScan::new(&small(3)).unwrap();
        let b = SyntheticScan::new(&small(3)).unwrap();
        assert_eq!(a.truth(), b.truth());
        let c = SyntheticScan::new(&small(4)).unwrap();
        assert_ne!(a.points, c.points);
        // Point index ↔ (ix, iy) through the grid, serpentine included.
        let snake = SyntheticScan::new(&SyntheticScanSpec { snake: true, ..small(3) }).unwrap();
        for (i, p) in snake.points.iter().enumerate() {
            assert_eq!((p.index, p.ix, p.iy), (i, snake.grid.position(i).0, snake.grid.position(i).1));
            assert_eq!((p.x_um, p.y_um), (p.ix as f64, p.iy as f64));
        }
        assert_eq!(snake.points[8].ix, 7);
        // The spec survives JSON, and a partial spec takes the defaults.
        let json = serde_json::to_string(&a.truth()).unwrap();
        let back: ScanTruth = serde_json::from_str(&json).unwrap();
        assert_eq!(back.spec, a.spec);
        let partial: SyntheticScanSpec = serde_json::from_str(r#"{"nx": 5, "twin": null}"#).unwrap();
        assert_eq!((partial.nx, partial.ny, partial.twin.clone()), (5, 30, None));
    }

    #[test]
    fn regions_cover_the_map() {
        for seed in 0..5 {
            let spec = SyntheticScanSpec {
                second_phase: Some(SecondPhase { area_fraction: 0.15, ..SecondPhase::default() }),
                ..small(seed)
            };
            let s = SyntheticScan::new(&spec).unwrap();
            assert_eq!(s.regions.iter().filter(|r| r.kind == RegionKind::Grain).count(), 3);
            assert_eq!(s.regions.iter().filter(|r| r.kind == RegionKind::Twin).count(), 1);
            for p in &s.points {
                assert_eq!(p.region.is_some(), p.ub.is_some());
                assert_eq!(p.region.is_some(), p.material.is_some());
            }
            for r in &s.regions {
                let n = s.points.iter().filter(|p| p.region == Some(r.id)).count();
                assert_eq!(n, r.n_points);
                assert!(n > 0, "seed {seed}: region {} ({:?}) has no point", r.id, r.kind);
                assert_eq!(r.material, if r.kind == RegionKind::Phase { "Si" } else { "Cu" });
            }
            // Mixed points: the neighbour is another region, weights in (0, 0.5].
            for p in s.points.iter().filter(|p| p.boundary) {
                let (r2, w) = p.second.unwrap();
                assert!(Some(r2) != p.region && w > 0.0 && w <= 0.5, "{p:?}");
                assert!(p.second_ub.is_some());
            }
            assert!(s.points.iter().any(|p| p.boundary));
        }
    }

    #[test]
    fn twin_is_sigma3_of_its_parent_everywhere() {
        let sym = cubic_sym();
        for seed in 0..4 {
            let s = SyntheticScan::new(&small(seed)).unwrap();
            let twin = s.regions.iter().find(|r| r.kind == RegionKind::Twin).unwrap();
            let parent = twin.parent.unwrap();
            assert_eq!(s.regions[parent].kind, RegionKind::Grain);
            let in_band: Vec<&PointTruth> = s.points.iter().filter(|p| p.region == Some(twin.id)).collect();
            assert!(!in_band.is_empty());
            for p in in_band {
                let ut = s.orientation_at(twin.id, p.x_um, p.y_um).unwrap();
                let up = s.orientation_at(parent, p.x_um, p.y_um).unwrap();
                let w = misorientation_deg(&up, &ut, &sym);
                assert!((w - 60.0).abs() < 1e-9, "seed {seed}: {w}°");
            }
            // Unrelated grains are not.
            let u0 = from_rows(&s.regions[0].orientation);
            let u1 = from_rows(&s.regions[1].orientation);
            assert!((misorientation_deg(&u0, &u1, &sym) - 60.0).abs() > 1e-3);
        }
    }

    #[test]
    fn twin_needs_a_cubic_crystal() {
        let e = SyntheticScan::new(&SyntheticScanSpec { material: "Ti".into(), ..small(0) }).unwrap_err();
        assert!(e.to_string().contains("cubic"), "{e}");
        assert!(
            SyntheticScan::new(&SyntheticScanSpec { material: "Ti".into(), twin: None, ..small(0) }).is_ok()
        );
        assert!(SyntheticScan::new(&SyntheticScanSpec { grains: 0, ..small(0) }).is_err());
        assert!(SyntheticScan::new(&SyntheticScanSpec { empty_fraction: 1.5, ..small(0) }).is_err());
        assert!(
            SyntheticScan::new(&SyntheticScanSpec { material: "Unobtainium".into(), ..small(0) }).is_err()
        );
    }

    #[test]
    fn strain_is_the_asked_deviatoric_strain_in_the_refinement_model() {
        let s = SyntheticScan::new(&small(1)).unwrap();
        let b0 = Material::from_table("Cu").unwrap().lattice.b0();
        for r in &s.regions {
            let t = from_rows(&r.distortion);
            // Upper triangular with T₀₀ = 1, as index::refine fits it.
            assert!(t[(0, 0)] == 1.0 && t[(1, 0)] == 0.0 && t[(2, 0)] == 0.0 && t[(2, 1)] == 0.0);
            let eps = from_rows(&r.deviatoric_strain_crystal);
            let eq = (2.0 / 3.0 * eps.norm_squared()).sqrt();
            assert!((eq - 1e-3).abs() < 1e-12, "von Mises {eq}");
            let again = deviatoric_strain_crystal(&(from_rows(&r.orientation) * t), &b0);
            assert!((again - eps).abs().max() < 1e-15);
        }
        // A point's UB is its region's rotation there times T.
        let p = s.points.iter().find(|p| p.region.is_some()).unwrap();
        let r = p.region.unwrap();
        let want = s.orientation_at(r, p.x_um, p.y_um).unwrap() * from_rows(&s.regions[r].distortion);
        assert!((from_rows(&p.ub.unwrap()) - want).abs().max() < 1e-15);
    }

    #[test]
    fn empty_and_second_phase_fractions() {
        // Exactly round(0.25 · 48) = 12 empty points, none of them mixed.
        let s = SyntheticScan::new(&SyntheticScanSpec { empty_fraction: 0.25, ..small(2) }).unwrap();
        let empty: Vec<&PointTruth> = s.points.iter().filter(|p| p.region.is_none()).collect();
        assert_eq!(empty.len(), 12);
        assert!(empty.iter().all(|p| !p.boundary && p.second.is_none() && p.ub.is_none()));
        // Particles hold at least round(0.3 · 48) = 14 points and overshoot by less than one particle
        // (radius ≤ 1.3 · 1.5 µm holds at most 12 points of a 1 µm grid).
        for seed in 0..5 {
            let phase = SecondPhase { area_fraction: 0.3, particle_radius_um: 1.5, ..SecondPhase::default() };
            let spec = SyntheticScanSpec { empty_fraction: 0.0, second_phase: Some(phase), ..small(seed) };
            let s = SyntheticScan::new(&spec).unwrap();
            let n: usize = s.regions.iter().filter(|r| r.kind == RegionKind::Phase).map(|r| r.n_points).sum();
            assert!((14..14 + 12).contains(&n), "seed {seed}: {n} of 48 points in particles");
        }
    }

    #[test]
    fn a_rendered_point_has_its_spots_where_the_simulator_puts_them() {
        let s = SyntheticScan::new(&SyntheticScanSpec { empty_fraction: 0.1, ..small(5) }).unwrap();
        let inner = s.points.iter().find(|p| p.region.is_some() && !p.boundary).unwrap().index;
        let img = s.render_point(inner).unwrap();
        assert_eq!((img.rows, img.cols, img.pixels.len()), (128, 128, 128 * 128));
        assert_eq!(img, s.render_point(inner).unwrap(), "rendering is deterministic per point");
        let p = &s.points[inner];
        let grain = Grain { material: Material::from_table("Cu").unwrap(), ub: from_rows(&p.ub.unwrap()) };
        let spots = simulate_grains(&[grain], &s.simulation_settings()).unwrap();
        assert_eq!(img.truth.len(), spots.len());
        assert!(spots.len() > 20, "{} spots", spots.len());
        // The brightest pixel (array row r, column c ↔ LaueTools (c + 1, r + 1)) sits on a simulated spot.
        let (k, max) = img.pixels.iter().enumerate().max_by_key(|(_, v)| **v).unwrap();
        let (x, y) = ((k % 128) as f64 + 1.0, (k / 128) as f64 + 1.0);
        let nearest = spots.iter().map(|s| (s.x_px - x).hypot(s.y_px - y)).fold(f64::INFINITY, f64::min);
        assert!(nearest < 1.5 && *max > 1000, "brightest {max} at ({x}, {y}), {nearest:.2} px from a spot");
        // Another point has other noise; an empty point is background only (≈ 45–100 counts, σ ≈ 11).
        assert_ne!(img.pixels, s.render_point(inner + 1).unwrap().pixels);
        let empty = s.points.iter().find(|p| p.region.is_none()).unwrap().index;
        let bg = s.render_point(empty).unwrap();
        assert!(bg.truth.is_empty() && *bg.pixels.iter().max().unwrap() < 250);
        assert!(s.render_point(s.len()).is_err());
    }

    #[test]
    fn a_boundary_point_shows_both_crystals() {
        let s = SyntheticScan::new(&small(6)).unwrap();
        let p = s.points.iter().find(|p| p.boundary).unwrap();
        let spots = s.point_spots(p.index).unwrap();
        let n0 = spots.iter().filter(|s| s.grain == 0).count();
        let n1 = spots.iter().filter(|s| s.grain == 1).count();
        assert!(n0 > 0 && n1 > 0);
        let img = s.render_point(p.index).unwrap();
        assert_eq!(img.truth.len(), n0 + n1);
        let weights: Vec<f64> = s.point_grains(p.index).unwrap().iter().map(|g| g.1).collect();
        assert!((weights[0] + weights[1] - 1.0).abs() < 1e-15 && weights[1] <= 0.5);
    }

    #[test]
    fn file_names_follow_lauetools() {
        assert_eq!(point_file_name("scan", 7, 1200), "scan_0007.tif");
        assert_eq!(point_file_name("scan", 9999, 10_000), "scan_9999.tif");
        assert_eq!(point_file_name("scan", 12, 10_001), "scan_00012.tif");
        assert_eq!(point_file_name("s", 0, 1), "s_0000.tif");
    }
}
