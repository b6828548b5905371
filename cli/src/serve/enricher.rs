//! The lookups behind `serve`: one result cache, one upstream lookup per key
//! in flight (single flight), pooled instances on one runtime (so one rate
//! budget and one token for the process), and honest shedding.

use super::found::{self, Found};
use super::metrics::Metrics;
use super::pool::{Busy, Pool};
use crate::options::now_ms;
use mde_connector::connector::Level;
use mde_connector::secrets::Secrets;
use mde_connector_host::runtime::now_ms as runtime_now_ms;
use mde_connector_host::{Instance, Schema, Settings};
use mde_proxy::Reply;
use mde_router::cache::{self, ResultCache};
use mde_router::query::Query;
use mde_router::{Failure, Format, Output};
use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};
use tokio::sync::watch;

/// What an upstream lookup came to, shared with every request that waited
/// for it.
#[derive(Clone)]
enum Miss {
    Found(Found),
    Failed(Failure),
    /// The component trapped (its message, secrets scrubbed).
    Trapped(String),
    /// No instance came free within `--max-wait`.
    Busy,
}

pub struct Enricher {
    pub settings: Settings,
    /// Misses: they may wait on the tenant, up to `--timeout`.
    lookups: Pool,
    /// Events and refused domains: never wait on the network, so a slow
    /// tenant cannot hold up answers from the cache.
    mappers: Pool,
    cache: Mutex<ResultCache<Found>>,
    flights: Mutex<HashMap<String, watch::Receiver<Option<Miss>>>>,
    pub metrics: Metrics,
    /// The settings' secrets, kept out of anything echoed.
    pub secrets: Secrets,
    /// The longest a request waits for an instance before it is shed.
    max_wait: Duration,
    log_level: Level,
    /// The cache's clock.
    started: Instant,
}

/// What an enricher is made of, but for its lookups in flight.
pub struct Parts {
    pub settings: Settings,
    pub lookups: Pool,
    pub mappers: Pool,
    pub cache: ResultCache<Found>,
    pub metrics: Metrics,
    pub max_wait: Duration,
    pub log_level: Level,
}

/// Seconds a shed request is told to wait: instances free up as lookups
/// end, which takes about a round trip to the tenant.
const BUSY_RETRY_AFTER: u64 = 1;

impl Enricher {
    pub fn new(parts: Parts) -> Self {
        Enricher {
            secrets: Secrets::of(&parts.settings.auth),
            settings: parts.settings,
            lookups: parts.lookups,
            mappers: parts.mappers,
            cache: Mutex::new(parts.cache),
            flights: Mutex::default(),
            metrics: parts.metrics,
            max_wait: parts.max_wait,
            log_level: parts.log_level,
            started: Instant::now(),
        }
    }

    /// The answer to one of the lookups' routes (`GET
    /// /domains/{domain}/machines?format=...`, ...), with `x-mde-cache` (and
    /// `age` on a hit).
    pub async fn lookup(self: &Arc<Self>, query: &Query, format: Format) -> Reply {
        let started = Instant::now();
        let lookup = query.lookup().name();
        let query = match query.with_time(runtime_now_ms()) {
            Ok(query) => query,
            Err(e) => {
                return self
                    .reply(format, Miss::Failed(Failure::Lookup(e)), None)
                    .await;
            }
        };
        let Some(key) = cache::settings_key(&self.settings, &query) else {
            // An input the connector refuses: the component says why, and
            // nothing is sent. Never kept.
            let miss = self.fetch(None, query, &self.mappers).await;
            return self.reply(format, miss, None).await;
        };
        let hit = lock(&self.cache).get(&key, self.started.elapsed());
        if let Some(hit) = hit {
            let reply = self
                .reply(format, Miss::Found(hit.value), Some(hit.age))
                .await;
            self.metrics.observe("hit", lookup, started.elapsed());
            return reply;
        }
        let miss = self.single_flight(key, query).await;
        let reply = self.reply(format, miss, None).await;
        self.metrics.observe("miss", lookup, started.elapsed());
        reply
    }

    /// One upstream lookup per key at a time: the first request for a key
    /// starts it, in a task of its own (it ends and fills the cache even if
    /// every caller has gone), and the others wait for its answer.
    async fn single_flight(self: &Arc<Self>, key: String, query: Query) -> Miss {
        let mut answer = {
            let mut flights = lock(&self.flights);
            match flights.get(&key) {
                Some(answer) => answer.clone(),
                None => {
                    let (tell, answer) = watch::channel(None);
                    flights.insert(key.clone(), answer.clone());
                    let this = self.clone();
                    tokio::spawn(async move {
                        this.metrics.in_flight.inc();
                        let miss = this.fetch(Some(&key), query, &this.lookups).await;
                        this.metrics.in_flight.dec();
                        lock(&this.flights).remove(&key);
                        let _ = tell.send(Some(miss));
                    });
                    answer
                }
            }
        };
        match answer.wait_for(Option::is_some).await {
            Ok(miss) => miss.clone().unwrap_or(Miss::Busy),
            // The lookup's task ended without an answer (it panicked).
            Err(_) => Miss::Busy,
        }
    }

