"""Microsoft Defender for Endpoint's domain lookup, run by the mde-connector
WebAssembly component inside wasmtime, with the host's policy in Python.

    from mde_connector import Connector
    connector = Connector(tenant_id=..., client_id=..., client_secret=...)
    found = connector.lookup("contoso.com")
    found.machines        # dicts with the service's field names
    found.cap_reached     # True when the service's 500-machine cap was hit
    connector.ocsf(found) # OCSF events of the same machines, no second call
"""

from ._version import __version__
from .connector import CLOUDS, Connector, LookupResult
from .errors import (
    ApiError,
    ComponentTrap,
    ConnectorError,
    Forbidden,
    InvalidDomain,
    InvalidFileHash,
    InvalidInput,
    InvalidIp,
    InvalidLookBack,
    InvalidMachineId,
    InvalidResponse,
    InvalidSettings,
    InvalidTime,
    InvalidUserName,
    RateLimited,
    ServiceError,
    ServiceUnavailable,
    TransportError,
    Unauthorized,
)
from .policy import Limits

__all__ = [
    "__version__",
    "CLOUDS",
    "Connector",
    "LookupResult",
    "Limits",
    "ConnectorError",
    "InvalidInput",
    "InvalidDomain",
    "InvalidFileHash",
    "InvalidUserName",
    "InvalidIp",
    "InvalidTime",
    "InvalidMachineId",
    "InvalidLookBack",
    "InvalidSettings",
    "ServiceError",
    "Unauthorized",
    "Forbidden",
    "RateLimited",
    "ApiError",
    "ServiceUnavailable",
    "TransportError",
    "InvalidResponse",
    "ComponentTrap",
]
