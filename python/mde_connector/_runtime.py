"""Loading the component and giving it its imports, inside the sandbox's limits.

wasmtime-py's conventions for the component model, which every value below
follows: a record is a `Record` whose fields are attributes with the WIT's
kebab-case names (`getattr(r, "cap-reached")`); an enum is a `str`; `option`
is `None` or the value; `list<u8>` is `bytes`; a variant whose cases all have
payloads of distinct Python types is passed untagged (`result<response,
transport-error>` is a `Record` or a `Variant`), any other is a
`Variant(tag, payload)`.
"""

import bisect
import json
import logging
import os
import re
import threading
import time
from collections import deque
from pathlib import Path
from typing import Callable, Optional

from wasmtime import Config, Engine, Store
from wasmtime import _ffi as ffi
from wasmtime.component import Component, Linker, Record, Variant

from . import _conversions
from .errors import ComponentTrap
from .transport import Request, Response, TransportFailure

#: The version of the `mde:connector` WIT package this host implements.
WIT_VERSION = "0.4.0"

#: The component shipped inside this package.
BUNDLED_COMPONENT = Path(__file__).with_name("mde_connector.component.wasm")

#: Most linear memory one instance may have, as in the Rust host.
MEMORY_LIMIT = 64 * 1024 * 1024

#: Most time one call may spend running guest code, in seconds; time in the
#: host's imports (waiting on the network) does not count. As the Rust host.
CPU_DEADLINE = 5.0

#: How often the engine's epoch advances: the deadline's granularity. Epoch
#: interruption rather than fuel: fuel's count of every instruction cost a
#: fifth of a 500-machine lookup (BENCHMARKS.md); an epoch costs a tick.
EPOCH_TICK = 0.01

# Answers go into the guest in bulk, and types are asked once (see _conversions).
_conversions.install()

log = logging.getLogger("mde_connector")
# A library's records go where the application's logging sends them: nowhere
# by default, rather than to stderr through logging's last resort.
log.addHandler(logging.NullHandler())

_engine_lock = threading.Lock()
_engine: Optional[Engine] = None
_components = {}


def _shared_engine() -> Engine:
    global _engine
    with _engine_lock:
        if _engine is None:
            config = Config()
            config.epoch_interruption = True
            _engine = Engine(config)
            _start_ticking(_engine)
        return _engine


def _start_ticking(engine: Engine) -> None:
    """Advances `engine`'s epoch every `EPOCH_TICK`, for the life of the process."""

    def tick() -> None:
        while True:
            time.sleep(EPOCH_TICK)
            engine.increment_epoch()

    threading.Thread(target=tick, name="mde-connector-epoch", daemon=True).start()


def _tick_again_after_fork() -> None:
    """A forked child has no threads but the forking one: without its own
    ticker, its guests would never meet their deadline."""
    if _engine is not None:
        _start_ticking(_engine)


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_tick_again_after_fork)


def _ticks(seconds: float) -> int:
    """An epoch deadline `seconds` from now; at least the next tick."""
    return max(1, int(seconds / EPOCH_TICK))


def load_component(path: Path) -> Component:
    """Compiles the component at `path` once per process."""
    engine = _shared_engine()
    key = str(Path(path).resolve())
    with _engine_lock:
        if key not in _components:
            if not Path(key).is_file():
                raise FileNotFoundError(
                    f"{key} is missing: the package was built without its component "
                    "(see python/README.md: build_component.py)"
                )
            _components[key] = Component.from_file(engine, key)
        return _components[key]


#: What a secret is replaced with.
REDACTED = "[redacted]"

#: Shorter secrets are not scrubbed: they would match ordinary text. As in
#: the Rust core (`MIN_SECRET_LEN`), in UTF-8 bytes.
MIN_SECRET_LEN = 10

#: The longest access token the component takes from the identity platform
#: (the core's `MAX_TOKEN_LEN`); a longer one is refused there, so it is
#: never used and never scrubbed for.
MAX_TOKEN_LEN = 16 * 1024

