//! The composed command and service on the released wasmtime CLI, against
//! the fake tenant served on 127.0.0.1 as a custom cloud: `wasmtime run -S
//! http` for the command (every format, every exit status), `wasmtime serve
//! -S cli` and real HTTP requests for the service (every route and error the
//! runtime can produce). No secret reaches any output.
//!
//! Each test skips, saying so, when there is no wasmtime CLI (`WASMTIME_CLI`
//! or `wasmtime` on `PATH`); `.ci/run` installs one, so in CI they run.

mod common;
mod stock;

use host_test::fake_tenant;
use mde_connector::events::parse_rfc3339_ms;
use mde_connector::output;
use mde_connector_host::runtime::{Method, Request, Response, TransportError};
use mde_connector_host::transport::Transport;
use std::net::TcpListener;
use std::process::Output;
use std::time::{SystemTime, UNIX_EPOCH};
use stock::{Env, Tenant, Wasmtime, custom_cloud, demo_credentials, env, with};

const FORMATS: [&str; 5] = ["table", "json", "ndjson", "ocsf", "ecs"];

fn text(bytes: &[u8]) -> String {
    String::from_utf8(bytes.to_vec()).unwrap()
}

fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_millis()
        .try_into()
        .unwrap()
}

/// What the CLI prints for `domain` in `format`: the calls and writers of its
/// single lookup, on the in-process component and fake tenant, with events
/// observed at `observed_at`.
fn cli_prints(domain: &str, format: &str, observed_at: u64) -> String {
    let tenant = common::Tenant::new();
    let mut instance = tenant.instance(common::settings(common::demo_credentials()));
    let found = instance.lookup_texts(domain).unwrap().unwrap();
    let mut out = Vec::new();
    match format {
        "table" => output::write_table(&mut out, &found.machines),
        "json" => output::write_array(&mut out, &found.machines),
        "ndjson" => output::write_lines(&mut out, &found.machines),
        "ocsf" => output::write_lines(
            &mut out,
            &instance
                .ocsf_inventory(&found, observed_at)
                .unwrap()
                .unwrap(),
        ),
        "ecs" => output::write_lines(
            &mut out,
            &instance
                .ecs_documents(&found, observed_at)
                .unwrap()
                .unwrap(),
        ),
        other => panic!("no format {other}"),
    }
    .unwrap();
    text(&out)
}

/// When the events in `printed` (OCSF or ECS lines) say they were observed;
/// 0 for the other formats.
fn observed_at(format: &str, printed: &str) -> u64 {
    let first =
        || -> serde_json::Value { serde_json::from_str(printed.lines().next().unwrap()).unwrap() };
    match format {
        "ocsf" => first()["time"].as_u64().unwrap(),
        "ecs" => parse_rfc3339_ms(first()["@timestamp"].as_str().unwrap())
            .unwrap()
            .try_into()
            .unwrap(),
        _ => 0,
    }
}

/// Asserts that `printed` is what the CLI prints for `domain` in `format`,
/// with events observed within `window` (milliseconds since the epoch).
fn assert_prints_as_the_cli(domain: &str, format: &str, printed: &str, window: (u64, u64)) {
    let observed = observed_at(format, printed);
    if matches!(format, "ocsf" | "ecs") {
        assert!(
            (window.0..=window.1).contains(&observed),
            "{format} observed at {observed}, outside {window:?}"
        );
    }
    assert_eq!(
        printed,
        cli_prints(domain, format, observed),
        "{domain} as {format}"
    );
}

fn status(out: &Output) -> Option<i32> {
    out.status.code()
}

/// Neither the demo application's secret nor a token the fake tenant
/// issues (`fake-access-token-N`) is in `text`.
fn assert_no_demo_secret(what: &str, text: &str) {
    for secret in [fake_tenant::CLIENT_SECRET, "fake-access-token-"] {
        assert!(!text.contains(secret), "{what} leaks {secret}: {text}");
    }
}

