//! The output policy of every `lauekit` command that writes files (native only): an [`OutputPlan`]
//! holds every file a run reads and every file it will write, is checked before anything is written,
//! and writes through temporary files renamed into place.
//!
//! # What is refused
//! - **An output that is an input of the same run**, whatever the spelling: the canonical paths are
//!   compared, and so is the file identity (device and inode), so `-o` naming the input through a
//!   symbolic link, a hard link, `./x`, `../dir/x` is refused, with both paths in the message
//!   (`peaks x.mccd -o x.mccd`, `index x.cor -o x.cor`, `--cor` pointing at the `--calib` file, a scan
//!   whose results name one of its images). `--force` never lifts this.
//! - **Two outputs of one run that are the same file** (`peaks a/img.mccd b/img.mccd -o out` would write
//!   `out/img.dat` twice): the run is refused before any work, naming the inputs that collide and how to
//!   avoid it. Outputs are never renamed behind the user's back.
//! - **An existing detector image** (TIFF/MarCCD, PNG, EDF, CBF by their first bytes; HDF5 unless the
//!   output is itself HDF5) replaced by an output of another kind (`peaks x.mccd -o other.mccd`), even
//!   with `--force`: raw data is never a "previous output" of a text writer. Remove it by hand if meant.
//! - **A directory** as an output file.
//! - **An existing output** when the command asks for `--force` ([`Existing::RefuseUnlessForce`]: `scan`,
//!   `scan merge`, `cluster`, `calibrate`); the other commands replace their previous output as LaueTools
//!   does ([`Existing::Replace`]), since that replacement is now atomic.
//!
//! # Atomic writes
//! Each output is written to a temporary file in its own folder (`.NAME.lauekit-tmp-PID-N`), flushed
//! (and synced, unless the plan says otherwise), then [`OutputPlan::commit`] renames every one into
//! place. A run that fails before the commit leaves no temporary (they are removed when the plan is
//! dropped) and no partial output; an older file at an output path stays as it was. A reader never sees
//! half a file. An output path that is a symbolic link keeps the link: the file it points to is replaced
//! (through a temporary beside that file). An output path that exists and is not a regular file
//! (`/dev/null`, `/dev/stdout` on a terminal or a pipe, a FIFO) is written directly, without a rename.
//! A run killed by a signal may leave `.NAME.lauekit-tmp-*` files; [`is_temporary_name`] recognises them.
//!
//! # Stale files
//! A run must not leave an older file that looks like its own result. [`OutputPlan::stale`] names a file
//! that this run supersedes without writing it; the commit removes it (never an input) and reports it in
//! [`Committed::removed`], which the CLI prints. `index -o r.fit` that finds no grain removes an older
//! `r.fit`, and every `index -o r.fit` removes the per-grain `r_g<k>.fit` files older versions wrote
//! beside it; `peaks` on several images removes the older `.dat` of an image that failed this time.
//!
//! # Standard output and error
//! The CLI prints through fallible writers: a write error on stdout ends the run with a message on stderr
//! and exit code 1 (`> /dev/full`); a closed pipe (`lauekit simulate … | head -1`) ends it quietly with
//! exit code 141 (128 + SIGPIPE, what a shell reports for tools killed by SIGPIPE). A failed write to
//! stderr never panics: the run goes on and ends with exit code 1. Files already committed stay.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Component, Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

use crate::error::{LaueError, Result};

/// What a command does with an output path that already holds a file (never an input: those are
/// always refused).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Existing {
    /// Replace it (atomically), as LaueTools does with its own outputs.
    Replace,
    /// Refuse unless the flag is true (`--force`).
    RefuseUnlessForce(bool),
}

/// The kind of file an output is: decides which existing files it may replace.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OutputKind {
    /// Text (peak lists, .fit, .det, JSON, CSV, …).
    Text,
    /// A binary file that is not an image (network weights).
    Binary,
    /// An image (TIFF, PNG): may replace an existing image.
    Image,
    /// HDF5 results: may replace an existing HDF5 file.
    Hdf5,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct FileId {
    dev: u64,
    ino: u64,
}

fn file_id(path: &Path) -> Option<FileId> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        std::fs::metadata(path).ok().map(|m| FileId { dev: m.dev(), ino: m.ino() })
    }
    #[cfg(not(unix))]
    {
        let _ = path;
        None
    }
}

