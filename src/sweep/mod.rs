//! Sweeps: one scenario run over a grid of values and repetitions, into a result store, with
//! tables and a page built from what the store holds.
//!
//! - [`file`]: the sweep file format.
//! - [`plan`]: its expansion into runs (axes, `zip`, seeds, run ids).
//! - [`store`]: `DIR/runs/<id>/`, one directory per finished run, written atomically.
//! - [`tables`]: `results.csv` and `aggregate.csv` (means and 95 % intervals).
//! - [`charts`]: one SVG per headline metric against the variables (and a heatmap for two).
//! - [`page`]: the sweep's `index.html`.
//!
//! Results never depend on `-j` or on the order runs finish in: each run is a pure function of
//! its resolved scenario, and the tables are built in run-index order from the store. That is
//! also what lets a sweep be spread over a job array (`--run I`, `--shard K/N`) and merged
//! afterwards (`--merge`).

pub mod charts;
pub mod file;
pub mod page;
pub mod plan;
pub mod store;
pub mod tables;

use std::fs;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use rayon::prelude::*;

pub use plan::{Plan, Run};

/// A sweep error; file errors carry the sweep file, line, column and path.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct SweepError(pub String);

impl SweepError {
    pub fn plain(m: String) -> SweepError {
        SweepError(m)
    }
    pub fn at(file: &str, line: usize, column: usize, path: &str, m: String) -> SweepError {
        SweepError(format!(
            "invalid sweep {file} at `{path}` (line {line}, column {column}): {m}"
        ))
    }
}

/// Which runs to do.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Select {
    All,
    One(usize),
    /// Shard `k` of `n` (from 0): the runs whose index is `k` modulo `n`.
    Shard(usize, usize),
}

impl Select {
    pub fn takes(self, index: usize) -> bool {
        match self {
            Select::All => true,
            Select::One(i) => i == index,
            Select::Shard(k, n) => index % n == k,
        }
    }
}

/// What [`execute`] did.
#[derive(Debug, Default)]
pub struct Executed {
    pub selected: usize,
    pub reused: usize,
    pub ran: usize,
    pub interrupted: bool,
}

/// Runs the selected runs not yet in the store (all of them with `force`) on `jobs` threads.
/// `progress` is told of each run finished. A run stopped by `cancel` leaves nothing; finished
/// runs stay.
pub fn execute(
    plan: &Plan,
    out: &Path,
    select: Select,
    jobs: usize,
    force: bool,
    cancel: &Arc<AtomicUsize>,
    progress: &(dyn Fn() + Sync),
) -> Result<Executed, SweepError> {
    fs::create_dir_all(out.join("runs"))
        .map_err(|e| SweepError(format!("cannot create {}: {e}", out.join("runs").display())))?;
    let chosen: Vec<&Run> = plan.runs.iter().filter(|r| select.takes(r.index)).collect();
    // A run listed twice (two points resolving to the same scenario) is done once.
    let mut todo: Vec<&Run> = Vec::new();
    let mut reused = 0;
    for r in &chosen {
        if !force && store::has(out, &r.id) {
            reused += 1;
        } else if !todo.iter().any(|t| t.id == r.id) {
            todo.push(r);
        }
    }
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(jobs.max(1))
        .build()
        .map_err(|e| SweepError(format!("cannot start {jobs} threads: {e}")))?;
    let charts = plan.file.run_charts;
    let results: Vec<Result<bool, String>> = pool.install(|| {
        todo.par_iter()
            .map(|r| {
                if cancel.load(Ordering::Relaxed) != 0 {
                    return Ok(false);
                }
                match store::execute(out, r, charts, cancel) {
                    Ok(()) => {
                        progress();
                        Ok(true)
                    }
                    Err(crate::report::RunError::Interrupted { .. }) => Ok(false),
                    Err(e) => Err(format!("run {} ({}): {e}", r.index, r.id)),
                }
            })
            .collect()
    });
    let mut ex = Executed {
        selected: chosen.len(),
        reused,
        ..Executed::default()
    };
    for r in results {
        match r {
            Ok(true) => ex.ran += 1,
            Ok(false) => ex.interrupted = true,
            Err(m) => return Err(SweepError(m)),
        }
    }
    ex.interrupted |= cancel.load(Ordering::Relaxed) != 0;
    Ok(ex)
}

/// What [`merge`] wrote.
pub struct Merged {
    pub files: Vec<PathBuf>,
    /// Run indices missing from the store.
    pub missing: Vec<usize>,
}

/// Builds `results.csv`, `aggregate.csv`, the charts and `index.html` from whatever the store
/// holds.
pub fn merge(plan: &Plan, out: &Path, sweep_file: &str) -> Result<Merged, SweepError> {
    let io = |e: std::io::Error| SweepError(e.to_string());
    let c = tables::collect(plan, out).map_err(io)?;
    let rows = tables::aggregate(plan, &c);
    let missing = plan
        .runs
        .iter()
        .zip(&c.values)
        .filter(|(_, v)| v.is_none())
        .map(|(r, _)| r.index)
        .collect();
    let charts = charts::sweep_charts(plan, &c, &rows);
    let mut files = vec![
        ("results.csv".to_string(), tables::results_csv(plan, &c)),
        (
            "aggregate.csv".to_string(),
            tables::aggregate_csv(plan, &c, &rows),
        ),
    ];
    files.extend(charts.iter().cloned());
    files.push((
        "index.html".to_string(),
        page::page(plan, &c, &rows, sweep_file, plan.file.run_charts, &charts),
    ));
    let mut written = Vec::new();
    for (name, text) in files {
        let path = out.join(&name);
        let tmp = out.join(format!(".{name}.tmp-{}", std::process::id()));
        fs::write(&tmp, text)
            .and_then(|_| fs::rename(&tmp, &path))
            .map_err(|e| {
                let _ = fs::remove_file(&tmp);
                SweepError(format!("cannot write {}: {e}", path.display()))
            })?;
        written.push(path);
    }
    Ok(Merged {
        files: written,
        missing,
    })
}

/// `--list-runs`: one line per run: index, id, then `column=value` per variable and the seed.
pub fn list_runs(plan: &Plan) -> String {
    let mut s = String::new();
    for r in &plan.runs {
        s.push_str(&format!("{}\t{}", r.index, r.id));
        for (c, l) in plan.columns.iter().zip(&r.labels) {
            s.push_str(&format!("\t{c}={l}"));
        }
        s.push_str(&format!("\tseed={}\n", r.seed));
    }
    s
}
