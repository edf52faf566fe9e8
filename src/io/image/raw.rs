//! Headerless binary images: dimensions, sample type, offset and byte order given by the caller
//! (or by a detector preset), the last resort for files of no known format.

use serde::{Deserialize, Serialize};

use super::{Decoded, ImageFormat, ReadOptions, check_budget, check_dims, err, finish, presets};
use crate::error::Result;
use crate::io::frame::{Frame, Pixels};

/// How one pixel is stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SampleType {
    U8,
    I8,
    U16,
    I16,
    U32,
    I32,
    F32,
    F64,
}

impl SampleType {
    /// Bytes per pixel.
    pub fn size(self) -> usize {
        match self {
            SampleType::U8 | SampleType::I8 => 1,
            SampleType::U16 | SampleType::I16 => 2,
            SampleType::U32 | SampleType::I32 | SampleType::F32 => 4,
            SampleType::F64 => 8,
        }
    }

    /// From a short name: "u16", "uint16", "float32", ...
    pub fn from_name(s: &str) -> Option<Self> {
        Some(match s.to_ascii_lowercase().as_str() {
            "u8" | "uint8" => SampleType::U8,
            "i8" | "int8" => SampleType::I8,
            "u16" | "uint16" => SampleType::U16,
            "i16" | "int16" => SampleType::I16,
            "u32" | "uint32" => SampleType::U32,
            "i32" | "int32" => SampleType::I32,
            "f32" | "float32" => SampleType::F32,
            "f64" | "float64" => SampleType::F64,
            _ => return None,
        })
    }
}

/// Byte order of multi-byte samples.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ByteOrder {
    #[default]
    Little,
    Big,
}

/// Layout of a raw binary image; what is left out comes from the detector preset
/// ([`ReadOptions::detector`]) when one is given.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct RawLayout {
    /// image rows (slow axis)
    pub rows: Option<usize>,
    /// image columns (fast axis)
    pub cols: Option<usize>,
    /// sample type (default: the preset's, else u16)
    pub sample_type: Option<SampleType>,
    /// bytes to skip before the pixels; None = the pixels are the last rows·cols·size bytes of
    /// the file (a header of any size before them, as LaueTools reads variable headers)
    pub offset: Option<u64>,
    pub byte_order: ByteOrder,
}

/// Decodes packed samples; f64 is narrowed to f32, i8 and i16 widened to i32.
/// `data.len()` must be a multiple of the sample size (the rest is ignored).
pub(crate) fn decode_samples(data: &[u8], ty: SampleType, order: ByteOrder) -> Pixels {
    macro_rules! conv {
        ($t:ty, $n:expr) => {
            data.chunks_exact($n).map(|c| {
                let mut a = [0u8; $n];
                a.copy_from_slice(c);
                match order {
                    ByteOrder::Little => <$t>::from_le_bytes(a),
                    ByteOrder::Big => <$t>::from_be_bytes(a),
                }
            })
        };
    }
    match ty {
        SampleType::U8 => Pixels::U8(data.to_vec()),
        SampleType::I8 => Pixels::I32(data.iter().map(|&b| b as i8 as i32).collect()),
        SampleType::U16 => Pixels::U16(conv!(u16, 2).collect()),
        SampleType::I16 => Pixels::I32(conv!(i16, 2).map(i32::from).collect()),
        SampleType::U32 => Pixels::U32(conv!(u32, 4).collect()),
        SampleType::I32 => Pixels::I32(conv!(i32, 4).collect()),
        SampleType::F32 => Pixels::F32(conv!(f32, 4).collect()),
        SampleType::F64 => Pixels::F32(conv!(f64, 8).map(|x| x as f32).collect()),
    }
}

