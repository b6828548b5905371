//! Loading the component and giving it its imports, inside the sandbox's limits.

use crate::backend::HttpBackend;
use anyhow::{Context, Result};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};
use wasmtime::component::{Component, HasSelf, Linker};
use wasmtime::{
    Config as EngineConfig, Engine, InstanceAllocationStrategy, PoolingAllocationConfig,
    ResourceLimiter, Store, UpdateDeadline,
};

wasmtime::component::bindgen!({
    world: "connector",
    path: "../wit",
    additional_derives: [PartialEq, Eq],
});

pub use mde::connector::http::{Method, Request, Response, TransportError};
pub use mde::connector::log::Level;
pub use mde::connector::settings::{
    Auth, ClientCredentials, Cloud, Config as Settings, CustomCloud, Geo,
};

/// The release component, built by `build.rs`.
pub const COMPONENT: &[u8] = include_bytes!(env!("MDE_CONNECTOR_COMPONENT"));

/// How often the engine's epoch advances: the granularity of the CPU deadline.
const EPOCH_TICK: Duration = Duration::from_millis(10);

/// The sandbox's limits and how the component is loaded.
#[derive(Debug, Clone)]
pub struct RuntimeOptions {
    /// Most linear memory one instance may have.
    pub memory_limit: usize,
    /// Most time one call may spend running guest code (time in imports,
    /// such as waiting on the network, does not count).
    pub cpu_deadline: Duration,
    /// Instances from a pre-allocated pool instead of fresh mappings.
    pub pooling: bool,
    /// Where compiled components are kept between runs; `None` compiles every time.
    pub cache_dir: Option<PathBuf>,
}

impl Default for RuntimeOptions {
    fn default() -> Self {
        RuntimeOptions {
            memory_limit: 64 * 1024 * 1024,
            cpu_deadline: Duration::from_secs(5),
            pooling: true,
            cache_dir: None,
        }
    }
}

impl Method {
    /// The method as HTTP spells it.
    pub fn as_str(self) -> &'static str {
        match self {
            Method::Get => "GET",
            Method::Post => "POST",
        }
    }
}

/// One log record the component emitted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogRecord {
    pub level: Level,
    pub event: String,
    pub message: String,
}

/// What one instance of the component sees of its host.
pub struct HostState {
    pub settings: Settings,
    pub backend: Box<dyn HttpBackend + Send>,
    /// Every request the component asked for, in order.
    pub requests: Vec<Request>,
    /// Every log record, in order.
    pub logs: Vec<LogRecord>,
    /// Print each request to stderr (secrets redacted) as it is made.
    pub echo_requests: bool,
    limits: MemoryLimits,
    /// For the CPU deadline: when the current call began, and how much of
    /// it was spent in imports.
    call_started: Instant,
    time_in_imports: Duration,
}

impl HostState {
    pub fn new(settings: Settings, backend: Box<dyn HttpBackend + Send>) -> Self {
        HostState {
            settings,
            backend,
            requests: Vec::new(),
            logs: Vec::new(),
            echo_requests: false,
            limits: MemoryLimits::default(),
            call_started: Instant::now(),
            time_in_imports: Duration::ZERO,
        }
    }
}

impl mde::connector::http::Host for HostState {
    fn send(&mut self, request: Request) -> Result<Response, TransportError> {
        if self.echo_requests {
            eprintln!("{}", redacted(&request));
        }
        let started = Instant::now();
        let answer = self.backend.send(&request);
        self.time_in_imports += started.elapsed();
        self.requests.push(request);
        answer
    }
}

impl mde::connector::settings::Host for HostState {
    fn get(&mut self) -> Settings {
        self.settings.clone()
    }
}

impl mde::connector::log::Host for HostState {
    fn emit(&mut self, level: Level, event: String, message: String) {
        self.logs.push(LogRecord {
            level,
            event,
            message,
        });
    }
}

impl mde::connector::types::Host for HostState {}

/// The store's memory limit, and the most linear memory the instance has had.
#[derive(Debug, Default)]
struct MemoryLimits {
    limit: usize,
    peak: usize,
}

impl ResourceLimiter for MemoryLimits {
    fn memory_growing(
        &mut self,
        _current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        let allowed = desired <= self.limit;
        if allowed {
            self.peak = self.peak.max(desired);
        }
        Ok(allowed)
    }

    fn table_growing(
        &mut self,
        _current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        Ok(desired <= 10_000)
    }
}

