//! Known secrets out of every text that came from the network: the one
//! scrubber. A hostile or careless server may echo the token request's form
//! body or the `Authorization` header into its answer. The host scrubs each
//! answer before the component reads it ([`Secrets::scrub_answer`]), so
//! nothing the component makes of it (an error, a machine's name split at
//! its dots, a lower-cased platform) can hold a secret; and it scrubs what it
//! passes on (errors, log records, `--show-requests` lines, JSON texts for
//! output) once more on the way out ([`Secrets::scrub`]).

use crate::runtime::mde::connector::http::{Method, Request, Response, TransportError};
use crate::runtime::mde::connector::types::{Error, ServiceError};
use mde_connector::settings::Auth;

/// What a secret becomes.
pub const REDACTED: &str = "[redacted]";

/// Values shorter than this are not scrubbed: they would blot out ordinary
/// words, and are no secret worth the name.
pub const MIN_SECRET_CHARS: usize = 8;

/// The secrets an instance knows of (its settings' client secret or bearer
/// token, and every token it sent in an `Authorization` header), in every
/// form they may come back in.
#[derive(Debug, Clone, Default)]
pub struct Secrets {
    /// Lower-case: matched without regard to ASCII case.
    forms: Vec<Vec<u8>>,
}

impl Secrets {
    /// The secrets in `auth`.
    pub fn from_auth(auth: &Auth) -> Self {
        let mut secrets = Secrets::default();
        match auth {
            Auth::ClientCredentials(c) => secrets.learn(&c.client_secret),
            Auth::BearerToken(token) => secrets.learn(token),
            Auth::HostManaged => {}
        }
        secrets
    }

    /// Adds `secret`: raw, percent-encoded (as in a form body or a URL) and
    /// JSON-escaped.
    pub fn learn(&mut self, secret: &str) {
        if secret.chars().count() < MIN_SECRET_CHARS {
            return;
        }
        for form in [
            secret.to_owned(),
            json_escaped(secret),
            percent_encoded(secret, true),
            percent_encoded(secret, false),
        ] {
            let form = form.to_ascii_lowercase().into_bytes();
            if !self.forms.contains(&form) {
                self.forms.push(form);
            }
        }
    }

    /// `text` with every known secret replaced by [`REDACTED`]; also a
    /// secret cut short at the end of `text` (an excerpt), from
    /// [`MIN_SECRET_CHARS`] on.
    pub fn scrub(&self, text: &str) -> String {
        let mut text = match self.scrub_bytes(text.as_bytes()) {
            // Whole UTF-8 sequences were replaced by ASCII: still UTF-8.
            Some(bytes) => String::from_utf8_lossy(&bytes).into_owned(),
            None => text.to_owned(),
        };
        if let Some(cut) = self.cut_short_at_end(&text) {
            text.truncate(cut);
            text.push_str(REDACTED);
        }
        text
    }

    pub fn scrub_in_place(&self, text: &mut String) {
        *text = self.scrub(text);
    }

    /// An answer from the network, before the component reads it: its
    /// body, headers and error text. The token grant's own success answer
    /// is left as it is: it carries the new token, which may be one already
    /// known.
    pub fn scrub_answer(&self, request: &Request, answer: &mut Result<Response, TransportError>) {
        match answer {
            Ok(response) => {
                if request.method == Method::Post && (200..300).contains(&response.status) {
                    return;
                }
                if let Some(body) = self.scrub_bytes(&response.body) {
                    response.body = body;
                }
                for (_, value) in &mut response.headers {
                    self.scrub_in_place(value);
                }
            }
            Err(e) => self.scrub_transport_error(e),
        }
    }

    /// Every text of `error`.
    pub fn scrub_error(&self, error: &mut Error) {
        match error {
            Error::InvalidDomain(s) | Error::InvalidSettings(s) => self.scrub_in_place(s),
            Error::Unauthorized(e)
            | Error::Forbidden(e)
            | Error::ApiError(e)
            | Error::ServiceUnavailable(e) => self.scrub_service_error(e),
            Error::RateLimited(r) => self.scrub_service_error(&mut r.details),
            Error::Transport(t) => self.scrub_transport_error(t),
            Error::InvalidResponse(r) => {
                self.scrub_in_place(&mut r.reason);
                self.scrub_in_place(&mut r.excerpt);
            }
        }
    }

    fn scrub_service_error(&self, e: &mut ServiceError) {
        for text in [&mut e.code, &mut e.message, &mut e.correlation_id]
            .into_iter()
            .flatten()
        {
            self.scrub_in_place(text);
        }
    }

    fn scrub_transport_error(&self, t: &mut TransportError) {
        match t {
            TransportError::Refused(s)
            | TransportError::Connection(s)
            | TransportError::Other(s) => self.scrub_in_place(s),
            TransportError::Timeout | TransportError::TooLarge(_) => {}
        }
    }

    /// `bytes` with every form replaced, or `None` when none is there. A
    /// backslash that escapes a form's first character goes with it, so a
    /// JSON text stays JSON.
    fn scrub_bytes(&self, bytes: &[u8]) -> Option<Vec<u8>> {
        if self.forms.is_empty() {
            return None;
        }
        let lower = bytes.to_ascii_lowercase();
        let mut found: Vec<(usize, usize)> = self
            .forms
            .iter()
            .flat_map(|form| {
                memchr::memmem::find_iter(&lower, form).map(move |at| (at, at + form.len()))
            })
            .collect();
        if found.is_empty() {
            return None;
        }
        found.sort_unstable();
        let mut out = Vec::with_capacity(bytes.len());
        let mut copied = 0;
        for (start, end) in found {
            if start < copied {
                copied = copied.max(end); // overlaps the one just replaced
                continue;
            }
            let backslashes = bytes[copied..start]
                .iter()
                .rev()
                .take_while(|b| **b == b'\\')
                .count();
            out.extend_from_slice(&bytes[copied..start - backslashes % 2]);
            out.extend_from_slice(REDACTED.as_bytes());
            copied = end;
        }
        out.extend_from_slice(&bytes[copied..]);
        Some(out)
    }

