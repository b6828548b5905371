//! A canary secret and token run through every error path: they appear in no
//! error, no log record, no `--show-requests` line and no CLI output.

mod common;

use common::*;
use host_test::runtime::{Auth, ClientCredentials, Response, redacted};
use std::process::Command;

const SECRET: &str = "CANARY-SECRET-7f3a";
const TOKEN: &str = "CANARY-TOKEN-91bc";

fn token_answer() -> Response {
    json(
        200,
        &format!(r#"{{"token_type":"Bearer","access_token":"{TOKEN}"}}"#),
    )
}

/// Every answer after which the component reports an error.
fn failing_answers() -> Vec<Response> {
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

fn credentials() -> Auth {
    Auth::ClientCredentials(ClientCredentials {
        tenant_id: "contoso.onmicrosoft.com".into(),
        client_id: "client".into(),
        client_secret: SECRET.into(),
    })
}

fn assert_clean(what: &str, text: &str) {
    assert!(
        !text.contains(SECRET) && !text.contains(TOKEN),
        "{what} leaks a canary: {text}"
    );
}

fn check(instance: &host_test::Instance, outcome: &str) {
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

#[test]
fn the_cli_never_prints_a_canary() {
    let failures = failing_answers();
    let cache = concat!(env!("CARGO_TARGET_TMPDIR"), "/component-cache");
    for (i, failure) in failures.iter().enumerate() {
        let body = String::from_utf8(failure.body.clone()).unwrap();
        let headers: serde_json::Map<String, serde_json::Value> = failure
            .headers
            .iter()
            .map(|(n, v)| (n.clone(), v.clone().into()))
            .collect();
        let token =
            serde_json::json!({"status": 200, "body": format!(r#"{{"access_token":"{TOKEN}"}}"#)});
        let replay = serde_json::json!([token, {"status": failure.status, "headers": headers, "body": body}]);
        let path = std::path::Path::new(env!("CARGO_TARGET_TMPDIR"))
            .join(format!("canary-{}-{i}.json", std::process::id()));
        std::fs::write(&path, replay.to_string()).unwrap();
        for format in ["table", "json", "ndjson"] {
            let out = Command::new(env!("CARGO_BIN_EXE_host-test"))
                .args([
                    "contoso.com",
                    "--show-requests",
                    "--format",
                    format,
                    "--cache-dir",
                    cache,
                ])
                .arg("--replay")
                .arg(&path)
                .env_remove("MDE_TOKEN")
                .env("MDE_TENANT_ID", "contoso.onmicrosoft.com")
                .env("MDE_CLIENT_ID", "client")
                .env("MDE_CLIENT_SECRET", SECRET)
                .output()
                .unwrap();
            let printed = format!(
                "{}{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            );
            assert!(
                printed.contains("POST "),
                "the token request was made: {printed}"
            );
            assert_clean("the CLI", &printed);
        }
        std::fs::remove_file(path).unwrap();
    }
}
