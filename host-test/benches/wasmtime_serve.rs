//! The enrichment service's latency per request under `wasmtime serve` (the
//! released CLI, as in `tests/wasmtime_cli.rs`), against the fake tenant on
//! 127.0.0.1 as a custom cloud with client credentials:
//!
//! ```sh
//! WASMTIME_CLI=/path/to/wasmtime cargo bench -p host-test --bench wasmtime_serve
//! ```
//!
//! Each request is timed on its own (a sequential HTTP/1.1 client, a new
//! connection each time) and the table gives the median and the 10th and
//! 90th percentiles. Every lookup is a fresh instance: a token request and an
//! API call to the fake, whose own share is measured alone as a baseline.
//! No figure is asserted: these machines are shared and noisy.
//!
//! Then the enrichment stream of issue 22: 10,000 lookups over 500 domains
//! (Zipf), one after another, to the proxy under `wasmtime serve` with
//! instance reuse, so one instance's token and cache serve them: API calls,
//! token requests, the hit ratio, latency of hits and misses, requests a
//! second.

#[path = "../tests/stock/mod.rs"]
mod stock;

use host_test::fake_tenant;
use mde_connector_host::clock::ManualClock;
use std::sync::Arc;
use std::time::{Duration, Instant};
use stock::{SCOPE, Tenant, Wasmtime};

const WARM_UP: usize = 5;

/// Times `requests` calls of `request`, after a warm-up; sorted.
fn timed(requests: usize, mut request: impl FnMut()) -> Vec<Duration> {
    for _ in 0..WARM_UP {
        request();
    }
    let mut times: Vec<Duration> = (0..requests)
        .map(|_| {
            let started = Instant::now();
            request();
            started.elapsed()
        })
        .collect();
    times.sort();
    times
}

fn percentile(sorted: &[Duration], p: usize) -> f64 {
    let i = (sorted.len() - 1) * p / 100;
    sorted[i].as_secs_f64() * 1e3
}

fn main() {
    // `cargo bench` passes --bench; `cargo test --benches` passes nothing: run
    // only when benchmarking.
    if !std::env::args().any(|a| a == "--bench") {
        return;
    }
    let Some(wasmtime) = Wasmtime::find("the wasmtime_serve bench") else {
        return;
    };
    // The fake enforces the service's rate limits; the bench makes more
    // calls than they allow, so its clock moves two hours before each one.
    let clock = Arc::new(ManualClock::default());
    let tenant = Tenant::start_on(clock.clone());
    let next_window = || clock.advance(Duration::from_secs(2 * 3600));
    let service = wasmtime.serve(&tenant.env());
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .proxy(None)
        .build()
        .into();
    let read = |answer: &mut ureq::http::Response<ureq::Body>| {
        answer
            .body_mut()
            .with_config()
            .limit(64 << 20)
            .read_to_string()
            .unwrap()
    };
    // The default format (JSON, one machine per line between the brackets).
    let get = |url: &str, machines: usize| {
        next_window();
        let mut answer = agent.get(url).call().unwrap();
        let body = read(&mut answer);
        assert_eq!(answer.status(), 200, "{body}");
        if machines > 0 {
            assert_eq!(body.lines().count(), machines + 2, "{url}");
        }
    };
    // The fake's own share of a lookup: the token request and the API call,
    // straight to it.
    let direct = |domain: &str, machines: usize| {
        next_window();
        let form = format!(
            "grant_type=client_credentials&client_id={}&client_secret={}&scope={SCOPE}",
            fake_tenant::CLIENT_ID,
            fake_tenant::CLIENT_SECRET
        );
        let origin = tenant.origin();
        let mut answer = agent
            .post(format!(
                "{origin}/{}/oauth2/v2.0/token",
                fake_tenant::TENANT_ID
            ))
            .content_type("application/x-www-form-urlencoded")
            .send(form)
            .unwrap();
        let token: serde_json::Value = serde_json::from_str(&read(&mut answer)).unwrap();
        let mut answer = agent
            .get(format!("{origin}/api/domains/{domain}/machines"))
            .header(
                "authorization",
                format!("Bearer {}", token["access_token"].as_str().unwrap()),
            )
            .call()
            .unwrap();
        // Read, not parsed: the service's figure does not parse its answer either.
        let body = read(&mut answer);
        assert_eq!(answer.status(), 200, "{body}");
        assert_eq!(body.matches("\"computerDnsName\"").count(), machines);
    };
    let url = |path: &str| service.url(path);
    let rows = [
        (
            "GET /healthz (an instance, no upstream request)",
            timed(200, || get(&url("/healthz"), 0)),
        ),
        (
            "GET /domains/contoso.com/machines (3 machines)",
            timed(100, || get(&url("/domains/contoso.com/machines"), 3)),
        ),
        (
            "GET /domains/fabrikam.com/machines (500 machines)",
            timed(60, || get(&url("/domains/fabrikam.com/machines"), 500)),
        ),
        (
            "baseline: token + API call straight to the fake, 3 machines",
            timed(100, || direct("contoso.com", 3)),
        ),
        (
            "baseline: token + API call straight to the fake, 500 machines",
            timed(60, || direct("fabrikam.com", 500)),
        ),
    ];
    drop(service);
    let stream = zipf_stream(&wasmtime);
    println!();
    println!("| request | n | median | p10 | p90 |");
    println!("|---|---|---|---|---|");
    for (what, times) in rows {
        println!(
            "| {what} | {} | {:.2} ms | {:.2} ms | {:.2} ms |",
            times.len(),
            percentile(&times, 50),
            percentile(&times, 10),
            percentile(&times, 90)
        );
    }
    println!();
    println!("{stream}");
}

