//! Standard output and error without panics (the policy is in [`lauekit::io::output`]'s docs): `outln!`
//! and `out!` return an error the caller passes on with `?`; `errln!` never fails and remembers a failure
//! so that the run ends with a non-zero code.

use std::io::Write;
use std::sync::atomic::{AtomicBool, Ordering};

/// Writing to standard output failed: the run stops (quietly, code 141, on a closed pipe).
#[derive(Debug)]
pub struct StdoutFailed(pub std::io::Error);

impl std::fmt::Display for StdoutFailed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "cannot write to standard output: {}", self.0)
    }
}

impl std::error::Error for StdoutFailed {}

impl StdoutFailed {
    /// A reader that went away (`| head -1`).
    pub fn is_broken_pipe(&self) -> bool {
        self.0.kind() == std::io::ErrorKind::BrokenPipe
    }
}

static STDERR_FAILED: AtomicBool = AtomicBool::new(false);

/// Writes to standard output.
pub fn write_out(args: std::fmt::Arguments) -> anyhow::Result<()> {
    std::io::stdout().lock().write_fmt(args).map_err(|e| StdoutFailed(e).into())
}

/// Flushes standard output (the end of a run: a full device may only tell then).
pub fn flush_out() -> anyhow::Result<()> {
    std::io::stdout().lock().flush().map_err(|e| StdoutFailed(e).into())
}

/// Writes to standard error; a failure is remembered ([`stderr_failed`]), never a panic.
pub fn write_err(args: std::fmt::Arguments) {
    let mut e = std::io::stderr().lock();
    if e.write_fmt(args).and_then(|()| e.flush()).is_err() {
        STDERR_FAILED.store(true, Ordering::Relaxed);
    }
}

/// Whether a write to standard error failed during the run.
pub fn stderr_failed() -> bool {
    STDERR_FAILED.load(Ordering::Relaxed)
}
