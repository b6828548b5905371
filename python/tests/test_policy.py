"""The host's policy (`policy.Gateway.send`): egress allow-list, rate budget,
retries. The transport behind it is scripted, or the real one against
loopback servers that count the connections they accept."""

import random
from urllib.parse import urlsplit

import pytest

from mde_connector import (
    Connector,
    InvalidSettings,
    Limits,
    RateLimited,
    ServiceUnavailable,
    TransportError,
    Unauthorized,
)
from mde_connector.connector import CLOUD_HOSTS
from mde_connector.policy import (
    Budgets,
    Gateway,
    Origin,
    Policy,
    RateWindow,
    retry_after_seconds,
)
from mde_connector.transport import LiveTransport, Request, Response, TransportFailure

from helpers import Scripted, json_answer

NONE_FOUND = {"value": []}


def token_answer(token="policy-token"):
    return json_answer(200, {"token_type": "Bearer", "access_token": token})


def with_token(script, clock, **settings):
    return Connector(
        token="t0ken-value", transport=script, clock=clock, budgets=Budgets(), **settings
    )


# The allow-list.


def test_origins_are_scheme_host_and_port():
    assert Origin.parse("https://API.Example.test/x?y") == Origin("https", "api.example.test", 443)
    assert Origin.parse("http://127.0.0.1:8080") == Origin("http", "127.0.0.1", 8080)
    assert Origin.parse("http://[::1]/") == Origin("http", "::1", 80)
    for bad in ["ftp://a", "https://", "https://user:pw@a.test", "https://a.test:99999", "a.test"]:
        with pytest.raises(ValueError):
            Origin.parse(bad)


def gateway(api, login, allow_loopback_http=False, transport=None):
    policy = Policy(
        api=Origin.parse(api), login=Origin.parse(login), allow_loopback_http=allow_loopback_http
    )
    return Gateway(policy, "key", transport or Scripted(), budgets=Budgets())


@pytest.mark.parametrize(
    "url, allowed",
    [
        ("https://api.example.test/api/domains/a/machines", True),
        ("https://login.example.test/t/oauth2/v2.0/token", True),
        ("https://API.EXAMPLE.TEST:443/x", True),
        ("https://other.example.test/x", False),
        ("https://api.example.test:8443/x", False),
        ("http://api.example.test/x", False),  # plain http, even to an allowed host
        ("https://api.example.test.evil.test/x", False),
        ("https://user@api.example.test/x", False),
        ("file:///etc/passwd", False),
        ("not a url", False),
    ],
)
def test_only_the_clouds_api_and_login_origins_may_be_reached(url, allowed):
    script = Scripted(Response(200))
    gate = gateway("https://api.example.test", "https://login.example.test", transport=script)
    if allowed:
        assert gate.send(Request("get", url)).status == 200
        assert len(script.requests) == 1
    else:
        with pytest.raises(TransportFailure) as refused:
            gate.send(Request("get", url))
        assert refused.value.reason == "refused"
        assert script.requests == []


def test_plain_http_only_to_loopback_and_only_when_allowed():
    # What a refusal says: the configured origin is refused for its scheme,
    # naming what allows it.
    flag = "allow_loopback_http=True (the command's --allow-loopback-http)"
    for host, allow, says in [
        ("127.0.0.1:8080", True, None),
        ("localhost:8080", True, None),
        ("[::1]:8080", True, None),
        ("127.0.0.1:8080", False, flag),
        ("[::1]:8080", False, flag),
        ("api.example.test", True, "plain http to loopback addresses only; use https"),
    ]:
        script = Scripted(Response(200))
        gate = gateway(f"http://{host}", f"http://{host}", allow, transport=script)
        request = Request("get", f"http://{host}/api/domains/a/machines")
        if says is None:
            assert gate.send(request).status == 200
        else:
            with pytest.raises(TransportFailure) as refused:
                gate.send(request)
            assert says in refused.value.detail, host
            assert script.requests == []


