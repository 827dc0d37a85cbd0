"""Generated pyproject/uv projects for the packaging tests: a monorepo with a shared library.

Layout written by :func:`make_monorepo` (every file real, locked by the installed ``uv``):

    lambdas.toml
    pyproject.toml          the workspace root "app": idna, extras, groups; libs/* members
    uv.lock                 ``uv lock`` (optional; ``exclude_newer`` pins what it picks)
    libs/mylib/             a pure member library (depends on six), built by hatchling
    services/api/handler.py imports mylib and idna
    services/report/handler.py imports nothing of mylib
"""

from __future__ import annotations

import subprocess
import textwrap
from typing import TYPE_CHECKING

from sentiment_pipeline.packaging.lock import uv_binary

if TYPE_CHECKING:
    from pathlib import Path

ROOT_PYPROJECT = """\
[project]
name = "app"
version = "0.1.0"
requires-python = ">=3.9"
dependencies = ["mylib", "idna", "tomli; python_version < '3.11'"]

[project.optional-dependencies]
fast = ["attrs"]

[dependency-groups]
dev = ["pytest"]
base = ["six"]
prod = [{ include-group = "base" }]

[tool.uv.sources]
mylib = { workspace = true }

[tool.uv.workspace]
members = ["libs/*"]
"""

LIB_PYPROJECT = """\
[project]
name = "mylib"
version = "0.1.0"
requires-python = ">=3.9"
dependencies = ["six"]

[build-system]
requires = ["hatchling"]
build-backend = "hatchling.build"
"""

LIB_CODE = 'import six\n\n\ndef hello():\n    return "hello from mylib " + six.__name__\n'

API = """\
import idna
import mylib


def handler(event, context):
    return {"greeting": mylib.hello(), "idna": idna.__version__}
"""

REPORT = """\
def handler(event, context):
    return {"ok": True}
"""

MANIFEST = """\
[defaults]
runtime = "python3.12"

[lambdas.api]
handler = "handler.handler"
sources = ["services/api/handler.py"]
project = "pyproject.toml"
extras = ["fast"]
groups = ["prod"]

[lambdas.report]
handler = "handler.handler"
sources = ["services/report/handler.py"]
requirements = ["idna==3.10"]
"""


def write_library(folder: Path, *, name: str = "mylib", code: str = LIB_CODE) -> Path:
    """A pure-Python library project (hatchling) at ``folder``."""
    (folder / "src" / name).mkdir(parents=True, exist_ok=True)
    (folder / "pyproject.toml").write_text(LIB_PYPROJECT.replace('"mylib"', f'"{name}"'))
    (folder / "src" / name / "__init__.py").write_text(code)
    return folder


def uv_lock(folder: Path) -> None:
    """``uv lock`` in ``folder``, as a user runs it (network: PyPI)."""
    command = [uv_binary(), "lock", "--quiet", "--no-python-downloads"]
    subprocess.run(command, cwd=folder, check=True, capture_output=True, text=True)


def make_monorepo(
    root: Path,
    *,
    lock: bool = True,
    exclude_newer: str | None = "2024-01-01T00:00:00Z",
    manifest: str = MANIFEST,
) -> Path:
    """The monorepo above at ``root``; returns its manifest. Before 2024, uv picks idna 3.6."""
    root.mkdir(parents=True, exist_ok=True)
    pyproject = ROOT_PYPROJECT
    if exclude_newer:
        # Where projects keep it (uv.lock records it; `uv export --locked` compares).
        pyproject = pyproject.replace(
            "[tool.uv.sources]",
            f'[tool.uv]\nexclude-newer = "{exclude_newer}"\n\n[tool.uv.sources]',
        )
    (root / "pyproject.toml").write_text(pyproject)
    write_library(root / "libs" / "mylib")
    for name, code in (("api", API), ("report", REPORT)):
        (root / "services" / name).mkdir(parents=True, exist_ok=True)
        (root / "services" / name / "handler.py").write_text(code)
    (root / "lambdas.toml").write_text(textwrap.dedent(manifest))
    if lock:
        uv_lock(root)
    return root / "lambdas.toml"
