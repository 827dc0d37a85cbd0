"""One run of the import-check program over a filled sandbox: with an interpreter of
this machine, or with ``python3`` inside a container image of the target.

The program (``sandbox/importcheck.py``) writes its result to ``result.json`` in the
sandbox; a run that dies first gets a synthetic one (``Crash``, ``Timeout``).
"""

from __future__ import annotations

import json
import shutil
import subprocess
from typing import TYPE_CHECKING, Any

from sentiment_pipeline.packaging.sandbox import (
    IMPORT_CHECK,
    FunctionIdentity,
    LocalRoot,
    environment,
    isolated_command,
)

if TYPE_CHECKING:
    from collections.abc import Mapping
    from pathlib import Path

    from sentiment_pipeline.packaging.install.engines import Engine
    from sentiment_pipeline.packaging.targets import Target

__all__ = [
    "TIMEOUT",
    "EngineFailed",
    "attempt",
    "command",
    "import_environment",
    "outcome",
    "timed_out",
]

TIMEOUT = 120
"""Seconds an import may take (Lambda's init phase has 10)."""

_FUNCTION_NAME = "sentiment-pipeline-verify"


def command(
    python: str,
    target: Target,
    root: Path,
    handler: str,
    sdk: Path | None,
    bytecode: Path | None,
    *,
    program: Path = IMPORT_CHECK,
    wait: bool = False,
) -> list[str]:
    """The import check of ``handler`` in the sandbox ``root``, with the SDK and the
    bytecode cache when there are; with ``wait``, it waits for "go" on stdin."""
    cached = [str(root), *([str(sdk)] if sdk else [])]
    return isolated_command(
        python,
        program,
        json.dumps(LocalRoot(root).import_paths(target)),
        json.dumps([str(sdk)] if sdk else []),
        handler,
        str(root / "result.json"),
        str(bytecode) if bytecode is not None else "",
        ":".join(cached),
        *(["wait"] if wait else []),
    )


def import_environment(
    target: Target, root: Path, handler: str, own: Mapping[str, str] | None = None
) -> dict[str, str]:
    """Lambda's environment for the import check, its paths moved into the sandbox, and
    the function's ``own`` variables (its deploy environment) over it, as Lambda sets them."""
    env = environment(target, LocalRoot(root), FunctionIdentity(_FUNCTION_NAME, handler))
    env.update(own or {})
    return env


def timed_out() -> dict[str, Any]:
    return {
        "ok": False,
        "kind": "Timeout",
        "message": f"the import took over {TIMEOUT} s; module-level code must not "
        "block (Lambda's init phase is limited to 10 s)",
    }


def outcome(root: Path, returncode: int, output: str) -> dict[str, Any]:
    """The program's result, or a synthetic one if it died before writing it."""
    out = root / "result.json"
    if not out.exists():
        tail = output.strip()[-2000:]
        return {
            "ok": False,
            "kind": "Crash",
            "message": f"the interpreter died (exit {returncode}): {tail}",
        }
    result: dict[str, Any] = json.loads(out.read_text())
    return result


def attempt(
    python: str,
    target: Target,
    root: Path,
    handler: str,
    sdk: Path | None,
    in_image: tuple[Engine, str] | None = None,
    bytecode: Path | None = None,
    own: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """One isolated import; the program's result, or a synthetic one if it died."""
    (root / "result.json").unlink(missing_ok=True)
    env = import_environment(target, root, handler, own)
    try:
        if in_image is not None:
            # The container sees the sandbox only: the program goes there too.
            program = root / IMPORT_CHECK.name
            shutil.copyfile(IMPORT_CHECK, program)
            argv = command(python, target, root, handler, sdk, None, program=program)
            proc = _run_in_image(*in_image, argv, root, sdk, env)
        else:
            proc = subprocess.run(
                command(python, target, root, handler, sdk, bytecode),
                cwd=LocalRoot(root).task_root,
                env=env,
                capture_output=True,
                text=True,
                timeout=TIMEOUT,
                check=False,
            )
    except subprocess.TimeoutExpired:
        return timed_out()
    return outcome(root, proc.returncode, proc.stderr or proc.stdout)


class EngineFailed(Exception):
    """The engine could not run the image at all (not a result of the import)."""


def _run_in_image(
    engine: Engine,
    image: str,
    argv: list[str],
    root: Path,
    sdk: Path | None,
    env: dict[str, str],
) -> subprocess.CompletedProcess[str]:
    """Run the import in ``image``, the sandbox (and SDK) mounted at their own paths.

    Same paths inside and out, so every argument of the program stays valid; the
    image's own PATH (``python3`` is its interpreter) replaces the host's.
    """
    mounts = [(root, str(root), False)]
    if sdk is not None:
        mounts.append((sdk, str(sdk), True))
    env = {key: value for key, value in env.items() if key != "PATH"}
    from sentiment_pipeline.packaging.install.engines import EngineError

    try:
        return engine.run(
            image,
            argv,
            mounts=mounts,
            env=env,
            cwd=str(LocalRoot(root).task_root),
            timeout=TIMEOUT,
        )
    except EngineError as exc:
        raise EngineFailed(str(exc)) from exc
