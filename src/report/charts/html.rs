//! `index.html`: one self-contained page (inline SVG and CSS, nothing fetched) with the
//! scenario, the key numbers of `summary.json` and every chart.

use std::fmt::Write as _;

use crate::report::Summary;
use crate::spec::Scenario;

/// Escapes text for HTML content and attribute values.
pub fn esc(s: &str) -> String {
    let mut o = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => o.push_str("&amp;"),
            '<' => o.push_str("&lt;"),
            '>' => o.push_str("&gt;"),
            '"' => o.push_str("&quot;"),
            '\'' => o.push_str("&#39;"),
            c => o.push(c),
        }
    }
    o
}

/// An integer as text.
fn int(v: u64) -> String {
    v.to_string()
}

/// A real number with at most three decimals, without trailing zeros.
fn real(f: f64) -> String {
    let s = format!("{f:.3}");
    s.trim_end_matches('0').trim_end_matches('.').to_string()
}

/// Milliseconds, or `-` when there is no value.
fn ms(v: Option<f64>) -> String {
    v.map_or_else(|| "-".into(), |f| format!("{} ms", real(f)))
}

/// What each chart shows, under its title on the page.
const CAPTIONS: [(&str, &str); 4] = [
    (
        "states",
        "Live connections per TCP state over time, stacked; clients above, servers below. \
         Attack windows are shaded red, server outages grey.",
    ),
    (
        "queues",
        "SYN queue and accept queue occupancy of each listener with their capacities (dashed), \
         and SYNs dropped and SYN cookies sent per second.",
    ),
    (
        "outcomes",
        "Each legitimate connection attempt by start time and time to outcome, shaped and \
         coloured by outcome; right: the distribution of connect latency.",
    ),
    (
        "ladder",
        "The first connections segment by segment: client and server time lines, one arrow per \
         segment, losses crossed, retransmissions dashed, states in coloured boxes.",
    ),
];

pub(crate) fn table(out: &mut String, head: &[&str], rows: &[Vec<String>]) {
    out.push_str("<table><thead><tr>");
    for h in head {
        let _ = write!(out, "<th>{}</th>", esc(h));
    }
    out.push_str("</tr></thead><tbody>");
    for r in rows {
        out.push_str("<tr>");
        for (i, c) in r.iter().enumerate() {
            let class = if i == 0 { "" } else { " class=\"n\"" };
            let _ = write!(out, "<td{class}>{}</td>", esc(c));
        }
        out.push_str("</tr>");
    }
    out.push_str("</tbody></table>");
}

pub(crate) const STYLE: &str = "body{font-family:'DejaVu Sans',Verdana,sans-serif;margin:24px auto;\
max-width:1260px;padding:0 16px;color:#222;line-height:1.45}\
h1{margin-bottom:4px}h2{margin-top:32px;border-bottom:1px solid #ddd;padding-bottom:4px}\
.desc{font-size:1.05em;max-width:70em}.meta{color:#666}\
.cards{display:flex;flex-wrap:wrap;gap:12px;margin:16px 0}\
.card{border:1px solid #ddd;border-radius:6px;padding:10px 16px;min-width:120px}\
.card b{display:block;font-size:1.5em}.card span{color:#666;font-size:.9em}\
.grid{display:flex;flex-wrap:wrap;gap:28px}\
table{border-collapse:collapse;margin:8px 0}th,td{border:1px solid #ddd;padding:4px 10px}\
th{background:#f4f4f4;text-align:left}td.n{text-align:right;font-variant-numeric:tabular-nums}\
figure{margin:24px 0}figure svg{width:100%;height:auto;border:1px solid #eee}\
figcaption{color:#444;margin:6px 0}";

