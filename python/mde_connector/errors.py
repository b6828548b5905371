"""The errors a lookup can end in: one class per case of the WIT `error` variant.

Every text an exception carries has passed through the connector's scrubber
first, so a secret reflected by a hostile server never reaches a log or a
traceback.
"""

from typing import Callable, Optional

Scrub = Callable[[str], str]

# How the service names itself in the WIT, and in messages.
_SERVICE_NAMES = {"api": "API", "identity-platform": "identity platform"}


class ConnectorError(Exception):
    """Base of every error this package raises about a lookup."""

    #: The WIT case (`invalid-domain`, `rate-limited`, ...), stable for programs.
    kind = "connector"


class InvalidInput(ConnectorError):
    """The caller's input was refused before any request was sent; `reason`
    says what was wrong and how to fix it. One subclass per kind of input."""

    kind = "invalid-input"

    def __init__(self, reason: str):
        super().__init__(f"{self.kind}: {reason}")
        self.reason = reason


class InvalidDomain(InvalidInput):
    """The caller's domain was rejected before any request was sent."""

    kind = "invalid-domain"


class InvalidFileHash(InvalidInput):
    """A file hash that is not a SHA-1 (40 hex digits): an MD5 or a SHA-256
    (the service takes SHA-1 only), or not a hash. Refused before any request."""

    kind = "invalid-file-hash"


class InvalidUserName(InvalidInput):
    """A user name the service cannot take: a UPN (give the account name
    alone), `/ ? # ..` or a control character. Refused before any request."""

    kind = "invalid-user-name"


class InvalidIp(InvalidInput):
    """Not a single IPv4 or IPv6 address: a zone, a CIDR, a name or text."""

    kind = "invalid-ip"


class InvalidTime(InvalidInput):
    """A time that is not RFC 3339, or one in the future or older than the
    service's 30 days (the host checks those: it has the clock)."""

    kind = "invalid-time"


class InvalidMachineId(InvalidInput):
    """A machine id or computer name with `/ ? # ..`, a control character
    or whitespace, or empty."""

    kind = "invalid-machine-id"


class InvalidLookBack(InvalidInput):
    """`look_back_hours` outside 1 to 720 (the service's 30 days)."""

    kind = "invalid-look-back"


#: The WIT's cases of input refused before any request, by their kind.
INVALID_INPUT = {
    cls.kind: cls
    for cls in (
        InvalidDomain,
        InvalidFileHash,
        InvalidUserName,
        InvalidIp,
        InvalidTime,
        InvalidMachineId,
        InvalidLookBack,
    )
}


class InvalidSettings(ConnectorError):
    """The settings are unusable (an empty tenant id, a custom URL with a path, ...)."""

    kind = "invalid-settings"

    def __init__(self, reason: str):
        super().__init__(f"{self.kind}: {reason}")
        self.reason = reason


class ServiceError(ConnectorError):
    """An error answer from the API or the identity platform, with what it said."""

    def __init__(
        self,
        service: str,
        status: int,
        code: Optional[str] = None,
        message: Optional[str] = None,
        correlation_id: Optional[str] = None,
        hint: Optional[str] = None,
    ):
        self.service = service
        self.status = status
        #: Stable, for programs: `InvalidDomainName`, `Forbidden`, `invalid_client`, ...
        self.code = code
        #: Free text for people; may change.
        self.message = message
        #: The id Microsoft support asks for.
        self.correlation_id = correlation_id
        #: What to fix, in the component's words, when it knows (the role to
        #: grant for a 403, an AADSTS code's meaning, the cloud to try).
        self.hint = hint
        super().__init__(f"{self.kind}: {self._describe()}")

    def _describe(self) -> str:
        text = f"{_SERVICE_NAMES.get(self.service, self.service)} answered {self.status}"
        if self.code is not None:
            text += f" {self.code}"
        if self.message is not None:
            text += f": {self.message}"
        if self.correlation_id is not None:
            text += f" (correlation id {self.correlation_id})"
        if self.hint is not None:
            # As the Rust core prints it.
            text += f"; to fix: {self.hint}"
        return text


class Unauthorized(ServiceError):
    """`401` or a failed token grant: credentials wrong, expired or for another audience."""

    kind = "unauthorized"


class Forbidden(ServiceError):
    """`403`: authenticated, but the application lacks `Machine.Read.All`."""

    kind = "forbidden"


