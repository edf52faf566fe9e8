//! Bad and extreme input for every image reader (issue 3, acceptance 3), shared by the native test
//! (tests/images.rs) and the browser test (tests/web_readers.rs): truncated files, wrong magic, zero and
//! absurd dimensions, unsupported compressions and HDF5 filters, NaN/Inf floats and 36-megapixel images,
//! each through `lauekit::io::read_image` from bytes. Every case must give its expected error (naming the
//! file) or frame — and never panic. The inputs are generated here or embedded from tests/data/images
//! (small files), so the same cases run without a file system.
#![allow(clippy::unwrap_used, dead_code)]

use std::io::Cursor;

use lauekit::LaueError;
use lauekit::io::{Frame, ReadOptions};

/// What a case must give.
pub enum Expect {
    /// an error naming the file whose message holds every one of these
    Error(&'static [&'static str]),
    /// a frame of this size, checked further by the function
    Frame(usize, usize, fn(&Frame) -> Result<(), String>),
}

pub struct Case {
    pub label: String,
    pub name: &'static str,
    pub bytes: Vec<u8>,
    pub options: ReadOptions,
    pub expect: Expect,
}

fn case(label: impl Into<String>, name: &'static str, bytes: Vec<u8>, expect: Expect) -> Case {
    Case { label: label.into(), name, bytes, options: ReadOptions::default(), expect }
}

/// Reads the case and checks it; `Err` describes a wrong outcome (a panic propagates).
pub fn check(c: &Case) -> Result<(), String> {
    let got = lauekit::io::read_image(&c.bytes, c.name, &c.options);
    match (&c.expect, got) {
        (Expect::Error(want), Err(LaueError::Parse { file, reason })) => {
            if file != c.name {
                return Err(format!("error names '{file}', not '{}'", c.name));
            }
            match want.iter().find(|w| !reason.contains(**w)) {
                Some(w) => Err(format!("error '{reason}' lacks '{w}'")),
                None => Ok(()),
            }
        }
        (Expect::Error(_), Err(e)) => Err(format!("not a parse error: {e:?}")),
        (Expect::Error(_), Ok(f)) => Err(format!("read a {}×{} frame, expected an error", f.rows, f.cols)),
        (Expect::Frame(r, c2, more), Ok(f)) => {
            if (f.rows, f.cols) != (*r, *c2) {
                return Err(format!("frame {}×{}, expected {r}×{c2}", f.rows, f.cols));
            }
            more(&f)
        }
        (Expect::Frame(..), Err(e)) => Err(format!("error: {e}")),
    }
}

/// Every case, built one at a time (the 36-megapixel ones hold ~72 MB), checked, and reported.
pub fn run_all(report: &mut dyn FnMut(&str, Result<(), String>)) {
    for make in CASES {
        for c in make() {
            let r = check(&c);
            report(&c.label, r);
        }
    }
}

type Maker = fn() -> Vec<Case>;
const CASES: &[Maker] = &[
    tiff_cases,
    tiff_36_megapixels,
    marccd_cases,
    edf_cases,
    edf_36_megapixels,
    hdf5_cases,
    hdf5_36_megapixels,
    png_cases,
    png_36_megapixels,
    raw_cases,
    raw_36_megapixels,
    unknown_cases,
];

macro_rules! data {
    ($file:literal) => {
        include_bytes!(concat!("../data/images/", $file)).to_vec()
    };
}

const MEGA_ROWS: usize = 6000;
const MEGA_COLS: usize = 6000;

fn mega_value(i: usize) -> u16 {
    (i % 65521) as u16
}

fn mega_ok(f: &Frame) -> Result<(), String> {
    for (r, c) in [(0, 0), (1234, 567), (5999, 5999)] {
        let want = mega_value(r * MEGA_COLS + c) as f64;
        if f.at(r, c) != want {
            return Err(format!("pixel ({r}, {c}) = {}, expected {want}", f.at(r, c)));
        }
    }
    Ok(())
}

