"""The contract class as a backend's suite uses it; its tests run in tests/contract/."""

from __future__ import annotations

import doctest
from typing import TYPE_CHECKING

from sentiment_pipeline.packaging.testing import BackendContract, contract

if TYPE_CHECKING:
    from pathlib import Path


def test_the_examples_in_the_docstrings_run() -> None:
    result = doctest.testmod(contract, optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0 and result.failed == 0


def test_the_options_of_a_subclass_name_its_backend_engine_and_images(tmp_path: Path) -> None:
    class TestImages(BackendContract):
        backend_name = "container-image"
        engine = "buildah"
        build_image = "registry.example/build:3.13"
        base_image = "registry.example/base:3.13"

    options = TestImages().options(tmp_path / "out")
    assert (options.backend, options.engine, options.build_image, options.base_image) == (
        "container-image",
        "buildah",
        "registry.example/build:3.13",
        "registry.example/base:3.13",
    )
    assert options.out == (tmp_path / "out").resolve()
