//! `results.csv` (one row per run found in the store) and `aggregate.csv` (one row per point:
//! `n` and, per metric, the mean and the half-width of its 95 % confidence interval), built
//! from the runs' own `summary.json`.
//!
//! Metrics are summary.json paths in the error-message syntax. The defaults: `success_rate`;
//! per attacker `phases[i].{before,during,after}.success_rate`; per deadline
//! `success_within[j].rate`; `connect_latency_ms.p50` and `.p99`; per listener
//! `listeners[k].syn_queue_peak`, `.counters.ListenDrops` and `.counters.SyncookiesSent`; then
//! the sweep file's `metrics`. A value that is missing or not a number is an empty cell and
//! is left out of the point's mean.
//!
//! The interval is Student's t: mean ± t(0.975, n-1)·s/√n over the repetitions that have a
//! value (empty for fewer than two).

use std::fmt::Write as _;
use std::path::Path;

use serde_json::Value;

use super::plan::Plan;
use super::store;
use crate::scenario::Seg;

/// The metric paths for `plan`.
pub fn metrics(plan: &Plan) -> Vec<String> {
    let scn = &plan.runs[0].scenario;
    let mut m = vec!["success_rate".to_string()];
    for i in 0..scn.attackers.len() {
        for ph in ["before", "during", "after"] {
            m.push(format!("phases[{i}].{ph}.success_rate"));
        }
    }
    for j in 0..scn.success_within.len() {
        m.push(format!("success_within[{j}].rate"));
    }
    m.push("connect_latency_ms.p50".into());
    m.push("connect_latency_ms.p99".into());
    for k in 0..scn.listeners.len() {
        m.push(format!("listeners[{k}].syn_queue_peak"));
        m.push(format!("listeners[{k}].counters.ListenDrops"));
        m.push(format!("listeners[{k}].counters.SyncookiesSent"));
    }
    for x in &plan.file.metrics {
        if !m.contains(x) {
            m.push(x.clone());
        }
    }
    m
}

fn get<'a>(v: &'a Value, path: &[Seg]) -> Option<&'a Value> {
    let mut cur = v;
    for s in path {
        cur = match s {
            Seg::Key(k) => cur.get(k)?,
            Seg::Index(i) => cur.get(*i)?,
        };
    }
    Some(cur)
}

/// What the store holds for a plan: per run, its metric values (None: run missing).
pub struct Collected {
    pub metrics: Vec<String>,
    pub values: Vec<Option<Vec<Option<f64>>>>,
}

impl Collected {
    pub fn missing(&self) -> usize {
        self.values.iter().filter(|v| v.is_none()).count()
    }
}

pub fn collect(plan: &Plan, out: &Path) -> std::io::Result<Collected> {
    let metrics = metrics(plan);
    let paths: Vec<Vec<Seg>> = metrics
        .iter()
        .map(|m| crate::scenario::parse_metric_path(m))
        .collect();
    let mut values = Vec::with_capacity(plan.runs.len());
    for r in &plan.runs {
        let f = store::run_dir(out, &r.id).join("summary.json");
        let row = match std::fs::read(&f) {
            Ok(bytes) => {
                let s: Value = serde_json::from_slice(&bytes)
                    .map_err(|e| std::io::Error::other(format!("{}: {e}", f.display())))?;
                Some(
                    paths
                        .iter()
                        .map(|p| get(&s, p).and_then(Value::as_f64))
                        .collect(),
                )
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
            Err(e) => {
                return Err(std::io::Error::new(
                    e.kind(),
                    format!("{}: {e}", f.display()),
                ));
            }
        };
        values.push(row);
    }
    Ok(Collected { metrics, values })
}

fn cell(out: &mut String, v: Option<f64>) {
    if let Some(x) = v {
        let _ = write!(out, "{x}");
    }
}

fn csv_line(fields: &[String]) -> String {
    let mut w = csv::WriterBuilder::new().from_writer(Vec::new());
    w.write_record(fields).expect("in memory");
    String::from_utf8(w.into_inner().expect("in memory")).expect("utf-8")
}

/// `results.csv`: `run`, the variable columns, `seed`, `id`, the metrics.
pub fn results_csv(plan: &Plan, c: &Collected) -> String {
    let mut head = vec!["run".to_string()];
    head.extend(plan.columns.iter().cloned());
    head.extend(["seed".to_string(), "id".to_string()]);
    head.extend(c.metrics.iter().cloned());
    let mut s = csv_line(&head);
    for (r, vals) in plan.runs.iter().zip(&c.values) {
        let Some(vals) = vals else { continue };
        let mut f = vec![r.index.to_string()];
        f.extend(r.labels.iter().cloned());
        f.extend([r.seed.to_string(), r.id.clone()]);
        for v in vals {
            let mut x = String::new();
            cell(&mut x, *v);
            f.push(x);
        }
        s.push_str(&csv_line(&f));
    }
    s
}

/// Two-sided 95 % Student t quantile for `df` degrees of freedom.
pub fn t975(df: usize) -> f64 {
    const T: [f64; 30] = [
        12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179, 2.160,
        2.145, 2.131, 2.120, 2.110, 2.101, 2.093, 2.086, 2.080, 2.074, 2.069, 2.064, 2.060, 2.056,
        2.052, 2.048, 2.045, 2.042,
    ];
    match df {
        0 => f64::NAN,
        1..=30 => T[df - 1],
        // Beyond the table: the normal quantile plus the first term of its expansion.
        _ => 1.959_964 + 2.4 / df as f64,
    }
}

/// Mean and 95 % half-width of `xs` (half-width none below two values).
pub fn mean_ci(xs: &[f64]) -> (Option<f64>, Option<f64>) {
    if xs.is_empty() {
        return (None, None);
    }
    let n = xs.len() as f64;
    let mean = xs.iter().sum::<f64>() / n;
    if xs.len() < 2 {
        return (Some(mean), None);
    }
    let var = xs.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1.0);
    (Some(mean), Some(t975(xs.len() - 1) * (var / n).sqrt()))
}

