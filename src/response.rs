//! Reading the service's answers: machines, tokens, and every kind of error.

use crate::error::{Error, InvalidResponse, RetryLater, Service, ServiceError};
use crate::http::Response;
use crate::lenient::{Reading, Seed, strip_position};
use crate::machine::Machine;
use crate::secrets::Secrets;
use serde::Deserialize;
use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use std::fmt;

/// The most machines an answer may list: ten times the service's cap, so a
/// larger cap from Microsoft still passes, while an absurd answer is refused
/// before it exhausts the instance's memory.
pub const MAX_MACHINES: usize = 5_000;

/// The largest body the component parses. A full 500-machine answer is
/// about 1 MiB.
pub const MAX_BODY_BYTES: usize = 16 * 1024 * 1024;

/// Machines whose unusable fields get a log record of their own; the rest
/// are counted in one more record.
pub const MAX_FIELD_WARNINGS: usize = 100;

/// The machines of an answer, and what a host should hear about it.
#[derive(Debug, Default)]
pub struct Machines {
    pub machines: Vec<Machine>,
    /// `warn` log records: fields kept as sent, a 404 with an error envelope.
    pub warnings: Vec<Warning>,
}

/// A `warn` log record to emit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Warning {
    pub event: &'static str,
    pub message: String,
}

/// How much of a body an error may quote.
const EXCERPT_CHARS: usize = 200;
/// How much of a parser's message a reason may quote.
const REASON_CHARS: usize = 300;

/// The answer to `GET /api/domains/{domain}/machines`. `secrets` have been
/// scrubbed from the body already; they are scrubbed from decoded text too.
pub fn machines(response: &Response, secrets: &Secrets) -> Result<Machines, Error> {
    match response.status {
        200 => {}
        // Older revisions of the service answered an unknown domain with 404.
        404 => return Ok(not_found(response)),
        _ => return Err(error_answer(Service::Api, response)),
    }
    if response.body.len() > MAX_BODY_BYTES {
        let reason = format!(
            "the body is {} bytes; no answer of the service is larger than {MAX_BODY_BYTES}",
            response.body.len()
        );
        return Err(invalid(Service::Api, response, reason));
    }
    // A clearer reason than the parser's for a body that is not text at all.
    let text = match std::str::from_utf8(&response.body) {
        Ok(text) => text,
        Err(e) => {
            let reason = format!("the body is not UTF-8 (at byte {})", e.valid_up_to());
            return Err(invalid(Service::Api, response, reason));
        }
    };
    // Directly when every machine is as modelled (the usual answer, read in
    // one pass); otherwise again, leniently, value by value.
    let mut warnings = Vec::new();
    let found = Reading::directly_then_leniently(secrets, |reading| {
        read_collection(text, reading, &mut warnings)
    });
    match found {
        Ok(Some(machines)) => {
            if warnings.len() > MAX_FIELD_WARNINGS {
                let more = warnings.len() - MAX_FIELD_WARNINGS;
                warnings.truncate(MAX_FIELD_WARNINGS);
                warnings.push(Warning {
                    event: "unusable-field",
                    message: format!(
                        "{more} more machines have fields that could not be used as typed; \
                         kept as sent in unmodelled"
                    ),
                });
            }
            Ok(Machines { machines, warnings })
        }
        Ok(None) => Err(invalid(
            Service::Api,
            response,
            "the collection has no \"value\" array".into(),
        )),
        Err(e) => Err(Error::InvalidResponse(InvalidResponse {
            service: Service::Api,
            status: response.status,
            reason: json_reason(&response.body, &e),
            excerpt: excerpt(&response.body[error_offset(text, &e)..]),
        })),
    }
}

/// Reads `{"value": [...]}`, as `reading` reads (directly or leniently).
fn read_collection(
    text: &str,
    reading: &mut Reading,
    warnings: &mut Vec<Warning>,
) -> Result<Option<Vec<Machine>>, serde_json::Error> {
    let mut parser = serde_json::Deserializer::from_str(text);
    let collection = Collection { reading, warnings };
    let found = collection.deserialize(&mut parser)?;
    parser.end()?;
    Ok(found)
}

