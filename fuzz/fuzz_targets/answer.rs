//! An HTTP answer to the machines request: machines or a typed error, never a
//! panic; and the machines it yields always map to OCSF and ECS JSON.
//!
//! Input: two bytes of status (big-endian, folded into 100..=599), one byte
//! `n`, `n` bytes of `Retry-After`, then the body.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mde_connector::Lookup;
use mde_connector::error::Error;
use mde_connector::events::{ecs, ocsf};
use mde_connector::http::Response;
use mde_connector::response::{self, MAX_MACHINES};

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
    match response::machines(&answer) {
        Ok(machines) => {
            assert!(status == 200 || status == 404);
            assert!(machines.len() <= MAX_MACHINES);
            let found = Lookup {
                domain: "contoso.com".into(),
                machines,
                cap_reached: false,
            };
            // Any observation time, taken from the input.
            let observed_at = u64::from(n).wrapping_mul(0x9E37_79B9_7F4A_7C15);
            for event in ocsf::inventory(&found, observed_at)
                .into_iter()
                .chain(ecs::documents(&found, observed_at))
            {
                let parsed: Result<serde_json::Value, _> = serde_json::from_str(&event);
                assert!(parsed.is_ok_and(|v| v.is_object()), "{event}");
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
