//! What an upstream lookup found, whatever the lookup, and how each is
//! asked of an instance and printed: one shape for the cache, single flight
//! and the replies, so every route shares them.

use mde_connector::prevalence;
use mde_connector_host::runtime::{self, IpAt, LookupTextsResult, QueryTextsResult, format_time};
use mde_connector_host::{Instance, Schema};
use mde_router::query::Query;
use std::sync::Arc;

/// An answer, as kept in the cache.
#[derive(Clone)]
pub enum Found {
    /// A domain's machines (`lookup-texts`).
    Domain(Arc<LookupTextsResult>),
    /// Any other machine list, or one machine (`lookup-query-texts`).
    Query(Arc<QueryTextsResult>),
    /// A prevalence, as the CLI prints it (the core's `to_json`).
    Prevalence(Arc<str>),
}

impl Found {
    /// The machines' texts (none for a prevalence).
    pub fn texts(&self) -> &[String] {
        match self {
            Found::Domain(found) => &found.machines,
            Found::Query(found) => &found.machines,
            Found::Prevalence(_) => &[],
        }
    }

    pub fn cap_reached(&self) -> bool {
        match self {
            Found::Domain(found) => found.cap_reached,
            Found::Query(found) => found.cap_reached,
            Found::Prevalence(_) => false,
        }
    }

    /// `Some(id)` when this is a `machine` lookup that found none.
    pub fn no_machine(&self) -> Option<&str> {
        match self {
            Found::Query(found) if found.machines.is_empty() => match &found.query {
                runtime::Query::Machine(id) => Some(id),
                _ => None,
            },
            _ => None,
        }
    }

    /// The same answer with `texts` (its events) for its machines.
    pub fn with_texts(&self, texts: Vec<String>) -> Found {
        match self {
            Found::Domain(found) => Found::Domain(Arc::new(LookupTextsResult {
                machines: texts,
                ..(**found).clone()
            })),
            Found::Query(found) => Found::Query(Arc::new(QueryTextsResult {
                machines: texts,
                ..(**found).clone()
            })),
            Found::Prevalence(_) => self.clone(),
        }
    }
}

/// `query` on `instance`: the component's answer or error; the outer error
/// is a trap. An `ip-machines` query without a time is asked about now.
pub fn look_up(
    instance: &mut Instance,
    query: &Query,
) -> anyhow::Result<Result<Found, runtime::Error>> {
    Ok(match query {
        Query::DomainMachines { domain } => instance
            .lookup_texts(domain)?
            .map(|found| Found::Domain(Arc::new(found))),
        Query::DomainStats {
            domain,
            look_back_hours,
        } => instance
            .domain_stats(domain, *look_back_hours)?
            .map(|p| Found::Prevalence(prevalence::DomainPrevalence::from(p).to_json().into())),
        Query::IpStats {
            ip,
            look_back_hours,
        } => instance
            .ip_stats(ip, *look_back_hours)?
            .map(|p| Found::Prevalence(prevalence::IpPrevalence::from(p).to_json().into())),
        Query::FileMachines { sha1 } => list(instance, runtime::Query::File(sha1.clone()))?,
        Query::UserMachines { name } => list(instance, runtime::Query::User(name.clone()))?,
        Query::Machine { id } => list(instance, runtime::Query::Machine(id.clone()))?,
        Query::IpMachines { ip, at } => {
            let at = at.clone().unwrap_or_else(|| format_time(runtime::now_ms()));
            let ip = ip.clone();
            list(instance, runtime::Query::Ip(IpAt { ip, at }))?
        }
    })
}

fn list(
    instance: &mut Instance,
    query: runtime::Query,
) -> anyhow::Result<Result<Found, runtime::Error>> {
    Ok(instance
        .lookup_query_texts(&query)?
        .map(|found| Found::Query(Arc::new(found))))
}

/// The events of `found`'s machines, observed at `now_ms`.
pub fn events(
    instance: &mut Instance,
    schema: Schema,
    found: &Found,
    now_ms: u64,
) -> anyhow::Result<Result<Vec<String>, String>> {
    match found {
        Found::Domain(found) => instance.events(schema, found, now_ms),
        Found::Query(found) => instance.query_events(schema, found, now_ms),
        Found::Prevalence(_) => Ok(Ok(Vec::new())),
    }
}