/// The absolute path with every existing ancestor resolved (symbolic links, `.`, `..`) and the rest
/// normalised lexically: the same file gives the same key before and after it exists.
fn path_key(path: &Path) -> PathBuf {
    let abs = if path.is_absolute() {
        path.to_path_buf()
    } else {
        std::env::current_dir().map(|d| d.join(path)).unwrap_or_else(|_| path.to_path_buf())
    };
    let mut head = abs.as_path();
    let mut rest: Vec<Component> = Vec::new();
    loop {
        if let Ok(c) = std::fs::canonicalize(head) {
            let mut key = c;
            for comp in rest.iter().rev() {
                match comp {
                    Component::CurDir => {}
                    Component::ParentDir => {
                        key.pop();
                    }
                    c => key.push(c.as_os_str()),
                }
            }
            return key;
        }
        match (head.parent(), head.components().next_back()) {
            (Some(parent), Some(last)) => {
                rest.push(last);
                head = parent;
            }
            _ => return abs,
        }
    }
}

/// Whether the file starts like a detector image (TIFF/MarCCD, PNG, CBF, EDF) or HDF5 (`Some(true)` for
/// HDF5, `Some(false)` for the others, `None` when it is neither or cannot be read).
fn image_signature(path: &Path) -> Option<bool> {
    use std::io::Read;
    let mut head = [0u8; 512];
    let n = File::open(path).and_then(|mut f| f.read(&mut head)).ok()?;
    let h = &head[..n];
    if h.starts_with(b"\x89HDF\r\n\x1a\n") {
        return Some(true);
    }
    let text = String::from_utf8_lossy(h);
    let edf = h.starts_with(b"{")
        && (text.contains("HeaderID") || text.contains("EDF_") || text.contains("ByteOrder"));
    (h.starts_with(b"II*\0")
        || h.starts_with(b"MM\0*")
        || h.starts_with(b"\x89PNG")
        || h.starts_with(b"###CBF")
        || edf)
        .then_some(false)
}

struct Input {
    path: PathBuf,
    key: PathBuf,
    id: Option<FileId>,
}

struct Planned {
    path: PathBuf,
    key: PathBuf,
    id: Option<FileId>,
    /// the input this output is made from (collision messages)
    from: Option<PathBuf>,
}

struct Staged {
    tmp: PathBuf,
    dest: PathBuf,
    /// written directly (a device or FIFO): nothing to rename
    direct: bool,
}

/// What [`OutputPlan::commit`] did.
#[derive(Debug, Default)]
pub struct Committed {
    /// outputs now in place, in the order they were staged
    pub written: Vec<PathBuf>,
    /// stale files removed
    pub removed: Vec<PathBuf>,
}

static TMP_COUNTER: AtomicU64 = AtomicU64::new(0);

/// `.NAME.lauekit-tmp-PID-N` beside `dest`.
fn temporary_path(dest: &Path) -> PathBuf {
    let name = dest.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_else(|| "out".into());
    let n = TMP_COUNTER.fetch_add(1, Ordering::Relaxed);
    dest.with_file_name(format!(".{name}.lauekit-tmp-{}-{n}", std::process::id()))
}

/// Whether a file name is one of the temporaries of a run (left behind only when a run was killed).
pub fn is_temporary_name(name: &str) -> bool {
    name.starts_with('.') && name.contains(".lauekit-tmp-")
}

fn write_error(path: &Path, reason: impl std::fmt::Display) -> LaueError {
    LaueError::Write { file: path.display().to_string(), reason: reason.to_string() }
}

/// A run's inputs and outputs, checked before anything is written; outputs staged in temporary files and
/// renamed into place by [`OutputPlan::commit`]. See the module documentation for the policy.
pub struct OutputPlan {
    existing: Existing,
    sync: bool,
    inputs: Vec<Input>,
    outputs: Vec<Planned>,
    stale: Vec<PathBuf>,
    staged: Mutex<Vec<Staged>>,
}

impl OutputPlan {
    /// An empty plan; `existing` says what to do with an output path that holds a file.
    pub fn new(existing: Existing) -> Self {
        OutputPlan {
            existing,
            sync: true,
            inputs: Vec::new(),
            outputs: Vec::new(),
            stale: Vec::new(),
            staged: Mutex::new(Vec::new()),
        }
    }

