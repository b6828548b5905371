"""What the other lookups (issue 25) answer: machine lists by file, user,
IP address or machine id, and how common a domain or an address is."""

from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional


@dataclass
class QueryResult:
    """The machines of a file, a user, an IP address at a time, or one
    machine id: `LookupResult`'s shape for every machine list."""

    #: What was asked, as the contract's `query` names it: `domain`, `file`,
    #: `user`, `ip` or `machine`.
    kind: str
    #: The input as normalised and sent: a lower-case SHA-1, an account name,
    #: an address in its canonical form, a machine id or computer name.
    query: str
    #: One dict per machine, with the service's own field names.
    machines: List[Dict[str, Any]]
    #: True when the service's cap of 500 machines was reached.
    cap_reached: bool
    #: For `ip`: the time asked about, RFC 3339 in UTC.
    at: Optional[str] = None
    #: The component's JSON text of each machine; `Connector.ocsf` and
    #: `Connector.ecs` map these.
    machines_json: List[str] = field(repr=False, default_factory=list)


@dataclass
class Prevalence:
    """How many machines of the organisation saw a domain or an address in
    the window, and when first and last. Read leniently, as machines are."""

    #: `domain-stats` or `ip-stats`.
    lookup: str
    #: The domain (trimmed, lower-case, punycode) or the address (canonical)
    #: as queried.
    query: str
    #: The window asked for, in hours; None: the service's default, 720.
    look_back_hours: Optional[int]
    #: `organizationPrevalence` (or `orgPrevalence`): 0 when never seen.
    organization_prevalence: Optional[int]
    #: `orgFirstSeen` and `orgLastSeen`, as sent; None when never seen.
    org_first_seen: Optional[str]
    org_last_seen: Optional[str]
    #: `host` (a domain's) or `ipAddress` (an address's), as sent.
    sent_as: Optional[str]
    #: What the service sent that the fields above do not hold, under its
    #: own names; None when nothing.
    unmodelled: Optional[Dict[str, Any]] = None
    #: `unmodelled` as the component's JSON text, for output as sent.
    unmodelled_json: Optional[str] = field(default=None, repr=False)


@dataclass
class LookupPermission:
    """Whether a token's roles permit one lookup."""

    #: The lookup's name: `domain-machines`, `domain-stats`, ...
    lookup: str
    permitted: bool
    #: The roles of which any one permits it, least privilege first.
    roles_needed: List[str]


@dataclass
class TokenReport:
    """What `Connector.check()` read from a fresh token, without trusting it
    (never the token itself)."""

    api_base: str
    login_host: Optional[str]
    tenant_id: Optional[str]
    app_id: Optional[str]
    audience: Optional[str]
    roles: List[str]
    #: `exp`, seconds since the Unix epoch.
    expires_at: Optional[int]
    #: The cloud `aud` belongs to, when it is another cloud's than the settings'.
    audience_cloud: Optional[str]
    #: Every lookup the connector offers, in order.
    lookups: List[LookupPermission]

    def permits(self, lookup: str) -> bool:
        return any(p.permitted for p in self.lookups if p.lookup == lookup)
