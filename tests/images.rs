//! The image readers on the real shared images (../shared/data/real), checked against values read
//! independently with tifffile and fabio (tests/data/images/real_references.json, written by
//! scripts/make_image_references.py), and on bad input through the public entry point.
#![allow(clippy::unwrap_used)]

use std::path::PathBuf;

use lauekit::LaueError;
use lauekit::io::Pixels;
use lauekit::io::image::{ImageFormat, ReadOptions, detect_format, read_image};
use serde_json::Value;

mod reader_cases;

fn shared(rel: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/data/real").join(rel)
}

fn test_data(file: &str) -> Vec<u8> {
    std::fs::read(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data/images").join(file)).unwrap()
}

fn references() -> Value {
    serde_json::from_slice(&test_data("real_references.json")).unwrap()
}

/// Reads a shared image and checks it against its reference values.
fn check_real(rel: &str, format: ImageFormat, detector: &str, pixel_mm: f64) -> lauekit::io::Frame {
    let path = shared(rel);
    let bytes = std::fs::read(&path)
        .unwrap_or_else(|e| panic!("{}: {e} (is ../shared beside the repo?)", path.display()));
    let name = path.file_name().unwrap().to_string_lossy().to_string();
    assert_eq!(detect_format(&bytes, &name), Some(format));
    let f = read_image(&bytes, &name, &ReadOptions::default()).unwrap();
    let r = &references()[rel];
    assert_eq!(f.source, name);
    assert_eq!(
        (f.rows as u64, f.cols as u64),
        (r["rows"].as_u64().unwrap(), r["cols"].as_u64().unwrap()),
        "{rel}"
    );
    assert_eq!(f.detector.as_deref(), Some(detector), "{rel}");
    assert_eq!(f.pixel_size_mm, Some(pixel_mm), "{rel}");
    assert_eq!(f.mask, None, "{rel}");
    let Pixels::U16(v) = &f.pixels else { panic!("{rel}: {} pixels, expected u16", f.pixels.type_name()) };
    assert_eq!(r["dtype"], "uint16");
    let sum: u64 = v.iter().map(|&x| x as u64).sum();
    assert_eq!(sum, r["sum"].as_u64().unwrap(), "{rel}: sum");
    let (imax, &max) = v.iter().enumerate().max_by_key(|&(i, &x)| (x, std::cmp::Reverse(i))).unwrap();
    assert_eq!(max as u64, r["max"].as_u64().unwrap(), "{rel}: max");
    let at = [imax / f.cols, imax % f.cols];
    assert_eq!(
        at.map(|x| x as u64).to_vec(),
        r["argmax"].as_array().unwrap().iter().map(|x| x.as_u64().unwrap()).collect::<Vec<_>>()
    );
    assert_eq!(*v.iter().min().unwrap() as u64, r["min"].as_u64().unwrap(), "{rel}: min");
    for p in r["pixels"].as_array().unwrap() {
        let (row, col, value) =
            (p[0].as_u64().unwrap() as usize, p[1].as_u64().unwrap() as usize, p[2].as_f64().unwrap());
        assert_eq!(f.at(row, col), value, "{rel}: pixel ({row}, {col})");
    }
    f
}

#[test]
fn marccd_ge_blanc() {
    let rel = "Ge_blanc/Ge_blanc_0000.mccd";
    let f = check_real(rel, ImageFormat::MarCcd, "MARCCD165", 0.079142);
    let m = &f.metadata;
    assert_eq!(m["format"], "mccd");
    // Every frame-header field fabio reads, same value.
    let fabio = references()[rel]["marccd"].as_object().unwrap().clone();
    assert!(fabio.len() > 100);
    for (key, want) in fabio {
        let got = m.get(&format!("marccd.{key}")).unwrap_or_else(|| panic!("marccd.{key} missing"));
        match want {
            Value::String(s) => assert_eq!(got, &s, "marccd.{key}"),
            n => assert_eq!(got, &n.to_string(), "marccd.{key}"),
        }
    }
    // The derived values, in their units.
    assert_eq!(m["beam_x_px"], "1022.986");
    assert_eq!(m["beam_y_px"], "1022.986");
    assert_eq!(m["exposure_s"], "0.3");
    assert_eq!(m["wavelength_angstrom"], "0.68499");
    assert_eq!(m["pixel_size_file_mm"], "0.07918");
    assert!(!m.contains_key("distance_mm"), "the header's distance is 0 (unknown)");
    assert_eq!(m["detector_match"], "format and dimensions");
    assert_eq!(m["saturation"], "65535");
    assert_eq!(m["frame_count"], "1");
}

#[test]
fn scmos_ge() {
    let f = check_real("Ge_sCMOS/img_Ge_sCMOS_0000.tif", ImageFormat::Tiff, "sCMOS", 0.0734);
    let m = &f.metadata;
    assert_eq!(m["format"], "tiff");
    assert_eq!(m["tiff.ImageDescription"], "xech=7.858280000000002 yech=-20.46333");
    assert_eq!(m["xech"], "7.858280000000002");
    assert_eq!(m["yech"], "-20.46333");
    assert_eq!(m["exposure_s"], "0.05", "from the camera settings: Exposure:(50, 'Millisec')");
    assert_eq!(m["tiff.Software"], "PSLViewer4.7.6");
    assert_eq!(m["tiff.Copyright"], "Photonic science");
    assert!(m["tiff.Artist"].starts_with("QuadGSense"));
}

#[test]
fn scmos_gan() {
    let f = check_real("GaN_Si/nw1_0000.tif", ImageFormat::Tiff, "sCMOS", 0.0734);
    let m = &f.metadata;
    for (key, value) in
        [("xech", "1.0747"), ("yech", "1.7521"), ("zech", "-0.8263"), ("mon", "12276"), ("exposure", "1.000")]
    {
        assert_eq!(m[key], value, "{key}");
    }
    assert_eq!(m["exposure_s"], "1");
}

#[test]
fn a_forced_detector_and_the_raw_fallback_read_the_same_pixels() {
    let bytes = std::fs::read(shared("Ge_blanc/Ge_blanc_0000.mccd")).unwrap();
    let opts = ReadOptions { detector: Some("PRINCETON".into()), ..Default::default() };
    let f = read_image(&bytes, "Ge.mccd", &opts).unwrap();
    assert_eq!((f.detector.as_deref(), f.pixel_size_mm), (Some("PRINCETON"), Some(0.079)));
    // The same file as raw binary: MARCCD165's 2048 × 2048 u16 after the 4096-byte header.
    let opts = ReadOptions {
        format: Some(ImageFormat::Raw),
        detector: Some("MARCCD165".into()),
        ..Default::default()
    };
    let raw = read_image(&bytes, "Ge.mccd", &opts).unwrap();
    assert_eq!(raw.pixels, f.pixels);
    assert_eq!(raw.metadata["raw.offset"], "4096");
}

/// Bad input: always an error naming the file and what was wrong, never a panic.
#[test]
fn bad_input() {
    let opts = ReadOptions::default();
    let err = |bytes: &[u8], name: &str, opts: &ReadOptions| -> String {
        match read_image(bytes, name, opts) {
            Err(LaueError::Parse { file, reason }) => {
                assert_eq!(file, name);
                reason
            }
            other => panic!("{name}: expected a parse error, got {other:?}"),
        }
    };
    // Truncated: the real MarCCD and sCMOS files cut short.
    let mccd = std::fs::read(shared("Ge_blanc/Ge_blanc_0000.mccd")).unwrap();
    let reason = err(&mccd[..mccd.len() / 2], "half.mccd", &opts);
    assert!(reason.contains("truncated") || reason.contains("needs"), "{reason}");
    let tif = std::fs::read(shared("GaN_Si/nw1_0000.tif")).unwrap();
    for cut in [0, 1, 7, 100, 4000, 5000, tif.len() - 1] {
        err(&tif[..cut], "cut.tif", &opts);
    }
    // Wrong magic.
    let mut bad = tif.clone();
    bad[..4].copy_from_slice(b"XX*\0");
    assert!(err(&bad, "nw1.tif", &opts).contains("TIFF"));
    assert!(err(&bad, "nw1", &opts).starts_with("not a known image format"));
    // Zero and absurd dimensions (EDF headers say what they like).
    let edf = |d1: &str, d2: &str| {
        let h = format!("{{\nDim_1 = {d1} ;\nDim_2 = {d2} ;\nDataType = UnsignedShort ;\n");
        let mut b = format!("{h}{}}}\n", " ".repeat(510 - h.len())).into_bytes();
        b.extend([0u8; 64]);
        b
    };
    assert!(err(&edf("0", "5"), "zero.edf", &opts).contains("zero image dimension"));
    assert!(err(&edf("100000", "100000"), "huge.edf", &opts).contains("over the limit of 268435456 pixels"));
    assert!(err(&edf("4000", "4000"), "short.edf", &opts).contains("needs 32000000 bytes"));
    // Unsupported compression and HDF5 filter.
    assert!(
        err(&test_data("u16_zstd.tif"), "z.tif", &opts).contains("unsupported compression 50000 (Zstandard)")
    );
    let reason = err(&test_data("bitshuffle_lz4.h5"), "eiger.h5", &opts);
    assert!(reason.contains("bitshuffle filter"), "{reason}");
    // NaN floats are kept, counted and masked; finite_f32 gives computable values.
    let f = read_image(&test_data("custom_f32.h5"), "nan.h5", &opts).unwrap();
    assert_eq!(f.metadata["nonfinite_pixels"], "2");
    let g = f.finite_f32();
    assert_eq!(g.masked_count(), 2);
    assert!(matches!(&g.pixels, Pixels::F32(v) if v.iter().all(|x| x.is_finite())));
}

/// Bad and extreme input for every reader (tests/reader_cases, also run in the browser by
/// tests/web_readers.rs): each case gives its expected error or frame, never a panic.
#[test]
fn every_reader_on_bad_and_extreme_input() {
    let mut failures = Vec::new();
    let mut n = 0;
    reader_cases::run_all(&mut |label, r| {
        n += 1;
        if let Err(e) = r {
            failures.push(format!("{label}: {e}"));
        }
    });
    assert!(n > 80, "{n} cases");
    assert!(failures.is_empty(), "{} of {n} cases wrong:\n{}", failures.len(), failures.join("\n"));
}

/// HDF5 written by a Rust writer (hdf5-pure), in every pixel type the reader takes, 2-D and stacked,
/// contiguous and chunked with each filter it decodes, in the Eiger layout and at a given path.
#[test]
fn hdf5_written_by_a_rust_writer() {
    use hdf5_pure::{DatasetBuilder, FileBuilder};
    let (frames, rows, cols) = (3usize, 7usize, 11usize);
    let value = |k: usize, r: usize, c: usize| (k * 1000 + r * 20 + c) as f64;
    let values: Vec<f64> = (0..frames)
        .flat_map(|k| (0..rows).flat_map(move |r| (0..cols).map(move |c| value(k, r, c))))
        .collect();
    type Fill = fn(&mut DatasetBuilder, &[f64]);
    let types: [(&str, Fill); 8] = [
        ("u8", |d, v| {
            d.with_u8_data(&v.iter().map(|&x| (x as u32 % 251) as u8).collect::<Vec<_>>());
        }),
        ("i8", |d, v| {
            d.with_i8_data(&v.iter().map(|&x| (x as i32 % 100 - 50) as i8).collect::<Vec<_>>());
        }),
        ("u16", |d, v| {
            d.with_u16_data(&v.iter().map(|&x| x as u16).collect::<Vec<_>>());
        }),
        ("i16", |d, v| {
            d.with_i16_data(&v.iter().map(|&x| -(x as i16)).collect::<Vec<_>>());
        }),
        ("u32", |d, v| {
            d.with_u32_data(&v.iter().map(|&x| x as u32 * 70_000).collect::<Vec<_>>());
        }),
        ("i32", |d, v| {
            d.with_i32_data(&v.iter().map(|&x| -(x as i32) * 70_000).collect::<Vec<_>>());
        }),
        ("f32", |d, v| {
            d.with_f32_data(&v.iter().map(|&x| x as f32 * 0.25).collect::<Vec<_>>());
        }),
        ("f64", |d, v| {
            d.with_f64_data(&v.iter().map(|&x| x * 0.5).collect::<Vec<_>>());
        }),
    ];
    let want = |ty: &str, x: f64| match ty {
        "u8" => (x as u32 % 251) as f64,
        "i8" => (x as i32 % 100 - 50) as f64,
        "u16" => x,
        "i16" => -x,
        "u32" => x * 70_000.0,
        "i32" => -x * 70_000.0,
        "f32" => x * 0.25,
        _ => x * 0.5,
    };
    #[derive(Clone, Copy, Debug)]
    enum Storage {
        Contiguous,
        Deflate,
        ShuffleDeflate,
        Fletcher32,
        Lzf,
    }
    for (ty, fill) in types {
        for storage in [
            Storage::Contiguous,
            Storage::Deflate,
            Storage::ShuffleDeflate,
            Storage::Fletcher32,
            Storage::Lzf,
        ] {
            for stacked in [true, false] {
                let shape: Vec<u64> = if stacked {
                    vec![frames as u64, rows as u64, cols as u64]
                } else {
                    vec![rows as u64, cols as u64]
                };
                let data = if stacked { &values[..] } else { &values[..rows * cols] };
                let configure = |d: &mut DatasetBuilder| {
                    fill(d, data);
                    d.with_shape(&shape);
                    let chunk: Vec<u64> = if stacked { vec![1, 4, 6] } else { vec![4, 6] };
                    match storage {
                        Storage::Contiguous => {}
                        Storage::Deflate => {
                            d.with_chunks(&chunk).with_deflate(6);
                        }
                        Storage::ShuffleDeflate => {
                            d.with_chunks(&chunk).with_shuffle().with_deflate(4);
                        }
                        Storage::Fletcher32 => {
                            d.with_chunks(&chunk).with_fletcher32();
                        }
                        Storage::Lzf => {
                            d.with_chunks(&chunk).with_lzf();
                        }
                    }
                };
                // Eiger layout (found without being told) and a path of one's own.
                let mut eiger = FileBuilder::new();
                let mut entry = eiger.create_group("entry");
                let mut group = entry.create_group("data");
                configure(group.create_dataset("data"));
                entry.add_group(group.finish());
                eiger.add_group(entry.finish());
                let mut custom = FileBuilder::new();
                configure(custom.create_dataset("frames"));
                let files = [(eiger.finish().unwrap(), None), (custom.finish().unwrap(), Some("/frames"))];
                for (bytes, dataset) in files {
                    let label = format!("{ty} {storage:?} stacked {stacked} {dataset:?}");
                    for k in 0..if stacked { frames } else { 1 } {
                        let opts = ReadOptions {
                            frame: k,
                            dataset: dataset.map(String::from),
                            ..Default::default()
                        };
                        let f = read_image(&bytes, "w.h5", &opts).unwrap_or_else(|e| panic!("{label}: {e}"));
                        assert_eq!((f.rows, f.cols), (rows, cols), "{label}");
                        assert_eq!(f.metadata["frame_count"], if stacked { "3" } else { "1" }, "{label}");
                        for (r, c) in [(0, 0), (3, 5), (6, 10)] {
                            assert_eq!(f.at(r, c), want(ty, value(k, r, c)), "{label} frame {k} ({r}, {c})");
                        }
                    }
                    if stacked {
                        let opts = ReadOptions {
                            frame: frames,
                            dataset: dataset.map(String::from),
                            ..Default::default()
                        };
                        let e = read_image(&bytes, "w.h5", &opts).unwrap_err().to_string();
                        assert!(e.contains("no frame 3"), "{label}: {e}");
                    }
                }
            }
        }
    }
}

/// The generated TIFF, EDF and HDF5 files of tests/data/images through the public entry point, with the
/// format recognised from the bytes alone (a neutral file name).
#[test]
fn generated_files_recognised_by_content() {
    for (file, format) in [
        ("u16_be_strips_lzw.tif", ImageFormat::Tiff),
        ("u16_le_tiles_deflate.tif", ImageFormat::Tiff),
        ("u16_be_tiles_packbits.tif", ImageFormat::Tiff),
        ("u8_le_strips_packbits.tif", ImageFormat::Tiff),
        ("u32_be_strips_deflate.tif", ImageFormat::Tiff),
        ("i32_le_tiles_lzw.tif", ImageFormat::Tiff),
        ("f32_be_strips_deflate.tif", ImageFormat::Tiff),
        ("f32_le_tiles_none.tif", ImageFormat::Tiff),
        ("u16_3pages.tif", ImageFormat::Tiff),
        ("u16_fabio.edf", ImageFormat::Edf),
        ("f32_fabio.edf", ImageFormat::Edf),
        ("i32_be.edf", ImageFormat::Edf),
        ("eiger_stack.h5", ImageFormat::Hdf5),
        ("lima_stack.h5", ImageFormat::Hdf5),
        ("custom_f32.h5", ImageFormat::Hdf5),
    ] {
        let bytes = test_data(file);
        assert_eq!(detect_format(&bytes, "upload"), Some(format), "{file}");
        let f =
            read_image(&bytes, "upload", &ReadOptions::default()).unwrap_or_else(|e| panic!("{file}: {e}"));
        assert_eq!((f.rows, f.cols), (37, 53), "{file}");
        assert_eq!(f.metadata["format"], format.name(), "{file}");
    }
}

/// BigTIFF and classic TIFF, LZW with and without the horizontal predictor, and Deflate floats, written by
/// the `tiff` crate.
#[test]
fn bigtiff_and_predictor() {
    use std::io::Cursor;
    use tiff::encoder::{Compression, DeflateLevel, Predictor, TiffEncoder, colortype};
    let (rows, cols) = (37usize, 53usize);
    let u16s: Vec<u16> = (0..rows * cols).map(|i| ((i / cols) * 517 + (i % cols) * 33) as u16).collect();
    let f32s: Vec<f32> =
        (0..rows * cols).map(|i| (i / cols) as f32 * 0.5 - (i % cols) as f32 * 0.25).collect();
    macro_rules! encode {
        ($new:ident, $comp:expr, $pred:expr, $ty:ty, $data:expr) => {{
            let mut cur = Cursor::new(Vec::new());
            TiffEncoder::$new(&mut cur)
                .unwrap()
                .with_compression($comp)
                .with_predictor($pred)
                .write_image::<$ty>(cols as u32, rows as u32, $data)
                .unwrap();
            cur.into_inner()
        }};
    }
    for predictor in [Predictor::None, Predictor::Horizontal] {
        for bytes in [
            encode!(new, Compression::Lzw, predictor, colortype::Gray16, &u16s),
            encode!(new_big, Compression::Lzw, predictor, colortype::Gray16, &u16s),
        ] {
            assert_eq!(detect_format(&bytes, "x"), Some(ImageFormat::Tiff));
            let f = read_image(&bytes, "x", &ReadOptions::default()).unwrap();
            assert_eq!(f.pixels, Pixels::U16(u16s.clone()), "{predictor:?}");
        }
    }
    let deflate = Compression::Deflate(DeflateLevel::Fast);
    for bytes in [
        encode!(new, deflate, Predictor::None, colortype::Gray32Float, &f32s),
        encode!(new_big, deflate, Predictor::None, colortype::Gray32Float, &f32s),
    ] {
        let f = read_image(&bytes, "x.tif", &ReadOptions::default()).unwrap();
        assert_eq!(f.pixels, Pixels::F32(f32s.clone()));
    }
}

/// The ALS 12.3.2 PILATUS3 X 1M frames (int32): the module gaps (−1, 73 533 px) and the bad pixels (−2, 31 px)
/// are masked, as tifffile counts them.
#[test]
fn pilatus_negative_pixels_are_masked() {
    for name in ["ALS_Pilatus/Ko1202-12_2_00001.tif", "ALS_Pilatus/S27_25C_001.tif"] {
        let path = shared(name);
        let frame = read_image(&std::fs::read(&path).unwrap(), name, &ReadOptions::default()).unwrap();
        assert_eq!((frame.rows, frame.cols), (1043, 981), "{name}");
        assert!(matches!(frame.pixels, Pixels::I32(_)), "{name}");
        assert_eq!(frame.masked_count(), 73_533 + 31, "{name}");
        let Pixels::I32(v) = &frame.pixels else { unreachable!() };
        let mask = frame.mask.as_ref().unwrap();
        assert!(v.iter().zip(mask).all(|(&x, &m)| m == (x < 0)), "{name}: mask = negative pixels");
    }
}

/// The ALS frames are found to be a PILATUS 1M (format, 1043 × 981 px and the header's 172 µm), and their
/// DECTRIS text header ("TVX TIFF v 1.3" software, `# Pixel_size 172e-6 m x 172e-6 m`) gives the pixel size,
/// the exposure (1 s and 0.25 s, as the headers say) and the count cut-off, which becomes the saturation.
#[test]
fn pilatus_preset_and_header() {
    let cases = [
        ("ALS_Pilatus/S27_25C_001.tif", 1.0, 1409688.0),
        ("ALS_Pilatus/Ko1202-12_2_00001.tif", 0.25, 1074999.0),
    ];
    for (name, exposure_s, cutoff) in cases {
        let frame = read_image(&std::fs::read(shared(name)).unwrap(), name, &ReadOptions::default()).unwrap();
        let m = &frame.metadata;
        assert_eq!(frame.detector.as_deref(), Some("PILATUS_1M"), "{name}");
        assert_eq!(m["detector_match"], "format and dimensions", "{name}");
        assert_eq!(m["tiff.Software"], "TVX TIFF v 1.3", "{name}");
        let num = |k: &str| m[k].parse::<f64>().unwrap();
        assert!((num("pixel_size_file_mm") - 0.172).abs() < 1e-9, "{name}: {}", m["pixel_size_file_mm"]);
        assert!((frame.pixel_size_mm.unwrap() - 0.172).abs() < 1e-12, "{name}");
        assert!((num("exposure_s") - exposure_s).abs() < 1e-9, "{name}: {}", m["exposure_s"]);
        assert!((num("dectris.count_cutoff") - cutoff).abs() < 0.5, "{name}");
        assert!((num("saturation") - cutoff).abs() < 0.5, "{name}");
        assert!((num("dectris.threshold_ev") - 4024.0).abs() < 1e-9, "{name}");
        assert_eq!(num("dectris.excluded_pixels"), 31.0, "{name}: the 31 bad pixels (−2) the frame holds");
    }
}
