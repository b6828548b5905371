//! What the enrichment service is asked: one of the connector's lookups and
//! its input, as the proxy's routes read them from a request. One definition
//! for the proxy component, `serve` and the cache's keys.

use mde_connector::permissions::Lookup;
use std::net::IpAddr;

/// The service's default look-back for prevalence, in hours (30 days), and
/// the most it takes.
pub const MAX_LOOK_BACK_HOURS: u16 = 720;

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
        look_back_hours: Option<u16>,
    },
    /// `GET /ips/{ip}/stats?lookBackHours=N`
    IpStats {
        ip: String,
        look_back_hours: Option<u16>,
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

    /// The lookup's name and its input as the connector would send it, so
    /// that spellings of one question share a cache entry: `None` when the
    /// input is one the connector refuses (nothing is sent, and its error is
    /// never kept), or when the answer depends on a time the host fills in
    /// (`ip-machines` without `at`).
    pub fn normalized(&self) -> Option<String> {
        let input = match self {
            Query::DomainMachines { domain } => mde_connector::domain::normalize(domain).ok()?,
            Query::DomainStats {
                domain,
                look_back_hours,
            } => format!(
                "{} {}",
                mde_connector::domain::normalize(domain).ok()?,
                hours(*look_back_hours)?
            ),
            Query::FileMachines { sha1 } => hex40(sha1)?,
            // Account names and computer names are compared as given: the
            // service decides what matches.
            Query::UserMachines { name } => plain(name)?.to_owned(),
            Query::Machine { id } => hex40(id).or_else(|| plain(id).map(str::to_owned))?,
            Query::IpMachines { ip, at } => format!("{} {}", address(ip)?, plain(at.as_deref()?)?),
            Query::IpStats {
                ip,
                look_back_hours,
            } => format!("{} {}", address(ip)?, hours(*look_back_hours)?),
        };
        Some(format!("{} {input}", self.lookup().name()))
    }
}

/// 40 hex digits, lower-case.
fn hex40(text: &str) -> Option<String> {
    let text = text.trim();
    (text.len() == 40 && text.bytes().all(|b| b.is_ascii_hexdigit()))
        .then(|| text.to_ascii_lowercase())
}

/// A value with nothing the connector refuses in a path segment, trimmed.
fn plain(text: &str) -> Option<&str> {
    let text = text.trim();
    let refused = text.is_empty()
        || text.contains(['/', '?', '#', '%', ' '])
        || text.contains("..")
        || text.chars().any(char::is_control);
    (!refused).then_some(text)
}

/// An IP address in its canonical text (`::0001` and `::1` are one).
fn address(text: &str) -> Option<String> {
    text.trim().parse::<IpAddr>().ok().map(|ip| ip.to_string())
}

fn hours(look_back_hours: Option<u16>) -> Option<u16> {
    let hours = look_back_hours.unwrap_or(MAX_LOOK_BACK_HOURS);
    (1..=MAX_LOOK_BACK_HOURS).contains(&hours).then_some(hours)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(query: Query) -> Option<String> {
        query.normalized()
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
            Some(format!("file-machines {}", "a".repeat(40)).as_str())
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
            Query::UserMachines {
                name: "a%2F".into(),
            },
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
            Some("ip-machines 10.0.0.1 2026-12-01T10:00:00Z")
        );
    }
}
