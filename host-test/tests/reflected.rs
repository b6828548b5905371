//! A hostile server that reflects each request into its answer: the token
//! form (client secret and all) in an `error_description`, the
//! `Authorization` header in an API envelope or a machine, a 404 body that
//! starts with the form. The component scrubs every secret it holds, in
//! every encoding it sent it, before the text reaches an error, a log record
//! or an output: through the built component and the CLI.

mod common;

use common::*;
use host_test::backend::FnBackend;
use host_test::runtime::{Auth, ClientCredentials, Request, Response, TransportError};
use std::process::Command;

/// Every character class the form encoding changes: `~ + / space`.
const SECRET: &str = "CANARY~secret+value/7f3a x";
const TOKEN: &str = "CANARY-token.eyJ0eXAiOiJKV1Qi";

/// Every form of the canaries a leak could take.
fn leaked(text: &str) -> bool {
    ["CANARY", "secret%2B", "secret+value", "eyJ0eXAi"]
        .iter()
        .any(|c| text.contains(c))
}

fn credentials() -> Auth {
    Auth::ClientCredentials(ClientCredentials {
        tenant_id: "contoso.onmicrosoft.com".into(),
        client_id: "client".into(),
        client_secret: SECRET.into(),
    })
}

fn body_of(request: &Request) -> String {
    String::from_utf8_lossy(request.body.as_deref().unwrap_or_default()).into_owned()
}

fn headers_of(request: &Request) -> String {
    request
        .headers
        .iter()
        .map(|(n, v)| format!("{n}: {v}"))
        .collect::<Vec<_>>()
        .join("\\r\\n")
}

/// A server whose token endpoint answers `token(request)` and whose API
/// answers `api(request)`.
fn reflecting(
    auth: Auth,
    token: impl Fn(&Request) -> Response + Send + 'static,
    api: impl Fn(&Request) -> Response + Send + 'static,
) -> host_test::Instance {
    let backend = FnBackend(
        move |request: &Request| -> Result<Response, TransportError> {
            Ok(if request.url.contains("/oauth2/") {
                token(request)
            } else {
                api(request)
            })
        },
    );
    instance(settings(auth), backend)
}