    /// Skip `fsync` of each output before its rename (many small files whose loss on a power cut is
    /// harmless, e.g. a synthetic scan's images).
    pub fn without_sync(mut self) -> Self {
        self.sync = false;
        self
    }

    /// Records a file (or folder) this run reads. Inputs are best recorded before the outputs; the commit
    /// checks every output against every input again.
    pub fn input(&mut self, path: impl AsRef<Path>) -> &mut Self {
        let path = path.as_ref();
        self.inputs.push(Input { path: path.to_path_buf(), key: path_key(path), id: file_id(path) });
        self
    }

    /// Records every file of `paths` as an input.
    pub fn inputs<P: AsRef<Path>>(&mut self, paths: impl IntoIterator<Item = P>) -> &mut Self {
        for p in paths {
            self.input(p);
        }
        self
    }

    /// The inputs recorded so far.
    pub fn input_paths(&self) -> impl Iterator<Item = &Path> {
        self.inputs.iter().map(|i| i.path.as_path())
    }

    /// Records an output; refused when it is an input, another output, a directory, an existing file of
    /// another kind, or (with [`Existing::RefuseUnlessForce`]) an existing file.
    pub fn output(&mut self, path: impl AsRef<Path>, kind: OutputKind) -> Result<()> {
        self.add_output(path.as_ref(), kind, None, self.existing)
    }

    /// Like [`OutputPlan::output`], naming the input this output is made from (for collision messages).
    pub fn output_from(&mut self, path: impl AsRef<Path>, kind: OutputKind, from: &Path) -> Result<()> {
        self.add_output(path.as_ref(), kind, Some(from), self.existing)
    }

    /// An output that rewrites an existing file of the run on purpose, carrying its content over (e.g.
    /// `cluster --h5` adding its group to a scan's results): not recorded as an input, replaced atomically.
    pub fn output_updating(&mut self, path: impl AsRef<Path>, kind: OutputKind) -> Result<()> {
        self.add_output(path.as_ref(), kind, None, Existing::Replace)
    }

    fn input_clash(&self, key: &Path, id: Option<FileId>) -> Option<&Input> {
        self.inputs.iter().find(|i| i.key == key || (id.is_some() && i.id == id))
    }

    fn add_output(
        &mut self,
        path: &Path,
        kind: OutputKind,
        from: Option<&Path>,
        existing: Existing,
    ) -> Result<()> {
        let key = path_key(path);
        let id = file_id(path);
        if let Some(i) = self.input_clash(&key, id) {
            return Err(write_error(
                path,
                format!(
                    "refused: it is an input of this run, the same file as {} (by path, symbolic link or hard \
                     link); choose another output",
                    i.path.display()
                ),
            ));
        }
        if let Some(o) = self.outputs.iter().find(|o| o.key == key || (id.is_some() && o.id == id)) {
            let reason = match (&o.from, from) {
                (Some(a), Some(b)) => format!(
                    "refused: the outputs of {} and {} would both be written here (the same file name in \
                     different folders); give the inputs distinct names, or run them one at a time with \
                     their own -o",
                    a.display(),
                    b.display()
                ),
                _ => format!("refused: {} is already an output of this run", o.path.display()),
            };
            return Err(write_error(path, reason));
        }
        if let Ok(meta) = std::fs::symlink_metadata(path).and_then(|_| std::fs::metadata(path)) {
            if meta.is_dir() {
                return Err(write_error(path, "refused: it is a directory; give a file name"));
            }
            if meta.is_file() {
                match (image_signature(path), kind) {
                    (Some(true), OutputKind::Hdf5 | OutputKind::Image)
                    | (Some(false), OutputKind::Image)
                    | (None, _) => {}
                    (Some(hdf5), _) => {
                        return Err(write_error(
                            path,
                            format!(
                                "refused: it holds {} and this output is not one; raw data is never replaced \
                                 (remove it by hand if that is meant)",
                                if hdf5 { "HDF5 data" } else { "a detector image" }
                            ),
                        ));
                    }
                }
                if existing == Existing::RefuseUnlessForce(false) {
                    return Err(write_error(path, "refused: the file exists; use --force to replace it"));
                }
            }
        }
        self.outputs.push(Planned { path: path.to_path_buf(), key, id, from: from.map(Path::to_path_buf) });
        Ok(())
    }

