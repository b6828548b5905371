//! The other lookups on the command line (issue 25): each subcommand in each
//! format, the prevalence JSON, refusals with nothing sent, and
//! `--indicators`.

mod common;

use common::{cli, replay_file, text};
use serde_json::Value;

const SHA1: &str = "0991a395da64e1c5fbe8732ed11e6be064081d9f";
const API: &str = "GET https://api.security.microsoft.com/api";

/// The API requests `--show-requests` printed (method and URL).
fn api_requests(stderr: &[u8]) -> Vec<String> {
    text(stderr)
        .lines()
        .filter(|line| line.starts_with("GET "))
        .map(|line| line.split(' ').take(2).collect::<Vec<_>>().join(" "))
        .collect()
}

#[test]
fn each_machine_list_in_each_format_is_one_call() {
    let hour_ago =
        mde_connector::events::format_rfc3339_ms(mde_connector_host::runtime::now_ms() - 3_600_000)
            .unwrap();
    let cases: [(&[&str], &str); 4] = [
        (
            &["file", SHA1],
            "files/0991a395da64e1c5fbe8732ed11e6be064081d9f/machines",
        ),
        (&["user", "user1"], "users/user1/machines"),
        (
            &["ip", "10.20.31.7", "--at", &hour_ago],
            "machines/findbyip(ip='10.20.31.7',timestamp=",
        ),
        (
            &["machine", "ws-0142.corp.contoso.com"],
            "machines/ws-0142.corp.contoso.com",
        ),
    ];
    for (args, path) in cases {
        for format in ["table", "json", "ndjson", "ocsf", "ecs"] {
            let mut all = args.to_vec();
            all.extend(["--format", format, "--show-requests"]);
            let out = cli(&all, &[]);
            assert_eq!(out.status.code(), Some(0), "{all:?}: {}", text(&out.stderr));
            let requests = api_requests(&out.stderr);
            assert_eq!(requests.len(), 1, "{all:?}: {requests:?}");
            assert!(
                requests[0].starts_with(&format!("{API}/{path}")),
                "{requests:?}"
            );
            let stdout = text(&out.stdout);
            assert!(
                stdout.contains("9a7d3c15e02b4f6e8d1c0b2a3f4e5d6c7b8a9f01"),
                "{all:?}: {stdout}"
            );
            match format {
                "json" => {
                    let machines: Value = serde_json::from_str(&stdout).unwrap();
                    assert!(machines.is_array());
                }
                "ocsf" => {
                    let event: Value =
                        serde_json::from_str(stdout.lines().next().unwrap()).unwrap();
                    let errors = host_test::schema::ocsf().check_event(&event);
                    assert!(errors.is_empty(), "{errors:#?}");
                    let unmapped = &event["unmapped"];
                    let queried = ["queriedFile", "queriedUser", "queriedIp", "queriedMachine"];
                    assert!(
                        queried.iter().any(|q| unmapped[q].is_string()),
                        "{unmapped}"
                    );
                }
                "ecs" => {
                    let document: Value =
                        serde_json::from_str(stdout.lines().next().unwrap()).unwrap();
                    let errors = host_test::schema::ecs().check_document(&document, "mde");
                    assert!(errors.is_empty(), "{errors:#?}");
                }
                _ => {}
            }
        }
    }
}

