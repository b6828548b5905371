//! One lookup, start to finish: normalise, authenticate, ask, read the answer.
//!
//! Everything outside the sandbox is reached through [`Host`], so this runs the
//! same natively (tests, benchmarks) and inside the component.

use crate::error::Error;
use crate::http::{Request, Response, TransportError};
use crate::machine::Machine;
use crate::prevalence::{DomainPrevalence, DomainStatsAnswer, IpPrevalence, IpStatsAnswer};
use crate::request::Proof;
use crate::response::{Kept, Machines};
use crate::routes::{self, Query, Route};
use crate::secrets::Secrets;
use crate::settings::{Auth, Endpoints, Settings};
use crate::{domain, hints, indicator, permissions, request, response};

/// The most machines the service returns for one query.
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

    /// A client assertion for `audience` (the token URL), for
    /// [`Auth::ClientAssertion`]: the host holds the key. A host without
    /// one says why (and how to configure one).
    fn client_assertion(&mut self, audience: &str) -> Result<String, String> {
        let _ = audience;
        Err("this host makes no client assertions".into())
    }
}

/// The answer to a domain lookup: the machines as typed records ([`Machine`],
/// for `lookup`), or each as its JSON object text as the service sent it
/// ([`String`], for `lookup-texts`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lookup<M = Machine> {
    pub domain: String,
    pub machines: Vec<M>,
    pub cap_reached: bool,
}

/// The answer to any machine list ([`Lookup`] for every [`Query`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Found<M = Machine> {
    /// The query as normalised and sent.
    pub query: Query,
    pub machines: Vec<M>,
    pub cap_reached: bool,
}

impl<M> From<Lookup<M>> for Found<M> {
    fn from(found: Lookup<M>) -> Self {
        Found {
            query: Query::Domain(found.domain),
            machines: found.machines,
            cap_reached: found.cap_reached,
        }
    }
}

/// A token and what it was granted for, so changed settings never reuse it.
struct CachedToken {
    endpoints: Endpoints,
    /// Client credentials or an assertion's application.
    grant: Auth,
    access_token: String,
}

/// Lives as long as the component instance: it keeps the access token.
#[derive(Default)]
pub struct Connector {
    token: Option<CachedToken>,
}

/// One lookup's way out: the host, and the secrets to keep out of anything
/// that came back.
pub(crate) struct Exchange<'h, H> {
    host: &'h mut H,
    pub(crate) secrets: Secrets,
    /// The last bearer token sent, for the hint of a `401` (its audience).
    pub(crate) sent_token: Option<String>,
}

impl<'h, H: Host> Exchange<'h, H> {
    pub(crate) fn new(host: &'h mut H, secrets: Secrets) -> Self {
        Exchange {
            host,
            secrets,
            sent_token: None,
        }
    }

    /// `e` with what to fix (see [`hints`]), scrubbed of every secret.
    pub(crate) fn finish_error(
        &self,
        e: Error,
        lookup: permissions::Lookup,
        settings: &Settings,
    ) -> Error {
        let endpoints = settings.cloud.endpoints().ok();
        let context = hints::Context {
            lookup,
            token: self.sent_token.as_deref(),
            endpoints: endpoints.as_ref(),
        };
        self.secrets.scrub_error(hints::annotate(e, &context))
    }

    fn send(&mut self, request: &Request) -> Result<Response, Error> {
        self.host.log(
            Level::Debug,
            "request",
            &format!("{} {}", request.method.as_str(), request.url),
        );
        if let Some((_, value)) = request.headers.iter().find(|(n, _)| n == "authorization") {
            self.sent_token = value.strip_prefix("Bearer ").map(str::to_owned);
        }
        self.host.send(request).map_err(Error::Transport)
    }

    fn log(&mut self, level: Level, event: &str, message: String) {
        self.host.log(level, event, &self.secrets.scrub(message));
    }

    fn warn(&mut self, warnings: Vec<response::Warning>) {
        for warning in warnings {
            self.log(Level::Warn, warning.event, warning.message);
        }
    }
}

impl Connector {
    /// The machines as typed records.
    pub fn lookup(
        &mut self,
        settings: &Settings,
        domain: &str,
        host: &mut impl Host,
    ) -> Result<Lookup, Error> {
        self.lookup_as(settings, domain, host)
    }

