//! `--indicators FILE`: a list of mixed indicators, each looked up by the
//! lookup its shape names, one NDJSON record per line with its provenance.

use crate::batch::{RecordError, fetched_at};
use crate::input::Line;
use crate::lookup::{LogArgs, run_list};
use crate::options::Options;
use anyhow::Result;
use mde_connector_host::Instance;
use mde_connector_host::runtime::{IpAt, Query, QueryTextsResult, ip_time, now_ms};
use mde_router::cache::{self, ResultCache};
use serde::Serialize;
use serde_json::value::RawValue;
use std::net::IpAddr;
use std::process::ExitCode;
use std::time::{Instant, SystemTime};

/// One indicator's outcome.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Record {
    /// The line as given.
    pub indicator: String,
    /// What its shape says it is: `domain`, `file`, `ip`, `user`, `machine`.
    pub kind: &'static str,
    /// What was asked, as the component normalised it (absent when refused):
    /// the domain, SHA-1, address, account name or machine id.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub query: Option<String>,
    /// For an address: the time its machines were asked for (the batch's start).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub at: Option<String>,
    pub cloud: String,
    /// When the answer came, RFC 3339 UTC to the millisecond.
    pub fetched_at: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cap_reached: Option<bool>,
    /// The component's JSON texts (`lookup-query-texts`), as they are.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub machines: Option<Vec<Box<RawValue>>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<RecordError>,
}

/// The query a line asks, by its shape: `user:NAME` and `machine:ID` by
/// their prefix (any case); an IP address (also one with a zone or a
/// prefix length, which the component refuses with its reason); 32, 40 or
/// 64 hex digits a file hash (only a SHA-1 is taken: the component says
/// so of the others); anything else a domain. `at` is the time an
/// address's machines are asked for.
pub fn query_of(line: &str, at: &str) -> (&'static str, Query) {
    let prefixed = |prefix: &str| {
        line.get(..prefix.len())
            .filter(|p| p.eq_ignore_ascii_case(prefix))
            .map(|_| line[prefix.len()..].to_owned())
    };
    if let Some(name) = prefixed("user:") {
        return ("user", Query::User(name));
    }
    if let Some(id) = prefixed("machine:") {
        return ("machine", Query::Machine(id));
    }
    let address = line.split(['%', '/']).next().unwrap_or_default();
    if address.parse::<IpAddr>().is_ok() {
        let ip = IpAt {
            ip: line.to_owned(),
            at: at.to_owned(),
        };
        return ("ip", Query::Ip(ip));
    }
    let hex = line.bytes().all(|b| b.is_ascii_hexdigit());
    if hex && matches!(line.len(), 32 | 40 | 64) {
        return ("file", Query::File(line.to_owned()));
    }
    ("domain", Query::Domain(line.to_owned()))
}

/// The text a normalised query holds (an address's alone: `at` is apart).
fn queried(query: &Query) -> String {
    match query {
        Query::Domain(s) | Query::File(s) | Query::User(s) | Query::Machine(s) => s.clone(),
        Query::Ip(IpAt { ip, .. }) => ip.clone(),
    }
}

/// A query's answer, kept for the lines that ask for it again.
#[derive(Clone)]
struct Answer {
    found: QueryTextsResult,
    fetched_at: String,
}

/// The indicators of `source`, printed as they are answered.
pub fn run_file(
    options: &Options,
    log: &LogArgs,
    instance: &mut Instance,
    source: &str,
) -> Result<ExitCode> {
    // Every address is asked about the batch's start, so a repeated
    // address is one call.
    let at = ip_time(None, now_ms()).unwrap_or_default();
    run_list(
        log,
        instance,
        source,
        "indicators",
        |instance, lines, emit| {
            run(instance, lines, &options.cloud, &at, |instance, record| {
                emit(
                    instance,
                    serde_json::to_string(&record)?,
                    record.error.is_some(),
                )
            })
        },
    )
}

