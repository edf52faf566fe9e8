//! Detector presets: the values of LaueTools' `dict_CCD` table (LaueTools 3.2, `dict_LaueTools.py`),
//! DECTRIS' PILATUS and larger EIGER detectors (which LaueTools' table lacks), and the rules that pick one
//! from what a file looks like.

use super::ImageFormat;
use crate::error::{LaueError, Result};

/// One detector as LaueTools knows it (its `CCDLabel`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DetectorPreset {
    /// LaueTools' label (`CCDLabel` in .det files).
    pub label: &'static str,
    /// frame size (rows, cols) = LaueTools' `framedim` (dim1, dim2)
    pub rows: usize,
    pub cols: usize,
    /// pixel size (mm); LaueTools sets some Eiger ones 1e-9 mm apart to tell them apart, here
    /// they are all the nominal 0.075 mm
    pub pixel_size_mm: f64,
    /// saturation value (counts)
    pub saturation: f64,
    /// LaueTools' file header size (bytes) for its raw reads; −1 = variable
    pub header_bytes: i64,
    /// pixel type in the files ("u16", "u32", "i32", "u8")
    pub pixel_type: &'static str,
    /// LaueTools' frame flip/rotation code ("no" = none)
    pub fliprot: &'static str,
    /// usual file extension
    pub extension: &'static str,
    /// whether the preset is chosen automatically from a file (format + dimensions); the others
    /// (old or ambiguous set-ups) only when asked for by label
    pub auto: bool,
    /// LaueTools' description
    pub description: &'static str,
}

macro_rules! preset {
    ($label:expr, ($r:expr, $c:expr), $px:expr, $sat:expr, $fl:expr, $hdr:expr, $ty:expr, $auto:expr, $ext:expr, $desc:expr) => {
        DetectorPreset {
            label: $label,
            rows: $r,
            cols: $c,
            pixel_size_mm: $px,
            saturation: $sat,
            header_bytes: $hdr,
            pixel_type: $ty,
            fliprot: $fl,
            extension: $ext,
            auto: $auto,
            description: $desc,
        }
    };
}

