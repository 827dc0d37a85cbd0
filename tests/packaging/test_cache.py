"""The wheel cache: a content-addressed store, every file checked against its sha256 on use."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from sentiment_pipeline.packaging.cache import (
    CacheError,
    WheelCache,
    default_cache_root,
    sha256_file,
)
from sentiment_pipeline.packaging.lock import LockedWheel

WHEEL = "demo-1.0-py3-none-any.whl"


def published(tmp_path: Path, data: bytes = b"a wheel's bytes") -> LockedWheel:
    """A lock entry for a file served from a file:// URL (as a registry would serve it)."""
    upload = tmp_path / "index" / WHEEL
    upload.parent.mkdir(exist_ok=True)
    upload.write_bytes(data)
    digest = hashlib.sha256(data).hexdigest()
    return LockedWheel("demo", "1.0", WHEEL, upload.as_uri(), digest)


def test_a_fetched_wheel_is_stored_under_its_sha256_and_reused_offline(tmp_path: Path) -> None:
    entry = published(tmp_path)
    cache = WheelCache(tmp_path / "cache")
    (path,) = cache.fetch([entry])
    digest = entry.sha256
    assert path == tmp_path / "cache" / "wheels" / "sha256" / digest[:2] / digest / WHEEL
    assert sha256_file(path) == digest
    (tmp_path / "index" / WHEEL).unlink()
    assert cache.fetch([entry], offline=True) == [path]


def test_a_download_with_another_hash_is_refused_and_not_stored(tmp_path: Path) -> None:
    entry = published(tmp_path)
    (tmp_path / "index" / WHEEL).write_bytes(b"a changed upload")
    cache = WheelCache(tmp_path / "cache")
    with pytest.raises(CacheError, match=r"the lock says [0-9a-f]{64}: refusing it"):
        cache.fetch([entry])
    assert cache.get(entry) is None
    assert not [p for p in (tmp_path / "cache").rglob("*") if p.is_file()]


def test_a_tampered_cached_wheel_is_detected_and_removed(tmp_path: Path) -> None:
    entry = published(tmp_path)
    cache = WheelCache(tmp_path / "cache")
    (path,) = cache.fetch([entry])
    path.write_bytes(path.read_bytes() + b"tampered")
    with pytest.raises(CacheError, match="the cache was modified; it has been removed"):
        cache.fetch([entry])
    assert not path.exists()
    (tmp_path / "index" / WHEEL).unlink()
    with pytest.raises(CacheError, match="--offline, but these wheels are not cached: demo"):
        cache.fetch([entry], offline=True)


def test_a_kept_built_wheel_is_returned_while_it_has_its_recorded_hash(tmp_path: Path) -> None:
    cache = WheelCache(tmp_path / "cache")
    key = "ab" * 32
    assert cache.built(key) is None
    with cache.scratch(key) as scratch:
        assert Path(scratch).parent == tmp_path / "cache" / "built" / key  # same filesystem
        built = Path(scratch) / WHEEL
        built.write_bytes(b"built from a source archive")
        kept = cache.keep_built(key, built)
    assert kept == tmp_path / "cache" / "built" / key / WHEEL
    assert cache.built(key) == kept
    assert cache.built(f"{key}/native-0123") is None  # another variant of the same archive
    kept.write_bytes(b"changed")
    assert cache.built(key) is None


def test_a_wheel_built_elsewhere_is_kept_too(tmp_path: Path) -> None:
    elsewhere = tmp_path / "elsewhere" / WHEEL
    elsewhere.parent.mkdir()
    elsewhere.write_bytes(b"built")
    cache = WheelCache(tmp_path / "cache")
    kept = cache.keep_built("cd" * 32, elsewhere)
    assert kept.read_bytes() == b"built"
    assert cache.built("cd" * 32) == kept


def test_the_cache_root_is_absolute_whatever_the_environment_says(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("SENTIMENT_PIPELINE_CACHE", "cache")
    assert default_cache_root() == tmp_path / "cache"
    monkeypatch.delenv("SENTIMENT_PIPELINE_CACHE")
    monkeypatch.setenv("XDG_CACHE_HOME", "relative")  # not absolute: ignored (XDG)
    assert default_cache_root() == Path.home() / ".cache" / "sentiment-pipeline"
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert default_cache_root() == tmp_path / "xdg" / "sentiment-pipeline"
