//! The command line: formats, replay, request echo, exit statuses.

use std::io::Write;
use std::process::{Command, Output};
use std::time::{SystemTime, UNIX_EPOCH};

const ENV: [&str; 8] = [
    "MDE_TOKEN",
    "MDE_TENANT_ID",
    "MDE_CLIENT_ID",
    "MDE_CLIENT_SECRET",
    "MDE_CLOUD",
    "MDE_API_BASE",
    "MDE_LOGIN_HOST",
    "MDE_SCOPE",
];

fn cli(args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_mde-connector"));
    command.args(args);
    command
        .arg("--cache-dir")
        .arg(concat!(env!("CARGO_TARGET_TMPDIR"), "/component-cache"));
    for name in ENV {
        command.env_remove(name);
    }
    command.envs(env.iter().copied());
    command.output().expect("the CLI runs")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8(bytes.to_vec()).unwrap()
}

/// A replay file in cargo's scratch directory for integration tests.
struct ReplayFile(std::path::PathBuf);

impl ReplayFile {
    fn path(&self) -> &std::path::Path {
        &self.0
    }
}

impl Drop for ReplayFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

fn replay_file(json: &str) -> ReplayFile {
    use std::sync::atomic::{AtomicUsize, Ordering};
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    let name = format!(
        "replay-{}-{}.json",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::SeqCst)
    );
    let path = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join(name);
    std::fs::File::create(&path)
        .unwrap()
        .write_all(json.as_bytes())
        .unwrap();
    ReplayFile(path)
}

#[test]
fn prints_a_table_from_the_fake_tenant() {
    let out = cli(&["contoso.com"], &[]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    assert!(stdout.starts_with("ID"), "{stdout}");
    assert!(stdout.contains("ws-0142.corp.contoso.com"));
    assert!(stdout.contains("Maintenance"));
    assert!(stdout.ends_with("3 machine(s)\n"));
}

#[test]
fn json_uses_the_services_field_names() {
    let out = cli(&["contoso.com", "--format", "json"], &[]);
    assert_eq!(out.status.code(), Some(0));
    let machines: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let first = &machines.as_array().unwrap()[0];
    assert_eq!(first["id"], "9a7d3c15e02b4f6e8d1c0b2a3f4e5d6c7b8a9f01");
    assert_eq!(first["computerDnsName"], "ws-0142.corp.contoso.com");
    assert_eq!(first["osBuild"], 22631);
    assert_eq!(first["ipAddresses"][0]["macAddress"], "00155D8A3C21");
    assert_eq!(first["ipAddresses"][0]["type"], "Ethernet");
    assert_eq!(first["healthStatus"], "Active");
    assert_eq!(machines[2]["healthStatus"], "Maintenance");
}

#[test]
fn ndjson_is_one_machine_per_line() {
    let out = cli(&["fabrikam.com", "--format", "ndjson"], &[]);
    assert_eq!(out.status.code(), Some(0));
    let stdout = text(&out.stdout);
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines.len(), 500);
    for line in lines {
        let machine: serde_json::Value = serde_json::from_str(line).unwrap();
        assert!(machine["id"].is_string());
        assert!(machine["lastSeen"].is_string());
    }
}

fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_millis() as u64
}

#[test]
fn ocsf_prints_one_valid_event_per_machine_observed_now() {
    let ocsf = host_test::schema::ocsf();
    let before = now_ms();
    let out = cli(&["contoso.com", "--format", "ocsf"], &[]);
    let after = now_ms();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines.len(), 3, "{stdout}");
    for line in lines {
        let event: serde_json::Value = serde_json::from_str(line).unwrap();
        assert_eq!(event["class_uid"], 5001);
        let time = event["time"].as_u64().unwrap();
        assert!(
            (before..=after).contains(&time),
            "{before} <= {time} <= {after}"
        );
        let errors = ocsf.check_event(&event);
        assert!(errors.is_empty(), "{errors:#?}");
    }
}

