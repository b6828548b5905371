//! Properties of domain normalisation and the request it leads to, over
//! arbitrary input and input built from the characters most likely to hurt.

use mde_connector::domain::normalize;
use mde_connector::request;
use mde_connector::settings::Cloud;
use proptest::prelude::*;

/// Pieces an attacker would try: URL syntax, its full-width and encoded
/// look-alikes, IDNA edge cases, separators, controls.
fn hostile_piece() -> impl Strategy<Value = &'static str> {
    prop::sample::select(vec![
        "a",
        "contoso",
        "com",
        "xn--",
        "xn--bcher-kva",
        "ü",
        "ß",
        "例え",
        "-",
        "_",
        ".",
        "..",
        "/",
        "?",
        "#",
        "%",
        "%2f",
        "%2e",
        "\\",
        "@",
        ":",
        "&",
        "=",
        ";",
        " ",
        "\t",
        "\n",
        "\r",
        "\u{0}",
        "\u{7f}",
        "\u{ff0f}",
        "\u{ff1f}",
        "\u{ff03}",
        "\u{3002}",
        "\u{ff0e}",
        "\u{200d}",
        "\u{ad}",
        "\u{fe0f}",
        "\u{2044}",
        "\u{2215}",
        "\u{29f8}",
        "\u{ff05}",
        "\u{fe56}",
        "\u{fe5f}",
        "../",
        "api",
        "machines",
        "https://",
        "http:",
        "A",
        "Z",
    ])
}

fn hostile_domain() -> impl Strategy<Value = String> {
    prop::collection::vec(hostile_piece(), 1..12).prop_map(|pieces| pieces.concat())
}

fn any_domain() -> impl Strategy<Value = String> {
    prop_oneof![hostile_domain(), any::<String>(), "[a-zA-Z0-9.-]{1,80}"]
}

const BASE: &str = "https://api.security.microsoft.com";

proptest! {
    #![proptest_config(ProptestConfig::with_cases(4096))]

    #[test]
    fn normalisation_is_idempotent(input in any_domain()) {
        if let Ok(domain) = normalize(&input) {
            prop_assert_eq!(normalize(&domain), Ok(domain.clone()));
        }
    }

    #[test]
    fn an_accepted_domain_is_exactly_one_path_segment(input in any_domain()) {
        if let Ok(domain) = normalize(&input) {
            let endpoints = Cloud::Commercial.endpoints().unwrap();
            let url = request::machines(&endpoints, &domain, None).url;
            prop_assert_eq!(&url, &format!("{BASE}/api/domains/{domain}/machines"));
            let path = url.strip_prefix(BASE).unwrap();
            let segments: Vec<&str> = path.split('/').collect();
            prop_assert_eq!(segments, vec!["", "api", "domains", domain.as_str(), "machines"]);
        }
    }

    #[test]
    fn nothing_a_caller_passes_adds_a_segment_query_or_fragment(input in any_domain()) {
        if let Ok(domain) = normalize(&input) {
            prop_assert!(!domain.is_empty() && domain.len() <= 253);
            prop_assert!(domain.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"-._".contains(&b)), "{}", domain);
            prop_assert!(domain != "." && domain != ".." && !domain.starts_with('.') && !domain.ends_with('.'));
            prop_assert!(domain.split('.').all(|label| !label.is_empty() && label.len() <= 63));
        }
    }
}

#[test]
fn the_strategies_reach_both_outcomes() {
    // Guards the properties above against inputs that are never accepted
    // (which would make them vacuous) or never refused.
    use proptest::strategy::ValueTree;
    use proptest::test_runner::TestRunner;
    for strategy in [hostile_domain().boxed(), any_domain().boxed()] {
        let mut runner = TestRunner::deterministic();
        let outcomes: Vec<bool> = (0..2000)
            .map(|_| normalize(&strategy.new_tree(&mut runner).unwrap().current()).is_ok())
            .collect();
        let accepted = outcomes.iter().filter(|ok| **ok).count();
        assert!(
            (20..=1980).contains(&accepted),
            "{accepted} of 2000 accepted"
        );
    }
}
