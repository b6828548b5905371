//! The CLI's settings: the cloud from flags or `MDE_*` variables (flags win),
//! credentials from the environment only.

use anyhow::{Context, Result, bail};
use host_test::fake_tenant;
use mde_connector_host::{Auth, ClientCredentials, Cloud, Endpoints, Geo};
use std::path::Path;

/// `--cloud` / `MDE_CLOUD`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum CloudName {
    Commercial,
    Us,
    Eu,
    Uk,
    Au,
    Swa,
    Ina,
    Gcc,
    GccHigh,
    Dod,
    Custom,
}

impl CloudName {
    /// As the flag spells it.
    pub fn name(self) -> String {
        use clap::ValueEnum;
        // Every variant has a name: none is skipped.
        self.to_possible_value()
            .map(|v| v.get_name().to_owned())
            .unwrap_or_default()
    }
}

/// The cloud named on the command line; a custom one needs all three of its parts.
pub fn cloud(
    name: CloudName,
    api_base: &Option<String>,
    login_host: &Option<String>,
    scope: &Option<String>,
) -> Result<Cloud> {
    let geo = |geo| Ok(Cloud::Geo(geo));
    match name {
        CloudName::Commercial => Ok(Cloud::Commercial),
        CloudName::Us => geo(Geo::Us),
        CloudName::Eu => geo(Geo::Eu),
        CloudName::Uk => geo(Geo::Uk),
        CloudName::Au => geo(Geo::Au),
        CloudName::Swa => geo(Geo::Swa),
        CloudName::Ina => geo(Geo::Ina),
        CloudName::Gcc => Ok(Cloud::Gcc),
        CloudName::GccHigh => Ok(Cloud::GccHigh),
        CloudName::Dod => Ok(Cloud::Dod),
        CloudName::Custom => Ok(Cloud::Custom(Endpoints {
            api_base: api_base
                .clone()
                .context("--cloud custom needs --api-base (or MDE_API_BASE)")?,
            login_host: login_host
                .clone()
                .context("--cloud custom needs --login-host (or MDE_LOGIN_HOST)")?,
            scope: scope
                .clone()
                .context("--cloud custom needs --scope (or MDE_SCOPE)")?,
        })),
    }
}

/// The embedded fake tenant's credentials.
pub fn demo_credentials() -> Auth {
    Auth::ClientCredentials(ClientCredentials {
        tenant_id: fake_tenant::TENANT_ID.into(),
        client_id: fake_tenant::CLIENT_ID.into(),
        client_secret: fake_tenant::CLIENT_SECRET.into(),
    })
}

/// Credentials come from the environment (or a file) only, never from flags:
/// flags show up in `ps` and shell history.
pub fn auth_from_env(client_secret_file: Option<&Path>) -> Result<Option<Auth>> {
    let var = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
    if let Some(token) = var("MDE_TOKEN") {
        return Ok(Some(Auth::BearerToken(token)));
    }
    let secret = match client_secret_file {
        Some(path) => Some(
            crate::input::read_text(path, crate::input::MAX_SECRET_BYTES, "a client secret")?
                .trim_end_matches(['\r', '\n'])
                .to_owned(),
        ),
        None => var("MDE_CLIENT_SECRET"),
    };
    match (var("MDE_TENANT_ID"), var("MDE_CLIENT_ID"), secret) {
        (None, None, None) => Ok(None),
        (Some(tenant_id), Some(client_id), Some(client_secret)) => {
            Ok(Some(Auth::ClientCredentials(ClientCredentials {
                tenant_id,
                client_id,
                client_secret,
            })))
        }
        _ => bail!(
            "client credentials need all of MDE_TENANT_ID, MDE_CLIENT_ID and MDE_CLIENT_SECRET (or --client-secret-file)"
        ),
    }
}
