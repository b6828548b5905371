//! The CLI never prints a canary secret or token, in any format, whatever
//! error the service answers with.

use host_test::canary::{SECRET, TOKEN, assert_clean, failing_answers};
use std::process::Command;

#[test]
fn the_cli_never_prints_a_canary() {
    let failures = failing_answers();
    let cache = concat!(env!("CARGO_TARGET_TMPDIR"), "/component-cache");
    for (i, failure) in failures.iter().enumerate() {
        let body = String::from_utf8(failure.body.clone()).unwrap();
        let headers: serde_json::Map<String, serde_json::Value> = failure
            .headers
            .iter()
            .map(|(n, v)| (n.clone(), v.clone().into()))
            .collect();
        let token =
            serde_json::json!({"status": 200, "body": format!(r#"{{"access_token":"{TOKEN}"}}"#)});
        let replay = serde_json::json!([token, {"status": failure.status, "headers": headers, "body": body}]);
        let path = std::path::Path::new(env!("CARGO_TARGET_TMPDIR"))
            .join(format!("canary-{}-{i}.json", std::process::id()));
        std::fs::write(&path, replay.to_string()).unwrap();
        for format in ["table", "json", "ndjson"] {
            let out = Command::new(env!("CARGO_BIN_EXE_mde-connector"))
                .args([
                    "contoso.com",
                    "--show-requests",
                    "--format",
                    format,
                    "--cache-dir",
                    cache,
                ])
                .arg("--replay")
                .arg(&path)
                .env_remove("MDE_TOKEN")
                .env("MDE_TENANT_ID", "contoso.onmicrosoft.com")
                .env("MDE_CLIENT_ID", "client")
                .env("MDE_CLIENT_SECRET", SECRET)
                .output()
                .unwrap();
            let printed = format!(
                "{}{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            );
            assert!(
                printed.contains("POST "),
                "the token request was made: {printed}"
            );
            assert_clean("the CLI", &printed);
        }
        std::fs::remove_file(path).unwrap();
    }
}

/// The CLI against a server on 127.0.0.1 that echoes what it is sent (the
/// form body into the token endpoint's `error_description` or a 404's body,
/// the `Authorization` header into the API's error envelopes and into
/// machines), as a custom cloud: no format prints any form of the secret or
/// the token. The host scrubs every answer before the component reads it,
/// and everything it passes on; the component scrubs what it holds. (This
/// passed with the host's scrubbing alone, before the component had its own.)
#[test]
fn what_a_server_echoes_is_printed_in_no_format() {
    use host_test::canary::{ECHO_SECRET, Echoing, assert_no_echo};
    use host_test::fake_server::{Encoding, FakeServer};
    use std::sync::{Arc, Mutex};
    let server =
        FakeServer::start(Arc::new(Mutex::new(Echoing::default())), Encoding::Identity).unwrap();
    let origin = server.origin();
    let cache = concat!(env!("CARGO_TARGET_TMPDIR"), "/component-cache");
    let run = |tenant: &str, target: &[&str]| {
        let out = Command::new(env!("CARGO_BIN_EXE_mde-connector"))
            .args(target)
            .args(["--live", "--cloud", "custom", "--allow-loopback-http"])
            .args(["--api-base", &origin, "--login-host", &origin])
            .args(["--scope", "https://api.example.test/.default"])
            .args(["--show-requests", "--cache-dir", cache])
            .env_remove("MDE_TOKEN")
            .env("MDE_TENANT_ID", tenant)
            .env("MDE_CLIENT_ID", "client")
            .env("MDE_CLIENT_SECRET", ECHO_SECRET)
            .output()
            .unwrap();
        let printed = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(
            printed.contains("POST "),
            "the token request was made: {printed}"
        );
        assert_no_echo(&format!("{tenant} {target:?}"), &printed);
        printed
    };
    let cases = [
        ("echo-form-400", "contoso.com", "error: unauthorized: "),
        ("echo-form-404", "contoso.com", "error: invalid-response: "),
        ("tenant", "status-400.example", "error: api-error: "),
        ("tenant", "status-401.example", "error: unauthorized: "),
        (
            "tenant",
            "status-500.example",
            "error: service-unavailable: ",
        ),
        ("tenant", "machines.example", "[redacted]"),
    ];
    for format in ["table", "json", "ndjson", "ocsf", "ecs"] {
        for (tenant, domain, expected) in cases {
            let printed = run(tenant, &[domain, "--format", format]);
            assert!(
                printed.contains(expected),
                "{format} {tenant} {domain}: {printed}"
            );
        }
    }
    // A batch: one record per domain, each error quoted in it.
    let list = std::path::Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("echoed-domains-{}", std::process::id()));
    let domains: Vec<&str> = cases.iter().map(|(_, domain, _)| *domain).skip(2).collect();
    std::fs::write(&list, domains.join("\n")).unwrap();
    for tenant in ["echo-form-400", "echo-form-404", "tenant"] {
        let printed = run(tenant, &["--domains", list.to_str().unwrap()]);
        assert_eq!(printed.matches("\"queriedDomain\"").count(), 4, "{printed}");
        assert!(printed.contains("[redacted]"), "{tenant}: {printed}");
    }
    std::fs::remove_file(list).unwrap();
}
