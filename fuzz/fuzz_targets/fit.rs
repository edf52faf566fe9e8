//! Any bytes given to the `.fit` reader (LaueTools indexing results, one or several grains) give grains
//! or an error, never a panic.
#![no_main]

use lauekit::io::FitFile;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    // As the CLI reads a file (UTF-8, UTF-16, Latin-1); text with NUL bytes as the page could hand it over.
    let text = lauekit::io::text::decode(data, "fuzz.fit")
        .unwrap_or_else(|_| String::from_utf8_lossy(data).into_owned());
    let _ = FitFile::parse_all(&text, "fuzz.fit");
    let _ = FitFile::parse(&text, "fuzz.fit");
});
