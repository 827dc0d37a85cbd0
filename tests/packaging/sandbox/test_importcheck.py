"""The import-check program, run as the verifier runs it, in every catalog Python this
machine has: it imports the handler with the given roots, waits for "go" when told to,
and caches bytecode as checked-hash pycs only."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from elftools.elf.dynamic import DynamicSection
from elftools.elf.elffile import ELFFile

from sentiment_pipeline.packaging.sandbox import IMPORT_CHECK, LocalRoot, isolated_command
from sentiment_pipeline.packaging.targets import get_target, runtimes
from sentiment_pipeline.packaging.verify.interpreters import find_interpreter
from sentiment_pipeline.packaging.verify.native import parse_elf
from tests.support.sharedlibs import library

if TYPE_CHECKING:
    from sentiment_pipeline.packaging.targets import Target


@pytest.fixture(params=runtimes())
def interpreter(request: pytest.FixtureRequest, host_target: Target) -> tuple[Target, str]:
    """A target on this machine's architecture, and this machine's interpreter of it."""
    target = get_target(request.param, host_target.architecture)
    python = find_interpreter(target)
    if python is None:
        pytest.skip(f"no {target.runtime} interpreter on this machine")
    return target, python


def sandbox(tmp_path: Path, handler: str) -> LocalRoot:
    root = LocalRoot(tmp_path / "sb")
    root.create()
    (root.task_root / "app").mkdir()
    (root.task_root / "app/__init__.py").write_text("")
    (root.task_root / "app/main.py").write_text(handler)
    return root


def run(
    python: str, target: Target, root: LocalRoot, bytecode: str = "", stdin: str | None = None
) -> tuple[subprocess.CompletedProcess[str], dict[str, Any] | None]:
    argv = isolated_command(
        python,
        IMPORT_CHECK,
        json.dumps(root.import_paths(target)),
        "[]",
        "app.main.lambda_handler",
        str(root.path / "result.json"),
        bytecode,
        str(root.path),
        *(["wait"] if stdin is not None else []),
    )
    proc = subprocess.run(
        argv, input=stdin or "", cwd=root.task_root, capture_output=True, text=True, check=False
    )
    out = root.path / "result.json"
    return proc, json.loads(out.read_text()) if out.exists() else None


def test_the_handler_imports_from_the_task_root(
    tmp_path: Path, interpreter: tuple[Target, str]
) -> None:
    target, python = interpreter
    front = LocalRoot(tmp_path / "sb").import_paths(target)
    root = sandbox(
        tmp_path,
        "import sys\n"
        f"assert sys.path[:3] == {front!r}, sys.path\n"
        f"assert {str(IMPORT_CHECK.parent)!r} not in sys.path, sys.path\n"  # -I: not the program's
        "def lambda_handler(e, c):\n    pass\n",
    )
    proc, result = run(python, target, root)
    assert proc.returncode == 0, proc.stderr
    assert result is not None and result["ok"], result
    assert result["python"] == target.python
    assert result["file"] == str(root.task_root / "app/main.py")


def test_an_import_error_names_the_missing_module(
    tmp_path: Path, interpreter: tuple[Target, str]
) -> None:
    target, python = interpreter
    root = sandbox(tmp_path, "import pydantic_core._pydantic_core\n")
    _, result = run(python, target, root)
    assert result is not None and not result["ok"]
    assert result["kind"] == "ModuleNotFoundError"
    assert result["missing"] == "pydantic_core"


def test_it_waits_for_go_and_leaves_without_importing_at_end_of_file(
    tmp_path: Path, interpreter: tuple[Target, str]
) -> None:
    target, python = interpreter
    root = sandbox(tmp_path, "def lambda_handler(e, c):\n    pass\n")
    proc, result = run(python, target, root, stdin="")
    assert proc.returncode == 0 and result is None
    _, result = run(python, target, root, stdin="go\n")
    assert result is not None and result["ok"]


def test_bytecode_is_cached_as_checked_hash_pycs_in_the_tree(
    tmp_path: Path, interpreter: tuple[Target, str]
) -> None:
    target, python = interpreter
    root = sandbox(tmp_path, "def lambda_handler(e, c):\n    pass\n")
    tree = tmp_path / "bytecode"
    _, result = run(python, target, root, bytecode=str(tree))
    assert result is not None and result["ok"]
    cached = sorted(p.name for p in tree.rglob("*.pyc"))
    assert cached == [f"__init__.{target.cache_tag}.pyc", f"main.{target.cache_tag}.pyc"]
    flags = {int.from_bytes(p.read_bytes()[4:8], "little") for p in tree.rglob("*.pyc")}
    assert flags == {0b11}  # hash-based, checked against the source
    assert not list(root.path.rglob("*.pyc"))  # nothing written beside the sources


def test_it_records_each_library_the_import_loaded_and_the_module_that_did(
    tmp_path: Path, interpreter: tuple[Target, str]
) -> None:
    """On every catalog Python: an extension module owns the libraries its creation
    maps, a ctypes load the library it opened; what the interpreter had mapped before
    the import (its own libc) is not listed."""
    target, python = interpreter
    host = library(tmp_path / "host", "libsphost.so.1", "sp_host")
    root = sandbox(tmp_path, "import app.opener\ndef lambda_handler(e, c):\n    pass\n")
    (root.task_root / "app/opener.py").write_text(
        f"import _bz2, ctypes\nLIB = ctypes.CDLL({str(host)!r})\n"
    )
    _, result = run(python, target, root)
    assert result is not None and result["ok"], result
    loaded = {Path(r["path"]).name: r for r in result["loaded"]}
    assert loaded["libsphost.so.1"]["by"] == "app.opener"
    assert loaded["libsphost.so.1"]["from"] == str(root.task_root / "app/opener.py")
    assert loaded["libsphost.so.1"]["soname"] == "libsphost.so.1"
    bz2 = [r for r in result["loaded"] if r["soname"] == "libbz2.so.1.0"]
    if bz2:  # an interpreter built with its own bzip2 maps none
        assert bz2[0]["by"] == "_bz2"
    assert not [r for r in result["loaded"] if r["soname"] == "libc.so.6"]
    assert result["libc"].startswith("glibc ")
    assert Path(result["stdlib"], "os.py").is_file()


def test_its_sonames_and_needed_libraries_are_what_pyelftools_reads(
    tmp_path: Path, interpreter: tuple[Target, str]
) -> None:
    """The program reads ELF with the standard library; pyelftools is the reference."""
    target, python = interpreter
    root = sandbox(tmp_path, "import ctypes, ssl, sqlite3\ndef lambda_handler(e, c):\n    pass\n")
    _, result = run(python, target, root)
    assert result is not None and result["ok"], result
    assert result["loaded"]
    for record in result["loaded"]:
        with open(record["path"], "rb") as fh:
            info = parse_elf(fh)
            fh.seek(0)
            dynamic = ELFFile(fh).get_section_by_name(".dynamic")
            assert isinstance(dynamic, DynamicSection)
            tags = [t for t in dynamic.iter_tags() if t.entry.d_tag == "DT_SONAME"]
            sonames = [str(t.soname) for t in tags]  # type: ignore[attr-defined]
        assert not isinstance(info, str), info
        assert (record["soname"], record["needed"]) == (
            sonames[0] if sonames else None,
            list(info.needed),
        ), record
