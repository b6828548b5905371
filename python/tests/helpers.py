"""What the tests share: the repository's paths, a clock that never sleeps,
scripted transports, and ways to run the two CLIs."""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from mde_connector.transport import Response, TransportFailure

PYTHON_DIR = Path(__file__).resolve().parent.parent
REPO = PYTHON_DIR.parent
REPLAYS = Path(__file__).resolve().parent / "replays"
TARGET = Path(os.environ.get("CARGO_TARGET_DIR") or REPO / "target")


def repository_file(path, packaged):
    """The repository's file at `path` (relative to its root); in an sdist,
    which has no repository around it, the copy the build put at `packaged`
    (relative to python/)."""
    in_repository = REPO / path
    return in_repository if in_repository.is_file() else PYTHON_DIR / packaged


class FakeClock:
    """Time that moves only when something sleeps on it."""

    def __init__(self):
        self.time = 1_000.0
        self.sleeps = []

    def now(self):
        return self.time

    def sleep(self, seconds):
        self.sleeps.append(seconds)
        self.time += seconds


class Scripted:
    """A transport that answers from a script, in order, and records each
    request. An item is a Response, a TransportFailure to raise, or any other
    exception to raise."""

    def __init__(self, *answers):
        self.answers = list(answers)
        self.requests = []

    def send(self, request):
        self.requests.append(request)
        if not self.answers:
            raise TransportFailure("other", "the script has no answer left")
        answer = self.answers.pop(0)
        if isinstance(answer, BaseException):
            raise answer
        return answer


def json_answer(status, body, **headers):
    """A JSON answer; keyword headers use `_` for `-` (retry_after=...)."""
    text = body if isinstance(body, str) else json.dumps(body)
    pairs = [("content-type", "application/json")]
    pairs += [(name.replace("_", "-"), str(value)) for name, value in headers.items()]
    return Response(status, pairs, text.encode())


def cargo_build(package):
    """Builds the workspace's `package`."""
    cargo = shutil.which("cargo")
    if cargo is None:
        pytest.skip("cargo is not installed: the Rust CLI and guests cannot be built here")
    done = subprocess.run([cargo, "build", "-p", package], cwd=REPO, capture_output=True, text=True)
    if done.returncode != 0:
        pytest.fail(f"cargo build -p {package} failed:\n{done.stderr[-3000:]}")


def run_python_cli(args, env):
    return subprocess.run(
        [sys.executable, "-m", "mde_connector", *args],
        env=env,
        capture_output=True,
        timeout=120,
    )
