//! Fields the contract does not know yet, and values of the wrong type,
//! through the built component: each is found, with its value as sent, in
//! every format (`lookup-texts` as the CLI's json and ndjson print it, OCSF,
//! ECS), at the top of a machine and inside `ipAddresses` and `vmMetadata`.

mod common;

use common::*;
use host_test::unknown_fields::{BODY, assert_has_every_new_member};
use mde_connector_host::Auth;
use mde_connector_host::LookupTextsResult;
use serde_json::Value;

/// 2026-11-28T10:15:02.345Z.
const OBSERVED_AT: u64 = 1_795_860_902_345;

fn lookup() -> (mde_connector_host::Instance, LookupTextsResult) {
    let mut instance = replaying(Auth::HostManaged, vec![json(200, BODY)]);
    let found = instance.lookup_texts("contoso.com").unwrap().unwrap();
    (instance, found)
}

#[test]
fn new_members_reach_machines_json_under_their_own_names() {
    let (instance, found) = lookup();
    let text = &found.machines[0];
    let back: Value = serde_json::from_str(text).unwrap();
    assert_has_every_new_member("lookup-texts", text, &back);
    // The typed fields are there too, once each.
    assert_eq!(back["computerDnsName"], "ws-0142.corp.contoso.com");
    assert_eq!(back["ipAddresses"][0]["macAddress"], "00155D8A3C21");
    assert_eq!(text.matches("\"osBuild\"").count(), 1);
    // The wrong type is named in one warning with the machine.
    let warnings: Vec<_> = instance
        .state()
        .logs
        .iter()
        .filter(|l| l.event == "unusable-field")
        .collect();
    assert_eq!(warnings.len(), 1);
    assert!(
        warnings[0].message.contains(back["id"].as_str().unwrap())
            && warnings[0].message.contains("osBuild"),
        "{}",
        warnings[0].message
    );
}

#[test]
fn new_members_reach_ocsf_unmapped_and_ecs_mde() {
    let (mut instance, found) = lookup();
    let ocsf = instance
        .ocsf_inventory(&found, OBSERVED_AT)
        .unwrap()
        .unwrap();
    let event: Value = serde_json::from_str(&ocsf[0]).unwrap();
    assert_has_every_new_member("OCSF", &ocsf[0], &event["unmapped"]);
    let checker = host_test::schema::ocsf();
    assert_eq!(checker.check_event(&event), Vec::<String>::new());

    let ecs = instance
        .ecs_documents(&found, OBSERVED_AT)
        .unwrap()
        .unwrap();
    let document: Value = serde_json::from_str(&ecs[0]).unwrap();
    assert_has_every_new_member("ECS", &ecs[0], &document["mde"]);
    let checker = host_test::schema::ecs();
    assert_eq!(
        checker.check_document(&document, "mde"),
        Vec::<String>::new()
    );
}
