//! Error answers: each status as its error case, with the service's own words.

use super::invalid::excerpt;
use crate::error::{Error, InvalidResponse, RetryLater, Service, ServiceError};
use crate::http::Response;
use serde::Deserialize;

/// Maps a status other than success to its error case.
pub(super) fn error_answer(service: Service, response: &Response) -> Error {
    let details = service_error(service, response);
    match (response.status, service) {
        (401, _) | (400, Service::IdentityPlatform) => Error::Unauthorized(details),
        (403, _) => Error::Forbidden(details),
        (429, _) => Error::RateLimited(retry_later(response, details)),
        (500..=599, _) => Error::ServiceUnavailable(retry_later(response, details)),
        (400..=499, _) if details.code.is_some() => Error::ApiError(details),
        (status, _) => Error::InvalidResponse(InvalidResponse {
            service,
            status,
            reason: if (400..=499).contains(&status) {
                "an error answer without the service's error envelope".into()
            } else {
                format!("unexpected status {status}")
            },
            excerpt: excerpt(&response.body),
        }),
    }
}

fn retry_later(response: &Response, details: ServiceError) -> RetryLater {
    RetryLater {
        retry_after_seconds: response.header("retry-after").and_then(retry_after_seconds),
        details,
    }
}

/// The service's own words about an error, from whichever envelope it used:
/// the API's `{"error": {"code", "message", "target"}}` or the identity
/// platform's `{"error", "error_description", "correlation_id"}`.
pub(super) fn service_error(service: Service, response: &Response) -> ServiceError {
    /// `{"error": {"code": ..., "message": ..., "target": ...}}`
    #[derive(Deserialize)]
    struct ApiEnvelope {
        error: ApiDetails,
    }
    #[derive(Deserialize)]
    struct ApiDetails {
        code: Option<String>,
        message: Option<String>,
        target: Option<String>,
    }
    /// `{"error": ..., "error_description": ..., "correlation_id": ...}`
    #[derive(Deserialize)]
    struct IdentityEnvelope {
        error: String,
        error_description: Option<String>,
        correlation_id: Option<String>,
    }
    let text = std::str::from_utf8(&response.body).unwrap_or_default();
    let (code, message, correlation_id) = if let Ok(api) = serde_json::from_str::<ApiEnvelope>(text)
    {
        (api.error.code, api.error.message, api.error.target)
    } else if let Ok(id) = serde_json::from_str::<IdentityEnvelope>(text) {
        (Some(id.error), id.error_description, id.correlation_id)
    } else {
        (None, None, None)
    };
    ServiceError {
        service,
        status: response.status,
        code,
        message,
        correlation_id,
        hint: None,
    }
}

/// The longest `Retry-After` passed on, in seconds: a day. A longer one
/// (`99999999999999999999999`) says nothing more useful and would reach
/// headers and JSON as an absurd number.
pub const MAX_RETRY_AFTER: u64 = 86_400;

/// `Retry-After` in seconds, at most [`MAX_RETRY_AFTER`]. The HTTP-date form
/// is not understood here: the component has no clock.
pub fn retry_after_seconds(value: &str) -> Option<u64> {
    let digits = value.trim();
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    Some(
        digits
            .parse()
            .map_or(MAX_RETRY_AFTER, |s: u64| s.min(MAX_RETRY_AFTER)),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::response::tests::answer;

    #[test]
    fn retry_after_is_clamped_to_a_day() {
        for (sent, read) in [
            ("9", Some(9)),
            (" 0086400 ", Some(86_400)),
            ("86401", Some(86_400)),
            ("18446744073709551615", Some(86_400)),
            ("99999999999999999999999", Some(86_400)),
            ("-1", None),
            ("Wed, 21 Oct 2015 07:28:00 GMT", None),
        ] {
            assert_eq!(retry_after_seconds(sent), read, "{sent}");
        }
    }

    #[test]
    fn reads_both_error_envelopes() {
        let api = error_answer(
            Service::Api,
            &answer(
                400,
                r#"{"error":{"code":"InvalidDomainName","message":"m","target":"t"}}"#,
            ),
        );
        let Error::ApiError(d) = api else {
            panic!("{api:?}")
        };
        assert_eq!(
            (
                d.code.as_deref(),
                d.message.as_deref(),
                d.correlation_id.as_deref()
            ),
            (Some("InvalidDomainName"), Some("m"), Some("t"))
        );
        let grant = error_answer(
            Service::IdentityPlatform,
            &answer(
                400,
                r#"{"error":"invalid_scope","error_description":"AADSTS70011","correlation_id":"c"}"#,
            ),
        );
        let Error::Unauthorized(d) = grant else {
            panic!("{grant:?}")
        };
        assert_eq!(
            (
                d.code.as_deref(),
                d.message.as_deref(),
                d.correlation_id.as_deref()
            ),
            (Some("invalid_scope"), Some("AADSTS70011"), Some("c"))
        );
    }

    #[test]
    fn a_rate_limit_reads_retry_after_in_any_case() {
        let e = error_answer(Service::Api, &answer(429, ""));
        let Error::RateLimited(limit) = e else {
            panic!("{e:?}")
        };
        assert_eq!(limit.retry_after_seconds, Some(9));
    }

    #[test]
    fn retry_after_is_kept_on_a_5xx_too() {
        let e = error_answer(Service::Api, &answer(503, ""));
        let Error::ServiceUnavailable(later) = e else {
            panic!("{e:?}")
        };
        assert_eq!(later.retry_after_seconds, Some(9));
    }
}
