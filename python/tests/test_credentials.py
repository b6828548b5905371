"""Credentials the host holds: client assertions signed with a certificate's
key (RS256, x5t), checked by a fake identity platform, and a federated token
file read afresh for each assertion."""

import base64
import json
import sys
from pathlib import Path

import pytest

from mde_connector import errors
from mde_connector.credentials import (
    ASSERTION_LIFETIME,
    CertificateCredential,
    FederatedTokenFile,
)

from fake_identity import FakeIdentityPlatform

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
    key = serialization.load_pem_private_key(pem[pem.index(b"-----BEGIN PRIVATE"):], None)
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
    assert "pip install \"mde-connector[certificate]\"" in str(refused.value)


def test_the_key_is_never_shown():
    credential = CertificateCredential(FIXTURES / "registered.pem")
    pem = (FIXTURES / "registered.pem").read_text()
    key_lines = pem[pem.index("-----BEGIN PRIVATE KEY-----"):].splitlines()[1:-1]
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
