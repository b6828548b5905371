//! Reading the service's answers: machines, tokens, and every kind of error.

use crate::error::{Error, InvalidResponse, RateLimit, Service, ServiceError};
use crate::http::Response;
use crate::machine::Machine;
use serde::Deserialize;

/// The most machines an answer may list: ten times the service's cap, so a
/// larger cap from Microsoft still passes, while an absurd answer is refused
/// before it exhausts the instance's memory.
pub const MAX_MACHINES: usize = 5_000;

/// The largest body the component parses. A full 500-machine answer is
/// about 1 MiB; parsing takes about as much memory again as the body.
pub const MAX_BODY_BYTES: usize = 16 * 1024 * 1024;

/// `value`, read element by element up to [`MAX_MACHINES`].
struct Bounded(Vec<Machine>);

impl<'de> Deserialize<'de> for Bounded {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Elements;
        impl<'de> serde::de::Visitor<'de> for Elements {
            type Value = Bounded;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("an array of machines")
            }
            fn visit_seq<A: serde::de::SeqAccess<'de>>(
                self,
                mut seq: A,
            ) -> Result<Bounded, A::Error> {
                let mut machines = Vec::new();
                while let Some(machine) = seq.next_element()? {
                    if machines.len() == MAX_MACHINES {
                        return Err(serde::de::Error::custom(format_args!(
                            "more than {MAX_MACHINES} machines in one answer"
                        )));
                    }
                    machines.push(machine);
                }
                Ok(Bounded(machines))
            }
        }
        d.deserialize_seq(Elements)
    }
}

/// How much of a body an error may quote.
const EXCERPT_CHARS: usize = 200;
/// How much of a parser's message a reason may quote.
const REASON_CHARS: usize = 300;

/// The answer to `GET /api/domains/{domain}/machines`.
pub fn machines(response: &Response) -> Result<Vec<Machine>, Error> {
    match response.status {
        200 => {}
        // Older revisions of the service answered an unknown domain with 404.
        404 => return Ok(Vec::new()),
        _ => return Err(error_answer(Service::Api, response)),
    }
    #[derive(Deserialize)]
    struct Collection {
        value: Option<Bounded>,
    }
    if response.body.len() > MAX_BODY_BYTES {
        let reason = format!(
            "the body is {} bytes; no answer of the service is larger than {MAX_BODY_BYTES}",
            response.body.len()
        );
        return Err(invalid(Service::Api, response, reason));
    }
    // A clearer reason than the parser's for a body that is not text at all.
    if let Err(e) = std::str::from_utf8(&response.body) {
        let reason = format!("the body is not UTF-8 (at byte {})", e.valid_up_to());
        return Err(invalid(Service::Api, response, reason));
    }
    match serde_json::from_slice::<Collection>(&response.body) {
        Ok(Collection {
            value: Some(Bounded(machines)),
        }) => Ok(machines),
        Ok(Collection { value: None }) => Err(invalid(
            Service::Api,
            response,
            "the collection has no \"value\" array".into(),
        )),
        Err(e) => Err(invalid(
            Service::Api,
            response,
            json_reason(&response.body, &e),
        )),
    }
}

/// A token from the identity platform, or why there is none.
pub fn access_token(response: &Response) -> Result<String, Error> {
    if response.status != 200 {
        return Err(error_answer(Service::IdentityPlatform, response));
    }
    #[derive(Deserialize)]
    struct Token {
        access_token: String,
    }
    // A token answer is never quoted: whatever it holds may be a credential.
    let withheld = |reason: String| {
        Error::InvalidResponse(InvalidResponse {
            service: Service::IdentityPlatform,
            status: response.status,
            reason,
            excerpt: "[token answer withheld]".into(),
        })
    };
    let token = serde_json::from_slice::<Token>(&response.body)
        .map_err(|e| withheld(format!("not a token answer ({})", json_category(&e))))?;
    if token.access_token.is_empty()
        || !token
            .access_token
            .bytes()
            .all(|b| (0x21..=0x7e).contains(&b))
    {
        return Err(withheld("access_token is not a header-safe token".into()));
    }
    Ok(token.access_token)
}

