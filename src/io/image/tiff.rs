//! TIFF images through the `tiff` crate (0.11: 0.10 panics on some malformed
//! files): grey 8/16/32-bit integers (signed or not) and 32-bit
//! floats (16-bit floats and 8/16-bit signed integers are widened, 64-bit floats narrowed to
//! f32), strips or tiles, uncompressed, LZW, Deflate or PackBits, either byte order, any page.
//!
//! ASCII tags are kept as `tiff.<TagName>` metadata. `name=value` numbers in them (the motor
//! positions and exposure that Photonic Science sCMOS cameras write in ImageDescription, e.g.
//! `0 (Xech=1.0747 Yech=1.7521 Zech=-0.8263 mon=12276 exposure=1.000)`) become metadata under
//! their lower-case name (`xech`, ...), and `exposure_s` comes from `exposure=` (seconds) or from
//! the camera settings' `Exposure:(50, 'Millisec')`.

use std::collections::BTreeMap;
use std::io::Cursor;

use tiff::ColorType;
use tiff::decoder::{Decoder, DecodingResult, Limits, ifd::Value};
use tiff::tags::Tag;

use super::{Decoded, ImageFormat, ReadOptions, check_budget, check_dims, err, finish, num};
use crate::error::{LaueError, Result};
use crate::io::frame::{Frame, Pixels};

/// Reads page [`ReadOptions::frame`] of a TIFF file.
pub fn read_tiff(bytes: &[u8], name: &str, options: &ReadOptions) -> Result<Frame> {
    let d = decode_tiff(bytes, name, options, "TIFF")?;
    finish(d, ImageFormat::Tiff, name, options)
}

/// The ASCII tags kept as metadata, with their names.
const ASCII_TAGS: [(u16, &str); 10] = [
    (270, "ImageDescription"),
    (269, "DocumentName"),
    (285, "PageName"),
    (271, "Make"),
    (272, "Model"),
    (305, "Software"),
    (306, "DateTime"),
    (315, "Artist"),
    (316, "HostComputer"),
    (33432, "Copyright"),
];

/// Compressions read, and how many bytes of pixels one byte of compressed data can give at most
/// (to refuse sizes no file of this length could hold).
fn compression(code: u16) -> std::result::Result<(&'static str, u64), String> {
    Ok(match code {
        1 => ("none", 1),
        5 => ("LZW", 4096),
        8 | 32946 => ("Deflate", 1100),
        32773 => ("PackBits", 64),
        _ => {
            let known = match code {
                2 => " (CCITT RLE)",
                3 => " (CCITT fax 3)",
                4 => " (CCITT fax 4)",
                6 | 7 => " (JPEG)",
                34712 => " (JPEG 2000)",
                34925 => " (LZMA)",
                50000 => " (Zstandard)",
                50001 => " (WebP)",
                50002 => " (JPEG XL)",
                _ => "",
            };
            return Err(format!(
                "TIFF: unsupported compression {code}{known}; readable: none, LZW, Deflate, PackBits"
            ));
        }
    })
}

/// The decoder's error in words (its own messages print some of its types with Rust's debug format).
fn tiff_err(name: &str, e: tiff::TiffError) -> LaueError {
    use tiff::{TiffError, TiffFormatError, TiffUnsupportedError as U};
    let reason = match e {
        TiffError::IoError(io) if io.kind() == std::io::ErrorKind::UnexpectedEof => {
            "TIFF: truncated (the file ends before the image data do)".to_string()
        }
        TiffError::IoError(io) => format!("TIFF: read error: {io}"),
        TiffError::FormatError(TiffFormatError::InconsistentSizesEncountered) => {
            "TIFF: damaged header: the strip or tile tables, samples per pixel or bits per sample do not agree \
             with each other or with the image size"
                .to_string()
        }
        TiffError::FormatError(
            TiffFormatError::InvalidTagValueType(tag)
            | TiffFormatError::RequiredTagNotFound(tag)
            | TiffFormatError::InvalidCountForTag(tag, _),
        ) => format!("TIFF: damaged header: tag {} is missing or has a wrong type or count", tag.to_u16()),
        TiffError::FormatError(f) => format!("TIFF: damaged or not a TIFF file: {f}"),
        TiffError::UnsupportedError(u) => {
            let what = match u {
                U::FloatingPointPredictor(c) | U::HorizontalPredictor(c) => {
                    format!("a predictor on {} pixels", colour_name(c))
                }
                U::UnsupportedColorType(c) => format!("{} pixels", colour_name(c)),
                U::InconsistentBitsPerSample(b) => format!("samples of different sizes ({} bits)", list(&b)),
                U::InterpretationWithBits(_, b) => {
                    format!("this photometric interpretation with {} bits per sample", list(&b))
                }
                U::UnsupportedSampleFormat(_) => "mixed or unknown sample formats".to_string(),
                U::UnsupportedInterpretation(_) => "this photometric interpretation".to_string(),
                U::UnsupportedPlanarConfig(_) => "this planar configuration".to_string(),
                U::UnsupportedCompressionMethod(m) => format!("compression {}", m.to_u16()),
                other => other.to_string(),
            };
            format!("TIFF: unsupported: {what}")
        }
        TiffError::LimitsExceeded => "TIFF: image too large for the decoder limits".to_string(),
        TiffError::UsageError(_) => {
            "TIFF: damaged header: its strip/tile layout cannot be decoded as it claims".to_string()
        }
        other => format!("TIFF: {other}"),
    };
    err(name, reason)
}

