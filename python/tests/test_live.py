"""The live transport (urllib) end to end: the component, through the
policy, to the fake tenant served on 127.0.0.1 as a custom cloud."""

import contextlib
import gzip
import json
import socket
import ssl
import threading
import time

import pytest

from mde_connector import Connector, TransportError, Unauthorized
from mde_connector.policy import Budgets
from mde_connector.transport import LiveTransport, Request, TransportFailure

from fake_tenant import CLIENT_ID, TENANT_ID, FakeTenant, self_signed, server_tls
from helpers import FakeClock


def live(tenant, transport=None, clock=None, **settings):
    return Connector(
        **{**tenant.connector_settings(), **settings},
        allow_loopback_http=True,
        transport=transport or LiveTransport(),
        clock=clock or FakeClock(),
        budgets=Budgets(),
    )


def seen(tenant):
    return [
        (method, path, headers.get("authorization")) for method, path, headers, _ in tenant.requests
    ]


TOKEN_PATH = f"/{TENANT_ID}/oauth2/v2.0/token"
CONTOSO = "/api/domains/contoso.com/machines"


def test_client_credentials_then_the_lookup_over_real_http(tenant):
    found = live(tenant).lookup("contoso.com")
    assert [m["computerDnsName"] for m in found.machines] == [
        "host-0.contoso.com",
        "host-1.contoso.com",
        "host-2.contoso.com",
    ]
    assert found.machines[1]["rbacGroupId"] == 1
    assert seen(tenant) == [
        ("POST", TOKEN_PATH, None),
        ("GET", CONTOSO, "Bearer fake-token-1"),
    ]
    _, _, token_headers, token_body = tenant.requests[0]
    assert token_headers["content-type"] == "application/x-www-form-urlencoded"
    assert f"client_id={CLIENT_ID}".encode() in token_body
    assert tenant.requests[1][2]["user-agent"].startswith("mde-connector-python/")


def test_a_401_fetches_a_fresh_token_once_and_repeats_the_call(tenant):
    connector = live(tenant)
    connector.lookup("contoso.com")
    tenant.revoke_tokens()
    assert len(connector.lookup("contoso.com").machines) == 3
    assert seen(tenant) == [
        ("POST", TOKEN_PATH, None),
        ("GET", CONTOSO, "Bearer fake-token-1"),
        ("GET", CONTOSO, "Bearer fake-token-1"),
        ("POST", TOKEN_PATH, None),
        ("GET", CONTOSO, "Bearer fake-token-2"),
    ]


def test_a_401_after_a_fresh_token_is_unauthorized(tenant):
    connector = live(tenant)
    connector.lookup("contoso.com")
    tenant.revoke_tokens()
    tenant.fail_next(401, json.dumps({"error": {"code": "Unauthorized", "message": "Kept token"}}))
    tenant.fail_next(200, json.dumps({"access_token": "never-valid"}))
    tenant.fail_next(401, json.dumps({"error": {"code": "Unauthorized", "message": "Fresh token"}}))
    with pytest.raises(Unauthorized) as caught:
        connector.lookup("contoso.com")
    assert caught.value.message == "Fresh token"
    assert [m for m, *_ in tenant.requests] == ["POST", "GET", "GET", "POST", "GET"]
    # A token fetched for this very call is not fetched again.
    fresh = live(tenant)
    tenant.fail_next(200, json.dumps({"access_token": "never-valid"}))
    tenant.fail_next(401, json.dumps({"error": {"code": "Unauthorized", "message": "At once"}}))
    with pytest.raises(Unauthorized, match="At once"):
        fresh.lookup("contoso.com")
    assert [m for m, *_ in tenant.requests[5:]] == ["POST", "GET"]


def test_a_wrong_secret_is_unauthorized_by_the_identity_platform(tenant):
    with pytest.raises(Unauthorized) as caught:
        live(tenant, client_secret="not-the-secret").lookup("contoso.com")
    assert caught.value.service == "identity-platform"
    assert caught.value.code == "invalid_client"
    assert caught.value.correlation_id == "11112222-3333-4444-5555-666677778888"


def test_a_429_from_the_service_is_waited_on_then_repeated(tenant):
    clock = FakeClock()
    connector = live(tenant, clock=clock)
    connector.lookup("contoso.com")
    tenant.fail_next(429, "", {"Retry-After": "7"})
    assert len(connector.lookup("contoso.com").machines) == 3
    assert clock.sleeps == [7]


