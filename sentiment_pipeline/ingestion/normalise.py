"""Raw NewsAPI articles -> validated :class:`~sentiment_pipeline.models.NewsArticle` values.

Each article is validated on its own: one malformed article is counted and
logged, never a reason to lose the others. Retracted articles (title
``[Removed]``) are dropped.

>>> n = normalise([
...     {"source": {"id": None, "name": "A"}, "title": "t", "url": "https://a.example/1",
...      "publishedAt": "2024-05-01T10:00:00Z"},
...     {"source": {"name": "B"}, "title": "[Removed]", "url": "https://removed.com",
...      "publishedAt": "1970-01-01T00:00:00Z"},
...     {"title": "no source"},
... ])
>>> len(n.valid), n.removed, [i for i, _ in n.invalid]
(1, 1, [2])
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from pydantic import ValidationError

from sentiment_pipeline.models import NewsArticle

if TYPE_CHECKING:
    from collections.abc import Iterable

__all__ = ["Normalised", "normalise"]


@dataclass
class Normalised:
    valid: list[NewsArticle] = field(default_factory=list)
    removed: int = 0
    invalid: list[tuple[int, str]] = field(default_factory=list)
    """(index in the input, why) for each article that failed validation."""


def _reason(error: ValidationError) -> str:
    first = error.errors()[0]
    where = ".".join(str(p) for p in first["loc"]) or "article"
    return f"{where}: {first['msg']} ({error.error_count()} error(s))"


def normalise(raw_articles: Iterable[object]) -> Normalised:
    out = Normalised()
    for index, raw in enumerate(raw_articles):
        try:
            article = NewsArticle.model_validate(raw)
        except ValidationError as error:
            out.invalid.append((index, _reason(error)))
            continue
        if article.removed:
            out.removed += 1
        else:
            out.valid.append(article)
    return out
