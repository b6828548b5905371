"""The API for Python programs: `Connector(...).lookup(domain)`."""

import datetime
import decimal
import hashlib
import json
import os
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, List, Optional, Union

from wasmtime.component import Record, Variant

from . import _conversions, credentials, errors
from ._policy_file import CLOUD_ENDPOINTS, CUSTOM_CLOUD, MAX_DOMAIN_BYTES
from ._runtime import BUNDLED_COMPONENT, Sandbox, Secrets
from .pivots import Pivots
from .results import QueryResult
from .cache import DEFAULT_ENTRIES, ResultCache, checked_entries, checked_ttl
from .policy import (
    PROCESS_BUDGETS,
    SERVICE_LIMITS,
    Budgets,
    Clock,
    Gateway,
    Limits,
    Origin,
    Policy,
    budget_key,
)
from .transport import LiveTransport, Replay

#: The API base and login host of each named cloud: the host's allow-list,
#: from the policy file the component's table is held to.
CLOUD_HOSTS = {name: (api, login) for name, (api, login, _scope) in CLOUD_ENDPOINTS.items()}
_GEOS = ("us", "eu", "uk", "au", "swa", "ina")

#: Every name `cloud=` accepts.
CLOUDS = (*CLOUD_HOSTS, CUSTOM_CLOUD)


@dataclass
class LookupResult:
    """The machines that communicated to or from `domain`."""

    #: The domain as queried: trimmed, lower-case, punycode.
    domain: str
    #: One dict per machine, with the service's own field names
    #: (`computerDnsName`, `osBuild`, ...), as the component gives them. An
    #: integer longer than Python converts from text (4,300 digits by
    #: default, `sys.set_int_max_str_digits`) is a `decimal.Decimal` of the
    #: same value.
    machines: List[Dict[str, Any]]
    #: True when the service's cap of 500 machines was reached: there may be more.
    cap_reached: bool
    #: The component's JSON text of each machine, for pipelines that write it
    #: as is; `Connector.ocsf` and `Connector.ecs` map these.
    machines_json: List[str] = field(repr=False, default_factory=list)
    #: With `Connector(cache_ttl=...)`: True when the result came from the
    #: cache, without a call to the service.
    cache_hit: bool = False
    #: Seconds since the service gave the result, on a cache hit; None otherwise.
    cache_age: Optional[float] = None


