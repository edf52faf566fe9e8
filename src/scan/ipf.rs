//! Inverse-pole-figure (IPF) colours: which crystal direction lies along a sample direction, coloured by its
//! position in the fundamental sector of the crystal's Laue class.
//!
//! # Frames
//! - Crystal frame: the orthonormal frame of LaueTools' B0 (x ∥ a*, y in the a*b* plane, z ∥ c); crystal
//!   directions are `direct_basis · [uvw]` normalised.
//! - Lab frame: x along the beam, z up, y = z × x (see LAUE_GEOMETRY.md). A grain's orientation is
//!   U = nearest rotation of UB, so that a crystal vector h appears in the lab as U·h.
//! - Sample frame: LaueTools' sample frame, the lab frame turned by the 40° surface tilt about lab y — the same
//!   rotation T = R_y(−40°) as `strain_in_sample_frame` (src/index/refine.rs): v_lab = T·v_sample. So
//!   sample X = (cos 40°, 0, sin 40°), sample Y = lab y, sample Z = (−sin 40°, 0, cos 40°) in the lab (Z is
//!   the surface normal, X lies in the surface in the plane of the beam, pointing downstream).
//!
//! The crystal direction along sample axis d is h = Uᵀ·T·d; it is brought into the class's fundamental sector
//! with the proper rotations S and the inversion (Friedel: the Laue class), h' = ±S·h, then coloured.
//!
//! # Colour conventions (default, [`IpfColouring::LaueClass`])
//! Triangle sectors use the EDAX/TSL scheme: each corner has a primary colour, the colour of h is the
//! "angular barycentric" position — for each corner the angle from h to the opposite edge's great circle over
//! the corner's own angle to it — divided by its largest component (corners pure, centre white, mid-edges the
//! mixture of the two corners). Directions are written as direct-lattice [uvw] (hexagonal axes: [uvtw]).
//!
//! | class  | sector (crystal frame)                | red     | green    | blue     |
//! |--------|---------------------------------------|---------|----------|----------|
//! | m-3m   | z ≥ x ≥ y ≥ 0                         | [001]   | [101]    | [111]    |
//! | m-3    | x, y ≥ 0, z ≥ x, z ≥ y (four corners) | [001]   | [101], [011] | [111] |
//! | 4/mmm  | x ≥ y ≥ 0, z ≥ 0                      | [001]   | [100]    | [110]    |
//! | 4/m    | x, y, z ≥ 0                           | [001]   | [100]    | [010]    |
//! | mmm    | x, y, z ≥ 0                           | [001]   | [100]    | [010]    |
//! | 6/mmm  | z ≥ 0, azimuth 0–30° from a*          | [0001]  | [11-20]  | [10-10]  |
//! | 6/m    | z ≥ 0, azimuth 0–60°                  | [0001]  | [10-10]  | [01-10]  |
//! | -3m1   | z ≥ 0, azimuth 0–60° (mirrors)        | [0001]  | [10-10]  | [01-10]  |
//! | -31m   | z ≥ 0, azimuth 30–90° (mirrors)       | [0001]  | [11-20]  | [-12-10] |
//! | -3     | z ≥ 0, azimuth 0–120°                 | [0001]  | [10-10]  | [-1100]  |
//!
//! m-3 colours its four-cornered sector with the m-3m triangle after folding x ↔ y, so [101] and [011]
//! (equivalent in m-3) are both green; directions related by that fold (not a symmetry of m-3) share a colour.
//! The two classes without a triangle use a colour wheel (hue = azimuth, saturation = polar angle, value 1):
//! - 2/m: the half hemisphere around the 2-fold axis u ([010] for b-unique cells): white along u, hue =
//!   2 × azimuth about u from the reference axis ([001] for b- or a-unique, [100] for c-unique), so the two
//!   half-circle edges identified by the 2-fold get the same colour.
//! - −1: the hemisphere around c: white along [001], hue = azimuth from a* (red at a*, green at 120°, blue at
//!   240°); antipodal points of the equator (equivalent by inversion) differ in colour.
//!
//! In classes without mirrors on every edge (4/m, 6/m, -3, -3m1's and -31m's equators) points of the sector's
//! boundary that the symmetry identifies get different colours, as in every "standard triangle" key: a grain
//! with such a direction along the sample axis can flicker between two colours. [`IpfColouring::Holohedral`]
//! avoids that: it colours with the key of the lattice's holohedry (m-3m for m-3, 4/mmm for 4/m, 6/mmm for
//! every trigonal and hexagonal class), which is continuous but gives one colour to directions the lower class
//! distinguishes.

