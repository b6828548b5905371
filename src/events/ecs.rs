//! Elastic Common Schema documents, one per machine: an inventory `state`
//! event about a `host`, with the rest of the machine under `mde`, a field
//! set ECS does not define.

use super::{
    OsFamily, PRODUCT, Remainder, VENDOR, format_rfc3339_ms, ip, mac, machine_ips, observed_ms,
    os_family, split_dns_name, to_json,
};
use crate::connector::Lookup;
use crate::machine::Machine;
use serde::Serialize;

/// The ECS version these documents follow.
pub const ECS_VERSION: &str = "9.5.0-dev";

/// One ECS document per machine of `found`, as JSON text.
pub fn documents(found: &Lookup, observed_at: u64) -> Vec<String> {
    found
        .machines
        .iter()
        .map(|m| to_json(&document(&found.domain, observed_at, m)))
        .collect()
}

#[derive(Serialize)]
pub struct Document<'a> {
    #[serde(rename = "@timestamp", skip_serializing_if = "Option::is_none")]
    timestamp: Option<String>,
    ecs: Ecs,
    event: Event,
    observer: Observer,
    host: Host<'a>,
    device: Device<'a>,
    #[serde(skip_serializing_if = "Option::is_none")]
    group: Option<Group<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    cloud: Option<Cloud<'a>>,
    related: Related<'a>,
    mde: Remainder<'a>,
}

#[derive(Serialize)]
struct Ecs {
    version: &'static str,
}

#[derive(Serialize)]
struct Event {
    kind: &'static str,
    category: [&'static str; 1],
    #[serde(rename = "type")]
    kind_of: [&'static str; 1],
}

#[derive(Serialize)]
struct Observer {
    vendor: &'static str,
    product: &'static str,
}

#[derive(Serialize)]
struct Host<'a> {
    id: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    name: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    hostname: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    domain: Option<&'a str>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    ip: Vec<&'a str>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    mac: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    os: Option<Os<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    architecture: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    risk: Option<Risk<'a>>,
}

#[derive(Serialize)]
struct Os<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    name: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    platform: Option<String>,
    #[serde(rename = "type", skip_serializing_if = "Option::is_none")]
    kind: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    version: Option<&'a str>,
}

#[derive(Serialize)]
struct Risk<'a> {
    /// Defender's own assessment: a level from outside the SIEM.
    static_level: &'a str,
}

#[derive(Serialize)]
struct Device<'a> {
    id: &'a str,
}

#[derive(Serialize)]
struct Group<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    id: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    name: Option<&'a str>,
}

#[derive(Serialize)]
struct Cloud<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    provider: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    account: Option<Id<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    instance: Option<Id<'a>>,
}

#[derive(Serialize)]
struct Id<'a> {
    id: &'a str,
}

#[derive(Serialize)]
struct Related<'a> {
    #[serde(skip_serializing_if = "Vec::is_empty")]
    ip: Vec<&'a str>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    hosts: Vec<&'a str>,
}

