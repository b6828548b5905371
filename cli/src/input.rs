//! What the CLI reads from files and stdin, every read bounded: a client
//! secret, a replay, a list of domains.

use anyhow::{Context, Result, anyhow, bail};
use mde_connector_host::runtime::MAX_DOMAIN_BYTES;
use std::io::{self, BufRead, Read};
use std::path::Path;

/// The most a client secret file may hold (an Entra secret is 40 characters).
pub const MAX_SECRET_BYTES: u64 = 64 * 1024;
/// The most a replay file may hold (the live transport takes at most 32 MiB
/// an answer).
pub const MAX_REPLAY_BYTES: u64 = 64 * 1024 * 1024;

/// The text of `path` (`what` it holds, for messages); more than `cap`
/// bytes, or bytes that are not UTF-8, are refused without reading further.
pub fn read_text(path: &Path, cap: u64, what: &str) -> Result<String> {
    let shown = path.display();
    let file = std::fs::File::open(path).with_context(|| format!("reading {what} from {shown}"))?;
    let mut bytes = Vec::new();
    file.take(cap.saturating_add(1))
        .read_to_end(&mut bytes)
        .with_context(|| format!("reading {what} from {shown}"))?;
    if bytes.len() as u64 > cap {
        bail!(
            "{shown} is larger than {} KiB, the most {what} may be",
            cap / 1024
        );
    }
    String::from_utf8(bytes).map_err(|e| {
        anyhow!(
            "{what} in {shown} is not UTF-8 (at byte {})",
            e.utf8_error().valid_up_to()
        )
    })
}

/// A line of a domains list that holds something.
#[derive(Debug, PartialEq, Eq)]
pub enum Line {
    /// Trimmed.
    Domain(String),
    /// A line that cannot be a domain: how to show it, and why.
    Refused { shown: String, why: String },
}

/// The lines of a domains list (blank lines and `#` comments skipped), read
/// one at a time: a line is held only up to [`MAX_DOMAIN_BYTES`], whatever
/// its length, and one that is too long or not UTF-8 is [`Line::Refused`]
/// alone.
pub struct DomainLines<R> {
    reader: R,
    number: usize,
}

impl<R: BufRead> DomainLines<R> {
    pub fn new(reader: R) -> Self {
        DomainLines { reader, number: 0 }
    }
}

/// How much of a refused line is shown.
const SHOWN_CHARS: usize = 64;

impl<R: BufRead> Iterator for DomainLines<R> {
    type Item = io::Result<Line>;

    fn next(&mut self) -> Option<io::Result<Line>> {
        loop {
            let (held, length) = match read_line(&mut self.reader, MAX_DOMAIN_BYTES) {
                Ok(Some(line)) => line,
                Ok(None) => return None,
                Err(e) => return Some(Err(e)),
            };
            self.number += 1;
            let number = self.number;
            if length > MAX_DOMAIN_BYTES {
                let start = String::from_utf8_lossy(&held);
                let shown: String = start.chars().take(SHOWN_CHARS).collect();
                return Some(Ok(Line::Refused {
                    shown: format!("{shown}…"),
                    why: format!(
                        "line {number} is {length} bytes long; a domain may be at most {MAX_DOMAIN_BYTES}"
                    ),
                }));
            }
            match String::from_utf8(held) {
                Err(e) => {
                    return Some(Ok(Line::Refused {
                        shown: String::from_utf8_lossy(e.as_bytes()).trim().to_owned(),
                        why: format!(
                            "line {number} is not UTF-8 (at byte {})",
                            e.utf8_error().valid_up_to()
                        ),
                    }));
                }
                Ok(text) => {
                    let text = text.trim();
                    if !text.is_empty() && !text.starts_with('#') {
                        return Some(Ok(Line::Domain(text.to_owned())));
                    }
                }
            }
        }
    }
}

/// The next line without its end (`\n` or `\r\n`): its first `cap + 1`
/// bytes at most, and its whole length; `None` at the end of the input.
fn read_line(reader: &mut impl BufRead, cap: usize) -> io::Result<Option<(Vec<u8>, usize)>> {
    let (mut held, mut length, mut any) = (Vec::new(), 0, false);
    loop {
        let buffer = reader.fill_buf()?;
        if buffer.is_empty() {
            break;
        }
        any = true;
        let end = buffer.iter().position(|b| *b == b'\n');
        let part = &buffer[..end.unwrap_or(buffer.len())];
        let room = (cap + 1).saturating_sub(held.len());
        held.extend_from_slice(&part[..part.len().min(room)]);
        length += part.len();
        let used = end.map_or(buffer.len(), |end| end + 1);
        reader.consume(used);
        if end.is_some() {
            break;
        }
    }
    if !any {
        return Ok(None);
    }
    if length <= cap + 1 && held.last() == Some(&b'\r') {
        held.pop();
        length -= 1;
    }
    Ok(Some((held, length)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(input: &[u8]) -> Vec<Line> {
        // A small buffer, so lines span several reads.
        let reader = io::BufReader::with_capacity(7, input);
        DomainLines::new(reader).map(Result::unwrap).collect()
    }

    #[test]
    fn blank_lines_and_comments_are_skipped_and_domains_trimmed() {
        assert_eq!(
            lines(b"contoso.com\r\n\n  # a comment\n fabrikam.com \nlast.example"),
            [
                Line::Domain("contoso.com".into()),
                Line::Domain("fabrikam.com".into()),
                Line::Domain("last.example".into()),
            ]
        );
    }

    #[test]
    fn a_long_line_and_one_not_utf8_are_refused_alone() {
        let mut input = b"a.example\n".to_vec();
        input.extend(std::iter::repeat_n(b'x', 5000));
        input.extend(b"\n\xffbad.example\nb.example\n");
        let read = lines(&input);
        assert_eq!(read.len(), 4, "{read:?}");
        assert_eq!(read[0], Line::Domain("a.example".into()));
        let Line::Refused { shown, why } = &read[1] else {
            panic!("{read:?}")
        };
        assert_eq!(shown, &format!("{}…", "x".repeat(64)));
        assert_eq!(
            why,
            "line 2 is 5000 bytes long; a domain may be at most 1024"
        );
        assert_eq!(
            read[2],
            Line::Refused {
                shown: "\u{fffd}bad.example".into(),
                why: "line 3 is not UTF-8 (at byte 0)".into()
            }
        );
        assert_eq!(read[3], Line::Domain("b.example".into()));
    }

    #[test]
    fn a_line_of_exactly_the_limit_is_a_domain() {
        let mut input = vec![b'a'; MAX_DOMAIN_BYTES];
        input.extend(b"\r\n");
        assert_eq!(lines(&input), [Line::Domain("a".repeat(MAX_DOMAIN_BYTES))]);
    }
}
