"""``sentiment-pipeline serve``: build (or reuse) the artifacts, then run them locally.

Every artifact goes through ``build`` first, so what is served is what would be
deployed, verified: a broken artifact fails here, before it can answer a 502.

This repository's manifest runs as the pipeline's stack (:mod:`.stack`: moto,
SNS -> analysis, the sample data, the dashboard). Any other manifest has its
Lambdas served by themselves (:mod:`.functions`); what a user sees (stdout; the
build's progress and the functions' problems go to stderr)::

    api     http://127.0.0.1:8000/
    admin   http://127.0.0.1:8001/
    worker  no Function URL (invoke it with `sentiment-pipeline invoke worker`)
    serving; Ctrl-C (or SIGTERM) stops

With ``--watch``, a saved change to a Lambda's files or its manifest entry
rebuilds and swaps that Lambda (:mod:`.reload`), one line per reload.
"""

from __future__ import annotations

import os
import sys
import threading
from pathlib import Path
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

from sentiment_pipeline.errors import PipelineError

if TYPE_CHECKING:
    # Imported where used: the CLI builds this parser on every run, even a no-op build.
    import argparse
    from collections.abc import Callable, Mapping

    from sentiment_pipeline.local.runner import FunctionSpec
    from sentiment_pipeline.local.stack import Stack
    from sentiment_pipeline.packaging.manifest import Manifest
    from sentiment_pipeline.packaging.options import BuildOptions
    from sentiment_pipeline.packaging.results import BuildResult
    from sentiment_pipeline.packaging.targets import Target

__all__ = [
    "BuildFailedError",
    "build_failure",
    "build_specs",
    "command",
    "ensure_interpreter",
    "is_pipeline",
    "log_printer",
    "serve_functions",
    "summary_table",
]

TIMEOUTS = {"ingestion": 120.0, "analysis": 30.0, "dashboard": 10.0}
"""Seconds per role (the values a deployment of this pipeline would configure)."""
CONCURRENCY = {"ingestion": 1, "analysis": 2, "dashboard": 4}


_NO_VARIABLES: Mapping[str, str] = MappingProxyType({})


class BuildFailedError(PipelineError):
    """A Lambda did not build or verify: nothing is served."""


def build_specs(
    manifest: Manifest,
    options: BuildOptions,
    *,
    extra_environment: Mapping[str, str] = _NO_VARIABLES,
) -> tuple[dict[str, FunctionSpec], BuildResult]:
    """Build the manifest's pipeline Lambdas (reusing unchanged artifacts) as runnable specs.

    ``options`` are a build's (its ``only`` is replaced by the pipeline's Lambdas).
    Each spec's environment is its ``deploy.environment`` under ``extra_environment``.
    """
    import attrs

    from sentiment_pipeline.local.runner import FunctionSpec
    from sentiment_pipeline.local.stack import ROLES, StackError
    from sentiment_pipeline.packaging.build import build
    from sentiment_pipeline.packaging.plan import plan_functions

    options = attrs.evolve(options, only=ROLES)
    functions = {f.name: f for f in plan_functions(manifest, backend=options.backend)}
    missing = [role for role in ROLES if role not in functions]
    if missing:
        raise StackError(
            f"{manifest.path}: serve runs the Lambdas {', '.join(ROLES)}; missing: "
            f"{', '.join(missing)}"
        )
    result = build(manifest, options)
    if not result.ok:
        raise build_failure(result)
    specs = {}
    for artifact in result.artifacts:
        if artifact.kind != "function" or artifact.name not in TIMEOUTS:
            continue
        plan = functions[artifact.name]
        specs[artifact.name] = FunctionSpec(
            name=artifact.name,
            handler=plan.handler,
            target=plan.target,
            artifact=Path(artifact.path),
            layers=tuple(Path(p) for p in artifact.layers),
            environment={
                **manifest.deploy_settings(artifact.name).environment,
                **extra_environment,
            },
            timeout=TIMEOUTS[artifact.name],
            concurrency=CONCURRENCY[artifact.name],
        )
    return specs, result


def build_failure(result: BuildResult) -> BuildFailedError:
    """The error of a build that did not verify: each failed artifact's first problems."""
    failed = [a for a in result.artifacts if not a.ok]
    details = "; ".join(
        f"{a.name}: "
        + ", ".join(f"{p.code.value} {p.path}" for p in a.problems[:3])
        + (f" and {len(a.problems) - 3} more" if len(a.problems) > 3 else "")
        for a in failed
    )
    return BuildFailedError(
        f"the build failed verification, nothing is served ({details}); see "
        f"{', '.join(str(p) for p in result.reports)}"
    )


