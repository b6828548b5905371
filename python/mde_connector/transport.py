"""Where the component's HTTP requests go once the policy let them through:
the network (`LiveTransport`, the standard library's urllib), or recorded
answers (`Replay`)."""

import ipaddress
import json
import socket
import ssl
import time
import urllib.error
import urllib.parse
import urllib.request
import zlib
from dataclasses import dataclass, field
from http.client import HTTPException
from typing import Iterable, List, Optional, Tuple

from ._version import __version__

MIB = 1024 * 1024


@dataclass
class Request:
    """One request of the component: `method` is `get` or `post`, header
    names are lower-case, `body` is present only for the token request."""

    method: str
    url: str
    headers: List[Tuple[str, str]] = field(default_factory=list)
    body: Optional[bytes] = None

    def header(self, name: str) -> Optional[str]:
        return next((v for n, v in self.headers if n.lower() == name.lower()), None)

    def __repr__(self) -> str:
        """Method, URL and headers, with credentials shown as `[redacted]`;
        the body by its length only (the token request's holds the secret)."""
        headers = [
            (n, f"{v.split(' ', 1)[0]} [redacted]" if n.lower() == "authorization" else v)
            for n, v in self.headers
        ]
        body = "None" if self.body is None else f"<{len(self.body)} bytes>"
        return (
            f"Request(method={self.method!r}, url={self.url!r}, headers={headers!r}, body={body})"
        )


@dataclass
class Response:
    """One answer, after the host has undone any content encoding."""

    status: int
    headers: List[Tuple[str, str]] = field(default_factory=list)
    body: bytes = b""

    def header(self, name: str) -> Optional[str]:
        return next((v for n, v in self.headers if n.lower() == name.lower()), None)


class TransportFailure(Exception):
    """The host could not produce a response: a case of the WIT's
    `transport-error` (`refused`, `timeout`, `connection`, `too-large`,
    `other`) with its payload (a description, or the cap in bytes)."""

    def __init__(self, reason: str, detail=None):
        super().__init__(f"{reason}: {detail}" if detail is not None else reason)
        self.reason = reason
        self.detail = detail


def is_loopback(host: str) -> bool:
    host = host.strip("[]").lower()
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class _EveryStatusIsAnAnswer(urllib.request.HTTPErrorProcessor):
    """Hands every answer back as it is. urllib's own processor turns 3xx into
    redirects it follows and 4xx/5xx into exceptions; here a redirect is an
    answer like any other, so it can never lead past the allow-list."""

    def http_response(self, request, response):
        return response

    https_response = http_response


