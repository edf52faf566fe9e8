//! HDF5 images through `hdf5-pure` (pure Rust, works in wasm): the dataset given by the caller,
//! else the Eiger layout `/entry/data/data`, the LIMA layout `/entry_0000/measurement/data`,
//! then the first image-like dataset of the file. A 2-D dataset is one image; a 3-D one is a
//! stack `[frame, row, col]` whose frame [`ReadOptions::frame`] is read (and only it).
//!
//! Filters decoded: deflate, shuffle, fletcher32, scale-offset, LZF. Others (bitshuffle, LZ4,
//! Blosc, Zstandard, ...) are refused by name before anything is read. Eiger/NeXus metadata are
//! kept when present: `x_pixel_size` (m), `count_time` (s), `detector_distance` (m),
//! `beam_center_x/y` (pixels), `incident_wavelength` (Å), and the detector's `pixel_mask`
//! (non-zero = bad pixel) joins the frame's mask.

use hdf5_pure::{DType, Dataset, File, Layout};

use super::{Decoded, ImageFormat, ReadOptions, check_budget, check_dims, err, finish, num};
use crate::error::{LaueError, Result};
use crate::io::frame::{Frame, Pixels};

const SIGNATURE: &[u8; 8] = b"\x89HDF\r\n\x1a\n";

/// Whether the bytes carry the HDF5 signature (at 0, 512, 1024, 2048, ... as a user block allows).
pub(crate) fn has_signature(bytes: &[u8]) -> bool {
    let mut at = 0usize;
    while at + 8 <= bytes.len() {
        if &bytes[at..at + 8] == SIGNATURE {
            return true;
        }
        at = if at == 0 { 512 } else { at * 2 };
    }
    false
}

/// Dataset paths tried, in order, when the caller gives none.
pub const DEFAULT_PATHS: [&str; 4] = [
    "entry/data/data",
    "entry_0000/measurement/data",
    "entry/instrument/detector/data",
    "entry/data/data_000001",
];

/// Filters hdf5-pure decodes.
const DECODED_FILTERS: [u16; 5] = [1, 2, 3, 6, 32000];

fn filter_name(id: u16) -> &'static str {
    match id {
        1 => "deflate",
        2 => "shuffle",
        3 => "fletcher32",
        4 => "szip",
        5 => "nbit",
        6 => "scale-offset",
        307 => "bzip2",
        32000 => "LZF",
        32001 => "Blosc",
        32004 => "LZ4",
        32008 => "bitshuffle",
        32013 => "ZFP",
        32015 => "Zstandard",
        32026 => "Blosc2",
        _ => "unknown",
    }
}

fn h5err(name: &str, what: &str, e: hdf5_pure::Error) -> LaueError {
    err(name, format!("HDF5: {what}: {e}"))
}