class Connector(Pivots):
    """Microsoft Defender for Endpoint's `GET /api/domains/{domain}/machines`,
    run by the mde-connector component in a wasmtime sandbox.

    Authenticate with client credentials (`tenant_id`, `client_id`,
    `client_secret`) or a bearer `token`. `cloud` is one of `CLOUDS`; a
    `custom` cloud also needs `api_base`, `login_host` and `scope`.

    Every request the component makes passes the host's policy
    (`policy.Gateway.send`): only the cloud's API and login origins, https
    with verified certificates (plain http only to loopback addresses, and only
    with `allow_loopback_http`), a rate budget per tenant and client
    (`limits`), waits on `429` up to `max_wait` seconds, bounded retries of a
    GET that fails with `5xx` or in transport, time and size limits.

    `replay` (a path or a `transport.Replay`) answers the component's requests
    from recorded answers instead, as the Rust CLI's `--replay` does: in the
    gateway's place, with the host managing authentication unless
    credentials are given. `transport` replaces the network behind the
    gateway (tests); `clock` and `budgets` the time and the shared budgets.

    `cache_ttl` (seconds; None or 0, the default, for none) answers a
    repeated lookup from the results of the last `cache_ttl` seconds, as
    `mde-connector serve` does: keyed by cloud, tenant and client (without
    case) and the domain as the component normalises it, so `CONTOSO.com`,
    ` contoso.com.` and `contoso.com` make one call. At most `cache_entries`
    results are kept (least recently used out); answers with no machines are
    kept too, errors never. Concurrent lookups of one domain make one call.
    `cache` (a `cache.ResultCache`) shares one cache between connectors.

    A connector keeps one component instance (and its access token) between
    calls; calls are serialised. It is cheap to create: the component is
    compiled once per process.
    """

    def __init__(
        self,
        cloud: str = "commercial",
        *,
        tenant_id: Optional[str] = None,
        client_id: Optional[str] = None,
        client_secret: Optional[str] = None,
        token: Optional[str] = None,
        client_certificate: Union[None, str, "os.PathLike[str]"] = None,
        federated_token_file: Union[None, str, "os.PathLike[str]"] = None,
        api_base: Optional[str] = None,
        login_host: Optional[str] = None,
        scope: Optional[str] = None,
        allow_loopback_http: bool = False,
        limits: Limits = SERVICE_LIMITS,
        max_wait: float = 120.0,
        replay: Union[None, str, "os.PathLike[str]", Replay] = None,
        transport=None,
        clock: Optional[Clock] = None,
        budgets: Budgets = PROCESS_BUDGETS,
        component: Union[str, "os.PathLike[str]", None] = None,
        cache_ttl: Optional[float] = None,
        cache_entries: int = DEFAULT_ENTRIES,
        cache: Optional[ResultCache] = None,
    ):
        _check_text(
            tenant_id=tenant_id,
            client_id=client_id,
            client_secret=client_secret,
            token=token,
            api_base=api_base,
            login_host=login_host,
            scope=scope,
        )
        self._secrets = Secrets()
        self._secrets.add(client_secret)
        self._secrets.add(token)
        if replay is not None and transport is not None:
            raise TypeError("give replay (answers instead of the network) or transport, not both")
        if isinstance(replay, (str, os.PathLike)):
            replay = Replay.from_file(replay)
        wit_cloud, hosts = _cloud(cloud, api_base, login_host, scope)
        credential = credentials.of(tenant_id, client_id, client_certificate, federated_token_file)
        if credential is not None:
            # Signed by the host: the component gets the assertion, never the key.
            wit_auth, budget = credentials.wit_auth(tenant_id, client_id, client_secret, token)
        else:
            wit_auth, budget = _auth(tenant_id, client_id, client_secret, token, replay)
        self._config = Record()
        self._config.cloud = wit_cloud
        self._config.auth = wit_auth
        if replay is not None:
            backend = replay
        else:
            policy = Policy(
                api=_origin_or_none(hosts[0]),
                login=_origin_or_none(hosts[1]),
                allow_loopback_http=allow_loopback_http,
                limits=limits,
                max_wait=max_wait,
            )
            backend = Gateway(
                policy,
                budget,
                transport if transport is not None else LiveTransport(),
                budgets=budgets,
                clock=clock,
            )
        #: Where the component's requests go: the policy gateway, or the replay.
        self.backend = backend
        #: The cloud's name, as `cloud=` gave it (`commercial`, `gcc-high`, `custom`, ...).
        self.cloud = cloud
        self._sandbox = Sandbox(
            Path(component) if component is not None else BUNDLED_COMPONENT,
            lambda: self._config,
            backend,
            self._secrets,
            credentials.assertion_source(
                credential, client_id, _origin_or_none(hosts[1]), self._secrets
            ),
        )
        self._lock = threading.Lock()
        self._cache_ttl = checked_ttl(cache_ttl)
        checked_entries(cache_entries)
        if cache is not None and self._cache_ttl is None:
            raise errors.InvalidSettings("cache= needs cache_ttl=, the seconds a result is fresh")
        if cache is not None and cache_entries != DEFAULT_ENTRIES:
            raise errors.InvalidSettings(
                "cache_entries= is for a connector's own cache; a shared cache= has its own"
            )
        if self._cache_ttl is not None:
            self._cache = cache if cache is not None else ResultCache(cache_entries, clock)
            self._cache_owner = (
                _cloud_key(cloud, api_base, login_host, scope),
                budget if tenant_id is not None else _token_key(token),
            )

    @property
    def requests(self):
        """The latest requests the component made (the newest last)."""
        return list(self._sandbox.requests)

    @property
    def logs(self):
        """The latest log records of the component, as (level, event, message)."""
        return list(self._sandbox.logs)

    def scrub(self, text: str) -> str:
        """`text` without any secret this connector knows of."""
        return self._secrets.scrub(text)

    def lookup(self, domain: str) -> LookupResult:
        """The machines that communicated to or from `domain` (at most 500).

        Raises one of the `errors` classes: `InvalidDomain`, `InvalidSettings`,
        `Unauthorized`, `Forbidden`, `RateLimited`, `ApiError`,
        `ServiceUnavailable`, `TransportError`, `InvalidResponse` (the WIT's
        cases), or `ComponentTrap`.
        """
        if not isinstance(domain, str):
            raise TypeError(f"domain must be a str, not {type(domain).__name__}")
        try:
            domain.encode("utf-8")
        except UnicodeEncodeError as e:
            # A lone surrogate: a WIT string cannot carry it.
            raise errors.InvalidDomain(
                f"character {e.start + 1} is not a Unicode scalar value"
            ) from None
        size = len(domain.encode("utf-8"))
        if size > MAX_DOMAIN_BYTES:
            # As the Rust host: refused before it is copied into the component.
            raise errors.InvalidDomain(
                f"the domain is {size} bytes long; the host takes at most {MAX_DOMAIN_BYTES}"
            )
        if self._cache_ttl is None:
            return self._lookup(domain)
        found, age = self._cache.lookup(self._cache_owner, domain, self._cache_ttl, self._lookup)
        if age is None:
            return found
        return LookupResult(
            domain=found.domain,
            machines=_machines(found.machines_json),
            cap_reached=found.cap_reached,
            machines_json=list(found.machines_json),
            cache_hit=True,
            cache_age=age,
        )

    def _lookup(self, domain: str) -> LookupResult:
        with self._lock:
            # The machines as JSON texts: 500 strings to convert rather than
            # about 19,000 typed fields, which wasmtime-py converts one by one.
            found = self._sandbox.call("lookup-texts", domain)
        if isinstance(found, Variant):
            raise errors.from_wit(found, self._secrets.scrub)
        texts = self._scrubbed(found.machines)
        return LookupResult(
            domain=found.domain,
            machines=_machines(texts),
            cap_reached=getattr(found, "cap-reached"),
            machines_json=texts,
        )

    def ocsf(self, found: LookupResult, observed_at=None) -> List[Dict[str, Any]]:
        """OCSF Device Inventory Info events (class 5001), one per machine of
        `found`, observed at `observed_at` (a timezone-aware datetime or
        milliseconds since the Unix epoch; now by default). Sends no request:
        the component maps `found.machines_json`, so a result kept as those
        texts maps later. A text that is not a machine's is a `ValueError`
        that names its index."""
        return [loads(text) for text in self.ocsf_json(found, observed_at)]

    def ecs(self, found: LookupResult, observed_at=None) -> List[Dict[str, Any]]:
        """Elastic Common Schema documents, one per machine of `found`. Sends no request."""
        return [loads(text) for text in self.ecs_json(found, observed_at)]

    def ocsf_json(self, found: LookupResult, observed_at=None) -> List[str]:
        """`ocsf`, as the component's JSON texts."""
        return self._events("ocsf-inventory", found, observed_at)

    def ecs_json(self, found: LookupResult, observed_at=None) -> List[str]:
        """`ecs`, as the component's JSON texts."""
        return self._events("ecs-documents", found, observed_at)

    def _events(self, export: str, found: LookupResult, observed_at) -> List[str]:
        if isinstance(found, QueryResult):
            # Any machine list: its query is kept in the events.
            export = "query-" + export
            texts = _conversions.wit_query_texts(
                found.kind, found.query, found.at, found.machines_json, found.cap_reached
            )
        elif isinstance(found, LookupResult):
            texts = Record()
            texts.domain = found.domain
            texts.machines = found.machines_json
            setattr(texts, "cap-reached", found.cap_reached)
        else:
            raise TypeError(
                f"found must be a LookupResult or a QueryResult, not {type(found).__name__}"
            )
        with self._lock:
            answer = self._sandbox.call(
                export, texts, _epoch_ms(observed_at), interface="events"
            )
        if isinstance(answer, str):
            raise ValueError(answer)
        return self._scrubbed(answer)

    def _scrubbed(self, texts: List[str]) -> List[str]:
        """A service that reflects a secret into a machine's fields gets it
        redacted there too: no secret leaves the connector."""
        return [self._secrets.scrub(text) for text in texts]


