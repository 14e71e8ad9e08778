//! The output directory, committed all-or-nothing.
//!
//! A run locks the directory (an exclusive, non-blocking `flock` on the directory itself,
//! through `fs4`, so no lock file is left behind), removes what a killed run left, and writes
//! every file into a private temporary directory inside it, `.synsim-run-<pid>-<n>/`, created
//! with `mkdir` (which fails on any existing path, a symlink included); the files in it are
//! created with `O_EXCL` (`create_new`). Only when every file is complete does [`OutputDir::commit`] move
//! them into place; a failure before or during that leaves the previous run's files as they
//! were and removes every temporary. Dropping an [`OutputDir`] without committing removes the
//! temporaries too (an error, an interruption or a panic).
//!
//! Simplifications: readers see each file replaced atomically (a rename), not the set as one
//! snapshot; the previous files are kept for the rollback by hard links, and on a file system
//! without hard links a rename failing half-way cannot restore the replaced files. A run killed
//! by SIGKILL leaves its temporary directory behind; the next run into the directory removes it.

use std::fs::{self, File, OpenOptions};
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};

/// Prefix of the private temporary directories.
const RUN_PREFIX: &str = ".synsim-run-";

/// An error that names the path it is about.
fn named(e: io::Error, what: &str, path: &Path) -> io::Error {
    io::Error::new(e.kind(), format!("{what} {}: {e}", path.display()))
}

/// A file being written: buffered, and every error names the file.
pub struct OutFile {
    w: BufWriter<File>,
    /// Where the file will appear (named in errors).
    path: PathBuf,
}

impl OutFile {
    /// Wraps an open file; errors name `path`.
    pub fn new(f: File, path: PathBuf) -> OutFile {
        OutFile {
            w: BufWriter::with_capacity(1 << 16, f),
            path,
        }
    }
}

impl Write for OutFile {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.w
            .write(buf)
            .map_err(|e| named(e, "cannot write", &self.path))
    }
    fn write_all(&mut self, buf: &[u8]) -> io::Result<()> {
        self.w
            .write_all(buf)
            .map_err(|e| named(e, "cannot write", &self.path))
    }
    fn flush(&mut self) -> io::Result<()> {
        self.w
            .flush()
            .map_err(|e| named(e, "cannot write", &self.path))
    }
}

pub struct OutputDir {
    dir: PathBuf,
    /// The private temporary directory inside `dir`.
    tmp: PathBuf,
    /// Names written into `tmp`, in order.
    pending: Vec<String>,
    /// The directory, opened and locked for as long as this value lives.
    _lock: File,
    committed: bool,
}

impl OutputDir {
    /// Creates `dir` (and parents), locks it, removes what an earlier killed run left, and
    /// makes this run's private temporary directory (which also proves `dir` writable).
    /// `owned` names the files a run writes (older runs left `.<name>.tmp` files).
    pub fn create(dir: &Path, owned: &[&str]) -> io::Result<OutputDir> {
        fs::create_dir_all(dir).map_err(|e| named(e, "cannot create output directory", dir))?;
        let lock = File::open(dir).map_err(|e| named(e, "cannot open output directory", dir))?;
        // fs4 rather than std's File::try_lock, which needs Rust 1.89 (rust-version is 1.85).
        match fs4::FileExt::try_lock(&lock) {
            Ok(()) => {}
            Err(fs4::TryLockError::WouldBlock) => {
                return Err(io::Error::new(
                    io::ErrorKind::WouldBlock,
                    format!(
                        "output directory {} is in use by another run (it is locked); wait for \
                         that run to finish or choose another --out",
                        dir.display()
                    ),
                ));
            }
            Err(fs4::TryLockError::Error(e)) => {
                return Err(named(e, "cannot lock output directory", dir));
            }
        }
        remove_stale(dir, owned)?;
        let tmp = make_private_dir(dir)?;
        Ok(OutputDir {
            dir: dir.to_path_buf(),
            tmp,
            pending: Vec::new(),
            _lock: lock,
            committed: false,
        })
    }

    pub fn path(&self) -> &Path {
        &self.dir
    }

    /// Opens `name` for streaming; it appears under its name only at [`OutputDir::commit`].
    pub fn stream(&mut self, name: &str) -> io::Result<OutFile> {
        let final_path = self.dir.join(name);
        let f = OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(self.tmp.join(name))
            .map_err(|e| named(e, "cannot write", &final_path))?;
        self.pending.push(name.to_string());
        Ok(OutFile::new(f, final_path))
    }

    /// Writes a whole file (moved into place at commit).
    pub fn write(&mut self, name: &str, bytes: &[u8]) -> io::Result<()> {
        let mut w = self.stream(name)?;
        w.write_all(bytes)?;
        w.flush()
    }

