"""The other lookups (issue 25) through the component: each method's request,
its answers (empty, 404, the prevalence's two names), each bad input refused
before any request, the host's time checks, and events of any machine list."""

import datetime

import pytest

from mde_connector import Connector, errors

from fake_tenant import machine

SHA1 = "4388963AAA83AFE2042A46A3C0E2A9AF5B5D4F0D"
UTC = datetime.timezone.utc


@pytest.fixture
def connector(tenant):
    return Connector(**tenant.connector_settings(), allow_loopback_http=True)


def machines(*ids):
    return {"value": [machine(i, "contoso.com") for i in ids]}


def api_paths(tenant):
    return [path for method, path, *_ in tenant.requests if method == "GET"]


def test_file_user_and_machine_lookups_send_their_routes(tenant, connector):
    tenant.answers[f"/api/files/{SHA1.lower()}/machines"] = (200, machines(1, 2))
    tenant.answers["/api/users/user1/machines"] = (200, {"value": []})
    tenant.answers["/api/machines/" + "a" * 40] = (200, machine(7, "contoso.com"))
    found = connector.file_machines(SHA1)
    assert (found.kind, found.query, found.cap_reached) == ("file", SHA1.lower(), False)
    assert [m["id"] for m in found.machines] == [f"{1:040x}", f"{2:040x}"]
    empty = connector.user_machines("user1")
    assert (empty.kind, empty.machines) == ("user", [])
    assert connector.machine("a" * 40)["computerDnsName"] == "host-7.contoso.com"
    assert api_paths(tenant) == [
        f"/api/files/{SHA1.lower()}/machines",
        "/api/users/user1/machines",
        "/api/machines/" + "a" * 40,
    ]


def test_an_unknown_machine_is_none_not_an_error(tenant, connector):
    tenant.answers["/api/machines/h9"] = (
        404,
        {"error": {"code": "ResourceNotFound", "message": "Machine h9 was not found"}},
    )
    assert connector.machine("h9") is None


def test_an_ip_lookup_sends_the_address_quoted_and_the_time_in_utc(tenant, connector):
    at = datetime.datetime.now(UTC).replace(microsecond=0) - datetime.timedelta(hours=1)
    stamp = at.strftime("%Y-%m-%dT%H:%M:%SZ")
    tenant.answers[f"/api/machines/findbyip(ip='fe80::1',timestamp={stamp})"] = (
        200,
        machines(3),
    )
    found = connector.ip_machines(
        "fe80::1", at=at.astimezone(datetime.timezone(datetime.timedelta(hours=2)))
    )
    assert (found.kind, found.query, found.at) == ("ip", "fe80::1", stamp)
    assert len(found.machines) == 1
    # Without a time: now, as the host's clock reads it.
    connector.ip_machines("10.1.2.3")
    sent = api_paths(tenant)[-1]
    assert sent.startswith("/api/machines/findbyip(ip='10.1.2.3',timestamp=20"), sent


@pytest.mark.parametrize(
    "call, error, says",
    [
        (
            lambda c: c.file_machines("d41d8cd98f00b204e9800998ecf8427e"),
            errors.InvalidFileHash,
            "SHA-1",
        ),
        (lambda c: c.file_machines("e3b0c442" * 8), errors.InvalidFileHash, "SHA-1"),
        (lambda c: c.user_machines("user1@contoso.com"), errors.InvalidUserName, "user1"),
        (lambda c: c.user_machines("a/../b"), errors.InvalidUserName, ""),
        (lambda c: c.machine("h1?x=1"), errors.InvalidMachineId, ""),
        (lambda c: c.ip_machines("10.0.0.0/8"), errors.InvalidIp, ""),
        (lambda c: c.ip_stats("fe80::1%eth0"), errors.InvalidIp, ""),
        (lambda c: c.ip_machines("10.0.0.1", at="yesterday"), errors.InvalidTime, ""),
        (lambda c: c.domain_stats("contoso.com", look_back_hours=0), errors.InvalidLookBack, "720"),
        (
            lambda c: c.domain_stats("contoso.com", look_back_hours=-1),
            errors.InvalidLookBack,
            "720",
        ),
        (lambda c: c.domain_stats("a..b"), errors.InvalidDomain, ""),
    ],
)
def test_bad_input_is_refused_before_any_request(tenant, connector, call, error, says):
    with pytest.raises(error) as refused:
        call(connector)
    assert says in refused.value.reason
    assert tenant.requests == []


