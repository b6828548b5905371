//! Canary credentials and the answers that make every error path run: what
//! the secret-leak tests of the component, the host and the CLI share.

use crate::replay::{answer, json};
use mde_connector_host::runtime::Response;

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
