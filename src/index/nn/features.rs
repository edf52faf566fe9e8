//! Per-spot input of the hkl predictor: the histogram of angular distances to the other spots.
//!
//! As LaueNN: for spot i, the angles (deg) between its unit scattering vector q̂ᵢ and every other q̂ⱼ,
//! binned from 0 to `radius_deg` in bins of `bin_deg` (angles at or beyond the radius are ignored), then
//! **divided by the histogram's maximum** (lauetoolsnn's `codebars / max(codebars)`, in training and in
//! prediction alike; an empty histogram stays zero). Each pair's angle is computed once and counted in both
//! spots' histograms: O(n²) dot products and no sorting (0.2 ms for 200 spots).

use nalgebra::Vector3;
use serde::{Deserialize, Serialize};

use crate::error::{LaueError, Result, Stage};

/// Histogram settings (LaueNN's `maxangle`/`step`).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct FeatureSettings {
    /// largest angular distance counted (deg); the paper uses 20°, lauetoolsnn's shipped configs 120°
    pub radius_deg: f64,
    /// bin width (deg); LaueNN: 0.1°
    pub bin_deg: f64,
}

impl Default for FeatureSettings {
    fn default() -> Self {
        FeatureSettings { radius_deg: 20.0, bin_deg: 0.1 }
    }
}

impl FeatureSettings {
    /// Number of bins (the network's input size); 0 for settings that give no finite positive count
    /// (refused by [`Self::validated`]).
    pub fn n_bins(&self) -> usize {
        let n = (self.radius_deg / self.bin_deg).round();
        if n.is_finite() && n > 0.0 { n as usize } else { 0 }
    }

    /// Largest number of bins (the network's input size).
    pub const MAX_BINS: usize = 20_000;

    /// The settings if 0 < bin < radius ≤ 180° (finite) and they make at most [`Self::MAX_BINS`] bins.
    pub fn validated(self) -> Result<Self> {
        let (r, b) = (self.radius_deg, self.bin_deg);
        let bad = |m: String| Err(LaueError::settings(Stage::Indexing, format!("angular histogram: {m}")));
        if !(r.is_finite() && r > 0.0 && r <= 180.0) {
            return bad(format!("radius_deg = {r}: need 0 < radius ≤ 180°"));
        }
        if !(b.is_finite() && b > 0.0 && b < r) {
            return bad(format!("bin_deg = {b}: need 0 < bin < radius_deg = {r}°"));
        }
        let n = (r / b).round();
        if n > Self::MAX_BINS as f64 {
            return bad(format!(
                "radius_deg {r}° / bin_deg {b}° makes {n:.0} bins: at most {} (widen the bin)",
                Self::MAX_BINS
            ));
        }
        Ok(self)
    }
}

/// Histograms of all spots, row-major `q.len() × n_bins`, each normalised by its maximum.
pub fn angular_histograms(q: &[Vector3<f64>], settings: &FeatureSettings) -> Vec<f32> {
    let nb = settings.n_bins();
    let mut out = vec![0f32; q.len() * nb];
    angular_histograms_into(q, settings, &mut out);
    out
}

