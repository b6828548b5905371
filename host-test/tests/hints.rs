//! Replays of the errors people hit (mde-api.md, "Errors people hit")
//! through the built component: each error keeps the service's code,
//! message and correlation id, and its `hint` names the fix.

mod common;

use common::*;
use mde_connector::claims::base64url_encode;
use mde_connector_host::Auth;

/// The component's error for `answers`, as the core prints it.
fn error_after(auth: Auth, answers: Vec<mde_connector_host::runtime::Response>) -> String {
    let mut instance = replaying(auth, answers);
    let e = instance
        .domain_machines("contoso.com")
        .unwrap()
        .unwrap_err();
    mde_connector::Error::from(e).to_string()
}

#[test]
fn both_403_forms_name_the_required_roles_and_the_role_to_grant() {
    let old = r#"{"error":{"code":"Forbidden","message":"The application does not have any of the required application permissions (Machine.Read.All, Machine.ReadWrite.All) to access the resource.","target":"c-403-old"}}"#;
    let now = r#"{"error":{"code":"Forbidden","message":"Missing application roles. API required roles: Machine.Read.All,Machine.ReadWrite.All, application roles: Machine.Isolate.","target":"c-403-now"}}"#;
    for (body, id) in [(old, "c-403-old"), (now, "c-403-now")] {
        let said = error_after(Auth::HostManaged, vec![json(403, body)]);
        assert!(
            said.starts_with("forbidden: API answered 403 Forbidden: "),
            "{said}"
        );
        assert!(said.contains(&format!("(correlation id {id}); to fix: the service requires one of Machine.Read.All, Machine.ReadWrite.All")), "{said}");
        assert!(
            said.contains("grant the application Machine.Read.All"),
            "{said}"
        );
        assert!(said.contains("admin consent"), "{said}");
    }
}

#[test]
fn each_identity_platform_code_names_its_fix() {
    for (status, code, description, fix) in [
        (
            401,
            "invalid_client",
            "AADSTS7000215: Invalid client secret provided.",
            "the client secret is wrong",
        ),
        (
            401,
            "invalid_client",
            "AADSTS7000222: The provided client secret keys for app are expired.",
            "the client secret has expired",
        ),
        (
            400,
            "unauthorized_client",
            "AADSTS700016: Application with identifier 'x' was not found in the directory 'y'.",
            "no application with this client id",
        ),
        (
            400,
            "invalid_request",
            "AADSTS90002: Tenant 'contoso' not found.",
            "the tenant was not found",
        ),
        (
            401,
            "invalid_client",
            "AADSTS700027: Client assertion failed signature validation.",
            "upload the certificate",
        ),
        (
            400,
            "invalid_resource",
            "AADSTS500011: The resource principal named https://api-gov.securitycenter.microsoft.us was not found in the tenant.",
            "check --cloud",
        ),
    ] {
        let body = format!(
            r#"{{"error":"{code}","error_description":"{description}","correlation_id":"c-{status}"}}"#
        );
        let said = error_after(demo_credentials(), vec![json(status, &body)]);
        assert!(said.starts_with(&format!("unauthorized: identity platform answered {status} {code}: {description} (correlation id c-{status}); to fix: ")), "{said}");
        assert!(said.contains(fix), "{fix}: {said}");
    }
}

#[test]
fn a_401_for_a_token_of_another_cloud_names_the_cloud_to_try() {
    let payload = br#"{"aud":"https://api-gov.securitycenter.microsoft.us","tid":"t","roles":["Machine.Read.All"]}"#;
    let token = format!(
        "eyJhbGciOiJub25lIn0.{}.c2lnbmF0dXJl",
        base64url_encode(payload)
    );
    let said = error_after(
        Auth::BearerToken(token),
        vec![json(
            401,
            r#"{"error":{"code":"Unauthorized","message":"Unauthorized","target":"c-401"}}"#,
        )],
    );
    assert!(said.starts_with("unauthorized: API answered 401 Unauthorized: Unauthorized (correlation id c-401); to fix: "), "{said}");
    assert!(said.contains("try --cloud gcc-high"), "{said}");
}