fn mega_u16() -> Vec<u16> {
    (0..MEGA_ROWS * MEGA_COLS).map(mega_value).collect()
}

/// Non-finite floats are kept, counted and masked (`nonfinite_pixels`).
fn nonfinite(n: usize) -> impl Fn(&Frame) -> Result<(), String> {
    move |f: &Frame| {
        let got = f.metadata.get("nonfinite_pixels").cloned().unwrap_or_default();
        if got != n.to_string() || f.masked_count() != n {
            return Err(format!("nonfinite_pixels '{got}', masked {}, expected {n}", f.masked_count()));
        }
        let g = f.finite_f32();
        if (0..g.pixels.len()).any(|i| !g.pixels.get(i).is_finite()) {
            return Err("finite_f32 left a non-finite value".into());
        }
        Ok(())
    }
}

// ---------------------------------------------------------------------------------------------- TIFF

/// A one-strip little-endian TIFF written by hand, so any tag can be wrong.
struct HandTiff {
    cols: u32,
    rows: u32,
    bits: u16,
    compression: u16,
    sample_format: u16,
    predictor: Option<u16>,
    data: Vec<u8>,
}

impl HandTiff {
    fn new(cols: u32, rows: u32, bits: u16, data: Vec<u8>) -> Self {
        HandTiff { cols, rows, bits, compression: 1, sample_format: 1, predictor: None, data }
    }

    fn bytes(&self) -> Vec<u8> {
        let mut tags: Vec<(u16, u16, u32)> = vec![
            (256, 4, self.cols),
            (257, 4, self.rows),
            (258, 3, self.bits as u32),
            (259, 3, self.compression as u32),
            (262, 3, 1),
            (273, 4, 0), // strip offset, patched below
            (277, 3, 1),
            (278, 4, self.rows.max(1)),
            (279, 4, self.data.len() as u32),
            (339, 3, self.sample_format as u32),
        ];
        if let Some(p) = self.predictor {
            tags.push((317, 3, p as u32));
            tags.sort_by_key(|t| t.0);
        }
        let data_at = 8 + 2 + 12 * tags.len() as u32 + 4;
        let mut b = b"II*\0".to_vec();
        b.extend(8u32.to_le_bytes());
        b.extend((tags.len() as u16).to_le_bytes());
        for (tag, ty, v) in tags {
            let v = if tag == 273 { data_at } else { v };
            b.extend(tag.to_le_bytes());
            b.extend(ty.to_le_bytes());
            b.extend(1u32.to_le_bytes());
            b.extend(v.to_le_bytes());
        }
        b.extend(0u32.to_le_bytes());
        b.extend(&self.data);
        b
    }
}

fn f32_bytes(v: &[f32]) -> Vec<u8> {
    v.iter().flat_map(|x| x.to_le_bytes()).collect()
}

