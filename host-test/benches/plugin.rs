//! What the plugin costs its host, side by side with native code, in one run.
//!
//! `cargo bench -p host-test --bench plugin` prints criterion's figures, then
//! a table of the targets read back from criterion's own estimates.

use criterion::{Criterion, Throughput, criterion_group};
use host_test::fake_tenant::{self, FakeTenant};
use mde_connector::http::{Request as CoreRequest, Response as CoreResponse, TransportError};
use mde_connector_host::budget::Limits;
use mde_connector_host::cache;
use mde_connector_host::clock::ManualClock;
use mde_connector_host::gateway::{Policy, PolicyOptions};
use mde_connector_host::runtime::{self, COMPONENT, Request, Response, RuntimeOptions};
use mde_connector_host::transport::FnTransport;
use mde_connector_host::{Auth, ClientCredentials, Cloud, Runtime, Settings};
use std::hint::black_box;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

/// The largest answer the service gives: 500 machines, every field filled.
fn largest_answer() -> Vec<u8> {
    let value: Vec<_> = (0..500).map(fake_tenant::full_machine).collect();
    serde_json::json!({"@odata.context": "x#Machines", "value": value})
        .to_string()
        .into_bytes()
}

fn host_managed() -> Settings {
    Settings {
        cloud: Cloud::Commercial,
        auth: Auth::HostManaged,
    }
}

fn stub(
    body: Vec<u8>,
) -> FnTransport<impl FnMut(&Request) -> Result<Response, runtime::TransportError>> {
    FnTransport(move |_: &Request| {
        Ok(Response {
            status: 200,
            headers: vec![("content-type".into(), "application/json".into())],
            body: body.clone().into(),
        })
    })
}

/// The core's host, natively: the same stub answer.
struct NativeStub(Vec<u8>);

impl mde_connector::Host for NativeStub {
    fn send(&mut self, _: &CoreRequest) -> Result<CoreResponse, TransportError> {
        Ok(CoreResponse {
            status: 200,
            headers: vec![("content-type".into(), "application/json".into())],
            body: self.0.clone(),
        })
    }
    fn log(&mut self, _: mde_connector::Level, _: &str, _: &str) {}
}

/// The gateway's policy without a budget: the service's 100 calls a minute
/// would otherwise make the host wait, and the figure would be the wait.
fn unlimited() -> PolicyOptions {
    PolicyOptions {
        limits: Limits {
            per_minute: usize::MAX,
            per_hour: usize::MAX,
        },
        ..PolicyOptions::default()
    }
}

fn lookup_500(c: &mut Criterion) {
    let body = largest_answer();
    // `MDE_PERF_MAP=1` for `perf` to name the guest's code (BENCHMARKS.md).
    let options = RuntimeOptions {
        perf_map: std::env::var_os("MDE_PERF_MAP").is_some(),
        ..RuntimeOptions::default()
    };
    let runtime = Runtime::with_options(COMPONENT, options)
        .unwrap()
        .with_policy(unlimited());
    let mut instance = runtime
        .instantiate(host_managed(), stub(body.clone()))
        .unwrap();
    assert_eq!(
        instance
            .domain_machines("contoso.com")
            .unwrap()
            .unwrap()
            .len(),
        500
    );

    let mut group = c.benchmark_group("lookup-500");
    group.bench_function("component", |b| {
        b.iter(|| {
            black_box(
                instance
                    .domain_machines(black_box("contoso.com"))
                    .unwrap()
                    .unwrap(),
            )
        })
    });
    // What lifting costs the host at the least: allocating and copying the
    // same strings, without reading them out of linear memory.
    let lifted = instance.domain_machines("contoso.com").unwrap().unwrap();
    group.bench_function("host-copy-of-result", |b| {
        b.iter(|| black_box(lifted.clone()))
    });
    let mut connector = mde_connector::Connector::default();
    let settings = mde_connector::Settings::default();
    let mut native = NativeStub(body);
    group.bench_function("native", |b| {
        b.iter(|| {
            black_box(
                connector
                    .lookup(&settings, black_box("contoso.com"), &mut native)
                    .unwrap(),
            )
        })
    });
    // The same answer as JSON texts (`lookup-texts`), and natively the same
    // work: the lookup, each machine's text sliced from the answer.
    group.bench_function("component-texts", |b| {
        b.iter(|| {
            black_box(
                instance
                    .lookup_texts(black_box("contoso.com"))
                    .unwrap()
                    .unwrap(),
            )
        })
    });
    group.bench_function("native-texts", |b| {
        b.iter(|| {
            black_box(
                connector
                    .lookup_texts(&settings, black_box("contoso.com"), &mut native)
                    .unwrap(),
            )
        })
    });
    group.finish();
}