def test_a_refused_request_makes_no_connection(tenant, other_server):
    gate = gateway(tenant.origin, tenant.origin, True, transport=LiveTransport())
    with pytest.raises(TransportFailure) as refused:
        gate.send(Request("get", f"{other_server.origin}/api/domains/contoso.com/machines"))
    assert refused.value.reason == "refused"
    # The same client does connect where it is allowed to: the count is live.
    assert gate.send(Request("get", f"{tenant.origin}/nowhere")).status == 404
    assert (tenant.connections, other_server.connections) == (1, 0)


def test_the_component_cannot_reach_a_loopback_server_without_permission(other_server):
    connector = Connector(**other_server.connector_settings())
    with pytest.raises(TransportError) as refused:
        connector.lookup("contoso.com")
    assert refused.value.reason == "refused"
    # The configured API base itself: the message names what allows it.
    assert f"{other_server.origin} is plain http" in refused.value.detail
    assert "--allow-loopback-http" in refused.value.detail
    assert other_server.connections == 0
    assert other_server.requests == []


def test_redirects_are_answers_never_followed(tenant, other_server):
    tenant.fail_next(
        302, headers={"Location": f"{other_server.origin}/api/domains/contoso.com/machines"}
    )
    connector = Connector(**tenant.connector_settings(), allow_loopback_http=True)
    with pytest.raises(Exception) as caught:
        connector.lookup("contoso.com")
    assert "302" in str(caught.value)
    assert other_server.connections == 0


@pytest.mark.parametrize("cloud", sorted(CLOUD_HOSTS))
def test_every_named_clouds_requests_pass_its_allow_list(cloud, clock):
    script = Scripted(token_answer(), json_answer(200, NONE_FOUND))
    connector = Connector(
        cloud,
        tenant_id="contoso.onmicrosoft.com",
        client_id="client",
        client_secret="secret-value",
        transport=script,
        clock=clock,
        budgets=Budgets(),
    )
    connector.lookup("contoso.com")
    api, login = CLOUD_HOSTS[cloud]
    token, lookup = script.requests
    assert f"https://{urlsplit(token.url).netloc}" == login
    assert f"https://{urlsplit(lookup.url).netloc}" == api


# The budget.


def test_the_budget_waits_for_a_place_in_the_minute(clock):
    script = Scripted(*[json_answer(200, NONE_FOUND)] * 3)
    connector = with_token(script, clock, limits=Limits(per_minute=2, per_hour=100))
    for _ in range(3):
        connector.lookup("contoso.com")
    assert clock.sleeps == [60.0]
    assert len(script.requests) == 3


def test_a_budget_wait_longer_than_max_wait_is_a_rate_limit_without_a_request(clock):
    script = Scripted(*[json_answer(200, NONE_FOUND)] * 3)
    connector = with_token(script, clock, limits=Limits(per_minute=2, per_hour=100), max_wait=10)
    connector.lookup("contoso.com")
    connector.lookup("contoso.com")
    with pytest.raises(RateLimited) as limited:
        connector.lookup("contoso.com")
    assert limited.value.code == "HostBudgetExhausted"
    assert limited.value.retry_after == 60
    assert len(script.requests) == 2
    assert clock.sleeps == []


def test_the_budget_is_per_tenant_and_client_and_shared_by_connectors(clock):
    budgets = Budgets()

    def connector(client_id, script):
        return Connector(
            tenant_id="contoso.onmicrosoft.com",
            client_id=client_id,
            client_secret="secret-value",
            transport=script,
            clock=clock,
            budgets=budgets,
            limits=Limits(per_minute=1, per_hour=100),
            max_wait=0,
        )

    first = Scripted(token_answer(), json_answer(200, NONE_FOUND))
    connector("app-one", first).lookup("contoso.com")
    # Another connector of the same application and tenant: the same budget.
    second = Scripted(token_answer())
    with pytest.raises(RateLimited):
        connector("app-one", second).lookup("contoso.com")
    # Token requests do not count against it; API calls do.
    assert [r.method for r in second.requests] == ["post"]
    # Another application has its own.
    third = Scripted(token_answer(), json_answer(200, NONE_FOUND))
    connector("app-two", third).lookup("contoso.com")
    assert [r.method for r in third.requests] == ["post", "get"]