#[test]
fn the_command_prints_what_the_cli_prints_in_every_format() {
    let Some(wasmtime) = Wasmtime::find("the_command_prints_what_the_cli_prints_in_every_format")
    else {
        return;
    };
    let tenant = Tenant::start();
    for format in FORMATS {
        let started = now_ms();
        let out = wasmtime.run(&tenant.env(), &["contoso.com", "--format", format]);
        let ended = now_ms();
        assert_eq!(status(&out), Some(0), "{format}: {}", text(&out.stderr));
        assert_eq!(text(&out.stderr), "", "{format}");
        assert_prints_as_the_cli("contoso.com", format, &text(&out.stdout), (started, ended));
    }
    // Table is the default; an unknown domain has no machines; IDN works.
    let out = wasmtime.run(&tenant.env(), &["contoso.com"]);
    assert_eq!(text(&out.stdout), cli_prints("contoso.com", "table", 0));
    let out = wasmtime.run(&tenant.env(), &["nothing.example", "--format=json"]);
    assert_eq!(
        (status(&out), text(&out.stdout).as_str()),
        (Some(0), "[]\n")
    );
    let out = wasmtime.run(&tenant.env(), &["Bücher.example.", "--format", "ndjson"]);
    assert_eq!(
        text(&out.stdout),
        cli_prints("xn--bcher-kva.example", "ndjson", 0)
    );
    // One token request and one API call per run: nothing is kept between runs.
    assert_eq!(tenant.requests(), (8, 8));
}

#[test]
fn the_command_says_when_the_cap_was_reached() {
    let Some(wasmtime) = Wasmtime::find("the_command_says_when_the_cap_was_reached") else {
        return;
    };
    let tenant = Tenant::start();
    let out = wasmtime.run(&tenant.env(), &["fabrikam.com", "--format", "ndjson"]);
    assert_eq!(status(&out), Some(0));
    assert_eq!(text(&out.stdout), cli_prints("fabrikam.com", "ndjson", 0));
    assert_eq!(text(&out.stdout).lines().count(), 500);
    assert_eq!(
        text(&out.stderr),
        "mde-connector warn result-cap-reached: fabrikam.com: 500 machines, the service's cap; there may be more\n"
    );
}

