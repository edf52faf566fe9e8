//! Readers under hostile and merely unusual input (issue 18, items 5–7): LaueTools' own file dialects
//! (byte-order marks, Latin-1 comments, comment lines before the header, lower-case headers, trailers
//! without framedim/CCDLabel), `--psp` given a file that is not one, multi-frame images and `--frame`,
//! NaN pixels, and files that must be refused before they are read (devices, FIFOs, forged sizes, a
//! bit-flipped HDF5) — each through the real CLI, checking the exit code, the message and, where a file
//! should now read, the result. Then every LaueTools text file of ../shared/data and of
//! tests/data/lauetools/dialects (written by LaueTools 3.2.19, tests/lauetools/make_dialects.py) through the
//! library's parsers.

use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::common::{Outcome, Snapshot, copy_in, lauekit, scratch, shared_data};

fn ge_blanc() -> PathBuf {
    shared_data().join("real/Ge_blanc")
}

fn examples() -> PathBuf {
    shared_data().join("lauetools_examples")
}

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).to_path_buf()
}

/// `bytes` of `src` with a UTF-8 byte-order mark in front, written to `dir/name`.
fn with_bom(src: &Path, dir: &Path, name: &str) -> PathBuf {
    let mut b = b"\xEF\xBB\xBF".to_vec();
    b.extend(std::fs::read(src).expect("read"));
    let p = dir.join(name);
    std::fs::write(&p, b).expect("write");
    p
}

fn json(o: &Outcome, case: &str) -> Value {
    o.assert_clean(case);
    assert_eq!(o.code, Some(0), "{case}: {o:#?}");
    serde_json::from_str(&o.stdout)
        .unwrap_or_else(|e| panic!("{case}: stdout is not JSON ({e}): {}", o.stdout))
}

/// Peaks found by `lauekit peaks … --format json` (one image).
fn n_peaks(o: &Outcome, case: &str) -> u64 {
    json(o, case)["n_peaks"].as_u64().unwrap_or_else(|| panic!("{case}: no n_peaks: {}", o.stdout))
}

/// Spots indexed in grain 0 by `lauekit index … --format json`, and the peaks it read.
fn indexed(o: &Outcome, case: &str) -> (u64, u64) {
    let j = json(o, case);
    let g = &j["grains"][0];
    let n = g["n_indexed"].as_u64().or_else(|| g["spots"].as_array().map(|s| s.len() as u64));
    let unindexed = j["unindexed"].as_array().map_or(0, |u| u.len() as u64);
    let n = n.unwrap_or_else(|| panic!("{case}: no grain: {}", o.stdout));
    (n, n + unindexed)
}

// ------------------------------------------------------------------------------ LaueTools dialects (CLI)

