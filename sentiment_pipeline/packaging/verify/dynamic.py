"""The dynamic check: import the handler in an interpreter of the target, and what its
outcome means.

The function and its layers are unpacked into a sandbox laid out like Lambda's
(:mod:`~sentiment_pipeline.packaging.verify.sandboxslot`); an isolated interpreter
imports the handler there with exactly Lambda's path order and environment (the
program ``sandbox/importcheck.py``, run by
:mod:`~sentiment_pipeline.packaging.verify.importattempt`). The import itself runs in
full every time: every module's code executes anew; only compiling is saved, by the
bytecode cache kept for the slot's stable paths.

:func:`~sentiment_pipeline.packaging.verify.check.verify` fills the sandbox while it
streams the artifact for the static checks and starts the interpreter before that
(:mod:`~sentiment_pipeline.packaging.verify.liveimport`); :func:`run_dynamic` unpacks
on its own.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sentiment_pipeline.packaging.verify.importattempt import EngineFailed, attempt
from sentiment_pipeline.packaging.verify.interpreters import find_interpreter
from sentiment_pipeline.packaging.verify.loaded import classify
from sentiment_pipeline.packaging.verify.report import DynamicResult
from sentiment_pipeline.packaging.verify.sandboxslot import SandboxSlot
from sentiment_pipeline.packaging.verify.sdk import runtime_sdk

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping, Sequence
    from pathlib import Path

    from sentiment_pipeline.packaging.install.engines import Engine
    from sentiment_pipeline.packaging.sandbox import Placed
    from sentiment_pipeline.packaging.targets import Target
    from sentiment_pipeline.packaging.verify.sdk import SdkResult

__all__ = ["conclude", "run_dynamic"]


def _skipped_no_interpreter(target: Target, interpreter: str | None) -> DynamicResult:
    if interpreter:
        return DynamicResult(
            False,
            f"dynamic check skipped: {interpreter} is not a "
            f"python{target.python} interpreter for {target.machine}",
        )
    return DynamicResult(
        False,
        f"dynamic check skipped: no python{target.python} interpreter for {target.architecture}",
    )


def _image_mismatch(target: Target, result: dict[str, Any]) -> str | None:
    python, machine = result.get("python"), result.get("machine")
    if python is not None and python != target.python:
        return f"its python3 is Python {python}, not {target.python}"
    if machine is not None and machine != target.machine:
        return f"it runs on {machine}, not {target.machine}"
    return None


def _host_libraries(result: dict[str, Any]) -> str:
    """The one line saying the import ran with this machine's libraries, and what the
    check did about it."""
    libc = result.get("libc")
    ran = "the import ran with this machine's libraries" + (f" ({libc})" if libc else "")
    if isinstance(result.get("loaded"), list):
        return (
            f"{ran}; libraries outside the artifact and the runtime's set were checked "
            "by what it loaded"
        )
    return (
        f"{ran}; what it loaded could not be read, so a library Lambda lacks may have "
        "been found here"
    )


def conclude(
    target: Target,
    handler: str,
    python: str,
    result: dict[str, Any],
    sdk: SdkResult,
    retry: Callable[[Path], dict[str, Any]],
    *,
    offline: bool,
    root: Path,
    host: bool,
) -> DynamicResult:
    """From the program's result to the check's; ``retry(sdk_path)`` imports again with
    the SDK when the import missed an SDK module that was not cached. ``root`` is the
    sandbox the import ran in; ``host``: with this machine's libraries (a host
    interpreter, not an image)."""
    missing = (result.get("missing") or "").split(".")[0]
    needs_sdk = not result.get("ok") and missing in target.sdk_modules
    if needs_sdk and sdk.path is None and not offline:
        sdk = runtime_sdk(target)
        if sdk.path is not None:
            result = retry(sdk.path)
    roots = [str(root), *([str(sdk.path)] if sdk.path is not None else [])]
    stdlib = result.get("stdlib")
    loaded = classify(
        target, result.get("loaded"), roots, stdlib if isinstance(stdlib, str) else None
    )
    # A synthetic result (a crash, a timeout) has no "python": the program never reported.
    host_line = _host_libraries(result) if host and "python" in result else None
    if result.get("ok"):
        return DynamicResult(
            True,
            f"dynamic check: imported {handler} with {python}",
            python,
            loaded=loaded,
            host_libraries=host_line,
        )
    if needs_sdk and sdk.path is None:
        return DynamicResult(
            True,
            f"dynamic check incomplete: {handler} needs {missing!r} "
            f"from the runtime's SDK, which is not available here "
            f"({sdk.reason})",
            python,
            detail=result.get("traceback"),
            loaded=loaded,
            host_libraries=host_line,
        )
    message = (
        f"importing {handler} with {python} failed: {result.get('kind')}: "
        f"{result.get('message')}. Lambda would fail every invocation with "
        "Runtime.ImportModuleError."
    )
    return DynamicResult(
        True,
        f"dynamic check: import of {handler} FAILED",
        python,
        problem=message,
        detail=result.get("traceback"),
        loaded=loaded,
        host_libraries=host_line,
    )


def run_dynamic(
    target: Target,
    placed: Sequence[Placed],
    handler: str,
    *,
    interpreter: str | None = None,
    offline: bool = False,
    engine: Engine | None = None,
    image: str | None = None,
    prefer_image: bool = False,
    own: Mapping[str, str] | None = None,
) -> DynamicResult:
    """Import ``handler`` from the unpacked artifacts in an interpreter of the target.

    With ``prefer_image`` (the artifact *is* ``image``, a container image), the
    import runs inside it even when this machine has a matching interpreter.

    The runtime's SDK is used from the cache when it is there; it is fetched only
    when the import actually needs it. When no host interpreter matches and
    ``engine`` and ``image`` are given, the import runs with ``python3`` inside a
    container of ``image`` (the target's build image) instead.
    """
    python = None if prefer_image and engine and image else find_interpreter(target, interpreter)
    in_image = (engine, image) if python is None and engine and image else None
    if in_image is not None:
        python = f"python3 in {image} ({in_image[0].name})"
    if python is None:
        return _skipped_no_interpreter(target, interpreter)
    sdk = runtime_sdk(target, offline=True)
    try:
        sandbox = SandboxSlot(placed)
    except OSError as exc:
        return DynamicResult(False, f"dynamic check skipped: cannot unpack here ({exc})")
    try:
        root = sandbox.root
        try:
            sandbox.unpack(placed)
        except OSError as exc:
            return DynamicResult(False, f"dynamic check skipped: cannot unpack here ({exc})")
        executable = "python3" if in_image else python
        bytecode = None if in_image else sandbox.bytecode

        def retry(sdk_path: Path) -> dict[str, Any]:
            return attempt(executable, target, root, handler, sdk_path, in_image, bytecode, own)

        try:
            result = attempt(executable, target, root, handler, sdk.path, in_image, bytecode, own)
            mismatch = _image_mismatch(target, result) if in_image else None
            if mismatch:
                return DynamicResult(False, f"dynamic check skipped: {image}: {mismatch}")
            return conclude(
                target, handler, python, result, sdk, retry,
                offline=offline, root=root, host=in_image is None,
            )  # fmt: skip
        except EngineFailed as exc:
            return DynamicResult(False, f"dynamic check skipped: {exc}")
    finally:
        sandbox.close()
