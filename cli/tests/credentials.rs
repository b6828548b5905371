//! The CLI's credential sources (issue 24) against the embedded demo tenant:
//! a certificate (`--client-certificate` / `MDE_CLIENT_CERTIFICATE`), a
//! federated token file, their conflicts, and `check`.

mod common;

use common::*;
use host_test::fake_tenant::{CLIENT_ID, TENANT_ID};

fn fixture(name: &str) -> String {
    format!(
        "{}/../host/fixtures/credentials/{name}",
        env!("CARGO_MANIFEST_DIR")
    )
}

const IDS: [(&str, &str); 2] = [("MDE_TENANT_ID", TENANT_ID), ("MDE_CLIENT_ID", CLIENT_ID)];

/// The base64 lines of a fixture's private key.
fn key_lines(name: &str) -> Vec<String> {
    let pem = std::fs::read_to_string(fixture(name)).unwrap();
    let key = pem.split("PRIVATE KEY-----").nth(1).unwrap();
    key.lines()
        .filter(|l| l.len() > 20 && !l.starts_with("-----"))
        .map(str::to_owned)
        .collect()
}

#[test]
fn a_certificate_signs_in_from_the_flag_or_the_variable() {
    let by_flag = cli(
        &[
            "contoso.com",
            "--format",
            "ndjson",
            "--client-certificate",
            &fixture("app.pem"),
        ],
        &IDS,
    );
    assert_eq!(by_flag.status.code(), Some(0), "{}", printed(&by_flag));
    assert_eq!(text(&by_flag.stdout).lines().count(), 3);
    let path = fixture("app-pkcs1.pem");
    let mut env = IDS.to_vec();
    env.push(("MDE_CLIENT_CERTIFICATE", &path));
    let by_variable = cli(&["contoso.com", "--format", "ndjson"], &env);
    assert_eq!(
        by_variable.status.code(),
        Some(0),
        "{}",
        printed(&by_variable)
    );
    assert_eq!(by_variable.stdout, by_flag.stdout);
}

#[test]
fn a_key_the_tenant_does_not_know_exits_3_with_the_700027_hint_and_no_key() {
    let out = cli(
        &[
            "contoso.com",
            "--client-certificate",
            &fixture("wrong.pem"),
            "--log-level",
            "debug",
            "--show-requests",
        ],
        &IDS,
    );
    assert_eq!(out.status.code(), Some(3), "{}", printed(&out));
    let said = printed(&out);
    assert!(said.contains("AADSTS700027"), "{said}");
    assert!(
        said.contains("to fix: the client assertion was refused: upload the certificate"),
        "{said}"
    );
    for line in key_lines("wrong.pem") {
        assert!(!said.contains(&line), "the key's text was printed");
    }
}

#[test]
fn the_canary_keys_text_is_never_printed() {
    for args in [
        vec!["contoso.com", "--log-level", "debug", "--show-requests"],
        vec!["check"],
    ] {
        let mut args = args;
        let path = fixture("canary.pem");
        args.extend(["--client-certificate", &path]);
        let out = cli(&args, &IDS);
        assert_eq!(out.status.code(), Some(0), "{}", printed(&out));
        let said = printed(&out);
        for line in key_lines("canary.pem") {
            assert!(!said.contains(&line), "the canary key's text was printed");
        }
    }
}

#[test]
fn two_explicit_sources_or_missing_ids_are_refused_before_anything_is_sent() {
    let mut env = IDS.to_vec();
    env.push(("MDE_CLIENT_SECRET", "a-client-secret-value"));
    let out = cli(
        &["contoso.com", "--client-certificate", &fixture("app.pem")],
        &env,
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains(
            "--client-certificate (or MDE_CLIENT_CERTIFICATE) and a client secret are both set"
        ),
        "{}",
        text(&out.stderr)
    );
    let out = cli(
        &["contoso.com", "--client-certificate", &fixture("app.pem")],
        &[],
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("a client certificate needs MDE_TENANT_ID and MDE_CLIENT_ID; missing: MDE_TENANT_ID, MDE_CLIENT_ID"),
        "{}",
        text(&out.stderr)
    );
    let out = cli(
        &[
            "contoso.com",
            "--client-certificate",
            &fixture("mismatched.pem"),
        ],
        &IDS,
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("the private key does not belong to the certificate"));
}

