//! The connector's `mde:connector/http` interface, exported on top of
//! `wasi:http/outgoing-handler`.
//!
//! Composed with the connector (`wac plug`), it turns the connector into a
//! component whose only network import is `wasi:http`, which wasmtime serve,
//! Spin, wasmCloud and other wasi:http platforms provide. Egress rules are
//! the platform's, and its refusals come back as the connector's
//! `transport-error` cases. Two bounds are the adapter's own: an answer body
//! is read as a stream and refused past [`MAX_BODY`], so memory stays bounded
//! whatever the upstream sends; and, built with the `from-environment`
//! feature (the stock-runtime compositions), every request carries
//! `MDE_TIMEOUT` ([`timeout`]) as its connect, first-byte and between-bytes
//! timeouts. It never panics on what the platform answers.

#[cfg(not(feature = "from-environment"))]
wit_bindgen::generate!({ world: "adapter", path: "wit", generate_all });
#[cfg(feature = "from-environment")]
wit_bindgen::generate!({ world: "adapter-from-environment", path: "wit", generate_all });

#[cfg(target_arch = "wasm32")]
mod guest;
pub mod timeout;

use exports::mde::connector::http::TransportError;
use wasi::http::types::ErrorCode;

/// What the platform said, in the connector's terms.
pub fn transport_error(code: &ErrorCode) -> TransportError {
    use ErrorCode as E;
    match code {
        E::HttpRequestDenied | E::DestinationIpProhibited => {
            TransportError::Refused(describe(code))
        }
        E::DnsTimeout
        | E::ConnectionTimeout
        | E::ConnectionReadTimeout
        | E::ConnectionWriteTimeout
        | E::HttpResponseTimeout => TransportError::Timeout,
        E::HttpResponseBodySize(Some(limit)) => TransportError::TooLarge(*limit),
        E::DnsError(_)
        | E::DestinationNotFound
        | E::DestinationUnavailable
        | E::DestinationIpUnroutable
        | E::ConnectionRefused
        | E::ConnectionTerminated
        | E::ConnectionLimitReached
        | E::TlsProtocolError
        | E::TlsCertificateError
        | E::TlsAlertReceived(_)
        | E::HttpResponseIncomplete
        | E::HttpProtocolError => TransportError::Connection(describe(code)),
        _ => TransportError::Other(describe(code)),
    }
}

/// The error code as `wasi:http` names it, with its payload if any.
fn describe(code: &ErrorCode) -> String {
    use ErrorCode as E;
    let (name, detail) = match code {
        E::DnsTimeout => ("DNS-timeout", None),
        E::DnsError(p) => (
            "DNS-error",
            Some(format!(
                "rcode {}, info code {}",
                p.rcode.as_deref().unwrap_or("none"),
                p.info_code.map_or("none".into(), |c| c.to_string())
            )),
        ),
        E::DestinationNotFound => ("destination-not-found", None),
        E::DestinationUnavailable => ("destination-unavailable", None),
        E::DestinationIpProhibited => ("destination-IP-prohibited", None),
        E::DestinationIpUnroutable => ("destination-IP-unroutable", None),
        E::ConnectionRefused => ("connection-refused", None),
        E::ConnectionTerminated => ("connection-terminated", None),
        E::ConnectionLimitReached => ("connection-limit-reached", None),
        E::TlsProtocolError => ("TLS-protocol-error", None),
        E::TlsCertificateError => ("TLS-certificate-error", None),
        E::TlsAlertReceived(p) => ("TLS-alert-received", p.alert_message.clone()),
        E::HttpRequestDenied => ("HTTP-request-denied", None),
        E::HttpResponseIncomplete => ("HTTP-response-incomplete", None),
        E::HttpResponseBodySize(_) => ("HTTP-response-body-size", None),
        E::HttpProtocolError => ("HTTP-protocol-error", None),
        E::InternalError(p) => ("internal-error", p.clone()),
        other => return format!("{other:?}"),
    };
    match detail {
        Some(detail) => format!("{name}: {detail}"),
        None => name.to_owned(),
    }
}

/// The largest answer body taken, in bytes: 32 MiB, the Rust host's cap
/// (`host::gateway::MAX_BODY`, which a host-test test holds this to). Past
/// it the answer is the connector's `too-large`.
pub const MAX_BODY: u64 = 32 * 1024 * 1024;

