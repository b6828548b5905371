//! The host's outbound policy, driven through the component: allow-list,
//! budget, retries. Everything runs on a virtual clock; nothing sleeps.

mod common;

use common::*;
use mde_connector_host::budget::Limits;
use mde_connector_host::clock::{Clock, ManualClock};
use mde_connector_host::gateway::{Budgets, Gateway, Policy, PolicyOptions};
use mde_connector_host::runtime::{Method, Request, Response, TransportError};
use mde_connector_host::transport::{FnTransport, Transport};
use mde_connector_host::{Auth, Cloud, Endpoints, Error, Instance, Settings};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// The host's policy as it ships.
fn shipped_policy() -> PolicyOptions {
    PolicyOptions::default()
}

/// An instance whose gateway follows `policy`, and the clock it waits on.
fn instance_with(
    settings: Settings,
    policy: PolicyOptions,
    transport: impl Transport + Send + 'static,
) -> (Instance, Arc<ManualClock>) {
    let clock = Arc::new(ManualClock::default());
    let instance = runtime()
        .with_clock(clock.clone())
        .with_policy(policy)
        .instantiate(settings, transport)
        .unwrap();
    (instance, clock)
}

/// A gateway alone, for what no instance's settings can ask for.
fn gateway(
    endpoints: &Endpoints,
    policy: PolicyOptions,
    transport: impl Transport + Send + 'static,
) -> Gateway {
    Gateway::new(
        Policy::for_endpoints(endpoints, policy).unwrap(),
        "tenant/client".into(),
        Budgets::default(),
        Arc::default(),
        Arc::new(ManualClock::default()),
        Box::new(transport),
    )
}

fn get(url: &str) -> Request {
    Request {
        method: Method::Get,
        url: url.into(),
        headers: vec![],
        body: None,
    }
}

/// A transport that answers from a list and counts what reached it.
fn scripted(
    answers: Vec<Result<Response, TransportError>>,
) -> (impl Transport + Send, Arc<Mutex<Vec<Request>>>) {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let log = seen.clone();
    let mut answers = answers.into_iter();
    let backend = FnTransport(move |r: &Request| {
        log.lock().unwrap().push(r.clone());
        answers
            .next()
            .unwrap_or_else(|| Err(TransportError::Other("no more answers".into())))
    });
    (backend, seen)
}

