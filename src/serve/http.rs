//! The small HTTP pieces the server needs on top of `tiny_http`: the request target split into
//! path and query, query values decoded, the token compared, and responses with the headers
//! every answer carries (no caching, no sniffing, no referrer, a strict content policy).

use std::io::Read;

use tiny_http::{Header, Request, Response, ResponseBox, StatusCode};

/// The header the page's script sends the token in (images and the page itself carry it in
/// the query instead).
pub const TOKEN_HEADER: &str = "X-Synsim-Token";

pub type Reply = ResponseBox;

/// `(path, query)` of a request target (`/a/b?x=1` -> `("/a/b", "x=1")`).
pub fn split_target(url: &str) -> (&str, &str) {
    let url = url.split_once('#').map_or(url, |(u, _)| u);
    url.split_once('?').unwrap_or((url, ""))
}

/// Decodes a query component (`+` is a space); `None` if malformed or not UTF-8.
pub fn decode_query_value(s: &str) -> Option<String> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'%' => {
                out.push(u8::from_str_radix(s.get(i + 1..i + 3)?, 16).ok()?);
                i += 3;
            }
            b'+' => {
                out.push(b' ');
                i += 1;
            }
            c => {
                out.push(c);
                i += 1;
            }
        }
    }
    String::from_utf8(out).ok()
}

/// The first value of `key` in a query string.
pub fn query_value(query: &str, key: &str) -> Option<String> {
    query.split('&').find_map(|kv| {
        let (k, v) = kv.split_once('=').unwrap_or((kv, ""));
        (decode_query_value(k)? == key).then(|| decode_query_value(v))?
    })
}

/// Compares in time independent of where the strings differ.
pub fn same_secret(a: &str, b: &str) -> bool {
    a.len() == b.len() && a.bytes().zip(b.bytes()).fold(0u8, |d, (x, y)| d | (x ^ y)) == 0
}

/// Whether the request carries `token`, in the query or in [`TOKEN_HEADER`].
pub fn has_token(req: &Request, query: &str, token: &str) -> bool {
    let header = req
        .headers()
        .iter()
        .find(|h| h.field.equiv(TOKEN_HEADER))
        .map(|h| h.value.as_str().to_string());
    [query_value(query, "token"), header]
        .iter()
        .flatten()
        .any(|t| same_secret(t, token))
}

fn header(name: &str, value: &str) -> Header {
    Header::from_bytes(name.as_bytes(), value.as_bytes()).expect("static header is valid")
}

/// A response with the headers every answer of the server carries.
pub fn reply(status: u16, content_type: &str, body: Vec<u8>) -> Reply {
    with_headers(Response::from_data(body), status, content_type)
}

/// `r` with the status and the headers every answer of the server carries.
pub fn with_headers<R: Read + Send + 'static>(
    r: Response<R>,
    status: u16,
    content_type: &str,
) -> Reply {
    r.with_status_code(StatusCode(status))
        .with_header(header("Content-Type", content_type))
        .with_header(header("Cache-Control", "no-store"))
        .with_header(header("X-Content-Type-Options", "nosniff"))
        .with_header(header("Referrer-Policy", "no-referrer"))
        .with_header(header("X-Frame-Options", "DENY"))
        .with_header(header(
            "Content-Security-Policy",
            "default-src 'self'; img-src 'self'; script-src 'self'; style-src 'self'; \
             connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'",
        ))
        .boxed()
}

/// A JSON answer.
pub fn json(status: u16, v: &serde_json::Value) -> Reply {
    reply(status, "application/json", v.to_string().into_bytes())
}

/// A JSON error: `{"error": message}`.
pub fn error(status: u16, message: &str) -> Reply {
    json(status, &serde_json::json!({ "error": message }))
}

/// The content type of a file the server hands out, by extension (`None`: not served).
pub fn content_type(name: &str) -> Option<&'static str> {
    let ext = name.rsplit_once('.')?.1;
    Some(match ext {
        "png" => "image/png",
        "svg" => "image/svg+xml",
        "json" => "application/json",
        "csv" => "text/csv; charset=utf-8",
        "jsonl" => "application/x-ndjson",
        "pcapng" => "application/octet-stream",
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn queries_split_and_decode() {
        assert_eq!(split_target("/a?x=1#h"), ("/a", "x=1"));
        assert_eq!(split_target("/a"), ("/a", ""));
        assert_eq!(
            query_value("a=1&token=ab%2Bc", "token").as_deref(),
            Some("ab+c")
        );
        assert_eq!(query_value("a=1+2", "a").as_deref(), Some("1 2"));
        assert_eq!(query_value("a=%zz", "a"), None);
        assert!(same_secret("abc", "abc"));
        assert!(!same_secret("abc", "abd") && !same_secret("abc", "ab"));
    }
}
