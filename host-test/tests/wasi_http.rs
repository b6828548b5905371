//! The connector plugged with the wasi:http adapter, run as a wasi:http
//! platform runs it: wasmtime-wasi-http provides `wasi:http/outgoing-handler`,
//! and its `send_request` hook answers from the fake tenant instead of the
//! network. This host provides `settings` and `log`; nothing provides
//! `mde:connector/http`, which the composed component no longer imports.

mod common;

use common::{TOKEN_URL, demo_credentials, machines_url, settings};
use host_test::fake_tenant::FakeTenant;
use http_body_util::{BodyExt, Full};
use mde_connector_host::Settings;
use mde_connector_host::runtime::mde::connector::types::{Error, LookupResult, TransportError};
use mde_connector_host::runtime::{
    ConnectorPre, Level, LogRecord, Method, Request, WASI_HTTP_COMPONENT_PATH, mde,
};
use std::sync::{Arc, Mutex, OnceLock};
use wasmtime::component::{Component, HasSelf, Linker, ResourceTable};
use wasmtime::{Config, Engine, Store, StoreLimits, StoreLimitsBuilder};
use wasmtime_wasi::{WasiCtx, WasiCtxView, WasiView};
use wasmtime_wasi_http::{
    Error as HttpError, RequestOptions, WasiBody, WasiHttpCtx, WasiHttpCtxView, WasiHttpHooks,
    WasiHttpView,
};

/// What the platform does with an outgoing request.
#[derive(Clone)]
enum Upstream {
    /// Converts it to the fake tenant's `Request` and its answer back.
    Tenant(Arc<Mutex<FakeTenant>>),
    /// Fails as the platform would, without an answer.
    Fails(fn() -> HttpError),
    /// Answers `200` with a body of this many bytes, saying its length in
    /// `Content-Length` or not.
    Huge { bytes: usize, says_length: bool },
}

/// The `send_request` hook of a wasi:http host.
struct Hooks {
    upstream: Upstream,
    /// Every request the platform was asked to send, as the fake tenant sees requests.
    sent: Arc<Mutex<Vec<Request>>>,
}

impl WasiHttpHooks for Hooks {
    fn send_request(
        &mut self,
        request: http::Request<WasiBody>,
        _options: Option<RequestOptions>,
        _io: Box<dyn Future<Output = Result<(), HttpError>> + Send>,
    ) -> Box<
        dyn Future<
                Output = Result<
                    (
                        http::Response<WasiBody>,
                        Box<dyn Future<Output = Result<(), HttpError>> + Send>,
                    ),
                    HttpError,
                >,
            > + Send,
    > {
        let upstream = self.upstream.clone();
        let sent = self.sent.clone();
        Box::new(async move {
            let (parts, body) = request.into_parts();
            let mut request = Request {
                method: match parts.method {
                    http::Method::GET => Method::Get,
                    http::Method::POST => Method::Post,
                    other => panic!("the connector never sends {other}"),
                },
                url: parts.uri.to_string(),
                headers: parts
                    .headers
                    .iter()
                    .map(|(name, value)| {
                        (name.as_str().to_owned(), value.to_str().unwrap().to_owned())
                    })
                    .collect(),
                body: None,
            };
            let tenant = match upstream {
                Upstream::Tenant(tenant) => tenant,
                // As a platform's policy does: refuse before reading the body.
                Upstream::Fails(error) => {
                    sent.lock().unwrap().push(request);
                    return Err(error());
                }
                Upstream::Huge { bytes, says_length } => {
                    sent.lock().unwrap().push(request);
                    let mut response = http::Response::builder().status(200);
                    if says_length {
                        response = response.header("content-length", bytes);
                    }
                    let body = Full::new(bytes::Bytes::from(vec![b' '; bytes]))
                        .map_err(|never| match never {})
                        .boxed_unsync();
                    let io: Box<dyn Future<Output = Result<(), HttpError>> + Send> =
                        Box::new(async { Ok(()) });
                    return Ok((response.body(body).unwrap(), io));
                }
            };
            // The guest writes the body after `handle`: read it to its end.
            let body = body.collect().await?.to_bytes();
            request.body = (!body.is_empty()).then(|| body.to_vec());
            sent.lock().unwrap().push(request.clone());
            let answer = tenant.lock().unwrap().handle(&request);
            let mut response = http::Response::builder().status(answer.status);
            for (name, value) in &answer.headers {
                response = response.header(name, value);
            }
            let body = Full::new(bytes::Bytes::from(answer.body.into_bytes()))
                .map_err(|never| match never {})
                .boxed_unsync();
            let io: Box<dyn Future<Output = Result<(), HttpError>> + Send> =
                Box::new(async { Ok(()) });
            Ok((response.body(body).unwrap(), io))
        })
    }
}

