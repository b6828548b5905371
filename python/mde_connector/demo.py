"""The demo tenant, in process: what `python -m mde_connector` answers from
without `--live` or `--replay`, as the Rust CLI does (`host/src/fake_tenant.rs`,
whose answers these are, byte for byte, for the demo domains). Not a test
double of the service's limits: it issues tokens and answers lookups."""

import base64
import json
import time
import urllib.parse
from typing import Dict, List, Optional

from . import _demo_pivots

from ._policy_file import load_shipped
from .transport import Request, Response

#: The demo application the tenant knows. Not a real secret.
TENANT_ID = "8f1c2d3e-4b5a-6978-8a9b-0c1d2e3f4a5b"
CLIENT_ID = "4e7d9c2b-1a3f-4b5c-9d8e-7f6a5b4c3d2e"
CLIENT_SECRET = "fake-tenant-demo-secret"
TOKEN_LIFETIME = 3599

#: Domains with answers; any other well-formed domain has no machines.
DEMO_DOMAINS = ("contoso.com", "fabrikam.com", "xn--bcher-kva.example", "legacy.example")

_HEADERS = [
    (
        "Content-Type",
        "application/json; odata.metadata=minimal; odata.streaming=true; charset=utf-8",
    ),
    ("OData-Version", "4.0"),
]


class DemoTenant:
    """A transport that answers the identity platform's token requests and
    the machines route for any cloud's hosts (it routes on the path)."""

    def __init__(self):
        self.tokens_issued = 0
        self._tokens = set()
        fabrikam = fabrikam_machines()
        self._machines = {
            "contoso.com": load_shipped(
                "demo-contoso-machines.json", "host/fixtures/contoso-machines.json"
            ),
            "fabrikam.com": fabrikam,
            "xn--bcher-kva.example": [fabrikam[7]],
        }

    def send(self, request: Request) -> Response:
        path = urllib.parse.urlsplit(request.url).path
        segments = path.lstrip("/").split("/")
        method = request.method.lower()
        if method == "post" and len(segments) == 4 and segments[1:] == ["oauth2", "v2.0", "token"]:
            return self._token(segments[0], request.body or b"")
        if method == "get" and len(segments) == 4 and segments[:2] == ["api", "domains"]:
            if segments[3] == "machines":
                return self._machines_of(segments[2], request)
        if method == "get" and segments[:1] == ["api"] and 3 <= len(segments) <= 4:
            query = urllib.parse.urlsplit(request.url).query
            found = _demo_pivots.answer(
                segments, query, self._machines, _json, api_error, _is_domain_name
            )
            if found is not None:
                return self._unauthorized(request) or found
        return api_error(404, "ResourceNotFound", f"No route for {path}")

    def _unauthorized(self, request: Request) -> Optional[Response]:
        """The API's 401 unless the request carries a token this tenant issued."""
        authorization = request.header("authorization") or ""
        if not authorization.startswith("Bearer ") or authorization[7:] not in self._tokens:
            return api_error(
                401, "Unauthorized", "Authorization token is missing, invalid or expired."
            )
        return None

    def _token(self, tenant: str, body: bytes) -> Response:
        form = {k: v[0] for k, v in urllib.parse.parse_qs(body.decode("utf-8", "replace")).items()}
        field = form.get
        if tenant.lower() != TENANT_ID:
            return identity_error(
                400, "invalid_request", f"AADSTS90002: Tenant '{tenant}' not found."
            )
        if field("grant_type") != "client_credentials":
            return identity_error(
                400,
                "unsupported_grant_type",
                "AADSTS70003: The app requested an unsupported grant type.",
            )
        if (field("client_id") or "").lower() != CLIENT_ID:
            return identity_error(
                400,
                "unauthorized_client",
                "AADSTS700016: Application was not found in the directory.",
            )
        if field("client_secret") != CLIENT_SECRET:
            return identity_error(
                401,
                "invalid_client",
                "AADSTS7000215: Invalid client secret provided. Ensure the secret being sent "
                "in the request is the client secret value, not the client secret ID.",
            )
        if not (field("scope") or "").endswith("/.default"):
            return identity_error(
                400, "invalid_scope", "AADSTS1002012: The provided value for scope is not valid."
            )
        self.tokens_issued += 1
        token = _jwt(field("scope") or "", self.tokens_issued)
        self._tokens.add(token)
        return _json(
            200,
            {
                "token_type": "Bearer",
                "expires_in": TOKEN_LIFETIME,
                "ext_expires_in": TOKEN_LIFETIME,
                "access_token": token,
            },
        )

    def _machines_of(self, domain: str, request: Request) -> Response:
        refused = self._unauthorized(request)
        if refused is not None:
            return refused
        if not _is_domain_name(domain):
            return api_error(400, "InvalidDomainName", f"Domain name {domain} is invalid")
        if domain == "legacy.example":
            # What older revisions of the service answered for an unknown domain.
            return api_error(404, "NotFound", f"Domain {domain} was not found")
        return _json(
            200,
            {
                "@odata.context": "https://api.security.microsoft.com/api/$metadata#Machines",
                "value": self._machines.get(domain, []),
            },
        )


