//! Nothing the service sends is lost: machines generated with every field of
//! [`Machine::FIELDS`] filled, with values valid and invalid for its kind and
//! with members this version does not model, at every level. Each machine's
//! text (what `lookup-texts` returns) is its object exactly as sent, and
//! every value of it is found in the machine's OCSF event and ECS document,
//! mapped or kept under the service's name.
//!
//! The generator is driven by `Machine::FIELDS`: a field added to the core
//! is generated too, and must then be found in every event, so a mapping that
//! claims a field without holding its value fails here.

use mde_connector::connector::Lookup;
use mde_connector::events::{ecs, ocsf};
use mde_connector::http::Response;
use mde_connector::lenient::{Kind, Record};
use mde_connector::machine::Machine;
use mde_connector::response;
use mde_connector::secrets::Secrets;
use proptest::prelude::*;
use serde_json::{Map, Value, json};

/// Values that the events map rather than keep: they must be generated valid
/// sometimes, so that the mapping is what is checked.
fn special(name: &str) -> Option<BoxedStrategy<Value>> {
    let time = (
        2000u32..2100,
        1u32..=12,
        1u32..=28,
        0u32..86_400,
        0u32..10_000_000,
    )
        .prop_map(|(y, mo, d, s, frac)| {
            json!(format!(
                "{y}-{mo:02}-{d:02}T{:02}:{:02}:{:02}.{frac:07}Z",
                s / 3600,
                s / 60 % 60,
                s % 60
            ))
        });
    let ipv4 = any::<[u8; 4]>().prop_map(|[a, b, c, d]| json!(format!("{a}.{b}.{c}.{d}")));
    let ipv6 =
        any::<[u16; 3]>().prop_map(|[a, b, c]| json!(format!("2001:db8::{a:x}:{b:x}:{c:x}")));
    let mac = any::<[u8; 6]>()
        .prop_map(|b| json!(b.iter().map(|x| format!("{x:02X}")).collect::<String>()));
    Some(match name {
        "firstSeen" | "lastSeen" => time.boxed(),
        "lastIpAddress" | "lastExternalIpAddress" | "ipAddress" => prop_oneof![
            ipv4,
            ipv6,
            Just(json!(" 10.0.0.1 ")),
            Just(json!("not-an-ip"))
        ]
        .boxed(),
        "macAddress" => mac.boxed(),
        "osPlatform" => prop::sample::select(vec![
            "Windows11",
            "windowsserver2022",
            "Ubuntu",
            "macOS",
            "iOS",
            "iPadOS",
            "Android",
            "FreeBSD",
            "Solaris11",
            "Other",
            "",
        ])
        .prop_map(|p| json!(p))
        .boxed(),
        "osArchitecture" => prop::sample::select(vec!["64-bit", "32-BIT", "arm64"])
            .prop_map(|a| json!(a))
            .boxed(),
        "type" => prop::sample::select(vec![
            "Ethernet",
            "wireless80211",
            "Tunnel",
            "SoftwareLoopback",
        ])
        .prop_map(|t| json!(t))
        .boxed(),
        "resourceId" => prop::sample::select(vec![
            "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/vm",
            "/subscriptions/s/resourceGroups/rg/providers/Microsoft.HybridCompute/machines/arc",
        ])
        .prop_map(|r| json!(r))
        .boxed(),
        _ => return None,
    })
}

/// A string that names its field, so that finding it proves where it came from.
fn text(name: &'static str) -> impl Strategy<Value = Value> {
    "[a-z0-9]{4,8}".prop_map(move |tail| json!(format!("{name}-{tail}")))
}

