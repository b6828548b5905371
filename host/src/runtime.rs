//! Loading the component and giving it its imports, inside the sandbox's
//! limits, with the outbound policy in every instance.

pub use crate::bindings::{Connector, ConnectorPre};
use crate::budget::Limits;
use crate::clock::{Clock, SystemClock};
use crate::gateway::{Budgets, Gateway, Policy, PolicyOptions, budget_key};
use crate::scrub::{self, Secrets};
use crate::state::MemoryLimits;
use crate::tokens::TokenShelf;
use crate::transport::Transport;
use anyhow::{Context, Result};
use mde_connector::settings::Settings;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};
use wasmtime::component::{HasSelf, Linker};
use wasmtime::{
    Config as EngineConfig, Engine, InstanceAllocationStrategy, PoolingAllocationConfig,
    ProfilingStrategy, Store, UpdateDeadline,
};

// The WIT's types, as this module's API uses them (they live in the leaf
// `bindings`, which the gateway and transports use too).
pub use crate::bindings::mde::connector::types::{
    DomainPrevalence, IpAt, IpPrevalence, Query, QueryResult, QueryTextsResult,
};
pub use crate::bindings::{
    Body, Error, IpAddress, Level, LookupResult, LookupTextsResult, Machine, Method, Request,
    Response, TransportError, VmMetadata, mde,
};
pub use crate::state::{HostState, LogRecord, redacted};
pub use pivots::{IP_LOOK_BACK_DAYS, format_time, ip_query, ip_time, now_ms};

mod pivots;

/// The release component, built by `build.rs`.
pub const COMPONENT: &[u8] = include_bytes!(env!("MDE_CONNECTOR_COMPONENT"));

/// Where `build.rs` wrote the connector composed with the wasi:http adapter,
/// for wasi:http platforms (this host does not load it).
pub const WASI_HTTP_COMPONENT_PATH: &str = env!("MDE_CONNECTOR_WASI_HTTP_COMPONENT");

/// Where `build.rs` wrote the `wasi:http/proxy` service, for `wasmtime serve`
/// and other wasi:http platforms (see `docs/deploy.md`).
pub const PROXY_COMPONENT_PATH: &str = env!("MDE_CONNECTOR_PROXY_COMPONENT");

/// Where `build.rs` wrote the `wasi:cli/command`, for `wasmtime run`.
pub const COMMAND_COMPONENT_PATH: &str = env!("MDE_CONNECTOR_COMMAND_COMPONENT");

/// The longest domain the host copies into the component; a DNS name is at
/// most 253 characters, so this leaves room for Unicode and stray spaces
/// while the copy stays far from the instance's memory limit.
pub const MAX_DOMAIN_BYTES: usize = 1024;

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
    /// The outbound policy of every instance.
    pub policy: PolicyOptions,
    /// Write `/tmp/perf-<pid>.map` as components are compiled, so that Linux
    /// `perf` names the guest's functions (for profiling; off by default).
    pub perf_map: bool,
}

impl Default for RuntimeOptions {
    fn default() -> Self {
        RuntimeOptions {
            memory_limit: 64 * 1024 * 1024,
            cpu_deadline: Duration::from_secs(5),
            pooling: true,
            cache_dir: None,
            policy: PolicyOptions::default(),
            perf_map: false,
        }
    }
}

/// The engine and the pre-linked component: compile (or load) once,
/// instantiate many times. Clones share both, the clock and the budgets.
#[derive(Clone)]
pub struct Runtime {
    engine: Engine,
    pre: ConnectorPre<HostState>,
    pub(crate) options: RuntimeOptions,
    clock: Arc<dyn Clock>,
    /// The rate budgets of every instance, by tenant and client.
    budgets: Budgets,
    /// The access tokens of every instance, by grant.
    tokens: Arc<TokenShelf>,
    /// Why the compiled-component cache was not used, if it was not.
    cache_warning: Option<String>,
    /// What answers `settings.client-assertion`; see `with_assertions`.
    pub(crate) assertions: Option<Arc<dyn crate::credentials::AssertionSource>>,
    /// The managed identity whose tokens the host adds; see `with_managed_identity`.
    pub(crate) managed: Option<Arc<crate::credentials::ManagedIdentity>>,
}

impl Runtime {
    /// The component this crate was built with, with default limits.
    pub fn new() -> Result<Self> {
        Self::with_options(COMPONENT, RuntimeOptions::default())
    }

