"""Lookups and events through the component, answered from replay files."""

import datetime
import decimal
import json

import pytest

import mde_connector
from mde_connector import Connector, InvalidResponse, LookupResult
from mde_connector.connector import _machine, _machines
from mde_connector.transport import Replay, Response

from helpers import REPLAYS, Scripted, json_answer


def replayed(name, **settings):
    return Connector(replay=REPLAYS / name, **settings)


def test_the_package_says_its_version():
    assert mde_connector.__version__ == "0.1.0"


def test_machines_keep_the_services_field_names_and_values():
    found = replayed("machines.json").lookup("Contoso.COM ")
    assert isinstance(found, LookupResult)
    assert found.domain == "contoso.com"
    assert found.cap_reached is False
    assert [m["id"] for m in found.machines] == [
        "4e1b7c2a9d0f3e5a6b8c7d9e0f1a2b3c4d5e6f70",
        "0a1b2c3d4e5f60718293a4b5c6d7e8f901234567",
        "fedcba9876543210fedcba9876543210fedcba98",
    ]
    workstation, linux, mac = found.machines
    assert workstation["computerDnsName"] == "fin-ws-07.corp.contoso.com"
    assert workstation["osBuild"] == 19045
    assert workstation["rbacGroupId"] == 12  # as sent: a number on the wire
    assert workstation["machineTags"] == ["finance", "läptop"]
    assert workstation["ipAddresses"][1] == {
        "ipAddress": "",
        "macAddress": None,
        "type": "SoftwareLoopback",
        "operationalStatus": "Down",
    }
    assert linux["healthStatus"] == "NoSensorDataImpairedCommunication"
    assert linux["vmMetadata"]["cloudProvider"] == "Azure"
    assert linux["osBuild"] is None
    # Values the contract has no case for pass through as sent.
    assert mac["healthStatus"] == "Quarantined"
    assert mac["riskScore"] == "Severe"
    assert mac["deviceValue"] == "Critical"
    assert mac["mergedIntoMachineId"] == workstation["id"]


def test_machines_are_the_components_json_parsed_not_rebuilt():
    found = replayed("machines.json").lookup("contoso.com")
    assert [json.loads(text) for text in found.machines_json] == found.machines


BIG = "9" * 5000  # past Python's 4,300-digit limit for int() from text


def big_numbers():
    machine = f'{{"id":"{"a" * 40}","osBuild":{BIG},"vmMetadata":{{"n":[-{BIG}]}}}}'
    body = f'{{"value":[{machine}]}}'
    return Replay([Response(200, [("content-type", "application/json")], body.encode())])


def test_an_integer_past_pythons_digit_limit_is_kept_exactly_not_a_crash():
    connector = Connector(replay=big_numbers())
    found = connector.lookup("contoso.com")
    (machine,) = found.machines
    assert machine["osBuild"] == decimal.Decimal(BIG)
    assert str(machine["osBuild"]) == BIG
    assert str(machine["vmMetadata"]["n"][0]) == "-" + BIG
    assert BIG in found.machines_json[0]
    # The events of the same machine parse too.
    assert len(connector.ocsf(found)) == len(connector.ecs(found)) == 1


def test_the_texts_are_parsed_in_one_parse_and_text_by_text_when_that_fails(monkeypatch):
    texts = ['{"id":"a","n":1}', '{"id":"b","s":"x,y]}"}', '{"id":"c","l":[{}]}']
    parses = []
    loads = json.loads
    monkeypatch.setattr(json, "loads", lambda text, **kw: parses.append(text) or loads(text, **kw))
    assert _machines(texts) == [loads(text) for text in texts]
    assert len(parses) == 1
    assert _machines([]) == []
    # A number past Python's digit limit: every text parsed, that one exactly.
    big = f'{{"id":"d","osBuild":{BIG}}}'
    machines = _machines(texts + [big])
    assert machines[:3] == [loads(text) for text in texts]
    assert str(machines[3]["osBuild"]) == BIG
    # Texts that parse as an array of another length are parsed one by one.
    with pytest.raises(InvalidResponse):
        _machines(['{"id":"a"},{"id":"b"}'])