/// An answer body read a chunk at a time, refused as soon as it passes `cap`
/// bytes: it never holds more.
#[derive(Debug)]
pub struct CappedBody {
    bytes: Vec<u8>,
    cap: u64,
}

impl CappedBody {
    /// Refuses at once a body whose `Content-Length` (any of `headers`, as
    /// names and values) says it is larger than `cap`; otherwise reserves
    /// room for what it says.
    pub fn new(headers: &[(String, String)], cap: u64) -> Result<Self, TransportError> {
        let declared = headers
            .iter()
            .filter(|(name, _)| name.eq_ignore_ascii_case("content-length"))
            .filter_map(|(_, value)| value.trim().parse::<u64>().ok())
            .max();
        if declared.is_some_and(|length| length > cap) {
            return Err(TransportError::TooLarge(cap));
        }
        let room = declared.unwrap_or(0).min(cap);
        Ok(CappedBody {
            bytes: Vec::with_capacity(usize::try_from(room).unwrap_or(0)),
            cap,
        })
    }

    /// Adds `chunk`, or refuses the body if it would pass the cap.
    pub fn push(&mut self, chunk: &[u8]) -> Result<(), TransportError> {
        let length = self.bytes.len() as u64 + chunk.len() as u64;
        if length > self.cap {
            return Err(TransportError::TooLarge(self.cap));
        }
        self.bytes.extend_from_slice(chunk);
        Ok(())
    }

    pub fn into_bytes(self) -> Vec<u8> {
        self.bytes
    }
}

/// The parts of an absolute `http` or `https` URL that `wasi:http` sets one by one.
#[derive(Debug, PartialEq, Eq)]
pub struct Url<'a> {
    pub https: bool,
    pub authority: &'a str,
    pub path_with_query: &'a str,
}