    /// The same lookup, each machine as its JSON object text as the service
    /// sent it (compact and scrubbed).
    pub fn lookup_texts(
        &mut self,
        settings: &Settings,
        domain: &str,
        host: &mut impl Host,
    ) -> Result<Lookup<String>, Error> {
        self.lookup_as(settings, domain, host)
    }

    /// The domain lookup, keeping what `M` says of each machine.
    pub fn lookup_as<M: Kept>(
        &mut self,
        settings: &Settings,
        domain: &str,
        host: &mut impl Host,
    ) -> Result<Lookup<M>, Error> {
        let found = self.query_as::<M>(settings, &Query::Domain(domain.to_owned()), host)?;
        // A domain query stays one; no other arm is reached.
        let domain = match found.query {
            Query::Domain(domain) => domain,
            other => other.describe(),
        };
        Ok(Lookup {
            domain,
            machines: found.machines,
            cap_reached: found.cap_reached,
        })
    }

    /// Any machine list, keeping what `M` says of each machine. A
    /// [`Query::Machine`] finds at most one (none for a `404`).
    pub fn query_as<M: Kept>(
        &mut self,
        settings: &Settings,
        query: &Query,
        host: &mut impl Host,
    ) -> Result<Found<M>, Error> {
        self.exchange(settings, query.lookup(), host, |connector, exchange| {
            let query = query.normalized()?;
            let route = query.route();
            let found =
                connector.get(settings, &route, exchange, |answer, secrets| match query {
                    Query::Machine(_) => response::one_machine::<M>(answer, secrets),
                    _ => response::read_answer::<M>(answer, secrets),
                })?;
            let Machines { machines, warnings } = found;
            exchange.warn(warnings);
            let cap_reached = machines.len() >= MACHINE_CAP;
            if cap_reached {
                exchange.log(
                    Level::Warn,
                    "result-cap-reached",
                    format!(
                        "{}: {} machines, the service's cap; there may be more",
                        query.describe(),
                        machines.len()
                    ),
                );
            }
            Ok(Found {
                query,
                machines,
                cap_reached,
            })
        })
    }

    /// How many machines of the organisation saw `domain` in the window.
    pub fn domain_stats(
        &mut self,
        settings: &Settings,
        domain: &str,
        look_back_hours: Option<u32>,
        host: &mut impl Host,
    ) -> Result<DomainPrevalence, Error> {
        self.exchange(
            settings,
            permissions::Lookup::DomainStats,
            host,
            |connector, exchange| {
                let domain = domain::normalize(domain).map_err(Error::InvalidDomain)?;
                let hours = indicator::look_back_hours(look_back_hours)?;
                let route = routes::domain_stats(&domain, hours);
                let (sent, warnings) = connector.get(
                    settings,
                    &route,
                    exchange,
                    response::record::<DomainStatsAnswer>,
                )?;
                exchange.warn(warnings);
                Ok(DomainPrevalence::of(domain, hours, sent))
            },
        )
    }

    /// How many machines of the organisation saw `ip` in the window.
    pub fn ip_stats(
        &mut self,
        settings: &Settings,
        ip: &str,
        look_back_hours: Option<u32>,
        host: &mut impl Host,
    ) -> Result<IpPrevalence, Error> {
        self.exchange(
            settings,
            permissions::Lookup::IpStats,
            host,
            |connector, exchange| {
                let ip = indicator::ip(ip)?;
                let hours = indicator::look_back_hours(look_back_hours)?;
                let route = routes::ip_stats(&ip, hours);
                let (sent, warnings) = connector.get(
                    settings,
                    &route,
                    exchange,
                    response::record::<IpStatsAnswer>,
                )?;
                exchange.warn(warnings);
                Ok(IpPrevalence::of(ip, hours, sent))
            },
        )
    }

    /// Runs one lookup with the secrets it must keep out of what comes back,
    /// scrubbed from its error too.
    fn exchange<H: Host, T>(
        &mut self,
        settings: &Settings,
        kind: permissions::Lookup,
        host: &mut H,
        lookup: impl FnOnce(&mut Self, &mut Exchange<H>) -> Result<T, Error>,
    ) -> Result<T, Error> {
        let mut secrets = Secrets::of(&settings.auth);
        if let Some(kept) = &self.token {
            secrets.add(&kept.access_token);
        }
        let mut exchange = Exchange::new(host, secrets);
        let found = lookup(self, &mut exchange);
        found.map_err(|e| exchange.finish_error(e, kind, settings))
    }