#[test]
fn ecs_prints_one_valid_document_per_machine() {
    let ecs = host_test::schema::ecs();
    let out = cli(&["fabrikam.com", "--format", "ecs"], &[]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines.len(), 500);
    for line in lines {
        let document: serde_json::Value = serde_json::from_str(line).unwrap();
        assert!(document["host"]["id"].is_string());
        let errors = ecs.check_document(&document, "mde");
        assert!(errors.is_empty(), "{errors:#?}");
    }
}

#[test]
fn every_format_makes_one_api_call() {
    for format in ["table", "json", "ndjson", "ocsf", "ecs"] {
        let out = cli(&["contoso.com", "--format", format, "--show-requests"], &[]);
        assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
        let requests: Vec<String> = text(&out.stderr)
            .lines()
            .map(|line| line.split(' ').take(2).collect::<Vec<_>>().join(" "))
            .collect();
        assert_eq!(
            requests,
            [
                "POST https://login.microsoftonline.com/8f1c2d3e-4b5a-6978-8a9b-0c1d2e3f4a5b/oauth2/v2.0/token",
                "GET https://api.security.microsoft.com/api/domains/contoso.com/machines",
            ],
            "{format}"
        );
    }
}

#[test]
fn event_formats_fail_as_the_others_do() {
    for format in ["ocsf", "ecs"] {
        let out = cli(&["contoso.com/evil", "--format", format], &[]);
        assert_eq!(out.status.code(), Some(2));
        assert!(out.stdout.is_empty());
        assert!(text(&out.stderr).starts_with("error: invalid-domain: "));
        let out = cli(&["legacy.example", "--format", format], &[]);
        assert_eq!(out.status.code(), Some(0));
        assert!(out.stdout.is_empty());
    }
}

#[test]
fn an_invalid_domain_exits_2_without_any_request() {
    let out = cli(&["contoso.com/evil", "--show-requests"], &[]);
    assert_eq!(out.status.code(), Some(2));
    assert!(out.stdout.is_empty());
    assert_eq!(
        text(&out.stderr),
        "error: invalid-domain: character 12 is '/', which is not allowed in a domain name\n"
    );
}

#[test]
fn show_requests_redacts_credentials() {
    let out = cli(&["contoso.com", "--show-requests"], &[]);
    assert_eq!(out.status.code(), Some(0));
    let stderr = text(&out.stderr);
    let lines: Vec<&str> = stderr.lines().collect();
    assert_eq!(lines.len(), 2, "{stderr}");
    assert!(lines[0].starts_with("POST https://login.microsoftonline.com/"));
    assert!(lines[0].contains("content-type: application/x-www-form-urlencoded"));
    assert_eq!(
        lines[1],
        "GET https://api.security.microsoft.com/api/domains/contoso.com/machines accept: application/json authorization: Bearer [redacted]"
    );
    assert!(!stderr.contains("fake-access-token"));
    assert!(!stderr.contains(host_test::fake_tenant::CLIENT_SECRET));
}

#[test]
fn replay_answers_from_a_file_with_host_managed_auth() {
    let file = replay_file(
        r#"[{"status": 200, "headers": {"Content-Type": "application/json"}, "body": "{\"value\": [{\"id\": \"abc\", \"rbacGroupId\": 7}]}"}]"#,
    );
    let path = file.path().to_str().unwrap();
    let out = cli(
        &[
            "contoso.com",
            "--replay",
            path,
            "--format",
            "json",
            "--show-requests",
        ],
        &[],
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let machines: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(machines[0]["id"], "abc");
    assert_eq!(machines[0]["rbacGroupId"], "7");
    assert_eq!(
        text(&out.stderr),
        "GET https://api.security.microsoft.com/api/domains/contoso.com/machines accept: application/json\n"
    );
}

#[test]
fn replay_with_a_token_from_the_environment_sends_it() {
    let file = replay_file(r#"[{"status": 200, "body": "{\"value\": []}"}]"#);
    let path = file.path().to_str().unwrap();
    let out = cli(
        &["contoso.com", "--replay", path, "--show-requests"],
        &[("MDE_TOKEN", "env-token-CANARY")],
    );
    assert_eq!(out.status.code(), Some(0));
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains("authorization: Bearer [redacted]"),
        "{stderr}"
    );
    assert!(!stderr.contains("CANARY"));
    assert!(text(&out.stdout).contains("0 machine(s)"));
}

#[test]
fn a_replay_that_runs_out_is_a_transport_error() {
    let file = replay_file("[]");
    let out = cli(
        &["contoso.com", "--replay", file.path().to_str().unwrap()],
        &[],
    );
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        text(&out.stderr),
        "error: transport: the replay has no answer for request 1\n"
    );
}

