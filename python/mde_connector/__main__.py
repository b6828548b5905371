"""`python -m mde_connector [--live | --replay FILE] [--format json|ndjson|ocsf|ecs]
[--log-level debug|info|warn|error] DOMAIN`

Prints the machines that communicated to or from DOMAIN, as the Rust CLI
(`mde-connector`) prints them: the same bytes for the same answers, the same
exit statuses. As with the Rust CLI, only `--live` sends the lookup to the
service, credentials alone never do: without `--live` or `--replay` the demo
tenant answers (`demo.py`). Credentials and cloud come from the
environment only (never from flags, which show up in `ps` and shell history):
MDE_TOKEN, or MDE_TENANT_ID, MDE_CLIENT_ID and MDE_CLIENT_SECRET; MDE_CLOUD,
and for a custom cloud MDE_API_BASE, MDE_LOGIN_HOST and MDE_SCOPE. The component's log records
go to stderr, warnings and above unless `--log-level` or MDE_LOG says otherwise.
"""

import argparse
import contextlib
import logging
import os
import sys
from typing import BinaryIO, Iterator, List, Optional

from . import __version__, _commands, demo, errors
from ._commands import UsageError
from .connector import CLOUDS, Connector
from .demo import DemoTenant
from .transport import Replay

# Exit statuses, as the Rust CLI's.
EXIT_OK = 0
EXIT_OTHER = 1
EXIT_INPUT = 2
EXIT_AUTH = 3
EXIT_RATE_LIMITED = 4




def write_array(out: BinaryIO, texts: List[str]) -> None:
    """A JSON array of the component's JSON texts, one element per line."""
    if not texts:
        out.write(b"[]\n")
        return
    out.write(b"[\n" + ",\n".join(texts).encode("utf-8") + b"\n]\n")


def write_lines(out: BinaryIO, texts: List[str]) -> None:
    """The component's JSON texts, one per line."""
    out.write("".join(text + "\n" for text in texts).encode("utf-8"))


#: The most characters of an error or log line, escapes included (as the Rust CLI's).
MAX_LINE_CHARS = 1000


def one_line(text: str, max_chars: int = MAX_LINE_CHARS) -> str:
    """Text from the network made safe for a terminal or a log, as one line
    of at most about `max_chars` characters, the rest counted: control
    characters (escape sequences and line breaks among them) and invisible
    ones are shown escaped, not interpreted."""
    shown = []
    width = 0
    for i, c in enumerate(text):
        escaped = c if c.isprintable() or c == " " else c.encode("unicode_escape").decode("ascii")
        if width + len(escaped) > max_chars:
            shown.append(f"… ({len(text) - i} more characters)")
            break
        width += len(escaped)
        shown.append(escaped)
    return "".join(shown)


#: The command's names of the log levels (MDE_LOG's, as the command component's).
LOG_LEVELS = {
    "debug": logging.DEBUG,
    "info": logging.INFO,
    "warn": logging.WARNING,
    "error": logging.ERROR,
}


class LogLine(logging.Formatter):
    """`mde-connector warn result-cap-reached: ...`, as the command component
    writes its records: one escaped, bounded line each."""

    def format(self, record: logging.LogRecord) -> str:
        level = next(
            (name for name, no in reversed(LOG_LEVELS.items()) if record.levelno >= no), "debug"
        )
        return f"mde-connector {level} {one_line(record.getMessage())}"


@contextlib.contextmanager
def log_to_stderr(level: int) -> Iterator[None]:
    """The component's log records (the `mde_connector` logger) on stderr
    from `level` up, while the command runs: the library itself adds no
    handler, so a program that imports it decides where they go."""
    logger = logging.getLogger("mde_connector")
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(LogLine())
    previous = logger.level
    logger.addHandler(handler)
    logger.setLevel(level)
    try:
        yield
    finally:
        logger.removeHandler(handler)
        logger.setLevel(previous)


def log_level(args, environ) -> int:
    """`--log-level`, else MDE_LOG, else warnings and above."""
    name = args.log_level or environ.get("MDE_LOG") or "warn"
    if name not in LOG_LEVELS:
        raise UsageError(
            f"MDE_LOG {one_line(name)!r} is not a level: expected debug, info, warn or error"
        )
    return LOG_LEVELS[name]


def exit_status(error: Exception) -> int:
    if isinstance(error, (errors.InvalidInput, errors.InvalidSettings)):
        return EXIT_INPUT
    if isinstance(error, (errors.Unauthorized, errors.Forbidden)):
        return EXIT_AUTH
    if isinstance(error, errors.RateLimited):
        return EXIT_RATE_LIMITED
    if isinstance(error, errors.ComponentTrap):
        return EXIT_INPUT  # the Rust CLI's status for a failure of the host's own
    if isinstance(error, errors.ConnectorError):
        return EXIT_OTHER
    return EXIT_INPUT


