"""`python -m mde_connector`: its environment, formats and exit statuses, and
the same stdout as the Rust CLI for the same replay file."""

import json
import logging
import os
import subprocess
import sys
import tracemalloc

import pytest

from mde_connector.__main__ import LogLine, main, one_line, write_array, write_lines

from helpers import REPLAYS, run_python_cli

REPLAY_FILES = sorted(p.name for p in REPLAYS.glob("*.json"))

#: The exit status each replay file ends in, looking up contoso.com.
EXPECTED_STATUS = {
    "empty.json": 0,
    "forbidden-403.json": 3,
    "gateway-html-502.json": 1,
    "html-200.json": 1,
    "invalid-domain-400.json": 1,
    "machines.json": 0,
    "no-answers.json": 1,
    "not-found-404.json": 0,
    "server-error-500.json": 1,
    "unavailable-503.json": 1,
    "throttled-429.json": 4,
    "token-refused.json": 3,
    "token-then-machines.json": 1,  # without credentials the token answer is the API's
    "unauthorized-401.json": 3,
    "wrong-shape.json": 1,
}

CREDENTIALS = {
    "MDE_TENANT_ID": "contoso.onmicrosoft.com",
    "MDE_CLIENT_ID": "replay-client",
    "MDE_CLIENT_SECRET": "replay-secret",
}


def run(capsysbinary, args, env):
    status = main(args, env)
    out, err = capsysbinary.readouterr()
    return status, out, err.decode()


def test_every_replay_file_has_an_expected_status():
    assert sorted(EXPECTED_STATUS) == REPLAY_FILES


@pytest.mark.parametrize("name", REPLAY_FILES)
def test_exit_statuses(name, capsysbinary, clean_env):
    status, out, err = run(
        capsysbinary, ["--replay", str(REPLAYS / name), "contoso.com"], clean_env
    )
    assert status == EXPECTED_STATUS[name], err
    lines = err.splitlines()
    if status:
        assert out == b""
        assert lines[-1].startswith("error: ")
        lines.pop()
    # The rest are the component's warnings (a 404 taken as no machines).
    assert all(line.startswith("mde-connector warn ") for line in lines)
    assert (lines != []) == (name == "not-found-404.json")


def test_json_is_an_array_of_the_components_texts(capsysbinary, clean_env):
    status, out, _ = run(
        capsysbinary, ["--replay", str(REPLAYS / "machines.json"), "contoso.com"], clean_env
    )
    assert status == 0
    machines = json.loads(out)
    assert [m["computerDnsName"] for m in machines][:2] == [
        "fin-ws-07.corp.contoso.com",
        "build-01.eng.contoso.com",
    ]
    assert out.startswith(b"[\n{") and out.endswith(b"}\n]\n")
    status, out, _ = run(
        capsysbinary, ["--replay", str(REPLAYS / "empty.json"), "contoso.com"], clean_env
    )
    assert out == b"[]\n"


def test_the_writers_frame_texts_exactly():
    import io

    for texts, array, lines in [
        (['{"a":1}', "{}"], b'[\n{"a":1},\n{}\n]\n', b'{"a":1}\n{}\n'),
        ([], b"[]\n", b""),
        (['{"é":"ü"}'], '[\n{"é":"ü"}\n]\n'.encode(), '{"é":"ü"}\n'.encode()),
    ]:
        out = io.BytesIO()
        write_array(out, texts)
        assert out.getvalue() == array
        out = io.BytesIO()
        write_lines(out, texts)
        assert out.getvalue() == lines


@pytest.mark.parametrize(
    "fmt, key", [("ndjson", "id"), ("ocsf", "class_uid"), ("ecs", "@timestamp")]
)
def test_line_formats_print_one_object_per_machine(fmt, key, capsysbinary, clean_env):
    args = ["--replay", str(REPLAYS / "machines.json"), "--format", fmt, "contoso.com"]
    status, out, _ = run(capsysbinary, args, clean_env)
    assert status == 0
    lines = out.decode().splitlines()
    assert len(lines) == 3
    assert all(key in json.loads(line) for line in lines)


