//! Canary credentials and the answers that make every error path run: what
//! the secret-leak tests of the component, the host and the CLI share.

use crate::replay::{answer, json};
use mde_connector_host::runtime::{Request, Response, TransportError};
use mde_connector_host::transport::Transport;

/// A client secret that must never be printed.
pub const SECRET: &str = "CANARY-SECRET-7f3a";
/// An access token that must never be printed.
pub const TOKEN: &str = "CANARY-TOKEN-91bc";

/// A token answer carrying [`TOKEN`].
pub fn token_answer() -> Response {
    json(
        200,
        &format!(r#"{{"token_type":"Bearer","access_token":"{TOKEN}"}}"#),
    )
}

/// Every answer after which the component reports an error.
pub fn failing_answers() -> Vec<Response> {
    vec![
        json(
            400,
            r#"{"error":{"code":"InvalidDomainName","message":"bad","target":"t"}}"#,
        ),
        json(401, r#"{"error":{"code":"Unauthorized","message":"no"}}"#),
        json(403, r#"{"error":{"code":"Forbidden","message":"no"}}"#),
        answer(429, &[("Retry-After", "5")], ""),
        json(500, "oops"),
        answer(302, &[("Location", "https://x/")], ""),
        json(200, "<html>"),
        json(200, r#"{"value":[{"id":1}]}"#),
        json(200, ""),
    ]
}

/// Panics when `text` holds a canary, naming `what` printed it.
pub fn assert_clean(what: &str, text: &str) {
    assert!(
        !text.contains(SECRET) && !text.contains(TOKEN),
        "{what} leaks a canary: {text}"
    );
}

/// A client secret with characters a form body encodes (`~`, `/`, `+`, `=`,
/// `&`, a space), for servers that echo what they were sent. Every form of
/// it holds [`ECHO_MARK`].
pub const ECHO_SECRET: &str = "Echo3dSecret~/+= &x";
/// A token for the same servers; it holds [`ECHO_MARK`].
pub const ECHO_TOKEN: &str = "eyJEcho3dToken.payload_part-x";
/// In every form of [`ECHO_SECRET`] and [`ECHO_TOKEN`], encoded or not.
pub const ECHO_MARK: &str = "Echo3d";

/// Panics when `text` holds any form of [`ECHO_SECRET`] or [`ECHO_TOKEN`],
/// in any case.
pub fn assert_no_echo(what: &str, text: &str) {
    assert!(
        !text.to_lowercase().contains(&ECHO_MARK.to_lowercase()),
        "{what} leaks an echoed secret: {text}"
    );
}

/// A tenant that echoes what it is sent, as a careless or hostile service
/// might. The token endpoint answers by tenant id (the path's first segment):
/// - `echo-form-400`: `400` whose `error_description` quotes the form body;
/// - `echo-form-404`: `404` whose body starts with the form body;
/// - any other: `200` with [`ECHO_TOKEN`].
///
/// The API answers by domain:
/// - `status-NNN.example`: status `NNN` with the API's error envelope
///   quoting the `Authorization` header (message and target);
/// - any other: `200` with one machine whose name and tags quote the
///   `Authorization` header and the form body.
#[derive(Default)]
pub struct Echoing {
    /// The last token request's form body.
    form: String,
}

impl Transport for Echoing {
    fn send(&mut self, request: &Request) -> Result<Response, TransportError> {
        let path = request.url.splitn(4, '/').nth(3).unwrap_or_default();
        let quote = |text: &str| serde_json::to_string(text).unwrap_or_default();
        if path.contains("/oauth2/") {
            self.form =
                String::from_utf8_lossy(request.body.as_deref().unwrap_or_default()).into_owned();
            let tenant = path.split('/').next().unwrap_or_default();
            return Ok(match tenant {
                "echo-form-400" => json(
                    400,
                    &format!(
                        r#"{{"error":"invalid_request","error_description":{},"correlation_id":{}}}"#,
                        quote(&format!("got: {}", self.form)),
                        quote(&self.form)
                    ),
                ),
                "echo-form-404" => {
                    answer(404, &[("content-type", "text/plain")], self.form.clone())
                }
                _ => json(
                    200,
                    &format!(r#"{{"token_type":"Bearer","access_token":"{ECHO_TOKEN}"}}"#),
                ),
            });
        }
        let authorization = request.header("authorization").unwrap_or_default();
        let domain = path.split('/').nth(2).unwrap_or_default();
        if let Some(status) = domain
            .strip_prefix("status-")
            .and_then(|rest| rest.strip_suffix(".example"))
            .and_then(|status| status.parse().ok())
        {
            let quoted = quote(&format!("Authorization: {authorization}"));
            return Ok(json(
                status,
                &format!(r#"{{"error":{{"code":"Echo","message":{quoted},"target":{quoted}}}}}"#),
            ));
        }
        Ok(json(
            200,
            &format!(
                r#"{{"value":[{{"id":"m1","computerDnsName":{},"osPlatform":{},"machineTags":[{},{}]}}]}}"#,
                quote(authorization),
                quote(&self.form),
                quote(authorization),
                quote(&self.form)
            ),
        ))
    }
}

/// Canaries for servers that reflect requests: the secret holds every
/// character class the form encoding changes, so each encoded form is tried.
pub mod reflected {
    /// Every character class the form encoding changes: `~ + / space`.
    pub const SECRET: &str = "CANARY~secret+value/7f3a x";
    pub const TOKEN: &str = "CANARY-token.eyJ0eXAiOiJKV1Qi";

    /// Every form of the canaries a leak could take.
    pub fn leaked(text: &str) -> bool {
        ["CANARY", "secret%2B", "secret+value", "eyJ0eXAi"]
            .iter()
            .any(|c| text.contains(c))
    }
}
