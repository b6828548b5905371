//! `mde-connector DOMAIN`, `--domains FILE` and `--indicators FILE`: lookups through the
//! component, over the demo tenant, a replay or the network, printed in a
//! format; the component's log records on stderr.

use crate::options::{Options, now_ms};
use crate::{batch, input, output};
use anyhow::{Context, Result};
use clap::Args;
use clap::builder::TypedValueParser;
use mde_connector::connector::Level;
use mde_connector::output::{EXIT_OTHER, exit_status};
use mde_connector_host::fake_tenant::FakeTenant;
use mde_connector_host::gateway::PolicyOptions;
use mde_connector_host::live::{LiveOptions, LiveTransport};
use mde_connector_host::replay::Replay;
use mde_connector_host::{Instance, Schema, Settings};
use output::Format;
use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Args, Debug)]
pub struct LookupArgs {
    /// The domain to look up, such as contoso.com.
    #[arg(
        required_unless_present_any = ["domains", "indicators"],
        conflicts_with_all = ["domains", "indicators"]
    )]
    pub domain: Option<String>,

    /// Look up every domain in FILE (one per line; `-` for stdin) and print
    /// one NDJSON record per domain with its provenance. A domain asked
    /// again (in any spelling) is answered from the first answer.
    #[arg(long, value_name = "FILE")]
    pub domains: Option<String>,

    /// Look up every indicator in FILE (one per line; `-` for stdin), its
    /// kind told from its shape: a domain, an IPv4 or IPv6 address (its
    /// machines now), a SHA-1 (40 hex digits), `user:NAME` or `machine:ID`.
    /// One NDJSON record per line, with its provenance or its own error.
    #[arg(long, value_name = "FILE", conflicts_with = "domains")]
    pub indicators: Option<String>,

    /// Output format for a single domain: machines as a table, JSON or NDJSON
    /// with the service's names, or SIEM events made by the component (OCSF
    /// or ECS, one per line).
    #[arg(
        long,
        default_value = "table",
        value_parser = clap::builder::PossibleValuesParser::new(Format::NAMES)
            .map(|name: String| Format::named(&name).unwrap_or_default())
    )]
    pub format: Format,

    /// Answer the component's requests from FILE, in order: a JSON array of
    /// {"status": 200, "headers": {"name": "value"}, "body": "..."}.
    #[arg(long, value_name = "FILE", conflicts_with = "live")]
    pub replay: Option<PathBuf>,

    /// Print each request the component makes to stderr (secrets redacted).
    #[arg(long)]
    pub show_requests: bool,
}

/// The least severe of the component's log records printed on stderr.
#[derive(Args, Debug, Clone)]
pub struct LogArgs {
    /// debug, info, warn or error.
    #[arg(long, env = "MDE_LOG", default_value = "warn", value_parser = level)]
    pub log_level: Level,
}

pub fn level(name: &str) -> Result<Level, String> {
    Level::named(name).ok_or_else(|| format!("{name:?} is not a level: debug, info, warn or error"))
}

/// The instance the flags ask for, over the fake tenant, a replay or the network.
pub fn prepare(args: &LookupArgs, options: &Options) -> Result<Instance> {
    for list in [&args.domains, &args.indicators] {
        if let Some(source) = list.as_deref().filter(|s| *s != "-") {
            std::fs::File::open(source).with_context(|| format!("reading {source}"))?;
        }
    }
    instance_for(args.replay.as_ref(), args.show_requests, options)
}

/// The instance over the fake tenant, the replay at `replay` or the network.
pub fn instance_for(
    replay: Option<&PathBuf>,
    show_requests: bool,
    options: &Options,
) -> Result<Instance> {
    let cloud = options.cloud()?;
    let credentials = options.credentials()?;
    let runtime = options.runtime()?;
    let mut instance = match (replay, options.live) {
        (Some(path), _) => {
            let text = input::read_text(path, input::MAX_REPLAY_BYTES, "a replay")?;
            let replay =
                Replay::from_json(&text).with_context(|| format!("reading {}", path.display()))?;
            // A replay holds only the API's answers: the host manages
            // authentication. A recording is played once: no retries.
            let settings = Settings {
                cloud,
                auth: credentials.unwrap_or_default(),
            };
            let once = PolicyOptions {
                max_attempts: 1,
                ..options.policy()
            };
            runtime.with_policy(once).instantiate(settings, replay)?
        }
        (None, true) => {
            let auth = options.live_credentials()?;
            let live = LiveTransport::new(&LiveOptions::default()).map_err(anyhow::Error::msg)?;
            runtime.instantiate(Settings { cloud, auth }, live)?
        }
        (None, false) => {
            let auth = credentials.unwrap_or_else(crate::settings::demo_credentials);
            let fake = FakeTenant::new(runtime.clock().clone());
            runtime.instantiate(Settings { cloud, auth }, fake)?
        }
    };
    instance.state_mut().echo_requests = show_requests;
    Ok(instance)
}

