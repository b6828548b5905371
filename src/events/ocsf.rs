//! OCSF "Device Inventory Info" (class 5001, category Discovery), one event
//! per machine, with the `datetime` profile (`*_dt` siblings of every time)
//! and, for a cloud VM, the `cloud` profile.

use super::{
    OsFamily, PRODUCT, Remainder, VENDOR, format_rfc3339_ms, ip, is_server_platform, mac,
    observed_ms, os_family, parse_rfc3339_ms, split_dns_name, to_json,
};
use crate::connector::Lookup;
use crate::machine::{IpAddress, Machine, RiskScore};
use serde::Serialize;

/// The OCSF version these events follow.
pub const OCSF_VERSION: &str = "1.9.0-dev";

const CATEGORY_UID: u32 = 5;
const CLASS_UID: u32 = CATEGORY_UID * 1000 + 1;
/// `activity_id` 2: the inventory was collected by querying the service.
const ACTIVITY_COLLECT: u32 = 2;

/// One OCSF event per machine of `found`, as JSON text.
pub fn inventory(found: &Lookup, observed_at: u64) -> Vec<String> {
    found
        .machines
        .iter()
        .map(|m| to_json(&event(&found.domain, observed_at, m)))
        .collect()
}

#[derive(Serialize)]
pub struct Event<'a> {
    activity_id: u32,
    activity_name: &'static str,
    category_uid: u32,
    category_name: &'static str,
    class_uid: u32,
    class_name: &'static str,
    type_uid: u32,
    type_name: &'static str,
    severity_id: u32,
    severity: &'static str,
    status_id: u32,
    status: &'static str,
    time: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    time_dt: Option<String>,
    timezone_offset: i32,
    message: String,
    metadata: Metadata,
    device: Device<'a>,
    #[serde(skip_serializing_if = "Option::is_none")]
    cloud: Option<Cloud<'a>>,
    unmapped: Remainder<'a>,
}

#[derive(Serialize)]
struct Metadata {
    product: Product,
    version: &'static str,
    profiles: Vec<&'static str>,
}

#[derive(Serialize)]
struct Product {
    name: &'static str,
    vendor_name: &'static str,
}

#[derive(Serialize, Default)]
struct Device<'a> {
    uid: &'a str,
    type_id: u32,
    #[serde(rename = "type")]
    kind: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    hostname: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    name: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    domain: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    uid_alt: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    ip: Option<&'a str>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    network_interfaces: Vec<NetworkInterface<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    os: Option<Os<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    first_seen_time: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    first_seen_time_dt: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    last_seen_time: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    last_seen_time_dt: Option<&'a str>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    groups: Vec<Group<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    risk_level_id: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    risk_level: Option<&'a str>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    agent_list: Vec<Agent<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    instance_uid: Option<&'a str>,
}

#[derive(Serialize)]
struct NetworkInterface<'a> {
    type_id: u32,
    #[serde(rename = "type")]
    kind: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    ip: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    mac: Option<String>,
}

#[derive(Serialize)]
struct Os<'a> {
    name: &'a str,
    type_id: u32,
    #[serde(rename = "type")]
    kind: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    version: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    build: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    cpu_bits: Option<u32>,
}

#[derive(Serialize)]
struct Group<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    uid: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    name: Option<&'a str>,
    #[serde(rename = "type")]
    kind: &'static str,
}

#[derive(Serialize)]
struct Agent<'a> {
    name: &'static str,
    vendor_name: &'static str,
    type_id: u32,
    #[serde(rename = "type")]
    kind: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    version: Option<&'a str>,
}

#[derive(Serialize)]
struct Cloud<'a> {
    provider: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    account: Option<Account<'a>>,
}

#[derive(Serialize)]
struct Account<'a> {
    uid: &'a str,
}

