//! `/metrics`: what an operator watches on a busy pipeline, in the
//! Prometheus text format: calls to the tenant by kind and status, the
//! cache, lookups in flight, requests shed, the budget left, latencies.

use mde_connector_host::runtime::{Request, Response, TransportError};
use mde_connector_host::transport::Transport;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;
use std::time::Duration;

/// The exposition format's content type.
pub const CONTENT_TYPE: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct Upstream {
    /// `token` or `api`.
    pub kind: String,
    /// The HTTP status, or `error` when no answer came.
    pub status: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct Cache {
    /// `hit` or `miss`.
    pub cache: String,
    /// The lookup, by its name in the contract: `domain-machines`,
    /// `file-machines`, ..., `ip-stats`.
    pub lookup: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct Reason {
    /// `budget` (the rate budget could not serve it within --max-wait) or
    /// `busy` (no instance came free within --max-wait).
    pub reason: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct Window {
    /// `minute` or `hour`.
    pub window: String,
}

type Latency = Family<Cache, Histogram, fn() -> Histogram>;

/// Every metric, registered once; clones share them.
#[derive(Clone)]
pub struct Metrics {
    pub upstream: Family<Upstream, Counter>,
    pub lookups: Family<Cache, Counter>,
    pub cache_entries: Gauge,
    pub in_flight: Gauge,
    pub shed: Family<Reason, Counter>,
    pub budget_left: Family<Window, Gauge>,
    pub latency: Latency,
}

impl Metrics {
    pub fn new() -> (Self, Registry) {
        let metrics = Metrics {
            upstream: Family::default(),
            lookups: Family::default(),
            cache_entries: Gauge::default(),
            in_flight: Gauge::default(),
            shed: Family::default(),
            budget_left: Family::default(),
            // 100 µs to about 6.5 s, doubling.
            latency: Family::new_with_constructor(|| {
                Histogram::new(exponential_buckets(0.0001, 2.0, 17))
            }),
        };
        let mut registry = Registry::with_prefix("mde");
        registry.register(
            "upstream_requests",
            "Requests that reached the tenant (API) or its identity platform (token), by status",
            metrics.upstream.clone(),
        );
        registry.register(
            "lookups",
            "Lookups answered from the cache (hit) or upstream (miss), by lookup",
            metrics.lookups.clone(),
        );
        registry.register(
            "cache_entries",
            "Answers held in the cache",
            metrics.cache_entries.clone(),
        );
        registry.register(
            "lookups_in_flight",
            "Lookups sent upstream and not yet answered",
            metrics.in_flight.clone(),
        );
        registry.register(
            "shed",
            "Requests answered 503 because the budget or the instances could not serve them in time",
            metrics.shed.clone(),
        );
        registry.register(
            "budget_left",
            "API calls the rate budget still allows in the current minute and hour",
            metrics.budget_left.clone(),
        );
        registry.register(
            "request_duration_seconds",
            "Time to answer a lookup, by whether the cache held it and by lookup",
            metrics.latency.clone(),
        );
        (metrics, registry)
    }

    pub fn observe(&self, cache: &str, lookup: &str, took: Duration) {
        let labels = Cache {
            cache: cache.to_owned(),
            lookup: lookup.to_owned(),
        };
        self.lookups.get_or_create(&labels).inc();
        self.latency
            .get_or_create(&labels)
            .observe(took.as_secs_f64());
    }

    pub fn shed(&self, reason: &str) {
        self.shed
            .get_or_create(&Reason {
                reason: reason.to_owned(),
            })
            .inc();
    }
}

/// A transport that counts what reaches the tenant, behind the gateway (so
/// token answers the host shares and calls the budget refused are not
/// counted: they never left).
pub struct Counted<T> {
    pub inner: T,
    pub metrics: Metrics,
}

impl<T: Transport> Transport for Counted<T> {
    fn send(&mut self, request: &Request) -> Result<Response, TransportError> {
        let answer = self.inner.send(request);
        self.count(request, &answer);
        answer
    }

    fn send_within(
        &mut self,
        request: &Request,
        limit: Duration,
    ) -> Result<Response, TransportError> {
        let answer = self.inner.send_within(request, limit);
        self.count(request, &answer);
        answer
    }
}

impl<T> Counted<T> {
    fn count(&self, request: &Request, answer: &Result<Response, TransportError>) {
        let kind = if request.url.contains("/oauth2/") {
            "token"
        } else {
            "api"
        };
        let status = answer
            .as_ref()
            .map_or_else(|_| "error".to_owned(), |r| r.status.to_string());
        self.metrics
            .upstream
            .get_or_create(&Upstream {
                kind: kind.to_owned(),
                status,
            })
            .inc();
    }
}
