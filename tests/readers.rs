//! The two readers of an answer agree. Machines are read straight from the
//! parser when every member is as modelled (one pass), and otherwise again,
//! leniently, from each value's text. Whenever the direct reader gives
//! machines, they are the lenient reader's, value for value; and the usual
//! answer is read directly, so the fast path is the one taken.

use mde_connector::http::Response;
use mde_connector::lenient::{Kind, Record};
use mde_connector::machine::Machine;
use mde_connector::response::{self, machines_read_by};
use mde_connector::secrets::Secrets;
use proptest::prelude::*;

/// Values of every JSON type, and the edges where the readers could part:
/// integers at and past `i64`'s range, `-0`, fractions and exponents,
/// numbers and booleans in strings, escapes (one spelling a secret), lone
/// surrogates, empty and mixed lists, records of the right and wrong shape.
const LITERALS: &[&str] = &[
    "null",
    "true",
    "false",
    r#""TRUE""#,
    r#""false""#,
    r#""maybe""#,
    "0",
    "-0",
    "7",
    "-12",
    "1.0",
    "1e3",
    "2.50",
    "9223372036854775807",
    "9223372036854775808",
    "-9223372036854775808",
    "18446744073709551616",
    "123456789012345678901234567890",
    r#""19045""#,
    r#"" 12""#,
    r#""+5""#,
    r#""""#,
    r#""plain text""#,
    r#""a\u0062c""#,
    r#""x\"y\\z""#,
    r#""\ud800 lone""#,
    r#""token\u002DA-123456 reflected""#,
    r#""Active""#,
    r#""onboarded""#,
    "[]",
    r#"["a"]"#,
    r#"["a", 1]"#,
    "[null]",
    "[[]]",
    "{}",
    r#"{"vmId": "v", "cloudProvider": "Azure"}"#,
    r#"{"vmId": 5}"#,
    r#"{"zone": "2", "vmId": "v"}"#,
    r#"[{"ipAddress": "10.0.0.1", "macAddress": null, "prefixLength": 24}]"#,
    r#"[{"ipAddress": 1}]"#,
    r#"[{"type": "Ethernet"}, "x"]"#,
    r#"{"odd": [1, 2.50, "x"]}"#,
];

