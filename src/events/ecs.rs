//! Elastic Common Schema documents, one per machine: an inventory `state`
//! event about a `host`, with the rest of the machine under `mde`, a field
//! set ECS does not define.

use super::bounded::{map_within_memory, write_json};
use super::{
    Mapped, OsFamily, PRODUCT, Remainder, VENDOR, cloud_vm, given, has_sensor, ip, mac,
    machine_ips, machines_of, observed, os_family, split_dns_name,
};
use crate::connector::{Found, Lookup};
use crate::machine::Machine;
use crate::routes::Query;
use serde::Serialize;

/// The ECS version these documents follow.
pub const ECS_VERSION: &str = "9.5.0-dev";

/// One ECS document per machine of `found`, as JSON text, or why
/// `observed_at` cannot be the documents' `@timestamp`.
pub fn documents(found: &Lookup<String>, observed_at: u64) -> Result<Vec<String>, String> {
    let query = Query::Domain(found.domain.clone());
    documents_of(&query, &found.machines, observed_at)
}

/// [`documents`] for any machine list, its query kept under `mde`.
pub fn query_documents(found: &Found<String>, observed_at: u64) -> Result<Vec<String>, String> {
    documents_of(&found.query, &found.machines, observed_at)
}

fn documents_of(query: &Query, texts: &[String], observed_at: u64) -> Result<Vec<String>, String> {
    let machines = machines_of(texts)?;
    let (_, timestamp) = observed(observed_at)?;
    map_within_memory(&machines, |m, sent, out| {
        write_json(out, &document(query, &timestamp, m, sent))
    })
}

#[derive(Serialize)]
pub struct Document<'a> {
    #[serde(rename = "@timestamp")]
    timestamp: &'a str,
    ecs: Ecs,
    event: Event,
    observer: Observer,
    #[serde(skip_serializing_if = "Option::is_none")]
    agent: Option<Agent<'a>>,
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

/// The Defender sensor on the host: its id is the machine's.
#[derive(Serialize)]
struct Agent<'a> {
    id: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    version: Option<&'a str>,
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

/// The ECS document for one machine, `m` read from `sent`, observed at
/// `timestamp` (RFC 3339).
pub fn document<'a>(
    query: &'a Query,
    timestamp: &'a str,
    m: &'a Machine,
    sent: &'a str,
) -> Document<'a> {
    let mut mapped = Mapped(const { Machine::bit("id") });
    let dns_name = given(&m.computer_dns_name);
    mapped.add(
        const { Machine::bit("computerDnsName") },
        dns_name.is_some(),
    );
    let (hostname, host_domain) = match dns_name.map(split_dns_name) {
        Some((host, domain)) => (Some(host), domain),
        None => (None, None),
    };
    let ips = machine_ips(m);
    let last_ip = m.last_ip_address.as_deref();
    mapped.add(
        const { Machine::bit("lastIpAddress") },
        last_ip
            .and_then(ip)
            .is_some_and(|found| Some(found) == last_ip),
    );
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
    let vm = cloud_vm(m);
    let architecture = match (given(&m.os_processor), given(&m.os_architecture)) {
        (Some(processor), _) => {
            mapped.when(const { Machine::bit("osProcessor") }, true, Some(processor))
        }
        (None, Some(architecture)) => mapped.when(
            const { Machine::bit("osArchitecture") },
            true,
            Some(architecture),
        ),
        (None, None) => None,
    };
    let sensor = has_sensor(m);
    let agent_version = given(&m.agent_version);
    mapped.add(
        const { Machine::bit("agentVersion") },
        sensor && agent_version.is_some(),
    );
    let risk = m
        .risk_score
        .as_ref()
        .map(|r| r.as_str())
        .filter(|r| !r.is_empty());
    mapped.add(const { Machine::bit("riskScore") }, risk.is_some());
    let (group_id, group_name) = (given(&m.rbac_group_id), given(&m.rbac_group_name));
    mapped.add(const { Machine::bit("rbacGroupId") }, group_id.is_some());
    mapped.add(
        const { Machine::bit("rbacGroupName") },
        group_name.is_some(),
    );
    let os = os(m, &mut mapped);
    Document {
        timestamp,
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
        agent: sensor.then_some(Agent {
            id: &m.id,
            version: agent_version,
        }),
        host: Host {
            id: &m.id,
            name: dns_name,
            hostname,
            domain: host_domain,
            ip: ips,
            mac: macs,
            os,
            architecture,
            risk: risk.map(|static_level| Risk { static_level }),
        },
        device: Device { id: &m.id },
        group: (group_id.is_some() || group_name.is_some()).then_some(Group {
            id: group_id,
            name: group_name,
        }),
        cloud: vm.map(|vm| Cloud {
            provider: given(&vm.cloud_provider),
            account: given(&vm.subscription_id).map(|id| Id { id }),
            instance: given(&vm.vm_id).map(|id| Id { id }),
        }),
        related: Related {
            ip: related_ips,
            hosts,
        },
        mde: Remainder {
            query,
            sent,
            mapped: mapped.0,
        },
    }
}

