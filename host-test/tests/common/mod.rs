//! What the tests share: one compiled component per test binary, instances
//! over the fake tenant or recorded answers, and readers for what was sent.
#![allow(dead_code)] // each test binary uses a different part

use host_test::fake_tenant::{self, FakeTenant};
#[allow(unused_imports)] // each test binary uses a different part
pub use host_test::replay::{Replay, answer, json};
use mde_connector_host::budget::Limits;
use mde_connector_host::clock::ManualClock;
use mde_connector_host::gateway::PolicyOptions;
use mde_connector_host::runtime::{COMPONENT, Response, RuntimeOptions};
use mde_connector_host::transport::Transport;
use mde_connector_host::{Auth, ClientCredentials, Cloud, Instance, Runtime, Settings};
use std::sync::{Arc, Mutex, OnceLock};

/// The gateway of the tests that are not about the policy: every instance
/// has one, but it neither retries nor holds calls back, so each answer a
/// test scripts reaches the component as it is. (`policy.rs` and
/// `budget.rs` test the real policy.)
pub fn passthrough_policy() -> PolicyOptions {
    PolicyOptions {
        max_attempts: 1,
        limits: Limits {
            per_minute: usize::MAX,
            per_hour: usize::MAX,
        },
        ..PolicyOptions::default()
    }
}

/// The component, compiled once per test binary (and cached across them).
pub fn runtime() -> &'static Runtime {
    static RUNTIME: OnceLock<Runtime> = OnceLock::new();
    RUNTIME.get_or_init(|| {
        let options = RuntimeOptions {
            cache_dir: Some(concat!(env!("CARGO_TARGET_TMPDIR"), "/component-cache").into()),
            policy: passthrough_policy(),
            ..RuntimeOptions::default()
        };
        Runtime::with_options(COMPONENT, options).expect("the component loads")
    })
}

pub fn demo_credentials() -> Auth {
    Auth::ClientCredentials(ClientCredentials {
        tenant_id: fake_tenant::TENANT_ID.into(),
        client_id: fake_tenant::CLIENT_ID.into(),
        client_secret: fake_tenant::CLIENT_SECRET.into(),
    })
}

pub fn settings(auth: Auth) -> Settings {
    Settings {
        cloud: Cloud::Commercial,
        auth,
    }
}

/// An instance over `transport`, on a virtual clock of its own.
pub fn instance(settings: Settings, transport: impl Transport + Send + 'static) -> Instance {
    runtime()
        .with_clock(Arc::new(ManualClock::default()))
        .instantiate(settings, transport)
        .expect("the component instantiates")
}

/// A fake tenant on a manual clock, shared with the test.
pub struct Tenant {
    pub fake: Arc<Mutex<FakeTenant>>,
    pub clock: Arc<ManualClock>,
}

impl Tenant {
    pub fn new() -> Self {
        let clock = Arc::new(ManualClock::default());
        Tenant {
            fake: Arc::new(Mutex::new(FakeTenant::new(clock.clone()))),
            clock,
        }
    }

    pub fn instance(&self, settings: Settings) -> Instance {
        runtime()
            .with_clock(self.clock.clone())
            .instantiate(settings, self.fake.clone())
            .expect("the component instantiates")
    }
}

/// An instance whose requests are answered, in order, by `answers`.
pub fn replaying(auth: Auth, answers: Vec<Response>) -> Instance {
    instance(settings(auth), Replay::new(answers))
}

/// Each request as `METHOD URL`, with its `Authorization` header if any.
pub fn sent(instance: &Instance) -> Vec<(String, Option<String>)> {
    instance
        .state()
        .requests
        .iter()
        .map(|r| {
            (
                format!("{} {}", r.method.as_str(), r.url),
                // The fake tenant's JWT-shaped tokens, by name.
                r.header("authorization")
                    .map(host_test::fake_tenant::token_name),
            )
        })
        .collect()
}

pub const TOKEN_URL: &str =
    "POST https://login.microsoftonline.com/8f1c2d3e-4b5a-6978-8a9b-0c1d2e3f4a5b/oauth2/v2.0/token";

pub fn machines_url(domain: &str) -> String {
    format!("GET https://api.security.microsoft.com/api/domains/{domain}/machines")
}
