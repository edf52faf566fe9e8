//! Every `.det` calibration in ../shared/data parses, writes back with the same meaning, and its geometry
//! round-trips pixel → (2θ, χ) → pixel within 1e-9 px over the whole frame.
#![allow(clippy::unwrap_used)]

use std::path::{Path, PathBuf};

use lauekit::io::DetFile;

fn det_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e} (is ../shared beside the repo?)", dir.display()))
    {
        let p = e.unwrap().path();
        if p.is_dir() {
            det_files(&p, out);
        } else if p.extension().is_some_and(|x| x == "det") {
            out.push(p);
        }
    }
}

#[test]
fn shared_det_files_round_trip() {
    let mut files = Vec::new();
    det_files(&PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/data"), &mut files);
    assert!(files.len() >= 3, "found {files:?}");
    for f in files {
        let name = f.display().to_string();
        let d = DetFile::parse(&std::fs::read_to_string(&f).unwrap(), &name).unwrap();
        // The five parameters also appear as '# key : value' lines: they must agree with line 1.
        let c = d.calibration;
        for (key, v) in [
            ("dd", c.distance_mm),
            ("xcen", c.xcen_px),
            ("ycen", c.ycen_px),
            ("xbet", c.xbet_deg),
            ("xgam", c.xgam_deg),
        ] {
            if let Some(m) = d.get(key) {
                assert!((m.parse::<f64>().unwrap() - v).abs() < 1e-9, "{name}: {key}");
            }
        }
        let again = DetFile::parse(&d.to_text(), "rewritten").unwrap();
        assert_eq!(again, d, "{name}");
        let mut worst: f64 = 0.0;
        for i in 0..=40 {
            for j in 0..=40 {
                let x = i as f64 * (c.cols as f64 - 1.0) / 40.0;
                let y = j as f64 * (c.rows as f64 - 1.0) / 40.0;
                let (t, chi) = c.pixel_to_angles(x, y);
                let (x2, y2) = c.angles_to_pixel(t, chi).unwrap();
                worst = worst.max((x2 - x).abs()).max((y2 - y).abs());
            }
        }
        assert!(worst < 1e-9, "{name}: round trip {worst} px");
        eprintln!("{name}: calib {:?}, {}×{}, round trip worst {worst:.1e} px", c.params(), c.rows, c.cols);
    }
}