#: An escape of the scrubbing rule: `%XX`, or a JSON escape (a `\\u` pair
#: is checked for a surrogate pair in `_escape`).
_ESCAPE = re.compile(rb'%[0-9A-Fa-f]{2}|\\(?:u[0-9A-Fa-f]{4}(?:\\u[0-9A-Fa-f]{4})?|["\\/bfnrt])')
_JSON_ESCAPES = {b'"': b'"', b"\\": b"\\", b"/": b"/", b"b": b"\b", b"f": b"\f",
                 b"n": b"\n", b"r": b"\r", b"t": b"\t"}
# `+` and space are one class: a form encodes a space as `+`.
_CLASS = bytes.maketrans(b"+", b" ")


class Secrets:
    """The secrets a connector knows of: the client secret or token it was
    given, every bearer token the component sends, every access token the
    identity platform hands out. `scrub` removes them from a text.

    One rule, the Rust core's (`policy/scrub-vectors.json` states it and
    holds both to it): a run of the text is a secret when it decodes to the
    secret's bytes, each written as itself, as `%XX` (either case of hex), as
    a JSON escape, or, for `+` and space, as either; and wherever it occurs as
    it is. Searching is `bytes.find` (linear since Python 3.10, whatever the
    secret's length)."""

    #: A reflected secret cut short at the end of a text (an excerpt of at
    #: most 200 characters) is removed from this many bytes on, looking at
    #: most `PARTIAL_WINDOW` bytes back.
    MIN_PARTIAL = 6
    PARTIAL_WINDOW = 256

    def __init__(self):
        self._values = set()

    def add(self, value: Optional[str]) -> None:
        if not isinstance(value, str):
            return
        encoded = value.encode("utf-8", "surrogatepass")
        if len(encoded) >= MIN_SECRET_LEN:
            self._values.add(encoded.translate(_CLASS))

    def add_authorization(self, header: Optional[str]) -> None:
        if header:
            scheme, _, credential = header.partition(" ")
            self.add(credential or scheme)

    def add_token_answer(self, body: bytes) -> None:
        try:
            answer = json.loads(body)
        except ValueError:
            return
        if isinstance(answer, dict):
            for name in ("access_token", "refresh_token", "id_token"):
                token = answer.get(name)
                if isinstance(token, str) and len(token) <= MAX_TOKEN_LEN:
                    self.add(token)

    def scrub(self, text: str) -> str:
        if not self._values or not text:
            return text
        raw = text.encode("utf-8", "surrogatepass")
        as_is = raw.translate(_CLASS)
        decoded = _Decoded(raw) if b"%" in raw or b"\\" in raw else None
        runs = []
        for value in self._values:
            runs += _runs(as_is, value)
            if decoded is not None:
                runs += [decoded.origin(run) for run in _runs(decoded.data, value)]
            partial = _partial(decoded.data if decoded else as_is, value, self)
            if partial is not None:
                runs.append(decoded.origin(partial) if decoded else partial)
        if not runs:
            return text
        out, read = [], 0
        for start, end in sorted(runs):
            if start < read:  # overlapping runs are one
                if end > read:
                    read = end
                continue
            out += [raw[read:start], REDACTED.encode()]
            read = end
        out.append(raw[read:])
        return b"".join(out).decode("utf-8", "surrogatepass")


def _runs(data: bytes, value: bytes):
    """Where `value` occurs in `data`, without overlaps, as (start, end)."""
    at = data.find(value)
    while at >= 0:
        yield at, at + len(value)
        at = data.find(value, at + len(value))


