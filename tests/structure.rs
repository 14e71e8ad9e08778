//! Size limits that keep the code base one a successor can live in: no source file over 700
//! lines and no function over 100 lines, under `src/`. A file or function that grows past them
//! should be split by job (a module or function per concern), not cut mechanically.
//!
//! Functions are found in rustfmt-formatted code: a line whose first token after the
//! visibility and qualifiers is `fn`, ending at the first later line that holds only `}` at the
//! same indentation (or the same line, for one-liners).

use std::fs;
use std::path::{Path, PathBuf};

const MAX_FILE_LINES: usize = 700;
const MAX_FN_LINES: usize = 100;

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let mut entries: Vec<_> = fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", dir.display()))
        .map(|e| e.expect("directory entry").path())
        .collect();
    entries.sort();
    for p in entries {
        if p.is_dir() {
            rust_files(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
}

/// The name of the function a line declares, if it declares one.
fn fn_name(line: &str) -> Option<&str> {
    let mut rest = line.trim_start();
    loop {
        let next = [
            "pub(crate) ",
            "pub(super) ",
            "pub ",
            "const ",
            "async ",
            "unsafe ",
        ]
        .iter()
        .find_map(|q| rest.strip_prefix(q));
        match next {
            Some(r) => rest = r,
            None => break,
        }
    }
    if let Some(r) = rest.strip_prefix("extern \"C\" ") {
        rest = r;
    }
    let r = rest.strip_prefix("fn ")?;
    let end = r
        .find(|c: char| !(c.is_alphanumeric() || c == '_'))
        .unwrap_or(r.len());
    Some(&r[..end])
}

/// `(name, first line (1-based), length in lines)` of every function in `text`.
fn functions(text: &str) -> Vec<(String, usize, usize)> {
    let lines: Vec<&str> = text.lines().collect();
    let mut found = Vec::new();
    for (i, line) in lines.iter().enumerate() {
        let Some(name) = fn_name(line) else { continue };
        let indent = line.len() - line.trim_start().len();
        // A declaration without a body (trait method) ends with `;` before any `{`.
        let mut end = None;
        for (j, l) in lines.iter().enumerate().skip(i) {
            let t = l.trim_end();
            if j == i && t.ends_with('}') && t.contains('{') {
                end = Some(j);
                break;
            }
            if t.ends_with(';') && !lines[i..=j].iter().any(|x| x.contains('{')) {
                break;
            }
            if j > i && t.len() == indent + 1 && t.ends_with('}') && t.trim() == "}" {
                end = Some(j);
                break;
            }
        }
        if let Some(j) = end {
            found.push((name.to_string(), i + 1, j - i + 1));
        }
    }
    found
}

#[test]
fn source_files_and_functions_stay_small() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&root, &mut files);
    assert!(files.len() > 10, "found only {} source files", files.len());
    let mut problems = Vec::new();
    let mut fns = 0;
    for f in &files {
        let text = fs::read_to_string(f).expect("source file reads");
        let rel = f.strip_prefix(env!("CARGO_MANIFEST_DIR")).unwrap_or(f);
        let n = text.lines().count();
        if n > MAX_FILE_LINES {
            problems.push(format!(
                "{}: {n} lines (limit {MAX_FILE_LINES})",
                rel.display()
            ));
        }
        for (name, at, len) in functions(&text) {
            fns += 1;
            if len > MAX_FN_LINES {
                problems.push(format!(
                    "{}:{at}: fn {name} is {len} lines (limit {MAX_FN_LINES})",
                    rel.display()
                ));
            }
        }
    }
    assert!(
        fns > 200,
        "found only {fns} functions: the scanner is broken"
    );
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn the_scanner_measures_functions() {
    let src = "fn a() {}\n\npub(crate) fn b(\n    x: u8,\n) -> u8 {\n    x\n}\n    \
               fn c();\n    pub fn d() {\n        let y = 1;\n    }\n";
    let f = functions(src);
    assert_eq!(
        f,
        vec![
            ("a".to_string(), 1, 1),
            ("b".to_string(), 3, 5),
            ("d".to_string(), 9, 3)
        ]
    );
}

/// The TCP stack knows no application: clients, servers, accept policies and attempt outcomes
/// live in `sim::workload`, which drives the stack through its socket calls. (Before the move,
/// `tcp/tcb.rs` held the client and server applications and the stack decided outcomes.)
#[test]
fn the_tcp_stack_holds_no_application() {
    let mut files = Vec::new();
    rust_files(Path::new("src/tcp"), &mut files);
    assert!(
        files.len() > 5,
        "src/tcp not found from {:?}",
        std::env::current_dir()
    );
    let banned = [
        "use crate::sim",
        "Outcome",
        "ServerApp",
        "AcceptPolicy",
        "ClientApp",
        "expect_reply",
    ];
    let mut found = Vec::new();
    for f in &files {
        let text = std::fs::read_to_string(f).expect("readable source");
        for (n, line) in text.lines().enumerate() {
            if line.trim_start().starts_with("//") {
                continue;
            }
            for b in banned {
                if line.contains(b) {
                    found.push(format!("{}:{}: {}", f.display(), n + 1, line.trim()));
                }
            }
        }
    }
    assert!(
        found.is_empty(),
        "application code in the stack:\n{}",
        found.join("\n")
    );
    for f in ["client.rs", "server.rs", "attacker.rs"] {
        assert!(
            Path::new("src/sim/workload").join(f).exists(),
            "src/sim/workload/{f} missing"
        );
    }
}
