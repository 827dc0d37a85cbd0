"""Cross-install without an engine: wheels straight into zip members.

What ``pip install --target`` would write, computed from the wheels alone:
``*.data/purelib`` and ``*.data/platlib`` move to the root, RECORD follows them,
and everything else is copied with its compressed bytes as they are. Scripts,
headers and data files (``*.data/scripts|headers|data``) are left out: Lambda
never runs console scripts, and RECORD drops their lines so the artifact stays
consistent. No bytecode is compiled (only the target interpreter can do that).
"""

from __future__ import annotations

import csv
import io
import re
import zipfile
from typing import TYPE_CHECKING

from sentiment_pipeline.errors import PipelineError
from sentiment_pipeline.packaging.zipwriting import Member, compile_globs

if TYPE_CHECKING:
    from collections.abc import Iterable, Sequence
    from pathlib import Path

__all__ = ["InstallError", "source_members", "wheel_members"]

_DATA = re.compile(r"^[^/]+\.data/(?P<scheme>[^/]+)/(?P<rest>.+)$")


class InstallError(PipelineError, RuntimeError):
    """A wheel or source tree that cannot be installed into an artifact."""


def wheel_members(
    wheel: Path, *, prefix: str = "", exclude: Sequence[str] = ()
) -> tuple[list[Member], list[str]]:
    """The members a wheel contributes (under ``prefix``) and notes on what was left out."""
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
        members: list[Member] = []
        changed = any(renamed[i.filename] != i.filename for i in infos)
        for info in infos:
            name = renamed[info.filename]
            if name is None or info is record:
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
                if target is not None:
                    writer.writerow([target, *row[1:]])
            members.append(Member(prefix + record.filename, data=out.getvalue().encode("utf-8")))
        else:
            members.append(Member(prefix + record.filename, source=wheel, info=record))
    return members, notes


def source_members(
    root: Path, sources: Iterable[Path], *, prefix: str = "", exclude: Sequence[str] = ()
) -> list[Member]:
    """Files of the project's own sources: a directory keeps its name, a file lands at the root."""
    excluded = compile_globs(exclude)
    members: list[Member] = []
    for source in sources:
        path = root / source
        if path.is_file():
            files = [(path, path.name)]
        elif path.is_dir():
            files = [
                (f, f"{path.name}/{f.relative_to(path).as_posix()}")
                for f in sorted(path.rglob("*"))
                if f.is_file()
            ]
        else:
            raise InstallError(f"source {source} does not exist under {root}")
        for file, name in files:
            final = prefix + name
            if excluded is not None and excluded.fullmatch(final):
                continue
            members.append(Member(final, executable=bool(file.stat().st_mode & 0o111), file=file))
    return members
