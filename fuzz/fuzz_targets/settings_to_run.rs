//! Any bytes as a pipeline request (the JSON of `--request`, the page and `scan`), run as every front end
//! runs it: parse → check against the networks at hand → peak search → spot network → indexing
//! (look-up table or the Ge LaueNN model) → refinement, on a small synthetic frame (128 × 128, a simulated
//! Ge pattern with a masked dead column). Results or an error, never a panic, a hang (libFuzzer `-timeout`)
//! or an allocation beyond the limits (`-rss_limit_mb`).
#![no_main]

use std::cell::RefCell;
use std::collections::BTreeMap;

use lauekit::geometry::Calibration;
use lauekit::index::Method;
use lauekit::index::nn::HklModel;
use lauekit::io::{Frame, Pixels};
use lauekit::pipeline::{Models, PipelineRequest, run_image};
use lauekit::simulate::SimulationRequest;
use libfuzzer_sys::fuzz_target;

static GE_WEIGHTS: &[u8] = include_bytes!("../../www/models/Ge.bpk");
static GE_META: &str = include_str!("../../www/models/Ge.json");

const SIDE: usize = 128;

fn calibration() -> Calibration {
    Calibration {
        distance_mm: 20.0,
        xcen_px: 64.0,
        ycen_px: 64.0,
        xbet_deg: 0.0,
        xgam_deg: 0.0,
        pixel_size_mm: 0.25,
        rows: SIDE,
        cols: SIDE,
    }
}

/// A Ge grain's pattern on the small detector: Gaussian spots on a flat background, column 100 dead (NaN,
/// masked).
fn frame() -> Frame {
    let request = SimulationRequest {
        material: Some("Ge".into()),
        lattice: None,
        space_group: None,
        extinction: None,
        ub: None,
        euler_deg: Some([10.0, 20.0, 30.0]),
        calibration: calibration(),
        emin_kev: 5.0,
        emax_kev: 22.0,
    };
    let spots = request.run().map(|r| r.spots).unwrap_or_default();
    let mut pixels = vec![100f32; SIDE * SIDE];
    for s in &spots {
        let (cx, cy) = (s.x_px - 1.0, s.y_px - 1.0);
        for r in 0..SIDE {
            for c in 0..SIDE {
                let d2 = (c as f64 - cx).powi(2) + (r as f64 - cy).powi(2);
                if d2 < 36.0 {
                    pixels[r * SIDE + c] += (3000.0 * (-d2 / 2.88).exp()) as f32;
                }
            }
        }
    }
    let mut mask = vec![false; SIDE * SIDE];
    for r in 0..SIDE {
        pixels[r * SIDE + 100] = f32::NAN;
        mask[r * SIDE + 100] = true;
    }
    Frame {
        rows: SIDE,
        cols: SIDE,
        pixels: Pixels::F32(pixels),
        mask: Some(mask),
        detector: None,
        pixel_size_mm: Some(0.25),
        metadata: BTreeMap::new(),
        source: "fuzz".into(),
    }
}

/// The frame, and the networks a front end would load (lent to each run that needs them).
struct Fixture {
    frame: Frame,
    pool: RefCell<Models>,
}

thread_local! {
    static FIXTURE: Fixture = {
        let device = lauekit::device::cpu().device;
        Fixture {
            frame: frame(),
            pool: RefCell::new(Models {
                spotnet: lauekit::spotnet::embedded_spotnet(&device).ok().map(|n| (n, device.clone())),
                hkl: HklModel::from_bytes(GE_WEIGHTS, GE_META, &device).ok(),
            }),
        }
    };
}

fuzz_target!(|data: &[u8]| {
    let Ok(request) = serde_json::from_slice::<PipelineRequest>(data) else { return };
    FIXTURE.with(|f| {
        let mut pool = f.pool.borrow_mut();
        let mut models = Models::default();
        if request.needs_spotnet() {
            models.spotnet = pool.spotnet.take();
        }
        if request.index.as_ref().is_some_and(|i| i.method == Method::Nn) {
            models.hkl = pool.hkl.take();
        }
        if let Ok(job) = request.prepare(&models)
            && let Ok(report) = run_image(&f.frame, &calibration(), &job, &models)
        {
            assert!(report.n_peaks < SIDE * SIDE);
        }
        pool.spotnet = pool.spotnet.take().or(models.spotnet.take());
        pool.hkl = pool.hkl.take().or(models.hkl.take());
    });
});
