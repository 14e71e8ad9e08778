//! serde's messages in the words of the scenario format: no Rust type names (`u64`, `f64`,
//! `struct RawHost`...), and the valid values of every enum-like field.

use super::Seg;

/// Words for what serde says it expected, by the type name it uses.
fn expected_words(what: &str) -> Option<String> {
    let w = match what {
        "u8" => "an integer within 0..=255",
        "u16" => "an integer within 0..=65535",
        "u32" => "a non-negative integer up to 4294967295",
        "u64" | "u128" | "usize" => "a non-negative integer",
        "i8" | "i16" | "i32" | "i64" | "i128" | "isize" => "an integer",
        "f32" | "f64" => "a number",
        "a sequence" => "a list",
        "a map" => "an object",
        "a boolean" => "true or false",
        "a borrowed string" | "a string" | "a char" => "a string",
        _ => return None,
    };
    Some(w.into())
}

fn keys(path: &[Seg]) -> impl DoubleEndedIterator<Item = &str> + Clone {
    path.iter().filter_map(|s| match s {
        Seg::Key(k) => Some(k.as_str()),
        Seg::Index(_) => None,
    })
}

const LOSS: &str = "`none`, `bernoulli`, `gilbert_elliott`";
const ACCEPT: &str = "`immediate`, `delay`, `rate`, `never`";
const ARRIVALS: &str = "`times`, `constant`, `poisson`";
const SPOOF: &str = "`none`, `range`, `hosts`";

/// The valid values of the enum-like fields of the file format, by the name of the field (or
/// of the tag) that holds them and the section it sits in.
pub fn valid_values(path: &[Seg]) -> Option<&'static str> {
    let section = keys(path).next();
    let mut rev = keys(path).rev();
    let key = rev.next()?;
    let parent = rev.next();
    Some(match (section, parent, key) {
        (_, _, "model") => LOSS,
        (_, _, "mode") => ACCEPT,
        (_, _, "app") => "`echo_upper`, `discard`, `close`",
        (_, _, "profile") => "`linux`, `freebsd`, `rfc9293`",
        (_, Some("spoof"), "kind") => SPOOF,
        (Some("attackers"), _, "arrivals") => "`constant`, `poisson`",
        (_, Some("arrivals"), "kind") => ARRIVALS,
        _ => return None,
    })
}

/// For a section that is an internally tagged object (`loss`, `accept`, `arrivals`, `spoof`):
/// its tag and the tag's values.
fn tagged(path: &[Seg]) -> Option<(&'static str, &'static str)> {
    Some(match keys(path).next_back()? {
        "loss" => ("model", LOSS),
        "accept" => ("mode", ACCEPT),
        "arrivals" => ("kind", ARRIVALS),
        "spoof" => ("kind", SPOOF),
        _ => return None,
    })
}

/// Names the type of a found value in words (`map` -> `an object`...).
fn found_words(found: &str) -> String {
    match found {
        "map" => "an object".into(),
        "sequence" => "a list".into(),
        "unit value" | "unit" => "null".into(),
        f => f
            .replace("floating point `", "the number `")
            .replace("integer `", "the integer `"),
    }
}

/// Rewrites one serde message (position suffix already removed) for the value at `path`.
pub fn rewrite(msg: &str, path: &[Seg]) -> String {
    let values = valid_values(path);
    // "invalid type: X, expected Y" / "invalid value: X, expected Y"
    for head in ["invalid type: ", "invalid value: "] {
        if let Some(rest) = msg.strip_prefix(head) {
            if let Some((found, expected)) = rest.rsplit_once(", expected ") {
                let exp = expected_for(expected, path, values);
                return format!("{head}{}, expected {exp}", found_words(found));
            }
        }
    }
    if msg == "expected value" {
        // serde_json's word for a value that is no enum name (`"app": 3`).
        if let Some(v) = values {
            return format!("expected one of {v}");
        }
    }
    if msg.starts_with("unknown variant ") {
        // serde lists the valid values itself, from the code.
        return msg.replace("unknown variant", "unknown value");
    }
    if let Some(rest) = msg.strip_prefix("expected ") {
        return format!("expected {}", expected_for(rest, path, values));
    }
    scrub(msg)
}

fn expected_for(expected: &str, path: &[Seg], values: Option<&str>) -> String {
    if let Some(w) = expected_words(expected) {
        return w;
    }
    if expected.starts_with("internally tagged enum") {
        if let Some((tag, v)) = tagged(path) {
            return format!("an object with `{tag}` one of {v}");
        }
    }
    let enum_like = expected.starts_with("internally tagged enum")
        || expected.starts_with("enum ")
        || expected.starts_with("unit variant")
        || expected == "variant identifier";
    if enum_like {
        if let Some(v) = values {
            return format!("one of {v}");
        }
        return "one of the documented values".into();
    }
    if expected.starts_with("struct") || expected.contains("variant") {
        return "an object".into();
    }
    scrub(expected)
}

/// Last resort: replace any Rust type name left in a message by words.
pub fn scrub(msg: &str) -> String {
    let mut out = Vec::new();
    for word in msg.split(' ') {
        let bare = word.trim_matches(|c: char| c == ',' || c == '.' || c == ';');
        match expected_words(bare) {
            Some(w) if !bare.starts_with('a') => out.push(word.replace(bare, &w)),
            _ => out.push(word.to_string()),
        }
    }
    out.join(" ")
}

/// True if a message shows a Rust type name (used by the tests, and as a guard).
pub fn has_rust_type_name(msg: &str) -> bool {
    const NAMES: [&str; 17] = [
        "u8", "u16", "u32", "u64", "u128", "usize", "i8", "i16", "i32", "i64", "i128", "isize",
        "f32", "f64", "struct", "Raw", "::",
    ];
    msg.split(|c: char| !(c.is_ascii_alphanumeric() || c == ':' || c == '_'))
        .any(|w| {
            NAMES
                .iter()
                .any(|n| w == *n || (n.len() > 2 && w.contains(n)))
        })
        || msg.contains("enum ")
        || msg.contains("Option<")
        || msg.contains("Vec<")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn k(s: &str) -> Seg {
        Seg::Key(s.into())
    }

    #[test]
    fn type_names_become_words() {
        let p = [k("seed")];
        assert_eq!(
            rewrite("invalid type: string \"x\", expected u64", &p),
            "invalid type: string \"x\", expected a non-negative integer"
        );
        assert_eq!(
            rewrite("invalid type: map, expected f64", &p),
            "invalid type: an object, expected a number"
        );
        assert_eq!(rewrite("expected struct RawHost", &p), "expected an object");
        let p = [k("network"), k("loss"), k("model")];
        assert_eq!(
            rewrite("invalid type: integer `5`, expected variant identifier", &p),
            "invalid type: the integer `5`, expected one of `none`, `bernoulli`, `gilbert_elliott`"
        );
        assert!(!has_rust_type_name("expected a non-negative integer"));
        assert!(has_rust_type_name("expected u64"));
        assert!(has_rust_type_name("expected struct RawHost"));
        assert!(has_rust_type_name(
            "expected internally tagged enum RawLoss"
        ));
    }
}
