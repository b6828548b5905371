//! Checking and normalising the inputs of the lookups other than a domain
//! (`domain` has its own module): a file hash, a user name, an IP address, a
//! time, a machine id, a look-back window. Each refusal says what was wrong
//! and how to fix it; nothing refused is ever sent.

use crate::error::Error;
use crate::events::{format_rfc3339_ms, parse_rfc3339_ms};
use std::net::IpAddr;

/// Inputs longer than this are refused before anything else (no account,
/// computer name or address is nearly as long).
const MAX_INPUT_BYTES: usize = 256;

/// The service's longest look-back window, in hours (30 days).
pub const MAX_LOOK_BACK_HOURS: u32 = 720;

/// A lower-case SHA-1, or why the input is not one.
pub fn sha1(input: &str) -> Result<String, Error> {
    let hash = input.trim();
    let fail = |why: String| Err(Error::InvalidFileHash(why));
    if hash.is_empty() {
        return fail("the file hash is empty; give the file's SHA-1 (40 hex digits)".into());
    }
    let hex = hash.bytes().all(|b| b.is_ascii_hexdigit());
    match (hex, hash.len()) {
        (true, 40) => Ok(hash.to_ascii_lowercase()),
        (true, 32) => fail(format!(
            "{} is an MD5 (32 hex digits); the service takes SHA-1 only: give the file's SHA-1 (40 hex digits)",
            shown(hash)
        )),
        (true, 64) => fail(format!(
            "{} is a SHA-256 (64 hex digits); the service takes SHA-1 only: give the file's SHA-1 (40 hex digits)",
            shown(hash)
        )),
        (true, n) => fail(format!(
            "{} has {n} hex digits; a SHA-1 has 40",
            shown(hash)
        )),
        (false, _) => fail(format!(
            "{} is not a SHA-1: give 40 hex digits (0-9, a-f)",
            shown(hash)
        )),
    }
}

/// An account name (`user1`), or why the input is not one.
pub fn user_name(input: &str) -> Result<String, Error> {
    let name = input.trim();
    let fail = |why: String| Err(Error::InvalidUserName(why));
    if name.is_empty() {
        return fail("the user name is empty; give the account name, such as user1".into());
    }
    if let Some((account, _)) = name.split_once('@') {
        return fail(format!(
            "{} is a UPN; the service takes the account name: give the account name: {}",
            shown(name),
            shown_or(account, "user1")
        ));
    }
    if let Some((_, account)) = name.split_once('\\') {
        return fail(format!(
            "{} names a domain; give the account name alone: {}",
            shown(name),
            shown_or(account, "user1")
        ));
    }
    path_segment(name, "user name").map_err(Error::InvalidUserName)
}

/// A machine id (40 hex digits) or computer name, or why the input is neither.
pub fn machine_id(input: &str) -> Result<String, Error> {
    let id = input.trim();
    if id.is_empty() {
        return Err(Error::InvalidMachineId(
            "the machine id is empty; give a machine id (40 hex digits) or a computer name".into(),
        ));
    }
    if let Some(c) = id.chars().find(|c| c.is_whitespace()) {
        return Err(Error::InvalidMachineId(format!(
            "{} has whitespace ({c:?}); a machine id or computer name has none",
            shown(id)
        )));
    }
    path_segment(id, "machine id").map_err(Error::InvalidMachineId)
}

/// What may not be in a value that becomes one path segment, though it is
/// percent-encoded: `/ ? #` and control characters, which no account or
/// computer has, and `.` or `..`, which a server takes as a segment of the path.
fn path_segment(value: &str, what: &str) -> Result<String, String> {
    if value.len() > MAX_INPUT_BYTES {
        return Err(format!(
            "the {what} is {} bytes long; at most {MAX_INPUT_BYTES}",
            value.len()
        ));
    }
    for (position, c) in value.chars().enumerate() {
        let position = position + 1;
        if matches!(c, '/' | '?' | '#') {
            return Err(format!(
                "character {position} of the {what} is {c:?}, which no {what} has; give the {what} alone"
            ));
        }
        if c.is_control() {
            return Err(format!(
                "character {position} of the {what} is a control character (U+{:04X})",
                c as u32
            ));
        }
    }
    if value.contains("..") || value == "." {
        return Err(format!(
            "{} has \"..\" or is \".\"; no {what} has",
            shown(value)
        ));
    }
    Ok(value.to_owned())
}