    /// The one authenticated GET every route shares: settings checked, a
    /// token when the settings say so (refreshed once after a `401`), the
    /// answer scrubbed of secrets and then read by `read`. `route.lookup`
    /// names the lookup for what a refusal should say (the roles it needs).
    fn get<H: Host, T>(
        &mut self,
        settings: &Settings,
        route: &Route,
        exchange: &mut Exchange<H>,
        read: impl FnOnce(&Response, &Secrets) -> Result<T, Error>,
    ) -> Result<T, Error> {
        let endpoints = settings.cloud.endpoints().map_err(Error::InvalidSettings)?;
        settings.auth.check().map_err(Error::InvalidSettings)?;
        let mut answer = match &settings.auth {
            Auth::HostManaged => exchange.send(&request::get(&endpoints, &route.path, None))?,
            Auth::BearerToken(token) => {
                exchange.send(&request::get(&endpoints, &route.path, Some(token)))?
            }
            Auth::ClientCredentials(_) | Auth::ClientAssertion(_) => {
                self.get_with_credentials(&endpoints, &settings.auth, &route.path, exchange)?
            }
        };
        exchange.secrets.scrub_bytes(&mut answer.body);
        read(&answer, &exchange.secrets)
    }

    /// The GET with a token, fetching a fresh token once if a kept one is
    /// refused. A token the API refuses is never kept.
    fn get_with_credentials<H: Host>(
        &mut self,
        endpoints: &Endpoints,
        grant: &Auth,
        path: &str,
        exchange: &mut Exchange<H>,
    ) -> Result<Response, Error> {
        let kept = self
            .token
            .as_ref()
            .filter(|t| t.endpoints == *endpoints && t.grant == *grant)
            .map(|t| t.access_token.clone());
        let (token, was_kept) = match kept {
            Some(token) => (token, true),
            None => (self.fetch_token(endpoints, grant, exchange)?, false),
        };
        let answer = exchange.send(&request::get(endpoints, path, Some(&token)))?;
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
        let token = self.fetch_token(endpoints, grant, exchange)?;
        let answer = exchange.send(&request::get(endpoints, path, Some(&token)))?;
        if answer.status == 401 {
            self.token = None;
        }
        Ok(answer)
    }

    /// Drops the kept token, so the next call fetches a fresh one.
    pub(crate) fn forget_token(&mut self) {
        self.token = None;
    }

    /// A new token for `grant` (client credentials or an assertion), kept.
    pub(crate) fn fetch_token<H: Host>(
        &mut self,
        endpoints: &Endpoints,
        grant: &Auth,
        exchange: &mut Exchange<H>,
    ) -> Result<String, Error> {
        let (tenant_id, client_id) = grant
            .application()
            .ok_or_else(|| Error::InvalidSettings("these settings obtain no token".into()))?;
        let request = match grant {
            Auth::ClientCredentials(c) => request::token(
                endpoints,
                tenant_id,
                client_id,
                Proof::Secret(&c.client_secret),
            ),
            _ => {
                let audience = request::token_url(endpoints, tenant_id);
                let assertion = exchange
                    .host
                    .client_assertion(&audience)
                    .map_err(|why| Error::InvalidSettings(format!("no client assertion: {why}")))?;
                exchange.secrets.add(&assertion);
                request::token(
                    endpoints,
                    tenant_id,
                    client_id,
                    Proof::Assertion(&assertion),
                )
            }
        };
        let mut answer = exchange.send(&request)?;
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
            format!("token for client {client_id} acquired"),
        );
        self.token = Some(CachedToken {
            endpoints: endpoints.clone(),
            grant: grant.clone(),
            access_token: token.clone(),
        });
        Ok(token)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::Service;
    use crate::http::Method;
    use crate::settings::{ClientCredentials, Cloud};
    use std::collections::VecDeque;
    // `Query` and `Machine` come from the parent module.

    const SECRET: &str = "client-secret~with+form/chars";
    const TOKEN_URL: &str =
        "https://login.microsoftonline.com/contoso.onmicrosoft.com/oauth2/v2.0/token";
    const MACHINES_URL: &str =
        "https://api.security.microsoft.com/api/domains/contoso.com/machines";