def _partial(data: bytes, value: bytes, secrets: Secrets):
    """The longest start of `value` that ends `data`, as (start, end), if
    it is long enough to be a secret cut short."""
    longest = min(len(value) - 1, secrets.PARTIAL_WINDOW, len(data))
    last = data[-1:]
    while longest >= secrets.MIN_PARTIAL:
        # Only the starts of `value` that end in the last byte of `data`.
        longest = value.rfind(last, 0, longest) + 1
        if longest < secrets.MIN_PARTIAL:
            return None
        if data.endswith(value[:longest]):
            return len(data) - longest, len(data)
        longest -= 1
    return None


class _Decoded:
    """A text's bytes with their escapes decoded (`data`, `+` as a space),
    and the way back to where each decoded byte came from."""

    def __init__(self, raw: bytes):
        parts = []
        # Per escape: where it starts in `data` and in `raw`, and its lengths there.
        self._starts, self._escapes = [], []
        at = size = 0
        while True:
            found = _ESCAPE.search(raw, at)
            if found is None:
                parts.append(raw[at:])
                break
            start = found.start()
            parts.append(raw[at:start])
            size += start - at
            length, decoded = _escape(found.group())
            if decoded is None:  # a lone surrogate: the backslash as it is
                length, decoded = 1, b"\\"
            else:
                self._starts.append(size)
                self._escapes.append((start, length, len(decoded)))
            parts.append(decoded)
            size += len(decoded)
            at = start + length
        self.data = b"".join(parts).translate(_CLASS)

    def origin(self, run):
        """The run of the raw text that decodes to `data[start:end]`: whole escapes."""
        start, end = run
        return self._raw(start, False), self._raw(end - 1, True)

    def _raw(self, position: int, after: bool) -> int:
        i = bisect.bisect_right(self._starts, position) - 1
        if i < 0:
            return position + after
        raw_start, raw_length, length = self._escapes[i]
        inside = position - self._starts[i]
        if inside < length:
            return raw_start + (raw_length if after else 0)
        return raw_start + raw_length + inside - length + after


def _escape(escape: bytes):
    """(length, bytes it stands for) of the escape `escape` starts with;
    bytes None for a lone surrogate."""
    if escape[0] == ord("%"):
        return 3, bytes([int(escape[1:3], 16)])
    if escape[1] != ord("u"):
        return 2, _JSON_ESCAPES[escape[1:2]]
    code = int(escape[2:6], 16)
    if 0xD800 <= code <= 0xDBFF and len(escape) == 12:
        low = int(escape[8:12], 16)
        if 0xDC00 <= low <= 0xDFFF:
            return 12, chr(0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00)).encode()
    if 0xD800 <= code <= 0xDFFF:
        return 6, None
    return 6, chr(code).encode()