def test_a_machine_python_cannot_parse_is_an_invalid_response_not_a_crash():
    with pytest.raises(InvalidResponse) as caught:
        _machine("[" * 100_000 + "]" * 100_000)
    with pytest.raises(InvalidResponse):
        _machines(['{"id":"a"}', "[" * 100_000 + "]" * 100_000])
    assert caught.value.reason == "a machine is JSON Python cannot read (RecursionError)"
    assert caught.value.excerpt == "[" * 200


def test_an_unknown_domain_and_a_404_are_no_machines():
    assert replayed("empty.json").lookup("contoso.com").machines == []
    assert replayed("not-found-404.json").lookup("contoso.com").machines == []


def test_a_unicode_domain_is_queried_in_punycode():
    connector = replayed("empty.json")
    found = connector.lookup("Bücher.Example")
    assert found.domain == "xn--bcher-kva.example"
    assert connector.requests[0].url.endswith("/api/domains/xn--bcher-kva.example/machines")


def full_page(count):
    machines = [{"id": f"{i:040x}", "computerDnsName": f"m{i}.contoso.com"} for i in range(count)]
    return Replay([json_answer(200, {"value": machines})])


def test_the_500_machine_cap_is_signalled_and_logged():
    connector = Connector(replay=full_page(500))
    found = connector.lookup("contoso.com")
    assert len(found.machines) == 500
    assert found.cap_reached is True
    assert "result-cap-reached" in [event for _, event, _ in connector.logs]
    assert Connector(replay=full_page(499)).lookup("contoso.com").cap_reached is False


def test_a_bearer_token_goes_in_the_authorization_header():
    script = Scripted(json_answer(200, {"value": []}))
    Connector(token="opaque-token-1", transport=script).lookup("contoso.com")
    (request,) = script.requests
    assert request.method == "get"
    assert request.url == "https://api.security.microsoft.com/api/domains/contoso.com/machines"
    assert request.header("authorization") == "Bearer opaque-token-1"


def test_ocsf_and_ecs_map_the_lookup_without_another_request():
    connector = replayed("machines.json")
    found = connector.lookup("contoso.com")
    observed = datetime.datetime(2026, 11, 28, 10, 0, tzinfo=datetime.timezone.utc)
    events = connector.ocsf(found, observed_at=observed)
    documents = connector.ecs(found, observed_at=observed)
    assert len(connector.requests) == 1
    assert [e["class_uid"] for e in events] == [5001] * 3
    assert events[0]["time"] == int(observed.timestamp() * 1000)
    assert events[0]["device"]["uid"] == found.machines[0]["id"]
    assert events[0]["unmapped"]["queriedDomain"] == "contoso.com"
    assert [d["host"]["id"] for d in documents] == [m["id"] for m in found.machines]
    assert documents[0]["@timestamp"] == "2026-11-28T10:00:00.000Z"
    # The texts behind them, as pipelines get them.
    assert [json.loads(t) for t in connector.ocsf_json(found, observed)] == events


def test_events_default_to_now_and_take_milliseconds():
    connector = replayed("machines.json")
    found = connector.lookup("contoso.com")
    before = int(datetime.datetime.now(datetime.timezone.utc).timestamp() * 1000)
    (first, *_) = connector.ocsf(found)
    after = int(datetime.datetime.now(datetime.timezone.utc).timestamp() * 1000)
    assert before <= first["time"] <= after
    assert connector.ecs(found, 0)[0]["@timestamp"] == "1970-01-01T00:00:00.000Z"


