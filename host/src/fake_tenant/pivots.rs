//! The fake tenant's other routes (issue 25): machines by file, user and IP
//! address, one machine, and the prevalence of a domain or an IP address,
//! shaped as the API reference's examples are.

use super::{FakeTenant, api_error, is_domain_name, json_response};
use crate::bindings::Response;
use mde_connector::permissions::Lookup;
use serde_json::{Map, Value, json};
use std::net::IpAddr;
use std::time::{SystemTime, UNIX_EPOCH};

/// The file whose machines the tenant knows (a SHA-1): contoso's first two.
pub const KNOWN_FILE: &str = "0991a395da64e1c5fbe8732ed11e6be064081d9f";
/// The account whose machines the tenant knows: contoso's first.
pub const KNOWN_USER: &str = "user1";
/// An address with a prevalence (and contoso's first machine).
pub const KNOWN_IP: &str = "10.20.31.7";

const CONTEXT: &str = "https://api.security.microsoft.com/api/$metadata";

/// Whether the fake answers this path (after `/api`).
pub(super) fn is_route(segments: &[&str]) -> bool {
    matches!(
        segments,
        ["api", "files", _, "machines"]
            | ["api", "users", _, "machines"]
            | ["api", "machines", _]
            | ["api", "domains", _, "stats"]
            | ["api", "ips", _, "stats"]
    )
}

/// The lookup an [`is_route`] path is, for the roles it needs.
pub(super) fn lookup_of(segments: &[&str]) -> Lookup {
    match segments {
        ["api", "files", ..] => Lookup::FileMachines,
        ["api", "users", ..] => Lookup::UserMachines,
        ["api", "machines", find] if find.starts_with("findbyip(") => Lookup::IpMachines,
        ["api", "domains", ..] => Lookup::DomainStats,
        ["api", "ips", ..] => Lookup::IpStats,
        _ => Lookup::Machine,
    }
}

impl FakeTenant {
    /// One of [`is_route`]'s routes, for an admitted call.
    pub(super) fn pivot(&mut self, segments: &[&str], query: &str) -> Response {
        let value = |i: usize| percent_decode(segments[i]);
        match segments {
            ["api", "files", _, "machines"] => self.file_machines(&value(2)),
            ["api", "users", _, "machines"] => self.user_machines(&value(2)),
            ["api", "machines", find] if find.starts_with("findbyip(") => {
                self.find_by_ip(&percent_decode(find))
            }
            ["api", "machines", _] => self.one_machine(&value(2)),
            ["api", "domains", _, "stats"] => match look_back(query) {
                Ok(_) => domain_stats(&value(2)),
                Err(refused) => refused,
            },
            ["api", "ips", _, "stats"] => match look_back(query) {
                Ok(_) => ip_stats(&value(2)),
                Err(refused) => refused,
            },
            _ => api_error(404, "ResourceNotFound", "No such route"),
        }
    }

    fn all_machines(&self) -> impl Iterator<Item = &Value> {
        self.machines.values().flatten()
    }

    fn file_machines(&self, sha1: &str) -> Response {
        if sha1.len() != 40 || !sha1.bytes().all(|b| b.is_ascii_hexdigit()) {
            return api_error(400, "InvalidRequestBody", &format!("Invalid SHA1: {sha1}"));
        }
        let found = if sha1.eq_ignore_ascii_case(KNOWN_FILE) {
            self.machines["contoso.com"][..2].to_vec()
        } else {
            Vec::new()
        };
        collection(found)
    }

    fn user_machines(&self, name: &str) -> Response {
        let found = if name.eq_ignore_ascii_case(KNOWN_USER) {
            self.machines["contoso.com"][..1].to_vec()
        } else {
            Vec::new()
        };
        collection(found)
    }

