"""What a 500-machine lookup costs through the Python host, beside the same
answer parsed by plain Python, measured in one run:

    python python/bench.py [--runs N]

The answer is the demo tenant's (500 machines with every field filled, the
Rust fake tenant's `full_machine`s, from host/fixtures), handed back by a stub network
(host-managed authentication, no policy, a warm instance), so only the host,
the component and the conversions between them are timed. "Plain Python" is
what an integration that skips the component does: `json.loads` and a rename
of about twenty fields per machine into XSOAR-style context keys.

Prints medians of repeated, interleaved runs, and the ratio of the first two.
"""

import argparse
import importlib.metadata
import json
import platform
import statistics
import sys
import time
from pathlib import Path

from mde_connector import Connector, __version__
from mde_connector.connector import _machines
from mde_connector.demo import fabrikam_machines  # the Rust fake tenant's
from mde_connector.transport import Response

MACHINES = 500


# The Python peer is the one the Rust bench runs (host-test/benches/xsoar_peer.py):
# one definition of what an XSOAR-style integration does with the answer.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "host-test" / "benches"))
from xsoar_peer import xsoar_mapping as plain_python  # noqa: E402


class SameAnswer:
    """A stub network that hands the same answer back to every request."""

    def __init__(self, answer: Response):
        self.answer = answer

    def send(self, request):
        return self.answer


def medians_ms(figures, runs: int) -> list:
    """The median time of each (name, action), in milliseconds. The runs are
    interleaved, one of each figure per round, so that the load of a shared
    machine weighs on every figure alike."""
    times = {name: [] for name, _ in figures}
    for _ in range(runs):
        for name, action in figures:
            started = time.perf_counter()
            action()
            times[name].append((time.perf_counter() - started) * 1000)
    return [(name, statistics.median(times[name])) for name, _ in figures]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--runs", type=int, default=15, help="timed runs of each figure (default 15)"
    )
    args = parser.parse_args()

    body = json.dumps({"value": fabrikam_machines()[:MACHINES]}).encode()
    answer = Response(200, [("content-type", "application/json")], body)
    connector = Connector(replay=SameAnswer(answer))
    found = connector.lookup("fabrikam.com")  # warm: compiled, instantiated
    assert len(found.machines) == MACHINES and found.cap_reached
    assert len(plain_python(body)) == MACHINES
    sandbox = connector._sandbox
    # The same number of bytes with no machine in them: what handing the
    # answer to the guest costs, without the result's way back.
    padding = b" " * (len(body) - len(b'{"value": []}'))
    same_size = Connector(
        replay=SameAnswer(Response(200, answer.headers, b'{"value": []}' + padding))
    )
    assert same_size.lookup("fabrikam.com").machines == []
    # The common case: a handful of machines.
    few_body = json.dumps({"value": fabrikam_machines()[:3]}).encode()
    few = Connector(replay=SameAnswer(Response(200, answer.headers, few_body)))
    assert len(few.lookup("fabrikam.com").machines) == 3

    figures = [
        (
            "(1) Connector.lookup, 500 machines, Python host",
            lambda: connector.lookup("fabrikam.com"),
        ),
        ("(2) the same answer, plain Python (json.loads + rename)", lambda: plain_python(body)),
        (
            "of (1): the `lookup-texts` export (answer in, texts out)",
            lambda: sandbox.call("lookup-texts", "fabrikam.com"),
        ),
        (
            "of which: an answer of the same size with no machine",
            lambda: same_size._sandbox.call("lookup-texts", "fabrikam.com"),
        ),
        (
            "of (1): json.loads of the component's texts (as one array)",
            lambda: _machines(found.machines_json),
        ),
        (
            "the `lookup` export: the same answer as typed records",
            lambda: sandbox.call("lookup", "fabrikam.com"),
        ),
        ("OCSF events of the lookup (Connector.ocsf_json)", lambda: connector.ocsf_json(found, 0)),
        ("Connector.lookup, 3 machines", lambda: few.lookup("fabrikam.com")),
        ("the same 3, plain Python", lambda: plain_python(few_body)),
        (
            "a new Connector and its first lookup, 3 machines",
            lambda: Connector(replay=SameAnswer(few.backend.answer)).lookup("fabrikam.com"),
        ),
    ]
    rows = medians_ms(figures, args.runs)
    print(
        f"mde_connector {__version__}, wasmtime-py {importlib.metadata.version('wasmtime')}, "
        f"Python {platform.python_version()} on {platform.machine()}; answer {len(body) / 1e6:.2f} MB, "
        f"median of {args.runs} runs"
    )
    print()
    print("| figure | median |")
    print("|---|---|")
    for name, ms in rows:
        print(f"| {name} | {ms * 1000:.0f} µs |" if ms < 1 else f"| {name} | {ms:.1f} ms |")
    print(f"| (1)/(2) | {rows[0][1] / rows[1][1]:.2f} |")


if __name__ == "__main__":
    main()
