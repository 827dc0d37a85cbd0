"""Lambda's execution environment: the one model of it, used by the verifier's static
checks, its import check and the local runner.

:mod:`~sentiment_pipeline.packaging.sandbox.environment` derives from a target where
artifacts go, the import path, ``LD_LIBRARY_PATH`` and the reserved variables;
:mod:`~sentiment_pipeline.packaging.sandbox.unpacking` unpacks artifacts the way Lambda
does; ``importcheck.py`` is the program that imports a handler inside the target's
interpreter.

>>> from sentiment_pipeline.packaging.sandbox import TASK_ROOT, mount
>>> mount("function") == TASK_ROOT
True
"""

from __future__ import annotations

from sentiment_pipeline.packaging.sandbox.environment import (
    IMPORT_CHECK,
    LAYER_PYTHON,
    LAYERS_ROOT,
    LD_LIBRARY_PATH,
    RUNTIME_BIN,
    RUNTIME_DIR,
    TASK_ROOT,
    FunctionIdentity,
    ImportRoot,
    LocalRoot,
    Placed,
    Role,
    artifact_filled,
    describe_target,
    environment,
    import_roots,
    is_layer_tree,
    isolated_command,
    lambda_path,
    layer_site_packages,
    mount,
    runtime_paths,
    sys_path,
)
from sentiment_pipeline.packaging.sandbox.unpacking import Unpacker, file_mode, unpack

__all__ = [
    "IMPORT_CHECK",
    "LAYERS_ROOT",
    "LAYER_PYTHON",
    "LD_LIBRARY_PATH",
    "RUNTIME_BIN",
    "RUNTIME_DIR",
    "TASK_ROOT",
    "FunctionIdentity",
    "ImportRoot",
    "LocalRoot",
    "Placed",
    "Role",
    "Unpacker",
    "artifact_filled",
    "describe_target",
    "environment",
    "file_mode",
    "import_roots",
    "is_layer_tree",
    "isolated_command",
    "lambda_path",
    "layer_site_packages",
    "mount",
    "runtime_paths",
    "sys_path",
    "unpack",
]
