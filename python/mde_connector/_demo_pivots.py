"""The demo tenant's answers to the other lookups' routes (files, users,
findbyip, one machine, the two stats routes), as the Rust demo tenant answers
them (`host/src/fake_tenant/pivots.rs`): the reference's examples, over the
same demo machines, so `python -m mde_connector file ...` prints what
`mde-connector file ...` prints."""

import ipaddress
import re
import time
import urllib.parse
from typing import Callable, Dict, List, Optional

from .transport import Response

KNOWN_FILE = "0991a395da64e1c5fbe8732ed11e6be064081d9f"
KNOWN_USER = "user1"
KNOWN_IP = "10.20.31.7"
_CONTEXT = "https://api.security.microsoft.com/api/$metadata"
_FINDBYIP = re.compile(r"findbyip\(ip='(?P<ip>[^']*)',timestamp=(?P<at>[^)]*)\)")


def answer(
    segments: List[str],
    query: str,
    machines: Dict[str, List[Dict]],
    json_response: Callable[[int, object], Response],
    api_error: Callable[[int, str, str], Response],
    is_domain_name: Callable[[str], bool],
) -> Optional[Response]:
    """The answer to a GET of `/api/...` split into `segments` (still
    percent-encoded), or None when it is not one of these routes."""
    value = lambda i: urllib.parse.unquote(segments[i])  # noqa: E731
    everything = [m for listed in machines.values() for m in listed]
    collection = lambda found: json_response(  # noqa: E731
        200, {"@odata.context": f"{_CONTEXT}#Machines", "value": found}
    )
    shape = segments[1:2] + (["*"] if len(segments) > 2 else []) + segments[3:]
    if shape == ["files", "*", "machines"]:
        sha1 = value(2)
        if not re.fullmatch(r"[0-9a-fA-F]{40}", sha1):
            return api_error(400, "InvalidRequestBody", f"Invalid SHA1: {sha1}")
        return collection(machines["contoso.com"][:2] if sha1.lower() == KNOWN_FILE else [])
    if shape == ["users", "*", "machines"]:
        known = value(2).lower() == KNOWN_USER
        return collection(machines["contoso.com"][:1] if known else [])
    if shape == ["machines", "*"] and segments[2].startswith("findbyip("):
        return _find_by_ip(value(2), everything, collection, api_error)
    if shape == ["machines", "*"]:
        wanted = value(2).lower()
        for machine in everything:
            if wanted in (str(machine.get("id")).lower(), str(machine.get("computerDnsName")).lower()):
                entity = {"@odata.context": f"{_CONTEXT}#Machines/$entity", **machine}
                return json_response(200, entity)
        return api_error(404, "ResourceNotFound", f"Machine {value(2)} was not found")
    if shape in (["domains", "*", "stats"], ["ips", "*", "stats"]):
        refused = _look_back(query, api_error)
        if refused is not None:
            return refused
        if shape[0] == "domains":
            return _domain_stats(value(2), json_response, api_error, is_domain_name)
        return _ip_stats(value(2), json_response, api_error)
    return None


def _find_by_ip(call, everything, collection, api_error) -> Response:
    parsed = _FINDBYIP.fullmatch(call)
    if parsed is None:
        return api_error(400, "InvalidRequestBody", f"Invalid call: {call}")
    try:
        address = ipaddress.ip_address(parsed["ip"])
    except ValueError:
        return api_error(400, "InvalidIpAddress", f"Invalid IP address: {parsed['ip']}")
    at = _epoch_seconds(parsed["at"])
    if at is None:
        return api_error(400, "InvalidRequestBody", f"Invalid timestamp: {parsed['at']}")
    if time.time() - at > 30 * 86_400:
        return api_error(400, "InvalidRequestBody", "Timestamp must be within the last 30 days")
    return collection([m for m in everything if _has_address(m, address)])


def _epoch_seconds(text: str) -> Optional[float]:
    from datetime import datetime

    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00")).timestamp()
    except ValueError:
        return None


def _has_address(machine: Dict, address) -> bool:
    def same(text) -> bool:
        try:
            return isinstance(text, str) and ipaddress.ip_address(text) == address
        except ValueError:
            return False

    entries = machine.get("ipAddresses") or []
    return same(machine.get("lastIpAddress")) or any(
        isinstance(e, dict) and same(e.get("ipAddress")) for e in entries
    )


def _look_back(query: str, api_error) -> Optional[Response]:
    """The service's 400 for a `lookBackHours` outside 1 to 720, else None."""
    for pair in query.split("&"):
        if pair.startswith("lookBackHours="):
            text = pair[len("lookBackHours="):]
            if not (text.isdigit() and 1 <= int(text) <= 720):
                return api_error(
                    400,
                    "InvalidParameterValue",
                    f"lookBackHours must be between 1 and 720, got {text}",
                )
    return None


def _domain_stats(domain, json_response, api_error, is_domain_name) -> Response:
    if not is_domain_name(domain):
        return api_error(400, "InvalidDomainName", f"Domain name {domain} is invalid")
    context = f"{_CONTEXT}#microsoft.windowsDefenderATP.api.InOrgDomainStats"
    known = domain == "contoso.com"
    return json_response(
        200,
        {
            "@odata.context": context,
            "host": domain,
            "orgPrevalence": "4070" if known else "0",
            "orgFirstSeen": "2017-07-30T13:23:48Z" if known else None,
            "orgLastSeen": "2017-08-29T13:09:05Z" if known else None,
        },
    )


def _ip_stats(ip, json_response, api_error) -> Response:
    try:
        ipaddress.ip_address(ip)
    except ValueError:
        return api_error(400, "InvalidIpAddress", f"Invalid IP address: {ip}")
    context = f"{_CONTEXT}#microsoft.windowsDefenderATP.api.InOrgIPStats"
    known = ip == KNOWN_IP
    return json_response(
        200,
        {
            "@odata.context": context,
            "ipAddress": ip,
            "organizationPrevalence": 63515 if known else 0,
            "orgFirstSeen": "2019-04-26T01:22:36Z" if known else None,
            "orgLastSeen": "2019-09-12T11:30:32Z" if known else None,
        },
    )
