"""Artifacts unpacked into a local root the way Lambda unpacks them."""

from __future__ import annotations

import stat
import zipfile
from typing import TYPE_CHECKING

from sentiment_pipeline.packaging.sandbox import LocalRoot, Placed, Unpacker, unpack
from sentiment_pipeline.packaging.verify.sources import open_tree
from tests.support.synth import write_files

if TYPE_CHECKING:
    from pathlib import Path


def test_the_function_goes_to_the_task_root_and_later_layers_overwrite_earlier_ones(
    tmp_path: Path,
) -> None:
    function = write_files(tmp_path / "fn", {"handler.py": "fn\n"})
    first = write_files(tmp_path / "a", {"python/shared.py": "first\n", "python/only_a.py": "a\n"})
    second = write_files(tmp_path / "b", {"python/shared.py": "second\n"})
    root = LocalRoot(tmp_path / "sb")
    root.create()
    with open_tree(function) as f, open_tree(first) as a, open_tree(second) as b:
        # Given out of order: the layers still unpack as listed, 1 then 2.
        unpack(root, [Placed(b, "layer", 2), Placed(f, "function", 0), Placed(a, "layer", 1)])
    assert (root.task_root / "handler.py").read_text() == "fn\n"
    assert (root.path / "opt/python/shared.py").read_text() == "second\n"
    assert (root.path / "opt/python/only_a.py").read_text() == "a\n"


def test_files_are_world_readable_and_keep_their_executable_bit(tmp_path: Path) -> None:
    function = write_files(tmp_path / "fn", {"handler.py": "", "bin/tool": "#!/bin/sh\n"})
    (function / "handler.py").chmod(0o600)  # private on the build machine
    (function / "bin/tool").chmod(0o700)
    root = LocalRoot(tmp_path / "sb")
    root.create()
    with open_tree(function) as tree:
        unpack(root, [Placed(tree, "function", 0)])
    assert stat.S_IMODE((root.task_root / "handler.py").stat().st_mode) == 0o644
    assert stat.S_IMODE((root.task_root / "bin/tool").stat().st_mode) == 0o755


def test_unsafe_entries_are_skipped_and_symlinks_stay_symlinks(tmp_path: Path) -> None:
    artifact = tmp_path / "fn.zip"
    with zipfile.ZipFile(artifact, "w") as zf:
        zf.writestr("handler.py", "ok\n")
        zf.writestr("../escaped.py", "outside\n")
        zf.writestr("/absolute.py", "outside\n")
        for name, target in (("current", "handler.py"), ("leaving", "../../etc/passwd")):
            link = zipfile.ZipInfo(name)
            link.external_attr = (stat.S_IFLNK | 0o777) << 16
            zf.writestr(link, target)
    root = LocalRoot(tmp_path / "deep" / "sb")
    root.create()
    with open_tree(artifact) as tree:
        unsafe = sorted(e.name for e in tree.entries() if e.unsafe)
        unpack(root, [Placed(tree, "function", 0)])
    assert unsafe == ["../escaped.py", "/absolute.py", "leaving"]
    assert sorted(p.name for p in root.task_root.iterdir()) == ["current", "handler.py"]
    assert (root.task_root / "current").readlink().as_posix() == "handler.py"
    assert not (tmp_path / "deep" / "escaped.py").exists()
    assert not (root.path / "absolute.py").exists()


def test_a_later_layers_file_replaces_an_earlier_layers_symlink(tmp_path: Path) -> None:
    first = tmp_path / "a"
    write_files(first, {"python/real.py": "real\n"})
    (first / "python/alias.py").symlink_to("real.py")
    second = write_files(tmp_path / "b", {"python/alias.py": "own\n"})
    root = LocalRoot(tmp_path / "sb")
    root.create()
    unpacker = Unpacker(root)
    with open_tree(first) as a, open_tree(second) as b:
        unpacker.unpack(Placed(a, "layer", 1))
        assert unpacker.has_links()
        unpacker.unpack(Placed(b, "layer", 2))
    alias = root.path / "opt/python/alias.py"
    assert not alias.is_symlink() and alias.read_text() == "own\n"
    assert (root.path / "opt/python/real.py").read_text() == "real\n"  # not written through
