//! [`Imports`] on the component's imports. wasm32 only.

use crate::bindings::mde::adapters::environment_settings;
use crate::bindings::mde::connector::events;
use crate::bindings::mde::connector::types::LookupTextsResult;
use crate::bindings::wasi::clocks::wall_clock;
use crate::cache::{self, ResultCache};
use crate::query::Query;
use crate::{Failure, Format, Imports, Output, epoch_ms, error, render, through_cache};
use mde_connector::Error;
use std::cell::RefCell;
use std::time::Duration;

/// The connector, the settings and the clock this component is composed with.
pub struct Composed;

thread_local! {
    /// The instance's answers, kept for as long as the platform keeps the
    /// instance (`wasmtime serve` only with instance reuse). Sized on first
    /// use from the environment, which is fixed for the instance's life.
    static CACHE: RefCell<Option<ResultCache<LookupTextsResult>>> = const { RefCell::new(None) };
}

impl Imports for Composed {
    fn settings_problem(&self) -> Option<String> {
        environment_settings::problem()
    }

    fn look_up(&self, query: &Query, format: Format) -> Result<Output, Failure> {
        if let Some(problem) = environment_settings::problem() {
            return Err(Failure::Lookup(Error::InvalidSettings(problem)));
        }
        let Query::DomainMachines { domain } = query else {
            return Err(Failure::Lookup(Error::InvalidSettings(format!(
                "{} is not in this build of the proxy",
                query.lookup().name()
            ))));
        };
        // The lookup alone is the key: the settings (cloud, tenant, client)
        // are fixed for the instance's life, so every answer it keeps is
        // for the same ones.
        let key = cache::key("", "", "", query);
        let (found, cached_age) = CACHE
            .with_borrow_mut(|cache| {
                let cache = cache.get_or_insert_with(sized_from_environment);
                through_cache(cache, key, since_epoch(), || {
                    crate::bindings::lookup_texts(domain)
                })
            })
            .map_err(|e| Failure::Lookup(error(e)))?;
        // One cached answer serves every format: the events are mapped from
        // it, observed now.
        let cap_reached = found.cap_reached;
        let texts = match format {
            Format::Table | Format::Json | Format::Ndjson => found.machines,
            Format::Ocsf => events::ocsf_inventory(&found, now_ms()).map_err(Failure::Events)?,
            Format::Ecs => events::ecs_documents(&found, now_ms()).map_err(Failure::Events)?,
        };
        Ok(Output {
            body: render(format, &texts)?,
            cap_reached,
            cached_age,
        })
    }

    fn redact(&self, text: &str) -> String {
        environment_settings::redact(text)
    }
}

/// `MDE_CACHE_TTL` and `MDE_CACHE_ENTRIES`, or the service's defaults.
fn sized_from_environment() -> ResultCache<LookupTextsResult> {
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