fn instantiate(c: &mut Criterion) {
    let mut group = c.benchmark_group("instantiate");
    for (name, pooling) in [("default", false), ("pooling", true)] {
        let runtime = Runtime::with_options(
            COMPONENT,
            RuntimeOptions {
                pooling,
                cache_dir: Some(cache_dir()),
                ..RuntimeOptions::default()
            },
        )
        .unwrap();
        group.bench_function(name, |b| {
            b.iter(|| {
                black_box(
                    runtime
                        .instantiate(host_managed(), stub(Vec::new()))
                        .unwrap(),
                )
            })
        });
    }
    // Of each instantiation: the policy the gateway is built with, from the
    // settings (the cloud's endpoints, their origins parsed).
    group.bench_function("gateway-policy", |b| {
        b.iter(|| {
            let endpoints = black_box(host_managed()).cloud.endpoints().unwrap();
            black_box(Policy::for_endpoints(&endpoints, PolicyOptions::default()).unwrap())
        })
    });
    group.finish();
}

fn cache_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target/bench-component-cache")
}

fn load(c: &mut Criterion) {
    let engine = wasmtime::Engine::default();
    let mut group = c.benchmark_group("load");
    group.sample_size(10);
    group.bench_function("compile", |b| {
        b.iter(|| black_box(cache::load(&engine, COMPONENT, None).unwrap().component))
    });
    let dir = cache_dir();
    cache::load(&engine, COMPONENT, Some(&dir)).unwrap();
    group.sample_size(100);
    group.bench_function("cached", |b| {
        b.iter(|| {
            black_box(
                cache::load(&engine, COMPONENT, Some(&dir))
                    .unwrap()
                    .component,
            )
        })
    });
    group.finish();
}

fn throughput(c: &mut Criterion) {
    let clock = Arc::new(ManualClock::default());
    let fake = FakeTenant::new(clock.clone());
    // The fake tenant's own limits (1,500 an hour): move its clock on by more
    // than 2.4 s a call so they never bind.
    let transport = FnTransport({
        let mut fake = fake;
        let clock = clock.clone();
        move |r: &Request| {
            clock.advance(Duration::from_secs(3));
            Ok(fake.handle(r))
        }
    });
    let settings = Settings {
        cloud: Cloud::Commercial,
        auth: Auth::ClientCredentials(ClientCredentials {
            tenant_id: fake_tenant::TENANT_ID.into(),
            client_id: fake_tenant::CLIENT_ID.into(),
            client_secret: fake_tenant::CLIENT_SECRET.into(),
        }),
    };
    let runtime = Runtime::new()
        .unwrap()
        .with_clock(clock)
        // No budget: the figure is the component's and the host's, not a wait.
        .with_policy(unlimited());
    let mut instance = runtime.instantiate(settings, transport).unwrap();
    let mut group = c.benchmark_group("throughput");
    group.throughput(Throughput::Elements(1));
    group.bench_function("fake-tenant-lookup", |b| {
        b.iter(|| black_box(instance.lookup("contoso.com").unwrap().unwrap()))
    });
    group.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .output_directory(&output_dir())
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3));
    targets = lookup_500, instantiate, load, throughput
}

fn output_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target/criterion")
}

/// Criterion's mean estimate for one benchmark, in nanoseconds.
fn mean_ns(id: &str) -> Option<f64> {
    let path = output_dir().join(id).join("new/estimates.json");
    let json: serde_json::Value = serde_json::from_slice(&std::fs::read(path).ok()?).ok()?;
    json["mean"]["point_estimate"].as_f64()
}

/// Criterion's median estimate for one benchmark, in nanoseconds.
fn median_ns(id: &str) -> Option<f64> {
    let path = output_dir().join(id).join("new/estimates.json");
    let json: serde_json::Value = serde_json::from_slice(&std::fs::read(path).ok()?).ok()?;
    json["median"]["point_estimate"].as_f64()
}

/// The Python a user would otherwise write (`benches/xsoar_peer.py`: `json.loads`
/// and an XSOAR-style rename) on the same body, timed in its own process: its
/// median in microseconds, or why there is none.
fn python_peer() -> Result<f64, String> {
    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("benches/xsoar_peer.py");
    let body_path = output_dir().join("largest-answer.json");
    std::fs::create_dir_all(output_dir()).map_err(|e| e.to_string())?;
    std::fs::write(&body_path, largest_answer()).map_err(|e| e.to_string())?;
    let output = std::process::Command::new("python3")
        .arg(&script)
        .arg(&body_path)
        .output()
        .map_err(|e| format!("no python3 ({e})"))?;
    if !output.status.success() {
        return Err(format!(
            "python3 failed: {}",
            String::from_utf8_lossy(&output.stderr).trim()
        ));
    }
    let stdout = String::from_utf8_lossy(&output.stdout);
    let mut fields = stdout.split_whitespace();
    let median = fields.next().and_then(|m| m.parse().ok());
    match (median, fields.next()) {
        (Some(median), Some("500")) => Ok(median),
        _ => Err(format!("unexpected output from the peer: {stdout}")),
    }
}

