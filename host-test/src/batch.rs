//! Many lookups in a row, each answered by one NDJSON record with its provenance.

use crate::clock::Clock;
use crate::convert;
use crate::runtime::{Instance, mde::connector::types::Error};
use serde::Serialize;
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
    /// When the answer came, RFC 3339 UTC.
    pub fetched_at: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cap_reached: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub machines: Option<Vec<mde_connector::Machine>>,
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
            fetched_at: rfc3339(SystemTime::now()),
            cap_reached: None,
            machines: None,
            error: None,
        };
        match outcome {
            Ok(Ok(found)) => {
                record.domain = Some(found.domain);
                record.cap_reached = Some(found.cap_reached);
                record.machines = Some(found.machines.into_iter().map(convert::machine).collect());
            }
            Ok(Err(e)) => {
                let e = convert::error(e);
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

/// `2026-11-29T08:00:00Z`, without a date crate: days to civil date after
/// Howard Hinnant's `civil_from_days`.
pub fn rfc3339(time: SystemTime) -> String {
    let secs = time
        .duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let (days, rest) = (secs / 86_400, secs % 86_400);
    let z = days as i64 + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        rest / 3600,
        rest / 60 % 60,
        rest % 60
    )
}

#[cfg(test)]
mod tests {
    use super::rfc3339;
    use std::time::{Duration, SystemTime};

    #[test]
    fn formats_utc_dates() {
        let at = |secs| rfc3339(SystemTime::UNIX_EPOCH + Duration::from_secs(secs));
        assert_eq!(at(0), "1970-01-01T00:00:00Z");
        assert_eq!(at(951_782_400), "2000-02-29T00:00:00Z");
        assert_eq!(at(1_795_939_261), "2026-11-29T08:01:01Z");
    }
}