/// A wasi:http platform's store, plus the connector's own `settings` and `log`.
struct Platform {
    table: ResourceTable,
    wasi: WasiCtx,
    http: WasiHttpCtx,
    hooks: Hooks,
    settings: Settings,
    logs: Vec<LogRecord>,
    /// 128 MiB a memory, as `wasmtime serve -W max-memory-size=134217728`.
    limits: StoreLimits,
}

impl WasiView for Platform {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView {
            ctx: &mut self.wasi,
            table: &mut self.table,
        }
    }
}

impl WasiHttpView for Platform {
    fn http(&mut self) -> WasiHttpCtxView<'_> {
        WasiHttpCtxView {
            ctx: &mut self.http,
            table: &mut self.table,
            hooks: &mut self.hooks,
        }
    }
}

impl mde::connector::settings::Host for Platform {
    fn get(&mut self) -> mde::connector::settings::Config {
        (&self.settings).into()
    }

    // These tests use client secrets and tokens only.
    fn client_assertion(&mut self, _audience: String) -> Result<String, String> {
        Err("this test platform makes no client assertions".into())
    }
}

impl mde::connector::log::Host for Platform {
    fn emit(&mut self, level: Level, event: String, message: String) {
        self.logs.push(LogRecord {
            level,
            event,
            message,
        });
    }
}

impl mde::connector::types::Host for Platform {}

fn engine() -> &'static Engine {
    static ENGINE: OnceLock<Engine> = OnceLock::new();
    ENGINE.get_or_init(|| Engine::new(&Config::new()).unwrap())
}

fn component() -> &'static Component {
    static COMPONENT: OnceLock<Component> = OnceLock::new();
    COMPONENT.get_or_init(|| {
        // `wac plug --plug mde_wasi_http_adapter.component.wasm mde_connector.component.wasm`,
        // as `host/build.rs` composes it.
        let composed = std::fs::read(WASI_HTTP_COMPONENT_PATH).expect("build.rs wrote it");
        Component::new(engine(), composed).expect("the composed component compiles")
    })
}

/// The platform's wasi:http and wasi:io, and this project's `settings`, `log`
/// and `types`; no `mde:connector/http`.
fn pre() -> &'static ConnectorPre<Platform> {
    static PRE: OnceLock<ConnectorPre<Platform>> = OnceLock::new();
    PRE.get_or_init(|| {
        let mut linker = Linker::new(engine());
        wasmtime_wasi_http::p2::add_to_linker_sync(&mut linker).unwrap();
        mde::connector::settings::add_to_linker::<_, HasSelf<Platform>>(&mut linker, |s| s)
            .unwrap();
        mde::connector::log::add_to_linker::<_, HasSelf<Platform>>(&mut linker, |s| s).unwrap();
        mde::connector::types::add_to_linker::<_, HasSelf<Platform>>(&mut linker, |s| s).unwrap();
        let pre = linker
            .instantiate_pre(component())
            .expect("the platform provides every import");
        ConnectorPre::new(pre).unwrap()
    })
}

struct Run {
    answer: Result<LookupResult, Error>,
    sent: Vec<Request>,
    logs: Vec<LogRecord>,
}

/// One `lookup` on a fresh instance.
fn lookup(settings: Settings, upstream: Upstream, domain: &str) -> Run {
    let sent = Arc::new(Mutex::new(Vec::new()));
    let platform = Platform {
        table: ResourceTable::new(),
        wasi: WasiCtx::builder().build(),
        http: WasiHttpCtx::new(),
        hooks: Hooks {
            upstream,
            sent: sent.clone(),
        },
        settings,
        logs: Vec::new(),
        limits: StoreLimitsBuilder::new().memory_size(MEMORY).build(),
    };
    let mut store = Store::new(engine(), platform);
    store.limiter(|platform| &mut platform.limits);
    let connector = pre().instantiate(&mut store).unwrap();
    let answer = connector.call_lookup(&mut store, domain).unwrap();
    let sent = sent.lock().unwrap().clone();
    Run {
        answer,
        sent,
        logs: std::mem::take(&mut store.data_mut().logs),
    }
}

