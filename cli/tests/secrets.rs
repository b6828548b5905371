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
