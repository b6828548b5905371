//! The host's outbound policy, driven through the component: allow-list,
//! budget, retries. Everything runs on a virtual clock; nothing sleeps.

mod common;

use common::*;
use host_test::backend::{FnBackend, HttpBackend};
use host_test::budget::Limits;
use host_test::clock::{Clock, ManualClock};
use host_test::policy::{Budgets, Gateway, Policy};
use host_test::runtime::mde::connector::types::Error;
use host_test::runtime::{Auth, Cloud, Request, Response, Settings, TransportError};
use mde_connector::settings::Cloud as CoreCloud;
use std::sync::{Arc, Mutex};
use std::time::Duration;

fn commercial_policy() -> Policy {
    Policy::for_endpoints(&CoreCloud::Commercial.endpoints().unwrap()).unwrap()
}

/// A gateway over `transport`, and the clock it waits on.
fn gateway(
    policy: Policy,
    transport: impl HttpBackend + Send + 'static,
) -> (Gateway, Arc<ManualClock>) {
    let clock = Arc::new(ManualClock::default());
    let gateway = Gateway::new(
        policy,
        "tenant/client".into(),
        Budgets::default(),
        clock.clone(),
        Box::new(transport),
    );
    (gateway, clock)
}

/// A transport that answers from a list and counts what reached it.
fn scripted(
    answers: Vec<Result<Response, TransportError>>,
) -> (impl HttpBackend + Send, Arc<Mutex<Vec<Request>>>) {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let log = seen.clone();
    let mut answers = answers.into_iter();
    let backend = FnBackend(move |r: &Request| {
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
    let (gateway, _) = gateway(commercial_policy(), transport);
    // The component is configured for GCC High; the host allows only commercial hosts.
    let mut instance = instance(
        Settings {
            cloud: Cloud::GccHigh,
            auth: Auth::HostManaged,
        },
        gateway,
    );
    let e = instance
        .domain_machines("contoso.com")
        .unwrap()
        .unwrap_err();
    let Error::Transport(TransportError::Refused(why)) = e else {
        panic!("expected a refusal, got {e:?}")
    };
    assert_eq!(
        why,
        "https://api-gov.securitycenter.microsoft.us:443 is not on the host's egress allow-list"
    );
    assert!(seen.lock().unwrap().is_empty());
}

#[test]
fn plain_http_only_to_loopback_and_only_when_asked() {
    let loopback = mde_connector::settings::Endpoints {
        api_base: "http://127.0.0.1:8080".into(),
        login_host: "http://127.0.0.1:8080".into(),
        scope: "s".into(),
    };
    let request = |url: &str| Request {
        method: host_test::runtime::Method::Get,
        url: url.into(),
        headers: vec![],
        body: None,
    };
    let mut policy = Policy::for_endpoints(&loopback).unwrap();
    let (transport, seen) = scripted(vec![empty(), empty()]);
    let (mut refusing, _) = gateway(policy.clone(), transport);
    assert!(matches!(
        refusing.send(&request("http://127.0.0.1:8080/api/x")),
        Err(TransportError::Refused(_))
    ));
    policy.allow_loopback_http = true;
    let (transport, _) = scripted(vec![empty()]);
    let (mut allowing, _) = gateway(policy.clone(), transport);
    assert_eq!(
        allowing
            .send(&request("http://127.0.0.1:8080/api/x"))
            .unwrap()
            .status,
        200
    );

    // Never for a host that is not loopback, even if it is on the list.
    let mut remote = Policy::for_endpoints(&mde_connector::settings::Endpoints {
        api_base: "http://api.example.test".into(),
        login_host: "http://api.example.test".into(),
        scope: "s".into(),
    })
    .unwrap();
    remote.allow_loopback_http = true;
    let (mut remote, _) = gateway(remote, scripted(vec![empty()]).0);
    assert!(matches!(
        remote.send(&request("http://api.example.test/api/x")),
        Err(TransportError::Refused(_))
    ));
    assert!(seen.lock().unwrap().is_empty());
}

#[test]
fn a_call_over_budget_never_reaches_the_network() {
    let mut policy = commercial_policy();
    policy.limits = Limits {
        per_minute: 2,
        per_hour: 100,
    };
    policy.max_wait = Duration::ZERO;
    let (transport, seen) = scripted(vec![empty(), empty(), empty()]);
    let (gateway, clock) = gateway(policy, transport);
    let mut instance = instance(settings(Auth::HostManaged), gateway);
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
    let mut policy = commercial_policy();
    policy.limits = Limits {
        per_minute: 1,
        per_hour: 100,
    };
    let (transport, seen) = scripted(vec![empty(), empty()]);
    let (gateway, clock) = gateway(policy, transport);
    let mut instance = instance(settings(Auth::HostManaged), gateway);
    instance.domain_machines("a.example").unwrap().unwrap();
    instance.domain_machines("b.example").unwrap().unwrap();
    assert_eq!(clock.now(), Duration::from_secs(60));
    assert_eq!(seen.lock().unwrap().len(), 2);
}

#[test]
fn a_429_is_waited_out_and_retried() {
    let (transport, seen) = scripted(vec![Ok(answer(429, &[("Retry-After", "7")], "")), empty()]);
    let (gateway, clock) = gateway(commercial_policy(), transport);
    let mut instance = instance(settings(Auth::HostManaged), gateway);
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
    let (gateway, clock) = gateway(commercial_policy(), transport);
    let mut instance = instance(settings(Auth::HostManaged), gateway);
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
    let mut policy = commercial_policy();
    policy.max_attempts = 4;
    let (first, clock) = gateway(policy.clone(), transport);
    let mut instance = instance(settings(Auth::HostManaged), first);
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
    let (second, _) = gateway(policy, transport);
    let mut recovering = common::instance(settings(Auth::HostManaged), second);
    assert!(recovering.domain_machines("contoso.com").unwrap().is_ok());
    assert_eq!(seen.lock().unwrap().len(), 2);
}

#[test]
fn token_requests_are_not_retried_blindly() {
    let (transport, seen) = scripted(vec![Ok(answer(503, &[], "")), empty()]);
    let (gateway, clock) = gateway(commercial_policy(), transport);
    let mut instance = instance(settings(demo_credentials()), gateway);
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
    let mut policy = commercial_policy();
    policy.limits = Limits {
        per_minute: 1,
        per_hour: 100,
    };
    policy.max_wait = Duration::ZERO;
    let budgets = Budgets::default();
    let clock = Arc::new(ManualClock::default());
    let make = |key: &str| {
        let (transport, _) = scripted(vec![empty(), empty()]);
        instance(
            settings(Auth::HostManaged),
            Gateway::new(
                policy.clone(),
                key.into(),
                budgets.clone(),
                clock.clone(),
                Box::new(transport),
            ),
        )
    };
    let (mut a, mut a_again, mut b) = (make("t/a"), make("t/a"), make("t/b"));
    a.domain_machines("contoso.com").unwrap().unwrap();
    assert!(matches!(
        a_again.domain_machines("contoso.com").unwrap(),
        Err(Error::RateLimited(_))
    ));
    b.domain_machines("contoso.com").unwrap().unwrap();
}
