//! One forward pass over the JSON text, before serde sees it: finds a key repeated inside any
//! object at any depth (serde keeps the last one of a free-form map silently), and tells which
//! JSON path a byte offset lies in (to name the path of a syntax error or of a bad byte).
//!
//! The scanner is iterative (no recursion, so any nesting depth is safe) and tolerant: at the
//! first thing that is not JSON it stops and leaves the diagnosis to serde.

use std::collections::HashMap;

use super::Seg;

/// A key seen twice in one object.
#[derive(Debug, PartialEq, Eq)]
pub struct Duplicate {
    /// Path of the second occurrence (its last segment is the key).
    pub path: Vec<Seg>,
    /// Byte offsets of the first and the second key.
    pub first: usize,
    pub second: usize,
}

enum Frame {
    Obj {
        keys: HashMap<String, usize>,
        key: Option<String>,
    },
    Arr {
        index: usize,
    },
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Want {
    Value,
    Key,
    Colon,
    /// A comma or the closing bracket.
    Next,
}

struct Scan {
    stack: Vec<Frame>,
}

impl Scan {
    fn path(&self) -> Vec<Seg> {
        let mut p = Vec::with_capacity(self.stack.len());
        for f in &self.stack {
            match f {
                Frame::Obj { key: Some(k), .. } => p.push(Seg::Key(k.clone())),
                Frame::Obj { key: None, .. } => break,
                Frame::Arr { index } => p.push(Seg::Index(*index)),
            }
        }
        p
    }
}

/// The end of the string starting at `i` (at the quote) and its decoded text (escapes kept
/// as the escaped character, `\uXXXX` decoded when valid), or `None` if it never closes.
fn string(b: &[u8], i: usize) -> Option<(usize, String)> {
    let mut j = i + 1;
    let mut out = Vec::new();
    while j < b.len() {
        match b[j] {
            b'"' => return Some((j + 1, String::from_utf8_lossy(&out).into_owned())),
            b'\\' if j + 1 < b.len() => {
                let c = b[j + 1];
                if c == b'u' && j + 6 <= b.len() {
                    let hex = std::str::from_utf8(&b[j + 2..j + 6]).ok();
                    if let Some(ch) = hex
                        .and_then(|h| u32::from_str_radix(h, 16).ok())
                        .and_then(char::from_u32)
                    {
                        let mut buf = [0u8; 4];
                        out.extend_from_slice(ch.encode_utf8(&mut buf).as_bytes());
                        j += 6;
                        continue;
                    }
                }
                out.push(c);
                j += 2;
            }
            c => {
                out.push(c);
                j += 1;
            }
        }
    }
    None
}

/// What the scan found: the first duplicate key, if any, before `stop`, and the path of the
/// value being read when it stopped (at `stop`, at the end, or at the first non-JSON byte).
struct Outcome {
    duplicate: Option<Duplicate>,
    path: Vec<Seg>,
}

fn scan(b: &[u8], stop: usize) -> Outcome {
    let mut s = Scan { stack: Vec::new() };
    let mut want = Want::Value;
    let mut i = 0;
    let end = stop.min(b.len());
    while i < end {
        let c = b[i];
        if c.is_ascii_whitespace() {
            i += 1;
            continue;
        }
        match (want, c) {
            (Want::Value, b'{') => {
                s.stack.push(Frame::Obj {
                    keys: HashMap::new(),
                    key: None,
                });
                want = Want::Key;
                i += 1;
            }
            (Want::Value, b'[') => {
                s.stack.push(Frame::Arr { index: 0 });
                want = Want::Value;
                i += 1;
            }
            (Want::Key, b'}') | (Want::Value, b']') | (Want::Next, b'}' | b']') => {
                s.stack.pop();
                want = Want::Next;
                i += 1;
            }
            (Want::Value, b'"') => match string(b, i) {
                Some((j, _)) => {
                    i = j;
                    want = Want::Next;
                }
                None => break,
            },
            (Want::Key, b'"') => {
                let Some((j, key)) = string(b, i) else { break };
                let Some(Frame::Obj { keys, key: cur }) = s.stack.last_mut() else {
                    break;
                };
                if let Some(&first) = keys.get(&key) {
                    *cur = Some(key);
                    return Outcome {
                        duplicate: Some(Duplicate {
                            path: s.path(),
                            first,
                            second: i,
                        }),
                        path: s.path(),
                    };
                }
                keys.insert(key.clone(), i);
                *cur = Some(key);
                want = Want::Colon;
                i = j;
            }
            (Want::Colon, b':') => {
                want = Want::Value;
                i += 1;
            }
            (Want::Next, b',') => {
                match s.stack.last_mut() {
                    Some(Frame::Obj { .. }) => want = Want::Key,
                    Some(Frame::Arr { index }) => {
                        *index += 1;
                        want = Want::Value;
                    }
                    None => break,
                }
                i += 1;
            }
            (Want::Value, _) => {
                // A number, true, false or null.
                let mut j = i;
                while j < b.len()
                    && !matches!(b[j], b',' | b'}' | b']' | b':' | b'"' | b'{' | b'[')
                    && !b[j].is_ascii_whitespace()
                {
                    j += 1;
                }
                i = j;
                want = Want::Next;
            }
            _ => break,
        }
    }
    Outcome {
        duplicate: None,
        path: s.path(),
    }
}

/// The first key repeated within one object, at any depth.
pub fn first_duplicate(text: &str) -> Option<Duplicate> {
    scan(text.as_bytes(), usize::MAX).duplicate
}

/// The path of the value being read at byte `offset` (`[]` for the top level).
pub fn path_at(text: &[u8], offset: usize) -> Vec<Seg> {
    scan(text, offset).path
}

#[cfg(test)]
mod tests {
    use super::*;

    fn k(s: &str) -> Seg {
        Seg::Key(s.into())
    }

    #[test]
    fn duplicates_at_any_depth() {
        let t = r#"{"a": [1, {"b": {"c": 1, "d": [2], "c": 3}}], "c": 0}"#;
        let d = first_duplicate(t).unwrap();
        assert_eq!(d.path, vec![k("a"), Seg::Index(1), k("b"), k("c")]);
        assert_eq!(&t[d.second..d.second + 3], "\"c\"");
        assert_eq!(d.first, t.find("\"c\"").unwrap());
        // Same key in sibling objects, or escaped differently but distinct: fine.
        assert_eq!(
            first_duplicate(r#"[{"a": 1}, {"a": 2}, {"a\"": 1, "a": 2}]"#),
            None
        );
        // An escape that decodes to the same key is the same key.
        assert!(first_duplicate(r#"{"a": 1, "\u0061": 2}"#).is_some());
    }

    #[test]
    fn path_at_an_offset() {
        let t = r#"{"hosts": [{"name": "a"}, {"name": 1 2}]}"#;
        let at = t.find("2}").unwrap();
        assert_eq!(
            path_at(t.as_bytes(), at),
            vec![k("hosts"), Seg::Index(1), k("name")]
        );
        assert_eq!(path_at(b"[[[", 3), vec![Seg::Index(0); 3]);
        assert_eq!(path_at(b"{", 1), Vec::<Seg>::new());
        // Deep nesting is no problem for an iterative scan.
        let deep = "[".repeat(1_000_000);
        assert_eq!(path_at(deep.as_bytes(), deep.len()).len(), 1_000_000);
    }
}