def test_the_budget_key_compares_tenant_and_client_without_case(clock):
    """Four connectors spelling one tenant and client in different case share
    one budget of a call a minute: the second, third and fourth wait."""
    budgets = Budgets()
    spellings = [
        ("contoso.onmicrosoft.com", "0f1e2d3c-aaaa-bbbb-cccc-ddddeeeeffff"),
        ("CONTOSO.onmicrosoft.com", "0F1E2D3C-AAAA-BBBB-CCCC-DDDDEEEEFFFF"),
        ("Contoso.OnMicrosoft.Com", "0f1e2d3c-AAAA-bbbb-CCCC-ddddeeeeffff"),
        ("contoso.ONMICROSOFT.COM", "0F1E2D3C-aaaa-BBBB-cccc-DDDDEEEEFFFF"),
    ]
    scripts = []
    for tenant_id, client_id in spellings:
        script = Scripted(token_answer(), json_answer(200, NONE_FOUND))
        scripts.append(script)
        connector = Connector(
            tenant_id=tenant_id,
            client_id=client_id,
            client_secret="secret-value",
            transport=script,
            clock=clock,
            budgets=budgets,
            limits=Limits(per_minute=1, per_hour=100),
            max_wait=0,
        )
        if script is scripts[0]:
            connector.lookup("contoso.com")
        else:
            with pytest.raises(RateLimited):
                connector.lookup("contoso.com")
    assert [sum(r.method == "get" for r in s.requests) for s in scripts] == [1, 0, 0, 0]


@pytest.mark.parametrize("field", ["per_minute", "per_hour"])
@pytest.mark.parametrize("value", [0, -1, -100])
def test_a_rate_below_one_is_refused_when_the_limits_are_made(field, value):
    with pytest.raises(InvalidSettings) as refused:
        Limits(**{field: value})
    assert str(refused.value) == (
        f"invalid-settings: {field}={value}: {value} would never let a call through; the least is 1"
    )


@pytest.mark.parametrize("value", [1.5, "100", True, None])
def test_a_rate_that_is_not_a_whole_number_is_refused(value):
    with pytest.raises(InvalidSettings, match="per_minute is a whole number of calls"):
        Limits(per_minute=value)


def test_the_minute_window_slides():
    window = RateWindow(Limits(per_minute=2, per_hour=100))
    assert window.try_acquire(0) is None
    assert window.try_acquire(10) is None
    assert window.try_acquire(20) == 40
    assert window.try_acquire(60) is None
    assert window.try_acquire(61) == 9


def test_the_longer_wait_wins_when_both_limits_are_full():
    window = RateWindow(Limits(per_minute=2, per_hour=3))
    for t in (0, 1, 100):
        assert window.try_acquire(t) is None
    assert window.try_acquire(101) == 3600 - 101


# Retries.


def test_a_429_is_waited_on_for_its_retry_after(clock):
    script = Scripted(json_answer(429, "", retry_after=7), json_answer(200, NONE_FOUND))
    with_token(script, clock).lookup("contoso.com")
    assert clock.sleeps == [7]
    assert len(script.requests) == 2


def test_a_429_longer_than_max_wait_or_without_retry_after_goes_to_the_caller(clock):
    for answer, retry_after in [
        (json_answer(429, "", retry_after=500), 500),
        (json_answer(429, ""), None),
        (json_answer(429, "", retry_after="Wed, 21 Oct 2026 07:28:00 GMT"), None),
    ]:
        script = Scripted(answer)
        with pytest.raises(RateLimited) as limited:
            with_token(script, clock).lookup("contoso.com")
        assert limited.value.retry_after == retry_after
        assert len(script.requests) == 1
    assert clock.sleeps == []


