"""The boundary models convert to and from the records; the records never need pydantic."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys

from sentiment_pipeline.models import ItemMessage, NewsArticle
from sentiment_pipeline.records import Item, Status, item_key
from tests.support.newsapi_fake import article

NOW = dt.datetime(2024, 5, 2, 8, 0, 0, 123456, tzinfo=dt.UTC)


def test_an_article_becomes_a_pending_item_in_the_outbox() -> None:
    parsed = NewsArticle.model_validate(
        {**article(7), "author": "", "urlToImage": "https://news.example/7.png"}
    )
    item = parsed.to_item(now=NOW, ttl_days=30)
    assert item == Item(
        pk=item_key("example", "https://news.example/example/story-7"),
        source_id="example",
        source_name="Example News",
        url="https://news.example/example/story-7",
        title="Markets rally as story 7 lifts confidence",
        description="Investors welcomed the good news in story 7.",
        content="Story 7 body text that NewsAPI truncates… [+1234 chars]",
        author=None,  # NewsAPI's empty strings are not stored
        image_url="https://news.example/7.png",
        published_at="2024-05-01T07:07:00Z",
        ingested_at="2024-05-02T08:00:00.123456Z",
        ttl=int((NOW + dt.timedelta(days=30)).timestamp()),
        outbox=True,
    )
    assert item.status is Status.PENDING


def test_an_article_without_a_source_id_is_keyed_by_the_source_name() -> None:
    parsed = NewsArticle.model_validate(article(1, source="Harbor Daily", source_id=None))
    item = parsed.to_item(now=NOW, ttl_days=1)
    assert item.pk == item_key("Harbor Daily", parsed.url)
    assert item.source_id is None


def test_the_message_of_an_item_carries_its_text_and_survives_sns() -> None:
    item = NewsArticle.model_validate(article(3)).to_item(now=NOW, ttl_days=30)
    message = ItemMessage.of(item)
    assert (message.pk, message.source, message.url) == (item.pk, "Example News", item.url)
    assert message.text == (
        "Markets rally as story 3 lifts confidence. Investors welcomed the good news in story 3."
    )
    assert ItemMessage.model_validate_json(message.model_dump_json()) == message


def test_the_records_import_neither_the_models_nor_pydantic() -> None:
    code = (
        "import json, sys\n"
        "import sentiment_pipeline.records\n"
        "print(json.dumps(sorted(m for m in ('pydantic', 'sentiment_pipeline.models')"
        " if m in sys.modules)))\n"
    )
    out = subprocess.run(
        [sys.executable, "-B", "-c", code], capture_output=True, text=True, check=True
    )
    assert json.loads(out.stdout) == []
