//! A canary secret and token run through every error path: they appear in no
//! error, no log record and no `--show-requests` line, even when a server
//! echoes them back. (`cli/tests/secrets.rs` checks the CLI's output.)

mod common;

use common::*;
use host_test::canary::{
    ECHO_SECRET, Echoing, SECRET, TOKEN, assert_clean, assert_no_echo, failing_answers,
    token_answer,
};
use host_test::fake_server::{Encoding, FakeServer};
use mde_connector_host::clock::ManualClock;
use mde_connector_host::gateway::PolicyOptions;
use mde_connector_host::live::{LiveOptions, LiveTransport};
use mde_connector_host::runtime::{Request, RuntimeOptions, redacted};
use mde_connector_host::transport::FnTransport;
use mde_connector_host::{Auth, ClientCredentials, Cloud, Endpoints, Instance, Runtime, Settings};
use std::sync::{Arc, Mutex};

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

/// The component, through the host's policy and the live client, to a
/// server on 127.0.0.1 that echoes what it is sent (custom cloud, plain
/// http to loopback allowed), with [`ECHO_SECRET`] as client secret of `tenant`.
fn echoed_by(server: &FakeServer, tenant: &str) -> Instance {
    let origin = server.origin();
    runtime()
        .with_clock(Arc::new(ManualClock::default()))
        .with_policy(PolicyOptions {
            allow_loopback_http: true,
            ..PolicyOptions::default()
        })
        .instantiate(
            Settings {
                cloud: Cloud::Custom(Endpoints {
                    api_base: origin.clone(),
                    login_host: origin,
                    scope: "https://api.example.test/.default".into(),
                }),
                auth: Auth::ClientCredentials(ClientCredentials {
                    tenant_id: tenant.into(),
                    client_id: "client".into(),
                    client_secret: ECHO_SECRET.into(),
                }),
            },
            LiveTransport::new(&LiveOptions::default()).unwrap(),
        )
        .unwrap()
}

/// Everything the host passes on from `instance`: the outcome of a lookup
/// of `domain` (error or machines in every format), its log records and its
/// `--show-requests` lines.
fn everything_passed_on(instance: &mut Instance, domain: &str) -> String {
    let mut passed_on = match instance.lookup_texts(domain).unwrap() {
        Err(e) => format!("{e:?}\n{}", mde_connector::Error::from(e.clone())),
        Ok(found) => {
            let mut texts = found.machines.clone();
            texts.extend(instance.ocsf_inventory(&found, 0).unwrap().unwrap());
            texts.extend(instance.ecs_documents(&found, 0).unwrap().unwrap());
            assert!(!texts.is_empty());
            texts.join("\n")
        }
    };
    passed_on.push_str(&format!("\n{:?}", instance.state().logs));
    for request in &instance.state().requests {
        passed_on.push_str(&instance.state().secrets().scrub(redacted(request)));
    }
    passed_on
}

#[test]
fn what_a_server_echoes_is_scrubbed_before_the_host_passes_it_on() {
    let server =
        FakeServer::start(Arc::new(Mutex::new(Echoing::default())), Encoding::Identity).unwrap();
    let cases = [
        ("echo-form-400", "contoso.com", "unauthorized"),
        ("echo-form-404", "contoso.com", "invalid-response"),
        ("tenant", "status-400.example", "api-error"),
        ("tenant", "status-401.example", "unauthorized"),
        ("tenant", "status-403.example", "forbidden"),
        ("tenant", "status-500.example", "service-unavailable"),
        ("tenant", "machines.example", "machines"),
    ];
    for (tenant, domain, expected) in cases {
        let mut instance = echoed_by(&server, tenant);
        let passed_on = everything_passed_on(&mut instance, domain);
        assert_no_echo(&format!("{tenant} {domain}"), &passed_on);
        // The server did echo, and the host said so in its place.
        assert!(
            passed_on.contains("[redacted]"),
            "{tenant} {domain}: {passed_on}"
        );
        let outcome = match instance.lookup(domain).unwrap() {
            Ok(_) => "machines".to_owned(),
            Err(e) => mde_connector::Error::from(e).kind().to_owned(),
        };
        assert_eq!(outcome, expected, "{tenant} {domain}: {passed_on}");
    }
}

/// A component that scrubs nothing (the misbehaving guest): it puts the
/// secret it holds in its error and its log, and passes on, lower-cased,
/// what a server echoes of it. Only the host stands in between: it scrubs
/// the answer before the guest reads it (lower-cased, the echo would no
/// longer match), and the error and the log on the way out.
#[test]
fn a_component_that_scrubs_nothing_leaks_nothing_through_the_host() {
    const MISBEHAVING: &[u8] = include_bytes!(env!("MISBEHAVING_GUEST_COMPONENT"));
    let options = RuntimeOptions {
        cache_dir: Some(concat!(env!("CARGO_TARGET_TMPDIR"), "/component-cache").into()),
        policy: passthrough_policy(),
        ..RuntimeOptions::default()
    };
    let runtime = Runtime::with_options(MISBEHAVING, options).unwrap();
    for domain in ["tell.example", "echo.example"] {
        let echoing =
            FnTransport(|r: &Request| Ok(answer(400, &[], r.body.clone().unwrap_or_default())));
        let settings = Settings {
            cloud: Cloud::Commercial,
            auth: Auth::ClientCredentials(ClientCredentials {
                tenant_id: "tenant".into(),
                client_id: "client".into(),
                client_secret: ECHO_SECRET.into(),
            }),
        };
        let mut instance = runtime.instantiate(settings, echoing).unwrap();
        let e = instance.domain_machines(domain).unwrap().unwrap_err();
        let passed_on = format!("{e:?} {:?}", instance.state().logs);
        assert_no_echo(domain, &passed_on);
        assert!(passed_on.contains("[redacted]"), "{domain}: {passed_on}");
    }
    // Texts: in a lookup's machines, and through the events (as events and
    // as an error).
    let settings = Settings {
        cloud: Cloud::Commercial,
        auth: Auth::BearerToken(ECHO_SECRET.into()),
    };
    let nothing = FnTransport(|_: &Request| Ok(answer(500, &[], Vec::new())));
    let mut instance = runtime.instantiate(settings, nothing).unwrap();
    let found = instance.lookup_texts("tell.example").unwrap().unwrap();
    let passed_on = [
        found.machines.concat(),
        instance
            .ocsf_inventory(&found, 0)
            .unwrap()
            .unwrap()
            .concat(),
        instance.ecs_documents(&found, 0).unwrap().unwrap_err(),
    ];
    for text in passed_on {
        assert!(!text.contains(ECHO_SECRET), "{text}");
        assert!(text.contains("[redacted]"), "{text}");
    }
}