    /// Answers from a queue; records every request and log record.
    #[derive(Default)]
    struct FakeHost {
        answers: VecDeque<Response>,
        requests: Vec<Request>,
        logs: Vec<(Level, String, String)>,
    }

    impl Host for FakeHost {
        fn send(&mut self, request: &Request) -> Result<Response, TransportError> {
            self.requests.push(request.clone());
            self.answers
                .pop_front()
                .ok_or_else(|| TransportError::Other("no answer left".into()))
        }
        fn log(&mut self, level: Level, event: &str, message: &str) {
            self.logs.push((level, event.into(), message.into()));
        }
    }

    impl FakeHost {
        fn answering(answers: impl IntoIterator<Item = Response>) -> Self {
            FakeHost {
                answers: answers.into_iter().collect(),
                ..FakeHost::default()
            }
        }

        /// Each request as its URL and `Authorization` header.
        fn sent(&self) -> Vec<(&str, Option<&str>)> {
            self.requests
                .iter()
                .map(|r| {
                    let auth = r.headers.iter().find(|(n, _)| n == "authorization");
                    (r.url.as_str(), auth.map(|(_, v)| v.as_str()))
                })
                .collect()
        }

        fn everything_said(&self) -> String {
            format!("{:?}", self.logs)
        }
    }

    fn answer(status: u16, body: &str) -> Response {
        Response {
            status,
            headers: Vec::new(),
            body: body.as_bytes().to_vec(),
        }
    }

