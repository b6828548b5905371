"""The package held to `policy/policy.json`, the policy's one data file, which
the Rust code's tests hold it to as well: the installed package's copy is the
repository's, and each fact is the one the package acts on."""

import json
from urllib.parse import parse_qs, urlsplit

import pytest

from mde_connector import CLOUDS, Connector, InvalidDomain, _policy_file
from mde_connector.policy import SERVICE_LIMITS, Budgets, Limits
from mde_connector.transport import MAX_REPLAY_BYTES, LiveTransport

from helpers import REPO, Scripted, json_answer, repository_file

POLICY_FILE = repository_file("policy/policy.json", "mde_connector/policy.json")
POLICY = json.loads(POLICY_FILE.read_text(encoding="utf-8"))


def test_the_package_carries_the_repositorys_policy_file():
    assert _policy_file.POLICY == POLICY


def test_the_clouds_are_the_files_in_its_order():
    assert CLOUDS == (*POLICY["clouds"], POLICY["custom_cloud"])


@pytest.mark.parametrize("cloud", list(POLICY["clouds"]))
def test_each_clouds_requests_go_to_the_files_hosts_with_its_scope(cloud, clock):
    """Through the component: its own table and the host's allow-list both
    agree with the file."""
    facts = POLICY["clouds"][cloud]
    script = Scripted(
        json_answer(200, {"token_type": "Bearer", "access_token": "policy-token"}),
        json_answer(200, {"value": []}),
    )
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
    token, lookup = script.requests
    assert token.url.startswith(facts["login_host"] + "/")
    assert parse_qs(token.body.decode())["scope"] == [facts["scope"]]
    assert f"https://{urlsplit(lookup.url).netloc}" == facts["api_base"]


def test_the_budgets_defaults_are_the_files():
    expected = Limits(POLICY["budget"]["per_minute"], POLICY["budget"]["per_hour"])
    assert Limits() == SERVICE_LIMITS == expected


def test_the_secret_rules_are_the_files():
    assert _policy_file.MIN_SECRET_LEN == POLICY["secrets"]["min_secret_len"]
    assert _policy_file.REDACTED == POLICY["secrets"]["redacted"]


def test_the_scrub_vectors_agree_with_the_policy_file():
    vectors_path = REPO / "policy" / POLICY["secrets"]["scrubbing"]
    if not vectors_path.is_file():
        pytest.skip(f"{vectors_path} is the repository's: this is no checkout")
    vectors = json.loads(vectors_path.read_text(encoding="utf-8"))
    assert vectors["min_secret_len"] == POLICY["secrets"]["min_secret_len"]
    assert vectors["redacted"] == POLICY["secrets"]["redacted"]


def test_the_size_caps_are_the_files():
    caps = POLICY["caps"]
    assert LiveTransport().max_body == caps["answer_body_bytes"]
    assert MAX_REPLAY_BYTES == caps["replay_file_bytes"]


def test_a_domain_over_the_files_cap_is_refused_before_the_component_sees_it():
    cap = POLICY["caps"]["domain_bytes"]
    script = Scripted()
    connector = Connector(token="t0ken-value", transport=script, budgets=Budgets())
    with pytest.raises(InvalidDomain, match=f"the host takes at most {cap}"):
        connector.lookup("a" * (cap + 1))
    # At the cap the component refuses it itself, as a name too long for DNS.
    with pytest.raises(InvalidDomain) as caught:
        connector.lookup("a" * cap)
    assert "the host takes" not in str(caught.value)
    assert script.requests == []
