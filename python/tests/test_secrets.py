"""A canary client secret and canary tokens, reflected by a hostile tenant
in every answer it can put them in: none reaches an exception, a log record,
a machine, an event or the command's output."""

import json
import logging

import pytest

from mde_connector import Connector, ConnectorError
from mde_connector.policy import Budgets
from mde_connector.transport import LiveTransport

from fake_tenant import CLIENT_ID, SCOPE, TENANT_ID
from helpers import FakeClock, run_python_cli

# '+', '/', '=' and '&' change when the secret is form-encoded.
SECRET = "CANARY-SECRET-7f3a+/=&x"
TOKEN_PREFIX = "CANARY-TOKEN-91bc"
CANARIES = (SECRET, "CANARY-SECRET", TOKEN_PREFIX, "7f3a%2B", "CANARY-S")


def assert_clean(what, text):
    for canary in CANARIES:
        assert canary not in text, f"{what} leaks {canary!r}: {text}"


def everything_in(error):
    """Every text an exception holds: its message, repr, args and attributes."""
    texts = [str(error), repr(error), *map(str, error.args)]
    texts += [str(value) for value in vars(error).values()]
    return "\n".join(texts)


def echo(method, path, headers, body):
    return f"you sent {headers.get('authorization')} and {body.decode()}"


def envelope(code):
    def answer(*request):
        return json.dumps(
            {"error": {"code": code, "message": echo(*request), "target": echo(*request)}}
        )

    return answer


def html_with_secret_at(position):
    """An HTML page whose canary starts at `position`: at 190 it straddles
    the 200-character excerpt."""

    def answer(method, path, headers, body):
        token = headers.get("authorization", "").removeprefix("Bearer ")
        return "<html>" + "x" * (position - 6) + token + " " + SECRET + "</html>"

    return answer


# How each path makes the tenant fail, after a successful token request
# unless the path fails the token request itself.
API_FAILURES = [
    (400, envelope("InvalidDomainName"), {}),
    (401, envelope("Unauthorized"), {}),
    (403, envelope("Forbidden"), {}),
    (404, lambda *r: "<html>" + echo(*r), {}),  # no machines
    (429, envelope("TooManyRequests"), {"Retry-After": "9999"}),
    (500, envelope("InternalServerError"), {}),
    (502, lambda *r: echo(*r), {}),
    (302, lambda *r: echo(*r), {"Location": "https://evil.example/"}),
    (200, html_with_secret_at(6), {}),
    (200, html_with_secret_at(190), {}),
    # Machines that carry the canaries as data.
    (200, lambda *r: json.dumps({"value": [{"id": echo(*r), "computerDnsName": echo(*r)}]}), {}),
    (200, lambda *r: json.dumps({"value": [{"id": 5, "computerDnsName": echo(*r)}]}), {}),
]

TOKEN_FAILURES = [
    (
        400,
        lambda *r: json.dumps(
            {"error": "invalid_request", "error_description": echo(*r), "correlation_id": echo(*r)}
        ),
        {},
    ),
    (401, lambda *r: json.dumps({"error": "invalid_client", "error_description": echo(*r)}), {}),
    (200, lambda *r: json.dumps({"access_token": f"{TOKEN_PREFIX} {echo(*r)}"}), {}),
    (200, lambda *r: json.dumps({"access_token": [TOKEN_PREFIX, echo(*r)]}), {}),
    (200, lambda *r: "<html>" + echo(*r), {}),
    (500, lambda *r: echo(*r), {}),
]


@pytest.fixture
def hostile(tenant):
    tenant.client_secret = SECRET
    tenant.token_prefix = TOKEN_PREFIX
    tenant.reflect = True
    return tenant


def connector_for(tenant):
    return Connector(
        **tenant.connector_settings(),
        allow_loopback_http=True,
        transport=LiveTransport(),
        clock=FakeClock(),
        budgets=Budgets(),
        max_wait=0,
    )


def outcome(connector):
    """Every text a lookup produced: its error, or its machines and events."""
    try:
        found = connector.lookup("contoso.com")
    except ConnectorError as error:
        return everything_in(error)
    return "\n".join(found.machines_json + connector.ocsf_json(found) + connector.ecs_json(found))


