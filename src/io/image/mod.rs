//! Detector images from bytes (the browser has no file system): TIFF, MarCCD, ESRF EDF, HDF5
//! (Eiger, LIMA), PNG and raw binary, each to one [`Frame`].
//!
//! [`read_image`] recognises the format by its magic bytes, then by the file name's extension,
//! and falls back to raw binary when [`ReadOptions::raw`] or a detector label is given. Each
//! format also has its own function ([`read_tiff`], [`read_marccd`], [`read_edf`], [`read_hdf5`],
//! [`read_png`], [`read_raw`]); all of them finish the frame the same way:
//!
//! - **Detector preset**: the label given in [`ReadOptions::detector`] (its dimensions must be
//!   the image's), else one chosen from the format, the dimensions and the pixel size the file
//!   gives (see [`presets::detect_preset`]). With a preset, `pixel_size_mm` is the preset's value
//!   (the one LaueTools calibrations use) and the file's own value, if any, is kept in the
//!   metadata as `pixel_size_file_mm`; without one, `pixel_size_mm` is the file's value.
//! - **Mask**: pixels the file marks as dead: 2³²−1 in unsigned 32-bit data (the Eiger gap and
//!   dead-pixel sentinel, whatever the container), negative values in signed 32-bit data (PILATUS:
//!   −1 module gaps, −2 bad pixels), an HDF5 `pixel_mask` next to the data, and non-finite floats.
//!   Values are kept as the file holds them, NaN and ±Inf included (`nonfinite_pixels` in the
//!   metadata counts them); [`Frame::finite_f32`] gives the copy to compute on. A mask file (PNG or
//!   HDF5, [`read_mask`]) adds to it ([`apply_mask`]). The peak search keeps masked pixels out of
//!   detection and fits (see [`crate::peaks`]).
//! - **Metadata** keys common to the formats: `format`, `exposure_s`, `distance_mm`, `beam_x_px`,
//!   `beam_y_px`, `wavelength_angstrom`, `pixel_size_file_mm`, `frame_index`, `frame_count`,
//!   `masked_pixels`, `nonfinite_pixels`, `saturation` (from the preset), `detector_match`; the
//!   rest is prefixed by the format (`tiff.ImageDescription`, `marccd.beam_x`, `edf.Dim_1`,
//!   `hdf5.dataset`, ...) or is a motor position found in a TIFF description (`xech`, `yech`, ...).
//!
//! Bad input is an error naming the file and what was wrong, never a panic: truncated data,
//! wrong magic, zero dimensions, a frame over [`ReadOptions::pixel_limit`] pixels (checked from the
//! header, before any allocation; [`MAX_PIXELS`] by default), pixel data that would need
//! more bytes than the file holds (or could decompress to), unsupported compressions or HDF5
//! filters.

pub mod edf;
pub mod hdf5;
pub mod marccd;
pub mod mask;
pub mod png;
pub mod presets;
pub mod raw;
pub mod tiff;

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::error::{LaueError, Result};
use crate::io::frame::{Frame, Pixels};

pub use edf::read_edf;
pub use hdf5::read_hdf5;
pub use marccd::read_marccd;
pub use mask::{MaskImage, apply_mask, read_mask};
pub use png::read_png;
pub use presets::{DetectorPreset, FileClues, PRESETS, detect_preset, preset};
pub use raw::{ByteOrder, RawLayout, SampleType, read_raw};
pub use tiff::read_tiff;

/// The largest image accepted by default: 2²⁸ pixels (16384 × 16384), far above any Laue detector;
/// [`ReadOptions::max_pixels`] changes it (the CLI reads `LAUEKIT_MAX_IMAGE_PIXELS`). The size is
/// checked from the header, before any pixel buffer is allocated.
pub const MAX_PIXELS: usize = 1 << 28;

/// The image file formats lauekit reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ImageFormat {
    /// TIFF (any byte order, strips or tiles, none/LZW/Deflate/PackBits compression)
    Tiff,
    /// MarCCD: a TIFF with the MarCCD frame header at bytes 1024–4096
    #[serde(rename = "mccd")]
    MarCcd,
    /// ESRF data format
    Edf,
    /// HDF5 (Eiger, LIMA, or a dataset path given by the caller)
    Hdf5,
    /// PNG, grey 8 or 16 bits
    Png,
    /// headerless binary, layout given by [`ReadOptions::raw`] or the detector preset
    Raw,
}

