"""How real tools and recipes lay out Lambda artifacts, redone here on real wheels.

Each function does what the named tool does to the files, no more:

- :func:`pip_target` is ``pip install --target DIR`` (SAM's dependency step, the AWS
  docs' ``--platform ... --only-binary=:all: --target`` recipe, Klayers' ``python/``),
  run by a real pip, offline, on the cached wheel files: pip writes the RECORD and
  compiles ``.pyc`` exactly as it does for users.
- :func:`slim` is serverless-python-requirements' ``slim: true`` (its default patterns
  ``**/*.py[c|o]``, ``**/__pycache__*``, ``**/*.dist-info*``, plus ``slimPatterns``;
  with ``slimPatternsAppendDefaults: false`` only the given patterns).
- :func:`chalice_vendor` copies ``vendor/`` into the package root, as Chalice does.
- :func:`zip_tree` is ``cd DIR && zip -r ../fn.zip .`` (or ``zip -r fn.zip DIR`` with a
  ``prefix``, the classic "zipped the folder" mistake).
- :func:`oci_image` is a container image whose ``/var/task`` holds a tree, written with
  the project's own OCI writer, its config's architecture and ``Cmd`` as given.
"""

from __future__ import annotations

import fnmatch
import json
import shutil
import subprocess
import zipfile
from typing import TYPE_CHECKING

import pytest

from sentiment_pipeline.packaging.oci.blobs import blob_source
from sentiment_pipeline.packaging.oci.image import derive_config
from sentiment_pipeline.packaging.oci.layer import build_layer, files_from_tree
from sentiment_pipeline.packaging.oci.layout import write_layout

if TYPE_CHECKING:
    from collections.abc import Sequence
    from pathlib import Path

SLIM_DEFAULTS = ("**/*.py[c|o]", "**/__pycache__*", "**/*.dist-info*")
"""serverless-python-requirements' default ``slimPatterns``."""


def pip_target(
    python: str,
    wheels: Sequence[Path],
    dest: Path,
    *,
    platform: Sequence[str] = (),
    python_version: str | None = None,
) -> Path:
    """``python -m pip install --no-deps --target dest`` of the wheel files, offline.

    With ``platform``, the AWS docs' cross-install: ``--platform ... --implementation cp
    --python-version ... --only-binary=:all:``. pip compiles ``.pyc`` with ``python``.
    """
    command = [
        python,
        "-m",
        "pip",
        "install",
        "--quiet",
        "--disable-pip-version-check",
        "--no-index",
        "--no-deps",
        "--target",
        str(dest),
    ]
    if platform:
        command += [f"--platform={p}" for p in platform]
        command += ["--implementation=cp", "--only-binary=:all:"]
        if python_version:
            command.append(f"--python-version={python_version}")
    done = subprocess.run(
        [*command, *map(str, wheels)], capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        raise RuntimeError(f"pip install --target failed: {done.stderr.strip()[-2000:]}")
    return dest


def _matches(relative: str, pattern: str) -> bool:
    # The plugin globs with `**/`; a pattern matches a path or any of its components.
    bare = pattern.removeprefix("**/")
    parts = relative.split("/")
    return fnmatch.fnmatch(relative, pattern) or any(
        fnmatch.fnmatch("/".join(parts[i:]), bare) for i in range(len(parts))
    )


def slim(root: Path, patterns: Sequence[str] = SLIM_DEFAULTS) -> Path:
    """Delete what ``slimPatterns`` match under ``root`` (files and whole directories)."""
    for path in sorted(root.rglob("*"), key=lambda p: len(p.parts), reverse=True):
        if not path.exists() and not path.is_symlink():
            continue
        relative = path.relative_to(root).as_posix()
        if any(_matches(relative, p) for p in patterns):
            if path.is_dir() and not path.is_symlink():
                shutil.rmtree(path)
            else:
                path.unlink()
    return root


def strip_shared_objects(root: Path) -> Path:
    """serverless-python-requirements' ``strip: true``: ``find -name '*.so' -exec strip``."""
    tool = shutil.which("strip")
    if tool is None:
        pytest.skip("this case needs binutils' strip (apt-get install binutils)")
    for path in sorted(root.rglob("*.so")):
        subprocess.run([tool, str(path)], check=True, capture_output=True)
    return root


def chalice_vendor(app: Path, vendor: Path, dest: Path) -> Path:
    """Chalice's deployment tree: the app's files, then ``vendor/``'s contents at the root."""
    shutil.copytree(app, dest)
    shutil.copytree(vendor, dest, dirs_exist_ok=True)
    return dest


def zip_tree(root: Path, out: Path, prefix: str = "") -> Path:
    """Zip ``root``'s files (sorted, deflated) under ``prefix``."""
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
        for path in sorted(root.rglob("*")):
            if path.is_file():
                zf.write(path, prefix + path.relative_to(root).as_posix())
    return out


def oci_image(tree: Path, layout: Path, *, architecture: str, cmd: str) -> str:
    """An OCI layout whose only layer puts ``tree`` at ``/var/task``; ``oci:LAYOUT:latest``."""
    layer = build_layer(
        files_from_tree(tree),
        layout.parent / f"{layout.name}-layers",
        mtime=0,
        skip_dirs=frozenset(),
    )
    base = {
        "architecture": architecture,
        "os": "linux",
        "config": {
            "Entrypoint": ["/lambda-entrypoint.sh"],
            "Env": ["LAMBDA_TASK_ROOT=/var/task", "LAMBDA_RUNTIME_DIR=/var/runtime"],
            "WorkingDir": "/var/task",
        },
        "rootfs": {"type": "layers", "diff_ids": []},
    }
    config = derive_config(
        base,
        cmd=cmd,
        diff_id=layer.diff_id,
        created="2024-01-01T00:00:00Z",
        history_comment="real-world corpus: /var/task",
    )
    write_layout(
        layout,
        tag="latest",
        config=json.dumps(config, sort_keys=True).encode(),
        layers=[layer.descriptor()],
        blobs=blob_source([layer]),
    )
    return f"oci:{layout.name}:latest"
