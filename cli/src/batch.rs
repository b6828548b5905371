//! Many lookups in a row, each answered by one NDJSON record with its provenance.

use crate::input::Line;
use crate::output;
use mde_connector_host::Instance;
use mde_router::cache::{self, ResultCache};
use mde_router::query::Query;
use serde::Serialize;
use serde_json::value::RawValue;
use std::time::{Instant, SystemTime};

/// One domain's outcome.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Record {
    /// The line as given.
    pub queried_domain: String,
    /// As the component normalised it (absent when it refused it).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub domain: Option<String>,
    pub cloud: String,
    /// When the answer came, RFC 3339 UTC to the millisecond.
    pub fetched_at: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cap_reached: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    /// The component's JSON texts (`lookup-texts`), as they are.
    pub machines: Option<Vec<Box<RawValue>>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<RecordError>,
}

#[derive(Debug, Serialize)]
pub struct RecordError {
    pub kind: String,
    pub message: String,
}

/// A domain's answer, kept for the lines that ask for it again.
#[derive(Clone)]
struct Answer {
    domain: String,
    cap_reached: bool,
    machines: Vec<String>,
    fetched_at: String,
}

/// Looks up each domain in turn, once: the host's gateway waits out rate
/// limits within `--max-wait` for the whole lookup and retries within its
/// attempts, so a domain that keeps being refused ends, with its error
/// record, and the batch goes on. A domain asked again, in any spelling, is
/// answered from the first answer (the serve cache's key, time to live and
/// size): one API call per distinct domain. Errors are not kept: a line that
/// repeats a failed domain asks again. A line that cannot be a domain gets
/// its own error record; so does a lookup that trapped.
pub fn run(
    instance: &mut Instance,
    lines: impl IntoIterator<Item = std::io::Result<Line>>,
    cloud: &str,
    mut emit: impl FnMut(&mut Instance, Record) -> std::io::Result<()>,
) -> std::io::Result<()> {
    let started = Instant::now();
    let mut answers = ResultCache::new(cache::DEFAULT_TTL, cache::DEFAULT_ENTRIES);
    for line in lines {
        let queried = match line? {
            Line::Domain(domain) => domain,
            Line::Refused { shown, why } => {
                let mut record = Record::new(shown, cloud);
                record.error = Some(RecordError::new("invalid-domain", &why));
                emit(instance, record)?;
                continue;
            }
        };
        let question = Query::DomainMachines {
            domain: queried.clone(),
        };
        let key = cache::settings_key(instance.state().settings(), &question);
        let kept = key
            .as_deref()
            .and_then(|key| answers.get(key, started.elapsed()));
        let mut record = Record::new(queried.clone(), cloud);
        let outcome = match kept {
            Some(hit) => Ok(Ok(hit.value)),
            None => instance.lookup_texts(&queried).map(|answer| {
                answer.map(|found| Answer {
                    domain: found.domain,
                    cap_reached: found.cap_reached,
                    machines: found.machines,
                    fetched_at: record.fetched_at.clone(),
                })
            }),
        };
        match outcome {
            Ok(Ok(answer)) => {
                if let Some(key) = key {
                    answers.insert(key, answer.clone(), started.elapsed());
                }
                record.domain = Some(answer.domain);
                record.cap_reached = Some(answer.cap_reached);
                record.fetched_at = answer.fetched_at;
                record.machines = Some(
                    answer
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

impl Record {
    /// A record for `queried`, fetched now, with nothing found yet.
    fn new(queried: String, cloud: &str) -> Self {
        Record {
            queried_domain: queried,
            domain: None,
            cloud: cloud.to_owned(),
            fetched_at: fetched_at(SystemTime::now()),
            cap_reached: None,
            machines: None,
            error: None,
        }
    }
}

impl RecordError {
    /// The message as one printable line, as errors are printed.
    pub(crate) fn new(kind: &str, message: &str) -> Self {
        RecordError {
            kind: kind.to_owned(),
            message: output::one_line(message),
        }
    }
}

/// RFC 3339 UTC, formatted by the core that formats the events' times.
pub(crate) fn fetched_at(time: SystemTime) -> String {
    let ms = time
        .duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX));
    mde_connector::events::format_rfc3339_ms(ms).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use mde_connector_host::clock::{Clock, ManualClock};
    use mde_connector_host::gateway::PolicyOptions;
    use mde_connector_host::runtime::{COMPONENT, Request, Response, RuntimeOptions};
    use mde_connector_host::transport::FnTransport;
    use mde_connector_host::{Auth, Cloud, Runtime, Settings};
    use std::sync::{Arc, Mutex};
    use std::time::Duration;

    #[test]
    fn a_batch_under_a_429_storm_gives_each_domain_max_wait_then_moves_on() {
        let clock = Arc::new(ManualClock::default());
        let runtime = Runtime::with_options(
            COMPONENT,
            RuntimeOptions {
                policy: PolicyOptions {
                    max_wait: Duration::from_secs(10),
                    ..PolicyOptions::default()
                },
                ..RuntimeOptions::default()
            },
        )
        .unwrap()
        .with_clock(clock.clone());
        // Every call answered 429, Retry-After: 4; each noted with its time.
        let calls = Arc::new(Mutex::new(Vec::new()));
        let (log, at) = (calls.clone(), clock.clone());
        let storm = FnTransport(move |r: &Request| {
            log.lock().unwrap().push((r.url.clone(), at.now()));
            Ok(Response {
                status: 429,
                headers: vec![("retry-after".into(), "4".into())],
                body: Vec::new().into(),
            })
        });
        let settings = Settings {
            cloud: Cloud::Commercial,
            auth: Auth::HostManaged,
        };
        let mut instance = runtime.instantiate(settings, storm).unwrap();
        let lines = ["a.example", "b.example"].map(|d| Ok(Line::Domain(d.into())));
        let mut records = Vec::new();
        run(&mut instance, lines, "commercial", |_, record| {
            records.push(record);
            Ok(())
        })
        .unwrap();

        assert_eq!(records.len(), 2);
        for record in &records {
            let error = record.error.as_ref().unwrap();
            assert_eq!(error.kind, "rate-limited", "{}", error.message);
        }
        let calls = calls.lock().unwrap();
        for domain in ["a.example", "b.example"] {
            let times: Vec<Duration> = calls
                .iter()
                .filter(|(url, _)| url.contains(domain))
                .map(|(_, t)| *t)
                .collect();
            // Two waits of 4 s fit in the 10 s allowed in all; a third
            // would not, so the third answer is the domain's record.
            assert_eq!(times.len(), 3, "{domain}: {times:?}");
            assert_eq!(times[2] - times[0], Duration::from_secs(8));
        }
        assert_eq!(clock.now(), Duration::from_secs(16));
    }
}