/// Looks up each indicator in turn, once, as `batch::run` looks up domains:
/// an indicator asked again (in any spelling the component takes as the
/// same) is answered from the first answer, through the serve cache's key;
/// errors are not kept; a line that cannot be read gets its own error
/// record, and so does a lookup that trapped.
pub fn run(
    instance: &mut Instance,
    lines: impl IntoIterator<Item = std::io::Result<Line>>,
    cloud: &str,
    at: &str,
    mut emit: impl FnMut(&mut Instance, Record) -> std::io::Result<()>,
) -> std::io::Result<()> {
    let started = Instant::now();
    let mut answers = ResultCache::new(cache::DEFAULT_TTL, cache::DEFAULT_ENTRIES);
    for line in lines {
        let line = match line? {
            Line::Domain(text) => text,
            Line::Refused { shown, why } => {
                let mut record = Record::new(shown, "unknown", cloud);
                record.error = Some(RecordError::new("invalid-input", &why));
                emit(instance, record)?;
                continue;
            }
        };
        let (kind, query) = query_of(&line, at);
        let mut record = Record::new(line, kind, cloud);
        let key = cache::query_key(instance.state().settings(), &core_query(&query));
        let kept = key
            .as_deref()
            .and_then(|key| answers.get(key, started.elapsed()));
        let outcome = match kept {
            Some(hit) => Ok(Ok(hit.value)),
            None => instance.lookup_query_texts(&query).map(|answer| {
                answer.map(|found| Answer {
                    found,
                    fetched_at: record.fetched_at.clone(),
                })
            }),
        };
        match outcome {
            Ok(Ok(answer)) => {
                if let Some(key) = key {
                    answers.insert(key, answer.clone(), started.elapsed());
                }
                record.query = Some(queried(&answer.found.query));
                if let Query::Ip(IpAt { at, .. }) = &answer.found.query {
                    record.at = Some(at.clone());
                }
                record.cap_reached = Some(answer.found.cap_reached);
                record.fetched_at = answer.fetched_at;
                record.machines = Some(
                    answer
                        .found
                        .machines
                        .into_iter()
                        .map(RawValue::from_string)
                        .collect::<Result<_, _>>()?,
                );
            }
            Ok(Err(e)) => {
                let e = mde_connector::Error::from(e);
                record.error = Some(RecordError::new(e.kind(), &e.to_string()));
            }
            Err(trap) => {
                let message = instance.state().secrets().scrub(format!("{trap:#}"));
                record.error = Some(RecordError::new("trap", &message));
            }
        }
        emit(instance, record)?;
    }
    Ok(())
}

/// The WIT's query as the core's, for the cache key.
fn core_query(query: &Query) -> mde_connector::Query {
    use mde_connector::Query as Core;
    match query.clone() {
        Query::Domain(d) => Core::Domain(d),
        Query::File(sha1) => Core::File(sha1),
        Query::User(name) => Core::User(name),
        Query::Ip(IpAt { ip, at }) => Core::Ip { ip, at },
        Query::Machine(id) => Core::Machine(id),
    }
}

impl Record {
    fn new(indicator: String, kind: &'static str, cloud: &str) -> Self {
        Record {
            indicator,
            kind,
            query: None,
            at: None,
            cloud: cloud.to_owned(),
            fetched_at: fetched_at(SystemTime::now()),
            cap_reached: None,
            machines: None,
            error: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_indicators_kind_is_told_from_its_shape() {
        let at = "2024-09-22T08:00:00Z";
        let kind = |line: &str| query_of(line, at).0;
        assert_eq!(kind("contoso.com"), "domain");
        assert_eq!(kind("10.1.2.3"), "ip");
        assert_eq!(kind("fe80::1"), "ip");
        assert_eq!(kind("fe80::1%eth0"), "ip");
        assert_eq!(kind("10.0.0.0/8"), "ip");
        assert_eq!(kind(&"a".repeat(40)), "file");
        assert_eq!(kind(&"A".repeat(32)), "file");
        assert_eq!(kind(&"a".repeat(41)), "domain");
        assert_eq!(kind("user:user1"), "user");
        assert_eq!(kind("USER:user1"), "user");
        assert_eq!(kind("machine:ws-01"), "machine");
        assert_eq!(query_of("user:user1", at).1, Query::User("user1".into()));
        assert_eq!(
            query_of("10.1.2.3", at).1,
            Query::Ip(IpAt {
                ip: "10.1.2.3".into(),
                at: at.into()
            })
        );
    }
}