use nalgebra::{Matrix3, Rotation3, Vector3};
use serde::{Deserialize, Serialize};

use crate::crystal::{Lattice, LaueGroup};
use crate::error::Result;

/// Rotation T taking sample-frame vectors to the lab: v_lab = T·v_sample (LaueTools' 40° tilt about lab y).
pub fn sample_to_lab() -> Matrix3<f64> {
    Rotation3::from_axis_angle(&Vector3::y_axis(), -40f64.to_radians()).into_inner()
}

/// A sample axis along which an IPF map looks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum SampleAxis {
    X,
    Y,
    Z,
}

impl SampleAxis {
    /// All three, in order.
    pub const ALL: [SampleAxis; 3] = [SampleAxis::X, SampleAxis::Y, SampleAxis::Z];

    /// Unit vector of the axis in the sample frame.
    pub fn sample_vector(self) -> Vector3<f64> {
        match self {
            SampleAxis::X => Vector3::x(),
            SampleAxis::Y => Vector3::y(),
            SampleAxis::Z => Vector3::z(),
        }
    }

    /// Unit vector of the axis in the lab frame (T·axis).
    pub fn lab_vector(self) -> Vector3<f64> {
        sample_to_lab() * self.sample_vector()
    }

    /// `x`, `y` or `z`.
    pub fn name(self) -> &'static str {
        match self {
            SampleAxis::X => "x",
            SampleAxis::Y => "y",
            SampleAxis::Z => "z",
        }
    }
}

/// Which key colours a class (see the module documentation).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum IpfColouring {
    /// the class's own fundamental sector
    #[default]
    LaueClass,
    /// the key of the lattice's holohedry (continuous across the class's identified edges)
    Holohedral,
}

/// The highest Laue class of the same crystal family: m-3m, 6/mmm, 4/mmm, mmm, 2/m or −1.
pub fn holohedry(g: LaueGroup) -> LaueGroup {
    match g {
        LaueGroup::CubicM3 => LaueGroup::CubicM3m,
        LaueGroup::Tetragonal4m => LaueGroup::Tetragonal4mmm,
        LaueGroup::Trigonal3 | LaueGroup::Trigonal3m1 | LaueGroup::Trigonal31m | LaueGroup::Hexagonal6m => {
            LaueGroup::Hexagonal6mmm
        }
        other => other,
    }
}

/// How a sector is coloured.
#[derive(Debug, Clone)]
enum Shape {
    /// corners red, green, blue; `opposite[i]`: unit normal of the edge facing corner i, pointing inwards
    Triangle { corners: [Vector3<f64>; 3], opposite: [Vector3<f64>; 3] },
    /// m-3: fold x ↔ y, then this m-3m triangle
    FoldedCubic(Box<Shape>),
    /// hue = `turns` × azimuth about `pole` from `reference`, saturation = polar angle / 90°
    Wheel { pole: Vector3<f64>, reference: Vector3<f64>, third: Vector3<f64>, turns: f64 },
}

/// The IPF colour key of one Laue class on one lattice.
#[derive(Debug, Clone)]
pub struct IpfKey {
    /// the class whose sector colours (the holohedry with [`IpfColouring::Holohedral`])
    pub group: LaueGroup,
    /// proper rotations of `group` in the crystal frame
    rotations: Vec<Matrix3<f64>>,
    /// the sector: h·n ≥ 0 for every n
    normals: Vec<Vector3<f64>>,
    shape: Shape,
    /// rows: the two in-plane axes and the pole of the stereographic projection used to draw the key
    projection: Matrix3<f64>,
    /// labelled directions (crystal frame) for the drawn key
    labels: Vec<(Vector3<f64>, String)>,
}

