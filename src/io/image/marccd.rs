//! MarCCD `.mccd` images: a TIFF whose first 4096 bytes hold, from byte 1024, the 3072-byte
//! MarCCD `frame_header` (the C struct published by Mar/Rayonix, in the byte order of the
//! machine that wrote it, given by its `header_byte_order` field: 1234 little, 4321 big endian).
//!
//! Its fields are kept under their C names as `marccd.<name>`, raw (the integers fabio reports),
//! with their units: `xtal_to_detector` (distance, mm × 1000), `beam_x`, `beam_y` (beam centre,
//! pixels × 1000), `exposure_time`, `integration_time`, `readout_time` (ms), angles (degrees ×
//! 1000), `pixelsize_x`, `pixelsize_y` (nm), `source_wavelength` (fm), and strings (`filename`,
//! `acquire_timestamp`, `file_comments`, ...). The common keys are derived from them:
//! `distance_mm`, `beam_x_px`, `beam_y_px`, `exposure_s`, `wavelength_angstrom`, and the pixel
//! size (`pixel_size_file_mm`, µm from the header).

use super::tiff::decode_tiff;
use super::{Decoded, ImageFormat, ReadOptions, finish, num};
use crate::error::Result;
use crate::io::frame::Frame;

/// Where the frame header starts in the file, and its size.
pub const HEADER_OFFSET: usize = 1024;
pub const HEADER_SIZE: usize = 3072;

/// Integer fields of `frame_header`: (offset from the header start, name, signed).
const INT_FIELDS: &[(usize, &str, bool)] = &[
    (0, "header_type", false),
    (20, "header_major_version", false),
    (24, "header_minor_version", false),
    (28, "header_byte_order", false),
    (32, "data_byte_order", false),
    (36, "header_size", false),
    (40, "frame_type", false),
    (44, "magic_number", false),
    (48, "compression_type", false),
    (52, "compression1", false),
    (56, "compression2", false),
    (60, "compression3", false),
    (64, "compression4", false),
    (68, "compression5", false),
    (72, "compression6", false),
    (76, "nheaders", false),
    (80, "nfast", false),
    (84, "nslow", false),
    (88, "depth", false),
    (92, "record_length", false),
    (96, "signif_bits", false),
    (100, "data_type", false),
    (104, "saturated_value", false),
    (108, "sequence", false),
    (112, "nimages", false),
    (116, "origin", false),
    (120, "orientation", false),
    (124, "view_direction", false),
    (128, "overflow_location", false),
    (132, "over_8_bits", false),
    (136, "over_16_bits", false),
    (140, "multiplexed", false),
    (144, "nfastimages", false),
    (148, "nslowimages", false),
    (152, "background_applied", false),
    (156, "bias_applied", false),
    (160, "flatfield_applied", false),
    (164, "distortion_applied", false),
    (168, "original_header_type", false),
    (172, "file_saved", false),
    // data statistics
    (280, "min", false),
    (284, "max", false),
    (288, "mean", false),
    (292, "rms", false),
    (296, "p10", false),
    (300, "p90", false),
    (304, "stats_uptodate", false),
    // goniostat
    (640, "xtal_to_detector", true),
    (644, "beam_x", true),
    (648, "beam_y", true),
    (652, "integration_time", true),
    (656, "exposure_time", true),
    (660, "readout_time", true),
    (664, "nreads", true),
    (668, "start_twotheta", true),
    (672, "start_omega", true),
    (676, "start_chi", true),
    (680, "start_kappa", true),
    (684, "start_phi", true),
    (688, "start_delta", true),
    (692, "start_gamma", true),
    (696, "start_xtal_to_detector", true),
    (700, "end_twotheta", true),
    (704, "end_omega", true),
    (708, "end_chi", true),
    (712, "end_kappa", true),
    (716, "end_phi", true),
    (720, "end_delta", true),
    (724, "end_gamma", true),
    (728, "end_xtal_to_detector", true),
    (732, "rotation_axis", true),
    (736, "rotation_range", true),
    (740, "detector_rotx", true),
    (744, "detector_roty", true),
    (748, "detector_rotz", true),
    // detector
    (768, "detector_type", true),
    (772, "pixelsize_x", true),
    (776, "pixelsize_y", true),
    (780, "mean_bias", true),
    (784, "photons_per_100adu", true),
    // X-ray source and optics
    (896, "source_type", true),
    (900, "source_dx", true),
    (904, "source_dy", true),
    (908, "source_wavelength", true),
    (912, "source_power", true),
    (916, "source_voltage", true),
    (920, "source_current", true),
    (924, "source_bias", true),
    (928, "source_polarization_x", true),
    (932, "source_polarization_y", true),
    (952, "optics_type", true),
    (956, "optics_dx", true),
    (960, "optics_dy", true),
    (964, "optics_wavelength", true),
    (968, "optics_dispersion", true),
    (972, "optics_crossfire_x", true),
    (976, "optics_crossfire_y", true),
    (980, "optics_angle", true),
    (984, "optics_polarization_x", true),
    (988, "optics_polarization_y", true),
];

