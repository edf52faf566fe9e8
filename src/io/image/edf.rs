//! ESRF data format (EDF): blocks of an ASCII header `{ key = value ; ... }` (padded to a
//! multiple of 512 bytes) followed by the binary data. Keys used: `Dim_1` (columns, fast axis),
//! `Dim_2` (rows), `Dim_3` (frames in the block, default 1), `DataType`, `ByteOrder`
//! (`LowByteFirst`, the default, or `HighByteFirst`), `Size` (bytes of data in the block),
//! `Compression` (only none is read). Several blocks = several frames ([`ReadOptions::frame`]).

use super::raw::{ByteOrder, SampleType, decode_samples};
use super::{Decoded, ImageFormat, ReadOptions, check_budget, check_dims, err, finish, num};
use crate::error::Result;
use crate::io::frame::Frame;

/// Whether the bytes start like an EDF header: `{` (after blank space) then a `key = value ;`.
pub(crate) fn looks_like_edf(bytes: &[u8]) -> bool {
    let head = &bytes[..bytes.len().min(1024)];
    let start = head.iter().position(|b| !b.is_ascii_whitespace());
    match start {
        Some(i) if head[i] == b'{' && i < 16 => {
            let rest = &head[i + 1..];
            let end = rest.iter().position(|&b| b == b'}').unwrap_or(rest.len());
            rest[..end].contains(&b'=') && rest[..end].contains(&b';')
        }
        _ => false,
    }
}

/// One header block: its keys in file order, where its data start, and its geometry.
struct Block {
    keys: Vec<(String, String)>,
    data_start: usize,
}

impl Block {
    fn get(&self, key: &str) -> Option<&str> {
        self.keys.iter().find(|(k, _)| k.eq_ignore_ascii_case(key)).map(|(_, v)| v.as_str())
    }
}

/// Parses the header starting at `start` (blank space allowed before `{`).
fn parse_block(bytes: &[u8], start: usize, name: &str, index: usize) -> Result<Block> {
    let rest = &bytes[start..];
    let open = rest.iter().position(|b| !b.is_ascii_whitespace());
    let open = match open {
        Some(i) if rest[i] == b'{' => start + i,
        _ => {
            return Err(err(
                name,
                format!("EDF block {index}: header does not start with '{{' at byte {start}"),
            ));
        }
    };
    let close = bytes[open..].iter().position(|&b| b == b'}').map(|i| open + i).ok_or_else(|| {
        err(name, format!("EDF block {index}: header has no closing '}}' (truncated file?)"))
    })?;
    let text = String::from_utf8_lossy(&bytes[open + 1..close]);
    let mut keys = Vec::new();
    for entry in text.split(';') {
        if let Some((k, v)) = entry.split_once('=') {
            let k = k.trim();
            if !k.is_empty() {
                keys.push((k.to_string(), v.trim().to_string()));
            }
        }
    }
    let mut data_start = close + 1;
    if bytes.get(data_start) == Some(&b'\r') {
        data_start += 1;
    }
    if bytes.get(data_start) == Some(&b'\n') {
        data_start += 1;
    }
    Ok(Block { keys, data_start })
}

/// `DataType` name to sample type (the ESRF names and their usual variants).
fn sample_type(name: &str, data_type: &str) -> Result<SampleType> {
    let t = data_type.to_ascii_lowercase();
    Ok(match t.as_str() {
        "unsignedbyte" | "unsignedchar" | "unsigned8" | "uint8" => SampleType::U8,
        "signedbyte" | "signedchar" | "signed8" | "int8" => SampleType::I8,
        "unsignedshort" | "unsignedshortinteger" | "unsigned16" | "uint16" => SampleType::U16,
        "signedshort" | "signedshortinteger" | "signed16" | "int16" => SampleType::I16,
        "unsignedinteger" | "unsignedint" | "unsignedlong" | "unsigned32" | "uint32" => SampleType::U32,
        "signedinteger" | "signedint" | "signedlong" | "signed32" | "int32" | "integer" => SampleType::I32,
        "floatvalue" | "float" | "floatieee32" | "float32" | "real" => SampleType::F32,
        "doublevalue" | "double" | "floatieee64" | "doubleieee64" | "float64" => SampleType::F64,
        _ => {
            return Err(err(
                name,
                format!(
                    "EDF: unsupported DataType '{data_type}' (64-bit integers and unknown types are not read)"
                ),
            ));
        }
    })
}

fn dim(name: &str, block: &Block, key: &str, index: usize) -> Result<Option<u64>> {
    match block.get(key) {
        None => Ok(None),
        Some(v) => v
            .parse::<u64>()
            .map(Some)
            .map_err(|_| err(name, format!("EDF block {index}: {key} = '{v}' is not a whole number"))),
    }
}

