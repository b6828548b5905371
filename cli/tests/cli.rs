//! The command line: formats, replay, request echo, exit statuses.

mod common;

use common::{cli, demo_credentials, live_custom_cloud, replay_file, text};
use std::io::Write;
use std::process::Command;
use std::time::{SystemTime, UNIX_EPOCH};

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
    // As the service sent it: a number.
    assert_eq!(machines[0]["rbacGroupId"], 7);
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

    // The core's reading of the variables, as every host has it.
    let out = cli(&["contoso.com"], &[("MDE_TENANT_ID", "t")]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("client credentials need MDE_TENANT_ID, MDE_CLIENT_ID and MDE_CLIENT_SECRET; missing: MDE_CLIENT_ID, MDE_CLIENT_SECRET"),
        "{}",
        text(&out.stderr)
    );
    let out = cli(
        &["contoso.com"],
        &[("MDE_TOKEN", "a-bearer-token"), ("MDE_TENANT_ID", "t")],
    );
    assert_eq!(out.status.code(), Some(2));
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains("both MDE_TOKEN and MDE_TENANT_ID are set"),
        "{stderr}"
    );
    assert!(!stderr.contains("a-bearer-token"));
    let out = cli(
        &["contoso.com", "--api-base", "https://a.example.test"],
        &[],
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("MDE_API_BASE set, but MDE_API_BASE, MDE_LOGIN_HOST and MDE_SCOPE are for MDE_CLOUD=custom only"),
        "{}",
        text(&out.stderr)
    );

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
    // Not a terminal: no progress bar; only fabrikam's cap warning.
    assert_eq!(
        text(&out.stderr),
        "mde-connector warn result-cap-reached: fabrikam.com: 500 machines, the service's cap; there may be more\n"
    );
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
        text(&out.stderr).contains(&format!(
            "{origin} is the configured cloud, but plain http:// to loopback needs --allow-loopback-http"
        )),
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

/// The fake tenant served on 127.0.0.1, and the flags that make it the
/// live CLI's custom cloud (plain http to loopback allowed).
fn fake_tenant_served() -> (
    host_test::fake_server::FakeServer,
    std::sync::Arc<std::sync::Mutex<host_test::fake_tenant::FakeTenant>>,
) {
    use host_test::fake_server::{Encoding, FakeServer};
    use host_test::fake_tenant::FakeTenant;
    use mde_connector_host::clock::SystemClock;
    let fake = std::sync::Arc::new(std::sync::Mutex::new(
        FakeTenant::new(SystemClock::shared()),
    ));
    let server = FakeServer::start(fake.clone(), Encoding::Identity).unwrap();
    (server, fake)
}

#[test]
fn loopback_never_goes_through_a_proxy_so_plain_http_secrets_stay_local() {
    use host_test::raw::RecordingProxy;
    let proxy = RecordingProxy::start().unwrap();
    let (server, fake) = fake_tenant_served();
    let mut args = vec!["contoso.com".to_owned()];
    args.extend(live_custom_cloud(&server.origin()));
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let mut env = demo_credentials().to_vec();
    for name in ["ALL_PROXY", "HTTPS_PROXY", "HTTP_PROXY", "http_proxy"] {
        env.push((name, proxy.url().leak()));
    }
    env.push(("NO_PROXY", ""));
    let out = cli(&args, &env);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    // Straight to the server: token request and lookup.
    assert_eq!(fake.lock().unwrap().requests.len(), 2);
    assert_eq!(proxy.connections(), 0, "{}", proxy.seen());
    assert!(!proxy.seen().contains(host_test::fake_tenant::CLIENT_SECRET));
}

#[test]
fn https_to_other_hosts_goes_through_the_proxy_from_the_environment() {
    use host_test::raw::RecordingProxy;
    let proxy = RecordingProxy::start().unwrap();
    let args = [
        "contoso.com",
        "--live",
        "--cloud",
        "custom",
        "--api-base",
        "https://api.example.test",
        "--login-host",
        "https://login.example.test",
        "--scope",
        "s",
    ];
    let out = cli(&args, &[("MDE_TOKEN", "t"), ("HTTPS_PROXY", &proxy.url())]);
    // The stand-in proxy drops the TLS handshake it tunnels.
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    assert!(
        proxy
            .seen()
            .starts_with("CONNECT api.example.test:443 HTTP/1.1\r\n"),
        "{}",
        proxy.seen()
    );
}

#[test]
fn a_proxy_setting_that_cannot_be_used_is_an_error_not_a_direct_connection() {
    let (server, fake) = fake_tenant_served();
    let mut args = vec!["contoso.com".to_owned()];
    args.extend(live_custom_cloud(&server.origin()));
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    for (name, value, says) in [
        (
            "HTTPS_PROXY",
            "http://[bad",
            "error: HTTPS_PROXY is not a proxy URL (http://host:port or https://host:port)\n",
        ),
        (
            "ALL_PROXY",
            "socks5://127.0.0.1:1080",
            "error: ALL_PROXY names a Socks5 proxy; only http:// and https:// (CONNECT) proxies are supported\n",
        ),
    ] {
        let mut env = demo_credentials().to_vec();
        env.push((name, value));
        let out = cli(&args, &env);
        assert_eq!(out.status.code(), Some(2), "{value}: {}", text(&out.stderr));
        assert_eq!(text(&out.stderr), says);
    }
    assert!(fake.lock().unwrap().requests.is_empty());
}

