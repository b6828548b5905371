//! Loading the component and giving it its imports.

use crate::backend::HttpBackend;
use anyhow::{Context, Result};
use wasmtime::component::{Component, HasSelf, Linker};
use wasmtime::{Config as EngineConfig, Engine, Store};

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
    pub backend: Box<dyn HttpBackend>,
    /// Every request the component asked for, in order.
    pub requests: Vec<Request>,
    /// Every log record, in order.
    pub logs: Vec<LogRecord>,
    /// Print each request to stderr (secrets redacted) as it is made.
    pub echo_requests: bool,
}

impl HostState {
    pub fn new(settings: Settings, backend: Box<dyn HttpBackend>) -> Self {
        HostState {
            settings,
            backend,
            requests: Vec::new(),
            logs: Vec::new(),
            echo_requests: false,
        }
    }
}

impl mde::connector::http::Host for HostState {
    fn send(&mut self, request: Request) -> Result<Response, TransportError> {
        if self.echo_requests {
            eprintln!("{}", redacted(&request));
        }
        let answer = self.backend.send(&request);
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

/// A request as one line: method, URL, then headers, with credentials
/// replaced by `[redacted]`. Bodies are not shown: the token request's body
/// holds the client secret.
pub fn redacted(request: &Request) -> String {
    let method = match request.method {
        Method::Get => "GET",
        Method::Post => "POST",
    };
    let mut line = format!("{method} {}", request.url);
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

/// The engine and the pre-linked component: compile once, instantiate many times.
pub struct Runtime {
    engine: Engine,
    pre: ConnectorPre<HostState>,
}

impl Runtime {
    /// The component this crate was built with.
    pub fn new() -> Result<Self> {
        Self::from_component(COMPONENT)
    }

    /// Any component of the `connector` world, as bytes.
    pub fn from_component(bytes: &[u8]) -> Result<Self> {
        let engine = Engine::new(&EngineConfig::new())?;
        let component = Component::new(&engine, bytes)
            .map_err(anyhow::Error::from)
            .context("compiling the component")?;
        let mut linker = Linker::new(&engine);
        Connector::add_to_linker::<HostState, HasSelf<HostState>>(&mut linker, |s| s)?;
        let pre = ConnectorPre::new(linker.instantiate_pre(&component)?)?;
        Ok(Runtime { engine, pre })
    }

    pub fn instantiate(&self, state: HostState) -> Result<Instance> {
        let mut store = Store::new(&self.engine, state);
        let bindings = self.pre.instantiate(&mut store)?;
        Ok(Instance { store, bindings })
    }
}

/// One instance of the component with its host state. It keeps its access
/// token between calls, as a long-running host's instance would.
pub struct Instance {
    store: Store<HostState>,
    bindings: Connector,
}

impl Instance {
    /// `domain-machines`. The outer error is a trap; the inner one the component's answer.
    pub fn domain_machines(&mut self, domain: &str) -> Result<Result<Vec<Machine>, Error>> {
        Ok(self
            .bindings
            .call_domain_machines(&mut self.store, domain)?)
    }

    /// `lookup`: machines, the normalised domain, and whether the cap was reached.
    pub fn lookup(&mut self, domain: &str) -> Result<Result<LookupResult, Error>> {
        Ok(self.bindings.call_lookup(&mut self.store, domain)?)
    }

    /// `events.ocsf-inventory`: one OCSF Device Inventory Info event (JSON) per
    /// machine, observed at `observed_at` (milliseconds since the Unix epoch).
    pub fn ocsf_inventory(
        &mut self,
        domain: &str,
        observed_at: u64,
    ) -> Result<Result<Vec<String>, Error>> {
        Ok(self.bindings.mde_connector_events().call_ocsf_inventory(
            &mut self.store,
            domain,
            observed_at,
        )?)
    }

    /// `events.ecs-documents`: one ECS document (JSON) per machine.
    pub fn ecs_documents(
        &mut self,
        domain: &str,
        observed_at: u64,
    ) -> Result<Result<Vec<String>, Error>> {
        Ok(self.bindings.mde_connector_events().call_ecs_documents(
            &mut self.store,
            domain,
            observed_at,
        )?)
    }

    pub fn state(&self) -> &HostState {
        self.store.data()
    }

    pub fn state_mut(&mut self) -> &mut HostState {
        self.store.data_mut()
    }
}
