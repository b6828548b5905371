//! Machines as SIEM events: OCSF "Device Inventory Info" ([`ocsf`]) and ECS
//! documents ([`ecs`]), one JSON text per machine.
//!
//! The component has no clock: the observation time comes from the caller, in
//! milliseconds since the Unix epoch. Everything here is total: a value from
//! the network that does not fit a schema type is left out of the typed field
//! and kept in the event's catch-all (`unmapped` or `mde`), never a panic.

pub mod ecs;
pub mod ocsf;

use crate::machine::{IpAddress, Machine, VmMetadata};
use serde::Serialize;
use std::net::IpAddr;

/// The product, as both schemas name it.
pub const VENDOR: &str = "Microsoft";
pub const PRODUCT: &str = "Microsoft Defender for Endpoint";

const MS_PER_DAY: i64 = 86_400_000;

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's
/// `days_from_civil`).
pub fn days_from_civil(year: i64, month: u32, day: u32) -> i64 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let year_of_era = year - era * 400;
    let month = i64::from(month);
    let day_of_year =
        (153 * (if month > 2 { month - 3 } else { month + 9 }) + 2) / 5 + i64::from(day) - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

/// The date of a day since 1970-01-01: `(year, month, day)` (`civil_from_days`).
pub fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let day_of_era = z - era * 146_097;
    let year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let mp = (5 * day_of_year + 2) / 153;
    let day = (day_of_year - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

fn days_in_month(year: i64, month: u32) -> u32 {
    match month {
        2 if year % 4 == 0 && (year % 100 != 0 || year % 400 == 0) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Milliseconds since the Unix epoch of an RFC 3339 time as the service sends
/// it: `2023-03-14T09:21:44.1234567Z` (any number of fractional digits,
/// truncated to the millisecond; `Z` or a `+hh:mm`/`-hh:mm` offset). `None`
/// for anything else, including impossible dates.
pub fn parse_rfc3339_ms(text: &str) -> Option<i64> {
    let b = text.as_bytes();
    let digits = |range: std::ops::Range<usize>| -> Option<u32> {
        let part = b.get(range)?;
        part.iter().try_fold(0u32, |n, &c| {
            c.is_ascii_digit().then(|| n * 10 + u32::from(c - b'0'))
        })
    };
    let sep = |i: usize, c: u8| b.get(i).is_some_and(|x| x.eq_ignore_ascii_case(&c));
    if !(sep(4, b'-') && sep(7, b'-') && sep(10, b'T') && sep(13, b':') && sep(16, b':')) {
        return None;
    }
    let (year, month, day) = (digits(0..4)?, digits(5..7)?, digits(8..10)?);
    let (hour, minute, second) = (digits(11..13)?, digits(14..16)?, digits(17..19)?);
    if !(1..=12).contains(&month)
        || day == 0
        || day > days_in_month(i64::from(year), month)
        || hour > 23
        || minute > 59
        || second > 60
    {
        return None;
    }
    let mut i = 19;
    let mut millis = 0;
    if b.get(i) == Some(&b'.') {
        i += 1;
        let start = i;
        while b.get(i).is_some_and(u8::is_ascii_digit) {
            if i - start < 3 {
                millis = millis * 10 + i64::from(b[i] - b'0');
            }
            i += 1;
        }
        if i == start {
            return None;
        }
        for _ in (i - start)..3 {
            millis *= 10;
        }
    }
    let offset_minutes = match b.get(i)? {
        b'Z' | b'z' if i + 1 == b.len() => 0,
        sign @ (b'+' | b'-') if i + 6 == b.len() && b[i + 3] == b':' => {
            let (h, m) = (digits(i + 1..i + 3)?, digits(i + 4..i + 6)?);
            if h > 23 || m > 59 {
                return None;
            }
            let minutes = i64::from(h * 60 + m);
            if *sign == b'+' { minutes } else { -minutes }
        }
        _ => return None,
    };
    let days = days_from_civil(i64::from(year), month, day);
    let seconds = i64::from(hour * 3600 + minute * 60 + second) - offset_minutes * 60;
    Some(days * MS_PER_DAY + seconds * 1000 + millis)
}

/// `YYYY-MM-DDThh:mm:ss.sssZ` for milliseconds since the Unix epoch, or `None`
/// outside the years 0000 to 9999, which RFC 3339 cannot write.
pub fn format_rfc3339_ms(ms: i64) -> Option<String> {
    let (days, in_day) = (ms.div_euclid(MS_PER_DAY), ms.rem_euclid(MS_PER_DAY));
    let (year, month, day) = civil_from_days(days);
    if !(0..=9999).contains(&year) {
        return None;
    }
    let (seconds, millis) = (in_day / 1000, in_day % 1000);
    Some(format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{millis:03}Z",
        seconds / 3600,
        seconds / 60 % 60,
        seconds % 60
    ))
}

/// One JSON object per machine, with the service's own field names.
pub fn machines_json(found: &crate::connector::Lookup) -> Vec<String> {
    found.machines.iter().map(to_json).collect()
}

/// The observation time as the schemas' signed milliseconds.
fn observed_ms(observed_at: u64) -> i64 {
    i64::try_from(observed_at).unwrap_or(i64::MAX)
}

/// An IP address the schemas' `ip` types accept, as sent (trimmed).
fn ip(text: &str) -> Option<&str> {
    let text = text.trim();
    text.parse::<IpAddr>().is_ok().then_some(text)
}

/// A MAC address from the service's 12 hex digits (separators tolerated), as
/// six upper-case pairs joined by `sep`. `None` for anything else, and for the
/// all-zero address the service reports for pseudo-interfaces.
fn mac(text: &str, sep: char) -> Option<String> {
    let hex: Vec<u8> = text
        .bytes()
        .filter(|b| !matches!(b, b':' | b'-' | b'.'))
        .collect();
    if hex.len() != 12 || !hex.iter().all(u8::is_ascii_hexdigit) || hex.iter().all(|&b| b == b'0') {
        return None;
    }
    let mut out = String::with_capacity(17);
    for (i, pair) in hex.chunks(2).enumerate() {
        if i > 0 {
            out.push(sep);
        }
        out.extend(pair.iter().map(|b| b.to_ascii_uppercase() as char));
    }
    Some(out)
}

/// `ws-0142.corp.contoso.com` → (`ws-0142`, `corp.contoso.com`).
fn split_dns_name(name: &str) -> (&str, Option<&str>) {
    match name.split_once('.') {
        Some((host, domain)) if !host.is_empty() && !domain.is_empty() => (host, Some(domain)),
        _ => (name, None),
    }
}

/// The machine fields a schema has no place for, under the service's own
/// names, with the domain that was queried: OCSF's `unmapped`, ECS's `mde`.
#[derive(Serialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct Remainder<'a> {
    /// The domain the machine communicated with, as queried.
    queried_domain: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    first_seen: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    last_seen: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    os_processor: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    os_architecture: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    os_build: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    last_external_ip_address: Option<&'a str>,
    /// As sent: operational status, interface type and addresses no schema
    /// type accepts (the empty string) are only here.
    #[serde(skip_serializing_if = "Option::is_none")]
    ip_addresses: Option<&'a [IpAddress]>,
    #[serde(skip_serializing_if = "Option::is_none")]
    health_status: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    onboarding_status: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    exposure_level: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    device_value: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    aad_device_id: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    is_aad_joined: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    machine_tags: Option<&'a [String]>,
    #[serde(skip_serializing_if = "Option::is_none")]
    agent_version: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    defender_av_status: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    managed_by: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    managed_by_status: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    is_excluded: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    exclusion_reason: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    is_potential_duplication: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    merged_into_machine_id: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    vm_metadata: Option<&'a VmMetadata>,
}

impl<'a> Remainder<'a> {
    /// What neither schema maps. `first_seen`/`last_seen`: whether to keep
    /// those times here too.
    fn of(domain: &'a str, m: &'a Machine, first_seen: bool, last_seen: bool) -> Self {
        Remainder {
            queried_domain: domain,
            first_seen: m.first_seen.as_deref().filter(|_| first_seen),
            last_seen: m.last_seen.as_deref().filter(|_| last_seen),
            os_processor: m.os_processor.as_deref(),
            os_architecture: m.os_architecture.as_deref(),
            last_external_ip_address: m.last_external_ip_address.as_deref(),
            ip_addresses: m.ip_addresses.as_deref(),
            health_status: m.health_status.as_ref().map(|v| v.as_str()),
            onboarding_status: m.onboarding_status.as_ref().map(|v| v.as_str()),
            exposure_level: m.exposure_level.as_ref().map(|v| v.as_str()),
            device_value: m.device_value.as_ref().map(|v| v.as_str()),
            is_aad_joined: m.is_aad_joined,
            defender_av_status: m.defender_av_status.as_deref(),
            managed_by: m.managed_by.as_deref(),
            managed_by_status: m.managed_by_status.as_deref(),
            is_excluded: m.is_excluded,
            exclusion_reason: m.exclusion_reason.as_deref(),
            is_potential_duplication: m.is_potential_duplication,
            merged_into_machine_id: m.merged_into_machine_id.as_deref(),
            vm_metadata: m.vm_metadata.as_ref(),
            ..Remainder::default()
        }
    }
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

/// Every address of the machine the schemas' `ip` types accept, first seen
/// first, without repeats: `lastIpAddress`, then `ipAddresses`.
fn machine_ips(m: &Machine) -> Vec<&str> {
    let interfaces = m.ip_addresses.iter().flatten();
    let mut ips: Vec<&str> = Vec::new();
    let candidates = m
        .last_ip_address
        .iter()
        .chain(interfaces.filter_map(|i: &IpAddress| i.ip_address.as_ref()));
    for found in candidates.filter_map(|t| ip(t)) {
        if !ips.contains(&found) {
            ips.push(found);
        }
    }
    ips
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn days_and_dates_round_trip_across_eras_and_leap_days() {
        for (y, m, d, days) in [
            (1970, 1, 1, 0),
            (1969, 12, 31, -1),
            (2000, 2, 29, 11_016),
            (2000, 3, 1, 11_017),
            (1900, 3, 1, -25_508),
            (2026, 11, 28, 20_785),
            (0, 1, 1, -719_528),
            (9999, 12, 31, 2_932_896),
        ] {
            assert_eq!(days_from_civil(y, m, d), days, "{y}-{m}-{d}");
            assert_eq!(civil_from_days(days), (y, m, d), "{days}");
        }
        for days in (-800_000..3_000_000).step_by(997) {
            let (y, m, d) = civil_from_days(days);
            assert!((1..=12).contains(&m) && d >= 1 && d <= days_in_month(y, m));
            assert_eq!(days_from_civil(y, m, d), days);
        }
    }

    #[test]
    fn parses_the_services_times_to_the_millisecond() {
        // 2023-03-14T09:21:44Z is 1678785704 seconds after the epoch.
        assert_eq!(
            parse_rfc3339_ms("2023-03-14T09:21:44.1234567Z"),
            Some(1_678_785_704_123)
        );
        assert_eq!(
            parse_rfc3339_ms("2023-03-14T09:21:44Z"),
            Some(1_678_785_704_000)
        );
        assert_eq!(
            parse_rfc3339_ms("2023-03-14T09:21:44.5Z"),
            Some(1_678_785_704_500)
        );
        assert_eq!(
            parse_rfc3339_ms("2023-03-14T09:21:44.52z"),
            Some(1_678_785_704_520)
        );
        assert_eq!(
            parse_rfc3339_ms("2023-03-14T11:21:44+02:00"),
            Some(1_678_785_704_000)
        );
        assert_eq!(
            parse_rfc3339_ms("2023-03-14T08:51:44-00:30"),
            Some(1_678_785_704_000)
        );
        assert_eq!(parse_rfc3339_ms("1969-12-31T23:59:59.999Z"), Some(-1));
        assert_eq!(
            parse_rfc3339_ms("2024-02-29T00:00:00Z"),
            Some(1_709_164_800_000)
        );
    }

    #[test]
    fn refuses_what_is_not_an_rfc3339_time() {
        for bad in [
            "",
            "2023-03-14",
            "2023-03-14T09:21:44",
            "2023-03-14 09:21:44Z",
            "2023-3-14T09:21:44Z",
            "2023-02-29T00:00:00Z",
            "2023-13-01T00:00:00Z",
            "2023-00-01T00:00:00Z",
            "2023-01-32T00:00:00Z",
            "2023-01-01T24:00:00Z",
            "2023-01-01T00:60:00Z",
            "2023-01-01T00:00:00.Z",
            "2023-01-01T00:00:00ZZ",
            "2023-01-01T00:00:00+0200",
            "2023-01-01T00:00:00+24:00",
            "+023-01-01T00:00:00Z",
            "2023-01-01T00:00:00.١٢Z",
            "२०२३-01-01T00:00:00Z",
        ] {
            assert_eq!(parse_rfc3339_ms(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn formats_milliseconds_as_rfc3339_within_four_digit_years() {
        assert_eq!(
            format_rfc3339_ms(1_678_785_704_123).as_deref(),
            Some("2023-03-14T09:21:44.123Z")
        );
        assert_eq!(
            format_rfc3339_ms(0).as_deref(),
            Some("1970-01-01T00:00:00.000Z")
        );
        assert_eq!(
            format_rfc3339_ms(-1).as_deref(),
            Some("1969-12-31T23:59:59.999Z")
        );
        assert_eq!(
            format_rfc3339_ms(253_402_300_799_999).as_deref(),
            Some("9999-12-31T23:59:59.999Z")
        );
        assert_eq!(format_rfc3339_ms(253_402_300_800_000), None);
        assert_eq!(format_rfc3339_ms(i64::MAX), None);
        assert_eq!(format_rfc3339_ms(i64::MIN), None);
        for ms in [0, 1_678_785_704_123, -62_167_219_200_000, 951_782_400_000] {
            let text = format_rfc3339_ms(ms).unwrap();
            assert_eq!(parse_rfc3339_ms(&text), Some(ms), "{text}");
        }
    }

    #[test]
    fn macs_become_six_upper_case_pairs_and_junk_is_refused() {
        assert_eq!(
            mac("00155d8a3c21", ':').as_deref(),
            Some("00:15:5D:8A:3C:21")
        );
        assert_eq!(
            mac("00-15-5D-8A-3C-21", '-').as_deref(),
            Some("00-15-5D-8A-3C-21")
        );
        for bad in [
            "",
            "000000000000",
            "00155D8A3C2",
            "00155D8A3C2G",
            "00155D8A3C21FF",
            "é0155D8A3C2",
        ] {
            assert_eq!(mac(bad, ':'), None, "{bad:?}");
        }
    }

    #[test]
    fn only_real_ip_addresses_are_kept_without_repeats() {
        let m = Machine {
            last_ip_address: Some("10.0.0.1".into()),
            ip_addresses: Some(vec![
                IpAddress {
                    ip_address: Some("10.0.0.1".into()),
                    ..IpAddress::default()
                },
                IpAddress {
                    ip_address: Some("".into()),
                    ..IpAddress::default()
                },
                IpAddress {
                    ip_address: Some("not an ip".into()),
                    ..IpAddress::default()
                },
                IpAddress {
                    ip_address: Some("2001:DB8::1".into()),
                    ..IpAddress::default()
                },
                IpAddress::default(),
            ]),
            ..Machine::default()
        };
        assert_eq!(machine_ips(&m), ["10.0.0.1", "2001:DB8::1"]);
    }

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

    #[test]
    fn dns_names_split_into_host_and_domain() {
        assert_eq!(
            split_dns_name("ws-0142.corp.contoso.com"),
            ("ws-0142", Some("corp.contoso.com"))
        );
        assert_eq!(split_dns_name("ws-0142"), ("ws-0142", None));
        assert_eq!(split_dns_name(".x"), (".x", None));
        assert_eq!(split_dns_name("x."), ("x.", None));
    }
}