/// The table, most common set-ups first: automatic detection takes the first preset that fits.
pub const PRESETS: &[DetectorPreset] = &[
    preset!(
        "MARCCD165",
        (2048, 2048),
        0.079142,
        65535.0,
        "no",
        4096,
        "u16",
        true,
        "mccd",
        "MAR Research 165 mm (now Rayonix)"
    ),
    preset!(
        "sCMOS",
        (2018, 2016),
        0.0734,
        65535.0,
        "no",
        3828,
        "u16",
        true,
        "tif",
        "Photonic Science sCMOS, binned 2x2, fliplr applied by the camera software"
    ),
    preset!(
        "sCMOS_16M",
        (4036, 4032),
        0.0367,
        65535.0,
        "no",
        3828,
        "u16",
        true,
        "tif",
        "Photonic Science sCMOS, binned 1x1"
    ),
    preset!(
        "EIGER_4MCdTe",
        (2162, 2068),
        0.075,
        4294967295.0,
        "no",
        0,
        "u32",
        true,
        "h5",
        "Eiger 4M CdTe at BM32, single image in HDF5"
    ),
    preset!(
        "EIGER_4MCdTestack",
        (2162, 2068),
        0.075,
        4294967295.0,
        "no",
        0,
        "u32",
        true,
        "h5",
        "Eiger 4M CdTe at BM32, stacked images in HDF5"
    ),
    preset!(
        "EIGER_4Mstack",
        (2167, 2070),
        0.075,
        4294967295.0,
        "no",
        0,
        "u32",
        true,
        "h5",
        "Eiger 4M stack (SLS), HDF5"
    ),
    preset!(
        "EIGER_4M",
        (2167, 2070),
        0.075,
        4294967295.0,
        "spe",
        0,
        "u32",
        true,
        "tif",
        "Eiger 4M (ALS, SLS), TIFF"
    ),
    preset!(
        "EIGER_1M",
        (1065, 1030),
        0.075,
        4294967295.0,
        "no",
        0,
        "u32",
        true,
        "edf",
        "Eiger 1M Si at BM32, EDF"
    ),
    preset!(
        "ImageStar_dia_2021",
        (3056, 3056),
        0.022,
        65535.0,
        "ImageStar_dia_2021",
        4096,
        "u16",
        true,
        "tif",
        "Photonic Science ImageStar close to the diamond (rainbow technique)"
    ),
    preset!(
        "ImageStar_dia_2021_2x2",
        (1528, 1528),
        0.044,
        64000.0,
        "ImageStar_dia_2021",
        4096,
        "u16",
        true,
        "tif",
        "Photonic Science ImageStar close to the diamond, binned 2x2"
    ),
    preset!(
        "IMSTAR_bin1",
        (6185, 6070),
        0.0252,
        65535.0,
        "no",
        3828,
        "u16",
        true,
        "tif",
        "ImageStar165 (36M) sCMOS, binned 1x1"
    ),
    preset!(
        "IMSTAR_bin2",
        (3092, 3035),
        0.0504,
        65535.0,
        "no",
        3828,
        "u16",
        true,
        "tif",
        "ImageStar165 (36M) sCMOS, binned 2x2"
    ),
    preset!(
        "IMSTAR_bin3",
        (2048, 2064),
        0.0756,
        65535.0,
        "no",
        3828,
        "u16",
        true,
        "tif",
        "ImageStar165 (36M) sCMOS, binned 3x3"
    ),
    preset!(
        "sCMOS_9M",
        (3072, 3072),
        0.0504,
        65535.0,
        "no",
        3828,
        "u16",
        true,
        "tif",
        "ImageStar165 (36M) sCMOS, binned 2x2"
    ),
    preset!(
        "FRELON",
        (2048, 2048),
        0.048,
        65000.0,
        "frelon2",
        1024,
        "u16",
        true,
        "edf",
        "ESRF FReLoN 2048x2048, EDF"
    ),
    preset!(
        "VHR_diamond",
        (2594, 3764),
        0.031,
        10000.0,
        "vhr",
        4096,
        "u16",
        true,
        "tiff",
        "VHR close to the diamond (June 2012)"
    ),
    preset!(
        "VHR_small",
        (2594, 2748),
        0.031,
        10000.0,
        "vhr",
        4096,
        "u16",
        true,
        "tiff",
        "VHR close to the diamond (Nov. 2012)"
    ),
    preset!(
        "VHR_diamond_Mar13",
        (2594, 2774),
        0.031,
        10000.0,
        "vhr",
        4096,
        "u16",
        true,
        "tiff",
        "VHR close to the diamond (March 2013)"
    ),
    preset!(
        "VHR_full",
        (2671, 4008),
        0.031,
        10000.0,
        "vhr",
        4096,
        "u16",
        true,
        "tiff",
        "VHR, largest frame without grid correction"
    ),
    preset!("VHR_PSI", (2615, 3891), 0.0312, 65000.0, "no", 4096, "u16", true, "tif", "VHR at PSI"),
    preset!(
        "MaxiPIXCdTe",
        (516, 516),
        0.055,
        4294967295.0,
        "MaxiPIXCdTe",
        0,
        "i32",
        true,
        "h5",
        "MaxiPIX CdTe (BM32 test)"
    ),
    preset!("RXO", (512, 512), 0.4, 255.0, "no", 0, "u8", true, "tif", "RXO industrial detector"),
    preset!(
        "Alban",
        (1504, 1499),
        0.2,
        4294836225.0,
        "no",
        -1,
        "u32",
        true,
        "tif",
        "Alban de Vaucorbeil's detector (Australia)"
    ),
    preset!(
        "psl_weiwei",
        (1247, 1960),
        0.075000001,
        65535.0,
        "no",
        -1,
        "u16",
        true,
        "tif",
        "Photonic Science camera at DESY"
    ),
    preset!(
        "psl_IN_tif",
        (425, 640),
        0.23255813953488372,
        65535.0,
        "no",
        -1,
        "u16",
        true,
        "tif",
        "camera of Institut Neel"
    ),
    preset!(
        "Alexiane",
        (1078, 886),
        0.139,
        65535.0,
        "Alexiane",
        -1,
        "u16",
        true,
        "tif",
        "camera in reflection geometry (Alexiane's lab)"
    ),
    preset!("pnCCD", (384, 384), 0.075, 65000.0, "no", 1024, "u16", true, "tiff", "pnCCD (Siegen)"),
    // DECTRIS hybrid pixel detectors (not in LaueTools' table): frame sizes from DECTRIS' data sheets, rows ×
    // columns as the detectors write them (a module is 195 rows × 487 columns on PILATUS, 514 × 1030 on EIGER;
    // gaps of 17 rows and 7 columns between PILATUS modules, 37 rows and 10 columns between EIGER modules). The
    // gaps and dead pixels come as −1 and −2 in PILATUS' int32 frames, 2³²−1 in EIGER's u32 ones: masked.
    // PILATUS saturation: the 20-bit counter (the file's `Count_cutoff`, when given, replaces it).
    preset!(
        "PILATUS_100K",
        (195, 487),
        0.172,
        1048575.0,
        "no",
        4096,
        "i32",
        true,
        "tif",
        "DECTRIS PILATUS 100K (1 module), TIFF"
    ),
    preset!(
        "PILATUS_300K",
        (619, 487),
        0.172,
        1048575.0,
        "no",
        4096,
        "i32",
        true,
        "tif",
        "DECTRIS PILATUS 300K (1 × 3 modules), TIFF"
    ),
    preset!(
        "PILATUS_1M",
        (1043, 981),
        0.172,
        1048575.0,
        "no",
        4096,
        "i32",
        true,
        "tif",
        "DECTRIS PILATUS 1M (2 × 5 modules; ALS 12.3.2), TIFF"
    ),
    preset!(
        "PILATUS_2M",
        (1679, 1475),
        0.172,
        1048575.0,
        "no",
        4096,
        "i32",
        true,
        "tif",
        "DECTRIS PILATUS 2M (3 × 8 modules), TIFF"
    ),
    preset!(
        "PILATUS_6M",
        (2527, 2463),
        0.172,
        1048575.0,
        "no",
        4096,
        "i32",
        true,
        "tif",
        "DECTRIS PILATUS 6M (5 × 12 modules), TIFF"
    ),
    preset!(
        "EIGER_9M",
        (3269, 3110),
        0.075,
        4294967295.0,
        "no",
        0,
        "u32",
        true,
        "h5",
        "DECTRIS EIGER 9M (3 × 6 modules), HDF5"
    ),
    preset!(
        "EIGER_16M",
        (4371, 4150),
        0.075,
        4294967295.0,
        "no",
        0,
        "u32",
        true,
        "h5",
        "DECTRIS EIGER 16M (4 × 8 modules), HDF5"
    ),
    // Only by label: old set-ups, or dimensions that another preset above already claims.
    preset!(
        "PRINCETON",
        (2048, 2048),
        0.079,
        57000.0,
        "no",
        4096,
        "u16",
        false,
        "mccd",
        "Roper Princeton Quadro 2048x2048 converted from .spe to .mccd"
    ),
    preset!(
        "sCMOS_fliplr",
        (2018, 2016),
        0.0734,
        65535.0,
        "sCMOS_fliplr",
        3828,
        "u16",
        false,
        "tif",
        "sCMOS binned 2x2, frame to be flipped left-right"
    ),
    preset!(
        "sCMOS_fliplr_16M",
        (4036, 4032),
        0.0367,
        65535.0,
        "sCMOS_fliplr",
        3828,
        "u16",
        false,
        "tif",
        "sCMOS binned 1x1, frame to be flipped left-right"
    ),
    preset!(
        "sCMOS_4M",
        (2048, 2064),
        0.0756,
        65535.0,
        "no",
        3828,
        "u16",
        false,
        "tif",
        "ImageStar165 (36M) sCMOS, binned 3x3"
    ),
    preset!(
        "EIGER_4Munstacked",
        (2167, 2070),
        0.075,
        4294967295.0,
        "no",
        0,
        "u32",
        false,
        "h5",
        "Eiger 4M unstacked HDF5 (SLS)"
    ),
    preset!(
        "EDF",
        (1065, 1030),
        0.075,
        650000000000.0,
        "no",
        0,
        "u32",
        false,
        "edf",
        "Eiger parameters read from an EDF header"
    ),
    preset!(
        "VHR",
        (2594, 3764),
        0.031,
        10000.0,
        "VHR_Feb13",
        4096,
        "u16",
        false,
        "tiff",
        "old VHR settings of June 2012"
    ),
    preset!(
        "VHR_Feb13",
        (2594, 2774),
        0.031,
        10000.0,
        "VHR_Feb13",
        4096,
        "u16",
        false,
        "tiff",
        "old VHR settings of Feb. 2013"
    ),
    preset!(
        "VHR_Feb13_rawtiff",
        (2594, 2774),
        0.031,
        10000.0,
        "VHR_Feb13",
        110,
        "u16",
        false,
        "tiff",
        "old VHR raw TIFF"
    ),
    preset!("VHR_DLS", (3056, 3056), 0.0312, 65000.0, "no", 4096, "u16", false, "tif", "old VHR at DLS"),
    preset!(
        "ImageStar",
        (1500, 1500),
        0.044,
        65535.0,
        "vhr",
        4096,
        "u16",
        false,
        "tiff",
        "ImageStar close to the diamond (March 2013)"
    ),
    preset!(
        "ImageStar_raw_3056x3056",
        (3056, 3056),
        0.022,
        64000.0,
        "vhr",
        872,
        "u16",
        false,
        "tif",
        "raw ImageStar image (April 2018)"
    ),
    preset!(
        "ImageStar_1528x1528",
        (1528, 1528),
        0.044,
        65535.0,
        "vhr",
        4096,
        "u16",
        false,
        "tiff",
        "old ImageStar close to the diamond (May 2018)"
    ),
    preset!(
        "ImageDeathStar",
        (1500, 1500),
        0.044,
        65535.0,
        "VHR_Feb13",
        4096,
        "u16",
        false,
        "tif",
        "old ImageStar close to the sample (Sept. 2014)"
    ),
    preset!(
        "ImageStar_raw",
        (1500, 1500),
        0.044,
        64000.0,
        "vhr",
        872,
        "u16",
        false,
        "tif",
        "old raw ImageStar (GISAXS BM32, Nov. 2014)"
    ),
    preset!("pnCCD_Tuba", (384, 384), 0.075, 10000000.0, "no", 258, "u16", false, "tiff", "pnCCD (Tuba)"),
];

