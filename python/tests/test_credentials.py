"""Credentials the host holds: client assertions signed with a certificate's
key (RS256, x5t), checked by a fake identity platform, and a federated token
file read afresh for each assertion."""

import base64
import json
import sys
from pathlib import Path

import pytest

from mde_connector import Connector, errors
from mde_connector.credentials import (
    ASSERTION_LIFETIME,
    CertificateCredential,
    FederatedTokenFile,
)

from fake_identity import FakeIdentityPlatform
from fake_tenant import CLIENT_ID, TENANT_ID

FIXTURES = Path(__file__).with_name("fixtures")
AUDIENCE = "https://login.microsoftonline.com/tenant-1/oauth2/v2.0/token"
CLIENT = "client-1"


def platform():
    cert = (FIXTURES / "registered-cert.pem").read_bytes()
    return FakeIdentityPlatform(cert, AUDIENCE, CLIENT)


def claims(assertion):
    body = assertion.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))


@pytest.mark.parametrize("name", ["registered.pem", "registered-pkcs1.pem"])
def test_an_assertion_signed_with_the_registered_key_is_accepted(name):
    idp = platform()
    credential = CertificateCredential(FIXTURES / name, clock=lambda: 1_800_000_000.5)
    assert credential.thumbprint == idp.x5t
    first = credential.assertion(AUDIENCE, CLIENT)
    assert idp.refusal(first, now=1_800_000_001) is None
    header, body = idp.checked[-1]
    assert header == {"alg": "RS256", "typ": "JWT", "x5t": idp.x5t}
    assert body["nbf"] == 1_800_000_000
    assert body["exp"] - body["nbf"] == ASSERTION_LIFETIME == 600
    assert (body["aud"], body["iss"], body["sub"]) == (AUDIENCE, CLIENT, CLIENT)
    # A new jti each time: the second is accepted too, a replay is not.
    second = credential.assertion(AUDIENCE, CLIENT)
    assert claims(second)["jti"] != body["jti"]
    assert idp.refusal(second, now=1_800_000_001) is None
    assert "jti" in idp.refusal(first, now=1_800_000_001)


def test_the_fake_identity_platform_refuses_what_the_real_one_does():
    idp = platform()
    good = CertificateCredential(FIXTURES / "registered.pem")
    other = CertificateCredential(FIXTURES / "unregistered.pem")
    assert "x5t" in idp.refusal(other.assertion(AUDIENCE, CLIENT))
    assert "aud" in idp.refusal(good.assertion("https://elsewhere/token", CLIENT))
    assert "iss" in idp.refusal(good.assertion(AUDIENCE, "client-2"))
    # The registered thumbprint on another key's signature.
    forged = other.assertion(AUDIENCE, CLIENT).split(".")
    header = json.loads(base64.urlsafe_b64decode(forged[0] + "=="))
    header["x5t"] = idp.x5t
    forged[0] = base64.urlsafe_b64encode(json.dumps(header).encode()).rstrip(b"=").decode()
    assert "signature" in idp.refusal(".".join(forged))
    assert "AADSTS700027" in FakeIdentityPlatform.answer("x")["error_description"]


@pytest.mark.parametrize(
    "content, says",
    [
        ("registered-cert.pem", "has no private key (BEGIN PRIVATE KEY or BEGIN RSA PRIVATE KEY)"),
        ("mismatched.pem", "is not the certificate's"),
        (b"not pem", "has no PEM certificate"),
    ],
)
def test_a_file_without_a_matching_certificate_and_key_is_refused(tmp_path, content, says):
    path = tmp_path / "app.pem"
    data = (FIXTURES / content).read_bytes() if isinstance(content, str) else content
    path.write_bytes(data)
    with pytest.raises(errors.InvalidSettings) as refused:
        CertificateCredential(path)
    assert says in str(refused.value)


def test_an_encrypted_key_says_how_to_decrypt_it(tmp_path):
    from cryptography.hazmat.primitives import serialization

    pem = (FIXTURES / "registered.pem").read_bytes()
    key = serialization.load_pem_private_key(pem[pem.index(b"-----BEGIN PRIVATE") :], None)
    encrypted = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.BestAvailableEncryption(b"passphrase"),
    )
    path = tmp_path / "app.pem"
    path.write_bytes((FIXTURES / "registered-cert.pem").read_bytes() + encrypted)
    with pytest.raises(errors.InvalidSettings, match="is encrypted: decrypt it with"):
        CertificateCredential(path)


def test_a_missing_file_is_named(tmp_path):
    with pytest.raises(errors.InvalidSettings, match="app.pem could not be read"):
        CertificateCredential(tmp_path / "app.pem")


def test_without_the_extra_the_error_names_it(monkeypatch):
    # As if cryptography were not installed.
    monkeypatch.setitem(sys.modules, "cryptography", None)
    with pytest.raises(errors.InvalidSettings) as refused:
        CertificateCredential(FIXTURES / "registered.pem")
    assert 'pip install "mde-connector[certificate]"' in str(refused.value)


def test_the_key_is_never_shown():
    credential = CertificateCredential(FIXTURES / "registered.pem")
    pem = (FIXTURES / "registered.pem").read_text()
    key_lines = pem[pem.index("-----BEGIN PRIVATE KEY-----") :].splitlines()[1:-1]
    shown = repr(credential) + str(vars(credential).keys())
    assert not any(line in shown for line in key_lines)
    assert not any(line in credential.assertion(AUDIENCE, CLIENT) for line in key_lines)