#: The roles the demo application holds: one for each kind of lookup, so
#: `check` permits every lookup, as the Rust demo tenant's tokens do.
DEMO_ROLES = ["Machine.Read.All", "URL.Read.All", "Ip.Read.All"]


def _jwt(scope: str, n: int) -> str:
    """A JWT-shaped token (unsigned: the tenant checks tokens by value) with
    the claims `check` reads; its last part names it, as the Rust demo's."""

    def encode(data: bytes) -> str:
        return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")

    audience = scope[: -len("/.default")] if scope.endswith("/.default") else scope
    claims = {
        "aud": audience,
        "tid": TENANT_ID,
        "appid": CLIENT_ID,
        "roles": DEMO_ROLES,
        "exp": int(time.time()) + TOKEN_LIFETIME,
    }
    header = encode(b'{"alg":"none","typ":"JWT"}')
    return f"{header}.{encode(json.dumps(claims).encode())}.fake-access-token-{n}"


def _is_domain_name(domain: str) -> bool:
    """The service's notion: letters, digits, `-` and `_` in at least two labels."""
    labels = domain.split(".")
    return len(labels) >= 2 and all(
        label and all(c.isascii() and (c.isalnum() or c in "-_") for c in label) for label in labels
    )


def _json(status: int, body) -> Response:
    # As serde_json writes a `Value`: keys sorted, no spaces, UTF-8.
    text = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return Response(status, list(_HEADERS), text.encode("utf-8"))


def api_error(status: int, code: str, message: str) -> Response:
    """The API's error envelope, with a correlation id."""
    return _json(
        status, {"error": {"code": code, "message": message, "target": correlation_id(code)}}
    )


def identity_error(status: int, error: str, description: str) -> Response:
    """The identity platform's error shape."""
    return _json(
        status,
        {
            "error": error,
            "error_description": description,
            "error_codes": [7000215],
            "timestamp": "2026-11-28 10:15:02Z",
            "trace_id": "0b6a1c2d-3e4f-4a5b-8c7d-9e0f1a2b3c4d",
            "correlation_id": correlation_id(error),
        },
    )


def correlation_id(seed: str) -> str:
    """A stable, GUID-shaped id derived from the text (FNV-1a), as the Rust tenant's."""
    mask = (1 << 64) - 1
    h = 0xCBF29CE484222325
    for byte in seed.encode("utf-8"):
        h = ((h ^ byte) * 0x100000001B3) & mask
    rotated = ((h << 17) | (h >> 47)) & mask
    x = f"{h:016x}{rotated:016x}"
    return f"{x[:8]}-{x[8:12]}-{x[12:16]}-{x[16:20]}-{x[20:32]}"


def fabrikam_machines() -> List[Dict]:
    """The demo tenant's 500 machines of fabrikam.com, every field filled: the
    Rust fake tenant's `full_machine(0..500)`, as `host/fixtures` holds them
    (a Rust test holds the file to the generator)."""
    return load_shipped("demo-fabrikam-machines.json", "host/fixtures/fabrikam-machines.json")
