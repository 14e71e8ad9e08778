//! The result store: `DIR/runs/<id>/` holds each finished run's files. A run is written into
//! `DIR/runs/.tmp-<id>-<pid>/` and renamed into place when complete, so a directory named by
//! an id is always a whole run; an interrupted run leaves nothing behind.

use std::fs;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::AtomicUsize;

use super::plan::Run;
use crate::report::{self, RunError, RunOptions};

pub fn run_dir(out: &Path, id: &str) -> PathBuf {
    out.join("runs").join(id)
}

/// Whether the store holds run `id`.
pub fn has(out: &Path, id: &str) -> bool {
    run_dir(out, id).join("summary.json").is_file()
}

/// Runs `run` into the store, replacing what is there.
pub fn execute(
    out: &Path,
    run: &Run,
    charts: bool,
    cancel: &Arc<AtomicUsize>,
) -> Result<(), RunError> {
    let final_dir = run_dir(out, &run.id);
    let tmp = out
        .join("runs")
        .join(format!(".tmp-{}-{}", run.id, std::process::id()));
    let _ = fs::remove_dir_all(&tmp);
    let opts = RunOptions {
        out_dir: tmp.clone(),
        charts,
        cancel: Some(Arc::clone(cancel)),
        ..RunOptions::default()
    };
    let r = report::run_to_dir(&run.scenario, &opts).and_then(|_| {
        if final_dir.exists() {
            fs::remove_dir_all(&final_dir)?;
        }
        fs::rename(&tmp, &final_dir)?;
        Ok(())
    });
    if r.is_err() {
        let _ = fs::remove_dir_all(&tmp);
    }
    r
}