#[test]
fn the_command_exits_with_the_cli_statuses() {
    let Some(wasmtime) = Wasmtime::find("the_command_exits_with_the_cli_statuses") else {
        return;
    };
    let tenant = Tenant::start();
    let closed = {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        format!("http://{}", listener.local_addr().unwrap())
    };
    let token = |token: &str| with(custom_cloud(&tenant.origin()), "MDE_TOKEN", Some(token));
    struct Case {
        name: &'static str,
        vars: Env,
        args: &'static [&'static str],
        /// The fake tenant's next API answer: status and Retry-After.
        script: Option<(u16, Option<u64>)>,
        status: i32,
        stderr: &'static str,
        /// Requests the tenant got: (token, API).
        requests: (usize, usize),
    }
    let cases = [
        Case {
            name: "no domain",
            vars: tenant.env(),
            args: &[],
            script: None,
            status: 2,
            stderr: "error: a DOMAIN is required\n\nusage: mde-connector DOMAIN",
            requests: (0, 0),
        },
        Case {
            name: "unknown flag",
            vars: tenant.env(),
            args: &["contoso.com", "--live"],
            script: None,
            status: 2,
            stderr: "error: unexpected argument \"--live\"",
            requests: (0, 0),
        },
        Case {
            name: "invalid domain",
            vars: tenant.env(),
            args: &["contoso.com/x"],
            script: None,
            status: 2,
            stderr: "error: invalid-domain: ",
            requests: (0, 0),
        },
        Case {
            name: "unknown cloud",
            vars: with(tenant.env(), "MDE_CLOUD", Some("azure")),
            args: &["contoso.com"],
            script: None,
            status: 2,
            stderr: "error: invalid-settings: MDE_CLOUD \"azure\" is not a cloud",
            requests: (0, 0),
        },
        Case {
            name: "no credentials",
            vars: custom_cloud(&tenant.origin()),
            args: &["contoso.com"],
            script: None,
            status: 2,
            stderr: "error: invalid-settings: no credentials: set MDE_TOKEN, or MDE_TENANT_ID, MDE_CLIENT_ID and MDE_CLIENT_SECRET\n",
            requests: (0, 0),
        },
        Case {
            name: "plain http to a remote host",
            vars: with(
                tenant.env(),
                "MDE_API_BASE",
                Some("http://api.example.test"),
            ),
            args: &["contoso.com"],
            script: None,
            status: 2,
            stderr: "error: invalid-settings: api base \"http://api.example.test\": plain http is only for a loopback",
            requests: (0, 0),
        },
        Case {
            name: "wrong client secret",
            vars: with(tenant.env(), "MDE_CLIENT_SECRET", Some("wrong")),
            args: &["contoso.com"],
            script: None,
            status: 3,
            stderr: "error: unauthorized: identity platform answered 401 invalid_client: AADSTS7000215",
            requests: (1, 0),
        },
        Case {
            name: "a token the API refuses",
            vars: token("expired"),
            args: &["contoso.com"],
            script: None,
            status: 3,
            stderr: "error: unauthorized: API answered 401 Unauthorized",
            requests: (0, 1),
        },
        Case {
            name: "rate limited",
            vars: tenant.env(),
            args: &["contoso.com"],
            script: Some((429, Some(7))),
            status: 4,
            stderr: "error: rate-limited: API answered 429 Scripted: A failure the test asked for.",
            requests: (1, 1),
        },
        Case {
            name: "service unavailable",
            vars: tenant.env(),
            args: &["contoso.com"],
            script: Some((503, None)),
            status: 1,
            stderr: "error: service-unavailable: API answered 503 Scripted",
            requests: (1, 1),
        },
        Case {
            name: "another API error",
            vars: tenant.env(),
            args: &["localhost"],
            script: None,
            status: 1,
            stderr: "error: api-error: API answered 400 InvalidDomainName",
            requests: (1, 1),
        },
        Case {
            name: "nothing listening",
            vars: with(tenant.env(), "MDE_LOGIN_HOST", Some(&closed)),
            args: &["contoso.com"],
            script: None,
            status: 1,
            stderr: "error: transport: ",
            requests: (0, 0),
        },
    ];
    for case in cases {
        let before = tenant.requests();
        if let Some((code, retry_after)) = case.script {
            tenant.fake.lock().unwrap().fail_next(code, retry_after);
        }
        let out = wasmtime.run(&case.vars, case.args);
        let stderr = text(&out.stderr);
        assert_eq!(status(&out), Some(case.status), "{}: {stderr}", case.name);
        assert!(stderr.starts_with(case.stderr), "{}: {stderr}", case.name);
        // The error line alone, whatever the status (1 too): the command
        // exits through `exit-with-code`, so the host adds nothing.
        if !stderr.contains("\n\nusage: ") {
            assert_eq!(stderr.lines().count(), 1, "{}: {stderr}", case.name);
        }
        assert_eq!(text(&out.stdout), "", "{}", case.name);
        assert_no_demo_secret(case.name, &stderr);
        let after = tenant.requests();
        assert_eq!(
            (after.0 - before.0, after.1 - before.1),
            case.requests,
            "{}",
            case.name
        );
    }
    let limited = wasmtime.run(&tenant.env(), &["contoso.com"]);
    assert_eq!(
        status(&limited),
        Some(0),
        "the scripted failures were all used"
    );
}

/// A hostile server: refuses every request, and reflects all it was sent
/// (URL, headers, body: the token and the form-encoded secret) in its error.
struct Reflecting;

const CANARY_SECRET: &str = "CANARY+SECRET/7f3a";
const CANARY_SECRET_FORM: &str = "CANARY%2BSECRET%2F7f3a";
const CANARY_TOKEN: &str = "CANARY-TOKEN-91bc";