/// A UTF-8 byte-order mark in `.cor`, `.dat`, `.det` and the JSON settings changes nothing.
#[test]
fn byte_order_marks_are_ignored() {
    let dir = scratch("readers-bom");
    let gb = ge_blanc();
    let cor = gb.join("Ge_blanc_0000_LT_5.cor");
    let dat = gb.join("Ge_blanc_0000_LT_5.dat");
    let det = gb.join("calibGe111.det");
    let (cor_b, dat_b, det_b) =
        (with_bom(&cor, &dir, "bom.cor"), with_bom(&dat, &dir, "bom.dat"), with_bom(&det, &dir, "bom.det"));
    let snap = Snapshot::of(&[&cor_b, &dat_b, &det_b]);
    let s = |p: &Path| p.display().to_string();

    let plain = indexed(&lauekit(&dir, &["index", &s(&cor), "--material", "Ge", "--format", "json"]), "cor");
    let bom =
        indexed(&lauekit(&dir, &["index", &s(&cor_b), "--material", "Ge", "--format", "json"]), "cor+BOM");
    assert_eq!(bom, plain, ".cor with a BOM: (indexed, peaks)");
    assert_eq!(plain.1, 97);

    let args = |d: &Path, c: &Path| {
        vec![
            "index".to_string(),
            s(d),
            "--calib".into(),
            s(c),
            "--material".into(),
            "Ge".into(),
            "--format".into(),
            "json".into(),
        ]
    };
    let run = |v: Vec<String>, case: &str| {
        let v: Vec<&str> = v.iter().map(String::as_str).collect();
        indexed(&lauekit(&dir, &v), case)
    };
    let plain_dat = run(args(&dat, &det), "dat");
    assert_eq!(run(args(&dat_b, &det), "dat+BOM"), plain_dat, ".dat with a BOM");
    assert_eq!(run(args(&dat, &det_b), "det+BOM"), plain_dat, ".det with a BOM");

    let params = gb.join("peaksearch.json");
    let params_b = with_bom(&params, &dir, "bom.json");
    let mccd = s(&gb.join("Ge_blanc_0000.mccd"));
    let a = n_peaks(&lauekit(&dir, &["peaks", &mccd, "--params", &s(&params), "--format", "json"]), "json");
    let b =
        n_peaks(&lauekit(&dir, &["peaks", &mccd, "--params", &s(&params_b), "--format", "json"]), "json+BOM");
    assert_eq!((a, b), (97, 97));
    snap.assert_unchanged("byte_order_marks_are_ignored");
}

/// Latin-1 bytes: in a comment they read (as Latin-1), in a number they are an error naming the line.
#[test]
fn latin1_bytes_in_comments_and_numbers() {
    let dir = scratch("readers-latin1");
    let gb = ge_blanc();
    let text = std::fs::read(gb.join("Ge_blanc_0000_LT_5.cor")).expect("cor");
    let mut commented = text.clone();
    commented.extend(b"# mesur\xE9 au synchrotron, \xB5m\n");
    let good = dir.join("latin1_comment.cor");
    std::fs::write(&good, &commented).expect("write");
    let o = lauekit(&dir, &["index", &good.display().to_string(), "--material", "Ge", "--format", "json"]);
    assert_eq!(indexed(&o, "Latin-1 comment").1, 97);

    let at = text.windows(9).position(|w| w == b"20.128222").expect("chi of row 1");
    let mut bad = text.clone();
    bad[at + 2] = 0xB7; // '·' in Latin-1, in the middle of a number
    let badp = dir.join("latin1_number.cor");
    std::fs::write(&badp, &bad).expect("write");
    let o = lauekit(&dir, &["index", &badp.display().to_string(), "--material", "Ge"]);
    o.assert_refused(
        "Latin-1 in a number",
        &["latin1_number.cor", "line 2", "chi = '20\u{b7}128222' is not a number"],
    );

    let dat = std::fs::read(gb.join("Ge_blanc_0000_LT_5.dat")).expect("dat");
    let mut d = b"# liste des pics, d\xE9tecteur MarCCD\n".to_vec();
    d.extend(&dat);
    let datp = dir.join("latin1_head.dat");
    std::fs::write(&datp, d).expect("write");
    let det = gb.join("calibGe111.det").display().to_string();
    let o = lauekit(
        &dir,
        &["index", &datp.display().to_string(), "--calib", &det, "--material", "Ge", "--format", "json"],
    );
    assert_eq!(indexed(&o, "Latin-1 comment before a .dat header").1, 97);
}