/// The ECS document for one machine.
pub fn document<'a>(domain: &'a str, observed_at: u64, m: &'a Machine) -> Document<'a> {
    let dns_name = m.computer_dns_name.as_deref().filter(|n| !n.is_empty());
    let (hostname, host_domain) = match dns_name.map(split_dns_name) {
        Some((host, domain)) => (Some(host), domain),
        None => (None, None),
    };
    let ips = machine_ips(m);
    let mut related_ips = ips.clone();
    if let Some(external) = m.last_external_ip_address.as_deref().and_then(ip)
        && !related_ips.contains(&external)
    {
        related_ips.push(external);
    }
    let mut macs: Vec<String> = Vec::new();
    for found in m
        .ip_addresses
        .iter()
        .flatten()
        .filter_map(|i| i.mac_address.as_deref().and_then(|t| mac(t, '-')))
    {
        if !macs.contains(&found) {
            macs.push(found);
        }
    }
    let mut hosts: Vec<&str> = dns_name.into_iter().chain(hostname).collect();
    hosts.dedup();
    let vm = m.vm_metadata.as_ref();
    let mut mde = Remainder::of(domain, m, true, true);
    mde.os_build = m.os_build;
    mde.aad_device_id = m.aad_device_id.as_deref();
    mde.machine_tags = m.machine_tags.as_deref();
    mde.agent_version = m.agent_version.as_deref();
    Document {
        timestamp: format_rfc3339_ms(observed_ms(observed_at)),
        ecs: Ecs {
            version: ECS_VERSION,
        },
        event: Event {
            kind: "state",
            category: ["host"],
            kind_of: ["info"],
        },
        observer: Observer {
            vendor: VENDOR,
            product: PRODUCT,
        },
        host: Host {
            id: &m.id,
            name: dns_name,
            hostname,
            domain: host_domain,
            ip: ips,
            mac: macs,
            os: os(m),
            architecture: m.os_processor.as_deref().or(m.os_architecture.as_deref()),
            risk: m.risk_score.as_ref().map(|r| Risk {
                static_level: r.as_str(),
            }),
        },
        device: Device { id: &m.id },
        group: (m.rbac_group_id.is_some() || m.rbac_group_name.is_some()).then_some(Group {
            id: m.rbac_group_id.as_deref(),
            name: m.rbac_group_name.as_deref(),
        }),
        cloud: vm.map(|vm| Cloud {
            provider: vm.cloud_provider.as_deref(),
            account: vm.subscription_id.as_deref().map(|id| Id { id }),
            instance: vm.vm_id.as_deref().map(|id| Id { id }),
        }),
        related: Related {
            ip: related_ips,
            hosts,
        },
        mde,
    }
}

