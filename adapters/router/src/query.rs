//! What the enrichment service is asked: one of the connector's lookups and
//! its input, as the proxy's routes read them from a request. One definition
//! for the proxy component, `serve` and the cache's keys.

use mde_connector::Error;
use mde_connector::permissions::Lookup;
use mde_connector::routes;
use mde_connector::{domain, indicator};

/// A lookup and its input, percent-decoded once, as the caller wrote it: the
/// connector validates it (and refuses it with its own `invalid-...` error).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Query {
    /// `GET /domains/{domain}/machines`
    DomainMachines { domain: String },
    /// `GET /files/{sha1}/machines`
    FileMachines { sha1: String },
    /// `GET /users/{name}/machines`
    UserMachines { name: String },
    /// `GET /ips/{ip}/machines?at=TIME`; `at` none: now, as the host reads it.
    IpMachines { ip: String, at: Option<String> },
    /// `GET /machines/{id}`
    Machine { id: String },
    /// `GET /domains/{domain}/stats?lookBackHours=N`; none: the service's default.
    DomainStats {
        domain: String,
        look_back_hours: Option<u32>,
    },
    /// `GET /ips/{ip}/stats?lookBackHours=N`
    IpStats {
        ip: String,
        look_back_hours: Option<u32>,
    },
}

impl Query {
    /// Which of the connector's lookups this is.
    pub fn lookup(&self) -> Lookup {
        match self {
            Query::DomainMachines { .. } => Lookup::DomainMachines,
            Query::FileMachines { .. } => Lookup::FileMachines,
            Query::UserMachines { .. } => Lookup::UserMachines,
            Query::IpMachines { .. } => Lookup::IpMachines,
            Query::Machine { .. } => Lookup::Machine,
            Query::DomainStats { .. } => Lookup::DomainStats,
            Query::IpStats { .. } => Lookup::IpStats,
        }
    }

    /// The value from the path, as decoded.
    pub fn input(&self) -> &str {
        match self {
            Query::DomainMachines { domain } | Query::DomainStats { domain, .. } => domain,
            Query::FileMachines { sha1 } => sha1,
            Query::UserMachines { name } => name,
            Query::IpMachines { ip, .. } | Query::IpStats { ip, .. } => ip,
            Query::Machine { id } => id,
        }
    }

    /// Whether the answer is a list of machines (every format), rather than
    /// one machine or a prevalence record.
    pub fn lists_machines(&self) -> bool {
        matches!(
            self.lookup(),
            Lookup::DomainMachines
                | Lookup::FileMachines
                | Lookup::UserMachines
                | Lookup::IpMachines
        )
    }

    /// The lookup's name and its input as the connector normalises it
    /// (the core's own checks), so that spellings of one question share a
    /// cache entry: `None` when the input is one the connector refuses
    /// (nothing is sent, and its error is never kept), or when the answer
    /// depends on a time the host fills in (`ip-machines` without `at`).
    pub fn normalized(&self) -> Option<String> {
        let input = match self {
            Query::DomainStats {
                domain,
                look_back_hours,
            } => format!(
                "{} {}",
                domain::normalize(domain).ok()?,
                hours(*look_back_hours)?
            ),
            Query::IpStats {
                ip,
                look_back_hours,
            } => format!("{} {}", indicator::ip(ip).ok()?, hours(*look_back_hours)?),
            list => list.machines_query()?.normalized().ok()?.describe(),
        };
        Some(format!("{} {input}", self.lookup().name()))
    }

    /// The core's query for a machine list (`None` for a prevalence, and for
    /// `ip-machines` until the host has filled in its time).
    pub fn machines_query(&self) -> Option<routes::Query> {
        Some(match self {
            Query::DomainMachines { domain } => routes::Query::Domain(domain.clone()),
            Query::FileMachines { sha1 } => routes::Query::File(sha1.clone()),
            Query::UserMachines { name } => routes::Query::User(name.clone()),
            Query::IpMachines { ip, at } => routes::Query::Ip {
                ip: ip.clone(),
                at: at.clone()?,
            },
            Query::Machine { id } => routes::Query::Machine(id.clone()),
            Query::DomainStats { .. } | Query::IpStats { .. } => return None,
        })
    }
}

impl From<routes::Query> for Query {
    fn from(query: routes::Query) -> Self {
        match query {
            routes::Query::Domain(domain) => Query::DomainMachines { domain },
            routes::Query::File(sha1) => Query::FileMachines { sha1 },
            routes::Query::User(name) => Query::UserMachines { name },
            routes::Query::Ip { ip, at } => Query::IpMachines { ip, at: Some(at) },
            routes::Query::Machine(id) => Query::Machine { id },
        }
    }
}

pub use mde_connector::indicator::IP_LOOK_BACK_DAYS;

/// The time an `ip-machines` lookup asks about, by the core's one rule (now
/// when absent, never in the future, within the service's 30 days), for the
/// wasm32 routers and `serve` alike.
pub fn ip_time(at: Option<&str>, now_ms: i64) -> Result<String, Error> {
    mde_connector::indicator::ip_time(at, now_ms).map_err(Error::InvalidTime)
}