/// Builds the page. `charts` holds (name, SVG text) in display order.
pub(crate) fn page(scn: &Scenario, s: &Summary, charts: &[(String, String)]) -> String {
    let mut o = String::new();
    head(&mut o, scn, s);
    key_numbers(&mut o, s);
    files(&mut o, s);
    o.push_str("<h2>Setup</h2>\n");
    setup_table(&mut o, &s.setup);
    if !s.phases.is_empty() {
        o.push_str("<h2>Before, during and after each attack</h2>\n");
        phases(&mut o, s);
    }
    o.push_str("<div class=\"grid\"><div><h3>Outcomes</h3>");
    let rows: Vec<Vec<String>> = s
        .outcomes
        .entries()
        .iter()
        .map(|(k, v)| vec![k.to_string(), int(*v)])
        .collect();
    table(&mut o, &["outcome", "attempts"], &rows);
    o.push_str("</div><div><h3>Listeners</h3>");
    listeners(&mut o, s);
    o.push_str("</div><div><h3>Top drop reasons</h3>");
    drops(&mut o, s);
    o.push_str("</div><div><h3>Counters (non-zero)</h3>");
    let rows: Vec<Vec<String>> = s
        .counters
        .iter()
        .filter(|(_, v)| **v != 0)
        .map(|(k, v)| vec![k.clone(), int(*v)])
        .collect();
    table(&mut o, &["counter", "total"], &rows);
    o.push_str("</div><div><h3>Packets</h3>");
    let rows: Vec<Vec<String>> = s
        .packets
        .entries()
        .iter()
        .map(|(k, v)| vec![k.replace('_', " "), int(*v)])
        .collect();
    table(&mut o, &["packets", "count"], &rows);
    o.push_str("</div></div>\n");
    figures(&mut o, charts);
    o.push_str("</body>\n</html>\n");
    o
}

/// The document head, the title, the description and the run's identity.
fn head(o: &mut String, scn: &Scenario, s: &Summary) {
    let name = esc(&scn.name);
    let _ = write!(
        o,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>synsim: {name}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n\
         <h1>{name}</h1>\n"
    );
    if !scn.description.is_empty() {
        let _ = writeln!(o, "<p class=\"desc\">{}</p>", esc(&scn.description));
    }
    let _ = writeln!(
        o,
        "<p class=\"meta\">seed {} &middot; {} simulated &middot; {} events &middot; synsim {}</p>",
        int(s.seed),
        ms(Some(s.duration_ms)),
        int(s.events),
        esc(s.synsim_version)
    );
}

/// Links to the run's data files.
fn files(o: &mut String, s: &Summary) {
    let mut links = vec![
        ("summary.json", "every figure"),
        ("timeline.csv", "queues and states every sample"),
    ];
    if s.attempts_csv.is_some() {
        links.push(("attempts.csv", "one row per attempt"));
    }
    o.push_str("<p class=\"meta\">Files: ");
    let mut parts: Vec<String> = links
        .iter()
        .map(|(f, what)| format!("<a href=\"{f}\">{f}</a> ({what})"))
        .collect();
    for c in &s.captures {
        parts.push(format!(
            "<a href=\"{f}\">{f}</a> (capture: {n} packets; open with Wireshark)",
            f = esc(&c.file),
            n = int(c.packets)
        ));
    }
    o.push_str(&parts.join(" &middot; "));
    o.push_str("</p>\n");
}

/// The setup, one small table per section, in a grid.
pub(crate) fn setup_table(o: &mut String, setup: &[crate::report::setup::SetupSection]) {
    o.push_str("<div class=\"grid\">");
    for sec in setup {
        let _ = write!(o, "<div><h3>{}</h3>", esc(&sec.title));
        let rows: Vec<Vec<String>> = sec
            .items
            .iter()
            .map(|i| vec![i.name.clone(), i.value.clone()])
            .collect();
        table(o, &["setting", "value"], &rows);
        o.push_str("</div>");
    }
    o.push_str("</div>\n");
}

/// A share as a percentage, "-" without attempts.
fn share(r: Option<f64>) -> String {
    r.map_or("-".into(), |r| format!("{:.1} %", r * 100.0))
}

