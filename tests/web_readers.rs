//! The image readers on bad and extreme input in the browser (issue 3, acceptance 3 "natively and in
//! wasm"): the cases of tests/reader_cases — truncated files, wrong magic, zero and absurd dimensions,
//! unsupported compressions and HDF5 filters, NaN/Inf floats, 36-megapixel TIFF/EDF/HDF5/PNG/raw images —
//! through `lauekit::io::read_image` compiled to wasm, in a dedicated worker as the page runs it. A panic
//! (an abort in wasm) fails the test; so does any case whose error or frame is not the expected one.
//!
//! Also the text parsers and settings of tests/text_cases.
//!
//! `CHROMEDRIVER=/usr/bin/chromedriver cargo test --target wasm32-unknown-unknown --features webgpu --test web_readers`
#![cfg(target_arch = "wasm32")]
#![allow(clippy::unwrap_used)]

use wasm_bindgen_test::*;

mod reader_cases;
mod text_cases;

wasm_bindgen_test_configure!(run_in_dedicated_worker);

#[wasm_bindgen_test]
fn every_reader_on_bad_and_extreme_input_in_wasm() {
    let mut failures = Vec::new();
    let mut n = 0;
    let start = js_sys::Date::now();
    reader_cases::run_all(&mut |label, r| {
        n += 1;
        if let Err(e) = r {
            failures.push(format!("{label}: {e}"));
        }
    });
    web_sys::console::log_1(
        &format!(
            "{n} reader cases in wasm, {:.1} s, {} wrong",
            (js_sys::Date::now() - start) / 1e3,
            failures.len()
        )
        .into(),
    );
    assert!(n > 80, "{n} cases");
    assert!(failures.is_empty(), "{} of {n} cases wrong:\n{}", failures.len(), failures.join("\n"));
}

/// The text parsers and settings the page takes (tests/text_cases: .det, .dat, .cor, peak-search JSON and .psp,
/// LaueNN model descriptions, indexing settings) on hostile and dialect input, in wasm as natively.
#[wasm_bindgen_test]
fn every_text_parser_case_in_wasm() {
    let mut failures = Vec::new();
    let n = text_cases::run_all(&mut |label, r| {
        if let Err(e) = r {
            failures.push(format!("{label}: {e}"));
        }
    });
    web_sys::console::log_1(&format!("{n} text-parser cases in wasm, {} wrong", failures.len()).into());
    assert!(n >= 30, "{n} cases");
    assert!(failures.is_empty(), "{} of {n} cases wrong:\n{}", failures.len(), failures.join("\n"));
}
