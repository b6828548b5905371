//! OCSF "Device Inventory Info" (class 5001, category Discovery), one event
//! per machine, with the `datetime` profile (`*_dt` siblings of every time)
//! and, for a VM in a known cloud, the `cloud` profile.

use super::bounded::{map_within_memory, write_json};
use super::{
    InterfaceType, Mapped, OsFamily, PRODUCT, Remainder, VENDOR, cloud_vm, given, has_sensor,
    interface_type, ip, is_server_platform, mac, machines_of, observed, os_family,
    parse_rfc3339_ms, split_dns_name,
};
use crate::connector::{Found, Lookup};
use crate::machine::{IpAddress, Machine, RiskScore};
use crate::routes::Query;
use serde::Serialize;

/// The OCSF version these events follow.
pub const OCSF_VERSION: &str = "1.9.0-dev";

const CATEGORY_UID: u32 = 5;
const CLASS_UID: u32 = CATEGORY_UID * 1000 + 1;
/// `activity_id` 2: the inventory was collected by querying the service.
const ACTIVITY_COLLECT: u32 = 2;

/// One OCSF event per machine of `found`, as JSON text, or why a text is
/// not a machine's JSON object or `observed_at` cannot be the events' time.
pub fn inventory(found: &Lookup<String>, observed_at: u64) -> Result<Vec<String>, String> {
    let query = Query::Domain(found.domain.clone());
    inventory_of(&query, &found.machines, observed_at)
}

/// [`inventory`] for any machine list, its query kept in `unmapped`.
pub fn query_inventory(found: &Found<String>, observed_at: u64) -> Result<Vec<String>, String> {
    inventory_of(&found.query, &found.machines, observed_at)
}

fn inventory_of(query: &Query, texts: &[String], observed_at: u64) -> Result<Vec<String>, String> {
    let machines = machines_of(texts)?;
    let observed = observed(observed_at)?;
    map_within_memory(&machines, |m, sent, out| {
        write_json(out, &event(query, &observed, m, sent))
    })
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
    time_dt: &'a str,
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

#[derive(Serialize)]
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
    /// The Defender device id: the sensor's identity.
    uid: &'a str,
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

/// The OCSF event for one machine, `m` read from `sent`, observed at
/// `observed` (milliseconds and text).
pub fn event<'a>(
    query: &'a Query,
    observed: &'a (i64, String),
    m: &'a Machine,
    sent: &'a str,
) -> Event<'a> {
    let mut mapped = Mapped(const { Machine::bit("id") });
    let first_seen = m.first_seen.as_deref();
    let last_seen = m.last_seen.as_deref();
    let first_seen_time = first_seen.and_then(parse_rfc3339_ms);
    let last_seen_time = last_seen.and_then(parse_rfc3339_ms);
    mapped.add(
        const { Machine::bit("firstSeen") },
        first_seen_time.is_some(),
    );
    mapped.add(const { Machine::bit("lastSeen") }, last_seen_time.is_some());
    let dns_name = given(&m.computer_dns_name);
    mapped.add(
        const { Machine::bit("computerDnsName") },
        dns_name.is_some(),
    );
    let (name, dns_domain) = match dns_name.map(split_dns_name) {
        Some((name, domain)) => (Some(name), domain),
        None => (None, None),
    };
    let vm = cloud_vm(m);
    let cloud = vm.and_then(|vm| {
        Some(Cloud {
            provider: given(&vm.cloud_provider)?,
            account: given(&vm.subscription_id).map(|uid| Account { uid }),
        })
    });
    let mut profiles = vec!["datetime"];
    if cloud.is_some() {
        profiles.push("cloud");
    }
    let (type_id, kind) = device_type(m);
    let (risk_level_id, risk_level) = risk(m.risk_score.as_ref());
    // Held only when there is a typed value: an unusable one stays in `unmapped`.
    let risk_as_sent =
        risk_level.is_some() && m.risk_score.as_ref().map(|r| r.as_str()) == risk_level;
    mapped.add(const { Machine::bit("riskScore") }, risk_as_sent);
    let last_ip = m.last_ip_address.as_deref().and_then(ip);
    mapped.add(
        const { Machine::bit("lastIpAddress") },
        last_ip.is_some() && last_ip == m.last_ip_address.as_deref(),
    );
    let sensor = has_sensor(m);
    let agent_version = given(&m.agent_version);
    mapped.add(
        const { Machine::bit("agentVersion") },
        sensor && agent_version.is_some(),
    );
    mapped.add(
        const { Machine::bit("aadDeviceId") },
        given(&m.aad_device_id).is_some(),
    );
    let groups = groups(m, &mut mapped);
    let os = os(m, &mut mapped);
    let device = Device {
        uid: &m.id,
        type_id,
        kind,
        hostname: dns_name,
        name,
        domain: dns_domain,
        uid_alt: given(&m.aad_device_id),
        ip: last_ip,
        network_interfaces: m
            .ip_addresses
            .iter()
            .flatten()
            .filter_map(network_interface)
            .collect(),
        os,
        first_seen_time,
        first_seen_time_dt: first_seen.filter(|_| first_seen_time.is_some()),
        last_seen_time,
        last_seen_time_dt: last_seen.filter(|_| last_seen_time.is_some()),
        groups,
        risk_level_id,
        risk_level,
        agent_list: sensor
            .then_some(Agent {
                uid: &m.id,
                name: PRODUCT,
                vendor_name: VENDOR,
                type_id: 1,
                kind: "Endpoint Detection and Response",
                version: agent_version,
            })
            .into_iter()
            .collect(),
        instance_uid: vm.and_then(|vm| given(&vm.vm_id)),
    };
    let (time, time_dt) = observed;
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
        time: *time,
        time_dt,
        timezone_offset: 0,
        message: super::message(dns_name.unwrap_or(&m.id), query),
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
        unmapped: Remainder {
            query,
            sent,
            mapped: mapped.0,
        },
    }
}

