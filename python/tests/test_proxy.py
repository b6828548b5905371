"""Proxies, as the Rust host takes them: the first of ALL_PROXY, HTTPS_PROXY
and HTTP_PROXY (either case), NO_PROXY's exceptions, a CONNECT tunnel with
the server's certificate verified end to end, and proxy credentials never
printed. The proxy is a loopback CONNECT proxy that records what it is sent."""

import base64
import ssl

import pytest

from mde_connector import Connector, InvalidSettings, TransportError
from mde_connector.policy import Budgets
from mde_connector.transport import (
    PROXY_VARIABLES,
    LiveTransport,
    Request,
    TransportFailure,
    proxy_from_environment,
)

from connect_proxy import ConnectProxy
from fake_tenant import FakeTenant, self_signed, server_tls
from helpers import FakeClock, run_python_cli

NAME = "mde.example.test"
PROXY_USER, PROXY_PASSWORD = "proxy-user", "pr0xy-pa55word"


@pytest.fixture(autouse=True)
def no_proxy_settings(monkeypatch):
    for name in (*PROXY_VARIABLES, "NO_PROXY", "no_proxy"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture(scope="module")
def certificate(tmp_path_factory):
    return self_signed(tmp_path_factory.mktemp("tls"), NAME)


@pytest.fixture
def tenant(certificate):
    """The fake tenant over https, with a certificate for NAME."""
    server = FakeTenant(tls=server_tls(*certificate))
    server.start()
    yield server
    server.stop()


@pytest.fixture
def proxy(tenant):
    """Tunnels NAME to the tenant."""
    server = ConnectProxy({NAME: ("127.0.0.1", int(tenant.origin.rsplit(":", 1)[1]))}).start()
    yield server
    server.stop()


def origin(tenant):
    return f"https://{NAME}:{tenant.origin.rsplit(':', 1)[1]}"


def connector(tenant, tls=None):
    settings = tenant.connector_settings()
    settings.update(api_base=origin(tenant), login_host=origin(tenant))
    return Connector(
        **settings, transport=LiveTransport(tls=tls), clock=FakeClock(), budgets=Budgets()
    )


def with_password(proxy_url):
    return proxy_url.replace("http://", f"http://{PROXY_USER}:{PROXY_PASSWORD}@")


def test_a_lookup_goes_through_the_proxy_with_tls_end_to_end(
    tenant, proxy, certificate, monkeypatch
):
    monkeypatch.setenv("HTTPS_PROXY", with_password(proxy.url))
    trusting = ssl.create_default_context(cafile=str(certificate[0]))
    found = connector(tenant, tls=trusting).lookup("contoso.com")
    assert len(found.machines) == 3
    assert [method for method, *_ in tenant.requests] == ["POST", "GET"]
    credentials = base64.b64encode(f"{PROXY_USER}:{PROXY_PASSWORD}".encode()).decode()
    port = tenant.origin.rsplit(":", 1)[1]
    for head in proxy.heads:
        lines = head.decode().split("\r\n")
        assert lines[0] == f"CONNECT {NAME}:{port} HTTP/1.0"
        assert f"Proxy-Authorization: Basic {credentials}" in lines
    assert len(proxy.heads) == 2
    # The proxy relayed only TLS: neither the secret nor the token nor the path.
    for clear in (tenant.client_secret, "Bearer", "/api/domains", "contoso.com"):
        assert clear.encode() not in proxy.relayed


def test_through_the_proxy_the_servers_certificate_is_still_verified(tenant, proxy, monkeypatch):
    monkeypatch.setenv("https_proxy", proxy.url)
    with pytest.raises(TransportError) as caught:
        connector(tenant).lookup("contoso.com")
    assert caught.value.reason == "connection"
    assert "CERTIFICATE_VERIFY_FAILED" in caught.value.detail
    # The GET is tried again on a connection failure, each time through the proxy.
    assert proxy.heads and all(head.startswith(b"CONNECT ") for head in proxy.heads)
    assert tenant.requests == []


@pytest.mark.parametrize("variable", ["NO_PROXY", "no_proxy"])
def test_a_host_in_no_proxy_is_reached_directly(variable, monkeypatch):
    proxy = ConnectProxy().start()
    try:
        monkeypatch.setenv("HTTPS_PROXY", proxy.url)
        monkeypatch.setenv(variable, f"other.example, {NAME}")
        with pytest.raises(TransportFailure) as caught:
            LiveTransport(connect_timeout=2).send(Request("get", f"https://{NAME}/x"))
    finally:
        proxy.stop()
    # Straight to a name that does not resolve here, not to the proxy.
    assert caught.value.reason == "connection"
    assert proxy.heads == []


@pytest.mark.parametrize("variable", PROXY_VARIABLES)
def test_each_proxy_variable_is_read(variable):
    assert proxy_from_environment({variable: "http://proxy.example:3128"}) == (
        "http://proxy.example:3128"
    )


def test_the_first_variable_set_wins_as_in_the_rust_host():
    environ = {"HTTP_PROXY": "http://third:1", "https_proxy": "http://second:1"}
    assert proxy_from_environment(environ) == "http://second:1"
    assert proxy_from_environment({**environ, "ALL_PROXY": "http://first:1"}) == "http://first:1"
    assert proxy_from_environment({"HTTPS_PROXY": ""}) is None


@pytest.mark.parametrize(
    "value",
    [
        f"http://{PROXY_USER}:{PROXY_PASSWORD}@proxy.example:port",
        f"https://{PROXY_USER}:{PROXY_PASSWORD}@proxy.example:443",
        f"socks5://{PROXY_USER}:{PROXY_PASSWORD}@proxy.example:1080",
        f"{PROXY_USER}:{PROXY_PASSWORD}",
    ],
)
def test_an_unusable_proxy_is_refused_by_name_without_its_password(value):
    """Never a reason to connect directly: the connector is not made."""
    with pytest.raises(InvalidSettings) as caught:
        proxy_from_environment({"ALL_PROXY": "http://fine:1", "HTTPS_PROXY": value})
    assert "HTTPS_PROXY" in str(caught.value)
    assert PROXY_PASSWORD not in str(caught.value)


def test_the_command_never_prints_proxy_credentials(tenant, clean_env):
    proxy = ConnectProxy(refuse="407 Proxy Authentication Required").start()
    settings = tenant.connector_settings()
    env = {
        **clean_env,
        "MDE_CLOUD": "custom",
        "MDE_API_BASE": origin(tenant),
        "MDE_LOGIN_HOST": origin(tenant),
        "MDE_SCOPE": settings["scope"],
        "MDE_TOKEN": "t0ken-value-for-the-proxy-test",
        "HTTPS_PROXY": with_password(proxy.url),
    }
    try:
        refused = run_python_cli(["--live", "contoso.com"], env)
        unusable = {**env, "HTTPS_PROXY": env["HTTPS_PROXY"] + "x"}
        bad = run_python_cli(["--live", "contoso.com"], unusable)
    finally:
        proxy.stop()
    assert refused.returncode == 1
    assert b"407" in refused.stderr
    assert bad.returncode == 2
    assert b"HTTPS_PROXY is not a proxy URL" in bad.stderr
    for done in (refused, bad):
        assert PROXY_PASSWORD.encode() not in done.stdout + done.stderr
    # The GET is tried again on a connection failure, each time through the proxy.
    assert proxy.heads and all(head.startswith(b"CONNECT ") for head in proxy.heads)
    assert tenant.requests == []