    /// Asks `query` on an instance of `pool`; a found answer is kept under
    /// `key`.
    async fn fetch(&self, key: Option<&str>, query: Query, pool: &Pool) -> Miss {
        let level = self.log_level;
        let outcome = pool
            .run(self.max_wait, move |instance| {
                let answer = found::look_up(instance, &query);
                super::print_logs(instance, level);
                answer.map_err(|trap| scrubbed_trap(instance, &trap))
            })
            .await;
        match outcome {
            Err(Busy) => Miss::Busy,
            Ok(Err(trap)) => Miss::Trapped(trap),
            Ok(Ok(Err(e))) => Miss::Failed(Failure::Lookup(e.into())),
            Ok(Ok(Ok(found))) => {
                if let Some(key) = key {
                    let mut cache = lock(&self.cache);
                    cache.insert(key.to_owned(), found.clone(), self.started.elapsed());
                    self.metrics.cache_entries.set(cache.len() as i64);
                }
                Miss::Found(found)
            }
        }
    }

    /// The machines of `found` in `format`: the texts as they are, or their
    /// events, mapped now.
    async fn render(&self, format: Format, found: Found) -> Miss {
        let schema = match format {
            Format::Ocsf => Schema::Ocsf,
            Format::Ecs => Schema::Ecs,
            _ => return Miss::Found(found),
        };
        let level = self.log_level;
        let outcome = self
            .mappers
            .run(self.max_wait, move |instance| {
                let events = found::events(instance, schema, &found, now_ms());
                super::print_logs(instance, level);
                let events = events.map_err(|trap| scrubbed_trap(instance, &trap))?;
                Ok(events.map(|texts| found.with_texts(texts)))
            })
            .await;
        match outcome {
            Err(Busy) => Miss::Busy,
            Ok(Err(trap)) => Miss::Trapped(trap),
            Ok(Ok(Err(why))) => Miss::Failed(Failure::Events(why)),
            Ok(Ok(Ok(events))) => Miss::Found(events),
        }
    }

    /// The HTTP answer, as the proxy component gives it.
    async fn reply(&self, format: Format, miss: Miss, age: Option<Duration>) -> Reply {
        let miss = match miss {
            Miss::Found(found) => self.render(format, found).await,
            other => other,
        };
        let redact = |text: &str| self.secrets.scrub(text.to_owned());
        // `answer` says `x-mde-cache` (and `age`) itself; the service's own
        // problems are misses too.
        let mut problem = match miss {
            Miss::Found(found) => {
                let rendered = if let Some(id) = found.no_machine() {
                    Err(Failure::NoMachine {
                        id: id.to_owned(),
                        cached_age: age,
                    })
                } else if let Found::Prevalence(json) = &found {
                    Ok(Output {
                        body: format!("{json}\n").into_bytes(),
                        cap_reached: false,
                        cached_age: age,
                    })
                } else {
                    mde_router::render(format, found.texts()).map(|body| Output {
                        body,
                        cap_reached: found.cap_reached(),
                        cached_age: age,
                    })
                };
                return mde_proxy::answer(format, rendered, &redact);
            }
            Miss::Failed(failure) => {
                if is_budget_shed(&failure) {
                    self.metrics.shed("budget");
                }
                return mde_proxy::answer(format, Err(failure), &redact);
            }
            Miss::Trapped(why) => mde_proxy::problem(500, "trap", &why, &redact),
            Miss::Busy => {
                self.metrics.shed("busy");
                let detail = format!(
                    "every instance stayed busy for --max-wait ({} s); retry in {BUSY_RETRY_AFTER} s",
                    self.max_wait.as_secs()
                );
                let mut reply = mde_proxy::problem(503, "busy", &detail, &redact);
                reply
                    .headers
                    .push(("retry-after".into(), BUSY_RETRY_AFTER.to_string()));
                reply
            }
        };
        problem.headers.push(("x-mde-cache".into(), "miss".into()));
        problem
    }
}

/// The host's own `429`, when its budget could not serve the call within
/// `--max-wait` (see the gateway): this service shed it.
fn is_budget_shed(failure: &Failure) -> bool {
    matches!(failure, Failure::Lookup(mde_connector::Error::RateLimited(later))
        if later.details.code.as_deref() == Some("HostBudgetExhausted"))
}

fn scrubbed_trap(instance: &Instance, trap: &anyhow::Error) -> String {
    instance.state().secrets().scrub(format!("{trap:#}"))
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}
