//! The machines of a `lookup-texts` answer as OCSF "Device Inventory Info"
//! events ([`ocsf`]) and as ECS documents ([`ecs`]), one JSON text per
//! machine.
//!
//! The component has no clock: the observation time comes from the caller, in
//! milliseconds since the Unix epoch. Everything here is total: a value from
//! the network that does not fit a schema type is left out of the typed field
//! and kept in the event's catch-all (`unmapped` or `mde`), never a panic.

mod address;
mod bounded;
pub mod ecs;
pub mod ocsf;
mod remainder;
mod time;

use crate::machine::{IpAddress, Machine, OnboardingStatus, VmMetadata};

use address::{ip, mac, machine_ips, split_dns_name};
use remainder::{Mapped, Remainder};
use time::observed;
pub use time::{civil_from_days, days_from_civil, format_rfc3339_ms, parse_rfc3339_ms};

/// The product, as both schemas name it.
pub const VENDOR: &str = "Microsoft";
pub const PRODUCT: &str = "Microsoft Defender for Endpoint";

/// JSON text of an event, for the tests (the events are written by
/// `bounded::map_within_memory`). `size`: about how long it will be.
#[cfg(test)]
fn to_json(value: &impl serde::Serialize, size: usize) -> String {
    let mut out = Vec::with_capacity(size);
    // Serialising structs, strings and checked raw JSON into memory cannot fail.
    if serde_json::to_writer(&mut out, value).is_err() {
        return String::new();
    }
    out.shrink_to_fit();
    // serde_json writes UTF-8.
    String::from_utf8(out).unwrap_or_default()
}

/// About how long the event of a machine sent as `sent` is: the event
/// carries what was sent, with room for its typed attributes.
fn event_size(sent: &str) -> usize {
    1024 + sent.len()
}

/// The machines of a `lookup-texts` answer, each read back from its text
/// (as an answer's machines are read) and paired with it: the events map
/// the typed values and keep the sent ones.
fn machines_of(texts: &[String]) -> Result<Vec<(Machine, &str)>, String> {
    let machines = crate::response::machines_from_texts(texts)?;
    Ok(machines
        .into_iter()
        .zip(texts.iter().map(String::as_str))
        .collect())
}

/// The OCSF event's message: what the machine has to do with the query.
fn message(machine: &str, query: &crate::routes::Query) -> String {
    use crate::routes::Query;
    match query {
        Query::Domain(domain) => format!("{machine} communicated with {domain}"),
        Query::File(sha1) => format!("{machine} saw the file with SHA-1 {sha1}"),
        Query::User(user) => format!("{user} signed in to {machine}"),
        Query::Ip { ip, at } => format!("{machine} was seen with {ip} at about {at}"),
        Query::Machine(_) => format!("{machine}, looked up by id"),
    }
}

/// A text the service gave: present and not empty. An empty string is never
/// mapped to a schema attribute; it stays, as sent, with the remainder.
fn given(text: &Option<String>) -> Option<&str> {
    text.as_deref().filter(|t| !t.is_empty())
}

/// The operating system families the schemas distinguish.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OsFamily {
    Windows,
    Linux,
    MacOs,
    Ios,
    IpadOs,
    Android,
    Solaris,
    Aix,
    HpUx,
    /// The BSDs and other Unix systems.
    Unix,
}

/// The family of an `osPlatform` value (`Windows11`, `WindowsServer2022`,
/// `Ubuntu`, `macOS`, ...), compared without case: the service has no
/// closed list.
pub fn os_family(platform: &str) -> Option<OsFamily> {
    let p = platform.to_ascii_lowercase();
    const LINUX: [&str; 11] = [
        "linux", "ubuntu", "debian", "redhat", "rhel", "centos", "suse", "sles", "oracle",
        "fedora", "amazon",
    ];
    const UNIX: [&str; 5] = ["freebsd", "openbsd", "netbsd", "unix", "bsd"];
    let family = if p.starts_with("windows") {
        OsFamily::Windows
    } else if p.starts_with("macos") || p == "mac" || p == "osx" {
        OsFamily::MacOs
    } else if p.starts_with("ipados") {
        OsFamily::IpadOs
    } else if p.starts_with("ios") {
        OsFamily::Ios
    } else if p.starts_with("android") {
        OsFamily::Android
    } else if LINUX.iter().any(|l| crate::text::contains(&p, l)) {
        OsFamily::Linux
    } else if p.starts_with("solaris") || p.starts_with("sunos") {
        OsFamily::Solaris
    } else if p.starts_with("aix") {
        OsFamily::Aix
    } else if p.starts_with("hp-ux") || p.starts_with("hpux") {
        OsFamily::HpUx
    } else if UNIX.iter().any(|u| crate::text::contains(&p, u)) {
        OsFamily::Unix
    } else {
        return None;
    };
    Some(family)
}

/// A server operating system, by its platform name.
fn is_server_platform(platform: &str) -> bool {
    crate::text::contains(&platform.to_ascii_lowercase(), "server")
}

