use super::*;
use mde_connector::Error;
use mde_connector::error::{RetryLater, Service, ServiceError};
use mde_connector::http::TransportError;
use mde_router::Output;
use mde_router::query::Query;
use std::cell::RefCell;

struct Fake {
    answer: Result<Output, Failure>,
    asked: RefCell<Vec<(String, Format)>>,
}

impl Imports for Fake {
    fn settings_problem(&self) -> Option<String> {
        None
    }

    fn look_up(&self, query: &Query, format: Format) -> Result<Output, Failure> {
        self.asked
            .borrow_mut()
            .push((query.input().to_owned(), format));
        self.answer.clone()
    }

    fn redact(&self, text: &str) -> String {
        text.replace("S3CRET", "[redacted]")
    }
}

fn fake(answer: Result<Output, Failure>) -> Fake {
    Fake {
        answer,
        asked: RefCell::default(),
    }
}

fn args(list: &[&str]) -> Vec<String> {
    list.iter().map(|a| a.to_string()).collect()
}

/// Status, stdout, stderr.
fn run_with(fake: &Fake, list: &[&str]) -> (u8, String, String) {
    let (mut out, mut err) = (Vec::new(), Vec::new());
    let status = run(&args(list), fake, &mut out, &mut err);
    (
        status,
        String::from_utf8(out).unwrap(),
        String::from_utf8(err).unwrap(),
    )
}

fn details(status: u16) -> ServiceError {
    ServiceError {
        service: Service::Api,
        status,
        code: Some("Code".into()),
        message: Some("m".into()),
        correlation_id: None,
        hint: None,
    }
}

