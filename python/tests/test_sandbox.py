"""The sandbox: a guest that runs away or hoards memory is stopped, and a
call that traps leaves the next call a fresh instance."""

import os
import signal
import time

import pytest

from mde_connector import ComponentTrap, Connector, _runtime
from mde_connector.policy import Budgets

from helpers import Scripted, json_answer

NONE_FOUND = {"value": []}


def test_a_guest_that_never_returns_is_stopped_and_the_next_call_works(
    misbehaving_guest, monkeypatch
):
    monkeypatch.setattr(_runtime, "CPU_DEADLINE", 0.3)
    connector = Connector(token="t0ken", replay=Scripted(), component=misbehaving_guest)
    started = time.monotonic()
    with pytest.raises(ComponentTrap, match="interrupt"):
        connector.lookup("spin.example")
    # Stopped at its deadline, to the epoch's tick, not at once nor at the default.
    assert 0.3 - 2 * _runtime.EPOCH_TICK <= time.monotonic() - started < 5
    assert connector.lookup("calm.example").machines == []


@pytest.mark.skipif(not hasattr(os, "fork"), reason="no fork here")
def test_a_forked_child_keeps_the_deadline(misbehaving_guest, monkeypatch):
    """Pre-forking servers make the connector, then fork: the child's guests
    are stopped at their deadline too."""
    monkeypatch.setattr(_runtime, "CPU_DEADLINE", 0.3)
    connector = Connector(token="t0ken", replay=Scripted(), component=misbehaving_guest)
    assert connector.lookup("calm.example").machines == []  # the engine is made before the fork
    pid = os.fork()
    if pid == 0:
        code = 1
        try:
            connector.lookup("spin.example")
        except ComponentTrap:
            code = 0
        finally:
            os._exit(code)
    waited_until = time.monotonic() + 30
    while True:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            break
        if time.monotonic() > waited_until:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
            pytest.fail("the forked child's spinning guest was never stopped")
        time.sleep(0.05)
    assert os.waitstatus_to_exitcode(status) == 0


class Slow:
    """A network that takes its time: longer than the guest's whole deadline."""

    def __init__(self, seconds: float, *answers):
        self.seconds = seconds
        self.script = Scripted(*answers)

    def send(self, request):
        time.sleep(self.seconds)
        return self.script.send(request)


def test_time_waiting_on_the_network_does_not_count_against_the_deadline(monkeypatch):
    monkeypatch.setattr(_runtime, "CPU_DEADLINE", 0.1)
    slow = Slow(0.3, json_answer(200, NONE_FOUND), json_answer(200, NONE_FOUND))
    connector = Connector(token="t0ken", replay=slow)
    assert connector.lookup("contoso.com").machines == []
    assert connector.lookup("fabrikam.com").machines == []


def test_a_guest_that_hoards_memory_is_stopped_and_the_next_call_works(misbehaving_guest):
    connector = Connector(token="t0ken", replay=Scripted(), component=misbehaving_guest)
    with pytest.raises(ComponentTrap, match="unreachable"):  # its allocator gave up
        connector.lookup("grow.example")
    assert connector.lookup("calm.example").machines == []


def test_the_memory_limit_binds(monkeypatch):
    """Under a limit smaller than the component's own start, nothing runs:
    the store enforces the limit, whatever the guest asks for."""
    answers = [json_answer(200, NONE_FOUND)]
    monkeypatch.setattr(_runtime, "MEMORY_LIMIT", 64 * 1024)
    with pytest.raises(ComponentTrap):
        Connector(token="t0ken", replay=Scripted(*answers)).lookup("contoso.com")
    monkeypatch.undo()
    assert Connector(token="t0ken", replay=Scripted(*answers)).lookup("contoso.com").machines == []


class Broken:
    """A transport with a bug: it raises what no transport should."""

    def __init__(self):
        self.broken = True
        self.script = Scripted(
            json_answer(200, {"access_token": "first-token"}),
            json_answer(200, {"access_token": "second-token"}),
            json_answer(200, NONE_FOUND),
        )

    def send(self, request):
        if self.broken and request.method == "get":
            raise RuntimeError("a bug in the transport")
        return self.script.send(request)


def test_a_trap_in_an_import_recreates_the_instance_with_a_fresh_token():
    transport = Broken()
    connector = Connector(
        tenant_id="contoso.onmicrosoft.com",
        client_id="client",
        client_secret="secret-value",
        transport=transport,
        budgets=Budgets(),
    )
    with pytest.raises(ComponentTrap, match="RuntimeError: a bug in the transport"):
        connector.lookup("contoso.com")
    transport.broken = False
    assert connector.lookup("contoso.com").machines == []
    # The new instance knew no token: it fetched one before its lookup.
    methods = [(r.method, r.header("authorization")) for r in transport.script.requests]
    assert methods == [("post", None), ("post", None), ("get", "Bearer second-token")]