impl ImageFormat {
    /// The name used in messages and in the `format` metadata key.
    pub fn name(self) -> &'static str {
        match self {
            ImageFormat::Tiff => "tiff",
            ImageFormat::MarCcd => "mccd",
            ImageFormat::Edf => "edf",
            ImageFormat::Hdf5 => "hdf5",
            ImageFormat::Png => "png",
            ImageFormat::Raw => "raw",
        }
    }
}

/// How to read an image; `ReadOptions::default()` reads the first frame of any recognised file.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct ReadOptions {
    /// Format to use instead of recognising it.
    pub format: Option<ImageFormat>,
    /// HDF5: path of the dataset to read (e.g. "/entry/data/data"); None = the Eiger and LIMA
    /// layouts, then the first 2-D or 3-D numeric dataset found.
    pub dataset: Option<String>,
    /// Which frame of a stack, from 0: 3-D HDF5 dataset, multi-page TIFF, multi-block EDF.
    pub frame: usize,
    /// Raw binary layout; also makes files of no known format readable as raw.
    pub raw: Option<RawLayout>,
    /// Detector preset label (LaueTools' CCDLabel, see [`PRESETS`]) instead of detecting one.
    pub detector: Option<String>,
    /// Largest frame accepted, in pixels (rows × columns); None = [`MAX_PIXELS`].
    pub max_pixels: Option<u64>,
}

impl ReadOptions {
    /// The largest frame accepted, in pixels: [`ReadOptions::max_pixels`] or [`MAX_PIXELS`].
    pub fn pixel_limit(&self) -> u64 {
        self.max_pixels.unwrap_or(MAX_PIXELS as u64).max(1)
    }
}

/// The format of `bytes`: by magic bytes, then by the extension of `name`.
pub fn detect_format(bytes: &[u8], name: &str) -> Option<ImageFormat> {
    let tiff_magic = [b"II*\0", b"MM\0*", b"II+\0", b"MM\0+"];
    if tiff_magic.iter().any(|m| bytes.starts_with(*m)) {
        return Some(if marccd::has_marccd_header(bytes) || extension(name) == "mccd" {
            ImageFormat::MarCcd
        } else {
            ImageFormat::Tiff
        });
    }
    if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
        return Some(ImageFormat::Png);
    }
    if hdf5::has_signature(bytes) {
        return Some(ImageFormat::Hdf5);
    }
    if edf::looks_like_edf(bytes) {
        return Some(ImageFormat::Edf);
    }
    match extension(name).as_str() {
        "tif" | "tiff" => Some(ImageFormat::Tiff),
        "mccd" => Some(ImageFormat::MarCcd),
        "edf" => Some(ImageFormat::Edf),
        "h5" | "hdf5" | "hdf" | "nxs" | "nx5" => Some(ImageFormat::Hdf5),
        "png" => Some(ImageFormat::Png),
        "raw" | "bin" | "dat" => Some(ImageFormat::Raw),
        _ => None,
    }
}

/// Reads one detector image from the bytes of a file called `name` (used to guess the format
/// when the magic bytes say nothing, and in messages).
pub fn read_image(bytes: &[u8], name: &str, options: &ReadOptions) -> Result<Frame> {
    let format = match options.format.or_else(|| detect_format(bytes, name)) {
        Some(f) => f,
        None if options.raw.is_some() || options.detector.is_some() => ImageFormat::Raw,
        None => {
            let head: Vec<String> = bytes.iter().take(8).map(|b| format!("{b:02x}")).collect();
            return Err(err(
                name,
                format!(
                    "not a known image format (first bytes {}; expected TIFF, MarCCD, EDF, HDF5 or PNG; \
                     give a raw layout or a detector to read it as raw binary)",
                    if head.is_empty() { "none: the file is empty".to_string() } else { head.join(" ") }
                ),
            ));
        }
    };
    match format {
        ImageFormat::Tiff => read_tiff(bytes, name, options),
        ImageFormat::MarCcd => read_marccd(bytes, name, options),
        ImageFormat::Edf => read_edf(bytes, name, options),
        ImageFormat::Hdf5 => read_hdf5(bytes, name, options),
        ImageFormat::Png => read_png(bytes, name, options),
        ImageFormat::Raw => read_raw(bytes, name, options),
    }
}