fn tiff_cases() -> Vec<Case> {
    use Expect::Error;
    let mut v = Vec::new();
    let lzw = data!("u16_be_strips_lzw.tif");
    for cut in [0, 3, 4, 8, 20, 100, lzw.len() / 2] {
        v.push(case(format!("TIFF truncated at {cut}"), "cut.tif", lzw[..cut].to_vec(), Error(&[])));
    }
    // Without its last byte (the tail of the LZW end code) the image is whole: it must read right.
    v.push(case(
        "TIFF without its last byte",
        "cut.tif",
        lzw[..lzw.len() - 1].to_vec(),
        Expect::Frame(37, 53, |f| {
            let bad =
                (0..37 * 53).find(|&i| f.pixels.get(i) != ((i / 53 * 517 + i % 53 * 33) % 65536) as f64);
            bad.map_or(Ok(()), |i| Err(format!("pixel {i} = {}", f.pixels.get(i))))
        }),
    ));
    let plain = HandTiff::new(40, 30, 16, vec![7; 2400]).bytes();
    v.push(case("TIFF truncated data", "short.tif", plain[..plain.len() - 100].to_vec(), Error(&[])));
    let mut bad = plain.clone();
    bad[..4].copy_from_slice(b"XX*\0");
    v.push(case("TIFF wrong magic", "magic.tif", bad, Error(&["TIFF"])));
    let mut bad = plain.clone();
    bad[2] = 41;
    v.push(case("TIFF wrong version", "version.tif", bad, Error(&["TIFF"])));
    v.push(case("TIFF zero width", "zero.tif", HandTiff::new(0, 2, 16, vec![]).bytes(), Error(&["0x2"])));
    v.push(case("TIFF zero height", "zero.tif", HandTiff::new(2, 0, 16, vec![]).bytes(), Error(&["2x0"])));
    v.push(case(
        "TIFF absurd dimensions",
        "huge.tif",
        HandTiff::new(1 << 16, 1 << 15, 16, vec![0; 12]).bytes(),
        Error(&["over the limit of 268435456 pixels"]),
    ));
    v.push(case(
        "TIFF 4 Gpx claimed",
        "huge.tif",
        HandTiff::new(u32::MAX, u32::MAX, 16, vec![0; 12]).bytes(),
        Error(&[]),
    ));
    v.push(case(
        "TIFF 100 Mpx claimed by a small file",
        "big.tif",
        HandTiff::new(10000, 10000, 16, vec![0; 12]).bytes(),
        Error(&["needs 200000000 bytes"]),
    ));
    v.push(case(
        "TIFF Zstandard",
        "zstd.tif",
        data!("u16_zstd.tif"),
        Error(&["unsupported compression 50000 (Zstandard)"]),
    ));
    let mut t = HandTiff::new(3, 2, 16, vec![0; 12]);
    t.compression = 34712;
    v.push(case(
        "TIFF JPEG 2000",
        "j2k.tif",
        t.bytes(),
        Error(&["unsupported compression 34712 (JPEG 2000)"]),
    ));
    t.compression = 7;
    v.push(case("TIFF JPEG", "jpeg.tif", t.bytes(), Error(&["compression 7"])));
    v.push(case(
        "TIFF 12-bit",
        "twelve.tif",
        HandTiff::new(3, 2, 12, vec![0; 9]).bytes(),
        Error(&["12-bit"]),
    ));
    let vals = [1.0f32, f32::NAN, f32::INFINITY, -2.5, f32::NEG_INFINITY, 0.0];
    let mut t = HandTiff::new(3, 2, 32, f32_bytes(&vals));
    t.sample_format = 3;
    v.push(case("TIFF f32 NaN/Inf", "nan.tif", t.bytes(), Expect::Frame(2, 3, |f| nonfinite(3)(f))));
    v.push(case(
        "TIFF f32 NaN/Inf by tifffile",
        "f32_le_tiles_none.tif",
        data!("f32_le_tiles_none.tif"),
        Expect::Frame(37, 53, |f| nonfinite(3)(f)),
    ));
    // Floating-point predictor (3) on uncompressed data; and sample format 4 (undefined).
    t.predictor = Some(3);
    v.push(case("TIFF f32 floating-point predictor", "fp.tif", t.bytes(), Expect::Frame(2, 3, |_| Ok(()))));
    let mut t = HandTiff::new(3, 2, 16, vec![0; 12]);
    t.sample_format = 6;
    v.push(case("TIFF sample format 6", "sf.tif", t.bytes(), Error(&[])));
    v
}

fn tiff_36_megapixels() -> Vec<Case> {
    let pixels = mega_u16();
    let mut cur = Cursor::new(Vec::new());
    tiff::encoder::TiffEncoder::new(&mut cur)
        .unwrap()
        .write_image::<tiff::encoder::colortype::Gray16>(MEGA_COLS as u32, MEGA_ROWS as u32, &pixels)
        .unwrap();
    vec![case("TIFF 36 Mpx", "big.tif", cur.into_inner(), Expect::Frame(MEGA_ROWS, MEGA_COLS, mega_ok))]
}

