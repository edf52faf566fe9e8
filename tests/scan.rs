#![cfg(not(target_arch = "wasm32"))]
#![allow(clippy::unwrap_used)]

//! Raster scans through the CLI on real images (Ge_blanc, MarCCD 2048²): a bad image in the middle, a
//! run killed with SIGKILL and resumed, shards merged, the HDF5 read back — each compared with an
//! uninterrupted single run.

use std::path::{Path, PathBuf};
use std::process::Command;

use lauekit::pipeline::PointStatus;
use lauekit::scan::ScanResults;
use lauekit::scan::h5::from_hdf5;

const GB: &str = "../shared/data/real/Ge_blanc";

fn lauekit() -> Command {
    Command::new(env!("CARGO_BIN_EXE_lauekit"))
}

/// A directory holding an n-point series `Ge_NNNN.mccd` (links to Ge_blanc), the image at `bad` truncated.
fn series(tag: &str, n: usize, bad: Option<usize>) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("lauekit-scan-test-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let src = std::fs::canonicalize(Path::new(GB).join("Ge_blanc_0000.mccd")).unwrap();
    for i in 0..n {
        let p = dir.join(format!("Ge_{i:04}.mccd"));
        if Some(i) == bad {
            let bytes = std::fs::read(&src).unwrap();
            std::fs::write(&p, &bytes[..100_000]).unwrap();
        } else {
            std::os::unix::fs::symlink(&src, &p).unwrap();
        }
    }
    dir
}

fn scan_cmd(dir: &Path, grid: &str, out: &Path) -> Command {
    let mut c = lauekit();
    c.arg("scan")
        .arg(dir)
        .args(["--grid", grid, "--material", "Ge", "--quiet", "--calib"])
        .arg(Path::new(GB).join("calibGe111.det"))
        .arg("--params")
        .arg(Path::new(GB).join("peaksearch.json"))
        .arg("-o")
        .arg(out);
    c
}

fn read(p: &Path) -> (ScanResults, Option<(usize, usize)>) {
    from_hdf5(std::fs::read(p).unwrap(), &p.display().to_string()).unwrap()
}

/// Results with the timings (which differ between runs) zeroed.
fn untimed(mut r: ScanResults) -> ScanResults {
    for p in &mut r.points {
        p.elapsed_ms = 0.0;
    }
    r
}

