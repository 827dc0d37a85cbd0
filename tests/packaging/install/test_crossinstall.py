"""The project's own sources as members: names, order, exclusions, and what is never walked."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

from sentiment_pipeline.packaging.install.crossinstall import source_members
from tests.support.synth import write_files

if TYPE_CHECKING:
    from pathlib import Path

    import pytest

FILES = {
    "app/__init__.py": "",
    "app/main.py": "X = 1\n",
    "app/a-b.py": "",
    "app/a/z.py": "",
    "app/build/tool.py": "",
    "app/build/deep/more.py": "",
    "app/tests/test_main.py": "",
    "app/notes.md": "",
}


def test_members_keep_the_directory_name_in_path_order_without_excluded_files(
    tmp_path: Path,
) -> None:
    write_files(tmp_path, FILES)
    members = source_members(
        tmp_path, [tmp_path / "app"], exclude=("app/build/**", "**/tests/**", "*.md")
    )
    # Path order (a/z.py before a-b.py): what every artifact so far was built with.
    assert [m.name for m in members] == [
        "app/__init__.py",
        "app/a/z.py",
        "app/a-b.py",
        "app/main.py",
    ]


def test_a_directory_excluded_whole_is_never_walked(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_files(tmp_path, FILES)
    walked: list[str] = []
    real_walk = os.walk

    def recording_walk(top: Any, *args: Any, **kwargs: Any) -> Any:
        for directory, subdirectories, files in real_walk(top, *args, **kwargs):
            walked.append(os.path.relpath(directory, tmp_path))
            yield directory, subdirectories, files

    monkeypatch.setattr(os, "walk", recording_walk)
    members = source_members(
        tmp_path, [tmp_path / "app"], prefix="pkg/", exclude=("pkg/app/build/**", "**/tests/**")
    )
    assert "app/build" not in walked and "app/build/deep" not in walked
    assert "app/tests" not in walked
    assert "app/a" in walked  # an exclusion by file name prunes nothing
    assert not any("build/" in m.name or "tests/" in m.name for m in members)
