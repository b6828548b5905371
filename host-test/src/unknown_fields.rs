//! A machine as a later revision of the service might send it, and the
//! check that every member no version models reaches an output: what the
//! component's tests and the CLI's share.

use serde_json::{Value, json};

/// A machine as a later revision of the service might send it: members no
/// version models, a number no 64-bit type holds, a known field of the
/// wrong type. Pretty-printed, as some proxies re-indent answers.
pub const BODY: &str = r#"{
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
pub fn new_members() -> [(&'static str, Value); 9] {
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
pub const EXACT: [&str; 3] = [
    r#""exposureScore":123456789012345678901234567890"#,
    r#""versions":[1,2.50]"#,
    r#""osBuild":"n/a""#,
];

/// Panics unless `root` (an output parsed) holds every new member at its
/// place and `text` (the output as printed) holds each exact text.
pub fn assert_has_every_new_member(what: &str, text: &str, root: &Value) {
    for (path, value) in new_members() {
        assert_eq!(root.pointer(path), Some(&value), "{what} {path}: {root:#}");
    }
    for exact in EXACT {
        assert!(text.contains(exact), "{what}: {exact} in {text}");
    }
}