class ApiError(ServiceError):
    """Another `4xx` with the service's error envelope (`InvalidDomainName`, ...)."""

    kind = "api-error"


class _RetryLater(ServiceError):
    """An answer that says to try again, after `retry_after` seconds when it
    gave a `Retry-After` (the WIT's `retry-later`)."""

    def __init__(self, retry_after: Optional[int], **details):
        self.retry_after = retry_after
        super().__init__(**details)

    def _describe(self) -> str:
        if self.retry_after is not None:
            return f"{super()._describe()}; retry after {self.retry_after} s"
        return super()._describe()


class ServiceUnavailable(_RetryLater):
    """`5xx`: transient; try again later (after `retry_after` seconds when given)."""

    kind = "service-unavailable"


class RateLimited(_RetryLater):
    """`429`: wait `retry_after` seconds (when the answer said), then try again."""

    kind = "rate-limited"

    def _describe(self) -> str:
        if self.retry_after is None:
            return f"{super()._describe()}; no Retry-After given"
        return super()._describe()


class TransportError(ConnectorError):
    """The host could not deliver a request.

    `reason` is the WIT's transport-error case: `refused` (the host's policy
    refused it before anything was sent), `timeout`, `connection`, `too-large`
    (`limit` holds the cap in bytes) or `other`.
    """

    kind = "transport"

    def __init__(self, reason: str, detail: Optional[str] = None, limit: Optional[int] = None):
        self.reason = reason
        self.detail = detail
        self.limit = limit
        # As the Rust core prints them.
        text = {
            "refused": f"refused by host policy: {detail}",
            "timeout": "timed out",
            "connection": f"connection failed: {detail}",
            "too-large": f"answer larger than {limit} bytes",
        }.get(reason, detail)
        super().__init__(f"{self.kind}: {text}")


class InvalidResponse(ConnectorError):
    """An answer that is not what the service sends (HTML, empty, wrong shape)."""

    kind = "invalid-response"

    def __init__(self, service: str, status: int, reason: str, excerpt: str):
        self.service = service
        self.status = status
        self.reason = reason
        #: The start of the body, control characters escaped (at most 200 characters).
        self.excerpt = excerpt
        name = _SERVICE_NAMES.get(service, service)
        super().__init__(
            f"{self.kind}: {name} answered {status}: {reason}; body starts {excerpt!r}"
        )


class ComponentTrap(ConnectorError):
    """The component trapped (its CPU or memory limit, or a fault). Not a WIT
    case: the host's. The next call runs in a fresh instance."""

    kind = "trap"


def from_wit(error, scrub: Scrub) -> ConnectorError:
    """The exception for a WIT `error` value as wasmtime-py gives it (a
    `Variant` whose payload is a string, a `Record` or another `Variant`)."""
    tag, payload = error.tag, error.payload
    if tag in INVALID_INPUT:
        return INVALID_INPUT[tag](scrub(payload))
    if tag == "invalid-settings":
        return InvalidSettings(scrub(payload))
    retry_later = {"rate-limited": RateLimited, "service-unavailable": ServiceUnavailable}
    if tag in retry_later:
        retry_after = getattr(payload, "retry-after-seconds")
        return retry_later[tag](retry_after, **_service_error(payload.details, scrub))
    service_errors = {
        "unauthorized": Unauthorized,
        "forbidden": Forbidden,
        "api-error": ApiError,
    }
    if tag in service_errors:
        return service_errors[tag](**_service_error(payload, scrub))
    if tag == "transport":
        return transport_from_wit(payload, scrub)
    if tag == "invalid-response":
        return InvalidResponse(
            service=payload.service,
            status=payload.status,
            reason=scrub(payload.reason),
            excerpt=scrub(payload.excerpt),
        )
    return ConnectorError(scrub(f"{tag}: {payload!r}"))


def transport_from_wit(error, scrub: Scrub) -> TransportError:
    if error.tag == "too-large":
        return TransportError("too-large", limit=error.payload)
    detail = None if error.payload is None else scrub(error.payload)
    return TransportError(error.tag, detail)


def _service_error(record, scrub: Scrub) -> dict:
    def text(value):
        return None if value is None else scrub(value)

    return {
        "service": record.service,
        "status": record.status,
        "code": text(record.code),
        "message": text(record.message),
        "correlation_id": text(getattr(record, "correlation-id")),
        # A component before 0.4.0 gives no hint.
        "hint": text(getattr(record, "hint", None)),
    }
