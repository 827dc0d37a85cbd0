"""Any manifest's Lambdas served locally: every Function URL on a port of its own.

``serve`` runs this for every manifest but this repository's pipeline (which has
its stack, :mod:`.stack`). Each Lambda's built artifact runs in its own pool of
isolated workers (:mod:`.runner`); a Lambda with a Function URL
(``function-url = true``, or a ``deploy.function-url`` table) answers HTTP on
127.0.0.1, one port per Lambda in manifest order from ``--port``. Lambda gives
every Function URL a host of its own, so the handler sees the request's path as
the client sent it: one port per Lambda keeps that (a shared port with
``/<name>/`` prefixes would change every ``rawPath``). Lambdas without a
Function URL are built, verified and warmed like the others, and answer
``sentiment-pipeline invoke NAME``.

Each pool sits behind a :class:`~.swap.SwappableFunction`: ``serve --watch``
(:mod:`.reload`) swaps in a rebuilt Lambda while requests in flight finish on
the old workers.
"""

from __future__ import annotations

import contextlib
import shutil
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sentiment_pipeline.errors import PipelineError
from sentiment_pipeline.local.functionurl import LocalFunctionUrl
from sentiment_pipeline.local.runner import FunctionSpec, LocalFunction, runnable
from sentiment_pipeline.local.stack import InitError, StackError
from sentiment_pipeline.local.swap import SwappableFunction

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping, Sequence

    from sentiment_pipeline.local.runner import Invocation
    from sentiment_pipeline.packaging.manifest import Manifest
    from sentiment_pipeline.packaging.results import BuildResult

__all__ = [
    "CONCURRENCY",
    "DEFAULT_MEMORY",
    "DEFAULT_TIMEOUT",
    "LocalFunctions",
    "function_specs",
    "url_lambdas",
]

DEFAULT_TIMEOUT = 3
"""Seconds: Lambda's timeout for a function created without one (``deploy.timeout`` sets it)."""
DEFAULT_MEMORY = 128
"""MB: Lambda's memory for a function created without it (``deploy.memory`` sets it)."""
CONCURRENCY = 4
"""Workers each Lambda may run at once here."""


_NO_VARIABLES: Mapping[str, str] = {}


def url_lambdas(manifest: Manifest, names: Sequence[str]) -> list[str]:
    """Those of ``names`` that have a Function URL, in manifest order."""
    return [
        name
        for name in manifest.lambdas
        if name in names and manifest.deploy_settings(name).function_url is not None
    ]


def function_specs(
    manifest: Manifest,
    result: BuildResult,
    names: Sequence[str],
    *,
    extra_environment: Mapping[str, str],
    aws_environment: Mapping[str, str] = _NO_VARIABLES,
) -> dict[str, FunctionSpec]:
    """The runnable spec of each of ``names`` that ``result`` built and verified.

    Its environment, as ``invoke`` layers it: ``aws_environment`` (``--aws``: your AWS
    configuration, or a local moto's), then its ``deploy.environment``, then
    ``extra_environment`` (``--env``, which wins); its timeout and memory are its deploy
    settings, else Lambda's defaults.
    """
    from sentiment_pipeline.packaging.plan import plan_functions

    plans = {plan.name: plan for plan in plan_functions(manifest, only=names)}
    specs = {}
    for artifact in result.artifacts:
        if artifact.kind != "function" or artifact.name not in plans or not artifact.ok:
            continue
        plan = plans[artifact.name]
        settings = manifest.deploy_settings(plan.name)
        specs[plan.name] = FunctionSpec(
            name=plan.name,
            handler=plan.handler,
            target=plan.target,
            artifact=Path(artifact.path),
            layers=tuple(Path(p) for p in artifact.layers),
            environment={**aws_environment, **settings.environment, **extra_environment},
            timeout=float(settings.timeout or DEFAULT_TIMEOUT),
            memory=settings.memory or DEFAULT_MEMORY,
            concurrency=CONCURRENCY,
        )
    return specs


