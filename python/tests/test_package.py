"""The package ships the component, the policy file and the licence: the
build copies them in (building the component with cargo when it is missing),
a wheel and an sdist carry them, and a build that cannot stops and says why."""

import os
import shutil
import subprocess
import sys
import tarfile
import zipfile

import pytest

from helpers import PYTHON_DIR, repository_file

LICENSE = repository_file("LICENSE", "LICENSE")
POLICY = repository_file("policy/policy.json", "mde_connector/policy.json")
DEMO = repository_file(
    "host/fixtures/contoso-machines.json", "mde_connector/demo-contoso-machines.json"
)
FABRIKAM = repository_file(
    "host/fixtures/fabrikam-machines.json", "mde_connector/demo-fabrikam-machines.json"
)

COMPONENT = "mde_connector.component.wasm"


def load_build_component():
    import importlib.util

    spec = importlib.util.spec_from_file_location(
        "build_component", PYTHON_DIR / "build_component.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_build_component_copies_a_component_and_refuses_anything_else(tmp_path, monkeypatch):
    build_component = load_build_component()
    destination = tmp_path / "package" / COMPONENT
    destination.parent.mkdir()
    monkeypatch.setattr(build_component, "DESTINATION", destination)
    source = tmp_path / "built.wasm"
    source.write_bytes(b"\0asm\x0d\0\x01\0rest")
    assert build_component.main(["build_component.py", str(source)]) == 0
    assert destination.read_bytes() == source.read_bytes()
    not_wasm = tmp_path / "notes.txt"
    not_wasm.write_text("hello")
    assert build_component.main(["build_component.py", str(not_wasm)]) == 1
    assert build_component.main(["build_component.py", str(tmp_path / "missing.wasm")]) == 1
    assert destination.read_bytes() == source.read_bytes()


@pytest.fixture
def package_copy(tmp_path):
    """python/ in a copy of the repository that holds only what setup.py
    reads from around it (no Cargo.toml: nothing to build the component from)."""
    repo = tmp_path / "repo"
    copy = repo / "python"
    copy.mkdir(parents=True)
    for name in ("pyproject.toml", "setup.py", "README.md", "MANIFEST.in", "build_component.py"):
        shutil.copy(PYTHON_DIR / name, copy / name)
    shutil.copytree(
        PYTHON_DIR / "tests", copy / "tests", ignore=shutil.ignore_patterns("__pycache__")
    )
    shutil.copytree(
        PYTHON_DIR / "mde_connector",
        copy / "mde_connector",
        ignore=shutil.ignore_patterns(
            "__pycache__",
            COMPONENT,
            "policy.json",
            "demo-contoso-machines.json",
            "demo-fabrikam-machines.json",
        ),
    )
    shutil.copy(LICENSE, repo / "LICENSE")
    (repo / "policy").mkdir()
    shutil.copy(POLICY, repo / "policy" / "policy.json")
    (repo / "host" / "fixtures").mkdir(parents=True)
    shutil.copy(DEMO, repo / "host" / "fixtures" / "contoso-machines.json")
    shutil.copy(FABRIKAM, repo / "host" / "fixtures" / "fabrikam-machines.json")
    return copy


def build_wheel(source, out, env=None):
    try:
        from setuptools.command import bdist_wheel  # noqa: F401
    except ImportError:
        pytest.skip("this environment's setuptools cannot build wheels (needs setuptools >= 70.1)")
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "--no-index",
            "-w",
            str(out),
            str(source),
        ],
        capture_output=True,
        text=True,
        timeout=300,
        env=env,
    )


