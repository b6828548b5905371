"""Loading the component and giving it its imports, inside the sandbox's limits.

wasmtime-py's conventions for the component model, which every value below
follows: a record is a `Record` whose fields are attributes with the WIT's
kebab-case names (`getattr(r, "cap-reached")`); an enum is a `str`; `option`
is `None` or the value; `list<u8>` is `bytes`; a variant whose cases all have
payloads of distinct Python types is passed untagged (`result<response,
transport-error>` is a `Record` or a `Variant`), any other is a
`Variant(tag, payload)`.
"""

import json
import logging
import threading
import urllib.parse
from collections import deque
from pathlib import Path
from typing import Callable, Optional

from wasmtime import Config, Engine, Store
from wasmtime.component import Component, Linker, Record, Variant

from . import _conversions
from .errors import ComponentTrap
from .transport import Request, Response, TransportFailure

#: The version of the `mde:connector` WIT package this host implements.
WIT_VERSION = "0.3.0"

#: The component shipped inside this package.
BUNDLED_COMPONENT = Path(__file__).with_name("mde_connector.component.wasm")

#: Most linear memory one instance may have, as in the Rust host.
MEMORY_LIMIT = 64 * 1024 * 1024

#: Guest work one call may do (wasmtime "fuel", about one unit per
#: instruction; time spent in the host's imports, such as waiting on the
#: network, costs none). A lookup of 500 machines (0.8 MB of JSON) as texts
#: takes about 76 million, so the largest answer the transport admits (32 MiB)
#: needs a few billion; a guest that spins is stopped after about a second of CPU here
#: (the Rust host's deadline is five seconds of guest time).
FUEL_PER_CALL = 20_000_000_000

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
            config.consume_fuel = True
            _engine = Engine(config)
        return _engine


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


class Secrets:
    """The secrets a connector knows of: the client secret or token it was
    given, every bearer token the component sends, every access token the
    identity platform hands out. `scrub` removes them from a text."""

    #: A reflected secret cut short at the end of a text (an excerpt of at
    #: most 200 characters) is removed from this many characters on.
    MIN_PARTIAL = 6

    def __init__(self):
        self._values = set()

    def add(self, value: Optional[str]) -> None:
        if not isinstance(value, str) or len(value.strip()) < 4:
            return
        for form in (
            value,
            urllib.parse.quote_plus(value),
            urllib.parse.quote(value, safe=""),
            json.dumps(value)[1:-1],
        ):
            self._values.add(form)

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
                self.add(answer.get(name))

    def scrub(self, text: str) -> str:
        for value in sorted(self._values, key=len, reverse=True):
            text = text.replace(value, "[redacted]")
        for value in self._values:
            for length in range(len(value) - 1, self.MIN_PARTIAL - 1, -1):
                if text.endswith(value[:length]):
                    text = text[:-length] + "[redacted]"
                    break
        return text


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
    ):
        self.component = load_component(component)
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

    def _link(self) -> Linker:
        linker = Linker(self.component_engine)
        with linker.root() as root:
            with root.add_instance(f"mde:connector/http@{WIT_VERSION}") as http:
                http.add_func("send", self._send)
            with root.add_instance(f"mde:connector/settings@{WIT_VERSION}") as settings:
                settings.add_func("get", lambda _store: self.settings())
            with root.add_instance(f"mde:connector/log@{WIT_VERSION}") as log_sink:
                log_sink.add_func("emit", self._emit)
        return linker

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
                self._store.set_fuel(FUEL_PER_CALL)  # instantiation runs guest code too
                self._instance = self._linker.instantiate(self._store, self.component)
            store, instance = self._store, self._instance
            index = None
            if interface is not None:
                index = instance.get_export_index(store, f"mde:connector/{interface}@{WIT_VERSION}")
            func = instance.get_func(store, instance.get_export_index(store, name, index))
            store.set_fuel(FUEL_PER_CALL)
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
