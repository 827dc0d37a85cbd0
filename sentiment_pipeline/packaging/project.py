"""Dependencies kept where the project keeps them: a ``pyproject.toml``, and its ``uv.lock``.

A Lambda or layer that says ``project = "app/pyproject.toml"`` gets that project's
``[project] dependencies``, the ``[project.optional-dependencies]`` of its ``extras``
and the PEP 735 ``[dependency-groups]`` of its ``groups`` (``include-group`` followed;
no group unless asked, ``dev`` included). The project itself is installed too when it
is a package, by uv's rule: it has a ``[build-system]`` (or ``tool.uv.package = true``),
and ``tool.uv.package = false`` is not set. A Lambda whose code is the project's package
then needs no ``sources``: its handler is imported from the installed package.

With a ``uv.lock`` (next to the pyproject, or at the root of the uv workspace it is a
member of) the locked versions are used: ``uv export --locked`` lists them with their
markers, each pinned with ``==``, and the target's resolution only evaluates those markers
for its Python and platform (the lock is universal). A lock that no longer matches its
pyproject is refused with the command that fixes it, ``uv lock``. Without one, the
declared requirements are resolved for the target like ``requirements`` are.

Path dependencies (``mylib @ file:../libs/mylib``, ``[tool.uv.sources] mylib = { path =
... }``, workspace members) come out as ``NAME @ file:PATH`` relative to the manifest's
folder (:mod:`.pathdeps`).
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import subprocess
import tomllib
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sentiment_pipeline.errors import PipelineError
from sentiment_pipeline.packaging.pathdeps import PathDependencyError, package_name, rebase

if TYPE_CHECKING:
    from collections.abc import Sequence

__all__ = ["ProjectError", "check_project", "find_uv_lock", "project_requirements"]


class ProjectError(PipelineError, ValueError):
    """A ``project`` that cannot give dependencies; ``key`` is the manifest key at fault
    (``project``, ``extras`` or ``groups``)."""

    def __init__(self, message: str, key: str = "project") -> None:
        self.key = key
        super().__init__(message)


def _normalise(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _load(pyproject: Path) -> dict[str, Any]:
    if pyproject.is_dir():
        pyproject = pyproject / "pyproject.toml"
    try:
        data = tomllib.loads(pyproject.read_text("utf-8"))
    except FileNotFoundError:
        raise ProjectError(
            f"{pyproject} does not exist; point project at a pyproject.toml (relative to the "
            "manifest's folder)"
        ) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ProjectError(f"{pyproject} cannot be read ({exc})") from exc
    except tomllib.TOMLDecodeError as exc:
        raise ProjectError(f"{pyproject} is not valid TOML: {exc}") from exc
    if not isinstance(data.get("project"), dict):
        raise ProjectError(
            f"{pyproject} has no [project] table; dependencies are read from [project] "
            "dependencies (PEP 621): add the table, or use requirements-file instead"
        )
    return data


def _is_package(data: dict[str, Any]) -> bool:
    """uv's rule: a project is installed itself when it has a build system, unless
    ``tool.uv.package`` says otherwise."""
    flag = data.get("tool", {}).get("uv", {}).get("package")
    return bool(flag) if isinstance(flag, bool) else "build-system" in data


def _checked_choices(
    pyproject: Path, data: dict[str, Any], extras: Sequence[str], groups: Sequence[str]
) -> None:
    optional = data["project"].get("optional-dependencies") or {}
    known_extras = {_normalise(e) for e in optional}
    unknown = [e for e in extras if _normalise(e) not in known_extras]
    if unknown:
        raise ProjectError(
            f"unknown extra {', '.join(map(repr, unknown))} of {pyproject} (defined in "
            f"[project.optional-dependencies]: {', '.join(sorted(optional)) or 'none'})",
            "extras",
        )
    declared = data.get("dependency-groups") or {}
    known_groups = {_normalise(g) for g in declared}
    unknown = [g for g in groups if _normalise(g) not in known_groups]
    if unknown:
        raise ProjectError(
            f"unknown group {', '.join(map(repr, unknown))} of {pyproject} (defined in "
            f"[dependency-groups]: {', '.join(sorted(declared)) or 'none'})",
            "groups",
        )


def check_project(pyproject: Path, extras: Sequence[str], groups: Sequence[str]) -> None:
    """Raise :class:`ProjectError` when ``pyproject`` is missing, has no ``[project]``
    table, lacks one of ``extras`` or ``groups``, or names a path dependency that does not
    exist. Reads files only (the lock is checked when the dependencies are read)."""
    data = _load(pyproject)
    _checked_choices(pyproject, data, extras, groups)
    if find_uv_lock(pyproject.parent) is None:
        _declared(pyproject, pyproject.parent, data, extras, groups)


def find_uv_lock(folder: Path) -> Path | None:
    """The ``uv.lock`` that locks the project in ``folder``: its own, or the one at the root
    of the uv workspace it belongs to (the nearest parent whose pyproject has
    ``[tool.uv.workspace]`` and a ``uv.lock``)."""
    own = folder / "uv.lock"
    if own.is_file():
        return own
    for parent in folder.resolve().parents:
        candidate = parent / "pyproject.toml"
        if candidate.is_file() and (parent / "uv.lock").is_file():
            try:
                data = tomllib.loads(candidate.read_text("utf-8"))
            except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
                return None
            if "workspace" in data.get("tool", {}).get("uv", {}):
                return parent / "uv.lock"
    return None


def project_requirements(
    pyproject: Path,
    root: Path,
    extras: Sequence[str] = (),
    groups: Sequence[str] = (),
    *,
    python: str | None = None,
) -> tuple[str, ...]:
    """The requirements of the project at ``pyproject`` with ``extras`` and ``groups``:
    pinned by its ``uv.lock`` when it has one, else as declared. Path dependencies come
    out relative to ``root`` (the manifest's folder). ``python`` (``"3.12"``), the
    target's version, must satisfy the project's ``requires-python``. Raises
    :class:`ProjectError`."""
    if pyproject.is_dir():
        pyproject = pyproject / "pyproject.toml"
    data = _load(pyproject)
    _checked_choices(pyproject, data, extras, groups)
    if python is not None:
        _check_python(pyproject, data, python)
    lock = find_uv_lock(pyproject.parent)
    if lock is not None:
        return _locked(pyproject, lock, root, extras, groups)
    return _declared(pyproject, root, data, extras, groups)


def _check_python(pyproject: Path, data: dict[str, Any], python: str) -> None:
    from packaging.specifiers import InvalidSpecifier, SpecifierSet

    declared = data["project"].get("requires-python")
    if not isinstance(declared, str):
        return
    try:
        allowed = SpecifierSet(declared)
    except InvalidSpecifier as exc:
        raise ProjectError(f"{pyproject}: requires-python {declared!r} is invalid ({exc})") from exc
    if not allowed.contains(python, prereleases=True):
        raise ProjectError(
            f"{pyproject} requires Python {declared}, but this runs python{python}; change "
            "its runtime, or the project's requires-python (then `uv lock`)"
        )


def _declared(
    pyproject: Path,
    root: Path,
    data: dict[str, Any],
    extras: Sequence[str],
    groups: Sequence[str],
) -> tuple[str, ...]:
    project = data["project"]
    name = project.get("name")
    folder = pyproject.parent
    package = _is_package(data)
    if "dependencies" in (project.get("dynamic") or []) and not package:
        raise ProjectError(
            f"{pyproject} declares its dependencies as dynamic and is not a package (no "
            "[build-system]); list them in [project] dependencies"
        )
    wanted = list(project.get("dependencies") or [])
    optional = {_normalise(k): v for k, v in (project.get("optional-dependencies") or {}).items()}
    for extra in extras:
        wanted += optional[_normalise(extra)]
    declared = {_normalise(k): v for k, v in (data.get("dependency-groups") or {}).items()}
    for group in groups:
        wanted += _group(pyproject, declared, _normalise(group), ())
    sources = data.get("tool", {}).get("uv", {}).get("sources") or {}
    out: list[str] = []
    for requirement in wanted:
        if not isinstance(requirement, str):
            raise ProjectError(f"{pyproject}: {requirement!r} is not a requirement string")
        out.append(_sourced(pyproject, requirement, sources, folder, root))
    if package and isinstance(name, str):
        chosen = f"[{','.join(extras)}]" if extras else ""
        out.append(_rebased(pyproject, f"{name}{chosen} @ file:.", folder, root))
    return tuple(dict.fromkeys(out))


def _group(
    pyproject: Path, declared: dict[str, Any], group: str, seen: tuple[str, ...]
) -> list[str]:
    """A dependency group's requirements, its ``include-group`` entries expanded (PEP 735)."""
    if group in seen:
        cycle = " -> ".join((*seen, group))
        raise ProjectError(f"{pyproject}: [dependency-groups] include a cycle: {cycle}", "groups")
    if group not in declared:
        raise ProjectError(f"{pyproject}: [dependency-groups] has no group {group!r}", "groups")
    out: list[str] = []
    for entry in declared[group]:
        if isinstance(entry, dict) and "include-group" in entry:
            out += _group(pyproject, declared, _normalise(entry["include-group"]), (*seen, group))
        elif isinstance(entry, str):
            out.append(entry)
    return out


def _sourced(
    pyproject: Path, requirement: str, sources: dict[str, Any], folder: Path, root: Path
) -> str:
    """``requirement`` as the builder spells it: a ``[tool.uv.sources]`` path applied."""
    match = re.match(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)\s*(\[[^\]]*\])?\s*(.*)$", requirement)
    if match is not None and "@" not in match[3]:
        source = next(
            (v for k, v in sources.items() if _normalise(k) == _normalise(match[1])), None
        )
        if isinstance(source, dict) and "path" in source:
            marker = match[3].partition(";")[2].strip()
            direct = f"{match[1]}{match[2] or ''} @ file:{source['path']}"
            requirement = f"{direct} ; {marker}" if marker else direct
        elif source is not None:
            kind = (
                "workspace member"
                if isinstance(source, dict) and source.get("workspace")
                else ("non-index source")
            )
            raise ProjectError(
                f"{pyproject}: {match[1]} comes from a {kind} ([tool.uv.sources]), which only "
                f"a uv.lock pins; run `uv lock` in {folder} and build again"
            )
    return _rebased(pyproject, requirement, folder, root)


