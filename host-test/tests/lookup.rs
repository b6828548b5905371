//! Domain lookups through the built component: what it asks for and what it answers.

mod common;

use common::*;
use mde_connector_host::runtime::Level;
use mde_connector_host::runtime::mde::connector::types::{
    Error, HealthStatus, OnboardingStatus, RiskScore, Service,
};
use mde_connector_host::{Auth, Cloud, Endpoints, Geo, Settings};

#[test]
fn finds_the_machines_of_a_domain_with_a_fresh_token() {
    let tenant = Tenant::new();
    let mut instance = tenant.instance(settings(demo_credentials()));
    let machines = instance.domain_machines("contoso.com").unwrap().unwrap();

    assert_eq!(machines.len(), 3);
    let ws = &machines[0];
    assert_eq!(ws.id, "9a7d3c15e02b4f6e8d1c0b2a3f4e5d6c7b8a9f01");
    assert_eq!(
        ws.computer_dns_name.as_deref(),
        Some("ws-0142.corp.contoso.com")
    );
    assert_eq!(ws.os_build, Some(22631));
    assert_eq!(ws.health_status, Some(HealthStatus::Active));
    assert_eq!(ws.risk_score, Some(RiskScore::Medium));
    assert_eq!(ws.rbac_group_id.as_deref(), Some("0"));
    assert_eq!(ws.rbac_group_name, None);
    let ips = ws.ip_addresses.as_ref().unwrap();
    assert_eq!(ips[1].mac_address, None);
    assert_eq!(ips[1].type_.as_deref(), Some("SoftwareLoopback"));

    assert_eq!(
        sent(&instance),
        [
            (TOKEN_URL.to_owned(), None),
            (
                machines_url("contoso.com"),
                Some("Bearer fake-access-token-1".to_owned())
            ),
        ]
    );
    let get = &instance.state().requests[1];
    assert_eq!(get.header("accept"), Some("application/json"));
    assert_eq!(get.body, None);
}

#[test]
fn live_quirks_pass_through() {
    let tenant = Tenant::new();
    let mut instance = tenant.instance(settings(demo_credentials()));
    let machines = instance.domain_machines("contoso.com").unwrap().unwrap();
    let (linux, mac) = (&machines[1], &machines[2]);
    // rbacGroupId as a number and as a string.
    assert_eq!(linux.rbac_group_id.as_deref(), Some("140"));
    assert_eq!(mac.rbac_group_id.as_deref(), Some("140"));
    // An onboarding status in the reference's lower case.
    assert_eq!(linux.onboarding_status, Some(OnboardingStatus::Onboarded));
    // A null osBuild, an empty ipAddress, VM metadata.
    assert_eq!(linux.os_build, None);
    assert_eq!(
        linux.ip_addresses.as_ref().unwrap()[1]
            .ip_address
            .as_deref(),
        Some("")
    );
    assert_eq!(
        linux
            .vm_metadata
            .as_ref()
            .unwrap()
            .cloud_provider
            .as_deref(),
        Some("Azure")
    );
    // A health status the reference does not list, and absent fields.
    assert_eq!(
        mac.health_status,
        Some(HealthStatus::Other("Maintenance".into()))
    );
    assert_eq!(mac.agent_version, None);
    assert_eq!(mac.machine_tags.as_deref(), Some(&[][..]));
}

#[test]
fn normalises_the_domain_before_asking() {
    let tenant = Tenant::new();
    let mut instance = tenant.instance(settings(demo_credentials()));
    let found = instance.lookup("  Bücher.EXAMPLE.  ").unwrap().unwrap();
    assert_eq!(found.domain, "xn--bcher-kva.example");
    assert_eq!(found.machines.len(), 1);
    assert_eq!(sent(&instance)[1].0, machines_url("xn--bcher-kva.example"));
}