impl IpfKey {
    /// The key of `group` on `lattice`. With [`IpfColouring::Holohedral`] the holohedry's key, when the
    /// lattice has its symmetry (else the class's own).
    pub fn new(group: LaueGroup, lattice: &Lattice, colouring: IpfColouring) -> Result<Self> {
        if colouring == IpfColouring::Holohedral
            && holohedry(group) != group
            && let Ok(k) = Self::new(holohedry(group), lattice, IpfColouring::LaueClass)
        {
            return Ok(k);
        }
        let rotations = group.rotations(lattice)?;
        let direct = lattice.direct_basis();
        let d = |uvw: [f64; 3]| (direct * Vector3::from(uvw)).normalize();
        let z = Vector3::z();
        let triangle = |uvw: [[f64; 3]; 3], names: [&str; 3]| {
            let corners = uvw.map(d);
            let shape = triangle_shape(corners);
            let normals = match &shape {
                Shape::Triangle { opposite, .. } => opposite.to_vec(),
                _ => Vec::new(),
            };
            let labels = corners.iter().zip(names).map(|(c, n)| (*c, n.to_string())).collect();
            (shape, normals, labels, Matrix3::identity())
        };
        let (shape, normals, labels, projection) = match group {
            LaueGroup::CubicM3m => {
                triangle([[0., 0., 1.], [1., 0., 1.], [1., 1., 1.]], ["[001]", "[101]", "[111]"])
            }
            LaueGroup::CubicM3 => {
                let (inner, _, _, _) =
                    triangle([[0., 0., 1.], [1., 0., 1.], [1., 1., 1.]], ["[001]", "[101]", "[111]"]);
                let normals = vec![
                    Vector3::x(),
                    Vector3::y(),
                    Vector3::new(-1.0, 0.0, 1.0).normalize(),
                    Vector3::new(0.0, -1.0, 1.0).normalize(),
                ];
                let labels = [([0., 0., 1.], "[001]"), ([1., 0., 1.], "[101]"), ([1., 1., 1.], "[111]")]
                    .into_iter()
                    .chain([([0., 1., 1.], "[011]")])
                    .map(|(v, n)| (d(v), n.to_string()))
                    .collect();
                (Shape::FoldedCubic(Box::new(inner)), normals, labels, Matrix3::identity())
            }
            LaueGroup::Tetragonal4mmm => {
                triangle([[0., 0., 1.], [1., 0., 0.], [1., 1., 0.]], ["[001]", "[100]", "[110]"])
            }
            LaueGroup::Tetragonal4m | LaueGroup::Orthorhombic => {
                triangle([[0., 0., 1.], [1., 0., 0.], [0., 1., 0.]], ["[001]", "[100]", "[010]"])
            }
            // Hexagonal axes, 3-index direct [UVW]: [10-10] = [210] (azimuth 0, ∥ a*), [11-20] = [110] (30°),
            // [01-10] = [120] (60°), [-12-10] = [010] (90°), [-1100] = [-110] (120°).
            LaueGroup::Hexagonal6mmm => {
                triangle([[0., 0., 1.], [1., 1., 0.], [2., 1., 0.]], ["[0001]", "[11-20]", "[10-10]"])
            }
            LaueGroup::Hexagonal6m | LaueGroup::Trigonal3m1 => {
                triangle([[0., 0., 1.], [2., 1., 0.], [1., 2., 0.]], ["[0001]", "[10-10]", "[01-10]"])
            }
            LaueGroup::Trigonal31m => {
                triangle([[0., 0., 1.], [1., 1., 0.], [0., 1., 0.]], ["[0001]", "[11-20]", "[-12-10]"])
            }
            LaueGroup::Trigonal3 => {
                triangle([[0., 0., 1.], [2., 1., 0.], [-1., 1., 0.]], ["[0001]", "[10-10]", "[-1100]"])
            }
            LaueGroup::Monoclinic => {
                let (u, u_name, r, r_names) = monoclinic_axes(&rotations, &direct);
                let t = u.cross(&r);
                let labels =
                    vec![(u, u_name.to_string()), (r, r_names[0].to_string()), (-r, r_names[1].to_string())];
                let projection = Matrix3::from_rows(&[r.transpose(), t.transpose(), u.transpose()]);
                (Shape::Wheel { pole: u, reference: r, third: t, turns: 2.0 }, vec![u, t], labels, projection)
            }
            LaueGroup::Triclinic => {
                let labels = vec![(z, "[001]".to_string()), (Vector3::x(), "(100)".to_string())];
                let shape =
                    Shape::Wheel { pole: z, reference: Vector3::x(), third: Vector3::y(), turns: 1.0 };
                (shape, vec![z], labels, Matrix3::identity())
            }
        };
        Ok(IpfKey { group, rotations, normals, shape, projection, labels })
    }

