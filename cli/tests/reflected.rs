//! A server that reflects requests: what the CLI prints holds no secret in
//! any format.

mod common;

use common::{cli, printed};
use host_test::canary::reflected::{SECRET, TOKEN, leaked};

/// The CLI prints what the component gives it: recorded reflections of the
/// canaries, in the encodings the requests carried them, never reach its output.
#[test]
fn the_cli_prints_no_reflected_secret_in_any_format() {
    let form = "grant_type=client_credentials&client_id=client&client_secret=CANARY%7Esecret%2Bvalue%2F7f3a+x&scope=x";
    let token =
        serde_json::json!({"status": 200, "body": format!(r#"{{"access_token":"{TOKEN}"}}"#)});
    let reflections = [
        vec![
            serde_json::json!({"status": 401, "body": serde_json::json!({
            "error": "invalid_client", "error_description": format!("got {form}")}).to_string()}),
        ],
        vec![serde_json::json!({"status": 404, "body": format!("{form} was not found")})],
        vec![
            token.clone(),
            serde_json::json!({"status": 403, "body": serde_json::json!({
            "error": {"code": "Forbidden", "message": format!("Authorization: Bearer {TOKEN}")}}).to_string()}),
        ],
        vec![
            token,
            serde_json::json!({"status": 200, "body": serde_json::json!({
            "value": [{"id": "a", "computerDnsName": format!("Bearer {TOKEN}"), "x": form}]}).to_string()}),
        ],
    ];
    for (i, replay) in reflections.iter().enumerate() {
        let path = std::path::Path::new(env!("CARGO_TARGET_TMPDIR"))
            .join(format!("reflected-{}-{i}.json", std::process::id()));
        std::fs::write(&path, serde_json::Value::from(replay.clone()).to_string()).unwrap();
        for format in ["table", "json", "ndjson", "ocsf", "ecs"] {
            let out = cli(
                &[
                    "contoso.com",
                    "--format",
                    format,
                    "--replay",
                    path.to_str().unwrap(),
                ],
                &[
                    ("MDE_TENANT_ID", "contoso.onmicrosoft.com"),
                    ("MDE_CLIENT_ID", "client"),
                    ("MDE_CLIENT_SECRET", SECRET),
                ],
            );
            let printed = printed(&out);
            assert!(!leaked(&printed), "{i} {format}: {printed}");
            assert!(
                printed.contains("[redacted]"),
                "{i} {format}: the reflection was read: {printed}"
            );
        }
        std::fs::remove_file(path).unwrap();
    }
}
