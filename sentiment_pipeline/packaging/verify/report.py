"""The verification report: problems, what was checked, JSON and text renderings."""

from __future__ import annotations

import json
from collections import Counter
from typing import TYPE_CHECKING, Any

import attrs

from sentiment_pipeline.packaging.sandbox import describe_target

if TYPE_CHECKING:
    from sentiment_pipeline.packaging.targets import Target
    from sentiment_pipeline.packaging.verify.findings import Problem

__all__ = ["Report"]

_SHOWN_PER_CODE = 10


@attrs.frozen
class Report:
    """The outcome of :func:`~sentiment_pipeline.packaging.verify.verify`.

    ``ok`` is true when no problem was found. It proves the artifact deployable only
    when :attr:`not_checked` is empty: the handler was found and imported.

    >>> from sentiment_pipeline.packaging.targets import get_target
    >>> report = Report(get_target("python3.13"), (), {"not_checked": ["import not checked"]})
    >>> report.ok, report.not_checked
    (True, ('import not checked',))
    """

    target: Target
    """The runtime the artifact was checked against."""
    problems: tuple[Problem, ...]
    """Every problem found, in the order found."""
    checked: dict[str, Any] = attrs.field(hash=False)
    """What was checked: counts, the handler, the dynamic check, notes, ``not_checked``."""

    @property
    def ok(self) -> bool:
        """Whether no problem was found."""
        return not self.problems

    @property
    def not_checked(self) -> tuple[str, ...]:
        """What the checks did not cover, with the reason (``import not checked: --no-import``)."""
        return tuple(self.checked.get("not_checked", ()))

    def codes(self) -> set[str]:
        """The distinct problem codes found (handy in tests and scripts)."""
        return {p.code.value for p in self.problems}

    def to_json(self) -> dict[str, Any]:
        """``{"ok", "target", "problems", "checked"}``: what ``verify --json`` prints."""
        return {
            "ok": self.ok,
            "target": describe_target(self.target),
            "problems": [p.to_json() for p in self.problems],
            "checked": self.checked,
        }

    def dumps(self) -> str:
        """:meth:`to_json` as indented JSON text."""
        return json.dumps(self.to_json(), indent=2, sort_keys=False)

    def render(self) -> str:
        """A readable report for a terminal."""
        c = self.checked
        t = self.target
        lines = [
            f"{c.get('artifact')} ({c.get('kind')}) for {t.runtime} {t.architecture} "
            f"({t.os_name}, glibc {t.glibc_str})",
        ]
        for layer in c.get("layers", []):
            lines.append(f"  + layer {layer}")
        lines.append(
            f"  checked {c.get('files', 0)} files, {c.get('bytes_unzipped', 0) / 1e6:.1f} MB "
            f"unzipped, {c.get('distributions', 0)} distributions, "
            f"{c.get('hashed_files', 0)} RECORD hashes, {c.get('native_files', 0)} native files"
        )
        handler = c.get("handler")
        lines.append(f"  handler: {handler}" if handler else "  handler: not checked")
        dynamic = c.get("dynamic", {})
        if dynamic:
            lines.append(f"  {dynamic.get('summary', '')}")
        for note in c.get("notes", []):
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
