"""Real wheels for the tests, downloaded once per machine and cached.

The package registry is reachable from tests; nothing downloaded is committed.
Wheels are "installed" with pypa/installer, exactly as pip lays them out with
``--target`` (files + ``*.dist-info`` with a RECORD).
"""

from __future__ import annotations

import hashlib
import zipfile
from typing import TYPE_CHECKING

from sentiment_pipeline.packaging.cache import default_cache_root
from sentiment_pipeline.packaging.install import download, install_wheels

if TYPE_CHECKING:
    from pathlib import Path

__all__ = ["CRYPTOGRAPHY", "HANDLER", "PYDANTIC", "fetch", "install_wheels", "zip_dir"]

PYDANTIC = (
    "pydantic==2.12.4",
    "pydantic-core==2.41.5",
    "typing-extensions==4.16.0",
    "annotated-types==0.8.0",
    "typing-inspection==0.4.5",
)
CRYPTOGRAPHY = ("cryptography==50.0.2",)


def cache_root() -> Path:
    return default_cache_root() / "test-wheels"


def fetch(
    requirements: tuple[str, ...], *, python: str, platform: str, deps: bool = False
) -> list[Path]:
    """Download wheels for one platform tag (cached by the arguments)."""
    key = hashlib.sha256(repr((requirements, python, platform, deps)).encode()).hexdigest()[:16]
    dest = cache_root() / key
    marker = dest / ".complete"
    if not marker.exists():
        download(requirements, dest, python=python, platforms=[platform], deps=deps)
        marker.write_text("\n".join(requirements))
    return sorted(dest.glob("*.whl"))


def zip_dir(source: Path, target: Path) -> Path:
    """Zip a directory's contents (not the directory itself), sorted, deflated."""
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as zf:
        for path in sorted(source.rglob("*")):
            if path.is_file() or path.is_symlink():
                zf.write(path, path.relative_to(source).as_posix())
    return target


HANDLER = """\
import json

import pydantic


class Event(pydantic.BaseModel):
    name: str = "world"


def lambda_handler(event, context):
    return {"statusCode": 200, "body": json.dumps({"hello": Event(**event).name})}
"""
