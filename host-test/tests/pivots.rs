//! The lookups other than a domain (issue 25) through the built component:
//! the exact request of each route for tricky inputs, every invalid input
//! refused with nothing sent, the empty, 404 and 400 answers, the cap, and
//! the events of any machine list.

mod common;

use common::*;
use host_test::fake_tenant::{KNOWN_FILE, KNOWN_IP, KNOWN_USER};
use mde_connector_host::runtime::{Error, IpAt, Query, Schema, format_time, ip_query, now_ms};
use serde_json::Value;

const API: &str = "GET https://api.security.microsoft.com/api";

/// The API requests an instance sent (the token request left out).
fn api_requests(instance: &mde_connector_host::Instance) -> Vec<String> {
    sent(instance)
        .into_iter()
        .map(|(request, _)| request)
        .filter(|r| r.starts_with("GET "))
        .collect()
}

/// An hour ago, as RFC 3339: within the service's 30 days.
fn an_hour_ago() -> String {
    format_time(now_ms() - 3_600_000)
}

#[test]
fn file_machines_ask_for_a_lower_case_sha1() {
    let tenant = Tenant::new();
    let mut instance = tenant.instance(settings(demo_credentials()));
    let machines = instance
        .file_machines(&KNOWN_FILE.to_ascii_uppercase())
        .unwrap()
        .unwrap();
    assert_eq!(machines.len(), 2);
    assert_eq!(machines[0].id, "9a7d3c15e02b4f6e8d1c0b2a3f4e5d6c7b8a9f01");
    let unknown = "0".repeat(40);
    assert!(
        instance
            .file_machines(&unknown)
            .unwrap()
            .unwrap()
            .is_empty()
    );
    assert_eq!(
        api_requests(&instance),
        [
            format!("{API}/files/{KNOWN_FILE}/machines"),
            format!("{API}/files/{unknown}/machines"),
        ]
    );
}

#[test]
fn user_machines_percent_encode_the_name() {
    let tenant = Tenant::new();
    let mut instance = tenant.instance(settings(demo_credentials()));
    let machines = instance.user_machines(KNOWN_USER).unwrap().unwrap();
    assert_eq!(machines.len(), 1);
    // An unknown user has no machines: a 200 with none.
    let none = instance.user_machines("first last%;=&").unwrap().unwrap();
    assert!(none.is_empty());
    assert_eq!(
        api_requests(&instance),
        [
            format!("{API}/users/user1/machines"),
            format!("{API}/users/first%20last%25%3B%3D%26/machines"),
        ]
    );
}

#[test]
fn ip_machines_quote_the_address_but_not_the_time() {
    let tenant = Tenant::new();
    let mut instance = tenant.instance(settings(demo_credentials()));
    let at = an_hour_ago();
    let v4 = instance.ip_machines(KNOWN_IP, Some(&at)).unwrap().unwrap();
    assert_eq!(v4.len(), 1);
    // IPv6, written long and upper-case: sent in its canonical form.
    let v6 = instance
        .ip_machines("FE80:0:0:0:215:5DFF:FE07:0007", Some(&at))
        .unwrap()
        .unwrap();
    // fabrikam's host-0007 and the IDN domain's copy of it.
    assert_eq!(v6.len(), 2);
    let utc = at
        .strip_suffix(".000Z")
        .map_or(at.clone(), |s| format!("{s}Z"));
    assert_eq!(
        api_requests(&instance),
        [
            format!("{API}/machines/findbyip(ip='{KNOWN_IP}',timestamp={utc})"),
            format!("{API}/machines/findbyip(ip='fe80::215:5dff:fe07:7',timestamp={utc})"),
        ]
    );
    // No time: the host's now.
    instance.ip_machines(KNOWN_IP, None).unwrap().unwrap();
    let last = api_requests(&instance).pop().unwrap();
    assert!(
        last.contains(&format!("timestamp={}", &format_time(now_ms())[..13])),
        "{last}"
    );
}

#[test]
fn ip_machines_report_the_500_cap() {
    let tenant = Tenant::new();
    let mut instance = tenant.instance(settings(demo_credentials()));
    // Every demo machine but two has a loopback entry.
    let found = instance
        .lookup_query(&ip_query("127.0.0.1", None, now_ms()).unwrap())
        .unwrap()
        .unwrap();
    assert!(found.cap_reached);
    assert!(found.machines.len() >= 500);
    let warned = instance
        .state()
        .logs
        .iter()
        .any(|l| l.event == "result-cap-reached" && l.message.starts_with("ip 127.0.0.1 at "));
    assert!(warned, "{:?}", instance.state().logs);
}

