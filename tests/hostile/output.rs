//! The output policy (`src/io/output.rs`): no output replaces an input of its run (path, symbolic link,
//! hard link), no two outputs of a run collide, raw images are never replaced by text, stale results are
//! removed; and every command that prints survives a closed pipe and a full device on stdout.

use std::path::{Path, PathBuf};
use std::process::Stdio;

use crate::common::{Outcome, Snapshot, copy_in, lauekit, lauekit_with, scratch, shared_data};

fn ge_blanc() -> PathBuf {
    shared_data().join("real/Ge_blanc")
}

/// A scratch folder with `x.mccd` (Ge_blanc_0000), `c.det` (its calibration), `x.cor` and `x.dat` (its
/// LaueTools peak lists).
fn setup(case: &str) -> PathBuf {
    let dir = scratch(&format!("output-{case}"));
    let gb = ge_blanc();
    copy_in(&gb.join("Ge_blanc_0000.mccd"), &dir, "x.mccd");
    copy_in(&gb.join("calibGe111.det"), &dir, "c.det");
    copy_in(&gb.join("Ge_blanc_0000_LT_5.cor"), &dir, "x.cor");
    copy_in(&gb.join("Ge_blanc_0000_LT_5.dat"), &dir, "x.dat");
    dir
}

fn write(dir: &Path, name: &str, text: &str) {
    std::fs::write(dir.join(name), text).unwrap_or_else(|e| panic!("{name}: {e}"));
}

/// A .cor of the first `n` peaks of x.cor (header and calibration trailer kept).
fn few_peaks_cor(dir: &Path, n: usize, name: &str) {
    let text = std::fs::read_to_string(dir.join("x.cor")).expect("x.cor");
    let lines: Vec<&str> = text.lines().collect();
    let data: Vec<&str> = lines[1..].iter().take_while(|l| !l.starts_with('#')).take(n).copied().collect();
    let trailer: Vec<&str> = lines.iter().filter(|l| l.starts_with('#')).copied().collect();
    write(dir, name, &format!("{}\n{}\n{}\n", lines[0], data.join("\n"), trailer.join("\n")));
}

/// One refused run: what to prepare, the command, what stderr must say, the files that must not change
/// and those that must not appear.
struct Refusal {
    case: &'static str,
    prepare: fn(&Path),
    args: &'static [&'static str],
    needles: &'static [&'static str],
    unchanged: &'static [&'static str],
    absent: &'static [&'static str],
}

fn nothing(_: &Path) {}

fn hard_link(dir: &Path) {
    std::fs::hard_link(dir.join("x.mccd"), dir.join("h.dat")).expect("hard link");
}

fn symlink(dir: &Path) {
    std::os::unix::fs::symlink(dir.join("x.mccd"), dir.join("s.dat")).expect("symlink");
}

fn two_folders(dir: &Path) {
    for sub in ["a", "b"] {
        std::fs::create_dir_all(dir.join(sub)).expect("mkdir");
        std::fs::copy(dir.join("x.mccd"), dir.join(sub).join("img.mccd")).expect("copy");
    }
}

fn scan_folder(dir: &Path) {
    std::fs::create_dir_all(dir.join("scan")).expect("mkdir");
    std::fs::copy(dir.join("x.mccd"), dir.join("scan/img_0000.mccd")).expect("copy");
}

fn other_image(dir: &Path) {
    std::fs::copy(dir.join("x.mccd"), dir.join("other.mccd")).expect("copy");
}

fn shards(dir: &Path) {
    write(dir, "shard.h5", "not really a shard");
}