/// Lower-case extension of a file name ("" if none).
pub(crate) fn extension(name: &str) -> String {
    let base = name.rsplit(['/', '\\']).next().unwrap_or(name);
    match base.rsplit_once('.') {
        Some((stem, ext)) if !stem.is_empty() => ext.to_ascii_lowercase(),
        _ => String::new(),
    }
}

/// A parse error about `name`.
pub(crate) fn err(name: &str, reason: impl Into<String>) -> LaueError {
    LaueError::parse(name, reason)
}

/// Checks image dimensions: both non-zero and at most `limit` pixels (and addressable). Returns the
/// count.
pub(crate) fn check_dims(name: &str, what: &str, rows: u64, cols: u64, limit: u64) -> Result<usize> {
    if rows == 0 || cols == 0 {
        return Err(err(name, format!("{what}: zero image dimension ({rows} rows × {cols} columns)")));
    }
    match rows.checked_mul(cols).filter(|&n| n <= limit).map(usize::try_from) {
        Some(Ok(n)) => Ok(n),
        _ => Err(err(
            name,
            format!(
                "{what}: frame {rows}×{cols} (rows×columns) is over the limit of {limit} pixels{}; \
                 set {PIXEL_LIMIT_VARIABLE} to read larger frames",
                if limit == MAX_PIXELS as u64 { " (16384×16384)" } else { "" }
            ),
        )),
    }
}

/// The environment variable the CLI reads [`ReadOptions::max_pixels`] from (named in messages).
pub const PIXEL_LIMIT_VARIABLE: &str = "LAUEKIT_MAX_IMAGE_PIXELS";

/// The frame-size limit as the CLI applies it: [`MAX_PIXELS`], or `LAUEKIT_MAX_IMAGE_PIXELS`.
pub const IMAGE_PIXELS: crate::limits::Limit =
    crate::limits::Limit { env: PIXEL_LIMIT_VARIABLE, default: MAX_PIXELS as u64 };

/// Refuses pixel data that would need more bytes than `present` (what the file holds, times the
/// best ratio its compression can reach).
pub(crate) fn check_budget(name: &str, what: &str, needed: u64, present: u64) -> Result<()> {
    if needed > present {
        Err(err(
            name,
            format!("{what}: the image needs {needed} bytes of pixel data, the file can hold only {present}"),
        ))
    } else {
        Ok(())
    }
}

/// Everything a format reader found, before the common finishing.
pub(crate) struct Decoded {
    pub rows: usize,
    pub cols: usize,
    pub pixels: Pixels,
    /// dead pixels the file itself marks (besides sentinels and non-finite values)
    pub mask: Option<Vec<bool>>,
    /// pixel size the file gives (mm)
    pub pixel_size_mm: Option<f64>,
    pub metadata: BTreeMap<String, String>,
    /// an HDF5 stack of more than one frame
    pub stack: bool,
}

impl Decoded {
    pub(crate) fn new(rows: usize, cols: usize, pixels: Pixels) -> Self {
        Decoded {
            rows,
            cols,
            pixels,
            mask: None,
            pixel_size_mm: None,
            metadata: BTreeMap::new(),
            stack: false,
        }
    }
}

/// Formats a number for the metadata (shortest form that reads back the same).
pub(crate) fn num(x: f64) -> String {
    format!("{x}")
}

