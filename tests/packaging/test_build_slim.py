"""``build`` with ``slim``, ``exclude`` and ``s3-upload``, as users run it: generated
projects in temp dirs, the CLI in a subprocess from another directory with relative
paths, real wheels (``--engine none``: a local cross-install)."""

from __future__ import annotations

import json
import os
import platform
import shutil
import subprocess
import sys
import zipfile
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from pathlib import Path

DATA_HANDLER = """\
import numpy
import pandas


def lambda_handler(event, context):
    frame = pandas.DataFrame({"a": numpy.arange(4)})
    return {"total": int(frame["a"].sum())}
"""
NUMPY_HANDLER = """\
import numpy


def lambda_handler(event, context):
    return int(numpy.ones(2).sum())
"""
DATA_REQUIREMENTS = ["numpy==2.1.3", "pandas==2.2.3"]


def project(
    root: Path,
    lambda_keys: str = "",
    *,
    target: tuple[str, str] = ("python3.12", "arm64"),
    sources: str = "app/handler.py",
    files: Any = (),
) -> None:
    """A project under ``root``: ``app/handler.py`` (and ``files``) and one Lambda, ``data``,
    whose sources are ``sources`` (the handler file alone, at the root, or ``app``)."""
    handler = "handler.lambda_handler" if sources.endswith(".py") else "app.handler.lambda_handler"
    (root / "app").mkdir(parents=True)
    (root / "app" / "handler.py").write_text(DATA_HANDLER)
    for name, content in files:
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            (root / name).write_bytes(content)
        else:
            (root / name).write_text(content)
    (root / "lambdas.toml").write_text(
        f'[defaults]\nruntime = "{target[0]}"\narchitecture = "{target[1]}"\n\n'
        f'[lambdas.data]\nhandler = "{handler}"\nsources = ["{sources}"]\n' + lambda_keys
    )


def build(cwd: Path, *args: str) -> tuple[subprocess.CompletedProcess[str], dict[str, Any]]:
    """``sentiment-pipeline build`` from ``cwd`` with relative paths; the process and
    the artifact's entry of report.json (empty when none was written)."""
    out = next(a.removeprefix("--out=") for a in args if a.startswith("--out="))
    done = subprocess.run(
        [sys.executable, "-m", "sentiment_pipeline", "build", "--engine", "none", *args],
        capture_output=True,
        text=True,
        check=False,
        cwd=cwd,
    )
    report = cwd / out / "zip-in-docker" / "report.json"
    if not report.exists():
        return done, {}
    (entry,) = json.loads(report.read_text())["artifacts"]
    return done, entry


def test_slim_makes_numpy_and_pandas_for_python312_arm64_a_quarter_smaller_still_verified(
    tmp_path: Path,
) -> None:
    project(tmp_path / "proj", f"requirements = {json.dumps(DATA_REQUIREMENTS)}\n")
    # Deployed through S3: whole, with bytecode compiled, the zip is over 50 MiB.
    manifest = "--manifest=proj/lambdas.toml"
    full_run, full = build(tmp_path, manifest, "--out=full", "--s3-upload")
    slim_run, slim = build(tmp_path, manifest, "--out=slim", "--slim", "--s3-upload")
    assert full_run.returncode == 0, full_run.stdout + full_run.stderr
    assert slim_run.returncode == 0, slim_run.stdout + slim_run.stderr
    assert full["ok"] and slim["ok"] and slim["slim"] == "slim" and full["slim"] == ""
    smaller = 1 - slim["unzipped"] / full["unzipped"]
    print(
        f"\nnumpy 2.1.3 + pandas 2.2.3, python3.12 arm64: {full['unzipped'] / 2**20:.1f} MiB "
        f"-> {slim['unzipped'] / 2**20:.1f} MiB unzipped with slim ({smaller:.1%} smaller); "
        f"zipped {full['zipped'] / 2**20:.1f} -> {slim['zipped'] / 2**20:.1f} MiB"
    )
    assert smaller >= 0.25
    sizes = {d["name"]: d for d in slim["distributions"]}
    assert [d["name"] for d in slim["distributions"]][:2] == ["numpy", "pandas"]
    assert sizes["pandas"]["saved"] > 20 * 2**20 and sizes["numpy"]["removed"] > 300
    assert sum(d["saved"] for d in slim["distributions"]) > 0.25 * full["unzipped"]
    # The table: sizes in MiB, the largest distributions and what slim saved.
    assert f"{slim['unzipped'] / 2**20:.1f} MiB" in slim_run.stdout
    assert "data: largest: numpy " in slim_run.stdout and "; slim saved " in slim_run.stdout
    with zipfile.ZipFile(tmp_path / "slim" / "zip-in-docker" / "data.zip") as zf:
        names = set(zf.namelist())
        record = zf.read("pandas-2.2.3.dist-info/RECORD").decode()
    assert "numpy/testing/__init__.py" in names and "handler.py" in names
    assert not any("/tests/" in n or n.endswith((".pyi", ".pyx", ".h")) for n in names)
    assert "pandas/tests/" not in record  # RECORD rewritten: verify stayed exact
    # Deterministic: the same inputs, the same bytes, and a cache key of their own.
    again_run, again = build(tmp_path, manifest, "--out=slim-again", "--slim", "--s3-upload")
    assert again_run.returncode == 0 and again["sha256"] == slim["sha256"]
    assert again["key"] == slim["key"] != full["key"]