/// Reads a headerless image laid out as [`ReadOptions::raw`] (and the detector preset) says.
pub fn read_raw(bytes: &[u8], name: &str, options: &ReadOptions) -> Result<Frame> {
    let layout = options.raw.clone().unwrap_or_default();
    let preset = options.detector.as_deref().map(presets::preset_or_err).transpose()?;
    let (rows, cols) = match (layout.rows.or(preset.map(|p| p.rows)), layout.cols.or(preset.map(|p| p.cols)))
    {
        (Some(r), Some(c)) => (r, c),
        _ => {
            return Err(err(
                name,
                "raw: image dimensions unknown (give the raw layout's rows and cols, or a detector)",
            ));
        }
    };
    let ty = layout
        .sample_type
        .or_else(|| preset.and_then(|p| SampleType::from_name(p.pixel_type)))
        .unwrap_or(SampleType::U16);
    let n = check_dims(name, "raw", rows as u64, cols as u64, options.pixel_limit())?;
    let size = n as u64 * ty.size() as u64;
    let len = bytes.len() as u64;
    let offset = match layout.offset {
        Some(o) => o,
        None => {
            check_budget(name, "raw", size, len)?;
            len - size
        }
    };
    check_budget(name, &format!("raw (from byte {offset})"), size, len.saturating_sub(offset))?;
    // Both fit in usize: offset + size <= bytes.len().
    let data = &bytes[offset as usize..(offset + size) as usize];
    let mut d = Decoded::new(rows, cols, decode_samples(data, ty, layout.byte_order));
    d.metadata.insert("raw.offset".into(), offset.to_string());
    d.metadata.insert("raw.sample_type".into(), format!("{ty:?}").to_lowercase());
    d.metadata.insert("raw.byte_order".into(), format!("{:?}", layout.byte_order).to_lowercase());
    finish(d, ImageFormat::Raw, name, options)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::io::image::read_image;

    fn opts(rows: usize, cols: usize, ty: SampleType, offset: Option<u64>, order: ByteOrder) -> ReadOptions {
        ReadOptions {
            raw: Some(RawLayout {
                rows: Some(rows),
                cols: Some(cols),
                sample_type: Some(ty),
                offset,
                byte_order: order,
            }),
            ..Default::default()
        }
    }

    #[test]
    fn every_sample_type_and_byte_order() {
        let vals = [1.5f64, -2.0, 300.0, 0.0, 7.0, -1.0];
        for order in [ByteOrder::Little, ByteOrder::Big] {
            for ty in [
                SampleType::U8,
                SampleType::I8,
                SampleType::U16,
                SampleType::I16,
                SampleType::U32,
                SampleType::I32,
                SampleType::F32,
                SampleType::F64,
            ] {
                let mut bytes = b"HEAD".to_vec();
                for &v in &vals {
                    let mut b: Vec<u8> = match ty {
                        SampleType::U8 => vec![v.abs() as u8],
                        SampleType::I8 => vec![v as i8 as u8],
                        SampleType::U16 => (v.abs() as u16).to_le_bytes().to_vec(),
                        SampleType::I16 => (v as i16).to_le_bytes().to_vec(),
                        SampleType::U32 => (v.abs() as u32).to_le_bytes().to_vec(),
                        SampleType::I32 => (v as i32).to_le_bytes().to_vec(),
                        SampleType::F32 => (v as f32).to_le_bytes().to_vec(),
                        SampleType::F64 => v.to_le_bytes().to_vec(),
                    };
                    if order == ByteOrder::Big {
                        b.reverse();
                    }
                    bytes.extend(b);
                }
                for offset in [Some(4), None] {
                    let f = read_image(&bytes, "x.raw", &opts(2, 3, ty, offset, order)).unwrap();
                    assert_eq!((f.rows, f.cols), (2, 3));
                    for (i, &v) in vals.iter().enumerate() {
                        let want = match ty {
                            SampleType::U8 => (v.abs() as u8) as f64,
                            SampleType::I8 => (v as i8) as f64,
                            SampleType::U16 => (v.abs() as u16) as f64,
                            SampleType::I16 => (v as i16) as f64,
                            SampleType::U32 => (v.abs() as u32) as f64,
                            SampleType::I32 => (v as i32) as f64,
                            SampleType::F32 | SampleType::F64 => (v as f32) as f64,
                        };
                        assert_eq!(f.pixels.get(i), want, "{ty:?} {order:?} {i}");
                    }
                }
            }
        }
    }

    #[test]
    fn detector_preset_gives_the_layout() {
        // MARCCD165: 2048 × 2048 u16 after a 4096-byte header (the offset defaults to the end).
        let mut bytes = vec![0u8; 4096 + 2048 * 2048 * 2];
        bytes[4096 + 2 * (5 * 2048 + 7)] = 9;
        let o = ReadOptions { detector: Some("MARCCD165".into()), ..Default::default() };
        let f = read_image(&bytes, "frame.bin", &o).unwrap();
        assert_eq!((f.rows, f.cols, f.at(5, 7)), (2048, 2048, 9.0));
        assert_eq!(f.detector.as_deref(), Some("MARCCD165"));
        assert_eq!(f.pixel_size_mm, Some(0.079142));
        assert_eq!(f.metadata["raw.offset"], "4096");
    }

    #[test]
    fn bad_layouts_are_errors() {
        let bytes = [0u8; 10];
        let e = read_image(&bytes, "x.raw", &ReadOptions::default()).unwrap_err().to_string();
        assert!(e.contains("dimensions unknown"), "{e}");
        let e =
            read_image(&bytes, "x.raw", &opts(2, 3, SampleType::U16, None, ByteOrder::Little)).unwrap_err();
        assert!(e.to_string().contains("needs 12 bytes"), "{e}");
        let e = read_image(&bytes, "x.raw", &opts(1, 2, SampleType::U32, Some(5), ByteOrder::Little))
            .unwrap_err();
        assert!(e.to_string().contains("from byte 5"), "{e}");
        let e = read_image(&bytes, "x.raw", &opts(1, 2, SampleType::U8, Some(u64::MAX), ByteOrder::Little));
        assert!(e.is_err());
        let e =
            read_image(&bytes, "x.raw", &opts(0, 2, SampleType::U8, None, ByteOrder::Little)).unwrap_err();
        assert!(e.to_string().contains("zero image dimension"), "{e}");
        let e = read_image(&bytes, "x.raw", &opts(1 << 20, 1 << 20, SampleType::U8, None, ByteOrder::Little));
        assert!(e.unwrap_err().to_string().contains("over the limit of 268435456 pixels"));
    }
}
