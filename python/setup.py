"""Refuses to build a package without the component inside it.

The component is a build artefact of the Rust workspace: `python build_component.py`
copies it here (see README.md). Everything else is in pyproject.toml.
"""

from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

COMPONENT = Path(__file__).parent / "mde_connector" / "mde_connector.component.wasm"


class BuildWithComponent(build_py):
    def run(self):
        if not COMPONENT.is_file():
            raise SystemExit(
                f"{COMPONENT} is missing: build the component with cargo, then run "
                "`python build_component.py` (see python/README.md)"
            )
        super().run()


setup(cmdclass={"build_py": BuildWithComponent})
