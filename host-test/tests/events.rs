//! The `events` export: OCSF and ECS events made by the component for every
//! machine of the fake tenant, checked against the schemas' own files.

mod common;

use common::{Tenant, demo_credentials, settings};
use host_test::fake_tenant::DEMO_DOMAINS;
use host_test::schema::{ecs, ocsf};
use mde_connector_host::Instance;
use mde_connector_host::runtime::Machine;
use serde_json::{Value, json};

/// 2026-11-28T10:15:02.345Z.
const OBSERVED_AT: u64 = 1_795_860_902_345;

fn instance() -> Instance {
    Tenant::new().instance(settings(demo_credentials()))
}

fn machines(domain: &str) -> Vec<Machine> {
    instance().domain_machines(domain).unwrap().unwrap()
}

fn parse(events: Vec<String>) -> Vec<Value> {
    events
        .iter()
        .map(|e| serde_json::from_str(e).unwrap_or_else(|err| panic!("{err}: {e}")))
        .collect()
}

/// `lookup-texts`, then the events of what it found.
fn ocsf_events(domain: &str) -> Vec<Value> {
    let mut i = instance();
    let found = i.lookup_texts(domain).unwrap().unwrap();
    parse(i.ocsf_inventory(&found, OBSERVED_AT).unwrap().unwrap())
}

fn ecs_documents(domain: &str) -> Vec<Value> {
    let mut i = instance();
    let found = i.lookup_texts(domain).unwrap().unwrap();
    parse(i.ecs_documents(&found, OBSERVED_AT).unwrap().unwrap())
}

#[test]
fn every_machine_of_the_fake_tenant_is_a_valid_ocsf_inventory_event() {
    let mut checked = 0;
    for domain in DEMO_DOMAINS {
        let machines = machines(domain);
        let events = ocsf_events(domain);
        assert_eq!(events.len(), machines.len(), "{domain}");
        for (event, machine) in events.iter().zip(&machines) {
            let errors = ocsf().check_event(event);
            assert!(
                errors.is_empty(),
                "{domain} {}: {errors:#?}\n{event:#}",
                machine.id
            );
            assert_eq!(event["device"]["uid"], machine.id.as_str());
            assert_eq!(event["time"], OBSERVED_AT);
            assert_eq!(event["metadata"]["version"], ocsf().version.as_str());
            assert_eq!(event["unmapped"]["queriedDomain"], *domain);
            checked += 1;
        }
    }
    assert_eq!(checked, 3 + 500 + 1);
}

#[test]
fn every_machine_of_the_fake_tenant_is_a_valid_ecs_document() {
    let mut checked = 0;
    for domain in DEMO_DOMAINS {
        let machines = machines(domain);
        let documents = ecs_documents(domain);
        assert_eq!(documents.len(), machines.len(), "{domain}");
        for (document, machine) in documents.iter().zip(&machines) {
            let errors = ecs().check_document(document, "mde");
            assert!(
                errors.is_empty(),
                "{domain} {}: {errors:#?}\n{document:#}",
                machine.id
            );
            assert_eq!(document["host"]["id"], machine.id.as_str());
            assert_eq!(document["@timestamp"], "2026-11-28T10:15:02.345Z");
            assert_eq!(document["ecs"]["version"], ecs().version.as_str());
            assert_eq!(document["mde"]["queriedDomain"], *domain);
            checked += 1;
        }
    }
    assert_eq!(checked, 3 + 500 + 1);
}

#[test]
fn the_fake_tenants_quirks_land_where_the_schemas_want_them() {
    let events = ocsf_events("contoso.com");
    // The service's MACs gain separators; an interface without a MAC or
    // without an IP is still one; the raw list stays in `unmapped`.
    let ws = &events[0]["device"];
    assert_eq!(
        ws["network_interfaces"],
        json!([
            {"type_id": 1, "type": "Wired", "ip": "10.20.31.7", "mac": "00:15:5D:8A:3C:21"},
            {"type_id": 99, "type": "SoftwareLoopback", "ip": "127.0.0.1"}
        ])
    );
    assert_eq!(
        events[0]["unmapped"]["ipAddresses"]
            .as_array()
            .unwrap()
            .len(),
        2
    );
    let web = &events[1];
    assert_eq!(
        web["device"]["network_interfaces"][1],
        json!({"type_id": 1, "type": "Wired", "mac": "00:50:56:8A:1B:2D"})
    );
    assert_eq!(web["metadata"]["profiles"], json!(["datetime", "cloud"]));
    assert_eq!(web["cloud"]["provider"], "Azure");
    // A health status the reference does not list passes through.
    assert_eq!(events[2]["unmapped"]["healthStatus"], "Maintenance");
    // rbacGroupId sent as a number is a string uid.
    assert_eq!(ws["groups"][0], json!({"uid": "0", "type": "Device group"}));

    let documents = ecs_documents("contoso.com");
    assert_eq!(
        documents[1]["host"]["mac"],
        json!(["00-50-56-8A-1B-2C", "00-50-56-8A-1B-2D"])
    );
    assert_eq!(
        documents[1]["related"]["ip"],
        json!(["172.16.4.12", "203.0.113.24"])
    );
}

