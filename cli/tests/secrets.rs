//! The CLI never prints a canary secret or token, in any format, whatever
//! error the service answers with.

mod common;

use common::{cli, printed};
use host_test::canary::{SECRET, TOKEN, assert_clean, failing_answers};

#[test]
fn the_cli_never_prints_a_canary() {
    let failures = failing_answers();
    for (i, failure) in failures.iter().enumerate() {
        let body = String::from_utf8(failure.body.as_bytes().to_vec()).unwrap();
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
            let replay = path.to_str().unwrap();
            let out = cli(
                &[
                    "contoso.com",
                    "--show-requests",
                    "--format",
                    format,
                    "--replay",
                    replay,
                ],
                &[
                    ("MDE_TENANT_ID", "contoso.onmicrosoft.com"),
                    ("MDE_CLIENT_ID", "client"),
                    ("MDE_CLIENT_SECRET", SECRET),
                ],
            );
            let printed = printed(&out);
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
    let run = |tenant: &str, target: &[&str]| {
        let mut args = target.to_vec();
        args.extend(["--live", "--cloud", "custom", "--allow-loopback-http"]);
        args.extend(["--api-base", &origin, "--login-host", &origin]);
        args.extend([
            "--scope",
            "https://api.example.test/.default",
            "--show-requests",
        ]);
        let out = cli(
            &args,
            &[
                ("MDE_TENANT_ID", tenant),
                ("MDE_CLIENT_ID", "client"),
                ("MDE_CLIENT_SECRET", ECHO_SECRET),
            ],
        );
        let printed = printed(&out);
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
