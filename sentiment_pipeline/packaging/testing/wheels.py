"""The contract project's dependencies: small pure-Python wheels, the same bytes every time.

>>> import tempfile, zipfile
>>> from pathlib import Path
>>> with tempfile.TemporaryDirectory() as tmp:
...     wheel = write_wheel(Path(tmp), "sp-contract-own", 'VALUE = "own"')
...     with zipfile.ZipFile(wheel) as archive:
...         wheel.name, sorted(archive.namelist())[0]
('sp_contract_own-1.0-py3-none-any.whl', 'sp_contract_own-1.0.dist-info/METADATA')
"""

from __future__ import annotations

import base64
import hashlib
import zipfile
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pathlib import Path

__all__ = ["write_wheel"]


def _record_hash(data: bytes) -> str:
    digest = hashlib.sha256(data).digest()
    return "sha256=" + base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def write_wheel(folder: Path, name: str, module: str) -> Path:
    """A pure-Python wheel of ``name`` 1.0 holding one module; the same bytes every time."""
    package = name.replace("-", "_")
    dist_info = f"{package}-1.0.dist-info"
    files = {
        f"{package}/__init__.py": module.encode(),
        f"{dist_info}/METADATA": f"Metadata-Version: 2.1\nName: {name}\nVersion: 1.0\n".encode(),
        f"{dist_info}/WHEEL": (
            b"Wheel-Version: 1.0\nGenerator: sentiment-pipeline-contract\n"
            b"Root-Is-Purelib: true\nTag: py3-none-any\n"
        ),
    }
    record = "".join(f"{path},{_record_hash(data)},{len(data)}\n" for path, data in files.items())
    files[f"{dist_info}/RECORD"] = f"{record}{dist_info}/RECORD,,\n".encode()
    wheel = folder / f"{package}-1.0-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w", zipfile.ZIP_STORED) as archive:
        for path, data in files.items():
            info = zipfile.ZipInfo(path, date_time=(1980, 1, 1, 0, 0, 0))
            info.external_attr = 0o644 << 16
            archive.writestr(info, data)
    return wheel
