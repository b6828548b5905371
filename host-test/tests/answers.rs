//! What the component makes of particular answers, through the built
//! component: a refused fresh token, a 404 with the service's envelope, a
//! body given as text.

mod common;

use common::*;
use mde_connector_host::Auth;
use mde_connector_host::runtime::Level;
use mde_connector_host::runtime::mde::connector::types::Error;

fn token(name: &str) -> mde_connector_host::runtime::Response {
    json(
        200,
        &format!(r#"{{"token_type":"Bearer","access_token":"{name}"}}"#),
    )
}

#[test]
fn a_refreshed_token_that_is_refused_is_not_sent_again() {
    let refused = || {
        json(
            401,
            r#"{"error":{"code":"Unauthorized","message":"Token expired"}}"#,
        )
    };
    let mut instance = replaying(
        demo_credentials(),
        vec![
            token("token-A"),
            json(200, r#"{"value":[]}"#),
            refused(),
            token("token-B"),
            refused(),
            token("token-C"),
            json(200, r#"{"value":[]}"#),
        ],
    );
    instance.domain_machines("contoso.com").unwrap().unwrap();
    let e = instance
        .domain_machines("contoso.com")
        .unwrap()
        .unwrap_err();
    assert!(matches!(e, Error::Unauthorized(_)), "{e:?}");
    instance.domain_machines("contoso.com").unwrap().unwrap();
    let bearer = |t: &str| Some(format!("Bearer {t}"));
    assert_eq!(
        sent(&instance),
        [
            (TOKEN_URL.to_owned(), None),
            (machines_url("contoso.com"), bearer("token-A")),
            (machines_url("contoso.com"), bearer("token-A")),
            (TOKEN_URL.to_owned(), None),
            (machines_url("contoso.com"), bearer("token-B")),
            // Call 3 starts afresh: token B was refused.
            (TOKEN_URL.to_owned(), None),
            (machines_url("contoso.com"), bearer("token-C")),
        ]
    );
}

#[test]
fn a_404_with_the_services_envelope_is_no_machines_and_a_warning() {
    let mut instance = replaying(
        demo_credentials(),
        vec![
            token("token-A"),
            json(
                404,
                r#"{"error":{"code":"ResourceNotFound","message":"Resource not found for the segment 'domains'.","target":"|4f0c.1"}}"#,
            ),
        ],
    );
    let found = instance.lookup("contoso.com").unwrap().unwrap();
    assert!(found.machines.is_empty());
    let warning = instance
        .state()
        .logs
        .iter()
        .find(|l| l.event == "not-found")
        .expect("a warning");
    assert_eq!(warning.level, Level::Warn);
    assert!(
        warning.message.contains("ResourceNotFound")
            && warning
                .message
                .contains("Resource not found for the segment 'domains'."),
        "{}",
        warning.message
    );
    // An empty 404, the older revisions' "no machines", says nothing.
    let mut instance = replaying(
        demo_credentials(),
        vec![token("token-A"), answer(404, &[], "")],
    );
    assert!(
        instance
            .lookup("contoso.com")
            .unwrap()
            .unwrap()
            .machines
            .is_empty()
    );
    assert!(instance.state().logs.iter().all(|l| l.level != Level::Warn));
}

/// A host may hand a body over as text when it is UTF-8 (a Python host
/// does: wasmtime-py passes a string at once, a byte list byte by byte) or as
/// bytes: the component reads the same answer either way.
#[test]
fn a_body_given_as_text_is_read_as_the_same_bytes() {
    let machines: Vec<_> = (0..3).map(host_test::fake_tenant::full_machine).collect();
    let body = serde_json::json!({ "value": machines }).to_string();
    let as_bytes = json(200, &body);
    let as_text = mde_connector_host::runtime::Response {
        body: mde_connector_host::runtime::Body::Text(body.clone()),
        ..as_bytes.clone()
    };
    let found = |answer| {
        replaying(Auth::HostManaged, vec![answer])
            .lookup("contoso.com")
            .unwrap()
            .unwrap()
    };
    let from_text = found(as_text);
    assert_eq!(from_text.machines.len(), 3);
    assert_eq!(from_text, found(as_bytes));
}
