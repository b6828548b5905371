//! The command: `wasi:cli/run` in front of the composed connector, for
//! `wasmtime run` and other wasi:cli hosts. `DOMAIN [--format
//! table|json|ndjson|ocsf|ecs]` prints what the CLI prints for one domain
//! (and `file SHA1`, `user NAME`, `ip ADDR [--at TIME]`, `machine ID`,
//! `domain-stats DOMAIN`, `ip-stats ADDR [--look-back-hours N]` what it
//! prints for those),
//! and exits with the CLI's statuses: 0 success (also no machines), 2
//! invalid input or settings, 3 unauthorized or forbidden, 4 rate limited,
//! 1 anything else. Settings come from the environment (see
//! `adapters/settings-from-env`). The pure part is here, tested natively;
//! the export is in `guest` (wasm32 only).

wit_bindgen::generate!({ world: "command", path: "../wit", generate_all });

#[cfg(target_arch = "wasm32")]
mod guest;

use mde_connector::output::{one_line, printable};
use mde_router::query::Query;
use mde_router::{Failure, Format, Imports};
use std::io::Write;

/// Exit statuses: the CLI's, from the core.
pub use mde_connector::output::{
    EXIT_AUTH, EXIT_INPUT, EXIT_OTHER, EXIT_RATE_LIMITED, exit_status,
};

pub const USAGE: &str = "usage: mde-connector DOMAIN [--format table|json|ndjson|ocsf|ecs]\n\
       mde-connector file SHA1 | user NAME | ip ADDR [--at TIME] | machine ID [--format ...]\n\
       mde-connector domain-stats DOMAIN | ip-stats ADDR [--look-back-hours N]\n\
\n\
Looks up the Defender for Endpoint machines that communicated with DOMAIN, or\n\
that saw a file, that a user signed in to, that held an address at a time (now\n\
by default), one machine; or how common a domain or an address is (JSON).\n\
Settings come from the environment: MDE_CLOUD, MDE_API_BASE, MDE_LOGIN_HOST,\n\
MDE_SCOPE, and MDE_TOKEN or MDE_TENANT_ID, MDE_CLIENT_ID and MDE_CLIENT_SECRET;\n\
MDE_TIMEOUT (seconds each request may wait, default 30) and MDE_LOG.\n";

/// What the arguments ask for.
#[derive(Debug, PartialEq, Eq)]
pub enum Request {
    LookUp { query: Query, format: Format },
    Help,
}

/// The lookups named by their first word, as the CLI's subcommands.
const LOOKUPS: [&str; 6] = ["file", "user", "ip", "machine", "domain-stats", "ip-stats"];

