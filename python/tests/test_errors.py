"""Every case of the WIT `error` variant, as its own exception class with
what the service said."""

import pytest
from wasmtime.component import Record, Variant

from mde_connector import (
    ApiError,
    Connector,
    ConnectorError,
    Forbidden,
    InvalidDomain,
    InvalidResponse,
    InvalidSettings,
    RateLimited,
    ServiceError,
    ServiceUnavailable,
    TransportError,
    Unauthorized,
)
from mde_connector import errors
from mde_connector.policy import Budgets
from mde_connector.transport import Response, TransportFailure

from helpers import REPLAYS, Scripted, json_answer


def error_of(replay_name, domain="contoso.com", **settings):
    connector = Connector(replay=REPLAYS / replay_name, **settings)
    with pytest.raises(ConnectorError) as caught:
        connector.lookup(domain)
    return caught.value, connector


def test_an_invalid_domain_is_refused_before_any_request():
    error, connector = error_of("machines.json", domain="contoso.com/evil")
    assert type(error) is InvalidDomain
    assert error.kind == "invalid-domain"
    assert error.reason == "character 12 is '/', which is not allowed in a domain name"
    assert str(error) == f"invalid-domain: {error.reason}"
    assert connector.requests == []


@pytest.mark.parametrize("name", ["token", "client_secret", "tenant_id", "scope"])
def test_a_setting_that_is_not_unicode_text_is_refused_when_the_connector_is_made(name):
    settings = (
        {"token": "t0ken-value"}
        if name == "token"
        else {"tenant_id": "t", "client_id": "c", "client_secret": "s3cret-value"}
    )
    if name == "scope":
        settings.update(cloud="custom", api_base="https://a.test", login_host="https://l.test")
    settings[name] = "ok-\udcff-then"
    with pytest.raises(InvalidSettings) as caught:
        Connector(**settings, transport=Scripted(), budgets=Budgets())
    assert caught.value.reason == (
        f"{name} is not UTF-8 text: character 4 is not a Unicode scalar value "
        "(from bytes that are not UTF-8?)"
    )


def test_a_domain_that_is_not_unicode_text_is_invalid_and_costs_no_instance():
    token = json_answer(200, {"access_token": "kept-token"})
    empty = json_answer(200, {"value": []})
    script = Scripted(token, empty, empty)
    connector = Connector(
        tenant_id="contoso.onmicrosoft.com",
        client_id="client",
        client_secret="secret-value",
        transport=script,
        budgets=Budgets(),
    )
    connector.lookup("contoso.com")
    with pytest.raises(InvalidDomain) as caught:
        connector.lookup("contoso\udc80.com")
    assert caught.value.reason == "character 8 is not a Unicode scalar value"
    connector.lookup("contoso.com")
    # The instance and its token lived on: no second token request.
    assert [r.method for r in script.requests] == ["post", "get", "get"]


def test_unusable_settings_are_reported_by_the_component():
    error, connector = error_of(
        "machines.json",
        cloud="custom",
        api_base="https://api.example.test/path",
        login_host="https://login.example.test",
        scope="s",
    )
    assert type(error) is InvalidSettings
    assert "api base" in error.reason and "'/'" in error.reason
    assert connector.requests == []
    error, _ = error_of("machines.json", token="two words")
    assert type(error) is InvalidSettings
    assert "bearer token" in error.reason


def test_settings_the_host_can_judge_are_refused_at_construction():
    cases = [
        ({"cloud": "mars"}, "unknown cloud 'mars'"),
        ({"cloud": "custom", "api_base": "https://a"}, "login_host, scope"),
        ({"api_base": "https://a"}, "for cloud='custom'"),
        ({"token": "t", "client_secret": "s"}, "not both"),
        ({"tenant_id": "t", "client_id": "c"}, "all of tenant_id"),
        ({}, "give token="),
    ]
    for settings, message in cases:
        with pytest.raises(InvalidSettings, match=message):
            Connector(**settings)


def test_401_is_unauthorized_with_the_services_details():
    error, _ = error_of("unauthorized-401.json")
    assert type(error) is Unauthorized
    assert isinstance(error, ServiceError)
    assert (error.service, error.status, error.code) == ("api", 401, "Unauthorized")
    assert error.message == "Authorization token is expired"
    assert error.correlation_id == "1a2b3c4d-0000-4000-8000-000000000401"
    assert str(error) == (
        "unauthorized: API answered 401 Unauthorized: Authorization token is expired "
        "(correlation id 1a2b3c4d-0000-4000-8000-000000000401)"
    )


def test_a_refused_token_grant_is_unauthorized_by_the_identity_platform():
    connector = Connector(
        tenant_id="contoso.onmicrosoft.com",
        client_id="client",
        client_secret="wrong-secret",
        replay=REPLAYS / "token-refused.json",
    )
    with pytest.raises(Unauthorized) as caught:
        connector.lookup("contoso.com")
    error = caught.value
    assert (error.service, error.status, error.code) == ("identity-platform", 401, "invalid_client")
    assert error.message.startswith("AADSTS7000215")
    assert error.correlation_id == "c0ffee00-1234-4567-89ab-cdef01234567"


def test_403_is_forbidden():
    error, _ = error_of("forbidden-403.json")
    assert type(error) is Forbidden
    assert error.code == "Forbidden"
    assert "Machine.Read.All" in error.message


def test_429_is_rate_limited_with_its_retry_after():
    error, _ = error_of("throttled-429.json")
    assert type(error) is RateLimited
    assert error.retry_after == 37
    assert error.code == "TooManyRequests"
    assert error.correlation_id == "4c1b2a3d-5e6f-4a7b-8c9d-0e1f2a3b4c5d"
    assert str(error).endswith("; retry after 37 s")


