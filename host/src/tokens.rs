//! One access token per (token endpoint, client, scope), shared by every
//! instance of a host: the identity platform sees one token request an hour,
//! not one per instance or per lookup.
//!
//! The component still asks for its token and reads the answer itself (so
//! an identity-platform failure is reported as one); the gateway answers a
//! token request from this shelf while the token it holds is fresh, and asks
//! the identity platform once, for all instances, when it is not. A token is
//! used until shortly before it expires: an API request that carries a token
//! past that point is answered `401` by the host itself, without spending the
//! API's budget, and the component fetches the fresh one, as it does after a
//! real `401`. A token the API refuses is dropped from the shelf.

use crate::bindings::{Method, Request, Response, TransportError};
use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

/// How long before its expiry a token is replaced: as the Azure identity
/// libraries do, five minutes (or half the lifetime of a shorter-lived one).
pub const REFRESH_MARGIN: Duration = Duration::from_secs(5 * 60);

/// A granted token and its answer, as the identity platform sent them.
struct Held {
    answer: Response,
    access_token: String,
    /// On the host's clock: from here on the token is not handed out or sent.
    refresh_at: Duration,
}

/// The tokens of every instance, by grant.
#[derive(Default)]
pub struct TokenShelf {
    /// Each grant's slot is locked while its token is fetched, so that
    /// instances asking at once wait for one answer (single flight).
    grants: Mutex<HashMap<String, Arc<Mutex<Option<Held>>>>>,
}

/// Locks, going on after a panic elsewhere: the shelf holds plain data.
fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

impl TokenShelf {
    /// Which grant a request asks for: the token URL (it names the tenant),
    /// `client_id` and `scope` of a client-credentials POST; `None` for any
    /// other request.
    pub fn grant(request: &Request) -> Option<String> {
        if request.method != Method::Post {
            return None;
        }
        let form = std::str::from_utf8(request.body.as_deref()?).ok()?;
        let field = |name: &str| {
            form.split('&')
                .filter_map(|pair| pair.split_once('='))
                .find(|(n, _)| *n == name)
                .map(|(_, v)| v)
        };
        (field("grant_type")? == "client_credentials").then_some(())?;
        Some(format!(
            "{} {} {}",
            request.url.to_ascii_lowercase(),
            field("client_id")?.to_ascii_lowercase(),
            field("scope")?
        ))
    }

    /// The answer to the token request of `grant`: the held one while it is
    /// fresh at `now`, else what `fetch` gets (kept when it grants a token).
    pub fn answer(
        &self,
        grant: String,
        now: impl Fn() -> Duration,
        fetch: impl FnOnce() -> Result<Response, TransportError>,
    ) -> Result<Response, TransportError> {
        let slot = lock(&self.grants).entry(grant).or_default().clone();
        let mut held = lock(&slot);
        if let Some(token) = held.as_ref().filter(|t| now() < t.refresh_at) {
            return Ok(token.answer.clone());
        }
        let answer = fetch()?;
        *held = granted(&answer).map(|(access_token, lifetime)| Held {
            refresh_at: now() + lifetime.saturating_sub(REFRESH_MARGIN.min(lifetime / 2)),
            answer: answer.clone(),
            access_token,
        });
        Ok(answer)
    }

    /// Whether `token` is one this shelf handed out and would no longer send.
    pub fn is_stale(&self, token: &str, now: Duration) -> bool {
        self.find(token, |held| now >= held.refresh_at)
    }

    /// Drops `token` (the API refused it): the next request fetches another.
    pub fn forget(&self, token: &str) {
        let slots: Vec<_> = lock(&self.grants).values().cloned().collect();
        for slot in slots {
            let mut held = lock(&slot);
            if held.as_ref().is_some_and(|h| h.access_token == token) {
                *held = None;
            }
        }
    }

    fn find(&self, token: &str, test: impl Fn(&Held) -> bool) -> bool {
        let slots: Vec<_> = lock(&self.grants).values().cloned().collect();
        slots.iter().any(|slot| {
            // A slot being fetched right now holds no token of interest:
            // skip it rather than wait for the identity platform.
            slot.try_lock()
                .ok()
                .and_then(|held| held.as_ref().map(|h| h.access_token == token && test(h)))
                .unwrap_or(false)
        })
    }
}

/// The token and its lifetime in a successful grant, if it is one.
fn granted(answer: &Response) -> Option<(String, Duration)> {
    if answer.status != 200 {
        return None;
    }
    #[derive(serde::Deserialize)]
    struct Grant {
        access_token: String,
        expires_in: serde_json::Value,
    }
    let grant: Grant = serde_json::from_slice(answer.body.as_bytes()).ok()?;
    // One the component refuses (mde_connector::response::access_token) is not held.
    (grant.access_token.len() <= mde_connector::response::MAX_TOKEN_LEN).then_some(())?;
    // Sent as a number, and by some versions of the platform as a string.
    let seconds = match &grant.expires_in {
        serde_json::Value::Number(n) => n.as_u64()?,
        serde_json::Value::String(s) => s.parse().ok()?,
        _ => return None,
    };
    Some((grant.access_token, Duration::from_secs(seconds.min(86_400))))
}

