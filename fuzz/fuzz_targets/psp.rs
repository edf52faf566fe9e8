//! Any bytes given to the `.psp` reader (LaueTools peak-search settings, INI) give validated settings or an
//! error, never a panic; settings read are valid for the peak search.
#![no_main]

use lauekit::peaks::PeakSearchParams;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    // As the CLI reads a file (UTF-8, UTF-16, Latin-1); text with NUL bytes as the page could hand it over.
    let text = lauekit::io::text::decode(data, "fuzz.psp")
        .unwrap_or_else(|_| String::from_utf8_lossy(data).into_owned());
    if let Ok(p) = PeakSearchParams::from_psp(&text, "fuzz.psp") {
        assert!(p.clone().validated().is_ok(), "from_psp returned settings that do not validate");
        let _ = p.background_factor();
    }
});
