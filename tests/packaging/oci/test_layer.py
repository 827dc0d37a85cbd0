"""Reproducible layers: bytes, tar headers and hashes checked with independent readers."""

from __future__ import annotations

import gzip
import hashlib
import shutil
import subprocess
import tarfile
from typing import TYPE_CHECKING

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sentiment_pipeline.packaging.oci.layer import (
    LayerCache,
    LayerError,
    LayerFile,
    build_layer,
    files_from_tree,
    source_date_epoch,
)

if TYPE_CHECKING:
    import random
    from pathlib import Path

SKIP = frozenset({"var", "var/task"})
LONG = "var/task/" + "/".join(["a_rather_long_directory_name"] * 5) + "/module_with_a_long_name.py"


def _files(tmp_path: Path) -> list[LayerFile]:
    on_disk = tmp_path / "src.py"
    on_disk.write_bytes(b"print('from disk')\n" * 100)
    return [
        LayerFile("var/task/handler.py", b"def handler(e, c):\n    return e\n"),
        LayerFile("var/task/bin/run", b"#!/bin/sh\n", 0o755),
        LayerFile("var/task/pkg/__init__.py", b""),
        LayerFile("var/task/pkg/src.py", on_disk),
        LayerFile("var/task/pkg-extra/x.py", b"x = 1\n"),
        LayerFile(LONG, b"long = True\n"),
    ]


def _headers(tar_bytes: bytes) -> list[tuple[bytes, bytes]]:
    """(name field, typeflag) of every raw 512-byte header, without tarfile's help."""
    out = []
    pos = 0
    while pos + 512 <= len(tar_bytes):
        block = tar_bytes[pos : pos + 512]
        if block == bytes(512):
            break
        size = int(block[124:136].rstrip(b"\0 ") or b"0", 8)
        out.append((block[:100].rstrip(b"\0"), block[156:157]))
        pos += 512 + (size + 511) // 512 * 512
    return out


def test_same_inputs_give_identical_bytes_in_any_order(tmp_path: Path) -> None:
    files = _files(tmp_path)
    one = build_layer(files, tmp_path / "one", mtime=1_700_000_000, skip_dirs=SKIP)
    two = build_layer(list(reversed(files)), tmp_path / "two", mtime=1_700_000_000, skip_dirs=SKIP)
    assert one.digest == two.digest
    assert one.diff_id == two.diff_id
    assert one.path.read_bytes() == two.path.read_bytes()
    assert one.size == one.path.stat().st_size
    assert one.path.name == one.digest.removeprefix("sha256:") + ".tar.gz"
    changed = build_layer(files, tmp_path / "three", mtime=1_700_000_001, skip_dirs=SKIP)
    assert changed.diff_id != one.diff_id


def test_hashes_match_independent_gunzip(tmp_path: Path) -> None:
    layer = build_layer(_files(tmp_path), tmp_path / "out", mtime=0, skip_dirs=SKIP)
    data = layer.path.read_bytes()
    assert layer.digest == "sha256:" + hashlib.sha256(data).hexdigest()
    plain = subprocess.run(["gzip", "-dc", str(layer.path)], capture_output=True, check=True).stdout
    assert layer.diff_id == "sha256:" + hashlib.sha256(plain).hexdigest()
    # magic, deflate, no flags (no FNAME), mtime 0, XFL 0 (level 6), OS 255 (GzipFile's).
    assert data[:10] == bytes.fromhex("1f8b0800000000000 0ff".replace(" ", ""))