/// "16, 16, 8"
fn list(v: &[u8]) -> String {
    v.iter().map(u8::to_string).collect::<Vec<_>>().join(", ")
}

/// A TIFF colour type in words ("RGB, 16 bits", "4 bands of 8 bits").
fn colour_name(c: ColorType) -> String {
    let kind = match c {
        ColorType::Gray(_) => "grey",
        ColorType::RGB(_) => "RGB",
        ColorType::Palette(_) => "palette",
        ColorType::GrayA(_) => "grey with alpha",
        ColorType::RGBA(_) => "RGBA",
        ColorType::CMYK(_) => "CMYK",
        ColorType::CMYKA(_) => "CMYK with alpha",
        ColorType::YCbCr(_) => "YCbCr",
        ColorType::Lab(_) => "CIE Lab",
        ColorType::Multiband { .. } => "multi-band",
        _ => "colour",
    };
    format!("{kind} ({} samples of {} bits)", c.num_samples(), c.bit_depth())
}

/// Bytes of one value of a TIFF field type (0 for types the decoder skips).
fn type_size(ty: u64) -> u64 {
    match ty {
        1 | 2 | 6 | 7 => 1,
        3 | 8 => 2,
        4 | 9 | 11 | 13 => 4,
        5 | 10 | 12 | 16 | 17 | 18 => 8,
        _ => 0,
    }
}

/// Refuses a first IFD whose tags claim more bytes than the file holds: the decoder sizes its
/// buffers from these counts before it reads anything, so a few bytes could make it allocate
/// hundreds of MB. Anything else odd is left to the decoder to report.
///
/// The image size is checked here too, against the pixel limit: the decoder itself would first
/// compare the strip or tile tables with it and report "inconsistent sizes" for a forged size.
fn check_first_ifd(bytes: &[u8], name: &str, what: &str, limit: u64) -> Result<()> {
    let le = bytes.starts_with(b"II");
    let read = |at: u64, n: usize| -> Option<u64> {
        let at = usize::try_from(at).ok()?;
        let b = bytes.get(at..at.checked_add(n)?)?;
        let mut v = 0u64;
        for i in 0..n {
            let byte = if le { b[n - 1 - i] } else { b[i] };
            v = (v << 8) | byte as u64;
        }
        Some(v)
    };
    let big = read(2, 2) == Some(43);
    let (ifd, count_bytes, entry_bytes, word) =
        if big { (read(8, 8), 8u64, 20u64, 8usize) } else { (read(4, 4), 2, 12, 4) };
    let Some(ifd) = ifd else { return Ok(()) };
    let Some(entries) = read(ifd, count_bytes as usize) else { return Ok(()) };
    let (mut width, mut height) = (None, None);
    for i in 0..entries.min(4096) {
        let at = ifd + count_bytes + i * entry_bytes;
        let (Some(tag), Some(ty), Some(count)) = (read(at, 2), read(at + 2, 2), read(at + 4, word)) else {
            break;
        };
        if (tag == 256 || tag == 257) && count == 1 {
            let size = match ty {
                3 => 2,
                4 => 4,
                16 => 8,
                _ => 0,
            };
            let value = if size > 0 && size <= word { read(at + 4 + word as u64, size) } else { None };
            if tag == 256 { width = value } else { height = value }
        }
        let size = count.saturating_mul(type_size(ty));
        if size > bytes.len() as u64 {
            return Err(err(
                name,
                format!(
                    "{what}: tag {tag} claims {count} values ({size} bytes), the file has {} bytes",
                    bytes.len()
                ),
            ));
        }
    }
    if let (Some(w @ 1..), Some(h @ 1..)) = (width, height) {
        check_dims(name, what, h, w, limit)?;
    }
    Ok(())
}

