//! Outbound policy, all of it in [`Gateway::send`]: the one function through
//! which every request of the component leaves the host. As in Spin's
//! outbound HTTP: allow-list, budget, retries, then the transport. The
//! runtime builds a gateway into every instance's state from its settings
//! (see [`crate::Runtime::instantiate`]): there is no way around it.

use crate::bindings::{Method, Request, Response, TransportError};
use crate::budget::{Limits, RateWindow};
use crate::clock::Clock;
use crate::tokens::{TokenShelf, token_expiring};
use crate::transport::Transport;
use mde_connector::settings::{Auth, Endpoints};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// What the host allows and how it retries, whatever the cloud.
#[derive(Debug, Clone)]
pub struct PolicyOptions {
    /// Plain `http://` to loopback addresses (test servers). Off by default.
    pub allow_loopback_http: bool,
    /// Calls to the API per budget key; neither may be zero.
    pub limits: Limits,
    /// The longest the host waits, in all, during one call of the component
    /// on `429`s and its own budget before it gives the rate limit to the
    /// component.
    pub max_wait: Duration,
    /// The longest one call of the component (a lookup) may take, every
    /// request, retry and wait included. A request is given what is left of
    /// it and no more.
    pub timeout: Duration,
    /// Attempts of a GET that fails with `5xx`, in transport, or with a `429`
    /// whose wait fits `max_wait`.
    pub max_attempts: u32,
    /// First backoff; doubles each attempt, with full jitter, up to `max_backoff`.
    pub base_backoff: Duration,
    pub max_backoff: Duration,
    /// The largest answer body passed to the component, from any transport
    /// (the live one also stops reading past it).
    pub max_body: u64,
    /// The managed identity endpoint, on the allow-list (any scheme: IMDS
    /// is plain http) only when a managed identity is chosen; see
    /// [`crate::Runtime::with_managed_identity`].
    pub identity_endpoint: Option<String>,
}

/// The largest answer body by default: 32 MiB, twice what the component
/// parses, half its default memory.
pub const MAX_BODY: u64 = 32 * 1024 * 1024;

impl Default for PolicyOptions {
    /// The service's limits, waits of up to two minutes, four attempts, two
    /// minutes a lookup.
    fn default() -> Self {
        PolicyOptions {
            allow_loopback_http: false,
            limits: Limits::SERVICE,
            max_wait: Duration::from_secs(120),
            timeout: Duration::from_secs(120),
            max_attempts: 4,
            base_backoff: Duration::from_millis(500),
            max_backoff: Duration::from_secs(30),
            max_body: MAX_BODY,
            identity_endpoint: None,
        }
    }
}

/// The options, for one cloud's hosts.
#[derive(Debug, Clone)]
pub struct Policy {
    /// The API: requests to it count against the budget.
    pub api: Origin,
    /// The identity platform. Nothing else may be reached, but:
    pub login: Origin,
    /// the managed identity endpoint, when one is chosen.
    pub identity: Option<Origin>,
    pub options: PolicyOptions,
}

impl Policy {
    /// The API and login hosts of a cloud, with `options`; options that
    /// could never let a call through are refused.
    pub fn for_endpoints(endpoints: &Endpoints, options: PolicyOptions) -> Result<Self, String> {
        if options.limits.per_minute == 0 || options.limits.per_hour == 0 {
            return Err(format!(
                "a rate budget of {} calls a minute and {} an hour admits no call",
                options.limits.per_minute, options.limits.per_hour
            ));
        }
        if options.timeout.is_zero() || options.max_attempts == 0 {
            return Err("a timeout of zero or no attempts admits no call".to_owned());
        }
        Ok(Policy {
            api: Origin::parse(&endpoints.api_base)?,
            login: Origin::parse(&endpoints.login_host)?,
            identity: options
                .identity_endpoint
                .as_deref()
                .map(Origin::parse)
                .transpose()?,
            options,
        })
    }
}

/// Whose budget an instance's calls count against: the tenant and client of
/// its credentials, compared without case (GUIDs and domain names are
/// case-insensitive: the service counts `CONTOSO.com` and `contoso.com` as one
/// tenant); every bearer-token or host-managed instance shares one.
pub fn budget_key(auth: &Auth) -> String {
    match auth.application() {
        Some((tenant, client)) => format!(
            "{}/{}",
            tenant.trim().to_ascii_lowercase(),
            client.trim().to_ascii_lowercase()
        ),
        None => "bearer".to_owned(),
    }
}

/// A scheme, host and port.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Origin {
    pub scheme: String,
    pub host: String,
    pub port: u16,
}

