"""The code stays ruff-clean: the lint runs as part of the test suite."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def test_ruff_is_clean():
    ruff = shutil.which("ruff")
    if ruff is None:
        pytest.skip("ruff not installed (pip install '.[test]')")
    paths = [p for p in ("chatmini", "plugins", "tests", "benchmarks") if (ROOT / p).is_dir()]
    result = subprocess.run([ruff, "check", *paths], cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_package_is_typed():
    import chatmini

    assert (Path(chatmini.__file__).parent / "py.typed").exists()
    assert sys.modules["chatmini"].__all__