@pytest.mark.parametrize(
    "observed_at, error",
    [
        (datetime.datetime(2026, 1, 1), ValueError),  # naive: which zone?
        (datetime.datetime(1969, 12, 31, tzinfo=datetime.timezone.utc), ValueError),
        (-1, ValueError),
        (2**64, ValueError),
        ("now", TypeError),
        (True, TypeError),
    ],
)
def test_events_refuse_an_observation_time_they_cannot_use(observed_at, error):
    connector = replayed("machines.json")
    found = connector.lookup("contoso.com")
    with pytest.raises(error):
        connector.ocsf(found, observed_at)


def test_a_replay_and_a_transport_exclude_each_other():
    with pytest.raises(TypeError, match="not both"):
        Connector(token="t0ken", replay=REPLAYS / "empty.json", transport=Scripted())


def test_events_map_a_lookup_result_kept_as_its_texts():
    # A pipeline that stored the texts maps them later, with no request and
    # no typed records: the component reads the texts back as it read the answer.
    connector = replayed("machines.json")
    found = connector.lookup("contoso.com")
    kept = json.loads(json.dumps(found.machines_json))
    again = LookupResult(
        domain=found.domain, machines=[], cap_reached=found.cap_reached, machines_json=kept
    )
    later = replayed("machines.json")
    assert later.ocsf_json(again, 0) == connector.ocsf_json(found, 0)
    assert later.ecs_json(again, 0) == connector.ecs_json(found, 0)
    assert later.requests == []


def test_events_name_a_text_that_is_not_a_machine():
    connector = replayed("machines.json")
    found = connector.lookup("contoso.com")
    found.machines_json[1] = '{"computerDnsName": "no-id.contoso.com"}'
    with pytest.raises(ValueError, match="^machine text 1: no id$"):
        connector.ocsf(found, 0)
    found.machines_json[1] = "[]"
    with pytest.raises(ValueError, match="^machine text 1: invalid type: sequence"):
        connector.ecs(found, 0)


def test_events_need_a_lookup_result():
    connector = replayed("machines.json")
    with pytest.raises(TypeError):
        connector.ocsf({"machines": []})
    with pytest.raises(TypeError):
        connector.lookup(b"contoso.com")


def test_a_connector_keeps_its_instance_and_token_between_lookups():
    token = json_answer(200, {"token_type": "Bearer", "access_token": "kept-token"})
    script = Scripted(token, json_answer(200, {"value": []}), json_answer(200, {"value": []}))
    connector = Connector(
        tenant_id="contoso.onmicrosoft.com",
        client_id="client",
        client_secret="secret-value",
        transport=script,
    )
    connector.lookup("contoso.com")
    connector.lookup("fabrikam.com")
    assert [(r.method, r.url.split("/")[2]) for r in script.requests] == [
        ("post", "login.microsoftonline.com"),
        ("get", "api.security.microsoft.com"),
        ("get", "api.security.microsoft.com"),
    ]
    assert script.requests[2].header("authorization") == "Bearer kept-token"
    token_request = script.requests[0]
    assert token_request.url == (
        "https://login.microsoftonline.com/contoso.onmicrosoft.com/oauth2/v2.0/token"
    )
    assert token_request.body == (
        b"grant_type=client_credentials&client_id=client&client_secret=secret-value"
        b"&scope=https%3A%2F%2Fapi.securitycenter.microsoft.com%2F.default"
    )


def test_replay_files_are_checked_like_the_rust_clis(tmp_path):
    for text, message in [
        ("{}", "JSON array"),
        ("[1]", "not an object"),
        ('[{"status": 200, "extra": 1}]', "unknown field 'extra'"),
        ('[{"status": 700}]', "outside 100-599"),
        ('[{"status": "200"}]', "integer status"),
        ('[{"status": 200, "headers": {"a": 1}}]', "headers"),
        ('[{"status": 200, "body": 5}]', "body"),
    ]:
        with pytest.raises(ValueError, match=message):
            Replay.from_json(text)
    replay = Replay.from_json('[{"status": 204}]')
    assert replay.answers == [Response(204, [], b"")]
