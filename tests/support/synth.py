"""Small synthetic artifacts: installed distributions with honest RECORDs."""

from __future__ import annotations

import base64
import hashlib
import io
import tarfile
import zipfile
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pathlib import Path


def digest(data: bytes) -> str:
    return "sha256=" + base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()


def add_dist(
    root: Path, name: str, version: str, files: dict[str, str], *, tag: str = "py3-none-any"
) -> None:
    """Install a fake pure-Python distribution into ``root`` with METADATA, WHEEL and RECORD."""
    info = f"{name}-{version}.dist-info"
    contents = {path: text.encode() for path, text in files.items()}
    contents[f"{info}/METADATA"] = (
        f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n".encode()
    )
    contents[f"{info}/WHEEL"] = f"Wheel-Version: 1.0\nRoot-Is-Purelib: true\nTag: {tag}\n".encode()
    lines = []
    for path, data in contents.items():
        target = root / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
        lines.append(f"{path},{digest(data)},{len(data)}")
    lines.append(f"{info}/RECORD,,")
    (root / info / "RECORD").write_text("\n".join(lines) + "\n")


def write_files(root: Path, files: dict[str, str]) -> Path:
    """``files`` (relative name -> text) written under ``root``; ``root``."""
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)
    return root


def sdist(directory: Path, name: str, version: str, files: dict[str, str]) -> Path:
    """A source archive ``NAME-VERSION.tar.gz`` in ``directory`` holding ``files``."""
    archive = directory / f"{name}-{version}.tar.gz"
    with tarfile.open(archive, "w:gz") as tar:
        for member, text in files.items():
            data = text.encode()
            info = tarfile.TarInfo(f"{name}-{version}/{member}")
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return archive


def zip_tree(root: Path, out: Path, prefix: str = "") -> Path:
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
        for path in sorted(root.rglob("*")):
            if path.is_file():
                zf.write(path, prefix + path.relative_to(root).as_posix())
    return out
