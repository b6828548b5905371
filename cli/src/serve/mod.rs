//! `mde-connector serve`: the enrichment service as a native process. It
//! answers the proxy component's routes with the proxy's own code
//! (`mde_proxy::route`, `answer`, problem details), adds `/metrics`, and
//! holds what a WebAssembly platform's instances cannot share: one rate
//! budget, one access token and one result cache for every request.

mod enricher;
mod found;
mod metrics;
mod pool;

use crate::options::Options;
use anyhow::{Context, Result};
use bytes::Bytes;
use clap::Args;
use enricher::Enricher;
use http_body_util::Full;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use mde_connector::connector::Level;
use mde_connector_host::clock::Clock;
use mde_connector_host::fake_tenant::FakeTenant;
use mde_connector_host::live::{LiveOptions, LiveTransport};
use mde_connector_host::transport::Transport;
use mde_connector_host::{Instance, Runtime};
use mde_proxy::{Reply, Route};
use mde_router::cache::{self, ResultCache};
use metrics::{Counted, Metrics};
use prometheus_client::registry::Registry;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::sync::Semaphore;

#[derive(Args, Debug)]
pub struct ServeArgs {
    /// Where to listen. Loopback by default: the service has no
    /// authentication of its own; put it behind one to expose it.
    #[arg(long, default_value = "127.0.0.1:8080")]
    pub addr: SocketAddr,

    /// Seconds an answer is served again from the cache (0: no cache). 15
    /// minutes: the service's own data trails the devices' events by more,
    /// and 300 hot domains then cost 1,200 calls an hour, inside 1,500.
    #[arg(long, value_name = "SECONDS", default_value_t = cache::DEFAULT_TTL.as_secs())]
    pub cache_ttl: u64,

    /// Most answers the cache holds; the least recently used goes first.
    #[arg(long, value_name = "N", default_value_t = cache::DEFAULT_ENTRIES)]
    pub cache_entries: usize,

    /// Most lookups sent upstream at once (each holds an instance of the
    /// component); further misses wait up to --max-wait for one.
    #[arg(long, value_name = "N", default_value_t = 8, value_parser = clap::value_parser!(u16).range(1..=48))]
    pub concurrency: u16,

    /// Most connections open at once; more wait to be accepted.
    #[arg(long, value_name = "N", default_value_t = 1024)]
    pub max_connections: usize,

    /// Seconds a client has to send a request's line and headers before its
    /// connection is dropped (one that dribbles them holds nothing for long).
    #[arg(long, value_name = "SECONDS", default_value_t = 10, value_parser = clap::value_parser!(u64).range(1..=300))]
    pub header_read_timeout: u64,

    /// The least severe of the component's log records printed on stderr
    /// (as JSON lines): debug, info, warn or error.
    #[arg(long, env = "MDE_LOG", default_value = "warn", value_parser = crate::lookup::level)]
    pub log_level: Level,

    #[command(flatten)]
    pub options: Options,
}

/// The most a request's line and headers may take (hyper answers 431 past it).
const MAX_HEADER_BYTES: usize = 16 * 1024;
/// The longest path and query served (a domain is at most 253 characters).
const MAX_PATH_BYTES: usize = 2048;
/// How long requests in flight may take to finish after SIGINT or SIGTERM.
const DRAIN: Duration = Duration::from_secs(10);
/// Instances for events and refused domains (they never wait on the network).
const MAPPERS: usize = 2;

pub fn run(args: &ServeArgs) -> Result<()> {
    let options = &args.options;
    let settings = options.settings()?;
    let runtime = options.runtime()?;
    let (metrics, registry) = Metrics::new();
    let transport = transports(options.live, runtime.clock().clone(), metrics.clone());
    let instances = |n: usize| -> Result<Vec<Instance>> {
        (0..n)
            .map(|_| runtime.instantiate(settings.clone(), transport()?))
            .collect()
    };
    let enricher = Arc::new(Enricher::new(enricher::Parts {
        lookups: pool::Pool::new(instances(usize::from(args.concurrency))?),
        mappers: pool::Pool::new(instances(MAPPERS)?),
        cache: ResultCache::new(Duration::from_secs(args.cache_ttl), args.cache_entries),
        metrics,
        max_wait: Duration::from_secs(options.max_wait),
        log_level: args.log_level,
        settings,
    }));
    let service = Arc::new(Service {
        enricher,
        registry,
        runtime,
    });
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?
        .block_on(listen(service, args))
}

/// A fresh transport for each instance: the network, or the one demo tenant
/// they all share; counted for `/metrics`.
fn transports(
    live: bool,
    clock: Arc<dyn Clock>,
    metrics: Metrics,
) -> impl Fn() -> Result<Box<dyn Transport + Send>> {
    let demo = Arc::new(Mutex::new(FakeTenant::new(clock)));
    move || -> Result<Box<dyn Transport + Send>> {
        let metrics = metrics.clone();
        Ok(match live {
            true => Box::new(Counted {
                inner: LiveTransport::new(&LiveOptions::default()).map_err(anyhow::Error::msg)?,
                metrics,
            }),
            false => Box::new(Counted {
                inner: demo.clone(),
                metrics,
            }),
        })
    }
}

struct Service {
    enricher: Arc<Enricher>,
    registry: Registry,
    runtime: Runtime,
}

