"""Installed distributions (``*.dist-info``) inside an artifact: names, versions,
RECORD rows and wheel tags."""

from __future__ import annotations

import base64
import csv
import email.parser
import posixpath
import re
from collections import Counter
from typing import TYPE_CHECKING

import attrs
from packaging.utils import canonicalize_name

if TYPE_CHECKING:
    from collections.abc import Iterable, Iterator

    from sentiment_pipeline.packaging.verify.sources import Entry, Tree

__all__ = ["Distribution", "RecordRow", "find_distributions", "installed_by", "record_digest"]

_DIST_INFO = re.compile(
    r"^(?:(?P<base>.*)/)?(?P<dir>[^/]+)\.dist-info/(?P<file>RECORD|WHEEL|METADATA)$"
)
_MAX_METADATA = 16 * 1024 * 1024


@attrs.frozen
class RecordRow:
    """One line of a RECORD file, with its path made relative to the artifact root."""

    path: str
    algorithm: str | None
    digest: str | None
    size: int | None


@attrs.frozen
class Distribution:
    """A ``*.dist-info`` directory found in an artifact."""

    name: str
    """Canonical name (PEP 503)."""
    display_name: str
    version: str
    dist_info: str
    """Path of the ``.dist-info`` directory inside the artifact."""
    base: str
    """The directory the distribution was installed into ('' for the root)."""
    tags: tuple[str, ...]
    records: tuple[RecordRow, ...]
    record_path: str | None


def record_digest(algorithm: str, data_hash: bytes) -> str:
    """The RECORD spelling of a digest: urlsafe base64 without padding."""
    return base64.urlsafe_b64encode(data_hash).rstrip(b"=").decode("ascii")


def _parse_record(text: str, base: str) -> Iterator[RecordRow]:
    for line in text.splitlines():
        try:
            row = next(csv.reader([line]), [])
        except csv.Error:
            continue  # a damaged line claims nothing; the files it named go unchecked
        if not row or not row[0]:
            continue
        raw = row[0]
        joined = posixpath.normpath(posixpath.join(base, raw)) if base else posixpath.normpath(raw)
        if joined.startswith("../") or joined == ".." or raw.startswith("/"):
            # Console scripts and data files installed outside the site directory.
            continue
        algorithm = digest = None
        if len(row) > 1 and "=" in row[1]:
            algorithm, _, digest = row[1].partition("=")
        size: int | None = None
        if len(row) > 2 and row[2].strip().isdigit():
            size = int(row[2])
        yield RecordRow(joined, algorithm, digest, size)


def find_distributions(tree: Tree, entries: list[Entry]) -> list[Distribution]:
    """Every dist-info directory in ``tree`` with its metadata, RECORD and tags."""
    found: dict[tuple[str, str], dict[str, Entry]] = {}
    for entry in entries:
        if entry.kind != "file" or entry.unsafe:
            continue
        m = _DIST_INFO.match(entry.name)
        if m:
            found.setdefault((m["base"] or "", m["dir"]), {})[m["file"]] = entry
    out: list[Distribution] = []
    for (base, dirname), files in sorted(found.items()):
        texts = {
            key: tree.read(entry, _MAX_METADATA).decode("utf-8", "replace")
            for key, entry in files.items()
        }
        guess_name, _, guess_version = dirname.partition("-")
        name, version = guess_name, guess_version
        if "METADATA" in texts:
            headers = email.parser.Parser().parsestr(texts["METADATA"], headersonly=True)
            name = headers.get("Name") or guess_name
            version = headers.get("Version") or guess_version
        tags: list[str] = []
        for line in texts.get("WHEEL", "").splitlines():
            key, _, value = line.partition(":")
            if key.strip().lower() == "tag" and value.strip():
                tags.append(value.strip())
        records = tuple(_parse_record(texts["RECORD"], base)) if "RECORD" in texts else ()
        dist_info = f"{base}/{dirname}.dist-info" if base else f"{dirname}.dist-info"
        out.append(
            Distribution(
                name=canonicalize_name(str(name)),
                display_name=str(name),
                version=str(version),
                dist_info=dist_info,
                base=base,
                tags=tuple(tags),
                records=records,
                record_path=f"{dist_info}/RECORD" if "RECORD" in files else None,
            )
        )
    return out


_INSTALLER = re.compile(r"^(?:.*/)?[^/]+\.dist-info/INSTALLER$")


def installed_by(trees: Iterable[Tree]) -> str | None:
    """The tool most distributions of ``trees`` name in ``*.dist-info/INSTALLER``
    (``pip``, ``uv``...), or None when none says: whose command line a fix should use."""
    found: Counter[str] = Counter()
    for tree in trees:
        for entry in tree.entries():
            if entry.kind == "file" and not entry.unsafe and _INSTALLER.match(entry.name):
                name = tree.read(entry, 256).decode("utf-8", "replace").strip().lower()
                if name:
                    found[name] += 1
    return found.most_common(1)[0][0] if found else None
