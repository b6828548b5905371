//! An answer from the identity platform: a header-safe token or a typed
//! error that never quotes a 200 answer (it may hold a credential).
#![no_main]

use libfuzzer_sys::fuzz_target;
use mde_connector::error::Error;
use mde_connector::http::Response;
use mde_connector::response;

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
    match response::access_token(&answer) {
        Ok(token) => {
            assert_eq!(status, 200);
            assert!(!token.is_empty());
            assert!(token.bytes().all(|b| (0x21..=0x7e).contains(&b)));
        }
        Err(Error::InvalidResponse(invalid)) if status == 200 => {
            assert_eq!(invalid.excerpt, "[token answer withheld]");
        }
        Err(_) => assert_ne!(status, 200),
    }
});
