"""Credentials the host holds and the component never sees: a certificate
whose key signs client assertions, or a federated token file. The component
asks the host for an assertion for an audience (the token endpoint's URL);
only the assertion crosses into the sandbox.

Signing needs the optional `certificate` extra (`pip install
"mde-connector[certificate]"`, which adds `cryptography`); a federated token
file needs nothing."""

import base64
import hashlib
import json
import re
import time
import uuid
from pathlib import Path
from typing import Callable, Optional, Union

from wasmtime.component import Record, Variant

from . import errors
from .policy import Origin, budget_key

#: How long an assertion is valid: the identity platform takes at most 10 minutes.
ASSERTION_LIFETIME = 600

#: What to install for certificate credentials.
CERTIFICATE_EXTRA = 'pip install "mde-connector[certificate]"'

_PEM_BLOCK = re.compile(rb"-----BEGIN ([A-Z0-9 ]+)-----\r?\n.*?-----END \1-----", re.DOTALL)
_KEY_LABELS = (b"PRIVATE KEY", b"RSA PRIVATE KEY")


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


class CertificateCredential:
    """A PEM certificate and its RSA private key (PKCS#8 `PRIVATE KEY` or
    PKCS#1 `RSA PRIVATE KEY`, unencrypted), from one file, as Azure's
    libraries take them. A PFX converts with `openssl pkcs12 -in app.pfx
    -out app.pem -nodes`.

    `assertion(audience, client_id)` is a JWT signed RS256 whose header
    carries `x5t`, the base64url SHA-1 thumbprint of the DER certificate
    (the identity platform answers AADSTS700027 to `x5t#S256` alone)."""

    def __init__(self, path: Union[str, "Path"], clock: Callable[[], float] = time.time):
        try:
            from cryptography import x509
            from cryptography.hazmat.primitives import hashes, serialization
            from cryptography.hazmat.primitives.asymmetric import padding, rsa
        except ImportError:
            raise errors.InvalidSettings(
                "certificate credentials need the optional 'certificate' extra, which adds "
                f"cryptography: {CERTIFICATE_EXTRA}"
            ) from None
        self._hashes, self._padding = hashes, padding
        self._clock = clock
        path = Path(path)
        try:
            data = path.read_bytes()
        except OSError as e:
            raise errors.InvalidSettings(
                f"the client certificate {path} could not be read: {e.strerror or e}"
            ) from None
        blocks = {m.group(1): m.group(0) for m in reversed(list(_PEM_BLOCK.finditer(data)))}
        if b"CERTIFICATE" not in blocks:
            raise errors.InvalidSettings(
                f"{path} has no PEM certificate (BEGIN CERTIFICATE): give the certificate "
                "and its private key in one PEM file"
            )
        if b"ENCRYPTED PRIVATE KEY" in blocks:
            raise errors.InvalidSettings(
                f"the private key in {path} is encrypted: decrypt it with "
                "`openssl pkey -in app.pem -out key.pem` and give the certificate with it"
            )
        key_pem = next((blocks[label] for label in _KEY_LABELS if label in blocks), None)
        if key_pem is None:
            raise errors.InvalidSettings(
                f"{path} has no private key (BEGIN PRIVATE KEY or BEGIN RSA PRIVATE KEY): "
                "give the certificate and its private key in one PEM file"
            )
        try:
            certificate = x509.load_pem_x509_certificate(blocks[b"CERTIFICATE"])
            key = serialization.load_pem_private_key(key_pem, password=None)
        except (ValueError, TypeError) as e:
            # cryptography's message names what is wrong, never the key's bytes.
            raise errors.InvalidSettings(f"{path} is not a usable PEM file: {e}") from None
        if not isinstance(key, rsa.RSAPrivateKey):
            raise errors.InvalidSettings(
                f"the private key in {path} is not RSA: client assertions are signed RS256"
            )
        if certificate.public_key().public_numbers() != key.public_key().public_numbers():
            raise errors.InvalidSettings(
                f"the private key in {path} is not the certificate's: give the key the "
                "certificate was made for"
            )
        der = certificate.public_bytes(serialization.Encoding.DER)
        #: base64url SHA-1 of the DER certificate: what the identity platform matches.
        self.thumbprint = _b64url(hashlib.sha1(der).digest())
        self._key = key

    def __repr__(self) -> str:
        return f"CertificateCredential(x5t={self.thumbprint!r})"

    def assertion(self, audience: str, client_id: str) -> str:
        """A client assertion for `audience` (the token endpoint's URL): new
        `jti`, valid from now for `ASSERTION_LIFETIME` seconds."""
        now = int(self._clock())
        header = {"alg": "RS256", "typ": "JWT", "x5t": self.thumbprint}
        claims = {
            "aud": audience,
            "iss": client_id,
            "sub": client_id,
            "jti": str(uuid.uuid4()),
            "nbf": now,
            "iat": now,
            "exp": now + ASSERTION_LIFETIME,
        }
        signing_input = ".".join(
            _b64url(json.dumps(part, separators=(",", ":")).encode()) for part in (header, claims)
        )
        signature = self._key.sign(
            signing_input.encode("ascii"), self._padding.PKCS1v15(), self._hashes.SHA256()
        )
        return f"{signing_input}.{_b64url(signature)}"


