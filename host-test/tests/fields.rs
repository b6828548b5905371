//! Fields the contract does not know yet, and values of the wrong type,
//! through the built component: each is found, with its value as sent, in
//! every format (`machines-json` as the CLI's json and ndjson print it, OCSF,
//! ECS), at the top of a machine and inside `ipAddresses` and `vmMetadata`.

mod common;
mod schema;

use common::*;
use host_test::runtime::Auth;
use host_test::runtime::mde::connector::types::LookupResult;
use schema::ecs::Ecs;
use schema::ocsf::Ocsf;
use serde_json::{Value, json};
use std::process::Command;

/// 2026-11-28T10:15:02.345Z.
const OBSERVED_AT: u64 = 1_795_860_902_345;

/// A machine as a later revision of the service might send it: members no
/// version models, a number no 64-bit type holds, a known field of the
/// wrong type. Pretty-printed, as some proxies re-indent answers.
const BODY: &str = r#"{
  "@odata.context": "https://api.security.microsoft.com/api/$metadata#Machines",
  "value": [
    {
      "id": "9a7d3c15e02b4f6e8d1c0b2a3f4e5d6c7b8a9f01",
      "computerDnsName": "ws-0142.corp.contoso.com",
      "osPlatform": "Windows11",
      "osBuild": "n/a",
      "deviceCategory": "Endpoint",
      "exposureScore": 123456789012345678901234567890,
      "firmware": { "vendor": "Contoso", "versions": [ 1, 2.50 ] },
      "ipAddresses": [
        { "ipAddress": "10.20.31.7", "macAddress": "00155D8A3C21", "type": "Ethernet",
          "operationalStatus": "Up", "prefixLength": 24, "ipv6Scope": null }
      ],
      "vmMetadata": {
        "vmId": "d4f1c2e3-9d3f-4e8b-a6c1-2f4d7e9b0a13", "cloudProvider": "Azure",
        "resourceId": "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/ws",
        "subscriptionId": "0a1b2c3d-4e5f-6a7b-8c9d-0e1f2a3b4c5d",
        "zone": "westeurope-2", "image": { "sku": "win11-23h2" }
      }
    }
  ]
}"#;

/// The members the machine sent that no field holds, by where they are.
fn new_members() -> [(&'static str, Value); 9] {
    [
        ("/deviceCategory", json!("Endpoint")),
        ("/firmware/vendor", json!("Contoso")),
        ("/firmware/versions", json!([1, 2.5])),
        ("/osBuild", json!("n/a")),
        ("/ipAddresses/0/prefixLength", json!(24)),
        ("/ipAddresses/0/ipv6Scope", Value::Null),
        ("/vmMetadata/zone", json!("westeurope-2")),
        ("/vmMetadata/image/sku", json!("win11-23h2")),
        // A JSON number without an exact f64: its text is checked below.
        ("/exposureScore", json!(1.2345678901234568e29)),
    ]
}

/// Written exactly as sent, compacted: numbers and strings byte for byte.
const EXACT: [&str; 3] = [
    r#""exposureScore":123456789012345678901234567890"#,
    r#""versions":[1,2.50]"#,
    r#""osBuild":"n/a""#,
];

fn lookup() -> (host_test::Instance, LookupResult) {
    let mut instance = replaying(Auth::HostManaged, vec![json(200, BODY)]);
    let found = instance.lookup("contoso.com").unwrap().unwrap();
    (instance, found)
}

fn assert_has_every_new_member(what: &str, text: &str, root: &Value) {
    for (path, value) in new_members() {
        assert_eq!(root.pointer(path), Some(&value), "{what} {path}: {root:#}");
    }
    for exact in EXACT {
        assert!(text.contains(exact), "{what}: {exact} in {text}");
    }
}

#[test]
fn new_members_reach_machines_json_under_their_own_names() {
    let (mut instance, found) = lookup();
    let machine = &found.machines[0];
    assert_eq!(machine.os_build, None);
    let texts = instance.machines_json(&found).unwrap();
    let text = &texts[0];
    let back: Value = serde_json::from_str(text).unwrap();
    assert_has_every_new_member("machines-json", text, &back);
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
        warnings[0].message.contains(&machine.id) && warnings[0].message.contains("osBuild"),
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
    let checker = Ocsf::load(&schema::reference_dir().join("ocsf"));
    assert_eq!(checker.check_event(&event), Vec::<String>::new());

    let ecs = instance
        .ecs_documents(&found, OBSERVED_AT)
        .unwrap()
        .unwrap();
    let document: Value = serde_json::from_str(&ecs[0]).unwrap();
    assert_has_every_new_member("ECS", &ecs[0], &document["mde"]);
    let checker = Ecs::load(&schema::reference_dir().join("ecs/fields.csv"));
    assert_eq!(
        checker.check_document(&document, "mde"),
        Vec::<String>::new()
    );
}

#[test]
fn the_cli_prints_them_in_every_format() {
    let replay = json!([{"status": 200, "body": BODY}]).to_string();
    let path = std::path::Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("fields-{}.json", std::process::id()));
    std::fs::write(&path, replay).unwrap();
    for format in ["json", "ndjson", "ocsf", "ecs"] {
        let out = Command::new(env!("CARGO_BIN_EXE_host-test"))
            .args(["contoso.com", "--format", format, "--replay"])
            .arg(&path)
            .arg("--cache-dir")
            .arg(concat!(env!("CARGO_TARGET_TMPDIR"), "/component-cache"))
            .env_remove("MDE_TOKEN")
            .env_remove("MDE_TENANT_ID")
            .env_remove("MDE_CLIENT_ID")
            .env_remove("MDE_CLIENT_SECRET")
            .output()
            .unwrap();
        assert!(out.status.success(), "{format}: {out:?}");
        let text = String::from_utf8(out.stdout).unwrap();
        let printed: Value = match format {
            "json" => serde_json::from_str::<Value>(&text).unwrap()[0].take(),
            _ => serde_json::from_str(text.lines().next().unwrap()).unwrap(),
        };
        let root = match format {
            "ocsf" => &printed["unmapped"],
            "ecs" => &printed["mde"],
            _ => &printed,
        };
        assert_has_every_new_member(format, &text, root);
    }
    std::fs::remove_file(path).unwrap();
}
