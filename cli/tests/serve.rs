//! `mde-connector serve` as a pipeline uses it: the built binary on
//! 127.0.0.1, the fake tenant behind a loopback server as a custom cloud,
//! and a count of what reaches the tenant.

mod common;

use common::*;
use host_test::fake_server::{Encoding, FakeServer};
use host_test::fake_tenant::FakeTenant;
use mde_connector_host::clock::SystemClock;
use mde_connector_host::runtime::{Request, Response, TransportError};
use mde_connector_host::transport::Transport;
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Condvar, Mutex};
use std::time::Duration;

/// The fake tenant, whose API answers for domains starting `slow` wait
/// until the gate opens (an upstream that stalls, deterministically). The
/// server holds it locked while it answers: what arrived is noted apart.
struct Upstream {
    tenant: FakeTenant,
    gate: Arc<(Mutex<bool>, Condvar)>,
    arrived: Arc<Mutex<Vec<String>>>,
}

impl Transport for Upstream {
    fn send(&mut self, request: &Request) -> Result<Response, TransportError> {
        self.arrived.lock().unwrap().push(request.url.clone());
        if request.url.contains("/api/domains/slow") {
            let (open, opened) = &*self.gate;
            let mut open = open.lock().unwrap();
            while !*open {
                open = opened.wait(open).unwrap();
            }
        }
        Ok(self.tenant.handle(request))
    }
}

struct Tenant {
    server: FakeServer,
    arrived: Arc<Mutex<Vec<String>>>,
    gate: Arc<(Mutex<bool>, Condvar)>,
}

impl Tenant {
    fn new() -> Self {
        let gate = Arc::new((Mutex::new(true), Condvar::new()));
        let arrived = Arc::default();
        let upstream = Arc::new(Mutex::new(Upstream {
            tenant: FakeTenant::new(SystemClock::shared()),
            gate: gate.clone(),
            arrived: Arc::clone(&arrived),
        }));
        let server = FakeServer::start(upstream, Encoding::Identity).unwrap();
        Tenant {
            server,
            arrived,
            gate,
        }
    }

    /// Requests that reached the tenant whose URL holds `what`.
    fn count(&self, what: &str) -> usize {
        let arrived = self.arrived.lock().unwrap();
        arrived.iter().filter(|url| url.contains(what)).count()
    }

    fn set_gate(&self, open: bool) {
        *self.gate.0.lock().unwrap() = open;
        self.gate.1.notify_all();
    }

    /// The flags that make this tenant the CLI's live custom cloud.
    fn flags(&self) -> Vec<String> {
        live_custom_cloud(&self.server.origin())
    }
}

/// The service, started on a free port, stopped when dropped.
struct Served {
    child: Child,
    origin: String,
    stderr: Arc<Mutex<String>>,
    agent: ureq::Agent,
}

#[derive(Debug)]
struct Answer {
    status: u16,
    headers: Vec<(String, String)>,
    body: String,
}

impl Answer {
    fn header(&self, name: &str) -> Option<&str> {
        let found = self.headers.iter().find(|(n, _)| n == name);
        found.map(|(_, v)| v.as_str())
    }
}

impl Served {
    fn start(tenant: &Tenant, extra: &[&str]) -> Self {
        Self::start_with(tenant, extra, &demo_credentials())
    }

    /// The service with `env` as its only credentials' variables.
    fn start_with(tenant: &Tenant, extra: &[&str], env: &[(&str, &str)]) -> Self {
        let mut command = Command::new(env!("CARGO_BIN_EXE_mde-connector"));
        command.arg("serve").args(tenant.flags()).args(extra);
        command.args(["--addr", "127.0.0.1:0"]);
        command.args([
            "--cache-dir",
            concat!(env!("CARGO_TARGET_TMPDIR"), "/component-cache"),
        ]);
        for name in ENV {
            command.env_remove(name);
        }
        command.envs(env.iter().copied());
        let mut child = command
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
        let first = lines.next().unwrap().unwrap();
        let listening: serde_json::Value = serde_json::from_str(&first).unwrap();
        assert_eq!(listening["event"], "listening", "{first}");
        let origin = format!("http://{}", listening["message"].as_str().unwrap());
        let stderr = Arc::new(Mutex::new(String::new()));
        let collected = stderr.clone();
        std::thread::spawn(move || {
            for line in lines.map_while(Result::ok) {
                collected.lock().unwrap().push_str(&(line + "\n"));
            }
        });
        let agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .proxy(None)
            .timeout_global(Some(Duration::from_secs(120)))
            .build()
            .into();
        Served {
            child,
            origin,
            stderr,
            agent,
        }
    }