/// An IPv4 or IPv6 address in its canonical form, or why the input is not
/// one address.
pub fn ip(input: &str) -> Result<String, Error> {
    let text = input.trim();
    let fail = |why: String| Err(Error::InvalidIp(why));
    if text.is_empty() {
        return fail("the IP address is empty; give an IPv4 or IPv6 address".into());
    }
    if text.len() > MAX_INPUT_BYTES {
        return fail(format!(
            "the IP address is {} bytes long; give one IPv4 or IPv6 address",
            text.len()
        ));
    }
    if let Some((address, zone)) = text.split_once('%') {
        return fail(format!(
            "{} has a zone (%{}); give the address alone: {}",
            shown(text),
            shown_raw(zone),
            shown_raw(address)
        ));
    }
    if let Some((address, prefix)) = text.split_once('/') {
        return fail(format!(
            "{} is a network (CIDR /{}), not an address; give one address, such as {}",
            shown(text),
            shown_raw(prefix),
            shown_raw(address)
        ));
    }
    if let Some(inner) = text.strip_prefix('[').and_then(|t| t.strip_suffix(']')) {
        return fail(format!(
            "{} is in brackets; give the address alone: {}",
            shown(text),
            shown_raw(inner)
        ));
    }
    match text.parse::<IpAddr>() {
        Ok(address) => Ok(address.to_string()),
        Err(_) => fail(format!(
            "{} is not an IP address; give one IPv4 (10.1.2.3) or IPv6 (fd00::1) address",
            shown(text)
        )),
    }
}

/// An RFC 3339 time as UTC, `2024-09-22T08:44:05Z` (with milliseconds when
/// it has them), or why the input is not one. The future and the service's
/// 30 days are the host's to check: the component has no clock.
pub fn time(input: &str) -> Result<String, Error> {
    let text = input.trim();
    let ms = parse_rfc3339_ms(text).ok_or_else(|| {
        Error::InvalidTime(format!(
            "{} is not an RFC 3339 time; give one such as 2024-09-22T08:00:00Z",
            shown(text)
        ))
    })?;
    let written = format_rfc3339_ms(ms).ok_or_else(|| {
        Error::InvalidTime(format!("{} is outside the years 0000 to 9999", shown(text)))
    })?;
    Ok(match written.strip_suffix(".000Z") {
        Some(seconds) => format!("{seconds}Z"),
        None => written,
    })
}

/// How far back the service finds a machine by IP address, in days.
pub const IP_LOOK_BACK_DAYS: i64 = 30;

const MS_PER_DAY: i64 = 86_400_000;

/// The time an `ip-machines` lookup asks about: `at`, checked against
/// `now_ms` (milliseconds since the Unix epoch, the host's clock), or now when
/// `at` is absent. A time that is not RFC 3339 is passed on for [`time`] to
/// refuse with its own reason; one in the future or more than 30 days before
/// now is refused with the reason, for the host's `invalid-time`. Every host
/// with a clock checks with this one rule.
pub fn ip_time(at: Option<&str>, now_ms: i64) -> Result<String, String> {
    let format = |ms: i64| format_rfc3339_ms(ms).unwrap_or_default();
    let Some(at) = at else {
        return Ok(format(now_ms));
    };
    let Some(ms) = parse_rfc3339_ms(at.trim()) else {
        return Ok(at.to_owned());
    };
    if ms > now_ms {
        return Err(format!(
            "{:?} is in the future (now is {}); give a time within the last {IP_LOOK_BACK_DAYS} days",
            at.trim(),
            format(now_ms)
        ));
    }
    if now_ms - ms > IP_LOOK_BACK_DAYS * MS_PER_DAY {
        return Err(format!(
            "{:?} is {} days ago; the service finds machines by IP address for the last {IP_LOOK_BACK_DAYS} days only",
            at.trim(),
            (now_ms - ms) / MS_PER_DAY
        ));
    }
    Ok(at.to_owned())
}

/// The look-back window, or why it is outside the service's 1 to 720 hours.
pub fn look_back_hours(hours: Option<u32>) -> Result<Option<u32>, Error> {
    match hours {
        Some(h) if h == 0 || h > MAX_LOOK_BACK_HOURS => Err(Error::InvalidLookBack(format!(
            "{h} hours is outside the service's window; give 1 to {MAX_LOOK_BACK_HOURS} hours (30 days)"
        ))),
        _ => Ok(hours),
    }
}

/// An input quoted for a message: at most 80 characters, escaped.
fn shown(text: &str) -> String {
    format!("{:?}", truncated(text))
}

/// Part of an input, unquoted (for "give ...: user1"), escaped as `shown`.
fn shown_raw(text: &str) -> String {
    let quoted = shown(text);
    quoted[1..quoted.len() - 1].to_owned()
}

fn shown_or(text: &str, otherwise: &str) -> String {
    let text = text.trim();
    if text.is_empty() {
        otherwise.to_owned()
    } else {
        shown_raw(text)
    }
}

