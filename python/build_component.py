"""Copies the built component into the package, ready for `pip install ./python`.

    cargo build -p mde-connector-host      # builds target/component/mde_connector.component.wasm
    python python/build_component.py    # copies it into python/mde_connector/

With a path, copies that file instead: `python build_component.py PATH`. The
default source honours CARGO_TARGET_DIR.
"""

import os
import shutil
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
NAME = "mde_connector.component.wasm"
DESTINATION = HERE / "mde_connector" / NAME


def default_source() -> Path:
    target = Path(os.environ.get("CARGO_TARGET_DIR") or HERE.parent / "target")
    return target / "component" / NAME


def main(argv: list) -> int:
    source = Path(argv[1]) if len(argv) > 1 else default_source()
    if not source.is_file():
        print(
            f"error: {source} does not exist; build it first (cargo build -p mde-connector-host)",
            file=sys.stderr,
        )
        return 1
    if source.read_bytes()[:4] != b"\0asm":
        print(f"error: {source} is not a WebAssembly file", file=sys.stderr)
        return 1
    shutil.copyfile(source, DESTINATION)
    print(f"copied {source} to {DESTINATION} ({DESTINATION.stat().st_size} bytes)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