/// The machines of a collection's text read in one mode alone: directly
/// (`None` when the answer is not as modelled) or leniently. For the tests
/// and the fuzz target that hold the two modes to one result; hosts call
/// [`machines`].
#[doc(hidden)]
pub fn machines_read_by(text: &str, secrets: &Secrets, lenient: bool) -> Option<Machines> {
    let mut reading = Reading::new(secrets, lenient);
    let mut warnings = Vec::new();
    let machines = read_collection(text, &mut reading, &mut warnings).ok()??;
    Some(Machines { machines, warnings })
}

/// The machines of [`crate::events::machines_json`] texts (a `lookup-texts`
/// answer), read as an answer's machines are: directly, or all again
/// leniently when a value is not as modelled, with one budget of list entries
/// for all. So the events of a `lookup-texts` answer are those of the same
/// `lookup`. The error names the first text that is not a machine's JSON
/// object.
pub fn machines_from_texts(texts: &[String]) -> Result<Vec<Machine>, String> {
    // The texts are the component's own output, scrubbed already.
    let secrets = Secrets::default();
    let read_all = |reading: &mut Reading| -> Result<Vec<Machine>, (usize, serde_json::Error)> {
        let mut machines = Vec::with_capacity(texts.len());
        for (index, text) in texts.iter().enumerate() {
            let mut parser = serde_json::Deserializer::from_str(text);
            let machine = Seed::<Machine>::new(reading)
                .deserialize(&mut parser)
                .and_then(|machine| parser.end().map(|()| machine))
                .map_err(|e| (index, e))?;
            machines.push(machine);
        }
        Ok(machines)
    };
    Reading::directly_then_leniently(&secrets, read_all)
        .map_err(|(index, e)| format!("machine text {index}: {}", strip_position(&e.to_string())))
}

/// A 404: no machines. With the service's error envelope it may also mean a
/// misrouted request (a custom cloud's wrong host): say what the service said.
fn not_found(response: &Response) -> Machines {
    let details = service_error(Service::Api, response);
    let warnings = details
        .code
        .is_some()
        .then(|| Warning {
            event: "not-found",
            message: format!("{details}; taken as no machines for this domain"),
        })
        .into_iter()
        .collect();
    Machines {
        machines: Vec::new(),
        warnings,
    }
}

/// `{"value": [...], ...}`: the machines, or `None` when `value` is absent or null.
struct Collection<'r, 's> {
    reading: &'r mut Reading<'s>,
    warnings: &'r mut Vec<Warning>,
}

impl<'de> DeserializeSeed<'de> for Collection<'_, '_> {
    type Value = Option<Vec<Machine>>;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for Collection<'_, '_> {
    type Value = Option<Vec<Machine>>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a collection of machines")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut value = None;
        while let Some(key) = map.next_key::<crate::lenient::Key>()? {
            if key.0 != "value" {
                map.next_value::<IgnoredAny>()?;
            } else if value.is_some() {
                return Err(de::Error::custom("duplicate field `value`"));
            } else {
                value = Some(map.next_value_seed(Value {
                    reading: &mut *self.reading,
                    warnings: &mut *self.warnings,
                })?);
            }
        }
        Ok(value.flatten())
    }
}

/// `value`: null, or an array of at most [`MAX_MACHINES`] machines.
struct Value<'r, 's> {
    reading: &'r mut Reading<'s>,
    warnings: &'r mut Vec<Warning>,
}

impl<'de> DeserializeSeed<'de> for Value<'_, '_> {
    type Value = Option<Vec<Machine>>;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Value<'_, '_> {
    type Value = Option<Vec<Machine>>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an array of machines")
    }