fn empty() -> Result<Response, TransportError> {
    Ok(json(200, r#"{"value":[]}"#))
}

#[test]
fn a_host_off_the_allow_list_is_refused_before_any_connection() {
    let (transport, seen) = scripted(vec![empty()]);
    // A gateway for the commercial cloud, asked for a GCC High host.
    let commercial = Cloud::Commercial.endpoints().unwrap();
    let mut gateway = gateway(&commercial, shipped_policy(), transport);
    let refused = gateway.send(&get(
        "https://api-gov.securitycenter.microsoft.us/api/domains/contoso.com/machines",
    ));
    let Err(TransportError::Refused(why)) = refused else {
        panic!("expected a refusal, got {refused:?}")
    };
    assert_eq!(
        why,
        "https://api-gov.securitycenter.microsoft.us:443 is not on the host's egress allow-list"
    );
    assert!(seen.lock().unwrap().is_empty());
}

#[test]
fn every_instance_has_the_gateway_whatever_its_transport() {
    // A budget of one call a minute and no waiting: the second lookup is
    // refused by the gateway, so the transport sees one call. It holds for
    // the fake tenant, a replay and a closure alike.
    let one_a_minute = PolicyOptions {
        limits: Limits {
            per_minute: 1,
            per_hour: 100,
        },
        max_wait: Duration::ZERO,
        ..shipped_policy()
    };
    let tenant = Tenant::new();
    let replay = Arc::new(Mutex::new(host_test::replay::Replay::new([
        json(200, r#"{"value":[]}"#),
        json(200, r#"{"value":[]}"#),
    ])));
    let (closure, closure_seen) = scripted(vec![empty(), empty()]);
    let transports: Vec<(&str, Auth, Box<dyn Transport + Send>)> = vec![
        (
            "fake tenant",
            demo_credentials(),
            Box::new(tenant.fake.clone()),
        ),
        ("replay", Auth::HostManaged, Box::new(replay.clone())),
        ("closure", Auth::HostManaged, Box::new(closure)),
    ];
    for (name, auth, transport) in transports {
        let (mut instance, _) = instance_with(settings(auth), one_a_minute.clone(), transport);
        assert!(
            instance.domain_machines("contoso.com").unwrap().is_ok(),
            "{name}"
        );
        let e = instance
            .domain_machines("contoso.com")
            .unwrap()
            .unwrap_err();
        let Error::RateLimited(limit) = e else {
            panic!("{name}: expected rate-limited, got {e:?}")
        };
        assert_eq!(
            limit.details.code.as_deref(),
            Some("HostBudgetExhausted"),
            "{name}"
        );
    }
    // The token request, then one API call: token requests are not counted.
    assert_eq!(
        tenant.fake.lock().unwrap().requests.len(),
        2,
        "{:?}",
        tenant.fake.lock().unwrap().requests
    );
    assert_eq!(closure_seen.lock().unwrap().len(), 1);
    // The replay kept its second answer: the refused call never reached it.
    assert!(replay.lock().unwrap().send(&get("https://x")).is_ok());
}

#[test]
fn plain_http_only_to_loopback_and_only_when_asked() {
    let loopback = Endpoints {
        api_base: "http://127.0.0.1:8080".into(),
        login_host: "http://127.0.0.1:8080".into(),
        scope: "s".into(),
    };
    let (transport, seen) = scripted(vec![empty(), empty()]);
    let mut refusing = gateway(&loopback, shipped_policy(), transport);
    assert!(matches!(
        refusing.send(&get("http://127.0.0.1:8080/api/x")),
        Err(TransportError::Refused(_))
    ));
    let allowing_policy = PolicyOptions {
        allow_loopback_http: true,
        ..shipped_policy()
    };
    let (transport, _) = scripted(vec![empty()]);
    let mut allowing = gateway(&loopback, allowing_policy.clone(), transport);
    assert_eq!(
        allowing
            .send(&get("http://127.0.0.1:8080/api/x"))
            .unwrap()
            .status,
        200
    );

    // Never for a host that is not loopback, even if it is on the list.
    let remote = Endpoints {
        api_base: "http://api.example.test".into(),
        login_host: "http://api.example.test".into(),
        scope: "s".into(),
    };
    let mut remote = gateway(&remote, allowing_policy, scripted(vec![empty()]).0);
    assert!(matches!(
        remote.send(&get("http://api.example.test/api/x")),
        Err(TransportError::Refused(_))
    ));
    assert!(seen.lock().unwrap().is_empty());
}

#[test]
fn a_call_over_budget_never_reaches_the_network() {
    let policy = PolicyOptions {
        limits: Limits {
            per_minute: 2,
            per_hour: 100,
        },
        max_wait: Duration::ZERO,
        ..shipped_policy()
    };
    let (transport, seen) = scripted(vec![empty(), empty(), empty()]);
    let (mut instance, clock) = instance_with(settings(Auth::HostManaged), policy, transport);
    clock.advance(Duration::from_secs(1000));
    instance.domain_machines("a.example").unwrap().unwrap();
    clock.advance(Duration::from_secs(15));
    instance.domain_machines("b.example").unwrap().unwrap();
    let e = instance.domain_machines("c.example").unwrap().unwrap_err();
    let Error::RateLimited(limit) = e else {
        panic!("expected rate-limited, got {e:?}")
    };
    // The first call leaves the minute 45 s from now.
    assert_eq!(limit.retry_after_seconds, Some(45));
    assert_eq!(limit.details.code.as_deref(), Some("HostBudgetExhausted"));
    assert_eq!(seen.lock().unwrap().len(), 2);
}

#[test]
fn the_budget_waits_when_the_wait_is_short() {
    let policy = PolicyOptions {
        limits: Limits {
            per_minute: 1,
            per_hour: 100,
        },
        ..shipped_policy()
    };
    let (transport, seen) = scripted(vec![empty(), empty()]);
    let (mut instance, clock) = instance_with(settings(Auth::HostManaged), policy, transport);
    instance.domain_machines("a.example").unwrap().unwrap();
    instance.domain_machines("b.example").unwrap().unwrap();
    assert_eq!(clock.now(), Duration::from_secs(60));
    assert_eq!(seen.lock().unwrap().len(), 2);
}

#[test]
fn a_429_is_waited_out_and_retried() {
    let (transport, seen) = scripted(vec![Ok(answer(429, &[("Retry-After", "7")], "")), empty()]);
    let (mut instance, clock) =
        instance_with(settings(Auth::HostManaged), shipped_policy(), transport);
    assert!(
        instance
            .domain_machines("contoso.com")
            .unwrap()
            .unwrap()
            .is_empty()
    );
    assert_eq!(clock.now(), Duration::from_secs(7));
    assert_eq!(seen.lock().unwrap().len(), 2);
    // The component saw one request: the host retried for it.
    assert_eq!(instance.state().requests.len(), 1);
}

#[test]
fn a_429_beyond_the_longest_wait_goes_to_the_component() {
    let (transport, seen) = scripted(vec![Ok(answer(429, &[("Retry-After", "3600")], ""))]);
    let (mut instance, clock) =
        instance_with(settings(Auth::HostManaged), shipped_policy(), transport);
    let e = instance
        .domain_machines("contoso.com")
        .unwrap()
        .unwrap_err();
    let Error::RateLimited(limit) = e else {
        panic!("expected rate-limited, got {e:?}")
    };
    assert_eq!(limit.retry_after_seconds, Some(3600));
    assert_eq!(clock.now(), Duration::ZERO);
    assert_eq!(seen.lock().unwrap().len(), 1);
}

#[test]
fn server_errors_and_timeouts_of_the_get_back_off_then_give_up() {
    let (transport, seen) = scripted(vec![
        Ok(answer(503, &[], "")),
        Err(TransportError::Timeout),
        Ok(answer(500, &[], "")),
        Ok(answer(502, &[], "")),
        empty(),
    ]);
    let policy = PolicyOptions {
        max_attempts: 4,
        ..shipped_policy()
    };
    let (mut instance, clock) =
        instance_with(settings(Auth::HostManaged), policy.clone(), transport);
    let e = instance
        .domain_machines("contoso.com")
        .unwrap()
        .unwrap_err();
    assert!(
        matches!(e, Error::ServiceUnavailable(ref r) if r.details.status == 502),
        "{e:?}"
    );
    assert_eq!(seen.lock().unwrap().len(), 4);
    // Three waits, each at most its doubling cap: 1 s, 2 s, 4 s.
    assert!(clock.now() <= Duration::from_secs(7), "{:?}", clock.now());

    let (transport, seen) = scripted(vec![Ok(answer(500, &[], "")), empty()]);
    let (mut recovering, _) = instance_with(settings(Auth::HostManaged), policy, transport);
    assert!(recovering.domain_machines("contoso.com").unwrap().is_ok());
    assert_eq!(seen.lock().unwrap().len(), 2);
}

#[test]
fn token_requests_are_not_retried_blindly() {
    let (transport, seen) = scripted(vec![Ok(answer(503, &[], "")), empty()]);
    let (mut instance, clock) =
        instance_with(settings(demo_credentials()), shipped_policy(), transport);
    let e = instance
        .domain_machines("contoso.com")
        .unwrap()
        .unwrap_err();
    assert!(
        matches!(e, Error::ServiceUnavailable(ref r) if r.details.status == 503),
        "{e:?}"
    );
    assert_eq!(seen.lock().unwrap().len(), 1);
    assert_eq!(clock.now(), Duration::ZERO);
}

#[test]
fn the_budget_is_per_tenant_and_client() {
    let policy = PolicyOptions {
        limits: Limits {
            per_minute: 1,
            per_hour: 100,
        },
        max_wait: Duration::ZERO,
        ..shipped_policy()
    };
    // One runtime: its instances share the budgets.
    let host = runtime()
        .with_clock(Arc::new(ManualClock::default()))
        .with_policy(policy);
    let make = |tenant: &str, client: &str| {
        let transport = FnTransport(|r: &Request| {
            Ok(if r.url.contains("/oauth2/") {
                json(200, r#"{"token_type":"Bearer","access_token":"t"}"#)
            } else {
                json(200, r#"{"value":[]}"#)
            })
        });
        let credentials = Auth::ClientCredentials(mde_connector_host::ClientCredentials {
            tenant_id: tenant.into(),
            client_id: client.into(),
            client_secret: "s".into(),
        });
        host.instantiate(settings(credentials), transport).unwrap()
    };
    let (mut a, mut a_again, mut b) = (make("t", "a"), make("t", "a"), make("t", "b"));
    a.domain_machines("contoso.com").unwrap().unwrap();
    assert!(matches!(
        a_again.domain_machines("contoso.com").unwrap(),
        Err(Error::RateLimited(_))
    ));
    b.domain_machines("contoso.com").unwrap().unwrap();
}

/// A transport whose every exchange takes `takes` of virtual time (or the
/// limit it is given, if shorter) and then times out; it notes each limit.
struct Slow {
    clock: Arc<ManualClock>,
    takes: Duration,
    limits: Arc<Mutex<Vec<Duration>>>,
}

impl Transport for Slow {
    fn send(&mut self, request: &Request) -> Result<Response, TransportError> {
        self.send_within(request, Duration::MAX)
    }

    fn send_within(&mut self, _: &Request, limit: Duration) -> Result<Response, TransportError> {
        self.limits.lock().unwrap().push(limit);
        self.clock.advance(self.takes.min(limit));
        Err(TransportError::Timeout)
    }
}

#[test]
fn a_lookup_ends_at_its_deadline_retries_included() {
    let clock = Arc::new(ManualClock::default());
    let limits = Arc::new(Mutex::new(Vec::new()));
    let slow = Slow {
        clock: clock.clone(),
        takes: Duration::from_secs(50),
        limits: limits.clone(),
    };
    let policy = PolicyOptions {
        timeout: Duration::from_secs(120),
        max_attempts: 10,
        ..shipped_policy()
    };
    let mut instance = runtime()
        .with_clock(clock.clone())
        .with_policy(policy)
        .instantiate(settings(Auth::HostManaged), slow)
        .unwrap();
    let e = instance
        .domain_machines("contoso.com")
        .unwrap()
        .unwrap_err();
    assert!(
        matches!(e, Error::Transport(TransportError::Timeout)),
        "{e:?}"
    );
    // 50 s, backoff, 50 s, backoff, and what is left: each exchange was
    // given only what remained of the two minutes.
    let limits = limits.lock().unwrap().clone();
    assert_eq!(limits.len(), 3, "{limits:?}");
    assert_eq!(limits[0], Duration::from_secs(120));
    assert!(limits[1] <= Duration::from_secs(70) && limits[2] <= Duration::from_secs(20));
    assert_eq!(clock.now(), Duration::from_secs(120));

    // The next lookup has its own two minutes.
    instance
        .domain_machines("contoso.com")
        .unwrap()
        .unwrap_err();
    assert_eq!(clock.now(), Duration::from_secs(240));
}

#[test]
fn waits_on_rate_limits_are_bounded_in_all_for_a_lookup() {
    let policy = PolicyOptions {
        max_wait: Duration::from_secs(120),
        max_attempts: 100,
        timeout: Duration::from_secs(3600),
        ..shipped_policy()
    };
    let counted = Arc::new(Mutex::new(0));
    let count = counted.clone();
    let storm = FnTransport(move |_: &Request| {
        *count.lock().unwrap() += 1;
        Ok(answer(429, &[("Retry-After", "50")], ""))
    });
    let (mut instance, clock) = instance_with(settings(Auth::HostManaged), policy, storm);
    let e = instance
        .domain_machines("contoso.com")
        .unwrap()
        .unwrap_err();
    assert!(
        matches!(e, Error::RateLimited(ref r) if r.retry_after_seconds == Some(50)),
        "{e:?}"
    );
    // Two waits of 50 s fit in 120; a third would not.
    assert_eq!(*counted.lock().unwrap(), 3);
    assert_eq!(clock.now(), Duration::from_secs(100));
}

#[test]
fn a_budget_that_admits_no_call_is_refused() {
    let commercial = Cloud::Commercial.endpoints().unwrap();
    for limits in [
        Limits {
            per_minute: 0,
            per_hour: 100,
        },
        Limits {
            per_minute: 100,
            per_hour: 0,
        },
    ] {
        let policy = PolicyOptions {
            limits,
            ..shipped_policy()
        };
        let why = Policy::for_endpoints(&commercial, policy.clone()).unwrap_err();
        assert!(why.ends_with("admits no call"), "{why}");
        let made = runtime()
            .with_policy(policy)
            .instantiate(settings(Auth::HostManaged), scripted(vec![]).0);
        assert!(made.is_err());
    }
}

#[test]
fn no_answer_over_the_body_cap_reaches_the_component_whatever_the_transport() {
    let cap = mde_connector_host::gateway::MAX_BODY;
    let big = vec![b' '; cap as usize + 1];
    let (transport, seen) = scripted(vec![Ok(answer(200, &[], big))]);
    let (mut instance, _) = instance_with(settings(Auth::HostManaged), shipped_policy(), transport);
    let e = instance
        .domain_machines("contoso.com")
        .unwrap()
        .unwrap_err();
    assert!(
        matches!(e, Error::Transport(TransportError::TooLarge(limit)) if limit == cap),
        "{e:?}"
    );
    assert_eq!(seen.lock().unwrap().len(), 1);
    // At the cap, the answer goes through (and the component judges it).
    let (transport, _) = scripted(vec![Ok(json(200, r#"{"value":[]}"#))]);
    let small = PolicyOptions {
        max_body: 12,
        ..shipped_policy()
    };
    let (mut instance, _) = instance_with(settings(Auth::HostManaged), small, transport);
    assert!(instance.domain_machines("contoso.com").unwrap().is_ok());
}
