"""The backend contract as tests: run them from a backend's own test suite.

Every backend of this repository runs them, and a third-party backend runs the same
ones with two lines in a test module of its own (pytest collects the methods):

>>> from sentiment_pipeline.packaging.testing import BackendContract
>>> class TestMyBackend(BackendContract):
...     backend_name = "my-backend"

The contract is written on :class:`~sentiment_pipeline.packaging.backend.Backend`.
The tests build a small project (one Lambda, one layer, two dependencies) with
the backend, for real: planning, locking, fetching, assembling, verification.
They need no network: the dependencies are wheels the tests write, locked by
``file:`` URL. Set :attr:`BackendContract.engine`, ``build_image`` or ``base_image``
(an image backend needs a base image it can pull) on the subclass when the
defaults do not fit. Importing this module does not import pytest; running the
tests needs it (they use its ``tmp_path`` and ``monkeypatch`` fixtures).

The package's modules: :mod:`.contract` (the tests), :mod:`.project` (the project they
build) and :mod:`.wheels` (its dependencies, written as wheels).
"""

from __future__ import annotations

from sentiment_pipeline.packaging.testing.contract import BackendContract
from sentiment_pipeline.packaging.testing.project import ContractProject, make_contract_project

__all__ = ["BackendContract", "ContractProject", "make_contract_project"]
