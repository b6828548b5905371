//! Issue 25's routes through the composed proxy component on the released
//! wasmtime CLI (`wasmtime serve -S cli`), against the fake tenant as a
//! custom cloud: each answers what the host library's lookups print (the
//! bytes `mde-connector serve` and the CLI give), refuses bad input with
//! nothing sent, and an unknown machine is a `404`.
//!
//! Each test skips, saying so, when there is no wasmtime CLI (`WASMTIME_CLI`
//! or `wasmtime` on `PATH`); `.ci/run` installs one, so in CI they run.

mod common;
mod stock;

use host_test::fake_tenant::{KNOWN_FILE, KNOWN_IP, KNOWN_USER};
use mde_connector::output;
use mde_connector::prevalence::{DomainPrevalence, IpPrevalence};
use mde_connector_host::runtime::Query;
use stock::{Tenant, Wasmtime};

/// What the host library's lookup of `query` prints as JSON, against a
/// fake tenant of its own.
fn library_json(query: Query) -> String {
    let tenant = common::Tenant::new();
    let mut instance = tenant.instance(common::settings(common::demo_credentials()));
    let found = instance.lookup_query_texts(&query).unwrap().unwrap();
    let mut out = Vec::new();
    output::write_array(&mut out, &found.machines).unwrap();
    String::from_utf8(out).unwrap()
}

#[test]
fn the_proxy_answers_every_pivot_as_the_library_prints_it() {
    let Some(wasmtime) = Wasmtime::find("the_proxy_answers_every_pivot_as_the_library_prints_it")
    else {
        return;
    };
    let tenant = Tenant::start();
    let service = wasmtime.serve(&tenant.env());

    let file = service.get(&format!(
        "/files/{}/machines",
        KNOWN_FILE.to_ascii_uppercase()
    ));
    assert_eq!(file.status, 200, "{}", file.body);
    assert_eq!(file.header("content-type"), Some("application/json"));
    assert_eq!(file.body, library_json(Query::File(KNOWN_FILE.into())));
    let user = service.get(&format!("/users/{KNOWN_USER}/machines"));
    assert_eq!(user.body, library_json(Query::User(KNOWN_USER.into())));
    let id = user.json()[0]["id"].as_str().unwrap().to_owned();
    let machine = service.get(&format!("/machines/{id}?format=ndjson"));
    assert_eq!(machine.status, 200, "{}", machine.body);
    assert_eq!(machine.body.lines().count(), 1);
    let ocsf = service.get(&format!("/ips/{KNOWN_IP}/machines?format=ocsf"));
    assert_eq!(ocsf.status, 200, "{}", ocsf.body);
    let event: serde_json::Value = serde_json::from_str(ocsf.body.lines().next().unwrap()).unwrap();
    assert_eq!(event["class_uid"], 5001);

    let common = common::Tenant::new();
    let mut instance = common.instance(common::settings(common::demo_credentials()));
    let domain = instance
        .domain_stats("contoso.com", Some(24))
        .unwrap()
        .unwrap();
    let stats = service.get("/domains/Contoso.com/stats?lookBackHours=24");
    assert_eq!(stats.status, 200, "{}", stats.body);
    assert_eq!(stats.header("content-type"), Some("application/json"));
    assert_eq!(
        stats.body,
        format!("{}\n", DomainPrevalence::from(domain).to_json())
    );
    let ip = instance.ip_stats(KNOWN_IP, None).unwrap().unwrap();
    let stats = service.get(&format!("/ips/{KNOWN_IP}/stats"));
    assert_eq!(
        stats.body,
        format!("{}\n", IpPrevalence::from(ip).to_json())
    );
}

#[test]
fn the_proxy_refuses_bad_pivots_and_says_when_a_machine_is_unknown() {
    let Some(wasmtime) =
        Wasmtime::find("the_proxy_refuses_bad_pivots_and_says_when_a_machine_is_unknown")
    else {
        return;
    };
    let tenant = Tenant::start();
    let service = wasmtime.serve(&tenant.env());
    for (path, kind) in [
        (
            "/files/d41d8cd98f00b204e9800998ecf8427e/machines",
            "invalid-file-hash",
        ),
        ("/users/user1@contoso.com/machines", "invalid-user-name"),
        ("/ips/10.0.0.0%2F8/machines", "invalid-ip"),
        (
            "/ips/10.20.31.7/machines?at=2000-01-01T00:00:00Z",
            "invalid-time",
        ),
        (
            "/domains/contoso.com/stats?lookBackHours=0",
            "invalid-look-back",
        ),
        ("/ips/10.20.31.7/stats?format=ocsf", "invalid-request"),
    ] {
        let refused = service.get(path);
        assert_eq!(refused.status, 400, "{path}: {}", refused.body);
        assert_eq!(refused.json()["kind"], kind, "{path}: {}", refused.body);
    }
    assert_eq!(tenant.requests(), (0, 0), "refused requests send nothing");
    let none = service.get("/machines/no-such-host");
    assert_eq!(none.status, 404, "{}", none.body);
    assert_eq!(none.json()["kind"], "no-machine");
    assert_eq!(none.header("x-mde-cache"), Some("miss"));
}

#[test]
fn the_command_runs_every_pivot_as_the_cli_names_it() {
    let Some(wasmtime) = Wasmtime::find("the_command_runs_every_pivot_as_the_cli_names_it") else {
        return;
    };
    let tenant = Tenant::start();
    let out = wasmtime.run(
        &tenant.env(),
        &["file", &KNOWN_FILE.to_ascii_uppercase(), "--format", "json"],
    );
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        String::from_utf8(out.stdout).unwrap(),
        library_json(Query::File(KNOWN_FILE.into()))
    );
    let stats = wasmtime.run(&tenant.env(), &["ip-stats", KNOWN_IP]);
    assert_eq!(stats.status.code(), Some(0));
    let printed: serde_json::Value = serde_json::from_slice(&stats.stdout).unwrap();
    assert_eq!(printed["queriedIp"], KNOWN_IP);
    let none = wasmtime.run(
        &tenant.env(),
        &["machine", "no-such-host", "--format", "ndjson"],
    );
    assert_eq!(none.status.code(), Some(0));
    assert_eq!(
        (none.stdout.as_slice(), none.stderr.as_slice()),
        (&b""[..], &b"no machine no-such-host\n"[..])
    );
    let refused = wasmtime.run(&tenant.env(), &["user", "user1@contoso.com"]);
    assert_eq!(refused.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&refused.stderr).contains("invalid-user-name"));
}
