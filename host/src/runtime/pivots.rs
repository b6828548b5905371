//! The lookups other than a domain (issue 25) on [`Instance`], and the time
//! checks the component cannot make without a clock: an `ip-machines` time
//! in the future, or older than the service's 30 days.

use super::{
    DomainPrevalence, Error, IpAt, IpPrevalence, Machine, Query, QueryResult, QueryTextsResult,
};
use super::{Instance, MAX_DOMAIN_BYTES, Schema};
use anyhow::Result;
use mde_connector::events::format_rfc3339_ms;
use std::time::{SystemTime, UNIX_EPOCH};

pub use mde_connector::indicator::IP_LOOK_BACK_DAYS;

/// Milliseconds since the Unix epoch, by the machine's wall clock.
pub fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

/// Milliseconds since the Unix epoch as RFC 3339 UTC
/// (`2024-09-22T08:00:00.000Z`); empty outside the years 0000 to 9999.
pub fn format_time(ms: i64) -> String {
    format_rfc3339_ms(ms).unwrap_or_default()
}

/// The time an `ip-machines` lookup asks about: `at`, checked against `now`
/// (milliseconds since the Unix epoch), or `now` when `at` is absent, by the
/// core's one rule (`mde_connector::indicator::ip_time`): one in the future or
/// more than 30 days before `now` is `invalid-time`.
pub fn ip_time(at: Option<&str>, now: i64) -> Result<String, Error> {
    mde_connector::indicator::ip_time(at, now).map_err(Error::InvalidTime)
}

/// An `ip` query for `ip` at `at` (now when absent), with [`ip_time`]'s checks.
pub fn ip_query(ip: &str, at: Option<&str>, now: i64) -> Result<Query, Error> {
    Ok(Query::Ip(IpAt {
        ip: ip.to_owned(),
        at: ip_time(at, now)?,
    }))
}

/// Refuses an input over [`MAX_DOMAIN_BYTES`] before it is copied into the
/// component (no input of any lookup is nearly as long), as `error` says.
fn within_limit(input: &str, error: fn(String) -> Error) -> Result<(), Error> {
    if input.len() > MAX_DOMAIN_BYTES {
        return Err(error(format!(
            "the input is {} bytes long; the host takes at most {MAX_DOMAIN_BYTES}",
            input.len()
        )));
    }
    Ok(())
}

/// The inputs of a query, each with the error that refuses it.
fn query_within_limit(query: &Query) -> Result<(), Error> {
    match query {
        Query::Domain(d) => within_limit(d, Error::InvalidDomain),
        Query::File(h) => within_limit(h, Error::InvalidFileHash),
        Query::User(u) => within_limit(u, Error::InvalidUserName),
        Query::Ip(IpAt { ip, at }) => {
            within_limit(ip, Error::InvalidIp)?;
            within_limit(at, Error::InvalidTime)?;
            ip_time(Some(at), now_ms()).map(drop)
        }
        Query::Machine(id) => within_limit(id, Error::InvalidMachineId),
    }
}

impl Instance {
    /// `file-machines`: the machines that saw a file, by SHA-1. The outer
    /// error is a trap; the inner one the component's answer, scrubbed.
    pub fn file_machines(&mut self, sha1: &str) -> Result<Result<Vec<Machine>, Error>> {
        if let Err(e) = within_limit(sha1, Error::InvalidFileHash) {
            return Ok(Err(e));
        }
        let answer = self.call(|live| live.bindings.call_file_machines(&mut live.store, sha1));
        self.scrubbed(answer)
    }

    /// `user-machines`: the machines a user signed in to, by account name.
    pub fn user_machines(&mut self, name: &str) -> Result<Result<Vec<Machine>, Error>> {
        if let Err(e) = within_limit(name, Error::InvalidUserName) {
            return Ok(Err(e));
        }
        let answer = self.call(|live| live.bindings.call_user_machines(&mut live.store, name));
        self.scrubbed(answer)
    }

    /// `ip-machines`: the machines seen with `ip` around `at` (RFC 3339;
    /// now when absent), after [`ip_time`]'s checks by the wall clock.
    pub fn ip_machines(
        &mut self,
        ip: &str,
        at: Option<&str>,
    ) -> Result<Result<Vec<Machine>, Error>> {
        let at = match within_limit(ip, Error::InvalidIp).and_then(|()| {
            at.map_or(Ok(()), |at| within_limit(at, Error::InvalidTime))?;
            ip_time(at, now_ms())
        }) {
            Ok(at) => at,
            Err(e) => return Ok(Err(e)),
        };
        let answer = self.call(|live| live.bindings.call_ip_machines(&mut live.store, ip, &at));
        self.scrubbed(answer)
    }

