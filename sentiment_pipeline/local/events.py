"""The event of ``sentiment-pipeline invoke``: a JSON file, stdin, or a template of a trigger.

``--event`` takes a JSON file, ``-`` (JSON on stdin), or one of the templates, which
make the event the trigger would deliver, shaped as Lambda delivers it:

=================================  =========================================================
``function-url:METHOD:/path[?q]``  a Function URL request (payload format 2.0, built by
                                   :func:`~sentiment_pipeline.local.functionurl.event_from_request`
                                   like the local Function URL's); ``--body`` is its body,
                                   ``application/json`` when it parses as JSON, else text
``sns:FILE``                       one SNS notification whose ``Message`` is FILE's content
``sqs:FILE``                       one SQS message whose ``body`` is FILE's content
``schedule``                       an EventBridge scheduled event
=================================  =========================================================

A value that starts like a template (``word:``) but is none of them, or a template's
name alone (``sqs``), is refused rather than read as a file: name such a file
``./sns:x.json``, ``./schedule``. ARNs carry the functions'
region and moto's account; ids and times are new for each event.

>>> event = template_event("function-url:POST:/items?limit=2", body='{"a": 1}',
...                        function="api", region="eu-west-1")
>>> event.payload["rawPath"], event.payload["queryStringParameters"], event.payload["body"]
('/items', {'limit': '2'}, '{"a": 1}')
>>> event.payload["headers"]["content-type"], event.request_id == event.payload[
...     "requestContext"]["requestId"]
('application/json', True)
>>> template_event("schedule", function="api", region="eu-west-1").payload["detail-type"]
'Scheduled Event'
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
import secrets
import sys
import time
import urllib.parse
import uuid
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

import attrs

from sentiment_pipeline.errors import PipelineError, one_line
from sentiment_pipeline.local.awsevents import ACCOUNT, scheduled_event, sns_event
from sentiment_pipeline.local.functionurl import HttpRequest, event_from_request

if TYPE_CHECKING:
    from collections.abc import Callable

__all__ = [
    "TEMPLATES",
    "Event",
    "EventError",
    "function_url_event",
    "load_event",
    "sns_message_event",
    "sqs_event",
    "template_event",
]

TEMPLATES = ("function-url:METHOD:/path[?query]", "sns:FILE", "sqs:FILE", "schedule")
"""The templates ``--event`` accepts, as the help and the errors spell them."""

_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9-]*:")
_NAMES = ("function-url", "sns", "sqs", "schedule")
_METHOD = re.compile(r"^[A-Za-z]+$")
_USER_AGENT = "sentiment-pipeline-invoke"
# What a Function URL passes as written (RFC 3986's path characters, and escapes).
_PATH_SAFE = "/:@!$&'()*+,;=-._~%"


class EventError(PipelineError, ValueError):
    """``--event`` (or ``--body``) cannot make an event: the message names the input and the fix."""


@attrs.frozen
class Event:
    """An event to invoke a function with, and the request id the trigger gave it, if any."""

    payload: Any
    source: str
    """What it was made from: a file's name, ``<stdin>``, a template."""
    request_id: str | None = None
    """A Function URL's ``requestContext.requestId``: Lambda's request id of the invocation."""


def _url_id(function: str) -> str:
    # A Function URL's id is 32 lower-case letters and digits, fixed per function.
    return hashlib.sha256(function.encode()).hexdigest()[:32]


def _trace_id() -> str:
    return f"Root=1-{int(time.time()):08x}-{secrets.token_hex(12)}"