    fn visit_unit<E>(self) -> Result<Self::Value, E> {
        Ok(None)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        let mut machines: Vec<Machine> = Vec::new();
        loop {
            let index = machines.len();
            let seed = Seed::<Machine>::new(&mut *self.reading);
            let machine = seq.next_element_seed(seed).map_err(|e| {
                de::Error::custom(format_args!(
                    "machine {index}: {}",
                    strip_position(&e.to_string())
                ))
            })?;
            let Some(machine) = machine else {
                return Ok(Some(machines));
            };
            if index == MAX_MACHINES {
                return Err(de::Error::custom(format_args!(
                    "more than {MAX_MACHINES} machines in one answer"
                )));
            }
            let unusable = std::mem::take(&mut self.reading.unusable);
            if !unusable.is_empty() {
                self.warnings.push(unusable_fields(&machine.id, &unusable));
            }
            machines.push(machine);
        }
    }
}

/// One record for a machine's unusable fields, with at most ten named.
fn unusable_fields(id: &str, fields: &[String]) -> Warning {
    const NAMED: usize = 10;
    let id: String = id.chars().take(64).collect();
    let mut named = String::new();
    for field in fields.iter().take(NAMED) {
        if !named.is_empty() {
            named.push_str(", ");
        }
        named.push_str(field);
    }
    if fields.len() > NAMED {
        named.push_str(&format!(" and {} more", fields.len() - NAMED));
    }
    Warning {
        event: "unusable-field",
        message: format!(
            "machine {id:?}: {named}: could not be used as typed; kept as sent in unmodelled"
        ),
    }
}

/// Where in `text` the parser stopped: from serde_json's 1-based line and column.
fn error_offset(text: &str, e: &serde_json::Error) -> usize {
    let line_start = if e.line() <= 1 {
        0
    } else {
        text.match_indices('\n')
            .nth(e.line() - 2)
            .map_or(text.len(), |(i, _)| i + 1)
    };
    let at = (line_start + e.column().saturating_sub(1)).min(text.len());
    // Centre the excerpt on that place, starting on a character boundary.
    let mut start = at.saturating_sub(EXCERPT_CHARS / 2);
    while !text.is_char_boundary(start) {
        start += 1;
    }
    start
}

/// The longest access token taken from the identity platform. Entra's
/// tokens are a few KB (a user token's groups claim stops at 200 groups,
/// about 10 KB; this grant's app tokens are 1 to 2 KB), and servers commonly
/// refuse request headers over 8 to 16 KB. A longer one is refused, never
/// kept, scrubbed for or sent: scrubbing for it would cost each answer a pass
/// of its length, and no service would take it.
pub const MAX_TOKEN_LEN: usize = 16 * 1024;

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
    let text = std::str::from_utf8(&response.body)
        .map_err(|_| withheld("not a token answer (not UTF-8)".into()))?;
    let token = serde_json::from_str::<Token>(text)
        .map_err(|e| withheld(format!("not a token answer ({})", json_category(&e))))?;
    if token.access_token.is_empty()
        || !token
            .access_token
            .bytes()
            .all(|b| (0x21..=0x7e).contains(&b))
    {
        return Err(withheld("access_token is not a header-safe token".into()));
    }
    if token.access_token.len() > MAX_TOKEN_LEN {
        return Err(withheld(format!(
            "access_token is {} bytes long; the most taken is {MAX_TOKEN_LEN}",
            token.access_token.len()
        )));
    }
    Ok(token.access_token)
}

