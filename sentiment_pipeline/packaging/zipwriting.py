"""Deterministic zip assembly.

Members are sorted, stamped with one fixed time (``SOURCE_DATE_EPOCH``, else
1980-01-01), given modes 0644/0755 and no owner. Members of wheels are copied
with their compressed bytes as they are (wheels are already deflated: no
inflate, no deflate), which is what makes a warm build fast; only rewritten
files (RECORD) and sources are compressed here.
"""

from __future__ import annotations

import itertools
import os
import re
import struct
import time
import zipfile
import zlib
from typing import TYPE_CHECKING, BinaryIO

import attrs

from sentiment_pipeline.errors import PipelineError

if TYPE_CHECKING:
    from collections.abc import Iterable, Sequence
    from pathlib import Path

__all__ = ["ArchiveError", "Member", "compile_globs", "fixed_date_time", "write_zip"]

_LOCAL = struct.Struct("<IHHHHHIIIHH")
_CENTRAL = struct.Struct("<IHHHHHHIIIHHHHHII")
_END = struct.Struct("<IHHHHIIH")
_UTF8 = 0x800


class ArchiveError(PipelineError, RuntimeError):
    """An artifact that cannot be written (duplicate names, sizes beyond plain zip)."""


def fixed_date_time() -> tuple[int, int, int, int, int, int]:
    """``SOURCE_DATE_EPOCH`` as a zip timestamp (clamped to 1980..2107), else 1980-01-01."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    if epoch is None or not epoch.strip().isdigit():
        return (1980, 1, 1, 0, 0, 0)
    t = time.gmtime(min(max(int(epoch), 315532800), 4354819198))
    return (t.tm_year, t.tm_mon, t.tm_mday, t.tm_hour, t.tm_min, t.tm_sec)


@attrs.frozen
class Member:
    """One file of the output: raw compressed bytes from a zip, bytes, or a file on disk."""

    name: str
    executable: bool = False
    data: bytes | None = None
    file: Path | None = None
    source: Path | None = None
    """The zip whose member ``info`` is copied without recompression."""
    info: zipfile.ZipInfo | None = attrs.field(default=None, eq=False)


def compile_globs(patterns: Sequence[str]) -> re.Pattern[str] | None:
    """Gitignore-like globs: ``*`` within a path segment, ``**`` across segments.

    A pattern without a slash matches a name in any directory.
    """
    parts = []
    for pattern in patterns:
        if "/" not in pattern.strip("/"):
            pattern = f"**/{pattern}"
        out = ""
        i = 0
        while i < len(pattern):
            if pattern.startswith("**/", i):
                out += "(?:.*/)?"
                i += 3
            elif pattern.startswith("**", i):
                out += ".*"
                i += 2
            elif pattern[i] == "*":
                out += "[^/]*"
                i += 1
            elif pattern[i] == "?":
                out += "[^/]"
                i += 1
            else:
                out += re.escape(pattern[i])
                i += 1
        parts.append(out + "(?:/.*)?")
    return re.compile("|".join(f"(?:{p})" for p in parts)) if parts else None


def _dos(date_time: tuple[int, int, int, int, int, int]) -> tuple[int, int]:
    y, mo, d, h, mi, s = date_time
    return (h << 11) | (mi << 5) | (s // 2), ((y - 1980) << 9) | (mo << 5) | d


def _raw_bytes(fh: BinaryIO, info: zipfile.ZipInfo) -> bytes:
    fh.seek(info.header_offset)
    header = fh.read(30)
    if header[:4] != b"PK\x03\x04":
        raise ArchiveError(f"{info.filename}: bad local header")
    name_len, extra_len = struct.unpack("<HH", header[26:30])
    fh.seek(info.header_offset + 30 + name_len + extra_len)
    return fh.read(info.compress_size)


def write_zip(path: Path, members: Iterable[Member], *, compresslevel: int = 6) -> dict[str, int]:
    """Write ``members`` sorted by name into ``path``; returns counts and sizes.

    Duplicate names are an error: two sources would race for one file in Lambda.
    """
    ordered = sorted(members, key=lambda m: m.name)
    for a, b in itertools.pairwise(ordered):
        if a.name == b.name:
            raise ArchiveError(f"two sources write {a.name}; keep one (check sources and exclude)")
    dos_time, dos_date = _dos(fixed_date_time())
    central: list[bytes] = []
    sources: dict[Path, BinaryIO] = {}
    unzipped = 0
    try:
        with path.open("wb") as out:
            for member in ordered:
                if member.info is not None and member.source is not None:
                    fh = sources.get(member.source)
                    if fh is None:
                        fh = sources[member.source] = member.source.open("rb")
                    payload = _raw_bytes(fh, member.info)
                    method, crc, size = (
                        member.info.compress_type,
                        member.info.CRC,
                        member.info.file_size,
                    )
                else:
                    data = member.data if member.data is not None else member.file.read_bytes()  # type: ignore[union-attr]
                    crc, size = zlib.crc32(data), len(data)
                    compressor = zlib.compressobj(compresslevel, zlib.DEFLATED, -15)
                    payload = compressor.compress(data) + compressor.flush()
                    method = zipfile.ZIP_DEFLATED
                    if len(payload) >= size:
                        payload, method = data, zipfile.ZIP_STORED
                if size >= 0xFFFFFFFF or out.tell() >= 0xFFFFFFFF:
                    raise ArchiveError(f"{member.name}: over 4 GiB; far beyond Lambda's limits")
                name = member.name.encode("utf-8")
                flags = 0 if name.isascii() else _UTF8
                offset = out.tell()
                out.write(
                    _LOCAL.pack(
                        0x04034B50,
                        20,
                        flags,
                        method,
                        dos_time,
                        dos_date,
                        crc,
                        len(payload),
                        size,
                        len(name),
                        0,
                    )
                )
                out.write(name)
                out.write(payload)
                mode = (0o100755 if member.executable else 0o100644) << 16
                central.append(
                    _CENTRAL.pack(
                        0x02014B50,
                        (3 << 8) | 20,
                        20,
                        flags,
                        method,
                        dos_time,
                        dos_date,
                        crc,
                        len(payload),
                        size,
                        len(name),
                        0,
                        0,
                        0,
                        0,
                        mode,
                        offset,
                    )
                    + name
                )
                unzipped += size
            if len(central) > 0xFFFF:
                raise ArchiveError(f"{len(central)} files: more than a plain zip holds (65535)")
            start = out.tell()
            for record in central:
                out.write(record)
            out.write(
                _END.pack(
                    0x06054B50, 0, 0, len(central), len(central), out.tell() - start, start, 0
                )
            )
    finally:
        for fh in sources.values():
            fh.close()
    return {"files": len(ordered), "unzipped": unzipped, "zipped": path.stat().st_size}
