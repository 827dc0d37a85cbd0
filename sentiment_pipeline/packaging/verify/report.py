"""The verification report: problems, what was checked, JSON and text renderings."""

from __future__ import annotations

import json
from collections import Counter
from typing import TYPE_CHECKING, Any, Literal

import attrs

from sentiment_pipeline.packaging.sandbox import describe_target

if TYPE_CHECKING:
    from sentiment_pipeline.packaging.targets import Target
    from sentiment_pipeline.packaging.verify.findings import Problem
    from sentiment_pipeline.packaging.verify.loaded import LoadedLibrary

__all__ = ["Checked", "DynamicResult", "Report"]

_SHOWN_PER_CODE = 10
# The text names what the image declared; what was given or defaulted is in the JSON only.
_FROM = {"image": " (architecture from the image's config)"}


@attrs.frozen
class DynamicResult:
    """What the import of the handler in an interpreter of the target found.

    >>> result = DynamicResult(True, "dynamic check: imported handler.main with python3.13")
    >>> result.ran, result.problem is None
    (True, True)
    """

    ran: bool
    """Whether the handler was imported (false: the check was skipped, see :attr:`summary`)."""
    summary: str
    """One line: what was imported with which interpreter, or why the check was skipped."""
    interpreter: str | None = None
    """The interpreter that imported it."""
    problem: str | None = None
    """Why the import failed (an ``import-failed`` problem of the report), or None."""
    detail: str | None = None
    """The traceback of a failed or incomplete import."""
    loaded: tuple[LoadedLibrary, ...] = ()
    """The shared objects the import loaded (beyond what the interpreter had), each
    with the module that loaded it and where it came from."""
    host_libraries: str | None = None
    """One line when the import ran with this machine's libraries (a host interpreter,
    not a Lambda-like image): what that means for the check."""

    @property
    def imported(self) -> bool:
        """Whether the handler was imported, all of it, without error: the check ran,
        found no problem and left no traceback (an incomplete import, stopped at an
        SDK module this machine lacks, leaves one).

        >>> DynamicResult(True, "dynamic check: imported handler.main with python3.13").imported
        True
        """
        return self.ran and self.problem is None and self.detail is None

    def to_json(self) -> dict[str, Any]:
        """``{"ran", "summary", "interpreter", "detail", "host_libraries", "loaded"}``,
        as in ``verify --json``."""
        return {
            "ran": self.ran,
            "summary": self.summary,
            "interpreter": self.interpreter,
            "detail": self.detail,
            "host_libraries": self.host_libraries,
            "loaded": [lib.to_json() for lib in self.loaded],
        }


@attrs.frozen
class Checked:
    """What a verification covered: the artifact and its layers, counts, the handler,
    the import check, notes, and what a pass does not prove.

    >>> checked = Checked("fn.zip", "function", DynamicResult(False, "dynamic check skipped"))
    >>> checked.to_json()["kind"], checked.to_json()["layers"]
    ('function', [])
    """

    artifact: str
    """The artifact as it was given."""
    kind: Literal["function", "layer"]
    """A function, or a layer (a zip whose top level holds only ``python/``, ``lib/``,
    ``bin/``, and no handler given)."""
    dynamic: DynamicResult
    """The import check of the handler."""
    layers: tuple[str, ...] = ()
    """The layers it was checked with, in order."""
    files: int = 0
    """Files listed, in the artifact and its layers."""
    bytes_unzipped: int = 0
    """Their size unzipped."""
    hashed_files: int = 0
    """Files checked against the hash of their RECORD line."""
    native_files: int = 0
    """Native files (extension modules, shared libraries) read."""
    distributions: int = 0
    """Installed distributions (``*.dist-info``) found."""
    handler: str | None = None
    """The handler checked (``module.function``), or None when there was none."""
    not_checked: tuple[str, ...] = ()
    """What a pass does not cover, with the reason (``import not checked: --no-import``)."""
    native: tuple[str, ...] = ()
    """Every native file, as the report names it (``layer.zip:name`` in a layer)."""
    notes: tuple[str, ...] = ()
    """Remarks that are not problems (``.pyc`` of another Python, an unreadable ELF...)."""
    origin: dict[str, str] = attrs.field(factory=dict, hash=False)
    """Where the target's architecture and the handler came from: ``given`` (the caller),
    ``image`` (the image's config: ``architecture``, ``Cmd``) or ``default``."""
    warnings: tuple[str, ...] = ()
    """What works today but should change (a runtime past its deprecation date)."""

    def to_json(self) -> dict[str, Any]:
        """The ``checked`` object of ``verify --json``."""
        return {
            "artifact": self.artifact,
            "kind": self.kind,
            "layers": list(self.layers),
            "files": self.files,
            "bytes_unzipped": self.bytes_unzipped,
            "hashed_files": self.hashed_files,
            "native_files": self.native_files,
            "distributions": self.distributions,
            "handler": self.handler,
            "dynamic": self.dynamic.to_json(),
            "not_checked": list(self.not_checked),
            "native": list(self.native),
            "notes": list(self.notes),
            "origin": dict(self.origin),
            "warnings": list(self.warnings),
        }


