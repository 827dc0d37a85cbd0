"""Cross-install without an engine: wheels straight into zip members.

What ``pip install --target`` would write, computed from the wheels alone:
``*.data/purelib`` and ``*.data/platlib`` move to the root, RECORD follows them,
and everything else is copied with its compressed bytes as they are. Scripts,
headers and data files (``*.data/scripts|headers|data``) are left out: Lambda
never runs console scripts, and RECORD drops their lines so the artifact stays
consistent. Bytecode is compiled only when given a way to (``bytecode``: an
interpreter of the target's Python, :mod:`.bytecode`); its ``.pyc`` are listed in
RECORD, as pip lists what it compiles.
"""

from __future__ import annotations

import csv
import io
import os
import re
import zipfile
from pathlib import Path
from typing import TYPE_CHECKING

from sentiment_pipeline.errors import PipelineError
from sentiment_pipeline.packaging.zipwriting import Member, compile_globs

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Iterator, Sequence

    from sentiment_pipeline.packaging.install.bytecode import Compiled

__all__ = ["InstallError", "source_members", "wheel_members"]

_DATA = re.compile(r"^[^/]+\.data/(?P<scheme>[^/]+)/(?P<rest>.+)$")


class InstallError(PipelineError, RuntimeError):
    """A wheel or source tree that cannot be installed into an artifact."""


def wheel_members(
    wheel: Path,
    *,
    prefix: str = "",
    exclude: Sequence[str] = (),
    bytecode: Callable[[Path, dict[str, str]], Compiled] | None = None,
) -> tuple[list[Member], list[str]]:
    """The members a wheel contributes (under ``prefix``) and notes on what was left out.

    ``bytecode(wheel, sources)`` (``sources``: each ``.py`` member of the wheel -> its
    name relative to the site root) compiles them; the ``.pyc`` replace any the wheel
    ships under the same names and are listed in its RECORD.
    """
    excluded = compile_globs(exclude)
    notes: list[str] = []
    try:
        zf = zipfile.ZipFile(wheel)
    except (zipfile.BadZipFile, OSError) as exc:
        raise InstallError(f"{wheel.name}: not a readable wheel ({exc})") from exc
    with zf:
        infos = [i for i in zf.infolist() if not i.is_dir()]
        renamed: dict[str, str | None] = {}
        for info in infos:
            m = _DATA.match(info.filename)
            if m is None:
                renamed[info.filename] = info.filename
            elif m["scheme"] in ("purelib", "platlib"):
                renamed[info.filename] = m["rest"]
            else:
                renamed[info.filename] = None
                notes.append(f"{wheel.name}: left out {info.filename} (a {m['scheme']} file)")
        record = next(
            (
                i
                for i in infos
                if i.filename.endswith(".dist-info/RECORD") and i.filename.count("/") == 1
            ),
            None,
        )
        if record is None:
            raise InstallError(f"{wheel.name}: no .dist-info/RECORD; not a valid wheel")
        added: dict[str, tuple[str, int]] = {}
        compiled = None
        if bytecode is not None:
            sources = {
                member: name
                for member, name in renamed.items()
                if name is not None
                and name.endswith(".py")
                and (excluded is None or not excluded.fullmatch(prefix + name))
            }
            compiled = bytecode(wheel, sources) if sources else None
        if compiled is not None:
            added = {
                name: row
                for name, row in compiled.record.items()
                if excluded is None or not excluded.fullmatch(prefix + name)
            }
        members: list[Member] = _bytecode_members(compiled, added, prefix)
        changed = bool(added) or any(renamed[i.filename] != i.filename for i in infos)
        for info in infos:
            name = renamed[info.filename]
            if name is None or info is record or name in added:
                continue
            final = prefix + name
            if excluded is not None and excluded.fullmatch(final):
                continue
            executable = bool((info.external_attr >> 16) & 0o111)
            members.append(Member(final, executable=executable, source=wheel, info=info))
        if changed:
            text = zf.read(record).decode("utf-8")
            out = io.StringIO()
            writer = csv.writer(out, lineterminator="\n")
            for row in csv.reader(io.StringIO(text)):
                if not row:
                    continue
                target = renamed.get(row[0], row[0])
                if target is not None and target not in added:
                    writer.writerow([target, *row[1:]])
            for name in sorted(added):
                writer.writerow([name, added[name][0], added[name][1]])
            members.append(Member(prefix + record.filename, data=out.getvalue().encode("utf-8")))
        else:
            members.append(Member(prefix + record.filename, source=wheel, info=record))
    return members, notes


def _bytecode_members(
    compiled: Compiled | None, names: dict[str, tuple[str, int]], prefix: str
) -> list[Member]:
    """Members for the ``.pyc`` in ``names``: copied deflated from the cache's zip, or bytes."""
    if compiled is None or not names:
        return []
    if compiled.archive is None:
        return [Member(prefix + name, data=compiled.data[name]) for name in sorted(names)]
    with zipfile.ZipFile(compiled.archive) as zf:
        return [
            Member(prefix + info.filename, source=compiled.archive, info=info)
            for info in zf.infolist()
            if info.filename in names
        ]


def _walk(top: Path, name: str, skip: Callable[[str], bool]) -> Iterator[tuple[Path, str]]:
    """Files under ``top`` with their member names (``name/...``), in no order; never
    descends into a directory whose member name ``skip`` accepts, nor follows a link to
    a directory."""
    for directory, subdirectories, files in os.walk(top):
        inside = Path(directory).relative_to(top).as_posix()
        base = name if inside == "." else f"{name}/{inside}"
        subdirectories[:] = [d for d in subdirectories if not skip(f"{base}/{d}")]
        for file in files:
            yield Path(directory, file), f"{base}/{file}"


def source_members(
    root: Path, sources: Iterable[Path], *, prefix: str = "", exclude: Sequence[str] = ()
) -> list[Member]:
    """Files of the project's own sources: a directory keeps its name, a file lands at the root.

    A directory that an ``exclude`` glob ending in ``/**`` covers whole is not walked:
    every file in it would be excluded anyway.
    """
    excluded = compile_globs(exclude)
    # Where `P/**` is excluded, a directory matching P holds nothing that ships.
    whole = compile_globs([g.removesuffix("/**") for g in exclude if g.endswith("/**")])

    def skip(name: str) -> bool:
        return whole is not None and whole.fullmatch(prefix + name) is not None

    members: list[Member] = []
    for source in sources:
        path = root / source
        if path.is_file():
            files = [(path, path.name)]
        elif path.is_dir():
            found = (f for f in _walk(path, path.name, skip) if f[0].is_file())
            files = sorted(found, key=lambda f: f[0])  # Path order, as the artifacts always had
        else:
            raise InstallError(f"source {source} does not exist under {root}")
        for file, name in files:
            final = prefix + name
            if excluded is not None and excluded.fullmatch(final):
                continue
            members.append(Member(final, executable=bool(file.stat().st_mode & 0o111), file=file))
    return members