/// Character fields: (offset, length, name).
const TEXT_FIELDS: &[(usize, usize, &str)] = &[
    (4, 16, "header_name"),
    (1024, 128, "filetitle"),
    (1152, 128, "filepath"),
    (1280, 64, "filename"),
    (1344, 32, "acquire_timestamp"),
    (1376, 32, "header_timestamp"),
    (1408, 32, "save_timestamp"),
    (1440, 512, "file_comments"),
    (2048, 512, "dataset_comments"),
];

/// Whether the bytes hold a MarCCD frame header ("MMX" header name at byte 1028).
pub(crate) fn has_marccd_header(bytes: &[u8]) -> bool {
    bytes.len() >= HEADER_OFFSET + HEADER_SIZE && &bytes[HEADER_OFFSET + 4..HEADER_OFFSET + 7] == b"MMX"
}

/// Reads a MarCCD image: the TIFF pixels and the frame header.
pub fn read_marccd(bytes: &[u8], name: &str, options: &ReadOptions) -> Result<Frame> {
    let mut d = decode_tiff(bytes, name, options, "MarCCD")?;
    if bytes.len() >= HEADER_OFFSET + HEADER_SIZE {
        parse_header(&bytes[HEADER_OFFSET..HEADER_OFFSET + HEADER_SIZE], bytes.starts_with(b"MM"), &mut d);
    } else {
        d.metadata.insert("marccd.header".into(), "absent (file shorter than 4096 bytes)".into());
    }
    finish(d, ImageFormat::MarCcd, name, options)
}