/// The lookup (or the batch) and its output.
pub fn execute(
    args: &LookupArgs,
    options: &Options,
    log: &LogArgs,
    instance: &mut Instance,
) -> Result<ExitCode> {
    if let Some(source) = &args.domains {
        return run_batch(options, log, instance, source);
    }
    if let Some(source) = &args.indicators {
        return crate::indicators::run_file(options, log, instance, source);
    }
    let domain = args.domain.as_deref().unwrap_or_default();
    let answer = instance.lookup_texts(domain)?;
    print_logs(instance, log.log_level);
    let found = match answer {
        Ok(found) => found,
        Err(e) => {
            let e = mde_connector::Error::from(e);
            eprintln!("error: {}", output::one_line(&e.to_string()));
            return Ok(ExitCode::from(exit_status(&e)));
        }
    };
    write_machines(
        instance,
        log,
        args.format,
        &found.machines,
        |instance, schema| instance.events(schema, &found, now_ms()),
    )?;
    Ok(ExitCode::SUCCESS)
}

/// Machine texts in `format`; the events mapped by `events`. One API call,
/// whatever the format: the events are mapped from the texts.
pub fn write_machines(
    instance: &mut Instance,
    log: &LogArgs,
    format: Format,
    machines: &[String],
    events: impl FnOnce(&mut Instance, Schema) -> Result<Result<Vec<String>, String>>,
) -> Result<()> {
    let out = &mut std::io::stdout().lock();
    match format {
        Format::Table => output::write_table(out, machines)?,
        Format::Json => output::write_array(out, machines)?,
        Format::Ndjson => output::write_lines(out, machines)?,
        Format::Ocsf | Format::Ecs => {
            let schema = match format {
                Format::Ocsf => Schema::Ocsf,
                _ => Schema::Ecs,
            };
            let events = events(instance, schema)?;
            print_logs(instance, log.log_level);
            output::write_lines(out, &events.map_err(anyhow::Error::msg)?)?
        }
    }
    Ok(())
}

/// The component's log records so far at `least` or above, on stderr, each
/// printed once.
pub fn print_logs(instance: &mut Instance, least: Level) {
    let mut stderr = std::io::stderr().lock();
    for record in instance.state_mut().logs.drain(..) {
        let level = Level::from(record.level);
        if level.at_least(least) {
            let line = mde_connector::log_line::log_line(level, &record.event, &record.message);
            let _ = writeln!(stderr, "{line}");
        }
    }
}

fn run_batch(
    options: &Options,
    log: &LogArgs,
    instance: &mut Instance,
    source: &str,
) -> Result<ExitCode> {
    run_list(log, instance, source, "domains", |instance, lines, emit| {
        batch::run(instance, lines, &options.cloud, |instance, record| {
            emit(
                instance,
                serde_json::to_string(&record)?,
                record.error.is_some(),
            )
        })
    })
}

/// A list of one item a line from `source` (a file, or `-` for stdin), run
/// by `run`, which emits one NDJSON record per item (its text, and whether
/// it failed). On a terminal, a progress line counts the `noun` done.
pub fn run_list(
    log: &LogArgs,
    instance: &mut Instance,
    source: &str,
    noun: &str,
    run: impl FnOnce(
        &mut Instance,
        input::DomainLines<Box<dyn std::io::BufRead>>,
        &mut dyn FnMut(&mut Instance, String, bool) -> std::io::Result<()>,
    ) -> std::io::Result<()>,
) -> Result<ExitCode> {
    let open = || -> Result<Box<dyn std::io::BufRead>> {
        Ok(if source == "-" {
            Box::new(std::io::stdin().lock())
        } else {
            let file = std::fs::File::open(source).with_context(|| format!("reading {source}"))?;
            Box::new(std::io::BufReader::new(file))
        })
    };
    let progress = std::io::stderr().is_terminal();
    // A file can be read twice: once to count its lines for the progress line.
    let total = if progress && source != "-" {
        Some(input::DomainLines::new(open()?).count())
    } else {
        None
    };
    let mut stdout = std::io::stdout().lock();
    let (mut done, mut failed) = (0, 0);
    let mut emit = |instance: &mut Instance, record: String, error: bool| {
        print_logs(instance, log.log_level);
        done += 1;
        failed += usize::from(error);
        writeln!(stdout, "{record}")?;
        if progress {
            match total {
                Some(total) => eprint!("\r{done}/{total} {noun}, {failed} failed"),
                None => eprint!("\r{done} {noun}, {failed} failed"),
            }
        }
        Ok(())
    };
    run(instance, input::DomainLines::new(open()?), &mut emit)
        .with_context(|| format!("reading {source}"))?;
    if progress {
        eprintln!();
    }
    Ok(if failed == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(EXIT_OTHER)
    })
}