impl Transport for Reflecting {
    fn send(&mut self, request: &Request) -> Result<Response, TransportError> {
        let echo = format!(
            "{} {:?} {}",
            request.url,
            request.headers,
            String::from_utf8_lossy(request.body.as_deref().unwrap_or_default())
        );
        let body = match request.method {
            Method::Post => serde_json::json!({
                "error": "invalid_client",
                "error_description": echo,
                "correlation_id": echo,
            }),
            Method::Get => serde_json::json!({
                "error": {"code": echo, "message": echo, "target": echo}
            }),
        };
        Ok(Response {
            status: 401,
            headers: vec![("content-type".into(), "application/json".into())],
            body: body.to_string().into_bytes().into(),
        })
    }
}

fn assert_clean(what: &str, text: &str) {
    for canary in [CANARY_SECRET, CANARY_SECRET_FORM, CANARY_TOKEN] {
        assert!(!text.contains(canary), "{what} leaks {canary}: {text}");
    }
}

/// The settings for the reflecting server: client credentials, or a token.
fn canary_settings(origin: &str) -> [Env; 2] {
    let cloud = custom_cloud(origin);
    let mut credentials = cloud.clone();
    credentials.extend(env(&[
        ("MDE_TENANT_ID", "contoso.onmicrosoft.com"),
        ("MDE_CLIENT_ID", "client"),
        ("MDE_CLIENT_SECRET", CANARY_SECRET),
    ]));
    [credentials, with(cloud, "MDE_TOKEN", Some(CANARY_TOKEN))]
}

#[test]
fn no_secret_a_server_reflects_reaches_the_commands_output() {
    let Some(wasmtime) = Wasmtime::find("no_secret_a_server_reflects_reaches_the_commands_output")
    else {
        return;
    };
    let server = stock::serve_backend(Reflecting);
    for vars in canary_settings(&server.origin()) {
        for format in FORMATS {
            let out = wasmtime.run(&vars, &["contoso.com", "--format", format]);
            let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
            assert_eq!(status(&out), Some(3), "{stderr}");
            // The server did reflect a secret, and it was taken out.
            assert!(stderr.contains("[redacted]"), "{stderr}");
            assert_clean("the command", &format!("{stdout}{stderr}"));
        }
    }
}

#[test]
fn no_secret_a_server_reflects_reaches_the_services_answers_or_log() {
    let Some(wasmtime) =
        Wasmtime::find("no_secret_a_server_reflects_reaches_the_services_answers_or_log")
    else {
        return;
    };
    let server = stock::serve_backend(Reflecting);
    for vars in canary_settings(&server.origin()) {
        let service = wasmtime.serve(&with(vars, "MDE_LOG", Some("debug")));
        for query in ["", "?format=ndjson", "?format=ocsf", "?format=ecs"] {
            let answer = service.get(&format!("/domains/contoso.com/machines{query}"));
            assert_eq!(answer.status, 502, "{}", answer.body);
            assert!(answer.body.contains("[redacted]"), "{}", answer.body);
            assert_clean(
                "the answer",
                &format!("{:?} {}", answer.headers, answer.body),
            );
        }
        let log = service.stderr();
        assert!(log.contains("mde-connector debug request: "), "{log}");
        assert_clean("the log", &log);
    }
}

/// `kind`, `status`, `title`, `type` and `detail` of a problem answer, which
/// holds no secret.
fn assert_problem(answer: &stock::Answer, status: u16, kind: &str) -> serde_json::Value {
    assert_eq!(answer.status, status, "{}", answer.body);
    assert_no_demo_secret(
        "a problem",
        &format!("{:?} {}", answer.headers, answer.body),
    );
    assert_eq!(
        answer.header("content-type"),
        Some("application/problem+json")
    );
    let problem = answer.json();
    assert_eq!(problem["type"], "about:blank");
    assert_eq!(problem["status"], status);
    assert_eq!(problem["kind"], kind, "{problem}");
    assert!(problem["title"].as_str().is_some_and(|t| !t.is_empty()));
    assert!(
        problem["detail"].as_str().is_some_and(|d| !d.is_empty()),
        "{problem}"
    );
    problem
}