#[test]
fn a_federated_token_file_is_read_and_sent_as_the_assertion_never_printed() {
    let token_file = replay_file("federated-token-from-the-platform-0123456789");
    let path = token_file.path().to_str().unwrap();
    let env = [
        ("AZURE_FEDERATED_TOKEN_FILE", path),
        ("AZURE_TENANT_ID", TENANT_ID),
        ("AZURE_CLIENT_ID", CLIENT_ID),
    ];
    // The demo tenant trusts no federated issuer: it refuses the assertion
    // it was sent, which shows the file was read and sent.
    let out = cli(&["contoso.com", "--log-level", "debug"], &env);
    assert_eq!(out.status.code(), Some(3), "{}", printed(&out));
    let said = printed(&out);
    assert!(said.contains("AADSTS700027"), "{said}");
    assert!(
        !said.contains("federated-token-from-the-platform"),
        "{said}"
    );
    let out = cli(&["contoso.com"], &env[..2]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("AZURE_FEDERATED_TOKEN_FILE (workload identity) needs AZURE_TENANT_ID and AZURE_CLIENT_ID; missing: AZURE_CLIENT_ID"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn check_prints_the_tenant_roles_and_lookups_never_the_token() {
    let out = cli(&["check"], &demo_credentials());
    assert_eq!(out.status.code(), Some(0), "{}", printed(&out));
    let said = text(&out.stdout);
    for line in [
        "cloud: commercial\napi: https://api.security.microsoft.com",
        &format!("tenant: {TENANT_ID}"),
        &format!("application: {CLIENT_ID}"),
        // The demo tenant's tokens carry a role for each kind of lookup
        // (check_exits_3_when_the_roles_do_not_permit_domain_lookups shows
        // what a missing one prints).
        "roles: Machine.Read.All, URL.Read.All, Ip.Read.All",
        "  domain-machines  permitted",
        "  domain-stats     permitted",
    ] {
        assert!(said.contains(line), "{line}: {said}");
    }
    assert!(
        !said.contains("fake-access-token") && !said.contains("eyJ"),
        "{said}"
    );
    // A wrong secret: the identity platform's error with its hint, exit 3.
    let mut env = demo_credentials();
    env[2].1 = "not-the-secret-value";
    let out = cli(&["check"], &env);
    assert_eq!(out.status.code(), Some(3));
    assert!(
        text(&out.stderr).contains("AADSTS7000215"),
        "{}",
        text(&out.stderr)
    );
    assert!(text(&out.stderr).contains("to fix: the client secret is wrong"));
}

#[test]
fn a_managed_identity_on_a_loopback_endpoint_signs_the_live_cli_in() {
    use host_test::fake_server::{Encoding, FakeServer};
    use host_test::fake_tenant::FakeTenant;
    use mde_connector_host::clock::SystemClock;
    use std::sync::{Arc, Mutex};
    let fake = Arc::new(Mutex::new(FakeTenant::new(SystemClock::shared())));
    let server = FakeServer::start(fake.clone(), Encoding::Identity).unwrap();
    let origin = server.origin();
    let endpoint = format!("{origin}/metadata/identity/oauth2/token");
    let flags = live_custom_cloud(&origin);
    let mut args: Vec<&str> = flags.iter().map(String::as_str).collect();
    args.extend([
        "contoso.com",
        "--format",
        "ndjson",
        "--managed-identity",
        "--managed-identity-endpoint",
        &endpoint,
    ]);
    let out = cli(&args, &[]);
    assert_eq!(out.status.code(), Some(0), "{}", printed(&out));
    assert_eq!(text(&out.stdout).lines().count(), 3);
    let fake = fake.lock().unwrap();
    assert_eq!(fake.requests.len(), 2);
    assert!(
        fake.requests[0]
            .url
            .starts_with(&format!("{endpoint}?api-version=2018-02-01&resource="))
    );
    assert_eq!(fake.requests[0].header("metadata"), Some("true"));
    drop(fake);
    // With a secret as well: refused, nothing sent.
    let out = cli(&args, &demo_credentials());
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("--managed-identity and other credentials"));
}

#[test]
fn check_exits_3_when_the_roles_do_not_permit_domain_lookups() {
    use host_test::fake_server::{Encoding, FakeServer};
    use host_test::fake_tenant::FakeTenant;
    use mde_connector_host::clock::SystemClock;
    use std::sync::{Arc, Mutex};
    for (roles, status, shown) in [
        (vec!["Machine.Read.All"], 0, "roles: Machine.Read.All"),
        (
            vec!["Machine.ReadWrite.All"],
            0,
            "roles: Machine.ReadWrite.All",
        ),
        (vec![], 3, "roles: none"),
    ] {
        let fake = Arc::new(Mutex::new(FakeTenant::new(SystemClock::shared())));
        fake.lock().unwrap().roles = roles.iter().map(|r| r.to_string()).collect();
        let server = FakeServer::start(fake.clone(), Encoding::Identity).unwrap();
        let flags = live_custom_cloud(&server.origin());
        let mut args = vec!["check"];
        args.extend(flags.iter().map(String::as_str));
        let out = cli(&args, &demo_credentials());
        assert_eq!(
            out.status.code(),
            Some(status),
            "{roles:?}: {}",
            printed(&out)
        );
        let said = text(&out.stdout);
        assert!(said.contains(shown), "{said}");
        let domain = if status == 0 {
            "  domain-machines  permitted"
        } else {
            "  domain-machines  not permitted: grant Machine.Read.All"
        };
        assert!(said.contains(domain), "{said}");
        let fake = fake.lock().unwrap();
        assert_eq!(fake.requests.len(), 1, "the token request only");
    }
}