def test_no_error_path_leaks_the_secret_or_a_token(hostile, caplog):
    caplog.set_level(logging.DEBUG, logger="mde_connector")
    paths = 0
    for status, body, headers in API_FAILURES:
        # The failure answers the call made with a fresh token ...
        connector = connector_for(hostile)
        hostile.fail_next(200, lambda *r: json.dumps({"access_token": f"{TOKEN_PREFIX}-fresh"}))
        for _ in range(4):  # enough for the retries of a 5xx
            hostile.fail_next(status, body, headers)
        assert_clean(f"{status} answer", outcome(connector))
        assert_clean("the logs", repr(connector.logs))
        assert_clean("the requests", repr(connector.requests))
        hostile.scripted.clear()
        # ... or the repeat after the kept token was refused.
        connector = connector_for(hostile)
        connector.lookup("contoso.com")
        hostile.fail_next(401, envelope("Unauthorized"))
        hostile.fail_next(200, lambda *r: json.dumps({"access_token": f"{TOKEN_PREFIX}-again"}))
        for _ in range(4):
            hostile.fail_next(status, body, headers)
        assert_clean(f"{status} answer after a refresh", outcome(connector))
        assert_clean("the logs", repr(connector.logs))
        hostile.scripted.clear()
        paths += 2
    for status, body, headers in TOKEN_FAILURES:
        connector = connector_for(hostile)
        hostile.fail_next(status, body, headers)
        assert_clean(f"token {status} answer", outcome(connector))
        assert_clean("the logs", repr(connector.logs))
        hostile.scripted.clear()
        paths += 1
    assert paths == 2 * len(API_FAILURES) + len(TOKEN_FAILURES)
    assert_clean("Python's log", caplog.text)
    # The tenant did see the canaries: the test would notice a leak.
    sent = repr(hostile.requests)
    assert "CANARY-SECRET-7f3a%2B%2F%3D%26x" in sent and TOKEN_PREFIX in sent


def test_the_requests_a_connector_keeps_hold_no_token_or_secret(hostile):
    connector = connector_for(hostile)
    connector.lookup("contoso.com")
    connector.lookup("contoso.com")  # with the kept token
    token_request, *lookups = connector.requests
    assert [r.method for r in connector.requests] == ["post", "get", "get"]
    # Every field, not only the repr.
    assert_clean(
        "the requests", repr([(r.method, r.url, r.headers, r.body) for r in connector.requests])
    )
    for lookup in lookups:
        assert lookup.header("authorization") == "Bearer [redacted]"
    form = token_request.body.decode()
    assert f"client_id={CLIENT_ID}" in form and "client_secret=[redacted]" in form
    # The tenant was sent them: the test would notice a leak.
    assert hostile.requests[1][2]["authorization"] == f"Bearer {TOKEN_PREFIX}-1"


def test_a_secret_cut_short_at_the_end_of_an_excerpt_is_removed(hostile):
    connector = connector_for(hostile)
    hostile.fail_next(200, lambda *r: json.dumps({"access_token": "plain-token"}))
    hostile.fail_next(200, html_with_secret_at(190))
    with pytest.raises(ConnectorError) as caught:
        connector.lookup("contoso.com")
    error = caught.value
    assert len(error.excerpt) <= 220
    assert error.excerpt.endswith("[redacted]")
    assert_clean("the excerpt", error.excerpt)


def test_the_command_prints_no_canary(hostile, clean_env):
    env = {
        **clean_env,
        "MDE_CLOUD": "custom",
        "MDE_API_BASE": hostile.origin,
        "MDE_LOGIN_HOST": hostile.origin,
        "MDE_SCOPE": SCOPE,
        "MDE_TENANT_ID": TENANT_ID,
        "MDE_CLIENT_ID": CLIENT_ID,
        "MDE_CLIENT_SECRET": SECRET,
    }
    outcomes = []
    for status, body, headers in [
        (403, envelope("Forbidden"), {}),
        (200, html_with_secret_at(6), {}),
        (400, envelope("InvalidDomainName"), {}),
    ]:
        hostile.fail_next(200, lambda *r: json.dumps({"access_token": f"{TOKEN_PREFIX}-cli"}))
        hostile.fail_next(status, body, headers)
        done = run_python_cli(["--live", "--allow-loopback-http", "contoso.com"], env)
        outcomes.append(done.returncode)
        assert_clean("stdout", done.stdout.decode())
        assert_clean("stderr", done.stderr.decode())
        assert done.stderr.startswith(b"error: ")
    assert outcomes == [3, 1, 1]
    # And a bearer token given to the command.
    hostile.fail_next(403, envelope("Forbidden"))
    env = {k: v for k, v in env.items() if not k.startswith(("MDE_CLIENT", "MDE_TENANT"))}
    done = run_python_cli(
        ["--live", "--allow-loopback-http", "contoso.com"],
        {**env, "MDE_TOKEN": f"{TOKEN_PREFIX}-env"},
    )
    assert done.returncode == 3
    assert_clean("stderr", done.stderr.decode())


def test_the_scrubber_knows_every_form_a_secret_travels_in():
    from mde_connector._runtime import Secrets

    secrets = Secrets()
    secrets.add('a secret/with+signs&"quotes"')
    secrets.add_authorization("Bearer header-token-123")
    secrets.add_token_answer(b'{"token_type": "Bearer", "access_token": "answer-token-456"}')
    secrets.add_token_answer(b"not json")
    secrets.add("abc")  # too short to scrub without mangling every text
    text = (
        'raw: a secret/with+signs&"quotes" '
        "form: a+secret%2Fwith%2Bsigns%26%22quotes%22 "
        "url: a%20secret%2Fwith%2Bsigns%26%22quotes%22 "
        'json: "a secret/with+signs&\\"quotes\\"" '
        "header: header-token-123 answer: answer-token-456 short: abc "
        "cut: answer-tok"
    )
    assert secrets.scrub(text) == (
        'raw: [redacted] form: [redacted] url: [redacted] json: "[redacted]" '
        "header: [redacted] answer: [redacted] short: abc cut: [redacted]"
    )
