"""Path dependencies built into wheels with ``uv build``, cached by the content of their tree."""

from __future__ import annotations

import zipfile
from typing import TYPE_CHECKING

import pytest

from sentiment_pipeline.packaging.cache import WheelCache
from sentiment_pipeline.packaging.install.localpackages import (
    LocalPackageError,
    SourceDigests,
    local_wheel,
)
from sentiment_pipeline.packaging.lock import LockedWheel
from tests.support.uvprojects import write_library

if TYPE_CHECKING:
    from pathlib import Path

MYLIB = LockedWheel("mylib", "0.1.0", "", "", "", directory="libs/mylib")

# An in-tree PEP 517 backend whose wheel is tagged for one platform, as a compiled one is.
NATIVE_BACKEND = """\
import os
import zipfile


def build_wheel(wheel_directory, config_settings=None, metadata_directory=None):
    name = "native_lib-1.0-cp312-cp312-linux_x86_64.whl"
    with zipfile.ZipFile(os.path.join(wheel_directory, name), "w") as zf:
        zf.writestr("native_lib/__init__.py", "")
        info = "native_lib-1.0.dist-info/"
        zf.writestr(info + "METADATA", "Metadata-Version: 2.1\\nName: native-lib\\nVersion: 1.0\\n")
        zf.writestr(info + "WHEEL", "Wheel-Version: 1.0\\nRoot-Is-Purelib: false\\n"
                    "Tag: cp312-cp312-linux_x86_64\\n")
        zf.writestr(info + "RECORD", "")
    return name
"""


def _built_names(wheel: Path) -> set[str]:
    with zipfile.ZipFile(wheel) as zf:
        return set(zf.namelist())


def test_a_path_dependency_is_built_once_per_tree_content(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    lib = write_library(tmp_path / "libs" / "mylib")
    cache = WheelCache(tmp_path / "cache")
    wheel = local_wheel(MYLIB, SourceDigests(tmp_path), cache, offline=False)
    assert wheel.name == "mylib-0.1.0-py3-none-any.whl"
    assert "mylib/__init__.py" in _built_names(wheel)
    # A new build (a fresh clone: other times, same bytes) finds it without running uv.
    monkeypatch.setattr(
        "sentiment_pipeline.packaging.lock.uv_binary", lambda: str(tmp_path / "no-uv-here")
    )
    assert local_wheel(MYLIB, SourceDigests(tmp_path), cache, offline=False) == wheel
    (lib / "src" / "mylib" / "extra.py").write_text("VALUE = 2\n")
    with pytest.raises(LocalPackageError, match=r"cannot build the path dependency mylib"):
        local_wheel(MYLIB, SourceDigests(tmp_path), cache, offline=False)
    monkeypatch.undo()
    rebuilt = local_wheel(MYLIB, SourceDigests(tmp_path), cache, offline=False)
    assert rebuilt != wheel and "mylib/extra.py" in _built_names(rebuilt)


def test_identities_name_a_folder_by_its_tree_and_a_wheel_by_its_hash(tmp_path: Path) -> None:
    lib = write_library(tmp_path / "libs" / "mylib")
    six = LockedWheel("six", "1.17.0", "six.whl", "https://x/six.whl", "ab" * 32)
    digests = SourceDigests(tmp_path)
    first = digests.identities([six, MYLIB])
    assert first[0] == "ab" * 32 and first[1].startswith("tree:libs/mylib:")
    (lib / "src" / "mylib" / "__init__.py").write_text("X = 1\n")
    assert SourceDigests(tmp_path).identities([six, MYLIB])[1] != first[1]


def test_a_missing_path_dependency_says_how_to_fix_it(tmp_path: Path) -> None:
    with pytest.raises(LocalPackageError, match=r"'libs/mylib' does not exist under .*restore it"):
        local_wheel(MYLIB, SourceDigests(tmp_path), WheelCache(tmp_path / "c"), offline=False)


def test_a_path_dependency_that_compiles_code_is_refused_with_the_ways_out(tmp_path: Path) -> None:
    folder = tmp_path / "libs" / "native"
    folder.mkdir(parents=True)
    (folder / "backend.py").write_text(NATIVE_BACKEND)
    (folder / "pyproject.toml").write_text(
        '[project]\nname = "native-lib"\nversion = "1.0"\n'
        '[build-system]\nrequires = []\nbuild-backend = "backend"\nbackend-path = ["."]\n'
    )
    entry = LockedWheel("native-lib", "1.0", "", "", "", directory="libs/native")
    with pytest.raises(LocalPackageError, match=r"builds native code .*linux_x86_64.*manylinux"):
        local_wheel(entry, SourceDigests(tmp_path), WheelCache(tmp_path / "c"), offline=False)
