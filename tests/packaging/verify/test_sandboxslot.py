"""The import check's sandbox slots and bytecode cache, and verify's single pass over the
artifact.

verify() starts the target interpreter first, fills its sandbox while it streams every
member for the static checks, then lets it import. Bytecode is kept between builds in
the cache root, as checked-hash pycs only: an edited source is never run from stale
bytecode. Runs with this machine's interpreter (the ``host_target`` fixture).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import zipfile
from typing import TYPE_CHECKING

import pytest

from sentiment_pipeline import ArtifactError, ProblemCode, Target
from sentiment_pipeline.packaging.options import VerifyOptions
from sentiment_pipeline.packaging.sandbox import Placed
from sentiment_pipeline.packaging.verify import reading, sandboxslot, verify
from sentiment_pipeline.packaging.verify.interpreters import probe
from sentiment_pipeline.packaging.verify.sandboxslot import SandboxSlot
from sentiment_pipeline.packaging.verify.sources import open_tree
from tests.support.synth import add_dist, zip_tree

if TYPE_CHECKING:
    from pathlib import Path


@pytest.fixture
def cache_root(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = tmp_path / "cache"
    monkeypatch.setenv("SENTIMENT_PIPELINE_CACHE", str(root))
    return root


@pytest.fixture
def scratch(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Sandboxes under tmp_path (not /dev/shm, which other processes share)."""
    path = tmp_path / "scratch"
    path.mkdir()
    monkeypatch.setattr(sandboxslot, "_scratch", lambda placed: str(path))
    return path


def function(root: Path, handler: str, files: dict[str, str] | None = None) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    (root / "handler.py").write_text(handler)
    for name, text in (files or {}).items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)
    return root


def pyc_flags(root: Path) -> list[int]:
    return [int.from_bytes(p.read_bytes()[4:8], "little") for p in root.rglob("*.pyc")]


def test_bytecode_is_cached_as_checked_hash_pycs_only(
    tmp_path: Path, host_target: Target, cache_root: Path, scratch: Path
) -> None:
    fn = function(
        tmp_path / "fn", "import helper\ndef lambda_handler(e, c):\n    return helper.X\n",
        {"helper.py": "X = 1\n"},
    )  # fmt: skip
    report = verify(zip_tree(fn, tmp_path / "fn.zip"), target=host_target)
    assert report.ok, report.render()
    assert report.checked.dynamic.ran
    # The tree mirrors absolute paths: the sandbox's sources are under scratch/. The
    # interpreter's own modules are not cached there (their pycs are read, never written).
    bytecode = cache_root / "bytecode"
    ours = bytecode / scratch.relative_to(scratch.anchor)
    assert len(pyc_flags(ours)) == 2, "handler and helper were not cached"
    assert len(pyc_flags(bytecode)) == 2
    assert set(pyc_flags(bytecode)) == {0b11}  # hash-based, checked against the source


def test_an_edited_source_of_the_same_size_is_never_run_from_stale_bytecode(
    tmp_path: Path, host_target: Target, cache_root: Path, scratch: Path
) -> None:
    handler = "import helper\nassert helper.X == 1, helper.X\ndef lambda_handler(e, c):\n    pass\n"
    fn = function(tmp_path / "fn", handler, {"helper.py": "X = 1\n"})
    assert verify(fn, target=host_target).ok
    (fn / "helper.py").write_text("X = 2\n")  # same size, same second: only the hash differs
    report = verify(fn, target=host_target)
    failed = [p.message for p in report.problems if p.code == ProblemCode.IMPORT_FAILED]
    assert failed and "AssertionError: 2" in failed[0]
    (fn / "helper.py").write_text("X = 1\n")
    assert verify(fn, target=host_target).ok


