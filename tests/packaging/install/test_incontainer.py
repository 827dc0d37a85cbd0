"""The in-container program on every catalog Python this machine has (3.9 and later).

The program is what a build image's ``python3`` runs; here each interpreter found
on this machine runs it the same way (``python -I -c <file> ...``), on wheels and
a source archive made by the test, offline. The container around it is covered
in ``test_containersteps.py``.
"""

from __future__ import annotations

import ast
import base64
import hashlib
import stat
import subprocess
import sys
import textwrap
import zipfile
from typing import TYPE_CHECKING

import pytest

from sentiment_pipeline.packaging.install.containersteps import PROGRAM, WRONG_PYTHON
from sentiment_pipeline.packaging.targets import get_target, runtimes
from sentiment_pipeline.packaging.verify.interpreters import find_interpreter
from tests.support.synth import sdist

if TYPE_CHECKING:
    from pathlib import Path

VERSIONS = sorted({runtime.removeprefix("python") for runtime in runtimes()})


@pytest.fixture(params=VERSIONS, ids=[f"python{v}" for v in VERSIONS])
def python(request: pytest.FixtureRequest) -> tuple[str, str]:
    version: str = request.param
    found = find_interpreter(get_target(f"python{version}", "x86_64"))
    if found is None:
        pytest.skip(f"no python{version} on this machine")
    if subprocess.run([found, "-I", "-c", "import pip"], capture_output=True).returncode:
        pytest.skip(f"{found} has no pip (a build image's python3 has)")
    return version, found


def run(interpreter: str, *arguments: str | Path) -> subprocess.CompletedProcess[str]:
    source = PROGRAM.read_text("utf-8")
    return subprocess.run(
        [interpreter, "-I", "-c", source, *map(str, arguments)],
        capture_output=True,
        text=True,
        env={"PYTHONHASHSEED": "0", "PATH": "/usr/bin:/bin", "HOME": "/tmp"},
        timeout=300,
        check=False,
    )


def record_hash(data: bytes) -> str:
    return "sha256=" + base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()


def make_wheel(directory: Path, files: dict[str, str]) -> Path:
    """A pure wheel ``demo 1.0`` holding ``files`` (name -> source)."""
    members = {name: text.encode() for name, text in files.items()}
    members["demo-1.0.dist-info/METADATA"] = b"Metadata-Version: 2.1\nName: demo\nVersion: 1.0\n"
    members["demo-1.0.dist-info/WHEEL"] = (
        b"Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: true\nTag: py3-none-any\n"
    )
    record = [f"{name},{record_hash(data)},{len(data)}" for name, data in members.items()]
    record.append("demo-1.0.dist-info/RECORD,,")
    members["demo-1.0.dist-info/RECORD"] = ("\n".join(record) + "\n").encode()
    wheel = directory / "demo-1.0-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w") as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return wheel


def test_the_program_is_python_39_syntax() -> None:
    ast.parse(PROGRAM.read_text("utf-8"), feature_version=(3, 9))


def test_install_compiles_every_file_for_lambdas_paths(
    python: tuple[str, str], tmp_path: Path
) -> None:
    version, interpreter = python
    wheel = make_wheel(
        tmp_path,
        {"demo/__init__.py": "VALUE = 1\n", "demo/broken.py": "def (:\n"},
    )
    out = tmp_path / "out"
    out.mkdir()
    (out / "handler.py").write_text("import demo\n")
    (out / "handler.py").chmod(0o600)

    done = run(interpreter, "install", version, "/var/task", out, wheel)
    assert done.returncode == 0, done.stderr

    tag = f"cpython-{version.replace('.', '')}"
    assert (out / "demo" / "__init__.py").read_text() == "VALUE = 1\n"
    compiled = {
        "/var/task/handler.py": out / "__pycache__" / f"handler.{tag}.pyc",  # was already there
        "/var/task/demo/__init__.py": out / "demo" / "__pycache__" / f"__init__.{tag}.pyc",
    }
    for shown, pyc in compiled.items():
        data = pyc.read_bytes()
        assert int.from_bytes(data[4:8], "little") == 0b01, pyc  # hash-based, unchecked
        assert shown.encode() in data and str(out).encode() not in data  # Lambda's paths
    # Like pip, a file that does not compile ships as it is, without bytecode.
    assert (out / "demo" / "broken.py").is_file()
    assert not list((out / "demo" / "__pycache__").glob("broken.*"))
    # The wheel's bytecode is listed in its RECORD with hash and size, as pip lists it.
    bytecode = compiled["/var/task/demo/__init__.py"].read_bytes()
    record = (out / "demo-1.0.dist-info" / "RECORD").read_text().splitlines()
    assert f"demo/__pycache__/__init__.{tag}.pyc,{record_hash(bytecode)},{len(bytecode)}" in record
    for path in out.rglob("*"):
        assert path.stat().st_mode & stat.S_IROTH, path  # world-readable, as Lambda needs