    /// `machine`: one machine by id or computer name; `None` when the
    /// service does not know it.
    pub fn machine(&mut self, id: &str) -> Result<Result<Option<Machine>, Error>> {
        if let Err(e) = within_limit(id, Error::InvalidMachineId) {
            return Ok(Err(e));
        }
        let answer = self.call(|live| live.bindings.call_machine(&mut live.store, id));
        self.scrubbed(answer)
    }

    /// `lookup-query`: any machine list, with the normalised query and the cap.
    pub fn lookup_query(&mut self, query: &Query) -> Result<Result<QueryResult, Error>> {
        if let Err(e) = query_within_limit(query) {
            return Ok(Err(e));
        }
        let answer = self.call(|live| live.bindings.call_lookup_query(&mut live.store, query));
        self.scrubbed(answer)
    }

    /// `lookup-query-texts`: any machine list with each machine as the JSON
    /// text the service sent, known secrets scrubbed.
    pub fn lookup_query_texts(&mut self, query: &Query) -> Result<Result<QueryTextsResult, Error>> {
        if let Err(e) = query_within_limit(query) {
            return Ok(Err(e));
        }
        let answer = self.call(|live| {
            live.bindings
                .call_lookup_query_texts(&mut live.store, query)
        });
        Ok(self.scrubbed(answer)?.map(|found| QueryTextsResult {
            machines: self.scrubbed_texts(found.machines),
            ..found
        }))
    }

    /// `query-ocsf-inventory` or `query-ecs-documents`: [`Instance::events`]
    /// for any machine list.
    pub fn query_events(
        &mut self,
        schema: Schema,
        found: &QueryTextsResult,
        observed_at: u64,
    ) -> Result<Result<Vec<String>, String>> {
        let events = self.call(|live| {
            let events = live.bindings.mde_connector_events();
            match schema {
                Schema::Ocsf => {
                    events.call_query_ocsf_inventory(&mut live.store, found, observed_at)
                }
                Schema::Ecs => events.call_query_ecs_documents(&mut live.store, found, observed_at),
            }
        })?;
        Ok(self.scrubbed_events(events))
    }

    /// `domain-stats`: how many machines saw `domain` in the last
    /// `look_back_hours` (1 to 720; the service's 720 when absent).
    pub fn domain_stats(
        &mut self,
        domain: &str,
        look_back_hours: Option<u32>,
    ) -> Result<Result<DomainPrevalence, Error>> {
        if let Err(e) = within_limit(domain, Error::InvalidDomain) {
            return Ok(Err(e));
        }
        let answer = self.call(|live| {
            live.bindings
                .call_domain_stats(&mut live.store, domain, look_back_hours)
        });
        let secrets = &self.state().secrets;
        Ok(self.scrubbed(answer)?.map(|p| DomainPrevalence {
            unmodelled: p.unmodelled.map(|u| secrets.scrub(u)),
            ..p
        }))
    }

    /// `ip-stats`: how many machines saw `ip`.
    pub fn ip_stats(
        &mut self,
        ip: &str,
        look_back_hours: Option<u32>,
    ) -> Result<Result<IpPrevalence, Error>> {
        if let Err(e) = within_limit(ip, Error::InvalidIp) {
            return Ok(Err(e));
        }
        let answer = self.call(|live| {
            live.bindings
                .call_ip_stats(&mut live.store, ip, look_back_hours)
        });
        let secrets = &self.state().secrets;
        Ok(self.scrubbed(answer)?.map(|p| IpPrevalence {
            unmodelled: p.unmodelled.map(|u| secrets.scrub(u)),
            ..p
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use mde_connector::events::parse_rfc3339_ms;

    const NOW: &str = "2024-09-22T08:00:00Z";

    fn now() -> i64 {
        parse_rfc3339_ms(NOW).unwrap()
    }

    #[test]
    fn no_time_is_now_and_a_time_must_be_within_the_last_30_days() {
        assert_eq!(ip_time(None, now()).unwrap(), "2024-09-22T08:00:00.000Z");
        let recent = "2024-09-01T08:00:00Z";
        assert_eq!(ip_time(Some(recent), now()).unwrap(), recent);
        let Err(Error::InvalidTime(future)) = ip_time(Some("2024-09-22T08:00:01Z"), now()) else {
            panic!("a future time passed")
        };
        assert!(future.contains("in the future"), "{future}");
        let Err(Error::InvalidTime(old)) = ip_time(Some("2024-08-22T07:59:59Z"), now()) else {
            panic!("a time over 30 days old passed")
        };
        assert!(
            old.contains("31 days ago") && old.contains("last 30 days only"),
            "{old}"
        );
        // Not RFC 3339: the component's to refuse, with its reason.
        assert_eq!(ip_time(Some("yesterday"), now()).unwrap(), "yesterday");
    }
}
