//! Mask files: a PNG (8- or 16-bit grey) or an HDF5 dataset the size of the image, any non-zero pixel
//! masked; combined (OR) with the mask the image file carries itself.

use super::{ReadOptions, err, read_hdf5, read_png};
use crate::error::Result;
use crate::io::frame::Frame;

/// A pixel mask read from a file: `true` = do not use.
#[derive(Debug, Clone, PartialEq)]
pub struct MaskImage {
    pub rows: usize,
    pub cols: usize,
    pub mask: Vec<bool>,
    /// the mask file (for messages)
    pub source: String,
}

impl MaskImage {
    /// Number of masked pixels.
    pub fn count(&self) -> usize {
        self.mask.iter().filter(|&&m| m).count()
    }
}

/// HDF5 datasets tried, in order, when no path is given (DECTRIS' and common layouts).
const HDF5_MASK_PATHS: [&str; 6] = [
    "/mask",
    "/pixel_mask",
    "/entry/instrument/detector/detectorSpecific/pixel_mask",
    "/entry/instrument/detector/pixel_mask",
    "/entry/mask",
    "/data/mask",
];

/// Reads a mask from the bytes of file `name`: PNG, or HDF5 (`dataset` = its path; None = the first of
/// `/mask`, `/pixel_mask`, DECTRIS' `.../detectorSpecific/pixel_mask`, ...). Any non-zero pixel is masked.
pub fn read_mask(bytes: &[u8], name: &str, dataset: Option<&str>) -> Result<MaskImage> {
    let frame = if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
        read_png(bytes, name, &ReadOptions::default())?
    } else if super::hdf5::has_signature(bytes) {
        match dataset {
            Some(d) => {
                read_hdf5(bytes, name, &ReadOptions { dataset: Some(d.to_string()), ..Default::default() })?
            }
            None => HDF5_MASK_PATHS
                .iter()
                .find_map(|d| {
                    read_hdf5(
                        bytes,
                        name,
                        &ReadOptions { dataset: Some(d.to_string()), ..Default::default() },
                    )
                    .ok()
                })
                .ok_or_else(|| {
                    err(
                        name,
                        format!(
                            "mask: no dataset {} in this HDF5 file; give its path as {name}:/path/to/mask",
                            HDF5_MASK_PATHS.join(", ")
                        ),
                    )
                })?,
        }
    } else {
        return Err(err(name, "mask: not a PNG or HDF5 file (a mask is a grey PNG or an HDF5 dataset)"));
    };
    // The value decides, not the reader's own masking (an Eiger pixel_mask holds 1, 2, 4, ... flags).
    let mask = (0..frame.pixels.len()).map(|i| frame.pixels.get(i) != 0.0).collect();
    Ok(MaskImage { rows: frame.rows, cols: frame.cols, mask, source: name.to_string() })
}

/// Adds `mask` to the frame's own mask (OR). The sizes must agree; `masked_pixels` and `mask_file` in
/// the metadata follow.
pub fn apply_mask(frame: &mut Frame, mask: &MaskImage) -> Result<()> {
    if (mask.rows, mask.cols) != (frame.rows, frame.cols) || mask.mask.len() != frame.pixels.len() {
        return Err(err(
            &mask.source,
            format!(
                "mask is {} rows × {} columns but the image {} is {} × {}",
                mask.rows, mask.cols, frame.source, frame.rows, frame.cols
            ),
        ));
    }
    let n = frame.pixels.len();
    let m = frame.mask.get_or_insert_with(|| vec![false; n]);
    m.resize(n, false);
    for (a, &b) in m.iter_mut().zip(&mask.mask) {
        *a |= b;
    }
    let count = frame.masked_count();
    frame.metadata.insert("masked_pixels".into(), count.to_string());
    frame.metadata.insert("mask_file".into(), mask.source.clone());
    if count == 0 {
        frame.mask = None;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::io::image::read_image;
    use crate::io::image::testutil::data;

    #[test]
    fn png_and_hdf5_masks() {
        // tests/data/images/mask_*.{png,h5}: 37 × 53, masked = column 5 and rows 10..12 (141 pixels).
        let expect = |r: usize, c: usize| c == 5 || (10..12).contains(&r);
        for (file, dataset) in [
            ("mask_u8.png", None),
            ("mask_u16.png", None),
            ("mask.h5", None),
            ("mask.h5", Some("/entry/bad_pixels")),
        ] {
            let m = read_mask(&data(file), file, dataset).unwrap();
            assert_eq!((m.rows, m.cols), (37, 53), "{file}");
            assert_eq!(m.count(), 37 + 2 * 53 - 2, "{file} {dataset:?}");
            assert!((0..37 * 53).all(|i| m.mask[i] == expect(i / 53, i % 53)), "{file}");
        }
        // Combined with a mask the image already has (its first row, 53 pixels, one of them also in the file).
        let mut frame = read_image(
            &data("u16_le_tiles_deflate.tif"),
            "u16_le_tiles_deflate.tif",
            &ReadOptions::default(),
        )
        .unwrap();
        frame.mask = Some((0..37 * 53).map(|i| i < 53).collect());
        apply_mask(&mut frame, &read_mask(&data("mask_u8.png"), "mask_u8.png", None).unwrap()).unwrap();
        assert_eq!(frame.masked_count(), 141 + 53 - 1);
        assert_eq!(frame.metadata["masked_pixels"], "193");
    }

    #[test]
    fn bad_masks_are_clear_errors() {
        let e = read_mask(b"hello", "m.txt", None).unwrap_err().to_string();
        assert!(e.contains("m.txt") && e.contains("not a PNG or HDF5"), "{e}");
        let e = read_mask(&data("mask.h5"), "mask.h5", Some("/nope")).unwrap_err().to_string();
        assert!(e.contains("mask.h5"), "{e}");
        let small = MaskImage { rows: 2, cols: 3, mask: vec![true; 6], source: "small.png".into() };
        let mut frame = read_image(
            &data("u16_le_tiles_deflate.tif"),
            "u16_le_tiles_deflate.tif",
            &ReadOptions::default(),
        )
        .unwrap();
        let e = apply_mask(&mut frame, &small).unwrap_err().to_string();
        assert!(
            e.contains("small.png")
                && e.contains("2 rows × 3 columns")
                && e.contains("u16_le_tiles_deflate.tif is 37 × 53"),
            "{e}"
        );
    }
}