/// As [`angular_histograms`], into `out` (length `q.len() × n_bins`, overwritten).
pub fn angular_histograms_into(q: &[Vector3<f64>], settings: &FeatureSettings, out: &mut [f32]) {
    let nb = settings.n_bins();
    assert_eq!(out.len(), q.len() * nb, "histogram buffer size");
    out.fill(0.0);
    if nb == 0 {
        return;
    }
    // angle < radius ⇔ cos(angle) > cos(radius); only those pairs pay for an acos.
    let cos_r = settings.radius_deg.to_radians().cos();
    let scale = 1.0 / settings.bin_deg;
    let qs: Vec<[f64; 3]> = q
        .iter()
        .map(|v| {
            let n = v.norm();
            if n > 0.0 { [v.x / n, v.y / n, v.z / n] } else { [0.0; 3] }
        })
        .collect();
    for i in 0..qs.len() {
        let a = qs[i];
        for (j, b) in qs.iter().enumerate().skip(i + 1) {
            let c = a[0] * b[0] + a[1] * b[1] + a[2] * b[2];
            if c <= cos_r {
                continue;
            }
            let bin = (c.min(1.0).acos().to_degrees() * scale) as usize;
            if bin < nb {
                out[i * nb + bin] += 1.0;
                out[j * nb + bin] += 1.0;
            }
        }
    }
    for row in out.chunks_exact_mut(nb) {
        let m = row.iter().copied().fold(0f32, f32::max);
        if m > 0.0 {
            let inv = 1.0 / m;
            row.iter_mut().for_each(|v| *v *= inv);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{Rng, SeedableRng};

    #[test]
    fn degenerate_settings_give_no_absurd_bin_count() {
        let f = |r: f64, b: f64| FeatureSettings { radius_deg: r, bin_deg: b };
        assert_eq!(f(120.0, 0.1).n_bins(), 1200);
        // radius / 0 is infinite: 0 bins, never usize::MAX.
        assert_eq!(f(120.0, 0.0).n_bins(), 0);
        assert_eq!(f(f64::NAN, 0.1).n_bins(), 0);
        assert_eq!(f(-5.0, 0.1).n_bins(), 0);
        let msg = |r, b| f(r, b).validated().unwrap_err().to_string();
        assert_eq!(
            msg(120.0, 0.0),
            "invalid indexing settings: angular histogram: bin_deg = 0: need 0 < bin < radius_deg = 120°"
        );
        assert!(msg(200.0, 0.1).contains("radius_deg = 200"), "{}", msg(200.0, 0.1));
        assert!(msg(180.0, 1e-6).contains("180000000 bins: at most 20000"), "{}", msg(180.0, 1e-6));
        assert!(msg(10.0, 20.0).contains("bin_deg = 20"), "{}", msg(10.0, 20.0));
    }
    #[test]
    fn histograms_match_brute_force() {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(7);
        // Spots on a cap (as on a detector) so that many pairs fall within the radius.
        let q: Vec<Vector3<f64>> = (0..150)
            .map(|_| {
                Vector3::new(
                    rng.random_range(-1.0..-0.3),
                    rng.random_range(-0.6..0.6),
                    rng.random_range(0.2..1.0),
                )
                .normalize()
            })
            .collect();
        for settings in [FeatureSettings::default(), FeatureSettings { radius_deg: 120.0, bin_deg: 0.1 }] {
            let fast = angular_histograms(&q, &settings);
            let nb = settings.n_bins();
            let mut differing = 0;
            for i in 0..q.len() {
                let mut h = vec![0f64; nb];
                for j in 0..q.len() {
                    if i == j {
                        continue;
                    }
                    let ang = q[i].cross(&q[j]).norm().atan2(q[i].dot(&q[j])).to_degrees();
                    let b = (ang / settings.bin_deg).floor();
                    if b >= 0.0 && (b as usize) < nb {
                        h[b as usize] += 1.0;
                    }
                }
                let m = h.iter().copied().fold(0.0, f64::max);
                for (b, v) in h.iter().enumerate() {
                    let want = if m > 0.0 { v / m } else { 0.0 };
                    if (fast[i * nb + b] as f64 - want).abs() > 1e-6 {
                        differing += 1;
                    }
                }
                assert!(fast[i * nb..(i + 1) * nb].iter().all(|v| (0.0..=1.0).contains(v)));
            }
            // acos vs atan2 may put an angle within 1e-12° of a bin edge on either side: allow a handful.
            assert!(differing <= 4, "{differing} bins differ");
        }
    }

    #[test]
    fn lone_spot_has_an_empty_histogram() {
        let q = [Vector3::new(-1.0, 0.0, 1.0)];
        let h = angular_histograms(&q, &FeatureSettings::default());
        assert_eq!(h.len(), 200);
        assert!(h.iter().all(|&v| v == 0.0));
        assert!(FeatureSettings { radius_deg: 0.05, bin_deg: 0.1 }.validated().is_err());
    }
}
