"""The architecture is enforced, not only described: import-linter's contracts (pyproject.toml)
and a strict mypy run, both over the installed layout, where plugins/ is chatmini.plugins."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the package as pip installs it: chatmini/ with plugins/ inside it."""
    where = tmp_path_factory.mktemp("layout")
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    shutil.copytree(ROOT / "chatmini", where / "chatmini", ignore=ignore)
    shutil.copytree(ROOT / "plugins", where / "chatmini" / "plugins", ignore=ignore)
    shutil.copy(ROOT / "pyproject.toml", where / "pyproject.toml")
    return where


def run(command: list[str], where: Path) -> subprocess.CompletedProcess[str]:
    env = {"PATH": str(Path(sys.executable).parent), "PYTHONPATH": str(where)}
    return subprocess.run(command, cwd=where, env=env, capture_output=True, text=True,
                          timeout=300)


def lint_imports(where: Path) -> subprocess.CompletedProcess[str]:
    return run([str(Path(sys.executable).parent / "lint-imports"), "--no-cache"], where)


def test_import_contracts_are_kept(installed):
    done = lint_imports(installed)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "8 kept, 0 broken" in done.stdout


@pytest.mark.parametrize(("module", "line", "contract"), [
    ("errors.py", "from . import client", "Errors and types import nothing"),
    ("sse.py", "from . import streaming", "Parser, accumulator and shape checks"),
    ("shapes.py", "from .streaming import core", "Parser, accumulator and shape checks"),
    ("plugins/statsd.py", "import chatmini.pipeline", "Plugins import only"),
    ("batching/run.py", "import chatmini.cli", "Nothing imports the command line"),
    ("shortcuts.py", "import chatmini.testing", "Only the demo imports the testing kit"),
    ("testing/handler.py", "from .server import Server", "No import cycles"),
    ("structured/formats.py", "import chatmini.client", "Structured outputs import only"),
    ("tools/loop.py", "import chatmini.resources", "The tool loop drives"),
])
def test_a_wrong_arrow_breaks_a_contract(installed, tmp_path, module, line, contract):
    broken = tmp_path / "broken"
    shutil.copytree(installed, broken)
    with open(broken / "chatmini" / module, "a", encoding="utf-8") as source:
        source.write(f"\n{line}  # a wrong arrow\n")
    done = lint_imports(broken)
    assert done.returncode != 0 and f"{contract}" in done.stdout
    assert "BROKEN" in next(x for x in done.stdout.splitlines() if x.startswith(contract))


def test_the_package_type_checks_strictly(installed):
    done = run([sys.executable, "-m", "mypy", "--cache-dir", str(installed / ".mypy_cache"), "chatmini"], installed)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Success: no issues found" in done.stdout


def test_setup_cfg_installs_every_package():
    """setup.cfg lists packages one by one: a new package left out would be missing from
    ``pip install .`` (the editable install used by the tests would not notice)."""
    import configparser

    config = configparser.ConfigParser()
    config.read(ROOT / "setup.cfg")
    listed = set(config["options"]["packages"].split())
    on_disk = {
        ".".join(("chatmini", *p.parent.relative_to(ROOT / "chatmini").parts))
        for p in (ROOT / "chatmini").rglob("__init__.py")
    } | {
        ".".join(("chatmini", "plugins", *p.parent.relative_to(ROOT / "plugins").parts))
        for p in (ROOT / "plugins").rglob("__init__.py")
    }
    assert listed == on_disk
