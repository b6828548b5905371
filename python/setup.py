"""The build steps pyproject.toml cannot say: files from the repository
around python/ copied into the package, and the component built when missing.

- `../LICENSE`, `../policy/policy.json` and the demo tenant's machines
  (`../host/fixtures/contoso-machines.json`, `fabrikam-machines.json`) are copied in on every run, so an
  sdist carries them and a wheel built from it too (outside a checkout the
  sdist's copies are used as they are).
- `build_py` (every wheel and `pip install ./python`) and `sdist` need the
  component: when it is missing it is built with cargo (build_component.py).
"""

import importlib.util
import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py
from setuptools.command.sdist import sdist

HERE = Path(__file__).resolve().parent
FROM_REPOSITORY = {
    HERE.parent / "LICENSE": HERE / "LICENSE",
    HERE.parent / "policy" / "policy.json": HERE / "mde_connector" / "policy.json",
    # The demo tenant's three machines, the Rust CLI's (mde_connector/demo.py).
    HERE.parent / "host" / "fixtures" / "contoso-machines.json": HERE
    / "mde_connector"
    / "demo-contoso-machines.json",
    # Its 500 machines of fabrikam.com, the Rust fake tenant's `full_machine`s.
    HERE.parent / "host" / "fixtures" / "fabrikam-machines.json": HERE
    / "mde_connector"
    / "demo-fabrikam-machines.json",
}
for source, copy in FROM_REPOSITORY.items():
    if source.is_file():
        shutil.copyfile(source, copy)
    elif not copy.is_file():
        raise SystemExit(f"{copy.name} is missing: build from the repository, where {source} is")


def _build_component():
    spec = importlib.util.spec_from_file_location("build_component", HERE / "build_component.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


class BuildWithComponent(build_py):
    def run(self):
        _build_component().ensure_component()
        super().run()


class SdistWithComponent(sdist):
    """An sdist with the component inside, so a wheel builds from it anywhere."""

    def run(self):
        _build_component().ensure_component()
        super().run()


setup(cmdclass={"build_py": BuildWithComponent, "sdist": SdistWithComponent})
