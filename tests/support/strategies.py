"""Hypothesis strategies shared by the property tests."""

from __future__ import annotations

import io
import warnings
import zipfile

from hypothesis import strategies as st

_SEGMENTS = st.one_of(
    st.sampled_from(
        [
            "..",
            ".",
            "",
            "handler.py",
            "pkg",
            "__init__.py",
            "RECORD",
            "WHEEL",
            "x.dist-info",
            "m.cpython-313-x86_64-linux-gnu.so",
            "lib.so.1",
            "C:",
        ]
    ),
    st.text(min_size=1, max_size=12),
)
names = st.lists(_SEGMENTS, min_size=1, max_size=4).map("/".join) | st.sampled_from(
    ["/etc/passwd", "a\\b.py", "x.dist-info/RECORD", "x.dist-info/WHEEL", "handler.py"]
)
_CONTENTS = st.one_of(
    st.binary(max_size=256),
    st.sampled_from(
        [
            b"\x7fELF" + bytes(60),
            b"\x7fELF\x02\x01\x01" + bytes(200),
            b"\xcf\xfa\xed\xfe" + bytes(8),
            b"MZ",
            b"handler.py,sha256=AAAA,1\nmissing.py,sha256=BBBB,2\n../../bin/x,,\n",
            b"Wheel-Version: 1.0\nTag: cp313-cp313-manylinux_2_17_x86_64\nTag: bad\n",
            b"import os\nimport nothing_here\ndef lambda_handler(e, c):\n    pass\n",
            b"def lambda_handler(:\n",
        ]
    ),
)
_MODES = st.sampled_from([0, 0o100644, 0o100755, 0o040755, 0o120777, 0o020644, 0o600])
members = st.lists(
    st.tuples(
        names, _CONTENTS, _MODES, st.sampled_from([zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED])
    ),
    max_size=8,
)


@st.composite
def zip_archives(draw: st.DrawFn) -> bytes:
    """Arbitrary zip structures, sometimes with a byte flipped afterwards."""
    buffer = io.BytesIO()
    with warnings.catch_warnings(), zipfile.ZipFile(buffer, "w") as zf:
        warnings.simplefilter("ignore")  # duplicate names are part of the test space
        for name, data, mode, compression in draw(members):
            info = zipfile.ZipInfo(name)
            info.external_attr = mode << 16
            info.compress_type = compression
            zf.writestr(info, data)
    raw = bytearray(buffer.getvalue())
    if raw and draw(st.booleans()):
        index = draw(st.integers(0, len(raw) - 1))
        raw[index] = draw(st.integers(0, 255))
    return bytes(raw)


# --- the pipeline: NewsAPI article payloads and Lambda events --------------------------

_ISO_TIMES = st.datetimes().map(lambda d: d.replace(microsecond=0).isoformat() + "Z")
_URLS = st.one_of(
    st.builds(
        "https://{}.example/{}".format,
        st.sampled_from(["a", "b", "news"]),
        st.text("abc123-", max_size=6),
    ),
    st.builds(
        "https://{}.example/{}".format,
        st.sampled_from(["a", "b", "news"]),
        st.text("abc123-", max_size=6),
    ),
    st.sampled_from(["", "ftp://x.example/a", "not a url", "https://", "http://a b.example"]),
)


@st.composite
def raw_articles(draw: st.DrawFn) -> object:
    """NewsAPI article payloads: mostly well-formed, often subtly broken, sometimes garbage."""
    if draw(st.integers(0, 19)) == 0:
        return draw(st.one_of(st.none(), st.integers(), st.text(max_size=5), st.lists(st.none())))

    def mostly(good: st.SearchStrategy[object], bad: st.SearchStrategy[object]) -> object:
        return draw(good if draw(st.integers(0, 9)) < 9 else bad)

    good_source = st.fixed_dictionaries(
        {
            "id": st.one_of(st.none(), st.sampled_from(["bbc", "cnn", " reuters "])),
            "name": st.sampled_from(["BBC", "CNN", "Reuters", " AP "]),
        }
    )
    bad_source = st.one_of(
        st.fixed_dictionaries({"id": st.none(), "name": st.sampled_from(["", " "])}),
        st.none(),
        st.fixed_dictionaries({"id": st.integers(), "name": st.just("X")}),
    )
    article: dict[str, object] = {
        "source": mostly(good_source, bad_source),
        "author": mostly(st.one_of(st.none(), st.text(max_size=20)), st.integers()),
        "title": mostly(
            st.sampled_from(["Rally", "Storm hits", " Calm ", "[Removed]"]) | st.text(min_size=1),
            st.sampled_from(["", "  "]) | st.integers() | st.none(),
        ),
        "description": mostly(st.one_of(st.none(), st.text(max_size=30)), st.integers()),
        "url": draw(_URLS),
        "urlToImage": None,
        "publishedAt": mostly(
            _ISO_TIMES, st.sampled_from(["yesterday", "", "2024-13-01T00:00:00Z"])
        ),
        "content": mostly(st.one_of(st.none(), st.text(max_size=30)), st.lists(st.none())),
    }
    if draw(st.integers(0, 9)) == 0:
        for key in draw(st.lists(st.sampled_from(sorted(article)), max_size=2, unique=True)):
            del article[key]
    return article


_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=10),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=8,
)
_PATHS = st.sampled_from(
    ["/health", "/api/items", "/api/metrics", "/api/stream", "/", "/api/items/", "/nope", ""]
) | st.text(max_size=12)
_QUERY = st.sampled_from(
    [
        "",
        "limit=5",
        "limit=0",
        "limit=abc",
        "status=ANALYZED&sentiment=positive",
        "sentiment=sad",
        "since=2024-05-01T00:00:00Z",
        "since=bogus",
        "cursor=Zm9v",
        "cursor=%%%",
        "hours=500",
        "api_key=wrong",
        "source=BBC",
    ]
) | st.text(max_size=20)


@st.composite
def function_url_events(draw: st.DrawFn, api_key: str | None = None) -> object:
    """Function URL (payload 2.0) events, well-formed or mangled, and arbitrary JSON.

    With ``api_key``, the ``x-api-key`` header is often that key, so that the
    authenticated routes are reached with arbitrary parameters.
    """
    if draw(st.integers(0, 5)) == 0:
        return draw(_JSON)
    method = draw(
        st.sampled_from(["GET", "POST", "OPTIONS", "DELETE", "get", ""]) | st.text(max_size=5)
    )
    path = draw(_PATHS)
    headers = draw(
        st.dictionaries(
            st.sampled_from(["x-api-key", "origin", "last-event-id", "content-type", "X-API-Key"]),
            st.text(max_size=20),
            max_size=3,
        )
    )
    if api_key is not None and draw(st.booleans()):
        headers["x-api-key"] = api_key
    event: dict[str, object] = {
        "version": "2.0",
        "rawPath": path,
        "rawQueryString": draw(_QUERY),
        "headers": headers,
        "requestContext": {"http": {"method": method, "path": path}, "requestId": "req-h"},
        "body": draw(st.one_of(st.none(), st.text(max_size=20), st.just("x" * 70_000))),
        "isBase64Encoded": draw(st.booleans()),
    }
    for key in draw(st.lists(st.sampled_from(sorted(event)), max_size=2, unique=True)):
        if draw(st.booleans()):
            del event[key]
        else:
            event[key] = draw(_JSON)
    return event