@pytest.mark.parametrize("digits", ["9" * 5000, "0" * 5000 + "7" * 20, "99999999999999999999999"])
def test_a_retry_after_too_long_to_wait_is_a_rate_limit_not_a_trap(digits, clock):
    script = Scripted(json_answer(429, "", retry_after=digits))
    with pytest.raises(RateLimited):
        with_token(script, clock).lookup("contoso.com")
    assert len(script.requests) == 1
    assert clock.sleeps == []


def test_retry_after_is_read_as_seconds_up_to_a_day():
    assert [
        retry_after_seconds(v) for v in ["7", " 007 ", "86401", "9" * 5000, "", "1.5", "٣"]
    ] == [
        7,
        7,
        86_400,
        86_400,
        None,
        None,
        None,
    ]


def test_429_forever_ends_after_max_attempts(clock):
    script = Scripted(*[json_answer(429, "", retry_after=1)] * 10)
    with pytest.raises(RateLimited):
        with_token(script, clock).lookup("contoso.com")
    assert len(script.requests) == 4
    assert clock.sleeps == [1, 1, 1]


def test_a_get_that_fails_with_5xx_or_in_transport_is_tried_again_with_backoff(clock):
    script = Scripted(
        json_answer(500, ""),
        TransportFailure("connection", "reset"),
        TransportFailure("timeout"),
        json_answer(200, NONE_FOUND),
    )
    with_token(script, clock).lookup("contoso.com")
    assert len(script.requests) == 4
    # Full jitter under a cap that doubles: 0.5 s * 2^attempt.
    assert len(clock.sleeps) == 3
    for attempt, slept in enumerate(clock.sleeps, start=1):
        assert 0 <= slept <= 0.5 * 2**attempt


def test_retries_are_bounded(clock):
    script = Scripted(*[json_answer(503, "")] * 10)
    with pytest.raises(ServiceUnavailable):
        with_token(script, clock).lookup("contoso.com")
    assert len(script.requests) == 4


def test_a_4xx_is_not_repeated(clock):
    script = Scripted(json_answer(401, {"error": {"code": "Unauthorized"}}))
    with pytest.raises(Unauthorized):
        with_token(script, clock).lookup("contoso.com")
    assert len(script.requests) == 1
    assert clock.sleeps == []


@pytest.mark.parametrize(
    "failure, error",
    [
        (json_answer(500, ""), ServiceUnavailable),
        (json_answer(503, ""), ServiceUnavailable),
        (json_answer(429, "", retry_after=1), RateLimited),
        (TransportFailure("connection", "reset"), TransportError),
        (TransportFailure("timeout"), TransportError),
    ],
)
def test_a_token_request_is_never_repeated(failure, error, clock):
    script = Scripted(failure, token_answer(), json_answer(200, NONE_FOUND))
    connector = Connector(
        tenant_id="contoso.onmicrosoft.com",
        client_id="client",
        client_secret="secret-value",
        transport=script,
        clock=clock,
        budgets=Budgets(),
    )
    with pytest.raises(error):
        connector.lookup("contoso.com")
    assert [r.method for r in script.requests] == ["post"]
    assert clock.sleeps == []


def test_backoff_is_jittered_below_a_capped_doubling():
    policy = Policy(api=None, login=None, base_backoff=0.5, max_backoff=30)
    gate = Gateway(policy, "key", Scripted(), budgets=Budgets(), jitter=random.Random(7))
    waits = [gate._backoff(attempt) for attempt in range(1, 12) for _ in range(20)]
    caps = [min(0.5 * 2**attempt, 30) for attempt in range(1, 12) for _ in range(20)]
    assert all(0 <= w <= cap for w, cap in zip(waits, caps))
    assert max(waits) > 15  # the cap grows to 30 s ...
    assert len(set(waits)) == len(waits)  # ... and no two waits are alike