/// Decodes page `page` into pixels and metadata (`what` names the format in messages).
pub(crate) fn decode_tiff(bytes: &[u8], name: &str, options: &ReadOptions, what: &str) -> Result<Decoded> {
    let (page, limit) = (options.frame, options.pixel_limit());
    let e = |x| tiff_err(name, x);
    check_first_ifd(bytes, name, what, limit)?;
    // Tag values and compressed chunks cannot be larger than the file; the decoded image gets
    // its own budget below, once its size is known.
    let mut limits = Limits::default();
    limits.decoding_buffer_size = bytes.len().max(4096);
    limits.intermediate_buffer_size = bytes.len().max(4096);
    let mut dec = Decoder::new(Cursor::new(bytes)).map_err(e)?.with_limits(limits.clone());
    if page > 0 {
        dec.seek_to_image(page).map_err(|x| match x {
            tiff::TiffError::FormatError(_) | tiff::TiffError::UsageError(_) => {
                // How many pages there are, for the message (a damaged page ends the count).
                let count = Decoder::new(Cursor::new(bytes)).map_or(0, |mut d| {
                    let mut n = 1usize;
                    while n < 100_000 && d.more_images() && d.next_image().is_ok() {
                        n += 1;
                    }
                    n
                });
                err(
                    name,
                    format!(
                        "{what}: no frame {page} (the file has {count} page{})",
                        if count == 1 { "" } else { "s" }
                    ),
                )
            }
            other => tiff_err(name, other),
        })?;
    }
    let (width, height) = dec.dimensions().map_err(e)?;
    let n = check_dims(name, what, height as u64, width as u64, limit)?;
    let bits = match dec.colortype().map_err(e)? {
        ColorType::Gray(b @ (8 | 16 | 32 | 64)) => b as u64,
        ColorType::Gray(b) => return Err(err(name, format!("{what}: {b}-bit samples are not supported"))),
        other => {
            return Err(err(
                name,
                format!("{what}: {} image; detector images have one grey sample", colour_name(other)),
            ));
        }
    };
    let code = dec.find_tag_unsigned::<u16>(Tag::Compression).map_err(e)?.unwrap_or(1);
    let (comp, ratio) = compression(code).map_err(|m| err(name, m))?;
    let needed = n as u64 * bits / 8;
    check_budget(name, what, needed, (bytes.len() as u64).saturating_mul(ratio))?;

    let mut metadata = BTreeMap::new();
    for (code, tag_name) in ASCII_TAGS {
        if let Ok(Some(Value::Ascii(s))) = dec.find_tag(Tag::from_u16_exhaustive(code)) {
            let s = s.trim_end_matches('\0').trim().to_string();
            if !s.is_empty() {
                metadata.insert(format!("tiff.{tag_name}"), s);
            }
        }
    }
    metadata.insert("tiff.compression".into(), comp.to_string());
    let pixel_size_mm = resolution_pixel_size(&mut dec);

    limits.decoding_buffer_size = (needed as usize)
        .saturating_mul(2)
        .min(usize::try_from(limit.saturating_mul(8)).unwrap_or(usize::MAX))
        .max(limits.decoding_buffer_size);
    dec = dec.with_limits(limits);
    let result = dec.read_image().map_err(e)?;
    let pixels = match result {
        DecodingResult::U8(v) => Pixels::U8(v),
        DecodingResult::U16(v) => Pixels::U16(v),
        DecodingResult::U32(v) => Pixels::U32(v),
        DecodingResult::I32(v) => Pixels::I32(v),
        DecodingResult::F32(v) => Pixels::F32(v),
        DecodingResult::I8(v) => Pixels::I32(v.into_iter().map(i32::from).collect()),
        DecodingResult::I16(v) => Pixels::I32(v.into_iter().map(i32::from).collect()),
        DecodingResult::F16(v) => Pixels::F32(v.into_iter().map(|x| x.to_f32()).collect()),
        DecodingResult::F64(v) => {
            metadata.insert("converted".into(), "f64 pixels narrowed to f32".into());
            Pixels::F32(v.into_iter().map(|x| x as f32).collect())
        }
        DecodingResult::U64(_) | DecodingResult::I64(_) => {
            return Err(err(name, format!("{what}: 64-bit integer pixels are not supported")));
        }
    };
    if pixels.len() < n {
        return Err(err(name, format!("{what}: decoded {} pixels for {height} × {width}", pixels.len())));
    }
    let pixels = truncate(pixels, n);

    // Pages: this one and how many there are (a damaged later page stops the count).
    let mut count = page + 1;
    while dec.more_images() && count < 100_000 {
        if dec.next_image().is_err() {
            break;
        }
        count += 1;
    }
    metadata.insert("frame_index".into(), page.to_string());
    metadata.insert("frame_count".into(), count.to_string());

    text_values(&mut metadata);
    let header_pixel_mm = dectris_header(&mut metadata);
    let mut d = Decoded::new(height as usize, width as usize, pixels);
    d.metadata = metadata;
    // The header's explicit pixel size before the resolution tags (which cameras often fill with a default).
    d.pixel_size_mm = header_pixel_mm.or(pixel_size_mm);
    Ok(d)
}