#[test]
fn exit_statuses_follow_the_error_kind() {
    let cases = [
        (
            r#"[{"status": 429, "headers": {"Retry-After": "30"}, "body": ""}]"#,
            4,
            "error: rate-limited:",
        ),
        (
            r#"[{"status": 401, "body": ""}]"#,
            3,
            "error: unauthorized:",
        ),
        (
            r#"[{"status": 403, "body": "{\"error\":{\"code\":\"Forbidden\",\"message\":\"no\"}}"}]"#,
            3,
            "error: forbidden: API answered 403 Forbidden: no",
        ),
        (
            r#"[{"status": 500, "body": ""}]"#,
            1,
            "error: service-unavailable:",
        ),
        (
            r#"[{"status": 200, "body": "<html>"}]"#,
            1,
            "error: invalid-response:",
        ),
        (r#"[{"status": 404, "body": ""}]"#, 0, ""),
    ];
    for (json, code, starts) in cases {
        let file = replay_file(json);
        let out = cli(
            &["contoso.com", "--replay", file.path().to_str().unwrap()],
            &[],
        );
        assert_eq!(
            out.status.code(),
            Some(code),
            "{json}: {}",
            text(&out.stderr)
        );
        let stderr = text(&out.stderr);
        assert!(stderr.starts_with(starts), "{json}: {stderr}");
        assert!(stderr.lines().count() <= 1, "{stderr}");
    }
}

#[test]
fn wrong_credentials_exit_3_and_never_echo_the_secret() {
    let out = cli(
        &["contoso.com"],
        &[
            ("MDE_TENANT_ID", host_test::fake_tenant::TENANT_ID),
            ("MDE_CLIENT_ID", host_test::fake_tenant::CLIENT_ID),
            ("MDE_CLIENT_SECRET", "wrong-CANARY"),
        ],
    );
    assert_eq!(out.status.code(), Some(3));
    let stderr = text(&out.stderr);
    assert!(
        stderr.starts_with(
            "error: unauthorized: identity platform answered 401 invalid_client: AADSTS7000215"
        ),
        "{stderr}"
    );
    assert!(!stderr.contains("CANARY"));
}

#[test]
fn the_cloud_comes_from_mde_variables_and_flags_win() {
    let file = replay_file(r#"[{"status": 200, "body": "{\"value\": []}"}]"#);
    let replay = file.path().to_str().unwrap();
    let requested = |args: &[&str], env: &[(&str, &str)]| {
        let mut all = vec!["contoso.com", "--show-requests", "--replay", replay];
        all.extend_from_slice(args);
        let out = cli(&all, env);
        assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
        text(&out.stderr)
    };
    assert!(
        requested(&[], &[("MDE_CLOUD", "eu")]).starts_with(
            "GET https://eu.api.security.microsoft.com/api/domains/contoso.com/machines"
        )
    );
    assert!(
        requested(&["--cloud", "gcc-high"], &[("MDE_CLOUD", "eu")])
            .starts_with("GET https://api-gov.securitycenter.microsoft.us/api/")
    );
    let custom = [
        ("MDE_CLOUD", "custom"),
        ("MDE_API_BASE", "https://api.example.test"),
        ("MDE_LOGIN_HOST", "https://login.example.test"),
        ("MDE_SCOPE", "https://api.example.test/.default"),
    ];
    assert!(
        requested(&[], &custom)
            .starts_with("GET https://api.example.test/api/domains/contoso.com/machines")
    );
    assert!(
        requested(&["--api-base", "https://flag.example.test"], &custom)
            .starts_with("GET https://flag.example.test/api/")
    );
}

#[test]
fn invalid_settings_exit_2() {
    let out = cli(&["contoso.com", "--cloud", "mars"], &[]);
    assert_eq!(out.status.code(), Some(2));
    // clap names the accepted clouds.
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains("invalid value 'mars' for '--cloud <CLOUD>'"),
        "{stderr}"
    );
    assert!(stderr.contains("commercial, us, eu, uk, au, swa, ina, gcc, gcc-high, dod, custom"));

    let out = cli(&["contoso.com"], &[("MDE_TENANT_ID", "t")]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("need all of MDE_TENANT_ID"));

    let out = cli(
        &[
            "contoso.com",
            "--cloud",
            "custom",
            "--api-base",
            "https://a/x",
            "--login-host",
            "https://l",
            "--scope",
            "s",
        ],
        &[],
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).starts_with("error: invalid-settings: api base"));
}

