"""Outbound policy, all of it in `Gateway.send`: the one function through
which every request of the component leaves the host. The same policy as the
Rust host (`host/src/gateway.rs`): egress allow-list, rate budget, retries,
then the transport; its numbers come from the policy file (`_policy_file`)."""

import random
import threading
import time
import urllib.parse
from collections import deque
from dataclasses import dataclass
from typing import Dict, NamedTuple, Optional

from ._policy_file import PER_HOUR, PER_MINUTE
from .errors import InvalidSettings
from .transport import Request, Response, TransportFailure, is_loopback

MINUTE = 60.0
HOUR = 3600.0


class Clock:
    """The machine's monotonic clock. Tests give a clock that moves only when
    told to, so nothing sleeps for real."""

    def now(self) -> float:
        return time.monotonic()

    def sleep(self, seconds: float) -> None:
        time.sleep(seconds)


@dataclass(frozen=True)
class Limits:
    """How many API calls fit in any minute and in any hour."""

    per_minute: int = PER_MINUTE
    per_hour: int = PER_HOUR

    def __post_init__(self):
        # A rate below 1 would never let a call through: every lookup would
        # wait on the budget forever instead of failing.
        for name in ("per_minute", "per_hour"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int):
                raise InvalidSettings(
                    f"{name} is a whole number of calls, not {type(value).__name__} {value!r}"
                )
            if value < 1:
                raise InvalidSettings(
                    f"{name}={value}: {value} would never let a call through; the least is 1"
                )


#: Defender for Endpoint's limits, per application and tenant.
SERVICE_LIMITS = Limits()


class RateWindow:
    """The calls of the last hour, oldest first: sliding windows."""

    def __init__(self, limits: Limits):
        self.limits = limits
        self.calls = deque()

    def try_acquire(self, now: float) -> Optional[float]:
        """Counts a call at `now` if it fits in both windows and returns None;
        otherwise returns how long until it would, and counts nothing."""
        while self.calls and self.calls[0] + HOUR <= now:
            self.calls.popleft()
        waits = [
            wait
            for wait in (
                self._wait_for(now, self.limits.per_minute, MINUTE),
                self._wait_for(now, self.limits.per_hour, HOUR),
            )
            if wait is not None
        ]
        if waits:
            return max(waits)
        self.calls.append(now)
        return None

    def _wait_for(self, now: float, limit: int, window: float) -> Optional[float]:
        """With `limit` calls already inside `window`, the wait until the
        earliest of them leaves it."""
        in_window = sum(1 for t in self.calls if t + window > now)
        if in_window < limit:
            return None
        return self.calls[len(self.calls) - limit] + window - now


def budget_key(tenant_id: str, client_id: str) -> str:
    """Whose budget a connector's calls count against. Tenant ids (GUIDs or
    domain names) and client ids (GUIDs) compare without case at the
    service, so `Contoso.com` and `contoso.com` share one budget."""
    return f"{tenant_id.lower()}/{client_id.lower()}"


class Budgets:
    """Rate windows per budget key (`budget_key`, or `bearer` for every
    bearer-token connector), shared by every gateway of a process unless a
    caller gives its own."""

    def __init__(self):
        self._lock = threading.Lock()
        self._windows: Dict[str, RateWindow] = {}

    def try_acquire(self, key: str, limits: Limits, now: float) -> Optional[float]:
        with self._lock:
            window = self._windows.setdefault(key, RateWindow(limits))
            window.limits = limits
            return window.try_acquire(now)


#: The budgets of this process.
PROCESS_BUDGETS = Budgets()


class Origin(NamedTuple):
    """A scheme, host and port."""

    scheme: str
    host: str
    port: int

    @classmethod
    def parse(cls, url: str) -> "Origin":
        """The origin of an absolute `http(s)://` URL; ValueError otherwise."""
        parts = urllib.parse.urlsplit(url)
        scheme = parts.scheme.lower()
        if scheme not in ("http", "https"):
            raise ValueError(f"{url!r} is not an http(s) URL")
        if not parts.hostname:
            raise ValueError(f"{url!r} has no host")
        if parts.username is not None or parts.password is not None:
            raise ValueError(f"{url!r} carries credentials in its authority")
        port = parts.port  # ValueError when it is not a number in range
        return cls(scheme, parts.hostname.lower(), port or (443 if scheme == "https" else 80))

    def __str__(self) -> str:
        return f"{self.scheme}://{self.host}:{self.port}"


@dataclass
class Policy:
    """What the host allows and how it retries."""

    #: The API: requests to it count against the budget.
    api: Optional[Origin]
    #: The identity platform. Nothing else may be reached.
    login: Optional[Origin]
    #: Plain `http://` to loopback addresses (test servers). Off by default.
    allow_loopback_http: bool = False
    #: API calls per budget key.
    limits: Limits = SERVICE_LIMITS
    #: The longest the host waits on a `429` or its own budget before giving
    #: the rate limit to the component, in seconds.
    max_wait: float = 120.0
    #: Attempts of a GET that fails with `5xx` or in transport.
    max_attempts: int = 4
    #: First backoff in seconds; doubles each attempt, with full jitter, up to `max_backoff`.
    base_backoff: float = 0.5
    max_backoff: float = 30.0