@pytest.mark.parametrize("encoding", ["gzip", "deflate", "raw-deflate"])
def test_compressed_answers_are_decoded(tenant, encoding):
    tenant.encoding = encoding
    assert len(live(tenant).lookup("contoso.com").machines) == 3
    assert "gzip" in tenant.requests[1][2]["accept-encoding"]


def test_an_answer_over_the_size_cap_is_too_large(tenant):
    tenant.machines["big.example"] = [
        {"id": f"{i:040x}", "computerDnsName": "x" * 200} for i in range(50)
    ]
    transport = LiveTransport(max_body=4096)
    with pytest.raises(TransportError) as caught:
        live(tenant, transport).lookup("big.example")
    assert (caught.value.reason, caught.value.limit) == ("too-large", 4096)


def test_a_decompression_bomb_stops_at_the_cap(tenant):
    bomb = gzip.compress(b" " * (8 * 1024 * 1024))
    assert len(bomb) < 16 * 1024
    tenant.fail_next(200, bomb, {"Content-Type": "application/json", "Content-Encoding": "gzip"})
    transport = LiveTransport(max_body=1024 * 1024)
    with pytest.raises(TransportFailure) as caught:
        transport.send(Request("get", f"{tenant.origin}/anything"))
    assert (caught.value.reason, caught.value.detail) == ("too-large", 1024 * 1024)


def test_an_encoding_that_was_not_offered_is_refused(tenant):
    tenant.fail_next(200, "x", {"Content-Encoding": "br"})
    with pytest.raises(TransportFailure) as caught:
        LiveTransport().send(Request("get", f"{tenant.origin}/anything"))
    assert caught.value.reason == "other"
    assert "'br'" in caught.value.detail


def test_a_server_that_stalls_times_out_and_a_get_is_tried_again(tenant):
    connector = live(tenant)
    connector.lookup("contoso.com")  # the token, before the stall
    tenant.stall = 5
    connector.backend.transport = LiveTransport(connect_timeout=0.2, overall_timeout=0.5)
    started = time.monotonic()
    with pytest.raises(TransportError) as caught:
        connector.lookup("contoso.com")
    assert caught.value.reason == "timeout"
    assert time.monotonic() - started < 3
    assert [m for m, *_ in tenant.requests[2:]] == ["GET"] * 4


def test_a_server_that_drips_its_answer_meets_the_overall_deadline(tenant):
    tenant.drip = 0.05  # 20 bytes a second: a few seconds for the smallest answer
    transport = LiveTransport(connect_timeout=1, overall_timeout=0.5)
    started = time.monotonic()
    with pytest.raises(TransportFailure) as caught:
        transport.send(Request("get", f"{tenant.origin}/anything"))
    assert caught.value.reason == "timeout"
    assert time.monotonic() - started < 2


class Dribbler:
    """A loopback server that sends `first`, then one of `then` every
    `interval` seconds, to every connection, until stopped."""

    def __init__(self, first, then, interval):
        self.first, self.then, self.interval = first, then, interval
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.stopped = threading.Event()
        threading.Thread(target=self._serve, daemon=True).start()

    @property
    def port(self):
        return self.listener.getsockname()[1]

    def _serve(self):
        with contextlib.suppress(OSError):
            connection, _ = self.listener.accept()
            with connection:
                connection.sendall(self.first)
                for piece in self.then:
                    if self.stopped.wait(self.interval):
                        return
                    connection.sendall(piece)

    def stop(self):
        self.stopped.set()
        self.listener.close()


@pytest.fixture
def dribbler():
    servers = []

    def start(first, then, interval=0.5):
        servers.append(Dribbler(first, then, interval))
        return servers[-1]

    yield start
    for server in servers:
        server.stop()


def test_a_server_that_dribbles_its_headers_meets_the_overall_deadline(dribbler):
    """One header line every half second never trips the 5 s wait for each
    read; the 1.5 s deadline of the whole exchange ends it."""
    lines = [f"X-Drip-{n}: {n}\r\n".encode() for n in range(40)]
    server = dribbler(b"HTTP/1.1 200 OK\r\n", lines)
    transport = LiveTransport(connect_timeout=5, overall_timeout=1.5)
    started = time.monotonic()
    with pytest.raises(TransportFailure) as caught:
        transport.send(Request("get", f"http://127.0.0.1:{server.port}/anything"))
    assert caught.value.reason == "timeout"
    assert time.monotonic() - started < 3


