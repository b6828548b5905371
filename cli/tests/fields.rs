//! Members no version of the contract models reach every CLI format, as sent.

use host_test::unknown_fields::{BODY, assert_has_every_new_member};
use serde_json::{Value, json};
use std::process::Command;

#[test]
fn the_cli_prints_them_in_every_format() {
    let replay = json!([{"status": 200, "body": BODY}]).to_string();
    let path = std::path::Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("fields-{}.json", std::process::id()));
    std::fs::write(&path, replay).unwrap();
    for format in ["json", "ndjson", "ocsf", "ecs"] {
        let out = Command::new(env!("CARGO_BIN_EXE_mde-connector"))
            .args(["contoso.com", "--format", format, "--replay"])
            .arg(&path)
            .arg("--cache-dir")
            .arg(concat!(env!("CARGO_TARGET_TMPDIR"), "/component-cache"))
            .env_remove("MDE_TOKEN")
            .env_remove("MDE_TENANT_ID")
            .env_remove("MDE_CLIENT_ID")
            .env_remove("MDE_CLIENT_SECRET")
            .output()
            .unwrap();
        assert!(out.status.success(), "{format}: {out:?}");
        let text = String::from_utf8(out.stdout).unwrap();
        let printed: Value = match format {
            "json" => serde_json::from_str::<Value>(&text).unwrap()[0].take(),
            _ => serde_json::from_str(text.lines().next().unwrap()).unwrap(),
        };
        let root = match format {
            "ocsf" => &printed["unmapped"],
            "ecs" => &printed["mde"],
            _ => &printed,
        };
        assert_has_every_new_member(format, &text, root);
    }
    std::fs::remove_file(path).unwrap();
}
