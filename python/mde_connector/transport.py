"""Where the component's HTTP requests go once the policy let them through:
the network (`LiveTransport`, the standard library's urllib), or recorded
answers (`Replay`)."""

import http.client
import ipaddress
import json
import os
import socket
import ssl
import stat
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
import zlib
from dataclasses import dataclass, field
from http.client import HTTPException
from typing import Callable, Iterable, List, Optional, Tuple

from ._policy_file import MAX_ANSWER_BYTES, MAX_REPLAY_BYTES, POLICY
from ._version import __version__
from .errors import InvalidSettings

#: The variables a proxy is read from, in order, as the Rust host reads them:
#: the first one set is the proxy (`no_proxy`/`NO_PROXY` lists the exceptions).
PROXY_VARIABLES = tuple(POLICY["proxy"]["variables"])


def proxy_from_environment(environ=None) -> Optional[str]:
    """The proxy for https destinations: the first of `PROXY_VARIABLES` set,
    or None. Every variable set must be a usable proxy URL: one that is not
    is `InvalidSettings` (naming the variable, never its value, which may
    hold a password), never a reason to connect directly."""
    environ = os.environ if environ is None else environ
    chosen = None
    for name in PROXY_VARIABLES:
        value = environ.get(name)
        if not value:
            continue
        try:
            parts = urllib.parse.urlsplit(value)
            usable = parts.scheme.lower() == "http" and parts.hostname and (parts.port or 80)
        except ValueError:
            usable = False
        if not usable:
            raise InvalidSettings(
                f"{name} is not a proxy URL the Python package can use: give http://host:port "
                "(a proxy that tunnels https with CONNECT; https:// proxies are not supported)"
            )
        chosen = chosen or value
    return chosen


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

    def redacted(self, scrub: Callable[[str], str]) -> "Request":
        """A copy that may be kept and shown: the credential of the
        Authorization header as `[redacted]`, the body (the token request's
        form, which holds the client secret) passed through `scrub`."""
        body = None if self.body is None else scrub(self.body.decode("utf-8", "replace"))
        return Request(
            self.method,
            self.url,
            _without_credentials(self.headers),
            None if body is None else body.encode("utf-8"),
        )

    def __repr__(self) -> str:
        """Method, URL and headers, with credentials shown as `[redacted]`;
        the body by its length only (the token request's holds the secret)."""
        headers = _without_credentials(self.headers)
        body = "None" if self.body is None else f"<{len(self.body)} bytes>"
        return (
            f"Request(method={self.method!r}, url={self.url!r}, headers={headers!r}, body={body})"
        )


def _without_credentials(headers: List[Tuple[str, str]]) -> List[Tuple[str, str]]:
    """`headers` with the credential of an Authorization value (after its
    scheme) as `[redacted]`."""
    return [
        (n, f"{v.split(' ', 1)[0]} [redacted]" if n.lower() == "authorization" else v)
        for n, v in headers
    ]


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


class _Deadline:
    """The end of one exchange. Every socket of the exchange is shut down
    when it passes, which ends whatever read is waiting: connecting, a proxy
    tunnel, the status line, headers or body. Per-read timeouts alone let a
    server that sends a byte now and then hold an exchange forever."""

    def __init__(self, seconds: float):
        self.seconds = seconds
        self.expired = False
        self._lock = threading.Lock()
        self._sockets = []
        self._timer = threading.Timer(seconds, self._expire)
        self._timer.daemon = True

    def remaining(self, at_most: float) -> float:
        return max(0.001, min(at_most, self._end - time.monotonic()))

    def watch(self, sock: socket.socket) -> None:
        """Watches the connection of `sock` through a duplicate of its
        descriptor: the connection stays reachable however `sock` is wrapped
        (TLS) or closed, and the duplicate's number cannot be reused by
        another socket before `__exit__` closes it."""
        with self._lock:
            self._sockets.append(sock.dup())
            if self.expired:
                _shut(self._sockets[-1])

    def _expire(self) -> None:
        with self._lock:
            self.expired = True
            for sock in self._sockets:
                _shut(sock)

    def __enter__(self) -> "_Deadline":
        self._end = time.monotonic() + self.seconds
        self._timer.start()
        return self

    def __exit__(self, kind, error, _traceback) -> None:
        self._timer.cancel()
        with self._lock:
            for sock in self._sockets:
                sock.close()
            self._sockets.clear()
        # A body cut short by the shutdown reads as a short body: still a timeout.
        if self.expired and not (
            isinstance(error, TransportFailure) and error.reason == "too-large"
        ):
            raise TransportFailure("timeout") from error


def _shut(sock) -> None:
    try:
        sock.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass  # already closed