fn granted(_: &Request) -> Response {
    json(200, &format!(r#"{{"access_token":"{TOKEN}"}}"#))
}

/// Everything the instance said: the outcome, every log record.
fn said(instance: &host_test::Instance, outcome: &impl std::fmt::Debug) -> String {
    format!("{outcome:?} {:?}", instance.state().logs)
}

#[test]
fn a_token_endpoint_that_echoes_the_form_gets_it_scrubbed() {
    let echo_in_description = |request: &Request| {
        json(
            401,
            &serde_json::json!({
                "error": "invalid_client",
                "error_description": format!("AADSTS7000215: got {}", body_of(request)),
                "correlation_id": SECRET,
            })
            .to_string(),
        )
    };
    let form_then_404 =
        |request: &Request| answer(404, &[], format!("{} not found", body_of(request)));
    let echo_everything = |request: &Request| {
        answer(
            418,
            &[],
            format!(
                "{} {} {}",
                body_of(request),
                headers_of(request),
                request.url
            ),
        )
    };
    for token in [
        Box::new(echo_in_description) as Box<dyn Fn(&Request) -> Response + Send>,
        Box::new(form_then_404),
        Box::new(echo_everything),
    ] {
        let mut instance = reflecting(credentials(), token, |_| json(200, r#"{"value":[]}"#));
        let outcome = instance.domain_machines("contoso.com").unwrap();
        let form = body_of(&instance.state().requests[0]);
        assert!(
            form.contains("client_secret=CANARY%7Esecret%2Bvalue%2F7f3a+x"),
            "{form}"
        );
        let said = said(&instance, &outcome);
        assert!(outcome.is_err(), "{said}");
        assert!(!leaked(&said), "{said}");
        assert!(said.contains("client_secret=[redacted]"), "{said}");
    }
}

#[test]
fn an_api_that_echoes_the_authorization_header_gets_it_scrubbed() {
    for status in [400, 401, 403, 404, 429, 500] {
        let echo = move |request: &Request| {
            let envelope = serde_json::json!({"error": {
                "code": "Echo",
                "message": format!("request had {}", headers_of(request)),
                "target": header(request, "authorization"),
            }});
            json(status, &envelope.to_string())
        };
        for auth in [credentials(), Auth::BearerToken(TOKEN.into())] {
            let mut instance = reflecting(auth, granted, echo);
            let outcome = instance.domain_machines("contoso.com").unwrap();
            let said = said(&instance, &outcome);
            assert!(!leaked(&said), "{status}: {said}");
            assert!(said.contains("Bearer [redacted]"), "{status}: {said}");
        }
    }
}

#[test]
fn machines_that_carry_the_token_are_scrubbed_in_every_output() {
    let echo = |request: &Request| {
        let authorization = header(request, "authorization").unwrap_or_default();
        let machine = serde_json::json!({
            "id": "9a7d3c15e02b4f6e8d1c0b2a3f4e5d6c7b8a9f01",
            "computerDnsName": authorization,
            "osBuild": authorization,
            "newMember": {"echo": authorization},
            "escaped": "ESCAPED",
        });
        // Escaped as .NET escapes some characters: the body's scrubbing
        // cannot see it; reading the member can.
        let escaped = TOKEN.replace('-', "\\u002D");
        let body = format!(r#"{{"value":[{machine}]}}"#).replace("ESCAPED", &escaped);
        json(200, &body)
    };
    let mut instance = reflecting(credentials(), granted, echo);
    let found = instance.lookup("contoso.com").unwrap().unwrap();
    let outputs = [
        format!("{found:?}"),
        instance.machines_json(&found).unwrap().concat(),
        instance
            .ocsf_inventory(&found, 0)
            .unwrap()
            .unwrap()
            .concat(),
        instance.ecs_documents(&found, 0).unwrap().unwrap().concat(),
    ];
    for output in outputs {
        assert!(!leaked(&output), "{output}");
        assert!(output.contains("Bearer [redacted]"), "{output}");
    }
    let logs = format!("{:?}", instance.state().logs);
    assert!(!leaked(&logs), "{logs}");
}

/// The CLI prints what the component gives it: recorded reflections of the
/// canaries, in the encodings the requests carried them, never reach its output.
#[test]
fn the_cli_prints_no_reflected_secret_in_any_format() {
    let form = "grant_type=client_credentials&client_id=client&client_secret=CANARY%7Esecret%2Bvalue%2F7f3a+x&scope=x";
    let token =
        serde_json::json!({"status": 200, "body": format!(r#"{{"access_token":"{TOKEN}"}}"#)});
    let reflections = [
        vec![
            serde_json::json!({"status": 401, "body": serde_json::json!({
            "error": "invalid_client", "error_description": format!("got {form}")}).to_string()}),
        ],
        vec![serde_json::json!({"status": 404, "body": format!("{form} was not found")})],
        vec![
            token.clone(),
            serde_json::json!({"status": 403, "body": serde_json::json!({
            "error": {"code": "Forbidden", "message": format!("Authorization: Bearer {TOKEN}")}}).to_string()}),
        ],
        vec![
            token,
            serde_json::json!({"status": 200, "body": serde_json::json!({
            "value": [{"id": "a", "computerDnsName": format!("Bearer {TOKEN}"), "x": form}]}).to_string()}),
        ],
    ];
    for (i, replay) in reflections.iter().enumerate() {
        let path = std::path::Path::new(env!("CARGO_TARGET_TMPDIR"))
            .join(format!("reflected-{}-{i}.json", std::process::id()));
        std::fs::write(&path, serde_json::Value::from(replay.clone()).to_string()).unwrap();
        for format in ["table", "json", "ndjson", "ocsf", "ecs"] {
            let out = Command::new(env!("CARGO_BIN_EXE_host-test"))
                .args(["contoso.com", "--format", format, "--replay"])
                .arg(&path)
                .arg("--cache-dir")
                .arg(concat!(env!("CARGO_TARGET_TMPDIR"), "/component-cache"))
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
            assert!(!leaked(&printed), "{i} {format}: {printed}");
            assert!(
                printed.contains("[redacted]"),
                "{i} {format}: the reflection was read: {printed}"
            );
        }
        std::fs::remove_file(path).unwrap();
    }
}