class LocalFunctions:
    """The Lambdas of one manifest, running; their Function URLs bound when made.

    Binding first lets ``serve`` refuse a port in use before it builds anything;
    the servers answer once :meth:`start` has warmed every Lambda. Raises
    :class:`~.stack.StackError` naming the port that cannot be bound.
    """

    def __init__(
        self,
        url_names: Sequence[str],
        state: Path,
        *,
        host: str = "127.0.0.1",
        port: int = 8000,
        interpreter: str | None = None,
        offline: bool = False,
        log_sink: Callable[[str, str], None] | None = None,
    ) -> None:
        self.state = state
        self.interpreter = interpreter
        self.offline = offline
        self.log_sink = log_sink
        self.functions: dict[str, SwappableFunction] = {}
        self._servers: dict[str, LocalFunctionUrl] = {}
        self._generation = 0
        last = port + len(url_names) - 1 if port else 0
        if last > 65535:
            raise StackError(
                f"--port {port}: {len(url_names)} Function URLs need the ports {port}-{last}; "
                "pick a lower --port"
            )
        try:
            for offset, name in enumerate(url_names):
                self._bind(name, host, port + offset if port else 0, url_names, port)
        except BaseException:
            self.stop()
            raise

    def _bind(self, name: str, host: str, port: int, names: Sequence[str], first: int) -> None:
        def invoke(event: dict[str, Any], request_id: str) -> Invocation:
            return self.functions[name].invoke(event, request_id)

        try:
            self._servers[name] = LocalFunctionUrl(invoke, host=host, port=port)
        except OSError as exc:
            ports = f"{first}-{first + len(names) - 1}" if len(names) > 1 else str(first)
            raise StackError(
                f"cannot listen on {host}:{port} ({name}'s Function URL): {exc.strerror}; pick "
                f"another --port (one port per Function URL, in manifest order: {ports})"
            ) from exc

    @property
    def urls(self) -> dict[str, str]:
        """Each Function URL by Lambda name, in manifest order (``http://HOST:PORT/``)."""
        return {name: f"{server.url}/" for name, server in self._servers.items()}

    def start(self, specs: Mapping[str, FunctionSpec]) -> None:
        """Unpack every Lambda, start one worker of each (together), then answer HTTP.

        An init that fails here is a broken build: :class:`~.stack.InitError`, and
        nothing is served (the caller stops what started).
        """
        shutil.rmtree(self.state / "reloads", ignore_errors=True)  # a previous run's
        for name, spec in specs.items():
            self.functions[name] = SwappableFunction(
                self._runnable(spec, self.state), retired=self._remove_root
            )
        with ThreadPoolExecutor(max_workers=max(1, len(self.functions))) as pool:
            outcomes = {n: pool.submit(f.current.warm) for n, f in self.functions.items()}
        errors = {name: found[0] for name, o in outcomes.items() if (found := o.result())}
        if errors:
            raise InitError(errors)
        for server in self._servers.values():
            server.start()

    def _runnable(
        self, spec: FunctionSpec, state: Path, reuse: Path | None = None
    ) -> LocalFunction:
        try:
            return runnable(
                spec,
                state,
                interpreter=self.interpreter,
                offline=self.offline,
                log_sink=self.log_sink,
                reuse=reuse,
            )
        except PipelineError as exc:
            raise StackError(str(exc)) from exc

    def replace(self, specs: Mapping[str, FunctionSpec]) -> dict[str, dict[str, Any]]:
        """Start each of ``specs`` beside its running pool, warm it, then swap it in.

        Requests in flight finish on the old workers, which are closed after them.
        A Lambda whose new pool fails to unpack or init keeps its old one: its
        error body is returned by name (the others are swapped all the same).
        """
        errors: dict[str, dict[str, Any]] = {}
        fresh: dict[str, LocalFunction] = {}
        self._generation += 1
        state = self.state / "reloads" / str(self._generation)
        for name, spec in specs.items():
            try:
                fresh[name] = self._runnable(spec, state, self.functions[name].current.root)
            except StackError as exc:
                errors[name] = {"errorType": "Runner", "errorMessage": str(exc)}
        with ThreadPoolExecutor(max_workers=max(1, len(fresh))) as pool:
            outcomes = {n: pool.submit(f.warm) for n, f in fresh.items()}
        for name, outcome in outcomes.items():
            found = outcome.result()
            if found:
                errors[name] = found[0]
                fresh[name].close()
                self._remove_root(fresh[name])
            else:
                self.functions[name].swap(fresh[name])
        return errors

    def _remove_root(self, function: LocalFunction) -> None:
        shutil.rmtree(function.root, ignore_errors=True)
        if function.root.parent != self.state:  # a reload's generation folder, once empty
            with contextlib.suppress(OSError):
                function.root.parent.rmdir()

    def stop(self) -> None:
        """Stop listening, then stop every worker (invocations in flight end)."""
        for server in self._servers.values():
            server.stop()
        for function in self.functions.values():
            function.close()