/// A value of `kind`, or of a kind `name` cannot use.
fn value(name: &'static str, kind: Kind, depth: u32) -> BoxedStrategy<Value> {
    let number = (1_000_000i64..i64::MAX / 2).prop_map(|n| json!(n));
    let invalid = prop_oneof![
        Just(json!({"odd": [1, 2.5, "x"]})),
        text(name).prop_map(|t| json!([t])),
        (1_000_000i64..9_000_000).prop_map(|n| json!(n as f64 + 0.5)),
    ];
    let valid: BoxedStrategy<Value> = match kind {
        _ if special(name).is_some() => prop_oneof![
            4 => special(name).unwrap(),
            1 => text(name),
        ]
        .boxed(),
        Kind::Text => prop_oneof![8 => text(name), 1 => Just(json!(""))].boxed(),
        Kind::Integer => prop_oneof![
            number.clone(),
            number.clone().prop_map(|n| json!(n.to_string())),
        ]
        .boxed(),
        Kind::Boolean => prop_oneof![
            any::<bool>().prop_map(|b| json!(b)),
            Just(json!("TRUE")),
            Just(json!("false")),
        ]
        .boxed(),
        Kind::IdText => prop_oneof![number.clone(), text(name)].boxed(),
        Kind::Choice(values) => prop_oneof![
            prop::sample::select(values.to_vec()).prop_map(|v| json!(v.to_ascii_uppercase())),
            prop::sample::select(values.to_vec()).prop_map(|v| json!(v)),
            text(name),
        ]
        .boxed(),
        Kind::List { of } => prop::collection::vec(value(name, *of, depth), 0..4)
            .prop_map(Value::Array)
            .boxed(),
        Kind::Record { fields } if depth < 2 => record(fields, depth + 1).boxed(),
        Kind::Record { .. } => Just(json!({})).boxed(),
    };
    prop_oneof![5 => valid, 1 => invalid, 1 => Just(Value::Null)].boxed()
}

/// An object with every field of `fields` filled, and members no version models.
fn record(fields: &'static [(&'static str, Kind)], depth: u32) -> impl Strategy<Value = Value> {
    let filled: Vec<BoxedStrategy<(String, Value)>> = fields
        .iter()
        .map(|&(name, kind)| {
            value(name, kind, depth)
                .prop_map(move |v| (name.to_owned(), v))
                .boxed()
        })
        .collect();
    let unknown = prop::collection::vec(
        (
            prop_oneof!["new[A-Z][a-z]{2,6}", Just("queriedDomain".to_owned())],
            prop_oneof![
                text("unknown"),
                (1i64..i64::MAX).prop_map(|n| json!(n)),
                Just(json!(123456789012345678901234567890_f64)),
                any::<bool>().prop_map(|b| json!(b)),
                Just(json!({"nested": {"deeper": ["unknown-leaf", 42.25]}})),
                Just(json!([])),
            ],
        ),
        0..3,
    );
    (filled, unknown).prop_map(|(filled, unknown)| {
        let mut object: Map<String, Value> = filled.into_iter().collect();
        for (name, v) in unknown {
            object.entry(name).or_insert(v);
        }
        Value::Object(object)
    })
}

fn machine() -> impl Strategy<Value = Value> {
    (record(Machine::FIELDS, 0), "[0-9a-f]{40}").prop_map(|(mut m, id)| {
        // The one field that must be usable: it names the machine.
        m["id"] = json!(id);
        m
    })
}

/// A value as text to compare: numbers and numeric strings alike, case aside.
fn normal(v: &Value) -> String {
    match v {
        Value::String(s) => match s.parse::<i64>() {
            Ok(n) => n.to_string(),
            Err(_) => s.to_ascii_lowercase(),
        },
        other => other.to_string().to_ascii_lowercase(),
    }
}

/// Each leaf of `v` with the name of the member holding it. An empty list or
/// object is a leaf too.
fn leaves(v: &Value, name: &str, out: &mut Vec<(String, String)>) {
    match v {
        Value::Object(members) if !members.is_empty() => {
            for (n, v) in members {
                leaves(v, n, out);
            }
        }
        Value::Array(items) if !items.is_empty() => {
            for v in items {
                leaves(v, name, out);
            }
        }
        Value::Null => {}
        leaf => out.push((name.to_owned(), normal(leaf))),
    }
}

/// The schema attributes a mapped member's value may be found under, for
/// values too short to say which member they came from (`Low`, `23H2`, `a`).
fn mapped_names(name: &str) -> &'static [&'static str] {
    match name {
        "id" => &["uid", "id"],
        "computerDnsName" => &["hostname", "name"],
        "osPlatform" | "rbacGroupName" | "machineTags" => &["name"],
        "osVersion" | "version" | "agentVersion" => &["version"],
        "osBuild" => &["build"],
        "osProcessor" | "osArchitecture" => &["architecture"],
        "lastIpAddress" => &["ip"],
        "riskScore" => &["risk_level", "static_level"],
        "rbacGroupId" => &["uid", "id"],
        "aadDeviceId" => &["uid_alt"],
        "firstSeen" => &["first_seen_time_dt"],
        "lastSeen" => &["last_seen_time_dt"],
        _ => &[],
    }
}