class LiveTransport:
    """Sends requests for real. Certificates are always verified (the
    system's trust store); `https_proxy` (or `all_proxy`) and `no_proxy` are
    honoured for https; plain http, which the policy allows only to loopback
    addresses, never goes through a proxy; redirects are not followed."""

    def __init__(
        self,
        connect_timeout: float = 10.0,
        overall_timeout: float = 60.0,
        max_body: int = 32 * MIB,
        tls: Optional[ssl.SSLContext] = None,
    ):
        self.connect_timeout = connect_timeout
        self.overall_timeout = overall_timeout
        self.max_body = max_body
        # A caller may give its own trust store, never switch verification off.
        self.tls = tls or ssl.create_default_context()
        if self.tls.verify_mode != ssl.CERT_REQUIRED or not self.tls.check_hostname:
            raise ValueError("the TLS context must verify certificates and host names")
        https = urllib.request.HTTPSHandler(context=self.tls)
        self._direct = urllib.request.build_opener(
            urllib.request.ProxyHandler({}), https, _EveryStatusIsAnAnswer
        )
        proxies = urllib.request.getproxies()
        proxy = proxies.get("https") or proxies.get("all")
        self._proxied = urllib.request.build_opener(
            urllib.request.ProxyHandler({"https": proxy} if proxy else {}),
            https,
            _EveryStatusIsAnAnswer,
        )

    def send(self, request: Request) -> Response:
        parts = urllib.parse.urlsplit(request.url)
        opener = (
            self._direct
            if parts.scheme == "http" or is_loopback(parts.hostname or "")
            else self._proxied
        )
        outgoing = urllib.request.Request(
            request.url, data=request.body, method=request.method.upper()
        )
        outgoing.add_header("User-Agent", f"mde-connector-python/{__version__}")
        # Decoded below, under the size cap.
        outgoing.add_header("Accept-Encoding", "gzip, deflate")
        for name, value in request.headers:
            outgoing.add_header(name, value)
        deadline = time.monotonic() + self.overall_timeout
        try:
            with opener.open(outgoing, timeout=self.connect_timeout) as answer:
                headers, encoding = [], None
                for name, value in answer.headers.items():
                    lower = name.lower()
                    if lower == "content-encoding":
                        encoding = value.strip().lower()
                    elif lower != "content-length":  # of the encoded body
                        headers.append((lower, value))
                raw = self._read_capped(answer, deadline)
                return Response(answer.status, headers, self._decode(raw, encoding))
        except TransportFailure:
            raise
        except (socket.timeout, TimeoutError) as e:
            raise TransportFailure("timeout") from e
        except urllib.error.URLError as e:
            if isinstance(e.reason, (socket.timeout, TimeoutError)):
                raise TransportFailure("timeout") from e
            if isinstance(e.reason, ssl.SSLError):
                raise TransportFailure("connection", f"TLS: {e.reason}") from e
            raise TransportFailure("connection", str(e.reason)) from e
        except (OSError, HTTPException) as e:
            raise TransportFailure("connection", f"{type(e).__name__}: {e}") from e
        except ValueError as e:
            raise TransportFailure("other", f"cannot send the request: {e}") from e

    def _read_capped(self, answer, deadline: float) -> bytes:
        """At most `max_body` bytes, within the overall deadline; one byte more
        is an error, so memory stays bounded whatever the server sends."""
        chunks, size = [], 0
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TransportFailure("timeout")
            # One receive at most (each bounded by the socket's timeout), so a
            # server that drips bytes meets the deadline between receives.
            chunk = answer.read1(min(64 * 1024, self.max_body + 1 - size))
            if not chunk:
                return b"".join(chunks)
            chunks.append(chunk)
            size += len(chunk)
            if size > self.max_body:
                raise TransportFailure("too-large", self.max_body)

    def _decode(self, raw: bytes, encoding: Optional[str]) -> bytes:
        if encoding in (None, "", "identity"):
            return raw
        if encoding in ("gzip", "x-gzip"):
            return self._inflate(raw, 16 + zlib.MAX_WBITS)
        if encoding == "deflate":
            # HTTP's "deflate" is zlib-wrapped; some servers send it raw.
            try:
                return self._inflate(raw, zlib.MAX_WBITS)
            except TransportFailure as e:
                if e.reason != "connection":
                    raise
                return self._inflate(raw, -zlib.MAX_WBITS)
        raise TransportFailure(
            "other", f"the answer uses content encoding {encoding!r}, which was not offered"
        )

    def _inflate(self, data: bytes, wbits: int) -> bytes:
        inflater = zlib.decompressobj(wbits)
        try:
            body = inflater.decompress(data, self.max_body + 1)
            if len(body) > self.max_body:
                raise TransportFailure("too-large", self.max_body)
            body += inflater.flush()
        except zlib.error as e:
            raise TransportFailure("connection", f"reading the answer: {e}") from e
        if len(body) > self.max_body:
            raise TransportFailure("too-large", self.max_body)
        if not inflater.eof:
            raise TransportFailure(
                "connection", "reading the answer: the compressed body is cut short"
            )
        return body


class Replay:
    """Recorded answers, given out in order whatever is asked, in the format
    the Rust CLI's `--replay` reads: a JSON array of
    `{"status": 200, "headers": {"name": "value"}, "body": "..."}`."""

    def __init__(self, answers: Iterable[Response]):
        self.answers = list(answers)
        self.served = 0

    @classmethod
    def from_json(cls, text: str) -> "Replay":
        try:
            answers = json.loads(text)
        except ValueError as e:
            raise ValueError(f"a replay file is a JSON array of answers: {e}") from None
        if not isinstance(answers, list):
            raise ValueError("a replay file is a JSON array of answers")
        return cls(_recorded(answer, i) for i, answer in enumerate(answers, 1))

    def send(self, request: Request) -> Response:
        self.served += 1
        if not self.answers:
            raise TransportFailure("other", f"the replay has no answer for request {self.served}")
        return self.answers.pop(0)


def _recorded(answer, position: int) -> Response:
    where = f"replay answer {position}"
    if not isinstance(answer, dict):
        raise ValueError(f"{where} is not an object")
    unknown = sorted(set(answer) - {"status", "headers", "body"})
    if unknown:
        raise ValueError(f"{where} has unknown field {unknown[0]!r}")
    status = answer.get("status")
    if not isinstance(status, int) or isinstance(status, bool):
        raise ValueError(f"{where} needs an integer status")
    if not 100 <= status <= 599:
        raise ValueError(f"replay answer has status {status}, outside 100-599")
    headers = answer.get("headers", {})
    if not isinstance(headers, dict) or not all(isinstance(v, str) for v in headers.values()):
        raise ValueError(f"{where}: headers are an object of strings")
    body = answer.get("body", "")
    if not isinstance(body, str):
        raise ValueError(f"{where}: body is a string")
    # Sorted by name, as the Rust replay's map gives them.
    return Response(status, sorted(headers.items()), body.encode("utf-8"))