/// The OCSF event for one machine.
pub fn event<'a>(domain: &'a str, observed_at: u64, m: &'a Machine) -> Event<'a> {
    let first_seen = m.first_seen.as_deref();
    let last_seen = m.last_seen.as_deref();
    let first_seen_time = first_seen.and_then(parse_rfc3339_ms);
    let last_seen_time = last_seen.and_then(parse_rfc3339_ms);
    let dns_name = m.computer_dns_name.as_deref().filter(|n| !n.is_empty());
    let (name, dns_domain) = match dns_name.map(split_dns_name) {
        Some((name, domain)) => (Some(name), domain),
        None => (None, None),
    };
    let vm = m.vm_metadata.as_ref();
    let cloud = vm.and_then(|vm| {
        Some(Cloud {
            provider: vm.cloud_provider.as_deref().filter(|p| !p.is_empty())?,
            account: vm.subscription_id.as_deref().map(|uid| Account { uid }),
        })
    });
    let mut profiles = vec!["datetime"];
    if cloud.is_some() {
        profiles.push("cloud");
    }
    let (type_id, kind) = device_type(m);
    let (risk_level_id, risk_level) = risk(m.risk_score.as_ref());
    let onboarded = matches!(
        m.onboarding_status,
        Some(crate::machine::OnboardingStatus::Onboarded)
    );
    let device = Device {
        uid: &m.id,
        type_id,
        kind,
        hostname: dns_name,
        name,
        domain: dns_domain,
        uid_alt: m.aad_device_id.as_deref(),
        ip: m.last_ip_address.as_deref().and_then(ip),
        network_interfaces: m
            .ip_addresses
            .iter()
            .flatten()
            .filter_map(network_interface)
            .collect(),
        os: os(m),
        first_seen_time,
        first_seen_time_dt: first_seen.filter(|_| first_seen_time.is_some()),
        last_seen_time,
        last_seen_time_dt: last_seen.filter(|_| last_seen_time.is_some()),
        groups: groups(m),
        risk_level_id,
        risk_level,
        agent_list: (onboarded || m.agent_version.is_some())
            .then_some(Agent {
                name: PRODUCT,
                vendor_name: VENDOR,
                type_id: 1,
                kind: "Endpoint Detection and Response",
                version: m.agent_version.as_deref(),
            })
            .into_iter()
            .collect(),
        instance_uid: vm.and_then(|vm| vm.vm_id.as_deref()),
    };
    // Times that are RFC 3339 are mapped; the rest are kept as sent.
    let unmapped = Remainder::of(
        domain,
        m,
        first_seen_time.is_none(),
        last_seen_time.is_none(),
    );
    Event {
        activity_id: ACTIVITY_COLLECT,
        activity_name: "Collect",
        category_uid: CATEGORY_UID,
        category_name: "Discovery",
        class_uid: CLASS_UID,
        class_name: "Device Inventory Info",
        type_uid: CLASS_UID * 100 + ACTIVITY_COLLECT,
        type_name: "Device Inventory Info: Collect",
        severity_id: 1,
        severity: "Informational",
        status_id: 1,
        status: "Success",
        time: observed_ms(observed_at),
        time_dt: format_rfc3339_ms(observed_ms(observed_at)),
        timezone_offset: 0,
        message: format!("{} communicated with {domain}", dns_name.unwrap_or(&m.id)),
        metadata: Metadata {
            product: Product {
                name: PRODUCT,
                vendor_name: VENDOR,
            },
            version: OCSF_VERSION,
            profiles,
        },
        device,
        cloud,
        unmapped,
    }
}

/// `device.type_id` and its caption: a server platform is a server, another
/// cloud VM is virtual; the service says nothing else about the hardware.
fn device_type(m: &Machine) -> (u32, &'static str) {
    if m.os_platform.as_deref().is_some_and(is_server_platform) {
        (1, "Server")
    } else if m.vm_metadata.is_some() {
        (6, "Virtual")
    } else {
        (0, "Unknown")
    }
}

/// `riskScore` as `risk_level_id`/`risk_level`. The service's `None` and
/// `Informational` are both OCSF's lowest level, `Info`; an unknown value is
/// `Other` with the service's text.
fn risk(score: Option<&RiskScore>) -> (Option<u32>, Option<&str>) {
    let (id, caption) = match score {
        None => return (None, None),
        Some(RiskScore::None | RiskScore::Informational) => (0, "Info"),
        Some(RiskScore::Low) => (1, "Low"),
        Some(RiskScore::Medium) => (2, "Medium"),
        Some(RiskScore::High) => (3, "High"),
        Some(RiskScore::Other(text)) => (99, text.as_str()),
    };
    (Some(id), Some(caption))
}

