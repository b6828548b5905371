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
            crate::input::read_file_text(path, crate::input::MAX_SECRET_BYTES, "a client secret")?
                .trim_end_matches(['\r', '\n'])
                .to_owned(),
        ),
        None => None,
    };
    auth_from(|variable| match (variable, &secret) {
        (CLIENT_SECRET, Some(secret)) => Ok(Some(secret.clone())),
        _ => std::env::var_os(variable)
            .map(|value| value.into_string().map_err(|_| ()))
            .transpose(),
    })
}

/// The credentials `var` names, as the core reads them, where a variable
/// that is set but not UTF-8 (`Err`) is set all the same: next to the other
/// kind of credentials it makes them "both set", alone it is refused by name.
fn auth_from(var: impl Fn(&str) -> Result<Option<String>, ()>) -> Result<Option<Auth>> {
    let not_utf8 = std::cell::RefCell::new(Vec::new());
    let auth = environment::auth(|variable| {
        var(variable).unwrap_or_else(|()| {
            not_utf8.borrow_mut().push(variable.to_owned());
            Some("\u{fffd}".into())
        })
    })
    .map_err(|e| anyhow!(e))?;
    match not_utf8.into_inner().first() {
        Some(variable) => Err(anyhow!(
            "{variable} is set but is not UTF-8; credentials are text: set it again, or unset it"
        )),
        None => Ok(auth),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use mde_connector::environment::{CLIENT_ID, TENANT_ID, TOKEN};

    /// Variables as `environment` gives them: `None` for a value that is not UTF-8.
    fn vars(pairs: &[(&str, Option<&str>)]) -> impl Fn(&str) -> Result<Option<String>, ()> {
        let pairs: Vec<(String, Option<String>)> = pairs
            .iter()
            .map(|(n, v)| (n.to_string(), v.map(str::to_owned)))
            .collect();
        move |name| match pairs.iter().find(|(n, _)| n == name) {
            Some((_, Some(value))) => Ok(Some(value.clone())),
            Some((_, None)) => Err(()),
            None => Ok(None),
        }
    }

    #[test]
    fn a_token_that_is_not_utf8_is_refused_as_a_utf8_one_would_be() {
        let credentials = [
            (TENANT_ID, Some("contoso.onmicrosoft.com")),
            (CLIENT_ID, Some("client")),
            (CLIENT_SECRET, Some("a-client-secret")),
        ];
        let both = |token| {
            let mut all = credentials.to_vec();
            all.push((TOKEN, token));
            auth_from(vars(&all)).unwrap_err().to_string()
        };
        let said = both(Some("a-token-value"));
        assert!(said.starts_with("both MDE_TOKEN and"), "{said}");
        assert_eq!(both(None), said);
        let alone = auth_from(vars(&[(TOKEN, None)])).unwrap_err().to_string();
        assert_eq!(
            alone,
            "MDE_TOKEN is set but is not UTF-8; credentials are text: set it again, or unset it"
        );
        let mut secret_not_text = credentials.to_vec();
        secret_not_text[2].1 = None;
        let said = auth_from(vars(&secret_not_text)).unwrap_err().to_string();
        assert!(
            said.starts_with("MDE_CLIENT_SECRET is set but is not UTF-8"),
            "{said}"
        );
        assert!(matches!(
            auth_from(vars(&credentials)),
            Ok(Some(Auth::ClientCredentials(_)))
        ));
    }
}