/// One point's aggregate: labels, n, and (mean, ci) per metric.
pub struct PointRow {
    pub point: usize,
    pub labels: Vec<String>,
    pub n: usize,
    pub stats: Vec<(Option<f64>, Option<f64>)>,
    /// The first run of the point found in the store (for links).
    pub first_run: Option<String>,
}

pub fn aggregate(plan: &Plan, c: &Collected) -> Vec<PointRow> {
    let mut rows: Vec<PointRow> = Vec::with_capacity(plan.points);
    for (r, vals) in plan.runs.iter().zip(&c.values) {
        if rows.last().is_none_or(|p| p.point != r.point) {
            rows.push(PointRow {
                point: r.point,
                labels: r.labels.clone(),
                n: 0,
                stats: Vec::new(),
                first_run: None,
            });
        }
        let row = rows.last_mut().expect("pushed");
        if vals.is_some() {
            row.n += 1;
            row.first_run.get_or_insert_with(|| r.id.clone());
        }
    }
    let reps = plan.file.repeat as usize;
    for row in &mut rows {
        let runs = &c.values[row.point * reps..(row.point + 1) * reps];
        row.stats = (0..c.metrics.len())
            .map(|m| {
                let xs: Vec<f64> = runs.iter().flatten().filter_map(|v| v[m]).collect();
                mean_ci(&xs)
            })
            .collect();
    }
    rows
}

/// `aggregate.csv`: `point`, the variable columns, `n`, then `<metric>_mean` and
/// `<metric>_ci95` (the interval's half-width) per metric.
pub fn aggregate_csv(plan: &Plan, c: &Collected, rows: &[PointRow]) -> String {
    let mut head = vec!["point".to_string()];
    head.extend(plan.columns.iter().cloned());
    head.push("n".into());
    for m in &c.metrics {
        head.push(format!("{m}_mean"));
        head.push(format!("{m}_ci95"));
    }
    let mut s = csv_line(&head);
    for row in rows {
        let mut f = vec![row.point.to_string()];
        f.extend(row.labels.iter().cloned());
        f.push(row.n.to_string());
        for (mean, ci) in &row.stats {
            for v in [mean, ci] {
                let mut x = String::new();
                cell(&mut x, *v);
                f.push(x);
            }
        }
        s.push_str(&csv_line(&f));
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn intervals_follow_student_t() {
        let (m, ci) = mean_ci(&[1.0, 2.0, 3.0]);
        assert_eq!(m, Some(2.0));
        // s = 1, n = 3: 4.303 / sqrt(3).
        assert!((ci.unwrap() - 4.303 / 3f64.sqrt()).abs() < 1e-12);
        assert_eq!(mean_ci(&[5.0]), (Some(5.0), None));
        assert_eq!(mean_ci(&[]), (None, None));
        assert!((t975(100) - 1.984).abs() < 0.002, "{}", t975(100));
    }
}
