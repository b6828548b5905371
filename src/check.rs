//! `check`: obtain a token with the current settings and say what it
//! permits, from its claims read without trusting them. The token itself
//! never leaves.

use crate::claims::{self, Claims};
use crate::connector::{Connector, Exchange, Host};
use crate::error::{Error, InvalidResponse, Service};
use crate::permissions::Lookup;
use crate::secrets::Secrets;
use crate::settings::{Auth, Settings};

/// What `check` found: where the settings lead, and the token's claims.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenReport {
    pub api_base: String,
    /// The identity platform, when the component obtained the token.
    pub login_host: Option<String>,
    pub claims: Claims,
    /// The cloud `aud` names, when it is another than the settings' own.
    pub audience_cloud: Option<String>,
    /// Every lookup, in [`Lookup::ALL`]'s order, and whether the roles permit it.
    pub lookups: Vec<(Lookup, bool)>,
}

impl TokenReport {
    /// The report on `claims` of a token for `settings`.
    pub fn of(
        settings: &Settings,
        claims: Claims,
        login_host: Option<String>,
    ) -> Result<Self, Error> {
        let endpoints = settings.cloud.endpoints().map_err(Error::InvalidSettings)?;
        let own = claims::audience_cloud(&endpoints.scope);
        let audience_cloud = claims
            .audience
            .as_deref()
            .and_then(claims::audience_cloud)
            .filter(|cloud| Some(*cloud) != own)
            .map(str::to_owned);
        let lookups = Lookup::ALL
            .iter()
            .map(|l| (*l, l.permitted_by(&claims.roles)))
            .collect();
        Ok(TokenReport {
            api_base: endpoints.api_base,
            login_host,
            claims,
            audience_cloud,
            lookups,
        })
    }

    /// Whether `lookup` is permitted.
    pub fn permits(&self, lookup: Lookup) -> bool {
        self.lookups.iter().any(|(l, ok)| *l == lookup && *ok)
    }
}

impl Connector {
    /// A fresh token for `settings` (a given bearer token as it is), and
    /// what it permits. Sends no API request.
    pub fn check(
        &mut self,
        settings: &Settings,
        host: &mut impl Host,
    ) -> Result<TokenReport, Error> {
        let endpoints = settings.cloud.endpoints().map_err(Error::InvalidSettings)?;
        settings.auth.check().map_err(Error::InvalidSettings)?;
        let (token, login_host) = match &settings.auth {
            Auth::HostManaged => {
                return Err(Error::InvalidSettings(
                    "auth is host-managed: the host holds the token, so the host checks it \
                     (the Rust host decodes it with mde_connector::claims)"
                        .into(),
                ));
            }
            Auth::BearerToken(token) => {
                let claims = claims::decode(token)
                    .map_err(|why| Error::InvalidSettings(format!("bearer token: {why}")))?;
                return TokenReport::of(settings, claims, None);
            }
            Auth::ClientCredentials(_) | Auth::ClientAssertion(_) => {
                let mut exchange = Exchange::new(host, Secrets::of(&settings.auth));
                // A fresh token: `check` is how an operator tests a sign-in.
                self.forget_token();
                let token = self
                    .fetch_token(&endpoints, &settings.auth, &mut exchange)
                    .map_err(|e| exchange.secrets.scrub_error(e))?;
                (token, endpoints.login_host.clone())
            }
        };
        let claims = claims::decode(&token).map_err(|why| {
            Error::InvalidResponse(InvalidResponse {
                service: Service::IdentityPlatform,
                status: 200,
                reason: why,
                // A token answer is never quoted.
                excerpt: String::new(),
            })
        })?;
        TokenReport::of(settings, claims, Some(login_host))
    }
}
