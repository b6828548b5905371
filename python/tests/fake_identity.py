"""The identity platform's check of a client assertion, as a fake: the
signature against the registered certificate, `x5t`, `aud`, `iss`, `sub`,
`exp - nbf <= 600`, a `jti` never seen before, and the time. Anything else
is refused with AADSTS700027, as the real one refuses it."""

import base64
import hashlib
import json
import time

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding

ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class FakeIdentityPlatform:
    def __init__(self, certificate_pem: bytes, audience: str, client_id: str):
        self.certificate = x509.load_pem_x509_certificate(certificate_pem)
        der = self.certificate.public_bytes(serialization.Encoding.DER)
        self.x5t = base64.urlsafe_b64encode(hashlib.sha1(der).digest()).rstrip(b"=").decode()
        self.audience = audience
        self.client_id = client_id
        self.seen_jti = set()
        #: Every assertion checked, as (header, claims).
        self.checked = []

    def refusal(self, assertion: str, now=None):
        """None when the assertion is good, else why it is not."""
        now = time.time() if now is None else now
        try:
            head, body, signature = assertion.split(".")
            header, claims = json.loads(_unb64(head)), json.loads(_unb64(body))
        except ValueError:
            return "the assertion is not a JWT"
        self.checked.append((header, claims))
        if header.get("alg") != "RS256" or header.get("x5t") != self.x5t:
            return f"x5t {header.get('x5t')!r} is not the registered certificate's"
        try:
            self.certificate.public_key().verify(
                _unb64(signature),
                f"{head}.{body}".encode(),
                padding.PKCS1v15(),
                hashes.SHA256(),
            )
        except InvalidSignature:
            return "the signature is not the registered certificate's key's"
        for name, expected in [
            ("aud", self.audience),
            ("iss", self.client_id),
            ("sub", self.client_id),
        ]:
            if claims.get(name) != expected:
                return f"{name} is {claims.get(name)!r}, not {expected!r}"
        nbf, exp = claims.get("nbf"), claims.get("exp")
        if not isinstance(nbf, int) or not isinstance(exp, int) or exp - nbf > 600:
            return "exp - nbf is more than 600 seconds"
        if not nbf - 300 <= now <= exp:
            return "the assertion is not valid now"
        if not claims.get("jti") or claims["jti"] in self.seen_jti:
            return "the jti was used before"
        self.seen_jti.add(claims["jti"])
        return None

    @staticmethod
    def answer(why: str) -> dict:
        """The identity platform's 401 body for a refused assertion."""
        return {
            "error": "invalid_client",
            "error_description": "AADSTS700027: Client assertion contains an invalid "
            f"signature. [Reason - {why}]",
            "error_codes": [700027],
            "correlation_id": "70002700-0000-4000-8000-000000000027",
        }
