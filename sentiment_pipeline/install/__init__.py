"""Fetching wheels for a target and installing them the way Lambda expects."""

from __future__ import annotations

from .fetch import FetchError, download
from .wheels import install_wheels

__all__ = ["FetchError", "download", "install_wheels"]