def _targets(manifest: Manifest) -> list[Target]:
    from sentiment_pipeline.local.stack import ROLES
    from sentiment_pipeline.packaging.plan import plan_functions

    return [f.target for f in plan_functions(manifest) if f.name in ROLES]


def summary_table(stack: Stack) -> str:
    """Counts per status and sentiment, per source, read through the dashboard's API."""
    import json
    import urllib.request

    request = urllib.request.Request(
        f"{stack.url}/api/metrics?hours=168", headers={"X-API-Key": stack.api_key}
    )
    with urllib.request.urlopen(request, timeout=30) as answer:
        metrics: dict[str, Any] = json.load(answer)
    lines = [f"items in the last 7 days: {metrics['total']}"]
    lines.append(
        "  by status:    " + ", ".join(f"{k} {v}" for k, v in metrics["by_status"].items())
    )
    lines.append(
        "  by sentiment: " + ", ".join(f"{k} {v}" for k, v in metrics["by_sentiment"].items())
    )
    width = max((len(s) for s in metrics["by_source"]), default=6)
    lines.append("  by source:")
    lines += [f"    {s:<{width}}  {n:>4}" for s, n in metrics["by_source"].items()]
    return "\n".join(lines)


def ensure_interpreter(target: Target, explicit: str | None, *, offline: bool) -> None:
    """Make sure an interpreter of ``target``'s Python exists here, installing one with uv.

    The workers run the artifacts with the runtime's Python version; when this
    machine has none, ``uv python install`` fetches a standalone build (it needs
    the network). Raises StackError naming the ways out when that fails.
    """
    import subprocess

    from sentiment_pipeline.local.stack import StackError
    from sentiment_pipeline.packaging.lock import uv_binary
    from sentiment_pipeline.packaging.verify.interpreters import find_interpreter

    python = target.python
    if explicit or find_interpreter(target) is not None:
        return
    ways_out = (
        f"install python{python} (e.g. `uv python install {python}`, pyenv, or your package "
        "manager) or pass --interpreter PATH"
    )
    if offline:
        raise StackError(f"no python{python} interpreter on this machine (--offline): {ways_out}")
    print(f"no python{python} here: `uv python install {python}` ...", file=sys.stderr, flush=True)
    try:
        done = subprocess.run(
            [uv_binary(), "python", "install", python],
            capture_output=True,
            text=True,
            timeout=600,
            check=False,
        )
        problem = "" if done.returncode == 0 else (done.stderr.strip().splitlines() or [""])[-1]
    except (OSError, subprocess.TimeoutExpired) as exc:
        problem = str(exc)
    if problem or find_interpreter(target) is None:
        raise StackError(
            f"no python{python} interpreter on this machine and uv could not install one "
            f"({problem or 'installed, but not found'}): {ways_out}"
        )


def _print_log(function: str, line: str) -> None:
    print(f"[{function}] {line}", file=sys.stderr, flush=True)


_PROBLEMS = (
    '"level": "WARNING"',
    '"level": "ERROR"',
    '"level": "CRITICAL"',
    "[ERROR]",
    "Task timed out",
)


def _print_problems(function: str, line: str) -> None:
    if any(marker in line for marker in _PROBLEMS):
        _print_log(function, line)


def log_printer(verbose: bool) -> Callable[[str, str], None]:
    """Where the functions' log lines go: every line (``--verbose``), else problems only."""
    return _print_log if verbose else _print_problems


def is_pipeline(manifest: Manifest) -> bool:
    """Whether ``manifest`` is this repository's pipeline (it defines the three roles):
    ``serve`` then runs its stack (moto, SNS -> analysis, the sample data)."""
    from sentiment_pipeline.local.stack import ROLES

    return all(role in manifest.lambdas for role in ROLES)


