//! What one instance of the component sees of its host: the imports
//! (`http.send` through the gateway, `settings`, `log`) and the sandbox's
//! memory limiter, all in the store's state.

use crate::bindings::mde;
use crate::bindings::{Level, Request, Response, TransportError};
use crate::gateway::Gateway;
use crate::scrub::{self, Secrets};
use mde_connector::settings::Settings;
use std::time::{Duration, Instant};
use wasmtime::ResourceLimiter;

/// One log record the component emitted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogRecord {
    pub level: Level,
    pub event: String,
    pub message: String,
}

/// What one instance of the component sees of its host. Built by
/// [`Runtime::instantiate`](crate::Runtime::instantiate), with the gateway in front of the transport.
pub struct HostState {
    pub(crate) settings: Settings,
    pub(crate) gateway: Gateway,
    /// Where `client-assertion` comes from: the host's certificate or
    /// federated token file. The key never leaves it.
    pub(crate) assertions: Option<std::sync::Arc<dyn crate::credentials::AssertionSource>>,
    /// With host-managed auth, the managed identity whose token the host adds.
    pub(crate) managed: Option<std::sync::Arc<crate::credentials::ManagedIdentity>>,
    /// The settings' secret and every token sent, to scrub from what the
    /// network says before it is passed on.
    pub(crate) secrets: Secrets,
    /// Every request the component asked for, in order.
    pub requests: Vec<Request>,
    /// Every log record, in order (known secrets scrubbed).
    pub logs: Vec<LogRecord>,
    /// Print each request to stderr (secrets redacted) as it is made.
    pub echo_requests: bool,
    pub(crate) limits: MemoryLimits,
    /// For the CPU deadline: when the current call began, and how much of
    /// it was spent in imports.
    pub(crate) call_started: Instant,
    pub(crate) time_in_imports: Duration,
}

impl HostState {
    /// The settings the component gets.
    pub fn settings(&self) -> &Settings {
        &self.settings
    }

    /// The secrets this instance knows of, to scrub any other text that
    /// came from the network before it is shown.
    pub fn secrets(&self) -> &Secrets {
        &self.secrets
    }
}

impl mde::connector::http::Host for HostState {
    fn send(&mut self, request: Request) -> Result<Response, TransportError> {
        // A token the component sends is a secret from now on.
        if let Some(credentials) = request.header("authorization") {
            let token = credentials.split_once(' ').map_or(credentials, |(_, t)| t);
            self.secrets.add(token.trim());
        }
        if self.echo_requests {
            eprintln!("{}", self.secrets.scrub(redacted(&request)));
        }
        let started = Instant::now();
        // With a managed identity the host signs the request; the component
        // never sees the token, and `requests` keeps what it asked for.
        let mut answer = match self.authorized(&request) {
            Ok(Some(signed)) => {
                let answer = self.gateway.send(&signed);
                self.forget_if_refused(&signed, &answer);
                answer
            }
            Ok(None) => self.gateway.send(&request),
            Err(e) => Err(e),
        };
        scrub::scrub_answer(&self.secrets, &request, &mut answer);
        self.time_in_imports += started.elapsed();
        self.requests.push(request);
        answer
    }
}

impl mde::connector::settings::Host for HostState {
    fn get(&mut self) -> mde::connector::settings::Config {
        (&self.settings).into()
    }

    fn client_assertion(&mut self, audience: String) -> Result<String, String> {
        let (tenant_id, client_id) = self.settings.auth.application().unwrap_or_default();
        // Only for the settings' own token endpoint: an assertion is a
        // credential, and the component has no business with another audience.
        let endpoints = self.settings.cloud.endpoints()?;
        let expected = mde_connector::request::token_url(&endpoints, tenant_id);
        if audience != expected {
            return Err(format!(
                "the host makes client assertions only for the settings' token endpoint \
                 ({expected}), not for {audience:?}"
            ));
        }
        let assertion = match &self.assertions {
            Some(source) => source.assertion(client_id, &audience)?,
            None => {
                return Err("the host has no client certificate or federated token \
                            configured (--client-certificate FILE, MDE_CLIENT_CERTIFICATE, \
                            or AZURE_FEDERATED_TOKEN_FILE)"
                    .into());
            }
        };
        // A secret from now on: scrubbed from whatever the network says.
        self.secrets.add(&assertion);
        Ok(assertion)
    }
}

impl mde::connector::log::Host for HostState {
    fn emit(&mut self, level: Level, event: String, message: String) {
        self.logs.push(LogRecord {
            level,
            event: self.secrets.scrub(event),
            message: self.secrets.scrub(message),
        });
    }
}

impl mde::connector::types::Host for HostState {}

/// The store's memory limit, and the most linear memory the instance has had.
#[derive(Debug, Default)]
pub(crate) struct MemoryLimits {
    pub(crate) limit: usize,
    pub(crate) peak: usize,
}

impl ResourceLimiter for MemoryLimits {
    fn memory_growing(
        &mut self,
        _current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        let allowed = desired <= self.limit;
        if allowed {
            self.peak = self.peak.max(desired);
        }
        Ok(allowed)
    }

    fn table_growing(
        &mut self,
        _current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        Ok(desired <= 10_000)
    }
}

/// A request as one line: method, URL, then headers, with credentials
/// replaced by `[redacted]`. Bodies are not shown: the token request's body
/// holds the client secret.
pub fn redacted(request: &Request) -> String {
    let mut line = format!("{} {}", request.method.as_str(), request.url);
    for (name, value) in &request.headers {
        let value = if name.eq_ignore_ascii_case("authorization") {
            match value.split_once(' ') {
                Some((scheme, _)) => format!("{scheme} [redacted]"),
                None => "[redacted]".to_owned(),
            }
        } else {
            value.clone()
        };
        line.push_str(&format!(" {name}: {value}"));
    }
    if let Some(body) = &request.body {
        line.push_str(&format!(" (body: {} bytes)", body.len()));
    }
    line
}