    /// Names a file this run supersedes without writing it (an older result that would look like this
    /// run's): the commit removes it if it exists. Refused when it is an input.
    pub fn stale(&mut self, path: impl AsRef<Path>) -> Result<()> {
        let path = path.as_ref();
        if let Some(i) = self.input_clash(&path_key(path), file_id(path)) {
            return Err(write_error(
                path,
                format!("refused to remove: it is the input {} of this run", i.path.display()),
            ));
        }
        self.stale.push(path.to_path_buf());
        Ok(())
    }

    fn planned(&self, path: &Path) -> Result<()> {
        let key = path_key(path);
        if self.outputs.iter().any(|o| o.key == key) {
            Ok(())
        } else {
            Err(write_error(path, "not a planned output of this run (a bug: report it)"))
        }
    }

    /// Writes `bytes` to a temporary file beside the planned output `path`.
    pub fn stage(&self, path: impl AsRef<Path>, bytes: &[u8]) -> Result<()> {
        self.stage_with(path, |w| w.write_all(bytes).map_err(|e| write_error(Path::new(""), e)))
    }

    /// Writes the planned output `path` through `write` into a temporary file beside it. Thread-safe.
    pub fn stage_with<F>(&self, path: impl AsRef<Path>, write: F) -> Result<()>
    where
        F: FnOnce(&mut BufWriter<File>) -> Result<()>,
    {
        let dest = path.as_ref();
        self.planned(dest)?;
        // A symbolic link stays: the file it points to is replaced (`-o /dev/stdout`, a link into another
        // folder), through a temporary beside that file.
        let target = match std::fs::symlink_metadata(dest) {
            Ok(m) if m.file_type().is_symlink() => {
                std::fs::canonicalize(dest).unwrap_or_else(|_| dest.to_path_buf())
            }
            _ => dest.to_path_buf(),
        };
        let direct = std::fs::metadata(&target).is_ok_and(|m| !m.is_file() && !m.is_dir());
        let tmp = if direct { target.clone() } else { temporary_path(&target) };
        let file = if direct {
            std::fs::OpenOptions::new().write(true).truncate(true).open(&tmp)
        } else {
            std::fs::OpenOptions::new().write(true).create_new(true).open(&tmp)
        }
        .map_err(|e| write_error(dest, format!("cannot create a temporary file beside it: {e}")))?;
        if !direct {
            // Registered at once, so that a failed write still removes it.
            self.lock_staged().push(Staged { tmp: tmp.clone(), dest: target.clone(), direct });
        }
        let mut w = BufWriter::new(file);
        let res = write(&mut w).and_then(|()| w.flush().map_err(|e| write_error(dest, e))).and_then(|()| {
            if self.sync && !direct {
                w.get_ref().sync_all().map_err(|e| write_error(dest, e))
            } else {
                Ok(())
            }
        });
        match res {
            Ok(()) => {
                if direct {
                    self.lock_staged().push(Staged { tmp, dest: target, direct });
                }
                Ok(())
            }
            // Errors of the writer name the temporary or nothing: name the output.
            Err(LaueError::Write { reason, .. }) => Err(write_error(dest, reason)),
            Err(e) => Err(e),
        }
    }

    fn lock_staged(&self) -> std::sync::MutexGuard<'_, Vec<Staged>> {
        self.staged.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Renames every staged output into place (after checking again that none is an input) and removes
    /// the stale files. On an error the temporaries not yet renamed are removed.
    pub fn commit(self) -> Result<Committed> {
        let staged = std::mem::take(&mut *self.lock_staged());
        let mut done = Committed::default();
        for (k, s) in staged.iter().enumerate() {
            let clash = self.input_clash(&path_key(&s.dest), file_id(&s.dest)).map(|i| i.path.clone());
            let res = match clash {
                Some(i) => Err(write_error(
                    &s.dest,
                    format!("refused: it is an input of this run, the same file as {}", i.display()),
                )),
                None if s.direct => Ok(()),
                None => std::fs::rename(&s.tmp, &s.dest).map_err(|e| write_error(&s.dest, e)),
            };
            if let Err(e) = res {
                for rest in &staged[k..] {
                    if !rest.direct {
                        let _ = std::fs::remove_file(&rest.tmp);
                    }
                }
                return Err(e);
            }
            done.written.push(s.dest.clone());
        }
        for p in &self.stale {
            if std::fs::symlink_metadata(p).is_ok_and(|m| m.is_file() || m.file_type().is_symlink()) {
                std::fs::remove_file(p)
                    .map_err(|e| write_error(p, format!("cannot remove the stale file: {e}")))?;
                done.removed.push(p.clone());
            }
        }
        Ok(done)
    }
}