#[test]
fn bad_image_in_the_middle_fails_its_point_only() {
    let dir = series("bad", 6, Some(2));
    let out = dir.join("scan.h5");
    let json = dir.join("scan.json");
    let o = scan_cmd(&dir, "3x2", &out).arg("--json").arg(&json).output().unwrap();
    assert_eq!(o.status.code(), Some(3), "{}", String::from_utf8_lossy(&o.stderr));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("1 of 6 points failed"), "{err}");
    let (r, shard) = read(&out);
    assert_eq!(shard, None);
    assert_eq!(r.points.len(), 6);
    let golden: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string("tests/data/golden/index/Ge_blanc.json").unwrap())
            .unwrap();
    let gub = &golden["grains"][0]["ub"];
    for p in &r.points {
        assert_eq!((p.ix, p.iy), (p.index % 3, p.index / 3));
        if p.index == 2 {
            assert_eq!(p.status, PointStatus::Failed);
            let e = p.error.as_deref().unwrap();
            assert!(e.contains("Ge_0002.mccd") && e.contains("100000"), "{e}");
            assert!(p.grains.is_empty());
            continue;
        }
        assert_eq!(p.status, PointStatus::Indexed);
        assert_eq!(p.n_peaks, 97);
        let g = &p.grains[0];
        assert_eq!((g.material.as_str(), g.laue_group.as_str()), ("Ge", "m-3m"));
        assert!(g.n_indexed >= 95, "{}", g.n_indexed);
        // The same grain as `lauekit index` on the image (tests/golden_index.rs), to 1e-9.
        for row in 0..3 {
            for col in 0..3 {
                let want = gub[row][col].as_f64().unwrap();
                assert!(
                    (g.ub[row][col] - want).abs() < 1e-9,
                    "UB[{row}][{col}] {} vs {want}",
                    g.ub[row][col]
                );
            }
        }
        assert!(g.strain.von_mises < 2e-4, "{}", g.strain.von_mises);
    }
    let j: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    assert_eq!(j["grid"], serde_json::json!([3, 2]));
    assert_eq!(j["points"][2]["status"], "failed");
    assert_eq!(j["points"][4]["grains"][0]["material"], "Ge");
    // The journal is gone once the results are written; a second run refuses to overwrite them.
    assert!(!dir.join("scan.h5.journal").exists());
    let again = scan_cmd(&dir, "3x2", &out).output().unwrap();
    assert_eq!(again.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&again.stderr).contains("exists; use --force"));
    // Nor over an input.
    let o = scan_cmd(&dir, "3x2", &dir.join("Ge_0001.mccd")).output().unwrap();
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("is an input"),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert_eq!(std::fs::read(dir.join("Ge_0001.mccd")).unwrap().len(), 8_392_704);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn killed_scan_resumes_to_the_uninterrupted_result_and_shards_merge_to_it() {
    let n = 24;
    let dir = series("resume", n, Some(7));
    let whole = dir.join("whole.h5");
    let o = scan_cmd(&dir, "6x4", &whole).args(["--threads", "1"]).output().unwrap();
    assert_eq!(o.status.code(), Some(3), "{}", String::from_utf8_lossy(&o.stderr));
    let reference = untimed(read(&whole).0);

    // SIGKILL once a few points are in the journal, then the same command again.
    let out = dir.join("killed.h5");
    let journal = dir.join("killed.h5.journal");
    let mut child = scan_cmd(&dir, "6x4", &out).args(["--threads", "1"]).spawn().unwrap();
    let t0 = std::time::Instant::now();
    loop {
        let lines = std::fs::read_to_string(&journal).map(|t| t.lines().count()).unwrap_or(0);
        if lines >= 4 || t0.elapsed().as_secs() > 60 {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(2));
    }
    child.kill().unwrap();
    child.wait().unwrap();
    let kept = std::fs::read_to_string(&journal).unwrap().lines().count() - 1;
    assert!(!out.exists(), "killed before the end: no results file yet");
    assert!(kept >= 3 && kept < n, "{kept} points journaled at the kill");
    let o = scan_cmd(&dir, "6x4", &out).output().unwrap();
    assert_eq!(o.status.code(), Some(3), "{}", String::from_utf8_lossy(&o.stderr));
    assert_eq!(untimed(read(&out).0), reference);
    assert!(!journal.exists());

    // A journal of another scan is not resumed.
    std::fs::write(dir.join("other.h5.journal"), "{\"journal\":\"lauekit-scan-journal-1\"}\n").unwrap();
    let o = scan_cmd(&dir, "6x4", &dir.join("other.h5")).output().unwrap();
    assert_eq!(o.status.code(), Some(1));

    // Three shards in any finishing order, merged: the single run's results.
    let mut shards = Vec::new();
    for i in [2, 0, 1] {
        let s = dir.join(format!("shard{i}.h5"));
        let o = scan_cmd(&dir, "6x4", &s).args(["--shard", &format!("{i}/3")]).output().unwrap();
        assert!(matches!(o.status.code(), Some(0 | 3)), "{}", String::from_utf8_lossy(&o.stderr));
        let (r, sh) = read(&s);
        assert_eq!(sh, Some((i, 3)));
        assert_eq!(r.points.len(), 8);
        shards.push(s);
    }
    let merged = dir.join("merged.h5");
    let o = lauekit().args(["scan", "merge"]).args(&shards).arg("-o").arg(&merged).output().unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert_eq!(untimed(read(&merged).0), reference);
    // A missing shard is named.
    let o = lauekit()
        .args(["scan", "merge"])
        .args(&shards[..2])
        .arg("-o")
        .arg(dir.join("m2.h5"))
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&o.stderr).contains("8 of 24 points are in no shard"));
    std::fs::remove_dir_all(&dir).unwrap();
}

mod synthetic {
    //! Issue 13's acceptance on synthetic scans with known truth (src/scan/simulate.rs): 40 × 30 points of
    //! 512² images, 6 Cu grains + a Σ3 twin band, orientation gradients, strain, noise, mixed patterns on
    //! boundaries, empty points; and a two-phase Cu + Si scan.

    use lauekit::crystal::Material;
    use lauekit::geometry::misorientation_deg;
    use lauekit::pipeline::{IndexRequest, Models, PipelineRequest, PointStatus, run_image};
    use lauekit::scan::grains::{DisjointSet, GrainOptions, adjusted_rand_index, segment_grains};
    use lauekit::scan::simulate::{SecondPhase, SyntheticScan, SyntheticScanSpec};
    use lauekit::scan::{PointResult, ScanResults, software_version};
    use rayon::prelude::*;