@pytest.mark.parametrize(
    "env, args, message",
    [
        ({}, ["--live", "contoso.com"], "--live needs MDE_TOKEN"),
        ({"MDE_TENANT_ID": "t", "MDE_CLIENT_ID": "c"}, ["contoso.com"], "all of MDE_TENANT_ID"),
        ({"MDE_TOKEN": "t0ken", "MDE_TENANT_ID": "t"}, ["contoso.com"], "not both"),
        ({"MDE_CLOUD": "mars", "MDE_TOKEN": "t0ken"}, ["contoso.com"], "unknown cloud 'mars'"),
        ({"MDE_CLOUD": "custom", "MDE_TOKEN": "t0ken"}, ["contoso.com"], "needs MDE_API_BASE"),
        (
            {},
            ["--replay", "/nonexistent/replay.json", "contoso.com"],
            "reading a replay from /nonexistent",
        ),
        ({}, ["--replay", str(REPLAYS / "../test_cli.py"), "contoso.com"], "JSON array"),
        ({}, ["--replay", str(REPLAYS / "machines.json"), "contoso.com/x"], "invalid-domain"),
        (
            {"MDE_TOKEN": "two words"},
            ["--replay", str(REPLAYS / "machines.json"), "contoso.com"],
            "invalid-settings",
        ),
    ],
)
def test_bad_input_exits_2_with_a_clear_error(env, args, message, capsysbinary, clean_env):
    status, out, err = run(capsysbinary, args, {**clean_env, **env})
    assert status == 2
    assert out == b""
    assert message in err


def test_live_and_replay_together_are_refused(clean_env):
    args = ["--live", "--replay", str(REPLAYS / "machines.json"), "contoso.com"]
    done = run_python_cli(args, {**clean_env, "MDE_TOKEN": "t0ken-value"})
    assert done.returncode == 2
    assert b"--replay: not allowed with argument --live" in done.stderr


def test_credentials_without_live_reach_no_server_and_with_live_they_do(tenant, clean_env):
    """The Rust CLI's rule: `--live` sends the lookup, credentials alone never
    do; without it the demo tenant answers, and a note says why it refuses them."""
    settings = tenant.connector_settings()
    env = {
        **clean_env,
        "MDE_CLOUD": "custom",
        "MDE_API_BASE": settings["api_base"],
        "MDE_LOGIN_HOST": settings["login_host"],
        "MDE_SCOPE": settings["scope"],
        "MDE_TENANT_ID": settings["tenant_id"],
        "MDE_CLIENT_ID": settings["client_id"],
        "MDE_CLIENT_SECRET": settings["client_secret"],
    }
    done = run_python_cli(["--allow-loopback-http", "contoso.com"], env)
    assert done.returncode != 0
    assert done.stderr.startswith(
        b"note: client credentials are set but --live is not: the lookup goes to the demo tenant"
    )
    assert settings["client_secret"].encode() not in done.stderr
    assert tenant.requests == []
    done = run_python_cli(
        ["--live", "--allow-loopback-http", "--format", "ndjson", "contoso.com"], env
    )
    assert done.returncode == 0, done.stderr
    assert len(done.stdout.splitlines()) == 3
    assert [method for method, *_ in tenant.requests] == ["POST", "GET"]


def test_a_replay_that_is_not_a_regular_file_is_refused_without_reading(tmp_path, clean_env):
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)  # opened for reading as a plain open() does, it would block forever
    for path in ["/dev/zero", str(fifo), str(tmp_path)]:
        done = subprocess.run(
            [sys.executable, "-m", "mde_connector", "--replay", path, "contoso.com"],
            env=clean_env,
            capture_output=True,
            timeout=30,
        )
        assert done.returncode == 2
        assert done.stderr.decode() == (
            f"error: {path} is not a regular file: give a replay as a file\n"
        )


def test_a_replay_over_64_mib_is_refused_after_reading_at_most_one_byte_more(
    tmp_path, capsysbinary, clean_env
):
    huge = tmp_path / "huge.json"
    with open(huge, "wb") as file:
        file.truncate(256 * 1024 * 1024)  # sparse: no disk
    tracemalloc.start()
    try:
        status, out, err = run(capsysbinary, ["--replay", str(huge), "contoso.com"], clean_env)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert status == 2
    assert err == f"error: {huge} is larger than 65536 KiB, the most a replay may be\n"
    # The cap and one byte read, not the 256 MiB there are.
    assert 64 * 1024 * 1024 < peak < 72 * 1024 * 1024


