//! Credentials the host holds (issue 24) through the built component and the
//! fake tenant's identity platform: a certificate's assertions (the key never
//! crosses into the sandbox), a federated token file read afresh, `check`
//! with three role sets, and errors that say what to fix.

mod common;

use common::*;
use host_test::fake_tenant::{CLIENT_ID, TENANT_ID};
use mde_connector::permissions::Lookup;
use mde_connector_host::credentials::{ClientCertificate, FederatedTokenFile};
use mde_connector_host::{Auth, Instance, Settings};
use std::path::PathBuf;
use std::sync::Arc;

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../host/fixtures/credentials"
    ))
    .join(name)
}

fn assertion_settings() -> Settings {
    settings(Auth::ClientAssertion(
        mde_connector::settings::AssertionCredentials {
            tenant_id: TENANT_ID.into(),
            client_id: CLIENT_ID.into(),
        },
    ))
}

/// An instance over `tenant` whose assertions come from `source`.
fn with_source(
    tenant: &Tenant,
    source: Arc<dyn mde_connector_host::credentials::AssertionSource>,
) -> Instance {
    runtime()
        .with_clock(tenant.clock.clone())
        .with_assertions(source)
        .instantiate(assertion_settings(), tenant.fake.clone())
        .expect("the component instantiates")
}

fn certificate(name: &str) -> Arc<ClientCertificate> {
    Arc::new(ClientCertificate::from_file(&fixture(name)).unwrap())
}

/// Everything the component sent, logged and was answered, as one text.
fn everything(instance: &Instance, outcome: &str) -> String {
    let state = instance.state();
    let mut text = format!("{outcome}\n{:?}\n", state.logs);
    for r in &state.requests {
        text.push_str(&format!("{} {:?} ", r.url, r.headers));
        text.push_str(&String::from_utf8_lossy(
            r.body.as_deref().unwrap_or_default(),
        ));
    }
    text
}

#[test]
fn a_certificate_signs_in_through_the_host_library_in_pkcs8_and_pkcs1() {
    for file in ["app.pem", "app-pkcs1.pem"] {
        let tenant = Tenant::new();
        let mut instance = with_source(&tenant, certificate(file));
        let machines = instance.domain_machines("contoso.com").unwrap().unwrap();
        assert_eq!(machines.len(), 3, "{file}");
        let fake = tenant.fake.lock().unwrap();
        assert_eq!(fake.identity.assertions.len(), 1, "{file}");
        let form = String::from_utf8(fake.requests[0].body.clone().unwrap()).unwrap();
        assert!(form.contains("client_assertion_type=urn%3Aietf%3Aparams%3Aoauth%3Aclient-assertion-type%3Ajwt-bearer"), "{form}");
        assert!(!form.contains("client_secret"), "{form}");
    }
    // Both files hold one key: one thumbprint.
    assert_eq!(
        certificate("app.pem").x5t(),
        certificate("app-pkcs1.pem").x5t()
    );
}

#[test]
fn each_assertion_has_a_new_jti_so_the_fake_accepts_the_second_token_request() {
    let tenant = Tenant::new();
    let mut instance = with_source(&tenant, certificate("app.pem"));
    instance.domain_machines("contoso.com").unwrap().unwrap();
    tenant.fake.lock().unwrap().expire_tokens();
    // The refused token is renewed with a second assertion.
    instance.domain_machines("contoso.com").unwrap().unwrap();
    let fake = tenant.fake.lock().unwrap();
    assert_eq!(fake.identity.assertions.len(), 2);
    assert_ne!(fake.identity.assertions[0], fake.identity.assertions[1]);
}

#[test]
fn a_key_the_tenant_does_not_know_is_refused_with_the_700027_hint() {
    let tenant = Tenant::new();
    let mut instance = with_source(&tenant, certificate("wrong.pem"));
    let e = instance
        .domain_machines("contoso.com")
        .unwrap()
        .unwrap_err();
    let e = mde_connector::Error::from(e);
    let shown = e.to_string();
    assert!(
        shown.starts_with(
            "unauthorized: identity platform answered 401 invalid_client: AADSTS700027"
        ),
        "{shown}"
    );
    assert!(
        shown.contains("to fix: the client assertion was refused: upload the certificate"),
        "{shown}"
    );
    assert_eq!(tenant.fake.lock().unwrap().requests.len(), 1, "no API call");
}