class Sandbox:
    """One instance of the component with its host state: its settings, the
    backend its requests go to (the policy gateway, or a replay), and what it
    asked for. A call that traps raises `ComponentTrap`, and the next call
    gets a fresh instance with the same host state (a fresh instance also
    fetches a fresh token)."""

    def __init__(
        self,
        component: Path,
        settings: Callable[[], Record],
        backend,
        secrets: Secrets,
        client_assertion: Optional[Callable] = None,
    ):
        self.component = load_component(component)
        #: The answer to `settings.client-assertion`: the host's signer.
        self.client_assertion = client_assertion
        self.settings = settings
        self.backend = backend
        self.secrets = secrets
        #: The latest requests (credentials redacted) and log records, for
        #: tests and diagnostics.
        self.requests = deque(maxlen=1000)
        self.logs = deque(maxlen=1000)
        self._linker = self._link()
        self._store: Optional[Store] = None
        self._instance = None
        # When the current call started, and how long it has spent in imports.
        self._call_started, self._in_imports = 0.0, 0.0

    def _link(self) -> Linker:
        linker = Linker(self.component_engine)
        with linker.root() as root:
            with root.add_instance(f"mde:connector/http@{WIT_VERSION}") as http:
                http.add_func("send", self._import(self._send))
            with root.add_instance(f"mde:connector/settings@{WIT_VERSION}") as settings:
                settings.add_func("get", self._import(lambda _store: self.settings()))
                settings.add_func("client-assertion", self._import(self._client_assertion))
            with root.add_instance(f"mde:connector/log@{WIT_VERSION}") as log_sink:
                log_sink.add_func("emit", self._import(self._emit))
        return linker

    def _import(self, func: Callable) -> Callable:
        """`func` as an import. Its time is not the guest's: when it returns,
        the guest's deadline is set again to what is left of `CPU_DEADLINE`."""

        def run(store, *args):
            entered = time.monotonic()
            try:
                return func(store, *args)
            finally:
                now = time.monotonic()
                self._in_imports += now - entered
                in_guest = now - self._call_started - self._in_imports
                # The store's own context, as wasmtime-py hands it to imports.
                ffi.wasmtime_context_set_epoch_deadline(
                    store._context(), _ticks(CPU_DEADLINE - in_guest)
                )

        return run

    def _start_deadline(self, store: Store) -> None:
        """A call (or an instantiation) starts with the whole `CPU_DEADLINE`."""
        self._call_started, self._in_imports = time.monotonic(), 0.0
        store.set_epoch_deadline(_ticks(CPU_DEADLINE))

    @property
    def component_engine(self) -> Engine:
        return _shared_engine()

    def _send(self, _store, wit_request):
        request = Request(
            method=wit_request.method,
            url=wit_request.url,
            headers=[tuple(h) for h in wit_request.headers],
            body=wit_request.body,
        )
        self.secrets.add_authorization(request.header("authorization"))
        # Kept for diagnostics, so without the token or the client secret.
        self.requests.append(request.redacted(self.secrets.scrub))
        try:
            response = self.backend.send(request)
        except TransportFailure as failure:
            return Variant(failure.reason, failure.detail)
        if request.method == "post":
            self.secrets.add_token_answer(response.body)
        return _wit_response(response)

    def _client_assertion(self, store, audience: str):
        if self.client_assertion is None:
            return Variant(
                "err",
                "this connector has no client certificate or federated token: give "
                "client_certificate= or federated_token_file=",
            )
        return self.client_assertion(store, audience)

    def _emit(self, _store, level: str, event: str, message: str) -> None:
        message = self.secrets.scrub(message)
        self.logs.append((level, event, message))
        python_level = {"debug": logging.DEBUG, "info": logging.INFO, "warn": logging.WARNING}
        log.log(python_level.get(level, logging.ERROR), "%s: %s", event, message)

    def call(self, name: str, *args, interface: Optional[str] = None):
        """Calls the export `name` (of `interface`, when given) with `args`."""
        try:
            if self._instance is None:
                self._store = Store(self.component_engine)
                self._store.set_limits(memory_size=MEMORY_LIMIT)
                self._start_deadline(self._store)  # instantiation runs guest code too
                self._instance = self._linker.instantiate(self._store, self.component)
            store, instance = self._store, self._instance
            index = None
            if interface is not None:
                index = instance.get_export_index(store, f"mde:connector/{interface}@{WIT_VERSION}")
            func = instance.get_func(store, instance.get_export_index(store, name, index))
            self._start_deadline(store)
            return func(store, *args)
        except Exception as e:
            # A trapped instance may be inconsistent: start afresh next time.
            self._store = self._instance = None
            detail = self.secrets.scrub(f"{type(e).__name__}: {e}")
            raise ComponentTrap(f"the component trapped: {detail}") from None


def _wit_response(response: Response) -> Record:
    record = Record()
    record.status = response.status
    record.headers = [(str(name), str(value)) for name, value in response.headers]
    body = bytes(response.body)
    # `http.body` is `bytes(list<u8>)` or `text(string)`: distinct Python
    # types, so untagged. wasmtime-py hands a string to the guest at once and
    # a byte list one byte at a time (81 ms for a 0.8 MB answer, in bulk).
    try:
        record.body = body.decode("utf-8")
    except UnicodeDecodeError:
        record.body = body
    return record
