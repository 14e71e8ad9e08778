//! `--set PATH=VALUE`: overrides applied to the scenario text before it is validated, so an
//! overridden value is checked exactly like one written in the file, with the same messages.
//!
//! PATH uses the syntax of the error messages (`listeners[0].backlog`,
//! `hosts[1].stack.syncookies`); VALUE is JSON, and a bare word that is not JSON is a string.
//! The value is spliced into the text on one line (replacing the value at PATH, or adding the
//! key to the nearest enclosing object that exists), so every other line and column of the
//! file is unchanged and errors elsewhere still point into the user's file. An error about an
//! overridden value names the `--set` it came from instead of a place in the file.

use super::ScenarioError;
use super::locate::{self, Seg};

/// One `--set PATH=VALUE`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Override {
    /// As given, for messages.
    pub given: String,
    pub path: Vec<Seg>,
    /// The value as compact JSON.
    pub json: String,
}

impl Override {
    /// Parses `PATH=VALUE`.
    pub fn parse(s: &str) -> Result<Override, String> {
        let Some((path, value)) = s.split_once('=') else {
            return Err(format!("--set {s:?}: expected PATH=VALUE"));
        };
        let segs = locate::parse_path(path.trim());
        if segs.is_empty() || locate::render(&segs) != path.trim() {
            return Err(format!(
                "--set {s:?}: `{path}` is not a path such as `listeners[0].backlog`"
            ));
        }
        let value = value.trim();
        let json = match serde_json::from_str::<serde_json::Value>(value) {
            Ok(v) => v.to_string(),
            Err(_) => serde_json::Value::String(value.to_string()).to_string(),
        };
        Ok(Override {
            given: s.to_string(),
            path: segs,
            json,
        })
    }

    /// Whether an error at `path` is about this override's value.
    fn covers(&self, path: &str) -> bool {
        let mine = locate::render(&self.path);
        path == mine
            || path
                .strip_prefix(&mine)
                .is_some_and(|rest| rest.starts_with('.') || rest.starts_with('['))
    }
}

/// The scenario text with every override applied, in order.
pub fn apply(text: &str, file: &str, sets: &[Override]) -> Result<String, ScenarioError> {
    let mut text = text.to_string();
    for o in sets {
        text = apply_one(&text, o).map_err(|message| ScenarioError {
            file: file.into(),
            path: locate::render(&o.path),
            line: 0,
            column: 0,
            message,
        })?;
    }
    Ok(text)
}

fn apply_one(text: &str, o: &Override) -> Result<String, String> {
    if let Some((start, end)) = locate::value_span(text, &o.path) {
        return Ok(format!("{}{}{}", &text[..start], o.json, &text[end..]));
    }
    // Not in the file: add it to the deepest enclosing object that is, creating the objects
    // in between.
    for keep in (0..o.path.len()).rev() {
        let (parent, missing) = o.path.split_at(keep);
        let Some((start, end)) = locate::value_span(text, parent) else {
            continue;
        };
        if !text[start..].starts_with('{') {
            break;
        }
        let mut value = o.json.clone();
        for seg in missing[1..].iter().rev() {
            let Seg::Key(k) = seg else {
                return Err(no_element(o));
            };
            value = format!("{{{}: {value}}}", serde_json::Value::String(k.clone()));
        }
        let Seg::Key(k) = &missing[0] else {
            return Err(no_element(o));
        };
        let empty = text[start + 1..end - 1].trim().is_empty();
        let entry = format!(
            "{}: {value}{}",
            serde_json::Value::String(k.clone()),
            if empty { "" } else { ", " }
        );
        return Ok(format!(
            "{}{}{}",
            &text[..=start],
            entry,
            &text[start + 1..]
        ));
    }
    Err(no_element(o))
}

fn no_element(o: &Override) -> String {
    format!(
        "--set {}: the scenario has no `{}` to set (array elements must exist in the file)",
        o.given,
        locate::render(&o.path)
    )
}

/// Rewrites an error about an overridden value to name the `--set` it came from.
pub fn attribute(mut e: ScenarioError, sets: &[Override]) -> ScenarioError {
    if let Some(o) = sets.iter().rev().find(|o| o.covers(&e.path)) {
        e.message = format!("`{}` (from --set {}): {}", e.path, o.given, e.message);
        e.line = 0;
        e.column = 0;
    }
    e
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set(text: &str, s: &str) -> String {
        apply(text, "t", &[Override::parse(s).unwrap()]).unwrap()
    }

    #[test]
    fn replaces_adds_and_creates() {
        let t = "{\n  \"a\": [ {\"b\": 1} ],\n  \"c\": {}\n}";
        assert_eq!(
            set(t, "a[0].b=7"),
            "{\n  \"a\": [ {\"b\": 7} ],\n  \"c\": {}\n}"
        );
        assert_eq!(
            set(t, "a[0].x=word"),
            "{\n  \"a\": [ {\"x\": \"word\", \"b\": 1} ],\n  \"c\": {}\n}"
        );
        assert_eq!(
            set(t, "c.d.e=true"),
            "{\n  \"a\": [ {\"b\": 1} ],\n  \"c\": {\"d\": {\"e\": true}}\n}"
        );
        let e = apply(t, "t", &[Override::parse("a[3].b=1").unwrap()]).unwrap_err();
        assert!(e.message.contains("no `a[3].b`"), "{e}");
        assert!(Override::parse("nonsense").is_err());
        assert!(Override::parse("a..b=1").is_err());
    }
}