fn marccd_cases() -> Vec<Case> {
    use Expect::Error;
    // A MarCCD file is a TIFF after a 4096-byte frame header (here a 64 × 64 image).
    let mut hand = HandTiff::new(64, 64, 16, vec![1; 64 * 64 * 2]).bytes();
    let mut mccd = hand[..8].to_vec();
    mccd[4..8].copy_from_slice(&4096u32.to_le_bytes());
    mccd.resize(4096, 0);
    // Move the IFD to 4096 and its strip offset along.
    let ifd = hand.split_off(8);
    let mut ifd = ifd;
    let n = u16::from_le_bytes([ifd[0], ifd[1]]) as usize;
    for k in 0..n {
        let e = 2 + 12 * k;
        if u16::from_le_bytes([ifd[e], ifd[e + 1]]) == 273 {
            let off = u32::from_le_bytes(ifd[e + 8..e + 12].try_into().unwrap()) - 8 + 4096;
            ifd[e + 8..e + 12].copy_from_slice(&off.to_le_bytes());
        }
    }
    mccd.extend(ifd);
    let ok = case("MarCCD small", "ok.mccd", mccd.clone(), Expect::Frame(64, 64, |_| Ok(())));
    let mut v = vec![ok];
    for cut in [10, 1024, 3000, 4100, mccd.len() - 1] {
        v.push(case(format!("MarCCD truncated at {cut}"), "cut.mccd", mccd[..cut].to_vec(), Error(&[])));
    }
    let mut bad = mccd.clone();
    bad[..4].copy_from_slice(b"MMXX");
    v.push(case("MarCCD wrong magic", "magic.mccd", bad, Error(&["TIFF"])));
    v
}

// ----------------------------------------------------------------------------------------------- EDF

fn edf(keys: &[(&str, String)], data: &[u8]) -> Vec<u8> {
    let mut h = String::from("{\n");
    for (k, v) in keys {
        h.push_str(&format!("{k} = {v} ;\n"));
    }
    let pad = (512 - (h.len() + 2) % 512) % 512;
    h.push_str(&" ".repeat(pad));
    h.push_str("}\n");
    let mut b = h.into_bytes();
    b.extend(data);
    b
}

fn edf_keys(ty: &str, rows: u64, cols: u64, size: usize) -> Vec<(&'static str, String)> {
    vec![
        ("HeaderID", "EH:000001:000000:000000".into()),
        ("ByteOrder", "LowByteFirst".into()),
        ("DataType", ty.into()),
        ("Dim_1", cols.to_string()),
        ("Dim_2", rows.to_string()),
        ("Size", size.to_string()),
    ]
}

fn edf_cases() -> Vec<Case> {
    use Expect::Error;
    let mut v = Vec::new();
    let good = data!("u16_fabio.edf");
    for cut in [0, 1, 100, 511, 600, good.len() - 1] {
        v.push(case(format!("EDF truncated at {cut}"), "cut.edf", good[..cut].to_vec(), Error(&[])));
    }
    v.push(case(
        "EDF wrong magic",
        "magic.edf",
        b"not edf at all".to_vec(),
        Error(&["does not start with '{'"]),
    ));
    let zero = edf(&edf_keys("UnsignedShort", 0, 5, 0), &[0; 16]);
    v.push(case("EDF zero dimension", "zero.edf", zero, Error(&["zero image dimension"])));
    let huge = edf(&edf_keys("UnsignedShort", 100_000, 100_000, 0), &[0; 16]);
    v.push(case("EDF absurd dimensions", "huge.edf", huge, Error(&["over the limit of 268435456 pixels"])));
    let neg = edf(
        &edf_keys("UnsignedShort", 2, 3, 12)
            .into_iter()
            .map(|(k, v)| if k == "Dim_1" { (k, "-3".to_string()) } else { (k, v) })
            .collect::<Vec<_>>(),
        &[0; 12],
    );
    v.push(case("EDF negative dimension", "neg.edf", neg, Error(&["Dim_1"])));
    let mut k = edf_keys("UnsignedShort", 2, 3, 12);
    k.push(("Compression", "gzip".into()));
    v.push(case("EDF compressed", "gz.edf", edf(&k, &[0; 12]), Error(&["unsupported compression 'gzip'"])));
    let k = edf_keys("Signed64", 2, 3, 48);
    v.push(case(
        "EDF unknown type",
        "s64.edf",
        edf(&k, &[0; 48]),
        Error(&["unsupported DataType 'Signed64'"]),
    ));
    let vals = [1.0f32, f32::NAN, 2.0, f32::INFINITY, f32::NEG_INFINITY, 3.0];
    let k = edf_keys("FloatValue", 2, 3, 24);
    v.push(case(
        "EDF f32 NaN/Inf",
        "nan.edf",
        edf(&k, &f32_bytes(&vals)),
        Expect::Frame(2, 3, |f| nonfinite(3)(f)),
    ));
    let vals: Vec<u8> = [f64::NAN, 1.0].iter().flat_map(|x| x.to_be_bytes()).collect();
    let mut k = edf_keys("DoubleValue", 1, 2, 16);
    k[1].1 = "HighByteFirst".into();
    v.push(case(
        "EDF f64 big-endian NaN",
        "nan64.edf",
        edf(&k, &vals),
        Expect::Frame(1, 2, |f| nonfinite(1)(f)),
    ));
    v
}