/// Reads one frame of an HDF5 image dataset.
pub fn read_hdf5(bytes: &[u8], name: &str, options: &ReadOptions) -> Result<Frame> {
    if !has_signature(bytes) {
        return Err(err(name, "HDF5: no HDF5 signature (not an HDF5 file)"));
    }
    let file = File::from_bytes(bytes.to_vec()).map_err(|e| h5err(name, "cannot open", e))?;
    let sb = file.superblock();
    let end = sb.base_address.get().saturating_add(sb.eof_address);
    if end > bytes.len() as u64 && sb.eof_address != u64::MAX {
        return Err(err(
            name,
            format!("HDF5: {}", beyond_end("the superblock's end of file", end, bytes.len() as u64)),
        ));
    }
    let (path, ds) = find_dataset(&file, name, options.dataset.as_deref())?;
    let shape = ds.shape().map_err(|e| h5err(name, &path, e))?;
    let (frames, rows, cols) = match shape[..] {
        [r, c] => (1, r, c),
        [n, r, c] => (n, r, c),
        _ => {
            return Err(err(
                name,
                format!(
                    "HDF5: dataset {path} has shape {}; an image needs 2 dimensions (3 for a stack)",
                    shape.iter().map(u64::to_string).collect::<Vec<_>>().join("×")
                ),
            ));
        }
    };
    let frame = options.frame as u64;
    if frame >= frames {
        return Err(err(name, format!("HDF5: dataset {path} has {frames} frames, no frame {frame}")));
    }
    let n = check_dims(name, &format!("HDF5 dataset {path}"), rows, cols, options.pixel_limit())?;

    let pipeline = ds.filter_pipeline();
    for f in &pipeline {
        if !DECODED_FILTERS.contains(&f.id) {
            let mut what = format!("the {} filter (HDF5 filter {}", filter_name(f.id), f.id);
            if f.id == 32008 {
                match f.client_data.get(4) {
                    Some(2) => what.push_str(", with LZ4"),
                    Some(3) => what.push_str(", with Zstandard"),
                    _ => {}
                }
            }
            if let Some(label) = f.name.as_deref().filter(|s| !s.is_empty()) {
                what.push_str(&format!(", \"{label}\""));
            }
            return Err(err(
                name,
                format!(
                    "HDF5: dataset {path} is compressed with {what}), which this reader cannot decode; \
                     readable filters: deflate (gzip), shuffle, fletcher32, scale-offset, LZF"
                ),
            ));
        }
    }
    let dtype = ds.dtype().map_err(|e| h5err(name, &path, e))?;
    let size = match dtype {
        DType::U8 | DType::I8 => 1,
        DType::U16 | DType::I16 => 2,
        DType::U32 | DType::I32 | DType::F32 => 4,
        DType::F64 => 8,
        _ => {
            return Err(err(
                name,
                format!(
                    "HDF5: dataset {path} does not hold image samples (its type is not one of 8/16/32-bit \
                     integers or 32/64-bit floats; damaged, or not a detector image)"
                ),
            ));
        }
    };
    let ratio = if pipeline.is_empty() { 1 } else { 1100 };
    check_budget(
        name,
        &format!("HDF5 dataset {path}"),
        n as u64 * size,
        (bytes.len() as u64).saturating_mul(ratio),
    )?;

    check_storage(&ds, name, &path, bytes.len() as u64)?;

    let stacked = shape.len() == 3;
    let ctx = |e| h5err(name, &format!("reading {path}"), e);
    macro_rules! read {
        ($whole:ident, $rows:ident) => {
            if stacked { ds.$rows(frame, 1) } else { ds.$whole() }.map_err(ctx)?
        };
    }
    let mut metadata = std::collections::BTreeMap::new();
    let pixels = match dtype {
        DType::U8 => Pixels::U8(read!(read_u8, read_u8_rows)),
        DType::I8 => Pixels::I32(read!(read_i8, read_i8_rows).into_iter().map(i32::from).collect()),
        DType::U16 => Pixels::U16(read!(read_u16, read_u16_rows)),
        DType::I16 => Pixels::I32(read!(read_i16, read_i16_rows).into_iter().map(i32::from).collect()),
        DType::U32 => Pixels::U32(read!(read_u32, read_u32_rows)),
        DType::I32 => Pixels::I32(read!(read_i32, read_i32_rows)),
        DType::F32 => Pixels::F32(read!(read_f32, read_f32_rows)),
        _ => {
            metadata.insert("converted".into(), "f64 pixels narrowed to f32".into());
            Pixels::F32(read!(read_f64, read_f64_rows).into_iter().map(|x| x as f32).collect())
        }
    };
    if pixels.len() != n {
        return Err(err(
            name,
            format!("HDF5: dataset {path}: read {} values for {rows} × {cols}", pixels.len()),
        ));
    }
    let mut d = Decoded::new(rows as usize, cols as usize, pixels);
    d.metadata = metadata;
    d.stack = frames > 1;
    d.metadata.insert("hdf5.dataset".into(), format!("/{}", path.trim_start_matches('/')));
    d.metadata.insert("hdf5.dtype".into(), dtype.to_string());
    d.metadata.insert("frame_index".into(), frame.to_string());
    d.metadata.insert("frame_count".into(), frames.to_string());
    if !pipeline.is_empty() {
        let names: Vec<&str> = pipeline.iter().map(|f| filter_name(f.id)).collect();
        d.metadata.insert("hdf5.filters".into(), names.join(","));
    }
    nexus_metadata(&file, &mut d, bytes.len() as u64);
    finish(d, ImageFormat::Hdf5, name, options)
}

