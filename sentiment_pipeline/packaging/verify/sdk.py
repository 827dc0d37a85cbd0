"""The runtime's pre-installed SDK (boto3 and friends), provisioned for dynamic checks.

Lambda's Python runtimes ship boto3/botocore; a handler that imports them but does
not bundle them imports fine in Lambda. To import such a handler faithfully we put
the same versions (from the target catalog) after the standard library, where the
runtime has them. They are pure-Python wheels, fetched once with pip into the
user's cache and reused offline.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

import attrs

from sentiment_pipeline.packaging.cache import default_cache_root

if TYPE_CHECKING:
    from sentiment_pipeline.packaging.targets import Target

__all__ = ["SdkResult", "runtime_sdk"]


@attrs.frozen
class SdkResult:
    path: Path | None
    reason: str


def runtime_sdk(target: Target, *, offline: bool = False) -> SdkResult:
    """A directory holding the target runtime's SDK, or None and why not."""
    pins = dict(target.sdk_reference)
    if not pins:
        return SdkResult(None, f"the catalog lists no SDK versions for {target.runtime}")
    label = "-".join(f"{n}{v}" for n, v in sorted(pins.items()))
    final = default_cache_root() / "runtime-sdk" / f"{target.runtime}-{target.architecture}-{label}"
    if (final / ".complete").exists():
        return SdkResult(final, f"cached: {', '.join(f'{n}=={v}' for n, v in pins.items())}")
    if offline:
        return SdkResult(None, "not cached and --offline was given")
    # Imported only to provision the SDK: a cached one (every later build) needs none of it.
    from sentiment_pipeline.packaging.install import FetchError, download, install_wheels

    final.parent.mkdir(parents=True, exist_ok=True)
    requirements = [f"{n}=={v}" for n, v in sorted(pins.items())]
    with tempfile.TemporaryDirectory(dir=final.parent) as tmp:
        try:
            wheels = download(
                requirements,
                Path(tmp) / "wheels",
                python=target.python,
                platforms=target.platform_tags,
            )
        except FetchError as exc:
            return SdkResult(None, str(exc))
        staging = install_wheels(wheels, Path(tmp) / "site", python=target.python)
        (staging / ".complete").write_text("\n".join(w.name for w in wheels) + "\n")
        try:
            staging.rename(final)
        except OSError:
            if not (final / ".complete").exists():
                raise
            # Another process finished the same cache entry first; theirs is as good.
    return SdkResult(final, f"fetched: {', '.join(requirements)}")
