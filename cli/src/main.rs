//! `mde-connector DOMAIN`: run the connector component on a domain and print the machines.
//!
//! By default the component talks to the embedded fake tenant; `--replay FILE`
//! answers its requests from a file, and `--live` sends them to Defender for
//! Endpoint. Every request goes through the host's policy, whichever it is.

mod batch;
mod input;
mod output;
mod settings;

use anyhow::{Context, Result};
use clap::Parser;
use clap::builder::TypedValueParser;
use mde_connector::output::{EXIT_INPUT, EXIT_OTHER, exit_status};
use mde_connector_host::budget::Limits;
use mde_connector_host::fake_tenant::FakeTenant;
use mde_connector_host::gateway::PolicyOptions;
use mde_connector_host::live::{LiveOptions, LiveTransport};
use mde_connector_host::replay::Replay;
use mde_connector_host::runtime::{COMPONENT, RuntimeOptions};
use mde_connector_host::{Instance, Runtime, Settings};
use output::Format;
use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

#[derive(Parser)]
#[command(version, about)]
struct Cli {
    /// The domain to look up, such as contoso.com.
    #[arg(required_unless_present = "domains", conflicts_with = "domains")]
    domain: Option<String>,

    /// Look up every domain in FILE (one per line; `-` for stdin) and print
    /// one NDJSON record per domain with its provenance.
    #[arg(long, value_name = "FILE")]
    domains: Option<String>,

    /// Output format for a single domain: machines as a table, JSON or NDJSON
    /// with the service's names, or SIEM events made by the component (OCSF
    /// or ECS, one per line).
    #[arg(
        long,
        default_value = "table",
        value_parser = clap::builder::PossibleValuesParser::new(Format::NAMES)
            .map(|name: String| Format::named(&name).unwrap_or_default())
    )]
    format: Format,

    /// Answer the component's requests from FILE, in order: a JSON array of
    /// {"status": 200, "headers": {"name": "value"}, "body": "..."}.
    #[arg(long, value_name = "FILE", conflicts_with = "live")]
    replay: Option<PathBuf>,

    /// Send the requests to Defender for Endpoint for real. Credentials come
    /// from MDE_TOKEN, or MDE_TENANT_ID, MDE_CLIENT_ID and MDE_CLIENT_SECRET
    /// (or --client-secret-file).
    #[arg(long)]
    live: bool,

    /// Read the client secret from FILE instead of MDE_CLIENT_SECRET.
    #[arg(long, value_name = "FILE")]
    client_secret_file: Option<PathBuf>,

    /// Print each request the component makes to stderr (secrets redacted).
    #[arg(long)]
    show_requests: bool,

    /// The cloud; custom takes --api-base, --login-host and --scope.
    #[arg(
        long,
        env = "MDE_CLOUD",
        default_value = "commercial",
        value_parser = clap::builder::PossibleValuesParser::new(mde_connector::environment::CLOUD_NAMES)
    )]
    cloud: String,

    /// API base URL of a custom cloud.
    #[arg(long, env = "MDE_API_BASE")]
    api_base: Option<String>,

    /// Login host URL of a custom cloud.
    #[arg(long, env = "MDE_LOGIN_HOST")]
    login_host: Option<String>,

    /// Token scope of a custom cloud.
    #[arg(long, env = "MDE_SCOPE")]
    scope: Option<String>,

    /// Plain http:// to loopback addresses, for a test server as a custom cloud.
    #[arg(long)]
    allow_loopback_http: bool,

    /// API calls allowed per minute for this tenant and client (at least 1).
    #[arg(long, default_value_t = Limits::SERVICE.per_minute, value_parser = at_least_one)]
    rate_per_minute: usize,

    /// API calls allowed per hour for this tenant and client (at least 1).
    #[arg(long, default_value_t = Limits::SERVICE.per_hour, value_parser = at_least_one)]
    rate_per_hour: usize,

    /// Longest wait, in seconds and in all, on rate limits during one
    /// lookup (of each domain, in a batch) before giving up.
    #[arg(long, default_value_t = 120)]
    max_wait: u64,

    /// Longest time, in seconds, one lookup may take, every retry and wait
    /// included.
    #[arg(long, default_value_t = 120, value_parser = clap::value_parser!(u64).range(1..))]
    timeout: u64,

    /// Most memory, in MiB, the component's instance may use.
    #[arg(long, value_name = "MIB", default_value_t = 64, value_parser = clap::value_parser!(u64).range(1..=4096))]
    memory_limit: u64,

    /// Where compiled components are cached (default: ~/.cache/mde-connector).
    #[arg(long, value_name = "DIR")]
    cache_dir: Option<PathBuf>,

    /// Compile the component on every run.
    #[arg(long)]
    no_cache: bool,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    // What goes wrong before the first lookup is the input's fault (flags,
    // files, settings); what goes wrong after it (a trap, a broken pipe) is not.
    let outcome = match prepare(&cli) {
        Err(e) => Err((EXIT_INPUT, e)),
        Ok(mut instance) => execute(&cli, &mut instance).map_err(|e| (EXIT_OTHER, e)),
    };
    match outcome {
        Ok(code) => code,
        Err((status, e)) => {
            eprintln!("error: {}", output::one_line(&format!("{e:#}")));
            ExitCode::from(status)
        }
    }
}

