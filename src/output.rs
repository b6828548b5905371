//! Machines for people (a table) and for pipelines (a JSON array, one JSON
//! text per line), written from the JSON texts the component makes
//! (`lookup-texts`, `events.ocsf-inventory`, `ecs-documents`): a host never
//! rebuilds a machine's JSON itself. The CLI and the wasi:cli command print
//! through these, so both print the same bytes.

use crate::Error;
use serde::Deserialize;
use serde_json::value::RawValue;
use std::io::{self, Write};

/// How machines are printed, by the CLI and the wasi:cli command, and, but
/// for the table, the wasi:http service.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Format {
    /// Aligned columns of the most useful fields.
    #[default]
    Table,
    /// One JSON array, with the service's own field names.
    Json,
    /// One JSON object per line, with the service's own field names.
    Ndjson,
    /// One OCSF Device Inventory Info event per line.
    Ocsf,
    /// One ECS document per line.
    Ecs,
}

impl Format {
    /// Every format's name, as `--format` spells it.
    pub const NAMES: [&str; 5] = ["table", "json", "ndjson", "ocsf", "ecs"];

    /// The format called `name`.
    pub fn named(name: &str) -> Option<Format> {
        Some(match name {
            "table" => Format::Table,
            "json" => Format::Json,
            "ndjson" => Format::Ndjson,
            "ocsf" => Format::Ocsf,
            "ecs" => Format::Ecs,
            _ => return None,
        })
    }
}

/// Exit statuses of the CLI and the wasi:cli command (docs/cli.md): 0 for
/// an answer, also one with no machines.
pub const EXIT_OTHER: u8 = 1;
/// Invalid input or settings.
pub const EXIT_INPUT: u8 = 2;
/// The service refused the credentials (unauthorized or forbidden).
pub const EXIT_AUTH: u8 = 3;
pub const EXIT_RATE_LIMITED: u8 = 4;

/// The exit status for a lookup's error.
pub fn exit_status(e: &Error) -> u8 {
    match e {
        Error::InvalidSettings(_) => EXIT_INPUT,
        e if e.is_invalid_input() => EXIT_INPUT,
        Error::Unauthorized(_) | Error::Forbidden(_) => EXIT_AUTH,
        Error::RateLimited(_) => EXIT_RATE_LIMITED,
        _ => EXIT_OTHER,
    }
}

/// A JSON array of the component's JSON texts, one element per line.
pub fn write_array(out: &mut impl Write, texts: &[String]) -> io::Result<()> {
    out.write_all(b"[")?;
    for (i, text) in texts.iter().enumerate() {
        out.write_all(if i == 0 { b"\n" } else { b",\n" })?;
        out.write_all(text.as_bytes())?;
    }
    out.write_all(if texts.is_empty() { b"]\n" } else { b"\n]\n" })
}

/// The component's JSON texts, one per line.
pub fn write_lines(out: &mut impl Write, texts: &[String]) -> io::Result<()> {
    texts.iter().try_for_each(|text| writeln!(out, "{text}"))
}

/// A table of the machines in `machines_json` (the component's JSON texts,
/// with the service's names).
pub fn write_table(out: &mut impl Write, machines_json: &[String]) -> io::Result<()> {
    let rows: Vec<[String; 7]> = machines_json
        .iter()
        .map(|text| Ok(serde_json::from_str::<Row>(text)?.cells()))
        .collect::<io::Result<_>>()?;
    table(out, &rows)
}

/// The members a table shows, as sent: a member it does not show is skipped
/// unread (a 5,000-digit `osBuild` is never made a number).
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Row<'a> {
    #[serde(borrow)]
    id: Option<&'a RawValue>,
    #[serde(borrow)]
    computer_dns_name: Option<&'a RawValue>,
    #[serde(borrow)]
    os_platform: Option<&'a RawValue>,
    #[serde(borrow)]
    last_ip_address: Option<&'a RawValue>,
    #[serde(borrow)]
    health_status: Option<&'a RawValue>,
    #[serde(borrow)]
    risk_score: Option<&'a RawValue>,
    #[serde(borrow)]
    last_seen: Option<&'a RawValue>,
}

impl Row<'_> {
    fn cells(&self) -> [String; 7] {
        [
            self.id,
            self.computer_dns_name,
            self.os_platform,
            self.last_ip_address,
            self.health_status,
            self.risk_score,
            self.last_seen,
        ]
        .map(cell)
    }
}

/// A string as its text, a number or boolean as sent (however long), and
/// nothing (`-`) for null, an object or a list.
fn cell(raw: Option<&RawValue>) -> String {
    let text = raw.map_or("null", RawValue::get);
    let shown = match text.as_bytes().first() {
        Some(b'"') => serde_json::from_str::<String>(text).ok(),
        Some(b'n' | b'{' | b'[') | None => None,
        Some(_) => Some(text.to_owned()),
    };
    printable(shown.as_deref().unwrap_or("-"))
}

fn table(out: &mut impl Write, rows: &[[String; 7]]) -> io::Result<()> {
    const HEADINGS: [&str; 7] = [
        "ID",
        "NAME",
        "PLATFORM",
        "LAST IP",
        "HEALTH",
        "RISK",
        "LAST SEEN",
    ];
    let mut widths = HEADINGS.map(|h| h.chars().count());
    for row in rows {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(cell.chars().count());
        }
    }
    let mut line = |cells: &[&str]| -> io::Result<()> {
        let padded: Vec<String> = cells
            .iter()
            .zip(widths)
            .map(|(cell, width)| format!("{cell:<width$}"))
            .collect();
        writeln!(out, "{}", padded.join("  ").trim_end())
    };
    line(&HEADINGS)?;
    for row in rows {
        line(&row.each_ref().map(String::as_str))?;
    }
    writeln!(out, "{} machine(s)", rows.len())
}