def test_tar_is_sorted_normalized_and_has_no_pax(tmp_path: Path) -> None:
    layer = build_layer(_files(tmp_path), tmp_path / "out", mtime=1_234_567_890, skip_dirs=SKIP)
    plain = gzip.decompress(layer.path.read_bytes())
    flags = {flag for _, flag in _headers(plain)}
    assert not flags & {b"x", b"g"}, "PAX headers found"
    assert b"L" in flags  # the long name went through GNU's ././@LongLink

    with tarfile.open(fileobj=gzip.open(layer.path)) as tar:
        members = tar.getmembers()
    names = [m.name for m in members]
    assert names == sorted(names, key=lambda n: n.split("/"))
    assert "var" not in names and "var/task" not in names
    assert names[0] == "var/task/a_rather_long_directory_name"
    assert {"var/task/bin", "var/task/pkg", "var/task/pkg-extra"} <= set(names)
    assert LONG in names
    for m in members:
        assert (m.uid, m.gid, m.uname, m.gname) == (0, 0, "", "")
        assert m.mtime == 1_234_567_890
        assert m.pax_headers == {}
        if m.isdir():
            assert m.mode == 0o755
        else:
            assert m.isreg()
            assert m.mode == (0o755 if m.name == "var/task/bin/run" else 0o644)

    # GNU tar's own view: numeric owners 0/0 and the modes.
    listing = subprocess.run(
        ["tar", "--numeric-owner", "-tvzf", str(layer.path)],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.splitlines()
    assert all(" 0/0 " in line for line in listing)
    assert any(line.startswith("-rwxr-xr-x") and "bin/run" in line for line in listing)
    assert any(line.startswith("drwxr-xr-x") and line.endswith("var/task/pkg/") for line in listing)


def test_bytes_and_file_sources_give_the_same_layer(tmp_path: Path) -> None:
    source = tmp_path / "h.py"
    source.write_bytes(b"x = 1\n")
    a = build_layer([LayerFile("var/task/h.py", source)], tmp_path / "a", mtime=0, skip_dirs=SKIP)
    b = build_layer(
        [LayerFile("var/task/h.py", b"x = 1\n")], tmp_path / "b", mtime=0, skip_dirs=SKIP
    )
    assert a.digest == b.digest


@pytest.mark.parametrize(
    ("files", "mtime", "message"),
    [
        ([LayerFile("/var/task/a.py", b"")], 0, "not a layer path"),
        ([LayerFile("var/task/../etc/passwd", b"")], 0, "not a layer path"),
        ([LayerFile("var/task/a.py", b"", 0o600)], 0, "mode 0o600"),
        ([LayerFile("var/task/a.py", b""), LayerFile("var/task/a.py", b"")], 0, "twice"),
        ([LayerFile("var/task/a", b""), LayerFile("var/task/a/b", b"")], 0, "file and a dir"),
        ([LayerFile("var/task/a.py", b"")], 1.5, "integer"),
    ],
)
def test_bad_input_is_refused_with_the_reason(
    tmp_path: Path, files: list[LayerFile], mtime: int, message: str
) -> None:
    with pytest.raises(LayerError, match=message):
        build_layer(files, tmp_path, mtime=mtime, skip_dirs=SKIP)
    assert not list(tmp_path.glob("*.tar.gz"))


def test_files_from_tree_normalizes_modes(tmp_path: Path) -> None:
    root = tmp_path / "tree"
    (root / "pkg").mkdir(parents=True)
    (root / "pkg" / "mod.py").write_text("x = 1\n")
    (root / "pkg" / "mod.py").chmod(0o600)
    (root / "tool").write_text("#!/bin/sh\n")
    (root / "tool").chmod(0o700)
    files = sorted(files_from_tree(root), key=lambda f: f.path)
    assert [(f.path, f.mode) for f in files] == [
        ("var/task/pkg/mod.py", 0o644),
        ("var/task/tool", 0o755),
    ]
    (root / "linked").symlink_to(root / "pkg")
    with pytest.raises(LayerError, match="symlink to a directory"):
        files_from_tree(root)


def test_source_date_epoch(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SOURCE_DATE_EPOCH", raising=False)
    assert source_date_epoch() == 0
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    assert source_date_epoch() == 1_700_000_000


def test_cache_reuses_the_gzip_of_an_unchanged_layer(tmp_path: Path) -> None:
    cache = LayerCache(tmp_path / "cache")
    files = _files(tmp_path)
    first = cache.get_or_build(files, mtime=0, skip_dirs=SKIP)
    stamp = first.path.stat().st_mtime_ns, first.path.stat().st_ino
    again = cache.get_or_build(files, mtime=0, skip_dirs=SKIP)
    assert again == first
    assert (again.path.stat().st_mtime_ns, again.path.stat().st_ino) == stamp  # not rewritten
    assert first.path.parent.name == first.diff_id.removeprefix("sha256:")
    assert first.digest == build_layer(files, tmp_path / "direct", mtime=0, skip_dirs=SKIP).digest
    # no temporary directories are left behind
    assert sorted(p.name for p in cache.root.iterdir()) == ["sha256"]

    first.path.write_bytes(b"damaged")  # a damaged entry is detected and rebuilt
    rebuilt = cache.get_or_build(files, mtime=0, skip_dirs=SKIP)
    assert rebuilt.digest == first.digest
    assert hashlib.sha256(rebuilt.path.read_bytes()).hexdigest() == first.digest[7:]

    other = cache.get_or_build(files[:2], mtime=0, skip_dirs=SKIP)
    assert other.diff_id != first.diff_id
    assert len(list((cache.root / "sha256").iterdir())) == 2


def test_cache_root_defaults_under_the_pipeline_cache(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SENTIMENT_PIPELINE_CACHE", str(tmp_path))
    assert LayerCache().root == tmp_path / "layers"


_NAMES = st.lists(
    st.text(alphabet="abcdef_.-", min_size=1, max_size=8).filter(lambda s: s not in {".", ".."}),
    min_size=1,
    max_size=3,
).map("/".join)


@settings(max_examples=30, deadline=None)
@given(
    st.dictionaries(_NAMES, st.binary(max_size=64), min_size=1, max_size=6),
    st.randoms(use_true_random=False),
)
def test_property_digest_ignores_input_order(
    tmp_path_factory: pytest.TempPathFactory, contents: dict[str, bytes], rnd: random.Random
) -> None:
    paths = sorted(contents)
    if any(other.startswith(p + "/") for p in paths for other in paths):
        return  # a path that is also a directory: refused, covered above
    files = [LayerFile(f"var/task/{p}", contents[p]) for p in paths]
    shuffled = list(files)
    rnd.shuffle(shuffled)
    out = tmp_path_factory.mktemp("prop")
    try:
        a = build_layer(files, out / "a", mtime=0, skip_dirs=SKIP)
        b = build_layer(shuffled, out / "b", mtime=0, skip_dirs=SKIP)
        assert a.path.read_bytes() == b.path.read_bytes()
        with tarfile.open(a.path) as tar:
            assert {m.name for m in tar.getmembers() if m.isfile()} == {f.path for f in files}
    finally:
        shutil.rmtree(out)


def test_no_temporary_files_are_left(tmp_path: Path) -> None:
    build_layer(_files(tmp_path), tmp_path / "out", mtime=0, skip_dirs=SKIP)
    assert [p.suffixes for p in (tmp_path / "out").iterdir()] == [[".tar", ".gz"]]
    assert not [p for p in (tmp_path / "out").iterdir() if p.name.startswith(".")]
