"""Bounds the package keeps whatever the service sends: a `Retry-After` of
absurd length is a day, and an access token over 16 KiB is refused by the
component, never used nor scrubbed for."""

import pytest

from mde_connector import Connector, InvalidResponse, RateLimited
from mde_connector.policy import MAX_RETRY_AFTER, Budgets, retry_after_seconds

from helpers import Scripted, json_answer


@pytest.mark.parametrize(
    "sent, read",
    [
        ("9", 9),
        (" 0086400 ", 86_400),
        ("86401", 86_400),
        ("99999999999999999999999", 86_400),
        ("9" * 5_000, 86_400),  # past Python's 4,300-digit int() limit
        ("0" * 5_000 + "7", 7),
        ("-1", None),
        ("Wed, 21 Oct 2026 07:28:00 GMT", None),
    ],
)
def test_retry_after_is_read_as_at_most_a_day(sent, read):
    assert MAX_RETRY_AFTER == 86_400
    assert retry_after_seconds(sent) == read


def test_a_huge_retry_after_reaches_the_caller_as_a_day(clock):
    script = Scripted(json_answer(429, "", retry_after="9" * 23))
    connector = Connector(token="t0ken-value", transport=script, clock=clock, budgets=Budgets())
    with pytest.raises(RateLimited) as limited:
        connector.lookup("contoso.com")
    assert limited.value.retry_after == 86_400
    assert clock.sleeps == []


def test_a_token_over_16_kib_is_refused_never_sent_nor_scrubbed_for(clock):
    long_token = "t" * (80 * 1024)
    script = Scripted(json_answer(200, {"token_type": "Bearer", "access_token": long_token}))
    connector = Connector(
        tenant_id="contoso.onmicrosoft.com",
        client_id="client",
        client_secret="a-client-secret",
        transport=script,
        clock=clock,
        budgets=Budgets(),
    )
    with pytest.raises(InvalidResponse) as refused:
        connector.lookup("contoso.com")
    assert refused.value.service == "identity-platform"
    assert "access_token is 81920 bytes long" in str(refused.value)
    assert len(script.requests) == 1, "only the token request"
    # Not a secret the connector scrubs for: a text holding it stays whole.
    assert connector.scrub("x" + long_token) == "x" + long_token
