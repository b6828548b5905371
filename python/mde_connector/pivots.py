"""The other lookups a SOC pivots on (issue 25), as `Connector` methods:
the machines of a file, a user or an IP address, one machine, and how common
a domain or an address is. Each input is checked by the component before
any request; the host checks what needs its clock (an IP lookup's time)."""

import datetime
from typing import Any, Dict, Optional, Union

from wasmtime.component import Variant

from . import _conversions, errors
from .results import Prevalence, QueryResult, TokenReport

#: How far back the service looks an IP address up: 30 days.
MAX_IP_AGE = datetime.timedelta(days=30)


class Pivots:
    """Mixed into `Connector`, whose sandbox, lock and scrubber it uses."""

    def file_machines(self, sha1: str) -> QueryResult:
        """The machines that saw a file, by its SHA-1 (40 hex digits; the
        service takes no MD5 or SHA-256). An unknown file has none."""
        return self._query("file", _text("sha1", sha1))

    def user_machines(self, name: str) -> QueryResult:
        """The machines a user signed in to, by account name (`user1`, not
        `user1@contoso.com`). An unknown user has none."""
        return self._query("user", _text("name", name))

    def ip_machines(self, ip: str, at: Union[None, str, datetime.datetime] = None) -> QueryResult:
        """The machines seen with an internal IP address within 15 minutes
        of `at`: a timezone-aware datetime or an RFC 3339 text, within the
        last 30 days; now by default."""
        return self._query("ip", _text("ip", ip), _time(at, self._now()))

    def machine(self, machine_id: str) -> Optional[Dict[str, Any]]:
        """One machine, by machine id (40 hex digits) or computer name, with
        the service's field names; None when the service has none (404)."""
        found = self._query("machine", _text("machine_id", machine_id))
        return found.machines[0] if found.machines else None

    def machine_list(self, machine_id: str) -> QueryResult:
        """`machine` as a machine list of at most one, for output and events."""
        return self._query("machine", _text("machine_id", machine_id))

    def check(self) -> TokenReport:
        """Signs in with the connector's credentials and reports the token's
        claims (tenant, application, audience, roles, expiry) and which
        lookups its roles permit, read without trusting them. Sends no API
        request and never returns the token. With a replay (the host
        manages authentication) there is no token: `InvalidSettings`."""
        with self._lock:
            found = self._sandbox.call("check")
        if isinstance(found, Variant):
            raise errors.from_wit(found, self._secrets.scrub)
        return _conversions.token_report(found, self._secrets.scrub)

    def domain_stats(self, domain: str, look_back_hours: Optional[int] = None) -> Prevalence:
        """How many machines of the organisation saw `domain` in the last
        `look_back_hours` (1 to 720; the service's default, 720)."""
        return self._stats("domain-stats", _text("domain", domain), look_back_hours)

    def ip_stats(self, ip: str, look_back_hours: Optional[int] = None) -> Prevalence:
        """How many machines of the organisation saw the address `ip`."""
        return self._stats("ip-stats", _text("ip", ip), look_back_hours)

    def _now(self) -> datetime.datetime:
        return datetime.datetime.now(datetime.timezone.utc)

    def _query(self, kind: str, value: str, at: Optional[str] = None) -> QueryResult:
        with self._lock:
            found = self._sandbox.call(
                "lookup-query-texts", _conversions.wit_query(kind, value, at)
            )
        if isinstance(found, Variant):
            raise errors.from_wit(found, self._secrets.scrub)
        from .connector import _machines

        kind, query, at = _conversions.query_of(found.query)
        texts = self._scrubbed(found.machines)
        return QueryResult(
            kind=kind,
            query=self._secrets.scrub(query),
            machines=_machines(texts),
            cap_reached=getattr(found, "cap-reached"),
            at=at,
            machines_json=texts,
        )

    def _stats(self, lookup: str, value: str, look_back_hours: Optional[int]) -> Prevalence:
        if look_back_hours is not None:
            if isinstance(look_back_hours, bool) or not isinstance(look_back_hours, int):
                raise TypeError("look_back_hours is a whole number of hours, or None")
            if not 0 <= look_back_hours < 2**32:
                # Cannot cross as the contract's u32: refused here, as the component would.
                raise errors.InvalidLookBack(
                    f"look_back_hours {look_back_hours} is outside 1 to 720 (30 days, the "
                    "service's limit)"
                )
        with self._lock:
            found = self._sandbox.call(lookup, value, look_back_hours)
        if isinstance(found, Variant):
            raise errors.from_wit(found, self._secrets.scrub)
        from .connector import loads

        return _conversions.prevalence(lookup, found, self._secrets.scrub, loads)


def _text(name: str, value: str) -> str:
    """A str a WIT string can carry: a lone surrogate is refused here rather
    than trapping."""
    if not isinstance(value, str):
        raise TypeError(f"{name} must be a str, not {type(value).__name__}")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as e:
        cls = errors.InvalidDomain if name == "domain" else errors.InvalidInput
        raise cls(f"{name}: character {e.start + 1} is not a Unicode scalar value") from None
    return value


def _time(at, now: datetime.datetime) -> str:
    """`at` as the RFC 3339 text the component takes; the host's checks,
    which need a clock: not in the future, not older than 30 days."""
    if at is None:
        return now.strftime("%Y-%m-%dT%H:%M:%SZ")
    if isinstance(at, datetime.datetime):
        if at.tzinfo is None:
            raise errors.InvalidTime(
                "at must be timezone-aware: datetime(..., tzinfo=timezone.utc)"
            )
        when, text = at, at.astimezone(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    elif isinstance(at, str):
        text = _text("at", at)
        when = _parsed(text)
        if when is None:
            # The component says what RFC 3339 wants.
            return text
    else:
        raise TypeError(f"at is a datetime or an RFC 3339 str, not {type(at).__name__}")
    if when > now:
        raise errors.InvalidTime(
            f"{text} is in the future (now is {now.strftime('%Y-%m-%dT%H:%M:%SZ')}): give a "
            "time the address was in use"
        )
    if now - when > MAX_IP_AGE:
        raise errors.InvalidTime(
            f"{text} is more than 30 days ago, further back than the service looks: give a "
            "time within the last 30 days"
        )
    return text


def _parsed(text: str) -> Optional[datetime.datetime]:
    """An RFC 3339 time with its offset, or None when Python cannot read it."""
    try:
        utc = text.strip().replace("Z", "+00:00").replace("z", "+00:00")
        when = datetime.datetime.fromisoformat(utc)
    except ValueError:
        return None
    return when if when.tzinfo is not None else None
