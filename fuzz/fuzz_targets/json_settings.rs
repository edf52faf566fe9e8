//! Every JSON settings file the CLI or the page takes, as any bytes: the first byte picks the type, the
//! rest is the text. Each parses and validates to settings or an error, never a panic, a hang or an
//! allocation beyond the limits; the cheap ones are then used (a simulation is run, a synthetic scan
//! built, a journal read back).
#![no_main]

use lauekit::geometry::Calibration;
use lauekit::index::IndexSettings;
use lauekit::index::nn::FeatureSettings;
use lauekit::io::ReadOptions;
use lauekit::peaks::PeakSearchParams;
use lauekit::pipeline::{Models, PipelineRequest};
use lauekit::refine::calibration::{CalibrationRequest, check_physical};
use lauekit::scan::clustering::ClusterRecord;
use lauekit::scan::shard::read_journal;
use lauekit::scan::simulate::{SyntheticScan, SyntheticScanSpec};
use lauekit::simulate::SimulationRequest;
use lauekit::spotnet::GoodSpotCriteria;
use libfuzzer_sys::fuzz_target;

fn parse<T: serde::de::DeserializeOwned>(text: &str) -> Option<T> {
    serde_json::from_str(text).ok()
}

fuzz_target!(|data: &[u8]| {
    let Some((&kind, rest)) = data.split_first() else { return };
    let text = String::from_utf8_lossy(rest);
    match kind % 11 {
        // `--params`, the page's peak-search settings
        0 => {
            if let Ok(p) = PeakSearchParams::from_json(&text, "fuzz.json") {
                assert!(p.validated().is_ok(), "from_json returned settings that do not validate");
            }
        }
        // `--request`, the page's and `scan`'s pipeline request (checked without networks)
        1 => {
            if let Some(r) = parse::<PipelineRequest>(&text) {
                let _ = r.prepare(&Models::default());
            }
        }
        // the page's simulation request: material, orientation, detector, band → spots
        2 => {
            if let Some(r) = parse::<SimulationRequest>(&text) {
                let _ = r.run();
            }
        }
        // the page's calibration request
        3 => {
            if let Some(r) = parse::<CalibrationRequest>(&text) {
                let _ = r.validated();
            }
        }
        // a calibration (page, scan files)
        4 => {
            if let Some(c) = parse::<Calibration>(&text) {
                let _ = check_physical(&c, "fuzz");
                let _ = c.validated();
            }
        }
        // `simulate-scan --spec`, the page's synthetic scan
        5 => {
            if let Some(s) = parse::<SyntheticScanSpec>(&text)
                && let Ok(scan) = SyntheticScan::new(&s)
            {
                let _ = scan.truth();
                let _ = scan.point_spots(0);
            }
        }
        // a scan's journal (`scan --resume`)
        6 => {
            let _ = read_journal(&text, "fuzz.journal");
        }
        // a scan file's clustering
        7 => {
            if let Some(c) = parse::<ClusterRecord>(&text) {
                let _ = c.validate(c.labels.len());
            }
        }
        // LaueNN histogram settings
        8 => {
            if let Some(f) = parse::<FeatureSettings>(&text)
                && let Ok(f) = f.validated()
            {
                let _ = f.n_bins();
            }
        }
        // the page's image read options and indexing options
        9 => {
            let _ = parse::<ReadOptions>(&text);
            let _ = parse::<IndexSettings>(&text);
        }
        // good-spot criteria of the spot network
        _ => {
            let _ = parse::<GoodSpotCriteria>(&text);
        }
    }
});
