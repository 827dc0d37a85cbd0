"""Locks: resolved for the target by uv, kept in lambdas.lock, reused while inputs are unchanged."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from sentiment_pipeline.packaging.cache import WheelCache
from sentiment_pipeline.packaging.install.sdist import wheel_from_sdist
from sentiment_pipeline.packaging.lock import LockFile, ResolutionError, resolve
from sentiment_pipeline.packaging.targets import get_target

if TYPE_CHECKING:
    from pathlib import Path

PY313 = get_target("python3.13", "x86_64")


def test_resolution_picks_one_wheel_per_package_for_the_target() -> None:
    lock = resolve(["markupsafe==3.0.3"], PY313, key="lambdas.x")
    (wheel,) = lock.wheels
    assert wheel.filename.startswith("markupsafe-3.0.3-cp313-cp313-manylinux")
    assert len(wheel.sha256) == 64 and wheel.url.endswith(wheel.filename)
    arm = resolve(["markupsafe==3.0.3"], get_target("python3.13", "arm64"), key="lambdas.x")
    assert "aarch64" in arm.wheels[0].filename


def test_the_lock_file_round_trips_and_is_reused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    lockfile = LockFile(tmp_path / "lambdas.lock")
    lock = lockfile.get("lambdas.x", ["six==1.17.0"], PY313)
    lockfile.save()
    again = LockFile(tmp_path / "lambdas.lock")
    assert again.locks["lambdas.x"] == lock

    def no_resolver(*args: object, **kwargs: object) -> None:
        raise AssertionError("resolved again although nothing changed")

    monkeypatch.setattr("sentiment_pipeline.packaging.lock.resolve", no_resolver)
    assert again.get("lambdas.x", ["six==1.17.0"], PY313) == lock
    with pytest.raises(ResolutionError, match=r"has no entry for 'lambdas\.y'.*without --offline"):
        again.get("lambdas.y", ["six"], PY313, offline=True)


def test_offline_without_the_lock_file_says_it_does_not_exist_and_how_to_create_it(
    tmp_path: Path,
) -> None:
    lockfile = LockFile(tmp_path / "t20.lock")  # the lock of --manifest t20.toml
    with pytest.raises(ResolutionError) as caught:
        lockfile.get("lambdas.x", ["six"], PY313, offline=True)
    message = str(caught.value)
    assert f"{tmp_path / 't20.lock'} does not exist" in message
    assert "run the build once without --offline to resolve every artifact and write it" in message
    assert "missing" not in message


def test_offline_with_the_lock_file_but_not_the_entry_names_the_entry(tmp_path: Path) -> None:
    (tmp_path / "lambdas.lock").write_text("version = 1\n")
    with pytest.raises(ResolutionError) as caught:
        LockFile(tmp_path / "lambdas.lock").get("lambdas.x", ["six"], PY313, offline=True)
    message = str(caught.value)
    assert f"{tmp_path / 'lambdas.lock'} has no entry for 'lambdas.x'" in message
    assert "does not exist" not in message and "without --offline to add it" in message


def test_a_damaged_lock_file_says_how_to_recover(tmp_path: Path) -> None:
    (tmp_path / "lambdas.lock").write_text("[[lock]]\nkey = 1\n")
    with pytest.raises(ResolutionError, match="delete it to resolve every artifact again"):
        LockFile(tmp_path / "lambdas.lock")


def test_a_pure_source_archive_is_locked_and_built_into_a_wheel(tmp_path: Path) -> None:
    lock = resolve(["docopt==0.6.2"], PY313, key="lambdas.x")
    (entry,) = lock.wheels
    assert entry.sdist and entry.filename == "docopt-0.6.2.tar.gz"
    cache = WheelCache(tmp_path / "cache")
    (archive,) = cache.fetch(lock.wheels)
    assert archive.name == "docopt-0.6.2.tar.gz"
    wheel = wheel_from_sdist(entry, archive, cache, offline=False)
    assert wheel.name == "docopt-0.6.2-py2.py3-none-any.whl"
    (again,) = cache.fetch(lock.wheels, offline=True)
    assert wheel_from_sdist(entry, again, cache, offline=True) == wheel  # built once, reused


def test_a_path_dependency_is_locked_as_its_folder_relative_to_the_manifest(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tests.support.uvprojects import write_library

    lib = write_library(tmp_path / "libs" / "mylib")
    lockfile = LockFile(tmp_path / "lambdas.lock")
    requirements = ["mylib @ file:libs/mylib", "idna==3.10 ; python_full_version < '3.12'"]
    lock = lockfile.get("lambdas.x", requirements, PY313)
    lockfile.save()
    entries = {w.name: w for w in lock.wheels}
    # Its own dependency comes with it; the marker is evaluated for python3.13.
    assert set(entries) == {"mylib", "six"}
    assert entries["mylib"].directory == "libs/mylib" and entries["mylib"].version == "0.1.0"
    assert entries["mylib"].sha256 == "" and str(tmp_path) not in lockfile.path.read_text()
    assert LockFile(tmp_path / "lambdas.lock").locks["lambdas.x"] == lock

    def no_resolver(*args: object, **kwargs: object) -> None:
        raise AssertionError("resolved again although its metadata did not change")

    monkeypatch.setattr("sentiment_pipeline.packaging.lock.resolve", no_resolver)
    (lib / "src" / "mylib" / "__init__.py").write_text("X = 1\n")  # code: same lock
    assert LockFile(tmp_path / "lambdas.lock").get("lambdas.x", requirements, PY313) == lock
    (lib / "pyproject.toml").write_text(
        (lib / "pyproject.toml").read_text().replace('["six"]', '["six", "idna"]')
    )
    with pytest.raises(ResolutionError, match="is out of date"):
        LockFile(tmp_path / "lambdas.lock").get("lambdas.x", requirements, PY313, offline=True)


def test_a_path_dependency_that_cannot_build_says_so_not_to_pin_wheels(tmp_path: Path) -> None:
    from tests.support.uvprojects import write_library

    write_library(tmp_path / "libs" / "mylib")
    (tmp_path / "svc").mkdir()
    # A relative file: URL in a package's own metadata: no tool can read it back.
    (tmp_path / "svc" / "pyproject.toml").write_text(
        '[project]\nname = "svc"\nversion = "1"\ndependencies = ["mylib @ file:../libs/mylib"]\n'
        '[build-system]\nrequires = ["hatchling"]\nbuild-backend = "hatchling.build"\n'
        "[tool.hatch.metadata]\nallow-direct-references = true\n"
    )
    with pytest.raises(ResolutionError) as caught:
        resolve(["svc @ file:svc"], PY313, key="lambdas.x", root=tmp_path)
    message = str(caught.value)
    assert "Fix: make the path dependency build" in message
    assert "[tool.uv.sources]" in message and "pin versions" not in message
