//! Scrubbing the secrets the component holds out of text that came from the
//! network: a server may echo a request (the token form with the client
//! secret, an `Authorization` header) into its answer, and that answer may
//! end up in an error, a log record or a machine.
//!
//! One rule, whichever client encoded the echo (`policy/scrub-vectors.json`
//! states it, and holds this and the Python package to it): a run of the text
//! is a secret when it decodes to the secret's bytes, each written as itself,
//! as `%XX` (either case of hex), as a JSON escape, or, for `+` and space,
//! as either; and wherever the secret occurs as it is. No list of encoders:
//! every percent-encoding, whichever bytes it leaves raw, is one rule.

use crate::error::Error;
use crate::settings::Auth;
use std::ops::Range;

/// What a secret is replaced with.
pub const REDACTED: &str = "[redacted]";

/// Shorter secrets are not scrubbed: they would match ordinary text, and no
/// credential Entra ID issues is that short. As long as [`REDACTED`], so a
/// scrubbed text never grows (a run decodes to at most as many bytes as it has).
pub const MIN_SECRET_LEN: usize = REDACTED.len();

/// The secrets of one lookup.
#[derive(Default)]
pub struct Secrets {
    secrets: Vec<Secret>,
}

/// One secret, ready for Knuth-Morris-Pratt: linear in the text and the
/// secret, whatever their contents (an 80 KB token costs no more per byte
/// of text than a 40-byte secret).
struct Secret {
    /// The secret's bytes, each `+` as a space: the two are one class.
    bytes: Vec<u8>,
    /// `border[i]`: the length of the longest proper prefix of
    /// `bytes[..=i]` that is also its suffix.
    border: Vec<usize>,
    /// The bytes of a text a match can start at: as it is (`[false]`), and
    /// decoded (`[true]`, where an escape may start one too).
    starts: [[bool; 256]; 2],
}

impl Secrets {
    /// The secrets in `auth`: a bearer token or a client secret.
    pub fn of(auth: &Auth) -> Self {
        let mut secrets = Secrets::default();
        match auth {
            Auth::HostManaged => {}
            Auth::BearerToken(token) => secrets.add(token),
            Auth::ClientCredentials(c) => secrets.add(&c.client_secret),
            // The assertion is added as each is made.
            Auth::ClientAssertion(_) => {}
        }
        secrets
    }

    /// Adds `secret`, unless it is shorter than [`MIN_SECRET_LEN`] or known.
    pub fn add(&mut self, secret: &str) {
        if secret.len() < MIN_SECRET_LEN {
            return;
        }
        let bytes: Vec<u8> = secret.bytes().map(class).collect();
        if self.secrets.iter().any(|s| s.bytes == bytes) {
            return;
        }
        let mut border = vec![0; bytes.len()];
        let mut k = 0;
        for i in 1..bytes.len() {
            while k > 0 && bytes[i] != bytes[k] {
                k = border[k - 1];
            }
            if bytes[i] == bytes[k] {
                k += 1;
            }
            border[i] = k;
        }
        let mut starts = [[false; 256]; 2];
        for b in 0..=u8::MAX {
            let first = class(b) == bytes[0];
            starts[0][usize::from(b)] = first;
            starts[1][usize::from(b)] = first || b == b'%' || b == b'\\';
        }
        self.secrets.push(Secret {
            bytes,
            border,
            starts,
        });
    }

    /// No secret to scrub.
    pub fn is_empty(&self) -> bool {
        self.secrets.is_empty()
    }

    /// Replaces every run of `text` that holds a secret with [`REDACTED`],
    /// in place. Runs on every answer (up to 16 MiB): each secret costs a
    /// pass over the text decoded, and one as it is when it holds escapes,
    /// each skipping to the bytes that can start a match.
    pub fn scrub_bytes(&self, text: &mut Vec<u8>) {
        // Host-managed auth has none: no pass over a 1 MiB answer for nothing.
        if self.secrets.is_empty() {
            return;
        }
        let mut runs = Vec::new();
        // Without escapes, decoding changes nothing: one pass is both.
        let escaped = text.iter().any(|&b| b == b'%' || b == b'\\');
        for secret in &self.secrets {
            secret.find(text, true, &mut runs);
            if escaped {
                secret.find(text, false, &mut runs);
            }
        }
        if runs.is_empty() {
            return;
        }
        runs.sort_unstable_by_key(|r| r.start);
        // `text[..write]` is the scrubbed text so far; `text[read..]` is still to copy.
        let (mut read, mut write) = (0, 0);
        let mut runs = runs.into_iter().peekable();
        while let Some(mut run) = runs.next() {
            // Overlapping runs (two secrets, or one found by both passes) are one.
            while let Some(next) = runs.next_if(|next| next.start < run.end) {
                run.end = run.end.max(next.end);
            }
            // `write <= read`, and a run is never shorter than REDACTED.
            text.copy_within(read..run.start, write);
            write += run.start - read;
            text[write..write + REDACTED.len()].copy_from_slice(REDACTED.as_bytes());
            write += REDACTED.len();
            read = run.end;
        }
        text.copy_within(read.., write);
        text.truncate(write + (text.len() - read));
    }