/// The arguments after the program's name: the CLI's grammar, a bare
/// `DOMAIN` or a lookup's name and its input.
pub fn parse(args: &[String]) -> Result<Request, String> {
    let mut words = Vec::new();
    let mut format = None;
    let (mut at, mut hours) = (None, None);
    let mut args = args.iter();
    while let Some(arg) = args.next() {
        let (name, inline) = match arg.split_once('=') {
            Some((name, value)) if name.starts_with("--") => (name, Some(value)),
            _ => (arg.as_str(), None),
        };
        let mut value = |what: &str| -> Result<String, String> {
            match inline {
                Some(value) => Ok(value.to_owned()),
                None => args
                    .next()
                    .cloned()
                    .ok_or_else(|| format!("{name} needs a value: {what}")),
            }
        };
        match name {
            "-h" | "--help" => return Ok(Request::Help),
            "--format" => {
                let named = value("table, json, ndjson, ocsf or ecs")?;
                format = Some(Format::named(&named).ok_or_else(|| {
                    format!(
                        "invalid value {:?} for --format: expected table, json, ndjson, ocsf or ecs",
                        printable(&named)
                    )
                })?);
            }
            "--at" => at = Some(value("an RFC 3339 time, such as 2024-09-22T08:00:00Z")?),
            "--look-back-hours" => {
                let text = value("1 to 720")?;
                hours = Some(text.parse::<u32>().map_err(|_| {
                    format!(
                        "--look-back-hours {:?} is not a number of hours",
                        printable(&text)
                    )
                })?);
            }
            _ if arg.starts_with('-') && arg.len() > 1 => {
                return Err(format!("unexpected argument {:?}", printable(arg)));
            }
            _ => words.push(arg.clone()),
        }
    }
    let (kind, input) = match words.as_slice() {
        [] => return Err("a DOMAIN is required".into()),
        [domain] if !LOOKUPS.contains(&domain.as_str()) => ("domain", domain.clone()),
        [kind, input] if LOOKUPS.contains(&kind.as_str()) => (kind.as_str(), input.clone()),
        [kind, ..] if LOOKUPS.contains(&kind.as_str()) => {
            return Err(format!("{kind} takes one input: {kind} VALUE"));
        }
        // Two words or more, the first not a lookup's name.
        _ => {
            let second = words.get(1).map_or("", String::as_str);
            return Err(format!(
                "one domain at a time: {:?} is a second",
                printable(second)
            ));
        }
    };
    if at.is_some() && kind != "ip" {
        return Err("--at is for `ip ADDR` only".into());
    }
    let stats = kind.ends_with("-stats");
    if hours.is_some() && !stats {
        return Err("--look-back-hours is for domain-stats and ip-stats only".into());
    }
    if stats && format.is_some_and(|f| f != Format::Json) {
        return Err(format!("{kind} prints JSON only: leave --format out"));
    }
    let query = match kind {
        "file" => Query::FileMachines { sha1: input },
        "user" => Query::UserMachines { name: input },
        "ip" => Query::IpMachines { ip: input, at },
        "machine" => Query::Machine { id: input },
        "domain-stats" => Query::DomainStats {
            domain: input,
            look_back_hours: hours,
        },
        "ip-stats" => Query::IpStats {
            ip: input,
            look_back_hours: hours,
        },
        _ => Query::DomainMachines { domain: input },
    };
    let format = match stats {
        true => Format::Json,
        false => format.unwrap_or(Format::Table),
    };
    Ok(Request::LookUp { query, format })
}

/// Runs the command on `args` (without the program's name) and returns its
/// exit status. Output and errors that cannot be written change nothing
/// else: there is nowhere left to report them.
pub fn run(
    args: &[String],
    imports: &impl Imports,
    stdout: &mut impl Write,
    stderr: &mut impl Write,
) -> u8 {
    let (query, format) = match parse(args) {
        Ok(Request::LookUp { query, format }) => (query, format),
        Ok(Request::Help) => {
            let _ = stdout
                .write_all(USAGE.as_bytes())
                .and_then(|()| stdout.flush());
            return 0;
        }
        Err(why) => {
            let _ = write!(stderr, "error: {why}\n\n{USAGE}").and_then(|()| stderr.flush());
            return EXIT_INPUT;
        }
    };
    match imports.look_up(&query, format) {
        Ok(output) => {
            let _ = stdout.write_all(&output.body).and_then(|()| stdout.flush());
            0
        }
        // As the CLI: no machines, in the format, and a note; success.
        Err(Failure::NoMachine { id, .. }) => {
            let body = mde_router::render(format, &[]).unwrap_or_default();
            let _ = stdout.write_all(&body).and_then(|()| stdout.flush());
            let _ = writeln!(stderr, "no machine {}", one_line(&id)).and_then(|()| stderr.flush());
            0
        }
        Err(failure) => {
            let (message, status) = match &failure {
                Failure::Lookup(e) => (e.to_string(), exit_status(e)),
                Failure::Events(why) => (why.clone(), EXIT_OTHER),
                Failure::NoMachine { .. } => (String::new(), 0),
            };
            // Text from the network: no secret a server reflected, and no
            // control character a terminal would interpret.
            let _ = writeln!(stderr, "error: {}", one_line(&imports.redact(&message)))
                .and_then(|()| stderr.flush());
            status
        }
    }
}

#[cfg(test)]
mod tests;
