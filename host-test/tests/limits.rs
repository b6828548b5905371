//! Answers at the documented limits (a 16 MiB body, 5,000 machines) through
//! the built component under the default 64 MiB memory limit: each lookup,
//! and each mapping of what it found, ends in a result or a typed error,
//! never a trap (a trap fails the outer `.expect`).

mod common;

use common::*;
use mde_connector_host::Auth;
use mde_connector_host::Instance;
use mde_connector_host::runtime::mde::connector::types::LookupResult;

/// The largest body the component reads.
const MAX_BODY: usize = 16 * 1024 * 1024;

/// `{"value":[<machine>]}` where the machine's `member` is a list of `entry`
/// repeated to fill the body up to `size` bytes.
fn one_machine_with_list(member: &str, entry: &str, size: usize) -> String {
    let head = format!(r#"{{"value":[{{"id":"a","{member}":["#);
    let tail = "]}]}";
    let count = (size - head.len() - tail.len()) / (entry.len() + 1);
    let mut body = String::with_capacity(size);
    body.push_str(&head);
    for i in 0..count {
        if i > 0 {
            body.push(',');
        }
        body.push_str(entry);
    }
    body.push_str(tail);
    assert!(body.len() <= size);
    body
}

/// `lookup` of `body`, in an instance that answers `lookup-texts` with it again.
fn looked_up(body: String) -> (Instance, LookupResult) {
    let answers = vec![answer(200, &[], body.clone()), answer(200, &[], body)];
    let mut instance = replaying(Auth::HostManaged, answers);
    let found = instance
        .lookup("contoso.com")
        .expect("the lookup must not trap")
        .expect("the answer is a collection of machines");
    (instance, found)
}

/// The same answer as texts, and their events: results, no trap. Returns the
/// peak memory seen.
fn map_everything(instance: &mut Instance, found: &LookupResult) -> usize {
    let texts = instance
        .lookup_texts("contoso.com")
        .expect("lookup-texts must not trap")
        .expect("the answer is a collection of machines");
    assert_eq!(texts.machines.len(), found.machines.len());
    let ocsf = instance
        .ocsf_inventory(&texts, 0)
        .expect("ocsf-inventory must not trap")
        .unwrap();
    assert_eq!(ocsf.len(), found.machines.len());
    let ecs = instance
        .ecs_documents(&texts, 0)
        .expect("ecs-documents must not trap")
        .unwrap();
    assert_eq!(ecs.len(), found.machines.len());
    instance.peak_memory()
}

#[test]
fn an_8_mib_machine_tags_array_is_kept_as_sent() {
    let body = one_machine_with_list("machineTags", r#""""#, 8 * 1024 * 1024);
    let (mut instance, found) = looked_up(body);
    let machine = &found.machines[0];
    assert_eq!(machine.machine_tags, None);
    let kept = machine.unmodelled.as_deref().unwrap();
    assert!(kept.starts_with(r#"{"machineTags":["","#) && kept.len() > 8_000_000);
    let peak = map_everything(&mut instance, &found);
    eprintln!("8 MiB machineTags: peak linear memory {} MiB", peak >> 20);
}

#[test]
fn a_16_mib_ip_addresses_array_is_kept_as_sent() {
    for entry in ["{}", r#"{"ipAddress":"10.0.0.1"}"#, "7"] {
        let body = one_machine_with_list("ipAddresses", entry, MAX_BODY);
        let (mut instance, found) = looked_up(body);
        let machine = &found.machines[0];
        assert_eq!(machine.ip_addresses, None, "{entry}");
        assert!(machine.unmodelled.as_deref().unwrap().len() > 15_000_000);
        let peak = map_everything(&mut instance, &found);
        eprintln!(
            "16 MiB ipAddresses of {entry}: peak linear memory {} MiB",
            peak >> 20
        );
    }
}

#[test]
fn lists_across_many_machines_are_bounded_in_all() {
    // 5,000 machines with 999 addresses each: every list under its own limit,
    // 5 million entries in all.
    let entries = vec!["{}"; 999].join(",");
    let machine = format!(r#"{{"id":"a","ipAddresses":[{entries}]}}"#);
    let body = format!(
        r#"{{"value":[{}]}}"#,
        vec![machine.as_str(); 5_000].join(",")
    );
    assert!(body.len() <= MAX_BODY, "{}", body.len());
    let (mut instance, found) = looked_up(body);
    assert_eq!(found.machines.len(), 5_000);
    let typed: usize = found
        .machines
        .iter()
        .map(|m| m.ip_addresses.as_ref().map_or(0, Vec::len))
        .sum();
    assert!(typed <= 50_000, "{typed} typed entries");
    assert!(found.machines.last().unwrap().unmodelled.is_some());
    let summary = instance
        .state()
        .logs
        .iter()
        .filter(|l| l.event == "unusable-field")
        .count();
    assert_eq!(
        summary, 101,
        "100 machines named, then one record for the rest"
    );
    let peak = map_everything(&mut instance, &found);
    eprintln!(
        "5,000 machines x 999 addresses: peak linear memory {} MiB",
        peak >> 20
    );
}

#[test]
fn five_thousand_full_machines_map_to_every_format() {
    let machines: Vec<_> = (0..5_000)
        .map(host_test::fake_tenant::full_machine)
        .collect();
    let body = serde_json::json!({"value": machines}).to_string();
    assert!(body.len() <= MAX_BODY);
    let (mut instance, found) = looked_up(body);
    assert_eq!(found.machines.len(), 5_000);
    assert!(found.machines.iter().all(|m| m.unmodelled.is_none()));
    let peak = map_everything(&mut instance, &found);
    eprintln!("5,000 full machines: peak linear memory {} MiB", peak >> 20);
}

#[test]
fn a_16_mib_member_nobody_models_maps_to_every_format() {
    let padding = "x".repeat(MAX_BODY - 64);
    let body = format!(r#"{{"value":[{{"id":"a","padding":"{padding}"}}]}}"#);
    assert!(body.len() <= MAX_BODY);
    let (mut instance, found) = looked_up(body);
    assert!(found.machines[0].unmodelled.as_deref().unwrap().len() > MAX_BODY - 100);
    let peak = map_everything(&mut instance, &found);
    eprintln!("one 16 MiB member: peak linear memory {} MiB", peak >> 20);
}

#[test]
fn five_thousand_machines_with_every_field_unusable_map_to_every_format() {
    use serde_json::{Value, json};
    let unusable = |n: usize| {
        let mut machine = host_test::fake_tenant::full_machine(n);
        for (name, value) in machine.as_object_mut().unwrap() {
            if name != "id" {
                *value = json!({"sent": [value.take(), "unusable padding"]});
            }
        }
        machine
    };
    let one = unusable(0).to_string().len();
    let count = (MAX_BODY / (one + 1)).min(5_000);
    let machines: Vec<Value> = (0..count).map(unusable).collect();
    let body = json!({"value": machines}).to_string();
    assert!(body.len() <= MAX_BODY);
    let (mut instance, found) = looked_up(body);
    assert_eq!(found.machines.len(), count);
    assert!(
        found
            .machines
            .iter()
            .all(|m| m.computer_dns_name.is_none() && m.unmodelled.is_some())
    );
    let peak = map_everything(&mut instance, &found);
    eprintln!(
        "{count} machines, every field unusable: peak linear memory {} MiB",
        peak >> 20
    );
}

/// 5,000 machines, each with a 3,300-character `computerDnsName` (16.5 MB,
/// inside every stated limit): the lookup and its texts work, and each
/// mapping to events either fits in the default 64 MiB or is refused with a
/// typed error that says what to do, never a trap.
#[test]
fn five_thousand_long_names_map_to_events_or_are_refused_never_trap() {
    let label = "x".repeat(63);
    let mut name = vec![label.as_str(); 51].join(".");
    name = format!("{name}.{}.example", "y".repeat(3_300 - name.len() - 9));
    assert_eq!(name.len(), 3_300);
    let machines: Vec<String> = (0..5_000)
        .map(|i| format!(r#"{{"id":"m{i}","computerDnsName":"{name}"}}"#))
        .collect();
    let body = format!(r#"{{"value":[{}]}}"#, machines.join(","));
    assert!(body.len() <= MAX_BODY, "{}", body.len());
    let (mut instance, found) = looked_up(body);
    assert_eq!(found.machines.len(), 5_000);
    let texts = instance
        .lookup_texts("contoso.com")
        .expect("lookup-texts must not trap")
        .expect("the answer is a collection of machines");
    for (format, events) in [
        ("ocsf", instance.ocsf_inventory(&texts, 0)),
        ("ecs", instance.ecs_documents(&texts, 0)),
    ] {
        match events.unwrap_or_else(|trap| panic!("{format} trapped: {trap:#}")) {
            Ok(events) => assert_eq!(events.len(), 5_000, "{format}"),
            Err(why) => {
                eprintln!("{format}: {why}");
                assert!(
                    why.contains("--format json") && why.contains("--memory-limit"),
                    "{format}: {why}"
                )
            }
        }
    }
    eprintln!(
        "5,000 names of {} characters: peak linear memory {} MiB",
        name.len(),
        instance.peak_memory() >> 20
    );
}