fn os(m: &Machine) -> Option<Os<'_>> {
    let platform = m.os_platform.as_deref().filter(|p| !p.is_empty());
    let version = m.os_version.as_deref().or(m.version.as_deref());
    if platform.is_none() && version.is_none() && m.os_build.is_none() {
        return None;
    }
    let (type_id, kind) = match platform.and_then(os_family) {
        Some(OsFamily::Windows) => (100, "Windows"),
        Some(OsFamily::Linux) => (200, "Linux"),
        Some(OsFamily::Android) => (201, "Android"),
        Some(OsFamily::MacOs) => (300, "macOS"),
        Some(OsFamily::Ios) => (301, "iOS"),
        None => match platform {
            Some(p) => (99, p),
            None => (0, "Unknown"),
        },
    };
    Some(Os {
        name: platform.unwrap_or("Unknown"),
        type_id,
        kind,
        version,
        build: m.os_build.map(|b| b.to_string()),
        cpu_bits: match m.os_architecture.as_deref() {
            Some("64-bit") => Some(64),
            Some("32-bit") => Some(32),
            _ => None,
        },
    })
}

/// One interface per entry with a usable IP or MAC address.
fn network_interface(entry: &IpAddress) -> Option<NetworkInterface<'_>> {
    let ip = entry.ip_address.as_deref().and_then(ip);
    let mac = entry.mac_address.as_deref().and_then(|m| mac(m, ':'));
    if ip.is_none() && mac.is_none() {
        return None;
    }
    let kind = entry.kind.as_deref().unwrap_or("");
    let (type_id, caption) = if kind.contains("Ethernet") {
        (1, "Wired")
    } else if kind == "Wireless80211" {
        (2, "Wireless")
    } else if kind.starts_with("Wwanpp") {
        (3, "Mobile")
    } else if kind == "Tunnel" {
        (4, "Tunnel")
    } else if kind.is_empty() || kind == "Unknown" {
        (0, "Unknown")
    } else {
        (99, kind)
    };
    Some(NetworkInterface {
        type_id,
        kind: caption,
        ip,
        mac,
    })
}