fn truncated(text: &str) -> String {
    const CHARS: usize = 80;
    let mut out: String = text.chars().take(CHARS).collect();
    if text.chars().nth(CHARS).is_some() {
        out.push('…');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn why(result: Result<String, Error>) -> String {
        match result {
            Err(e) => e.to_string(),
            Ok(v) => panic!("accepted {v:?}"),
        }
    }

    #[test]
    fn a_sha1_is_lower_cased_and_other_hashes_are_named() {
        let sha1_text = "4388963AAA83AFE2042A46A3C017AD50BDCDAFB3";
        assert_eq!(sha1(sha1_text).unwrap(), sha1_text.to_ascii_lowercase());
        let md5 = why(sha1("d41d8cd98f00b204e9800998ecf8427e"));
        assert!(md5.starts_with("invalid-file-hash: "), "{md5}");
        assert!(
            md5.contains("is an MD5") && md5.contains("SHA-1 only"),
            "{md5}"
        );
        let sha256 = why(sha1(&"a".repeat(64)));
        assert!(sha256.contains("is a SHA-256") && sha256.contains("SHA-1 only"));
        assert!(why(sha1("")).contains("empty"));
        assert!(why(sha1(&"g".repeat(40))).contains("not a SHA-1"));
        assert!(why(sha1("abc")).contains("has 3 hex digits"));
    }

    #[test]
    fn a_upn_or_a_domain_account_asks_for_the_account_name() {
        assert_eq!(user_name(" user1 ").unwrap(), "user1");
        let upn = why(user_name("user1@contoso.com"));
        assert!(upn.starts_with("invalid-user-name: "), "{upn}");
        assert!(upn.contains("give the account name: user1"), "{upn}");
        assert!(why(user_name(r"CONTOSO\user1")).contains("account name alone: user1"));
        for bad in ["a/b", "a?b", "a#b", "..", ".", "a..b", "a\u{7}b", ""] {
            why(user_name(bad));
        }
        // Spaces and `%` are percent-encoded, not refused.
        assert_eq!(user_name("first last%").unwrap(), "first last%");
    }

    #[test]
    fn a_machine_id_is_one_segment() {
        let id = "1e5bc9d7e413ddd7902c2932e418702b84d0cc07";
        assert_eq!(machine_id(id).unwrap(), id);
        assert_eq!(machine_id("DESKTOP-01").unwrap(), "DESKTOP-01");
        for bad in ["", "a b", "../x", "a/b", "a?b", "a#b", "x\u{0}"] {
            let e = machine_id(bad).unwrap_err();
            assert_eq!(e.kind(), "invalid-machine-id", "{bad:?}");
        }
    }

    #[test]
    fn an_ip_is_one_address_in_canonical_form() {
        assert_eq!(ip(" 10.1.2.3 ").unwrap(), "10.1.2.3");
        assert_eq!(ip("FE80:0:0::1").unwrap(), "fe80::1");
        let zone = why(ip("fe80::1%eth0"));
        assert!(
            zone.contains("has a zone (%eth0)") && zone.contains(": fe80::1"),
            "{zone}"
        );
        let cidr = why(ip("10.0.0.0/24"));
        assert!(
            cidr.contains("CIDR /24") && cidr.contains("10.0.0.0"),
            "{cidr}"
        );
        assert!(why(ip("[::1]")).contains("brackets"));
        assert!(why(ip("contoso.com")).contains("not an IP address"));
        assert!(why(ip("")).contains("empty"));
    }

    #[test]
    fn a_time_is_rfc3339_written_in_utc() {
        assert_eq!(
            time("2024-09-22T08:44:05Z").unwrap(),
            "2024-09-22T08:44:05Z"
        );
        assert_eq!(
            time("2024-09-22T10:44:05.25+02:00").unwrap(),
            "2024-09-22T08:44:05.250Z"
        );
        for bad in [
            "yesterday",
            "2024-09-22",
            "2024-09-22 08:44:05Z",
            "2024-02-30T00:00:00Z",
        ] {
            let e = why(time(bad));
            assert!(
                e.starts_with("invalid-time: ") && e.contains("RFC 3339"),
                "{e}"
            );
        }
    }

    #[test]
    fn the_look_back_is_1_to_720_hours() {
        assert_eq!(look_back_hours(None).unwrap(), None);
        assert_eq!(look_back_hours(Some(720)).unwrap(), Some(720));
        for bad in [0, 721] {
            let e = look_back_hours(Some(bad)).unwrap_err();
            assert_eq!(e.kind(), "invalid-look-back");
            assert!(e.to_string().contains("1 to 720"), "{e}");
        }
    }
}
