//! Scrubbing the secrets the component holds out of text that came from the
//! network: a server may echo a request (the token form with the client
//! secret, an `Authorization` header) into its answer, and that answer may
//! end up in an error, a log record or a machine.

use crate::error::Error;
use crate::request::form_encode;
use crate::settings::Auth;

/// What a secret is replaced with.
pub const REDACTED: &str = "[redacted]";

/// Shorter secrets are not scrubbed: they would match ordinary text, and no
/// credential Entra ID issues is that short. As long as [`REDACTED`], so a
/// scrubbed text never grows.
pub const MIN_SECRET_LEN: usize = REDACTED.len();

/// The secrets of one lookup, in every form a server is likely to echo them.
pub struct Secrets {
    /// Longest first, so that a form containing another is replaced whole.
    needles: Vec<Vec<u8>>,
    /// Which bytes start a needle: most positions are skipped on one lookup.
    starts: [bool; 256],
}

impl Default for Secrets {
    fn default() -> Self {
        Secrets {
            needles: Vec::new(),
            starts: [false; 256],
        }
    }
}

impl Secrets {
    /// The secrets in `auth`: a bearer token or a client secret.
    pub fn of(auth: &Auth) -> Self {
        let mut secrets = Secrets::default();
        match auth {
            Auth::HostManaged => {}
            Auth::BearerToken(token) => secrets.add(token),
            Auth::ClientCredentials(c) => secrets.add(&c.client_secret),
        }
        secrets
    }

    /// Adds `secret` as sent, form-encoded (as in the token request),
    /// percent-encoded (`%20` for a space, lower-case hex too), and JSON-escaped
    /// (as serde and as .NET's default encoder write it).
    pub fn add(&mut self, secret: &str) {
        if secret.len() < MIN_SECRET_LEN {
            return;
        }
        let mut form = String::new();
        form_encode(secret, &mut form);
        let percent = form.replace('+', "%20");
        let forms = [
            secret.to_owned(),
            form.to_ascii_lowercase_hex(),
            percent.to_ascii_lowercase_hex(),
            json_escaped(secret, false),
            json_escaped(secret, true),
            json_escaped(secret, false).replace('/', "\\/"),
            form,
            percent,
        ];
        for form in forms {
            let form = form.into_bytes();
            if !self.needles.contains(&form) {
                self.starts[usize::from(form[0])] = true;
                let at = self
                    .needles
                    .iter()
                    .take_while(|n| n.len() >= form.len())
                    .count();
                self.needles.insert(at, form);
            }
        }
    }

    /// No secret to scrub.
    pub fn is_empty(&self) -> bool {
        self.needles.is_empty()
    }

    /// Replaces every secret in `text` with [`REDACTED`], in place. Runs on
    /// every answer (up to 16 MiB): it looks only at bytes that start a
    /// needle, and moves the text between them in whole runs.
    pub fn scrub_bytes(&self, text: &mut Vec<u8>) {
        if self.needles.is_empty() {
            return;
        }
        // `text[..write]` is the scrubbed text so far; `text[read..]` is still to look at.
        let (mut read, mut write) = (0, 0);
        let mut from = 0;
        while let Some(offset) = text[from..]
            .iter()
            .position(|&b| self.starts[usize::from(b)])
        {
            let at = from + offset;
            let Some(needle) = self.needles.iter().find(|n| text[at..].starts_with(n)) else {
                from = at + 1;
                continue;
            };
            // `write <= read` and a needle is never shorter than REDACTED.
            text.copy_within(read..at, write);
            write += at - read;
            text[write..write + REDACTED.len()].copy_from_slice(REDACTED.as_bytes());
            write += REDACTED.len();
            read = at + needle.len();
            from = read;
        }
        if write < read {
            text.copy_within(read.., write);
            text.truncate(write + (text.len() - read));
        }
    }

    /// [`Secrets::scrub_bytes`] for text.
    pub fn scrub(&self, text: String) -> String {
        if self.needles.is_empty() {
            return text;
        }
        let mut bytes = text.into_bytes();
        self.scrub_bytes(&mut bytes);
        // A needle is valid UTF-8 and so is what it replaces; never lossy.
        String::from_utf8(bytes).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into())
    }

    fn scrub_option(&self, text: Option<String>) -> Option<String> {
        text.map(|t| self.scrub(t))
    }

    /// Every text an error carries, scrubbed: what it quotes came from the
    /// network (or from the host, for a transport error).
    pub fn scrub_error(&self, e: Error) -> Error {
        use crate::error::{Error as E, InvalidResponse, RetryLater, ServiceError};
        use crate::http::TransportError as T;
        let details = |d: ServiceError| ServiceError {
            code: self.scrub_option(d.code),
            message: self.scrub_option(d.message),
            correlation_id: self.scrub_option(d.correlation_id),
            ..d
        };
        let later = |r: RetryLater| RetryLater {
            details: details(r.details),
            ..r
        };
        match e {
            E::InvalidDomain(_) | E::InvalidSettings(_) => e,
            E::Unauthorized(d) => E::Unauthorized(details(d)),
            E::Forbidden(d) => E::Forbidden(details(d)),
            E::ApiError(d) => E::ApiError(details(d)),
            E::RateLimited(r) => E::RateLimited(later(r)),
            E::ServiceUnavailable(r) => E::ServiceUnavailable(later(r)),
            E::Transport(t) => E::Transport(match t {
                T::Refused(s) => T::Refused(self.scrub(s)),
                T::Connection(s) => T::Connection(self.scrub(s)),
                T::Other(s) => T::Other(self.scrub(s)),
                T::Timeout | T::TooLarge(_) => t,
            }),
            E::InvalidResponse(r) => E::InvalidResponse(InvalidResponse {
                reason: self.scrub(r.reason),
                excerpt: self.scrub(r.excerpt),
                ..r
            }),
        }
    }
}

