//! Reading the user's input files, with limits checked before anything is allocated:
//!
//! - only regular files are read (a device such as `/dev/zero`, a FIFO or a folder is refused: it
//!   could be read until memory runs out, or never end);
//! - a file larger than the limit is refused from its size: images [`IMAGE_FILE_BYTES`] (4 GiB,
//!   `LAUEKIT_MAX_FILE_BYTES`), text files (`.cor`, `.dat`, `.det`, `.fit`, `.psp`, JSON)
//!   [`TEXT_FILE_BYTES`] (256 MiB, `LAUEKIT_MAX_TEXT_BYTES`); the read stops at the limit should the file
//!   grow meanwhile;
//! - an image's frame is at most [`lauekit::io::image::MAX_PIXELS`] pixels (16384²), checked from its
//!   header; `LAUEKIT_MAX_IMAGE_PIXELS` changes it;
//! - text is decoded as LaueTools' files come (UTF-8 with or without a byte-order mark, UTF-16 with one,
//!   Latin-1 otherwise: [`lauekit::io::text::decode`]).
//!
//! Reading a multi-frame image (HDF5 stack, multi-page TIFF, multi-block EDF) without `--frame` reads
//! frame 0 and says on stderr how many there are; masked and NaN/±Inf pixels are reported on stderr too
//! (the peak search keeps them out of detection and fits, see `lauekit::peaks`). `--mask FILE` (PNG, or
//! HDF5 as `FILE.h5` or `FILE.h5:/path/to/dataset`) adds a mask to every image a command reads.

use std::io::Read;
use std::path::Path;

use anyhow::Result;
use lauekit::LaueError;
use lauekit::io::image::IMAGE_PIXELS;
use lauekit::io::{Frame, MaskImage, ReadOptions, apply_mask, read_image, read_mask};
use lauekit::limits::Limit;

/// Largest image file read: 4 GiB (`LAUEKIT_MAX_FILE_BYTES` overrides it).
pub const IMAGE_FILE_BYTES: Limit = Limit { env: "LAUEKIT_MAX_FILE_BYTES", default: 4 << 30 };
/// Largest text file read (`.cor`, `.dat`, `.det`, `.fit`, `.psp`, JSON): 256 MiB, a `.cor` of 100 000
/// peaks is about 10 MB (`LAUEKIT_MAX_TEXT_BYTES` overrides it).
pub const TEXT_FILE_BYTES: Limit = Limit { env: "LAUEKIT_MAX_TEXT_BYTES", default: 256 << 20 };

/// The bytes of the regular file `path`, refused when larger than `limit` (`kind` names the limit).
fn read_limited(path: &Path, limit: Limit, kind: &str) -> Result<Vec<u8>> {
    let mut bytes = Vec::new();
    read_limited_into(path, limit, kind, &mut bytes)?;
    Ok(bytes)
}

/// [`read_limited`] into `bytes` (cleared first; its capacity is reused).
fn read_limited_into(path: &Path, limit: Limit, kind: &str, bytes: &mut Vec<u8>) -> Result<()> {
    bytes.clear();
    let (env, limit) = (limit.env, limit.value());
    let name = path.display().to_string();
    let read_err = |e: std::io::Error| LaueError::Read { file: name.clone(), reason: e.to_string() };
    let meta = std::fs::metadata(path).map_err(read_err)?;
    if !meta.is_file() {
        let what = if meta.is_dir() { "a folder" } else { "not a regular file (a device, FIFO or socket)" };
        return Err(LaueError::Read {
            file: name,
            reason: format!("{what}; lauekit reads {kind}s from regular files only"),
        }
        .into());
    }
    let too_big = |size: String| -> anyhow::Error {
        LaueError::limit(
            format!("{name}: size of this {kind}"),
            size,
            format!("{limit} bytes"),
            format!("set {env}=N to read larger files"),
        )
        .into()
    };
    if meta.len() > limit {
        return Err(too_big(format!("{} bytes", meta.len())));
    }
    let file = std::fs::File::open(path).map_err(read_err)?;
    bytes.reserve(usize::try_from(meta.len()).unwrap_or(0));
    file.take(limit.saturating_add(1)).read_to_end(bytes).map_err(read_err)?;
    if bytes.len() as u64 > limit {
        return Err(too_big(format!("more than {limit} bytes (the file grew while read)")));
    }
    Ok(())
}

/// The bytes of an image file into `bytes` (its capacity reused), within the file-size limit.
pub fn read_image_into(path: &Path, bytes: &mut Vec<u8>) -> Result<()> {
    read_limited_into(path, IMAGE_FILE_BYTES, "image", bytes)
}

/// The bytes of an image file, within the file-size limit.
pub fn read_image_bytes(path: &Path) -> Result<Vec<u8>> {
    read_limited(path, IMAGE_FILE_BYTES, "image")
}

/// The text of a LaueTools or JSON file (any of the encodings LaueTools' files come in), within the
/// file-size limit.
pub fn read_text(path: &Path) -> Result<String> {
    let bytes = read_limited(path, TEXT_FILE_BYTES, "text file")?;
    Ok(lauekit::io::text::decode(&bytes, &path.display().to_string())?)
}

