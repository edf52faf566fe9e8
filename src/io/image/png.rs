//! PNG images through the `png` crate: grey, 8 or 16 bits per pixel (lower bit depths are
//! expanded to 8). Text chunks become `png.<keyword>` metadata.

use std::io::Cursor;

use super::{Decoded, ImageFormat, ReadOptions, check_budget, check_dims, err, finish};
use crate::error::Result;
use crate::io::frame::{Frame, Pixels};

/// The most pixel bytes one byte of PNG data can give (deflate's limit, with margin).
const MAX_RATIO: u64 = 1100;

/// Reads a grey PNG.
pub fn read_png(bytes: &[u8], name: &str, options: &ReadOptions) -> Result<Frame> {
    let e = |x: ::png::DecodingError| err(name, format!("PNG: {x}"));
    let mut decoder = ::png::Decoder::new(Cursor::new(bytes));
    decoder.set_transformations(::png::Transformations::EXPAND);
    let limit = options.pixel_limit();
    decoder.set_limits(::png::Limits {
        bytes: usize::try_from(limit.saturating_mul(2).saturating_add(1 << 20)).unwrap_or(usize::MAX),
    });
    let mut reader = decoder.read_info().map_err(e)?;
    let (width, height, color, depth) = {
        let info = reader.info();
        (info.width, info.height, info.color_type, info.bit_depth)
    };
    let n = check_dims(name, "PNG", height as u64, width as u64, limit)?;
    if color != ::png::ColorType::Grayscale {
        let what = match color {
            ::png::ColorType::Rgb => "RGB",
            ::png::ColorType::Rgba => "RGBA",
            ::png::ColorType::GrayscaleAlpha => "grey with alpha",
            ::png::ColorType::Indexed => "palette",
            ::png::ColorType::Grayscale => "grey",
        };
        return Err(err(name, format!("PNG: {what} colour image; detector images have one grey sample")));
    }
    let sixteen = depth == ::png::BitDepth::Sixteen;
    let needed = n as u64 * if sixteen { 2 } else { 1 };
    check_budget(name, "PNG", needed, (bytes.len() as u64).saturating_mul(MAX_RATIO))?;
    let size = reader
        .output_buffer_size()
        .ok_or_else(|| err(name, format!("PNG: {height} × {width} image too large")))?;
    let mut buf = vec![0u8; size];
    let out = reader.next_frame(&mut buf).map_err(e)?;
    let line = out.line_size;
    let row_bytes = width as usize * if sixteen { 2 } else { 1 };
    if line < row_bytes || buf.len() < line * height as usize {
        return Err(err(name, "PNG: decoded rows shorter than the image"));
    }
    let rows = buf.chunks(line).take(height as usize).map(|r| &r[..row_bytes]);
    let pixels = if sixteen {
        Pixels::U16(rows.flat_map(|r| r.chunks_exact(2).map(|b| u16::from_be_bytes([b[0], b[1]]))).collect())
    } else {
        Pixels::U8(rows.flat_map(|r| r.iter().copied()).collect())
    };
    let mut d = Decoded::new(height as usize, width as usize, pixels);
    let info = reader.info();
    for t in &info.uncompressed_latin1_text {
        d.metadata.insert(format!("png.{}", t.keyword), t.text.clone());
    }
    for t in &info.utf8_text {
        if let Ok(text) = t.get_text() {
            d.metadata.insert(format!("png.{}", t.keyword), text);
        }
    }
    if let Some(dims) = info.pixel_dims
        && dims.unit == ::png::Unit::Meter
        && dims.xppu > 0
    {
        d.pixel_size_mm = Some(1e3 / dims.xppu as f64);
    }
    finish(d, ImageFormat::Png, name, options)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::io::image::read_image;

    fn encode(
        width: u32,
        height: u32,
        depth: ::png::BitDepth,
        color: ::png::ColorType,
        data: &[u8],
    ) -> Vec<u8> {
        let mut out = Vec::new();
        {
            let mut enc = ::png::Encoder::new(&mut out, width, height);
            enc.set_depth(depth);
            enc.set_color(color);
            enc.add_text_chunk("exposure".into(), "0.5 s".into()).unwrap();
            let mut w = enc.write_header().unwrap();
            w.write_image_data(data).unwrap();
        }
        out
    }

    #[test]
    fn grey_8_and_16_bits() {
        let v16: Vec<u16> = (0..12).map(|i| i * 5000 + 3).collect();
        let be: Vec<u8> = v16.iter().flat_map(|v| v.to_be_bytes()).collect();
        let bytes = encode(4, 3, ::png::BitDepth::Sixteen, ::png::ColorType::Grayscale, &be);
        let f = read_image(&bytes, "x.png", &ReadOptions::default()).unwrap();
        assert_eq!((f.rows, f.cols), (3, 4));
        assert_eq!(f.pixels, Pixels::U16(v16));
        assert_eq!(f.metadata["png.exposure"], "0.5 s");
        let v8: Vec<u8> = (0..12).map(|i| i * 20).collect();
        let bytes = encode(4, 3, ::png::BitDepth::Eight, ::png::ColorType::Grayscale, &v8);
        let f = read_image(&bytes, "x.png", &ReadOptions::default()).unwrap();
        assert_eq!(f.pixels, Pixels::U8(v8));
        // 1-bit grey is expanded to 0/255.
        let bytes = encode(8, 1, ::png::BitDepth::One, ::png::ColorType::Grayscale, &[0b1010_0000]);
        let f = read_image(&bytes, "x.png", &ReadOptions::default()).unwrap();
        assert_eq!(f.pixels, Pixels::U8(vec![255, 0, 255, 0, 0, 0, 0, 0]));
    }

    #[test]
    fn colour_and_broken_pngs_are_errors() {
        let bytes = encode(2, 1, ::png::BitDepth::Eight, ::png::ColorType::Rgb, &[1, 2, 3, 4, 5, 6]);
        let e = read_image(&bytes, "c.png", &ReadOptions::default()).unwrap_err().to_string();
        assert!(e.contains("PNG: RGB colour image"), "{e}");
        let good = encode(4, 3, ::png::BitDepth::Eight, ::png::ColorType::Grayscale, &[7; 12]);
        for cut in [8, 20, 33, 45, good.len() - 20] {
            let e = read_image(&good[..cut], "cut.png", &ReadOptions::default());
            assert!(e.is_err(), "cut at {cut}");
        }
    }
}