async fn listen(service: Arc<Service>, args: &ServeArgs) -> Result<()> {
    let listener = TcpListener::bind(args.addr)
        .await
        .with_context(|| format!("listening on {}", args.addr))?;
    log_event("info", "listening", &listener.local_addr()?.to_string());
    let connections = Arc::new(Semaphore::new(args.max_connections.max(1)));
    let graceful = GracefulShutdown::new();
    let mut stop = std::pin::pin!(shutdown_signal());
    loop {
        let permit = tokio::select! {
            permit = connections.clone().acquire_owned() => permit?,
            () = &mut stop => break,
        };
        let (stream, _) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                // Out of descriptors, a reset before accept: keep serving.
                Err(_) => continue,
            },
            () = &mut stop => break,
        };
        let service = service.clone();
        let handler = hyper::service::service_fn(move |request| {
            let service = service.clone();
            async move { Ok::<_, std::convert::Infallible>(service.answer(request).await) }
        });
        let connection = hyper::server::conn::http1::Builder::new()
            .timer(TokioTimer::new())
            .header_read_timeout(Duration::from_secs(args.header_read_timeout))
            .max_buf_size(MAX_HEADER_BYTES)
            .serve_connection(TokioIo::new(stream), handler);
        let connection = graceful.watch(connection);
        tokio::spawn(async move {
            let _ = connection.await;
            drop(permit);
        });
    }
    drop(listener);
    log_event(
        "info",
        "draining",
        "stopped accepting; finishing requests in flight",
    );
    if tokio::time::timeout(DRAIN, graceful.shutdown())
        .await
        .is_err()
    {
        log_event(
            "warn",
            "drain-timeout",
            "requests still in flight were cut off",
        );
    }
    Ok(())
}

impl Service {
    async fn answer(&self, request: hyper::Request<Incoming>) -> hyper::Response<Full<Bytes>> {
        let method = request.method().as_str();
        let path = request.uri().path_and_query().map_or("/", |p| p.as_str());
        let redact = |text: &str| self.enricher.secrets.scrub(text.to_owned());
        let reply = if path.len() > MAX_PATH_BYTES {
            let detail = format!(
                "the path is {} bytes; the most is {MAX_PATH_BYTES}",
                path.len()
            );
            mde_proxy::problem(414, "invalid-request", &detail, &redact)
        } else if request.uri().path() == "/metrics" {
            self.metrics(method, &redact)
        } else {
            match mde_proxy::route(method, path, &redact) {
                Err(refused) => refused,
                // The settings were checked when the instances were made.
                Ok(Route::Healthz) => mde_proxy::healthz(None, &redact),
                Ok(Route::Lookup { query, format }) => self.enricher.lookup(&query, format).await,
            }
        };
        response(reply)
    }

    /// `GET /metrics`, with the budget left read now.
    fn metrics(&self, method: &str, redact: &mde_proxy::Redact<'_>) -> Reply {
        if method != "GET" {
            let detail = format!("{method} is not allowed here: only GET");
            let mut reply = mde_proxy::problem(405, "method-not-allowed", &detail, redact);
            reply.headers.push(("allow".into(), "GET".into()));
            return reply;
        }
        let left = self.runtime.budget_left(&self.enricher.settings.auth);
        for (window, value) in [("minute", left.per_minute), ("hour", left.per_hour)] {
            let labels = metrics::Window {
                window: window.into(),
            };
            let gauge = self.enricher.metrics.budget_left.get_or_create(&labels);
            gauge.set(i64::try_from(value).unwrap_or(i64::MAX));
        }
        let mut text = String::new();
        if prometheus_client::encoding::text::encode(&mut text, &self.registry).is_err() {
            return mde_proxy::problem(500, "metrics", "the metrics could not be written", redact);
        }
        Reply {
            status: 200,
            headers: vec![
                ("content-type".into(), metrics::CONTENT_TYPE.into()),
                ("cache-control".into(), "no-store".into()),
            ],
            body: text.into_bytes(),
        }
    }
}

fn response(reply: Reply) -> hyper::Response<Full<Bytes>> {
    let mut response = hyper::Response::new(Full::new(Bytes::from(reply.body)));
    *response.status_mut() = hyper::StatusCode::from_u16(reply.status)
        .unwrap_or(hyper::StatusCode::INTERNAL_SERVER_ERROR);
    for (name, value) in reply.headers {
        // hyper sets content-length from the body itself.
        if name == "content-length" {
            continue;
        }
        if let (Ok(name), Ok(value)) = (
            hyper::header::HeaderName::try_from(name),
            hyper::header::HeaderValue::try_from(value),
        ) {
            response.headers_mut().append(name, value);
        }
    }
    response
}

/// SIGINT or SIGTERM.
async fn shutdown_signal() {
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        () = terminate => {}
    }
}

/// The service's own events on stderr, one JSON object a line.
fn log_event(level: &str, event: &str, message: &str) {
    let line = serde_json::json!({"level": level, "event": event, "message": message});
    eprintln!("{line}");
}

/// The component's log records at `least` or above, as JSON lines (control
/// characters escaped, messages bounded as error lines are).
pub fn print_logs(instance: &mut Instance, least: Level) {
    for record in instance.state_mut().logs.drain(..) {
        let level = Level::from(record.level);
        if level.at_least(least) {
            let message = mde_connector::output::one_line(&record.message);
            let event = mde_connector::output::one_line(&record.event);
            log_event(level.name(), &event, &message);
        }
    }
}
