"""Fixtures: a clock that never sleeps, the loopback fake tenant, the Rust
CLI to compare with, the misbehaving guest."""

import os
from pathlib import Path

import pytest

from mde_connector._runtime import BUNDLED_COMPONENT

from fake_tenant import FakeTenant
from helpers import TARGET, FakeClock, cargo_build


def pytest_sessionstart(session):
    if not BUNDLED_COMPONENT.is_file():
        pytest.exit(
            f"{BUNDLED_COMPONENT} is missing: `cargo build -p mde-connector-host`, then "
            "`python python/build_component.py`, then reinstall the package",
            returncode=4,
        )


@pytest.fixture
def clock():
    return FakeClock()


@pytest.fixture
def tenant():
    """The fake Defender tenant on 127.0.0.1, stopped after the test."""
    server = FakeTenant()
    server.start()
    yield server
    server.stop()


@pytest.fixture
def other_server():
    """A second loopback server, off every allow-list: it counts connections."""
    server = FakeTenant()
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def rust_cli():
    """The Rust CLI: $MDE_CONNECTOR_CLI, else the debug build of
    `mde-connector`, built if missing."""
    if os.environ.get("MDE_CONNECTOR_CLI"):
        return Path(os.environ["MDE_CONNECTOR_CLI"])
    path = TARGET / "debug" / "mde-connector"
    if not path.is_file():
        cargo_build("mde-connector-cli")
    return path


@pytest.fixture(scope="session")
def misbehaving_guest():
    """A guest that spins on `spin.example` and allocates without end on
    `grow.example`, built by the test host's build script."""
    path = TARGET / "component" / "misbehaving_guest.component.wasm"
    if not path.is_file():
        cargo_build("host-test")
    return path


@pytest.fixture
def clean_env():
    """The environment without credentials, cloud settings or proxies."""
    drop = {"MDE_", "AZURE_", "HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "NO_PROXY"}
    return {
        k: v
        for k, v in os.environ.items()
        if not any(k.upper().startswith(prefix) for prefix in drop)
    }