@attrs.frozen
class Report:
    """The outcome of :func:`~sentiment_pipeline.packaging.verify.verify`.

    ``ok`` is true when no problem was found. It proves the artifact deployable only
    when :attr:`not_checked` is empty: the handler was found and imported.
    :attr:`warnings` never change ``ok`` (nor the exit code of ``verify``).

    >>> from sentiment_pipeline.packaging.targets import get_target
    >>> skipped = DynamicResult(False, "dynamic check skipped: --no-import")
    >>> checked = Checked("fn.zip", "function", skipped, handler="handler.lambda_handler",
    ...                   not_checked=("import not checked: --no-import",))
    >>> report = Report(get_target("python3.13"), (), checked)
    >>> report.ok, report.not_checked
    (True, ('import not checked: --no-import',))
    """

    target: Target
    """The runtime the artifact was checked against."""
    problems: tuple[Problem, ...]
    """Every problem found, in the report's order (by code, then path)."""
    checked: Checked
    """What was checked: counts, the handler, the dynamic check, notes, ``not_checked``."""
    warnings: tuple[Problem, ...] = ()
    """Findings that are no failure, in the report's order: a static
    ``unresolved-import`` when the import check imported the handler in an interpreter
    of the target anyway (it is what the runtime does at import time)."""

    @property
    def ok(self) -> bool:
        """Whether no problem was found."""
        return not self.problems

    @property
    def not_checked(self) -> tuple[str, ...]:
        """What the checks did not cover, with the reason (``import not checked: --no-import``)."""
        return self.checked.not_checked

    def codes(self) -> set[str]:
        """The distinct problem codes found (handy in tests and scripts); the codes of
        :attr:`warnings` are not among them."""
        return {p.code.value for p in self.problems}

    def to_json(self) -> dict[str, Any]:
        """``{"ok", "target", "problems", "warnings", "checked"}``: what ``verify --json``
        prints (``warnings`` shaped like ``problems``)."""
        return {
            "ok": self.ok,
            "target": describe_target(self.target),
            "problems": [p.to_json() for p in self.problems],
            "warnings": [w.to_json() for w in self.warnings],
            "checked": self.checked.to_json(),
        }

    def dumps(self) -> str:
        """:meth:`to_json` as indented JSON text."""
        return json.dumps(self.to_json(), indent=2, sort_keys=False)

    def render(self) -> str:
        """A readable report for a terminal."""
        c = self.checked
        t = self.target
        lines = [
            f"{c.artifact} ({c.kind}) for {t.runtime} {t.architecture}"
            f"{_FROM.get(c.origin.get('architecture', ''), '')} "
            f"({t.os_name}, glibc {t.glibc_str})",
        ]
        for layer in c.layers:
            lines.append(f"  + layer {layer}")
        lines.append(
            f"  checked {c.files} files, {c.bytes_unzipped / 2**20:.1f} MiB "
            f"unzipped, {c.distributions} distributions, "
            f"{c.hashed_files} RECORD hashes, {c.native_files} native files"
        )
        if c.handler:
            source = {"image": " (from the image's Cmd)"}.get(c.origin.get("handler", ""), "")
            lines.append(f"  handler: {c.handler}{source}")
        else:
            lines.append("  handler: not checked")
        lines.append(f"  {c.dynamic.summary}")
        if c.dynamic.host_libraries:
            lines.append(f"  {c.dynamic.host_libraries}")
        for warning in c.warnings:
            lines.append(f"  warning: {warning}")
        for note in c.notes:
            lines.append(f"  note: {note}")
        if self.warnings:
            lines.append(f"WARNINGS: {len(self.warnings)} (not failures)")
            for w in self.warnings[:_SHOWN_PER_CODE]:
                text = w.message if w.message.startswith(w.path) else f"{w.path}: {w.message}"
                lines.append(f"  [{w.code.value}] {text}")
            if len(self.warnings) > _SHOWN_PER_CODE:
                more = len(self.warnings) - _SHOWN_PER_CODE
                lines.append(f"  ... and {more} more (use --json for all)")
        if self.ok:
            lines.append(self._verdict())
            return "\n".join(lines)
        counts = Counter(p.code for p in self.problems)
        lines.append(f"FAILED: {len(self.problems)} problem(s)")
        for code, count in sorted(counts.items(), key=lambda kv: kv[0].value):
            lines.append(f"\n[{code.value}] x{count}")
            of_code = [p for p in self.problems if p.code == code]
            shown = of_code[:_SHOWN_PER_CODE]
            for p in shown:
                text = p.finding if p.finding.startswith(p.path) else f"{p.path}: {p.finding}"
                lines.append(f"  {text}")
            if count > len(shown):
                lines.append(f"  ... and {count - len(shown)} more (use --json for all)")
            # Advice shared by several problems, once, after them (dict: first-seen order).
            for fix in dict.fromkeys(p.fix for p in of_code if p.fix):
                lines.append(f"  fix: {fix}")
        return "\n".join(lines)

    def _verdict(self) -> str:
        """The last line of a passing report: deployable only when nothing was left out."""
        if not self.not_checked:
            return (
                "OK: no problems found; static checks passed and the handler imported: deployable."
            )
        return "OK: no problems found; static checks passed; " + "; ".join(self.not_checked) + "."