def command(
    args: argparse.Namespace,
    *,
    extra_environment: Mapping[str, str] = _NO_VARIABLES,
    aws_environment: Mapping[str, str] = _NO_VARIABLES,
) -> int:
    """``serve``: check what it needs, build, start, serve until SIGINT or SIGTERM.

    The pipeline's manifest (:func:`is_pipeline`, no ``--lambda``) runs its stack;
    any other serves its Lambdas by themselves (:mod:`.functions`), each Function URL
    on its own port. ``extra_environment`` and ``--env`` reach every function (over
    its ``deploy.environment``); ``aws_environment`` and ``--aws`` (passthrough by
    default: your AWS configuration; local: a moto server for as long as serving lasts)
    go under it, as ``invoke`` layers them; not for the pipeline's stack, whose
    functions use its own moto. Returns 0 when serving ended by a signal (or after
    ``--once``); raises for everything else (the CLI maps errors to 1 or 2, an
    interruption before the URLs were printed to 128 + the signal's number). Paths
    in ``args`` are absolute.
    """
    from sentiment_pipeline.local.overrides import aws_environment as aws_of
    from sentiment_pipeline.local.overrides import parse_env
    from sentiment_pipeline.local.stack import StackError
    from sentiment_pipeline.packaging.manifest import Manifest

    manifest = Manifest.load(args.manifest)
    given = parse_env(getattr(args, "env", None) or [])
    extra_environment = {**extra_environment, **given}
    aws = getattr(args, "aws", None)
    if args.lambdas or not is_pipeline(manifest):
        with aws_of(aws or "passthrough") as chosen:
            return serve_functions(
                args,
                manifest,
                extra_environment=extra_environment,
                aws_environment={**chosen, **aws_environment},
            )
    if aws is not None:
        raise StackError(
            f"--aws {aws}: the pipeline's stack runs its functions against its own moto "
            "server; serve some of its Lambdas alone (--lambda NAME --aws ...) to choose"
        )
    if args.watch:
        raise StackError(
            "--watch reloads Lambdas served by themselves; this manifest's pipeline stack "
            "(ingestion, analysis, dashboard with moto) does not reload: restart serve after "
            "a change, or serve some of its Lambdas alone (--lambda NAME --watch)"
        )
    return _serve_pipeline(args, manifest, extra_environment)


def _serve_pipeline(
    args: argparse.Namespace, manifest: Manifest, extra_environment: Mapping[str, str]
) -> int:
    import json

    from sentiment_pipeline.local.moto import missing_local_extra
    from sentiment_pipeline.local.stack import Stack, StackError, StackOptions
    from sentiment_pipeline.packaging.options import BuildOptions

    # What serve needs beyond the library, before any work: each with its fix.
    fix = missing_local_extra()
    if fix is not None:
        raise StackError(f"serve needs the [local] extra (moto's server); install it: {fix}")
    for target in {t.runtime + t.architecture: t for t in _targets(manifest)}.values():
        ensure_interpreter(target, args.interpreter, offline=args.offline)

    newsapi_key = os.environ.get("NEWSAPI_KEY") or None
    sample = args.sample_data or not newsapi_key

    def progress(message: str) -> None:
        print(f"  ... {message}", file=sys.stderr, flush=True)

    print(f"building {manifest.path} ...", file=sys.stderr, flush=True)
    specs, result = build_specs(
        manifest,
        BuildOptions(
            backend=args.backend,
            out=args.out,
            engine=args.engine,
            offline=args.offline,
            base_image=args.base_image,
            progress=progress,
        ),
        extra_environment=extra_environment,
    )
    for artifact in result.artifacts:
        reused = "reused" if artifact.cache_hit else "built"
        print(f"  {artifact.name}: {artifact.path} ({reused}, verified)", file=sys.stderr)
    options = StackOptions(
        state_dir=args.state_dir,
        host=args.host,
        port=args.port,
        api_key=args.api_key,
        sample_data=sample,
        newsapi_key=newsapi_key,
        ingest_every=0 if args.once else args.ingest_every,
        ingest_on_start=False,  # the first ingestion runs below, before the summary
        cors_origins=args.cors_origins,
        interpreter=args.interpreter,
        offline=args.offline,
        log_sink=log_printer(args.verbose),
    )
    print("starting the local stack ...", file=sys.stderr, flush=True)
    with Stack(specs, options) as stack:
        status = stack.wait_healthy()
        if status != 200:
            raise StackError(
                f"the dashboard's /health answered {status or 'nothing'}; see its log above"
            )
        if stack.restored:
            print(f"restored {stack.restored} items from {options.state_dir}")
        invocation = stack.ingest()
        if invocation.ok:
            print(f"ingestion: {json.dumps(invocation.result)}", flush=True)
            stack.wait_idle(timeout=120)
        else:
            error = invocation.error or {}
            print(
                f"ingestion failed: {error.get('errorType')}: {error.get('errorMessage')}",
                file=sys.stderr,
            )
            if args.once:
                return 1
        print(summary_table(stack), flush=True)
        if args.once:
            return 0
        print(f"dashboard: {stack.url}/   API key: {stack.api_key}", flush=True)
        print(
            f"ingest now: curl -X POST -H 'X-API-Key: {stack.api_key}' {stack.url}/_local/ingest",
            flush=True,
        )
        print(
            "serving; Ctrl-C (or SIGTERM) stops, the table is kept in the state directory",
            flush=True,
        )
        try:
            threading.Event().wait()  # until a signal interrupts it
        except KeyboardInterrupt:  # SIGINT, or SIGTERM as the CLI turns it: a normal stop
            print("stopping ...", file=sys.stderr, flush=True)
    return 0


