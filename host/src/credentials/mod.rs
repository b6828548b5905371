//! Credentials the host holds so that the component never does: a
//! certificate's private key that signs client assertions, a federated
//! token file read afresh for each, and (as host-managed auth) a managed
//! identity's tokens.

mod certificate;
mod federated;
mod managed;

pub use certificate::{ASSERTION_LIFETIME_SECONDS, ClientCertificate};
pub use federated::{FEDERATED_TOKEN_FILE, FederatedTokenFile};
pub use managed::{Endpoint, IDENTITY_ENDPOINT, IDENTITY_HEADER, IMDS_ENDPOINT, ManagedIdentity};

use crate::bindings::{Request, Response, TransportError};
use crate::gateway::Origin;
use crate::state::HostState;
use mde_connector::settings::Auth;

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

    /// The same component with host-managed auth by `identity`: the host
    /// gets its tokens and adds them to requests for the API. Its endpoint,
    /// and no other, joins the allow-list.
    pub fn with_managed_identity(&self, identity: Arc<ManagedIdentity>) -> Self {
        let mut runtime = self.clone();
        runtime.options.policy.identity_endpoint = Some(identity.url().to_owned());
        runtime.managed = Some(identity);
        runtime
    }
}

impl HostState {
    /// `request` with the managed identity's token, when the settings are
    /// host-managed, a managed identity is chosen and the request is for
    /// the API; `None` when it goes as it is.
    pub(crate) fn authorized(
        &mut self,
        request: &Request,
    ) -> Result<Option<Request>, TransportError> {
        let Some(identity) = self.managed.clone() else {
            return Ok(None);
        };
        if self.settings.auth != Auth::HostManaged || request.header("authorization").is_some() {
            return Ok(None);
        }
        let endpoints = self
            .settings
            .cloud
            .endpoints()
            .map_err(TransportError::Refused)?;
        if Origin::parse(&request.url).ok() != Origin::parse(&endpoints.api_base).ok() {
            return Ok(None);
        }
        let token = self.managed_token(&identity)?;
        let mut signed = request.clone();
        signed
            .headers
            .push(("authorization".into(), format!("Bearer {token}")));
        Ok(Some(signed))
    }

    /// The managed identity's token for the settings' API: the one held,
    /// or a new one from its endpoint through the gateway.
    pub(crate) fn managed_token(
        &mut self,
        identity: &ManagedIdentity,
    ) -> Result<String, TransportError> {
        if let Some(secret) = identity.secret() {
            self.secrets.add(secret);
        }
        if let Some(token) = identity.held() {
            return Ok(token);
        }
        let endpoints = self
            .settings
            .cloud
            .endpoints()
            .map_err(TransportError::Refused)?;
        let resource = endpoints
            .scope
            .strip_suffix("/.default")
            .unwrap_or(&endpoints.scope);
        let answer = self.gateway.send(&identity.request(resource))?;
        let token = identity.accept(&answer).map_err(|e| {
            TransportError::Other(self.secrets.scrub(format!("managed identity: {e}")))
        })?;
        self.secrets.add(&token);
        Ok(token)
    }

    /// A managed identity token the API refused is not sent again.
    pub(crate) fn forget_if_refused(
        &self,
        signed: &Request,
        answer: &Result<Response, TransportError>,
    ) {
        if let (Some(identity), Ok(answer)) = (&self.managed, answer)
            && answer.status == 401
            && let Some(token) = signed
                .header("authorization")
                .and_then(|v| v.strip_prefix("Bearer "))
        {
            identity.forget(token);
        }
    }
}

impl Instance {
    /// `check`: the claims of a fresh token and which lookups they permit
    /// (never the token), or the component's error, with known secrets
    /// scrubbed. The outer error is a trap.
    pub fn check(&mut self) -> anyhow::Result<Result<TokenReport, Error>> {
        if let Some(report) = self.check_managed() {
            return Ok(report);
        }
        let answer = self.call(|live| live.bindings.call_check(&mut live.store));
        Ok(self.scrubbed(answer)?.map(report))
    }
}

impl Instance {
    /// `check` of a managed identity's token, decoded here with the core's
    /// code (the component never holds it); `None` without one.
    fn check_managed(&mut self) -> Option<Result<TokenReport, Error>> {
        let state = self.state_mut();
        let identity = state.managed.clone()?;
        if state.settings.auth != Auth::HostManaged {
            return None;
        }
        state.gateway.begin_call();
        let settings = state.settings.clone();
        let token = match state.managed_token(&identity) {
            Ok(token) => token,
            Err(e) => return Some(Err(Error::Transport(e))),
        };
        let claims = match mde_connector::claims::decode(&token) {
            Ok(claims) => claims,
            Err(reason) => {
                return Some(Err(Error::InvalidResponse(
                    crate::bindings::mde::connector::types::InvalidResponse {
                        service: crate::bindings::mde::connector::types::Service::IdentityPlatform,
                        status: 200,
                        reason: format!("the managed identity's token: {reason}"),
                        excerpt: String::new(),
                    },
                )));
            }
        };
        Some(
            TokenReport::of(&settings, claims, None).map_err(|e| match e {
                mde_connector::Error::InvalidSettings(why) => Error::InvalidSettings(why),
                other => Error::InvalidSettings(other.to_string()),
            }),
        )
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
