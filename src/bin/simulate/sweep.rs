//! `simulate sweep`: a grid of runs into a result store, then the tables and the page.

use std::io::Write;
use std::path::PathBuf;

use std::sync::atomic::Ordering;

use synsim::report;

use super::{Fail, catch_signals};

#[derive(clap::Args, Debug)]
pub(crate) struct SweepArgs {
    /// Sweep file (JSON).
    sweep: PathBuf,
    /// Output directory (the store) [default: output/<sweep file stem>/].
    #[arg(long, value_name = "DIR")]
    out: Option<PathBuf>,
    /// Runs in parallel [default: all cores].
    #[arg(short = 'j', long, value_name = "N")]
    jobs: Option<usize>,
    /// Rerun runs already in the store.
    #[arg(long)]
    force: bool,
    /// Print the run index (index, id, variables, seed) and exit.
    #[arg(long, conflicts_with_all = ["run", "shard", "merge"])]
    list_runs: bool,
    /// Run only run I (from --list-runs) into the store; no tables.
    #[arg(long, value_name = "I", conflicts_with_all = ["shard", "merge"])]
    run: Option<usize>,
    /// Run only shard K of N (from 0: the runs with index = K mod N) into the store; no tables.
    #[arg(long, value_name = "K/N", conflicts_with = "merge")]
    shard: Option<String>,
    /// Build the tables and page from whatever the store holds; run nothing.
    #[arg(long)]
    merge: bool,
    /// Print nothing but errors.
    #[arg(long, short)]
    quiet: bool,
}

pub(crate) fn sweep(out: &mut impl Write, a: &SweepArgs) -> Result<(), Fail> {
    use synsim::sweep::{self, Plan, Select};
    let plan = Plan::load(&a.sweep).map_err(|e| Fail::Error(e.to_string()))?;
    if a.list_runs {
        out.write_all(sweep::list_runs(&plan).as_bytes())?;
        return Ok(());
    }
    let dir = a
        .out
        .clone()
        .unwrap_or_else(|| report::default_out_dir(&a.sweep));
    let shown = a.sweep.display().to_string();
    let select = select_runs(a, plan.runs.len())?;
    if !a.merge {
        let signal = catch_signals()?;
        let jobs = a.jobs.unwrap_or_else(|| {
            std::thread::available_parallelism().map_or(1, std::num::NonZero::get)
        });
        let todo = plan.runs.iter().filter(|r| select.takes(r.index)).count();
        let bar = indicatif::ProgressBar::new(todo as u64);
        if a.quiet {
            bar.set_draw_target(indicatif::ProgressDrawTarget::hidden());
        }
        bar.set_style(
            indicatif::ProgressStyle::with_template(
                "{bar:40} {pos}/{len} runs, {elapsed} ({eta} left)",
            )
            .expect("static template"),
        );
        let ex = sweep::execute(&plan, &dir, select, jobs, a.force, &signal, &|| bar.inc(1))
            .map_err(|e| Fail::Error(e.to_string()))?;
        bar.finish_and_clear();
        if ex.interrupted {
            return Err(Fail::Interrupted {
                signal: signal.load(Ordering::Relaxed) as i32,
                message: format!(
                    "interrupted: {} runs finished and kept in {}; run again to continue, or --merge for tables of what is there",
                    ex.ran + ex.reused,
                    dir.display()
                ),
            });
        }
        if !a.quiet {
            writeln!(
                out,
                "sweep {shown}: {} runs selected of {} ({} points x {} repetitions): {} already in the store, {} run",
                ex.selected,
                plan.runs.len(),
                plan.points,
                plan.file.repeat,
                ex.reused,
                ex.ran
            )?;
        }
        if select != Select::All {
            if !a.quiet {
                writeln!(
                    out,
                    "  store: {}; build the tables with --merge",
                    dir.display()
                )?;
            }
            return Ok(());
        }
    }
    let m = sweep::merge(&plan, &dir, &shown).map_err(|e| Fail::Error(e.to_string()))?;
    if !a.quiet {
        if !m.missing.is_empty() {
            let first: Vec<String> = m.missing.iter().take(20).map(|i| i.to_string()).collect();
            writeln!(
                out,
                "  {} of {} runs missing from the store: {}{}",
                m.missing.len(),
                plan.runs.len(),
                first.join(", "),
                if m.missing.len() > 20 { ", ..." } else { "" }
            )?;
        }
        for f in &m.files {
            writeln!(out, "  wrote {}", f.display())?;
        }
    }
    Ok(())
}

/// The runs `--run` or `--shard` select (all without either).
fn select_runs(a: &SweepArgs, runs: usize) -> Result<synsim::sweep::Select, Fail> {
    use synsim::sweep::Select;
    Ok(match (&a.run, &a.shard) {
        (Some(i), _) if *i >= runs => {
            return Err(Fail::Error(format!(
                "--run {i}: the sweep has runs 0 to {}",
                runs - 1
            )));
        }
        (Some(i), _) => Select::One(*i),
        (None, Some(s)) => {
            let bad = || Fail::Error(format!("--shard {s:?}: expected K/N with 0 <= K < N"));
            let (k, n) = s.split_once('/').ok_or_else(bad)?;
            let (k, n): (usize, usize) = (
                k.trim().parse().map_err(|_| bad())?,
                n.trim().parse().map_err(|_| bad())?,
            );
            if n == 0 || k >= n {
                return Err(bad());
            }
            Select::Shard(k, n)
        }
        (None, None) => Select::All,
    })
}
