"""The dashboard page in a real browser: Debian's chromium driven by Playwright.

Playwright never downloads a browser here: it launches the system's ``chromium``
(headless; ``--no-sandbox`` because the tests may run as root). The screenshot
goes to the test's temp directory, or to ``$SENTIMENT_PIPELINE_SCREENSHOTS``.
"""

from __future__ import annotations

import contextlib
import itertools
import os
import shutil
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from tests.e2e.conftest import TEXTS, Served, article, first_articles, start_stack
from tests.support.newsapi_fake import FakeNewsAPI

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

    from playwright.sync_api import Browser, FloatRect

    from sentiment_pipeline.local.runner import FunctionSpec


def assert_next_to(box: FloatRect | None, field: FloatRect | None) -> None:
    """``box`` is shown right under the field: same column, no more than a line below."""
    assert box is not None and field is not None
    assert box["width"] > 0 and box["height"] > 0
    below = box["y"] - (field["y"] + field["height"])
    assert 0 <= below <= 40, (box, field)
    assert box["x"] < field["x"] + field["width"] and field["x"] < box["x"] + box["width"]


@contextlib.contextmanager
def dashboard_in_chromium(
    build_backend: Callable[[str], dict[str, FunctionSpec]], tmp_path: Path
) -> Iterator[tuple[Served, Browser]]:
    """The zip-in-docker stack with the first articles ingested, and headless chromium."""
    chromium = shutil.which("chromium")
    if chromium is None:
        pytest.skip("Debian's chromium is not installed (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    specs = build_backend("zip-in-docker")
    newsapi = FakeNewsAPI(articles=first_articles()).start()
    stack = start_stack(specs, newsapi, tmp_path / "state")
    try:
        served = Served("zip-in-docker", stack, newsapi, specs)
        served.ingest()
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path=chromium, headless=True, args=["--no-sandbox"]
            )
            try:
                yield served, browser
            finally:
                browser.close()
    finally:
        stack.stop()
        newsapi.stop()


def screenshots(tmp_path: Path) -> Path:
    return Path(os.environ.get("SENTIMENT_PIPELINE_SCREENSHOTS") or tmp_path)


def test_the_page_shows_the_chart_and_items_and_a_live_update(
    build_backend: Callable[[str], dict[str, FunctionSpec]], tmp_path: Path
) -> None:
    with dashboard_in_chromium(build_backend, tmp_path) as (served, browser):
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        problems: list[str] = []
        page.on("pageerror", lambda error: problems.append(str(error)))
        page.on(
            "console",
            lambda message: problems.append(message.text) if message.type == "error" else None,
        )
        page.goto(f"{served.stack.url}/")
        page.fill("#api-key", "not the key")
        page.press("#api-key", "Enter")
        # Selectors only: the page's CSP (no 'unsafe-eval') stays in force.
        error = page.locator("#login [role=alert]")
        error.wait_for(state="visible")
        assert "wrong api key" in error.inner_text().lower()
        assert page.locator("#api-key:focus[aria-invalid=true]").count() == 1
        assert_next_to(error.bounding_box(), page.locator("#api-key").bounding_box())
        problems.clear()  # the browser logs the 401 it was given: expected
        page.fill("#api-key", served.stack.api_key)
        page.press("#api-key", "Enter")
        page.wait_for_selector("#dashboard", state="visible")
        page.wait_for_selector("#chart svg rect[data-hour][data-label=positive]")
        page.wait_for_selector("body[data-live='1']", state="attached")
        assert int(page.get_attribute("body", "data-items") or 0) == len(TEXTS)
        assert page.locator("#items [data-id]").count() == len(TEXTS)
        assert page.locator("#items [data-sentiment=negative]").count() >= 1
        assert "Harbor Daily" in page.inner_text("#sources")
        assert f"{len(TEXTS)} items" in page.inner_text("#totals")

        title = "Harbour festival draws joyful crowds and wonderful reviews"
        served.newsapi.articles.insert(0, article(77, "Harbor Daily", title, minutes_ago=1))
        served.ingest()
        # No reload: the page's EventSource reconnects (retry: 1 s) and gets it.
        page.wait_for_selector(f"#items li:has-text('{title}')", timeout=30_000)
        page.wait_for_selector(
            f"body[data-items='{len(TEXTS) + 1}']", state="attached", timeout=30_000
        )
        shot = screenshots(tmp_path) / "dashboard.png"
        page.screenshot(path=str(shot), full_page=True)
        assert shot.stat().st_size > 10_000
        assert not problems, problems


def test_on_a_phone_the_chart_labels_are_readable_and_do_not_overlap(
    build_backend: Callable[[str], dict[str, FunctionSpec]], tmp_path: Path
) -> None:
    with dashboard_in_chromium(build_backend, tmp_path) as (served, browser):
        page = browser.new_page(viewport={"width": 390, "height": 844})
        page.goto(f"{served.stack.url}/")
        page.fill("#api-key", served.stack.api_key)
        page.press("#api-key", "Enter")
        page.wait_for_selector("#chart svg rect[data-hour][data-label=positive]")
        labels = page.locator("#chart svg text[data-axis=x]")
        boxes = [labels.nth(i).bounding_box() for i in range(labels.count())]
        chart = page.locator("#chart svg").bounding_box()
        assert chart is not None and len(boxes) >= 3  # 24 hours: a few labels still
        spans = []
        for box in boxes:
            assert box is not None
            assert box["height"] >= 10, box  # CSS pixels: readable, not scaled down
            spans.append((box["x"], box["x"] + box["width"]))
        spans.sort()
        assert chart["x"] <= spans[0][0] and spans[-1][1] <= chart["x"] + chart["width"]
        for (_, right), (left, _) in itertools.pairwise(spans):
            assert right < left, spans  # no two labels overlap
        page.screenshot(path=str(screenshots(tmp_path) / "dashboard-390.png"), full_page=True)
