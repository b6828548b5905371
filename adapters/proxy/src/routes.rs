//! Which lookup a request asks for: its path, method and query checked, and
//! the value in its path percent-decoded once. Shared with `serve`.

use crate::{Redact, Reply, problem};
use mde_connector::permissions::Lookup;
use mde_router::Format;
use mde_router::query::Query;

/// What a request asks for, once its path, method and query are checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Route {
    Healthz,
    /// A lookup (its input percent-decoded, as the caller wrote it), printed
    /// in `format` (always JSON for a prevalence).
    Lookup {
        query: Query,
        format: Format,
    },
}

/// The routes, for a `404`'s detail.
pub const ROUTES: &str = "/domains/{domain}/machines, /files/{sha1}/machines, \
/users/{name}/machines, /ips/{ip}/machines?at=TIME, /machines/{id}, \
/domains/{domain}/stats, /ips/{ip}/stats";

/// The lookup a path names, by its shape `/{collection}/{value}[/{tail}]`.
fn kind_of(collection: &str, tail: Option<&str>) -> Option<Lookup> {
    Some(match (collection, tail) {
        ("domains", Some("machines")) => Lookup::DomainMachines,
        ("files", Some("machines")) => Lookup::FileMachines,
        ("users", Some("machines")) => Lookup::UserMachines,
        ("ips", Some("machines")) => Lookup::IpMachines,
        ("machines", None) => Lookup::Machine,
        ("domains", Some("stats")) => Lookup::DomainStats,
        ("ips", Some("stats")) => Lookup::IpStats,
        _ => return None,
    })
}

/// The query parameters a lookup's route takes.
fn parameter_names(kind: Lookup) -> &'static [&'static str] {
    match kind {
        Lookup::IpMachines => &["format", "at"],
        Lookup::DomainStats | Lookup::IpStats => &["format", "lookBackHours"],
        _ => &["format"],
    }
}

fn is_stats(kind: Lookup) -> bool {
    matches!(kind, Lookup::DomainStats | Lookup::IpStats)
}

/// The route of a request, or the answer that refuses it (`404`, `405`,
/// `400`). `redact` keeps secrets out of what is echoed.
pub fn route(method: &str, path_with_query: &str, redact: &Redact<'_>) -> Result<Route, Reply> {
    let (path, query) = path_with_query
        .split_once('?')
        .unwrap_or((path_with_query, ""));
    let lookup = lookup_path(path);
    if path != "/healthz" && lookup.is_none() {
        let detail = format!("no resource at {path}: try {ROUTES}");
        return Err(problem(404, "not-found", &detail, redact));
    }
    if method != "GET" {
        let detail = format!("{method} is not allowed here: only GET");
        let mut reply = problem(405, "method-not-allowed", &detail, redact);
        reply.headers.push(("allow".into(), "GET".into()));
        return Err(reply);
    }
    let Some((kind, value)) = lookup else {
        return Ok(Route::Healthz);
    };
    let invalid = |why: String| problem(400, "invalid-request", &why, redact);
    // Decoded once: `%252F` is the text `%2F`, never a `/`.
    let value = percent_decoded(value)
        .ok_or_else(|| invalid(format!("the value in the path is {}", NOT_DECODABLE)))?;
    let parameters = parameters(kind, query).map_err(invalid)?;
    Ok(Route::Lookup {
        query: query_of(kind, value, &parameters),
        format: parameters.format,
    })
}

const NOT_DECODABLE: &str =
    "not percent-encoded UTF-8: write each byte outside A-Z, a-z, 0-9 and -._~ as %XX";

/// The kind of lookup and the (still encoded) value of a lookup's path.
fn lookup_path(path: &str) -> Option<(Lookup, &str)> {
    let mut segments = path.strip_prefix('/')?.split('/');
    let collection = segments.next()?;
    let value = segments.next()?;
    let tail = segments.next();
    if segments.next().is_some() {
        return None;
    }
    Some((kind_of(collection, tail)?, value))
}

