//! `mde-connector DOMAIN`: run the connector component on a domain and print
//! the machines; `mde-connector serve`: the same lookups as an enrichment
//! service over HTTP, with one budget, one token and one cache per process.
//!
//! By default the component talks to the embedded demo tenant; `--replay
//! FILE` answers its requests from a file, and `--live` sends them to
//! Defender for Endpoint. Every request goes through the host's policy,
//! whichever it is.

mod batch;
mod check;
mod credentials;
mod indicators;
mod input;
mod lookup;
mod options;
mod output;
mod pivot;
mod serve;
mod settings;

use clap::{Parser, Subcommand};
use mde_connector::output::{EXIT_INPUT, EXIT_OTHER};
use std::process::ExitCode;

#[derive(Parser)]
#[command(
    version,
    about,
    args_conflicts_with_subcommands = true,
    subcommand_negates_reqs = true
)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
    #[command(flatten)]
    lookup: lookup::LookupArgs,
    #[command(flatten)]
    log: lookup::LogArgs,
    #[command(flatten)]
    options: options::Options,
}

#[derive(Subcommand)]
enum Command {
    /// Serve lookups over HTTP for a pipeline: the proxy component's routes
    /// and answers, with one rate budget, one access token and one result
    /// cache for the whole process (docs/deploy.md).
    Serve(serve::ServeArgs),
    /// Sign in with the configured credentials and print the cloud and
    /// tenant reached, the token's roles and which lookups they permit
    /// (never the token). Exits 3 when domain lookups are not permitted.
    Check(check::CheckArgs),
    /// The other lookups (issue 25): `file`, `user`, `ip`, `machine`,
    /// `domain-stats`, `ip-stats`.
    #[command(flatten)]
    Pivot(pivot::Pivot),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    if let Some(Command::Check(args)) = &cli.command {
        return check::run(args).unwrap_or_else(|e| fail(EXIT_INPUT, &e));
    }
    if let Some(Command::Serve(args)) = &cli.command {
        return match serve::run(args) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => fail(EXIT_INPUT, &e),
        };
    }
    if let Some(Command::Pivot(pivot)) = &cli.command {
        return match pivot::run(pivot) {
            Ok(Ok(code)) => code,
            Ok(Err(e)) => fail(EXIT_INPUT, &e),
            Err(e) => fail(EXIT_OTHER, &e),
        };
    }
    // What goes wrong before the first lookup is the input's fault (flags,
    // files, settings); what goes wrong after it (a trap, a broken pipe) is not.
    match lookup::prepare(&cli.lookup, &cli.options) {
        Err(e) => fail(EXIT_INPUT, &e),
        Ok(mut instance) => {
            match lookup::execute(&cli.lookup, &cli.options, &cli.log, &mut instance) {
                Ok(code) => code,
                Err(e) => fail(EXIT_OTHER, &e),
            }
        }
    }
}

fn fail(status: u8, e: &anyhow::Error) -> ExitCode {
    eprintln!("error: {}", output::one_line(&format!("{e:#}")));
    ExitCode::from(status)
}
