"""Where things are in Lambda's execution environment: constants, and nothing else.

A leaf module (it imports nothing), so that any module of the build side may ask it
without depending on the rest of the sandbox; :mod:`.environment` derives everything
else from these.
"""

from __future__ import annotations

__all__ = [
    "LAYERS_ROOT",
    "LAYER_PYTHON",
    "LD_LIBRARY_PATH",
    "RUNTIME_BIN",
    "RUNTIME_DIR",
    "RUNTIME_PREFIX",
    "TASK_ROOT",
]

TASK_ROOT = "/var/task"
"""Where the function is unpacked (``LAMBDA_TASK_ROOT``); read-only, the working directory."""
LAYERS_ROOT = "/opt"
"""Where every layer is unpacked, in the order listed."""
RUNTIME_DIR = "/var/runtime"
"""The runtime's bootstrap and, before python3.11, its SDK (``LAMBDA_RUNTIME_DIR``)."""
RUNTIME_PREFIX = "/var/lang"
"""The runtime's interpreter prefix."""
RUNTIME_BIN = f"{RUNTIME_PREFIX}/bin"
"""Where the runtime's ``python3`` is: first on ``PATH`` in Lambda's images."""
LAYER_PYTHON = "python"
"""A layer's directory for Python code, ``/opt/python`` once unpacked."""

LD_LIBRARY_PATH: tuple[str, ...] = (
    f"{RUNTIME_PREFIX}/lib",
    "/lib64",
    "/usr/lib64",
    RUNTIME_DIR,
    f"{RUNTIME_DIR}/lib",
    TASK_ROOT,
    f"{TASK_ROOT}/lib",
    f"{LAYERS_ROOT}/lib",
)
"""Every python3.9-3.14 base image's ``LD_LIBRARY_PATH`` (aws-lambda-base-images
Dockerfiles): a function's or layer's ``lib/`` resolves, a system library of the
same soname wins."""