/// LaueTools' `.cor` variants: lower-case `x y` (CuSi example), the commented header of
/// `*_unindexed_.cor`, a trailer without framedim/CCDLabel (then --calib is asked for by name).
#[test]
fn lauetools_cor_variants() {
    let dir = scratch("readers-cor");
    let ex = examples();
    let s = |p: PathBuf| p.display().to_string();
    let lower = s(ex.join("CuSi/corfiles/SiCustrain0.cor"));
    let o = lauekit(&dir, &["index", &lower, "--material", "Si", "--emax", "25", "--format", "json"]);
    let (n, all) = indexed(&o, "lower-case x y header");
    assert!(n >= 50 && all > n, "{n} of {all}");

    let unindexed = s(ex.join("CuSi/fitfiles3/SiCustrain0_unindexed_.cor"));
    let o = lauekit(&dir, &["index", &unindexed, "--material", "Cu", "--emax", "25", "--format", "json"]);
    o.assert_clean("unindexed .cor");
    assert_eq!(o.code, Some(0), "unindexed .cor: {o:#?}");
    let j: Value = serde_json::from_str(&o.stdout).expect("json");
    let read = j["grains"]
        .as_array()
        .map_or(0, |g| g.iter().map(|g| g["n_indexed"].as_u64().unwrap_or(0)).sum::<u64>())
        + j["unindexed"].as_array().map_or(0, |u| u.len() as u64);
    assert_eq!(read, 175, "the file says 'Number of unindexed spots: 175'");

    // defaultGe0001.cor: pixel size 0.08057 mm, no framedim, no CCDLabel.
    let default = s(ex.join("Ge/defaultGe0001.cor"));
    let o = lauekit(&dir, &["index", &default, "--material", "Ge"]);
    o.assert_refused("trailer without framedim", &["defaultGe0001.cor", "framedim", "--calib FILE.det"]);
    let det = s(ex.join("Ge/Ge0001calib.det"));
    let o = lauekit(&dir, &["index", &default, "--calib", &det, "--material", "Ge", "--format", "json"]);
    let (n, _) = indexed(&o, "defaultGe0001.cor with --calib");
    assert!(n >= 40, "{n} spots");
}

/// `--psp` given a JSON file (no [PeakSearch] section) is refused, naming the file and the section.
#[test]
fn psp_without_peaksearch_section_is_refused() {
    let dir = scratch("readers-psp");
    let gb = ge_blanc();
    let mccd = gb.join("Ge_blanc_0000.mccd").display().to_string();
    let json = gb.join("peaksearch.json").display().to_string();
    let o = lauekit(&dir, &["peaks", &mccd, "--psp", &json]);
    o.assert_refused("--psp a JSON file", &["peaksearch.json", "no [PeakSearch] section", "--params"]);
    let other = dir.join("other.psp");
    std::fs::write(&other, "[IndexRefine]\nnbgrainstofind = 2\n").expect("write");
    let o = lauekit(&dir, &["peaks", &mccd, "--psp", &other.display().to_string()]);
    o.assert_refused("--psp of another section", &["other.psp", "no [PeakSearch] section"]);
    // LaueTools' own .psp (savePeakSearchConfigFile, use_skimage included) reads, and so does the folder's.
    for psp in [
        repo().join("tests/data/lauetools/dialects/lt_saved.psp"),
        gb.join("PeakSearch_Ge_blanc_0000_LT_5.psp"),
    ] {
        let o = lauekit(&dir, &["peaks", &mccd, "--psp", &psp.display().to_string(), "--format", "json"]);
        let n = n_peaks(&o, "LaueTools .psp");
        assert!((80..=100).contains(&n), "{}: {n} peaks", psp.display());
    }
}

// ------------------------------------------------------------------------------ images (CLI)

/// A one-strip little-endian TIFF of f32 samples, written by hand.
fn f32_tiff(rows: u32, cols: u32, v: &[f32]) -> Vec<u8> {
    let data: Vec<u8> = v.iter().flat_map(|x| x.to_le_bytes()).collect();
    let ifd = 8 + data.len() as u32;
    let tags: [(u16, u16, u32); 9] = [
        (256, 4, cols),
        (257, 4, rows),
        (258, 3, 32),
        (259, 3, 1),
        (262, 3, 1),
        (273, 4, 8),
        (277, 3, 1),
        (278, 4, rows),
        (279, 4, data.len() as u32),
    ];
    let mut b = b"II*\0".to_vec();
    b.extend(ifd.to_le_bytes());
    b.extend(&data);
    b.extend((tags.len() as u16 + 1).to_le_bytes());
    for (t, ty, val) in tags {
        b.extend(t.to_le_bytes());
        b.extend(ty.to_le_bytes());
        b.extend(1u32.to_le_bytes());
        if ty == 3 {
            b.extend((val as u16).to_le_bytes());
            b.extend([0, 0]);
        } else {
            b.extend(val.to_le_bytes());
        }
    }
    // SampleFormat = 3 (IEEE float)
    b.extend(339u16.to_le_bytes());
    b.extend(3u16.to_le_bytes());
    b.extend(1u32.to_le_bytes());
    b.extend(3u16.to_le_bytes());
    b.extend([0, 0]);
    b.extend(0u32.to_le_bytes());
    b
}

