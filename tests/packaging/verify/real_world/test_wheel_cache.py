"""The corpus' wheel cache: files are checked against PyPI's sha256, on download and on use."""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING

import pytest

from tests.packaging.verify.real_world.wheels import wheel
from tests.support import pypi_wheels

if TYPE_CHECKING:
    from pathlib import Path

IDNA = wheel("idna-3.10")


@pytest.mark.network
def test_an_altered_cached_wheel_is_downloaded_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    cached = pypi_wheels.cache_dir() / IDNA.filename
    cached.parent.mkdir(parents=True)
    cached.write_bytes(b"not the wheel")
    assert pypi_wheels.fetch(IDNA) == cached
    assert hashlib.sha256(cached.read_bytes()).hexdigest() == IDNA.sha256


@pytest.mark.network
def test_a_pin_whose_hash_pypi_does_not_publish_is_an_error_naming_the_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    wrong = pypi_wheels.PinnedWheel(IDNA.filename, "0" * 64)
    with pytest.raises(pypi_wheels.WheelDownloadError, match=IDNA.filename):
        pypi_wheels.fetch(wrong)
    assert not (pypi_wheels.cache_dir() / IDNA.filename).exists()


def test_pip_is_told_the_wheel_s_own_platform_and_python() -> None:
    options = wheel("numpy-1.26.4-cp311-cp311-manylinux_2_17_aarch64").pip_tag_options()
    assert "--platform=manylinux2014_aarch64" in options
    assert "--python-version=3.11" in options
    assert wheel("requests-2.32.3").pip_tag_options() == []