    /// Where a start of a form, of at least [`MIN_SECRET_CHARS`], ends `text`.
    fn cut_short_at_end(&self, text: &str) -> Option<usize> {
        let lower = text.to_ascii_lowercase();
        self.forms
            .iter()
            .filter_map(|form| {
                let longest = form.len().saturating_sub(1).min(lower.len());
                (MIN_SECRET_CHARS..=longest)
                    .rev()
                    .find(|&n| lower.as_bytes().ends_with(&form[..n]))
                    .map(|n| lower.len() - n)
            })
            .filter(|&cut| text.is_char_boundary(cut))
            .min()
    }
}

/// `%XX` (upper-case hex) for every byte outside the safe set: of a form
/// body (the URL Standard: `*` kept, a space as `+`) or of a URL (RFC 3986:
/// `~` kept, a space as `%20`).
fn percent_encoded(text: &str, form_body: bool) -> String {
    let mut out = String::with_capacity(text.len());
    for b in text.bytes() {
        let safe = b.is_ascii_alphanumeric()
            || matches!(b, b'-' | b'.' | b'_')
            || (form_body && b == b'*')
            || (!form_body && b == b'~');
        if safe {
            out.push(char::from(b));
        } else if form_body && b == b' ' {
            out.push('+');
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// As inside a JSON string.
fn json_escaped(text: &str) -> String {
    let quoted = serde_json::to_string(text).unwrap_or_default();
    quoted
        .strip_prefix('"')
        .and_then(|q| q.strip_suffix('"'))
        .unwrap_or(text)
        .to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn knowing(secret: &str) -> Secrets {
        let mut secrets = Secrets::default();
        secrets.learn(secret);
        secrets
    }

    #[test]
    fn every_encoded_form_is_scrubbed_in_any_case() {
        let secrets = knowing("Abc~def/ghi+jkl mno\"p");
        for echoed in [
            "Abc~def/ghi+jkl mno\"p",
            "ABC~DEF/GHI+JKL MNO\"P",
            "Abc%7Edef%2Fghi%2Bjkl+mno%22p",
            "abc%7edef%2fghi%2bjkl+mno%22p",
            "Abc~def%2Fghi%2Bjkl%20mno%22p",
            "Abc~def/ghi+jkl mno\\\"p",
        ] {
            assert_eq!(
                secrets.scrub(&format!("got: client_secret={echoed}&scope=x")),
                "got: client_secret=[redacted]&scope=x",
                "{echoed}"
            );
        }
    }

    #[test]
    fn a_secret_cut_short_at_the_end_is_scrubbed() {
        let secrets = knowing("Abcdefghijklmnop");
        assert_eq!(
            secrets.scrub("body starts x=Abcdefghij"),
            "body starts x=[redacted]"
        );
        // Fewer characters than a secret needs: ordinary text.
        assert_eq!(secrets.scrub("x=Abcdefg"), "x=Abcdefg");
    }

    #[test]
    fn a_json_text_stays_json() {
        let secrets = knowing("nSecretValue1");
        let text = r#"{"a":"x\nSecretValue1","b":"\\nSecretValue1"}"#;
        let scrubbed = secrets.scrub(text);
        assert_eq!(scrubbed, r#"{"a":"x[redacted]","b":"\\[redacted]"}"#);
        serde_json::from_str::<serde_json::Value>(&scrubbed).unwrap();
    }

    #[test]
    fn an_answer_is_scrubbed_but_a_granted_token_is_kept() {
        let mut secrets = knowing("the-known-token");
        secrets.learn("the-client-secret");
        let answer = |status: u16, body: &[u8]| {
            Ok(Response {
                status,
                headers: vec![("www-authenticate".into(), "Bearer the-known-token".into())],
                body: body.to_vec(),
            })
        };
        let request = |method| Request {
            method,
            url: "https://login.example/t/oauth2/v2.0/token".into(),
            headers: vec![],
            body: None,
        };
        let mut echoed = answer(400, b"client_secret=the-client-secret\xff");
        secrets.scrub_answer(&request(Method::Post), &mut echoed);
        let echoed = echoed.unwrap();
        assert_eq!(echoed.body, b"client_secret=[redacted]\xff");
        assert_eq!(echoed.headers[0].1, "Bearer [redacted]");
        let mut granted = answer(200, br#"{"access_token":"the-known-token"}"#);
        secrets.scrub_answer(&request(Method::Post), &mut granted);
        assert_eq!(
            granted.unwrap().body,
            br#"{"access_token":"the-known-token"}"#
        );
        let mut machines = answer(200, br#"{"value":[{"id":"the-known-token"}]}"#);
        secrets.scrub_answer(&request(Method::Get), &mut machines);
        assert_eq!(
            machines.unwrap().body,
            br#"{"value":[{"id":"[redacted]"}]}"#
        );
    }

    #[test]
    fn short_values_are_left_alone() {
        let secrets = knowing("t");
        assert_eq!(secrets.scrub("the text"), "the text");
    }
}
