//! Custom crystals through the built binary: a BaTiO3 pattern simulated with `--lattice --spacegroup --name`
//! in the ALS Pilatus geometry (XMMLAS' calibration), indexed back with the same flags, with a materials
//! file, by table name, and by a LaueNN model trained for the custom lattice (no material flag); a bad
//! materials file refused with its name and entry.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use lauekit::crystal::{Lattice, LaueGroup};
use lauekit::geometry::euler_to_matrix;
use lauekit::geometry::orientation::misorientation_deg;
use nalgebra::Matrix3;

const BTO_LATTICE: &str = "3.992,3.992,4.036,90,90,90";
/// LaueTools Euler angles (deg) of the simulated grain.
const EULER: [f64; 3] = [20.0, 35.0, 50.0];

fn det() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/data/real/ALS_Pilatus/calib_xmmlas.det")
}

fn scratch(case: &str) -> PathBuf {
    let dir = std::env::temp_dir().join("lauekit-materials-cli").join(case);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("scratch folder");
    dir
}

fn run(cwd: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_lauekit")).args(args).current_dir(cwd).output().expect("run lauekit")
}

fn ok(cwd: &Path, args: &[&str]) -> String {
    let o = run(cwd, args);
    assert!(
        o.status.success(),
        "lauekit {args:?} failed: {}\n{}",
        String::from_utf8_lossy(&o.stderr),
        String::from_utf8_lossy(&o.stdout)
    );
    String::from_utf8(o.stdout).expect("utf-8")
}

/// Simulates the BaTiO3 grain with the custom flags and writes its spots as a LaueTools `.dat` (intensity
/// falling with |hkl|², so the low-index spots lead the pair search as in a real pattern). Returns the path.
fn simulated_peaks(dir: &Path) -> PathBuf {
    let det = det();
    let euler = EULER.map(|x| x.to_string()).join(",");
    let tsv = ok(
        dir,
        &[
            "simulate",
            "--lattice",
            BTO_LATTICE,
            "--spacegroup",
            "99",
            "--name",
            "BaTiO3",
            "--calib",
            det.to_str().expect("path"),
            "--euler",
            &euler,
        ],
    );
    let mut dat = String::from(
        "peak_X peak_Y peak_Itot peak_Isub peak_fwaxmaj peak_fwaxmin peak_inclination Xdev Ydev peak_bkg Ipixmax\n",
    );
    let mut n = 0;
    for line in tsv.lines().skip(1) {
        let c: Vec<&str> = line.split('\t').collect();
        let hkl: Vec<i32> = c[..3].iter().map(|t| t.parse().expect("hkl")).collect();
        let i = 1e4 / (hkl.iter().map(|h| h * h).sum::<i32>() as f64);
        dat.push_str(&format!("{} {} {i:.1} {i:.1} 1 1 0 0 0 10 {i:.0}\n", c[5], c[6]));
        n += 1;
    }
    assert!(n > 60, "only {n} BaTiO3 spots on the Pilatus");
    let p = dir.join("bto.dat");
    std::fs::write(&p, dat).expect("write .dat");
    p
}

/// The first grain of an `index --format json` report: material, reference lattice, misorientation (deg)
/// to the simulated orientation under the tetragonal Laue group.
fn first_grain(json: &str) -> (String, Vec<f64>, f64) {
    let j: serde_json::Value = serde_json::from_str(json).expect("index json");
    let g = &j["grains"][0];
    let ub: Vec<Vec<f64>> = serde_json::from_value(g["ub"].clone()).expect("ub");
    let ub = Matrix3::from_fn(|r, c| ub[r][c]);
    let lattice: Vec<f64> = serde_json::from_value(g["lattice"].clone()).expect("lattice");
    let cell = Lattice::new([3.992, 3.992, 4.036, 90.0, 90.0, 90.0]).expect("cell");
    let sym = LaueGroup::Tetragonal4mmm.rotations(&cell).expect("4/mmm");
    let truth = euler_to_matrix(EULER);
    let u = nalgebra::Rotation3::from_matrix(&ub).into_inner();
    (g["material"].as_str().unwrap_or("").to_string(), lattice, misorientation_deg(&u, &truth, &sym))
}