struct Parameters {
    format: Format,
    at: Option<String>,
    look_back_hours: Option<u32>,
}

/// The query's parameters for `kind`; anything else is refused, so that a
/// misspelt parameter is not silently ignored.
fn parameters(kind: Lookup, query: &str) -> Result<Parameters, String> {
    let mut found = Parameters {
        format: Format::Json,
        at: None,
        look_back_hours: None,
    };
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
        let decoded = percent_decoded(value)
            .ok_or_else(|| format!("the value of {name:?} is {NOT_DECODABLE}"))?;
        match name {
            "format" if is_stats(kind) => {
                if decoded != "json" {
                    return Err(format!(
                        "format {decoded:?}: a prevalence is JSON only (format=json, the default)"
                    ));
                }
            }
            "format" => {
                found.format = match Format::named(&decoded) {
                    Some(Format::Table) | None => {
                        return Err(format!(
                            "format {decoded:?} is not one of json, ndjson, ocsf, ecs"
                        ));
                    }
                    Some(named) => named,
                }
            }
            "at" if parameter_names(kind).contains(&"at") => found.at = Some(decoded),
            // A number; its range is the connector's to check (invalid-look-back).
            "lookBackHours" if is_stats(kind) => {
                let hours = decoded.parse::<u32>().map_err(|_| {
                    format!("lookBackHours {decoded:?} is not a whole number of hours, such as 24")
                })?;
                found.look_back_hours = Some(hours);
            }
            _ => {
                let name = percent_decoded(name).unwrap_or_else(|| name.to_owned());
                return Err(format!(
                    "unknown query parameter {name:?}: this route takes {}",
                    parameter_names(kind).join(", ")
                ));
            }
        }
    }
    Ok(found)
}

fn query_of(kind: Lookup, value: String, parameters: &Parameters) -> Query {
    let look_back_hours = parameters.look_back_hours;
    match kind {
        Lookup::DomainMachines => Query::DomainMachines { domain: value },
        Lookup::FileMachines => Query::FileMachines { sha1: value },
        Lookup::UserMachines => Query::UserMachines { name: value },
        Lookup::IpMachines => Query::IpMachines {
            ip: value,
            at: parameters.at.clone(),
        },
        Lookup::Machine => Query::Machine { id: value },
        Lookup::DomainStats => Query::DomainStats {
            domain: value,
            look_back_hours,
        },
        Lookup::IpStats => Query::IpStats {
            ip: value,
            look_back_hours,
        },
    }
}

