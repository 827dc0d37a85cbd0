"""Analysis: the real VADER model, entry-point loading, idempotency, failure accounting."""

from __future__ import annotations

import datetime as dt
import importlib.metadata
import json
from typing import TYPE_CHECKING

import pytest

from sentiment_pipeline.analysis import analyse, available_models, load_model, parse_sns_event
from sentiment_pipeline.analysis.vader import VaderModel
from sentiment_pipeline.errors import ConfigurationError, UnknownModelError
from sentiment_pipeline.ingestion import ingest
from sentiment_pipeline.memory import InMemoryPublisher, InMemoryRepository
from sentiment_pipeline.models import ItemMessage
from sentiment_pipeline.records import Sentiment, SentimentScores, Status, label_for
from tests.support.newsapi_fake import article

if TYPE_CHECKING:
    from collections.abc import Iterator


def _ingested(repo: InMemoryRepository, *raws: dict[str, object]) -> list[ItemMessage]:
    publisher = InMemoryPublisher()
    ingest(list(raws), repo, publisher)
    return publisher.messages


class BrokenModel:
    """A fake model for the failure plumbing only (the ML cost is not what is tested)."""

    name = "broken"
    version = "0"

    def score(self, text: str) -> SentimentScores:
        raise RuntimeError(f"cannot score {len(text)} characters")


@pytest.mark.parametrize(
    ("compound", "label"),
    [
        (0.05, Sentiment.POSITIVE),
        (0.0499, Sentiment.NEUTRAL),
        (-0.0499, Sentiment.NEUTRAL),
        (-0.05, Sentiment.NEGATIVE),
        (1.0, Sentiment.POSITIVE),
        (-1.0, Sentiment.NEGATIVE),
    ],
)
def test_labels_follow_the_papers_thresholds(compound: float, label: Sentiment) -> None:
    assert label_for(compound) is label


@pytest.mark.parametrize(
    ("text", "label"),
    [
        ("Markets rally as strong earnings delight investors", Sentiment.POSITIVE),
        ("Deadly storm destroys homes and kills dozens", Sentiment.NEGATIVE),
        ("The committee meets on Tuesday at the town hall", Sentiment.NEUTRAL),
    ],
)
def test_vader_scores_news_sentences(text: str, label: Sentiment) -> None:
    model = load_model("vader")
    scores = model.score(text)
    assert scores.label is label
    assert abs(scores.positive + scores.neutral + scores.negative - 1.0) < 0.01
    assert model.version == "3.3.2"


def test_vader_is_found_through_its_entry_point() -> None:
    [ep] = [
        e
        for e in importlib.metadata.entry_points(group="sentiment_pipeline.models")
        if e.name == "vader"
    ]
    assert ep.load() is VaderModel
    assert "vader" in available_models()


