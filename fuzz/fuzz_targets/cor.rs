//! Any bytes given to the `.cor` reader (LaueTools peaks in 2θ/χ with a calibration trailer) give a peak
//! list or an error, never a panic; its columns, frame and calibration are then asked for.
#![no_main]

use lauekit::io::peaklist::read_cor;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    // As the CLI reads a file (UTF-8, UTF-16, Latin-1); text with NUL bytes as the page could hand it over.
    let text = lauekit::io::text::decode(data, "fuzz.cor")
        .unwrap_or_else(|_| String::from_utf8_lossy(data).into_owned());
    if let Ok(cor) = read_cor(&text, "fuzz.cor") {
        let _ = cor.framedim();
        for name in ["2theta", "chi", "XCCD", "YCCD", "intensity"] {
            let _ = cor.column(name);
        }
        let _ = cor.get("CCDLabel");
        let _ = cor.calibration("fuzz.cor");
    }
});