/// Words for an address past the end of the file: a copy cut short ends a little early (within twice
/// the file's length); an address far beyond (a flipped high bit, a damaged header) is a corrupt file,
/// not a truncated one.
fn beyond_end(what: &str, end: u64, len: u64) -> String {
    if end <= len.saturating_mul(2) {
        format!("truncated or damaged: {what} at byte {end}, the file has {len} bytes (an interrupted copy?)")
    } else {
        format!(
            "corrupt file: {what} at byte {end}, far beyond the file's {len} bytes (a damaged header, not a \
             complete HDF5 file)"
        )
    }
}

#[cfg(test)]
#[test]
fn beyond_end_words() {
    assert!(beyond_end("x", 34_359_754_592, 16_724).starts_with("corrupt file: x at byte 34359754592"));
    assert!(beyond_end("x", 20_000, 16_724).starts_with("truncated or damaged"));
}

/// Refuses data stored beyond the end of the file: the reader would size buffers from those
/// addresses before finding out.
fn check_storage(ds: &Dataset, name: &str, path: &str, len: u64) -> Result<()> {
    let beyond = |address: u64, size: u64| -> Result<()> {
        let end = address.saturating_add(size);
        if end > len {
            Err(err(
                name,
                format!(
                    "HDF5: dataset {path}: {}",
                    beyond_end(&format!("{size} bytes of data at byte {address}, ending"), end, len)
                ),
            ))
        } else {
            Ok(())
        }
    };
    match ds.layout() {
        Ok(Layout::Contiguous { address: Some(address), size }) => beyond(address, size),
        Ok(Layout::Chunked { .. }) => match ds.chunks() {
            Ok(chunks) => chunks.iter().try_for_each(|c| beyond(c.address, c.storage_size)),
            // An index this crate cannot enumerate: left to the read.
            Err(_) => Ok(()),
        },
        _ => Ok(()),
    }
}

/// The dataset to read: the caller's, else the usual layouts, else the first image-like one.
fn find_dataset(file: &File, name: &str, given: Option<&str>) -> Result<(String, Dataset)> {
    if let Some(p) = given {
        let path = p.trim_start_matches('/');
        return match file.dataset(path) {
            Ok(ds) => Ok((format!("/{path}"), ds)),
            Err(e) => Err(err(name, format!("HDF5: no dataset {p}: {e}"))),
        };
    }
    for p in DEFAULT_PATHS {
        if let Ok(ds) = file.dataset(p) {
            return Ok((format!("/{p}"), ds));
        }
    }
    // Walk the groups (bounded) for 2-D or 3-D numeric datasets, preferring one called "data",
    // then the largest.
    let mut best: Option<(bool, u64, String)> = None;
    let mut queue: Vec<(String, usize)> = vec![(String::new(), 0)];
    let mut visited = 0usize;
    while let Some((group_path, depth)) = queue.pop() {
        visited += 1;
        if visited > 200 {
            break;
        }
        let group = if group_path.is_empty() { Ok(file.root()) } else { file.group(&group_path) };
        let Ok(group) = group else { continue };
        let join = |child: &str| {
            if group_path.is_empty() { child.to_string() } else { format!("{group_path}/{child}") }
        };
        if let Ok(names) = group.datasets() {
            for child in names.iter().take(200) {
                let path = join(child);
                let Ok(ds) = file.dataset(&path) else { continue };
                let Ok(shape) = ds.shape() else { continue };
                let numeric = matches!(
                    ds.dtype(),
                    Ok(DType::U8
                        | DType::I8
                        | DType::U16
                        | DType::I16
                        | DType::U32
                        | DType::I32
                        | DType::F32
                        | DType::F64)
                );
                if !numeric || !(2..=3).contains(&shape.len()) || shape.iter().rev().take(2).any(|&s| s < 2) {
                    continue;
                }
                let size = shape.iter().rev().take(2).fold(1u64, |a, &b| a.saturating_mul(b));
                let key = (child == "data", size, path);
                if best.as_ref().is_none_or(|b| (key.0, key.1) > (b.0, b.1)) {
                    best = Some(key);
                }
            }
        }
        if depth < 8
            && let Ok(groups) = group.groups()
        {
            for child in groups.iter().take(200) {
                queue.push((join(child), depth + 1));
            }
        }
    }
    match best {
        Some((_, _, path)) => match file.dataset(&path) {
            Ok(ds) => Ok((format!("/{path}"), ds)),
            Err(e) => Err(h5err(name, &path, e)),
        },
        None => Err(err(
            name,
            format!(
                "HDF5: no image dataset ({} absent, and no 2-D or 3-D numeric dataset found); give the dataset path",
                DEFAULT_PATHS.map(|p| format!("/{p}")).join(", ")
            ),
        )),
    }
}

