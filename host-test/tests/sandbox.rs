//! The sandbox's limits against a guest written to break them, and what the
//! host refuses to copy into it. (`cache.rs` tests the compiled-component cache.)

mod common;

use common::*;
use host_test::replay::Replay;
use mde_connector_host::Auth;
use mde_connector_host::Runtime;
use mde_connector_host::runtime::{COMPONENT, RuntimeOptions};
use std::time::{Duration, Instant};

const MISBEHAVING: &[u8] = include_bytes!(env!("MISBEHAVING_GUEST_COMPONENT"));

fn misbehaving(options: RuntimeOptions) -> mde_connector_host::Instance {
    let runtime = Runtime::with_options(MISBEHAVING, options).unwrap();
    runtime
        .instantiate(settings(Auth::HostManaged), Replay::new([]))
        .unwrap()
}

#[test]
fn a_guest_that_never_returns_is_stopped_and_the_next_call_served() {
    let mut instance = misbehaving(RuntimeOptions {
        cpu_deadline: Duration::from_millis(200),
        ..RuntimeOptions::default()
    });
    let started = Instant::now();
    let trap = instance.domain_machines("spin.example").unwrap_err();
    assert!(format!("{trap:#}").contains("interrupt"), "{trap:#}");
    // Stopped at the deadline, not left to spin (generous bound for a busy machine).
    assert!(started.elapsed() < Duration::from_secs(30));
    assert_eq!(
        instance.domain_machines("contoso.com").unwrap().unwrap(),
        []
    );
}

#[test]
fn a_guest_that_grows_without_end_is_stopped_and_the_next_call_served() {
    let mut instance = misbehaving(RuntimeOptions {
        memory_limit: 16 * 1024 * 1024,
        ..RuntimeOptions::default()
    });
    assert!(instance.domain_machines("grow.example").is_err());
    assert_eq!(
        instance.domain_machines("contoso.com").unwrap().unwrap(),
        []
    );
    assert!(instance.domain_machines("grow.example").is_err());
    assert_eq!(
        instance.domain_machines("contoso.com").unwrap().unwrap(),
        []
    );
}

#[test]
fn the_memory_limit_also_holds_without_pooling() {
    let mut instance = misbehaving(RuntimeOptions {
        memory_limit: 16 * 1024 * 1024,
        pooling: false,
        ..RuntimeOptions::default()
    });
    assert!(instance.domain_machines("grow.example").is_err());
    assert_eq!(
        instance.domain_machines("contoso.com").unwrap().unwrap(),
        []
    );
}

#[test]
fn time_waiting_on_the_network_does_not_count_against_the_deadline() {
    let runtime = Runtime::with_options(
        COMPONENT,
        RuntimeOptions {
            cpu_deadline: Duration::from_millis(100),
            ..RuntimeOptions::default()
        },
    )
    .unwrap();
    let slow = mde_connector_host::transport::FnTransport(|_: &_| {
        std::thread::sleep(Duration::from_millis(400));
        Ok(json(200, r#"{"value":[]}"#))
    });
    let mut instance = runtime
        .instantiate(settings(Auth::HostManaged), slow)
        .unwrap();
    assert_eq!(
        instance.domain_machines("contoso.com").unwrap().unwrap(),
        []
    );
}

#[test]
fn a_domain_over_1_kib_never_reaches_the_component() {
    let mut instance = replaying(Auth::HostManaged, vec![]);
    // 80 MiB: more than the instance's memory, were it copied in.
    let huge = "a".repeat(80 * 1024 * 1024);
    let e = instance.lookup(&huge).unwrap().unwrap_err();
    assert_eq!(
        mde_connector::Error::from(e).to_string(),
        format!(
            "invalid-domain: the domain is {} bytes long; the host takes at most 1024",
            huge.len()
        )
    );
    let e = instance
        .domain_machines(&huge[..1025])
        .unwrap()
        .unwrap_err();
    assert!(format!("{e:?}").contains("1025 bytes long"), "{e:?}");
    assert!(
        instance.peak_memory() < 16 * 1024 * 1024,
        "{}",
        instance.peak_memory()
    );
    assert!(instance.state().requests.is_empty());
    // At the limit, the component itself judges the domain (too long a name).
    let e = instance.lookup(&huge[..1024]).unwrap().unwrap_err();
    assert!(!format!("{e:?}").contains("the host takes"), "{e:?}");
}
