"""Zips and directories: traversal, links and zip bombs refused before anything is inflated."""

from __future__ import annotations

import os
import struct
import zipfile
from typing import TYPE_CHECKING

import pytest

from sentiment_pipeline import ArtifactError, ProblemCode, Target
from sentiment_pipeline.packaging.options import VerifyOptions
from sentiment_pipeline.packaging.verify import verify
from sentiment_pipeline.packaging.verify.sources import archives, open_tree

if TYPE_CHECKING:
    from pathlib import Path


def make_zip(
    path: Path, members: dict[str, bytes], *, symlinks: dict[str, str] | None = None
) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
        for name, target in (symlinks or {}).items():
            info = zipfile.ZipInfo(name)
            info.external_attr = 0o120777 << 16
            zf.writestr(info, target)
    return path


def unsafe(report: object) -> dict[str, str]:
    return {p.path: p.message for p in report.problems if p.code == ProblemCode.UNSAFE_PATH}  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    "name", ["../evil.py", "a/../../evil.py", "/etc/passwd", "C:/windows/evil.py", "a\\..\\evil.py"]
)
def test_zip_slip_and_absolute_names_are_unsafe(name: str, tmp_path: Path, py313: Target) -> None:
    artifact = make_zip(
        tmp_path / "fn.zip", {"handler.py": b"def lambda_handler(e, c): pass\n", name: b"x"}
    )
    report = verify(artifact, target=py313)
    assert name in unsafe(report)
    assert report.checked.dynamic.summary == "dynamic check skipped: unsafe paths"


def test_symlinks_leaving_the_root_are_unsafe(tmp_path: Path, py313: Target) -> None:
    artifact = make_zip(
        tmp_path / "fn.zip",
        {"pkg/__init__.py": b""},
        symlinks={"pkg/up": "../../etc", "pkg/abs": "/etc/passwd", "pkg/ok": "__init__.py"},
    )
    found = unsafe(verify(artifact, py313, VerifyOptions(dynamic=False)))
    assert set(found) == {"pkg/up", "pkg/abs"}


def test_directory_symlinks_are_checked_without_following(tmp_path: Path, py313: Target) -> None:
    root = tmp_path / "fn"
    root.mkdir()
    (root / "handler.py").write_text("def lambda_handler(e, c):\n    return 1\n")
    (root / "etc").symlink_to("/etc")
    report = verify(root, py313, VerifyOptions(dynamic=False))
    assert set(unsafe(report)) == {"etc"}
    assert report.checked.files == 1  # nothing under /etc was read


def test_a_high_ratio_member_is_a_zip_bomb(tmp_path: Path, py313: Target) -> None:
    artifact = tmp_path / "bomb.zip"
    with zipfile.ZipFile(artifact, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as zf:
        zf.writestr("zeros.bin", bytes(64 << 20))
    report = verify(artifact, target=py313)
    assert "zip bomb" in unsafe(report)["zeros.bin"]
    assert report.checked.hashed_files == 0


def test_a_lying_size_beyond_the_total_cap_is_refused_unread(tmp_path: Path, py313: Target) -> None:
    artifact = make_zip(tmp_path / "liar.zip", {"a.txt": b"hello"})
    data = bytearray(artifact.read_bytes())
    cd = data.index(b"PK\x01\x02")
    struct.pack_into("<I", data, cd + 24, 0xFFFFFFF0)  # claim 4 GiB uncompressed
    artifact.write_bytes(bytes(data))
    found = unsafe(verify(artifact, target=py313))
    assert "zip bomb" in found["a.txt"]


def test_the_total_cap_counts_every_member(
    tmp_path: Path, py313: Target, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(archives, "MAX_TOTAL_UNCOMPRESSED", 1000)
    artifact = make_zip(tmp_path / "many.zip", {f"f{i}.txt": os.urandom(300) for i in range(5)})
    assert len(unsafe(verify(artifact, target=py313))) == 5


def test_overlapping_members_are_a_zip_bomb(tmp_path: Path, py313: Target) -> None:
    artifact = make_zip(tmp_path / "overlap.zip", {"a.txt": b"a" * 100, "b.txt": b"b" * 100})
    data = bytearray(artifact.read_bytes())
    second = data.index(b"PK\x01\x02", data.index(b"PK\x01\x02") + 4)
    struct.pack_into("<I", data, second + 42, 0)  # b.txt now points into a.txt's data
    artifact.write_bytes(bytes(data))
    found = unsafe(verify(artifact, target=py313))
    assert any("overlaps" in message for message in found.values())


@pytest.mark.parametrize("content", [b"", b"not a zip", b"PK\x03\x04garbage", os.urandom(4096)])
def test_unreadable_input_raises_artifact_error(
    content: bytes, tmp_path: Path, py313: Target
) -> None:
    path = tmp_path / "broken.zip"
    path.write_bytes(content)
    with pytest.raises(ArtifactError, match="not a readable zip"):
        verify(path, target=py313)


def test_zip_entries_stream_in_file_order(tmp_path: Path) -> None:
    artifact = make_zip(tmp_path / "fn.zip", {"b.py": b"1", "a.py": b"2", "c/d.py": b"3"})
    with open_tree(artifact) as tree:
        assert [e.name for e in tree.entries()] == ["b.py", "a.py", "c/d.py"]
