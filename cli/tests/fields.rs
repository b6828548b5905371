//! Members no version of the contract models reach every CLI format, as sent.

mod common;

use common::cli;
use host_test::unknown_fields::{BODY, assert_has_every_new_member};
use serde_json::{Value, json};

#[test]
fn the_cli_prints_them_in_every_format() {
    let replay = json!([{"status": 200, "body": BODY}]).to_string();
    let path = std::path::Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("fields-{}.json", std::process::id()));
    std::fs::write(&path, replay).unwrap();
    for format in ["json", "ndjson", "ocsf", "ecs"] {
        let replay = path.to_str().unwrap();
        let out = cli(
            &["contoso.com", "--format", format, "--replay", replay],
            &[],
        );
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

/// A number kept as sent, 5,000 digits long (`osBuild`, and `riskScore`,
/// which the table shows): the default table prints it as it is, with exit
/// status 0, not `number out of range`.
#[test]
fn the_table_prints_a_5000_digit_number_as_sent() {
    let digits = "7".repeat(5_000);
    let body = format!(
        r#"{{"value":[{{"id":"m1","computerDnsName":"a.example","osBuild":{digits},"riskScore":{digits}}}]}}"#
    );
    let replay = json!([{"status": 200, "body": body}]).to_string();
    let path = std::path::Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("long-number-{}.json", std::process::id()));
    std::fs::write(&path, replay).unwrap();
    let out = cli(&["contoso.com", "--replay", path.to_str().unwrap()], &[]);
    std::fs::remove_file(&path).unwrap();
    assert!(out.status.success(), "{out:?}");
    let text = String::from_utf8(out.stdout).unwrap();
    let row: Vec<&str> = text.lines().nth(1).unwrap().split_whitespace().collect();
    assert_eq!(row[..3], ["m1", "a.example", "-"], "{text}");
    assert!(row.contains(&digits.as_str()), "{text}");
    assert!(text.ends_with("1 machine(s)\n"), "{text}");
}