/// A request as one line: method, URL, then headers, with credentials
/// replaced by `[redacted]`. Bodies are not shown: the token request's body
/// holds the client secret.
pub fn redacted(request: &Request) -> String {
    let mut line = format!("{} {}", request.method.as_str(), request.url);
    for (name, value) in &request.headers {
        let value = if name.eq_ignore_ascii_case("authorization") {
            match value.split_once(' ') {
                Some((scheme, _)) => format!("{scheme} [redacted]"),
                None => "[redacted]".to_owned(),
            }
        } else {
            value.clone()
        };
        line.push_str(&format!(" {name}: {value}"));
    }
    if let Some(body) = &request.body {
        line.push_str(&format!(" (body: {} bytes)", body.len()));
    }
    line
}

/// The engine and the pre-linked component: compile (or load) once,
/// instantiate many times. Clones share both.
#[derive(Clone)]
pub struct Runtime {
    engine: Engine,
    pre: ConnectorPre<HostState>,
    options: RuntimeOptions,
}

impl Runtime {
    /// The component this crate was built with, with default limits.
    pub fn new() -> Result<Self> {
        Self::with_options(COMPONENT, RuntimeOptions::default())
    }

    /// Any component of the `connector` world, as bytes.
    pub fn with_options(bytes: &[u8], options: RuntimeOptions) -> Result<Self> {
        let engine = engine(&options)?;
        let component = load(&engine, bytes, options.cache_dir.as_deref())?;
        let mut linker = Linker::new(&engine);
        Connector::add_to_linker::<HostState, HasSelf<HostState>>(&mut linker, |s| s)?;
        let pre = ConnectorPre::new(linker.instantiate_pre(&component)?)?;
        start_epoch_ticker(&engine);
        Ok(Runtime {
            engine,
            pre,
            options,
        })
    }

    pub fn engine(&self) -> &Engine {
        &self.engine
    }

    pub fn instantiate(&self, state: HostState) -> Result<Instance> {
        let live = self.live(state)?;
        Ok(Instance {
            runtime: self.clone(),
            live: Some(live),
        })
    }

    fn live(&self, mut state: HostState) -> Result<Live> {
        state.limits = MemoryLimits {
            limit: self.options.memory_limit,
            peak: 0,
        };
        let mut store = Store::new(&self.engine, state);
        store.limiter(|s| &mut s.limits);
        let deadline = self.options.cpu_deadline;
        store.epoch_deadline_callback(move |ctx| {
            let state = ctx.data();
            let in_guest = state
                .call_started
                .elapsed()
                .saturating_sub(state.time_in_imports);
            if in_guest >= deadline {
                return Ok(UpdateDeadline::Interrupt);
            }
            Ok(UpdateDeadline::Continue(ticks(deadline - in_guest)))
        });
        let bindings = self.pre.instantiate(&mut store)?;
        Ok(Live { store, bindings })
    }
}

fn ticks(duration: Duration) -> u64 {
    (duration.as_nanos() / EPOCH_TICK.as_nanos()).max(1) as u64
}

fn engine(options: &RuntimeOptions) -> Result<Engine> {
    let mut config = EngineConfig::new();
    config.epoch_interruption(true);
    if options.pooling {
        let mut pool = PoolingAllocationConfig::default();
        pool.total_component_instances(64)
            .total_core_instances(256)
            .total_memories(64)
            .total_tables(256)
            .max_memory_size(options.memory_limit);
        config.allocation_strategy(InstanceAllocationStrategy::Pooling(pool));
    }
    Ok(Engine::new(&config)?)
}

/// Advances the engine's epoch until the engine is dropped.
fn start_epoch_ticker(engine: &Engine) {
    let weak = engine.weak();
    std::thread::spawn(move || {
        loop {
            std::thread::sleep(EPOCH_TICK);
            match weak.upgrade() {
                Some(engine) => engine.increment_epoch(),
                None => return,
            }
        }
    });
}

/// Compiles `bytes`, or loads the result of an earlier compilation from
/// `cache_dir`. Entries are keyed by the engine's compatibility hash and the
/// component, and a copy of the component is kept beside each to rule out
/// a hash collision.
pub fn load(engine: &Engine, bytes: &[u8], cache_dir: Option<&Path>) -> Result<Component> {
    let compile = || {
        Component::new(engine, bytes)
            .map_err(anyhow::Error::from)
            .context("compiling the component")
    };
    let Some(dir) = cache_dir else {
        return compile();
    };
    use std::hash::{Hash, Hasher};
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    engine.precompile_compatibility_hash().hash(&mut hasher);
    bytes.hash(&mut hasher);
    let key = format!("{:016x}", hasher.finish());
    let (source, artifact) = (
        dir.join(format!("{key}.wasm")),
        dir.join(format!("{key}.cwasm")),
    );
    if std::fs::read(&source).is_ok_and(|cached| cached == bytes)
        && let Ok(compiled) = std::fs::read(&artifact)
    {
        // Read, not mapped: a file changed under a mapping would crash the host.
        // SAFETY: the artifact was written by `serialize` below for this
        // engine configuration (the key covers it), into a directory only
        // this user can write; wasmtime checks its header before use.
        if let Ok(component) = unsafe { Component::deserialize(engine, &compiled) } {
            return Ok(component);
        }
    }
    let component = compile()?;
    // A cache that cannot be written only costs the next run a compilation.
    let _ = store_in_cache(dir, &source, bytes, &artifact, &component.serialize()?);
    Ok(component)
}

