"""The runtime loop of one local Lambda worker, run inside the target interpreter.

This file is never imported by the host: :mod:`sentiment_pipeline.local.worker`
runs it with ``python -I -S -B bootstrap.py`` (the sandbox's ``isolated_command``) in
an interpreter of the function's Python version, so nothing of the host (its
``sys.path``, its site-packages, this library) is visible to the handler. It must
therefore run on every Python the catalog knows (3.9+): no newer syntax, standard
library only.

Like Lambda's bootstrap it puts the import roots in front of the standard library
(in the order :mod:`sentiment_pipeline.packaging.sandbox` gives them, the runtime's
SDK last), honours ``.pth`` files there, imports the handler once (the init phase),
then serves invocations one at a time.

Protocol: one JSON object per line. Requests come on stdin
(``{"request_id", "event", "deadline_ms", "arn"}``); answers go to the file
descriptor given on the command line, never stdout, which is the function's log
like in Lambda. The first answer is the init outcome (``{"init": "ok"}`` or
``{"init": "error", "error": {...}}``; after an init error the worker exits, as
Lambda re-runs init on the next invocation). Then one answer per request:
``{"ok": true, "result": ...}`` or ``{"ok": false, "error": {"errorMessage",
"errorType", "requestId", "stackTrace"}}`` (Lambda's error body).
"""

from __future__ import annotations

import importlib
import json
import os
import site
import sys
import time
import traceback
from typing import Any

front = json.loads(sys.argv[1])
sdk = json.loads(sys.argv[2])
handler_name = sys.argv[3]
answers = os.fdopen(int(sys.argv[4]), "w", buffering=1, encoding="utf-8")
sys.path[:0] = front + sdk
for directory in front:
    site.addsitedir(directory)


class LambdaContext:
    """What the runtime passes as ``context`` (the attributes handlers use)."""

    def __init__(self, request_id: str, deadline_ms: float, arn: str) -> None:
        self.aws_request_id = request_id
        self.invoked_function_arn = arn
        self.function_name = os.environ.get("AWS_LAMBDA_FUNCTION_NAME", "")
        self.function_version = os.environ.get("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
        self.memory_limit_in_mb = os.environ.get("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128")
        self.log_group_name = os.environ.get("AWS_LAMBDA_LOG_GROUP_NAME", "")
        self.log_stream_name = os.environ.get("AWS_LAMBDA_LOG_STREAM_NAME", "")
        self.identity = None
        self.client_context = None
        self._deadline_ms = deadline_ms

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int(self._deadline_ms - time.time() * 1000))


# Where Lambda's "/" is on this machine (the runner says): tracebacks show Lambda's paths.
local_root = sys.argv[5].rstrip("/") if len(sys.argv) > 5 else ""


def error_body(
    exc: BaseException, request_id: str | None, error_type: str | None = None
) -> dict[str, Any]:
    # Like Lambda's runtime, the trace starts at the handler: this loop's frames are not
    # the function's, and its files are where Lambda has them (/var/task, /opt).
    frames = [f for f in traceback.extract_tb(exc.__traceback__) if f.filename != __file__]
    trace = traceback.format_list(frames)
    if local_root:
        trace = [t.replace(f'File "{local_root}/', 'File "/') for t in trace]
    return {
        "errorMessage": str(exc),
        "errorType": error_type or type(exc).__name__,
        "requestId": request_id,
        "stackTrace": trace,
    }


def log_error(body: dict[str, Any]) -> None:
    # Lambda's runtime logs an unhandled error as one "[ERROR]" line with its body.
    sys.stdout.write(
        "[ERROR] {}: {} {}\n".format(body["errorType"], body["errorMessage"], json.dumps(body))
    )
    sys.stdout.flush()


def send(message: dict[str, Any]) -> None:
    answers.write(json.dumps(message) + "\n")
    answers.flush()


try:
    module_name, _, function_name = handler_name.rpartition(".")
    module = importlib.import_module(module_name.replace("/", "."))
    handler = getattr(module, function_name)
except Exception as exc:  # Lambda reports these as Runtime.ImportModuleError / HandlerNotFound
    kind = (
        "Runtime.HandlerNotFound"
        if isinstance(exc, AttributeError)
        else "Runtime.ImportModuleError"
    )
    body = error_body(exc, None, kind)
    body["errorMessage"] = f"Unable to import module '{module_name}': {exc}"
    log_error(body)
    send({"init": "error", "error": body})
    sys.exit(1)
send({"init": "ok", "python": "{}.{}".format(*sys.version_info[:2])})

for line in sys.stdin:
    request = json.loads(line)
    request_id = request["request_id"]
    context = LambdaContext(request_id, request["deadline_ms"], request["arn"])
    sys.stdout.write(f"START RequestId: {request_id} Version: $LATEST\n")
    sys.stdout.flush()
    try:
        result = handler(request["event"], context)
        try:
            answer = {"ok": True, "result": result}
            payload = json.dumps(answer)
        except (TypeError, ValueError) as exc:
            body = error_body(exc, request_id, "Runtime.MarshalError")
            body["errorMessage"] = f"Unable to marshal response: {exc}"
            log_error(body)
            payload = json.dumps({"ok": False, "error": body})
    except Exception as exc:
        body = error_body(exc, request_id)
        log_error(body)
        payload = json.dumps({"ok": False, "error": body})
    sys.stdout.flush()
    sys.stderr.flush()
    sys.stdout.write(f"END RequestId: {request_id}\n")
    sys.stdout.flush()
    answers.write(payload + "\n")
    answers.flush()
