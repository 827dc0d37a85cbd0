"""A griffe extension: the library's reST-flavoured docstrings, rendered as Markdown.

The docstrings are written for ``help()`` and doctest: ``double backquotes``, Sphinx
roles (``:func:`build```), ``>>>`` examples and ``.. code-block::`` directives. Markdown
reads double backquotes as code already; this turns the rest into what mkdocstrings
renders: roles into optional cross-references (a link when the target is documented,
plain code otherwise: never a warning), examples and directives into fenced blocks
(doctest directives dropped). mkdocs.yml loads it by path.
"""

from __future__ import annotations

import re
import textwrap
from typing import TYPE_CHECKING, Any

import griffe

if TYPE_CHECKING:
    import ast

__all__ = ["RestDocstrings", "to_markdown"]

_ROLE = re.compile(r":(?:py:)?(?:func|class|meth|attr|mod|data|exc|obj|const):`(~?)([^`]+)`")
_DIRECTIVE = re.compile(r"^(\s*)\.\. code-block:: *(\w*)\s*$")
_DOCTEST_FLAGS = re.compile(r"\s*#\s*doctest:.*$")


def _role(match: re.Match[str], module: str) -> str:
    short, target = match[1] == "~", match[2].lstrip(".")
    title = target.rpartition(".")[2] if short else target
    identifier = target if target.startswith("sentiment_pipeline") else f"{module}.{target}"
    return f'<autoref identifier="{identifier}" optional><code>{title}</code></autoref>'


def _fence(lines: list[str], start: int, language: str) -> tuple[list[str], int]:
    """The block that starts at ``lines[start]`` and runs to a blank line, fenced."""
    end = start
    while end < len(lines) and lines[end].strip():
        end += 1
    body = [_DOCTEST_FLAGS.sub("", line) for line in lines[start:end]]
    return [f"```{language}", *body, "```"], end


def to_markdown(text: str, module: str) -> str:
    """``text`` (a cleaned docstring) as Markdown; roles resolve against ``module``.

    >>> to_markdown("Call :func:`~sentiment_pipeline.x.run`.", "sentiment_pipeline.y")
    'Call <autoref identifier="sentiment_pipeline.x.run" optional><code>run</code></autoref>.'
    >>> to_markdown(">" * 3 + " run()  # doctest: +SKIP", "sentiment_pipeline.y").split("\\n")
    ['```pycon', '>>> run()', '```']
    """
    lines = text.split("\n")
    out: list[str] = []
    index = 0
    fenced = False
    while index < len(lines):
        line = lines[index]
        if line.lstrip().startswith("```"):
            fenced = not fenced
        if fenced:
            out.append(line)
            index += 1
            continue
        directive = _DIRECTIVE.match(line)
        if directive:
            index += 1
            while index < len(lines) and not lines[index].strip():
                index += 1
            end = index
            while end < len(lines) and (not lines[end].strip() or lines[end].startswith(" ")):
                end += 1
            body = textwrap.dedent("\n".join(lines[index:end])).strip("\n").split("\n")
            out += [f"```{directive[2]}", *body, "```", ""]
            index = end
            continue
        if line.startswith(">>>"):
            block, index = _fence(lines, index, "pycon")
            out += block
            continue
        out.append(_ROLE.sub(lambda m: _role(m, module), line))
        index += 1
    return "\n".join(out)


class RestDocstrings(griffe.Extension):
    """Rewrites every docstring as it is loaded, before mkdocstrings parses it."""

    def on_instance(
        self,
        *,
        node: ast.AST | griffe.ObjectNode,
        obj: griffe.Object,
        agent: griffe.Visitor | griffe.Inspector,
        **kwargs: Any,
    ) -> None:
        if obj.docstring is not None:
            module = obj.module.path if not obj.is_module else obj.path
            obj.docstring.value = to_markdown(obj.docstring.value, module)
