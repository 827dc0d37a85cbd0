"""Source archives built into wheels: pure ones with uv, native ones in the build image.

The native archive here is a real, tiny C extension made by the test; the image is
the Lambda-like python3.13 image with gcc and Python's headers (a SAM-like build image).
"""

from __future__ import annotations

import base64
import hashlib
import io
import tarfile
import textwrap
import zipfile
from typing import TYPE_CHECKING

import pytest

from sentiment_pipeline.packaging.cache import WheelCache, sha256_file
from sentiment_pipeline.packaging.install import install_wheels
from sentiment_pipeline.packaging.install.engines import Buildah
from sentiment_pipeline.packaging.install.sdist import (
    NativeBuilder,
    SdistError,
    build_requirements,
    built_wheels,
    retag,
    wheel_from_sdist,
)
from sentiment_pipeline.packaging.lock import LockedWheel
from sentiment_pipeline.packaging.options import VerifyOptions
from sentiment_pipeline.packaging.targets import get_target
from sentiment_pipeline.packaging.verify import verify
from tests.support.synth import sdist

if TYPE_CHECKING:
    from pathlib import Path

TARGET = get_target("python3.13", "x86_64")

SOURCES = {
    "pyproject.toml": textwrap.dedent("""\
        [build-system]
        requires = ["setuptools>=68"]
        build-backend = "setuptools.build_meta"
        """),
    "setup.py": textwrap.dedent("""\
        from setuptools import Extension, setup
        setup(name="fastsum", version="1.0", ext_modules=[Extension("fastsum", ["fastsum.c"])])
        """),
    "fastsum.c": textwrap.dedent("""\
        #define PY_SSIZE_T_CLEAN
        #include <Python.h>
        static PyObject *add(PyObject *self, PyObject *args) {
            long a, b;
            if (!PyArg_ParseTuple(args, "ll", &a, &b)) return NULL;
            return PyLong_FromLong(a + b);
        }
        static PyMethodDef methods[] = {{"add", add, METH_VARARGS, "a + b"}, {NULL, NULL, 0, NULL}};
        static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "fastsum", NULL, -1, methods};
        PyMODINIT_FUNC PyInit_fastsum(void) { return PyModule_Create(&module); }
        """),
}


def make_sdist(directory: Path) -> Path:
    return sdist(directory, "fastsum", "1.0", SOURCES)


def locked(archive: Path) -> LockedWheel:
    digest = hashlib.sha256(archive.read_bytes()).hexdigest()
    return LockedWheel("fastsum", "1.0", archive.name, archive.as_uri(), digest, sdist=True)


def test_build_requirements_come_from_pyproject_or_pips_default(tmp_path: Path) -> None:
    assert build_requirements(make_sdist(tmp_path)) == ["setuptools>=68"]
    bare = tmp_path / "bare-1.0.tar.gz"
    with tarfile.open(bare, "w:gz") as tar:
        info = tarfile.TarInfo("bare-1.0/setup.py")
        tar.addfile(info, io.BytesIO(b""))
    assert build_requirements(bare) == ["setuptools>=40.8.0"]


@pytest.mark.network
def test_a_native_sdist_builds_in_the_build_image_and_verifies_for_the_runtime(
    native_build_image: str, tmp_path: Path
) -> None:
    archive = make_sdist(tmp_path)
    calls: list[Path] = []

    class Counting(NativeBuilder):
        def __call__(self, archive: Path, work: Path) -> Path:
            calls.append(archive)
            return super().__call__(archive, work)

    builder = Counting(Buildah(), native_build_image, TARGET)
    cache = WheelCache(tmp_path / "cache")
    wheel = wheel_from_sdist(locked(archive), archive, cache, offline=False, native=builder)
    assert wheel.name == "fastsum-1.0-cp313-cp313-manylinux_2_34_x86_64.whl"
    with zipfile.ZipFile(wheel) as zf:
        assert (
            "Tag: cp313-cp313-manylinux_2_34_x86_64"
            in zf.read("fastsum-1.0.dist-info/WHEEL").decode()
        )
        assert "fastsum.cpython-313-x86_64-linux-gnu.so" in zf.namelist()
    # Cached: the same wheel, without building again.
    again = wheel_from_sdist(locked(archive), archive, cache, offline=False, native=builder)
    assert again == wheel and len(calls) == 1

    # Installed as Lambda would have it, it passes the verifier for python3.13 (RECORD
    # hashes, wheel tags, ELF checks) and imports when this machine has python3.13.
    task = tmp_path / "task"
    install_wheels([wheel], task, python=TARGET.python)
    (task / "handler.py").write_text(
        "import fastsum\n\ndef lambda_handler(event, context):\n    return fastsum.add(2, 3)\n"
    )
    report = verify(task, TARGET, VerifyOptions(handler="handler.lambda_handler"))
    assert report.ok, report.render()
    assert "imported handler.lambda_handler" in report.checked.dynamic.summary or (
        "skipped" in report.checked.dynamic.summary
    )