/// Geometry of one block: (rows, cols, frames in the block, sample type, byte order, bytes the
/// block's data take).
struct Geometry {
    rows: u64,
    cols: u64,
    frames: u64,
    ty: SampleType,
    order: ByteOrder,
    frame_bytes: u64,
    block_bytes: u64,
}

fn geometry(name: &str, block: &Block, index: usize, limit: u64) -> Result<Geometry> {
    let cols = dim(name, block, "Dim_1", index)?
        .ok_or_else(|| err(name, format!("EDF block {index}: no Dim_1 (number of columns) in the header")))?;
    let rows = dim(name, block, "Dim_2", index)?
        .ok_or_else(|| err(name, format!("EDF block {index}: no Dim_2 (number of rows) in the header")))?;
    let frames = dim(name, block, "Dim_3", index)?.unwrap_or(1).max(1);
    let ty = sample_type(name, block.get("DataType").unwrap_or("UnsignedShort"))?;
    let order = match block.get("ByteOrder") {
        None => ByteOrder::Little,
        Some(o) if o.eq_ignore_ascii_case("LowByteFirst") => ByteOrder::Little,
        Some(o) if o.eq_ignore_ascii_case("HighByteFirst") => ByteOrder::Big,
        Some(o) => return Err(err(name, format!("EDF block {index}: unknown ByteOrder '{o}'"))),
    };
    if let Some(c) = block.get("Compression") {
        let c = c.to_ascii_lowercase();
        if !(c.is_empty() || c == "none" || c == "nocompression" || c == "no") {
            return Err(err(
                name,
                format!("EDF block {index}: unsupported compression '{c}' (only uncompressed data)"),
            ));
        }
    }
    let pixels = check_dims(name, &format!("EDF block {index}"), rows, cols, limit)? as u64;
    let frame_bytes = pixels * ty.size() as u64;
    let needed = frame_bytes
        .checked_mul(frames)
        .ok_or_else(|| err(name, format!("EDF block {index}: Dim_3 = {frames} frames is absurd")))?;
    let block_bytes = match dim(name, block, "Size", index)? {
        Some(s) if s < needed => {
            return Err(err(
                name,
                format!(
                    "EDF block {index}: Size = {s} bytes but {rows} × {cols} × {frames} samples of {} bytes need {needed}",
                    ty.size()
                ),
            ));
        }
        Some(s) => s,
        None => needed,
    };
    Ok(Geometry { rows, cols, frames, ty, order, frame_bytes, block_bytes })
}

/// At most this many blocks are walked (to count the frames).
const MAX_BLOCKS: usize = 1 << 20;

/// Reads frame [`ReadOptions::frame`] of an EDF file (frames counted over all blocks).
pub fn read_edf(bytes: &[u8], name: &str, options: &ReadOptions) -> Result<Frame> {
    let want = options.frame as u64;
    let mut start = 0usize;
    let mut index = 0usize;
    let mut seen = 0u64; // frames in the blocks walked so far
    let mut found: Option<(Block, Geometry, u64)> = None;
    // Walk the blocks up to the wanted frame, then on (headers only) to count them all.
    loop {
        let parsed = parse_block(bytes, start, name, index)
            .and_then(|b| Ok((geometry(name, &b, index, options.pixel_limit())?, b)));
        let (g, block) = match parsed {
            Ok(x) => x,
            Err(e) if found.is_none() => return Err(e),
            Err(_) => break, // something else after the frame read: stop counting there
        };
        let present = (bytes.len() - block.data_start) as u64;
        let end = (block.data_start as u64).saturating_add(g.block_bytes);
        let frames = g.frames;
        if found.is_none() && want < seen.saturating_add(frames) {
            let k = want - seen;
            check_budget(name, &format!("EDF block {index}"), (k + 1) * g.frame_bytes, present)?;
            found = Some((block, g, k));
        }
        seen = seen.saturating_add(frames);
        index += 1;
        if end >= bytes.len() as u64 || index >= MAX_BLOCKS {
            break;
        }
        start = end as usize;
        if bytes[start..].iter().all(|b| b.is_ascii_whitespace() || *b == 0) {
            break;
        }
    }
    match found {
        Some((block, g, k)) => decode(bytes, name, options, block, g, k, seen),
        None => Err(err(name, format!("EDF: no frame {want} (the file has {seen})"))),
    }
}