/// `device.type_id` and its caption: a server platform is a server, a VM of
/// a known cloud is virtual; the service says nothing else about the hardware.
fn device_type(m: &Machine) -> (u32, &'static str) {
    if m.os_platform.as_deref().is_some_and(is_server_platform) {
        (1, "Server")
    } else if cloud_vm(m).is_some() {
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

/// `device.os`: platform, version (`osVersion`, else `version`), build, family.
fn os<'a>(m: &'a Machine, mapped: &mut Mapped) -> Option<Os<'a>> {
    let platform = given(&m.os_platform);
    let version = match (given(&m.os_version), given(&m.version)) {
        (Some(os_version), _) => {
            mapped.when(const { Machine::bit("osVersion") }, true, Some(os_version))
        }
        (None, Some(version)) => {
            mapped.when(const { Machine::bit("version") }, true, Some(version))
        }
        (None, None) => None,
    };
    if platform.is_none() && version.is_none() && m.os_build.is_none() {
        return None;
    }
    mapped.add(const { Machine::bit("osPlatform") }, platform.is_some());
    mapped.add(const { Machine::bit("osBuild") }, m.os_build.is_some());
    let (type_id, kind) = match platform.and_then(os_family) {
        Some(OsFamily::Windows) => (100, "Windows"),
        Some(OsFamily::Linux) => (200, "Linux"),
        Some(OsFamily::Android) => (201, "Android"),
        Some(OsFamily::MacOs) => (300, "macOS"),
        Some(OsFamily::Ios) => (301, "iOS"),
        Some(OsFamily::IpadOs) => (302, "iPadOS"),
        Some(OsFamily::Solaris) => (400, "Solaris"),
        Some(OsFamily::Aix) => (401, "AIX"),
        Some(OsFamily::HpUx) => (402, "HP-UX"),
        Some(OsFamily::Unix) | None => match platform {
            Some(p) => (99, p),
            None => (0, "Unknown"),
        },
    };
    let architecture = m.os_architecture.as_deref().unwrap_or("");
    Some(Os {
        name: platform.unwrap_or("Unknown"),
        type_id,
        kind,
        version,
        build: m.os_build.map(|b| b.to_string()),
        cpu_bits: if architecture.eq_ignore_ascii_case("64-bit") {
            Some(64)
        } else if architecture.eq_ignore_ascii_case("32-bit") {
            Some(32)
        } else {
            None
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
    let (type_id, kind) = match interface_type(entry) {
        InterfaceType::Unknown => (0, "Unknown"),
        InterfaceType::Wired => (1, "Wired"),
        InterfaceType::Wireless => (2, "Wireless"),
        InterfaceType::Mobile => (3, "Mobile"),
        InterfaceType::Tunnel => (4, "Tunnel"),
        InterfaceType::Other(kind) => (99, kind),
    };
    Some(NetworkInterface {
        type_id,
        kind,
        ip,
        mac,
    })
}

/// The machine's device group, then one group per machine tag.
fn groups<'a>(m: &'a Machine, mapped: &mut Mapped) -> Vec<Group<'a>> {
    let (uid, name) = (given(&m.rbac_group_id), given(&m.rbac_group_name));
    mapped.add(const { Machine::bit("rbacGroupId") }, uid.is_some());
    mapped.add(const { Machine::bit("rbacGroupName") }, name.is_some());
    let device_group = (uid.is_some() || name.is_some()).then_some(Group {
        uid,
        name,
        kind: "Device group",
    });
    let tags = m.machine_tags.as_deref().unwrap_or_default();
    // Held whole only when every tag is a group: an empty list or tag is not.
    let every_tag = !tags.is_empty() && tags.iter().all(|t| !t.is_empty());
    mapped.add(const { Machine::bit("machineTags") }, every_tag);
    let tags = tags.iter().filter(|t| !t.is_empty()).map(|tag| Group {
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

    /// The event of `m`, sent as the typed record writes it.
    fn json_of(m: &Machine) -> Value {
        let observed = super::observed(1_764_000_000_123).unwrap();
        let sent = serde_json::to_string(m).unwrap();
        serde_json::from_str(&crate::events::to_json(
            &event(&Query::Domain("contoso.com".into()), &observed, m, &sent),
            0,
        ))
        .unwrap()
    }

    /// A `lookup-texts` answer of `machines`, sent as the typed records write them.
    fn texts(machines: &[Machine]) -> Lookup<String> {
        Lookup {
            domain: "contoso.com".into(),
            machines: machines
                .iter()
                .map(|m| serde_json::to_string(m).unwrap())
                .collect(),
            cap_reached: false,
        }
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
        // Nothing says the machine is not onboarded: its sensor is listed.
        assert_eq!(d["agent_list"][0]["uid"], "x");
        assert_eq!(e["unmapped"]["lastIpAddress"], "10.0.0.300");
        assert_eq!(d["os"]["build"], i64::MIN.to_string());
        assert_eq!(d["os"]["name"], "Unknown");
        assert_eq!(e["unmapped"]["firstSeen"], "yesterday");
        assert_eq!(e["unmapped"]["lastSeen"], "2026-02-30T00:00:00Z");
        assert_eq!(e["message"], "x communicated with contoso.com");
    }

    #[test]
    fn an_observation_time_rfc3339_cannot_write_is_an_error() {
        let found = texts(&[full()]);
        assert!(
            inventory(&found, u64::MAX)
                .unwrap_err()
                .contains("RFC 3339")
        );
    }

    #[test]
    fn one_event_per_machine() {
        let found = texts(&[full(), Machine::default()]);
        let events = inventory(&found, 0).unwrap();
        assert_eq!(events.len(), 2);
        assert!(events.iter().all(|e| !e.contains('\n')));
    }

    #[test]
    fn version_survives_beside_os_version_and_arc_machines_claim_no_cloud() {
        let mut m = full();
        m.os_version = Some("10.0.22631".into());
        m.vm_metadata = Some(VmMetadata {
            vm_id: Some("arc-1".into()),
            cloud_provider: Some("Azure".into()),
            resource_id: Some(
                "/subscriptions/s/resourceGroups/rg/providers/Microsoft.HybridCompute/machines/m"
                    .into(),
            ),
            subscription_id: Some("sub-1".into()),
            unmodelled: None,
        });
        let e = json_of(&m);
        assert_eq!(e["device"]["os"]["version"], "10.0.22631");
        assert_eq!(e["unmapped"]["version"], "23H2");
        assert!(e.get("cloud").is_none());
        assert_eq!(e["metadata"]["profiles"], json!(["datetime"]));
        assert!(e["device"].get("instance_uid").is_none());
        assert_eq!(e["device"]["type"], "Unknown");
        assert_eq!(e["unmapped"]["vmMetadata"]["vmId"], "arc-1");
        assert_eq!(e["device"]["agent_list"][0]["uid"], "9a7d");
        // A risk the caption does not spell as sent stays in unmapped too.
        m.risk_score = Some(RiskScore::None);
        let e = json_of(&m);
        assert_eq!(e["device"]["risk_level"], "Info");
        assert_eq!(e["unmapped"]["riskScore"], "None");
    }

    #[test]
    fn a_machine_not_onboarded_has_no_sensor() {
        let m = Machine {
            onboarding_status: Some(OnboardingStatus::CanBeOnboarded),
            ..Machine::default()
        };
        assert!(json_of(&m)["device"].get("agent_list").is_none());
    }
}
