//! What the tests share: one compiled component per test binary, instances
//! over the fake tenant or recorded answers, and readers for what was sent.
#![allow(dead_code)] // each test binary uses a different part

use host_test::backend::{HttpBackend, Replay};
use host_test::clock::ManualClock;
use host_test::fake_tenant::{self, FakeTenant};
use host_test::runtime::{
    Auth, COMPONENT, ClientCredentials, Cloud, Request, Response, RuntimeOptions, Settings,
};
use host_test::{HostState, Instance, Runtime};
use std::sync::{Arc, Mutex, OnceLock};

/// The component, compiled once per test binary (and cached across them).
pub fn runtime() -> &'static Runtime {
    static RUNTIME: OnceLock<Runtime> = OnceLock::new();
    RUNTIME.get_or_init(|| {
        let options = RuntimeOptions {
            cache_dir: Some(concat!(env!("CARGO_TARGET_TMPDIR"), "/component-cache").into()),
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

pub fn instance(settings: Settings, backend: impl HttpBackend + Send + 'static) -> Instance {
    runtime()
        .instantiate(HostState::new(settings, Box::new(backend)))
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
        instance(settings, self.fake.clone())
    }
}

/// An instance whose requests are answered, in order, by `answers`.
pub fn replaying(auth: Auth, answers: Vec<Response>) -> Instance {
    instance(settings(auth), Replay::new(answers))
}

pub fn answer(status: u16, headers: &[(&str, &str)], body: impl Into<Vec<u8>>) -> Response {
    Response {
        status,
        headers: headers
            .iter()
            .map(|(n, v)| (n.to_string(), v.to_string()))
            .collect(),
        body: body.into(),
    }
}

pub fn json(status: u16, body: &str) -> Response {
    answer(status, &[("content-type", "application/json")], body)
}

pub fn header<'a>(request: &'a Request, name: &str) -> Option<&'a str> {
    request
        .headers
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
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
                header(r, "authorization").map(str::to_owned),
            )
        })
        .collect()
}

pub const TOKEN_URL: &str =
    "POST https://login.microsoftonline.com/8f1c2d3e-4b5a-6978-8a9b-0c1d2e3f4a5b/oauth2/v2.0/token";

pub fn machines_url(domain: &str) -> String {
    format!("GET https://api.security.microsoft.com/api/domains/{domain}/machines")
}