const REFUSALS: &[Refusal] = &[
    Refusal {
        case: "peaks -o its image",
        prepare: nothing,
        args: &["peaks", "x.mccd", "-o", "x.mccd"],
        needles: &["x.mccd", "is an input of this run"],
        unchanged: &["x.mccd"],
        absent: &[],
    },
    Refusal {
        case: "peaks -o ./its image",
        prepare: nothing,
        args: &["peaks", "x.mccd", "-o", "./x.mccd"],
        needles: &["is an input of this run, the same file as x.mccd"],
        unchanged: &["x.mccd"],
        absent: &[],
    },
    Refusal {
        case: "index -o its .cor",
        prepare: nothing,
        args: &["index", "x.cor", "--material", "Ge", "-o", "x.cor"],
        needles: &["x.cor", "is an input of this run"],
        unchanged: &["x.cor"],
        absent: &[],
    },
    Refusal {
        case: "peaks --cor on the --calib file",
        prepare: nothing,
        args: &["peaks", "x.mccd", "--calib", "c.det", "--cor", "c.det"],
        needles: &["c.det", "is an input of this run, the same file as c.det"],
        unchanged: &["x.mccd", "c.det"],
        absent: &[],
    },
    Refusal {
        case: "peaks -o a hard link of its image",
        prepare: hard_link,
        args: &["peaks", "x.mccd", "-o", "h.dat"],
        needles: &["h.dat", "is an input of this run, the same file as x.mccd"],
        unchanged: &["x.mccd", "h.dat"],
        absent: &[],
    },
    Refusal {
        case: "peaks -o a symbolic link to its image",
        prepare: symlink,
        args: &["peaks", "x.mccd", "-o", "s.dat"],
        needles: &["s.dat", "is an input of this run, the same file as x.mccd"],
        unchanged: &["x.mccd"],
        absent: &[],
    },
    Refusal {
        case: "peaks on two images of one name into one folder",
        prepare: two_folders,
        args: &["peaks", "a/img.mccd", "b/img.mccd", "-o", "out"],
        needles: &["out/img.dat", "a/img.mccd", "b/img.mccd", "distinct names"],
        unchanged: &["a/img.mccd", "b/img.mccd"],
        absent: &["out/img.dat"],
    },
    Refusal {
        case: "peaks -o another raw image",
        prepare: other_image,
        args: &["peaks", "x.mccd", "-o", "other.mccd"],
        needles: &["other.mccd", "detector image"],
        unchanged: &["x.mccd", "other.mccd"],
        absent: &[],
    },
    Refusal {
        case: "index -o the calibration",
        prepare: nothing,
        args: &["index", "x.dat", "--calib", "c.det", "--material", "Ge", "-o", "c.det"],
        needles: &["c.det", "is an input of this run"],
        unchanged: &["x.dat", "c.det"],
        absent: &[],
    },
    Refusal {
        case: "calibrate -o its start .det, even with --force",
        prepare: nothing,
        args: &["calibrate", "x.cor", "--material", "Ge", "--calib", "c.det", "-o", "c.det", "--force"],
        needles: &["c.det", "is an input of this run"],
        unchanged: &["x.cor", "c.det"],
        absent: &[],
    },
    Refusal {
        case: "simulate --image on its .det",
        prepare: nothing,
        args: &["simulate", "--material", "Ge", "--calib", "c.det", "--euler", "0,0,0", "--image", "c.det"],
        needles: &["c.det", "is an input of this run"],
        unchanged: &["c.det"],
        absent: &[],
    },
    Refusal {
        case: "scan results written onto one of its images, even with --force",
        prepare: scan_folder,
        args: &[
            "scan",
            "scan",
            "--calib",
            "c.det",
            "--material",
            "Ge",
            "--grid",
            "1x1",
            "--force",
            "-o",
            "scan/img_0000.mccd",
        ],
        needles: &["scan/img_0000.mccd", "is an input of this run"],
        unchanged: &["scan/img_0000.mccd", "c.det"],
        absent: &["scan/img_0000.mccd.journal"],
    },
    Refusal {
        case: "scan --json onto its calibration",
        prepare: scan_folder,
        args: &[
            "scan",
            "scan",
            "--calib",
            "c.det",
            "--material",
            "Ge",
            "--grid",
            "1x1",
            "-o",
            "r.h5",
            "--json",
            "c.det",
        ],
        needles: &["c.det", "is an input of this run"],
        unchanged: &["scan/img_0000.mccd", "c.det"],
        absent: &["r.h5", "r.h5.journal"],
    },
    Refusal {
        case: "scan merge -o one of its shards",
        prepare: shards,
        args: &["scan", "merge", "shard.h5", "-o", "shard.h5", "--force"],
        needles: &["shard.h5", "is an input of this run"],
        unchanged: &["shard.h5"],
        absent: &[],
    },
];

#[test]
fn outputs_never_replace_inputs_nor_each_other() {
    for (k, r) in REFUSALS.iter().enumerate() {
        let dir = setup(&format!("refuse-{k}"));
        (r.prepare)(&dir);
        let unchanged: Vec<PathBuf> = r.unchanged.iter().map(|f| dir.join(f)).collect();
        let snap = Snapshot::of(&unchanged.iter().map(PathBuf::as_path).collect::<Vec<_>>());
        let out = lauekit(&dir, r.args);
        out.assert_refused(r.case, r.needles);
        assert_eq!(out.code, Some(1), "{}: {out:#?}", r.case);
        snap.assert_unchanged(r.case);
        for f in r.absent {
            assert!(!dir.join(f).exists(), "{}: {f} was written", r.case);
        }
        let leftovers: Vec<String> = std::fs::read_dir(&dir)
            .expect("list")
            .filter_map(|e| e.ok().map(|e| e.file_name().to_string_lossy().into_owned()))
            .filter(|n| n.contains(".lauekit-tmp-"))
            .collect();
        assert!(leftovers.is_empty(), "{}: temporaries left: {leftovers:?}", r.case);
    }
}