/// The machine's device group, then one group per machine tag.
fn groups(m: &Machine) -> Vec<Group<'_>> {
    let device_group =
        (m.rbac_group_id.is_some() || m.rbac_group_name.is_some()).then_some(Group {
            uid: m.rbac_group_id.as_deref(),
            name: m.rbac_group_name.as_deref(),
            kind: "Device group",
        });
    let tags = m.machine_tags.iter().flatten().map(|tag| Group {
        uid: None,
        name: Some(tag),
        kind: "Machine tag",
    });
    device_group.into_iter().chain(tags).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::machine::{HealthStatus, OnboardingStatus, VmMetadata};
    use serde_json::{Value, json};

    fn json_of(m: &Machine) -> Value {
        serde_json::from_str(&to_json(&event("contoso.com", 1_764_000_000_123, m))).unwrap()
    }

    fn full() -> Machine {
        Machine {
            id: "9a7d".into(),
            computer_dns_name: Some("ws-0142.corp.contoso.com".into()),
            first_seen: Some("2023-03-14T09:21:44.1234567Z".into()),
            last_seen: Some("2026-11-27T22:05:13.52Z".into()),
            os_platform: Some("Windows11".into()),
            version: Some("23H2".into()),
            os_processor: Some("x64".into()),
            os_architecture: Some("64-bit".into()),
            os_build: Some(22631),
            last_ip_address: Some("10.20.31.7".into()),
            last_external_ip_address: Some("203.0.113.24".into()),
            ip_addresses: Some(vec![
                IpAddress {
                    ip_address: Some("10.20.31.7".into()),
                    mac_address: Some("00155D8A3C21".into()),
                    kind: Some("Ethernet".into()),
                    operational_status: Some("Up".into()),
                    unmodelled: None,
                },
                IpAddress {
                    ip_address: Some("".into()),
                    mac_address: None,
                    kind: Some("SoftwareLoopback".into()),
                    operational_status: Some("Up".into()),
                    unmodelled: None,
                },
            ]),
            health_status: Some(HealthStatus::Active),
            onboarding_status: Some(OnboardingStatus::Onboarded),
            risk_score: Some(RiskScore::Medium),
            rbac_group_id: Some("140".into()),
            rbac_group_name: Some("Linux servers".into()),
            aad_device_id: Some("3c1f".into()),
            machine_tags: Some(vec!["finance".into()]),
            agent_version: Some("10.8760".into()),
            ..Machine::default()
        }
    }

    #[test]
    fn classifies_the_event_as_inventory_collected_now() {
        let e = json_of(&full());
        assert_eq!(e["class_uid"], 5001);
        assert_eq!(e["category_uid"], 5);
        assert_eq!(e["activity_id"], 2);
        assert_eq!(e["type_uid"], 500_102);
        assert_eq!(e["time"], 1_764_000_000_123_u64);
        assert_eq!(e["time_dt"], "2025-11-24T16:00:00.123Z");
        assert_eq!(e["metadata"]["version"], OCSF_VERSION);
        assert_eq!(e["metadata"]["product"]["name"], PRODUCT);
        assert_eq!(e["metadata"]["profiles"], json!(["datetime"]));
        assert_eq!(e["unmapped"]["queriedDomain"], "contoso.com");
        assert_eq!(
            e["message"],
            "ws-0142.corp.contoso.com communicated with contoso.com"
        );
    }

    #[test]
    fn maps_the_machine_into_the_device() {
        let d = json_of(&full())["device"].clone();
        assert_eq!(d["uid"], "9a7d");
        assert_eq!(d["uid_alt"], "3c1f");
        assert_eq!(d["hostname"], "ws-0142.corp.contoso.com");
        assert_eq!(d["name"], "ws-0142");
        assert_eq!(d["domain"], "corp.contoso.com");
        assert_eq!(d["ip"], "10.20.31.7");
        assert_eq!(
            d["network_interfaces"],
            json!([{"type_id": 1, "type": "Wired", "ip": "10.20.31.7", "mac": "00:15:5D:8A:3C:21"}])
        );
        assert_eq!(
            d["os"],
            json!({"name": "Windows11", "type_id": 100, "type": "Windows", "version": "23H2", "build": "22631", "cpu_bits": 64})
        );
        assert_eq!(d["first_seen_time"], 1_678_785_704_123_i64);
        assert_eq!(d["first_seen_time_dt"], "2023-03-14T09:21:44.1234567Z");
        assert_eq!(d["last_seen_time_dt"], "2026-11-27T22:05:13.52Z");
        assert_eq!(d["risk_level_id"], 2);
        assert_eq!(d["risk_level"], "Medium");
        assert_eq!(
            d["groups"],
            json!([
                {"uid": "140", "name": "Linux servers", "type": "Device group"},
                {"name": "finance", "type": "Machine tag"}
            ])
        );
        assert_eq!(d["agent_list"][0]["version"], "10.8760");
        assert_eq!(d["agent_list"][0]["type_id"], 1);
        assert_eq!(d["type_id"], 0);
        assert_eq!(d["type"], "Unknown");
    }

    #[test]
    fn keeps_what_ocsf_has_no_place_for_in_unmapped() {
        let u = json_of(&full())["unmapped"].clone();
        assert_eq!(u["healthStatus"], "Active");
        assert_eq!(u["onboardingStatus"], "Onboarded");
        assert_eq!(u["lastExternalIpAddress"], "203.0.113.24");
        assert_eq!(u["osArchitecture"], "64-bit");
        assert_eq!(u["ipAddresses"][1]["type"], "SoftwareLoopback");
        assert_eq!(u["ipAddresses"][1]["operationalStatus"], "Up");
        // Mapped times are not repeated.
        assert!(u.get("firstSeen").is_none());
    }

    #[test]
    fn a_cloud_vm_gets_the_cloud_profile_and_is_virtual() {
        let mut m = full();
        m.vm_metadata = Some(VmMetadata {
            vm_id: Some("vm-1".into()),
            cloud_provider: Some("Azure".into()),
            resource_id: Some("/subscriptions/s/x".into()),
            subscription_id: Some("sub-1".into()),
            unmodelled: None,
        });
        let e = json_of(&m);
        assert_eq!(e["metadata"]["profiles"], json!(["datetime", "cloud"]));
        assert_eq!(
            e["cloud"],
            json!({"provider": "Azure", "account": {"uid": "sub-1"}})
        );
        assert_eq!(e["device"]["instance_uid"], "vm-1");
        assert_eq!(
            (e["device"]["type_id"].clone(), e["device"]["type"].clone()),
            (json!(6), json!("Virtual"))
        );
        assert_eq!(
            e["unmapped"]["vmMetadata"]["resourceId"],
            "/subscriptions/s/x"
        );

        m.os_platform = Some("WindowsServer2022".into());
        assert_eq!(json_of(&m)["device"]["type_id"], 1);
    }

    #[test]
    fn enumerations_map_to_ocsf_ids_and_unknown_values_to_other() {
        let level = |score| {
            let m = Machine {
                risk_score: Some(score),
                ..Machine::default()
            };
            let d = json_of(&m)["device"].clone();
            (d["risk_level_id"].clone(), d["risk_level"].clone())
        };
        assert_eq!(level(RiskScore::None), (json!(0), json!("Info")));
        assert_eq!(level(RiskScore::Informational), (json!(0), json!("Info")));
        assert_eq!(level(RiskScore::Low), (json!(1), json!("Low")));
        assert_eq!(level(RiskScore::High), (json!(3), json!("High")));
        assert_eq!(
            level(RiskScore::Other("Severe".into())),
            (json!(99), json!("Severe"))
        );

        let os_type = |platform: &str| {
            let m = Machine {
                os_platform: Some(platform.into()),
                ..Machine::default()
            };
            let os = json_of(&m)["device"]["os"].clone();
            (os["type_id"].clone(), os["type"].clone())
        };
        assert_eq!(os_type("Ubuntu"), (json!(200), json!("Linux")));
        assert_eq!(os_type("macOS"), (json!(300), json!("macOS")));
        assert_eq!(os_type("iOS"), (json!(301), json!("iOS")));
        assert_eq!(os_type("Android"), (json!(201), json!("Android")));
        assert_eq!(os_type("AmigaOS"), (json!(99), json!("AmigaOS")));

        let interface = |kind: &str| {
            let m = Machine {
                ip_addresses: Some(vec![IpAddress {
                    ip_address: Some("10.0.0.1".into()),
                    kind: Some(kind.into()),
                    ..IpAddress::default()
                }]),
                ..Machine::default()
            };
            let i = json_of(&m)["device"]["network_interfaces"][0].clone();
            (i["type_id"].clone(), i["type"].clone())
        };
        assert_eq!(interface("GigabitEthernet"), (json!(1), json!("Wired")));
        assert_eq!(interface("Wireless80211"), (json!(2), json!("Wireless")));
        assert_eq!(interface("Wwanpp2"), (json!(3), json!("Mobile")));
        assert_eq!(interface("Tunnel"), (json!(4), json!("Tunnel")));
        assert_eq!(
            interface("SoftwareLoopback"),
            (json!(99), json!("SoftwareLoopback"))
        );
    }

    #[test]
    fn junk_from_the_network_is_left_out_of_typed_fields() {
        let m = Machine {
            id: "x".into(),
            computer_dns_name: Some("".into()),
            first_seen: Some("yesterday".into()),
            last_seen: Some("2026-02-30T00:00:00Z".into()),
            last_ip_address: Some("10.0.0.300".into()),
            os_build: Some(i64::MIN),
            ip_addresses: Some(vec![IpAddress {
                ip_address: Some("".into()),
                mac_address: Some("zz".into()),
                ..IpAddress::default()
            }]),
            ..Machine::default()
        };
        let e = json_of(&m);
        let d = &e["device"];
        assert!(d.get("ip").is_none());
        assert!(d.get("hostname").is_none());
        assert!(d.get("network_interfaces").is_none());
        assert!(d.get("first_seen_time").is_none() && d.get("first_seen_time_dt").is_none());
        assert!(d.get("last_seen_time").is_none());
        assert!(d.get("agent_list").is_none());
        assert_eq!(d["os"]["build"], i64::MIN.to_string());
        assert_eq!(d["os"]["name"], "Unknown");
        assert_eq!(e["unmapped"]["firstSeen"], "yesterday");
        assert_eq!(e["unmapped"]["lastSeen"], "2026-02-30T00:00:00Z");
        assert_eq!(e["message"], "x communicated with contoso.com");
    }

    #[test]
    fn an_observation_time_rfc3339_cannot_write_has_no_time_dt() {
        let m = Machine::default();
        let e: Value = serde_json::from_str(&to_json(&event("contoso.com", u64::MAX, &m))).unwrap();
        assert_eq!(e["time"], i64::MAX);
        assert!(e.get("time_dt").is_none());
    }

    #[test]
    fn one_event_per_machine() {
        let found = Lookup {
            domain: "contoso.com".into(),
            machines: vec![full(), Machine::default()],
            cap_reached: false,
        };
        let events = inventory(&found, 0);
        assert_eq!(events.len(), 2);
        assert!(events.iter().all(|e| !e.contains('\n')));
    }
}
