"""Blobs are read only through a check of their size and sha256."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from sentiment_pipeline.packaging.oci.blobs import (
    BlobDigestError,
    blob_source,
    open_blob,
    open_checked,
    read_blob,
)
from sentiment_pipeline.packaging.oci.image import ImageError, descriptor
from sentiment_pipeline.packaging.oci.layer import LayerFile, build_layer
from sentiment_pipeline.packaging.oci.mediatypes import OCI_CONFIG, OCI_LAYER

if TYPE_CHECKING:
    from pathlib import Path

CONFIG = b'{"architecture":"amd64","os":"linux"}'
EXPECTED = descriptor(OCI_CONFIG, CONFIG)


def test_the_right_bytes_read_whole_from_bytes_or_a_file(tmp_path: Path) -> None:
    assert read_blob(lambda _: CONFIG, EXPECTED) == CONFIG
    (tmp_path / "blob").write_bytes(CONFIG)
    assert read_blob(lambda _: tmp_path / "blob", EXPECTED) == CONFIG


def test_same_size_other_bytes_name_the_blob_both_digests_and_the_fix() -> None:
    tampered = CONFIG.replace(b"amd64", b"arm64")
    assert len(tampered) == len(CONFIG)
    with pytest.raises(BlobDigestError) as err:
        read_blob(lambda _: tampered, EXPECTED)
    message = str(err.value)
    assert f"blob {EXPECTED.digest} does not match its digest" in message
    assert f"read {descriptor(OCI_CONFIG, tampered).digest}" in message
    assert "build or pull the image again" in message
    assert (err.value.digest, err.value.actual) == (
        EXPECTED.digest,
        descriptor(OCI_CONFIG, tampered).digest,
    )
    assert isinstance(err.value, ImageError)


def test_a_blob_longer_than_its_descriptor_is_refused_without_reading_it_all() -> None:
    huge = CONFIG + bytes(64 << 20)
    chunks = open_blob(lambda _: huge, EXPECTED)
    with pytest.raises(BlobDigestError, match="holds more than that") as err:
        list(chunks)
    assert err.value.actual is None
    assert err.value.size <= 1 << 20  # it stopped at the first chunk past the size


def test_a_shorter_blob_is_refused() -> None:
    with pytest.raises(BlobDigestError, match=rf"\({len(CONFIG) - 1} bytes\)"):
        read_blob(lambda _: CONFIG[:-1], EXPECTED)


def test_finish_checks_the_bytes_a_reader_that_stopped_early_left() -> None:
    # A tar reader stops at its end-of-archive blocks: what follows is the blob's too.
    good, tampered = b"A" * 100 + b"B" * 100, b"A" * 100 + b"C" * 100
    expected = descriptor(OCI_LAYER, good)
    with open_checked(lambda _: good, expected) as blob:
        assert blob.read(100) == b"A" * 100
        blob.finish()
        assert blob.verified
    with open_checked(lambda _: tampered, expected) as blob:
        assert blob.read(100) == b"A" * 100
        assert not blob.verified
        with pytest.raises(BlobDigestError):
            blob.finish()


def test_a_missing_file_says_so(tmp_path: Path) -> None:
    with pytest.raises(ImageError, match=f"blob {EXPECTED.digest} cannot be read"):
        read_blob(lambda _: tmp_path / "gone", EXPECTED)


def test_blob_source_serves_our_layers_then_the_fallback(tmp_path: Path) -> None:
    layer = build_layer([LayerFile("a.py", b"1\n")], tmp_path, mtime=0, skip_dirs=frozenset())
    blobs = blob_source([layer], fallback=lambda digest: CONFIG)
    assert blobs(layer.digest) == layer.path
    assert blobs(EXPECTED.digest) == CONFIG
    with pytest.raises(ImageError, match="pass a fallback blob source"):
        blob_source([layer])(EXPECTED.digest)
