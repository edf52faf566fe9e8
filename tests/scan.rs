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