#[test]
fn events_map_one_lookup_without_a_request_of_their_own() {
    let mut i = instance();
    let found = i.lookup_texts("Contoso.COM.").unwrap().unwrap();
    let ocsf = i.ocsf_inventory(&found, OBSERVED_AT).unwrap().unwrap();
    let ecs = i.ecs_documents(&found, OBSERVED_AT).unwrap().unwrap();
    assert_eq!((ocsf.len(), ecs.len(), found.machines.len()), (3, 3, 3));
    // One token request and one API call for the machines and both formats.
    assert_eq!(
        common::sent(&i)
            .into_iter()
            .map(|(line, _)| line)
            .collect::<Vec<_>>(),
        [
            common::TOKEN_URL.to_owned(),
            common::machines_url("contoso.com"),
        ]
    );
    // The queried domain in every event is the one the lookup normalised.
    for event in parse(ocsf) {
        assert_eq!(event["unmapped"]["queriedDomain"], "contoso.com");
    }
    for document in parse(ecs) {
        assert_eq!(document["mde"]["queriedDomain"], "contoso.com");
    }
}

#[test]
fn an_empty_lookup_maps_to_no_events() {
    let mut i = instance();
    let found = i.lookup_texts("nothing.example").unwrap().unwrap();
    assert!(found.machines.is_empty());
    assert_eq!(i.ocsf_inventory(&found, OBSERVED_AT).unwrap(), Ok(vec![]));
    assert_eq!(i.ecs_documents(&found, OBSERVED_AT).unwrap(), Ok(vec![]));
}

#[test]
fn an_observation_time_rfc3339_cannot_write_is_an_error() {
    let mut i = instance();
    let found = i.lookup_texts("contoso.com").unwrap().unwrap();
    // The first and the last millisecond RFC 3339 can write.
    for at in [0, 253_402_300_799_999] {
        let events = parse(i.ocsf_inventory(&found, at).unwrap().unwrap());
        assert_eq!(events.len(), 3);
        assert!(
            events
                .iter()
                .all(|e| e["time"] == at && e["time_dt"].is_string())
        );
        let documents = parse(i.ecs_documents(&found, at).unwrap().unwrap());
        assert_eq!(documents.len(), 3);
        assert!(documents.iter().all(|d| d["@timestamp"].is_string()));
    }
    for at in [253_402_300_800_000, i64::MAX as u64 + 1, u64::MAX] {
        let ocsf = i.ocsf_inventory(&found, at).unwrap().unwrap_err();
        let ecs = i.ecs_documents(&found, at).unwrap().unwrap_err();
        for e in [ocsf, ecs] {
            assert!(e.contains(&at.to_string()) && e.contains("RFC 3339"), "{e}");
        }
    }
}

/// The checker finds what is wrong: it is not a pass-everything.
#[test]
fn the_ocsf_checker_reports_unknown_attributes_wrong_types_and_missing_required() {
    let mut event = ocsf_events("contoso.com").remove(1);
    assert!(ocsf().check_event(&event).is_empty());
    let device = &mut event["device"];
    device["colour"] = json!("red");
    device["os"]["type_id"] = json!("Windows");
    device["os"].as_object_mut().unwrap().remove("name");
    device["first_seen_time"] = json!("2024-06-01T12:00:00Z");
    device["network_interfaces"][0]["mac"] = json!("0050568A1B2C");
    device["network_interfaces"][0]["ip"] = json!("");
    device["risk_level_id"] = json!(7);
    device["groups"] = json!({"name": "not an array"});
    device["hostname"] = json!(42);
    event["metadata"]["profiles"] = json!(["datetime", "cloud", "no-such-profile"]);
    event["type_uid"] = json!(500_101);
    event["severity"] = json!("Critical");
    event.as_object_mut().unwrap().remove("severity_id");
    event.as_object_mut().unwrap().remove("cloud");
    event["time"] = json!(1.5);

    let errors = ocsf().check_event(&event);
    for expected in [
        "device.colour: device has no such attribute",
        "device.os.type_id: \"Windows\" is not a integer_t",
        "device.os.name: required by os but missing",
        "device.first_seen_time: \"2024-06-01T12:00:00Z\" is not a timestamp_t",
        "device.network_interfaces[0].mac: \"0050568A1B2C\" does not match the pattern of mac_t",
        "device.network_interfaces[0].ip: \"\" does not match the pattern of ip_t",
        "device.risk_level_id: 7 is not one of the enumeration's values",
        "device.groups: expected an array",
        "device.hostname: 42 is not a hostname_t",
        "metadata.profiles: inventory_info does not take the no-such-profile profile",
        "type_uid: 500101 is not class_uid × 100 + activity_id = 500102",
        "severity_id: required by inventory_info but missing",
        "cloud: required by inventory_info but missing",
        "time: 1.5 is not a timestamp_t",
    ] {
        assert!(
            errors.iter().any(|e| e.starts_with(expected)),
            "missing {expected:?} in {errors:#?}"
        );
    }

    // Attributes of a profile the event does not declare; a caption that is
    // not its id's.
    let mut event = ocsf_events("contoso.com").remove(1);
    event["metadata"]["profiles"] = json!([]);
    event["device"]["risk_level"] = json!("Low");
    let errors = ocsf().check_event(&event);
    for expected in [
        "cloud: belongs to the cloud profile",
        "time_dt: a datetime sibling, but metadata.profiles does not declare datetime",
        "device.first_seen_time_dt: a datetime sibling",
        "device.risk_level: \"Low\" is not the caption of risk_level_id 3",
    ] {
        assert!(
            errors.iter().any(|e| e.starts_with(expected)),
            "missing {expected:?} in {errors:#?}"
        );
    }

    let mut event = ocsf_events("contoso.com").remove(0);
    event["class_uid"] = json!(4242);
    assert_eq!(
        ocsf().check_event(&event),
        ["class_uid: no class has uid 4242"]
    );
}