#[test]
fn the_service_answers_machines_in_every_format() {
    let Some(wasmtime) = Wasmtime::find("the_service_answers_machines_in_every_format") else {
        return;
    };
    let tenant = Tenant::start();
    let service = wasmtime.serve(&tenant.env());

    let answer = service.get("/domains/contoso.com/machines");
    assert_eq!(answer.status, 200, "{}", answer.body);
    assert_eq!(answer.header("content-type"), Some("application/json"));
    assert_eq!(answer.header("x-mde-cap-reached"), None);
    assert_eq!(answer.header("cache-control"), Some("no-store"));
    // The same JSON as the CLI's --format json.
    assert_eq!(answer.body, cli_prints("contoso.com", "json", 0));

    for format in ["json", "ndjson", "ocsf", "ecs"] {
        let started = now_ms();
        let answer = service.get(&format!("/domains/contoso.com/machines?format={format}"));
        let ended = now_ms();
        assert_eq!(answer.status, 200, "{}", answer.body);
        let content_type = if format == "json" {
            "application/json"
        } else {
            "application/x-ndjson"
        };
        assert_eq!(answer.header("content-type"), Some(content_type));
        assert_prints_as_the_cli("contoso.com", format, &answer.body, (started, ended));
    }

    let answer = service.get("/domains/fabrikam.com/machines?format=ndjson");
    assert_eq!(answer.status, 200);
    assert_eq!(answer.header("x-mde-cap-reached"), Some("true"));
    assert_eq!(answer.body, cli_prints("fabrikam.com", "ndjson", 0));

    // A percent-encoded internationalised domain.
    let answer = service.get("/domains/B%C3%BCcher.example/machines");
    assert_eq!(answer.body, cli_prints("xn--bcher-kva.example", "json", 0));
    let answer = service.get("/domains/nothing.example/machines");
    assert_eq!((answer.status, answer.body.as_str()), (200, "[]\n"));

    // Each request ran on a fresh instance: a token request per lookup.
    assert_eq!(tenant.requests(), (8, 8));
    // Nothing at warn or above but the cap. (wasmtime serve puts
    // `stderr [N] :: ` before what request N's instance writes.)
    assert_eq!(
        service
            .stderr()
            .lines()
            .filter_map(|l| l.split_once(" :: ").map(|(_, record)| record))
            .collect::<Vec<_>>(),
        [
            "mde-connector warn result-cap-reached: fabrikam.com: 500 machines, the service's cap; there may be more"
        ]
    );
}