/// A 128×128 float image: background 100 with a ±2 texture, Gaussian spots of 4000 at (x, y) = (40.3,
/// 50.6) and (90.2, 30.1) (LaueTools' convention is +1), and `nan` pixels set to NaN.
fn spots_image(nan: &[(usize, usize)]) -> Vec<u8> {
    let (rows, cols) = (128usize, 128usize);
    let mut v = vec![0f32; rows * cols];
    for r in 0..rows {
        for c in 0..cols {
            let mut x = 100.0 + ((r * 7 + c * 3) % 5) as f32 - 2.0;
            for (sx, sy) in [(39.3f32, 49.6f32), (89.2, 29.1)] {
                let d2 = (c as f32 - sx).powi(2) + (r as f32 - sy).powi(2);
                x += 4000.0 * (-d2 / (2.0 * 1.2 * 1.2)).exp();
            }
            v[r * cols + c] = x;
        }
    }
    for &(r, c) in nan {
        v[r * cols + c] = f32::NAN;
    }
    f32_tiff(rows as u32, cols as u32, &v)
}

/// NaN dead pixels are masked (a note on stderr) and the search gives the peaks of the same image without
/// them; a NaN at a spot's centre does not lose the spot.
#[test]
fn nan_pixels_are_masked_not_refused() {
    let dir = scratch("readers-nan");
    let clean = dir.join("clean.tif");
    std::fs::write(&clean, spots_image(&[])).expect("write");
    let dead = [(5, 5), (100, 100), (101, 100), (60, 10), (49, 39), (29, 90)];
    let nan = dir.join("nan.tif");
    std::fs::write(&nan, spots_image(&dead)).expect("write");
    let run = |p: &Path| {
        lauekit(&dir, &["peaks", &p.display().to_string(), "--threshold", "500", "--format", "json"])
    };
    let a = run(&clean);
    let b = run(&nan);
    assert!(b.stderr.contains("6 pixels masked (6 of them NaN or infinite)"), "{}", b.stderr);
    let (ja, jb) = (json(&a, "clean"), json(&b, "NaN"));
    let xy = |j: &Value| -> Vec<(f64, f64)> {
        j["peaks"]
            .as_array()
            .expect("peaks")
            .iter()
            .map(|p| (p["x"].as_f64().unwrap_or(0.0), p["y"].as_f64().unwrap_or(0.0)))
            .collect()
    };
    let (mut pa, mut pb) = (xy(&ja), xy(&jb));
    // The NaN at a spot's centre lowers its fitted height, so the order by intensity may change.
    pa.sort_by(|a, b| a.0.total_cmp(&b.0));
    pb.sort_by(|a, b| a.0.total_cmp(&b.0));
    assert_eq!(pa.len(), 2, "{pa:?}");
    assert_eq!(pb.len(), 2, "{pb:?}");
    for ((xa, ya), (xb, yb)) in pa.iter().zip(&pb) {
        assert!((xa - 40.3).abs() < 0.1 || (xa - 90.2).abs() < 0.1, "{xa}");
        assert!((xa - xb).abs() < 0.3 && (ya - yb).abs() < 0.3, "({xa}, {ya}) vs ({xb}, {yb})");
    }
}

