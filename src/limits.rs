//! Resource limits: every size a user types that drives an allocation or the running time is checked
//! against one of these before anything is allocated, and refused with [`LaueError::Limit`] naming the
//! setting, the value, the limit and how to go beyond it.
//!
//! One scheme for all of them: each limit has a default and an environment variable `LAUEKIT_MAX_…`
//! that overrides it (a positive whole number; natively only — the page keeps the defaults). An override
//! that is not a positive whole number is ignored and the default applies. `docs/limits.md` lists every
//! limit, its value, why it is there and how to override it.

use crate::error::{LaueError, Result};

/// One resource limit: its default and the environment variable that overrides it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limit {
    /// the environment variable overriding the default (`LAUEKIT_MAX_…`)
    pub env: &'static str,
    /// the value used when the variable is absent or not a positive whole number
    pub default: u64,
}

/// Reflections a simulation may enumerate for one grain, estimated from the cell volume and the energy
/// band before any is computed: V·(4π/3)·(1/λmin³ − 1/λmax³). Cu in 5–22 keV: ≈ 1 100; a 300 Å cubic
/// cell: 6·10⁸ (≈ 50 GB of spots).
pub const REFLECTIONS: Limit = Limit { env: "LAUEKIT_MAX_REFLECTIONS", default: 5_000_000 };
/// Pixels of a rendered (synthetic) detector image: 8192 × 8192.
pub const SIMULATED_PIXELS: Limit = Limit { env: "LAUEKIT_MAX_SIMULATED_PIXELS", default: 1 << 26 };
/// Most intense spots whose pairs the look-up table indexer tries (`--pair-spots`, `nbspots_pairs`); the
/// indexer may widen to three times as many, and while no grain passes to this limit itself (or 3·n when
/// larger), so the pairs grow as 9·n²/2.
pub const PAIR_SPOTS: Limit = Limit { env: "LAUEKIT_MAX_PAIR_SPOTS", default: 50 };
/// Candidate orientations kept per grain and material; beyond it the best by the quick rank are kept.
pub const CANDIDATES: Limit = Limit { env: "LAUEKIT_MAX_CANDIDATES", default: 200_000 };
/// Grains to look for in one pattern (`--grains`, `nbgrainstofind`).
pub const GRAINS: Limit = Limit { env: "LAUEKIT_MAX_GRAINS", default: 200 };
/// Entries of the table of inter-plane angles (estimated from `nlutmax` and the Laue group).
pub const LUT_ENTRIES: Limit = Limit { env: "LAUEKIT_MAX_LUT_ENTRIES", default: 20_000_000 };
/// Pairs of network predictions turned into candidates (`nn_max_pairs`).
pub const NN_PAIRS: Limit = Limit { env: "LAUEKIT_MAX_NN_PAIRS", default: 100_000 };
/// Side of method 2's convolution kernel (`paramsHat[1]`, px); it must also fit in the frame.
pub const KERNEL_PX: Limit = Limit { env: "LAUEKIT_MAX_KERNEL_PX", default: 63 };
/// Multiply-adds of method 2's convolution (pixels × kernel side²): about 2048² × 21² (seconds).
pub const CONVOLUTION_OPS: Limit = Limit { env: "LAUEKIT_MAX_CONVOLUTION_OPS", default: 2_000_000_000 };
/// Half-size of method 2's amplitude box (`PixelNearRadius`, px).
pub const NEAR_RADIUS_PX: Limit = Limit { env: "LAUEKIT_MAX_NEAR_RADIUS_PX", default: 200 };
/// Worker threads, as a multiple of the cores (`--threads`): more only adds memory and switching.
pub const THREADS_PER_CORE: Limit = Limit { env: "LAUEKIT_MAX_THREADS_PER_CORE", default: 4 };
/// Training: samples per batch.
pub const BATCH_SIZE: Limit = Limit { env: "LAUEKIT_MAX_BATCH_SIZE", default: 65_536 };
/// Training: epochs (or steps) of one run.
pub const EPOCHS: Limit = Limit { env: "LAUEKIT_MAX_EPOCHS", default: 100_000 };
/// Training: simulated orientations (LaueNN data set).
pub const ORIENTATIONS: Limit = Limit { env: "LAUEKIT_MAX_ORIENTATIONS", default: 1_000_000 };

impl Limit {
    /// The limit in force: the environment variable when it is a positive whole number, else the default.
    pub fn value(&self) -> u64 {
        #[cfg(not(target_arch = "wasm32"))]
        if let Some(v) = std::env::var(self.env).ok().and_then(|s| s.trim().parse::<u64>().ok())
            && v > 0
        {
            return v;
        }
        self.default
    }

    /// Refuses `value` of the setting `what` when it is over the limit.
    pub fn check(&self, what: &str, value: u64) -> Result<()> {
        self.check_with(what, value, "")
    }

    /// As [`Limit::check`], with advice first in the hint (e.g. "use a smaller band").
    pub fn check_with(&self, what: &str, value: u64, advice: &str) -> Result<()> {
        let limit = self.value();
        if value <= limit {
            return Ok(());
        }
        let hint = if advice.is_empty() {
            format!("set {}=N to allow more", self.env)
        } else {
            format!("{advice}, or set {}=N to allow more", self.env)
        };
        Err(LaueError::limit(what, value, limit, hint))
    }

    /// As [`Limit::check`] for a floating-point estimate (NaN and infinities are over any limit).
    pub fn check_estimate(&self, what: &str, estimate: f64, advice: &str) -> Result<()> {
        if estimate.is_finite() && estimate <= self.value() as f64 {
            return Ok(());
        }
        let shown = if estimate.is_finite() { format!("{estimate:.3e}") } else { estimate.to_string() };
        let hint = if advice.is_empty() {
            format!("set {}=N to allow more", self.env)
        } else {
            format!("{advice}, or set {}=N to allow more", self.env)
        };
        Err(LaueError::limit(what, shown, self.value(), hint))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_refuse_with_the_variable_named() {
        assert!(PAIR_SPOTS.check("--pair-spots", 10).is_ok());
        let e = PAIR_SPOTS.check("--pair-spots", 2000).unwrap_err().to_string();
        assert!(e.contains("--pair-spots = 2000") && e.contains("LAUEKIT_MAX_PAIR_SPOTS"), "{e}");
        let e = REFLECTIONS.check_estimate("reflections", f64::NAN, "").unwrap_err().to_string();
        assert!(e.contains("NaN"), "{e}");
        assert!(REFLECTIONS.check_estimate("reflections", 1.0e3, "").is_ok());
    }
}
