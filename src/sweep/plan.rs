//! A sweep file expanded into its runs: the axes (one per variable, or per `zip` group), their
//! cartesian product (the last axis varying fastest), and `repeat` runs per point.
//!
//! Seeds: repetition `r` (from 0) of every point runs with seed `base + r`, where `base` is the
//! base scenario's seed; the named streams are hashed from the seed, so neighbouring seeds are
//! independent, and a one-repetition sweep reproduces the scenario's own runs.
//!
//! A run's id is the FNV-1a 64 hash of its fully resolved scenario (the echo summary.json
//! carries, seed and overrides included) and the synsim version, as 16 hex digits: the same
//! run in two sweeps is found in the store once.

use std::path::{Path, PathBuf};

use serde_json::Value;

use super::SweepError;
use super::file::{MAX_RUNS, SweepFile, Vary};
use crate::rng::fnv1a64;
use crate::scenario::{self, LoadOptions, Override};
use crate::spec::Scenario;

/// One value of an axis: a label per column, and the scenario values it sets, each with its
/// path in the sweep file (for messages).
#[derive(Clone, Debug)]
struct AxisPoint {
    labels: Vec<String>,
    sets: Vec<(String, Value, String)>,
}

#[derive(Clone, Debug)]
struct Axis {
    columns: Vec<String>,
    points: Vec<AxisPoint>,
}

/// One run of the sweep.
#[derive(Clone, Debug)]
pub struct Run {
    pub index: usize,
    pub point: usize,
    pub rep: u32,
    pub seed: u64,
    /// One per variable column.
    pub labels: Vec<String>,
    pub id: String,
    pub scenario: Scenario,
}

/// The expanded sweep.
pub struct Plan {
    pub file: SweepFile,
    /// Variable columns, in `vary` order.
    pub columns: Vec<String>,
    pub runs: Vec<Run>,
    pub points: usize,
    /// The base scenario's file.
    pub base: PathBuf,
}

/// A JSON value as a table cell: strings bare, the rest as compact JSON.
pub fn label(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        v => v.to_string(),
    }
}

/// The axis of variable `vary[i]`.
fn variable(
    i: usize,
    v: &Vary,
    err: &dyn Fn(&str, String) -> SweepError,
) -> Result<Axis, SweepError> {
    let here = format!("vary[{i}]");
    let axis = match (&v.path, &v.name, &v.values, &v.range, &v.cases) {
        (Some(p), None, Some(vals), None, None) => Axis {
            columns: vec![p.clone()],
            points: vals
                .iter()
                .enumerate()
                .map(|(j, x)| AxisPoint {
                    labels: vec![label(x)],
                    sets: vec![(p.clone(), x.clone(), format!("{here}.values[{j}]"))],
                })
                .collect(),
        },
        (Some(p), None, None, Some(r), None) => {
            let vals = r.values().map_err(|m| err(&format!("{here}.range"), m))?;
            Axis {
                columns: vec![p.clone()],
                points: vals
                    .into_iter()
                    .map(|x| AxisPoint {
                        labels: vec![label(&x)],
                        sets: vec![(p.clone(), x, format!("{here}.range"))],
                    })
                    .collect(),
            }
        }
        (None, Some(n), None, None, Some(cases)) => Axis {
            columns: vec![n.clone()],
            points: cases
                .iter()
                .enumerate()
                .map(|(j, c)| AxisPoint {
                    labels: vec![c.label.clone()],
                    sets: c
                        .set
                        .iter()
                        .map(|(p, x)| (p.clone(), x.clone(), format!("{here}.cases[{j}].set.{p}")))
                        .collect(),
                })
                .collect(),
        },
        _ => {
            return Err(err(
                &here,
                "a variable is {\"path\", \"values\"}, {\"path\", \"range\"} or {\"name\", \"cases\"}"
                    .into(),
            ));
        }
    };
    if axis.points.is_empty() {
        return Err(err(&here, "a variable needs at least one value".into()));
    }
    Ok(axis)
}

fn axes(f: &SweepFile, err: &dyn Fn(&str, String) -> SweepError) -> Result<Vec<Axis>, SweepError> {
    if f.vary.is_empty() {
        return Err(err(
            "vary",
            "vary is empty: give at least one variable".into(),
        ));
    }
    // One axis per variable first.
    let mut single = Vec::with_capacity(f.vary.len());
    for (i, v) in f.vary.iter().enumerate() {
        single.push(Some(variable(i, v, err)?));
    }
    // Then merge each zip group into the axis of its first member.
    for (g, group) in f.zip.iter().enumerate() {
        let here = format!("zip[{g}]");
        let mut members = Vec::new();
        for name in group {
            let i = single
                .iter()
                .position(|a| a.as_ref().is_some_and(|a| a.columns[0] == *name))
                .ok_or_else(|| {
                    err(
                        &here,
                        format!("{name:?} is not a varied path or name (or is zipped twice)"),
                    )
                })?;
            members.push(i);
        }
        let first = *members
            .first()
            .ok_or_else(|| err(&here, "an empty zip group".into()))?;
        let len = single[first].as_ref().expect("present").points.len();
        for &m in &members[1..] {
            let other = single[m].take().expect("present");
            if other.points.len() != len {
                return Err(err(
                    &here,
                    format!(
                        "zipped variables need as many values each: {} has {len}, {} has {}",
                        group[0],
                        other.columns[0],
                        other.points.len()
                    ),
                ));
            }
            let a = single[first].as_mut().expect("present");
            a.columns.extend(other.columns);
            for (p, o) in a.points.iter_mut().zip(other.points) {
                p.labels.extend(o.labels);
                p.sets.extend(o.sets);
            }
        }
    }
    Ok(single.into_iter().flatten().collect())
}

