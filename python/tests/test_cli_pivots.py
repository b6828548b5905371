"""The command's other lookups (issue 25) and `check`: the Rust CLI's
grammar, and the same stdout and exit status as the Rust CLI for the same
replay file (the corpus in replays/pivots/)."""

import subprocess

import pytest

from mde_connector.__main__ import main

from helpers import REPLAYS

PIVOTS = REPLAYS / "pivots"
SHA1 = "4388963aaa83afe2042a46a3c0e2a9af5b5d4f0d"

CASES = [
    (["file", SHA1, "--format", "json"], "machines-200.json"),
    (["file", SHA1.upper(), "--format", "ndjson"], "machines-200.json"),
    (["user", "user1", "--format", "json"], "machines-empty.json"),
    (["ip", "10.209.67.177", "--format", "json"], "machines-200.json"),
    (["ip", "10.209.67.177", "--format", "json"], "findbyip-400-old.json"),
    (
        ["machine", "1e5bc9d7e413ddd7902c2932e418702b84d0cc07", "--format", "json"],
        "machine-200.json",
    ),
    (["machine", "x", "--format", "ndjson"], "machine-404.json"),
    (["domain-stats", "example.com"], "domain-stats-200.json"),
    (["domain-stats", "example.com", "--look-back-hours", "24"], "domain-stats-200.json"),
    (["ip-stats", "10.209.67.177"], "ip-stats-200.json"),
    (["ip-stats", "10.0.0.9"], "ip-stats-unseen.json"),
    (["ip-stats", "10.0.0.255"], "ip-stats-400.json"),
    (["domain-stats", "contoso.com"], "stats-403.json"),
    (["file", "d41d8cd98f00b204e9800998ecf8427e", "--format", "json"], "machines-200.json"),
]


@pytest.fixture(scope="module")
def cache_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("component-cache")


@pytest.mark.parametrize("args, replay", CASES)
def test_the_same_bytes_and_status_as_the_rust_cli(
    args, replay, rust_cli, cache_dir, capsysbinary, clean_env
):
    args = [*args, "--replay", str(PIVOTS / replay)]
    status = main(args, clean_env)
    out, err = capsysbinary.readouterr()
    rust = subprocess.run(
        [str(rust_cli), *args, "--cache-dir", str(cache_dir)],
        env=clean_env,
        capture_output=True,
        timeout=300,
    )
    assert status == rust.returncode, f"python: {err.decode()}\nrust: {rust.stderr.decode()}"
    assert out == rust.stdout
    # Errors say the same thing (the Rust CLI's line may add nothing else).
    if status != 0:
        assert err.decode().splitlines()[-1] == rust.stderr.decode().splitlines()[-1]


DEMO_CASES = [
    ["file", "0991a395da64e1c5fbe8732ed11e6be064081d9f", "--format", "ndjson"],
    ["user", "USER1", "--format", "json"],
    ["ip", "10.20.31.7", "--format", "ndjson"],
    ["machine", "ws-0142.corp.contoso.com", "--format", "json"],
    ["machine", "nosuch", "--format", "ndjson"],
    ["domain-stats", "contoso.com"],
    ["ip-stats", "10.20.31.7", "--look-back-hours", "48"],
    ["ip-stats", "fd00::1"],
    ["check"],
]


@pytest.mark.parametrize("args", DEMO_CASES)
def test_the_demo_tenant_answers_every_lookup_as_the_rust_clis(
    args, rust_cli, cache_dir, capsysbinary, clean_env
):
    # Without --live or --replay both commands ask their demo tenant.
    status = main(args, clean_env)
    out, err = capsysbinary.readouterr()
    rust = subprocess.run(
        [str(rust_cli), *args, "--cache-dir", str(cache_dir)],
        env=clean_env,
        capture_output=True,
        timeout=300,
    )
    assert status == rust.returncode == 0, f"python: {err.decode()}\nrust: {rust.stderr.decode()}"
    assert out == rust.stdout
    if args[0] in ("file", "user", "ip", "machine") and args[1] != "nosuch":
        assert b'"id":"' in out, "the demo tenant knows this indicator"


def test_an_unknown_machine_says_so_and_succeeds(capsysbinary, clean_env):
    args = ["machine", "x", "--format", "json", "--replay", str(PIVOTS / "machine-404.json")]
    assert main(args, clean_env) == 0
    out, err = capsysbinary.readouterr()
    assert (out, err) == (b"[]\n", b"no machine x\n")


@pytest.mark.parametrize(
    "args, says",
    [
        (["file"], "file takes one SHA1: file SHA1"),
        (["file", "a", "b"], "file takes one SHA1"),
        (["nope", "x"], "unknown lookup 'nope'"),
        (["contoso.com", "--at", "2026-01-01T00:00:00Z"], "--at is for `ip ADDR` only"),
        (["ip", "10.0.0.1", "--look-back-hours", "5"], "--look-back-hours is for domain-stats"),
        (["domain-stats", "contoso.com", "--format", "ndjson"], "prints JSON only"),
    ],
)
def test_bad_words_exit_2_saying_what_the_grammar_is(args, says, capsysbinary, clean_env):
    replay = ["--replay", str(PIVOTS / "machines-200.json")]
    assert main([*args, *replay], clean_env) == 2
    _, err = capsysbinary.readouterr()
    assert says in err.decode(), err


def test_check_reports_the_roles_and_what_they_permit_never_the_token(
    tenant, clean_env, capsysbinary
):
    import base64
    import json

    settings = tenant.connector_settings()
    claims = {
        "tid": settings["tenant_id"],
        "appid": settings["client_id"],
        "aud": "https://api.securitycenter.microsoft.com",
        "roles": ["Machine.Read.All"],
        "exp": 1_900_000_000,
    }
    body = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    tenant.token_prefix = f"eyJhbGciOiJub25lIn0.{body}.sig"
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
    status = main(["check", "--live", "--allow-loopback-http"], env)
    out, err = capsysbinary.readouterr()
    text = out.decode()
    assert status == 0, err
    assert text.startswith(f"cloud: custom\napi: {settings['api_base']}\n"), text
    assert f"tenant: {settings['tenant_id']}\n" in text
    assert "roles: Machine.Read.All\n" in text
    assert "  domain-machines  permitted\n" in text
    assert "  domain-stats     not permitted: grant URL.Read.All" in text
    assert tenant.tokens_issued[0] not in text + err.decode()
    assert [m for m, *_ in tenant.requests] == ["POST"], "check sends no API request"
    # A token without a machine role: exit 3.
    claims["roles"] = []
    body = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    tenant.token_prefix = f"eyJhbGciOiJub25lIn0.{body}.sig"
    assert main(["check", "--live", "--allow-loopback-http"], env) == 3
    out, _ = capsysbinary.readouterr()
    assert "roles: none (grant an application permission" in out.decode()