fn decode(
    bytes: &[u8],
    name: &str,
    options: &ReadOptions,
    block: Block,
    g: Geometry,
    k: u64,
    frame_count: u64,
) -> Result<Frame> {
    let at = block.data_start + (k * g.frame_bytes) as usize;
    let data = &bytes[at..at + g.frame_bytes as usize];
    let mut d = Decoded::new(g.rows as usize, g.cols as usize, decode_samples(data, g.ty, g.order));
    for (key, v) in &block.keys {
        d.metadata.insert(format!("edf.{key}"), v.clone());
    }
    let float = |key: &str| block.get(key).and_then(|v| v.split_whitespace().next()?.parse::<f64>().ok());
    if let Some(p) = float("PSize_1").filter(|p| *p > 0.0) {
        d.pixel_size_mm = Some(p * 1e3);
    }
    for key in ["count_time", "acq_expo_time", "ExposureTime", "exposure_time", "Exposure_sec"] {
        if let Some(t) = float(key) {
            d.metadata.insert("exposure_s".into(), num(t));
            break;
        }
    }
    if let Some(x) = float("SampleDistance") {
        d.metadata.insert("distance_mm".into(), num(x * 1e3));
    }
    if let Some(x) = float("Center_1") {
        d.metadata.insert("beam_x_px".into(), num(x));
    }
    if let Some(x) = float("Center_2") {
        d.metadata.insert("beam_y_px".into(), num(x));
    }
    if let Some(x) = float("WaveLength") {
        d.metadata.insert("wavelength_angstrom".into(), num(x * 1e10));
    }
    d.metadata.insert("frame_index".into(), options.frame.to_string());
    d.metadata.insert("frame_count".into(), frame_count.to_string());
    finish(d, ImageFormat::Edf, name, options)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::io::frame::Pixels;
    use crate::io::image::read_image;
    use crate::io::image::testutil::*;

    /// One EDF block: header padded to 512 bytes, then the data.
    fn block(keys: &[(&str, String)], data: &[u8]) -> Vec<u8> {
        let mut h = String::from("{\n");
        for (k, v) in keys {
            h.push_str(&format!("{k} = {v} ;\n"));
        }
        let len = (h.len() + 2).div_ceil(512) * 512;
        h.push_str(&" ".repeat(len - h.len() - 2));
        h.push_str("}\n");
        let mut out = h.into_bytes();
        out.extend_from_slice(data);
        out
    }

    fn keys(ty: &str, order: &str, rows: usize, cols: usize, size: usize) -> Vec<(&'static str, String)> {
        vec![
            ("HeaderID", "EH:000001:000000:000000".into()),
            ("ByteOrder", order.into()),
            ("DataType", ty.into()),
            ("Dim_1", cols.to_string()),
            ("Dim_2", rows.to_string()),
            ("Size", size.to_string()),
        ]
    }

    #[test]
    fn files_written_by_fabio_and_by_hand() {
        let f = read_image(&data("u16_fabio.edf"), "u16_fabio.edf", &ReadOptions::default()).unwrap();
        assert_eq!((f.rows, f.cols), (ROWS, COLS));
        assert_eq!(f.pixels, Pixels::U16(grid(u16_at, 0)));
        assert_eq!(f.metadata["exposure_s"], "0.5");
        assert_eq!(f.metadata["format"], "edf");
        assert_eq!(f.metadata["edf.DataType"], "UnsignedShort");
        assert_eq!(f.pixel_size_mm, Some(0.075));
        assert_eq!(f.detector, None);

        let f = read_image(&data("f32_fabio.edf"), "f32_fabio.edf", &ReadOptions::default()).unwrap();
        assert_eq!(f.pixels, Pixels::F32(grid(f32_at, 0)));
        assert_eq!(f.mask, None);

        let f = read_image(&data("i32_be.edf"), "i32_be.edf", &ReadOptions::default()).unwrap();
        assert_eq!(f.pixels, Pixels::I32(grid(i32_at, 0)));
        assert_eq!(f.metadata["exposure_s"], "2");
        assert_eq!(f.metadata["edf.ByteOrder"], "HighByteFirst");
    }

    #[test]
    fn data_types_and_byte_orders() {
        let vals: [f64; 6] = [0.0, 1.0, 2.5, 100.0, 120.0, 7.0];
        let cases: [(&str, usize); 9] = [
            ("UnsignedByte", 1),
            ("SignedByte", 1),
            ("UnsignedShort", 2),
            ("SignedShort", 2),
            ("UnsignedInteger", 4),
            ("SignedInteger", 4),
            ("UnsignedLong", 4),
            ("FloatValue", 4),
            ("DoubleValue", 8),
        ];
        for (ty, size) in cases {
            for (order, big) in [("LowByteFirst", false), ("HighByteFirst", true)] {
                let mut raw = Vec::new();
                for &v in &vals {
                    let mut b = match (ty, size) {
                        ("FloatValue", _) => (v as f32).to_le_bytes().to_vec(),
                        ("DoubleValue", _) => v.to_le_bytes().to_vec(),
                        ("SignedByte", _) => vec![v as i8 as u8],
                        (_, 1) => vec![v as u8],
                        (_, 2) => (v as u16).to_le_bytes().to_vec(),
                        _ => (v as u32).to_le_bytes().to_vec(),
                    };
                    if big {
                        b.reverse();
                    }
                    raw.extend(b);
                }
                let bytes = block(&keys(ty, order, 2, 3, raw.len()), &raw);
                let f = read_edf(&bytes, "t.edf", &ReadOptions::default()).unwrap();
                assert_eq!((f.rows, f.cols), (2, 3));
                let want: Vec<f64> = vals
                    .iter()
                    .map(|&v| if ty.starts_with("Float") || ty.starts_with("Double") { v } else { v.trunc() })
                    .collect();
                let got: Vec<f64> = (0..6).map(|i| f.pixels.get(i)).collect();
                assert_eq!(got, want, "{ty} {order}");
            }
        }
    }

    #[test]
    fn several_blocks_and_dim_3_are_frames() {
        let one: Vec<u8> = (0..6u16).flat_map(|v| v.to_le_bytes()).collect();
        let two: Vec<u8> = (10..22u16).flat_map(|v| v.to_le_bytes()).collect();
        let mut bytes = block(&keys("UnsignedShort", "LowByteFirst", 2, 3, 12), &one);
        let mut k = keys("UnsignedShort", "LowByteFirst", 2, 3, 24);
        k.push(("Dim_3", "2".into()));
        bytes.extend(block(&k, &two));
        bytes.extend(b"\n\0\0");
        for (frame, first) in [(0, 0.0), (1, 10.0), (2, 16.0)] {
            let o = ReadOptions { frame, ..Default::default() };
            let f = read_image(&bytes, "multi.edf", &o).unwrap();
            assert_eq!(f.at(0, 0), first, "frame {frame}");
            assert_eq!(f.metadata["frame_count"], "3");
            assert_eq!(f.metadata["frame_index"], frame.to_string());
        }
        let o = ReadOptions { frame: 3, ..Default::default() };
        let e = read_image(&bytes, "multi.edf", &o).unwrap_err().to_string();
        assert!(e.contains("no frame 3 (the file has 3)"), "{e}");
    }

    #[test]
    fn bad_headers_and_data() {
        let raw = vec![0u8; 12];
        let check = |bytes: &[u8], want: &str| {
            let e = read_edf(bytes, "bad.edf", &ReadOptions::default()).unwrap_err().to_string();
            assert!(e.starts_with("bad.edf: ") && e.contains(want), "{e} (wanted {want})");
        };
        let mut k = keys("UnsignedShort", "LowByteFirst", 2, 3, 12);
        k.remove(3);
        check(&block(&k, &raw), "no Dim_1");
        check(&block(&keys("Signed64", "LowByteFirst", 2, 3, 12), &raw), "unsupported DataType 'Signed64'");
        check(&block(&keys("UnsignedShort", "Middle", 2, 3, 12), &raw), "unknown ByteOrder");
        let mut k = keys("UnsignedShort", "LowByteFirst", 2, 3, 12);
        k.push(("Compression", "gzip".into()));
        check(&block(&k, &raw), "unsupported compression 'gzip'");
        check(&block(&keys("UnsignedShort", "LowByteFirst", 2, 3, 12), &raw[..5]), "needs 12 bytes");
        check(&block(&keys("UnsignedShort", "LowByteFirst", 2, 3, 4), &raw), "Size = 4 bytes");
        check(&block(&keys("UnsignedShort", "LowByteFirst", 0, 3, 0), &raw), "zero image dimension");
        check(
            &block(&keys("UnsignedShort", "LowByteFirst", 1 << 30, 1 << 30, 12), &raw),
            "over the limit of 268435456 pixels",
        );
        let mut k = keys("UnsignedShort", "LowByteFirst", 2, 3, 12);
        k[3].1 = "many".into();
        check(&block(&k, &raw), "Dim_1 = 'many' is not a whole number");
        check(b"{ Dim_1 = 3 ; Dim_2 = 2 ; no end", "no closing '}'");
        check(b"not edf", "does not start with '{'");
        let mut k = keys("UnsignedShort", "LowByteFirst", 2, 3, 12);
        k.push(("Dim_3", "18446744073709551615".into()));
        check(&block(&k, &raw), "absurd");
    }
}
