"""The command's lookups beyond a domain's machines, in the Rust CLI's
grammar: `DOMAIN` (as ever), `file SHA1`, `user NAME`, `ip ADDR [--at
TIME]`, `machine ID`, `domain-stats DOMAIN [--look-back-hours N]`,
`ip-stats ADDR [--look-back-hours N]`, and `check`."""

import json
import sys
from typing import List, Optional, Tuple

from .results import Prevalence

#: The lookups named by their first word, and what their input is called.
LOOKUPS = {
    "file": "SHA1",
    "user": "NAME",
    "ip": "ADDR",
    "machine": "ID",
    "domain-stats": "DOMAIN",
    "ip-stats": "ADDR",
}


class UsageError(Exception):
    """Bad flags, words or environment: exit 2."""


def parse_words(words: List[str], at, look_back_hours) -> Tuple[str, Optional[str]]:
    """(lookup, input) from the positional words: `("domain", DOMAIN)` for
    one word that is not `check`, `("check", None)` for `check`."""
    if words == ["check"]:
        lookup, value = "check", None
    elif len(words) == 1 and words[0] not in LOOKUPS:
        lookup, value = "domain", words[0]
    elif len(words) == 2 and words[0] in LOOKUPS:
        lookup, value = words
    elif words[0] in LOOKUPS:
        raise UsageError(
            f"{words[0]} takes one {LOOKUPS[words[0]]}: {words[0]} {LOOKUPS[words[0]]}"
        )
    else:
        raise UsageError(
            f"unknown lookup {words[0]!r}: give a DOMAIN, or one of "
            f"{', '.join(LOOKUPS)} with its input, or check"
        )
    if at is not None and lookup != "ip":
        raise UsageError("--at is for `ip ADDR` only")
    if look_back_hours is not None and lookup not in ("domain-stats", "ip-stats"):
        raise UsageError("--look-back-hours is for domain-stats and ip-stats only")
    return lookup, value


def prevalence_json(found: Prevalence) -> str:
    """The prevalence as one JSON object, as the Rust CLI prints it (the
    core's `to_json`): the query, the window when given, the service's
    members under its names (absent ones `null`), then what it sent besides,
    which replaces a modelled member of the same name."""
    query = "queriedDomain" if found.lookup == "domain-stats" else "queriedIp"
    sent_as = "host" if found.lookup == "domain-stats" else "ipAddress"
    members = [(query, found.query)]
    if found.look_back_hours is not None:
        members.append(("lookBackHours", found.look_back_hours))
    members += [
        (sent_as, found.sent_as),
        ("organizationPrevalence", found.organization_prevalence),
        ("orgFirstSeen", found.org_first_seen),
        ("orgLastSeen", found.org_last_seen),
    ]
    extra = found.unmodelled_json
    replaced = set(found.unmodelled or {})
    parts = [f"{_quoted(name)}:{_value(value)}" for name, value in members if name not in replaced]
    if extra is not None and extra[1:-1].strip():
        parts.append(extra[1:-1])
    return "{" + ",".join(parts) + "}"


def _quoted(text: str) -> str:
    # serde_json's escapes: `"`, `\\` and the C0 controls; the rest as UTF-8.
    return json.dumps(text, ensure_ascii=False)


def _value(value) -> str:
    if value is None:
        return "null"
    if isinstance(value, int):
        return str(value)
    return _quoted(value)


def describe(cloud: str, report) -> str:
    """`check`'s report on a token for `cloud` (its name) as lines for
    people, as the Rust CLI prints it."""

    def known(value):
        return "(not in the token)" if value is None else value

    text = f"cloud: {cloud}\napi: {report.api_base}\n"
    if report.login_host is not None:
        text += f"signed in at: {report.login_host}\n"
    text += f"tenant: {known(report.tenant_id)}\n"
    text += f"application: {known(report.app_id)}\n"
    text += f"audience: {known(report.audience)}\n"
    if report.audience_cloud is not None:
        text += (
            f"warning: the token is for another cloud's API: try --cloud {report.audience_cloud}\n"
        )
    if report.expires_at is not None:
        text += f"expires: {report.expires_at} (seconds since 1970, UTC)\n"
    roles = ", ".join(report.roles) or "none (grant an application permission, then admin consent)"
    text += f"roles: {roles}\nlookups:\n"
    for lookup in report.lookups:
        if lookup.permitted:
            text += f"  {lookup.lookup:<16} permitted\n"
        else:
            text += (
                f"  {lookup.lookup:<16} not permitted: grant {lookup.roles_needed[0]} "
                "(application permission, admin consent)\n"
            )
    return text


def run(connector, lookup: str, value: str, args, out, write_array, write_lines) -> int:
    """One lookup other than a domain's machines, printed; the exit status."""
    from .__main__ import EXIT_AUTH, one_line

    if lookup == "check":
        report = connector.check()
        out.write(describe(connector.cloud, report).encode("utf-8"))
        permitted = {p.lookup: p.permitted for p in report.lookups}
        return 0 if permitted.get("domain-machines") else EXIT_AUTH
    if lookup in ("domain-stats", "ip-stats"):
        if args.format != "json":
            raise UsageError(f"{lookup} prints JSON only: leave --format out")
        call = connector.domain_stats if lookup == "domain-stats" else connector.ip_stats
        out.write((prevalence_json(call(value, args.look_back_hours)) + "\n").encode("utf-8"))
        return 0
    calls = {
        "file": connector.file_machines,
        "user": connector.user_machines,
        "machine": connector.machine_list,
        "ip": lambda v: connector.ip_machines(v, at=args.at),
    }
    found = calls[lookup](value)
    if lookup == "machine" and not found.machines:
        print(f"no machine {one_line(found.query)}", file=sys.stderr)
    if args.format == "json":
        write_array(out, found.machines_json)
    elif args.format == "ndjson":
        write_lines(out, found.machines_json)
    else:
        events = connector.ocsf_json if args.format == "ocsf" else connector.ecs_json
        write_lines(out, events(found))
    return 0