/// The most memory an instance may use: less than the 100 MB bodies below.
const MEMORY: usize = 128 * 1024 * 1024;

#[test]
fn a_body_past_the_cap_is_too_large_within_bounded_memory() {
    for says_length in [false, true] {
        let upstream = Upstream::Huge {
            bytes: 100_000_000,
            says_length,
        };
        let run = lookup(settings(demo_credentials()), upstream, "contoso.com");
        assert_eq!(
            run.answer,
            Err(Error::Transport(TransportError::TooLarge(
                mde_connector_host::gateway::MAX_BODY
            ))),
            "Content-Length: {says_length}"
        );
        assert_eq!(run.sent.len(), 1, "the token request, refused");
    }
    // At the cap exactly: taken (and refused by the connector as no token
    // answer, which is another matter).
    let upstream = Upstream::Huge {
        bytes: usize::try_from(mde_connector_host::gateway::MAX_BODY).unwrap(),
        says_length: false,
    };
    let run = lookup(settings(demo_credentials()), upstream, "contoso.com");
    assert!(
        !matches!(run.answer, Err(Error::Transport(_))),
        "{:?}",
        run.answer
    );
}

fn tenant() -> (common::Tenant, Upstream) {
    let tenant = common::Tenant::new();
    let upstream = Upstream::Tenant(tenant.fake.clone());
    (tenant, upstream)
}

fn header<'a>(request: &'a Request, name: &str) -> Option<&'a str> {
    request.header(name)
}

fn method_and_url(request: &Request) -> String {
    format!("{} {}", request.method.as_str(), request.url)
}

#[test]
fn finds_the_machines_of_a_domain_through_wasi_http() {
    let (tenant, upstream) = tenant();
    let run = lookup(settings(demo_credentials()), upstream, "Contoso.com.");

    let found = run.answer.unwrap();
    assert_eq!(found.domain, "contoso.com");
    assert_eq!(found.machines.len(), 3);
    assert_eq!(
        found.machines[0].id,
        "9a7d3c15e02b4f6e8d1c0b2a3f4e5d6c7b8a9f01"
    );
    assert_eq!(
        found.machines[1].computer_dns_name.as_deref(),
        Some("web-02.dmz.contoso.com")
    );
    assert!(!found.cap_reached);

    // The fake tenant got the token request, then the lookup with its token.
    let seen = tenant.fake.lock().unwrap().requests.clone();
    let seen: Vec<String> = seen.iter().map(method_and_url).collect();
    assert_eq!(seen, [TOKEN_URL.to_owned(), machines_url("contoso.com")]);

    let [token, get] = run.sent.as_slice() else {
        panic!("two requests, got {:?}", run.sent);
    };
    assert_eq!(
        header(token, "content-type"),
        Some("application/x-www-form-urlencoded")
    );
    let form = String::from_utf8(token.body.clone().unwrap()).unwrap();
    assert!(form.contains("grant_type=client_credentials"), "{form}");
    // The adapter gives the body's length, so the platform does not chunk it.
    assert_eq!(
        header(token, "content-length"),
        Some(form.len().to_string().as_str())
    );
    assert_eq!(header(get, "content-length"), None);
    assert_eq!(header(token, "authorization"), None);
    assert_eq!(
        header(get, "authorization").map(host_test::fake_tenant::token_name),
        Some("Bearer fake-access-token-1".to_owned())
    );
    assert_eq!(header(get, "accept"), Some("application/json"));
    // wasi:http sets Host from the URL's authority.
    assert_eq!(header(get, "host"), Some("api.security.microsoft.com"));
    assert_eq!(get.body, None);
    assert!(run.logs.iter().any(|r| r.event == "token-acquired"));
}

