//! `mde-connector file SHA1`, `user NAME`, `ip ADDR [--at TIME]`, `machine
//! ID`, `domain-stats DOMAIN` and `ip-stats ADDR`: the lookups other than a
//! domain's machines, over the same tenant, replay or network as a domain.

use crate::lookup::{self, LogArgs, print_logs, write_machines};
use crate::options::{Options, now_ms};
use crate::output::{self, Format};
use anyhow::Result;
use clap::builder::TypedValueParser;
use clap::{Args, Subcommand};
use mde_connector::output::exit_status;
use mde_connector_host::Instance;
use mde_connector_host::runtime::{self, Error, Query, ip_query};
use std::path::PathBuf;
use std::process::ExitCode;

/// The lookups as subcommands (flattened into the CLI's).
#[derive(Subcommand, Debug)]
pub enum Pivot {
    /// The machines that saw a file, by its SHA-1 (40 hex digits; the
    /// service takes no MD5 or SHA-256).
    File {
        sha1: String,
        #[command(flatten)]
        list: ListArgs,
    },
    /// The machines a user signed in to, by account name (user1, not a UPN).
    User {
        name: String,
        #[command(flatten)]
        list: ListArgs,
    },
    /// The machines seen with an internal IPv4 or IPv6 address within 15
    /// minutes of a time (now, unless --at).
    Ip {
        addr: String,
        /// An RFC 3339 time within the last 30 days, such as
        /// 2024-09-22T08:00:00Z (default: now).
        #[arg(long, value_name = "TIME")]
        at: Option<String>,
        #[command(flatten)]
        list: ListArgs,
    },
    /// One machine, by machine id (40 hex digits) or computer name.
    Machine {
        id: String,
        #[command(flatten)]
        list: ListArgs,
    },
    /// How many machines of the organisation saw a domain (JSON).
    DomainStats {
        domain: String,
        /// The window, 1 to 720 hours (default: the service's 720).
        #[arg(long, value_name = "N")]
        look_back_hours: Option<u32>,
        #[command(flatten)]
        source: SourceArgs,
    },
    /// How many machines of the organisation saw an IP address (JSON).
    IpStats {
        addr: String,
        /// The window, 1 to 720 hours (default: the service's 720).
        #[arg(long, value_name = "N")]
        look_back_hours: Option<u32>,
        #[command(flatten)]
        source: SourceArgs,
    },
}

/// Where the answers come from, and what is printed on stderr.
#[derive(Args, Debug)]
pub struct SourceArgs {
    /// Answer the component's requests from FILE, in order (as for a domain).
    #[arg(long, value_name = "FILE", conflicts_with = "live")]
    pub replay: Option<PathBuf>,

    /// Print each request the component makes to stderr (secrets redacted).
    #[arg(long)]
    pub show_requests: bool,

    #[command(flatten)]
    pub log: LogArgs,

    #[command(flatten)]
    pub options: Options,
}

/// A machine list's output format and source.
#[derive(Args, Debug)]
pub struct ListArgs {
    /// Output format: machines as a table, JSON or NDJSON with the service's
    /// names, or OCSF or ECS events (one per line).
    #[arg(
        long,
        default_value = "table",
        value_parser = clap::builder::PossibleValuesParser::new(Format::NAMES)
            .map(|name: String| Format::named(&name).unwrap_or_default())
    )]
    pub format: Format,

    #[command(flatten)]
    pub source: SourceArgs,
}

impl Pivot {
    fn source(&self) -> &SourceArgs {
        match self {
            Pivot::File { list, .. }
            | Pivot::User { list, .. }
            | Pivot::Ip { list, .. }
            | Pivot::Machine { list, .. } => &list.source,
            Pivot::DomainStats { source, .. } | Pivot::IpStats { source, .. } => source,
        }
    }
}

/// Runs the lookup: the exit status, or what went wrong outside it (the
/// input's fault before the instance exists, `Ok(Err)`; not after, `Err`).
pub fn run(pivot: &Pivot) -> Result<Result<ExitCode, anyhow::Error>> {
    let source = pivot.source();
    let mut instance = match lookup::instance_for(
        source.replay.as_ref(),
        source.show_requests,
        &source.options,
    ) {
        Ok(instance) => instance,
        Err(e) => return Ok(Err(e)),
    };
    let log = &source.log;
    let list = |query: Query, list: &ListArgs| (query, list.format);
    let (query, format) = match pivot {
        Pivot::File { sha1, list: l } => list(Query::File(sha1.clone()), l),
        Pivot::User { name, list: l } => list(Query::User(name.clone()), l),
        Pivot::Machine { id, list: l } => list(Query::Machine(id.clone()), l),
        Pivot::Ip { addr, at, list: l } => match ip_query(addr, at.as_deref(), runtime::now_ms()) {
            Ok(query) => list(query, l),
            Err(e) => return Ok(Ok(refused(e))),
        },
        Pivot::DomainStats {
            domain,
            look_back_hours,
            ..
        } => {
            let answer = instance.domain_stats(domain, *look_back_hours)?;
            print_logs(&mut instance, log.log_level);
            return Ok(Ok(match answer {
                Ok(p) => {
                    print_json(&mde_connector::prevalence::DomainPrevalence::from(p).to_json())
                }
                Err(e) => refused(e),
            }));
        }
        Pivot::IpStats {
            addr,
            look_back_hours,
            ..
        } => {
            let answer = instance.ip_stats(addr, *look_back_hours)?;
            print_logs(&mut instance, log.log_level);
            return Ok(Ok(match answer {
                Ok(p) => print_json(&mde_connector::prevalence::IpPrevalence::from(p).to_json()),
                Err(e) => refused(e),
            }));
        }
    };
    machines(&mut instance, log, &query, format).map(Ok)
}

/// A machine list in `format`.
fn machines(
    instance: &mut Instance,
    log: &LogArgs,
    query: &Query,
    format: Format,
) -> Result<ExitCode> {
    let answer = instance.lookup_query_texts(query)?;
    print_logs(instance, log.log_level);
    let found = match answer {
        Ok(found) => found,
        Err(e) => return Ok(refused(e)),
    };
    if let (Query::Machine(id), true) = (&found.query, found.machines.is_empty()) {
        eprintln!("no machine {}", output::one_line(id));
    }
    write_machines(
        instance,
        log,
        format,
        &found.machines,
        |instance, schema| instance.query_events(schema, &found, now_ms()),
    )?;
    Ok(ExitCode::SUCCESS)
}

fn print_json(json: &str) -> ExitCode {
    println!("{json}");
    ExitCode::SUCCESS
}

/// The component's (or the host's) error, printed; its exit status.
fn refused(e: Error) -> ExitCode {
    let e = mde_connector::Error::from(e);
    eprintln!("error: {}", output::one_line(&e.to_string()));
    ExitCode::from(exit_status(&e))
}
