#![allow(clippy::unwrap_used)]
//! Golden spot descriptors: `tests/data/golden/spotnet/Ge_blanc.json` holds what the shipped spot network
//! (`src/spotnet/spotnet.bpk`) says, natively on the CPU device (flex), about the peaks of the page's example
//! (`www/examples/Ge_blanc_0000.mccd`, native peak search with `www/examples/peaksearch.json`, cut-outs on the
//! detected pixels). The browser test
//! (tests/web.rs) checks that flex in wasm and WebGPU give the same numbers within 1e-4.
//! `UPDATE_GOLDEN=1 cargo test --test golden_spotnet` rewrites it.

use std::path::Path;

use lauekit::io::{ReadOptions, read_image};
use lauekit::peaks::{Peak, PeakSearchParams, peak_search};
use lauekit::spotnet::{Descriptors, GoodSpotCriteria, characterize, embedded_spotnet};

#[derive(serde::Serialize, serde::Deserialize)]
struct Golden {
    image: String,
    params: String,
    note: String,
    /// the peak positions the descriptors are of (LaueTools' convention)
    peaks: Vec<(f64, f64)>,
    descriptors: Vec<Descriptors>,
}

#[test]
fn native_spot_descriptors_match_the_golden_file() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let path = root.join("tests/data/golden/spotnet/Ge_blanc.json");
    let image = "www/examples/Ge_blanc_0000.mccd";
    let params = "www/examples/peaksearch.json";
    let frame =
        read_image(&std::fs::read(root.join(image)).unwrap(), image, &ReadOptions::default()).unwrap();
    let p =
        PeakSearchParams::from_json(&std::fs::read_to_string(root.join(params)).unwrap(), params).unwrap();
    // On the detected pixels (fitted position minus the fit's offset), as `lauekit characterize` and the page.
    let peaks: Vec<(f64, f64)> =
        peak_search(&frame, &p).unwrap().peaks.iter().map(Peak::detected_pixel).collect();
    let device = lauekit::device::cpu().device;
    let net = embedded_spotnet(&device).unwrap();
    let ours = characterize(&frame, &peaks, &net, &device, &GoodSpotCriteria::default());
    assert_eq!(ours.len(), peaks.len());
    if std::env::var("UPDATE_GOLDEN").is_ok_and(|v| v == "1") {
        let g = Golden {
            image: image.into(),
            params: params.into(),
            note: "shipped spot network on the CPU device (flex), native; written by UPDATE_GOLDEN=1 cargo test \
                   --test golden_spotnet"
                .into(),
            peaks,
            descriptors: ours,
        };
        std::fs::write(&path, serde_json::to_string_pretty(&g).unwrap() + "\n").unwrap();
        return;
    }
    let g: Golden = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    assert_eq!(g.peaks.len(), peaks.len());
    let mut worst = 0.0f64;
    for ((a, b), (pa, pb)) in ours.iter().zip(&g.descriptors).zip(peaks.iter().zip(&g.peaks)) {
        assert!((pa.0 - pb.0).abs() < 1e-9 && (pa.1 - pb.1).abs() < 1e-9);
        for (x, y) in
            [(a.sim, b.sim), (a.pos_x, b.pos_x), (a.pos_y, b.pos_y), (a.asp, b.asp), (a.area, b.area)]
        {
            worst = worst.max((x - y).abs());
        }
        assert_eq!(a.good, b.good);
    }
    assert!(worst < 1e-5, "native descriptors moved by {worst} from the golden file");
}