/// A point whose scenario the loader refuses: blamed on the first of its values the error
/// names (else its first value), in the sweep file.
fn rejected(
    point: usize,
    chosen: &[&AxisPoint],
    e: &scenario::ScenarioError,
    err: &dyn Fn(&str, String) -> SweepError,
) -> SweepError {
    let all: Vec<&(String, Value, String)> = chosen.iter().flat_map(|c| &c.sets).collect();
    let origin = all
        .iter()
        .find(|(p, _, _)| e.path.starts_with(p.as_str()) || e.message.contains(p.as_str()))
        .or(all.first())
        .map_or("vary".to_string(), |s| s.2.clone());
    let desc = all
        .iter()
        .map(|(p, v, _)| format!("{p}={v}"))
        .collect::<Vec<_>>()
        .join(", ");
    err(&origin, format!("point {point} ({desc}) is rejected: {e}"))
}

impl Plan {
    /// Reads the sweep file and expands it, validating every run's scenario.
    pub fn load(path: &Path) -> Result<Plan, SweepError> {
        let shown = path.display().to_string();
        let text = std::fs::read_to_string(path)
            .map_err(|e| SweepError::plain(format!("cannot read {shown}: {e}")))?;
        let file: SweepFile = {
            let de = &mut serde_json::Deserializer::from_str(&text);
            serde_path_to_error::deserialize(de).map_err(|e| {
                let inner = e.inner();
                SweepError::at(
                    &shown,
                    inner.line(),
                    inner.column(),
                    &e.path().to_string(),
                    {
                        let m = inner.to_string();
                        m.split(" at line ").next().unwrap_or(&m).to_string()
                    },
                )
            })?
        };
        let err = |p: &str, m: String| {
            let (l, c) = scenario::locate_path(&text, p);
            SweepError::at(&shown, l, c, p, m)
        };
        let axes = axes(&file, &err)?;
        if file.repeat == 0 {
            return Err(err("repeat", "repeat must be at least 1".into()));
        }
        let points: usize = axes.iter().map(|a| a.points.len()).product();
        let total = points.saturating_mul(file.repeat as usize);
        if total > MAX_RUNS {
            return Err(err("vary", format!("{total} runs; at most {MAX_RUNS}")));
        }
        let base = path.parent().unwrap_or(Path::new(".")).join(&file.scenario);
        let base_text = std::fs::read_to_string(&base).map_err(|e| {
            err(
                "scenario",
                format!("cannot read the base scenario {}: {e}", base.display()),
            )
        })?;
        let base_name = base.display().to_string();
        let stem = base
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_else(|| "scenario".into());
        let base_scn = scenario::parse(&base_text, &base_name, &stem)
            .map_err(|e| err("scenario", e.to_string()))?;
        let columns = axes.iter().flat_map(|a| a.columns.clone()).collect();
        let mut runs = Vec::with_capacity(total);
        for point in 0..points {
            // Mixed radix, the last axis fastest.
            let mut rest = point;
            let mut chosen = Vec::with_capacity(axes.len());
            for a in axes.iter().rev() {
                chosen.push(&a.points[rest % a.points.len()]);
                rest /= a.points.len();
            }
            chosen.reverse();
            let labels: Vec<String> = chosen.iter().flat_map(|c| c.labels.clone()).collect();
            let mut sets = Vec::new();
            for (p, v) in &file.set {
                sets.push(Override::parse(&format!("{p}={v}")).map_err(|m| err("set", m))?);
            }
            for (p, v, _) in chosen.iter().flat_map(|c| &c.sets) {
                sets.push(Override::parse(&format!("{p}={v}")).map_err(|m| err("vary", m))?);
            }
            for rep in 0..file.repeat {
                let seed = base_scn.seed.wrapping_add(u64::from(rep));
                let opts = LoadOptions {
                    seed: Some(seed),
                    sets: sets.clone(),
                    ..LoadOptions::default()
                };
                let scn = scenario::parse_with(&base_text, &base_name, &stem, &opts)
                    .map_err(|e| rejected(point, &chosen, &e, &err))?;
                let id = format!(
                    "{:016x}",
                    fnv1a64(format!("{}\n{}", scn.echo, env!("CARGO_PKG_VERSION")).as_bytes())
                );
                runs.push(Run {
                    index: runs.len(),
                    point,
                    rep,
                    seed,
                    labels: labels.clone(),
                    id,
                    scenario: scn,
                });
            }
        }
        Ok(Plan {
            file,
            columns,
            runs,
            points,
            base,
        })
    }
}
