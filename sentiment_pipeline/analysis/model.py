"""The sentiment-model interface and its loading from entry points.

A model is any object with ``name``, ``version`` and ``score(text)``. Models are
found by name in the entry-point group ``sentiment_pipeline.models``; an entry
point names a class or factory called without arguments::

    [project.entry-points."sentiment_pipeline.models"]
    my-model = "my_package.sentiment:MyModel"

Entry points are read with :func:`importlib.metadata.entry_points` (not
stevedore: that is a build-side dependency the Lambda artifacts do not carry).
In a Lambda zip this library is copied as sources, without its ``dist-info``,
so its own entry points are absent there: ``vader`` then falls back to the
built-in :class:`~sentiment_pipeline.analysis.vader.VaderModel`. Other models
must come from a distribution whose ``dist-info`` is in the artifact.
"""

from __future__ import annotations

from importlib.metadata import entry_points
from typing import TYPE_CHECKING, Protocol, runtime_checkable

from sentiment_pipeline.errors import ConfigurationError, UnknownModelError

if TYPE_CHECKING:
    from sentiment_pipeline.records import SentimentScores

__all__ = ["BUILTIN_MODEL", "MODEL_GROUP", "SentimentModel", "available_models", "load_model"]

MODEL_GROUP = "sentiment_pipeline.models"
BUILTIN_MODEL = "vader"


@runtime_checkable
class SentimentModel(Protocol):
    """Scores texts. ``name`` and ``version`` are stored with every analysis."""

    name: str
    version: str

    def score(self, text: str) -> SentimentScores:
        """Scores for one text (compound in [-1, 1]); may raise for a text it cannot score."""


def available_models() -> tuple[str, ...]:
    """Model names installed as entry points, plus the built-in ``vader``."""
    return tuple(sorted({ep.name for ep in entry_points(group=MODEL_GROUP)} | {BUILTIN_MODEL}))


def load_model(name: str = BUILTIN_MODEL) -> SentimentModel:
    """The model registered as ``name``; an unknown name lists the available ones.

    >>> load_model("vader").name
    'vader'
    >>> load_model("nope")
    Traceback (most recent call last):
    ...
    sentiment_pipeline.errors.UnknownModelError: no sentiment model 'nope'. Available: vader...
    """
    found = [ep for ep in entry_points(group=MODEL_GROUP) if ep.name == name]
    if found:
        factory = found[0].load()
        model = factory()
        if not isinstance(model, SentimentModel):
            raise ConfigurationError(
                "SENTIMENT_MODEL",
                f"is {name!r}, whose entry point {found[0].value!r} does not give an object "
                "with name, version and score(text)",
            )
        return model
    if name == BUILTIN_MODEL:
        from sentiment_pipeline.analysis.vader import (
            VaderModel,  # no dist-info (a Lambda zip): the built-in default
        )

        return VaderModel()
    raise UnknownModelError(name, available_models())