#[test]
fn one_machine_by_id_or_name_and_none_when_unknown() {
    let tenant = Tenant::new();
    let mut instance = tenant.instance(settings(demo_credentials()));
    let id = "1f0e2d3c4b5a69788796a5b4c3d2e1f00f1e2d3c";
    let by_id = instance.machine(id).unwrap().unwrap().unwrap();
    assert_eq!(
        by_id.computer_dns_name.as_deref(),
        Some("web-02.dmz.contoso.com")
    );
    let by_name = instance
        .machine("web-02.dmz.contoso.com")
        .unwrap()
        .unwrap()
        .unwrap();
    assert_eq!(by_name.id, id);
    // The single entity's OData annotation is kept, as everything sent is.
    assert!(
        by_id
            .unmodelled
            .as_deref()
            .unwrap()
            .contains("@odata.context")
    );
    // 404 ResourceNotFound: none, not an error, and no warning.
    assert_eq!(instance.machine("no-such-machine").unwrap().unwrap(), None);
    assert!(!instance.state().logs.iter().any(|l| l.event == "not-found"));
    assert_eq!(
        api_requests(&instance),
        [
            format!("{API}/machines/{id}"),
            format!("{API}/machines/web-02.dmz.contoso.com"),
            format!("{API}/machines/no-such-machine"),
        ]
    );
}

#[test]
fn each_invalid_input_is_refused_with_no_request() {
    let tenant = Tenant::new();
    let mut instance = tenant.instance(settings(demo_credentials()));
    let kind = |e: Error| mde_connector::Error::from(e);
    let mut refusals: Vec<(&str, mde_connector::Error)> = Vec::new();
    let md5 = "d41d8cd98f00b204e9800998ecf8427e";
    refusals.push((
        "md5",
        kind(instance.file_machines(md5).unwrap().unwrap_err()),
    ));
    let sha256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
    refusals.push((
        "sha256",
        kind(instance.file_machines(sha256).unwrap().unwrap_err()),
    ));
    refusals.push((
        "upn",
        kind(
            instance
                .user_machines("user1@contoso.com")
                .unwrap()
                .unwrap_err(),
        ),
    ));
    for name in ["a/b", "a?b", "a#b", "..", "a\u{1}b"] {
        refusals.push((
            "user",
            kind(instance.user_machines(name).unwrap().unwrap_err()),
        ));
    }
    for id in ["../x", "a/b", "a?b", "a#b", "a\u{7f}b", ""] {
        refusals.push(("machine", kind(instance.machine(id).unwrap().unwrap_err())));
    }
    let at = an_hour_ago();
    for ip in [
        "fe80::1%eth0",
        "10.0.0.0/8",
        "contoso.com",
        "10.0.0.256",
        "[::1]",
    ] {
        refusals.push((
            "ip",
            kind(instance.ip_machines(ip, Some(&at)).unwrap().unwrap_err()),
        ));
        refusals.push((
            "ip-stats",
            kind(instance.ip_stats(ip, None).unwrap().unwrap_err()),
        ));
    }
    let future = format_time(now_ms() + 3_600_000);
    let old = format_time(now_ms() - 31 * 86_400_000);
    for time in ["yesterday", "2024-09-22", future.as_str(), old.as_str()] {
        refusals.push((
            "time",
            kind(
                instance
                    .ip_machines(KNOWN_IP, Some(time))
                    .unwrap()
                    .unwrap_err(),
            ),
        ));
    }
    for hours in [0, 721] {
        refusals.push((
            "look-back",
            kind(
                instance
                    .domain_stats("contoso.com", Some(hours))
                    .unwrap()
                    .unwrap_err(),
            ),
        ));
        refusals.push((
            "look-back",
            kind(
                instance
                    .ip_stats(KNOWN_IP, Some(hours))
                    .unwrap()
                    .unwrap_err(),
            ),
        ));
    }
    refusals.push((
        "domain",
        kind(
            instance
                .domain_stats("contoso.com/x", None)
                .unwrap()
                .unwrap_err(),
        ),
    ));

    assert!(
        instance.state().requests.is_empty(),
        "{:?}",
        sent(&instance)
    );
    for (what, e) in &refusals {
        let expected = match *what {
            "md5" | "sha256" => "invalid-file-hash",
            "upn" | "user" => "invalid-user-name",
            "machine" => "invalid-machine-id",
            "ip" | "ip-stats" => "invalid-ip",
            "time" => "invalid-time",
            "look-back" => "invalid-look-back",
            _ => "invalid-domain",
        };
        assert_eq!(e.kind(), expected, "{what}: {e}");
    }
    let said = |i: usize| refusals[i].1.to_string();
    assert!(
        said(0).contains("is an MD5") && said(0).contains("SHA-1 only"),
        "{}",
        said(0)
    );
    assert!(said(1).contains("is a SHA-256"), "{}", said(1));
    assert!(
        said(2).contains("give the account name: user1"),
        "{}",
        said(2)
    );
    let zone = refusals
        .iter()
        .find(|(w, _)| *w == "ip")
        .unwrap()
        .1
        .to_string();
    assert!(
        zone.contains("has a zone (%eth0); give the address alone: fe80::1"),
        "{zone}"
    );
    let messages: Vec<String> = refusals.iter().map(|(_, e)| e.to_string()).collect();
    assert!(
        messages.iter().any(|m| m.contains("is in the future")),
        "{messages:?}"
    );
    assert!(
        messages.iter().any(|m| m.contains("last 30 days only")),
        "{messages:?}"
    );
    assert!(
        messages.iter().any(|m| m.contains("CIDR /8")),
        "{messages:?}"
    );
}