def loads(text: str) -> Any:
    """`json.loads`, with an integer too long for Python's `int` from text
    kept as a `decimal.Decimal` of the same value rather than failing."""
    try:
        return json.loads(text)
    except ValueError:
        return json.loads(text, parse_int=_int_or_decimal)


def _int_or_decimal(digits: str):
    try:
        return int(digits)
    except ValueError:
        return decimal.Decimal(digits)


def _machines(texts: List[str]) -> List[Dict[str, Any]]:
    """The machines' texts, parsed. The component gives each as one JSON
    object, so they are parsed as one array: a third faster than a parse
    per text. A text that does not parse (a number too long for `int`, a
    nesting deeper than Python's parser goes) is then found text by text."""
    try:
        machines = json.loads("[" + ",".join(texts) + "]")
    except (ValueError, RecursionError):
        machines = None
    if isinstance(machines, list) and len(machines) == len(texts):
        return machines
    return [_machine(text) for text in texts]


def _machine(text: str) -> Dict[str, Any]:
    """One machine's text, parsed; a text Python cannot read (nested deeper
    than its parser goes) is the service's broken answer, not a crash."""
    try:
        return loads(text)
    except (ValueError, RecursionError) as e:
        raise errors.InvalidResponse(
            "api", 200, f"a machine is JSON Python cannot read ({type(e).__name__})", text[:200]
        ) from None