#[test]
fn an_unknown_machine_is_no_machine_and_success() {
    let out = cli(&["machine", "no-such-machine", "--format", "json"], &[]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_eq!(
        serde_json::from_slice::<Value>(&out.stdout).unwrap(),
        serde_json::json!([])
    );
    assert!(text(&out.stderr).contains("no machine no-such-machine"));
}

#[test]
fn prevalence_is_json_with_the_query() {
    let out = cli(
        &[
            "domain-stats",
            "Contoso.com",
            "--look-back-hours",
            "48",
            "--show-requests",
        ],
        &[],
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let stats: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(stats["queriedDomain"], "contoso.com");
    assert_eq!(stats["lookBackHours"], 48);
    assert_eq!(stats["organizationPrevalence"], 4070);
    assert_eq!(
        api_requests(&out.stderr),
        [format!("{API}/domains/contoso.com/stats?lookBackHours=48")]
    );

    let out = cli(&["ip-stats", "10.20.31.7"], &[]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let stats: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(stats["queriedIp"], "10.20.31.7");
    assert_eq!(stats["organizationPrevalence"], 63515);
    assert!(stats.get("lookBackHours").is_none());
}

#[test]
fn bad_input_exits_2_with_the_reason_and_sends_nothing() {
    let cases: [(&[&str], &str); 7] = [
        (&["file", "d41d8cd98f00b204e9800998ecf8427e"], "is an MD5"),
        (
            &["user", "user1@contoso.com"],
            "give the account name: user1",
        ),
        (&["ip", "fe80::1%eth0"], "has a zone"),
        (
            &["ip", "10.20.31.7", "--at", "2001-01-01T00:00:00Z"],
            "last 30 days only",
        ),
        (&["machine", "../admin"], "invalid-machine-id"),
        (
            &["domain-stats", "contoso.com", "--look-back-hours", "721"],
            "1 to 720",
        ),
        (&["ip-stats", "10.0.0.0/8"], "CIDR /8"),
    ];
    for (args, said) in cases {
        let mut all = args.to_vec();
        all.push("--show-requests");
        let out = cli(&all, &[]);
        assert_eq!(out.status.code(), Some(2), "{all:?}");
        let stderr = text(&out.stderr);
        assert!(stderr.contains(said), "{all:?}: {stderr}");
        assert!(
            !stderr.contains("GET ") && !stderr.contains("POST "),
            "{all:?}: {stderr}"
        );
        assert!(out.stdout.is_empty());
    }
}

#[test]
fn indicators_are_told_by_shape_answered_once_each_and_fail_alone() {
    let list = replay_file(&format!(
        "contoso.com\n# a comment\n\n{}\n{SHA1}\n10.20.31.7\nuser:user1\nmachine:nope\nCONTOSO.com\n{}\nuser:a@contoso.com\n",
        SHA1.to_uppercase(),
        "d41d8cd98f00b204e9800998ecf8427e"
    ));
    let path = list.path().to_str().unwrap();
    let out = cli(&["--indicators", path, "--show-requests"], &[]);
    // One line failed: the batch's status says so.
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    let records: Vec<Value> = text(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let kinds: Vec<&str> = records
        .iter()
        .map(|r| r["kind"].as_str().unwrap())
        .collect();
    assert_eq!(
        kinds,
        [
            "domain", "file", "file", "ip", "user", "machine", "domain", "file", "user"
        ]
    );
    assert_eq!(records[1]["indicator"], SHA1.to_uppercase());
    assert_eq!(records[1]["query"], SHA1);
    assert_eq!(records[1]["machines"].as_array().unwrap().len(), 2);
    assert_eq!(records[3]["query"], "10.20.31.7");
    assert!(records[3]["at"].is_string());
    assert_eq!(records[5]["machines"], serde_json::json!([]));
    assert_eq!(records[7]["error"]["kind"], "invalid-file-hash");
    assert_eq!(records[8]["error"]["kind"], "invalid-user-name");
    for record in &records {
        assert_eq!(record["cloud"], "commercial");
        assert!(record["fetchedAt"].is_string());
    }
    // Repeats (the SHA-1 in capitals, the domain) come from the first answer.
    let requests = api_requests(&out.stderr);
    assert_eq!(requests.len(), 5, "{requests:?}");
}

#[test]
fn each_replayed_answer_of_the_other_routes() {
    let dir = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../python/tests/replays/pivots"
    );
    let cases: [(&[&str], &str, i32, &str); 11] = [
        (
            &["file", SHA1],
            "machines-200.json",
            0,
            "mymachine1.contoso.com",
        ),
        (&["user", "user1"], "machines-empty.json", 0, "0 machine(s)"),
        (
            &["ip", "10.209.67.177"],
            "machines-200.json",
            0,
            "mymachine1.contoso.com",
        ),
        (
            &["ip", "10.209.67.177"],
            "findbyip-400-old.json",
            1,
            "within the last 30 days",
        ),
        (
            &[
                "machine",
                "1e5bc9d7e413ddd7902c2932e418702b84d0cc07",
                "--format",
                "json",
            ],
            "machine-200.json",
            0,
            "\"rbacGroupName\":\"The-A-Team\"",
        ),
        (&["machine", "x"], "machine-404.json", 0, "no machine x"),
        (
            &["domain-stats", "example.com"],
            "domain-stats-200.json",
            0,
            "\"organizationPrevalence\":4070",
        ),
        (
            &["ip-stats", "10.209.67.177"],
            "ip-stats-200.json",
            0,
            "\"organizationPrevalence\":63515",
        ),
        (
            &["ip-stats", "10.0.0.9"],
            "ip-stats-unseen.json",
            0,
            "\"organizationPrevalence\":0,\"orgFirstSeen\":null",
        ),
        (
            &["ip-stats", "10.0.0.255"],
            "ip-stats-400.json",
            1,
            "400 InvalidIpAddress",
        ),
        (
            &["domain-stats", "contoso.com"],
            "stats-403.json",
            3,
            "forbidden: API answered 403",
        ),
    ];
    for (args, file, status, said) in cases {
        let replay = format!("{dir}/{file}");
        let mut all = args.to_vec();
        all.extend(["--replay", replay.as_str()]);
        let out = cli(&all, &[]);
        let printed = format!("{}{}", text(&out.stdout), text(&out.stderr));
        assert_eq!(out.status.code(), Some(status), "{all:?}: {printed}");
        assert!(printed.contains(said), "{all:?}: {printed}");
    }
}