/// The common end of every reader: masks, detector preset, pixel size, metadata.
pub(crate) fn finish(d: Decoded, format: ImageFormat, name: &str, options: &ReadOptions) -> Result<Frame> {
    let Decoded { rows, cols, pixels, mask, pixel_size_mm, mut metadata, stack } = d;
    let n = rows.saturating_mul(cols);
    if pixels.len() != n {
        return Err(err(
            name,
            format!("{}: decoded {} pixels for {rows} × {cols}", format.name(), pixels.len()),
        ));
    }
    // A mask is only built when there is something to mask (a 4-Mpx frame would otherwise pay for one).
    let mut mask = match mask {
        Some(m) if m.len() == n => Some(m),
        _ => None,
    };
    match &pixels {
        Pixels::U32(v) if v.contains(&u32::MAX) => {
            let m = mask.get_or_insert_with(|| vec![false; n]);
            for (m, &x) in m.iter_mut().zip(v) {
                *m |= x == u32::MAX;
            }
        }
        // DECTRIS' signed frames (PILATUS, EIGER as int32): −1 marks the gaps between modules, −2 bad pixels;
        // no count is negative.
        Pixels::I32(v) if v.iter().any(|&x| x < 0) => {
            let m = mask.get_or_insert_with(|| vec![false; n]);
            for (m, &x) in m.iter_mut().zip(v) {
                *m |= x < 0;
            }
        }
        Pixels::F32(v) => {
            let bad = v.iter().filter(|x| !x.is_finite()).count();
            if bad > 0 {
                metadata.insert("nonfinite_pixels".into(), bad.to_string());
                let m = mask.get_or_insert_with(|| vec![false; n]);
                for (m, x) in m.iter_mut().zip(v) {
                    *m |= !x.is_finite();
                }
            }
        }
        _ => {}
    }
    let masked = mask.as_ref().map_or(0, |m| m.iter().filter(|&&b| b).count());
    let mask = if masked > 0 {
        metadata.insert("masked_pixels".into(), masked.to_string());
        mask
    } else {
        None
    };
    metadata.insert("format".into(), format.name().into());
    if let Some(px) = pixel_size_mm {
        metadata.insert("pixel_size_file_mm".into(), num(px));
    }

    let chosen = match options.detector.as_deref() {
        Some(label) => {
            let p = presets::preset_or_err(label)?;
            if (p.rows, p.cols) != (rows, cols) {
                return Err(err(
                    name,
                    format!(
                        "detector {} has {} rows × {} columns, this image has {rows} × {cols}",
                        p.label, p.rows, p.cols
                    ),
                ));
            }
            Some((p, "given"))
        }
        None => {
            let pixel_type = Some(pixels.type_name());
            detect_preset(format, rows, cols, FileClues { pixel_size_mm, stack, pixel_type })
        }
    };
    let (detector, pixel_size_mm) = match chosen {
        Some((p, how)) => {
            metadata.insert("detector_match".into(), how.into());
            // A PILATUS header's count cut-off is this frame's saturation (it depends on the rate correction).
            let saturation =
                metadata.get("dectris.count_cutoff").cloned().unwrap_or_else(|| num(p.saturation));
            metadata.insert("saturation".into(), saturation);
            (Some(p.label.to_string()), Some(p.pixel_size_mm))
        }
        None => (None, pixel_size_mm),
    };
    Ok(Frame { rows, cols, pixels, mask, detector, pixel_size_mm, metadata, source: name.to_string() })
}

#[cfg(test)]
pub(crate) mod testutil {
    //! Shared by the format tests: the pixel formulas of scripts/make_test_images.py.

    use std::path::PathBuf;

    pub const ROWS: usize = 37;
    pub const COLS: usize = 53;

