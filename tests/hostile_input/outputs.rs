//! The output fuzz target: generated runs through the whole pipeline, every file re-parsed.

use std::sync::atomic::{AtomicU64, Ordering};

use proptest::prelude::*;
use proptest::test_runner::{Config, TestCaseError, TestRunner};
use serde_json::Value;

use super::{SHIPPED, apply, fuzz_cases, mutation, shipped_texts};
use synsim::report;
use synsim::scenario;
use synsim::sim::SimError;

/// Records of a CSV text under RFC 4180 rules (quoted fields may hold commas, doubled quotes
/// and newlines): the number of fields of each record.
fn csv_record_widths(text: &str) -> Result<Vec<usize>, String> {
    let mut widths = Vec::new();
    let (mut fields, mut quoted, mut at_field_start) = (1, false, true);
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match (quoted, c) {
            (true, '"') if chars.peek() == Some(&'"') => {
                chars.next();
            }
            (true, '"') => quoted = false,
            (true, _) => {}
            (false, '"') if at_field_start => quoted = true,
            (false, '"') => {
                return Err(format!(
                    "a quote inside an unquoted field, record {}",
                    widths.len() + 1
                ));
            }
            (false, ',') => fields += 1,
            (false, '\n') => {
                widths.push(fields);
                fields = 1;
            }
            (false, _) => {}
        }
        at_field_start = !quoted && matches!(c, ',' | '\n');
    }
    if quoted {
        return Err("unterminated quoted field".into());
    }
    if !text.is_empty() && !text.ends_with('\n') {
        widths.push(fields);
    }
    Ok(widths)
}

/// HTML elements that never have a closing tag.
const VOID: [&str; 6] = ["meta", "br", "img", "link", "hr", "input"];

/// `index.html` is well-formed: every inline `<svg>` parses as XML, and outside them every tag
/// is closed in order, every `&` starts an entity, and no stray `<` or `>` appears in text.
fn check_page(page: &str) -> Result<(), String> {
    let mut rest = page;
    let mut outside = String::new();
    while let Some(i) = rest.find("<svg") {
        let end = rest[i..].find("</svg>").ok_or("unclosed <svg>")? + i + "</svg>".len();
        roxmltree::Document::parse(&rest[i..end]).map_err(|e| format!("inline SVG: {e}"))?;
        outside.push_str(&rest[..i]);
        rest = &rest[end..];
    }
    outside.push_str(rest);
    let body = outside
        .strip_prefix("<!DOCTYPE html>\n")
        .ok_or("no doctype")?;
    let mut stack: Vec<String> = Vec::new();
    let mut s = body;
    while let Some(c) = s.chars().next() {
        if c == '<' {
            let end = s.find('>').ok_or("unclosed tag")?;
            let tag = &s[1..end];
            if tag.contains('<') {
                return Err(format!("'<' inside a tag: {tag:.60}"));
            }
            let name: String = tag
                .trim_start_matches('/')
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric())
                .collect();
            if name.is_empty() {
                return Err(format!("not a tag: <{tag:.60}>"));
            }
            if tag.starts_with('/') {
                match stack.pop() {
                    Some(open) if open == name => {}
                    other => return Err(format!("</{name}> closes {other:?}")),
                }
            } else if !VOID.contains(&name.as_str()) && !tag.ends_with('/') {
                stack.push(name);
            }
            s = &s[end + 1..];
        } else if c == '&' {
            let end = s.find(';').ok_or("unterminated entity")?;
            let ent = &s[1..end];
            let ok = (ent.starts_with('#') && ent[1..].chars().all(|c| c.is_ascii_digit()))
                || (!ent.is_empty() && ent.chars().all(|c| c.is_ascii_alphabetic()));
            if !ok {
                return Err(format!("bad entity &{ent:.20};"));
            }
            s = &s[end + 1..];
        } else if c == '>' {
            return Err("stray '>' in text".into());
        } else {
            s = &s[c.len_utf8()..];
        }
    }
    if !stack.is_empty() {
        return Err(format!("unclosed elements {stack:?}"));
    }
    Ok(())
}

/// Re-parses every file of one run's output directory; returns how many it checked.
fn check_outputs(dir: &std::path::Path) -> Result<usize, String> {
    let mut checked = 3;
    let read =
        |name: &str| std::fs::read_to_string(dir.join(name)).map_err(|e| format!("{name}: {e}"));
    serde_json::from_str::<Value>(&read("summary.json")?)
        .map_err(|e| format!("summary.json: {e}"))?;
    for (i, line) in read("events.jsonl")?.lines().enumerate() {
        serde_json::from_str::<Value>(line)
            .map_err(|e| format!("events.jsonl line {}: {e}", i + 1))?;
    }
    for name in ["timeline.csv", "attempts.csv"] {
        let widths = csv_record_widths(&read(name)?).map_err(|e| format!("{name}: {e}"))?;
        if let Some(bad) = widths.iter().position(|w| *w != widths[0]) {
            return Err(format!(
                "{name} row {} has {} columns, the header {}",
                bad + 1,
                widths[bad],
                widths[0]
            ));
        }
    }
    checked += 1;
    for chart in ["states", "queues", "outcomes", "ladder"] {
        let svg = read(&format!("{chart}.svg"))?;
        roxmltree::Document::parse(&svg).map_err(|e| format!("{chart}.svg: {e}"))?;
        checked += 1;
    }
    check_page(&read("index.html")?).map_err(|e| format!("index.html: {e}"))?;
    Ok(checked + 1)
}

