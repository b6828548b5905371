//! An HTTP answer to the machines request: machines or a typed error, never a
//! panic (nor when the body is handed to the events as a machine's text); the
//! direct reader agrees with the lenient one; nothing the service sent is lost
//! (every member of every machine is in a typed field or in `unmodelled`,
//! `machines_json` gives it back, and its texts read back to the same
//! machines); and the machines it yields always map to OCSF and ECS JSON.
//!
//! Input: two bytes of status (big-endian, folded into 100..=599), one byte
//! `n`, `n` bytes of `Retry-After`, then the body.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mde_connector::Lookup;
use mde_connector::error::Error;
use mde_connector::events::{ecs, machines_json, ocsf};
use mde_connector::http::Response;
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
    // The direct reader gives what the lenient one gives, or leaves it to it.
    if let Ok(text) = std::str::from_utf8(body)
        && let Some(direct) = response::machines_read_by(text, &Secrets::default(), false)
    {
        let lenient = response::machines_read_by(text, &Secrets::default(), true)
            .expect("the lenient reader reads what the direct one does");
        assert_eq!(direct.machines, lenient.machines);
        assert!(lenient.warnings.is_empty(), "{:?}", lenient.warnings);
    }
    match response::machines(&answer, &Secrets::default()) {
        Ok(found) => {
            assert!(status == 200 || status == 404);
            assert!(found.machines.len() <= MAX_MACHINES);
            let found = Lookup {
                domain: "contoso.com".into(),
                machines: found.machines,
                cap_reached: false,
            };
            let texts = machines_json(&found);
            // Nothing lost: each machine as sent comes back, member for member.
            if status == 200
                && let Ok(sent) = serde_json::from_slice::<Value>(body)
                && let Some(Value::Array(sent)) = sent.get("value")
            {
                assert_eq!(sent.len(), texts.len());
                for (sent, text) in sent.iter().zip(&texts) {
                    let back: Value =
                        serde_json::from_str(text).expect("machines_json writes JSON");
                    if let Err(e) = same_as_sent(sent, &back) {
                        panic!("{e}\nsent {sent}\nback {back}");
                    }
                }
            }
            // The texts read back to the same machines, so the events of a
            // `lookup-texts` answer are those of its typed records; except
            // that a lone surrogate, kept as U+FFFD, reads back as a string
            // (so an answer with a surrogate escape, lone or paired, is not
            // compared).
            if !has_surrogate_escape(body) {
                let back = response::machines_from_texts(&texts).expect("the texts read back");
                assert_eq!(back, found.machines);
            }
            // Any observation time, taken from the input; RFC 3339 ends in 9999.
            let observed_at = u64::from(n).wrapping_mul(0x9E37_79B9_7F4A_7C15);
            match (
                ocsf::inventory(&found, observed_at),
                ecs::documents(&found, observed_at),
            ) {
                (Ok(events), Ok(documents)) => {
                    for event in events.iter().chain(&documents).chain(&texts) {
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

/// Each member of `sent` is in `back` with a value equal to it, or equal
/// once typed: a number and its text, `true` and `"TRUE"`, an enumeration's
/// value in another case. A lone surrogate may have become U+FFFD.
fn same_as_sent(sent: &Value, back: &Value) -> Result<(), String> {
    match (sent, back) {
        (Value::Object(a), Value::Object(b)) => {
            for (name, v) in a {
                let w = b.get(name).ok_or_else(|| format!("{name} is missing"))?;
                same_as_sent(v, w).map_err(|e| format!("{name}: {e}"))?;
            }
            Ok(())
        }
        (Value::Array(a), Value::Array(b)) if a.len() == b.len() => {
            a.iter().zip(b).try_for_each(|(v, w)| same_as_sent(v, w))
        }
        (a, b) if normal(a) == normal(b) => Ok(()),
        (a, b) => Err(format!("sent {a}, got {b}")),
    }
}

fn normal(v: &Value) -> String {
    match v {
        Value::String(s) => match (s.parse::<i64>(), s.parse::<f64>()) {
            (Ok(n), _) => n.to_string(),
            // Parsed as the sent number was (serde_json's rounding, not std's).
            (_, Ok(f)) if f.is_finite() && s.bytes().all(|b| b"+-.eE0123456789".contains(&b)) => {
                serde_json::from_str::<Value>(s.trim_start_matches('+'))
                    .map_or_else(|_| Value::from(f).to_string(), |v| v.to_string())
            }
            _ => s.to_ascii_lowercase(),
        },
        other => other.to_string().to_ascii_lowercase(),
    }
}

/// A `\uD800`-`\uDFFF` escape, in any case: a UTF-16 surrogate.
fn has_surrogate_escape(body: &[u8]) -> bool {
    body.windows(4).any(|w| {
        w[0] == b'\\'
            && w[1] == b'u'
            && w[2].eq_ignore_ascii_case(&b'd')
            && matches!(w[3].to_ascii_lowercase(), b'8'..=b'9' | b'a'..=b'f')
    })
}