/// Parses the 3072-byte frame header into the metadata (and the pixel size).
fn parse_header(h: &[u8], tiff_big_endian: bool, d: &mut Decoded) {
    let word = |off: usize| -> [u8; 4] { [h[off], h[off + 1], h[off + 2], h[off + 3]] };
    let big = if u32::from_le_bytes(word(28)) == 1234 {
        false
    } else if u32::from_be_bytes(word(28)) == 4321 {
        true
    } else {
        tiff_big_endian
    };
    let u = |off: usize| if big { u32::from_be_bytes(word(off)) } else { u32::from_le_bytes(word(off)) };
    let i = |off: usize| u(off) as i32;
    let m = &mut d.metadata;
    for &(off, field, signed) in INT_FIELDS {
        let v = if signed { i(off).to_string() } else { u(off).to_string() };
        m.insert(format!("marccd.{field}"), v);
    }
    for &(off, len, field) in TEXT_FIELDS {
        let raw = &h[off..off + len];
        let end = raw.iter().position(|&b| b == 0).unwrap_or(len);
        let text = String::from_utf8_lossy(&raw[..end]).trim().to_string();
        if !text.is_empty() {
            m.insert(format!("marccd.{field}"), text);
        }
    }
    let distance = if i(640) != 0 { i(640) } else { i(696) };
    if distance != 0 {
        m.insert("distance_mm".into(), num(distance as f64 / 1e3));
    }
    if i(644) != 0 || i(648) != 0 {
        m.insert("beam_x_px".into(), num(i(644) as f64 / 1e3));
        m.insert("beam_y_px".into(), num(i(648) as f64 / 1e3));
    }
    if i(656) > 0 {
        m.insert("exposure_s".into(), num(i(656) as f64 / 1e3));
    }
    if i(908) > 0 {
        m.insert("wavelength_angstrom".into(), num(i(908) as f64 / 1e5));
    }
    if i(772) > 0 {
        d.pixel_size_mm = Some(i(772) as f64 / 1e6);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::io::frame::Pixels;
    use crate::io::image::tiff::tests::HandTiff;
    use crate::io::image::{ReadOptions, read_image};

    /// A small MarCCD-like file: the frame header at 1024 in the given byte order.
    fn mccd(big: bool) -> Vec<u8> {
        let mut prefix = vec![0u8; 4096];
        let h = &mut prefix[HEADER_OFFSET..];
        let mut put = |off: usize, v: i32| {
            let b = if big { v.to_be_bytes() } else { v.to_le_bytes() };
            h[off..off + 4].copy_from_slice(&b);
        };
        put(0, 2);
        put(28, if big { 4321 } else { 1234 });
        put(80, 3);
        put(84, 2);
        put(104, 65535);
        put(640, 70775);
        put(644, 1022986);
        put(648, -5);
        put(656, 300);
        put(772, 79180);
        put(776, 79180);
        put(908, 68499);
        put(684, -90000);
        h[4..7].copy_from_slice(b"MMX");
        h[1280..1290].copy_from_slice(b"Ge_0060.mc");
        h[1440..1445].copy_from_slice(b"0.68\0");
        let mut t = HandTiff::new(3, 2, 16, (0..6u16).flat_map(|v| (v * 11).to_le_bytes()).collect());
        t.big_endian = big;
        t.prefix = prefix;
        t.extra = vec![(34710, 4, 1, 1024)];
        t.bytes()
    }

    #[test]
    fn frame_header_fields_in_both_byte_orders() {
        for big in [false, true] {
            let bytes = mccd(big);
            assert!(has_marccd_header(&bytes));
            let f = read_image(&bytes, "Ge.mccd", &ReadOptions::default()).unwrap();
            assert_eq!(f.pixels, Pixels::U16((0..6).map(|v| v * 11).collect()), "big {big}");
            let m = &f.metadata;
            assert_eq!(m["format"], "mccd");
            assert_eq!(m["marccd.header_name"], "MMX");
            assert_eq!(m["marccd.nfast"], "3");
            assert_eq!(m["marccd.saturated_value"], "65535");
            assert_eq!(m["marccd.start_phi"], "-90000");
            assert_eq!(m["marccd.filename"], "Ge_0060.mc");
            assert_eq!(m["marccd.file_comments"], "0.68");
            assert_eq!(m["distance_mm"], "70.775");
            assert_eq!(m["beam_x_px"], "1022.986");
            assert_eq!(m["beam_y_px"], "-0.005");
            assert_eq!(m["exposure_s"], "0.3");
            assert_eq!(m["wavelength_angstrom"], "0.68499");
            assert_eq!(m["pixel_size_file_mm"], "0.07918");
            // Not 2048 × 2048: no preset, the header's pixel size.
            assert_eq!(f.detector, None);
            assert_eq!(f.pixel_size_mm, Some(0.07918));
        }
    }

    #[test]
    fn a_short_mccd_is_still_a_tiff() {
        let t = HandTiff::new(3, 2, 16, vec![1; 12]);
        let f = read_image(&t.bytes(), "small.mccd", &ReadOptions::default()).unwrap();
        assert!(f.metadata["marccd.header"].starts_with("absent"));
        let e = read_image(&mccd(false)[..3000], "cut.mccd", &ReadOptions::default()).unwrap_err();
        assert!(e.to_string().starts_with("cut.mccd: "), "{e}");
    }
}
