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

/// [`read_text`] of a regular file only: a FIFO would block the open until
/// something writes to it, a directory or a device is no file of secrets.
pub fn read_file_text(path: &Path, cap: u64, what: &str) -> Result<String> {
    let shown = path.display();
    let metadata =
        std::fs::metadata(path).with_context(|| format!("reading {what} from {shown}"))?;
    if !metadata.is_file() {
        bail!(
            "{shown} is not a regular file (it is {}): give the path of a file that holds {what}",
            kind(&metadata.file_type())
        );
    }
    read_text(path, cap, what)
}

fn kind(file_type: &std::fs::FileType) -> &'static str {
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        if file_type.is_fifo() {
            return "a FIFO";
        }
        if file_type.is_char_device() || file_type.is_block_device() {
            return "a device";
        }
        if file_type.is_socket() {
            return "a socket";
        }
    }
    if file_type.is_dir() {
        "a directory"
    } else {
        "not a file"
    }
}

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
/// alone. Input that is no list of domains ends the list with an error: a
/// line over [`MAX_LINE_BYTES`], a NUL byte, more than [`MAX_LINES`] lines
/// (`--domains /dev/zero` ends at its first byte).
pub struct DomainLines<R> {
    reader: R,
    number: usize,
    ended: bool,
}

/// The longest line read before the input is taken for something else (a
/// longer line up to this gets its own error record, and the list goes on).
pub const MAX_LINE_BYTES: usize = 4 * 1024 * 1024;
/// The most lines a list may have (a day of the service's hourly limit many
/// times over).
pub const MAX_LINES: usize = 1_000_000;

impl<R: BufRead> DomainLines<R> {
    pub fn new(reader: R) -> Self {
        DomainLines {
            reader,
            number: 0,
            ended: false,
        }
    }
}

/// How much of a refused line is shown.
const SHOWN_CHARS: usize = 64;

impl<R: BufRead> Iterator for DomainLines<R> {
    type Item = io::Result<Line>;

    fn next(&mut self) -> Option<io::Result<Line>> {
        while !self.ended {
            let number = self.number + 1;
            let (held, length) = match read_line(&mut self.reader, MAX_DOMAIN_BYTES, number) {
                Ok(Some(line)) if number <= MAX_LINES => line,
                Ok(None) => return None,
                Ok(Some(_)) => {
                    self.ended = true;
                    return Some(Err(not_a_list(format!(
                        "more than {MAX_LINES} lines; split the list"
                    ))));
                }
                Err(e) => {
                    self.ended = true;
                    return Some(Err(e));
                }
            };
            self.number = number;
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
        None
    }
}

fn not_a_list(why: String) -> io::Error {
    io::Error::new(
        io::ErrorKind::InvalidData,
        format!("{why}: not a list of domains (one a line)"),
    )
}

/// The next line without its end (`\n` or `\r\n`): its first `cap + 1`
/// bytes at most, and its whole length; `None` at the end of the input. Line
/// `number` with a NUL byte or over [`MAX_LINE_BYTES`] is an error, read no
/// further.
fn read_line(
    reader: &mut impl BufRead,
    cap: usize,
    number: usize,
) -> io::Result<Option<(Vec<u8>, usize)>> {
    let (mut held, mut length, mut any) = (Vec::new(), 0, false);
    loop {
        let buffer = reader.fill_buf()?;
        if buffer.is_empty() {
            break;
        }
        any = true;
        let end = buffer.iter().position(|b| *b == b'\n');
        let part = &buffer[..end.unwrap_or(buffer.len())];
        if let Some(nul) = part.iter().position(|b| *b == 0) {
            return Err(not_a_list(format!(
                "line {number} has a NUL byte (at byte {})",
                length + nul + 1
            )));
        }
        if length + part.len() > MAX_LINE_BYTES {
            return Err(not_a_list(format!(
                "line {number} is longer than {} MiB",
                MAX_LINE_BYTES >> 20
            )));
        }
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

    /// `/dev/zero`, an endless line, endless blank lines: each ends the
    /// list at once with an error, and nothing is read after it.
    #[test]
    fn input_that_is_no_list_ends_it_with_an_error() {
        let ended = |reader: &mut dyn BufRead| {
            let mut lines = DomainLines::new(reader);
            let mut read = Vec::new();
            let error = loop {
                match lines.next().expect("an error before the input ends") {
                    Ok(line) => read.push(line),
                    Err(e) => break e.to_string(),
                }
            };
            assert!(lines.next().is_none(), "nothing after the error");
            (read, error)
        };
        let (read, why) = ended(&mut io::BufReader::new(io::repeat(0)));
        assert_eq!(read, []);
        assert_eq!(
            why,
            "line 1 has a NUL byte (at byte 1): not a list of domains (one a line)"
        );
        let text = b"a.example\nb.ex\0ample\n";
        let (read, why) = ended(&mut &text[..]);
        assert_eq!(read, [Line::Domain("a.example".into())]);
        assert!(
            why.starts_with("line 2 has a NUL byte (at byte 5)"),
            "{why}"
        );
        let (read, why) = ended(&mut io::BufReader::new(io::repeat(b'x')));
        assert_eq!(read, []);
        assert!(why.starts_with("line 1 is longer than 4 MiB"), "{why}");
        let (read, why) = ended(&mut io::BufReader::new(io::repeat(b'\n')));
        assert_eq!(read, []);
        assert!(
            why.starts_with("more than 1000000 lines; split the list"),
            "{why}"
        );
        // Up to the limits, lines are lines.
        let mut long = vec![b'y'; MAX_LINE_BYTES];
        long.extend(b"\nc.example\n");
        let read = lines(&long);
        assert!(matches!(&read[0], Line::Refused { why, .. } if why.contains("4194304 bytes")));
        assert_eq!(read[1], Line::Domain("c.example".into()));
    }

    #[test]
    fn a_client_secret_file_must_be_a_regular_file() {
        let dir = std::env::temp_dir().join(format!("mde-secret-files-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let why = read_file_text(&dir, MAX_SECRET_BYTES, "a client secret").unwrap_err();
        assert_eq!(
            why.to_string(),
            format!(
                "{} is not a regular file (it is a directory): give the path of a file that holds a client secret",
                dir.display()
            )
        );
        let file = dir.join("secret");
        std::fs::write(&file, "s3cret-value\n").unwrap();
        assert_eq!(
            read_file_text(&file, MAX_SECRET_BYTES, "a client secret").unwrap(),
            "s3cret-value\n"
        );
        let why = read_file_text(Path::new("/dev/zero"), MAX_SECRET_BYTES, "a client secret")
            .unwrap_err();
        assert!(why.to_string().contains("(it is a device)"), "{why}");
        // A FIFO with no writer: opening it would block for ever.
        let fifo = dir.join("fifo");
        let made = std::process::Command::new("mkfifo").arg(&fifo).status();
        assert!(made.is_ok_and(|s| s.success()), "mkfifo");
        let why = read_file_text(&fifo, MAX_SECRET_BYTES, "a client secret").unwrap_err();
        assert!(why.to_string().contains("(it is a FIFO)"), "{why}");
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn a_line_of_exactly_the_limit_is_a_domain() {
        let mut input = vec![b'a'; MAX_DOMAIN_BYTES];
        input.extend(b"\r\n");
        assert_eq!(lines(&input), [Line::Domain("a".repeat(MAX_DOMAIN_BYTES))]);
    }
}
