"""The documentation site (docs/, built strictly by `nox -s docs`) covers the library.

The build itself fails on any warning (an unresolved reference, a docstring that does not
match its signature); these tests keep the pages from drifting from the code.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

import sentiment_pipeline

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"


def test_the_api_reference_renders_exactly_the_public_names() -> None:
    page = (DOCS / "reference" / "api.md").read_text()
    rendered = re.findall(r"^::: sentiment_pipeline\.(\w+)$", page, re.M)
    assert sorted(rendered) == sorted(sentiment_pipeline.__all__)


def test_the_module_map_names_every_package() -> None:
    page = (DOCS / "architecture.md").read_text()
    packages = sorted(
        path.parent.relative_to(ROOT / "sentiment_pipeline").as_posix()
        for path in (ROOT / "sentiment_pipeline").rglob("__init__.py")
        if path.parent != ROOT / "sentiment_pipeline" and "backends" not in path.parts
    )
    assert packages, "no packages found"
    missing = [p for p in packages if f"`{p}/`" not in page]
    assert missing == [], f"docs/architecture.md's module map lacks {missing}"
    assert "`backends/`" in page


def test_the_readme_links_to_the_documentation_and_runs_its_build() -> None:
    readme = (ROOT / "README.md").read_text()
    assert "docs/" in readme and "nox -s docs" in readme
    quickstart = readme.split("## Quickstart", 1)[1].split("\n## ", 1)[0]
    assert "nox -s lint typecheck docs tests" in quickstart


def test_the_docs_extension_turns_rest_into_markdown() -> None:
    sys.path.insert(0, str(DOCS))
    try:
        from rest_docstrings import to_markdown
    finally:
        sys.path.remove(str(DOCS))
    text = (
        "Raises :class:`~sentiment_pipeline.errors.ArtifactError`.\n\n"
        ".. code-block:: toml\n\n    [a]\n    b = 1\n\n"
        ">>> verify(path)  # doctest: +SKIP\nReport(...)\n\nAfter."
    )
    assert to_markdown(text, "sentiment_pipeline.packaging.verify.check").split("\n") == [
        'Raises <autoref identifier="sentiment_pipeline.errors.ArtifactError" optional>'
        "<code>ArtifactError</code></autoref>.",
        "",
        "```toml",
        "[a]",
        "b = 1",
        "```",
        "",
        "```pycon",
        ">>> verify(path)",
        "Report(...)",
        "```",
        "",
        "After.",
    ]