def test_the_sandbox_is_emptied_and_its_slot_released(
    tmp_path: Path, host_target: Target, cache_root: Path, scratch: Path
) -> None:
    fn = function(tmp_path / "fn", "def lambda_handler(e, c):\n    return 1\n")
    assert verify(fn, target=host_target).ok
    home = scratch / f"sp-verify-{os.getuid()}"
    assert sorted(p.name for p in home.iterdir()) == ["0.lock"]
    assert verify(fn, target=host_target).ok  # the same slot again
    assert sorted(p.name for p in home.iterdir()) == ["0.lock"]


def test_concurrent_checks_take_different_slots(tmp_path: Path, scratch: Path) -> None:
    tree = open_tree(function(tmp_path / "fn", "def lambda_handler(e, c):\n    pass\n"))
    placed = [Placed(tree, "function", 0)]
    first, second = SandboxSlot(placed), SandboxSlot(placed)
    try:
        assert first.root != second.root
        assert {first.root.name, second.root.name} == {"0", "1"}
        assert (first.root / "var/task").is_dir() and (first.root / "opt").is_dir()
    finally:
        first.close()
        second.close()
    again = SandboxSlot(placed)
    assert again.root.name == "0"
    again.close()


def test_a_sandbox_home_shared_with_others_is_not_used(tmp_path: Path, scratch: Path) -> None:
    home = scratch / f"sp-verify-{os.getuid()}"
    home.mkdir(mode=0o777)
    home.chmod(0o777)  # writable by others: a path someone else may control
    tree = open_tree(function(tmp_path / "fn", "def lambda_handler(e, c):\n    pass\n"))
    sandbox = SandboxSlot([Placed(tree, "function", 0)])
    try:
        assert sandbox.root.parent == scratch and sandbox.root.name.startswith("sp-verify-")
        assert sandbox.bytecode is None  # a throw-away path: nothing worth caching
    finally:
        sandbox.close()
    assert not sandbox.root.exists()


def test_the_sandbox_holds_what_the_artifact_holds(
    tmp_path: Path, host_target: Target, cache_root: Path, scratch: Path
) -> None:
    """verify() writes the sandbox while it streams: same files, modes and layer order."""
    site = f"python/lib/python{host_target.python}/site-packages"
    fn = function(
        tmp_path / "fn",
        "import os, shared, tool\n"
        "assert shared.WHERE == 'second', shared.WHERE\n"
        "assert os.access(tool.__file__.replace('tool.py', 'run.sh'), os.X_OK)\n"
        "def lambda_handler(e, c):\n    return 1\n",
    )
    add_dist(fn, "tool", "1.0", {"tool.py": "", "run.sh": "#!/bin/sh\n"})
    (fn / "run.sh").chmod(0o755)
    first = function(tmp_path / "a", "", {f"{site}/shared.py": "WHERE = 'first'\n"})
    second = function(tmp_path / "b", "", {f"{site}/shared.py": "WHERE = 'second'\n"})
    for layer in (first, second):
        (layer / "handler.py").unlink()
    report = verify(
        zip_tree(fn, tmp_path / "fn.zip"),
        host_target,
        VerifyOptions(
            layers=[zip_tree(first, tmp_path / "a.zip"), zip_tree(second, tmp_path / "b.zip")]
        ),
    )
    assert report.ok, report.render()
    assert report.checked.dynamic.ran


def test_a_corrupt_member_stops_the_check_and_the_waiting_import(
    tmp_path: Path, host_target: Target, cache_root: Path, scratch: Path
) -> None:
    fn = function(tmp_path / "fn", "def lambda_handler(e, c):\n    return 1\n")
    (fn / "data.txt").write_text("payload " * 4000)
    artifact = zip_tree(fn, tmp_path / "fn.zip")
    with zipfile.ZipFile(artifact) as zf:
        info = zf.getinfo("data.txt")
    raw = bytearray(artifact.read_bytes())
    middle = info.header_offset + 30 + len(info.filename) + info.compress_size // 2
    raw[middle] ^= 0xFF
    artifact.write_bytes(bytes(raw))
    with pytest.raises(ArtifactError, match=r"data\.txt is corrupt"):
        verify(artifact, target=host_target)
    home = scratch / f"sp-verify-{os.getuid()}"
    assert sorted(p.name for p in home.iterdir()) == ["0.lock"]  # emptied, released