def _rebased(pyproject: Path, requirement: str, folder: Path, root: Path) -> str:
    try:
        return rebase(requirement, base=folder, root=root)
    except PathDependencyError as exc:
        raise ProjectError(f"{pyproject}: path dependency {exc}") from exc


def _uv_lock_inputs(lock: Path, pyproject: Path) -> list[Path]:
    """The files whose content decides what ``uv export`` says: the lock, the project's
    pyproject, and the pyproject of every local package the lock lists."""
    files = [lock, pyproject]
    try:
        data = tomllib.loads(lock.read_text("utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ProjectError(f"{lock} is damaged ({exc}); run `uv lock` to write it again") from exc
    for package in data.get("package", []):
        source = package.get("source") or {}
        for kind in ("editable", "directory", "virtual"):
            if isinstance(source.get(kind), str):
                candidate = lock.parent / source[kind] / "pyproject.toml"
                if candidate.is_file():
                    files.append(candidate)
    root = lock.parent / "pyproject.toml"
    if root.is_file():
        files.append(root)
    return sorted(set(files))


def _digest(files: Sequence[Path]) -> dict[str, str]:
    return {str(f): hashlib.sha256(f.read_bytes()).hexdigest() for f in files if f.is_file()}


def _locked(
    pyproject: Path, lock: Path, root: Path, extras: Sequence[str], groups: Sequence[str]
) -> tuple[str, ...]:
    from sentiment_pipeline.packaging.cache import default_cache_root
    from sentiment_pipeline.packaging.lock import uv_binary

    uv = uv_binary()
    # `uv export` costs a process (~0.2 s): its answer is kept, keyed by what it reads,
    # so an unchanged project costs a few hashes on every later build.
    choice = json.dumps([str(pyproject), sorted(extras), sorted(groups), uv], sort_keys=True)
    memo = (
        default_cache_root() / "projects" / (hashlib.sha256(choice.encode()).hexdigest() + ".json")
    )
    lines: list[str] | None = None
    try:
        kept = json.loads(memo.read_text("utf-8"))
        if kept["files"] == _digest([Path(f) for f in kept["files"]]):
            lines = [str(line) for line in kept["lines"]]
    except (OSError, ValueError, KeyError, TypeError):
        lines = None
    if lines is None:
        inputs = _uv_lock_inputs(lock, pyproject)
        lines = _export(uv, pyproject, lock, extras, groups)
        memo.parent.mkdir(parents=True, exist_ok=True)
        staged = memo.with_name(f".{memo.name}.{os.getpid()}")
        staged.write_text(json.dumps({"files": _digest(inputs), "lines": lines}), "utf-8")
        os.replace(staged, memo)
    out = []
    for line in lines:
        requirement = line
        if line.startswith((".", "/")):
            path, _, marker = line.partition(";")
            folder = Path(os.path.normpath(lock.parent / path.strip()))
            try:
                name = package_name(folder)
            except PathDependencyError as exc:
                raise ProjectError(f"{lock}: {exc}") from exc
            requirement = f"{name} @ file:{path.strip()}" + (
                f" ; {marker.strip()}" if marker else ""
            )
        out.append(_rebased(pyproject, requirement, lock.parent, root))
    return tuple(out)


def _export(
    uv: str, pyproject: Path, lock: Path, extras: Sequence[str], groups: Sequence[str]
) -> list[str]:
    command = [
        uv,
        "export",
        "--project",
        str(pyproject.parent),
        "--locked",
        "--format",
        "requirements-txt",
        "--no-hashes",
        "--no-header",
        "--no-annotate",
        "--no-editable",
        "--no-default-groups",
        "--no-python-downloads",
        "--quiet",
    ]
    for extra in extras:
        command += ["--extra", extra]
    for group in groups:
        command += ["--group", group]
    try:
        proc = subprocess.run(
            command,
            capture_output=True,
            text=True,
            check=False,
            env={**os.environ, "UV_NO_PROGRESS": "1"},
        )
    except OSError as exc:
        raise ProjectError(f"cannot run uv to read {lock} ({exc}); pip install uv") from exc
    if proc.returncode != 0:
        detail = " ".join(
            line.strip().removeprefix("error: ").removeprefix("hint: ")
            for line in proc.stderr.strip().splitlines()
            if line.strip()
        )
        if "needs to be updated" in proc.stderr:
            raise ProjectError(
                f"{lock} is out of date with {pyproject} (uv: {detail}); run `uv lock` in "
                f"{lock.parent}, commit the new uv.lock, and build again"
            )
        raise ProjectError(f"uv export of {pyproject} failed: {detail}; fix: check `uv lock`")
    return [
        line.strip()
        for line in proc.stdout.splitlines()
        if line.strip() and not line.lstrip().startswith(("#", "-"))
    ]
