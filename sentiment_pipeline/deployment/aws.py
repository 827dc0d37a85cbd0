"""The Lambda API calls of a deploy: reads, writes, waits, retries, and errors as sentences.

The only module of the deploy that imports botocore. Throttling is retried by
botocore's ``standard`` mode (exponential backoff with jitter); an update still in
progress (``ResourceConflictException``) is waited for (``function_updated_v2``) and
retried with backoff. Every change waits until Lambda says it is done
(``LastUpdateStatus: Successful``, ``State: Active``): a wait that ends otherwise
names the function and Lambda's reason. A call that fails for good raises
:class:`~sentiment_pipeline.deployment.errors.AwsCallError`: one line with the
function, the call and the fix; the credentials in use are never in it.
"""

from __future__ import annotations

import base64
import json
import re
import time
from typing import TYPE_CHECKING, Any

import attrs

from sentiment_pipeline.deployment.errors import AwsCallError, RefusedError
from sentiment_pipeline.deployment.state import (
    Deployed,
    FunctionState,
    LayerState,
    UrlState,
    cors_to_aws,
)

if TYPE_CHECKING:
    from collections.abc import Callable

    from sentiment_pipeline.deployment.artifacts import Artifact, LayerArtifact
    from sentiment_pipeline.deployment.state import Configuration
    from sentiment_pipeline.packaging.manifest import FunctionUrl

__all__ = ["PUBLIC_STATEMENTS", "Answer", "LambdaApi", "missing_boto"]

PUBLIC_STATEMENTS: dict[str, dict[str, Any]] = {
    "sentiment-pipeline-url": {
        "Action": "lambda:InvokeFunctionUrl",
        "Principal": "*",
        "FunctionUrlAuthType": "NONE",
    },
    # Since October 2025, a new Function URL also needs lambda:InvokeFunction
    # (AWS "Control access to Lambda function URLs").
    "sentiment-pipeline-url-invoke": {
        "Action": "lambda:InvokeFunction",
        "Principal": "*",
        "InvokedViaFunctionUrl": True,
    },
}
"""The resource-policy statements an ``auth = "NONE"`` Function URL needs, by their Sid."""

_ATTEMPTS = 8
"""botocore's attempts per call (throttling, 5xx, connection errors), with backoff."""
_CONFLICT_RETRIES = 6
_WAIT_DELAY = 2
_WAIT_ATTEMPTS = 300  # ten minutes: an image function's update can take minutes
_DENIED = {
    "AccessDenied",
    "AccessDeniedException",
    "KMSAccessDeniedException",
}
_BAD_CREDENTIALS = {
    "UnrecognizedClientException",
    "InvalidSignatureException",
    "InvalidClientTokenId",
    "ExpiredToken",
    "ExpiredTokenException",
    "SignatureDoesNotMatch",
}
_THROTTLED = {"TooManyRequestsException", "ThrottlingException", "Throttling"}
_KEY_ID = re.compile(r"\b(?:AKIA|ASIA|AROA|AIDA)[A-Z0-9]{12,}\b")


def missing_boto() -> str | None:
    """None when botocore can be imported, else the command that installs it."""
    import importlib.util

    if importlib.util.find_spec("botocore") is not None:
        return None
    return "pip install 'sentiment-pipeline[deploy]'"


@attrs.frozen
class Answer:
    """What an ``Invoke`` returned."""

    status: int
    function_error: str | None
    payload: bytes
    log_tail: tuple[str, ...]
    """The last lines of the invocation's log (``LogType: Tail``), decoded."""