def test_another_4xx_is_an_api_error():
    error, _ = error_of("invalid-domain-400.json")
    assert type(error) is ApiError
    assert (error.status, error.code) == (400, "InvalidDomainName")
    assert error.correlation_id == "9e8d7c6b-5a4f-4e3d-8c2b-1a0f9e8d7c6b"


def test_5xx_is_service_unavailable_even_without_an_envelope():
    error, _ = error_of("server-error-500.json")
    assert type(error) is ServiceUnavailable
    assert (error.status, error.code) == (500, "InternalServerError")
    assert error.retry_after is None
    error, _ = error_of("gateway-html-502.json")
    assert type(error) is ServiceUnavailable
    assert (error.status, error.code, error.message) == (502, None, None)
    # A 5xx's Retry-After is kept, as a 429's is.
    error, _ = error_of("unavailable-503.json")
    assert type(error) is ServiceUnavailable
    assert (error.status, error.retry_after) == (503, 7)
    assert str(error).endswith("; retry after 7 s")


def test_an_answer_that_is_not_the_services_is_an_invalid_response():
    error, _ = error_of("html-200.json")
    assert type(error) is InvalidResponse
    assert (error.service, error.status) == ("api", 200)
    assert "not the expected JSON" in error.reason
    assert error.excerpt.startswith("<!DOCTYPE html>")
    assert "\x1b" not in error.excerpt  # control characters come escaped
    error, _ = error_of("wrong-shape.json")
    assert type(error) is InvalidResponse
    # The reason names the machine and the field, as the lenient reader does.
    assert "machine 0: id" in error.reason


def test_a_body_that_is_not_utf8_reaches_the_component_as_bytes():
    # UTF-8 bodies go in as text (one string), any other as bytes: the
    # component says where the text stops being UTF-8.
    body = b'{"value": [{"id": "a1", "computerDnsName": "caf\xe9"}]}'
    connector = Connector(token="t0ken-0123456789", transport=Scripted(Response(200, [], body)))
    with pytest.raises(InvalidResponse) as raised:
        connector.lookup("contoso.com")
    assert raised.value.reason == "the body is not UTF-8 (at byte 47)"


@pytest.mark.parametrize(
    "failure, reason, detail, limit",
    [
        (TransportFailure("timeout"), "timeout", None, None),
        (
            TransportFailure("connection", "connection refused"),
            "connection",
            "connection refused",
            None,
        ),
        (TransportFailure("too-large", 1024), "too-large", None, 1024),
        (TransportFailure("other", "odd"), "other", "odd", None),
    ],
)
def test_a_transport_failure_is_a_transport_error_of_its_kind(
    failure, reason, detail, limit, clock
):
    # Repeated as a GET would be, then given to the component.
    connector = Connector(token="t0ken", transport=Scripted(*[failure] * 4), clock=clock)
    with pytest.raises(TransportError) as caught:
        connector.lookup("contoso.com")
    error = caught.value
    assert (error.reason, error.detail, error.limit) == (reason, detail, limit)


def test_running_out_of_replayed_answers_is_a_transport_error():
    error, _ = error_of("no-answers.json")
    assert type(error) is TransportError
    assert (error.reason, error.detail) == ("other", "the replay has no answer for request 1")


def test_every_wit_case_has_its_own_class():
    classes = [
        InvalidDomain,
        InvalidSettings,
        Unauthorized,
        Forbidden,
        RateLimited,
        ApiError,
        ServiceUnavailable,
        TransportError,
        InvalidResponse,
    ]
    assert [c.kind for c in classes] == [
        "invalid-domain",
        "invalid-settings",
        "unauthorized",
        "forbidden",
        "rate-limited",
        "api-error",
        "service-unavailable",
        "transport",
        "invalid-response",
    ]
    assert all(issubclass(c, ConnectorError) for c in classes)
    # A program catches a service's answer in one place.
    assert all(issubclass(c, ServiceError) for c in classes[2:7])


def test_each_kind_of_refused_input_has_its_class_and_exit_status():
    from mde_connector.__main__ import EXIT_INPUT, exit_status

    for kind, cls in [
        ("invalid-domain", InvalidDomain),
        ("invalid-file-hash", errors.InvalidFileHash),
        ("invalid-user-name", errors.InvalidUserName),
        ("invalid-ip", errors.InvalidIp),
        ("invalid-time", errors.InvalidTime),
        ("invalid-machine-id", errors.InvalidMachineId),
        ("invalid-look-back", errors.InvalidLookBack),
    ]:
        error = errors.from_wit(
            Variant(kind, "why S3CRETVALUE"), lambda t: t.replace("S3CRETVALUE", "[redacted]")
        )
        assert type(error) is cls
        assert isinstance(error, errors.InvalidInput)
        assert (error.kind, error.reason) == (kind, "why [redacted]")
        assert str(error) == f"{kind}: why [redacted]"
        assert exit_status(error) == EXIT_INPUT


def test_a_hint_says_what_to_fix_after_the_services_own_words():
    details = Record()
    details.service = "api"
    details.status = 403
    details.code = "Forbidden"
    details.message = "Missing application roles. API required roles: Machine.Read.All"
    setattr(details, "correlation-id", "c0")
    details.hint = "grant Machine.Read.All as an application permission, with admin consent"
    error = errors.from_wit(Variant("forbidden", details), lambda t: t)
    assert type(error) is Forbidden
    assert error.hint == details.hint
    assert str(error) == (
        "forbidden: API answered 403 Forbidden: Missing application roles. API required roles: "
        "Machine.Read.All (correlation id c0); to fix: grant Machine.Read.All as an application "
        "permission, with admin consent"
    )
    details.hint = None
    assert "to fix" not in str(errors.from_wit(Variant("forbidden", details), lambda t: t))
