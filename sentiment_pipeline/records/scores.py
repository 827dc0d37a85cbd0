"""What a sentiment model returns and what an analysis writes: scores, labels, the verdict.

A model's :class:`SentimentScores` are checked on construction (a model
returning out-of-range values fails that item's analysis instead of storing
them); the label comes from the compound score with the VADER paper's
thresholds (:func:`label_for`); :class:`AnalysisResult` is what the analysis
writes onto an item.

>>> label_for(0.05), label_for(-0.05), label_for(0.0)
(<Sentiment.POSITIVE: 'positive'>, <Sentiment.NEGATIVE: 'negative'>, <Sentiment.NEUTRAL: 'neutral'>)
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Mapping

__all__ = [
    "NEGATIVE_THRESHOLD",
    "POSITIVE_THRESHOLD",
    "AnalysisResult",
    "Sentiment",
    "SentimentScores",
    "label_for",
]

# The VADER paper's thresholds on the compound score (Hutto & Gilbert, ICWSM 2014;
# also the vaderSentiment README): >= 0.05 positive, <= -0.05 negative.
POSITIVE_THRESHOLD = 0.05
NEGATIVE_THRESHOLD = -0.05


class Sentiment(enum.StrEnum):
    """The label derived from the compound score."""

    POSITIVE = "positive"
    NEGATIVE = "negative"
    NEUTRAL = "neutral"


def label_for(compound: float) -> Sentiment:
    """Label a compound score with the VADER paper's +-0.05 thresholds."""
    if compound >= POSITIVE_THRESHOLD:
        return Sentiment.POSITIVE
    if compound <= NEGATIVE_THRESHOLD:
        return Sentiment.NEGATIVE
    return Sentiment.NEUTRAL


def _number(name: str, value: object) -> float:
    if type(value) is float:
        return value
    if not isinstance(value, bool | str | bytes):
        try:
            return float(value)  # type: ignore[arg-type]  # int, numpy scalars, Decimal...
        except (TypeError, ValueError):
            pass
    raise ValueError(f"{name} must be a number, not {type(value).__name__}")


_SCORES = ("compound", "positive", "neutral", "negative")


@dataclass(frozen=True, slots=True)
class SentimentScores:
    """A model's scores for one text: compound in [-1, 1], proportions in [0, 1].

    Checked on construction, so a model returning out-of-range scores fails
    that item's analysis instead of storing them.

    >>> SentimentScores(0.5, 0.3, 0.7, 0.0).label
    <Sentiment.POSITIVE: 'positive'>
    >>> SentimentScores(1.5, 0.0, 1.0, 0.0)
    Traceback (most recent call last):
    ...
    ValueError: compound must be in [-1, 1], not 1.5
    """

    compound: float
    positive: float
    neutral: float
    negative: float

    def __post_init__(self) -> None:
        c, p, u, n = self.compound, self.positive, self.neutral, self.negative
        if not type(c) is type(p) is type(u) is type(n) is float:  # ints, numpy scalars...
            c, p, u, n = (_number(f, getattr(self, f)) for f in _SCORES)
            for name, value in zip(_SCORES, (c, p, u, n), strict=True):
                object.__setattr__(self, name, value)
        if not (-1.0 <= c <= 1.0 and 0.0 <= p <= 1.0 and 0.0 <= u <= 1.0 and 0.0 <= n <= 1.0):
            # (NaN fails every comparison, so it is rejected too)
            if not -1.0 <= c <= 1.0:
                raise ValueError(f"compound must be in [-1, 1], not {c!r}")
            for name, value in zip(_SCORES[1:], (p, u, n), strict=True):
                if not 0.0 <= value <= 1.0:
                    raise ValueError(f"{name} must be in [0, 1], not {value!r}")

    @property
    def label(self) -> Sentiment:
        return label_for(self.compound)

    @classmethod
    def from_dict(cls, data: Mapping[str, object]) -> SentimentScores:
        """From a stored map; unknown or missing keys are an error."""
        if set(data) != set(_SCORES):
            raise ValueError(f"scores must have exactly the keys {', '.join(_SCORES)}")
        return cls(*(data[name] for name in _SCORES))  # type: ignore[arg-type]  # checked above


@dataclass(frozen=True, slots=True, kw_only=True)
class AnalysisResult:
    """A model's verdict on one item, as written by the analysis."""

    scores: SentimentScores
    sentiment: Sentiment
    model_name: str
    model_version: str
    analyzed_at: str