@pytest.mark.parametrize(
    "content, message",
    [
        (b"[" * 100_000 + b"]" * 100_000, "this one is nested too deeply"),
        (b'[{"status": 200, "body": "\xff"}]', "is not UTF-8 (at byte 26)"),
    ],
)
def test_a_bad_replay_file_is_a_typed_error_not_a_traceback(tmp_path, content, message, clean_env):
    path = tmp_path / "bad.json"
    path.write_bytes(content)
    done = run_python_cli(["--replay", str(path), "contoso.com"], clean_env)
    assert done.returncode == 2
    assert done.stderr.startswith(b"error: ")
    assert message.encode() in done.stderr
    assert b"Traceback" not in done.stderr


def test_a_number_longer_than_python_reads_is_printed_as_sent(tmp_path, capsysbinary, clean_env):
    digits = "7" * 5000
    body = json.dumps({"value": [{"id": "b" * 40, "osBuild": 1}]}).replace("1}", digits + "}")
    path = tmp_path / "big.json"
    path.write_text(json.dumps([{"status": 200, "body": body}]))
    for fmt in ("json", "ndjson", "ocsf", "ecs"):
        status, out, err = run(
            capsysbinary, ["--replay", str(path), "--format", fmt, "contoso.com"], clean_env
        )
        assert status == 0, err
        assert digits.encode() in out


def test_a_token_that_is_not_utf8_next_to_client_credentials_is_both_set(clean_env):
    env = {k.encode(): v.encode() for k, v in {**clean_env, **CREDENTIALS}.items()}
    done = subprocess.run(
        [sys.executable, "-m", "mde_connector", "contoso.com"],
        env={**env, b"MDE_TOKEN": b"\xff\xfe-token"},
        capture_output=True,
        timeout=120,
    )
    assert done.returncode == 2
    assert done.stderr.startswith(b"error: both MDE_TOKEN and client credentials are set")


@pytest.mark.parametrize("name", ["MDE_TOKEN", "MDE_TENANT_ID", "MDE_CLOUD"])
def test_a_variable_that_is_not_utf8_is_refused_by_name(name, capsysbinary, clean_env):
    # os.environ hands bytes that are not UTF-8 over as lone surrogates.
    env = {**clean_env, **({} if name == "MDE_TOKEN" else CREDENTIALS), name: "\udcff\udcfe-x"}
    args = ["--replay", str(REPLAYS / "machines.json"), "contoso.com"]
    status, out, err = run(capsysbinary, args, env)
    assert (status, out) == (2, b"")
    assert err == f"error: {name} is not UTF-8 text: set it to the value itself\n"


def full_page(tmp_path):
    """A replay of 500 machines: the service's cap."""
    machines = [{"id": f"{i:040x}", "computerDnsName": f"m{i}.contoso.com"} for i in range(500)]
    path = tmp_path / "full-page.json"
    path.write_text(json.dumps([{"status": 200, "body": json.dumps({"value": machines})}]))
    return path


CAP_WARNING = (
    "mde-connector warn result-cap-reached: "
    "contoso.com: 500 machines, the service's cap; there may be more\n"
)


@pytest.mark.parametrize("fmt", ["json", "ndjson", "ocsf", "ecs"])
def test_the_cap_warning_is_printed_once_per_lookup_in_every_format(
    fmt, tmp_path, capsysbinary, clean_env
):
    args = ["--replay", str(full_page(tmp_path)), "--format", fmt, "contoso.com"]
    status, out, err = run(capsysbinary, args, clean_env)
    assert status == 0
    assert len(out.splitlines()) >= 500
    assert err == CAP_WARNING


@pytest.mark.parametrize(
    "flag, mde_log, printed",
    [
        (None, None, "warn"),
        (None, "", "warn"),
        ("error", None, None),
        (None, "error", None),
        ("warn", "error", "warn"),  # the flag wins
        ("debug", None, "debug"),
        (None, "info", "warn"),
    ],
)
def test_log_level_or_mde_log_choose_the_least_severe_record_printed(
    flag, mde_log, printed, tmp_path, capsysbinary, clean_env
):
    args = ["--replay", str(full_page(tmp_path)), "--format", "ndjson", "contoso.com"]
    if flag is not None:
        args = ["--log-level", flag, *args]
    env = clean_env if mde_log is None else {**clean_env, "MDE_LOG": mde_log}
    status, _, err = run(capsysbinary, args, env)
    assert status == 0
    if printed is None:
        assert err == ""
    elif printed == "warn":
        assert err == CAP_WARNING
    else:
        assert CAP_WARNING in err
        assert any(line.startswith("mde-connector debug ") for line in err.splitlines())


