//! The CLI's settings: the cloud from flags or `MDE_*` variables (flags win),
//! credentials from the environment only.

use anyhow::{Result, anyhow};
use mde_connector::environment::{self, API_BASE, CLIENT_SECRET, CLOUD, LOGIN_HOST, SCOPE};
use mde_connector_host::fake_tenant;
use mde_connector_host::{Auth, ClientCredentials, Cloud};
use std::path::Path;

/// The cloud of `--cloud` and a custom cloud's flags (clap fills each from
/// its `MDE_*` variable when the flag is absent), read as the core reads the
/// variables.
pub fn cloud(
    name: &str,
    api_base: &Option<String>,
    login_host: &Option<String>,
    scope: &Option<String>,
) -> Result<Cloud> {
    environment::cloud(|variable| match variable {
        CLOUD => Some(name.to_owned()),
        API_BASE => api_base.clone(),
        LOGIN_HOST => login_host.clone(),
        SCOPE => scope.clone(),
        _ => None,
    })
    .map_err(|e| anyhow!("{e} (the flags: --cloud, --api-base, --login-host, --scope)"))
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
/// flags show up in `ps` and shell history. `--client-secret-file` stands in
/// for `MDE_CLIENT_SECRET`.
pub fn auth_from_env(client_secret_file: Option<&Path>) -> Result<Option<Auth>> {
    let secret = match client_secret_file {
        Some(path) => Some(
            crate::input::read_text(path, crate::input::MAX_SECRET_BYTES, "a client secret")?
                .trim_end_matches(['\r', '\n'])
                .to_owned(),
        ),
        None => None,
    };
    environment::auth(|variable| match (variable, &secret) {
        (CLIENT_SECRET, Some(secret)) => Some(secret.clone()),
        _ => std::env::var(variable).ok(),
    })
    .map_err(|e| anyhow!(e))
}
