"""Install wheels into a directory exactly as ``pip install --target`` lays them out."""

from __future__ import annotations

from typing import TYPE_CHECKING

from installer import install
from installer.destinations import SchemeDictionaryDestination
from installer.sources import WheelFile

from sentiment_pipeline.packaging.sandbox.paths import RUNTIME_BIN

if TYPE_CHECKING:
    from collections.abc import Iterable
    from pathlib import Path

__all__ = ["install_wheels"]


def install_wheels(wheels: Iterable[Path], dest: Path, *, python: str = "3") -> Path:
    """Unpack ``wheels`` into ``dest`` with their ``*.dist-info`` and RECORD.

    Scripts get a ``#!/var/lang/bin/python<python>`` shebang, the interpreter's
    path in Lambda. Bytecode is not compiled here: only an interpreter of the
    target's version can write ``.pyc`` files the runtime will use.
    """
    dest.mkdir(parents=True, exist_ok=True)
    schemes = {
        "purelib": dest,
        "platlib": dest,
        "scripts": dest / "bin",
        "headers": dest / "include",
        "data": dest,
    }
    for wheel in wheels:
        destination = SchemeDictionaryDestination(
            {key: str(path) for key, path in schemes.items()},
            interpreter=f"{RUNTIME_BIN}/python{python}",
            script_kind="posix",
        )
        with WheelFile.open(wheel) as source:
            install(source, destination, {"INSTALLER": b"sentiment-pipeline"})
    return dest