/// Stacks: frame 0 with a warning naming the count; `--frame N` reads frame N silently; out of range is a
/// clear error. HDF5 (LIMA, Eiger) and multi-page TIFF.
#[test]
fn stacks_and_frame_selection() {
    let dir = scratch("readers-frames");
    let images = repo().join("tests/data/images");
    for (file, count) in [("lima_stack.h5", 2), ("eiger_stack.h5", 3), ("u16_3pages.tif", 3)] {
        let p = copy_in(&images.join(file), &dir, file);
        let s = p.display().to_string();
        let o = lauekit(&dir, &["peaks", &s, "--format", "json"]);
        o.assert_clean(file);
        assert_eq!(o.code, Some(0), "{file}: {o:#?}");
        let want = format!("{file} holds {count} frames; reading frame 0 (choose one with --frame N)");
        assert!(o.stderr.contains(&want), "{file}: {}", o.stderr);
        let last = (count - 1).to_string();
        let o = lauekit(&dir, &["peaks", &s, "--frame", &last, "--format", "json"]);
        assert_eq!(o.code, Some(0), "{file} --frame {last}: {o:#?}");
        assert!(!o.stderr.contains("holds"), "{file}: {}", o.stderr);
        let o = lauekit(&dir, &["peaks", &s, "--frame", "7"]);
        o.assert_refused(&format!("{file} --frame 7"), &[file, "7"]);
        assert!(o.stderr.contains("frame") || o.stderr.contains("page"), "{}", o.stderr);
        // index and characterize of an image take --frame too.
        let det = ge_blanc().join("calibGe111.det").display().to_string();
        let o = lauekit(&dir, &["index", &s, "--calib", &det, "--material", "Ge", "--frame", "9"]);
        o.assert_refused(&format!("index {file} --frame 9"), &[file, "9"]);
    }
    // A single image: --frame 1 is refused, --frame 0 is fine.
    let one = ge_blanc().join("Ge_blanc_0000.mccd").display().to_string();
    lauekit(&dir, &["peaks", &one, "--frame", "1"])
        .assert_refused("mccd --frame 1", &["Ge_blanc_0000.mccd", "1"]);
}

