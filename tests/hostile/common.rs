//! The harness of the hostile-input tables: run the CLI with limits, check the outcome, check inputs survive.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Address-space limit of every run (the 2 GB memory bound).
pub const MEMORY_LIMIT_BYTES: u64 = 2 << 30;
/// Wall-clock limit of every run (the 60 s hang bound).
pub const TIME_LIMIT: Duration = Duration::from_secs(60);

/// `../shared/data` beside the repository.
pub fn shared_data() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/data")
}

/// A fresh scratch folder for one case (removed and re-made).
pub fn scratch(case: &str) -> PathBuf {
    let dir = std::env::temp_dir().join("lauekit-hostile").join(case);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("scratch folder");
    dir
}

/// What a run printed and how it ended.
#[derive(Debug)]
pub struct Outcome {
    /// exit code (None when killed by a signal or by the time limit)
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
    pub elapsed: Duration,
    pub timed_out: bool,
}

impl Outcome {
    /// Panics (with the whole outcome) unless the run ended by itself, within the limits, without a Rust panic.
    pub fn assert_clean(&self, case: &str) {
        assert!(!self.timed_out, "{case}: still running after {TIME_LIMIT:?}: {self:#?}");
        assert!(self.code.is_some(), "{case}: killed by a signal (memory limit or abort?): {self:#?}");
        assert!(!self.stderr.contains("panicked at"), "{case}: panicked: {}", self.stderr);
        assert!(!self.stderr.contains("memory allocation of"), "{case}: allocation failure: {}", self.stderr);
    }

    /// Clean, failed with a non-zero code, and stderr contains every one of `needles` (case-insensitive).
    pub fn assert_refused(&self, case: &str, needles: &[&str]) {
        self.assert_clean(case);
        assert_ne!(self.code, Some(0), "{case}: accepted, expected a refusal: {self:#?}");
        let err = self.stderr.to_lowercase();
        for n in needles {
            assert!(err.contains(&n.to_lowercase()), "{case}: stderr lacks '{n}': {}", self.stderr);
        }
    }
}

/// Runs `lauekit args…` in `cwd` under the memory and time limits, stdin closed.
pub fn lauekit(cwd: &Path, args: &[&str]) -> Outcome {
    lauekit_with(cwd, args, Stdio::piped())
}

/// Like [`lauekit`] with the given stdout (e.g. a file opened on `/dev/full`, or a closed pipe).
pub fn lauekit_with(cwd: &Path, args: &[&str], stdout: Stdio) -> Outcome {
    let mut child = Command::new("prlimit")
        .arg(format!("--as={MEMORY_LIMIT_BYTES}"))
        .arg("--")
        .arg(env!("CARGO_BIN_EXE_lauekit"))
        .args(args)
        .current_dir(cwd)
        .stdin(Stdio::null())
        .stdout(stdout)
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn prlimit lauekit");
    let start = Instant::now();
    let mut out_pipe = child.stdout.take();
    let mut err_pipe = child.stderr.take();
    let out_reader = std::thread::spawn(move || {
        let mut s = Vec::new();
        if let Some(p) = out_pipe.as_mut() {
            let _ = std::io::Read::read_to_end(p, &mut s);
        }
        s
    });
    let err_reader = std::thread::spawn(move || {
        let mut s = Vec::new();
        if let Some(p) = err_pipe.as_mut() {
            let _ = std::io::Read::read_to_end(p, &mut s);
        }
        s
    });
    let mut timed_out = false;
    let status = loop {
        if let Some(st) = child.try_wait().expect("wait") {
            break st;
        }
        if start.elapsed() > TIME_LIMIT {
            timed_out = true;
            let _ = child.kill();
            break child.wait().expect("wait after kill");
        }
        std::thread::sleep(Duration::from_millis(20));
    };

    Outcome {
        code: status.code(),
        stdout: String::from_utf8_lossy(&out_reader.join().unwrap_or_default()).into_owned(),
        stderr: String::from_utf8_lossy(&err_reader.join().unwrap_or_default()).into_owned(),
        elapsed: start.elapsed(),
        timed_out,
    }
}

/// Bytes and modification time of each file, to check after a run that the user's inputs are untouched.
pub struct Snapshot(Vec<(PathBuf, Vec<u8>)>);

impl Snapshot {
    pub fn of(files: &[&Path]) -> Self {
        Snapshot(files.iter().map(|f| (f.to_path_buf(), std::fs::read(f).expect("read input"))).collect())
    }

    /// Panics when any file changed or disappeared.
    pub fn assert_unchanged(&self, case: &str) {
        for (path, bytes) in &self.0 {
            let now =
                std::fs::read(path).unwrap_or_else(|e| panic!("{case}: {} is gone: {e}", path.display()));
            assert!(
                now == *bytes,
                "{case}: {} was modified ({} → {} bytes)",
                path.display(),
                bytes.len(),
                now.len()
            );
        }
    }
}

/// Copies a file into `dir` (under `name`) and returns the new path.
pub fn copy_in(src: &Path, dir: &Path, name: &str) -> PathBuf {
    let dst = dir.join(name);
    std::fs::copy(src, &dst).unwrap_or_else(|e| panic!("copy {}: {e}", src.display()));
    dst
}