/// Maps a status other than success to its error case.
fn error_answer(service: Service, response: &Response) -> Error {
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
    let message = e.to_string();
    let reason: String = strip_position(&message)
        .chars()
        .take(REASON_CHARS)
        .collect();
    match e.line() {
        0 => format!("the body is not the expected JSON: {reason}"),
        line => format!(
            "the body is not the expected JSON: {reason} (line {line}, column {})",
            e.column()
        ),
    }
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
    fn a_token_over_16_kib_is_refused() {
        let body = |len| format!(r#"{{"access_token":"{}"}}"#, "t".repeat(len));
        assert_eq!(
            access_token(&answer(200, &body(MAX_TOKEN_LEN)))
                .unwrap()
                .len(),
            MAX_TOKEN_LEN
        );
        let e = access_token(&answer(200, &body(MAX_TOKEN_LEN + 1))).unwrap_err();
        let Error::InvalidResponse(e) = e else {
            panic!("{e:?}")
        };
        assert_eq!(e.service, Service::IdentityPlatform);
        assert_eq!(
            e.reason,
            "access_token is 16385 bytes long; the most taken is 16384"
        );
        assert_eq!(e.excerpt, "[token answer withheld]");
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

    fn machines_of(body: &str) -> Result<Machines, Error> {
        machines(&answer(200, body), &Secrets::default())
    }

    #[test]
    fn a_long_parser_message_is_cut() {
        // serde quotes a whole string where a value was expected.
        let body = format!(
            r#"{{"value":[{{"id":"a","osBuild":"1"}}], "x": {}}}"#,
            "y".repeat(5000)
        );
        let Err(Error::InvalidResponse(invalid)) = machines_of(&body) else {
            panic!("a body that is not JSON")
        };
        assert!(
            invalid.reason.len() < REASON_CHARS + 100,
            "{}",
            invalid.reason
        );
        assert!(
            invalid.reason.contains("(line 1, column"),
            "{}",
            invalid.reason
        );
    }

    #[test]
    fn a_broken_machine_is_named_and_the_excerpt_is_taken_there() {
        let good = r#"{"id":"a","computerDnsName":"x"}"#;
        let body = format!(
            r#"{{"value":[{}, {{"id":"b","osBuild":nope}}]}}"#,
            vec![good; 300].join(",")
        );
        let Err(Error::InvalidResponse(invalid)) = machines_of(&body) else {
            panic!("a body that is not JSON")
        };
        assert!(
            invalid.reason.contains("machine 300: osBuild: "),
            "{}",
            invalid.reason
        );
        assert!(
            invalid.excerpt.contains(r#""osBuild":nope"#),
            "{}",
            invalid.excerpt
        );
        assert!(invalid.excerpt.chars().count() <= EXCERPT_CHARS);
        // Not an object, no id, a duplicate: the place is named too.
        for (body, says) in [
            (
                r#"{"value":[{"id":"a"},7]}"#,
                "machine 1: invalid type: integer `7`",
            ),
            (
                r#"{"value":[{"id":"a","osBuild":1 2}]}"#,
                "machine 0: after osBuild: expected",
            ),
            (r#"{"value":[{"osBuild":1}]}"#, "machine 0: no id"),
            (r#"{"value":[{"id":5}]}"#, "machine 0: id: cannot use \"5\""),
            (
                r#"{"value":[{"id":"a","id":"b"}]}"#,
                "machine 0: duplicate field `id`",
            ),
        ] {
            let Err(Error::InvalidResponse(invalid)) = machines_of(body) else {
                panic!("{body}")
            };
            assert!(invalid.reason.contains(says), "{body}: {}", invalid.reason);
        }
    }

    #[test]
    fn a_404_with_the_services_envelope_is_no_machines_and_a_warning() {
        let found = machines(
            &answer(
                404,
                r#"{"error":{"code":"ResourceNotFound","message":"No route","target":"c-1"}}"#,
            ),
            &Secrets::default(),
        )
        .unwrap();
        assert!(found.machines.is_empty());
        assert_eq!(found.warnings.len(), 1);
        assert_eq!(found.warnings[0].event, "not-found");
        let message = &found.warnings[0].message;
        assert!(message.contains("ResourceNotFound: No route"), "{message}");
        let bare = machines(&answer(404, ""), &Secrets::default()).unwrap();
        assert!(bare.machines.is_empty() && bare.warnings.is_empty());
    }

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
    fn retry_after_is_kept_on_a_5xx_too() {
        let e = error_answer(Service::Api, &answer(503, ""));
        let Error::ServiceUnavailable(later) = e else {
            panic!("{e:?}")
        };
        assert_eq!(later.retry_after_seconds, Some(9));
    }
}
