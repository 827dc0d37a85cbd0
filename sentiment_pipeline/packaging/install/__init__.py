"""Fetching wheels for a target and installing them the way Lambda expects."""

from __future__ import annotations

from sentiment_pipeline.packaging.install.fetch import FetchError, download
from sentiment_pipeline.packaging.install.wheels import install_wheels

__all__ = ["FetchError", "download", "install_wheels"]