/// The decoder may return a buffer padded past the image; keep the image.
fn truncate(p: Pixels, n: usize) -> Pixels {
    match p {
        Pixels::U8(mut v) => {
            v.truncate(n);
            Pixels::U8(v)
        }
        Pixels::U16(mut v) => {
            v.truncate(n);
            Pixels::U16(v)
        }
        Pixels::U32(mut v) => {
            v.truncate(n);
            Pixels::U32(v)
        }
        Pixels::I32(mut v) => {
            v.truncate(n);
            Pixels::I32(v)
        }
        Pixels::F32(mut v) => {
            v.truncate(n);
            Pixels::F32(v)
        }
    }
}

/// Pixel size (mm) from XResolution when the unit is the centimetre (inch resolutions are
/// usually the meaningless 72 dpi of image software).
fn resolution_pixel_size<R: std::io::Read + std::io::Seek>(dec: &mut Decoder<R>) -> Option<f64> {
    let unit = dec.find_tag_unsigned::<u16>(Tag::ResolutionUnit).ok()??;
    let per_cm = match dec.find_tag(Tag::XResolution).ok()?? {
        Value::Rational(n, d) if d > 0 => n as f64 / d as f64,
        Value::Float(x) => x as f64,
        Value::Double(x) => x,
        _ => return None,
    };
    (unit == 3 && per_cm > 0.0 && per_cm.is_finite()).then(|| 10.0 / per_cm)
}

/// Numbers written as `name=value` in the ASCII tags (ImageDescription first), and the exposure.
pub(crate) fn text_values(metadata: &mut BTreeMap<String, String>) {
    let texts: Vec<String> =
        ASCII_TAGS.iter().filter_map(|(_, tag)| metadata.get(&format!("tiff.{tag}")).cloned()).collect();
    for text in &texts {
        for token in text.split(|c: char| c.is_whitespace() || ",;()[]{}:'\"".contains(c)) {
            let Some((key, value)) = token.split_once('=') else { continue };
            let key = key.trim().to_ascii_lowercase();
            let ok_key = !key.is_empty()
                && key.len() <= 40
                && key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '.' || c == '-');
            if ok_key && value.parse::<f64>().is_ok_and(|v| v.is_finite()) && !metadata.contains_key(&key) {
                metadata.insert(key, value.to_string());
            }
        }
    }
    if let Some(t) = metadata.get("exposure").and_then(|v| v.parse::<f64>().ok()) {
        metadata.insert("exposure_s".into(), num(t));
        return;
    }
    // Photonic Science camera settings: "Exposure:(50, 'Millisec')".
    for text in &texts {
        let Some(i) = text.find("Exposure:(") else { continue };
        let rest = &text[i + "Exposure:(".len()..];
        let Some(end) = rest.find(')') else { continue };
        let mut parts = rest[..end].split(',');
        let value = parts.next().and_then(|v| v.trim().parse::<f64>().ok());
        let unit = parts.next().map(|u| u.trim().trim_matches(['\'', '"']).to_ascii_lowercase());
        let scale = match unit.as_deref() {
            Some("millisec" | "ms" | "msec" | "millisecond" | "milliseconds") => 1e-3,
            Some("microsec" | "us" | "usec" | "microsecond" | "microseconds") => 1e-6,
            Some("sec" | "s" | "second" | "seconds") => 1.0,
            _ => continue,
        };
        if let Some(v) = value {
            metadata.insert("exposure_s".into(), num(v * scale));
            return;
        }
    }
}