/// The `--mask` file, read once before the command runs.
static MASK: std::sync::OnceLock<MaskImage> = std::sync::OnceLock::new();

/// Reads the `--mask` argument: a PNG, or an HDF5 file with an optional `:/dataset/path` after its name.
pub fn load_mask(arg: &Path) -> Result<()> {
    let text = arg.to_string_lossy();
    let (file, dataset) = match text.find(":/") {
        // "C:/..." on Windows is a drive, not a dataset.
        Some(i) if i > 1 && !Path::new(text.as_ref()).exists() => (&text[..i], Some(&text[i + 1..])),
        _ => (text.as_ref(), None),
    };
    let bytes = read_limited(Path::new(file), IMAGE_FILE_BYTES, "mask")?;
    let mask = read_mask(&bytes, file, dataset)?;
    errln!("lauekit: note: mask {file}: {} of {}×{} pixels masked", mask.count(), mask.rows, mask.cols);
    let _ = MASK.set(mask);
    Ok(())
}

/// The frame with the `--mask` file's pixels added to its own mask (an error naming both files when the
/// sizes differ); unchanged without `--mask`.
pub fn with_mask(mut frame: Frame) -> lauekit::error::Result<Frame> {
    if let Some(m) = MASK.get() {
        apply_mask(&mut frame, m)?;
    }
    Ok(frame)
}

/// Read options for one image: the detector label, the frame (`None`: frame 0), the pixel limit of
/// `LAUEKIT_MAX_IMAGE_PIXELS`.
pub fn image_options(detector: Option<&str>, frame: Option<usize>) -> ReadOptions {
    ReadOptions {
        detector: detector.map(str::to_string),
        frame: frame.unwrap_or(0),
        max_pixels: Some(IMAGE_PIXELS.value()),
        ..ReadOptions::default()
    }
}

/// Decodes one image from `bytes` (read from `path`), then says on stderr what a user must know: a
/// stack read at frame 0 because no `--frame` was given, pixels masked.
pub fn decode_frame(
    bytes: &[u8],
    path: &Path,
    detector: Option<&str>,
    frame: Option<usize>,
) -> Result<Frame> {
    decode_frame_flag(bytes, path, detector, frame, "--frame")
}

/// [`decode_frame`] for a command whose frame flag is called `flag`.
fn decode_frame_flag(
    bytes: &[u8],
    path: &Path,
    detector: Option<&str>,
    frame: Option<usize>,
    flag: &str,
) -> Result<Frame> {
    let name = path.display().to_string();
    let f = with_mask(read_image(bytes, &name, &image_options(detector, frame))?)?;
    let count = f.metadata.get("frame_count").and_then(|c| c.parse::<usize>().ok()).unwrap_or(1);
    if frame.is_none() && count > 1 {
        errln!("lauekit: warning: {name} holds {count} frames; reading frame 0 (choose one with {flag} N)");
    }
    let nonfinite = f.metadata.get("nonfinite_pixels").and_then(|c| c.parse::<usize>().ok()).unwrap_or(0);
    let masked = f.masked_count();
    if masked > 0 {
        let nan =
            if nonfinite > 0 { format!(" ({nonfinite} of them NaN or infinite)") } else { String::new() };
        errln!(
            "lauekit: note: {name}: {masked} pixels masked{nan}; the peak search keeps them out of detection \
             and fits"
        );
    }
    Ok(f)
}

/// Reads and decodes one image file (see [`decode_frame`]).
pub fn read_frame(path: &Path, detector: Option<&str>, frame: Option<usize>) -> Result<Frame> {
    read_frame_flag(path, detector, frame, "--frame")
}

/// [`read_frame`] for a command whose frame flag is called `flag`.
pub fn read_frame_flag(
    path: &Path,
    detector: Option<&str>,
    frame: Option<usize>,
    flag: &str,
) -> Result<Frame> {
    let bytes = read_image_bytes(path)?;
    decode_frame_flag(&bytes, path, detector, frame, flag)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn devices_folders_and_big_files_are_refused_before_reading() {
        let e = read_limited(Path::new("/dev/zero"), IMAGE_FILE_BYTES, "image").unwrap_err().to_string();
        assert_eq!(
            e,
            "/dev/zero: could not read: not a regular file (a device, FIFO or socket); lauekit reads images \
             from regular files only"
        );
        let e = read_limited(Path::new("/"), TEXT_FILE_BYTES, "text file").unwrap_err().to_string();
        assert!(e.contains("a folder"), "{e}");
        let dir = std::env::temp_dir().join(format!("lauekit-input-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let f = dir.join("ten.bin");
        std::fs::write(&f, [7u8; 10]).unwrap();
        let ten = Limit { env: "LAUEKIT_TEST_UNSET_LIMIT", default: 10 };
        assert_eq!(read_limited(&f, ten, "image").unwrap(), [7u8; 10]);
        let nine = Limit { default: 9, ..ten };
        let e = read_limited(&f, nine, "image").unwrap_err().to_string();
        assert!(e.contains("size of this image = 10 bytes is over the limit of 9 bytes"), "{e}");
        assert!(e.contains("set LAUEKIT_TEST_UNSET_LIMIT=N"), "{e}");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
