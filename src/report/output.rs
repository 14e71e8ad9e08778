//! The output directory: every file is written to a temporary name and renamed into place
//! only when the run succeeded, so an interrupted or failed run never leaves a half file.

use std::fs::{self, File};
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};

pub struct OutputDir {
    dir: PathBuf,
    pending: Vec<(PathBuf, PathBuf)>,
}

impl OutputDir {
    /// Creates `dir` (and parents) and checks that it is writable.
    pub fn create(dir: &Path) -> io::Result<OutputDir> {
        fs::create_dir_all(dir).map_err(|e| {
            io::Error::new(
                e.kind(),
                format!("cannot create output directory {}: {e}", dir.display()),
            )
        })?;
        let probe = dir.join(".synsim-write-probe.tmp");
        File::create(&probe)
            .and_then(|mut f| f.write_all(b"probe"))
            .map_err(|e| {
                io::Error::new(
                    e.kind(),
                    format!("output directory {} is not writable: {e}", dir.display()),
                )
            })?;
        let _ = fs::remove_file(&probe);
        Ok(OutputDir {
            dir: dir.to_path_buf(),
            pending: Vec::new(),
        })
    }

    pub fn path(&self) -> &Path {
        &self.dir
    }

    /// Opens `name` for streaming; it appears under its name only at [`OutputDir::commit`].
    pub fn stream(&mut self, name: &str) -> io::Result<BufWriter<File>> {
        let tmp = self.dir.join(format!(".{name}.tmp"));
        let f = File::create(&tmp).map_err(|e| {
            io::Error::new(e.kind(), format!("cannot write {}: {e}", tmp.display()))
        })?;
        self.pending.push((tmp, self.dir.join(name)));
        Ok(BufWriter::with_capacity(1 << 16, f))
    }

    /// Writes a whole file (renamed into place at commit).
    pub fn write(&mut self, name: &str, bytes: &[u8]) -> io::Result<()> {
        let mut w = self.stream(name)?;
        w.write_all(bytes)?;
        w.flush()
    }

    /// Renames every pending file into place, and removes the files named in `owned` that
    /// this run did not write (a trace or charts left by an earlier run with other options),
    /// so the directory only ever shows one run. Other files are left alone.
    pub fn commit(self, owned: &[&str]) -> io::Result<Vec<PathBuf>> {
        for name in owned {
            let p = self.dir.join(name);
            if !self.pending.iter().any(|(_, fin)| *fin == p) && p.is_file() {
                fs::remove_file(&p).map_err(|e| {
                    io::Error::new(
                        e.kind(),
                        format!("cannot remove stale {}: {e}", p.display()),
                    )
                })?;
            }
        }
        let mut done = Vec::new();
        for (tmp, fin) in &self.pending {
            fs::rename(tmp, fin).map_err(|e| {
                io::Error::new(
                    e.kind(),
                    format!("cannot rename {} to {}: {e}", tmp.display(), fin.display()),
                )
            })?;
            done.push(fin.clone());
        }
        Ok(done)
    }

    /// Removes every pending temporary file (the run failed).
    pub fn abandon(self) {
        for (tmp, _) in &self.pending {
            let _ = fs::remove_file(tmp);
        }
    }
}