#[test]
fn an_invalid_domain_makes_no_request() {
    let (tenant, upstream) = tenant();
    let run = lookup(
        settings(demo_credentials()),
        upstream,
        "https://contoso.com/x",
    );
    assert!(
        matches!(run.answer, Err(Error::InvalidDomain(_))),
        "{:?}",
        run.answer
    );
    assert!(run.sent.is_empty());
    assert!(tenant.fake.lock().unwrap().requests.is_empty());
}

/// A host with no allow-list of its own (this platform sends whatever the
/// component asks): the component itself refuses a custom cloud that would
/// send secrets over plain http off this machine, or to an invalid port.
#[test]
fn the_component_itself_refuses_unsafe_custom_clouds() {
    for (api_base, reason) in [
        (
            "http://api.example.test",
            "plain http is only for a loopback",
        ),
        (
            "HTTP://192.168.1.10:8080",
            "plain http is only for a loopback",
        ),
        ("http://127.0.0.1:99999", "port"),
    ] {
        let (tenant, upstream) = tenant();
        let settings = Settings {
            cloud: mde_connector_host::Cloud::Custom(mde_connector_host::Endpoints {
                api_base: api_base.into(),
                login_host: api_base.into(),
                scope: "s/.default".into(),
            }),
            auth: demo_credentials(),
        };
        let run = lookup(settings, upstream, "contoso.com");
        let Err(Error::InvalidSettings(why)) = &run.answer else {
            panic!("{api_base}: {:?}", run.answer)
        };
        assert!(why.contains(reason), "{api_base}: {why}");
        assert!(run.sent.is_empty());
        assert!(tenant.fake.lock().unwrap().requests.is_empty());
    }
}

#[test]
fn service_errors_pass_through_with_their_envelope() {
    let (_tenant, upstream) = tenant();
    let run = lookup(settings(demo_credentials()), upstream, "localhost");
    let Err(Error::ApiError(details)) = run.answer else {
        panic!("expected api-error, got {:?}", run.answer);
    };
    assert_eq!(details.status, 400);
    assert_eq!(details.code.as_deref(), Some("InvalidDomainName"));
}

#[test]
fn platform_failures_become_transport_errors() {
    let cases: [(fn() -> HttpError, TransportError); 4] = [
        (
            || HttpError::HttpRequestDenied,
            TransportError::Refused("HTTP-request-denied".into()),
        ),
        (|| HttpError::ConnectionTimeout, TransportError::Timeout),
        (
            || HttpError::ConnectionRefused,
            TransportError::Connection("connection-refused".into()),
        ),
        (
            || HttpError::HttpResponseBodySize(Some(1 << 20)),
            TransportError::TooLarge(1 << 20),
        ),
    ];
    for (fail, expected) in cases {
        let run = lookup(
            settings(demo_credentials()),
            Upstream::Fails(fail),
            "contoso.com",
        );
        assert_eq!(run.answer, Err(Error::Transport(expected)));
        // The token request was the one attempted.
        let urls: Vec<String> = run.sent.iter().map(method_and_url).collect();
        assert_eq!(urls, [TOKEN_URL]);
    }
}

#[test]
fn imports_wasi_http_and_the_connectors_own_interfaces_only() {
    let mut imports: Vec<String> = component()
        .component_type()
        .imports(engine())
        .map(|(name, _)| name.to_owned())
        .collect();
    imports.sort();
    assert_eq!(
        imports,
        [
            "mde:connector/log@0.4.0",
            "mde:connector/settings@0.4.0",
            "mde:connector/types@0.4.0",
            "wasi:http/outgoing-handler@0.2.12",
            "wasi:http/types@0.2.12",
            "wasi:io/error@0.2.12",
            "wasi:io/poll@0.2.12",
            "wasi:io/streams@0.2.12",
        ]
    );
    let mut exports: Vec<String> = component()
        .component_type()
        .exports(engine())
        .map(|(name, _)| name.to_owned())
        .collect();
    exports.sort();
    assert_eq!(
        exports,
        [
            "check",
            "domain-machines",
            "domain-stats",
            "file-machines",
            "ip-machines",
            "ip-stats",
            "lookup",
            "lookup-query",
            "lookup-query-texts",
            "lookup-texts",
            "machine",
            "mde:connector/events@0.4.0",
            "user-machines",
        ]
    );
}
