//! The Rust code held to `policy/policy.json`, the policy's one data file,
//! which the Python package reads: a fact changed on one side only fails here.

use mde_connector::environment::{CLOUD_NAMES, cloud_named};
use mde_connector::response::{MAX_BODY_BYTES, MAX_MACHINES};
use mde_connector_host::budget::Limits;
use mde_connector_host::gateway::MAX_BODY;
use mde_connector_host::runtime::MAX_DOMAIN_BYTES;
use mde_connector_host::scrub::{MIN_SECRET_LEN, REDACTED};
use serde_json::Value;

fn read(name: &str) -> Value {
    let path = format!("{}/../policy/{name}", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn number(policy: &Value, pointer: &str) -> u64 {
    policy
        .pointer(pointer)
        .and_then(Value::as_u64)
        .unwrap_or_else(|| panic!("policy.json has no number at {pointer}"))
}

#[test]
fn every_named_cloud_has_the_files_hosts_and_scope() {
    let policy = read("policy.json");
    let clouds = policy["clouds"].as_object().expect("clouds is an object");
    let custom = policy["custom_cloud"]
        .as_str()
        .expect("custom_cloud is a name");
    // serde_json's map is sorted: compare the names as sets.
    let mut named: Vec<&str> = clouds.keys().map(String::as_str).collect();
    named.push(custom);
    named.sort_unstable();
    let mut core = CLOUD_NAMES.to_vec();
    core.sort_unstable();
    assert_eq!(named, core, "the clouds the core knows by name");
    assert!(
        cloud_named(custom).is_none(),
        "{custom} takes its hosts from the operator"
    );
    for (name, facts) in clouds {
        let endpoints = cloud_named(name)
            .unwrap_or_else(|| panic!("{name} is no cloud of the core"))
            .endpoints()
            .unwrap();
        let expected = |field: &str| facts[field].as_str().unwrap_or_default().to_owned();
        assert_eq!(
            endpoints.api_base,
            expected("api_base"),
            "{name}'s API base"
        );
        assert_eq!(
            endpoints.login_host,
            expected("login_host"),
            "{name}'s login host"
        );
        assert_eq!(endpoints.scope, expected("scope"), "{name}'s scope");
    }
}

#[test]
fn the_budget_defaults_are_the_files() {
    let policy = read("policy.json");
    let file = Limits {
        per_minute: number(&policy, "/budget/per_minute") as usize,
        per_hour: number(&policy, "/budget/per_hour") as usize,
    };
    assert_eq!(Limits::SERVICE, file);
}

#[test]
fn the_secret_rules_are_the_files_and_the_scrub_vectors_agree() {
    let policy = read("policy.json");
    assert_eq!(
        number(&policy, "/secrets/min_secret_len"),
        MIN_SECRET_LEN as u64
    );
    assert_eq!(policy["secrets"]["redacted"], REDACTED);
    let vectors_name = policy["secrets"]["scrubbing"]
        .as_str()
        .expect("a file name");
    let vectors = read(vectors_name);
    assert_eq!(
        vectors["min_secret_len"],
        policy["secrets"]["min_secret_len"]
    );
    assert_eq!(vectors["redacted"], policy["secrets"]["redacted"]);
}

#[test]
fn the_size_caps_are_the_files() {
    let policy = read("policy.json");
    assert_eq!(number(&policy, "/caps/answer_body_bytes"), MAX_BODY);
    assert_eq!(
        number(&policy, "/caps/parsed_body_bytes"),
        MAX_BODY_BYTES as u64
    );
    assert_eq!(
        number(&policy, "/caps/domain_bytes"),
        MAX_DOMAIN_BYTES as u64
    );
    assert_eq!(
        number(&policy, "/caps/machines_per_answer"),
        MAX_MACHINES as u64
    );
    assert_eq!(
        number(&policy, "/caps/service_page_machines"),
        mde_connector::MACHINE_CAP as u64
    );
}

#[test]
fn the_proxy_variables_are_the_files() {
    let policy = read("policy.json");
    let variables: Vec<&str> = policy["proxy"]["variables"]
        .as_array()
        .expect("proxy variables are a list")
        .iter()
        .map(|v| v.as_str().expect("a variable's name"))
        .collect();
    assert_eq!(variables, mde_connector_host::live::PROXY_VARIABLES);
}

#[test]
fn every_lookup_needs_the_roles_the_file_names() {
    use mde_connector::permissions::Lookup;
    let policy = read("policy.json");
    let table = policy["lookups"].as_object().expect("lookups is an object");
    let named: Vec<&str> = table
        .keys()
        .filter(|k| *k != "about")
        .map(String::as_str)
        .collect();
    assert_eq!(named.len(), Lookup::ALL.len(), "the lookups: {named:?}");
    for lookup in Lookup::ALL {
        let roles: Vec<&str> = table[lookup.name()]
            .as_array()
            .unwrap_or_else(|| panic!("policy.json has no roles for {}", lookup.name()))
            .iter()
            .map(|r| r.as_str().expect("a role is a name"))
            .collect();
        assert_eq!(roles, lookup.roles(), "{}", lookup.name());
    }
}
