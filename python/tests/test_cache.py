"""`Connector(cache_ttl=...)`: one call to the service per distinct domain
per freshness window, counted at the fake tenant on 127.0.0.1."""

import json
import math
import threading

import pytest

from mde_connector import Connector, InvalidSettings, ServiceUnavailable
from mde_connector.cache import ResultCache, domain_key
from mde_connector.policy import Budgets
from mde_connector.transport import LiveTransport

from fake_tenant import CLIENT_ID, TENANT_ID, machine
from helpers import Scripted, json_answer


def cached(tenant, clock, budgets=None, **settings):
    settings.setdefault("cache_ttl", 60)
    return Connector(
        **{**tenant.connector_settings(), **settings},
        allow_loopback_http=True,
        transport=LiveTransport(),
        clock=clock,
        budgets=budgets or Budgets(),
    )


def api_calls(tenant):
    return [path for method, path, *_ in tenant.requests if method == "GET"]


def test_spellings_of_one_domain_share_one_entry(tenant, clock):
    connector = cached(tenant, clock)
    first = connector.lookup("CONTOSO.com")
    assert (first.cache_hit, first.cache_age) == (False, None)
    clock.time += 12.5
    for spelling in [" contoso.com.", "contoso.com", "Contoso.Com\t"]:
        again = connector.lookup(spelling)
        assert (again.cache_hit, again.cache_age) == (True, 12.5)
        assert again.domain == "contoso.com"
        assert again.machines == first.machines and len(again.machines) == 3
        assert again.machines_json == first.machines_json
        assert again.cap_reached is False
    assert api_calls(tenant) == ["/api/domains/contoso.com/machines"]


def test_an_entry_is_fresh_for_the_ttl_only(tenant, clock):
    connector = cached(tenant, clock, cache_ttl=30)
    connector.lookup("contoso.com")
    clock.time += 29.9
    assert connector.lookup("contoso.com").cache_hit
    clock.time += 0.1
    assert not connector.lookup("contoso.com").cache_hit
    assert len(api_calls(tenant)) == 2


def test_answers_with_no_machines_are_kept_and_errors_never(tenant, clock):
    connector = cached(tenant, clock)
    assert connector.lookup("nothing.example").machines == []
    assert connector.lookup("nothing.example").cache_hit
    assert len(api_calls(tenant)) == 1
    for _ in range(4):  # every attempt of the gateway's retries
        tenant.fail_next(503, json.dumps({"error": {"code": "ServiceUnavailable"}}))
    with pytest.raises(ServiceUnavailable):
        connector.lookup("contoso.com")
    assert len(api_calls(tenant)) == 5
    found = connector.lookup("contoso.com")
    assert not found.cache_hit and len(found.machines) == 3
    assert len(api_calls(tenant)) == 6


def test_at_most_cache_entries_are_kept_least_recently_used_out(tenant, clock):
    tenant.machines = {d: [machine(i, d)] for i, d in enumerate(["a.test", "b.test", "c.test"])}
    connector = cached(tenant, clock, cache_entries=2)
    for domain in ["a.test", "b.test", "a.test", "c.test"]:  # c pushes out b, not a
        connector.lookup(domain)
    assert connector.lookup("a.test").cache_hit
    assert not connector.lookup("b.test").cache_hit
    assert [p.split("/")[3] for p in api_calls(tenant)] == ["a.test", "b.test", "c.test", "b.test"]


def test_a_unicode_spelling_is_an_alias_of_the_normalised_domain(tenant, clock):
    connector = cached(tenant, clock)
    assert connector.lookup("Bücher.example").domain == "xn--bcher-kva.example"
    assert connector.lookup("Bücher.example").cache_hit  # the spelling asked
    assert connector.lookup("XN--BCHER-KVA.example.").cache_hit  # the normalised domain
    assert api_calls(tenant) == ["/api/domains/xn--bcher-kva.example/machines"]


def test_a_result_changed_by_the_caller_leaves_the_cache_as_it_was(tenant, clock):
    connector = cached(tenant, clock)
    found = connector.lookup("contoso.com")
    found.machines[0]["id"] = "changed"
    found.machines_json.clear()
    again = connector.lookup("contoso.com")
    assert again.cache_hit and again.machines[0]["id"] == machine(0, "contoso.com")["id"]
    assert len(again.machines_json) == 3
    again.machines.clear()
    assert len(connector.lookup("contoso.com").machines) == 3