#[test]
fn arguments_as_the_cli_takes_them() {
    let lookup = |domain: &str, format| {
        Ok(Request::LookUp {
            query: Query::DomainMachines {
                domain: domain.into(),
            },
            format,
        })
    };
    assert_eq!(
        parse(&args(&["contoso.com"])),
        lookup("contoso.com", Format::Table)
    );
    assert_eq!(
        parse(&args(&["contoso.com", "--format", "ocsf"])),
        lookup("contoso.com", Format::Ocsf)
    );
    assert_eq!(
        parse(&args(&["--format=ecs", "contoso.com"])),
        lookup("contoso.com", Format::Ecs)
    );
    assert_eq!(
        parse(&args(&["--format", "json", "x", "--format", "ndjson"])),
        lookup("x", Format::Ndjson)
    );
    assert_eq!(parse(&args(&["contoso.com", "--help"])), Ok(Request::Help));
    assert_eq!(parse(&args(&["-h"])), Ok(Request::Help));
    assert_eq!(parse(&args(&[])), Err("a DOMAIN is required".into()));
    assert_eq!(
        parse(&args(&["a", "b"])),
        Err(r#"one domain at a time: "b" is a second"#.into())
    );
    assert_eq!(
        parse(&args(&["a", "--format", "csv"])),
        Err(
            r#"invalid value "csv" for --format: expected table, json, ndjson, ocsf or ecs"#.into()
        )
    );
    assert_eq!(
        parse(&args(&["a", "--format"])),
        Err("--format needs a value: table, json, ndjson, ocsf or ecs".into())
    );
    assert_eq!(
        parse(&args(&["a", "--live"])),
        Err(r#"unexpected argument "--live""#.into())
    );
    assert_eq!(
        parse(&args(&["a", "--x\u{1b}"])),
        Err(r#"unexpected argument "--x\\u{1b}""#.into())
    );
}

#[test]
fn prints_the_output_and_exits_0() {
    let fake = fake(Ok(Output {
        body: b"table\n".to_vec(),
        cap_reached: false,
        cached_age: None,
    }));
    assert_eq!(
        run_with(&fake, &["contoso.com"]),
        (0, "table\n".into(), String::new())
    );
    assert_eq!(
        *fake.asked.borrow(),
        [("contoso.com".into(), Format::Table)]
    );
    let (status, out, _) = run_with(&fake, &["--help"]);
    assert_eq!((status, out.as_str()), (0, USAGE));
}

#[test]
fn bad_arguments_exit_2_without_a_lookup() {
    let fake = fake(Err(Failure::Events("unused".into())));
    let (status, out, err) = run_with(&fake, &["a", "--bogus"]);
    assert_eq!(status, EXIT_INPUT);
    assert_eq!(out, "");
    assert!(
        err.starts_with("error: unexpected argument \"--bogus\"\n\nusage: "),
        "{err}"
    );
    assert!(fake.asked.borrow().is_empty());
}

#[test]
fn errors_exit_with_the_cli_statuses() {
    let cases = [
        (Error::InvalidDomain("d".into()), EXIT_INPUT),
        (Error::InvalidSettings("s".into()), EXIT_INPUT),
        (Error::Unauthorized(details(401)), EXIT_AUTH),
        (Error::Forbidden(details(403)), EXIT_AUTH),
        (
            Error::RateLimited(RetryLater {
                retry_after_seconds: Some(5),
                details: details(429),
            }),
            EXIT_RATE_LIMITED,
        ),
        (Error::ApiError(details(400)), EXIT_OTHER),
        (
            Error::ServiceUnavailable(RetryLater {
                retry_after_seconds: None,
                details: details(500),
            }),
            EXIT_OTHER,
        ),
        (Error::Transport(TransportError::Timeout), EXIT_OTHER),
    ];
    for (e, expected) in cases {
        let (status, out, err) = run_with(&fake(Err(Failure::Lookup(e.clone()))), &["x.com"]);
        assert_eq!(status, expected, "{e}");
        assert_eq!(out, "");
        assert_eq!(err, format!("error: {e}\n"));
    }
    let (status, _, err) = run_with(&fake(Err(Failure::Events("after 9999".into()))), &["x"]);
    assert_eq!((status, err.as_str()), (EXIT_OTHER, "error: after 9999\n"));
}

#[test]
fn error_lines_are_redacted_and_escaped() {
    let e = Error::Unauthorized(ServiceError {
        message: Some("echo client_secret=S3CRET \u{1b}[2J".into()),
        ..details(401)
    });
    let (_, _, err) = run_with(&fake(Err(Failure::Lookup(e))), &["x.com"]);
    assert!(!err.contains("S3CRET") && !err.contains('\u{1b}'), "{err}");
    assert!(err.contains("client_secret=[redacted] \\u{1b}[2J"), "{err}");
    // One line of bounded length, as the CLI prints it, however long the message.
    let long = Error::ApiError(ServiceError {
        message: Some(format!("{}\nsecond line", "x".repeat(100_000))),
        ..details(400)
    });
    let (_, _, err) = run_with(&fake(Err(Failure::Lookup(long))), &["x.com"]);
    assert_eq!(err.matches('\n').count(), 1, "one line: {}", &err[..200]);
    assert!(
        err.chars().count() < mde_connector::output::MAX_LINE_CHARS + 100,
        "{}",
        err.len()
    );
    assert!(
        err.trim_end().ends_with("more characters)"),
        "{}",
        &err[err.len() - 80..]
    );
}

#[test]
fn the_other_lookups_as_the_cli_names_them() {
    let lookup = |query, format| Ok(Request::LookUp { query, format });
    assert_eq!(
        parse(&args(&["file", "ABC", "--format", "ndjson"])),
        lookup(Query::FileMachines { sha1: "ABC".into() }, Format::Ndjson)
    );
    assert_eq!(
        parse(&args(&["user", "user1"])),
        lookup(
            Query::UserMachines {
                name: "user1".into()
            },
            Format::Table
        )
    );
    assert_eq!(
        parse(&args(&["ip", "10.0.0.1", "--at=2026-12-01T00:00:00Z"])),
        lookup(
            Query::IpMachines {
                ip: "10.0.0.1".into(),
                at: Some("2026-12-01T00:00:00Z".into())
            },
            Format::Table
        )
    );
    assert_eq!(
        parse(&args(&["machine", "h1", "--format", "ocsf"])),
        lookup(Query::Machine { id: "h1".into() }, Format::Ocsf)
    );
    assert_eq!(
        parse(&args(&[
            "domain-stats",
            "contoso.com",
            "--look-back-hours",
            "24"
        ])),
        lookup(
            Query::DomainStats {
                domain: "contoso.com".into(),
                look_back_hours: Some(24)
            },
            Format::Json
        )
    );
    assert_eq!(
        parse(&args(&["ip-stats", "::1", "--format", "json"])),
        lookup(
            Query::IpStats {
                ip: "::1".into(),
                look_back_hours: None
            },
            Format::Json
        )
    );
    for (list, says) in [
        (&["file"][..], "file takes one input: file VALUE"),
        (&["user", "a", "b"][..], "user takes one input"),
        (
            &["contoso.com", "--at", "x"][..],
            "--at is for `ip ADDR` only",
        ),
        (
            &["file", "a", "--look-back-hours", "2"][..],
            "--look-back-hours is for",
        ),
        (
            &["ip-stats", "::1", "--format", "ndjson"][..],
            "prints JSON only",
        ),
        (
            &["ip-stats", "::1", "--look-back-hours", "x"][..],
            "is not a number",
        ),
    ] {
        let refused = parse(&args(list)).unwrap_err();
        assert!(refused.contains(says), "{list:?}: {refused}");
    }
}

#[test]
fn an_unknown_machine_prints_none_and_a_note_and_succeeds() {
    let none = fake(Err(Failure::NoMachine {
        id: "h9".into(),
        cached_age: None,
    }));
    assert_eq!(
        run_with(&none, &["machine", "h9", "--format", "json"]),
        (0, "[]\n".into(), "no machine h9\n".into())
    );
}