/// The most characters of an error line, escapes included.
pub const MAX_LINE_CHARS: usize = 1000;

/// Text from the network made safe for a terminal or a log: control
/// characters (escape sequences and line breaks among them), line and
/// paragraph separators, bidirectional marks, embeddings, overrides and
/// isolates, and zero-width characters are shown escaped (`\u{1b}`), not
/// interpreted.
pub fn printable(text: &str) -> String {
    escaped(text, usize::MAX)
}

/// An error message as one [`printable`] line of at most about
/// [`MAX_LINE_CHARS`] characters, the rest counted.
pub fn one_line(text: &str) -> String {
    escaped(text, MAX_LINE_CHARS)
}

/// The one escaping function: at most `max_chars` characters, escapes
/// included.
fn escaped(text: &str, max_chars: usize) -> String {
    let mut out = String::new();
    let mut shown = 0;
    for (i, c) in text.chars().enumerate() {
        let escaped: String = if c.is_control() {
            c.escape_default().collect()
        } else if is_invisible(c) {
            c.escape_unicode().collect()
        } else {
            c.into()
        };
        let width = escaped.chars().count();
        if shown + width > max_chars {
            let left = text.chars().count() - i;
            out.push_str(&format!("… ({left} more characters)"));
            break;
        }
        shown += width;
        out.push_str(&escaped);
    }
    out
}

/// Characters that change how the text around them is shown, or are not
/// shown at all: bidirectional marks and controls, zero-width characters,
/// line and paragraph separators.
fn is_invisible(c: char) -> bool {
    matches!(c,
        '\u{061c}'
        | '\u{200b}'..='\u{200f}'
        | '\u{2028}'..='\u{202e}'
        | '\u{2060}'..='\u{2069}'
        | '\u{feff}')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arrays_and_lines_hold_the_texts_as_given() {
        let texts = ["{\"a\":1}".to_owned(), "{}".to_owned()];
        let mut out = Vec::new();
        write_array(&mut out, &texts).unwrap();
        assert_eq!(out, b"[\n{\"a\":1},\n{}\n]\n");
        let mut out = Vec::new();
        write_array(&mut out, &[]).unwrap();
        assert_eq!(out, b"[]\n");
        let mut out = Vec::new();
        write_lines(&mut out, &texts).unwrap();
        assert_eq!(out, b"{\"a\":1}\n{}\n");
    }

    #[test]
    fn table_escapes_terminal_control_sequences_bidi_and_zero_width() {
        let machine =
            r#"{"id":"a","computerDnsName":"evil\u001b[2Jhost\u202egpj.exe\u200b\u2066x"}"#
                .to_owned();
        let mut out = Vec::new();
        write_table(&mut out, &[machine]).unwrap();
        let text = String::from_utf8(out).unwrap();
        assert!(!text.contains(['\u{1b}', '\u{202e}', '\u{200b}', '\u{2066}']));
        assert!(
            text.contains("evil\\u{1b}[2Jhost\\u{202e}gpj.exe\\u{200b}\\u{2066}x"),
            "{text}"
        );
    }

    /// Numbers kept as sent are printed as sent, shown or not, however long.
    #[test]
    fn the_table_prints_numbers_as_sent_however_long() {
        let digits = "7".repeat(5_000);
        let machine = format!(
            r#"{{"id":"a","osBuild":{digits},"riskScore":{digits}1,"healthStatus":true,"lastSeen":[1],"osPlatform":null}}"#
        );
        let mut out = Vec::new();
        write_table(&mut out, &[machine]).unwrap();
        let text = String::from_utf8(out).unwrap();
        let row = text.lines().nth(1).unwrap();
        let cells: Vec<&str> = row.split_whitespace().collect();
        assert_eq!(
            cells,
            ["a", "-", "-", "-", "true", &format!("{digits}1"), "-"]
        );
        assert!(text.ends_with("1 machine(s)\n"), "{text}");
        let mut out = Vec::new();
        assert!(write_table(&mut out, &["not json".into()]).is_err());
    }

    #[test]
    fn an_error_line_is_one_escaped_line_of_bounded_length() {
        let hostile = format!(
            "\u{1b}]0;PWNED\u{7}\u{1b}[2J line one\nline two\r\u{202e}\u{feff}\u{2028}{}",
            "x".repeat(30_000_000)
        );
        let line = one_line(&hostile);
        assert!(
            line.starts_with(
                "\\u{1b}]0;PWNED\\u{7}\\u{1b}[2J line one\\nline two\\r\\u{202e}\\u{feff}\\u{2028}x"
            ),
            "{}",
            &line[..200]
        );
        assert!(!line.chars().any(|c| c.is_control() || is_invisible(c)));
        assert!(
            line.chars().count() <= MAX_LINE_CHARS + 40,
            "{}",
            line.len()
        );
        assert!(line.ends_with(" more characters)"), "{line}");
        assert_eq!(one_line("short"), "short");
        assert!(printable(&hostile).ends_with("xxx"));
    }
}