/// Linear memory after the 500-machine call, and the component's size.
fn footprint() -> (usize, usize) {
    let runtime = Runtime::new().unwrap();
    let mut instance = runtime
        .instantiate(host_managed(), stub(largest_answer()))
        .unwrap();
    instance.domain_machines("contoso.com").unwrap().unwrap();
    (instance.peak_memory(), COMPONENT.len())
}

fn report() {
    let us = |id: &str| mean_ns(id).map(|ns| ns / 1_000.0);
    let show =
        |v: Option<f64>, unit: &str| v.map_or("not run".to_owned(), |v| format!("{v:.1} {unit}"));
    let verdict = |ok: Option<bool>| match ok {
        Some(true) => "met",
        Some(false) => "MISSED",
        None => "-",
    };
    let component = us("lookup-500/component");
    let native = us("lookup-500/native");
    let ratio = component.zip(native).map(|(c, n)| c / n);
    let pooling = us("instantiate/pooling");
    let cached = us("load/cached");
    let (memory, size) = footprint();
    // Only when this run measured the component on the same body.
    let peer = component.map(|_| python_peer());
    let component_median = median_ns("lookup-500/component").map(|ns| ns / 1_000.0);
    let per_second = us("throughput/fake-tenant-lookup").map(|u| 1e6 / u);
    println!();
    println!("| figure | value | target | |");
    println!("|---|---|---|---|");
    println!(
        "| (1) domain-machines, 500 machines, component | {} | | |",
        show(component, "µs")
    );
    println!("| (2) the same, native | {} | | |", show(native, "µs"));
    println!(
        "| of (1): a host-side copy of the result (lower bound of lifting) | {} | | |",
        show(us("lookup-500/host-copy-of-result"), "µs")
    );
    println!(
        "| (1)/(2) | {} | ≤ 2.5 | {} |",
        ratio.map_or("-".into(), |r| format!("{r:.2}")),
        verdict(ratio.map(|r| r <= 2.5))
    );
    match &peer {
        Some(Ok(python)) => {
            let share = component_median.map(|c| c / python);
            println!(
                "| (3) the same body in Python: json.loads and an XSOAR-style rename (median) | {python:.1} µs | | |"
            );
            println!(
                "| (1), median / (3) | {} | | |",
                share.map_or("-".into(), |s| format!("{s:.2}"))
            );
        }
        Some(Err(why)) => println!("| (3) Python peer | not run: {why} | | |"),
        None => {}
    }
    let texts = us("lookup-500/component-texts");
    let native_texts = us("lookup-500/native-texts");
    println!(
        "| (4) lookup-texts, 500 machines, component | {} | | |",
        show(texts, "µs")
    );
    println!(
        "| (5) the same, native (`Connector::lookup_texts`) | {} | | |",
        show(native_texts, "µs")
    );
    println!(
        "| (4)/(5) | {} | | |",
        texts
            .zip(native_texts)
            .map_or("-".into(), |(t, n)| format!("{:.2}", t / n))
    );
    if let (Some(Ok(python)), Some(texts)) = (&peer, median_ns("lookup-500/component-texts")) {
        let share = texts / 1_000.0 / python;
        println!(
            "| (4), median / (3) | {share:.2} | ≤ 1 | {} |",
            verdict(Some(share <= 1.0))
        );
    }
    println!(
        "| instantiate, default allocator | {} | | |",
        show(us("instantiate/default"), "µs")
    );
    println!(
        "| instantiate, pooling allocator | {} | ≤ 10 µs | {} |",
        show(pooling, "µs"),
        verdict(pooling.map(|p| p <= 10.0))
    );
    println!(
        "| of which: the gateway's policy from the settings | {} | | |",
        show(us("instantiate/gateway-policy"), "µs")
    );
    println!(
        "| load: compile | {} | | |",
        show(us("load/compile").map(|u| u / 1_000.0), "ms")
    );
    println!(
        "| load: cached | {} | ≤ 1 ms | {} |",
        show(cached.map(|u| u / 1_000.0), "ms"),
        verdict(cached.map(|c| c <= 1_000.0))
    );
    println!(
        "| linear memory after 500 machines | {:.2} MiB | ≤ 8 MiB | {} |",
        memory as f64 / 1048576.0,
        verdict(Some(memory <= 8 << 20))
    );
    println!(
        "| release component | {:.1} KB ({size} bytes) | ≤ 450 KB | {} |",
        size as f64 / 1000.0,
        verdict(Some(size <= 450_000))
    );
    println!(
        "| lookups per second, one core, fake tenant | {} | | |",
        per_second.map_or("not run".into(), |p| format!("{p:.0}"))
    );
}

fn main() {
    benches();
    Criterion::default().configure_from_args().final_summary();
    report();
}
