//! Any bytes given to the `.det` reader (LaueTools detector calibration) give a calibration or an error,
//! never a panic; a calibration read is written back and read again.
#![no_main]

use lauekit::io::DetFile;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    // As the CLI reads a file (UTF-8, UTF-16, Latin-1); text with NUL bytes as the page could hand it over.
    let text = lauekit::io::text::decode(data, "fuzz.det")
        .unwrap_or_else(|_| String::from_utf8_lossy(data).into_owned());
    if let Ok(det) = DetFile::parse(&text, "fuzz.det") {
        // Written back and read again (rounding may make it invalid: an error, not a panic).
        let _ = DetFile::parse(&det.to_text(), "fuzz-rewritten.det");
    }
    let _ = lauekit::io::det::parse_matrix(&text);
});
