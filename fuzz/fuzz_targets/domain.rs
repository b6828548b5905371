//! Domain normalisation: never panics, and what it accepts is safe in a path.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mde_connector::domain::normalize;
use mde_connector::request;
use mde_connector::settings::Cloud;

fuzz_target!(|data: &[u8]| {
    let Ok(input) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(domain) = normalize(input) else {
        return;
    };
    assert!(domain.len() <= 253);
    assert!(
        domain
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"-._".contains(&b))
    );
    assert!(domain.split('.').all(|l| !l.is_empty() && l.len() <= 63));
    assert_eq!(normalize(&domain).as_ref(), Ok(&domain), "idempotent");
    let endpoints = Cloud::Commercial.endpoints().unwrap();
    let url = request::machines(&endpoints, &domain, None).url;
    assert_eq!(
        url,
        format!("https://api.security.microsoft.com/api/domains/{domain}/machines")
    );
});