def test_an_unknown_log_level_is_refused(capsysbinary, clean_env):
    args = ["--replay", str(REPLAYS / "machines.json"), "contoso.com"]
    status, out, err = run(capsysbinary, args, {**clean_env, "MDE_LOG": "loud"})
    assert (status, out) == (2, b"")
    assert err == "error: MDE_LOG 'loud' is not a level: expected debug, info, warn or error\n"
    assert run_python_cli(["--log-level", "loud", "contoso.com"], clean_env).returncode == 2


def test_log_lines_are_escaped_and_bounded_like_errors():
    record = logging.LogRecord(
        "mde_connector",
        logging.WARNING,
        "",
        0,
        "%s: %s",
        ("odd", "\x1b[31mred\nnext\u202e" + "x" * 5000),
        None,
    )
    line = LogLine().format(record)
    assert line.startswith("mde-connector warn odd: \\x1b[31mred\\nnext\\u202e")
    assert line.endswith("x… (4028 more characters)")
    assert len(line) < 1050
    assert one_line("\x07" * 600).endswith("… (350 more characters)")


def test_the_command_prints_warnings_and_the_library_alone_does_not(tmp_path, clean_env):
    replay = full_page(tmp_path)
    done = run_python_cli(["--replay", str(replay), "--format", "ocsf", "contoso.com"], clean_env)
    assert done.returncode == 0
    assert done.stderr == CAP_WARNING.encode()
    program = (
        "import sys; from mde_connector import Connector; "
        "found = Connector(replay=sys.argv[1]).lookup('contoso.com'); print(found.cap_reached)"
    )
    done = subprocess.run(
        [sys.executable, "-c", program, str(replay)], env=clean_env, capture_output=True
    )
    assert (done.returncode, done.stdout, done.stderr) == (0, b"True\n", b"")
    assert [type(h) for h in logging.getLogger("mde_connector").handlers] == [logging.NullHandler]


def test_bad_flags_exit_2(clean_env):
    done = run_python_cli(["--format", "table", "contoso.com"], clean_env)
    assert done.returncode == 2
    assert b"invalid choice" in done.stderr


def test_client_credentials_from_the_environment_fetch_a_token_first(capsysbinary, clean_env):
    args = [
        "--replay",
        str(REPLAYS / "token-then-machines.json"),
        "--format",
        "ndjson",
        "contoso.com",
    ]
    status, out, err = run(capsysbinary, args, {**clean_env, **CREDENTIALS})
    assert status == 0, err
    assert json.loads(out)["id"] == "4e1b7c2a9d0f3e5a6b8c7d9e0f1a2b3c4d5e6f70"


def test_errors_from_the_network_are_printed_without_terminal_escapes(capsysbinary, clean_env):
    status, _, err = run(
        capsysbinary, ["--replay", str(REPLAYS / "html-200.json"), "contoso.com"], clean_env
    )
    assert status == 1
    assert "\x1b" not in err


def test_the_module_runs_as_a_command(clean_env):
    done = run_python_cli(
        ["--replay", str(REPLAYS / "throttled-429.json"), "contoso.com"], clean_env
    )
    assert done.returncode == 4
    assert done.stderr.startswith(b"error: rate-limited: ")
    done = run_python_cli(["--version"], clean_env)
    assert done.returncode == 0
    assert b"0.1.0" in done.stdout


# The same stdout as the Rust CLI.


@pytest.fixture(scope="module")
def cache_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("component-cache")


def rust(cli, cache_dir, args, env):
    return subprocess.run(
        [str(cli), "--cache-dir", str(cache_dir), *args], env=env, capture_output=True, timeout=300
    )


