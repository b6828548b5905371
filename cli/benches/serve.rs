//! A pipeline's enrichment stream (issue 22): 10,000 lookups over 500
//! domains, Zipf-distributed, to `mde-connector serve` and, in the same run,
//! to the proxy component under the released `wasmtime serve` with instance
//! reuse, each in front of the fake tenant on 127.0.0.1 (a custom cloud,
//! client credentials):
//!
//! ```sh
//! WASMTIME_CLI=/path/to/wasmtime cargo bench -p mde-connector-cli --bench serve
//! ```
//!
//! Each service gets the stream from one client, then from eight at once
//! (keep-alive connections). The report gives API calls and token requests
//! that reached the tenant, the hit ratio, p50 and p99 of hits and misses,
//! and requests a second. The budget is raised (`--rate-per-minute`) so that
//! misses are not throttled; the fake's own clock moves a second per miss, so
//! it never throttles either. No figure is asserted: these machines are
//! shared and noisy.

#[path = "../../host-test/tests/stock/mod.rs"]
mod stock;

use mde_connector_host::clock::ManualClock;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use stock::{Service, Tenant, Wasmtime};

const LOOKUPS: usize = 10_000;
const DISTINCT: usize = 500;

fn main() {
    // `cargo bench` passes --bench; `cargo test --benches` passes nothing.
    if !std::env::args().any(|a| a == "--bench") {
        return;
    }
    let domains = stock::zipf_domains(LOOKUPS, DISTINCT, 22);
    let distinct = domains
        .iter()
        .collect::<std::collections::HashSet<_>>()
        .len();
    println!("{LOOKUPS} lookups over {distinct} distinct domains (Zipf)\n");
    println!(
        "| service | clients | API calls | token requests | hit ratio | hits p50 / p99 | misses p50 / p99 | requests/s |"
    );
    println!("|---|---|---|---|---|---|---|---|");
    for clients in [1, 8] {
        let (clock, tenant) = tenant();
        let service = mde_connector_serve(&tenant);
        println!(
            "{}",
            stream(
                "mde-connector serve",
                &service,
                &tenant,
                &clock,
                &domains,
                clients
            )
        );
    }
    let Some(wasmtime) = Wasmtime::find("the serve bench's wasmtime row") else {
        return;
    };
    let reuse = [
        "--max-instance-reuse-count",
        "100000",
        "--idle-instance-timeout",
        "600s",
    ];
    for clients in [1, 8] {
        let (clock, tenant) = tenant();
        let service = wasmtime.serve_with(&reuse, &tenant.env());
        println!(
            "{}",
            stream(
                "wasmtime serve (proxy, reuse)",
                &service,
                &tenant,
                &clock,
                &domains,
                clients
            )
        );
    }
}

fn tenant() -> (Arc<ManualClock>, Tenant) {
    let clock = Arc::new(ManualClock::default());
    let tenant = Tenant::start_on(clock.clone());
    (clock, tenant)
}

fn mde_connector_serve(tenant: &Tenant) -> Service {
    let addr = stock::free_addr();
    let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_mde-connector"));
    command
        .args(["serve", "--live", "--allow-loopback-http"])
        .args(["--addr", &addr.to_string()])
        .args(["--rate-per-minute", "1000000", "--rate-per-hour", "1000000"])
        .args([
            "--cache-dir",
            concat!(env!("CARGO_TARGET_TMPDIR"), "/component-cache"),
        ]);
    for (name, value) in tenant.env() {
        command.env(name, value);
    }
    Service::spawn(command, addr)
}

/// The stream from `clients` threads (each takes every `clients`-th lookup);
/// one row of the report.
fn stream(
    name: &str,
    service: &Service,
    tenant: &Tenant,
    clock: &ManualClock,
    domains: &[String],
    clients: usize,
) -> String {
    let (hits, misses) = (Mutex::new(Vec::new()), Mutex::new(Vec::new()));
    let started = Instant::now();
    std::thread::scope(|scope| {
        for client in 0..clients {
            let (hits, misses) = (&hits, &misses);
            scope.spawn(move || {
                for domain in domains.iter().skip(client).step_by(clients) {
                    let asked = Instant::now();
                    let answer = service.get(&format!("/domains/{domain}/machines"));
                    let took = asked.elapsed();
                    assert_eq!(answer.status, 200, "{domain}: {}", answer.body);
                    if answer.header("x-mde-cache") == Some("hit") {
                        hits.lock().unwrap().push(took);
                    } else {
                        misses.lock().unwrap().push(took);
                        clock.advance(Duration::from_secs(1));
                    }
                }
            });
        }
    });
    let elapsed = started.elapsed();
    let (tokens, api) = tenant.requests();
    let (mut hits, mut misses) = (hits.into_inner().unwrap(), misses.into_inner().unwrap());
    hits.sort();
    misses.sort();
    format!(
        "| {name} | {clients} | {api} | {tokens} | {:.3} | {} | {} | {:.0} |",
        hits.len() as f64 / domains.len() as f64,
        latency(&hits),
        latency(&misses),
        domains.len() as f64 / elapsed.as_secs_f64()
    )
}

fn latency(sorted: &[Duration]) -> String {
    if sorted.is_empty() {
        return "none".to_owned();
    }
    let at = |p: usize| sorted[(sorted.len() - 1) * p / 100].as_secs_f64() * 1e3;
    format!("{:.2} / {:.2} ms", at(50), at(99))
}
