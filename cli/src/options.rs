//! The settings every command shares, lookups and `serve` alike: where the
//! tenant is, how to sign in, and the host's policy and sandbox limits.

use crate::{output, settings};
use anyhow::{Context, Result};
use clap::Args;
use mde_connector_host::budget::Limits;
use mde_connector_host::gateway::PolicyOptions;
use mde_connector_host::runtime::{COMPONENT, RuntimeOptions};
use mde_connector_host::{Auth, Cloud, Runtime, Settings};
use std::path::PathBuf;
use std::time::Duration;

#[derive(Args, Debug, Clone)]
pub struct Options {
    /// Send the requests to Defender for Endpoint for real. Credentials come
    /// from MDE_TOKEN, or MDE_TENANT_ID, MDE_CLIENT_ID and MDE_CLIENT_SECRET
    /// (or --client-secret-file). Without it, the embedded demo tenant answers.
    #[arg(long)]
    pub live: bool,

    /// Read the client secret from FILE instead of MDE_CLIENT_SECRET.
    #[arg(long, value_name = "FILE")]
    pub client_secret_file: Option<PathBuf>,

    /// Sign in with the certificate and RSA private key in the PEM FILE
    /// (with MDE_TENANT_ID and MDE_CLIENT_ID). The key stays in the host.
    #[arg(long, value_name = "FILE", env = "MDE_CLIENT_CERTIFICATE")]
    pub client_certificate: Option<PathBuf>,

    /// Sign in as the Azure resource's managed identity (with CLIENT_ID, a
    /// user-assigned one): the host gets the token from IMDS (or
    /// IDENTITY_ENDPOINT with IDENTITY_HEADER) and adds it.
    #[arg(long, value_name = "CLIENT_ID", num_args = 0..=1, default_missing_value = "")]
    pub managed_identity: Option<String>,

    /// For tests only: the managed identity endpoint instead of IMDS (an
    /// IMDS-style URL). It, and nothing else, joins the allow-list.
    #[arg(long, value_name = "URL", requires = "managed_identity")]
    pub managed_identity_endpoint: Option<String>,

    /// The cloud; custom takes --api-base, --login-host and --scope.
    #[arg(
        long,
        env = "MDE_CLOUD",
        default_value = "commercial",
        value_parser = clap::builder::PossibleValuesParser::new(mde_connector::environment::CLOUD_NAMES)
    )]
    pub cloud: String,

    /// API base URL of a custom cloud.
    #[arg(long, env = "MDE_API_BASE")]
    pub api_base: Option<String>,

    /// Login host URL of a custom cloud.
    #[arg(long, env = "MDE_LOGIN_HOST")]
    pub login_host: Option<String>,

    /// Token scope of a custom cloud.
    #[arg(long, env = "MDE_SCOPE")]
    pub scope: Option<String>,

    /// Plain http:// to loopback addresses, for a test server as a custom cloud.
    #[arg(long)]
    pub allow_loopback_http: bool,

    /// API calls allowed per minute for this tenant and client (at least 1).
    #[arg(long, default_value_t = Limits::SERVICE.per_minute, value_parser = at_least_one)]
    pub rate_per_minute: usize,

    /// API calls allowed per hour for this tenant and client (at least 1).
    #[arg(long, default_value_t = Limits::SERVICE.per_hour, value_parser = at_least_one)]
    pub rate_per_hour: usize,

    /// Longest wait, in seconds and in all, on rate limits during one
    /// lookup (of each domain, in a batch) before giving up.
    #[arg(long, default_value_t = 120)]
    pub max_wait: u64,

    /// Longest time, in seconds, one lookup may take, every retry and wait
    /// included.
    #[arg(long, default_value_t = 120, value_parser = clap::value_parser!(u64).range(1..))]
    pub timeout: u64,

    /// Most memory, in MiB, the component's instance may use.
    #[arg(long, value_name = "MIB", default_value_t = 64, value_parser = clap::value_parser!(u64).range(1..=4096))]
    pub memory_limit: u64,

    /// Where compiled components are cached (default: ~/.cache/mde-connector).
    #[arg(long, value_name = "DIR")]
    pub cache_dir: Option<PathBuf>,

    /// Compile the component on every run.
    #[arg(long)]
    pub no_cache: bool,
}

