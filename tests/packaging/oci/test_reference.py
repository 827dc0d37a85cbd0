"""Image references: ``HOST/REPO[:TAG][@DIGEST]`` and ``oci:LAYOUT[:TAG]``."""

from __future__ import annotations

from pathlib import Path

import pytest

from sentiment_pipeline.packaging.oci.reference import ImageRef, LayoutRef


@pytest.mark.parametrize(
    ("text", "host", "repo", "tag", "digest"),
    [
        ("127.0.0.1:5000/a/b:v1", "127.0.0.1:5000", "a/b", "v1", None),
        ("docker://localhost/a", "localhost", "a", None, None),
        (f"r.example.com/x@sha256:{'a' * 64}", "r.example.com", "x", None, f"sha256:{'a' * 64}"),
        (f"[::1]:5000/x:t@sha256:{'b' * 64}", "[::1]:5000", "x", "t", f"sha256:{'b' * 64}"),
    ],
)
def test_imageref_parse(
    text: str, host: str, repo: str, tag: str | None, digest: str | None
) -> None:
    ref = ImageRef.parse(text)
    assert (ref.host, ref.repository, ref.tag, ref.digest) == (host, repo, tag, digest)


@pytest.mark.parametrize(
    "text", ["python:3.12", "a/b:v1", "127.0.0.1:5000/UPPER", "h.io/x@sha256:1"]
)
def test_imageref_rejects(text: str) -> None:
    with pytest.raises(ValueError, match="image reference"):
        ImageRef.parse(text)


def test_imageref_prints_what_it_parsed() -> None:
    text = f"127.0.0.1:5000/a/b:v1@sha256:{'c' * 64}"
    assert str(ImageRef.parse(f"docker://{text}")) == text
    assert ImageRef.parse("localhost/a").reference == "latest"


def test_layout_ref_takes_a_tag_only_after_a_directory(tmp_path: Path) -> None:
    (tmp_path / "img").mkdir()
    assert LayoutRef.parse(f"oci:{tmp_path}/img:fn") == LayoutRef(tmp_path / "img", "fn")
    assert LayoutRef.parse(f"oci:{tmp_path}/img") == LayoutRef(tmp_path / "img")
    # no directory before the colon: the colon is part of the path
    assert LayoutRef.parse(f"oci:{tmp_path}/a:b") == LayoutRef(tmp_path / "a:b")
    assert str(LayoutRef(Path("img"), "fn")) == "oci:img:fn"
