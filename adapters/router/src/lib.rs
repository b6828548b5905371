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
#[cfg(target_arch = "wasm32")]
pub use composed::Composed;

use bindings::mde::connector::types as wit;
use mde_connector::error::Error;
use mde_connector::output;

/// How machines are printed: the core's formats (the table for the command only).
pub use mde_connector::output::Format;

/// A lookup, printed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Output {
    pub body: Vec<u8>,
    /// The answer held 500 machines, the service's cap: there may be more.
    pub cap_reached: bool,
}

/// Why a lookup printed nothing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Failure {
    /// The connector's error, or the environment's settings problem as
    /// `invalid-settings`.
    Lookup(Error),
    /// The events could not be written (an observation time after 9999).
    Events(String),
}

/// What a router needs from the composition: the imports in a component
/// ([`Composed`]), a fake in tests.
pub trait Imports {
    /// Why the environment's settings are unusable, if they are.
    fn settings_problem(&self) -> Option<String>;
    /// One lookup (a single API call), printed in `format`.
    fn look_up(&self, domain: &str, format: Format) -> Result<Output, Failure>;
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