/// A `401` the host makes itself for a token it knows to be expiring, so the
/// component fetches the fresh one as after the service's own.
pub fn token_expiring() -> Response {
    Response {
        status: 401,
        headers: vec![("content-type".into(), "application/json".into())],
        body: br#"{"error":{"code":"HostTokenExpiring","message":"The host replaced this access token before it expired; ask for a new one."}}"#
            .to_vec()
            .into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cell::Cell;

    fn token_request(client: &str) -> Request {
        Request {
            method: Method::Post,
            url: "https://login.example/tenant/oauth2/v2.0/token".into(),
            headers: vec![],
            body: Some(
                format!("grant_type=client_credentials&client_id={client}&client_secret=s&scope=api%2F.default")
                    .into_bytes(),
            ),
        }
    }

    fn grant(token: &str, expires_in: &str) -> Response {
        Response {
            status: 200,
            headers: vec![],
            body: format!(r#"{{"access_token":"{token}","expires_in":{expires_in}}}"#)
                .into_bytes()
                .into(),
        }
    }

    #[test]
    fn a_grant_is_told_by_url_client_and_scope_and_only_for_client_credentials() {
        let key = TokenShelf::grant(&token_request("ABC")).unwrap();
        assert_eq!(key, TokenShelf::grant(&token_request("abc")).unwrap());
        assert_ne!(key, TokenShelf::grant(&token_request("xyz")).unwrap());
        let get = Request {
            method: Method::Get,
            ..token_request("abc")
        };
        assert_eq!(TokenShelf::grant(&get), None);
        let other = Request {
            body: Some(b"grant_type=password&client_id=a&scope=s".to_vec()),
            ..token_request("abc")
        };
        assert_eq!(TokenShelf::grant(&other), None);
    }

    #[test]
    fn a_token_is_fetched_once_and_replaced_five_minutes_before_it_expires() {
        let shelf = TokenShelf::default();
        let now = Cell::new(Duration::ZERO);
        let fetched = Cell::new(0);
        let ask = |token: &str| {
            let key = TokenShelf::grant(&token_request("c")).unwrap();
            shelf
                .answer(
                    key,
                    || now.get(),
                    || {
                        fetched.set(fetched.get() + 1);
                        Ok(grant(token, "3599"))
                    },
                )
                .unwrap()
        };
        assert_eq!(ask("t1"), grant("t1", "3599"));
        now.set(Duration::from_secs(3000));
        assert_eq!(
            ask("t2"),
            grant("t1", "3599"),
            "still fresh: the same answer"
        );
        assert_eq!(fetched.get(), 1);
        assert!(!shelf.is_stale("t1", now.get()));
        now.set(Duration::from_secs(3599 - 300));
        assert!(shelf.is_stale("t1", now.get()));
        assert_eq!(ask("t2"), grant("t2", "3599"));
        assert_eq!(fetched.get(), 2);
        assert!(!shelf.is_stale("t2", now.get()));
        assert!(!shelf.is_stale("unknown", now.get()));
    }

    #[test]
    fn a_token_over_the_components_cap_is_never_held() {
        let shelf = TokenShelf::default();
        let long = "t".repeat(mde_connector::response::MAX_TOKEN_LEN + 1);
        let fetched = Cell::new(0);
        for _ in 0..2 {
            let key = TokenShelf::grant(&token_request("c")).unwrap();
            let answer = shelf.answer(
                key,
                || Duration::ZERO,
                || {
                    fetched.set(fetched.get() + 1);
                    Ok(grant(&long, "3599"))
                },
            );
            assert_eq!(answer.unwrap().status, 200);
        }
        assert_eq!(fetched.get(), 2, "fetched again, not held");
        assert!(!shelf.is_stale(&long, Duration::from_secs(86_400)));
    }

    #[test]
    fn a_refused_token_is_forgotten_and_failures_are_never_kept() {
        let shelf = TokenShelf::default();
        let key = || TokenShelf::grant(&token_request("c")).unwrap();
        let zero = || Duration::ZERO;
        shelf.answer(key(), zero, || Ok(grant("t1", "60"))).unwrap();
        shelf.forget("t1");
        let refused = Response {
            status: 400,
            ..grant("x", "1")
        };
        assert_eq!(
            shelf.answer(key(), zero, || Ok(refused.clone())),
            Ok(refused)
        );
        assert_eq!(
            shelf.answer(key(), zero, || Err(TransportError::Timeout)),
            Err(TransportError::Timeout)
        );
        // A short-lived token is still used for half its life.
        let answer = shelf.answer(key(), zero, || Ok(grant("t3", "\"60\"")));
        assert_eq!(answer, Ok(grant("t3", "\"60\"")));
        assert!(!shelf.is_stale("t3", Duration::from_secs(29)));
        assert!(shelf.is_stale("t3", Duration::from_secs(30)));
    }
}
