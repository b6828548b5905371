"""A fake Defender for Endpoint tenant served over plain HTTP (or HTTPS) on
127.0.0.1: the identity platform's token endpoint and the machines route,
with the switches a test needs (revoked tokens, scripted failures, stalls,
compression, reflected secrets, redirects). It counts every connection it
accepts, so a test can prove that none was made."""

import gzip
import http.server
import json
import ssl
import threading
import time
import urllib.parse
import zlib

TENANT_ID = "6c0d9a1e-2b3f-4a5c-9d8e-7f6a5b4c3d2e"
CLIENT_ID = "py-fake-client"
CLIENT_SECRET = "py-fake-secret-value"
SCOPE = "https://api.securitycenter.microsoft.com/.default"


def machine(i, domain):
    return {
        "id": f"{i:040x}",
        "computerDnsName": f"host-{i}.{domain}",
        "lastSeen": "2026-11-28T03:41:09.8876543Z",
        "osPlatform": "Windows11",
        "osBuild": 22631,
        "rbacGroupId": i % 3,
        "healthStatus": "Active",
    }


class FakeTenant:
    def __init__(self, client_secret=CLIENT_SECRET, tls=None):
        self.client_secret = client_secret
        #: Machines per domain; any other domain has none.
        self.machines = {"contoso.com": [machine(i, "contoso.com") for i in range(3)]}
        self.tokens_issued = []
        self.valid_tokens = set()
        #: Every request: (method, path, headers as a dict of lower-case names, body).
        self.requests = []
        #: Answers given, in order, before the tenant's own: (status, headers, body).
        self.scripted = []
        self.token_prefix = "fake-token"
        #: Put the request's Authorization header and body in every error
        #: message, as a hostile or careless server might.
        self.reflect = False
        #: Seconds to wait before answering, and a body sent one byte at a time.
        self.stall = 0.0
        self.drip = None
        #: `gzip`, `deflate` (zlib), `raw-deflate` or None.
        self.encoding = None
        self._tls = tls
        #: A `fake_identity.FakeIdentityPlatform` that checks client
        #: assertions (`trust_certificate`); none: assertions are refused.
        self.identity = None
        #: The other routes' answers (issue 25), by the request's exact path
        #: and query as sent: (status, JSON body).
        self.answers = {}
        #: Every client assertion received, in order.
        self.assertions = []
        self._released = threading.Event()
        self._server = None

    # The server's life.

    def start(self):
        tenant = self

        class Server(http.server.ThreadingHTTPServer):
            daemon_threads = True
            connections = 0

            def verify_request(self, request, client_address):
                Server.connections += 1
                return True

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                tenant._serve(self, "GET")

            def do_POST(self):
                tenant._serve(self, "POST")

            def log_message(self, *args):
                pass

        self._server = Server(("127.0.0.1", 0), Handler)
        if self._tls is not None:
            self._server.socket = self._tls.wrap_socket(self._server.socket, server_side=True)
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()

    def stop(self):
        self._released.set()
        self._server.shutdown()
        self._server.server_close()

    @property
    def origin(self):
        scheme = "https" if self._tls is not None else "http"
        return f"{scheme}://127.0.0.1:{self._server.server_address[1]}"

    @property
    def connections(self):
        return type(self._server).connections

    def connector_settings(self):
        """Keyword arguments of a Connector for this tenant as a custom cloud."""
        return {
            "cloud": "custom",
            "api_base": self.origin,
            "login_host": self.origin,
            "scope": SCOPE,
            "tenant_id": TENANT_ID,
            "client_id": CLIENT_ID,
            "client_secret": self.client_secret,
        }

    def trust_certificate(self, certificate_pem: bytes):
        """Accept client assertions signed with this certificate's key, as
        the identity platform does once it is registered."""
        from fake_identity import FakeIdentityPlatform

        audience = f"{self.origin}/{TENANT_ID}/oauth2/v2.0/token"
        self.identity = FakeIdentityPlatform(certificate_pem, audience, CLIENT_ID)
        return self.identity

    def _assertion_refusal(self, form):
        from fake_identity import ASSERTION_TYPE

        assertion = form.get("client_assertion", [""])[0]
        self.assertions.append(assertion)
        if form.get("client_assertion_type") != [ASSERTION_TYPE] or "client_secret" in form:
            return "not a jwt-bearer client assertion alone"
        if [c.lower() for c in form.get("client_id", [])] != [CLIENT_ID]:
            return "another client"
        if form.get("scope") != [SCOPE] or form.get("grant_type") != ["client_credentials"]:
            return "another scope or grant"
        return self.identity.refusal(assertion)

    # Switches.

    def fail_next(self, status, body="", headers=None):
        """Answers the next request so. `body` may be a function of the
        request (method, path, headers, body) that returns the body."""
        if callable(body):
            make = body
            self.scripted.append(lambda *request: (status, dict(headers or {}), make(*request)))
        else:
            self.scripted.append((status, dict(headers or {}), body))

    def revoke_tokens(self):
        self.valid_tokens.clear()

    # Answers.

    def _serve(self, handler, method):
        length = int(handler.headers.get("Content-Length") or 0)
        body = handler.rfile.read(length) if length else b""
        headers = {k.lower(): v for k, v in handler.headers.items()}
        self.requests.append((method, handler.path, headers, body))
        if self.stall:
            self._released.wait(self.stall)
        status, answer_headers, answer = self._answer(method, handler.path, headers, body)
        payload = answer.encode() if isinstance(answer, str) else answer
        payload, encoding = self._encode(payload)
        handler.send_response(status)
        for name, value in answer_headers.items():
            handler.send_header(name, value)
        if encoding:
            handler.send_header("Content-Encoding", encoding)
        handler.send_header("Content-Length", str(len(payload)))
        handler.end_headers()
        if self.drip is not None:
            for byte in payload:
                if self._released.wait(self.drip):
                    return
                handler.wfile.write(bytes([byte]))
                handler.wfile.flush()
        else:
            handler.wfile.write(payload)

    def _encode(self, payload):
        if self.encoding == "gzip":
            return gzip.compress(payload), "gzip"
        if self.encoding == "deflate":
            return zlib.compress(payload), "deflate"
        if self.encoding == "raw-deflate":
            squeezer = zlib.compressobj(wbits=-zlib.MAX_WBITS)
            return squeezer.compress(payload) + squeezer.flush(), "deflate"
        return payload, None

    def _answer(self, method, path, headers, body):
        if self.scripted:
            answer = self.scripted.pop(0)
            return answer(method, path, headers, body) if callable(answer) else answer
        json_type = {"Content-Type": "application/json"}
        echo = ""
        if self.reflect:
            echo = (
                f" (you sent {headers.get('authorization')!s} and {body.decode(errors='replace')})"
            )
        # Tenant and client ids compare without case, as at the identity platform.
        if method == "POST" and path.lower() == f"/{TENANT_ID}/oauth2/v2.0/token":
            form = urllib.parse.parse_qs(body.decode())
            good = (
                form.get("grant_type") == ["client_credentials"]
                and [c.lower() for c in form.get("client_id", [])] == [CLIENT_ID]
                and form.get("client_secret") == [self.client_secret]
                and form.get("scope") == [SCOPE]
            )
            if "client_assertion" in form and self.identity is not None:
                refusal = self._assertion_refusal(form)
                if refusal is not None:
                    return 401, json_type, json.dumps(self.identity.answer(refusal))
                good = True
            if not good:
                return (
                    401,
                    json_type,
                    json.dumps(
                        {
                            "error": "invalid_client",
                            "error_description": "AADSTS7000215: Invalid client secret provided."
                            + echo,
                            "correlation_id": "11112222-3333-4444-5555-666677778888",
                        }
                    ),
                )
            token = f"{self.token_prefix}-{len(self.tokens_issued) + 1}"
            self.tokens_issued.append(token)
            self.valid_tokens.add(token)
            return (
                200,
                json_type,
                json.dumps({"token_type": "Bearer", "expires_in": 3599, "access_token": token}),
            )
        prefix, suffix = "/api/domains/", "/machines"
        if method == "GET" and path.startswith(prefix) and path.endswith(suffix):
            authorization = headers.get("authorization", "")
            if authorization.removeprefix("Bearer ") not in self.valid_tokens:
                return (
                    401,
                    json_type,
                    json.dumps(
                        {
                            "error": {
                                "code": "Unauthorized",
                                "message": "Invalid token" + echo,
                                "target": "t-401",
                            }
                        }
                    ),
                )
            domain = path[len(prefix) : -len(suffix)]
            machines = self.machines.get(domain, [])
            return (
                200,
                json_type,
                json.dumps(
                    {
                        "@odata.context": "https://api.security.microsoft.com/api/$metadata#Machines",
                        "value": machines,
                    }
                ),
            )
        if method == "GET" and path in self.answers:
            # The other routes (issue 25): answers by exact path and query.
            authorization = headers.get("authorization", "")
            if authorization.removeprefix("Bearer ") not in self.valid_tokens:
                return 401, json_type, json.dumps({"error": {"code": "Unauthorized"}})
            status, answer = self.answers[path]
            return status, json_type, json.dumps(answer)
        return (
            404,
            json_type,
            json.dumps(
                {
                    "error": {
                        "code": "NotFound",
                        "message": f"no route {path}" + echo,
                        "target": "t-404",
                    }
                }
            ),
        )


def self_signed(directory, name="localhost"):
    """A certificate for `name` (and its key) made by openssl in `directory`:
    (certificate path, key path)."""
    import subprocess

    cert, key = directory / "cert.pem", directory / "key.pem"
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "1",
            "-subj",
            f"/CN={name}",
            "-addext",
            f"subjectAltName=DNS:{name}",
            "-keyout",
            str(key),
            "-out",
            str(cert),
        ],
        check=True,
        capture_output=True,
    )
    return cert, key


def server_tls(cert, key):
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    return context


def wait_for(predicate, seconds=5.0):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.01)
    return predicate()
