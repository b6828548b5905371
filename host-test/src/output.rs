//! Machines for people (a table) and for pipelines (JSON with the service's names).

use mde_connector::Machine;
use std::io::{self, Write};

/// How to print machines.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// Aligned columns of the most useful fields.
    Table,
    /// One JSON array, with the service's own field names.
    Json,
    /// One JSON object per line.
    Ndjson,
    /// One OCSF Device Inventory Info event per line, made by the component.
    Ocsf,
    /// One ECS document per line, made by the component.
    Ecs,
}

pub fn write(out: &mut impl Write, format: Format, machines: &[Machine]) -> io::Result<()> {
    match format {
        Format::Json => {
            serde_json::to_writer_pretty(&mut *out, machines)?;
            writeln!(out)
        }
        Format::Ndjson => machines.iter().try_for_each(|m| {
            serde_json::to_writer(&mut *out, m)?;
            writeln!(out)
        }),
        Format::Table => table(out, machines),
        // Events are made by the component, not from machines: `write_events`.
        Format::Ocsf | Format::Ecs => Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "OCSF and ECS events come from the component's events export",
        )),
    }
}

/// Events as the component made them (compact JSON), one per line.
pub fn write_events(out: &mut impl Write, events: &[String]) -> io::Result<()> {
    events.iter().try_for_each(|event| writeln!(out, "{event}"))
}

fn table(out: &mut impl Write, machines: &[Machine]) -> io::Result<()> {
    const HEADINGS: [&str; 7] = [
        "ID",
        "NAME",
        "PLATFORM",
        "LAST IP",
        "HEALTH",
        "RISK",
        "LAST SEEN",
    ];
    let text = |v: &Option<String>| printable(v.as_deref().unwrap_or("-"));
    let rows: Vec<[String; 7]> = machines
        .iter()
        .map(|m| {
            [
                printable(&m.id),
                text(&m.computer_dns_name),
                text(&m.os_platform),
                text(&m.last_ip_address),
                printable(m.health_status.as_ref().map_or("-", |h| h.as_str())),
                printable(m.risk_score.as_ref().map_or("-", |r| r.as_str())),
                text(&m.last_seen),
            ]
        })
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
fn printable(text: &str) -> String {
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
    fn event_formats_are_not_written_from_machines() {
        for format in [Format::Ocsf, Format::Ecs] {
            let mut out = Vec::new();
            let e = write(&mut out, format, &[Machine::default()]).unwrap_err();
            assert_eq!(e.kind(), io::ErrorKind::InvalidInput);
            assert!(out.is_empty());
        }
        let mut out = Vec::new();
        write_events(&mut out, &["{\"a\":1}".into(), "{}".into()]).unwrap();
        assert_eq!(out, b"{\"a\":1}\n{}\n");
    }

    #[test]
    fn table_escapes_terminal_control_sequences() {
        let machine = Machine {
            id: "a".into(),
            computer_dns_name: Some("evil\u{1b}[2Jhost".into()),
            ..Machine::default()
        };
        let mut out = Vec::new();
        write(&mut out, Format::Table, &[machine]).unwrap();
        let text = String::from_utf8(out).unwrap();
        assert!(!text.contains('\u{1b}'));
        assert!(text.contains("evil\\u{1b}[2Jhost"));
    }
}
