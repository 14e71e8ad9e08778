//! Which files the server may read: a relative path checked word by word (no `..`, no `.`,
//! no empty part, no backslash, no absolute path, nothing percent-encoded that decodes to a
//! separator), then resolved with `canonicalize` and kept only if the result is still inside
//! its root (so a symlink that leaves the directory is refused too).

use std::fs;
use std::path::{Path, PathBuf};

use serde::Serialize;

/// Scenario files listed at most (the walk stops there).
const MAX_LISTED: usize = 500;
/// Directory depth walked below the scenario directory.
const MAX_DEPTH: usize = 6;

/// Why a path was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Refused {
    /// Not a clean relative path (traversal, absolute, backslash, encoded separator...).
    Unsafe,
    /// Clean, but nothing readable there inside the root.
    NotFound,
}

/// Decodes `%XX` escapes of a URL path; `None` if malformed, not UTF-8, or if an escape hides
/// a separator (`%2f`, `%5c`), a dot (`%2e`), a NUL or a `%` (double encoding).
pub fn decode_url_path(raw: &str) -> Option<String> {
    let b = raw.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' {
            let hex = raw.get(i + 1..i + 3)?;
            let v = u8::from_str_radix(hex, 16).ok()?;
            if matches!(v, b'/' | b'\\' | b'.' | b'%' | 0) {
                return None;
            }
            out.push(v);
            i += 3;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

/// `rel` if it is a clean relative path of plain names separated by `/`.
pub fn check_relative(rel: &str) -> Result<&str, Refused> {
    let bad = rel.is_empty()
        || rel.starts_with('/')
        || rel.contains('\\')
        || rel.contains(':')
        || rel.chars().any(char::is_control)
        || rel
            .split('/')
            .any(|part| part.is_empty() || part == "." || part == ".." || part.starts_with('.'));
    if bad { Err(Refused::Unsafe) } else { Ok(rel) }
}

/// The file at `rel` under `root` (which must be canonical), if it is a regular file that is
/// still inside `root` once every symlink is resolved.
pub fn resolve(root: &Path, rel: &str) -> Result<PathBuf, Refused> {
    let rel = check_relative(rel)?;
    let real = fs::canonicalize(root.join(rel)).map_err(|_| Refused::NotFound)?;
    if !real.starts_with(root) {
        return Err(Refused::Unsafe);
    }
    if !real.is_file() {
        return Err(Refused::NotFound);
    }
    Ok(real)
}

/// One scenario file of the scenario directory, as the page lists it.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct Listed {
    /// Relative to the scenario directory, `/`-separated (`defences/none.json`).
    pub path: String,
    /// The subdirectory (`defences`), empty at the top.
    pub group: String,
    pub name: String,
    pub description: String,
    pub attackers: usize,
    pub clients: usize,
}

/// The scenario files under `root` (canonical): `.json` files that hold a scenario (an object
/// with `hosts`; sweep files and the like are left out), subdirectories included, sorted with
/// the top level first. Symlinks that leave `root` are skipped.
pub fn list_scenarios(root: &Path, max_bytes: u64) -> Vec<Listed> {
    let mut found = Vec::new();
    walk(root, root, 0, max_bytes, &mut found);
    found.sort_by(|a, b| (&a.group, &a.path).cmp(&(&b.group, &b.path)));
    found
}

fn walk(root: &Path, dir: &Path, depth: usize, max_bytes: u64, found: &mut Vec<Listed>) {
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    let mut paths: Vec<PathBuf> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
    paths.sort();
    for p in paths {
        if found.len() >= MAX_LISTED {
            return;
        }
        let Ok(real) = fs::canonicalize(&p) else {
            continue;
        };
        let Ok(rel) = p.strip_prefix(root) else {
            continue;
        };
        let rel: Vec<String> = rel
            .components()
            .map(|c| c.as_os_str().to_string_lossy().into_owned())
            .collect();
        let rel = rel.join("/");
        if !real.starts_with(root) || check_relative(&rel).is_err() {
            continue;
        }
        if real.is_dir() {
            if depth < MAX_DEPTH {
                walk(root, &p, depth + 1, max_bytes, found);
            }
        } else if rel.ends_with(".json") {
            if let Some(l) = listed(&real, rel, max_bytes) {
                found.push(l);
            }
        }
    }
}

fn listed(file: &Path, rel: String, max_bytes: u64) -> Option<Listed> {
    if fs::metadata(file).ok()?.len() > max_bytes {
        return None;
    }
    let v: serde_json::Value = serde_json::from_str(&fs::read_to_string(file).ok()?).ok()?;
    let v = v.as_object()?;
    v.get("hosts")?.as_array()?;
    let count = |k: &str| v.get(k).and_then(|a| a.as_array()).map_or(0, Vec::len);
    let name = rel
        .rsplit('/')
        .next()
        .unwrap_or(&rel)
        .trim_end_matches(".json");
    Some(Listed {
        group: rel.rsplit_once('/').map_or("", |(g, _)| g).to_string(),
        name: name.to_string(),
        description: v
            .get("description")
            .and_then(|d| d.as_str())
            .unwrap_or("")
            .to_string(),
        attackers: count("attackers"),
        clients: count("clients"),
        path: rel,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn traversal_and_encodings_are_refused() {
        for bad in [
            "../Cargo.toml",
            "a/../../x",
            "/etc/passwd",
            "a//b",
            "./a",
            "a\\b",
            "C:x",
            ".hidden",
            "",
        ] {
            assert_eq!(check_relative(bad), Err(Refused::Unsafe), "{bad:?}");
        }
        assert_eq!(
            check_relative("defences/none.json"),
            Ok("defences/none.json")
        );
        assert_eq!(decode_url_path("%2e%2e/x"), None);
        assert_eq!(decode_url_path("a%2Fb"), None);
        assert_eq!(decode_url_path("a%5cb"), None);
        assert_eq!(decode_url_path("a%252e"), None);
        assert_eq!(decode_url_path("a%zz"), None);
        assert_eq!(decode_url_path("a%20b.json").as_deref(), Some("a b.json"));
    }
}