#[test]
fn prevalence_under_either_name_and_for_the_unknown() {
    let tenant = Tenant::new();
    let mut instance = tenant.instance(settings(demo_credentials()));
    let contoso = instance
        .domain_stats("Contoso.COM", Some(48))
        .unwrap()
        .unwrap();
    assert_eq!(contoso.domain, "contoso.com");
    assert_eq!(contoso.look_back_hours, Some(48));
    assert_eq!(contoso.host.as_deref(), Some("contoso.com"));
    // Sent as `"orgPrevalence": "4070"`.
    assert_eq!(contoso.organization_prevalence, Some(4070));
    assert_eq!(
        contoso.org_first_seen.as_deref(),
        Some("2017-07-30T13:23:48Z")
    );
    let unknown = instance
        .domain_stats("unseen.example", None)
        .unwrap()
        .unwrap();
    assert_eq!(unknown.organization_prevalence, Some(0));
    assert_eq!(
        (unknown.org_first_seen, unknown.org_last_seen),
        (None, None)
    );

    let ip = instance.ip_stats(KNOWN_IP, None).unwrap().unwrap();
    // Sent as `"organizationPrevalence": 63515`.
    assert_eq!(ip.organization_prevalence, Some(63515));
    assert_eq!(ip.ip_address.as_deref(), Some(KNOWN_IP));
    let v6 = instance.ip_stats("FD00::0:1", Some(1)).unwrap().unwrap();
    assert_eq!(v6.ip, "fd00::1");
    assert_eq!(v6.organization_prevalence, Some(0));
    assert_eq!(
        api_requests(&instance),
        [
            format!("{API}/domains/contoso.com/stats?lookBackHours=48"),
            format!("{API}/domains/unseen.example/stats"),
            format!("{API}/ips/{KNOWN_IP}/stats"),
            format!("{API}/ips/fd00::1/stats?lookBackHours=1"),
        ]
    );
}

#[test]
fn the_services_400_and_403_are_errors_with_its_words() {
    let tenant = Tenant::new();
    let mut instance = tenant.instance(settings(demo_credentials()));
    tenant.fake.lock().unwrap().fail_next(403, None);
    let e = instance
        .domain_stats("contoso.com", None)
        .unwrap()
        .unwrap_err();
    assert!(matches!(e, Error::Forbidden(_)), "{e:?}");
    tenant.fake.lock().unwrap().fail_next(403, None);
    let e = instance.ip_stats(KNOWN_IP, None).unwrap().unwrap_err();
    assert!(matches!(e, Error::Forbidden(_)), "{e:?}");

    // The service's 400 for an old time (a host without the age check).
    let refused = json(
        400,
        r#"{"error":{"code":"InvalidRequestBody","message":"Timestamp must be within the last 30 days","target":"c-1"}}"#,
    );
    let mut replayed = replaying(mde_connector_host::Auth::HostManaged, vec![refused]);
    let e = replayed
        .lookup_query(&Query::Ip(IpAt {
            ip: KNOWN_IP.into(),
            at: an_hour_ago(),
        }))
        .unwrap()
        .unwrap_err();
    let said = mde_connector::Error::from(e).to_string();
    assert!(
        said.starts_with("api-error: API answered 400 InvalidRequestBody"),
        "{said}"
    );
    assert!(said.contains("within the last 30 days"), "{said}");
}

