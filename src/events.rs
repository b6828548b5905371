//! Machines as SIEM events: OCSF "Device Inventory Info" ([`ocsf`]) and ECS
//! documents ([`ecs`]), one JSON text per machine.
//!
//! The component has no clock: the observation time comes from the caller, in
//! milliseconds since the Unix epoch. Everything here is total: a value from
//! the network that does not fit a schema type is left out of the typed field
//! and kept in the event's catch-all (`unmapped` or `mde`), never a panic.

mod address;
pub mod ecs;
pub mod ocsf;
mod remainder;
mod time;

use serde::Serialize;

use address::{ip, mac, machine_ips, split_dns_name};
use remainder::Remainder;
use time::observed_ms;
pub use time::{civil_from_days, days_from_civil, format_rfc3339_ms, parse_rfc3339_ms};

/// The product, as both schemas name it.
pub const VENDOR: &str = "Microsoft";
pub const PRODUCT: &str = "Microsoft Defender for Endpoint";

/// One JSON object per machine, with the service's own field names.
pub fn machines_json(found: &crate::connector::Lookup) -> Vec<String> {
    found.machines.iter().map(to_json).collect()
}

/// JSON text of an event.
fn to_json(value: &impl Serialize) -> String {
    // Only structs with string keys and no maps: serialising cannot fail.
    serde_json::to_string(value).unwrap_or_default()
}

/// The operating system families the schemas distinguish.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OsFamily {
    Windows,
    Linux,
    MacOs,
    Ios,
    Android,
}

/// The family of an `osPlatform` value (`Windows11`, `WindowsServer2022`,
/// `Ubuntu`, `macOS`, ...): the service has no closed list.
pub fn os_family(platform: &str) -> Option<OsFamily> {
    let p = platform.to_ascii_lowercase();
    const LINUX: [&str; 10] = [
        "linux", "ubuntu", "debian", "redhat", "centos", "suse", "sles", "oracle", "fedora",
        "amazon",
    ];
    if p.starts_with("windows") {
        Some(OsFamily::Windows)
    } else if p.starts_with("macos") || p == "mac" || p == "osx" {
        Some(OsFamily::MacOs)
    } else if p.starts_with("ios") || p.starts_with("ipados") {
        Some(OsFamily::Ios)
    } else if p.starts_with("android") {
        Some(OsFamily::Android)
    } else if LINUX.iter().any(|l| p.contains(l)) || p.contains("rhel") {
        Some(OsFamily::Linux)
    } else {
        None
    }
}

/// A server operating system, by its platform name.
fn is_server_platform(platform: &str) -> bool {
    platform.to_ascii_lowercase().contains("server")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn platforms_fall_into_families() {
        use OsFamily::*;
        for (platform, family) in [
            ("Windows11", Some(Windows)),
            ("WindowsServer2022", Some(Windows)),
            ("Ubuntu", Some(Linux)),
            ("RedHatEnterpriseLinux", Some(Linux)),
            ("Linux", Some(Linux)),
            ("macOS", Some(MacOs)),
            ("iOS", Some(Ios)),
            ("Android", Some(Android)),
            ("AmigaOS", None),
            ("", None),
        ] {
            assert_eq!(os_family(platform), family, "{platform}");
        }
        assert!(is_server_platform("WindowsServer2019"));
        assert!(!is_server_platform("Windows11"));
    }
}
