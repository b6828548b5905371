//! What the proxy (`adapters/proxy`) and the command (`adapters/command`)
//! share: one lookup through the composed connector, printed in a format.
//!
//! The bindings here import what the `router` world in `adapters/wit` names:
//! the connector's `lookup` and `events`, the settings' `problem` and
//! `redact`, and the wall clock. They are linked into each router's core
//! module, whose own world adds its exports. A router works against
//! [`Imports`], so its logic is tested natively with a fake.

mod bindings {
    wit_bindgen::generate!({ world: "router", path: "../wit", generate_all });
}

pub mod cache;
#[cfg(target_arch = "wasm32")]
mod composed;
pub mod query;
#[cfg(target_arch = "wasm32")]
pub use composed::Composed;

use bindings::mde::connector::types as wit;
use cache::{Hit, ResultCache};
use mde_connector::error::Error;
use mde_connector::output;
use query::Query;
use std::time::Duration;

/// How machines are printed: the core's formats (the table for the command only).
pub use mde_connector::output::Format;

/// A lookup, printed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Output {
    pub body: Vec<u8>,
    /// The answer held 500 machines, the service's cap: there may be more.
    pub cap_reached: bool,
    /// How old the answer is when a cache served it (the `age` header);
    /// `None` when the service was asked just now (`x-mde-cache: miss`).
    pub cached_age: Option<Duration>,
}

/// Why a lookup printed nothing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Failure {
    /// The connector's error, or the environment's settings problem as
    /// `invalid-settings`.
    Lookup(Error),
    /// The events could not be written (an observation time after 9999).
    Events(String),
    /// `machine`: the service has no machine by that id or name (its `404`,
    /// an answer like any other: kept in the cache, so `cached_age` as for
    /// [`Output`]).
    NoMachine {
        id: String,
        cached_age: Option<Duration>,
    },
}

/// What a router needs from the composition: the imports in a component
/// ([`Composed`]), a fake in tests.
pub trait Imports {
    /// Why the environment's settings are unusable, if they are.
    fn settings_problem(&self) -> Option<String>;
    /// One lookup (a single API call), printed in `format`.
    fn look_up(&self, query: &Query, format: Format) -> Result<Output, Failure>;
    /// `text` without the environment's secrets.
    fn redact(&self, text: &str) -> String;
}

/// The connector's texts (machines' JSON or events) as `format` prints them:
/// the CLI's writers, so both print the same bytes.
pub fn render(format: Format, texts: &[String]) -> Result<Vec<u8>, Failure> {
    let mut body = Vec::new();
    match format {
        Format::Table => output::write_table(&mut body, texts),
        Format::Json => output::write_array(&mut body, texts),
        Format::Ndjson | Format::Ocsf | Format::Ecs => output::write_lines(&mut body, texts),
    }
    .map_err(|e| Failure::Events(format!("the machines could not be printed: {e}")))?;
    Ok(body)
}

/// The answer for `key` from `cache` when it holds a fresh one, with its age;
/// else `look_up`'s, kept when it is an answer (with machines or none) and
/// never when it is an error. A `key` of `None` (a domain the connector
/// refuses) is always looked up.
pub fn through_cache<V: Clone, E>(
    cache: &mut ResultCache<V>,
    key: Option<String>,
    now: Duration,
    look_up: impl FnOnce() -> Result<V, E>,
) -> Result<(V, Option<Duration>), E> {
    if let Some(Hit { value, age }) = key.as_ref().and_then(|key| cache.get(key, now)) {
        return Ok((value, Some(age)));
    }
    let value = look_up()?;
    if let Some(key) = key {
        cache.insert(key, value.clone(), now);
    }
    Ok((value, None))
}

/// Milliseconds since the Unix epoch, from a wall-clock reading.
pub fn epoch_ms(seconds: u64, nanoseconds: u32) -> u64 {
    seconds
        .saturating_mul(1000)
        .saturating_add(u64::from(nanoseconds / 1_000_000))
}

// The connector's error as the core has it, by the core's one conversion.
mde_connector::error_from_wit!(bindings::mde::connector::types);