def test_without_an_engine_a_native_sdist_is_refused_with_the_options(tmp_path: Path) -> None:
    archive = make_sdist(tmp_path)
    with pytest.raises(SdistError, match="fastsum"):
        wheel_from_sdist(locked(archive), archive, WheelCache(tmp_path / "cache"), offline=False)


def test_a_native_legacy_sdist_is_refused_with_the_options(tmp_path: Path) -> None:
    src = tmp_path / "nativepkg-1.0"
    src.mkdir()
    (src / "setup.py").write_text(
        textwrap.dedent("""\
        from setuptools import Extension, setup
        setup(name="nativepkg", version="1.0", ext_modules=[Extension("nativepkg", ["m.c"])])
        """)
    )
    (src / "m.c").write_text(
        textwrap.dedent("""\
        #include <Python.h>
        static struct PyModuleDef m = {PyModuleDef_HEAD_INIT, "nativepkg", 0, -1, 0};
        PyMODINIT_FUNC PyInit_nativepkg(void) { return PyModule_Create(&m); }
        """)
    )
    archive = tmp_path / "nativepkg-1.0.tar.gz"
    with tarfile.open(archive, "w:gz") as tar:
        tar.add(src, arcname="nativepkg-1.0")
    entry = LockedWheel(
        "nativepkg", "1.0", archive.name, "file://local", sha256_file(archive), sdist=True
    )
    with pytest.raises(SdistError, match=r"builds native code.*pin a nativepkg version"):
        wheel_from_sdist(entry, archive, WheelCache(tmp_path / "cache"), offline=False)


PURE = {
    "pyproject.toml": textwrap.dedent("""\
        [build-system]
        requires = ["setuptools>=68"]
        build-backend = "setuptools.build_meta"

        [project]
        name = "purepkg"
        version = "1.0"
        """),
    "purepkg.py": "ANSWER = 42\n",
}


def make_pure_sdist(directory: Path) -> Path:
    return sdist(directory, "purepkg", "1.0", PURE)


@pytest.mark.network
def test_a_pure_sdist_is_built_once_and_kept_in_the_cache(tmp_path: Path) -> None:
    archive = make_pure_sdist(tmp_path)
    entry = LockedWheel(
        "purepkg", "1.0", archive.name, archive.as_uri(), sha256_file(archive), sdist=True
    )
    cache = WheelCache(tmp_path / "cache")
    wheel = wheel_from_sdist(entry, archive, cache, offline=False)
    assert wheel.name == "purepkg-1.0-py3-none-any.whl"
    assert wheel.is_relative_to(tmp_path / "cache")
    with zipfile.ZipFile(wheel) as zf:
        assert zf.read("purepkg.py") == b"ANSWER = 42\n"
    archive.unlink()  # kept: the archive is not read again
    assert wheel_from_sdist(entry, archive, cache, offline=True) == wheel


def test_only_source_archives_are_built(tmp_path: Path) -> None:
    wheel_entry = LockedWheel("six", "1.17.0", "six-1.17.0-py2.py3-none-any.whl", "u", "0" * 64)
    given = tmp_path / wheel_entry.filename
    assert built_wheels([wheel_entry], [given], WheelCache(tmp_path), offline=True) == [given]


def test_retag_rewrites_tags_and_the_record_line(tmp_path: Path) -> None:
    source = tmp_path / "demo-1.0-cp313-cp313-linux_x86_64.whl"
    wheel_text = "Wheel-Version: 1.0\nRoot-Is-Purelib: false\nTag: cp313-cp313-linux_x86_64\n"
    with zipfile.ZipFile(source, "w") as zf:
        zf.writestr("demo.py", "x = 1\n")
        zf.writestr("demo-1.0.dist-info/WHEEL", wheel_text)
        zf.writestr(
            "demo-1.0.dist-info/RECORD",
            "demo.py,sha256=x,6\ndemo-1.0.dist-info/WHEEL,sha256=old,10\n"
            "demo-1.0.dist-info/RECORD,,\n",
        )
    out = retag(source, "manylinux_2_34_x86_64", tmp_path)
    assert out.name == "demo-1.0-cp313-cp313-manylinux_2_34_x86_64.whl"
    with zipfile.ZipFile(out) as zf:
        wheel = zf.read("demo-1.0.dist-info/WHEEL")
        record = zf.read("demo-1.0.dist-info/RECORD").decode()
        assert b"Tag: cp313-cp313-manylinux_2_34_x86_64" in wheel
        assert zf.read("demo.py") == b"x = 1\n"
    expected = base64.urlsafe_b64encode(hashlib.sha256(wheel).digest()).rstrip(b"=").decode()
    assert f"demo-1.0.dist-info/WHEEL,sha256={expected},{len(wheel)}" in record


def test_the_test_build_image_is_a_family_of_its_own() -> None:
    # Replacing a stale image of one variant must never remove the other variant's image.
    from tests.support.build_image import image_name

    base, build = image_name("3.13"), image_name("3.13", ("gcc", "python3-dev"))
    assert base.rsplit("-", 1)[0] != build.rsplit("-", 1)[0]
    assert base.rsplit("-", 1)[0].endswith(":3.13")