/// `host.os`: platform, version (`osVersion`, else `version`), family.
fn os<'a>(m: &'a Machine, mapped: &mut Mapped) -> Option<Os<'a>> {
    let name = given(&m.os_platform);
    mapped.add(const { Machine::bit("osPlatform") }, name.is_some());
    let version = match (given(&m.os_version), given(&m.version)) {
        (Some(os_version), _) => {
            mapped.when(const { Machine::bit("osVersion") }, true, Some(os_version))
        }
        (None, Some(version)) => {
            mapped.when(const { Machine::bit("version") }, true, Some(version))
        }
        (None, None) => None,
    };
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
            Some(OsFamily::Ios | OsFamily::IpadOs) => Some("ios".into()),
            Some(OsFamily::Android) => Some("android".into()),
            _ => name.map(str::to_ascii_lowercase),
        },
        // One of ECS's: linux, macos, unix, windows, ios, android.
        kind: family.map(|f| match f {
            OsFamily::Windows => "windows",
            OsFamily::Linux => "linux",
            OsFamily::MacOs => "macos",
            OsFamily::Ios | OsFamily::IpadOs => "ios",
            OsFamily::Android => "android",
            OsFamily::Solaris | OsFamily::Aix | OsFamily::HpUx | OsFamily::Unix => "unix",
        }),
        version,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::machine::{IpAddress, RiskScore, VmMetadata};
    use serde_json::{Value, json};

    /// The document of `m`, sent as the typed record writes it.
    fn json_of(m: &Machine) -> Value {
        let sent = serde_json::to_string(m).unwrap();
        let query = Query::Domain("contoso.com".into());
        let document = document(&query, "2025-11-24T16:00:00.123Z", m, &sent);
        serde_json::from_str(&crate::events::to_json(&document, 0)).unwrap()
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
            machines: [machine(), Machine::default()]
                .iter()
                .map(|m| serde_json::to_string(m).unwrap())
                .collect(),
            cap_reached: false,
        };
        assert_eq!(documents(&found, 0).unwrap().len(), 2);
        assert!(
            documents(&found, u64::MAX)
                .unwrap_err()
                .contains("RFC 3339")
        );
    }

    #[test]
    fn the_sensor_is_the_agent_and_arc_machines_claim_no_cloud() {
        let mut m = machine();
        m.agent_version = Some("10.8760".into());
        let d = json_of(&m);
        assert_eq!(d["agent"], json!({"id": "1f0e", "version": "10.8760"}));
        assert!(d["mde"].get("agentVersion").is_none());
        m.vm_metadata.as_mut().unwrap().resource_id =
            Some("/subscriptions/s/providers/Microsoft.HybridCompute/machines/m".into());
        let d = json_of(&m);
        assert!(d.get("cloud").is_none());
        assert_eq!(d["mde"]["vmMetadata"]["cloudProvider"], "Azure");
        m.version = Some("22.04.3".into());
        assert_eq!(json_of(&m)["mde"]["version"], "22.04.3");
        m.os_platform = Some("FreeBSD".into());
        assert_eq!(json_of(&m)["host"]["os"]["type"], "unix");
    }
}