fn edf_36_megapixels() -> Vec<Case> {
    let n = MEGA_ROWS * MEGA_COLS;
    let data: Vec<u8> = (0..n).flat_map(|i| mega_value(i).to_le_bytes()).collect();
    let bytes = edf(&edf_keys("UnsignedShort", MEGA_ROWS as u64, MEGA_COLS as u64, 2 * n), &data);
    vec![case("EDF 36 Mpx", "big.edf", bytes, Expect::Frame(MEGA_ROWS, MEGA_COLS, mega_ok))]
}

// ---------------------------------------------------------------------------------------------- HDF5

/// An HDF5 file written by hdf5-pure with one dataset at `entry/data/data` (the Eiger layout).
fn h5(build: impl FnOnce(&mut hdf5_pure::DatasetBuilder)) -> Vec<u8> {
    let mut b = hdf5_pure::FileBuilder::new();
    let mut entry = b.create_group("entry");
    let mut data = entry.create_group("data");
    build(data.create_dataset("data"));
    entry.add_group(data.finish());
    b.add_group(entry.finish());
    b.finish().unwrap()
}

fn hdf5_cases() -> Vec<Case> {
    use Expect::Error;
    let mut v = Vec::new();
    let good = data!("eiger_stack.h5");
    for cut in [0, 8, 100, 600, 2000, good.len() / 2, good.len() - 100, good.len() - 1] {
        v.push(case(format!("HDF5 truncated at {cut}"), "cut.h5", good[..cut].to_vec(), Error(&[])));
    }
    v.push(case(
        "HDF5 wrong magic",
        "magic.h5",
        b"\x89HDX\r\n\x1a\n0000".to_vec(),
        Error(&["no HDF5 signature"]),
    ));
    let mut bad = good.clone();
    for b in &mut bad[8..200] {
        *b = 0xff;
    }
    v.push(case("HDF5 broken superblock", "sb.h5", bad, Error(&["HDF5"])));
    v.push(case(
        "HDF5 bitshuffle/LZ4",
        "bs.h5",
        data!("bitshuffle_lz4.h5"),
        Error(&["bitshuffle filter (HDF5 filter 32008, with LZ4"]),
    ));
    v.push(case("HDF5 LZ4", "lz4.h5", data!("lz4.h5"), Error(&["LZ4 filter (HDF5 filter 32004"])));
    v.push(case(
        "HDF5 NaN/Inf",
        "nan.h5",
        data!("custom_f32.h5"),
        Expect::Frame(37, 53, |f| nonfinite(2)(f)),
    ));
    let zero = h5(|d| {
        d.with_u16_data(&[]).with_shape(&[3, 0, 5]);
    });
    v.push(case("HDF5 zero dimension", "zero.h5", zero, Error(&["zero image dimension"])));
    let line = h5(|d| {
        d.with_u16_data(&[1, 2, 3]).with_shape(&[3]);
    });
    v.push(case("HDF5 1-D dataset", "line.h5", line, Error(&[])));
    let floats = [1.0f32, f32::NAN, f32::INFINITY, 4.0, 5.0, f32::NEG_INFINITY];
    let nan = h5(|d| {
        d.with_f32_data(&floats).with_shape(&[1, 2, 3]).with_chunks(&[1, 2, 3]).with_deflate(4);
    });
    v.push(case(
        "HDF5 f32 NaN/Inf (hdf5-pure, deflate)",
        "nan2.h5",
        nan,
        Expect::Frame(2, 3, |f| nonfinite(3)(f)),
    ));
    let mut o = case("HDF5 frame out of range", "frame.h5", data!("lima_stack.h5"), Error(&["no frame 5"]));
    o.options.frame = 5;
    v.push(o);
    v
}

