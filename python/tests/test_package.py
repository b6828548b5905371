"""The package ships the component: build_component.py copies it in, a
wheel carries it, and a build without it stops and says why."""

import shutil
import subprocess
import sys
import zipfile

import pytest

from helpers import PYTHON_DIR

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
    copy = tmp_path / "python"
    copy.mkdir()
    for name in ("pyproject.toml", "setup.py", "README.md"):
        shutil.copy(PYTHON_DIR / name, copy / name)
    shutil.copytree(
        PYTHON_DIR / "mde_connector",
        copy / "mde_connector",
        ignore=shutil.ignore_patterns("__pycache__", COMPONENT),
    )
    return copy


def build_wheel(source, out):
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
    )


def test_a_wheel_carries_the_component_and_depends_on_wasmtime_50(package_copy, tmp_path):
    wasm = b"\0asm" + b"component bytes"
    (package_copy / "mde_connector" / COMPONENT).write_bytes(wasm)
    built = build_wheel(package_copy, tmp_path / "wheels")
    assert built.returncode == 0, built.stderr
    (wheel,) = (tmp_path / "wheels").glob("*.whl")
    with zipfile.ZipFile(wheel) as archive:
        assert archive.read(f"mde_connector/{COMPONENT}") == wasm
        metadata = next(n for n in archive.namelist() if n.endswith("METADATA"))
        requires = [
            line
            for line in archive.read(metadata).decode().splitlines()
            if line.startswith("Requires-Dist:")
        ]
    assert requires == ["Requires-Dist: wasmtime<51,>=50"]


def test_a_build_without_the_component_stops_and_says_how_to_get_it(package_copy, tmp_path):
    built = build_wheel(package_copy, tmp_path / "wheels")
    assert built.returncode != 0
    assert "build_component.py" in built.stdout + built.stderr
    assert not list((tmp_path / "wheels").glob("*.whl"))
