//! Finds where a JSON path (`hosts[1].stack.syn_retries`) sits in the source text, so that
//! errors found after parsing (nonsense values, unknown host names) still carry a line and
//! column. A minimal JSON skipper: the text has already been parsed once, so it is valid JSON.

/// One step of a JSON path.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Seg {
    Key(String),
    Index(usize),
}

/// Renders a path as `a.b[2].c`.
pub fn render(path: &[Seg]) -> String {
    let mut s = String::new();
    for seg in path {
        match seg {
            Seg::Key(k) => {
                if !s.is_empty() {
                    s.push('.');
                }
                s.push_str(k);
            }
            Seg::Index(i) => s.push_str(&format!("[{i}]")),
        }
    }
    if s.is_empty() { "(root)".into() } else { s }
}

/// Parses a path rendered as `a.b[2].c` (serde_path_to_error's form) back into segments.
pub fn parse_path(s: &str) -> Vec<Seg> {
    let mut out = Vec::new();
    for part in s.split('.').filter(|p| !p.is_empty()) {
        let mut rest = part;
        if let Some(i) = rest.find('[') {
            if i > 0 {
                out.push(Seg::Key(rest[..i].into()));
            }
            rest = &rest[i..];
            while let Some(r) = rest.strip_prefix('[') {
                let Some(close) = r.find(']') else { break };
                match r[..close].parse() {
                    Ok(n) => out.push(Seg::Index(n)),
                    Err(_) => out.push(Seg::Key(r[..close].into())),
                }
                rest = &r[close + 1..];
            }
        } else {
            out.push(Seg::Key(rest.into()));
        }
    }
    out
}

/// Line and column (1-based) of the value at `path`, or of its deepest existing ancestor.
pub fn line_col(src: &str, path: &[Seg]) -> (usize, usize) {
    line_col_at(src, locate(src.as_bytes(), path))
}

/// Line and column (1-based, column in bytes like serde_json's) of a byte offset.
pub fn line_col_at(src: &str, off: usize) -> (usize, usize) {
    line_col_bytes(src.as_bytes(), off)
}

/// [`line_col_at`] over bytes that may not be UTF-8.
pub fn line_col_bytes(b: &[u8], off: usize) -> (usize, usize) {
    let before = &b[..off.min(b.len())];
    let line = before.iter().filter(|&&c| c == b'\n').count() + 1;
    let col = before.iter().rev().take_while(|&&c| c != b'\n').count() + 1;
    (line, col)
}

/// Byte offset of serde_json's (line, column) position (column 0: the line's start).
pub fn offset_of(src: &str, line: usize, column: usize) -> usize {
    let b = src.as_bytes();
    let mut start = 0;
    let mut l = 1;
    while l < line {
        match b[start..].iter().position(|&c| c == b'\n') {
            Some(i) => start += i + 1,
            None => return b.len(),
        }
        l += 1;
    }
    (start + column.saturating_sub(1)).min(b.len())
}

/// Byte offset of the value at `path`, or `None` if the path is not in the text.
pub fn find(src: &str, path: &[Seg]) -> Option<usize> {
    let b = src.as_bytes();
    let mut i = ws(b, 0);
    for (n, seg) in path.iter().enumerate() {
        let found = locate_at(b, i, &path[n..n + 1]);
        if found == ws(b, i) {
            return None; // fell back to the parent
        }
        // `locate_at` returns a key's offset for the last segment of an object path: step to
        // its value for the next segment.
        i = match seg {
            Seg::Key(_) => {
                let (after_key, _) = string(b, found);
                ws(b, ws(b, after_key) + 1)
            }
            Seg::Index(_) => found,
        };
    }
    Some(i)
}

/// Byte range of the value at `path` (its first byte to just past its last).
pub fn value_span(src: &str, path: &[Seg]) -> Option<(usize, usize)> {
    let start = find(src, path)?;
    Some((start, skip(src.as_bytes(), start)))
}

fn ws(b: &[u8], mut i: usize) -> usize {
    while i < b.len() && b[i].is_ascii_whitespace() {
        i += 1;
    }
    i
}

/// Returns (end of string, decoded key) for a string starting at `i` (at the quote).
fn string(b: &[u8], i: usize) -> (usize, String) {
    let mut j = i + 1;
    let mut out = Vec::new();
    while j < b.len() && b[j] != b'"' {
        if b[j] == b'\\' && j + 1 < b.len() {
            out.push(b[j + 1]);
            j += 2;
        } else {
            out.push(b[j]);
            j += 1;
        }
    }
    (j + 1, String::from_utf8_lossy(&out).into_owned())
}

fn skip(b: &[u8], i: usize) -> usize {
    let i = ws(b, i);
    if i >= b.len() {
        return i;
    }
    match b[i] {
        b'"' => string(b, i).0,
        b'{' | b'[' => {
            let close = if b[i] == b'{' { b'}' } else { b']' };
            let mut j = ws(b, i + 1);
            while j < b.len() && b[j] != close {
                if close == b'}' {
                    j = string(b, ws(b, j)).0;
                    j = ws(b, j) + 1; // ':'
                }
                j = ws(b, skip(b, j));
                if j < b.len() && b[j] == b',' {
                    j = ws(b, j + 1);
                }
            }
            j + 1
        }
        _ => {
            let mut j = i;
            while j < b.len() && !matches!(b[j], b',' | b'}' | b']') && !b[j].is_ascii_whitespace()
            {
                j += 1;
            }
            j
        }
    }
}

fn locate(b: &[u8], path: &[Seg]) -> usize {
    let i = ws(b, 0);
    locate_at(b, i, path)
}

fn locate_at(b: &[u8], i: usize, path: &[Seg]) -> usize {
    let i = ws(b, i);
    let Some(first) = path.first() else { return i };
    if i >= b.len() {
        return i;
    }
    match (b[i], first) {
        (b'{', Seg::Key(want)) => {
            let mut j = ws(b, i + 1);
            while j < b.len() && b[j] != b'}' {
                let key_at = ws(b, j);
                let (after_key, key) = string(b, key_at);
                let val = ws(b, ws(b, after_key) + 1);
                if &key == want {
                    if path.len() == 1 {
                        return key_at;
                    }
                    return locate_at(b, val, &path[1..]);
                }
                j = ws(b, skip(b, val));
                if j < b.len() && b[j] == b',' {
                    j = ws(b, j + 1);
                }
            }
            i
        }
        (b'[', Seg::Index(want)) => {
            let mut j = ws(b, i + 1);
            let mut k = 0;
            while j < b.len() && b[j] != b']' {
                if k == *want {
                    return locate_at(b, j, &path[1..]);
                }
                j = ws(b, skip(b, j));
                if j < b.len() && b[j] == b',' {
                    j = ws(b, j + 1);
                }
                k += 1;
            }
            i
        }
        _ => i,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_nested_keys_and_indices() {
        let src = "{\n  \"a\": [1, {\"b\": \"x\"}],\n  \"c\": {\"d\": 5}\n}";
        let p = [Seg::Key("a".into()), Seg::Index(1), Seg::Key("b".into())];
        assert_eq!(line_col(src, &p), (2, 13)); // the key "b"
        assert_eq!(
            line_col(src, &[Seg::Key("c".into()), Seg::Key("d".into())]),
            (3, 9)
        );
        assert_eq!(render(&p), "a[1].b");
        // a missing key falls back to its parent object
        assert_eq!(
            line_col(src, &[Seg::Key("c".into()), Seg::Key("zz".into())]),
            (3, 8)
        );
    }
}
