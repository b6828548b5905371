//! Many lookups in a row, each answered by one NDJSON record with its provenance.

use mde_connector_host::clock::Clock;

use mde_connector_host::{Error, Instance};
use serde::Serialize;
use serde_json::value::RawValue;
use std::time::{Duration, SystemTime};

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
    /// The component's JSON texts (`events.machines-json`), as they are.
    pub machines: Option<Vec<Box<RawValue>>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<RecordError>,
}

#[derive(Debug, Serialize)]
pub struct RecordError {
    pub kind: String,
    pub message: String,
}

/// Looks up each domain in turn. A rate limit is waited out (on `clock`)
/// when its `Retry-After` is at most `max_wait`; any other error, or a longer
/// wait, becomes that domain's record and the batch goes on.
pub fn run(
    instance: &mut Instance,
    domains: impl IntoIterator<Item = String>,
    cloud: &str,
    clock: &dyn Clock,
    max_wait: Duration,
    mut emit: impl FnMut(Record) -> std::io::Result<()>,
) -> std::io::Result<()> {
    for queried in domains {
        let outcome = loop {
            match instance.lookup(&queried) {
                Ok(Err(Error::RateLimited(limit)))
                    if limit
                        .retry_after_seconds
                        .is_some_and(|s| Duration::from_secs(s) <= max_wait) =>
                {
                    clock.sleep(Duration::from_secs(limit.retry_after_seconds.unwrap_or(0)));
                }
                other => break other,
            }
        };
        let mut record = Record {
            queried_domain: queried,
            domain: None,
            cloud: cloud.to_owned(),
            fetched_at: fetched_at(SystemTime::now()),
            cap_reached: None,
            machines: None,
            error: None,
        };
        let outcome = outcome.and_then(|answer| match answer {
            Ok(found) => Ok(Ok((instance.machines_json(&found)?, found))),
            Err(e) => Ok(Err(e)),
        });
        match outcome {
            Ok(Ok((machines, found))) => {
                record.domain = Some(found.domain);
                record.cap_reached = Some(found.cap_reached);
                record.machines = Some(
                    machines
                        .into_iter()
                        .map(RawValue::from_string)
                        .collect::<Result<_, _>>()?,
                );
            }
            Ok(Err(e)) => {
                let e = mde_connector::Error::from(e);
                record.error = Some(RecordError {
                    kind: e.kind().to_owned(),
                    message: e.to_string(),
                });
            }
            Err(trap) => {
                record.error = Some(RecordError {
                    kind: "trap".to_owned(),
                    message: format!("{trap:#}"),
                });
            }
        }
        emit(record)?;
    }
    Ok(())
}

/// RFC 3339 UTC, formatted by the core that formats the events' times.
fn fetched_at(time: SystemTime) -> String {
    let ms = time
        .duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX));
    mde_connector::events::format_rfc3339_ms(ms).unwrap_or_default()
}
