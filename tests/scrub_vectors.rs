//! The scrubbing rule's shared test vectors (`policy/scrub-vectors.json`,
//! which the Python package's `tests/test_scrub_vectors.py` reads too): the
//! core's `Secrets`, used by the component and the Rust host, meets each case.

use mde_connector::secrets::{MIN_SECRET_LEN, REDACTED, Secrets};
use serde_json::Value;

#[test]
fn the_scrubber_meets_every_shared_vector() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/policy/scrub-vectors.json");
    let text = std::fs::read_to_string(path).expect("policy/scrub-vectors.json");
    let vectors: Value = serde_json::from_str(&text).expect("the vectors are JSON");
    assert_eq!(vectors["redacted"], REDACTED);
    assert_eq!(vectors["min_secret_len"], MIN_SECRET_LEN);
    let cases = vectors["cases"].as_array().expect("a list of cases");
    assert!(cases.len() >= 24, "{} cases", cases.len());
    let field = |case: &Value, name: &str| case[name].as_str().expect(name).to_owned();
    for case in cases {
        let mut secrets = Secrets::default();
        secrets.add(&field(case, "secret"));
        assert_eq!(
            secrets.scrub(field(case, "text")),
            field(case, "scrubbed"),
            "{}",
            field(case, "name")
        );
        // scrub_bytes is the same rule.
        let mut bytes = field(case, "text").into_bytes();
        secrets.scrub_bytes(&mut bytes);
        assert_eq!(bytes, field(case, "scrubbed").into_bytes());
    }
}
