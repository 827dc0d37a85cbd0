"""Warm-cache container image build beside the zip build of the same Lambda.

What is measured, side by side in one run (order alternating, median of N):

(a) ``sentiment-pipeline build --backend zip-in-docker --engine none`` of a Lambda
    with pydantic and orjson for python3.13/x86_64, as a whole process;
(b) the same Lambda with ``--backend container-image --engine none`` on a
    Lambda-like base image in a real docker-registry on 127.0.0.1 (base manifest
    and config pulled and checked every build; layers already cached by diff_id).

Both install through the same code path and both are verified (static + import).
Target: (b) / (a) <= 1.5. Needs root, buildah, debootstrap and docker-registry
(the test suite's fixtures make the base image once per machine).

Usage: ``python benchmarks/bench_image.py [--repeat N]``
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from _procs import run_process

from tests.support.build_image import lambda_like_image, push_to_registry
from tests.support.registry_server import start_registry

MANIFEST = """\
[defaults]
runtime = "python3.13"
architecture = "x86_64"

[lambdas.api]
handler = "app.main.lambda_handler"
sources = ["app"]
requirements = ["pydantic==2.12.4", "orjson==3.13.0"]
"""
APP = """\
import orjson
import pydantic


class Health(pydantic.BaseModel):
    status: str = "ok"


def lambda_handler(event, context):
    return {"statusCode": 200, "body": orjson.dumps(Health().model_dump()).decode()}
"""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="bench-image-") as tmp:
        root = Path(tmp)
        registry = start_registry(root / "registry")
        try:
            base = f"{registry.host}/lambda/python:3.13-x86_64"
            push_to_registry(lambda_like_image("3.13"), base)
            project = root / "p"
            (project / "app").mkdir(parents=True)
            (project / "app" / "__init__.py").write_text("")
            (project / "app" / "main.py").write_text(textwrap.dedent(APP))
            (project / "lambdas.toml").write_text(MANIFEST)

            def command(backend: str, out: Path) -> list[str]:
                return [
                    sys.executable,
                    "-m",
                    "sentiment_pipeline",
                    "build",
                    "--manifest",
                    str(project / "lambdas.toml"),
                    "--out",
                    str(out),
                    "--engine",
                    "none",
                    "--backend",
                    backend,
                    "--base-image",
                    base,
                ]

            for backend in ("zip-in-docker", "container-image"):  # prime lock and caches
                subprocess.run(command(backend, root / "prime"), check=True, capture_output=True)
            times: dict[str, list[float]] = {"zip-in-docker": [], "container-image": []}
            for round_ in range(args.repeat):
                order = list(times) if round_ % 2 == 0 else list(reversed(times))
                for backend in order:
                    result = run_process(command(backend, root / f"out-{backend}-{round_}"))
                    if result.exit_code != 0:
                        print(result.stdout, result.stderr, file=sys.stderr)
                        return 1
                    times[backend].append(result.seconds)
        finally:
            registry.stop()
    zip_s = statistics.median(times["zip-in-docker"])
    image_s = statistics.median(times["container-image"])
    print(f"{'build':<34}{'median s':>10}{'min s':>8}")
    for backend, values in times.items():
        print(f"{backend:<34}{statistics.median(values):>10.3f}{min(values):>8.3f}")
    ratio = image_s / zip_s
    print(
        f"container-image / zip-in-docker = {ratio:.2f} (target <= 1.5): "
        f"{'met' if ratio <= 1.5 else 'NOT met'}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