def both(rust_cli, cache_dir, capsysbinary, args, env):
    python_status, python_out, python_err = run(capsysbinary, args, env)
    done = rust(rust_cli, cache_dir, args, env)
    return (python_status, python_out, python_err), (
        done.returncode,
        done.stdout,
        done.stderr.decode(),
    )


@pytest.mark.parametrize("fmt", ["json", "ndjson"])
@pytest.mark.parametrize("name", REPLAY_FILES)
def test_the_same_bytes_and_status_as_the_rust_cli(
    name, fmt, rust_cli, cache_dir, capsysbinary, clean_env
):
    args = ["--replay", str(REPLAYS / name), "--format", fmt, "contoso.com"]
    (status, out, err), (rust_status, rust_out, rust_err) = both(
        rust_cli, cache_dir, capsysbinary, args, clean_env
    )
    assert status == rust_status, f"python: {err}\nrust: {rust_err}"
    assert out == rust_out


@pytest.mark.parametrize(
    "domain",
    ["contoso.com", "fabrikam.com", "Bücher.EXAMPLE", "legacy.example", "none.example", "single"],
)
def test_without_live_or_replay_the_demo_tenant_answers_as_the_rust_clis(
    domain, rust_cli, cache_dir, capsysbinary, clean_env
):
    args = ["--format", "json", domain]
    (status, out, err), (rust_status, rust_out, rust_err) = both(
        rust_cli, cache_dir, capsysbinary, args, clean_env
    )
    assert status == rust_status, f"python: {err}\nrust: {rust_err}"
    assert out == rust_out
    if domain != "single":
        assert out != b"", err


@pytest.mark.parametrize(
    "name, domain, env",
    [
        ("machines.json", "Bücher.EXAMPLE", {}),
        ("machines.json", "contoso.com/evil", {}),
        ("token-then-machines.json", "contoso.com", CREDENTIALS),
        ("token-refused.json", "contoso.com", CREDENTIALS),
        ("machines.json", "contoso.com", {"MDE_TOKEN": "bad token"}),
    ],
)
def test_the_same_for_other_domains_and_credentials(
    name, domain, env, rust_cli, cache_dir, capsysbinary, clean_env
):
    args = ["--replay", str(REPLAYS / name), "--format", "json", domain]
    (status, out, err), (rust_status, rust_out, rust_err) = both(
        rust_cli, cache_dir, capsysbinary, args, {**clean_env, **env}
    )
    assert status == rust_status, f"python: {err}\nrust: {rust_err}"
    assert out == rust_out


def test_the_same_for_a_full_page_of_500(tmp_path, rust_cli, cache_dir, capsysbinary, clean_env):
    machines = [
        {
            "id": f"{i:040x}",
            "computerDnsName": f"m{i}.contoso.com",
            "osBuild": i,
            "rbacGroupId": i % 7,
        }
        for i in range(500)
    ]
    replay = tmp_path / "full-page.json"
    replay.write_text(json.dumps([{"status": 200, "body": json.dumps({"value": machines})}]))
    for fmt in ("json", "ndjson"):
        args = ["--replay", str(replay), "--format", fmt, "contoso.com"]
        (status, out, _), (rust_status, rust_out, _) = both(
            rust_cli, cache_dir, capsysbinary, args, clean_env
        )
        assert (status, rust_status) == (0, 0)
        assert out == rust_out
        assert out.count(b'"id"') == 500


#: The fields that hold the observation time, which differs between runs.
OBSERVED_AT = {"ocsf": ("time", "time_dt"), "ecs": ("@timestamp",)}


@pytest.mark.parametrize("fmt", ["ocsf", "ecs"])
def test_the_same_events_but_for_the_time_of_observation(
    fmt, rust_cli, cache_dir, capsysbinary, clean_env
):
    args = ["--replay", str(REPLAYS / "machines.json"), "--format", fmt, "contoso.com"]
    (status, out, _), (rust_status, rust_out, _) = both(
        rust_cli, cache_dir, capsysbinary, args, clean_env
    )
    assert (status, rust_status) == (0, 0)

    def timeless(text):
        events = [json.loads(line) for line in text.splitlines()]
        for event in events:
            for field in OBSERVED_AT[fmt]:
                assert field in event
                del event[field]
        return events

    assert len(out.splitlines()) == 3
    assert timeless(out) == timeless(rust_out)