/// Inputs refused before anything is read: devices, FIFOs, folders, a 100000² TIFF header (both as the
/// strip tables agree and as they do not), a bit-flipped HDF5 superblock; no Rust Debug text.
#[test]
fn images_refused_before_reading() {
    let dir = scratch("readers-refused");
    let o = lauekit(&dir, &["peaks", "/dev/zero"]);
    o.assert_refused("/dev/zero", &["/dev/zero", "not a regular file"]);
    let fifo = dir.join("pipe.tif");
    let st = std::process::Command::new("mkfifo").arg(&fifo).status().expect("mkfifo");
    assert!(st.success());
    let o = lauekit(&dir, &["peaks", &fifo.display().to_string()]);
    o.assert_refused("FIFO", &["pipe.tif", "not a regular file"]);
    let o = lauekit(&dir, &["peaks", &dir.display().to_string()]);
    o.assert_refused("folder", &["a folder"]);
    let o = lauekit(&dir, &["index", "/dev/zero", "--calib", "/dev/null", "--material", "Ge"]);
    o.assert_refused("--calib /dev/null", &["/dev/null", "not a regular file"]);

    // 100000 × 100000, 16-bit, one strip; then the same with the strip tables of a 64×64 image (the
    // decoder's "inconsistent sizes" case).
    for (name, strips) in [("huge.tif", 1u32), ("forged.tif", 64)] {
        let mut b = b"II*\0".to_vec();
        b.extend(8u32.to_le_bytes());
        let tags: [(u16, u16, u32); 8] = [
            (256, 4, 100_000),
            (257, 4, 100_000),
            (258, 3, 16),
            (259, 3, 1),
            (262, 3, 1),
            (273, 4, 200),
            (278, 4, if strips == 1 { 100_000 } else { 1 }),
            (279, 4, 128),
        ];
        b.extend((tags.len() as u16).to_le_bytes());
        for (t, ty, v) in tags {
            b.extend(t.to_le_bytes());
            b.extend(ty.to_le_bytes());
            b.extend(1u32.to_le_bytes());
            b.extend(v.to_le_bytes());
        }
        b.extend(0u32.to_le_bytes());
        b.resize(400, 0);
        let p = dir.join(name);
        std::fs::write(&p, b).expect("write");
        let o = lauekit(&dir, &["peaks", &p.display().to_string()]);
        o.assert_refused(name, &[name, "frame 100000×100000", "over the limit", "LAUEKIT_MAX_IMAGE_PIXELS"]);
        assert!(!o.stderr.contains("inconsistent sizes"), "{}", o.stderr);
    }

    // HDF5 superblock (version 0) with bit 35 of its end-of-file address flipped.
    let mut h5 = std::fs::read(repo().join("tests/data/images/lima_stack.h5")).expect("h5");
    assert_eq!(h5[8], 0, "superblock version 0");
    h5[44] ^= 1 << 3;
    let p = dir.join("flipped.h5");
    std::fs::write(&p, h5).expect("write");
    let o = lauekit(&dir, &["peaks", &p.display().to_string()]);
    o.assert_refused("bit-flipped HDF5", &["flipped.h5", "corrupt"]);
    assert!(!o.stderr.contains("truncated"), "{}", o.stderr);

    // Colour and multi-band TIFFs: named in words, not with Rust Debug text.
    for (name, samples) in [("rgb.tif", 3u16), ("two_band.tif", 2)] {
        let (rows, cols) = (4u32, 4u32);
        let data = vec![0u8; (rows * cols) as usize * samples as usize];
        let mut b = b"II*\0".to_vec();
        b.extend((8 + data.len() as u32 + 8).to_le_bytes());
        b.extend(&data);
        b.extend([8u8, 0, 8, 0, 8, 0, 0, 0]);
        let bps_offset = 8 + data.len() as u32;
        let photometric = if samples == 3 { 2 } else { 1 };
        let tags: [(u16, u16, u32, u32); 9] = [
            (256, 4, 1, cols),
            (257, 4, 1, rows),
            (258, 3, samples as u32, bps_offset),
            (259, 3, 1, 1),
            (262, 3, 1, photometric),
            (273, 4, 1, 8),
            (277, 3, 1, samples as u32),
            (278, 4, 1, rows),
            (279, 4, 1, data.len() as u32),
        ];
        b.extend((tags.len() as u16).to_le_bytes());
        for (t, ty, n, v) in tags {
            b.extend(t.to_le_bytes());
            b.extend(ty.to_le_bytes());
            b.extend(n.to_le_bytes());
            if ty == 3 && n == 1 {
                b.extend((v as u16).to_le_bytes());
                b.extend([0, 0]);
            } else if ty == 3 && n == 2 {
                b.extend([8, 0, 8, 0]);
            } else {
                b.extend(v.to_le_bytes());
            }
        }
        b.extend(0u32.to_le_bytes());
        let p = dir.join(name);
        std::fs::write(&p, b).expect("write");
        let o = lauekit(&dir, &["peaks", &p.display().to_string()]);
        o.assert_refused(name, &[name, "one grey sample"]);
        for debug in ["{", "RGB(", "Multiband", "ChunkType", "GrayA("] {
            assert!(!o.stderr.contains(debug), "{name}: Debug text '{debug}': {}", o.stderr);
        }
    }

    // A binary file where a text file is expected.
    let img = ge_blanc().join("Ge_blanc_0000.mccd").display().to_string();
    let o = lauekit(&dir, &["index", &img, "--calib", &img, "--material", "Ge"]);
    o.assert_refused("image as .det", &["Ge_blanc_0000.mccd", "binary data", "not a text file"]);
}

// ------------------------------------------------------------------------------ every file (library)

