//! An HTTP answer to the prevalence requests (`/api/domains/{d}/stats`,
//! `/api/ips/{ip}/stats`) and to one machine (`/api/machines/{id}`): a
//! record or a typed error, never a panic; the prevalence under either name;
//! nothing sent lost (the JSON written for output holds every member of a
//! 200's object); one machine read as an answer's machines are.
//!
//! Input: two bytes of status (big-endian, folded into 100..=599), then the body.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mde_connector::error::Error;
use mde_connector::http::Response;
use mde_connector::machine::Machine;
use mde_connector::prevalence::{DomainPrevalence, DomainStatsAnswer, IpPrevalence, IpStatsAnswer};
use mde_connector::response;
use mde_connector::secrets::Secrets;
use serde_json::Value;

fuzz_target!(|data: &[u8]| {
    let Some((status, body)) = data.split_first_chunk::<2>() else {
        return;
    };
    let status = 100 + u16::from_be_bytes(*status) % 500;
    let answer = Response {
        status,
        headers: Vec::new(),
        body: body.to_vec(),
    };
    let secrets = Secrets::default();
    let domain = response::record::<DomainStatsAnswer>(&answer, &secrets);
    let ip = response::record::<IpStatsAnswer>(&answer, &secrets);
    match (domain, ip) {
        (Ok((d, _)), Ok((i, _))) => {
            assert_eq!(status, 200);
            let d = DomainPrevalence::of("contoso.com".into(), Some(1), d);
            let i = IpPrevalence::of("10.0.0.1".into(), None, i);
            // Either name of the prevalence, when it is a usable number.
            if let Ok(Value::Object(sent)) = serde_json::from_slice::<Value>(body) {
                let number = |name: &str| sent.get(name).and_then(Value::as_i64);
                if let Some(n) = number("organizationPrevalence").or(number("orgPrevalence")) {
                    assert_eq!(d.organization_prevalence, Some(n));
                    assert_eq!(i.organization_prevalence, Some(n));
                }
                // Every member sent is in the JSON written for output.
                for json in [d.to_json(), i.to_json()] {
                    let written: Value = match serde_json::from_str(&json) {
                        Ok(v) => v,
                        // A number past f64's range is kept as sent.
                        Err(e) => {
                            assert!(e.to_string().starts_with("number out of range"), "{e}");
                            continue;
                        }
                    };
                    // (`orgPrevalence` is written as `organizationPrevalence`
                    // when it could be used.)
                    for name in sent.keys() {
                        let kept = written.get(name).is_some()
                            || (name == "orgPrevalence"
                                && written["organizationPrevalence"].is_i64());
                        assert!(kept, "{name} lost: {json}");
                    }
                }
            }
        }
        // The records model different members (a duplicate `host` is an
        // error for one only): each error is checked on its own.
        (a, b) => {
            for e in [a.err(), b.err()].into_iter().flatten() {
                check_error(status, &e);
            }
        }
    }
    match response::one_machine::<Machine>(&answer, &secrets) {
        Ok(found) => {
            assert!(status == 200 || status == 404);
            assert!(found.machines.len() <= 1);
            let texts = response::one_machine::<String>(&answer, &secrets)
                .expect("the text is read when the machine is");
            assert_eq!(texts.machines.len(), found.machines.len());
            if let Some(text) = texts.machines.first() {
                let back = response::machines_from_texts(std::slice::from_ref(text));
                assert!(back.is_ok(), "{back:?}");
            }
        }
        Err(e) => check_error(status, &e),
    }
});

fn check_error(status: u16, e: &Error) {
    match e {
        Error::InvalidResponse(invalid) => {
            assert!(invalid.excerpt.chars().count() <= 200);
            assert!(invalid.excerpt.chars().all(|c| !c.is_control()));
        }
        Error::RateLimited(_) => assert_eq!(status, 429),
        Error::Unauthorized(_) => assert_eq!(status, 401),
        Error::Forbidden(_) => assert_eq!(status, 403),
        Error::ServiceUnavailable(_) => assert!(status >= 500),
        Error::ApiError(e) => assert!((400..500).contains(&status) && e.code.is_some()),
        other => panic!("an answer cannot cause {other:?}"),
    }
}