#[test]
fn index_recovers_a_custom_batio3_orientation() {
    let dir = scratch("custom");
    let dat = simulated_peaks(&dir);
    let det = det();
    let (dat, det) = (dat.to_str().expect("path"), det.to_str().expect("path"));
    let custom = ["--lattice", BTO_LATTICE, "--spacegroup", "99", "--name", "BaTiO3"];
    let mut args = vec!["index", dat, "--calib", det, "--format", "json", "-o", "bto.fit"];
    args.extend(custom);
    let (material, lattice, mis) = first_grain(&ok(&dir, &args));
    eprintln!("custom flags: misorientation {mis:.2e}°");
    assert_eq!(material, "BaTiO3");
    assert_eq!(lattice, [3.992, 3.992, 4.036, 90.0, 90.0, 90.0]);
    assert!(mis < 0.1, "misorientation to the simulated grain {mis}°");
    let fit = std::fs::read_to_string(dir.join("bto.fit")).expect(".fit written");
    assert!(fit.contains("#Element\n#BaTiO3\n"), "{fit}");

    // The same crystal from a materials file (JSON), and from the table.
    std::fs::write(
        dir.join("mine.json"),
        r#"[{"name": "myBTO", "lattice": [3.992, 3.992, 4.036, 90, 90, 90], "spacegroup": 99, "source": "test"}]"#,
    )
    .expect("write materials file");
    for flags in [["--materials", "mine.json", "--material", "myBTO"].as_slice(), &["--material", "BaTiO3"]] {
        let mut args = vec!["index", dat, "--calib", det, "--format", "json"];
        args.extend(flags);
        let (material, _, mis) = first_grain(&ok(&dir, &args));
        eprintln!("{flags:?}: misorientation {mis:.2e}°");
        assert!(material.eq_ignore_ascii_case(flags[flags.len() - 1]), "{material} for {flags:?}");
        assert!(mis < 0.1, "{flags:?}: misorientation {mis}°");
    }

    // A LaueNN model trained for the custom lattice records it; `index --model` then needs no material flag.
    let mut train = vec![
        "train-index",
        "--calib",
        det,
        "--orientations",
        "20",
        "--epochs",
        "1",
        "--grains",
        "1",
        "--radius",
        "20",
        "--bin",
        "0.5",
        "--max-index",
        "3",
        "--min-class-samples",
        "1",
        "-o",
        "bto_model",
    ];
    train.extend(custom);
    ok(&dir, &train);
    let meta: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("bto_model.json")).expect("model json"))
            .expect("model json");
    let m = &meta["materials"][0];
    assert_eq!(m["name"], "BaTiO3");
    assert_eq!(m["lattice"]["c"], 4.036);
    assert_eq!(m["space_group"], 99);
    let json = ok(
        &dir,
        &["index", dat, "--calib", det, "--method", "nn", "--model", "bto_model", "--format", "json"],
    );
    let (material, lattice, mis) = first_grain(&json);
    eprintln!("model: misorientation {mis:.2e}°");
    assert_eq!((material.as_str(), lattice[2]), ("BaTiO3", 4.036));
    assert!(mis < 0.1, "with the model: misorientation {mis}°");
}

#[test]
fn materials_files_list_and_bad_ones_are_refused() {
    let dir = scratch("files");
    std::fs::write(
        dir.join("good.toml"),
        "[[materials]]\nname = \"myQuartz\"\nlattice = [4.9134, 4.9134, 5.4052, 90, 90, 120]\nspacegroup = 154\n\
         source = \"Levien et al. 1980\"\n",
    )
    .expect("write");
    let list = ok(&dir, &["materials", "--materials", "good.toml"]);
    let row = list.lines().find(|l| l.starts_with("myQuartz\t")).expect("file row listed");
    assert!(row.contains("\t154\t-3m1\t") && row.ends_with("Levien et al. 1980"), "{row}");
    for name in ["BaTiO3", "quartz", "sapphire", "diamond", "GaAs", "Ni3Al", "SiC-4H", "AuCuZn"] {
        assert!(list.lines().any(|l| l.starts_with(&format!("{name}\t"))), "{name} not listed");
    }

    std::fs::write(
        dir.join("bad.json"),
        r#"[{"name": "fine", "lattice": [3, 3, 3, 90, 90, 90], "spacegroup": 225},
            {"name": "broken", "lattice": [3, 3, 3, 90, 90, 90]}]"#,
    )
    .expect("write");
    std::fs::write(
        dir.join("p.dat"),
        "peak_X peak_Y peak_Itot peak_Isub a b c d e f g\n1 1 1 1 1 1 0 0 0 1 1\n",
    )
    .expect("write");
    let det = det();
    let o = run(
        &dir,
        &[
            "index",
            "p.dat",
            "--calib",
            det.to_str().expect("path"),
            "--materials",
            "bad.json",
            "--material",
            "fine",
        ],
    );
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert!(
        err.contains("bad.json: entry 2 ('broken'): material 'broken': give a space group"),
        "stderr: {err}"
    );
    // An unknown name lists the file's names and the table's.
    let o =
        run(&dir, &["simulate", "--materials", "good.toml", "--material", "myQuarz", "--calib", "1,2,3,4,5"]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("unknown material 'myQuarz'") && err.contains("myQuartz, Cu"), "stderr: {err}");
}
