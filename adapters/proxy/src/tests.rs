use super::*;
use mde_connector::error::{InvalidResponse, RetryLater, Service, ServiceError};
use mde_router::Output;
use mde_router::query::Query;
use std::cell::RefCell;

/// The composition, faked: one answer for every lookup, and the lookups made.
struct Fake {
    problem: Option<String>,
    answer: Result<Output, Failure>,
    /// Input, format and the lookup's name.
    asked: RefCell<Vec<(String, Format, &'static str)>>,
}

impl Fake {
    fn answering(answer: Result<Output, Failure>) -> Self {
        Fake {
            problem: None,
            answer,
            asked: RefCell::default(),
        }
    }

    fn failing(e: Error) -> Self {
        Fake::answering(Err(Failure::Lookup(e)))
    }
}

impl Imports for Fake {
    fn settings_problem(&self) -> Option<String> {
        self.problem.clone()
    }

    fn look_up(&self, query: &Query, format: Format) -> Result<Output, Failure> {
        let asked = (query.input().to_owned(), format, query.lookup().name());
        self.asked.borrow_mut().push(asked);
        self.answer.clone()
    }

    fn redact(&self, text: &str) -> String {
        text.replace("S3CRET", "[redacted]")
    }
}

fn machines(cap_reached: bool) -> Fake {
    Fake::answering(Ok(Output {
        body: b"[\n{\"id\":\"a\"}\n]\n".to_vec(),
        cap_reached,
        cached_age: None,
    }))
}

fn json(reply: &Reply) -> Value {
    serde_json::from_slice(&reply.body).unwrap()
}

fn details(status: u16, code: &str) -> ServiceError {
    ServiceError {
        service: Service::Api,
        status,
        code: Some(code.into()),
        message: Some("m".into()),
        correlation_id: Some("c0ffee".into()),
        hint: None,
    }
}

#[test]
fn machines_in_each_format() {
    let fake = machines(false);
    let reply = handle("GET", "/domains/contoso.com/machines", &fake);
    assert_eq!(reply.status, 200);
    assert_eq!(reply.header("content-type"), Some("application/json"));
    assert_eq!(reply.header("x-mde-cap-reached"), None);
    assert_eq!(reply.header("content-length"), Some("15"));
    assert_eq!(reply.body, b"[\n{\"id\":\"a\"}\n]\n");
    for (query, format) in [
        ("?format=ndjson", Format::Ndjson),
        ("?format=ocsf", Format::Ocsf),
        ("?format=ecs", Format::Ecs),
        ("?format=json", Format::Json),
        ("?", Format::Json),
    ] {
        let reply = handle(
            "GET",
            &format!("/domains/contoso.com/machines{query}"),
            &fake,
        );
        assert_eq!(reply.status, 200, "{query}");
        let expected = if format == Format::Json {
            "application/json"
        } else {
            "application/x-ndjson"
        };
        assert_eq!(reply.header("content-type"), Some(expected), "{query}");
        assert_eq!(fake.asked.borrow().last().unwrap().1, format);
    }
}

#[test]
fn the_cap_is_a_header() {
    let reply = handle("GET", "/domains/fabrikam.com/machines", &machines(true));
    assert_eq!(reply.header("x-mde-cap-reached"), Some("true"));
}

#[test]
fn every_lookup_says_whether_a_kept_answer_served_it() {
    let reply = handle("GET", "/domains/contoso.com/machines", &machines(false));
    assert_eq!(reply.header("x-mde-cache"), Some("miss"));
    assert_eq!(reply.header("age"), None);
    let hit = Fake::answering(Ok(Output {
        body: b"[]\n".to_vec(),
        cap_reached: false,
        cached_age: Some(std::time::Duration::from_millis(42_999)),
    }));
    let reply = handle("GET", "/domains/contoso.com/machines?format=ocsf", &hit);
    assert_eq!(reply.status, 200);
    assert_eq!(reply.header("x-mde-cache"), Some("hit"));
    assert_eq!(reply.header("age"), Some("42"), "whole seconds");
    let failed = Fake::failing(Error::Transport(TransportError::Timeout));
    let reply = handle("GET", "/domains/contoso.com/machines", &failed);
    assert_eq!(reply.status, 504);
    assert_eq!(reply.header("x-mde-cache"), Some("miss"));
    assert_eq!(reply.header("age"), None);
    // Not lookups: no cache to speak of.
    for path in [
        "/healthz",
        "/nowhere",
        "/domains/contoso.com/machines?format=csv",
    ] {
        let reply = handle("GET", path, &machines(false));
        assert_eq!(reply.header("x-mde-cache"), None, "{path}");
    }
}

#[test]
fn the_domain_is_percent_decoded_once() {
    let fake = machines(false);
    for (path, domain) in [
        ("/domains/b%C3%BCcher.example/machines", "bücher.example"),
        ("/domains/a%2Fb/machines", "a/b"),
        ("/domains/100%25/machines", "100%"),
        // Once: `%252F` is the text `%2F`, for the connector to refuse.
        ("/domains/a%252Fb/machines", "a%2Fb"),
        ("/domains//machines", ""),
    ] {
        handle("GET", path, &fake);
        assert_eq!(fake.asked.borrow().last().unwrap().0, domain, "{path}");
    }
}

#[test]
fn a_path_value_that_does_not_decode_is_refused_before_any_lookup() {
    let fake = machines(false);
    for path in [
        "/domains/a%zz/machines",
        "/domains/a%ff/machines",
        "/users/a%2/machines",
        "/machines/%C3",
    ] {
        let reply = handle("GET", path, &fake);
        assert_eq!(reply.status, 400, "{path}");
        assert_eq!(json(&reply)["kind"], "invalid-request");
        let detail = json(&reply)["detail"].as_str().unwrap().to_owned();
        assert!(detail.contains("not percent-encoded UTF-8"), "{detail}");
    }
    assert!(fake.asked.borrow().is_empty());
}

#[test]
fn bad_queries_are_refused_before_any_lookup() {
    let fake = machines(false);
    for (query, says) in [
        (
            "format=table",
            r#"format \"table\" is not one of json, ndjson, ocsf, ecs"#,
        ),
        ("format=xml", r#"format \"xml\" is not one of"#),
        ("fromat=ocsf", r#"unknown query parameter \"fromat\""#),
        ("format", r#"format \"\" is not one of"#),
    ] {
        let reply = handle(
            "GET",
            &format!("/domains/contoso.com/machines?{query}"),
            &fake,
        );
        assert_eq!(reply.status, 400, "{query}");
        let body = String::from_utf8(reply.body.clone()).unwrap();
        assert!(body.contains(says), "{query}: {body}");
        assert_eq!(json(&reply)["kind"], "invalid-request");
    }
    assert!(fake.asked.borrow().is_empty());
}

#[test]
fn healthz_reports_the_settings_without_a_lookup() {
    let mut fake = machines(false);
    let reply = handle("GET", "/healthz", &fake);
    assert_eq!(
        (reply.status, reply.body.as_slice()),
        (200, &b"{\"status\":\"ok\"}\n"[..])
    );
    fake.problem = Some("no credentials: set MDE_TOKEN".into());
    let reply = handle("GET", "/healthz", &fake);
    assert_eq!(reply.status, 500);
    assert_eq!(json(&reply)["kind"], "invalid-settings");
    assert_eq!(
        json(&reply)["detail"],
        "invalid-settings: no credentials: set MDE_TOKEN"
    );
    assert!(fake.asked.borrow().is_empty());
}

#[test]
fn other_paths_are_404_and_other_methods_405() {
    let fake = machines(false);
    for path in [
        "/",
        "/domains/contoso.com",
        "/domains/contoso.com/machines/",
        "/domains/a/b/machines",
        "/healthz/",
        "/domains/contoso.com/machinesx",
    ] {
        for method in ["GET", "POST"] {
            let reply = handle(method, path, &fake);
            assert_eq!(reply.status, 404, "{method} {path}");
            assert_eq!(
                reply.header("content-type"),
                Some("application/problem+json")
            );
            assert_eq!(json(&reply)["kind"], "not-found");
        }
    }
    for path in ["/healthz", "/domains/contoso.com/machines"] {
        for method in ["POST", "PUT", "DELETE", "HEAD", "PATCH", "OPTIONS"] {
            let reply = handle(method, path, &fake);
            assert_eq!(reply.status, 405, "{method} {path}");
            assert_eq!(reply.header("allow"), Some("GET"));
            assert_eq!(json(&reply)["title"], "Method Not Allowed");
        }
    }
    assert!(fake.asked.borrow().is_empty());
}

#[test]
fn every_error_has_its_status_and_problem() {
    let cases: Vec<(Error, u16, Option<&str>)> = vec![
        (Error::InvalidDomain("bad".into()), 400, None),
        // The other lookups' refused inputs (issue 25).
        (Error::InvalidFileHash("an MD5".into()), 400, None),
        (Error::InvalidUserName("a UPN".into()), 400, None),
        (Error::InvalidIp("a CIDR".into()), 400, None),
        (Error::InvalidTime("not RFC 3339".into()), 400, None),
        (Error::InvalidMachineId("..".into()), 400, None),
        (Error::InvalidLookBack("0".into()), 400, None),
        (
            Error::ApiError(details(400, "InvalidDomainName")),
            400,
            None,
        ),
        (Error::InvalidSettings("no".into()), 500, None),
        (Error::Unauthorized(details(401, "Unauthorized")), 502, None),
        (Error::Forbidden(details(403, "Forbidden")), 502, None),
        (Error::ApiError(details(400, "BadRequest")), 502, None),
        (
            Error::RateLimited(RetryLater {
                retry_after_seconds: Some(17),
                details: details(429, "TooManyRequests"),
            }),
            503,
            Some("17"),
        ),
        (
            Error::RateLimited(RetryLater {
                retry_after_seconds: None,
                details: details(429, "TooManyRequests"),
            }),
            503,
            Some("60"),
        ),
        (
            Error::ServiceUnavailable(RetryLater {
                retry_after_seconds: None,
                details: details(500, "InternalServerError"),
            }),
            503,
            Some("30"),
        ),
        (
            Error::ServiceUnavailable(RetryLater {
                retry_after_seconds: Some(12),
                details: details(503, "ServiceUnavailable"),
            }),
            503,
            Some("12"),
        ),
        (Error::Transport(TransportError::Timeout), 504, None),
        (
            Error::Transport(TransportError::Connection("connection-refused".into())),
            502,
            None,
        ),
        (
            Error::Transport(TransportError::Refused("HTTP-request-denied".into())),
            502,
            None,
        ),
        (Error::Transport(TransportError::TooLarge(1)), 502, None),
        (
            Error::InvalidResponse(InvalidResponse {
                service: Service::Api,
                status: 200,
                reason: "body is not JSON".into(),
                excerpt: "<html>".into(),
            }),
            502,
            None,
        ),
    ];
    for (e, status, retry_after) in cases {
        let reply = handle(
            "GET",
            "/domains/contoso.com/machines",
            &Fake::failing(e.clone()),
        );
        assert_eq!(reply.status, status, "{e}");
        assert_eq!(reply.header("retry-after"), retry_after, "{e}");
        assert_eq!(
            reply.header("content-type"),
            Some("application/problem+json")
        );
        let problem = json(&reply);
        assert_eq!(problem["type"], "about:blank");
        assert_eq!(problem["status"], status);
        assert_eq!(problem["title"], title(status));
        assert_eq!(problem["kind"], e.kind(), "{e}");
        assert_eq!(problem["detail"], e.to_string());
        assert_eq!(
            problem["retryAfterSeconds"]
                .as_u64()
                .map(|s| s.to_string())
                .as_deref(),
            retry_after
        );
        let details = match &e {
            Error::Unauthorized(d) | Error::ApiError(d) => Some(d),
            Error::ServiceUnavailable(later) => Some(&later.details),
            _ => None,
        };
        if let Some(d) = details {
            assert_eq!(problem["code"], d.code.as_deref().unwrap());
            assert_eq!(problem["correlationId"], "c0ffee");
            assert_eq!(problem["service"], "api");
            assert_eq!(problem["serviceStatus"], d.status);
        }
        match &e {
            Error::InvalidResponse(_) => {
                assert_eq!(problem["service"], "api");
                assert_eq!(problem["serviceStatus"], 200);
                assert!(problem.get("code").is_none());
            }
            Error::InvalidDomain(_) | Error::InvalidSettings(_) | Error::Transport(_) => {
                for member in ["service", "serviceStatus", "code", "correlationId"] {
                    assert!(problem.get(member).is_none(), "{e}: {member}");
                }
            }
            _ => {}
        }
    }
}

#[test]
fn problems_are_redacted_and_escaped() {
    let e = Error::Unauthorized(ServiceError {
        service: Service::IdentityPlatform,
        status: 401,
        code: Some("invalid_client S3CRET".into()),
        message: Some("echo: client_secret=S3CRET \u{1b}[2J \u{9b}31m \u{7f}".into()),
        correlation_id: Some("S3CRET".into()),
        hint: None,
    });
    let reply = handle("GET", "/domains/contoso.com/machines", &Fake::failing(e));
    let body = String::from_utf8(reply.body.clone()).unwrap();
    assert!(!body.contains("S3CRET"), "{body}");
    assert!(
        !body.chars().any(|c| c.is_control() && c != '\n'),
        "{body:?}"
    );
    assert!(body.contains(r"\u001b[2J \u009b31m \u007f"), "{body}");
    let problem = json(&reply);
    assert_eq!(problem["service"], "identity-platform");
    assert_eq!(problem["code"], "invalid_client [redacted]");
    assert_eq!(problem["correlationId"], "[redacted]");
    assert!(
        problem["detail"]
            .as_str()
            .unwrap()
            .contains("client_secret=[redacted] \u{1b}[2J \u{9b}31m \u{7f}")
    );
}

#[test]
fn events_that_cannot_be_written_are_a_500() {
    let fake = Fake::answering(Err(Failure::Events("year after 9999".into())));
    let reply = handle("GET", "/domains/contoso.com/machines?format=ocsf", &fake);
    assert_eq!(reply.status, 500);
    assert_eq!(json(&reply)["kind"], "events");
}

#[test]
fn an_unknown_machine_is_a_404_with_its_cache_headers() {
    for (cached_age, cache, age) in [
        (None, "miss", None),
        (Some(std::time::Duration::from_secs(5)), "hit", Some("5")),
    ] {
        let fake = Fake::answering(Err(Failure::NoMachine {
            id: "h9\u{1b}".into(),
            cached_age,
        }));
        let reply = handle("GET", "/machines/h9", &fake);
        assert_eq!(reply.status, 404);
        assert_eq!(json(&reply)["kind"], "no-machine");
        let detail = json(&reply)["detail"].as_str().unwrap().to_owned();
        assert!(detail.contains(r#"no machine "h9\u{1b}""#), "{detail}");
        assert_eq!(reply.header("x-mde-cache"), Some(cache));
        assert_eq!(reply.header("age"), age);
    }
}

#[test]
fn every_route_asks_its_lookup() {
    let fake = machines(false);
    for (path, lookup) in [
        ("/files/abc/machines", "file-machines"),
        ("/users/u1/machines", "user-machines"),
        (
            "/ips/10.0.0.1/machines?at=2026-12-01T00:00:00Z",
            "ip-machines",
        ),
        ("/machines/h1", "machine"),
        ("/domains/contoso.com/stats", "domain-stats"),
        ("/ips/10.0.0.1/stats?lookBackHours=24", "ip-stats"),
    ] {
        assert_eq!(handle("GET", path, &fake).status, 200, "{path}");
        assert_eq!(fake.asked.borrow().last().unwrap().2, lookup, "{path}");
    }
}

#[test]
fn a_hint_is_a_member_of_its_own_and_ends_the_detail() {
    let mut forbidden = details(403, "Forbidden");
    forbidden.hint = Some("grant URL.Read.All with admin consent; S3CRET".into());
    let reply = handle(
        "GET",
        "/domains/contoso.com/stats",
        &Fake::failing(Error::Forbidden(forbidden)),
    );
    assert_eq!(reply.status, 502);
    let problem = json(&reply);
    assert_eq!(
        problem["hint"],
        "grant URL.Read.All with admin consent; [redacted]"
    );
    let detail = problem["detail"].as_str().unwrap();
    assert!(
        detail.ends_with("; to fix: grant URL.Read.All with admin consent; [redacted]"),
        "{detail}"
    );
    let plain = handle(
        "GET",
        "/domains/contoso.com/machines",
        &Fake::failing(Error::Forbidden(details(403, "Forbidden"))),
    );
    assert!(json(&plain).get("hint").is_none());
}
