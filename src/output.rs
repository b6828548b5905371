//! Machines for people (a table) and for pipelines (a JSON array, one JSON
//! text per line), written from the JSON texts the component makes
//! (`events.machines-json`, `ocsf-inventory`, `ecs-documents`): a host never
//! rebuilds a machine's JSON itself. The CLI and the wasi:cli command print
//! through these, so both print the same bytes.

use crate::Error;
use serde_json::Value;
use std::io::{self, Write};

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
        Error::InvalidDomain(_) | Error::InvalidSettings(_) => EXIT_INPUT,
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
    let machines: Vec<Value> = machines_json
        .iter()
        .map(|text| serde_json::from_str(text))
        .collect::<Result<_, _>>()?;
    table(out, &machines)
}

fn table(out: &mut impl Write, machines: &[Value]) -> io::Result<()> {
    const HEADINGS: [&str; 7] = [
        "ID",
        "NAME",
        "PLATFORM",
        "LAST IP",
        "HEALTH",
        "RISK",
        "LAST SEEN",
    ];
    const FIELDS: [&str; 7] = [
        "id",
        "computerDnsName",
        "osPlatform",
        "lastIpAddress",
        "healthStatus",
        "riskScore",
        "lastSeen",
    ];
    let rows: Vec<[String; 7]> = machines
        .iter()
        .map(|m| FIELDS.map(|field| printable(m[field].as_str().unwrap_or("-"))))
        .collect();
    let mut widths = HEADINGS.map(|h| h.chars().count());
    for row in &rows {
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
    for row in &rows {
        line(&row.each_ref().map(String::as_str))?;
    }
    writeln!(out, "{} machine(s)", machines.len())
}

/// Text from the network, made safe for a terminal: control characters
/// (escape sequences among them) are shown escaped, not interpreted.
pub fn printable(text: &str) -> String {
    text.chars()
        .flat_map(|c| {
            let escaped = c.is_control().then(|| c.escape_default());
            escaped
                .into_iter()
                .flatten()
                .chain((!c.is_control()).then_some(c))
        })
        .collect()
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
    fn table_escapes_terminal_control_sequences() {
        let machine = r#"{"id":"a","computerDnsName":"evil\u001b[2Jhost"}"#.to_owned();
        let mut out = Vec::new();
        write_table(&mut out, &[machine]).unwrap();
        let text = String::from_utf8(out).unwrap();
        assert!(!text.contains('\u{1b}'));
        assert!(text.contains("evil\\u{1b}[2Jhost"));
    }
}