    /// The symmetry-equivalent of the crystal direction `h` (±S·h) inside the fundamental sector, unit length.
    pub fn reduce(&self, h: &Vector3<f64>) -> Vector3<f64> {
        let h = h.normalize();
        let mut best = h;
        let mut best_score = f64::NEG_INFINITY;
        for s in &self.rotations {
            let g = s * h;
            for c in [g, -g] {
                let score = self.normals.iter().map(|n| n.dot(&c)).fold(f64::INFINITY, f64::min);
                if score > best_score {
                    best_score = score;
                    best = c;
                }
            }
        }
        best
    }

    /// Whether the unit crystal direction `h` lies in the sector (within `tol` of its edges).
    pub fn in_sector(&self, h: &Vector3<f64>, tol: f64) -> bool {
        self.normals.iter().all(|n| n.dot(h) >= -tol)
    }

    /// IPF colour of the crystal direction `h` (any length, crystal frame).
    pub fn colour(&self, h: &Vector3<f64>) -> [u8; 3] {
        self.colour_in_sector(&self.reduce(h))
    }

    /// IPF colour of the crystal direction along `axis` for a grain of orientation `u` (rotation, lab frame).
    pub fn colour_of_orientation(&self, u: &Matrix3<f64>, axis: SampleAxis) -> [u8; 3] {
        self.colour(&self.crystal_direction(u, axis))
    }

    /// The crystal direction (crystal frame, unit) along the sample `axis` for orientation `u`: Uᵀ·T·axis.
    pub fn crystal_direction(&self, u: &Matrix3<f64>, axis: SampleAxis) -> Vector3<f64> {
        u.transpose() * axis.lab_vector()
    }

    /// Colour of a unit direction already in the sector.
    pub fn colour_in_sector(&self, h: &Vector3<f64>) -> [u8; 3] {
        shape_colour(&self.shape, h)
    }

    /// Labelled directions of the key (corners, and the axes of the wheels), crystal frame.
    pub fn labels(&self) -> &[(Vector3<f64>, String)] {
        &self.labels
    }

    /// Stereographic projection of a unit crystal direction onto the key's plane (unit disc).
    pub fn project(&self, h: &Vector3<f64>) -> [f64; 2] {
        let p = self.projection * h;
        [p.x / (1.0 + p.z), p.y / (1.0 + p.z)]
    }

    /// Inverse of [`IpfKey::project`] (a point of the unit disc → unit crystal direction).
    pub fn unproject(&self, p: [f64; 2]) -> Vector3<f64> {
        let r2 = p[0] * p[0] + p[1] * p[1];
        let v = Vector3::new(2.0 * p[0], 2.0 * p[1], 1.0 - r2) / (1.0 + r2);
        self.projection.transpose() * v
    }
}

/// The 2-fold axis u of a monoclinic class, its label, and the reference axis with its two labels.
fn monoclinic_axes(
    rotations: &[Matrix3<f64>],
    direct: &Matrix3<f64>,
) -> (Vector3<f64>, &'static str, Vector3<f64>, [&'static str; 2]) {
    let axis = |i: usize| direct.column(i).normalize();
    // A 180° rotation is 2uuᵀ − I: the largest column of R + I is along u.
    let mut u = rotations
        .iter()
        .find(|r| (*r - Matrix3::identity()).abs().max() > 1e-6)
        .map(|r| {
            let p = r + Matrix3::identity();
            let c = (0..3).max_by(|&i, &j| p.column(i).norm().total_cmp(&p.column(j).norm())).unwrap_or(1);
            p.column(c).normalize()
        })
        .unwrap_or_else(|| axis(1));
    let which = (0..3).max_by(|&i, &j| u.dot(&axis(i)).abs().total_cmp(&u.dot(&axis(j)).abs())).unwrap_or(1);
    if u.dot(&axis(which)) < 0.0 {
        u = -u;
    }
    let (name, r, names) = match which {
        0 => ("[100]", axis(2), ["[001]", "[00-1]"]),
        2 => ("[001]", axis(0), ["[100]", "[-100]"]),
        _ => ("[010]", axis(2), ["[001]", "[00-1]"]),
    };
    let r = (r - u * u.dot(&r)).normalize();
    (u, name, r, names)
}