impl Options {
    /// The cloud of the flags and `MDE_*` variables.
    pub fn cloud(&self) -> Result<Cloud> {
        settings::cloud(&self.cloud, &self.api_base, &self.login_host, &self.scope)
    }

    /// Credentials from the environment, `--client-secret-file` or
    /// `--client-certificate`, in the order of `credentials.rs`, if any.
    pub fn credentials(&self) -> Result<Option<Auth>> {
        Ok(self.all_credentials()?.map(|c| c.auth))
    }

    fn all_credentials(&self) -> Result<Option<crate::credentials::Credentials>> {
        crate::credentials::from_env(
            self.client_certificate.as_deref(),
            self.client_secret_file.as_deref(),
            self.managed_identity
                .as_deref()
                .map(|client_id| crate::credentials::Managed {
                    client_id: Some(client_id).filter(|c| !c.is_empty()),
                    endpoint: self.managed_identity_endpoint.as_deref(),
                }),
        )
    }

    /// The credentials a live run needs.
    pub fn live_credentials(&self) -> Result<Auth> {
        self.credentials()?.context(
            "--live needs MDE_TOKEN; or MDE_TENANT_ID, MDE_CLIENT_ID and MDE_CLIENT_SECRET \
             (or --client-certificate FILE); or AZURE_FEDERATED_TOKEN_FILE, AZURE_CLIENT_ID \
             and AZURE_TENANT_ID; or --managed-identity",
        )
    }

    /// The settings of a run that talks to a tenant (`serve`, `check`): the
    /// cloud, and with `--live` the live credentials, else those given or the
    /// demo tenant's.
    pub fn settings(&self) -> Result<Settings> {
        let auth = match self.live {
            true => self.live_credentials()?,
            false => self
                .credentials()?
                .unwrap_or_else(settings::demo_credentials),
        };
        Ok(Settings {
            cloud: self.cloud()?,
            auth,
        })
    }

    /// The host's policy, from the flags.
    pub fn policy(&self) -> PolicyOptions {
        PolicyOptions {
            allow_loopback_http: self.allow_loopback_http,
            limits: Limits {
                per_minute: self.rate_per_minute,
                per_hour: self.rate_per_hour,
            },
            max_wait: Duration::from_secs(self.max_wait),
            timeout: Duration::from_secs(self.timeout),
            ..PolicyOptions::default()
        }
    }

    /// The component, loaded within the flags' limits and policy. A damaged
    /// or refused compiled-component cache is a warning, once.
    pub fn runtime(&self) -> Result<Runtime> {
        let runtime = Runtime::with_options(
            COMPONENT,
            RuntimeOptions {
                memory_limit: usize::try_from(self.memory_limit * 1024 * 1024)?,
                cache_dir: self.cache_dir(),
                policy: self.policy(),
                ..RuntimeOptions::default()
            },
        )?;
        if let Some(warning) = runtime.cache_warning() {
            eprintln!("warning: {}", output::one_line(warning));
        }
        // A certificate's key or a federated token file stays in the host.
        Ok(match self.all_credentials()? {
            Some(crate::credentials::Credentials {
                assertions: Some(source),
                ..
            }) => runtime.with_assertions(source),
            Some(crate::credentials::Credentials {
                managed: Some(identity),
                ..
            }) => runtime.with_managed_identity(identity),
            _ => runtime,
        })
    }

    fn cache_dir(&self) -> Option<PathBuf> {
        if self.no_cache {
            return None;
        }
        self.cache_dir.clone().or_else(|| {
            let base = std::env::var_os("XDG_CACHE_HOME")
                .map(PathBuf::from)
                .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")))?;
            Some(base.join("mde-connector"))
        })
    }
}

/// A rate of zero would never let a call through.
fn at_least_one(text: &str) -> Result<usize, String> {
    match text.parse::<usize>() {
        Ok(0) => Err("0 would never let a call through; the least is 1".to_owned()),
        Ok(n) => Ok(n),
        Err(e) => Err(e.to_string()),
    }
}

/// The observation time of events: now, in milliseconds since the Unix epoch.
pub fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}
