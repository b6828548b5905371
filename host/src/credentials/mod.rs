//! Credentials the host holds so that the component never does: a
//! certificate's private key that signs client assertions, a federated
//! token file read afresh for each, and (as host-managed auth) a managed
//! identity's tokens.

mod certificate;
mod federated;

pub use certificate::{ASSERTION_LIFETIME_SECONDS, ClientCertificate};
pub use federated::{FEDERATED_TOKEN_FILE, FederatedTokenFile};

use crate::runtime::{Error, Instance, Runtime};
use mde_connector::check::TokenReport;
use std::sync::Arc;

/// Where `settings.client-assertion` gets its answer.
pub trait AssertionSource: Send + Sync {
    /// A client assertion of `client_id` for `audience` (the token
    /// endpoint's URL). The error says what is wrong and how to fix it,
    /// never a secret.
    fn assertion(&self, client_id: &str, audience: &str) -> Result<String, String>;
}

impl Runtime {
    /// The same component, whose instances answer `settings.client-assertion`
    /// from `source` (a certificate or a federated token file).
    pub fn with_assertions(&self, source: Arc<dyn AssertionSource>) -> Self {
        let mut runtime = self.clone();
        runtime.assertions = Some(source);
        runtime
    }
}

impl Instance {
    /// `check`: the claims of a fresh token and which lookups they permit
    /// (never the token), or the component's error, with known secrets
    /// scrubbed. The outer error is a trap.
    pub fn check(&mut self) -> anyhow::Result<Result<TokenReport, Error>> {
        let answer = self.call(|live| live.bindings.call_check(&mut live.store));
        Ok(self.scrubbed(answer)?.map(report))
    }
}

/// The WIT's report as the core's, so hosts print one shape.
fn report(wit: crate::bindings::mde::connector::types::TokenReport) -> TokenReport {
    use mde_connector::permissions::Lookup;
    TokenReport {
        api_base: wit.api_base,
        login_host: wit.login_host,
        claims: mde_connector::claims::Claims {
            tenant_id: wit.tenant_id,
            app_id: wit.app_id,
            audience: wit.audience,
            roles: wit.roles,
            expires_at: wit.expires_at,
        },
        audience_cloud: wit.audience_cloud,
        lookups: wit
            .lookups
            .into_iter()
            .filter_map(|p| {
                let lookup = Lookup::ALL.into_iter().find(|l| l.name() == p.lookup)?;
                Some((lookup, p.permitted))
            })
            .collect(),
    }
}