/// Per attack window: the attempts started before, during and after it.
fn phases(o: &mut String, s: &Summary) {
    let mut rows = Vec::new();
    for w in &s.phases {
        for (name, p) in [
            ("before", &w.before),
            ("during", &w.during),
            ("after", &w.after),
        ] {
            rows.push(vec![
                format!("{} {name}", w.attacker),
                format!("{} - {}", ms(Some(p.from_ms)), ms(Some(p.to_ms))),
                int(p.attempts),
                int(p.outcomes.established),
                share(p.success_rate),
                ms(p.connect_latency_ms.p50),
                ms(p.connect_latency_ms.p99),
            ]);
        }
    }
    table(
        o,
        &[
            "phase",
            "attempts started",
            "attempts",
            "established",
            "share",
            "latency p50",
            "p99",
        ],
        &rows,
    );
}

/// The cards with the headline numbers.
fn key_numbers(o: &mut String, s: &Summary) {
    let lat = &s.connect_latency_ms;
    let rate = match s.success_rate {
        Some(r) => format!("{:.1} %", r * 100.0),
        None => "-".into(),
    };
    o.push_str("<h2>Key numbers</h2>\n<div class=\"cards\">");
    for (v, label) in [
        (int(s.attempts), "attempts"),
        (int(s.outcomes.established), "established"),
        (rate, "success rate"),
        (ms(lat.p50), "connect latency p50"),
        (ms(lat.p90), "p90"),
        (ms(lat.p99), "p99"),
        (ms(lat.max), "max"),
    ] {
        let _ = write!(
            o,
            "<div class=\"card\"><b>{}</b><span>{}</span></div>",
            esc(&v),
            esc(label)
        );
    }
    o.push_str("</div>\n");
}

fn listeners(o: &mut String, s: &Summary) {
    let rows: Vec<Vec<String>> = s
        .listeners
        .iter()
        .map(|l| {
            vec![
                format!("{}:{}", l.host, l.port),
                format!("{} / {}", l.syn_queue_peak, l.syn_queue_capacity),
                format!("{} / {}", l.accept_queue_peak, l.accept_queue_capacity),
                int(l.accepted),
            ]
        })
        .collect();
    table(
        o,
        &[
            "listener",
            "SYN queue peak / capacity",
            "accept queue peak / capacity",
            "accepted",
        ],
        &rows,
    );
}

/// The most frequent drop reasons, most frequent first.
fn drops(o: &mut String, s: &Summary) {
    let mut drops: Vec<(&String, u64)> = s.drops_by_reason.iter().map(|(k, v)| (k, *v)).collect();
    drops.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(b.0)));
    let rows: Vec<Vec<String>> = drops
        .iter()
        .take(8)
        .map(|(k, v)| vec![k.to_string(), v.to_string()])
        .collect();
    if rows.is_empty() {
        o.push_str("<p>none</p>");
    } else {
        table(o, &["reason", "count"], &rows);
    }
}

/// Every chart inline, with its caption.
fn figures(o: &mut String, charts: &[(String, String)]) {
    for (chart, svg) in charts {
        let caption = CAPTIONS
            .iter()
            .find(|(n, _)| n == chart)
            .map_or("", |(_, c)| c);
        let svg = match svg.find("<svg") {
            Some(i) => &svg[i..],
            None => svg.as_str(),
        };
        let _ = write!(
            o,
            "<h2>{}</h2>\n<figure>\n<figcaption>{} (also as <a href=\"{chart}.png\">PNG</a> and \
             <a href=\"{chart}.svg\">SVG</a>)</figcaption>\n{svg}\n</figure>\n",
            esc(chart),
            esc(caption),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_markup() {
        assert_eq!(esc("<a & 'b'>"), "&lt;a &amp; &#39;b&#39;&gt;");
    }

    #[test]
    fn numbers_are_short() {
        assert_eq!(real(20.0), "20");
        assert_eq!(real(46.123456), "46.123");
        assert_eq!(int(7), "7");
        assert_eq!(ms(None), "-");
        assert_eq!(ms(Some(0.5)), "0.5 ms");
    }
}