/// A scalar number stored at `path`, if there is one.
fn scalar(file: &File, path: &str, len: u64) -> Option<f64> {
    let ds = file.dataset(path).ok()?;
    let shape = ds.shape().ok()?;
    if shape.iter().any(|&s| s != 1) || check_storage(&ds, "", path, len).is_err() {
        return None;
    }
    let v = if matches!(ds.dtype(), Ok(DType::F32)) {
        // The decimal the writer meant (75e-6 stored as f32 is 7.5000004e-5 as f64).
        let x = *ds.read_f32().ok()?.first()?;
        x.to_string().parse::<f64>().ok()?
    } else {
        *ds.read_f64().ok()?.first()?
    };
    v.is_finite().then_some(v)
}

/// Eiger/NeXus and LIMA metadata, and the detector's pixel mask.
fn nexus_metadata(file: &File, d: &mut Decoded, len: u64) {
    let det = "entry/instrument/detector";
    if let Some(px) = scalar(file, &format!("{det}/x_pixel_size"), len).filter(|&p| p > 0.0) {
        d.pixel_size_mm = Some(px * 1e3);
    }
    if let Some(t) = scalar(file, &format!("{det}/count_time"), len) {
        d.metadata.insert("exposure_s".into(), num(t));
    }
    if let Some(x) = scalar(file, &format!("{det}/detector_distance"), len) {
        d.metadata.insert("distance_mm".into(), num(x * 1e3));
    }
    if let Some(x) = scalar(file, &format!("{det}/beam_center_x"), len) {
        d.metadata.insert("beam_x_px".into(), num(x));
    }
    if let Some(x) = scalar(file, &format!("{det}/beam_center_y"), len) {
        d.metadata.insert("beam_y_px".into(), num(x));
    }
    if let Some(x) = scalar(file, "entry/instrument/beam/incident_wavelength", len) {
        d.metadata.insert("wavelength_angstrom".into(), num(x));
    }
    // LIMA: /entry_0000/instrument/<camera>/acquisition/exposure_time
    if !d.metadata.contains_key("exposure_s")
        && let Ok(cameras) = file.group("entry_0000/instrument").and_then(|g| g.groups())
    {
        for cam in cameras.iter().take(50) {
            if let Some(t) =
                scalar(file, &format!("entry_0000/instrument/{cam}/acquisition/exposure_time"), len)
            {
                d.metadata.insert("exposure_s".into(), num(t));
                break;
            }
        }
    }
    // The detector's own bad-pixel map.
    if let Ok(ds) = file.dataset(&format!("{det}/detectorSpecific/pixel_mask"))
        && ds.shape().ok().as_deref() == Some(&[d.rows as u64, d.cols as u64][..])
        && check_storage(&ds, "", "pixel_mask", len).is_ok()
        && let Ok(m) = ds.read_u32()
        && m.len() == d.rows * d.cols
    {
        let bad = m.iter().filter(|&&v| v != 0).count();
        d.metadata.insert("hdf5.pixel_mask_bad".into(), bad.to_string());
        d.mask = Some(m.iter().map(|&v| v != 0).collect());
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::io::image::read_image;
    use crate::io::image::testutil::*;

    fn opts(frame: usize, dataset: Option<&str>) -> ReadOptions {
        ReadOptions { frame, dataset: dataset.map(String::from), ..Default::default() }
    }

    #[test]
    fn eiger_stack_frames_sentinels_mask_and_metadata() {
        let bytes = data("eiger_stack.h5");
        for frame in 0..3 {
            let f = read_image(&bytes, "eiger_stack.h5", &opts(frame, None)).unwrap();
            assert_eq!((f.rows, f.cols), (ROWS, COLS));
            let mut want = grid(u32_at, frame);
            for c in 0..COLS {
                want[10 * COLS + c] = u32::MAX;
            }
            if frame == 1 {
                want[20 * COLS + 30] = u32::MAX;
            }
            assert_eq!(f.pixels, Pixels::U32(want), "frame {frame}");
            // gap row + pixel_mask (2 pixels) [+ the dead pixel of frame 1]
            let masked = COLS + 2 + usize::from(frame == 1);
            assert_eq!(f.masked_count(), masked);
            assert!(f.is_masked(0) && f.is_masked(10 * COLS + 5) && f.is_masked(ROWS * COLS - 1));
            assert!(!f.is_masked(1));
            let m = &f.metadata;
            assert_eq!(m["format"], "hdf5");
            assert_eq!(m["hdf5.dataset"], "/entry/data/data");
            assert_eq!(m["frame_count"], "3");
            assert_eq!(m["frame_index"], frame.to_string());
            assert_eq!(m["exposure_s"], "0.5");
            assert_eq!(m["distance_mm"], "70");
            assert_eq!(m["beam_x_px"], "26.5");
            assert_eq!(m["wavelength_angstrom"], "0.7");
            assert_eq!(m["masked_pixels"], masked.to_string());
            assert_eq!(f.pixel_size_mm, Some(0.075));
        }
        let e = read_image(&bytes, "eiger_stack.h5", &opts(3, None)).unwrap_err().to_string();
        assert!(e.contains("has 3 frames, no frame 3"), "{e}");
    }

    #[test]
    fn lima_layout_and_a_given_path() {
        let bytes = data("lima_stack.h5");
        let f = read_image(&bytes, "lima.h5", &opts(1, None)).unwrap();
        assert_eq!(f.pixels, Pixels::U16(grid(u16_at, 1)));
        assert_eq!(f.metadata["hdf5.dataset"], "/entry_0000/measurement/data");
        assert_eq!(f.metadata["exposure_s"], "0.25");
        assert_eq!(f.mask, None);

        let bytes = data("custom_f32.h5");
        for path in [None, Some("/results/image"), Some("results/image")] {
            let f = read_image(&bytes, "custom.h5", &opts(0, path)).unwrap();
            let Pixels::F32(v) = &f.pixels else { panic!("{:?}", f.pixels.type_name()) };
            assert!(v[2 * COLS + 3].is_nan() && v[4 * COLS + 5] == f32::INFINITY);
            assert_eq!(v[7 * COLS + 8], f32_at(7, 8, 0));
            assert_eq!(f.metadata["nonfinite_pixels"], "2");
            assert_eq!(f.masked_count(), 2);
            assert_eq!(f.metadata["hdf5.dataset"], "/results/image");
        }
        let e = read_image(&bytes, "custom.h5", &opts(0, Some("/nope"))).unwrap_err().to_string();
        assert!(e.starts_with("custom.h5: HDF5: no dataset /nope"), "{e}");
        let e = read_image(&bytes, "custom.h5", &opts(1, None)).unwrap_err().to_string();
        assert!(e.contains("has 1 frames, no frame 1"), "{e}");
    }

    #[test]
    fn undecodable_filters_are_named() {
        let e =
            read_image(&data("bitshuffle_lz4.h5"), "bs.h5", &ReadOptions::default()).unwrap_err().to_string();
        assert!(e.contains("bitshuffle filter (HDF5 filter 32008, with LZ4"), "{e}");
        let e = read_image(&data("lz4.h5"), "lz4.h5", &ReadOptions::default()).unwrap_err().to_string();
        assert!(e.contains("LZ4 filter (HDF5 filter 32004"), "{e}");
    }

    #[test]
    fn broken_files_are_errors() {
        let good = data("eiger_stack.h5");
        for cut in [8, 100, 600, 2000, good.len() / 2, good.len() - 100] {
            let r = read_image(&good[..cut], "cut.h5", &ReadOptions::default());
            let e = r.expect_err(&format!("cut at {cut}")).to_string();
            assert!(e.starts_with("cut.h5: HDF5: "), "{e}");
        }
        let e = read_hdf5(b"not hdf5 at all", "x.h5", &ReadOptions::default()).unwrap_err();
        assert!(e.to_string().contains("no HDF5 signature"), "{e}");
        assert!(has_signature(&[&[0u8; 512][..], &SIGNATURE[..]].concat()));
        assert!(!has_signature(&SIGNATURE[..7]));
    }
}