    fn run(scan: &SyntheticScan, materials: &[&str]) -> ScanResults {
        let request = PipelineRequest {
            index: Some(IndexRequest {
                materials: materials.iter().map(|m| (*m).into()).collect(),
                ..Default::default()
            }),
            ..Default::default()
        };
        let models = Models::default();
        let job = request.prepare(&models).unwrap();
        let cal = scan.spec.calibration;
        let points: Vec<PointResult> = (0..scan.len())
            .into_par_iter()
            .map(|i| {
                let frame = scan.point_frame(i).unwrap();
                let r = run_image(&frame, &cal, &job, &models).unwrap();
                PointResult::from_report(i, &scan.grid, frame.source.clone(), r)
            })
            .collect();
        ScanResults { grid: scan.grid, request, software: software_version(), points }
    }

    /// Worst misorientation (deg) to the truth over the points off the boundaries, and how many of them
    /// were indexed with the right material, out of how many.
    fn against_truth(scan: &SyntheticScan, r: &ScanResults) -> (f64, usize, usize) {
        let (mut worst, mut right, mut n) = (0f64, 0, 0);
        for (t, p) in scan.points.iter().zip(&r.points) {
            let (Some(ub), Some(material), false) = (t.ub, t.material.as_deref(), t.boundary) else {
                continue;
            };
            n += 1;
            assert_eq!(p.status, PointStatus::Indexed, "point {} ({}, {}) not indexed", p.index, p.ix, p.iy);
            let g = &p.grains[0];
            if g.material != material {
                println!(
                    "point {} ({}, {}): {} found ({} spots, {:.1} %), truth {material}, {} peaks",
                    p.index, p.ix, p.iy, g.material, g.n_indexed, g.matching_rate, p.n_peaks
                );
            }
            if g.material == material {
                right += 1;
                let m = Material::from_table(material).unwrap();
                let sym = m.laue_group.rotations(&m.lattice).unwrap();
                let truth = lauekit::pipeline::from_rows(&ub);
                let mis = misorientation_deg(&truth, &g.ub_matrix(), &sym);
                if mis > 0.05 {
                    println!(
                        "point {} ({}, {}): {material} {mis:.3}° from the truth, {} indexed, {:.1} %, {} peaks",
                        p.index, p.ix, p.iy, g.n_indexed, g.matching_rate, p.n_peaks
                    );
                }
                worst = worst.max(mis);
            }
        }
        (worst, right, n)
    }

    #[test]
    fn cu_scan_orientations_and_grains_match_the_truth() {
        let spec = SyntheticScanSpec { nx: 40, ny: 30, seed: 13, ..Default::default() };
        assert!(spec.twin.is_some() && spec.grains == 6 && spec.calibration.rows == 512);
        let scan = SyntheticScan::new(&spec).unwrap();
        let r = run(&scan, &["Cu"]);
        let (worst, right, n) = against_truth(&scan, &r);
        println!("Cu 40×30: {n} points off the boundaries, worst misorientation to the truth {worst:.4}°");
        assert!(n > 900, "{n}");
        assert_eq!(right, n);
        assert!(worst < 0.05, "worst misorientation {worst}°");
        // Empty points give no grain.
        for (t, p) in scan.points.iter().zip(&r.points) {
            if t.region.is_none() {
                assert!(p.grains.is_empty(), "empty point {} indexed", p.index);
            }
        }
        // Grains (1°, symmetry-aware) against the truth's regions, off the boundaries.
        let seg = segment_grains(&r, &GrainOptions::default()).unwrap();
        let (nx, ny) = (scan.grid.nx, scan.grid.ny);
        // A truth grain is a connected piece of a region (a twin band cuts its parent grain in two).
        let mut region = vec![None; nx * ny];
        for t in &scan.points {
            region[t.iy * nx + t.ix] = t.region;
        }
        let mut pieces = DisjointSet::new(nx * ny);
        for iy in 0..ny {
            for ix in 0..nx {
                let k = iy * nx + ix;
                if region[k].is_some() && ix + 1 < nx && region[k + 1] == region[k] {
                    pieces.union(k, k + 1);
                }
                if region[k].is_some() && iy + 1 < ny && region[k + nx] == region[k] {
                    pieces.union(k, k + nx);
                }
            }
        }
        let mut truth = vec![None; nx * ny];
        let mut found = vec![None; nx * ny];
        for t in &scan.points {
            let k = t.iy * nx + t.ix;
            if !t.boundary && t.region.is_some() {
                truth[k] = Some(pieces.find(k));
                found[k] = seg.labels[k];
            }
        }
        let ari = adjusted_rand_index(&truth, &found);
        println!(
            "Cu 40×30: {} grains segmented, ARI {ari:.4} against the truth's {} regions",
            seg.grains.len(),
            scan.regions.len()
        );
        assert!(ari >= 0.98, "adjusted Rand index {ari}");
        // Strain: the refinement recovers the truth's deviatoric strain (von Mises 1e-3) off the boundaries.
        let vm: Vec<f64> = scan
            .points
            .iter()
            .zip(&r.points)
            .filter(|(t, _)| !t.boundary && t.region.is_some())
            .map(|(_, p)| p.grains[0].strain.von_mises)
            .collect();
        let mean = vm.iter().sum::<f64>() / vm.len() as f64;
        println!("Cu 40×30: mean von Mises strain {mean:.3e} (truth {:.1e})", spec.strain);
        assert!((mean - spec.strain).abs() < 0.1 * spec.strain, "{mean}");
    }

