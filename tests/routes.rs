//! Issue 25's property: no input to any lookup produces a URL outside
//! `{api-base}/api/`, a path other than its route's, or a query other than
//! the one the route defines. Each URL is read back by a WHATWG URL parser
//! (as proxies and servers read it), so dot segments, encoded or not, and
//! stray `?` or `#` would show.

use mde_connector::routes::{self, Query};
use mde_connector::settings::Cloud;
use proptest::prelude::*;

/// Pieces an attacker would try in a path segment.
fn hostile_piece() -> impl Strategy<Value = &'static str> {
    prop::sample::select(vec![
        "a",
        "user1",
        "0991a395da64e1c5fbe8732ed11e6be064081d9f",
        "10.1.2.3",
        "fe80::1",
        "::",
        "ffff",
        ".",
        "..",
        "/",
        "?",
        "#",
        "%",
        "%2e",
        "%2E",
        "%2f",
        "%3f",
        "\\",
        "@",
        ":",
        "'",
        "(",
        ")",
        ",",
        "=",
        "&",
        ";",
        "+",
        " ",
        "\t",
        "\n",
        "\r",
        "\u{0}",
        "\u{7f}",
        "\u{85}",
        "\u{ff0f}",
        "\u{ff0e}",
        "\u{2215}",
        "\u{3002}",
        "é",
        "例",
        "../",
        "api",
        "machines",
        "https://",
        "lookBackHours=1",
        "timestamp=",
        "2024-09-22T08:00:00Z",
        "Z",
        "T",
        "-",
        "[",
        "]",
        "%eth0",
        "/24",
    ])
}

fn hostile() -> impl Strategy<Value = String> {
    prop_oneof![
        prop::collection::vec(hostile_piece(), 1..10).prop_map(|p| p.concat()),
        any::<String>(),
    ]
}

fn query() -> impl Strategy<Value = Query> {
    prop_oneof![
        hostile().prop_map(Query::Domain),
        hostile().prop_map(Query::File),
        hostile().prop_map(Query::User),
        hostile().prop_map(Query::Machine),
        (hostile(), hostile()).prop_map(|(ip, at)| Query::Ip { ip, at }),
        (
            prop::sample::select(vec!["10.1.2.3", "FE80::0:1", "::ffff:10.0.0.1"]),
            hostile()
        )
            .prop_map(|(ip, at)| Query::Ip { ip: ip.into(), at }),
    ]
}

const BASE: &str = "https://api.security.microsoft.com";

/// The URL of `path`, read back: its path segments and its query.
fn read_back(path: &str) -> (Vec<String>, Option<String>) {
    let url = url::Url::parse(&format!("{BASE}{path}")).expect("a URL");
    assert_eq!(url.origin().ascii_serialization(), BASE);
    assert_eq!(url.fragment(), None);
    let segments = url
        .path_segments()
        .expect("a path")
        .map(str::to_owned)
        .collect();
    (segments, url.query().map(str::to_owned))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(4096))]

    #[test]
    fn a_machine_list_stays_on_its_route(query in query()) {
        let Ok(normalized) = query.normalized() else { return Ok(()) };
        let path = normalized.route().path;
        // The parser changes nothing: no dot segment, nothing to escape.
        let url = url::Url::parse(&format!("{BASE}{path}")).unwrap();
        prop_assert_eq!(url.path(), path.as_str());
        let (segments, query_part) = read_back(&path);
        prop_assert_eq!(query_part, None);
        prop_assert_eq!(&segments[0], "api");
        let shape: Vec<&str> = segments.iter().map(String::as_str).collect();
        match &normalized {
            Query::Domain(_) => prop_assert!(matches!(shape[..], ["api", "domains", _, "machines"]), "{path}"),
            Query::File(sha1) => {
                prop_assert!(sha1.len() == 40 && sha1.bytes().all(|b| b.is_ascii_hexdigit()));
                prop_assert_eq!(&shape[..], &["api", "files", sha1.as_str(), "machines"][..]);
            }
            Query::User(_) => prop_assert!(matches!(shape[..], ["api", "users", _, "machines"]), "{path}"),
            Query::Machine(_) => prop_assert!(matches!(shape[..], ["api", "machines", _]), "{path}"),
            Query::Ip { ip, at } => {
                prop_assert!(ip.parse::<std::net::IpAddr>().is_ok());
                prop_assert!(at.ends_with('Z'));
                let expected = format!("findbyip(ip='{ip}',timestamp={at})");
                prop_assert_eq!(&shape[..], &["api", "machines", expected.as_str()][..]);
            }
        }
        for segment in &segments {
            prop_assert!(segment != "." && segment != ".." && !segment.is_empty(), "{path}");
            prop_assert!(!segment.to_ascii_lowercase().contains("%2e"), "{path}");
        }
    }

    #[test]
    fn prevalence_stays_on_its_route(value in hostile(), hours in prop::option::of(any::<u32>())) {
        if let (Ok(domain), Ok(hours)) = (
            mde_connector::domain::normalize(&value),
            mde_connector::indicator::look_back_hours(hours),
        ) {
            let (segments, query) = read_back(&routes::domain_stats(&domain, hours).path);
            prop_assert_eq!(segments, vec!["api".to_owned(), "domains".into(), domain, "stats".into()]);
            prop_assert_eq!(query, hours.map(|h| format!("lookBackHours={h}")));
        }
        if let (Ok(ip), Ok(hours)) = (
            mde_connector::indicator::ip(&value),
            mde_connector::indicator::look_back_hours(hours),
        ) {
            let (segments, query) = read_back(&routes::ip_stats(&ip, hours).path);
            prop_assert_eq!(segments, vec!["api".to_owned(), "ips".into(), ip, "stats".into()]);
            prop_assert_eq!(query, hours.map(|h| format!("lookBackHours={h}")));
        }
    }
}

#[test]
fn the_strategy_reaches_every_route_accepted_and_refused() {
    use proptest::strategy::ValueTree;
    use proptest::test_runner::TestRunner;
    let mut runner = TestRunner::deterministic();
    let mut seen = std::collections::BTreeSet::new();
    for _ in 0..20_000 {
        let query = query().new_tree(&mut runner).unwrap().current();
        let accepted = query.normalized().is_ok();
        seen.insert((query.lookup().name(), accepted));
    }
    for lookup in [
        "domain-machines",
        "file-machines",
        "user-machines",
        "ip-machines",
        "machine",
    ] {
        assert!(
            seen.contains(&(lookup, true)),
            "{lookup} never accepted: {seen:?}"
        );
        assert!(
            seen.contains(&(lookup, false)),
            "{lookup} never refused: {seen:?}"
        );
    }
    // The endpoints the paths are joined to are the cloud's own.
    assert_eq!(Cloud::Commercial.endpoints().unwrap().api_base, BASE);
}
