"""Shared libraries and extension modules the tests compile with this machine's gcc."""

from __future__ import annotations

import shutil
import subprocess
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from pathlib import Path


def gcc(*args: str | Path, cwd: Path) -> None:
    """Run gcc in ``cwd``; skip the test where there is none."""
    if shutil.which("gcc") is None:
        pytest.skip("no gcc on this machine")
    subprocess.run(["gcc", *map(str, args)], cwd=cwd, check=True, capture_output=True)


def library(directory: Path, soname: str, function: str) -> Path:
    """``directory/soname``, a library with that DT_SONAME exporting ``int function(void)``."""
    directory.mkdir(parents=True, exist_ok=True)
    source = directory / f"{function}.c"
    source.write_text(f"int {function}(void) {{ return 7; }}\n")
    gcc("-shared", "-fPIC", "-o", soname, f"-Wl,-soname,{soname}", source.name, cwd=directory)
    return directory / soname


def extension(directory: Path, python: str, module: str, calls: str, *link: str | Path) -> Path:
    """An extension module ``module`` for the interpreter ``python`` whose init calls
    ``int calls(void)`` (from a library given in ``link``, linked as needed)."""
    probe = (
        "import sysconfig; print(sysconfig.get_paths()['include']); "
        "print(sysconfig.get_config_var('EXT_SUFFIX'))"
    )
    include, suffix = subprocess.run(
        [python, "-c", probe], capture_output=True, text=True, check=True
    ).stdout.split()
    directory.mkdir(parents=True, exist_ok=True)
    source = directory / f"{module}.c"
    source.write_text(
        "#include <Python.h>\n"
        f"extern int {calls}(void);\n"
        f'static struct PyModuleDef def = {{PyModuleDef_HEAD_INIT, "{module}", NULL, -1, NULL}};\n'
        f"PyMODINIT_FUNC PyInit_{module}(void) {{\n"
        f"    PyObject *m = PyModule_Create(&def);\n"
        f'    if (m) PyModule_AddIntConstant(m, "VALUE", {calls}());\n'
        "    return m;\n}\n"
    )
    out = directory / f"{module}{suffix}"
    gcc(
        "-shared", "-fPIC", f"-I{include}", "-o", out.name, source.name,
        "-Wl,--no-as-needed", *link, cwd=directory,
    )  # fmt: skip
    return out