    #[test]
    fn two_phase_scan_labels_the_phases() {
        let spec = SyntheticScanSpec {
            nx: 40,
            ny: 30,
            seed: 7,
            twin: None,
            second_phase: Some(SecondPhase { material: "Si".into(), ..Default::default() }),
            ..Default::default()
        };
        let scan = SyntheticScan::new(&spec).unwrap();
        let n_si = scan.points.iter().filter(|t| t.material.as_deref() == Some("Si") && !t.boundary).count();
        assert!(n_si > 100, "{n_si} Si points");
        let r = run(&scan, &["Cu", "Si"]);
        let (worst, right, n) = against_truth(&scan, &r);
        let rate = right as f64 / n as f64;
        println!(
            "Cu + Si 40×30: phase right on {right} of {n} indexed points ({:.2} %), worst {worst:.4}°",
            100.0 * rate
        );
        assert!(rate >= 0.99, "{rate}");
        assert!(worst < 0.05, "{worst}");
    }
}

/// The same synthetic points as a TIFF series (`lauekit simulate-scan`) and as one HDF5 stack (frames =
/// points, the Eiger layout) give the same results.
#[test]
fn hdf5_stack_scans_like_the_file_series() {
    let dir = std::env::temp_dir().join(format!("lauekit-scan-test-stack-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let syn = dir.join("syn");
    let o = lauekit()
        .args(["simulate-scan", "--grid", "3x2", "--seed", "3", "--no-twin", "--grains", "2", "-o"])
        .arg(&syn)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let calib = syn.join("calib.det");
    let scan = |input: &Path, out: &Path| {
        let o = lauekit()
            .arg("scan")
            .arg(input)
            .args(["--grid", "3x2", "--material", "Cu", "--quiet", "--calib"])
            .arg(&calib)
            .arg("-o")
            .arg(out)
            .output()
            .unwrap();
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        untimed(read(out).0)
    };
    let series = scan(&syn, &dir.join("series.h5"));
    // The stack: the six TIFFs' pixels in one (6, rows, cols) u16 dataset at entry/data/data.
    let mut pixels = Vec::new();
    let mut shape = (0, 0);
    for i in 0..6 {
        let bytes = std::fs::read(syn.join(format!("scan_{i:04}.tif"))).unwrap();
        let f = lauekit::io::read_image(&bytes, "t.tif", &Default::default()).unwrap();
        shape = (f.rows, f.cols);
        match f.pixels {
            lauekit::io::Pixels::U16(p) => pixels.extend(p),
            _ => panic!("16-bit TIFF expected"),
        }
    }
    let mut b = hdf5_pure::FileBuilder::new();
    let mut entry = b.create_group("entry");
    let mut data = entry.create_group("data");
    data.create_dataset("data").with_u16_data(&pixels).with_shape(&[6, shape.0 as u64, shape.1 as u64]);
    entry.add_group(data.finish());
    b.add_group(entry.finish());
    let stack = dir.join("stack.h5");
    std::fs::write(&stack, b.finish().unwrap()).unwrap();
    let stacked = scan(&stack, &dir.join("stacked.h5"));
    assert_eq!(stacked.points.len(), 6);
    assert!(stacked.points.iter().filter(|p| p.status == PointStatus::Indexed).count() >= 5);
    for (a, b) in series.points.iter().zip(&stacked.points) {
        assert!(b.image.ends_with(&format!("stack.h5#{}", a.index)), "{}", b.image);
        assert_eq!((a.status, a.n_peaks, &a.grains), (b.status, b.n_peaks, &b.grains), "point {}", a.index);
    }
    std::fs::remove_dir_all(&dir).unwrap();
}