    /// Any component of the `connector` world, as bytes.
    pub fn with_options(bytes: &[u8], options: RuntimeOptions) -> Result<Self> {
        let engine = engine(&options)?;
        let loaded = crate::cache::load(&engine, bytes, options.cache_dir.as_deref())?;
        let component = loaded.component;
        let mut linker = Linker::new(&engine);
        Connector::add_to_linker::<HostState, HasSelf<HostState>>(&mut linker, |s| s)?;
        let pre = ConnectorPre::new(linker.instantiate_pre(&component)?)?;
        start_epoch_ticker(&engine);
        Ok(Runtime {
            engine,
            pre,
            options,
            clock: SystemClock::shared(),
            budgets: Budgets::default(),
            tokens: Arc::default(),
            cache_warning: loaded.warning,
            assertions: None,
            managed: None,
        })
    }

    /// Why the compiled-component cache was refused or found damaged, for
    /// the caller to show once; the component was compiled instead.
    pub fn cache_warning(&self) -> Option<&str> {
        self.cache_warning.as_deref()
    }

    /// The same component, whose instances wait and count their budget on
    /// `clock` (a virtual one in tests), with budgets and tokens of their own.
    pub fn with_clock(&self, clock: Arc<dyn Clock>) -> Self {
        Runtime {
            clock,
            budgets: Budgets::default(),
            tokens: Arc::default(),
            ..self.clone()
        }
    }

    /// What is left of the rate budget of `auth`'s tenant and client: calls
    /// that may still be made in the current minute and hour.
    pub fn budget_left(&self, auth: &mde_connector::settings::Auth) -> Limits {
        let limits = self.options.policy.limits;
        let budgets = self.budgets.lock().unwrap_or_else(|p| p.into_inner());
        match budgets.get(&budget_key(auth)) {
            Some(window) => window.left(self.clock.now()),
            None => limits,
        }
    }

    /// The same component, whose instances follow `policy`.
    pub fn with_policy(&self, policy: PolicyOptions) -> Self {
        let mut runtime = self.clone();
        runtime.options.policy = policy;
        runtime
    }

    pub fn engine(&self) -> &Engine {
        &self.engine
    }

    pub fn clock(&self) -> &Arc<dyn Clock> {
        &self.clock
    }

    /// An instance configured by `settings`, whose requests go to `transport`
    /// through a gateway with this runtime's policy: the allow-list of the
    /// settings' cloud, the budget of their tenant and client, retries.
    pub fn instantiate(
        &self,
        settings: Settings,
        transport: impl Transport + Send + 'static,
    ) -> Result<Instance> {
        let endpoints = settings
            .cloud
            .endpoints()
            .map_err(|e| anyhow::anyhow!("invalid-settings: {e}"))?;
        let policy = Policy::for_endpoints(&endpoints, self.options.policy.clone())
            .map_err(|e| anyhow::anyhow!("invalid-settings: {e}"))?;
        let gateway = Gateway::new(
            policy,
            budget_key(&settings.auth),
            self.budgets.clone(),
            self.tokens.clone(),
            self.clock.clone(),
            Box::new(transport),
        );
        let state = HostState {
            secrets: Secrets::of(&settings.auth),
            settings,
            gateway,
            assertions: self.assertions.clone(),
            managed: self.managed.clone(),
            requests: Vec::new(),
            logs: Vec::new(),
            echo_requests: false,
            limits: MemoryLimits::default(),
            call_started: Instant::now(),
            time_in_imports: Duration::ZERO,
        };
        Ok(Instance {
            live: Some(self.live(state)?),
            runtime: self.clone(),
        })
    }

