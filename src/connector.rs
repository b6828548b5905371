//! One lookup, start to finish: normalise, authenticate, ask, read the answer.
//!
//! Everything outside the sandbox is reached through [`Host`], so this runs the
//! same natively (tests, benchmarks) and inside the component.

use crate::error::Error;
use crate::http::{Request, Response, TransportError};
use crate::machine::Machine;
use crate::secrets::Secrets;
use crate::settings::{Auth, ClientCredentials, Endpoints, Settings};
use crate::{domain, request, response};

/// The most machines the service returns for one domain.
pub const MACHINE_CAP: usize = 500;

/// Severity of a log record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    Debug,
    Info,
    Warn,
    Error,
}

/// What the connector needs from whoever runs it.
pub trait Host {
    fn send(&mut self, request: &Request) -> Result<Response, TransportError>;
    fn log(&mut self, level: Level, event: &str, message: &str);
}

/// The answer to a lookup.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lookup {
    pub domain: String,
    pub machines: Vec<Machine>,
    pub cap_reached: bool,
}

/// A token and what it was granted for, so changed settings never reuse it.
struct CachedToken {
    endpoints: Endpoints,
    credentials: ClientCredentials,
    access_token: String,
}

/// Lives as long as the component instance: it keeps the access token.
#[derive(Default)]
pub struct Connector {
    token: Option<CachedToken>,
}

/// One lookup's way out: the host, and the secrets to keep out of anything
/// that came back.
struct Exchange<'h, H> {
    host: &'h mut H,
    secrets: Secrets,
}

impl<H: Host> Exchange<'_, H> {
    fn send(&mut self, request: &Request) -> Result<Response, Error> {
        self.host.log(
            Level::Debug,
            "request",
            &format!("{} {}", request.method.as_str(), request.url),
        );
        self.host.send(request).map_err(Error::Transport)
    }

    fn log(&mut self, level: Level, event: &str, message: String) {
        self.host.log(level, event, &self.secrets.scrub(message));
    }
}

impl Connector {
    pub fn lookup(
        &mut self,
        settings: &Settings,
        domain: &str,
        host: &mut impl Host,
    ) -> Result<Lookup, Error> {
        let mut secrets = Secrets::of(&settings.auth);
        if let Some(kept) = &self.token {
            secrets.add(&kept.access_token);
        }
        let mut exchange = Exchange { host, secrets };
        let found = self.lookup_with(settings, domain, &mut exchange);
        found.map_err(|e| exchange.secrets.scrub_error(e))
    }

    fn lookup_with<H: Host>(
        &mut self,
        settings: &Settings,
        domain: &str,
        exchange: &mut Exchange<H>,
    ) -> Result<Lookup, Error> {
        let domain = domain::normalize(domain).map_err(Error::InvalidDomain)?;
        let endpoints = settings.cloud.endpoints().map_err(Error::InvalidSettings)?;
        settings.auth.check().map_err(Error::InvalidSettings)?;

        let mut answer = match &settings.auth {
            Auth::HostManaged => exchange.send(&request::machines(&endpoints, &domain, None))?,
            Auth::BearerToken(token) => {
                exchange.send(&request::machines(&endpoints, &domain, Some(token)))?
            }
            Auth::ClientCredentials(credentials) => {
                self.machines_with_credentials(&endpoints, credentials, &domain, exchange)?
            }
        };
        exchange.secrets.scrub_bytes(&mut answer.body);
        let found = response::machines(&answer, &exchange.secrets)?;
        for warning in found.warnings {
            exchange.log(Level::Warn, warning.event, warning.message);
        }
        let machines = found.machines;
        let cap_reached = machines.len() >= MACHINE_CAP;
        if cap_reached {
            exchange.log(
                Level::Warn,
                "result-cap-reached",
                format!(
                    "{domain}: {} machines, the service's cap; there may be more",
                    machines.len()
                ),
            );
        }
        Ok(Lookup {
            domain,
            machines,
            cap_reached,
        })
    }

    /// The GET with a token, fetching a fresh token once if a kept one is
    /// refused. A token the API refuses is never kept.
    fn machines_with_credentials<H: Host>(
        &mut self,
        endpoints: &Endpoints,
        credentials: &ClientCredentials,
        domain: &str,
        exchange: &mut Exchange<H>,
    ) -> Result<Response, Error> {
        let kept = self
            .token
            .as_ref()
            .filter(|t| t.endpoints == *endpoints && t.credentials == *credentials)
            .map(|t| t.access_token.clone());
        let (token, was_kept) = match kept {
            Some(token) => (token, true),
            None => (self.fetch_token(endpoints, credentials, exchange)?, false),
        };
        let answer = exchange.send(&request::machines(endpoints, domain, Some(&token)))?;
        if answer.status != 401 {
            return Ok(answer);
        }
        self.token = None;
        if !was_kept {
            // A token minted a moment ago and refused is not fixed by another.
            return Ok(answer);
        }
        exchange.log(
            Level::Info,
            "token-refresh",
            "the API refused the kept token; fetching a fresh one".into(),
        );
        let token = self.fetch_token(endpoints, credentials, exchange)?;
        let answer = exchange.send(&request::machines(endpoints, domain, Some(&token)))?;
        if answer.status == 401 {
            self.token = None;
        }
        Ok(answer)
    }

    fn fetch_token<H: Host>(
        &mut self,
        endpoints: &Endpoints,
        credentials: &ClientCredentials,
        exchange: &mut Exchange<H>,
    ) -> Result<String, Error> {
        let mut answer = exchange.send(&request::token(endpoints, credentials))?;
        if answer.status != 200 {
            // An error answer may echo the form, client secret and all. A
            // token answer is read as sent (it is never quoted): the token it
            // holds may be one already known.
            exchange.secrets.scrub_bytes(&mut answer.body);
        }
        let token = response::access_token(&answer)?;
        exchange.secrets.add(&token);
        exchange.log(
            Level::Info,
            "token-acquired",
            format!("token for client {} acquired", credentials.client_id),
        );
        self.token = Some(CachedToken {
            endpoints: endpoints.clone(),
            credentials: credentials.clone(),
            access_token: token.clone(),
        });
        Ok(token)
    }
}
