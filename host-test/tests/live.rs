//! The live backend end to end: the real HTTP client against the fake tenant
//! served on 127.0.0.1, as a custom cloud, through the host's policy.

mod common;

use common::*;
use host_test::fake_server::{Encoding, FakeServer};
use mde_connector_host::clock::{Clock, ManualClock};
use mde_connector_host::gateway::PolicyOptions;
use mde_connector_host::live::{LiveOptions, LiveTransport};
use mde_connector_host::runtime::{Request, Response, TransportError};
use mde_connector_host::transport::FnTransport;
use mde_connector_host::{Auth, Cloud, Endpoints, Error, Instance, Settings};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// `origin` as a custom cloud for both the API and the login host.
fn custom_cloud(origin: &str) -> Cloud {
    Cloud::Custom(Endpoints {
        api_base: origin.to_owned(),
        login_host: origin.to_owned(),
        scope: "https://api.securitycenter.microsoft.com/.default".into(),
    })
}

/// The component, through the policy (loopback http allowed, `attempts`
/// attempts) and the live client, to `origin`, on `clock`.
fn live_to(
    origin: &str,
    auth: Auth,
    clock: Arc<dyn Clock>,
    attempts: u32,
    options: LiveOptions,
) -> Instance {
    let policy = PolicyOptions {
        allow_loopback_http: true,
        max_attempts: attempts,
        ..PolicyOptions::default()
    };
    runtime()
        .with_clock(clock)
        .with_policy(policy)
        .instantiate(
            Settings {
                cloud: custom_cloud(origin),
                auth,
            },
            LiveTransport::new(&options).unwrap(),
        )
        .unwrap()
}

/// The component with the demo credentials, through the shipped policy and
/// the live client, to `server`.
fn live_instance(server: &FakeServer, tenant: &Tenant, options: LiveOptions) -> Instance {
    live_to(
        &server.origin(),
        demo_credentials(),
        tenant.clock.clone(),
        PolicyOptions::default().max_attempts,
        options,
    )
}

/// The same with host-managed auth, for servers that are not the fake tenant.
fn host_managed_to(server: &FakeServer, options: LiveOptions) -> Instance {
    let clock = Arc::new(ManualClock::default());
    live_to(
        &server.origin(),
        Auth::HostManaged,
        clock,
        PolicyOptions::default().max_attempts,
        options,
    )
}

#[test]
fn token_lookup_rate_limit_retry_and_success_over_real_http() {
    let tenant = Tenant::new();
    let server = FakeServer::start(tenant.fake.clone(), Encoding::Deflate).unwrap();
    let mut instance = live_instance(&server, &tenant, LiveOptions::default());

    let machines = instance.domain_machines("contoso.com").unwrap().unwrap();
    assert_eq!(machines.len(), 3);

    tenant.fake.lock().unwrap().fail_next(429, Some(7));
    let machines = instance.domain_machines("fabrikam.com").unwrap().unwrap();
    assert_eq!(machines.len(), 500);
    assert_eq!(
        tenant.clock.now(),
        Duration::from_secs(7),
        "the host waited Retry-After"
    );

    let fake = tenant.fake.lock().unwrap();
    let seen: Vec<String> = fake
        .requests
        .iter()
        .map(|r| {
            format!(
                "{:?} {}",
                r.method,
                r.url.trim_start_matches(&server.origin())
            )
        })
        .collect();
    assert_eq!(
        seen,
        [
            format!(
                "Method::Post /{}/oauth2/v2.0/token",
                host_test::fake_tenant::TENANT_ID
            ),
            "Method::Get /api/domains/contoso.com/machines".to_owned(),
            "Method::Get /api/domains/fabrikam.com/machines".to_owned(),
            "Method::Get /api/domains/fabrikam.com/machines".to_owned(),
        ]
    );
    assert_eq!(
        fake.requests[1]
            .header("authorization")
            .map(host_test::fake_tenant::token_name),
        Some("Bearer fake-access-token-1".to_owned())
    );
    assert_eq!(fake.requests[1].header("accept"), Some("application/json"));
}

#[test]
fn gzip_answers_are_decoded() {
    let tenant = Tenant::new();
    let server = FakeServer::start(tenant.fake.clone(), Encoding::Gzip).unwrap();
    let mut instance = live_instance(&server, &tenant, LiveOptions::default());
    assert_eq!(
        instance
            .domain_machines("contoso.com")
            .unwrap()
            .unwrap()
            .len(),
        3
    );
}

/// A server whose every answer is `answer`.
fn serving(answer: Response, encoding: Encoding) -> FakeServer {
    let backend = Arc::new(Mutex::new(FnTransport(move |_: &Request| {
        Ok(answer.clone())
    })));
    FakeServer::start(backend, encoding).unwrap()
}

#[test]
fn the_size_cap_holds_while_reading_and_after_decompression() {
    let options = LiveOptions {
        max_body: 64 * 1024,
        ..LiveOptions::default()
    };
    let big = format!(r#"{{"value":[],"pad":"{}"}}"#, " ".repeat(200 * 1024));
    for encoding in [Encoding::Identity, Encoding::Deflate] {
        // Deflated, 200 KiB of spaces is a few hundred bytes on the wire.
        let server = serving(json(200, &big), encoding);
        let mut instance = host_managed_to(&server, options.clone());
        let e = instance
            .domain_machines("contoso.com")
            .unwrap()
            .unwrap_err();
        assert!(
            matches!(e, Error::Transport(TransportError::TooLarge(65536))),
            "{encoding:?}: {e:?}"
        );
    }
}

#[test]
fn redirects_are_not_followed() {
    let server = serving(
        answer(302, &[("Location", "https://elsewhere.example/")], ""),
        Encoding::Identity,
    );
    let mut instance = host_managed_to(&server, LiveOptions::default());
    let e = instance
        .domain_machines("contoso.com")
        .unwrap()
        .unwrap_err();
    let Error::InvalidResponse(invalid) = e else {
        panic!("expected invalid-response, got {e:?}")
    };
    assert_eq!(invalid.status, 302);
}

/// The component, with host-managed auth, through the policy (one attempt,
/// loopback http allowed) and the live client, to `origin` as a custom cloud.
fn one_attempt_to(origin: &str, options: LiveOptions) -> Instance {
    let clock = Arc::new(ManualClock::default());
    live_to(origin, Auth::HostManaged, clock, 1, options)
}

#[test]
fn a_silent_server_times_out() {
    // Accepts connections and never answers.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let origin = format!("http://{}", listener.local_addr().unwrap());
    let options = LiveOptions {
        overall_timeout: Duration::from_millis(300),
        ..LiveOptions::default()
    };
    let mut instance = one_attempt_to(&origin, options);
    let e = instance
        .domain_machines("contoso.com")
        .unwrap()
        .unwrap_err();
    assert!(
        matches!(e, Error::Transport(TransportError::Timeout)),
        "{e:?}"
    );
    drop(listener);
}

#[test]
fn https_certificates_are_verified() {
    // A plain-text server spoken to over TLS: the handshake must fail, not be skipped.
    let server = serving(json(200, r#"{"value":[]}"#), Encoding::Identity);
    let origin = server.origin().replace("http://", "https://");
    let mut instance = one_attempt_to(&origin, LiveOptions::default());
    let e = instance
        .domain_machines("contoso.com")
        .unwrap()
        .unwrap_err();
    assert!(
        matches!(e, Error::Transport(TransportError::Connection(_))),
        "{e:?}"
    );
}