#[test]
fn the_ecs_checker_reports_unknown_fields_and_incompatible_types() {
    let mut document = ecs_documents("contoso.com").remove(1);
    assert!(ecs().check_document(&document, "mde").is_empty());
    document["host"]["colour"] = json!("red");
    document["host"]["ip"] = json!(["172.16.4.12", "not-an-ip"]);
    document["host"]["os"]["name"] = json!(7);
    document["event"]["kind"] = json!(["state", false]);
    document["@timestamp"] = json!("yesterday");
    document["group"] = json!({"id": {"deeper": "x"}});
    document["labels"] = json!({"anything": "goes"});
    let errors = ecs().check_document(&document, "mde");
    for expected in [
        "host.colour: not an ECS field",
        "host.ip: \"not-an-ip\" is not a valid ip",
        "host.os.name: 7 is not a valid keyword",
        "event.kind: false is not a valid keyword",
        "@timestamp: \"yesterday\" is not a valid date",
        "group.id.deeper: not an ECS field",
    ] {
        assert!(
            errors.iter().any(|e| e == expected),
            "missing {expected:?} in {errors:#?}"
        );
    }
    assert_eq!(errors.len(), 6, "{errors:#?}");

    // A namespace ECS owns is not a place for custom fields.
    let document = ecs_documents("contoso.com").remove(1);
    let errors = ecs().check_document(&document, "host");
    assert!(errors.contains(&"host: the custom namespace is an ECS field set".to_owned()));
    assert!(errors.iter().any(|e| e.starts_with("mde.")), "{errors:#?}");
}

/// `lookup-texts` holds the machines `lookup` finds: for every machine of the
/// fake tenant (its quirks, unmodelled members and odd values included), the
/// text has the typed record's id, and what it does not model is in the text
/// under its own name.
#[test]
fn lookup_texts_holds_the_machines_of_lookup() {
    for domain in DEMO_DOMAINS {
        let mut i = instance();
        let found = i.lookup(domain).unwrap().unwrap();
        let texts = i.lookup_texts(domain).unwrap().unwrap();
        assert_eq!(texts.domain, found.domain);
        assert_eq!(texts.cap_reached, found.cap_reached);
        assert_eq!(texts.machines.len(), found.machines.len(), "{domain}");
        for (text, machine) in texts.machines.iter().zip(&found.machines) {
            let text: Value = serde_json::from_str(text).unwrap();
            assert_eq!(text["id"], machine.id.as_str());
            assert_eq!(text["computerDnsName"], json!(machine.computer_dns_name));
            let unmodelled: Value = machine
                .unmodelled
                .as_deref()
                .map_or(json!({}), |u| serde_json::from_str(u).unwrap());
            for (name, value) in unmodelled.as_object().unwrap() {
                assert_eq!(&text[name], value, "{domain} {}: {name}", machine.id);
            }
        }
    }
}

/// The texts a host hands back are read as the service's answers are: a
/// text that is not a machine's object is refused by its index, and the
/// observation time is checked first.
#[test]
fn events_refuse_a_text_that_is_not_a_machine() {
    let mut i = instance();
    let mut texts = i.lookup_texts("contoso.com").unwrap().unwrap();
    let last = 253_402_300_800_000;
    for e in [
        i.ocsf_inventory(&texts, last).unwrap().unwrap_err(),
        i.ecs_documents(&texts, last).unwrap().unwrap_err(),
    ] {
        assert!(e.contains("RFC 3339"), "{e}");
    }
    texts.machines[2] = r#"{"computerDnsName": "no-id.contoso.com"}"#.into();
    for e in [
        i.ocsf_inventory(&texts, OBSERVED_AT).unwrap().unwrap_err(),
        i.ecs_documents(&texts, OBSERVED_AT).unwrap().unwrap_err(),
    ] {
        assert_eq!(e, "machine text 2: no id");
    }
    texts.machines[2] = r#"{"id": "a1"} trailing"#.into();
    let e = i.ocsf_inventory(&texts, OBSERVED_AT).unwrap().unwrap_err();
    assert_eq!(e, "machine text 2: trailing characters");
}
