#![allow(clippy::unwrap_used)]
//! Golden simulations: `tests/data/golden/*.json` hold a request and the native result. The native build
//! must reproduce them bit for bit, and the browser tests (tests/web.rs) run the same requests in wasm and
//! compare with the same files. `UPDATE_GOLDEN=1 cargo test --test golden` rewrites the results.

use lauekit::simulate::{SimulationRequest, SimulationResult};

#[derive(serde::Serialize, serde::Deserialize)]
struct Golden {
    request: SimulationRequest,
    result: Option<SimulationResult>,
}

#[test]
fn native_simulations_match_the_golden_files() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/golden");
    let update = std::env::var("UPDATE_GOLDEN").is_ok_and(|v| v == "1");
    let mut n = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_none_or(|e| e != "json") {
            continue;
        }
        let mut g: Golden = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        let ours = g.request.run().unwrap();
        if update {
            g.result = Some(ours);
            std::fs::write(&path, serde_json::to_string_pretty(&g).unwrap() + "\n").unwrap();
        } else {
            let want = g
                .result
                .as_ref()
                .unwrap_or_else(|| panic!("{}: no result; run with UPDATE_GOLDEN=1", path.display()));
            assert_eq!(&ours, want, "{}", path.display());
            assert!(ours.spots.len() > 20, "{}", path.display());
        }
        n += 1;
    }
    assert!(n >= 3, "expected golden files in {}", dir.display());
}
