//! How common a domain or an IP address is in the organisation: the answers
//! of `GET /api/domains/{domain}/stats` and `GET /api/ips/{ip}/stats`, read
//! leniently as machines are (unknown members kept as sent).

use crate::lenient::{Field, Kind, Read, Reading, Record, Typed, index_of, serialize_record};
use crate::machine::{reader, record};
use serde::de::Deserializer;
use serde::ser::SerializeMap;
use serde::{Serialize, Serializer};

record! {
    /// The domain answer as sent.
    pub struct DomainStatsAnswer {
        host: Option<String> = "host",
        organization_prevalence: Option<i64> = "organizationPrevalence",
        org_prevalence: Option<i64> = "orgPrevalence",
        org_first_seen: Option<String> = "orgFirstSeen",
        org_last_seen: Option<String> = "orgLastSeen",
    }
    required: []
}

record! {
    /// The IP answer as sent.
    pub struct IpStatsAnswer {
        ip_address: Option<String> = "ipAddress",
        organization_prevalence: Option<i64> = "organizationPrevalence",
        org_prevalence: Option<i64> = "orgPrevalence",
        org_first_seen: Option<String> = "orgFirstSeen",
        org_last_seen: Option<String> = "orgLastSeen",
    }
    required: []
}

/// The WIT's `domain-prevalence`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DomainPrevalence {
    /// The domain as queried (normalised).
    pub domain: String,
    pub look_back_hours: Option<u32>,
    pub host: Option<String>,
    /// `organizationPrevalence`, or `orgPrevalence` when only that was sent.
    pub organization_prevalence: Option<i64>,
    pub org_first_seen: Option<String>,
    pub org_last_seen: Option<String>,
    pub unmodelled: Option<String>,
}

/// The WIT's `ip-prevalence`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IpPrevalence {
    /// The address as queried (canonical).
    pub ip: String,
    pub look_back_hours: Option<u32>,
    pub ip_address: Option<String>,
    pub organization_prevalence: Option<i64>,
    pub org_first_seen: Option<String>,
    pub org_last_seen: Option<String>,
    pub unmodelled: Option<String>,
}

impl DomainPrevalence {
    pub fn of(domain: String, look_back_hours: Option<u32>, sent: DomainStatsAnswer) -> Self {
        let (organization_prevalence, unmodelled) = one_prevalence(
            sent.organization_prevalence,
            sent.org_prevalence,
            sent.unmodelled,
        );
        DomainPrevalence {
            domain,
            look_back_hours,
            host: sent.host,
            organization_prevalence,
            org_first_seen: sent.org_first_seen,
            org_last_seen: sent.org_last_seen,
            unmodelled,
        }
    }
}

impl IpPrevalence {
    pub fn of(ip: String, look_back_hours: Option<u32>, sent: IpStatsAnswer) -> Self {
        let (organization_prevalence, unmodelled) = one_prevalence(
            sent.organization_prevalence,
            sent.org_prevalence,
            sent.unmodelled,
        );
        IpPrevalence {
            ip,
            look_back_hours,
            ip_address: sent.ip_address,
            organization_prevalence,
            org_first_seen: sent.org_first_seen,
            org_last_seen: sent.org_last_seen,
            unmodelled,
        }
    }
}

impl DomainPrevalence {
    /// The answer as one JSON object for output: the query
    /// (`queriedDomain`, `lookBackHours` when given), then the service's
    /// members under its names (the prevalence as `organizationPrevalence`,
    /// whichever name it came under), absent ones as `null`, and what it
    /// sent besides as sent.
    pub fn to_json(&self) -> String {
        written(
            [
                ("queriedDomain", Some(Json::Text(Some(&self.domain)))),
                (
                    "lookBackHours",
                    self.look_back_hours.map(|h| Json::Number(Some(h.into()))),
                ),
                ("host", Some(Json::Text(self.host.as_deref()))),
            ],
            self.organization_prevalence,
            [&self.org_first_seen, &self.org_last_seen],
            self.unmodelled.as_deref(),
        )
    }
}