/// Splits `https://host[:port]/path?query`. The connector only builds such
/// URLs; anything else is refused with the reason rather than guessed at.
pub fn split_url(url: &str) -> Result<Url<'_>, String> {
    let (https, rest) = if let Some(rest) = url.strip_prefix("https://") {
        (true, rest)
    } else if let Some(rest) = url.strip_prefix("http://") {
        (false, rest)
    } else {
        return Err(format!("not an http or https URL: {url}"));
    };
    let end = rest.find(['/', '?']).unwrap_or(rest.len());
    let (authority, path) = rest.split_at(end);
    if authority.is_empty() {
        return Err(format!("no host in URL: {url}"));
    }
    if path.contains('#') {
        return Err(format!("fragment in URL: {url}"));
    }
    Ok(Url {
        https,
        authority,
        path_with_query: if path.is_empty() { "/" } else { path },
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use wasi::http::types::{DnsErrorPayload, TlsAlertReceivedPayload};

    #[test]
    fn splits_the_urls_the_connector_builds() {
        assert_eq!(
            split_url("https://api.security.microsoft.com/api/domains/contoso.com/machines"),
            Ok(Url {
                https: true,
                authority: "api.security.microsoft.com",
                path_with_query: "/api/domains/contoso.com/machines",
            })
        );
        assert_eq!(
            split_url("http://127.0.0.1:8080/x/oauth2/v2.0/token?a=b"),
            Ok(Url {
                https: false,
                authority: "127.0.0.1:8080",
                path_with_query: "/x/oauth2/v2.0/token?a=b",
            })
        );
        assert_eq!(
            split_url("https://host.example").unwrap().path_with_query,
            "/"
        );
        assert_eq!(
            split_url("https://host.example?q=1")
                .unwrap()
                .path_with_query,
            "?q=1"
        );
    }

    fn too_large(result: Result<(), TransportError>) -> bool {
        matches!(result, Err(TransportError::TooLarge(16)))
    }

    #[test]
    fn a_body_is_refused_once_it_passes_the_cap() {
        let mut body = CappedBody::new(&[], 16).unwrap();
        body.push(b"0123456789").unwrap();
        body.push(b"abcdef").unwrap();
        assert!(too_large(body.push(b"!")), "17 bytes");
        assert_eq!(body.into_bytes(), b"0123456789abcdef", "the cap, no more");
        let mut body = CappedBody::new(&[], 16).unwrap();
        assert!(too_large(body.push(&[0; 17])));
        assert!(body.into_bytes().is_empty());
    }

    #[test]
    fn a_declared_length_past_the_cap_is_refused_before_reading() {
        let headers = |length: &str| vec![("Content-Length".to_owned(), length.to_owned())];
        assert!(matches!(
            CappedBody::new(&headers("17"), 16),
            Err(TransportError::TooLarge(16))
        ));
        assert!(
            CappedBody::new(&headers("99999999999999999999999"), 16).is_ok(),
            "not a u64: the stream's own length decides"
        );
        let mut body = CappedBody::new(&headers(" 16 "), 16).unwrap();
        body.push(&[1; 16]).unwrap();
        // A length that lies is no licence to send more.
        let mut body = CappedBody::new(&headers("1"), 16).unwrap();
        assert!(too_large(body.push(&[1; 17])));
    }

    #[test]
    fn the_timeout_is_whole_seconds_from_one_to_an_hour() {
        use timeout::*;
        assert_eq!(timeout_seconds(None), Ok(DEFAULT_TIMEOUT_SECONDS));
        assert_eq!(timeout_seconds(Some("")), Ok(DEFAULT_TIMEOUT_SECONDS));
        assert_eq!(timeout_seconds(Some("1")), Ok(1));
        assert_eq!(timeout_seconds(Some("3600")), Ok(3600));
        for bad in ["0", "3601", "-1", "+5", "1.5", "5s", " 5", "x"] {
            assert_eq!(
                timeout_seconds(Some(bad)),
                Err(format!(
                    "MDE_TIMEOUT {bad:?} is not a timeout: expected whole seconds from 1 to 3600 (default 30)"
                )),
                "{bad}"
            );
        }
    }

    #[test]
    fn refuses_other_urls() {
        for url in ["ftp://host/x", "host/x", "https:///x", "https://h/x#f", ""] {
            assert!(split_url(url).is_err(), "{url}");
        }
    }

    #[test]
    fn maps_platform_errors_to_transport_errors() {
        use ErrorCode as E;
        let cases = [
            (
                E::HttpRequestDenied,
                TransportError::Refused("HTTP-request-denied".into()),
            ),
            (
                E::DestinationIpProhibited,
                TransportError::Refused("destination-IP-prohibited".into()),
            ),
            (E::DnsTimeout, TransportError::Timeout),
            (E::ConnectionTimeout, TransportError::Timeout),
            (E::ConnectionReadTimeout, TransportError::Timeout),
            (E::ConnectionWriteTimeout, TransportError::Timeout),
            (E::HttpResponseTimeout, TransportError::Timeout),
            (
                E::HttpResponseBodySize(Some(1024)),
                TransportError::TooLarge(1024),
            ),
            (
                E::HttpResponseBodySize(None),
                TransportError::Other("HTTP-response-body-size".into()),
            ),
            (
                E::ConnectionRefused,
                TransportError::Connection("connection-refused".into()),
            ),
            (
                E::DnsError(DnsErrorPayload {
                    rcode: Some("NXDOMAIN".into()),
                    info_code: None,
                }),
                TransportError::Connection("DNS-error: rcode NXDOMAIN, info code none".into()),
            ),
            (
                E::TlsAlertReceived(TlsAlertReceivedPayload {
                    alert_id: Some(42),
                    alert_message: Some("bad certificate".into()),
                }),
                TransportError::Connection("TLS-alert-received: bad certificate".into()),
            ),
            (
                E::TlsCertificateError,
                TransportError::Connection("TLS-certificate-error".into()),
            ),
            (
                E::HttpProtocolError,
                TransportError::Connection("HTTP-protocol-error".into()),
            ),
            (
                E::InternalError(Some("boom".into())),
                TransportError::Other("internal-error: boom".into()),
            ),
            (
                E::ConfigurationError,
                TransportError::Other("ErrorCode::ConfigurationError".into()),
            ),
        ];
        for (code, expected) in cases {
            assert_eq!(
                format!("{:?}", transport_error(&code)),
                format!("{expected:?}"),
                "{code:?}"
            );
        }
    }
}