    fn token(name: &str) -> Response {
        answer(200, &format!(r#"{{"access_token":"{name}"}}"#))
    }

    fn credentials() -> Settings {
        Settings {
            cloud: Cloud::Commercial,
            auth: Auth::ClientCredentials(ClientCredentials {
                tenant_id: "contoso.onmicrosoft.com".into(),
                client_id: "client".into(),
                client_secret: SECRET.into(),
            }),
        }
    }

    const NONE: &str = r#"{"value":[]}"#;

    /// An 80 KB token is refused: never sent, never kept.
    #[test]
    fn a_token_over_the_cap_is_refused_not_sent() {
        let long = "t".repeat(80 * 1024);
        let mut host =
            FakeHost::answering([token(&long), token("token-B-123456"), answer(200, NONE)]);
        let mut connector = Connector::default();
        let e = connector
            .lookup(&credentials(), "contoso.com", &mut host)
            .unwrap_err();
        assert!(
            matches!(&e, Error::InvalidResponse(r) if r.service == Service::IdentityPlatform),
            "{e:?}"
        );
        assert_eq!(host.sent().len(), 1, "only the token request");
        assert!(!format!("{e:?}").contains("tttttttttt"));
        connector
            .lookup(&credentials(), "contoso.com", &mut host)
            .unwrap();
        let sent = host.sent();
        assert_eq!(sent.len(), 3, "a fresh token, then the call");
        assert_eq!(sent[2].1, Some("Bearer token-B-123456"));
    }

    #[test]
    fn a_token_is_fetched_once_and_kept() {
        let mut host = FakeHost::answering([
            token("token-A-123456"),
            answer(200, NONE),
            answer(200, NONE),
        ]);
        let mut connector = Connector::default();
        connector
            .lookup(&credentials(), "contoso.com", &mut host)
            .unwrap();
        connector
            .lookup(&credentials(), "Contoso.COM", &mut host)
            .unwrap();
        assert_eq!(
            host.sent(),
            [
                (TOKEN_URL, None),
                (MACHINES_URL, Some("Bearer token-A-123456")),
                (MACHINES_URL, Some("Bearer token-A-123456")),
            ]
        );
        assert_eq!(host.requests[0].method, Method::Post);
    }

    #[test]
    fn a_refreshed_token_that_is_refused_is_dropped() {
        let refused = || answer(401, r#"{"error":{"code":"Unauthorized","message":"no"}}"#);
        let mut host = FakeHost::answering([
            token("token-A-123456"),
            answer(200, NONE),
            // Call 2: the kept token is refused, so is the fresh one.
            refused(),
            token("token-B-123456"),
            refused(),
            // Call 3 starts with a token request, not with token B.
            token("token-C-123456"),
            answer(200, NONE),
        ]);
        let mut connector = Connector::default();
        connector
            .lookup(&credentials(), "contoso.com", &mut host)
            .unwrap();
        let e = connector
            .lookup(&credentials(), "contoso.com", &mut host)
            .unwrap_err();
        assert!(matches!(e, Error::Unauthorized(_)), "{e:?}");
        connector
            .lookup(&credentials(), "contoso.com", &mut host)
            .unwrap();
        assert_eq!(
            host.sent()[2..],
            [
                (MACHINES_URL, Some("Bearer token-A-123456")),
                (TOKEN_URL, None),
                (MACHINES_URL, Some("Bearer token-B-123456")),
                (TOKEN_URL, None),
                (MACHINES_URL, Some("Bearer token-C-123456")),
            ]
        );
    }

    #[test]
    fn changed_credentials_never_reuse_a_token() {
        let mut host = FakeHost::answering([
            token("token-A-123456"),
            answer(200, NONE),
            token("token-B-123456"),
            answer(200, NONE),
        ]);
        let mut connector = Connector::default();
        connector
            .lookup(&credentials(), "contoso.com", &mut host)
            .unwrap();
        let mut other = credentials();
        if let Auth::ClientCredentials(c) = &mut other.auth {
            c.client_id = "another-client".into();
        }
        connector.lookup(&other, "contoso.com", &mut host).unwrap();
        assert_eq!(host.sent()[2], (TOKEN_URL, None));
    }

    #[test]
    fn a_404_with_an_error_envelope_is_no_machines_and_a_warning() {
        let mut host = FakeHost::answering([answer(
            404,
            r#"{"error":{"code":"ResourceNotFound","message":"Resource not found","target":"c-4"}}"#,
        )]);
        let found = Connector::default()
            .lookup(&Settings::default(), "contoso.com", &mut host)
            .unwrap();
        assert!(found.machines.is_empty());
        let (level, event, message) = host.logs.last().unwrap();
        assert_eq!((*level, event.as_str()), (Level::Warn, "not-found"));
        assert!(
            message.contains("ResourceNotFound: Resource not found"),
            "{message}"
        );
    }

    #[test]
    fn unusable_fields_are_named_in_one_warning_per_machine() {
        let mut host = FakeHost::answering([answer(
            200,
            r#"{"value":[{"id":"m-1","osBuild":"n/a","isAadJoined":7},{"id":"m-2","osBuild":"19045"}]}"#,
        )]);
        let found = Connector::default()
            .lookup(&Settings::default(), "contoso.com", &mut host)
            .unwrap();
        assert_eq!(found.machines[1].os_build, Some(19045));
        let warnings: Vec<_> = host
            .logs
            .iter()
            .filter(|(l, _, _)| *l == Level::Warn)
            .collect();
        assert_eq!(warnings.len(), 1, "{warnings:?}");
        let (_, event, message) = warnings[0];
        assert_eq!(event, "unusable-field");
        assert!(
            message.contains("\"m-1\": osBuild, isAadJoined:"),
            "{message}"
        );
    }

    #[test]
    fn secrets_a_server_reflects_are_scrubbed_everywhere() {
        let form = String::from_utf8(
            request::token(
                &Cloud::Commercial.endpoints().unwrap(),
                "contoso.onmicrosoft.com",
                "client",
                Proof::Secret(SECRET),
            )
            .body
            .unwrap(),
        )
        .unwrap();
        assert!(
            form.contains("client-secret%7Ewith%2Bform%2Fchars"),
            "{form}"
        );
        // The token endpoint echoes the form in its error description.
        let echo = format!(
            r#"{{"error":"invalid_client","error_description":"got: {form}","correlation_id":"{SECRET}"}}"#
        );
        // A 404 whose body starts with the form.
        let not_found = format!("{form} was not found");
        for failure in [answer(401, &echo), answer(404, &not_found)] {
            let mut host = FakeHost::answering([failure]);
            let e = Connector::default()
                .lookup(&credentials(), "contoso.com", &mut host)
                .unwrap_err();
            let said = format!("{e:?} {e} {}", host.everything_said());
            assert!(!said.contains("client-secret"), "{said}");
            assert!(said.contains("client_secret=[redacted]"), "{said}");
        }
        // The API echoes the Authorization header in its envelope, and in a machine.
        let envelope = r#"{"error":{"code":"Forbidden","message":"Authorization: Bearer token-A-123456 is not allowed","target":"x"}}"#;
        let machine = r#"{"value":[{"id":"m","computerDnsName":"Bearer token-A-123456","x":"token\u002DA-123456"}]}"#;
        let mut host = FakeHost::answering([
            token("token-A-123456"),
            answer(403, envelope),
            answer(200, machine),
        ]);
        let mut connector = Connector::default();
        let e = connector
            .lookup(&credentials(), "contoso.com", &mut host)
            .unwrap_err();
        let Error::Forbidden(details) = &e else {
            panic!("{e:?}")
        };
        assert_eq!(
            details.message.as_deref(),
            Some("Authorization: Bearer [redacted] is not allowed")
        );
        // The kept token is a secret of the next call too.
        let found = connector.lookup(&credentials(), "contoso.com", &mut host);
        let found = format!("{found:?}");
        assert!(
            !found.contains("token-A") && !found.contains("u002DA"),
            "{found}"
        );
        assert!(found.contains("Bearer [redacted]"), "{found}");
        assert_eq!(host.requests.len(), 3);
    }

    #[test]
    fn a_bearer_token_the_api_echoes_is_scrubbed() {
        let settings = Settings {
            cloud: Cloud::Commercial,
            auth: Auth::BearerToken("eyJ0eXAiOiJKV1Qi.payload.signature".into()),
        };
        let mut host = FakeHost::answering([answer(
            401,
            r#"{"error":{"code":"Unauthorized","message":"bad token eyJ0eXAiOiJKV1Qi.payload.signature"}}"#,
        )]);
        let e = Connector::default()
            .lookup(&settings, "contoso.com", &mut host)
            .unwrap_err();
        let Error::Unauthorized(details) = e else {
            panic!("{e:?}")
        };
        assert_eq!(details.service, Service::Api);
        assert_eq!(details.message.as_deref(), Some("bad token [redacted]"));
    }

    #[test]
    fn texts_are_scrubbed_as_the_machines_are() {
        let settings = Settings {
            cloud: Cloud::Commercial,
            auth: Auth::BearerToken("eyJ0eXAiOiJKV1Qi.payload.signature".into()),
        };
        // Compact, as the service writes it: only the escape says to look closer.
        let body = concat!(
            r#"{"value":[{"id":"m","computerDnsName":"Bearer eyJ0eXAiOiJKV1Qi.payload.signature","#,
            r#""x":"eyJ0eXAiOiJKV1Qi\u002Epayload.signature","y":"kept\u002E"}]}"#
        );
        let mut host = FakeHost::answering([answer(200, body)]);
        let found = Connector::default()
            .lookup_texts(&settings, "contoso.com", &mut host)
            .unwrap();
        assert_eq!(
            found.machines,
            [
                r#"{"id":"m","computerDnsName":"Bearer [redacted]","x":"[redacted]","y":"kept\u002E"}"#
            ]
        );
    }

    #[test]
    fn bad_settings_send_nothing() {
        for settings in [
            Settings {
                cloud: Cloud::Commercial,
                auth: Auth::BearerToken("Bearer eyJ0eXAiOiJKV1Qi".into()),
            },
            Settings {
                cloud: Cloud::Custom(Endpoints {
                    api_base: "http://api.example.test".into(),
                    login_host: "https://login.example.test".into(),
                    scope: "s".into(),
                }),
                auth: Auth::HostManaged,
            },
            {
                let mut dots = credentials();
                if let Auth::ClientCredentials(c) = &mut dots.auth {
                    c.tenant_id = "..".into();
                }
                dots
            },
        ] {
            let mut host = FakeHost::default();
            let e = Connector::default()
                .lookup(&settings, "contoso.com", &mut host)
                .unwrap_err();
            assert!(matches!(e, Error::InvalidSettings(_)), "{e:?}");
            assert!(host.requests.is_empty());
        }
    }

    #[test]
    fn the_cap_is_reported() {
        let machines: Vec<String> = (0..MACHINE_CAP)
            .map(|i| format!(r#"{{"id":"m{i}"}}"#))
            .collect();
        let body = format!(r#"{{"value":[{}]}}"#, machines.join(","));
        let mut host = FakeHost::answering([answer(200, &body), answer(200, &body)]);
        let found = Connector::default()
            .lookup(&Settings::default(), "contoso.com", &mut host)
            .unwrap();
        assert!(found.cap_reached);
        // And as texts, each the machine as sent.
        let texts = Connector::default()
            .lookup_texts(&Settings::default(), "contoso.com", &mut host)
            .unwrap();
        assert!(texts.cap_reached);
        assert_eq!(texts.machines, machines);
        let warned = host
            .logs
            .iter()
            .filter(|(l, e, _)| *l == Level::Warn && e == "result-cap-reached");
        assert_eq!(warned.count(), 2);
    }

    /// Issue 25: every route goes through the one authenticated GET.
    #[test]
    fn every_route_shares_the_kept_token_and_its_refresh() {
        let refused = || answer(401, r#"{"error":{"code":"Unauthorized","message":"no"}}"#);
        let mut host = FakeHost::answering([
            token("token-A-123456"),
            answer(200, r#"{"host":"contoso.com","orgPrevalence":"3"}"#),
            // The kept token is refused on another route: one fresh token.
            refused(),
            token("token-B-123456"),
            answer(200, NONE),
            answer(
                200,
                r#"{"ipAddress":"10.1.2.3","organizationPrevalence":1}"#,
            ),
        ]);
        let mut connector = Connector::default();
        let stats = connector
            .domain_stats(&credentials(), "contoso.com", Some(24), &mut host)
            .unwrap();
        assert_eq!(stats.organization_prevalence, Some(3));
        let query = Query::User("user1".into());
        let found = connector
            .query_as::<Machine>(&credentials(), &query, &mut host)
            .unwrap();
        assert!(found.machines.is_empty());
        connector
            .ip_stats(&credentials(), "10.1.2.3", None, &mut host)
            .unwrap();
        let api = "https://api.security.microsoft.com/api";
        assert_eq!(
            host.sent()[1..],
            [
                (
                    format!("{api}/domains/contoso.com/stats?lookBackHours=24").as_str(),
                    Some("Bearer token-A-123456")
                ),
                (
                    format!("{api}/users/user1/machines").as_str(),
                    Some("Bearer token-A-123456")
                ),
                (TOKEN_URL, None),
                (
                    format!("{api}/users/user1/machines").as_str(),
                    Some("Bearer token-B-123456")
                ),
                (
                    format!("{api}/ips/10.1.2.3/stats").as_str(),
                    Some("Bearer token-B-123456")
                ),
            ]
        );
    }

    #[test]
    fn a_refused_input_sends_nothing_not_even_for_a_token() {
        let mut host = FakeHost::default();
        let mut connector = Connector::default();
        for query in [
            Query::File("d41d8cd98f00b204e9800998ecf8427e".into()),
            Query::User("user1@contoso.com".into()),
            Query::Ip {
                ip: "10.0.0.0/8".into(),
                at: "2024-09-22T08:00:00Z".into(),
            },
            Query::Machine("../x".into()),
        ] {
            let e = connector
                .query_as::<String>(&credentials(), &query, &mut host)
                .unwrap_err();
            assert!(e.is_invalid_input(), "{e:?}");
        }
        let e = connector
            .ip_stats(&credentials(), "10.1.2.3", Some(0), &mut host)
            .unwrap_err();
        assert_eq!(e.kind(), "invalid-look-back");
        assert!(host.requests.is_empty());
    }

    #[test]
    fn the_cap_and_secrets_are_handled_on_every_route() {
        let machines: Vec<String> = (0..MACHINE_CAP)
            .map(|i| format!(r#"{{"id":"m{i}"}}"#))
            .collect();
        let body = format!(r#"{{"value":[{}]}}"#, machines.join(","));
        let echo = format!(r#"{{"ipAddress":"10.1.2.3","note":"{SECRET}"}}"#);
        let mut host = FakeHost::answering([
            token("token-A-123456"),
            answer(200, &body),
            answer(200, &echo),
        ]);
        let mut connector = Connector::default();
        let found = connector
            .query_as::<Machine>(&credentials(), &Query::File("A".repeat(40)), &mut host)
            .unwrap();
        assert!(found.cap_reached);
        assert_eq!(found.query, Query::File("a".repeat(40)));
        let warned = host.logs.iter().any(|(l, e, m)| {
            *l == Level::Warn && e == "result-cap-reached" && m.starts_with("file aaaa")
        });
        assert!(warned, "{:?}", host.logs);
        let stats = connector
            .ip_stats(&credentials(), "10.1.2.3", None, &mut host)
            .unwrap();
        let kept = stats.unmodelled.unwrap();
        assert!(
            kept.contains("[redacted]") && !kept.contains(SECRET),
            "{kept}"
        );
    }
}