    /// `findbyip(ip='{ip}',timestamp={time})`: the machines that have the
    /// address (whatever the time), for a time within the last 30 days.
    fn find_by_ip(&self, call: &str) -> Response {
        let parsed = call
            .strip_prefix("findbyip(ip='")
            .and_then(|rest| rest.strip_suffix(')'))
            .and_then(|rest| rest.split_once("',timestamp="));
        let Some((ip, timestamp)) = parsed else {
            return api_error(400, "InvalidRequestBody", &format!("Invalid call: {call}"));
        };
        let Ok(address) = ip.parse::<IpAddr>() else {
            return api_error(
                400,
                "InvalidIpAddress",
                &format!("Invalid IP address: {ip}"),
            );
        };
        let Some(at) = mde_connector::events::parse_rfc3339_ms(timestamp) else {
            return api_error(
                400,
                "InvalidRequestBody",
                &format!("Invalid timestamp: {timestamp}"),
            );
        };
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_millis() as i64);
        if now - at > 30 * 86_400_000 {
            return api_error(
                400,
                "InvalidRequestBody",
                "Timestamp must be within the last 30 days",
            );
        }
        let found = self
            .all_machines()
            .filter(|m| has_address(m, address))
            .cloned()
            .collect();
        collection(found)
    }

    /// By machine id or computer name (either without case); 404 otherwise.
    fn one_machine(&self, id: &str) -> Response {
        let same = |field: &str, m: &Value| {
            m[field]
                .as_str()
                .is_some_and(|v| v.eq_ignore_ascii_case(id))
        };
        let found = self
            .all_machines()
            .find(|m| same("id", m) || same("computerDnsName", m));
        match found {
            Some(machine) => {
                let mut entity = Map::new();
                entity.insert(
                    "@odata.context".into(),
                    format!("{CONTEXT}#Machines/$entity").into(),
                );
                entity.extend(machine.as_object().cloned().unwrap_or_default());
                json_response(200, &Value::Object(entity))
            }
            None => api_error(
                404,
                "ResourceNotFound",
                &format!("Machine {id} was not found"),
            ),
        }
    }
}

fn collection(value: Vec<Value>) -> Response {
    json_response(
        200,
        &json!({"@odata.context": format!("{CONTEXT}#Machines"), "value": value}),
    )
}

fn has_address(machine: &Value, address: IpAddr) -> bool {
    let is = |v: &Value| {
        v.as_str()
            .and_then(|s| s.parse::<IpAddr>().ok())
            .is_some_and(|a| a == address)
    };
    is(&machine["lastIpAddress"])
        || machine["ipAddresses"]
            .as_array()
            .is_some_and(|list| list.iter().any(|entry| is(&entry["ipAddress"])))
}

/// `lookBackHours=N`, 1 to 720, or the service's 400.
fn look_back(query: &str) -> Result<Option<u32>, Response> {
    let Some(text) = query
        .split('&')
        .find_map(|pair| pair.strip_prefix("lookBackHours="))
    else {
        return Ok(None);
    };
    match text.parse::<u32>() {
        Ok(hours) if (1..=720).contains(&hours) => Ok(Some(hours)),
        _ => Err(api_error(
            400,
            "InvalidParameterValue",
            &format!("lookBackHours must be between 1 and 720, got {text}"),
        )),
    }
}

/// The reference's example for a known domain (its prevalence named
/// `orgPrevalence`, as a string); an unknown one was never seen.
fn domain_stats(domain: &str) -> Response {
    if !is_domain_name(domain) {
        return api_error(
            400,
            "InvalidDomainName",
            &format!("Domain name {domain} is invalid"),
        );
    }
    let context = format!("{CONTEXT}#microsoft.windowsDefenderATP.api.InOrgDomainStats");
    let body = if domain == "contoso.com" {
        json!({"@odata.context": context, "host": domain, "orgPrevalence": "4070",
               "orgFirstSeen": "2017-07-30T13:23:48Z", "orgLastSeen": "2017-08-29T13:09:05Z"})
    } else {
        json!({"@odata.context": context, "host": domain, "orgPrevalence": "0",
               "orgFirstSeen": null, "orgLastSeen": null})
    };
    json_response(200, &body)
}

/// The reference's example for a known address (its prevalence named
/// `organizationPrevalence`, as a number); an invalid address is a 400.
fn ip_stats(ip: &str) -> Response {
    if ip.parse::<IpAddr>().is_err() {
        return api_error(
            400,
            "InvalidIpAddress",
            &format!("Invalid IP address: {ip}"),
        );
    }
    let context = format!("{CONTEXT}#microsoft.windowsDefenderATP.api.InOrgIPStats");
    let body = if ip == KNOWN_IP {
        json!({"@odata.context": context, "ipAddress": ip, "organizationPrevalence": 63515,
               "orgFirstSeen": "2019-04-26T01:22:36Z", "orgLastSeen": "2019-09-12T11:30:32Z"})
    } else {
        json!({"@odata.context": context, "ipAddress": ip, "organizationPrevalence": 0,
               "orgFirstSeen": null, "orgLastSeen": null})
    };
    json_response(200, &body)
}

/// `%XX` decoded; anything else as it is.
fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| (b as char).to_digit(16);
        match (bytes[i], bytes.get(i + 1), bytes.get(i + 2)) {
            (b'%', Some(&h), Some(&l)) if hex(h).is_some() && hex(l).is_some() => {
                out.push((hex(h).unwrap_or(0) * 16 + hex(l).unwrap_or(0)) as u8);
                i += 3;
            }
            (b, _, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}