#[test]
fn csv_and_page_checkers_catch_malformed_files() {
    assert_eq!(
        csv_record_widths("a,b\n\"x,y\",\"q\"\"\"\n").unwrap(),
        vec![2, 2]
    );
    assert_eq!(
        csv_record_widths("a,b\n\"multi\nline\",2\n").unwrap(),
        vec![2, 2]
    );
    assert_eq!(csv_record_widths("t,web,1_x\n0,1\n").unwrap(), vec![3, 2]);
    assert!(csv_record_widths("a,b\"c\n").is_err());
    assert!(check_page("<!DOCTYPE html>\n<p>a &amp; b</p>").is_ok());
    assert!(check_page("<!DOCTYPE html>\n<p>a & b</p>").is_err());
    assert!(check_page("<!DOCTYPE html>\n<p>a <b</p>").is_err());
    assert!(check_page("<!DOCTYPE html>\n<p><b>x</p></b>").is_err());
}

/// Runs generated scenarios (the shipped ones under byte mutations that still validate, with
/// other seeds and descriptions full of `,` `"` `<` `&`) through the whole pipeline with the
/// trace and charts on, and re-parses every output file: summary.json and each events.jsonl
/// line as JSON, timeline.csv by CSV rules (every row as wide as the header), every SVG as
/// XML, index.html as balanced markup. Inputs: `SYNSIM_FUZZ_CASES / 40` (default 37).
#[test]
fn every_output_file_of_fuzzed_runs_reparses() {
    let base = std::env::temp_dir().join(format!("synsim-out-fuzz-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&base);
    let texts = shipped_texts();
    let (runs, mutated, files) = (AtomicU64::new(0), AtomicU64::new(0), AtomicU64::new(0));
    let mut runner = TestRunner::new(Config {
        cases: (fuzz_cases() / 40).max(8),
        max_shrink_iters: 50,
        failure_persistence: None,
        ..Config::default()
    });
    let strategy = (
        0..texts.len(),
        proptest::collection::vec(mutation(), 0..3),
        any::<u64>(),
        "[a-z ,\"<>&';\n\u{e9}]{0,60}",
    );
    let started = std::time::Instant::now();
    let result = runner.run(&strategy, |(i, ms, seed, description)| {
        let n = runs.fetch_add(1, Ordering::Relaxed);
        let mut b = texts[i].clone().into_bytes();
        for m in &ms {
            apply(&mut b, m);
        }
        let parsed = std::str::from_utf8(&b)
            .ok()
            .and_then(|t| scenario::parse(t, "fuzz.json", SHIPPED[i]).ok());
        let mut scn = match parsed {
            Some(s) => {
                mutated.fetch_add(1, Ordering::Relaxed);
                s
            }
            None => scenario::parse(&texts[i], "fuzz.json", SHIPPED[i]).unwrap(),
        };
        scn.seed = seed;
        scn.description = description;
        if scn.duration.as_ns() / scn.sample_interval.as_ns().max(1) > 200_000 {
            return Ok(());
        }
        let dir = base.join(format!("run{n}"));
        let opts = report::RunOptions {
            out_dir: dir.clone(),
            trace: true,
            charts: true,
            max_events: Some(20_000),
            ..Default::default()
        };
        match report::run_to_dir(&scn, &opts) {
            Ok(_) => {}
            Err(report::RunError::Sim(SimError::Budget { .. }))
            | Err(report::RunError::OutputBudget(_)) => return Ok(()),
            Err(e) => return Err(TestCaseError::fail(format!("run failed: {e}"))),
        }
        let checked = check_outputs(&dir)
            .map_err(|e| TestCaseError::fail(format!("{e}\nscenario {}", scn.name)))?;
        files.fetch_add(checked as u64, Ordering::Relaxed);
        let _ = std::fs::remove_dir_all(&dir);
        Ok(())
    });
    eprintln!(
        "outputs: {} runs ({} of mutated scenarios), {} files re-parsed, {:.1} s",
        runs.load(Ordering::Relaxed),
        mutated.load(Ordering::Relaxed),
        files.load(Ordering::Relaxed),
        started.elapsed().as_secs_f64()
    );
    let _ = std::fs::remove_dir_all(&base);
    if let Err(e) = result {
        panic!("{e}");
    }
    assert!(files.load(Ordering::Relaxed) > 0, "no run got through");
}