fn triangle_shape(corners: [Vector3<f64>; 3]) -> Shape {
    let opposite = [0, 1, 2].map(|i| {
        let (j, k) = ((i + 1) % 3, (i + 2) % 3);
        let n = corners[j].cross(&corners[k]).normalize();
        if n.dot(&corners[i]) < 0.0 { -n } else { n }
    });
    Shape::Triangle { corners, opposite }
}

fn shape_colour(shape: &Shape, h: &Vector3<f64>) -> [u8; 3] {
    match shape {
        Shape::Triangle { corners, opposite } => {
            let c = [0, 1, 2].map(|i| {
                let own = opposite[i].dot(&corners[i]).clamp(-1.0, 1.0).asin();
                (opposite[i].dot(h).clamp(0.0, 1.0).asin() / own).max(0.0)
            });
            let m = c[0].max(c[1]).max(c[2]);
            if m <= 0.0 {
                return [255, 255, 255];
            }
            c.map(|x| (255.0 * x / m).round().clamp(0.0, 255.0) as u8)
        }
        Shape::FoldedCubic(inner) => {
            let f = Vector3::new(h.x.abs().max(h.y.abs()), h.x.abs().min(h.y.abs()), h.z);
            shape_colour(inner, &f)
        }
        Shape::Wheel { pole, reference, third, turns } => {
            let polar = pole.dot(h).clamp(-1.0, 1.0).acos().to_degrees();
            let azimuth = third.dot(h).atan2(reference.dot(h)).to_degrees().rem_euclid(360.0);
            hsv_to_rgb((turns * azimuth).rem_euclid(360.0), (polar / 90.0).clamp(0.0, 1.0), 1.0)
        }
    }
}

