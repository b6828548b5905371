//! One lookup, start to finish: normalise, authenticate, ask, read the answer.
//!
//! Everything outside the sandbox is reached through [`Host`], so this runs the
//! same natively (tests, benchmarks) and inside the component.

use crate::error::Error;
use crate::http::{Request, Response, TransportError};
use crate::machine::Machine;
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

impl Connector {
    pub fn lookup(
        &mut self,
        settings: &Settings,
        domain: &str,
        host: &mut impl Host,
    ) -> Result<Lookup, Error> {
        let domain = domain::normalize(domain).map_err(Error::InvalidDomain)?;
        let endpoints = settings.cloud.endpoints().map_err(Error::InvalidSettings)?;
        settings.auth.check().map_err(Error::InvalidSettings)?;

        let answer = match &settings.auth {
            Auth::HostManaged => send(host, &request::machines(&endpoints, &domain, None))?,
            Auth::BearerToken(token) => {
                send(host, &request::machines(&endpoints, &domain, Some(token)))?
            }
            Auth::ClientCredentials(credentials) => {
                self.machines_with_credentials(&endpoints, credentials, &domain, host)?
            }
        };
        let machines = response::machines(&answer)?;
        let cap_reached = machines.len() >= MACHINE_CAP;
        if cap_reached {
            host.log(
                Level::Warn,
                "result-cap-reached",
                &format!(
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

    /// The GET with a token, fetching a fresh token once if a kept one is refused.
    fn machines_with_credentials(
        &mut self,
        endpoints: &Endpoints,
        credentials: &ClientCredentials,
        domain: &str,
        host: &mut impl Host,
    ) -> Result<Response, Error> {
        let kept = self
            .token
            .as_ref()
            .filter(|t| t.endpoints == *endpoints && t.credentials == *credentials)
            .map(|t| t.access_token.clone());
        let (token, was_kept) = match kept {
            Some(token) => (token, true),
            None => (self.fetch_token(endpoints, credentials, host)?, false),
        };
        let answer = send(host, &request::machines(endpoints, domain, Some(&token)))?;
        if answer.status != 401 {
            return Ok(answer);
        }
        self.token = None;
        if !was_kept {
            // A token minted a moment ago and refused is not fixed by another.
            return Ok(answer);
        }
        host.log(
            Level::Info,
            "token-refresh",
            "the API refused the kept token; fetching a fresh one",
        );
        let token = self.fetch_token(endpoints, credentials, host)?;
        send(host, &request::machines(endpoints, domain, Some(&token)))
    }

    fn fetch_token(
        &mut self,
        endpoints: &Endpoints,
        credentials: &ClientCredentials,
        host: &mut impl Host,
    ) -> Result<String, Error> {
        let answer = send(host, &request::token(endpoints, credentials))?;
        let token = response::access_token(&answer)?;
        host.log(
            Level::Info,
            "token-acquired",
            &format!("token for client {} acquired", credentials.client_id),
        );
        self.token = Some(CachedToken {
            endpoints: endpoints.clone(),
            credentials: credentials.clone(),
            access_token: token.clone(),
        });
        Ok(token)
    }
}

fn send(host: &mut impl Host, request: &Request) -> Result<Response, Error> {
    host.log(
        Level::Debug,
        "request",
        &format!("{} {}", request.method.as_str(), request.url),
    );
    host.send(request).map_err(Error::Transport)
}