def test_no_room_for_the_sandbox_skips_the_import_not_the_static_checks(
    tmp_path: Path,
    host_target: Target,
    cache_root: Path,
    scratch: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    fn = function(tmp_path / "fn", "def lambda_handler(e, c):\n    return 1\n")
    add_dist(fn, "lib", "1.0", {"lib.py": "X = 1\n"})
    (fn / "lib.py").write_text("X = 2\n")  # a RECORD mismatch the static checks must still see

    def full(self: SandboxSlot, placed: Placed, entry: object) -> None:
        self.fail(OSError(28, "No space left on device"))

    monkeypatch.setattr(SandboxSlot, "create", full)
    report = verify(fn, target=host_target)
    assert report.codes() == {"record-mismatch"}
    dyn = report.checked.dynamic
    assert not dyn.ran
    assert dyn.summary.startswith("dynamic check skipped: cannot unpack here")


def test_interpreter_probes_are_remembered_until_the_file_changes(
    tmp_path: Path, cache_root: Path
) -> None:
    calls = tmp_path / "calls"
    fake = tmp_path / "python-fake"
    answer = json.dumps(["cpython", [3, 13], "x86_64", False])
    fake.write_text(f"#!/bin/sh\necho x >> {calls}\necho '{answer}'\n")
    fake.chmod(0o755)
    probe.cache_clear()
    assert probe(str(fake)) == ("cpython", (3, 13), "x86_64", False)
    probe.cache_clear()
    assert probe(str(fake)) == ("cpython", (3, 13), "x86_64", False)
    assert calls.read_text().count("x") == 1  # the second answer came from the cache root
    fake.write_text(fake.read_text().replace('"x86_64"', '"aarch64"'))
    probe.cache_clear()
    assert probe(str(fake)) == ("cpython", (3, 13), "aarch64", False)
    assert calls.read_text().count("x") == 2
    probe.cache_clear()


def test_the_running_interpreter_answers_for_itself(monkeypatch: pytest.MonkeyPatch) -> None:
    def no_subprocess(*args: object, **kwargs: object) -> None:
        raise AssertionError("probed the running interpreter in a subprocess")

    monkeypatch.setattr(subprocess, "run", no_subprocess)
    probe.cache_clear()
    try:
        info = probe(sys.executable)
    finally:
        probe.cache_clear()
    assert info is not None
    assert info[0] == sys.implementation.name and info[1] == sys.version_info[:2]


@pytest.mark.parametrize("as_zip", [True, False])
def test_two_reader_threads_report_what_one_does(
    tmp_path: Path,
    host_target: Target,
    cache_root: Path,
    scratch: Path,
    monkeypatch: pytest.MonkeyPatch,
    as_zip: bool,
) -> None:
    """Members are read by two threads; the report does not depend on it."""
    fn = function(tmp_path / "fn", "import lib\ndef lambda_handler(e, c):\n    return lib.X\n")
    for n in range(12):
        add_dist(fn, f"dist{n}", "1.0", {f"dist{n}/__init__.py": f"X = {n}\n" * (n * 500 + 1)})
    add_dist(fn, "lib", "1.0", {"lib.py": "X = 1\n", "lib_data.txt": "data\n"})
    (fn / "lib_data.txt").write_text("changed\n")  # RECORD mismatches, in the middle
    (fn / "dist3" / "__init__.py").write_text("X = 'changed'\n")
    (fn / "dist7" / "__init__.py").unlink()  # a missing file
    artifact = zip_tree(fn, tmp_path / "fn.zip") if as_zip else fn
    reports = []
    for threads in (1, 2):
        monkeypatch.setattr(reading, "THREADS", threads)
        reports.append(verify(artifact, target=host_target).to_json())
    assert reports[0] == reports[1]
    assert {p["code"] for p in reports[0]["problems"]} == {"record-mismatch", "missing-file"}
    assert reports[0]["checked"]["dynamic"]["ran"]
