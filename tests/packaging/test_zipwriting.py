"""Deterministic zips: same inputs, byte-identical output, whatever the input order."""

from __future__ import annotations

import stat
import zipfile
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sentiment_pipeline.packaging.zipwriting import ArchiveError, Member, compile_globs, write_zip

if TYPE_CHECKING:
    import random

_names = (
    st.lists(st.sampled_from("abcxyz_") | st.just("/"), min_size=1, max_size=12)
    .map("".join)
    .filter(lambda n: not n.startswith("/") and not n.endswith("/") and "//" not in n)
)
members = st.dictionaries(_names, st.tuples(st.binary(max_size=3000), st.booleans()), max_size=20)


@settings(max_examples=60, deadline=None)
@given(members, st.randoms())
def test_same_members_in_any_order_give_identical_bytes(
    content: dict[str, tuple[bytes, bool]], rnd: random.Random
) -> None:
    import tempfile

    items = [
        Member(n, executable=x, data=d)
        for n, (d, x) in content.items()
        if not any(o != n and o.startswith(n + "/") for o in content)
    ]
    shuffled = list(items)
    rnd.shuffle(shuffled)
    with tempfile.TemporaryDirectory() as tmp:
        a, b = Path(tmp) / "a.zip", Path(tmp) / "b.zip"
        write_zip(a, items)
        write_zip(b, shuffled)
        assert a.read_bytes() == b.read_bytes()
        with zipfile.ZipFile(a) as zf:
            assert zf.testzip() is None
            names = zf.namelist()
            assert names == sorted(names)
            for info in zf.infolist():
                assert info.date_time == (1980, 1, 1, 0, 0, 0)
                mode = info.external_attr >> 16
                assert stat.S_ISREG(mode) and stat.S_IMODE(mode) in (0o644, 0o755)
                assert zf.read(info) == next(m.data for m in items if m.name == info.filename)


def test_wheel_members_are_copied_without_recompression(tmp_path: Path) -> None:
    wheel = tmp_path / "w.zip"
    with zipfile.ZipFile(wheel, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as zf:
        zf.writestr("pkg/data.txt", b"hello " * 1000)
    with zipfile.ZipFile(wheel) as zf:
        info = zf.getinfo("pkg/data.txt")
    out = tmp_path / "out.zip"
    write_zip(out, [Member("pkg/data.txt", source=wheel, info=info)])
    with zipfile.ZipFile(out) as zf:
        copied = zf.getinfo("pkg/data.txt")
        assert zf.read("pkg/data.txt") == b"hello " * 1000
    assert copied.compress_size == info.compress_size  # level 1 bytes kept, not re-deflated at 6
    assert copied.CRC == info.CRC


def test_source_date_epoch_sets_the_timestamp(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    write_zip(tmp_path / "a.zip", [Member("a", data=b"x")])
    with zipfile.ZipFile(tmp_path / "a.zip") as zf:
        assert zf.getinfo("a").date_time == (2023, 11, 14, 22, 13, 20)


def test_two_sources_for_one_name_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(ArchiveError, match=r"two sources write a/b\.py"):
        write_zip(tmp_path / "a.zip", [Member("a/b.py", data=b"1"), Member("a/b.py", data=b"2")])


@pytest.mark.parametrize(
    ("patterns", "path", "matches"),
    [
        (["tests"], "pkg/tests/test_x.py", True),
        (["tests"], "pkg/testsuite/x.py", False),
        (["*.md"], "docs/README.md", True),
        (
            ["sentiment_pipeline/packaging/verify/**"],
            "sentiment_pipeline/packaging/verify/check.py",
            True,
        ),
        (["sentiment_pipeline/packaging/verify/**"], "sentiment_pipeline/verifier.py", False),
        (["**/__pycache__/**"], "app/__pycache__/m.cpython-311.pyc", True),
    ],
)
def test_exclude_globs(patterns: list[str], path: str, matches: bool) -> None:
    regex = compile_globs(patterns)
    assert regex is not None
    assert bool(regex.fullmatch(path)) is matches