def _watched(base):
    """`base` (an http.client connection class) with its connection given to
    the request's deadline (a proxy tunnel and the TLS handshake included),
    and connecting bounded by it too."""

    class Watched(base):
        def __init__(self, *args, deadline: _Deadline, **kwargs):
            super().__init__(*args, **kwargs)
            self._deadline = deadline
            self._create_connection = self._connect_watched

        def _connect_watched(self, address, timeout, *args):
            sock = socket.create_connection(address, self._deadline.remaining(timeout), *args)
            self._deadline.watch(sock)
            return sock

    return Watched


_WATCHED_HTTP = _watched(http.client.HTTPConnection)
_WATCHED_HTTPS = _watched(http.client.HTTPSConnection)


class _HTTPHandler(urllib.request.HTTPHandler):
    def http_open(self, req):
        return self.do_open(_WATCHED_HTTP, req, deadline=req.deadline)


class _HTTPSHandler(urllib.request.HTTPSHandler):
    def __init__(self, context: ssl.SSLContext):
        super().__init__(context=context)
        self._tls = context

    def https_open(self, req):
        return self.do_open(_WATCHED_HTTPS, req, context=self._tls, deadline=req.deadline)


class LiveTransport:
    """Sends requests for real. Certificates are always verified (the
    system's trust store, end to end through a proxy's CONNECT tunnel); the
    proxy of `proxy_from_environment` and `no_proxy` are honoured for https;
    plain http, which the policy allows only to loopback addresses, never
    goes through a proxy; redirects are not followed."""

    def __init__(
        self,
        connect_timeout: float = 10.0,
        overall_timeout: float = 60.0,
        max_body: int = MAX_ANSWER_BYTES,
        tls: Optional[ssl.SSLContext] = None,
    ):
        self.connect_timeout = connect_timeout
        self.overall_timeout = overall_timeout
        self.max_body = max_body
        # A caller may give its own trust store, never switch verification off.
        self.tls = tls or ssl.create_default_context()
        if self.tls.verify_mode != ssl.CERT_REQUIRED or not self.tls.check_hostname:
            raise ValueError("the TLS context must verify certificates and host names")
        http, https = _HTTPHandler(), _HTTPSHandler(self.tls)
        self._direct = urllib.request.build_opener(
            urllib.request.ProxyHandler({}), http, https, _EveryStatusIsAnAnswer
        )
        proxy = proxy_from_environment()
        self._proxied = urllib.request.build_opener(
            urllib.request.ProxyHandler({"https": proxy} if proxy else {}),
            http,
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
        outgoing.deadline = _Deadline(self.overall_timeout)
        with outgoing.deadline:
            return self._exchange(opener, outgoing)

    def _exchange(self, opener, outgoing) -> Response:
        try:
            with opener.open(outgoing, timeout=self.connect_timeout) as answer:
                headers, encoding = [], None
                for name, value in answer.headers.items():
                    lower = name.lower()
                    if lower == "content-encoding":
                        encoding = value.strip().lower()
                    elif lower != "content-length":  # of the encoded body
                        headers.append((lower, value))
                raw = self._read_capped(answer)
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

    def _read_capped(self, answer) -> bytes:
        """At most `max_body` bytes; one byte more is an error, so memory
        stays bounded whatever the server sends."""
        chunks, size = [], 0
        while True:
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
    def from_file(cls, path: "os.PathLike[str] | str") -> "Replay":
        """The answers in the file at `path`, at most `MAX_REPLAY_BYTES` of
        UTF-8; ValueError for anything else, which it reads no further than
        the cap and one byte (anything but a regular file, not at all)."""
        return cls.from_json(read_text(path, MAX_REPLAY_BYTES, "a replay"))

    @classmethod
    def from_json(cls, text: str) -> "Replay":
        try:
            answers = json.loads(text)
        except ValueError as e:
            raise ValueError(f"a replay file is a JSON array of answers: {e}") from None
        except RecursionError:
            raise ValueError(
                "a replay file is a JSON array of answers: this one is nested too deeply"
            ) from None
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


def read_text(path: "os.PathLike[str] | str", cap: int, what: str) -> str:
    """The text of the regular file at `path` (`what` it holds, for
    messages): ValueError for anything else (a FIFO, which would block, or a
    device such as /dev/zero, which never ends), for more than `cap` bytes
    (without reading further) and for bytes that are not UTF-8."""
    try:
        # Non-blocking, so opening a FIFO returns at once to be refused.
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0))
    except OSError as e:
        raise ValueError(f"reading {what} from {path}: {e.strerror}") from None
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        os.close(fd)
        raise ValueError(f"{path} is not a regular file: give {what} as a file")
    with open(fd, "rb") as file:
        data = file.read(cap + 1)
    if len(data) > cap:
        raise ValueError(f"{path} is larger than {cap // 1024} KiB, the most {what} may be")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as e:
        raise ValueError(f"{what} in {path} is not UTF-8 (at byte {e.start})") from None
