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

    def to_json(self) -> dict[str, Any]:
        """``{"ran", "summary", "interpreter", "detail"}``, as in ``verify --json``."""
        return {
            "ran": self.ran,
            "summary": self.summary,
            "interpreter": self.interpreter,
            "detail": self.detail,
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

    @property
    def ok(self) -> bool:
        """Whether no problem was found."""
        return not self.problems

    @property
    def not_checked(self) -> tuple[str, ...]:
        """What the checks did not cover, with the reason (``import not checked: --no-import``)."""
        return self.checked.not_checked

    def codes(self) -> set[str]:
        """The distinct problem codes found (handy in tests and scripts)."""
        return {p.code.value for p in self.problems}

    def to_json(self) -> dict[str, Any]:
        """``{"ok", "target", "problems", "checked"}``: what ``verify --json`` prints."""
        return {
            "ok": self.ok,
            "target": describe_target(self.target),
            "problems": [p.to_json() for p in self.problems],
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
            f"  checked {c.files} files, {c.bytes_unzipped / 1e6:.1f} MB "
            f"unzipped, {c.distributions} distributions, "
            f"{c.hashed_files} RECORD hashes, {c.native_files} native files"
        )
        if c.handler:
            source = {"image": " (from the image's Cmd)"}.get(c.origin.get("handler", ""), "")
            lines.append(f"  handler: {c.handler}{source}")
        else:
            lines.append("  handler: not checked")
        lines.append(f"  {c.dynamic.summary}")
        for warning in c.warnings:
            lines.append(f"  warning: {warning}")
        for note in c.notes:
            lines.append(f"  note: {note}")
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