impl Origin {
    /// Reads the origin of an absolute `http(s)://` URL.
    pub fn parse(url: &str) -> Result<Origin, String> {
        let uri: ureq::http::Uri = url
            .parse()
            .map_err(|e| format!("{url:?} is not a URL: {e}"))?;
        let scheme = uri.scheme_str().unwrap_or_default().to_ascii_lowercase();
        let port = match (uri.port_u16(), scheme.as_str()) {
            (Some(port), _) => port,
            (None, "https") => 443,
            (None, "http") => 80,
            _ => return Err(format!("{url:?} is not an http(s) URL")),
        };
        let host = uri.host().ok_or_else(|| format!("{url:?} has no host"))?;
        Ok(Origin {
            scheme,
            host: host.trim_matches(['[', ']']).to_ascii_lowercase(),
            port,
        })
    }

    /// `localhost` or a loopback address.
    pub fn is_loopback(&self) -> bool {
        self.host == "localhost"
            || self
                .host
                .parse::<std::net::IpAddr>()
                .is_ok_and(|ip| ip.is_loopback())
    }
}

/// Calls per budget key (tenant and client id), shared by every gateway of a host.
pub type Budgets = Arc<Mutex<HashMap<String, RateWindow>>>;

/// One call of the component: when it began and how long it has waited.
#[derive(Debug, Clone, Copy)]
struct Call {
    started: Duration,
    waited: Duration,
}

/// The component's way out: policy in front of a transport.
pub struct Gateway {
    policy: Policy,
    /// The call under way ([`Gateway::begin_call`]); without one, each
    /// request is a call of its own.
    call: Option<Call>,
    /// Whose budget these calls count against: tenant and client id.
    budget_key: String,
    budgets: Budgets,
    /// The access tokens every gateway of the host shares.
    tokens: Arc<TokenShelf>,
    clock: Arc<dyn Clock>,
    transport: Box<dyn Transport + Send>,
    /// State of the jitter generator (xorshift); the host's only randomness.
    jitter: u64,
}

impl Gateway {
    pub fn new(
        policy: Policy,
        budget_key: String,
        budgets: Budgets,
        tokens: Arc<TokenShelf>,
        clock: Arc<dyn Clock>,
        transport: Box<dyn Transport + Send>,
    ) -> Self {
        let seed = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0x9e37_79b9, |d| d.subsec_nanos() as u64);
        Gateway {
            policy,
            call: None,
            budget_key,
            budgets,
            tokens,
            clock,
            transport,
            jitter: seed | 1,
        }
    }

    /// A call of the component begins: its deadline and its allowance of
    /// waits start now, for every request it makes until the next.
    pub fn begin_call(&mut self) {
        self.call = Some(Call {
            started: self.clock.now(),
            waited: Duration::ZERO,
        });
    }

    /// What is left of the call's time.
    fn remaining(&self, call: &Call) -> Duration {
        (call.started + self.policy.options.timeout).saturating_sub(self.clock.now())
    }

    /// Waits `wait` if the call has time for it and a request after it,
    /// and (when `counted`, a rate limit) it fits the call's allowance of
    /// waits; says whether it waited.
    fn wait_if_allowed(&self, call: &mut Call, wait: Duration, counted: bool) -> bool {
        let allowed = wait < self.remaining(call)
            && (!counted || call.waited + wait <= self.policy.options.max_wait);
        if allowed {
            self.clock.sleep(wait);
            if counted {
                call.waited += wait;
            }
        }
        allowed
    }

    fn check_egress(&self, request: &Request) -> Result<Origin, TransportError> {
        let origin = Origin::parse(&request.url).map_err(TransportError::Refused)?;
        if self.policy.identity.as_ref() == Some(&origin) {
            return Ok(origin);
        }
        let allowed = origin == self.policy.api || origin == self.policy.login;
        let scheme_ok = origin.scheme == "https"
            || (origin.scheme == "http"
                && self.policy.options.allow_loopback_http
                && origin.is_loopback());
        if allowed && !scheme_ok && origin.scheme == "http" && origin.is_loopback() {
            // The configured cloud itself, refused only for want of the flag:
            // say which flag.
            return Err(TransportError::Refused(format!(
                "http://{}:{} is the configured cloud, but plain http:// to loopback needs \
                 --allow-loopback-http (allow_loopback_http in the host's policy): a test \
                 server only; real clouds are https",
                origin.host, origin.port
            )));
        }
        if !allowed || !scheme_ok {
            return Err(TransportError::Refused(format!(
                "{}://{}:{} is not on the host's egress allow-list",
                origin.scheme, origin.host, origin.port
            )));
        }
        Ok(origin)
    }

    /// Takes a place in the budget, waiting for one if the call may.
    fn acquire_budget(&mut self, call: &mut Call) -> Result<(), Duration> {
        loop {
            let now = self.clock.now();
            let attempt = {
                let mut budgets = self.budgets.lock().unwrap_or_else(|p| p.into_inner());
                budgets
                    .entry(self.budget_key.clone())
                    .or_insert_with(|| RateWindow::new(self.policy.options.limits))
                    .try_acquire(now)
            };
            match attempt {
                Ok(()) => return Ok(()),
                Err(wait) if self.wait_if_allowed(call, wait, true) => {}
                Err(wait) => return Err(wait),
            }
        }
    }

    fn backoff(&mut self, attempt: u32) -> Duration {
        let cap = self
            .policy
            .options
            .base_backoff
            .saturating_mul(1 << attempt.min(16))
            .min(self.policy.options.max_backoff);
        self.jitter ^= self.jitter << 13;
        self.jitter ^= self.jitter >> 7;
        self.jitter ^= self.jitter << 17;
        let fraction = (self.jitter >> 11) as f64 / (1u64 << 53) as f64;
        cap.mul_f64(fraction)
    }
}

