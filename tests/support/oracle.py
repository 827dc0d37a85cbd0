"""An independent statement of what a valid NewsAPI article is (the tests' oracle).

Written from NewsAPI's documented article shape, not from the library's model,
so that the property tests compare two separate readings of the contract.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re

_URL = re.compile(r"^https?://\S+$", re.IGNORECASE)


def _optional_text(article: dict[str, object], key: str) -> bool:
    return isinstance(article.get(key), str | None)


def _time(value: object) -> bool:
    if not isinstance(value, str) or not value.strip():
        return False
    try:
        dt.datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        return False
    return True


def is_valid(raw: object) -> bool:
    """Valid means storable: well-formed and not retracted."""
    if not isinstance(raw, dict):
        return False
    source = raw.get("source")
    if not isinstance(source, dict):
        return False
    name, sid = source.get("name"), source.get("id")
    title, url = raw.get("title"), raw.get("url")
    return (
        isinstance(name, str)
        and bool(name.strip())
        and isinstance(sid, str | None)
        and isinstance(title, str)
        and bool(title.strip())
        and isinstance(url, str)
        and bool(_URL.match(url.strip()))
        and len(url.strip()) >= 8
        and _time(raw.get("publishedAt"))
        and all(_optional_text(raw, k) for k in ("author", "description", "content", "urlToImage"))
    )


def is_removed(raw: object) -> bool:
    return is_valid(raw) and isinstance(raw, dict) and str(raw["title"]).strip() == "[Removed]"


def key_of(raw: dict[str, object]) -> str:
    source = raw["source"]
    assert isinstance(source, dict)
    identity = str(source.get("id") or "").strip() or str(source["name"]).strip()
    digest = hashlib.sha256(f"{identity}\n{str(raw['url']).strip()}".encode()).hexdigest()
    return f"ITEM#{digest}"