def test_a_federated_token_file_is_read_afresh_for_each_assertion(tmp_path):
    path = tmp_path / "token"
    path.write_text("first.token.value\n")
    federated = FederatedTokenFile(path)
    assert federated.assertion(AUDIENCE, CLIENT) == "first.token.value"
    path.write_text("second.token.value")  # Kubernetes rotated it
    assert federated.assertion(AUDIENCE, CLIENT) == "second.token.value"
    path.write_text("")
    with pytest.raises(errors.InvalidSettings, match="is empty"):
        federated.assertion(AUDIENCE, CLIENT)
    path.unlink()
    with pytest.raises(errors.InvalidSettings, match="token could not be read"):
        federated.assertion(AUDIENCE, CLIENT)


# Through the component, against the fake tenant's identity platform.


def certificate_connector(tenant, name="registered.pem", **extra):
    settings = tenant.connector_settings()
    del settings["client_secret"]
    return Connector(
        **settings, client_certificate=FIXTURES / name, allow_loopback_http=True, **extra
    )


def test_a_certificate_signs_in_and_the_key_never_reaches_the_component(tenant):
    tenant.trust_certificate((FIXTURES / "registered-cert.pem").read_bytes())
    connector = certificate_connector(tenant)
    found = connector.lookup("contoso.com")
    assert len(found.machines) == 3
    assert len(tenant.assertions) == 1
    # What the component sent, logged and returned holds no line of the key;
    # the assertion itself is a secret too, redacted from the requests kept.
    pem = (FIXTURES / "registered.pem").read_text()
    key_lines = [line for line in pem[pem.index("-----BEGIN PRIVATE KEY-----") :].splitlines()]
    sent = [body for (_m, _p, _h, body) in tenant.requests]
    seen = repr(sent) + repr(connector.requests) + repr(connector.logs) + repr(found)
    assert not any(line in seen for line in key_lines[1:-1])
    kept = connector.requests[0].body.decode()
    assert tenant.assertions[0] not in kept
    assert "client_assertion=[redacted]" in kept, kept


def test_each_token_request_gets_a_new_assertion(tenant):
    tenant.trust_certificate((FIXTURES / "registered.pem").read_bytes())
    for _ in range(2):
        # A fresh connector: a fresh instance asks for a fresh token.
        certificate_connector(tenant, "registered-pkcs1.pem").lookup("contoso.com")
    first, second = tenant.assertions
    assert claims(first)["jti"] != claims(second)["jti"]


def test_an_unregistered_certificate_is_refused_with_the_700027_hint(tenant):
    tenant.trust_certificate((FIXTURES / "registered-cert.pem").read_bytes())
    connector = certificate_connector(tenant, "unregistered.pem")
    with pytest.raises(errors.Unauthorized) as refused:
        connector.lookup("contoso.com")
    assert refused.value.service == "identity-platform"
    assert "AADSTS700027" in refused.value.message
    assert refused.value.correlation_id == "70002700-0000-4000-8000-000000000027"
    # The component's hint, in the exception's text too.
    assert "certificate" in refused.value.hint, refused.value.hint
    assert str(refused.value).endswith(f"; to fix: {refused.value.hint}")


def test_a_federated_token_file_rotated_between_token_requests(tenant, tmp_path):
    tenant.trust_certificate((FIXTURES / "registered-cert.pem").read_bytes())
    signer = CertificateCredential(FIXTURES / "registered.pem")
    audience = f"{tenant.origin}/{TENANT_ID}/oauth2/v2.0/token"
    path = tmp_path / "token"
    settings = tenant.connector_settings()
    del settings["client_secret"]
    for _ in range(2):
        # Kubernetes writes a new token; a new instance reads it afresh.
        path.write_text(signer.assertion(audience, CLIENT_ID))
        connector = Connector(**settings, federated_token_file=path, allow_loopback_http=True)
        assert len(connector.lookup("contoso.com").machines) == 3
    assert tenant.assertions == [tenant.assertions[0], path.read_text()]
    assert tenant.assertions[0] != tenant.assertions[1]


def test_assertion_settings_that_cannot_work_are_refused_when_the_connector_is_made(tenant):
    settings = tenant.connector_settings()
    with pytest.raises(errors.InvalidSettings, match="give one credential"):
        Connector(**settings, client_certificate=FIXTURES / "registered.pem")
    del settings["client_secret"]
    with pytest.raises(errors.InvalidSettings, match="not both"):
        Connector(**settings, client_certificate="a.pem", federated_token_file="t")
    del settings["tenant_id"]
    with pytest.raises(errors.InvalidSettings, match="needs tenant_id= and client_id="):
        Connector(**settings, client_certificate=FIXTURES / "registered.pem")


def test_the_host_signs_for_its_login_origin_only(tenant):
    from mde_connector.credentials import assertion_source
    from mde_connector.policy import Origin
    from mde_connector._runtime import Secrets

    secrets = Secrets()
    answer = assertion_source(
        CertificateCredential(FIXTURES / "registered.pem"),
        CLIENT,
        Origin.parse(tenant.origin),
        secrets,
    )
    refused = answer(None, "https://attacker.example/t/oauth2/v2.0/token")
    assert refused.tag == "err" and "login origin" in refused.payload
    good = answer(None, f"{tenant.origin}/t/oauth2/v2.0/token")
    assert good.tag == "ok"
    assert secrets.scrub(f"echo {good.payload}") == "echo [redacted]"
    no_credential = assertion_source(None, CLIENT, Origin.parse(tenant.origin), secrets)
    assert "no client certificate" in no_credential(None, tenant.origin + "/x").payload