#[test]
fn a_rate_that_admits_no_call_is_refused_when_parsed() {
    for flag in ["--rate-per-minute", "--rate-per-hour"] {
        let out = cli(&["contoso.com", flag, "0"], &[]);
        assert_eq!(out.status.code(), Some(2), "{flag}");
        let stderr = text(&out.stderr);
        assert!(
            stderr.contains(&format!(
                "invalid value '0' for '{flag} <{}>': 0 would never let a call through; the least is 1",
                flag.trim_start_matches("--").to_uppercase().replace('-', "_")
            )),
            "{stderr}"
        );
        assert!(out.stdout.is_empty());
    }
}

#[test]
fn a_lookup_ends_at_its_timeout_however_slowly_the_server_answers() {
    use host_test::raw::DribblingServer;
    // One byte every 200 ms: never quiet long enough for a read timeout.
    let server = DribblingServer::start(std::time::Duration::from_millis(200)).unwrap();
    let mut args = vec!["contoso.com".to_owned(), "--timeout".into(), "2".into()];
    args.extend(live_custom_cloud(&server.origin()));
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let started = std::time::Instant::now();
    let out = cli(&args, &[("MDE_TOKEN", "a-bearer-token")]);
    let took = started.elapsed();
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    assert_eq!(text(&out.stderr), "error: transport: timed out\n");
    // Without the deadline, four 60 s attempts and their backoff: minutes.
    assert!(took < std::time::Duration::from_secs(30), "{took:?}");
    assert!(server.requests() >= 1);
}

#[test]
fn local_files_are_read_within_bounds() {
    // A secret file of 100 KiB, and one that never ends (a device: no file).
    let big = replay_file(&"s".repeat(100 * 1024));
    for (secret, why) in [
        (
            big.path().to_str().unwrap(),
            "is larger than 64 KiB, the most a client secret may be",
        ),
        (
            "/dev/zero",
            "is not a regular file (it is a device): give the path of a file that holds a client secret",
        ),
    ] {
        let out = cli(
            &["contoso.com", "--client-secret-file", secret],
            &[("MDE_TENANT_ID", "t"), ("MDE_CLIENT_ID", "c")],
        );
        assert_eq!(out.status.code(), Some(2), "{secret}");
        assert_eq!(text(&out.stderr), format!("error: {secret} {why}\n"));
    }
    // Files that are not there are input errors too.
    for flag in ["--replay", "--domains", "--client-secret-file"] {
        let ids = [("MDE_TENANT_ID", "t"), ("MDE_CLIENT_ID", "c")];
        let out = cli(
            &["contoso.com", flag, "/nonexistent/file"][usize::from(flag == "--domains")..],
            if flag == "--client-secret-file" {
                &ids
            } else {
                &[]
            },
        );
        assert_eq!(out.status.code(), Some(2), "{flag}: {}", text(&out.stderr));
        assert!(text(&out.stderr).contains("/nonexistent/file"), "{flag}");
    }
    // A replay of 65 MiB (sparse: nothing is written), and one that never ends.
    let sparse = replay_file("");
    std::fs::File::options()
        .write(true)
        .open(sparse.path())
        .unwrap()
        .set_len(65 * 1024 * 1024)
        .unwrap();
    for replay in [sparse.path().to_str().unwrap(), "/dev/zero"] {
        let out = cli(&["contoso.com", "--replay", replay], &[]);
        assert_eq!(out.status.code(), Some(2), "{replay}");
        assert_eq!(
            text(&out.stderr),
            format!("error: {replay} is larger than 65536 KiB, the most a replay may be\n")
        );
    }
}

