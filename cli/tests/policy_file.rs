//! The CLI's file caps held to `policy/policy.json`, the policy's one data
//! file (the Python package reads the same caps from it).

mod common;

use common::{cli, printed};
use serde_json::Value;
use std::fs::File;

fn cap(name: &str) -> u64 {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../policy/policy.json");
    let policy: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    policy["caps"][name]
        .as_u64()
        .unwrap_or_else(|| panic!("policy.json has no caps.{name}"))
}

/// What the CLI prints for `flag` naming a (sparse) file of `size` bytes.
fn printed_for_file_of(flag: &str, size: u64) -> String {
    let path = format!(
        "{}/policy-cap{flag}-{size}-{}",
        env!("CARGO_TARGET_TMPDIR"),
        std::process::id()
    );
    File::create(&path).unwrap().set_len(size).unwrap();
    let out = cli(&["contoso.com", flag, &path], &[]);
    std::fs::remove_file(&path).unwrap();
    printed(&out)
}

fn assert_cap(flag: &str, cap: u64) {
    let refused = format!("is larger than {} KiB", cap / 1024);
    let at_cap = printed_for_file_of(flag, cap);
    assert!(!at_cap.contains(&refused), "{flag} at the cap: {at_cap}");
    let over = printed_for_file_of(flag, cap + 1);
    assert!(
        over.contains(&refused),
        "{flag} one byte over the cap: {over}"
    );
}

#[test]
fn a_replay_file_may_hold_the_policys_cap_and_no_more() {
    assert_cap("--replay", cap("replay_file_bytes"));
}

#[test]
fn a_client_secret_file_may_hold_the_policys_cap_and_no_more() {
    assert_cap("--client-secret-file", cap("secret_file_bytes"));
}