def test_the_host_refuses_a_time_in_the_future_or_older_than_30_days(tenant, connector):
    now = datetime.datetime.now(UTC)
    for at, says in [
        (now + datetime.timedelta(hours=1), "in the future"),
        ((now - datetime.timedelta(days=31)).strftime("%Y-%m-%dT%H:%M:%SZ"), "more than 30 days"),
        (datetime.datetime(2026, 1, 1), "timezone-aware"),
    ]:
        with pytest.raises(errors.InvalidTime, match=says):
            connector.ip_machines("10.0.0.1", at=at)
    assert tenant.requests == []


def test_prevalence_of_a_domain_and_an_address(tenant, connector):
    tenant.answers["/api/domains/contoso.com/stats?lookBackHours=24"] = (
        200,
        {
            "host": "contoso.com",
            "orgPrevalence": "3",
            "orgFirstSeen": "2026-11-01T00:00:00Z",
            "orgLastSeen": None,
            "extra": [1],
        },
    )
    tenant.answers["/api/ips/10.1.2.3/stats"] = (
        200,
        {"ipAddress": "10.1.2.3", "organizationPrevalence": 0, "orgFirstSeen": None},
    )
    domain = connector.domain_stats("CONTOSO.com", look_back_hours=24)
    assert (domain.lookup, domain.query, domain.look_back_hours) == (
        "domain-stats",
        "contoso.com",
        24,
    )
    assert domain.sent_as == "contoso.com"
    assert domain.org_first_seen == "2026-11-01T00:00:00Z"
    assert domain.unmodelled is not None and domain.unmodelled["extra"] == [1]
    ip = connector.ip_stats("10.1.2.3")
    assert (ip.lookup, ip.query, ip.organization_prevalence) == ("ip-stats", "10.1.2.3", 0)
    assert (ip.org_first_seen, ip.sent_as) == (None, "10.1.2.3")


@pytest.mark.parametrize(
    "path, call, role",
    [
        ("/api/domains/contoso.com/stats", lambda c: c.domain_stats("contoso.com"), "URL.Read.All"),
        ("/api/ips/10.1.2.3/stats", lambda c: c.ip_stats("10.1.2.3"), "Ip.Read.All"),
    ],
)
def test_a_403_of_a_stats_route_names_its_permission(tenant, connector, path, call, role):
    body = {"error": {"code": "Forbidden", "message": "Access denied."}}
    tenant.answers[path] = (403, body)
    with pytest.raises(errors.Forbidden) as refused:
        call(connector)
    assert (refused.value.status, refused.value.code) == (403, "Forbidden")
    assert role in refused.value.hint, refused.value.hint
    assert f"; to fix: {refused.value.hint}" in str(refused.value)


def test_events_of_any_machine_list_name_its_query(tenant, connector):
    tenant.answers[f"/api/files/{SHA1.lower()}/machines"] = (200, machines(1))
    found = connector.file_machines(SHA1)
    (ocsf,) = connector.ocsf(found, observed_at=1_800_000_000_000)
    (ecs,) = connector.ecs(found, observed_at=1_800_000_000_000)
    assert ocsf["class_uid"] == 5001
    assert SHA1.lower() in repr(ocsf["unmapped"])
    assert SHA1.lower() in repr(ecs)
    assert len(api_paths(tenant)) == 1, "the events cost no request"
