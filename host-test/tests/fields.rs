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
fn new_members_reach_lookup_texts_under_their_own_names() {
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

/// An answer of the live service's shapes, pretty-printed: numbers (an
/// integer `rbacGroupId`, `osBuild` as a number and as a string, `2.50`,
/// `1e3`, `-0`, an integer past 64 bits), enumerations in odd case, members
/// absent and `null`, nested lists and records with members no version
/// models, one value the model cannot use, two machines with one id, escapes.
const AS_SENT: &str = r#"{
  "@odata.context": "https://api.security.microsoft.com/api/$metadata#Machines",
  "value": [
    {
      "id": "1e5bc9d7e413ddd7902c2932e418702b84d0cc07",
      "computerDnsName": "mymachine1.contoso.com",
      "firstSeen": "2018-08-02T14:55:03.7791856Z",
      "osPlatform": "Windows10",
      "osBuild": 18209,
      "rbacGroupId": 140,
      "rbacGroupName": "The-A-Team",
      "riskScore": "low",
      "healthStatus": "ACTIVE",
      "onboardingStatus": "onboarded",
      "isAadJoined": true,
      "aadDeviceId": null,
      "machineTags": [ "test tag 1", "ExampleTag" ],
      "ipAddresses": [
        { "ipAddress": "10.0.0.1", "macAddress": "001122334455", "type": "Ethernet",
          "operationalStatus": "Up", "prefixLength": 24 },
        { "ipAddress": "fe80::1", "macAddress": null }
      ],
      "vmMetadata": { "vmId": "v-1", "cloudProvider": "Azure", "zone": 2 },
      "someNewField": { "weight": 2.50, "tiny": 1e3, "zero": -0,
                        "big": 123456789012345678901234567890 },
      "note": "caf\u00e9 \"quoted\" back\\slash \/ tab\t"
    },
    {
      "id": "1e5bc9d7e413ddd7902c2932e418702b84d0cc07",
      "osBuild": "19045",
      "isExcluded": "FALSE",
      "deviceValue": "high",
      "lastSeen": 20240101
    }
  ]
}"#;

#[test]
fn texts_are_each_machine_exactly_as_the_service_sent_it() {
    let mut instance = replaying(Auth::HostManaged, vec![json(200, AS_SENT)]);
    let found = instance.lookup_texts("contoso.com").unwrap().unwrap();
    // Compact, and otherwise byte for byte: member order, numbers, escapes.
    assert_eq!(
        found.machines,
        [
            concat!(
                r#"{"id":"1e5bc9d7e413ddd7902c2932e418702b84d0cc07","#,
                r#""computerDnsName":"mymachine1.contoso.com","#,
                r#""firstSeen":"2018-08-02T14:55:03.7791856Z","osPlatform":"Windows10","#,
                r#""osBuild":18209,"rbacGroupId":140,"rbacGroupName":"The-A-Team","#,
                r#""riskScore":"low","healthStatus":"ACTIVE","onboardingStatus":"onboarded","#,
                r#""isAadJoined":true,"aadDeviceId":null,"#,
                r#""machineTags":["test tag 1","ExampleTag"],"#,
                r#""ipAddresses":[{"ipAddress":"10.0.0.1","macAddress":"001122334455","#,
                r#""type":"Ethernet","operationalStatus":"Up","prefixLength":24},"#,
                r#"{"ipAddress":"fe80::1","macAddress":null}],"#,
                r#""vmMetadata":{"vmId":"v-1","cloudProvider":"Azure","zone":2},"#,
                r#""someNewField":{"weight":2.50,"tiny":1e3,"zero":-0,"#,
                r#""big":123456789012345678901234567890},"#,
                r#""note":"caf\u00e9 \"quoted\" back\\slash \/ tab\t"}"#,
            ),
            concat!(
                r#"{"id":"1e5bc9d7e413ddd7902c2932e418702b84d0cc07","osBuild":"19045","#,
                r#""isExcluded":"FALSE","deviceValue":"high","lastSeen":20240101}"#,
            ),
        ]
    );
    // Parsed, each is the service's member for that machine.
    let sent: Value = serde_json::from_str(AS_SENT).unwrap();
    for (i, text) in found.machines.iter().enumerate() {
        let back: Value = serde_json::from_str(text).unwrap();
        assert_eq!(back, sent["value"][i], "machine {i}");
    }
    // The value the model cannot use is named, as for `lookup`.
    let warned = instance
        .state()
        .logs
        .iter()
        .any(|l| l.event == "unusable-field" && l.message.contains("lastSeen"));
    assert!(warned, "{:?}", instance.state().logs);
    // The events map typed values and keep the rest as sent.
    let ocsf = instance
        .ocsf_inventory(&found, OBSERVED_AT)
        .unwrap()
        .unwrap();
    let event: Value = serde_json::from_str(&ocsf[0]).unwrap();
    assert_eq!(event["unmapped"]["onboardingStatus"], "onboarded");
    assert_eq!(event["unmapped"]["healthStatus"], "ACTIVE");
    assert!(ocsf[0].contains(r#""weight":2.50"#), "{}", ocsf[0]);
    let second: Value = serde_json::from_str(&ocsf[1]).unwrap();
    assert_eq!(second["unmapped"]["lastSeen"], 20240101);
    let ecs = instance
        .ecs_documents(&found, OBSERVED_AT)
        .unwrap()
        .unwrap();
    let document: Value = serde_json::from_str(&ecs[0]).unwrap();
    assert_eq!(document["mde"]["onboardingStatus"], "onboarded");
    assert!(ecs[0].contains(r#""big":123456789012345678901234567890"#));
}
