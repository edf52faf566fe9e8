//! Peak search on masked frames: the ALS 12.3.2 PILATUS3 X 1M frames (int32, module gaps −1, bad pixels −2,
//! 73 564 masked pixels) with their folder's settings, and a synthetic frame with a module gap.
//!
//! An **artefact** here is a peak within 2 px of a masked pixel (fitted centre to pixel centre) that is one of:
//! its 2b × 2b fit box is more than half masked; its fitted centre is on a masked pixel with no usable pixel
//! within 2 px (a centre extrapolated into a gap); or it is a line along the mask edge (narrow σ under 1 px,
//! long σ over 3× the narrow one). LaueTools' way (the raw frame, −1 and −2 as values, weight 0 in the fit) gives such
//! peaks along the gaps; ours must give none, and keep the real spots that the gaps cut.
#![allow(clippy::unwrap_used)]

use std::collections::BTreeMap;
use std::path::PathBuf;

use lauekit::io::{Frame, Pixels, ReadOptions, read_image};
use lauekit::peaks::{Peak, PeakSearchParams, peak_search};

fn shared(rel: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/data/real/ALS_Pilatus").join(rel)
}

/// Whether `pk` is an artefact of `mask` (see the module doc), and whether it is within 2 px of the mask.
fn artefact(pk: &Peak, mask: &[bool], rows: usize, cols: usize, boxsize: usize) -> (bool, bool) {
    let (row, col) = (pk.y - 1.0, pk.x - 1.0);
    let at = |r: i64, c: i64| {
        r >= 0 && c >= 0 && r < rows as i64 && c < cols as i64 && mask[r as usize * cols + c as usize]
    };
    let (mut near_masked, mut near_usable) = (false, false);
    for r in row.floor() as i64 - 3..=row.ceil() as i64 + 3 {
        for c in col.floor() as i64 - 3..=col.ceil() as i64 + 3 {
            if ((r as f64 - row).powi(2) + (c as f64 - col).powi(2)).sqrt() <= 2.0 {
                if at(r, c) {
                    near_masked = true;
                } else if r >= 0 && c >= 0 && r < rows as i64 && c < cols as i64 {
                    near_usable = true;
                }
            }
        }
    }
    if !near_masked {
        return (false, false);
    }
    let (x, y) = pk.detected_pixel();
    let (r0, c0, b) = (y.round() as i64 - 1, x.round() as i64 - 1, boxsize as i64);
    let masked_in_box = (r0 - b..r0 + b)
        .flat_map(|r| (c0 - b..c0 + b).map(move |c| (r, c)))
        .filter(|&(r, c)| at(r, c))
        .count();
    let heavy = 2 * masked_in_box > (4 * b * b) as usize;
    let inside = at(row.round() as i64, col.round() as i64) && !near_usable;
    let (narrow, long) =
        (pk.sigma_major.abs().min(pk.sigma_minor.abs()), pk.sigma_major.abs().max(pk.sigma_minor.abs()));
    let line = narrow < 1.0 && long > 3.0 * narrow;
    (heavy || inside || line, true)
}

struct Run {
    peaks: Vec<Peak>,
    near: usize,
    artefacts: usize,
}

fn run(frame: &Frame, mask: &[bool], p: &PeakSearchParams) -> Run {
    let peaks = peak_search(frame, p).unwrap().peaks;
    let (mut near, mut artefacts) = (0, 0);
    for pk in &peaks {
        let (a, n) = artefact(pk, mask, frame.rows, frame.cols, p.boxsize);
        near += n as usize;
        artefacts += a as usize;
    }
    Run { peaks, near, artefacts }
}

