//! The component's log records on the CLI's stderr: warnings by default,
//! the level chosen by `--log-level` or `MDE_LOG`.

mod common;

use common::{cli, text};

fn cap_warnings(stderr: &str) -> usize {
    stderr
        .lines()
        .filter(|l| l.starts_with("mde-connector warn result-cap-reached: "))
        .count()
}

#[test]
fn the_cap_warning_is_printed_once_per_lookup_in_every_format() {
    for format in ["table", "json", "ndjson", "ocsf", "ecs"] {
        let out = cli(&["fabrikam.com", "--format", format], &[]);
        assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
        assert_eq!(cap_warnings(&text(&out.stderr)), 1, "{format}");
    }
}

#[test]
fn the_level_is_chosen_by_flag_or_environment() {
    let quiet = cli(&["fabrikam.com", "--log-level", "error"], &[]);
    assert_eq!(cap_warnings(&text(&quiet.stderr)), 0);
    let quiet = cli(&["fabrikam.com"], &[("MDE_LOG", "error")]);
    assert_eq!(cap_warnings(&text(&quiet.stderr)), 0);
    let chatty = cli(&["contoso.com", "--log-level", "debug"], &[]);
    let stderr = text(&chatty.stderr);
    assert!(
        stderr.contains("mde-connector debug request: GET "),
        "{stderr}"
    );
    assert!(
        stderr.contains("mde-connector info token-acquired: "),
        "{stderr}"
    );
    let wrong = cli(&["contoso.com", "--log-level", "loud"], &[]);
    assert_eq!(wrong.status.code(), Some(2));
    assert!(text(&wrong.stderr).contains("is not a level"));
}

#[test]
fn a_batch_prints_each_lookups_records() {
    let list = common::replay_file("fabrikam.com\ncontoso.com\nFABRIKAM.com\n");
    let out = cli(&["--domains", list.path().to_str().unwrap()], &[]);
    // The third line is answered from the first: one lookup, one warning.
    assert_eq!(cap_warnings(&text(&out.stderr)), 1, "{}", text(&out.stderr));
}