trait LowerHex {
    /// `%2F` as `%2f`: some servers re-encode in lower case.
    fn to_ascii_lowercase_hex(&self) -> String;
}

impl LowerHex for String {
    fn to_ascii_lowercase_hex(&self) -> String {
        let mut out = String::with_capacity(self.len());
        let mut hex_left = 0;
        for c in self.chars() {
            if hex_left > 0 {
                out.push(c.to_ascii_lowercase());
                hex_left -= 1;
            } else {
                hex_left = if c == '%' { 2 } else { 0 };
                out.push(c);
            }
        }
        out
    }
}

/// The inside of a JSON string holding `text`. `html_safe`: also every
/// non-ASCII character and `+ < > & ' "` as `\uXXXX`, as .NET's
/// System.Text.Json does by default.
fn json_escaped(text: &str, html_safe: bool) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '"' if !html_safe => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c.is_control() || (html_safe && (!c.is_ascii() || "+<>&'\"".contains(c))) => {
                let mut units = [0; 2];
                for unit in c.encode_utf16(&mut units) {
                    out.push_str(&format!("\\u{unit:04X}"));
                }
            }
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::settings::ClientCredentials;

    const SECRET: &str = "Ab1~x+y/z \"q\" é";

    fn secrets() -> Secrets {
        Secrets::of(&Auth::ClientCredentials(ClientCredentials {
            tenant_id: "t".into(),
            client_id: "c".into(),
            client_secret: SECRET.into(),
        }))
    }

    #[test]
    fn every_echoed_form_of_a_secret_is_scrubbed() {
        let s = secrets();
        for echoed in [
            SECRET.to_owned(),
            "Ab1%7Ex%2By%2Fz+%22q%22+%C3%A9".to_owned(),
            "Ab1%7Ex%2By%2Fz%20%22q%22%20%C3%A9".to_owned(),
            "Ab1%7ex%2by%2fz+%22q%22+%c3%a9".to_owned(),
            r#"Ab1~x+y/z \"q\" é"#.to_owned(),
            r#"Ab1~x+y\/z \"q\" é"#.to_owned(),
            r"Ab1~x\u002By/z \u0022q\u0022 \u00E9".to_owned(),
        ] {
            let text = format!("got: client_secret={echoed}&scope=x");
            assert_eq!(
                s.scrub(text.clone()),
                "got: client_secret=[redacted]&scope=x",
                "{text}"
            );
        }
    }

    #[test]
    fn scrubbing_in_place_keeps_the_rest_and_never_grows() {
        let mut s = Secrets::default();
        s.add("0123456789");
        s.add("abcdefghijkl");
        let mut text = b"0123456789abcdefghijkl--0123456789".to_vec();
        s.scrub_bytes(&mut text);
        assert_eq!(text, b"[redacted][redacted]--[redacted]");
        let mut clean = b"nothing to see".to_vec();
        s.scrub_bytes(&mut clean);
        assert_eq!(clean, b"nothing to see");
    }

    /// The runs between secrets are moved whole: every mix of secrets,
    /// near misses (a needle's first byte, a needle's prefix) and plain text
    /// comes out as a replace of each secret would make it.
    #[test]
    fn scrubbing_matches_replacing_each_secret() {
        let mut s = Secrets::default();
        s.add("0123456789");
        s.add("abcdefghijkl");
        let fragments = [
            "0123456789",
            "abcdefghijkl",
            "0",
            "abcdefghijk",
            "x",
            "--long plain run--",
            "a0",
        ];
        for a in fragments {
            for b in fragments {
                for c in fragments {
                    let text = format!("{a}{b}{c}{b}");
                    let expected = text
                        .replace("abcdefghijkl", REDACTED)
                        .replace("0123456789", REDACTED);
                    let mut bytes = text.clone().into_bytes();
                    s.scrub_bytes(&mut bytes);
                    assert_eq!(String::from_utf8(bytes).unwrap(), expected, "{text}");
                }
            }
        }
    }

    #[test]
    fn short_secrets_and_host_managed_auth_scrub_nothing() {
        let mut s = Secrets::of(&Auth::HostManaged);
        s.add("short");
        assert_eq!(s.scrub("short and sweet".into()), "short and sweet");
        let s = Secrets::of(&Auth::BearerToken("a-long-bearer-token".into()));
        assert_eq!(
            s.scrub("Authorization: Bearer a-long-bearer-token".into()),
            "Authorization: Bearer [redacted]"
        );
    }

    #[test]
    fn errors_lose_their_secrets_everywhere() {
        let s = secrets();
        let e = Error::Unauthorized(crate::error::ServiceError {
            service: crate::error::Service::IdentityPlatform,
            status: 401,
            code: Some(format!("x{SECRET}")),
            message: Some(format!("echo {SECRET}")),
            correlation_id: Some(SECRET.into()),
        });
        let scrubbed = format!("{:?}", s.scrub_error(e));
        assert!(!scrubbed.contains("Ab1~"), "{scrubbed}");
        assert_eq!(scrubbed.matches(REDACTED).count(), 3);
    }
}
