"""Member names and symlink targets: normalised, and unsafe ones told apart with the reason."""

from __future__ import annotations

from sentiment_pipeline.packaging.verify.sources.base import check_link, check_name


def test_names_are_normalised() -> None:
    assert check_name("./a//b/./c.py") == ("a/b/c.py", None)
    assert check_name("a/../b")[1] is not None
    assert check_link("a/b/link", "../c") is None
    assert check_link("a/link", "../../c") is not None
    assert check_link("a/link", "/etc/passwd") == (
        "is a symlink to the absolute path '/etc/passwd', outside the artifact"
    )


def test_unsafe_names_say_why() -> None:
    assert check_name("/etc/passwd") == ("/etc/passwd", "is an absolute path")
    assert check_name("a\\b.py")[1] == (
        "contains a backslash (a Windows path); Lambda would create a file of that name"
    )
    assert check_name("a\x00b") == ("a\\0b", "contains a NUL byte")
    assert check_name("./")[0] == ""