#[test]
fn an_invalid_domain_is_refused_without_any_request() {
    let tenant = Tenant::new();
    let mut instance = tenant.instance(settings(demo_credentials()));
    for (input, says) in [
        ("", "empty"),
        ("contoso.com/../../machines", "'/'"),
        ("contoso.com?$top=1", "'?'"),
        ("contoso.com#x", "'#'"),
        ("contoso%2ecom", "'%'"),
        ("contoso\\com", "'\\\\'"),
        ("admin@contoso.com", "'@'"),
        ("contoso.com:443", "':'"),
        ("conto so.com", "whitespace"),
        ("contoso\r\n.com", "whitespace"),
        ("contoso\u{0}.com", "U+0000"),
        ("contoso..com", "empty label"),
        ("https://contoso.com/", "looks like a URL"),
        ("contoso\u{ff0f}com", "not a valid domain name"),
    ] {
        match instance.domain_machines(input).unwrap() {
            Err(Error::InvalidDomain(reason)) => {
                assert!(reason.contains(says), "{input:?}: {reason}")
            }
            other => panic!("{input:?}: expected invalid-domain, got {other:?}"),
        }
    }
    assert!(instance.state().requests.is_empty());
}

#[test]
fn keeps_the_token_for_later_calls() {
    let tenant = Tenant::new();
    let mut instance = tenant.instance(settings(demo_credentials()));
    instance.domain_machines("contoso.com").unwrap().unwrap();
    instance.domain_machines("fabrikam.com").unwrap().unwrap();
    let requests = sent(&instance);
    assert_eq!(requests.len(), 3, "{requests:?}");
    assert_eq!(requests[2].0, machines_url("fabrikam.com"));
    assert_eq!(requests[2].1.as_deref(), Some("Bearer fake-access-token-1"));
}

#[test]
fn a_refused_token_is_renewed_once_and_the_call_repeated() {
    let tenant = Tenant::new();
    let mut instance = tenant.instance(settings(demo_credentials()));
    instance.domain_machines("contoso.com").unwrap().unwrap();
    tenant.fake.lock().unwrap().expire_tokens();
    let machines = instance.domain_machines("contoso.com").unwrap().unwrap();
    assert_eq!(machines.len(), 3);
    assert_eq!(
        sent(&instance)[2..],
        [
            (
                machines_url("contoso.com"),
                Some("Bearer fake-access-token-1".to_owned())
            ),
            (TOKEN_URL.to_owned(), None),
            (
                machines_url("contoso.com"),
                Some("Bearer fake-access-token-2".to_owned())
            ),
        ]
    );
    let logs = &instance.state().logs;
    assert!(logs.iter().any(|l| l.event == "token-refresh"));
}