/// A `429` the host makes itself, so the component reports it as the service's.
fn budget_exhausted(wait: Duration) -> Response {
    let seconds = wait.as_secs_f64().ceil() as u64;
    Response {
        status: 429,
        headers: vec![
            ("content-type".into(), "application/json".into()),
            ("retry-after".into(), seconds.to_string()),
        ],
        body: format!(
            r#"{{"error":{{"code":"HostBudgetExhausted","message":"The host's rate budget for this application is spent; retry in {seconds} s."}}}}"#
        )
        .into_bytes()
        .into(),
    }
}

impl Gateway {
    /// Sends `request` if the policy allows it, within the budget and the
    /// call's deadline, with retries; a token request is answered from the
    /// host's shared tokens while they are fresh.
    pub fn send(&mut self, request: &Request) -> Result<Response, TransportError> {
        let origin = self.check_egress(request)?;
        let bearer = request
            .header("authorization")
            .and_then(|v| v.strip_prefix("Bearer "))
            .map(str::trim);
        if origin == self.policy.api
            && bearer.is_some_and(|token| self.tokens.is_stale(token, self.clock.now()))
        {
            return Ok(token_expiring());
        }
        let mut call = self.call.unwrap_or(Call {
            started: self.clock.now(),
            waited: Duration::ZERO,
        });
        let grant = (origin == self.policy.login)
            .then(|| TokenShelf::grant(request))
            .flatten();
        let answer = match grant {
            Some(grant) => {
                let (tokens, clock) = (self.tokens.clone(), self.clock.clone());
                tokens.answer(
                    grant,
                    || clock.now(),
                    || self.send_in_call(request, &origin, &mut call),
                )
            }
            None => self.send_in_call(request, &origin, &mut call),
        };
        if let (Some(token), Ok(refused)) = (bearer, &answer)
            && refused.status == 401
        {
            self.tokens.forget(token);
        }
        if self.call.is_some() {
            self.call = Some(call);
        }
        answer
    }

    fn send_in_call(
        &mut self,
        request: &Request,
        origin: &Origin,
        call: &mut Call,
    ) -> Result<Response, TransportError> {
        // Only API calls count against the service's limits; token requests do not.
        let counted = *origin == self.policy.api;
        let retryable = request.method == Method::Get;
        let mut attempt = 0;
        loop {
            if counted && let Err(wait) = self.acquire_budget(call) {
                return Ok(budget_exhausted(wait));
            }
            let remaining = self.remaining(call);
            if remaining.is_zero() {
                return Err(TransportError::Timeout);
            }
            let max_body = self.policy.options.max_body;
            let answer = self
                .transport
                .send_within(request, remaining)
                .and_then(|r| match r.body.as_bytes().len() as u64 > max_body {
                    // Whatever the transport (a replay, a test double): no
                    // answer larger than the cap reaches the guest's memory.
                    true => Err(TransportError::TooLarge(max_body)),
                    false => Ok(r),
                });
            attempt += 1;
            if attempt >= self.policy.options.max_attempts {
                return answer;
            }
            let (wait, rate_limit) = match &answer {
                Ok(r) if r.status == 429 => (
                    r.header("retry-after")
                        .and_then(mde_connector::response::retry_after_seconds)
                        .map(Duration::from_secs),
                    true,
                ),
                Ok(r) if r.status >= 500 && retryable => (Some(self.backoff(attempt)), false),
                Err(TransportError::Timeout | TransportError::Connection(_)) if retryable => {
                    (Some(self.backoff(attempt)), false)
                }
                _ => (None, false),
            };
            match wait {
                Some(wait) if self.wait_if_allowed(call, wait, rate_limit) => {}
                _ => return answer,
            }
        }
    }
}