    pub fn data(file: &str) -> Vec<u8> {
        let p = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data/images").join(file);
        std::fs::read(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
    }

    pub fn u8_at(r: usize, c: usize, frame: usize) -> u8 {
        ((r * 7 + c * 3 + frame) % 256) as u8
    }
    pub fn u16_at(r: usize, c: usize, frame: usize) -> u16 {
        ((r * 517 + c * 33 + frame * 1000) % 65536) as u16
    }
    pub fn u32_at(r: usize, c: usize, frame: usize) -> u32 {
        (r * 100000 + c * 3 + 70000 + frame * 1000) as u32
    }
    pub fn i32_at(r: usize, c: usize, frame: usize) -> i32 {
        r as i32 * 1000 - c as i32 * 777 + frame as i32
    }
    pub fn f32_at(r: usize, c: usize, frame: usize) -> f32 {
        r as f32 * 0.5 - c as f32 * 0.25 + 0.125 + frame as f32
    }

    /// All pixels of a pattern, row-major.
    pub fn grid<T>(f: impl Fn(usize, usize, usize) -> T, frame: usize) -> Vec<T> {
        (0..ROWS).flat_map(|r| (0..COLS).map(move |c| (r, c))).map(|(r, c)| f(r, c, frame)).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn format_from_magic_then_extension() {
        assert_eq!(detect_format(b"II*\0rest", "x.bin"), Some(ImageFormat::Tiff));
        assert_eq!(detect_format(b"MM\0*rest", "x"), Some(ImageFormat::Tiff));
        assert_eq!(detect_format(b"II*\0rest", "x.mccd"), Some(ImageFormat::MarCcd));
        assert_eq!(detect_format(b"\x89PNG\r\n\x1a\nxxxx", "x.tif"), Some(ImageFormat::Png));
        assert_eq!(detect_format(b"\x89HDF\r\n\x1a\nxxxx", "x"), Some(ImageFormat::Hdf5));
        assert_eq!(detect_format(b"{\nHeaderID = EH:1 ;\n", "x"), Some(ImageFormat::Edf));
        assert_eq!(detect_format(b"garbage", "dir.d/x.EDF"), Some(ImageFormat::Edf));
        assert_eq!(detect_format(b"garbage", "x.raw"), Some(ImageFormat::Raw));
        assert_eq!(detect_format(b"garbage", "dir.d/noext"), None);
        assert_eq!(detect_format(b"", ".hidden"), None);
    }

    #[test]
    fn unknown_content_is_a_clear_error() {
        let e = read_image(b"hello world", "mystery.xyz", &ReadOptions::default()).unwrap_err();
        let msg = e.to_string();
        assert!(msg.starts_with("mystery.xyz: not a known image format (first bytes 68 65 6c"), "{msg}");
        let e = read_image(b"", "empty", &ReadOptions::default()).unwrap_err();
        assert!(e.to_string().contains("the file is empty"), "{e}");
    }

    /// Inputs that once crashed the fuzzer (fuzz/): each gives a frame or an error.
    #[test]
    fn fuzz_regressions() {
        let dir = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data/images/fuzz");
        let mut n = 0;
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            let bytes = std::fs::read(&path).unwrap();
            let _ = read_image(&bytes, "fuzz", &ReadOptions::default());
            let _ = read_image(&bytes, "fuzz", &ReadOptions { frame: 1, ..Default::default() });
            n += 1;
        }
        assert!(n > 0);
    }

    #[test]
    fn dimension_checks() {
        let m = MAX_PIXELS as u64;
        assert!(check_dims("f", "raw", 0, 5, m).unwrap_err().to_string().contains("zero image dimension"));
        let e = check_dims("f", "raw", 1 << 15, 1 << 14, m).unwrap_err().to_string();
        assert_eq!(
            e,
            "f: raw: frame 32768×16384 (rows×columns) is over the limit of 268435456 pixels (16384×16384); \
             set LAUEKIT_MAX_IMAGE_PIXELS to read larger frames"
        );
        assert!(check_dims("f", "raw", u64::MAX, 3, m).is_err());
        assert!(check_dims("f", "raw", 1 << 15, 1 << 14, 1 << 29).is_ok());
        assert_eq!(check_dims("f", "raw", 1 << 14, 1 << 14, m).unwrap(), 1 << 28);
        assert!(check_budget("f", "raw", 10, 9).unwrap_err().to_string().contains("needs 10 bytes"));
    }

    #[test]
    fn read_options_from_json() {
        let o: ReadOptions = serde_json::from_str(
            r#"{"format":"hdf5","dataset":"/entry/data/data","frame":2,"detector":"EIGER_4MCdTe",
                "raw":{"rows":4,"cols":3,"sample_type":"u16","offset":10,"byte_order":"big"}}"#,
        )
        .unwrap();
        assert_eq!(o.format, Some(ImageFormat::Hdf5));
        assert_eq!(o.frame, 2);
        let raw = o.raw.unwrap();
        assert_eq!(
            (raw.rows, raw.sample_type, raw.byte_order),
            (Some(4), Some(SampleType::U16), ByteOrder::Big)
        );
        let d: ReadOptions = serde_json::from_str("{}").unwrap();
        assert_eq!(d, ReadOptions::default());
    }

    #[test]
    fn forced_detector_must_exist_and_fit() {
        let bytes = vec![0u8; 2 * 3 * 2];
        let mut o = ReadOptions {
            raw: Some(RawLayout { rows: Some(2), cols: Some(3), ..Default::default() }),
            detector: Some("nope".into()),
            ..Default::default()
        };
        assert!(matches!(read_image(&bytes, "a.raw", &o), Err(LaueError::UnknownDetector(..))));
        o.detector = Some("sCMOS".into());
        let e = read_image(&bytes, "a.raw", &o).unwrap_err().to_string();
        assert!(e.contains("detector sCMOS has 2018 rows × 2016 columns, this image has 2 × 3"), "{e}");
    }
}
