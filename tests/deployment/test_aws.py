"""AWS's answers as one sentence each, retries of an update in progress, no credential
ever printed. Lambda's error answers are played with botocore's Stubber (moto answers
neither AccessDenied nor an update in progress; see the module's notes)."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.stub import Stubber  # type: ignore[import-untyped]

from sentiment_pipeline.deployment.aws import LambdaApi
from sentiment_pipeline.deployment.errors import AwsCallError, RefusedError

SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
KEY_ID = "AKIAIOSFODNN7EXAMPLE"


@pytest.fixture
def api(monkeypatch: pytest.MonkeyPatch) -> LambdaApi:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", KEY_ID)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", SECRET)
    slept: list[float] = []
    api = LambdaApi(region="eu-west-1", sleep=slept.append)
    api.slept = slept  # type: ignore[attr-defined]
    return api


def stubbed(api: LambdaApi) -> Any:
    stubber = Stubber(api.client)
    stubber.activate()
    return stubber


def test_access_denied_names_the_function_the_call_and_the_fix_without_credentials(
    api: LambdaApi,
) -> None:
    stubber = stubbed(api)
    stubber.add_client_error(
        "update_function_code",
        service_error_code="AccessDeniedException",
        service_message=(
            f"User: arn:aws:iam::123456789012:user/ci (key {KEY_ID}, secret {SECRET}) is not "
            "authorized to perform: lambda:UpdateFunctionCode"
        ),
        http_status_code=403,
    )
    with pytest.raises(AwsCallError) as error:
        api.call("prod-api", "UpdateFunctionCode", FunctionName="prod-api", ZipFile=b"PK")
    message = str(error.value)
    assert message.startswith("prod-api: UpdateFunctionCode: AccessDeniedException: User: ")
    assert message.endswith(
        "allow lambda:UpdateFunctionCode on this function in the IAM policy of the identity "
        "that deploys"
    )
    assert KEY_ID not in message and SECRET not in message and "\n" not in message


def test_an_update_in_progress_is_retried_with_backoff(api: LambdaApi) -> None:
    stubber = stubbed(api)
    for _ in range(2):
        stubber.add_client_error(
            "update_function_configuration",
            service_error_code="ResourceConflictException",
            service_message="The operation cannot be performed at this time. An update is "
            "in progress for resource: arn:aws:lambda:eu-west-1:123456789012:function:prod-api",
            http_status_code=409,
        )
    stubber.add_response(
        "update_function_configuration",
        {"FunctionName": "prod-api"},
        {"FunctionName": "prod-api", "Timeout": 9},
    )
    answer = api.call(
        "prod-api", "UpdateFunctionConfiguration", write=True, FunctionName="prod-api", Timeout=9
    )
    assert answer["FunctionName"] == "prod-api"
    assert api.slept == [1, 2]  # type: ignore[attr-defined]
    assert api.writes == ["UpdateFunctionConfiguration prod-api"]


def test_an_update_still_in_progress_after_the_retries_is_a_sentence(api: LambdaApi) -> None:
    stubber = stubbed(api)
    for _ in range(7):
        stubber.add_client_error(
            "update_function_code",
            service_error_code="ResourceConflictException",
            service_message="An update is in progress for resource: prod-api",
            http_status_code=409,
        )
    with pytest.raises(AwsCallError, match="another update is in progress; wait for it"):
        api.call("prod-api", "UpdateFunctionCode", FunctionName="prod-api", ZipFile=b"PK")
    assert len(api.slept) == 6  # type: ignore[attr-defined]


def test_a_conflict_that_is_not_an_update_is_not_retried(api: LambdaApi) -> None:
    stubber = stubbed(api)
    stubber.add_client_error(
        "create_function",
        service_error_code="ResourceConflictException",
        service_message="Function already exist: prod-api",
        http_status_code=409,
    )
    with pytest.raises(AwsCallError, match="CreateFunction: ResourceConflictException"):
        api.call("prod-api", "CreateFunction", FunctionName="prod-api", Role="r", Code={})
    assert api.slept == []  # type: ignore[attr-defined]


def test_throttling_left_after_botocores_retries_says_to_come_back_later(api: LambdaApi) -> None:
    stubber = stubbed(api)
    stubber.add_client_error(
        "publish_version",
        service_error_code="TooManyRequestsException",
        service_message="Rate exceeded",
        http_status_code=429,
    )
    with pytest.raises(AwsCallError, match="throttled by Lambda after 8 attempts with backoff"):
        api.call("prod-api", "PublishVersion", FunctionName="prod-api")


def test_a_function_not_found_names_the_region(api: LambdaApi) -> None:
    stubber = stubbed(api)
    stubber.add_client_error(
        "get_alias",
        service_error_code="ResourceNotFoundException",
        service_message="Function not found: arn:aws:lambda:eu-west-1:123456789012:function:x",
        http_status_code=404,
    )
    with pytest.raises(
        AwsCallError, match="not found in region eu-west-1; check the name and --region"
    ):
        api.call("x", "GetAlias", FunctionName="x", Name="live")


def test_no_region_anywhere_is_refused_naming_the_option(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(RefusedError, match="no AWS region: pass --region"):
        LambdaApi()


def test_a_change_lambda_reports_failed_names_the_function_and_lambdas_reason(
    api: LambdaApi,
) -> None:
    stubber = stubbed(api)
    stubber.add_response(
        "get_function",
        {
            "Configuration": {
                "FunctionName": "prod-api",
                "LastUpdateStatus": "Failed",
                "LastUpdateStatusReason": "The image manifest media type is not supported.",
            }
        },
        {"FunctionName": "prod-api"},
    )
    with pytest.raises(AwsCallError) as error:
        api.wait("prod-api", "function_updated_v2")
    assert str(error.value) == (
        "prod-api: waiting for function_updated_v2: Lambda says Failed: The image manifest "
        "media type is not supported.; fix that and deploy again"
    )