#[test]
fn a_batch_prints_one_record_per_domain_with_provenance() {
    let file = replay_file("contoso.com\n\n# a comment\nnot a domain/\nFabrikam.COM\n");
    let out = cli(&["--domains", file.path().to_str().unwrap()], &[]);
    // One domain failed: the batch went on and says so in its exit status.
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    let records: Vec<serde_json::Value> = stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(records.len(), 3);

    assert_eq!(records[0]["queriedDomain"], "contoso.com");
    assert_eq!(records[0]["domain"], "contoso.com");
    assert_eq!(records[0]["cloud"], "commercial");
    assert_eq!(records[0]["capReached"], false);
    assert_eq!(records[0]["machines"].as_array().unwrap().len(), 3);
    let fetched = records[0]["fetchedAt"].as_str().unwrap();
    assert_eq!(fetched.len(), "2026-11-29T08:00:00.000Z".len(), "{fetched}");
    assert!(fetched.ends_with('Z'));

    assert_eq!(records[1]["queriedDomain"], "not a domain/");
    assert_eq!(records[1]["error"]["kind"], "invalid-domain");
    assert!(records[1].get("machines").is_none());

    assert_eq!(records[2]["domain"], "fabrikam.com");
    assert_eq!(records[2]["capReached"], true);
    assert_eq!(records[2]["machines"].as_array().unwrap().len(), 500);
    // Not a terminal: no progress bar.
    assert!(out.stderr.is_empty(), "{}", text(&out.stderr));
}