def function_url_event(
    method: str,
    target: str,
    *,
    body: str | None = None,
    function: str,
    region: str,
    now: dt.datetime | None = None,
) -> Event:
    """The payload-2.0 event of ``method`` ``target`` (path and query) sent to ``function``'s URL.

    The request is the one a client makes over HTTPS to the URL
    ``https://<url-id>.lambda-url.<region>.on.aws`` (Lambda's headers: ``host``,
    ``x-forwarded-*``, ``x-amzn-trace-id``); ``body`` gets its ``content-length`` and a
    ``content-type``: ``application/json`` when it parses as JSON, else ``text/plain``.
    ``now`` is the request's time (default: now).

    >>> event = function_url_event("get", "/a b?x=1&x=2", function="api", region="us-east-1")
    >>> event.payload["requestContext"]["http"]["method"], event.payload["rawPath"]
    ('GET', '/a b')
    >>> event.payload["queryStringParameters"], event.payload["isBase64Encoded"]
    ({'x': '1,2'}, False)
    """
    url_id = _url_id(function)
    domain = f"{url_id}.lambda-url.{region}.on.aws"
    path, mark, query = target.partition("?")
    quoted = urllib.parse.quote(path, safe=_PATH_SAFE) + (mark + query if mark else "")
    headers = [
        ("host", domain),
        ("user-agent", _USER_AGENT),
        ("accept", "*/*"),
        ("x-amzn-trace-id", _trace_id()),
        ("x-forwarded-for", "127.0.0.1"),
        ("x-forwarded-port", "443"),
        ("x-forwarded-proto", "https"),
    ]
    raw = b""
    if body is not None:
        raw = body.encode("utf-8")
        try:
            json.loads(body)
            kind = "application/json"
        except ValueError:
            kind = "text/plain; charset=utf-8"
        headers += [("content-type", kind), ("content-length", str(len(raw)))]
    request_id = str(uuid.uuid4())
    request = HttpRequest(method, quoted, tuple(headers), raw, "127.0.0.1", domain)
    payload = event_from_request(request, now=now, request_id=request_id)
    payload["requestContext"]["apiId"] = url_id  # the URL's id, as in AWS
    return Event(payload, f"function-url:{method.upper()}:{target}", request_id)


def sns_message_event(message: str, *, function: str, region: str) -> Event:
    """One SNS notification carrying ``message``, from a topic of ``function`` in ``region``.

    >>> record = sns_message_event("hi", function="fn", region="eu-west-1").payload["Records"][0]
    >>> record["EventSource"], record["Sns"]["Message"], record["Sns"]["TopicArn"]
    ('aws:sns', 'hi', 'arn:aws:sns:eu-west-1:123456789012:fn-topic')
    """
    topic = f"arn:aws:sns:{region}:{ACCOUNT}:{function}-topic"
    subscription = f"{topic}:{uuid.uuid4()}"
    endpoint = f"https://sns.{region}.amazonaws.com"
    envelope = {
        "Type": "Notification",
        "MessageId": str(uuid.uuid4()),
        "TopicArn": topic,
        "Subject": None,
        "Message": message,
        "Timestamp": _iso_millis(dt.datetime.now(dt.UTC)),
        "SignatureVersion": "1",
        "Signature": "EXAMPLE",
        "SigningCertURL": f"{endpoint}/SimpleNotificationService-local.pem",
        "UnsubscribeURL": f"{endpoint}/?Action=Unsubscribe&SubscriptionArn={subscription}",
    }
    return Event(sns_event(envelope, subscription), "sns")


def sqs_event(body: str, *, function: str, region: str) -> Event:
    """One SQS message with ``body``, from a queue of ``function`` in ``region``.

    >>> record = sqs_event("hi", function="fn", region="eu-west-1").payload["Records"][0]
    >>> record["eventSource"], record["body"], record["md5OfBody"]
    ('aws:sqs', 'hi', '49f68a5c8493ec2c0bf489821c21fc3b')
    """
    sent = str(int(time.time() * 1000))
    record = {
        "messageId": str(uuid.uuid4()),
        "receiptHandle": secrets.token_urlsafe(96),
        "body": body,
        "attributes": {
            "ApproximateReceiveCount": "1",
            "SentTimestamp": sent,
            "SenderId": ACCOUNT,
            "ApproximateFirstReceiveTimestamp": sent,
        },
        "messageAttributes": {},
        "md5OfBody": hashlib.md5(body.encode("utf-8"), usedforsecurity=False).hexdigest(),
        "eventSource": "aws:sqs",
        "eventSourceARN": f"arn:aws:sqs:{region}:{ACCOUNT}:{function}-queue",
        "awsRegion": region,
    }
    return Event({"Records": [record]}, "sqs")