fn hdf5_36_megapixels() -> Vec<Case> {
    let pixels = mega_u16();
    let bytes = h5(|d| {
        d.with_u16_data(&pixels).with_shape(&[1, MEGA_ROWS as u64, MEGA_COLS as u64]);
    });
    vec![case("HDF5 36 Mpx", "big.h5", bytes, Expect::Frame(MEGA_ROWS, MEGA_COLS, mega_ok))]
}

// ----------------------------------------------------------------------------------------------- PNG

fn crc32(bytes: &[u8]) -> u32 {
    let mut c = !0u32;
    for &b in bytes {
        c ^= b as u32;
        for _ in 0..8 {
            c = if c & 1 != 0 { 0xEDB8_8320 ^ (c >> 1) } else { c >> 1 };
        }
    }
    !c
}

fn chunk(kind: &[u8; 4], data: &[u8]) -> Vec<u8> {
    let mut b = (data.len() as u32).to_be_bytes().to_vec();
    let mut body = kind.to_vec();
    body.extend(data);
    b.extend(&body);
    b.extend(crc32(&body).to_be_bytes());
    b
}

/// A PNG whose IHDR says `width` × `height`, 16-bit grey, with a tiny (wrong) IDAT.
fn png_claiming(width: u32, height: u32) -> Vec<u8> {
    let mut ihdr = width.to_be_bytes().to_vec();
    ihdr.extend(height.to_be_bytes());
    ihdr.extend([16, 0, 0, 0, 0]);
    let mut b = b"\x89PNG\r\n\x1a\n".to_vec();
    b.extend(chunk(b"IHDR", &ihdr));
    b.extend(chunk(b"IDAT", &[0x78, 0x9c, 0x63, 0, 0, 0, 1, 0, 1]));
    b.extend(chunk(b"IEND", &[]));
    b
}

fn png_u16(width: u32, height: u32, pixels: &[u16], compression: png::Compression) -> Vec<u8> {
    let mut out = Vec::new();
    {
        let mut enc = png::Encoder::new(&mut out, width, height);
        enc.set_depth(png::BitDepth::Sixteen);
        enc.set_color(png::ColorType::Grayscale);
        enc.set_compression(compression);
        let mut w = enc.write_header().unwrap();
        let be: Vec<u8> = pixels.iter().flat_map(|v| v.to_be_bytes()).collect();
        w.write_image_data(&be).unwrap();
    }
    out
}

