//! The command: `wasi:cli/run` in front of the composed connector, for
//! `wasmtime run` and other wasi:cli hosts. `DOMAIN [--format
//! table|json|ndjson|ocsf|ecs]` prints what the CLI prints for one domain,
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
\n\
Looks up the Defender for Endpoint machines that communicated with DOMAIN.\n\
Settings come from the environment: MDE_CLOUD, MDE_API_BASE, MDE_LOGIN_HOST,\n\
MDE_SCOPE, and MDE_TOKEN or MDE_TENANT_ID, MDE_CLIENT_ID and MDE_CLIENT_SECRET;\n\
MDE_TIMEOUT (seconds each request may wait, default 30) and MDE_LOG.\n";

/// What the arguments ask for.
#[derive(Debug, PartialEq, Eq)]
pub enum Request {
    LookUp { domain: String, format: Format },
    Help,
}

/// The arguments after the program's name.
pub fn parse(args: &[String]) -> Result<Request, String> {
    let mut domain = None;
    let mut format = Format::Table;
    let mut args = args.iter();
    while let Some(arg) = args.next() {
        let value = match arg.as_str() {
            "-h" | "--help" => return Ok(Request::Help),
            "--format" => Some(
                args.next()
                    .ok_or("--format needs a value: table, json, ndjson, ocsf or ecs")?
                    .as_str(),
            ),
            other => other.strip_prefix("--format="),
        };
        if let Some(value) = value {
            format = Format::named(value).ok_or_else(|| {
                format!(
                    "invalid value {:?} for --format: expected table, json, ndjson, ocsf or ecs",
                    printable(value)
                )
            })?;
        } else if arg.starts_with('-') && arg.len() > 1 {
            return Err(format!("unexpected argument {:?}", printable(arg)));
        } else if domain.replace(arg.clone()).is_some() {
            return Err(format!(
                "one domain at a time: {:?} is a second",
                printable(arg)
            ));
        }
    }
    let domain = domain.ok_or("a DOMAIN is required")?;
    Ok(Request::LookUp { domain, format })
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
    let (domain, format) = match parse(args) {
        Ok(Request::LookUp { domain, format }) => (domain, format),
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
    match imports.look_up(&Query::DomainMachines { domain }, format) {
        Ok(output) => {
            let _ = stdout.write_all(&output.body).and_then(|()| stdout.flush());
            0
        }
        Err(failure) => {
            let (message, status) = match &failure {
                Failure::Lookup(e) => (e.to_string(), exit_status(e)),
                Failure::Events(why) => (why.clone(), EXIT_OTHER),
                Failure::NoMachine { id, .. } => (format!("no machine {id}"), EXIT_OTHER),
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
