//! Hostile answers through the built component: each ends in a typed error or
//! a correct result, never a trap (a trap would fail `.unwrap()` on the outer result).

mod common;

use common::*;
use mde_connector_host::Auth;
use mde_connector_host::runtime::mde::connector::types::{Error, Machine};
use serde_json::{Value, json};

/// The component's answer to one 200 with `body`, under host-managed auth.
fn answer_to(body: impl Into<Vec<u8>>) -> Result<Vec<Machine>, Error> {
    let mut instance = replaying(Auth::HostManaged, vec![answer(200, &[], body)]);
    instance
        .domain_machines("contoso.com")
        .expect("the component must not trap")
}

fn invalid_because(body: impl Into<Vec<u8>>) -> String {
    match answer_to(body) {
        Err(Error::InvalidResponse(invalid)) => {
            assert!(invalid.excerpt.chars().count() <= 200);
            invalid.reason
        }
        other => panic!("expected invalid-response, got {other:?}"),
    }
}

#[test]
fn a_hundred_thousand_machines_are_refused_not_swallowed() {
    let one = r#"{"id":"9a7d3c15e02b4f6e8d1c0b2a3f4e5d6c7b8a9f01"}"#;
    let body = format!(r#"{{"value":[{}]}}"#, vec![one; 100_000].join(","));
    assert!(invalid_because(body).contains("more than 5000 machines"));
    // The service's own cap, and ten times it, still pass.
    let body = format!(r#"{{"value":[{}]}}"#, vec![one; 5_000].join(","));
    assert_eq!(answer_to(body).unwrap().len(), 5_000);
}

#[test]
fn deep_nesting_is_refused() {
    let deep = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
    // Ignored without recursion: an unknown field may nest as deep as it likes.
    let ignored = answer_to(format!(r#"{{"value":[{{"id":"a","extra":{deep}}}]}}"#)).unwrap();
    assert_eq!(ignored[0].id, "a");
    for body in [format!(r#"{{"value":{deep}}}"#), deep.clone()] {
        let reason = invalid_because(body);
        assert!(
            reason.contains("recursion limit") || reason.contains("invalid type"),
            "{reason}"
        );
    }
    // Unterminated, deep inside a known field.
    invalid_because(format!(
        r#"{{"value":[{{"id":"a","vmMetadata":{}}}]}}"#,
        "{\"a\":".repeat(100_000)
    ));
}

#[test]
fn numbers_beyond_64_bits_are_kept_as_sent() {
    for (sent, text) in [
        (
            "123456789012345678901234567890",
            "123456789012345678901234567890",
        ),
        ("1e400", "1e400"),
        ("22631.5", "22631.5"),
        ("-0.0e-5", "-0.0e-5"),
    ] {
        let body = format!(r#"{{"value":[{{"id":"a","osBuild":{sent}}}]}}"#);
        let machines = answer_to(body).unwrap();
        assert_eq!(machines[0].os_build, None);
        assert_eq!(
            machines[0].unmodelled.as_deref(),
            Some(format!(r#"{{"osBuild":{text}}}"#).as_str())
        );
    }
    let ok = answer_to(r#"{"value":[{"id":"a","someCounter":123456789012345678901234567890,"osBuild":-9223372036854775808,"rbacGroupId":123456789012345678901234567890}]}"#).unwrap();
    assert_eq!(ok[0].os_build, Some(i64::MIN));
    assert_eq!(
        ok[0].rbac_group_id.as_deref(),
        Some("123456789012345678901234567890")
    );
    assert_eq!(
        ok[0].unmodelled.as_deref(),
        Some(r#"{"someCounter":123456789012345678901234567890}"#)
    );
}

#[test]
fn invalid_utf8_is_refused() {
    assert!(invalid_because(b"{\"value\":[{\"id\":\"\xc3\x28\"}]}".to_vec()).contains("not UTF-8"));
    assert!(invalid_because(b"\xff\xfe{\"value\":[]}".to_vec()).contains("not UTF-8"));
    // An escaped lone surrogate is invalid UTF-16 in JSON text.
    invalid_because(r#"{"value":[{"id":"\ud800"}]}"#);
}

#[test]
fn duplicate_keys_are_refused() {
    assert!(invalid_because(r#"{"value":[{"id":"a","id":"b"}]}"#).contains("duplicate field"));
    assert!(invalid_because(r#"{"value":[],"value":[{"id":"a"}]}"#).contains("duplicate field"));
}

/// A field of the wrong type costs that field only: it is kept as sent in
/// `unmodelled`, and a `warn` record names the machine and the field.
#[test]
fn each_field_with_the_wrong_type_is_kept_as_sent() {
    let full = host_test::fake_tenant::full_machine(3);
    let fields = full.as_object().unwrap();
    assert!(fields.len() >= 32, "every documented field");
    let mut checked = 0;
    for (name, value) in fields {
        let wrong = match value {
            Value::String(_) => json!(42),
            // Neither a number nor a string: rbacGroupId takes both.
            Value::Number(_) => json!(true),
            Value::Bool(_) => json!("yes"),
            Value::Array(_) | Value::Object(_) => json!(7),
            Value::Null => continue,
        };
        let mut machine = full.clone();
        machine[name] = wrong.clone();
        let body = json!({"value": [machine, full]}).to_string();
        let answers = vec![answer(200, &[], body.clone()), answer(200, &[], body)];
        let mut instance = replaying(Auth::HostManaged, answers);
        let found = instance.lookup("contoso.com").expect("no trap");
        if name == "id" {
            let Err(Error::InvalidResponse(invalid)) = found else {
                panic!("a machine without a usable id: {found:?}")
            };
            assert!(
                invalid.reason.contains("machine 0: id"),
                "{}",
                invalid.reason
            );
            continue;
        }
        let found = found.unwrap_or_else(|e| panic!("{name}: {e:?}"));
        assert_eq!(found.machines.len(), 2, "{name}: the answer is kept");
        let sent: Value = serde_json::from_str(found.machines[0].unmodelled.as_deref().unwrap())
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(sent, json!({ name: wrong }), "{name}");
        let warnings: Vec<_> = instance
            .state()
            .logs
            .iter()
            .filter(|l| l.event == "unusable-field")
            .collect();
        assert_eq!(warnings.len(), 1, "{name}: one record for the machine");
        assert_eq!(warnings[0].level, mde_connector_host::runtime::Level::Warn);
        assert!(
            warnings[0].message.contains(found.machines[0].id.as_str())
                && warnings[0].message.contains(&format!("{name}:")),
            "{}",
            warnings[0].message
        );
        let texts = instance.lookup_texts("contoso.com").unwrap().unwrap();
        let json: Value = serde_json::from_str(&texts.machines[0]).unwrap();
        assert_eq!(json[name], wrong, "{name} as sent in lookup-texts");
        checked += 1;
    }
    assert_eq!(
        checked,
        fields.len() - 1 - fields.values().filter(|v| v.is_null()).count()
    );
    // Nested: an IP entry and the VM metadata keep theirs in their own `unmodelled`.
    let mut machine = full.clone();
    machine["ipAddresses"][0]["macAddress"] = json!(12);
    machine["vmMetadata"]["vmId"] = json!([]);
    let found = answer_to(json!({"value": [machine]}).to_string()).unwrap();
    let m = &found[0];
    let ip = &m.ip_addresses.as_ref().unwrap()[0];
    assert_eq!(ip.mac_address, None);
    assert_eq!(ip.unmodelled.as_deref(), Some(r#"{"macAddress":12}"#));
    let vm = m.vm_metadata.as_ref().unwrap();
    assert_eq!(vm.vm_id, None);
    assert_eq!(vm.unmodelled.as_deref(), Some(r#"{"vmId":[]}"#));
}

#[test]
fn a_machine_without_an_id_or_not_an_object_is_refused() {
    invalid_because(r#"{"value":[{"computerDnsName":"x"}]}"#);
    invalid_because(r#"{"value":[{"id":null}]}"#);
    invalid_because(r#"{"value":[1,2,3]}"#);
    invalid_because(r#"{"value":["a"]}"#);
}

#[test]
fn html_empty_and_truncated_bodies_are_refused() {
    invalid_because("<!DOCTYPE html><html><body><h1>Access denied</h1></body></html>");
    assert!(invalid_because("").contains("empty"));
    assert!(invalid_because("   \r\n").contains("empty"));
    let full =
        json!({"value": (0..20).map(host_test::fake_tenant::full_machine).collect::<Vec<_>>()})
            .to_string();
    for cut in [1, 10, full.len() / 3, full.len() / 2, full.len() - 1] {
        invalid_because(&full.as_bytes()[..cut]);
    }
}

#[test]
fn a_collection_without_value_is_refused() {
    assert!(invalid_because(r#"{"@odata.context":"x#Machines"}"#).contains("no \"value\""));
    assert!(invalid_because(r#"{"value":null}"#).contains("no \"value\""));
    invalid_because("[]");
    invalid_because("null");
    invalid_because(r#""value""#);
}

#[test]
fn an_oversized_body_is_refused_before_parsing() {
    let body = format!(r#"{{"value":[],"pad":"{}"}}"#, "x".repeat(17 * 1024 * 1024));
    assert!(invalid_because(body).contains("no answer of the service is larger"));
}

#[test]
fn hostile_error_answers_are_typed_too() {
    let deep = format!("{{\"error\":{}", "{\"a\":".repeat(50_000));
    for (status, body) in [
        (400, deep.as_str()),
        (403, "\u{0}\u{1}\u{2}"),
        (401, r#"{"error":{"code":12,"message":[]}}"#),
        (429, "<html>slow down</html>"),
        (500, r#"{"error":"#),
    ] {
        let mut instance = replaying(
            Auth::HostManaged,
            vec![answer(
                status,
                &[("Retry-After", "Thu, 01 Jan 2026 00:00:00 GMT")],
                body,
            )],
        );
        let e = instance
            .domain_machines("contoso.com")
            .expect("no trap")
            .unwrap_err();
        let typed = matches!(
            (&e, status),
            (Error::InvalidResponse(_), 400)
                | (Error::Forbidden(_), 403)
                | (Error::Unauthorized(_), 401)
                | (Error::RateLimited(_), 429)
                | (Error::ServiceUnavailable(_), 500)
        );
        assert!(typed, "{status}: {e:?}");
    }
}

#[test]
fn hostile_token_answers_are_typed_and_never_quoted() {
    for body in [
        "".to_owned(),
        "<html>".to_owned(),
        r#"{"access_token":null}"#.to_owned(),
        r#"{"access_token":"with space"}"#.to_owned(),
        format!(r#"{{"access_token":"{}"}}"#, "\\u0000"),
        format!("{{\"x\":{}", "[".repeat(100_000)),
    ] {
        let mut instance = replaying(demo_credentials(), vec![answer(200, &[], body.clone())]);
        let e = instance
            .domain_machines("contoso.com")
            .expect("no trap")
            .unwrap_err();
        let Error::InvalidResponse(invalid) = e else {
            panic!("{body:?}: expected invalid-response, got {e:?}")
        };
        assert_eq!(invalid.excerpt, "[token answer withheld]");
        assert_eq!(
            instance.state().requests.len(),
            1,
            "no API call without a token"
        );
    }
}