/// Whether the machine runs the Defender sensor: unless the service says it
/// is not onboarded and reports no sensor version, it does (every machine of
/// an answer has a Defender device id).
fn has_sensor(m: &Machine) -> bool {
    m.agent_version.is_some()
        || m.onboarding_status
            .as_ref()
            .is_none_or(|s| *s == OnboardingStatus::Onboarded)
}

/// The VM metadata of a machine in a real cloud: not of an Azure Arc
/// machine, whose resource lives in Azure while the machine runs on
/// premises or in another cloud, unknown.
fn cloud_vm(m: &Machine) -> Option<&VmMetadata> {
    m.vm_metadata.as_ref().filter(|vm| {
        !vm.resource_id.as_deref().is_some_and(|id| {
            crate::text::contains(
                &id.to_ascii_lowercase(),
                "/providers/microsoft.hybridcompute/",
            )
        })
    })
}

/// The interface type of an `ipAddresses` entry, compared without case.
fn interface_type(entry: &IpAddress) -> InterfaceType<'_> {
    let kind = entry.kind.as_deref().unwrap_or("");
    let lower = kind.to_ascii_lowercase();
    if crate::text::contains(&lower, "ethernet") {
        InterfaceType::Wired
    } else if lower == "wireless80211" {
        InterfaceType::Wireless
    } else if lower.starts_with("wwanpp") {
        InterfaceType::Mobile
    } else if lower == "tunnel" {
        InterfaceType::Tunnel
    } else if lower.is_empty() || lower == "unknown" {
        InterfaceType::Unknown
    } else {
        InterfaceType::Other(kind)
    }
}

/// What OCSF's `network_interface.type_id` tells apart.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum InterfaceType<'a> {
    Unknown,
    Wired,
    Wireless,
    Mobile,
    Tunnel,
    Other(&'a str),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn platforms_fall_into_families_without_case() {
        use OsFamily::*;
        for (platform, family) in [
            ("Windows11", Some(Windows)),
            ("WINDOWSSERVER2022", Some(Windows)),
            ("Ubuntu", Some(Linux)),
            ("RedHatEnterpriseLinux", Some(Linux)),
            ("Linux", Some(Linux)),
            ("macOS", Some(MacOs)),
            ("iOS", Some(Ios)),
            ("iPadOS", Some(IpadOs)),
            ("Android", Some(Android)),
            ("Solaris11", Some(Solaris)),
            ("AIX", Some(Aix)),
            ("HP-UX", Some(HpUx)),
            ("FreeBSD", Some(Unix)),
            ("AmigaOS", None),
            ("Other", None),
            ("", None),
        ] {
            assert_eq!(os_family(platform), family, "{platform}");
        }
        assert!(is_server_platform("WindowsServer2019"));
        assert!(!is_server_platform("Windows11"));
    }

    #[test]
    fn an_azure_arc_machine_is_in_no_known_cloud() {
        let vm = |resource: &str| Machine {
            vm_metadata: Some(VmMetadata {
                cloud_provider: Some("Azure".into()),
                resource_id: Some(resource.into()),
                ..VmMetadata::default()
            }),
            ..Machine::default()
        };
        let azure =
            vm("/subscriptions/s/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/a");
        assert!(cloud_vm(&azure).is_some());
        let arc =
            vm("/subscriptions/s/resourceGroups/rg/providers/Microsoft.HybridCompute/machines/b");
        assert!(cloud_vm(&arc).is_none());
        let arc = vm("/SUBSCRIPTIONS/S/PROVIDERS/MICROSOFT.HYBRIDCOMPUTE/MACHINES/B");
        assert!(cloud_vm(&arc).is_none());
    }

    #[test]
    fn interface_types_compare_without_case() {
        let entry = |kind: &str| IpAddress {
            kind: Some(kind.into()),
            ..IpAddress::default()
        };
        assert_eq!(interface_type(&entry("ETHERNET")), InterfaceType::Wired);
        assert_eq!(
            interface_type(&entry("wireless80211")),
            InterfaceType::Wireless
        );
        assert_eq!(interface_type(&entry("WwanPP2")), InterfaceType::Mobile);
        assert_eq!(interface_type(&entry("tunnel")), InterfaceType::Tunnel);
        assert_eq!(
            interface_type(&entry("SoftwareLoopback")),
            InterfaceType::Other("SoftwareLoopback")
        );
    }

    #[test]
    fn a_machine_without_the_sensor_is_one_the_service_says_is_not_onboarded() {
        let m = |status: Option<OnboardingStatus>, version: Option<&str>| Machine {
            onboarding_status: status,
            agent_version: version.map(Into::into),
            ..Machine::default()
        };
        assert!(has_sensor(&m(None, None)));
        assert!(has_sensor(&m(Some(OnboardingStatus::Onboarded), None)));
        assert!(has_sensor(&m(
            Some(OnboardingStatus::CanBeOnboarded),
            Some("10.8")
        )));
        assert!(!has_sensor(&m(
            Some(OnboardingStatus::CanBeOnboarded),
            None
        )));
        assert!(!has_sensor(&m(
            Some(OnboardingStatus::Other("Offboarded".into())),
            None
        )));
    }
}