/// The preset with this label (exact, else ignoring case).
pub fn preset(label: &str) -> Option<&'static DetectorPreset> {
    PRESETS
        .iter()
        .find(|p| p.label == label)
        .or_else(|| PRESETS.iter().find(|p| p.label.eq_ignore_ascii_case(label)))
}

/// The preset with this label, or an error listing the known labels.
pub fn preset_or_err(label: &str) -> Result<&'static DetectorPreset> {
    preset(label).ok_or_else(|| {
        let known: Vec<&str> = PRESETS.iter().map(|p| p.label).collect();
        LaueError::UnknownDetector(label.to_string(), known.join(", "))
    })
}

/// Whether a preset's usual file kind fits a file format.
fn format_fits(p: &DetectorPreset, format: ImageFormat) -> bool {
    match format {
        ImageFormat::MarCcd => p.extension == "mccd",
        ImageFormat::Tiff => p.extension == "tif" || p.extension == "tiff",
        ImageFormat::Edf => p.extension == "edf",
        ImageFormat::Hdf5 => p.extension == "h5",
        ImageFormat::Png | ImageFormat::Raw => false,
    }
}

/// What a file tells about its detector.
#[derive(Debug, Clone, Copy, Default)]
pub struct FileClues {
    /// pixel size given by the file itself (mm), if any
    pub pixel_size_mm: Option<f64>,
    /// an HDF5 stack of more than one frame
    pub stack: bool,
    /// the pixel type read ("u8", "u16", "u32", "i32", "f32"), if known
    pub pixel_type: Option<&'static str>,
}

