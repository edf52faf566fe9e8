//! Any bytes given to the image readers give a frame or an error, never a panic, a hang or an
//! allocation beyond the limits.
#![no_main]

use lauekit::io::image::{ByteOrder, RawLayout, ReadOptions, SampleType, read_image};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    // Format recognised from the content: TIFF, MarCCD, EDF, HDF5, PNG.
    if let Ok(frame) = read_image(data, "fuzz", &ReadOptions::default()) {
        assert_eq!(frame.pixels.len(), frame.rows * frame.cols);
        assert!(frame.mask.as_ref().is_none_or(|m| m.len() == frame.rows * frame.cols));
    }
    // The second frame of stacks, and raw binary with a layout taken from the first bytes.
    if let [a, b, c, ..] = *data {
        let types = [
            SampleType::U8,
            SampleType::I8,
            SampleType::U16,
            SampleType::I16,
            SampleType::U32,
            SampleType::I32,
            SampleType::F32,
            SampleType::F64,
        ];
        let raw = RawLayout {
            rows: Some(a as usize + 1),
            cols: Some(b as usize + 1),
            sample_type: Some(types[c as usize % 8]),
            offset: if c & 8 == 0 { None } else { Some(3) },
            byte_order: if c & 16 == 0 { ByteOrder::Little } else { ByteOrder::Big },
        };
        let _ = read_image(data, "fuzz.raw", &ReadOptions { frame: 1, raw: Some(raw), ..Default::default() });
    }
});