@pytest.mark.skipif(shutil.which("python3.11") is None, reason="no python3.11 for the import")
def test_slimmed_numpy_and_pandas_import_and_compute_with_python311_x86_64(
    tmp_path: Path,
) -> None:
    project(
        tmp_path / "proj",
        f"requirements = {json.dumps(DATA_REQUIREMENTS)}\nslim = true\n",
        target=("python3.11", "x86_64"),
    )
    done, entry = build(tmp_path, "--manifest=proj/lambdas.toml", "--out=dist")
    assert done.returncode == 0, done.stdout + done.stderr
    assert entry["ok"] and entry["slim"] == "slim" and entry["architecture"] == "x86_64"
    assert "imported handler.lambda_handler" in entry["dynamic"]
    tree = tmp_path / "task"
    with zipfile.ZipFile(tmp_path / "dist" / "zip-in-docker" / "data.zip") as zf:
        zf.extractall(tree)
    script = (
        "import numpy, numpy.testing, pandas, pandas.testing, handler\n"
        "numpy.testing.assert_allclose(numpy.linalg.inv(numpy.eye(3)), numpy.eye(3))\n"
        "frame = pandas.DataFrame({'a': [1, 2], 'b': ['x', 'y']})\n"
        "pandas.testing.assert_frame_equal(frame, frame.copy())\n"
        "print(handler.lambda_handler({}, None), frame.groupby('b').sum().to_dict())\n"
    )
    ran = subprocess.run(
        ["python3.11", "-I", "-c", f"import sys; sys.path.insert(0, {str(tree)!r})\n{script}"],
        capture_output=True,
        text=True,
        check=False,
        cwd=tmp_path,
    )
    assert ran.returncode == 0, ran.stderr
    assert ran.stdout.strip() == "{'total': 6} {'a': {'x': 1, 'y': 2}}"


def test_exclude_applies_to_sources_only_and_no_longer_breaks_numpy(tmp_path: Path) -> None:
    # The README's own example used to remove numpy's tests: 1,636 missing-file lines.
    project(
        tmp_path / "proj",
        'requirements = ["numpy==2.1.3"]\nexclude = ["**/tests/**"]\n',
        sources="app",
        files=[
            ("app/handler.py", NUMPY_HANDLER),
            ("app/tests/test_handler.py", "def test_x(): ...\n"),
        ],
    )
    done, entry = build(tmp_path, "--manifest=proj/lambdas.toml", "--out=dist")
    assert done.returncode == 0, done.stdout + done.stderr
    assert entry["ok"] and entry["problems"] == []
    with zipfile.ZipFile(tmp_path / "dist" / "zip-in-docker" / "data.zip") as zf:
        names = set(zf.namelist())
    assert "app/handler.py" in names and "app/tests/test_handler.py" not in names
    assert any(n.startswith("numpy/_core/tests/") for n in names)  # the dependency is whole
    (note,) = [n for n in entry["notes"] if n.startswith("exclude matched")]
    assert "they were kept" in note and "slim = true" in note


def low_entropy(size: int) -> bytes:
    """Bytes that deflate about 35:1, fast: big unzipped, neither a zip bomb (250:1) nor a
    big zip."""
    return os.urandom(size).translate(bytes(1 if i < 4 else 0 for i in range(256)))


@pytest.fixture(scope="module")
def incompressible() -> bytes:
    return os.urandom(52 * 2**20)