/// `%XX` decoded, once; `None` when a `%` is not followed by two hex digits
/// or the bytes are not UTF-8.
pub fn percent_decoded(text: &str) -> Option<String> {
    let hex = |b: u8| (b as char).to_digit(16);
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let high = hex(*bytes.get(i + 1)?)?;
            let low = hex(*bytes.get(i + 2)?)?;
            out.push((high * 16 + low) as u8);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn routed(path: &str) -> Result<Route, Reply> {
        route("GET", path, &|text: &str| text.to_owned())
    }

    fn lookup(path: &str) -> (Query, Format) {
        match routed(path) {
            Ok(Route::Lookup { query, format }) => (query, format),
            other => panic!("{path}: {other:?}"),
        }
    }

    fn refused(path: &str) -> (u16, String) {
        let reply = routed(path).expect_err(path);
        let body: serde_json::Value = serde_json::from_slice(&reply.body).unwrap();
        (reply.status, body["detail"].as_str().unwrap().to_owned())
    }

    #[test]
    fn every_lookup_has_its_route() {
        let sha1 = "a".repeat(40);
        for (path, query, format) in [
            (
                "/domains/contoso.com/machines?format=ocsf".to_owned(),
                Query::DomainMachines {
                    domain: "contoso.com".into(),
                },
                Format::Ocsf,
            ),
            (
                format!("/files/{sha1}/machines?format=ndjson"),
                Query::FileMachines { sha1: sha1.clone() },
                Format::Ndjson,
            ),
            (
                "/users/user1/machines?format=ecs".to_owned(),
                Query::UserMachines {
                    name: "user1".into(),
                },
                Format::Ecs,
            ),
            (
                "/ips/fe80::1/machines?at=2026-12-01T10%3A00%3A00Z".to_owned(),
                Query::IpMachines {
                    ip: "fe80::1".into(),
                    at: Some("2026-12-01T10:00:00Z".into()),
                },
                Format::Json,
            ),
            (
                "/ips/10.0.0.1/machines".to_owned(),
                Query::IpMachines {
                    ip: "10.0.0.1".into(),
                    at: None,
                },
                Format::Json,
            ),
            (
                "/machines/h1.contoso.com".to_owned(),
                Query::Machine {
                    id: "h1.contoso.com".into(),
                },
                Format::Json,
            ),
            (
                "/domains/contoso.com/stats?lookBackHours=24".to_owned(),
                Query::DomainStats {
                    domain: "contoso.com".into(),
                    look_back_hours: Some(24),
                },
                Format::Json,
            ),
            (
                "/ips/%3A%3A1/stats?format=json".to_owned(),
                Query::IpStats {
                    ip: "::1".into(),
                    look_back_hours: None,
                },
                Format::Json,
            ),
        ] {
            assert_eq!(lookup(&path), (query, format), "{path}");
        }
    }

    #[test]
    fn a_value_is_decoded_once_and_cannot_add_a_segment() {
        // `%2F` decodes to a `/` inside the value, for the connector to
        // refuse: the path's segments are split before decoding.
        assert_eq!(
            lookup("/users/a%2F..%2Fb/machines").0,
            Query::UserMachines {
                name: "a/../b".into()
            }
        );
        assert_eq!(
            lookup("/machines/a%253Fb").0,
            Query::Machine { id: "a%3Fb".into() }
        );
        assert_eq!(
            lookup("/ips/fe80::1%25eth0/stats").0.input(),
            "fe80::1%eth0"
        );
        assert_eq!(refused("/users/a/b/machines").0, 404);
        assert_eq!(refused("/machines/a/b").0, 404);
    }

    #[test]
    fn each_route_takes_its_own_parameters_only() {
        for (path, says) in [
            (
                "/domains/contoso.com/machines?at=2026-12-01T10:00:00Z",
                "unknown query parameter \"at\": this route takes format",
            ),
            (
                "/ips/10.0.0.1/machines?lookBackHours=1",
                "this route takes format, at",
            ),
            (
                "/ips/10.0.0.1/stats?format=ocsf",
                "a prevalence is JSON only",
            ),
            (
                "/domains/contoso.com/stats?lookBackHours=-1",
                "lookBackHours \"-1\" is not a whole number of hours, such as 24",
            ),
            (
                "/domains/contoso.com/stats?lookBackHours=1.5",
                "not a whole number",
            ),
            ("/machines/h1?format=table", "is not one of json"),
            (
                "/ips/10.0.0.1/machines?at=%zz",
                "the value of \"at\" is not percent-encoded",
            ),
        ] {
            let (status, detail) = refused(path);
            assert_eq!(status, 400, "{path}");
            assert!(detail.contains(says), "{path}: {detail}");
        }
    }

    #[test]
    fn unknown_paths_name_every_route() {
        for path in [
            "/",
            "/files/x",
            "/machines",
            "/users/u1/stats",
            "/ips/1.2.3.4",
        ] {
            let (status, detail) = refused(path);
            assert_eq!(status, 404, "{path}");
            assert!(detail.contains("/ips/{ip}/machines?at=TIME"), "{detail}");
        }
        let reply = route("POST", "/machines/h1", &|t: &str| t.to_owned()).unwrap_err();
        assert_eq!(reply.status, 405);
    }
}
