//! `DIR/index.html` of a sweep: the setup, the aggregate table (mean ± 95 % half-width per
//! metric) with a link to each point's first run page, the files, and the charts inline.
//! Self-contained.

use std::fmt::Write as _;

use super::plan::Plan;
use super::tables::{Collected, PointRow};
use crate::report::charts::html::esc;

fn num(v: Option<f64>) -> String {
    match v {
        Some(x) if x.abs() >= 1000.0 || x == x.trunc() => format!("{x:.0}"),
        Some(x) => format!("{x:.4}"),
        None => "–".into(),
    }
}

pub fn page(
    plan: &Plan,
    c: &Collected,
    rows: &[PointRow],
    sweep_file: &str,
    charts: bool,
    svgs: &[(String, String)],
) -> String {
    let mut h = String::new();
    let title = format!("synsim sweep: {sweep_file}");
    let _ = write!(
        h,
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>{}</title>\n<style>body{{font-family:sans-serif;margin:1.5em}}table{{border-collapse:collapse;font-size:13px}}td,th{{border:1px solid #ccc;padding:3px 6px;text-align:right}}th{{background:#f3f3f3}}td.l{{text-align:left}}</style></head><body>\n<h1>{}</h1>\n",
        esc(&title),
        esc(&title)
    );
    let _ = writeln!(
        h,
        "<p>Base scenario <code>{}</code>; {} points × {} repetitions = {} runs ({} missing from the store). Seeds: base + repetition index.</p>",
        esc(&plan.base.display().to_string()),
        plan.points,
        plan.file.repeat,
        plan.runs.len(),
        c.missing()
    );
    let _ = writeln!(
        h,
        "<p>Tables: <a href=\"results.csv\">results.csv</a> (one row per run), <a href=\"aggregate.csv\">aggregate.csv</a> (one row per point: mean and 95 % confidence half-width).</p>"
    );
    h.push_str("<table><tr><th>point</th>");
    for col in &plan.columns {
        let _ = write!(h, "<th>{}</th>", esc(col));
    }
    h.push_str("<th>n</th>");
    for m in &c.metrics {
        let _ = write!(h, "<th>{}</th>", esc(m));
    }
    h.push_str("<th>run</th></tr>\n");
    for row in rows {
        let _ = write!(h, "<tr><td>{}</td>", row.point);
        for l in &row.labels {
            let _ = write!(h, "<td class=\"l\">{}</td>", esc(l));
        }
        let _ = write!(h, "<td>{}</td>", row.n);
        for (mean, ci) in &row.stats {
            match ci {
                Some(ci) => {
                    let _ = write!(h, "<td>{} ± {}</td>", num(*mean), num(Some(*ci)));
                }
                None => {
                    let _ = write!(h, "<td>{}</td>", num(*mean));
                }
            }
        }
        match &row.first_run {
            Some(id) if charts => {
                let _ = write!(h, "<td><a href=\"runs/{id}/index.html\">{id}</a></td>");
            }
            Some(id) => {
                let _ = write!(h, "<td><a href=\"runs/{id}/summary.json\">{id}</a></td>");
            }
            None => h.push_str("<td>missing</td>"),
        }
        h.push_str("</tr>\n");
    }
    h.push_str("</table>\n");
    for (file, svg) in svgs {
        let svg = svg.find("<svg").map_or(svg.as_str(), |i| &svg[i..]);
        let _ = write!(
            h,
            "<figure>\n<figcaption><a href=\"{}\">{}</a></figcaption>\n{svg}\n</figure>\n",
            esc(file),
            esc(file)
        );
    }
    h.push_str("</body></html>\n");
    h
}