#[test]
fn index_without_grain_removes_the_older_fit() {
    let dir = setup("no-grain");
    few_peaks_cor(&dir, 4, "few.cor");
    write(&dir, "r.fit", "# an older result of another input\n");
    let snap = Snapshot::of(&[&dir.join("few.cor")]);
    let out = lauekit(&dir, &["index", "few.cor", "--material", "Ge", "-o", "r.fit"]);
    out.assert_clean("no grain");
    assert_eq!(out.code, Some(0), "{out:#?}");
    assert!(out.stderr.contains("no grain found: r.fit not written"), "{}", out.stderr);
    assert!(out.stderr.contains("removed r.fit"), "{}", out.stderr);
    assert!(!dir.join("r.fit").exists(), "the older r.fit is still there");
    snap.assert_unchanged("no grain");
}

#[test]
fn index_removes_per_grain_fits_of_older_runs() {
    let dir = setup("fewer-grains");
    for k in [0, 1, 2] {
        write(&dir, &format!("r_g{k}.fit"), "# older per-grain result\n");
    }
    write(&dir, "r_gx.fit", "# not a per-grain name: kept\n");
    let snap = Snapshot::of(&[&dir.join("x.cor"), &dir.join("r_gx.fit")]);
    let out = lauekit(&dir, &["index", "x.cor", "--material", "Ge", "-o", "r.fit"]);
    out.assert_clean("fewer grains");
    assert_eq!(out.code, Some(0), "{out:#?}");
    let fit = std::fs::read_to_string(dir.join("r.fit")).expect("r.fit written");
    assert!(fit.contains("Ge"), "{fit}");
    for k in [0, 1, 2] {
        assert!(!dir.join(format!("r_g{k}.fit")).exists(), "r_g{k}.fit left");
        assert!(out.stderr.contains(&format!("removed r_g{k}.fit")), "{}", out.stderr);
    }
    snap.assert_unchanged("fewer grains");
}

#[test]
fn peaks_batch_writes_each_image_and_removes_the_older_dat_of_a_failed_one() {
    let dir = setup("batch");
    std::fs::create_dir_all(dir.join("out")).expect("mkdir");
    write(&dir, "broken.mccd", "not an image");
    write(&dir, "out/broken.dat", "# older peaks of broken.mccd\n");
    let snap = Snapshot::of(&[&dir.join("x.mccd"), &dir.join("broken.mccd")]);
    let out = lauekit(&dir, &["peaks", "x.mccd", "broken.mccd", "-o", "out"]);
    out.assert_refused(
        "batch with a failure",
        &["broken.mccd", "1 of 2 images failed", "removed out/broken.dat"],
    );
    let dat = std::fs::read_to_string(dir.join("out/x.dat")).expect("out/x.dat");
    assert!(dat.lines().filter(|l| !l.starts_with('#')).count() > 50, "{dat}");
    assert!(!dir.join("out/broken.dat").exists());
    snap.assert_unchanged("batch with a failure");
    // One image that fails: nothing written, nothing removed.
    write(&dir, "one.dat", "# older\n");
    let out = lauekit(&dir, &["peaks", "broken.mccd", "-o", "one.dat"]);
    out.assert_refused("one failed image", &["nothing was written"]);
    assert_eq!(std::fs::read_to_string(dir.join("one.dat")).expect("one.dat"), "# older\n");
}

#[test]
fn existing_outputs_need_force_where_the_command_says_so() {
    let dir = setup("force");
    write(&dir, "new.det", "# an older calibration\n");
    let args = ["calibrate", "x.cor", "--material", "Ge", "--calib", "c.det", "-o", "new.det"];
    let out = lauekit(&dir, &args);
    out.assert_refused("calibrate over an existing .det", &["new.det", "--force"]);
    assert_eq!(std::fs::read_to_string(dir.join("new.det")).expect("new.det"), "# an older calibration\n");
    let mut forced = args.to_vec();
    forced.push("--force");
    let out = lauekit(&dir, &forced);
    out.assert_clean("calibrate --force");
    assert_eq!(out.code, Some(0), "{out:#?}");
    assert!(std::fs::read_to_string(dir.join("new.det")).expect("new.det").contains("dd"));
}