def _stderr(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def _stdout(message: str) -> None:
    print(message, flush=True)


def serve_functions(
    args: argparse.Namespace,
    manifest: Manifest,
    *,
    extra_environment: Mapping[str, str],
    aws_environment: Mapping[str, str] = _NO_VARIABLES,
) -> int:
    """Serve ``manifest``'s Lambdas (those of ``--lambda``, else all) until a signal.

    The ports are bound before the build (a port in use is refused at once, exit
    2), the Lambdas built and verified (exit 1 when one fails: nothing is served),
    one worker of each started (an init error: exit 1), then the Function URLs
    answer. Returns 0 once serving ended by a signal (or after ``--once``).
    """
    from sentiment_pipeline.local.functions import LocalFunctions, function_specs, url_lambdas
    from sentiment_pipeline.local.stack import StackError
    from sentiment_pipeline.packaging.build import build
    from sentiment_pipeline.packaging.options import BuildOptions
    from sentiment_pipeline.packaging.plan import plan_functions

    plans = plan_functions(manifest, only=args.lambdas, backend=args.backend)
    names = [plan.name for plan in plans]
    if not names:
        raise StackError(f"{manifest.path} defines no Lambda: add a [lambdas.NAME] table")
    for target in {p.target.runtime + p.target.architecture: p.target for p in plans}.values():
        ensure_interpreter(target, args.interpreter, offline=args.offline)
    urls = url_lambdas(manifest, names)
    functions = LocalFunctions(
        urls,
        args.state_dir / "functions",
        host=args.host,
        port=args.port,
        interpreter=args.interpreter,
        offline=args.offline,
        log_sink=log_printer(args.verbose),
    )
    try:
        options = BuildOptions(
            backend=args.backend,
            only=names,
            out=args.out,
            engine=args.engine,
            offline=args.offline,
            base_image=args.base_image,
            progress=lambda message: _stderr(f"  ... {message}"),
        )
        _stderr(f"building {manifest.path} ...")
        result = build(manifest, options)
        if not result.ok:
            raise build_failure(result)
        for artifact in result.artifacts:
            reused = "reused" if artifact.cache_hit else "built"
            _stderr(f"  {artifact.name}: {artifact.path} ({reused}, verified)")
        specs = function_specs(
            manifest,
            result,
            names,
            extra_environment=extra_environment,
            aws_environment=aws_environment,
        )
        _stderr(f"starting {len(specs)} Lambda{'s' * (len(specs) != 1)} ...")
        functions.start(specs)
        width = max(len(name) for name in names)
        served = functions.urls
        for name in names:
            where = served.get(name) or (
                f"no Function URL (invoke it with `sentiment-pipeline invoke {name}`)"
            )
            _stdout(f"{name:<{width}}  {where}")
        if args.once:
            return 0
        reloader = None
        if args.watch:
            from sentiment_pipeline.local.reload import Reloader

            reloader = Reloader(
                manifest,
                names,
                functions,
                options,
                extra_environment=extra_environment,
                aws_environment=aws_environment,
                say=_stdout,
                complain=_stderr,
            )
            _stdout(
                f"watching {reloader.watched} files ({manifest.path.name} and the sources and "
                "requirements of each Lambda): a saved change rebuilds and reloads its Lambdas"
            )
        _stdout("serving; Ctrl-C (or SIGTERM) stops")
        try:
            if reloader is not None:
                reloader.run()
            threading.Event().wait()  # until a signal interrupts it
        except KeyboardInterrupt:  # SIGINT, or SIGTERM as the CLI turns it: a normal stop
            _stderr("stopping ...")
        return 0
    finally:
        functions.stop()
