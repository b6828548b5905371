//! [`Imports`] on the component's imports. wasm32 only.

use crate::bindings::mde::adapters::environment_settings;
use crate::bindings::mde::connector::events;
use crate::bindings::mde::connector::types::{self as wit, LookupTextsResult, QueryTextsResult};
use crate::bindings::wasi::clocks::wall_clock;
use crate::cache::{self, ResultCache};
use crate::query::Query;
use crate::{Failure, Format, Imports, Output, epoch_ms, error, render, through_cache};
use mde_connector::{Error, prevalence};
use std::cell::RefCell;
use std::time::Duration;

/// The connector, the settings and the clock this component is composed with.
pub struct Composed;

/// An answer, as kept in the cache: a domain's machines, any other machine
/// list (or one machine), or a prevalence's JSON.
#[derive(Clone)]
enum Found {
    Domain(LookupTextsResult),
    Query(QueryTextsResult),
    Prevalence(String),
}

thread_local! {
    /// The instance's answers, kept for as long as the platform keeps the
    /// instance (`wasmtime serve` only with instance reuse). Sized on first
    /// use from the environment, which is fixed for the instance's life.
    static CACHE: RefCell<Option<ResultCache<Found>>> = const { RefCell::new(None) };
}

impl Imports for Composed {
    fn settings_problem(&self) -> Option<String> {
        environment_settings::problem()
    }

    fn look_up(&self, query: &Query, format: Format) -> Result<Output, Failure> {
        if let Some(problem) = environment_settings::problem() {
            return Err(Failure::Lookup(Error::InvalidSettings(problem)));
        }
        let now = i64::try_from(now_ms()).unwrap_or(i64::MAX);
        let query = query.with_time(now).map_err(Failure::Lookup)?;
        // The lookup alone is the key: the settings (cloud, tenant, client)
        // are fixed for the instance's life, so every answer it keeps is
        // for the same ones.
        let key = cache::key("", "", "", &query);
        let (found, cached_age) = CACHE
            .with_borrow_mut(|cache| {
                let cache = cache.get_or_insert_with(sized_from_environment);
                through_cache(cache, key, since_epoch(), || ask(&query))
            })
            .map_err(|e| Failure::Lookup(error(e)))?;
        // One cached answer serves every format: the events are mapped from
        // it, observed now.
        let texts = match &found {
            Found::Prevalence(json) => {
                return Ok(Output {
                    body: format!("{json}\n").into_bytes(),
                    cap_reached: false,
                    cached_age,
                });
            }
            Found::Query(found) if found.machines.is_empty() => {
                if let wit::Query::Machine(id) = &found.query {
                    return Err(Failure::NoMachine {
                        id: id.clone(),
                        cached_age,
                    });
                }
                &found.machines
            }
            Found::Query(found) => &found.machines,
            Found::Domain(found) => &found.machines,
        };
        let events = |schema| match (&found, schema) {
            (Found::Domain(f), Format::Ocsf) => events::ocsf_inventory(f, now_ms()),
            (Found::Domain(f), _) => events::ecs_documents(f, now_ms()),
            (Found::Query(f), Format::Ocsf) => events::query_ocsf_inventory(f, now_ms()),
            (Found::Query(f), _) => events::query_ecs_documents(f, now_ms()),
            (Found::Prevalence(_), _) => Ok(Vec::new()),
        };
        let cap_reached = match &found {
            Found::Domain(f) => f.cap_reached,
            Found::Query(f) => f.cap_reached,
            Found::Prevalence(_) => false,
        };
        let body = match format {
            Format::Table | Format::Json | Format::Ndjson => render(format, texts)?,
            schema => render(format, &events(schema).map_err(Failure::Events)?)?,
        };
        Ok(Output {
            body,
            cap_reached,
            cached_age,
        })
    }

    fn redact(&self, text: &str) -> String {
        environment_settings::redact(text)
    }
}

/// `query` through the connector's exports.
fn ask(query: &Query) -> Result<Found, wit::Error> {
    use crate::bindings::{domain_stats, ip_stats, lookup_query_texts, lookup_texts};
    let list = |query: wit::Query| lookup_query_texts(&query).map(Found::Query);
    match query {
        Query::DomainMachines { domain } => lookup_texts(domain).map(Found::Domain),
        Query::FileMachines { sha1 } => list(wit::Query::File(sha1.clone())),
        Query::UserMachines { name } => list(wit::Query::User(name.clone())),
        Query::Machine { id } => list(wit::Query::Machine(id.clone())),
        // `with_time` gave it its time.
        Query::IpMachines { ip, at } => list(wit::Query::Ip(wit::IpAt {
            ip: ip.clone(),
            at: at.clone().unwrap_or_default(),
        })),
        Query::DomainStats {
            domain,
            look_back_hours,
        } => domain_stats(domain, *look_back_hours).map(|p| Found::Prevalence(domain_json(p))),
        Query::IpStats {
            ip,
            look_back_hours,
        } => ip_stats(ip, *look_back_hours).map(|p| Found::Prevalence(ip_json(p))),
    }
}

mde_connector::prevalence_conversions!(crate::bindings::mde::connector::types);

/// A domain's prevalence as the CLI prints it: the core's record (converted
/// as the host library converts it) and its `to_json`.
fn domain_json(p: wit::DomainPrevalence) -> String {
    prevalence::DomainPrevalence::from(p).to_json()
}

/// An address's prevalence, as [`domain_json`].
fn ip_json(p: wit::IpPrevalence) -> String {
    prevalence::IpPrevalence::from(p).to_json()
}

/// `MDE_CACHE_TTL` and `MDE_CACHE_ENTRIES`, or the service's defaults.
fn sized_from_environment() -> ResultCache<Found> {
    let sized = environment_settings::cache();
    ResultCache::new(
        sized
            .ttl_seconds
            .map_or(cache::DEFAULT_TTL, Duration::from_secs),
        sized.entries.map_or(cache::DEFAULT_ENTRIES, |n| n as usize),
    )
}

/// The wall clock, for the cache (which needs only differences).
fn since_epoch() -> Duration {
    let now = wall_clock::now();
    Duration::from_secs(now.seconds).saturating_add(Duration::from_nanos(now.nanoseconds.into()))
}

/// When the events are observed: now.
fn now_ms() -> u64 {
    let now = wall_clock::now();
    epoch_ms(now.seconds, now.nanoseconds)
}
