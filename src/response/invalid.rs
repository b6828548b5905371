//! An answer the component could not read: why, and where, quoted safely.

use crate::error::{Error, InvalidResponse, Service};
use crate::http::Response;
use crate::lenient::strip_position;

/// How much of a body an error may quote.
pub(super) const EXCERPT_CHARS: usize = 200;
/// How much of a parser's message a reason may quote.
pub(super) const REASON_CHARS: usize = 300;

/// Where in `text` the parser stopped: from serde_json's 1-based line and column.
pub(super) fn error_offset(text: &str, e: &serde_json::Error) -> usize {
    let line_start = if e.line() <= 1 {
        0
    } else {
        text.match_indices('\n')
            .nth(e.line() - 2)
            .map_or(text.len(), |(i, _)| i + 1)
    };
    let at = (line_start + e.column().saturating_sub(1)).min(text.len());
    // Centre the excerpt on that place, starting on a character boundary.
    let mut start = at.saturating_sub(EXCERPT_CHARS / 2);
    while !text.is_char_boundary(start) {
        start += 1;
    }
    start
}
pub(super) fn invalid(service: Service, response: &Response, reason: String) -> Error {
    Error::InvalidResponse(InvalidResponse {
        service,
        status: response.status,
        reason,
        excerpt: excerpt(&response.body),
    })
}

pub(super) fn json_reason(body: &[u8], e: &serde_json::Error) -> String {
    if body.iter().all(u8::is_ascii_whitespace) {
        return "the body is empty".into();
    }
    // serde quotes offending strings whole; keep the reason short.
    let message = e.to_string();
    let reason: String = strip_position(&message)
        .chars()
        .take(REASON_CHARS)
        .collect();
    match e.line() {
        0 => format!("the body is not the expected JSON: {reason}"),
        line => format!(
            "the body is not the expected JSON: {reason} (line {line}, column {})",
            e.column()
        ),
    }
}

/// The start of a body, safe to print: lossy UTF-8, control characters
/// escaped, at most [`EXCERPT_CHARS`] characters escapes included.
pub fn excerpt(body: &[u8]) -> String {
    let head = &body[..body.len().min(EXCERPT_CHARS * 4)];
    let mut out = String::new();
    let mut length = 0;
    for c in String::from_utf8_lossy(head).chars() {
        let shown: String = if c.is_control() {
            c.escape_default().collect()
        } else {
            c.into()
        };
        length += shown.chars().count();
        if length > EXCERPT_CHARS {
            break;
        }
        out.push_str(&shown);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn excerpts_are_short_and_escaped() {
        let long = "x".repeat(10_000);
        assert_eq!(excerpt(long.as_bytes()).len(), EXCERPT_CHARS);
        assert_eq!(excerpt(b"a\x1b[2Jb\xff"), "a\\u{1b}[2Jb\u{fffd}");
        // Found by the `answer` fuzz target: escapes used to push past the limit.
        let controls = excerpt(&[0; 500]);
        assert_eq!(controls.chars().count(), 200, "{controls}");
        assert!(controls.starts_with("\\u{0}\\u{0}"));
    }
}
