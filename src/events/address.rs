//! Addresses and names as the schemas type them: IP and MAC addresses,
//! DNS names split into host and domain.

use crate::machine::{IpAddress, Machine};
use std::net::IpAddr;

/// An IP address the schemas' `ip` types accept, as sent (trimmed).
pub(super) fn ip(text: &str) -> Option<&str> {
    let text = text.trim();
    text.parse::<IpAddr>().is_ok().then_some(text)
}

/// A MAC address from the service's 12 hex digits (separators tolerated), as
/// six upper-case pairs joined by `sep`. `None` for anything else, and for the
/// all-zero address the service reports for pseudo-interfaces.
pub(super) fn mac(text: &str, sep: char) -> Option<String> {
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
pub(super) fn split_dns_name(name: &str) -> (&str, Option<&str>) {
    match name.split_once('.') {
        Some((host, domain)) if !host.is_empty() && !domain.is_empty() => (host, Some(domain)),
        _ => (name, None),
    }
}

/// Every address of the machine the schemas' `ip` types accept, first seen
/// first, without repeats: `lastIpAddress`, then `ipAddresses`.
pub(super) fn machine_ips(m: &Machine) -> Vec<&str> {
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
