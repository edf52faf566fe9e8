//! The text parsers and settings the page takes, on hostile and dialect input (tests/text_cases), natively; the
//! browser runs the same table (tests/web_readers.rs).
#![cfg(not(target_arch = "wasm32"))]

mod text_cases;

#[test]
fn every_text_parser_case() {
    let mut failures = Vec::new();
    let n = text_cases::run_all(&mut |label, r| {
        if let Err(e) = r {
            failures.push(format!("{label}: {e}"));
        }
    });
    assert!(n >= 30, "{n} cases");
    assert!(failures.is_empty(), "{} of {n} cases wrong:\n{}", failures.len(), failures.join("\n"));
}