class FederatedTokenFile:
    """Workload identity federation: the assertion is the token in `path`
    (`AZURE_FEDERATED_TOKEN_FILE`), read afresh for each token request, since
    Kubernetes rotates it."""

    def __init__(self, path: Union[str, "Path"]):
        self.path = Path(path)

    def __repr__(self) -> str:
        return f"FederatedTokenFile({str(self.path)!r})"

    def assertion(self, audience: str, client_id: str) -> str:
        try:
            token = self.path.read_text(encoding="utf-8").strip()
        except (OSError, UnicodeDecodeError) as e:
            reason = getattr(e, "strerror", None) or type(e).__name__
            raise errors.InvalidSettings(
                f"the federated token file {self.path} could not be read: {reason}"
            ) from None
        if not token:
            raise errors.InvalidSettings(f"the federated token file {self.path} is empty")
        return token


def of(tenant_id, client_id, client_certificate, federated_token_file):
    """The credential the host signs with, from a `Connector`'s arguments,
    or None when neither `client_certificate` nor `federated_token_file` is given."""
    if client_certificate is not None and federated_token_file is not None:
        raise errors.InvalidSettings("give client_certificate= or federated_token_file=, not both")
    if client_certificate is None and federated_token_file is None:
        return None
    if tenant_id is None or client_id is None:
        given = "client_certificate" if client_certificate is not None else "federated_token_file"
        raise errors.InvalidSettings(f"{given}= needs tenant_id= and client_id= too")
    if client_certificate is not None:
        return CertificateCredential(client_certificate)
    return FederatedTokenFile(federated_token_file)


def wit_auth(tenant_id: str, client_id: str, client_secret, token):
    """The WIT `auth` for assertions (`client-assertion`), and whose budget
    the calls count against."""
    if client_secret is not None or token is not None:
        raise errors.InvalidSettings(
            "a client certificate or federated token replaces client_secret= and token=: "
            "give one credential"
        )
    record = Record()
    setattr(record, "tenant-id", tenant_id)
    setattr(record, "client-id", client_id)
    return Variant("client-assertion", record), budget_key(tenant_id, client_id)


def assertion_source(credential, client_id: str, login: Optional[Origin], secrets) -> Callable:
    """The host's answer to the component's `settings.client-assertion`:
    `audience` -> `Variant("ok", assertion)` or `Variant("err", why)`. Only
    the configured login origin's URLs are signed for, so an assertion is
    good nowhere else; each one is a secret from then on (scrubbed from
    whatever the network says)."""

    def answer(_store, audience: str):
        if credential is None:
            return Variant(
                "err",
                "the host has no client certificate or federated token configured "
                "(client_certificate= or federated_token_file=; the command's "
                "MDE_CLIENT_CERTIFICATE or AZURE_FEDERATED_TOKEN_FILE)",
            )
        try:
            target = Origin.parse(audience)
        except ValueError:
            target = None
        if login is None or target != login:
            return Variant(
                "err",
                f"the host signs assertions for its login origin {login} only, not {audience!r}",
            )
        try:
            assertion = credential.assertion(audience, client_id)
        except errors.InvalidSettings as e:
            return Variant("err", e.reason)
        secrets.add(assertion)
        return Variant("ok", assertion)

    return answer