impl IpPrevalence {
    /// As [`DomainPrevalence::to_json`], the query as `queriedIp`.
    pub fn to_json(&self) -> String {
        written(
            [
                ("queriedIp", Some(Json::Text(Some(&self.ip)))),
                (
                    "lookBackHours",
                    self.look_back_hours.map(|h| Json::Number(Some(h.into()))),
                ),
                ("ipAddress", Some(Json::Text(self.ip_address.as_deref()))),
            ],
            self.organization_prevalence,
            [&self.org_first_seen, &self.org_last_seen],
            self.unmodelled.as_deref(),
        )
    }
}

/// A member's value: a string or a number, or `null`.
enum Json<'a> {
    Text(Option<&'a str>),
    Number(Option<i64>),
}

/// The members in order (`None` left out), then those of `unmodelled` (a
/// JSON object text the reader wrote), which replace a modelled member of
/// the same name: one whose value could not be used is written as sent.
fn written(
    head: [(&str, Option<Json>); 3],
    prevalence: Option<i64>,
    [first, last]: [&Option<String>; 2],
    unmodelled: Option<&str>,
) -> String {
    let sent: Vec<String> = unmodelled
        .and_then(|u| {
            serde_json::from_str::<std::collections::BTreeMap<String, serde::de::IgnoredAny>>(u)
                .ok()
        })
        .map(|m| m.into_keys().collect())
        .unwrap_or_default();
    let members = head.into_iter().chain([
        ("organizationPrevalence", Some(Json::Number(prevalence))),
        ("orgFirstSeen", Some(Json::Text(first.as_deref()))),
        ("orgLastSeen", Some(Json::Text(last.as_deref()))),
    ]);
    let quoted = |text: &str| serde_json::to_string(text).unwrap_or_default();
    let mut out = String::from("{");
    for (name, value) in members {
        let Some(value) = value else { continue };
        if sent.iter().any(|s| s == name) {
            continue;
        }
        if out.len() > 1 {
            out.push(',');
        }
        out.push_str(&quoted(name));
        out.push(':');
        match value {
            Json::Text(Some(text)) => out.push_str(&quoted(text)),
            Json::Number(Some(n)) => out.push_str(&n.to_string()),
            Json::Text(None) | Json::Number(None) => out.push_str("null"),
        }
    }
    let extra = unmodelled
        .and_then(|u| u.strip_prefix('{'))
        .and_then(|u| u.strip_suffix('}'))
        .filter(|u| !u.trim().is_empty());
    if let Some(extra) = extra {
        if out.len() > 1 {
            out.push(',');
        }
        out.push_str(extra);
    }
    out.push('}');
    out
}

/// The prevalence under either name; when both were sent, `orgPrevalence`
/// is kept in `unmodelled`, so nothing sent is lost.
fn one_prevalence(
    organization: Option<i64>,
    org: Option<i64>,
    unmodelled: Option<String>,
) -> (Option<i64>, Option<String>) {
    match (organization, org) {
        (Some(kept), Some(other)) => {
            let member = format!("\"orgPrevalence\":{other}");
            let unmodelled = match unmodelled.as_deref().and_then(|u| u.strip_suffix('}')) {
                Some(head) if head.len() > 1 => format!("{head},{member}}}"),
                _ => format!("{{{member}}}"),
            };
            (Some(kept), Some(unmodelled))
        }
        (kept, other) => (kept.or(other), unmodelled),
    }
}