/// (image, settings, peaks expected, LaueTools' way: at least this many artefacts, real spots cut by a gap)
type AlsCase = (&'static str, &'static str, usize, usize, &'static [(f64, f64)]);

#[test]
fn als_pilatus_frames_have_no_peaks_made_by_the_gaps() {
    let cases: [AlsCase; 2] = [
        // BaTiO3: the strong spot at (343, 620) sits on the edge of the gap at rows 620–636 (1-based).
        ("S27_25C_001.tif", "peaksearch_BaTiO3.json", 244, 5, &[(343.1, 620.7), (335.1, 831.5)]),
        // Quartz: a broad spot centred in the gap at rows 832–848 shows on both sides; its upper half is kept.
        ("Ko1202-12_2_00001.tif", "peaksearch_quartz.json", 92, 2, &[(758.4, 830.4)]),
    ];
    let mut summary = BTreeMap::new();
    for (img, psp, expected, lauetools_artefacts, real) in cases {
        let frame = read_image(&std::fs::read(shared(img)).unwrap(), img, &ReadOptions::default()).unwrap();
        let p = PeakSearchParams::from_json(&std::fs::read_to_string(shared(psp)).unwrap(), psp).unwrap();
        let mask = frame.mask.clone().unwrap();
        assert_eq!(frame.masked_count(), 73_564, "{img}");
        let ours = run(&frame, &mask, &p);
        let mut raw = frame.clone();
        raw.mask = None;
        let lauetools_way = run(&raw, &mask, &p);
        eprintln!(
            "{img}: ours {} peaks, {} within 2 px of the mask, {} artefacts; LaueTools' way {} peaks, {} near, {} artefacts",
            ours.peaks.len(),
            ours.near,
            ours.artefacts,
            lauetools_way.peaks.len(),
            lauetools_way.near,
            lauetools_way.artefacts
        );
        summary.insert(img, (ours.peaks.len(), ours.artefacts, lauetools_way.artefacts));
        assert_eq!(ours.artefacts, 0, "{img}");
        assert!(
            lauetools_way.artefacts >= lauetools_artefacts,
            "{img}: the check must see LaueTools' artefacts"
        );
        let n = ours.peaks.len() as f64;
        assert!(
            (n - expected as f64).abs() <= 0.03 * expected as f64,
            "{img}: {n} peaks, expected {expected} ± 3 %"
        );
        for pk in &ours.peaks {
            let (x, y) = pk.detected_pixel();
            assert!(
                !mask[(y.round() as usize - 1) * frame.cols + x.round() as usize - 1],
                "{img}: seed on a masked pixel"
            );
        }
        for &(x, y) in real {
            let kept = ours.peaks.iter().any(|pk| (pk.x - x).hypot(pk.y - y) < 1.0);
            assert!(kept, "{img}: the real spot at ({x}, {y}) next to a gap is lost");
        }
        // At the default settings too (as `lauekit index` runs without a settings file).
        let defaults = PeakSearchParams::default();
        let p = lauekit::pipeline::peak_params_for_frame(&defaults, &frame);
        let plain = run(&frame, &mask, &p);
        eprintln!("{img}, default settings: {} peaks, {} artefacts", plain.peaks.len(), plain.artefacts);
        assert!(!plain.peaks.is_empty(), "{img}: no peak at the default settings");
        assert_eq!(plain.artefacts, 0, "{img}, default settings");
    }
    eprintln!("{summary:?}");
}

/// A 60 × 60 frame, background 100 counts, a 6-row module gap (−1) at rows 30..36 whose edge rows count 130
/// (as PILATUS module edges do), a spot A (amplitude 2000, σ 1.2 px) at row 24.3, column 20.6, 5 px above the
/// gap, and a spot B (amplitude 1500) at row 37.0, column 45.2, one pixel below the gap's last row: its
/// brightest pixel touches the gap. Both are found where they are, and nothing else (every peak is A or B).
#[test]
fn a_gap_neither_seeds_nor_pulls_a_peak() {
    let (rows, cols) = (60usize, 60usize);
    let spots = [(24.3, 20.6, 2000.0), (37.0, 45.2, 1500.0)];
    let mut v = vec![0i32; rows * cols];
    for r in 0..rows {
        for c in 0..cols {
            let mut x = if r == 29 || r == 36 { 130.0 } else { 100.0 };
            for (sr, sc, amp) in spots {
                let (dr, dc) = (r as f64 - sr, c as f64 - sc);
                x += amp * (-(dr * dr + dc * dc) / (2.0 * 1.2 * 1.2)).exp();
            }
            v[r * cols + c] = if (30..36).contains(&r) { -1 } else { x.round() as i32 };
        }
    }
    let mask: Vec<bool> = v.iter().map(|&x| x < 0).collect();
    let frame = Frame {
        rows,
        cols,
        pixels: Pixels::I32(v),
        mask: Some(mask.clone()),
        detector: None,
        pixel_size_mm: None,
        metadata: BTreeMap::new(),
        source: "synthetic gap".into(),
    };
    let p = PeakSearchParams::from_json(r#"{"IntensityThreshold": 20, "boxsize": 8}"#, "test").unwrap();
    let ours = run(&frame, &mask, &p);
    assert_eq!(ours.artefacts, 0);
    let which = |pk: &Peak| spots.iter().position(|&(r, c, _)| (pk.y - 1.0 - r).hypot(pk.x - 1.0 - c) < 0.1);
    for pk in &ours.peaks {
        let k = which(pk).unwrap_or_else(|| panic!("a peak that is neither spot: {pk:?}"));
        let amp = spots[k].2;
        assert!((pk.intensity_sub - amp).abs() < 0.02 * amp, "{pk:?}");
        assert!((pk.background - 100.0).abs() < 10.0, "{pk:?}");
    }
    for k in 0..2 {
        assert!(ours.peaks.iter().any(|pk| which(pk) == Some(k)), "spot {k} lost: {:?}", ours.peaks);
    }
}

/// `--mask`: a mask file of another size is refused naming both files and sizes; an HDF5 band of 20 rows
/// adds its 19 620 pixels to the frame's 73 564 (140 shared with the vertical gap).
#[test]
fn mask_option_on_the_command_line() {
    let exe = env!("CARGO_BIN_EXE_lauekit");
    let image = shared("S27_25C_001.tif");
    let small = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data/images/mask_u8.png");
    let out =
        std::process::Command::new(exe).arg("peaks").arg("--mask").arg(&small).arg(&image).output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(
        err.contains("mask_u8.png: mask is 37 rows × 53 columns but the image")
            && err.contains("S27_25C_001.tif is 1043 × 981"),
        "{err}"
    );

    let dir = std::env::temp_dir().join(format!("lauekit-mask-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let band = dir.join("band.png");
    let (rows, cols) = (1043u32, 981u32);
    let mut data = vec![0u8; (rows * cols) as usize];
    data[700 * cols as usize..720 * cols as usize].fill(255);
    let mut enc = png::Encoder::new(std::fs::File::create(&band).unwrap(), cols, rows);
    enc.set_color(png::ColorType::Grayscale);
    enc.set_depth(png::BitDepth::Eight);
    enc.write_header().unwrap().write_image_data(&data).unwrap();
    let out = std::process::Command::new(exe)
        .args(["peaks", "--format", "json", "--params"])
        .arg(shared("peaksearch_BaTiO3.json"))
        .arg("--mask")
        .arg(&band)
        .arg(&image)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{err}");
    assert!(err.contains("19620 of 1043×981 pixels masked") && err.contains("93044 pixels masked"), "{err}");
    let _ = std::fs::remove_dir_all(&dir);
}
