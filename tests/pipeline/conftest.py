"""Fixtures of the pure-domain tests: a local NewsAPI, in-memory ports."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from sentiment_pipeline.memory import InMemoryPublisher, InMemoryRepository
from tests.support.newsapi_fake import FakeNewsAPI

if TYPE_CHECKING:
    from collections.abc import Iterator


@pytest.fixture
def newsapi() -> Iterator[FakeNewsAPI]:
    fake = FakeNewsAPI().start()
    yield fake
    fake.stop()


@pytest.fixture
def repo() -> InMemoryRepository:
    return InMemoryRepository()


@pytest.fixture
def publisher() -> InMemoryPublisher:
    return InMemoryPublisher()