    fn get(&self, path: &str) -> Answer {
        let mut response = self
            .agent
            .get(&format!("{}{path}", self.origin))
            .call()
            .unwrap();
        let headers = response
            .headers()
            .iter()
            .map(|(n, v)| (n.to_string(), v.to_str().unwrap_or_default().to_owned()))
            .collect();
        Answer {
            status: response.status().as_u16(),
            headers,
            body: response
                .body_mut()
                .with_config()
                .limit(64 * 1024 * 1024)
                .read_to_string()
                .unwrap(),
        }
    }

    /// SIGTERM, then the exit status.
    fn terminate(&mut self) -> std::process::ExitStatus {
        let pid = self.child.id().to_string();
        Command::new("kill").args(["-TERM", &pid]).status().unwrap();
        self.child.wait().unwrap()
    }
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The same lookup through the CLI, `--format json`, against a tenant of
/// its own (so the counts above stay the service's).
fn cli_json(domain: &str) -> String {
    let tenant = Tenant::new();
    let flags = tenant.flags();
    let mut args: Vec<&str> = flags.iter().map(String::as_str).collect();
    args.extend([domain, "--format", "json"]);
    let out = cli(&args, &demo_credentials());
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    text(&out.stdout)
}

#[test]
fn two_hundred_requests_over_eleven_domains_cost_one_token_and_eleven_calls() {
    let tenant = Tenant::new();
    let served = Arc::new(Served::start(&tenant, &[]));
    // Eleven domains, each in several spellings: the four the fake knows
    // and seven it has no machines for.
    let domains: Vec<String> = ["contoso.com", "fabrikam.com", "xn--bcher-kva.example"]
        .into_iter()
        .map(str::to_owned)
        .chain(["legacy.example".to_owned()])
        .chain((0..7).map(|i| format!("empty-{i}.example")))
        .collect();
    let spellings = |domain: &str| {
        [
            domain.to_owned(),
            domain.to_ascii_uppercase(),
            format!("{domain}."),
        ]
    };
    let threads: Vec<_> = (0..200)
        .map(|i| {
            let served = served.clone();
            let domain = domains[i % domains.len()].clone();
            let spelling = spellings(&domain)[i % 3].clone();
            std::thread::spawn(move || {
                let answer = served.get(&format!("/domains/{spelling}/machines"));
                (domain, answer)
            })
        })
        .collect();
    let answers: Vec<(String, Answer)> = threads.into_iter().map(|t| t.join().unwrap()).collect();

    for domain in &domains {
        let expected = cli_json(domain);
        for (_, answer) in answers.iter().filter(|(d, _)| d == domain) {
            assert_eq!(answer.status, 200, "{domain}: {}", answer.body);
            assert_eq!(answer.body, expected, "{domain}");
        }
    }
    assert_eq!(tenant.count("/oauth2/"), 1, "one token request");
    assert_eq!(
        tenant.count("/api/"),
        11,
        "one API call per distinct domain"
    );
    // Requests that arrived while their domain's lookup was under way
    // shared it: misses, without an `age`; later ones are hits, with one.
    // Asked again, each domain is a hit.
    for (_, answer) in &answers {
        let cache = answer.header("x-mde-cache");
        assert!(matches!(cache, Some("hit" | "miss")), "{cache:?}");
        assert_eq!(cache == Some("hit"), answer.header("age").is_some());
    }
    for domain in &domains {
        let again = served.get(&format!(
            "/domains/{}/machines",
            domain.to_ascii_uppercase()
        ));
        assert_eq!(again.header("x-mde-cache"), Some("hit"), "{domain}");
        let age: u64 = again.header("age").unwrap().parse().unwrap();
        assert!(age < 900, "{age}");
    }
    assert_eq!(tenant.count("/api/"), 11);
    let metrics = served.get("/metrics").body;
    // legacy.example answers the older reference's 404: no machines.
    for (status, calls) in [(200, 10), (404, 1)] {
        let line =
            format!(r#"mde_upstream_requests_total{{kind="api",status="{status}"}} {calls}"#);
        assert!(metrics.contains(&line), "{metrics}");
    }
    assert!(metrics.contains("mde_cache_entries 11"), "{metrics}");
}

#[test]
fn a_budget_of_five_a_minute_sends_five_and_sheds_the_rest_with_retry_after() {
    let tenant = Tenant::new();
    let served = Arc::new(Served::start(
        &tenant,
        &["--rate-per-minute", "5", "--max-wait", "1"],
    ));
    let threads: Vec<_> = (0..12)
        .map(|i| {
            let served = served.clone();
            std::thread::spawn(move || served.get(&format!("/domains/new-{i}.example/machines")))
        })
        .collect();
    let answers: Vec<Answer> = threads.into_iter().map(|t| t.join().unwrap()).collect();

    assert!(tenant.count("/api/") <= 5, "{}", tenant.count("/api/"));
    let ok = answers.iter().filter(|a| a.status == 200).count();
    assert_eq!(ok, tenant.count("/api/"));
    for shed in answers.iter().filter(|a| a.status != 200) {
        assert_eq!(shed.status, 503, "{}", shed.body);
        let seconds: u64 = shed.header("retry-after").unwrap().parse().unwrap();
        assert!((1..=60).contains(&seconds), "{seconds}");
        assert_eq!(
            shed.header("content-type"),
            Some("application/problem+json")
        );
    }
    assert!((1..12).contains(&ok), "{ok}");
    let metrics = served.get("/metrics").body;
    assert!(metrics.contains("mde_shed_total"), "{metrics}");
    assert!(
        metrics.contains(r#"mde_budget_left{window="minute"} 0"#),
        "{metrics}"
    );
}

#[test]
fn a_stalled_upstream_takes_neither_health_nor_cache_hits_down() {
    let tenant = Tenant::new();
    let served = Arc::new(Served::start(&tenant, &["--concurrency", "2"]));
    assert_eq!(served.get("/domains/contoso.com/machines").status, 200);
    tenant.set_gate(false);
    // More stalled lookups than instances: every lookup instance waits.
    let stalled: Vec<_> = (0..4)
        .map(|i| {
            let served = served.clone();
            std::thread::spawn(move || served.get(&format!("/domains/slow-{i}.example/machines")))
        })
        .collect();
    while tenant.count("/api/domains/slow") == 0 {
        std::thread::sleep(Duration::from_millis(20));
    }
    // The upstream is stalled (the gate is shut, so none of those has
    // answered); health and hits still answer, events included.
    assert_eq!(served.get("/healthz").status, 200);
    for format in ["json", "ndjson", "ocsf", "ecs"] {
        let hit = served.get(&format!("/domains/CONTOSO.com/machines?format={format}"));
        assert_eq!(hit.status, 200, "{format}: {}", hit.body);
        assert_eq!(hit.header("x-mde-cache"), Some("hit"));
    }
    assert!(stalled.iter().all(|t| !t.is_finished()));
    tenant.set_gate(true);
    for thread in stalled {
        assert_eq!(thread.join().unwrap().status, 200);
    }
}

#[test]
fn sigterm_finishes_what_is_in_flight_and_exits_zero() {
    let tenant = Tenant::new();
    let mut served = Served::start(&tenant, &[]);
    let agent = served.agent.clone();
    tenant.set_gate(false);
    let url = format!("{}/domains/slow.example/machines", served.origin);
    let in_flight = std::thread::spawn(move || agent.get(&url).call().unwrap().status().as_u16());
    while tenant.count("/api/domains/slow") == 0 {
        std::thread::sleep(Duration::from_millis(20));
    }
    let pid = served.child.id().to_string();
    Command::new("kill").args(["-TERM", &pid]).status().unwrap();
    // Draining: the request in flight gets its answer once the tenant does.
    while !served.stderr.lock().unwrap().contains("draining") {
        std::thread::sleep(Duration::from_millis(20));
    }
    tenant.set_gate(true);
    assert_eq!(in_flight.join().unwrap(), 200);
    let status = served.terminate();
    assert_eq!(status.code(), Some(0), "{}", served.stderr.lock().unwrap());
}

#[test]
fn routes_and_problems_are_the_proxy_components() {
    let tenant = Tenant::new();
    let served = Served::start(&tenant, &[]);
    let refused = served.get("/domains/a..b/machines");
    assert_eq!(refused.status, 400);
    assert!(
        refused.body.contains(r#""kind":"invalid-domain""#),
        "{}",
        refused.body
    );
    assert_eq!(served.get("/nowhere").status, 404);
    let bad_format = served.get("/domains/contoso.com/machines?format=csv");
    assert_eq!(bad_format.status, 400);
    let long = served.get(&format!("/domains/{}/machines", "a".repeat(3000)));
    assert_eq!(long.status, 414);
    let fabrikam = served.get("/domains/fabrikam.com/machines?format=ndjson");
    assert_eq!(fabrikam.header("x-mde-cap-reached"), Some("true"));
    assert_eq!(fabrikam.body.lines().count(), 500);
    assert_eq!(tenant.count("/api/"), 1, "refused requests send nothing");
    // The cap-reached warning, as a JSON log line, once.
    let stderr = served.stderr.lock().unwrap().clone();
    let warnings = stderr
        .lines()
        .filter(|l| l.contains(r#""event":"result-cap-reached""#))
        .count();
    assert_eq!(warnings, 1, "{stderr}");
}

#[test]
fn a_batch_asks_once_per_distinct_domain_and_answers_every_line() {
    let tenant = Tenant::new();
    let file = replay_file("contoso.com\nCONTOSO.com\nfabrikam.com\ncontoso.com.\nfabrikam.com\n");
    let flags = tenant.flags();
    let mut args: Vec<&str> = flags.iter().map(String::as_str).collect();
    args.extend(["--domains", file.path().to_str().unwrap()]);
    let out = cli(&args, &demo_credentials());
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let records: Vec<serde_json::Value> = text(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let queried: Vec<_> = records.iter().map(|r| r["queriedDomain"].clone()).collect();
    assert_eq!(
        queried,
        [
            "contoso.com",
            "CONTOSO.com",
            "fabrikam.com",
            "contoso.com.",
            "fabrikam.com"
        ]
    );
    assert_eq!(records[1]["machines"], records[0]["machines"]);
    assert_eq!(records[1]["domain"], "contoso.com");
    assert_eq!(tenant.count("/api/"), 2);
}

#[test]
fn a_client_that_dribbles_its_request_is_dropped_and_huge_headers_refused() {
    use std::io::{Read, Write};
    let tenant = Tenant::new();
    let served = Served::start(&tenant, &["--header-read-timeout", "1"]);
    let addr = served.origin.trim_start_matches("http://").to_owned();
    let mut slow = std::net::TcpStream::connect(&addr).unwrap();
    slow.set_read_timeout(Some(Duration::from_secs(60)))
        .unwrap();
    slow.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")
        .unwrap();
    // The headers never end: the service closes the connection (after the
    // 1 s allowed; the 60 s read timeout only keeps a broken test from hanging).
    let mut rest = Vec::new();
    let closed = slow.read_to_end(&mut rest);
    assert!(closed.is_ok(), "{closed:?}");
    assert!(!String::from_utf8_lossy(&rest).contains("200 OK"));

    let mut big = std::net::TcpStream::connect(&addr).unwrap();
    big.set_read_timeout(Some(Duration::from_secs(60))).unwrap();
    let header = format!(
        "GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: {}\r\n\r\n",
        "a".repeat(20_000)
    );
    let _ = big.write_all(header.as_bytes());
    let mut answer = String::new();
    let _ = big.read_to_string(&mut answer);
    assert!(answer.starts_with("HTTP/1.1 431"), "{answer:.200}");
    // And the service goes on.
    assert_eq!(served.get("/healthz").status, 200);
}

/// A pivot through the CLI (`file SHA1`, `domain-stats DOMAIN`, ...), with
/// `extra` flags, against a tenant of its own: its stdout.
fn cli_pivot(pivot: &[&str], extra: &[&str]) -> String {
    let tenant = Tenant::new();
    let flags = tenant.flags();
    let mut args: Vec<&str> = pivot.to_vec();
    args.extend(flags.iter().map(String::as_str));
    args.extend(extra);
    let out = cli(&args, &demo_credentials());
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    text(&out.stdout)
}

const KNOWN_FILE: &str = "0991a395da64e1c5fbe8732ed11e6be064081d9f";

#[test]
fn every_pivot_route_answers_what_the_cli_prints() {
    let tenant = Tenant::new();
    let served = Served::start(&tenant, &[]);
    let file = served.get(&format!("/files/{}/machines", KNOWN_FILE.to_uppercase()));
    assert_eq!(file.status, 200, "{}", file.body);
    assert_eq!(file.header("content-type"), Some("application/json"));
    assert_eq!(
        file.body,
        cli_pivot(&["file", KNOWN_FILE], &["--format", "json"])
    );
    let user = served.get("/users/user1/machines?format=ndjson");
    assert_eq!(
        user.body,
        cli_pivot(&["user", "user1"], &["--format", "ndjson"])
    );
    assert_eq!(user.body.lines().count(), 1);
    let id = serde_json::from_str::<serde_json::Value>(user.body.trim()).unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let machine = served.get(&format!("/machines/{id}"));
    assert_eq!(
        machine.body,
        cli_pivot(&["machine", &id], &["--format", "json"])
    );
    for (path, pivot) in [
        (
            "/domains/contoso.com/stats",
            vec!["domain-stats", "contoso.com"],
        ),
        (
            "/domains/contoso.com/stats?lookBackHours=24",
            vec!["domain-stats", "contoso.com", "--look-back-hours", "24"],
        ),
        ("/ips/10.20.31.7/stats", vec!["ip-stats", "10.20.31.7"]),
    ] {
        let stats = served.get(path);
        assert_eq!(stats.status, 200, "{path}: {}", stats.body);
        assert_eq!(stats.header("content-type"), Some("application/json"));
        assert_eq!(stats.body, cli_pivot(&pivot, &[]), "{path}");
    }
    // Without `at`: now, by the service's clock.
    let ip = served.get("/ips/10.20.31.7/machines?format=ocsf");
    assert_eq!(ip.status, 200, "{}", ip.body);
    assert_eq!(ip.header("content-type"), Some("application/x-ndjson"));
    let event: serde_json::Value = serde_json::from_str(ip.body.lines().next().unwrap()).unwrap();
    assert_eq!(event["class_uid"], 5001);
    assert!(ip.body.contains("10.20.31.7"), "{}", ip.body);
    let findbyip = tenant
        .arrived
        .lock()
        .unwrap()
        .iter()
        .any(|url| url.contains("/api/machines/findbyip(ip='10.20.31.7',timestamp=20"));
    assert!(findbyip);
}

#[test]
fn pivots_are_kept_by_lookup_and_normalised_input() {
    let tenant = Tenant::new();
    let served = Served::start(&tenant, &[]);
    let first = served.get(&format!("/files/{KNOWN_FILE}/machines"));
    assert_eq!(first.header("x-mde-cache"), Some("miss"));
    let again = served.get(&format!(
        "/files/{}/machines?format=ecs",
        KNOWN_FILE.to_uppercase()
    ));
    assert_eq!(again.status, 200, "{}", again.body);
    assert_eq!(again.header("x-mde-cache"), Some("hit"));
    assert_eq!(tenant.count("/api/files/"), 1);
    // A domain's prevalence and its machines are two questions; two
    // windows are two prevalences; `lookBackHours=720` is the default's.
    for path in [
        "/domains/contoso.com/stats",
        "/domains/CONTOSO.com./stats?lookBackHours=720",
        "/domains/contoso.com/stats?lookBackHours=24",
        "/domains/contoso.com/machines",
    ] {
        assert_eq!(served.get(path).status, 200, "{path}");
    }
    assert_eq!(tenant.count("/stats"), 2);
    assert_eq!(tenant.count("/api/domains/contoso.com/machines"), 1);
    let metrics = served.get("/metrics").body;
    for line in [
        r#"mde_lookups_total{cache="miss",lookup="file-machines"} 1"#,
        r#"mde_lookups_total{cache="hit",lookup="file-machines"} 1"#,
        r#"mde_lookups_total{cache="hit",lookup="domain-stats"} 1"#,
        r#"mde_lookups_total{cache="miss",lookup="domain-machines"} 1"#,
    ] {
        assert!(metrics.contains(line), "{line}\n{metrics}");
    }
}

#[test]
fn bad_pivot_inputs_are_400_problems_that_send_nothing() {
    let tenant = Tenant::new();
    let served = Served::start(&tenant, &[]);
    for (path, kind) in [
        (
            "/files/d41d8cd98f00b204e9800998ecf8427e/machines",
            "invalid-file-hash",
        ),
        ("/users/user1@contoso.com/machines", "invalid-user-name"),
        ("/users/a%2F..%2Fb/machines", "invalid-user-name"),
        ("/ips/10.0.0.0%2F8/machines", "invalid-ip"),
        ("/ips/fe80::1%25eth0/stats", "invalid-ip"),
        (
            "/ips/10.20.31.7/machines?at=2000-01-01T00:00:00Z",
            "invalid-time",
        ),
        (
            "/ips/10.20.31.7/machines?at=2999-01-01T00:00:00Z",
            "invalid-time",
        ),
        ("/ips/10.20.31.7/machines?at=yesterday", "invalid-time"),
        ("/machines/a%3Fb", "invalid-machine-id"),
        (
            "/domains/contoso.com/stats?lookBackHours=721",
            "invalid-look-back",
        ),
        ("/domains/a..b/stats", "invalid-domain"),
        ("/users/a%zz/machines", "invalid-request"),
    ] {
        let refused = served.get(path);
        assert_eq!(refused.status, 400, "{path}: {}", refused.body);
        let problem: serde_json::Value = serde_json::from_str(&refused.body).unwrap();
        assert_eq!(problem["kind"], kind, "{path}: {}", refused.body);
        assert_eq!(
            refused.header("content-type"),
            Some("application/problem+json")
        );
    }
    assert_eq!(tenant.count("/api/"), 0, "refused requests send nothing");
}

#[test]
fn an_unknown_machine_is_a_404_problem_and_a_kept_answer() {
    let tenant = Tenant::new();
    let served = Served::start(&tenant, &[]);
    let none = served.get("/machines/no-such-host");
    assert_eq!(none.status, 404, "{}", none.body);
    let problem: serde_json::Value = serde_json::from_str(&none.body).unwrap();
    assert_eq!(problem["kind"], "no-machine");
    assert!(
        problem["detail"].as_str().unwrap().contains("no-such-host"),
        "{}",
        none.body
    );
    assert_eq!(none.header("x-mde-cache"), Some("miss"));
    let again = served.get("/machines/no-such-host?format=ndjson");
    assert_eq!(again.status, 404);
    assert_eq!(again.header("x-mde-cache"), Some("hit"));
    assert_eq!(tenant.count("/api/machines/"), 1);
}

#[test]
fn a_certificate_signs_serve_in_and_its_key_stays_out_of_everything_it_says() {
    use host_test::fake_tenant::{CLIENT_ID, TENANT_ID};
    let tenant = Tenant::new();
    let pem = format!(
        "{}/../host/fixtures/credentials/canary.pem",
        env!("CARGO_MANIFEST_DIR")
    );
    let served = Served::start_with(
        &tenant,
        &["--client-certificate", &pem, "--log-level", "debug"],
        &[("MDE_TENANT_ID", TENANT_ID), ("MDE_CLIENT_ID", CLIENT_ID)],
    );
    let answer = served.get("/domains/contoso.com/machines");
    assert_eq!(answer.status, 200, "{answer:?}");
    assert_eq!(tenant.count("/oauth2/v2.0/token"), 1);
    let key = std::fs::read_to_string(&pem).unwrap();
    let said = format!("{}{}", answer.body, served.stderr.lock().unwrap());
    for line in key.split("PRIVATE KEY-----").nth(1).unwrap().lines() {
        if line.len() > 20 && !line.starts_with("-----") {
            assert!(!said.contains(line), "the canary key's text was said");
        }
    }
}