#: The longest `Retry-After` taken as sent, in seconds: a day.
MAX_RETRY_AFTER = 86_400


def retry_after_seconds(value: Optional[str]) -> Optional[int]:
    """`Retry-After` in seconds, as the component reads it (digits only; an
    HTTP date is not waited on), at most `MAX_RETRY_AFTER`."""
    digits = (value or "").strip()
    if not digits or not digits.isascii() or not digits.isdigit():
        return None
    # Measured as text first: int() refuses thousands of digits.
    significant = digits.lstrip("0") or "0"
    if len(significant) > len(str(MAX_RETRY_AFTER)):
        return MAX_RETRY_AFTER
    return min(int(significant), MAX_RETRY_AFTER)


def budget_exhausted(wait: float) -> Response:
    """A `429` the host makes itself, so the component reports it as the service's."""
    seconds = max(0, int(-(-wait // 1)))
    body = (
        '{"error":{"code":"HostBudgetExhausted","message":"The host\'s rate budget for '
        f'this application is spent; retry in {seconds} s."}}}}'
    )
    return Response(
        429,
        [("content-type", "application/json"), ("retry-after", str(seconds))],
        body.encode(),
    )


def plain_http_refused(origin: Origin) -> str:
    """Why the configured API or login origin is refused for plain http, and
    what allows it: the flag or argument, for loopback; https, for the rest."""
    if is_loopback(origin.host):
        return (
            f"{origin} is plain http: the host allows it to loopback addresses only with "
            "allow_loopback_http=True (the command's --allow-loopback-http)"
        )
    return (
        f"{origin} is plain http: the host allows plain http to loopback addresses only; use https"
    )


class Gateway:
    """The component's way out: policy in front of a transport."""

    def __init__(
        self,
        policy: Policy,
        budget_key: str,
        transport,
        budgets: Budgets = PROCESS_BUDGETS,
        clock: Optional[Clock] = None,
        jitter: Optional[random.Random] = None,
    ):
        self.policy = policy
        self.budget_key = budget_key
        self.transport = transport
        self.budgets = budgets
        self.clock = clock or Clock()
        self.jitter = jitter or random.Random()

    def send(self, request: Request) -> Response:
        """Every request of the component passes here: refused unless it goes
        to the API or the login origin (https, or http to loopback when
        allowed); API calls take a place in the budget; a `429` is waited on
        when its `Retry-After` is within `max_wait`, and a GET that fails with
        `5xx` or in transport is tried again with backoff, `max_attempts` in
        all. Token requests (POST) are never repeated."""
        origin = self.check_egress(request)
        counted = origin == self.policy.api
        repeatable = request.method.lower() == "get"
        attempt = 0
        while True:
            if counted:
                refused = self._acquire_budget()
                if refused is not None:
                    return budget_exhausted(refused)
            attempt += 1
            try:
                answer, failure = self.transport.send(request), None
            except TransportFailure as e:
                answer, failure = None, e
            wait = self._wait_before_repeat(answer, failure, attempt) if repeatable else None
            if wait is None or attempt >= self.policy.max_attempts:
                if failure is not None:
                    raise failure
                return answer
            self.clock.sleep(wait)

    def check_egress(self, request: Request) -> Origin:
        """The request's origin, or TransportFailure("refused") before anything is sent."""
        try:
            origin = Origin.parse(request.url)
        except ValueError as e:
            raise TransportFailure("refused", str(e)) from None
        allowed = origin in (self.policy.api, self.policy.login)
        scheme_ok = origin.scheme == "https" or (
            self.policy.allow_loopback_http and is_loopback(origin.host)
        )
        if allowed and not scheme_ok:
            raise TransportFailure("refused", plain_http_refused(origin))
        if not allowed or not scheme_ok:
            raise TransportFailure("refused", f"{origin} is not on the host's egress allow-list")
        return origin

    def _wait_before_repeat(
        self, answer: Optional[Response], failure: Optional[TransportFailure], attempt: int
    ) -> Optional[float]:
        if answer is not None and answer.status == 429:
            wait = retry_after_seconds(answer.header("retry-after"))
            return wait if wait is not None and wait <= self.policy.max_wait else None
        if answer is not None and answer.status >= 500:
            return self._backoff(attempt)
        if failure is not None and failure.reason in ("timeout", "connection"):
            return self._backoff(attempt)
        return None

    def _acquire_budget(self) -> Optional[float]:
        """Takes a place in the budget, waiting up to `max_wait` for one;
        returns the wait it would have needed when that is longer."""
        while True:
            wait = self.budgets.try_acquire(self.budget_key, self.policy.limits, self.clock.now())
            if wait is None:
                return None
            if wait > self.policy.max_wait:
                return wait
            self.clock.sleep(wait)

    def _backoff(self, attempt: int) -> float:
        cap = min(self.policy.base_backoff * (2 ** min(attempt, 16)), self.policy.max_backoff)
        return cap * self.jitter.random()
