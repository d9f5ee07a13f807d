"""e. Installed footprint: what ``pip install X`` brings into a fresh virtual environment.

Each package gets its own ``python -m venv``: openai and requests from the package index,
chatmini from a clean copy of this repository (its sources, setup.cfg and pyproject.toml, so a
stale ``build/`` directory cannot leak into the wheel). The venvs are cached under the system's
temporary directory and reused; chatmini is reinstalled into its venv on every run, and a new
venv is made when its setup.cfg or pyproject.toml change. Distributions that ``venv`` itself
seeds (pip, setuptools, wheel) are not counted.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

from harness import Panel, Table, Target, num, times

if TYPE_CHECKING:
    from sections import Context

REPO = Path(__file__).resolve().parent.parent
CACHE = Path(tempfile.gettempdir()) / "chatmini-bench-venvs"
SEEDED = frozenset({"pip", "setuptools", "wheel"})
SOURCES = ("chatmini", "plugins", "setup.cfg", "pyproject.toml", "README.md")
PACKAGES = ("chatmini", "openai", "requests")
MAX_DISTRIBUTIONS = 7
# Run inside each venv: every distribution with its version and the bytes of its files.
LIST_DISTRIBUTIONS = """
import json
from importlib import metadata
out = []
for dist in metadata.distributions():
    size = 0
    for path in dist.files or ():
        full = path.locate()
        if full.is_file():
            size += full.stat().st_size
    out.append([dist.metadata["Name"], dist.version, size])
print(json.dumps(out))
"""


class VenvError(RuntimeError):
    """Making or filling a venv failed (no network, a build error): the section notes it."""


def _run(args: list[str], timeout: float = 900) -> str:
    done = subprocess.run(args, capture_output=True, text=True, timeout=timeout)
    if done.returncode != 0:
        tail = (done.stderr or done.stdout).strip().splitlines()[-3:]
        raise VenvError(f"`{' '.join(args[:4])} ...` failed: {' / '.join(tail)}")
    return done.stdout


def _python(venv: Path) -> Path:
    return venv / ("Scripts/python.exe" if sys.platform == "win32" else "bin/python")


def source_copy() -> Path:
    """A fresh copy of what building chatmini needs, without build/ or egg-info leftovers."""
    target = CACHE / "chatmini-source"
    shutil.rmtree(target, ignore_errors=True)
    target.mkdir(parents=True)
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    for name in SOURCES:
        path = REPO / name
        if path.is_dir():
            shutil.copytree(path, target / name, ignore=ignore)
        else:
            shutil.copy2(path, target / name)
    return target


def venv_for(package: str) -> Path:
    """The cached venv with ``package`` installed in it (made on first use)."""
    python_tag = tag = f"py{sys.version_info[0]}{sys.version_info[1]}"
    if package == "chatmini":  # a change to the dependencies means a new venv
        config = b"".join((REPO / name).read_bytes() for name in ("setup.cfg", "pyproject.toml"))
        tag += "-" + hashlib.sha256(config).hexdigest()[:12]
    venv = CACHE / f"{package}-{tag}"
    python = _python(venv)
    done = venv / ".installed"
    if package == "chatmini":
        spec = [str(source_copy())]
        if done.exists():  # the venv exists: refresh chatmini itself only
            spec = ["--force-reinstall", "--no-deps", *spec]
    else:
        spec = [package]
    if not done.exists():
        for old in CACHE.glob(f"{package}-{python_tag}*"):  # this one half-made, or stale
            shutil.rmtree(old, ignore_errors=True)
        _run([sys.executable, "-m", "venv", str(venv)], timeout=300)
    if package == "chatmini" or not done.exists():
        _run([str(python), "-m", "pip", "install", "--quiet", *spec])
    done.write_text(package)
    return venv


def distributions(venv: Path) -> list[tuple[str, str, int]]:
    """(name, version, bytes on disk) of every distribution in ``venv`` but the seeded ones."""
    # -I: isolated, so neither the current directory (an egg-info there would be listed) nor
    # PYTHONPATH adds anything to what the venv holds
    listed = json.loads(_run([str(_python(venv)), "-I", "-c", LIST_DISTRIBUTIONS], timeout=120))
    dists = {name.lower().replace("_", "-"): (name, ver, size) for name, ver, size in listed}
    return sorted(v for k, v in dists.items() if k not in SEEDED)


def bench_venvs(ctx: Context) -> Table:
    """e. Distributions and bytes on disk that each package installs into a fresh venv."""
    table = Table(
        "e. Installed footprint: `pip install X` into a fresh virtual environment",
        ["package", "version", "distributions (itself included)", "size on disk MiB",
         "size × chatmini", "what it brings"],
    )
    target = Target("distributions installed", f"≤ {MAX_DISTRIBUTIONS}", "not measured", None)
    table.targets.append(target)
    if ctx.settings.skip_venvs:
        table.notes.append("Skipped (--skip-venvs).")
        return table
    found: dict[str, tuple[str, list[tuple[str, str, int]]]] = {}
    for package in PACKAGES:
        print(f"  venv for {package} ...", file=sys.stderr, flush=True)
        try:
            dists = distributions(venv_for(package))
        except (VenvError, OSError, subprocess.TimeoutExpired) as exc:
            table.notes.append(f"{package}: no venv ({exc}).")
            continue
        own = next((v for n, v, _ in dists if n.lower() == package), "?")
        found[package] = (own, dists)
    sizes = {p: sum(size for *_, size in dists) / 2**20 for p, (_, dists) in found.items()}
    for package, (own, dists) in found.items():
        others = ", ".join(n for n, *_ in dists if n.lower() != package)
        ratio = times(sizes[package] / sizes["chatmini"]) if "chatmini" in sizes else "—"
        table.rows.append([package, own, str(len(dists)), num(sizes[package]), ratio,
                           others or "nothing else"])
    table.notes.append(
        f"Size = the bytes of every file each distribution's RECORD lists (bytecode pip compiled "
        f"included). pip, setuptools and wheel, which `venv` seeds, are not counted. Venvs are "
        f"cached in {CACHE}; chatmini is built from a copy of this repository on every run."
    )
    if "chatmini" in found:
        count = len(found["chatmini"][1])
        table.targets[0] = Target("distributions installed", f"≤ {MAX_DISTRIBUTIONS}",
                                  str(count), count <= MAX_DISTRIBUTIONS)
    table.panels.append(Panel("Installed in a fresh venv", "MiB on disk", sizes))
    return table