def _is_utf8(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def connector_from_env(args, environ) -> Connector:
    def var(name: str) -> Optional[str]:
        """The variable's value; empty is unset. `os.environ` gives bytes
        that are not UTF-8 as lone surrogates: set, but not usable."""
        value = environ.get(name) or None
        if value is not None and not _is_utf8(value):
            raise UsageError(f"{name} is not UTF-8 text: set it to the value itself")
        return value

    if environ.get("MDE_TOKEN") and any(
        environ.get(n)
        for n in ("MDE_TENANT_ID", "MDE_CLIENT_ID", "MDE_CLIENT_SECRET", "MDE_CLIENT_CERTIFICATE")
    ):
        # Whatever their bytes: one or the other, as the Rust CLI reads them.
        raise UsageError(
            "both MDE_TOKEN and client credentials are set: set MDE_TOKEN, or "
            "MDE_TENANT_ID, MDE_CLIENT_ID and MDE_CLIENT_SECRET, not both"
        )

    cloud = var("MDE_CLOUD") or "commercial"
    if cloud not in CLOUDS:
        raise UsageError(f"unknown cloud {cloud!r} in MDE_CLOUD: expected {', '.join(CLOUDS)}")
    custom = {}
    if cloud == "custom":
        for key, name in (
            ("api_base", "MDE_API_BASE"),
            ("login_host", "MDE_LOGIN_HOST"),
            ("scope", "MDE_SCOPE"),
        ):
            if var(name) is None:
                raise UsageError(f"MDE_CLOUD=custom needs {name}")
            custom[key] = var(name)
    credentials = {}
    token = var("MDE_TOKEN")
    names = ("MDE_TENANT_ID", "MDE_CLIENT_ID", "MDE_CLIENT_SECRET")
    given = [var(n) for n in names]
    if token is not None:
        credentials["token"] = token
    else:
        held = held_credentials(var, secret_set=given[2] is not None)
        if held:
            credentials = held
        elif all(v is not None for v in given):
            credentials = dict(zip(("tenant_id", "client_id", "client_secret"), given))
        elif any(v is not None for v in given):
            raise UsageError(
                "client credentials need all of MDE_TENANT_ID, MDE_CLIENT_ID and MDE_CLIENT_SECRET"
            )
        elif args.live:
            raise UsageError(
                "--live needs MDE_TOKEN, or MDE_TENANT_ID, MDE_CLIENT_ID and MDE_CLIENT_SECRET "
                "(or MDE_CLIENT_CERTIFICATE), or AZURE_FEDERATED_TOKEN_FILE"
            )
    transport = None
    if not args.live and args.replay is None:
        # The Rust CLI's rule: without --live, the demo tenant answers.
        transport = DemoTenant()
        if credentials:
            print(f"note: {credentials_without_live(credentials)}", file=sys.stderr)
        else:
            credentials = {
                "tenant_id": demo.TENANT_ID,
                "client_id": demo.CLIENT_ID,
                "client_secret": demo.CLIENT_SECRET,
            }
    replay = None
    if args.replay is not None:
        try:
            replay = Replay.from_file(args.replay)
        except ValueError as e:
            raise UsageError(str(e)) from None
    return Connector(
        cloud,
        **custom,
        **credentials,
        replay=replay,
        transport=transport,
        allow_loopback_http=args.allow_loopback_http,
    )


def held_credentials(var, secret_set: bool) -> dict:
    """A certificate (MDE_CLIENT_CERTIFICATE, with MDE_TENANT_ID and
    MDE_CLIENT_ID) or, when no MDE_ credential is set, a federated token file
    (AZURE_FEDERATED_TOKEN_FILE, AZURE_TENANT_ID, AZURE_CLIENT_ID, as a
    Kubernetes pod with workload identity has them): the host signs, the
    component never sees the key."""
    certificate = var("MDE_CLIENT_CERTIFICATE")
    if certificate is not None:
        if secret_set:
            raise UsageError("both MDE_CLIENT_SECRET and MDE_CLIENT_CERTIFICATE are set: set one")
        ids = [var("MDE_TENANT_ID"), var("MDE_CLIENT_ID")]
        if None in ids:
            raise UsageError("MDE_CLIENT_CERTIFICATE needs MDE_TENANT_ID and MDE_CLIENT_ID")
        return {"tenant_id": ids[0], "client_id": ids[1], "client_certificate": certificate}
    federated = var("AZURE_FEDERATED_TOKEN_FILE")
    if federated is None or secret_set or var("MDE_TENANT_ID") or var("MDE_CLIENT_ID"):
        return {}
    ids = [var("AZURE_TENANT_ID"), var("AZURE_CLIENT_ID")]
    if None in ids:
        raise UsageError("AZURE_FEDERATED_TOKEN_FILE needs AZURE_TENANT_ID and AZURE_CLIENT_ID")
    return {"tenant_id": ids[0], "client_id": ids[1], "federated_token_file": federated}


def credentials_without_live(credentials: dict) -> str:
    """What a command given credentials without `--live` says: as with the
    Rust CLI, credentials alone never go live."""
    given = "MDE_TOKEN is" if "token" in credentials else "client credentials are"
    return (
        f"{given} set but --live is not: the lookup goes to the demo tenant, which does not "
        "know them; add --live to look the domain up in Defender for Endpoint"
    )


def parse_args(argv: Optional[List[str]]):
    parser = argparse.ArgumentParser(
        prog="python -m mde_connector",
        description="Look up the Defender for Endpoint machines that communicated with DOMAIN.",
        epilog="Without --live or --replay the demo tenant answers (contoso.com, fabrikam.com, "
        "bücher.example, legacy.example). Credentials come from MDE_TOKEN, or "
        "MDE_TENANT_ID, MDE_CLIENT_ID and MDE_CLIENT_SECRET; the cloud from MDE_CLOUD ("
        + ", ".join(CLOUDS)
        + "; custom with "
        "MDE_API_BASE, MDE_LOGIN_HOST and MDE_SCOPE). Exit status: 0 ok, 1 other error, "
        "2 invalid input or settings, 3 unauthorized or forbidden, 4 rate limited.",
    )
    parser.add_argument(
        "words",
        nargs="+",
        metavar="[LOOKUP] INPUT",
        help="a DOMAIN (such as contoso.com); or file SHA1, user NAME, ip ADDR, machine ID, "
        "domain-stats DOMAIN, ip-stats ADDR; or check (sign in and say which lookups the "
        "token's roles permit)",
    )
    parser.add_argument(
        "--at",
        metavar="TIME",
        help="for ip: an RFC 3339 time within the last 30 days (default: now)",
    )
    parser.add_argument(
        "--look-back-hours",
        metavar="N",
        type=int,
        help="for domain-stats and ip-stats: the window, 1 to 720 hours (default: 720)",
    )
    parser.add_argument(
        "--format",
        choices=("json", "ndjson", "ocsf", "ecs"),
        default="json",
        help="machines as a JSON array or one per line, with the service's names; "
        "or OCSF / ECS events, one per line (default: json)",
    )
    source = parser.add_mutually_exclusive_group()
    source.add_argument(
        "--live",
        action="store_true",
        help="send the lookup to Defender for Endpoint with the MDE_* credentials "
        "(as the Rust CLI: without it, the demo tenant answers)",
    )
    source.add_argument(
        "--replay",
        metavar="FILE",
        help='answer the requests from FILE, in order: a JSON array of {"status": 200, '
        '"headers": {"name": "value"}, "body": "..."}',
    )
    parser.add_argument(
        "--allow-loopback-http",
        action="store_true",
        help="plain http:// to loopback addresses, for a test server as a custom cloud",
    )
    parser.add_argument(
        "--log-level",
        choices=LOG_LEVELS,
        help="the least severe of the component's log records printed on stderr "
        "(default: MDE_LOG, else warn)",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    return parser.parse_args(argv)


def main(argv: Optional[List[str]] = None, environ=None) -> int:
    args = parse_args(argv)
    environ = os.environ if environ is None else environ
    try:
        with log_to_stderr(log_level(args, environ)):
            return run(args, environ)
    except (UsageError, errors.ConnectorError, ValueError) as e:
        print(f"error: {one_line(str(e))}", file=sys.stderr)
        return exit_status(e)


def run(args, environ) -> int:
    out = sys.stdout.buffer
    lookup, value = _commands.parse_words(args.words, args.at, args.look_back_hours)
    connector = connector_from_env(args, environ)
    if lookup != "domain":
        status = _commands.run(connector, lookup, value, args, out, write_array, write_lines)
        out.flush()
        return status
    found = connector.lookup(value)
    # One API call, whatever the format: events are mapped from `found`.
    if args.format == "json":
        write_array(out, found.machines_json)
    elif args.format == "ndjson":
        write_lines(out, found.machines_json)
    elif args.format == "ocsf":
        write_lines(out, connector.ocsf_json(found))
    else:
        write_lines(out, connector.ecs_json(found))
    out.flush()
    return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
