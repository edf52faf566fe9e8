//! Any bytes given to the `.dat` reader (LaueTools peak lists) give peaks or an error, never a panic; the
//! peaks read are written back and read again.
#![no_main]

use lauekit::io::peaklist::{read_dat, write_dat};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    // As the CLI reads a file (UTF-8, UTF-16, Latin-1); text with NUL bytes as the page could hand it over.
    let text = lauekit::io::text::decode(data, "fuzz.dat")
        .unwrap_or_else(|_| String::from_utf8_lossy(data).into_owned());
    if let Ok(peaks) = read_dat(&text, "fuzz.dat") {
        let _ = read_dat(&write_dat(&peaks, "fuzz.dat", "fuzz"), "fuzz-rewritten.dat");
    }
});
