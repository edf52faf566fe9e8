//! The network's five outputs turned back into descriptors of the spot.

use serde::{Deserialize, Serialize};

use super::truth::{AREA_FULL, POS_RANGE};

/// What the network says about one spot.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Descriptors {
    /// Gaussian-likeness Sim ∈ [0, 1] (0: cosine similarity to the best Gaussian ≤ 0.85)
    pub sim: f64,
    /// spot centre, column (px, LaueTools convention: first pixel centre (1, 1)); only ±1.1 px around s
    pub pos_x: f64,
    /// spot centre, row (px)
    pub pos_y: f64,
    /// aspect ratio min σ / max σ ∈ [0, 1]
    pub asp: f64,
    /// π σ1 σ2 (px²), saturating at 5π
    pub area: f64,
    /// Sim > `min_sim` and ‖Pos − s‖ ≤ `max_offset_px`
    pub good: bool,
}

/// Thresholds of a "good" spot: Sim > `min_sim` and ‖Pos − s‖ ≤ `max_offset_px`.
///
/// Two sets are in use. [`GoodSpotCriteria::truth`] is the paper's definition of a truly good spot (Sim > 0.5,
/// ≤ 0.9 px), applied to the fitted truth of a cut-out. [`Default`] is what the network's own answer is held
/// to before it calls a spot good: Sim > [`NETWORK_MIN_SIM`] = 0.55, a margin of one held-out Sim error
/// (the network's mean absolute Sim error on real images it was not trained on is 0.03–0.05, see
/// BENCHMARKS.md), so that spots whose true Sim sits just under 0.5 (common on crowded patterns) are not
/// passed as good. A bad spot called good spoils what follows (indexing, strain); a good spot called bad
/// only removes one spot of many. Users can set both thresholds (`--min-sim`, the page's panel).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct GoodSpotCriteria {
    pub min_sim: f64,
    /// px
    pub max_offset_px: f64,
}

/// Sim above which the network's answer calls a spot good (the truth's threshold is 0.5).
pub const NETWORK_MIN_SIM: f64 = 0.55;

impl Default for GoodSpotCriteria {
    fn default() -> Self {
        GoodSpotCriteria { min_sim: NETWORK_MIN_SIM, max_offset_px: 0.9 }
    }
}

impl GoodSpotCriteria {
    /// The paper's definition of a truly good spot, for the fitted truth: Sim > 0.5 and ≤ 0.9 px.
    pub fn truth() -> Self {
        GoodSpotCriteria { min_sim: 0.5, max_offset_px: 0.9 }
    }
}

impl GoodSpotCriteria {
    pub fn is_good(&self, sim: f64, dx: f64, dy: f64) -> bool {
        sim > self.min_sim && (dx * dx + dy * dy).sqrt() <= self.max_offset_px
    }
}

/// Descriptors of spots whose cut-outs were built on pixels `centres` (LaueTools convention), from the
/// network's outputs, row-major `centres.len() × 5`.
pub fn decode_outputs(
    outputs: &[f32],
    centres: &[(i64, i64)],
    criteria: &GoodSpotCriteria,
) -> Vec<Descriptors> {
    centres
        .iter()
        .zip(outputs.chunks_exact(5))
        .map(|(&(sx, sy), o)| {
            let dx = o[1] as f64 * 2.0 * POS_RANGE - POS_RANGE;
            let dy = o[2] as f64 * 2.0 * POS_RANGE - POS_RANGE;
            let sim = o[0] as f64;
            Descriptors {
                sim,
                pos_x: sx as f64 + dx,
                pos_y: sy as f64 + dy,
                asp: o[3] as f64,
                area: o[4] as f64 * AREA_FULL,
                good: criteria.is_good(sim, dx, dy),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn outputs_map_back_to_pixels_and_px2() {
        let d = decode_outputs(&[0.8, 0.75, 0.25, 0.5, 0.2], &[(100, 200)], &GoodSpotCriteria::default());
        let d = d[0];
        assert!((d.pos_x - 100.55).abs() < 1e-6 && (d.pos_y - 199.45).abs() < 1e-6, "{d:?}");
        assert!((d.area - std::f64::consts::PI).abs() < 1e-6 && d.good);
        let far = decode_outputs(&[0.8, 1.0, 1.0, 0.5, 0.2], &[(1, 1)], &GoodSpotCriteria::default());
        assert!(!far[0].good, "1.1·√2 px off is not good");
    }
}