    fn live(&self, mut state: HostState) -> Result<Live> {
        state.limits = MemoryLimits {
            limit: self.options.memory_limit,
            peak: 0,
        };
        // Instantiating may run guest code (a start function): it gets a
        // deadline of its own, not what is left of a call that trapped.
        state.call_started = Instant::now();
        state.time_in_imports = Duration::ZERO;
        let mut store = Store::new(&self.engine, state);
        store.limiter(|s| &mut s.limits);
        let deadline = self.options.cpu_deadline;
        store.set_epoch_deadline(ticks(deadline));
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
    if options.perf_map {
        config.profiler(ProfilingStrategy::PerfMap);
    }
    if options.pooling {
        let mut pool = PoolingAllocationConfig::default();
        pool.total_component_instances(64)
            .total_core_instances(256)
            .total_memories(64)
            .total_tables(256)
            .max_memory_size(options.memory_limit)
            // Return freed slots to the kernel in batches rather than with a
            // system call per instance dropped.
            .decommit_batch_size(16);
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

/// Refuses a domain over [`MAX_DOMAIN_BYTES`] before it is copied into the
/// component, as the component would refuse it: `invalid-domain`.
fn within_domain_limit(domain: &str) -> Result<(), Error> {
    if domain.len() > MAX_DOMAIN_BYTES {
        return Err(Error::InvalidDomain(format!(
            "the domain is {} bytes long; the host takes at most {MAX_DOMAIN_BYTES}",
            domain.len()
        )));
    }
    Ok(())
}

/// The schemas of the component's `events`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Schema {
    /// OCSF Device Inventory Info.
    Ocsf,
    /// Elastic Common Schema.
    Ecs,
}

/// A store and its instance.
pub(crate) struct Live {
    pub(crate) store: Store<HostState>,
    pub(crate) bindings: Connector,
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
    /// `domain-machines`. The outer error is a trap; the inner one the
    /// component's answer, with known secrets scrubbed.
    pub fn domain_machines(&mut self, domain: &str) -> Result<Result<Vec<Machine>, Error>> {
        if let Err(e) = within_domain_limit(domain) {
            return Ok(Err(e));
        }
        let answer = self.call(|live| live.bindings.call_domain_machines(&mut live.store, domain));
        self.scrubbed(answer)
    }

    /// `lookup`: machines, the normalised domain, and whether the cap was
    /// reached; or the component's error, with known secrets scrubbed.
    pub fn lookup(&mut self, domain: &str) -> Result<Result<LookupResult, Error>> {
        if let Err(e) = within_domain_limit(domain) {
            return Ok(Err(e));
        }
        let answer = self.call(|live| live.bindings.call_lookup(&mut live.store, domain));
        self.scrubbed(answer)
    }

    /// `lookup-texts`: `lookup` with each machine as a JSON text with the
    /// service's names, for output and the `events`; or the component's
    /// error. Known secrets are scrubbed from both.
    pub fn lookup_texts(&mut self, domain: &str) -> Result<Result<LookupTextsResult, Error>> {
        if let Err(e) = within_domain_limit(domain) {
            return Ok(Err(e));
        }
        let answer = self.call(|live| live.bindings.call_lookup_texts(&mut live.store, domain));
        Ok(self.scrubbed(answer)?.map(|found| LookupTextsResult {
            machines: self.scrubbed_texts(found.machines),
            ..found
        }))
    }

    pub(crate) fn scrubbed<T>(&self, answer: Result<Result<T, Error>>) -> Result<Result<T, Error>> {
        Ok(answer?.map_err(|mut e| {
            scrub::scrub_error(&self.state().secrets, &mut e);
            e
        }))
    }

    /// Texts for output, with known secrets scrubbed.
    fn scrubbed_texts(&self, texts: Vec<String>) -> Vec<String> {
        let secrets = &self.state().secrets;
        texts.into_iter().map(|t| secrets.scrub(t)).collect()
    }

    pub(crate) fn call<R>(
        &mut self,
        f: impl FnOnce(&mut Live) -> wasmtime::Result<R>,
    ) -> Result<R> {
        let live = self.live.as_mut().context("the instance was lost")?;
        let state = live.store.data_mut();
        state.call_started = Instant::now();
        state.time_in_imports = Duration::ZERO;
        state.gateway.begin_call();
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

    /// `events.ocsf-inventory` or `events.ecs-documents`: one event (JSON)
    /// per machine of `found`, observed at `observed_at` (milliseconds since
    /// the Unix epoch). The inner error says why `observed_at` cannot be
    /// written, or which text of `found` is not a machine's.
    pub fn events(
        &mut self,
        schema: Schema,
        found: &LookupTextsResult,
        observed_at: u64,
    ) -> Result<Result<Vec<String>, String>> {
        let events = self.call(|live| {
            let events = live.bindings.mde_connector_events();
            match schema {
                Schema::Ocsf => events.call_ocsf_inventory(&mut live.store, found, observed_at),
                Schema::Ecs => events.call_ecs_documents(&mut live.store, found, observed_at),
            }
        })?;
        Ok(self.scrubbed_events(events))
    }

    /// OCSF Device Inventory Info events: [`Instance::events`] with [`Schema::Ocsf`].
    pub fn ocsf_inventory(
        &mut self,
        found: &LookupTextsResult,
        observed_at: u64,
    ) -> Result<Result<Vec<String>, String>> {
        self.events(Schema::Ocsf, found, observed_at)
    }

    /// ECS documents: [`Instance::events`] with [`Schema::Ecs`].
    pub fn ecs_documents(
        &mut self,
        found: &LookupTextsResult,
        observed_at: u64,
    ) -> Result<Result<Vec<String>, String>> {
        self.events(Schema::Ecs, found, observed_at)
    }

    fn scrubbed_events(&self, events: Result<Vec<String>, String>) -> Result<Vec<String>, String> {
        match events {
            Ok(texts) => Ok(self.scrubbed_texts(texts)),
            Err(why) => Err(self.state().secrets.scrub(why)),
        }
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
