//! One access token for every instance of a host, replaced shortly before it
//! expires; one rate budget per tenant and client whatever their spelling.

mod common;

use common::*;
use mde_connector_host::budget::Limits;
use mde_connector_host::clock::Clock;
use mde_connector_host::gateway::PolicyOptions;
use mde_connector_host::{Auth, ClientCredentials, Error};
use std::time::Duration;

fn count(tenant: &Tenant, what: &str) -> usize {
    let fake = tenant.fake.lock().unwrap();
    fake.requests
        .iter()
        .filter(|r| r.url.contains(what))
        .count()
}

#[test]
fn instances_of_one_runtime_share_one_token_until_shortly_before_it_expires() {
    let tenant = Tenant::new();
    let runtime = runtime().with_clock(tenant.clock.clone());
    let mut instances: Vec<_> = (0..4)
        .map(|_| {
            runtime
                .instantiate(settings(demo_credentials()), tenant.fake.clone())
                .unwrap()
        })
        .collect();
    for instance in &mut instances {
        assert!(instance.lookup("contoso.com").unwrap().is_ok());
    }
    assert_eq!(count(&tenant, "/token"), 1, "one token for four instances");
    assert_eq!(count(&tenant, "/api/"), 4);

    // 55 minutes on (the token lasts 3,599 s): the host sends it no more,
    // and the component gets a fresh one without a 401 from the service.
    tenant.clock.sleep(Duration::from_secs(3599 - 300));
    for instance in &mut instances {
        assert!(instance.lookup("contoso.com").unwrap().is_ok());
    }
    assert_eq!(count(&tenant, "/token"), 2, "replaced once, for all");
    assert_eq!(
        count(&tenant, "/api/"),
        8,
        "no API call spent on the old token"
    );
    let fake = tenant.fake.lock().unwrap();
    let api_tokens: std::collections::BTreeSet<_> = fake
        .requests
        .iter()
        .filter(|r| r.url.contains("/api/"))
        .filter_map(|r| r.header("authorization"))
        .collect();
    assert_eq!(api_tokens.len(), 2, "{api_tokens:?}");
}

#[test]
fn a_token_the_service_refuses_is_dropped_for_every_instance() {
    let tenant = Tenant::new();
    let runtime = runtime().with_clock(tenant.clock.clone());
    let mut first = runtime
        .instantiate(settings(demo_credentials()), tenant.fake.clone())
        .unwrap();
    let mut second = runtime
        .instantiate(settings(demo_credentials()), tenant.fake.clone())
        .unwrap();
    assert!(first.lookup("contoso.com").unwrap().is_ok());
    // The service revokes every token it issued: the first instance meets
    // the 401, and the host forgets the token for the second one too.
    tenant.fake.lock().unwrap().expire_tokens();
    assert!(first.lookup("contoso.com").unwrap().is_ok());
    assert!(second.lookup("contoso.com").unwrap().is_ok());
    assert_eq!(count(&tenant, "/token"), 2);
    // contoso twice for the first (a 401, then the retry), once for the second.
    assert_eq!(count(&tenant, "/api/"), 4);
}

#[test]
fn one_budget_for_a_tenant_and_client_whatever_their_letter_case() {
    let tenant = Tenant::new();
    let runtime = runtime()
        .with_clock(tenant.clock.clone())
        .with_policy(PolicyOptions {
            limits: Limits {
                per_minute: 2,
                per_hour: 100,
            },
            max_wait: Duration::ZERO,
            ..passthrough_policy()
        });
    let spelled = |case: fn(&str) -> String| {
        let Auth::ClientCredentials(c) = demo_credentials() else {
            unreachable!()
        };
        Auth::ClientCredentials(ClientCredentials {
            tenant_id: case(&c.tenant_id),
            client_id: case(&c.client_id),
            ..c
        })
    };
    let mut outcomes = Vec::new();
    for case in [
        str::to_ascii_uppercase,
        str::to_ascii_lowercase,
        str::to_ascii_uppercase,
    ] {
        let mut instance = runtime
            .instantiate(settings(spelled(case)), tenant.fake.clone())
            .unwrap();
        outcomes.push(instance.lookup("contoso.com").unwrap());
    }
    assert!(outcomes[0].is_ok() && outcomes[1].is_ok(), "{outcomes:?}");
    assert!(
        matches!(outcomes[2], Err(Error::RateLimited(_))),
        "the third call is over the shared budget of 2: {:?}",
        outcomes[2]
    );
    assert_eq!(count(&tenant, "/api/"), 2);
}