/// The Zipf stream through `wasmtime serve` with instance reuse; its report.
fn zipf_stream(wasmtime: &Wasmtime) -> String {
    const LOOKUPS: usize = 10_000;
    const DISTINCT: usize = 500;
    // The fake enforces 100 calls a minute: its clock moves a second after
    // each miss, which is within that (and within a token's hour).
    let clock = Arc::new(ManualClock::default());
    let tenant = Tenant::start_on(clock.clone());
    let reuse = [
        "--max-instance-reuse-count",
        "100000",
        "--idle-instance-timeout",
        "600s",
    ];
    let service = wasmtime.serve_with(&reuse, &tenant.env());
    let domains = stock::zipf_domains(LOOKUPS, DISTINCT, 22);
    let distinct = domains
        .iter()
        .collect::<std::collections::HashSet<_>>()
        .len();
    let (mut hits, mut misses) = (Vec::new(), Vec::new());
    let started = Instant::now();
    for domain in &domains {
        let asked = Instant::now();
        let answer = service.get(&format!("/domains/{domain}/machines"));
        let took = asked.elapsed();
        assert_eq!(answer.status, 200, "{domain}: {}", answer.body);
        match answer.header("x-mde-cache") {
            Some("hit") => hits.push(took),
            _ => {
                misses.push(took);
                clock.advance(Duration::from_secs(1));
            }
        }
    }
    let elapsed = started.elapsed();
    let (tokens, api) = tenant.requests();
    hits.sort();
    misses.sort();
    let latency = |times: &[Duration]| {
        if times.is_empty() {
            return "none".to_owned();
        }
        format!(
            "p50 {:.2} ms, p99 {:.2} ms",
            percentile(times, 50),
            percentile(times, 99)
        )
    };
    format!(
        "Zipf stream through wasmtime serve (instance reuse), one request at a time: \
         {LOOKUPS} lookups over {distinct} distinct domains: {api} API calls, {tokens} token \
         request(s); hit ratio {:.3}; hits {}; misses {}; {:.0} requests a second",
        hits.len() as f64 / LOOKUPS as f64,
        latency(&hits),
        latency(&misses),
        LOOKUPS as f64 / elapsed.as_secs_f64()
    )
}