impl Query {
    /// The same query with its time when it is an `ip-machines` one: as
    /// given, checked by [`ip_time`], or now. The time is part of the
    /// question, and so of its cache key.
    pub fn with_time(&self, now_ms: i64) -> Result<Query, Error> {
        let Query::IpMachines { ip, at } = self else {
            return Ok(self.clone());
        };
        Ok(Query::IpMachines {
            ip: ip.clone(),
            at: Some(ip_time(at.as_deref(), now_ms)?),
        })
    }
}

/// The window as the service is asked it (its default, 720, when none).
fn hours(look_back_hours: Option<u32>) -> Option<u32> {
    let hours = indicator::look_back_hours(look_back_hours).ok()?;
    Some(hours.unwrap_or(indicator::MAX_LOOK_BACK_HOURS))
}

#[cfg(test)]
mod tests {
    use super::*;
    use mde_connector::events::parse_rfc3339_ms;

    fn key(query: Query) -> Option<String> {
        query.normalized()
    }

    #[test]
    fn an_ip_lookups_time_is_now_or_checked_by_the_hosts_clock() {
        let now = parse_rfc3339_ms("2026-12-04T12:00:00Z").unwrap();
        let ip = |at: Option<&str>| Query::IpMachines {
            ip: "10.0.0.1".into(),
            at: at.map(str::to_owned),
        };
        let at = |q: Query| match q {
            Query::IpMachines { at, .. } => at,
            _ => None,
        };
        assert_eq!(
            at(ip(None).with_time(now).unwrap()).as_deref(),
            Some("2026-12-04T12:00:00.000Z")
        );
        let earlier = Some("2026-12-01T00:00:00Z");
        assert_eq!(at(ip(earlier).with_time(now).unwrap()).as_deref(), earlier);
        // Not RFC 3339: the component's to refuse, with its own reason.
        assert_eq!(
            at(ip(Some("yesterday")).with_time(now).unwrap()).as_deref(),
            Some("yesterday")
        );
        let future = ip(Some("2026-12-04T12:00:01Z")).with_time(now).unwrap_err();
        assert!(future.to_string().contains("is in the future"), "{future}");
        let old = ip(Some("2026-11-01T00:00:00Z")).with_time(now).unwrap_err();
        assert!(
            old.to_string().contains("for the last 30 days only"),
            "{old}"
        );
        let other = Query::Machine { id: "h1".into() };
        assert_eq!(other.with_time(now).unwrap(), other);
    }

    #[test]
    fn each_query_names_its_lookup_and_input() {
        let ip = Query::IpMachines {
            ip: "10.0.0.1".into(),
            at: None,
        };
        assert_eq!(ip.lookup().name(), "ip-machines");
        assert_eq!(ip.input(), "10.0.0.1");
        assert!(ip.lists_machines());
        let machine = Query::Machine { id: "h1".into() };
        assert_eq!(machine.lookup().name(), "machine");
        assert!(!machine.lists_machines());
    }

    #[test]
    fn spellings_of_one_question_share_a_key() {
        let sha1 = "A".repeat(40);
        assert_eq!(
            key(Query::FileMachines { sha1: sha1.clone() }),
            key(Query::FileMachines {
                sha1: format!(" {} ", sha1.to_lowercase())
            })
        );
        assert_eq!(
            key(Query::FileMachines { sha1 }).as_deref(),
            Some(format!("file-machines file {}", "a".repeat(40)).as_str())
        );
        let stats = |ip: &str, hours| Query::IpStats {
            ip: ip.into(),
            look_back_hours: hours,
        };
        assert_eq!(key(stats("::0001", None)), key(stats("::1", Some(720))));
        assert_eq!(key(stats("::1", None)).as_deref(), Some("ip-stats ::1 720"));
        assert_ne!(key(stats("::1", None)), key(stats("::1", Some(24))));
        let domain = |d: &str| Query::DomainStats {
            domain: d.into(),
            look_back_hours: None,
        };
        assert_eq!(key(domain("CONTOSO.com.")), key(domain("contoso.com")));
        // The same input under two lookups is two questions.
        assert_ne!(
            key(domain("contoso.com")),
            key(Query::DomainMachines {
                domain: "contoso.com".into()
            })
        );
        assert_ne!(
            key(Query::UserMachines {
                name: "user1".into()
            }),
            key(Query::Machine { id: "user1".into() })
        );
    }

    #[test]
    fn refused_inputs_and_times_left_to_the_host_have_no_key() {
        for query in [
            Query::FileMachines {
                sha1: "a".repeat(32),
            },
            Query::UserMachines { name: "a/b".into() },
            Query::UserMachines { name: "..".into() },
            Query::Machine { id: "a?b".into() },
            Query::Machine {
                id: "a\u{7}".into(),
            },
            Query::IpStats {
                ip: "10.0.0.0/8".into(),
                look_back_hours: None,
            },
            Query::IpStats {
                ip: "10.0.0.1".into(),
                look_back_hours: Some(721),
            },
            Query::IpMachines {
                ip: "10.0.0.1".into(),
                at: None,
            },
            Query::DomainMachines {
                domain: "a..b".into(),
            },
        ] {
            assert_eq!(key(query.clone()), None, "{query:?}");
        }
        assert_eq!(
            key(Query::IpMachines {
                ip: "10.0.0.1".into(),
                at: Some("2026-12-01T10:00:00Z".into())
            })
            .as_deref(),
            Some("ip-machines ip 10.0.0.1 at 2026-12-01T10:00:00Z")
        );
    }
}
