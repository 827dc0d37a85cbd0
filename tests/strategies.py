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