impl Drop for OutputPlan {
    fn drop(&mut self) {
        for s in self.lock_staged().drain(..) {
            if !s.direct {
                let _ = std::fs::remove_file(&s.tmp);
            }
        }
    }
}

/// Writes one file atomically (temporary file beside it, synced, renamed), outside any plan: for files
/// a run rewrites as it goes (a scan's journal).
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    let mut plan = OutputPlan::new(Existing::Replace);
    plan.outputs.push(Planned { path: path.to_path_buf(), key: path_key(path), id: None, from: None });
    plan.stage(path, bytes)?;
    plan.commit().map(|_| ())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dir(name: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!("lauekit-output-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).unwrap_or_default();
        d
    }

    #[test]
    fn input_as_output_is_refused_by_path_link_and_hard_link() {
        let d = dir("same");
        let input = d.join("x.dat");
        std::fs::write(&input, "data").unwrap_or_default();
        std::fs::hard_link(&input, d.join("h.dat")).unwrap_or_default();
        #[cfg(unix)]
        std::os::unix::fs::symlink(&input, d.join("s.dat")).unwrap_or_default();
        let mut plan = OutputPlan::new(Existing::Replace);
        plan.input(&input);
        for out in [input.clone(), d.join("./x.dat"), d.join("h.dat"), d.join("s.dat")] {
            let e = plan.output(&out, OutputKind::Text).err().map(|e| e.to_string()).unwrap_or_default();
            assert!(e.contains("is an input of this run"), "{}: {e}", out.display());
        }
        assert_eq!(std::fs::read_to_string(&input).unwrap_or_default(), "data");
    }

    #[test]
    fn collisions_commit_and_cleanup() {
        let d = dir("commit");
        let mut plan = OutputPlan::new(Existing::Replace);
        plan.output_from(d.join("a.dat"), OutputKind::Text, Path::new("p/a.mccd")).unwrap_or_default();
        let e = plan
            .output_from(d.join("sub/../a.dat"), OutputKind::Text, Path::new("q/a.mccd"))
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(e.contains("p/a.mccd") && e.contains("q/a.mccd"), "{e}");
        plan.stage(d.join("a.dat"), b"new").unwrap_or_default();
        let tmps = || {
            std::fs::read_dir(&d)
                .map(|r| {
                    r.filter_map(|e| e.ok())
                        .filter(|e| is_temporary_name(&e.file_name().to_string_lossy()))
                        .count()
                })
                .unwrap_or(0)
        };
        assert_eq!(tmps(), 1);
        drop(plan);
        assert_eq!(tmps(), 0);
        assert!(!d.join("a.dat").exists());
        let mut plan = OutputPlan::new(Existing::RefuseUnlessForce(false));
        std::fs::write(d.join("old.fit"), "old").unwrap_or_default();
        plan.output(d.join("b.dat"), OutputKind::Text).unwrap_or_default();
        plan.stale(d.join("old.fit")).unwrap_or_default();
        plan.stage(d.join("b.dat"), b"b").unwrap_or_default();
        let c = plan.commit().unwrap_or_default();
        assert_eq!(c.written, vec![d.join("b.dat")]);
        assert_eq!(c.removed, vec![d.join("old.fit")]);
        assert_eq!(std::fs::read_to_string(d.join("b.dat")).unwrap_or_default(), "b");
        let mut plan = OutputPlan::new(Existing::RefuseUnlessForce(false));
        let e =
            plan.output(d.join("b.dat"), OutputKind::Text).err().map(|e| e.to_string()).unwrap_or_default();
        assert!(e.contains("--force"), "{e}");
    }

    #[test]
    fn raw_images_are_not_replaced_by_text() {
        let d = dir("image");
        std::fs::write(d.join("y.mccd"), b"II*\0rest of a tiff").unwrap_or_default();
        let mut plan = OutputPlan::new(Existing::RefuseUnlessForce(true));
        let e =
            plan.output(d.join("y.mccd"), OutputKind::Text).err().map(|e| e.to_string()).unwrap_or_default();
        assert!(e.contains("detector image"), "{e}");
        assert!(plan.output(d.join("y.mccd"), OutputKind::Image).is_ok());
    }
}