/// The connector's error as the core has it: its kind and its message.
pub fn error(e: wit::Error) -> Error {
    e.into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_by_their_cli_names() {
        for (name, format) in [
            ("table", Format::Table),
            ("json", Format::Json),
            ("ndjson", Format::Ndjson),
            ("ocsf", Format::Ocsf),
            ("ecs", Format::Ecs),
        ] {
            assert_eq!(Format::named(name), Some(format));
        }
        assert_eq!(Format::named("JSON"), None);
        assert_eq!(Format::named("csv"), None);
    }

    #[test]
    fn renders_as_the_cli_writes() {
        let texts = vec![r#"{"id":"a","computerDnsName":"h"}"#.to_owned()];
        assert_eq!(
            render(Format::Json, &texts).unwrap(),
            b"[\n{\"id\":\"a\",\"computerDnsName\":\"h\"}\n]\n"
        );
        assert_eq!(render(Format::Json, &[]).unwrap(), b"[]\n");
        for format in [Format::Ndjson, Format::Ocsf, Format::Ecs] {
            assert_eq!(
                render(format, &texts).unwrap(),
                b"{\"id\":\"a\",\"computerDnsName\":\"h\"}\n"
            );
        }
        let table = String::from_utf8(render(Format::Table, &texts).unwrap()).unwrap();
        assert!(table.starts_with("ID  NAME  PLATFORM"), "{table}");
        assert!(table.ends_with("1 machine(s)\n"), "{table}");
        assert!(matches!(
            render(Format::Table, &["not json".to_owned()]),
            Err(Failure::Events(_))
        ));
    }

    #[test]
    fn the_cache_serves_answers_and_never_errors() {
        let mut cache = ResultCache::new(Duration::from_secs(60), 10);
        let calls = std::cell::Cell::new(0);
        let mut look_up =
            |key: Option<&str>, at: u64, answer: Result<&'static str, &'static str>| {
                through_cache(
                    &mut cache,
                    key.map(str::to_owned),
                    Duration::from_secs(at),
                    || {
                        calls.set(calls.get() + 1);
                        answer
                    },
                )
            };
        assert_eq!(look_up(Some("a"), 100, Ok("A")), Ok(("A", None)));
        assert_eq!(
            look_up(Some("a"), 107, Ok("other")),
            Ok(("A", Some(Duration::from_secs(7))))
        );
        // An answer with nothing in it is an answer.
        assert_eq!(look_up(Some("empty"), 100, Ok("")), Ok(("", None)));
        assert_eq!(look_up(Some("empty"), 101, Ok("x")).unwrap().0, "");
        // An error is passed on and not kept: the next lookup asks again.
        assert_eq!(look_up(Some("e"), 100, Err("down")), Err("down"));
        assert_eq!(look_up(Some("e"), 101, Ok("E")), Ok(("E", None)));
        // No key: always asked.
        assert_eq!(look_up(None, 100, Ok("n")), Ok(("n", None)));
        assert_eq!(look_up(None, 100, Ok("n")), Ok(("n", None)));
        // Stale: asked again.
        assert_eq!(look_up(Some("a"), 160, Ok("A2")), Ok(("A2", None)));
        assert_eq!(calls.get(), 7);
    }

    #[test]
    fn wall_clock_to_milliseconds() {
        assert_eq!(epoch_ms(1_700_000_000, 999_999_999), 1_700_000_000_999);
        assert_eq!(epoch_ms(u64::MAX, 0), u64::MAX);
    }

    #[test]
    fn errors_keep_their_kind_and_details() {
        let details = wit::ServiceError {
            service: wit::Service::IdentityPlatform,
            status: 401,
            code: Some("invalid_client".into()),
            message: Some("AADSTS7000215: bad secret".into()),
            correlation_id: Some("c0".into()),
            hint: None,
        };
        let e = error(wit::Error::Unauthorized(details.clone()));
        assert_eq!(
            e.to_string(),
            "unauthorized: identity platform answered 401 invalid_client: AADSTS7000215: bad secret (correlation id c0)"
        );
        let limited = error(wit::Error::RateLimited(wit::RetryLater {
            retry_after_seconds: Some(7),
            details: wit::ServiceError {
                service: wit::Service::Api,
                status: 429,
                ..details
            },
        }));
        assert_eq!(limited.kind(), "rate-limited");
        assert!(limited.to_string().ends_with("; retry after 7 s"));
        assert_eq!(
            error(wit::Error::Transport(wit::TransportError::Timeout)),
            Error::Transport(mde_connector::http::TransportError::Timeout)
        );
        assert_eq!(
            error(wit::Error::InvalidResponse(wit::InvalidResponse {
                service: wit::Service::Api,
                status: 200,
                reason: "r".into(),
                excerpt: "e".into(),
            }))
            .kind(),
            "invalid-response"
        );
    }
}
