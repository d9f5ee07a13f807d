"""The documentation site builds in strict mode (a broken link, an anchor that does not exist or a
page missing from the nav in mkdocs.yml fails it) and loads nothing from the network."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
EXTERNAL_ASSET = re.compile(r"""<(?:script|link|img)\b[^>]*\b(?:src|href)=["']?(?:https?:)?//""")


def test_site_builds_strictly_and_offline(tmp_path):
    pytest.importorskip("mkdocs", reason="mkdocs is not installed (pip install -e '.[test]')")
    site = tmp_path / "site"
    result = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(site),
         "--config-file", str(ROOT / "mkdocs.yml")],
        capture_output=True, text=True, timeout=120, cwd=ROOT,
    )
    assert result.returncode == 0, (
        "mkdocs build --strict failed (a new page under docs/ must be added to the nav in "
        "mkdocs.yml):\n" + result.stdout + result.stderr
    )
    pages = sorted(p.stem for p in (ROOT / "docs").glob("*.md"))
    built = [site / ("index.html" if p == "index" else f"{p}/index.html") for p in pages]
    assert [p for p in built if not p.exists()] == []
    for page in site.rglob("*.html"):
        text = page.read_text(encoding="utf-8")
        assert not EXTERNAL_ASSET.search(text), f"{page} loads something from the network"