    /// Moves every written file into place and removes the files named in `owned` that this
    /// run did not write (a trace or charts left by an earlier run with other options), so the
    /// directory only ever shows one run; other files are left alone. All or nothing: a target
    /// that is in the way (a directory) fails the commit before anything changes, and a move
    /// failing half-way restores the previous files.
    pub fn commit(mut self, owned: &[&str]) -> io::Result<Vec<PathBuf>> {
        let stale: Vec<&str> = owned
            .iter()
            .copied()
            .filter(|n| !self.pending.iter().any(|p| p == n))
            // Directories of those names are not ours: left alone.
            .filter(|n| fs::symlink_metadata(self.dir.join(n)).is_ok_and(|m| !m.is_dir()))
            .collect();
        for name in &self.pending {
            let target = self.dir.join(name);
            if fs::symlink_metadata(&target).is_ok_and(|m| m.is_dir()) {
                return Err(io::Error::new(
                    io::ErrorKind::IsADirectory,
                    format!(
                        "cannot replace {}: it is a directory (nothing was written)",
                        target.display()
                    ),
                ));
            }
        }
        let backup = self.tmp.join(".previous");
        fs::create_dir(&backup).map_err(|e| named(e, "cannot write", &backup))?;
        let mut journal = Journal::default();
        if let Err(e) = self.swap_in(&stale, &backup, &mut journal) {
            journal.undo(&self.dir, &backup);
            return Err(e);
        }
        self.committed = true;
        let _ = fs::remove_dir_all(&self.tmp);
        Ok(self.pending.iter().map(|n| self.dir.join(n)).collect())
    }

    /// Moves the stale files into `backup`, then every new file into place, noting each step.
    fn swap_in(&self, stale: &[&str], backup: &Path, j: &mut Journal) -> io::Result<()> {
        for name in stale {
            let target = self.dir.join(name);
            fs::rename(&target, backup.join(name))
                .map_err(|e| named(e, "cannot remove stale", &target))?;
            j.moved_out.push(name.to_string());
        }
        for name in &self.pending {
            let target = self.dir.join(name);
            // Keep the previous file (a hard link: it stays in place until replaced).
            let kept = fs::symlink_metadata(&target).is_ok()
                && fs::hard_link(&target, backup.join(name)).is_ok();
            fs::rename(self.tmp.join(name), &target).map_err(|e| {
                io::Error::new(
                    e.kind(),
                    format!("cannot move {} into place: {e}", target.display()),
                )
            })?;
            j.moved_in.push((name.clone(), kept));
        }
        Ok(())
    }

    /// Removes every temporary (the run failed); the same happens when the value is dropped.
    pub fn abandon(self) {}
}

impl Drop for OutputDir {
    fn drop(&mut self) {
        if !self.committed {
            let _ = fs::remove_dir_all(&self.tmp);
        }
    }
}

/// What a commit changed so far, to undo it.
#[derive(Default)]
struct Journal {
    /// Stale files moved into the backup.
    moved_out: Vec<String>,
    /// New files moved into place, and whether the previous file was kept in the backup.
    moved_in: Vec<(String, bool)>,
}

impl Journal {
    fn undo(&self, dir: &Path, backup: &Path) {
        for (name, kept) in self.moved_in.iter().rev() {
            let target = dir.join(name);
            if *kept {
                let _ = fs::rename(backup.join(name), &target);
            } else {
                let _ = fs::remove_file(&target);
            }
        }
        for name in &self.moved_out {
            let _ = fs::rename(backup.join(name), dir.join(name));
        }
    }
}

/// Removes what killed runs left in `dir`: private directories and the `.<name>.tmp` files and
/// write probe of older versions. Safe: the caller holds the lock, so no live run owns them.
/// Symlinks are removed, never followed.
fn remove_stale(dir: &Path, owned: &[&str]) -> io::Result<()> {
    let entries = fs::read_dir(dir).map_err(|e| named(e, "cannot read output directory", dir))?;
    for entry in entries.flatten() {
        let name = entry.file_name();
        let name = name.to_string_lossy();
        let legacy = name == ".synsim-write-probe.tmp"
            || owned.iter().any(|o| name == format!(".{o}.tmp").as_str());
        if !(name.starts_with(RUN_PREFIX) || legacy) {
            continue;
        }
        let p = entry.path();
        let is_dir = fs::symlink_metadata(&p).is_ok_and(|m| m.is_dir());
        let r = if is_dir {
            fs::remove_dir_all(&p)
        } else {
            fs::remove_file(&p)
        };
        r.map_err(|e| named(e, "cannot remove stale temporary", &p))?;
    }
    Ok(())
}

/// Creates `dir/.synsim-run-<pid>-<n>/` for the first free `n`.
fn make_private_dir(dir: &Path) -> io::Result<PathBuf> {
    let pid = std::process::id();
    for n in 0..1000 {
        let p = dir.join(format!("{RUN_PREFIX}{pid}-{n}"));
        match fs::create_dir(&p) {
            Ok(()) => return Ok(p),
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => continue,
            Err(e) => {
                return Err(io::Error::new(
                    e.kind(),
                    format!("output directory {} is not writable: {e}", dir.display()),
                ));
            }
        }
    }
    Err(io::Error::other(format!(
        "cannot create a temporary directory in {}",
        dir.display()
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A write error (here ENOSPC from /dev/full) names the file being written.
    #[test]
    fn write_errors_name_the_file() {
        let Ok(f) = OpenOptions::new().write(true).open("/dev/full") else {
            return; // not on this system
        };
        let mut w = OutFile::new(f, PathBuf::from("out/timeline.csv"));
        let r = w.write_all(&[b'x'; 1 << 17]).and_then(|()| w.flush());
        let e = r.unwrap_err().to_string();
        assert!(e.contains("cannot write out/timeline.csv"), "{e}");
        assert!(e.to_lowercase().contains("space"), "{e}");
    }
}