#[test]
fn the_service_answers_every_route_and_error() {
    let Some(wasmtime) = Wasmtime::find("the_service_answers_every_route_and_error") else {
        return;
    };
    let tenant = Tenant::start();
    let service = wasmtime.serve(&tenant.env());

    let health = service.get("/healthz");
    assert_eq!(
        (health.status, health.body.as_str()),
        (200, "{\"status\":\"ok\"}\n")
    );

    for path in [
        "/",
        "/domains/contoso.com",
        "/domains/contoso.com/machines/",
        "/machines",
    ] {
        assert_problem(&service.get(path), 404, "not-found");
        assert_problem(&service.request("POST", path), 404, "not-found");
    }
    for path in ["/healthz", "/domains/contoso.com/machines"] {
        for method in ["POST", "PUT", "DELETE", "PATCH", "OPTIONS"] {
            let answer = service.request(method, path);
            assert_problem(&answer, 405, "method-not-allowed");
            assert_eq!(answer.header("allow"), Some("GET"), "{method} {path}");
        }
        let head = service.request("HEAD", path);
        assert_eq!((head.status, head.header("allow")), (405, Some("GET")));
    }
    let problem = assert_problem(
        &service.get("/domains/contoso.com/machines?format=table"),
        400,
        "invalid-request",
    );
    assert!(
        problem["detail"]
            .as_str()
            .unwrap()
            .contains("json, ndjson, ocsf, ecs")
    );
    assert_problem(
        &service.get("/domains/contoso.com%2Fx/machines"),
        400,
        "invalid-domain",
    );
    // None of these reached the tenant.
    assert_eq!(tenant.requests(), (0, 0));

    // The service itself calls the domain invalid.
    let problem = assert_problem(
        &service.get("/domains/localhost/machines"),
        400,
        "api-error",
    );
    assert_eq!(problem["code"], "InvalidDomainName");
    assert_eq!(problem["service"], "api");
    assert_eq!(problem["serviceStatus"], 400);
    assert!(
        problem["correlationId"]
            .as_str()
            .is_some_and(|id| id.len() == 36)
    );

    tenant.fake.lock().unwrap().fail_next(429, Some(7));
    let answer = service.get("/domains/contoso.com/machines");
    let problem = assert_problem(&answer, 503, "rate-limited");
    assert_eq!(answer.header("retry-after"), Some("7"));
    assert_eq!(problem["retryAfterSeconds"], 7);
    assert_eq!(problem["code"], "Scripted");
    assert_eq!(problem["serviceStatus"], 429);
    assert!(problem["correlationId"].is_string());

    tenant.fake.lock().unwrap().fail_next(429, None);
    let answer = service.get("/domains/contoso.com/machines");
    assert_problem(&answer, 503, "rate-limited");
    assert_eq!(answer.header("retry-after"), Some("60"));

    tenant.fake.lock().unwrap().fail_next(500, None);
    let answer = service.get("/domains/contoso.com/machines?format=ocsf");
    let problem = assert_problem(&answer, 503, "service-unavailable");
    assert_eq!(answer.header("retry-after"), Some("30"));
    assert_eq!(problem["serviceStatus"], 500);

    // Fresh instances: one token request per lookup that reached the API.
    assert_eq!(tenant.requests(), (4, 4));
    assert_no_demo_secret("the log", &service.stderr());
}

#[test]
fn the_service_reports_refused_credentials_bad_settings_and_no_answer() {
    let Some(wasmtime) =
        Wasmtime::find("the_service_reports_refused_credentials_bad_settings_and_no_answer")
    else {
        return;
    };
    let tenant = Tenant::start();

    let refused = wasmtime.serve(&with(tenant.env(), "MDE_CLIENT_SECRET", Some("wrong")));
    let problem = assert_problem(
        &refused.get("/domains/contoso.com/machines"),
        502,
        "unauthorized",
    );
    assert_eq!(problem["service"], "identity-platform");
    assert_eq!(problem["serviceStatus"], 401);
    assert_eq!(problem["code"], "invalid_client");
    assert!(problem["correlationId"].is_string());
    drop(refused);

    let forbidden_token = with(
        custom_cloud(&tenant.origin()),
        "MDE_TOKEN",
        Some("not-a-token"),
    );
    let refused = wasmtime.serve(&forbidden_token);
    let problem = assert_problem(
        &refused.get("/domains/contoso.com/machines"),
        502,
        "unauthorized",
    );
    assert_eq!(
        (problem["service"].as_str(), problem["code"].as_str()),
        (Some("api"), Some("Unauthorized"))
    );
    drop(refused);

    let unusable = wasmtime.serve(&with(tenant.env(), "MDE_CLOUD", Some("azure")));
    for path in ["/healthz", "/domains/contoso.com/machines"] {
        let problem = assert_problem(&unusable.get(path), 500, "invalid-settings");
        assert!(
            problem["detail"]
                .as_str()
                .unwrap()
                .contains("MDE_CLOUD \"azure\" is not a cloud"),
            "{problem}"
        );
    }
    drop(unusable);
    assert_eq!(tenant.requests(), (1, 1));

    let closed = {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        format!("http://{}", listener.local_addr().unwrap())
    };
    let mut vars = custom_cloud(&closed);
    vars.extend(demo_credentials());
    let unreachable = wasmtime.serve(&vars);
    let problem = assert_problem(
        &unreachable.get("/domains/contoso.com/machines"),
        502,
        "transport",
    );
    assert_eq!(
        problem["detail"],
        "transport: connection failed: connection-refused"
    );
}