/// The preset that fits an image read from a file: same dimensions and usual format (or, failing
/// that, same dimensions and pixel type: dimensions alone are not enough — a 512² 16-bit HDF5 stack
/// is not the 8-bit RXO, whose pixel size and saturation it would take); among several, the one whose
/// pixel size is within 2 % of the file's own (when the file gives one; if none is, no preset), stacks
/// preferring a "stack" label, then the first in [`PRESETS`]. Returns the preset and how it was matched.
pub fn detect_preset(
    format: ImageFormat,
    rows: usize,
    cols: usize,
    clues: FileClues,
) -> Option<(&'static DetectorPreset, &'static str)> {
    let same_dims = |p: &&DetectorPreset| p.auto && p.rows == rows && p.cols == cols;
    let by_format: Vec<&DetectorPreset> =
        PRESETS.iter().filter(same_dims).filter(|p| format_fits(p, format)).collect();
    let (candidates, how) = if by_format.is_empty() {
        let same_type = |p: &&DetectorPreset| clues.pixel_type.is_none_or(|t| t == p.pixel_type);
        (PRESETS.iter().filter(same_dims).filter(same_type).collect::<Vec<_>>(), "dimensions and pixel type")
    } else {
        (by_format, "format and dimensions")
    };
    let mut candidates: Vec<&DetectorPreset> = match clues.pixel_size_mm {
        Some(px) if px > 0.0 && px.is_finite() => {
            candidates.into_iter().filter(|p| ((p.pixel_size_mm - px) / px).abs() < 0.02).collect()
        }
        _ => candidates,
    };
    if clues.pixel_size_mm.is_some() {
        // The closest pixel size first (stable: table order among equals).
        candidates.sort_by(|a, b| {
            let px = clues.pixel_size_mm.unwrap_or(0.0);
            (a.pixel_size_mm - px).abs().total_cmp(&(b.pixel_size_mm - px).abs())
        });
    }
    let pick = if clues.stack {
        candidates.iter().find(|p| p.label.ends_with("stack")).or(candidates.first())
    } else {
        candidates.iter().find(|p| !p.label.ends_with("stack")).or(candidates.first())
    };
    pick.map(|p| (*p, how))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_are_unique_and_sane() {
        for (i, p) in PRESETS.iter().enumerate() {
            assert!(PRESETS[i + 1..].iter().all(|q| q.label != p.label), "{}", p.label);
            assert!(p.rows > 0 && p.cols > 0 && p.pixel_size_mm > 0.0);
        }
        assert_eq!(preset("scmos").map(|p| p.label), Some("sCMOS"));
        assert!(matches!(preset_or_err("nope"), Err(LaueError::UnknownDetector(..))));
    }

    #[test]
    fn detection_from_format_dimensions_and_pixel_size() {
        let none = FileClues::default();
        let label = |f, r, c, clues| detect_preset(f, r, c, clues).map(|(p, _)| p.label);
        assert_eq!(label(ImageFormat::MarCcd, 2048, 2048, none), Some("MARCCD165"));
        // The MarCCD header's 79.18 µm is MARCCD165's 79.142 µm, not PRINCETON's 79 µm (not automatic).
        let px = FileClues { pixel_size_mm: Some(0.07918), stack: false, pixel_type: None };
        assert_eq!(label(ImageFormat::MarCcd, 2048, 2048, px), Some("MARCCD165"));
        let far = FileClues { pixel_size_mm: Some(0.05), stack: false, pixel_type: None };
        assert_eq!(label(ImageFormat::MarCcd, 2048, 2048, far), None);
        assert_eq!(label(ImageFormat::Edf, 2048, 2048, none), Some("FRELON"));
        assert_eq!(label(ImageFormat::Tiff, 2018, 2016, none), Some("sCMOS"));
        assert_eq!(label(ImageFormat::Tiff, 4036, 4032, none), Some("sCMOS_16M"));
        assert_eq!(label(ImageFormat::Hdf5, 2162, 2068, none), Some("EIGER_4MCdTe"));
        let stack = FileClues { pixel_size_mm: Some(0.075), stack: true, pixel_type: None };
        assert_eq!(label(ImageFormat::Hdf5, 2162, 2068, stack), Some("EIGER_4MCdTestack"));
        assert_eq!(label(ImageFormat::Hdf5, 2167, 2070, none), Some("EIGER_4Mstack"));
        assert_eq!(label(ImageFormat::Tiff, 2167, 2070, none), Some("EIGER_4M"));
        // Same dimensions in another format: matched on dimensions alone.
        let (p, how) = detect_preset(ImageFormat::Png, 2018, 2016, none).unwrap();
        assert_eq!((p.label, how), ("sCMOS", "dimensions and pixel type"));
        // … when the pixel type agrees: a 512² 16-bit HDF5 frame is not the 8-bit RXO (its 0.4 mm pixels and
        // 255-count saturation would be taken), an 8-bit PNG of that size is; a TIFF of that size keeps the
        // format's match whatever its type.
        let typed = |t| FileClues { pixel_type: Some(t), ..FileClues::default() };
        assert_eq!(label(ImageFormat::Hdf5, 512, 512, typed("u16")), None);
        assert_eq!(label(ImageFormat::Png, 512, 512, typed("u8")), Some("RXO"));
        assert_eq!(label(ImageFormat::Png, 2018, 2016, typed("u16")), Some("sCMOS"));
        assert_eq!(label(ImageFormat::Png, 2018, 2016, typed("u8")), None);
        assert_eq!(label(ImageFormat::Tiff, 512, 512, typed("f32")), Some("RXO"));
        assert_eq!(label(ImageFormat::Tiff, 37, 53, none), None);
    }

    /// Each DECTRIS preset is its module grid: PILATUS modules of 195 × 487 px with 17-row and 7-column gaps,
    /// EIGER modules of 514 × 1030 px with 37-row and 10-column gaps (DECTRIS' data sheets: PILATUS 1M =
    /// 981 × 1043 px width × height, EIGER 16M = 4150 × 4371); each is found from a TIFF or HDF5 frame of
    /// its size.
    #[test]
    fn dectris_presets_are_their_module_grids() {
        let grid = |(mr, mc): (usize, usize), (gr, gc): (usize, usize), (nr, nc): (usize, usize)| {
            (nr * mr + (nr - 1) * gr, nc * mc + (nc - 1) * gc)
        };
        let pilatus = [("PILATUS_100K", (1, 1)), ("PILATUS_300K", (3, 1)), ("PILATUS_1M", (5, 2))];
        let pilatus_big = [("PILATUS_2M", (8, 3)), ("PILATUS_6M", (12, 5))];
        for (label, modules) in pilatus.into_iter().chain(pilatus_big) {
            let p = preset(label).unwrap();
            assert_eq!((p.rows, p.cols), grid((195, 487), (17, 7), modules), "{label}");
            assert!((p.pixel_size_mm - 0.172).abs() < 1e-12 && p.pixel_type == "i32", "{label}");
            assert_eq!(p.saturation, 1048575.0, "{label}: 20-bit counter");
            let px = FileClues { pixel_size_mm: Some(0.172), stack: false, pixel_type: None };
            let found = detect_preset(ImageFormat::Tiff, p.rows, p.cols, px).map(|(q, _)| q.label);
            assert_eq!(found, Some(label));
        }
        assert_eq!((preset("PILATUS_1M").unwrap().rows, preset("PILATUS_1M").unwrap().cols), (1043, 981));
        let eiger = [("EIGER_1M", (2, 1)), ("EIGER_4M", (4, 2)), ("EIGER_9M", (6, 3)), ("EIGER_16M", (8, 4))];
        for (label, modules) in eiger {
            let p = preset(label).unwrap();
            assert_eq!((p.rows, p.cols), grid((514, 1030), (37, 10), modules), "{label}");
            assert!((p.pixel_size_mm - 0.075).abs() < 1e-12 && p.pixel_type == "u32", "{label}");
            assert_eq!(p.saturation, 4294967295.0, "{label}");
        }
        assert_eq!(
            detect_preset(ImageFormat::Hdf5, 3269, 3110, FileClues::default()).unwrap().0.label,
            "EIGER_9M"
        );
        assert_eq!(
            detect_preset(ImageFormat::Hdf5, 4371, 4150, FileClues::default()).unwrap().0.label,
            "EIGER_16M"
        );
        // A file whose own pixel size is far from 172 µm is not taken for a PILATUS.
        let far = FileClues { pixel_size_mm: Some(0.075), stack: false, pixel_type: None };
        assert_eq!(detect_preset(ImageFormat::Tiff, 1043, 981, far), None);
    }
}
