//! 10,000 lookups queued at once against the fake tenant, through the host's
//! budget, on a virtual clock: the service's limits are never exceeded.
//! (The CLI's batches wait out rate limits the same way; `cli/tests` covers them.)

mod common;

use common::*;
use mde_connector_host::Error;
use mde_connector_host::budget::Limits;
use mde_connector_host::clock::Clock;
use mde_connector_host::gateway::PolicyOptions;
use mde_connector_host::runtime::Request;
use mde_connector_host::transport::FnTransport;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// The most timestamps (sorted) that fall in any half-open window of `width`.
fn busiest(times: &[Duration], width: Duration) -> usize {
    let mut start = 0;
    let mut most = 0;
    for (end, t) in times.iter().enumerate() {
        while times[start] + width <= *t {
            start += 1;
        }
        most = most.max(end + 1 - start);
    }
    most
}

#[test]
fn ten_thousand_lookups_stay_within_the_service_limits() {
    let tenant = Tenant::new();
    // What the fake saw: when each API call arrived and its status.
    let seen: Arc<Mutex<Vec<(Duration, u16)>>> = Arc::default();
    let (fake, clock, log) = (tenant.fake.clone(), tenant.clock.clone(), seen.clone());
    let observed = FnTransport(move |r: &Request| {
        let answer = fake.lock().unwrap().handle(r);
        if r.url.contains("/api/") {
            log.lock().unwrap().push((clock.now(), answer.status));
        }
        Ok(answer)
    });
    // The policy as it ships: the service's limits.
    let policy = PolicyOptions::default();
    assert_eq!(policy.limits, Limits::SERVICE);
    let mut instance = runtime()
        .with_clock(tenant.clock.clone())
        .with_policy(policy)
        .instantiate(settings(demo_credentials()), observed)
        .unwrap();

    let domains = (0..10_000).map(|i| {
        if i % 10 == 0 {
            "contoso.com"
        } else {
            "nothing-here.example"
        }
    });
    let (mut ok, mut failed) = (0, Vec::new());
    for domain in domains {
        // A wait the gateway will not take itself comes back as a rate limit
        // with its Retry-After: wait it out, as a batch does.
        loop {
            match instance.lookup(domain).unwrap() {
                Err(Error::RateLimited(limit)) if limit.retry_after_seconds.is_some() => {
                    let wait = limit.retry_after_seconds.unwrap_or_default();
                    tenant.clock.sleep(Duration::from_secs(wait));
                }
                Ok(_) => break ok += 1,
                Err(e) => break failed.push(e),
            }
        }
    }

    assert!(failed.is_empty(), "{failed:?}");
    assert_eq!(ok, 10_000);
    let seen = seen.lock().unwrap();
    let statuses: std::collections::BTreeSet<u16> = seen.iter().map(|(_, s)| *s).collect();
    // 401s are tokens that expired on the way (each lasts an hour), renewed by the component.
    // Each token lasts an hour: the host replaces it five minutes before it
    // expires, so the service never sees an expired one (nor a 429).
    assert_eq!(statuses, [200].into(), "the fake never answers 429 or 401");
    let times: Vec<Duration> = seen.iter().map(|(t, _)| *t).collect();
    assert_eq!(times.len(), 10_000);
    assert!(busiest(&times, Duration::from_secs(60)) <= 100);
    assert!(busiest(&times, Duration::from_secs(3600)) <= 1_500);
    let refreshes = instance
        .state()
        .logs
        .iter()
        .filter(|l| l.event == "token-refresh")
        .count();
    let grants = tenant
        .fake
        .lock()
        .unwrap()
        .requests
        .iter()
        .filter(|r| r.url.ends_with("/token"))
        .count();
    assert!(refreshes >= 6, "about one an hour: {refreshes}");
    assert_eq!(grants, refreshes + 1);
    // 10,000 calls at 1,500 an hour take at least six hours and 40 minutes.
    assert!(tenant.clock.now() >= Duration::from_secs(6 * 3600 + 40 * 60 - 3600));
}

#[test]
fn the_window_counter_counts() {
    let s = Duration::from_secs;
    assert_eq!(busiest(&[s(0), s(10), s(59), s(60), s(61)], s(60)), 4);
    assert_eq!(busiest(&[s(0), s(60), s(120)], s(60)), 1);
}
