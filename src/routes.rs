//! The service's routes: what each lookup asks, checked and normalised, and
//! the path (with its query) it is asked at. Every value entering a path is
//! percent-encoded here, so no input can add a segment or a query.

use crate::error::Error;
use crate::permissions::Lookup;
use crate::{domain, indicator};

/// What a machine-list lookup asks about (the WIT's `query`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Query {
    Domain(String),
    /// A SHA-1.
    File(String),
    /// An account name.
    User(String),
    /// An address and an RFC 3339 time.
    Ip {
        ip: String,
        at: String,
    },
    /// A machine id or computer name: at most one machine.
    Machine(String),
}

/// One request of a lookup: which lookup (for the roles a `403` names) and
/// the path and query to GET under the API base.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Route {
    pub lookup: Lookup,
    pub path: String,
}

impl Query {
    /// The query as it is sent, or the input's `invalid-...` error.
    pub fn normalized(&self) -> Result<Query, Error> {
        Ok(match self {
            Query::Domain(d) => Query::Domain(domain::normalize(d).map_err(Error::InvalidDomain)?),
            Query::File(hash) => Query::File(indicator::sha1(hash)?),
            Query::User(name) => Query::User(indicator::user_name(name)?),
            Query::Ip { ip, at } => Query::Ip {
                ip: indicator::ip(ip)?,
                at: indicator::time(at)?,
            },
            Query::Machine(id) => Query::Machine(indicator::machine_id(id)?),
        })
    }

    /// The lookup this query is.
    pub fn lookup(&self) -> Lookup {
        match self {
            Query::Domain(_) => Lookup::DomainMachines,
            Query::File(_) => Lookup::FileMachines,
            Query::User(_) => Lookup::UserMachines,
            Query::Ip { .. } => Lookup::IpMachines,
            Query::Machine(_) => Lookup::Machine,
        }
    }

    /// The request of a normalised query.
    pub fn route(&self) -> Route {
        let path = match self {
            Query::Domain(d) => format!("/api/domains/{}/machines", segment(d)),
            Query::File(hash) => format!("/api/files/{}/machines", segment(hash)),
            Query::User(name) => format!("/api/users/{}/machines", segment(name)),
            // As the service documents it: the address quoted, the time not.
            Query::Ip { ip, at } => format!(
                "/api/machines/findbyip(ip='{}',timestamp={})",
                segment(ip),
                segment(at)
            ),
            Query::Machine(id) => format!("/api/machines/{}", segment(id)),
        };
        Route {
            lookup: self.lookup(),
            path,
        }
    }

    /// For log records: `file 4388963a...`, `ip 10.1.2.3 at 2024-...`.
    pub fn describe(&self) -> String {
        match self {
            Query::Domain(d) => d.clone(),
            Query::File(hash) => format!("file {hash}"),
            Query::User(name) => format!("user {name}"),
            Query::Ip { ip, at } => format!("ip {ip} at {at}"),
            Query::Machine(id) => format!("machine {id}"),
        }
    }
}

/// `GET /api/domains/{domain}/stats[?lookBackHours=N]`; `domain` normalised.
pub fn domain_stats(domain: &str, look_back_hours: Option<u32>) -> Route {
    Route {
        lookup: Lookup::DomainStats,
        path: stats("domains", domain, look_back_hours),
    }
}

/// `GET /api/ips/{ip}/stats[?lookBackHours=N]`; `ip` normalised.
pub fn ip_stats(ip: &str, look_back_hours: Option<u32>) -> Route {
    Route {
        lookup: Lookup::IpStats,
        path: stats("ips", ip, look_back_hours),
    }
}

fn stats(collection: &str, value: &str, look_back_hours: Option<u32>) -> String {
    let mut path = format!("/api/{collection}/{}/stats", segment(value));
    if let Some(hours) = look_back_hours {
        path.push_str(&format!("?lookBackHours={hours}"));
    }
    path
}

/// `value` as one path segment: every byte but the unreserved ones
/// (RFC 3986: letters, digits, `- . _ ~`) and `:` (an IPv6 address, a time)
/// percent-encoded. (`.` and `..` are refused by the checks.)
pub fn segment(value: &str) -> String {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    let mut out = String::with_capacity(value.len());
    for b in value.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~' | b':') {
            out.push(b as char);
        } else {
            out.push('%');
            out.push(HEX[usize::from(b >> 4)] as char);
            out.push(HEX[usize::from(b & 15)] as char);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn path(query: Query) -> String {
        query.normalized().unwrap().route().path
    }

    #[test]
    fn each_route_is_the_services_path() {
        assert_eq!(
            path(Query::File(
                "4388963AAA83AFE2042A46A3C017AD50BDCDAFB3".into()
            )),
            "/api/files/4388963aaa83afe2042a46a3c017ad50bdcdafb3/machines"
        );
        assert_eq!(
            path(Query::User("first last%".into())),
            "/api/users/first%20last%25/machines"
        );
        assert_eq!(
            path(Query::Ip {
                ip: "10.248.240.38".into(),
                at: "2019-09-22T08:44:05Z".into()
            }),
            "/api/machines/findbyip(ip='10.248.240.38',timestamp=2019-09-22T08:44:05Z)"
        );
        assert_eq!(
            path(Query::Ip {
                ip: "FD00:0::1".into(),
                at: "2019-09-22T10:44:05+02:00".into()
            }),
            "/api/machines/findbyip(ip='fd00::1',timestamp=2019-09-22T08:44:05Z)"
        );
        assert_eq!(
            path(Query::Machine("DESKTOP-01".into())),
            "/api/machines/DESKTOP-01"
        );
        assert_eq!(
            domain_stats("contoso.com", Some(48)).path,
            "/api/domains/contoso.com/stats?lookBackHours=48"
        );
        assert_eq!(ip_stats("fd00::1", None).path, "/api/ips/fd00::1/stats");
    }
}