fn os(m: &Machine) -> Option<Os<'_>> {
    let name = m.os_platform.as_deref().filter(|p| !p.is_empty());
    let version = m.os_version.as_deref().or(m.version.as_deref());
    if name.is_none() && version.is_none() {
        return None;
    }
    let family = name.and_then(os_family);
    Some(Os {
        name,
        // ECS's examples: windows, darwin, ubuntu, centos.
        platform: match family {
            Some(OsFamily::Windows) => Some("windows".into()),
            Some(OsFamily::MacOs) => Some("darwin".into()),
            Some(OsFamily::Ios) => Some("ios".into()),
            Some(OsFamily::Android) => Some("android".into()),
            Some(OsFamily::Linux) | None => name.map(str::to_ascii_lowercase),
        },
        // One of ECS's: linux, macos, unix, windows, ios, android.
        kind: family.map(|f| match f {
            OsFamily::Windows => "windows",
            OsFamily::Linux => "linux",
            OsFamily::MacOs => "macos",
            OsFamily::Ios => "ios",
            OsFamily::Android => "android",
        }),
        version,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::machine::{IpAddress, RiskScore, VmMetadata};
    use serde_json::{Value, json};

    fn json_of(m: &Machine) -> Value {
        serde_json::from_str(&to_json(&document("contoso.com", 1_764_000_000_123, m))).unwrap()
    }

    fn machine() -> Machine {
        Machine {
            id: "1f0e".into(),
            computer_dns_name: Some("web-02.dmz.contoso.com".into()),
            first_seen: Some("2024-06-01T12:00:00Z".into()),
            os_platform: Some("Ubuntu".into()),
            os_version: Some("22.04".into()),
            os_processor: Some("x64".into()),
            os_architecture: Some("64-bit".into()),
            last_ip_address: Some("172.16.4.12".into()),
            last_external_ip_address: Some("203.0.113.24".into()),
            ip_addresses: Some(vec![
                IpAddress {
                    ip_address: Some("172.16.4.12".into()),
                    mac_address: Some("0050568A1B2C".into()),
                    ..IpAddress::default()
                },
                IpAddress {
                    ip_address: Some("".into()),
                    mac_address: Some("0050568a1b2d".into()),
                    ..IpAddress::default()
                },
                IpAddress {
                    ip_address: Some("127.0.0.1".into()),
                    mac_address: Some("000000000000".into()),
                    ..IpAddress::default()
                },
            ]),
            risk_score: Some(RiskScore::High),
            rbac_group_id: Some("140".into()),
            rbac_group_name: Some("Linux servers".into()),
            machine_tags: Some(vec!["dmz".into()]),
            vm_metadata: Some(VmMetadata {
                vm_id: Some("vm-1".into()),
                cloud_provider: Some("Azure".into()),
                resource_id: None,
                subscription_id: Some("sub-1".into()),
                unmodelled: None,
            }),
            ..Machine::default()
        }
    }

    #[test]
    fn is_a_host_state_event_observed_by_defender() {
        let d = json_of(&machine());
        assert_eq!(d["@timestamp"], "2025-11-24T16:00:00.123Z");
        assert_eq!(d["ecs"]["version"], ECS_VERSION);
        assert_eq!(
            d["event"],
            json!({"kind": "state", "category": ["host"], "type": ["info"]})
        );
        assert_eq!(
            d["observer"],
            json!({"vendor": "Microsoft", "product": "Microsoft Defender for Endpoint"})
        );
    }

    #[test]
    fn describes_the_host() {
        let d = json_of(&machine());
        let h = &d["host"];
        assert_eq!(h["id"], "1f0e");
        assert_eq!(d["device"]["id"], "1f0e");
        assert_eq!(h["name"], "web-02.dmz.contoso.com");
        assert_eq!(h["hostname"], "web-02");
        assert_eq!(h["domain"], "dmz.contoso.com");
        assert_eq!(h["ip"], json!(["172.16.4.12", "127.0.0.1"]));
        assert_eq!(h["mac"], json!(["00-50-56-8A-1B-2C", "00-50-56-8A-1B-2D"]));
        assert_eq!(
            h["os"],
            json!({"name": "Ubuntu", "platform": "ubuntu", "type": "linux", "version": "22.04"})
        );
        assert_eq!(h["architecture"], "x64");
        assert_eq!(h["risk"]["static_level"], "High");
        assert_eq!(d["group"], json!({"id": "140", "name": "Linux servers"}));
        assert_eq!(
            d["cloud"],
            json!({"provider": "Azure", "account": {"id": "sub-1"}, "instance": {"id": "vm-1"}})
        );
        assert_eq!(
            d["related"],
            json!({"ip": ["172.16.4.12", "127.0.0.1", "203.0.113.24"], "hosts": ["web-02.dmz.contoso.com", "web-02"]})
        );
    }

    #[test]
    fn keeps_the_rest_under_mde() {
        let d = json_of(&machine());
        let mde = &d["mde"];
        assert_eq!(mde["queriedDomain"], "contoso.com");
        assert_eq!(mde["firstSeen"], "2024-06-01T12:00:00Z");
        assert_eq!(mde["machineTags"], json!(["dmz"]));
        assert_eq!(mde["lastExternalIpAddress"], "203.0.113.24");
        assert_eq!(mde["ipAddresses"][1]["ipAddress"], "");
        assert_eq!(mde["vmMetadata"]["vmId"], "vm-1");
    }

    #[test]
    fn windows_and_macs_get_ecs_platform_names() {
        let os = |platform: &str| {
            let m = Machine {
                os_platform: Some(platform.into()),
                ..Machine::default()
            };
            let os = json_of(&m)["host"]["os"].clone();
            (os["platform"].clone(), os["type"].clone())
        };
        assert_eq!(os("Windows11"), (json!("windows"), json!("windows")));
        assert_eq!(os("macOS"), (json!("darwin"), json!("macos")));
        assert_eq!(os("AmigaOS"), (json!("amigaos"), Value::Null));
    }

    #[test]
    fn a_bare_machine_still_makes_a_document() {
        let d = json_of(&Machine {
            id: "x".into(),
            last_ip_address: Some("not-an-ip".into()),
            ..Machine::default()
        });
        assert_eq!(d["host"], json!({"id": "x"}));
        assert_eq!(d["related"], json!({}));
        assert!(d.get("group").is_none() && d.get("cloud").is_none());
        let found = Lookup {
            domain: "contoso.com".into(),
            machines: vec![machine(), Machine::default()],
            cap_reached: false,
        };
        assert_eq!(documents(&found, u64::MAX).len(), 2);
    }
}