class LambdaApi:
    """The Lambda API of one region (or endpoint), with the deploy's retries and errors."""

    def __init__(
        self,
        *,
        region: str | None = None,
        endpoint_url: str | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        fix = missing_boto()
        if fix is not None:
            raise RefusedError([f"deploy calls the Lambda API with botocore; install it: {fix}"])
        import botocore.session  # type: ignore[import-untyped]
        from botocore.config import Config  # type: ignore[import-untyped]

        self._session = botocore.session.Session()
        self.region = region or self._session.get_config_variable("region")
        if not self.region:
            raise RefusedError(
                [
                    "no AWS region: pass --region (or set AWS_REGION, or a region in your "
                    "AWS profile)"
                ]
            )
        self.endpoint_url = endpoint_url
        self._sleep = sleep
        self._config = Config
        self.client = self._session.create_client(
            "lambda",
            region_name=self.region,
            endpoint_url=endpoint_url,
            config=Config(
                retries={"mode": "standard", "max_attempts": _ATTEMPTS},
                connect_timeout=10,
                read_timeout=70,
                user_agent_extra="sentiment-pipeline-deploy",
            ),
        )
        self._invokers: dict[int, Any] = {}
        self.writes: list[str] = []
        """Every write call made, in order (``UpdateFunctionCode api``)."""

    # --- errors ---------------------------------------------------------------------

    def _secrets(self) -> list[str]:
        try:
            credentials = self._session.get_credentials()
        except Exception:  # a credentials provider that fails: nothing to hide
            return []
        if credentials is None:
            return []
        frozen = credentials.get_frozen_credentials()
        return [s for s in (frozen.access_key, frozen.secret_key, frozen.token) if s]

    def scrub(self, text: str) -> str:
        """``text`` without the credentials in use (or anything shaped like a key id)."""
        for secret in self._secrets():
            text = text.replace(secret, "***")
        return _KEY_ID.sub("***", text)

    def _sentence(self, function: str, call: str, exc: Exception) -> AwsCallError:
        from botocore.exceptions import (  # type: ignore[import-untyped]
            ClientError,
            ConnectTimeoutError,
            EndpointConnectionError,
            NoCredentialsError,
            ReadTimeoutError,
        )

        where = self.endpoint_url or f"region {self.region}"
        if isinstance(exc, ClientError):
            error = exc.response.get("Error", {})
            code = str(error.get("Code", "Unknown"))
            message = self.scrub(str(error.get("Message", "")).rstrip("."))
            if code in _DENIED:
                fix = (
                    f"allow lambda:{call} on this function in the IAM policy of the identity "
                    "that deploys"
                )
            elif code in _BAD_CREDENTIALS:
                fix = (
                    "the credentials were refused; check AWS_PROFILE or the access key in use, "
                    f"and that they are for the partition of {where}"
                )
            elif code == "ResourceNotFoundException":
                fix = (
                    f"not found in {where}; check the name and --region (Lambda functions "
                    "and layers live in one region)"
                )
            elif code in _THROTTLED:
                fix = (
                    f"throttled by Lambda after {_ATTEMPTS} attempts with backoff; deploy again "
                    "later, or ask for a higher Lambda API quota"
                )
            elif code == "ResourceConflictException":
                fix = "another update is in progress; wait for it to finish, then deploy again"
            else:
                fix = "fix the setting Lambda names and deploy again"
            return AwsCallError(function, call, f"{code}: {message}; {fix}")
        if isinstance(exc, NoCredentialsError):
            return AwsCallError(
                function,
                call,
                "no AWS credentials found; set AWS_PROFILE, or AWS_ACCESS_KEY_ID and "
                "AWS_SECRET_ACCESS_KEY, or run `aws configure`",
            )
        if isinstance(exc, EndpointConnectionError | ConnectTimeoutError | ReadTimeoutError):
            return AwsCallError(
                function,
                call,
                f"cannot reach Lambda at {self.scrub(_endpoint(exc, where))}; "
                f"is the region {self.region!r} right (e.g. us-east-1), or --endpoint-url?",
            )
        return AwsCallError(function, call, self.scrub(str(exc)))

    def call(
        self, function: str, call: str, *, write: bool = False, **params: Any
    ) -> dict[str, Any]:
        """``call`` (``UpdateFunctionCode``...) with ``params``; an update in progress is
        waited for and the call retried; a failure is an :class:`AwsCallError`."""
        from botocore.exceptions import BotoCoreError, ClientError

        method = getattr(self.client, _snake(call))
        for attempt in range(_CONFLICT_RETRIES + 1):
            try:
                answer: dict[str, Any] = method(**params)
            except ClientError as exc:
                error = exc.response.get("Error", {})
                in_progress = error.get("Code") == "ResourceConflictException" and (
                    "in progress" in str(error.get("Message", "")).lower()
                )
                if in_progress and attempt < _CONFLICT_RETRIES:
                    self._sleep(min(2**attempt, 30))
                    continue
                raise self._sentence(function, call, exc) from exc
            except BotoCoreError as exc:
                raise self._sentence(function, call, exc) from exc
            if write:
                self.writes.append(f"{call} {function}")
            return answer
        raise AssertionError("unreachable")  # pragma: no cover

    def _missing(self, function: str, call: str, **params: Any) -> dict[str, Any] | None:
        """A read whose ``ResourceNotFoundException`` means "there is none": None then."""
        from botocore.exceptions import ClientError

        try:
            answer: dict[str, Any] = getattr(self.client, _snake(call))(**params)
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") == "ResourceNotFoundException":
                return None
            raise self._sentence(function, call, exc) from exc
        except Exception as exc:
            raise self._sentence(function, call, exc) from exc
        return answer

    def wait(self, function: str, waiter: str, **params: Any) -> None:
        """Wait with botocore's ``waiter`` (``function_updated_v2``...) until Lambda says
        the change is done; a failure or a timeout names the function and the reason."""
        from botocore.exceptions import WaiterError

        try:
            self.client.get_waiter(waiter).wait(
                FunctionName=function,
                WaiterConfig={"Delay": _WAIT_DELAY, "MaxAttempts": _WAIT_ATTEMPTS},
                **params,
            )
        except WaiterError as exc:
            conf = exc.last_response or {}
            conf = conf.get("Configuration", conf)
            status = conf.get("LastUpdateStatus") or conf.get("State") or "unknown"
            reason = conf.get("LastUpdateStatusReason") or conf.get("StateReason") or str(exc)
            raise AwsCallError(
                function,
                f"waiting for {waiter}",
                f"Lambda says {status}: {self.scrub(str(reason))}; fix that and deploy again",
            ) from exc

    # --- reads ----------------------------------------------------------------------

    def function_state(self, function: str, alias: str) -> FunctionState:
        """The function's ``$LATEST``, the version its alias points at, its URL and
        public access, each None (or False) when there is none."""
        found = self._missing(function, "GetFunction", FunctionName=function)
        if found is None:
            return FunctionState(function, None, alias, None)
        latest = Deployed.from_aws(found["Configuration"], found.get("Code"))
        alias_version = None
        pointed = self._missing(function, "GetAlias", FunctionName=function, Name=alias)
        if pointed is not None:
            version = self.call(
                function, "GetFunction", FunctionName=function, Qualifier=pointed["FunctionVersion"]
            )
            alias_version = Deployed.from_aws(version["Configuration"], version.get("Code"))
        url = None
        public = False
        if pointed is not None:
            config = self._missing(
                function, "GetFunctionUrlConfig", FunctionName=function, Qualifier=alias
            )
            if config is not None:
                url = UrlState(config["FunctionUrl"], config["AuthType"], config.get("Cors") or {})
            policy = self._missing(function, "GetPolicy", FunctionName=function, Qualifier=alias)
            if policy is not None:
                sids = {s.get("Sid") for s in json.loads(policy["Policy"]).get("Statement", [])}
                public = set(PUBLIC_STATEMENTS) <= sids
        return FunctionState(function, latest, alias, alias_version, url, public)

    def layer_state(self, name: str) -> LayerState:
        """The layer's latest version and its ``CodeSha256`` (none: a new layer)."""
        versions: list[dict[str, Any]] = []
        params: dict[str, Any] = {"LayerName": name}
        while True:
            page = self._missing(name, "ListLayerVersions", **params)
            if page is None:
                break
            versions += page.get("LayerVersions", [])
            if not page.get("NextMarker"):
                break
            params["Marker"] = page["NextMarker"]
        if not versions:
            return LayerState(name)
        latest = max(versions, key=lambda v: int(v["Version"]))
        detail = self.call(
            name, "GetLayerVersion", LayerName=name, VersionNumber=int(latest["Version"])
        )
        return LayerState(
            name,
            int(latest["Version"]),
            latest["LayerVersionArn"],
            detail.get("Content", {}).get("CodeSha256"),
        )

    # --- writes ---------------------------------------------------------------------

    def publish_layer(self, layer: LayerArtifact) -> LayerState:
        """Publish the layer's zip as its next version."""
        answer = self.call(
            layer.name,
            "PublishLayerVersion",
            write=True,
            LayerName=layer.name,
            Description=f"sentiment-pipeline {layer.artifact.sha256}",
            Content={"ZipFile": layer.artifact.path.read_bytes()},
            CompatibleRuntimes=[layer.runtime],
            CompatibleArchitectures=[layer.architecture],
        )
        return LayerState(
            layer.name,
            int(answer["Version"]),
            answer["LayerVersionArn"],
            answer.get("Content", {}).get("CodeSha256"),
        )

    def create_function(
        self, function: str, artifact: Artifact, desired: Configuration, role: str
    ) -> None:
        """Create the function (not published) and wait until it is active."""
        params: dict[str, Any] = {
            "FunctionName": function,
            "Role": role,
            "Architectures": [desired.architecture],
            "Publish": False,
            **desired.to_aws(),
        }
        if artifact.image is not None:
            params.update(PackageType="Image", Code={"ImageUri": artifact.image})
        else:
            params.update(PackageType="Zip", Code={"ZipFile": artifact.path.read_bytes()})
        self.call(function, "CreateFunction", write=True, **params)
        self.wait(function, "function_active_v2")

    def update_code(self, function: str, artifact: Artifact, architecture: str) -> None:
        """Upload the code (and set the architecture), then wait for it to land."""
        params: dict[str, Any] = {"FunctionName": function, "Architectures": [architecture]}
        if artifact.image is not None:
            params["ImageUri"] = artifact.image
        else:
            params["ZipFile"] = artifact.path.read_bytes()
        self.call(function, "UpdateFunctionCode", write=True, **params)
        self.wait(function, "function_updated_v2")

    def update_configuration(self, function: str, desired: Configuration) -> None:
        """Set the managed settings, then wait for them to land."""
        self.call(
            function,
            "UpdateFunctionConfiguration",
            write=True,
            FunctionName=function,
            **desired.to_aws(),
        )
        self.wait(function, "function_updated_v2")

    def publish_version(self, function: str, code_sha256: str | None) -> str:
        """Publish ``$LATEST`` as a version (only if it still is ``code_sha256``, for a
        zip) and wait until the version is active; returns its number."""
        params: dict[str, Any] = {"FunctionName": function}
        if code_sha256 is not None:
            params["CodeSha256"] = code_sha256
        version = str(self.call(function, "PublishVersion", write=True, **params)["Version"])
        self.wait(function, "published_version_active", Qualifier=version)
        return version

    def invoke(self, function: str, version: str, payload: bytes, timeout: float) -> Answer:
        """Invoke that version once (no retry: an invocation is not idempotent), with the
        log tail; a read timeout past the function's own is re-raised as TimeoutError."""
        from botocore.exceptions import ReadTimeoutError

        seconds = int(timeout) + 30
        client = self._invokers.get(seconds)
        if client is None:
            client = self._invokers[seconds] = self._session.create_client(
                "lambda",
                region_name=self.region,
                endpoint_url=self.endpoint_url,
                config=self._config(
                    retries={"mode": "standard", "total_max_attempts": 1},
                    connect_timeout=10,
                    read_timeout=seconds,
                ),
            )
        try:
            answer = client.invoke(
                FunctionName=function, Qualifier=version, Payload=payload, LogType="Tail"
            )
        except ReadTimeoutError as exc:
            raise TimeoutError(f"no answer within {seconds} s") from exc
        except Exception as exc:
            raise self._sentence(function, "Invoke", exc) from exc
        log = answer.get("LogResult")
        tail: tuple[str, ...] = ()
        if log:
            text = base64.b64decode(log).decode("utf-8", "replace")
            tail = tuple(self.scrub(line) for line in text.splitlines() if line.strip())
        return Answer(
            int(answer.get("StatusCode", 0)),
            answer.get("FunctionError"),
            answer["Payload"].read(),
            tail,
        )

    def point_alias(self, function: str, alias: str, version: str, *, exists: bool) -> None:
        """Create the alias at ``version``, or move it there."""
        call = "UpdateAlias" if exists else "CreateAlias"
        self.call(
            function, call, write=True, FunctionName=function, Name=alias, FunctionVersion=version
        )

    def configure_url(self, function: str, alias: str, url: FunctionUrl, *, create: bool) -> str:
        """Create or update the alias's Function URL (auth and CORS); returns the URL."""
        call = "CreateFunctionUrlConfig" if create else "UpdateFunctionUrlConfig"
        answer = self.call(
            function,
            call,
            write=True,
            FunctionName=function,
            Qualifier=alias,
            AuthType=url.auth,
            Cors=cors_to_aws(url.cors),
        )
        return str(answer["FunctionUrl"])

    def set_public(self, function: str, alias: str, *, public: bool) -> None:
        """Grant (or revoke) the invoke permissions a Function URL of auth NONE needs."""
        for sid, statement in PUBLIC_STATEMENTS.items():
            if public:
                try:
                    self.call(
                        function,
                        "AddPermission",
                        write=True,
                        FunctionName=function,
                        Qualifier=alias,
                        StatementId=sid,
                        **statement,
                    )
                except AwsCallError as exc:
                    if "ResourceConflictException" not in str(exc):  # already there
                        raise
            elif (
                self._missing(function, "GetPolicy", FunctionName=function, Qualifier=alias)
                is not None
            ):
                self._remove(function, alias, sid)

    def _remove(self, function: str, alias: str, sid: str) -> None:
        from botocore.exceptions import ClientError

        try:
            self.client.remove_permission(FunctionName=function, Qualifier=alias, StatementId=sid)
            self.writes.append(f"RemovePermission {function}")
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") != "ResourceNotFoundException":
                raise self._sentence(function, "RemovePermission", exc) from exc


def _endpoint(exc: Exception, default: str) -> str:
    """The endpoint a connection error names (botocore keeps it in ``kwargs``)."""
    kwargs = getattr(exc, "kwargs", None)
    return str(kwargs.get("endpoint_url", default)) if isinstance(kwargs, dict) else default


def _snake(call: str) -> str:
    """``UpdateFunctionCode`` -> ``update_function_code`` (boto's method names).

    >>> _snake("GetFunctionUrlConfig")
    'get_function_url_config'
    """
    return re.sub(r"(?<!^)(?=[A-Z])", "_", call).lower()
