//! Known secrets out of what the host passes between the network, the
//! component and its caller, with the core's scrubber
//! ([`mde_connector::secrets::Secrets`], the one the component applies to
//! what it holds): one scrubber, applied at the host's two edges.
//!
//! A hostile or careless server may echo the token request's form body or
//! the `Authorization` header into its answer. The host scrubs each answer
//! before the component reads it ([`scrub_answer`]), so nothing the
//! component makes of it (an error, a machine's name split at its dots, a
//! lower-cased platform) can hold a secret or a piece of one; and it scrubs
//! what it passes on (errors, log records, `--show-requests` lines, JSON
//! texts for output) once more on the way out ([`scrub_error`],
//! [`Secrets::scrub`]). The secrets are the settings' client secret or
//! bearer token, and every token the component sends in an `Authorization`
//! header.

use crate::bindings::mde::connector::types::{Error, RetryLater, ServiceError};
use crate::bindings::{Body, Method, Request, Response, TransportError};
pub use mde_connector::secrets::{MIN_SECRET_LEN, REDACTED, Secrets};

/// An answer from the network, before the component reads it: its body,
/// headers and error text. The token grant's own success answer is left as
/// it is: it carries the new token, which may be one already known.
pub fn scrub_answer(
    secrets: &Secrets,
    request: &Request,
    answer: &mut Result<Response, TransportError>,
) {
    if secrets.is_empty() {
        return;
    }
    match answer {
        Ok(response) => {
            if request.method == Method::Post && (200..300).contains(&response.status) {
                return;
            }
            let mut body =
                std::mem::replace(&mut response.body, Body::Bytes(Vec::new())).into_bytes();
            secrets.scrub_bytes(&mut body);
            response.body = Body::Bytes(body);
            for (_, value) in &mut response.headers {
                *value = secrets.scrub(std::mem::take(value));
            }
        }
        Err(e) => scrub_transport_error(secrets, e),
    }
}

/// Every text of `error`, as the component gave it.
pub fn scrub_error(secrets: &Secrets, error: &mut Error) {
    let scrub = |text: &mut String| *text = secrets.scrub(std::mem::take(text));
    let details = |e: &mut ServiceError| {
        for text in [&mut e.code, &mut e.message, &mut e.correlation_id]
            .into_iter()
            .flatten()
        {
            scrub(text);
        }
    };
    let later = |r: &mut RetryLater| details(&mut r.details);
    match error {
        Error::InvalidDomain(s) | Error::InvalidSettings(s) => scrub(s),
        Error::InvalidFileHash(s)
        | Error::InvalidUserName(s)
        | Error::InvalidIp(s)
        | Error::InvalidTime(s)
        | Error::InvalidMachineId(s)
        | Error::InvalidLookBack(s) => scrub(s),
        Error::Unauthorized(e) | Error::Forbidden(e) | Error::ApiError(e) => details(e),
        Error::RateLimited(r) | Error::ServiceUnavailable(r) => later(r),
        Error::Transport(t) => scrub_transport_error(secrets, t),
        Error::InvalidResponse(r) => {
            scrub(&mut r.reason);
            scrub(&mut r.excerpt);
        }
    }
}

fn scrub_transport_error(secrets: &Secrets, t: &mut TransportError) {
    match t {
        TransportError::Refused(s) | TransportError::Connection(s) | TransportError::Other(s) => {
            *s = secrets.scrub(std::mem::take(s))
        }
        TransportError::Timeout | TransportError::TooLarge(_) => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_answer_is_scrubbed_but_a_granted_token_is_kept() {
        let mut secrets = Secrets::default();
        secrets.add("the-known-token");
        secrets.add("the-client-secret");
        let answer = |status: u16, body: &[u8]| {
            Ok(Response {
                status,
                headers: vec![("www-authenticate".into(), "Bearer the-known-token".into())],
                body: body.to_vec().into(),
            })
        };
        let request = |method| Request {
            method,
            url: "https://login.example/t/oauth2/v2.0/token".into(),
            headers: vec![],
            body: None,
        };
        let mut echoed = answer(400, b"client_secret=the-client-secret\xff");
        scrub_answer(&secrets, &request(Method::Post), &mut echoed);
        let echoed = echoed.unwrap();
        assert_eq!(echoed.body.as_bytes(), b"client_secret=[redacted]\xff");
        assert_eq!(echoed.headers[0].1, "Bearer [redacted]");
        let mut granted = answer(200, br#"{"access_token":"the-known-token"}"#);
        scrub_answer(&secrets, &request(Method::Post), &mut granted);
        assert_eq!(
            granted.unwrap().body.as_bytes(),
            br#"{"access_token":"the-known-token"}"#
        );
        let mut machines = answer(200, br#"{"value":[{"id":"the-known-token"}]}"#);
        scrub_answer(&secrets, &request(Method::Get), &mut machines);
        assert_eq!(
            machines.unwrap().body.as_bytes(),
            br#"{"value":[{"id":"[redacted]"}]}"#
        );
        // A transport may give a body as text; it is scrubbed all the same.
        let mut text = Ok(Response {
            status: 200,
            headers: vec![],
            body: Body::Text(r#"{"value":[{"id":"the-known-token"}]}"#.into()),
        });
        scrub_answer(&secrets, &request(Method::Get), &mut text);
        assert_eq!(
            text.unwrap().body.as_bytes(),
            br#"{"value":[{"id":"[redacted]"}]}"#
        );
        let mut failed: Result<Response, _> = Err(TransportError::Connection(
            "peer said the-client-secret".into(),
        ));
        scrub_answer(&secrets, &request(Method::Get), &mut failed);
        assert!(
            matches!(failed, Err(TransportError::Connection(ref s)) if s == "peer said [redacted]")
        );
    }
}