#[test]
fn query_texts_map_to_events_that_keep_the_query() {
    let tenant = Tenant::new();
    let mut instance = tenant.instance(settings(demo_credentials()));
    let found = instance
        .lookup_query_texts(&Query::File(KNOWN_FILE.to_ascii_uppercase()))
        .unwrap()
        .unwrap();
    assert_eq!(found.query, Query::File(KNOWN_FILE.into()));
    assert_eq!(found.machines.len(), 2);
    let ocsf = instance
        .query_events(Schema::Ocsf, &found, 0)
        .unwrap()
        .unwrap();
    let event: Value = serde_json::from_str(&ocsf[0]).unwrap();
    assert_eq!(event["unmapped"]["queriedFile"], KNOWN_FILE);
    assert_eq!(event["class_uid"], 5001);
    assert!(event["message"].as_str().unwrap().contains(KNOWN_FILE));

    let at = an_hour_ago();
    let by_ip = instance
        .lookup_query_texts(&ip_query(KNOWN_IP, Some(&at), now_ms()).unwrap())
        .unwrap()
        .unwrap();
    let ecs = instance
        .query_events(Schema::Ecs, &by_ip, 0)
        .unwrap()
        .unwrap();
    let document: Value = serde_json::from_str(&ecs[0]).unwrap();
    assert_eq!(document["mde"]["queriedIp"], KNOWN_IP);
    assert!(
        document["mde"]["queriedAt"]
            .as_str()
            .unwrap()
            .ends_with('Z')
    );
    assert_eq!(
        document["host"]["id"],
        "9a7d3c15e02b4f6e8d1c0b2a3f4e5d6c7b8a9f01"
    );

    let user = instance
        .lookup_query_texts(&Query::User(KNOWN_USER.into()))
        .unwrap()
        .unwrap();
    let ecs = instance
        .query_events(Schema::Ecs, &user, 0)
        .unwrap()
        .unwrap();
    let document: Value = serde_json::from_str(&ecs[0]).unwrap();
    assert_eq!(document["mde"]["queriedUser"], KNOWN_USER);

    let one = instance
        .lookup_query_texts(&Query::Machine("ws-0142.corp.contoso.com".into()))
        .unwrap()
        .unwrap();
    assert_eq!(one.machines.len(), 1);
    let ocsf = instance
        .query_events(Schema::Ocsf, &one, 0)
        .unwrap()
        .unwrap();
    let event: Value = serde_json::from_str(&ocsf[0]).unwrap();
    assert_eq!(
        event["unmapped"]["queriedMachine"],
        "ws-0142.corp.contoso.com"
    );
    assert_eq!(
        event["device"]["uid"],
        "9a7d3c15e02b4f6e8d1c0b2a3f4e5d6c7b8a9f01"
    );
}

#[test]
fn inputs_over_1_kib_are_refused_by_the_host() {
    let tenant = Tenant::new();
    let mut instance = tenant.instance(settings(demo_credentials()));
    let long = "a".repeat(2 * 1024);
    let errors = [
        instance.file_machines(&long).unwrap().unwrap_err(),
        instance.user_machines(&long).unwrap().unwrap_err(),
        instance.ip_machines(&long, None).unwrap().unwrap_err(),
        instance.machine(&long).unwrap().unwrap_err(),
        instance.ip_stats(&long, None).unwrap().unwrap_err(),
        instance
            .lookup_query(&Query::User(long.clone()))
            .unwrap()
            .unwrap_err(),
    ];
    for e in errors {
        let said = mde_connector::Error::from(e).to_string();
        assert!(said.contains("the host takes at most 1024"), "{said}");
    }
    assert!(instance.state().requests.is_empty());
}

#[test]
fn a_domain_through_lookup_query_texts_is_lookup_texts() {
    let tenant = Tenant::new();
    let mut instance = tenant.instance(settings(demo_credentials()));
    let old = instance.lookup_texts("Contoso.COM").unwrap().unwrap();
    let new = instance
        .lookup_query_texts(&Query::Domain("Contoso.COM".into()))
        .unwrap()
        .unwrap();
    assert_eq!(new.query, Query::Domain(old.domain.clone()));
    assert_eq!(
        (&new.machines, new.cap_reached),
        (&old.machines, old.cap_reached)
    );
    for schema in [Schema::Ocsf, Schema::Ecs] {
        let at = 1_764_000_000_123;
        assert_eq!(
            instance.query_events(schema, &new, at).unwrap(),
            instance.events(schema, &old, at).unwrap()
        );
    }
}
