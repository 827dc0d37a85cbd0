"""Blobs by digest, read only through a check of their size and sha256.

A :data:`BlobSource` maps a digest to content (a file of a layout, a pulled
file, bytes); it promises nothing. Every read goes through :class:`CheckedBlob`,
which hashes the bytes as they pass and raises :class:`BlobDigestError` at the
end unless they are exactly the ones the descriptor names, or as soon as there
are more of them than it says. So a corrupt, altered or swapped blob fails the
build or the verification that reads it; nothing downstream (a cache above
all) may keep what it read before the check passed.

>>> from sentiment_pipeline.packaging.oci.image import descriptor
>>> read_blob(lambda digest: b"{}", descriptor("application/json", b"{}"))
b'{}'
"""

from __future__ import annotations

import hashlib
import io
from collections.abc import Callable
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from sentiment_pipeline.errors import one_line
from sentiment_pipeline.packaging.oci.image import ImageError

if TYPE_CHECKING:
    from collections.abc import Iterable, Iterator

    from sentiment_pipeline.packaging.oci.image import Descriptor
    from sentiment_pipeline.packaging.oci.layer import Layer

__all__ = [
    "BlobDigestError",
    "BlobSource",
    "CheckedBlob",
    "blob_source",
    "copy_blob",
    "open_blob",
    "open_checked",
    "read_blob",
]

BlobSource = Callable[[str], "Path | bytes"]
"""``digest -> content``: a file (of a layout, pulled from a registry, in a cache) or bytes."""

_CHUNK = 1 << 20


class BlobDigestError(ImageError):
    """A blob whose bytes are not the ones its descriptor names (by sha256 and size).

    ``actual`` is the sha256 of what was read, or None when reading stopped at
    ``size`` bytes because that is already more than the descriptor says.
    """

    def __init__(self, expected: Descriptor, actual: str | None, size: int) -> None:
        self.digest = expected.digest
        self.expected_size = expected.size
        self.actual = actual
        self.size = size
        found = (
            f"read {actual} ({size} bytes)"
            if actual is not None
            else f"it holds more than that (read {size} bytes, then stopped)"
        )
        super().__init__(
            one_line(
                f"blob {expected.digest} does not match its digest: expected {expected.digest} "
                f"({expected.size} bytes), {found}. It is corrupt or from another image "
                "(changed after the image was written): do not use this copy; build or pull "
                "the image again"
            )
        )


class CheckedBlob(io.RawIOBase):
    """A blob's bytes as a stream, checked against ``expected`` as they are read.

    Reading to the end raises :class:`BlobDigestError` unless size and sha256
    match; so does reading past ``expected.size``. A consumer that stops before
    the end (a tar reader at its end-of-archive blocks) calls :meth:`finish`.
    """

    def __init__(self, raw: IO[bytes], expected: Descriptor) -> None:
        super().__init__()
        self._raw = raw
        self._expected = expected
        self._hash = hashlib.sha256()
        self._size = 0
        self.verified = False
        """True once every byte was read and matched."""

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        view = memoryview(buffer).cast("B")
        data = self._raw.read(len(view))
        if not data:
            self._check()
            return 0
        self._size += len(data)
        if self._size > self._expected.size:
            raise BlobDigestError(self._expected, None, self._size)
        self._hash.update(data)
        view[: len(data)] = data
        return len(data)

    def finish(self) -> None:
        """Read what is left, and check the whole blob."""
        while self.read(_CHUNK):
            pass
        self._check()

    def close(self) -> None:
        self._raw.close()
        super().close()

    def _check(self) -> None:
        if self.verified:
            return
        actual = f"sha256:{self._hash.hexdigest()}"
        if actual != self._expected.digest or self._size != self._expected.size:
            raise BlobDigestError(self._expected, actual, self._size)
        self.verified = True


def open_checked(blobs: BlobSource, expected: Descriptor) -> CheckedBlob:
    """The blob ``expected`` names, as a :class:`CheckedBlob` (the caller closes it)."""
    content = blobs(expected.digest)
    try:
        # BytesIO shares the bytes object until written to: no copy of the blob.
        raw = open(content, "rb") if isinstance(content, Path) else io.BytesIO(content)  # noqa: SIM115
    except OSError as exc:
        raise ImageError(one_line(f"blob {expected.digest} cannot be read: {exc}")) from exc
    return CheckedBlob(raw, expected)


def open_blob(blobs: BlobSource, expected: Descriptor) -> Iterator[bytes]:
    """The chunks of a blob; the last ``next()`` raises if the blob was not ``expected``."""
    with open_checked(blobs, expected) as blob:
        while chunk := blob.read(_CHUNK):
            yield chunk


def copy_blob(blobs: BlobSource, expected: Descriptor, dest: IO[bytes]) -> None:
    """Stream a checked blob into ``dest``."""
    for chunk in open_blob(blobs, expected):
        dest.write(chunk)


def read_blob(blobs: BlobSource, expected: Descriptor) -> bytes:
    """A small blob (config, manifest) in memory, checked. Never use it for layers."""
    return b"".join(open_blob(blobs, expected))


def blob_source(layers: Iterable[Layer], fallback: BlobSource | None = None) -> BlobSource:
    """Serve ``layers`` from their files and every other digest from ``fallback``."""
    ours = {layer.digest: layer.path for layer in layers}

    def get(digest: str) -> Path | bytes:
        if digest in ours:
            return ours[digest]
        if fallback is None:
            raise ImageError(f"no source for blob {digest}: pass a fallback blob source")
        return fallback(digest)

    return get