def test_an_interpreter_of_another_version_exits_with_the_status_the_host_reads(
    python: tuple[str, str], tmp_path: Path
) -> None:
    version, interpreter = python
    other = "3.8"  # not in the catalog: never the interpreter's own version
    steps: list[list[str | Path]] = [
        ["install", other, "/var/task", tmp_path],
        ["build-wheel", other, "x", tmp_path],
    ]
    for step in steps:
        done = run(interpreter, *step)
        assert done.returncode == WRONG_PYTHON
        assert done.stderr == f"python3 in this image is Python {version}, not {other}\n"
    assert list(tmp_path.iterdir()) == []


BACKEND = textwrap.dedent('''\
    """A PEP 517 backend of the standard library only: the build needs no download."""
    import base64, hashlib, os, zipfile

    def _hash(data):
        digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=")
        return "sha256=" + digest.decode()

    def build_wheel(wheel_directory, config_settings=None, metadata_directory=None):
        members = {
            "tiny.py": b"ANSWER = 42\\n",
            "tiny-1.0.dist-info/METADATA": b"Metadata-Version: 2.1\\nName: tiny\\nVersion: 1.0\\n",
            "tiny-1.0.dist-info/WHEEL": b"Wheel-Version: 1.0\\nGenerator: t\\n"
            b"Root-Is-Purelib: true\\nTag: py3-none-any\\n",
        }
        record = ["%s,%s,%d" % (n, _hash(d), len(d)) for n, d in members.items()]
        record.append("tiny-1.0.dist-info/RECORD,,")
        members["tiny-1.0.dist-info/RECORD"] = ("\\n".join(record) + "\\n").encode()
        name = "tiny-1.0-py3-none-any.whl"
        with zipfile.ZipFile(os.path.join(wheel_directory, name), "w") as zf:
            for member, data in members.items():
                zf.writestr(member, data)
        return name
    ''')


def test_build_wheel_builds_a_source_archive_offline(
    python: tuple[str, str], tmp_path: Path
) -> None:
    version, interpreter = python
    mounted = tmp_path / "wheels"
    mounted.mkdir()
    archive = sdist(
        mounted,
        "tiny",
        "1.0",
        {
            "pyproject.toml": '[build-system]\nrequires = []\nbuild-backend = "backend"\n'
            'backend-path = ["."]\n',
            "backend.py": BACKEND,
            "PKG-INFO": "Metadata-Version: 2.1\nName: tiny\nVersion: 1.0\n",
        },
    )
    out = tmp_path / "out"
    out.mkdir()

    done = run(interpreter, "build-wheel", version, archive, out)
    assert done.returncode == 0, done.stdout + done.stderr
    (wheel,) = out.glob("*.whl")
    assert wheel.name == "tiny-1.0-py3-none-any.whl"
    with zipfile.ZipFile(wheel) as zf:
        assert zf.read("tiny.py") == b"ANSWER = 42\n"


def test_install_writes_the_same_bytecode_every_time(
    python: tuple[str, str], tmp_path: Path
) -> None:
    # Before 3.11 marshal writes frozenset constants in hash order: the program runs with
    # -I (PYTHONHASHSEED ignored), so its compile step must run where the seed holds.
    version, interpreter = python
    words = ", ".join(repr(f"word{i}") for i in range(40))
    wheel = make_wheel(tmp_path, {"demo/__init__.py": f"def f(x):\n    return x in {{{words}}}\n"})
    compiled = []
    for n in (1, 2):
        out = tmp_path / f"out{n}"
        proc = run(interpreter, "install", version, "/var/task", out, wheel)
        assert proc.returncode == 0, proc.stderr
        tag = f"cpython-{version.replace('.', '')}"
        compiled.append((out / "demo" / "__pycache__" / f"__init__.{tag}.pyc").read_bytes())
    assert compiled[0] == compiled[1]


def test_an_unknown_step_is_refused() -> None:
    done = run(sys.executable, "uninstall", "{}.{}".format(*sys.version_info[:2]))
    assert done.returncode == 2
    assert "unknown step 'uninstall': install or build-wheel" in done.stderr