/// `From` impls both ways between a binding of the WIT's two prevalence
/// records and the core's, which write the JSON every host prints
/// (`to_json`): one list of fields for every binding (the component's
/// wit-bindgen, the host's `bindgen!`, the router's wit-bindgen), as
/// [`crate::error_from_wit`] does for errors. `$types` is the path of the
/// binding's `types` module, owned by the invoking crate.
#[macro_export]
macro_rules! prevalence_conversions {
    ($types:path) => {
        $crate::prevalence_conversions!(@one $types, DomainPrevalence, domain, host);
        $crate::prevalence_conversions!(@one $types, IpPrevalence, ip, ip_address);
    };
    // The same fields moved from one record to the other.
    (@move $from:ident, $source:path, $target:path, $($field:ident),+) => {{
        let $source {
            $($field,)+
            look_back_hours,
            organization_prevalence,
            org_first_seen,
            org_last_seen,
            unmodelled,
        } = $from;
        $target {
            $($field,)+
            look_back_hours,
            organization_prevalence,
            org_first_seen,
            org_last_seen,
            unmodelled,
        }
    }};
    (@one $types:path, $record:ident, $($field:ident),+) => {
        const _: () = {
            use $types as wit;

            impl From<wit::$record> for $crate::prevalence::$record {
                fn from(p: wit::$record) -> Self {
                    $crate::prevalence_conversions!(@move p, wit::$record, $crate::prevalence::$record, $($field),+)
                }
            }

            impl From<$crate::prevalence::$record> for wit::$record {
                fn from(p: $crate::prevalence::$record) -> Self {
                    $crate::prevalence_conversions!(@move p, $crate::prevalence::$record, wit::$record, $($field),+)
                }
            }
        };
    };
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::http::Response;
    use crate::response::record as read;
    use crate::secrets::Secrets;

    fn domain(body: &str) -> DomainPrevalence {
        let answer = Response {
            status: 200,
            headers: Vec::new(),
            body: body.as_bytes().to_vec(),
        };
        let (sent, _) = read::<DomainStatsAnswer>(&answer, &Secrets::default()).unwrap();
        DomainPrevalence::of("contoso.com".into(), None, sent)
    }

    #[test]
    fn either_name_of_the_prevalence_is_read_and_nothing_is_lost() {
        let doc = r#"{"@odata.context":"x","host":"example.com","orgPrevalence":"4070","orgFirstSeen":"2017-07-30T13:23:48Z","orgLastSeen":null}"#;
        let p = domain(doc);
        assert_eq!(p.organization_prevalence, Some(4070));
        assert_eq!(p.host.as_deref(), Some("example.com"));
        assert_eq!(p.org_last_seen, None);
        assert_eq!(p.unmodelled.as_deref(), Some(r#"{"@odata.context":"x"}"#));
        let both = domain(r#"{"organizationPrevalence":3,"orgPrevalence":4}"#);
        assert_eq!(both.organization_prevalence, Some(3));
        assert_eq!(both.unmodelled.as_deref(), Some(r#"{"orgPrevalence":4}"#));
        let odd = domain(r#"{"organizationPrevalence":"many","newField":[1]}"#);
        assert_eq!(odd.organization_prevalence, None);
        let kept: serde_json::Value =
            serde_json::from_str(odd.unmodelled.as_deref().unwrap()).unwrap();
        assert_eq!(kept["organizationPrevalence"], "many");
        assert_eq!(kept["newField"][0], 1);
    }

    #[test]
    fn the_json_holds_the_query_the_answer_and_what_else_was_sent() {
        let mut p = domain(
            r#"{"@odata.context":"x","host":"contoso.com","orgPrevalence":"7","orgFirstSeen":null}"#,
        );
        assert_eq!(
            p.to_json(),
            r#"{"queriedDomain":"contoso.com","host":"contoso.com","organizationPrevalence":7,"orgFirstSeen":null,"orgLastSeen":null,"@odata.context":"x"}"#
        );
        p.look_back_hours = Some(48);
        p.unmodelled = None;
        let json: serde_json::Value = serde_json::from_str(&p.to_json()).unwrap();
        assert_eq!(json["lookBackHours"], 48);
        // A value that could not be used is written once, as sent.
        let odd = domain(r#"{"host":5,"organizationPrevalence":"many"}"#).to_json();
        assert_eq!(
            odd,
            r#"{"queriedDomain":"contoso.com","orgFirstSeen":null,"orgLastSeen":null,"host":5,"organizationPrevalence":"many"}"#
        );
    }
}