def _iso_millis(moment: dt.datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def _read_text(name: str, cwd: Path | None) -> str:
    path = Path(name) if cwd is None else cwd / name
    shown = one_line(name)
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise EventError(f"event file {shown} not found; give an existing file") from None
    except IsADirectoryError:
        raise EventError(f"event file {shown} is a directory; give a file") from None
    except UnicodeDecodeError as exc:
        raise EventError(
            f"event file {shown} is not UTF-8 text (byte {exc.start}); save it as UTF-8"
        ) from None
    except OSError as exc:
        raise EventError(f"event file {shown}: {exc.strerror}") from None


def _parse_json(text: str, shown: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise EventError(
            f"event {shown} is not JSON: line {exc.lineno}, column {exc.colno}: {exc.msg}"
        ) from None


def template_event(
    template: str,
    *,
    body: str | None = None,
    function: str,
    region: str,
    cwd: Path | None = None,
) -> Event:
    """The event ``template`` (one of :data:`TEMPLATES`) makes for ``function`` in ``region``.

    ``body`` goes with ``function-url`` only; ``sns:FILE`` and ``sqs:FILE`` read FILE
    (relative to ``cwd``, default: the working directory) as UTF-8 text, as is.

    >>> template_event("sqs", function="api", region="us-east-1")
    Traceback (most recent call last):
    ...
    sentiment_pipeline.local.events.EventError: --event 'sqs': expected sqs:FILE ...
    """
    scheme, _, rest = template.partition(":")
    if body is not None and scheme != "function-url":
        raise EventError(
            f"--body goes with --event function-url:METHOD:/path (not {one_line(template)!r}); "
            "put the body in the event file or drop --body"
        )
    if scheme == "function-url":
        method, _, target = rest.partition(":")
        if not _METHOD.match(method) or not target.startswith("/"):
            raise EventError(
                f"--event {one_line(template)!r}: expected function-url:METHOD:/path[?query], "
                "e.g. function-url:GET:/items?limit=10"
            )
        return function_url_event(method, target, body=body, function=function, region=region)
    makers: dict[str, Callable[..., Event]] = {"sns": sns_message_event, "sqs": sqs_event}
    if scheme in makers and not rest:
        raise EventError(
            f"--event {one_line(template)!r}: expected {scheme}:FILE (FILE's content is the "
            f"{'message' if scheme == 'sns' else 'body'}), e.g. {scheme}:events/message.json"
        )
    if scheme in makers:
        made = makers[scheme](_read_text(rest, cwd), function=function, region=region)
        return attrs.evolve(made, source=template)
    if template == "schedule":
        payload = scheduled_event(region=region, rule=f"{function}-schedule")
        return Event(payload, template)
    raise EventError(
        f"unknown event template {one_line(template)!r}; templates: {', '.join(TEMPLATES)} "
        "(or a JSON file, or - for stdin)"
    )


def load_event(
    source: str | None,
    *,
    body: str | None = None,
    function: str,
    region: str,
    stdin: IO[str] | None = None,
    cwd: Path | None = None,
) -> Event:
    """``--event``'s event: ``source`` a JSON file, ``-`` (JSON on ``stdin``, default: this
    process's), or a template (:func:`template_event`, with ``body``, ``function``,
    ``region`` and ``cwd``); None: ``{}``, what ``aws lambda invoke`` sends without a
    payload. Raises :class:`EventError` naming the file and the position of bad JSON.

    >>> import io
    >>> load_event("-", function="api", region="us-east-1", stdin=io.StringIO('{"a": 1}')).payload
    {'a': 1}
    >>> load_event("-", function="api", region="us-east-1", stdin=io.StringIO('{"a": }'))
    Traceback (most recent call last):
    ...
    sentiment_pipeline.local.events.EventError: event <stdin> is not JSON: line 1, column 7: ...
    """
    is_template = source is not None and (source in _NAMES or _SCHEME.match(source))
    if source is not None and is_template:
        return template_event(source, body=body, function=function, region=region, cwd=cwd)
    if body is not None:
        raise EventError(
            "--body goes with --event function-url:METHOD:/path; put the body in the event "
            "file or drop --body"
        )
    if source is None:
        return Event({}, "{}")
    if source == "-":
        text = (stdin or sys.stdin).read()
        return Event(_parse_json(text, "<stdin>"), "<stdin>")
    text = _read_text(source, cwd)
    return Event(_parse_json(text, f"file {one_line(source)}"), source)