def test_vader_falls_back_to_the_builtin_without_entry_points(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A Lambda zip has the library's sources but not its dist-info."""
    import sentiment_pipeline.analysis.model as model_module

    monkeypatch.setattr(model_module, "entry_points", lambda group: ())
    assert isinstance(load_model("vader"), VaderModel)
    with pytest.raises(UnknownModelError, match=r"Available: vader\."):
        load_model("bert")


def test_an_unknown_model_lists_the_available_ones() -> None:
    with pytest.raises(UnknownModelError) as raised:
        load_model("no-such-model")
    assert raised.value.available == available_models()
    assert "SENTIMENT_MODEL" in str(raised.value)
    assert isinstance(raised.value, LookupError)


@pytest.fixture
def third_party_model(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """An entry point declared by another distribution, as a plugin would."""
    import sentiment_pipeline.analysis.model as model_module

    real = importlib.metadata.entry_points
    extra = importlib.metadata.EntryPoint(
        name="not-a-model", value="builtins:object", group="sentiment_pipeline.models"
    )

    def entry_points(group: str) -> list[importlib.metadata.EntryPoint]:
        return [*real(group=group), extra]

    monkeypatch.setattr(model_module, "entry_points", entry_points)
    yield


@pytest.mark.usefixtures("third_party_model")
def test_a_plugin_that_is_not_a_model_fails_loudly() -> None:
    assert "not-a-model" in available_models()
    with pytest.raises(ConfigurationError, match="name, version and score"):
        load_model("not-a-model")


def test_analysis_moves_pending_to_analyzed_with_the_model_identity() -> None:
    repo = InMemoryRepository()
    messages = _ingested(repo, article(1), article(2))
    now = dt.datetime(2024, 5, 2, tzinfo=dt.UTC)
    summary = analyse(messages, load_model(), repo, now=now)
    assert (summary.received, summary.analyzed, summary.duplicate) == (2, 2, 0)
    for item in repo.items.values():
        assert item.status is Status.ANALYZED
        assert item.sentiment is Sentiment.POSITIVE  # "rally", "lifts confidence", "welcomed"
        assert (item.model_name, item.model_version) == ("vader", "3.3.2")
        assert item.analyzed_at == "2024-05-02T00:00:00Z"
        assert item.analyses == 1


def test_a_duplicate_delivery_changes_nothing() -> None:
    repo = InMemoryRepository()
    messages = _ingested(repo, article(1))
    analyse(messages, load_model(), repo)
    before = repo.items
    again = analyse(messages + messages, load_model(), repo)
    assert (again.analyzed, again.duplicate) == (0, 2)
    assert repo.items == before


def test_a_message_for_an_unknown_item_is_not_created() -> None:
    repo = InMemoryRepository()
    ghost = ItemMessage(pk="ITEM#" + "a" * 64, text="lovely")
    summary = analyse([ghost], load_model(), repo)
    assert (summary.analyzed, summary.duplicate) == (0, 1)
    assert repo.items == {}


def test_an_item_failing_n_times_becomes_failed_with_the_reason() -> None:
    repo = InMemoryRepository()
    [message] = _ingested(repo, article(1))
    first = analyse([message], BrokenModel(), repo, max_attempts=3)
    second = analyse([message], BrokenModel(), repo, max_attempts=3)
    assert first.retrying == second.retrying == [message.pk]
    third = analyse([message], BrokenModel(), repo, max_attempts=3)
    assert (third.failed, third.retrying) == (1, [])
    item = repo.items[message.pk]
    assert (item.status, item.attempts) == (Status.FAILED, 3)
    assert item.failure_reason is not None
    assert item.failure_reason.startswith("broken: RuntimeError: cannot score")
    # A later delivery does not resurrect it, with any model.
    assert analyse([message], load_model(), repo).duplicate == 1
    assert repo.items[message.pk].status is Status.FAILED


def test_a_success_after_a_failure_clears_the_reason() -> None:
    repo = InMemoryRepository()
    [message] = _ingested(repo, article(1))
    analyse([message], BrokenModel(), repo, max_attempts=3)
    analyse([message], load_model(), repo)
    item = repo.items[message.pk]
    assert (item.status, item.failure_reason, item.attempts) == (Status.ANALYZED, None, 1)


def test_sns_events_are_parsed_and_foreign_records_reported() -> None:
    good = ItemMessage(pk="ITEM#" + "b" * 64, text="hello").model_dump_json()
    event = {
        "Records": [
            {"EventSource": "aws:sns", "Sns": {"MessageId": "1", "Message": good}},
            {"EventSource": "aws:sns", "Sns": {"MessageId": "2", "Message": "not json"}},
            {"EventSource": "aws:sns", "Sns": {"Message": json.dumps({"pk": "ITEM#nothex"})}},
            "garbage",
        ]
    }
    messages, problems = parse_sns_event(event)
    assert [m.pk for m in messages] == ["ITEM#" + "b" * 64]
    assert len(problems) == 3
    assert parse_sns_event({"detail": {}}) == ([], ["not an SNS event (no Records array)"])