    /// [`Secrets::scrub_bytes`] for text.
    pub fn scrub(&self, text: String) -> String {
        if self.secrets.is_empty() {
            return text;
        }
        let mut bytes = text.into_bytes();
        self.scrub_bytes(&mut bytes);
        // A run covers whole escapes and whole characters: never lossy.
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
            hint: self.scrub_option(d.hint.map(String::from)).map(Into::into),
            ..d
        };
        let later = |r: RetryLater| RetryLater {
            details: details(r.details),
            ..r
        };
        match e {
            E::InvalidDomain(_) | E::InvalidSettings(_) => e,
            // The caller's own input, refused before anything was sent.
            E::InvalidFileHash(_)
            | E::InvalidUserName(_)
            | E::InvalidIp(_)
            | E::InvalidTime(_)
            | E::InvalidMachineId(_)
            | E::InvalidLookBack(_) => e,
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

impl Secret {
    /// Pushes to `runs` where `text` holds this secret: after decoding its
    /// escapes (`decoded`), or as it is. Each run covers whole escapes.
    fn find(&self, text: &[u8], decoded: bool, runs: &mut Vec<Range<usize>>) {
        let m = self.bytes.len();
        // A run decodes to at most as many bytes as it has.
        if text.len() < m {
            return;
        }
        let starts = &self.starts[usize::from(decoded)];
        // Where each of the last `m` decoded bytes starts in `text`, by
        // their count modulo `m`; made when a match may begin.
        let mut origin: Vec<usize> = Vec::new();
        let (mut at, mut matched, mut count) = (0, 0, 0);
        while at < text.len() {
            if matched == 0 {
                match text[at..].iter().position(|&b| starts[usize::from(b)]) {
                    Some(skip) => at += skip,
                    None => return,
                }
                if origin.is_empty() {
                    origin.resize(m, 0);
                }
            }
            let unit = if decoded {
                Unit::at(&text[at..])
            } else {
                Unit::raw(text[at])
            };
            for &b in unit.bytes() {
                let b = class(b);
                while matched > 0 && self.bytes[matched] != b {
                    matched = self.border[matched - 1];
                }
                if self.bytes[matched] == b {
                    matched += 1;
                }
                origin[count % m] = at;
                count += 1;
                if matched == m {
                    // The first of the last `m` decoded bytes.
                    runs.push(origin[count % m]..at + unit.len);
                    matched = 0;
                }
            }
            at += unit.len;
        }
    }
}

/// `+` and space are one class: a form encodes a space as `+`.
fn class(b: u8) -> u8 {
    if b == b'+' { b' ' } else { b }
}

/// One unit of escaped text: `%XX`, a JSON escape (a surrogate pair is one),
/// or a byte as it is.
struct Unit {
    /// How many bytes of the text it takes.
    len: usize,
    /// The UTF-8 bytes it stands for, `n` of them.
    decoded: [u8; 4],
    n: usize,
}

impl Unit {
    fn raw(b: u8) -> Unit {
        Unit {
            len: 1,
            decoded: [b, 0, 0, 0],
            n: 1,
        }
    }

    fn bytes(&self) -> &[u8] {
        &self.decoded[..self.n]
    }

    /// The unit `text` starts with (not empty).
    fn at(text: &[u8]) -> Unit {
        let escaped = |len, b| Unit {
            len,
            ..Unit::raw(b)
        };
        match text {
            [b'%', hi, lo, ..] => match (hex(*hi), hex(*lo)) {
                (Some(hi), Some(lo)) => escaped(3, hi << 4 | lo),
                _ => Unit::raw(b'%'),
            },
            [b'\\', b'u', ..] => Unit::json_char(text).unwrap_or(Unit::raw(b'\\')),
            [b'\\', e, ..] => match *e {
                b'"' | b'\\' | b'/' => escaped(2, *e),
                b'b' => escaped(2, 0x08),
                b'f' => escaped(2, 0x0c),
                b'n' => escaped(2, b'\n'),
                b'r' => escaped(2, b'\r'),
                b't' => escaped(2, b'\t'),
                _ => Unit::raw(b'\\'),
            },
            _ => Unit::raw(text[0]),
        }
    }

    /// `\uXXXX`, or a surrogate pair `\uXXXX\uXXXX`; a lone surrogate is
    /// not a character.
    fn json_char(text: &[u8]) -> Option<Unit> {
        let unit = |at: usize| -> Option<u32> {
            match text.get(at..at + 6)? {
                [b'\\', b'u', digits @ ..] => digits
                    .iter()
                    .try_fold(0, |n, &d| Some(n << 4 | u32::from(hex(d)?))),
                _ => None,
            }
        };
        let high = unit(0)?;
        let (len, code) = match high {
            0xd800..=0xdbff => match unit(6)? {
                low @ 0xdc00..=0xdfff => (12, 0x10000 + ((high - 0xd800) << 10) + (low - 0xdc00)),
                _ => return None,
            },
            _ => (6, high),
        };
        let c = char::from_u32(code)?;
        let mut decoded = [0; 4];
        let n = c.encode_utf8(&mut decoded).len();
        Some(Unit { len, decoded, n })
    }
}

fn hex(d: u8) -> Option<u8> {
    match d {
        b'0'..=b'9' => Some(d - b'0'),
        b'a'..=b'f' => Some(d - b'a' + 10),
        b'A'..=b'F' => Some(d - b'A' + 10),
        _ => None,
    }
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

    /// An 80 KB secret in a 1 MB text that is one long near miss (every
    /// position starts the secret's prefix), a worst case for comparing at
    /// each position (80 billion byte compares): linear here.
    #[test]
    fn scrubbing_is_linear_whatever_the_secrets_length() {
        let secret = format!("{}b", "a".repeat(80 * 1024 - 1));
        let mut s = Secrets::default();
        s.add(&secret);
        let encoded: String = secret.bytes().map(|b| format!("%{b:02x}")).collect();
        let near_miss = "a".repeat(1024 * 1024);
        let text = format!("{near_miss}{secret}-{near_miss}{encoded}");
        let scrubbed = s.scrub(text);
        assert_eq!(
            scrubbed,
            format!("{near_miss}[redacted]-{near_miss}[redacted]")
        );
    }

    #[test]
    fn escapes_decode_whole_and_broken_ones_stay_raw() {
        let mut s = Secrets::default();
        s.add(r"x\u00e9-\-\q-emoji:😀");
        // The secret itself holds `\`, `\u00e9` (as written) and a character outside the BMP.
        let mut echo = Secrets::default();
        echo.add("emoji:😀-and-é-more");
        assert_eq!(
            echo.scrub(r#"<emoji:\ud83d\ude00-and-\u00E9-more>"#.into()),
            "<[redacted]>"
        );
        assert_eq!(
            echo.scrub(r#"<emoji:%F0%9F%98%80-and-%c3%a9-more>"#.into()),
            "<[redacted]>"
        );
        // A lone surrogate decodes to nothing; the text is kept.
        let lone = r#"<emoji:\ud83d-and-\u00E9-more>"#;
        assert_eq!(echo.scrub(lone.into()), lone);
        // As it is, wherever escapes would make something else of it.
        assert_eq!(
            s.scrub(r#"say x\u00e9-\-\q-emoji:😀!"#.into()),
            "say [redacted]!"
        );
        assert_eq!(
            s.scrub(r#"json x\\u00e9-\\-\\q-emoji:\ud83d\ude00!"#.into()),
            "json [redacted]!"
        );
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
            hint: Some(format!("grant {SECRET}").into()),
        });
        let scrubbed = format!("{:?}", s.scrub_error(e));
        assert!(!scrubbed.contains("Ab1~"), "{scrubbed}");
        assert_eq!(scrubbed.matches(REDACTED).count(), 4);
    }
}
