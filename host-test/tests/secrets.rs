//! A canary secret and token run through every error path: they appear in no
//! error, no log record and no `--show-requests` line. (`cli/tests/secrets.rs`
//! checks the CLI's output.)

mod common;

use common::*;
use host_test::canary::{SECRET, TOKEN, assert_clean, failing_answers, token_answer};
use mde_connector_host::runtime::redacted;
use mde_connector_host::{Auth, ClientCredentials};

fn credentials() -> Auth {
    Auth::ClientCredentials(ClientCredentials {
        tenant_id: "contoso.onmicrosoft.com".into(),
        client_id: "client".into(),
        client_secret: SECRET.into(),
    })
}

fn check(instance: &mde_connector_host::Instance, outcome: &str) {
    assert_clean("the error", outcome);
    assert_clean("the logs", &format!("{:?}", instance.state().logs));
    for request in &instance.state().requests {
        assert_clean("--show-requests", &redacted(request));
    }
}

#[test]
fn no_error_path_leaks_a_client_secret_or_its_token() {
    let mut paths = 0;
    for failure in failing_answers() {
        // The failure answers the token request ...
        let mut instance = replaying(credentials(), vec![failure.clone()]);
        let outcome = format!("{:?}", instance.domain_machines("contoso.com").unwrap());
        check(&instance, &outcome);
        // ... or the API call made with the token.
        let mut instance = replaying(credentials(), vec![token_answer(), failure.clone()]);
        let outcome = format!("{:?}", instance.domain_machines("contoso.com").unwrap());
        check(&instance, &outcome);
        // ... or the repeat after a refused, kept token.
        let mut instance = replaying(
            credentials(),
            vec![
                token_answer(),
                json(200, r#"{"value":[]}"#),
                json(401, ""),
                token_answer(),
                failure,
            ],
        );
        instance.domain_machines("contoso.com").unwrap().unwrap();
        let outcome = format!("{:?}", instance.domain_machines("contoso.com").unwrap());
        check(&instance, &outcome);
        paths += 3;
    }
    // A token answer that is malformed around the canary.
    for body in [
        format!(r#"{{"access_token":"{TOKEN} x"}}"#),
        format!(r#"{{"access_token":["{TOKEN}"]}}"#),
        format!(r#"{{"access_token":"{TOKEN}""#),
    ] {
        let mut instance = replaying(credentials(), vec![json(200, &body)]);
        let outcome = format!("{:?}", instance.domain_machines("contoso.com").unwrap());
        check(&instance, &outcome);
        paths += 1;
    }
    // Input and settings errors.
    for (auth, domain) in [
        (credentials(), "bad/domain"),
        (
            Auth::BearerToken(format!("{TOKEN} with space")),
            "contoso.com",
        ),
        (Auth::BearerToken(format!("{TOKEN}\r\nX: y")), "contoso.com"),
    ] {
        let mut instance = replaying(auth, vec![]);
        let outcome = format!("{:?}", instance.domain_machines(domain).unwrap());
        check(&instance, &outcome);
        paths += 1;
    }
    assert_eq!(paths, 33);
}

#[test]
fn a_bearer_token_never_leaks_through_any_error() {
    for failure in failing_answers() {
        let mut instance = replaying(Auth::BearerToken(TOKEN.into()), vec![failure]);
        let outcome = format!("{:?}", instance.domain_machines("contoso.com").unwrap());
        check(&instance, &outcome);
        assert_eq!(
            instance.state().requests[0]
                .headers
                .last()
                .map(|(_, v)| v.as_str()),
            Some(format!("Bearer {TOKEN}").as_str()),
            "the token was sent, so the test means something"
        );
    }
}
