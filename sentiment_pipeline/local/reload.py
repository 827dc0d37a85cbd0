"""``serve --watch``: a saved change rebuilds the Lambdas it touches and swaps them in.

The loop runs in the main thread (so SIGINT and SIGTERM unwind a rebuild like
any build: temporary files removed, the import check's interpreter stopped).
Every ``interval`` seconds it compares the files of each Lambda and the
manifest (:mod:`.watch`) with the last look. On a change it waits until the
files stop changing (an editor's save can be several writes), then:

1. the manifest, if it changed, is read again; Lambdas whose entry (or a layer
   or default they use) changed are touched too. A manifest that does not
   validate is reported, and nothing changes;
2. the build runs for the touched Lambdas only (``only``: the build is
   incremental, so only what changed is assembled again) and verifies them;
3. each verified Lambda gets a new pool, started and warmed beside the running
   one, then swapped in (:meth:`.functions.LocalFunctions.replace`); requests
   in flight finish on the old workers.

A failure at any step (the build, the verification, the new workers' init)
keeps the previous code serving and prints the problems. One line per reload
says what was reloaded and how long it took, from the change being seen to the
new code answering.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

import attrs

from sentiment_pipeline.errors import PipelineError
from sentiment_pipeline.local.functions import function_specs
from sentiment_pipeline.local.watch import (
    changed_entries,
    changed_files,
    snapshot,
    watched_files,
)

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping, Sequence
    from pathlib import Path

    from sentiment_pipeline.local.functions import LocalFunctions
    from sentiment_pipeline.local.watch import Snapshot
    from sentiment_pipeline.packaging.manifest import Manifest
    from sentiment_pipeline.packaging.options import BuildOptions
    from sentiment_pipeline.packaging.plan import FunctionPlan
    from sentiment_pipeline.packaging.results import BuildResult

__all__ = ["INTERVAL", "Reloader"]

INTERVAL = 0.2
"""Seconds between two looks at the watched files."""
SETTLE = 0.05
"""Seconds between two looks once a change is seen, until the files stop changing."""


def _quiet(message: str) -> None:
    """A rebuild's progress: not printed (its outcome is one line)."""


