"""The result cache of `Connector(cache_ttl=...)`: the same key and rules as
the Rust `mde-connector serve`. One API call per distinct domain per
freshness window, rather than one per lookup."""

import math
import threading
from collections import OrderedDict
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Callable, Dict, Hashable, Iterator, Optional, Tuple

from .errors import InvalidSettings
from .policy import Clock

#: Entries a cache holds unless told otherwise; the least recently used go first.
DEFAULT_ENTRIES = 10_000

# What the component trims from a domain (Rust's `str::trim` over ASCII:
# not Python's `str.strip`, which also takes \x1c-\x1f).
_ASCII_WHITESPACE = " \t\n\x0b\x0c\r"


def domain_key(domain: str) -> Optional[str]:
    """The domain as the component normalises ASCII input: trimmed, one
    trailing dot dropped, lower-case. None for other input, which only the
    component can normalise (IDNA)."""
    if not domain.isascii():
        return None
    trimmed = domain.strip(_ASCII_WHITESPACE)
    return (trimmed[:-1] if trimmed.endswith(".") else trimmed).lower()


@dataclass(frozen=True)
class Entry:
    """What a successful lookup found, and when (the cache's clock)."""

    domain: str
    machines_json: Tuple[str, ...]
    cap_reached: bool
    stored_at: float


class ResultCache:
    """Lookup results by (cloud, whose credentials, normalised domain), at
    most `entries` of them (least recently used out). Errors are never
    stored. Thread-safe; concurrent lookups of one key make one call, the
    others wait for its result (single flight). Connectors may share one:
    the key keeps their tenants apart."""

    def __init__(self, entries: int = DEFAULT_ENTRIES, clock: Optional[Clock] = None):
        self.entries = checked_entries(entries)
        self.clock = clock or Clock()
        self._lock = threading.Lock()
        self._store: "OrderedDict[Hashable, Entry]" = OrderedDict()
        # Per key: its lock and how many lookups hold or wait for it.
        self._flights: Dict[Hashable, list] = {}

    def __len__(self) -> int:
        with self._lock:
            return len(self._store)

    def lookup(
        self, owner: Hashable, domain: str, ttl: float, fetch: Callable[[str], Any]
    ) -> Tuple[Any, Optional[float]]:
        """The `Entry` for `domain` and its age in seconds when fresher than
        `ttl`; otherwise what `fetch(domain)` returns (a `LookupResult`,
        stored, with age None) or raises (stored nowhere).

        An ASCII domain is keyed as the component normalises it; any other
        by the spelling asked, an alias of the entry under the normalised
        domain the component returned (which ASCII spellings then find)."""
        ascii_key = domain_key(domain)
        asked = (owner, ascii_key if ascii_key is not None else ("as-asked", domain))
        hit = self._fresh(asked, ttl)
        if hit is not None:
            return hit
        with self._flight(asked):
            hit = self._fresh(asked, ttl)  # another lookup of the key may have stored it
            if hit is not None:
                return hit
            found = fetch(domain)
            entry = Entry(
                found.domain, tuple(found.machines_json), found.cap_reached, self.clock.now()
            )
            with self._lock:
                for key in {asked, (owner, found.domain)}:
                    self._store[key] = entry
                    self._store.move_to_end(key)
                while len(self._store) > self.entries:
                    self._store.popitem(last=False)
            return found, None

    def _fresh(self, key: Hashable, ttl: float) -> Optional[Tuple[Entry, float]]:
        with self._lock:
            entry = self._store.get(key)
            if entry is None:
                return None
            age = max(0.0, self.clock.now() - entry.stored_at)
            if age >= ttl:
                del self._store[key]
                return None
            self._store.move_to_end(key)
            return entry, age

    @contextmanager
    def _flight(self, key: Hashable) -> Iterator[None]:
        with self._lock:
            flight = self._flights.setdefault(key, [threading.Lock(), 0])
            flight[1] += 1
        try:
            with flight[0]:
                yield
        finally:
            with self._lock:
                flight[1] -= 1
                if flight[1] == 0:
                    del self._flights[key]


def checked_entries(entries) -> int:
    if isinstance(entries, bool) or not isinstance(entries, int) or entries < 1:
        raise InvalidSettings(f"cache_entries={entries!r}: a cache holds at least 1 entry")
    return entries


def checked_ttl(ttl) -> Optional[float]:
    """`cache_ttl` in seconds, None when the cache is off (None or 0)."""
    if ttl is None or (not isinstance(ttl, bool) and ttl == 0):
        return None
    if isinstance(ttl, bool) or not isinstance(ttl, (int, float)) or not math.isfinite(ttl):
        raise InvalidSettings(f"cache_ttl={ttl!r}: give seconds, such as 300, or None for no cache")
    if ttl < 0:
        raise InvalidSettings(f"cache_ttl={ttl!r} is negative: give seconds, or None for no cache")
    return float(ttl)
