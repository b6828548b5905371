//! `host-test DOMAIN`: run the connector component on a domain and print the machines.
//!
//! By default the component talks to the embedded fake tenant; `--replay FILE`
//! answers its requests from a file instead.

use anyhow::{Context, Result};
use clap::Parser;
use host_test::backend::{HttpBackend, Replay};
use host_test::clock::SystemClock;
use host_test::fake_tenant::{self, FakeTenant};
use host_test::output::{self, Format};
use host_test::runtime::{Auth, ClientCredentials, Cloud, CustomCloud, Geo, Settings};
use host_test::{HostState, Runtime, convert};
use mde_connector::Error;
use std::process::ExitCode;

#[derive(Parser)]
#[command(version, about)]
struct Cli {
    /// The domain to look up, such as contoso.com.
    domain: String,

    /// Output format: machines as a table, JSON or NDJSON with the service's
    /// names, or SIEM events made by the component (OCSF or ECS, one per line).
    #[arg(long, value_enum, default_value_t = Format::Table)]
    format: Format,

    /// Answer the component's requests from FILE, in order: a JSON array of
    /// {"status": 200, "headers": {"name": "value"}, "body": "..."}.
    #[arg(long, value_name = "FILE")]
    replay: Option<std::path::PathBuf>,

    /// Print each request the component makes to stderr (secrets redacted).
    #[arg(long)]
    show_requests: bool,

    /// The cloud: commercial, us, eu, uk, au, swa, ina, gcc, gcc-high, dod, or
    /// custom (with --api-base, --login-host and --scope).
    #[arg(long, default_value = "commercial")]
    cloud: String,

    /// API base URL of a custom cloud.
    #[arg(long, requires = "login_host")]
    api_base: Option<String>,

    /// Login host URL of a custom cloud.
    #[arg(long, requires = "scope")]
    login_host: Option<String>,

    /// Token scope of a custom cloud.
    #[arg(long)]
    scope: Option<String>,
}

/// Exit statuses, as documented in the README.
const EXIT_OTHER: u8 = 1;
const EXIT_INPUT: u8 = 2;
const EXIT_AUTH: u8 = 3;
const EXIT_RATE_LIMITED: u8 = 4;

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(&cli) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(EXIT_INPUT)
        }
    }
}

fn run(cli: &Cli) -> Result<ExitCode> {
    let cloud = cloud(cli)?;
    let (auth, backend): (Auth, Box<dyn HttpBackend>) = match &cli.replay {
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("reading {}", path.display()))?;
            let replay =
                Replay::from_json(&text).with_context(|| format!("reading {}", path.display()))?;
            // A replay holds only the API's answers: the host manages authentication.
            (
                auth_from_env()?.unwrap_or(Auth::HostManaged),
                Box::new(replay),
            )
        }
        None => {
            let demo = Auth::ClientCredentials(ClientCredentials {
                tenant_id: fake_tenant::TENANT_ID.into(),
                client_id: fake_tenant::CLIENT_ID.into(),
                client_secret: fake_tenant::CLIENT_SECRET.into(),
            });
            let fake = FakeTenant::new(SystemClock::shared());
            (auth_from_env()?.unwrap_or(demo), Box::new(fake))
        }
    };
    let runtime = Runtime::new()?;
    let mut state = HostState::new(Settings { cloud, auth }, backend);
    state.echo_requests = cli.show_requests;
    let mut instance = runtime.instantiate(state)?;
    let out = &mut std::io::stdout().lock();
    let answer = match cli.format {
        Format::Ocsf => instance
            .ocsf_inventory(&cli.domain, now_ms())?
            .map(|events| output::write_events(out, &events)),
        Format::Ecs => instance
            .ecs_documents(&cli.domain, now_ms())?
            .map(|events| output::write_events(out, &events)),
        _ => instance.domain_machines(&cli.domain)?.map(|machines| {
            let machines: Vec<_> = machines.into_iter().map(convert::machine).collect();
            output::write(out, cli.format, &machines)
        }),
    };
    match answer {
        Ok(written) => {
            written?;
            Ok(ExitCode::SUCCESS)
        }
        Err(e) => {
            let e = convert::error(e);
            eprintln!("error: {e}");
            Ok(ExitCode::from(exit_status(&e)))
        }
    }
}

/// The observation time of events: now, in milliseconds since the Unix epoch.
fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

fn exit_status(e: &Error) -> u8 {
    match e {
        Error::InvalidDomain(_) | Error::InvalidSettings(_) => EXIT_INPUT,
        Error::Unauthorized(_) | Error::Forbidden(_) => EXIT_AUTH,
        Error::RateLimited(_) => EXIT_RATE_LIMITED,
        _ => EXIT_OTHER,
    }
}

fn cloud(cli: &Cli) -> Result<Cloud> {
    Ok(match cli.cloud.as_str() {
        "commercial" => Cloud::Commercial,
        "us" => Cloud::Geo(Geo::Us),
        "eu" => Cloud::Geo(Geo::Eu),
        "uk" => Cloud::Geo(Geo::Uk),
        "au" => Cloud::Geo(Geo::Au),
        "swa" => Cloud::Geo(Geo::Swa),
        "ina" => Cloud::Geo(Geo::Ina),
        "gcc" => Cloud::Gcc,
        "gcc-high" => Cloud::GccHigh,
        "dod" => Cloud::Dod,
        "custom" => Cloud::Custom(CustomCloud {
            api_base: cli
                .api_base
                .clone()
                .context("--cloud custom needs --api-base")?,
            login_host: cli
                .login_host
                .clone()
                .context("--cloud custom needs --login-host")?,
            scope: cli.scope.clone().context("--cloud custom needs --scope")?,
        }),
        other => anyhow::bail!(
            "unknown cloud {other:?}: expected commercial, us, eu, uk, au, swa, ina, gcc, gcc-high, dod or custom"
        ),
    })
}

/// Credentials come from the environment only, never from flags: flags show
/// up in `ps` and shell history.
fn auth_from_env() -> Result<Option<Auth>> {
    let var = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
    if let Some(token) = var("MDE_TOKEN") {
        return Ok(Some(Auth::BearerToken(token)));
    }
    match (
        var("MDE_TENANT_ID"),
        var("MDE_CLIENT_ID"),
        var("MDE_CLIENT_SECRET"),
    ) {
        (None, None, None) => Ok(None),
        (Some(tenant_id), Some(client_id), Some(client_secret)) => {
            Ok(Some(Auth::ClientCredentials(ClientCredentials {
                tenant_id,
                client_id,
                client_secret,
            })))
        }
        _ => anyhow::bail!(
            "client credentials need all of MDE_TENANT_ID, MDE_CLIENT_ID and MDE_CLIENT_SECRET"
        ),
    }
}