class Reloader:
    """Watches ``names`` of ``manifest`` and reloads them into ``functions``.

    ``say`` receives each reload's line, ``complain`` each failure's lines.
    """

    def __init__(
        self,
        manifest: Manifest,
        names: Sequence[str],
        functions: LocalFunctions,
        options: BuildOptions,
        *,
        extra_environment: Mapping[str, str],
        aws_environment: Mapping[str, str] | None = None,
        say: Callable[[str], None],
        complain: Callable[[str], None],
        interval: float = INTERVAL,
    ) -> None:
        self.manifest = manifest
        self.names = tuple(names)
        self.functions = functions
        self.options = attrs.evolve(options, progress=_quiet)
        self.extra_environment = dict(extra_environment)
        self.aws_environment = dict(aws_environment or {})
        self.say = say
        self.complain = complain
        self.interval = interval
        self.reloads = 0
        self._plans: dict[str, FunctionPlan] = {}
        self._seen: dict[str, Snapshot] = {}
        self._manifest_seen = snapshot([manifest.path])
        self._plan()
        self._seen = self._look()

    def _plan(self) -> None:
        from sentiment_pipeline.packaging.plan import plan_functions

        plans = plan_functions(
            self.manifest, only=[n for n in self.names if n in self.manifest.lambdas]
        )
        self._plans = {plan.name: plan for plan in plans}

    def _look(self) -> dict[str, Snapshot]:
        return {
            name: snapshot(watched_files(self.manifest, plan)) for name, plan in self._plans.items()
        }

    @property
    def watched(self) -> int:
        """How many files are watched (the manifest included)."""
        return len({path for seen in self._seen.values() for path in seen}) + 1

    def run(self) -> None:
        """Look and reload forever (until a signal interrupts the main thread)."""
        while True:
            self.poll()
            time.sleep(self.interval)

    def poll(self) -> bool:
        """Look once; reload what changed. Whether anything changed."""
        seen, manifest_seen = self._look(), snapshot([self.manifest.path])
        if seen == self._seen and manifest_seen == self._manifest_seen:
            return False
        started = time.monotonic()
        while True:  # until two looks agree: a save may be several writes
            time.sleep(SETTLE)
            again, manifest_again = self._look(), snapshot([self.manifest.path])
            if again == seen and manifest_again == manifest_seen:
                break
            seen, manifest_seen = again, manifest_again
        touched: dict[str, list[Path]] = {}
        for name, now in seen.items():
            files = changed_files(self._seen.get(name, {}), now)
            if files:
                touched[name] = files
        self._seen = seen
        if manifest_seen != self._manifest_seen:
            self._manifest_seen = manifest_seen
            if not self._reread_manifest(touched):
                return True
        if touched:
            self._reload(touched, started)
        return True

    def _reread_manifest(self, touched: dict[str, list[Path]]) -> bool:
        """Read the changed manifest; mark the Lambdas whose entry changed. False: unusable."""
        from sentiment_pipeline.packaging.manifest import Manifest

        path = self.manifest.path
        try:
            new = Manifest.load(path)
        except PipelineError as exc:
            self.complain(
                f"{path.name} changed but cannot be used; the previous Lambdas keep serving:\n"
                + "\n".join(f"  {line}" for line in str(exc).splitlines())
            )
            return False
        old, self.manifest = self.manifest, new
        gone = [n for n in self.names if n not in new.lambdas]
        added = [n for n in new.lambdas if n not in old.lambdas]
        urls = [
            n
            for n in self.names
            if n in new.lambdas
            and (old.deploy_settings(n).function_url is None)
            != (new.deploy_settings(n).function_url is None)
        ]
        notes = (
            [f"removed: {', '.join(gone)} (still served)"] * bool(gone)
            + [f"added: {', '.join(added)} (not served)"] * bool(added)
            + [f"Function URL added or removed: {', '.join(urls)}"] * bool(urls)
        )
        if notes:
            self.complain(f"{path.name}: restart serve to apply: {'; '.join(notes)}")
        for name in changed_entries(old, new, self.names):
            touched.setdefault(name, []).append(path)
        self._plan()
        self._seen = self._look()
        return True

    def _reload(self, touched: Mapping[str, list[Path]], started: float) -> None:
        from sentiment_pipeline.packaging.build import build

        names = [n for n in self.names if n in touched]
        files = sorted({f for n in names for f in touched[n]})
        cause = self._relative(files[0]) + (f" and {len(files) - 1} more" if len(files) > 1 else "")
        self.reloads += 1
        building = time.monotonic()
        try:
            result = build(self.manifest, attrs.evolve(self.options, only=tuple(names)))
        except PipelineError as exc:
            self._failed(names, started, cause, [str(exc)])
            return
        problems = _problems(result)
        built = function_specs(
            self.manifest,
            result,
            names,
            extra_environment=self.extra_environment,
            aws_environment=self.aws_environment,
        )
        starting = time.monotonic()
        errors = self.functions.replace(built)
        phases = f"build {starting - building:.2f} s, workers {time.monotonic() - starting:.2f} s"
        problems += [
            f"{name}: {error.get('errorType')}: {error.get('errorMessage')}"
            for name, error in errors.items()
        ]
        reloaded = [n for n in names if n in built and n not in errors]
        seconds = time.monotonic() - started
        if reloaded:
            self.say(f"reloaded {', '.join(reloaded)} in {seconds:.2f} s ({cause}; {phases})")
        kept = [n for n in names if n not in reloaded]
        if kept:
            self._failed(kept, started, cause, problems)

    def _failed(
        self, names: Sequence[str], started: float, cause: str, problems: list[str]
    ) -> None:
        seconds = time.monotonic() - started
        self.complain(
            f"reload of {', '.join(names)} failed after {seconds:.2f} s ({cause}); the previous "
            "code keeps serving:\n" + "\n".join(f"  {line}" for line in problems)
        )

    def _relative(self, path: Path) -> str:
        try:
            return str(path.relative_to(self.manifest.root))
        except ValueError:
            return str(path)


def _problems(result: BuildResult) -> list[str]:
    """One line per problem of each artifact that failed, then where the reports are."""
    lines = [
        f"{a.name}: [{p.code.value}] {p.message}"
        for a in result.artifacts
        if not a.ok
        for p in a.problems
    ]
    if lines:
        lines.append(f"see {', '.join(str(p) for p in result.reports)}")
    return lines