/// What every leaf of `sent` must be found as in `event`: by value when the
/// value says which member it came from, else by value under the member's
/// own name (as kept) or an attribute it maps to.
fn missing_from(sent: &Value, event: &Value) -> Vec<(String, String)> {
    let (mut wanted, mut found) = (Vec::new(), Vec::new());
    leaves(sent, "", &mut wanted);
    leaves(event, "", &mut found);
    wanted
        .into_iter()
        .filter(|(name, value)| {
            let telling = value.len() > 6 && !matches!(value.as_str(), "true" | "false");
            !found.iter().any(|(n, v)| {
                v == value
                    && (telling
                        || n == name
                        || *n == format!("{name}_sent")
                        || mapped_names(name).contains(&n.as_str()))
            })
        })
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn no_value_the_service_sends_is_lost(sent in machine()) {
        let body = json!({"@odata.context": "x", "value": [sent]}).to_string();
        let answer = Response { status: 200, headers: Vec::new(), body: body.into_bytes() };
        let machines = response::texts(&answer, &Secrets::default())
            .map_err(|e| TestCaseError::fail(format!("{e}")))?
            .machines;
        let found = Lookup { domain: "contoso.com".into(), machines, cap_reached: false };

        // The text is the machine as sent: every member, its value and type.
        let back: Value = serde_json::from_str(&found.machines[0]).unwrap();
        prop_assert_eq!(&back, &sent);

        let ocsf: Value = serde_json::from_str(&ocsf::inventory(&found, 0).unwrap()[0]).unwrap();
        let missing = missing_from(&sent, &ocsf);
        prop_assert!(missing.is_empty(), "OCSF lost {missing:?}\n{ocsf:#}");
        let ecs: Value = serde_json::from_str(&ecs::documents(&found, 0).unwrap()[0]).unwrap();
        let missing = missing_from(&sent, &ecs);
        prop_assert!(missing.is_empty(), "ECS lost {missing:?}\n{ecs:#}");
    }
}

/// The check above finds a lost value: an event with one member removed fails it.
#[test]
fn a_value_left_out_of_an_event_is_found_missing() {
    let sent =
        json!({"id": "a", "version": "version-23H2", "isExcluded": true, "osBuild": 1_900_045});
    let event = json!({"os": {"version": "version-23H2", "build": "1900045"}, "isExcluded": true, "uid": "a"});
    assert!(missing_from(&sent, &event).is_empty());
    for (path, leaf) in [
        ("/os/version", "version-23h2"),
        ("/isExcluded", "true"),
        ("/os/build", "1900045"),
    ] {
        let mut without = event.clone();
        *without.pointer_mut(path).unwrap() = Value::Null;
        let missing = missing_from(&sent, &without);
        assert_eq!(missing.len(), 1, "{path}: {missing:?}");
        assert_eq!(missing[0].1, leaf);
    }
    // A boolean elsewhere under another name is not the same value.
    let elsewhere = json!({"os": {"version": "version-23H2", "build": "1900045"}, "isManaged": true, "uid": "a"});
    assert_eq!(
        missing_from(&sent, &elsewhere),
        [("isExcluded".to_owned(), "true".to_owned())]
    );
}

/// Every kind is generated valid, invalid and absent; each field is reached.
#[test]
fn the_generator_fills_every_field() {
    use proptest::strategy::ValueTree;
    use proptest::test_runner::TestRunner;
    let mut runner = TestRunner::deterministic();
    let strategy = machine();
    let samples: Vec<Value> = (0..200)
        .map(|_| strategy.new_tree(&mut runner).unwrap().current())
        .collect();
    for (name, _) in Machine::FIELDS {
        let filled = samples.iter().filter(|m| !m[name].is_null()).count();
        assert!(filled > 100, "{name} filled in {filled} of 200");
    }
    let unusable = samples
        .iter()
        .filter(|m| m["osBuild"].is_object() || m["osBuild"].is_array() || m["osBuild"].is_f64())
        .count();
    assert!(unusable > 10, "osBuild invalid in {unusable} of 200");
}