def _epoch_ms(observed_at) -> int:
    if observed_at is None:
        observed_at = datetime.datetime.now(datetime.timezone.utc)
    if isinstance(observed_at, datetime.datetime):
        if observed_at.tzinfo is None:
            raise ValueError("observed_at must be timezone-aware")
        epoch = datetime.datetime(1970, 1, 1, tzinfo=datetime.timezone.utc)
        observed_at = (observed_at - epoch) // datetime.timedelta(milliseconds=1)
    elif isinstance(observed_at, bool) or not isinstance(observed_at, int):
        raise TypeError("observed_at is a datetime or milliseconds since the Unix epoch")
    if not 0 <= observed_at < 2**64:
        raise ValueError("observed_at is outside 0 to 2^64 - 1 milliseconds")
    return observed_at


def _check_text(**settings) -> None:
    """A WIT string holds Unicode scalar values only: a lone surrogate (a
    byte that is not UTF-8, as `os.environ` hands it over) is refused here
    rather than trapping at the first lookup. The value is never shown."""
    for name, value in settings.items():
        if isinstance(value, str):
            try:
                value.encode("utf-8")
            except UnicodeEncodeError as e:
                raise errors.InvalidSettings(
                    f"{name} is not UTF-8 text: character {e.start + 1} is not a Unicode "
                    "scalar value (from bytes that are not UTF-8?)"
                ) from None


def _cloud_key(name, api_base, login_host, scope) -> tuple:
    """The cloud, in a cache key: a custom one by its hosts and scope."""
    if name != "custom":
        return (name,)
    return (name, api_base.rstrip("/").lower(), login_host.rstrip("/").lower(), scope)


def _token_key(token: Optional[str]):
    """Whose results a bearer token's are, in a cache key: the token's digest
    (never the token); a connector without credentials (a replay) shares
    its results with no other."""
    if token is None:
        return object()
    return "token:" + hashlib.sha256(token.encode("utf-8")).hexdigest()


def _cloud(name, api_base, login_host, scope):
    """The WIT `cloud` value, and the API base and login host to allow."""
    custom = (api_base, login_host, scope)
    if name == CUSTOM_CLOUD:
        missing = [n for n, v in zip(("api_base", "login_host", "scope"), custom) if not v]
        if missing:
            raise errors.InvalidSettings(f"a custom cloud needs {', '.join(missing)}")
        record = Record()
        setattr(record, "api-base", api_base)
        setattr(record, "login-host", login_host)
        record.scope = scope
        return Variant("custom", record), (api_base, login_host)
    if name not in CLOUD_HOSTS:
        raise errors.InvalidSettings(f"unknown cloud {name!r}: expected one of {', '.join(CLOUDS)}")
    if any(v is not None for v in custom):
        raise errors.InvalidSettings("api_base, login_host and scope are for cloud='custom'")
    wit = Variant("geo", name) if name in _GEOS else Variant(name)
    return wit, CLOUD_HOSTS[name]


def _auth(tenant_id, client_id, client_secret, token, replay):
    """The WIT `auth` value, and whose budget the calls count against."""
    credentials = (tenant_id, client_id, client_secret)
    if token is not None:
        if any(v is not None for v in credentials):
            raise errors.InvalidSettings("give a token or client credentials, not both")
        return Variant("bearer-token", token), "bearer"
    if all(v is not None for v in credentials):
        record = Record()
        setattr(record, "tenant-id", tenant_id)
        setattr(record, "client-id", client_id)
        setattr(record, "client-secret", client_secret)
        return Variant("client-credentials", record), budget_key(tenant_id, client_id)
    if any(v is not None for v in credentials):
        raise errors.InvalidSettings(
            "client credentials need all of tenant_id, client_id and client_secret"
        )
    if replay is None:
        raise errors.InvalidSettings("give token=, or tenant_id=, client_id= and client_secret=")
    # A replay holds only the API's answers: the host manages authentication.
    return Variant("host-managed", None), "bearer"


def _origin_or_none(url: str) -> Optional[Origin]:
    """The origin to allow; none for a URL the component will refuse as
    invalid settings before sending anything."""
    try:
        return Origin.parse(url.rstrip("/"))
    except ValueError:
        return None
