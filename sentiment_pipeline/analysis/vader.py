"""The default model: VADER (vaderSentiment 3.3.2), lexicon shipped in the package.

VADER needs no download (nltk's copy does) and scores a news sentence in
about 0.1 ms on one core. Labels come from the compound score with the paper's
thresholds (>= 0.05 positive, <= -0.05 negative; Hutto & Gilbert, ICWSM 2014),
see :func:`sentiment_pipeline.records.label_for`. The paper reports F1 0.96 on
tweets but 0.55 on New York Times editorial snippets, the corpus closest to
news: a team that needs better should register another model.
"""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

from vaderSentiment.vaderSentiment import (  # type: ignore[import-untyped]
    SentimentIntensityAnalyzer,
)

from sentiment_pipeline.records import SentimentScores

__all__ = ["VaderModel"]


def _version() -> str:
    try:
        return version("vaderSentiment")
    except PackageNotFoundError:  # copied without its dist-info
        return "unknown"


class VaderModel:
    """vaderSentiment's analyzer behind the :class:`SentimentModel` interface.

    >>> m = VaderModel()
    >>> m.score("What a wonderful, happy day!").label.value
    'positive'
    """

    name = "vader"

    def __init__(self) -> None:
        self.version = _version()
        self._analyzer = SentimentIntensityAnalyzer()

    def score(self, text: str) -> SentimentScores:
        raw = self._analyzer.polarity_scores(text)
        return SentimentScores(raw["compound"], raw["pos"], raw["neu"], raw["neg"])