def test_a_zip_over_50_mib_is_written_with_s3_upload_and_says_how_to_deploy_it(
    tmp_path: Path, incompressible: bytes
) -> None:
    project(tmp_path / "proj", sources="app", files=[("app/model.bin", incompressible)])
    manifest = tmp_path / "proj" / "lambdas.toml"
    (tmp_path / "proj" / "app" / "handler.py").write_text(
        "def lambda_handler(event, context):\n    return 1\n"
    )
    refused, entry = build(tmp_path, "--manifest=proj/lambdas.toml", "--out=dist")
    assert refused.returncode == 1 and not entry["ok"]
    (problem,) = entry["problems"]
    assert problem["code"] == "size-limit" and "build --s3-upload" in problem["message"]
    assert not (tmp_path / "dist" / "zip-in-docker" / "data.zip").exists()

    done, entry = build(tmp_path, "--manifest=proj/lambdas.toml", "--out=dist", "--s3-upload")
    assert done.returncode == 0, done.stdout + done.stderr
    written = tmp_path / "dist" / "zip-in-docker" / "data.zip"
    assert entry["ok"] and written.stat().st_size > 50 * 2**20
    (note,) = [n for n in entry["notes"] if "deploy through S3" in n]
    assert f"aws s3 cp {written} s3://BUCKET/data.zip" in note
    assert "aws lambda update-function-code --function-name FUNCTION --s3-bucket BUCKET" in note
    assert "over the 50.0 MiB of a direct upload" in note

    # The manifest says the same with s3-upload = true: the same artifact, the same key
    # (the refused build had another one).
    manifest.write_text(manifest.read_text() + "s3-upload = true\n")
    again, entry_again = build(tmp_path, "--manifest=proj/lambdas.toml", "--out=dist2")
    assert again.returncode == 0 and entry_again["ok"] and not entry_again["cache_hit"]
    assert entry_again["key"] == entry["key"] and entry_again["sha256"] == entry["sha256"]


def test_over_250_mib_unzipped_names_the_largest_distributions_and_suggests_slim(
    tmp_path: Path,
) -> None:
    project(
        tmp_path / "proj",
        'requirements = ["six==1.17.0"]\n',
        sources="app",
        files=[("app/data.bin", low_entropy(251 * 2**20))],
    )
    (tmp_path / "proj" / "app" / "handler.py").write_text(
        "import six\n\n\ndef lambda_handler(event, context):\n    return six.PY3\n"
    )
    done, entry = build(tmp_path, "--manifest=proj/lambdas.toml", "--out=dist", "--s3-upload")
    assert done.returncode == 1 and not entry["ok"]
    (problem,) = entry["problems"]
    assert problem["code"] == "size-limit" and problem["path"] == "unzipped"
    assert (
        "slim = true" in problem["message"] and 'backend = "container-image"' in problem["message"]
    )
    assert "Largest distributions of data: six " in problem["message"]
    assert problem["message"].endswith(
        'try slim = true (or build --slim) or backend = "container-image" (10 GB).'
    )
    assert "data: [size-limit]" in done.stdout and "Largest distributions of data: six" in (
        done.stdout
    )


def test_strip_says_which_files_this_host_cannot_strip(tmp_path: Path) -> None:
    project(tmp_path / "proj", 'requirements = ["numpy==2.1.3"]\n', sources="app")
    (tmp_path / "proj" / "app" / "handler.py").write_text(NUMPY_HANDLER)
    done, entry = build(tmp_path, "--manifest=proj/lambdas.toml", "--out=dist", "--strip")
    assert done.returncode == 0, done.stdout + done.stderr
    assert entry["ok"] and entry["slim"] == "slim+strip"
    assert "slim+strip saved" in done.stdout
    if platform.machine() != "aarch64":
        # aarch64 ELF files on another host: shipped as they are, and said so.
        (note,) = [n for n in entry["notes"] if "not stripped" in n]
        assert note.startswith("numpy: ") and "ELF file(s) for another machine" in note


LAYER_ARGS = ("--manifest=proj/lambdas.toml", "--out=dist", "--backend=layer")


def test_a_layer_is_slimmed_under_python_with_its_record(tmp_path: Path) -> None:
    project(tmp_path / "proj", 'requirements = ["numpy==2.1.3"]\nlayers = ["sci"]\n')
    (tmp_path / "proj" / "app" / "handler.py").write_text(NUMPY_HANDLER)
    manifest = tmp_path / "proj" / "lambdas.toml"
    manifest.write_text(
        manifest.read_text().replace(
            "[lambdas.data]",
            '[layers.sci]\nrequirements = ["numpy==2.1.3"]\nslim = true\n\n[lambdas.data]',
        )
    )
    done = subprocess.run(
        [sys.executable, "-m", "sentiment_pipeline", "build", "--engine=none", *LAYER_ARGS],
        capture_output=True,
        text=True,
        check=False,
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    report = json.loads((tmp_path / "dist" / "layer" / "report.json").read_text())
    layer, function = report["artifacts"]
    assert layer["kind"] == "layer" and layer["slim"] == "slim" and function["slim"] == ""
    assert layer["distributions"][0]["name"] == "numpy" and layer["distributions"][0]["saved"]
    with zipfile.ZipFile(tmp_path / "dist" / "layer" / "layers" / "sci.zip") as zf:
        names = set(zf.namelist())
        record = zf.read("python/numpy-2.1.3.dist-info/RECORD").decode()
    assert "python/numpy/testing/__init__.py" in names
    assert not any("/tests/" in n for n in names) and "numpy/_core/tests/" not in record
    assert "sci: largest: numpy " in done.stdout and "slim saved" in done.stdout