#[test]
fn a_file_without_its_key_or_with_another_key_is_refused_when_read() {
    let e = ClientCertificate::from_file(&fixture("mismatched.pem")).unwrap_err();
    assert!(
        e.contains("the private key does not belong to the certificate"),
        "{e}"
    );
    let e = ClientCertificate::from_file(&fixture("app-certificate-only.pem")).unwrap_err();
    assert!(e.contains("no private key"), "{e}");
    assert!(e.contains("openssl pkcs12"), "{e}");
    let e = ClientCertificate::from_file(&fixture("missing.pem")).unwrap_err();
    assert!(e.starts_with("cannot read the client certificate"), "{e}");
}

#[test]
fn a_rotated_federated_token_file_is_read_afresh_for_each_token_request() {
    let dir = std::env::temp_dir().join(format!("mde-federated-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("token");
    let (first, second) = (
        "federated-token-first-0123456789",
        "federated-token-second-0123456789",
    );
    std::fs::write(&path, format!("{first}\n")).unwrap();
    let tenant = Tenant::new();
    tenant.fake.lock().unwrap().identity.federated_tokens =
        [first, second].map(String::from).into();
    let mut instance = with_source(&tenant, Arc::new(FederatedTokenFile { path: path.clone() }));
    instance.domain_machines("contoso.com").unwrap().unwrap();
    std::fs::write(&path, second).unwrap();
    tenant.fake.lock().unwrap().expire_tokens();
    instance.domain_machines("contoso.com").unwrap().unwrap();
    assert_eq!(
        tenant.fake.lock().unwrap().identity.assertions,
        [first, second]
    );
    // The federated token is a secret: never in a log.
    assert!(!format!("{:?}", instance.state().logs).contains("federated-token-"));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn the_canary_keys_pem_text_is_in_nothing_the_component_sends_logs_or_returns() {
    let pem = std::fs::read_to_string(fixture("canary.pem")).unwrap();
    let key_lines: Vec<&str> = pem
        .split("-----BEGIN PRIVATE KEY-----")
        .nth(1)
        .unwrap()
        .lines()
        .filter(|l| l.len() > 20 && !l.starts_with("-----"))
        .collect();
    assert!(key_lines.len() > 10);
    let tenant = Tenant::new();
    let mut instance = with_source(&tenant, certificate("canary.pem"));
    let found = instance.lookup_texts("contoso.com").unwrap();
    let report = instance.check().unwrap();
    let failed = instance.lookup_texts("bad domain").unwrap();
    let config = format!("{:?}", instance.state().settings());
    let text = everything(
        &instance,
        &format!("{found:?} {report:?} {failed:?} {config}"),
    );
    for line in &key_lines {
        assert!(
            !text.contains(line),
            "a line of the canary key crossed: {line}"
        );
    }
    // And the assertion made from it is scrubbed like any secret.
    assert!(report.is_ok(), "{report:?}");
}

#[test]
fn check_reports_the_roles_and_what_they_permit_never_the_token() {
    for (roles, domain_ok) in [
        (vec!["Machine.Read.All"], true),
        (vec!["Machine.ReadWrite.All"], true),
        (vec![], false),
    ] {
        let tenant = Tenant::new();
        tenant.fake.lock().unwrap().roles = roles.iter().map(|r| r.to_string()).collect();
        let mut instance = with_source(&tenant, certificate("app.pem"));
        let report = instance.check().unwrap().unwrap();
        assert_eq!(
            report.permits(Lookup::DomainMachines),
            domain_ok,
            "{roles:?}"
        );
        assert_eq!(report.claims.roles, roles);
        assert_eq!(report.claims.tenant_id.as_deref(), Some(TENANT_ID));
        assert_eq!(report.claims.app_id.as_deref(), Some(CLIENT_ID));
        assert_eq!(report.lookups.len(), Lookup::ALL.len());
        let api_calls = tenant
            .fake
            .lock()
            .unwrap()
            .requests
            .iter()
            .filter(|r| r.url.contains("/api/"))
            .count();
        assert_eq!(api_calls, 0, "check sends no API request");
        assert!(!format!("{report:?}").contains("fake-access-token"));
    }
}

#[test]
fn a_403_for_missing_roles_names_the_role_to_grant() {
    let tenant = Tenant::new();
    tenant.fake.lock().unwrap().roles = vec!["Machine.Isolate".into()];
    let mut instance = tenant.instance(settings(demo_credentials()));
    let e = mde_connector::Error::from(
        instance
            .domain_machines("contoso.com")
            .unwrap()
            .unwrap_err(),
    );
    let shown = e.to_string();
    assert!(
        shown.starts_with("forbidden: API answered 403 Forbidden: Missing application roles."),
        "{shown}"
    );
    assert!(
        shown.contains("to fix: the service requires one of Machine.Read.All, Machine.ReadWrite.All and the token carries Machine.Isolate; grant the application Machine.Read.All"),
        "{shown}"
    );
}

#[test]
fn without_an_assertion_source_the_host_says_how_to_configure_one() {
    let tenant = Tenant::new();
    let mut instance = tenant.instance(assertion_settings());
    let e = instance
        .domain_machines("contoso.com")
        .unwrap()
        .unwrap_err();
    let shown = mde_connector::Error::from(e).to_string();
    assert!(
        shown.starts_with(
            "invalid-settings: no client assertion: the host has no client certificate"
        ),
        "{shown}"
    );
    assert!(shown.contains("--client-certificate"), "{shown}");
    assert!(tenant.fake.lock().unwrap().requests.is_empty());
}

#[test]
fn the_fake_identity_platform_checks_every_part_of_an_assertion() {
    use host_test::fake_identity::FakeIdentity;
    let url = format!("https://login.microsoftonline.com/{TENANT_ID}/oauth2/v2.0/token");
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let app = certificate("app.pem");
    let mut identity = FakeIdentity::default();
    let good = app.assertion_at(CLIENT_ID, &url, now).unwrap();
    assert_eq!(identity.verify(&good, CLIENT_ID, &url), Ok(()));
    assert!(
        identity
            .verify(&good, CLIENT_ID, &url)
            .unwrap_err()
            .contains("jti was used before")
    );
    let refused = |identity: &mut FakeIdentity, assertion: &str, client: &str| {
        identity.verify(assertion, client, &url).unwrap_err()
    };
    let other_aud = app
        .assertion_at(CLIENT_ID, "https://login.example/t", now)
        .unwrap();
    assert!(refused(&mut identity, &other_aud, CLIENT_ID).contains("aud"));
    let fresh = app.assertion_at(CLIENT_ID, &url, now).unwrap();
    assert!(refused(&mut identity, &fresh, "another-client").contains("iss"));
    let old = app.assertion_at(CLIENT_ID, &url, now - 3600).unwrap();
    assert!(refused(&mut identity, &old, CLIENT_ID).contains("not valid now"));
    // A signature of other bytes.
    let fresh = app.assertion_at(CLIENT_ID, &url, now).unwrap();
    let (signed, _) = fresh.rsplit_once('.').unwrap();
    let (_, other_signature) = good.rsplit_once('.').unwrap();
    let forged = format!("{signed}.{other_signature}");
    assert!(refused(&mut identity, &forged, CLIENT_ID).contains("signature does not match"));
    let e = refused(&mut identity, "a.b", CLIENT_ID);
    assert!(e.starts_with("AADSTS700027"), "{e}");
}

/// A managed identity on a fake IMDS at 127.0.0.1 (the fake tenant answers it).
fn managed(tenant: &Tenant) -> Instance {
    use mde_connector_host::credentials::{Endpoint, ManagedIdentity};
    let identity = ManagedIdentity::new(
        Endpoint::Imds("http://127.0.0.1:50342/metadata/identity/oauth2/token".into()),
        Some("user-assigned-client".into()),
    );
    runtime()
        .with_clock(tenant.clock.clone())
        .with_managed_identity(Arc::new(identity))
        .instantiate(settings(Auth::HostManaged), tenant.fake.clone())
        .expect("the component instantiates")
}

#[test]
fn a_managed_identity_token_is_added_by_the_host_and_never_seen_by_the_component() {
    let tenant = Tenant::new();
    let mut instance = managed(&tenant);
    assert_eq!(
        instance
            .domain_machines("contoso.com")
            .unwrap()
            .unwrap()
            .len(),
        3
    );
    assert_eq!(
        instance
            .domain_machines("fabrikam.com")
            .unwrap()
            .unwrap()
            .len(),
        500
    );
    let fake = tenant.fake.lock().unwrap();
    let urls: Vec<&str> = fake.requests.iter().map(|r| r.url.as_str()).collect();
    assert_eq!(urls.len(), 3, "one token for both calls: {urls:?}");
    assert_eq!(
        urls[0],
        "http://127.0.0.1:50342/metadata/identity/oauth2/token?api-version=2018-02-01&resource=https%3A%2F%2Fapi.securitycenter.microsoft.com&client_id=user-assigned-client"
    );
    assert_eq!(fake.requests[0].header("metadata"), Some("true"));
    assert!(fake.requests[1].header("authorization").is_some());
    // The component asked for the API calls only, without a token.
    let asked = sent(&instance);
    assert_eq!(asked.len(), 2);
    assert!(asked.iter().all(|(_, auth)| auth.is_none()), "{asked:?}");
    drop(fake);
    // check decodes the managed identity's token natively.
    let report = instance.check().unwrap().unwrap();
    assert!(report.permits(Lookup::DomainMachines));
    assert_eq!(report.claims.tenant_id.as_deref(), Some(TENANT_ID));
}

#[test]
fn the_identity_endpoint_is_allowed_only_when_a_managed_identity_is_chosen() {
    use mde_connector_host::clock::ManualClock;
    use mde_connector_host::gateway::{Gateway, Policy};
    use mde_connector_host::runtime::{Method, Request};
    let endpoint = "http://127.0.0.1:50342/metadata/identity/oauth2/token";
    let imds = |url: &str| Request {
        method: Method::Get,
        url: format!("{url}?api-version=2018-02-01&resource=x"),
        headers: vec![("metadata".into(), "true".into())],
        body: None,
    };
    let gateway = |identity: Option<&str>| {
        let mut options = passthrough_policy();
        options.identity_endpoint = identity.map(str::to_owned);
        let endpoints = mde_connector_host::Cloud::Commercial.endpoints().unwrap();
        let tenant = Tenant::new();
        Gateway::new(
            Policy::for_endpoints(&endpoints, options).unwrap(),
            "bearer".into(),
            Default::default(),
            Default::default(),
            Arc::new(ManualClock::default()),
            Box::new(tenant.fake.clone()),
        )
    };
    let refused = gateway(None).send(&imds(endpoint)).unwrap_err();
    assert!(
        format!("{refused:?}").contains("is not on the host's egress allow-list"),
        "{refused:?}"
    );
    let mut chosen = gateway(Some(endpoint));
    assert_eq!(chosen.send(&imds(endpoint)).unwrap().status, 200);
    // Exactly that endpoint: another port or path's origin is still refused.
    assert!(
        chosen
            .send(&imds(
                "http://127.0.0.1:50343/metadata/identity/oauth2/token"
            ))
            .is_err()
    );
    assert!(
        chosen
            .send(&imds(
                "http://169.254.169.254/metadata/identity/oauth2/token"
            ))
            .is_err()
    );
}

/// The assertion the host makes is a secret the host scrubs: a careless
/// component that puts it in its error and log (`tell.example`) and in
/// `check`'s error passes on none of it.
#[test]
fn a_component_that_leaks_its_assertion_leaks_nothing_through_the_host() {
    use mde_connector_host::runtime::RuntimeOptions;
    const MISBEHAVING: &[u8] = include_bytes!(env!("MISBEHAVING_GUEST_COMPONENT"));
    let options = RuntimeOptions {
        cache_dir: Some(concat!(env!("CARGO_TARGET_TMPDIR"), "/component-cache").into()),
        policy: passthrough_policy(),
        ..RuntimeOptions::default()
    };
    let runtime = mde_connector_host::Runtime::with_options(MISBEHAVING, options)
        .unwrap()
        .with_assertions(certificate("app.pem"));
    let tenant = Tenant::new();
    let mut instance = runtime
        .instantiate(assertion_settings(), tenant.fake.clone())
        .unwrap();
    let e = instance
        .domain_machines("tell.example")
        .unwrap()
        .unwrap_err();
    let checked = instance.check().unwrap().unwrap_err();
    let passed_on = format!("{e:?} {checked:?} {:?}", instance.state().logs);
    assert!(passed_on.contains("holding [redacted]"), "{passed_on}");
    // Nothing of a JWT (`eyJ...`) is left.
    assert!(!passed_on.contains("eyJ"), "{passed_on}");
    // The host signs for the settings' token endpoint only.
    let e = instance
        .domain_machines("audience.example")
        .unwrap()
        .unwrap_err();
    let said = format!("{e:?}");
    assert!(
        said.contains("the host makes client assertions only for the settings' token endpoint"),
        "{said}"
    );
    assert!(!said.contains("got "), "{said}");
}
