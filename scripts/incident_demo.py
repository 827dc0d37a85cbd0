"""Reproduce the preprod 502 with real wheels, and show `verify` catch it before deploy.

Builds two dashboard zips in ``dist/demo/`` from wheels fetched for the target:
the incident's (pydantic_core built for CPython 3.12, deployed to python3.13) and
the correct one, then runs ``sentiment-pipeline verify`` on each. Then builds this
repository's own three Lambdas (``lambdas.toml``) with both backends, each artifact
verified before it lands. Exits 0 when the broken zip is rejected, the good one
accepted, and the builds succeed.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

from sentiment_pipeline import get_target
from sentiment_pipeline.packaging.cache import default_cache_root
from sentiment_pipeline.packaging.install import download, install_wheels

PINS = ["pydantic==2.12.4"]
HANDLER = """\
import json

import pydantic


class Health(pydantic.BaseModel):
    status: str = "healthy"


def lambda_handler(event, context):
    return {"statusCode": 200, "body": Health().model_dump_json()}
"""


def build_zip(python: str, platform: str, out: Path) -> Path:
    wheels = download(
        PINS,
        default_cache_root() / "demo-wheels" / f"cp{python}-{platform}",
        python=python,
        platforms=[platform],
    )
    with tempfile.TemporaryDirectory() as tmp:
        tree = install_wheels(wheels, Path(tmp) / "tree")
        (tree / "handler.py").write_text(HANDLER)
        partial = out.with_suffix(".zip.partial")
        with zipfile.ZipFile(partial, "w", zipfile.ZIP_DEFLATED) as zf:
            for path in sorted(tree.rglob("*")):
                if path.is_file():
                    zf.write(path, path.relative_to(tree).as_posix())
        partial.replace(out)  # never a half-written zip at the final path
    return out


def verify(path: Path) -> int:
    print(
        f"\n$ sentiment-pipeline verify {path} --runtime python3.13 --architecture x86_64",
        flush=True,
    )
    command = [
        sys.executable,
        "-m",
        "sentiment_pipeline",
        "verify",
        str(path),
        "--runtime",
        "python3.13",
        "--architecture",
        "x86_64",
    ]
    return subprocess.run(command, check=False).returncode


def main() -> int:
    target = get_target("python3.13", "x86_64")
    out = Path("dist/demo")
    out.mkdir(parents=True, exist_ok=True)
    print(
        f"Target: {target.runtime} {target.architecture}, {target.os_name}, glibc "
        f"{target.glibc_str}. Fetching {' '.join(PINS)} ...",
        flush=True,
    )
    broken = build_zip("3.12", "manylinux2014_x86_64", out / "dashboard-incident.zip")
    good = build_zip("3.13", "manylinux2014_x86_64", out / "dashboard.zip")
    broken_code, good_code = verify(broken), verify(good)
    builds = []
    for backend in ("zip-in-docker", "layer"):
        print(f"\n$ sentiment-pipeline build --backend {backend} --engine none", flush=True)
        command = [
            sys.executable,
            "-m",
            "sentiment_pipeline",
            "build",
            "--backend",
            backend,
            "--engine",
            "none",
        ]
        builds.append(subprocess.run(command, check=False).returncode)
    print("\nSummary:")
    verdict = "rejected, as it must be" if broken_code == 1 else "NOT rejected"
    print(f"  {broken}: exit {broken_code} ({verdict})")
    print(f"  {good}: exit {good_code} ({'deployable' if good_code == 0 else 'rejected'})")
    print(f"  this repository's Lambdas: exit {builds} (zip-in-docker, layer) -> dist/")
    return 0 if (broken_code, good_code, *builds) == (1, 0, 0, 0) else 1


if __name__ == "__main__":
    sys.exit(main())