def test_a_wheel_carries_the_component_and_depends_on_wasmtime_50(package_copy, tmp_path):
    wasm = b"\0asm" + b"component bytes"
    (package_copy / "mde_connector" / COMPONENT).write_bytes(wasm)
    built = build_wheel(package_copy, tmp_path / "wheels")
    assert built.returncode == 0, built.stderr
    (wheel,) = (tmp_path / "wheels").glob("*.whl")
    assert wheel.name.endswith("-py3-none-any.whl")
    with zipfile.ZipFile(wheel) as archive:
        assert archive.read(f"mde_connector/{COMPONENT}") == wasm
        policy = (package_copy.parent / "policy" / "policy.json").read_bytes()
        assert archive.read("mde_connector/policy.json") == policy
        assert archive.read("mde_connector/demo-contoso-machines.json") == DEMO.read_bytes()
        fabrikam = archive.read("mde_connector/demo-fabrikam-machines.json")
        assert fabrikam == FABRIKAM.read_bytes()
        licence = next(n for n in archive.namelist() if n.endswith("/licenses/LICENSE"))
        assert archive.read(licence) == LICENSE.read_bytes()
        metadata = next(n for n in archive.namelist() if n.endswith("METADATA"))
        lines = archive.read(metadata).decode().splitlines()
    requires = [line for line in lines if line.startswith("Requires-Dist:")]
    # cryptography only with the certificate extra (and for the tests).
    assert requires == [
        "Requires-Dist: wasmtime<51,>=50",
        'Requires-Dist: pytest>=7; extra == "test"',
        'Requires-Dist: cryptography>=41; extra == "test"',
        'Requires-Dist: cryptography>=41; extra == "certificate"',
    ]
    assert "License-Expression: Apache-2.0" in lines


def test_a_build_without_the_component_stops_and_says_how_to_get_it(package_copy, tmp_path):
    built = build_wheel(package_copy, tmp_path / "wheels")
    assert built.returncode != 0
    assert "build_component.py" in built.stdout + built.stderr
    assert not list((tmp_path / "wheels").glob("*.whl"))


def test_a_build_without_the_component_builds_it_with_cargo(package_copy, tmp_path):
    """`pip install ./python` in a checkout: cargo (here a stand-in that
    records its arguments) builds the component into CARGO_TARGET_DIR, and
    the build copies it in."""
    (package_copy.parent / "Cargo.toml").write_text("[workspace]\n")
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    cargo = bin_dir / "cargo"
    cargo.write_text(
        "#!/bin/sh\n"
        'echo "$PWD $*" >> "$CARGO_TARGET_DIR/cargo-calls"\n'
        'mkdir -p "$CARGO_TARGET_DIR/component"\n'
        f'printf "\\0asm built by cargo" > "$CARGO_TARGET_DIR/component/{COMPONENT}"\n'
    )
    cargo.chmod(0o755)
    target = tmp_path / "target"
    target.mkdir()
    env = {
        **os.environ,
        "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}",
        "CARGO_TARGET_DIR": str(target),
    }
    built = build_wheel(package_copy, tmp_path / "wheels", env)
    assert built.returncode == 0, built.stderr
    assert (target / "cargo-calls").read_text() == (
        f"{package_copy.parent} build -p mde-connector-host\n"
    )
    (wheel,) = (tmp_path / "wheels").glob("*.whl")
    with zipfile.ZipFile(wheel) as archive:
        assert archive.read(f"mde_connector/{COMPONENT}") == b"\0asm built by cargo"


def test_the_sdist_carries_the_tests_their_helpers_and_what_the_build_copies_in(
    package_copy, tmp_path
):
    (package_copy / "mde_connector" / COMPONENT).write_bytes(b"\0asm" + b"component bytes")
    done = subprocess.run(
        [sys.executable, "setup.py", "-q", "sdist", "-d", str(tmp_path / "dist")],
        cwd=package_copy,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    (sdist,) = (tmp_path / "dist").glob("*.tar.gz")
    with tarfile.open(sdist) as archive:
        names = {name.split("/", 1)[1] for name in archive.getnames() if "/" in name}
    expected = {
        "LICENSE",
        "build_component.py",
        "mde_connector/policy.json",
        "mde_connector/demo-contoso-machines.json",
        "mde_connector/demo-fabrikam-machines.json",
        f"mde_connector/{COMPONENT}",
        "tests/conftest.py",
        "tests/helpers.py",
        "tests/fake_tenant.py",
        "tests/replays/machines.json",
    }
    assert expected <= names, sorted(expected - names)