fn store_in_cache(
    dir: &Path,
    source: &Path,
    bytes: &[u8],
    artifact: &Path,
    compiled: &[u8],
) -> std::io::Result<()> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder.create(dir)?;
    static WRITER: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    for (path, contents) in [(artifact, compiled), (source, bytes)] {
        let writer = WRITER.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let partial = path.with_extension(format!("partial-{}-{writer}", std::process::id()));
        std::fs::write(&partial, contents)?;
        std::fs::rename(&partial, path)?;
    }
    Ok(())
}

/// A store and its instance.
struct Live {
    store: Store<HostState>,
    bindings: Connector,
}

/// One instance of the component with its host state. It keeps its access
/// token between calls, as a long-running host's instance would. A call that
/// traps (deadline, memory, a guest fault) returns an error, and the next call
/// gets a fresh instance with the same host state.
pub struct Instance {
    runtime: Runtime,
    live: Option<Live>,
}

impl Instance {
    /// `domain-machines`. The outer error is a trap; the inner one the component's answer.
    pub fn domain_machines(&mut self, domain: &str) -> Result<Result<Vec<Machine>, Error>> {
        self.call(|live| live.bindings.call_domain_machines(&mut live.store, domain))
    }

    /// `lookup`: machines, the normalised domain, and whether the cap was reached.
    pub fn lookup(&mut self, domain: &str) -> Result<Result<LookupResult, Error>> {
        self.call(|live| live.bindings.call_lookup(&mut live.store, domain))
    }

    fn call<R>(&mut self, f: impl FnOnce(&mut Live) -> wasmtime::Result<R>) -> Result<R> {
        let live = self.live.as_mut().context("the instance was lost")?;
        let state = live.store.data_mut();
        state.call_started = Instant::now();
        state.time_in_imports = Duration::ZERO;
        live.store
            .set_epoch_deadline(ticks(self.runtime.options.cpu_deadline));
        match f(live) {
            Ok(answer) => Ok(answer),
            Err(trap) => {
                // A trapped instance may be inconsistent: start afresh.
                let state = self
                    .live
                    .take()
                    .context("the instance was lost")?
                    .store
                    .into_data();
                self.live = Some(self.runtime.live(state)?);
                Err(anyhow::Error::from(trap).context("the component trapped"))
            }
        }
    }

    /// The most linear memory this instance's store has had, in bytes.
    pub fn peak_memory(&self) -> usize {
        self.state().limits.peak
    }

    /// `events.machines-json`: one JSON object per machine of `found`, with
    /// the service's own field names.
    pub fn machines_json(&mut self, found: &LookupResult) -> Result<Vec<String>> {
        self.call(|live| {
            live.bindings
                .mde_connector_events()
                .call_machines_json(&mut live.store, found)
        })
    }

    /// `events.ocsf-inventory`: one OCSF Device Inventory Info event (JSON) per
    /// machine of `found`, observed at `observed_at` (milliseconds since the
    /// Unix epoch). The inner error says why `observed_at` cannot be written.
    pub fn ocsf_inventory(
        &mut self,
        found: &LookupResult,
        observed_at: u64,
    ) -> Result<Result<Vec<String>, String>> {
        self.call(|live| {
            live.bindings.mde_connector_events().call_ocsf_inventory(
                &mut live.store,
                found,
                observed_at,
            )
        })
    }

    /// `events.ecs-documents`: one ECS document (JSON) per machine of `found`.
    pub fn ecs_documents(
        &mut self,
        found: &LookupResult,
        observed_at: u64,
    ) -> Result<Result<Vec<String>, String>> {
        self.call(|live| {
            live.bindings.mde_connector_events().call_ecs_documents(
                &mut live.store,
                found,
                observed_at,
            )
        })
    }

    pub fn state(&self) -> &HostState {
        self.live
            .as_ref()
            .expect("an instance is live between calls")
            .store
            .data()
    }

    pub fn state_mut(&mut self) -> &mut HostState {
        self.live
            .as_mut()
            .expect("an instance is live between calls")
            .store
            .data_mut()
    }
}
