//! An HTTP answer to the machines request: machines or a typed error, never a
//! panic (nor when the body is handed to the events as a machine's text); the
//! direct reader agrees with the lenient one, and the texts' check with the
//! direct reader; the texts (`lookup-texts`) are
//! read as the machines are (the same error, or texts that read back to the
//! same machines), and parsing each gives exactly the service's member for
//! that machine; and they always map to OCSF and ECS JSON.
//!
//! Input: two bytes of status (big-endian, folded into 100..=599), one byte
//! `n`, `n` bytes of `Retry-After`, then the body.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mde_connector::Lookup;
use mde_connector::error::Error;
use mde_connector::events::{ecs, ocsf};
use mde_connector::http::Response;
use mde_connector::machine::Machine;
use mde_connector::response::{self, MAX_MACHINES};
use mde_connector::secrets::Secrets;
use serde_json::Value;

fuzz_target!(|data: &[u8]| {
    let Some((status, rest)) = data.split_first_chunk::<2>() else {
        return;
    };
    let status = 100 + u16::from_be_bytes(*status) % 500;
    let Some((&n, rest)) = rest.split_first() else {
        return;
    };
    let (retry_after, body) = rest.split_at(usize::from(n).min(rest.len()));
    let answer = Response {
        status,
        headers: vec![(
            "Retry-After".into(),
            String::from_utf8_lossy(retry_after).into_owned(),
        )],
        body: body.to_vec(),
    };
    // Any text a host hands the events back is machines or an error.
    if let Ok(text) = std::str::from_utf8(body) {
        let _ = response::machines_from_texts(&[text.to_owned()]);
    }
    // The texts' check takes the direct path exactly when the direct reader does.
    if let Ok(text) = std::str::from_utf8(body) {
        let read = response::machines_read_by::<Machine>(text, &Secrets::default(), false);
        let checked = response::machines_read_by::<String>(text, &Secrets::default(), false);
        assert_eq!(read.is_some(), checked.is_some());
    }
    // The direct reader gives what the lenient one gives, or leaves it to it.
    if let Ok(text) = std::str::from_utf8(body)
        && let Some(direct) =
            response::machines_read_by::<Machine>(text, &Secrets::default(), false)
    {
        let lenient = response::machines_read_by::<Machine>(text, &Secrets::default(), true)
            .expect("the lenient reader reads what the direct one does");
        assert_eq!(direct.machines, lenient.machines);
        assert!(lenient.warnings.is_empty(), "{:?}", lenient.warnings);
    }
    let texts = response::texts(&answer, &Secrets::default());
    match response::machines(&answer, &Secrets::default()) {
        Ok(found) => {
            assert!(status == 200 || status == 404);
            assert!(found.machines.len() <= MAX_MACHINES);
            let texts = texts.expect("the texts are read when the machines are");
            assert_eq!(texts.warnings, found.warnings);
            let texts = Lookup {
                domain: "contoso.com".into(),
                machines: texts.machines,
                cap_reached: false,
            };
            // Each text is the machine as sent: every member, its value and type.
            if status == 200
                && let Ok(sent) = serde_json::from_slice::<Value>(body)
                && let Some(Value::Array(sent)) = sent.get("value")
            {
                assert_eq!(sent.len(), texts.machines.len());
                for (sent, text) in sent.iter().zip(&texts.machines) {
                    let back: Value = serde_json::from_str(text).expect("a text is JSON");
                    assert_eq!(&back, sent, "{text}");
                }
            }
            // The texts read back to the same machines, so the events of a
            // `lookup-texts` answer are those of its typed records; except
            // that a lone surrogate, kept as U+FFFD, reads back as a string
            // (so an answer with a surrogate escape, lone or paired, is not
            // compared).
            if !has_surrogate_escape(body) {
                let back =
                    response::machines_from_texts(&texts.machines).expect("the texts read back");
                assert_eq!(back, found.machines);
            }
            // Any observation time, taken from the input; RFC 3339 ends in 9999.
            let observed_at = u64::from(n).wrapping_mul(0x9E37_79B9_7F4A_7C15);
            match (
                ocsf::inventory(&texts, observed_at),
                ecs::documents(&texts, observed_at),
            ) {
                (Ok(events), Ok(documents)) => {
                    for event in events.iter().chain(&documents).chain(&texts.machines) {
                        match serde_json::from_str::<Value>(event) {
                            Ok(v) => assert!(v.is_object(), "{event}"),
                            // A number the service sent past f64's range is
                            // kept as sent: JSON, but past serde_json's limit.
                            Err(e) => assert!(
                                e.to_string().starts_with("number out of range"),
                                "{e}: {event}"
                            ),
                        }
                    }
                }
                (Err(a), Err(b)) => assert!(observed_at > 253_402_300_799_999, "{a} {b}"),
                (a, b) => panic!("the formats disagree on {observed_at}: {a:?} {b:?}"),
            }
        }
        Err(e) if texts.as_ref().err() != Some(&e) => {
            panic!("the texts and the machines disagree: {e:?} against {texts:?}")
        }
        Err(Error::InvalidResponse(invalid)) => {
            assert!(invalid.excerpt.chars().count() <= 200);
            assert!(invalid.excerpt.chars().all(|c| !c.is_control()));
        }
        Err(Error::RateLimited(_)) => assert_eq!(status, 429),
        Err(Error::Unauthorized(_)) => assert_eq!(status, 401),
        Err(Error::Forbidden(_)) => assert_eq!(status, 403),
        Err(Error::ServiceUnavailable(_)) => assert!(status >= 500),
        Err(Error::ApiError(e)) => assert!((400..500).contains(&status) && e.code.is_some()),
        Err(other) => panic!("an answer cannot cause {other:?}"),
    }
});

/// A `\uD800`-`\uDFFF` escape, in any case: a UTF-16 surrogate.
fn has_surrogate_escape(body: &[u8]) -> bool {
    body.windows(4).any(|w| {
        w[0] == b'\\'
            && w[1] == b'u'
            && w[2].eq_ignore_ascii_case(&b'd')
            && matches!(w[3].to_ascii_lowercase(), b'8'..=b'9' | b'a'..=b'f')
    })
}