def test_connectors_sharing_a_cache_make_one_call_for_concurrent_lookups(tenant, clock):
    """Eight threads on four connectors, the tenant and client spelled in
    four cases, all asking at once while the tenant takes its time: one API
    call, and every thread gets its answer."""
    cache, budgets = ResultCache(), Budgets()
    connectors = [
        cached(
            tenant,
            clock,
            budgets=budgets,
            tenant_id=tenant_id,
            client_id=client_id,
            cache=cache,
        )
        for tenant_id, client_id in [
            (TENANT_ID, CLIENT_ID),
            (TENANT_ID.upper(), CLIENT_ID.upper()),
            (TENANT_ID.title(), CLIENT_ID),
            (TENANT_ID, CLIENT_ID.title()),
        ]
    ]
    tenant.stall = 0.3
    start = threading.Barrier(8)
    found = [None] * 8

    def look(i):
        start.wait()
        found[i] = connectors[i % 4].lookup("contoso.com")

    threads = [threading.Thread(target=look, args=(i,)) for i in range(1, 8)]
    for thread in threads:
        thread.start()
    look(0)
    for thread in threads:
        thread.join(10)
    assert [len(f.machines) for f in found] == [3] * 8
    assert api_calls(tenant).count("/api/domains/contoso.com/machines") == 1
    assert sum(not f.cache_hit for f in found) == 1


def test_a_shared_cache_keeps_applications_clouds_and_tokens_apart(clock):
    cache = ResultCache(clock=clock)
    scripts = []

    def connector(**settings):
        script = Scripted(
            json_answer(200, {"access_token": "tok-en-value"}), json_answer(200, {"value": []})
        )
        scripts.append(script)
        if "token" in settings:
            script.answers.pop(0)
        return Connector(
            **settings, transport=script, clock=clock, budgets=Budgets(), cache=cache, cache_ttl=60
        )

    credentials = {"tenant_id": "contoso.com", "client_secret": "s3cret-value"}
    connector(**credentials, client_id="app-one").lookup("contoso.com")
    connector(**credentials, client_id="app-two").lookup("contoso.com")
    connector(**credentials, client_id="APP-ONE", cloud="eu").lookup("contoso.com")
    connector(token="first-token").lookup("contoso.com")
    connector(token="other-token").lookup("contoso.com")
    assert [sum(r.method == "get" for r in s.requests) for s in scripts] == [1] * 5
    # The same application, tenant and cloud in other letters; the same token.
    repeat = connector(**credentials, client_id="App-One").lookup("Contoso.com")
    again = connector(token="first-token").lookup("contoso.com")
    assert repeat.cache_hit and again.cache_hit
    assert scripts[-2].requests == scripts[-1].requests == []


def test_no_cache_unless_asked(tenant, clock):
    connector = cached(tenant, clock, cache_ttl=None)
    assert not connector.lookup("contoso.com").cache_hit
    assert not connector.lookup("contoso.com").cache_hit
    assert len(api_calls(tenant)) == 2
    connector = cached(tenant, clock, cache_ttl=0)
    connector.lookup("contoso.com")
    assert len(api_calls(tenant)) == 3


@pytest.mark.parametrize(
    "settings, message",
    [
        ({"cache_ttl": -1}, "cache_ttl=-1 is negative: give seconds, or None for no cache"),
        ({"cache_ttl": math.nan}, "cache_ttl=nan: give seconds, such as 300, or None for no cache"),
        ({"cache_ttl": "60"}, "cache_ttl='60': give seconds, such as 300, or None for no cache"),
        ({"cache_ttl": 60, "cache_entries": 0}, "cache_entries=0: a cache holds at least 1 entry"),
        ({"cache": ResultCache()}, "cache= needs cache_ttl=, the seconds a result is fresh"),
        ({"cache_entries": -5}, "cache_entries=-5: a cache holds at least 1 entry"),
        (
            {"cache_ttl": 60, "cache": ResultCache(), "cache_entries": 5},
            "cache_entries= is for a connector's own cache; a shared cache= has its own",
        ),
    ],
)
def test_unusable_cache_settings_are_refused(settings, message):
    with pytest.raises(InvalidSettings) as refused:
        Connector(token="t0ken-value", transport=Scripted(), budgets=Budgets(), **settings)
    assert refused.value.reason == message


def test_ascii_domains_are_keyed_as_the_component_normalises_them():
    assert domain_key(" Contoso.COM.\r\n") == "contoso.com"
    assert domain_key("contoso.com..") == "contoso.com."  # one dot only, as the component
    # Python's strip() would take these; the component's trim does not.
    assert domain_key("\x1ccontoso.com") == "\x1ccontoso.com"
    assert domain_key("bücher.example") is None