/// Maps a status other than success to its error case.
fn error_answer(service: Service, response: &Response) -> Error {
    let details = service_error(service, response);
    match (response.status, service) {
        (401, _) | (400, Service::IdentityPlatform) => Error::Unauthorized(details),
        (403, _) => Error::Forbidden(details),
        (429, _) => Error::RateLimited(RateLimit {
            retry_after_seconds: response.header("retry-after").and_then(retry_after_seconds),
            details,
        }),
        (500..=599, _) => Error::ServiceUnavailable(details),
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

/// The service's own words about an error, from whichever envelope it used:
/// the API's `{"error": {"code", "message", "target"}}` or the identity
/// platform's `{"error", "error_description", "correlation_id"}`.
fn service_error(service: Service, response: &Response) -> ServiceError {
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
    let (code, message, correlation_id) =
        if let Ok(api) = serde_json::from_slice::<ApiEnvelope>(&response.body) {
            (api.error.code, api.error.message, api.error.target)
        } else if let Ok(id) = serde_json::from_slice::<IdentityEnvelope>(&response.body) {
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
    }
}

/// `Retry-After` in seconds. The HTTP-date form is not understood here: the
/// component has no clock. Huge values saturate; the host caps its waits.
pub fn retry_after_seconds(value: &str) -> Option<u64> {
    let digits = value.trim();
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    Some(digits.parse().unwrap_or(u64::MAX))
}

fn invalid(service: Service, response: &Response, reason: String) -> Error {
    Error::InvalidResponse(InvalidResponse {
        service,
        status: response.status,
        reason,
        excerpt: excerpt(&response.body),
    })
}

fn json_reason(body: &[u8], e: &serde_json::Error) -> String {
    if body.iter().all(u8::is_ascii_whitespace) {
        return "the body is empty".into();
    }
    // serde quotes offending strings whole; keep the reason short.
    let reason: String = e.to_string().chars().take(REASON_CHARS).collect();
    format!("the body is not the expected JSON: {reason}")
}

/// The start of a body, safe to print: lossy UTF-8, control characters
/// escaped, at most [`EXCERPT_CHARS`] characters escapes included.
pub fn excerpt(body: &[u8]) -> String {
    let head = &body[..body.len().min(EXCERPT_CHARS * 4)];
    let mut out = String::new();
    let mut length = 0;
    for c in String::from_utf8_lossy(head).chars() {
        let shown: String = if c.is_control() {
            c.escape_default().collect()
        } else {
            c.into()
        };
        length += shown.chars().count();
        if length > EXCERPT_CHARS {
            break;
        }
        out.push_str(&shown);
    }
    out
}

/// serde's message may quote the offending value: for a token answer, that
/// value could be a credential, so only the class of the fault is reported.
fn json_category(e: &serde_json::Error) -> &'static str {
    match e.classify() {
        serde_json::error::Category::Io => "I/O",
        serde_json::error::Category::Syntax => "invalid JSON",
        serde_json::error::Category::Data => "wrong shape",
        serde_json::error::Category::Eof => "truncated",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answer(status: u16, body: &str) -> Response {
        Response {
            status,
            headers: vec![("Retry-After".into(), "9".into())],
            body: body.as_bytes().to_vec(),
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
    fn a_token_answer_is_never_quoted() {
        let e =
            access_token(&answer(200, r#"{"access_token": 42, "secret": "CANARY"}"#)).unwrap_err();
        assert!(!format!("{e:?}").contains("CANARY"));
        let e = access_token(&answer(200, r#"{"access_token": "CANARY token"}"#)).unwrap_err();
        assert!(!format!("{e:?}").contains("CANARY"));
        assert_eq!(
            access_token(&answer(
                200,
                r#"{"token_type":"Bearer","access_token":"abc"}"#
            ))
            .unwrap(),
            "abc"
        );
    }

    #[test]
    fn excerpts_are_short_and_escaped() {
        let long = "x".repeat(10_000);
        assert_eq!(excerpt(long.as_bytes()).len(), EXCERPT_CHARS);
        assert_eq!(excerpt(b"a\x1b[2Jb\xff"), "a\\u{1b}[2Jb\u{fffd}");
        // Found by the `answer` fuzz target: escapes used to push past the limit.
        let controls = excerpt(&[0; 500]);
        assert_eq!(controls.chars().count(), 200, "{controls}");
        assert!(controls.starts_with("\\u{0}\\u{0}"));
    }

    #[test]
    fn a_long_parser_message_is_cut() {
        // serde quotes the whole wrong-typed string in its message.
        let body = format!(
            r#"{{"value":[{{"id":"a","osBuild":"{}"}}]}}"#,
            "y".repeat(5000)
        );
        let e = machines(&answer(200, &body)).unwrap_err();
        let Error::InvalidResponse(invalid) = e else {
            panic!("{e:?}")
        };
        assert!(invalid.reason.contains("invalid type: string \"yyy"));
        assert!(
            invalid.reason.len() < REASON_CHARS + 100,
            "{}",
            invalid.reason.len()
        );
    }
}