#[test]
fn a_batch_reads_stdin() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_mde-connector"))
        .args([
            "--domains",
            "-",
            "--cache-dir",
            concat!(env!("CARGO_TARGET_TMPDIR"), "/component-cache"),
        ])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(b"contoso.com\nnothing-here.example\n")
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    let stdout = text(&out.stdout);
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines.len(), 2);
    assert!(lines[1].contains(r#""machines":[]"#), "{}", lines[1]);
}

#[test]
fn live_needs_credentials_from_the_environment() {
    let out = cli(&["contoso.com", "--live"], &[]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("--live needs MDE_TOKEN"));
}

#[test]
fn live_runs_end_to_end_against_a_local_server_as_a_custom_cloud() {
    use host_test::fake_server::{Encoding, FakeServer};
    use host_test::fake_tenant::{self, FakeTenant};
    use mde_connector_host::clock::SystemClock;
    let fake = std::sync::Arc::new(std::sync::Mutex::new(
        FakeTenant::new(SystemClock::shared()),
    ));
    let server = FakeServer::start(fake.clone(), Encoding::Deflate).unwrap();
    let secret_file = replay_file(&format!("{}\n", fake_tenant::CLIENT_SECRET));
    let origin = server.origin();
    let out = cli(
        &[
            "contoso.com",
            "--live",
            "--cloud",
            "custom",
            "--api-base",
            &origin,
            "--login-host",
            &origin,
            "--scope",
            "https://api.securitycenter.microsoft.com/.default",
            "--allow-loopback-http",
            "--client-secret-file",
            secret_file.path().to_str().unwrap(),
            "--format",
            "ndjson",
        ],
        &[
            ("MDE_TENANT_ID", fake_tenant::TENANT_ID),
            ("MDE_CLIENT_ID", fake_tenant::CLIENT_ID),
        ],
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_eq!(text(&out.stdout).lines().count(), 3);
    assert_eq!(fake.lock().unwrap().requests.len(), 2);

    // Without --allow-loopback-http the host refuses before connecting.
    let out = cli(
        &[
            "contoso.com",
            "--live",
            "--cloud",
            "custom",
            "--api-base",
            &origin,
            "--login-host",
            &origin,
            "--scope",
            "s",
        ],
        &[("MDE_TOKEN", "t")],
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("is not on the host's egress allow-list"),
        "{}",
        text(&out.stderr)
    );
    assert_eq!(fake.lock().unwrap().requests.len(), 2);
}

#[test]
fn a_batch_shows_progress_when_stderr_is_a_terminal() {
    // `script` (util-linux) runs the CLI on a pseudo-terminal.
    let file = replay_file("contoso.com\nnothing-here.example\n");
    let command = format!(
        "{} --domains {} --cache-dir {}",
        env!("CARGO_BIN_EXE_mde-connector"),
        file.path().display(),
        concat!(env!("CARGO_TARGET_TMPDIR"), "/component-cache"),
    );
    let out = Command::new("script")
        .args(["-q", "-e", "-c", &command, "/dev/null"])
        .stdin(std::process::Stdio::null())
        .output()
        .expect("util-linux `script` runs");
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let screen = text(&out.stdout);
    assert!(screen.contains("\r1/2 domains, 0 failed"), "{screen:?}");
    assert!(screen.contains("\r2/2 domains, 0 failed"), "{screen:?}");
}

#[test]
fn live_requests_go_through_the_proxy_from_the_environment_unless_no_proxy() {
    use host_test::fake_server::{Encoding, FakeServer};
    use mde_connector_host::runtime::{Request, Response};
    use mde_connector_host::transport::FnTransport;
    use std::sync::{Arc, Mutex};
    let answering = |seen: Arc<Mutex<Vec<String>>>| {
        Arc::new(Mutex::new(FnTransport(move |r: &Request| {
            seen.lock().unwrap().push(r.url.clone());
            Ok(Response {
                status: 200,
                headers: vec![],
                body: br#"{"value":[]}"#.to_vec(),
            })
        })))
    };
    let (via_proxy, direct) = (Arc::default(), Arc::default());
    let proxy = FakeServer::start(answering(Arc::clone(&via_proxy)), Encoding::Identity).unwrap();
    let target = FakeServer::start(answering(Arc::clone(&direct)), Encoding::Identity).unwrap();
    let origin = target.origin();
    let args = [
        "contoso.com",
        "--live",
        "--cloud",
        "custom",
        "--api-base",
        &origin,
        "--login-host",
        &origin,
        "--scope",
        "s",
        "--allow-loopback-http",
    ];

    let out = cli(
        &args,
        &[
            ("MDE_TOKEN", "t"),
            ("ALL_PROXY", &proxy.origin()),
            ("NO_PROXY", ""),
        ],
    );
    // ureq tunnels through the proxy with CONNECT; this stand-in proxy does
    // not tunnel, so the lookup fails, after the proxy was asked for the target.
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    let seen = via_proxy.lock().unwrap().clone();
    assert_eq!(seen.len(), 1, "{seen:?}");
    let authority = origin.trim_start_matches("http://");
    assert!(seen[0].ends_with(authority), "{seen:?}");
    assert!(direct.lock().unwrap().is_empty());

    let out = cli(
        &args,
        &[
            ("MDE_TOKEN", "t"),
            ("ALL_PROXY", &proxy.origin()),
            ("NO_PROXY", "127.0.0.1"),
        ],
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_eq!(
        via_proxy.lock().unwrap().len(),
        1,
        "no more through the proxy"
    );
    assert_eq!(direct.lock().unwrap().len(), 1);
}
