"""Path dependencies: requirements that name a local source tree instead of an index.

A monorepo's shared library is written ``mylib @ file:../libs/mylib`` (in ``requirements``,
a requirements file or a pyproject's dependencies), or comes from a uv workspace. Inside
the builder every such requirement has one spelling, ``NAME @ file:PATH`` with ``PATH``
relative to the manifest's folder in POSIX form, so locks and cache keys are the same on
every clone:

>>> from pathlib import Path
>>> directory_of("mylib @ file:libs/mylib")
'libs/mylib'
>>> directory_of("six==1.17.0") is None
True
>>> absolute("mylib @ file:libs/mylib", Path("/repo"))  # what the resolver is given
'mylib @ file:///repo/libs/mylib'

:func:`rebase` turns what a file wrote (``mylib @ file:../libs/mylib`` in
``app/pyproject.toml``) into that spelling (``mylib @ file:libs/mylib``).

Pure functions and file hashing only: the lock resolves these requirements
(:mod:`.lock`), and :mod:`.install.localpackages` builds them into wheels.
"""

from __future__ import annotations

import hashlib
import os
import re
import tomllib
import urllib.parse
from pathlib import Path

from sentiment_pipeline.errors import PipelineError

__all__ = [
    "PathDependencyError",
    "absolute",
    "directory_of",
    "metadata_digest",
    "package_name",
    "package_version",
    "rebase",
    "tree_digest",
]

_DIRECT = re.compile(
    r"^\s*(?P<name>[A-Za-z0-9][A-Za-z0-9._-]*)\s*(?P<extras>\[[^\]]*\])?\s*@\s*"
    r"(?P<url>file:[^\s;]+)\s*(?P<marker>;.*)?$"
)
_BARE = re.compile(r"^\s*(?P<path>(?:\.{1,2}/|/|\.$)[^\s;]*)\s*(?P<marker>;.*)?$")
# Files whose bytes decide a source tree's metadata (name, version, dependencies).
_METADATA_FILES = ("pyproject.toml", "setup.cfg", "setup.py")
# Never part of what a source tree builds into: VCS, caches, build outputs, environments.
_NOT_SOURCE = frozenset(
    {
        ".git",
        ".hg",
        ".svn",
        "__pycache__",
        ".mypy_cache",
        ".pytest_cache",
        ".ruff_cache",
        ".tox",
        ".nox",
        ".venv",
        "venv",
        "build",
        "dist",
        ".DS_Store",
    }
)


class PathDependencyError(PipelineError, ValueError):
    """A path dependency that cannot be used (missing folder, not a Python project)."""


def _split(requirement: str) -> tuple[str | None, str, str, str] | None:
    """(name or None, extras, path as written, marker) of a local requirement, else None."""
    direct = _DIRECT.match(requirement)
    if direct is not None:
        url = direct["url"]
        if url.startswith("file://"):
            parsed = urllib.parse.urlsplit(url)
            if parsed.netloc not in ("", "localhost"):
                return None
            path = urllib.parse.unquote(parsed.path)
        else:
            path = urllib.parse.unquote(url.removeprefix("file:"))
        return direct["name"], direct["extras"] or "", path, (direct["marker"] or "").strip()
    bare = _BARE.match(requirement)
    if bare is not None:
        return None, "", bare["path"], (bare["marker"] or "").strip()
    return None


def directory_of(requirement: str) -> str | None:
    """The path of a local requirement in the builder's spelling (``NAME @ file:PATH``)."""
    parts = _split(requirement)
    return None if parts is None else parts[2]


def rebase(requirement: str, *, base: Path, root: Path) -> str:
    """``requirement`` with a local path written relative to ``base`` made relative to ``root``.

    Any other requirement is returned unchanged. ``${PROJECT_ROOT}`` (hatch's spelling)
    stands for ``base``. A bare path (``./libs/mylib``) gets the name its project declares.
    Raises :class:`PathDependencyError` when the folder does not exist.
    """
    parts = _split(requirement)
    if parts is None:
        return requirement
    name, extras, written, marker = parts
    written = written.replace("${PROJECT_ROOT}", str(base)).replace("//", "/")
    folder = Path(os.path.normpath(base / written))
    if folder.is_file():
        raise PathDependencyError(
            f"{requirement.strip()!r}: {folder} is a file; a path dependency is a source "
            "folder (with a pyproject.toml): point at the package's folder, or publish the "
            "wheel to an index and require it by name"
        )
    if not folder.is_dir():
        raise PathDependencyError(
            f"{requirement.strip()!r}: {folder} does not exist; fix the path (it is relative "
            f"to {base}) or create the package there"
        )
    if name is None:
        name = package_name(folder)
    relative = Path(os.path.relpath(folder, root)).as_posix()
    return f"{name}{extras} @ file:{relative}{' ' + marker if marker else ''}"


def absolute(requirement: str, root: Path) -> str:
    """A ``NAME @ file:PATH`` requirement (``PATH`` relative to ``root``) with a ``file://``
    URL, as resolvers take it; any other requirement unchanged."""
    parts = _split(requirement)
    if parts is None:
        return requirement
    name, extras, written, marker = parts
    folder = Path(os.path.normpath(root / written))
    return f"{name}{extras} @ {folder.as_uri()}{' ' + marker if marker else ''}"


def _pyproject(folder: Path) -> dict[str, object]:
    try:
        return tomllib.loads((folder / "pyproject.toml").read_text("utf-8"))
    except FileNotFoundError:
        return {}
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise PathDependencyError(f"{folder / 'pyproject.toml'} cannot be read: {exc}") from exc


def package_name(folder: Path) -> str:
    """The ``[project] name`` of the source tree at ``folder``."""
    project = _pyproject(folder).get("project")
    if isinstance(project, dict) and isinstance(project.get("name"), str):
        return str(project["name"])
    raise PathDependencyError(
        f"{folder} has no pyproject.toml with a [project] name; write the requirement as "
        "'NAME @ file:PATH'"
    )


def package_version(folder: Path) -> str:
    """The static ``[project] version`` of the source tree at ``folder``, else ``""``."""
    project = _pyproject(folder).get("project")
    if isinstance(project, dict) and isinstance(project.get("version"), str):
        return str(project["version"])
    return ""


def metadata_digest(folder: Path) -> str:
    """Hash of the files that declare a source tree's metadata (its dependencies above all):
    a lock that includes the tree is resolved again when they change, not when its code does."""
    digest = hashlib.sha256()
    for name in _METADATA_FILES:
        path = folder / name
        if path.is_file():
            digest.update(name.encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


def tree_digest(folder: Path) -> str:
    """Hash of a source tree's content: every file's relative path, mode bit and bytes.

    Modification times play no part (a fresh clone or ``touch`` changes nothing);
    VCS folders, caches, environments and build outputs are not part of it.
    """
    digest = hashlib.sha256()
    for directory, subdirectories, files in os.walk(folder):
        subdirectories[:] = sorted(
            d for d in subdirectories if d not in _NOT_SOURCE and not d.endswith(".egg-info")
        )
        for file in sorted(files):
            if file in _NOT_SOURCE or file.endswith((".pyc", ".pyo")):
                continue
            path = Path(directory, file)
            if not path.is_file():
                continue
            relative = path.relative_to(folder).as_posix()
            executable = b"x" if path.stat().st_mode & 0o111 else b"-"
            digest.update(relative.encode() + b"\0" + executable + b"\0")
            digest.update(hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()
