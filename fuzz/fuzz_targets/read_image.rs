//! Any bytes given to the image readers give a frame or an error, never a panic, a hang or an
//! allocation beyond the limits; and the peak search on any decoded (small) frame, with settings taken from
//! the bytes, gives peaks or an error, never a panic.
#![no_main]

use lauekit::io::image::{ByteOrder, RawLayout, ReadOptions, SampleType, read_image};
use lauekit::peaks::{LocalMaximaData, PeakSearchParams, peak_search};
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
        let opts = ReadOptions { frame: 1, raw: Some(raw), ..Default::default() };
        if let Ok(mut frame) = read_image(data, "fuzz.raw", &opts) {
            // Frames of at most 256 × 256: the peak search on every method, path and edge case.
            let d = data.get(3).copied().unwrap_or(0);
            let p = PeakSearchParams {
                intensity_threshold: (d as f64) * 2.0,
                boxsize: 1 + (a % 16) as usize,
                local_maxima_search_method: if d & 1 == 0 { 0 } else { 2 },
                data_for_local_maxima: if d & 2 == 0 { LocalMaximaData::AutoBackground } else { LocalMaximaData::Raw },
                fit_peaks_gaussian: d % 3,
                formulaexpression: if d & 4 == 0 { "A-B".into() } else { "A-1.1*B".into() },
                number_max_of_fits: 400,
                ..PeakSearchParams::default()
            };
            frame.detector = match d >> 6 {
                0 => None,
                1 => Some("MARCCD165".into()),
                _ => Some("sCMOS".into()),
            };
            if let Ok(list) = peak_search(&frame, &p) {
                for pk in &list.peaks {
                    assert!(pk.x.is_finite() && pk.y.is_finite());
                }
            }
        }
    }
});
