"""``invoke``'s events: JSON files, stdin, and the templates, shaped as AWS delivers them.

The shapes are compared with the real payloads in ``tests/events/`` (captured from AWS):
the same keys at every level.
"""

from __future__ import annotations

import datetime as dt
import doctest
import hashlib
import io
import json
from pathlib import Path
from typing import Any

import pytest

from sentiment_pipeline.local import events
from sentiment_pipeline.local.events import (
    EventError,
    function_url_event,
    load_event,
    sns_message_event,
    sqs_event,
    template_event,
)

REAL = Path(__file__).resolve().parents[1] / "events"


def real(name: str) -> Any:
    return json.loads((REAL / name).read_text())


def keys(value: dict[str, Any]) -> set[str]:
    return set(value)


def test_the_module_examples_run() -> None:
    result = doctest.testmod(events, optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0 and result.failed == 0


def test_a_function_url_get_has_the_keys_and_headers_aws_sends() -> None:
    moment = dt.datetime(2024, 5, 3, 10, 15, 42, tzinfo=dt.UTC)
    event = function_url_event(
        "GET",
        "/api/items?limit=10&status=ANALYZED",
        function="dash",
        region="eu-west-1",
        now=moment,
    ).payload
    aws = real("function_url_get.json")
    # The real request had a cookie; a request without one has no "cookies" key.
    assert keys(event) == keys(aws) - {"cookies"}
    assert keys(event["requestContext"]) == keys(aws["requestContext"])
    assert keys(event["requestContext"]["http"]) == keys(aws["requestContext"]["http"])
    assert {"host", "x-amzn-trace-id", "x-forwarded-for", "x-forwarded-port"} <= keys(
        event["headers"]
    )
    assert event["headers"]["x-forwarded-proto"] == "https"
    context = event["requestContext"]
    assert context["domainName"] == f"{context['apiId']}.lambda-url.eu-west-1.on.aws"
    assert context["domainPrefix"] == context["apiId"] and len(context["apiId"]) == 32
    assert (context["time"], context["timeEpoch"]) == (aws["requestContext"]["time"], 1714731342000)
    assert (event["rawQueryString"], event["queryStringParameters"]) == (
        aws["rawQueryString"],
        aws["queryStringParameters"],
    )
    assert "body" not in event and event["isBase64Encoded"] is False


def test_a_function_url_body_is_json_or_text_with_its_length() -> None:
    as_json = function_url_event("post", "/", body="[1]", function="f", region="us-east-1")
    assert as_json.payload["headers"]["content-type"] == "application/json"
    text = function_url_event("PUT", "/", body="héllo", function="f", region="us-east-1").payload
    assert text["headers"]["content-type"] == "text/plain; charset=utf-8"
    assert text["headers"]["content-length"] == "6"  # bytes, not characters
    assert (text["body"], text["isBase64Encoded"]) == ("héllo", False)
    assert text["requestContext"]["http"]["method"] == "PUT"


def test_a_function_url_path_is_sent_encoded_and_shown_decoded() -> None:
    event = function_url_event("GET", "/a b/%C3%A9", function="f", region="us-east-1").payload
    assert event["rawPath"] == "/a b/é"


def test_an_sns_event_has_the_keys_aws_sends_and_the_message_as_given() -> None:
    event = sns_message_event('{"x": 1}\n', function="worker", region="eu-west-1").payload
    aws = real("sns_item.json")
    (record,) = event["Records"]
    (aws_record,) = aws["Records"]
    assert keys(record) == keys(aws_record)
    assert keys(record["Sns"]) == keys(aws_record["Sns"])
    assert record["Sns"]["Message"] == '{"x": 1}\n'
    assert record["Sns"]["TopicArn"] == "arn:aws:sns:eu-west-1:123456789012:worker-topic"
    assert dt.datetime.strptime(record["Sns"]["Timestamp"], "%Y-%m-%dT%H:%M:%S.%fZ")


def test_an_sqs_event_is_one_record_with_its_body_digest() -> None:
    body = "héllo"
    (record,) = sqs_event(body, function="worker", region="eu-west-1").payload["Records"]
    assert record["md5OfBody"] == hashlib.md5(body.encode()).hexdigest()
    assert record["awsRegion"] == "eu-west-1"
    assert record["eventSourceARN"] == "arn:aws:sqs:eu-west-1:123456789012:worker-queue"
    assert set(record["attributes"]) == {
        "ApproximateReceiveCount",
        "SentTimestamp",
        "SenderId",
        "ApproximateFirstReceiveTimestamp",
    }
    assert (
        record["messageId"]
        != sqs_event(body, function="w", region="r").payload["Records"][0]["messageId"]
    )


def test_a_schedule_has_the_keys_aws_sends() -> None:
    event = template_event("schedule", function="ingest", region="ap-south-1").payload
    aws = real("eventbridge_schedule.json")
    assert keys(event) == keys(aws)
    assert event["region"] == "ap-south-1"
    assert event["resources"] == ["arn:aws:events:ap-south-1:123456789012:rule/ingest-schedule"]


def test_template_files_are_read_relative_to_cwd(tmp_path: Path) -> None:
    (tmp_path / "m.txt").write_text("plain text")
    made = template_event("sns:m.txt", function="f", region="us-east-1", cwd=tmp_path)
    assert made.source == "sns:m.txt"
    assert made.payload["Records"][0]["Sns"]["Message"] == "plain text"
    made = template_event("sqs:m.txt", function="f", region="us-east-1", cwd=tmp_path)
    assert made.payload["Records"][0]["body"] == "plain text"


def test_load_event_reads_a_file_stdin_or_nothing(tmp_path: Path) -> None:
    (tmp_path / "e.json").write_text('{"a": [1, 2]}')
    assert load_event("e.json", function="f", region="r", cwd=tmp_path).payload == {"a": [1, 2]}
    (tmp_path / "null.json").write_text("null")
    assert load_event("null.json", function="f", region="r", cwd=tmp_path).payload is None
    assert load_event("-", function="f", region="r", stdin=io.StringIO("3")).payload == 3
    assert load_event(None, function="f", region="r").payload == {}


def test_a_file_named_like_a_template_is_read_with_a_path(tmp_path: Path) -> None:
    (tmp_path / "sns:x.json").write_text("[]")
    assert load_event("./sns:x.json", function="f", region="r", cwd=tmp_path).payload == []
    (tmp_path / "schedule").write_text("[]")
    assert load_event("./schedule", function="f", region="r", cwd=tmp_path).payload == []


@pytest.mark.parametrize(
    ("source", "body", "message"),
    [
        ("bad.json", None, "event file bad.json is not JSON: line 2, column 3: Expecting value"),
        ("missing.json", None, "event file missing.json not found"),
        ("latin1.json", None, "event file latin1.json is not UTF-8 text (byte 2)"),
        ("sns:missing.txt", None, "event file missing.txt not found"),
        ("sqs", None, "--event 'sqs': expected sqs:FILE (FILE's content is the body)"),
        ("sns:", None, "--event 'sns:': expected sns:FILE (FILE's content is the message)"),
        ("function-url", None, "--event 'function-url': expected function-url:METHOD:/path"),
        ("s3", None, "event file s3 not found"),
        ("kinesis:x", None, "unknown event template 'kinesis:x'"),
        ("function-url:GET", None, "--event 'function-url:GET': expected function-url:METHOD"),
        ("function-url:G1:/", None, "--event 'function-url:G1:/': expected"),
        ("function-url:GET:x", None, "--event 'function-url:GET:x': expected"),
        ("e.json", "x", "--body goes with --event function-url:METHOD:/path"),
        (
            "sns:e.json",
            "x",
            "--body goes with --event function-url:METHOD:/path (not 'sns:e.json')",
        ),
    ],
)
def test_unusable_events_name_the_input(
    tmp_path: Path, source: str, body: str | None, message: str
) -> None:
    (tmp_path / "bad.json").write_text("[1,\n  ]")
    (tmp_path / "latin1.json").write_bytes(b'["\xe9"]')
    (tmp_path / "e.json").write_text("{}")
    with pytest.raises(EventError) as raised:
        load_event(source, body=body, function="f", region="r", cwd=tmp_path)
    assert str(raised.value).startswith(message)
    assert "\n" not in str(raised.value)


def test_every_template_has_a_sample_command_in_the_readme() -> None:
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    section = readme.split("### `sentiment-pipeline invoke NAME", 1)[1].split("\n### ", 1)[0]
    for template in events.TEMPLATES:
        scheme = template.split(":", 1)[0]
        (row,) = [line for line in section.splitlines() if line.startswith(f"| `{scheme}")]
        sample = row.replace('"', "")
        assert "sentiment-pipeline invoke " in sample and f"--event {scheme}" in sample, row