/// Values a field of `kind` uses, so that whole machines are read directly
/// often enough for the comparison to mean something.
fn usable(kind: Kind) -> Vec<&'static str> {
    let mut values = vec!["null"];
    values.extend_from_slice(match kind {
        Kind::Text | Kind::Choice(_) => &[
            r#""plain text""#,
            r#""""#,
            r#""Active""#,
            r#""onboarded""#,
            r#""a\u0062c""#,
            r#""x\"y\\z""#,
            r#""token\u002DA-123456 reflected""#,
        ],
        Kind::Integer => &["7", "-12", r#""19045""#, r#""+5""#, "9223372036854775807"],
        Kind::Boolean => &["true", "false", r#""TRUE""#, r#""false""#],
        Kind::IdText => &["0", "140", "-9223372036854775808", r#""140""#],
        Kind::List { of: Kind::Text } => &["[]", r#"["a"]"#, r#"["a", "b\u0063"]"#],
        Kind::List { .. } => &[
            "[]",
            r#"[{"ipAddress": "10.0.0.1", "macAddress": null, "prefixLength": 24}]"#,
            r#"[{"type": "Ethernet"}, {"operationalStatus": "Up", "ipAddress": ""}]"#,
        ],
        Kind::Record { .. } => &[
            "{}",
            r#"{"vmId": "v", "cloudProvider": "Azure"}"#,
            r#"{"zone": "2", "vmId": "v"}"#,
        ],
    });
    values
}

/// A modelled member with a value it usually can use.
fn modelled(index: usize) -> impl Strategy<Value = String> {
    let (name, kind) = Machine::FIELDS[index];
    (
        prop_oneof![16 => prop::sample::select(usable(kind)), 1 => prop::sample::select(LITERALS)],
        " ?",
    )
        .prop_map(move |(value, space)| format!("\"{name}\":{space}{value}"))
}

/// A machine's text: usually an id, then modelled members in any order, now
/// and then one this version does not model (or an id spelled with an
/// escape) and a duplicate.
fn machine() -> impl Strategy<Value = String> {
    let indices: Vec<usize> = (1..Machine::FIELDS.len()).collect();
    let members = prop::sample::subsequence(indices, 0..10)
        .prop_shuffle()
        .prop_flat_map(|indices| indices.into_iter().map(modelled).collect::<Vec<_>>());
    let other = (
        prop::sample::select(vec![r#""newField""#, r#""zone""#, r#""\u0069d""#]),
        prop::sample::select(LITERALS),
    )
        .prop_map(|(name, value)| format!("{name}: {value}"));
    (
        prop_oneof![6 => Just(r#""id": "a1""#), 1 => Just("")],
        members,
        prop::option::weighted(0.3, other),
        prop::option::weighted(0.1, modelled(0)),
    )
        .prop_map(|(id, members, other, duplicate)| {
            let members: Vec<&str> = std::iter::once(id)
                .filter(|id| !id.is_empty())
                .chain(members.iter().map(String::as_str))
                .chain(other.as_deref())
                .chain(duplicate.as_deref())
                .collect();
            format!("{{{}}}", members.join(", "))
        })
}

fn secrets() -> Secrets {
    let mut secrets = Secrets::default();
    secrets.add("token-A-123456");
    secrets
}

/// An answer of one to three generated machines.
fn body() -> impl Strategy<Value = String> {
    prop::collection::vec(machine(), 1..4)
        .prop_map(|machines| format!(r#"{{"value": [{}]}}"#, machines.join(", ")))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2048))]

    #[test]
    fn the_direct_reader_gives_what_the_lenient_reader_gives(body in body()) {
        let secrets = secrets();
        let lenient = machines_read_by::<Machine>(&body, &secrets, true);
        if let Some(direct) = machines_read_by::<Machine>(&body, &secrets, false) {
            let lenient = lenient.as_ref().expect("the lenient reader reads what the direct one does");
            prop_assert_eq!(&direct.machines, &lenient.machines, "{}", body);
            prop_assert!(lenient.warnings.is_empty(), "{}: {:?}", body, lenient.warnings);
        }
        // And an answer reads as the lenient reader reads it.
        let answer = Response { status: 200, headers: Vec::new(), body: body.clone().into_bytes() };
        match (response::machines(&answer, &secrets), lenient) {
            (Ok(found), Some(lenient)) => {
                prop_assert_eq!(found.machines, lenient.machines);
                prop_assert_eq!(found.warnings, lenient.warnings);
            }
            (Err(_), None) => {}
            (found, lenient) => prop_assert!(false, "{body}: {found:?} against {lenient:?}"),
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2048))]

    /// `lookup-texts` checks each machine rather than reading it into a
    /// record, and the check takes the fast path exactly when the direct
    /// reader does: never for a machine `lookup` would warn about (which
    /// would lose the warning), nor less often.
    #[test]
    fn the_texts_check_takes_the_direct_path_when_the_direct_reader_does(body in body()) {
        let secrets = secrets();
        let read = machines_read_by::<Machine>(&body, &secrets, false);
        let checked = machines_read_by::<String>(&body, &secrets, false);
        prop_assert_eq!(read.is_some(), checked.is_some(), "{}", body);
        if let Some(checked) = checked {
            prop_assert!(checked.warnings.is_empty());
        }
    }
}

/// The answer's budget of typed list entries binds the texts' check as it
/// binds the direct reader: past it, both leave the answer to the lenient
/// reader, and the texts carry the same warnings as the machines.
#[test]
fn the_answers_list_budget_binds_the_texts_check_too() {
    let tags = vec![r#""t""#; 999].join(",");
    let machine = format!(r#"{{"id":"a","machineTags":[{tags}]}}"#);
    let within = 50_000 / 999;
    for (count, direct) in [(within, true), (within + 1, false)] {
        let body = format!(
            r#"{{"value":[{}]}}"#,
            vec![machine.as_str(); count].join(",")
        );
        let read = machines_read_by::<Machine>(&body, &secrets(), false);
        let checked = machines_read_by::<String>(&body, &secrets(), false);
        assert_eq!(
            (read.is_some(), checked.is_some()),
            (direct, direct),
            "{count}"
        );
        let answer = Response {
            status: 200,
            headers: Vec::new(),
            body: body.into_bytes(),
        };
        let texts = response::texts(&answer, &secrets()).unwrap();
        let machines = response::machines(&answer, &secrets()).unwrap();
        assert_eq!(texts.warnings, machines.warnings);
        assert_eq!(texts.warnings.is_empty(), direct);
    }
}

/// The comparison above means something: the generator's answers are read
/// directly often, and leniently often.
#[test]
fn the_generator_reaches_both_readers() {
    use proptest::strategy::ValueTree;
    use proptest::test_runner::TestRunner;
    let mut runner = TestRunner::deterministic();
    let strategy = body();
    let direct = (0..400)
        .filter(|_| {
            let body = strategy.new_tree(&mut runner).unwrap().current();
            machines_read_by::<Machine>(&body, &secrets(), false).is_some()
        })
        .count();
    assert!(
        (100..300).contains(&direct),
        "{direct} of 400 read directly"
    );
}

/// The usual answers take the fast path: as the service sends them (nulls,
/// a numeric `rbacGroupId`, members this version does not model), every
/// field filled, and an escape in a name.
#[test]
fn usual_answers_are_read_directly() {
    let live = r#"{"@odata.context": "x", "value": [
        {"id": "241056b69203a660e7521c8c3bfc2476f8cf2ae0", "mergedIntoMachineId": null,
         "isPotentialDuplication": false, "isExcluded": false, "exclusionReason": null,
         "computerDnsName": "vm1.contoso.com", "firstSeen": "2024-01-25T18:45:56.688814Z",
         "osPlatform": "Ubuntu", "osVersion": null, "version": "20.4", "osBuild": null,
         "healthStatus": "Inactive", "deviceValue": "Normal", "rbacGroupId": 0,
         "rbacGroupName": null, "riskScore": "None", "exposureLevel": "Low",
         "isAadJoined": null, "machineTags": [], "onboardingStatus": "onboarded",
         "ipAddresses": [{"ipAddress": "", "macAddress": null, "type": "Other",
                          "operationalStatus": "Up"}],
         "vmMetadata": null, "someNewField": {"a": [1, 2.50]}},
        {"id": "9a7d\u0033c15e02b4f6e8d1c0b2a3f4e5d6c7b8a9f01", "osBuild": "22631",
         "vmMetadata": {"vmId": "v", "cloudProvider": "Azure", "resourceId": "r",
                        "subscriptionId": "s"}, "machineTags": ["a", "b"]}
    ]}"#;
    let direct = machines_read_by::<Machine>(live, &secrets(), false).expect("read directly");
    machines_read_by::<String>(live, &secrets(), false).expect("the texts checked directly");
    let lenient = machines_read_by::<Machine>(live, &secrets(), true).unwrap();
    assert_eq!(direct.machines, lenient.machines);
    assert_eq!(direct.machines.len(), 2);
    assert_eq!(direct.machines[0].rbac_group_id.as_deref(), Some("0"));
    assert_eq!(
        direct.machines[0].unmodelled.as_deref(),
        Some(r#"{"someNewField":{"a":[1,2.50]}}"#)
    );
    assert_eq!(direct.machines[1].os_build, Some(22631));
}

/// What only the lenient reader reads: a value of a type its field cannot
/// use, a list over its limit, a duplicate, a missing id.
#[test]
fn the_direct_reader_leaves_the_unusual_to_the_lenient_one() {
    let long_list: Vec<String> = (0..=mde_connector::lenient::MAX_LIST_ENTRIES)
        .map(|i| format!("\"t{i}\""))
        .collect();
    for machine in [
        r#"{"id": "a", "osBuild": 1.5}"#,
        r#"{"id": "a", "osBuild": -0}"#,
        r#"{"id": "a", "rbacGroupId": 18446744073709551616}"#,
        r#"{"id": "a", "isAadJoined": "maybe"}"#,
        r#"{"id": "a", "machineTags": ["a", 1]}"#,
        r#"{"id": "a", "vmMetadata": []}"#,
        r#"{"id": "a", "ipAddresses": [{"macAddress": 12}]}"#,
        r#"{"id": "a", "id": "b"}"#,
        r#"{"osBuild": 1}"#,
        &format!(r#"{{"id": "a", "machineTags": [{}]}}"#, long_list.join(",")),
    ] {
        let body = format!(r#"{{"value": [{machine}]}}"#);
        assert!(
            machines_read_by::<Machine>(&body, &secrets(), false).is_none(),
            "{machine}"
        );
        assert!(
            machines_read_by::<String>(&body, &secrets(), false).is_none(),
            "the texts' check: {machine}"
        );
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1024))]

    /// `lookup-texts` loses nothing: its texts read back to the machines
    /// `lookup` gives for the same answer, so events of the texts are events
    /// of the lookup. Except for a lone surrogate: see below.
    #[test]
    fn texts_read_back_to_the_machines_of_the_same_answer(body in body()) {
        prop_assume!(!body.contains(LONE_SURROGATE));
        let answer = Response { status: 200, headers: Vec::new(), body: body.clone().into_bytes() };
        match (response::machines(&answer, &secrets()), response::texts(&answer, &secrets())) {
            (Ok(found), Ok(texts)) => {
                let read = response::machines_from_texts(&texts.machines);
                prop_assert_eq!(read.as_ref(), Ok(&found.machines), "{} gave {:?}", body, texts.machines);
                prop_assert_eq!(found.warnings, texts.warnings);
            }
            (Err(a), Err(b)) => prop_assert_eq!(a, b),
            (found, texts) => prop_assert!(false, "{body}: {found:?} against {texts:?}"),
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1024))]

    /// Each `lookup-texts` text is its machine as the service sent it:
    /// parsed, exactly the service's member (every member, value and type),
    /// and byte for byte but for whitespace between tokens (numbers and
    /// escapes as sent), whether the answer was read directly or leniently.
    #[test]
    fn each_text_is_its_machine_as_sent(body in body(), minified in any::<bool>()) {
        prop_assume!(!body.contains(LONE_SURROGATE));
        // The generator's strings hold no `, ` or `: `: this minifies only between tokens,
        // as the service writes its answers (a text is then copied whole).
        let body = if minified { body.replace(", ", ",").replace(": ", ":") } else { body };
        let answer = Response { status: 200, headers: Vec::new(), body: body.clone().into_bytes() };
        if let Ok(texts) = response::texts(&answer, &Secrets::default()) {
            #[derive(serde::Deserialize)]
            struct Sent<'a> {
                #[serde(borrow)]
                value: Vec<&'a serde_json::value::RawValue>,
            }
            let sent: Sent = serde_json::from_str(&body).unwrap();
            prop_assert_eq!(sent.value.len(), texts.machines.len());
            let bare = |text: &str| text.split_whitespace().collect::<String>();
            for (sent, text) in sent.value.iter().zip(&texts.machines) {
                let parsed: serde_json::Value = serde_json::from_str(text).unwrap();
                let member: serde_json::Value = serde_json::from_str(sent.get()).unwrap();
                prop_assert_eq!(parsed, member, "{}", text);
                prop_assert_eq!(bare(text), bare(sent.get()));
                prop_assert!(!text.contains(": ") && !text.contains(", "), "{}", text);
            }
        }
    }
}

const LONE_SURROGATE: &str = r"\ud800";

/// The one value that does not read back as it was read: a string with a
/// lone surrogate is unusable (no Rust string holds one), so it is kept in
/// `unmodelled`; the text has U+FFFD in its place, a usable string.
#[test]
fn a_lone_surrogate_reads_back_as_the_replacement_character() {
    let body = format!(r#"{{"value": [{{"id": "a1", "agentVersion": "{LONE_SURROGATE}"}}]}}"#);
    let answer = Response {
        status: 200,
        headers: Vec::new(),
        body: body.into_bytes(),
    };
    let found = response::machines(&answer, &secrets()).unwrap();
    assert_eq!(found.machines[0].agent_version, None);
    let texts = response::texts(&answer, &secrets()).unwrap().machines;
    assert_eq!(texts, ["{\"id\":\"a1\",\"agentVersion\":\"\u{fffd}\"}"]);
    let read = response::machines_from_texts(&texts).unwrap();
    assert_eq!(read[0].agent_version.as_deref(), Some("\u{fffd}"));
    assert_eq!(read[0].unmodelled, None);
}

/// A text that is not one machine's JSON object is refused, by its index.
#[test]
fn a_text_that_is_not_a_machine_is_refused_by_its_index() {
    let machine = r#"{"id": "a1", "osBuild": 19045}"#.to_string();
    for (text, why) in [
        ("[]", "machine text 1: invalid type: sequence"),
        (r#""a1""#, "machine text 1: invalid type: string"),
        (r#"{"osBuild": 1}"#, "machine text 1: no id"),
        (
            r#"{"id": "b2"} {"id": "c3"}"#,
            "machine text 1: trailing characters",
        ),
    ] {
        let texts = [machine.clone(), text.to_string()];
        let error = response::machines_from_texts(&texts).unwrap_err();
        assert!(error.starts_with(why), "{text}: {error}");
    }
    let read = response::machines_from_texts(&[machine]).unwrap();
    assert_eq!((read[0].id.as_str(), read[0].os_build), ("a1", Some(19045)));
}