/// Every LaueTools text file of ../shared/data and of tests/data/lauetools/dialects is read by its parser;
/// the few that are not peak lists or settings lauekit reads are listed here with the reason.
#[test]
fn every_lauetools_file_parses() {
    // (file name, reason it is not read)
    let not_read: &[(&str, &str)] = &[
        ("SiCustrain_0_to_5_xy.dat", "a scan position table (img, xech, yech), not a peak list"),
        ("Si.irp", "indexing settings: lauekit has no .irp reader (index settings are flags or JSON)"),
        ("cu.irp", "indexing settings: lauekit has no .irp reader"),
        ("sicu.irp", "indexing settings: lauekit has no .irp reader"),
        ("dat_Ge_blanc_0000_LT_5_0.irp", "indexing settings: lauekit has no .irp reader"),
    ];
    let mut files = Vec::new();
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
        for e in std::fs::read_dir(dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())) {
            let p = e.expect("entry").path();
            if p.is_dir() {
                walk(&p, out);
            } else if matches!(
                p.extension().and_then(|x| x.to_str()),
                Some("cor" | "dat" | "det" | "fit" | "psp" | "irp")
            ) {
                out.push(p);
            }
        }
    }
    walk(&shared_data(), &mut files);
    walk(&repo().join("tests/data/lauetools/dialects"), &mut files);
    files.sort();
    assert!(files.len() >= 70, "{} files", files.len());
    let mut read = 0;
    for f in &files {
        let base = f.file_name().and_then(|n| n.to_str()).unwrap_or("");
        if not_read.iter().any(|(n, _)| *n == base) {
            continue;
        }
        let name = f.display().to_string();
        let bytes = std::fs::read(f).expect("read");
        let text = lauekit::io::text::decode(&bytes, &name).unwrap_or_else(|e| panic!("{e}"));
        let ext = f.extension().and_then(|x| x.to_str()).unwrap_or("");
        let parse = |text: &str| -> usize {
            match ext {
                "cor" => {
                    let c = lauekit::io::peaklist::read_cor(text, &name).unwrap_or_else(|e| panic!("{e}"));
                    // Every trailer gives a calibration, except defaultGe0001.cor (no frame: --calib needed).
                    match c.calibration(&name) {
                        Ok(_) => {}
                        Err(e) if base == "defaultGe0001.cor" => {
                            assert!(e.to_string().contains("--calib FILE.det"), "{e}")
                        }
                        Err(e) => panic!("{e}"),
                    }
                    c.peaks.len()
                }
                "dat" => lauekit::io::peaklist::read_dat(text, &name).unwrap_or_else(|e| panic!("{e}")).len(),
                "det" => {
                    lauekit::io::DetFile::parse(text, &name).unwrap_or_else(|e| panic!("{e}"));
                    1
                }
                "fit" => lauekit::io::FitFile::parse_all(text, &name).unwrap_or_else(|e| panic!("{e}")).len(),
                "psp" => {
                    lauekit::peaks::PeakSearchParams::from_psp(text, &name).unwrap_or_else(|e| panic!("{e}"));
                    1
                }
                other => panic!("{name}: .{other} is not listed as unread"),
            }
        };
        let n = parse(&text);
        assert!(n > 0, "{name}: nothing read");
        // The same text with a byte-order mark, and with a Latin-1 comment line appended, reads the same.
        assert_eq!(parse(&format!("\u{feff}{text}")), n, "{name} with a BOM");
        let mut latin1 = bytes.clone();
        if !latin1.ends_with(b"\n") {
            latin1.push(b'\n');
        }
        latin1.extend(b"# commentaire \xE9crit en Latin-1 (\xB5m)\n");
        let t = lauekit::io::text::decode(&latin1, &name).expect("decode");
        if ext != "psp" && ext != "det" {
            assert_eq!(parse(&t), n, "{name} with a Latin-1 comment");
        }
        read += 1;
    }
    assert!(read >= 65, "{read} files read");
}