fn png_cases() -> Vec<Case> {
    use Expect::Error;
    let mut v = Vec::new();
    let good = png_u16(5, 4, &(0..20).map(|i| i * 3000).collect::<Vec<_>>(), png::Compression::Balanced);
    v.push(case(
        "PNG 16-bit",
        "ok.png",
        good.clone(),
        Expect::Frame(4, 5, |f| if f.at(3, 4) == 57000.0 { Ok(()) } else { Err(format!("{}", f.at(3, 4))) }),
    ));
    for cut in [0, 4, 8, 20, 33, 45, good.len() - 13] {
        v.push(case(format!("PNG truncated at {cut}"), "cut.png", good[..cut].to_vec(), Error(&[])));
    }
    // Cut inside the IEND chunk, after all the image data: it reads.
    v.push(case(
        "PNG without its last byte",
        "cut.png",
        good[..good.len() - 1].to_vec(),
        Expect::Frame(4, 5, |f| if f.at(3, 4) == 57000.0 { Ok(()) } else { Err(format!("{}", f.at(3, 4))) }),
    ));
    let mut bad = good.clone();
    bad[1] = b'Q';
    v.push(case("PNG wrong magic", "magic.png", bad, Error(&["PNG"])));
    let mut bad = good.clone();
    bad[20] ^= 0xff; // inside IHDR: its CRC no longer matches
    v.push(case("PNG bad CRC", "crc.png", bad, Error(&["PNG"])));
    v.push(case("PNG zero width", "zero.png", png_claiming(0, 10), Error(&["PNG"])));
    v.push(case("PNG absurd dimensions", "huge.png", png_claiming(100_000, 100_000), Error(&["PNG"])));
    v.push(case("PNG 36 Mpx claimed by a small file", "big.png", png_claiming(6000, 6000), Error(&["PNG"])));
    v
}

fn png_36_megapixels() -> Vec<Case> {
    let bytes = png_u16(MEGA_COLS as u32, MEGA_ROWS as u32, &mega_u16(), png::Compression::Fastest);
    vec![case("PNG 36 Mpx", "big.png", bytes, Expect::Frame(MEGA_ROWS, MEGA_COLS, mega_ok))]
}

// ----------------------------------------------------------------------------------------------- raw

fn raw_options(rows: usize, cols: usize, ty: &str) -> ReadOptions {
    serde_json::from_str(&format!(r#"{{"raw": {{"rows": {rows}, "cols": {cols}, "sample_type": "{ty}"}}}}"#))
        .unwrap()
}

fn raw_case(label: &str, rows: usize, cols: usize, ty: &str, bytes: Vec<u8>, expect: Expect) -> Case {
    Case { options: raw_options(rows, cols, ty), ..case(label, "frame.raw", bytes, expect) }
}

fn raw_cases() -> Vec<Case> {
    use Expect::Error;
    let vals = [1.0f32, f32::NAN, f32::INFINITY, -1.0, 0.0, f32::NEG_INFINITY];
    vec![
        case("raw without a layout", "frame.raw", vec![0; 10], Error(&["dimensions unknown"])),
        raw_case("raw too short", 2, 3, "u16", vec![0; 10], Error(&["needs 12 bytes"])),
        raw_case("raw zero dimension", 0, 3, "u16", vec![0; 10], Error(&["zero image dimension"])),
        raw_case(
            "raw absurd dimensions",
            1 << 20,
            1 << 20,
            "u8",
            vec![0; 10],
            Error(&["over the limit of 268435456 pixels"]),
        ),
        raw_case("raw f32 NaN/Inf", 2, 3, "f32", f32_bytes(&vals), Expect::Frame(2, 3, |f| nonfinite(3)(f))),
    ]
}

fn raw_36_megapixels() -> Vec<Case> {
    let bytes: Vec<u8> = (0..MEGA_ROWS * MEGA_COLS).flat_map(|i| mega_value(i).to_le_bytes()).collect();
    vec![raw_case(
        "raw 36 Mpx",
        MEGA_ROWS,
        MEGA_COLS,
        "u16",
        bytes,
        Expect::Frame(MEGA_ROWS, MEGA_COLS, mega_ok),
    )]
}

fn unknown_cases() -> Vec<Case> {
    use Expect::Error;
    vec![
        case("empty file", "empty", vec![], Error(&["the file is empty"])),
        case("unknown format", "mystery.xyz", b"hello world".to_vec(), Error(&["not a known image format"])),
    ]
}
