"""The pipeline's built artifacts, served locally: one stack per registered backend.

Each backend builds this repository's ``lambdas.toml`` (a copy, so the lock and
the output stay out of the tree) with ``--engine none``; the container-image
backend on the Lambda-like base image the container tests push to a local
registry. The stack runs every artifact on python3.13 against a moto server,
with a local NewsAPI serving the articles below.
"""

from __future__ import annotations

import datetime as dt
import http.client
import json
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from sentiment_pipeline.local.serve import build_specs
from sentiment_pipeline.local.stack import Stack, StackOptions
from sentiment_pipeline.packaging.backend import installed_backends
from sentiment_pipeline.packaging.manifest import Manifest
from sentiment_pipeline.packaging.options import BuildOptions
from sentiment_pipeline.packaging.targets import get_target
from sentiment_pipeline.packaging.verify.interpreters import find_interpreter
from tests.support.newsapi_fake import FakeNewsAPI

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

    from sentiment_pipeline.local.runner import FunctionSpec

ROOT = Path(__file__).resolve().parents[2]
BACKENDS = sorted(installed_backends())
ORIGIN = "https://dashboard.example"

TEXTS = [
    ("Harbor Daily", "Local bakery wins national award and celebrates a wonderful year"),
    ("Harbor Daily", "Commuters furious as the worst delays in years ruin the week"),
    ("Metro Wire", "City council publishes the agenda for the Tuesday meeting"),
    ("Metro Wire", "Volunteers praised for a brilliant, successful clean-up weekend"),
    ("Summit Science", "Storm damage leaves families angry and facing terrible losses"),
    ("Summit Science", "Researchers describe the layout of the new laboratory building"),
]


def article(index: int, source: str, title: str, *, minutes_ago: int) -> dict[str, Any]:
    published = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=minutes_ago)
    slug = source.lower().replace(" ", "-")
    return {
        "source": {"id": slug, "name": source},
        "author": None,
        "title": title,
        "description": None,
        "url": f"https://{slug}.example/story-{index}",
        "urlToImage": None,
        "publishedAt": published.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "content": None,
    }


def first_articles() -> list[dict[str, Any]]:
    return [
        article(i, source, title, minutes_ago=5 + 40 * i) for i, (source, title) in enumerate(TEXTS)
    ]


@pytest.fixture(scope="session")
def python313() -> str:
    found = find_interpreter(get_target("python3.13", "x86_64"))
    if found is None:
        pytest.skip(
            "no python3.13 interpreter here: the end-to-end tests run the python3.13 artifacts "
            "(install one, e.g. `uv python install 3.13`)"
        )
    return found


@pytest.fixture(scope="session")
def repo_copy(tmp_path_factory: pytest.TempPathFactory) -> Path:
    project = tmp_path_factory.mktemp("repo")
    for name in ("lambdas.toml", "lambdas.lock"):
        shutil.copy(ROOT / name, project / name)
    for name in ("handlers", "sentiment_pipeline"):
        shutil.copytree(ROOT / name, project / name, ignore=shutil.ignore_patterns("__pycache__"))
    return project


@pytest.fixture(scope="session")
def build_backend(
    repo_copy: Path, python313: str, request: pytest.FixtureRequest
) -> Callable[[str], dict[str, FunctionSpec]]:
    """Build (once per backend) this repository's Lambdas; their runnable specs."""
    built: dict[str, dict[str, FunctionSpec]] = {}

    def build(backend: str) -> dict[str, FunctionSpec]:
        if backend not in built:
            base = request.getfixturevalue("base_image") if backend == "container-image" else None
            specs, result = build_specs(
                Manifest.load(repo_copy / "lambdas.toml"),
                BuildOptions(
                    backend=backend, out=repo_copy / "dist", engine="none", base_image=base
                ),
            )
            assert result.ok
            built[backend] = specs
        return built[backend]

    return build


@dataclass
class Served:
    backend: str
    stack: Stack
    newsapi: FakeNewsAPI
    specs: dict[str, FunctionSpec]

    @property
    def key(self) -> str:
        return self.stack.api_key

    def call(
        self,
        method: str,
        target: str,
        *,
        headers: dict[str, str] | None = None,
        key: bool = True,
    ) -> tuple[int, http.client.HTTPMessage, bytes]:
        host, port = self.stack.url.removeprefix("http://").split(":")
        connection = http.client.HTTPConnection(host, int(port), timeout=60)
        try:
            sent = {**({"X-API-Key": self.key} if key else {}), **(headers or {})}
            connection.request(method, target, headers=sent)
            response = connection.getresponse()
            return response.status, response.headers, response.read()
        finally:
            connection.close()

    def json(self, target: str) -> Any:
        status, _, body = self.call("GET", target)
        assert status == 200, body
        return json.loads(body)

    def ingest(self) -> dict[str, Any]:
        status, _, body = self.call("POST", "/_local/ingest")
        assert status == 200, body
        assert self.stack.wait_idle(timeout=120)
        result: dict[str, Any] = json.loads(body)["ingestion"]
        return result


def start_stack(
    specs: dict[str, FunctionSpec], newsapi: FakeNewsAPI, state: Path, **options: Any
) -> Stack:
    return Stack(
        specs,
        StackOptions(
            state_dir=state,
            port=0,
            newsapi_url=newsapi.url,
            newsapi_key=newsapi.api_key,
            ingest_every=0,
            ingest_on_start=False,
            cors_origins=ORIGIN,
            sse_poll_interval=1.0,
            retry_delay=0.2,
            **options,
        ),
    ).start()


@pytest.fixture(scope="session", params=BACKENDS)
def served(
    request: pytest.FixtureRequest,
    build_backend: Callable[[str], dict[str, FunctionSpec]],
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Served]:
    backend: str = request.param
    specs = build_backend(backend)
    newsapi = FakeNewsAPI(articles=first_articles()).start()
    stack = start_stack(specs, newsapi, tmp_path_factory.mktemp(f"state-{backend}"))
    try:
        assert stack.wait_healthy() == 200
        served = Served(backend, stack, newsapi, specs)
        served.ingest()  # every test starts with the first articles stored and analysed
        yield served
    finally:
        stack.stop()
        newsapi.stop()