/// Every command that prints to stdout, with what it needs (run in a `setup` folder).
const PRINTERS: &[(&str, &[&str])] = &[
    ("help", &["--help"]),
    ("version", &["--version"]),
    ("materials", &["materials"]),
    ("simulate tsv", &["simulate", "--material", "Ge", "--calib", "c.det", "--euler", "0,0,0"]),
    (
        "simulate json",
        &["simulate", "--material", "Ge", "--calib", "c.det", "--euler", "0,0,0", "--format", "json"],
    ),
    ("peaks dat", &["peaks", "x.mccd"]),
    ("peaks json", &["peaks", "x.mccd", "--format", "json"]),
    ("index text", &["index", "x.cor", "--material", "Ge"]),
    ("index json", &["index", "x.cor", "--material", "Ge", "--format", "json"]),
    ("calibrate", &["calibrate", "x.cor", "--material", "Ge", "--calib", "c.det"]),
    ("characterize", &["characterize", "x.mccd", "--peaks", "x.dat"]),
    (
        "scan",
        &[
            "scan",
            "scan",
            "--calib",
            "c.det",
            "--material",
            "Ge",
            "--grid",
            "1x1",
            "-o",
            "r.h5",
            "--force",
            "--quiet",
        ],
    ),
    ("scan sbatch", &["scan", "sbatch", "--tasks", "4", "--", "scan", "-o", "r.h5"]),
    ("simulate-scan", &["simulate-scan", "-o", "synth-p", "--grid", "2x2", "--size", "64", "--force"]),
    ("bench", &["bench", "simulate", "--seconds", "0.05"]),
    ("scan compare", &["scan", "compare", "r.h5", "r.h5"]),
    ("scan maps", &["scan", "maps", "r.h5", "--png", "maps"]),
    ("scan merge", &["scan", "merge", "r.h5", "-o", "m.h5", "--force"]),
    ("scan truth", &["scan", "truth", "s.h5", "synth/truth.json"]),
    ("cluster", &["cluster", "scan3", "--grid", "3x1", "--features", "pixels", "--k", "2", "--quiet"]),
    (
        "train-index",
        &[
            "train-index",
            "--material",
            "Ge",
            "--calib",
            "c.det",
            "--orientations",
            "5",
            "--epochs",
            "1",
            "--eval-images",
            "1",
            "-o",
            "model",
        ],
    ),
    ("train-spotnet", &["train-spotnet", "x.mccd", "--synthetic", "50", "--epochs", "1", "--per-bin", "5"]),
];

fn check_stdout_failure(case: &str, out: &Outcome, full: bool) {
    out.assert_clean(case);
    if full {
        assert_eq!(out.code, Some(1), "{case}: {out:#?}");
        assert!(out.stderr.contains("cannot write to standard output"), "{case}: {}", out.stderr);
    } else {
        assert_eq!(out.code, Some(141), "{case}: {out:#?}");
    }
}

#[test]
fn every_printing_command_survives_a_closed_pipe_and_a_full_device() {
    let dir = setup("stdout");
    scan_folder(&dir);
    std::fs::create_dir_all(dir.join("scan3")).expect("mkdir");
    for k in 0..3 {
        std::fs::copy(dir.join("x.mccd"), dir.join(format!("scan3/img_000{k}.mccd"))).expect("copy");
    }
    copy_in(&ge_blanc().join("peaksearch.json"), &dir, "peaksearch.json");
    // Results for the scan sub-verbs that read them: one real point, and a synthetic scan with its truth.
    let prepare: [&[&str]; 3] = [
        &["scan", "scan", "--calib", "c.det", "--material", "Ge", "--grid", "1x1", "-o", "r.h5", "--quiet"],
        &[
            "simulate-scan",
            "-o",
            "synth",
            "--grid",
            "2x2",
            "--size",
            "128",
            "--grains",
            "1",
            "--no-twin",
            "--boundary-width-um",
            "0",
            "--empty-fraction",
            "0",
        ],
        &["scan", "synth", "--calib", "synth/calib.det", "--material", "Cu", "-o", "s.h5", "--quiet"],
    ];
    for args in prepare {
        let out = lauekit(&dir, args);
        out.assert_clean("prepare");
        assert_eq!(out.code, Some(0), "{out:#?}");
    }
    let inputs: Vec<PathBuf> = ["x.mccd", "x.cor", "x.dat", "c.det"].iter().map(|f| dir.join(f)).collect();
    let snap = Snapshot::of(&inputs.iter().map(PathBuf::as_path).collect::<Vec<_>>());
    for (case, args) in PRINTERS {
        let (reader, writer) = std::io::pipe().expect("pipe");
        drop(reader);
        let out = lauekit_with(&dir, args, Stdio::from(writer));
        check_stdout_failure(&format!("{case} | (closed)"), &out, false);
        let full = std::fs::OpenOptions::new().write(true).open("/dev/full").expect("/dev/full");
        let out = lauekit_with(&dir, args, Stdio::from(full));
        check_stdout_failure(&format!("{case} > /dev/full"), &out, true);
    }
    snap.assert_unchanged("stdout failures");
}