#[test]
fn a_second_401_is_reported_not_retried_again() {
    let token = r#"{"token_type":"Bearer","expires_in":3599,"access_token":"t1"}"#;
    let refused = json(
        401,
        r#"{"error":{"code":"Unauthorized","message":"Token expired","target":"c-1"}}"#,
    );
    let mut instance = replaying(
        demo_credentials(),
        vec![
            json(200, token),
            json(200, r#"{"value":[]}"#),
            refused.clone(),
            json(200, token),
            refused,
        ],
    );
    instance.domain_machines("contoso.com").unwrap().unwrap();
    let e = instance
        .domain_machines("contoso.com")
        .unwrap()
        .unwrap_err();
    let Error::Unauthorized(details) = e else {
        panic!("expected unauthorized, got {e:?}")
    };
    assert_eq!(details.service, Service::Api);
    assert_eq!(details.code.as_deref(), Some("Unauthorized"));
    assert_eq!(details.correlation_id.as_deref(), Some("c-1"));
    assert_eq!(instance.state().requests.len(), 5);
}

#[test]
fn a_fresh_token_that_is_refused_is_not_fetched_again() {
    let mut instance = replaying(
        demo_credentials(),
        vec![
            json(
                200,
                r#"{"token_type":"Bearer","access_token":"wrong-audience"}"#,
            ),
            json(
                401,
                r#"{"error":{"code":"Unauthorized","message":"wrong audience"}}"#,
            ),
        ],
    );
    let e = instance
        .domain_machines("contoso.com")
        .unwrap()
        .unwrap_err();
    assert!(matches!(e, Error::Unauthorized(_)), "{e:?}");
    assert_eq!(instance.state().requests.len(), 2);
}

#[test]
fn a_failed_grant_carries_the_identity_platforms_words_but_not_the_secret() {
    let tenant = Tenant::new();
    let mut wrong = demo_credentials();
    if let Auth::ClientCredentials(c) = &mut wrong {
        c.client_secret = "not-the-secret-CANARY".into();
    }
    let mut instance = tenant.instance(settings(wrong));
    let e = instance
        .domain_machines("contoso.com")
        .unwrap()
        .unwrap_err();
    let Error::Unauthorized(details) = &e else {
        panic!("expected unauthorized, got {e:?}")
    };
    assert_eq!(details.service, Service::IdentityPlatform);
    assert_eq!(details.status, 401);
    assert_eq!(details.code.as_deref(), Some("invalid_client"));
    assert!(
        details
            .message
            .as_deref()
            .unwrap()
            .starts_with("AADSTS7000215")
    );
    assert!(details.correlation_id.is_some());
    assert!(!format!("{e:?}").contains("CANARY"));
    assert!(!format!("{:?}", instance.state().logs).contains("CANARY"));
    // The token request only: no API call without a token.
    assert_eq!(sent(&instance), [(TOKEN_URL.to_owned(), None)]);
}

#[test]
fn an_unknown_tenant_is_unauthorized_with_its_code() {
    let tenant = Tenant::new();
    let mut creds = demo_credentials();
    if let Auth::ClientCredentials(c) = &mut creds {
        c.tenant_id = "contoso.onmicrosoft.com".into();
    }
    let mut instance = tenant.instance(settings(creds));
    let e = instance
        .domain_machines("contoso.com")
        .unwrap()
        .unwrap_err();
    let Error::Unauthorized(details) = e else {
        panic!("expected unauthorized, got {e:?}")
    };
    assert_eq!(details.code.as_deref(), Some("invalid_request"));
    assert!(details.message.unwrap().contains("AADSTS90002"));
}

#[test]
fn a_bearer_token_is_sent_as_given() {
    let mut instance = replaying(
        Auth::BearerToken("token-from-host".into()),
        vec![json(200, r#"{"value":[]}"#)],
    );
    instance.domain_machines("contoso.com").unwrap().unwrap();
    assert_eq!(
        sent(&instance),
        [(
            machines_url("contoso.com"),
            Some("Bearer token-from-host".to_owned())
        )]
    );
}

#[test]
fn host_managed_auth_sends_no_authorization() {
    let mut instance = replaying(Auth::HostManaged, vec![json(200, r#"{"value":[]}"#)]);
    instance.domain_machines("contoso.com").unwrap().unwrap();
    assert_eq!(sent(&instance), [(machines_url("contoso.com"), None)]);
}

#[test]
fn each_cloud_uses_its_own_hosts_and_scope() {
    let gov_login = "https://login.microsoftonline.us";
    let com_login = "https://login.microsoftonline.com";
    let cases = [
        (
            Cloud::Commercial,
            "https://api.security.microsoft.com",
            com_login,
            "https%3A%2F%2Fapi.securitycenter.microsoft.com%2F.default",
        ),
        (
            Cloud::Geo(Geo::Eu),
            "https://eu.api.security.microsoft.com",
            com_login,
            "https%3A%2F%2Fapi.securitycenter.microsoft.com%2F.default",
        ),
        (
            Cloud::Geo(Geo::Swa),
            "https://swa.api.security.microsoft.com",
            com_login,
            "https%3A%2F%2Fapi.securitycenter.microsoft.com%2F.default",
        ),
        (
            Cloud::Gcc,
            "https://api-gcc.securitycenter.microsoft.us",
            com_login,
            "https%3A%2F%2Fapi-gcc.securitycenter.microsoft.us%2F.default",
        ),
        (
            Cloud::GccHigh,
            "https://api-gov.securitycenter.microsoft.us",
            gov_login,
            "https%3A%2F%2Fapi-gov.securitycenter.microsoft.us%2F.default",
        ),
        (
            Cloud::Dod,
            "https://api-gov.securitycenter.microsoft.us",
            gov_login,
            "https%3A%2F%2Fapi-gov.securitycenter.microsoft.us%2F.default",
        ),
        (
            Cloud::Custom(Endpoints {
                api_base: "https://api.example.test/".into(),
                login_host: "https://login.example.test".into(),
                scope: "https://api.example.test/.default".into(),
            }),
            "https://api.example.test",
            "https://login.example.test",
            "https%3A%2F%2Fapi.example.test%2F.default",
        ),
    ];
    for (cloud, api, login, scope) in cases {
        let tenant = Tenant::new();
        let mut instance = tenant.instance(Settings {
            cloud: cloud.clone(),
            auth: demo_credentials(),
        });
        instance.domain_machines("contoso.com").unwrap().unwrap();
        let requests = &instance.state().requests;
        assert_eq!(
            requests[0].url,
            format!("{login}/8f1c2d3e-4b5a-6978-8a9b-0c1d2e3f4a5b/oauth2/v2.0/token"),
            "{cloud:?}"
        );
        let body = String::from_utf8(requests[0].body.clone().unwrap()).unwrap();
        assert!(
            body.starts_with("grant_type=client_credentials&client_id="),
            "{body}"
        );
        assert!(
            body.ends_with(&format!("&scope={scope}")),
            "{cloud:?}: {body}"
        );
        assert_eq!(
            requests[0].header("content-type"),
            Some("application/x-www-form-urlencoded")
        );
        assert_eq!(
            requests[1].url,
            format!("{api}/api/domains/contoso.com/machines"),
            "{cloud:?}"
        );
    }
}

#[test]
fn invalid_settings_are_refused_without_any_request() {
    // A cloud the host cannot build its allow-list for is refused when the
    // instance is made, with the component's own reason (the same core check).
    let bad_cloud = Settings {
        cloud: Cloud::Custom(Endpoints {
            api_base: "https://api.example.test/path".into(),
            login_host: "https://login.example.test".into(),
            scope: "s".into(),
        }),
        auth: Auth::HostManaged,
    };
    let refused = runtime()
        .instantiate(bad_cloud, host_test::replay::Replay::new([]))
        .err()
        .expect("the host refuses the cloud");
    assert!(
        refused
            .to_string()
            .starts_with("invalid-settings: api base"),
        "{refused:#}"
    );
    // Credentials that cannot be sent are refused by the component.
    for auth in [
        Auth::BearerToken(String::new()),
        Auth::BearerToken("two words".into()),
    ] {
        let mut instance = replaying(auth.clone(), vec![]);
        let e = instance
            .domain_machines("contoso.com")
            .unwrap()
            .unwrap_err();
        assert!(matches!(e, Error::InvalidSettings(_)), "{auth:?}: {e:?}");
        assert!(instance.state().requests.is_empty());
    }
}

#[test]
fn an_unknown_domain_has_no_machines() {
    let tenant = Tenant::new();
    let mut instance = tenant.instance(settings(demo_credentials()));
    let found = instance.lookup("nothing-here.example").unwrap().unwrap();
    assert!(found.machines.is_empty());
    assert!(!found.cap_reached);
}

#[test]
fn a_404_on_this_route_means_no_machines() {
    let tenant = Tenant::new();
    let mut instance = tenant.instance(settings(demo_credentials()));
    assert!(
        instance
            .domain_machines("legacy.example")
            .unwrap()
            .unwrap()
            .is_empty()
    );
    assert_eq!(tenant.fake.lock().unwrap().requests.len(), 2);
}

#[test]
fn five_hundred_machines_reach_the_cap_and_say_so() {
    let tenant = Tenant::new();
    let mut instance = tenant.instance(settings(demo_credentials()));
    let found = instance.lookup("fabrikam.com").unwrap().unwrap();
    assert_eq!(found.machines.len(), 500);
    assert!(found.cap_reached);
    let warning = instance
        .state()
        .logs
        .iter()
        .find(|l| l.event == "result-cap-reached")
        .expect("a cap record");
    assert_eq!(warning.level, Level::Warn);
    assert!(warning.message.contains("fabrikam.com"));

    let small = instance.lookup("contoso.com").unwrap().unwrap();
    assert!(!small.cap_reached);
}

#[test]
fn the_services_error_envelope_becomes_a_typed_error() {
    let tenant = Tenant::new();
    let mut instance = tenant.instance(settings(demo_credentials()));
    // Well-formed for the component, refused by the service.
    let e = instance.domain_machines("intranet").unwrap().unwrap_err();
    let Error::ApiError(details) = e else {
        panic!("expected api-error, got {e:?}")
    };
    assert_eq!(details.status, 400);
    assert_eq!(details.code.as_deref(), Some("InvalidDomainName"));
    assert_eq!(
        details.message.as_deref(),
        Some("Domain name intranet is invalid")
    );
    assert_eq!(details.correlation_id.as_deref().map(str::len), Some(36));
}

#[test]
fn forbidden_is_its_own_case() {
    let mut instance = replaying(
        Auth::HostManaged,
        vec![json(
            403,
            r#"{"error":{"code":"Forbidden","message":"Missing application roles. API required roles: Machine.Read.All","target":"c-9"}}"#,
        )],
    );
    let e = instance
        .domain_machines("contoso.com")
        .unwrap()
        .unwrap_err();
    let Error::Forbidden(details) = e else {
        panic!("expected forbidden, got {e:?}")
    };
    assert_eq!(details.code.as_deref(), Some("Forbidden"));
    assert!(details.message.unwrap().contains("Machine.Read.All"));
}

#[test]
fn the_rate_limit_is_reported_with_retry_after() {
    let tenant = Tenant::new();
    let mut instance = tenant.instance(settings(demo_credentials()));
    for _ in 0..100 {
        instance.domain_machines("contoso.com").unwrap().unwrap();
    }
    let e = instance
        .domain_machines("contoso.com")
        .unwrap()
        .unwrap_err();
    let Error::RateLimited(limit) = e else {
        panic!("expected rate-limited, got {e:?}")
    };
    assert_eq!(limit.retry_after_seconds, Some(60));
    assert_eq!(limit.details.code.as_deref(), Some("TooManyRequests"));
    // The component neither slept nor retried: one request for the refused call.
    assert_eq!(instance.state().requests.len(), 1 + 101);

    tenant.clock.advance(std::time::Duration::from_secs(60));
    assert_eq!(
        instance
            .domain_machines("contoso.com")
            .unwrap()
            .unwrap()
            .len(),
        3
    );
}

#[test]
fn a_retry_after_that_is_not_seconds_is_left_out() {
    for (value, expected) in [
        ("120", Some(120)),
        (" 7 ", Some(7)),
        ("Wed, 21 Oct 2026 07:28:00 GMT", None),
        ("-5", None),
        ("99999999999999999999999", Some(86_400)), // clamped to a day
    ] {
        let mut instance = replaying(
            Auth::HostManaged,
            vec![answer(429, &[("Retry-After", value)], "")],
        );
        let e = instance
            .domain_machines("contoso.com")
            .unwrap()
            .unwrap_err();
        let Error::RateLimited(limit) = e else {
            panic!("{value}: expected rate-limited, got {e:?}")
        };
        assert_eq!(limit.retry_after_seconds, expected, "{value}");
    }
}

#[test]
fn server_errors_are_service_unavailable() {
    for (status, body) in [
        (
            500,
            r#"{"error":{"code":"InternalServerError","message":"Something went wrong","target":"c-5"}}"#,
        ),
        (502, "<html><body>Bad Gateway</body></html>"),
        (503, ""),
    ] {
        let mut instance = replaying(Auth::HostManaged, vec![json(status, body)]);
        let e = instance
            .domain_machines("contoso.com")
            .unwrap()
            .unwrap_err();
        let Error::ServiceUnavailable(later) = e else {
            panic!("{status}: expected service-unavailable, got {e:?}")
        };
        assert_eq!(later.details.status, status);
        assert_eq!(later.retry_after_seconds, None);
    }
}

#[test]
fn retry_after_on_a_503_is_kept() {
    let mut instance = replaying(
        Auth::HostManaged,
        vec![answer(503, &[("Retry-After", "120")], "")],
    );
    let e = instance
        .domain_machines("contoso.com")
        .unwrap()
        .unwrap_err();
    let Error::ServiceUnavailable(later) = e else {
        panic!("expected service-unavailable, got {e:?}")
    };
    assert_eq!(later.retry_after_seconds, Some(120));
    assert_eq!(later.details.status, 503);
}

#[test]
fn answers_that_are_not_the_expected_json_are_invalid_responses() {
    let cases: [(u16, &[u8], &str); 6] = [
        (
            200,
            b"<!DOCTYPE html><html><title>Sign in</title></html>",
            "not the expected JSON",
        ),
        (200, b"", "empty"),
        (200, b"{\"value\": [{\"id\": \"a\"", "not the expected JSON"),
        (
            200,
            b"{\"value\": {\"id\": \"a\"}}",
            "not the expected JSON",
        ),
        (200, b"{\"value\": null}", "no \"value\""),
        (200, b"{\"value\": [\xff\xfe]}", "not UTF-8"),
    ];
    for (status, body, says) in cases {
        let mut instance = replaying(Auth::HostManaged, vec![answer(status, &[], body)]);
        let e = instance
            .domain_machines("contoso.com")
            .unwrap()
            .unwrap_err();
        let Error::InvalidResponse(invalid) = e else {
            panic!("{body:?}: expected invalid-response, got {e:?}")
        };
        assert!(
            invalid.reason.contains(says),
            "{body:?}: {}",
            invalid.reason
        );
        assert_eq!(invalid.status, status);
        assert!(invalid.excerpt.chars().count() <= 200);
    }
}

#[test]
fn an_error_status_without_the_envelope_is_an_invalid_response() {
    let mut instance = replaying(
        Auth::HostManaged,
        vec![answer(400, &[], "<html>\u{1b}[31mproxy says no</html>")],
    );
    let e = instance
        .domain_machines("contoso.com")
        .unwrap()
        .unwrap_err();
    let Error::InvalidResponse(invalid) = e else {
        panic!("expected invalid-response, got {e:?}")
    };
    assert_eq!(invalid.status, 400);
    assert_eq!(invalid.excerpt, "<html>\\u{1b}[31mproxy says no</html>");
}

#[test]
fn unknown_fields_are_ignored() {
    let body = r#"{"@odata.context":"x","@odata.count":1,"value":[{"id":"a","newField":{"deep":[1,2]},"riskScore":"Critical"}]}"#;
    let mut instance = replaying(Auth::HostManaged, vec![json(200, body)]);
    let machines = instance.domain_machines("contoso.com").unwrap().unwrap();
    assert_eq!(machines[0].id, "a");
    assert_eq!(
        machines[0].risk_score,
        Some(RiskScore::Other("Critical".into()))
    );
}

#[test]
fn a_transport_failure_is_passed_on() {
    use mde_connector_host::runtime::TransportError;
    use mde_connector_host::transport::FnTransport;
    let mut instance = instance(
        settings(Auth::HostManaged),
        FnTransport(|_: &_| Err(TransportError::Timeout)),
    );
    let e = instance
        .domain_machines("contoso.com")
        .unwrap()
        .unwrap_err();
    assert!(
        matches!(e, Error::Transport(TransportError::Timeout)),
        "{e:?}"
    );
}

#[test]
fn the_instance_keeps_serving_after_errors() {
    let tenant = Tenant::new();
    let mut instance = tenant.instance(settings(demo_credentials()));
    assert!(instance.domain_machines("bad/domain").unwrap().is_err());
    assert!(instance.domain_machines("intranet").unwrap().is_err());
    assert_eq!(
        instance
            .domain_machines("contoso.com")
            .unwrap()
            .unwrap()
            .len(),
        3
    );
}
