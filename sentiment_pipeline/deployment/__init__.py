"""Deploy verified artifacts to AWS Lambda: ``sentiment-pipeline deploy``.

Only what the last build verified is deployed (:mod:`.artifacts`); only what changed is
uploaded (:mod:`.plan`, pure, over what :mod:`.aws` reads); each new version is
smoke-tested before its alias takes traffic (:mod:`.smoke`); ``dist/deploy.json`` says
what happened (:mod:`.record`). :mod:`.run` drives it. Build side: Lambda artifacts
never carry this package.
"""

from __future__ import annotations

from sentiment_pipeline.deployment.errors import AwsCallError, DeployError, RefusedError
from sentiment_pipeline.deployment.options import DeployOptions, SmokeMode
from sentiment_pipeline.deployment.record import DeployRecord, FunctionRecord, LayerRecord
from sentiment_pipeline.deployment.run import deploy

__all__ = [
    "AwsCallError",
    "DeployError",
    "DeployOptions",
    "DeployRecord",
    "FunctionRecord",
    "LayerRecord",
    "RefusedError",
    "SmokeMode",
    "deploy",
]