#[test]
fn a_batch_line_too_long_or_not_utf8_gets_its_own_record_and_the_batch_goes_on() {
    let file = replay_file("");
    let mut lines = b"contoso.com\n".to_vec();
    lines.extend(std::iter::repeat_n(b'a', 2 * 1024 * 1024));
    lines.extend(b"\n\xff\xfebad.example\nfabrikam.com\n");
    std::fs::write(file.path(), &lines).unwrap();
    let out = cli(&["--domains", file.path().to_str().unwrap()], &[]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    // The 2 MiB line is not echoed back.
    assert!(stdout.lines().nth(1).unwrap().len() < 1024);
    let records: Vec<serde_json::Value> = stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(records.len(), 4);
    assert_eq!(records[0]["machines"].as_array().unwrap().len(), 3);
    assert_eq!(records[1]["queriedDomain"], format!("{}…", "a".repeat(64)));
    assert_eq!(records[1]["error"]["kind"], "invalid-domain");
    assert_eq!(
        records[1]["error"]["message"],
        "line 2 is 2097152 bytes long; a domain may be at most 1024"
    );
    assert_eq!(records[2]["queriedDomain"], "\u{fffd}\u{fffd}bad.example");
    assert_eq!(
        records[2]["error"]["message"],
        "line 3 is not UTF-8 (at byte 0)"
    );
    assert_eq!(records[3]["machines"].as_array().unwrap().len(), 500);
}

#[test]
fn a_domain_over_1_kib_is_refused_by_the_host() {
    let long = format!("{}.example", "a".repeat(2000));
    let out = cli(&[&long, "--show-requests"], &[]);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        text(&out.stderr),
        "error: invalid-domain: the domain is 2008 bytes long; the host takes at most 1024\n"
    );
}

#[test]
fn a_trap_exits_1_not_2() {
    // An answer bigger than the instance's memory: copying it in traps.
    let body = format!(r#"{{"value":[],"pad":"{}"}}"#, " ".repeat(4 * 1024 * 1024));
    let file = replay_file(&serde_json::json!([{"status": 200, "body": body}]).to_string());
    let out = cli(
        &[
            "contoso.com",
            "--memory-limit",
            "2",
            "--replay",
            file.path().to_str().unwrap(),
        ],
        &[],
    );
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.starts_with("error: the component trapped"),
        "{stderr}"
    );
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
}

#[test]
fn errors_print_as_one_escaped_line_of_bounded_length() {
    let message = format!(
        "\u{1b}]0;PWNED\u{7}\u{1b}[2J\nsecond line \u{202e}txt.exe\u{200b}{}",
        "x".repeat(3 * 1024 * 1024)
    );
    let body = serde_json::json!({"error": {"code": "Forbidden", "message": message}}).to_string();
    let file = replay_file(&serde_json::json!([{"status": 403, "body": body}]).to_string());
    let out = cli(
        &["contoso.com", "--replay", file.path().to_str().unwrap()],
        &[],
    );
    assert_eq!(out.status.code(), Some(3));
    let stderr = text(&out.stderr);
    assert!(
        stderr.starts_with(
            "error: forbidden: API answered 403 Forbidden: \\u{1b}]0;PWNED\\u{7}\\u{1b}[2J\\nsecond line \\u{202e}txt.exe\\u{200b}xxx"
        ),
        "{}",
        &stderr[..200]
    );
    assert_eq!(stderr.lines().count(), 1);
    assert!(stderr.chars().count() < 1_100, "{}", stderr.len());
    assert!(stderr.trim_end().ends_with(" more characters)"));

    // A batch record's message is the same line.
    let list = replay_file("contoso.com\n");
    let out = cli(
        &[
            "--domains",
            list.path().to_str().unwrap(),
            "--replay",
            file.path().to_str().unwrap(),
        ],
        &[],
    );
    assert_eq!(out.status.code(), Some(1));
    let record: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let message = record["error"]["message"].as_str().unwrap();
    assert!(
        message.starts_with("forbidden: API answered 403 Forbidden: \\u{1b}]0;PWNED"),
        "{message}"
    );
    assert!(!message.contains(['\u{1b}', '\n', '\u{202e}', '\u{200b}']));
    assert!(message.chars().count() < 1_100);
}

#[test]
fn a_cache_directory_others_can_write_is_refused_with_one_warning() {
    use std::os::unix::fs::PermissionsExt;
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("open-cache-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o777)).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_mde-connector"))
        .arg("contoso.com")
        .arg("--cache-dir")
        .arg(&dir)
        .env_remove("MDE_TOKEN")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_eq!(
        text(&out.stderr),
        format!(
            "warning: not using the compiled-component cache {}: it is writable by its group or by others (mode 777)\n",
            dir.display()
        )
    );
    assert!(text(&out.stdout).ends_with("3 machine(s)\n"));
    assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 0);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn no_flag_takes_a_secret() {
    // Flags show in `ps` and shell history: secrets come from the
    // environment or a file. The only flag about one names its file.
    let out = cli(&["--help"], &[]);
    assert_eq!(out.status.code(), Some(0));
    let help = text(&out.stdout);
    // The flags, as their own lines of the help define them.
    let flags: Vec<&str> = help
        .lines()
        .map(str::trim_start)
        .filter(|line| line.starts_with('-'))
        .filter_map(|line| line.split([' ', ',']).find(|word| word.starts_with("--")))
        .collect();
    assert!(
        flags.contains(&"--live") && flags.contains(&"--timeout"),
        "{flags:?}"
    );
    let secret_flags: Vec<&&str> = flags
        .iter()
        .filter(|flag| {
            ["secret", "token", "password", "key"]
                .iter()
                .any(|s| flag.contains(s))
        })
        .collect();
    assert_eq!(secret_flags, [&"--client-secret-file"], "{help}");
}
