"""Fixture projects for the packaging tests: a manifest, sources and real requirements.

Never placeholder handlers in ``handlers/``: these projects live in temp dirs.
"""

from __future__ import annotations

import textwrap
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pathlib import Path

# Small real wheels: one pure (six), one native (markupsafe has a cp313 extension).
LAYER_REQUIREMENTS = ("six==1.17.0",)
FUNCTION_REQUIREMENTS = ("markupsafe==3.0.3",)

APP = """\
import json

import markupsafe
import six


def lambda_handler(event, context):
    return {"statusCode": 200, "body": json.dumps({"escaped": str(markupsafe.escape("<b>")),
                                                   "six": six.__version__})}
"""


def make_project(
    root: Path,
    *,
    backend: str = "zip-in-docker",
    handler: str = "app.main.lambda_handler",
    extra: str = "",
    lock: str | None = None,
) -> Path:
    """A project with one Lambda using one layer; returns the manifest path.

    ``lock``: the text of a lambdas.lock resolved earlier (the ``project_lock``
    fixture), so tests do not ask the resolver again.
    """
    (root / "app").mkdir(parents=True, exist_ok=True)
    (root / "app" / "__init__.py").write_text("")
    (root / "app" / "main.py").write_text(APP)
    (root / "app" / "__pycache__").mkdir(exist_ok=True)
    (root / "app" / "__pycache__" / "main.cpython-311.pyc").write_bytes(b"host bytecode")
    manifest = root / "lambdas.toml"
    manifest.write_text(
        textwrap.dedent(f'''\
        [defaults]
        runtime = "python3.13"
        architecture = "x86_64"
        backend = "{backend}"

        [layers.common]
        requirements = {list(LAYER_REQUIREMENTS)!r}

        [lambdas.api]
        handler = "{handler}"
        sources = ["app"]
        requirements = {list(FUNCTION_REQUIREMENTS)!r}
        layers = ["common"]
        ''').replace("'", '"')
        + extra
    )
    if lock is not None:
        (root / "lambdas.lock").write_text(lock)
    return manifest
