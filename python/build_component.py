"""Copies the built component into the package, ready for `pip install ./python`.

    cargo build -p mde-connector-host      # builds target/component/mde_connector.component.wasm
    python python/build_component.py       # copies it into python/mde_connector/

With a path, copies that file instead: `python build_component.py PATH`. The
default source honours CARGO_TARGET_DIR. `pip install ./python` runs the same
steps itself when the component is missing (setup.py: `ensure_component`).
"""

import os
import shutil
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
NAME = "mde_connector.component.wasm"
DESTINATION = HERE / "mde_connector" / NAME
#: The crate whose build script builds and encodes the component.
CRATE = "mde-connector-host"


def default_source() -> Path:
    target = Path(os.environ.get("CARGO_TARGET_DIR") or REPO / "target")
    return target / "component" / NAME


def copy(source: Path) -> str:
    """Copies `source` into the package; the reason it cannot, or ''."""
    if not source.is_file():
        return f"{source} does not exist; build it first (cargo build -p {CRATE})"
    if source.read_bytes()[:4] != b"\0asm":
        return f"{source} is not a WebAssembly file"
    shutil.copyfile(source, DESTINATION)
    print(f"copied {source} to {DESTINATION} ({DESTINATION.stat().st_size} bytes)")
    return ""


def ensure_component() -> None:
    """The component in the package: already there, or built with cargo from
    the repository around this directory and copied in. SystemExit, saying
    what to do, when neither can be."""
    if DESTINATION.is_file():
        return
    cargo = shutil.which("cargo")
    if cargo is None or not (REPO / "Cargo.toml").is_file():
        raise SystemExit(
            f"{DESTINATION} is missing and cannot be built here (that needs cargo and the "
            "mde-connector repository around python/): build the component with "
            f"`cargo build -p {CRATE}`, then run `python python/build_component.py`"
        )
    print(f"{NAME} is missing: building it with `cargo build -p {CRATE}`", file=sys.stderr)
    # The build's progress goes to stderr, as pip shows a backend's.
    done = subprocess.run([cargo, "build", "-p", CRATE], cwd=REPO, stdout=sys.stderr)
    if done.returncode != 0:
        raise SystemExit(f"cargo build -p {CRATE} failed (exit {done.returncode}): see above")
    problem = copy(default_source())
    if problem:
        raise SystemExit(f"error: {problem}")


def main(argv: list) -> int:
    source = Path(argv[1]) if len(argv) > 1 else default_source()
    problem = copy(source)
    if problem:
        print(f"error: {problem}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