/// The text header DECTRIS' camserver writes in a PILATUS TIFF's ImageDescription (the ALS frames' "TVX TIFF"
/// software tag): lines `# Pixel_size 172e-6 m x 172e-6 m`, `# Exposure_time 1.0000000 s`,
/// `# Count_cutoff 1409688 counts`, `# Threshold_setting: 4024 eV`, ... Sets `exposure_s` (unless already
/// known), `dectris.exposure_period_s`, `dectris.count_cutoff`, `dectris.threshold_ev`, `dectris.tau_s`,
/// `dectris.excluded_pixels`, and returns the pixel size (mm; the x one when x and y differ).
pub(crate) fn dectris_header(metadata: &mut BTreeMap<String, String>) -> Option<f64> {
    let text = metadata.get("tiff.ImageDescription")?.clone();
    if !text.contains("# Pixel_size") && !text.contains("# Exposure_time") {
        return None;
    }
    let mut pixel_mm = None;
    // The first number after the key, and the word after it (its unit).
    let value = |rest: &str| -> Option<(f64, String)> {
        let mut words =
            rest.split(|c: char| c.is_whitespace() || c == ':' || c == '=').filter(|w| !w.is_empty());
        let v = words.next()?.parse::<f64>().ok().filter(|v| v.is_finite())?;
        Some((v, words.next().unwrap_or("").to_string()))
    };
    for line in text.lines() {
        let Some(line) = line.trim().strip_prefix('#') else { continue };
        let line = line.trim();
        let (key, rest) = line.split_once(|c: char| c.is_whitespace() || c == ':').unwrap_or((line, ""));
        let Some((v, unit)) = value(rest) else { continue };
        let seconds = match unit.as_str() {
            "ms" => 1e-3,
            "us" => 1e-6,
            _ => 1.0,
        };
        match key {
            "Pixel_size" => {
                let mm = match unit.as_str() {
                    "m" => v * 1e3,
                    "mm" => v,
                    "um" => v * 1e-3,
                    _ => continue,
                };
                if mm > 0.0 {
                    pixel_mm = Some(mm);
                }
            }
            "Exposure_time" => {
                metadata.entry("exposure_s".into()).or_insert_with(|| num(v * seconds));
            }
            "Exposure_period" => {
                metadata.insert("dectris.exposure_period_s".into(), num(v * seconds));
            }
            "Tau" => {
                metadata.insert("dectris.tau_s".into(), num(v * seconds));
            }
            "Count_cutoff" => {
                metadata.insert("dectris.count_cutoff".into(), num(v));
            }
            "Threshold_setting" => {
                metadata.insert("dectris.threshold_ev".into(), num(v));
            }
            "N_excluded_pixels" => {
                metadata.insert("dectris.excluded_pixels".into(), num(v));
            }
            _ => {}
        }
    }
    pixel_mm
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::io::image::read_image;
    use crate::io::image::testutil::*;
    use tiff::encoder::{Compression, TiffEncoder, colortype, compression::DeflateLevel};

    fn opts() -> ReadOptions {
        ReadOptions::default()
    }

    /// A one-strip uncompressed grey TIFF, written by hand: `header` bytes of zeros (or given
    /// content) first, then the pixel data, then the IFD. `extra` tags are (tag, type, count,
    /// value-or-offset). Samples given as raw little-endian bytes are swapped for big endian.
    pub(crate) struct HandTiff {
        pub big_endian: bool,
        pub width: u32,
        pub height: u32,
        pub bits: u16,
        pub sample_format: u16,
        pub compression: u16,
        pub prefix: Vec<u8>,
        pub data_le: Vec<u8>,
        pub extra: Vec<(u16, u16, u32, u32)>,
    }

    impl HandTiff {
        pub(crate) fn new(width: u32, height: u32, bits: u16, data_le: Vec<u8>) -> Self {
            HandTiff {
                big_endian: false,
                width,
                height,
                bits,
                sample_format: 1,
                compression: 1,
                prefix: vec![0; 8],
                data_le,
                extra: vec![],
            }
        }

        pub(crate) fn bytes(&self) -> Vec<u8> {
            let be = self.big_endian;
            let u16b = |v: u16| if be { v.to_be_bytes() } else { v.to_le_bytes() };
            let u32b = |v: u32| if be { v.to_be_bytes() } else { v.to_le_bytes() };
            let mut out = self.prefix.clone();
            out.resize(out.len().max(8), 0);
            out[..4].copy_from_slice(if be { b"MM\0*" } else { b"II*\0" });
            let data_at = out.len() as u32;
            let step = (self.bits / 8).max(1) as usize;
            for s in self.data_le.chunks(step) {
                if be {
                    out.extend(s.iter().rev());
                } else {
                    out.extend(s);
                }
            }
            if out.len() % 2 == 1 {
                out.push(0);
            }
            let ifd_at = out.len() as u32;
            out[4..8].copy_from_slice(&u32b(ifd_at));
            let mut tags: Vec<(u16, u16, u32, u32)> = vec![
                (256, 4, 1, self.width),
                (257, 4, 1, self.height),
                (258, 3, 1, self.bits as u32),
                (259, 3, 1, self.compression as u32),
                (262, 3, 1, 1),
                (273, 4, 1, data_at),
                (277, 3, 1, 1),
                (278, 4, 1, self.height),
                (279, 4, 1, self.data_le.len() as u32),
                (339, 3, 1, self.sample_format as u32),
            ];
            tags.extend(self.extra.iter().copied());
            tags.sort_by_key(|t| t.0);
            out.extend(u16b(tags.len() as u16));
            for (tag, ty, count, value) in tags {
                out.extend(u16b(tag));
                out.extend(u16b(ty));
                out.extend(u32b(count));
                if ty == 3 && count == 1 {
                    out.extend(u16b(value as u16));
                    out.extend([0, 0]);
                } else {
                    out.extend(u32b(value));
                }
            }
            out.extend(u32b(0));
            out
        }
    }

    fn le<T: Copy, const N: usize>(v: &[T], f: impl Fn(T) -> [u8; N]) -> Vec<u8> {
        v.iter().flat_map(|&x| f(x)).collect()
    }

    fn encode<C: colortype::ColorType>(data: &[C::Inner], comp: Compression) -> Vec<u8>
    where
        [C::Inner]: tiff::encoder::TiffValue,
    {
        let mut cur = Cursor::new(Vec::new());
        let mut enc = TiffEncoder::new(&mut cur).unwrap().with_compression(comp);
        enc.write_image::<C>(COLS as u32, ROWS as u32, data).unwrap();
        cur.into_inner()
    }

    #[test]
    fn encoder_variants_every_type_and_compression() {
        let comps = [
            ("none", Compression::Uncompressed),
            ("lzw", Compression::Lzw),
            ("deflate", Compression::Deflate(DeflateLevel::Balanced)),
            ("packbits", Compression::Packbits),
        ];
        for (label, comp) in comps {
            let f = read_image(&encode::<colortype::Gray8>(&grid(u8_at, 0), comp), "a.tif", &opts()).unwrap();
            assert_eq!(f.pixels, Pixels::U8(grid(u8_at, 0)), "{label}");
            let f =
                read_image(&encode::<colortype::Gray16>(&grid(u16_at, 0), comp), "a.tif", &opts()).unwrap();
            assert_eq!(f.pixels, Pixels::U16(grid(u16_at, 0)), "{label}");
            assert_eq!((f.rows, f.cols), (ROWS, COLS));
            let f =
                read_image(&encode::<colortype::Gray32>(&grid(u32_at, 0), comp), "a.tif", &opts()).unwrap();
            assert_eq!(f.pixels, Pixels::U32(grid(u32_at, 0)), "{label}");
            let f =
                read_image(&encode::<colortype::GrayI32>(&grid(i32_at, 0), comp), "a.tif", &opts()).unwrap();
            assert_eq!(f.pixels, Pixels::I32(grid(i32_at, 0)), "{label}");
            let f = read_image(&encode::<colortype::Gray32Float>(&grid(f32_at, 0), comp), "a.tif", &opts())
                .unwrap();
            assert_eq!(f.pixels, Pixels::F32(grid(f32_at, 0)), "{label}");
        }
        let i16s: Vec<i16> = grid(i32_at, 0).iter().map(|&v| v as i16).collect();
        let f = read_image(&encode::<colortype::GrayI16>(&i16s, Compression::Lzw), "a.tif", &opts()).unwrap();
        assert_eq!(f.pixels, Pixels::I32(i16s.iter().map(|&v| v as i32).collect()));
        let f64s: Vec<f64> = grid(f32_at, 0).iter().map(|&v| v as f64).collect();
        let f = read_image(&encode::<colortype::Gray64Float>(&f64s, Compression::Uncompressed), "a", &opts())
            .unwrap();
        assert_eq!(f.pixels, Pixels::F32(grid(f32_at, 0)));
        assert!(f.metadata["converted"].contains("f64"));
        let u64s: Vec<u64> = vec![1; ROWS * COLS];
        let e = read_image(&encode::<colortype::Gray64>(&u64s, Compression::Uncompressed), "a", &opts())
            .unwrap_err();
        assert!(e.to_string().contains("64-bit integer pixels"), "{e}");
    }

    #[test]
    fn files_written_by_tifffile() {
        let check = |file: &str, want: Pixels| {
            let f = read_image(&data(file), file, &opts()).unwrap_or_else(|e| panic!("{e}"));
            assert_eq!((f.rows, f.cols), (ROWS, COLS), "{file}");
            match (&f.pixels, &want) {
                (Pixels::F32(a), Pixels::F32(b)) => {
                    for (i, (x, y)) in a.iter().zip(b).enumerate() {
                        assert!(x == y || (x.is_nan() && y.is_nan()), "{file} pixel {i}: {x} vs {y}");
                    }
                }
                _ => assert_eq!(f.pixels, want, "{file}"),
            }
            f
        };
        check("u16_be_strips_lzw.tif", Pixels::U16(grid(u16_at, 0)));
        let f = check("u16_le_tiles_deflate.tif", Pixels::U16(grid(u16_at, 0)));
        assert_eq!(f.metadata["tiff.compression"], "Deflate");
        check("u16_be_tiles_packbits.tif", Pixels::U16(grid(u16_at, 0)));
        check("u8_le_strips_packbits.tif", Pixels::U8(grid(u8_at, 0)));
        check("u32_be_strips_deflate.tif", Pixels::U32(grid(u32_at, 0)));
        check("i32_le_tiles_lzw.tif", Pixels::I32(grid(i32_at, 0)));
        check("f32_be_strips_deflate.tif", Pixels::F32(grid(f32_at, 0)));
        let mut want = grid(f32_at, 0);
        want[COLS + 2] = f32::NAN;
        want[3 * COLS + 4] = f32::INFINITY;
        want[5 * COLS + 6] = f32::NEG_INFINITY;
        let f = check("f32_le_tiles_none.tif", Pixels::F32(want));
        assert_eq!(f.metadata["nonfinite_pixels"], "3");
        assert_eq!(f.masked_count(), 3);
        assert!(f.is_masked(COLS + 2) && f.is_masked(3 * COLS + 4) && !f.is_masked(0));
        let g = f.finite_f32();
        assert_eq!(g.at(1, 2), 0.0);
        assert!(matches!(&g.pixels, Pixels::F32(v) if v.iter().all(|x| x.is_finite())));
    }

    #[test]
    fn pages_are_frames() {
        for page in 0..3 {
            let o = ReadOptions { frame: page, ..Default::default() };
            let f = read_image(&data("u16_3pages.tif"), "p.tif", &o).unwrap();
            assert_eq!(f.pixels, Pixels::U16(grid(u16_at, page)));
            assert_eq!(f.metadata["frame_count"], "3");
            assert_eq!(f.metadata["frame_index"], page.to_string());
        }
        let o = ReadOptions { frame: 3, ..Default::default() };
        let e = read_image(&data("u16_3pages.tif"), "p.tif", &o).unwrap_err().to_string();
        assert!(e.contains("no frame 3 (the file has 3 pages)"), "{e}");
    }

    #[test]
    fn description_numbers_become_metadata() {
        let f = read_image(&data("u16_description.tif"), "d.tif", &opts()).unwrap();
        assert_eq!(f.metadata["xech"], "1.0747");
        assert_eq!(f.metadata["zech"], "-0.8263");
        assert_eq!(f.metadata["mon"], "12276");
        assert_eq!(f.metadata["exposure_s"], "1");
        assert_eq!(f.metadata["tiff.Software"], "PSLViewer4.7.6");
        let mut m = BTreeMap::new();
        m.insert(
            "tiff.Artist".to_string(),
            "Q [date:2024, [G:Exposure:(50, 'Millisec'),RecordTag:xech=7.5 yech=-2,".into(),
        );
        text_values(&mut m);
        assert_eq!(m["exposure_s"], "0.05");
        assert_eq!(m["xech"], "7.5");
        assert_eq!(m["yech"], "-2");
    }

    #[test]
    fn dectris_text_header() {
        let mut m = BTreeMap::new();
        m.insert(
            "tiff.ImageDescription".to_string(),
            "# Pixel_size 172e-6 m x 172e-6 m\r\n# Exposure_time 0.2500000 s\r\n# Exposure_period 0.2500000 s\r\n\
             # Tau = 0 s\r\n# Count_cutoff 1074999 counts\r\n# Threshold_setting: 4024 eV\r\n\
             # N_excluded_pixels = 31\r\n# Comment: 4.33100 1.54300 681.563 13630.000\r\n"
                .into(),
        );
        let px = dectris_header(&mut m).unwrap();
        assert!((px - 0.172).abs() < 1e-12, "{px}");
        assert_eq!(m["exposure_s"], "0.25");
        assert_eq!(m["dectris.exposure_period_s"], "0.25");
        assert_eq!(m["dectris.count_cutoff"], "1074999");
        assert_eq!(m["dectris.threshold_ev"], "4024");
        assert_eq!(m["dectris.tau_s"], "0");
        assert_eq!(m["dectris.excluded_pixels"], "31");
        // Not a DECTRIS header: nothing.
        let mut other = BTreeMap::new();
        other.insert("tiff.ImageDescription".to_string(), "0 (Xech=1.0 exposure=1.000)".to_string());
        assert_eq!(dectris_header(&mut other), None);
        assert_eq!(other.len(), 1);
    }

    #[test]
    fn byte_orders_by_hand_and_resolution() {
        let vals: Vec<u16> = (0..6).map(|i| i * 1000 + 7).collect();
        for be in [false, true] {
            let mut t = HandTiff::new(3, 2, 16, le(&vals, u16::to_le_bytes));
            t.big_endian = be;
            // XResolution 126.3 px/cm at offset 8 (in the prefix), ResolutionUnit cm.
            t.prefix = vec![0; 16];
            let (n, d) = (1263u32, 10u32);
            let (nb, db) =
                if be { (n.to_be_bytes(), d.to_be_bytes()) } else { (n.to_le_bytes(), d.to_le_bytes()) };
            t.prefix[8..12].copy_from_slice(&nb);
            t.prefix[12..16].copy_from_slice(&db);
            t.extra = vec![(282, 5, 1, 8), (296, 3, 1, 3)];
            let f = read_image(&t.bytes(), "h.tif", &opts()).unwrap();
            assert_eq!(f.pixels, Pixels::U16(vals.clone()), "big endian {be}");
            let px: f64 = f.metadata["pixel_size_file_mm"].parse().unwrap();
            assert!((px - 10.0 / 126.3).abs() < 1e-12);
            assert_eq!(f.pixel_size_mm, Some(px));
        }
    }

    #[test]
    fn a_36_megapixel_image() {
        let (rows, cols) = (6000usize, 6000usize);
        let pixels: Vec<u16> = (0..rows * cols).map(|i| (i % 65521) as u16).collect();
        let mut cur = Cursor::new(Vec::new());
        TiffEncoder::new(&mut cur)
            .unwrap()
            .write_image::<colortype::Gray16>(cols as u32, rows as u32, &pixels)
            .unwrap();
        let bytes = cur.into_inner();
        let f = read_image(&bytes, "big.tif", &opts()).unwrap();
        assert_eq!((f.rows, f.cols), (rows, cols));
        assert_eq!(f.at(5999, 5999), ((5999 * 6000 + 5999) % 65521) as f64);
        assert_eq!(f.at(1234, 567), ((1234 * 6000 + 567) % 65521) as f64);
    }

    #[test]
    fn bad_tiffs_are_errors() {
        let vals: Vec<u16> = (0..6).collect();
        let good = HandTiff::new(3, 2, 16, le(&vals, u16::to_le_bytes));
        let check = |bytes: &[u8], want: &str| {
            let e = read_image(bytes, "bad.tif", &opts()).unwrap_err().to_string();
            assert!(e.starts_with("bad.tif: ") && e.contains(want), "{e} (wanted {want})");
        };
        // Truncated anywhere: an error, never a panic.
        let full = encode::<colortype::Gray16>(&grid(u16_at, 0), Compression::Lzw);
        for cut in [0, 3, 4, 8, 20, 100, full.len() / 2, full.len() - 1] {
            assert!(read_image(&full[..cut], "cut.tif", &opts()).is_err(), "cut at {cut}");
        }
        let plain = encode::<colortype::Gray16>(&grid(u16_at, 0), Compression::Uncompressed);
        check(&plain[..plain.len() / 2], "");
        // Wrong magic.
        let mut b = good.bytes();
        b[2] = 41;
        check(&b, "TIFF");
        // Zero and absurd dimensions.
        let mut t = HandTiff::new(0, 2, 16, vec![]);
        check(&t.bytes(), "invalid dimensions: 0x2");
        t = HandTiff::new(1 << 16, 1 << 15, 16, vec![0; 12]);
        check(&t.bytes(), "over the limit of 268435456 pixels");
        // A big image claimed by a small file.
        t = HandTiff::new(10000, 10000, 16, vec![0; 12]);
        check(&t.bytes(), "needs 200000000 bytes");
        t.compression = 8;
        check(&t.bytes(), "the file can hold only");
        // A tag claiming more values than the file holds (the decoder would allocate for them).
        let mut t = HandTiff::new(3, 2, 16, le(&vals, u16::to_le_bytes));
        t.extra = vec![(270, 2, 100_000_000, 8)];
        check(&t.bytes(), "tag 270 claims 100000000 values (100000000 bytes)");
        t.big_endian = true;
        check(&t.bytes(), "tag 270 claims 100000000 values");
        // Unsupported compression, bit depth, colour.
        let mut t = HandTiff::new(3, 2, 16, le(&vals, u16::to_le_bytes));
        t.compression = 34712;
        check(&t.bytes(), "unsupported compression 34712 (JPEG 2000)");
        check(&data("u16_zstd.tif"), "unsupported compression 50000 (Zstandard)");
        let t = HandTiff::new(3, 2, 12, vec![0; 9]);
        check(&t.bytes(), "12-bit samples");
        let mut t = HandTiff::new(1, 2, 8, vec![0; 6]);
        t.extra = vec![];
        let mut b = t.bytes();
        // SamplesPerPixel 1 -> 3 (the tag's value sits at a known place: 7th entry).
        let ifd = u32::from_le_bytes([b[4], b[5], b[6], b[7]]) as usize;
        let entry = ifd + 2 + 6 * 12;
        assert_eq!(u16::from_le_bytes([b[entry], b[entry + 1]]), 277);
        b[entry + 8] = 3;
        assert!(read_image(&b, "rgb.tif", &opts()).is_err());
    }
}
