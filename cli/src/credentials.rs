//! Where the CLI's credentials come from, tried in one order (as the Azure
//! identity libraries' EnvironmentCredential, then WorkloadIdentityCredential):
//!
//! 1. `MDE_TOKEN`: a bearer token, sent as given;
//! 2. `MDE_TENANT_ID`, `MDE_CLIENT_ID` and `MDE_CLIENT_SECRET` (or
//!    `--client-secret-file`): client credentials;
//! 3. `MDE_TENANT_ID`, `MDE_CLIENT_ID` and `--client-certificate FILE` (or
//!    `MDE_CLIENT_CERTIFICATE`): assertions signed with the certificate's key;
//! 4. `AZURE_FEDERATED_TOKEN_FILE`, `AZURE_CLIENT_ID` and `AZURE_TENANT_ID`:
//!    workload identity federation, the file read afresh for each token.
//!
//! `--managed-identity [CLIENT_ID]` (Azure VMs, App Service, Arc) is chosen
//! by its flag alone and excludes the others: the host gets the token from
//! IMDS, or from `IDENTITY_ENDPOINT` with `IDENTITY_HEADER` where both are
//! set, and adds it (host-managed auth).
//!
//! The `MDE_*` sources are explicit: two of them at once are refused, never
//! guessed between. The federated token is used only when no `MDE_*`
//! credentials are set (a pod that has both means the `MDE_*` ones).

use anyhow::{Result, anyhow, bail};
use mde_connector::environment::{CLIENT_ID, CLIENT_SECRET, TENANT_ID, TOKEN};
use mde_connector::settings::AssertionCredentials;
use mde_connector_host::Auth;
use mde_connector_host::credentials::{
    AssertionSource, ClientCertificate, FEDERATED_TOKEN_FILE, FederatedTokenFile, ManagedIdentity,
};
use std::path::{Path, PathBuf};
use std::sync::Arc;

pub const AZURE_CLIENT_ID: &str = "AZURE_CLIENT_ID";
pub const AZURE_TENANT_ID: &str = "AZURE_TENANT_ID";

/// Credentials, and what makes their assertions when they are assertions.
#[derive(Clone)]
pub struct Credentials {
    pub auth: Auth,
    pub assertions: Option<Arc<dyn AssertionSource>>,
    /// With host-managed auth: the managed identity whose token the host adds.
    pub managed: Option<Arc<ManagedIdentity>>,
}

/// `--managed-identity` (its optional client id) and the test-only endpoint.
pub struct Managed<'a> {
    pub client_id: Option<&'a str>,
    pub endpoint: Option<&'a str>,
}

fn var(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.is_empty())
}

/// The first source of the order above that is set; `None` when none is.
pub fn from_env(
    certificate: Option<&Path>,
    client_secret_file: Option<&Path>,
    managed: Option<Managed>,
) -> Result<Option<Credentials>> {
    if let Some(managed) = managed {
        let others = certificate.is_some()
            || client_secret_file.is_some()
            || [TOKEN, CLIENT_SECRET].into_iter().any(|n| var(n).is_some());
        if others {
            bail!(
                "--managed-identity and other credentials (MDE_TOKEN, a client secret or a \
                 certificate) are both set: sign in with one of them"
            );
        }
        let identity = ManagedIdentity::from_env(
            managed.endpoint.map(str::to_owned),
            managed.client_id.map(str::to_owned),
        );
        return Ok(Some(Credentials {
            auth: Auth::HostManaged,
            assertions: None,
            managed: Some(Arc::new(identity)),
        }));
    }
    if let Some(path) = certificate {
        return certificate_credentials(path, client_secret_file.is_some()).map(Some);
    }
    if let Some(auth) = crate::settings::auth_from_env(client_secret_file)? {
        return Ok(Some(Credentials {
            auth,
            assertions: None,
            managed: None,
        }));
    }
    let Some(file) = var(FEDERATED_TOKEN_FILE) else {
        return Ok(None);
    };
    let (tenant_id, client_id) = both(
        (AZURE_TENANT_ID, AZURE_CLIENT_ID),
        &format!("{FEDERATED_TOKEN_FILE} (workload identity)"),
    )?;
    Ok(Some(Credentials {
        auth: Auth::ClientAssertion(AssertionCredentials {
            tenant_id,
            client_id,
        }),
        assertions: Some(Arc::new(FederatedTokenFile {
            path: PathBuf::from(file),
        })),
        managed: None,
    }))
}

fn certificate_credentials(path: &Path, secret_file: bool) -> Result<Credentials> {
    let given = "--client-certificate (or MDE_CLIENT_CERTIFICATE)";
    if var(TOKEN).is_some() {
        bail!("{given} and {TOKEN} are both set: sign in with one of them");
    }
    if var(CLIENT_SECRET).is_some() || secret_file {
        bail!("{given} and a client secret are both set: sign in with one of them");
    }
    let (tenant_id, client_id) = both((TENANT_ID, CLIENT_ID), "a client certificate")?;
    let certificate = ClientCertificate::from_file(path).map_err(|e| anyhow!(e))?;
    Ok(Credentials {
        auth: Auth::ClientAssertion(AssertionCredentials {
            tenant_id,
            client_id,
        }),
        assertions: Some(Arc::new(certificate)),
        managed: None,
    })
}

/// The tenant and client ids `names` hold, or which are missing.
fn both((tenant, client): (&str, &str), what: &str) -> Result<(String, String)> {
    match (var(tenant), var(client)) {
        (Some(t), Some(c)) => Ok((t, c)),
        (t, c) => {
            let missing: Vec<&str> = [(tenant, t.is_none()), (client, c.is_none())]
                .into_iter()
                .filter(|(_, gone)| *gone)
                .map(|(n, _)| n)
                .collect();
            bail!(
                "{what} needs {tenant} and {client}; missing: {}",
                missing.join(", ")
            )
        }
    }
}