/// wasmtime serve's options for keeping an instance (and so its token and
/// cache) across requests.
const REUSE: [&str; 4] = [
    "--max-instance-reuse-count",
    "1000",
    "--idle-instance-timeout",
    "60s",
];

/// A GET to a service with instance reuse, once the last request's instance
/// is back for reuse: wasmtime serve puts it back only after the guest's
/// handler returns, a moment after the answer is sent, and a request in
/// that moment gets a new instance (with a token and cache of its own).
fn get_reused(service: &stock::Service, path: &str) -> stock::Answer {
    std::thread::sleep(std::time::Duration::from_millis(200));
    service.get(path)
}

/// What an answer says of the cache: `x-mde-cache` and `age`.
fn cache(answer: &stock::Answer) -> (Option<&str>, Option<&str>) {
    (answer.header("x-mde-cache"), answer.header("age"))
}

#[test]
fn with_instance_reuse_the_token_and_answers_are_kept() {
    let Some(wasmtime) = Wasmtime::find("with_instance_reuse_the_token_and_answers_are_kept")
    else {
        return;
    };
    let tenant = Tenant::start();
    let service = wasmtime.serve_with(&REUSE, &tenant.env());
    let get = |path: &str| {
        let answer = get_reused(&service, path);
        assert_eq!(answer.status, 200, "{path}: {}", answer.body);
        answer
    };

    let first = get("/domains/contoso.com/machines");
    assert_eq!(cache(&first), (Some("miss"), None));
    assert_eq!(first.body, cli_prints("contoso.com", "json", 0));
    std::thread::sleep(std::time::Duration::from_millis(1100));
    // Another spelling of the domain, in every format: one kept answer,
    // events observed now.
    for format in FORMATS.into_iter().filter(|f| *f != "table") {
        let started = now_ms();
        let answer = get(&format!("/domains/CONTOSO.com./machines?format={format}"));
        let age: u64 = answer.header("age").unwrap().parse().unwrap();
        assert_eq!(answer.header("x-mde-cache"), Some("hit"), "{format}");
        assert!((1..60).contains(&age), "age {age}");
        assert_prints_as_the_cli("contoso.com", format, &answer.body, (started, now_ms()));
    }
    // An answer with no machines is kept too.
    for expected in [(Some("miss"), None), (Some("hit"), Some("1"))] {
        let answer = get("/domains/nothing.example/machines");
        assert_eq!(answer.body, "[]\n");
        assert_eq!(cache(&answer).0, expected.0);
        if expected.1.is_none() {
            std::thread::sleep(std::time::Duration::from_millis(1100));
        }
    }
    // An error is not: the next request asks again.
    tenant.fake.lock().unwrap().fail_next(500, None);
    let failed = get_reused(&service, "/domains/fabrikam.com/machines");
    assert_problem(&failed, 503, "service-unavailable");
    assert_eq!(cache(&failed), (Some("miss"), None));
    let fabrikam = get("/domains/fabrikam.com/machines?format=ndjson");
    assert_eq!(cache(&fabrikam), (Some("miss"), None));
    assert_eq!(fabrikam.header("x-mde-cap-reached"), Some("true"));
    let again = get("/domains/fabrikam.com/machines?format=ndjson");
    assert_eq!(cache(&again).0, Some("hit"));
    assert_eq!(again.body, fabrikam.body);

    // One token, one API call per distinct domain (and the failed one).
    assert_eq!(tenant.requests(), (1, 4));
}

