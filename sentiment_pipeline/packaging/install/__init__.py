"""Fetching wheels for a target and installing them the way Lambda expects.

The names load on first use: a build that reuses every artifact (or only hashes a
path package's sources) never needs the fetcher or the installer.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sentiment_pipeline.packaging.install.fetch import FetchError, download
    from sentiment_pipeline.packaging.install.wheels import install_wheels

__all__ = ["FetchError", "download", "install_wheels"]

_HOMES = {
    "FetchError": "sentiment_pipeline.packaging.install.fetch",
    "download": "sentiment_pipeline.packaging.install.fetch",
    "install_wheels": "sentiment_pipeline.packaging.install.wheels",
}


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(home), name)