/// The instance the flags ask for, over the fake tenant, a replay or the network.
fn prepare(cli: &Cli) -> Result<Instance> {
    let cloud = settings::cloud(&cli.cloud, &cli.api_base, &cli.login_host, &cli.scope)?;
    let credentials = settings::auth_from_env(cli.client_secret_file.as_deref())?;
    if let Some(source) = cli.domains.as_deref().filter(|s| *s != "-") {
        std::fs::File::open(source).with_context(|| format!("reading {source}"))?;
    }
    let runtime = Runtime::with_options(
        COMPONENT,
        RuntimeOptions {
            memory_limit: usize::try_from(cli.memory_limit * 1024 * 1024)?,
            cache_dir: cache_dir(cli),
            policy: policy(cli),
            ..RuntimeOptions::default()
        },
    )?;
    if let Some(warning) = runtime.cache_warning() {
        eprintln!("warning: {}", output::one_line(warning));
    }
    let mut instance = match (&cli.replay, cli.live) {
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
                ..policy(cli)
            };
            runtime.with_policy(once).instantiate(settings, replay)?
        }
        (None, true) => {
            let auth = credentials.context(
                "--live needs MDE_TOKEN, or MDE_TENANT_ID, MDE_CLIENT_ID and MDE_CLIENT_SECRET",
            )?;
            let live = LiveTransport::new(&LiveOptions::default()).map_err(anyhow::Error::msg)?;
            runtime.instantiate(Settings { cloud, auth }, live)?
        }
        (None, false) => {
            let auth = credentials.unwrap_or_else(settings::demo_credentials);
            let fake = FakeTenant::new(runtime.clock().clone());
            runtime.instantiate(Settings { cloud, auth }, fake)?
        }
    };
    instance.state_mut().echo_requests = cli.show_requests;
    Ok(instance)
}

/// The lookup (or the batch) and its output.
fn execute(cli: &Cli, instance: &mut Instance) -> Result<ExitCode> {
    if let Some(source) = &cli.domains {
        return run_batch(cli, instance, source);
    }
    let domain = cli.domain.as_deref().unwrap_or_default();
    let found = match instance.lookup_texts(domain)? {
        Ok(found) => found,
        Err(e) => {
            let e = mde_connector::Error::from(e);
            eprintln!("error: {}", output::one_line(&e.to_string()));
            return Ok(ExitCode::from(exit_status(&e)));
        }
    };
    // One API call, whatever the format: the events are mapped from `found`.
    let out = &mut std::io::stdout().lock();
    match cli.format {
        Format::Table => output::write_table(out, &found.machines)?,
        Format::Json => output::write_array(out, &found.machines)?,
        Format::Ndjson => output::write_lines(out, &found.machines)?,
        Format::Ocsf | Format::Ecs => {
            let events = if cli.format == Format::Ocsf {
                instance.ocsf_inventory(&found, now_ms())?
            } else {
                instance.ecs_documents(&found, now_ms())?
            };
            output::write_lines(out, &events.map_err(anyhow::Error::msg)?)?
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn run_batch(cli: &Cli, instance: &mut Instance, source: &str) -> Result<ExitCode> {
    let open = || -> Result<Box<dyn std::io::BufRead>> {
        Ok(if source == "-" {
            Box::new(std::io::stdin().lock())
        } else {
            let file = std::fs::File::open(source).with_context(|| format!("reading {source}"))?;
            Box::new(std::io::BufReader::new(file))
        })
    };
    let progress = std::io::stderr().is_terminal();
    // A file can be read twice: once to count its domains for the progress line.
    let total = if progress && source != "-" {
        Some(input::DomainLines::new(open()?).count())
    } else {
        None
    };
    let mut stdout = std::io::stdout().lock();
    let (mut done, mut failed) = (0, 0);
    batch::run(
        instance,
        input::DomainLines::new(open()?),
        &cli.cloud,
        |record| {
            done += 1;
            failed += usize::from(record.error.is_some());
            serde_json::to_writer(&mut stdout, &record)?;
            writeln!(stdout)?;
            if progress {
                match total {
                    Some(total) => eprint!("\r{done}/{total} domains, {failed} failed"),
                    None => eprint!("\r{done} domains, {failed} failed"),
                }
            }
            Ok(())
        },
    )
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

/// A rate of zero would never let a call through.
fn at_least_one(text: &str) -> Result<usize, String> {
    match text.parse::<usize>() {
        Ok(0) => Err("0 would never let a call through; the least is 1".to_owned()),
        Ok(n) => Ok(n),
        Err(e) => Err(e.to_string()),
    }
}

/// The host's policy, from the flags.
fn policy(cli: &Cli) -> PolicyOptions {
    PolicyOptions {
        allow_loopback_http: cli.allow_loopback_http,
        limits: Limits {
            per_minute: cli.rate_per_minute,
            per_hour: cli.rate_per_hour,
        },
        max_wait: Duration::from_secs(cli.max_wait),
        timeout: Duration::from_secs(cli.timeout),
        ..PolicyOptions::default()
    }
}

fn cache_dir(cli: &Cli) -> Option<PathBuf> {
    if cli.no_cache {
        return None;
    }
    cli.cache_dir.clone().or_else(|| {
        let base = std::env::var_os("XDG_CACHE_HOME")
            .map(PathBuf::from)
            .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")))?;
        Some(base.join("mde-connector"))
    })
}

/// The observation time of events: now, in milliseconds since the Unix epoch.
fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}
