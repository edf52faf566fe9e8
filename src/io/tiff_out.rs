//! Writing 16-bit grey TIFF images (synthetic frames), into any writer so it works in the browser too.

use std::io::{Seek, Write};

use crate::error::{LaueError, Result};

/// Writes a rows × cols 16-bit image (row-major pixels) as an uncompressed little-endian TIFF.
pub fn write_tiff_u16<W: Write + Seek>(
    out: W,
    rows: usize,
    cols: usize,
    pixels: &[u16],
    name: &str,
) -> Result<()> {
    if pixels.len() != rows * cols {
        return Err(LaueError::Write {
            file: name.into(),
            reason: format!("{} pixels for a {rows}×{cols} frame", pixels.len()),
        });
    }
    let err = |e: tiff::TiffError| LaueError::Write { file: name.into(), reason: e.to_string() };
    let mut enc = tiff::encoder::TiffEncoder::new(out).map_err(err)?;
    enc.write_image::<tiff::encoder::colortype::Gray16>(cols as u32, rows as u32, pixels).map_err(err)?;
    Ok(())
}

/// The TIFF as bytes.
pub fn tiff_u16_bytes(rows: usize, cols: usize, pixels: &[u16]) -> Result<Vec<u8>> {
    let mut cur = std::io::Cursor::new(Vec::new());
    write_tiff_u16(&mut cur, rows, cols, pixels, "memory")?;
    Ok(cur.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_through_the_tiff_decoder() {
        let pixels: Vec<u16> = (0..6 * 4).map(|i| (i * 2700) as u16).collect();
        let bytes = tiff_u16_bytes(6, 4, &pixels).unwrap();
        let mut dec = tiff::decoder::Decoder::new(std::io::Cursor::new(bytes)).unwrap();
        assert_eq!(dec.dimensions().unwrap(), (4, 6));
        match dec.read_image().unwrap() {
            tiff::decoder::DecodingResult::U16(v) => assert_eq!(v, pixels),
            other => panic!("unexpected {other:?}"),
        }
        assert!(tiff_u16_bytes(2, 2, &[1, 2, 3]).is_err());
    }
}