/// HSV (hue in degrees, saturation and value in [0, 1]) → 8-bit RGB.
pub fn hsv_to_rgb(hue_deg: f64, s: f64, v: f64) -> [u8; 3] {
    let h = hue_deg.rem_euclid(360.0) / 60.0;
    let c = v * s;
    let x = c * (1.0 - ((h % 2.0) - 1.0).abs());
    let (r, g, b) = match h as u32 {
        0 => (c, x, 0.0),
        1 => (x, c, 0.0),
        2 => (0.0, c, x),
        3 => (0.0, x, c),
        4 => (x, 0.0, c),
        _ => (c, 0.0, x),
    };
    let m = v - c;
    [r, g, b].map(|t| (255.0 * (t + m)).round().clamp(0.0, 255.0) as u8)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::geometry::orientation::random_rotation;
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;

    fn lattice_for(g: LaueGroup) -> Lattice {
        match g {
            LaueGroup::CubicM3 | LaueGroup::CubicM3m => Lattice::cubic(3.6),
            LaueGroup::Tetragonal4m | LaueGroup::Tetragonal4mmm => {
                Lattice::new([5.83, 5.83, 3.18, 90., 90., 90.])
            }
            LaueGroup::Orthorhombic => Lattice::new([4.0, 5.0, 6.0, 90., 90., 90.]),
            LaueGroup::Monoclinic => Lattice::new([5.1505, 5.2116, 5.3173, 90.0, 99.23, 90.0]),
            LaueGroup::Triclinic => Lattice::new([4.0, 5.0, 6.0, 80., 95., 100.]),
            _ => Lattice::hexagonal(3.189, 5.185),
        }
        .unwrap()
    }

    fn close(a: [u8; 3], b: [u8; 3]) -> bool {
        a.iter().zip(b).all(|(x, y)| (*x as i32 - y as i32).abs() <= 1)
    }

    #[test]
    fn every_sector_is_a_fundamental_domain() {
        // For a generic direction exactly one of its ±S·h images lies strictly inside the sector.
        let mut rng = ChaCha8Rng::seed_from_u64(11);
        for g in LaueGroup::ALL {
            let key = IpfKey::new(g, &lattice_for(g), IpfColouring::LaueClass).unwrap();
            for _ in 0..200 {
                let h = random_rotation(&mut rng) * Vector3::z();
                let inside = key
                    .rotations
                    .iter()
                    .flat_map(|s| [s * h, -(s * h)])
                    .filter(|c| key.normals.iter().all(|n| n.dot(c) > 1e-9))
                    .count();
                assert_eq!(inside, 1, "{g}: {inside} images inside for {h:?}");
                assert!(key.in_sector(&key.reduce(&h), 1e-12));
            }
            // Every labelled direction lies in the sector.
            for (v, name) in key.labels() {
                assert!(key.in_sector(v, 1e-9), "{g} {name}");
            }
        }
    }

    #[test]
    fn cubic_corners_are_primaries_and_equivalents_agree() {
        let key =
            IpfKey::new(LaueGroup::CubicM3m, &lattice_for(LaueGroup::CubicM3m), IpfColouring::LaueClass)
                .unwrap();
        assert!(close(key.colour(&Vector3::new(0., 0., 1.)), [255, 0, 0]));
        assert!(close(key.colour(&Vector3::new(0., 1., 1.)), [0, 255, 0]));
        assert!(close(key.colour(&Vector3::new(-1., 1., 1.)), [0, 0, 255]));
        // Centre of the triangle: white.
        let centre = (Vector3::new(0., 0., 1.)
            + Vector3::new(1., 0., 1.).normalize()
            + Vector3::new(1., 1., 1.).normalize())
            / 3.0;
        let c = key.colour(&centre);
        assert!(c.iter().all(|&x| x > 200), "{c:?}");
        // On the edge [001]–[101], nearer [001]: red and some green, no blue.
        let c = key.colour(&Vector3::new(0.2, 0.0, 1.0));
        assert!(c[2] <= 1 && c[0] == 255 && c[1] > 50, "{c:?}");
    }

    #[test]
    fn hexagonal_and_wheel_keys() {
        let hex = lattice_for(LaueGroup::Hexagonal6mmm);
        let key = IpfKey::new(LaueGroup::Hexagonal6mmm, &hex, IpfColouring::LaueClass).unwrap();
        let d = |uvw: [f64; 3]| hex.direct_basis() * Vector3::from(uvw);
        assert!(close(key.colour(&d([0., 0., 1.])), [255, 0, 0]));
        assert!(close(key.colour(&d([1., 0., 0.])), [0, 255, 0])); // [2-1-10]
        assert!(close(key.colour(&d([2., 1., 0.])), [0, 0, 255])); // [10-10]
        // -3m1: [10-10] green, [01-10] blue; the holohedral key colours both as 6/mmm's [10-10] (blue).
        let trig = IpfKey::new(LaueGroup::Trigonal3m1, &hex, IpfColouring::LaueClass).unwrap();
        assert!(close(trig.colour(&d([2., 1., 0.])), [0, 255, 0]));
        let holo = IpfKey::new(LaueGroup::Trigonal3m1, &hex, IpfColouring::Holohedral).unwrap();
        assert_eq!(holo.group, LaueGroup::Hexagonal6mmm);
        assert!(close(holo.colour(&d([1., 2., 0.])), [0, 0, 255]));
        // Monoclinic: white along the unique axis b.
        let mono = lattice_for(LaueGroup::Monoclinic);
        let key = IpfKey::new(LaueGroup::Monoclinic, &mono, IpfColouring::LaueClass).unwrap();
        assert!(close(key.colour(&(mono.direct_basis() * Vector3::y())), [255, 255, 255]));
        assert!(close(key.colour(&(mono.direct_basis() * Vector3::z())), [255, 0, 0]));
        assert_eq!(hsv_to_rgb(120.0, 1.0, 1.0), [0, 255, 0]);
    }
}