def test_a_server_that_dribbles_its_tls_handshake_meets_the_overall_deadline(dribbler):
    # A TLS handshake record announced as 16 KiB long, then a byte at a time.
    server = dribbler(b"\x16\x03\x03\x40\x00", [b"\x02"] * 40)
    transport = LiveTransport(connect_timeout=5, overall_timeout=1.5)
    started = time.monotonic()
    with pytest.raises(TransportFailure) as caught:
        transport.send(Request("get", f"https://127.0.0.1:{server.port}/anything"))
    assert caught.value.reason == "timeout"
    assert time.monotonic() - started < 3


def test_a_closed_port_is_a_connection_error():
    server = FakeTenant()
    server.start()
    origin = server.origin
    server.stop()
    with pytest.raises(TransportFailure) as caught:
        LiveTransport(connect_timeout=1).send(Request("get", f"{origin}/x"))
    assert caught.value.reason == "connection"


def test_plain_http_to_loopback_never_goes_through_a_proxy(tenant, monkeypatch):
    # A proxy that does not exist: a request sent to it would fail.
    for name in (
        "http_proxy",
        "https_proxy",
        "all_proxy",
        "HTTP_PROXY",
        "HTTPS_PROXY",
        "ALL_PROXY",
    ):
        monkeypatch.setenv(name, "http://127.0.0.1:9")
    monkeypatch.delenv("no_proxy", raising=False)
    monkeypatch.delenv("NO_PROXY", raising=False)
    assert len(live(tenant).lookup("contoso.com").machines) == 3


@pytest.fixture(scope="module")
def certificate(tmp_path_factory):
    return self_signed(tmp_path_factory.mktemp("tls"))


@pytest.fixture
def https_tenant(certificate):
    server = FakeTenant(tls=server_tls(*certificate))
    server.start()
    yield server
    server.stop()


def test_certificates_are_verified(https_tenant):
    connector = Connector(**https_tenant.connector_settings(), budgets=Budgets(), clock=FakeClock())
    with pytest.raises(TransportError) as caught:
        connector.lookup("contoso.com")
    assert caught.value.reason == "connection"
    assert "CERTIFICATE_VERIFY_FAILED" in caught.value.detail
    # Nothing reached the tenant: the token request died in the handshake.
    assert https_tenant.requests == []


def test_a_trusted_certificate_for_another_name_is_refused_too(https_tenant, certificate):
    trusting = ssl.create_default_context(cafile=str(certificate[0]))
    transport = LiveTransport(tls=trusting)
    # The certificate names localhost; the tenant is reached as 127.0.0.1.
    with pytest.raises(TransportFailure) as caught:
        transport.send(Request("get", f"{https_tenant.origin}/x"))
    assert "CERTIFICATE_VERIFY_FAILED" in caught.value.detail or "match" in caught.value.detail
    # Under its own name, with its certificate trusted, the same server answers.
    port = https_tenant.origin.rsplit(":", 1)[1]
    assert transport.send(Request("get", f"https://localhost:{port}/x")).status == 404


def test_verification_cannot_be_switched_off():
    unverified = ssl._create_unverified_context()
    with pytest.raises(ValueError):
        LiveTransport(tls=unverified)


def test_https_goes_through_the_configured_proxy(monkeypatch):
    """A CONNECT proxy on loopback that records what it was asked and refuses:
    the host name reaches the proxy, which resolves it, not this machine."""
    import socket
    import threading

    listener = socket.create_server(("127.0.0.1", 0))
    asked = []

    def proxy():
        connection, _ = listener.accept()
        with connection:
            asked.append(connection.recv(4096).split(b"\r\n")[0])
            connection.sendall(b"HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n")

    thread = threading.Thread(target=proxy, daemon=True)
    thread.start()
    monkeypatch.setenv("https_proxy", f"http://127.0.0.1:{listener.getsockname()[1]}")
    monkeypatch.delenv("no_proxy", raising=False)
    monkeypatch.delenv("NO_PROXY", raising=False)
    try:
        with pytest.raises(TransportFailure) as caught:
            LiveTransport(connect_timeout=2).send(
                Request("get", "https://api.example.test/api/domains/a/machines")
            )
        thread.join(5)
    finally:
        listener.close()
    assert asked == [b"CONNECT api.example.test:443 HTTP/1.0"]
    assert caught.value.reason == "connection"
    assert "403" in caught.value.detail
