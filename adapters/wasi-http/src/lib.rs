//! The connector's `mde:connector/http` interface, exported on top of
//! `wasi:http/outgoing-handler`.
//!
//! Composed with the connector (`wac plug`), it turns the connector into a
//! component whose only network import is `wasi:http`, which wasmtime serve,
//! Spin, wasmCloud and other wasi:http platforms provide. It adds no policy of
//! its own: egress rules, timeouts and size caps are the platform's, and its
//! refusals come back as the connector's `transport-error` cases. It never
//! panics on what the platform answers.

wit_bindgen::generate!({ world: "adapter", path: "wit", generate_all });

#[cfg(target_arch = "wasm32")]
mod guest;

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
