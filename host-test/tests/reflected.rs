//! A hostile server that reflects each request into its answer: the token
//! form (client secret and all) in an `error_description`, the
//! `Authorization` header in an API envelope or a machine, a 404 body that
//! starts with the form. The component scrubs every secret it holds, in
//! every encoding it sent it, before the text reaches an error, a log record
//! or an output: through the built component and the CLI.

mod common;

use common::*;
use host_test::canary::reflected::{SECRET, TOKEN, leaked};
use mde_connector_host::runtime::{Request, Response, TransportError};
use mde_connector_host::transport::FnTransport;
use mde_connector_host::{Auth, ClientCredentials};

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
) -> mde_connector_host::Instance {
    let backend = FnTransport(
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
fn said(instance: &mde_connector_host::Instance, outcome: &impl std::fmt::Debug) -> String {
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
                "target": request.header("authorization"),
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
        let authorization = request.header("authorization").unwrap_or_default();
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
    let texts = instance.lookup_texts("contoso.com").unwrap().unwrap();
    let outputs = [
        format!("{found:?}"),
        texts.machines.concat(),
        instance
            .ocsf_inventory(&texts, 0)
            .unwrap()
            .unwrap()
            .concat(),
        instance.ecs_documents(&texts, 0).unwrap().unwrap().concat(),
    ];
    for output in outputs {
        assert!(!leaked(&output), "{output}");
        assert!(output.contains("Bearer [redacted]"), "{output}");
    }
    let logs = format!("{:?}", instance.state().logs);
    assert!(!leaked(&logs), "{logs}");
}