#[test]
fn the_cache_is_sized_by_the_environment() {
    let Some(wasmtime) = Wasmtime::find("the_cache_is_sized_by_the_environment") else {
        return;
    };
    let tenant = Tenant::start();
    let off = wasmtime.serve_with(&REUSE, &with(tenant.env(), "MDE_CACHE_TTL", Some("0")));
    for _ in 0..2 {
        let answer = get_reused(&off, "/domains/contoso.com/machines");
        assert_eq!(answer.header("x-mde-cache"), Some("miss"));
    }
    // The token is kept all the same.
    assert_eq!(tenant.requests(), (1, 2));
    drop(off);

    let one = wasmtime.serve_with(&REUSE, &with(tenant.env(), "MDE_CACHE_ENTRIES", Some("1")));
    for (domain, cache) in [
        ("contoso.com", "miss"),
        ("contoso.com", "hit"),
        ("fabrikam.com", "miss"),
        ("contoso.com", "miss"),
    ] {
        let answer = get_reused(&one, &format!("/domains/{domain}/machines"));
        assert_eq!(answer.header("x-mde-cache"), Some(cache), "{domain}");
    }
    assert_eq!(tenant.requests(), (2, 5));
    drop(one);

    for (name, value) in [
        ("MDE_CACHE_TTL", "15m"),
        ("MDE_CACHE_ENTRIES", "-1"),
        ("MDE_TIMEOUT", "0"),
    ] {
        let bad = wasmtime.serve(&with(tenant.env(), name, Some(value)));
        let problem = assert_problem(&bad.get("/healthz"), 500, "invalid-settings");
        let detail = problem["detail"].as_str().unwrap();
        assert!(
            detail.starts_with(&format!("invalid-settings: {name} \"{value}\" is not")),
            "{detail}"
        );
    }
    assert_eq!(tenant.requests(), (2, 5));
}

#[test]
fn a_silent_upstream_is_a_504_within_mde_timeout() {
    let Some(wasmtime) = Wasmtime::find("a_silent_upstream_is_a_504_within_mde_timeout") else {
        return;
    };
    let (_listener, silent) = stock::silent_server();
    let vars = with(
        with(
            custom_cloud(&silent),
            "MDE_TOKEN",
            Some("t0ken-for-the-silent-server"),
        ),
        "MDE_TIMEOUT",
        Some("2"),
    );
    let service = wasmtime.serve(&vars);
    let started = std::time::Instant::now();
    let answer = service.get("/domains/contoso.com/machines");
    let waited = started.elapsed();
    let problem = assert_problem(&answer, 504, "transport");
    assert_eq!(problem["detail"], "transport: timed out", "{problem}");
    assert!(
        (2.0..10.0).contains(&waited.as_secs_f64()),
        "answered after {waited:?}"
    );
    // The command alike: exit 1, in bounded time.
    let started = std::time::Instant::now();
    let out = wasmtime.run(&vars, &["contoso.com"]);
    assert_eq!(
        (status(&out), text(&out.stderr).as_str()),
        (Some(1), "error: transport: timed out\n")
    );
    assert!(started.elapsed().as_secs() < 30, "{:?}", started.elapsed());
}

/// An instance may use at most 128 MiB: the 100 MB bodies below would not fit.
const MEMORY: [&str; 2] = ["-W", "max-memory-size=134217728"];

#[test]
fn an_endless_or_huge_body_is_refused_at_the_cap_within_bounded_memory() {
    let Some(wasmtime) =
        Wasmtime::find("an_endless_or_huge_body_is_refused_at_the_cap_within_bounded_memory")
    else {
        return;
    };
    let too_large = format!(
        "transport: answer larger than {} bytes",
        mde_connector_host::gateway::MAX_BODY
    );
    for content_length in [None, Some(100_000_000)] {
        let server = stock::EndlessServer::start(content_length);
        let vars = with(
            custom_cloud(&server.origin()),
            "MDE_TOKEN",
            Some("t0ken-endless"),
        );
        let service = wasmtime.serve_with(&MEMORY, &vars);
        let answer = service.get("/domains/contoso.com/machines");
        let problem = assert_problem(&answer, 502, "transport");
        assert_eq!(problem["detail"], too_large.as_str(), "{content_length:?}");
        drop(service);

        let out = wasmtime.run_with(&MEMORY, &vars, &["contoso.com"]);
        assert_eq!(
            (status(&out), text(&out.stderr)),
            (Some(1), format!("error: {too_large}\n")),
            "{content_length:?}"
        );
        let sent = server.sent.load(std::sync::atomic::Ordering::SeqCst);
        assert!(
            sent < 2 * 100_000_000,
            "{content_length:?}: {sent} bytes sent"
        );
    }
}
